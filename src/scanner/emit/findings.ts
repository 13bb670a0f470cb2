// stella findings v1: the matcher's findings as they came (their order is part of what a replay
// checks: the canonicalizer sorts `findings` but keeps each finding's `sources` sequence).
import type { Finding, FindingsDoc } from '../../core/formats.js';

/** `notes` (scan notes, e.g. packages compared with the generic version order) appear only when there are any. */
export function buildFindings(scanId: string, findings: Finding[], notes: string[] = []): FindingsDoc {
  return notes.length > 0 ? { schema: 'stella-findings/v1', scan_id: scanId, findings, notes } : { schema: 'stella-findings/v1', scan_id: scanId, findings };
}
