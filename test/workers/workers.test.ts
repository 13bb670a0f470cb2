// Acceptance (issue 16): a real PostgreSQL team store, two real Docker engines, three `stella worker`
// processes (two on the default engine, one on the second), one nightly batch of real scans of real
// fixtures; one worker SIGKILLed while it holds a lease and its scanner container runs. Every job ends
// done, with exactly one replay record per job on disk and in the index, no labelled container or
// volume left on either engine, and the killed job retried (attempt > 1). Then the nightly re-run for
// the same date enqueues nothing, tickets the one failing scan, and a later batch does not ticket it again.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../../store/postgres/pg-store.js';
import { JobQueue } from '../../store/postgres/queue.js';
import { findRecords } from '../../src/app/indexer.js';
import { CANARIES, REPO, runStella, STELLA_BIN, THIRD_PARTY } from '../helpers/cli.js';
import { requireDocker, requireSecondEngine } from '../helpers/docker.js';
import { requirePostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

const server = requirePostgres();
const second = requireSecondEngine();

const N = 7;
const DATE = '2024-10-06';
const DATE2 = '2024-10-07';
const DEFAULT_ENGINE = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';

interface Worker {
  id: string;
  engine: string;
  child: ChildProcess;
  stderr: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const home = tempDir('stella-workers-');
const env = { STELLA_HOME: home };
const scansDir = path.join(home, 'scans');
const workers: Worker[] = [];
let url = '';
let docker1: Docker;
let store: PgStore;
let queue: JobQueue;
let failingScan = '';
let imageId = '';
let scanDirs: string[] = [];

function startWorker(id: string, engine: string): Worker {
  const child = spawn(process.execPath, [STELLA_BIN, 'worker', '--engine', engine, '--db', url, '--store', home, '--id', id, '--lease', '3s', '--poll', '200ms', '--until-empty'], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const w = { id, engine, child, stderr, exit };
  workers.push(w);
  return w;
}

async function labelled(docker: Docker, label: string): Promise<{ containers: Docker.ContainerInfo[]; volumes: number }> {
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  const vols = ((await docker.listVolumes({ filters: { label: [label] } })) as { Volumes?: unknown[] }).Volumes ?? [];
  return { containers, volumes: vols.length };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);

beforeAll(async () => {
  docker1 = await requireDocker();
  url = await server.freshDatabase();
  const feed = path.join(home, 'feed.tar.zst');
  const f = await runStella(['feed', 'snapshot', path.join(THIRD_PARTY, 'osv'), '--out', feed, '--generated-at', CANARIES.feed.generated_at], { env });
  expect(f.code, f.stderr).toBe(0);
  const img = await runStella(['image', 'build'], { env, timeoutMs: 300_000 });
  expect(img.code, img.stderr).toBe(0);
  imageId = img.stdout.trim();
  const dirs: string[] = [];
  for (const c of CANARIES.canaries.slice(0, N)) {
    const r = await runStella(
      ['scan', path.join(THIRD_PARTY, c.input), '--feed', feed, '--policy', path.join(REPO, 'fixtures/policies/prod-default.yaml'), '--out-dir', scansDir, '--clock', CANARIES.clock, '--json'],
      { env },
    );
    expect(r.code === 0 || r.code === 1, `${c.id}: ${r.stderr}`).toBe(true);
    dirs.push(JSON.parse(r.stdout).dir);
  }
  // One scan whose recorded original is another scan's outputs: its replay cannot match (a failure to ticket).
  failingScan = path.basename(dirs[0]);
  copyFileSync(path.join(dirs[1], 'outputs.json'), path.join(dirs[0], 'outputs.json'));
  rmSync(path.join(dirs[0], 'artifacts'), { recursive: true });
  cpSync(path.join(dirs[1], 'artifacts'), path.join(dirs[0], 'artifacts'), { recursive: true });
  const ix = await runStella(['index', scansDir, '--db', url], { env });
  expect(ix.code, ix.stderr).toBe(0);
  scanDirs = dirs;
  store = await openPgStore(url, { max: 2 });
  queue = new JobQueue(store.pool);
}, 600_000);

afterAll(async () => {
  if (process.env.STELLA_TEST_WORKER_LOG) for (const w of workers) console.log(`--- ${w.id} on ${w.engine}\n${w.stderr.join('')}`);
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await store?.close();
});

describe('nightly batch on three workers over two engines, one SIGKILLed mid-job', () => {
  it('every job done once: one record per job on disk and in the index, no orphan container, the killed job retried', async () => {
    const n1 = await runStella(['nightly', '--db', url, '--date', DATE, '--n', String(N), '--tickets', path.join(home, 'tickets'), '--json'], { env });
    expect([0, 1, 3], n1.stderr).toContain(n1.code);
    const first = JSON.parse(n1.stdout);
    expect(first.enqueued).toMatchObject({ added: N, existing: 0, skipped: [] });
    expect(first.jobs).toEqual({ queued: N, leased: 0, done: 0, failed: 0 });

    const w1 = startWorker('w1', DEFAULT_ENGINE);
    const w2 = startWorker('w2', DEFAULT_ENGINE);
    startWorker('w3', second.host);

    // SIGKILL w1 or w2 (whichever is first seen) while its scanner container runs on the default engine.
    let victim: Worker | null = null;
    let killed: { key: string; attempt: number } | null = null;
    let killedAt = 0;
    const deadline = Date.now() + 120_000;
    while (!victim && Date.now() < deadline) {
      const running = (await docker1.listContainers({ filters: { label: ['stella.job'], status: ['running'] } })).filter((c) => c.Labels['stella.role'] !== 'output-holder');
      const hit = running.find((c) => c.Labels['stella.worker'] === 'w1' || c.Labels['stella.worker'] === 'w2');
      if (hit) {
        victim = hit.Labels['stella.worker'] === 'w1' ? w1 : w2;
        killed = { key: hit.Labels['stella.job'], attempt: Number(hit.Labels['stella.attempt']) };
        victim.child.kill('SIGKILL');
        killedAt = Date.now();
      } else {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(victim, 'a worker on the default engine was caught with a running scanner container').not.toBeNull();
    expect(await victim!.exit).toEqual({ code: null, signal: 'SIGKILL' });
    // The killed worker left its job leased and its container behind.
    expect(await queue.job(killed!.key)).toMatchObject({ state: 'leased', worker_id: victim!.id, attempts: killed!.attempt });

    const survivors = workers.filter((w) => w !== victim);
    for (const w of survivors) expect(await within(w.exit, 150_000, `${w.id} to drain the queue`), w.stderr.join('')).toEqual({ code: 0, signal: null });

    // Every job done; the killed one on a later attempt, by another worker.
    const jobs = await queue.batch(DATE);
    expect(jobs).toHaveLength(N);
    expect(jobs.map((j) => j.state)).toEqual(Array(N).fill('done'));
    const retried = jobs.find((j) => j.key === killed!.key)!;
    expect(retried.attempts).toBeGreaterThan(1);
    expect((retried.result as { worker_id: string }).worker_id).not.toBe(victim!.id);
    // Its record carries the start the killed attempt pinned (so any attempt derives the same replay id).
    const pinned = (retried.payload as { started_at: string }).started_at;
    expect(Date.parse(pinned)).toBeLessThan(killedAt);
    const retriedRecord = JSON.parse(readFileSync(path.join((retried.result as { dir: string }).dir, 'replay.json'), 'utf8'));
    expect(retriedRecord.started_at).toBe(pinned);
    // Both engines did work.
    const byEngine = new Set(jobs.map((j) => (j.result as { engine: string }).engine));
    expect(byEngine).toEqual(new Set([DEFAULT_ENGINE, second.host]));

    // Exactly one replay record per job on disk: the batch directory and nothing anywhere else.
    const records = findRecords([path.join(home, 'replays')]);
    expect(records).toHaveLength(N);
    const onDisk = records.map((r) => JSON.parse(readFileSync(path.join(r.dir, 'replay.json'), 'utf8')) as { replay_id: string; original_scan_id: string });
    expect(onDisk.map((r) => r.original_scan_id).sort()).toEqual(jobs.map((j) => j.scan_id).sort());
    const resultIds = jobs.map((j) => (j.result as { replay_id: string }).replay_id).sort();
    expect(onDisk.map((r) => r.replay_id).sort()).toEqual(resultIds);
    expect(readdirSync(path.join(home, 'replays', DATE)).sort()).toEqual(resultIds);
    const staging = path.join(home, 'replays', '.staging');
    expect(existsSync(staging) ? readdirSync(staging) : []).toEqual([]);

    // ... and in the index: the counts equal the job count, every job's replay is there.
    expect(await store.countReplays({})).toMatchObject({ total: N });
    for (const id of resultIds) expect((await store.getReplay(id))?.replay_id).toBe(id);

    // No container or volume with the workers' labels on either engine.
    for (const d of [docker1, second.docker]) expect(await labelled(d, 'stella.job')).toEqual({ containers: [], volumes: 0 });
    // (Which process reaped the killed worker's container is not asserted here: on a shared engine any
    // stella starting on this host removes containers of dead local pids. The next test pins the lease
    // reaper down with containers no pid rule can touch.)
  }, 240_000);

  it('nightly re-run for the same date enqueues nothing, tickets the new failure once; a later batch does not ticket it again', async () => {
    const tickets = path.join(home, 'tickets');
    const again = await runStella(['nightly', '--db', url, '--date', DATE, '--n', String(N), '--wait', '--tickets', tickets, '--json'], { env });
    const r = JSON.parse(again.stdout);
    expect(again.code, again.stderr).toBe(r.gate.state === 'green' ? 0 : r.gate.state === 'warn' ? 3 : 1);
    expect(r.sampled.reused_batch).toBe(true);
    expect(r.enqueued).toMatchObject({ added: 0, existing: N });
    expect(r.jobs).toEqual({ queued: 0, leased: 0, done: N, failed: 0 });
    expect(r.indexed).toMatchObject({ records: N, inserted: 0, skipped: 0 });
    expect(r.gate.n_30d).toBe(N);
    expect(r.tickets.written).toHaveLength(1);
    const [t] = r.tickets.written;
    expect(t.failure.startsWith(`${failingScan}/pinned/`)).toBe(true);
    expect(readdirSync(tickets)).toEqual([`${t.replay_id}.md`]);
    const md = readFileSync(t.file, 'utf8');
    expect(md).toContain(t.replay_id);
    expect(md).toContain(failingScan);

    // Once more for the same date: already ticketed.
    const third = JSON.parse((await runStella(['nightly', '--db', url, '--date', DATE, '--tickets', tickets, '--json'], { env })).stdout);
    expect(third.tickets).toEqual({ written: [], known: [{ replay_id: t.replay_id, failure: t.failure }] });

    // The next night replays the failing scan again (a canary, always in): the same failure, not new.
    const n2 = await runStella(['nightly', '--db', url, '--date', DATE2, '--n', '0', '--canaries', failingScan, '--tickets', tickets, '--json'], { env });
    expect(JSON.parse(n2.stdout).enqueued).toMatchObject({ added: 1 });
    const w = startWorker('w4', second.host);
    expect(await within(w.exit, 120_000, 'w4 to drain the queue'), w.stderr.join('')).toEqual({ code: 0, signal: null });
    const next = JSON.parse((await runStella(['nightly', '--db', url, '--date', DATE2, '--wait', '--tickets', tickets, '--json'], { env })).stdout);
    expect(next.jobs).toMatchObject({ done: 1 });
    expect(next.tickets.written).toEqual([]);
    expect(next.tickets.known).toHaveLength(1);
    expect(next.tickets.known[0].failure).toBe(t.failure);
    expect(readdirSync(tickets)).toHaveLength(1);
  }, 240_000);

  it('a worker reaps its queue\'s containers of expired leases on its engine (whoever left them), not live ones nor another queue\'s; SIGTERM finishes the job and exits', async () => {
    const manifest = (i: number) => ({ manifest: path.join(scanDirs[i], 'manifest.json') });
    const spec = (batch: string, i: number) => ({ key: `${batch}/${path.basename(scanDirs[i])}/pinned`, scan_id: path.basename(scanDirs[i]), mode: 'pinned', payload: manifest(i) });
    await queue.enqueue([spec('reap', 2), spec('reap', 3)]);
    // A worker on another host held these leases and died: one lease has expired, one is still live.
    const [dead] = await queue.claim('ghost-dead', { leaseMs: 1000 });
    const [alive] = await queue.claim('ghost-alive', { leaseMs: 120_000 });
    const ourQueue = await queue.identity();
    const ghost = async (lease: { key: string; attempt: number; worker_id: string }, queueId = ourQueue) => {
      const c = await docker1.createContainer({
        Image: imageId,
        Cmd: ['-e', '0'],
        Labels: { 'stella.replay': '1', 'stella.host': 'another-host', 'stella.pid': '1', 'stella.queue': queueId, 'stella.job': lease.key, 'stella.attempt': String(lease.attempt), 'stella.worker': lease.worker_id },
        HostConfig: { NetworkMode: 'none' },
      });
      return c.id;
    };
    const deadId = await ghost(dead);
    const aliveId = await ghost(alive);
    // Another team store's worker shares this engine: its run is not ours to judge, even with our job key.
    const foreignId = await ghost(dead, 'another-team-store');
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const w = startWorker('w5', DEFAULT_ENGINE);
      // Wait for w5's own scanner container of the expired job (attempt 2), then SIGTERM it mid-job.
      const deadline = Date.now() + 60_000;
      let seen = false;
      while (!seen && Date.now() < deadline) {
        const mine = await docker1.listContainers({ all: true, filters: { label: ['stella.worker=w5'] } });
        seen = mine.some((c) => c.Labels['stella.job'] === dead.key && c.Labels['stella.attempt'] === String(dead.attempt + 1));
        if (!seen) await new Promise((r) => setTimeout(r, 50));
      }
      expect(seen, w.stderr.join('')).toBe(true);
      const ids = (await docker1.listContainers({ all: true, filters: { label: ['stella.job'] } })).map((c) => c.Id);
      expect(ids).not.toContain(deadId);
      expect(ids).toContain(aliveId);
      expect(ids).toContain(foreignId);
      w.child.kill('SIGTERM');
      expect(await within(w.exit, 60_000, 'w5 to finish its job after SIGTERM'), w.stderr.join('')).toEqual({ code: 0, signal: null });
      expect(await queue.job(dead.key)).toMatchObject({ state: 'done', attempts: dead.attempt + 1, worker_id: 'w5' });
      expect(await queue.job(alive.key)).toMatchObject({ state: 'leased', attempts: 1, worker_id: 'ghost-alive' });
      expect(w.stderr.join('')).toMatch(/SIGTERM: finishing the current job/);
      const left = (await docker1.listContainers({ all: true, filters: { label: ['stella.job'] } })).map((c) => c.Id);
      expect(left.sort()).toEqual([aliveId, foreignId].sort());
    } finally {
      for (const id of [deadId, aliveId, foreignId]) await docker1.getContainer(id).remove({ force: true }).catch(() => undefined);
      // The live ghost lease is finished here, so later workers draining the queue do not wait for it.
      await queue.complete(alive, { ghost: true });
    }
  }, 120_000);

  it('fencing: a worker stalled past its lease (SIGSTOP) loses the job to another and writes nothing; a second SIGTERM gives a job back', async () => {
    const scan = path.basename(scanDirs[4]);
    const key = `stall/${scan}/pinned`;
    await queue.enqueue([{ key, scan_id: scan, mode: 'pinned', payload: { manifest: path.join(scanDirs[4], 'manifest.json') } }]);
    const a = startWorker('w6', DEFAULT_ENGINE);
    const running = async (worker: string) => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const list = await docker1.listContainers({ filters: { label: [`stella.worker=${worker}`], status: ['running'] } });
        if (list.some((c) => c.Labels['stella.role'] !== 'output-holder')) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    };
    expect(await running('w6'), a.stderr.join('')).toBe(true);
    a.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 3500));
    const b = startWorker('w7', second.host);
    expect(await within(b.exit, 90_000, 'w7 to take the stalled job over'), b.stderr.join('')).toEqual({ code: 0, signal: null });
    a.child.kill('SIGCONT');
    expect(await within(a.exit, 60_000, 'w6 to give up and exit'), a.stderr.join('')).toEqual({ code: 0, signal: null });
    expect(a.stderr.join('')).toMatch(/gave up stall\/.* \(attempt 1\): its lease is no longer ours/);
    expect(await queue.job(key)).toMatchObject({ state: 'done', attempts: 2, worker_id: 'w7' });
    expect(readdirSync(path.join(home, 'replays', 'stall'))).toHaveLength(1);
    const staging = path.join(home, 'replays', '.staging');
    expect(existsSync(staging) ? readdirSync(staging) : []).toEqual([]);

    // Two SIGTERMs: the running replay is aborted and its job goes back to the queue.
    const key2 = `term/${scan}/pinned`;
    await queue.enqueue([{ key: key2, scan_id: scan, mode: 'pinned', payload: { manifest: path.join(scanDirs[4], 'manifest.json') } }]);
    const c = startWorker('w8', DEFAULT_ENGINE);
    expect(await running('w8'), c.stderr.join('')).toBe(true);
    c.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    c.child.kill('SIGTERM');
    expect(await within(c.exit, 60_000, 'w8 to exit'), c.stderr.join('')).toEqual({ code: 130, signal: null });
    expect(await queue.job(key2)).toMatchObject({ state: 'queued', attempts: 1 });
    expect(existsSync(path.join(home, 'replays', 'term'))).toBe(false);
    for (const d of [docker1, second.docker]) expect((await labelled(d, 'stella.job')).containers.map((x) => x.Labels['stella.worker'])).toEqual([]);
  }, 180_000);
});
