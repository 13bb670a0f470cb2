// The bulk load `stella index` uses (issue 17): into an empty index the secondary indexes are dropped
// in the first batch's transaction and built after the last one. It must leave exactly what batch-by-
// batch ingest leaves (rows, rollup, counts, search terms, outcomes, the same indexes), and a load
// stopped between batches must leave whole batches that read right and indexes the next load builds.
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type SqliteStore } from '../../store/sqlite-store.js';
import { bulkWriter, freshDeltas, prepareReplay } from '../../store/sqlite/ingest.js';
import type { ReplayIn, ScanIn } from '../../src/core/ports.js';
import { realisticSpecs, replayIn } from '../../bench/gen-records.js';
import { seed } from '../tui/seed.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('stella-bulk-');
const NOW = new Date('2026-01-31T12:00:00Z');

/** What seed() hands the store: replays whose summaries have search terms, and their scans. */
async function seeded(n: number): Promise<{ scans: ScanIn[]; replays: ReplayIn[] }> {
  let got: { scans: ScanIn[]; replays: ReplayIn[] } = { scans: [], replays: [] };
  const capture = { ingest: async (b: typeof got) => ((got = b), { scans: [], replays: [] }) };
  await seed(capture as unknown as SqliteStore, n);
  return got;
}

/** Batches of 400: seeded replays with scans, generated ones, and a re-written copy of one replay (an update). */
async function batches(): Promise<Array<{ scans: ScanIn[]; replays: ReplayIn[] }>> {
  const s = await seeded(300);
  const gen = realisticSpecs(1500, NOW, 17).map((x) => replayIn(x));
  const all = [...s.replays, ...gen, { ...gen[10], record_sha256: `sha256:${'e'.repeat(64)}` }];
  const out = [];
  for (let i = 0; i < all.length; i += 400) out.push({ scans: i === 0 ? s.scans : [], replays: all.slice(i, i + 400) });
  return out;
}

function dump(db: string) {
  const h = new Database(db, { readonly: true });
  const tables = ['scan_manifests', 'feed_snapshots', 'replay_runs', 'fidelity_daily', 'replay_counts', 'replay_terms'];
  const out = {
    rows: Object.fromEntries(tables.map((t) => [t, (h.prepare(`SELECT * FROM ${t}`).raw().all() as unknown[]).map((r) => JSON.stringify(r)).sort()])),
    indexes: h.prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").raw().all(),
    deferred: h.prepare('SELECT count(*) FROM deferred_indexes').pluck().get(),
    integrity: h.pragma('integrity_check', { simple: true }),
  };
  h.close();
  return out;
}

const secondary = (db: string): number => {
  const h = new Database(db, { readonly: true });
  const n = h.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'replay_runs' AND sql IS NOT NULL").pluck().get() as number;
  h.close();
  return n;
};

describe('bulk load', () => {
  test('into an empty index: the same rows, rollup, counts, terms, outcomes and indexes as batch-by-batch ingest', async () => {
    const data = await batches();
    const plainDb = path.join(dir, 'plain.db');
    const plain = openStore(plainDb);
    const want = [];
    for (const b of data) want.push(await plain.ingest(b));
    await plain.close();

    const bulkDb = path.join(dir, 'bulk.db');
    const store = openStore(bulkDb);
    const bulk = store.bulkLoad({ deferIndexes: true });
    const got = [];
    for (const [k, b] of data.entries()) {
      got.push(await bulk.ingest({ scans: b.scans, replays: b.replays.map(prepareReplay) }));
      // Between batches the load is committed without its secondary indexes, and reads still answer.
      if (k === 1) {
        expect(secondary(bulkDb)).toBe(0);
        expect((await store.countReplays({})).total).toBe(800);
      }
    }
    await bulk.finish();
    await store.close();
    expect(got).toEqual(want);
    expect(got.flatMap((o) => o.replays).filter((o) => o === 'updated')).toHaveLength(1);
    const a = dump(plainDb);
    const b = dump(bulkDb);
    expect(b.rows.replay_terms.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
    expect(b.deferred).toBe(0);
    expect(b.integrity).toBe('ok');
  });

  test('stopped between batches: whole batches that read right; the next load builds the deferred indexes', async () => {
    const data = await batches();
    const plainDb = path.join(dir, 'plain2.db');
    const plain = openStore(plainDb);
    for (const b of data) await plain.ingest(b);
    await plain.close();

    const db = path.join(dir, 'stopped.db');
    const first = openStore(db);
    const bulk = first.bulkLoad({ deferIndexes: true });
    for (const b of data.slice(0, 2)) await bulk.ingest({ scans: b.scans, replays: b.replays.map(prepareReplay) });
    // No finish(): what a killed indexer leaves once two batches have committed.
    await first.close();
    expect(secondary(db)).toBe(0);
    expect(dump(db).deferred).toBeGreaterThan(0);
    const reader = openStore(db, { readonly: true });
    expect((await reader.countReplays({})).total).toBe(800);
    const page = await reader.pageReplays({ filter: { failingOnly: true }, sort: 'failing_first', limit: 5 });
    expect(page.rows.length).toBe(5);
    await reader.close();

    const again = openStore(db);
    const next = again.bulkLoad({ deferIndexes: true });
    // Built before this load writes anything; an index that holds replays defers nothing again.
    expect(dump(db).deferred).toBe(0);
    for (const b of data.slice(2)) await next.ingest({ scans: b.scans, replays: b.replays.map(prepareReplay) });
    expect(secondary(db)).toBeGreaterThan(0);
    await next.finish();
    await again.close();
    expect(dump(db)).toEqual(dump(plainDb));
  });
  test('batches written through other connections in turn, deltas precomputed: the same as ingest, for new, unchanged, re-written and retagged replays', async () => {
    const data = await batches();
    // A failing replay: a cause tag is only taken by a replay that did not pass.
    const failing = data[1].replays.find((r) => r.status !== 'passed')!;
    const retagged = failing.replay_id;
    const again = [
      ...data[0].replays.slice(0, 50),
      { ...failing, record_sha256: `sha256:${'a'.repeat(64)}` },
      { ...data[2].replays[3], record_sha256: `sha256:${'b'.repeat(64)}`, status: 'error' as const, bf_match: null },
    ];
    const tag = { who: 'test', at: '2026-01-31T12:00:00Z' };

    const plainDb = path.join(dir, 'plain3.db');
    const plain = openStore(plainDb);
    const want = [];
    for (const b of data) want.push(await plain.ingest(b));
    await plain.retag([retagged], 'policy_drift', tag);
    want.push(await plain.ingest({ scans: [], replays: again }));
    await plain.close();

    const db = path.join(dir, 'writers.db');
    const store = openStore(db);
    // What a writing thread does: its own connection, the batch's deltas computed as if all were new rows.
    const batchOf = (scans: ScanIn[], replays: ReplayIn[]) => {
      const prepared = replays.map(prepareReplay);
      return { scans, replays: prepared, inserted: freshDeltas(prepared) };
    };
    const got = [];
    const bulk = store.bulkLoad({ deferIndexes: true });
    const target = bulk.target();
    expect(target.fresh).toBe(true);
    // Two writers taking turns, as two threads do (the last batch re-writes a replay of the first).
    const writers = [bulkWriter(target), bulkWriter(target)];
    for (const [k, b] of data.entries()) got.push(writers[k % 2].write(batchOf(b.scans, b.replays)));
    for (const w of writers) w.close();
    await bulk.finish();
    await store.retag([retagged], 'policy_drift', tag);
    const next = store.bulkLoad({ deferIndexes: false });
    const into = next.target();
    expect(into.fresh).toBe(false);
    const writer = bulkWriter(into);
    got.push(writer.write(batchOf([], again)));
    writer.close();
    await next.finish();
    await store.close();
    expect(got).toEqual(want);
    expect(got.flatMap((o) => o.replays).filter((o) => o === 'updated')).toHaveLength(3);
    expect(got[got.length - 1].replays.filter((o) => o === 'unchanged')).toHaveLength(50);
    expect(dump(db)).toEqual(dump(plainDb));
    const h = new Database(db, { readonly: true });
    expect(h.prepare('SELECT human_tag FROM replay_runs WHERE replay_id = ?').pluck().get(retagged)).toBe('policy_drift');
    h.close();
  });
});
