// The retag confirm says what will happen, from the rows' status (a passing replay has no cause, so
// retag leaves it alone): the real workstation over a fixture-seeded SQLite index (300 replays, 112 of
// them failing), driven through Ink's stdin, the audit rows read back from the store.
import { afterAll, describe, expect, test } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { KEYS, mount, openSeeded, type Harness } from './harness.js';
import { initialState, reduce, type Action, type WorkstationState } from '../../components/workstation/use-workstation-state.js';
import { messageLines } from '../../components/workstation/workstation.js';
import type { ReplayRow } from '../../src/core/ports.js';

const dir = tempDir('stella-tui-retag-confirm-');
const { store, ids, failing } = await openSeeded(dir, 300);
afterAll(() => store.close());
const passed = ids.filter((id) => !failing.includes(id));

// ink-select-input subscribes to stdin in an effect after its first frame.
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

async function atList(h: Harness): Promise<string> {
  await h.waitFor('gate: FAIL', 'the dashboard');
  await h.press(KEYS.enter);
  return h.waitFor(/REPLAY[\s\S]*row \d+\/300/, 'the replay list with its counts');
}

/** t, the first cause (feed_drift), no note: up to the confirm (or what comes instead). */
async function tagFeedDrift(h: Harness, n: number): Promise<void> {
  await h.press('t');
  await h.waitFor(`Tag ${n} replay${n === 1 ? '' : 's'} as`, 'the tag picker');
  await settle();
  await h.press(KEYS.enter);
  await h.waitFor('note for feed_drift', 'the note prompt');
  await h.press(KEYS.enter);
}

describe('retag confirm with the rows\' status', () => {
  test('a: all 300 marked; the confirm counts 112 failing and 188 passing; No by default; y retags only the failing', async () => {
    expect(failing.length).toBe(112);
    const h = await mount(store);
    await atList(h);
    await h.press('a');
    await h.waitFor('300 marked', 'every row marked');
    await tagFeedDrift(h, 300);
    await h.waitFor('Retag 112 failing replays as feed_drift? (188 passing left untagged) [y/N]', 'the confirm with both counts');
    await h.press(KEYS.enter);
    await h.waitFor('retag cancelled', 'Enter is No');
    expect(await store.tagEvents()).toEqual([]);
    await tagFeedDrift(h, 300);
    await h.waitFor('Retag 112 failing replays as feed_drift? (188 passing left untagged) [y/N]', 'the confirm again');
    await h.press('y');
    const f = await h.waitFor(/retagged \d+ of 112 as feed_drift, 188 passing left untagged \(u undoes\)/, 'the retag');
    expect(f).toContain('0 marked');
    const events = await store.tagEvents();
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => failing.includes(e.replay_id) && e.new_tag === 'feed_drift')).toBe(true);
    for (const id of passed.slice(0, 20)) expect((await store.getReplay(id))?.tag ?? null).toBe(null);
    await h.press('u');
    await h.waitFor(/undid retag \w+: \d+ restored/, 'the undo');
    h.unmount();
  });

  test('only passing rows marked: says so instead of asking; nothing is written', async () => {
    const h = await mount(store);
    await atList(h);
    // Failing first: the last rows passed.
    await h.press('G');
    await h.waitFor('row 300/300', 'the last row');
    await h.press('k', 'k', ' ', ' ');
    await h.waitFor('2 marked', 'two passing rows marked');
    const before = (await store.tagEvents()).length;
    await tagFeedDrift(h, 2);
    const f = await h.waitFor('all 2 chosen replays passed: nothing to retag (a passing replay has no cause)', 'the refusal');
    expect(f).not.toContain('[y/N]');
    expect((await store.tagEvents()).length).toBe(before);
    // Adding one failing row: the confirm asks for that one.
    await h.press('g');
    await h.waitFor('row 1/300', 'the first row');
    await h.press(' ');
    await h.waitFor('3 marked', 'a failing row added');
    await tagFeedDrift(h, 3);
    await h.waitFor('Retag 1 failing replay as feed_drift? (2 passing left untagged) [y/N]', 'the confirm for one');
    await h.press('n');
    await h.waitFor('retag cancelled', 'n is No');
    h.unmount();
  });

  test('the cursor row, nothing marked: a passing one says so; a failing one keeps the plain confirm', async () => {
    const h = await mount(store);
    await atList(h);
    await tagFeedDrift(h, 1);
    await h.waitFor('Retag 1 replay as feed_drift? [y/N]', 'the unchanged confirm for a failing row');
    await h.press(KEYS.escape);
    await h.waitFor('retag cancelled', 'Esc is No');
    await h.press('G');
    const last = await h.waitFor('row 300/300', 'the last row');
    const id = /^>\s?(rp-[0-9a-f]+)/m.exec(last)![1];
    expect(passed).toContain(id);
    await tagFeedDrift(h, 1);
    await h.waitFor(`replay ${id} passed: nothing to retag (a passing replay has no cause)`, 'the refusal for the cursor row');
    h.unmount();
  });
});

describe('the reducer', () => {
  const row = (i: number, status: ReplayRow['status']): ReplayRow => ({ replay_id: `rp-${i}`, status } as ReplayRow);
  const run = (s: WorkstationState, ...actions: Action[]): WorkstationState => actions.reduce((st, a) => reduce(st, a).state, s);
  const keys = (...t: string[]): Action[] => t.map((token) => ({ type: 'key', token }));

  test('marks from `a` carry which passed; unmarking drops them; the confirm line fits 80 columns', () => {
    const s = { ...initialState({ width: 80, height: 24 }), screen: 'replays' as const, stack: ['dashboard' as const], rows: [row(1, 'failed'), row(2, 'passed'), row(3, 'error')] };
    const all = run(s, { type: 'marks', ids: ['rp-1', 'rp-2', 'rp-3', 'rp-9'], passed: ['rp-2', 'rp-9'] });
    const confirm = run(all, ...keys('t', 'enter', 'enter'));
    expect(confirm.modal).toMatchObject({ kind: 'confirm', count: 4, retag: ['rp-1', 'rp-3'], passing: 2 });
    expect(messageLines(confirm)).toEqual(['Retag 2 failing replays as feed_drift? (2 passing left untagged) [y/N]']);
    expect(reduce(confirm, { type: 'key', token: 'y' }).effects).toEqual([{ kind: 'retag', ids: ['rp-1', 'rp-3'], tag: 'feed_drift', note: '', passing: 2 }]);
    // space on the passing row unmarks it (it was marked by `a`): 3 left, 1 of them passing.
    const fewer = run({ ...all, cursor: 1 }, ...keys('space'), ...keys('t', 'enter', 'enter'));
    expect(fewer.modal).toMatchObject({ kind: 'confirm', count: 3, retag: ['rp-1', 'rp-3'], passing: 1 });
    // 100k marks and the longest cause: the shorter wording keeps [y/N] on the line.
    const big = { ...confirm, modal: { kind: 'confirm' as const, ids: null, tag: 'nondeterminism' as const, note: '', count: 200000, retag: Array<string>(100000).fill('x'), passing: 100000 } };
    expect(messageLines(big)).toEqual(['Retag 100000 failing as nondeterminism? (100000 passing left) [y/N]']);
  });
});
