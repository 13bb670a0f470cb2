// The rollups every write keeps in the same transaction: `fidelity_daily` (window figures without
// scanning replay_runs) and `replay_counts` (list counts per filter facet), and the reads over them.
import { type BucketCounts, type Counts, type DayRange, type RollupCell, type RollupDim, cellsOf } from '../../src/core/fidelity/index.js';
import type { RollupScope } from '../../src/core/ports.js';
import type { Conn } from './rows.js';

/** The rollup scope of a replay mode: production ('pinned') or an experiment ('what-if'). */
export type Scope = 'pinned' | 'what-if';
export const scopeOf = (mode: string | undefined): Scope => (mode === undefined || mode === 'pinned' ? 'pinned' : 'what-if');

/** Rollup deltas gathered in memory during one transaction and written once at its end. */
type DeltaCell = { scope: Scope; day: string; dim: RollupDim; bucket: string; c: Counts };
type CountCells = Map<string, { key: Array<string | number>; n: number }>;

export class RollupDelta {
  // Keyed scope+day, then dim, then bucket: a row's cells share the first key, and the others are
  // strings that already exist (no key string is built per cell; that was most of a row's cost).
  private cells = new Map<string, Map<RollupDim, Map<string, DeltaCell>>>();
  add(cells: ReturnType<typeof cellsOf>, sign: 1 | -1, scope: Scope): void {
    let byDim: Map<RollupDim, Map<string, DeltaCell>> | undefined;
    let dayOfDims = '';
    for (const cell of cells) {
      if (byDim === undefined || cell.day !== dayOfDims) {
        const k = `${scope}\u0000${cell.day}`;
        byDim = this.cells.get(k);
        if (!byDim) this.cells.set(k, (byDim = new Map()));
        dayOfDims = cell.day;
      }
      let byBucket = byDim.get(cell.dim);
      if (!byBucket) byDim.set(cell.dim, (byBucket = new Map()));
      let cur = byBucket.get(cell.bucket);
      if (!cur) {
        cur = { scope, day: cell.day, dim: cell.dim, bucket: cell.bucket, c: { total: 0, n: 0, bf: 0, sf: 0, pf: 0, errors: 0, dur_sum_ms: 0, dur_n: 0 } };
        byBucket.set(cell.bucket, cur);
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
  *values(): IterableIterator<DeltaCell> {
    for (const byDim of this.cells.values()) for (const byBucket of byDim.values()) yield* byBucket.values();
  }
}

/** The facets `replay_counts` keeps per row; the same names as replay_runs' columns. */
export interface CountFacets {
  failing: number;
  tag_key: string;
  scanner_version: string;
  ecosystem: string;
  project: string;
  policy_set: string;
}

/** `replay_counts` deltas gathered during one transaction and written once at its end. */
export class CountDelta {
  private cells: CountCells = new Map();
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
export interface Deltas {
  rollup: RollupDelta;
  counts: CountDelta;
}

export const newDeltas = (): Deltas => ({ rollup: new RollupDelta(), counts: new CountDelta() });

/** Write one transaction's deltas: upsert the touched cells, drop the ones that reached zero. */
export function flush(conn: Conn, delta: Deltas): void {
  const up = conn.st(
    `INSERT INTO fidelity_daily (scope, day, dim, bucket, total, n, bf, sf, pf, errors, dur_sum_ms, dur_n) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
     ON CONFLICT (scope, dim, day, bucket) DO UPDATE SET total = total + excluded.total, n = n + excluded.n, bf = bf + excluded.bf,
       sf = sf + excluded.sf, pf = pf + excluded.pf, errors = errors + excluded.errors,
       dur_sum_ms = dur_sum_ms + excluded.dur_sum_ms, dur_n = dur_n + excluded.dur_n`,
  );
  const del = conn.st('DELETE FROM fidelity_daily WHERE scope = ? AND dim = ? AND day = ? AND bucket = ? AND total = 0');
  for (const { scope, day, dim, bucket, c } of delta.rollup.values()) {
    if (c.total === 0 && c.n === 0 && c.dur_n === 0 && c.dur_sum_ms === 0) continue;
    up.run(scope, day, dim, bucket, c.total, c.n, c.bf, c.sf, c.pf, c.errors, c.dur_sum_ms, c.dur_n);
    if (c.total < 0) del.run(scope, dim, day, bucket);
  }
  const count = conn.st(
    `INSERT INTO replay_counts (failing, tag_key, scanner_version, ecosystem, project, policy_set, n) VALUES (?,?,?,?,?,?,?)
     ON CONFLICT DO UPDATE SET n = n + excluded.n`,
  );
  const uncount = conn.st(
    `DELETE FROM replay_counts WHERE failing = ? AND tag_key = ? AND scanner_version = ? AND ecosystem = ? AND project = ?
     AND policy_set = ? AND n <= 0`,
  );
  for (const { key, n } of delta.counts.values()) {
    if (n === 0) continue;
    count.run(...key, n);
    if (n < 0) uncount.run(...key);
  }
}


export function rollup(c: Conn, range: DayRange | null, dims?: readonly RollupDim[], scope: RollupScope = {}): BucketCounts[] {
  // scope + `dim IN (…)` + the day range walk the (scope, dim, day, bucket) primary key instead of the
  // whole table. Production figures count pinned replays only; --include-what-if counts every mode.
  const where = [
    scope.includeWhatIf ? '' : "scope = 'pinned'",
    dims ? `dim IN (${dims.map(() => '?').join(',')})` : '',
    range ? 'day BETWEEN ? AND ?' : '',
  ].filter(Boolean);
  const sql = `SELECT dim, bucket, sum(total) AS total, sum(n) AS n, sum(bf) AS bf, sum(sf) AS sf, sum(pf) AS pf, sum(errors) AS errors,
      sum(dur_sum_ms) AS dur_sum_ms, sum(dur_n) AS dur_n FROM fidelity_daily ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      GROUP BY dim, bucket ORDER BY dim, bucket`;
  const params: unknown[] = [...(dims ?? []), ...(range ? [range.from, range.to] : [])];
  return c.st(sql).all(...params) as BucketCounts[];
}

export function rollupCells(c: Conn, range: DayRange, dim: RollupDim, scope: RollupScope = {}): RollupCell[] {
  if (!scope.includeWhatIf) {
    return c
      .st(
        `SELECT day, dim, bucket, total, n, bf, sf, pf, errors, dur_sum_ms, dur_n FROM fidelity_daily
          WHERE scope = 'pinned' AND dim = ? AND day BETWEEN ? AND ? ORDER BY day, bucket`,
      )
      .all(dim, range.from, range.to) as RollupCell[];
  }
  return c
    .st(
      `SELECT day, dim, bucket, sum(total) AS total, sum(n) AS n, sum(bf) AS bf, sum(sf) AS sf, sum(pf) AS pf, sum(errors) AS errors,
         sum(dur_sum_ms) AS dur_sum_ms, sum(dur_n) AS dur_n FROM fidelity_daily
        WHERE scope IN ('pinned', 'what-if') AND dim = ? AND day BETWEEN ? AND ? GROUP BY day, dim, bucket ORDER BY day, bucket`,
    )
    .all(dim, range.from, range.to) as RollupCell[];
}
