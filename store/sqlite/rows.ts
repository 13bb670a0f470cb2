// The replay row as SQLite stores it, mapped to the port's ReplayRow / ReplayDetail by the one mapping
// both backends share (store/row-map.ts). The stored row is the port's row with booleans as 0/1,
// subtags as JSON, and the two derived sort columns (failing, tag_key) the indexes start with.
import type Database from 'better-sqlite3';
import type { ReplayDetail, ReplayRow } from '../../src/core/ports.js';
import { indexDamaged } from './migrate.js';
import { type Decode, type StoredDetail, type StoredRow, asBool, detailOf, factsOf, rowOf } from '../row-map.js';

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

/** Booleans as 0/1, JSON columns as text, plus the two derived sort columns and the mode. */
export type RawRow = StoredRow<number, string> & {
  failing: number;
  tag_key: string;
  /** 'pinned' or 'what-if:…' (migration 003). */
  mode: string;
};

export type RawDetail = RawRow & StoredDetail<number, string>;

export const ROW_COLS =
  'replay_id, original_scan_id, status, failing, bf_match, sf_match, pf_match, auto_reason, human_tag, tag, tag_key, subtags_json, started_at, finished_at, duration_ms, scanner_version, ecosystem, policy_set, base_os, project, feed_digest, regulated, executor_kind, record_dir, mode';
export const DETAIL_COLS = `${ROW_COLS}, manifest_sha256, classifier_version, error, diff_summary_json, manifest_json, executor_json, warnings_json`;

export const b2i = (b: boolean | null): number | null => (b === null ? null : b ? 1 : 0);
const SQLITE: Decode<number, string> = { bool: asBool, json: (s) => JSON.parse(s) as unknown };

const JSON_COLS = ['subtags_json', 'diff_summary_json', 'manifest_json', 'executor_json', 'warnings_json'] as const;

/** A stored JSON value that does not parse: the index is damaged; name it, the replay and the column. */
function decoded<R extends RawRow, T>(r: R, dbPath: string, map: (r: R) => T): T {
  try {
    return map(r);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    const cols = r as unknown as Record<string, unknown>;
    const col = JSON_COLS.find((k) => {
      const v = cols[k];
      if (typeof v !== 'string') return false;
      try {
        JSON.parse(v);
        return false;
      } catch {
        return true;
      }
    });
    throw indexDamaged(dbPath, `replay ${r.replay_id}: ${col ?? 'a JSON column'} does not parse: ${e.message}`);
  }
}

export const toRow = (r: RawRow, dbPath: string): ReplayRow => decoded(r, dbPath, (x) => rowOf(x, SQLITE));
export const toDetail = (r: RawDetail, dbPath: string): ReplayDetail => decoded(r, dbPath, (x) => detailOf(x, SQLITE));

/** Shared with the PostgreSQL store (which hands over its own rows). */
export { factsOf };
