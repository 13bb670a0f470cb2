// The retag picker: ink-select-input draws the six causes; the highlighted index lives in the
// workstation reducer (so fast keys are never lost), hence isFocused=false and a remount per move.
import React from 'react';
import { Box, Text } from 'ink';
import SelectInput from 'ink-select-input';
import { MISMATCH_REASONS, type MismatchReason } from '../../src/core/formats.js';
import type { Theme } from '../theme/theme.js';

export function TagPicker({ count, index, onPick, theme }: { count: number; index: number; onPick: (tag: MismatchReason) => void; theme: Theme }): React.JSX.Element {
  const items = MISMATCH_REASONS.map((r) => ({ key: r, label: r, value: r }));
  return (
    <Box flexDirection="column">
      <Text bold>{`Tag ${count} replay${count === 1 ? '' : 's'} as (j/k, Enter or 1-6 picks, Esc cancels):`}</Text>
      <SelectInput
        key={index}
        items={items}
        initialIndex={index}
        isFocused={false}
        limit={6}
        onSelect={(item) => onPick(item.value)}
        indicatorComponent={({ isSelected }) => <Text>{isSelected ? theme.cursor + ' ' : '  '}</Text>}
        itemComponent={({ isSelected, label }) => <Text inverse={isSelected}>{label}</Text>}
      />
    </Box>
  );
}
