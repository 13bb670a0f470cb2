// The cause classifier of SPEC §4: ordered rules, first match wins, each with evidence a human can check.
// Pure: the app layer resolves feed bundles and policies from the blob store and passes their diffs in.
import { compareCodeUnits, normalizeArtifact } from '../canonical/index.js';
import { ARTIFACT_NAMES, type ArtifactName, type MismatchReason, type ScanManifest } from '../formats.js';
import { unpinnedFields } from '../manifest/validate.js';
import { diffLeaves } from '../diff/leaves.js';
import type { Comparison, ScanRecord } from '../diff/types.js';
import type { OsvRecordEntry } from '../feed/osv.js';

/** Bumped whenever a rule, its order or the evidence shape changes; stored beside every tag. */
export const CLASSIFIER_VERSION = '1.0.0';

export type NondeterminismSubtag = 'ordering' | 'time' | 'rng' | 'concurrency' | 'unknown';
export type Side = 'a' | 'b';

export interface FeedRecordRef {
  id: string;
  change: 'added' | 'removed' | 'modified';
  path: string;
}
export type FlipChange = 'appeared' | 'disappeared' | 'severity_changed' | 'fix_changed';

export type Evidence =
  | { kind: 'manifest_field'; path: string; a: unknown; b: unknown }
  | { kind: 'executor_field'; field: string; a: unknown; b: unknown }
  | { kind: 'feed_finding'; vulnerability_id: string; purl: string; change: FlipChange; records: FeedRecordRef[] }
  | { kind: 'feed_unavailable'; side: Side; digest: string }
  | { kind: 'policy_rule'; path: string; before: unknown; after: unknown }
  | { kind: 'policy_unavailable'; side: Side; digest: string }
  | { kind: 'verdict_change'; a: string; b: string; codes_added: string[]; codes_removed: string[] }
  | { kind: 'unpinned'; side: Side; path: string; value: string }
  | { kind: 'network'; side: Side; value: string }
  | { kind: 'artifact_value'; artifact: ArtifactName; path: string; a: unknown; b: unknown; subtag: NondeterminismSubtag; near?: 'clock_value' | 'wall_time' }
  | { kind: 'permutation'; artifact: ArtifactName; path: string; subtag: 'ordering' | 'concurrency' }
  | { kind: 'semantic_change'; artifact: ArtifactName; counts: Record<string, number> }
  | { kind: 'repeats'; runs: Array<{ cpus: number; digests: Partial<Record<ArtifactName, string>> }> };

export interface Classification {
  /** null when the records match bitwise: there is nothing to explain. */
  mismatch_reason: MismatchReason | null;
  subtags: string[];
  evidence: Evidence[];
  classifier_version: string;
}

/** What changed between two feed bundles, reduced to the fields evidence needs. */
export interface FeedDiff {
  added: Array<{ id: string; aliases: string[]; path: string }>;
  removed: Array<{ id: string; aliases: string[]; path: string }>;
  modified: Array<{ id: string; aliases: string[]; path: string }>;
}

/** Feed evidence input: a diff when both bundles were resolved, else which side was unavailable. */
export type FeedInput = { kind: 'diff'; diff: FeedDiff } | { kind: 'unavailable'; sides: Array<{ side: Side; digest: string }> };
export type PolicyInput =
  | { kind: 'diff'; rules: Array<{ path: string; before: unknown; after: unknown }> }
  | { kind: 'unavailable'; sides: Array<{ side: Side; digest: string }> };

export interface ClassifyInput {
  a: ScanRecord;
  b: ScanRecord;
  comparison: Comparison;
  feed?: FeedInput;
  policy?: PolicyInput;
  /** Further replays of the same manifest, e.g. under different CPU counts. */
  repeats?: Array<{ cpus: number; digests: Partial<Record<ArtifactName, string>> }>;
}

/** Records keyed by OSV id; modified = same id, different record bytes. Pure and linear. */
export function diffFeedEntries(a: readonly OsvRecordEntry[], b: readonly OsvRecordEntry[]): FeedDiff {
  const ref = (e: OsvRecordEntry) => ({ id: e.record.id, aliases: [...(e.record.aliases ?? [])].sort(compareCodeUnits), path: e.path });
  const ma = new Map(a.map((e) => [e.record.id, e]));
  const mb = new Map(b.map((e) => [e.record.id, e]));
  const out: FeedDiff = { added: [], removed: [], modified: [] };
  for (const [id, ea] of ma) {
    const eb = mb.get(id);
    if (!eb) out.removed.push(ref(ea));
    else if (ea.sha256 !== eb.sha256) out.modified.push(ref(eb));
  }
  for (const [id, eb] of mb) if (!ma.has(id)) out.added.push(ref(eb));
  const byId = (x: { id: string }, y: { id: string }) => compareCodeUnits(x.id, y.id);
  out.added.sort(byId);
  out.removed.sort(byId);
  out.modified.sort(byId);
  return out;
}

const get = (o: unknown, segs: readonly string[]): unknown => segs.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);

function manifestFieldDiffs(a: ScanManifest, b: ScanManifest, fields: ReadonlyArray<readonly string[]>): Evidence[] {
  const out: Evidence[] = [];
  for (const segs of fields) {
    const x = get(a, segs);
    const y = get(b, segs);
    if (!same(x, y)) out.push({ kind: 'manifest_field', path: '$.' + segs.join('.'), a: x ?? null, b: y ?? null });
  }
  return out;
}

const FEED_FIELDS = [['feeds', 'vuln_feed_bundle_digest']] as const;
const POLICY_FIELDS = [['policy', 'policy_bundle_digest'], ['policy', 'policy_set']] as const;
const SCANNER_FIELDS = [
  ['scanner', 'engine'],
  ['scanner', 'scanner_image_digest'],
  ['scanner', 'scanner_version'],
  ['scanner', 'config_digest'],
  ['scanner', 'flags'],
  ['normalization', 'canonicalizer_version'],
] as const;
const RUNTIME_FIELDS = ['tz', 'locale', 'arch', 'os', 'clock_mode', 'clock_value', 'cpus'] as const;

/** The environment a record actually ran in: the executor's account for a replay, the manifest's pin otherwise. */
function effectiveEnv(r: ScanRecord): Record<string, unknown> {
  const env: Record<string, unknown> = { ...r.manifest.environment };
  if (r.replay) for (const f of RUNTIME_FIELDS) env[f] = r.replay.executor[f];
  return env;
}

function scannerEvidence(a: ScanRecord, b: ScanRecord): Evidence[] {
  const out = manifestFieldDiffs(a.manifest, b.manifest, SCANNER_FIELDS);
  // A replay may have run another image than the one its manifest pins (`--what-if --scanner`).
  const ia = a.replay?.executor.image_digest ?? a.manifest.scanner.scanner_image_digest;
  const ib = b.replay?.executor.image_digest ?? b.manifest.scanner.scanner_image_digest;
  if ((a.replay || b.replay) && ia !== ib && ia !== null && ib !== null && out.every((e) => e.kind !== 'manifest_field' || e.path !== '$.scanner.scanner_image_digest')) {
    out.push({ kind: 'executor_field', field: 'image_digest', a: ia, b: ib });
  }
  return out;
}

function runtimeEvidence(a: ScanRecord, b: ScanRecord): Evidence[] {
  const out: Evidence[] = [];
  const ea = effectiveEnv(a);
  const eb = effectiveEnv(b);
  for (const f of RUNTIME_FIELDS) {
    if (ea[f] === eb[f]) continue;
    const viaExecutor = Boolean(a.replay || b.replay) && a.manifest.environment[f] === b.manifest.environment[f];
    out.push(viaExecutor ? { kind: 'executor_field', field: f, a: ea[f], b: eb[f] } : { kind: 'manifest_field', path: `$.environment.${f}`, a: ea[f], b: eb[f] });
  }
  if (a.replay && b.replay && a.replay.executor.kind !== b.replay.executor.kind) {
    out.push({ kind: 'executor_field', field: 'kind', a: a.replay.executor.kind, b: b.replay.executor.kind });
  }
  return out;
}

function externalIoEvidence(a: ScanRecord, b: ScanRecord): Evidence[] {
  const out: Evidence[] = [];
  for (const [side, r] of [['a', a], ['b', b]] as const) {
    for (const p of unpinnedFields(r.manifest)) out.push({ kind: 'unpinned', side, path: p, value: String(get(r.manifest, p.slice(2).split('.'))) });
    if (r.manifest.environment.network !== 'disabled') out.push({ kind: 'network', side, value: r.manifest.environment.network });
    else if (r.replay && r.replay.executor.network !== 'none' && r.replay.executor.network !== 'disabled') out.push({ kind: 'network', side, value: r.replay.executor.network });
  }
  return out;
}

/** Every finding that flipped between the two records, with what changed. */
function flippedFindings(c: Comparison): Array<{ vulnerability_id: string; purl: string; change: FlipChange }> {
  const v = c.sf.vulnerabilities;
  const out = [
    ...v.appeared.map((x) => ({ vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'appeared' as const })),
    ...v.disappeared.map((x) => ({ vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'disappeared' as const })),
    ...v.severity_changed.map((x) => ({ vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'severity_changed' as const })),
    ...v.fix_changed.map((x) => ({ vulnerability_id: x.vulnerability_id, purl: x.purl, change: 'fix_changed' as const })),
  ];
  return out.sort((x, y) => compareCodeUnits(x.vulnerability_id, y.vulnerability_id) || compareCodeUnits(x.purl, y.purl) || compareCodeUnits(x.change, y.change));
}

/** Names a finding is known by on either side: its id, aliases and the ids of the records that produced it. */
function findingNames(r: ScanRecord, vulnerabilityId: string, purl: string): Set<string> {
  const names = new Set([vulnerabilityId]);
  const doc = r.artifacts.findings.doc as { findings?: Array<{ vulnerability_id?: string; aliases?: string[]; package?: { purl?: string }; sources?: Array<{ id?: string }> }> };
  for (const f of doc.findings ?? []) {
    if (f.vulnerability_id !== vulnerabilityId || f.package?.purl !== purl) continue;
    for (const a of f.aliases ?? []) names.add(a);
    for (const s of f.sources ?? []) if (s.id) names.add(s.id);
  }
  return names;
}

function feedEvidence(input: ClassifyInput): Evidence[] {
  const { a, b, comparison, feed } = input;
  const out: Evidence[] = manifestFieldDiffs(a.manifest, b.manifest, FEED_FIELDS);
  if (!feed) return out;
  if (feed.kind === 'unavailable') {
    for (const s of feed.sides) out.push({ kind: 'feed_unavailable', side: s.side, digest: s.digest });
    return out;
  }
  const { diff } = feed;
  const candidates: Record<FlipChange, Array<[FeedRecordRef['change'], FeedDiff['added']]>> = {
    appeared: [['added', diff.added], ['modified', diff.modified]],
    disappeared: [['removed', diff.removed], ['modified', diff.modified]],
    severity_changed: [['modified', diff.modified], ['added', diff.added], ['removed', diff.removed]],
    fix_changed: [['modified', diff.modified], ['added', diff.added], ['removed', diff.removed]],
  };
  for (const flip of flippedFindings(comparison)) {
    const names = new Set([...findingNames(a, flip.vulnerability_id, flip.purl), ...findingNames(b, flip.vulnerability_id, flip.purl)]);
    const records: FeedRecordRef[] = [];
    for (const [change, list] of candidates[flip.change]) {
      for (const r of list) if (names.has(r.id) || r.aliases.some((x) => names.has(x))) records.push({ id: r.id, change, path: r.path });
    }
    records.sort((x, y) => compareCodeUnits(x.id, y.id) || compareCodeUnits(x.change, y.change));
    out.push({ kind: 'feed_finding', ...flip, records });
  }
  return out;
}

function verdictEvidence(c: Comparison): Evidence[] {
  if (c.pf.match) return [];
  return [{ kind: 'verdict_change', a: c.pf.decision.a, b: c.pf.decision.b, codes_added: c.pf.reasons.added, codes_removed: c.pf.reasons.removed }];
}

function policyEvidence(input: ClassifyInput): Evidence[] {
  const out = manifestFieldDiffs(input.a.manifest, input.b.manifest, POLICY_FIELDS);
  const p = input.policy;
  if (p?.kind === 'diff') for (const r of p.rules) out.push({ kind: 'policy_rule', path: r.path, before: r.before, after: r.after });
  else if (p?.kind === 'unavailable') for (const s of p.sides) out.push({ kind: 'policy_unavailable', side: s.side, digest: s.digest });
  return [...out, ...verdictEvidence(input.comparison)];
}

// ---- nondeterminism: read the artifacts themselves ---------------------------------------------
const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
// A long run of hex or base64url characters mixing letters and digits: a random token.
const RANDOMISH = /(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}/;
const NEAR_MS = 36 * 3600 * 1000;
const MAX_VALUE_EVIDENCE = 20;
// Sub-tags are read from the first differences; past this many the picture does not change.
const LEAF_LIMIT = 1000;

function valueSubtag(x: unknown, y: unknown): NondeterminismSubtag {
  if (typeof x === 'string' && typeof y === 'string') {
    if (ISO_TIME.test(x) && ISO_TIME.test(y)) return 'time';
    if (UUID.test(x) || UUID.test(y)) return 'rng';
    const rx = RANDOMISH.exec(x)?.[0];
    const ry = RANDOMISH.exec(y)?.[0];
    if (rx && ry && rx !== ry && rx.length === ry.length) return 'rng';
  }
  return 'unknown';
}

function nearWhat(values: unknown[], r: ScanRecord): 'clock_value' | 'wall_time' | undefined {
  const ts = values.filter((v): v is string => typeof v === 'string').map((v) => Date.parse(v)).filter((n) => !Number.isNaN(n));
  const clock = Date.parse(r.manifest.environment.clock_value);
  if (ts.some((t) => Math.abs(t - clock) <= NEAR_MS)) return 'clock_value';
  const wall = [r.manifest.created_at, r.replay?.started_at, r.replay?.finished_at].map((v) => (v ? Date.parse(v) : NaN)).filter((n) => !Number.isNaN(n));
  if (ts.some((t) => wall.some((w) => Math.abs(t - w) <= NEAR_MS))) return 'wall_time';
  return undefined;
}

/** Evidence values stay small: a long value is shown by its type and size, not copied. */
function brief(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'string' && v.length > 200 ? `${v.slice(0, 197)}...` : v;
  const size = JSON.stringify(v).length;
  if (size <= 200) return v;
  return Array.isArray(v) ? `array(${v.length})` : `object(${Object.keys(v).length} keys)`;
}

/** The SF differences inside one artifact, as counts; empty when SF sees none there. */
function semanticCounts(c: Comparison, name: ArtifactName): Record<string, number> {
  const counts: Record<string, number> = {};
  const put = (k: string, n: number) => {
    if (n) counts[k] = n;
  };
  const v = c.sf.vulnerabilities;
  switch (name) {
    case 'sbom':
      put('packages_added', c.sf.packages.added.length);
      put('packages_removed', c.sf.packages.removed.length);
      put('packages_changed', c.sf.packages.changed.length);
      break;
    case 'findings':
      put('vulnerabilities_appeared', v.appeared.length);
      put('vulnerabilities_disappeared', v.disappeared.length);
      put('severity_changed', v.severity_changed.length);
      put('fix_changed', v.fix_changed.length);
      break;
    case 'vex':
      put('vex_status_flips', c.sf.vex.status_flips.length);
      break;
    case 'verdict':
      put('reasons_added', c.sf.verdict.reasons.added.length);
      put('reasons_removed', c.sf.verdict.reasons.removed.length);
      if (c.sf.verdict.a !== c.sf.verdict.b) put('decision_changed', 1);
      break;
    default: {
      const _exhaustive: never = name;
      return _exhaustive;
    }
  }
  return counts;
}

function nondeterminism(input: ClassifyInput): { subtags: NondeterminismSubtag[]; evidence: Evidence[] } {
  const { a, b, comparison } = input;
  const tags = new Set<NondeterminismSubtag>();
  const evidence: Evidence[] = [];
  for (const art of comparison.bf.artifacts) {
    if (art.canonical_equal) continue;
    const name = art.name;
    // Sub-tags describe the noise SF ignores (timestamps, ids, order). When the results themselves
    // differ with every input equal, nothing in the bytes says why: `unknown`, with what changed.
    // This also keeps the costly leaf walk off two large, semantically different documents.
    const counts = semanticCounts(comparison, name);
    if (Object.keys(counts).length) {
      tags.add('unknown');
      evidence.push({ kind: 'semantic_change', artifact: name, counts });
      continue;
    }
    const schema = a.artifacts[name].schema;
    const diffs = diffLeaves(normalizeArtifact(schema, a.artifacts[name].doc), normalizeArtifact(schema, b.artifacts[name].doc), LEAF_LIMIT);
    let shown = 0;
    for (const d of diffs) {
      if (d.kind === 'permutation') {
        // `sources` records which matcher worker hit a feed record first: a permutation there is a race.
        const last = d.segments[d.segments.length - 1];
        const subtag = last === 'sources' ? 'concurrency' : 'ordering';
        tags.add(subtag);
        if (shown++ < MAX_VALUE_EVIDENCE) evidence.push({ kind: 'permutation', artifact: name, path: d.path, subtag });
        continue;
      }
      const subtag = valueSubtag(d.before, d.after);
      tags.add(subtag);
      if (shown++ >= MAX_VALUE_EVIDENCE) continue;
      const e: Evidence = { kind: 'artifact_value', artifact: name, path: d.path, a: brief(d.before), b: brief(d.after), subtag };
      if (subtag === 'time') {
        const near = nearWhat([d.before, d.after], b) ?? nearWhat([d.before, d.after], a);
        if (near) e.near = near;
      }
      evidence.push(e);
    }
  }
  const repeats = input.repeats ?? [];
  if (repeats.length > 1) {
    const cpus = new Set(repeats.map((r) => r.cpus));
    const outputs = new Set(repeats.map((r) => ARTIFACT_NAMES.map((n) => r.digests[n] ?? '').join(',')));
    if (cpus.size > 1 && outputs.size > 1) {
      tags.add('concurrency');
      const runs = [...repeats].sort((x, y) => x.cpus - y.cpus || compareCodeUnits(JSON.stringify(x.digests), JSON.stringify(y.digests)));
      evidence.push({ kind: 'repeats', runs });
    }
  }
  if (tags.size === 0) tags.add('unknown');
  // `unknown` only when nothing better explains any part of the difference.
  if (tags.size > 1) tags.delete('unknown');
  return { subtags: [...tags].sort(compareCodeUnits), evidence };
}

/**
 * What one rule finds in two records, whichever rule won: the evidence the Diff screen opens on for a
 * cause (src/core/classify/evidence.ts), also for a human tag the classifier did not choose.
 */
export function ruleEvidence(reason: MismatchReason, input: ClassifyInput): Evidence[] {
  const { a, b, comparison } = input;
  switch (reason) {
    case 'feed_drift':
      return feedEvidence(input);
    case 'policy_drift':
      return policyEvidence(input);
    case 'scanner_drift':
      return scannerEvidence(a, b);
    case 'runtime_drift':
      return [...runtimeEvidence(a, b), ...verdictEvidence(comparison)];
    case 'external_io':
      return externalIoEvidence(a, b);
    case 'nondeterminism':
      return nondeterminism(input).evidence;
    default: {
      const _exhaustive: never = reason;
      return _exhaustive;
    }
  }
}

/** Classify why `b` does not match `a` (SPEC §4). The first rule that matches wins. */
export function classify(input: ClassifyInput): Classification {
  const { a, b, comparison } = input;
  const done = (mismatch_reason: MismatchReason | null, subtags: string[], evidence: Evidence[]): Classification => ({
    mismatch_reason,
    subtags,
    evidence,
    classifier_version: CLASSIFIER_VERSION,
  });
  if (comparison.bf.match) return done(null, [], []);

  if (a.manifest.feeds.vuln_feed_bundle_digest !== b.manifest.feeds.vuln_feed_bundle_digest) {
    const unpinned = unpinnedFields(a.manifest).includes('$.feeds.vuln_feed_bundle_digest') || unpinnedFields(b.manifest).includes('$.feeds.vuln_feed_bundle_digest');
    return done('feed_drift', unpinned ? ['unpinned'] : [], feedEvidence(input));
  }
  const policy = manifestFieldDiffs(a.manifest, b.manifest, POLICY_FIELDS);
  if (policy.length) return done('policy_drift', [], policyEvidence(input));
  const scanner = scannerEvidence(a, b);
  if (scanner.length) return done('scanner_drift', [], scanner);
  const runtime = runtimeEvidence(a, b);
  if (runtime.length) {
    const subtags = [...new Set(runtime.map((e) => (e.kind === 'manifest_field' ? e.path.split('.').pop()! : e.kind === 'executor_field' ? e.field : '')))].sort(compareCodeUnits);
    return done('runtime_drift', subtags, [...runtime, ...verdictEvidence(comparison)]);
  }
  const io = externalIoEvidence(a, b);
  if (io.length) {
    const subtags = [...new Set(io.map((e) => (e.kind === 'network' ? 'network' : 'unpinned')))].sort(compareCodeUnits);
    return done('external_io', subtags, io);
  }
  const nd = nondeterminism(input);
  return done('nondeterminism', nd.subtags, nd.evidence);
}
export { explainParagraph } from './explain.js';
