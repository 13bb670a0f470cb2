// A real terminal for end-to-end tests: a tmux server of its own (one socket per test process), one
// session `w` running the command, the screen read with capture-pane, keys sent with send-keys.
// Waits poll the screen against a deadline; nothing sleeps a fixed time.
import { spawnSync } from 'node:child_process';

export interface TmuxTerminal {
  /** Any tmux command on this server. */
  tmux(...args: string[]): string;
  screen(): string;
  /** send-keys to the session (tmux key names, or `-l` and literal text). */
  keys(...keys: string[]): void;
  /** The first screen that shows `what`; throws with the last screen at the deadline. */
  waitFor(pred: string | RegExp | ((screen: string) => boolean), what: string, ms?: number): Promise<string>;
  kill(): void;
}

export function tmuxTerminal(socket: string, command: string, size = { width: 80, height: 24 }): TmuxTerminal {
  const tmux = (...args: string[]): string => {
    const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  tmux('new-session', '-d', '-s', 'w', '-x', String(size.width), '-y', String(size.height), command);
  const screen = (): string => tmux('capture-pane', '-p', '-t', 'w');
  return {
    tmux,
    screen,
    keys: (...keys) => void tmux('send-keys', '-t', 'w', ...keys),
    async waitFor(pred, what, ms = 10_000) {
      const test = typeof pred === 'string' ? (s: string) => s.includes(pred) : pred instanceof RegExp ? (s: string) => pred.test(s) : pred;
      const deadline = Date.now() + ms;
      for (;;) {
        const s = screen();
        if (test(s)) return s;
        if (Date.now() > deadline) throw new Error(`screen never showed ${what}; last screen:\n${s}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    kill: () => void spawnSync('tmux', ['-L', socket, 'kill-server']),
  };
}
