// Policy bundle use cases: read a policy file (JSON or YAML), compile it, store the canonical bytes,
// and resolve a manifest's policy reference (digest or file) back into a CompiledPolicy.
import path from 'node:path';
import { parseDocument } from 'yaml';
import { StellaError } from '../core/errors.js';
import { type Digest } from '../core/formats.js';
import type { BlobStorePort } from '../core/ports.js';
import { decodeUtf8, parseJsonBytes } from '../core/json/parse.js';
import { compilePolicy, policyBytes, policyDigest, type CompiledPolicy } from '../core/policy/policy.js';
import { readBytes } from '../adapters/fs.js';
import { yamlSyntaxError, yamlToJs } from './osv-yaml.js';
import { readBlobRef } from './blob-ref.js';

export * from '../core/policy/policy.js';

const POLICY_MAX_BYTES = 16 * 1024 * 1024;

export interface PolicyBundle {
  digest: Digest;
  policy: CompiledPolicy;
  /** Canonical JSON bytes: what the blob store holds under `digest`. */
  bytes: Buffer;
}

/** Parse policy text: JSON when the file says so (or looks like it), else YAML with the 1.2 core schema. */
export function parsePolicyText(bytes: Uint8Array, file: string): unknown {
  const text = decodeUtf8(bytes, file);
  if (/\.json$/i.test(file) || /^\s*\{/.test(text)) return parseJsonBytes(bytes, file);
  // The 1.2 core schema keeps `until: 2026-12-31` a string (1.1 would make it a Date).
  const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: false });
  const err = doc.errors[0];
  if (err) throw yamlSyntaxError(text, err, file);
  return yamlToJs(doc, file);
}

export function bundlePolicy(doc: unknown, file?: string): PolicyBundle {
  const policy = compilePolicy(doc, file);
  return { digest: policyDigest(policy), policy, bytes: policyBytes(policy) };
}

export function readPolicyFile(file: string): PolicyBundle {
  return bundlePolicy(parsePolicyText(readBytes(file, POLICY_MAX_BYTES), file), file);
}

/** A policy reference is a digest in the blob store or a path to a policy file (then it is stored). */
export function resolvePolicyRef(ref: string, blobs: BlobStorePort, opts: { cwd?: string } = {}): PolicyBundle {
  if (ref.startsWith('sha256:')) {
    const bytes = readBlobRef(ref, blobs, 'policy bundle');
    const bundle = bundlePolicy(parseJsonBytes(bytes, ref), ref);
    // A stored bundle must already be compiled: recompiling it must give the very same bytes.
    if (bundle.digest !== ref) {
      throw new StellaError('BUNDLE_DIGEST_MISMATCH', `blob ${ref} is not a compiled policy bundle (recompiles to ${bundle.digest})`, { file: ref });
    }
    return bundle;
  }
  const file = path.resolve(opts.cwd ?? process.cwd(), ref);
  const bundle = bundlePolicy(parsePolicyText(readBytes(file, POLICY_MAX_BYTES), ref), ref);
  blobs.put(bundle.bytes);
  return bundle;
}
