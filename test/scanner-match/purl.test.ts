// Package URLs per the purl spec's type rules, round-tripped through parsePurl.
import { describe, expect, it } from 'vitest';
import { ecosystemOfPurl, parsePurl, purlFor } from '../../src/scanner/purl.js';
import { StellaError } from '../../src/core/errors.js';
import { sbomPackages } from './load.js';

describe('purlFor', () => {
  it('writes each ecosystem per its purl type rules', () => {
    expect(purlFor('npm', '@babel/traverse', '7.23.1')).toBe('pkg:npm/%40babel/traverse@7.23.1');
    expect(purlFor('npm', 'lodash', '4.17.20')).toBe('pkg:npm/lodash@4.17.20');
    expect(purlFor('PyPI', 'Flask_Caching', '2.1.0')).toBe('pkg:pypi/flask-caching@2.1.0');
    expect(purlFor('PyPI', 'zope.interface', '5.4.0')).toBe('pkg:pypi/zope-interface@5.4.0');
    expect(purlFor('Go', 'golang.org/x/net', 'v0.0.0-20210405180319-a5a99cb37ef4')).toBe(
      'pkg:golang/golang.org/x/net@v0.0.0-20210405180319-a5a99cb37ef4',
    );
    expect(purlFor('Go', 'github.com/docker/docker', 'v20.10.7+incompatible')).toBe('pkg:golang/github.com/docker/docker@v20.10.7%2Bincompatible');
    expect(purlFor('crates.io', 'regex', '1.5.4')).toBe('pkg:cargo/regex@1.5.4');
    expect(purlFor('Maven', 'com.fasterxml.jackson.core:jackson-databind', '2.10.4')).toBe(
      'pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.4',
    );
    expect(purlFor('Debian', 'libc6', '2.31-13')).toBe('pkg:generic/libc6@2.31-13');
  });
});

describe('parsePurl', () => {
  it('decodes namespace, name, version, qualifiers and subpath', () => {
    expect(parsePurl('pkg:npm/%40babel/traverse@7.23.1')).toEqual({
      type: 'npm', namespace: '@babel', name: 'traverse', version: '7.23.1', qualifiers: {}, subpath: null,
    });
    expect(parsePurl('pkg:deb/debian/libc6@2.31-13?arch=amd64&distro=debian-11#usr/lib')).toEqual({
      type: 'deb', namespace: 'debian', name: 'libc6', version: '2.31-13', qualifiers: { arch: 'amd64', distro: 'debian-11' }, subpath: 'usr/lib',
    });
    expect(parsePurl('pkg:golang/github.com/docker/docker@v20.10.7%2Bincompatible').version).toBe('v20.10.7+incompatible');
    expect(parsePurl('pkg:pypi/requests').version).toBeNull();
  });
  it('round-trips purlFor for every ecosystem', () => {
    const cases: Array<[string, string, string]> = [
      ['npm', '@babel/traverse', '7.23.1'],
      ['PyPI', 'flask-caching', '2.1.0'],
      ['Go', 'golang.org/x/net', 'v0.0.0-20210405180319-a5a99cb37ef4'],
      ['crates.io', 'regex', '1.5.4'],
      ['Maven', 'org.yaml:snakeyaml', '1.26'],
    ];
    for (const [eco, name, version] of cases) {
      const p = parsePurl(purlFor(eco, name, version));
      expect(ecosystemOfPurl(p)).toEqual({ ecosystem: eco, name });
      expect(p.version).toBe(version);
    }
  });
  it('reads every purl of the real Juice Shop and keycloak SBOMs', () => {
    const juice = sbomPackages('sboms/cyclonedx/juice-shop-14.1.1.npm.cdx-1.6.json');
    const keycloak = sbomPackages('sboms/cyclonedx/keycloak-10.0.2.maven.cdx-1.2.json');
    expect(juice.length).toBeGreaterThan(1000);
    expect(keycloak.length).toBeGreaterThan(900);
    // Subpaths such as `#packages/babel-parser` are dropped; the scope is decoded.
    expect(juice.find((p) => p.name === '@babel/parser')?.purl).toBe('pkg:npm/%40babel/parser@7.24.7');
    expect(keycloak.filter((p) => p.name === 'org.yaml:snakeyaml').map((p) => p.version).sort()).toEqual(['1.14', '1.17', '1.19', '1.20']);
  });
  it('rejects malformed purls with INPUT_UNSUPPORTED', () => {
    for (const bad of ['npm/lodash@1', 'pkg:npm', 'pkg:npm/%E0%A4%A@1', 'pkg:1npm/x@1', 'pkg:npm/x?novalue']) {
      expect(() => parsePurl(bad)).toThrow(StellaError);
      try {
        parsePurl(bad);
      } catch (e) {
        expect((e as StellaError).code).toBe('INPUT_UNSUPPORTED');
        expect((e as StellaError).message).toContain(JSON.stringify(bad));
      }
    }
  });
});
