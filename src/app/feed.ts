// Feed bundle use cases: snapshot a directory of OSV records into a .tar.zst, open one safely, and
// resolve a manifest's feed reference (digest or file) through the blob store.
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../core/errors.js';
import { type Digest } from '../core/formats.js';
import type { BlobStorePort } from '../core/ports.js';
import { sha256Digest } from '../core/canonical/jcs.js';
import { parseJsonBytes, decodeUtf8 } from '../core/json/parse.js';
import { parseOsvYaml } from './osv-yaml.js';
import { layoutFeed, type FeedBundle, type FeedBundleManifest, type FeedSource, type SourceDoc } from '../core/feed/bundle.js';
import { packTar } from '../adapters/tar.js';
import { zstdCompress } from '../adapters/zstd.js';
import { openFeedBundle } from '../adapters/feed-bundle.js';
import { readBytes, regularFilesUnder } from '../adapters/fs.js';

export type { FeedBundle, FeedBundleManifest, FeedSource } from '../core/feed/bundle.js';
export { diffFeedRecords } from '../core/feed/bundle.js';

export { FEED_MAX_ENTRIES, FEED_MAX_UNPACKED_BYTES, openFeedBundle } from '../adapters/feed-bundle.js';
import { FEED_MAX_UNPACKED_BYTES } from '../adapters/feed-bundle.js';
import { scannerVersion } from './version.js';
import { readBlobRef } from './blob-ref.js';
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
    generatedBy: opts.generatedBy ?? `stella ${scannerVersion()}`,
    sources: opts.sources,
  });
  const bytes = await zstdCompress(packTar(layout.files));
  return { bytes, digest: sha256Digest(bytes), manifest: layout.manifest, duplicates: layout.duplicates };
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
    const bytes = readBlobRef(ref, blobs, 'feed bundle');
    return openFeedBundle(bytes, { file: ref, expectedDigest: ref });
  }
  const file = path.resolve(opts.cwd ?? process.cwd(), ref);
  const bytes = readBytes(file, FEED_MAX_UNPACKED_BYTES);
  const bundle = await openFeedBundle(bytes, { file: ref });
  blobs.put(bytes);
  return bundle;
}
