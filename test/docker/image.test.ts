// `stella image build | load | id` against the real engine: deterministic archive, same ID twice,
// restorable from the blob store, clear errors.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { listTar } from '../../src/adapters/docker/tar-writer.js';
import { runStella } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { tempDir } from '../helpers/tmp.js';
import { buildScriptImage } from './support.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

describe('stella image', () => {
  const homeA = tempDir('stella-image-a-');
  const homeB = tempDir('stella-image-b-');
  let docker: Docker;
  let first: { image_id: string; archive_digest: string; layer_digest: string; loaded: boolean };

  beforeAll(async () => {
    docker = await requireDocker();
    const r = await runStella(['image', 'build', '--json'], { env: { STELLA_HOME: homeA } });
    expect(r.code, r.stderr).toBe(0);
    first = JSON.parse(r.stdout);
  });

  it('builds the scanner image, loads it, and prints its ID', async () => {
    expect(first.image_id).toMatch(DIGEST);
    expect(first.loaded).toBe(true);
    const info = await docker.getImage(first.image_id).inspect();
    expect(info.Id).toBe(first.image_id);
    expect(info.Config.User).toBe('65534:65534');
    expect(info.Config.Entrypoint).toEqual(['/usr/local/bin/node', '/app/dist/src/scanner/entry.js']);
    expect(info.Created).toBe('1970-01-01T00:00:00Z');
    const plain = await runStella(['image', 'build'], { env: { STELLA_HOME: homeA } });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(`${first.image_id}\n`);
  });

  it('building twice (another store) gives the same image ID and byte-identical archive', async () => {
    const r = await runStella(['image', 'build', '--json', '--no-load'], { env: { STELLA_HOME: homeB } });
    expect(r.code, r.stderr).toBe(0);
    const second = JSON.parse(r.stdout);
    expect(second.image_id).toBe(first.image_id);
    expect(second.archive_digest).toBe(first.archive_digest);
    expect(second.layer_digest).toBe(first.layer_digest);
    expect(second.loaded).toBe(false);
  });

  it('`stella image id` predicts the ID without building an archive', async () => {
    const home = tempDir('stella-image-id-');
    const r = await runStella(['image', 'id'], { env: { STELLA_HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${first.image_id}\n`);
    expect(new BlobStore(home).list()).toEqual([]);
    // second call is served from the cache and agrees
    const again = await runStella(['image', 'id'], { env: { STELLA_HOME: home } });
    expect(again.stdout).toBe(r.stdout);
  });

  it('the layer holds node, its libraries and loader (with their symlinks), libfaketime, nobody, and only the scanner module graph', () => {
    const archive = new BlobStore(homeA).get(first.archive_digest);
    const outer = listTar(archive);
    expect(outer.map((e) => e.name)).toEqual(
      [`${first.image_id.slice(7)}.json`, `${first.layer_digest.slice(7)}/`, `${first.layer_digest.slice(7)}/layer.tar`, 'manifest.json'].sort(),
    );
    const layerEntry = outer.find((e) => e.name.endsWith('layer.tar'))!;
    const layer = archive.subarray(layerEntry.offset, layerEntry.offset + layerEntry.size);
    const entries = listTar(layer);
    const names = entries.map((e) => e.name);
    expect([...names].sort()).toEqual(names);
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get('usr/local/bin/node')).toMatchObject({ type: '0', mode: 0o755 });
    expect(byName.get('usr/local/lib/faketime/libfaketime.so.1')?.type).toBe('0');
    expect(names.some((n) => /ld-linux[^/]*\.so\.\d$/.test(n))).toBe(true);
    expect(names.some((n) => /libc\.so\.6$/.test(n))).toBe(true);
    expect(entries.some((e) => e.type === '2')).toBe(true);
    expect(byName.get('tmp/')).toMatchObject({ type: '5', mode: 0o1777 });
    expect(byName.has('out/')).toBe(true);
    expect(byName.has('in/')).toBe(true);
    expect(byName.has('app/package.json')).toBe(true);
    expect(byName.has('app/dist/src/scanner/entry.js')).toBe(true);
    const passwd = layer.subarray(byName.get('etc/passwd')!.offset, byName.get('etc/passwd')!.offset + byName.get('etc/passwd')!.size).toString();
    expect(passwd).toContain('nobody:x:65534:65534');
    // Only what the scanner imports: no CLI, no workstation, no docker client in the image.
    expect(names.some((n) => n.startsWith('app/dist/src/cli/'))).toBe(false);
    expect(names.some((n) => n.startsWith('app/node_modules/dockerode/'))).toBe(false);
    expect(names.some((n) => n.startsWith('app/node_modules/ink/'))).toBe(false);
    // Fixed metadata: every header has mtime 0 and uid/gid 0.
    for (const e of entries.slice(0, 50)) {
      const h = layer.subarray(e.offset - 512, e.offset);
      expect(h.subarray(136, 147).toString()).toBe('00000000000');
      expect(h.subarray(108, 115).toString()).toBe('0000000');
    }
  });

  it('`stella image load ID` restores a removed image from the blob store', async () => {
    const home = tempDir('stella-image-load-');
    // A distinct image (its own ID) so removing it cannot disturb other test files.
    const id = await buildScriptImage(home, 'process.stdout.write("load test " + 1 + "\\n");\n');
    await docker.getImage(id).remove({ force: true });
    await expect(docker.getImage(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const r = await runStella(['image', 'load', id], { env: { STELLA_HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${id}\n`);
    expect((await docker.getImage(id).inspect()).Id).toBe(id);
    const again = await runStella(['image', 'load', id], { env: { STELLA_HOME: home } });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already loaded');
  });

  it('load of an unknown ID, a bad ID, and an unreachable engine: exit 2 with one line that says what to do', async () => {
    const home = tempDir('stella-image-err-');
    const unknown = 'sha256:' + 'cd'.repeat(32);
    const r = await runStella(['image', 'load', unknown], { env: { STELLA_HOME: home } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(unknown);
    expect(r.stderr).toContain('stella image build');

    const bad = await runStella(['image', 'load', 'sha256:XYZ'], { env: { STELLA_HOME: home } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'sha256:XYZ' is not an image ID");

    const nope = await runStella(['image', 'build'], { env: { STELLA_HOME: home, DOCKER_HOST: 'unix:///nope' } });
    expect(nope.code).toBe(2);
    expect(nope.stderr.trim().split('\n')).toHaveLength(1);
    expect(nope.stderr).toContain('DOCKER_HOST=unix:///nope');
    expect(nope.stderr).toContain('dockerd');

    const tcp = await runStella(['image', 'load', unknown], { env: { STELLA_HOME: home, DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    expect(tcp.code).toBe(2);
    expect(tcp.stderr).toContain('DOCKER_HOST=tcp://127.0.0.1:1');
  });

  it('the image ID is the sha256 of the stored config', () => {
    const archive = new BlobStore(homeA).get(first.archive_digest);
    const cfg = listTar(archive).find((e) => e.name.endsWith('.json') && e.name !== 'manifest.json')!;
    const bytes = archive.subarray(cfg.offset, cfg.offset + cfg.size);
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(first.image_id);
    expect(JSON.parse(bytes.toString()).created).toBe('1970-01-01T00:00:00Z');
  });
});
