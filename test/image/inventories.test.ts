// OS inventories from real images (fixtures/third_party/os, copied unmodified from ../shared/data/os):
// dpkg status checked field by field against dpkg-query itself over the same file, apk databases
// against their known package sets, the rpm sqlite database against better-sqlite3's reading of it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { THIRD_PARTY } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { parseApkInstalled, parseDpkgStatus, parseRpmSqlite, sourceRpmName } from '../../src/scanner/inputs/os-packages.js';
import { distroQualifier, osvEcosystem, parseOsRelease } from '../../src/scanner/inputs/os-release.js';
import { readTableBlobs } from '../../src/scanner/inputs/sqlite-read.js';
import { parseSpdx } from '../../src/scanner/inputs/spdx.js';
import type { StellaError } from '../../src/core/errors.js';

const TMP = tempDir('stella-inventories-');
const tmpDir = (prefix: string) => mkdtempSync(path.join(TMP, prefix));
const OS = (d: string, f: string) => path.join(THIRD_PARTY, 'os', d, f);
const file = (d: string, f: string) => ({ name: `${d}/${f}`, bytes: readFileSync(OS(d, f)) });
const osOf = (d: string) => parseOsRelease(readFileSync(OS(d, 'os-release'), 'utf8'));

/** dpkg-query's own view of a status file: installed packages with source name/version. */
function dpkgQuery(statusBytes: Uint8Array): Array<{ name: string; version: string; arch: string; source: string; sourceVersion: string; status: string }> {
  const admin = tmpDir('stella-dpkg-');
  mkdirSync(path.join(admin, 'updates'));
  mkdirSync(path.join(admin, 'info'));
  writeFileSync(path.join(admin, 'status'), statusBytes);
  const r = spawnSync('dpkg-query', [`--admindir=${admin}`, '-W', '-f', '${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\t${db:Status-Abbrev}\\n'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => {
      const [name, version, arch, source, sourceVersion, status] = l.split('\t');
      return { name, version, arch, source, sourceVersion, status: status.trim() };
    });
}

const DPKG = [
  { dir: 'ubuntu-18.04-claircore', count: 357, ecosystem: 'Ubuntu:18.04:LTS', distro: 'ubuntu-18.04', ns: 'ubuntu' },
  { dir: 'debian-8-snyk-dockergoof', count: 381, ecosystem: 'Debian:8', distro: 'debian-8', ns: 'debian' },
  { dir: 'debian-10-snyk-nginx', count: 84, ecosystem: 'Debian:10', distro: 'debian-10', ns: 'debian' },
  { dir: 'debian-12-this-machine', count: 733, ecosystem: 'Debian:12', distro: 'debian-12', ns: 'debian' },
];

describe('dpkg status', () => {
  for (const c of DPKG) {
    it(`${c.dir}: ${c.count} packages, each as dpkg-query reports it`, () => {
      const f = file(c.dir, 'status');
      const got = parseDpkgStatus(f, { os: osOf(c.dir) }).packages;
      const want = dpkgQuery(f.bytes).filter((q) => q.status === 'ii');
      expect(got).toHaveLength(c.count);
      expect(want).toHaveLength(c.count);
      const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
      expect(
        [...got].sort(byName).map((p) => ({ name: p.name, version: p.version, source: p.sourceName, sourceVersion: p.sourceVersion })),
      ).toEqual(want.sort(byName).map((q) => ({ name: q.name, version: q.version, source: q.source, sourceVersion: q.sourceVersion })));
      for (const p of got) {
        expect(p.ecosystem).toBe(c.ecosystem);
        expect(p.purl.startsWith(`pkg:deb/${c.ns}/`), p.purl).toBe(true);
        expect(p.purl).toContain(`distro=${c.distro}`);
        expect(p.location).toBe(f.name);
      }
    });
  }

  it('Ubuntu 18.04: libssl1.1 is a binary of source openssl, purl with arch and distro', () => {
    const pkgs = parseDpkgStatus(file('ubuntu-18.04-claircore', 'status'), { os: osOf('ubuntu-18.04-claircore') }).packages;
    const ssl = pkgs.find((p) => p.name === 'libssl1.1')!;
    expect(ssl).toMatchObject({ version: '1.1.1-1ubuntu2.1~18.04.5', sourceName: 'openssl', sourceVersion: '1.1.1-1ubuntu2.1~18.04.5', ecosystem: 'Ubuntu:18.04:LTS' });
    expect(ssl.purl).toBe('pkg:deb/ubuntu/libssl1.1@1.1.1-1ubuntu2.1~18.04.5?arch=amd64&distro=ubuntu-18.04&upstream=openssl');
    // Source with its own version: `Source: gcc-8` vs e.g. `Source: zlib` with an epoch-less version.
    const zlib = pkgs.find((p) => p.name === 'zlib1g')!;
    expect(zlib.sourceName).toBe('zlib');
    expect(zlib.version).toBe('1:1.2.11.dfsg-0ubuntu2');
  });

  it('a package marked removed (config files only) or purged is not reported; dpkg-query agrees', () => {
    const f = file('ubuntu-18.04-claircore', 'status');
    const text = Buffer.from(f.bytes).toString('utf8');
    const edited = text
      .replace(/(Package: sudo\nStatus: )install ok installed/, '$1deinstall ok config-files')
      .replace(/(Package: apt\nStatus: )install ok installed/, '$1purge ok not-installed');
    expect(edited).not.toBe(text);
    const bytes = Buffer.from(edited);
    const r = parseDpkgStatus({ name: 'status', bytes }, { os: osOf('ubuntu-18.04-claircore') });
    const names = new Set(r.packages.map((p) => p.name));
    expect(r.packages).toHaveLength(355);
    expect(names.has('sudo')).toBe(false);
    expect(names.has('apt')).toBe(false);
    expect(names.has('libapt-pkg5.0')).toBe(true);
    expect(r.notes).toEqual(['status: 2 dpkg package(s) not installed (removed, config files only, or half-installed): not reported']);
    const q = dpkgQuery(bytes);
    expect(q.find((x) => x.name === 'sudo')!.status).toBe('rc');
    expect(q.filter((x) => x.status === 'ii')).toHaveLength(355);
  });

  it('status.d (distroless): one paragraph per file, no Status line, .md5sums files ignored', () => {
    const text = readFileSync(OS('debian-10-snyk-nginx', 'status'), 'utf8');
    const paras = text.split(/\n\n+/).filter((p) => p.trim());
    const all = paras.flatMap((p) => parseDpkgStatus({ name: 'x', bytes: Buffer.from(p.replace(/^Status: .*\n/m, '')) }, { os: null }, { statusRequired: false }).packages);
    expect(all).toHaveLength(84);
    expect(all.every((p) => p.ecosystem === 'Debian')).toBe(true);
  });

  it('a paragraph without Package names the file and line', () => {
    let err: StellaError | undefined;
    try {
      parseDpkgStatus({ name: 'status', bytes: Buffer.from('Package: a\nStatus: install ok installed\nVersion: 1\n\nStatus: install ok installed\nVersion: 2\n') }, { os: null });
    } catch (e) {
      err = e as StellaError;
    }
    expect(err?.oneLine()).toBe('status: line 5: a dpkg status paragraph has no Package field');
  });
});

const APK = [
  { dir: 'alpine-3.7-snyk', count: 11, ecosystem: 'Alpine:v3.7', distro: 'alpine-3.7.0', musl: '1.1.18-r2' },
  { dir: 'alpine-3.10-trivy', count: 14, ecosystem: 'Alpine:v3.10', distro: 'alpine-3.10.4', musl: '1.1.22-r3' },
  { dir: 'alpine-3.14-snyk', count: 14, ecosystem: 'Alpine:v3.14', distro: 'alpine-3.14.9', musl: '1.2.2-r3' },
  { dir: 'alpine-3.16-syft', count: 14, ecosystem: 'Alpine:v3.16', distro: 'alpine-3.16.0', musl: '1.2.3-r0' },
  { dir: 'alpine-3.18-scalibr', count: 15, ecosystem: 'Alpine:v3.18', distro: 'alpine-3.18.4', musl: '1.2.4-r0' },
];

describe('apk installed database', () => {
  for (const c of APK) {
    it(`${c.dir}: ${c.count} packages; musl ${c.musl}, musl-utils from origin musl`, () => {
      const f = file(c.dir, 'installed');
      const pkgs = parseApkInstalled(f, { os: osOf(c.dir) }).packages;
      expect(pkgs).toHaveLength(c.count);
      // Independent count: one P: line per package block.
      expect(pkgs).toHaveLength(Buffer.from(f.bytes).toString('utf8').split('\n').filter((l) => l.startsWith('P:')).length);
      const musl = pkgs.find((p) => p.name === 'musl')!;
      expect(musl).toMatchObject({ version: c.musl, sourceName: 'musl', ecosystem: c.ecosystem });
      expect(musl.purl).toBe(`pkg:apk/alpine/musl@${c.musl}?arch=x86_64&distro=${c.distro}`);
      const utils = pkgs.find((p) => p.name === 'musl-utils');
      if (utils) expect(utils.sourceName).toBe('musl');
      const ssl = pkgs.find((p) => p.name === 'libssl1.1' || p.name === 'libssl3' || p.name === 'libssl1.0');
      if (ssl) expect(ssl.sourceName).toMatch(/^(openssl|libressl)/);
    });
  }

  it('alpine 3.16 database has the same name@version set as the alpine 3.16.2 SPDX SBOM', () => {
    const db = parseApkInstalled(file('alpine-3.16-syft', 'installed'), { os: null }).packages.map((p) => `${p.name}@${p.version}`).sort();
    const sbomFile = path.join(THIRD_PARTY, 'sboms/spdx/alpine-image.spdx-2.2.json');
    const sbom = parseSpdx({ name: sbomFile, bytes: readFileSync(sbomFile) }, JSON.parse(readFileSync(sbomFile, 'utf8'))).packages.map((p) => `${p.name}@${p.version}`).sort();
    expect(db).toEqual(sbom);
  });
});

describe('rpm sqlite database (CBL-Mariner 2.0)', () => {
  const DIR = 'cbl-mariner-2.0-go-rpmdb';

  it('the sqlite reader returns the same Packages rows as SQLite itself (better-sqlite3)', () => {
    // A copy: SQLite opens a WAL-mode database with -shm/-wal files beside it, even read-only.
    const copy = path.join(tmpDir('stella-rpmdb-'), 'rpmdb.sqlite');
    copyFileSync(OS(DIR, 'rpmdb.sqlite'), copy);
    const db = new Database(copy, { readonly: true });
    const rows = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all() as Array<{ hnum: number; blob: Buffer }>;
    db.close();
    const mine = readTableBlobs(readFileSync(OS(DIR, 'rpmdb.sqlite')), 'Packages', 'rpmdb.sqlite');
    expect(rows.length).toBe(129);
    expect(mine.map((r) => r.rowid)).toEqual(rows.map((r) => r.hnum));
    for (let i = 0; i < rows.length; i++) expect(Buffer.compare(Buffer.from(mine[i].blob), rows[i].blob), `row ${rows[i].hnum}`).toBe(0);
  });

  it('129 packages with name, epoch:version-release, arch and source rpm', () => {
    const os = osOf(DIR);
    expect(osvEcosystem(os)).toBe('Azure Linux:2.0');
    const pkgs = parseRpmSqlite(file(DIR, 'rpmdb.sqlite'), { os }).packages;
    expect(pkgs).toHaveLength(129);
    const libs = pkgs.find((p) => p.name === 'openssl-libs')!;
    expect(libs).toMatchObject({ version: '1.1.1k-7.cm2', sourceName: 'openssl', ecosystem: 'Azure Linux:2.0' });
    expect(libs.purl).toBe('pkg:rpm/mariner/openssl-libs@1.1.1k-7.cm2?arch=x86_64&distro=mariner-2.0&upstream=openssl');
    expect(pkgs.find((p) => p.name === 'glibc')!.version).toBe('2.34-2.cm2');
    expect(pkgs.find((p) => p.name === 'curl-libs')!.sourceName).toBe('curl');
    for (const p of pkgs) expect(p.version).toMatch(/^(\d+:)?[^-]+-[^-]+$/);
  });

  it('a file that is not SQLite, or a damaged page, is an error naming the file', () => {
    const bytes = Buffer.from(readFileSync(OS(DIR, 'rpmdb.sqlite')));
    const line = (b: Uint8Array) => {
      try {
        parseRpmSqlite({ name: 'rpmdb.sqlite', bytes: b }, { os: null });
      } catch (e) {
        return (e as StellaError).oneLine();
      }
      return 'no error';
    };
    expect(line(Buffer.from('not a db'))).toBe('rpmdb.sqlite: $: sqlite database: not an SQLite 3 database (bad header)');
    expect(line(bytes.subarray(0, 4096 * 3))).toMatch(/^rpmdb\.sqlite: \$: sqlite database: page \d+ is out of range \(the file has 3\)$/);
  });

  it('source rpm names: the name before version and release', () => {
    expect(sourceRpmName('openssl-1.1.1k-7.cm2.src.rpm')).toBe('openssl');
    expect(sourceRpmName('python-setuptools-wheel-59.6.0-1.cm2.src.rpm')).toBe('python-setuptools-wheel');
  });
});

describe('os-release → OSV ecosystem and purl distro', () => {
  it('every real os-release in the fixtures', () => {
    const got = ['ubuntu-18.04-claircore', 'debian-8-snyk-dockergoof', 'debian-10-snyk-nginx', 'debian-12-this-machine', 'alpine-3.7-snyk', 'alpine-3.18-scalibr', DIR_MARINER].map((d) => [
      osvEcosystem(osOf(d)),
      distroQualifier(osOf(d)),
    ]);
    expect(got).toEqual([
      ['Ubuntu:18.04:LTS', 'ubuntu-18.04'],
      ['Debian:8', 'debian-8'],
      ['Debian:10', 'debian-10'],
      ['Debian:12', 'debian-12'],
      ['Alpine:v3.7', 'alpine-3.7.0'],
      ['Alpine:v3.18', 'alpine-3.18.4'],
      ['Azure Linux:2.0', 'mariner-2.0'],
    ]);
  });

  it('other releases as OSV spells them', () => {
    const eco = (t: string) => osvEcosystem(parseOsRelease(t));
    expect(eco('ID=ubuntu\nVERSION_ID="22.04"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"\n')).toBe('Ubuntu:22.04:LTS');
    expect(eco('ID=ubuntu\nVERSION_ID="23.10"\nVERSION="23.10 (Mantic Minotaur)"\n')).toBe('Ubuntu:23.10');
    expect(eco('ID="almalinux"\nVERSION_ID="9.3"\n')).toBe('AlmaLinux:9');
    expect(eco('ID="rocky"\nVERSION_ID="8.9"\n')).toBe('Rocky Linux:8');
    expect(eco('ID=alpine\nVERSION_ID=3.19.1\n')).toBe('Alpine:v3.19');
    expect(eco('ID=debian\nPRETTY_NAME="Debian GNU/Linux trixie/sid"\n')).toBe('Debian');
    expect(eco('ID=azurelinux\nVERSION_ID="3.0"\n')).toBe('Azure Linux:3.0');
    expect(eco('ID=ubuntu\nVERSION_ID="24.04"\nVERSION="24.04"\n')).toBe('Ubuntu:24.04:LTS');
    expect(eco('ID=debian\nVERSION_CODENAME=bookworm\n')).toBe('Debian:12');
    expect(eco('ID="rhel"\nVERSION_ID="9.4"\nCPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"\n')).toBe('Red Hat:enterprise_linux:9');
    expect(eco('ID=plan9\n')).toBe('');
    expect(eco('# comment\nID=wolfi\n')).toBe('Wolfi');
  });
});
const DIR_MARINER = 'cbl-mariner-2.0-go-rpmdb';
