// The `?` overlay, generated from KEY_TABLE so it always matches what the handler does.
import React from 'react';
import { Box, Text } from 'ink';
import { bindingsFor, type Screen } from '../keys/key-table.js';
import { fit } from '../theme/theme.js';

export function helpLines(screen: Screen): string[] {
  return bindingsFor(screen).map((b) => `${b.label.padEnd(7)} ${b.help}`);
}

export function Help({ screen, width, height }: { screen: Screen; width: number; height: number }): React.JSX.Element {
  const lines = helpLines(screen);
  // Two columns when the list does not fit in one.
  const perCol = Math.max(1, height - 1);
  const cols = lines.length > perCol ? 2 : 1;
  const colW = Math.floor((width - 1) / cols);
  const rows: string[] = [];
  const n = Math.ceil(lines.length / cols);
  for (let i = 0; i < n; i++) {
    rows.push(Array.from({ length: cols }, (_, c) => fit(lines[i + c * n] ?? '', colW)).join('').trimEnd());
  }
  return (
    <Box flexDirection="column">
      <Text bold>{fit(`Keys on the ${screen} screen (Esc, q or ? closes)`, width - 1)}</Text>
      {rows.slice(0, perCol).map((r, i) => (
        <Text key={i}>{r}</Text>
      ))}
    </Box>
  );
}
