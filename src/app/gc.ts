// `stella gc`: retention for the blob store (design note §7 "Retention & cost controls"). Records —
// manifests, outputs with their canonical hashes, replay.json — are never touched. Blobs no kept record
// references (evidence put by hand, feed bundles and policy bundles of deleted history, scanner image
// archives of images no record ran) are removed once they are older than N days.
//
// "Referenced" is decided conservatively, by text: every `sha256:<64 hex>` in the top-level JSON files
// of every record directory (a directory holding manifest.json or replay.json) under STELLA_HOME and
// the extra `--records` roots, and in every replay the index holds (its manifest, executor and diff
// summary, plus the files of its record_dir). A scanner image a record ran (scanner_image_digest) keeps
// its stored archive through `images/<id>.json`. A digest that merely looks referenced keeps its blob;
// nothing that is referenced can be removed. A blob's age is its file's mtime: when it was stored.
import { existsSync, lstatSync, openSync, readSync, closeSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { compareCodeUnits } from '../core/canonical/jcs.js';
import { StellaError } from '../core/errors.js';
import type { Digest } from '../core/formats.js';
import { BlobStore } from '../adapters/blob-store.js';
import { listImageRecords } from './image.js';
import { isPostgresUrl, openAnyStore } from '../../store/open.js';

const DIGEST_G = /sha256:[0-9a-f]{64}/g;
const DAY_MS = 86_400_000;

export type BlobKind = 'image archive' | 'tar.zst bundle' | 'tar' | 'json' | 'other';

export interface GcCandidate {
  digest: Digest;
  bytes: number;
  age_days: number;
  kind: BlobKind;
}

export interface GcPlan {
  older_than_days: number;
  now: string;
  /** Record directories read (walked or named by the index). */
  records: number;
  /** Replays read from the index (0 when there is no index). */
  indexed_replays: number;
  /** Distinct digests the kept records reference. */
  referenced: number;
  blobs: number;
  kept_referenced: number;
  kept_recent: number;
  /** What would be (or was) removed, sorted by digest. */
  remove: GcCandidate[];
  bytes: number;
}

export interface GcOptions {
  home: string;
  olderThanDays: number;
  now: Date;
  /** More roots to search for records (records kept outside STELLA_HOME). */
  recordRoots?: readonly string[];
  /** The index; its replays' records count as kept. A missing file is refused, never read as empty. */
  indexPath?: string;
}

/** Directories skipped while looking for records under STELLA_HOME (the store's own files). */
const STORE_DIRS = new Set(['blobs', 'tmp', 'images']);

function addDigests(text: string, into: Set<string>): void {
  for (const m of text.matchAll(DIGEST_G)) into.add(m[0]);
}

/** Read the top-level JSON files of a record directory into the referenced set. */
function readRecordDir(dir: string, into: Set<string>): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.json')) addDigests(readFileSync(path.join(dir, e.name), 'utf8'), into);
  }
}

function isRecordDir(dir: string): boolean {
  return existsSync(path.join(dir, 'manifest.json')) || existsSync(path.join(dir, 'replay.json'));
}

/** Every record directory under root (not following symlinks), sorted. */
function findRecordDirs(root: string, skipTop: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const walk = (dir: string, top: boolean) => {
    if (isRecordDir(dir)) out.push(dir);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || (top && skipTop.has(e.name))) continue;
      walk(path.join(dir, e.name), false);
    }
  };
  if (existsSync(root)) walk(root, true);
  return out.sort(compareCodeUnits);
}

function sniff(file: string): BlobKind {
  const buf = Buffer.alloc(512);
  const fd = openSync(file, 'r');
  let n = 0;
  try {
    n = readSync(fd, buf, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 4 && buf.readUInt32LE(0) === 0xfd2fb528) return 'tar.zst bundle';
  if (n >= 262 && buf.toString('latin1', 257, 262) === 'ustar') return 'tar';
  const first = buf.subarray(0, n).toString('utf8').trimStart()[0];
  if (first === '{' || first === '[') return 'json';
  return 'other';
}

export async function planGc(opts: GcOptions): Promise<GcPlan> {
  if (!Number.isInteger(opts.olderThanDays) || opts.olderThanDays < 1) throw new StellaError('USAGE', `--older-than must be at least 1d, got ${opts.olderThanDays}d`);
  const blobs = new BlobStore(opts.home);
  const referenced = new Set<string>();
  const dirs = new Set<string>(findRecordDirs(opts.home, STORE_DIRS));
  for (const root of opts.recordRoots ?? []) {
    const abs = path.resolve(root);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new StellaError('NOT_FOUND', `--records ${root} is not a directory`, { file: root });
    for (const d of findRecordDirs(abs, new Set())) dirs.add(d);
  }
  let indexed = 0;
  if (opts.indexPath && !isPostgresUrl(opts.indexPath) && !existsSync(opts.indexPath)) {
    // Without the index, blobs only its records reference (records kept outside STELLA_HOME) would
    // look unreferenced: removing is only safe on what the index says, so a missing one stops gc.
    throw new StellaError('NOT_FOUND', 'no index here: gc keeps every blob an indexed record references, so it needs the index; run `stella index DIR` first, or point --db (or STELLA_DB) at it', {
      file: opts.indexPath,
    });
  }
  if (opts.indexPath) {
    // The index names what it keeps through the port: either backend, no per-replay reads.
    const store = await openAnyStore(opts.indexPath, { readonly: true });
    try {
      indexed = (await store.countReplays({})).total;
      for (const d of await store.referencedDigests()) referenced.add(d);
      for (const d of await store.recordDirs()) {
        if (!existsSync(d)) continue;
        dirs.add(d);
        // A replay record sits inside (or beside) its original scan's record.
        const parent = path.dirname(d);
        if (isRecordDir(parent)) dirs.add(parent);
      }
    } finally {
      await store.close();
    }
  }
  for (const d of dirs) readRecordDir(d, referenced);
  // A referenced scanner image keeps its stored archive.
  const imageArchives = new Set<string>();
  for (const img of listImageRecords(blobs)) {
    imageArchives.add(img.archive_digest);
    if (referenced.has(img.image_id)) referenced.add(img.archive_digest);
  }

  const nowMs = opts.now.getTime();
  const cutoff = nowMs - opts.olderThanDays * DAY_MS;
  const all = blobs.list();
  const remove: GcCandidate[] = [];
  let keptReferenced = 0;
  let keptRecent = 0;
  for (const digest of all) {
    if (referenced.has(digest)) {
      keptReferenced++;
      continue;
    }
    const file = blobs.location(digest);
    const st = lstatSync(file);
    if (st.mtimeMs > cutoff) {
      keptRecent++;
      continue;
    }
    remove.push({ digest, bytes: st.size, age_days: Math.floor((nowMs - st.mtimeMs) / DAY_MS), kind: imageArchives.has(digest) ? 'image archive' : sniff(file) });
  }
  remove.sort((a, b) => compareCodeUnits(a.digest, b.digest));
  return {
    older_than_days: opts.olderThanDays,
    now: opts.now.toISOString(),
    records: dirs.size,
    indexed_replays: indexed,
    referenced: referenced.size,
    blobs: all.length,
    kept_referenced: keptReferenced,
    kept_recent: keptRecent,
    remove,
    bytes: remove.reduce((a, c) => a + c.bytes, 0),
  };
}

/**
 * Remove exactly the plan's blobs (and the image records whose archive goes with them). A blob touched
 * since the plan was made (re-stored: mtime now inside the window) is kept.
 */
export function applyGc(home: string, plan: GcPlan): { removed: GcCandidate[]; bytes: number; skipped: Digest[] } {
  const blobs = new BlobStore(home);
  const cutoff = Date.parse(plan.now) - plan.older_than_days * DAY_MS;
  const removed: GcCandidate[] = [];
  const skipped: Digest[] = [];
  const images = listImageRecords(blobs);
  for (const c of plan.remove) {
    const file = blobs.location(c.digest);
    let st;
    try {
      st = lstatSync(file);
    } catch {
      continue; // already gone
    }
    if (st.mtimeMs > cutoff) {
      skipped.push(c.digest);
      continue;
    }
    rmSync(file);
    removed.push(c);
    for (const img of images.filter((i) => i.archive_digest === c.digest)) {
      rmSync(path.join(home, 'images', `${img.image_id.slice('sha256:'.length)}.json`), { force: true });
    }
  }
  return { removed, bytes: removed.reduce((a, c) => a + c.bytes, 0), skipped };
}
