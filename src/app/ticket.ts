// What a ticket reads beside the index: the replay's record and the original scan's, on disk.
import { isStellaError } from '../core/errors.js';
import { recordsEvidence, type TicketRecords } from '../core/metrics/ticket.js';
import type { ReplayDetail, ReplayStore } from '../core/ports.js';

/**
 * The replay's mode and the classifier's evidence, from its record and the original scan's on disk;
 * undefined when the replay record is not readable here (another machine's, or deleted).
 */
export async function ticketRecords(store: Pick<ReplayStore, 'getScan'>, d: ReplayDetail): Promise<TicketRecords | undefined> {
  if (!d.record_dir) return undefined;
  const { loadRecord } = await import('./record.js');
  const readable = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (isStellaError(e)) return undefined;
      throw e;
    }
  };
  const replay = readable(() => loadRecord(d.record_dir!));
  if (!replay) return undefined;
  const scan = await store.getScan(d.original_scan_id);
  const original = scan?.record_dir ? readable(() => loadRecord(scan.record_dir!)) : undefined;
  return { mode: replay.replay?.mode ?? null, evidence: original ? recordsEvidence(original, replay, d.auto_reason) : null };
}
