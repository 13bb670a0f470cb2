// Issue 16, workers on ssh:// engines: DOCKER_HOST=ssh://ALIAS through the system ssh client, with the
// user's ~/.ssh/config (alias → 127.0.0.1:PORT, identity file, known_hosts in the temp dir, accept-new),
// against the loopback sshd (.ci/services.sh) whose far side runs `docker system dial-stdio` on this
// machine's engine. The replay record over ssh equals the replay over the local socket (same hashes,
// same environment); the scanner's inputs came from read-only volumes, not bind mounts; nothing stella
// labelled and no ssh child stays behind; a bad host, key or host key is one line naming DOCKER_HOST and
// ssh's own words. Then `stella worker --engine ssh://ALIAS` on a PostgreSQL queue, SIGKILLed while its
// input volumes exist: a second ssh worker reaps them and finishes the batch, one record per job.
//
// OpenSSH reads ~/.ssh/config from the passwd entry's home, not $HOME, so the `ssh` first on PATH here is
// a two-line wrapper that runs the system client with `-F $HOME/.ssh/config`: everything else (which
// file, which key, which known_hosts) is ssh's own doing.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../../store/postgres/pg-store.js';
import { JobQueue } from '../../store/postgres/queue.js';
import { readCanarySet } from '../../src/app/canary.js';
import { findRecords } from '../../src/app/indexer.js';
import { REPO, runStella, STELLA_BIN, THIRD_PARTY } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { requirePostgres } from '../helpers/postgres.js';
import { requireSsh } from '../helpers/ssh.js';
import { tempDir } from '../helpers/tmp.js';

const sshd = requireSsh();
const pgServer = requirePostgres();

const CANARIES = readCanarySet(path.join(REPO, 'fixtures/canaries'));
const ALIAS = 'stella-far';
const DATE = '2024-10-06';

const home = tempDir('stella-ssh-engine-');
const userHome = path.join(home, 'home');
const sshDir = path.join(userHome, '.ssh');
const knownHosts = path.join(sshDir, 'known_hosts');
const binDir = path.join(home, 'bin');
const noDockerBin = path.join(home, 'bin-no-docker');
const scansDir = path.join(home, 'scans');
let docker: Docker;
const scanDirs: string[] = [];
let imageId = '';
let local: Record<string, unknown>;
let store: PgStore | undefined;
const children: ChildProcess[] = [];

/** The environment of a stella run that reaches its engine through ~/.ssh/config in the temp HOME. */
const sshEnv = (host = `ssh://${ALIAS}`, bin = binDir) => ({ STELLA_HOME: home, HOME: userHome, PATH: `${bin}:${process.env.PATH ?? ''}`, DOCKER_HOST: host });

/** Processes on this machine running `docker system dial-stdio` (our ssh clients, and sshd's side). */
function dialStdio(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (argv.includes('system dial-stdio')) out.push(`${pid} ${argv}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function noDialStdioWithin(ms: number): Promise<string[]> {
  const end = Date.now() + ms;
  let left = dialStdio();
  while (left.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    left = dialStdio();
  }
  return left;
}

async function labelled(label: string): Promise<{ containers: string[]; volumes: string[] }> {
  const containers = (await docker.listContainers({ all: true, filters: { label: [label] } })).map((c) => c.Id);
  const vols = ((await docker.listVolumes({ filters: { label: [label] } })) as { Volumes?: Array<{ Name: string }> }).Volumes ?? [];
  return { containers, volumes: vols.map((v) => v.Name) };
}

/** What a replay record says apart from its own identity and wall-clock times. */
function comparable(r: Record<string, unknown>): Record<string, unknown> {
  const { replay_id: _id, started_at: _s, finished_at: _f, ...rest } = r;
  return rest;
}

interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

async function eventsBetween(since: number, until: number): Promise<EngineEvent[]> {
  const raw = (await docker.getEvents({ since: Math.floor(since / 1000), until: Math.ceil(until / 1000) + 1, filters: { type: ['container', 'volume'] } })) as unknown;
  const text = Buffer.isBuffer(raw)
    ? raw.toString('utf8')
    : await new Promise<string>((resolve, reject) => {
        const parts: Buffer[] = [];
        (raw as NodeJS.ReadableStream).on('data', (b: Buffer) => parts.push(b));
        (raw as NodeJS.ReadableStream).on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
        (raw as NodeJS.ReadableStream).on('error', reject);
      });
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EngineEvent);
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);

beforeAll(async () => {
  docker = await requireDocker();
  const s = sshd();
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  mkdirSync(binDir);
  const realSsh = execFileSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).trim();
  writeFileSync(path.join(binDir, 'ssh'), `#!/bin/sh\nexec ${realSsh} -F "$HOME/.ssh/config" "$@"\n`);
  chmodSync(path.join(binDir, 'ssh'), 0o755);
  // A far side without docker: the same client, the remote command renamed to one that is not there.
  mkdirSync(noDockerBin);
  writeFileSync(path.join(noDockerBin, 'ssh'), `#!/bin/sh\nfor a in "$@"; do [ "$a" = docker ] && a=no-such-docker; set -- "$@" "$a"; shift; done\nexec ${realSsh} -F "$HOME/.ssh/config" "$@"\n`);
  chmodSync(path.join(noDockerBin, 'ssh'), 0o755);
  // A key the server does not know, and a known_hosts that holds the wrong host key for the server.
  const strangerKey = path.join(sshDir, 'stranger');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', strangerKey]);
  const wrongHost = path.join(sshDir, 'wrong_host');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongHost]);
  writeFileSync(path.join(sshDir, 'spoofed_known_hosts'), `[127.0.0.1]:${s.port} ${readFileSync(`${wrongHost}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  const block = (alias: string, lines: string[]) => [`Host ${alias}`, '  HostName 127.0.0.1', `  Port ${s.port}`, `  User ${s.user}`, '  IdentitiesOnly yes', ...lines.map((l) => `  ${l}`)].join('\n');
  writeFileSync(
    path.join(sshDir, 'config'),
    [
      block(ALIAS, [`IdentityFile ${s.key}`, `UserKnownHostsFile ${knownHosts}`, 'StrictHostKeyChecking accept-new']),
      block('stella-stranger', [`IdentityFile ${strangerKey}`, `UserKnownHostsFile ${knownHosts}`, 'StrictHostKeyChecking accept-new']),
      block('stella-spoofed', [`IdentityFile ${s.key}`, `UserKnownHostsFile ${path.join(sshDir, 'spoofed_known_hosts')}`, 'StrictHostKeyChecking yes']),
      '',
    ].join('\n\n'),
    { mode: 0o600 },
  );

  // The store: a feed bundle, the scanner image, two scans of real canary inputs.
  const env = { STELLA_HOME: home };
  const ok = async (args: string[], codes = [0]) => {
    const r = await runStella(args, { env, timeoutMs: 300_000 });
    expect(codes, `stella ${args[0]}: ${r.stderr}`).toContain(r.code);
    return r.stdout;
  };
  const feed = path.join(home, 'feed.tar.zst');
  await ok(['feed', 'snapshot', path.join(THIRD_PARTY, 'osv'), '--out', feed, '--generated-at', CANARIES.feed.generated_at]);
  imageId = (await ok(['image', 'build'])).trim();
  const policy = path.join(REPO, 'fixtures/policies/prod-default.yaml');
  for (const c of CANARIES.canaries.slice(0, 2)) {
    const scan = JSON.parse(await ok(['scan', path.join(THIRD_PARTY, c.input), '--feed', feed, '--policy', policy, '--out-dir', scansDir, '--clock', CANARIES.clock, '--json'], [0, 1]));
    scanDirs.push(scan.dir);
  }
  // The reference: the first scan replayed over the local socket (bind mounts).
  const l = await runStella(['replay', '--from', path.join(scanDirs[0], 'manifest.json'), '--out-dir', path.join(home, 'r-local'), '--json'], { env: { ...env, DOCKER_HOST: '' } });
  expect(l.code, l.stderr).toBe(0);
  local = JSON.parse(l.stdout);
}, 300_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await store?.close();
});

describe('DOCKER_HOST=ssh://ALIAS: the system ssh client and inputs copied into volumes', () => {
  it('a replay over ssh equals the replay over the local socket; inputs came from read-only volumes; nothing is left', async () => {
    expect(existsSync(knownHosts)).toBe(false);
    const since = Date.now();
    const r = await runStella(['replay', '--from', path.join(scanDirs[0], 'manifest.json'), '--out-dir', path.join(home, 'r-ssh'), '--json'], { env: sshEnv() });
    const until = Date.now();
    expect(r.code, r.stderr).toBe(0);
    const viaSsh = JSON.parse(r.stdout) as Record<string, unknown> & { artifacts: Record<string, { canonical_sha256: string }>; executor: Record<string, unknown> };
    expect(viaSsh.status).toBe('passed');
    // Same record apart from id and times: the four hashes, the environment, the verdict levels.
    expect(comparable(viaSsh)).toEqual(comparable(local));
    expect(Object.keys(viaSsh.artifacts).sort()).toEqual(['findings', 'sbom', 'verdict', 'vex']);
    expect(viaSsh.executor).toEqual(local.executor);

    // ssh verified and recorded the server's host key (accept-new) in the known_hosts the config names.
    const hostKey = readFileSync(path.join(path.dirname(sshd().key), 'host_ed25519.pub'), 'utf8').split(' ')[1];
    expect(readFileSync(knownHosts, 'utf8')).toContain(hostKey);

    // The engine's own account of the run: the scanner container mounted stella-in-* volumes read-only
    // at the four input directories, and no bind mount.
    const id = String(viaSsh.replay_id);
    const events = await eventsBetween(since, until);
    const scanner = events.find((e) => e.Type === 'container' && e.Action === 'create' && e.Actor.Attributes['stella.run'] === id);
    expect(scanner, JSON.stringify(events.map((e) => `${e.Type} ${e.Action}`))).toBeDefined();
    const mounts = events.filter((e) => e.Type === 'volume' && e.Action === 'mount' && e.Actor.Attributes.container === scanner!.Actor.ID);
    const inputs = mounts.filter((e) => e.Actor.ID.startsWith('stella-in-'));
    expect(inputs.map((e) => [e.Actor.Attributes.destination, e.Actor.Attributes['read/write']]).sort()).toEqual([
      ['/feed', 'false'],
      ['/in', 'false'],
      ['/job', 'false'],
      ['/policy', 'false'],
    ]);
    expect(mounts.map((e) => e.Actor.Attributes.destination).sort()).toEqual(['/feed', '/in', '/job', '/out', '/policy']);
    // Filled by one archive (extracted at /) into a holder container (not the scanner's) that had them mounted.
    const inputVolumes = new Set(inputs.map((e) => e.Actor.ID));
    const holders = new Set(events.filter((e) => e.Type === 'volume' && e.Action === 'mount' && inputVolumes.has(e.Actor.ID) && e.Actor.Attributes.container !== scanner!.Actor.ID).map((e) => e.Actor.Attributes.container));
    expect(holders.size).toBe(1);
    expect(events.filter((e) => e.Type === 'container' && e.Action === 'extract-to-dir' && holders.has(e.Actor.ID))).toHaveLength(1);
    // Every volume and container of the run was removed again.
    const destroyed = new Set(events.filter((e) => e.Action === 'destroy').map((e) => e.Actor.ID));
    for (const v of mounts.map((e) => e.Actor.ID)) expect(destroyed.has(v), v).toBe(true);
    for (const c of [scanner!.Actor.ID, ...holders]) expect(destroyed.has(c), c).toBe(true);
    expect(await labelled(`stella.run=${id}`)).toEqual({ containers: [], volumes: [] });
    expect(await labelled(`stella.run-holder=${id}`)).toEqual({ containers: [], volumes: [] });
    expect(await noDialStdioWithin(5000)).toEqual([]);
  }, 60_000);

  it('an unknown host, a refused key, a wrong host key, no docker there: one line naming DOCKER_HOST and the far side\'s own reason, nothing left', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['ssh://stella-nowhere.invalid', binDir, /Could not resolve hostname stella-nowhere\.invalid/],
      ['ssh://stella-stranger', binDir, /Permission denied \(publickey\)/],
      ['ssh://stella-spoofed', binDir, /Host key verification failed/],
      [`ssh://${ALIAS}`, noDockerBin, /no-such-docker: (command )?not found/],
    ];
    for (const [host, bin, why] of cases) {
      const out = path.join(home, `r-bad-${host.slice(6)}`);
      const r = await runStella(['replay', '--from', path.join(scanDirs[0], 'manifest.json'), '--out-dir', out, '--json'], { env: sshEnv(host, bin) });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain(`Docker engine unreachable at DOCKER_HOST=${host}: `);
      expect(lines[0]).toMatch(why);
      expect(r.stdout).toBe('');
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    }
    // The spoofed known_hosts was not "fixed" by accepting the real key.
    expect(readFileSync(path.join(sshDir, 'spoofed_known_hosts'), 'utf8')).not.toContain(readFileSync(path.join(path.dirname(sshd().key), 'host_ed25519.pub'), 'utf8').split(' ')[1]);
    expect(await noDialStdioWithin(5000)).toEqual([]);
  }, 60_000);

  it('stella worker --engine ssh://ALIAS: SIGKILLed while its input volumes exist, another ssh worker reaps them and does every job once', async () => {
    const url = await pgServer.freshDatabase();
    const env = { STELLA_HOME: home };
    const ix = await runStella(['index', scansDir, '--db', url], { env });
    expect(ix.code, ix.stderr).toBe(0);
    const n = await runStella(['nightly', '--db', url, '--date', DATE, '--n', String(scanDirs.length), '--json'], { env });
    expect(JSON.parse(n.stdout).enqueued, n.stderr).toMatchObject({ added: scanDirs.length });
    store = await openPgStore(url, { max: 2 });
    const queue = new JobQueue(store.pool);

    const worker = (id: string) => {
      const child = spawn(process.execPath, [STELLA_BIN, 'worker', '--engine', `ssh://${ALIAS}`, '--db', url, '--store', home, '--id', id, '--lease', '3s', '--poll', '200ms', '--until-empty'], {
        cwd: REPO,
        env: { ...process.env, NO_COLOR: '1', ...sshEnv() },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      const stderr: string[] = [];
      child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString('utf8')));
      const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      return { child, stderr, exit };
    };

    const a = worker('ssh-a');
    let caught: string[] = [];
    const deadline = Date.now() + 30_000;
    while (caught.length === 0 && Date.now() < deadline && a.child.exitCode === null) {
      caught = (await labelled('stella.worker=ssh-a')).volumes.filter((v) => v.startsWith('stella-in-'));
      if (caught.length === 0) await new Promise((r) => setTimeout(r, 25));
    }
    expect(caught.length, a.stderr.join('')).toBeGreaterThan(0);
    a.child.kill('SIGKILL');
    expect(await a.exit).toEqual({ code: null, signal: 'SIGKILL' });
    // Its ssh children end with it (their stdin closes), and so does the far side.
    expect(await noDialStdioWithin(10_000)).toEqual([]);

    const b = worker('ssh-b');
    expect(await within(b.exit, 60_000, 'ssh-b to drain the queue'), b.stderr.join('')).toEqual({ code: 0, signal: null });
    const jobs = await queue.batch(DATE);
    expect(jobs.map((j) => j.state)).toEqual(scanDirs.map(() => 'done'));
    expect(jobs.some((j) => j.attempts > 1)).toBe(true);
    const records = findRecords([path.join(home, 'replays')]);
    expect(records).toHaveLength(scanDirs.length);
    // The ssh worker's replay of the first scan has the local replay's hashes and environment.
    const first = records.map((r) => JSON.parse(readFileSync(path.join(r.dir, 'replay.json'), 'utf8')) as Record<string, unknown>).find((r) => r.original_scan_id === local.original_scan_id)!;
    expect(first.artifacts).toEqual(local.artifacts);
    expect(first.executor).toEqual(local.executor);
    for (const w of ['ssh-a', 'ssh-b']) expect(await labelled(`stella.worker=${w}`)).toEqual({ containers: [], volumes: [] });
    expect(await noDialStdioWithin(5000)).toEqual([]);
  }, 90_000);

  it('inputs on the far engine: root-owned 0444 files and 0555 dirs, read-only, a 256 MiB file intact and streamed (peak RSS far below its size)', () => {
    const MiB = 1024 * 1024;
    const big = path.join(home, 'big.bin');
    const chunk = randomBytes(MiB);
    const h = createHash('sha256');
    const fd = openSync(big, 'w');
    for (let i = 0; i < 256; i++) {
      chunk.writeUInt32BE(i, 0);
      writeSync(fd, chunk);
      h.update(chunk);
    }
    closeSync(fd);
    const tree = path.join(home, 'tree');
    mkdirSync(path.join(tree, 'sub'), { recursive: true });
    writeFileSync(path.join(tree, 'a.txt'), 'a\n');
    writeFileSync(path.join(tree, 'sub', 'b.txt'), 'bee\n');
    const run = (env: NodeJS.ProcessEnv, out: string) => {
      mkdirSync(out);
      const r = spawnSync(process.execPath, ['--import', path.join(REPO, 'test/hostile/maxrss-preload.mjs'), path.join(REPO, 'test/workers/ssh/run-inputs.mjs'), imageId, big, tree, out], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return { ...(JSON.parse(r.stdout) as { exitCode: number; stderr: string; seen: { stats: unknown[]; sha256: string; text: string; writes: string[] } }), rssKb: Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1]) };
    };
    const far = run(sshEnv(), path.join(home, 'out-far'));
    expect(far.exitCode, far.stderr).toBe(0);
    expect(far.seen.stats).toEqual([
      ['/big', '555', 0, 0],
      ['/big/blob.bin', '444', 0, 0],
      ['/tree', '555', 0, 0],
      ['/tree/a.txt', '444', 0, 0],
      ['/tree/sub', '555', 0, 0],
      ['/tree/sub/b.txt', '444', 0, 0],
    ]);
    expect(far.seen.sha256).toBe(h.digest('hex'));
    expect(far.seen.text).toBe('bee\n');
    expect(far.seen.writes).toEqual(['EROFS', 'EROFS', 'EROFS']);
    // The same run over the local socket (bind mounts) sees the same bytes.
    const near = run({ DOCKER_HOST: '' }, path.join(home, 'out-near'));
    expect(near.seen.sha256).toBe(far.seen.sha256);
    expect(near.seen.text).toBe(far.seen.text);
    // 256 MiB went through ssh without being held: the client's peak RSS stays under 160 MB.
    console.log(`256 MiB input over ssh: peak RSS ${Math.round(far.rssKb / 1024)} MB (same run over the local socket: ${Math.round(near.rssKb / 1024)} MB)`);
    expect(far.rssKb).toBeLessThan(160 * 1024);
  }, 60_000);
});
