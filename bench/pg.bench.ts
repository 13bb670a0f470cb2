// The team store at 1,000,000 replays (issue 16): 30-day fidelity < 200 ms, gate < 500 ms, the sampler
// fed from the store over 1,000,000 scans < 2 s, `stella sync` of 100,000 new rows ≥ 20k rows/s. Each
// figure beside `psql \copy` of the same rows (the floor: what the server takes just to hand them over).
// Needs a PostgreSQL 15 server: STELLA_BENCH_PG (or STELLA_TEST_PG) as a URL, else a throwaway cluster
// started with Debian's initdb as the postgres user. STELLA_BENCH_PG_N scales the row count down.
// STELLA_BENCH_PG_KEEP=NAME loads into database NAME and keeps it; a later run with the same NAME (and N)
// skips the load and measures the loaded rows again (the sync's new rows and its watermark included).
// Bench rows carry no manifest/executor JSON (the figures read none of it), so the load stays small.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { median, report, shellMs, timeMs } from './lib.js';
import { realisticSpecs, replayIn } from './gen-records.js';
import { openPgStore } from '../store/postgres/pg-store.js';
import { bulkLoad } from '../store/postgres/bulk.js';
import { horizon } from '../store/postgres/changes.js';
import { gateFromStore } from '../src/app/dashboard.js';
import { sampleFromStore } from '../src/app/sample.js';
import { syncFrom, syncStatePath } from '../src/app/sync.js';
import { windowRange } from '../src/core/fidelity/index.js';
import { writeFileAtomic } from '../src/adapters/fs.js';
import type { ReplayIn, ScanIn } from '../src/core/ports.js';

const N = Number(process.env.STELLA_BENCH_PG_N ?? 1_000_000);
const NEW = Math.max(1000, Math.floor(N / 10));
const NOW = new Date('2026-01-31T12:00:00Z');
const BIN = '/usr/lib/postgresql/15/bin';
const RUNS = 5;

function server(): { url: string; stop: () => void } {
  const given = process.env.STELLA_BENCH_PG ?? process.env.STELLA_TEST_PG;
  if (given) return { url: given, stop: () => {} };
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-bench-pg-'));
  const root = process.getuid?.() === 0;
  const as = (cmd: string, args: string[]) => {
    const [f, a] = root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    const r = spawnSync(f, a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  };
  if (root) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  as(`${BIN}/initdb`, ['-D', `${dir}/data`, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  as(`${BIN}/pg_ctl`, ['-D', `${dir}/data`, '-l', `${dir}/log`, '-w', '-o', `-c listen_addresses='' -k ${dir} -c fsync=off -c shared_buffers=256MB`, 'start']);
  return { url: `postgres://postgres@/postgres?host=${dir}`, stop: () => (as(`${BIN}/pg_ctl`, ['-D', `${dir}/data`, '-m', 'immediate', 'stop']), rmSync(dir, { recursive: true, force: true })) };
}

function withDb(url: string, db: string): string {
  const m = /^(postgres(?:ql)?:\/\/[^/?]*)(\/[^?]*)?(\?.*)?$/.exec(url)!;
  return `${m[1]}/${db}${m[3] ?? ''}`;
}

/** psql's own connection arguments for a URL (psql takes the URL as its dbname). */
const psql = (url: string, sql: string) => `psql -X -q '${url}' -c "\\copy (${sql.replace(/"/g, '\\"')}) TO '/dev/null'"`;

function rowsOf(from: number, count: number, prefix: string): { scans: ScanIn[]; replays: ReplayIn[] } {
  const specs = realisticSpecs(count, NOW, 90 + from);
  const replays: ReplayIn[] = [];
  const scans: ScanIn[] = [];
  for (let k = 0; k < specs.length; k++) {
    const r = replayIn(specs[k], `_${prefix}${from + k}`);
    const scan_id = `scan_${prefix}${(from + k).toString(16).padStart(10, '0')}`;
    replays.push({ ...r, original_scan_id: scan_id, manifest: null, executor: null });
    scans.push({
      scan_id, created_at: r.started_at, manifest_sha256: r.record_sha256, scanner_version: r.scanner_version, ecosystem: r.ecosystem,
      base_os: r.base_os, project: r.project, regulated: r.regulated, policy_set: r.policy_set, feed_digest: r.feed_digest,
      policy_digest: r.feed_digest, record_dir: null, manifest: {}, artifacts: [],
    });
  }
  return { scans, replays };
}

export default async function (): Promise<void> {
  const srv = server();
  const work = mkdtempSync(path.join(tmpdir(), 'stella-bench-pgw-'));
  try {
    const keep = process.env.STELLA_BENCH_PG_KEEP;
    if (keep !== undefined && !/^[a-z_][a-z0-9_]*$/.test(keep)) throw new Error(`STELLA_BENCH_PG_KEEP must be a plain database name, got '${keep}'`);
    const name = keep ?? `stella_bench_${process.pid}`;
    const admin = new pg.Client({ connectionString: srv.url });
    await admin.connect();
    const exists = keep !== undefined && (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
    if (!exists) {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
    }
    await admin.end();
    const url = withDb(srv.url, name);
    const store = await openPgStore(url);
    // A kept database says what it holds: N, and the watermark before the sync's new rows.
    const meta = exists ? (await store.pool.query<{ n: number }>('SELECT n FROM stella_bench_meta').catch(() => ({ rows: [] }))).rows[0] : undefined;
    if (exists && meta?.n !== N) throw new Error(`database ${name} holds no complete bench load of ${N} rows: drop it, or set STELLA_BENCH_PG_N to ${meta?.n ?? 'what it holds'}`);
    if (!meta) {
      const loadMs = await timeMs(async () => {
        for (let i = 0; i < N; i += 50_000) await bulkLoad(store.pool, rowsOf(i, Math.min(50_000, N - i), 'a'));
        await store.pool.query('VACUUM ANALYZE');
      });
      process.stdout.write(`  loaded ${N} replays and ${N} scans into PostgreSQL in ${(loadMs / 1000).toFixed(1)} s\n`);
    } else {
      // The sync's new rows wait in side tables (copied there by the first run) while the other figures are taken.
      await store.pool.query(`DELETE FROM replay_runs WHERE replay_id IN (SELECT replay_id FROM stella_bench_new_replays);
        DELETE FROM scan_manifests WHERE scan_id IN (SELECT scan_id FROM stella_bench_new_scans)`);
      await store.pool.query('VACUUM ANALYZE replay_runs, scan_manifests');
      process.stdout.write(`  reusing ${N} replays and ${N} scans in database ${name} (rollups include the ${NEW} new replays)\n`);
    }

    // 30-day fidelity: what `stella fidelity --json` asks (the window's 'all' sums and its per-day trend).
    const range = windowRange(NOW, 30);
    const fid = median(await Promise.all([0]).then(async () => {
      const xs: number[] = [];
      for (let i = 0; i < RUNS; i++) xs.push(await timeMs(() => Promise.all([store.rollup(range, ['all']), store.rollupCells(range, 'all')])));
      return xs;
    }));
    const fidFloor = median(Array.from({ length: 3 }, () => shellMs(psql(url, `SELECT * FROM fidelity_daily WHERE dim = 'all' AND day BETWEEN '${range.from}' AND '${range.to}'`))));
    report({ bench: 'pg', what: `30-day fidelity over ${N} replays`, value: fid, unit: 'ms', better: 'lower', baseline: { tool: 'psql \\copy of the rollup rows', value: fidFloor }, target: '< 200 ms' });

    const gates: number[] = [];
    for (let i = 0; i < RUNS; i++) gates.push(await timeMs(() => gateFromStore(store, NOW)));
    const gateFloor = median(Array.from({ length: 3 }, () => shellMs(psql(url, `SELECT * FROM fidelity_daily WHERE day BETWEEN '${windowRange(NOW, 14).from}' AND '${range.to}'`))));
    report({ bench: 'pg', what: `gate over ${N} replays`, value: median(gates), unit: 'ms', better: 'lower', baseline: { tool: 'psql \\copy of the rollup rows', value: gateFloor }, target: '< 500 ms' });

    const samples: number[] = [];
    let population = 0;
    for (let i = 0; i < 3; i++) {
      samples.push(await timeMs(async () => {
        population = (await sampleFromStore(store, { n: 200, by: ['ecosystem', 'base_os', 'regulated', 'scanner'], windowDays: 30, seed: 7, now: NOW })).population;
      }));
    }
    const createdFrom = new Date(NOW.getTime() - 31 * 86_400_000).toISOString().slice(0, 10);
    const sampleFloor = median(Array.from({ length: 3 }, () =>
      shellMs(psql(url, `SELECT s.scan_id, s.created_at, s.ecosystem, s.base_os, s.regulated, s.scanner_version, (SELECT max(r.finished_at) FROM replay_runs r WHERE r.original_scan_id = s.scan_id) FROM scan_manifests s WHERE s.created_at >= '${createdFrom}'`)),
    ));
    report({ bench: 'pg', what: `sampler from the store (${population} of ${N} scans in window)`, value: median(samples), unit: 'ms', better: 'lower', baseline: { tool: 'psql \\copy of the candidates', value: sampleFloor }, target: '< 2000 ms' });

    // Sync: a local index that has pulled everything up to now (its state says so), then NEW new rows.
    const db = path.join(work, 'local.db');
    const h0 = await horizon(store.pool);
    if (!meta) {
      await bulkLoad(store.pool, rowsOf(N, NEW, 'b'));
      if (keep !== undefined) {
        await store.pool.query(`CREATE TABLE stella_bench_new_scans AS SELECT * FROM scan_manifests WHERE scan_id LIKE 'scan\\_b%';
          CREATE TABLE stella_bench_new_replays AS SELECT * FROM replay_runs WHERE replay_id ~ '_b[0-9]+$'`);
        await store.pool.query('CREATE TABLE stella_bench_meta AS SELECT $1::int AS n', [N]);
      }
    } else {
      await store.pool.query(`INSERT INTO scan_manifests SELECT * FROM stella_bench_new_scans; INSERT INTO replay_runs SELECT * FROM stella_bench_new_replays`);
    }
    writeFileAtomic(syncStatePath(db), JSON.stringify({ [store.dbPath]: { xid: h0, pending: null, remote_event: 0, local_event: 0 } }));
    const h1 = await horizon(store.pool);
    let pulled = 0;
    const syncMs = await timeMs(async () => {
      const s = await syncFrom(url, db);
      pulled = s.pulled.replays + s.pulled.scans;
    });
    const floorMs = shellMs(psql(url, `SELECT * FROM replay_runs WHERE replay_id ~ '_b[0-9]+$'`)) + shellMs(psql(url, `SELECT * FROM scan_manifests WHERE scan_id LIKE 'scan\\_b%'`));
    process.stdout.write(`  sync window ${h0}..${h1}: ${pulled} rows (scans + replays) into an empty local index\n`);
    report({ bench: 'pg', what: `stella sync of ${NEW} new replays (+ their scans)`, value: pulled / (syncMs / 1000), unit: 'rows/s', better: 'higher', baseline: { tool: 'psql \\copy of the same rows', value: pulled / (floorMs / 1000) }, target: '≥ 20000 rows/s' });
    await store.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
    srv.stop();
  }
}
