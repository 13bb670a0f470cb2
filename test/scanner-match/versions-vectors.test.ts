// Every comparison line of every vector file in fixtures/third_party/versions/ against our comparators.
// A handful of osv-scalibr lines disagree with the tool that defines the ecosystem's order; those are
// listed in DISPUTED with the real tool's answer (checked by running it) and asserted to give that answer.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { compareComposer, compareMaven, compareNuGet, compareRubyGems, compareVersions } from '../../src/scanner/versions/index.js';
import {
  SCALIBR_SUITE,
  claimHolds,
  claimsOfVectors,
  failures,
  readComposerComparatorTest,
  readMavenComparableVersionTest,
  readNuGetVersionComparerTests,
  readRubyGemsVersionTest,
  readVectorFile,
  type Claim,
  type VectorLine,
} from './vectors.js';

const APK = 'apk-tools 2.12.7 (Alpine 3.14, `apk version -t`) answers';
const PHP = "PHP 8.2's version_compare, which composer/semver's Comparator calls, answers";

/** file:line → [our (= the real tool's) sign, why the fixture's line is not the ecosystem's order]. */
const DISPUTED: Record<string, [number, string]> = {
  // Invalid apk versions: the fixture follows apk-tools 3's rules for invalid tokens, but Alpine 3.x
  // (every release OSV's Alpine records cover) ships apk-tools 2, whose answers are these. The
  // fixture's own comments say "on latest apk these are '<' but on 3.x they're '>'" for most of them.
  'osv-scalibr/alpine-versions.txt:4': [1, `${APK} 1-r-0 > 1-r0`],
  'osv-scalibr/alpine-versions.txt:5': [1, `${APK} 1-r-1 > 1-r0`],
  'osv-scalibr/alpine-versions.txt:15': [1, `${APK} 0.r1 > 0r2`],
  'osv-scalibr/alpine-versions.txt:24': [1, `${APK} 0.8.21.r2 > 0.8.21r2`],
  'osv-scalibr/alpine-versions.txt:27': [1, `${APK} 1.2.0A > 1.2.0d`],
  'osv-scalibr/alpine-versions.txt:28': [1, `${APK} 1.2.0D > 1.2.0d`],
  'osv-scalibr/alpine-versions.txt:40': [-1, `${APK} 1 < 1-ruff`],
  'osv-scalibr/alpine-versions.txt:47': [-1, `${APK} 1-ruff2 < 1--ruff1`],
  // `#` is not alphanumeric, so PHP's canonicalisation turns it into a separator: "1.2.3." ends in an
  // empty part, which sorts below both the end of "1.2.3" and the number 1.
  'osv-scalibr/packagist-versions.txt:94': [-1, `${PHP} -1 for version_compare('1.2.3.#', '1.2.3')`],
  'osv-scalibr/packagist-versions.txt:96': [-1, `${PHP} -1 for version_compare('1.2.3.#', '1.2.3.1')`],
};

const where = (l: VectorLine) => `${l.file}:${l.line}`;
const show = (ecosystem: string, ls: VectorLine[]) =>
  ls.slice(0, 20).map((l) => `${where(l)} ${l.a} ${l.op} ${l.b} got ${Math.sign(compareVersions(ecosystem, l.a, l.b))}`);

describe('osv-scalibr semantic/testdata (the peer suite, 72,076 lines)', () => {
  for (const { ecosystem, file } of SCALIBR_SUITE) {
    it(`${ecosystem}: every line of ${file}`, () => {
      const all = readVectorFile(`osv-scalibr/${file}`);
      expect(all.length).toBeGreaterThan(5);
      const lines = all.filter((l) => !(where(l) in DISPUTED));
      const bad = failures(lines, (a, b) => compareVersions(ecosystem, a, b));
      if (process.env.VECTOR_COUNTS) console.log(`VECTORS ${ecosystem} ${file} ${all.length - bad.length - (all.length - lines.length)}/${all.length} disputed=${all.length - lines.length}`);
      expect(show(ecosystem, bad)).toEqual([]);
    });
  }

  it('the disputed lines give the real tool’s answer, in both directions', () => {
    const byFile = new Map(SCALIBR_SUITE.map((s) => [`osv-scalibr/${s.file}`, s.ecosystem]));
    const seen: string[] = [];
    for (const [key, [expected]] of Object.entries(DISPUTED)) {
      const file = key.slice(0, key.lastIndexOf(':'));
      const line = readVectorFile(file).find((l) => where(l) === key);
      expect(line, key).toBeDefined();
      const eco = byFile.get(file)!;
      const got = [Math.sign(compareVersions(eco, line!.a, line!.b)), Math.sign(compareVersions(eco, line!.b, line!.a))];
      expect([key, got]).toEqual([key, [expected, -expected]]);
      seen.push(key);
    }
    expect(seen).toHaveLength(10);
  });
});

// ---- each ecosystem's own test suite -------------------------------------------------------------------

const MNG = 'Maven 3.9 changed ComparableVersion after the Version Order Specification that OSV orders Maven records by (and osv-scalibr implements)';
/** `file:line` (every claim of that line) or `file:line a rel b` (one claim) → why it is not OSV's order. */
const DISPUTED_OWN: Record<string, string> = {
  'maven/ComparableVersionTest.java:132 2.0.a < 2-1': `${MNG}: MNG-7644 reordered VERSIONS_NUMBER ("2.0.a" < "2-1"); by the specification ".qualifier" sorts after "-number"`,
  'maven/ComparableVersionTest.java:432': `${MNG}: MNG-6964 (1-0.alpha < 1); by the specification the trailing ".0" nulls go and 1-0.alpha = 1-alpha… sorts above 1`,
  'maven/ComparableVersionTest.java:433': `${MNG}: MNG-6964 (1-0.beta < 1)`,
  'maven/ComparableVersionTest.java:470': `${MNG}: MNG-7644 (1.0.0.X1 < 1.0.0-X2). Taking MNG-7644 breaks 20 lines of osv-scalibr's maven-versions-generated.txt, e.g. 2.9.0-1 < 2.9.0.RC1`,
  'maven/ComparableVersionTest.java:472': `${MNG}: MNG-7644 (2-X = 2.0.X)`,
  'maven/ComparableVersionTest.java:473': `${MNG}: MNG-7644 (2-X = 2.0.0.X)`,
  'maven/ComparableVersionTest.java:474': `${MNG}: MNG-7644 (2.0.X = 2.0.0.X)`,
  'maven/ComparableVersionTest.java:484': `${MNG}: MNG-7714 (1.0.final-redhat < 1.0-sp1-redhat); by the specification the unknown qualifier "redhat" after the release outranks "sp"`,
  'maven/ComparableVersionTest.java:485': `${MNG}: MNG-7714`,
  'maven/ComparableVersionTest.java:486': `${MNG}: MNG-7714`,
  // NuGet: the NotEqual theory calls object.Equals on the two *strings*; by VersionComparer.Default they
  // are equal (case-insensitive label, metadata ignored), as the file's own Equal theory shows for
  // "1.0.0-BETA+AA" = "1.0.0-beta+aa" and "1.0.0" = "1.0.0+beta".
  'nuget/VersionComparerTests.cs:60': 'the test compares the strings, not the versions',
  // Composer orders two different dev- branches not at all (neither <, = nor >): no total order can
  // agree with all six dev-vs-dev rows; we order branches by name and never call two equal.
  'composer/ComparatorTest.php:139': 'Composer leaves two branches unordered; ours: dev-foo > dev-bar by name',
  'composer/ComparatorTest.php:166': 'Composer leaves two branches unordered; ours: dev-foo < dev-master by name',
};

describe("each ecosystem's own test suite", () => {
  const suites: Array<[string, () => Claim[], (a: string, b: string) => number, number]> = [
    ['Maven: apache/maven ComparableVersionTest.java', () => claimsOfVectors(readMavenComparableVersionTest('maven/ComparableVersionTest.java')), compareMaven, 988],
    ['RubyGems: rubygems test_gem_version.rb', () => readRubyGemsVersionTest('rubygems/test_gem_version.rb'), compareRubyGems, 26],
    ['NuGet: NuGet.Client VersionComparerTests.cs', () => readNuGetVersionComparerTests('nuget/VersionComparerTests.cs'), compareNuGet, 29],
    ['Packagist: composer/semver ComparatorTest.php', () => readComposerComparatorTest('composer/ComparatorTest.php'), compareComposer, 57],
  ];
  for (const [name, read, cmp, count] of suites) {
    it(`${name}: every claim holds, except the disputed lines, which all fail`, () => {
      const claims = read();
      expect(claims).toHaveLength(count);
      const key = (c: Claim) => `${c.file}:${c.line}`;
      const disputed = (c: Claim) => key(c) in DISPUTED_OWN || `${key(c)} ${c.a} ${c.rel} ${c.b}` in DISPUTED_OWN;
      const bad = claims.filter((c) => !disputed(c) && !claimHolds(c, cmp));
      if (process.env.VECTOR_COUNTS) {
        const n = claims.filter(disputed).length;
        console.log(`VECTORS-OWN ${name} ${claims.length - bad.length - n}/${claims.length} disputed=${n}`);
      }
      expect(bad.map((c) => `${key(c)} ${c.a} ${c.rel} ${c.b} (${c.holds ? 'holds' : 'does not hold'})`)).toEqual([]);
      // A disputed claim is one where we really answer otherwise (no stale entries).
      for (const c of claims.filter(disputed)) expect([key(c), c.a, c.b, claimHolds(c, cmp)]).toEqual([key(c), c.a, c.b, false]);
    });
  }
});

// ---- the real tool, where this machine has it --------------------------------------------------------

describe('dpkg itself (dpkg --compare-versions, installed on every Debian machine)', () => {
  it('agrees with our Debian order on every hand-written line and every 80th generated line', () => {
    const sample = [
      ...readVectorFile('osv-scalibr/debian-versions.txt'),
      ...readVectorFile('osv-scalibr/debian-versions-generated.txt').filter((_, i) => i % 80 === 0),
    ];
    expect(sample.length).toBeGreaterThan(200);
    const dpkg = (a: string, op: string, b: string): boolean => {
      const r = spawnSync('dpkg', ['--compare-versions', a, op, b], { encoding: 'utf8' });
      if (r.error) throw r.error;
      if (r.status !== 0 && r.status !== 1) throw new Error(`dpkg --compare-versions ${a} ${op} ${b}: ${r.stderr}`);
      return r.status === 0;
    };
    const disagree: string[] = [];
    for (const l of sample) {
      const real = dpkg(l.a, 'lt', l.b) ? -1 : dpkg(l.a, 'eq', l.b) ? 0 : 1;
      const ours = Math.sign(compareVersions('Debian', l.a, l.b));
      if (real !== ours) disagree.push(`${l.file}:${l.line} ${l.a} ${l.b}: dpkg ${real}, ours ${ours}`);
    }
    expect(disagree).toEqual([]);
  });
});

describe('rpm itself (rpm.vercmp of rpm ≥ 4.16, through `rpm --eval` Lua)', () => {
  it('agrees with our rpm order on every line of redhat-versions.txt', () => {
    const lines = readVectorFile('osv-scalibr/redhat-versions.txt');
    const dir = tempDir('stella-rpmvercmp-');
    const pairs = path.join(dir, 'pairs.txt');
    writeFileSync(pairs, lines.map((l) => `${l.a} ${l.b}\n`).join(''));
    // One rpm process for all pairs: Lua reads the file and prints rpm.vercmp(a, b) per line.
    const lua = `%{lua: for line in io.lines(${JSON.stringify(pairs)}) do local a, b = line:match("^(%S+) (%S+)$"); print(rpm.vercmp(a, b) .. "\\n") end}`;
    const r = spawnSync('rpm', ['--eval', lua], { encoding: 'utf8' });
    if (r.error) throw r.error;
    expect(r.status).toBe(0);
    const real = r.stdout.split('\n').filter((s) => s !== '').map(Number);
    expect(real).toHaveLength(lines.length);
    const disagree = lines.flatMap((l, i) => {
      const ours = Math.sign(compareVersions('Red Hat', l.a, l.b));
      return ours === real[i] ? [] : [`${l.file}:${l.line} ${l.a} ${l.b}: rpm ${real[i]}, ours ${ours}`];
    });
    expect(disagree).toEqual([]);
  });
});
