// Plain terminals (issue 13, item 11) on the raw bytes the process writes: the built CLI runs under
// `script` (which logs every byte the child writes to its pty) inside a tmux pane at 80×24, walks
// dashboard → list → diff → raw diff → help → quit, and the log is checked byte by byte.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { STELLA_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { tmuxTerminal, type TmuxTerminal } from '../helpers/tmux.js';
import { asciiOnly, stripColour } from '../../components/theme/plain.js';
import { openSeeded } from './harness.js';

let term: TmuxTerminal | null = null;
afterEach(() => {
  term?.kill();
  term = null;
});

/** SGR colour parameters (30–39, 40–49, 90–97, 100–107, 38;…, 48;…) found in raw output, as written. */
function colourCodes(raw: string): string[] {
  const found: string[] = [];
  for (const m of raw.matchAll(/\x1b\[([0-9;:]*)m/g)) {
    const nums = m[1].split(/[;:]/).filter(Boolean).map(Number);
    if (nums.some((n) => (n >= 30 && n <= 49) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107))) found.push(JSON.stringify(m[0]));
  }
  return found;
}

const nonAscii = (bytes: Buffer): number[] => [...bytes].filter((b) => b > 0x7f);

async function walk(home: string, env: string, args: string, id: string): Promise<Buffer> {
  const log = path.join(home, `typescript-${Math.random().toString(36).slice(2)}`);
  const inner = `env -u CI -u CONTINUOUS_INTEGRATION -u NO_COLOR -u FORCE_COLOR ${env} STELLA_HOME=${home} DOCKER_HOST=unix:///nonexistent/stella.sock ${process.execPath} ${STELLA_BIN} ${args}`;
  term = tmuxTerminal(`stella-plain-${process.pid}`, `script -q -f -c '${inner}' ${log}; sleep 30`);
  const { keys, waitFor, tmux } = term;
  if (args.includes('--open')) {
    await waitFor('semantic diff of', 'the diff the --open flag names');
    expect(term.screen()).toContain(id);
    keys('Escape');
    await waitFor('REPLAY', 'the list under the opened diff');
    keys('q');
  }
  await waitFor(/gate: (FAIL|WARN|GREEN)/i, 'the dashboard');
  keys('Enter');
  await waitFor('REPLAY', 'the replay list');
  keys('f');
  await waitFor(/sort:failing_first failing/, 'the failing list');
  keys('Enter');
  await waitFor('semantic diff of', 'the diff');
  keys('n');
  keys('?');
  await waitFor(/move down/, 'the help');
  keys('Escape');
  // Wait for the diff again: ESC followed at once by q would read as Alt+q.
  await waitFor((f) => f.includes('semantic diff of') && !f.includes('move down'), 'back on the diff');
  keys('q');
  await waitFor('REPLAY', 'back on the list');
  keys('q');
  await waitFor(/gate: (FAIL|WARN|GREEN)/i, 'back on the dashboard');
  keys('q');
  await waitFor(() => tmux('list-panes', '-t', 'w', '-F', '#{pane_current_command}').trim() === 'sleep', 'the workstation to exit');
  return readFileSync(log);
}

describe('plain output transforms', () => {
  test('ASCII stand-ins keep one cell per character; colour parameters go, bold/inverse/reset stay', () => {
    expect(asciiOnly('trend (oldest → newest) ▁▄█ j/↓ loading…')).toBe('trend (oldest > newest) _=# j/v loading.');
    expect(asciiOnly('日本')).toBe('??');
    expect(stripColour('\x1b[34mTop\x1b[39m \x1b[1;31mFAIL\x1b[22;39m \x1b[7mrow\x1b[27m \x1b[38;5;196mx\x1b[0m \x1b[48;2;1;2;3my\x1b[m')).toBe(
      'Top \x1b[1mFAIL\x1b[22m \x1b[7mrow\x1b[27m x\x1b[0m y\x1b[m',
    );
  });
});

describe('plain terminals, raw bytes', () => {
  test('the default (UTF-8, colour) writes colour and non-ASCII glyphs: the checks below can fail', async () => {
    const home = tempDir('stella-plain-');
    const { store, failing } = await openSeeded(home, 300);
    store.close();
    const raw = await walk(home, 'LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color', 'tui', failing[0]);
    expect(colourCodes(raw.toString('latin1')).length).toBeGreaterThan(0);
    expect(nonAscii(raw).length).toBeGreaterThan(0);
  }, 60_000);

  test('stella --ascii in a UTF-8 locale: every byte written is ASCII', async () => {
    const home = tempDir('stella-plain-');
    const { store, failing } = await openSeeded(home, 300);
    store.close();
    const raw = await walk(home, 'LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color', '--ascii', failing[0]);
    expect(raw.length).toBeGreaterThan(1000);
    expect(nonAscii(raw)).toEqual([]);
  }, 60_000);

  test('LANG=C (not UTF-8) with NO_COLOR: ASCII only and not one colour code', async () => {
    const home = tempDir('stella-plain-');
    const { store, failing } = await openSeeded(home, 300);
    store.close();
    const raw = await walk(home, 'LANG=C LC_ALL=C NO_COLOR=1 TERM=vt100', 'tui', failing[0]);
    expect(nonAscii(raw)).toEqual([]);
    expect(colourCodes(raw.toString('latin1'))).toEqual([]);
  }, 60_000);

  test('stella --no-color --open ID: starts on that diff, and no colour code is written', async () => {
    const home = tempDir('stella-plain-');
    const { store, failing } = await openSeeded(home, 300);
    store.close();
    const raw = await walk(home, 'LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color', `--no-color --open ${failing[0]}`, failing[0]);
    expect(colourCodes(raw.toString('latin1'))).toEqual([]);
  }, 60_000);
});
