import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { generateKeyPair, manifestSha256, signCanonical, validateManifest, verifyCanonical, manifestFromValue } from '../core/manifest/index.js';
import { readRecordBytes, writeFileAtomic } from '../adapters/fs.js';
import { parseJsonBytes } from '../core/json/parse.js';
import { readKey, signatureFileFor } from '../app/manifest-file.js';

const VERBS = ['validate', 'hash', 'sign', 'verify', 'keygen'] as const;

const command: Command = {
  name: 'manifest',
  summary: 'validate, hash, sign or verify a ScanManifest',
  usage: 'manifest validate|hash|sign|verify FILE [--key PRIV.pem] [--pub PUB.pem] [--sig SIG] | keygen --out-dir DIR',
  options: {
    key: { type: 'string' },
    pub: { type: 'string' },
    sig: { type: 'string' },
    out: { type: 'string' },
    'out-dir': { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    key: 'ed25519 private key (PEM) for sign',
    pub: 'ed25519 public key (PEM) for verify',
    sig: 'signature file (default: manifest.sig beside the manifest)',
    out: 'where sign writes the signature (default: manifest.sig beside the manifest)',
    'out-dir': 'keygen: directory for stella-signing.key / stella-signing.pub',
    json: 'machine-readable output',
  },
  async run({ values, positionals }, ctx) {
    const [verb, file] = positionals;
    if (!VERBS.includes(verb as (typeof VERBS)[number])) {
      throw new StellaError('USAGE', `expected one of ${VERBS.join('|')} (see stella manifest --help)`);
    }
    if (verb === 'keygen') {
      const dir = values['out-dir'] as string | undefined;
      if (!dir) throw new StellaError('USAGE', 'keygen needs --out-dir DIR');
      const { privateKeyPem, publicKeyPem } = generateKeyPair();
      writeFileAtomic(path.join(dir, 'stella-signing.pub'), publicKeyPem);
      writeFileAtomic(path.join(dir, 'stella-signing.key'), privateKeyPem);
      ctx.stdout.write(`${path.join(dir, 'stella-signing.key')}\n${path.join(dir, 'stella-signing.pub')}\n`);
      return EXIT.OK;
    }
    if (!file) throw new StellaError('USAGE', `manifest ${verb} needs a FILE`);
    // A manifest is a record's file: read by the rule every record reader shares (no link, regular, one hard link).
    const value = parseJsonBytes(readRecordBytes(file), file);

    if (verb === 'validate') {
      const r = validateManifest(value);
      const errors = r.ok ? [] : r.errors;
      if (values.json) ctx.stdout.write(JSON.stringify({ file, ok: r.ok, errors }) + '\n');
      else if (r.ok) ctx.stdout.write(`${file}: valid ScanManifest ${r.manifest.manifest_version}\n`);
      for (const e of errors) ctx.stderr.write(`${file}: ${e.path}: ${e.message}\n`);
      return r.ok ? EXIT.OK : EXIT.ERROR;
    }
    const manifest = manifestFromValue(value, file);
    if (verb === 'hash') {
      ctx.stdout.write(`${manifestSha256(manifest)}  ${file}\n`);
      return EXIT.OK;
    }
    if (verb === 'sign') {
      const keyFile = values.key as string | undefined;
      if (!keyFile) throw new StellaError('USAGE', 'sign needs --key PRIVATE.pem');
      const sig = signCanonical(value, readKey(keyFile), keyFile);
      const out = (values.out as string | undefined) ?? signatureFileFor(file);
      writeFileAtomic(out, sig + '\n');
      ctx.stdout.write(`${out}\n`);
      return EXIT.OK;
    }
    // verify
    const pubFile = values.pub as string | undefined;
    if (!pubFile) throw new StellaError('USAGE', 'verify needs --pub PUBLIC.pem');
    const sigFile = (values.sig as string | undefined) ?? signatureFileFor(file);
    let sig: string;
    try {
      sig = readFileSync(sigFile, 'utf8');
    } catch {
      throw new StellaError('SIGNATURE_INVALID', 'no signature file', { file: sigFile });
    }
    if (!verifyCanonical(value, sig, readKey(pubFile), pubFile)) {
      throw new StellaError('SIGNATURE_INVALID', 'signature does not match: the manifest was modified after signing (or signed with another key)', { file, path: '$' });
    }
    ctx.stdout.write(`${file}: signature ok (${manifestSha256(manifest)})\n`);
    return EXIT.OK;
  },
};
export default command;
