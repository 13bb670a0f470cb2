// Use cases for the scanner image: build (deterministic docker-archive → blob store → engine), load a
// stored archive back into an engine by image ID, and compute the ID a build would produce (what a scan
// records as scanner.scanner_image_digest).
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { StellaError } from '../core/errors.js';
import { DIGEST_RE, type Digest } from '../core/formats.js';
import type { OnEvent } from '../core/ports.js';
import { parseJsonBytes } from '../core/json/parse.js';
import { BlobStore } from '../adapters/blob-store.js';
import { writeFileAtomic } from '../adapters/fs.js';
import { buildImage, defaultSources, dockerArchive, sourceFingerprint, type ImageSources } from '../adapters/docker/image-archive.js';
import { hasImage, loadArchive, type Engine } from '../adapters/docker/engine.js';

export interface ImageRecord {
  image_id: Digest;
  archive_digest: Digest;
  layer_digest: Digest;
  tag: string;
  archive_bytes: number;
}

/** The repository root this code runs from (works from src/ under vitest and from dist/). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'stella-replay') return dir;
      } catch {
        /* not ours; keep walking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new StellaError('NOT_FOUND', 'cannot find the stella-replay package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Host path of the compiled scanner entry the image and the local executor run. */
export function scannerEntryPath(root = repoRoot()): string {
  return path.join(root, 'dist/src/scanner/entry.js');
}

function imagesDir(blobs: BlobStore): string {
  return path.join(blobs.home, 'images');
}

function recordFile(blobs: BlobStore, imageId: string): string {
  return path.join(imagesDir(blobs), `${imageId.slice('sha256:'.length)}.json`);
}

export function readImageRecord(blobs: BlobStore, imageId: string): ImageRecord | null {
  const file = recordFile(blobs, imageId);
  if (!existsSync(file)) return null;
  const v = parseJsonBytes(readFileSync(file), file) as Partial<ImageRecord>;
  if (typeof v.archive_digest !== 'string' || !DIGEST_RE.test(v.archive_digest) || v.image_id !== imageId) {
    throw new StellaError('RECORD_INVALID', 'image record must hold image_id and archive_digest (sha256:…)', { file, path: '$.archive_digest' });
  }
  return v as ImageRecord;
}

export function listImageRecords(blobs: BlobStore): ImageRecord[] {
  const dir = imagesDir(blobs);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
    .sort()
    .map((f) => readImageRecord(blobs, `sha256:${f.slice(0, 64)}`)!)
    .filter(Boolean);
}

export interface BuildOptions {
  blobs: BlobStore;
  /** Engine to `docker load` into; null keeps the archive in the store only. */
  engine: Engine | null;
  sources?: ImageSources;
  onEvent?: OnEvent;
}

export interface BuildResult extends ImageRecord {
  loaded: boolean;
}

export async function buildScannerImage(opts: BuildOptions): Promise<BuildResult> {
  const src = opts.sources ?? defaultSources(repoRoot());
  opts.onEvent?.({ kind: 'start', id: 'image', label: 'building scanner image' });
  const img = buildImage(src);
  const archive = dockerArchive(img);
  if (!opts.blobs.has(archive.digest)) {
    // Stream the ~100 MB archive to a temp file and let the store hash + rename it in.
    const tmpDir = path.join(opts.blobs.home, 'tmp');
    mkdirSync(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, `image-${process.pid}-${randomBytes(4).toString('hex')}.tar`);
    try {
      const fd = openSync(tmp, 'w', 0o644);
      try {
        for (const c of archive.chunks) {
          let off = 0;
          while (off < c.length) off += writeSync(fd, c, off, c.length - off);
        }
      } finally {
        closeSync(fd);
      }
      const stored = await opts.blobs.putFile(tmp);
      if (stored !== archive.digest) throw new StellaError('IO', `archive digest changed on disk (${stored} ≠ ${archive.digest})`, { file: tmp });
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  const record: ImageRecord = {
    image_id: img.imageId,
    archive_digest: archive.digest,
    layer_digest: img.layerDigest,
    tag: img.tag,
    archive_bytes: archive.size,
  };
  writeFileAtomic(recordFile(opts.blobs, img.imageId), JSON.stringify(record, null, 2) + '\n');
  writeCachedId(opts.blobs, sourceFingerprint(src), img.imageId);
  let loaded = false;
  if (opts.engine) {
    if (!(await hasImage(opts.engine, img.imageId))) {
      opts.onEvent?.({ kind: 'log', id: 'image', message: `docker load ${img.tag}` });
      await loadArchive(opts.engine, archive.chunks, img.imageId);
    }
    loaded = true;
  }
  opts.onEvent?.({ kind: 'finish', id: 'image', status: 'ok', label: img.imageId });
  return { ...record, loaded };
}

/**
 * The stored image these sources build: its record when the archive is already in the store (built
 * once, cached by the source fingerprint), else built now into the store (no engine needed).
 */
export async function storedScannerImage(opts: { blobs: BlobStore; sources: ImageSources; onEvent?: OnEvent }): Promise<ImageRecord> {
  const file = cacheFile(opts.blobs, sourceFingerprint(opts.sources));
  if (existsSync(file)) {
    const cached = readFileSync(file, 'utf8').trim();
    const record = DIGEST_RE.test(cached) ? readImageRecord(opts.blobs, cached) : null;
    if (record && opts.blobs.has(record.archive_digest)) return record;
  }
  const built = await buildScannerImage({ blobs: opts.blobs, engine: null, sources: opts.sources, ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) });
  return { image_id: built.image_id, archive_digest: built.archive_digest, layer_digest: built.layer_digest, tag: built.tag, archive_bytes: built.archive_bytes };
}

export function imageMissing(imageId: string): StellaError {
  return new StellaError(
    'IMAGE_MISSING',
    `scanner image ${imageId} is neither loaded in the engine nor stored in the blob store; rebuild it with \`stella image build\` from the dist that produced it, or copy its archive into STELLA_HOME and run \`stella image load ${imageId}\``,
  );
}

export interface LoadResult {
  image_id: Digest;
  /** True when the engine already had it (nothing was loaded). */
  already: boolean;
  record: ImageRecord | null;
}

/** Restore a stored image into the engine (`stella image load ID`). */
export async function loadScannerImage(imageId: string, opts: { blobs: BlobStore; engine: Engine }): Promise<LoadResult> {
  if (!DIGEST_RE.test(imageId)) {
    throw new StellaError('DIGEST_INVALID', `'${imageId}' is not an image ID (expected sha256: followed by 64 lowercase hex)`);
  }
  const id = imageId as Digest;
  // Ask the engine first: an unreachable engine is the problem to report, whatever the store holds.
  const present = await hasImage(opts.engine, id);
  const record = readImageRecord(opts.blobs, id);
  if (present) return { image_id: id, already: true, record };
  if (!record || !opts.blobs.has(record.archive_digest)) throw imageMissing(id);
  await loadArchive(opts.engine, [opts.blobs.get(record.archive_digest)], id);
  return { image_id: id, already: false, record };
}

/**
 * Make sure the engine has the image: already there, loaded from the store, or — when it is exactly
 * what the current dist builds (a scan made by this stella) — built now. IMAGE_MISSING otherwise.
 */
export async function ensureImage(imageId: string, opts: { blobs: BlobStore; engine: Engine }): Promise<'present' | 'loaded' | 'built'> {
  if (await hasImage(opts.engine, imageId)) return 'present';
  const record = DIGEST_RE.test(imageId) ? readImageRecord(opts.blobs, imageId) : null;
  if (!record && existsSync(scannerEntryPath()) && scannerImageId({ blobs: opts.blobs }) === imageId) {
    await buildScannerImage({ blobs: opts.blobs, engine: opts.engine });
    return 'built';
  }
  await loadScannerImage(imageId, opts);
  return 'loaded';
}

function cacheFile(blobs: BlobStore, key: Digest): string {
  return path.join(imagesDir(blobs), 'id-cache', key.slice('sha256:'.length));
}

function writeCachedId(blobs: BlobStore, key: Digest, imageId: Digest): void {
  writeFileAtomic(cacheFile(blobs, key), imageId + '\n');
}

/**
 * The image ID `stella image build` would produce from the current dist and runtime, without writing
 * an archive. Cached under $STELLA_HOME keyed by the source fingerprint.
 */
export function scannerImageId(opts: { blobs: BlobStore; sources?: ImageSources }): Digest {
  const src = opts.sources ?? defaultSources(repoRoot());
  const key = sourceFingerprint(src);
  const file = cacheFile(opts.blobs, key);
  if (existsSync(file)) {
    const cached = readFileSync(file, 'utf8').trim();
    if (DIGEST_RE.test(cached)) return cached as Digest;
  }
  const id = buildImage(src).imageId;
  writeCachedId(opts.blobs, key, id);
  return id;
}
