// B1 of issue 14, through the real engine: a scanner image whose entry point leaves its artifacts in
// /out/artifacts as symlinks to host paths (or a FIFO, or a hard link) gets an `error` replay naming the
// entry, and no host byte is copied into the record; 1 GiB written to /out hits the tmpfs cap instead of
// the host's disk. SIGTERM and SIGINT end a running replay within 2 s with its containers removed.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { runStella, STELLA_BIN } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { tempDir } from '../helpers/tmp.js';
import { buildScriptImage, containersWithLabel, writeManifest } from '../docker/support.js';

const ARTS = ['sbom.cdx.json', 'findings.json', 'vex.openvex.json', 'verdict.json'];
const script = (body: string) =>
  'const fs = await import("node:fs");\n' +
  'const a = process.argv.slice(2);\n' +
  'const out = a[a.indexOf("--out") + 1];\n' +
  'fs.mkdirSync(out + "/artifacts", { recursive: true });\n' +
  `const ARTS = ${JSON.stringify(ARTS)};\n` +
  body;

describe('B1: the host takes back only regular files from a capped /out', () => {
  const home = tempDir('stella-confined-');
  const env = { STELLA_HOME: home };
  let docker: Docker;
  beforeAll(async () => {
    docker = await requireDocker();
  });

  async function replayWith(name: string, body: string, extra: string[] = []) {
    const image = await buildScriptImage(home, script(body));
    const { file } = writeManifest(home, path.join(home, 'scans', name), { imageId: image });
    const out = path.join(home, `out-${name}`);
    const r = await runStella(['replay', '--from', file, '--out-dir', out, '--json', ...extra], { env });
    return { r, out, image };
  }

  it('artifacts as symlinks to host files: replay error naming the entry; nothing of /etc/passwd in the record', { timeout: 180_000 }, async () => {
    const { r, out } = await replayWith('symlinks', 'for (const n of ARTS) fs.symlinkSync("/etc/passwd", out + "/artifacts/" + n);\n');
    expect(r.code, r.stderr).toBe(2);
    const record = JSON.parse(r.stdout);
    expect(record.status).toBe('error');
    expect(record.error).toMatch(/^the scanner's output was refused: entry '(\.\/)?artifacts\/[a-z.]+json' is a symbolic link; refusing to extract$/);
    const dir = path.join(out, record.replay_id);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'replay.json']);
    const passwd = readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;
    expect(readFileSync(path.join(dir, 'replay.json'), 'utf8')).not.toContain(passwd);
    expect(await containersWithLabel(docker, `stella.run=${record.replay_id}`)).toEqual([]);
    expect(await containersWithLabel(docker, `stella.run-holder=${record.replay_id}`)).toEqual([]);
  });

  it('a hard link among the artifacts: refused, naming it', { timeout: 180_000 }, async () => {
    const { r } = await replayWith(
      'fifo-link',
      'fs.writeFileSync(out + "/artifacts/" + ARTS[0], "{}");\nfs.linkSync(out + "/artifacts/" + ARTS[0], out + "/artifacts/" + ARTS[1]);\n' +
        'const { execFileSync } = await import("node:child_process");\n' +
        'for (const n of ARTS.slice(2)) fs.writeFileSync(out + "/artifacts/" + n, "{}");\n',
    );
    expect(r.code, r.stderr).toBe(2);
    const record = JSON.parse(r.stdout);
    expect(record.status).toBe('error');
    expect(record.error).toMatch(/^the scanner's output was refused: entry '(\.\/)?artifacts\/[a-z.]+json' is a hard link; refusing to extract$/);
  });

  it('1 GiB written to /out stops at the cap (--out-cap 8M): error, nothing on the host', { timeout: 180_000 }, async () => {
    const { r, out } = await replayWith(
      'fill',
      'const chunk = Buffer.alloc(1 << 20, 120);\nconst fd = fs.openSync(out + "/fill.bin", "w");\nfor (let i = 0; i < 1024; i++) fs.writeSync(fd, chunk);\n',
      ['--out-cap', '8M'],
    );
    expect(r.code, r.stderr).toBe(2);
    const record = JSON.parse(r.stdout);
    expect(record.status).toBe('error');
    expect(record.error).toMatch(/^scanner exited with 1: /);
    expect(readdirSync(path.join(out, record.replay_id)).sort()).toEqual(['manifest.json', 'replay.json']);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} ends a running replay within 2 s, with its containers removed`, { timeout: 180_000 }, async () => {
      const image = await buildScriptImage(home, 'setInterval(() => {}, 1000);\n');
      const { file } = writeManifest(home, path.join(home, `scans/${signal}`), { imageId: image });
      const child = spawn(process.execPath, [STELLA_BIN, 'replay', '--from', file, '--out-dir', path.join(home, `out-${signal}`)], {
        env: { ...process.env, ...env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const mine = `stella.pid=${child.pid}`;
      const until = Date.now() + 60_000;
      while ((await containersWithLabel(docker, mine)).length < 1 && Date.now() < until) await new Promise((res) => setTimeout(res, 100));
      expect((await containersWithLabel(docker, mine)).length).toBe(1);
      await new Promise((res) => setTimeout(res, 500));
      const t0 = Date.now();
      child.kill(signal);
      const code = await closed;
      const took = Date.now() - t0;
      expect(code).not.toBe(0);
      // A bound on a hang (the old store blocked here forever), not a speed target.
      expect(took).toBeLessThan(2000);
      expect(await containersWithLabel(docker, mine)).toEqual([]);
      expect(await containersWithLabel(docker, `stella.holder-pid=${child.pid}`)).toEqual([]);
    });
  }

  it('start-up reaps the output volume of a killed stella (its holder pid is gone), and keeps a live one', { timeout: 60_000 }, async () => {
    const { hostname } = await import('node:os');
    const { DockerExecutor } = await import('../../src/adapters/docker/executor.js');
    const { engine } = await import('../docker/support.js');
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((res) => dead.on('close', res));
    const labels = (pid: number) => ({ 'stella.replay': '1', 'stella.holder-pid': String(pid), 'stella.host': hostname(), 'stella.deadline': new Date(Date.now() + 3_600_000).toISOString() });
    const gone = `stella-out-test-dead-${dead.pid}`;
    const live = `stella-out-test-live-${process.pid}`;
    await docker.createVolume({ Name: gone, Labels: labels(dead.pid!) });
    await docker.createVolume({ Name: live, Labels: labels(process.pid) });
    try {
      await DockerExecutor.create(engine());
      const names = ((await docker.listVolumes({ filters: { label: ['stella.replay=1'] } })).Volumes ?? []).map((v) => v.Name);
      expect(names).not.toContain(gone);
      expect(names).toContain(live);
    } finally {
      await docker.getVolume(gone).remove({ force: true }).catch(() => undefined);
      await docker.getVolume(live).remove({ force: true }).catch(() => undefined);
    }
  });
});
