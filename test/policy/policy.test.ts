import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  bundlePolicy,
  compilePolicy,
  daysBetween,
  diffPolicies,
  evaluatePolicy,
  policyDigest,
  readPolicyFile,
  resolvePolicyRef,
  type CompiledPolicy,
} from '../../src/app/policy.js';
import { BlobStore } from '../../src/adapters/blob-store.js';
import { canonicalBytes } from '../../src/core/canonical/jcs.js';
import { StellaError } from '../../src/core/errors.js';
import { REPO, runStella } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { findingFrom } from './findings.js';

const PROD = path.join(REPO, 'fixtures/policies/prod-default.yaml');
const LENIENT = path.join(REPO, 'fixtures/policies/lenient.yaml');
const work = tempDir('stella-policy-');
const env = { STELLA_HOME: path.join(work, 'home') };

const base = (over: Record<string, unknown> = {}) => compilePolicy({ policy_version: 1, policy_set: 't', ...over }, 't.yaml');

// Real records: minimist (CRITICAL), qs (HIGH), semver (MODERATE), cookie (LOW), all npm.
const critical = findingFrom('GHSA-xvch-5gv4-984h', '1.2.5');
const high = findingFrom('GHSA-hrpp-h998-j3pp', '6.5.2');
const medium = findingFrom('GHSA-c2qf-rxjj-qqgw', '7.3.0');
const low = findingFrom('GHSA-pxg6-pf52-xh8x', '0.4.0');
const CLOCK = '2026-01-31T12:00:00Z';

function codes(p: CompiledPolicy, findings = [critical, high, medium, low], clock = CLOCK, tz?: string) {
  const v = evaluatePolicy(p, { findings, ecosystem: 'npm', clock, dateRuleTimeZone: tz });
  return { decision: v.decision, codes: v.reasons.map((r) => `${r.code} ${r.subject.split(' ')[0]}`), verdict: v };
}

describe('compilePolicy', () => {
  it('fills defaults and gives one canonical form for JSON and YAML of the same rules, in any order', () => {
    const p = base();
    expect(p).toEqual({
      policy_version: 1,
      policy_set: 't',
      severity_threshold: { fail: 'high', warn: 'medium' },
      unknown_severity: 'warn',
      ignore: [],
      honour_vex_not_affected: true,
      vex: [],
      ecosystems: {},
      fix_available_days: null,
    });
    const fromYaml = readPolicyFile(PROD);
    const doc = parseYaml(readFileSync(PROD, 'utf8'), { schema: 'core' }) as Record<string, unknown>;
    const jsonFile = path.join(work, 'prod.json');
    const shuffled = Object.fromEntries(Object.entries(doc).reverse());
    writeFileSync(jsonFile, JSON.stringify(shuffled, null, 3));
    const fromJson = readPolicyFile(jsonFile);
    expect(fromJson.digest).toBe(fromYaml.digest);
    expect(fromYaml.bytes.equals(canonicalBytes(fromYaml.policy))).toBe(true);
    expect(policyDigest(compilePolicy(fromYaml.policy))).toBe(fromYaml.digest);
    const twoIgnores = (order: number[]) =>
      policyDigest(base({ ignore: order.map((i) => ({ id: `CVE-${i}`, until: '2026-01-01', reason: 'r' })) }));
    expect(twoIgnores([1, 2])).toBe(twoIgnores([2, 1]));
  });

  const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['a wrong version', { policy_version: 2 }, '$.policy_version', /unsupported policy_version 2/],
    ['an unknown key', { severity_treshold: {} }, '$.severity_treshold', /unknown key/],
    ['a bad threshold', { severity_threshold: { fail: 'severe' } }, '$.severity_threshold.fail', /one of: critical/],
    ['a bad expiry date', { ignore: [{ id: 'CVE-1', until: '31/12/2026', reason: 'r' }] }, '$.ignore[0].until', /YYYY-MM-DD/],
    ['an ignore without reason', { ignore: [{ id: 'CVE-1', until: '2026-12-31' }] }, '$.ignore[0].reason', /non-empty string/],
    ['a bad VEX status', { vex: [{ vulnerability: 'CVE-1', product: 'pkg:npm/a', status: 'fine' }] }, '$.vex[0].status', /not_affected/],
    ['a VEX product that is not a purl', { vex: [{ vulnerability: 'CVE-1', product: 'a', status: 'affected' }] }, '$.vex[0].product', /package URL/],
    ['not_affected without justification', { vex: [{ vulnerability: 'CVE-1', product: 'pkg:npm/a', status: 'not_affected' }] }, '$.vex[0].justification', /justification/],
    ['a negative max_days', { fix_available_days: { max_days: -1 } }, '$.fix_available_days.max_days', /whole number/],
    ['a bad ecosystem override', { ecosystems: { npm: { severity_threshold: { warn: 'loud' } } } }, '$.ecosystems.npm.severity_threshold.warn', /one of/],
    ['a non-boolean VEX switch', { honour_vex_not_affected: 'yes' }, '$.honour_vex_not_affected', /true or false/],
  ];
  for (const [what, over, jpath, message] of bad) {
    it(`refuses ${what}, naming the file and JSON path`, () => {
      try {
        base(over);
        throw new Error('accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(StellaError);
        const err = e as StellaError;
        expect(err.code).toBe('SCHEMA_INVALID');
        expect(err.file).toBe('t.yaml');
        expect(err.path).toBe(jpath);
        expect(err.message).toMatch(message);
      }
    });
  }
});

describe('evaluatePolicy', () => {
  it('severity thresholds: critical and high fail, medium warns, low passes; reasons sorted', () => {
    const r = codes(base());
    expect(r.decision).toBe('fail');
    expect(r.codes).toEqual(['SEV_CRITICAL GHSA-xvch-5gv4-984h', 'SEV_HIGH GHSA-hrpp-h998-j3pp', 'SEV_MEDIUM GHSA-c2qf-rxjj-qqgw']);
    expect(r.verdict).toMatchObject({ schema: 'stella-verdict/v1', policy_set: 't', evaluated_at: CLOCK });
    expect(codes(base(), [medium, low]).decision).toBe('warn');
    expect(codes(base(), [low]).decision).toBe('pass');
    expect(codes(base(), []).verdict.reasons).toEqual([]);
    expect(codes(base({ severity_threshold: { fail: 'never', warn: 'never' } })).decision).toBe('pass');
  });

  it('unknown severity follows unknown_severity', () => {
    const unk = { ...low, severity: 'unknown' as const };
    expect(codes(base(), [unk]).codes).toEqual(['SEV_UNKNOWN GHSA-pxg6-pf52-xh8x']);
    expect(codes(base({ unknown_severity: 'fail' }), [unk]).decision).toBe('fail');
    expect(codes(base({ unknown_severity: 'pass' }), [unk]).decision).toBe('pass');
  });

  it('ignore applies through its until date and expires at the scan clock', () => {
    const p = base({ ignore: [{ id: 'CVE-2022-24999', package: 'pkg:npm/qs', until: '2026-01-31', reason: 'not reachable' }] });
    const last = codes(p, [high], '2026-01-31T23:59:59Z');
    expect(last.decision).toBe('pass');
    expect(last.codes).toEqual(['IGNORED GHSA-hrpp-h998-j3pp']);
    const after = codes(p, [high], '2026-02-01T00:00:00Z');
    expect(after.decision).toBe('fail');
    expect(after.codes).toEqual(['IGNORED_EXPIRED GHSA-hrpp-h998-j3pp', 'SEV_HIGH GHSA-hrpp-h998-j3pp']);
    // An expired ignore of a low finding still surfaces as a warning to renew or drop it.
    const lowIgnored = base({ ignore: [{ id: 'GHSA-pxg6-pf52-xh8x', until: '2025-12-31', reason: 'r' }] });
    expect(codes(lowIgnored, [low]).decision).toBe('warn');
    // The package narrows the ignore: another package with the same advisory is not ignored.
    const other = { ...high, package: { ...high.package, name: 'qs2', purl: 'pkg:npm/qs2@6.5.2' } };
    expect(codes(p, [other], '2026-01-01T00:00:00Z').codes).toEqual(['SEV_HIGH GHSA-hrpp-h998-j3pp']);
  });

  it('honours pinned VEX not_affected statements (by alias, versionless purl) only when told to', () => {
    const vex = [{ vulnerability: 'CVE-2021-44906', product: 'pkg:npm/minimist', status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' }];
    const on = codes(base({ vex }), [critical]);
    expect(on.decision).toBe('pass');
    expect(on.codes).toEqual(['VEX_NOT_AFFECTED GHSA-xvch-5gv4-984h']);
    expect(codes(base({ vex, honour_vex_not_affected: false }), [critical]).decision).toBe('fail');
    const pinnedOther = [{ ...vex[0], product: 'pkg:npm/minimist@0.0.8' }];
    expect(codes(base({ vex: pinnedOther }), [critical]).decision).toBe('fail');
    const affected = [{ vulnerability: 'CVE-2021-44906', product: 'pkg:npm/minimist', status: 'affected' }];
    expect(codes(base({ vex: affected }), [critical]).decision).toBe('fail');
  });

  it('per-ecosystem overrides apply to that ecosystem only', () => {
    const p = base({ ecosystems: { NPM: { severity_threshold: { fail: 'critical', warn: 'high' } } } });
    expect(codes(p, [high]).decision).toBe('warn');
    const maven = findingFrom('GHSA-57j2-w4cx-62h2', '2.9.10.8');
    expect(evaluatePolicy(p, { findings: [maven], ecosystem: 'maven', clock: CLOCK }).decision).toBe('fail');
  });

  describe('fix available more than N days (N = 30)', () => {
    const p = base({ severity_threshold: { fail: 'never', warn: 'never' }, fix_available_days: { max_days: 30, decision: 'fail' } });
    const since = '2026-01-01T12:00:00Z';
    const f = { ...low, fix_available_since: since };
    for (const [clock, days, decision] of [
      ['2026-01-30T12:00:00Z', 29, 'pass'],
      ['2026-01-31T23:59:59Z', 30, 'pass'],
      ['2026-02-01T00:00:00Z', 31, 'fail'],
      ['2026-02-02T00:00:00Z', 32, 'fail'],
    ] as const) {
      it(`${days} days → ${decision}`, () => {
        expect(daysBetween(since, clock)).toBe(days);
        const r = codes(p, [f], clock);
        expect(r.decision).toBe(decision);
        expect(r.codes).toEqual(decision === 'fail' ? ['FIX_AVAILABLE_30D GHSA-pxg6-pf52-xh8x'] : []);
      });
    }
    it('is off without a fix date, and the npm override in prod-default gives npm 60 days', () => {
      expect(codes(p, [{ ...low, fix_available_since: null }], '2027-01-01T00:00:00Z').decision).toBe('pass');
      const prod = readPolicyFile(PROD).policy;
      const npm = { ...low, fix_available_since: '2025-12-01T00:00:00Z' };
      expect(codes(prod, [npm], '2026-01-30T00:00:00Z').decision).toBe('pass');
      expect(codes(prod, [npm], '2026-02-01T00:00:00Z').codes).toEqual(['FIX_AVAILABLE_60D GHSA-pxg6-pf52-xh8x']);
    });
    it('reads the scan clock only: the same input gives the same verdict whatever the wall time', () => {
      const a = evaluatePolicy(p, { findings: [f], ecosystem: 'npm', clock: '2026-02-01T00:00:00Z' });
      const b = evaluatePolicy(p, { findings: [f], ecosystem: 'npm', clock: '2026-02-01T00:00:00Z' });
      expect(canonicalBytes(a).equals(canonicalBytes(b))).toBe(true);
      expect(codes(p, [f], '2020-01-01T00:00:00Z').decision).toBe('pass');
    });
  });

  it('the TZ-dependent date rule flips the verdict across a midnight boundary', () => {
    const p = base({ severity_threshold: { fail: 'never', warn: 'never' }, fix_available_days: { max_days: 30, decision: 'fail' } });
    const f = { ...low, fix_available_since: '2026-01-01T12:00:00Z' };
    const clock = '2026-01-31T23:30:00Z';
    // UTC: Jan 1 → Jan 31 = 30 days. Tokyo (UTC+9): Jan 1 21:00 → Feb 1 08:30 = 31 days.
    expect(codes(p, [f], clock).decision).toBe('pass');
    expect(codes(p, [f], clock, 'Asia/Tokyo').decision).toBe('fail');
    // Los Angeles (UTC-8): Jan 1 04:00 → Jan 31 15:30 = 30 days, like UTC.
    expect(codes(p, [f], clock, 'America/Los_Angeles').decision).toBe('pass');
    // Ignore expiry is a date rule too: still active in UTC, expired in Tokyo.
    const ig = base({ ignore: [{ id: 'GHSA-hrpp-h998-j3pp', until: '2026-01-31', reason: 'r' }] });
    expect(codes(ig, [high], clock).decision).toBe('pass');
    expect(codes(ig, [high], clock, 'Asia/Tokyo').decision).toBe('fail');
    expect(() => codes(p, [f], clock, 'Mars/Olympus')).toThrow(/IANA/);
  });
});

describe('diffPolicies and references', () => {
  it('lists changed rules between prod-default and lenient, by path', () => {
    const a = readPolicyFile(PROD).policy;
    const b = readPolicyFile(LENIENT).policy;
    const paths = diffPolicies(a, b).map((c) => c.path);
    expect(paths).toEqual([
      '$.ecosystems.npm',
      '$.fix_available_days',
      '$.honour_vex_not_affected',
      '$.ignore["GHSA-j8xg-fqg3-53r7 pkg:npm/word-wrap"]',
      '$.policy_set',
      '$.severity_threshold.fail',
      '$.severity_threshold.warn',
      '$.unknown_severity',
      '$.vex["CVE-2022-33124 pkg:pypi/aiohttp"]',
    ]);
    expect(diffPolicies(a, b).find((c) => c.path === '$.severity_threshold.fail')).toEqual({ path: '$.severity_threshold.fail', before: 'high', after: 'critical' });
    expect(diffPolicies(a, a)).toEqual([]);
  });

  it('resolvePolicyRef stores policy files and reads them back by digest', () => {
    const store = new BlobStore(path.join(work, 'store'));
    const b = resolvePolicyRef(PROD, store);
    expect(store.has(b.digest)).toBe(true);
    expect(resolvePolicyRef(b.digest, store).policy).toEqual(b.policy);
    expect(() => resolvePolicyRef(`sha256:${'cd'.repeat(32)}`, store)).toThrow(/stella policy bundle/);
    // A blob that is JSON but not a compiled policy (defaults missing) is not accepted as a bundle.
    const raw = store.put(Buffer.from(JSON.stringify({ policy_version: 1, policy_set: 'x' })));
    expect(() => resolvePolicyRef(raw, store)).toThrow(/not a compiled policy bundle/);
    expect(bundlePolicy({ policy_version: 1, policy_set: 'x' }).digest).not.toBe(raw);
  });
});

describe('stella policy CLI', () => {
  it('bundle prints the digest, writes canonical JSON atomically and stores it; show reads it back', async () => {
    const out = path.join(work, 'prod.policy.json');
    const r = await runStella(['policy', 'bundle', PROD, '--out', out], { env });
    expect(r.code, r.stderr).toBe(0);
    const digest = r.stdout.trim();
    expect(digest).toBe(readPolicyFile(PROD).digest);
    expect(readFileSync(out).equals(readPolicyFile(PROD).bytes)).toBe(true);
    const show = await runStella(['policy', 'show', digest, '--json'], { env });
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout).policy_set).toBe('prod-default');
    const diff = await runStella(['policy', 'diff', digest, LENIENT, '--json'], { env });
    expect(diff.code).toBe(1);
    expect(JSON.parse(diff.stdout).changes.length).toBe(9);
  });

  it('a bad policy file: one line naming the file and JSON path, exit 2, nothing written', async () => {
    const bad = path.join(work, 'bad.yaml');
    writeFileSync(bad, 'policy_version: 1\npolicy_set: x\nignore:\n  - id: CVE-1\n    until: 2026-13-45\n    reason: r\n');
    const out = path.join(work, 'bad.out.json');
    const r = await runStella(['policy', 'bundle', bad, '--out', out], { env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`stella policy: ${bad}: $.ignore[0].until: expected a date YYYY-MM-DD`]);
    expect(existsSync(out)).toBe(false);
    const syntax = path.join(work, 'syntax.yaml');
    writeFileSync(syntax, 'policy_version: 1\npolicy_set: [x\n');
    const s = await runStella(['policy', 'bundle', syntax, '--out', out], { env });
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/syntax\.yaml: YAML syntax error at line/);
    const json = path.join(work, 'trunc.json');
    writeFileSync(json, '{"policy_version": 1, "policy_set": ');
    const j = await runStella(['policy', 'bundle', json, '--out', out], { env });
    expect(j.code).toBe(2);
    expect(j.stderr).toContain('trunc.json');
    expect(existsSync(out)).toBe(false);
  });
});
