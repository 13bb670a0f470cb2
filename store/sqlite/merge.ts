// Merging retag events recorded in another store (`stella sync`): both people's events are kept, the
// latest by `at` (ties by batch id) decides the human tag; rollup and counts move as for a retag. An
// undo merged from another store marks its event undone here too, and the replay's latest event still
// standing decides again (the undo's own store restored the tag before it, which is that same event
// unless the two stores' trails differ: then the rule every merge follows is what both converge on).
import type { MismatchReason } from '../../src/core/formats.js';
import type { TagConflict, TagEventIn, TagMerge, TagUndoIn } from '../../src/core/ports.js';
import { type Conn, type RawRow, ROW_COLS } from './rows.js';
import { flush, newDeltas } from './rollup.js';
import { setHumanTag } from './retag.js';

interface Latest {
  batch_id: string;
  new_tag: MismatchReason | null;
  who: string;
  at: string;
}

const later = (a: { at: string; batch_id: string }, b: { at: string; batch_id: string }) => a.at > b.at || (a.at === b.at && a.batch_id > b.batch_id);

export function mergeTagEvents(c: Conn, events: readonly TagEventIn[]): TagMerge {
  return c.db
    .transaction(() => {
      const delta = newDeltas();
      const out: TagMerge = { merged: 0, duplicates: 0, unknown: [], conflicts: [] };
      for (const e of events) {
        if (c.st('SELECT 1 FROM tag_events WHERE batch_id = ? AND replay_id = ?').get(e.batch_id, e.replay_id)) {
          out.duplicates++;
          continue;
        }
        const row = c.st(`SELECT ${ROW_COLS} FROM replay_runs WHERE replay_id = ?`).get(e.replay_id) as RawRow | undefined;
        if (!row) {
          out.unknown.push(e.replay_id);
          continue;
        }
        const latest = c
          .st('SELECT batch_id, new_tag, who, at FROM tag_events WHERE replay_id = ? AND undone = 0 ORDER BY at DESC, batch_id DESC LIMIT 1')
          .get(e.replay_id) as Latest | undefined;
        const wins = !latest || later(e, latest);
        c.st('INSERT INTO tag_events (batch_id, replay_id, old_tag, new_tag, old_human, who, at, note) VALUES (?,?,?,?,?,?,?,?)').run(
          e.batch_id, e.replay_id, row.tag, e.new_tag, row.human_tag, e.who, e.at, e.note,
        );
        if (wins && row.human_tag !== e.new_tag) setHumanTag(c, row, e.new_tag, delta);
        if (latest && latest.who !== e.who) out.conflicts.push(conflictOf(e, latest, wins));
        out.merged++;
      }
      flush(c, delta);
      return out;
    })
    .immediate();
}

export function conflictOf(e: TagEventIn, latest: Latest, eWins: boolean): TagConflict {
  const mine = { tag: e.new_tag, who: e.who, at: e.at };
  const theirs = { tag: latest.new_tag, who: latest.who, at: latest.at };
  return { replay_id: e.replay_id, winner: eWins ? mine : theirs, loser: eWins ? theirs : mine };
}

interface Undone {
  event_id: number;
  new_tag: MismatchReason | null;
  old_human: MismatchReason | null;
}

/** The new tag of a replay's latest event still standing (by `at`, ties by batch id). */
const LATEST_STANDING = 'SELECT new_tag FROM tag_events WHERE replay_id = ? AND undone = 0 ORDER BY at DESC, batch_id DESC LIMIT 1';

/**
 * The replay's next event still standing after one (by event id): its undo would restore the tag it
 * found, which the undone event had set; that event gone, it restores what the undone one would have
 * (so a local undo after a merged one lands where the other store's rule does, not on an undone tag).
 */
const NEXT_STANDING = 'SELECT event_id, old_human FROM tag_events WHERE replay_id = ? AND event_id > ? AND undone = 0 ORDER BY event_id LIMIT 1';

export function mergeTagUndos(c: Conn, undos: readonly TagUndoIn[]): { undone: number } {
  return c.db
    .transaction(() => {
      const delta = newDeltas();
      let undone = 0;
      for (const u of undos) {
        const ev = c.st('SELECT event_id, new_tag, old_human FROM tag_events WHERE batch_id = ? AND replay_id = ? AND undone = 0').get(u.batch_id, u.replay_id) as
          | Undone
          | undefined;
        if (!ev) continue;
        c.st('UPDATE tag_events SET undone = 1, undone_by = ?, undone_at = ? WHERE event_id = ?').run(u.who, u.at, ev.event_id);
        const next = c.st(NEXT_STANDING).get(u.replay_id, ev.event_id) as { event_id: number; old_human: MismatchReason | null } | undefined;
        if (next && next.old_human === ev.new_tag) c.st('UPDATE tag_events SET old_human = ? WHERE event_id = ?').run(ev.old_human, next.event_id);
        undone++;
        const row = c.st(`SELECT ${ROW_COLS} FROM replay_runs WHERE replay_id = ?`).get(u.replay_id) as RawRow | undefined;
        if (!row) continue;
        const human = (c.st(LATEST_STANDING).pluck().get(u.replay_id) as MismatchReason | null | undefined) ?? null;
        if (row.human_tag !== human) setHumanTag(c, row, human, delta);
      }
      flush(c, delta);
      return { undone };
    })
    .immediate();
}
