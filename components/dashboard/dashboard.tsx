// Dashboard: fidelity for 30/90 days with sparklines, gate state, top offenders and the cause
// histogram, all walkable with j/k (dashboard-items.ts says what Enter opens).
import React from 'react';
import { Box, Text } from 'ink';
import type { DashboardData } from '../../src/core/ports.js';
import { fit, pct, sparkline, type Theme } from '../theme/theme.js';
import { dashboardItems, itemLabel, type DashboardItem } from './dashboard-items.js';

export interface DashboardProps {
  data: DashboardData | null;
  width: number;
  height: number;
  theme: Theme;
  /** The walkable row under the cursor (dashboardItems order), -1 for none. */
  cursor?: number;
}

export function gateColor(state: 'green' | 'warn' | 'fail', theme: Theme): string | undefined {
  return state === 'green' ? theme.ok : state === 'warn' ? theme.warn : theme.bad;
}

/** The window of `n` rows out of `count` that keeps `at` visible (at < 0: from the top). */
function windowOf(count: number, n: number, at: number): [number, number] {
  if (count <= n) return [0, count];
  const start = at < 0 ? 0 : Math.max(0, Math.min(count - n, at - n + 1));
  return [start, start + n];
}

export function Dashboard({ data, width, height, theme, cursor = -1 }: DashboardProps): React.JSX.Element {
  if (!data) return <Text>loading the index…</Text>;
  const sparkW = Math.max(10, Math.min(45, width - 36));
  const trend = data.trend.slice(-sparkW);
  const line = (key: 'bf' | 'sf' | 'pf'): string => sparkline(trend.map((p) => (p.n > 0 ? p[key] : null)), theme);
  const w30 = data.windows.find((w) => w.days === 30) ?? null;
  const w90 = data.windows.find((w) => w.days === 90) ?? null;
  const items = dashboardItems(data);
  const buckets = items.filter((i) => i.kind !== 'cause');
  const causes = items.filter((i) => i.kind === 'cause');
  // The frame gives the dashboard height − 5 lines. Fixed: fidelity (5), gate (1), two titles (2).
  // Causes get their six lines first; buckets (offenders, then those under the minimum) the rest,
  // scrolled so the cursor stays visible.
  const avail = Math.max(2, height - 5 - 8);
  const causeRows = Math.max(1, Math.min(causes.length, avail - 1));
  const bucketRows = Math.max(1, avail - causeRows);
  const [b0, b1] = windowOf(buckets.length, bucketRows, cursor < buckets.length ? cursor : -1);
  const [c0, c1] = windowOf(causes.length, causeRows, cursor >= buckets.length ? cursor - buckets.length : -1);
  const maxCause = Math.max(1, ...causes.map((c) => c.n));
  const barW = Math.max(5, Math.min(30, width - 30));
  const row = (item: DashboardItem, index: number, children: React.ReactNode) => {
    const at = index === cursor;
    return (
      <Text key={`${item.kind}:${'reason' in item ? item.reason : `${item.dimension}:${item.bucket}`}`} inverse={at} wrap="truncate">
        {at ? theme.cursor : ' '} {children}
      </Text>
    );
  };
  return (
    <Box flexDirection="column">
      <Text bold>{'       30 days  90 days  trend (oldest → newest)'}</Text>
      {(['bf', 'sf', 'pf'] as const).map((k) => (
        <Text key={k}>
          {`  ${k.toUpperCase()}  ${pct(w30?.[k] ?? null)}   ${pct(w90?.[k] ?? null)}  `}
          <Text color={theme.accent}>{line(k)}</Text>
        </Text>
      ))}
      <Text>{`  n    ${String(w30?.n ?? 0).padStart(6)}   ${String(w90?.n ?? 0).padStart(6)}   replays ${data.counts.replays}, failing ${data.counts.failing}, errors ${data.counts.errors}`}</Text>
      <Text>
        {'  gate: '}
        <Text bold inverse={!theme.color && data.gate.state !== 'green'} color={gateColor(data.gate.state, theme)}>{data.gate.state.toUpperCase()}</Text>
        {data.gate.reasons.length ? fit(`  ${data.gate.reasons[0]}`, Math.max(0, width - 16)) : ''}
      </Text>
      <Text bold>{fit(`Top offenders (lowest BF, last 30 days)${buckets.length > bucketRows ? `  ${b0 + 1}-${b1} of ${buckets.length}` : ''}`, width - 1).trimEnd()}</Text>
      {buckets.length === 0 ? <Text>  none</Text> : null}
      {buckets.slice(b0, b1).map((b, i) => row(b, b0 + i, fit(itemLabel(b, pct), width - 4).trimEnd()))}
      <Text bold>{`Causes (last ${data.causeWindowDays ?? 30} days)`}</Text>
      {causes.slice(c0, c1).map((c, i) =>
        row(c, buckets.length + c0 + i, (
          <>
            {`${itemLabel(c, pct)} `}
            {c.n > 0 ? <Text color={theme.bad}>{theme.bar.repeat(Math.max(1, Math.round((c.n / maxCause) * barW)))}</Text> : null}
          </>
        )),
      )}
    </Box>
  );
}
