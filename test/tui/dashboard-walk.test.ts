// A dashboard you can walk (issue 13, item 9), in tmux at 80×24 on the built CLI: the cause histogram
// names its window and lists all six causes, zeros included; buckets under the gate's minimum show
// as "not gated"; j/k move over the rows and Enter opens Replays filtered by the row, whose counts
// are checked against SQLite.
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { MISMATCH_REASONS } from '../../src/core/formats.js';
import { STELLA_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { tmuxTerminal, type TmuxTerminal } from '../helpers/tmux.js';
import { openSeeded } from './harness.js';

let term: TmuxTerminal | null = null;
afterAll(() => term?.kill());

test('80×24: j/k over offenders, small buckets and causes; Enter drills down; all six causes shown', async () => {
  const home = tempDir('stella-tui-dash-');
  const { store } = await openSeeded(home, 500);
  // One cause with no replay at all (retagged through the store, rollups kept in step): the
  // histogram must still list it, at 0.
  const scannerDrift = (await store.pageReplays({ filter: { causes: ['scanner_drift'] }, sort: 'newest', limit: 1000 })).rows.map((r) => r.replay_id);
  expect(scannerDrift.length).toBeGreaterThan(0);
  await store.retag(scannerDrift, 'runtime_drift', { who: 'test', at: '2026-11-20T00:00:00Z' });
  store.close();

  const cmd = `env -u CI -u CONTINUOUS_INTEGRATION NO_COLOR=1 LANG=C.UTF-8 LC_ALL=C.UTF-8 STELLA_HOME=${home} DOCKER_HOST=unix:///nonexistent/stella.sock ${process.execPath} ${STELLA_BIN}; sleep 30`;
  term = tmuxTerminal(`stella-dash-${process.pid}`, cmd);
  const { keys, waitFor, screen } = term;
  const dash = await waitFor('Causes (last 30 days)', 'the cause histogram with its window');
  for (const c of MISMATCH_REASONS) expect(dash, c).toMatch(new RegExp(`^  ${c}\\s+\\d+`, 'm'));
  expect(dash).toMatch(/^  scanner_drift\s+0\s*$/m);
  expect(dash).not.toMatch(/^>/m);

  // Offenders first: j puts the cursor on the lowest-BF bucket; Enter opens Replays filtered by it.
  keys('j');
  const first = await waitFor(/^> scanner:stella-scan 1\.0\.0/m, 'the cursor on the first offender');
  expect(first).toContain('Top offenders (lowest BF, last 30 days)');
  keys('Enter');
  const list = await waitFor(/\/scanner:"stella-scan 1\.0\.0"[\s\S]*\n\d+ replays \| \d+ failing/, 'Replays filtered by the scanner');
  const ro = new Database(path.join(home, 'index.db'), { readonly: true });
  const want = ro.prepare("SELECT count(*) AS n, sum(failing) AS f FROM replay_runs WHERE scanner_version = 'stella-scan 1.0.0'").get() as { n: number; f: number };
  expect(list).toContain(`${want.n} replays | ${want.f} failing`);
  keys('q');
  await waitFor('Causes (last 30 days)', 'back on the dashboard');

  // Walk down to a bucket under the minimum: shown, named as not gated, and it drills down too.
  const cursorLine = (f: string) => f.split('\n').find((l) => l.startsWith('>')) ?? '';
  for (let i = 0; i < 40 && !/^> ecosystem:crates\.io/m.test(screen()); i++) {
    const before = cursorLine(screen());
    keys('j');
    await waitFor((f) => cursorLine(f) !== before, 'the cursor to move one row');
  }
  const small = await waitFor(/^> ecosystem:crates\.io \d+ replays \(< 20, not gated\)/m, 'the small bucket under the cursor');
  const n = Number(/ecosystem:crates\.io (\d+) replays/.exec(small)![1]);
  keys('Enter');
  await waitFor(new RegExp(`/eco:crates\\.io[\\s\\S]*\\n${n} replays \\|`), 'Replays of crates.io');
  keys('q');
  await waitFor('Causes (last 30 days)', 'back on the dashboard');

  // G: the last row, a cause; Enter lists exactly its replays.
  keys('G');
  const last = await waitFor(/^> \w+_\w+\s+\d+/m, 'the cursor on the last cause');
  const [, cause, count] = /^> (\w+)\s+(\d+)/m.exec(last)!;
  keys('Enter');
  const byCause = await waitFor(new RegExp(`/cause:${cause}[\\s\\S]*\\n\\d+ replays \\|`), 'Replays of the cause');
  const inDb = (ro.prepare('SELECT count(*) AS n FROM replay_runs WHERE tag = ?').get(cause) as { n: number }).n;
  expect(byCause).toContain(`${inDb} replays | `);
  expect(Number(count)).toBe(inDb);
  ro.close();
  keys('q');
  await waitFor('Causes (last 30 days)', 'back on the dashboard');
  keys('q');
}, 60_000);
