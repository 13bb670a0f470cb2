// `stella index`: walk directories for scan and replay records and ingest them in batches. A bad
// record is reported (file + JSON path) and skipped; the rest still lands. Batches are committed
// one transaction each, so a killed indexer leaves whole batches and a re-run completes the index.
// Into the SQLite store, records are read, validated and turned into rows on worker threads
// (src/app/index-worker.ts) while this thread writes the batches before them; the store builds its
// indexes after the load when it starts empty.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { isStellaError, StellaError } from '../core/errors.js';
import type { IngestOutcome, OnEvent, ReplayIn, ReplayStore, ScanIn } from '../core/ports.js';
import { readReplayRecord, readScanRecord, recordKind } from '../../store/ingest.js';
import { type BulkLoad, type PackedReplays, type PreparedReplay, freshDeltas, packReplays, prepareReplay, unpackReplays } from '../../store/sqlite/ingest.js';
import { type Deltas, packDeltas, unpackDeltas } from '../../store/sqlite/rollup.js';
import type { Packed } from '../../store/sqlite/rows.js';

export interface IndexSummary {
  records: number;
  scans: Record<IngestOutcome, number>;
  replays: Record<IngestOutcome, number>;
  skipped: Array<{ file: string; path: string | null; reason: string }>;
}

// Bigger transactions write each touched index page once per batch instead of once per 1,000 rows.
export const INDEX_BATCH = 5000;
/** Batches read ahead of the one being written: the readers keep busy while the writer commits. */
const LOOKAHEAD = 2;
/** Records per request to a reading thread: a batch is spread over the threads, each taking the next
 * request when it is done with one (a slow or descheduled thread holds up no batch for long). */
const CHUNK = 1000;
/** Below this many records the threads' start-up costs more than they save. */
const MIN_PARALLEL = 500;

type Found = { dir: string; kind: 'scan' | 'replay' };

/**
 * Record dirs under each root, in code-unit order (a record dir's own subdirs are not searched).
 * `onFound` sees the list each time it grows, so reading can start before the walk ends.
 */
export function findRecords(roots: string[], onFound?: (found: readonly Found[]) => void): Found[] {
  const out: Found[] = [];
  const walk = (dir: string) => {
    const kind = recordKind(dir);
    if (kind) {
      out.push({ dir, kind });
      onFound?.(out);
      return;
    }
    let entries;
    try {
      // Dirent types avoid a stat per entry; symlinks are not followed (a record tree has none).
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const names = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    for (const name of names.sort()) walk(path.join(dir, name));
  };
  for (const root of roots) {
    let st;
    try {
      st = statSync(root);
    } catch {
      throw new StellaError('NOT_FOUND', 'no such directory', { file: root });
    }
    if (!st.isDirectory()) throw new StellaError('USAGE', 'not a directory', { file: root });
    walk(root);
  }
  return out;
}

/** One record, read: a scan, a replay (as the store port takes it, or as SQLite rows it), or why it was skipped. */
export type ReadResult =
  | { kind: 'scan'; scan: ScanIn }
  | { kind: 'replay'; replay: ReplayIn }
  | { kind: 'prepared'; replay: PreparedReplay }
  | { kind: 'skipped'; skipped: IndexSummary['skipped'][number]; line: string };

/** Read and validate records; `prepare`: replays as SQLite rows (the bulk load's input). Never throws for one record. */
export function readRecords(records: readonly Found[], prepare: boolean): ReadResult[] {
  return records.map((r): ReadResult => {
    try {
      if (r.kind === 'scan') return { kind: 'scan', scan: readScanRecord(r.dir) };
      const replay = readReplayRecord(r.dir);
      return prepare ? { kind: 'prepared', replay: prepareReplay(replay) } : { kind: 'replay', replay };
    } catch (e) {
      // Any failure reading one record skips that record; the index never aborts for one bad file.
      const err = isStellaError(e) ? e : new StellaError('RECORD_INVALID', `unreadable record: ${(e as Error)?.message ?? String(e)}`, { file: r.dir });
      return { kind: 'skipped', skipped: { file: err.file ?? r.dir, path: err.path ?? null, reason: err.message }, line: err.oneLine() };
    }
  });
}

/** One batch read for the bulk load: its records, and the rollup deltas of its replays as new rows (freshDeltas). */
export type ReadBatch = { results: ReadResult[]; inserted: Deltas | null };

/** readRecords of one batch for the bulk load, with what its replays add to the rollups. */
export function readBatch(records: readonly Found[]): ReadBatch {
  const results = readRecords(records, true);
  return { results, inserted: freshDeltas(results.flatMap((r) => (r.kind === 'prepared' ? [r.replay] : []))) };
}

/** Where records go: any store's ingest; a store that loads many batches at once (SQLite) offers bulkLoad. */
export type IndexTarget = Pick<ReplayStore, 'ingest'> & { bulkLoad?: (opts: { deferIndexes: boolean }) => BulkLoad };

export async function indexRecords(store: IndexTarget, roots: string[], onEvent?: OnEvent): Promise<IndexSummary> {
  const bulkable = store.bulkLoad !== undefined;
  // Started by the walk's callback (or after it): typed wide, so the narrowing of `= null` does not stick.
  let readers = null as ReaderPool | null;
  // Started once at most (without the compiled worker there is none to start: read on this thread).
  let tried = false;
  // Batches handed to the readers, in order (records [0, handed) of the walk so far).
  // A reader's batch stays packed until its turn (fromWire).
  const ahead: Array<Promise<WireBatch[] | ReadBatch>> = [];
  let handed = 0;
  const hand = (records: readonly Found[], end: number) => {
    const slice = records.slice(handed, end);
    const next = readers ? readers.read(slice) : new Promise<ReadBatch>((resolve) => resolve(readInThread(slice)));
    // Awaited in turn below; a reader failing meanwhile must not be an unhandled rejection.
    next.catch(() => undefined);
    ahead.push(next);
    handed = end;
  };
  const readInThread = (slice: Found[]): ReadBatch => (bulk ? readBatch(slice) : { results: readRecords(slice, false), inserted: null });
  let bulk: BulkLoad | null = null;
  let records: Found[];
  try {
    // The walk hands each full batch to the reading threads as it is found, a few ahead.
    records = findRecords(roots, (found) => {
      if (!bulkable || found.length - handed < INDEX_BATCH || ahead.length > LOOKAHEAD) return;
      if (!tried) readers = readerPool(Math.min(availableParallelism(), 4));
      tried = true;
      if (readers) hand(found, found.length);
    });
  } catch (e) {
    readers?.close();
    throw e;
  }
  const summary: IndexSummary = {
    records: records.length,
    scans: { inserted: 0, updated: 0, unchanged: 0 },
    replays: { inserted: 0, updated: 0, unchanged: 0 },
    skipped: [],
  };
  onEvent?.({ kind: 'start', id: 'index', total: records.length, label: 'indexing records' });
  try {
    // More than one batch into an empty SQLite index: its indexes are built once, after the load.
    bulk = store.bulkLoad?.({ deferIndexes: records.length > INDEX_BATCH }) ?? null;
    if (bulk && !tried && records.length >= MIN_PARALLEL) readers = readerPool(Math.min(availableParallelism(), 4));
    const lookahead = readers ? LOOKAHEAD : 0;
    for (let i = 0; i < records.length; i += INDEX_BATCH) {
      while (ahead.length <= lookahead && handed < records.length) hand(records, Math.min(handed + INDEX_BATCH, records.length));
      const got = await ahead.shift()!;
      const { results, inserted } = 'results' in got ? got : joined(got.map(fromWire));
      const scans: ScanIn[] = [];
      const replays: ReplayIn[] = [];
      const prepared: PreparedReplay[] = [];
      for (const r of results) {
        if (r.kind === 'scan') scans.push(r.scan);
        else if (r.kind === 'replay') replays.push(r.replay);
        else if (r.kind === 'prepared') prepared.push(r.replay);
        else {
          summary.skipped.push(r.skipped);
          onEvent?.({ kind: 'log', id: 'index', message: r.line });
        }
      }
      const res = bulk
        ? await bulk.ingest({ scans, replays: prepared, ...(inserted ? { inserted } : {}) })
        : await store.ingest({ scans, replays });
      for (const o of res.scans) summary.scans[o]++;
      for (const o of res.replays) summary.replays[o]++;
      onEvent?.({ kind: 'progress', id: 'index', done: Math.min(i + INDEX_BATCH, records.length), total: records.length });
    }
  } finally {
    readers?.close();
    await bulk?.finish();
  }
  onEvent?.({ kind: 'finish', id: 'index', status: summary.skipped.length ? 'error' : 'ok' });
  return summary;
}

/** A request to a reading thread and its answer (src/app/index-worker.ts). */
export type ReadRequest = { id: number; records: Found[] };
export type ReadAnswer = { id: number; ok: true; batch: WireBatch } | { id: number; ok: false; message: string };

/**
 * A ReadBatch as a reader sends it: the prepared replays and the deltas packed (packReplays,
 * packDeltas), the other results with their places. The writer decodes it just before it writes the batch, so
 * the rows die young instead of being copied by each scavenge while they wait.
 */
export type WireBatch =
  | { packed: PackedReplays; others: Array<{ at: number; result: ReadResult }>; inserted: Packed | null }
  | { bytes: Uint8Array };

export function toWire(batch: ReadBatch): { wire: WireBatch; transfer: ArrayBuffer[] } {
  const others: Array<{ at: number; result: ReadResult }> = [];
  const prepared: PreparedReplay[] = [];
  batch.results.forEach((r, at) => (r.kind === 'prepared' ? prepared.push(r.replay) : others.push({ at, result: r })));
  const packed = packReplays(prepared);
  const own = (b: Uint8Array): ArrayBuffer[] => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? [b.buffer as ArrayBuffer] : []);
  if (packed === null) {
    const bytes = serialize(batch);
    return { wire: { bytes }, transfer: own(bytes) };
  }
  const inserted = batch.inserted ? packDeltas(batch.inserted) : null;
  const arrays = inserted ? [packed, inserted] : [packed];
  return { wire: { packed, others, inserted }, transfer: arrays.flatMap((a) => [a.lens.buffer as ArrayBuffer, a.nums.buffer as ArrayBuffer]) };
}

export function fromWire(w: WireBatch): ReadBatch {
  if ('bytes' in w) return deserialize(w.bytes) as ReadBatch;
  const rows = unpackReplays(w.packed);
  const results: ReadResult[] = [];
  let o = 0;
  let p = 0;
  for (let at = 0; at < rows.length + w.others.length; at++) {
    if (o < w.others.length && w.others[o]!.at === at) results.push(w.others[o++]!.result);
    else results.push({ kind: 'prepared', replay: rows[p++]! });
  }
  return { results, inserted: w.inserted ? unpackDeltas(w.inserted) : null };
}

interface ReaderPool {
  /** One batch, read in chunks by whichever threads are free. */
  read(records: Found[]): Promise<WireBatch[]>;
  close(): void;
}

/** The chunks of one batch as one: results in order, the deltas summed. */
function joined(parts: ReadBatch[]): ReadBatch {
  const inserted = parts[0]?.inserted ?? null;
  for (const p of parts.slice(1)) {
    if (inserted && p.inserted) {
      inserted.rollup.merge(p.inserted.rollup);
      inserted.counts.merge(p.inserted.counts);
    }
  }
  return { results: parts.flatMap((p) => p.results), inserted };
}

/**
 * Reading threads, each taking the next request as it finishes one. Without the compiled worker
 * (running from sources) the records are read on this thread, as they are for a small index.
 */
function readerPool(size: number): ReaderPool | null {
  // Beside this module (tsc's dist/src/app), or from the bundle's chunk directory (dist/chunks).
  const file = ['./index-worker.js', '../src/app/index-worker.js'].map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find((f) => existsSync(f));
  if (file === undefined || size < 1) return null;
  type Request = { id: number; records: Found[]; resolve: (r: WireBatch) => void; reject: (e: Error) => void };
  const queue: Request[] = [];
  const waiting = new Map<number, Request>();
  const busy = new Map<Worker, number>();
  let failed: Error | null = null;
  const fail = (e: Error) => {
    failed ??= e;
    for (const w of [...waiting.values(), ...queue.splice(0)]) w.reject(e);
    waiting.clear();
  };
  // Each thread holds at most two requests (one it reads, one ready when it is done); the rest wait here.
  const pump = () => {
    while (queue.length > 0) {
      const w = workers.reduce((a, b) => (busy.get(b)! < busy.get(a)! ? b : a));
      if (busy.get(w)! >= 2) return;
      const r = queue.shift()!;
      busy.set(w, busy.get(w)! + 1);
      waiting.set(r.id, r);
      w.postMessage({ id: r.id, records: r.records } satisfies ReadRequest);
    }
  };
  const workers = Array.from({ length: size }, () => {
    // A larger young generation: each record's parse leaves short-lived garbage, scavenged less often.
    const w = new Worker(file, { resourceLimits: { maxYoungGenerationSizeMb: 64 } });
    busy.set(w, 0);
    w.on('message', (m: ReadAnswer) => {
      const p = waiting.get(m.id);
      waiting.delete(m.id);
      busy.set(w, busy.get(w)! - 1);
      pump();
      if (!p) return;
      if (m.ok) p.resolve(m.batch);
      else p.reject(new Error(`index reader failed: ${m.message}`));
    });
    w.on('error', (e) => fail(e));
    w.on('exit', (code) => {
      if (code !== 0) fail(new Error(`index reader exited with code ${code}`));
    });
    return w;
  });
  let seq = 0;
  const readChunk = (records: Found[]) =>
    new Promise<WireBatch>((resolve, reject) => {
      if (failed) return reject(failed);
      queue.push({ id: ++seq, records, resolve, reject });
      pump();
    });
  return {
    read(records) {
      const chunks: Array<Promise<WireBatch>> = [];
      for (let k = 0; k < records.length; k += CHUNK) chunks.push(readChunk(records.slice(k, k + CHUNK)));
      return Promise.all(chunks);
    },
    close() {
      for (const w of workers) {
        w.removeAllListeners('exit');
        void w.terminate();
      }
    },
  };
}

/** Index records this stella just wrote (demo, canary): any record the index refuses is a bug, so it throws. */
export async function indexOwnRecords(dbPath: string, roots: string[], what: string): Promise<void> {
  const { withStore } = await import('./store-path.js');
  mkdirSync(path.dirname(dbPath), { recursive: true });
  const summary = await withStore(dbPath, {}, (store) => indexRecords(store, roots));
  if (summary.skipped.length) {
    const s = summary.skipped[0];
    throw new StellaError('RECORD_INVALID', `the index refused a ${what} record: ${s.reason}`, { file: s.file, ...(s.path ? { path: s.path } : {}) });
  }
}
