// The pure reducer, driven with plain rows (no Ink, no store).
import { describe, expect, test } from 'vitest';
import type { ReplayRow, Page } from '../../src/core/ports.js';
import {
  initialState,
  reduce,
  parseFilterText,
  currentFilter,
  listRows,
  MAX_BUFFER,
  type Action,
  type Effect,
  type WorkstationState,
} from '../../components/workstation/use-workstation-state.js';
import { buildDiffLines, textDiffLines } from '../../components/diff-view/diff-lines.js';
import { advisories } from './seed.js';

function row(i: number, over: Partial<ReplayRow> = {}): ReplayRow {
  return {
    replay_id: `rp-${String(i).padStart(6, '0')}`,
    original_scan_id: `scan-${i}`,
    status: i % 3 === 0 ? 'failed' : 'passed',
    bf_match: i % 3 !== 0,
    sf_match: true,
    pf_match: true,
    auto_reason: i % 3 === 0 ? 'feed_drift' : null,
    human_tag: null,
    tag: i % 3 === 0 ? 'feed_drift' : null,
    subtags: [],
    started_at: '2026-11-20T00:00:00.000Z',
    finished_at: '2026-11-20T00:00:00.000Z',
    duration_ms: 10,
    scanner_version: 's 1',
    ecosystem: 'npm',
    policy_set: 'p',
    base_os: 'debian-12',
    project: 'proj',
    feed_digest: 'sha256:00',
    regulated: false,
    executor_kind: 'docker',
    record_dir: null,
    ...over,
  };
}
const rows = (from: number, n: number): ReplayRow[] => Array.from({ length: n }, (_, k) => row(from + k));

function run(s: WorkstationState, ...actions: Action[]): { state: WorkstationState; effects: Effect[] } {
  let state = s;
  const effects: Effect[] = [];
  for (const a of actions) {
    const r = reduce(state, a);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}
const key = (token: string): Action => ({ type: 'key', token });
const keys = (...t: string[]): Action[] => t.map(key);
const page = (r: ReplayRow[], more = false, before = false): Page => ({ rows: r, hasMoreAfter: more, hasMoreBefore: before });

function listState(n = 50, more = false): WorkstationState {
  const s = { ...initialState({ width: 80, height: 24 }), screen: 'replays' as const, stack: ['dashboard' as const] };
  return run(s, { type: 'counts', total: n, failing: 10 }, { type: 'page', where: 'replace', page: page(rows(0, Math.min(n, 100)), more) }).state;
}

describe('start and navigation', () => {
  test('starts on the dashboard; Enter and Tab open the replay list; q quits from the dashboard', () => {
    const s = initialState({ width: 80, height: 24 });
    expect(s.screen).toBe('dashboard');
    expect(run(s, key('enter')).state.screen).toBe('replays');
    expect(run(s, key('tab')).state.screen).toBe('replays');
    const q = run(s, key('q'));
    expect(q.state.quit).toBe(true);
    expect(q.effects).toEqual([{ kind: 'quit' }]);
  });

  test('--open starts on the diff with the list and dashboard behind it', () => {
    const s = initialState({ width: 80, height: 24, openId: 'rp-1' });
    expect(s.screen).toBe('diff');
    expect(s.diff?.id).toBe('rp-1');
    const back = run(s, key('escape'));
    expect(back.state.screen).toBe('replays');
    expect(run(back.state, key('q')).state.screen).toBe('dashboard');
  });

  test('j/k/down/up move the cursor; the window scrolls to keep it visible', () => {
    const s = listState(50);
    const h = listRows(s);
    const r = run(s, ...keys(...Array(h + 2).fill('j')));
    expect(r.state.cursor).toBe(h + 2);
    expect(r.state.top).toBe(3);
    expect(run(r.state, key('k'), key('up')).state.cursor).toBe(h);
    expect(run(s, key('down')).state.cursor).toBe(1);
    expect(run(s, key('k')).state.cursor).toBe(0);
  });

  test('PgDn/PgUp move by a screen; g reloads from the top; G fetches the end', () => {
    const s = listState(50);
    const h = listRows(s);
    expect(run(s, key('pagedown')).state.cursor).toBe(h);
    expect(run(s, key('pagedown'), key('pageup')).state.cursor).toBe(0);
    const g = run(s, key('pagedown'), key('g'));
    expect(g.state.cursor).toBe(0);
    expect(g.effects).toContainEqual({ kind: 'reload' });
    expect(run(s, key('G')).effects).toEqual([{ kind: 'fetch', where: 'end' }]);
  });

  test('the next page is requested before the cursor reaches the edge of the window', () => {
    const s = listState(1000, true);
    const r = run(s, ...keys(...Array(100 - 2 * listRows(s)).fill('j')));
    expect(r.effects).toContainEqual({ kind: 'fetch', where: 'after' });
  });

  test('a move past the loaded window fetches the page first, then repeats the move', () => {
    const atEdge = { ...listState(1000, true), cursor: 99 };
    const r = run(atEdge, key('j'));
    expect(r.state.cursor).toBe(99);
    expect(r.effects).toEqual([{ kind: 'fetch', where: 'after', urgent: true }, { kind: 'then', action: { type: 'move', delta: 1 } }]);
    const moved = run(atEdge, { type: 'page', where: 'after', page: page(rows(100, 100), true) }, { type: 'move', delta: 1 });
    expect(moved.state.cursor).toBe(100);
    // No more rows: the move just stops at the end.
    expect(run({ ...atEdge, hasMoreAfter: false }, key('j')).effects).toEqual([]);
  });

  test('a new filter shows its rows before its counts (status bar says …)', () => {
    const s = listState();
    expect(s.countsPending).toBe(true);
    const counted = run(s, { type: 'counts', total: 7, failing: 3 }).state;
    expect(counted.countsPending).toBe(false);
    expect(run(counted, { type: 'page', where: 'replace', page: page(rows(0, 5)) }).state.countsPending).toBe(true);
  });

  test('the window keeps at most MAX_BUFFER rows and tracks its absolute position', () => {
    let s = listState(10_000, true);
    for (let p = 1; p <= 5; p++) s = run(s, { type: 'page', where: 'after', page: page(rows(p * 100, 100), true) }).state;
    expect(s.rows.length).toBe(MAX_BUFFER);
    expect(s.absStart).toBe(200);
    expect(s.rows[0].replay_id).toBe(row(200).replay_id);
    expect(s.hasMoreBefore).toBe(true);
    const end = run(s, { type: 'page', where: 'end', page: page(rows(9900, 100), false, true) }).state;
    expect(end.absStart).toBe(9900);
    expect(end.cursor).toBe(99);
  });

  test('a resize changes the rows that fit and keeps the cursor visible', () => {
    const s = run(listState(50), ...keys(...Array(15).fill('j'))).state;
    const small = run(s, { type: 'resize', width: 80, height: 12 }).state;
    expect(listRows(small)).toBe(6);
    expect(small.cursor - small.top).toBeLessThan(6);
  });
});

describe('filters and sort', () => {
  test('filter text: free words plus cause:/scanner:/eco:/project:/policy:', () => {
    expect(parseFilterText('cause:feed_drift scanner:s1 eco:npm lodash project:p policy:prod').filter).toEqual({
      causes: ['feed_drift'],
      scanner: 's1',
      ecosystem: 'npm',
      project: 'p',
      policySet: 'prod',
      text: 'lodash',
    });
    expect(parseFilterText('cause:nope').errors[0]).toMatch(/unknown cause 'nope'/);
  });

  test('/ opens the prompt, typing edits it, Enter applies and reloads, Esc cancels', () => {
    const s = listState();
    const typed = run(s, key('/'), ...keys('e', 'c', 'o', ':', 'n', 'p', 'm', 'x', 'backspace'));
    expect(typed.state.modal).toEqual({ kind: 'filter', text: 'eco:npm' });
    const applied = run(typed.state, key('enter'));
    expect(applied.state.filterText).toBe('eco:npm');
    expect(applied.effects).toEqual([{ kind: 'reload' }]);
    expect(currentFilter(applied.state)).toEqual({ ecosystem: 'npm' });
    expect(run(typed.state, key('escape')).state.filterText).toBe('');
    const bad = run(s, key('/'), ...keys(...'cause:x'.split('')), key('enter'));
    expect(bad.state.modal.kind).toBe('filter');
    expect(bad.state.message).toMatch(/unknown cause/);
  });

  test('f toggles failing only, c cycles the causes, s cycles the sorts', () => {
    const s = listState();
    const f = run(s, key('f'));
    expect(currentFilter(f.state)).toEqual({ failingOnly: true });
    expect(f.effects).toEqual([{ kind: 'reload' }]);
    expect(run(f.state, key('f')).state.failingOnly).toBe(false);
    const c = run(s, key('c'));
    expect(c.state.cause).toBe('feed_drift');
    expect(run(s, ...keys('c', 'c', 'c', 'c', 'c', 'c', 'c')).state.cause).toBe(null);
    expect(run(s, key('s')).state.sort).toBe('newest');
    expect(run(s, ...keys('s', 's', 's', 's', 's')).state.sort).toBe('failing_first');
  });
});

describe('marks and retag', () => {
  test('space marks and moves down; v marks a range; A clears; a asks for every id of the filter', () => {
    const s = listState();
    const m = run(s, ...keys('space', 'space', 'space'));
    expect([...m.state.marks].sort()).toEqual([row(0).replay_id, row(1).replay_id, row(2).replay_id]);
    expect(m.state.cursor).toBe(3);
    expect(run(m.state, key('k'), key('space')).state.marks.size).toBe(2);
    const v = run(s, key('v'), ...keys('j', 'j', 'j', 'j'), key('v'));
    expect(v.state.marks.size).toBe(5);
    expect(v.state.rangeAnchor).toBe(null);
    expect(run(v.state, key('A')).state.marks.size).toBe(0);
    expect(run(s, key('a')).effects).toEqual([{ kind: 'markAll' }]);
    expect(run(s, { type: 'marks', ids: ['x', 'y'] }).state.marks.size).toBe(2);
  });

  test('t picks a tag, asks for a note, confirms naming the count; the default is No', () => {
    const s = run(listState(), ...keys('space', 'space', 'space')).state;
    const picking = run(s, key('t'));
    expect(picking.state.modal.kind).toBe('tagPick');
    const noted = run(picking.state, { type: 'tagPicked', tag: 'runtime_drift' }, ...keys('t', 'z', ' '.replace(' ', 'space')));
    expect(noted.state.modal).toMatchObject({ kind: 'note', tag: 'runtime_drift', text: 'tz ' });
    const confirm = run(noted.state, key('enter'));
    expect(confirm.state.modal).toMatchObject({ kind: 'confirm', count: 3, note: 'tz' });
    // Enter (or anything but y) cancels.
    const no = run(confirm.state, key('enter'));
    expect(no.effects).toEqual([]);
    expect(no.state.modal.kind).toBe('none');
    expect(no.state.marks.size).toBe(3);
    const yes = run(confirm.state, key('y'));
    // Rows 1 and 2 passed: a passing replay has no cause, so only row 0 is retagged.
    expect(yes.effects).toEqual([{ kind: 'retag', ids: [row(0).replay_id], tag: 'runtime_drift', note: 'tz', passing: 2 }]);
    expect(yes.state.marks.size).toBe(0);
  });

  test('t with nothing marked tags the cursor row; Esc cancels the picker; u asks for undo', () => {
    const s = run(listState(), key('j')).state;
    const t = run(s, key('t'));
    expect(t.state.modal).toEqual({ kind: 'tagPick', ids: [row(1).replay_id], index: 0 });
    expect(run(t.state, key('j'), key('j'), key('down'), key('k')).state.modal).toMatchObject({ index: 2 });
    expect(run(t.state, key('k')).state.modal).toMatchObject({ index: 5 });
    expect(run(t.state, key('j'), key('enter')).state.modal).toMatchObject({ kind: 'note', tag: 'policy_drift' });
    expect(run(t.state, key('3')).state.modal).toMatchObject({ kind: 'note', tag: 'scanner_drift' });
    expect(run(t.state, key('escape')).state.modal.kind).toBe('none');
    expect(run(s, key('u')).effects).toEqual([{ kind: 'undo' }]);
  });

  test('r without an engine says why; with one it starts a re-run of the marks', () => {
    const s = run(listState(), key('space')).state;
    const no = run(s, { type: 'engine', available: false, reason: 'Docker engine unreachable' }, key('r'));
    expect(no.effects).toEqual([]);
    expect(no.state.message).toBe('re-run unavailable: Docker engine unreachable');
    const yes = run(s, { type: 'engine', available: true, reason: null }, key('r'));
    expect(yes.effects).toEqual([{ kind: 'rerun', ids: [row(0).replay_id] }]);
    expect(yes.state.rerun).toMatchObject({ running: true, total: 1 });
    expect(run(yes.state, key('r')).state.message).toBe('re-run already in progress');
  });

  test('r before the engine check has answered waits for it instead of calling the engine unavailable', () => {
    const s = run(listState(), key('space')).state;
    expect(s.engine).toEqual({ available: false, reason: null });
    const r = run(s, key('r'));
    expect(r.state.message).toBeNull();
    expect(r.effects).toEqual([{ kind: 'rerun', ids: [row(0).replay_id] }]);
    expect(r.state.rerun).toMatchObject({ running: true, total: 1, line: 're-run 0/1: waiting for the Docker engine check' });
  });
});

describe('diff, help, palette', () => {
  const adv = advisories()[0];
  const detail = {
    ...row(3),
    diff_summary: {
      items: [
        { kind: 'vulnerability', vulnerability_id: adv.id, purl: `pkg:npm/${adv.pkg}@1.0.0`, change: 'appeared', a: null, b: 'high', evidence: [{ kind: 'feed_finding', change: 'appeared', records: [{ id: adv.id }] }] },
        { kind: 'verdict', change: 'decision', a: 'pass', b: 'fail', evidence: [] },
      ],
    },
    manifest: null,
    executor: null,
    error: null,
    classifier_version: '1.0.0',
    evidence: null,
    manifest_sha256: null,
    warnings: [],
  };

  test('Enter opens the diff of the cursor row; n/N step between changes; Esc goes back', () => {
    const s = listState();
    const open = run(s, ...keys('j', 'j', 'j'), key('enter'));
    expect(open.state.screen).toBe('diff');
    expect(open.effects).toEqual([{ kind: 'openDiff', id: row(3).replay_id }]);
    const loaded = run(open.state, { type: 'detail', id: row(3).replay_id, detail });
    const lines = loaded.state.diff!.lines;
    const changes = lines.map((l, i) => (l.change ? i : -1)).filter((i) => i >= 0);
    expect(changes.length).toBe(2);
    const n1 = run(loaded.state, key('n'));
    expect(n1.state.diff!.focus).toBe(changes[0]);
    expect(run(n1.state, key('n')).state.diff!.focus).toBe(changes[1]);
    expect(run(n1.state, key('n'), key('N')).state.diff!.focus).toBe(changes[0]);
    expect(run(n1.state, key('N')).state.message).toBe('no earlier change');
    expect(run(loaded.state, key('escape')).state.screen).toBe('replays');
  });

  test('d and m load the raw / manifest views; pressing again returns to the summary', () => {
    const s = run(listState(), key('enter'), { type: 'detail', id: row(0).replay_id, detail: { ...detail, replay_id: row(0).replay_id } }).state;
    expect(run(s, key('d')).effects).toEqual([{ kind: 'loadView', id: row(0).replay_id, view: 'raw' }]);
    expect(run(s, key('m')).effects).toEqual([{ kind: 'loadView', id: row(0).replay_id, view: 'manifest' }]);
    const raw = run(s, { type: 'viewText', id: row(0).replay_id, view: 'raw', lines: textDiffLines('raw', '@@ -1 +1 @@\n-a\n+b\n') }).state;
    expect(raw.diff!.view).toBe('raw');
    expect(run(raw, key('n')).state.diff!.focus).toBe(2);
    expect(run(raw, key('d')).state.diff!.view).toBe('summary');
    expect(run(raw, key('escape')).state.diff!.view).toBe('summary');
  });

  test('a unified diff of several files: each file header pair becomes one heading before its hunks', () => {
    const unified = '===\n--- original/a.json\t\n+++ replay/a.json\t\n@@ -1 +1 @@\n-x\n+y\n===\n--- original/b.json\n+++ replay/b.json\n@@ -2 +2 @@\n ctx\n-p\n+q\n';
    const lines = textDiffLines('raw', unified);
    expect(lines.map((l) => [l.kind, 'text' in l ? l.text : '', l.change])).toEqual([
      ['head', 'raw', false],
      ['head', 'original/a.json -> replay/a.json', false],
      ['text', '@@ -1 +1 @@', false],
      ['text', '-x', true],
      ['text', '+y', true],
      ['head', 'original/b.json -> replay/b.json', false],
      ['text', '@@ -2 +2 @@', false],
      ['text', ' ctx', false],
      ['text', '-p', true],
      ['text', '+q', true],
    ]);
  });

  test('? opens help over the current screen and Esc closes it; : runs palette commands', () => {
    const s = listState();
    const h = run(s, key('?'));
    expect(h.state.screen).toBe('help');
    expect(run(h.state, key('escape')).state.screen).toBe('replays');
    const p = run(s, key(':'), ...keys('s', 'o', 'r', 't', 'space', 'c', 'a', 'u', 's', 'e'), key('enter'));
    expect(p.state.sort).toBe('cause');
    expect(p.effects).toEqual([{ kind: 'reload' }]);
    expect(run(s, key(':'), ...keys('o', 'p', 'e', 'n', 'space', 'X'), key('enter')).effects).toEqual([{ kind: 'openDiff', id: 'X' }]);
    expect(run(s, key(':'), ...keys('z', 'z'), key('enter')).state.message).toMatch(/unknown command ':zz'/);
    expect(run(s, key(':'), key('q'), key('enter')).state.quit).toBe(true);
  });

  test('diff lines: a summary without items renders generically; a passed replay says it matched', () => {
    const generic = buildDiffLines({ ...detail, diff_summary: { packages: { added: [{ key: 'pkg:npm/a', versions: ['1'] }], removed: [], changed: [] }, top_vulnerabilities: [{ vulnerability_id: adv.id, purl: 'p', change: 'appeared', severity: 'high' }], verdict_change: { a: 'pass', b: 'fail' } } });
    expect(generic.filter((l) => l.change).length).toBe(3);
    const passed = buildDiffLines({ ...detail, status: 'passed', diff_summary: null });
    expect(passed.some((l) => l.kind === 'note' && /matched/.test(l.text))).toBe(true);
  });
});
