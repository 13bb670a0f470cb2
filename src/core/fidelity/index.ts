// Replay Fidelity arithmetic over the daily rollup (SPEC §5). Pure: windows are computed from an
// injected `now`, never the wall clock.
//
// Definitions used everywhere (CLI, gate, metrics, badge, workstation):
// - A replay counts toward fidelity when it completed (status passed|failed). `error` replays never
//   produced artifacts to compare: they are counted apart (`errors`), not as matches or mismatches.
// - A replay belongs to the UTC day of its `finished_at`.
// - A window of D days ending at `now` holds the days [day(now) - (D-1), day(now)].
import type { MismatchReason, ReplayStatus } from '../formats.js';

export type Dimension = 'scanner' | 'ecosystem' | 'policy_set' | 'base_os' | 'feed';
export const GATE_DIMENSIONS = ['scanner', 'ecosystem', 'policy_set', 'base_os'] as const;
export const ALL_DIMENSIONS: readonly Dimension[] = ['scanner', 'ecosystem', 'policy_set', 'base_os', 'feed'];
/** Rollup dimensions: the report ones plus bookkeeping ones. */
export type RollupDim = Dimension | 'all' | 'project_regulated' | 'combo' | 'status' | 'cause';

/** Counters of one rollup cell (one day × dimension × bucket), or of a sum of cells. */
export interface Counts {
  total: number;
  n: number;
  bf: number;
  sf: number;
  pf: number;
  errors: number;
  dur_sum_ms: number;
  dur_n: number;
}
export interface RollupCell extends Counts {
  day: string;
  dim: RollupDim;
  bucket: string;
}
/** Rollup rows summed over a day range, per (dim, bucket). */
export interface BucketCounts extends Counts {
  dim: RollupDim;
  bucket: string;
}

export const ZERO: Counts = { total: 0, n: 0, bf: 0, sf: 0, pf: 0, errors: 0, dur_sum_ms: 0, dur_n: 0 };

/** The facts of one replay the rollup needs. */
export interface ReplayFacts {
  status: ReplayStatus;
  bf_match: boolean | null;
  sf_match: boolean | null;
  pf_match: boolean | null;
  finished_at: string;
  duration_ms: number | null;
  scanner_version: string;
  ecosystem: string;
  policy_set: string;
  base_os: string;
  feed_digest: string;
  project: string;
  regulated: boolean;
  tag: MismatchReason | null;
}

export function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

/** The combination key of the four gate buckets, used for per-series metrics. */
export function comboKey(scanner: string, ecosystem: string, policySet: string, baseOs: string): string {
  return JSON.stringify([scanner, ecosystem, policySet, baseOs]);
}
export function parseCombo(key: string): { scanner: string; ecosystem: string; policy_set: string; base_os: string } {
  const [scanner, ecosystem, policy_set, base_os] = JSON.parse(key) as string[];
  return { scanner, ecosystem, policy_set, base_os };
}

/** Every rollup cell one replay contributes to, with its counters (sign +1; the store negates to remove). */
export function cellsOf(r: ReplayFacts): Array<{ day: string; dim: RollupDim; bucket: string; c: Counts }> {
  const completed = r.status !== 'error';
  const c: Counts = {
    total: 1,
    n: completed ? 1 : 0,
    bf: completed && r.bf_match === true ? 1 : 0,
    sf: completed && r.sf_match === true ? 1 : 0,
    pf: completed && r.pf_match === true ? 1 : 0,
    errors: completed ? 0 : 1,
    dur_sum_ms: r.duration_ms ?? 0,
    dur_n: r.duration_ms === null ? 0 : 1,
  };
  const day = dayOf(r.finished_at);
  const out: Array<{ day: string; dim: RollupDim; bucket: string; c: Counts }> = [
    { day, dim: 'all', bucket: '', c },
    { day, dim: 'scanner', bucket: r.scanner_version, c },
    { day, dim: 'ecosystem', bucket: r.ecosystem, c },
    { day, dim: 'policy_set', bucket: r.policy_set, c },
    { day, dim: 'base_os', bucket: r.base_os, c },
    { day, dim: 'feed', bucket: r.feed_digest, c },
    { day, dim: 'combo', bucket: comboKey(r.scanner_version, r.ecosystem, r.policy_set, r.base_os), c },
    { day, dim: 'status', bucket: r.status, c },
  ];
  if (r.regulated) out.push({ day, dim: 'project_regulated', bucket: r.project, c });
  if (r.tag !== null) out.push({ day, dim: 'cause', bucket: r.tag, c });
  return out;
}

const DAY_MS = 86_400_000;

export function addDays(day: string, delta: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + delta * DAY_MS).toISOString().slice(0, 10);
}

export interface DayRange {
  from: string;
  to: string;
}

/** The D-day window ending on now's UTC day (inclusive), optionally shifted back `offsetDays`. */
export function windowRange(now: Date, days: number, offsetDays = 0): DayRange {
  const to = addDays(now.toISOString().slice(0, 10), -offsetDays);
  return { from: addDays(to, -(days - 1)), to };
}

export function daysIn(range: DayRange): string[] {
  const out: string[] = [];
  for (let d = range.from; d <= range.to; d = addDays(d, 1)) out.push(d);
  return out;
}

export function ratio(num: number, den: number): number | null {
  return den === 0 ? null : num / den;
}

export function addCounts(a: Counts, b: Counts): Counts {
  return {
    total: a.total + b.total,
    n: a.n + b.n,
    bf: a.bf + b.bf,
    sf: a.sf + b.sf,
    pf: a.pf + b.pf,
    errors: a.errors + b.errors,
    dur_sum_ms: a.dur_sum_ms + b.dur_sum_ms,
    dur_n: a.dur_n + b.dur_n,
  };
}

export interface FidelityFigures {
  n: number;
  errors: number;
  bf: number | null;
  sf: number | null;
  pf: number | null;
}

export function figures(c: Counts): FidelityFigures {
  return { n: c.n, errors: c.errors, bf: ratio(c.bf, c.n), sf: ratio(c.sf, c.n), pf: ratio(c.pf, c.n) };
}

export interface BucketFigures extends FidelityFigures {
  bucket: string;
}

/** Buckets of one dimension, worst BF first, then by name (code-unit order) for a total order. */
export function bucketFigures(rows: readonly BucketCounts[], dim: RollupDim): BucketFigures[] {
  const out = rows.filter((r) => r.dim === dim).map((r) => ({ bucket: r.bucket, ...figures(r) }));
  return out.sort((a, b) => {
    const x = a.bf ?? 2;
    const y = b.bf ?? 2;
    if (x !== y) return x - y;
    return a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0;
  });
}

/**
 * Replays of a cell that did not pass: all but the completed bitwise matches. A cause cell counted this
 * way leaves out a tag an older version's retag left on a passing replay (a passing replay has no cause).
 */
export function notPassedOf(c: Pick<Counts, 'total' | 'bf'> | undefined): number {
  return c ? c.total - c.bf : 0;
}

export function totalOf(rows: readonly BucketCounts[], dim: RollupDim = 'all', bucket = ''): Counts {
  const hit = rows.find((r) => r.dim === dim && r.bucket === bucket);
  return hit ? { ...ZERO, ...pickCounts(hit) } : { ...ZERO };
}

function pickCounts(c: Counts): Counts {
  return { total: c.total, n: c.n, bf: c.bf, sf: c.sf, pf: c.pf, errors: c.errors, dur_sum_ms: c.dur_sum_ms, dur_n: c.dur_n };
}

export interface TrendPoint {
  day: string;
  n: number;
  errors: number;
  bf: number | null;
  sf: number | null;
  pf: number | null;
}

/** One point per day of the range (days without replays have n 0 and null ratios), oldest first. */
export function trend(cells: readonly RollupCell[], range: DayRange): TrendPoint[] {
  const byDay = new Map<string, Counts>();
  for (const c of cells) if (c.dim === 'all') byDay.set(c.day, c);
  return daysIn(range).map((day) => {
    const c = byDay.get(day) ?? ZERO;
    return { day, ...figures(c) };
  });
}

/** Percent text for people: floored to one decimal so 0.9799 never shows as a passing 98.0%. */
export function percentText(r: number | null): string {
  if (r === null) return 'n/a';
  return `${(Math.floor(r * 1000 + 1e-9) / 10).toFixed(1)}%`;
}
