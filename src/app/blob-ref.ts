// A `sha256:…` reference read from the blob store, with the one message that says how to restore it.
import { StellaError, isStellaError } from '../core/errors.js';
import { DIGEST_RE } from '../core/formats.js';
import type { BlobStorePort } from '../core/ports.js';

export function readBlobRef(ref: string, blobs: BlobStorePort, missing: string): Buffer {
  if (!DIGEST_RE.test(ref)) throw new StellaError('DIGEST_INVALID', `'${ref}' is not a digest (expected sha256: followed by 64 lowercase hex)`);
  try {
    return blobs.get(ref);
  } catch (e) {
    if (isStellaError(e) && e.code === 'BLOB_MISSING') throw new StellaError('BLOB_MISSING', `${missing} ${ref} is not in the blob store; restore it with ${restoreHint(missing)}`);
    throw e;
  }
}

function restoreHint(what: string): string {
  return what.startsWith('feed')
    ? '`stella feed snapshot DIR --out FILE` from the same source tree, or `stella blob put BUNDLE.tar.zst`'
    : '`stella policy bundle POLICY.yaml --out FILE` from the same policy file';
}
