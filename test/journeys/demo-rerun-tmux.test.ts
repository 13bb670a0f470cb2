// Journey 2 on the history the product ships: in the built `stella tui` at 80×24 (tmux), `r` on two
// demo rows of different causes re-runs both through the real engine — the demo's pinned scanner
// releases come out of the blob store, no setup — and each new record is on disk and in the index,
// with the status line's passed / failed / error counts equal to the new records' statuses.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STELLA_BIN } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { tmuxTerminal, type TmuxTerminal } from '../helpers/tmux.js';
import { demoHomeCopy } from './demo-home.js';

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

describe('the demo history in the workstation: r re-runs two rows of different causes in Docker', () => {
  let home = '';
  let targets: Array<{ replay_id: string; cause: string }> = [];
  let term: TmuxTerminal | null = null;
  afterAll(() => term?.kill());

  beforeAll(async () => {
    await requireDocker();
    ({ home } = await demoHomeCopy());
    const db = new Database(path.join(home, 'index.db'), { readonly: true });
    try {
      const pick = (cause: string) =>
        db.prepare("SELECT replay_id, auto_reason AS cause FROM replay_runs WHERE status = 'failed' AND auto_reason = ? ORDER BY replay_id LIMIT 1").get(cause) as { replay_id: string; cause: string };
      // A what-if replay (asks the same question again) and a pinned one (the runner's zone was wrong).
      targets = [pick('policy_drift'), pick('runtime_drift')];
    } finally {
      db.close();
    }
  }, 900_000);

  it('marks two rows, r, and the status line counts what the new records say', async () => {
    expect(targets.map((t) => t.cause)).toEqual(['policy_drift', 'runtime_drift']);
    const replaysDir = path.join(home, 'replays');
    expect(existsSync(replaysDir)).toBe(false);
    const cmd = `env -u CI -u DOCKER_HOST NO_COLOR=1 LANG=C.UTF-8 STELLA_HOME=${home} ${process.execPath} ${STELLA_BIN} tui; sleep 60`;
    term = tmuxTerminal(`stella-journey-rerun-${process.pid}`, cmd);
    await term.waitFor('Top offenders', 'the dashboard', 60_000);
    term.keys('Tab');
    await term.waitFor('Stella Replay - Replays', 'the replay list', 20_000);
    for (const [i, t] of targets.entries()) {
      // Filter to the one row by its id, mark it.
      // The prompt opens on the current filter text: erase it.
      term.keys('/');
      if (i > 0) term.keys(...Array.from({ length: targets[i - 1].replay_id.length }, () => 'BSpace'));
      term.keys('-l', t.replay_id);
      term.keys('Enter');
      await term.waitFor((s) => s.includes(t.replay_id) && /\b1 replays?\b/.test(s), `the row ${t.replay_id} alone`, 20_000);
      term.keys('Space');
      await term.waitFor(`${i + 1} marked`, `${i + 1} marked`, 20_000);
    }
    term.keys('r');
    const done = await term.waitFor(/re-run finished: \d+ passed, \d+ failed, \d+ error/, 'the end of the batch', 300_000);
    expect(done).not.toContain('re-run unavailable');
    console.log(`demo re-run (${targets.map((t) => t.cause).join(', ')}): ${/re-run finished: [^\n]*/.exec(done)![0].trim()}`);
    const [, passed, failed, errors] = /re-run finished: (\d+) passed, (\d+) failed, (\d+) error/.exec(done)!.map(Number);

    // Two new records on disk, each compared with the original scan of the row it re-ran…
    const added = readdirSync(replaysDir).sort();
    expect(added).toHaveLength(2);
    const records = added.map((id) => readJson(path.join(replaysDir, id, 'replay.json')));
    const db = new Database(path.join(home, 'index.db'), { readonly: true });
    try {
      const recordDirOf = (id: string) => (db.prepare('SELECT record_dir FROM replay_runs WHERE replay_id = ?').get(id) as { record_dir: string }).record_dir;
      const wanted = targets.map((t) => readJson(path.join(recordDirOf(t.replay_id), 'replay.json'))).map((r) => `${r.original_scan_id} ${r.mode}`).sort();
      expect(records.map((r) => `${r.original_scan_id} ${r.mode}`).sort()).toEqual(wanted);
      // …ran through the engine with the pinned (or what-if) scanner image, and did not error…
      for (const r of records) {
        expect(r.executor).toMatchObject({ kind: 'docker', network: 'none' });
        expect(r.executor.engine_version).not.toBe('demo');
        expect(r.status, r.error).not.toBe('error');
      }
      // …and in the index with the same status.
      for (const r of records) {
        const row = db.prepare('SELECT status, record_dir FROM replay_runs WHERE replay_id = ?').get(r.replay_id) as { status: string; record_dir: string } | undefined;
        expect(row).toEqual({ status: r.status, record_dir: path.join(replaysDir, r.replay_id) });
      }
    } finally {
      db.close();
    }
    const n = (s: string) => records.filter((r) => r.status === s).length;
    expect([passed, failed, errors]).toEqual([n('passed'), n('failed'), n('error')]);
    term.keys('q');
  }, 600_000);
});
