// OS packages against real OS advisories (fixtures/third_party/osv-os): ecosystems carry the release
// (`Ubuntu:18.04:LTS`, `Debian:9`, `Alpine:v3.18`, `AlmaLinux:9`), records are keyed by source package,
// versions compare in the distribution's own order. Installed packages are the real ones of the images
// in shared/data/os (named per test); where a release or version is swapped, the test says so.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { THIRD_PARTY } from '../helpers/cli.js';
import { loadRecordFile } from './load.js';
import { buildMatchIndex, genericOrderNotes, matchPackages } from '../../src/scanner/match.js';
import { osPackageOfPurl, osPurlFor, osvEcosystemFromOsRelease, parseOsRelease, parsePurl, type OsPackageType } from '../../src/scanner/purl.js';
import type { OsvRecordEntry, ScanPackage } from '../../src/scanner/types.js';

const OS_DIR = path.join(THIRD_PARTY, 'osv-os');
const RECORDS: OsvRecordEntry[] = ['ubuntu', 'debian', 'alpine', 'almalinux'].flatMap((d) =>
  readdirSync(path.join(OS_DIR, d))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadRecordFile(path.join(OS_DIR, d, f))),
);

// os-release of the images (shared/data/os/<image>/os-release), verbatim.
const UBUNTU_1804 = `NAME="Ubuntu"
VERSION="18.04.6 LTS (Bionic Beaver)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 18.04.6 LTS"
VERSION_ID="18.04"
HOME_URL="https://www.ubuntu.com/"
VERSION_CODENAME=bionic
UBUNTU_CODENAME=bionic
`;
const DEBIAN_10 = `PRETTY_NAME="Debian GNU/Linux 10 (buster)"
NAME="Debian GNU/Linux"
VERSION_ID="10"
VERSION="10 (buster)"
VERSION_CODENAME=buster
ID=debian
`;
const ALPINE_318 = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.18.4
PRETTY_NAME="Alpine Linux v3.18"
`;
const ALPINE_314 = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.14.2
PRETTY_NAME="Alpine Linux v3.14"
`;

function osPkg(type: OsPackageType, osRelease: string, name: string, version: string, sourceName?: string): ScanPackage {
  const fields = parseOsRelease(osRelease);
  const ecosystem = osvEcosystemFromOsRelease(fields);
  if (!ecosystem) throw new Error('no ecosystem');
  const purl = osPurlFor(type, fields, name, version, { arch: 'amd64', ...(sourceName ? { sourceName } : {}) });
  return { ecosystem, name, version, purl, location: 'test', ...(sourceName ? { sourceName } : {}) };
}

function pkgIn(ecosystem: string, name: string, version: string, sourceName?: string): ScanPackage {
  return { ecosystem, name, version, purl: `pkg:test/${encodeURIComponent(ecosystem)}/${name}@${encodeURIComponent(version)}`, location: 'test', ...(sourceName ? { sourceName } : {}) };
}

/** `RECORD-ID package-name` per finding's source record, sorted. */
function hits(packages: ScanPackage[], records = RECORDS): string[] {
  return matchPackages(packages, records)
    .flatMap((f) => f.sources.map((s) => `${s.id} ${f.package.name}`))
    .sort();
}

describe('OSV ecosystem identity from os-release and purls', () => {
  it('derives the release-scoped ecosystem OSV uses', () => {
    expect(osvEcosystemFromOsRelease(parseOsRelease(UBUNTU_1804))).toBe('Ubuntu:18.04:LTS');
    expect(osvEcosystemFromOsRelease(parseOsRelease(DEBIAN_10))).toBe('Debian:10');
    expect(osvEcosystemFromOsRelease(parseOsRelease(ALPINE_318))).toBe('Alpine:v3.18');
    expect(osvEcosystemFromOsRelease({ ID: 'ubuntu', VERSION_ID: '23.10', VERSION: '23.10 (Mantic Minotaur)' })).toBe('Ubuntu:23.10');
    expect(osvEcosystemFromOsRelease({ ID: 'almalinux', VERSION_ID: '9.3' })).toBe('AlmaLinux:9');
    expect(osvEcosystemFromOsRelease({ ID: 'rocky', VERSION_ID: '8.9' })).toBe('Rocky Linux:8');
    expect(osvEcosystemFromOsRelease({ ID: 'rhel', VERSION_ID: '9.2', CPE_NAME: 'cpe:/o:redhat:enterprise_linux:9::baseos' })).toBe('Red Hat:enterprise_linux:9');
    expect(osvEcosystemFromOsRelease({ ID: 'opensuse-leap', VERSION_ID: '15.5' })).toBe('openSUSE:Leap 15.5');
    expect(osvEcosystemFromOsRelease({ ID: 'sles', PRETTY_NAME: 'SUSE Linux Enterprise Server 15 SP5' })).toBe('SUSE:Linux Enterprise Server 15 SP5');
    expect(osvEcosystemFromOsRelease({ ID: 'mariner', VERSION_ID: '2.0' })).toBe('Azure Linux:2.0');
    expect(osvEcosystemFromOsRelease({ ID: 'wolfi' })).toBe('Wolfi');
    expect(osvEcosystemFromOsRelease({ ID: 'debian', VERSION_CODENAME: 'bookworm' })).toBe('Debian:12');
    expect(osvEcosystemFromOsRelease({ ID: 'fedora', VERSION_ID: '39' })).toBeNull();
  });

  it('writes purls with distro= and reads the ecosystem back from them', () => {
    const purl = osPurlFor('deb', { ID: 'debian', VERSION_ID: '11' }, 'openssl', '1.1.1n-0+deb11u3', { arch: 'amd64' });
    expect(purl).toBe('pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u3?arch=amd64&distro=debian-11');
    expect(osPackageOfPurl(parsePurl(purl))).toEqual({ ecosystem: 'Debian:11', name: 'openssl' });
    expect(osPurlFor('apk', parseOsRelease(ALPINE_318), 'musl-utils', '1.2.4-r0', { sourceName: 'musl' })).toBe(
      'pkg:apk/alpine/musl-utils@1.2.4-r0?distro=alpine-3.18.4&upstream=musl',
    );
    expect(osPackageOfPurl(parsePurl('pkg:apk/alpine/musl-utils@1.2.4-r0?arch=x86_64&distro=alpine-3.18.4&upstream=musl'))).toEqual({
      ecosystem: 'Alpine:v3.18', name: 'musl-utils', sourceName: 'musl',
    });
    expect(osPackageOfPurl(parsePurl('pkg:deb/ubuntu/libssl1.1@1.1.1-1ubuntu2.1~18.04.5?distro=bionic&upstream=openssl'))).toEqual({
      ecosystem: 'Ubuntu:18.04:LTS', name: 'libssl1.1', sourceName: 'openssl',
    });
    expect(osPackageOfPurl(parsePurl('pkg:deb/debian/libc6@2.31-13?upstream=glibc%402.31-13%2Bdeb11u5'))).toEqual({
      ecosystem: 'Debian', name: 'libc6', sourceName: 'glibc', sourceVersion: '2.31-13+deb11u5',
    });
    expect(osPackageOfPurl(parsePurl('pkg:rpm/almalinux/openssl-libs@3.0.7-24.el9?epoch=1&distro=almalinux-9.3'))).toEqual({ ecosystem: 'AlmaLinux:9', name: 'openssl-libs' });
    expect(osPurlFor('rpm', { ID: 'almalinux', VERSION_ID: '9.3' }, 'openssl-libs', '3.0.7-24.el9', { epoch: '1', arch: 'x86_64' })).toBe(
      'pkg:rpm/almalinux/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=almalinux-9.3&epoch=1',
    );
    expect(osPackageOfPurl(parsePurl('pkg:npm/left-pad@1.0.0'))).toBeNull();
  });
});

describe('Ubuntu 18.04 (shared/data/os/ubuntu-18.04-claircore) against real USNs', () => {
  // name, Source: (when dpkg lists one), Version: — copied from that image's dpkg status.
  const installed: Array<[string, string | undefined, string]> = [
    ['libsqlite3-0', 'sqlite3', '3.22.0-1ubuntu0.3'],
    ['libcurl3-gnutls', 'curl', '7.58.0-2ubuntu3.8'],
    ['apt', undefined, '1.6.12'],
    ['sudo', undefined, '1.8.21p2-3ubuntu1.2'],
    ['libssl1.1', 'openssl', '1.1.1-1ubuntu2.1~18.04.5'],
    ['dpkg', undefined, '1.19.0.5ubuntu2.3'],
    ['zlib1g', 'zlib', '1:1.2.11.dfsg-0ubuntu2'],
    ['libxml2', undefined, '2.9.4+dfsg1-6.1ubuntu1.3'],
    ['git', undefined, '1:2.17.1-1ubuntu0.7'],
    ['libtasn1-6', undefined, '4.13-2'],
    ['libzstd1', 'libzstd', '1.3.3+dfsg-2ubuntu1.1'],
  ];
  const packages = installed.map(([n, s, v]) => osPkg('deb', UBUNTU_1804, n, v, s));

  it('hits exactly the USNs whose 18.04 fix is above the installed version, by source package', () => {
    expect(hits(packages)).toEqual([
      'USN-4394-1 libsqlite3-0',
      'USN-4665-1 libcurl3-gnutls',
      'USN-4667-1 apt',
      'USN-4705-1 sudo',
      'USN-5051-1 libssl1.1',
      'USN-5328-1 libssl1.1',
      'USN-5446-1 dpkg',
      'USN-5570-1 zlib1g',
    ]);
    // Real non-hits: apt above USN-3863-1's fix, libxml2 and git exactly at their fix (USN-4274-1,
    // USN-4334-1), libtasn1-6 and libzstd named only for Ubuntu:Pro:16.04:LTS (USN-5352-1, USN-5593-1).
  });

  it('an installed version equal to the fix (with an epoch) is not affected; one revision below is', () => {
    expect(hits([osPkg('deb', UBUNTU_1804, 'git', '1:2.17.1-1ubuntu0.6')])).toEqual(['USN-4334-1 git']);
    expect(hits([osPkg('deb', UBUNTU_1804, 'git', '2.17.1-1ubuntu0.99')])).toEqual(['USN-4334-1 git']); // epoch 0 < 1
  });

  it('a binary without its Source: does not match the source-keyed record', () => {
    expect(hits([osPkg('deb', UBUNTU_1804, 'libssl1.1', '1.1.1-1ubuntu2.1~18.04.5')])).toEqual([]);
  });

  it('Ubuntu Pro is its own ecosystem: the Pro 16.04 record hits a Pro 16.04 package below its +esm fix only', () => {
    expect(hits([pkgIn('Ubuntu:Pro:16.04:LTS', 'libzstd1', '1.3.1+dfsg-1~ubuntu0.16.04.1+esm1', 'libzstd')])).toEqual(['USN-5593-1 libzstd1']);
    expect(hits([pkgIn('Ubuntu:Pro:16.04:LTS', 'libzstd1', '1.3.1+dfsg-1~ubuntu0.16.04.1+esm2', 'libzstd')])).toEqual([]);
    expect(hits([pkgIn('Ubuntu:16.04:LTS', 'libzstd1', '1.3.1+dfsg-1~ubuntu0.16.04.1+esm1', 'libzstd')])).toEqual([]);
  });
});

describe('Debian against real DLA/DSA records (all Debian:9 or Debian:7)', () => {
  it('Debian 10 packages (shared/data/os/debian-10-snyk-nginx) are not hit by Debian 9 records, even below their fix', () => {
    const deb10 = [osPkg('deb', DEBIAN_10, 'tzdata', '2019b-0+deb10u1'), osPkg('deb', DEBIAN_10, 'dpkg', '1.19.7')];
    expect(deb10.map((p) => p.ecosystem)).toEqual(['Debian:10', 'Debian:10']);
    expect(hits(deb10)).toEqual([]);
    // The same tzdata under Debian:9 is below DLA-3051-1's fix 2021a-0+deb9u4: it is the release that decides.
    expect(hits([pkgIn('Debian:9', 'tzdata', '2019b-0+deb10u1')])).toEqual(['DLA-3051-1 tzdata']);
  });

  it('orders ~ before the release: deb9u5 < deb9u6 (fix) < 1.1.0l-1', () => {
    expect(hits([pkgIn('Debian:9', 'openssl', '1.1.0l-1~deb9u5')])).toEqual(['DLA-3008-1 openssl']);
    expect(hits([pkgIn('Debian:9', 'openssl', '1.1.0l-1~deb9u6')])).toEqual([]);
    expect(hits([pkgIn('Debian:9', 'openssl', '1.1.0l-1')])).toEqual([]);
    expect(hits([pkgIn('Debian:9', 'libssl1.1', '1.1.0l-1~deb9u1', 'openssl')])).toEqual(['DLA-3008-1 libssl1.1']);
  });

  it('the source version, when dpkg records one, is what is compared', () => {
    // Source: openssl (1.1.0l-1~deb9u5) on a binNMU-style binary version.
    const p: ScanPackage = { ...pkgIn('Debian:9', 'libssl1.1', '1.1.0l-1~deb9u6+b1', 'openssl'), sourceVersion: '1.1.0l-1~deb9u5' };
    expect(hits([p])).toEqual(['DLA-3008-1 libssl1.1']);
  });

  // The probe: the record is written here (no public Debian 11 record is in the fixtures), in
  // the shape of osv.dev's DSA conversions.
  const deb11Record = (ecosystem: string): OsvRecordEntry => ({
    path: `probe/${ecosystem}.json`,
    sha256: 'sha256:' + '0'.repeat(64),
    record: {
      id: `PROBE-${ecosystem}`,
      modified: '2023-02-07T00:00:00Z',
      affected: [{ package: { ecosystem, name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1.1n-0+deb11u4' }] }] }],
    },
  });
  it('pkg:deb/debian/openssl@1.1.1n-0+deb11u3?distro=debian-11 is affected by a Debian:11 record fixed at deb11u4, not by Debian:12', () => {
    const purl = 'pkg:deb/debian/openssl@1.1.1n-0+deb11u3?arch=amd64&distro=debian-11';
    const p = parsePurl(purl);
    const os = osPackageOfPurl(p)!;
    const pkg: ScanPackage = { ecosystem: os.ecosystem, name: os.name, version: p.version!, purl, location: 'probe' };
    const records = [deb11Record('Debian:11'), deb11Record('Debian:12'), deb11Record('Debian')];
    expect(hits([pkg], records)).toEqual(['PROBE-Debian openssl', 'PROBE-Debian:11 openssl']);
    expect(hits([{ ...pkg, version: '1.1.1n-0+deb11u4' }], records)).toEqual([]);
  });
});

describe('Alpine against the real ALPINE-CVE-2025-26519 (musl, v3.16 … v3.24)', () => {
  it('hits musl and musl-utils (origin musl) on 3.18 (shared/data/os/alpine-3.18-scalibr), not on 3.14, where the record names no release', () => {
    const a318 = [osPkg('apk', ALPINE_318, 'musl', '1.2.4-r0', 'musl'), osPkg('apk', ALPINE_318, 'musl-utils', '1.2.4-r0', 'musl')];
    expect(hits(a318)).toEqual(['ALPINE-CVE-2025-26519 musl', 'ALPINE-CVE-2025-26519 musl-utils']);
    // shared/data/os/alpine-3.14-snyk: musl 1.2.2-r3 lies inside `introduced: 0.9.13`, but v3.14 is not listed.
    expect(hits([osPkg('apk', ALPINE_314, 'musl', '1.2.2-r3', 'musl')])).toEqual([]);
  });
  it('compares apk versions: -rN revisions and _git post-release suffixes', () => {
    expect(hits([pkgIn('Alpine:v3.18', 'musl', '1.2.4-r3')])).toEqual([]);
    expect(hits([pkgIn('Alpine:v3.18', 'musl', '1.2.4-r2')])).toEqual(['ALPINE-CVE-2025-26519 musl']);
    // v3.19's fix is 1.2.4_git20230717-r5: 1.2.4-r9 is below it (_git sorts after the bare release).
    expect(hits([pkgIn('Alpine:v3.19', 'musl', '1.2.4-r9')])).toEqual(['ALPINE-CVE-2025-26519 musl']);
    expect(hits([pkgIn('Alpine:v3.19', 'musl', '1.2.4_git20230717-r5')])).toEqual([]);
    expect(hits([pkgIn('Alpine:v3.19', 'musl', '1.2.4_git20230717-r4')])).toEqual(['ALPINE-CVE-2025-26519 musl']);
  });
});

describe('AlmaLinux against real ALSA records', () => {
  it('hits below the fix with rpm order (epoch, el9_0 releases), per release', () => {
    expect(hits([pkgIn('AlmaLinux:9', 'openssl-libs', '1:3.0.1-23.el9', 'openssl')])).toEqual(['ALSA-2022:6224 openssl-libs']);
    expect(hits([pkgIn('AlmaLinux:9', 'openssl-libs', '1:3.0.1-41.el9_0', 'openssl')])).toEqual([]);
    expect(hits([pkgIn('AlmaLinux:9', 'openssl-libs', '1:3.0.1-41.el9_0.1', 'openssl')])).toEqual([]);
    // Without the epoch 3.0.7 is still below 1:3.0.1: epoch 0 < 1.
    expect(hits([pkgIn('AlmaLinux:9', 'openssl', '3.0.7-24.el9')])).toEqual(['ALSA-2022:6224 openssl']);
    expect(hits([pkgIn('AlmaLinux:8', 'openssl', '1:1.1.1k-12.el8_9')])).toEqual(['ALSA-2026:0337 openssl']);
    expect(hits([pkgIn('AlmaLinux:8', 'openssl', '1:1.1.1k-14.el8_10')])).toEqual([]);
    expect(hits([pkgIn('AlmaLinux:9', 'zlib', '1.2.11-31.el9'), pkgIn('AlmaLinux:9', 'libcurl', '7.76.1-14.el9_0.4', 'curl')])).toEqual([
      'ALSA-2022:6157 libcurl',
      'ALSA-2022:7314 zlib',
    ]);
  });
  it('an rpm of another distribution (Azure Linux) is not matched by AlmaLinux records', () => {
    expect(hits([pkgIn('Azure Linux:2.0', 'openssl', '1.1.1k-21.cm2'), pkgIn('Rocky Linux:9', 'openssl', '1:3.0.1-23.el9')])).toEqual([]);
  });
});

describe('Red Hat product streams', () => {
  it('a Red Hat:enterprise_linux:9 package takes every stream of its product, not other products', () => {
    const rec = (eco: string): OsvRecordEntry => ({
      path: `probe/${eco}.json`,
      sha256: 'sha256:' + '1'.repeat(64),
      record: { id: `PROBE-${eco}`, modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: eco, name: 'curl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '7.76.1-26.el9' }] }] }] },
    });
    const records = [rec('Red Hat:enterprise_linux:9::appstream'), rec('Red Hat:enterprise_linux:9::baseos'), rec('Red Hat:enterprise_linux:8::baseos'), rec('Red Hat:rhel_eus:9.0::baseos')];
    expect(hits([pkgIn('Red Hat:enterprise_linux:9', 'curl', '7.76.1-19.el9')], records)).toEqual([
      'PROBE-Red Hat:enterprise_linux:9::appstream curl',
      'PROBE-Red Hat:enterprise_linux:9::baseos curl',
    ]);
  });
});

describe('generic-order notes', () => {
  it('name every package of an ecosystem OSV leaves unordered that was compared, and no other', () => {
    const rec: OsvRecordEntry = {
      path: 'probe/gha.json',
      sha256: 'sha256:' + '2'.repeat(64),
      record: { id: 'PROBE-GHA', modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'GitHub Actions', name: 'actions/x' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }] }] },
    };
    const index = buildMatchIndex([...RECORDS, rec]);
    const pkgs = [pkgIn('GitHub Actions', 'actions/x', '1.0.0'), pkgIn('GitHub Actions', 'actions/unrelated', '1.0.0'), pkgIn('Debian:9', 'openssl', '1.1.0l-1~deb9u5')];
    expect(genericOrderNotes(pkgs, index)).toEqual([
      'pkg:test/GitHub%20Actions/actions/x@1.0.0: OSV defines no version order for ecosystem "GitHub Actions"; compared with the generic order',
    ]);
    expect(genericOrderNotes(pkgs.slice(2), index)).toEqual([]);
  });
});
