// `stella scan IMAGE.tar` throughput on a real image archive: the Debian bookworm rootfs debootstrap
// built (scripts/build-ci-image.sh, cached) as the base layer, a layer with a real Debian 12 dpkg
// status of 733 installed packages over it (what an `apt-get install` layer leaves), and a layer of
// real lockfiles (NodeGoat's package-lock.json, poetry 1.1.0's poetry.lock), saved as `docker save`
// lays it out. Figure: packages/s of the whole command (read the archive, hash and apply every layer,
// parse the inventories and lockfiles, match, emit, store the archive, write the record), beside two
// floors measured in the same run: `dpkg-query -W --admindir=…` over the same status file (reading
// only the OS inventory) and `tar -tf` of the archive (reading only the outer tar headers), plus the
// listing of every layer's entries (`tar -xOf … | tar -ti`), the floor for reading the whole image.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { hasTool, median, report, shellMs } from './lib.js';
import { buildFeedBundle } from '../src/app/feed.js';
import { packTar } from '../src/adapters/tar.js';
import { parseImageInput } from '../src/scanner/inputs/index.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TP = path.join(REPO, 'fixtures/third_party');
const STELLA = path.join(REPO, 'dist/bin/stella.js');
const RUNS = 3;
const CLOCK = '2025-12-12T10:15:30Z';

const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** docker save layout of the given layer tars (config with their diff_ids, manifest.json). */
function dockerSave(layers: Buffer[]): Buffer {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${hex(l)}`) } }));
  const names = layers.map((l) => `${hex(l)}/layer.tar`);
  return packTar([
    { path: `${hex(config)}.json`, data: config },
    ...layers.map((l, i) => ({ path: names[i], data: l })),
    { path: 'manifest.json', data: Buffer.from(JSON.stringify([{ Config: `${hex(config)}.json`, RepoTags: ['bench:latest'], Layers: names }])) },
  ]);
}

export default async function (): Promise<void> {
  const b = spawnSync(path.join(REPO, 'scripts/build-ci-image.sh'), [], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`scripts/build-ci-image.sh failed (needs root, debootstrap, docker, skopeo and Debian's mirror): ${b.stderr}`);
  const cache = b.stdout.trim().split('\n').pop()!;
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-bench-image-'));
  try {
    const status = readFileSync(path.join(TP, 'os/debian-12-this-machine/status'));
    const base = readFileSync(path.join(cache, 'rootfs.tar'));
    const apt = packTar([{ path: 'var/lib/dpkg/status', data: status }]);
    const app = packTar([
      { path: 'srv/app/package-lock.json', data: readFileSync(path.join(TP, 'lockfiles/npm/nodegoat/package-lock.json')) },
      { path: 'srv/tools/poetry.lock', data: readFileSync(path.join(TP, 'lockfiles/python/poetry-1.1.0/poetry.lock')) },
    ]);
    const archive = path.join(dir, 'bench-image.docker-save.tar');
    writeFileSync(archive, dockerSave([base, apt, app]));
    const parsed = parseImageInput({ name: archive, bytes: readFileSync(archive) });
    const packages = parsed.packages.length;
    const osPackages = parsed.packages.filter((p) => p.ecosystem.startsWith('Debian')).length;
    if (osPackages < 400) throw new Error(`bench image has only ${osPackages} OS packages`);

    const feed = await buildFeedBundle(path.join(TP, 'osv'), { generatedAt: CLOCK });
    const feedFile = path.join(dir, 'feed.tar.zst');
    writeFileSync(feedFile, feed.bytes);
    const policyFile = path.join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ policy_version: 1, policy_set: 'bench' }));
    const env = { ...process.env, STELLA_HOME: path.join(dir, 'home'), TZ: 'UTC', LC_ALL: 'C' };
    const run = (i: number): number => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [STELLA, 'scan', archive, '--feed', feedFile, '--policy', policyFile, '--out-dir', path.join(dir, `out${i}`), '--clock', CLOCK, '--json'], { env, encoding: 'utf8' });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`stella scan failed: ${r.stderr}`);
      return ms;
    };
    run(0); // warm-up: stores the feed, computes the scanner image id
    const ms = median(Array.from({ length: RUNS }, (_, i) => run(i + 1)));
    const archiveMb = readFileSync(archive).length / 1e6;
    process.stdout.write(`  input: ${archiveMb.toFixed(0)} MB docker save, 3 layers, ${packages} packages (${osPackages} dpkg, ${packages - osPackages} from lockfiles)\n`);

    const admin = path.join(dir, 'dpkg');
    mkdirSync(path.join(admin, 'updates'), { recursive: true });
    mkdirSync(path.join(admin, 'info'), { recursive: true });
    writeFileSync(path.join(admin, 'status'), status);
    if (hasTool('dpkg-query')) {
      const dq = median(Array.from({ length: RUNS }, () => shellMs(`dpkg-query -W --admindir='${admin}' > /dev/null`)));
      report({ bench: 'image', what: `stella scan IMAGE.tar (${packages} pkgs, ${osPackages} OS)`, value: packages / (ms / 1000), unit: 'pkg/s', baseline: { tool: 'dpkg-query -W (OS pkgs only)', value: osPackages / (dq / 1000) }, better: 'higher' });
    }
    const tarMs = median(Array.from({ length: RUNS }, () => shellMs(`tar -tf '${archive}' > /dev/null`)));
    report({ bench: 'image', what: `stella scan IMAGE.tar (${packages} pkgs)`, value: packages / (ms / 1000), unit: 'pkg/s', baseline: { tool: 'tar -tf ARCHIVE (headers only)', value: packages / (tarMs / 1000) }, better: 'higher' });
    // A fairer floor for "reading the image": list every entry of every layer, not just the outer archive.
    const layersMs = median(Array.from({ length: RUNS }, () => shellMs(`tar -xOf '${archive}' --wildcards '*/layer.tar' | tar -ti > /dev/null`)));
    report({ bench: 'image', what: `stella scan IMAGE.tar (${packages} pkgs)`, value: packages / (ms / 1000), unit: 'pkg/s', baseline: { tool: 'tar -xOf ARCHIVE layers | tar -ti', value: packages / (layersMs / 1000) }, better: 'higher' });
    // The image reader alone, in process: read, hash and apply the layers, parse inventories and lockfiles.
    const bytes = readFileSync(archive);
    const inner = () => {
      const t0 = performance.now();
      parseImageInput({ name: archive, bytes });
      return performance.now() - t0;
    };
    inner();
    const innerMs = median(Array.from({ length: RUNS }, inner));
    report({ bench: 'image', what: 'image reader in process (layers→packages)', value: packages / (innerMs / 1000), unit: 'pkg/s', baseline: { tool: 'tar -xOf ARCHIVE layers | tar -ti', value: packages / (layersMs / 1000) }, better: 'higher' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
