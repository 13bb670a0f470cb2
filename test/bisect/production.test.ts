// Production fidelity counts production replays: a bisect (what-if replays, indexed like any record)
// leaves the gate, the dashboard, fidelity, metrics and the badge exactly as they were;
// --include-what-if counts every mode. Real scans, a real bisect (local executor), the real index.
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runStella, THIRD_PARTY, REPO } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { openStore } from '../../store/sqlite-store.js';
import { dashboardOf } from '../../src/app/dashboard.js';

const CLOCK = '2025-12-12T10:15:30Z';
const INPUT = path.join(THIRD_PARTY, 'lockfiles/npm/socket.io/package-lock.json');

describe('a bisect does not move production fidelity', () => {
  const work = tempDir();
  const home = path.join(work, 'home');
  const env = { STELLA_HOME: home };
  const db = path.join(home, 'index.db');
  let a = '';
  let b = '';
  const now = new Date();
  const NOW = ['--now', now.toISOString()];

  const stella = async (args: string[], code: number | null = 0) => {
    const r = await runStella(args, { env, cwd: work, timeoutMs: 240_000 });
    if (code === null) expect([0, 1, 3], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
    else expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
    return r;
  };
  const figures = async () => {
    const store = openStore(db, { readonly: true });
    try {
      return {
        dashboard: await dashboardOf(store, now),
        gate: JSON.parse((await stella(['gate', '--json', ...NOW])).stdout) as { n_30d: number; state: string },
        fidelity: JSON.parse((await stella(['fidelity', '--json', '--by', 'ecosystem', ...NOW])).stdout) as { n: number },
        metrics: (await stella(['metrics', ...NOW])).stdout,
        badge: (await stella(['badge', '--json', ...NOW])).stdout,
      };
    } finally {
      store.close();
    }
  };

  beforeAll(async () => {
    const oldFeed = path.join(work, 'osv-old');
    mkdirSync(oldFeed);
    cpSync(path.join(THIRD_PARTY, 'osv/go'), path.join(oldFeed, 'go'), { recursive: true });
    const newFeed = path.join(work, 'osv-new');
    mkdirSync(newFeed);
    cpSync(path.join(THIRD_PARTY, 'osv/go'), path.join(newFeed, 'go'), { recursive: true });
    cpSync(path.join(THIRD_PARTY, 'osv/ghsa'), path.join(newFeed, 'ghsa'), { recursive: true });
    for (const [src, out] of [[oldFeed, 'old.tar.zst'], [newFeed, 'new.tar.zst']]) {
      await stella(['feed', 'snapshot', src, '--out', path.join(work, out), '--generated-at', CLOCK]);
    }
    for (const p of ['prod-default', 'lenient']) await stella(['policy', 'bundle', path.join(REPO, `fixtures/policies/${p}.yaml`), '--out', path.join(work, `${p}.json`)]);
    const scan = async (feed: string, policy: string, out: string) =>
      (JSON.parse((await stella(['scan', INPUT, '--feed', path.join(work, feed), '--policy', path.join(work, policy), '--out-dir', path.join(work, out), '--clock', CLOCK, '--json'])).stdout) as { dir: string }).dir;
    a = await scan('old.tar.zst', 'prod-default.json', 'scans-a');
    b = await scan('new.tar.zst', 'lenient.json', 'scans-b');
    // Production: one pinned replay of A, indexed with both scans.
    await stella(['replay', '--from', path.join(a, 'manifest.json'), '--out-dir', path.join(work, 'replays'), '--executor', 'local', '--json']);
    await stella(['index', path.join(work, 'scans-a'), path.join(work, 'scans-b'), path.join(work, 'replays')]);
  }, 300_000);

  it('indexing the bisect trials changes no production figure; --include-what-if counts them', async () => {
    const before = await figures();
    expect(before.gate.n_30d).toBe(1);
    expect(before.fidelity.n).toBe(1);
    expect(before.gate.state).toBe('green');
    // Three trials (feed, policy, both), every one a what-if replay, all indexed.
    const bis = JSON.parse((await stella(['replay', '--from', path.join(a, 'manifest.json'), '--bisect', b, '--out-dir', path.join(work, 'bisect'), '--executor', 'local', '--json'])).stdout) as { trial_dirs: string[] };
    expect(bis.trial_dirs).toHaveLength(3);
    await stella(['index', path.join(work, 'bisect')]);
    const store = openStore(db, { readonly: true });
    try {
      expect((await store.pageReplays({ filter: {}, sort: 'newest', limit: 10 })).rows).toHaveLength(4);
    } finally {
      store.close();
    }
    const after = await figures();
    expect(after).toEqual(before);
    // Everything, on request.
    const all = JSON.parse((await stella(['gate', '--json', '--include-what-if', ...NOW], null)).stdout) as { n_30d: number };
    expect(all.n_30d).toBe(4);
    const fid = JSON.parse((await stella(['fidelity', '--json', '--include-what-if', ...NOW])).stdout) as { n: number; bf: number };
    expect(fid.n).toBe(4);
    expect(fid.bf).toBeLessThan(1);
    // And --help says what counts.
    for (const cmd of ['gate', 'fidelity', 'metrics', 'badge']) expect((await stella([cmd, '--help'])).stdout).toMatch(/--include-what-if +count what-if replays too \(bisect experiments, canary runs\); by default only pinned \(production\) replays count/);
  }, 300_000);

  it('buckets under the minimum are listed as not gated instead of vanishing', async () => {
    const gate = await stella(['gate', ...NOW]);
    expect(gate.stdout).toMatch(/^ {2}ecosystem npm 1 replay \(< 20, not gated\)$/m);
    expect(gate.stdout).toMatch(/^ {2}scanner \S+ 1 replay \(< 20, not gated\)$/m);
    const fid = await stella(['fidelity', '--by', 'ecosystem', ...NOW]);
    expect(fid.stdout).toMatch(/^ {2}npm +1 +100\.0% +100\.0% +100\.0% {2}1 replay \(< 20, not gated\)$/m);
    const json = JSON.parse((await stella(['gate', '--json', ...NOW])).stdout) as { ungated: Array<{ dimension: string; bucket: string; n: number }> };
    expect(json.ungated).toContainEqual({ dimension: 'ecosystem', bucket: 'npm', n: 1 });
  });
});
