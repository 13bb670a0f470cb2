// A markdown ticket for one replay: enough for a developer to reproduce it with one command.
import { sentence } from '../classify/explain.js';
import { ruleEvidence, type ClassifyInput, type Evidence } from '../classify/index.js';
import { compareRecords } from '../diff/compare.js';
import type { ScanRecord } from '../diff/types.js';
import { MISMATCH_REASONS, type MismatchReason } from '../formats.js';
import type { ReplayDetail, TagEvent } from '../ports.js';
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
  /** The index file, when it is not `<home>/index.db`; a team store's URL, without any password. */
  db?: string;
  /** Where the team store's password comes from when the command runs (it is never in the line). */
  password?: 'PGPASSWORD or ~/.pgpass';
}

/** What the two records on disk say about the replay, beside what the index holds. */
export interface TicketRecords {
  /** The replay record's `mode` (`replay`, `what-if:feed=sha256:…,tz=…`); null when unknown. */
  mode: string | null;
  /**
   * The evidence the classifier's rules find in the original and replay records (the cause's, then
   * the pins and environment other rules see differ); null when the records could not be read.
   */
  evidence: Evidence[] | null;
}

const PIN_KINDS = new Set<string>(['manifest_field', 'executor_field', 'unpinned', 'network']);

/**
 * The classifier's evidence for `cause`, read from the two records with its own rules — a BF-only
 * mismatch (a clock, a time zone, a scanner image) records no per-item evidence in its diff summary —
 * plus the pins and environment fields the other rules see differ (the first rule that matched hides them).
 */
export function recordsEvidence(original: ScanRecord, replay: ScanRecord, cause: MismatchReason | null): Evidence[] {
  const cls: ClassifyInput = { a: original, b: replay, comparison: compareRecords(original, replay) };
  const out = cause ? [...ruleEvidence(cause, cls)] : [];
  for (const other of MISMATCH_REASONS) {
    if (other === cause || other === 'nondeterminism') continue;
    out.push(...ruleEvidence(other, cls).filter((e) => PIN_KINDS.has(e.kind)));
  }
  return out;
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

/** The overrides of a what-if mode (`what-if:feed=sha256:…,tz=UTC` → ['feed=sha256:…', 'tz=UTC']); null for any other mode. */
function whatIfParts(mode: string | null | undefined): string[] | null {
  if (!mode || !mode.startsWith(WHAT_IF)) return null;
  return mode.slice(WHAT_IF.length).split(',').filter((p) => p !== '');
}
const WHAT_IF = 'what-if:';

/** Who set a replay's current human tag (the standing audit event), for the ticket's "Tagged by" line. */
export type TaggedBy = Pick<TagEvent, 'who' | 'at' | 'batch_id' | 'note'>;

export function ticketMarkdown(t: TicketInput, run?: ReproRunner, records?: TicketRecords, taggedBy?: TaggedBy | null): string {
  const overrides = whatIfParts(records?.mode);
  const feedOverride = overrides?.find((p) => p.startsWith('feed='))?.slice('feed='.length);
  // A cause explains a mismatch: a passing replay has none, whatever tag an older version let a retag put on it.
  const human = t.status === 'passed' ? null : t.human_tag;
  const effective = t.status === 'passed' ? null : (human ?? t.auto_reason);
  const reason =
    effective === null
      ? 'none'
      : human && human !== t.auto_reason
        ? `\`${t.human_tag}\` (human override; classifier said \`${t.auto_reason ?? 'none'}\`)`
        : `\`${effective}\``;
  const lines = [
    `# Replay ${t.replay_id} ${t.status === 'passed' ? 'matched' : t.status === 'error' ? 'errored' : 'did not match'} scan ${t.original_scan_id}`,
    '',
    `- **Project:** ${t.project} (${[t.ecosystem, t.base_os].filter((x) => x !== '').join(', ') || 'unknown'}) — policy set \`${t.policy_set}\`, scanner ${t.scanner_version}`,
    `- **Finished:** ${t.finished_at}`,
    `- **Status:** ${t.status} — BF ${yn(t.bf_match)}, SF ${yn(t.sf_match)}, PF ${yn(t.pf_match)}`,
    `- **Mismatch reason:** ${reason}`,
    ...(human && taggedBy ? [`- **Tagged by:** ${taggedBy.who} at ${taggedBy.at} (retag \`${taggedBy.batch_id}\`)${taggedBy.note !== null ? ` — note: ${JSON.stringify(taggedBy.note)}` : ''}`] : []),
    `- **Subtags:** ${t.subtags.length ? t.subtags.map((s) => `\`${s}\``).join(', ') : 'none'}`,
    ...(overrides
      ? [`- **Mode:** \`${records!.mode}\` — a what-if experiment: the original's pins with ${overrides.length ? overrides.map((p) => `\`${p}\``).join(', ') : 'no override'}, so the difference is the override's, not drift`]
      : records?.mode
        ? [`- **Mode:** \`${records.mode}\` (the original's pins as recorded)`]
        : []),
    '',
    '## Manifest',
    '',
    `- Path: \`${t.record_dir ? `${t.record_dir}/manifest.json` : 'unknown (record not on disk)'}\``,
    `- sha256: \`${t.manifest_sha256 ?? 'unknown'}\``,
    feedOverride && feedOverride !== t.feed_digest
      ? `- Feed bundle: \`${t.feed_digest}\` (the original's); the replay ran with \`${feedOverride}\` (what-if \`feed=\`)`
      : `- Feed bundle: \`${t.feed_digest}\``,
    '',
  ];
  if (t.error) lines.push('## Error', '', '```', t.error, '```', '');
  lines.push(...evidenceSections(t.diff_summary, effective ?? 'none', records?.evidence ?? null));
  lines.push('## Diff summary', '');
  lines.push(...diffSummaryLines(t.diff_summary), '');
  lines.push('## Reproduce', '', '```sh', reproductionCommand(t, run), '```', '');
  if (run?.password) {
    lines.push(`The command leaves out the team store's password: set PGPASSWORD or add the server to ~/.pgpass (node-postgres reads both) before running it.`, '');
  }
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

/** The evidence a diff summary recorded: a top-level `evidence` list (if any), else every item's. Untrusted JSON. */
function recordedEvidence(d: unknown): Evidence[] {
  if (!d || typeof d !== 'object') return [];
  const top = (d as { evidence?: unknown }).evidence;
  if (Array.isArray(top)) return top.filter((e): e is Evidence => Boolean(e) && typeof e === 'object');
  const items = (d as { items?: unknown }).items;
  if (!Array.isArray(items)) return [];
  return items.flatMap((it: unknown) => {
    const ev = it && typeof it === 'object' ? (it as { evidence?: unknown }).evidence : undefined;
    return Array.isArray(ev) ? ev.filter((e): e is Evidence => Boolean(e) && typeof e === 'object') : [];
  });
}

const MAX_LINES = 12;

/** At most MAX_LINES bullet sentences, then how many more there are. */
function bullets(sentences: string[]): string[] {
  const shown = sentences.slice(0, MAX_LINES).map((s) => `- ${s[0].toUpperCase()}${s.slice(1)}.`);
  return sentences.length > MAX_LINES ? [...shown, `- And ${sentences.length - MAX_LINES} more (\`stella diff\` on the two records lists them).`] : shown;
}

function evidenceSections(d: unknown, cause: string, fromRecords: Evidence[] | null): string[] {
  const text = (e: Evidence): string | null => {
    try {
      const s = sentence(e);
      return typeof s === 'string' && s !== '' ? s : null;
    } catch {
      return null;
    }
  };
  // The records' evidence first (the classifier's rules on the two records), then what the diff
  // summary recorded (feed records and policy rules need bundles the blob store may no longer hold).
  const seen = new Set<string>();
  const all: Evidence[] = [];
  for (const e of [...(fromRecords ?? []), ...recordedEvidence(d)]) {
    const s = text(e);
    if (s === null || seen.has(s)) continue;
    seen.add(s);
    all.push(e);
  }
  const isEnv = (e: Evidence) => ENVIRONMENT_KINDS.has((e as { kind?: string }).kind ?? '');
  const changed = [...flipSentences(d, cause), ...all.filter((e) => !isEnv(e)).map(text).filter((s): s is string => s !== null)];
  const env = all.filter(isEnv).map(text).filter((s): s is string => s !== null);
  const noChange = env.length
    ? 'No finding, rule or verdict changed: what differs is in the pins and environment below.'
    : 'No finding, rule or verdict change was recorded as evidence.';
  const noEnv =
    fromRecords === null
      ? 'The two records were not read here (not on this machine), so their pins and environment were not compared (`stella diff ORIGINAL_DIR REPLAY_DIR` compares them).'
      : 'The replay ran in the environment the original recorded (no executor or manifest field differs).';
  return [
    '## What changed and why',
    '',
    ...(changed.length ? bullets(changed) : [noChange]),
    '',
    '## Environment',
    '',
    ...(env.length ? bullets(env) : [noEnv]),
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
