// The nightly sampler over 1,000,000 candidate scans (issue 16: < 2 s), stratified by all four
// dimensions, beside `shuf -n` over the same scans as TSV (an unstratified random pick: the floor a
// user would otherwise reach for) and sqlite3's per-stratum `ROW_NUMBER() OVER (PARTITION BY …
// ORDER BY random())` over the same rows already loaded.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hasTool, median, report, shellMs, timeMs } from './lib.js';
import { sampleScans, type SampleCandidate } from '../src/core/sample/index.js';
import { mulberry32 } from '../src/core/seeded-random.js';

const N = 1_000_000;
const NOW = '2026-03-31T00:00:00Z';
const RUNS = 3;

function candidates(): SampleCandidate[] {
  const rnd = mulberry32(16);
  const eco = ['npm', 'pypi', 'go', 'crates.io', 'maven', 'rubygems'];
  const os = ['debian-12', 'alpine-3.19', 'ubi-9', 'ubuntu-22.04'];
  const scanners = ['1.3.0', '1.4.0', '1.5.0-rc1'];
  const base = Date.parse(NOW);
  return Array.from({ length: N }, (_, i) => ({
    scan_id: `scan_${i.toString(16).padStart(16, '0')}`,
    created_at: new Date(base - Math.floor(rnd() * 60 * 86_400_000)).toISOString(),
    ecosystem: eco[Math.floor(rnd() ** 2 * eco.length)],
    base_os: os[Math.floor(rnd() ** 1.5 * os.length)],
    regulated: rnd() < 0.15,
    scanner: scanners[Math.floor(rnd() * scanners.length)],
    canary: i < 20,
    last_replayed_at: rnd() < 0.2 ? new Date(base - Math.floor(rnd() * 10 * 86_400_000)).toISOString() : null,
  }));
}

export default async function (): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-bench-sample-'));
  try {
    const scans = candidates();
    let strata = 0;
    // One run after another (timing them concurrently would add the others' time to each).
    const runs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(
        await timeMs(() => {
          strata = sampleScans(scans, { n: 200, by: ['ecosystem', 'base_os', 'regulated', 'scanner'], seed: 7, now: NOW, windowDays: 30 }).strata.length;
        }),
      );
    }
    const ms = median(runs);
    process.stdout.write(`  ${N} candidate scans, ${strata} strata, n=200, median of ${RUNS} runs\n`);
    const tsv = path.join(dir, 'scans.tsv');
    writeFileSync(tsv, scans.map((c) => `${c.scan_id}\t${c.created_at}\t${c.ecosystem}\t${c.base_os}\t${c.regulated ? 1 : 0}\t${c.scanner}`).join('\n') + '\n');
    if (!hasTool('shuf')) throw new Error('shuf is not installed: the baseline cannot be measured');
    const shuf = median(Array.from({ length: RUNS }, () => shellMs(`shuf -n 200 --random-source=<(yes) '${tsv}' >/dev/null`)));
    report({ bench: 'sample', what: 'stratified sample of 200 from 1M scans', value: ms, unit: 'ms', better: 'lower', baseline: { tool: 'shuf -n 200 (unstratified)', value: shuf }, target: '< 2000 ms' });
    if (!hasTool('sqlite3')) throw new Error('sqlite3 is not installed: the SQL baseline cannot be measured');
    const db = path.join(dir, 'scans.db');
    shellMs(`sqlite3 '${db}' "CREATE TABLE s (scan_id TEXT, created_at TEXT, ecosystem TEXT, base_os TEXT, regulated INT, scanner TEXT);" ".mode tabs" ".import '${tsv}' s"`);
    const sql =
      "SELECT count(*) FROM (SELECT scan_id, ROW_NUMBER() OVER (PARTITION BY ecosystem, base_os, regulated, scanner ORDER BY random()) AS r " +
      "FROM s WHERE created_at > '2026-03-01T00:00:00.000Z') WHERE r <= 3;";
    const lite = median(Array.from({ length: RUNS }, () => shellMs(`sqlite3 '${db}' "${sql}" >/dev/null`)));
    report({ bench: 'sample', what: 'stratified sample of 200 from 1M scans', value: ms, unit: 'ms', better: 'lower', baseline: { tool: 'sqlite3 ROW_NUMBER() OVER (PARTITION BY …)', value: lite } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
