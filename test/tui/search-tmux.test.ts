// Search what engineers search for (issue 13, item 6), in tmux at 80×24 on the built CLI: `/` with a
// CVE alias, a GHSA id, a package name and a purl lists exactly the replays whose stored summary names
// it (checked against SQLite), and the same text is the `stella retag --filter` language.
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { STELLA_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { tmuxTerminal, type TmuxTerminal } from '../helpers/tmux.js';
import { advisories, seed } from './seed.js';
import { openStore } from '../../store/sqlite-store.js';

let term: TmuxTerminal | null = null;
afterAll(() => term?.kill());

test('80×24: /CVE-…, /GHSA-… and /purl find the replays that name them; i shows the row and the change in full', async () => {
  const home = tempDir('stella-tui-search-');
  const store = openStore(path.join(home, 'index.db'));
  await seed(store, 400);
  await store.close();
  const adv = advisories().find((a) => a.aliases.some((x) => x.startsWith('CVE-')))!;
  const cve = adv.aliases.find((x) => x.startsWith('CVE-'))!;
  const db = new Database(path.join(home, 'index.db'), { readonly: true });
  const named = (needle: string) => db.prepare('SELECT replay_id FROM replay_runs WHERE instr(lower(diff_summary_json), lower(?)) ORDER BY replay_id').pluck().all(`"${needle}`) as string[];
  const purl = (JSON.parse(db.prepare('SELECT diff_summary_json FROM replay_runs WHERE instr(diff_summary_json, ?) LIMIT 1').pluck().get(`"${adv.id}"`) as string) as { items: Array<{ purl: string }> }).items[0].purl;

  const cmd = `env -u CI -u CONTINUOUS_INTEGRATION NO_COLOR=1 LANG=C LC_ALL=C STELLA_HOME=${home} DOCKER_HOST=unix:///nonexistent/stella.sock ${process.execPath} ${STELLA_BIN} tui; sleep 30`;
  term = tmuxTerminal(`stella-search-${process.pid}`, cmd, { width: 80, height: 24 });
  const { keys, waitFor } = term;
  await waitFor(/gate: \w+/, 'the dashboard');
  keys('Enter');
  await waitFor('REPLAY', 'the replay list');
  let prev = '';
  for (const q of [cve, adv.id, purl]) {
    const want = named(q);
    expect(want.length, q).toBeGreaterThan(0);
    keys('/');
    await waitFor('Enter apply, Esc cancel', 'the filter prompt');
    // The prompt opens on the current filter: erase it, then type the new search.
    if (prev) keys(...Array<string>(prev.length).fill('BSpace'));
    await waitFor('\n/_ ', 'an empty prompt');
    prev = q;
    keys('-l', q);
    keys('Enter');
    const f = await waitFor(new RegExp(`/${q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\s\\S]*\\n${want.length} replays \\|`), `the ${want.length} replays naming ${q}`);
    const shown = f.split('\n').map((l) => /rp-[0-9a-f]{12}/.exec(l)?.[0]).filter((x): x is string => !!x);
    expect(shown.length).toBe(Math.min(want.length, 14));
    for (const id of shown) expect(want, q).toContain(id);
  }
  // Item 5 in the same terminal: `i` shows the cursor row in full; on the Diff screen, the focused
  // change with the whole purl the 80-column table cuts.
  // The list may still be settling the search's page (the query worker): press until the pane shows.
  for (let i = 0; i < 10 && !/^replay id:   rp-/m.test(term.screen()); i++) {
    keys('i');
    await waitFor(/^replay id:   rp-/m, 'the row detail', 1000).catch(() => undefined);
  }
  await waitFor(/^replay id:   rp-/m, 'the row detail');
  keys('Escape');
  // Wait for the pane to close: ESC followed at once by Enter would read as Alt+Enter.
  await waitFor((f) => f.includes('REPLAY') && !f.includes('replay id:'), 'the pane closed');
  keys('Enter');
  await waitFor('semantic diff of', 'the diff');
  keys('n');
  const table = await waitFor(/^> vuln /m, 'the first change focused');
  expect(table).not.toContain(purl);
  keys('i');
  const pane = await waitFor('focused change:', 'the change detail');
  expect(pane.replace(/\n/g, '')).toContain(purl);
  expect(pane).toContain(`feed appeared ${adv.id}`);
  keys('Escape');
  await waitFor((f) => f.includes('semantic diff of') && !f.includes('focused change:'), 'the pane closed');
  db.close();
  keys('q');
  keys('q');
}, 60_000);
