// End to end in a real terminal: tmux at 80×24 runs the built CLI on a fixture-seeded index; every
// step waits for its frame (deadline, no fixed sleeps) and the audit rows are read back from SQLite.
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { STELLA_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { tmuxTerminal, type TmuxTerminal } from '../helpers/tmux.js';
import { openSeeded } from './harness.js';

let term: TmuxTerminal | null = null;
afterAll(() => term?.kill());

test('80×24: filter failing, mark three, retag, undo, open a diff, step, quit', async () => {
  const home = tempDir('stella-tui-tmux-');
  const { store, failing } = await openSeeded(home, 500);
  store.close();
  // LANG=C: not UTF-8, so the workstation switches to ASCII glyphs by itself (mark glyph `*`).
  const cmd = `env -u CI -u CONTINUOUS_INTEGRATION NO_COLOR=1 LANG=C LC_ALL=C USER=oncall STELLA_HOME=${home} DOCKER_HOST=unix:///nonexistent/stella.sock ${process.execPath} ${STELLA_BIN} tui; sleep 30`;
  term = tmuxTerminal(`stella-tui-${process.pid}`, cmd);
  const { keys, waitFor: waitScreen, tmux } = term;

  const dash = await waitScreen(/500 replays \| \d+ failing \| 0 marked \| gate fail/, 'the dashboard with counts');
  expect(dash).toContain('gate: FAIL');
  expect(dash).toContain('Top offenders');

  keys('Enter');
  await waitScreen('REPLAY', 'the replay list');
  keys('f');
  const f = await waitScreen(/sort:failing_first failing[\s\S]*\n\d+ replays \| \d+ failing/, 'the failing filter with its counts');
  expect(f).toMatch(/\n(\d+) replays \| \1 failing/);
  const listed = f.split('\n').filter((l) => / rp-|\*rp-|>.rp-/.test(l));
  expect(listed.length).toBeGreaterThan(10);
  expect(listed.every((l) => /failed|error/.test(l))).toBe(true);

  keys('Space', 'Space', 'Space');
  const marked = await waitScreen('3 marked', 'three marks');
  expect(marked.split('\n').filter((l) => /^.\*rp-/.test(l)).length).toBe(3);
  expect(marked).toMatch(/^>\s?rp-/m);

  keys('t');
  await waitScreen('Tag 3 replays as', 'the tag picker');
  keys('j');
  await waitScreen('> policy_drift', 'policy_drift highlighted');
  keys('Enter');
  await waitScreen('note for policy_drift', 'the note prompt');
  keys('-l', 'tz flake');
  keys('Enter');
  await waitScreen('Retag 3 replays as policy_drift? [y/N]', 'the confirm naming the count');
  keys('y');
  const tagged = await waitScreen(/retagged \d of 3 as policy_drift/, 'the retag');
  expect(tagged).toContain('0 marked');

  const db = new Database(path.join(home, 'index.db'), { readonly: true });
  const audit = db.prepare('SELECT replay_id, old_tag, new_tag, who, note, undone FROM tag_events ORDER BY event_id').all() as Array<Record<string, unknown>>;
  expect(audit.length).toBeGreaterThan(0);
  expect(audit.every((a) => a.new_tag === 'policy_drift' && a.who === 'oncall' && a.note === 'tz flake')).toBe(true);
  expect(audit.map((a) => a.replay_id as string).every((id) => failing.slice(0, 3).includes(id))).toBe(true);

  keys('u');
  await waitScreen(/undid retag \w+: \d+ restored/, 'the undo');
  const undone = db.prepare('SELECT count(*) AS n FROM tag_events WHERE undone = 1').get() as { n: number };
  expect(undone.n).toBe(audit.length);
  const human = db.prepare(`SELECT count(*) AS n FROM replay_runs WHERE human_tag IS NOT NULL`).get() as { n: number };
  expect(human.n).toBe(0);
  db.close();

  keys('Enter');
  const diff = await waitScreen('semantic diff of', 'the diff');
  expect(diff).toMatch(/original\s+\| replay/);
  keys('n');
  await waitScreen(/^> vuln GHSA-/m, 'the first change focused');
  keys('n');
  await waitScreen(/^> pkg /m, 'the second change focused');

  keys('q');
  await waitScreen('REPLAY', 'back on the list');
  // Free text runs on the query worker (the built CLI has it): one replay id in, that row out.
  const wanted = /rp-[0-9a-z-]+/.exec(listed[4])![0];
  keys('/');
  await waitScreen('Enter apply, Esc cancel', 'the filter prompt');
  keys('-l', wanted.slice(0, 12));
  keys('Enter');
  const found = await waitScreen(/\n1 replays \| 1 failing/, 'the one matching replay with its counts');
  expect(found).toContain(`/${wanted.slice(0, 12)}`);
  expect(found.split('\n').filter((l) => /rp-/.test(l) && !l.includes('Stella Replay'))).toEqual([expect.stringContaining(wanted)]);
  keys('q');
  await waitScreen('gate: FAIL', 'back on the dashboard');
  keys('q');
  // The app has exited: the shell's `sleep` keeps the pane, the workstation frame stays as last drawn
  // and the process is gone.
  await waitScreen(() => tmux('list-panes', '-t', 'w', '-F', '#{pane_current_command}').trim() === 'sleep', 'the workstation to exit');
}, 60_000);
