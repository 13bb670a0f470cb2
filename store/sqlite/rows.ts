// The replay row as SQLite stores it, mapped to the port's ReplayRow / ReplayDetail by the one mapping
// both backends share (store/row-map.ts). The stored row is the port's row with booleans as 0/1,
// subtags as JSON, and the two derived sort columns (failing, tag_key) the indexes start with.
import type Database from 'better-sqlite3';
import type { ReplayDetail, ReplayRow } from '../../src/core/ports.js';
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

export const toRow = (r: RawRow): ReplayRow => rowOf(r, SQLITE);
export const toDetail = (r: RawDetail): ReplayDetail => detailOf(r, SQLITE);

/** Shared with the PostgreSQL store (which hands over its own rows). */
export { factsOf };

/**
 * Values (strings, numbers, null, undefined) as one string and two typed arrays, for moving many rows
 * between threads: the structured clone of thousands of small objects cost the receiving thread more
 * to rebuild than the rows cost to write; slices of one string cost it a little. `lens` says per value:
 * a string of that many UTF-16 units, -1 null, -2 the next of `nums`, -3 undefined.
 */
export interface Packed {
  text: string;
  lens: Int32Array;
  nums: Float64Array;
}

export class Packer {
  private parts: string[] = [];
  // Typed arrays grown by doubling: no boxed numbers to copy out at the end.
  private lens = new Int32Array(4096);
  private nl = 0;
  private nums = new Float64Array(1024);
  private nn = 0;
  /** false for a value it does not carry (the caller sends its data another way). */
  put(v: unknown): boolean {
    let len: number;
    if (typeof v === 'string') {
      this.parts.push(v);
      len = v.length;
    } else if (v === null) len = -1;
    else if (v === undefined) len = -3;
    else if (typeof v === 'number') {
      len = -2;
      if (this.nn === this.nums.length) this.nums = grown(this.nums, new Float64Array(this.nums.length * 2));
      this.nums[this.nn++] = v;
    } else return false;
    if (this.nl === this.lens.length) this.lens = grown(this.lens, new Int32Array(this.lens.length * 2));
    this.lens[this.nl++] = len;
    return true;
  }
  done(): Packed {
    return { text: this.parts.join(''), lens: this.lens.slice(0, this.nl), nums: this.nums.slice(0, this.nn) };
  }
}

function grown<T extends Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** The values of a Packed, in order, one per call. */
export function unpacker(p: Packed): () => unknown {
  const { text, lens, nums } = p;
  let at = 0;
  let k = 0;
  let q = 0;
  return () => {
    const l = lens[k++]!;
    if (l >= 0) {
      at += l;
      return text.slice(at - l, at);
    }
    return l === -1 ? null : l === -2 ? nums[q++] : undefined;
  };
}
