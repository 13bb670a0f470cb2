// The release gate of SPEC §5, decided fail → warn → green, each rule reported by name.
//
//   fail  `bf_30d_min_0.90`      BF over 30 days < 0.90
//   fail  `regulated_min_0.95`   a regulated project's BF over 30 days < 0.95
//   fail  `has_replays`          no completed replay in the 30-day window: nothing proves fidelity
//   warn  `week_over_week_drop`  a bucket's BF dropped ≥ 2 points from the previous 7 days to the last 7
//   warn  `bf_30d_min_0.98`      BF over 30 days < 0.98 (green needs ≥ 0.98)
//   warn  `buckets_min_0.95`     a bucket's BF over 30 days < 0.95 (green needs none)
//
// Buckets (scanner, ecosystem, policy_set, base_os) and regulated projects with fewer than
// MIN_BUCKET_REPLAYS completed replays in the period are ignored: one failure among five replays is
// noise, not a trend. For the week-over-week rule both weeks need that many.
// Thresholds compare integers (100·matches vs 98·n) so 0.98 exactly is never lost to floating point.
import type { BucketCounts, DayRange } from '../fidelity/index.js';
import { GATE_DIMENSIONS, figures, percentText, totalOf, windowRange } from '../fidelity/index.js';

export const MIN_BUCKET_REPLAYS = 20;
/** The rollup dimensions the gate reads (callers may pass them to the store to skip the rest). */
export const GATE_ROLLUP_DIMS = ['all', 'scanner', 'ecosystem', 'policy_set', 'base_os', 'project_regulated'] as const;

export type GateState = 'green' | 'warn' | 'fail';
export type RuleId = 'has_replays' | 'bf_30d_min_0.90' | 'regulated_min_0.95' | 'week_over_week_drop' | 'bf_30d_min_0.98' | 'buckets_min_0.95';

export interface RuleResult {
  id: RuleId;
  /** What breaking the rule costs. */
  severity: 'fail' | 'warn';
  ok: boolean;
  description: string;
  /** Why it broke (or the figure that kept it), one line each. */
  details: string[];
}

export interface GateResult {
  state: GateState;
  /** Rules that fired, most severe first (empty when green). */
  fired: RuleId[];
  /** Human lines for the fired rules. */
  reasons: string[];
  rules: RuleResult[];
  bf_30d: number | null;
  n_30d: number;
  min_bucket_replays: number;
  /** Buckets with completed replays in the 30 days, but fewer than the minimum: shown, never gated. */
  ungated: UngatedBucket[];
}

export interface UngatedBucket {
  dimension: (typeof GATE_DIMENSIONS)[number] | 'regulated project';
  bucket: string;
  n: number;
}

/** One line for a bucket under the minimum, e.g. "ecosystem crates.io 4 replays (< 20, not gated)". */
export function ungatedText(b: UngatedBucket, min: number): string {
  return `${b.dimension} ${b.bucket} ${b.n} replay${b.n === 1 ? '' : 's'} (< ${min}, not gated)`;
}

/**
 * The buckets of `rows` (30-day sums) with 0 < n < min, in dimension then bucket order, then the
 * regulated projects under the minimum (so a regulated project's `[ok]` never hides that it was not gated).
 */
export function ungatedBuckets(rows: readonly BucketCounts[], min: number): UngatedBucket[] {
  const under = (dim: string) => sorted(rows.filter((r) => r.dim === dim && r.n > 0 && r.n < min));
  return [
    ...GATE_DIMENSIONS.flatMap((dimension) => under(dimension).map((r) => ({ dimension, bucket: r.bucket, n: r.n }))),
    ...under('project_regulated').map((r) => ({ dimension: 'regulated project' as const, bucket: r.bucket, n: r.n })),
  ];
}

export interface GateInput {
  /** Rollup sums over the last 30 days. */
  window30: readonly BucketCounts[];
  /** Rollup sums over the last 7 days and the 7 days before. */
  lastWeek: readonly BucketCounts[];
  prevWeek: readonly BucketCounts[];
  minBucketReplays?: number;
}

const pct = percentText;

export function evaluateGate(input: GateInput): GateResult {
  const min = input.minBucketReplays ?? MIN_BUCKET_REPLAYS;
  const all = totalOf(input.window30);
  const rules: RuleResult[] = [];

  rules.push({
    id: 'has_replays',
    severity: 'fail',
    ok: all.n > 0,
    description: 'at least one completed replay in the last 30 days',
    details: all.n > 0 ? [`${all.n} completed replays`] : ['no completed replay in the last 30 days: nothing proves fidelity'],
  });

  rules.push({
    id: 'bf_30d_min_0.90',
    severity: 'fail',
    ok: all.n === 0 || 100 * all.bf >= 90 * all.n,
    description: 'BF over 30 days ≥ 0.90',
    details: [`BF 30d ${pct(figures(all).bf)} over ${all.n} replays`],
  });

  const regulatedLow: string[] = [];
  for (const b of sorted(input.window30.filter((r) => r.dim === 'project_regulated'))) {
    if (b.n >= min && 100 * b.bf < 95 * b.n) regulatedLow.push(`regulated project ${b.bucket}: BF ${pct(b.bf / b.n)} over ${b.n} replays < 95.0%`);
  }
  rules.push({ id: 'regulated_min_0.95', severity: 'fail', ok: regulatedLow.length === 0, description: 'every regulated project BF over 30 days ≥ 0.95', details: regulatedLow });

  const drops: string[] = [];
  for (const dim of GATE_DIMENSIONS) {
    const prev = new Map(input.prevWeek.filter((r) => r.dim === dim).map((r) => [r.bucket, r]));
    for (const cur of sorted(input.lastWeek.filter((r) => r.dim === dim))) {
      const p = prev.get(cur.bucket);
      if (!p || p.n < min || cur.n < min) continue;
      // prev.bf/prev.n − cur.bf/cur.n ≥ 0.02, cross-multiplied.
      if (100 * (p.bf * cur.n - cur.bf * p.n) >= 2 * p.n * cur.n) {
        drops.push(`${dim} ${cur.bucket}: BF ${pct(p.bf / p.n)} → ${pct(cur.bf / cur.n)} week over week (≥ 2 points)`);
      }
    }
  }
  rules.push({ id: 'week_over_week_drop', severity: 'warn', ok: drops.length === 0, description: 'no bucket BF dropped ≥ 2 points week over week', details: drops });

  rules.push({
    id: 'bf_30d_min_0.98',
    severity: 'warn',
    ok: all.n > 0 && 100 * all.bf >= 98 * all.n,
    description: 'BF over 30 days ≥ 0.98',
    details: [`BF 30d ${pct(figures(all).bf)} over ${all.n} replays`],
  });

  const lowBuckets: string[] = [];
  for (const dim of GATE_DIMENSIONS) {
    for (const b of sorted(input.window30.filter((r) => r.dim === dim))) {
      if (b.n >= min && 100 * b.bf < 95 * b.n) lowBuckets.push(`${dim} ${b.bucket}: BF ${pct(b.bf / b.n)} over ${b.n} replays < 95.0%`);
    }
  }
  rules.push({ id: 'buckets_min_0.95', severity: 'warn', ok: lowBuckets.length === 0, description: 'no bucket BF over 30 days < 0.95', details: lowBuckets });

  const failed = rules.filter((r) => !r.ok);
  const fails = failed.filter((r) => r.severity === 'fail');
  const warns = failed.filter((r) => r.severity === 'warn');
  const state: GateState = fails.length ? 'fail' : warns.length ? 'warn' : 'green';
  const firing = fails.length ? [...fails, ...warns] : warns;
  const reasons = firing.flatMap((r) => (r.details.length ? r.details.map((d) => `${r.id}: ${d}`) : [`${r.id}: ${r.description} does not hold`]));
  return {
    state,
    fired: firing.map((r) => r.id),
    reasons,
    rules,
    bf_30d: figures(all).bf,
    n_30d: all.n,
    min_bucket_replays: min,
    ungated: ungatedBuckets(input.window30, min),
  };
}

function sorted(rows: readonly BucketCounts[]): BucketCounts[] {
  return [...rows].sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** JUnit XML, one testcase per rule; broken fail-rules are failures, broken warn-rules failures of type warn. */
export function gateJunit(result: GateResult, now: string): string {
  const broken = result.rules.filter((r) => !r.ok).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="stella gate" tests="${result.rules.length}" failures="${broken}">`,
    `  <testsuite name="replay-fidelity" tests="${result.rules.length}" failures="${broken}" errors="0" skipped="0" timestamp="${xmlEscape(now)}">`,
  ];
  for (const r of result.rules) {
    const name = xmlEscape(`${r.id}: ${r.description}`);
    if (r.ok) {
      lines.push(`    <testcase classname="stella.gate" name="${name}"/>`);
    } else {
      const msg = xmlEscape(r.details[0] ?? r.description);
      lines.push(`    <testcase classname="stella.gate" name="${name}">`);
      lines.push(`      <failure type="${r.severity}" message="${msg}">${xmlEscape(r.details.join('\n'))}</failure>`);
      lines.push('    </testcase>');
    }
  }
  lines.push(`    <system-out>${xmlEscape(`gate state: ${result.state}`)}</system-out>`);
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

/** The gate for `now`, reading rollup sums through `rollup` (the store's window query). */
export function gateAt(rollup: (range: DayRange) => readonly BucketCounts[], now: Date, minBucketReplays?: number): GateResult {
  return evaluateGate({
    window30: rollup(windowRange(now, 30)),
    lastWeek: rollup(windowRange(now, 7)),
    prevWeek: rollup(windowRange(now, 7, 7)),
    minBucketReplays,
  });
}
