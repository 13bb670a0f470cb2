// The on-call journey's findings at 80×24 (tmux, the built CLI over a fixture-seeded index): what the
// terminal shows for `--no-color`, a bad filter, `:open` of an unknown id, the footer and the
// palette's error. Each step waits for its frame (deadline, no fixed sleeps).
import { afterEach, expect, test } from 'vitest';
import { STELLA_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { tmuxTerminal, type TmuxTerminal } from '../helpers/tmux.js';
import { MISMATCH_REASONS } from '../../src/core/formats.js';
import { openSeeded } from './harness.js';

let term: TmuxTerminal | null = null;
afterEach(() => {
  term?.kill();
  term = null;
});

let n = 0;
function open(home: string, env: string, args = 'tui'): TmuxTerminal {
  const cmd = `env -u CI -u CONTINUOUS_INTEGRATION -u NO_COLOR -u FORCE_COLOR ${env} USER=oncall STELLA_HOME=${home} DOCKER_HOST=unix:///nonexistent/stella.sock ${process.execPath} ${STELLA_BIN} ${args}; sleep 30`;
  term = tmuxTerminal(`stella-oncall-${process.pid}-${n++}`, cmd);
  return term;
}

async function seeded(): Promise<string> {
  const home = tempDir('stella-oncall-');
  const { store } = await openSeeded(home, 300);
  store.close();
  return home;
}

/** The pane with its attributes as escape sequences (what the terminal shows, not the bytes written). */
const styled = (t: TmuxTerminal): string => t.tmux('capture-pane', '-e', '-p', '-t', 'w');
const sgrParams = (s: string): number[][] => [...s.matchAll(/\x1b\[([0-9;:]*)m/g)].map((m) => m[1].split(/[;:]/).filter(Boolean).map(Number));
const hasAttr = (s: string, attr: number): boolean => sgrParams(s).some((p) => p.includes(attr));
/** A colour set (39 and 49, tmux's "default colour", are not one). */
const colourIn = (s: string): boolean => sgrParams(s).some((p) => p.some((x) => (x >= 30 && x <= 38) || (x >= 40 && x <= 48) || (x >= 90 && x <= 107)));

/** Dashboard and the replay list, each captured with attributes once fully drawn. */
async function screens(t: TmuxTerminal): Promise<{ dash: string; list: string }> {
  await t.waitFor(/300 replays \| 112 failing \| 0 marked \| gate fail/, 'the dashboard with counts');
  await t.waitFor('Top offenders', 'the dashboard body');
  const dash = styled(t);
  t.keys('Enter');
  await t.waitFor(/REPLAY[\s\S]*row 1\/300/, 'the replay list with its counts');
  const list = styled(t);
  return { dash, list };
}

test('--no-color keeps bold and inverse exactly as NO_COLOR does (SPEC §6)', async () => {
  const home = await seeded();
  const env = 'LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color';
  const viaEnv = await screens(open(home, `${env} NO_COLOR=1`));
  term!.kill();
  const viaFlag = await screens(open(home, env, 'tui --no-color'));
  // NO_COLOR: bold (title, gate) and inverse (cursor row) on screen, no colour.
  expect(hasAttr(viaEnv.dash + viaEnv.list, 1)).toBe(true);
  expect(hasAttr(viaEnv.dash + viaEnv.list, 7)).toBe(true);
  expect(colourIn(viaEnv.dash + viaEnv.list)).toBe(false);
  // --no-color: the same screens, attribute for attribute.
  expect(viaFlag.dash).toBe(viaEnv.dash);
  expect(viaFlag.list).toBe(viaEnv.list);
}, 90_000);

test('80×24: a bad filter says why under the open prompt; :open of an unknown id stays put with the error', async () => {
  const home = await seeded();
  const t = open(home, 'NO_COLOR=1 LANG=C LC_ALL=C');
  await t.waitFor(/300 replays \| 112 failing/, 'the dashboard with counts');

  // `:open` of an id the index lacks: the dashboard stays, with the reason.
  t.keys(':');
  await t.waitFor(/^:_/m, 'the palette');
  t.keys('-l', 'open rpl_nonexist');
  t.keys('Enter');
  const missing = await t.waitFor('replay rpl_nonexist is not in the index', 'the unknown id reported');
  expect(missing).toContain('Stella Replay - Dashboard');
  expect(missing).toContain('Top offenders');
  expect(missing).not.toContain('loading');
  expect(missing).not.toContain('semantic diff of');

  t.keys('Enter');
  await t.waitFor(/REPLAY[\s\S]*row 1\/300/, 'the replay list');
  t.keys('/');
  await t.waitFor('Enter apply, Esc cancel', 'the filter prompt');
  t.keys('-l', 'cause:bogus');
  t.keys('Enter');
  const bad = await t.waitFor("unknown cause 'bogus'", 'the filter error');
  // The prompt stays open (the text can be fixed) and the error is whole on screen.
  expect(bad).toMatch(/^\/cause:bogus_/m);
  expect(bad).toContain("unknown cause 'bogus' in filter: expected one of");
  for (const cause of MISMATCH_REASONS) expect(bad).toMatch(new RegExp(`[ |\n]${cause}(\||\s)`));
  const lines = bad.split('\n');
  const prompt = lines.findIndex((l) => l.startsWith('/cause:bogus_'));
  // The prompt's own hint is shortened rather than cut mid-word; the error takes the two lines under it.
  expect(lines[prompt]).not.toContain('~');
  expect(lines.slice(prompt + 1, prompt + 3).join('\n')).not.toContain('~');
  expect(lines[prompt + 3]).toMatch(/^300 replays \| 112 failing/);
  // Fixing the text and Enter applies it: the error goes, the filter shows in the title.
  t.keys(...Array<string>('bogus'.length).fill('BSpace'));
  t.keys('-l', 'feed_drift');
  t.keys('Enter');
  const applied = await t.waitFor(/sort:failing_first \/cause:feed_drift/, 'the corrected filter applied');
  expect(applied).not.toContain("unknown cause 'bogus'");
}, 60_000);

test('80×24: the Replays footer always offers ? help and q quit; the palette error lists every command', async () => {
  const home = await seeded();
  const t = open(home, 'NO_COLOR=1 LANG=C LC_ALL=C');
  await t.waitFor(/300 replays \| 112 failing/, 'the dashboard with counts');
  t.keys('Enter');
  const list = await t.waitFor(/REPLAY[\s\S]*row 1\/300/, 'the replay list');
  const footer = list.trimEnd().split('\n').at(-1)!;
  expect(footer).toContain('? help');
  expect(footer).toContain('q quit');
  expect(footer).not.toContain('~');

  t.keys(':');
  await t.waitFor(/^:_/m, 'the palette');
  t.keys('-l', 'bogus');
  t.keys('Enter');
  const err = await t.waitFor("unknown command ':bogus'", 'the palette error');
  const flat = err.replace(/\s*\n\s*/g, ' ');
  expect(flat).toContain('q, dashboard, replays, open ID, sort X, failing, undo, help');
  expect(err).not.toMatch(/und~/);
  expect(err.trimEnd().split('\n').at(-1)).toContain('q quit');
}, 60_000);
