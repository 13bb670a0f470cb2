// `stella demo`: a seeded 90-day history built from real inputs, real scans and classified replays, then
// indexed; built once (cached), reproducible byte for byte, refused with one line on bad generator input.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { REPO, runStella } from '../helpers/cli.js';
import { listFiles, tempDir } from '../helpers/tmp.js';
import type { DemoResult } from '../../src/app/demo.js';

const home = tempDir('stella-demo-');
const env = { STELLA_HOME: home };
/** What `stella demo --json` prints: the demo's result (its home is the one this test chose). */
type Built = Omit<DemoResult, 'home'>;
let first: Built;

/** Digest of every record file of the history: names and bytes. */
function historyDigest(): string {
  const h = createHash('sha256');
  const root = path.join(home, 'demo');
  for (const f of listFiles(root)) h.update(f).update('\0').update(readFileSync(path.join(root, f))).update('\0');
  return h.digest('hex');
}

beforeAll(async () => {
  const r = await runStella(['demo', '--json'], { env, timeoutMs: 600_000 });
  expect(r.code, r.stderr).toBe(0);
  first = JSON.parse(r.stdout) as Built;
}, 600_000);

describe('stella demo', () => {
  it('builds 90 days of scans and replays with every cause, all indexed', () => {
    expect(first.built).toBe(true);
    expect(first.scans).toBeGreaterThan(200);
    expect(first.replays).toBeGreaterThan(first.scans);
    expect(Object.keys(first.causes).sort()).toEqual(['external_io', 'feed_drift', 'nondeterminism', 'policy_drift', 'runtime_drift', 'scanner_drift']);
    const db = new Database(path.join(home, 'index.db'), { readonly: true });
    try {
      const n = db.prepare('SELECT count(*) AS n FROM replay_runs').get() as { n: number };
      expect(n.n).toBe(first.replays);
      const s = db.prepare('SELECT count(*) AS n FROM scan_manifests').get() as { n: number };
      expect(s.n).toBe(first.scans);
    } finally {
      db.close();
    }
  });

  it('shows a believable trend: mostly passing, with dips on the days things changed', async () => {
    const r = await runStella(['fidelity', '--window', '90d', '--now', first.now, '--json'], { env });
    expect(r.code).toBe(0);
    const fid = JSON.parse(r.stdout) as { bf: number; trend: Array<{ day: string; n: number; bf: number | null }> };
    expect(fid.bf).toBeGreaterThan(0.85);
    expect(fid.bf).toBeLessThan(0.99);
    const days = fid.trend.filter((d) => d.n > 0);
    expect(days.length).toBeGreaterThanOrEqual(85);
    const clean = days.filter((d) => d.bf === 1).length;
    expect(clean / days.length).toBeGreaterThan(0.6);
    expect(days.length - clean).toBeGreaterThanOrEqual(10);
    const failingShare = first.failing / first.replays;
    expect(failingShare).toBeLessThan(0.15);
  });

  it('is cached: a second run builds nothing', async () => {
    const r = await runStella(['demo', '--json'], { env, timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ built: false, scans: first.scans, replays: first.replays });
    // A deleted index is rebuilt from the cached records, without rebuilding the history.
    rmSync(path.join(home, 'index.db'), { force: true });
    rmSync(path.join(home, 'index.db-wal'), { force: true });
    rmSync(path.join(home, 'index.db-shm'), { force: true });
    const again = await runStella(['demo', '--json'], { env, timeoutMs: 120_000 });
    expect(JSON.parse(again.stdout)).toMatchObject({ built: false });
    const db = new Database(path.join(home, 'index.db'), { readonly: true });
    try {
      expect((db.prepare('SELECT count(*) AS n FROM replay_runs').get() as { n: number }).n).toBe(first.replays);
    } finally {
      db.close();
    }
  }, 180_000);

  it('is reproducible: --force rebuilds the very same records', async () => {
    const before = historyDigest();
    const r = await runStella(['demo', '--force', '--json'], { env, timeoutMs: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ built: true, scans: first.scans, replays: first.replays, causes: first.causes });
    expect(historyDigest()).toBe(before);
  }, 600_000);

  it('refuses bad generator input with one line naming the file and JSON path; nothing written', async () => {
    const spec = JSON.parse(readFileSync(path.join(REPO, 'fixtures/demo/demo.json'), 'utf8'));
    const cases: Array<[(s: Record<string, any>) => void, string]> = [
      [(s) => (s.demo_version = '7'), '$.demo_version'],
      [(s) => (s.projects[1].cadence_days = 0), '$.projects[1].cadence_days'],
      [(s) => (s.tz_incident.projects = ['nope']), '$.tz_incident.projects[0]'],
      [(s) => (s.nondeterminism[0].fault = 'cosmic-rays'), '$.nondeterminism[0].fault'],
      [(s) => (s.scanner_release.sample = 2), '$.scanner_release.sample'],
    ];
    const dir = tempDir();
    for (const [mutate, at] of cases) {
      const s = JSON.parse(JSON.stringify(spec));
      mutate(s);
      const file = path.join(dir, 'demo.json');
      writeFileSync(file, JSON.stringify(s));
      const fresh = path.join(dir, 'home');
      const r = await runStella(['demo', '--home', fresh, '--spec', file], { env });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${file}: ${at}`);
      expect(existsSync(fresh)).toBe(false);
    }
    const truncated = path.join(dir, 'truncated.json');
    writeFileSync(truncated, readFileSync(path.join(REPO, 'fixtures/demo/demo.json')).subarray(0, 100));
    const r = await runStella(['demo', '--home', path.join(dir, 'home'), '--spec', truncated], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(truncated);
  });
});
