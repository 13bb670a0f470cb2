// The replay job queue against a real PostgreSQL 15 with several concurrent claimers (each on its own
// pool, i.e. its own connections, as separate worker processes would be).
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPool } from '../../store/postgres/connect.js';
import { migrate } from '../../store/postgres/migrate.js';
import { JobQueue, jobKey, type JobSpec, type Lease } from '../../store/postgres/queue.js';
import { requirePostgres } from '../helpers/postgres.js';

const server = requirePostgres();
const pools: pg.Pool[] = [];
async function freshQueue(): Promise<{ url: string; queue: JobQueue; pool: pg.Pool }> {
  const url = await server.freshDatabase();
  const pool = openPool(url, { max: 4 });
  pools.push(pool);
  await migrate(pool);
  return { url, queue: new JobQueue(pool), pool };
}
function worker(url: string): JobQueue {
  const pool = openPool(url, { max: 2 });
  pools.push(pool);
  return new JobQueue(pool);
}
const jobs = (n: number, batch = '2026-03-01'): JobSpec[] =>
  Array.from({ length: n }, (_, i) => {
    const scan = `scan_${String(i).padStart(4, '0')}`;
    return { key: jobKey(batch, scan, 'pinned'), scan_id: scan, mode: 'pinned', payload: { i } };
  });

async function until<T>(what: string, f: () => Promise<T | null>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
});

describe('replay job queue (FOR UPDATE SKIP LOCKED)', () => {
  it('enqueue is idempotent by job key', async () => {
    const { queue } = await freshQueue();
    const first = await queue.enqueue(jobs(40));
    expect(first.added).toHaveLength(40);
    const again = await queue.enqueue([...jobs(45)].reverse());
    expect(again.added).toEqual(jobs(45).slice(40).map((j) => j.key).reverse());
    expect(again.existing).toHaveLength(40);
    expect(await queue.counts()).toEqual({ queued: 45, leased: 0, done: 0, failed: 0 });
    // Another batch (night) of the same scans is new work.
    expect((await queue.enqueue(jobs(3, '2026-03-02'))).added).toHaveLength(3);
    expect(() => jobKey('2026-03-01', 'a/b', 'pinned')).toThrow(/scan_id must be non-empty and contain no '\/'/);
  }, 60_000);

  it('six concurrent claimers: no job is claimed twice while leased, and each job completes exactly once', async () => {
    const { url, queue } = await freshQueue();
    const N = 300;
    await queue.enqueue(jobs(N));
    const claimers = Array.from({ length: 6 }, (_, i) => ({ id: `w${i}`, q: worker(url), held: [] as Lease[] }));
    // Every claimer loops until the queue is empty, holding (not completing) what it claims, so a second
    // claim of a leased job would show up as a duplicate.
    await Promise.all(
      claimers.map(async (c) => {
        for (;;) {
          const got = await c.q.claim(c.id, { leaseMs: 120_000, limit: 1 + (c.id.charCodeAt(1) % 4) });
          if (got.length === 0) return;
          c.held.push(...got);
        }
      }),
    );
    const all = claimers.flatMap((c) => c.held.map((l) => l.key));
    expect(all).toHaveLength(N);
    expect(new Set(all).size).toBe(N);
    expect(claimers.filter((c) => c.held.length > 0).length).toBeGreaterThan(1);
    for (const c of claimers) for (const l of c.held) expect([l.worker_id, l.attempt]).toEqual([c.id, 1]);
    expect(await queue.counts()).toEqual({ queued: 0, leased: N, done: 0, failed: 0 });

    // Everyone races to complete every lease (its own and the others'): one success per job, and it is
    // the holder's.
    const everyLease = claimers.flatMap((c) => c.held);
    const attempts = await Promise.all(
      claimers.flatMap((c) =>
        everyLease.map(async (l) => ({ key: l.key, by: c.id, ok: await c.q.complete(l.worker_id === c.id ? l : { ...l, worker_id: c.id }, { by: c.id }) })),
      ),
    );
    const wins = attempts.filter((a) => a.ok);
    expect(wins).toHaveLength(N);
    expect(new Set(wins.map((w) => w.key)).size).toBe(N);
    const holder = new Map(everyLease.map((l) => [l.key, l.worker_id]));
    for (const w of wins) expect(w.by).toBe(holder.get(w.key));
    // A second completion by the holder is refused too.
    expect(await Promise.all(everyLease.slice(0, 20).map((l) => queue.complete(l, {})))).toEqual(Array(20).fill(false));
    expect(await queue.counts()).toEqual({ queued: 0, leased: 0, done: N, failed: 0 });
    const j = await queue.job(everyLease[0].key);
    expect(j?.result).toEqual({ by: everyLease[0].worker_id });
  }, 120_000);

  it('an expired lease is reclaimed by another worker; the lost lease can neither heartbeat nor complete', async () => {
    const { url, queue } = await freshQueue();
    await queue.enqueue(jobs(1));
    const [a, b] = [worker(url), worker(url)];
    const [lease] = await a.claim('worker-a', { leaseMs: 400 });
    expect(lease.attempt).toBe(1);
    expect(await a.heartbeat(lease, 400)).toBe(true);
    // While leased, nobody else gets it.
    expect(await b.claim('worker-b', { leaseMs: 60_000 })).toEqual([]);
    // worker-a stops heartbeating (as if SIGKILLed); after the lease runs out, worker-b takes the job.
    const retry = await until('the expired lease to be claimable', async () => (await b.claim('worker-b', { leaseMs: 60_000 }))[0] ?? null);
    expect([retry.key, retry.attempt, retry.worker_id]).toEqual([lease.key, 2, 'worker-b']);
    expect(await a.heartbeat(lease, 60_000)).toBe(false);
    expect(await a.complete(lease, { by: 'a' })).toBe(false);
    expect(await a.fail(lease, 'late')).toEqual({ accepted: false });
    // Concurrent completions of the live lease: exactly one wins.
    const results = await Promise.all(Array.from({ length: 8 }, () => b.complete(retry, { by: 'b' })));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await queue.job(lease.key)).toMatchObject({ state: 'done', attempts: 2, worker_id: 'worker-b', result: { by: 'b' } });
  }, 60_000);

  it('a failed attempt is retried after its delay, and fails for good when attempts run out', async () => {
    const { queue } = await freshQueue();
    await queue.enqueue([{ ...jobs(1)[0], maxAttempts: 2 }]);
    const [first] = await queue.claim('w', { leaseMs: 60_000 });
    expect(await queue.fail(first, 'engine gone', { retryAfterMs: 300 })).toEqual({ accepted: true, state: 'queued' });
    expect(await queue.claim('w', { leaseMs: 60_000 })).toEqual([]);
    const second = await until('the retry delay to pass', async () => (await queue.claim('w2', { leaseMs: 60_000 }))[0] ?? null);
    expect(second.attempt).toBe(2);
    expect(await queue.fail(second, 'engine gone again')).toEqual({ accepted: true, state: 'failed' });
    expect(await queue.claim('w', { leaseMs: 60_000 })).toEqual([]);
    expect(await queue.job(first.key)).toMatchObject({ state: 'failed', attempts: 2, last_error: 'engine gone again' });
  }, 60_000);

  it('sweep fails an expired lease that has no attempts left', async () => {
    const { queue } = await freshQueue();
    await queue.enqueue([{ ...jobs(1)[0], maxAttempts: 1 }]);
    const [lease] = await queue.claim('w', { leaseMs: 200 });
    expect(await queue.sweep()).toEqual([]);
    const swept = await until('the lease to expire', async () => {
      const s = await queue.sweep();
      return s.length ? s : null;
    });
    expect(swept).toEqual([lease.key]);
    expect(await queue.counts()).toEqual({ queued: 0, leased: 0, done: 0, failed: 1 });
  }, 60_000);
});
