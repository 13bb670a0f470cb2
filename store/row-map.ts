// The one mapping of a stored replay row to the port's ReplayRow / ReplayDetail, for both backends.
// A backend differs only in how it hands back booleans (SQLite 0/1, PostgreSQL boolean) and JSON
// columns (SQLite text, PostgreSQL parsed values); `Decode` names those two steps.
import type { ReplayFacts } from '../src/core/fidelity/index.js';
import type { MismatchReason } from '../src/core/formats.js';
import type { ReplayDetail, ReplayIn, ReplayRow } from '../src/core/ports.js';

type BoolCols = 'bf_match' | 'sf_match' | 'pf_match';

/** A replay_runs row as a backend returns it: booleans as B, JSON columns as J. */
export type StoredRow<B, J> = Omit<ReplayRow, BoolCols | 'regulated' | 'subtags'> & { [K in BoolCols]: B | null } & {
  regulated: B;
  subtags_json: J;
};

export type StoredDetail<B, J> = StoredRow<B, J> &
  Pick<ReplayDetail, 'manifest_sha256' | 'classifier_version' | 'error'> & {
    diff_summary_json: J | null;
    manifest_json: J | null;
    executor_json: J | null;
    warnings_json: J;
  };

export interface Decode<B, J> {
  bool(v: B | null): boolean | null;
  json(v: J): unknown;
}

/** Either backend's boolean (0/1 or boolean) as a boolean. */
export const asBool = (v: number | boolean | null): boolean | null => (typeof v === 'number' ? v === 1 : v);

/** The three BF/SF/PF flags, as booleans, in the row's key order. */
function flagsOf<B>(r: { [K in BoolCols]: B | null }, bool: (v: B | null) => boolean | null): { [K in BoolCols]: boolean | null } {
  return { bf_match: bool(r.bf_match), sf_match: bool(r.sf_match), pf_match: bool(r.pf_match) };
}

export function rowOf<B, J>(r: StoredRow<B, J>, d: Decode<B, J>): ReplayRow {
  return {
    replay_id: r.replay_id,
    original_scan_id: r.original_scan_id,
    status: r.status,
    ...flagsOf(r, d.bool),
    auto_reason: r.auto_reason,
    human_tag: r.human_tag,
    tag: r.tag,
    subtags: d.json(r.subtags_json) as string[],
    started_at: r.started_at,
    finished_at: r.finished_at,
    duration_ms: r.duration_ms,
    scanner_version: r.scanner_version,
    ecosystem: r.ecosystem,
    policy_set: r.policy_set,
    base_os: r.base_os,
    project: r.project,
    feed_digest: r.feed_digest,
    regulated: d.bool(r.regulated) === true,
    executor_kind: r.executor_kind,
    record_dir: r.record_dir,
  };
}

export function detailOf<B, J>(r: StoredDetail<B, J>, d: Decode<B, J>): ReplayDetail {
  const orNull = (v: J | null): unknown => (v === null ? null : d.json(v));
  const diff = orNull(r.diff_summary_json);
  const evidence = diff && typeof diff === 'object' && 'evidence' in diff ? (diff as { evidence: unknown }).evidence : null;
  return {
    ...rowOf(r, d),
    diff_summary: diff,
    manifest: orNull(r.manifest_json),
    executor: orNull(r.executor_json),
    error: r.error,
    classifier_version: r.classifier_version,
    evidence,
    manifest_sha256: r.manifest_sha256,
    warnings: d.json(r.warnings_json) as string[],
  };
}

/** The facts the rollup counts, from a stored row of either backend or an incoming one, under a given effective tag. */
export function factsOf(r: StoredRow<number | boolean, unknown> | ReplayIn, tag: MismatchReason | null): ReplayFacts {
  const { status, finished_at, duration_ms, scanner_version, ecosystem, policy_set, base_os, feed_digest, project } = r;
  const regulated = asBool(r.regulated) === true;
  return { status, ...flagsOf(r, asBool), finished_at, duration_ms, scanner_version, ecosystem, policy_set, base_os, feed_digest, project, regulated, tag };
}
