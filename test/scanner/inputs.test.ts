// Input parsers on the real lockfiles and SBOMs of fixtures/third_party, plus every bad-input kind.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isStellaError, type StellaError } from '../../src/core/errors.js';
import { loadScanInput } from '../../src/scanner/inputs/load.js';
import {
  kindByName,
  parseCargoLock,
  parseCycloneDx,
  parseGoMod,
  parseInputDirectory,
  parseInputFile,
  parsePackageLock,
  parsePoetryLock,
  parseRequirements,
  parseSpdx,
} from '../../src/scanner/inputs/index.js';
import { nameFromInstallPath } from '../../src/scanner/inputs/package-lock.js';
import { filesFromTar } from '../../src/scanner/inputs/tar-read.js';
import { packTar } from '../../src/adapters/tar.js';
import type { ScanPackage } from '../../src/scanner/types.js';
import { THIRD_PARTY } from '../helpers/cli.js';
import { ALL_INPUTS, LOCK, SBOM } from './helpers.js';

const file = (p: string) => ({ name: p, bytes: readFileSync(p) });
const text = (name: string, s: string) => ({ name, bytes: Buffer.from(s, 'utf8') });
const find = (pkgs: ScanPackage[], name: string, version?: string) => pkgs.filter((p) => p.name === name && (version === undefined || p.version === version));

function thrown(fn: () => unknown): StellaError {
  try {
    fn();
  } catch (e) {
    if (isStellaError(e)) return e;
    throw e;
  }
  throw new Error('expected a StellaError');
}

describe('Cargo.lock', () => {
  it('reads ripgrep 13.0.0: registry crates with their dependency edges, not the workspace crates', () => {
    const r = parseCargoLock(file(LOCK('cargo/ripgrep-13.0.0/Cargo.lock')));
    expect(r.packages).toHaveLength(56);
    const regex = find(r.packages, 'regex', '1.5.4');
    expect(regex).toHaveLength(1);
    expect(regex[0]).toMatchObject({ ecosystem: 'crates.io', purl: 'pkg:cargo/regex@1.5.4' });
    expect(regex[0].dependsOn).toContain('pkg:cargo/aho-corasick@0.7.18');
    expect(find(r.packages, 'ripgrep')).toHaveLength(0);
    expect(find(r.packages, 'grep-searcher')).toHaveLength(0);
    expect(r.notes.join('\n')).toMatch(/10 workspace\/path\/git crate/);
  });
  it('reads bat v0.18.0 (regex 1.4.3)', () => {
    const r = parseCargoLock(file(LOCK('cargo/bat-v0.18.0/Cargo.lock')));
    expect(find(r.packages, 'regex', '1.4.3')).toHaveLength(1);
  });
  it('bad TOML names the line', () => {
    const e = thrown(() => parseCargoLock(text('Cargo.lock', 'version = 3\n\n[[package]]\nname = "x\nversion = "1"\n')));
    expect(e.oneLine()).toBe('Cargo.lock: line 4: unterminated string');
    const e2 = thrown(() => parseCargoLock(text('Cargo.lock', '[[package]]\nname = "x"\nsource = "registry+https://x"\n')));
    expect(e2.oneLine()).toBe('Cargo.lock: line 1: [[package]] x without a string `version`');
  });
});

describe('package-lock.json v2/v3', () => {
  it('maps install paths to names, nested and scoped', () => {
    expect(nameFromInstallPath('node_modules/a')).toBe('a');
    expect(nameFromInstallPath('node_modules/@babel/core/node_modules/@babel/traverse')).toBe('@babel/traverse');
    expect(nameFromInstallPath('node_modules/a/node_modules/b')).toBe('b');
    expect(nameFromInstallPath('packages/bundle')).toBeNull();
  });
  it('reads socket.io (v2): both @babel/traverse versions, the nested one resolved by path', () => {
    const r = parsePackageLock(file(LOCK('npm/socket.io/package-lock.json')));
    expect(r.packages).toHaveLength(353);
    const t = find(r.packages, '@babel/traverse').map((p) => p.version).sort();
    expect(t).toEqual(['7.12.5', '7.12.9']);
    expect(find(r.packages, '@babel/traverse', '7.12.9')[0].purl).toBe('pkg:npm/%40babel/traverse@7.12.9');
    // @babel/core's own nested @babel/traverse wins over the hoisted one (Node resolution).
    const core = r.packages.find((p) => p.name === '@babel/core' && p.dependsOn?.some((d) => d.includes('traverse')));
    expect(core?.dependsOn).toContain('pkg:npm/%40babel/traverse@7.12.9');
    expect(find(r.packages, 'ws').map((p) => p.version).sort()).toEqual(['7.4.6', '8.2.3']);
  });
  it('reads NodeGoat: five lodash versions under six install paths, one entry per version', () => {
    const r = parsePackageLock(file(LOCK('npm/nodegoat/package-lock.json')));
    expect(find(r.packages, 'lodash').map((p) => p.version).sort()).toEqual(['2.4.2', '4.13.1', '4.17.11', '4.17.20', '4.17.21']);
  });
  it('skips the root and the workspace links of sigstore-js', () => {
    const r = parsePackageLock(file(LOCK('npm/sigstore-js/package-lock.json')));
    expect(r.packages.find((p) => p.name === 'sigstore-monorepo')).toBeUndefined();
    expect(r.notes.join('\n')).toMatch(/14 workspace link/);
    expect(r.packages.every((p) => p.ecosystem === 'npm' && p.purl.startsWith('pkg:npm/'))).toBe(true);
  });
  it('truncated JSON names the file and the JSON path', () => {
    const bytes = readFileSync(LOCK('npm/socket.io/package-lock.json'));
    const e = thrown(() => parseInputFile({ name: 'package-lock.json', bytes: bytes.subarray(0, 2000) }));
    expect(e.code).toBe('JSON_INVALID');
    expect(e.oneLine()).toMatch(/^package-lock\.json: \$\.packages\["node_modules\/@babel\/[a-z-]+"\]\S*: truncated JSON/);
  });
  it('refuses lockfileVersion 1 and a missing version, with the path', () => {
    expect(thrown(() => parsePackageLock(text('package-lock.json', '{"lockfileVersion":1,"dependencies":{}}'))).oneLine()).toMatch(
      /^package-lock\.json: \$\.lockfileVersion: lockfileVersion 1 is not supported/,
    );
    expect(thrown(() => parsePackageLock(text('package-lock.json', '{"lockfileVersion":3,"packages":{"":{},"node_modules/x":{}}}'))).oneLine()).toBe(
      'package-lock.json: $.packages["node_modules/x"].version: expected a non-empty string, found nothing',
    );
  });
});

describe('poetry.lock', () => {
  it('reads poetry 1.1.0, keeping names locked at several versions (markers)', () => {
    const r = parsePoetryLock(file(LOCK('python/poetry-1.1.0/poetry.lock')));
    expect(r.packages).toHaveLength(83);
    expect(find(r.packages, 'keyring').map((p) => p.version).sort()).toEqual(['18.0.1', '20.0.1', '21.4.0']);
    expect(find(r.packages, 'urllib3', '1.25.10')[0]).toMatchObject({ ecosystem: 'PyPI', purl: 'pkg:pypi/urllib3@1.25.10' });
  });
  it('bad line → line number', () => {
    const e = thrown(() => parsePoetryLock(text('poetry.lock', '[[package]]\nname = "a"\nversion = "1"\nthis is not toml\n')));
    expect(e.oneLine()).toMatch(/^poetry\.lock: line 4: /);
  });
});

describe('requirements.txt', () => {
  it('reads netbox v3.0.0 pins, extras included', () => {
    const r = parseRequirements(file(LOCK('python/netbox-v3.0.0/requirements.txt')));
    expect(r.packages).toHaveLength(28);
    expect(find(r.packages, 'Django', '3.2.6')[0].purl).toBe('pkg:pypi/django@3.2.6');
    expect(find(r.packages, 'drf-yasg', '1.20.0')).toHaveLength(1);
  });
  it('skips ranges, includes and URLs with notes; comments and continuations are handled', () => {
    const r = parseRequirements(
      text('requirements.txt', '# top\n-r base.txt\nrequests==2.19.0  # pinned\nflask>=1.0\nurllib3[socks] == 1.24.1 ; python_version >= "3"\nsix==\\\n  1.16.0\nhttps://x.test/a.whl\n'),
    );
    expect(r.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['requests@2.19.0', 'six@1.16.0', 'urllib3@1.24.1']);
    expect(r.notes.join('\n')).toMatch(/-r base\.txt ignored/);
    expect(r.notes.join('\n')).toMatch(/1 requirement\(s\) without an exact == pin/);
    expect(r.notes.join('\n')).toMatch(/direct URL requirement ignored/);
  });
  it('bad line → line number', () => {
    expect(thrown(() => parseRequirements(text('requirements.txt', 'ok==1\n!!bad\n'))).oneLine()).toBe('requirements.txt: line 2: not a requirement: "!!bad"');
  });
});

describe('go.mod + go.sum', () => {
  it('reads node_exporter v1.0.0 require block, indirect included', () => {
    const dir = LOCK('go/node_exporter-v1.0.0');
    const r = parseGoMod(file(path.join(dir, 'go.mod')), file(path.join(dir, 'go.sum')));
    expect(r.packages).toHaveLength(32);
    expect(find(r.packages, 'golang.org/x/crypto')[0]).toMatchObject({ ecosystem: 'Go', version: 'v0.0.0-20200510223506-06a226fb4e37' });
    expect(find(r.packages, 'github.com/alecthomas/units')).toHaveLength(1); // `// indirect`
    expect(r.notes).toEqual([]);
  });
  it('applies replace directives; local replacements are dropped', () => {
    const r = parseGoMod(
      text(
        'go.mod',
        'module example.com/m\n\ngo 1.17\n\nrequire (\n\tgolang.org/x/net v0.0.1\n\texample.com/local v1.0.0 // indirect\n)\nrequire github.com/a/b v1.2.3\n\nreplace golang.org/x/net => golang.org/x/net v0.7.0\nreplace example.com/local => ../local\n',
      ),
    );
    expect(r.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['github.com/a/b@v1.2.3', 'golang.org/x/net@v0.7.0']);
    expect(r.notes.join('\n')).toMatch(/1 module\(s\) replaced by local directories/);
  });
  it('bad directive and bad go.sum → line numbers', () => {
    expect(thrown(() => parseGoMod(text('go.mod', 'module m\nfrobnicate x\n'))).oneLine()).toBe('go.mod: line 2: unknown go.mod directive "frobnicate"');
    expect(thrown(() => parseGoMod(text('go.mod', 'module m\nrequire (\n a v1\n'))).oneLine()).toMatch(/^go\.mod: line 4: unterminated require/);
    expect(thrown(() => parseGoMod(text('go.mod', 'module m\n'), text('go.sum', 'x v1 h1:a=\nbroken\n'))).oneLine()).toBe(
      'go.sum: line 2: expected "module version h1:hash"',
    );
  });
});

describe('CycloneDX JSON', () => {
  it('reads every spec version present (1.2, 1.4, 1.5, 1.6) with purl → ecosystem mapping', () => {
    const eco = (f: string) => [...new Set(parseCycloneDx(file(SBOM(f))).packages.map((p) => p.ecosystem))].sort();
    expect(eco('cyclonedx/keycloak-10.0.2.maven.cdx-1.2.json')).toEqual(['Maven']);
    expect(eco('cyclonedx/mongo-image.deb-golang.cdx-1.4.json')).toEqual(['Debian', 'Go']);
    expect(eco('cyclonedx/apache-airflow-2.8.0-python3.10.cdx-1.5.json')).toEqual(['PyPI', 'npm']);
    expect(eco('cyclonedx/fluentd-image.deb-gem.cdx-1.6.json')).toEqual(['Debian', 'RubyGems']);
    const k = parseCycloneDx(file(SBOM('cyclonedx/keycloak-10.0.2.maven.cdx-1.2.json'))).packages;
    expect(find(k, 'org.yaml:snakeyaml', '1.20')).toHaveLength(1);
  });
  it('reads the dependency graph of Juice Shop as purl edges', () => {
    const r = parseCycloneDx(file(SBOM('cyclonedx/juice-shop-14.1.1.npm.cdx-1.6.json')));
    const withDeps = r.packages.filter((p) => p.dependsOn?.length);
    expect(withDeps.length).toBeGreaterThan(100);
    const purls = new Set(r.packages.map((p) => p.purl));
    expect(withDeps.every((p) => p.dependsOn!.every((d) => purls.has(d)))).toBe(true);
  });
  it('walks nested components', () => {
    const doc = {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      components: [{ type: 'library', name: 'a', 'bom-ref': 'a', purl: 'pkg:npm/a@1.0.0', components: [{ type: 'library', name: 'b', purl: 'pkg:npm/%40s/b@2.0.0' }] }],
    };
    const r = parseCycloneDx(text('bom.json', JSON.stringify(doc)));
    expect(r.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['@s/b@2.0.0', 'a@1.0.0']);
    expect(r.packages[0].location).toBe('bom.json#$.components[0].components[0]');
  });
  it('bad specVersion, bad components and a malformed purl name the path', () => {
    expect(thrown(() => parseCycloneDx(text('bom.json', '{"bomFormat":"CycloneDX","specVersion":"2.0"}'))).oneLine()).toMatch(/^bom\.json: \$\.specVersion: unsupported/);
    expect(thrown(() => parseCycloneDx(text('bom.json', '{"bomFormat":"CycloneDX","specVersion":"1.6","components":{}}'))).oneLine()).toBe(
      'bom.json: $.components: expected an array of components',
    );
    expect(thrown(() => parseCycloneDx(text('bom.json', '{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"x","purl":"pkg:npm/%zz@1"}]}'))).oneLine()).toMatch(
      /^bom\.json: \$\.components\[0\]\.purl: invalid percent-encoding/,
    );
  });
});

describe('SPDX JSON', () => {
  it('reads 2.3 (kubectl image) and 2.2 (sbomqs), skipping Go (devel) main modules', () => {
    const k = parseSpdx(file(SBOM('spdx/kubectl-image.spdx-2.3.json')));
    expect(k.packages.length).toBe(79);
    expect(k.packages.some((p) => p.version === '(devel)')).toBe(false);
    expect(find(k.packages, 'k8s.io/kubernetes', 'v1.28.1')).toHaveLength(1);
    const s = parseSpdx(file(SBOM('spdx/sbomqs-0.0.15.gomod.spdx-2.2.json')));
    expect(find(s.packages, 'golang.org/x/net', 'v0.8.0')).toHaveLength(1);
  });
  it('maps apk purls to Alpine', () => {
    const a = parseSpdx(file(SBOM('spdx/alpine-image.spdx-2.2.json')));
    expect(a.packages).toHaveLength(14);
    expect(new Set(a.packages.map((p) => p.ecosystem))).toEqual(new Set(['Alpine']));
  });
  it('bad spdxVersion and packages → path', () => {
    expect(thrown(() => parseSpdx(text('s.json', '{"spdxVersion":"SPDX-3.0"}'))).oneLine()).toMatch(/^s\.json: \$\.spdxVersion: unsupported/);
    expect(thrown(() => parseSpdx(text('s.json', '{"spdxVersion":"SPDX-2.3","packages":[1]}'))).oneLine()).toBe('s.json: $.packages[0]: expected a package object');
  });
});

describe('detection and directories', () => {
  it('detects each real input by name and content', () => {
    const kinds = ALL_INPUTS.map((f) => parseInputFile(file(f)).files[0].kind);
    expect(kinds).toEqual([
      'cargo-lock', 'cargo-lock', 'go-mod', 'go-mod', 'package-lock', 'package-lock', 'package-lock', 'requirements', 'poetry-lock',
      'cyclonedx', 'cyclonedx', 'cyclonedx', 'cyclonedx', 'cyclonedx', 'cyclonedx', 'cyclonedx', 'cyclonedx', 'spdx', 'spdx', 'spdx',
    ]);
    expect(kindByName('requirements-dev.txt')).toBe('requirements');
    expect(kindByName('README.md')).toBeNull();
  });
  it('unknown input type → one line naming the file', () => {
    const e = thrown(() => parseInputFile(file(LOCK('cargo/ripgrep-13.0.0/Cargo.toml'))));
    expect(e.code).toBe('INPUT_UNSUPPORTED');
    expect(e.oneLine()).toMatch(/Cargo\.toml: \$: unknown input type; supported: /);
    expect(thrown(() => parseInputFile(text('x.json', '{"hello":1}'))).oneLine()).toMatch(/^x\.json: \$: unknown input type/);
  });
  it('a directory is every supported file in sorted order; go.sum pairs with its go.mod', () => {
    const r = loadScanInput(path.join(THIRD_PARTY, 'lockfiles'));
    expect(r.type).toBe('directory');
    expect(r.files.map((f) => f.name)).toEqual([
      'cargo/bat-v0.18.0/Cargo.lock',
      'cargo/ripgrep-13.0.0/Cargo.lock',
      'go/cyclonedx-gomod-v1.0.0/go.mod',
      'go/node_exporter-v1.0.0/go.mod',
      'npm/nodegoat/package-lock.json',
      'npm/sigstore-js/package-lock.json',
      'npm/socket.io/package-lock.json',
      'python/netbox-v3.0.0/requirements.txt',
      'python/poetry-1.1.0/poetry.lock',
    ]);
    expect(new Set(r.packages.map((p) => p.ecosystem))).toEqual(new Set(['crates.io', 'Go', 'npm', 'PyPI']));
    const purls = r.packages.map((p) => p.purl);
    expect(purls).toEqual([...purls].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
  it('the tar a replay restores parses to the same packages as the directory', () => {
    const dir = path.join(THIRD_PARTY, 'lockfiles/go');
    const direct = loadScanInput(dir);
    const files = ['cyclonedx-gomod-v1.0.0/go.mod', 'cyclonedx-gomod-v1.0.0/go.sum', 'node_exporter-v1.0.0/go.mod', 'node_exporter-v1.0.0/go.sum'];
    const tar = packTar(files.map((f) => ({ path: f, data: readFileSync(path.join(dir, f)) })));
    const restored = parseInputDirectory('input.tar', filesFromTar(tar, 'input.tar'));
    expect(restored.packages.map((p) => p.purl)).toEqual(direct.packages.map((p) => p.purl));
  });
  it('a tar entry escaping the root is refused', () => {
    const tar = packTarRaw('../evil/go.mod', 'module m\n');
    expect(thrown(() => filesFromTar(tar, 'in.tar')).code).toBe('BUNDLE_UNSAFE');
  });
  it('a directory without any supported file → one line', () => {
    expect(thrown(() => loadScanInput(path.join(THIRD_PARTY, 'jcs'))).oneLine()).toMatch(/jcs: \$: no supported input file in the directory/);
  });
});

/** A one-entry ustar archive written by hand (packTar refuses unsafe names, as it should). */
function packTarRaw(name: string, body: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(Buffer.byteLength(body).toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(body) / 512) * 512);
  data.write(body);
  return Buffer.concat([h, data, Buffer.alloc(1024)]);
}

describe('every other bad-input kind: one line naming the file and the JSON path or line', () => {
  const cdx = (body: string) => `{"bomFormat":"CycloneDX","specVersion":"1.5",${body}}`;
  const spdx = (body: string) => `{"spdxVersion":"SPDX-2.3",${body}}`;
  const cases: Array<[string, string, string]> = [
    ['bom.cdx.json', cdx('"components":[7]'), 'bom.cdx.json: $.components[0]: expected a component object'],
    ['bom.cdx.json', cdx('"components":[{"name":"x","purl":5}]'), 'bom.cdx.json: $.components[0].purl: purl must be a string'],
    ['bom.cdx.json', cdx('"components":[{"name":"x","purl":"pkg:npm/x@1"}],"dependencies":{}'), 'bom.cdx.json: $.dependencies: expected an array'],
    ['bom.cdx.json', cdx('"dependencies":[{"dependsOn":[]}]'), 'bom.cdx.json: $.dependencies[0]: expected {ref, dependsOn}'],
    ['bom.cdx.json', cdx('"components":[{"bom-ref":"a","purl":"pkg:npm/x@1"}],"dependencies":[{"ref":"a","dependsOn":"b"}]'), 'bom.cdx.json: $.dependencies[0].dependsOn: expected an array of refs'],
    ['bom.cdx.json', cdx('"components":[{"purl":"npm/x@1"}]'), 'bom.cdx.json: $.components[0].purl: invalid package URL "npm/x@1": must start with "pkg:"'],
    ['sbom.spdx.json', spdx('"packages":{}'), 'sbom.spdx.json: $.packages: expected an array of packages'],
    ['sbom.spdx.json', spdx('"packages":[{"externalRefs":{}}]'), 'sbom.spdx.json: $.packages[0].externalRefs: expected an array'],
    ['sbom.spdx.json', spdx('"packages":[],"relationships":"x"'), 'sbom.spdx.json: $.relationships: expected an array'],
    ['package-lock.json', '[1]', 'package-lock.json: $: expected a package-lock.json object'],
    ['package-lock.json', '{"lockfileVersion":3,"packages":[]}', 'package-lock.json: $.packages: expected the "packages" map of a v2/v3 lockfile'],
    ['package-lock.json', '{"lockfileVersion":3,"packages":{"node_modules/x":7}}', 'package-lock.json: $.packages["node_modules/x"]: expected a package entry object'],
    ['poetry.lock', '[[package]]\nversion = "1"\n', 'poetry.lock: line 1: [[package]] without a string `name`'],
    ['poetry.lock', '[[package]]\nname = "a"\nversion = 1\n', 'poetry.lock: line 1: [[package]] a without a string `version`'],
    ['poetry.lock', '[[package]]\nname = "a"\nfiles = [\n  {file = "a.whl" hash = "x"},\n]\n', "poetry.lock: line 4: expected ',' or '}' in inline table"],
    ['poetry.lock', '[[package]\nname = "a"\n', 'poetry.lock: line 1: malformed table header'],
    ['Cargo.lock', '[[package]]\nversion = "1.0.0"\n', 'Cargo.lock: line 1: [[package]] without a string `name`'],
    ['Cargo.lock', '[[package]]\nname = "a"\ndependencies = [\n "b",\n', 'Cargo.lock: line 5: unexpected end of file (a value is missing)'],
    ['go.mod', 'go 1.20\n', 'go.mod: line 1: no module directive'],
    ['go.mod', 'module m\nrequire a\n', 'go.mod: line 2: require needs "module version", found "a"'],
    ['go.mod', 'module m\nreplace a b\n', 'go.mod: line 2: replace needs "module [version] => target [version]"'],
  ];
  for (const [name, body, expected] of cases) {
    it(`${name}: ${expected.slice(name.length + 2)}`, () => {
      expect(thrown(() => parseInputFile(text(name, body))).oneLine()).toBe(expected);
    });
  }
  it('a truncated tar entry', () => {
    const tar = packTar([{ path: 'go.mod', data: Buffer.from('module m\n'.repeat(200)) }]);
    const e = thrown(() => filesFromTar(tar.subarray(0, 700), 'in.tar'));
    expect(e.oneLine()).toBe('in.tar: $: truncated tar entry "go.mod"');
  });
});
