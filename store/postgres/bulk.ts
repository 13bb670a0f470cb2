// Bulk load for benchmarks and first-time imports: many replays and scans per statement through
// `unnest` of column arrays, with the rollup and list counts computed in memory and written once.
// Unlike ingest it assumes the rows are new (no per-row lookup, no human tags to keep).
import type pg from 'pg';
import { cellsOf } from '../../src/core/fidelity/index.js';
import { failingOf, tagKeyOf } from '../../src/core/filter/sort.js';
import type { ReplayIn, ScanIn } from '../../src/core/ports.js';
import { newDeltas, scopeOf } from '../sqlite/rollup.js';
import { factsOf } from '../sqlite/rows.js';

const REPLAY_COLS: Array<[string, string, (r: ReplayIn) => unknown]> = [
  ['replay_id', 'text', (r) => r.replay_id],
  ['original_scan_id', 'text', (r) => r.original_scan_id],
  ['record_sha256', 'text', (r) => r.record_sha256],
  ['mode', 'text', (r) => r.mode ?? 'pinned'],
  ['status', 'text', (r) => r.status],
  ['failing', 'bool', (r) => failingOf(r.status) === 1],
  ['bf_match', 'bool', (r) => r.bf_match],
  ['sf_match', 'bool', (r) => r.sf_match],
  ['pf_match', 'bool', (r) => r.pf_match],
  ['auto_reason', 'text', (r) => r.auto_reason],
  ['tag', 'text', (r) => r.auto_reason],
  ['tag_key', 'text', (r) => tagKeyOf(r.auto_reason)],
  ['subtags_json', 'json', (r) => JSON.stringify(r.subtags)],
  ['started_at', 'text', (r) => r.started_at],
  ['finished_at', 'text', (r) => r.finished_at],
  ['day', 'text', (r) => r.finished_at.slice(0, 10)],
  ['duration_ms', 'int8', (r) => r.duration_ms],
  ['scanner_version', 'text', (r) => r.scanner_version],
  ['ecosystem', 'text', (r) => r.ecosystem],
  ['policy_set', 'text', (r) => r.policy_set],
  ['base_os', 'text', (r) => r.base_os],
  ['project', 'text', (r) => r.project],
  ['feed_digest', 'text', (r) => r.feed_digest],
  ['regulated', 'bool', (r) => r.regulated],
  ['executor_kind', 'text', (r) => r.executor_kind],
  ['record_dir', 'text', (r) => r.record_dir],
  ['manifest_sha256', 'text', (r) => r.manifest_sha256],
  ['classifier_version', 'text', (r) => r.classifier_version],
  ['error', 'text', (r) => r.error],
  ['diff_summary_json', 'json', (r) => (r.diff_summary === null ? null : JSON.stringify(r.diff_summary))],
  ['manifest_json', 'json', (r) => (r.manifest === null ? null : JSON.stringify(r.manifest))],
  ['executor_json', 'json', (r) => (r.executor === null ? null : JSON.stringify(r.executor))],
  ['warnings_json', 'json', (r) => JSON.stringify(r.warnings)],
];

const SCAN_COLS: Array<[string, string, (s: ScanIn) => unknown]> = [
  ['scan_id', 'text', (s) => s.scan_id],
  ['created_at', 'text', (s) => s.created_at],
  ['manifest_sha256', 'text', (s) => s.manifest_sha256],
  ['scanner_version', 'text', (s) => s.scanner_version],
  ['ecosystem', 'text', (s) => s.ecosystem],
  ['base_os', 'text', (s) => s.base_os],
  ['project', 'text', (s) => s.project],
  ['regulated', 'bool', (s) => s.regulated],
  ['policy_set', 'text', (s) => s.policy_set],
  ['feed_digest', 'text', (s) => s.feed_digest],
  ['policy_digest', 'text', (s) => s.policy_digest],
  ['record_dir', 'text', (s) => s.record_dir],
  ['manifest_json', 'json', (s) => JSON.stringify(s.manifest)],
];

async function insertColumns<T>(c: pg.PoolClient, table: string, cols: Array<[string, string, (x: T) => unknown]>, rows: readonly T[]): Promise<void> {
  const arrays = cols.map(([, , get]) => rows.map(get));
  const sel = cols.map(([, type], i) => (type === 'json' ? `$${i + 1}::text[]` : `$${i + 1}::${type}[]`));
  const casts = cols.map(([name, type]) => (type === 'json' ? `${name}::json` : name)).join(', ');
  await c.query(
    `INSERT INTO ${table} (${cols.map(([n]) => n).join(', ')}) SELECT ${casts} FROM unnest(${sel.join(', ')}) AS t(${cols.map(([n]) => n).join(', ')})`,
    arrays,
  );
}

/** Insert new scans and replays in one transaction (chunks of 5,000 rows per statement). */
export async function bulkLoad(pool: pg.Pool, batch: { scans: readonly ScanIn[]; replays: readonly ReplayIn[] }): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    for (let i = 0; i < batch.scans.length; i += 5000) await insertColumns(c, 'scan_manifests', SCAN_COLS, batch.scans.slice(i, i + 5000));
    const delta = newDeltas();
    for (let i = 0; i < batch.replays.length; i += 5000) {
      const chunk = batch.replays.slice(i, i + 5000);
      await insertColumns(c, 'replay_runs', REPLAY_COLS, chunk);
      for (const r of chunk) {
        delta.rollup.add(cellsOf(factsOf(r, r.auto_reason)), 1, scopeOf(r.mode));
        delta.counts.add({ ...r, failing: failingOf(r.status), tag_key: tagKeyOf(r.auto_reason) }, 1);
      }
    }
    const cells = [...delta.rollup.values()];
    await c.query(
      `INSERT INTO fidelity_daily AS f (day, dim, bucket, total, n, bf, sf, pf, errors, dur_sum_ms, dur_n, scope)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[], $10::int8[], $11::int[], $12::text[])
       ON CONFLICT (scope, dim, day, bucket) DO UPDATE SET total = f.total + excluded.total, n = f.n + excluded.n, bf = f.bf + excluded.bf,
         sf = f.sf + excluded.sf, pf = f.pf + excluded.pf, errors = f.errors + excluded.errors, dur_sum_ms = f.dur_sum_ms + excluded.dur_sum_ms,
         dur_n = f.dur_n + excluded.dur_n`,
      [
        cells.map((x) => x.day), cells.map((x) => x.dim), cells.map((x) => x.bucket), cells.map((x) => x.c.total), cells.map((x) => x.c.n),
        cells.map((x) => x.c.bf), cells.map((x) => x.c.sf), cells.map((x) => x.c.pf), cells.map((x) => x.c.errors), cells.map((x) => x.c.dur_sum_ms),
        cells.map((x) => x.c.dur_n), cells.map((x) => x.scope),
      ],
    );
    const counts = [...delta.counts.values()];
    await c.query(
      `INSERT INTO replay_counts AS r (failing, tag_key, scanner_version, ecosystem, project, policy_set, n)
       SELECT * FROM unnest($1::bool[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[])
       ON CONFLICT (tag_key, failing, scanner_version, ecosystem, project, policy_set) DO UPDATE SET n = r.n + excluded.n`,
      [...[0, 1, 2, 3, 4, 5].map((k) => counts.map((x) => (k === 0 ? x.key[0] === 1 : x.key[k]))), counts.map((x) => x.n)],
    );
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK');
    throw e;
  } finally {
    c.release();
  }
}
