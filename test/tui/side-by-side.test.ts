// Side by side (issue 13, item 7), in tmux on the built CLI with NO_COLOR: at 120 columns the raw
// canonical diff (`d`) and the manifest diff (`m`) show original | replay in two columns with `-`/`+`
// marks in the text itself; at 80 columns the same views stay unified.
import { afterEach, expect, test } from 'vitest';
import { STELLA_BIN } from '../helpers/cli.js';
import { tmuxTerminal, type TmuxTerminal } from '../helpers/tmux.js';
import { realHome } from './real-home.js';

let term: TmuxTerminal | null = null;
afterEach(() => {
  term?.kill();
  term = null;
});

for (const size of [{ width: 120, height: 30 }, { width: 80, height: 24 }]) {
  test(`${size.width}x${size.height}: d and m ${size.width >= 100 ? 'side by side' : 'unified'}, changes marked without colour`, async () => {
    const { home, whatIfId } = await realHome();
    const cmd = `env -u CI -u CONTINUOUS_INTEGRATION NO_COLOR=1 LANG=C LC_ALL=C STELLA_HOME=${home} DOCKER_HOST=unix:///nonexistent/stella.sock ${process.execPath} ${STELLA_BIN} --open ${whatIfId}; sleep 30`;
    term = tmuxTerminal(`stella-sbs-${process.pid}-${size.width}`, cmd, size);
    const { keys, waitFor } = term;
    await waitFor(/semantic diff of[\s\S]*cause policy_drift/, 'the diff of the what-if replay');
    keys('m');
    const m = await waitFor(/manifest \/ environment diff of[\s\S]*replay mode: what-if:policy=/, 'the manifest diff');
    const lines = m.split('\n');
    if (size.width >= 100) {
      // A changed row: `- <original> | + <replay>`, the policy digest differing between the sides.
      const changed = lines.filter((l) => /^\s*(> )?\s*- .*\|\+ /.test(l) || /^ {2}- .*\|\+ /.test(l));
      expect(changed.length, m).toBeGreaterThan(0);
      expect(changed.some((l) => /policy_bundle_digest/.test(l))).toBe(true);
      // Context rows carry the same text on both sides.
      expect(
        lines.some((l) => {
          const [left, right, ...rest] = l.split('|');
          return rest.length === 0 && right !== undefined && /^ {4}/.test(left) && /^ {2}/.test(right) && left.trim() !== '' && left.trim() === right.trim();
        }),
      ).toBe(true);
    } else {
      expect(lines.some((l) => /^ {2}-.*policy_bundle_digest/.test(l))).toBe(true);
      expect(lines.some((l) => /^ {2}\+.*policy_bundle_digest/.test(l))).toBe(true);
      expect(lines.some((l) => / \|\+ /.test(l))).toBe(false);
    }
    keys('Escape');
    await waitFor(/semantic diff of/, 'back on the summary');
    keys('d');
    const d = await waitFor(/raw canonical diff of[\s\S]*original\//, 'the raw diff');
    if (size.width >= 100) expect(d.split('\n').some((l) => /[-~ ] .*\|[+ ] /.test(l) && /(- .*\|\+ )|(- .*\| {2})|( {2}.*\|\+ )/.test(l))).toBe(true);
    else expect(d.split('\n').some((l) => /^ {2}[-+]/.test(l))).toBe(true);
    keys('q');
    keys('q');
  }, 120_000);
}
