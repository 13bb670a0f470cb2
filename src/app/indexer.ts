// `stella index`: walk directories for scan and replay records and ingest them in batches. A bad
// record is reported (file + JSON path) and skipped; the rest still lands. Batches are committed
// one transaction each, so a killed indexer leaves whole batches and a re-run completes the index.
// Into the SQLite store, each batch is read, validated and written by one of a few worker threads
// (src/app/index-worker.ts), each through its own connection and in the order of the walk (the
// threads take turns at the write lock); the store builds its indexes after the load when it
// starts empty. A small index, and any other store, is read and written on this thread.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isStellaError, StellaError } from '../core/errors.js';
import { compareCodeUnits } from '../core/canonical/jcs.js';
import type { IngestOutcome, OnEvent, ReplayIn, ReplayStore, ScanIn } from '../core/ports.js';
import { readReplayRecord, readScanRecord, recordKind } from '../../store/ingest.js';
import { type BulkLoad, type BulkTarget, type PreparedBatch, type PreparedReplay, freshDeltas, prepareReplay } from '../../store/sqlite/ingest.js';

export interface IndexSummary {
  records: number;
  scans: Record<IngestOutcome, number>;
  replays: Record<IngestOutcome, number>;
  skipped: Skipped[];
}
type Skipped = { file: string; path: string | null; reason: string };

// Bigger transactions write each touched index page once per batch instead of once per 1,000 rows.
export const INDEX_BATCH = 5000;
/** Batches handed to each writing thread: one it works on, one waiting, so no thread waits for the walk. */
const PER_THREAD = 2;
/** Below this many records the threads' start-up costs more than they save. */
const MIN_PARALLEL = 500;

type Found = { dir: string; kind: 'scan' | 'replay' };

/**
 * Record dirs under each root, in code-unit order (a record dir's own subdirs are not searched).
 * `onFound` sees the list each time it grows, so reading can start before the walk ends.
 */
export function findRecords(roots: string[], onFound?: (found: readonly Found[]) => void, onLink?: (link: string) => void): Found[] {
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
    // A link to a directory is not followed; the caller is told, so nothing is left out unsaid.
    if (onLink) for (const e of entries) if (e.isSymbolicLink() && !e.name.startsWith('.') && isDirectory(path.join(dir, e.name))) onLink(path.join(dir, e.name));
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

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** One record, read: a scan, a replay (as the store port takes it, or as SQLite rows it), or why it was skipped. */
export type ReadResult =
  | { kind: 'scan'; scan: ScanIn }
  | { kind: 'replay'; replay: ReplayIn }
  | { kind: 'prepared'; replay: PreparedReplay }
  | { kind: 'skipped'; skipped: Skipped; line: string };

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

type Outcomes = { scans: IngestOutcome[]; replays: IngestOutcome[] };
/** What writing one batch did: the outcomes (as the store's ingest answers them) and the records skipped. */
export type BatchDone = Outcomes & { skipped: Array<{ skipped: Skipped; line: string }> };

/**
 * One batch read for the store: scans and replays, and what was skipped. `bulk`: replays as rows,
 * with their rollup deltas as new rows (computed beside the reading: on a writing thread, while
 * another thread writes).
 */
export function readBatch(records: readonly Found[], bulk: true): { batch: PreparedBatch; skipped: BatchDone['skipped'] };
export function readBatch(records: readonly Found[], bulk: false): { batch: { scans: ScanIn[]; replays: ReplayIn[] }; skipped: BatchDone['skipped'] };
export function readBatch(records: readonly Found[], bulk: boolean): { batch: PreparedBatch | { scans: ScanIn[]; replays: ReplayIn[] }; skipped: BatchDone['skipped'] } {
  const scans: ScanIn[] = [];
  const replays: ReplayIn[] = [];
  const prepared: PreparedReplay[] = [];
  const skipped: BatchDone['skipped'] = [];
  for (const r of readRecords(records, bulk)) {
    if (r.kind === 'scan') scans.push(r.scan);
    else if (r.kind === 'replay') replays.push(r.replay);
    else if (r.kind === 'prepared') prepared.push(r.replay);
    else skipped.push({ skipped: r.skipped, line: r.line });
  }
  return { batch: bulk ? { scans, replays: prepared, inserted: freshDeltas(prepared) } : { scans, replays }, skipped };
}

/** Where records go: any store's ingest; a store that loads many batches at once (SQLite) offers bulkLoad. */
export type IndexTarget = Pick<ReplayStore, 'ingest'> & { bulkLoad?: (opts: { deferIndexes: boolean }) => BulkLoad };

export async function indexRecords(store: IndexTarget, roots: string[], onEvent?: OnEvent): Promise<IndexSummary> {
  // Assigned by start(), a closure: typed wide, so the narrowing of `= null` does not stick.
  let bulk = null as BulkLoad | null;
  let writers = null as WriterPool | null;
  // Started once at most (without the compiled worker there is none to start: write on this thread).
  let tried = false;
  const start = (deferIndexes: boolean) => {
    if (tried || !store.bulkLoad) return;
    tried = true;
    bulk = store.bulkLoad({ deferIndexes });
    writers = writerPool(Math.min(availableParallelism(), 4), bulk);
  };
  // Batches handed out, in order (records [0, handed) of the walk so far), each done once committed.
  const ahead: Array<Promise<BatchDone>> = [];
  let handed = 0;
  const hand = (records: readonly Found[], end: number) => {
    const slice = records.slice(handed, end);
    const next = writers ? writers.write(slice) : writeHere(slice);
    // Awaited in turn below; a thread failing meanwhile must not be an unhandled rejection.
    next.catch(() => undefined);
    ahead.push(next);
    handed = end;
  };
  const writeHere = async (slice: Found[]): Promise<BatchDone> => {
    if (bulk) {
      const { batch, skipped } = readBatch(slice, true);
      return { ...(await bulk.ingest(batch)), skipped };
    }
    const { batch, skipped } = readBatch(slice, false);
    return { ...(await store.ingest(batch)), skipped };
  };
  const summary: IndexSummary = {
    records: 0,
    scans: { inserted: 0, updated: 0, unchanged: 0 },
    replays: { inserted: 0, updated: 0, unchanged: 0 },
    skipped: [],
  };
  try {
    // The walk hands each full batch to the writing threads as it is found (more than one batch:
    // an empty index defers its indexes).
    const links: string[] = [];
    const records = findRecords(
      roots,
      (found) => {
        if (found.length - handed < INDEX_BATCH) return;
        start(true);
        if (writers && ahead.length < writers.size * PER_THREAD) hand(found, found.length);
      },
      (link) => links.push(link),
    );
    for (const file of links.sort(compareCodeUnits)) {
      const err = new StellaError('RECORD_INVALID', 'is a symbolic link to a directory; not followed (index the directory it points to)', { file });
      summary.skipped.push({ file, path: null, reason: err.message });
      onEvent?.({ kind: 'log', id: 'index', message: err.oneLine() });
    }
    summary.records = records.length;
    onEvent?.({ kind: 'start', id: 'index', total: records.length, label: 'indexing records' });
    if (records.length >= MIN_PARALLEL) start(records.length > INDEX_BATCH);
    // A small index, or a store without a bulk load: on this thread, one batch at a time.
    bulk ??= store.bulkLoad?.({ deferIndexes: records.length > INDEX_BATCH }) ?? null;
    const depth = writers ? writers.size * PER_THREAD : 1;
    for (let i = 0; i < records.length; i += INDEX_BATCH) {
      while (ahead.length < depth && handed < records.length) hand(records, Math.min(handed + INDEX_BATCH, records.length));
      const done = await ahead.shift()!;
      for (const o of done.scans) summary.scans[o]++;
      for (const o of done.replays) summary.replays[o]++;
      for (const s of done.skipped) {
        summary.skipped.push(s.skipped);
        onEvent?.({ kind: 'log', id: 'index', message: s.line });
      }
      onEvent?.({ kind: 'progress', id: 'index', done: Math.min(i + INDEX_BATCH, records.length), total: records.length });
    }
  } finally {
    await writers?.close();
    await bulk?.finish();
  }
  onEvent?.({ kind: 'finish', id: 'index', status: summary.skipped.length ? 'error' : 'ok' });
  return summary;
}

/** A request to a writing thread and its answer (src/app/index-worker.ts). */
export type WriteRequest = {
  id: number;
  records: Found[];
  target: BulkTarget;
  /** The batch's place in the load: it is written once `turn` (shared by the threads) reaches it. */
  seq: number;
  turn: SharedArrayBuffer;
};
export type WriteAnswer = { id: number; ok: true; done: BatchDone } | { id: number; ok: false; message: string };

/** turn[0] when a thread failed: every thread waiting for its turn gives up. */
export const TURN_ABORTED = -1;

interface WriterPool {
  readonly size: number;
  /** One batch, read and written by whichever thread is free, in its turn. */
  write(records: Found[]): Promise<BatchDone>;
  /** Stops the threads (each closes its connection) and waits for them. */
  close(): Promise<void>;
}

/**
 * Writing threads, each taking the next batch as it finishes one. Without the compiled worker
 * (running from sources) there are none: the batches are written on this thread.
 */
function writerPool(size: number, bulk: BulkLoad): WriterPool | null {
  // Beside this module (tsc's dist/src/app), or from the bundle's chunk directory (dist/chunks).
  const file = ['./index-worker.js', '../src/app/index-worker.js'].map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find((f) => existsSync(f));
  if (file === undefined || size < 1) return null;
  const target = bulk.target();
  const turn = new SharedArrayBuffer(4);
  const turns = new Int32Array(turn);
  type Request = { id: number; records: Found[]; resolve: (r: BatchDone) => void; reject: (e: Error) => void };
  const queue: Request[] = [];
  const waiting = new Map<number, Request>();
  const busy = new Map<Worker, number>();
  let failed: Error | null = null;
  const abort = () => {
    Atomics.store(turns, 0, TURN_ABORTED);
    Atomics.notify(turns, 0);
  };
  const fail = (e: Error) => {
    failed ??= e;
    abort();
    for (const w of [...waiting.values(), ...queue.splice(0)]) w.reject(e);
    waiting.clear();
  };
  let seq = 0;
  // Each thread holds at most PER_THREAD batches; the rest wait here, in order.
  const pump = () => {
    while (queue.length > 0) {
      const w = workers.reduce((a, b) => (busy.get(b)! < busy.get(a)! ? b : a));
      if (busy.get(w)! >= PER_THREAD) return;
      const r = queue.shift()!;
      busy.set(w, busy.get(w)! + 1);
      waiting.set(r.id, r);
      w.postMessage({ id: r.id, records: r.records, target, seq: seq++, turn } satisfies WriteRequest);
    }
  };
  const exits: Array<Promise<void>> = [];
  const workers = Array.from({ length: size }, () => {
    // A larger young generation: each record's parse leaves short-lived garbage, scavenged less often.
    const w = new Worker(file, { resourceLimits: { maxYoungGenerationSizeMb: 64 } });
    busy.set(w, 0);
    w.on('message', (m: WriteAnswer) => {
      const p = waiting.get(m.id);
      waiting.delete(m.id);
      busy.set(w, busy.get(w)! - 1);
      if (m.ok) {
        pump();
        return p?.resolve(m.done);
      }
      const e = new StellaError('IO', `cannot write the index: ${m.message}`, { file: target.dbPath });
      p?.reject(e);
      fail(e);
    });
    w.on('error', (e) => fail(e));
    exits.push(
      new Promise((resolve) =>
        w.on('exit', (code) => {
          if (code !== 0) fail(new StellaError('IO', `an index writer thread exited with code ${code}`, { file: target.dbPath }));
          resolve();
        }),
      ),
    );
    return w;
  });
  let ids = 0;
  return {
    size,
    write: (records) =>
      new Promise<BatchDone>((resolve, reject) => {
        if (failed) return reject(failed);
        queue.push({ id: ++ids, records, resolve, reject });
        pump();
      }),
    close: async () => {
      // A thread still waiting for a turn that will not come (the load stopped early) gives up.
      if (queue.length > 0 || waiting.size > 0) abort();
      for (const w of workers) w.postMessage('close');
      await Promise.all(exits);
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
