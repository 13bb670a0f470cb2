// Chaos reporting: compare every varied run with the baseline run (BF: canonical hashes), say which
// variation breaks BF, and show what changed. Pure: the runner hands in hashes and canonical documents.
import { compareCodeUnits } from '../canonical/jcs.js';
import { jsonPath } from '../errors.js';
import { ARTIFACT_NAMES, type ArtifactName, type Digest } from '../formats.js';
import type { PlannedRun, RunSettings, VariationName } from './plan.js';
import { isObject } from '../guards.js';

export const CHAOS_REPORT_VERSION = '1.0';

/** What one run produced: per artifact the canonical hash and the normalized document (for the diff). */
export interface RunOutputs {
  artifacts: Record<ArtifactName, { canonical_sha256: Digest; raw_sha256?: Digest; doc: unknown }>;
}

export type RunOutcome = { kind: 'ok'; outputs: RunOutputs } | { kind: 'error'; error: string };

export interface Difference {
  artifact: ArtifactName;
  path: string;
  before: unknown;
  after: unknown;
}

export interface RunReport {
  name: string;
  variations: VariationName[];
  settings: RunSettings;
  status: 'passed' | 'failed' | 'error';
  bf_match: boolean | null;
  differing_artifacts: ArtifactName[];
  /** Canonical hashes equal but the bytes as written differ: BF holds with an unstable_raw_order warning. */
  raw_only_artifacts: ArtifactName[];
  /** First differences in canonical order (capped), each with its JSON path. */
  differences: Difference[];
  differences_total: number;
  /** The classifier's view of this run against the baseline, when the compare module ran. */
  classification?: { mismatch_reason: string | null; subtags: string[]; diff_summary: unknown };
  error?: string;
}

export interface ChaosReport {
  chaos_version: string;
  scan_id: string;
  manifest_sha256: Digest;
  baseline: {
    settings: RunSettings;
    status: 'passed' | 'failed' | 'error';
    /** Baseline against the original record's outputs.json; null when there is none to compare. */
    bf_match_original: boolean | null;
    artifacts: Partial<Record<ArtifactName, Digest>>;
    error?: string;
  };
  runs: RunReport[];
  /** The variations that break BF on their own (or `run-order` when the scan is unstable unchanged). */
  exposed_by: string[];
  /** Variations under which only the raw (as-written) order changed: BF holds, the scanner's order is unstable. */
  raw_order_exposed_by: string[];
  verdict: 'stable' | 'unstable' | 'error';
  explanation: string;
}

/** Why a variation breaks BF, in the classifier's vocabulary (SPEC §4 sub-tags). */
export const VARIATION_HINT: Readonly<Record<VariationName, string>> = {
  tz: 'output depends on the time zone (a date computed in local time: nondeterminism/time)',
  locale: 'output depends on the locale (locale-sensitive sorting, casing or number formatting)',
  cpus: 'output depends on the CPU count (worker results merged in completion order: nondeterminism/concurrency)',
  env: 'output depends on ambient environment variables (HOME, USER, …)',
  'file-order': 'output depends on directory listing order (nondeterminism/ordering)',
  umask: 'output depends on the process umask (file modes leaking into content)',
  clock: 'output depends on the process clock instead of the manifest clock (a wall-clock value: nondeterminism/time)',
  'run-order': 'output changes between identical runs (random ids or the wall clock: nondeterminism/rng or time)',
};

const MAX_DIFFERENCES = 20;

/** Leaf-level differences of two JSON values, in document order, with JSON paths. */
export function jsonDifferences(a: unknown, b: unknown, limit = MAX_DIFFERENCES): { list: Array<{ path: string; before: unknown; after: unknown }>; total: number } {
  const list: Array<{ path: string; before: unknown; after: unknown }> = [];
  let total = 0;
  const push = (segs: Array<string | number>, before: unknown, after: unknown) => {
    total++;
    if (list.length < limit) list.push({ path: jsonPath(segs), before: clip(before), after: clip(after) });
  };
  const walk = (x: unknown, y: unknown, segs: Array<string | number>) => {
    if (Array.isArray(x) && Array.isArray(y)) {
      const n = Math.max(x.length, y.length);
      for (let i = 0; i < n; i++) {
        if (i >= x.length) push([...segs, i], undefined, y[i]);
        else if (i >= y.length) push([...segs, i], x[i], undefined);
        else walk(x[i], y[i], [...segs, i]);
      }
      return;
    }
    if (isObject(x) && isObject(y)) {
      const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort(compareCodeUnits);
      for (const k of keys) {
        if (!(k in x)) push([...segs, k], undefined, y[k]);
        else if (!(k in y)) push([...segs, k], x[k], undefined);
        else walk(x[k], y[k], [...segs, k]);
      }
      return;
    }
    if (!sameLeaf(x, y)) push(segs, x, y);
  };
  walk(a, b, []);
  return { list, total };
}

function sameLeaf(x: unknown, y: unknown): boolean {
  if (typeof x !== typeof y) return false;
  if (typeof x === 'object') return JSON.stringify(x) === JSON.stringify(y);
  return x === y;
}

/** Long strings and whole sub-trees are shortened so a report stays readable. */
function clip(v: unknown): unknown {
  if (v === undefined) return null;
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  if (text.length <= 160) return v;
  return `${text.slice(0, 157)}...`;
}

export function compareRun(baseline: RunOutputs, run: RunOutputs): Pick<RunReport, 'bf_match' | 'differing_artifacts' | 'raw_only_artifacts' | 'differences' | 'differences_total'> {
  const differing = ARTIFACT_NAMES.filter((n) => baseline.artifacts[n].canonical_sha256 !== run.artifacts[n].canonical_sha256);
  const rawOnly = ARTIFACT_NAMES.filter((n) => {
    const a = baseline.artifacts[n];
    const b = run.artifacts[n];
    return a.canonical_sha256 === b.canonical_sha256 && a.raw_sha256 !== undefined && b.raw_sha256 !== undefined && a.raw_sha256 !== b.raw_sha256;
  });
  const differences: Difference[] = [];
  let total = 0;
  for (const n of differing) {
    const d = jsonDifferences(baseline.artifacts[n].doc, run.artifacts[n].doc, MAX_DIFFERENCES - differences.length);
    total += d.total;
    for (const x of d.list) differences.push({ artifact: n, ...x });
  }
  return { bf_match: differing.length === 0, differing_artifacts: differing, raw_only_artifacts: rawOnly, differences, differences_total: total };
}

export interface ReportInput {
  scan_id: string;
  manifest_sha256: Digest;
  baseline: { run: PlannedRun; outcome: RunOutcome; original: Partial<Record<ArtifactName, Digest>> | null };
  runs: Array<{ run: PlannedRun; outcome: RunOutcome; classification?: RunReport['classification'] }>;
}

export function buildChaosReport(input: ReportInput): ChaosReport {
  const b = input.baseline;
  const baseOut = b.outcome.kind === 'ok' ? b.outcome.outputs : null;
  const baseArtifacts: Partial<Record<ArtifactName, Digest>> = {};
  if (baseOut) for (const n of ARTIFACT_NAMES) baseArtifacts[n] = baseOut.artifacts[n].canonical_sha256;
  const bfOriginal = baseOut && b.original ? ARTIFACT_NAMES.every((n) => b.original![n] === baseArtifacts[n]) : null;

  const runs: RunReport[] = input.runs.map(({ run, outcome, classification }) => {
    const head = { name: run.name, variations: run.variations, settings: run.settings };
    if (outcome.kind === 'error' || !baseOut) {
      return {
        ...head,
        status: 'error' as const,
        bf_match: null,
        differing_artifacts: [],
        raw_only_artifacts: [],
        differences: [],
        differences_total: 0,
        error: outcome.kind === 'error' ? outcome.error : 'baseline run failed; nothing to compare with',
      };
    }
    const cmp = compareRun(baseOut, outcome.outputs);
    return { ...head, status: cmp.bf_match ? ('passed' as const) : ('failed' as const), ...cmp, ...(classification && !cmp.bf_match ? { classification } : {}) };
  });

  const broken = runs.filter((r) => r.bf_match === false);
  const singles = broken.filter((r) => r.name !== 'combined').map((r) => r.name);
  // A scan that changes when nothing changes cannot blame any variation: the repeat is the culprit.
  const exposed = singles.includes('run-order') ? ['run-order'] : singles.length ? singles : broken.length ? ['combined'] : [];
  const rawOrder = runs.filter((r) => r.bf_match === true && r.raw_only_artifacts.length > 0 && r.name !== 'combined').map((r) => r.name);
  const verdict: ChaosReport['verdict'] = !baseOut || runs.some((r) => r.status === 'error') ? 'error' : exposed.length ? 'unstable' : 'stable';
  return {
    chaos_version: CHAOS_REPORT_VERSION,
    scan_id: input.scan_id,
    manifest_sha256: input.manifest_sha256,
    baseline: {
      settings: b.run.settings,
      status: baseOut ? (bfOriginal === false ? 'failed' : 'passed') : 'error',
      bf_match_original: bfOriginal,
      artifacts: baseArtifacts,
      ...(b.outcome.kind === 'error' ? { error: b.outcome.error } : {}),
    },
    runs,
    exposed_by: exposed,
    raw_order_exposed_by: rawOrder,
    verdict,
    explanation: explain(exposed, broken.length, verdict, b.outcome),
  };
}

function explain(exposed: string[], brokenCount: number, verdict: ChaosReport['verdict'], base: RunOutcome): string {
  if (base.kind === 'error') return `the baseline run failed: ${base.error}`;
  if (exposed.length === 0) return verdict === 'error' ? 'some runs failed to execute; no variation broke BF among those that ran' : 'BF held under every variation';
  if (exposed[0] === 'combined') return `BF breaks only when the variations are combined (${brokenCount} run(s) differ): an interaction`;
  return exposed.map((v) => `${v}: ${VARIATION_HINT[v as VariationName]}`).join('; ');
}

/** Plain-text rendering for the terminal, 80 columns. */
export function renderChaosReport(r: ChaosReport): string {
  const lines: string[] = [];
  lines.push(`chaos ${r.scan_id}: ${r.verdict.toUpperCase()}${r.exposed_by.length ? ` — exposed by ${r.exposed_by.join(', ')}` : ''}`);
  const base = r.baseline.bf_match_original === null ? 'no original outputs to compare' : r.baseline.bf_match_original ? 'BF match with original' : 'BF MISMATCH with original';
  lines.push(`  baseline   ${r.baseline.status.padEnd(7)} (${base})${r.baseline.error ? `: ${r.baseline.error}` : ''}`);
  for (const run of r.runs) {
    const what =
      run.status === 'error'
        ? `error: ${run.error}`
        : run.bf_match
          ? `BF match${run.raw_only_artifacts.length ? ` (raw order differs: ${run.raw_only_artifacts.join(', ')})` : ''}`
          : `BF differs in ${run.differing_artifacts.join(', ')}`;
    lines.push(`  ${run.name.padEnd(10)} ${run.status.padEnd(7)} ${settingText(run)}  ${what}`);
    if (run.classification) lines.push(`             cause: ${run.classification.mismatch_reason ?? 'none'}${run.classification.subtags.length ? `/${run.classification.subtags.join(',')}` : ''}`);
    for (const d of run.differences.slice(0, 5)) {
      lines.push(`             ${d.artifact} ${d.path}: ${short(d.before)} -> ${short(d.after)}`);
    }
    if (run.differences_total > 5) lines.push(`             … ${run.differences_total - 5} more difference(s)`);
  }
  lines.push(r.explanation);
  if (r.raw_order_exposed_by.length) lines.push(`warning unstable_raw_order: the written order changes under ${r.raw_order_exposed_by.join(', ')} (canonical form is stable)`);
  return lines.join('\n') + '\n';
}

function settingText(run: RunReport): string {
  const s = run.settings;
  const parts: string[] = [];
  for (const v of run.variations) {
    switch (v) {
      case 'tz':
        parts.push(`TZ=${s.tz}`);
        break;
      case 'locale':
        parts.push(`LC_ALL=${s.locale}`);
        break;
      case 'cpus':
        parts.push(`cpus=${s.cpus}`);
        break;
      case 'env':
        parts.push(`+${Object.keys(s.extra_env).length} env`);
        break;
      case 'file-order':
        parts.push('readdir reversed');
        break;
      case 'umask':
        parts.push(`umask ${s.umask}`);
        break;
      case 'clock':
        parts.push(`clock=${s.clock}`);
        break;
      case 'run-order':
        parts.push('repeated last');
        break;
      default: {
        const _exhaustive: never = v;
        return _exhaustive;
      }
    }
  }
  return `[${parts.join(' ')}]`;
}

function short(v: unknown): string {
  const t = v === null || v === undefined ? '∅' : typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v);
  return t.length > 50 ? `${t.slice(0, 47)}...` : t;
}
