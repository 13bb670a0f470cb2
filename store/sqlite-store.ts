// SQLite implementation of the store port (better-sqlite3, WAL, busy timeout, prepared statements).
// Every write that changes a replay's counted facts updates the `fidelity_daily` rollup in the same
// transaction, so window aggregates read a few hundred rollup rows instead of millions of replays.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StellaError } from '../src/core/errors.js';
import { MISMATCH_REASONS, type MismatchReason, type ReplayStatus } from '../src/core/formats.js';
import {
  type BucketCounts,
  type Counts,
  type DayRange,
  type RollupCell,
  type RollupDim,
  type ReplayFacts,
  GATE_DIMENSIONS,
  cellsOf,
  figures,
  totalOf,
  trend,
  windowRange,
} from '../src/core/fidelity/index.js';
import { GATE_ROLLUP_DIMS, MIN_BUCKET_REPLAYS, gateAt } from '../src/core/gate/index.js';
import type {
  Cursor,
  DashboardData,
  Page,
  PageRequest,
  ReplayDetail,
  ReplayFilter,
  ReplayRow,
  ReplaySort,
  ReplayStore,
  TagEvent,
} from './types.js';

export type { ReplayStore } from './types.js';

/** A replay as the ingester hands it over (already validated). */
export interface ReplayIn {
  replay_id: string;
  original_scan_id: string;
  record_sha256: string;
  status: ReplayStatus;
  bf_match: boolean | null;
  sf_match: boolean | null;
  pf_match: boolean | null;
  auto_reason: MismatchReason | null;
  subtags: string[];
  started_at: string;
  finished_at: string;
  duration_ms: number | null;
  scanner_version: string;
  ecosystem: string;
  policy_set: string;
  base_os: string;
  project: string;
  feed_digest: string;
  regulated: boolean;
  executor_kind: string;
  record_dir: string | null;
  manifest_sha256: string | null;
  classifier_version: string | null;
  error: string | null;
  diff_summary: unknown | null;
  manifest: unknown | null;
  executor: unknown | null;
  warnings: string[];
}

export interface ScanIn {
  scan_id: string;
  created_at: string;
  manifest_sha256: string;
  scanner_version: string;
  ecosystem: string;
  base_os: string;
  project: string;
  regulated: boolean;
  policy_set: string;
  feed_digest: string;
  policy_digest: string;
  record_dir: string | null;
  manifest: unknown;
  artifacts: Array<{ name: string; path: string; canonical_sha256: string; raw_sha256: string | null; schema: string; bytes: number }>;
}

export type IngestOutcome = 'inserted' | 'updated' | 'unchanged';

export interface SqliteStore extends ReplayStore {
  readonly dbPath: string;
  /** Ingest records in one transaction; the rollup moves with them. */
  ingest(batch: { scans: ScanIn[]; replays: ReplayIn[] }): { scans: IngestOutcome[]; replays: IngestOutcome[] };
  /** Rollup sums per (dim, bucket) over a day range (null = all time), optionally only some dimensions. */
  rollup(range: DayRange | null, dims?: readonly RollupDim[]): BucketCounts[];
  /** Rollup cells of one dimension per day over a range. */
  rollupCells(range: DayRange, dim: RollupDim): RollupCell[];
  integrityCheck(): string;
  /** Raw access for tests and benches. */
  readonly db: Database.Database;
}

const SORTS: Record<ReplaySort, { cols: string[]; desc: boolean }> = {
  failing_first: { cols: ['failing', 'finished_at'], desc: true },
  newest: { cols: ['finished_at'], desc: true },
  oldest: { cols: ['finished_at'], desc: false },
  cause: { cols: ['tag_key', 'finished_at'], desc: false },
  project: { cols: ['project', 'finished_at'], desc: false },
};

const ROW_COLS =
  'replay_id, original_scan_id, status, failing, bf_match, sf_match, pf_match, auto_reason, human_tag, tag, tag_key, subtags_json, started_at, finished_at, duration_ms, scanner_version, ecosystem, policy_set, base_os, project, feed_digest, regulated, executor_kind, record_dir';
const DETAIL_COLS = `${ROW_COLS}, manifest_sha256, classifier_version, error, diff_summary_json, manifest_json, executor_json, warnings_json`;

const DASHBOARD_DIMS: readonly RollupDim[] = [...GATE_ROLLUP_DIMS, 'cause'];

// A tag that sorts after every cause name, so untagged rows come last in the `cause` sort.
const NO_TAG_KEY = '~';

function migrationsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Source tree (vitest, tsx) or compiled tree (dist/store → store).
  for (const dir of [path.join(here, 'migrations'), path.join(here, '../../store/migrations')]) if (existsSync(dir)) return dir;
  throw new StellaError('IO', `store migrations not found next to ${here}`);
}

function loadMigrations(): Array<{ version: number; sql: string }> {
  const dir = migrationsDir();
  return readdirSync(dir)
    .filter((f) => /^\d+_.*\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.split('_')[0]), sql: readFileSync(path.join(dir, f), 'utf8') }));
}

const b2i = (b: boolean | null) => (b === null ? null : b ? 1 : 0);
const i2b = (i: number | null) => (i === null ? null : i === 1);

interface RawRow {
  replay_id: string;
  original_scan_id: string;
  status: ReplayStatus;
  failing: number;
  bf_match: number | null;
  sf_match: number | null;
  pf_match: number | null;
  auto_reason: MismatchReason | null;
  human_tag: MismatchReason | null;
  tag: MismatchReason | null;
  tag_key: string;
  subtags_json: string;
  started_at: string;
  finished_at: string;
  duration_ms: number | null;
  scanner_version: string;
  ecosystem: string;
  policy_set: string;
  base_os: string;
  project: string;
  feed_digest: string;
  regulated: number;
  executor_kind: string;
  record_dir: string | null;
}
interface RawDetail extends RawRow {
  manifest_sha256: string | null;
  classifier_version: string | null;
  error: string | null;
  diff_summary_json: string | null;
  manifest_json: string | null;
  executor_json: string | null;
  warnings_json: string;
}

function toRow(r: RawRow): ReplayRow {
  return {
    replay_id: r.replay_id,
    original_scan_id: r.original_scan_id,
    status: r.status,
    bf_match: i2b(r.bf_match),
    sf_match: i2b(r.sf_match),
    pf_match: i2b(r.pf_match),
    auto_reason: r.auto_reason,
    human_tag: r.human_tag,
    tag: r.tag,
    subtags: JSON.parse(r.subtags_json) as string[],
    started_at: r.started_at,
    finished_at: r.finished_at,
    duration_ms: r.duration_ms,
    scanner_version: r.scanner_version,
    ecosystem: r.ecosystem,
    policy_set: r.policy_set,
    base_os: r.base_os,
    project: r.project,
    feed_digest: r.feed_digest,
    regulated: r.regulated === 1,
    executor_kind: r.executor_kind,
    record_dir: r.record_dir,
  };
}

const parseOrNull = (s: string | null): unknown | null => (s === null ? null : JSON.parse(s));

function factsOf(r: RawRow | ReplayIn, tag: MismatchReason | null): ReplayFacts {
  return {
    status: r.status,
    bf_match: typeof r.bf_match === 'number' ? r.bf_match === 1 : (r.bf_match as boolean | null),
    sf_match: typeof r.sf_match === 'number' ? r.sf_match === 1 : (r.sf_match as boolean | null),
    pf_match: typeof r.pf_match === 'number' ? r.pf_match === 1 : (r.pf_match as boolean | null),
    finished_at: r.finished_at,
    duration_ms: r.duration_ms,
    scanner_version: r.scanner_version,
    ecosystem: r.ecosystem,
    policy_set: r.policy_set,
    base_os: r.base_os,
    feed_digest: r.feed_digest,
    project: r.project,
    regulated: typeof r.regulated === 'number' ? r.regulated === 1 : r.regulated,
    tag,
  };
}

/** Rollup deltas gathered in memory during one transaction and written once at its end. */
class RollupDelta {
  private cells = new Map<string, { day: string; dim: RollupDim; bucket: string; c: Counts }>();
  add(cells: ReturnType<typeof cellsOf>, sign: 1 | -1): void {
    for (const cell of cells) {
      const k = `${cell.dim}\u0000${cell.day}\u0000${cell.bucket}`;
      let cur = this.cells.get(k);
      if (!cur) {
        cur = { day: cell.day, dim: cell.dim, bucket: cell.bucket, c: { total: 0, n: 0, bf: 0, sf: 0, pf: 0, errors: 0, dur_sum_ms: 0, dur_n: 0 } };
        this.cells.set(k, cur);
      }
      const c = cur.c;
      c.total += sign * cell.c.total;
      c.n += sign * cell.c.n;
      c.bf += sign * cell.c.bf;
      c.sf += sign * cell.c.sf;
      c.pf += sign * cell.c.pf;
      c.errors += sign * cell.c.errors;
      c.dur_sum_ms += sign * cell.c.dur_sum_ms;
      c.dur_n += sign * cell.c.dur_n;
    }
  }
  values() {
    return this.cells.values();
  }
}

/** The facets `replay_counts` keeps per row; the same names as replay_runs' columns. */
interface CountFacets {
  failing: number;
  tag_key: string;
  scanner_version: string;
  ecosystem: string;
  project: string;
  policy_set: string;
}

/** `replay_counts` deltas gathered during one transaction and written once at its end. */
class CountDelta {
  private cells = new Map<string, { key: Array<string | number>; n: number }>();
  add(f: CountFacets, sign: 1 | -1): void {
    // Column order of replay_counts' insert below.
    const key = [f.failing, f.tag_key, f.scanner_version, f.ecosystem, f.project, f.policy_set];
    const k = JSON.stringify(key);
    const cur = this.cells.get(k);
    if (cur) cur.n += sign;
    else this.cells.set(k, { key, n: sign });
  }
  values() {
    return this.cells.values();
  }
}

/** Both deltas one write transaction carries. */
interface Deltas {
  rollup: RollupDelta;
  counts: CountDelta;
}

const newDeltas = (): Deltas => ({ rollup: new RollupDelta(), counts: new CountDelta() });

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (m) => `\\${m}`);
}

function filterSql(f: ReplayFilter): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (f.failingOnly) parts.push('failing = 1');
  if (f.causes && f.causes.length) {
    // tag_key (tag, or '~' when untagged) is indexed; a cause name is never '~'.
    parts.push(`tag_key IN (${f.causes.map(() => '?').join(',')})`);
    params.push(...f.causes);
  }
  if (f.scanner) (parts.push('scanner_version = ?'), params.push(f.scanner));
  if (f.ecosystem) (parts.push('ecosystem = ?'), params.push(f.ecosystem));
  if (f.project) (parts.push('project = ?'), params.push(f.project));
  if (f.policySet) (parts.push('policy_set = ?'), params.push(f.policySet));
  const text = f.text?.trim();
  if (text) {
    const like = `%${escapeLike(text)}%`;
    parts.push("(replay_id LIKE ? ESCAPE '\\' OR project LIKE ? ESCAPE '\\' OR scanner_version LIKE ? ESCAPE '\\' OR ecosystem LIKE ? ESCAPE '\\')");
    params.push(like, like, like, like);
  }
  return { where: parts.length ? parts.join(' AND ') : '1', params };
}

export function openStore(dbPath: string, opts: { readonly?: boolean } = {}): SqliteStore {
  let db: Database.Database;
  if (opts.readonly) {
    if (!existsSync(dbPath)) throw new StellaError('NOT_FOUND', 'no index here yet: run `stella index DIR` first', { file: dbPath });
    // A read-write handle held query-only: a SQLITE_OPEN_READONLY handle cannot create the WAL's -shm
    // file when the last writer has removed it, and would fail instead of reading.
    db = new Database(dbPath, { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -65536');
    // An index from an older stella is migrated on first use by any command, readers included: the
    // migrations are forward-only transactions, and an upgrade should not need a manual step.
    migrate(db, dbPath, true);
    db.pragma('query_only = ON');
  } else {
    mkdirSync(path.dirname(path.resolve(dbPath)), { recursive: true });
    db = new Database(dbPath);
    // busy_timeout first: switching a new file to WAL takes a lock another process may hold.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a crash loses at most the last transactions, never consistency.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Index inserts land in random key order (ids are hashes): a larger page cache keeps them in memory.
    db.pragma('cache_size = -65536');
    migrate(db, dbPath);
  }
  return new Store(db, dbPath);
}

/**
 * Bring the schema to the newest migration. The schema version is read under the write lock (BEGIN
 * IMMEDIATE), so of any number of processes started together on a new or an older index exactly one
 * migrates and the others wait for it and then see the new version. A reader never turns a database
 * some other program wrote (version 0 with tables) into an index; an empty file is one a concurrent
 * `stella index` has just created.
 */
function migrate(db: Database.Database, dbPath: string, reader = false): void {
  const migrations = loadMigrations();
  const known = migrations[migrations.length - 1].version;
  // Fast path, no lock: the common case is an index already at the newest version.
  if (db.pragma('user_version', { simple: true }) === known) return;
  try {
    db.exec('BEGIN IMMEDIATE');
    const have = db.pragma('user_version', { simple: true }) as number;
    if (have > known) {
      throw new StellaError('IO', `index schema is version ${have}, newer than this stella knows (${known}): upgrade stella`, { file: dbPath });
    }
    if (have === 0 && reader && (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n > 0) {
      throw new StellaError('IO', 'not a stella index (schema version 0): `stella index DIR` builds one', { file: dbPath });
    }
    for (const m of migrations) {
      if (m.version <= have) continue;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.close();
    throw e;
  }
}

class Store implements SqliteStore {
  private stmts = new Map<string, Database.Statement>();
  constructor(
    readonly db: Database.Database,
    readonly dbPath: string,
  ) {}

  private st(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  close(): void {
    this.stmts.clear();
    this.db.close();
  }

  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  // ---- ingest -----------------------------------------------------------------------------
  ingest(batch: { scans: ScanIn[]; replays: ReplayIn[] }): { scans: IngestOutcome[]; replays: IngestOutcome[] } {
    return this.db
      .transaction(() => {
        const delta = newDeltas();
        const scans = batch.scans.map((s) => this.ingestScan(s));
        const replays = batch.replays.map((r) => this.ingestReplay(r, delta));
        this.flush(delta);
        return { scans, replays };
      })
      .immediate();
  }

  private ingestScan(s: ScanIn): IngestOutcome {
    const old = this.st('SELECT manifest_sha256, feed_digest, record_dir FROM scan_manifests WHERE scan_id = ?').get(s.scan_id) as
      | { manifest_sha256: string; feed_digest: string; record_dir: string | null }
      | undefined;
    if (old && old.manifest_sha256 === s.manifest_sha256 && old.record_dir === s.record_dir) return 'unchanged';
    if (old) {
      this.st('DELETE FROM scan_artifacts WHERE scan_id = ?').run(s.scan_id);
      this.st('DELETE FROM scan_manifests WHERE scan_id = ?').run(s.scan_id);
      this.st('UPDATE feed_snapshots SET scans = scans - 1 WHERE digest = ?').run(old.feed_digest);
      this.st('DELETE FROM feed_snapshots WHERE digest = ? AND scans <= 0').run(old.feed_digest);
    }
    this.st(
      `INSERT INTO scan_manifests (scan_id, created_at, manifest_sha256, scanner_version, ecosystem, base_os, project, regulated,
         policy_set, feed_digest, policy_digest, record_dir, manifest_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    ).run(
      s.scan_id, s.created_at, s.manifest_sha256, s.scanner_version, s.ecosystem, s.base_os, s.project, s.regulated ? 1 : 0,
      s.policy_set, s.feed_digest, s.policy_digest, s.record_dir, JSON.stringify(s.manifest),
    );
    for (const a of s.artifacts) {
      this.st('INSERT INTO scan_artifacts (scan_id, name, path, canonical_sha256, raw_sha256, schema, bytes) VALUES (?,?,?,?,?,?,?)').run(
        s.scan_id, a.name, a.path, a.canonical_sha256, a.raw_sha256, a.schema, a.bytes,
      );
    }
    this.st(
      `INSERT INTO feed_snapshots (digest, first_seen, scans) VALUES (?, ?, 1)
       ON CONFLICT (digest) DO UPDATE SET scans = scans + 1, first_seen = min(first_seen, excluded.first_seen)`,
    ).run(s.feed_digest, s.created_at);
    return old ? 'updated' : 'inserted';
  }

  private ingestReplay(r: ReplayIn, delta: Deltas): IngestOutcome {
    const old = this.st(`SELECT ${ROW_COLS}, record_sha256 FROM replay_runs WHERE replay_id = ?`).get(r.replay_id) as
      | (RawRow & { record_sha256: string })
      | undefined;
    if (old && old.record_sha256 === r.record_sha256 && old.record_dir === r.record_dir) return 'unchanged';
    // A re-written record keeps its human tag: people's triage outlives re-indexing.
    const human = old ? old.human_tag : null;
    const tag = human ?? r.auto_reason;
    if (old) {
      delta.rollup.add(cellsOf(factsOf(old, old.tag)), -1);
      delta.counts.add(old, -1);
      this.st('DELETE FROM replay_runs WHERE replay_id = ?').run(r.replay_id);
    }
    const failing = r.status === 'passed' ? 0 : 1;
    const tag_key = tag ?? NO_TAG_KEY;
    this.st(
      `INSERT INTO replay_runs (replay_id, original_scan_id, record_sha256, status, failing, bf_match, sf_match, pf_match, auto_reason,
         human_tag, tag, tag_key, subtags_json, started_at, finished_at, day, duration_ms, scanner_version, ecosystem, policy_set, base_os,
         project, feed_digest, regulated, executor_kind, record_dir, manifest_sha256, classifier_version, error, diff_summary_json,
         manifest_json, executor_json, warnings_json)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    ).run(
      r.replay_id, r.original_scan_id, r.record_sha256, r.status, failing, b2i(r.bf_match), b2i(r.sf_match),
      b2i(r.pf_match), r.auto_reason, human, tag, tag_key, JSON.stringify(r.subtags), r.started_at, r.finished_at,
      r.finished_at.slice(0, 10), r.duration_ms, r.scanner_version, r.ecosystem, r.policy_set, r.base_os, r.project, r.feed_digest,
      r.regulated ? 1 : 0, r.executor_kind, r.record_dir, r.manifest_sha256, r.classifier_version, r.error,
      r.diff_summary === null ? null : JSON.stringify(r.diff_summary), r.manifest === null ? null : JSON.stringify(r.manifest),
      r.executor === null ? null : JSON.stringify(r.executor), JSON.stringify(r.warnings),
    );
    delta.rollup.add(cellsOf(factsOf(r, tag)), 1);
    delta.counts.add({ ...r, failing, tag_key }, 1);
    return old ? 'updated' : 'inserted';
  }

  private flush(delta: Deltas): void {
    const up = this.st(
      `INSERT INTO fidelity_daily (day, dim, bucket, total, n, bf, sf, pf, errors, dur_sum_ms, dur_n) VALUES (?,?,?,?,?,?,?,?,?,?,?)
       ON CONFLICT (dim, day, bucket) DO UPDATE SET total = total + excluded.total, n = n + excluded.n, bf = bf + excluded.bf,
         sf = sf + excluded.sf, pf = pf + excluded.pf, errors = errors + excluded.errors,
         dur_sum_ms = dur_sum_ms + excluded.dur_sum_ms, dur_n = dur_n + excluded.dur_n`,
    );
    const del = this.st('DELETE FROM fidelity_daily WHERE dim = ? AND day = ? AND bucket = ? AND total = 0');
    for (const { day, dim, bucket, c } of delta.rollup.values()) {
      if (c.total === 0 && c.n === 0 && c.dur_n === 0 && c.dur_sum_ms === 0) continue;
      up.run(day, dim, bucket, c.total, c.n, c.bf, c.sf, c.pf, c.errors, c.dur_sum_ms, c.dur_n);
      if (c.total < 0) del.run(dim, day, bucket);
    }
    const count = this.st(
      `INSERT INTO replay_counts (failing, tag_key, scanner_version, ecosystem, project, policy_set, n) VALUES (?,?,?,?,?,?,?)
       ON CONFLICT DO UPDATE SET n = n + excluded.n`,
    );
    const uncount = this.st(
      `DELETE FROM replay_counts WHERE failing = ? AND tag_key = ? AND scanner_version = ? AND ecosystem = ? AND project = ?
       AND policy_set = ? AND n <= 0`,
    );
    for (const { key, n } of delta.counts.values()) {
      if (n === 0) continue;
      count.run(...key, n);
      if (n < 0) uncount.run(...key);
    }
  }

  // ---- rollup -----------------------------------------------------------------------------
  rollup(range: DayRange | null, dims?: readonly RollupDim[]): BucketCounts[] {
    // `dim IN (…)` + the day range walk the (dim, day, bucket) primary key instead of the whole table.
    const where = [dims ? `dim IN (${dims.map(() => '?').join(',')})` : '', range ? 'day BETWEEN ? AND ?' : ''].filter(Boolean);
    const sql = `SELECT dim, bucket, sum(total) AS total, sum(n) AS n, sum(bf) AS bf, sum(sf) AS sf, sum(pf) AS pf, sum(errors) AS errors,
        sum(dur_sum_ms) AS dur_sum_ms, sum(dur_n) AS dur_n FROM fidelity_daily ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        GROUP BY dim, bucket ORDER BY dim, bucket`;
    const params: unknown[] = [...(dims ?? []), ...(range ? [range.from, range.to] : [])];
    return this.st(sql).all(...params) as BucketCounts[];
  }

  rollupCells(range: DayRange, dim: RollupDim): RollupCell[] {
    return this.st('SELECT * FROM fidelity_daily WHERE dim = ? AND day BETWEEN ? AND ? ORDER BY day, bucket').all(dim, range.from, range.to) as RollupCell[];
  }

  // ---- lists ------------------------------------------------------------------------------
  countReplays(filter: ReplayFilter): { total: number; failing: number } {
    const { where, params } = filterSql(filter);
    // Free text needs the rows; every other filter names only facets replay_counts keeps.
    const sql = filter.text?.trim()
      ? `SELECT count(*) AS total, coalesce(sum(failing), 0) AS failing FROM replay_runs WHERE ${where}`
      : `SELECT coalesce(sum(n), 0) AS total, coalesce(sum(n * failing), 0) AS failing FROM replay_counts WHERE ${where}`;
    const r = this.st(sql).get(...params) as {
      total: number;
      failing: number;
    };
    return { total: r.total, failing: r.failing };
  }

  idsMatching(filter: ReplayFilter): string[] {
    const { where, params } = filterSql(filter);
    return (this.st(`SELECT replay_id FROM replay_runs WHERE ${where} ORDER BY replay_id`).pluck().all(...params) as string[]).slice();
  }

  pageReplays(req: PageRequest): Page {
    const limit = Math.max(1, Math.floor(req.limit));
    const sort = SORTS[req.sort];
    if (!sort) throw new StellaError('USAGE', `unknown sort '${String(req.sort)}'`);
    const { where, params } = filterSql(req.filter);
    // A leading sort column the filter pins (failing = 1) must leave the keyset tuple: SQLite only
    // range-searches a row value that follows the index's equality prefix.
    const pinned = req.filter.failingOnly && sort.cols[0] === 'failing' ? 1 : 0;
    const keyCols = [...sort.cols.slice(pinned), 'replay_id'];
    const tuple = `(${keyCols.join(', ')})`;
    const marks = `(${keyCols.map(() => '?').join(', ')})`;
    // Forward = the sort's own direction; a keyset comparison on the whole tuple uses the sort's index.
    const fwdOp = sort.desc ? '<' : '>';
    const backOp = sort.desc ? '>' : '<';
    const order = (reverse: boolean) => [...sort.cols, 'replay_id'].map((c) => `${c} ${sort.desc !== reverse ? 'DESC' : 'ASC'}`).join(', ');
    const q = (cmp: string | null, reverse: boolean) =>
      `SELECT ${ROW_COLS} FROM replay_runs WHERE ${where}${cmp ? ` AND ${tuple} ${cmp} ${marks}` : ''} ORDER BY ${order(reverse)} LIMIT ?`;
    const keyOf = (c: Cursor) => [...c.key.slice(pinned), c.id];

    let raw: RawRow[];
    if (req.before) {
      raw = (this.st(q(backOp, true)).all(...params, ...keyOf(req.before), limit) as RawRow[]).reverse();
    } else if (req.after) {
      raw = this.st(q(fwdOp, false)).all(...params, ...keyOf(req.after), limit) as RawRow[];
    } else if (req.fromEnd) {
      raw = (this.st(q(null, true)).all(...params, limit) as RawRow[]).reverse();
    } else {
      raw = this.st(q(null, false)).all(...params, limit) as RawRow[];
    }
    if (raw.length === 0) {
      // Past either end: the other side may still hold rows.
      const edge = req.before ?? req.after;
      const moreBefore = req.after ? this.st(q(backOp, true)).all(...params, ...keyOf(edge as Cursor), 1).length > 0 : false;
      const moreAfter = req.before ? this.st(q(fwdOp, false)).all(...params, ...keyOf(edge as Cursor), 1).length > 0 : false;
      return { rows: [], hasMoreAfter: moreAfter, hasMoreBefore: moreBefore };
    }
    const cursorOf = (r: RawRow) => keyCols.map((c) => (r as unknown as Record<string, string | number>)[c]);
    // What the query itself proves needs no second look: a page from an end has nothing beyond that
    // end, and a short page reached the end it walked towards (a rare free-text match would otherwise
    // walk the whole index again for each probe).
    const from = req.before ? 'before' : req.after ? 'after' : req.fromEnd ? 'end' : 'start';
    const short = raw.length < limit;
    const endReached = from === 'end' || ((from === 'after' || from === 'start') && short);
    const startReached = from === 'start' || ((from === 'before' || from === 'end') && short);
    const hasMoreAfter = !endReached && this.st(q(fwdOp, false)).all(...params, ...cursorOf(raw[raw.length - 1]), 1).length > 0;
    const hasMoreBefore = !startReached && this.st(q(backOp, true)).all(...params, ...cursorOf(raw[0]), 1).length > 0;
    return { rows: raw.map(toRow), hasMoreAfter, hasMoreBefore };
  }

  getReplay(id: string): ReplayDetail | null {
    const r = this.st(`SELECT ${DETAIL_COLS} FROM replay_runs WHERE replay_id = ?`).get(id) as RawDetail | undefined;
    if (!r) return null;
    const diff = parseOrNull(r.diff_summary_json);
    const evidence = diff && typeof diff === 'object' && 'evidence' in (diff as object) ? (diff as { evidence: unknown }).evidence : null;
    return {
      ...toRow(r),
      diff_summary: diff,
      manifest: parseOrNull(r.manifest_json),
      executor: parseOrNull(r.executor_json),
      error: r.error,
      classifier_version: r.classifier_version,
      evidence,
      manifest_sha256: r.manifest_sha256,
      warnings: JSON.parse(r.warnings_json) as string[],
    };
  }

  // ---- retag ------------------------------------------------------------------------------
  retag(ids: string[], tag: MismatchReason, opts: { who: string; at: string; note?: string }): { batch_id: string; changed: number } {
    if (!MISMATCH_REASONS.includes(tag)) {
      throw new StellaError('USAGE', `unknown cause tag '${String(tag)}': expected one of ${MISMATCH_REASONS.join('|')}`);
    }
    const unique = [...new Set(ids)].sort();
    return this.db
      .transaction(() => {
        const seq = (this.st('SELECT coalesce(max(event_id), 0) FROM tag_events').pluck().get() as number) + 1;
        // Content-derived: the same action at the same point of the audit trail has the same id.
        const batch_id = `rt_${createHash('sha256')
          .update(JSON.stringify([seq, unique, tag, opts.who, opts.at, opts.note ?? null]))
          .digest('hex')
          .slice(0, 16)}`;
        const delta = newDeltas();
        let changed = 0;
        for (const id of unique) {
          const row = this.st(`SELECT ${ROW_COLS} FROM replay_runs WHERE replay_id = ?`).get(id) as RawRow | undefined;
          if (!row) throw new StellaError('NOT_FOUND', `no replay '${id}' in the index`, { file: this.dbPath });
          if (row.human_tag === tag) continue;
          this.setHumanTag(row, tag, delta);
          this.st(
            'INSERT INTO tag_events (batch_id, replay_id, old_tag, new_tag, old_human, who, at, note) VALUES (?,?,?,?,?,?,?,?)',
          ).run(batch_id, id, row.tag, tag, row.human_tag, opts.who, opts.at, opts.note ?? null);
          changed++;
        }
        this.flush(delta);
        return { batch_id, changed };
      })
      .immediate();
  }

  private setHumanTag(row: RawRow, human: MismatchReason | null, delta: Deltas): void {
    const eff = human ?? row.auto_reason;
    const tag_key = eff ?? NO_TAG_KEY;
    this.st('UPDATE replay_runs SET human_tag = ?, tag = ?, tag_key = ? WHERE replay_id = ?').run(human, eff, tag_key, row.replay_id);
    const onlyCause = (t: MismatchReason | null) => cellsOf(factsOf(row, t)).filter((c) => c.dim === 'cause');
    delta.rollup.add(onlyCause(row.tag), -1);
    delta.rollup.add(onlyCause(eff), 1);
    delta.counts.add(row, -1);
    delta.counts.add({ ...row, tag_key }, 1);
  }

  undoLastRetag(opts: { who: string; at: string }): { batch_id: string; restored: number } | null {
    return this.db
      .transaction(() => {
        const batch = this.st('SELECT batch_id FROM tag_events WHERE undone = 0 ORDER BY event_id DESC LIMIT 1').pluck().get() as string | undefined;
        if (batch === undefined) return null;
        const events = this.st('SELECT event_id, replay_id, old_human FROM tag_events WHERE batch_id = ? AND undone = 0 ORDER BY event_id DESC').all(
          batch,
        ) as Array<{ event_id: number; replay_id: string; old_human: MismatchReason | null }>;
        const delta = newDeltas();
        for (const e of events) {
          const row = this.st(`SELECT ${ROW_COLS} FROM replay_runs WHERE replay_id = ?`).get(e.replay_id) as RawRow;
          this.setHumanTag(row, e.old_human, delta);
          this.st('UPDATE tag_events SET undone = 1, undone_by = ?, undone_at = ? WHERE event_id = ?').run(opts.who, opts.at, e.event_id);
        }
        this.flush(delta);
        return { batch_id: batch, restored: events.length };
      })
      .immediate();
  }

  tagEvents(replayId?: string): TagEvent[] {
    const rows = (
      replayId === undefined
        ? this.st('SELECT * FROM tag_events ORDER BY event_id').all()
        : this.st('SELECT * FROM tag_events WHERE replay_id = ? ORDER BY event_id').all(replayId)
    ) as Array<Omit<TagEvent, 'undone'> & { undone: number }>;
    return rows.map((r) => ({
      event_id: r.event_id,
      batch_id: r.batch_id,
      replay_id: r.replay_id,
      old_tag: r.old_tag,
      new_tag: r.new_tag,
      who: r.who,
      at: r.at,
      note: r.note,
      undone: r.undone === 1,
    }));
  }

  // ---- dashboard --------------------------------------------------------------------------
  dashboard(now: Date): DashboardData {
    const w30 = this.rollup(windowRange(now, 30), DASHBOARD_DIMS);
    const w90 = this.rollup(windowRange(now, 90), ['all']);
    const gate = gateAt((r) => this.rollup(r, GATE_ROLLUP_DIMS), now);
    const win = (days: number, rows: BucketCounts[]) => {
      const f = figures(totalOf(rows));
      return { days, n: f.n, bf: f.bf, sf: f.sf, pf: f.pf };
    };
    const range30 = windowRange(now, 30);
    const offenders = GATE_DIMENSIONS.flatMap((dimension) =>
      w30
        .filter((r) => r.dim === dimension && r.n >= MIN_BUCKET_REPLAYS && r.bf < r.n)
        .map((r) => ({ dimension, bucket: r.bucket, n: r.n, bf: r.bf / r.n })),
    )
      .sort((a, b) => a.bf - b.bf || (a.dimension < b.dimension ? -1 : a.dimension > b.dimension ? 1 : a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0))
      .slice(0, 10);
    const causes = w30
      .filter((r) => r.dim === 'cause' && r.total > 0)
      .map((r) => ({ reason: r.bucket as MismatchReason, n: r.total }))
      .sort((a, b) => b.n - a.n || (a.reason < b.reason ? -1 : 1));
    const all = this.rollup(null, ['status']);
    const status = (s: string) => all.find((r) => r.dim === 'status' && r.bucket === s)?.total ?? 0;
    return {
      now: now.toISOString(),
      windows: [win(30, w30), win(90, w90)],
      trend: trend(this.rollupCells(range30, 'all'), range30).map((p) => ({ day: p.day, n: p.n, bf: p.bf ?? 0, sf: p.sf ?? 0, pf: p.pf ?? 0 })),
      gate: { state: gate.state, reasons: gate.reasons },
      offenders,
      causes,
      counts: { replays: status('passed') + status('failed') + status('error'), failing: status('failed') + status('error'), errors: status('error') },
    };
  }
}
