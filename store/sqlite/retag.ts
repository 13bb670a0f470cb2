// Human cause tags: a retag is one transaction with one audit row per replay whose tag changed; an
// undo restores the previous human tags exactly. Both move the cause rollup and the list counts.
import { createHash } from 'node:crypto';
import { StellaError } from '../../src/core/errors.js';
import { cellsOf } from '../../src/core/fidelity/index.js';
import { tagKeyOf } from '../../src/core/filter/sort.js';
import { MISMATCH_REASONS, type MismatchReason } from '../../src/core/formats.js';
import type { TagEvent } from '../../src/core/ports.js';
import { type Conn, type RawRow, ROW_COLS, factsOf } from './rows.js';
import { type Deltas, flush, newDeltas, scopeOf } from './rollup.js';

export function retag(c: Conn, ids: string[], tag: MismatchReason, opts: { who: string; at: string; note?: string }): { batch_id: string; changed: number } {
  if (!MISMATCH_REASONS.includes(tag)) {
    throw new StellaError('USAGE', `unknown cause tag '${String(tag)}': expected one of ${MISMATCH_REASONS.join('|')}`);
  }
  const unique = [...new Set(ids)].sort();
  return c.db
    .transaction(() => {
      const seq = (c.st('SELECT coalesce(max(event_id), 0) FROM tag_events').pluck().get() as number) + 1;
      const batch_id = retagBatchId(seq, unique, tag, opts);
      const delta = newDeltas();
      let changed = 0;
      for (const id of unique) {
        const row = c.st(`SELECT ${ROW_COLS} FROM replay_runs WHERE replay_id = ?`).get(id) as RawRow | undefined;
        if (!row) throw new StellaError('NOT_FOUND', `no replay '${id}' in the index`, { file: c.dbPath });
        if (row.human_tag === tag) continue;
        setHumanTag(c, row, tag, delta);
        c.st(
          'INSERT INTO tag_events (batch_id, replay_id, old_tag, new_tag, old_human, who, at, note) VALUES (?,?,?,?,?,?,?,?)',
        ).run(batch_id, id, row.tag, tag, row.human_tag, opts.who, opts.at, opts.note ?? null);
        changed++;
      }
      flush(c, delta);
      return { batch_id, changed };
    })
    .immediate();
}

/** Content-derived: the same action at the same point of the audit trail has the same id (both backends). */
export function retagBatchId(seq: number, ids: readonly string[], tag: MismatchReason, opts: { who: string; at: string; note?: string }): string {
  const h = createHash('sha256').update(JSON.stringify([seq, ids, tag, opts.who, opts.at, opts.note ?? null]));
  return `rt_${h.digest('hex').slice(0, 16)}`;
}

/**
 * How a new human tag moves the cause rollup and the list counts (both backends): the effective tag and
 * its sort key come back for the caller's UPDATE.
 */
export function humanTagDelta(row: RawRow, human: MismatchReason | null, delta: Deltas): { eff: MismatchReason | null; tag_key: string } {
  const eff = human ?? row.auto_reason;
  const tag_key = tagKeyOf(eff);
  const onlyCause = (t: MismatchReason | null) => cellsOf(factsOf(row, t)).filter((c) => c.dim === 'cause');
  delta.rollup.add(onlyCause(row.tag), -1, scopeOf(row.mode));
  delta.rollup.add(onlyCause(eff), 1, scopeOf(row.mode));
  delta.counts.add(row, -1);
  delta.counts.add({ ...row, tag_key }, 1);
  return { eff, tag_key };
}

export function setHumanTag(c: Conn, row: RawRow, human: MismatchReason | null, delta: Deltas): void {
  const { eff, tag_key } = humanTagDelta(row, human, delta);
  c.st('UPDATE replay_runs SET human_tag = ?, tag = ?, tag_key = ? WHERE replay_id = ?').run(human, eff, tag_key, row.replay_id);
}

export function undoLastRetag(c: Conn, opts: { who: string; at: string }): { batch_id: string; restored: number } | null {
  return c.db
    .transaction(() => {
      const batch = c.st('SELECT batch_id FROM tag_events WHERE undone = 0 ORDER BY event_id DESC LIMIT 1').pluck().get() as string | undefined;
      if (batch === undefined) return null;
      const events = c.st('SELECT event_id, replay_id, old_human FROM tag_events WHERE batch_id = ? AND undone = 0 ORDER BY event_id DESC').all(
        batch,
      ) as Array<{ event_id: number; replay_id: string; old_human: MismatchReason | null }>;
      const delta = newDeltas();
      for (const e of events) {
        const row = c.st(`SELECT ${ROW_COLS} FROM replay_runs WHERE replay_id = ?`).get(e.replay_id) as RawRow;
        setHumanTag(c, row, e.old_human, delta);
        c.st('UPDATE tag_events SET undone = 1, undone_by = ?, undone_at = ? WHERE event_id = ?').run(opts.who, opts.at, e.event_id);
      }
      flush(c, delta);
      return { batch_id: batch, restored: events.length };
    })
    .immediate();
}

export function tagEvents(c: Conn, replayId?: string): TagEvent[] {
  const rows = (
    replayId === undefined
      ? c.st('SELECT * FROM tag_events ORDER BY event_id').all()
      : c.st('SELECT * FROM tag_events WHERE replay_id = ? ORDER BY event_id').all(replayId)
  ) as Array<Omit<TagEvent, 'undone'> & { undone: number }>;
  return rows.map((r) => ({
    event_id: r.event_id,
    batch_id: r.batch_id,
    replay_id: r.replay_id,
    old_tag: r.old_tag,
    new_tag: r.new_tag,
    who: r.who,
    at: r.at,
    note: r.note,
    undone: r.undone === 1,
    undone_by: r.undone_by,
    undone_at: r.undone_at,
  }));
}
