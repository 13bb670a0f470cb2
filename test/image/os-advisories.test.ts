// Real OS advisories (fixtures/third_party/osv-os/{ubuntu,debian,alpine,almalinux}) against real OS
// inventories: hits where the installed version is below the fix, non-hits at or above it, in another
// release, or in another distribution. Every version relation the expectations rest on is checked with
// dpkg itself (`dpkg --compare-versions`), so they are dpkg's answers, not ours.
// NOTE for the merge: the hits need the release-aware matcher that compares OS packages by their source
// package with each ecosystem's own version order (issue 15 points 1–2); the non-hits hold either way.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { THIRD_PARTY } from '../helpers/cli.js';
import { matchPackages } from '../../src/scanner/match.js';
import { parseApkInstalled, parseDpkgStatus, parseRpmSqlite } from '../../src/scanner/inputs/os-packages.js';
import { parseOsRelease } from '../../src/scanner/inputs/os-release.js';
import { readScanInputAt } from '../../src/scanner/inputs/load.js';
import type { OsvRecord, OsvRecordEntry, ScanPackage } from '../../src/scanner/types.js';
import { sha256 } from './tar-build.js';

const OSV = path.join(THIRD_PARTY, 'osv-os');
const records: OsvRecordEntry[] = ['ubuntu', 'debian', 'alpine', 'almalinux'].flatMap((d) =>
  readdirSync(path.join(OSV, d))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const bytes = readFileSync(path.join(OSV, d, f));
      return { path: `feeds/${d}/${f}`, sha256: sha256(bytes), record: JSON.parse(bytes.toString('utf8')) as OsvRecord };
    }),
);
const byId = new Map(records.map((r) => [r.record.id, r.record]));
const osFile = (d: string, f: string) => ({ name: `${d}/${f}`, bytes: readFileSync(path.join(THIRD_PARTY, 'os', d, f)) });
const osOf = (d: string) => parseOsRelease(readFileSync(path.join(THIRD_PARTY, 'os', d, 'os-release'), 'utf8'));
const hitsOf = (pkgs: ScanPackage[]) => {
  const out = new Map<string, string[]>();
  for (const f of matchPackages(pkgs, records)) {
    const k = f.vulnerability_id;
    out.set(k, [...(out.get(k) ?? []), `${f.package.name}@${f.package.version}`].sort());
  }
  return out;
};
const dpkgLt = (a: string, b: string) => spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0;

/** The `fixed` of a record's entry for one source package in one ecosystem. */
function fixedFor(id: string, ecosystem: string, source: string): string {
  const rec = byId.get(id)!;
  const a = rec.affected!.find((x) => x.package?.ecosystem === ecosystem && x.package.name === source)!;
  const fixed = a.ranges!.flatMap((r) => r.events).find((e) => e.fixed)?.fixed;
  expect(fixed, `${id} ${source}`).toBeTruthy();
  return fixed!;
}

describe('Ubuntu 18.04 (claircore dpkg status) × 13 USNs', () => {
  const ECO = 'Ubuntu:18.04:LTS';
  const pkgs = parseDpkgStatus(osFile('ubuntu-18.04-claircore', 'status'), { os: osOf('ubuntu-18.04-claircore') }).packages;
  const src = (name: string) => pkgs.find((p) => p.name === name)!;
  // id → [source package, installed binaries]
  const HITS: Record<string, [string, string[]]> = {
    'USN-4394-1': ['sqlite3', ['libsqlite3-0@3.22.0-1ubuntu0.3']],
    'USN-4665-1': ['curl', ['libcurl3-gnutls@7.58.0-2ubuntu3.8']],
    'USN-4667-1': ['apt', ['apt@1.6.12', 'libapt-pkg5.0@1.6.12']],
    'USN-4705-1': ['sudo', ['sudo@1.8.21p2-3ubuntu1.2']],
    'USN-5051-1': ['openssl', ['libssl1.1@1.1.1-1ubuntu2.1~18.04.5', 'openssl@1.1.1-1ubuntu2.1~18.04.5']],
    'USN-5328-1': ['openssl', ['libssl1.1@1.1.1-1ubuntu2.1~18.04.5', 'openssl@1.1.1-1ubuntu2.1~18.04.5']],
    'USN-5446-1': ['dpkg', ['dpkg-dev@1.19.0.5ubuntu2.3', 'dpkg@1.19.0.5ubuntu2.3', 'libdpkg-perl@1.19.0.5ubuntu2.3']],
    'USN-5570-1': ['zlib', ['zlib1g@1:1.2.11.dfsg-0ubuntu2']],
  };
  const FIXED_ALREADY: Record<string, [string, string]> = {
    'USN-3863-1': ['apt', 'apt'],
    'USN-4274-1': ['libxml2', 'libxml2'],
    'USN-4334-1': ['git', 'git'],
  };

  it('dpkg agrees: every expected hit is below its fix, every already-fixed one at or above it', () => {
    for (const [id, [source, bins]] of Object.entries(HITS)) {
      for (const b of bins) expect(dpkgLt(b.slice(b.indexOf('@') + 1), fixedFor(id, ECO, source)), `${id} ${b}`).toBe(true);
      for (const b of bins) expect(src(b.slice(0, b.indexOf('@'))).sourceName).toBe(source);
    }
    for (const [id, [source, bin]] of Object.entries(FIXED_ALREADY)) expect(dpkgLt(src(bin).version, fixedFor(id, ECO, source)), id).toBe(false);
  });

  it('8 USNs hit the binaries built from the advisory source package (needs the release-aware matcher)', () => {
    const hits = hitsOf(pkgs);
    for (const [id, [, bins]] of Object.entries(HITS)) expect(hits.get(id), id).toEqual(bins);
  });

  it('no finding where the fix is installed, for Ubuntu Pro only records, or from other distributions', () => {
    const hits = hitsOf(pkgs);
    for (const id of [...Object.keys(FIXED_ALREADY), 'USN-5352-1', 'USN-5593-1']) expect(hits.has(id), id).toBe(false);
    expect([...hits.keys()].filter((id) => !id.startsWith('USN-'))).toEqual([]);
  });
});

describe('Alpine × ALPINE-CVE-2025-26519 (musl)', () => {
  const scan = (d: string) => parseApkInstalled(osFile(d, 'installed'), { os: osOf(d) }).packages;
  it('hits musl and musl-utils (origin musl) in 3.18 and 3.16, below the fixes of those releases (needs the release-aware matcher)', () => {
    expect(hitsOf(scan('alpine-3.18-scalibr')).get('ALPINE-CVE-2025-26519')).toEqual(['musl-utils@1.2.4-r0', 'musl@1.2.4-r0']);
    expect(hitsOf(scan('alpine-3.16-syft')).get('ALPINE-CVE-2025-26519')).toEqual(['musl-utils@1.2.3-r0', 'musl@1.2.3-r0']);
  });
  it('no finding in 3.14, 3.10 and 3.7: the record has no entry for those releases', () => {
    for (const d of ['alpine-3.14-snyk', 'alpine-3.10-trivy', 'alpine-3.7-snyk']) expect([...hitsOf(scan(d)).keys()], d).toEqual([]);
  });
});

describe('releases and distributions the records do not cover', () => {
  it('Debian 8, 10 and 12 have openssl, libxml2, dpkg, tzdata: the Debian 7/9 records do not hit them', () => {
    for (const d of ['debian-8-snyk-dockergoof', 'debian-10-snyk-nginx', 'debian-12-this-machine']) {
      const pkgs = parseDpkgStatus(osFile(d, 'status'), { os: osOf(d) }).packages;
      expect(pkgs.some((p) => p.sourceName === 'openssl' || p.sourceName === 'dpkg')).toBe(true);
      expect([...hitsOf(pkgs).keys()], d).toEqual([]);
    }
  });
  it('CBL-Mariner 2.0 has openssl, curl, glibc: AlmaLinux advisories do not hit it', () => {
    const pkgs = parseRpmSqlite(osFile('cbl-mariner-2.0-go-rpmdb', 'rpmdb.sqlite'), { os: osOf('cbl-mariner-2.0-go-rpmdb') }).packages;
    expect(pkgs.some((p) => p.sourceName === 'openssl')).toBe(true);
    expect([...hitsOf(pkgs).keys()]).toEqual([]);
  });
  it('the image archives: nginx on Debian 10 and alpine 3.14 have no OS findings', () => {
    for (const f of ['snyk-nginx-debian10.docker-save.tar', 'snyk-alpine-3.14.containerd-oci.tar']) {
      expect([...hitsOf(readScanInputAt(path.join(THIRD_PARTY, 'images', f)).parsed.packages).keys()], f).toEqual([]);
    }
  });
});
