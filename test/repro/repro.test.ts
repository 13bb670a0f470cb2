// `stella repro`: the ticket's command, pasted into a clean shell (env -i, a fresh HOME, a temporary
// directory), re-creates a real Docker what-if replay of a real lockfile and ends with one verdict line
// whose cause, subtags and four canonical hashes are the recorded ones.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_NAMES } from '../../src/core/formats.js';
import { REPO, runStella, THIRD_PARTY } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { requirePostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

const pg = requirePostgres();

const CLOCK = '2025-12-12T10:15:30Z';
const INPUT = path.join(THIRD_PARTY, 'lockfiles/npm/socket.io/package-lock.json');
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

/** Run a pasted command the way a new user would: no inherited environment, another directory. */
function clean(command: string): { code: number | null; stdout: string; stderr: string; cwd: string } {
  const cwd = tempDir('stella-repro-cwd-');
  const r = spawnSync('env', ['-i', 'PATH=/usr/local/bin:/usr/bin:/bin', 'bash', '-c', `HOME=$(mktemp -d) && export HOME && ${command}`], { cwd, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, cwd };
}

describe('stella repro: the ticket command in a clean shell, through the real engine', () => {
  const work = tempDir('stella-repro-');
  const home = path.join(work, 'home');
  const env = { STELLA_HOME: home };
  let replayId = '';
  let replayDir = '';
  let tzId = '';
  let clockId = '';
  let newDigest = '';
  let scanA = '';

  const stella = async (args: string[], code = 0) => {
    const r = await runStella(args, { env, cwd: work, timeoutMs: 300_000 });
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
    return r;
  };

  beforeAll(async () => {
    await requireDocker();
    await stella(['image', 'build']);
    const oldFeed = path.join(work, 'osv-old');
    mkdirSync(oldFeed);
    cpSync(path.join(THIRD_PARTY, 'osv/go'), path.join(oldFeed, 'go'), { recursive: true });
    const newFeed = path.join(work, 'osv-new');
    mkdirSync(newFeed);
    cpSync(path.join(THIRD_PARTY, 'osv/go'), path.join(newFeed, 'go'), { recursive: true });
    cpSync(path.join(THIRD_PARTY, 'osv/ghsa'), path.join(newFeed, 'ghsa'), { recursive: true });
    for (const [src, out] of [[oldFeed, 'old.tar.zst'], [newFeed, 'new.tar.zst']]) await stella(['feed', 'snapshot', src, '--out', path.join(work, out), '--generated-at', CLOCK]);
    const scan = async (feed: string, out: string) =>
      (JSON.parse((await stella(['scan', INPUT, '--feed', path.join(work, feed), '--policy', path.join(REPO, 'fixtures/policies/prod-default.yaml'), '--out-dir', path.join(work, out), '--clock', CLOCK, '--json'])).stdout) as { dir: string }).dir;
    const a = await scan('old.tar.zst', 'scans-a');
    scanA = a;
    const b = await scan('new.tar.zst', 'scans-b');
    newDigest = readJson(path.join(b, 'manifest.json')).feeds.vuln_feed_bundle_digest as string;
    // A what-if replay in Docker: A's pins with B's feed.
    const r = await stella(['replay', '--from', path.join(a, 'manifest.json'), '--what-if', `feed=${newDigest}`, '--out-dir', path.join(work, 'replays'), '--json'], 1);
    const rec = JSON.parse(r.stdout) as { replay_id: string; status: string; mismatch_reason: string; mode: string };
    expect(rec).toMatchObject({ status: 'failed', mismatch_reason: 'feed_drift', mode: `what-if:feed=${newDigest}` });
    replayId = rec.replay_id;
    replayDir = path.join(work, 'replays', replayId);
    // And one with another time zone (the environment what-if).
    const tz = await runStella(['replay', '--from', path.join(a, 'manifest.json'), '--what-if', 'tz=America/New_York', '--out-dir', path.join(work, 'replays-tz'), '--json'], { env, cwd: work, timeoutMs: 300_000 });
    expect([0, 1], tz.stderr).toContain(tz.code);
    const tzRec = JSON.parse(tz.stdout) as { replay_id: string; mode: string; executor: { tz: string } };
    expect(tzRec.mode).toBe('what-if:tz=America/New_York');
    expect(tzRec.executor.tz).toBe('America/New_York');
    tzId = tzRec.replay_id;
    // And one with another frozen clock (the outputs carry it: runtime_drift [clock_value]).
    const clock = await runStella(['replay', '--from', path.join(a, 'manifest.json'), '--what-if', 'clock=2026-03-01T00:00:00Z', '--out-dir', path.join(work, 'replays-clock'), '--json'], { env, cwd: work, timeoutMs: 300_000 });
    expect([0, 1], clock.stderr).toContain(clock.code);
    clockId = (JSON.parse(clock.stdout) as { replay_id: string }).replay_id;
    await stella(['index', path.join(work, 'scans-a'), path.join(work, 'replays'), path.join(work, 'replays-tz'), path.join(work, 'replays-clock')]);
  }, 600_000);

  it('the ticket names the command; pasted into env -i from another directory it reproduces cause and hashes', async () => {
    const t = JSON.parse((await stella(['ticket', replayId, '--json'])).stdout) as { reproduce: string; markdown: string };
    expect(t.reproduce).toBe(`STELLA_HOME=${home} ${process.execPath} ${path.join(REPO, 'dist/bin/stella.js')} repro ${replayId}`);
    expect(t.markdown).toContain(['```sh', t.reproduce, '```'].join('\n'));
    // In prose: which vulnerabilities flipped and why, then the environment, then where the manifest is.
    expect(t.markdown).toMatch(/## What changed and why\n\n(- .+\n)*- (GHSA|CVE)-\S+ \(\w+\) now matches \S+@\S+ \(cause: feed_drift\)\.\n/);
    expect(t.markdown).toContain('## Environment\n');
    expect(t.markdown).toContain(`- Path: \`${replayDir}/manifest.json\``);
    const before = new Set(readdirSync(path.join(work, 'replays')));
    const r = clean(t.reproduce);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const recorded = readJson(path.join(replayDir, 'replay.json'));
    const short = (d: string) => d.slice('sha256:'.length, 'sha256:'.length + 12);
    const hashes = ARTIFACT_NAMES.map((n) => `${n} ${short(recorded.artifacts[n].canonical_sha256)} =`).join(', ');
    expect(lines[0]).toMatch(new RegExp(`^REPRODUCED ${replayId} as rpl_[0-9a-f]{16}: failed feed_drift(?: \\[[^\\]]*\\])? \\(recorded failed feed_drift`));
    expect(lines[0]).toContain(`; ${hashes} (recorded; same hashes expected)`);
    // The new record compares with the ORIGINAL scan, keeps the what-if mode, ran in Docker; the history is untouched.
    const reproDir = path.join(home, 'repro');
    const [id] = readdirSync(reproDir);
    const rerun = readJson(path.join(reproDir, id, 'replay.json'));
    expect(rerun).toMatchObject({ mode: recorded.mode, original_scan_id: recorded.original_scan_id, mismatch_reason: 'feed_drift', subtags: recorded.subtags });
    expect(rerun.executor).toMatchObject({ kind: 'docker', network: 'none' });
    for (const n of ARTIFACT_NAMES) expect(rerun.artifacts[n].canonical_sha256).toBe(recorded.artifacts[n].canonical_sha256);
    expect(new Set(readdirSync(path.join(work, 'replays')))).toEqual(before);
  }, 300_000);

  it('a what-if tz replay: the ticket command reproduces its cause, subtags and hashes in the same zone', async () => {
    const t = JSON.parse((await stella(['ticket', tzId, '--json'])).stdout) as { reproduce: string };
    const r = clean(t.reproduce);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^REPRODUCED ${tzId} as rpl_[0-9a-f]{16}: `));
    const recorded = readJson(path.join(work, 'replays-tz', tzId, 'replay.json'));
    const ids = readdirSync(path.join(home, 'repro')).filter((id) => readJson(path.join(home, 'repro', id, 'replay.json')).mode === recorded.mode);
    expect(ids).toHaveLength(1);
    const rerun = readJson(path.join(home, 'repro', ids[0], 'replay.json'));
    expect(rerun.executor.tz).toBe('America/New_York');
    expect([rerun.status, rerun.mismatch_reason, rerun.subtags]).toEqual([recorded.status, recorded.mismatch_reason, recorded.subtags]);
    for (const n of ARTIFACT_NAMES) expect(rerun.artifacts[n].canonical_sha256).toBe(recorded.artifacts[n].canonical_sha256);
    expect(scanA).not.toBe('');
  }, 300_000);

  it('a ticket of another index file names the real STELLA_HOME and --db; pasted, it reproduces', async () => {
    const alt = path.join(work, 'h', 'alt.db');
    mkdirSync(path.dirname(alt));
    await stella(['index', path.join(work, 'scans-a'), path.join(work, 'replays-tz'), '--db', alt]);
    const t = JSON.parse((await stella(['ticket', tzId, '--db', alt, '--json'])).stdout) as { reproduce: string };
    // The blobs are in STELLA_HOME, not beside the index file.
    expect(t.reproduce).toBe(`STELLA_HOME=${home} ${process.execPath} ${path.join(REPO, 'dist/bin/stella.js')} repro ${tzId} --db ${alt}`);
    const r = clean(t.reproduce);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^REPRODUCED ${tzId} as rpl_[0-9a-f]{16}: `));
    expect(existsSync(path.join(work, 'h', 'repro'))).toBe(false);
    // Without STELLA_HOME the home is the index file's directory.
    const bare = await runStella(['ticket', tzId, '--db', alt, '--json'], { env: { STELLA_HOME: '' }, cwd: work });
    expect(bare.code, bare.stderr).toBe(0);
    expect((JSON.parse(bare.stdout) as { reproduce: string }).reproduce).toMatch(new RegExp(`^STELLA_HOME=${path.dirname(alt)} \\S+ \\S+ repro ${tzId} --db ${alt}$`));
  }, 300_000);

  it('a team store (PostgreSQL URL with a password): the ticket line has no password, takes STELLA_HOME, and pasted it reproduces', async () => {
    const url = (await pg.freshDatabase()).replace(/^(postgres(?:ql)?:\/\/[^:/@?]*)@/, '$1:s3cret@');
    expect(url).toContain(':s3cret@');
    await stella(['index', path.join(work, 'scans-a'), path.join(work, 'replays-tz'), '--db', url]);
    const t = JSON.parse((await stella(['ticket', tzId, '--db', url, '--json'])).stdout) as { reproduce: string; markdown: string };
    const bare = url.replace(':s3cret@', '@');
    expect(t.reproduce).toBe(`STELLA_HOME=${home} ${process.execPath} ${path.join(REPO, 'dist/bin/stella.js')} repro ${tzId} --db '${bare}'`);
    expect(t.markdown).not.toContain('s3cret');
    expect(t.markdown).not.toContain('***');
    expect(t.markdown).toContain("The command leaves out the team store's password: set PGPASSWORD or add the server to ~/.pgpass");
    // Pasted into a clean shell in an empty directory: the blobs come from STELLA_HOME, nothing lands in the directory.
    const r = clean(t.reproduce);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^REPRODUCED ${tzId} as rpl_[0-9a-f]{16}: `));
    expect(readdirSync(r.cwd)).toEqual([]);
    // STELLA_DB too, with the password: repro reads the blobs of STELLA_HOME and never prints the password.
    const viaEnv = await runStella(['repro', tzId], { env: { STELLA_HOME: home, STELLA_DB: url }, cwd: r.cwd, timeoutMs: 300_000 });
    expect(viaEnv.code, viaEnv.stderr + viaEnv.stdout).toBe(0);
    expect(viaEnv.stdout + viaEnv.stderr).not.toContain('s3cret');
    expect(readdirSync(r.cwd)).toEqual([]);
  }, 300_000);

  it('a blob gone from the home: repro says why in one line and exits 2 (not a NOT REPRODUCED verdict)', async () => {
    // A copy of the home (hard links) without the what-if feed bundle the replay ran with.
    const copy = path.join(work, 'home-no-feed');
    const cp = spawnSync('cp', ['-al', home, copy], { encoding: 'utf8' });
    expect(cp.status, cp.stderr).toBe(0);
    const hex = newDigest.slice('sha256:'.length);
    const blob = readdirSync(path.join(copy, 'blobs'), { recursive: true, encoding: 'utf8' }).find((f) => f.replace(/\//g, '').endsWith(hex));
    expect(blob, `blob ${newDigest} under ${copy}/blobs`).toBeDefined();
    rmSync(path.join(copy, 'blobs', blob!));
    // Its own index (not a hard link to the home's).
    for (const f of readdirSync(copy)) if (f.startsWith('index.db')) rmSync(path.join(copy, f));
    const copyEnv = { STELLA_HOME: copy };
    const idx = await runStella(['index', path.join(work, 'scans-a'), path.join(work, 'replays')], { env: copyEnv, cwd: work });
    expect(idx.code, idx.stderr).toBe(0);
    const r = await runStella(['repro', replayId], { env: copyEnv, cwd: work, timeoutMs: 300_000 });
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^stella repro: .*could not re-run ${replayId}: .*${hex.slice(0, 12)}.*is not in the blob store.*stella blob put`));
    expect(r.code).toBe(2);
  }, 300_000);

  it('tickets name the evidence: the what-if mode and override, the clock, tz and feed that differ; no empty base OS', async () => {
    const md = async (id: string) => (await stella(['ticket', id])).stdout;
    const clock = await md(clockId);
    expect(clock).toContain('- **Mode:** `what-if:clock=2026-03-01T00:00:00Z` — a what-if experiment');
    expect(clock).toMatch(/## Environment\n\n(- .+\n)*- \$\.environment\.clock_value changed from 2025-12-12T10:15:30Z to 2026-03-01T00:00:00Z\.\n/);
    expect(clock).not.toContain('no executor or manifest field differs');
    const tz = await md(tzId);
    expect(tz).toContain('- **Mode:** `what-if:tz=America/New_York`');
    expect(tz).toMatch(/## Environment\n\n(- .+\n)*- .*\btz\b.*America\/New_York.*\.\n/);
    expect(tz).not.toContain('no executor or manifest field differs');
    const feed = await md(replayId);
    const original = readJson(path.join(scanA, 'manifest.json')).feeds.vuln_feed_bundle_digest as string;
    expect(feed).toContain(`- Feed bundle: \`${original}\` (the original's); the replay ran with \`${newDigest}\` (what-if \`feed=\`)`);
    expect(feed).toContain(`- **Mode:** \`what-if:feed=${newDigest}\``);
    // The lockfile scan has no OS packages: its base OS label is empty, and the ticket does not print `(npm, )`.
    for (const text of [clock, tz, feed]) expect(text).toMatch(/^- \*\*Project:\*\* \S+ \(npm\) — /m);
  }, 120_000);

  it('--what-if refuses a malformed environment override in one line', async () => {
    const r = await runStella(['replay', '--from', path.join(scanA, 'manifest.json'), '--what-if', 'tz=../../etc', '--out-dir', path.join(work, 'x')], { env, cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('stella replay: --what-if tz=../../etc: expected tz= an IANA time zone such as America/New_York\n');
  });

  it('an unknown replay id: one line, exit 2', async () => {
    const r = await runStella(['repro', 'rpl_0000000000000000'], { env, cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`stella repro: no replay 'rpl_0000000000000000' in the index (run \`stella index DIR\` first)\n`);
  });
});
