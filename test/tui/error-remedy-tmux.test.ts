// Legible at 80×24 (issue 13, item 5), in tmux on the built CLI: a replay that failed with an error
// (its pinned feed bundle is gone from the blob store) shows the error with its remedy in full on the
// Diff screen, wrapped and never cut, and again in the detail pane (`i`). Real scan, real replay
// (local executor), the real index; the text compared is the one replay.json records.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { REPO, STELLA_BIN, THIRD_PARTY, runStella } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { tmuxTerminal, type TmuxTerminal } from '../helpers/tmux.js';

let term: TmuxTerminal | null = null;
afterAll(() => term?.kill());

/** Text without its whitespace: wrapping may break a long path anywhere. */
const flat = (s: string): string => s.replace(/\s+/g, '');

test('80×24: an error replay shows its error and remedy whole on the Diff screen and in i', async () => {
  const work = tempDir('stella-tui-error-');
  const home = path.join(work, 'home');
  const env = { STELLA_HOME: home };
  const ok = async (args: string[], codes = [0]) => {
    const r = await runStella(args, { env, timeoutMs: 120_000 });
    expect(codes, `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
    return r;
  };
  const feed = path.join(work, 'feed.tar.zst');
  const feedDigest = (await ok(['feed', 'snapshot', path.join(THIRD_PARTY, 'osv/ghsa'), '--out', feed, '--generated-at', '2024-10-05T00:00:00Z'])).stdout.trim().split(/\s+/)[0];
  expect(feedDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  const scan = await ok(['scan', path.join(THIRD_PARTY, 'lockfiles/cargo/ripgrep-13.0.0/Cargo.lock'), '--feed', feed, '--policy', path.join(REPO, 'fixtures/policies/prod-default.yaml'), '--out-dir', path.join(work, 'scans'), '--clock', '2024-10-05T06:00:00Z', '--json']);
  const scanDir = (JSON.parse(scan.stdout) as { dir: string }).dir;
  // The pinned feed bundle goes missing from the blob store: the replay is an error naming it and the remedy.
  const hex = feedDigest.slice('sha256:'.length);
  rmSync(path.join(home, 'blobs/sha256', hex.slice(0, 2), hex.slice(2)));
  await ok(['replay', '--from', path.join(scanDir, 'manifest.json'), '--out-dir', path.join(work, 'replays'), '--executor', 'local', '--json'], [0, 1, 2]);
  const [id] = readdirSync(path.join(work, 'replays'));
  const rec = JSON.parse(readFileSync(path.join(work, 'replays', id, 'replay.json'), 'utf8')) as { status: string; error: string };
  expect(rec.status).toBe('error');
  expect(rec.error).toContain(feedDigest);
  expect(rec.error).toMatch(/restore it with `stella blob put FILE`/);
  expect(rec.error.length).toBeGreaterThan(160);
  await ok(['index', path.join(work, 'scans'), path.join(work, 'replays')]);

  const cmd = `env -u CI -u CONTINUOUS_INTEGRATION NO_COLOR=1 LANG=C LC_ALL=C STELLA_HOME=${home} DOCKER_HOST=unix:///nonexistent/stella.sock ${process.execPath} ${STELLA_BIN} tui; sleep 30`;
  term = tmuxTerminal(`stella-error-${process.pid}`, cmd, { width: 80, height: 24 });
  const { keys, waitFor } = term;
  await waitFor(/gate: \w+/, 'the dashboard');
  keys('Enter');
  await waitFor(new RegExp(`> ${id}`), 'the error replay under the cursor');
  keys('Enter');
  const f = await waitFor(`semantic diff of ${id}`, 'the diff of the error replay');
  for (const l of f.split('\n')) {
    expect(l.length, l).toBeLessThanOrEqual(80);
    expect(l.trimEnd().endsWith('~'), l).toBe(false);
  }
  // The whole error, with the remedy, over as many lines as it takes.
  expect(flat(f)).toContain(flat(`error: ${rec.error}`));
  keys('i');
  const pane = await waitFor(`replay id: ${id}`, 'the detail pane');
  expect(flat(pane)).toContain(flat(`error: ${rec.error}`));
  keys('Escape');
  await waitFor((x) => x.includes('semantic diff of') && !x.includes('replay id:'), 'the pane closed');
  keys('q');
  keys('q');
}, 180_000);
