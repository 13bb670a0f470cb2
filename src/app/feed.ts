// Feed bundle use cases: snapshot a directory of OSV records into a .tar.zst, open one safely, and
// resolve a manifest's feed reference (digest or file) through the blob store.
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { StellaError, isStellaError } from '../core/errors.js';
import { DIGEST_RE, type Digest } from '../core/formats.js';
import type { BlobStorePort } from '../core/ports.js';
import { sha256Digest } from '../core/canonical/jcs.js';
import { parseJsonBytes, decodeUtf8 } from '../core/json/parse.js';
import { parseOsvYaml } from '../core/feed/osv-yaml.js';
import { FeedEntryChecker, layoutFeed, type FeedBundle, type FeedBundleManifest, type FeedSource, type SourceDoc } from '../core/feed/bundle.js';
import { packTar, TarReader } from '../adapters/tar.js';
import { zstdCompress, zstdDecompressStream } from '../adapters/zstd.js';
import { readBytes, regularFilesUnder } from '../adapters/fs.js';

export type { FeedBundle, FeedBundleManifest, FeedSource } from '../core/feed/bundle.js';
export { diffFeedRecords } from '../core/feed/bundle.js';

export const STELLA_VERSION = '0.1.0';
/** Caps for opening a bundle: far above the real OSV database slices we bundle, far below a zip bomb. */
export const FEED_MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024;
export const FEED_MAX_ENTRIES = 2_000_000;
const TAMPER_CODES = new Set(['BUNDLE_UNSAFE', 'BUNDLE_DIGEST_MISMATCH']);
/** Largest single file in a bundle: the biggest real OSV record is well under 1 MiB. */
export const FEED_MAX_ENTRY_BYTES = 16 * 1024 * 1024;
const SOURCE_FILE_MAX_BYTES = 64 * 1024 * 1024;

/** The upstream snapshots the fixtures were taken from (fixtures/third_party/README.md §4). */
export const FIXTURE_SOURCES: FeedSource[] = [
  { name: 'ghsa', url: 'https://github.com/github/advisory-database', retrieval: { commit: '2db1feb64ec4db60cca787c479d42c924489bea4' } },
  { name: 'go', url: 'https://github.com/golang/vulndb', retrieval: { commit: 'a752ea54fd1b989d208a270aeef772f55a36b87a' } },
  { name: 'pypa', url: 'https://github.com/pypa/advisory-database', retrieval: { commit: '3ccb612573e2511ab5cad7dafecd838605c80cda' } },
];

/** Every .json/.yaml/.yml file under dir (not following links), relative paths sorted. */
function sourceFiles(dir: string): string[] {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new StellaError('NOT_FOUND', `'${dir}' is not a directory of OSV records`, { file: dir });
  return regularFilesUnder(dir).filter((r) => /\.(json|ya?ml)$/i.test(r));
}

export interface BuiltFeedBundle {
  bytes: Buffer;
  digest: Digest;
  manifest: FeedBundleManifest;
  duplicates: Array<{ id: string; kept: string; dropped: string }>;
}

export async function buildFeedBundle(
  srcDir: string,
  opts: { generatedAt?: string; sources?: FeedSource[]; generatedBy?: string } = {},
): Promise<BuiltFeedBundle> {
  const docs: SourceDoc[] = [];
  for (const rel of sourceFiles(srcDir)) {
    const abs = path.join(srcDir, rel);
    const bytes = readBytes(abs, SOURCE_FILE_MAX_BYTES);
    // Non-OSV files (schemas, selection notes) are skipped by content later; a file that does not parse
    // at all is still bad input and named.
    const doc = /\.json$/i.test(rel) ? parseJsonBytes(bytes, abs) : parseOsvYaml(decodeUtf8(bytes, abs), abs);
    docs.push({ file: rel, doc });
  }
  const layout = layoutFeed(docs, {
    generatedAt: opts.generatedAt,
    generatedBy: opts.generatedBy ?? `stella ${STELLA_VERSION}`,
    sources: opts.sources,
  });
  const bytes = await zstdCompress(packTar(layout.files));
  return { bytes, digest: sha256Digest(bytes), manifest: layout.manifest, duplicates: layout.duplicates };
}

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

function isDigestRef(ref: string): boolean {
  return ref.startsWith('sha256:');
}

/**
 * A feed reference is a digest in the blob store or a path to a .tar.zst (which is then stored, so a
 * manifest that names its digest can be replayed later).
 */
export async function resolveFeedRef(ref: string, blobs: BlobStorePort, opts: { cwd?: string } = {}): Promise<FeedBundle> {
  if (isDigestRef(ref)) {
    if (!DIGEST_RE.test(ref)) throw new StellaError('DIGEST_INVALID', `'${ref}' is not a digest (expected sha256: followed by 64 lowercase hex)`);
    let bytes: Buffer;
    try {
      bytes = blobs.get(ref);
    } catch (e) {
      if (isStellaError(e) && e.code === 'BLOB_MISSING') {
        throw new StellaError(
          'BLOB_MISSING',
          `feed bundle ${ref} is not in the blob store; restore it with \`stella feed snapshot DIR --out FILE\` from the same source tree, or \`stella blob put BUNDLE.tar.zst\``,
        );
      }
      throw e;
    }
    return openFeedBundle(bytes, { file: ref, expectedDigest: ref });
  }
  const file = path.resolve(opts.cwd ?? process.cwd(), ref);
  const bytes = readBytes(file, FEED_MAX_UNPACKED_BYTES);
  const bundle = await openFeedBundle(bytes, { file: ref });
  blobs.put(bytes);
  return bundle;
}
