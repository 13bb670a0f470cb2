// The replay sandbox, proved from inside: a probe runs under exactly the HostConfig a replay gets.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { DockerExecutor, hostConfig, LABEL_RUN } from '../../src/adapters/docker/executor.js';
import { IMAGE_PATHS } from '../../src/adapters/docker/image-archive.js';
import { LocalExecutor } from '../../src/adapters/local-executor.js';
import type { ExecJob } from '../../src/core/ports.js';
import { REPO } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { tempDir } from '../helpers/tmp.js';
import { buildScriptImage, containersWithLabel, engine, PROBE_DIR } from './support.js';

const CLOCK = '2025-12-12T10:15:30.123Z';

function probeJob(id: string, out: string, over: Partial<ExecJob> = {}): ExecJob {
  return {
    id,
    readOnlyMounts: [{ hostPath: PROBE_DIR, containerPath: '/probe' }],
    outputDir: out,
    args: ['/out'],
    env: { TZ: 'Europe/Berlin', LANG: 'C', LC_ALL: 'C' },
    frozenClock: CLOCK,
    cpus: 1,
    memoryBytes: 256 * 1024 * 1024,
    timeoutMs: 60_000,
    entrypoint: [IMAGE_PATHS.node, '/probe/probe.mjs'],
    ...over,
  };
}

describe('docker executor sandbox', () => {
  const home = tempDir('stella-sandbox-');
  let docker: Docker;
  let imageId: string;
  let executor: DockerExecutor;

  beforeAll(async () => {
    docker = await requireDocker();
    imageId = await buildScriptImage(home, 'process.stdout.write("fake scanner\\n");\n');
    executor = await DockerExecutor.create(engine());
  });

  it('probe: only lo, DNS and TCP fail, / read-only, uid 65534, CapEff 0, clock frozen at clock_value', async () => {
    const out = path.join(home, 'out-probe');
    mkdirSync(out);
    const res = await executor.run(probeJob('probe-1', out, { imageId }));
    expect(res.exitCode, res.stderr).toBe(0);
    const p = JSON.parse(res.stdout.trim());
    expect(p.interfaces).toEqual(['lo']);
    expect(p.netnsInterfaces).toEqual(['lo']);
    expect(p.dns).toMatch(/^fail:/);
    expect(p.tcp).toMatch(/^fail:/);
    expect(p.writeRoot).toBe('fail:EROFS');
    expect(p.writeProbeMount).toMatch(/^fail:(EROFS|EACCES)/);
    expect(p.writeTmp).toBe('ok');
    expect(p.writeOut).toBe('ok');
    expect(readFileSync(path.join(out, 'probe.txt'), 'utf8')).toBe('written');
    expect(p.uid).toBe(65534);
    expect(p.gid).toBe(65534);
    expect(p.capEff).toBe('0000000000000000');
    expect(p.noNewPrivs).toBe('1');
    // TZ=Europe/Berlin must not shift the instant: the clock is given to libfaketime as epoch seconds.
    expect(p.now).toBe(Date.parse(CLOCK));
    expect(p.timer).toBe('fired');
    expect(p.nowAfterTimer).toBe(Date.parse(CLOCK));
    expect(p.tz).toBe('Europe/Berlin');
    expect(p.lcAll).toBe('C');
    expect(res.environment).toMatchObject({
      kind: 'docker',
      image_digest: imageId,
      network: 'none',
      read_only: true,
      user: '65534:65534',
      assurance: 'high',
      clock_mode: 'frozen',
      clock_value: CLOCK,
      os: 'linux',
    });
    expect(res.environment.engine_version).toMatch(/^\d+\.\d+/);
    expect(res.environment.kernel).not.toBe('unknown');
    expect(await containersWithLabel(docker, `${LABEL_RUN}=probe-1`)).toEqual([]);
  });

  it('uses the locked-down HostConfig: no network, read-only root, no caps, limits, tmpfs /tmp', () => {
    const hc = hostConfig(probeJob('x', '/tmp/o', { cpus: 64 }), 2);
    expect(hc).toMatchObject({
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: 256,
      Memory: 256 * 1024 * 1024,
      AutoRemove: false,
      NanoCpus: 2e9,
    });
    expect(hc.Tmpfs).toHaveProperty('/tmp');
    expect(hc.Mounts).toEqual([
      { Type: 'bind', Source: PROBE_DIR, Target: '/probe', ReadOnly: true },
      { Type: 'bind', Source: '/tmp/o', Target: '/out', ReadOnly: false },
    ]);
    expect(hc.Binds).toBeUndefined();
  });

  it('kills a process that never exits at the timeout and removes its container', async () => {
    const out = path.join(home, 'out-hang');
    mkdirSync(out);
    const t0 = Date.now();
    const res = await executor.run(
      probeJob('hang-1', out, { imageId, timeoutMs: 1500, entrypoint: [IMAGE_PATHS.node, '-e', 'setInterval(() => {}, 1000)'], args: [] }),
    );
    expect(res.timedOut).toBe(true);
    expect(res.exitCode).toBeNull();
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await containersWithLabel(docker, `${LABEL_RUN}=hang-1`)).toEqual([]);
  });

  it('an abort (Ctrl-C) kills the run and removes the container', async () => {
    const out = path.join(home, 'out-abort');
    mkdirSync(out);
    const ac = new AbortController();
    const running = executor.run(
      probeJob('abort-1', out, { imageId, signal: ac.signal, entrypoint: [IMAGE_PATHS.node, '-e', 'setInterval(() => {}, 1000)'], args: [] }),
    );
    for (let i = 0; i < 100 && (await containersWithLabel(docker, `${LABEL_RUN}=abort-1`)).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    const res = await running;
    expect(res.aborted).toBe(true);
    expect(await containersWithLabel(docker, `${LABEL_RUN}=abort-1`)).toEqual([]);
  });

  it('a scanner that crashes still leaves no container, and reports its exit code and stderr', async () => {
    const out = path.join(home, 'out-crash');
    mkdirSync(out);
    const res = await executor.run(
      probeJob('crash-1', out, { imageId, entrypoint: [IMAGE_PATHS.node, '-e', 'console.error("boom"); process.exit(3)'], args: [] }),
    );
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain('boom');
    expect(await containersWithLabel(docker, `${LABEL_RUN}=crash-1`)).toEqual([]);
  });

  it('a run the engine refuses (missing mount source) rejects and leaves no container', async () => {
    const out = path.join(home, 'out-refused');
    mkdirSync(out);
    const job = probeJob('refused-1', out, { imageId, readOnlyMounts: [{ hostPath: path.join(home, 'does-not-exist'), containerPath: '/probe' }] });
    await expect(executor.run(job)).rejects.toThrow(/does-not-exist|bind source/);
    expect(await containersWithLabel(docker, `${LABEL_RUN}=refused-1`)).toEqual([]);
  });

  it('reaps orphans at start: a labelled container whose owner process is dead is removed', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('close', r));
    const c = await docker.createContainer({
      Image: imageId,
      Cmd: [],
      Labels: { 'stella.replay': '1', 'stella.run': 'orphan-1', 'stella.pid': String(dead.pid), 'stella.host': hostname() },
      HostConfig: { NetworkMode: 'none' },
    });
    // A live owner's container (this process) is not an orphan.
    const mine = await docker.createContainer({
      Image: imageId,
      Cmd: [],
      Labels: { 'stella.replay': '1', 'stella.run': 'live-1', 'stella.pid': String(process.pid), 'stella.host': hostname() },
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await DockerExecutor.create(engine());
      expect(await containersWithLabel(docker, 'stella.run=orphan-1')).toEqual([]);
      expect(await containersWithLabel(docker, 'stella.run=live-1')).toEqual([mine.id]);
    } finally {
      await c.remove({ force: true }).catch(() => undefined);
      await mine.remove({ force: true }).catch(() => undefined);
    }
  });
});

describe('local executor', () => {
  const home = tempDir('stella-local-');

  it('runs the probe as a child process with the same env and frozen clock, no network, lower assurance', async () => {
    const out = path.join(home, 'out');
    mkdirSync(out);
    // The entry only has to exist: the probe replaces it, as in the docker test.
    const local = new LocalExecutor({ entry: path.join(REPO, 'test/docker/probe/probe.mjs') });
    const res = await local.run(probeJob('local-1', out));
    expect(res.exitCode, res.stderr).toBe(0);
    const p = JSON.parse(res.stdout.trim());
    expect(p.now).toBe(Date.parse(CLOCK));
    expect(p.nowAfterTimer).toBe(Date.parse(CLOCK));
    expect(p.tz).toBe('Europe/Berlin');
    // A fresh network namespace: at most a loopback (down, so often not even listed).
    expect(p.netnsInterfaces.filter((n: string) => n !== 'lo')).toEqual([]);
    expect(p.dns).toMatch(/^fail:/);
    expect(p.tcp).toMatch(/^fail:/);
    expect(p.writeOut).toBe('ok');
    expect(res.environment).toMatchObject({ kind: 'local', assurance: 'low', network: 'none', read_only: false, image_digest: null });
  });

  it('kills the whole process group at the timeout', async () => {
    const out = path.join(home, 'out-hang');
    mkdirSync(out);
    const local = new LocalExecutor({ entry: path.join(REPO, 'test/docker/probe/probe.mjs') });
    const res = await local.run(probeJob('local-hang', out, { timeoutMs: 1000, entrypoint: [IMAGE_PATHS.node, '-e', 'setInterval(() => {}, 1000)'], args: [] }));
    expect(res.timedOut).toBe(true);
    expect(res.exitCode).toBeNull();
  });
});
