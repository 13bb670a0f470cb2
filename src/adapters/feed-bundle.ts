// Opening a feed bundle safely: the digest first, then bounded, streaming decompression and extraction,
// then per-file sha256. Shared by the use cases and the scanner inside the container.
import { StellaError, isStellaError } from '../core/errors.js';
import { sha256Digest } from '../core/canonical/jcs.js';
import { FeedEntryChecker, type FeedBundle } from '../core/feed/bundle.js';
import { TarReader } from './tar.js';
import { zstdDecompressStream } from './zstd.js';

/** Caps for opening a bundle: far above the real OSV database slices we bundle, far below a zip bomb. */
export const FEED_MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024;
export const FEED_MAX_ENTRIES = 2_000_000;
/** Largest single file in a bundle: the biggest real OSV record is well under 1 MiB. */
export const FEED_MAX_ENTRY_BYTES = 16 * 1024 * 1024;
const TAMPER_CODES = new Set(['BUNDLE_UNSAFE', 'BUNDLE_DIGEST_MISMATCH']);

/** Open bundle bytes: digest first, then bounded decompression and safe extraction, then per-file sha256. */
export async function openFeedBundle(
  bytes: Uint8Array,
  opts: { file?: string; expectedDigest?: string; maxBytes?: number } = {},
): Promise<FeedBundle> {
  const digest = sha256Digest(bytes);
  if (opts.expectedDigest !== undefined && opts.expectedDigest !== digest) {
    throw new StellaError('BUNDLE_DIGEST_MISMATCH', `digest mismatch: feed bundle digest is ${digest}, expected ${opts.expectedDigest}; the bundle was altered or is the wrong file`, {
      file: opts.file,
    });
  }
  const maxBytes = opts.maxBytes ?? FEED_MAX_UNPACKED_BYTES;
  // Streaming all the way: zstd blocks → tar entries → checked, parsed records; no unpacked copy of the
  // bundle is ever held (memory: one zstd window, one entry, the records).
  const checker = new FeedEntryChecker(digest, opts.file);
  const tar = new TarReader({ maxBytes, maxEntries: FEED_MAX_ENTRIES, maxEntryBytes: FEED_MAX_ENTRY_BYTES, file: opts.file }, (e) => checker.add(e));
  try {
    zstdDecompressStream(bytes, maxBytes, (chunk) => tar.push(chunk), opts.file);
    tar.end();
    return checker.finish();
  } catch (e) {
    // Bytes that no longer decompress, untar or match their own manifest are a bundle that was altered:
    // say so in the words a user searches for, whichever layer noticed.
    if (isStellaError(e) && TAMPER_CODES.has(e.code) && !e.message.includes('digest mismatch')) {
      throw new StellaError(e.code, `${e.message} (digest mismatch: the bundle was altered or damaged; re-create it with \`stella feed snapshot\` or restore the original file)`, { file: e.file, path: e.path }, { cause: e });
    }
    throw e;
  }
}
