// What the message line and the footer hold at 80×24 (the on-call journey's cut texts): long messages
// wrap onto a second line with their counts and lists whole, the footer keeps `? help` and `q quit`,
// and `:open` of an id the index lacks returns to where it was typed. The real view, rendered by
// ink-testing-library, and the pure reducer.
import React from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, test } from 'vitest';
import { hintLine, messageLines, WorkstationView } from '../../components/workstation/workstation.js';
import { initialState, reduce, type Action, type WorkstationState } from '../../components/workstation/use-workstation-state.js';
import { makeTheme, wrap } from '../../components/theme/theme.js';
import type { Screen } from '../../components/keys/key-table.js';

const run = (s: WorkstationState, ...actions: Action[]): WorkstationState => actions.reduce((st, a) => reduce(st, a).state, s);
const keys = (...t: string[]): Action[] => t.map((token) => ({ type: 'key', token }));
const plain = (f: string): string => f.replace(/\u001b\[[0-9;]*m/g, '');

// The summary a real re-run of three failing replays ends with (src/app/workstation.ts: `${status} -> ${new id}`).
const SUMMARY = 're-run finished: 0 passed, 3 failed, 0 error - rpl_abee941289d1927b: failed -> rpl_5f0e2b3c4d5a6978';

describe('wrap', () => {
  test('breaks after spaces, | and ,; at most max lines, the last cut with ~; short text is one line', () => {
    expect(wrap('a b', 10)).toEqual(['a b']);
    expect(wrap('alpha beta gamma delta epsilon', 11)).toEqual(['alpha beta', 'gamma delt~']);
    expect(wrap('alpha beta gamma delta epsilon', 11, 3)).toEqual(['alpha beta', 'gamma delta', 'epsilon']);
    expect(wrap('x: feed_drift|policy_drift|scanner_drift', 20)).toEqual(['x: feed_drift|', 'policy_drift|scanne~']);
    expect(wrap('abcdefghij', 4, 3)).toEqual(['abcd', 'efgh', 'ij']);
    // A long token (a path) after an early space: cut at the edge, so the line holds what a cut line held.
    expect(wrap('error - /tmp/st-1/replays/rp-1/replay.json: $.mode', 20)).toEqual(['error - /tmp/st-1/re', 'plays/rp-1/replay.j~']);
    for (const l of wrap(SUMMARY, 79)) expect(l.length).toBeLessThanOrEqual(79);
  });
});

describe('80×24', () => {
  test('the re-run summary wraps: counts and the failure whole, no ~, the frame still fits', () => {
    const s: WorkstationState = { ...initialState({ width: 80, height: 24 }), screen: 'replays', stack: ['dashboard'], rerun: { running: false, done: 3, total: 3, line: SUMMARY } };
    const lines = messageLines(s);
    expect(lines).toEqual(['re-run finished: 0 passed, 3 failed, 0 error - rpl_abee941289d1927b: failed ->', 'rpl_5f0e2b3c4d5a6978']);
    const app = render(<WorkstationView state={s} theme={makeTheme({ color: false, ascii: true })} />);
    const frame = plain(app.lastFrame() ?? '').split('\n');
    app.unmount();
    expect(frame.length).toBeLessThanOrEqual(23);
    expect(frame).toContain(lines[0]);
    expect(frame).toContain(lines[1]);
    expect(frame.at(-1)).toContain('? help');
    expect(frame.at(-1)).toContain('q quit');
    expect(frame.every((l) => l.length <= 80)).toBe(true);
  });

  test('the palette error names every command, on two lines', () => {
    const s = run({ ...initialState({ width: 80, height: 24 }), screen: 'replays', stack: ['dashboard'] }, ...keys(':', 'b', 'o', 'g', 'u', 's', 'enter'));
    const lines = messageLines(s);
    expect(lines.length).toBe(2);
    expect(lines.join(' ')).toBe("unknown command ':bogus' (q, dashboard, replays, open ID, sort X, failing, undo, help)");
  });

  test('a bad filter: the prompt stays open and the error is under it; typing clears the error', () => {
    const s = run({ ...initialState({ width: 80, height: 24 }), screen: 'replays', stack: ['dashboard'] }, ...keys('/', 'c', 'a', 'u', 's', 'e', ':', 'x', 'enter'));
    expect(s.modal).toEqual({ kind: 'filter', text: 'cause:x' });
    const lines = messageLines(s);
    expect(lines[0]).toMatch(/^\/cause:x_ {3}\(Enter apply, Esc cancel/);
    expect(lines.slice(1).join('')).toMatch(/^unknown cause 'x' in filter: expected one of feed_drift\|/);
    expect(lines.every((l) => l.length <= 79 && !l.endsWith('~'))).toBe(true);
    expect(messageLines(run(s, ...keys('backspace')))).toEqual([expect.stringMatching(/^\/cause:_ /)]);
  });

  test('a long note keeps its cursor on the line: the hint shortens first', () => {
    const base: WorkstationState = { ...initialState({ width: 80, height: 24 }), screen: 'replays', stack: ['dashboard'] };
    const at = (text: string): string[] => messageLines({ ...base, modal: { kind: 'note', ids: ['rp-1'], tag: 'nondeterminism', text } });
    expect(at('tz')).toEqual(['note for nondeterminism (optional, Enter continues, Esc cancels): tz_']);
    expect(at('flaky clock in CI, see INC-2231')).toEqual(['note for nondeterminism (optional): flaky clock in CI, see INC-2231_']);
    expect(at('flaky clock in CI, see INC-2231 and INC-2240 too')).toEqual(['note for nondeterminism: flaky clock in CI, see INC-2231 and INC-2240 too_']);
  });

  test('every screen\'s footer keeps ? help and its way out, without a cut word, at 80 and at 60 columns', () => {
    for (const screen of ['dashboard', 'replays', 'diff', 'help'] as Screen[]) {
      for (const width of [80, 60]) {
        const h = hintLine(screen, width);
        expect(h.length, `${screen} ${width}`).toBeLessThanOrEqual(width - 1);
        expect(h, `${screen} ${width}`).not.toContain('~');
        if (screen !== 'help') expect(h, `${screen} ${width}`).toContain('? help');
        expect(h, `${screen} ${width}`).toMatch(/q quit|Esc back/);
      }
    }
    // Wide enough, nothing is dropped.
    expect(hintLine('replays', 200)).toContain('j/↓ move');
    expect(hintLine('replays', 200)).toContain('c cause  s sort');
  });
});

describe(':open of an id the index lacks', () => {
  const base = (): WorkstationState => ({ ...initialState({ width: 80, height: 24 }), screen: 'replays', stack: ['dashboard'] });
  const open = (s: WorkstationState, id: string): WorkstationState => run(s, ...keys(':', ...'open '.split('').map((c) => (c === ' ' ? 'space' : c)), ...id.split(''), 'enter'));

  test('from the list: back on the list with the reason, not a diff that stays "loading"', () => {
    const s = open(base(), 'rpl_x');
    expect(s.screen).toBe('diff');
    const after = run(s, { type: 'detail', id: 'rpl_x', detail: null });
    expect(after.screen).toBe('replays');
    expect(after.stack).toEqual(['dashboard']);
    expect(after.diff).toBe(null);
    expect(after.message).toBe('replay rpl_x is not in the index');
  });

  test('from the dashboard: the dashboard stays', () => {
    const after = run(open(initialState({ width: 80, height: 24 }), 'rpl_x'), { type: 'detail', id: 'rpl_x', detail: null });
    expect(after.screen).toBe('dashboard');
    expect(after.stack).toEqual([]);
  });

  test('from an open diff: that diff is back', () => {
    const first = { ...base(), screen: 'diff' as const, stack: ['dashboard', 'replays'] as Screen[], diff: { id: 'rp-1', detail: null, evidence: null, view: 'summary' as const, lines: [], focus: -1, scroll: 0 } };
    const after = run(open(first, 'rpl_x'), { type: 'detail', id: 'rpl_x', detail: null });
    expect(after.screen).toBe('diff');
    expect(after.diff?.id).toBe('rp-1');
    expect(after.stack).toEqual(['dashboard', 'replays']);
  });

  test('--open of an unknown id: the list under it, with the reason', () => {
    const after = run(initialState({ width: 80, height: 24, openId: 'rpl_x' }), { type: 'detail', id: 'rpl_x', detail: null });
    expect(after.screen).toBe('replays');
    expect(after.stack).toEqual(['dashboard']);
    expect(after.message).toBe('replay rpl_x is not in the index');
  });
});
