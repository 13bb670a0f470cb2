// A worker as shipped, on a real engine and a real PostgreSQL queue: (1) run the way the systemd unit
// runs it, with a /tmp the engine cannot see (PrivateTmp=yes: here a tmpfs mounted in a private mount
// namespace, `unshare -m`, as TMPDIR), a replay still runs: nothing the engine bind-mounts comes from
// TMPDIR; (2) after a worker is SIGKILLed mid-job, the next worker on that engine says how many of its
// orphan containers it removed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../../store/postgres/pg-store.js';
import { JobQueue } from '../../store/postgres/queue.js';
import { CANARIES, REPO, runStella, STELLA_BIN, THIRD_PARTY } from '../helpers/cli.js';
import { requireDocker, requireSecondEngine } from '../helpers/docker.js';
import { requirePostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

const server = requirePostgres();
const second = requireSecondEngine();
const DEFAULT_ENGINE = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';

const base = tempDir('stella-worker-paths-');
const home = path.join(base, 'home');
const env = { STELLA_HOME: home };
let url = '';
let store: PgStore;
let queue: JobQueue;
let scanDir = '';

interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function spawnCollect(cmd: string, args: string[], childEnv: NodeJS.ProcessEnv) {
  const child = spawn(cmd, args, { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...childEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
  const err: string[] = [];
  child.stderr!.on('data', (b: Buffer) => err.push(b.toString('utf8')));
  const exit = new Promise<Exited>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr: err.join('') })));
  return { child, exit, stderr: () => err.join('') };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);

/** ExecStart's argv after `/usr/bin/env stella`, with systemd's specifiers and variables filled in. */
function unitArgs(unit: string, vars: Record<string, string>): string[] {
  const line = /^ExecStart=(.+)$/m.exec(readFileSync(path.join(REPO, 'ops/systemd', unit), 'utf8'))![1];
  const argv = line.split(/\s+/).map((a) => a.replace(/\$\{(\w+)\}|%([A-Za-z])/g, (_, v: string | undefined, s: string | undefined) => vars[v ?? `%${s}`]));
  expect(argv.slice(0, 2)).toEqual(['/usr/bin/env', 'stella']);
  return argv.slice(2);
}

const jobOf = (batch: string) => ({ key: `${batch}/${path.basename(scanDir)}/pinned`, scan_id: path.basename(scanDir), mode: 'pinned', payload: { manifest: path.join(scanDir, 'manifest.json') } });

beforeAll(async () => {
  await requireDocker();
  url = await server.freshDatabase();
  mkdirSync(home);
  const feed = path.join(home, 'feed.tar.zst');
  const f = await runStella(['feed', 'snapshot', path.join(THIRD_PARTY, 'osv'), '--out', feed, '--generated-at', CANARIES.feed.generated_at], { env });
  expect(f.code, f.stderr).toBe(0);
  const img = await runStella(['image', 'build'], { env, timeoutMs: 300_000 });
  expect(img.code, img.stderr).toBe(0);
  const c = CANARIES.canaries[0];
  const r = await runStella(
    ['scan', path.join(THIRD_PARTY, c.input), '--feed', feed, '--policy', path.join(REPO, 'fixtures/policies/prod-default.yaml'), '--out-dir', path.join(home, 'scans'), '--clock', CANARIES.clock, '--json'],
    { env },
  );
  expect(r.code === 0 || r.code === 1, `${c.id}: ${r.stderr}`).toBe(true);
  scanDir = JSON.parse(r.stdout).dir;
  const ix = await runStella(['index', path.join(home, 'scans'), '--db', url], { env });
  expect(ix.code, ix.stderr).toBe(0);
  store = await openPgStore(url, { max: 2 });
  queue = new JobQueue(store.pool);
}, 600_000);

afterAll(async () => {
  await store?.close();
});

describe('a worker as shipped runs replays on a real engine', () => {
  it('stella-worker@.service with a private /tmp (unshare -m, tmpfs as TMPDIR): the replay runs and passes; nothing is left in STELLA_HOME/tmp', async () => {
    const job = jobOf('private-tmp');
    expect((await queue.enqueue([job])).added).toEqual([job.key]);
    const privateTmp = path.join(base, 'private-tmp');
    mkdirSync(privateTmp);
    // What is reproduced below is what the unit ships.
    expect(readFileSync(path.join(REPO, 'ops/systemd/stella-worker@.service'), 'utf8')).toMatch(/^PrivateTmp=yes$/m);
    const worker = unitArgs('stella-worker@.service', { DOCKER_HOST: DEFAULT_ENGINE, '%H': 'host1', '%i': 'engine1' });
    // The tmpfs exists in the worker's mount namespace only; the marker proves dockerd (outside) cannot see it.
    const script = 'mount -t tmpfs -o size=64m,mode=1777 stella-private-tmp "$TMPDIR" && : > "$TMPDIR/inside-only" && exec "$@"';
    const w = spawnCollect('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', process.execPath, STELLA_BIN, ...worker, '--once'], {
      STELLA_HOME: home,
      STELLA_DB: url,
      TMPDIR: privateTmp,
    });
    const done = await within(w.exit, 180_000, 'the worker to run its job');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toContain(`worker host1-engine1 on ${DEFAULT_ENGINE}`);
    expect(existsSync(path.join(privateTmp, 'inside-only')), 'TMPDIR was a tmpfs of the worker\'s own mount namespace').toBe(false);
    const j = await queue.job(job.key);
    expect(j, done.stderr).toMatchObject({ state: 'done', attempts: 1 });
    const result = j!.result as { dir: string; status: string };
    const rec = JSON.parse(readFileSync(path.join(result.dir, 'replay.json'), 'utf8')) as { status: string; error?: string; bf_match: boolean; executor: { kind: string } };
    expect(rec.error, 'the replay ran in the engine').toBeUndefined();
    expect({ status: rec.status, bf_match: rec.bf_match, kind: rec.executor.kind }).toEqual({ status: 'passed', bf_match: true, kind: 'docker' });
    expect(result.status).toBe('passed');
    // The run was staged in the store (the engine sees it) and removed when the worker exited.
    expect(readdirSync(path.join(home, 'tmp')).filter((n) => n.startsWith('stella-'))).toEqual([]);
  }, 240_000);

  it('a SIGKILLed worker\'s containers and volume: the next worker on that engine removes them and says how many', async () => {
    const docker: Docker = second.docker;
    const job = jobOf('killed');
    expect((await queue.enqueue([job])).added).toEqual([job.key]);
    const workerArgs = (id: string) => [STELLA_BIN, 'worker', '--engine', second.host, '--db', url, '--store', home, '--id', id, '--lease', '3s', '--poll', '200ms', '--until-empty'];
    const victim = spawnCollect(process.execPath, workerArgs('victim'), {});
    const mine = { label: ['stella.worker=victim'] };
    const deadline = Date.now() + 120_000;
    let caught = false;
    while (!caught && Date.now() < deadline) {
      const list = await docker.listContainers({ all: true, filters: mine });
      caught = list.some((c) => c.Labels['stella.role'] !== 'output-holder');
      if (caught) victim.child.kill('SIGKILL');
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(caught, `the victim was caught with its scanner container: ${victim.stderr()}`).toBe(true);
    expect((await victim.exit).signal).toBe('SIGKILL');
    const left = await docker.listContainers({ all: true, filters: mine });
    const leftVolumes = ((await docker.listVolumes({ filters: mine })) as { Volumes?: Array<{ Name: string }> }).Volumes ?? [];
    // The scanner container and its output holder, and the output volume.
    expect(left.length).toBeGreaterThanOrEqual(2);
    expect(leftVolumes.filter((v) => v.Name.startsWith('stella-out-'))).toHaveLength(1);

    const heir = spawnCollect(process.execPath, workerArgs('heir'), {});
    const out = await within(heir.exit, 150_000, 'the second worker to drain the queue');
    expect(out.code, out.stderr).toBe(0);
    expect(await docker.listContainers({ all: true, filters: mine })).toEqual([]);
    expect(((await docker.listVolumes({ filters: mine })) as { Volumes?: unknown[] }).Volumes ?? []).toEqual([]);
    expect(await queue.job(job.key)).toMatchObject({ state: 'done', attempts: 2, worker_id: 'heir' });
    expect(out.stderr).toContain(`reaped ${left.length} orphan container(s) on ${second.host}`);
    expect(out.stderr).toContain(`exiting: 1 done, 0 given back, 0 lost to another worker, ${left.length} orphan container(s) reaped`);
  }, 300_000);
});
