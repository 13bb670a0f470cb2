// The workstation frame: title bar, the current screen, a message/prompt line and the status bar. The
// frame is kept at height − 1 lines: a frame as tall as the terminal makes Ink clear the screen on
// every render (flicker).
import React from 'react';
import { Box, Text } from 'ink';
import { Dashboard, gateColor } from '../dashboard/dashboard.js';
import { ReplayList } from '../replay-list/replay-list.js';
import { DiffViewScreen } from '../diff-view/diff-view.js';
import { Help } from '../help/help.js';
import { TagPicker } from '../tag-picker/tag-picker.js';
import { bindingsFor, type Screen } from '../keys/key-table.js';
import { fit, wrap, type Theme } from '../theme/theme.js';
import type { MismatchReason } from '../../src/core/formats.js';
import { diffRows, listRows, type WorkstationState } from './use-workstation-state.js';
import { useWorkstation, ENGINE_HINT, type WorkstationController } from './use-workstation.js';

const HINTS: Record<Screen, string[]> = {
  dashboard: ['open', 'undo', 'palette', 'help', 'quit'],
  replays: ['down', 'mark', 'tag', 'undo', 'rerun', 'open', 'filter', 'failing', 'causeFilter', 'sort', 'help', 'quit'],
  diff: ['nextChange', 'prevChange', 'rawDiff', 'manifestDiff', 'tag', 'rerun', 'help', 'back'],
  help: ['back'],
};

const SHORT: Record<string, string> = {
  open: 'open', undo: 'undo', palette: 'cmd', help: 'help', quit: 'quit', down: 'move', mark: 'mark', tag: 'tag',
  rerun: 're-run', filter: 'filter', failing: 'failing', causeFilter: 'cause', sort: 'sort', nextChange: 'next',
  prevChange: 'prev', rawDiff: 'raw', manifestDiff: 'manifest', back: 'back',
};

/** Hints given up first when the line is too narrow (help lists them all); `? help`, `q quit` and `Esc back` never are. */
const DROP_FIRST: readonly string[] = ['down', 'causeFilter', 'sort', 'undo', 'palette', 'prevChange', 'manifestDiff', 'rerun', 'mark', 'failing', 'tag', 'filter', 'open', 'nextChange', 'rawDiff'];

/** The key hints of a screen, from the key table, fitted to the width by dropping the least needed first. */
export function hintLine(screen: Screen, width: number): string {
  const table = bindingsFor(screen);
  let parts = HINTS[screen].flatMap((a) => {
    const b = table.find((x) => x.action === a);
    return b ? [{ a, text: `${b.label} ${SHORT[a] ?? a}` }] : [];
  });
  const line = (): string => parts.map((p) => p.text).join('  ');
  for (const a of DROP_FIRST) {
    if (line().length <= width - 1) break;
    parts = parts.filter((p) => p.a !== a);
  }
  return fit(line(), width - 1);
}

const TITLES: Record<Screen, string> = { dashboard: 'Dashboard', replays: 'Replays', diff: 'Diff', help: 'Help' };

export function statusLine(s: WorkstationState): string {
  const gate = s.dashboard ? s.dashboard.gate.state : '…';
  const total = s.countsPending ? '…' : String(s.total);
  const pos = s.rows.length === 0 ? '0/0' : `${s.absStart === null ? '?' : s.absStart + s.cursor + 1}/${total}`;
  return `${total} replays | ${s.countsPending ? '…' : s.failing} failing | ${s.marks.size} marked | gate ${gate} | row ${pos}`;
}

function filterSummary(s: WorkstationState): string {
  const parts = [`sort:${s.sort}`];
  if (s.failingOnly) parts.push('failing');
  if (s.cause) parts.push(`cause:${s.cause}`);
  if (s.filterText) parts.push(`/${s.filterText}`);
  return parts.join(' ');
}

/** The prompt, then the one-shot message (a bad filter's error stays under its prompt), then re-run progress. */
function messageText(s: WorkstationState): { prompt: string | null; lines: string[] } {
  const m = s.modal;
  let prompt: string | null = null;
  switch (m.kind) {
    case 'filter': {
      // The hint shortens, then goes, as the text grows: never cut mid-word.
      const text = `/${m.text}_`;
      const hint = ['   (Enter apply, Esc cancel; cause:X scanner:X eco:X project:X policy:X)', '   (Enter apply, Esc cancel; cause:X eco:X …)', '   (Enter apply, Esc cancel)'].find((h) => text.length + h.length <= s.width - 1) ?? '';
      prompt = text + hint;
      break;
    }
    case 'palette':
      prompt = `:${m.text}_`;
      break;
    case 'note':
      {
        const hint = [' (optional, Enter continues, Esc cancels)', ' (optional)', ''].find((h) => `note for ${m.tag}${h}: ${m.text}_`.length <= s.width - 1) ?? '';
        prompt = `note for ${m.tag}${hint}: ${m.text}_`;
      }
      break;
    case 'confirm':
      if (m.passing === 0) prompt = `Retag ${m.count} replay${m.count === 1 ? '' : 's'} as ${m.tag}? [y/N]`;
      else {
        // Big counts and a long cause: the shorter wording, so the question and [y/N] stay whole.
        const n = m.retag.length;
        const long = `Retag ${n} failing replay${n === 1 ? '' : 's'} as ${m.tag}? (${m.passing} passing left untagged) [y/N]`;
        prompt = long.length <= s.width - 1 ? long : `Retag ${n} failing as ${m.tag}? (${m.passing} passing left) [y/N]`;
      }
      break;
    default:
      break;
  }
  if (s.message) return { prompt, lines: s.message.startsWith('re-run unavailable') ? [s.message, ENGINE_HINT] : [s.message] };
  if (prompt !== null) return { prompt, lines: [] };
  if (s.rerun) return { prompt, lines: [s.rerun.line] };
  return { prompt, lines: [''] };
}

/**
 * The prompt/message lines as drawn, each at most width − 1 cells: the prompt on one line, a message
 * wrapped onto at most two (a filter error, the palette's command list, a re-run summary).
 */
export function messageLines(s: WorkstationState): string[] {
  const w = s.width - 1;
  const { prompt, lines } = messageText(s);
  const out = prompt === null ? [] : [fit(prompt, w).trimEnd()];
  for (const l of lines) out.push(...wrap(l, w, 2));
  return out;
}

export function WorkstationView({ state: s, theme, onPick }: { state: WorkstationState; theme: Theme; onPick?: (tag: MismatchReason) => void }): React.JSX.Element {
  const w = s.width;
  const msg = messageLines(s);
  const extra = msg.length - 1;
  let body: React.JSX.Element;
  if (s.modal.kind === 'detail') {
    body = (
      <Box flexDirection="column" height={s.height - 4 - extra} overflow="hidden">
        <Text bold>{fit(s.modal.title, w - 1)}</Text>
        {s.modal.lines.map((l, i) => (
          <Text key={i} wrap="wrap">{l === '' ? ' ' : l}</Text>
        ))}
      </Box>
    );
  } else if (s.modal.kind === 'tagPick') {
    body = <Box flexDirection="column" height={listRows(s) + 1}><TagPicker count={s.modal.ids?.length ?? s.marks.size} index={s.modal.index} theme={theme} isFocused={false} onPick={onPick ?? (() => undefined)} /></Box>;
  } else if (s.screen === 'dashboard') {
    body = <Dashboard data={s.dashboard} width={w} height={s.height - extra} theme={theme} cursor={s.dashCursor} />;
  } else if (s.screen === 'replays') {
    body = <ReplayList rows={s.rows} top={s.top} cursor={s.cursor} height={listRows(s) - extra} width={w} marks={s.marks} rangeAnchor={s.rangeAnchor} theme={theme} />;
  } else if (s.screen === 'diff') {
    const d = s.diff;
    body = d ? (
      <DiffViewScreen id={d.id} view={d.view} lines={d.lines} loaded={d.detail !== null || d.view !== 'summary'} focus={d.focus} scroll={d.scroll} height={diffRows(s) - extra} width={w} theme={theme} />
    ) : <Text>no replay open</Text>;
  } else {
    const under = s.stack[s.stack.length - 1] ?? 'dashboard';
    body = <Help screen={under} width={w} height={s.height - 5 - extra} />;
  }
  const gate = s.dashboard?.gate.state;
  return (
    <Box flexDirection="column" width={w}>
      <Text bold inverse={!theme.color}>{fit(`Stella Replay - ${TITLES[s.screen]}   ${s.screen === 'replays' ? filterSummary(s) : ''}`, w - 1)}</Text>
      {body}
      {msg.map((l, i) => (
        <Text key={`m${i}`} bold={s.modal.kind !== 'none' && (i === 0 || !s.message)}>{fit(l, w - 1)}</Text>
      ))}
      <Text color={gate ? gateColor(gate, theme) : undefined}>{fit(statusLine(s), w - 1)}</Text>
      <Text color={theme.dim}>{hintLine(s.screen, w)}</Text>
    </Box>
  );
}

/** A view bug shows one line and keeps the terminal usable instead of crashing it. */
export class ViewErrorBoundary extends React.Component<{ children: React.ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };
  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }
  override render(): React.ReactNode {
    if (this.state.error) return <Text>{`workstation error: ${this.state.error.message} (q quits)`}</Text>;
    return this.props.children;
  }
}

/** The connected workstation: the controller's state, drawn. */
export function Workstation({ controller, theme }: { controller: WorkstationController; theme: Theme }): React.JSX.Element {
  const state = useWorkstation(controller);
  return (
    <ViewErrorBoundary>
      <WorkstationView state={state} theme={theme} onPick={(tag) => controller.dispatch({ type: 'tagPicked', tag })} />
    </ViewErrorBoundary>
  );
}
