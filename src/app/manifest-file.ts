// Reading manifests from disk, with signature verification when a public key is configured.
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../core/errors.js';
import type { ScanManifest } from '../core/formats.js';
import { manifestFromValue, verifyCanonical } from '../core/manifest/index.js';
import { readRecordBytes } from '../adapters/fs.js';
import { parseJsonBytes } from '../core/json/parse.js';

/** A record's manifest.json, by the rule every record reader shares (readRecordBytes: no link, regular, one hard link). */
export function readManifestFile(file: string): ScanManifest {
  return manifestFromValue(parseJsonBytes(readRecordBytes(file), file), file);
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
  return readRecordManifest(file, opts).manifest;
}

/**
 * A record's manifest.json as readVerifiedManifest checks it, read once through readRecordBytes (no
 * link, regular, one hard link, size cap), with the exact bytes it was parsed from and its sibling
 * manifest.sig (read by the same rule) when there is one: a replay keeps both as they were.
 */
export function readRecordManifest(
  file: string,
  opts: { publicKeyPem?: string; publicKeyFile?: string; env?: NodeJS.ProcessEnv; signatureFile?: string } = {},
): { manifest: ScanManifest; bytes: Buffer; signature: Buffer | null } {
  const bytes = readRecordBytes(file);
  const value = parseJsonBytes(bytes, file);
  const sibling = signatureFileFor(file);
  const signature = isPresent(sibling) ? readRecordBytes(sibling) : null;
  const keyFile = opts.publicKeyFile ?? opts.env?.STELLA_MANIFEST_PUBKEY;
  const pem = opts.publicKeyPem ?? (keyFile ? readKey(keyFile) : undefined);
  if (pem !== undefined) {
    const sigFile = opts.signatureFile ?? signatureFileFor(file);
    if (!existsSync(sigFile)) {
      throw new StellaError('SIGNATURE_INVALID', `no signature at ${sigFile}, but a public key is configured; sign it with \`stella manifest sign\``, { file, path: '$' });
    }
    const sig = sigFile === sibling && signature ? signature.toString('utf8') : readFileSync(sigFile, 'utf8');
    if (!verifyCanonical(value, sig, pem, keyFile)) {
      throw new StellaError('SIGNATURE_INVALID', 'signature does not match: the manifest was modified after signing (or signed with another key)', { file, path: '$' });
    }
  }
  return { manifest: manifestFromValue(value, file), bytes, signature };
}

/** A dangling link is not "no file": existsSync follows it, lstat does not. */
export function isPresent(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

export function readKey(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new StellaError('NOT_FOUND', 'cannot read key file', { file });
  }
}
