// The tag picker on its own, driven from the keyboard through Ink's stdin: focused, it moves with
// j/k and the arrows and picks with Enter; unfocused (as the workstation renders it), keys do nothing.
import { expect, test } from 'vitest';
import React from 'react';
import { render } from 'ink-testing-library';
import { TagPicker } from '../../components/tag-picker/tag-picker.js';
import { makeTheme } from '../../components/theme/theme.js';
import { MISMATCH_REASONS, type MismatchReason } from '../../src/core/formats.js';
import { KEYS, plain } from './harness.js';

const theme = makeTheme({ color: false, ascii: true });

async function waitFor(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`never saw ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  // ink-select-input re-binds its key handler in an effect after the frame: one tick for it (as the
  // workstation harness gives each key), or the next key would see the previous highlight.
  await new Promise((r) => setTimeout(r, 20));
}

test('focused: j, ↓ and k move the highlight; Enter picks the highlighted cause', async () => {
  const picked: MismatchReason[] = [];
  const app = render(<TagPicker count={3} onPick={(t) => picked.push(t)} theme={theme} />);
  const highlighted = () => plain(app.lastFrame() ?? '').split('\n').find((l) => l.startsWith(`${theme.cursor} `)) ?? '';
  await waitFor(() => highlighted().includes(MISMATCH_REASONS[0]), 'the first cause highlighted');
  // Ink attaches its stdin listener after the first render: wait for it rather than sleep.
  await waitFor(() => app.stdin.listenerCount('readable') > 0, 'Ink listening on stdin');
  expect(plain(app.lastFrame() ?? '')).toContain('Tag 3 replays as');
  app.stdin.write('j');
  await waitFor(() => highlighted().includes(MISMATCH_REASONS[1]), 'the second cause highlighted');
  app.stdin.write(KEYS.down);
  await waitFor(() => highlighted().includes(MISMATCH_REASONS[2]), 'the third cause highlighted');
  app.stdin.write('k');
  await waitFor(() => highlighted().includes(MISMATCH_REASONS[1]), 'back on the second cause');
  app.stdin.write(KEYS.enter);
  await waitFor(() => picked.length > 0, 'a pick');
  expect(picked).toEqual([MISMATCH_REASONS[1]]);
  app.unmount();
});

test('unfocused (driven by a reducer): keys neither move nor pick; the given index is highlighted', async () => {
  const picked: MismatchReason[] = [];
  const app = render(<TagPicker count={1} index={4} isFocused={false} onPick={(t) => picked.push(t)} theme={theme} />);
  const frame = () => plain(app.lastFrame() ?? '');
  await waitFor(() => frame().includes(`${theme.cursor} ${MISMATCH_REASONS[4]}`), 'the given index highlighted');
  expect(frame()).toContain('Tag 1 replay as');
  expect(app.stdin.listenerCount('readable')).toBe(0);
  app.stdin.write('j');
  app.stdin.write(KEYS.enter);
  await new Promise((r) => setTimeout(r, 100));
  expect(frame()).toContain(`${theme.cursor} ${MISMATCH_REASONS[4]}`);
  expect(picked).toEqual([]);
  app.unmount();
});
