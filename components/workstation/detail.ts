// The detail pane (issue 13, item 5): `i` shows in full, wrapped, what the 80-column tables cut: the
// cursor row of the list, the gate with every reason (and the dashboard row under the cursor), and
// on the Diff screen the replay, its error text with the remedy, the cause's evidence, and the focused
// change with its vulnerability ids, purl, evidence and verdict reasons. Pure: built from the state alone.
import { dashboardItems, itemLabel } from '../dashboard/dashboard-items.js';
import { evidenceSentences, type DiffLine } from '../diff-view/diff-lines.js';
import { pct } from '../theme/theme.js';
import type { WorkstationState } from './use-workstation-state.js';

const yn = (v: boolean | null): string => (v === null ? 'n/a' : v ? 'match' : 'DIFFERS');

function lineText(l: DiffLine): string {
  if (l.kind === 'pair') return `${l.label}: ${l.left} -> ${l.right}${l.tag ? ` [${l.tag}]` : ''}`;
  if (l.kind === 'split') return l.mark === ' ' ? l.left : `${l.left} -> ${l.right}`;
  if (l.kind === 'evidence') return l.mark === ' ' ? l.text : `${l.mark} ${l.text}`;
  return l.text;
}

/** Title and full-text lines for the screen under the cursor; null when there is nothing to show. */
export function detailOf(s: WorkstationState): { title: string; lines: string[] } | null {
  if (s.screen === 'replays') {
    const r = s.rows[s.cursor];
    if (!r) return null;
    return {
      title: `replay ${r.replay_id}`,
      lines: [
        `replay id:   ${r.replay_id}`,
        `original:    ${r.original_scan_id}`,
        `status:      ${r.status}   BF ${yn(r.bf_match)}  SF ${yn(r.sf_match)}  PF ${yn(r.pf_match)}`,
        `cause:       ${r.tag ?? '-'}${r.human_tag ? ` (retagged; classifier said ${r.auto_reason ?? '-'})` : ''}${r.subtags.length ? ` [${r.subtags.join(', ')}]` : ''}`,
        `project:     ${r.project}${r.regulated ? ' (regulated)' : ''}`,
        `ecosystem:   ${r.ecosystem}`,
        `scanner:     ${r.scanner_version}`,
        `policy set:  ${r.policy_set}    base OS: ${r.base_os}`,
        `feed:        ${r.feed_digest}`,
        `ran:         ${r.started_at} -> ${r.finished_at}${r.duration_ms === null ? '' : ` (${r.duration_ms} ms)`} on ${r.executor_kind}`,
        `record:      ${r.record_dir ?? '-'}`,
        'Enter opens its diff (error text, evidence); i or Esc closes',
      ],
    };
  }
  if (s.screen === 'dashboard') {
    const d = s.dashboard;
    if (!d) return null;
    const item = s.dashCursor >= 0 ? dashboardItems(d)[s.dashCursor] : undefined;
    return {
      title: `gate ${d.gate.state.toUpperCase()}`,
      lines: [
        `gate: ${d.gate.state.toUpperCase()}${d.gate.reasons.length ? '' : ' (no reasons)'}`,
        ...d.gate.reasons.map((r) => `  - ${r}`),
        ...(item ? ['', `row: ${itemLabel(item, pct).replace(/\s+/g, ' ')}`] : []),
      ],
    };
  }
  if (s.screen === 'diff' && s.diff) {
    const { detail, lines, focus, id, evidence } = s.diff;
    const out: string[] = [`replay id: ${id}`];
    if (detail) {
      out.push(`status: ${detail.status}   BF ${yn(detail.bf_match)}  SF ${yn(detail.sf_match)}  PF ${yn(detail.pf_match)}`);
      out.push(`cause: ${detail.tag ?? '-'}${detail.subtags.length ? ` [${detail.subtags.join(', ')}]` : ''}`);
      if (detail.error) out.push(`error: ${detail.error}`);
    }
    // The focused change and the evidence lines under it; with none focused, every change.
    const picked: string[] = [];
    const take = (i: number) => {
      picked.push(lineText(lines[i]));
      for (let j = i + 1; j < lines.length && lines[j].kind === 'note'; j++) picked.push(`  ${lineText(lines[j])}`);
    };
    if (focus >= 0 && lines[focus]) take(focus);
    else lines.forEach((l, i) => l.change && take(i));
    // The cause's evidence in full: first when no change is focused (the screen opens on it), else after it.
    const ev = evidenceSentences(evidence);
    if (focus < 0 && ev.length) out.push('', ...ev);
    if (picked.length) out.push('', focus >= 0 ? 'focused change:' : 'changes:', ...picked);
    if (focus >= 0 && ev.length) out.push('', ...ev);
    return { title: `diff ${id}`, lines: out };
  }
  return null;
}
