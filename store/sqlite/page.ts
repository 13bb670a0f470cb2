// Lists: the one ReplayFilter (src/core/filter) as SQL (store/filter-sql.ts), counts from replay_counts, keyset pages in
// the orders src/core/filter/sort.ts defines, and single rows.
import { StellaError } from '../../src/core/errors.js';
import { SORTS } from '../../src/core/filter/sort.js';
import type { Cursor, Page, PageRequest, ReplayDetail, ReplayFilter, ScanSummary } from '../../src/core/ports.js';
import { SQLITE_SQL, filterSql as sharedFilterSql } from '../filter-sql.js';
import { indexDamaged } from './migrate.js';
import { type Conn, type RawDetail, type RawRow, DETAIL_COLS, ROW_COLS, toDetail, toRow } from './rows.js';

/** The one ReplayFilter as SQLite SQL (`?` placeholders). */
export const filterSql = (f: ReplayFilter): { where: string; params: unknown[] } => sharedFilterSql(f, SQLITE_SQL);

export function countReplays(c: Conn, filter: ReplayFilter): { total: number; failing: number } {
  const { where, params } = filterSql(filter);
  // Free text needs the rows; every other filter names only facets replay_counts keeps.
  const sql = filter.text?.trim()
    ? `SELECT count(*) AS total, coalesce(sum(failing), 0) AS failing FROM replay_runs WHERE ${where}`
    : `SELECT coalesce(sum(n), 0) AS total, coalesce(sum(n * failing), 0) AS failing FROM replay_counts WHERE ${where}`;
  const r = c.st(sql).get(...params) as {
    total: number;
    failing: number;
  };
  return { total: r.total, failing: r.failing };
}

export function idsMatching(c: Conn, filter: ReplayFilter): string[] {
  const { where, params } = filterSql(filter);
  return (c.st(`SELECT replay_id FROM replay_runs WHERE ${where} ORDER BY replay_id`).pluck().all(...params) as string[]).slice();
}

export function pageReplays(c: Conn, req: PageRequest): Page {
  const limit = Math.max(1, Math.floor(req.limit));
  const sort = SORTS[req.sort];
  if (!sort) throw new StellaError('USAGE', `unknown sort '${String(req.sort)}'`);
  const { where, params } = filterSql(req.filter);
  // A leading sort column the filter pins (failing = 1) must leave the keyset tuple: SQLite only
  // range-searches a row value that follows the index's equality prefix.
  const pinned = req.filter.failingOnly && sort.cols[0] === 'failing' ? 1 : 0;
  const keyCols = [...sort.cols.slice(pinned), 'replay_id'];
  const tuple = `(${keyCols.join(', ')})`;
  const marks = `(${keyCols.map(() => '?').join(', ')})`;
  // Forward = the sort's own direction; a keyset comparison on the whole tuple uses the sort's index.
  const fwdOp = sort.desc ? '<' : '>';
  const backOp = sort.desc ? '>' : '<';
  const order = (reverse: boolean) => [...sort.cols, 'replay_id'].map((c) => `${c} ${sort.desc !== reverse ? 'DESC' : 'ASC'}`).join(', ');
  const q = (cmp: string | null, reverse: boolean) =>
    `SELECT ${ROW_COLS} FROM replay_runs WHERE ${where}${cmp ? ` AND ${tuple} ${cmp} ${marks}` : ''} ORDER BY ${order(reverse)} LIMIT ?`;
  const keyOf = (c: Cursor) => [...c.key.slice(pinned), c.id];

  let raw: RawRow[];
  if (req.before) {
    raw = (c.st(q(backOp, true)).all(...params, ...keyOf(req.before), limit) as RawRow[]).reverse();
  } else if (req.after) {
    raw = c.st(q(fwdOp, false)).all(...params, ...keyOf(req.after), limit) as RawRow[];
  } else if (req.fromEnd) {
    raw = (c.st(q(null, true)).all(...params, limit) as RawRow[]).reverse();
  } else {
    raw = c.st(q(null, false)).all(...params, limit) as RawRow[];
  }
  if (raw.length === 0) {
    // Past either end: the other side may still hold rows.
    const edge = req.before ?? req.after;
    const moreBefore = req.after ? c.st(q(backOp, true)).all(...params, ...keyOf(edge as Cursor), 1).length > 0 : false;
    const moreAfter = req.before ? c.st(q(fwdOp, false)).all(...params, ...keyOf(edge as Cursor), 1).length > 0 : false;
    return { rows: [], hasMoreAfter: moreAfter, hasMoreBefore: moreBefore };
  }
  const cursorOf = (r: RawRow) => keyCols.map((c) => (r as unknown as Record<string, string | number>)[c]);
  // What the query itself proves needs no second look: a page from an end has nothing beyond that
  // end, and a short page reached the end it walked towards (a rare free-text match would otherwise
  // walk the whole index again for each probe).
  const from = req.before ? 'before' : req.after ? 'after' : req.fromEnd ? 'end' : 'start';
  const short = raw.length < limit;
  const endReached = from === 'end' || ((from === 'after' || from === 'start') && short);
  const startReached = from === 'start' || ((from === 'before' || from === 'end') && short);
  const hasMoreAfter = !endReached && c.st(q(fwdOp, false)).all(...params, ...cursorOf(raw[raw.length - 1]), 1).length > 0;
  const hasMoreBefore = !startReached && c.st(q(backOp, true)).all(...params, ...cursorOf(raw[0]), 1).length > 0;
  return { rows: raw.map((r) => toRow(r, c.dbPath)), hasMoreAfter, hasMoreBefore };
}

export function getReplay(c: Conn, id: string): ReplayDetail | null {
  const r = c.st(`SELECT ${DETAIL_COLS} FROM replay_runs WHERE replay_id = ?`).get(id) as RawDetail | undefined;
  return r ? toDetail(r, c.dbPath) : null;
}

export function getScan(c: Conn, scanId: string): ScanSummary | null {
  const r = c.st('SELECT scan_id, record_dir, manifest_json FROM scan_manifests WHERE scan_id = ?').get(scanId) as
    | { scan_id: string; record_dir: string | null; manifest_json: string }
    | undefined;
  if (!r) return null;
  let manifest: unknown;
  try {
    manifest = JSON.parse(r.manifest_json) as unknown;
  } catch (e) {
    throw indexDamaged(c.dbPath, `scan ${r.scan_id}: manifest_json does not parse: ${(e as Error).message}`);
  }
  return { scan_id: r.scan_id, record_dir: r.record_dir, manifest };
}
