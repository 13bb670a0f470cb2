// The workstation's re-run and Diff screen end to end on real records: a feed bundle from the GHSA
// subset of the OSV fixtures, a real scan of ripgrep's Cargo.lock under the prod-default policy, the
// scanner image, a pinned Docker replay and a what-if replay against the lenient policy (a verdict
// flip), all indexed; then the workstation is opened the way `stella tui` opens it (openWorkstation:
// the real store, the real engine check, the real dockerRerun) and driven by keys.
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/sqlite-store.js';
import { openWorkstation, type OpenedWorkstation } from '../../src/app/workstation.js';
import { makeTheme } from '../../components/theme/theme.js';
import { REPO, runStella, STELLA_BIN, THIRD_PARTY } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { tempDir } from '../helpers/tmp.js';
import { tmuxTerminal } from '../helpers/tmux.js';
import { KEYS, mountController } from './harness.js';

const CLOCK = '2024-10-05T06:00:00Z';
const FEED_AT = '2024-10-05T00:00:00Z';
const LOCKFILE = path.join(THIRD_PARTY, 'lockfiles/cargo/ripgrep-13.0.0/Cargo.lock');
// ripgrep 13 pins regex 1.5.4: GHSA-m5pq-gvj9-9vr8 (CVE-2022-24713, high, fixed 1.5.5).
const ADVISORY_CVE = 'CVE-2022-24713';
// 99 columns: wide enough for whole replay ids, narrow enough that the raw and manifest diffs stay
// unified (side by side, from 100 columns, is tested in side-by-side.test.ts).
const WIDTH = 99;
const HEIGHT = 30;

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

describe('workstation: Docker re-run and the Diff screen on real records', () => {
  // Short prefix: the error line of the damaged-record test must fit the file and JSON path in 99 columns.
  const home = tempDir('st-');
  const env: NodeJS.ProcessEnv = { ...process.env, STELLA_HOME: home, NO_COLOR: '1' };
  const replaysDir = path.join(home, 'replays');
  let scanDir = '';
  let prodDigest = '';
  let lenientDigest = '';
  let pinnedId = '';
  let whatIfId = '';
  let opened: OpenedWorkstation | null = null;
  let unmount: (() => void) | null = null;

  // An injected clock that ticks one second per read: re-run ids (which hash the start time) differ.
  let tick = Date.parse('2026-12-01T00:00:00Z');
  const now = (): Date => new Date((tick += 1000));

  afterEach(() => {
    unmount?.();
    unmount = null;
    opened?.close();
    opened = null;
  });

  beforeAll(async () => {
    await requireDocker();
    const osv = path.join(home, 'osv');
    cpSync(path.join(THIRD_PARTY, 'osv/ghsa'), path.join(osv, 'ghsa'), { recursive: true });
    const feed = path.join(home, 'feed.tar.zst');
    const f = await runStella(['feed', 'snapshot', osv, '--out', feed, '--generated-at', FEED_AT], { env });
    expect(f.code, f.stderr).toBe(0);
    const img = await runStella(['image', 'build'], { env, timeoutMs: 300_000 });
    expect(img.code, img.stderr).toBe(0);

    const scan = await runStella(['scan', LOCKFILE, '--feed', feed, '--policy', path.join(REPO, 'fixtures/policies/prod-default.yaml'), '--out-dir', path.join(home, 'scans'), '--clock', CLOCK, '--json'], { env });
    expect(scan.code, scan.stderr).toBe(0);
    const scanOut = JSON.parse(scan.stdout);
    expect(scanOut.decision).toBe('fail');
    scanDir = scanOut.dir;
    const manifest = readJson(path.join(scanDir, 'manifest.json'));
    prodDigest = manifest.policy.policy_bundle_digest;

    const pinned = await runStella(['replay', '--from', path.join(scanDir, 'manifest.json'), '--out-dir', replaysDir, '--json'], { env, timeoutMs: 300_000 });
    expect(pinned.code, pinned.stderr).toBe(0);
    pinnedId = JSON.parse(pinned.stdout).replay_id;

    const lenient = path.join(home, 'lenient.json');
    const b = await runStella(['policy', 'bundle', path.join(REPO, 'fixtures/policies/lenient.yaml'), '--out', lenient], { env });
    expect(b.code, b.stderr).toBe(0);
    const put = await runStella(['blob', 'put', lenient], { env });
    expect(put.code, put.stderr).toBe(0);
    lenientDigest = put.stdout.trim().split(/\s+/)[0];
    expect(lenientDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(lenientDigest).not.toBe(prodDigest);
    const whatIf = await runStella(['replay', '--from', path.join(scanDir, 'manifest.json'), '--out-dir', replaysDir, '--what-if', `policy=${lenientDigest}`, '--json'], { env, timeoutMs: 300_000 });
    expect(whatIf.code, whatIf.stderr).toBe(1);
    const wrec = JSON.parse(whatIf.stdout);
    expect(wrec).toMatchObject({ status: 'failed', mismatch_reason: 'policy_drift' });
    whatIfId = wrec.replay_id;

    const idx = await runStella(['index', path.join(home, 'scans'), replaysDir], { env });
    expect(idx.code, idx.stderr).toBe(0);
  }, 600_000);

  /** The workstation as `stella tui` builds it, drawn by ink-testing-library; waits for the engine check. */
  async function open(openId?: string) {
    opened = openWorkstation({ env, cwd: home, now, width: WIDTH, height: HEIGHT, ...(openId ? { openId } : {}) });
    const h = await mountController(opened.controller, makeTheme({ color: false, ascii: true }));
    unmount = h.unmount;
    const deadline = Date.now() + 15_000;
    while (!opened.controller.getState().engine.available) {
      if (Date.now() > deadline) throw new Error(`the engine check never answered "available": ${opened.controller.getState().engine.reason}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return h;
  }

  it('Enter opens the what-if replay; n/N step through the verdict changes; d shows the raw canonical diff; m the manifest/environment diff', async () => {
    const h = await open();
    await h.press(KEYS.enter);
    // Failing first: the what-if replay is the cursor row.
    await h.waitFor((f) => f.includes(whatIfId) && f.includes(pinnedId), 'both indexed replays');
    expect(h.frame()).toMatch(new RegExp(`> ${whatIfId} +failed x x x policy_drift +ripgrep`));

    await h.press(KEYS.enter);
    let f = await h.waitFor('cause policy_drift', 'the semantic diff of the what-if replay');
    expect(f).toContain(`semantic diff of ${whatIfId}`);
    expect(f).toContain('BF DIFFERS  SF DIFFERS  PF DIFFERS  cause policy_drift');
    // The verdict went from fail (prod-default) to warn (lenient), losing the fix-age reason.
    expect(f).toMatch(/verdict decision\s+\| fail\s+\| warn/);
    expect(f).toContain('FIX_AVAILABLE_30D');
    expect(f).toContain(`manifest_field $.policy.policy_bundle_digest: ${prodDigest.slice(0, 30)}`);

    await h.press('n');
    f = await h.waitFor(/> verdict decision\s+\| fail\s+\| warn/, 'the first change focused');
    await h.press('n');
    f = await h.waitFor(/> verdict reasons\s+\| FIX_AVAILABLE_30D\(CVE-2/, 'the second change (the reason codes) focused');
    expect(f).not.toMatch(/> verdict decision/);
    await h.press('N');
    await h.waitFor(/> verdict decision\s+\| fail\s+\| warn/, 'N back to the first change');

    // d: the raw canonical diff of the real artifacts; only the verdict differs.
    await h.press('d');
    f = await h.waitFor(`raw canonical diff of ${whatIfId}`, 'the raw view');
    expect(f).toContain('raw canonical diff: original (-) vs replay (+)');
    expect(f).toMatch(/^\s+@@ /m);
    expect(f).toContain('-$.decision = "fail"');
    expect(f).toContain('+$.decision = "warn"');
    expect(f).toContain('-$.reasons[0].code = "FIX_AVAILABLE_30D"');
    expect(f).toContain('original/artifacts/verdict.json -> replay/artifacts/verdict.json');
    // prod-default failed on the fix age and the severity; lenient only warns on the severity.
    expect(f).toContain('-$.reasons[1].code = "SEV_HIGH"');
    expect(f).toContain('+$.reasons[0].code = "SEV_HIGH"');
    expect(f).toContain(` $.reasons[0].subject = "${ADVISORY_CVE} pkg:cargo/regex@1.5.4"`);
    const canonical = opened!.controller.getState().diff!.lines.map((l) => ('text' in l ? l.text : ''));
    // The same four artifacts on disk: the SBOM, findings and VEX are canonically equal, so no hunk names them.
    expect(canonical.some((l) => l.startsWith('@@'))).toBe(true);
    expect(canonical.filter((l) => l.includes(' -> replay/'))).toEqual(['original/artifacts/verdict.json -> replay/artifacts/verdict.json']);
    // n/N step over the changed lines of the raw view too.
    await h.press('n');
    await h.waitFor('> -$.decision = "fail"', 'n on the first changed line of the raw diff');
    await h.press('n');
    await h.waitFor('> +$.decision = "warn"', 'n on the second');
    await h.press('N');
    await h.waitFor('> -$.decision = "fail"', 'N back');

    // m: the manifest/environment diff names the what-if policy digest on the replay side.
    await h.press('m');
    f = await h.waitFor(`manifest / environment diff of ${whatIfId}`, 'the manifest view');
    expect(f).toContain(`replay mode: what-if:policy=${lenientDigest.slice(0, 40)}`);
    expect(f).toContain(`-    "policy_bundle_digest": "${prodDigest.slice(0, 40)}`);
    expect(f).toContain(`+    "policy_bundle_digest": "${lenientDigest.slice(0, 40)}`);
    const manifestLines = opened!.controller.getState().diff!.lines.map((l) => ('text' in l ? l.text : ''));
    expect(manifestLines).toContain('original/manifest.json -> replay/manifest.json');
    expect(manifestLines).toContain(`-    "policy_bundle_digest": "${prodDigest}",`);
    expect(manifestLines).toContain(`+    "policy_bundle_digest": "${lenientDigest}",`);
    // Only the policy digest was overridden: no other manifest field shows as changed.
    const changed = manifestLines.filter((l) => /^[-+] /.test(l) && l.includes('":'));
    expect(changed).toEqual([`-    "policy_bundle_digest": "${prodDigest}",`, `+    "policy_bundle_digest": "${lenientDigest}",`]);
    await h.press('n');
    await h.waitFor(`> -    "policy_bundle_digest": "${prodDigest.slice(0, 30)}`, 'n on the overridden digest');
    // The Docker executor ran with the pinned tz, locale, clock, cpus… (network none = disabled).
    expect(manifestLines.some((l) => l.startsWith('environment: the replay ran in the pinned environment (arch, clock_mode, clock_value, cpus, '))).toBe(true);

    // Esc returns to the summary, a second Esc to the list.
    await h.press(KEYS.escape);
    await h.waitFor('semantic diff of', 'back to the summary');
    await h.press(KEYS.escape);
    await h.waitFor('Stella Replay - Replays', 'back to the list');
  }, 60_000);

  it('r re-runs the marked replays in Docker: a live progress line, rows update as each finishes, new records on disk and in the index', async () => {
    const before = new Set(readdirSync(replaysDir));
    const h = await open();
    await h.press(KEYS.enter);
    await h.waitFor((f) => f.includes(whatIfId) && f.includes(pinnedId), 'both indexed replays');
    await h.waitFor('2 replays', 'the counts');
    // Mark both rows (the pinned replay and the what-if one), then re-run them.
    await h.press(KEYS.space, KEYS.space);
    await h.waitFor('2 marked', 'two marks');
    await h.press('r');
    // Marks re-run in id order.
    const [first, second] = [whatIfId, pinnedId].sort();
    await h.waitFor(new RegExp(`re-run 0/2: ${first} `), 'the live progress line of the first replay', 60_000);
    // The first replay finishes: its row lands while the second runs, and the line keeps its result.
    await h.waitFor(
      (f) => f.includes('3 replays') && new RegExp(`re-run 1/2: ${second} .*\\(last: (passed|failed) -> rpl_[0-9a-f]{16}\\)`).test(f),
      'the row set and the first result while the second replay runs',
      120_000,
    );
    // The pinned re-run passes, the what-if one fails (the lenient policy differs): never "ok" for a mismatch.
    const f = await h.waitFor(/re-run finished: 1 passed, 1 failed, 0 error - /, 'the end of the batch', 120_000);
    expect(f).toContain('4 replays');
    const frames = h.frames();
    for (const id of [first, second]) expect(frames.some((x) => x.includes(`: ${id} starting`)), `${id} start`).toBe(true);
    // The executor's own events reached the line while each container ran.
    expect(frames.some((x) => new RegExp(`re-run 0/2: ${first} container [0-9a-f]{12} created`).test(x))).toBe(true);
    expect(frames.some((x) => new RegExp(`re-run 1/2: ${second} container [0-9a-f]{12} created \\(last: `).test(x))).toBe(true);

    // Two new record dirs, each indexed, each compared with the ORIGINAL scan.
    const added = readdirSync(replaysDir).filter((n) => !before.has(n)).sort();
    expect(added).toHaveLength(2);
    const store = openStore(opened!.dbPath, { readonly: true });
    try {
      const rows = (await store.pageReplays({ filter: {}, sort: 'newest', limit: 10 })).rows;
      expect(rows.map((r) => r.replay_id).sort()).toEqual([...added, pinnedId, whatIfId].sort());
      for (const id of added) {
        const rec = readJson(path.join(replaysDir, id, 'replay.json'));
        const row = rows.find((r) => r.replay_id === id)!;
        expect(row.record_dir).toBe(path.join(replaysDir, id));
        expect(row.status).toBe(rec.status);
        expect(rec.executor).toMatchObject({ kind: 'docker', network: 'none', read_only: true });
        expect(rec.original_scan_id).toBe(path.basename(scanDir));
        if (rec.mode === 'pinned') {
          // The pinned re-run matches the original bit for bit.
          expect(rec).toMatchObject({ status: 'passed', bf_match: true, sf_match: true, pf_match: true, mismatch_reason: null });
          const original = readJson(path.join(scanDir, 'outputs.json'));
          for (const n of ['sbom', 'findings', 'vex', 'verdict']) expect(rec.artifacts[n].canonical_sha256).toBe(original[n].canonical_sha256);
        } else {
          // Re-running the what-if replay asks the same question: the lenient policy against the original.
          expect(rec.mode).toBe(`what-if:policy=${lenientDigest}`);
          expect(rec).toMatchObject({ status: 'failed', pf_match: false, mismatch_reason: 'policy_drift' });
          expect(row.tag).toBe('policy_drift');
        }
        expect(h.frame()).toContain(id);
      }
      expect(added.map((id) => readJson(path.join(replaysDir, id, 'replay.json')).mode).sort()).toEqual(['pinned', `what-if:policy=${lenientDigest}`]);
      // The status line's counts are the records' statuses.
      const statuses = added.map((id) => readJson(path.join(replaysDir, id, 'replay.json')).status as string);
      const n = (s: string): number => statuses.filter((x) => x === s).length;
      expect(opened!.controller.getState().rerun!.line).toMatch(new RegExp(`^re-run finished: ${n('passed')} passed, ${n('failed')} failed, ${n('error')} error`));
    } finally {
      store.close();
    }
    // The marks were the pair re-run; the list now shows the new rows with their results.
    expect(h.frame()).toMatch(/4 replays \| 2 failing/);
  }, 300_000);

  it('a replay record damaged after indexing: d, m and r each name the file and JSON path; nothing is written', async () => {
    const file = path.join(replaysDir, whatIfId, 'replay.json');
    const good = readFileSync(file);
    // Truncated mid-document, as a crashed copy would leave it.
    writeFileSync(file, good.subarray(0, 40));
    try {
      const before = readdirSync(replaysDir).sort();
      const h = await open(whatIfId);
      await h.waitFor('cause policy_drift', 'the diff of the damaged replay (from the index)');
      await h.press('m');
      let f = await h.waitFor('error: ', 'the error line for m');
      const mLine = opened!.controller.getState().message!;
      expect(mLine).toMatch(new RegExp(`^error: ${file.replace(/[.]/g, '\\.')}: \\$.*`));
      expect(f).toContain(`error: ${file}: $`);
      expect(f.split('\n').filter((l) => l.includes('error: '))).toHaveLength(1);

      await h.press('d');
      f = await h.waitFor((x) => x.includes(`error: ${file}: $`) && opened!.controller.getState().diff!.view === 'summary', 'the error line for d');

      await h.press('r');
      // The summary keeps the failure: the damaged file and the JSON path of the problem.
      // The frame shows the counts (the 80-column line cuts the long path); the state holds the full line.
      f = await h.waitFor((x) => x.includes('re-run finished: 0 passed, 0 failed, 1 error - ') && (opened!.controller.getState().rerun?.line ?? '').includes(`${file}: $`), 'the failed re-run', 60_000);
      expect(opened!.controller.getState().rerun!.line).toMatch(new RegExp(`^re-run finished: 0 passed, 0 failed, 1 error - ${file.replace(/[.]/g, '\\.')}: \\$\\S*: `));
      // Nothing half-written: no new record dir, the index unchanged.
      expect(readdirSync(replaysDir).sort()).toEqual(before);
      expect(f).toContain('4 replays');
      expect(existsSync(path.join(replaysDir, whatIfId, 'outputs.json'))).toBe(true);

      // Well-formed JSON without the replay's mode: the what-if overrides cannot be known, so m and r
      // refuse, naming $.mode, instead of showing or re-running the pinned manifest as if it were the same.
      const { mode: _dropped, ...noMode } = JSON.parse(good.toString('utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify(noMode, null, 2));
      await h.press('m');
      f = await h.waitFor(`error: ${file}: $.mode: must be a string`, 'the $.mode error for m');
      await h.press('r');
      await h.waitFor((x) => x.includes('re-run finished: 0 passed, 0 failed, 1 error - ') && (opened!.controller.getState().rerun?.line ?? '').includes(`${file}: $.mode:`), 'the $.mode error for r', 60_000);
      expect(opened!.controller.getState().rerun!.line).toBe(`re-run finished: 0 passed, 0 failed, 1 error - ${file}: $.mode: must be a string naming the replay mode (pinned or what-if:…)`);
      expect(readdirSync(replaysDir).sort()).toEqual(before);
    } finally {
      writeFileSync(file, good);
    }
  }, 120_000);

  it('the built `stella tui` in tmux at 80×24: r on an open diff, pressed as soon as it shows (the engine check may still be running), re-runs it in Docker', async () => {
    const before = new Set(readdirSync(replaysDir));
    let kill = (): void => undefined;
    try {
      // The real clock and the default engine socket, as a user's `stella tui --open ID` has them.
      const cmd = `env -u CI -u DOCKER_HOST NO_COLOR=1 LANG=C.UTF-8 STELLA_HOME=${home} ${process.execPath} ${STELLA_BIN} tui --open ${pinnedId}; sleep 60`;
      const term = tmuxTerminal(`stella-rerun-${process.pid}`, cmd);
      kill = term.kill;
      await term.waitFor(`semantic diff of ${pinnedId}`, 'the diff of the pinned replay', 15_000);
      term.keys('r');
      const done = await term.waitFor('re-run finished: 1 passed, 0 failed, 0 error', 'the re-run result', 120_000);
      expect(done).not.toContain('re-run unavailable');
      expect(done).toMatch(/5 replays \| 2 failing/);
      const added = readdirSync(replaysDir).filter((n) => !before.has(n));
      expect(added).toHaveLength(1);
      term.keys('Escape');
      const list = await term.waitFor(new RegExp(`Stella Replay - Replays[\\s\\S]*${added[0]} +passed`), 'the list with the new row', 15_000);
      expect(list).toMatch(/5 replays \| 2 failing/);
      const rec = readJson(path.join(replaysDir, added[0], 'replay.json'));
      expect(rec).toMatchObject({ mode: 'pinned', status: 'passed', bf_match: true, original_scan_id: path.basename(scanDir) });
      const store = openStore(path.join(home, 'index.db'), { readonly: true });
      try {
        expect((await store.getReplay(added[0]))).toMatchObject({ status: 'passed', record_dir: path.join(replaysDir, added[0]) });
      } finally {
        store.close();
      }
    } finally {
      kill();
    }
  }, 180_000);
});
