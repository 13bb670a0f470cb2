// Dashboard: fidelity for 30/90 days with sparklines, gate state, top offenders and the cause
// histogram. The two small tables use @alcalzone/ink-table (it renders every row, fine for ≤ 5 rows).
import React from 'react';
import { Box, Text } from 'ink';
import { Table } from '@alcalzone/ink-table';
import type { DashboardData } from '../../src/core/ports.js';
import { fit, pct, sparkline, type Theme } from '../theme/theme.js';

export interface DashboardProps {
  data: DashboardData | null;
  width: number;
  height: number;
  theme: Theme;
}

export function gateColor(state: 'green' | 'warn' | 'fail', theme: Theme): string | undefined {
  return state === 'green' ? theme.ok : state === 'warn' ? theme.warn : theme.bad;
}

export function Dashboard({ data, width, height, theme }: DashboardProps): React.JSX.Element {
  if (!data) return <Text>loading the index…</Text>;
  const sparkW = Math.max(10, Math.min(45, width - 36));
  const trend = data.trend.slice(-sparkW);
  const line = (key: 'bf' | 'sf' | 'pf'): string => sparkline(trend.map((p) => (p.n > 0 ? p[key] : null)), theme);
  const w30 = data.windows.find((w) => w.days === 30) ?? null;
  const w90 = data.windows.find((w) => w.days === 90) ?? null;
  // The frame gives the dashboard height − 5 lines. Fixed: fidelity (5), gate (1), two titles (2),
  // table borders (3); ink-table draws a rule between rows, so each offender costs 2 lines.
  const avail = Math.max(2, height - 5 - 11);
  const causeRows = Math.max(1, Math.min(6, Math.floor(avail / 2)));
  const tableRows = Math.max(1, Math.min(5, Math.floor((avail - causeRows) / 2)));
  const offenders = data.offenders.slice(0, tableRows).map((o) => ({ bucket: fit(`${o.dimension}:${o.bucket}`, 26).trimEnd(), n: o.n, BF: pct(o.bf).trim() }));
  const causes = data.causes.slice(0, causeRows);
  const maxCause = Math.max(1, ...causes.map((c) => c.n));
  const barW = Math.max(5, Math.min(30, width - 30));
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
      <Text bold>Top offenders (lowest BF)</Text>
      {offenders.length ? <Table data={offenders} /> : <Text>  none</Text>}
      <Text bold>Causes</Text>
      {causes.length === 0 ? <Text>  no mismatches</Text> : null}
      {causes.map((c) => (
        <Text key={c.reason}>
          {`  ${c.reason.padEnd(15)}${String(c.n).padStart(7)} `}
          <Text color={theme.bad}>{theme.bar.repeat(Math.max(1, Math.round((c.n / maxCause) * barW)))}</Text>
        </Text>
      ))}
    </Box>
  );
}
