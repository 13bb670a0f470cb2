// `stella replay` failure paths against the real engine: every one exits 2 with one line that says
// what is missing and how to fix it, and leaves either a complete error record or nothing.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { runStella, STELLA_BIN } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { listFiles, tempDir } from '../helpers/tmp.js';
import { buildScriptImage, containersWithLabel, LOCKFILE, writeManifest } from '../docker/support.js';

const HANG = 'setInterval(() => {}, 1000);\n';
const NOT_LOADED = 'sha256:' + 'ab'.repeat(32);

describe('stella replay: failures', () => {
  const home = tempDir('stella-replay-err-');
  const env = { STELLA_HOME: home };
  let docker: Docker;
  let hangImage: string;

  beforeAll(async () => {
    docker = await requireDocker();
    hangImage = await buildScriptImage(home, HANG);
  });

  it('a scanner that never exits is killed at --timeout: status error, exit 2, no container left', async () => {
    const rec = path.join(home, 'scans/hang');
    const { file } = writeManifest(home, rec, { imageId: hangImage });
    const out = path.join(home, 'out-timeout');
    const t0 = Date.now();
    const r = await runStella(['replay', '--from', file, '--out-dir', out, '--timeout', '2', '--json'], { env });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.code, r.stderr).toBe(2);
    const record = JSON.parse(r.stdout);
    expect(record.status).toBe('error');
    expect(record.error).toMatch(/did not finish within 2s.*REPLAY_TIMEOUT/);
    expect(record.executor).toMatchObject({ kind: 'docker', image_digest: hangImage, network: 'none', read_only: true, user: '65534:65534' });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const written = JSON.parse(readFileSync(path.join(out, record.replay_id, 'replay.json'), 'utf8'));
    expect(written).toEqual(record);
    expect(listFiles(path.join(out, record.replay_id))).toEqual(['manifest.json', 'replay.json']);
    expect(await containersWithLabel(docker, `stella.run=${record.replay_id}`)).toEqual([]);
  });

  it('the scanner sees the manifest: frozen clock = clock_value, TZ/LC_ALL, uid 65534, inputs mounted under their names', async () => {
    // A "scanner" that reports what it sees and fails, so the report lands in the record's error.
    const reporter = await buildScriptImage(
      home,
      'const fs = await import("node:fs");\n' +
        'const a = process.argv.slice(2);\n' +
        'const input = a[a.indexOf("--input") + 1];\n' +
        'console.error(JSON.stringify({ now: Date.now(), tz: process.env.TZ, lc: process.env.LC_ALL, uid: process.getuid(), input, bytes: fs.statSync(input).size, args: a.filter((x) => x.startsWith("--")) }));\n' +
        'process.exit(3);\n',
    );
    const rec = path.join(home, 'scans/reporter');
    const { file, manifest } = writeManifest(home, rec, {
      imageId: reporter,
      edit: (m) => {
        m.environment.clock_value = '2025-12-12T10:15:30Z';
        m.environment.tz = 'America/New_York';
        m.environment.locale = 'C.UTF-8';
      },
    });
    const out = path.join(home, 'out-reporter');
    const r = await runStella(['replay', '--from', file, '--out-dir', out, '--json'], { env });
    expect(r.code).toBe(2);
    const record = JSON.parse(r.stdout);
    const seen = JSON.parse(record.error.replace(/^scanner exited with 3: /, ''));
    expect(seen).toEqual({
      now: Date.parse(manifest.environment.clock_value),
      tz: 'America/New_York',
      lc: 'C.UTF-8',
      uid: 65534,
      input: '/in/Cargo.lock',
      bytes: readFileSync(LOCKFILE).length,
      args: ['--manifest', '--input', '--feed', '--policy', '--out'],
    });
    expect(record.executor).toMatchObject({ tz: 'America/New_York', locale: 'C.UTF-8', clock_mode: 'frozen', clock_value: '2025-12-12T10:15:30Z' });
  });

  it('missing feed bundle: exit 2, message names the digest and how to restore it', async () => {
    const rec = path.join(home, 'scans/nofeed');
    const { file, manifest } = writeManifest(home, rec, { imageId: hangImage, feedBytes: null });
    const out = path.join(home, 'out-nofeed');
    const r = await runStella(['replay', '--from', file, '--out-dir', out], { env });
    expect(r.code).toBe(2);
    const line = r.stderr.trim();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain(manifest.feeds.vuln_feed_bundle_digest);
    expect(line).toMatch(/stella feed snapshot|stella blob put/);
    const [id] = readdirSync(out);
    const record = JSON.parse(readFileSync(path.join(out, id, 'replay.json'), 'utf8'));
    expect(record.status).toBe('error');
    expect(record.error).toContain(manifest.feeds.vuln_feed_bundle_digest);
  });

  it('missing image: exit 2, message names the image ID and stella image build / load', async () => {
    const rec = path.join(home, 'scans/noimage');
    const { file } = writeManifest(home, rec, { imageId: NOT_LOADED });
    const out = path.join(home, 'out-noimage');
    const r = await runStella(['replay', '--from', file, '--out-dir', out], { env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(NOT_LOADED);
    expect(r.stderr).toContain('stella image build');
    expect(r.stderr).toContain(`stella image load ${NOT_LOADED}`);
  });

  it('engine unreachable (DOCKER_HOST=unix:///nope): exit 2, names DOCKER_HOST and how to start the engine, writes nothing', async () => {
    const rec = path.join(home, 'scans/noengine');
    const { file } = writeManifest(home, rec, { imageId: hangImage });
    const out = path.join(home, 'out-noengine');
    const r = await runStella(['replay', '--from', file, '--out-dir', out], { env: { ...env, DOCKER_HOST: 'unix:///nope' } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('DOCKER_HOST=unix:///nope');
    expect(r.stderr).toContain('dockerd --bridge=none');
    expect(existsSync(out)).toBe(false);
  });

  it('an unpinned ("latest") feed is refused unless --what-if names one; nothing is written', async () => {
    const rec = path.join(home, 'scans/latest');
    const { file } = writeManifest(home, rec, { imageId: hangImage, edit: (m) => (m.feeds.vuln_feed_bundle_digest = 'latest') });
    const out = path.join(home, 'out-latest');
    const r = await runStella(['replay', '--from', file, '--out-dir', out], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: $.feeds.vuln_feed_bundle_digest:`);
    expect(r.stderr).toContain('--what-if feed=');
    expect(existsSync(out)).toBe(false);
  });

  it('a bad --what-if and a malformed manifest are one-line usage/input errors', async () => {
    const rec = path.join(home, 'scans/bad');
    mkdirSync(rec, { recursive: true });
    const file = path.join(rec, 'manifest.json');
    writeFileSync(file, '{"manifest_version": "1.0", "scan_id": ');
    const out = path.join(home, 'out-bad');
    const bad = await runStella(['replay', '--from', file, '--out-dir', out], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain(file);
    expect(existsSync(out)).toBe(false);

    const { file: good } = writeManifest(home, path.join(home, 'scans/whatif'), { imageId: hangImage });
    const w = await runStella(['replay', '--from', good, '--out-dir', out, '--what-if', 'feed=latest'], { env });
    expect(w.code).toBe(2);
    expect(w.stderr).toContain('--what-if feed=latest');
    const k = await runStella(['replay', '--from', good, '--out-dir', out, '--what-if', 'color=blue'], { env });
    expect(k.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('Ctrl-C during --batch: exit 130, running containers removed, finished records kept, nothing half-written', async () => {
    const scans = path.join(home, 'batch');
    // Finishes at once (a missing feed is recorded as an error replay) …
    writeManifest(home, path.join(scans, 'a-nofeed'), { imageId: hangImage, feedBytes: null });
    // … then two scanners that never exit, running when the interrupt arrives.
    writeManifest(home, path.join(scans, 'b-hang'), { imageId: hangImage, feedBytes: Buffer.from('feed b') });
    writeManifest(home, path.join(scans, 'c-hang'), { imageId: hangImage, feedBytes: Buffer.from('feed c') });
    writeManifest(home, path.join(scans, 'd-hang'), { imageId: hangImage, feedBytes: Buffer.from('feed d') });
    const out = path.join(home, 'out-batch');
    const child = spawn(process.execPath, [STELLA_BIN, 'replay', '--batch', scans, '--out-dir', out, '--concurrency', '2', '--timeout', '120'], {
      env: { ...process.env, ...env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const mine = `stella.pid=${child.pid}`;
    const deadline = Date.now() + 60_000;
    while ((await containersWithLabel(docker, mine)).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await containersWithLabel(docker, mine)).length).toBe(2);
    // Let them actually start before interrupting.
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGINT');
    const code = await closed;
    expect(code, stderr).toBe(130);
    expect(await containersWithLabel(docker, mine)).toEqual([]);
    // Only the finished replay is on disk, complete; no temp dirs.
    const dirs = readdirSync(out);
    expect(dirs).toHaveLength(1);
    expect(dirs[0]).toMatch(/^rpl_[0-9a-f]{16}$/);
    const record = JSON.parse(readFileSync(path.join(out, dirs[0], 'replay.json'), 'utf8'));
    expect(record.status).toBe('error');
    expect(stderr).toContain('interrupted');
  });
});
