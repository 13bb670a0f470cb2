// Over SSH, for real (issue 13, item 13): the built workstation through `ssh -tt` to the OpenSSH server
// on loopback, inside tmux at 80×24, once as xterm-256color and once as vt100 with NO_COLOR, walking
// dashboard → failing → open → n → d → m → Esc → mark 3 → t (confirm) → u → q; the audit rows are
// read back from SQLite.
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { STELLA_BIN } from '../helpers/cli.js';
import { realHome } from './real-home.js';
import { requireSsh, sshCommand } from '../helpers/ssh.js';
import { tmuxTerminal, type TmuxTerminal } from '../helpers/tmux.js';

const ssh = requireSsh();

let term: TmuxTerminal | null = null;
afterEach(() => {
  term?.kill();
  term = null;
});

describe('the workstation over ssh -tt', () => {
  for (const mode of [
    { term: 'xterm-256color', env: 'LANG=C.UTF-8 LC_ALL=C.UTF-8', mark: '●' },
    { term: 'vt100', env: 'NO_COLOR=1 LANG=C LC_ALL=C', mark: '*' },
  ]) {
    test(`TERM=${mode.term}${mode.env.includes('NO_COLOR') ? ' NO_COLOR' : ''}: dashboard → failing → open → n → d → m → Esc → mark 3 → t → u → q`, async () => {
      const { home, whatIfId, failing } = await realHome();
      // The remote side: the same machine, a login shell of the ssh user; CI unset (Ink draws nothing
      // with CI=true), the user's TERM as ssh forwards it.
      const remote = `env -u CI -u CONTINUOUS_INTEGRATION ${mode.env} STELLA_HOME=${home} DOCKER_HOST=unix:///nonexistent/stella.sock ${process.execPath} ${STELLA_BIN} tui`;
      const s = ssh();
      term = tmuxTerminal(`stella-ssh-${process.pid}-${mode.term}`, `env TERM=${mode.term} ${sshCommand(s, remote)}; sleep 30`);
      const { keys, waitFor, tmux } = term;

      await waitFor(/gate: FAIL/, 'the dashboard over ssh', 20_000);
      keys('Enter');
      await waitFor('REPLAY', 'the replay list');
      keys('f');
      const list = await waitFor(/sort:failing_first failing[\s\S]*\n(\d+) replays \| \1 failing/, 'the failing filter with its counts');
      expect(list.split('\n').find((l) => l.startsWith('>'))).toContain(whatIfId.slice(0, 15));
      keys('Enter');
      await waitFor(/semantic diff of[\s\S]*cause policy_drift/, 'the diff of the what-if replay');
      keys('n');
      await waitFor(/^> verdict /m, 'the first change focused');
      keys('d');
      const raw = await waitFor(/raw canonical diff[\s\S]*original\/[\s\S]*replay\//, 'the raw canonical diff of the record files');
      expect(raw).not.toContain('error:');
      keys('m');
      await waitFor(/manifest \/ environment diff[\s\S]*replay mode: what-if:policy=/, 'the manifest diff naming the what-if policy');
      keys('Escape');
      await waitFor('semantic diff of', 'back on the summary');
      keys('Escape');
      await waitFor('REPLAY', 'back on the list');
      keys('Space', 'Space', 'Space');
      const marked = await waitFor('3 marked', 'three marks');
      expect(marked.split('\n').filter((l) => l.slice(1, 2) === mode.mark).length).toBe(3);
      keys('t');
      await waitFor('Tag 3 replays as', 'the tag picker');
      keys('Enter');
      await waitFor(/note for \w+/, 'the note prompt');
      keys('-l', 'over ssh');
      keys('Enter');
      await waitFor(/Retag 3 replays as \w+\? \[y\/N\]/, 'the confirm');
      keys('y');
      await waitFor(/retagged \d of 3 as \w+/, 'the retag');

      const db = new Database(path.join(home, 'index.db'), { readonly: true });
      const audit = db.prepare('SELECT replay_id, new_tag, who, note, undone FROM tag_events ORDER BY event_id').all() as Array<{ replay_id: string; who: string; note: string; undone: number }>;
      expect(audit.length).toBeGreaterThan(0);
      expect(audit.every((a) => [whatIfId, ...failing.slice(0, 2)].includes(a.replay_id) && a.note === 'over ssh' && a.who.includes(s.user))).toBe(true);
      keys('u');
      await waitFor(/undid retag \w+: \d+ restored/, 'the undo');
      expect((db.prepare('SELECT count(*) AS n FROM tag_events WHERE undone = 1').get() as { n: number }).n).toBe(audit.length);
      expect((db.prepare('SELECT count(*) AS n FROM replay_runs WHERE human_tag IS NOT NULL').get() as { n: number }).n).toBe(0);
      db.close();
      keys('q');
      await waitFor(/gate: FAIL/, 'back on the dashboard');
      keys('q');
      // The workstation exits, the ssh session closes, the shell's sleep holds the pane.
      await waitFor(() => tmux('list-panes', '-t', 'w', '-F', '#{pane_current_command}').trim() === 'sleep', 'the ssh session to end', 15_000);
    }, 90_000);
  }
});
