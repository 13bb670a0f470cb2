// A replay record (SPEC §4) assembled from what a replay holds in memory: the identity, how it ran,
// its outputs against the original's, and (when they differ) the classifier's verdict. Pure.
import { ARTIFACT_NAMES, type Digest, type ExecutorEnvironment, type Outputs, type ReplayRecord } from '../formats.js';

export interface OutputsComparison {
  bf_match: boolean | null;
  warnings: string[];
}

/** BF = every artifact's canonical hash equal; raw-only differences become a warning (SPEC §1.3). */
export function compareOutputs(original: Outputs | null, replayed: Outputs): OutputsComparison {
  if (!original) return { bf_match: null, warnings: [] };
  let bf = true;
  let rawDiffers = false;
  for (const name of ARTIFACT_NAMES) {
    const a = original[name];
    const b = replayed[name];
    if (!a || !b || a.canonical_sha256 !== b.canonical_sha256) bf = false;
    else if (a.raw_sha256 && b.raw_sha256 && a.raw_sha256 !== b.raw_sha256) rawDiffers = true;
  }
  return { bf_match: bf, warnings: bf && rawDiffers ? ['unstable_raw_order'] : [] };
}

/** The fields a full comparison decides (SF/PF, cause, sub-tags, summary, classifier). */
export type ClassifiedFields = Pick<ReplayRecord, 'bf_match' | 'sf_match' | 'pf_match' | 'mismatch_reason' | 'subtags' | 'diff_summary' | 'classifier_version'>;

export interface ReplayRecordInput {
  replay_id: string;
  original_scan_id: string;
  manifest_sha256: Digest;
  mode: string;
  started_at: string;
  finished_at: string;
  executor: ExecutorEnvironment;
  /** The replay's outputs.json, null when the scanner produced nothing usable. */
  outputs: Outputs | null;
  /** The original's outputs.json, null when there is none to compare with. */
  original: Outputs | null;
  /** Why there are no outputs (a missing blob, a timeout, a crash, `aborted`). */
  failure: string | null;
  /** Shown when there is nothing to compare with. */
  noOriginal?: string;
  /** The classifier's verdict; or why classification could not be made. */
  classified?: { fields: ClassifiedFields; warnings: string[] } | { error: string };
}

/** The record, keys in the order SPEC §4 lists them. */
export function buildReplayRecord(i: ReplayRecordInput): ReplayRecord {
  const base = {
    replay_id: i.replay_id,
    original_scan_id: i.original_scan_id,
    manifest_sha256: i.manifest_sha256,
    mode: i.mode,
    executor: i.executor,
    started_at: i.started_at,
    finished_at: i.finished_at,
    sf_match: null,
    pf_match: null,
    mismatch_reason: null,
    subtags: [],
    diff_summary: null,
  };
  if (i.failure !== null || !i.outputs) {
    return specOrder({ ...base, status: 'error', bf_match: null, artifacts: {}, error: i.failure ?? 'no outputs' });
  }
  const cmp = compareOutputs(i.original, i.outputs);
  const artifacts: ReplayRecord['artifacts'] = {};
  for (const n of ARTIFACT_NAMES) artifacts[n] = { canonical_sha256: i.outputs[n].canonical_sha256 };
  let record: ReplayRecord = {
    ...base,
    status: cmp.bf_match === null ? 'error' : cmp.bf_match ? 'passed' : 'failed',
    bf_match: cmp.bf_match,
    artifacts,
    ...(cmp.warnings.length ? { warnings: cmp.warnings } : {}),
    ...(cmp.bf_match === null ? { error: i.noOriginal ?? 'no original outputs to compare with' } : {}),
  };
  if (cmp.bf_match !== null && i.classified) {
    if ('error' in i.classified) {
      record = { ...record, warnings: [...(record.warnings ?? []), `not classified: ${i.classified.error}`] };
    } else {
      // The BF verdict stays the one computed from outputs.json; the classifier's warnings replace the raw-order one.
      const warnings = [...new Set([...(record.warnings ?? []).filter((w) => w !== 'unstable_raw_order'), ...i.classified.warnings])].sort();
      record = {
        ...record,
        ...i.classified.fields,
        status: i.classified.fields.bf_match ? 'passed' : 'failed',
        ...(warnings.length ? { warnings } : { warnings: undefined }),
      };
    }
  }
  return specOrder(record);
}

/** replay.json keys in the order SPEC §4 lists them, so records read the same everywhere. */
export function specOrder(r: ReplayRecord): ReplayRecord {
  const keys: Array<keyof ReplayRecord> = [
    'replay_id', 'original_scan_id', 'manifest_sha256', 'mode', 'executor', 'started_at', 'finished_at', 'status',
    'bf_match', 'sf_match', 'pf_match', 'artifacts', 'mismatch_reason', 'subtags', 'diff_summary', 'classifier_version', 'warnings', 'error',
  ];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (r[k] !== undefined) out[k] = r[k];
  return out as unknown as ReplayRecord;
}
