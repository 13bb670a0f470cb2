// The matcher on the real OSV records in fixtures/: pinned (package, version, advisory) triples read off
// each record, the versions just outside every range, the record quirks listed in the fixtures README,
// alias merging, withdrawn records, the worker-order fault switch, and bad records.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { REPO, THIRD_PARTY } from '../helpers/cli.js';
import { buildMatchIndex, findingId, inRange, matchPackages, matchWithIndex } from '../../src/scanner/match.js';
import { compareSemver } from '../../src/scanner/versions/index.js';
import { StellaError } from '../../src/core/errors.js';
import type { Finding } from '../../src/core/formats.js';
import type { OsvRecordEntry, ScanPackage } from '../../src/scanner/types.js';
import { canonicalString } from '../../src/core/canonical/jcs.js';
import { loadAllOsv, lockfilePackages, pkg, record, sbomPackages } from './load.js';

const ALL = loadAllOsv();
const INDEX = buildMatchIndex(ALL);

/** Ids of the records behind the findings for one package version. */
function sourcesFor(ecosystem: string, name: string, version: string): string[] {
  return matchWithIndex([pkg(ecosystem, name, version)], INDEX).flatMap((f) => f.sources.map((s) => s.id)).sort();
}

/** [ecosystem, name, affected versions, unaffected versions, advisory id] — each read from the record. */
const PINS: Array<[string, string, string[], string[], string]> = [
  // crates.io: introduced 0, fixed 1.5.5 (bat pins 1.4.3, ripgrep 1.5.4).
  ['crates.io', 'regex', ['1.5.4', '1.4.3', '0.1.0', '1.5.5-alpha'], ['1.5.5', '1.6.0', '2.0.0'], 'GHSA-m5pq-gvj9-9vr8'],
  // npm: lodash introduced 0, fixed 4.17.21.
  ['npm', 'lodash', ['4.17.20', '2.4.2', '4.17.21-rc.1'], ['4.17.21', '4.17.22', '5.0.0'], 'GHSA-29mw-wpgm-hmr9'],
  // npm last_affected: lodash.trim / lodash.trimend ≤ 4.5.1 (same record, other affected entries).
  ['npm', 'lodash.trim', ['4.5.1', '0.0.1'], ['4.5.2', '4.6.0'], 'GHSA-29mw-wpgm-hmr9'],
  ['npm', 'ip', ['1.1.8', '1.1.5', '0.0.1'], ['1.1.9', '2.0.0'], 'GHSA-78xj-cgh5-2h22'],
  ['npm', 'request', ['2.88.2', '2.88.0'], ['2.88.3', '3.0.0'], 'GHSA-p8p7-x288-28g6'],
  ['npm', '@cypress/request', ['2.88.11'], ['2.88.12', '3.0.0'], 'GHSA-p8p7-x288-28g6'],
  // npm: two intervals for @babel/traverse incl. pre-releases, open-ended for babel-traverse.
  ['npm', '@babel/traverse', ['7.23.1', '7.0.0', '8.0.0-alpha.0', '8.0.0-alpha.3'], ['7.23.2', '7.24.0', '8.0.0-alpha.4', '8.0.0'], 'GHSA-67hx-6x53-jw92'],
  ['npm', 'babel-traverse', ['6.26.0', '0.0.1', '99.0.0'], [], 'GHSA-67hx-6x53-jw92'],
  // npm: ranges and an explicit versions list mixed.
  ['npm', 'y18n', ['3.2.1', '4.0.0', '5.0.0', '5.0.4'], ['3.2.2', '4.0.1', '4.0.3', '5.0.5'], 'GHSA-c4w7-xm78-47vh'],
  // npm + NuGet packages in one record: each ecosystem with its own package name.
  ['npm', 'moment', ['2.29.1', '2.0.0'], ['2.29.2', '2.30.1'], 'GHSA-8hfj-j24r-96c4'],
  ['NuGet', 'Moment.js', ['2.29.1'], ['2.29.2'], 'GHSA-8hfj-j24r-96c4'],
  // Maven: two intervals with four-part versions; snakeyaml below 2.0.
  ['Maven', 'com.fasterxml.jackson.core:jackson-databind', ['2.12.6', '2.13.0', '2.13.2', '2.10.4'], ['2.12.6.1', '2.12.7', '2.13.2.1', '2.14.0'], 'GHSA-57j2-w4cx-62h2'],
  ['Maven', 'org.yaml:snakeyaml', ['1.26', '1.33'], ['2.0', '2.2'], 'GHSA-mjmj-j48q-9wg2'],
  // Go, SEMVER range whose fix is a pseudo-version (module golang.org/x/net, import golang.org/x/net/html).
  ['Go', 'golang.org/x/net', ['v0.0.0-20210405180319-a5a99cb37ef4', 'v0.0.0-20210520170845-ffffffffffff'], ['v0.0.0-20210520170846-37e1c6afe023', 'v0.1.0'], 'GO-2021-0238'],
  // Go: a pseudo-version of v3.0.0 is a pre-release, so the release v3.0.0 is outside the range.
  ['Go', 'gopkg.in/yaml.v3', ['v3.0.0-20200313102051-9f266ea9e77c'], ['v3.0.0-20220521103104-8f96da9f5d5e', 'v3.0.0', 'v3.0.1'], 'GO-2022-0603'],
  ['Go', 'github.com/labstack/echo/v4', ['v4.1.17', 'v4.1.18-0.20201215153151-000000000000'], ['v4.1.18-0.20201215153152-4422e3b66b9f', 'v4.1.18'], 'GO-2021-0051'],
  // Go +incompatible on both sides of the comparison.
  ['Go', 'github.com/docker/distribution', ['v2.7.1+incompatible', 'v2.6.2+incompatible'], ['v2.8.0+incompatible', 'v2.8.1+incompatible'], 'GO-2022-0379'],
  ['Go', 'github.com/evanphx/json-patch', ['v0.5.1', 'v3.0.0+incompatible'], ['v0.5.2', 'v3.0.1-0.20180525145409-4c9aadca8f89+incompatible', 'v4.5.0+incompatible'], 'GO-2021-0076'],
  // PyPI (YAML): three intervals; PEP 503 name normalisation (`Django`); rc before the fix still affected.
  ['PyPI', 'Django', ['3.2.6', '3.2.10rc1', '3.1.13', '2.2.24', '3.2'], ['3.2.10', '3.2.10.post1', '3.0.14', '3.1.14', '2.1', '4.0'], 'PYSEC-2021-439'],
  ['PyPI', 'Pillow', ['8.3.1', '8.3.2.dev0'], ['8.3.2', '9.0.0'], 'PYSEC-2021-317'],
];

describe('pinned triples from the real records', () => {
  for (const [eco, name, yes, no, id] of PINS) {
    it(`${id}: ${eco} ${name}`, () => {
      for (const v of yes) expect([v, sourcesFor(eco, name, v)]).toEqual([v, expect.arrayContaining([id])]);
      for (const v of no) expect([v, sourcesFor(eco, name, v)]).toEqual([v, expect.not.arrayContaining([id])]);
    });
  }

  it('regex 1.5.4 → one finding CVE-2022-24713 with the GHSA as alias and the record as source', () => {
    const [f, ...rest] = matchWithIndex([pkg('crates.io', 'regex', '1.5.4', 'Cargo.lock')], INDEX);
    expect(rest).toEqual([]);
    const src = record('GHSA-m5pq-gvj9-9vr8');
    expect(f).toEqual({
      id: findingId('CVE-2022-24713', 'pkg:cargo/regex@1.5.4'),
      vulnerability_id: 'CVE-2022-24713',
      aliases: ['GHSA-m5pq-gvj9-9vr8'],
      package: { ecosystem: 'crates.io', name: 'regex', version: '1.5.4', purl: 'pkg:cargo/regex@1.5.4' },
      severity: 'high',
      cvss_vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
      cvss_score: 7.5,
      fixed_versions: ['1.5.5'],
      summary: src.record.summary,
      published: src.record.published,
      modified: src.record.modified,
      fix_available_since: src.record.published,
      sources: [{ id: 'GHSA-m5pq-gvj9-9vr8', path: 'osv/ghsa/GHSA-m5pq-gvj9-9vr8.json', sha256: src.sha256 }],
    });
    const bytes = readFileSync(path.join(THIRD_PARTY, 'osv/ghsa/GHSA-m5pq-gvj9-9vr8.json'));
    expect(f.sources[0].sha256).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  });

  it('finding ids are fnd_ + 16 hex of sha256(canonical [vulnerability_id, purl])', () => {
    const expected = createHash('sha256').update(canonicalString(['CVE-2022-24713', 'pkg:cargo/regex@1.5.4'])).digest('hex').slice(0, 16);
    expect(findingId('CVE-2022-24713', 'pkg:cargo/regex@1.5.4')).toBe(`fnd_${expected}`);
    expect(findingId('CVE-2022-24713', 'pkg:cargo/regex@1.5.4')).toMatch(/^fnd_[0-9a-f]{16}$/);
  });

  it('fixed_versions lists every fix of the package in version order; no fix → empty and null date', () => {
    const [babel] = matchWithIndex([pkg('npm', '@babel/traverse', '7.23.1')], INDEX);
    expect(babel.fixed_versions).toEqual(['7.23.2', '8.0.0-alpha.4']);
    const [django] = matchWithIndex([pkg('PyPI', 'django', '3.2.6')], INDEX).filter((f) => f.sources[0].id === 'PYSEC-2021-439');
    expect(django.fixed_versions).toEqual(['2.2.25', '3.1.14', '3.2.10']);
    expect(django.vulnerability_id).toBe('CVE-2021-44420');
    expect(django.aliases).toEqual(['GHSA-v6rh-hp5x-86rv', 'PYSEC-2021-439']);
    expect(django.package.purl).toBe('pkg:pypi/django@3.2.6');
    const [request] = matchWithIndex([pkg('npm', 'request', '2.88.2')], INDEX);
    expect(request.fixed_versions).toEqual([]);
    expect(request.fix_available_since).toBeNull();
    const [open] = matchWithIndex([pkg('npm', 'babel-traverse', '6.26.0')], INDEX);
    expect(open.fixed_versions).toEqual([]);
    expect(open.fix_available_since).toBeNull();
  });

  it('Go vulndb zero time (0001-01-01) counts as no date', () => {
    expect(record('GO-2022-1059').record.published).toBe('0001-01-01T00:00:00Z');
    const f = matchWithIndex([pkg('Go', 'golang.org/x/text', 'v0.3.5')], INDEX).find((x) => x.sources.some((s) => s.id === 'GO-2022-1059'))!;
    expect(f.published).toBeNull();
    expect(f.modified).toBeNull();
    expect(f.fix_available_since).toBeNull();
    expect(f.fixed_versions).toEqual(['0.3.8']);
  });
});

describe('record quirks (fixtures README §4)', () => {
  it('GHSA-j8xg-fqg3-53r7 names ecosystem "GitHub Actions": ecosystems compare exactly, so npm word-wrap is not matched', () => {
    expect(record('GHSA-j8xg-fqg3-53r7').record.affected![0].package).toEqual({ ecosystem: 'GitHub Actions', name: 'word-wrap' });
    expect(sourcesFor('npm', 'word-wrap', '1.2.3')).toEqual([]);
    expect(sourcesFor('GitHub Actions', 'word-wrap', '1.2.3')).toEqual(['GHSA-j8xg-fqg3-53r7']);
    expect(sourcesFor('GitHub Actions', 'word-wrap', '1.2.4')).toEqual([]);
  });
  it('GHSA-8hfj-j24r-96c4: the NuGet package name does not leak into npm', () => {
    expect(sourcesFor('npm', 'Moment.js', '2.29.1')).toEqual([]);
    expect(sourcesFor('NuGet', 'moment', '2.29.1')).toEqual([]);
  });
  it('GO records carry ecosystem_specific.imports; matching is per module', () => {
    const go = record('GO-2021-0238').record.affected![0];
    expect((go.ecosystem_specific as { imports: Array<{ path: string }> }).imports[0].path).toBe('golang.org/x/net/html');
    // The import path is not a module: nothing in GO-2021-0238 matches it.
    expect(sourcesFor('Go', 'golang.org/x/net/html', 'v0.0.0-20210405180319-a5a99cb37ef4')).toEqual([]);
  });
  it('withdrawn records are ignored (PYSEC-2021-13, PYSEC-2022-43059, GO-2022-0617)', () => {
    expect(record('PYSEC-2021-13').record.withdrawn).toBeDefined();
    expect(sourcesFor('PyPI', 'Flask-Caching', '2.1.0')).toEqual([]);
    expect(sourcesFor('PyPI', 'aiohttp', '3.9.1')).not.toContain('PYSEC-2022-43059');
    expect(sourcesFor('Go', 'k8s.io/kubernetes', 'v1.28.1')).not.toContain('GO-2022-0617');
    // The same record without its withdrawn mark would match: the version is in its versions list.
    const { withdrawn: _w, ...live } = record('PYSEC-2021-13').record;
    expect(matchPackages([pkg('PyPI', 'flask_caching', '1.10.1')], [{ ...record('PYSEC-2021-13'), record: live }]).length).toBe(1);
  });
  it('GIT ranges are ignored (PYSEC-2021-317 carries one next to its ECOSYSTEM range)', () => {
    const r = record('PYSEC-2021-317');
    const gitOnly = { ...r, record: { ...r.record, affected: r.record.affected!.map((a) => ({ ...a, versions: [], ranges: a.ranges!.filter((x) => x.type === 'GIT') })) } };
    expect(matchPackages([pkg('PyPI', 'pillow', '8.3.1')], [gitOnly])).toEqual([]);
    const [f] = matchPackages([pkg('PyPI', 'pillow', '8.3.1')], [r]);
    expect(f.fixed_versions).toEqual(['8.3.2']);
  });
  it('YAML versions lists stay strings (0.10 is not 0.1)', () => {
    const aio = record('PYSEC-2022-43059').record.affected![0].versions!;
    expect(aio).toContain('0.10.0');
    expect(aio.every((v) => typeof v === 'string')).toBe(true);
  });
});

describe('range evaluation', () => {
  it('sorts unsorted events by version before evaluating', () => {
    const events = [{ fixed: '2.0.0' }, { introduced: '1.5.0' }, { fixed: '1.2.0' }, { introduced: '0' }];
    expect(['0.1.0', '1.1.9', '1.5.0', '1.9.9'].map((v) => inRange(events, v, compareSemver))).toEqual([true, true, true, true]);
    expect(['1.2.0', '1.4.9', '2.0.0', '3.0.0'].map((v) => inRange(events, v, compareSemver))).toEqual([false, false, false, false]);
  });
  it('last_affected closes just after its version; introduced alone is open-ended', () => {
    const events = [{ introduced: '1.0.0' }, { last_affected: '1.4.0' }];
    expect(['0.9.0', '1.0.0', '1.4.0', '1.4.1'].map((v) => inRange(events, v, compareSemver))).toEqual([false, true, true, false]);
    expect(['0.0.1', '1000.0.0'].map((v) => inRange([{ introduced: '0' }], v, compareSemver))).toEqual([true, true]);
  });
});

describe('alias merge', () => {
  const ghsaFile = path.join(REPO, 'fixtures/extra/osv-ghsa/GHSA-ppp9-7jff-5vj2.json');
  const ghsaBytes = readFileSync(ghsaFile);
  const ghsa: OsvRecordEntry = {
    path: 'feeds/ghsa/Go/GHSA-ppp9-7jff-5vj2.json',
    sha256: `sha256:${createHash('sha256').update(ghsaBytes).digest('hex')}`,
    record: JSON.parse(ghsaBytes.toString('utf8')),
  };
  const go = record('GO-2021-0113');
  // proton-bridge pins this pseudo-version of golang.org/x/text.
  const text = pkg('Go', 'golang.org/x/text', 'v0.3.5-0.20201125200606-c27b9fd57aec');

  it('GO-2021-0113 + GHSA-ppp9-7jff-5vj2 (both CVE-2021-38561) become one finding', () => {
    const findings = matchPackages([text], [go, ghsa]);
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f.vulnerability_id).toBe('CVE-2021-38561');
    expect(f.aliases).toEqual(['GHSA-ppp9-7jff-5vj2', 'GO-2021-0113']);
    expect(f.sources.map((s) => s.id)).toEqual(['GHSA-ppp9-7jff-5vj2', 'GO-2021-0113']); // path order
    // Severity from the GHSA (the GO record has none); fix date from the earlier record naming a fix.
    expect([f.severity, f.cvss_score]).toEqual(['high', 7.5]);
    expect(f.fixed_versions).toEqual(['0.3.7']);
    expect(f.fix_available_since).toBe('2021-10-06T17:51:21Z');
    expect(f.published).toBe('2021-10-06T17:51:21Z');
    expect(f.summary).toBe('golang.org/x/text/language Out-of-bounds Read vulnerability');
  });
  it('merges transitively through a shared alias, and only per package', () => {
    const third: OsvRecordEntry = { ...ghsa, path: 'feeds/other/Go/X-1.json', record: { ...ghsa.record, id: 'X-1', aliases: ['GHSA-ppp9-7jff-5vj2'] } };
    const [f, ...rest] = matchPackages([text], [third, go, ghsa]);
    expect(rest).toEqual([]);
    expect(f.aliases).toEqual(['GHSA-ppp9-7jff-5vj2', 'GO-2021-0113', 'X-1']);
    // The GHSA also names the import path as a package: there only the GHSA matches.
    const lang = matchPackages([pkg('Go', 'golang.org/x/text/language', 'v0.3.6')], [go, ghsa]);
    expect(lang.map((x) => [x.vulnerability_id, x.aliases])).toEqual([['CVE-2021-38561', ['GHSA-ppp9-7jff-5vj2']]]);
  });
  it('without a CVE the smallest id by code units is chosen', () => {
    const a: OsvRecordEntry = { ...ghsa, path: 'a.json', record: { ...ghsa.record, id: 'PYSEC-1', aliases: ['GHSA-zzzz'] } };
    const b: OsvRecordEntry = { ...ghsa, path: 'b.json', record: { ...ghsa.record, id: 'GHSA-zzzz', aliases: [] } };
    const [f] = matchPackages([text], [a, b]);
    expect([f.vulnerability_id, f.aliases]).toEqual(['GHSA-zzzz', ['PYSEC-1']]);
  });
});

describe('real inputs against every OSV record', () => {
  const hint = JSON.parse(readFileSync(path.join(THIRD_PARTY, 'osv/EXPECTED-MATCHES.hint.json'), 'utf8')) as Record<string, Record<string, string[]>>;
  const withdrawn = new Set(ALL.filter((e) => e.record.withdrawn !== undefined).map((e) => e.record.id));
  for (const artifact of Object.keys(hint)) {
    it(`${artifact} agrees with the collector's hint except withdrawn records`, () => {
      const packages = artifact.startsWith('sboms/') ? sbomPackages(artifact) : lockfilePackages(artifact);
      const findings = matchWithIndex(packages, INDEX);
      const got = new Set(findings.flatMap((f) => f.sources.map((s) => `${s.id} ${f.package.name.toLowerCase()}@${f.package.version}`)));
      const expected = Object.entries(hint[artifact])
        .filter(([id]) => !withdrawn.has(id))
        .flatMap(([id, list]) => list.map((p) => `${id} ${p.toLowerCase()}`));
      expect([...got].sort()).toEqual([...new Set(expected)].sort());
      if (expected.length > 0) expect(findings.length).toBeGreaterThan(0);
    });
  }
});

describe('order and determinism', () => {
  const packages = lockfilePackages('lockfiles/npm/nodegoat/package-lock.json').concat(
    sbomPackages('sboms/cyclonedx/proton-bridge-1.8.0.gomod.cdx-1.2.json'),
    lockfilePackages('lockfiles/python/netbox-v3.0.0/requirements.txt'),
  );
  const canonical = (fs: Finding[]) => fs.map((f) => ({ ...f, sources: [...f.sources].sort((a, b) => (a.path < b.path ? -1 : 1)) })).sort((a, b) => (a.id < b.id ? -1 : 1));

  it('default output is sorted by (vulnerability_id, purl) and independent of input order', () => {
    const a = matchPackages(packages, ALL);
    const keys = a.map((f) => `${f.vulnerability_id}\u0000${f.package.purl}`);
    expect(keys).toEqual([...keys].sort());
    expect(new Set(a.map((f) => f.id)).size).toBe(a.length);
    const b = matchPackages([...packages].reverse(), [...ALL].reverse());
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
  it('a package listed twice yields one finding', () => {
    const twice = [pkg('crates.io', 'regex', '1.5.4', 'a/Cargo.lock'), pkg('crates.io', 'regex', '1.5.4', 'b/Cargo.lock')];
    expect(matchPackages(twice, ALL)).toHaveLength(1);
  });
  it('workerOrder {cpus}: same findings, order a deterministic function of cpus', () => {
    const sorted = matchPackages(packages, ALL);
    const runs = [1, 2, 3, 4].map((cpus) => matchPackages(packages, ALL, { workerOrder: { cpus } }));
    for (const r of runs) expect(canonical(r)).toEqual(canonical(sorted));
    expect(JSON.stringify(matchPackages(packages, ALL, { workerOrder: { cpus: 3 } }))).toBe(JSON.stringify(runs[2]));
    const raw = runs.map((r) => JSON.stringify(r));
    expect(new Set([...raw, JSON.stringify(sorted)]).size).toBe(5);
  });
  it('workerOrder changes the order of merged sources with the worker that visited them', () => {
    const ghsaBytes = readFileSync(path.join(REPO, 'fixtures/extra/osv-ghsa/GHSA-ppp9-7jff-5vj2.json'));
    const ghsa: OsvRecordEntry = { path: 'feeds/ghsa/GHSA-ppp9-7jff-5vj2.json', sha256: 'sha256:' + '0'.repeat(64), record: JSON.parse(ghsaBytes.toString('utf8')) };
    const input: ScanPackage[] = [pkg('npm', 'lodash', '4.17.20'), pkg('Go', 'golang.org/x/text', 'v0.3.6')];
    const orders = [1, 2].map((cpus) =>
      matchPackages(input, [record('GO-2021-0113'), ghsa], { workerOrder: { cpus } })
        .find((f) => f.vulnerability_id === 'CVE-2021-38561')!
        .sources.map((s) => s.id),
    );
    expect(orders[0]).toEqual(['GHSA-ppp9-7jff-5vj2', 'GO-2021-0113']);
    expect(orders[1]).toEqual(['GO-2021-0113', 'GHSA-ppp9-7jff-5vj2']);
  });
  it('rejects a non-positive cpus count', () => {
    expect(() => matchPackages(packages, ALL, { workerOrder: { cpus: 0 } })).toThrow(/positive integer/);
  });
});

describe('bad records', () => {
  const base = record('GHSA-m5pq-gvj9-9vr8');
  const cases: Array<[string, unknown, string]> = [
    ['affected not an array', { ...base.record, affected: {} }, '$.affected'],
    ['package name not a string', { ...base.record, affected: [{ package: { ecosystem: 'crates.io', name: 7 } }] }, '$.affected[0].package.name'],
    ['events missing', { ...base.record, affected: [{ package: { ecosystem: 'crates.io', name: 'regex' }, ranges: [{ type: 'ECOSYSTEM' }] }] }, '$.affected[0].ranges[0].events'],
    ['event with two kinds', { ...base.record, affected: [{ package: { ecosystem: 'crates.io', name: 'regex' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0', fixed: '1' }] }] }] }, '$.affected[0].ranges[0].events[0]'],
    ['event version not a string', { ...base.record, affected: [{ package: { ecosystem: 'crates.io', name: 'regex' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: 1.5 }] }] }] }, '$.affected[0].ranges[0].events[1].fixed'],
    ['versions not strings', { ...base.record, affected: [{ package: { ecosystem: 'PyPI', name: 'x' }, versions: ['1.0', 0.1] }] }, '$.affected[0].versions[1]'],
    ['id missing', { ...base.record, id: undefined }, '$.id'],
    ['aliases not an array', { ...base.record, aliases: 'CVE-1' }, '$.aliases'],
  ];
  for (const [what, bad, jsonPath] of cases) {
    it(`${what} → RECORD_INVALID naming the record file and ${jsonPath}`, () => {
      const entry = { ...base, record: bad } as OsvRecordEntry;
      let err: unknown;
      try {
        matchPackages([pkg('crates.io', 'regex', '1.5.4')], [record('GO-2021-0113'), entry]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StellaError);
      const e = err as StellaError;
      expect([e.code, e.file, e.path]).toEqual(['RECORD_INVALID', base.path, jsonPath]);
      expect(e.oneLine()).toBe(`${base.path}: ${jsonPath}: ${e.message}`);
      expect(e.oneLine()).not.toContain('\n');
    });
  }
});
