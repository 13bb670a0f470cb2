// A real image built here from Debian's packages (scripts/build-ci-image.sh: debootstrap minbase
// bookworm → docker import → docker save, skopeo → OCI layout), scanned end to end with `stella scan`
// and replayed in Docker with a bitwise match. dpkg-query over the image's own status file is the oracle
// for what the scan must report. Needs root, Docker and Debian's mirror (the build is cached, once).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_NAMES, type ScanManifest } from '../../src/core/formats.js';
import { REPO, runStella } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { tempDir } from '../helpers/tmp.js';
import { CLOCK, allOsvFeed, writeFeed } from '../scanner/helpers.js';
import { sha256 } from './tar-build.js';

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

describe('CI-built Debian bookworm image: stella scan → docker replay → BF match', () => {
  const home = tempDir('stella-ci-image-');
  const env = { STELLA_HOME: home, TZ: 'UTC', LANG: 'C', LC_ALL: 'C' };
  const policy = path.join(REPO, 'fixtures/policies/prod-default.yaml');
  let cache = '';
  let feed = '';
  let installed: Array<{ name: string; version: string; source: string }> = [];

  beforeAll(async () => {
    await requireDocker();
    const b = spawnSync(path.join(REPO, 'scripts/build-ci-image.sh'), [], { encoding: 'utf8', timeout: 1_500_000 });
    expect(b.status, b.stderr).toBe(0);
    cache = b.stdout.trim().split('\n').pop()!;
    feed = writeFeed(home, (await allOsvFeed()).bytes);
    // The oracle: dpkg-query over the status file inside the image's rootfs layer.
    const status = spawnSync('tar', ['-xOf', path.join(cache, 'rootfs.tar'), './var/lib/dpkg/status'], { maxBuffer: 1 << 28 });
    expect(status.status, String(status.stderr)).toBe(0);
    const admin = path.join(home, 'dpkg');
    mkdirSync(path.join(admin, 'updates'), { recursive: true });
    mkdirSync(path.join(admin, 'info'), { recursive: true });
    writeFileSync(path.join(admin, 'status'), status.stdout);
    const q = spawnSync('dpkg-query', [`--admindir=${admin}`, '-W', '-f', '${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${source:Package}\\n'], { encoding: 'utf8' });
    expect(q.status, q.stderr).toBe(0);
    installed = q.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .filter((f) => f[0].trim() === 'ii')
      .map(([, name, version, source]) => ({ name, version, source }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const img = await runStella(['image', 'build'], { env });
    expect(img.code, img.stderr).toBe(0);
  }, 1_800_000);

  const scanned = new Map<string, { dir: string; manifest: ScanManifest }>();
  async function scanOnce(input: string) {
    const r = await runStella(['scan', input, '--feed', feed, '--policy', policy, '--out-dir', path.join(home, 'scans'), '--clock', CLOCK, '--json'], { env, timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const dir = JSON.parse(r.stdout).dir as string;
    const out = { dir, manifest: readJson(path.join(dir, 'manifest.json')) as ScanManifest };
    scanned.set(input, out);
    return out;
  }

  it('docker save archive: every installed dpkg package, Debian:12, config digest = the docker image ID', async () => {
    const archive = path.join(cache, 'bookworm.docker-save.tar');
    const { dir, manifest } = await scanOnce(archive);
    const dockerManifest = JSON.parse(spawnSync('tar', ['-xOf', archive, 'manifest.json']).stdout.toString())[0];
    const config = spawnSync('tar', ['-xOf', archive, dockerManifest.Config], { maxBuffer: 1 << 26 }).stdout;
    expect(manifest.input).toMatchObject({ type: 'oci_archive', digest: sha256(config), archive_digest: sha256(readFileSync(archive)) });
    expect(manifest.input.layers).toEqual(JSON.parse(config.toString()).rootfs.diff_ids);
    expect(manifest.labels).toMatchObject({ base_os: 'debian-12', ecosystem: 'Debian:12' });
    const sbom = readJson(path.join(dir, 'artifacts/sbom.cdx.json'));
    const deb = (sbom.components as Array<{ name: string; version: string; purl: string }>).filter((c) => c.purl.startsWith('pkg:deb/debian/'));
    expect(installed.length).toBeGreaterThan(80);
    expect(deb.map((c) => `${c.name}=${c.version}`).sort()).toEqual(installed.map((p) => `${p.name}=${p.version}`).sort());
    for (const c of deb) expect(c.purl).toContain('distro=debian-12');
  });

  it('the OCI layout skopeo wrote scans to the same image and packages', async () => {
    const a = scanned.get(path.join(cache, 'bookworm.docker-save.tar'))!;
    const b = await scanOnce(path.join(cache, 'bookworm.oci'));
    expect(b.manifest.input.type).toBe('oci_archive');
    expect(b.manifest.input.layers).toEqual(a.manifest.input.layers);
    const names = (d: string) => (readJson(path.join(d, 'artifacts/sbom.cdx.json')).components as Array<{ purl: string }>).map((c) => c.purl);
    expect(names(b.dir)).toEqual(names(a.dir));
  });

  it('both replay in Docker months later from the blob store alone, bitwise equal on all four artifacts', async () => {
    for (const { dir } of scanned.values()) {
      const r = await runStella(['replay', '--from', path.join(dir, 'manifest.json'), '--out-dir', path.join(home, 'replays'), '--json'], { env, timeoutMs: 600_000 });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const rec = JSON.parse(r.stdout);
      expect(rec).toMatchObject({ status: 'passed', bf_match: true, sf_match: true, pf_match: true, mismatch_reason: null });
      expect(rec.executor).toMatchObject({ kind: 'docker', network: 'none', read_only: true });
      const original = readJson(path.join(dir, 'outputs.json'));
      for (const n of ARTIFACT_NAMES) expect(rec.artifacts[n].canonical_sha256, n).toBe(original[n].canonical_sha256);
    }
  });
});
