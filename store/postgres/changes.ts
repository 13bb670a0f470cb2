// What is new in the team store since a watermark, for `stella sync`. The watermark is a 64-bit
// transaction id: a row's version carries the 32-bit id of the transaction that wrote it (`xmin`),
// widened here against the transaction's own "now". A pull covers the window [from, to) where `to` is the
// snapshot's xmin — every transaction below it has finished, so nothing committed later can land inside
// a window already pulled (an ingest or retag rewrites the row: its new version falls in a later window).
// No schema change is needed and writers pay nothing; each window is one keyset walk by primary key.
import type pg from 'pg';
import type { ScanIn, TagEventIn, TagUndoIn } from '../../src/core/ports.js';
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
async function* batches<R, T>(
  pool: pg.Pool,
  sql: string,
  after: Mark | null,
  w: Window,
  limit: number,
  map: (rows: R[]) => Promise<T[]> | T[],
  rowMode?: 'array',
): AsyncGenerator<T[]> {
  const c = await pool.connect();
  let next: Promise<{ rows: R[] }> | null = null;
  let done = false;
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const now = await now64(c);
    await c.query(`DECLARE stella_sync NO SCROLL CURSOR FOR ${sql}`, [after?.at ?? '', after?.id ?? '', now - w.to, now - w.from]);
    const text = `FETCH ${Math.floor(limit)} FROM stella_sync`;
    // The rows' shape is the statement's (R names it), as node-postgres' own row type parameter would.
    const fetch = () => (rowMode ? c.query({ text, rowMode }) : c.query(text)) as Promise<unknown> as Promise<{ rows: R[] }>;
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
 * once its artifacts are set: no per-row copy. The ORDER BY is an expression on purpose (see
 * preparedReplaysSince).
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

/**
 * The window's replays after `after`, in (finished_at, replay_id) order, in batches of `limit`: the
 * local index's list indexes all run by finished_at, so rows written in that order land beside each
 * other instead of at random places in ten B-trees. The ORDER BY is an expression on purpose, so the
 * planner scans the table once and sorts the window instead of walking a whole index in key order (one
 * random heap read per row) to find the few new ones. Each row comes as the SQLite index stores it
 * (`PreparedReplay`), for a sync into it: flags come as 0/1 and JSON columns as their text. `json` keeps
 * the bytes it was given and every writer of the team store writes `JSON.stringify` text, so the text is
 * what parsing and re-encoding would give, without a million objects built and dropped; rows arrive as
 * arrays (node-postgres builds no object per row) and become one object literal each. The tag columns
 * assume no human tag, as prepareReplay's.
 */
export function preparedReplaysSince(pool: pg.Pool, w: Window, after: Mark | null, limit: number): AsyncGenerator<PreparedReplay[]> {
  type P = PreparedReplay;
  /** The statement's columns in order. */
  type Cells = [
    P['replay_id'], P['original_scan_id'], P['record_sha256'], P['status'], P['bf_match'], P['sf_match'], P['pf_match'], P['auto_reason'],
    P['subtags_json'], P['started_at'], P['finished_at'], P['duration_ms'], P['scanner_version'], P['ecosystem'], P['policy_set'],
    P['base_os'], P['project'], P['feed_digest'], P['regulated'], P['executor_kind'], P['record_dir'], P['manifest_sha256'],
    P['classifier_version'], P['error'], P['diff_summary_json'], P['manifest_json'], P['executor_json'], P['warnings_json'], P['mode'],
  ];
  return batches<Cells, PreparedReplay>(
    pool,
    `SELECT replay_id, original_scan_id, record_sha256, status, bf_match::int, sf_match::int, pf_match::int, auto_reason, subtags_json::text,
       started_at, finished_at, duration_ms, scanner_version, ecosystem, policy_set, base_os, project, feed_digest, regulated::int,
       executor_kind, record_dir, manifest_sha256, classifier_version, error, diff_summary_json::text, manifest_json::text,
       executor_json::text, warnings_json::text, mode FROM replay_runs
     WHERE (finished_at, replay_id) > ($1, $2) AND ${WINDOW} ORDER BY finished_at || '', replay_id || ''`,
    after,
    w,
    limit,
    (rows) =>
      rows.map((r) => ({
        replay_id: r[0], original_scan_id: r[1], record_sha256: r[2], status: r[3], failing: failingOf(r[3]), bf_match: r[4],
        sf_match: r[5], pf_match: r[6], auto_reason: r[7], human_tag: null, tag: r[7], tag_key: tagKeyOf(r[7]), subtags_json: r[8],
        started_at: r[9], finished_at: r[10], day: r[10].slice(0, 10), duration_ms: r[11], scanner_version: r[12], ecosystem: r[13],
        policy_set: r[14], base_os: r[15], project: r[16], feed_digest: r[17], regulated: r[18], executor_kind: r[19], record_dir: r[20],
        manifest_sha256: r[21], classifier_version: r[22], error: r[23], diff_summary_json: r[24], manifest_json: r[25],
        executor_json: r[26], warnings_json: r[27], mode: r[28],
        terms: r[24] === null ? [] : searchTermsOf(JSON.parse(r[24])),
      })),
    'array',
  );
}

/**
 * Retag events after `afterEventId`, oldest first. Undone ones stay out (an undo is not a tag): an
 * event undone before it was pulled changes nothing anywhere; one undone after is found by its undo
 * (tagUndosIn), which rewrites the event's row into a later window.
 */
export async function tagEventsSince(pool: pg.Pool, afterEventId: number, limit: number): Promise<Array<TagEventIn & { event_id: number }>> {
  return (
    await pool.query<TagEventIn & { event_id: number }>(
      `SELECT event_id, batch_id, replay_id, new_tag, who, at, note FROM tag_events WHERE event_id > $1 AND NOT undone AND new_tag IS NOT NULL
       ORDER BY event_id LIMIT $2`,
      [afterEventId, limit],
    )
  ).rows;
}

/**
 * The window's undos: events whose row an undo rewrote inside [from, to), oldest event first. The
 * event ids say nothing here (an undo rewrites an old event), the row's version does, as for replays.
 */
export async function tagUndosIn(pool: pg.Pool, w: Window): Promise<TagUndoIn[]> {
  const c = await pool.connect();
  let done = false;
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const now = await now64(c);
    const rows = (
      await c.query<TagUndoIn>(
        `SELECT batch_id, replay_id, undone_by AS who, undone_at AS at FROM tag_events
         WHERE undone AND age(xmin) > $1::int8 AND age(xmin) <= $2::int8 ORDER BY event_id`,
        [now - w.to, now - w.from],
      )
    ).rows;
    await c.query('COMMIT');
    done = true;
    return rows;
  } finally {
    if (!done) await c.query('ROLLBACK').catch(() => {});
    c.release();
  }
}
