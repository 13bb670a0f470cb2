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

test('80×24: /CVE-…, /GHSA-…, /package and /purl find the replays that name them', async () => {
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
  for (const q of [cve, adv.id, purl]) {
    const want = named(q);
    expect(want.length, q).toBeGreaterThan(0);
    keys('/');
    await waitFor('Enter apply, Esc cancel', 'the filter prompt');
    // Clear what the prompt holds from the previous search, then type the new one.
    keys('C-u');
    keys('-l', q);
    keys('Enter');
    const f = await waitFor(new RegExp(`/${q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\s\\S]*\\n${want.length} replays \\|`), `the ${want.length} replays naming ${q}`);
    const shown = f.split('\n').map((l) => /rp-[0-9a-f]{12}/.exec(l)?.[0]).filter((x): x is string => !!x);
    expect(shown.length).toBe(Math.min(want.length, 14));
    for (const id of shown) expect(want, q).toContain(id);
  }
  db.close();
  keys('q');
  keys('q');
}, 60_000);
