// Prometheus text exposition (format 0.0.4) of the index (SPEC §5). Pure: the store hands in rollup
// sums; series are emitted in a total order so the output is byte-stable.
import type { BucketCounts } from '../fidelity/index.js';
import { notPassedOf, parseCombo } from '../fidelity/index.js';
import { MISMATCH_REASONS } from '../formats.js';

export interface MetricsInput {
  /** Rollup sums over the fidelity window (gauges). */
  window: readonly BucketCounts[];
  windowDays: number;
  /** Rollup sums over all time (the runs counter, the mismatch gauge by cause, the duration summary). */
  allTime: readonly BucketCounts[];
}

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(pairs: Array<[string, string]>): string {
  return pairs.length ? `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
}

// JS shortest round-trip form is valid Prometheus float syntax (1, 0.98, 1e-7).
const num = (v: number): string => String(v);

export function renderPrometheus(input: MetricsInput): string {
  const out: string[] = [];
  const combos = input.window
    .filter((r) => r.dim === 'combo' && r.n > 0)
    .sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
  const levels = [
    ['bf', 'Bitwise'],
    ['sf', 'Semantic'],
    ['pf', 'Policy'],
  ] as const;
  for (const [level, word] of levels) {
    const name = `replay_fidelity_${level}`;
    out.push(`# HELP ${name} ${word} Replay Fidelity over the last ${input.windowDays} days: matching / completed replays.`);
    out.push(`# TYPE ${name} gauge`);
    for (const c of combos) {
      const k = parseCombo(c.bucket);
      const l = labels([
        ['scanner', k.scanner],
        ['ecosystem', k.ecosystem],
        ['policy_set', k.policy_set],
        ['base_os', k.base_os],
      ]);
      out.push(`${name}${l} ${num(c[level] / c.n)}`);
    }
  }

  out.push('# HELP replay_runs_total Replays indexed, by status.');
  out.push('# TYPE replay_runs_total counter');
  const byStatus = new Map(input.allTime.filter((r) => r.dim === 'status').map((r) => [r.bucket, r.total]));
  for (const status of ['error', 'failed', 'passed']) out.push(`replay_runs_total${labels([['status', status]])} ${byStatus.get(status) ?? 0}`);

  // A gauge, not a counter: a retag moves a replay from one reason to another, so one series goes down.
  out.push('# HELP replay_mismatches Mismatching replays indexed, by their current effective cause tag (human override, else the classifier); a retag moves a replay between reasons.');
  out.push('# TYPE replay_mismatches gauge');
  const byCause = new Map(input.allTime.filter((r) => r.dim === 'cause').map((r) => [r.bucket, notPassedOf(r)]));
  for (const reason of [...MISMATCH_REASONS].sort()) out.push(`replay_mismatches${labels([['reason', reason]])} ${byCause.get(reason) ?? 0}`);

  const all = input.allTime.find((r) => r.dim === 'all');
  out.push('# HELP replay_duration_seconds Wall time of replays, start to finish.');
  out.push('# TYPE replay_duration_seconds summary');
  out.push(`replay_duration_seconds_sum ${num((all?.dur_sum_ms ?? 0) / 1000)}`);
  out.push(`replay_duration_seconds_count ${all?.dur_n ?? 0}`);
  return out.join('\n') + '\n';
}
