// Version order per ecosystem: the edge cases of SemVer 2.0.0, Go module versions, PEP 440 and Maven.
import { describe, expect, it } from 'vitest';
import {
  compareGeneric,
  compareGo,
  compareMaven,
  comparePep440,
  compareSemver,
  compareVersions,
  isPseudoVersion,
  normalizePep440,
  schemeFor,
} from '../../src/scanner/versions/index.js';

/** Every pair in `ascending` compares in that order (both directions), equal pairs excluded. */
function expectAscending(cmp: (a: string, b: string) => number, ascending: string[]): void {
  for (let i = 0; i < ascending.length; i++) {
    for (let j = i + 1; j < ascending.length; j++) {
      expect([ascending[i], ascending[j], Math.sign(cmp(ascending[i], ascending[j]))]).toEqual([ascending[i], ascending[j], -1]);
      expect([ascending[j], ascending[i], Math.sign(cmp(ascending[j], ascending[i]))]).toEqual([ascending[j], ascending[i], 1]);
    }
  }
}

describe('semver (npm, crates.io)', () => {
  it('orders the SemVer 2.0.0 §11 precedence example', () => {
    expectAscending(compareSemver, [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '2.0.0',
      '2.1.0',
      '2.1.1',
    ]);
  });
  it('compares numbers numerically, not as text', () => {
    expectAscending(compareSemver, ['1.9.0', '1.10.0', '1.100.0', '10.0.0']);
    expect(compareSemver('99999999999999999999.0.0', '99999999999999999998.0.0')).toBe(1);
  });
  it('ignores build metadata and accepts loose forms', () => {
    expect(compareSemver('1.0.0+build.1', '1.0.0+build.2')).toBe(0);
    expect(compareSemver('1.0.0-rc.1+x', '1.0.0-rc.1')).toBe(0);
    expect(compareSemver('v1.2.3', '1.2.3')).toBe(0);
    expect(compareSemver('=1.2.3', '1.2.3')).toBe(0);
    expect(compareSemver('1.2', '1.2.0')).toBe(0);
    expect(compareSemver('1', '1.0.0')).toBe(0);
    expect(compareSemver('1.2', '1.2.1')).toBe(-1);
  });
  it('numeric pre-release identifiers sort before alphanumeric ones', () => {
    expectAscending(compareSemver, ['1.0.0-1', '1.0.0-2', '1.0.0-10', '1.0.0-a', '1.0.0-a.1']);
  });
  it('is total on junk: valid versions sort after it', () => {
    expect(compareSemver('not-a-version', '0.0.1')).toBe(-1);
    expect(compareSemver('x', 'y')).toBe(-1);
  });
});

describe('Go module versions', () => {
  it('accepts the v prefix and ignores +incompatible', () => {
    expect(compareGo('v2.0.0+incompatible', 'v2.0.0')).toBe(0);
    expect(compareGo('v2.0.0+incompatible', '2.0.0')).toBe(0);
    expectAscending(compareGo, ['v1.9.9', 'v2.0.0+incompatible', 'v2.0.1+incompatible', 'v12.0.0+incompatible']);
  });
  it('sorts pseudo-versions as pre-releases of the version they precede', () => {
    expectAscending(compareGo, [
      'v0.0.0-20190802002840-cff245a6509b',
      'v0.0.0-20210405180319-a5a99cb37ef4',
      'v0.0.0-20210520170846-37e1c6afe023',
      'v0.0.1',
      'v0.3.5-0.20201125200606-c27b9fd57aec',
      'v0.3.5',
      'v1.2.3',
      'v1.2.4-0.20210101000000-abcdefabcdef',
      'v1.2.4-pre',
      'v1.2.4-pre.0.20210101000000-abcdefabcdef',
      'v1.2.4',
    ]);
    expect(compareVersions('Go', 'v0.0.0-20210405180319-a5a99cb37ef4', '0.0.0-20210520170846-37e1c6afe023')).toBe(-1);
  });
  it('recognises the three pseudo-version forms', () => {
    expect(isPseudoVersion('v0.0.0-20210405180319-a5a99cb37ef4')).toBe(true);
    expect(isPseudoVersion('v0.3.5-0.20201125200606-c27b9fd57aec')).toBe(true);
    expect(isPseudoVersion('v1.2.4-pre.0.20210101000000-abcdefabcdef')).toBe(true);
    expect(isPseudoVersion('v3.0.0-20200313102051-9f266ea9e77c+incompatible')).toBe(true);
    expect(isPseudoVersion('v1.2.3')).toBe(false);
    expect(isPseudoVersion('v1.2.3-rc.1')).toBe(false);
  });
});

describe('PEP 440 (PyPI)', () => {
  it('orders dev, pre, post and final releases as PEP 440 says', () => {
    expectAscending(comparePep440, [
      '1.0.dev0',
      '1.0a1.dev0',
      '1.0a1',
      '1.0a1.post0.dev0',
      '1.0a1.post0',
      '1.0a2',
      '1.0b1',
      '1.0rc1',
      '1.0',
      '1.0+local',
      '1.0.post0.dev0',
      '1.0.post0',
      '1.0.post1',
      '1.1.dev0',
      '1.1',
    ]);
  });
  it('treats 1.0 == 1.0.0 and normalises spellings', () => {
    expect(comparePep440('1.0', '1.0.0')).toBe(0);
    expect(comparePep440('1.0', '1.0.0.0')).toBe(0);
    expect(comparePep440('1.0alpha1', '1.0a1')).toBe(0);
    expect(comparePep440('1.0-ALPHA.1', '1.0a1')).toBe(0);
    expect(comparePep440('1.0beta2', '1.0b2')).toBe(0);
    expect(comparePep440('1.0c1', '1.0rc1')).toBe(0);
    expect(comparePep440('1.0pre1', '1.0rc1')).toBe(0);
    expect(comparePep440('1.0preview1', '1.0rc1')).toBe(0);
    expect(comparePep440('1.0a', '1.0a0')).toBe(0);
    expect(comparePep440('1.0-1', '1.0.post1')).toBe(0);
    expect(comparePep440('1.0rev1', '1.0.post1')).toBe(0);
    expect(comparePep440('1.0r1', '1.0.post1')).toBe(0);
    expect(comparePep440('1.0.dev', '1.0.dev0')).toBe(0);
    expect(comparePep440('v1.0', '1.0')).toBe(0);
    expect(comparePep440('01.02', '1.2')).toBe(0);
    expect(normalizePep440('1.0-ALPHA.1')).toBe('1.0a1');
    expect(normalizePep440('2!01.0-1.dev')).toBe('2!1.0.post1.dev0');
    expect(normalizePep440('1.0+Ubuntu-1')).toBe('1.0+ubuntu.1');
    expect(normalizePep440('not a version')).toBeNull();
  });
  it('epochs dominate the release', () => {
    expectAscending(comparePep440, ['2.0', '2013.10', '1!1.0', '1!2.0', '2!0.1']);
  });
  it('orders local versions after the public one, numbers after letters', () => {
    expectAscending(comparePep440, ['1.0', '1.0+abc', '1.0+abc.1', '1.0+ubuntu.1', '1.0+ubuntu.2', '1.0+ubuntu.10', '1.0+1', '1.0.post1']);
    expect(comparePep440('1.0+Ubuntu.1', '1.0+ubuntu-1')).toBe(0);
  });
  it('compares release segments numerically', () => {
    expectAscending(comparePep440, ['3.2', '3.2.6', '3.2.10rc1', '3.2.10', '3.2.10.post1', '3.10', '3.10.0.1']);
  });
  it('sorts legacy strings before valid versions', () => {
    expect(comparePep440('foo-bar', '0.0.1')).toBe(-1);
    expect(comparePep440('0.0.1', 'foo-bar')).toBe(1);
  });
});

describe('Maven', () => {
  it('follows ComparableVersion for qualifiers and padding', () => {
    expectAscending(compareMaven, [
      '1.0-alpha-1',
      '1.0-alpha2',
      '1.0-beta-1',
      '1.0-milestone-1',
      '1.0-rc-1',
      '1.0-SNAPSHOT',
      '1.0',
      '1.0-sp-1',
      '1.0-whatever',
      '1.0.1',
      '1.1',
    ]);
    expect(compareMaven('1', '1.0.0')).toBe(0);
    expect(compareMaven('1.0', '1-ga')).toBe(0);
    expect(compareMaven('2.9.10.Final', '2.9.10')).toBe(0);
    expect(compareMaven('1.0a1', '1.0-alpha-1')).toBe(0);
    expect(compareMaven('1.0cr1', '1.0rc1')).toBe(0);
    expect(compareMaven('1.0.0-rc1', '1-rc1')).toBe(0);
  });
  it('orders four-part jackson versions', () => {
    expectAscending(compareMaven, ['2.10.0', '2.10.0.1', '2.12.6', '2.12.6.1', '2.12.7', '2.13.0', '2.13.2', '2.13.2.1', '2.13.2.2']);
  });
});

describe('fallback and dispatch', () => {
  it('compares digit runs numerically and is total', () => {
    expectAscending(compareGeneric, ['1.2', '1.2.1', '1.10', '2']);
    expect(compareGeneric('1.01', '1.1')).not.toBe(0);
    expect(compareGeneric('1:2.3-1', '1:2.3-1')).toBe(0);
  });
  it('picks the scheme from the OSV ecosystem name, exactly', () => {
    expect(compareVersions('npm', '1.0.0-rc.1', '1.0.0')).toBe(-1);
    expect(compareVersions('crates.io', '1.5.4', '1.5.5')).toBe(-1);
    expect(compareVersions('PyPI', '1.0rc1', '1.0')).toBe(-1);
    expect(compareVersions('Maven', '1.0-SNAPSHOT', '1.0')).toBe(-1);
    expect(compareVersions('Go', 'v1.0.0-rc.1', 'v1.0.0')).toBe(-1);
    // `pypi` is not an OSV ecosystem name: generic order, where "rc1" is just text after "1.0".
    expect(compareVersions('pypi', '1.0rc1', '1.0')).toBe(1);
  });
});

describe('the orders issue 15 found wrong, per ecosystem', () => {
  it('pre-releases and tildes sort before the release; equal spellings are equal; v prefixes are understood', () => {
    const cases: Array<[string, string, string, number]> = [
      ['Packagist', '5.0.0-beta.1', '5.0.0', -1],
      ['Packagist', 'v5.0.0', '5.0.0', 0],
      ['RubyGems', '1.1.0.rc4', '1.1.0', -1],
      ['Debian:12', '11.0~b6-1', '11.0-1', -1],
      ['Debian', '0:0.0.0', '0.0.0', 0],
      ['Ubuntu:22.04:LTS', '1.1.1-1ubuntu2.1~18.04.5', '1.1.1-1ubuntu2.1', -1],
      ['Alpine:v3.19', '2.4.0_rc3-r0', '2.4.0-r0', -1],
      ['NuGet', '1.0.0-BETA', '1.0.0-beta', 0],
      ['NuGet', '1.0.0.1', '1.0.0', 1],
      ['AlmaLinux:9', '1:3.0.7-1.el9~rc1', '1:3.0.7-1.el9', -1],
      ['Red Hat:enterprise_linux:9', '1.0^git1', '1.0.1', -1],
      ['Maven', '2.0-1', '2.0.1', -1],
      ['Maven', '1.0.0-beta11', '1.0.0-beta.6', -1],
      ['Maven', '1-1', '1-ga-1', 0],
      ['Pub', '1.2.3', '1.2.3+1', -1],
      ['Hex', '1.0.0-rc.1', '1.0.0', -1],
      ['CRAN', '1.0-2', '1.0.10', -1],
      ['Hackage', '1.0', '1.0.0', -1],
    ];
    for (const [eco, a, b, want] of cases) {
      expect([eco, a, b, Math.sign(compareVersions(eco, a, b)), Math.sign(compareVersions(eco, b, a))]).toEqual([eco, a, b, want, want === 0 ? 0 : -want]);
    }
  });

  it('chooses the order from the ecosystem before the first ":", and only OSV-unordered ecosystems fall back', () => {
    expect(schemeFor('Ubuntu:Pro:18.04:LTS')).toBe('dpkg');
    expect(schemeFor('Alpine:v3.19')).toBe('apk');
    expect(schemeFor('Wolfi')).toBe('apk');
    expect(schemeFor('Rocky Linux:9')).toBe('rpm');
    expect(schemeFor('Azure Linux:3')).toBe('rpm');
    expect(schemeFor('openSUSE:Leap 15.5')).toBe('rpm');
    expect(schemeFor('Maven:https://repo.maven.apache.org/maven2')).toBe('maven');
    expect(schemeFor('GitHub Actions')).toBe('generic');
    expect(schemeFor('Linux')).toBe('generic');
  });
});
