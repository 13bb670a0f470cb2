// The workstation's pure state machine. Every key goes through `reduce(state, action)`, which returns
// the next state plus the effects (store reads/writes, re-run) the controller must perform; results come
// back as actions. No IO, no clock: tests drive it with plain data.
import { dashboardItems, itemFilter } from '../dashboard/dashboard-items.js';
import { detailOf } from './detail.js';
import { MISMATCH_REASONS, type MismatchReason } from '../../src/core/formats.js';
import type { DashboardData, Page, ReplayDetail, ReplayFilter, ReplayRow, ReplaySort } from '../../src/core/ports.js';
import { parseFilter } from '../../src/core/filter/index.js';
import { actionFor, type KeyAction, type Screen } from '../keys/key-table.js';
import { buildDiffLines, type DiffLine, type EvidenceState } from '../diff-view/diff-lines.js';

export const SORTS: readonly ReplaySort[] = ['failing_first', 'newest', 'oldest', 'cause', 'project'];
/** Rows fetched per store call, and the most rows kept in memory around the cursor. */
export const PAGE_SIZE = 100;
export const MAX_BUFFER = 400;

export type DiffView = 'summary' | 'raw' | 'manifest';

export type Modal =
  | { kind: 'none' }
  | { kind: 'filter'; text: string }
  | { kind: 'palette'; text: string }
  | { kind: 'tagPick'; ids: string[] | null; index: number }
  | { kind: 'note'; ids: string[] | null; tag: MismatchReason; text: string }
  /** `count` replays were chosen; `retag` are those that did not pass (a passing replay has no cause), `passing` the rest. */
  | { kind: 'confirm'; ids: string[] | null; tag: MismatchReason; note: string; count: number; retag: string[]; passing: number }
  /** The detail pane (`i`): full text, wrapped, of what the table cuts. */
  | { kind: 'detail'; title: string; lines: string[] };

export interface RerunState {
  running: boolean;
  done: number;
  total: number;
  line: string;
}

export interface DiffState {
  id: string;
  detail: ReplayDetail | null;
  evidence: EvidenceState | null;
  view: DiffView;
  lines: DiffLine[];
  focus: number;
  scroll: number;
  /** Where `:open` was typed (and the diff then open), to return to when the id is not in the index. */
  from?: { screen: Screen; stack: Screen[]; diff: DiffState | null };
}

export interface WorkstationState {
  screen: Screen;
  /** Screens to return to with Esc / q. */
  stack: Screen[];
  width: number;
  height: number;
  // -- replay list (a window over the store, fetched a page at a time by keyset) --
  rows: ReplayRow[];
  /** Absolute position of rows[0] in the filtered list, when known. */
  absStart: number | null;
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
  cursor: number;
  top: number;
  total: number;
  failing: number;
  /** Rows of a new filter are shown before its counts arrive. */
  countsPending: boolean;
  filterText: string;
  failingOnly: boolean;
  cause: MismatchReason | null;
  sort: ReplaySort;
  marks: ReadonlySet<string>;
  /** The marks known to have passed (from their rows, or the store for `a`): retag leaves them alone. */
  passedMarks: ReadonlySet<string>;
  rangeAnchor: string | null;
  modal: Modal;
  // -- diff --
  /** `evidence`: what the Diff screen opens on (read from the two records after the detail arrives). */
  diff: DiffState | null;
  dashboard: DashboardData | null;
  /** The walkable dashboard row under the cursor (dashboardItems order); -1: none yet, Enter opens all replays. */
  dashCursor: number;
  rerun: RerunState | null;
  engine: { available: boolean; reason: string | null };
  message: string | null;
  quit: boolean;
}

export type Effect =
  | { kind: 'reload' }
  /** `urgent`: the cursor is at the edge and must wait for the page; else it runs after the frame. */
  | { kind: 'fetch'; where: 'after' | 'before' | 'end'; urgent?: boolean }
  /** Dispatch this action once the effects before it have run. */
  | { kind: 'then'; action: Action }
  | { kind: 'refresh' }
  | { kind: 'markAll' }
  | { kind: 'openDiff'; id: string }
  | { kind: 'loadView'; id: string; view: 'raw' | 'manifest' }
  /** `passing`: chosen replays left out because they passed (the message says so). */
  | { kind: 'retag'; ids: string[] | null; tag: MismatchReason; note: string; passing?: number }
  | { kind: 'undo' }
  | { kind: 'rerun'; ids: string[] }
  | { kind: 'dashboard' }
  | { kind: 'quit' };

export type Action =
  | { type: 'key'; token: string }
  | { type: 'move'; delta: number }
  | { type: 'resize'; width: number; height: number }
  | { type: 'counts'; total: number; failing: number }
  | { type: 'page'; where: 'replace' | 'after' | 'before' | 'end'; page: Page }
  | { type: 'refreshed'; rows: ReplayRow[]; hasMoreAfter: boolean }
  /** `passed`: those of `ids` that passed. */
  | { type: 'marks'; ids: string[]; passed?: string[] }
  | { type: 'detail'; id: string; detail: ReplayDetail | null }
  | { type: 'evidence'; id: string; evidence: EvidenceState }
  | { type: 'viewText'; id: string; view: 'raw' | 'manifest'; lines: DiffLine[] }
  | { type: 'tagPicked'; tag: MismatchReason }
  | { type: 'dashboard'; data: DashboardData }
  | { type: 'engine'; available: boolean; reason: string | null }
  | { type: 'rerun'; state: RerunState | null }
  | { type: 'message'; text: string | null };

export interface Result {
  state: WorkstationState;
  effects: Effect[];
}

export function initialState(opts: { width: number; height: number; screen?: Screen; openId?: string }): WorkstationState {
  const base: WorkstationState = {
    screen: opts.screen ?? 'dashboard',
    stack: [],
    width: opts.width,
    height: opts.height,
    rows: [],
    absStart: 0,
    hasMoreBefore: false,
    hasMoreAfter: false,
    cursor: 0,
    top: 0,
    total: 0,
    failing: 0,
    countsPending: true,
    filterText: '',
    failingOnly: false,
    cause: null,
    sort: 'failing_first',
    marks: new Set(),
    passedMarks: new Set(),
    rangeAnchor: null,
    modal: { kind: 'none' },
    diff: null,
    dashboard: null,
    dashCursor: -1,
    rerun: null,
    engine: { available: false, reason: null },
    message: null,
    quit: false,
  };
  if (opts.openId) return { ...base, screen: 'diff', stack: ['dashboard', 'replays'], diff: emptyDiff(opts.openId) };
  return base;
}

/** Effects to run once at start: counts, first page, dashboard (and the diff for --open). */
export function startEffects(s: WorkstationState): Effect[] {
  const out: Effect[] = [{ kind: 'dashboard' }, { kind: 'reload' }];
  if (s.diff) out.push({ kind: 'openDiff', id: s.diff.id });
  return out;
}

/**
 * New summary lines under a focus the engineer already moved: evidence that arrives after `n` goes
 * above the changes, so the same change (by its place among the changes) stays focused on the same
 * screen row instead of the focus jumping back to the top.
 */
function keepFocus(d: NonNullable<WorkstationState['diff']>, lines: DiffLine[]): Pick<NonNullable<WorkstationState['diff']>, 'lines' | 'focus' | 'scroll'> {
  if (d.focus < 0) return { lines, focus: -1, scroll: 0 };
  const nth = d.lines.slice(0, d.focus + 1).filter((l) => l.change).length;
  let focus = -1;
  for (let i = 0, seen = 0; i < lines.length && focus < 0; i++) if (lines[i].change && ++seen === nth) focus = i;
  return { lines, focus, scroll: focus < 0 ? 0 : Math.max(0, focus - (d.focus - d.scroll)) };
}

const emptyDiff = (id: string): NonNullable<WorkstationState['diff']> => ({ id, detail: null, evidence: null, view: 'summary', lines: [], focus: -1, scroll: 0 });

/** The summary lines of a diff (levels, the cause's evidence, the changes), wrapped to the screen's width. */
const summaryLines = (d: NonNullable<WorkstationState['diff']>, s: Pick<WorkstationState, 'width' | 'height'>): DiffLine[] => (d.detail ? buildDiffLines(d.detail, d.evidence, s.width, diffRows(s)) : []);

/** Rows of the replay table that fit: frame = height − 1 (a full-height frame flickers) minus chrome. */
export const listRows = (s: Pick<WorkstationState, 'height'>): number => Math.max(3, s.height - 1 - 5);
/** Lines of the diff body that fit. */
export const diffRows = (s: Pick<WorkstationState, 'height'>): number => Math.max(3, s.height - 1 - 6);

// ---- filter text ------------------------------------------------------------------------------------

/** The shared filter language (src/core/filter), under the name the reducer's tests know. */
export const parseFilterText = parseFilter;

export function currentFilter(s: Pick<WorkstationState, 'filterText' | 'failingOnly' | 'cause'>): ReplayFilter {
  const { filter } = parseFilter(s.filterText);
  if (s.failingOnly) filter.failingOnly = true;
  if (s.cause) filter.causes = [...new Set([...(filter.causes ?? []), s.cause])];
  return filter;
}

export const isFailing = (r: Pick<ReplayRow, 'status'>): boolean => r.status !== 'passed';

/** Those of `ids` known to have passed: marked as such, a row on screen, or the open diff. */
function passedAmong(s: WorkstationState, ids: readonly string[]): Set<string> {
  const want = new Set(ids);
  const out = new Set<string>();
  for (const id of s.passedMarks) if (want.has(id)) out.add(id);
  for (const r of s.rows) if (want.has(r.replay_id) && !isFailing(r)) out.add(r.replay_id);
  const d = s.diff?.detail;
  if (d && want.has(d.replay_id) && !isFailing(d)) out.add(d.replay_id);
  return out;
}

// ---- reducer -----------------------------------------------------------------------------------------

export function reduce(s: WorkstationState, a: Action): Result {
  switch (a.type) {
    case 'key':
      return onKey(s, a.token);
    case 'move':
      return move(s, a.delta);
    case 'resize': {
      const next = scrollIntoView({ ...s, width: a.width, height: a.height });
      // The summary's evidence is wrapped to the width: rewrap it (the raw and manifest views reload on d/m).
      if (next.diff && next.diff.view === 'summary' && (a.width !== s.width || a.height !== s.height)) {
        const lines = summaryLines(next.diff, next);
        return done({ ...next, diff: { ...next.diff, lines, focus: Math.min(next.diff.focus, lines.length - 1), scroll: Math.min(next.diff.scroll, Math.max(0, lines.length - 1)) } });
      }
      return done(next);
    }
    case 'counts':
      return done({ ...s, total: a.total, failing: a.failing, countsPending: false });
    case 'page':
      return done(applyPage(s, a.where, a.page));
    case 'refreshed': {
      const cursor = Math.min(s.cursor, Math.max(0, a.rows.length - 1));
      return done(scrollIntoView({ ...s, rows: a.rows, hasMoreAfter: a.hasMoreAfter, cursor }));
    }
    case 'marks':
      return done({ ...s, marks: new Set(a.ids), passedMarks: new Set(a.passed ?? []), message: `${a.ids.length} marked` });
    case 'detail': {
      if (!s.diff || s.diff.id !== a.id) return done(s);
      if (!a.detail && s.diff.detail === null) {
        // An id the index does not hold: no diff to wait for; back where it was asked for, saying why.
        const message = `replay ${a.id} is not in the index`;
        if (s.screen !== 'diff') return done({ ...s, diff: null, message });
        const from = s.diff.from ?? { screen: s.stack[s.stack.length - 1] ?? 'dashboard', stack: s.stack.slice(0, -1), diff: null };
        return done({ ...s, screen: from.screen, stack: from.stack, diff: from.diff, message });
      }
      // Found: the way back is the stack's again (and the screen it left is not kept alive).
      const diff: DiffState = { ...s.diff, detail: a.detail, view: 'summary', focus: -1, scroll: 0, from: undefined };
      const message = a.detail ? null : `replay ${a.id} is not in the index`;
      return done({ ...s, message, diff: { ...diff, lines: summaryLines(diff, s) } });
    }
    case 'evidence': {
      if (!s.diff || s.diff.id !== a.id) return done(s);
      const diff = { ...s.diff, evidence: a.evidence };
      // Only the summary shows it; a raw or manifest view keeps its lines until Esc.
      if (diff.view !== 'summary') return done({ ...s, diff });
      return done({ ...s, diff: { ...diff, ...keepFocus(diff, summaryLines(diff, s)) } });
    }
    case 'viewText':
      if (!s.diff || s.diff.id !== a.id) return done(s);
      return done({ ...s, diff: { ...s.diff, view: a.view, lines: a.lines, focus: -1, scroll: 0 } });
    case 'tagPicked':
      if (s.modal.kind !== 'tagPick') return done(s);
      return done({ ...s, modal: { kind: 'note', ids: s.modal.ids, tag: a.tag, text: '' } });
    case 'dashboard':
      return done({ ...s, dashboard: a.data, dashCursor: Math.min(s.dashCursor, dashboardItems(a.data).length - 1) });
    case 'engine':
      return done({ ...s, engine: { available: a.available, reason: a.reason } });
    case 'rerun':
      return done({ ...s, rerun: a.state });
    case 'message':
      return done({ ...s, message: a.text });
    default: {
      const _exhaustive: never = a;
      return _exhaustive;
    }
  }
}

const done = (state: WorkstationState, ...effects: Effect[]): Result => ({ state, effects });

function onKey(s0: WorkstationState, token: string): Result {
  // Any key clears the last one-shot message.
  const s = s0.message === null ? s0 : { ...s0, message: null };
  if (token === 'ctrl-c') return done({ ...s, quit: true }, { kind: 'quit' });
  if (s.modal.kind !== 'none') return onModalKey(s, token);
  const action = actionFor(s.screen, token);
  if (!action) return done(s);
  return onAction(s, action);
}

/** Which replays an action applies to: the marks, else the cursor row. `null` ids = "the marks". */
function targetIds(s: WorkstationState): string[] {
  if (s.marks.size > 0) return [...s.marks].sort();
  const row = s.rows[s.cursor];
  return row ? [row.replay_id] : [];
}

function onAction(s: WorkstationState, action: KeyAction): Result {
  switch (action) {
    case 'help':
      return done({ ...s, stack: [...s.stack, s.screen], screen: 'help' });
    case 'back':
    case 'quit':
      return back(s, action === 'quit');
    case 'palette':
      return done({ ...s, modal: { kind: 'palette', text: '' } });
    case 'detail': {
      const d = detailOf(s);
      return d ? done({ ...s, modal: { kind: 'detail', ...d } }) : done({ ...s, message: 'nothing to show here yet' });
    }
    default:
      break;
  }
  if (s.screen === 'dashboard') {
    const items = dashboardItems(s.dashboard);
    const last = items.length - 1;
    const to = (i: number) => done({ ...s, dashCursor: last < 0 ? -1 : Math.max(0, Math.min(last, i)) });
    if (action === 'down') return to(s.dashCursor + 1);
    if (action === 'up') return to(s.dashCursor - 1);
    if (action === 'top' || action === 'pageUp') return to(0);
    if (action === 'bottom' || action === 'pageDown') return to(last);
    const item = action === 'open' && s.dashCursor >= 0 ? items[s.dashCursor] : undefined;
    if (item) {
      // Enter on a cause, an offender or a bucket: Replays filtered by it, in the one filter language.
      const f = itemFilter(item);
      if ('error' in f) return done({ ...s, message: f.error });
      return done({ ...s, stack: [...s.stack, 'dashboard'], screen: 'replays', filterText: f.text, failingOnly: false, cause: null, cursor: 0, top: 0, rangeAnchor: null }, { kind: 'reload' });
    }
    if (action === 'open' || action === 'replays') return done({ ...s, stack: [...s.stack, 'dashboard'], screen: 'replays' });
    if (action === 'undo') return done(s, { kind: 'undo' });
    return done(s);
  }
  if (s.screen === 'help') return done(s);
  if (s.screen === 'diff') return onDiffAction(s, action);
  return onListAction(s, action);
}

function back(s: WorkstationState, quitKey: boolean): Result {
  if (s.screen === 'diff' && s.diff && s.diff.view !== 'summary') {
    // Esc / q from the raw or manifest view returns to the summary first.
    return done({ ...s, diff: { ...s.diff, view: 'summary', lines: summaryLines(s.diff, s), focus: -1, scroll: 0 } });
  }
  if (s.screen === 'replays' && s.rangeAnchor) return done({ ...s, rangeAnchor: null });
  const prev = s.stack[s.stack.length - 1];
  if (prev === undefined) {
    if (quitKey) return done({ ...s, quit: true }, { kind: 'quit' });
    return done(s);
  }
  return done({ ...s, screen: prev, stack: s.stack.slice(0, -1) });
}

function onListAction(s: WorkstationState, action: KeyAction): Result {
  const page = listRows(s);
  switch (action) {
    case 'down':
      return move(s, 1);
    case 'up':
      return move(s, -1);
    case 'pageDown':
      return move(s, page);
    case 'pageUp':
      return move(s, -page);
    case 'top':
      return done({ ...s, cursor: 0, top: 0 }, { kind: 'reload' });
    case 'bottom':
      return done(s, { kind: 'fetch', where: 'end' });
    case 'filter':
      return done({ ...s, modal: { kind: 'filter', text: s.filterText } });
    case 'failing':
      return done({ ...s, failingOnly: !s.failingOnly, cursor: 0, top: 0 }, { kind: 'reload' });
    case 'causeFilter': {
      // Cycle: all causes → each cause in order → all causes.
      const i = s.cause === null ? -1 : MISMATCH_REASONS.indexOf(s.cause);
      const cause = i + 1 < MISMATCH_REASONS.length ? MISMATCH_REASONS[i + 1] : null;
      return done({ ...s, cause, cursor: 0, top: 0 }, { kind: 'reload' });
    }
    case 'sort': {
      const sort = SORTS[(SORTS.indexOf(s.sort) + 1) % SORTS.length];
      return done({ ...s, sort, cursor: 0, top: 0 }, { kind: 'reload' });
    }
    case 'mark': {
      const row = s.rows[s.cursor];
      if (!row) return done(s);
      const marks = new Set(s.marks);
      const passedMarks = new Set(s.passedMarks);
      if (marks.has(row.replay_id)) {
        marks.delete(row.replay_id);
        passedMarks.delete(row.replay_id);
      } else {
        marks.add(row.replay_id);
        if (!isFailing(row)) passedMarks.add(row.replay_id);
      }
      return move({ ...s, marks, passedMarks }, 1);
    }
    case 'range': {
      const row = s.rows[s.cursor];
      if (!row) return done(s);
      if (!s.rangeAnchor) return done({ ...s, rangeAnchor: row.replay_id, message: 'range started: move, then v again' });
      const from = s.rows.findIndex((r) => r.replay_id === s.rangeAnchor);
      const lo = from < 0 ? 0 : Math.min(from, s.cursor);
      const hi = from < 0 ? s.cursor : Math.max(from, s.cursor);
      const marks = new Set(s.marks);
      const passedMarks = new Set(s.passedMarks);
      for (let i = lo; i <= hi; i++) {
        marks.add(s.rows[i].replay_id);
        if (!isFailing(s.rows[i])) passedMarks.add(s.rows[i].replay_id);
      }
      return done({ ...s, marks, passedMarks, rangeAnchor: null, message: `${hi - lo + 1} rows marked` });
    }
    case 'markAll':
      return done(s, { kind: 'markAll' });
    case 'clearMarks':
      return done({ ...s, marks: new Set(), passedMarks: new Set(), rangeAnchor: null });
    case 'tag':
      return startTag(s);
    case 'undo':
      return done(s, { kind: 'undo' });
    case 'rerun':
      return startRerun(s);
    case 'open': {
      const row = s.rows[s.cursor];
      if (!row) return done(s);
      return done({ ...s, stack: [...s.stack, 'replays'], screen: 'diff', diff: emptyDiff(row.replay_id) }, { kind: 'openDiff', id: row.replay_id });
    }
    default:
      return done(s);
  }
}

function startTag(s: WorkstationState): Result {
  const ids = targetIds(s);
  if (ids.length === 0) return done({ ...s, message: 'nothing to tag' });
  return done({ ...s, modal: { kind: 'tagPick', ids, index: 0 } });
}

function startRerun(s: WorkstationState): Result {
  if (s.rerun?.running) return done({ ...s, message: 're-run already in progress' });
  // reason null and not available = the engine check has not answered yet (it starts after the first
  // frames): the re-run waits for it instead of calling a running engine unavailable.
  const checking = !s.engine.available && s.engine.reason === null;
  if (!s.engine.available && !checking) return done({ ...s, message: `re-run unavailable: ${s.engine.reason}` });
  const ids = s.screen === 'diff' && s.diff ? [s.diff.id] : targetIds(s);
  if (ids.length === 0) return done({ ...s, message: 'nothing to re-run' });
  const line = `re-run 0/${ids.length}${checking ? ': waiting for the Docker engine check' : ''}`;
  return done({ ...s, rerun: { running: true, done: 0, total: ids.length, line } }, { kind: 'rerun', ids });
}

/** Move the cursor by `delta` inside the window and ask for the next page before the edge is reached. */
function move(s: WorkstationState, delta: number): Result {
  if (s.rows.length === 0) return done(s);
  // Past the loaded window: fetch the page now, then make the same move (a paste of 150 `j`s lands
  // on row 151, not on the window's edge).
  const target = s.cursor + delta;
  if (delta > 0 && target > s.rows.length - 1 && s.hasMoreAfter) return done(s, { kind: 'fetch', where: 'after', urgent: true }, { kind: 'then', action: { type: 'move', delta } });
  if (delta < 0 && target < 0 && s.hasMoreBefore) return done(s, { kind: 'fetch', where: 'before', urgent: true }, { kind: 'then', action: { type: 'move', delta } });
  const cursor = Math.max(0, Math.min(s.rows.length - 1, s.cursor + delta));
  const next = scrollIntoView({ ...s, cursor });
  const effects: Effect[] = [];
  const ahead = 2 * listRows(s);
  if (delta > 0 && next.hasMoreAfter && next.rows.length - 1 - cursor < ahead) effects.push({ kind: 'fetch', where: 'after' });
  if (delta < 0 && next.hasMoreBefore && cursor < ahead) effects.push({ kind: 'fetch', where: 'before' });
  return { state: next, effects };
}

function scrollIntoView(s: WorkstationState): WorkstationState {
  const h = listRows(s);
  let top = s.top;
  if (s.cursor < top) top = s.cursor;
  if (s.cursor >= top + h) top = s.cursor - h + 1;
  top = Math.max(0, Math.min(top, Math.max(0, s.rows.length - h)));
  return top === s.top ? s : { ...s, top };
}

function applyPage(s: WorkstationState, where: 'replace' | 'after' | 'before' | 'end', page: Page): WorkstationState {
  if (where === 'replace') {
    return scrollIntoView({ ...s, countsPending: true, rows: page.rows, absStart: 0, hasMoreBefore: false, hasMoreAfter: page.hasMoreAfter, cursor: Math.min(s.cursor, Math.max(0, page.rows.length - 1)), top: 0 });
  }
  if (where === 'end') {
    const last = Math.max(0, page.rows.length - 1);
    return scrollIntoView({ ...s, rows: page.rows, absStart: Math.max(0, s.total - page.rows.length), hasMoreBefore: page.hasMoreBefore, hasMoreAfter: false, cursor: last, top: last });
  }
  if (where === 'after') {
    let rows = s.rows.concat(page.rows);
    let { cursor, top, absStart, hasMoreBefore } = s;
    const drop = Math.max(0, rows.length - MAX_BUFFER);
    if (drop > 0) {
      rows = rows.slice(drop);
      cursor -= drop;
      top -= drop;
      absStart = absStart === null ? null : absStart + drop;
      hasMoreBefore = true;
    }
    return scrollIntoView({ ...s, rows, cursor, top, absStart, hasMoreBefore, hasMoreAfter: page.hasMoreAfter });
  }
  const add = page.rows.length;
  let rows = page.rows.concat(s.rows);
  let hasMoreAfter = s.hasMoreAfter;
  if (rows.length > MAX_BUFFER) {
    rows = rows.slice(0, MAX_BUFFER);
    hasMoreAfter = true;
  }
  const absStart = s.absStart === null ? null : Math.max(0, s.absStart - add);
  return scrollIntoView({ ...s, rows, cursor: s.cursor + add, top: s.top + add, absStart, hasMoreBefore: page.hasMoreBefore, hasMoreAfter });
}

function onDiffAction(s: WorkstationState, action: KeyAction): Result {
  const d = s.diff;
  if (!d) return done(s);
  const h = diffRows(s);
  const maxScroll = Math.max(0, d.lines.length - h);
  const scrollTo = (scroll: number): Result => done({ ...s, diff: { ...d, scroll: Math.max(0, Math.min(maxScroll, scroll)) } });
  switch (action) {
    case 'down':
      return scrollTo(d.scroll + 1);
    case 'up':
      return scrollTo(d.scroll - 1);
    case 'pageDown':
      return scrollTo(d.scroll + h);
    case 'pageUp':
      return scrollTo(d.scroll - h);
    case 'top':
      return scrollTo(0);
    case 'bottom':
      return scrollTo(maxScroll);
    case 'nextChange':
    case 'prevChange': {
      const step = action === 'nextChange' ? 1 : -1;
      for (let i = d.focus + step; i >= 0 && i < d.lines.length; i += step) {
        if (d.lines[i].change) {
          // Keep the focused change a couple of lines below the top edge so its header stays visible.
          const scroll = Math.max(0, Math.min(maxScroll, i < d.scroll || i >= d.scroll + h ? i - 2 : d.scroll));
          return done({ ...s, diff: { ...d, focus: i, scroll } });
        }
      }
      return done({ ...s, message: action === 'nextChange' ? 'no further change' : 'no earlier change' });
    }
    case 'rawDiff':
    case 'manifestDiff': {
      const view = action === 'rawDiff' ? 'raw' : 'manifest';
      if (d.view === view) return done({ ...s, diff: { ...d, view: 'summary', lines: summaryLines(d, s), focus: -1, scroll: 0 } });
      return done(s, { kind: 'loadView', id: d.id, view });
    }
    case 'tag':
      return done({ ...s, modal: { kind: 'tagPick', ids: [d.id], index: 0 } });
    case 'undo':
      return done(s, { kind: 'undo' });
    case 'rerun':
      return startRerun(s);
    default:
      return done(s);
  }
}

// ---- modals --------------------------------------------------------------------------------------------

function editText(text: string, token: string): string | null {
  if (token === 'backspace') return text.slice(0, -1);
  if (token === 'ctrl-u') return '';
  if (token === 'space') return text + ' ';
  if (token.length === 1) return text + token;
  return null;
}

function onModalKey(s: WorkstationState, token: string): Result {
  const m = s.modal;
  const close = { ...s, modal: { kind: 'none' } as Modal };
  switch (m.kind) {
    case 'detail':
      // Any key closes the pane; q, Esc and i only close it.
      return done(close);
    case 'none':
      return done(s);
    case 'filter': {
      if (token === 'escape') return done(close);
      if (token === 'enter') {
        const { errors } = parseFilterText(m.text);
        if (errors.length) return done({ ...s, message: errors[0] });
        return done({ ...close, filterText: m.text.trim(), cursor: 0, top: 0 }, { kind: 'reload' });
      }
      const text = editText(m.text, token);
      return done(text === null ? s : { ...s, modal: { kind: 'filter', text } });
    }
    case 'palette': {
      if (token === 'escape') return done(close);
      if (token === 'enter') return runPalette(close, m.text.trim());
      const text = editText(m.text, token);
      return done(text === null ? s : { ...s, modal: { kind: 'palette', text } });
    }
    case 'tagPick': {
      // The picker's keys go through this reducer too (ink-select-input only draws it): two fast `j`s
      // in one frame must move twice, which its own closure-based handler does not guarantee.
      const n = MISMATCH_REASONS.length;
      if (token === 'escape' || token === 'q') return done({ ...close, message: 'retag cancelled' });
      if (token === 'j' || token === 'down') return done({ ...s, modal: { ...m, index: (m.index + 1) % n } });
      if (token === 'k' || token === 'up') return done({ ...s, modal: { ...m, index: (m.index + n - 1) % n } });
      const digit = /^[1-9]$/.test(token) ? Number(token) - 1 : -1;
      if (digit >= 0 && digit < n) return done({ ...s, modal: { kind: 'note', ids: m.ids, tag: MISMATCH_REASONS[digit], text: '' } });
      if (token === 'enter') return done({ ...s, modal: { kind: 'note', ids: m.ids, tag: MISMATCH_REASONS[m.index], text: '' } });
      return done(s);
    }
    case 'note': {
      if (token === 'escape') return done({ ...close, message: 'retag cancelled' });
      if (token === 'enter') {
        const ids = m.ids ?? [...s.marks].sort();
        const passed = passedAmong(s, ids);
        const retag = ids.filter((id) => !passed.has(id));
        if (ids.length > 0 && retag.length === 0) {
          // Nothing to ask: every chosen replay passed, and a passing replay has no cause to correct.
          const what = ids.length === 1 ? `replay ${ids[0]} passed` : `all ${ids.length} chosen replays passed`;
          return done({ ...close, message: `${what}: nothing to retag (a passing replay has no cause)` });
        }
        return done({ ...s, modal: { kind: 'confirm', ids: m.ids, tag: m.tag, note: m.text.trim(), count: ids.length, retag, passing: ids.length - retag.length } });
      }
      const text = editText(m.text, token);
      return done(text === null ? s : { ...s, modal: { ...m, text } });
    }
    case 'confirm':
      // Defaults to No: only an explicit `y` retags.
      if (token === 'y' || token === 'Y') {
        return done({ ...close, marks: new Set(), passedMarks: new Set() }, { kind: 'retag', ids: m.retag, tag: m.tag, note: m.note, ...(m.passing ? { passing: m.passing } : {}) });
      }
      return done({ ...close, message: 'retag cancelled' });
    default: {
      const _exhaustive: never = m;
      return _exhaustive;
    }
  }
}

function runPalette(s: WorkstationState, cmd: string): Result {
  const [verb, arg] = cmd.split(/\s+/, 2);
  switch (verb) {
    case 'q':
    case 'quit':
      return done({ ...s, quit: true }, { kind: 'quit' });
    case 'dashboard':
      return done({ ...s, screen: 'dashboard', stack: [] }, { kind: 'dashboard' });
    case 'replays':
      return done({ ...s, screen: 'replays', stack: ['dashboard'] });
    case 'open':
      if (!arg) return done({ ...s, message: 'usage: :open REPLAY_ID' });
      return done({ ...s, screen: 'diff', stack: ['dashboard', 'replays'], diff: { ...emptyDiff(arg), from: { screen: s.screen, stack: s.stack, diff: s.diff } } }, { kind: 'openDiff', id: arg });
    case 'sort':
      if (!(SORTS as readonly string[]).includes(arg ?? '')) return done({ ...s, message: `sort is one of ${SORTS.join(', ')}` });
      return done({ ...s, sort: arg as ReplaySort, cursor: 0, top: 0 }, { kind: 'reload' });
    case 'failing':
      return done({ ...s, failingOnly: !s.failingOnly, cursor: 0, top: 0 }, { kind: 'reload' });
    case 'undo':
      return done(s, { kind: 'undo' });
    case 'help':
      return done({ ...s, stack: [...s.stack, s.screen], screen: 'help' });
    case '':
    case undefined:
      return done(s);
    default:
      return done({ ...s, message: `unknown command ':${verb}' (q, dashboard, replays, open ID, sort X, failing, undo, help)` });
  }
}
