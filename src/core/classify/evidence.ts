// The evidence the Diff screen opens on (issue 13, item 8): for the cause a replay carries, the facts
// in its two records that show it — pins and environment that differ (image digest a -> b, tz UTC ->
// America/New_York), the output values that look random or time-like, raw-order instability, the
// network and unpinned inputs, the feed/policy digests and the vulnerabilities that flipped. Derived
// at view time from the original and replay records with the classifier's own rules, plus the
// per-item evidence the replay's diff_summary recorded (feed records, policy rules: they need the
// bundles, which the blob store may no longer hold). Pure: records in, facts out.
import { compareCodeUnits } from '../canonical/index.js';
import { compareRecords } from '../diff/compare.js';
import type { Comparison, ScanRecord } from '../diff/types.js';
import { ARTIFACT_NAMES, MISMATCH_REASONS, type MismatchReason } from '../formats.js';
import { isObject } from '../guards.js';
import { ruleEvidence, type ClassifyInput, type Evidence } from './index.js';

/** One fact: a change (original `a`, replay `b`), or a sentence when `a`/`b` are absent. */
export interface EvidenceFact {
  label: string;
  a?: string;
  b?: string;
}

export interface EvidenceGroup {
  title: string;
  facts: EvidenceFact[];
  /** Facts left out past MAX_FACTS. */
  more: number;
}

export interface CauseEvidence {
  cause: MismatchReason | null;
  subtags: string[];
  /** One sentence: what the cause means for this replay. */
  headline: string;
  groups: EvidenceGroup[];
}

/** What the replay record and the index say about it (the tag shown may be a human's). */
export interface RecordedCause {
  tag: MismatchReason | null;
  auto: MismatchReason | null;
  subtags: readonly string[];
  diff_summary: unknown;
  warnings: readonly string[];
}

export interface EvidenceInput {
  original: ScanRecord;
  replay: ScanRecord;
  recorded: RecordedCause;
  /** Computed by the caller when it has one; else compared here. */
  comparison?: Comparison;
}

export const MAX_FACTS = 12;

const FIELD_LABELS: Record<string, string> = {
  '$.feeds.vuln_feed_bundle_digest': 'feed bundle',
  '$.feeds.license_db_digest': 'license db',
  '$.policy.policy_bundle_digest': 'policy bundle',
  '$.policy.policy_set': 'policy set',
  '$.scanner.engine': 'scanner engine',
  '$.scanner.scanner_image_digest': 'scanner image',
  '$.scanner.scanner_version': 'scanner version',
  '$.scanner.config_digest': 'scanner config',
  '$.scanner.flags': 'scanner flags',
  '$.normalization.canonicalizer_version': 'canonicalizer',
  '$.input.ref': 'input ref',
  '$.input.digest': 'input digest',
};
const ENV_LABELS: Record<string, string> = {
  tz: 'time zone',
  locale: 'locale',
  arch: 'arch',
  os: 'os',
  clock_mode: 'clock mode',
  clock_value: 'clock',
  cpus: 'cpus',
  kind: 'executor kind',
  image_digest: 'scanner image',
  network: 'network',
};

const HEADLINES: Record<MismatchReason, string> = {
  feed_drift: 'the replay matched against another vulnerability feed',
  policy_drift: 'the replay was judged by another policy',
  scanner_drift: 'the replay ran another scanner (image, version or config)',
  runtime_drift: 'the replay ran in another environment',
  external_io: 'a run reached outside its pins',
  nondeterminism: 'the outputs differ with every pinned input equal',
};
const ND_HEADLINES: Record<string, string> = {
  rng: 'values that look random differ',
  time: 'timestamps differ',
  ordering: 'the same items came out in another order',
  concurrency: 'the order depends on which worker finished first',
  unknown: 'the results differ and nothing in the bytes says why',
};

/** A value as one line of text: strings bare, arrays joined, nothing as `(none)`. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return '(none)';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length === 0 ? '(none)' : v.map(showValue).join(', ');
  if (isObject(v) && typeof v.code === 'string') return `${v.code}${typeof v.subject === 'string' && v.subject ? `(${v.subject})` : ''}`;
  return JSON.stringify(v);
}

const words = (k: string): string => k.replace(/_/g, ' ');

/** One classifier evidence item as a fact (null: nothing a reader needs). */
export function factOf(e: Evidence): EvidenceFact | null {
  switch (e.kind) {
    case 'manifest_field':
      return { label: `${FIELD_LABELS[e.path] ?? e.path}  ${e.path}`, a: showValue(e.a), b: showValue(e.b) };
    case 'executor_field':
      return { label: `${ENV_LABELS[e.field] ?? e.field}  executor ${e.field}`, a: showValue(e.a), b: showValue(e.b) };
    case 'feed_finding':
      return null;
    case 'feed_unavailable':
      return { label: `feed bundle ${e.digest} (${e.side === 'a' ? 'original' : 'replay'}) is not in the blob store: the changed records cannot be named` };
    case 'policy_rule':
      return { label: `policy rule ${e.path}`, a: showValue(e.before), b: showValue(e.after) };
    case 'policy_unavailable':
      return { label: `policy bundle ${e.digest} (${e.side === 'a' ? 'original' : 'replay'}) is not in the blob store: the changed rules cannot be named` };
    case 'verdict_change':
      return {
        label: 'verdict',
        a: `${e.a}${e.codes_removed.length ? ` (-${e.codes_removed.join(', -')})` : ''}`,
        b: `${e.b}${e.codes_added.length ? ` (+${e.codes_added.join(', +')})` : ''}`,
      };
    case 'unpinned':
      return { label: `${e.side === 'a' ? 'original' : 'replay'} does not pin ${e.path} (it says ${JSON.stringify(e.value)}): whatever was current was read` };
    case 'network':
      return { label: `${e.side === 'a' ? 'original' : 'replay'} ran with the network ${e.value} ($.environment.network)` };
    case 'artifact_value': {
      const how = e.subtag === 'rng' ? 'looks random' : e.subtag === 'time' ? `a time${e.near ? `, near the ${words(e.near)}` : ''}` : 'differs';
      return { label: `${e.artifact} ${e.path}  ${how}`, a: showValue(e.a), b: showValue(e.b) };
    }
    case 'permutation':
      return { label: `${e.artifact} ${e.path}: the same items in another order (${e.subtag})` };
    case 'semantic_change':
      return { label: `${e.artifact}: ${Object.entries(e.counts).map(([k, n]) => `${words(k)} ${n}`).join(', ')}` };
    case 'repeats':
      return { label: `repeated replays with ${e.runs.map((r) => r.cpus).join('/')} cpus gave different outputs` };
    default: {
      const _exhaustive: never = e;
      return _exhaustive;
    }
  }
}

const PIN_KINDS = new Set<Evidence['kind']>(['manifest_field', 'executor_field', 'unpinned', 'network']);

function group(title: string, facts: EvidenceFact[]): EvidenceGroup {
  return { title, facts: facts.slice(0, MAX_FACTS), more: Math.max(0, facts.length - MAX_FACTS) };
}

function factsOf(evidence: readonly Evidence[], replay?: ScanRecord): EvidenceFact[] {
  const out: EvidenceFact[] = [];
  const seen = new Set<string>();
  for (const e of evidence) {
    // The replay side's manifest may pin a network its executor never had: say both.
    const ran = replay?.replay?.executor.network;
    const f =
      e.kind === 'network' && e.side === 'b' && ran && e.value !== ran
        ? { label: `replay's manifest pins the network ${e.value} ($.environment.network); its executor ran with network ${ran}` }
        : factOf(e);
    if (!f) continue;
    const key = JSON.stringify(f);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}

/** The per-item evidence of a recorded diff_summary (untrusted JSON: only well-formed items count). */
function recordedItemEvidence(summary: unknown): Array<Record<string, unknown>> {
  if (!isObject(summary) || !Array.isArray(summary.items)) return [];
  const out: Array<Record<string, unknown>> = [];
  for (const it of summary.items) if (isObject(it) && Array.isArray(it.evidence)) for (const e of it.evidence) if (isObject(e)) out.push(e);
  return out;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Feed records the replay's diff_summary named for a flipped finding, as `added GHSA-…`. */
function feedRecordsFor(recorded: ReadonlyArray<Record<string, unknown>>, id: string, purl: string): string[] {
  const out = new Set<string>();
  for (const e of recorded) {
    if (e.kind !== 'feed_finding' || e.vulnerability_id !== id || e.purl !== purl || !Array.isArray(e.records)) continue;
    for (const r of e.records) if (isObject(r) && typeof r.id === 'string') out.add(`${str(r.change) || 'changed'} ${r.id}`);
  }
  return [...out].sort(compareCodeUnits);
}

/** Every finding that flipped, with the feed records that explain it when the summary recorded them. */
function flipFacts(c: Comparison, recorded: ReadonlyArray<Record<string, unknown>>): EvidenceFact[] {
  const v = c.sf.vulnerabilities;
  const rows: Array<{ id: string; purl: string; change: string; a: string; b: string }> = [
    ...v.appeared.map((x) => ({ id: x.vulnerability_id, purl: x.purl, change: 'appeared', a: '(absent)', b: x.severity })),
    ...v.disappeared.map((x) => ({ id: x.vulnerability_id, purl: x.purl, change: 'disappeared', a: x.severity, b: '(absent)' })),
    ...v.severity_changed.map((x) => ({ id: x.vulnerability_id, purl: x.purl, change: 'severity changed', a: showValue(x.a), b: showValue(x.b) })),
    ...v.fix_changed.map((x) => ({ id: x.vulnerability_id, purl: x.purl, change: 'fix changed', a: showValue(x.a), b: showValue(x.b) })),
  ];
  rows.sort((x, y) => compareCodeUnits(x.id, y.id) || compareCodeUnits(x.purl, y.purl) || compareCodeUnits(x.change, y.change));
  return rows.map((r) => {
    const recs = feedRecordsFor(recorded, r.id, r.purl);
    return { label: `${r.id} ${r.purl} ${r.change}${recs.length ? ` (feed: ${recs.join(', ')})` : ''}`, a: r.a, b: r.b };
  });
}

/** Policy rules and unavailable bundles the replay's diff_summary recorded (they need the bundles), of the given kinds. */
function recordedFacts(recorded: ReadonlyArray<Record<string, unknown>>, kinds: ReadonlySet<string>): EvidenceFact[] {
  const ev: Evidence[] = [];
  for (const e of recorded) {
    if (typeof e.kind !== 'string' || !kinds.has(e.kind)) continue;
    if (e.kind === 'policy_rule' && typeof e.path === 'string') ev.push({ kind: 'policy_rule', path: e.path, before: e.before, after: e.after });
    if (e.kind === 'policy_unavailable' && (e.side === 'a' || e.side === 'b') && typeof e.digest === 'string') ev.push({ kind: 'policy_unavailable', side: e.side, digest: e.digest });
    if (e.kind === 'feed_unavailable' && (e.side === 'a' || e.side === 'b') && typeof e.digest === 'string') ev.push({ kind: 'feed_unavailable', side: e.side, digest: e.digest });
  }
  return factsOf(ev);
}
const POLICY_RECORDED = new Set(['policy_rule', 'policy_unavailable']);
const FEED_RECORDED = new Set(['feed_unavailable']);

/** Artifacts whose raw bytes differ while their canonical bytes are equal: the scanner's own order is not stable. */
function rawOrderFacts(input: EvidenceInput): EvidenceFact[] {
  const out: EvidenceFact[] = [];
  for (const name of ARTIFACT_NAMES) {
    const x = input.original.artifacts[name];
    const y = input.replay.artifacts[name];
    if (x.canonical_sha256 !== y.canonical_sha256 || x.raw_sha256 === y.raw_sha256) continue;
    out.push({ label: `${name} ${y.path}: raw bytes differ, canonical bytes equal (raw sha256)`, a: x.raw_sha256, b: y.raw_sha256 });
  }
  if (input.recorded.warnings.includes('unstable_raw_order')) out.push({ label: "replay warning unstable_raw_order: the scanner's raw output order is not stable" });
  return out;
}

function resultCounts(c: Comparison): string | null {
  const v = c.sf.vulnerabilities;
  const parts: Array<[string, string, number]> = [
    ['package', 'added', c.sf.packages.added.length],
    ['package', 'removed', c.sf.packages.removed.length],
    ['package', 'changed', c.sf.packages.changed.length],
    ['vulnerability', 'appeared', v.appeared.length],
    ['vulnerability', 'disappeared', v.disappeared.length],
    ['severity', 'changed', v.severity_changed.length],
    ['fix version', 'changed', v.fix_changed.length],
    ['VEX status', 'flipped', c.sf.vex.status_flips.length],
    ['verdict reason', 'added', c.sf.verdict.reasons.added.length],
    ['verdict reason', 'removed', c.sf.verdict.reasons.removed.length],
  ];
  const plural = (noun: string): string => (noun.endsWith('y') ? `${noun.slice(0, -1)}ies` : noun.endsWith('s') ? `${noun}es` : `${noun}s`);
  const said = parts.filter(([, , n]) => n > 0).map(([noun, verb, n]) => `${n} ${n === 1 ? noun : plural(noun)} ${verb}`);
  return said.length ? said.join(', ') : null;
}

/** Facts of one rule, in the order a reader needs them, split into the cause and what it did to the outputs. */
function causeGroups(cause: MismatchReason, cls: ClassifyInput, input: EvidenceInput, recorded: ReadonlyArray<Record<string, unknown>>): { cause: EvidenceFact[]; outputs: EvidenceFact[] } {
  const c = cls.comparison;
  const rule = ruleEvidence(cause, cls);
  if (cause === 'nondeterminism') return { cause: factsOf(rule), outputs: rawOrderFacts(input) };
  const primary = factsOf(rule.filter((e) => e.kind !== 'verdict_change'), input.replay);
  if (cause === 'policy_drift') primary.push(...recordedFacts(recorded, POLICY_RECORDED));
  if (cause === 'feed_drift') primary.push(...recordedFacts(recorded, FEED_RECORDED));
  const outputs: EvidenceFact[] = [];
  const counts = resultCounts(c);
  if (counts) outputs.push({ label: `results: ${counts}` });
  outputs.push(...flipFacts(c, recorded));
  outputs.push(...factsOf(rule.filter((e) => e.kind === 'verdict_change')));
  if (!c.pf.match && !rule.some((e) => e.kind === 'verdict_change')) {
    outputs.push({ label: 'verdict', a: `${c.pf.decision.a}${c.pf.reasons.removed.length ? ` (-${c.pf.reasons.removed.join(', -')})` : ''}`, b: `${c.pf.decision.b}${c.pf.reasons.added.length ? ` (+${c.pf.reasons.added.join(', +')})` : ''}` });
  }
  // What differs in the outputs SF does not look at (the classifier's value and order reading).
  const values = ruleEvidence('nondeterminism', cls).filter((e) => e.kind === 'artifact_value' || e.kind === 'permutation');
  outputs.push(...factsOf(values));
  return { cause: primary, outputs };
}

function headlineOf(cause: MismatchReason | null, subtags: readonly string[], input: EvidenceInput): string {
  if (cause === null) {
    const raw = rawOrderFacts(input).length > 0;
    return raw ? 'the replay matched its original, but the raw output order was not stable' : 'the replay matched its original';
  }
  const base = HEADLINES[cause];
  if (cause === 'nondeterminism') {
    const said = subtags.map((t) => ND_HEADLINES[t]).filter((x): x is string => Boolean(x));
    return `${base}: ${said.length ? said.join('; ') : ND_HEADLINES.unknown}`;
  }
  return subtags.length ? `${base} (${subtags.join(', ')})` : base;
}

/** The evidence for the cause the replay carries, read from its two records. */
export function causeEvidence(input: EvidenceInput): CauseEvidence {
  const { original: a, replay: b, recorded } = input;
  const comparison = input.comparison ?? compareRecords(a, b);
  const cls: ClassifyInput = { a, b, comparison };
  const items = recordedItemEvidence(recorded.diff_summary);
  const subtags = [...recorded.subtags];
  const cause = recorded.tag;
  const groups: EvidenceGroup[] = [];
  let headline = headlineOf(cause, subtags, input);
  if (cause === null) {
    const raw = rawOrderFacts(input);
    if (raw.length) groups.push(group('Raw order', raw));
    return { cause, subtags, headline, groups };
  }
  let shown: MismatchReason = cause;
  let g = causeGroups(cause, cls, input, items);
  if (recorded.auto && recorded.auto !== cause) {
    headline = `retagged ${cause} (the classifier said ${recorded.auto}): ${headline}`;
    if (g.cause.length === 0) {
      // The human tag finds nothing in the records: show what the classifier's rule found.
      groups.push(group(`No ${cause} evidence in the records`, [{ label: `nothing the ${cause} rule reads differs; the ${recorded.auto} rule finds:` }]));
      shown = recorded.auto;
      g = causeGroups(recorded.auto, cls, input, items);
    }
  }
  groups.push(group(shown === cause ? 'What differs' : `What differs (the classifier's ${shown})`, g.cause.length ? g.cause : [{ label: `no ${shown} evidence found in the two records` }]));
  if (g.outputs.length) groups.push(group('In the outputs', g.outputs));
  // Other pins or environment that differ too (the first rule that matched hides them otherwise).
  const also: Evidence[] = [];
  for (const other of MISMATCH_REASONS) {
    if (other === shown || other === 'nondeterminism') continue;
    also.push(...ruleEvidence(other, cls).filter((e) => PIN_KINDS.has(e.kind)));
  }
  const alsoFacts = factsOf(also, b).filter((f) => !g.cause.some((x) => x.label === f.label));
  if (alsoFacts.length) groups.push(group('Also differs', alsoFacts));
  return { cause, subtags, headline, groups };
}
