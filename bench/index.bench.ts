// Index and query cost of the SQLite store.
// 1. `stella index` of 100,000 generated replay records on disk (rows/s), beside `sqlite3 .import` of
//    the same rows from CSV into a bare table — the floor for getting rows into SQLite at all: every
//    column replay_runs stores, from the index just built, with no key, index, rollup or validation.
//    The machine's load average is printed beside it (the figures move with it on a shared box).
// 2. The 30-day fidelity aggregate over 1,000,000 replay rows from the daily rollup (ms), beside the
//    same aggregate computed by scanning replay_runs.
// 3. The first page of failing replays at 1,000,000 rows (keyset, indexed), beside the same query with
//    the index withheld (NOT INDEXED), and a deep page by keyset beside OFFSET at the same depth.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { hasTool, median, report, shellMs, timeMs } from './lib.js';
import Database from 'better-sqlite3';
import { openStore } from '../store/sqlite-store.js';
import { INDEX_BATCH, findRecords, indexRecords, readBatch, readRecords } from '../src/app/indexer.js';
import { type PreparedBatch, freshDeltas } from '../store/sqlite/ingest.js';
import { windowRange } from '../src/core/fidelity/index.js';
import { GATE_ROLLUP_DIMS } from '../src/core/gate/index.js';
import { makeRecord, realisticSpecs, replayIn, writeRecord } from './gen-records.js';

const NOW = new Date('2026-01-31T12:00:00Z');

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? '1' : '0') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The sqlite3 floor: the rows of the index at dbPath as CSV (every column it stores), imported into a
 * bare table. Its own function, so the 100k rows it holds are garbage before the next figure is timed.
 */
function importFloor(dbPath: string, work: string): number {
  // Raw SQL is the store's own business: the bench reads the file through its own connection.
  const db = new Database(dbPath, { readonly: true });
  const cols = (db.prepare('SELECT * FROM replay_runs LIMIT 0').columns() as Array<{ name: string }>).map((c) => c.name);
  const all = db.prepare('SELECT * FROM replay_runs').raw().all() as unknown[][];
  db.close();
  const csv = path.join(work, 'rows.csv');
  writeFileSync(csv, all.map((r) => r.map(csvCell).join(',')).join('\n') + '\n');
  const floorDb = path.join(work, 'floor.db');
  shellMs('sync');
  return shellMs(
    `sqlite3 ${floorDb} "CREATE TABLE replay_runs (${cols.map((c) => `${c} TEXT`).join(', ')});" && sqlite3 ${floorDb} ".mode csv" ".import ${csv} replay_runs"`,
  );
}

async function indexBench(work: string, count: number): Promise<void> {
  const root = path.join(work, 'records');
  for (const s of realisticSpecs(count, NOW)) writeRecord(root, makeRecord(s));
  // The records just written are still dirty pages: without this the kernel writes them back (1.2 GB
  // at 100k) while the index is timed. The floor's CSV is flushed the same way before it is imported.
  shellMs('sync');
  const store = openStore(path.join(work, 'index.db'));
  let rows = 0;
  const ms = await timeMs(async () => {
    rows = (await indexRecords(store, [root])).replays.inserted;
  });
  await store.close();
  const floorMs = importFloor(store.dbPath, work);
  report({
    bench: 'index',
    what: `stella index ${count} replay records (read+validate+insert)`,
    value: rows / (ms / 1000),
    unit: 'rows/s',
    better: 'higher',
    baseline: { tool: 'sqlite3 .import (CSV, no validation)', value: count / (floorMs / 1000) },
  });
  process.stdout.write(`${''.padEnd(10)}   load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${availableParallelism()} cores)\n`);
  // The SQLite share alone: the same rows already read, validated and prepared (with the rollup
  // deltas the writing threads compute before their turn), into a fresh index the way `stella index`
  // writes them (one transaction per batch, the indexes built after the load), on one thread.
  const found = findRecords([root]);
  // The reading share alone, on one thread: what each writing thread does before its batch's turn
  // (open, parse and validate both files, hash, prepare the row and its rollup deltas). The load
  // runs two of these beside the writes, so on two cores it cannot beat twice this figure.
  const readMs = await timeMs(() => {
    for (let i = 0; i < found.length; i += INDEX_BATCH) readBatch(found.slice(i, i + INDEX_BATCH), true);
  });
  report({
    bench: 'index',
    what: `  of which reading and validating only, one thread`,
    value: count / (readMs / 1000),
    unit: 'rows/s',
    better: 'higher',
    baseline: { tool: 'sqlite3 .import (CSV, no validation)', value: count / (floorMs / 1000) },
  });
  const prepared: PreparedBatch[] = [];
  for (let i = 0; i < found.length; i += INDEX_BATCH) {
    const replays = readRecords(found.slice(i, i + INDEX_BATCH), true).flatMap((r) => (r.kind === 'prepared' ? [r.replay] : []));
    prepared.push({ scans: [], replays, inserted: freshDeltas(replays) });
  }
  const fresh = openStore(path.join(work, 'ingest-only.db'));
  const ingestMs = await timeMs(async () => {
    const bulk = fresh.bulkLoad({ deferIndexes: true });
    for (const batch of prepared) await bulk.ingest(batch);
    await bulk.finish();
  });
  await fresh.close();
  report({
    bench: 'index',
    what: `  of which insert only (rows, rollup flush, counts, 9 indexes)`,
    value: count / (ingestMs / 1000),
    unit: 'rows/s',
    better: 'higher',
    baseline: { tool: 'sqlite3 .import (CSV, no validation)', value: count / (floorMs / 1000) },
  });
}

async function queryBench(work: string, count: number): Promise<void> {
  const store = openStore(path.join(work, 'big.db'));
  const specs = realisticSpecs(count, NOW, 11);
  for (let i = 0; i < count; i += 20_000) {
    await store.ingest({ scans: [], replays: specs.slice(i, i + 20_000).map((s, k) => replayIn(s, `_${i + k}`)) });
  }
  const db = new Database(store.dbPath, { readonly: true });
  const range = windowRange(NOW, 30);
  const dims = GATE_ROLLUP_DIMS;
  const rollupMs = median(await Promise.all(Array.from({ length: 21 }, () => timeMs(() => store.rollup(range, dims)))));
  const scanSql = `SELECT count(*), sum(bf_match), sum(sf_match), sum(pf_match) FROM replay_runs WHERE status != 'error' AND day BETWEEN ? AND ?`;
  const scan = db.prepare(scanSql);
  const scanMs = median(await Promise.all(Array.from({ length: 5 }, () => timeMs(() => scan.get(range.from, range.to)))));
  report({
    bench: 'index',
    what: `30-day fidelity (gate buckets) over ${count} rows`,
    value: rollupMs,
    unit: 'ms',
    better: 'lower',
    baseline: { tool: 'aggregate scanning replay_runs', value: scanMs },
  });

  const req = { filter: { failingOnly: true }, sort: 'failing_first' as const, limit: 50 };
  const firstMs = median(await Promise.all(Array.from({ length: 21 }, () => timeMs(() => store.pageReplays(req)))));
  const noIdx = db.prepare(
    'SELECT * FROM replay_runs NOT INDEXED WHERE failing = 1 ORDER BY failing DESC, finished_at DESC, replay_id DESC LIMIT 50',
  );
  const noIdxMs = median(await Promise.all(Array.from({ length: 5 }, () => timeMs(() => noIdx.all()))));
  report({
    bench: 'index',
    what: `first page of failing replays at ${count} rows`,
    value: firstMs,
    unit: 'ms',
    better: 'lower',
    baseline: { tool: 'same query without the keyset index', value: noIdxMs },
  });

  // A deep page: walk to ~half of the newest-first list by keyset, then compare with OFFSET.
  // Pasting one replay id into the filter: a substring match that only one row has.
  const oneId = (db.prepare('SELECT replay_id FROM replay_runs ORDER BY replay_id LIMIT 1 OFFSET ?').pluck().get(Math.floor(count / 3)) as string).slice(0, 14);
  const textReq = { filter: { text: oneId }, sort: 'failing_first' as const, limit: 50 };
  const textMs = median(await Promise.all(Array.from({ length: 5 }, () => timeMs(() => store.pageReplays(textReq)))));
  const like = `%${oneId}%`;
  const textScan = db.prepare(
    `SELECT * FROM replay_runs NOT INDEXED WHERE replay_id LIKE ? OR project LIKE ? OR scanner_version LIKE ? OR ecosystem LIKE ?
     ORDER BY failing DESC, finished_at DESC, replay_id DESC LIMIT 50`,
  );
  const textScanMs = median(await Promise.all(Array.from({ length: 3 }, () => timeMs(() => textScan.all(like, like, like, like)))));
  report({
    bench: 'index',
    what: `free-text filter matching one replay of ${count}`,
    value: textMs,
    unit: 'ms',
    better: 'lower',
    baseline: { tool: 'same query reading the rows', value: textScanMs },
  });

  const depth = Math.floor(count / 2);
  const at = db
    .prepare('SELECT finished_at, replay_id FROM replay_runs ORDER BY finished_at DESC, replay_id DESC LIMIT 1 OFFSET ?')
    .get(depth) as { finished_at: string; replay_id: string };
  const deepReq = { filter: {}, sort: 'newest' as const, limit: 50, after: { key: [at.finished_at], id: at.replay_id } };
  const deepMs = median(await Promise.all(Array.from({ length: 21 }, () => timeMs(() => store.pageReplays(deepReq)))));
  const offset = db.prepare('SELECT * FROM replay_runs ORDER BY finished_at DESC, replay_id DESC LIMIT 50 OFFSET ?');
  const offsetMs = median(await Promise.all(Array.from({ length: 5 }, () => timeMs(() => offset.all(depth + 1)))));
  report({
    bench: 'index',
    what: `page at depth ${depth} of ${count} (keyset)`,
    value: deepMs,
    unit: 'ms',
    better: 'lower',
    baseline: { tool: 'LIMIT/OFFSET at the same depth', value: offsetMs },
  });
  db.close();
  await store.close();
}

export default async function (): Promise<void> {
  if (!hasTool('sqlite3')) throw new Error('sqlite3 CLI missing: apt-get install -y sqlite3');
  const work = mkdtempSync(path.join(tmpdir(), 'stella-bench-index-'));
  try {
    await indexBench(work, Number(process.env.STELLA_BENCH_INDEX_N ?? 100_000));
    await queryBench(work, Number(process.env.STELLA_BENCH_QUERY_N ?? 1_000_000));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
