// SPEC §5 gate rules at and around each threshold, on a real SQLite index (rollup included), plus the
// CLI's exit codes and JUnit report.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../../store/sqlite-store.js';
import { MIN_BUCKET_REPLAYS, type GateResult, ungatedText } from '../../src/core/gate/index.js';
import { gateFromStore } from '../../src/app/dashboard.js';
import { replayIn, type GenSpec } from '../../bench/gen-records.js';
import { tempDir, listFiles } from '../helpers/tmp.js';
import { runStella } from '../helpers/cli.js';

const NOW = new Date('2026-01-31T12:00:00Z');
const NOW_ARG = ['--now', '2026-01-31T12:00:00Z'];
// Outside both gate weeks (01-18 … 01-31) but inside the 30-day window (01-02 … 01-31).
const QUIET_DAY = '2026-01-08T10:00:00Z';

interface Group extends Partial<GenSpec> {
  n: number;
  fail: number;
  at?: string;
}

const dir = tempDir('stella-gate-');
let seq = 0;

async function build(groups: Group[]): Promise<string> {
  const db = path.join(dir, `g${seq++}.db`);
  const store = openStore(db);
  let i = 0;
  const rows = groups.flatMap((g) =>
    Array.from({ length: g.n }, (_, k) => {
      const { n: _n, fail: _f, at, ...labels } = g;
      return replayIn({
        scanner: '1.0.0',
        ecosystem: 'npm',
        policySet: 'prod-default',
        baseOs: 'debian-12',
        project: 'web-frontend',
        regulated: false,
        ...labels,
        i: i++,
        finishedAt: at ?? QUIET_DAY,
        outcome: k < g.fail ? 'failed' : 'passed',
      });
    }),
  );
  await store.ingest({ scans: [], replays: rows });
  store.close();
  return db;
}

async function gate(groups: Group[], min?: number): Promise<GateResult> {
  const store = openStore(await build(groups), { readonly: true });
  try {
    return await gateFromStore(store, NOW, min);
  } finally {
    await store.close();
  }
}

const broken = (r: GateResult) => r.rules.filter((x) => !x.ok).map((x) => x.id);

describe('green: BF ≥ 0.98 over 30 days', () => {
  it('0.98 exactly is green', async () => {
    const r = (await gate([{ n: 100, fail: 2 }]));
    expect(r.state).toBe('green');
    expect(r.fired).toEqual([]);
  });
  it('0.97 is not green (warn: bf_30d_min_0.98)', async () => {
    const r = (await gate([{ n: 100, fail: 3 }]));
    expect(r.state).toBe('warn');
    expect(r.fired).toEqual(['bf_30d_min_0.98']);
  });
  it('one failure more than 0.98 allows is not green (0.97959…)', async () => {
    // 2450 replays, 49 failed → 2401/2450 = 0.98 exactly; one more failure drops below.
    expect((await gate([{ n: 2450, fail: 49 }])).state).toBe('green');
    expect((await gate([{ n: 2450, fail: 50 }])).state).toBe('warn');
  });
  it('replays outside the 30-day window do not count; the first window day does', async () => {
    const base = { n: 100, fail: 0 };
    expect((await gate([base, { n: 50, fail: 50, at: '2026-01-01T23:59:59Z' }])).state).toBe('green');
    expect((await gate([base, { n: 50, fail: 50, at: '2026-01-02T00:00:00Z' }])).state).toBe('fail');
  });
  it('error replays are not counted as mismatches', async () => {
    const store = openStore((await build([{ n: 100, fail: 0 }])));
    await store.ingest({ scans: [], replays: Array.from({ length: 10 }, (_, k) => replayIn({ i: 10_000 + k, finishedAt: QUIET_DAY, outcome: 'error' })) });
    const r = await gateFromStore(store, NOW);
    store.close();
    expect(r.state).toBe('green');
    expect(r.n_30d).toBe(100);
  });
});

describe('buckets: none < 0.95', () => {
  const rest = { n: 1900, fail: 0, ecosystem: 'npm' };
  it('a bucket at 0.95 exactly keeps green', async () => {
    expect((await gate([rest, { n: 100, fail: 5, ecosystem: 'Maven' }])).state).toBe('green');
  });
  it('a bucket at 0.94 warns, naming the bucket', async () => {
    const r = (await gate([rest, { n: 100, fail: 6, ecosystem: 'Maven' }]));
    expect(r.state).toBe('warn');
    expect(r.fired).toEqual(['buckets_min_0.95']);
    expect(r.reasons.join('\n')).toContain('ecosystem Maven');
  });
  for (const [field, dim] of [
    ['scanner', 'scanner'],
    ['policySet', 'policy_set'],
    ['baseOs', 'base_os'],
  ] as const) {
    it(`applies to the ${dim} dimension`, async () => {
      const r = (await gate([rest, { n: 100, fail: 6, [field]: 'odd-one' }]));
      expect(r.fired).toEqual(['buckets_min_0.95']);
      expect(r.reasons.join('\n')).toContain(`${dim} odd-one`);
    });
  }
  it(`buckets with fewer than ${MIN_BUCKET_REPLAYS} replays are ignored; ${MIN_BUCKET_REPLAYS} count`, async () => {
    expect((await gate([rest, { n: MIN_BUCKET_REPLAYS - 1, fail: 5, ecosystem: 'Maven' }])).state).toBe('green');
    expect((await gate([rest, { n: MIN_BUCKET_REPLAYS, fail: 5, ecosystem: 'Maven' }])).state).toBe('warn');
  });
});

describe('warn: a bucket dropped ≥ 2 points week over week', () => {
  const PREV = '2026-01-20T09:00:00Z';
  const LAST = '2026-01-28T09:00:00Z';
  const bulk = { n: 2000, fail: 0, ecosystem: 'npm' };
  it('a 2-point drop exactly warns', async () => {
    const r = (await gate([bulk, { n: 50, fail: 0, ecosystem: 'PyPI', at: PREV }, { n: 50, fail: 1, ecosystem: 'PyPI', at: LAST }]));
    expect(r.state).toBe('warn');
    expect(r.fired).toEqual(['week_over_week_drop']);
    // The drop shows in every bucket those replays belong to, the ecosystem included.
    expect(r.reasons.join('\n')).toContain('ecosystem PyPI: BF 100.0% → 98.0%');
  });
  it('a 1-point drop does not', async () => {
    const r = (await gate([bulk, { n: 100, fail: 0, ecosystem: 'PyPI', at: PREV }, { n: 100, fail: 1, ecosystem: 'PyPI', at: LAST }]));
    expect(r.state).toBe('green');
  });
  it('just under 2 points does not; just over does', async () => {
    // 1.0 → 0.9803 (1.97 points) and 1.0 → 0.9796 (2.04 points)
    expect((await gate([bulk, { n: 100, fail: 0, ecosystem: 'PyPI', at: PREV }, { n: 152, fail: 3, ecosystem: 'PyPI', at: LAST }])).state).toBe('green');
    expect((await gate([bulk, { n: 100, fail: 0, ecosystem: 'PyPI', at: PREV }, { n: 147, fail: 3, ecosystem: 'PyPI', at: LAST }])).state).toBe('warn');
  });
  it('an improvement never warns', async () => {
    expect((await gate([bulk, { n: 50, fail: 1, ecosystem: 'PyPI', at: PREV }, { n: 50, fail: 0, ecosystem: 'PyPI', at: LAST }])).state).toBe('green');
  });
  it(`either week under ${MIN_BUCKET_REPLAYS} replays is ignored`, async () => {
    const small = (await gate([bulk, { n: 50, fail: 0, ecosystem: 'PyPI', at: PREV }, { n: MIN_BUCKET_REPLAYS - 1, fail: 1, ecosystem: 'PyPI', at: LAST }]));
    expect(small.state).toBe('green');
    const enough = (await gate([bulk, { n: 50, fail: 0, ecosystem: 'PyPI', at: PREV }, { n: MIN_BUCKET_REPLAYS, fail: 1, ecosystem: 'PyPI', at: LAST }]));
    expect(enough.fired).toEqual(['week_over_week_drop']);
  });
});

describe('fail: BF < 0.90 or a regulated project < 0.95', () => {
  it('BF 0.90 exactly is not a fail (warn); 0.89 fails', async () => {
    const at90 = (await gate([{ n: 100, fail: 10 }]));
    expect(at90.state).toBe('warn');
    expect(broken(at90)).not.toContain('bf_30d_min_0.90');
    const at89 = (await gate([{ n: 100, fail: 11 }]));
    expect(at89.state).toBe('fail');
    expect(at89.fired[0]).toBe('bf_30d_min_0.90');
  });
  it('a regulated project at 0.95 passes; at 0.94 fails', async () => {
    const rest = { n: 1900, fail: 0 };
    expect((await gate([rest, { n: 100, fail: 5, project: 'ledger', regulated: true }])).state).toBe('green');
    const r = (await gate([rest, { n: 100, fail: 6, project: 'ledger', regulated: true }]));
    expect(r.state).toBe('fail');
    expect(r.fired).toEqual(['regulated_min_0.95']);
    expect(r.reasons[0]).toContain('regulated project ledger');
  });
  it(`a regulated project under ${MIN_BUCKET_REPLAYS} replays is not gated, and the gate says so beside its [ok]`, async () => {
    const r = await gate([{ n: 1900, fail: 0 }, { n: 1, fail: 1, project: 'ledger', regulated: true }]);
    expect(r.state).toBe('green');
    expect(r.ungated).toContainEqual({ dimension: 'regulated project', bucket: 'ledger', n: 1 });
    expect(ungatedText(r.ungated.find((b) => b.dimension === 'regulated project')!, r.min_bucket_replays)).toBe(`regulated project ledger 1 replay (< ${MIN_BUCKET_REPLAYS}, not gated)`);
  });
  it('the same figures on a non-regulated project do not fail', async () => {
    expect((await gate([{ n: 1900, fail: 0 }, { n: 100, fail: 6, project: 'search', regulated: false }])).state).toBe('green');
  });
  it('no replays at all fails: nothing proves fidelity', async () => {
    const r = (await gate([]));
    expect(r.state).toBe('fail');
    expect(r.fired[0]).toBe('has_replays');
  });
  it('fail is decided before warn, and every fired rule is named (fail rules first)', async () => {
    const r = (await gate([
      { n: 100, fail: 25 },
      { n: 50, fail: 0, ecosystem: 'PyPI', at: '2026-01-20T09:00:00Z' },
      { n: 50, fail: 5, ecosystem: 'PyPI', at: '2026-01-28T09:00:00Z' },
    ]));
    expect(r.state).toBe('fail');
    expect(r.fired).toEqual(['bf_30d_min_0.90', 'week_over_week_drop', 'bf_30d_min_0.98', 'buckets_min_0.95']);
  });
});

describe('stella gate (CLI)', () => {
  const run = (db: string, extra: string[] = []) => runStella(['gate', '--db', db, ...NOW_ARG, ...extra]);
  it('exit 0 green, 3 warn, 1 fail, with the rule that fired', async () => {
    const green = await run((await build([{ n: 100, fail: 1 }])));
    expect(green.code).toBe(0);
    expect(green.stdout).toMatch(/^gate: GREEN/);
    const warn = await run((await build([{ n: 100, fail: 5 }])));
    expect(warn.code).toBe(3);
    expect(warn.stdout).toContain('bf_30d_min_0.98: BF 30d 95.0%');
    const fail = await run((await build([{ n: 100, fail: 20 }])), ['--json']);
    expect(fail.code).toBe(1);
    const j = JSON.parse(fail.stdout);
    expect(j.state).toBe('fail');
    expect(j.fired[0]).toBe('bf_30d_min_0.90');
  });
  it('--junit writes one testcase per rule, failures for the broken ones', async () => {
    const out = path.join(dir, 'junit', 'gate.xml');
    const r = await run((await build([{ n: 100, fail: 5 }])), ['--junit', out]);
    expect(r.code).toBe(3);
    const xml = readFileSync(out, 'utf8');
    expect(xml.match(/<testcase /g)).toHaveLength(6);
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(xml).toContain('<failure type="warn" message="BF 30d 95.0% over 100 replays">');
    expect(xml).toMatch(/^<\?xml version="1.0"/);
  });
  it('--junit naming a directory, or a path under a file: one line naming it, exit 2, no temp file left', async () => {
    const db = await build([{ n: 10, fail: 0 }]);
    const asDir = path.join(dir, 'junit-dir');
    mkdirSync(asDir);
    const underFile = path.join(dir, 'junit-file', 'gate.xml');
    writeFileSync(path.dirname(underFile), 'a file, not a directory\n');
    for (const [junit, why] of [
      [asDir, 'it is a directory'],
      [underFile, 'it or a parent of it is a file, not a directory'],
    ]) {
      const r = await run(db, ['--junit', junit]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`stella gate: ${junit}: cannot write the file: ${why}\n`);
    }
    expect(listFiles(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readdirSync(asDir)).toEqual([]);
  });
  it('usage errors exit 2 with one line', async () => {
    const db = (await build([{ n: 10, fail: 0 }]));
    for (const args of [['--now', 'yesterday'], ['--min-bucket', '0'], ['--bogus']]) {
      const r = await runStella(['gate', '--db', db, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^stella gate: /);
    }
  });
  it('a missing index exits 2 naming the file, and writes no JUnit', async () => {
    const db = path.join(dir, 'none', 'index.db');
    const junit = path.join(dir, 'none-junit.xml');
    const r = await runStella(['gate', '--db', db, '--junit', junit]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`stella gate: ${db}: no index here yet: run \`stella index DIR\` first\n`);
    expect(existsSync(junit)).toBe(false);
    expect(existsSync(path.dirname(db))).toBe(false);
    expect(listFiles(dir).some((f) => f.startsWith('none'))).toBe(false);
  });
});
