// The retag picker: ink-select-input draws the six causes. Focused (the default), it takes j/k, the
// arrows and Enter itself and calls onPick. The workstation keeps the highlighted index in its reducer
// instead (two fast keys in one frame must both count, which the select's own handler does not
// guarantee), so it renders the picker unfocused and remounts it per move.
import React from 'react';
import { Box, Text } from 'ink';
import SelectInput from 'ink-select-input';
import { MISMATCH_REASONS, type MismatchReason } from '../../src/core/formats.js';
import type { Theme } from '../theme/theme.js';

export interface TagPickerProps {
  count: number;
  /** The highlighted cause (initial when focused, the reducer's when not). */
  index?: number;
  onPick: (tag: MismatchReason) => void;
  theme: Theme;
  /** Take the keyboard (default); false when a reducer drives `index`. */
  isFocused?: boolean;
}

export function TagPicker({ count, index = 0, onPick, theme, isFocused = true }: TagPickerProps): React.JSX.Element {
  const items = MISMATCH_REASONS.map((r) => ({ key: r, label: r, value: r }));
  return (
    <Box flexDirection="column">
      <Text bold>{`Tag ${count} replay${count === 1 ? '' : 's'} as (j/k, Enter or 1-6 picks, Esc cancels):`}</Text>
      <SelectInput
        key={isFocused ? 'focused' : index}
        items={items}
        initialIndex={index}
        isFocused={isFocused}
        limit={6}
        onSelect={(item) => onPick(item.value)}
        indicatorComponent={({ isSelected }) => <Text>{isSelected ? theme.cursor + ' ' : '  '}</Text>}
        itemComponent={({ isSelected, label }) => <Text inverse={isSelected}>{label}</Text>}
      />
    </Box>
  );
}
