// Opening a feed bundle safely: the digest first, then bounded decompression and extraction, then
// per-file sha256. Shared by the use cases and the scanner inside the container.
import { StellaError } from '../core/errors.js';
import { sha256Digest } from '../core/canonical/jcs.js';
import { readFeedEntries, type FeedBundle } from '../core/feed/bundle.js';
import { unpackTar } from './tar.js';
import { zstdDecompress } from './zstd.js';

/** Caps for opening a bundle: far above the real OSV database slices we bundle, far below a zip bomb. */
export const FEED_MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024;
export const FEED_MAX_ENTRIES = 2_000_000;

/** Open bundle bytes: digest first, then bounded decompression and safe extraction, then per-file sha256. */
export async function openFeedBundle(
  bytes: Uint8Array,
  opts: { file?: string; expectedDigest?: string; maxBytes?: number } = {},
): Promise<FeedBundle> {
  const digest = sha256Digest(bytes);
  if (opts.expectedDigest !== undefined && opts.expectedDigest !== digest) {
    throw new StellaError('BUNDLE_DIGEST_MISMATCH', `feed bundle digest is ${digest}, expected ${opts.expectedDigest}; the bundle was altered or is the wrong file`, {
      file: opts.file,
    });
  }
  const maxBytes = opts.maxBytes ?? FEED_MAX_UNPACKED_BYTES;
  const tar = await zstdDecompress(bytes, maxBytes, opts.file);
  const entries = unpackTar(tar, { maxBytes, maxEntries: FEED_MAX_ENTRIES, file: opts.file });
  return readFeedEntries(entries, digest, opts.file);
}
