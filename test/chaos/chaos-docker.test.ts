// `stella chaos` through Docker: with each fault switch of the scanner on, the chaos run names the
// variation that exposes it; with none on, BF holds under every variation. Needs the engine (fails, never
// skips, without one).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '../helpers/docker.js';
import { REPO, runStella, STELLA_BIN, THIRD_PARTY } from '../helpers/cli.js';
import { tempDir, listFiles } from '../helpers/tmp.js';
import type { ChaosReport } from '../../src/core/chaos/index.js';

const home = tempDir('stella-chaos-');
const env = { STELLA_HOME: home };
const FEED = path.join(home, 'feed.tar.zst');
// node_exporter's go.mod: enough findings with fix dates, and worker partitions that differ by CPU count.
const INPUT = path.join(THIRD_PARTY, 'lockfiles/go/node_exporter-v1.0.0/go.mod');

async function scanWith(fault: string | null): Promise<string> {
  const r = await runStella(
    ['scan', INPUT, '--feed', FEED, '--policy', 'fixtures/policies/prod-default.yaml', '--out-dir', path.join(home, 'scans'), '--clock', '2024-10-05T06:00:00Z', '--json', ...(fault ? ['--fault', fault] : [])],
    { env },
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return path.join((JSON.parse(r.stdout) as { dir: string }).dir, 'manifest.json');
}

async function chaos(manifest: string, variations: string): Promise<{ code: number | null; report: ChaosReport }> {
  const r = await runStella(['chaos', '--from', manifest, '--variations', variations, '--json'], { env, timeoutMs: 300_000 });
  expect(r.stderr).toBe('');
  return { code: r.code, report: JSON.parse(r.stdout) as ChaosReport };
}

beforeAll(async () => {
  await requireDocker();
  const img = await runStella(['image', 'build'], { env, timeoutMs: 300_000 });
  expect(img.code, img.stderr).toBe(0);
  const feed = await runStella(['feed', 'snapshot', path.join(THIRD_PARTY, 'osv/go'), '--out', FEED, '--generated-at', '2024-10-05T00:00:00Z'], { env });
  expect(feed.code, feed.stderr).toBe(0);
}, 600_000);

describe('stella chaos (docker)', () => {
  it('without faults, BF holds under every variation, one at a time and combined', async () => {
    const { code, report } = await chaos(await scanWith(null), 'tz,locale,cpus,env,file-order,umask,clock,run-order');
    expect(report.baseline.bf_match_original).toBe(true);
    expect(report.runs.map((r) => [r.name, r.status])).toEqual(
      ['tz', 'locale', 'cpus', 'env', 'file-order', 'umask', 'clock', 'run-order', 'combined'].map((n) => [n, 'passed']),
    );
    expect(report.exposed_by).toEqual([]);
    expect(report.verdict).toBe('stable');
    expect(code).toBe(0);
  }, 600_000);

  it('tz-date-rule: only the tz variation (and the combined run) breaks BF, in the verdict', async () => {
    const { code, report } = await chaos(await scanWith('tz-date-rule'), 'tz,locale,cpus,env,file-order,umask,clock,run-order');
    expect(report.exposed_by).toEqual(['tz']);
    const tz = report.runs.find((r) => r.name === 'tz')!;
    expect(tz.differing_artifacts).toEqual(['verdict']);
    expect(tz.differences[0].path).toMatch(/^\$\.reasons\[\d+\]\.detail$/);
    expect(report.runs.filter((r) => r.bf_match === false).map((r) => r.name)).toEqual(['tz', 'combined']);
    expect(code).toBe(1);
  }, 600_000);

  it('unsorted-workers: the cpus variation changes the written order of findings (BF holds, unstable_raw_order)', async () => {
    const { code, report } = await chaos(await scanWith('unsorted-workers'), 'tz,cpus,clock,run-order');
    expect(report.exposed_by).toEqual([]);
    expect(report.raw_order_exposed_by).toEqual(['cpus']);
    expect(report.runs.find((r) => r.name === 'cpus')!.raw_only_artifacts).toEqual(['findings']);
    expect(code).toBe(0);
  }, 600_000);

  it('wallclock: the clock variation exposes a timestamp read from the process clock', async () => {
    const { code, report } = await chaos(await scanWith('wallclock'), 'tz,cpus,clock,run-order');
    expect(report.exposed_by).toEqual(['clock']);
    const clock = report.runs.find((r) => r.name === 'clock')!;
    expect(clock.differing_artifacts).toEqual(['sbom']);
    expect(clock.classification?.mismatch_reason).toBe('nondeterminism');
    expect(clock.classification?.subtags).toContain('time');
    expect(code).toBe(1);
  }, 600_000);

  it('random-ids: the repeated run alone is blamed (the scan changes with nothing changed)', async () => {
    const { code, report } = await chaos(await scanWith('random-ids'), 'tz,cpus,run-order');
    expect(report.exposed_by).toEqual(['run-order']);
    const rerun = report.runs.find((r) => r.name === 'run-order')!;
    expect(rerun.differing_artifacts).toEqual(['vex']);
    expect(rerun.classification?.subtags).toContain('rng');
    expect(code).toBe(1);
  }, 600_000);

  it('keeps every run and chaos.json with --out-dir; bad input is one line, exit 2, nothing written', async () => {
    const out = path.join(home, 'kept');
    const m = await scanWith(null);
    const r = await runStella(['chaos', '--from', m, '--variations', 'umask', '--out-dir', out], { env, timeoutMs: 300_000 });
    expect(r.code).toBe(0);
    expect(listFiles(out)).toContain('chaos.json');
    expect(listFiles(out)).toContain('runs/umask/artifacts/findings.json');

    const bad = await runStella(['chaos', '--from', m, '--variations', 'tz,moon', '--out-dir', path.join(home, 'nope')], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/unknown variation 'moon'/);
    const missing = await runStella(['chaos', '--from', path.join(home, 'absent.json'), '--out-dir', path.join(home, 'nope')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('absent.json');
    expect(listFiles(home).some((f) => f.startsWith('nope'))).toBe(false);
  }, 600_000);

  it('with a $TMPDIR the engine cannot see (a tmpfs of a private mount namespace, as PrivateTmp=yes): every run still runs', async () => {
    const m = await scanWith(null);
    const privateTmp = path.join(home, 'private-tmp');
    mkdirSync(privateTmp);
    const script = 'mount -t tmpfs -o size=64m,mode=1777 stella-private-tmp "$TMPDIR" && : > "$TMPDIR/inside-only" && exec "$@"';
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', process.execPath, STELLA_BIN, 'chaos', '--from', m, '--variations', 'tz,umask', '--json'], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', ...env, TMPDIR: privateTmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const stderr = Buffer.concat(err).toString('utf8');
    expect(stderr).toBe('');
    // The tmpfs lived in the chaos run's own mount namespace: the engine never saw it.
    expect(existsSync(path.join(privateTmp, 'inside-only'))).toBe(false);
    const report = JSON.parse(Buffer.concat(out).toString('utf8')) as ChaosReport;
    expect(report.baseline.bf_match_original).toBe(true);
    expect(report.runs.map((r) => [r.name, r.status])).toEqual(['tz', 'umask', 'combined'].map((n) => [n, 'passed']));
    expect(report.verdict).toBe('stable');
    expect(code).toBe(0);
  }, 600_000);
});
