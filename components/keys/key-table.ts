// The one key table of the workstation (SPEC §6). The input handler resolves keys through it and the
// `?` help overlay is generated from it, so the two can never disagree.
export type Screen = 'dashboard' | 'replays' | 'diff' | 'help';

export type KeyAction =
  | 'down' | 'up' | 'top' | 'bottom' | 'pageDown' | 'pageUp'
  | 'filter' | 'failing' | 'causeFilter' | 'sort'
  | 'mark' | 'range' | 'markAll' | 'clearMarks'
  | 'tag' | 'undo' | 'rerun' | 'open'
  | 'nextChange' | 'prevChange' | 'rawDiff' | 'manifestDiff'
  | 'palette' | 'help' | 'back' | 'quit' | 'replays' | 'detail';

export interface KeyBinding {
  action: KeyAction;
  /** Key tokens as produced by tokenize(): single characters or names such as `down`, `enter`. */
  keys: readonly string[];
  /** How the key is written in the help and the status bar. */
  label: string;
  help: string;
  screens: readonly Screen[];
}

const LIST: readonly Screen[] = ['replays'];
const MOVE: readonly Screen[] = ['dashboard', 'replays', 'diff', 'help'];
const ALL: readonly Screen[] = ['dashboard', 'replays', 'diff', 'help'];

export const KEY_TABLE: readonly KeyBinding[] = [
  { action: 'down', keys: ['j', 'down'], label: 'j/↓', help: 'move down', screens: MOVE },
  { action: 'up', keys: ['k', 'up'], label: 'k/↑', help: 'move up', screens: MOVE },
  { action: 'top', keys: ['g', 'home'], label: 'g', help: 'first row', screens: MOVE },
  { action: 'bottom', keys: ['G', 'end'], label: 'G', help: 'last row', screens: MOVE },
  { action: 'pageDown', keys: ['pagedown'], label: 'PgDn', help: 'page down', screens: MOVE },
  { action: 'pageUp', keys: ['pageup'], label: 'PgUp', help: 'page up', screens: MOVE },
  { action: 'filter', keys: ['/'], label: '/', help: 'filter (text, cause:X eco:X …)', screens: LIST },
  { action: 'failing', keys: ['f'], label: 'f', help: 'failing only (toggle)', screens: LIST },
  { action: 'causeFilter', keys: ['c'], label: 'c', help: 'cause filter (cycles)', screens: LIST },
  { action: 'sort', keys: ['s'], label: 's', help: 'sort (cycles)', screens: LIST },
  { action: 'mark', keys: ['space'], label: 'space', help: 'mark row and move down', screens: LIST },
  { action: 'range', keys: ['v'], label: 'v', help: 'range mark (start / end)', screens: LIST },
  { action: 'markAll', keys: ['a'], label: 'a', help: 'mark all rows of the filter', screens: LIST },
  { action: 'clearMarks', keys: ['A'], label: 'A', help: 'clear marks', screens: LIST },
  { action: 'tag', keys: ['t'], label: 't', help: 'tag marks (or cursor row)', screens: ['replays', 'diff'] },
  { action: 'undo', keys: ['u'], label: 'u', help: 'undo last retag (persistent)', screens: ['replays', 'diff', 'dashboard'] },
  { action: 'rerun', keys: ['r'], label: 'r', help: 're-run marks in Docker', screens: ['replays', 'diff'] },
  { action: 'open', keys: ['enter'], label: 'Enter', help: 'open replays / diff', screens: ['replays'] },
  { action: 'open', keys: ['enter'], label: 'Enter', help: 'Replays (of the j/k row)', screens: ['dashboard'] },
  { action: 'replays', keys: ['tab'], label: 'Tab', help: 'go to the replay list', screens: ['dashboard'] },
  { action: 'nextChange', keys: ['n'], label: 'n', help: 'next change', screens: ['diff'] },
  { action: 'prevChange', keys: ['N'], label: 'N', help: 'previous change', screens: ['diff'] },
  { action: 'rawDiff', keys: ['d'], label: 'd', help: 'raw canonical diff', screens: ['diff'] },
  { action: 'manifestDiff', keys: ['m'], label: 'm', help: 'manifest / environment diff', screens: ['diff'] },
  { action: 'detail', keys: ['i'], label: 'i', help: 'full text of row, gate, change', screens: ['dashboard', 'replays', 'diff'] },
  { action: 'palette', keys: [':'], label: ':', help: 'command (:open ID :sort X :q)', screens: ALL },
  { action: 'help', keys: ['?'], label: '?', help: 'help (this screen)', screens: ALL },
  { action: 'back', keys: ['escape'], label: 'Esc', help: 'back', screens: ALL },
  { action: 'quit', keys: ['q'], label: 'q', help: 'back; quit on the dashboard', screens: ALL },
];

/** screen → token → action, built once from KEY_TABLE. */
const INDEX: ReadonlyMap<Screen, ReadonlyMap<string, KeyAction>> = (() => {
  const out = new Map<Screen, Map<string, KeyAction>>();
  for (const b of KEY_TABLE) {
    for (const s of b.screens) {
      const m = out.get(s) ?? new Map<string, KeyAction>();
      for (const k of b.keys) m.set(k, b.action);
      out.set(s, m);
    }
  }
  return out;
})();

export function actionFor(screen: Screen, token: string): KeyAction | null {
  return INDEX.get(screen)?.get(token) ?? null;
}

export function bindingsFor(screen: Screen): KeyBinding[] {
  return KEY_TABLE.filter((b) => b.screens.includes(screen));
}

/** The subset of Ink's `Key` flags tokenize() reads (kept structural so tests need no Ink). */
export interface KeyFlags {
  upArrow?: boolean; downArrow?: boolean; pageUp?: boolean; pageDown?: boolean; home?: boolean; end?: boolean;
  return?: boolean; escape?: boolean; tab?: boolean; backspace?: boolean; delete?: boolean; ctrl?: boolean;
  leftArrow?: boolean; rightArrow?: boolean;
}

/**
 * Ink hands fast typing, a paste or tmux `send-keys jjj` to useInput as ONE string, so the input is
 * split into one token per key here and each token is dispatched on its own.
 */
export function tokenize(input: string, key: KeyFlags): string[] {
  if (key.upArrow) return ['up'];
  if (key.downArrow) return ['down'];
  if (key.pageUp) return ['pageup'];
  if (key.pageDown) return ['pagedown'];
  if (key.home) return ['home'];
  if (key.end) return ['end'];
  if (key.escape) return ['escape'];
  if (key.tab) return ['tab'];
  if (key.backspace || key.delete) return ['backspace'];
  if (key.leftArrow) return ['left'];
  if (key.rightArrow) return ['right'];
  if (key.ctrl && input === 'c') return ['ctrl-c'];
  if (key.ctrl && input === 'u') return ['ctrl-u'];
  if (key.return && input.length <= 1) return ['enter'];
  const out: string[] = [];
  for (const ch of input) {
    if (ch === ' ') out.push('space');
    else if (ch === '\r' || ch === '\n') out.push('enter');
    else if (ch === '\u001b') out.push('escape');
    else if (ch === '\u007f' || ch === '\b') out.push('backspace');
    else if (ch >= ' ') out.push(ch);
  }
  return out;
}
