// The dashboard as a place (issue 13, item 9): its walkable rows in screen order (offenders, buckets
// under the gate's minimum, the six causes) and the list filter each one opens. Pure: the reducer
// moves over these and the view draws them, so the two agree on what Enter opens.
import type { DashboardData } from '../../src/core/ports.js';

export type DashboardItem =
  | { kind: 'offender'; dimension: string; bucket: string; n: number; bf: number }
  | { kind: 'small'; dimension: string; bucket: string; n: number; bf: number | null; min: number }
  | { kind: 'cause'; reason: string; n: number };

export function dashboardItems(d: DashboardData | null): DashboardItem[] {
  if (!d) return [];
  return [
    ...d.offenders.map((o) => ({ kind: 'offender' as const, ...o })),
    ...(d.small ?? []).map((o) => ({ kind: 'small' as const, ...o })),
    ...d.causes.map((c) => ({ kind: 'cause' as const, reason: c.reason, n: c.n })),
  ];
}

/** The facet of the one filter language (src/core/filter) for a dashboard dimension, when there is one. */
const FACET: Record<string, string> = { scanner: 'scanner', ecosystem: 'eco', policy_set: 'policy', project: 'project' };

/** The filter text Enter opens Replays with, or an explanation when the list cannot filter by it. */
export function itemFilter(item: DashboardItem): { text: string } | { error: string } {
  if (item.kind === 'cause') return { text: `cause:${item.reason}` };
  const facet = FACET[item.dimension];
  if (!facet) return { error: `the replay list has no ${item.dimension} filter; use \`stella fidelity --by ${item.dimension}\`` };
  if (item.bucket.includes('"')) return { error: `${item.dimension} '${item.bucket}' has a quote; the filter language cannot name it` };
  return { text: /\s/.test(item.bucket) ? `${facet}:"${item.bucket}"` : `${facet}:${item.bucket}` };
}

/** One line of a walkable row, without the cursor column. */
export function itemLabel(item: DashboardItem, pctText: (v: number | null) => string): string {
  if (item.kind === 'cause') return `${item.reason.padEnd(15)}${String(item.n).padStart(7)}`;
  const name = `${item.dimension}:${item.bucket}`;
  if (item.kind === 'small') return `${name} ${item.n} replays (< ${item.min}, not gated)`;
  return `${name.padEnd(30)} n ${String(item.n).padStart(6)}  BF ${pctText(item.bf).trim()}`;
}
