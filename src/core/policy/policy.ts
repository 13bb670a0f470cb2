// Policy bundles (SPEC §1.5), pure. A policy document (JSON or YAML, format below) is validated and
// compiled into a CompiledPolicy with every default filled in and every list sorted; its canonical JSON
// bytes are the bundle and their sha256 is the policy digest. Evaluation reads only the scan clock.
//
// Format (policy_version 1):
//   policy_version: 1                      required
//   policy_set: prod-default               required, the name recorded in manifests and verdicts
//   severity_threshold: {fail: high, warn: medium}   default {fail: high, warn: medium};
//                                          values critical|high|medium|low|never; a finding at or above
//                                          `fail` fails, at or above `warn` warns
//   unknown_severity: pass|warn|fail       decision for findings without a severity (default warn)
//   ignore: [{id, package?, until: YYYY-MM-DD, reason}]   id matches the vulnerability id or an alias;
//                                          package (a purl, version optional) narrows it; applies through
//                                          `until` inclusive, judged at the scan clock's date
//   honour_vex_not_affected: true          default true: a not_affected statement below suppresses a finding
//   vex: [{vulnerability, product, status, justification?, impact_statement?}]   pinned vendor statements
//   ecosystems: {<ecosystem>: {severity_threshold?, unknown_severity?, fix_available_days?}}  overrides
//                                          keyed by OSV ecosystem (case-insensitive): the finding's
//                                          package ecosystem first, then the scan's ecosystem label
//   fix_available_days: {max_days: 30, decision: fail} | null   default null (off): a fix published
//                                          more than max_days calendar days before the scan date
import { StellaError, jsonPath } from '../errors.js';
import { canonicalBytes, canonicalDigest, compareCodeUnits } from '../canonical/jcs.js';
import type { Decision, Digest, Finding, Severity, VerdictDoc, VerdictReason } from '../formats.js';
import { isObject } from '../guards.js';

export type Threshold = 'critical' | 'high' | 'medium' | 'low' | 'never';
const THRESHOLDS: readonly Threshold[] = ['critical', 'high', 'medium', 'low', 'never'];
const DECISIONS: readonly Decision[] = ['pass', 'warn', 'fail'];
export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';
const VEX_STATUSES: readonly VexStatus[] = ['not_affected', 'affected', 'fixed', 'under_investigation'];

export interface SeverityThreshold {
  fail: Threshold;
  warn: Threshold;
}
export interface FixAgeRule {
  max_days: number;
  decision: Decision;
}
export interface IgnoreRule {
  id: string;
  package: string | null;
  until: string;
  reason: string;
}
export interface VexStatement {
  vulnerability: string;
  product: string;
  status: VexStatus;
  justification: string | null;
  impact_statement: string | null;
}
export interface EcosystemOverride {
  severity_threshold?: SeverityThreshold;
  unknown_severity?: Decision;
  fix_available_days?: FixAgeRule | null;
}
export interface CompiledPolicy {
  policy_version: 1;
  policy_set: string;
  severity_threshold: SeverityThreshold;
  unknown_severity: Decision;
  ignore: IgnoreRule[];
  honour_vex_not_affected: boolean;
  vex: VexStatement[];
  /** Keys lower-cased. */
  ecosystems: Record<string, EcosystemOverride>;
  fix_available_days: FixAgeRule | null;
}

type Seg = string | number;
class Reader {
  constructor(readonly file: string | undefined) {}
  fail(segs: Seg[], msg: string): never {
    throw new StellaError('SCHEMA_INVALID', msg, { file: this.file, path: jsonPath(segs) });
  }
  object(v: unknown, segs: Seg[], keys: readonly string[]): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(segs, 'expected an object');
    for (const k of Object.keys(v)) if (!keys.includes(k)) this.fail([...segs, k], `unknown key (expected one of: ${keys.join(', ')})`);
    return v as Record<string, unknown>;
  }
  string(v: unknown, segs: Seg[]): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(segs, 'expected a non-empty string');
    return v;
  }
  optString(v: unknown, segs: Seg[]): string | null {
    return v === undefined || v === null ? null : this.string(v, segs);
  }
  oneOf<T extends string>(v: unknown, segs: Seg[], options: readonly T[]): T {
    if (typeof v !== 'string' || !options.includes(v as T)) this.fail(segs, `expected one of: ${options.join(', ')}`);
    return v as T;
  }
  array(v: unknown, segs: Seg[]): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(segs, 'expected an array');
    return v;
  }
  date(v: unknown, segs: Seg[]): string {
    // YAML 1.1 loaders may hand us a Date for a bare date; we parse YAML with the 1.2 core schema, so a
    // bare 2026-12-31 is a string here.
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) {
      this.fail(segs, 'expected a date YYYY-MM-DD');
    }
    return v;
  }
}

function threshold(r: Reader, v: unknown, segs: Seg[]): SeverityThreshold {
  const o = r.object(v, segs, ['fail', 'warn']);
  const fail = o.fail === undefined ? 'high' : r.oneOf(o.fail, [...segs, 'fail'], THRESHOLDS);
  const warn = o.warn === undefined ? 'medium' : r.oneOf(o.warn, [...segs, 'warn'], THRESHOLDS);
  return { fail, warn };
}

function fixAge(r: Reader, v: unknown, segs: Seg[]): FixAgeRule | null {
  if (v === null) return null;
  const o = r.object(v, segs, ['max_days', 'decision']);
  if (typeof o.max_days !== 'number' || !Number.isInteger(o.max_days) || o.max_days < 0) r.fail([...segs, 'max_days'], 'expected a whole number of days ≥ 0');
  const decision = o.decision === undefined ? 'fail' : r.oneOf(o.decision, [...segs, 'decision'], DECISIONS);
  return { max_days: o.max_days, decision };
}

const TOP_KEYS = [
  'policy_version',
  'policy_set',
  'severity_threshold',
  'unknown_severity',
  'ignore',
  'honour_vex_not_affected',
  'vex',
  'ecosystems',
  'fix_available_days',
] as const;

/** Validate a policy document and fill in defaults. Throws SCHEMA_INVALID naming the file and JSON path. */
export function compilePolicy(doc: unknown, file?: string): CompiledPolicy {
  const r = new Reader(file);
  const o = r.object(doc, [], TOP_KEYS);
  if (o.policy_version !== 1) r.fail(['policy_version'], `unsupported policy_version ${JSON.stringify(o.policy_version)} (this stella reads 1)`);
  const policy_set = r.string(o.policy_set, ['policy_set']);
  const severity_threshold = o.severity_threshold === undefined ? { fail: 'high' as const, warn: 'medium' as const } : threshold(r, o.severity_threshold, ['severity_threshold']);
  const unknown_severity = o.unknown_severity === undefined ? 'warn' : r.oneOf(o.unknown_severity, ['unknown_severity'], DECISIONS);
  const ignore = r.array(o.ignore, ['ignore']).map((v, i): IgnoreRule => {
    const e = r.object(v, ['ignore', i], ['id', 'package', 'until', 'reason']);
    return {
      id: r.string(e.id, ['ignore', i, 'id']),
      package: r.optString(e.package, ['ignore', i, 'package']),
      until: r.date(e.until, ['ignore', i, 'until']),
      reason: r.string(e.reason, ['ignore', i, 'reason']),
    };
  });
  let honour = true;
  if (o.honour_vex_not_affected !== undefined) {
    if (typeof o.honour_vex_not_affected !== 'boolean') r.fail(['honour_vex_not_affected'], 'expected true or false');
    honour = o.honour_vex_not_affected as boolean;
  }
  const vex = r.array(o.vex, ['vex']).map((v, i): VexStatement => {
    const e = r.object(v, ['vex', i], ['vulnerability', 'product', 'status', 'justification', 'impact_statement']);
    const status = r.oneOf(e.status, ['vex', i, 'status'], VEX_STATUSES);
    const justification = r.optString(e.justification, ['vex', i, 'justification']);
    if (status === 'not_affected' && justification === null && e.impact_statement == null) {
      r.fail(['vex', i, 'justification'], 'a not_affected statement needs a justification or an impact_statement (OpenVEX)');
    }
    return {
      vulnerability: r.string(e.vulnerability, ['vex', i, 'vulnerability']),
      product: purl(r, e.product, ['vex', i, 'product']),
      status,
      justification,
      impact_statement: r.optString(e.impact_statement, ['vex', i, 'impact_statement']),
    };
  });
  const ecosystems: Record<string, EcosystemOverride> = {};
  if (o.ecosystems !== undefined) {
    const eco = r.object(o.ecosystems, ['ecosystems'], Object.keys(o.ecosystems ?? {}));
    for (const [name, v] of Object.entries(eco)) {
      const segs = ['ecosystems', name];
      const e = r.object(v, segs, ['severity_threshold', 'unknown_severity', 'fix_available_days']);
      const key = name.toLowerCase();
      if (key in ecosystems) r.fail(segs, `ecosystem '${name}' is given twice (keys are case-insensitive)`);
      const out: EcosystemOverride = {};
      if (e.severity_threshold !== undefined) out.severity_threshold = threshold(r, e.severity_threshold, [...segs, 'severity_threshold']);
      if (e.unknown_severity !== undefined) out.unknown_severity = r.oneOf(e.unknown_severity, [...segs, 'unknown_severity'], DECISIONS);
      if (e.fix_available_days !== undefined) out.fix_available_days = fixAge(r, e.fix_available_days, [...segs, 'fix_available_days']);
      ecosystems[key] = out;
    }
  }
  const fix_available_days = o.fix_available_days === undefined ? null : fixAge(r, o.fix_available_days, ['fix_available_days']);
  ignore.sort((a, b) => compareCodeUnits(a.id, b.id) || compareCodeUnits(a.package ?? '', b.package ?? '') || compareCodeUnits(a.until, b.until) || compareCodeUnits(a.reason, b.reason));
  vex.sort((a, b) => compareCodeUnits(a.vulnerability, b.vulnerability) || compareCodeUnits(a.product, b.product) || compareCodeUnits(a.status, b.status));
  for (let i = 1; i < vex.length; i++) {
    if (vex[i - 1]!.vulnerability === vex[i]!.vulnerability && vex[i - 1]!.product === vex[i]!.product) {
      r.fail(['vex'], `two statements for ${vex[i]!.vulnerability} on ${vex[i]!.product}; keep one`);
    }
  }
  return { policy_version: 1, policy_set, severity_threshold, unknown_severity, ignore, honour_vex_not_affected: honour, vex, ecosystems, fix_available_days };
}

function purl(r: Reader, v: unknown, segs: Seg[]): string {
  const s = r.string(v, segs);
  if (!/^pkg:[A-Za-z.+-]+\/./.test(s)) r.fail(segs, 'expected a package URL (pkg:type/name[@version])');
  return s;
}

export function policyBytes(policy: CompiledPolicy): Buffer {
  return canonicalBytes(policy);
}

export function policyDigest(policy: CompiledPolicy): Digest {
  return canonicalDigest(policy);
}

// ---- evaluation -----------------------------------------------------------------------------

const SEV_RANK: Record<Severity, number> = { unknown: -1, none: 0, low: 1, medium: 2, high: 3, critical: 4 };
const THRESHOLD_RANK: Record<Threshold, number> = { low: 1, medium: 2, high: 3, critical: 4, never: 99 };
const DECISION_RANK: Record<Decision, number> = { pass: 0, warn: 1, fail: 2 };

/** purl without qualifiers/subpath, and without the version when `withVersion` is false. */
function purlBase(p: string, withVersion: boolean): string {
  const core = p.split(/[?#]/)[0]!;
  if (withVersion) return core;
  const at = core.lastIndexOf('@');
  // An '@' right after the type slash or a '/' is a scope (%40 in canonical purls, but be lenient).
  return at > core.indexOf('/') + 1 && !core.slice(at).includes('/') ? core.slice(0, at) : core;
}

/** A rule's product/package purl matches a finding's: exact, or versionless rule matching any version. */
export function purlMatches(rule: string, finding: string): boolean {
  const r = purlBase(rule, true);
  return r === purlBase(finding, true) || (purlBase(rule, false) === r && r === purlBase(finding, false));
}

function names(f: Finding): string[] {
  return [f.vulnerability_id, ...f.aliases];
}

/** Calendar date (YYYY-MM-DD) of an instant, in UTC or in the given IANA zone. */
export function calendarDate(iso: string, timeZone?: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new StellaError('USAGE', `'${iso}' is not an RFC 3339 timestamp`);
  if (!timeZone) return new Date(t).toISOString().slice(0, 10);
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(t));
  const get = (k: string) => parts.find((p) => p.type === k)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

function dayNumber(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / 86_400_000;
}

/** Whole calendar days from `since` to `clock` (dates taken in UTC, or in timeZone when given). */
export function daysBetween(since: string, clock: string, timeZone?: string): number {
  const s = since.length === 10 ? since : calendarDate(since, timeZone);
  return dayNumber(calendarDate(clock, timeZone)) - dayNumber(s);
}

export interface EvaluateInput {
  findings: Finding[];
  /** The scan's ecosystem label (manifest labels.ecosystem), used when a finding's own has no override. */
  ecosystem: string;
  /** The scan clock (RFC 3339). Date rules read this, never the wall clock. */
  clock: string;
  /** Fault switch "TZ-dependent date rule": count days by calendar dates in this zone instead of UTC. */
  dateRuleTimeZone?: string;
}

export function evaluatePolicy(policy: CompiledPolicy, input: EvaluateInput): VerdictDoc {
  const { clock, dateRuleTimeZone: tz } = input;
  if (Number.isNaN(Date.parse(clock))) throw new StellaError('USAGE', `scan clock '${clock}' is not an RFC 3339 timestamp`);
  if (tz !== undefined) {
    try {
      new Intl.DateTimeFormat('en-CA', { timeZone: tz });
    } catch {
      throw new StellaError('USAGE', `'${tz}' is not an IANA time zone`);
    }
  }
  const today = calendarDate(clock, tz);
  const reasons: Array<VerdictReason & { effect: Decision }> = [];
  const add = (effect: Decision, code: string, subject: string, detail: string) => reasons.push({ effect, code, subject, detail });

  for (const f of input.findings) {
    const subject = `${f.vulnerability_id} ${f.package.purl}`;
    const ids = names(f);
    if (policy.honour_vex_not_affected) {
      const st = policy.vex.find((v) => v.status === 'not_affected' && ids.includes(v.vulnerability) && purlMatches(v.product, f.package.purl));
      if (st) {
        add('pass', 'VEX_NOT_AFFECTED', subject, `not_affected (${st.justification ?? st.impact_statement}) per pinned VEX statement for ${st.product}`);
        continue;
      }
    }
    const ignores = policy.ignore.filter((g) => ids.includes(g.id) && (g.package === null || purlMatches(g.package, f.package.purl)));
    const active = ignores.find((g) => today <= g.until);
    if (active) {
      add('pass', 'IGNORED', subject, `ignored until ${active.until}: ${active.reason}`);
      continue;
    }
    for (const g of ignores) add('warn', 'IGNORED_EXPIRED', subject, `ignore expired ${g.until} (scan date ${today}): ${g.reason}`);

    const own = (k: string) => (Object.hasOwn(policy.ecosystems, k) ? policy.ecosystems[k] : undefined);
    const override = own(f.package.ecosystem.toLowerCase()) ?? own(input.ecosystem.toLowerCase()) ?? {};
    const th = override.severity_threshold ?? policy.severity_threshold;
    if (f.severity === 'unknown') {
      const d = override.unknown_severity ?? policy.unknown_severity;
      if (d !== 'pass') add(d, 'SEV_UNKNOWN', subject, `no severity in the feed → ${d}`);
    } else {
      const rank = SEV_RANK[f.severity];
      const d: Decision = rank >= THRESHOLD_RANK[th.fail] ? 'fail' : rank >= THRESHOLD_RANK[th.warn] ? 'warn' : 'pass';
      if (d !== 'pass') add(d, `SEV_${f.severity.toUpperCase()}`, subject, `severity ${f.severity} ≥ ${d} threshold ${d === 'fail' ? th.fail : th.warn}`);
    }
    const rule = override.fix_available_days !== undefined ? override.fix_available_days : policy.fix_available_days;
    if (rule && f.fix_available_since) {
      const days = daysBetween(f.fix_available_since, clock, tz);
      if (days > rule.max_days && rule.decision !== 'pass') {
        add(rule.decision, `FIX_AVAILABLE_${rule.max_days}D`, subject, `fix available for ${days} days (since ${f.fix_available_since}) > ${rule.max_days}`);
      }
    }
  }
  reasons.sort((a, b) => compareCodeUnits(a.code, b.code) || compareCodeUnits(a.subject, b.subject) || compareCodeUnits(a.detail, b.detail));
  const decision = reasons.reduce<Decision>((d, r) => (DECISION_RANK[r.effect] > DECISION_RANK[d] ? r.effect : d), 'pass');
  return {
    schema: 'stella-verdict/v1',
    decision,
    reasons: reasons.map(({ code, subject, detail }) => ({ code, subject, detail })),
    policy_set: policy.policy_set,
    evaluated_at: clock,
  };
}

// ---- drift evidence --------------------------------------------------------------------------

export interface PolicyChange {
  path: string;
  before: unknown;
  after: unknown;
}

/** Rule-level differences, sorted by path. Ignore and VEX entries are keyed by what they apply to. */
export function diffPolicies(a: CompiledPolicy, b: CompiledPolicy): PolicyChange[] {
  const out: PolicyChange[] = [];
  const keyed = (p: CompiledPolicy): Record<string, unknown> => ({
    ...p,
    ignore: Object.fromEntries(p.ignore.map((g) => [`${g.id}${g.package ? ` ${g.package}` : ''}`, g])),
    vex: Object.fromEntries(p.vex.map((v) => [`${v.vulnerability} ${v.product}`, v])),
  });
  const walk = (x: unknown, y: unknown, segs: Seg[]) => {
    if (isObject(x) && isObject(y)) {
      const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort(compareCodeUnits);
      for (const k of keys) walk(x[k], y[k], [...segs, k]);
      return;
    }
    const cx = x === undefined ? undefined : canonicalBytes(x).toString();
    const cy = y === undefined ? undefined : canonicalBytes(y).toString();
    if (cx !== cy) out.push({ path: jsonPath(segs), before: x === undefined ? null : x, after: y === undefined ? null : y });
  };
  walk(keyed(a), keyed(b), []);
  return out.sort((p, q) => compareCodeUnits(p.path, q.path));
}
