// Reading manifests from disk, with signature verification when a public key is configured.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../core/errors.js';
import type { ScanManifest } from '../core/formats.js';
import { manifestFromValue, verifyCanonical } from '../core/manifest/index.js';
import { readJsonFile } from '../adapters/fs.js';

export function readManifestFile(file: string): ScanManifest {
  return manifestFromValue(readJsonFile(file), file);
}

export function signatureFileFor(manifestFile: string): string {
  return path.join(path.dirname(manifestFile), 'manifest.sig');
}

/**
 * Read a manifest and, when a public key is configured (argument or STELLA_MANIFEST_PUBKEY = path to
 * a PEM file), require its sibling manifest.sig to verify. A tampered manifest is refused.
 */
export function readVerifiedManifest(
  file: string,
  opts: { publicKeyPem?: string; publicKeyFile?: string; env?: NodeJS.ProcessEnv; signatureFile?: string } = {},
): ScanManifest {
  const value = readJsonFile(file);
  const keyFile = opts.publicKeyFile ?? opts.env?.STELLA_MANIFEST_PUBKEY;
  const pem = opts.publicKeyPem ?? (keyFile ? readKey(keyFile) : undefined);
  if (pem !== undefined) {
    const sigFile = opts.signatureFile ?? signatureFileFor(file);
    if (!existsSync(sigFile)) {
      throw new StellaError('SIGNATURE_INVALID', `no signature at ${sigFile}, but a public key is configured; sign it with \`stella manifest sign\``, { file, path: '$' });
    }
    const sig = readFileSync(sigFile, 'utf8');
    if (!verifyCanonical(value, sig, pem, keyFile)) {
      throw new StellaError('SIGNATURE_INVALID', 'signature does not match: the manifest was modified after signing (or signed with another key)', { file, path: '$' });
    }
  }
  return manifestFromValue(value, file);
}

export function readKey(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new StellaError('NOT_FOUND', 'cannot read key file', { file });
  }
}
