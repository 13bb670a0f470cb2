// A markdown ticket for one replay: enough for a developer to reproduce it with one command.
import type { ReplayDetail } from '../ports.js';
/** What a ticket reads of an indexed replay. */
export type TicketInput = Pick<
  ReplayDetail,
  | 'replay_id' | 'original_scan_id' | 'status' | 'auto_reason' | 'human_tag' | 'subtags' | 'record_dir' | 'manifest_sha256' | 'bf_match' | 'sf_match'
  | 'pf_match' | 'scanner_version' | 'ecosystem' | 'policy_set' | 'base_os' | 'project' | 'feed_digest' | 'finished_at' | 'error' | 'diff_summary'
>;

/** The exact command that replays the original scan again (the replay dir keeps the original manifest). */
export function reproductionCommand(t: Pick<TicketInput, 'replay_id' | 'record_dir'>): string {
  const manifest = t.record_dir ? `${t.record_dir}/manifest.json` : `<record of ${t.replay_id}>/manifest.json`;
  return `stella replay --from ${shellQuote(manifest)} --out-dir ${shellQuote(`./replay-${t.replay_id}`)}`;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const yn = (b: boolean | null) => (b === null ? 'n/a' : b ? 'match' : 'differs');

export function ticketMarkdown(t: TicketInput): string {
  const effective = t.human_tag ?? t.auto_reason;
  const reason =
    effective === null
      ? 'none'
      : t.human_tag && t.human_tag !== t.auto_reason
        ? `\`${t.human_tag}\` (human override; classifier said \`${t.auto_reason ?? 'none'}\`)`
        : `\`${effective}\``;
  const lines = [
    `# Replay ${t.replay_id} ${t.status === 'passed' ? 'matched' : t.status === 'error' ? 'errored' : 'did not match'} scan ${t.original_scan_id}`,
    '',
    `- **Project:** ${t.project} (${t.ecosystem}, ${t.base_os}) — policy set \`${t.policy_set}\`, scanner ${t.scanner_version}`,
    `- **Finished:** ${t.finished_at}`,
    `- **Status:** ${t.status} — BF ${yn(t.bf_match)}, SF ${yn(t.sf_match)}, PF ${yn(t.pf_match)}`,
    `- **Mismatch reason:** ${reason}`,
    `- **Subtags:** ${t.subtags.length ? t.subtags.map((s) => `\`${s}\``).join(', ') : 'none'}`,
    '',
    '## Manifest',
    '',
    `- Path: \`${t.record_dir ? `${t.record_dir}/manifest.json` : 'unknown (record not on disk)'}\``,
    `- sha256: \`${t.manifest_sha256 ?? 'unknown'}\``,
    `- Feed bundle: \`${t.feed_digest}\``,
    '',
  ];
  if (t.error) lines.push('## Error', '', '```', t.error, '```', '');
  lines.push('## Diff summary', '');
  lines.push(...diffSummaryLines(t.diff_summary), '');
  lines.push('## Reproduce', '', '```sh', reproductionCommand(t), '```', '');
  return lines.join('\n');
}

/** Counts first, then the JSON itself (pretty, keys as recorded), so nothing is lost in the ticket. */
function diffSummaryLines(d: unknown): string[] {
  if (d === null || d === undefined) return ['No diff summary recorded.'];
  const out: string[] = [];
  if (typeof d === 'object' && !Array.isArray(d)) {
    const counts = (d as Record<string, unknown>).counts;
    if (counts && typeof counts === 'object') {
      for (const [k, v] of Object.entries(counts as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        out.push(`- ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
      }
      out.push('');
    }
  }
  out.push('```json', JSON.stringify(d, null, 2), '```');
  return out;
}
