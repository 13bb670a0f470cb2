// What the worker and the nightly add to the job queue, against a real PostgreSQL 15: the job's start
// pinned once for all attempts (the deterministic replay id rests on it), live-lease checks (the orphan
// reaper rests on them), batch listing by key range, and ticket notes across batches.
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPool } from '../../store/postgres/connect.js';
import { migrate } from '../../store/postgres/migrate.js';
import { JobQueue, jobKey, leaseTag } from '../../store/postgres/queue.js';
import { requirePostgres } from '../helpers/postgres.js';

const server = requirePostgres();
const pools: pg.Pool[] = [];
async function freshQueue(): Promise<JobQueue> {
  const pool = openPool(await server.freshDatabase(), { max: 3 });
  pools.push(pool);
  await migrate(pool);
  return new JobQueue(pool);
}
const job = (batch: string, scan: string, payload: unknown = { manifest: `/store/scans/${scan}/manifest.json` }) => ({ key: jobKey(batch, scan, 'pinned'), scan_id: scan, mode: 'pinned', payload });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
});

describe('job queue: what workers and the nightly need', () => {
  it('pinStart fixes the start on the first attempt and hands the same instant to every retry; a lost lease gets null', async () => {
    const q = await freshQueue();
    await q.enqueue([job('2026-03-01', 'scan_a')]);
    const [l1] = await q.claim('w1', { leaseMs: 1000 });
    const t1 = await q.pinStart(l1);
    expect(t1).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(new Date(t1!).toISOString()).toBe(t1);
    expect(await q.pinStart(l1)).toBe(t1);
    await sleep(1100);
    // w1 is presumed dead; w2 takes the job over and gets w1's start, w1 is refused.
    const [l2] = await q.claim('w2', { leaseMs: 60_000 });
    expect(l2.attempt).toBe(2);
    expect(await q.pinStart(l1)).toBeNull();
    expect(await q.pinStart(l2)).toBe(t1);
    // The payload the nightly wrote is kept beside it.
    expect(l2.payload).toEqual({ manifest: '/store/scans/scan_a/manifest.json', started_at: t1 });
  }, 60_000);

  it('liveLeases names only current, unexpired leases', async () => {
    const q = await freshQueue();
    await q.enqueue([job('b', 's1'), job('b', 's2'), job('b', 's3')]);
    const [a] = await q.claim('w1', { leaseMs: 1000 });
    const [b] = await q.claim('w2', { leaseMs: 60_000 });
    const [c] = await q.claim('w3', { leaseMs: 60_000 });
    expect(await q.complete(c, { ok: true })).toBe(true);
    await sleep(1100);
    const live = await q.liveLeases([
      { key: a.key, attempt: 1 }, // expired
      { key: b.key, attempt: 1 }, // live
      { key: b.key, attempt: 7 }, // not the current attempt
      { key: c.key, attempt: 1 }, // done
      { key: 'b/nope/pinned', attempt: 1 },
    ]);
    expect([...live]).toEqual([leaseTag(b.key, 1)]);
    expect(await q.liveLeases([])).toEqual(new Set());
  }, 60_000);

  it('batch lists exactly one batch by key range; pending counts every batch', async () => {
    const q = await freshQueue();
    await q.enqueue([job('2026-03-01', 's2'), job('2026-03-01', 's1'), job('2026-03-01-b', 's1'), job('2026-03-010', 's1'), job('2026-03-0', 's1'), job('2026-03-02', 's1')]);
    expect((await q.batch('2026-03-01')).map((j) => j.key)).toEqual(['2026-03-01/s1/pinned', '2026-03-01/s2/pinned']);
    expect(await q.batchCounts('2026-03-01')).toEqual({ queued: 2, leased: 0, done: 0, failed: 0 });
    expect(await q.pending()).toBe(6);
    const [l] = await q.claim('w', { leaseMs: 60_000 });
    await q.complete(l, { replay_id: 'rpl_1' });
    expect(await q.pending()).toBe(5);
    await expect(q.batch('a/b')).rejects.toThrow(/no '\/'/);
  }, 60_000);

  it('identity: the same for every client of one database, different for another database', async () => {
    const url = await server.freshDatabase();
    const [p1, p2] = [openPool(url, { max: 1 }), openPool(url, { max: 1 })];
    pools.push(p1, p2);
    await migrate(p1);
    const id = await new JobQueue(p1).identity();
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(await new JobQueue(p2).identity()).toBe(id);
    expect(await (await freshQueue()).identity()).not.toBe(id);
  }, 60_000);

  it('a ticket noted on a job is seen from later batches, not from its own', async () => {
    const q = await freshQueue();
    await q.enqueue([job('d1', 's1'), job('d1', 's2'), job('d2', 's1')]);
    for (let i = 0; i < 3; i++) {
      const [l] = await q.claim('w', { leaseMs: 60_000 });
      await q.complete(l, { replay_id: `rpl_${l.key.replace(/\W/g, '')}`, status: 'failed' });
    }
    expect(await q.noteTickets([{ key: 'd1/s1/pinned', failure: 's1/pinned/feed_drift', file: '/t/rpl_x.md' }])).toBe(1);
    const [d1s1] = (await q.batch('d1')).filter((j) => j.scan_id === 's1');
    expect(d1s1.result).toEqual({ replay_id: 'rpl_d1s1pinned', status: 'failed', ticket: { failure: 's1/pinned/feed_drift', file: '/t/rpl_x.md' } });
    const asked = ['s1/pinned/feed_drift', 's1/pinned/policy_drift', 's2/pinned/feed_drift'];
    expect([...(await q.ticketedElsewhere('d2', asked))]).toEqual(['s1/pinned/feed_drift']);
    expect([...(await q.ticketedElsewhere('d1', asked))]).toEqual([]);
  }, 60_000);
});
