// Side-by-side diff: the cause's evidence first (original `-` | replay `+`), then original | replay per
// changed item with the cause tag and evidence lines; the same viewport shows the raw canonical diff
// (`d`) and the manifest/environment diff (`m`).
import React from 'react';
import { Box, Text } from 'ink';
import { fit, type Theme } from '../theme/theme.js';
import type { DiffLine } from './diff-lines.js';
import type { DiffView as View } from '../workstation/use-workstation-state.js';

export interface DiffViewProps {
  id: string;
  view: View;
  lines: readonly DiffLine[];
  loaded: boolean;
  focus: number;
  scroll: number;
  height: number;
  width: number;
  theme: Theme;
}

const TITLES: Record<View, string> = { summary: 'semantic diff', raw: 'raw canonical diff', manifest: 'manifest / environment diff' };

export function DiffViewScreen(p: DiffViewProps): React.JSX.Element {
  const w = p.width - 1;
  const labelW = Math.max(20, Math.floor(w * 0.45));
  const sideW = Math.max(8, Math.floor((w - labelW - 6) / 2));
  const visible = p.lines.slice(p.scroll, p.scroll + p.height);
  return (
    <Box flexDirection="column">
      <Text bold>{fit(`${TITLES[p.view]} of ${p.id}`, w)}</Text>
      {p.view === 'summary' ? <Text dimColor>{fit(`  ${'change'.padEnd(labelW - 2)}${p.theme.vbar} ${'original'.padEnd(sideW)}${p.theme.vbar} replay`, w)}</Text> : <Text> </Text>}
      {!p.loaded ? <Text>loading…</Text> : null}
      {visible.map((l, i) => {
        const at = p.scroll + i;
        const focused = at === p.focus;
        const prefix = focused ? p.theme.cursor + ' ' : '  ';
        const key = `${at}`;
        switch (l.kind) {
          case 'head':
            return <Text key={key} bold>{fit(prefix + l.text, w)}</Text>;
          case 'note':
            return <Text key={key} color={p.theme.dim}>{fit(prefix + l.text, w)}</Text>;
          case 'pair':
            return (
              <Text key={key} inverse={focused}>
                {fit(prefix + l.label, labelW)}
                {p.theme.vbar + ' '}
                <Text color={focused ? undefined : p.theme.bad}>{fit(l.left, sideW)}</Text>
                {p.theme.vbar + ' '}
                <Text color={focused ? undefined : p.theme.ok}>{fit(l.right, Math.max(1, w - labelW - sideW - 4))}</Text>
              </Text>
            );
          case 'text':
            return (
              <Text key={key} inverse={focused} color={focused ? undefined : l.sign === '+' ? p.theme.ok : l.sign === '-' ? p.theme.bad : l.sign === '@' ? p.theme.accent : undefined}>
                {fit(prefix + l.text, w)}
              </Text>
            );
          case 'evidence':
            // Pre-wrapped to the width (nothing cut); the mark says which side, colour only repeats it.
            return (
              <Text key={key} color={l.mark === '-' ? p.theme.bad : l.mark === '+' ? p.theme.ok : undefined}>
                {fit(`${prefix}${l.mark} ${l.text}`, w)}
              </Text>
            );
          case 'split': {
            // original | replay; the mark column says which side changed, colour only repeats it.
            const half = Math.max(8, Math.floor((w - 7) / 2));
            const lm = l.mark === '-' || l.mark === '~' ? '-' : ' ';
            const rm = l.mark === '+' || l.mark === '~' ? '+' : ' ';
            return (
              <Text key={key} inverse={focused}>
                {prefix}
                <Text color={focused || lm === ' ' ? undefined : p.theme.bad}>{lm + ' ' + fit(l.left, half)}</Text>
                {p.theme.vbar}
                <Text color={focused || rm === ' ' ? undefined : p.theme.ok}>{rm + ' ' + fit(l.right, Math.max(1, w - half - 7))}</Text>
              </Text>
            );
          }
          default: {
            const _exhaustive: never = l;
            return _exhaustive;
          }
        }
      })}
    </Box>
  );
}
