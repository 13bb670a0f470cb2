// Image archives: the real ones in fixtures/third_party/images (docker save, gzipped docker save, a
// containerd OCI export, an unpacked OCI layout), layered archives built here from tar streams
// (whiteouts, opaque directories, layer evidence, symlinked os-release), and bad archives through the
// CLI (one line naming the archive and the entry, exit 2, nothing written).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, THIRD_PARTY, runStella } from '../helpers/cli.js';
import { listFiles, tempDir } from '../helpers/tmp.js';
import { validateCycloneDx } from '../helpers/validators.js';
import { parseImageInput } from '../../src/scanner/inputs/index.js';
import { readScanInputAt } from '../../src/scanner/inputs/load.js';
import type { ScanManifest } from '../../src/core/formats.js';
import { validateManifest } from '../../src/core/manifest/validate.js';
import { CLOCK, allOsvFeed, writeFeed } from '../scanner/helpers.js';
import { dockerSave, ociLayout, sha256, tar, type Entry } from './tar-build.js';

const work = tempDir('stella-image-');
const IMG = (f: string) => path.join(THIRD_PARTY, 'images', f);
const OSF = (d: string, f: string) => readFileSync(path.join(THIRD_PARTY, 'os', d, f));
const LOCKF = (rel: string) => readFileSync(path.join(THIRD_PARTY, 'lockfiles', rel));
const scanBytes = (bytes: Buffer, name = 'image.tar') => parseImageInput({ name, bytes });

/** Extract one member with the system tar (an oracle independent of the reader under test). */
function member(archive: string, name: string, gz = false): Buffer {
  const r = spawnSync('tar', [gz ? '-xzOf' : '-xOf', archive, name], { maxBuffer: 1 << 30 });
  expect(r.status, String(r.stderr)).toBe(0);
  return r.stdout;
}

describe('real image archives', () => {
  it('docker save of a cut-down nginx (Debian 10): 84 dpkg packages from its one layer', () => {
    const f = IMG('snyk-nginx-debian10.docker-save.tar');
    const r = readScanInputAt(f).parsed;
    const manifest = JSON.parse(member(f, 'manifest.json').toString())[0];
    const layer = member(f, manifest.Layers[0]);
    expect(r.type).toBe('oci_archive');
    expect(r.image).toMatchObject({ configDigest: sha256(member(f, manifest.Config)), diffIds: [sha256(layer)], format: 'docker-save', baseOs: 'debian-10' });
    expect(r.packages).toHaveLength(84);
    for (const p of r.packages) {
      expect(p.ecosystem).toBe('Debian:10');
      expect(p.location).toBe(`${sha256(layer)}:var/lib/dpkg/status`);
      expect(p.layer).toBe(sha256(layer));
    }
    // The cut-down image's config still lists the original three layers: said, not hidden.
    expect(r.notes.some((n) => /lists 3 layer diff_id\(s\) that do not match the 1 layer/.test(n))).toBe(true);
  });

  it('gzipped docker save of alpine 3.10: 14 apk packages, Alpine:v3.10', () => {
    const f = IMG('trivy-alpine-3.10.docker-save.tar.gz');
    const r = readScanInputAt(f).parsed;
    const manifest = JSON.parse(member(f, 'manifest.json', true).toString())[0];
    const layer = member(f, manifest.Layers[0], true);
    expect(r.image).toMatchObject({ configDigest: sha256(member(f, manifest.Config, true)), diffIds: [sha256(layer)], baseOs: 'alpine-3.10.4' });
    // The config's own diff_ids agree with the layer bytes here: no note.
    expect(JSON.parse(member(f, manifest.Config, true).toString()).rootfs.diff_ids).toEqual([sha256(layer)]);
    expect(r.notes).toEqual([]);
    expect(r.packages.map((p) => p.name)).toContain('musl');
    expect(r.packages).toHaveLength(14);
    expect(new Set(r.packages.map((p) => p.ecosystem))).toEqual(new Set(['Alpine:v3.10']));
  });

  it('containerd OCI export of alpine 3.14: manifest list → the linux/amd64 manifest → 14 packages', () => {
    const f = IMG('snyk-alpine-3.14.containerd-oci.tar');
    const r = readScanInputAt(f).parsed;
    const index = JSON.parse(member(f, 'index.json').toString());
    const list = JSON.parse(member(f, `blobs/sha256/${index.manifests[0].digest.slice(7)}`).toString());
    const amd64 = list.manifests.find((m: { platform: { architecture: string } }) => m.platform.architecture === 'amd64');
    const manifest = JSON.parse(member(f, `blobs/sha256/${amd64.digest.slice(7)}`).toString());
    const layer = gunzipSync(member(f, `blobs/sha256/${manifest.layers[0].digest.slice(7)}`));
    expect(r.image).toMatchObject({ configDigest: manifest.config.digest, diffIds: [sha256(layer)], format: 'oci-layout', baseOs: 'alpine-3.14.9' });
    expect(r.packages).toHaveLength(14);
    expect(r.packages.find((p) => p.name === 'musl')!.purl).toBe('pkg:apk/alpine/musl@1.2.2-r3?arch=x86_64&distro=alpine-3.14.9');
  });

  it('an unpacked OCI layout directory (hello-world): config digest from the manifest, no OS packages', () => {
    const dir = IMG('trivy-hello-world.oci');
    const { parsed, stored } = readScanInputAt(dir);
    const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(path.join(dir, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
    expect(parsed.type).toBe('oci_archive');
    expect(parsed.image!.configDigest).toBe(manifest.config.digest);
    expect(parsed.packages).toEqual([]);
    // What is stored is a tar of the layout's files, which scans the same.
    expect(parseImageInput({ name: 'stored.tar', bytes: stored }).image).toEqual(parsed.image);
  });
});

const OS_DEBIAN12 = OSF('debian-12-this-machine', 'os-release');
const STATUS12 = OSF('debian-12-this-machine', 'status');

describe('layers applied in order', () => {
  const base = tar([
    { type: 'dir', name: 'etc/' },
    { type: 'file', name: 'etc/os-release', data: OS_DEBIAN12 },
    { type: 'file', name: 'var/lib/dpkg/status', data: STATUS12 },
    { type: 'file', name: 'app/package-lock.json', data: LOCKF('npm/socket.io/package-lock.json') },
    { type: 'file', name: 'srv/old/poetry.lock', data: LOCKF('python/poetry-1.1.0/poetry.lock') },
    { type: 'file', name: 'app/node_modules/x/package-lock.json', data: LOCKF('npm/nodegoat/package-lock.json') },
  ]);
  const removedSudo = Buffer.from(STATUS12.toString('utf8').replace(/(Package: curl\nStatus: )install ok installed/, '$1deinstall ok config-files'));
  const upper = tar([
    { type: 'file', name: 'srv/old/.wh.poetry.lock', data: '' },
    // Same-layer content of an opaque directory stays, in whichever order the marker comes.
    { type: 'file', name: 'app/Cargo.lock', data: LOCKF('cargo/ripgrep-13.0.0/Cargo.lock') },
    { type: 'file', name: 'app/.wh..wh..opq', data: '' },
  ]);
  const top = tar([{ type: 'file', name: 'var/lib/dpkg/status', data: removedSudo }]);

  it('base layer alone: dpkg, npm and PyPI packages; node_modules is not a lockfile location', () => {
    const r = scanBytes(dockerSave([base]));
    const eco = new Set(r.packages.map((p) => p.ecosystem));
    expect(eco).toEqual(new Set(['Debian:12', 'npm', 'PyPI']));
    expect(r.packages.filter((p) => p.ecosystem === 'Debian:12')).toHaveLength(733);
    expect(r.files.map((f) => f.name.replace(/^sha256:[0-9a-f]{64}:/, ''))).toEqual(['var/lib/dpkg/status', 'app/package-lock.json', 'srv/old/poetry.lock']);
  });

  it('a whiteout deletes a lower file; an opaque directory hides lower content but keeps its own layer; evidence names the layer', () => {
    const r = scanBytes(dockerSave([base, upper, top]));
    const eco = new Set(r.packages.map((p) => p.ecosystem));
    expect(eco).toEqual(new Set(['Debian:12', 'crates.io']));
    const deb = r.packages.filter((p) => p.ecosystem === 'Debian:12');
    expect(deb).toHaveLength(732);
    expect(deb.some((p) => p.name === 'curl')).toBe(false);
    expect(deb.some((p) => p.name === 'libcurl4')).toBe(true);
    for (const p of deb) expect(p.location).toBe(`${sha256(top)}:var/lib/dpkg/status`);
    const cargo = r.packages.filter((p) => p.ecosystem === 'crates.io');
    expect(cargo.length).toBeGreaterThan(10);
    for (const p of cargo) {
      expect(p.layer).toBe(sha256(upper));
      expect(p.location).toMatch(new RegExp(`^${sha256(upper)}:app/Cargo\\.lock:\\d+$`));
    }
    expect(r.image!.diffIds).toEqual([sha256(base), sha256(upper), sha256(top)]);
  });

  it('whiting out a directory removes everything below it', () => {
    const r = scanBytes(dockerSave([base, tar([{ type: 'file', name: '.wh.var', data: '' }])]));
    expect(r.packages.some((p) => p.ecosystem.startsWith('Debian'))).toBe(false);
    expect(r.packages.some((p) => p.ecosystem === 'npm')).toBe(true);
  });

  it('a whiteout in the same layer as a new file does not delete the new file', () => {
    const r = scanBytes(dockerSave([base, tar([{ type: 'file', name: 'app/.wh.package-lock.json', data: '' }]), tar([{ type: 'file', name: 'app/package-lock.json', data: LOCKF('npm/sigstore-js/package-lock.json') }])]));
    expect(r.packages.some((p) => p.name === '@sigstore/protobuf-specs')).toBe(true);
    expect(r.packages.some((p) => p.name === 'socket.io')).toBe(false);
  });

  it('os-release as a symlink into usr/lib, and an absolute link that tries to climb out, resolve inside the image', () => {
    const layer = (link: string) =>
      tar([
        { type: 'file', name: 'usr/lib/os-release', data: OSF('ubuntu-18.04-claircore', 'os-release') },
        { type: 'symlink', name: 'etc/os-release', target: link },
        { type: 'file', name: 'var/lib/dpkg/status', data: OSF('ubuntu-18.04-claircore', 'status') },
      ]);
    for (const link of ['../usr/lib/os-release', '/../../../../usr/lib/os-release']) {
      const r = scanBytes(dockerSave([layer(link)]));
      expect(r.image!.baseOs).toBe('ubuntu-18.04');
      expect(new Set(r.packages.map((p) => p.ecosystem))).toEqual(new Set(['Ubuntu:18.04:LTS']));
    }
  });

  it('the same layers as an OCI layout with gzipped layers scan to the same packages and image digest', () => {
    const a = scanBytes(dockerSave([base, upper, top]));
    const oci = ociLayout([base, upper, top]);
    const b = scanBytes(oci.tar);
    expect(b.image!.configDigest).toBe(oci.configDigest);
    expect(b.image!.configDigest).toBe(a.image!.configDigest);
    expect(b.packages).toEqual(a.packages);
    // and as a gzipped archive file
    expect(scanBytes(gzipSync(oci.tar)).packages).toEqual(a.packages);
  });

  it('a lockfile in a layer that does not parse is a note naming it; the rest of the image is still scanned', () => {
    const r = scanBytes(dockerSave([base, tar([{ type: 'file', name: 'opt/x/package-lock.json', data: '{"lockfileVersion": 2, "packages": ' }])]));
    expect(r.packages.filter((p) => p.ecosystem === 'Debian:12')).toHaveLength(733);
    expect(r.notes.filter((n) => n.startsWith('opt/x/package-lock.json: not read ('))).toHaveLength(1);
  });

  it('distroless status.d: one file per package, .md5sums ignored, no Status lines', () => {
    const paras = OSF('debian-10-snyk-nginx', 'status').toString('utf8').split(/\n\n+/).filter((p) => p.trim());
    const entries: Entry[] = [{ type: 'file', name: 'etc/os-release', data: OSF('debian-10-snyk-nginx', 'os-release') }];
    for (const p of paras) {
      const name = /^Package: (.+)$/m.exec(p)![1];
      entries.push({ type: 'file', name: `var/lib/dpkg/status.d/${name}`, data: p.replace(/^Status: .*\n/m, '') + '\n' });
      entries.push({ type: 'file', name: `var/lib/dpkg/status.d/${name}.md5sums`, data: 'd41d8cd98f00b204e9800998ecf8427e  usr/share/doc/x\n' });
    }
    const r = scanBytes(dockerSave([tar(entries)]));
    expect(r.packages).toHaveLength(84);
    expect(r.packages.find((p) => p.name === 'libapt-pkg5.0')!.location).toMatch(/^sha256:[0-9a-f]{64}:var\/lib\/dpkg\/status\.d\/libapt-pkg5\.0$/);
  });
});

describe('stella scan IMAGE', () => {
  const home = path.join(work, 'home');
  const env = { STELLA_HOME: home, TZ: 'UTC', LANG: 'C', LC_ALL: 'C' };
  let feedFile = '';
  const policyFile = path.join(work, 'policy.json');

  beforeAll(async () => {
    const tsc = spawnSync('npx', ['tsc', '-p', '.'], { cwd: REPO, encoding: 'utf8' });
    expect(existsSync(path.join(REPO, 'dist/src/scanner/inputs/image.js')), tsc.stdout).toBe(true);
    feedFile = writeFeed(work, (await allOsvFeed()).bytes);
    writeFileSync(policyFile, JSON.stringify({ policy_version: 1, policy_set: 'prod-default', fix_available_days: { max_days: 30, decision: 'warn' } }));
  }, 300_000);

  const scan = (input: string, out: string) =>
    runStella(['scan', input, '--feed', feedFile, '--policy', policyFile, '--out-dir', out, '--clock', CLOCK, '--json'], { env, cwd: work });

  it('records input.type oci_archive, the config digest, the archive digest, diff_ids and base_os; the archive is in the blob store', async () => {
    const f = IMG('snyk-alpine-3.14.containerd-oci.tar');
    const r = await scan(f, path.join(work, 'ok'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { dir: string };
    const m = JSON.parse(readFileSync(path.join(out.dir, 'manifest.json'), 'utf8')) as ScanManifest;
    expect(validateManifest(m)).toMatchObject({ ok: true });
    const expected = readScanInputAt(f).parsed.image!;
    expect(m.input).toMatchObject({ type: 'oci_archive', digest: expected.configDigest, archive_digest: sha256(readFileSync(f)), layers: expected.diffIds });
    expect(m.labels).toMatchObject({ base_os: 'alpine-3.14.9', ecosystem: 'Alpine:v3.14', project: 'snyk-alpine-3.14' });
    const blob = path.join(home, 'blobs/sha256', m.input.archive_digest!.slice(7, 9), m.input.archive_digest!.slice(9));
    expect(Buffer.compare(readFileSync(blob), readFileSync(f))).toBe(0);
    const sbom = JSON.parse(readFileSync(path.join(out.dir, 'artifacts/sbom.cdx.json'), 'utf8'));
    expect(validateCycloneDx(sbom, '1.6')).toEqual([]);
    const musl = sbom.components.find((c: { name: string }) => c.name === 'musl');
    expect(musl.evidence.occurrences[0].location).toBe(`${expected.diffIds[0]}:lib/apk/db/installed`);
  });

  // Each bad archive: exit 2, one line naming the archive and the entry, no record, no blob stored.
  const cases: Array<[string, () => Buffer, (file: string) => RegExp]> = [
    ['an entry escaping the archive', () => dockerSave([tar([])], { extra: [{ type: 'file', name: '../escape.txt', data: 'x' }] }), (f) => lineFor(f, '../escape.txt', 'archive entry "../escape.txt" escapes the archive root; refusing to scan it')],
    ['a layer entry escaping the image root', () => dockerSave([tar([{ type: 'file', name: '../../etc/cron.d/x', data: 'x' }])]), (f) => new RegExp(`^stella scan: ${esc(f)}: [0-9a-f]{64}/layer\\.tar:\\.\\./\\.\\./etc/cron\\.d/x: archive entry .* escapes the image root; refusing to scan it\\n$`)],
    ['a hard link out of the image root', () => dockerSave([tar([{ type: 'hardlink', name: 'var/lib/dpkg/status', target: '../../../etc/shadow' }])]), (f) => new RegExp(`^stella scan: ${esc(f)}: [0-9a-f]{64}/layer\\.tar:var/lib/dpkg/status: archive entry .* is a hard link to "\\.\\./\\.\\./\\.\\./etc/shadow", outside the image root; refusing to scan it\\n$`)],
    ['an archive symlink out of the archive', () => dockerSave([tar([])], { extra: [{ type: 'symlink', name: 'evil', target: '../../etc/passwd' }] }), (f) => lineFor(f, 'evil', 'archive entry "evil" is a link to "../../etc/passwd", outside the archive; refusing to scan it')],
    ['a missing layer blob', () => ociLayout([tar([{ type: 'file', name: 'a', data: 'a' }])], { dropBlob: 'layer' }).tar, (f) => new RegExp(`^stella scan: ${esc(f)}: blobs/sha256/[0-9a-f]{64}: layer blob "blobs/sha256/[0-9a-f]{64}" named by blobs/sha256/[0-9a-f]{64} is not in the archive\\n$`)],
    ['a truncated tar', () => dockerSave([tar([{ type: 'file', name: 'var/lib/dpkg/status', data: STATUS12 }])]).subarray(0, 200_000), (f) => new RegExp(`^stella scan: ${esc(f)}: \\$: truncated tar entry "[0-9a-f]{64}/layer\\.tar"\\n$`)],
    ['a truncated layer inside a whole archive', () => {
      const layer = tar([{ type: 'file', name: 'var/lib/dpkg/status', data: STATUS12 }]);
      return dockerSave([layer.subarray(0, 300_000)]);
    }, (f) => new RegExp(`^stella scan: ${esc(f)}: \\$: truncated tar entry "[0-9a-f]{64}/layer\\.tar:var/lib/dpkg/status"\\n$`)],
    ['a manifest naming a missing config', () => dockerSave([tar([])], { manifest: [{ Config: 'nope.json', Layers: [] }] }), (f) => lineFor(f, 'nope.json', 'config "nope.json" named by manifest.json is not in the archive')],
    ['an unknown layer media type', () => ociLayout([tar([])], { layerMediaType: 'application/vnd.example.layer.v1.tar+lz4' }).tar, (f) => new RegExp(`^stella scan: ${esc(f)}: blobs/sha256/[0-9a-f]{64}#/layers/0: unknown layer media type "application/vnd\\.example\\.layer\\.v1\\.tar\\+lz4"\\n$`)],
  ];
  for (const [what, build, expected] of cases) {
    it(`bad archive: ${what}`, async () => {
      const dir = path.join(work, `bad-${what.replace(/\W+/g, '-')}`);
      mkdirSync(dir, { recursive: true });
      const f = path.join(dir, 'bad.tar');
      writeFileSync(f, build());
      const badHome = path.join(dir, 'home');
      const out = path.join(dir, 'out');
      const r = await runStella(['scan', f, '--feed', feedFile, '--policy', policyFile, '--out-dir', out, '--clock', CLOCK], { env: { ...env, STELLA_HOME: badHome }, cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(expected(f));
      expect(r.stdout).toBe('');
      expect(existsSync(out) ? listFiles(out) : []).toEqual([]);
      expect(existsSync(badHome) ? listFiles(badHome).filter((p) => p.startsWith('blobs')) : []).toEqual([]);
    });
  }
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
function lineFor(file: string, entry: string, message: string): RegExp {
  return new RegExp(`^stella scan: ${esc(file)}: ${esc(entry)}: ${esc(message)}\\n$`);
}
