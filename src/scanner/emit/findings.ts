// stella findings v1: the matcher's findings as they came (their order is part of what a replay
// checks: the canonicalizer sorts `findings` but keeps each finding's `sources` sequence).
import type { Finding, FindingsDoc } from '../../core/formats.js';

export function buildFindings(scanId: string, findings: Finding[]): FindingsDoc {
  return { schema: 'stella-findings/v1', scan_id: scanId, findings };
}
