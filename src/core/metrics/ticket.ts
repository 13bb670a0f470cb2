// A markdown ticket for one replay: enough for a developer to reproduce it with one command.
import { sentence } from '../classify/explain.js';
import type { Evidence } from '../classify/index.js';
import type { ReplayDetail } from '../ports.js';
/** What a ticket reads of an indexed replay. */
export type TicketInput = Pick<
  ReplayDetail,
  | 'replay_id' | 'original_scan_id' | 'status' | 'auto_reason' | 'human_tag' | 'subtags' | 'record_dir' | 'manifest_sha256' | 'bf_match' | 'sf_match'
  | 'pf_match' | 'scanner_version' | 'ecosystem' | 'policy_set' | 'base_os' | 'project' | 'feed_digest' | 'finished_at' | 'error' | 'diff_summary'
>;

/** How to run this stella from any directory: absolute paths, the home named explicitly. */
export interface ReproRunner {
  /** The executable and its script by absolute path, e.g. [process.execPath, '/opt/stella/dist/bin/stella.js']. */
  executable: string[];
  /** STELLA_HOME of the index the replay is in. */
  home: string;
  /** The index file, when it is not `<home>/index.db`. */
  db?: string;
}

/**
 * The exact line that reproduces the replay (`stella repro ID`), runnable pasted into a clean shell in
 * any directory: no PATH lookup, no working-directory lookup of the home.
 */
export function reproductionCommand(t: Pick<TicketInput, 'replay_id'>, run?: ReproRunner): string {
  if (!run) return `stella repro ${shellQuote(t.replay_id)}`;
  return `STELLA_HOME=${shellQuote(run.home)} ${run.executable.map(shellQuote).join(' ')} repro ${shellQuote(t.replay_id)}${run.db ? ` --db ${shellQuote(run.db)}` : ''}`;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const yn = (b: boolean | null) => (b === null ? 'n/a' : b ? 'match' : 'differs');

export function ticketMarkdown(t: TicketInput, run?: ReproRunner): string {
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
  lines.push(...evidenceSections(t.diff_summary, effective ?? 'none'));
  lines.push('## Diff summary', '');
  lines.push(...diffSummaryLines(t.diff_summary), '');
  lines.push('## Reproduce', '', '```sh', reproductionCommand(t, run), '```', '');
  return lines.join('\n');
}

const ENVIRONMENT_KINDS = new Set(['executor_field', 'manifest_field', 'network', 'unpinned']);

/** In prose: what flipped and why (the classifier's evidence), then how the environment differed. */
const FLIP_VERB: Record<string, string> = {
  appeared: 'now matches',
  disappeared: 'no longer matches',
  severity_changed: 'changed severity on',
  fix_changed: 'changed fix versions on',
};

/** The recorded top vulnerability changes as sentences ("CVE-… (critical) now matches pkg@1.2.3"). */
function flipSentences(d: unknown, cause: string): string[] {
  const top = d && typeof d === 'object' ? (d as { top_vulnerabilities?: unknown }).top_vulnerabilities : undefined;
  if (!Array.isArray(top)) return [];
  return top.flatMap((v: unknown) => {
    if (!v || typeof v !== 'object') return [];
    const { vulnerability_id: id, purl, change, severity } = v as Record<string, unknown>;
    if (typeof id !== 'string' || typeof purl !== 'string' || typeof change !== 'string') return [];
    const pkg = purl.replace(/^pkg:[^/]+\//, '').replace(/%40/g, '@');
    return [`${id}${typeof severity === 'string' ? ` (${severity})` : ''} ${FLIP_VERB[change] ?? change} ${pkg} (cause: ${cause})`];
  });
}

function evidenceSections(d: unknown, cause: string): string[] {
  const items = d && typeof d === 'object' && Array.isArray((d as { evidence?: unknown }).evidence) ? ((d as { evidence: unknown[] }).evidence as Evidence[]) : [];
  const text = (e: Evidence): string | null => {
    try {
      const s = sentence(e);
      return typeof s === 'string' ? s : null;
    } catch {
      return null;
    }
  };
  const isEnv = (e: Evidence) => ENVIRONMENT_KINDS.has((e as { kind?: string }).kind ?? '');
  const changed = [...flipSentences(d, cause), ...items.filter((e) => !isEnv(e)).map(text).filter((s): s is string => s !== null)];
  const env = items.filter(isEnv).map(text).filter((s): s is string => s !== null);
  return [
    '## What changed and why',
    '',
    ...(changed.length ? changed.map((s) => `- ${s[0].toUpperCase()}${s.slice(1)}.`) : ['No finding, rule or verdict change was recorded as evidence.']),
    '',
    '## Environment',
    '',
    ...(env.length ? env.map((s) => `- ${s[0].toUpperCase()}${s.slice(1)}.`) : ['The replay ran in the environment the original recorded (no executor or manifest field differs).']),
    '',
  ];
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
