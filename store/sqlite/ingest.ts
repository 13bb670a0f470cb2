// Ingest: scans and replays in one write transaction, the rollups moving with them. A re-written
// record replaces its row but keeps its human tag: people's triage outlives re-indexing.
import { cellsOf } from '../../src/core/fidelity/index.js';
import { failingOf, tagKeyOf } from '../../src/core/filter/sort.js';
import type { IngestOutcome, ReplayIn, ScanIn } from '../../src/core/ports.js';
import { type Conn, type RawDetail, type RawRow, ROW_COLS, b2i, connOf, factsOf } from './rows.js';
import { searchTermsOf } from '../../src/core/filter/terms.js';
import { type Deltas, flush, newDeltas, scopeOf } from './rollup.js';
import { writeTerms } from './terms.js';
import { buildDeferredIndexes, openDatabase } from './migrate.js';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

type Outcomes = { scans: IngestOutcome[]; replays: IngestOutcome[] };
/**
 * What one write transaction takes: scans, and replays as prepareReplay makes them. `inserted`, when
 * given, is freshDeltas(replays) (computed as the batch is read, before its turn at the write lock):
 * the rollup and counts as if every replay were a new row; ingest corrects it (in place) for the ones
 * that are not.
 */
export type PreparedBatch = { scans: ScanIn[]; replays: PreparedReplay[]; inserted?: Deltas };

export function ingest(c: Conn, batch: { scans: ScanIn[]; replays: ReplayIn[] }): Outcomes {
  const prepared = { scans: batch.scans, replays: batch.replays.map(prepareReplay) };
  return c.db.transaction(() => ingestBatch(c, prepared, false)).immediate();
}

/** `fresh`: a load that found replay_runs empty; rows are inserted first and looked up only when one is there. */
function ingestBatch(c: Conn, batch: PreparedBatch, fresh: boolean): Outcomes {
  const pre = batch.inserted !== undefined;
  const delta = batch.inserted ?? newDeltas();
  const scans = batch.scans.map((s) => ingestScan(c, s));
  const replays = batch.replays.map((r) => ingestReplay(c, r, delta, pre, fresh));
  flush(c, delta);
  return { scans, replays };
}

/** What a replay row adds to (sign 1) or takes from (-1) the rollup and the counts, under its effective tag. */
function count(delta: Deltas, r: RawRow, sign: 1 | -1): void {
  delta.rollup.add(cellsOf(factsOf(r, r.tag)), sign, scopeOf(r.mode));
  delta.counts.add(r, sign);
}

/** The rollup and counts deltas of replays that all become new rows (PreparedBatch.inserted). */
export function freshDeltas(replays: readonly PreparedReplay[]): Deltas {
  const delta = newDeltas();
  for (const r of replays) count(delta, r, 1);
  return delta;
}

/** A load of many batches: each batch is ingested as by the store's ingest; finish() ends the load. */
export interface BulkLoad {
  ingest(batch: PreparedBatch): Promise<Outcomes>;
  /**
   * For batches written by other threads, each through its own connection (bulkWriter), one at a
   * time and none on this connection meanwhile: the load's first step is taken here.
   */
  target(): BulkTarget;
  finish(): Promise<void>;
}

/** A bulk load as another thread joins it: the index, and whether the load found it empty. */
export interface BulkTarget {
  dbPath: string;
  fresh: boolean;
}

/** The tables whose secondary indexes a bulk load defers (their primary keys stay: ingest looks rows up by id). */
const DEFERRED_TABLES = "'replay_runs', 'replay_terms'";

/**
 * A bulk load (migration 005). Into an empty index, the first batch's transaction drops the secondary
 * indexes of replay_runs and replay_terms (listing them in deferred_indexes), and finish() builds each
 * once. Every batch is otherwise the store's ingest: same rows, outcomes, rollup and counts, committed
 * whole. Into an index that holds replays, nothing is deferred.
 */
export function bulkLoad(c: Conn, opts: { deferIndexes: boolean }): BulkLoad {
  // A load killed before its indexes were built left them listed: build them before loading more.
  buildDeferredIndexes(c.db);
  let first = opts.deferIndexes;
  let deferred = false;
  // In the first batch's transaction: decided under the write lock (another writer may have
  // committed since this one opened).
  const begin = () => {
    if (!first) return;
    first = false;
    if (c.st('SELECT 1 FROM replay_runs LIMIT 1').get() === undefined) deferred = deferIndexes(c);
  };
  // Every batch of a fresh load is new pages: the connections do not stop at their commits to copy
  // them to the database (two fsyncs each); a thread beside them copies what has committed.
  const committed = () => {
    if (!deferred) return;
    c.db.pragma('wal_autocheckpoint = 0');
    checkpointer ??= checkpointBeside(c.dbPath);
  };
  const run = (batch: PreparedBatch): Outcomes => {
    const out = c.db.transaction(() => (begin(), ingestBatch(c, batch, deferred))).immediate();
    committed();
    return out;
  };
  let checkpointer: Checkpointer | null = null;
  return {
    ingest: (batch) => new Promise((resolve) => resolve(run(batch))),
    target: () => {
      c.db.transaction(begin).immediate();
      committed();
      return { dbPath: c.dbPath, fresh: deferred };
    },
    finish: async () => {
      await checkpointer?.stop();
      return new Promise((resolve) => {
        if (!deferred) return resolve(buildDeferredIndexes(c.db));
        // The index builds read the table from the database file (mapped), then their pages are
        // copied once more; the connection checkpoints as usual again afterwards.
        c.db.pragma('wal_checkpoint(TRUNCATE)');
        // The writers are done: the index builds' sorter may take the other cores. It sorts in runs
        // the size of the page cache (2 MiB at least), and only several runs are sorted and merged in
        // parallel: a small cache here made the nine builds a third faster (1.6 s -> 1.0 s at 100k rows).
        const cache = c.db.pragma('cache_size', { simple: true }) as number;
        c.db.pragma(`threads = ${Math.max(0, availableParallelism() - 1)}`);
        c.db.pragma('cache_size = -2048');
        try {
          buildDeferredIndexes(c.db);
        } finally {
          c.db.pragma(`cache_size = ${cache}`);
          c.db.pragma('threads = 0');
          c.db.pragma('wal_autocheckpoint = 1000');
        }
        c.db.pragma('wal_checkpoint(TRUNCATE)');
        resolve();
      });
    },
  };
}

/** Another thread's part in a bulk load (BulkLoad.target): its batches written as the load's own ingest writes them. */
export function bulkWriter(t: BulkTarget): { write(batch: PreparedBatch): Outcomes; close(): void } {
  const c = connOf(openDatabase(t.dbPath), t.dbPath);
  if (t.fresh) c.db.pragma('wal_autocheckpoint = 0');
  return {
    write: (batch) => c.db.transaction(() => ingestBatch(c, batch, t.fresh)).immediate(),
    close: () => c.db.close(),
  };
}

interface Checkpointer {
  stop(): Promise<void>;
}

/** How often the checkpointer copies committed frames (each pass is one read of the new WAL frames, two fsyncs). */
const CHECKPOINT_MS = 250;

/**
 * A thread with its own connection running PASSIVE checkpoints while the load writes: SQLite's own
 * concurrent checkpoint (it never blocks the writer, copies only committed frames, and a crash in the
 * middle of one is recovered like any other), so the copy into the database runs on another core
 * instead of at the end of the load. Unref'd while it runs: it never keeps the process alive.
 */
function checkpointBeside(dbPath: string): Checkpointer {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const db = new Database(workerData.dbPath, { fileMustExist: true });
    db.pragma('busy_timeout = 0');
    db.pragma('synchronous = NORMAL');
    const timer = setInterval(() => {
      try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
    }, workerData.everyMs);
    parentPort.once('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
  `;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const w = new Worker(code, { eval: true, workerData: { dbPath, driver, everyMs: CHECKPOINT_MS } });
  w.unref();
  const exited = new Promise<void>((resolve) => {
    w.once('exit', () => resolve());
    w.once('error', () => resolve());
  });
  return {
    stop: () => {
      // Held until it has closed its connection: a load's finish waits for it, and must not be the
      // last thing the process is waiting on while it does.
      w.ref();
      w.postMessage('stop');
      return exited;
    },
  };
}

function deferIndexes(c: Conn): boolean {
  const where = `type = 'index' AND tbl_name IN (${DEFERRED_TABLES}) AND sql IS NOT NULL`;
  const names = c.db.prepare(`SELECT name FROM sqlite_master WHERE ${where} ORDER BY rowid`).pluck().all() as string[];
  c.db.prepare(`INSERT INTO deferred_indexes (name, sql) SELECT name, sql FROM sqlite_master WHERE ${where} ORDER BY rowid`).run();
  for (const name of names) c.db.exec(`DROP INDEX "${name.replace(/"/g, '""')}"`);
  return true;
}

function ingestScan(c: Conn, s: ScanIn): IngestOutcome {
  const old = c.st('SELECT manifest_sha256, feed_digest, record_dir FROM scan_manifests WHERE scan_id = ?').get(s.scan_id) as
    | { manifest_sha256: string; feed_digest: string; record_dir: string | null }
    | undefined;
  if (old && old.manifest_sha256 === s.manifest_sha256 && old.record_dir === s.record_dir) return 'unchanged';
  if (old) {
    c.st('DELETE FROM scan_artifacts WHERE scan_id = ?').run(s.scan_id);
    c.st('DELETE FROM scan_manifests WHERE scan_id = ?').run(s.scan_id);
    c.st('UPDATE feed_snapshots SET scans = scans - 1 WHERE digest = ?').run(old.feed_digest);
    c.st('DELETE FROM feed_snapshots WHERE digest = ? AND scans <= 0').run(old.feed_digest);
  }
  c.st(
    `INSERT INTO scan_manifests (scan_id, created_at, manifest_sha256, scanner_version, ecosystem, base_os, project, regulated,
       policy_set, feed_digest, policy_digest, record_dir, manifest_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
  ).run(
    s.scan_id, s.created_at, s.manifest_sha256, s.scanner_version, s.ecosystem, s.base_os, s.project, s.regulated ? 1 : 0,
    s.policy_set, s.feed_digest, s.policy_digest, s.record_dir, JSON.stringify(s.manifest),
  );
  for (const a of s.artifacts) {
    c.st('INSERT INTO scan_artifacts (scan_id, name, path, canonical_sha256, raw_sha256, schema, bytes) VALUES (?,?,?,?,?,?,?)').run(
      s.scan_id, a.name, a.path, a.canonical_sha256, a.raw_sha256, a.schema, a.bytes,
    );
  }
  c.st(
    `INSERT INTO feed_snapshots (digest, first_seen, scans) VALUES (?, ?, 1)
     ON CONFLICT (digest) DO UPDATE SET scans = scans + 1, first_seen = min(first_seen, excluded.first_seen)`,
  ).run(s.feed_digest, s.created_at);
  return old ? 'updated' : 'inserted';
}

/**
 * A replay as replay_runs stores it, plus its search terms: everything but the tag columns follows
 * from the record alone, so the indexer's reading threads compute it. The tag columns assume no human
 * tag; ingest keeps the one a replaced row had.
 */
export type PreparedReplay = RawDetail & { record_sha256: string; day: string; terms: string[] };

export function prepareReplay(r: ReplayIn): PreparedReplay {
  // One object literal with every field in a fixed order: a rest-and-spread copy of the record made
  // V8 build each row through dictionary properties (45 µs a row, more than its JSON.parse).
  const { diff_summary, manifest, executor } = r;
  return {
    replay_id: r.replay_id,
    original_scan_id: r.original_scan_id,
    record_sha256: r.record_sha256,
    status: r.status,
    failing: failingOf(r.status),
    bf_match: b2i(r.bf_match),
    sf_match: b2i(r.sf_match),
    pf_match: b2i(r.pf_match),
    auto_reason: r.auto_reason,
    human_tag: null,
    tag: r.auto_reason,
    tag_key: tagKeyOf(r.auto_reason),
    subtags_json: JSON.stringify(r.subtags),
    started_at: r.started_at,
    finished_at: r.finished_at,
    day: r.finished_at.slice(0, 10),
    duration_ms: r.duration_ms,
    // The manifest's facts, then the executor and the record's own columns, as the record states them.
    scanner_version: r.scanner_version, ecosystem: r.ecosystem, policy_set: r.policy_set, base_os: r.base_os, project: r.project,
    feed_digest: r.feed_digest, regulated: r.regulated ? 1 : 0,
    executor_kind: r.executor_kind, record_dir: r.record_dir, manifest_sha256: r.manifest_sha256,
    classifier_version: r.classifier_version, error: r.error,
    diff_summary_json: diff_summary === null ? null : JSON.stringify(diff_summary),
    manifest_json: manifest === null ? null : JSON.stringify(manifest),
    executor_json: executor === null ? null : JSON.stringify(executor),
    warnings_json: JSON.stringify(r.warnings),
    mode: r.mode ?? 'pinned',
    terms: diff_summary === null || diff_summary === undefined ? [] : searchTermsOf(diff_summary),
  };
}

// Statement texts as constants: the statement cache looks them up once per row.
const OLD_ROW = `SELECT ${ROW_COLS}, record_sha256 FROM replay_runs WHERE replay_id = ?`;
const INSERT_ROW = `INSERT INTO replay_runs (replay_id, original_scan_id, record_sha256, status, failing, bf_match, sf_match, pf_match,
    auto_reason, human_tag, tag, tag_key, subtags_json, started_at, finished_at, day, duration_ms, scanner_version, ecosystem, policy_set,
    base_os, project, feed_digest, regulated, executor_kind, record_dir, manifest_sha256, classifier_version, error, diff_summary_json,
    manifest_json, executor_json, warnings_json, mode)
  VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`;

/** `pre`: delta already holds p as a new row (PreparedBatch.inserted); what p really does is corrected here. */
function ingestReplay(c: Conn, p: PreparedReplay, delta: Deltas, pre: boolean, fresh: boolean): IngestOutcome {
  // Into a load that started empty, almost every replay is new: the insert itself says whether its
  // id is there (the primary key refuses it, and nothing is written), the lookup runs only then.
  if (fresh && insertNew(c, p)) {
    writeTerms(c, p.replay_id, p.terms, false);
    if (!pre) count(delta, p, 1);
    return 'inserted';
  }
  const old = c.st(OLD_ROW).get(p.replay_id) as
    | (RawRow & { record_sha256: string })
    | undefined;
  if (old && old.record_sha256 === p.record_sha256 && old.record_dir === p.record_dir) {
    if (pre) count(delta, p, -1);
    return 'unchanged';
  }
  // A re-written record keeps its human tag: people's triage outlives re-indexing.
  const human = old ? old.human_tag : null;
  const r = human === null ? p : { ...p, human_tag: human, tag: human, tag_key: tagKeyOf(human) };
  if (old) {
    count(delta, old, -1);
    c.st('DELETE FROM replay_runs WHERE replay_id = ?').run(r.replay_id);
  }
  insertRow(c, r);
  writeTerms(c, r.replay_id, r.terms, old !== undefined);
  if (!pre || r !== p) {
    if (pre) count(delta, p, -1);
    count(delta, r, 1);
  }
  return old ? 'updated' : 'inserted';
}

/** Insert a row whose id may be taken: false (nothing written) when it is. */
function insertNew(c: Conn, r: PreparedReplay): boolean {
  try {
    insertRow(c, r);
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return false;
    throw e;
  }
}

function insertRow(c: Conn, r: PreparedReplay): void {
  c.st(INSERT_ROW).run(
    r.replay_id, r.original_scan_id, r.record_sha256, r.status, r.failing, r.bf_match, r.sf_match, r.pf_match, r.auto_reason,
    r.human_tag, r.tag, r.tag_key, r.subtags_json, r.started_at, r.finished_at, r.day, r.duration_ms, r.scanner_version, r.ecosystem,
    r.policy_set, r.base_os, r.project, r.feed_digest, r.regulated, r.executor_kind, r.record_dir, r.manifest_sha256,
    r.classifier_version, r.error, r.diff_summary_json, r.manifest_json, r.executor_json, r.warnings_json, r.mode,
  );
}
