// Every screen and every key binding of KEY_TABLE, through Ink's stdin, over a real SQLite index
// seeded from the OSV and lockfile fixtures.
import { afterAll, describe, expect, test } from 'vitest';
import { KEY_TABLE, type KeyAction } from '../../components/keys/key-table.js';
import { makeTheme } from '../../components/theme/theme.js';
import { helpLines } from '../../components/help/help.js';
import { tempDir } from '../helpers/tmp.js';
import { KEYS, mount, openSeeded, type Harness } from './harness.js';

const covered = new Set<KeyAction>();
const cover = (...a: KeyAction[]): void => a.forEach((x) => covered.add(x));

const dir = tempDir('stella-tui-views-');
const { store, failing } = await openSeeded(dir, 300);
afterAll(() => store.close());

async function atList(h: Harness): Promise<string> {
  await h.waitFor('gate: FAIL', 'the dashboard');
  await h.press(KEYS.enter);
  return h.waitFor(/REPLAY[\s\S]*row \d+\/\d+/, 'the replay list with its counts');
}

// ink-select-input subscribes to stdin in an effect after its first frame.
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));
const cursorRow = (f: string): string => f.split('\n').find((l) => l.startsWith('>')) ?? '';
const lineCount = (f: string): number => f.split('\n').length;

describe('screens', () => {
  test('dashboard: fidelity 30/90 with sparklines, gate, offenders, causes, status bar; fits 80×24', async () => {
    const h = await mount(store);
    const f = await h.waitFor('300 replays | 112 failing | 0 marked | gate fail');
    expect(f).toContain('gate: FAIL');
    expect(f).toMatch(/BF\s+\d+\.\d%\s+\d+\.\d%\s+[▁▂▃▄▅▆▇█]+/);
    expect(f).toMatch(/SF\s+\d+\.\d%/);
    expect(f).toMatch(/PF\s+\d+\.\d%/);
    expect(f).toContain('Top offenders');
    expect(f).toMatch(/scanner:stella-scan/);
    expect(f).toMatch(/Causes \(last 30 days\)\n\s+\w+_\w+\s+\d+ █+/);
    expect(f).toContain('300 replays | 112 failing | 0 marked | gate fail');
    expect(lineCount(f)).toBeLessThanOrEqual(23);
    expect(Math.max(...f.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    h.unmount();
  });

  test('replays: failing first, textual cursor, windowed rows only, status bar with row position', async () => {
    const h = await mount(store);
    const f = await atList(h);
    const rows = f.split('\n').filter((l) => /^[> ].?rp-/.test(l));
    expect(rows.length).toBe(18);
    expect(rows.every((l) => /failed|error/.test(l))).toBe(true);
    expect(cursorRow(f)).toContain(failing[0]);
    expect(f).toContain('row 1/300');
    expect(lineCount(f)).toBeLessThanOrEqual(23);
    h.unmount();
  });

  test('no colour: NO_COLOR theme emits no colour codes yet keeps inverse; ASCII glyphs', async () => {
    const { render } = await import('ink-testing-library');
    const React = await import('react');
    const { WorkstationView } = await import('../../components/workstation/workstation.js');
    const h = await mount(store);
    await atList(h);
    const state = h.controller.getState();
    const mono = render(React.createElement(WorkstationView, { state, theme: makeTheme({ color: false, ascii: true }) }));
    const raw = mono.lastFrame() ?? '';
    expect(raw).not.toMatch(/\u001b\[3[0-7]m/);
    const colour = render(React.createElement(WorkstationView, { state, theme: makeTheme({ color: true, ascii: false }) }));
    // The colour theme does colour rows when the terminal supports it; the mono one never does.
    expect(colour.lastFrame()).toContain('rp-');
    const dash = render(React.createElement(WorkstationView, { state: { ...state, screen: 'dashboard' }, theme: makeTheme({ color: false, ascii: true }) }));
    expect(dash.lastFrame()).not.toMatch(/[▁▂▃▄▅▆▇█●]/);
    mono.unmount();
    colour.unmount();
    dash.unmount();
    h.unmount();
  });

  test('help is generated from the key table of the screen under it', async () => {
    const h = await mount(store);
    await atList(h);
    await h.press('?');
    const f = await h.waitFor('Keys on the replays screen');
    cover('help');
    for (const line of helpLines('replays')) expect(f).toContain(line.trimEnd());
    expect(lineCount(f)).toBeLessThanOrEqual(23);
    await h.press(KEYS.escape);
    await h.waitFor('REPLAY');
    cover('back');
    h.unmount();
  });
});

describe('key bindings', () => {
  test('dashboard: Enter and Tab open the replays; q quits', async () => {
    const h = await mount(store);
    await atList(h);
    cover('open');
    await h.press('q');
    await h.waitFor('gate: FAIL');
    await h.press(KEYS.tab);
    await h.waitFor('REPLAY');
    cover('replays', 'quit');
    await h.press('q', 'q');
    await h.waitFor(() => h.controller.getState().quit, 'quit');
    h.unmount();
  });

  test('j k ↓ ↑ g G PgDn PgUp move through 300 rows fetched a page at a time', async () => {
    const h = await mount(store);
    await atList(h);
    await h.press('j', 'j', KEYS.down);
    await h.waitFor('row 4/300');
    await h.press('k', KEYS.up);
    await h.waitFor('row 2/300');
    await h.press(KEYS.pagedown);
    await h.waitFor('row 20/300');
    await h.press(KEYS.pageup);
    await h.waitFor('row 2/300');
    await h.press('G');
    const end = await h.waitFor('row 300/300');
    expect(cursorRow(end)).toMatch(/passed/);
    await h.press('g');
    await h.waitFor('row 1/300');
    // 150 rows down crosses the first page boundary (keyset fetch of the next page).
    await h.press('j'.repeat(150));
    await h.waitFor('row 151/300');
    cover('down', 'up', 'pageDown', 'pageUp', 'bottom', 'top');
    h.unmount();
  });

  test('/ filter with cause:, f failing only, c cause filter, s sort', async () => {
    const h = await mount(store);
    await atList(h);
    await h.press('f');
    await h.waitFor('112 failing');
    await h.waitFor(/sort:failing_first failing/);
    await h.press('c');
    const c = await h.waitFor('cause:feed_drift');
    expect(c.split('\n').filter((l) => /rp-/.test(l)).every((l) => l.includes('feed_drift'))).toBe(true);
    await h.press('c', 'c', 'c', 'c', 'c', 'c');
    await h.waitFor((f) => !f.includes('cause:'), 'cause filter cleared');
    await h.press('/', ...'cause:policy_drift'.split(''));
    await h.waitFor('/cause:policy_drift_');
    await h.press(KEYS.enter);
    const pf = await h.waitFor('/cause:policy_drift');
    expect(pf.split('\n').filter((l) => /rp-/.test(l)).every((l) => l.includes('policy_drift'))).toBe(true);
    await h.press('s');
    await h.waitFor('sort:newest');
    cover('filter', 'failing', 'causeFilter', 'sort');
    h.unmount();
  });

  test('space v a A mark rows; the status bar counts them', async () => {
    const h = await mount(store);
    await atList(h);
    await h.press(' ', ' ', ' ');
    const m = await h.waitFor('3 marked');
    expect(m.split('\n').filter((l) => /^.●rp-/.test(l)).length).toBe(3);
    await h.press('A');
    await h.waitFor('0 marked');
    await h.press('v', 'j', 'j', 'j', 'v');
    await h.waitFor('4 marked');
    await h.press('f', 'a');
    await h.waitFor('112 marked');
    await h.press('A');
    await h.waitFor('0 marked');
    cover('mark', 'range', 'markAll', 'clearMarks');
    h.unmount();
  });

  test('t retags the marks (picker, note, confirm naming the count, default No); u undoes; audit rows', async () => {
    const h = await mount(store);
    await atList(h);
    await h.press(' ', ' ');
    await h.waitFor('2 marked');
    await h.press('t');
    await h.waitFor('Tag 2 replays as');
    await settle();
    await h.press('j');
    await h.press('j');
    await h.waitFor(/> policy_drift|>\s+scanner_drift/);
    await h.press(KEYS.enter);
    await h.waitFor('note for');
    await h.press(...'tz'.split(''), KEYS.enter);
    await h.waitFor('Retag 2 replays as');
    // Enter is "No".
    await h.press(KEYS.enter);
    await h.waitFor('retag cancelled');
    expect((await store.tagEvents()).length).toBe(0);
    await h.press('t');
    await h.waitFor('Tag 2 replays as');
    await settle();
    await h.press('j');
    await h.press(KEYS.enter);
    await h.waitFor('note for policy_drift');
    await h.press(KEYS.enter);
    await h.waitFor('Retag 2 replays as policy_drift? [y/N]');
    await h.press('y');
    await h.waitFor(/retagged \d of 2 as policy_drift/);
    const events = (await store.tagEvents());
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.who === 'tester' && e.new_tag === 'policy_drift' && e.at === '2026-11-21T00:00:00.000Z')).toBe(true);
    await h.press('u');
    await h.waitFor(/undid retag \w+: \d+ restored/);
    expect((await store.tagEvents()).every((e) => e.undone)).toBe(true);
    cover('tag', 'undo');
    h.unmount();
  });

  test('r without a Docker engine says why and how to start it', async () => {
    const h = await mount(store);
    await atList(h);
    await h.waitFor(() => h.controller.getState().engine.reason !== null, 'the engine check');
    await h.press('r');
    const f = await h.waitFor('re-run unavailable');
    expect(f).toContain('dockerd --bridge=none');
    cover('rerun');
    h.unmount();
  });

  test('Enter opens the side-by-side diff; n N step; d and m explain what is missing; Esc back', async () => {
    const h = await mount(store);
    await atList(h);
    await h.press(KEYS.enter);
    const f = await h.waitFor('semantic diff of');
    expect(f).toMatch(/original\s+\| replay/);
    expect(f).toMatch(/vuln GHSA-[\w-]+ pkg:/);
    expect(f).toContain('evidence: feed appeared GHSA-');
    expect(f).toMatch(/verdict decision\s+\| pass\s+\| fail/);
    await h.press('n');
    await h.waitFor((x) => /^> vuln GHSA/m.test(x), 'focus on the first change');
    await h.press('n');
    await h.waitFor((x) => /^> pkg /m.test(x), 'focus on the second change');
    await h.press('N');
    await h.waitFor((x) => /^> vuln GHSA/m.test(x), 'back on the first change');
    // Seeded rows have no record directories: d and m say so instead of crashing.
    await h.press('d');
    await h.waitFor('no indexed record directory');
    await h.press('m');
    await h.waitFor('manifest / environment diff of');
    await h.press(KEYS.escape);
    await h.waitFor('semantic diff of');
    await h.press(KEYS.escape);
    await h.waitFor('REPLAY');
    cover('nextChange', 'prevChange', 'rawDiff', 'manifestDiff');
    h.unmount();
  });

  test(': command palette opens a replay by id; --open starts on that diff', async () => {
    const h = await mount(store);
    await h.waitFor('gate: FAIL');
    await h.press(':', ...`open ${failing[1]}`.split(''), KEYS.enter);
    await h.waitFor(`semantic diff of ${failing[1]}`);
    cover('palette');
    h.unmount();
    const o = await mount(store, { openId: failing[2] });
    await o.waitFor(`semantic diff of ${failing[2]}`);
    o.unmount();
  });

  test('i: the detail pane shows in full, wrapped at 80 columns, what the tables cut (row, gate, change)', async () => {
    const h = await mount(store);
    await h.waitFor('gate: FAIL', 'the dashboard');
    await h.press('i');
    const gate = await h.waitFor(/^gate FAIL\ngate: FAIL/m, 'the gate detail');
    const reasons = h.controller.getState().dashboard!.gate.reasons;
    expect(reasons.length).toBeGreaterThan(0);
    // Every reason, in full: the words of each appear, though wrapped over lines.
    const flat = gate.replace(/\s+/g, ' ');
    for (const r of reasons) expect(flat).toContain(r.replace(/\s+/g, ' '));
    await h.press(KEYS.escape);
    await h.press(KEYS.enter);
    await h.waitFor(/REPLAY[\s\S]*row \d+\/\d+/, 'the replay list');
    await h.press('i');
    const row = h.controller.getState().rows[0];
    const f = await h.waitFor(`replay id:   ${row.replay_id}`, 'the row detail');
    expect(f).toContain(`project:     ${row.project}`);
    expect(f).toContain(`scanner:     ${row.scanner_version}`);
    expect(Math.max(...f.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    await h.press(KEYS.escape);
    await h.press(KEYS.enter);
    await h.waitFor('semantic diff of', 'the diff');
    await h.press('n');
    await h.press('i');
    const d = await h.waitFor('focused change:', 'the change detail');
    const summary = h.controller.getState().diff!.detail!.diff_summary as { items: Array<{ vulnerability_id?: string; purl?: string }> };
    const v = summary.items.find((x) => x.vulnerability_id)!;
    // The purl the table cuts to `pkg:npm~` is whole here, with the evidence naming the advisory.
    expect(d.replace(/\n/g, '')).toContain(v.purl);
    expect(d).toContain(`feed appeared ${v.vulnerability_id}`);
    expect(Math.max(...d.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    await h.press(KEYS.escape);
    await h.waitFor('semantic diff of', 'the pane closed');
    cover('detail');
    h.unmount();
  });

  test('a terminal resize redraws at the new size', async () => {
    const h = await mount(store);
    await atList(h);
    h.controller.dispatch({ type: 'resize', width: 100, height: 12 });
    const f = await h.waitFor((x) => x.split('\n').filter((l) => /rp-/.test(l)).length === 6, '6 rows');
    expect(lineCount(f)).toBeLessThanOrEqual(11);
    h.unmount();
  });

  test('every binding of the key table was exercised above', () => {
    const missing = KEY_TABLE.map((b) => b.action).filter((a) => !covered.has(a));
    expect(missing).toEqual([]);
  });
});
