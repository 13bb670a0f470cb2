// Issue 15's finding, at the matcher: "a pre-release of the fixed version was reported NOT affected in
// all 8 ecosystems tried". One record per ecosystem, fixed at a release; the pre-release of that release
// is affected, the release itself and the next one are not.
import { describe, expect, it } from 'vitest';
import { matchPackages } from '../../src/scanner/match.js';
import type { OsvRecordEntry, ScanPackage } from '../../src/scanner/types.js';

const CASES: Array<[ecosystem: string, name: string, preRelease: string, fixed: string, after: string]> = [
  ['Packagist', 'symfony/http-kernel', '5.0.0-beta.1', '5.0.0', '5.0.1'],
  ['RubyGems', 'rails', '1.1.0.rc4', '1.1.0', '1.1.1'],
  ['NuGet', 'Newtonsoft.Json', '13.0.1-BETA1', '13.0.1', '13.0.1.1'],
  ['Maven', 'org.apache.logging.log4j:log4j-core', '2.17.0-rc1', '2.17.0', '2.17.0-1'],
  ['Pub', 'http', '1.0.0-dev.1', '1.0.0', '1.0.0+1'],
  ['Hex', 'plug', '1.14.0-rc.0', '1.14.0', '1.14.1'],
  ['Debian:12', 'openssl', '3.0.11~b1-1', '3.0.11-1', '3.0.11-1+deb12u1'],
  ['Ubuntu:22.04:LTS', 'curl', '7.81.0-1ubuntu1.15~rc1', '7.81.0-1ubuntu1.15', '7.81.0-1ubuntu1.16'],
  ['Alpine:v3.19', 'musl', '1.2.4_rc3-r0', '1.2.4-r0', '1.2.4-r1'],
  ['AlmaLinux:9', 'openssl', '1:3.0.7~rc1-1.el9', '1:3.0.7-1.el9', '1:3.0.7-1.el9_1'],
];

function record(ecosystem: string, name: string, fixed: string): OsvRecordEntry {
  return {
    path: `probe/${ecosystem.replace(/[^A-Za-z0-9.]/g, '_')}.json`,
    sha256: 'sha256:' + '3'.repeat(64),
    record: {
      id: `PROBE-${ecosystem}`,
      modified: '2024-01-01T00:00:00Z',
      affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
    },
  };
}

const pkg = (ecosystem: string, name: string, version: string): ScanPackage => ({
  ecosystem, name, version, purl: `pkg:test/${encodeURIComponent(ecosystem)}/${encodeURIComponent(name)}@${encodeURIComponent(version)}`, location: 'probe',
});

describe('a pre-release of the fixed version is affected, in every ecosystem', () => {
  for (const [eco, name, pre, fixed, after] of CASES) {
    it(`${eco}: ${pre} affected, ${fixed} and ${after} not (fixed ${fixed})`, () => {
      const records = [record(eco, name, fixed)];
      const affected = (v: string) => matchPackages([pkg(eco, name, v)], records).map((f) => f.package.version);
      expect([affected(pre), affected(fixed), affected(after)]).toEqual([[pre], [], []]);
    });
  }
});
