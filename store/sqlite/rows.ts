// The replay row as SQLite stores it, and its one mapping to the port's ReplayRow / ReplayDetail.
// The stored row is the port's row with booleans as 0/1, subtags as JSON, and the two derived sort
// columns (failing, tag_key) the indexes start with.
import type Database from 'better-sqlite3';
import type { ReplayFacts } from '../../src/core/fidelity/index.js';
import type { MismatchReason } from '../../src/core/formats.js';
import type { ReplayDetail, ReplayIn, ReplayRow } from '../../src/core/ports.js';

/** A connection plus its prepared-statement cache: what every concern of the store works on. */
export interface Conn {
  readonly db: Database.Database;
  readonly dbPath: string;
  st(sql: string): Database.Statement;
}

export function connOf(db: Database.Database, dbPath: string): Conn {
  const stmts = new Map<string, Database.Statement>();
  return {
    db,
    dbPath,
    st(sql) {
      let s = stmts.get(sql);
      if (!s) {
        s = db.prepare(sql);
        stmts.set(sql, s);
      }
      return s;
    },
  };
}

type BoolCols = 'bf_match' | 'sf_match' | 'pf_match';

export type RawRow = Omit<ReplayRow, BoolCols | 'regulated' | 'subtags'> & { [K in BoolCols]: number | null } & {
  failing: number;
  regulated: number;
  tag_key: string;
  subtags_json: string;
  /** 'pinned' or 'what-if:…' (migration 003). */
  mode: string;
};

export type RawDetail = RawRow &
  Pick<ReplayDetail, 'manifest_sha256' | 'classifier_version' | 'error'> & {
    diff_summary_json: string | null;
    manifest_json: string | null;
    executor_json: string | null;
    warnings_json: string;
  };

export const ROW_COLS =
  'replay_id, original_scan_id, status, failing, bf_match, sf_match, pf_match, auto_reason, human_tag, tag, tag_key, subtags_json, started_at, finished_at, duration_ms, scanner_version, ecosystem, policy_set, base_os, project, feed_digest, regulated, executor_kind, record_dir, mode';
export const DETAIL_COLS = `${ROW_COLS}, manifest_sha256, classifier_version, error, diff_summary_json, manifest_json, executor_json, warnings_json`;

export const b2i = (b: boolean | null): number | null => (b === null ? null : b ? 1 : 0);
const i2b = (i: number | null): boolean | null => (i === null ? null : i === 1);
const parseOrNull = (s: string | null): unknown | null => (s === null ? null : JSON.parse(s));

export function toRow(r: RawRow): ReplayRow {
  return {
    replay_id: r.replay_id,
    original_scan_id: r.original_scan_id,
    status: r.status,
    bf_match: i2b(r.bf_match),
    sf_match: i2b(r.sf_match),
    pf_match: i2b(r.pf_match),
    auto_reason: r.auto_reason,
    human_tag: r.human_tag,
    tag: r.tag,
    subtags: JSON.parse(r.subtags_json) as string[],
    started_at: r.started_at,
    finished_at: r.finished_at,
    duration_ms: r.duration_ms,
    scanner_version: r.scanner_version,
    ecosystem: r.ecosystem,
    policy_set: r.policy_set,
    base_os: r.base_os,
    project: r.project,
    feed_digest: r.feed_digest,
    regulated: r.regulated === 1,
    executor_kind: r.executor_kind,
    record_dir: r.record_dir,
  };
}

export function toDetail(r: RawDetail): ReplayDetail {
  const diff = parseOrNull(r.diff_summary_json);
  const evidence = diff && typeof diff === 'object' && 'evidence' in (diff as object) ? (diff as { evidence: unknown }).evidence : null;
  return {
    ...toRow(r),
    diff_summary: diff,
    manifest: parseOrNull(r.manifest_json),
    executor: parseOrNull(r.executor_json),
    error: r.error,
    classifier_version: r.classifier_version,
    evidence,
    manifest_sha256: r.manifest_sha256,
    warnings: JSON.parse(r.warnings_json) as string[],
  };
}

/** The facts the rollup counts, from a stored row or an incoming one, under a given effective tag. */
// Field by field, not through toRow: the PostgreSQL store hands over rows whose JSON columns are parsed
// and whose booleans are booleans.
export function factsOf(r: RawRow | ReplayIn, tag: MismatchReason | null): ReplayFacts {
  return {
    status: r.status,
    bf_match: asBool(r.bf_match),
    sf_match: asBool(r.sf_match),
    pf_match: asBool(r.pf_match),
    finished_at: r.finished_at,
    duration_ms: r.duration_ms,
    scanner_version: r.scanner_version,
    ecosystem: r.ecosystem,
    policy_set: r.policy_set,
    base_os: r.base_os,
    feed_digest: r.feed_digest,
    project: r.project,
    regulated: asBool(r.regulated) === true,
    tag,
  };
}

const asBool = (v: number | boolean | null): boolean | null => (typeof v === 'number' ? v === 1 : v);
