// The pure scanner (runScan) over every real input against the whole OSV fixture set: real findings,
// schema-valid SBOM and VEX, determinism, and each fault switch disturbing exactly its artifact.
import { beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { canonicalizeArtifact } from '../../src/core/canonical/index.js';
import { ARTIFACT_NAMES, ARTIFACT_SCHEMAS, type ArtifactName, type Finding } from '../../src/core/formats.js';
import { daysBetween } from '../../src/core/policy/policy.js';
import { loadScanInput } from '../../src/scanner/inputs/load.js';
import { runScan, serializeArtifacts, type ScanArtifacts } from '../../src/scanner/run.js';
import { FAULTS, FAULT_NAMES, faultFlags, faultsFromFlags, parseFaults, type FaultName } from '../../src/scanner/faults.js';
import { uuidFromHex } from '../../src/scanner/emit/ids.js';
import type { OsvRecordEntry } from '../../src/scanner/types.js';
import { validateCycloneDx, validateOpenVex } from '../helpers/validators.js';
import { ALL_INPUTS, CLOCK, LOCK, allOsvFeed, manifestFor, policy } from './helpers.js';

let records: OsvRecordEntry[];
beforeAll(async () => {
  records = (await allOsvFeed()).records;
}, 120_000);

function scanFile(file: string, faults: FaultName[] = [], extra: Partial<Parameters<typeof runScan>[0]> = {}, pol = policy()): ScanArtifacts {
  const input = loadScanInput(file);
  return runScan({ packages: input.packages, records, policy: pol.policy, manifest: manifestFor(file, faults), faults, ...extra });
}

function hashes(a: ScanArtifacts): Record<ArtifactName, string> {
  const out = {} as Record<ArtifactName, string>;
  for (const n of ARTIFACT_NAMES) out[n] = canonicalizeArtifact(ARTIFACT_SCHEMAS[n], a[n]).digest;
  return out;
}

function changed(a: ScanArtifacts, b: ScanArtifacts): ArtifactName[] {
  const ha = hashes(a);
  const hb = hashes(b);
  return ARTIFACT_NAMES.filter((n) => ha[n] !== hb[n]);
}

const hit = (fs: Finding[], id: string, name: string, version: string) =>
  fs.find((f) => (f.vulnerability_id === id || f.aliases.includes(id)) && f.package.name === name && f.package.version === version);

describe('real findings from real data', () => {
  it('ripgrep 13.0.0 Cargo.lock → regex 1.5.4 GHSA-m5pq-gvj9-9vr8', () => {
    const f = hit(scanFile(LOCK('cargo/ripgrep-13.0.0/Cargo.lock')).findings.findings, 'GHSA-m5pq-gvj9-9vr8', 'regex', '1.5.4');
    expect(f).toBeDefined();
    expect(f!.fixed_versions).toContain('1.5.5');
  });
  it('NodeGoat package-lock → lodash 4.17.11 prototype pollution (GHSA-35jh-r3h4-6jhm)', () => {
    expect(hit(scanFile(LOCK('npm/nodegoat/package-lock.json')).findings.findings, 'GHSA-35jh-r3h4-6jhm', 'lodash', '4.17.11')).toBeDefined();
  });
  it('socket.io package-lock → ws 7.4.6 and 8.2.3 (GHSA-3h5v-q93c-6h6q)', () => {
    const fs = scanFile(LOCK('npm/socket.io/package-lock.json')).findings.findings;
    expect(hit(fs, 'GHSA-3h5v-q93c-6h6q', 'ws', '7.4.6')).toBeDefined();
    expect(hit(fs, 'GHSA-3h5v-q93c-6h6q', 'ws', '8.2.3')).toBeDefined();
  });
  it('netbox requirements.txt → Django 3.2.6 PYSEC-2021-439', () => {
    expect(hit(scanFile(LOCK('python/netbox-v3.0.0/requirements.txt')).findings.findings, 'PYSEC-2021-439', 'Django', '3.2.6')).toBeDefined();
  });
  it('node_exporter go.mod → golang.org/x/crypto GO-2021-0227', () => {
    const fs = scanFile(LOCK('go/node_exporter-v1.0.0/go.mod')).findings.findings;
    expect(hit(fs, 'GO-2021-0227', 'golang.org/x/crypto', 'v0.0.0-20200510223506-06a226fb4e37')).toBeDefined();
  });
});

describe('artifacts of every real input', () => {
  it('validate (CycloneDX 1.6, OpenVEX), carry content-derived ids, and repeat byte for byte', () => {
    const seen: string[] = [];
    for (const file of ALL_INPUTS) {
      const a = scanFile(file);
      const rel = path.basename(file);
      expect(validateCycloneDx(a.sbom, '1.6'), rel).toEqual([]);
      expect(validateOpenVex(a.vex), rel).toEqual([]);
      expect(a.sbom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect((a.sbom.metadata as { timestamp: string }).timestamp).toBe(CLOCK);
      const comps = a.sbom.components as Array<{ 'bom-ref': string; purl: string }>;
      expect(comps.every((c) => c['bom-ref'] === c.purl)).toBe(true);
      expect(a.vex.timestamp).toBe(CLOCK);
      expect((a.vex.statements as unknown[]).length).toBe(Math.max(1, a.findings.findings.length));
      expect(a.verdict.evaluated_at).toBe(CLOCK);
      const again = serializeArtifacts(scanFile(file));
      const first = serializeArtifacts(a);
      for (const n of ARTIFACT_NAMES) expect(again[n].equals(first[n]), `${rel} ${n}`).toBe(true);
      seen.push(`${rel}:${a.findings.findings.length}`);
    }
    // Real findings in every ecosystem the fixtures cover; none for Composer/deb/gem/apk (no OSV data here).
    const count = (name: string) => Number(seen.find((s) => s.startsWith(name + ':'))!.split(':')[1]);
    expect(count('keycloak-10.0.2.maven.cdx-1.2.json')).toBeGreaterThan(0);
    expect(count('juice-shop-14.1.1.npm.cdx-1.6.json')).toBeGreaterThan(0);
    expect(count('kubectl-image.spdx-2.3.json')).toBeGreaterThan(0);
    expect(count('poetry.lock')).toBeGreaterThan(0);
    expect(count('laravel-7.12.0.composer.cdx-1.4.json')).toBe(0);
  }, 120_000);
  it('the serial number is a UUID shape with version 5 and variant 10xx', () => {
    expect(uuidFromHex('f'.repeat(64))).toBe('ffffffff-ffff-5fff-bfff-ffffffffffff');
    expect(uuidFromHex('0'.repeat(64))).toBe('00000000-0000-5000-8000-000000000000');
  });
  it('a vendor VEX statement in the policy sets the status (not_affected needs a justification)', () => {
    const pol = policy({
      policy_version: 1,
      policy_set: 'prod-default',
      vex: [
        { vulnerability: 'GHSA-m5pq-gvj9-9vr8', product: 'pkg:cargo/regex', status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' },
      ],
    });
    const a = scanFile(LOCK('cargo/ripgrep-13.0.0/Cargo.lock'), [], {}, pol);
    const st = (a.vex.statements as Array<Record<string, unknown>>).find((s) => (s.products as Array<{ '@id': string }>)[0]['@id'] === 'pkg:cargo/regex@1.5.4');
    expect(st).toMatchObject({ status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' });
    expect(validateOpenVex(a.vex)).toEqual([]);
    expect(a.verdict.reasons.map((r) => r.code)).toContain('VEX_NOT_AFFECTED');
    // Free text is not an OpenVEX justification: it becomes the impact statement.
    const free = policy({ policy_version: 1, policy_set: 'p', vex: [{ vulnerability: 'GHSA-m5pq-gvj9-9vr8', product: 'pkg:cargo/regex@1.5.4', status: 'not_affected', justification: 'we never build regexes from input' }] });
    const b = scanFile(LOCK('cargo/ripgrep-13.0.0/Cargo.lock'), [], {}, free);
    const st2 = (b.vex.statements as Array<Record<string, unknown>>)[0];
    expect(st2).toMatchObject({ status: 'not_affected', impact_statement: 'we never build regexes from input' });
    expect(st2.justification).toBeUndefined();
    expect(validateOpenVex(b.vex)).toEqual([]);
  });
});

describe('fault switches', () => {
  const file = LOCK('npm/socket.io/package-lock.json');
  it('are recorded as scanner.flags and read back; unknown names are refused', () => {
    expect(faultFlags(['wallclock', 'random-ids'])).toEqual(['--fault=random-ids', '--fault=wallclock']);
    expect(manifestFor(file, ['tz-date-rule']).scanner.flags).toEqual(['--fault=tz-date-rule']);
    expect(manifestFor(file).scanner.flags).toEqual([]);
    expect(faultsFromFlags(['--fault=unsorted-workers', '--other'])).toEqual(['unsorted-workers']);
    expect(() => parseFaults(['nope'])).toThrow(/unknown fault switch 'nope'/);
    expect(() => faultsFromFlags(['--fault=nope'], 'm.json')).toThrow(/unknown fault switch/);
    expect(FAULT_NAMES).toEqual(['random-ids', 'tz-date-rule', 'unsorted-workers', 'wallclock']);
  });
  // A classifier sees a fault as two runs of the SAME manifest (flags on) that differ: vary only the
  // nondeterministic source the switch lets in, and exactly that switch's artifact must change.
  it('unsorted-workers: cpus=1 vs cpus=2 differ in findings only', () => {
    // In the fixture feed no two records name the same package version, so every finding has one
    // source and worker order shows only in the raw bytes. RustSec publishes the regex ReDoS too
    // (RUSTSEC-2022-0013, aliasing the GHSA): with both records a finding has two sources, whose order
    // depends on which simulated worker visited them.
    const ghsa = records.find((r) => r.record.id === 'GHSA-m5pq-gvj9-9vr8')!;
    const twin: OsvRecordEntry = {
      path: 'feeds/rustsec/crates.io/RUSTSEC-2022-0013.json',
      sha256: ghsa.sha256,
      record: { ...ghsa.record, id: 'RUSTSEC-2022-0013', aliases: ['CVE-2022-24713', 'GHSA-m5pq-gvj9-9vr8'] },
    };
    // bat + ripgrep: regex 1.4.3 and 1.5.4 sit next to each other, so with two workers one of them is
    // visited by the second worker, which starts its record scan at another offset.
    const cargo = LOCK('cargo');
    const input = loadScanInput(cargo);
    const m = manifestFor(cargo, ['unsorted-workers']);
    const run = (cpus: number) =>
      runScan({ packages: input.packages, records: [...records, twin], policy: policy().policy, manifest: m, faults: ['unsorted-workers'], cpus });
    const one = run(1);
    const two = run(2);
    expect(one.findings.findings.map((f) => f.sources.length)).toEqual([2, 2]);
    expect(changed(one, two)).toEqual([FAULTS['unsorted-workers'].artifact]);
    expect(changed(one, two)).toEqual(['findings']);
    // Without the switch the CPU count changes nothing.
    const off = (cpus: number) => runScan({ packages: input.packages, records: [...records, twin], policy: policy().policy, manifest: manifestFor(cargo), faults: [], cpus });
    expect(changed(off(1), off(2))).toEqual([]);
  });
  it('unsorted-workers on real data: raw order depends on the CPU count, canonical form does not', () => {
    const a = serializeArtifacts(scanFile(file, ['unsorted-workers'], { cpus: 1 }));
    const b = serializeArtifacts(scanFile(file, ['unsorted-workers'], { cpus: 3 }));
    expect(a.findings.equals(b.findings)).toBe(false);
    expect(a.sbom.equals(b.sbom) && a.vex.equals(b.vex) && a.verdict.equals(b.verdict)).toBe(true);
  });
  it('wallclock: only the sbom differs', () => {
    const a = scanFile(file, ['wallclock'], { wallclock: new Date('2026-01-02T03:04:05.678Z') });
    const b = scanFile(file, ['wallclock'], { wallclock: new Date('2026-01-02T03:04:06.001Z') });
    expect(changed(a, b)).toEqual(['sbom']);
    const props = (a.sbom.metadata as { properties: Array<{ name: string; value: string }> }).properties;
    expect(props).toContainEqual({ name: 'stella:generated_at_wallclock', value: '2026-01-02T03:04:05.678Z' });
    expect(validateCycloneDx(a.sbom, '1.6')).toEqual([]);
    const off = scanFile(file);
    expect(JSON.stringify(off.sbom)).not.toContain('wallclock');
  });
  it('random-ids: only the vex differs, and it still validates', () => {
    const a = scanFile(file, ['random-ids'], { randomUUID });
    const b = scanFile(file, ['random-ids'], { randomUUID });
    expect(changed(a, b)).toEqual(['vex']);
    expect(a.vex['@id']).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(validateOpenVex(a.vex)).toEqual([]);
    expect(scanFile(file).vex['@id']).toMatch(/^urn:stella:vex:[0-9a-f]{64}$/);
  });
  it('tz-date-rule: only the verdict differs when the process zone moves the scan date', () => {
    const base = scanFile(file);
    const tz = 'Pacific/Kiritimati'; // UTC+14: 10:15Z is already tomorrow there
    const f = base.findings.findings.find((x) => x.fix_available_since && daysBetween(x.fix_available_since, CLOCK, tz) > daysBetween(x.fix_available_since, CLOCK));
    expect(f).toBeDefined();
    const pol = policy({ policy_version: 1, policy_set: 'prod-default', fix_available_days: { max_days: daysBetween(f!.fix_available_since!, CLOCK), decision: 'fail' } });
    const a = scanFile(file, ['tz-date-rule'], { timeZone: 'UTC' }, pol);
    const b = scanFile(file, ['tz-date-rule'], { timeZone: tz }, pol);
    expect(changed(a, b)).toEqual(['verdict']);
    // Off, the process zone is ignored: date rules count UTC days.
    const offA = scanFile(file, [], { timeZone: 'UTC' }, pol);
    const offB = scanFile(file, [], { timeZone: tz }, pol);
    expect(changed(offA, offB)).toEqual([]);
  });
  it('faults that need a caller-supplied source refuse to run without it', () => {
    expect(() => scanFile(file, ['wallclock'])).toThrow(/wallclock needs/);
    expect(() => scanFile(file, ['random-ids'])).toThrow(/random-ids needs/);
  });
});
