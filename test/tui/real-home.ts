// A workstation home with real records on top of fixture-seeded rows (shared by the tmux tests that
// read record files: ssh, side by side).
import { cpSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { REPO, THIRD_PARTY, runStella } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { openSeeded } from './harness.js';

/**
 * A home with real records on top of fixture-seeded rows: a scan of a real lockfile and a what-if
 * replay of it against the lenient policy (local executor), so `d` and `m` read real record files.
 * The what-if replay (policy_drift, newest) is the first failing row.
 */
export async function realHome(): Promise<{ home: string; whatIfId: string; failing: string[] }> {
  const home = tempDir('stella-tui-ssh-');
  const env: NodeJS.ProcessEnv = { ...process.env, STELLA_HOME: home, NO_COLOR: '1' };
  const { store, failing } = await openSeeded(home, 400);
  store.close();
  const ok = (r: { code: number | null; stderr: string }, want = 0) => expect(r.code, r.stderr).toBe(want);
  cpSync(path.join(THIRD_PARTY, 'osv/ghsa'), path.join(home, 'osv/ghsa'), { recursive: true });
  ok(await runStella(['feed', 'snapshot', path.join(home, 'osv'), '--out', path.join(home, 'feed.tar.zst'), '--generated-at', '2024-10-05T00:00:00Z'], { env }));
  const lockfile = path.join(THIRD_PARTY, 'lockfiles/cargo/ripgrep-13.0.0/Cargo.lock');
  const scan = await runStella(['scan', lockfile, '--feed', path.join(home, 'feed.tar.zst'), '--policy', path.join(REPO, 'fixtures/policies/prod-default.yaml'), '--out-dir', path.join(home, 'scans'), '--clock', '2024-10-05T06:00:00Z', '--json'], { env });
  ok(scan);
  const scanDir = (JSON.parse(scan.stdout) as { dir: string }).dir;
  ok(await runStella(['policy', 'bundle', path.join(REPO, 'fixtures/policies/lenient.yaml'), '--out', path.join(home, 'lenient.json')], { env }));
  const put = await runStella(['blob', 'put', path.join(home, 'lenient.json')], { env });
  ok(put);
  const lenient = put.stdout.trim().split(/\s+/)[0];
  const whatIf = await runStella(['replay', '--from', path.join(scanDir, 'manifest.json'), '--out-dir', path.join(home, 'replays'), '--executor', 'local', '--what-if', `policy=${lenient}`, '--json'], { env, timeoutMs: 120_000 });
  ok(whatIf, 1);
  const rec = JSON.parse(whatIf.stdout) as { replay_id: string; mismatch_reason: string };
  expect(rec.mismatch_reason).toBe('policy_drift');
  ok(await runStella(['index', path.join(home, 'scans'), path.join(home, 'replays')], { env }));
  return { home, whatIfId: rec.replay_id, failing };
}
