// replay_terms (migration 004): the searchable terms of each replay, written with its row.
import type Database from 'better-sqlite3';
import { searchTermsOf } from '../../src/core/filter/terms.js';
import type { Conn } from './rows.js';

/** `replaced`: the replay had a row (terms exist only beside their row, so a new one has none to delete). */
export function writeTerms(c: Conn, replayId: string, terms: readonly string[], replaced: boolean): void {
  if (replaced) c.st('DELETE FROM replay_terms WHERE replay_id = ?').run(replayId);
  if (terms.length === 0) return;
  const ins = c.st('INSERT OR IGNORE INTO replay_terms (term, replay_id) VALUES (?, ?)');
  for (const t of terms) ins.run(t, replayId);
}

/** The migrator's step for version 4: terms of the rows indexed before the table existed. */
export function backfillTerms(db: Database.Database): void {
  const ins = db.prepare('INSERT OR IGNORE INTO replay_terms (term, replay_id) VALUES (?, ?)');
  const next = db.prepare('SELECT replay_id, diff_summary_json FROM replay_runs WHERE diff_summary_json IS NOT NULL AND replay_id > ? ORDER BY replay_id LIMIT 5000');
  // Pages, not one open cursor: the connection cannot write while a statement iterates.
  for (let after = ''; ; ) {
    const rows = next.all(after) as Array<{ replay_id: string; diff_summary_json: string }>;
    if (rows.length === 0) return;
    for (const r of rows) for (const t of searchTermsOf(JSON.parse(r.diff_summary_json) as unknown)) ins.run(t, r.replay_id);
    after = rows[rows.length - 1].replay_id;
  }
}
