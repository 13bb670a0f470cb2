// Read models assembled from the store port's rollups: the workstation dashboard and the release
// gate. They live here, not in a backend, so every backend serves the same figures.
import { GATE_DIMENSIONS, type BucketCounts, type RollupDim, figures, notPassedOf, totalOf, trend, windowRange } from '../core/fidelity/index.js';
import { MISMATCH_REASONS } from '../core/formats.js';
import { GATE_ROLLUP_DIMS, MIN_BUCKET_REPLAYS, gateAt, type GateResult } from '../core/gate/index.js';
import type { DashboardData, ReplayStore, RollupScope } from '../core/ports.js';

const DASHBOARD_DIMS: readonly RollupDim[] = [...GATE_ROLLUP_DIMS, 'cause'];

/** The gate over the three windows it reads (30 days, last week, the week before), fetched at once. */
// Production figures count pinned replays only: bisect experiments and canary runs (what-if modes)
// never move them; `scope.includeWhatIf` counts every mode.
export async function gateFromStore(store: Pick<ReplayStore, 'rollup'>, now: Date, minBucketReplays?: number, scope: RollupScope = {}): Promise<GateResult> {
  const ranges = [windowRange(now, 30), windowRange(now, 7), windowRange(now, 7, 7)];
  const rows = await Promise.all(ranges.map((r) => store.rollup(r, GATE_ROLLUP_DIMS, scope)));
  const byRange = new Map(ranges.map((r, i) => [`${r.from}/${r.to}`, rows[i]]));
  return gateAt((r) => byRange.get(`${r.from}/${r.to}`) ?? [], now, minBucketReplays);
}

export async function dashboardOf(store: ReplayStore, now: Date, scope: RollupScope = {}): Promise<DashboardData> {
  const range30 = windowRange(now, 30);
  const [w30, w90, gate, all, cells] = await Promise.all([
    store.rollup(range30, DASHBOARD_DIMS, scope),
    store.rollup(windowRange(now, 90), ['all'], scope),
    gateFromStore(store, now, undefined, scope),
    store.rollup(null, ['status'], scope),
    store.rollupCells(range30, 'all', scope),
  ]);
  const win = (days: number, rows: BucketCounts[]) => {
    const f = figures(totalOf(rows));
    return { days, n: f.n, bf: f.bf, sf: f.sf, pf: f.pf };
  };
  const offenders = GATE_DIMENSIONS.flatMap((dimension) =>
    w30
      .filter((r) => r.dim === dimension && r.n >= MIN_BUCKET_REPLAYS && r.bf < r.n)
      .map((r) => ({ dimension, bucket: r.bucket, n: r.n, bf: r.bf / r.n })),
  )
    .sort((a, b) => a.bf - b.bf || (a.dimension < b.dimension ? -1 : a.dimension > b.dimension ? 1 : a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0))
    .slice(0, 10);
  const small = GATE_DIMENSIONS.flatMap((dimension) =>
    w30
      .filter((r) => r.dim === dimension && r.total > 0 && r.n < MIN_BUCKET_REPLAYS)
      .map((r) => ({ dimension, bucket: r.bucket, n: r.total, bf: r.n > 0 ? r.bf / r.n : null, min: MIN_BUCKET_REPLAYS })),
  ).sort((a, b) => a.n - b.n || (a.dimension < b.dimension ? -1 : a.dimension > b.dimension ? 1 : a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
  // All six causes, zeros included: the histogram sums to the window's tagged replays that did not pass.
  const causes = MISMATCH_REASONS.map((reason) => ({ reason, n: notPassedOf(w30.find((r) => r.dim === 'cause' && r.bucket === reason)) }))
    .sort((a, b) => b.n - a.n || (a.reason < b.reason ? -1 : 1));
  const status = (s: string) => all.find((r) => r.dim === 'status' && r.bucket === s)?.total ?? 0;
  return {
    now: now.toISOString(),
    windows: [win(30, w30), win(90, w90)],
    trend: trend(cells, range30).map((p) => ({ day: p.day, n: p.n, bf: p.bf ?? 0, sf: p.sf ?? 0, pf: p.pf ?? 0 })),
    gate: { state: gate.state, reasons: gate.reasons },
    offenders,
    small,
    causes,
    causeWindowDays: 30,
    counts: { replays: status('passed') + status('failed') + status('error'), failing: status('failed') + status('error'), errors: status('error') },
  };
}
