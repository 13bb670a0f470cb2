// The golden canary set: its spec file (validated with JSON paths) and the release gate over a canary
// run. Pure: the runner hands in parsed JSON and replay facts.
import { StellaError, jsonPath } from '../errors.js';
import type { MismatchReason } from '../formats.js';
import { cellsOf, type BucketCounts, type Counts, type ReplayFacts } from '../fidelity/index.js';
import { evaluateGate, type GateResult, type GateState } from '../gate/index.js';
import { isObject as isObj } from '../guards.js';

export interface CanaryEntry {
  id: string;
  /** Path under fixtures/third_party. */
  input: string;
  labels: { ecosystem: string; base_os: string; regulated: boolean; project: string };
}

export interface CanarySet {
  canary_set_version: string;
  /** OSV records under fixtures/third_party/<source>/<include…> (the linter test cases are not advisories). */
  feed: { source: string; include: string[]; generated_at: string };
  policy: string;
  clock: string;
  canaries: CanaryEntry[];
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Validate canaries.json; the first problem is thrown with its JSON path. */
export function parseCanarySet(value: unknown, file: string): CanarySet {
  const bad = (segs: Array<string | number>, msg: string) => new StellaError('SCHEMA_INVALID', msg, { file, path: jsonPath(segs) });
  if (!isObj(value)) throw bad([], 'the canary set must be an object');
  if (value.canary_set_version !== '1') throw bad(['canary_set_version'], `unsupported canary set version ${JSON.stringify(value.canary_set_version)} (expected "1")`);
  const feed = value.feed;
  if (!isObj(feed)) throw bad(['feed'], 'must be an object {source, generated_at}');
  if (typeof feed.source !== 'string' || !/^[A-Za-z0-9._-]+$/.test(feed.source)) throw bad(['feed', 'source'], 'must name a directory under fixtures/third_party');
  if (typeof feed.generated_at !== 'string' || !ISO_RE.test(feed.generated_at)) throw bad(['feed', 'generated_at'], 'must be an RFC 3339 UTC time');
  if (!Array.isArray(feed.include) || feed.include.length === 0) throw bad(['feed', 'include'], 'must list the record directories to bundle');
  const include = feed.include.map((d, i) => {
    if (typeof d !== 'string' || !/^[A-Za-z0-9._-]+$/.test(d) || d === '..' || d === '.') throw bad(['feed', 'include', i], 'must name a directory under the feed source');
    return d;
  });
  if (typeof value.policy !== 'string' || value.policy.length === 0) throw bad(['policy'], 'must be the path of the policy file');
  if (typeof value.clock !== 'string' || !ISO_RE.test(value.clock)) throw bad(['clock'], 'must be an RFC 3339 UTC time');
  if (!Array.isArray(value.canaries) || value.canaries.length === 0) throw bad(['canaries'], 'must be a non-empty array');
  const seen = new Set<string>();
  const canaries = value.canaries.map((c, i): CanaryEntry => {
    if (!isObj(c)) throw bad(['canaries', i], 'must be an object {id, input, labels}');
    if (typeof c.id !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(c.id)) throw bad(['canaries', i, 'id'], 'must be a lowercase name ([a-z0-9._-])');
    if (seen.has(c.id)) throw bad(['canaries', i, 'id'], `duplicate canary id ${c.id}`);
    seen.add(c.id);
    if (typeof c.input !== 'string' || c.input.startsWith('/') || c.input.split('/').includes('..')) throw bad(['canaries', i, 'input'], 'must be a relative path under fixtures/third_party');
    const l = c.labels;
    if (!isObj(l)) throw bad(['canaries', i, 'labels'], 'must be an object {ecosystem, base_os, regulated, project}');
    for (const k of ['ecosystem', 'base_os', 'project'] as const) {
      if (typeof l[k] !== 'string' || (l[k] as string).length === 0) throw bad(['canaries', i, 'labels', k], 'must be a non-empty string');
    }
    if (typeof l.regulated !== 'boolean') throw bad(['canaries', i, 'labels', 'regulated'], 'must be true or false');
    return { id: c.id, input: c.input, labels: { ecosystem: l.ecosystem as string, base_os: l.base_os as string, regulated: l.regulated, project: l.project as string } };
  });
  return { canary_set_version: '1', feed: { source: feed.source, include, generated_at: feed.generated_at }, policy: value.policy, clock: value.clock, canaries };
}

export interface CanaryOutcome {
  id: string;
  facts: ReplayFacts;
  reason: MismatchReason | null;
}

export interface CanaryGate {
  state: GateState;
  reasons: string[];
  /** The SPEC §5 gate over the canary replays alone (buckets of any size count). */
  gate: GateResult;
  /** Canaries are golden: every one must match bitwise, whatever the ratio rules say. */
  canary_rule: { ok: boolean; mismatched: Array<{ id: string; status: string; reason: MismatchReason | null }> };
}

/** Sum the rollup cells of a set of replays per (dim, bucket). */
export function bucketCounts(facts: readonly ReplayFacts[]): BucketCounts[] {
  const sums = new Map<string, BucketCounts>();
  for (const f of facts) {
    for (const cell of cellsOf(f)) {
      const key = JSON.stringify([cell.dim, cell.bucket]);
      const cur = sums.get(key) ?? { dim: cell.dim, bucket: cell.bucket, total: 0, n: 0, bf: 0, sf: 0, pf: 0, errors: 0, dur_sum_ms: 0, dur_n: 0 };
      for (const k of Object.keys(cell.c) as Array<keyof Counts>) cur[k] += cell.c[k];
      sums.set(key, cur);
    }
  }
  return [...sums.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, v]) => v);
}

export function gateCanaries(outcomes: readonly CanaryOutcome[]): CanaryGate {
  const gate = evaluateGate({ window30: bucketCounts(outcomes.map((o) => o.facts)), lastWeek: [], prevWeek: [], minBucketReplays: 1 });
  const mismatched = outcomes
    .filter((o) => o.facts.status !== 'passed' || o.facts.bf_match !== true)
    .map((o) => ({ id: o.id, status: o.facts.status, reason: o.reason }));
  const ok = mismatched.length === 0;
  const canaryLines = mismatched.map((m) => `canary_bf_1.0: ${m.id} ${m.status}${m.reason ? ` (${m.reason})` : ''}`);
  const state: GateState = !ok || gate.state === 'fail' ? 'fail' : gate.state;
  return { state, reasons: [...canaryLines, ...gate.reasons], gate, canary_rule: { ok, mismatched } };
}
