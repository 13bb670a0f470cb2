// PostgreSQL implementation of the store port: the SQLite store's behaviour statement for statement
// (store/sqlite/*), on the mirrored schema of store/postgres/migrations/001_init.sql. Readers print what
// either backend returns byte for byte: the same rows, the same order (COLLATE "C" = SQLite's BINARY),
// the same JSON values (json columns keep the exact text), integers as JS numbers (connect.ts).
//
// Writes: each ingest, retag and undo is one transaction; rollup and list-count deltas are gathered in
// memory (the SQLite store's RollupDelta/CountDelta) and written once at its end. Retag and undo take a
// transaction-level advisory lock so the batch id (content-derived from the audit trail's position) is
// computed by one writer at a time.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { StellaError } from '../../src/core/errors.js';
import { type BucketCounts, type DayRange, type RollupCell, type RollupDim, cellsOf } from '../../src/core/fidelity/index.js';
import { SORTS, failingOf, tagKeyOf } from '../../src/core/filter/sort.js';
import { searchTermsOf } from '../../src/core/filter/terms.js';
import { MISMATCH_REASONS, type MismatchReason } from '../../src/core/formats.js';
import type { SampleBounds, SampleCandidate, SampleGroup } from '../../src/core/sample/index.js';
import { hashTextExtended } from '../../src/core/sample/pg-hash.js';
import type {
  Cursor,
  IngestOutcome,
  Page,
  PageRequest,
  ReplayDetail,
  ReplayFilter,
  ReplayIn,
  ReplayRow,
  ReplayStore,
  RetagResult,
  RollupScope,
  ScanIn,
  ScanSummary,
  TagEvent,
  TagEventIn,
  TagMerge,
  TagUndoIn,
} from '../../src/core/ports.js';
import { conflictOf } from '../sqlite/merge.js';
import { TAG_EVENT_COLS, humanTagDelta, retagBatchId, standingEventOf } from '../sqlite/retag.js';
import { type Deltas, newDeltas, scopeOf } from '../sqlite/rollup.js';
import { DETAIL_COLS, ROW_COLS } from '../sqlite/rows.js';
import { PG_SQL, filterSql as sharedFilterSql } from '../filter-sql.js';
import { type Decode, type StoredDetail, type StoredRow, detailOf, factsOf, rowOf } from '../row-map.js';
import { connectChecked, openPool, redactUrl } from './connect.js';
import { migrate } from './migrate.js';

type Q = pg.PoolClient | pg.Pool;

/** pg_advisory_xact_lock key for the audit trail (retag/undo), as for the migrator's lock. */
const TAG_LOCK_KEY = createHash('sha256').update('stella-replay tag events').digest().readBigInt64BE(0).toString();

/** Booleans as booleans, JSON columns parsed (node-postgres), plus the derived sort columns and the mode. */
type PgRow = StoredRow<boolean, unknown> & { failing: boolean; tag_key: string; mode: string };
type PgDetail = PgRow & StoredDetail<boolean, unknown>;

const PG: Decode<boolean, unknown> = { bool: (v) => v, json: (v) => v };
const toRow = (r: PgRow): ReplayRow => rowOf(r, PG);
const toDetail = (r: PgDetail): ReplayDetail => detailOf(r, PG);

/** The port's facet row with `failing` as 0/1, as the shared delta classes expect. */
const facetsOf = (r: PgRow) => ({ ...r, failing: r.failing ? 1 : 0 });

const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** The one ReplayFilter as PostgreSQL SQL (`$n` placeholders from $1). */
const filterSql = (f: ReplayFilter): { where: string; params: unknown[] } => sharedFilterSql(f, PG_SQL);

/** Cursor values as PostgreSQL compares them: the `failing` key column is boolean here. */
function keyValue(col: string, v: unknown): unknown {
  return col === 'failing' ? v === true || v === 1 : v;
}

async function tx<T>(pool: pg.Pool, url: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await connectChecked(pool, url);
  try {
    await c.query('BEGIN');
    try {
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK');
      throw e;
    }
  } finally {
    c.release();
  }
}

async function flush(c: Q, delta: Deltas): Promise<void> {
  for (const { scope, day, dim, bucket, c: k } of delta.rollup.values()) {
    if (k.total === 0 && k.n === 0 && k.dur_n === 0 && k.dur_sum_ms === 0) continue;
    await c.query(
      `INSERT INTO fidelity_daily (day, dim, bucket, total, n, bf, sf, pf, errors, dur_sum_ms, dur_n, scope) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
       ON CONFLICT (scope, dim, day, bucket) DO UPDATE SET total = fidelity_daily.total + excluded.total, n = fidelity_daily.n + excluded.n,
         bf = fidelity_daily.bf + excluded.bf, sf = fidelity_daily.sf + excluded.sf, pf = fidelity_daily.pf + excluded.pf,
         errors = fidelity_daily.errors + excluded.errors, dur_sum_ms = fidelity_daily.dur_sum_ms + excluded.dur_sum_ms,
         dur_n = fidelity_daily.dur_n + excluded.dur_n`,
      [day, dim, bucket, k.total, k.n, k.bf, k.sf, k.pf, k.errors, k.dur_sum_ms, k.dur_n, scope],
    );
    if (k.total < 0) await c.query('DELETE FROM fidelity_daily WHERE scope = $4 AND dim = $1 AND day = $2 AND bucket = $3 AND total = 0', [dim, day, bucket, scope]);
  }
  for (const { key, n } of delta.counts.values()) {
    if (n === 0) continue;
    const [failing, ...rest] = key;
    const params = [failing === 1, ...rest];
    await c.query(
      `INSERT INTO replay_counts (failing, tag_key, scanner_version, ecosystem, project, policy_set, n) VALUES ($1,$2,$3,$4,$5,$6,$7)
       ON CONFLICT (tag_key, failing, scanner_version, ecosystem, project, policy_set) DO UPDATE SET n = replay_counts.n + excluded.n`,
      [...params, n],
    );
    if (n < 0) {
      await c.query(
        `DELETE FROM replay_counts WHERE failing = $1 AND tag_key = $2 AND scanner_version = $3 AND ecosystem = $4 AND project = $5
         AND policy_set = $6 AND n <= 0`,
        params,
      );
    }
  }
}

async function ingestScan(c: Q, s: ScanIn): Promise<IngestOutcome> {
  const old = (
    await c.query<{ manifest_sha256: string; feed_digest: string; record_dir: string | null }>(
      'SELECT manifest_sha256, feed_digest, record_dir FROM scan_manifests WHERE scan_id = $1',
      [s.scan_id],
    )
  ).rows[0];
  if (old && old.manifest_sha256 === s.manifest_sha256 && old.record_dir === s.record_dir) return 'unchanged';
  if (old) {
    await c.query('DELETE FROM scan_artifacts WHERE scan_id = $1', [s.scan_id]);
    await c.query('DELETE FROM scan_manifests WHERE scan_id = $1', [s.scan_id]);
    await c.query('UPDATE feed_snapshots SET scans = scans - 1 WHERE digest = $1', [old.feed_digest]);
    await c.query('DELETE FROM feed_snapshots WHERE digest = $1 AND scans <= 0', [old.feed_digest]);
  }
  await c.query(
    `INSERT INTO scan_manifests (scan_id, created_at, manifest_sha256, scanner_version, ecosystem, base_os, project, regulated,
       policy_set, feed_digest, policy_digest, record_dir, manifest_json) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
    [
      s.scan_id, s.created_at, s.manifest_sha256, s.scanner_version, s.ecosystem, s.base_os, s.project, s.regulated,
      s.policy_set, s.feed_digest, s.policy_digest, s.record_dir, JSON.stringify(s.manifest),
    ],
  );
  for (const a of s.artifacts) {
    await c.query('INSERT INTO scan_artifacts (scan_id, name, path, canonical_sha256, raw_sha256, schema, bytes) VALUES ($1,$2,$3,$4,$5,$6,$7)', [
      s.scan_id, a.name, a.path, a.canonical_sha256, a.raw_sha256, a.schema, a.bytes,
    ]);
  }
  // min() over text: the same code-unit order SQLite's min() uses (COLLATE "C").
  await c.query(
    `INSERT INTO feed_snapshots (digest, first_seen, scans) VALUES ($1, $2, 1)
     ON CONFLICT (digest) DO UPDATE SET scans = feed_snapshots.scans + 1, first_seen = least(feed_snapshots.first_seen, excluded.first_seen)`,
    [s.feed_digest, s.created_at],
  );
  return old ? 'updated' : 'inserted';
}

async function ingestReplay(c: Q, r: ReplayIn, delta: Deltas): Promise<IngestOutcome> {
  const old = (await c.query<PgRow & { record_sha256: string }>(`SELECT ${ROW_COLS}, record_sha256 FROM replay_runs WHERE replay_id = $1`, [r.replay_id])).rows[0];
  if (old && old.record_sha256 === r.record_sha256 && old.record_dir === r.record_dir) return 'unchanged';
  // A re-written record keeps its human tag: people's triage outlives re-indexing.
  const human = old ? old.human_tag : null;
  const tag = human ?? r.auto_reason;
  if (old) {
    delta.rollup.add(cellsOf(factsOf(old, old.tag)), -1, scopeOf(old.mode));
    delta.counts.add(facetsOf(old), -1);
    await c.query('DELETE FROM replay_runs WHERE replay_id = $1', [r.replay_id]);
  }
  const failing = failingOf(r.status);
  const tag_key = tagKeyOf(tag);
  await c.query(
    `INSERT INTO replay_runs (replay_id, original_scan_id, record_sha256, status, failing, bf_match, sf_match, pf_match, auto_reason,
       human_tag, tag, tag_key, subtags_json, started_at, finished_at, day, duration_ms, scanner_version, ecosystem, policy_set, base_os,
       project, feed_digest, regulated, executor_kind, record_dir, manifest_sha256, classifier_version, error, diff_summary_json,
       manifest_json, executor_json, warnings_json, mode)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31,$32,$33,$34)`,
    [
      r.replay_id, r.original_scan_id, r.record_sha256, r.status, failing === 1, r.bf_match, r.sf_match, r.pf_match, r.auto_reason,
      human, tag, tag_key, JSON.stringify(r.subtags), r.started_at, r.finished_at, r.finished_at.slice(0, 10), r.duration_ms,
      r.scanner_version, r.ecosystem, r.policy_set, r.base_os, r.project, r.feed_digest, r.regulated, r.executor_kind, r.record_dir,
      r.manifest_sha256, r.classifier_version, r.error, json(r.diff_summary), json(r.manifest), json(r.executor), JSON.stringify(r.warnings), r.mode ?? 'pinned',
    ],
  );
  // Searchable terms with the row (the old row's went with its DELETE, ON DELETE CASCADE).
  const terms = r.diff_summary === null || r.diff_summary === undefined ? [] : [...searchTermsOf(r.diff_summary)];
  if (terms.length) await c.query('INSERT INTO replay_terms (term, replay_id) SELECT DISTINCT unnest($1::text[]), $2 ON CONFLICT DO NOTHING', [terms, r.replay_id]);
  delta.rollup.add(cellsOf(factsOf(r, tag)), 1, scopeOf(r.mode));
  delta.counts.add({ ...r, failing, tag_key }, 1);
  return old ? 'updated' : 'inserted';
}

function setHumanTag(row: PgRow, human: MismatchReason | null, delta: Deltas): { eff: MismatchReason | null; tag_key: string } {
  return humanTagDelta(facetsOf(row) as never, human, delta);
}

export interface PgStore extends ReplayStore {
  /** The URL it was opened with, password redacted (for messages). */
  readonly dbPath: string;
  /** The pool, for the team-store use cases (queue, sync, bench); nothing outside store/ issues SQL. */
  readonly pool: pg.Pool;
}

/** Open the team store at `url` and bring its schema up to date (readers migrate too, as with SQLite). */
export async function openPgStore(url: string, opts: { readonly?: boolean; max?: number } = {}): Promise<PgStore> {
  const pool = openPool(url, { max: opts.max });
  try {
    (await connectChecked(pool, url)).release();
    await migrate(pool);
  } catch (e) {
    await pool.end();
    throw e;
  }
  return new Store(pool, url, opts.readonly === true);
}

class Store implements PgStore {
  readonly dbPath: string;
  constructor(
    readonly pool: pg.Pool,
    private readonly url: string,
    private readonly readonly: boolean,
  ) {
    this.dbPath = redactUrl(url);
  }

  private writable(): void {
    if (this.readonly) throw new StellaError('IO', `the store at ${this.dbPath} was opened readonly`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async integrityCheck(): Promise<string> {
    // PostgreSQL keeps its own consistency; what the store can check is that the rollups match the rows.
    const r = await this.pool.query<{ bad: number }>(
      `SELECT (SELECT coalesce(sum(total), 0) FROM fidelity_daily WHERE dim = 'all') - (SELECT count(*) FROM replay_runs) AS bad`,
    );
    return r.rows[0].bad === 0 ? 'ok' : `fidelity_daily disagrees with replay_runs by ${r.rows[0].bad} rows`;
  }

  async ingest(batch: { scans: ScanIn[]; replays: ReplayIn[] }): Promise<{ scans: IngestOutcome[]; replays: IngestOutcome[] }> {
    this.writable();
    return tx(this.pool, this.url, async (c) => {
      const delta = newDeltas();
      const scans: IngestOutcome[] = [];
      for (const s of batch.scans) scans.push(await ingestScan(c, s));
      const replays: IngestOutcome[] = [];
      for (const r of batch.replays) replays.push(await ingestReplay(c, r, delta));
      await flush(c, delta);
      return { scans, replays };
    });
  }

  async rollup(range: DayRange | null, dims?: readonly RollupDim[], scope: RollupScope = {}): Promise<BucketCounts[]> {
    const params: unknown[] = [];
    // Production figures count pinned replays only; --include-what-if counts every mode.
    const where: string[] = scope.includeWhatIf ? [] : ["scope = 'pinned'"];
    if (dims) {
      params.push([...dims]);
      where.push(`dim = ANY($${params.length}::text[])`);
    }
    if (range) {
      params.push(range.from, range.to);
      where.push(`day BETWEEN $${params.length - 1} AND $${params.length}`);
    }
    const sql = `SELECT dim, bucket, sum(total)::int8 AS total, sum(n)::int8 AS n, sum(bf)::int8 AS bf, sum(sf)::int8 AS sf, sum(pf)::int8 AS pf,
        sum(errors)::int8 AS errors, sum(dur_sum_ms)::int8 AS dur_sum_ms, sum(dur_n)::int8 AS dur_n FROM fidelity_daily
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY dim, bucket ORDER BY dim, bucket`;
    return (await this.pool.query<BucketCounts>(sql, params)).rows;
  }

  async rollupCells(range: DayRange, dim: RollupDim, scope: RollupScope = {}): Promise<RollupCell[]> {
    return (
      await this.pool.query<RollupCell>(
        `SELECT day, dim, bucket, sum(total)::int8 AS total, sum(n)::int8 AS n, sum(bf)::int8 AS bf, sum(sf)::int8 AS sf, sum(pf)::int8 AS pf,
           sum(errors)::int8 AS errors, sum(dur_sum_ms)::int8 AS dur_sum_ms, sum(dur_n)::int8 AS dur_n FROM fidelity_daily
          WHERE ${scope.includeWhatIf ? '' : "scope = 'pinned' AND "}dim = $1 AND day BETWEEN $2 AND $3 GROUP BY day, dim, bucket ORDER BY day, bucket`,
        [dim, range.from, range.to],
      )
    ).rows;
  }

  async countReplays(filter: ReplayFilter): Promise<{ total: number; failing: number }> {
    const { where, params } = filterSql(filter);
    const sql = filter.text?.trim()
      ? `SELECT count(*) AS total, count(*) FILTER (WHERE failing) AS failing FROM replay_runs WHERE ${where}`
      : `SELECT coalesce(sum(n), 0)::int8 AS total, coalesce(sum(n) FILTER (WHERE failing), 0)::int8 AS failing FROM replay_counts WHERE ${where}`;
    const r = (await this.pool.query<{ total: number; failing: number }>(sql, params)).rows[0];
    return { total: r.total, failing: r.failing };
  }

  async idsMatching(filter: ReplayFilter): Promise<string[]> {
    const { where, params } = filterSql(filter);
    return (await this.pool.query<{ replay_id: string }>(`SELECT replay_id FROM replay_runs WHERE ${where} ORDER BY replay_id`, params)).rows.map(
      (r) => r.replay_id,
    );
  }

  async pageReplays(req: PageRequest): Promise<Page> {
    const limit = Math.max(1, Math.floor(req.limit));
    const sort = SORTS[req.sort];
    if (!sort) throw new StellaError('USAGE', `unknown sort '${String(req.sort)}'`);
    const { where, params } = filterSql(req.filter);
    const pinned = req.filter.failingOnly && sort.cols[0] === 'failing' ? 1 : 0;
    const keyCols: string[] = [...sort.cols.slice(pinned), 'replay_id'];
    const fwdOp = sort.desc ? '<' : '>';
    const backOp = sort.desc ? '>' : '<';
    const order = (reverse: boolean) => [...sort.cols, 'replay_id'].map((c) => `${c} ${sort.desc !== reverse ? 'DESC' : 'ASC'}`).join(', ');
    const run = async (cmp: string | null, reverse: boolean, key: unknown[] | null, lim: number): Promise<PgRow[]> => {
      const ps = [...params];
      let keyset = '';
      if (cmp && key) {
        const marks = key.map((v, i) => {
          ps.push(keyValue(keyCols[i], v));
          return `$${ps.length}`;
        });
        keyset = ` AND (${keyCols.join(', ')}) ${cmp} (${marks.join(', ')})`;
      }
      ps.push(lim);
      const sql = `SELECT ${ROW_COLS} FROM replay_runs WHERE ${where}${keyset} ORDER BY ${order(reverse)} LIMIT $${ps.length}`;
      return (await this.pool.query<PgRow>(sql, ps)).rows;
    };
    const keyOf = (c: Cursor) => [...c.key.slice(pinned), c.id];
    let raw: PgRow[];
    if (req.before) raw = (await run(backOp, true, keyOf(req.before), limit)).reverse();
    else if (req.after) raw = await run(fwdOp, false, keyOf(req.after), limit);
    else if (req.fromEnd) raw = (await run(null, true, null, limit)).reverse();
    else raw = await run(null, false, null, limit);
    if (raw.length === 0) {
      const edge = (req.before ?? req.after) as Cursor;
      const moreBefore = req.after ? (await run(backOp, true, keyOf(edge), 1)).length > 0 : false;
      const moreAfter = req.before ? (await run(fwdOp, false, keyOf(edge), 1)).length > 0 : false;
      return { rows: [], hasMoreAfter: moreAfter, hasMoreBefore: moreBefore };
    }
    const cursorOf = (r: PgRow) => keyCols.map((c) => (r as unknown as Record<string, unknown>)[c]);
    const from = req.before ? 'before' : req.after ? 'after' : req.fromEnd ? 'end' : 'start';
    const short = raw.length < limit;
    const endReached = from === 'end' || ((from === 'after' || from === 'start') && short);
    const startReached = from === 'start' || ((from === 'before' || from === 'end') && short);
    const hasMoreAfter = !endReached && (await run(fwdOp, false, cursorOf(raw[raw.length - 1]), 1)).length > 0;
    const hasMoreBefore = !startReached && (await run(backOp, true, cursorOf(raw[0]), 1)).length > 0;
    return { rows: raw.map(toRow), hasMoreAfter, hasMoreBefore };
  }

  async getReplay(id: string): Promise<ReplayDetail | null> {
    const r = (await this.pool.query<PgDetail>(`SELECT ${DETAIL_COLS} FROM replay_runs WHERE replay_id = $1`, [id])).rows[0];
    return r ? toDetail(r) : null;
  }

  async getScan(scanId: string): Promise<ScanSummary | null> {
    const r = (
      await this.pool.query<{ scan_id: string; record_dir: string | null; manifest_json: unknown }>(
        'SELECT scan_id, record_dir, manifest_json FROM scan_manifests WHERE scan_id = $1',
        [scanId],
      )
    ).rows[0];
    return r ? { scan_id: r.scan_id, record_dir: r.record_dir, manifest: r.manifest_json } : null;
  }

  async retag(ids: string[], tag: MismatchReason, opts: { who: string; at: string; note?: string }): Promise<RetagResult> {
    if (!MISMATCH_REASONS.includes(tag)) {
      throw new StellaError('USAGE', `unknown cause tag '${String(tag)}': expected one of ${MISMATCH_REASONS.join('|')}`);
    }
    this.writable();
    const unique = [...new Set(ids)].sort();
    return tx(this.pool, this.url, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [TAG_LOCK_KEY]);
      const seq = Number((await c.query<{ m: number }>('SELECT coalesce(max(event_id), 0) AS m FROM tag_events')).rows[0].m) + 1;
      const batch_id = retagBatchId(seq, unique, tag, opts);
      const delta = newDeltas();
      let changed = 0;
      let skipped_passing = 0;
      for (const id of unique) {
        const row = (await c.query<PgRow>(`SELECT ${ROW_COLS} FROM replay_runs WHERE replay_id = $1 FOR UPDATE`, [id])).rows[0];
        if (!row) throw new StellaError('NOT_FOUND', `no replay '${id}' in the index`, { file: this.dbPath });
        // A cause tag explains a mismatch: passing replays are left untouched (as in store/sqlite/retag.ts).
        if (row.status === 'passed') {
          skipped_passing++;
          continue;
        }
        if (row.human_tag === tag) continue;
        const { eff, tag_key } = setHumanTag(row, tag, delta);
        await c.query('UPDATE replay_runs SET human_tag = $1, tag = $2, tag_key = $3 WHERE replay_id = $4', [tag, eff, tag_key, id]);
        await c.query('INSERT INTO tag_events (batch_id, replay_id, old_tag, new_tag, old_human, who, at, note) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)', [
          batch_id, id, row.tag, tag, row.human_tag, opts.who, opts.at, opts.note ?? null,
        ]);
        changed++;
      }
      await flush(c, delta);
      return { batch_id, changed, skipped_passing };
    });
  }

  async undoLastRetag(opts: { who: string; at: string }): Promise<{ batch_id: string; restored: number } | null> {
    this.writable();
    return tx(this.pool, this.url, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [TAG_LOCK_KEY]);
      const batch = (await c.query<{ batch_id: string }>('SELECT batch_id FROM tag_events WHERE NOT undone ORDER BY event_id DESC LIMIT 1')).rows[0]?.batch_id;
      if (batch === undefined) return null;
      const events = (
        await c.query<{ event_id: number; replay_id: string; old_human: MismatchReason | null }>(
          'SELECT event_id, replay_id, old_human FROM tag_events WHERE batch_id = $1 AND NOT undone ORDER BY event_id DESC',
          [batch],
        )
      ).rows;
      const delta = newDeltas();
      for (const e of events) {
        const row = (await c.query<PgRow>(`SELECT ${ROW_COLS} FROM replay_runs WHERE replay_id = $1 FOR UPDATE`, [e.replay_id])).rows[0];
        const { eff, tag_key } = setHumanTag(row, e.old_human, delta);
        await c.query('UPDATE replay_runs SET human_tag = $1, tag = $2, tag_key = $3 WHERE replay_id = $4', [e.old_human, eff, tag_key, e.replay_id]);
        // The row as setHumanTag saw it must move on for the next event of the same replay.
        row.human_tag = e.old_human;
        row.tag = eff;
        await c.query('UPDATE tag_events SET undone = true, undone_by = $1, undone_at = $2 WHERE event_id = $3', [opts.who, opts.at, e.event_id]);
      }
      await flush(c, delta);
      return { batch_id: batch, restored: events.length };
    });
  }

  async mergeTagEvents(events: readonly TagEventIn[]): Promise<TagMerge> {
    this.writable();
    return tx(this.pool, this.url, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [TAG_LOCK_KEY]);
      const delta = newDeltas();
      const out: TagMerge = { merged: 0, duplicates: 0, unknown: [], conflicts: [] };
      for (const e of events) {
        if ((await c.query('SELECT 1 FROM tag_events WHERE batch_id = $1 AND replay_id = $2', [e.batch_id, e.replay_id])).rowCount) {
          out.duplicates++;
          continue;
        }
        const row = (await c.query<PgRow>(`SELECT ${ROW_COLS} FROM replay_runs WHERE replay_id = $1 FOR UPDATE`, [e.replay_id])).rows[0];
        if (!row) {
          out.unknown.push(e.replay_id);
          continue;
        }
        const latest = (
          await c.query<{ batch_id: string; new_tag: MismatchReason | null; who: string; at: string }>(
            'SELECT batch_id, new_tag, who, at FROM tag_events WHERE replay_id = $1 AND NOT undone ORDER BY at DESC, batch_id DESC LIMIT 1',
            [e.replay_id],
          )
        ).rows[0];
        const wins = !latest || e.at > latest.at || (e.at === latest.at && e.batch_id > latest.batch_id);
        await c.query('INSERT INTO tag_events (batch_id, replay_id, old_tag, new_tag, old_human, who, at, note) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)', [
          e.batch_id, e.replay_id, row.tag, e.new_tag, row.human_tag, e.who, e.at, e.note,
        ]);
        if (wins && row.human_tag !== e.new_tag) {
          const { eff, tag_key } = setHumanTag(row, e.new_tag, delta);
          await c.query('UPDATE replay_runs SET human_tag = $1, tag = $2, tag_key = $3 WHERE replay_id = $4', [e.new_tag, eff, tag_key, e.replay_id]);
        }
        if (latest && latest.who !== e.who) out.conflicts.push(conflictOf(e, latest, wins));
        out.merged++;
      }
      await flush(c, delta);
      return out;
    });
  }

  async mergeTagUndos(undos: readonly TagUndoIn[]): Promise<{ undone: number }> {
    this.writable();
    // The first undo of an event counts (as SQLite's statement by statement); the events still standing
    // are found in one statement, so a sync re-sending undos this store already holds costs one query.
    const first = new Map<string, TagUndoIn>();
    for (const u of undos) {
      const k = JSON.stringify([u.batch_id, u.replay_id]);
      if (!first.has(k)) first.set(k, u);
    }
    const list = [...first.values()];
    return tx(this.pool, this.url, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [TAG_LOCK_KEY]);
      const hits = (
        await c.query<{ event_id: number; replay_id: string; who: string; at: string }>(
          `SELECT t.event_id, t.replay_id, u.who, u.at FROM tag_events t
             JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(b, r, who, at) ON t.batch_id = u.b COLLATE "C" AND t.replay_id = u.r COLLATE "C"
           WHERE NOT t.undone ORDER BY t.event_id`,
          [list.map((u) => u.batch_id), list.map((u) => u.replay_id), list.map((u) => u.who), list.map((u) => u.at)],
        )
      ).rows;
      const delta = newDeltas();
      for (const h of hits) {
        // Read as the undo leaves it: an earlier undo of this batch may have moved its restore point.
        const ev = (
          await c.query<{ new_tag: MismatchReason | null; old_human: MismatchReason | null }>(
            'UPDATE tag_events SET undone = true, undone_by = $1, undone_at = $2 WHERE event_id = $3 RETURNING new_tag, old_human',
            [h.who, h.at, h.event_id],
          )
        ).rows[0];
        // The next event standing took its restore point from this one (store/sqlite/merge.ts NEXT_STANDING).
        const next = (
          await c.query<{ event_id: number; old_human: MismatchReason | null }>(
            'SELECT event_id, old_human FROM tag_events WHERE replay_id = $1 AND event_id > $2 AND NOT undone ORDER BY event_id LIMIT 1',
            [h.replay_id, h.event_id],
          )
        ).rows[0];
        if (next && next.old_human === ev.new_tag) await c.query('UPDATE tag_events SET old_human = $1 WHERE event_id = $2', [ev.old_human, next.event_id]);
        const row = (await c.query<PgRow>(`SELECT ${ROW_COLS} FROM replay_runs WHERE replay_id = $1 FOR UPDATE`, [h.replay_id])).rows[0];
        if (!row) continue;
        const human =
          (
            await c.query<{ new_tag: MismatchReason | null }>(
              'SELECT new_tag FROM tag_events WHERE replay_id = $1 AND NOT undone ORDER BY at DESC, batch_id DESC LIMIT 1',
              [h.replay_id],
            )
          ).rows[0]?.new_tag ?? null;
        if (row.human_tag !== human) {
          const { eff, tag_key } = setHumanTag(row, human, delta);
          await c.query('UPDATE replay_runs SET human_tag = $1, tag = $2, tag_key = $3 WHERE replay_id = $4', [human, eff, tag_key, h.replay_id]);
        }
      }
      await flush(c, delta);
      return { undone: hits.length };
    });
  }

  async sampleCandidates(createdFrom: string, alsoIds: readonly string[] = []): Promise<SampleCandidate[]> {
    // Newest replay per scan from the (original_scan_id, finished_at) index: one backward index probe each.
    return (
      await this.pool.query<SampleCandidate>(
        `SELECT s.scan_id, s.created_at, s.ecosystem, s.base_os, s.regulated, s.scanner_version AS scanner,
           (SELECT max(r.finished_at) FROM replay_runs r WHERE r.original_scan_id = s.scan_id) AS last_replayed_at
         FROM scan_manifests s WHERE s.created_at >= $1 OR s.scan_id = ANY($2::text[]) ORDER BY s.scan_id`,
        [createdFrom, [...new Set(alsoIds)]],
      )
    ).rows;
  }

  /**
   * The sampler's scans placed by `SampleBounds` (src/core/sample; store/sqlite/sample.ts is the same
   * query without a cut): per label group the surely fresh and surely recent ids, space-separated (an
   * id with a space goes to the candidates instead), the rest as candidates in JSON. Under a cut
   * (`SampleCut`) a group sends its count and only the ids whose rank falls below a bound its count
   * sets (rungs, below), so a few thousand ids cross the wire instead of every scan of the window; a
   * server whose hashtextextended differs from the core's (another byte order) gets no cut.
   * The window's scans come from index-only scans of two covering indexes (migration 005) that split
   * them by whether created_at is shaped (so that test is the index's, not computed per scan here), the
   * newest replay from one hash join over the replays since `replayedFrom`. A day bound is one
   * plain text comparison: for a shaped time, day > D <=> time > D || '~' and day < D <=> time < D.
   * Texts compare in "C" order, as SQLite and the sampler compare them. JIT is off for it: compiling
   * this one-off query cost more than running it.
   */
  async sampleGroups(b: SampleBounds, alsoIds: readonly string[] = []): Promise<{ groups: SampleGroup[]; candidates: SampleCandidate[] }> {
    // Shaped (see SampleBounds) without a regex: the pattern places T and Z, translate() checks the digits.
    const shaped = (x: string) => `(${x} LIKE '____-__-__T%Z' AND length(${x}) >= 20 AND translate(left(${x}, 10), '0123456789', '') = '--')`;
    // Exact (see SampleBounds): 20 or 24 characters, digits where the pattern has none, in range.
    const exact = (x: string) =>
      `(length(${x}) IN (20, 24) AND ${x} LIKE '____-__-__T__:__:__%Z' AND (length(${x}) = 20 OR substr(${x}, 20, 1) = '.')
        AND translate(${x}, '0123456789', '') IN ('--T::Z', '--T::.Z') AND substr(${x}, 12, 2) <= '23' AND substr(${x}, 15, 2) <= '59'
        AND substr(${x}, 18, 2) <= '59')`;
    // An exact time against an instant: 24 characters as text, 20 by the first 19 (see SampleBounds).
    const sec = (iso: string) => iso.slice(0, 19);
    const ceilSec = (iso: string) => new Date(Math.ceil(Date.parse(iso) / 1000) * 1000).toISOString().slice(0, 19);
    const labels = 'ecosystem, base_os, regulated, scanner';
    const cols = 'scan_id, created_at, ecosystem, base_os, regulated, scanner_version';
    type Row = { ecosystem: string; base_os: string; regulated: boolean; scanner: string; k: 'f' | 'r' | 'o'; n: number | null; below: number | null; ids: string | null; others: Array<[string, string, string | null]> | null };
    const cut = b.cut && (await this.hashAgrees(b.cut.seed)) ? b.cut : undefined;
    // Under a cut each scan falls in one rung by rank: rung j < 11 holds the ranks below 2^(41+j) not in
    // a lower rung, rung 11 the rest. As int8 hashes (rank = (hash + 2^63) >> 12), rank < 2^(41+j) <=>
    // hash <= 2^(53+j) - 2^63 - 1. A group sends its rungs up to the first whose top reaches its cut
    // (at most twice the ids the cut asks for) and says that top as its bound.
    const top = (j: number) => (2n ** BigInt(53 + j) - 2n ** 63n - 1n).toString();
    const rung = cut ? `CASE ${Array.from({ length: 11 }, (_, i) => `WHEN h > ${top(10 - i)} THEN ${11 - i}`).join(' ')} ELSE 0 END` : '0';
    const pick = cut
      ? `, tot AS (SELECT ${labels}, k, sum(n)::int8 AS n FROM agg WHERE k <> 'o' GROUP BY ${labels}, k),
         need AS (
           -- the first rung whose top 2^(41+j) reaches the cut's share of 2^52: j = ceil(11 + log2 share)
           SELECT tot.*, least(11, greatest(0, ceil(11 + ln(greatest(least(1, $15::float8 / p.p + $16::float8 / tot.n), 1e-300)) / ln(2))))::int AS j
           FROM tot, (SELECT sum(n) AS p FROM tot) p
         )
         SELECT ${labels}, k, need.n, 1::int8 << (41 + need.j) AS below, string_agg(agg.ids, ' ') FILTER (WHERE agg.rung <= need.j) AS ids, NULL::json AS others
         FROM need JOIN agg USING (${labels}, k) GROUP BY ${labels}, k, need.n, need.j
         UNION ALL SELECT ${labels}, k, NULL, NULL, NULL, others FROM agg WHERE k = 'o'`
      : `SELECT ${labels}, k, NULL::int8 AS n, NULL::int8 AS below, ids, others FROM agg`;
    const rows = await tx(this.pool, this.url, async (c) => {
      await c.query("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL enable_sort = off");
      return (
        await c.query<Row>(
          `WITH lr AS (
             SELECT original_scan_id AS scan_id, max(finished_at COLLATE "C") AS lr FROM replay_runs WHERE finished_at >= $5 GROUP BY original_scan_id
           ), agg AS (
             SELECT ${labels}, k, rung, count(*) AS n, string_agg(scan_id, ' ') FILTER (WHERE k <> 'o') AS ids,
               json_agg(json_build_array(scan_id, created_at, lr)) FILTER (WHERE k = 'o') AS others
             FROM (
               -- OFFSET 0 keeps the class and the hash computed once per scan (not once per use).
               SELECT scan_id, created_at, ${labels}, lr, k, CASE WHEN k = 'o' THEN 0 ELSE ${rung} END AS rung FROM (
                 SELECT s.scan_id, s.created_at, s.ecosystem, s.base_os, s.regulated, s.scanner_version AS scanner, lr.lr,
                   ${cut ? 'hashtextextended(s.scan_id, $14)' : 'NULL::int8'} AS h, CASE
                   WHEN s.scan_id = ANY($6::text[]) OR strpos(s.scan_id, ' ') > 0 THEN 'o'
                   WHEN NOT ((s.shaped AND s.created_at > $2 AND s.created_at < $3) OR (${exact('s.created_at')}
                     AND CASE WHEN length(s.created_at) = 20 THEN s.created_at > $8 AND s.created_at < $9 ELSE s.created_at > $10 AND s.created_at <= $11 END))
                     THEN CASE WHEN ${exact('s.created_at')} THEN 'x' ELSE 'o' END
                   WHEN lr.lr IS NULL THEN 'f'
                   WHEN ${shaped('lr.lr')} AND lr.lr < $4 THEN 'f'
                   WHEN ${shaped('lr.lr')} AND lr.lr > $7 THEN 'r'
                   WHEN ${exact('lr.lr')} THEN CASE WHEN lr.lr >= CASE WHEN length(lr.lr) = 20 THEN $12 ELSE $13 END THEN 'r' ELSE 'f' END
                   ELSE 'o' END AS k
                 FROM (
                   SELECT ${cols}, true AS shaped FROM scan_manifests WHERE created_at >= $1 AND ${shaped('created_at')}
                   UNION ALL
                   SELECT ${cols}, false FROM scan_manifests WHERE created_at >= $1 AND NOT ${shaped('created_at')}
                   UNION ALL
                   SELECT ${cols}, ${shaped('created_at')} FROM scan_manifests WHERE scan_id = ANY($6::text[]) AND created_at < $1
                 ) s LEFT JOIN lr ON lr.scan_id = s.scan_id
                 OFFSET 0
               ) x
             ) y WHERE k <> 'x' GROUP BY ${labels}, k, rung
           )
           ${pick}`,
          [b.createdFrom, `${b.insideAfter}~`, b.insideBefore, b.recentDay, b.replayedFrom, [...new Set(alsoIds)], `${b.recentDay}~`,
            `${sec(b.from)}~`, `${sec(b.to)}~`, b.from, b.to, ceilSec(b.recentFrom), b.recentFrom, ...(cut ? [cut.seed, cut.take, cut.spare] : [])],
        )
      ).rows;
    });
    const groups: SampleGroup[] = [];
    const candidates: SampleCandidate[] = [];
    for (const { k, n, below, ids, others, ...labelled } of rows) {
      if (k === 'o') {
        for (const [scan_id, created_at, last_replayed_at] of others ?? []) candidates.push({ scan_id, created_at, ...labelled, last_replayed_at });
        continue;
      }
      const list = ids === null ? [] : ids.split(' ');
      const counted = n === null || below === null ? {} : k === 'f' ? { freshCount: n, freshBelow: below } : { recentCount: n, recentBelow: below };
      groups.push({ ...labelled, fresh: k === 'f' ? list : [], recent: k === 'r' ? list : [], ...counted });
    }
    return { groups, candidates };
  }

  /** Whether this server's hashtextextended is the core's (src/core/sample/pg-hash.ts) on a UTF-8 probe. */
  private async hashAgrees(seed: number): Promise<boolean> {
    const probe = 'stella-sample-é-✓-0123456789';
    const [hi, lo] = hashTextExtended(probe, seed);
    const want = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
    const r = await this.pool.query<{ h: string }>('SELECT hashtextextended($1 COLLATE "C", $2)::text AS h', [probe, seed]);
    return r.rows[0].h === want;
  }

  async recordDirs(): Promise<string[]> {
    return (
      await this.pool.query<{ d: string }>(
        `SELECT record_dir AS d FROM scan_manifests WHERE record_dir IS NOT NULL UNION SELECT record_dir FROM replay_runs WHERE record_dir IS NOT NULL
         ORDER BY 1`,
      )
    ).rows.map((r) => r.d);
  }

  async referencedDigests(): Promise<string[]> {
    return (
      await this.pool.query<{ d: string }>(
        `SELECT feed_digest AS d FROM scan_manifests UNION SELECT policy_digest FROM scan_manifests UNION SELECT manifest_sha256 FROM scan_manifests
         UNION SELECT canonical_sha256 FROM scan_artifacts UNION SELECT raw_sha256 FROM scan_artifacts WHERE raw_sha256 IS NOT NULL
         UNION SELECT feed_digest FROM replay_runs UNION SELECT manifest_sha256 FROM replay_runs WHERE manifest_sha256 IS NOT NULL
         UNION SELECT (regexp_matches(manifest_json::text, 'sha256:[0-9a-f]{64}', 'g'))[1] FROM scan_manifests
         UNION SELECT (regexp_matches(coalesce(manifest_json::text, '') || coalesce(executor_json::text, '') || coalesce(diff_summary_json::text, ''),
           'sha256:[0-9a-f]{64}', 'g'))[1] FROM replay_runs ORDER BY 1`,
      )
    ).rows.map((r) => r.d);
  }

  async tagEvents(replayId?: string): Promise<TagEvent[]> {
    const rows = (
      replayId === undefined
        ? await this.pool.query<TagEvent>(`SELECT ${TAG_EVENT_COLS} FROM tag_events ORDER BY event_id`)
        : await this.pool.query<TagEvent>(`SELECT ${TAG_EVENT_COLS} FROM tag_events WHERE replay_id = $1 ORDER BY event_id`, [replayId])
    ).rows;
    return rows;
  }

  async humanTagEvent(replayId: string): Promise<TagEvent | null> {
    const r = (await this.pool.query<{ human_tag: MismatchReason | null }>('SELECT human_tag FROM replay_runs WHERE replay_id = $1', [replayId])).rows[0];
    return standingEventOf(await this.tagEvents(replayId), r?.human_tag ?? null);
  }
}
