// The README's first run: `npm start` on a fresh STELLA_HOME builds the demo history and opens the
// workstation on it with no other step, in a real 80×24 terminal (tmux). Waits for frames, never sleeps.
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { tmuxTerminal, type TmuxTerminal } from '../helpers/tmux.js';

let term: TmuxTerminal | null = null;
afterAll(() => term?.kill());

test('npm start on a fresh home builds the demo and opens the dashboard on it', async () => {
  const home = tempDir('stella-start-');
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts.start).toContain('demo --open');
  const cmd = `cd ${REPO} && env -u CI NO_COLOR=1 LANG=C.UTF-8 STELLA_HOME=${home} DOCKER_HOST=unix:///nonexistent/stella.sock npm start; echo EXITED $?; sleep 60`;
  term = tmuxTerminal(`stella-demo-${process.pid}`, cmd);
  const dash = await term.waitFor((s) => s.includes('Top offenders') && s.includes('Causes'), 'the dashboard', 600_000);
  const marker = JSON.parse(readFileSync(path.join(home, 'demo/.complete.json'), 'utf8')) as { replays: number; failing: number };
  // The list shows every replay; the dashboard's figures count production (pinned) replays only
  // (issue 13: bisect experiments and canary runs never move them).
  await term.waitFor(`${marker.replays} replays | ${marker.failing} failing`, 'the list counts of every replay', 60_000);
  const db = new Database(path.join(home, 'index.db'), { readonly: true });
  const pinned = db.prepare("SELECT count(*) AS n, coalesce(sum(status <> 'passed'), 0) AS failing FROM replay_runs WHERE mode = 'pinned'").get() as { n: number; failing: number };
  db.close();
  expect(pinned.n).toBeGreaterThan(0);
  expect(dash).toContain(`replays ${pinned.n}, failing ${pinned.failing}`);
  // The history's own causes are on the screen, not an empty index.
  expect(dash).toMatch(/feed_drift|scanner_drift|nondeterminism/);
  term.keys('q');
  await term.waitFor('EXITED 0', 'a clean exit', 20_000);
}, 700_000);
