export * from './validate.js';
export * from './sign.js';
import { canonicalDigest } from '../canonical/jcs.js';
import type { Digest, ScanManifest } from '../formats.js';

/** manifest_sha256: SHA-256 of the manifest's canonical bytes. */
export function manifestSha256(m: ScanManifest): Digest {
  return canonicalDigest(m);
}
