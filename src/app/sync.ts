// `stella sync --from postgres://…`: the workstation's local SQLite index over the team store.
//
// Pull: scans, then replays, written in the team store since the last watermark (store/postgres/
// changes.ts), ingested locally in batches through the SQLite store's bulk load (each batch one
// transaction, as ingest; into an empty index the secondary indexes are built once at the end, and a
// killed load has them built by the next one), the replays read already in the index's encoding; then
// the team's undos (an undo rewrites an old event's row, so they come by the rows' window, not by event
// id) and retag events, merged (both people's events kept, the later wins). Push: local retag events
// the team store has not seen (not those just pulled from it), merged there the same way, and the local
// undos (the team store skips those it holds already). A conflict both merges meet is reported once.
// Progress lives beside the index in `<index>.sync.json`, rewritten atomically after a walk's first
// batch, every SAVE_EVERY-th and at its end, never ahead of what is committed: a SIGKILLed sync re-runs
// from there (ingest and merge are idempotent), so nothing is lost and nothing is doubled.
import { existsSync, readFileSync } from 'node:fs';
import { StellaError } from '../core/errors.js';
import type { TagConflict, TagEventIn } from '../core/ports.js';
import { writeFileAtomic } from '../adapters/fs.js';
import { openStore } from '../../store/sqlite-store.js';
import { openPgStore } from '../../store/postgres/pg-store.js';
import { redactUrl } from '../../store/postgres/connect.js';
import { type Mark, horizon, preparedReplaysSince, scansSince, tagEventsSince, tagUndosIn } from '../../store/postgres/changes.js';

export const SYNC_BATCH = 5000;
const SAVE_EVERY = 4;

interface RemoteState {
  /** Rows written by transactions below this id are in the local index. */
  xid: number;
  /**
   * The window being pulled, and how far it got, or null between syncs: scans by (created_at,
   * scan_id), replays by (finished_at, replay_id) — `*_after` is the id, `*_after_at` its time (a state
   * written before those fields existed walks the window again: ingest is idempotent).
   */
  pending: {
    from: number;
    to: number;
    scans_after: string;
    scans_after_at?: string;
    replays_after: string;
    replays_after_at?: string;
    scans_done: boolean;
  } | null;
  /** Team-store tag events up to this id are merged locally. */
  remote_event: number;
  /** Local tag events up to this id are merged into the team store. */
  local_event: number;
}

export interface SyncSummary {
  from: string;
  pulled: { scans: number; replays: number; inserted: number; updated: number; unchanged: number; tag_events: number; undone: number };
  pushed: { tag_events: number; duplicates: number; unknown: number; undone: number };
  conflicts: TagConflict[];
}

export function syncStatePath(indexPath: string): string {
  return `${indexPath}.sync.json`;
}

function readState(file: string): Record<string, RemoteState> {
  if (!existsSync(file)) return {};
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, RemoteState>;
  } catch {
    // fall through to the error below
  }
  throw new StellaError('RECORD_INVALID', 'sync state is not a JSON object: delete it to pull everything again', { file, path: '$' });
}

export async function syncFrom(url: string, indexPath: string, opts: { onBatch?: (s: SyncSummary) => void } = {}): Promise<SyncSummary> {
  const key = redactUrl(url);
  const stateFile = syncStatePath(indexPath);
  const all = readState(stateFile);
  const st: RemoteState = all[key] ?? { xid: 0, pending: null, remote_event: 0, local_event: 0 };
  const save = () => writeFileAtomic(stateFile, JSON.stringify({ ...all, [key]: st }, null, 2) + '\n');
  const summary: SyncSummary = {
    from: key,
    pulled: { scans: 0, replays: 0, inserted: 0, updated: 0, unchanged: 0, tag_events: 0, undone: 0 },
    pushed: { tag_events: 0, duplicates: 0, unknown: 0, undone: 0 },
    conflicts: [],
  };
  const remote = await openPgStore(url);
  const local = openStore(indexPath);
  try {
    if (!st.pending) {
      st.pending = { from: st.xid, to: await horizon(remote.pool), scans_after: '', replays_after: '', scans_done: false };
      save();
    }
    const w = { from: st.pending.from, to: st.pending.to };
    const p = st.pending;
    const mark = (id: string, at: string | undefined): Mark | null => (id && at !== undefined ? { at, id } : null);
    /**
     * A batch is in the local index: note how far the walk got, written to the state file after the
     * walk's first batch and every SAVE_EVERY-th (each write is an fsync). A state behind the index
     * only re-reads rows a re-run finds unchanged; it is never ahead of what is committed.
     */
    let batchNo = 0;
    const committed = (walk: 'scans' | 'replays', id: string, at: string) => {
      p[`${walk}_after` as const] = id;
      p[`${walk}_after_at` as const] = at;
      if (batchNo++ % SAVE_EVERY === 0) save();
      opts.onBatch?.(summary);
    };
    // The replays' cursor starts now, so the server scans and sorts their window while the scans are
    // written here; it is closed (rolled back) however this ends.
    const replayBatches = preparedReplaysSince(remote.pool, w, mark(p.replays_after, p.replays_after_at), SYNC_BATCH);
    let next = replayBatches.next();
    next.catch(() => {});
    const bulk = local.bulkLoad({ deferIndexes: true });
    try {
      if (!p.scans_done) {
        for await (const scans of scansSince(remote.pool, w, mark(p.scans_after, p.scans_after_at), SYNC_BATCH)) {
          await bulk.ingest({ scans, replays: [] });
          summary.pulled.scans += scans.length;
          committed('scans', scans[scans.length - 1].scan_id, scans[scans.length - 1].created_at);
        }
        p.scans_done = true;
        save();
        batchNo = 0;
      }
      for (let r = await next; !r.done; r = await next) {
        const replays = r.value;
        next = replayBatches.next();
        next.catch(() => {});
        const out = await bulk.ingest({ scans: [], replays });
        for (const o of out.replays) summary.pulled[o]++;
        summary.pulled.replays += replays.length;
        committed('replays', replays[replays.length - 1].replay_id, replays[replays.length - 1].finished_at);
      }
    } finally {
      await replayBatches.return(undefined).catch(() => {});
      await bulk.finish();
    }
    // The window's undos, inside it (a re-run merges them again: nothing moves). An undo of an event
    // not pulled yet finds nothing here; its event is not pulled either (undone ones stay out).
    const undos = await tagUndosIn(remote.pool, w);
    if (undos.length) summary.pulled.undone += (await local.mergeTagUndos(undos)).undone;
    st.xid = st.pending.to;
    st.pending = null;
    save();
    // The team's retags, then ours.
    const pulled = new Set<string>();
    for (;;) {
      const events = await tagEventsSince(remote.pool, st.remote_event, SYNC_BATCH);
      if (events.length === 0) break;
      const m = await local.mergeTagEvents(events.map(strip));
      summary.pulled.tag_events += m.merged;
      summary.conflicts.push(...m.conflicts);
      for (const e of events) pulled.add(eventKey(e));
      st.remote_event = events[events.length - 1].event_id;
      save();
    }
    const all = await local.tagEvents();
    const mine = all.filter((e) => e.event_id > st.local_event);
    // Events just pulled are the team store's own: sent back they would only count as duplicates.
    const push = mine.filter((e) => !e.undone && e.new_tag !== null && !pulled.has(eventKey(e)));
    if (push.length) {
      const m = await remote.mergeTagEvents(
        push.map((e) => ({ batch_id: e.batch_id, replay_id: e.replay_id, new_tag: e.new_tag!, who: e.who, at: e.at, note: e.note })),
      );
      summary.pushed = { ...summary.pushed, tag_events: m.merged, duplicates: m.duplicates, unknown: m.unknown.length };
      summary.conflicts.push(...m.conflicts);
    }
    // Every local undo: the team store marks those it holds still standing (one query when none).
    const undone = all.filter((e) => e.undone);
    if (undone.length) {
      summary.pushed.undone = (
        await remote.mergeTagUndos(undone.map((e) => ({ batch_id: e.batch_id, replay_id: e.replay_id, who: e.undone_by ?? e.who, at: e.undone_at ?? e.at })))
      ).undone;
    }
    if (mine.length) {
      st.local_event = mine[mine.length - 1].event_id;
      save();
    }
  } finally {
    await local.close();
    await remote.close();
  }
  // Both merges meet a conflict between a pulled event and a pushed one: it is told once.
  const seen = new Set<string>();
  summary.conflicts = summary.conflicts.filter((c) => {
    const k = JSON.stringify(c);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  summary.conflicts.sort((a, b) => (a.replay_id < b.replay_id ? -1 : a.replay_id > b.replay_id ? 1 : a.loser.at < b.loser.at ? -1 : 1));
  return summary;
}

const eventKey = (e: { batch_id: string; replay_id: string }) => JSON.stringify([e.batch_id, e.replay_id]);
const strip = ({ batch_id, replay_id, new_tag, who, at, note }: TagEventIn): TagEventIn => ({ batch_id, replay_id, new_tag, who, at, note });
