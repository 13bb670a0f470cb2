// The replay table. Windowed: only the rows that fit are turned into elements (the store hands over a
// page at a time, the reducer keeps at most MAX_BUFFER rows), so 1M replays scroll like 100.
import React from 'react';
import { Box, Text } from 'ink';
import type { ReplayRow } from '../../src/core/ports.js';
import { fit, type Theme } from '../theme/theme.js';

export interface ReplayListProps {
  rows: readonly ReplayRow[];
  top: number;
  cursor: number;
  height: number;
  width: number;
  marks: ReadonlySet<string>;
  rangeAnchor: string | null;
  theme: Theme;
}

interface Col {
  title: string;
  width: number;
  get: (r: ReplayRow) => string;
}

const REPLAY_ID_WIDTH = 'rpl_0123456789abcdef'.length;

const flag = (b: boolean | null): string => (b === null ? '?' : b ? '=' : 'x');

/** Columns sized for the terminal width; the id and project columns take what is left. */
export function columns(width: number): Col[] {
  const fixed: Col[] = [
    { title: 'STATUS', width: 6, get: (r) => r.status },
    { title: 'B S P', width: 5, get: (r) => `${flag(r.bf_match)} ${flag(r.sf_match)} ${flag(r.pf_match)}` },
    { title: 'CAUSE', width: 14, get: (r) => (r.tag ? r.tag + (r.human_tag ? '*' : '') : '-') },
    { title: 'ECO', width: 6, get: (r) => r.ecosystem },
    { title: 'STARTED', width: 10, get: (r) => r.started_at.slice(0, 10) },
  ];
  // 2 cells of cursor + mark, one space between columns.
  const used = 2 + fixed.reduce((n, c) => n + c.width + 1, 0);
  const rest = Math.max(16, width - used - 1);
  // A replay id (rpl_ + 16 hex = 20) is what `--open`, `stella ticket` and the filter take: at 80
  // columns it is shown whole and the project column gives way.
  const idW = Math.max(8, Math.min(rest - 7, Math.max(REPLAY_ID_WIDTH, Math.floor(rest * 0.55))));
  const projW = Math.max(6, rest - idW - 1);
  return [
    { title: 'REPLAY', width: idW, get: (r) => r.replay_id },
    fixed[0],
    fixed[1],
    fixed[2],
    { title: 'PROJECT', width: projW, get: (r) => r.project },
    fixed[3],
    fixed[4],
  ];
}

export function headerLine(width: number): string {
  return '  ' + columns(width).map((c) => fit(c.title, c.width)).join(' ');
}

export function rowLine(r: ReplayRow, width: number): string {
  return columns(width).map((c) => fit(c.get(r), c.width)).join(' ');
}

export function ReplayList(p: ReplayListProps): React.JSX.Element {
  const visible = p.rows.slice(p.top, p.top + p.height);
  return (
    <Box flexDirection="column">
      <Text bold>{fit(headerLine(p.width), p.width - 1)}</Text>
      {visible.length === 0 ? <Text>{'  no replays match (/ to change the filter, f failing only, c cause)'}</Text> : null}
      {visible.map((r, i) => {
        const at = p.top + i === p.cursor;
        const marked = p.marks.has(r.replay_id);
        const anchor = p.rangeAnchor === r.replay_id;
        const color = r.status === 'passed' ? p.theme.ok : r.status === 'error' ? p.theme.warn : p.theme.bad;
        const prefix = (at ? p.theme.cursor : ' ') + (marked ? p.theme.mark : anchor ? 'v' : p.theme.unmarked);
        return (
          <Text key={r.replay_id} inverse={at} bold={marked} color={at ? undefined : color} wrap="truncate">
            {fit(prefix + rowLine(r, p.width), p.width - 1)}
          </Text>
        );
      })}
    </Box>
  );
}
