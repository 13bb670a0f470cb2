// What is new in the team store since a watermark, for `stella sync`. The watermark is a 64-bit
// transaction id: a row's version carries the 32-bit id of the transaction that wrote it (`xmin`),
// widened here against the transaction's own "now". A pull covers the window [from, to) where `to` is the
// snapshot's xmin — every transaction below it has finished, so nothing committed later can land inside
// a window already pulled (an ingest or retag rewrites the row: its new version falls in a later window).
// No schema change is needed and writers pay nothing; each window is one keyset walk by primary key.
import type pg from 'pg';
import type { ScanIn, TagEventIn } from '../../src/core/ports.js';
import { failingOf, tagKeyOf } from '../../src/core/filter/sort.js';
import { searchTermsOf } from '../../src/core/filter/terms.js';
import type { PreparedReplay } from '../sqlite/ingest.js';

// A row is in the window when its transaction's 64-bit id x has from <= x < to. `age(xmin)` is now - x
// for the transaction's stable "now" (the next id when it first asked, the same for every row), in
// native 32-bit arithmetic: with now known as a 64-bit id, the window is `now - to < age <= now - from`,
// two integer comparisons a row (xmin::text::bigint cost the server about 0.5 µs a row more). Exact for
// rows written within 2^31 transactions of now; the documented limit between two syncs is that. An
// older row can only seem new (pulled again, unchanged), never be missed.
const WINDOW = 'age(xmin) > $3::int8 AND age(xmin) <= $4::int8';

/** The transaction's "now" as a 64-bit id: a known id (the snapshot's xmax, or just below if not a normal id) plus its age. */
async function now64(c: pg.PoolClient): Promise<number> {
  return (
    await c.query<{ now: number }>(
      `SELECT ref + age((ref % 4294967296)::text::xid) AS now FROM (
         SELECT r - CASE WHEN r % 4294967296 < 3 THEN r % 4294967296 + 1 ELSE 0 END AS ref
         FROM (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS r) s
       ) q`,
    )
  ).rows[0].now;
}

/** The end of the next window: every transaction below it has committed or aborted. */
export async function horizon(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ x: number }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS x')).rows[0].x;
}

export interface Window {
  from: number;
  to: number;
}

/**
 * Rows of one cursor in batches of `limit`, inside one REPEATABLE READ transaction: one scan of the
 * table and one sort of the window however many batches. The next batch is asked for before this one
 * is handed over, so the server reads and sends it while the caller writes this one locally.
 */
async function* batches<R extends pg.QueryResultRow, T>(
  pool: pg.Pool,
  sql: string,
  after: Mark | null,
  w: Window,
  limit: number,
  map: (rows: R[]) => Promise<T[]> | T[],
): AsyncGenerator<T[]> {
  const c = await pool.connect();
  let next: Promise<pg.QueryResult<R>> | null = null;
  let done = false;
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const now = await now64(c);
    await c.query(`DECLARE stella_sync NO SCROLL CURSOR FOR ${sql}`, [after?.at ?? '', after?.id ?? '', now - w.to, now - w.from]);
    const fetch = () => c.query<R>(`FETCH ${Math.floor(limit)} FROM stella_sync`);
    next = fetch();
    while (next) {
      const rows: R[] = (await next).rows;
      next = rows.length === limit ? fetch() : null;
      if (rows.length > 0) yield await map(rows);
    }
    await c.query('COMMIT');
    done = true;
  } finally {
    // An error, or a caller that stopped early (a local write failed), leaves the transaction open and
    // perhaps a fetch in flight: wait for it and roll back before the connection goes back to the pool.
    if (!done) {
      await next?.catch(() => {});
      await c.query('ROLLBACK').catch(() => {});
    }
    c.release();
  }
}

/** Where a walk stopped: the sort time and the id of the last row written locally. */
export interface Mark {
  at: string;
  id: string;
}

/**
 * The window's scans after `after`, in (created_at, scan_id) order (the local created_at index is
 * written in order), with their artifacts. Columns come under the port's names, so a row is a ScanIn
 * once its artifacts are set: no per-row copy. The ORDER BY is an expression on purpose (see replaysSince).
 */
export function scansSince(pool: pg.Pool, w: Window, after: Mark | null, limit: number): AsyncGenerator<ScanIn[]> {
  return batches<ScanIn, ScanIn>(
    pool,
    `SELECT scan_id, created_at, manifest_sha256, scanner_version, ecosystem, base_os, project, regulated, policy_set, feed_digest,
       policy_digest, record_dir, manifest_json AS manifest FROM scan_manifests
     WHERE (created_at, scan_id) > ($1, $2) AND ${WINDOW} ORDER BY created_at || '', scan_id || ''`,
    after,
    w,
    limit,
    async (rows) => {
      const arts = (
        await pool.query<ScanIn['artifacts'][number] & { scan_id: string }>(
          'SELECT scan_id, name, path, canonical_sha256, raw_sha256, schema, bytes FROM scan_artifacts WHERE scan_id = ANY($1::text[]) ORDER BY scan_id, name',
          [rows.map((r) => r.scan_id)],
        )
      ).rows;
      const byScan = new Map<string, ScanIn['artifacts']>();
      for (const { scan_id, ...a } of arts) {
        const l = byScan.get(scan_id) ?? [];
        l.push(a);
        byScan.set(scan_id, l);
      }
      for (const r of rows) r.artifacts = byScan.get(r.scan_id) ?? [];
      return rows;
    },
  );
}

/** A replay row as `preparedReplaysSince` reads it: SQLite's encoding where the server can give it. */
type EncodedRow = Omit<PreparedReplay, 'failing' | 'human_tag' | 'tag' | 'tag_key' | 'day' | 'terms'>;

/**
 * The window's replays after `after`, in (finished_at, replay_id) order, in batches of `limit`: the
 * local index's list indexes all run by finished_at, so rows written in that order land beside each
 * other instead of at random places in ten B-trees. The ORDER BY is an expression on purpose, so the
 * planner scans the table once and sorts the window instead of walking a whole index in key order (one
 * random heap read per row) to find the few new ones. Each row comes as the SQLite index stores it
 * (`PreparedReplay`), for a sync into it: flags
 * come as 0/1 and JSON columns as their text. `json` keeps the bytes it was given and every writer of
 * the team store writes `JSON.stringify` text, so the text is what parsing and re-encoding would give,
 * without a million objects built and dropped. The tag columns assume no human tag, as prepareReplay's.
 */
export function preparedReplaysSince(pool: pg.Pool, w: Window, after: Mark | null, limit: number): AsyncGenerator<PreparedReplay[]> {
  return batches<EncodedRow, PreparedReplay>(
    pool,
    `SELECT replay_id, original_scan_id, record_sha256, status, bf_match::int AS bf_match, sf_match::int AS sf_match,
       pf_match::int AS pf_match, auto_reason, subtags_json::text AS subtags_json, started_at, finished_at, duration_ms, scanner_version,
       ecosystem, policy_set, base_os, project, feed_digest, regulated::int AS regulated, executor_kind, record_dir, manifest_sha256,
       classifier_version, error, diff_summary_json::text AS diff_summary_json, manifest_json::text AS manifest_json,
       executor_json::text AS executor_json, warnings_json::text AS warnings_json, mode FROM replay_runs
     WHERE (finished_at, replay_id) > ($1, $2) AND ${WINDOW} ORDER BY finished_at || '', replay_id || ''`,
    after,
    w,
    limit,
    (rows) =>
      rows.map((r) => ({
        replay_id: r.replay_id, original_scan_id: r.original_scan_id, record_sha256: r.record_sha256, status: r.status,
        failing: failingOf(r.status), bf_match: r.bf_match, sf_match: r.sf_match, pf_match: r.pf_match, auto_reason: r.auto_reason,
        human_tag: null, tag: r.auto_reason, tag_key: tagKeyOf(r.auto_reason), subtags_json: r.subtags_json, started_at: r.started_at,
        finished_at: r.finished_at, day: r.finished_at.slice(0, 10), duration_ms: r.duration_ms, scanner_version: r.scanner_version,
        ecosystem: r.ecosystem, policy_set: r.policy_set, base_os: r.base_os, project: r.project, feed_digest: r.feed_digest,
        regulated: r.regulated, executor_kind: r.executor_kind, record_dir: r.record_dir, manifest_sha256: r.manifest_sha256,
        classifier_version: r.classifier_version, error: r.error, diff_summary_json: r.diff_summary_json, manifest_json: r.manifest_json,
        executor_json: r.executor_json, warnings_json: r.warnings_json, mode: r.mode,
        terms: r.diff_summary_json === null ? [] : searchTermsOf(JSON.parse(r.diff_summary_json)),
      })),
  );
}

/** Retag events after `afterEventId`, oldest first (undone ones stay out: an undo is not a tag). */
export async function tagEventsSince(pool: pg.Pool, afterEventId: number, limit: number): Promise<Array<TagEventIn & { event_id: number }>> {
  return (
    await pool.query<TagEventIn & { event_id: number }>(
      `SELECT event_id, batch_id, replay_id, new_tag, who, at, note FROM tag_events WHERE event_id > $1 AND NOT undone AND new_tag IS NOT NULL
       ORDER BY event_id LIMIT $2`,
      [afterEventId, limit],
    )
  ).rows;
}
