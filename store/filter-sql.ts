// The one ReplayFilter (src/core/filter) as a WHERE clause, for both backends. They differ only in
// their placeholders (SQLite `?` in text order, PostgreSQL `$n`), the column type of `failing`
// (0/1 or boolean), and which LIKE folds ASCII case (SQLite's LIKE; PostgreSQL's ILIKE under COLLATE "C").
import { isIdLike, prefixRange } from '../src/core/filter/terms.js';
import type { ReplayFilter } from '../src/core/ports.js';

export interface SqlDialect {
  /** The placeholder of the n-th parameter (1-based), called in the order the text reads. */
  mark(n: number): string;
  /** `failing` is true. */
  failing: string;
  /** Case-folding LIKE (ASCII letters). */
  like: string;
  /** A WHERE clause that holds for every row. */
  always: string;
}

export const SQLITE_SQL: SqlDialect = { mark: () => '?', failing: 'failing = 1', like: 'LIKE', always: '1' };
export const PG_SQL: SqlDialect = { mark: (n) => `$${n}`, failing: 'failing', like: 'ILIKE', always: 'true' };

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (m) => `\\${m}`);
}

/** Columns free text matches as a substring (besides the search terms). */
const LIKE_COLS = ['replay_id', 'project', 'scanner_version', 'ecosystem'];

export function filterSql(f: ReplayFilter, d: SqlDialect): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return d.mark(params.length);
  };
  if (f.failingOnly) parts.push(d.failing);
  // tag_key (tag, or '~' when untagged) is indexed; a cause name is never '~'.
  if (f.causes && f.causes.length) parts.push(`tag_key IN (${f.causes.map((c) => p(c)).join(',')})`);
  const equal = (col: string, v: string | undefined) => {
    if (v) parts.push(`${col} = ${p(v)}`);
  };
  equal('scanner_version', f.scanner);
  equal('ecosystem', f.ecosystem);
  equal('project', f.project);
  equal('policy_set', f.policySet);
  const text = f.text?.trim();
  if (text) {
    // Vulnerability ids, aliases, package names and purls: a prefix range over replay_terms.
    const terms = () => {
      const [lo, hi] = prefixRange(text);
      return `replay_id IN (SELECT replay_id FROM replay_terms WHERE term >= ${p(lo)} AND term < ${p(hi)})`;
    };
    if (isIdLike(text)) parts.push(terms());
    else {
      const like = `%${escapeLike(text)}%`;
      const likes = LIKE_COLS.map((col) => `${col} ${d.like} ${p(like)} ESCAPE '\\'`).join(' OR ');
      parts.push(`(${likes} OR ${terms()})`);
    }
  }
  return { where: parts.length ? parts.join(' AND ') : d.always, params };
}
