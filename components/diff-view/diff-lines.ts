// Turns a replay's diff_summary (v1, or anything shaped like it) into the lines of the side-by-side
// diff. Pure: the view only draws these lines; `n`/`N` step between the lines marked `change`.
import type { ReplayDetail } from '../../src/core/ports.js';
import type { CauseEvidence } from '../../src/core/classify/evidence.js';
import { isObject as isObj } from '../../src/core/guards.js';

export type DiffLine =
  | { kind: 'head'; text: string; change: false }
  | { kind: 'pair'; label: string; left: string; right: string; tag: string | null; change: boolean }
  | { kind: 'note'; text: string; change: false }
  | { kind: 'text'; text: string; change: boolean; sign: '+' | '-' | ' ' | '@' }
  /** A line of the cause's evidence, already wrapped to the screen: `-` original, `+` replay, ` ` a label or sentence. */
  | { kind: 'evidence'; text: string; mark: '-' | '+' | ' '; change: false }
  /** Side by side (>= 100 columns): original | replay; marks `-`/`+` (one side) or `~` (both changed) survive NO_COLOR. */
  | { kind: 'split'; left: string; right: string; mark: '-' | '+' | '~' | ' '; change: boolean };

type Obj = Record<string, unknown>;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A compact one-line rendering of any JSON value (strings bare, null as `—`). */
export function show(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.map(show).join(', ');
  if (isObj(v)) {
    if (typeof v.code === 'string') return `${v.code}${typeof v.subject === 'string' && v.subject ? `(${v.subject})` : ''}`;
    return JSON.stringify(v);
  }
  return String(v);
}

/** One evidence object as a short line: its kind and the fields that say what differed. */
export function evidenceText(e: unknown): string {
  if (!isObj(e)) return show(e);
  const kind = typeof e.kind === 'string' ? e.kind : 'evidence';
  switch (kind) {
    case 'manifest_field':
    case 'policy_rule':
      return `${kind} ${show(e.path)}: ${show(e.a ?? e.before)} -> ${show(e.b ?? e.after)}`;
    case 'executor_field':
      return `executor ${show(e.field)}: ${show(e.a)} -> ${show(e.b)}`;
    case 'feed_finding':
      return `feed ${show(e.change)} ${arr(e.records).map((r) => (isObj(r) ? show(r.id ?? r.path) : show(r))).join(', ')}`.trim();
    case 'artifact_value':
      return `${show(e.artifact)} ${show(e.path)}: ${show(e.a)} -> ${show(e.b)} [${show(e.subtag)}]`;
    case 'permutation':
      return `${show(e.artifact)} ${show(e.path)} reordered [${show(e.subtag)}]`;
    default: {
      const rest = Object.entries(e).filter(([k]) => k !== 'kind').map(([k, v]) => `${k}=${show(v)}`);
      return `${kind} ${rest.join(' ')}`.trim();
    }
  }
}

function itemLabel(it: Obj): string {
  switch (it.kind) {
    case 'vulnerability':
      return `vuln ${show(it.vulnerability_id)} ${show(it.purl)} ${show(it.change)}`;
    case 'package':
      return `pkg ${show(it.key)} ${show(it.change)}`;
    case 'vex':
      return `vex ${show(it.vulnerability)} ${show(it.product)}`;
    case 'verdict':
      return `verdict ${show(it.change)}`;
    default:
      return show(it.kind);
  }
}

/** The evidence of the Diff screen: loading, read from the two records, or why it could not be. */
export type EvidenceState = { kind: 'loading' } | { kind: 'ready'; evidence: CauseEvidence } | { kind: 'unavailable'; reason: string };

/** Columns the diff body gives a line's text: the view's 2-column prefix and its last free column. */
const BODY_MARGIN = 3;
/** The mark column of an evidence line (`- `, `+ `, or two spaces). */
const MARK_W = 2;

/** Words to lines of at most `width` characters; a word longer than a line is cut where the line ends. */
export function wrapText(text: string, width: number, indent = ''): string[] {
  const w = Math.max(8, width);
  const out: string[] = [];
  let rest = text;
  let first = true;
  while (rest.length > 0) {
    const room = first ? w : w - indent.length;
    if (rest.length <= room) {
      out.push((first ? '' : indent) + rest);
      break;
    }
    let cut = rest.lastIndexOf(' ', room);
    if (cut < Math.floor(room / 3)) cut = room;
    out.push((first ? '' : indent) + rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
    first = false;
  }
  return out.length ? out : [''];
}

/** A unit of the evidence that is never split across the screen: a heading, a sentence or one fact. */
interface EvidenceBlock {
  /** The group it belongs to (-1: before the groups), and whether it is that group's heading. */
  group: number;
  head: boolean;
  lines: DiffLine[];
}

function evidenceBlocks(ev: EvidenceState | null, width: number): EvidenceBlock[] {
  if (ev === null) return [];
  const text = Math.max(20, width - BODY_MARGIN - MARK_W);
  const blocks: EvidenceBlock[] = [];
  const lines = (t: string, mark: '-' | '+' | ' ' = ' ', indent = '  '): DiffLine[] => wrapText(t, text, indent).map((l) => ({ kind: 'evidence', text: l, mark, change: false }));
  const head = (t: string, group: number): EvidenceBlock => ({ group, head: true, lines: wrapText(t, Math.max(20, width - BODY_MARGIN)).map((l) => ({ kind: 'head', text: l, change: false })) });
  if (ev.kind !== 'ready') {
    blocks.push(head('Evidence', -1));
    blocks.push({ group: -1, head: false, lines: lines(ev.kind === 'loading' ? 'reading the original and replay records...' : `unavailable: ${ev.reason}`) });
    return blocks;
  }
  const e = ev.evidence;
  const cause = e.cause ? `${e.cause}${e.subtags.length ? ` [${e.subtags.join(',')}]` : ''}` : 'a matching replay';
  blocks.push(head(`Evidence for ${cause} (- original, + replay)`, -1));
  blocks.push({ group: -1, head: false, lines: lines(e.headline) });
  e.groups.forEach((g, gi) => {
    blocks.push(head(g.more ? `${g.title} (${g.facts.length} of ${g.facts.length + g.more})` : g.title, gi));
    for (const f of g.facts) {
      if (f.a === undefined && f.b === undefined) {
        blocks.push({ group: gi, head: false, lines: lines(f.label) });
        continue;
      }
      const one = `${f.label}: ${f.a ?? '(none)'} -> ${f.b ?? '(none)'}`;
      blocks.push({ group: gi, head: false, lines: one.length <= text ? lines(one) : [...lines(f.label), ...lines(f.a ?? '(none)', '-'), ...lines(f.b ?? '(none)', '+')] });
    }
    if (g.more) blocks.push({ group: gi, head: false, lines: lines(`and ${g.more} more like these`) });
  });
  return blocks;
}

/** The evidence as screen lines `width` columns wide: nothing is cut, long values wrap under their label. */
export function evidenceLines(ev: EvidenceState | null, width = Number.POSITIVE_INFINITY): DiffLine[] {
  return evidenceBlocks(ev, width).flatMap((b) => b.lines);
}

/**
 * The evidence split for a screen that also lists changes: the blocks that fit in `budget` lines go
 * first, the rest after the changes (its group heading repeated), so the first screen shows both.
 */
function splitEvidence(ev: EvidenceState | null, width: number, budget: number): { first: DiffLine[]; rest: DiffLine[] } {
  const blocks = evidenceBlocks(ev, width);
  const first: DiffLine[] = [];
  let i = 0;
  // Always the heading and the headline; then whole blocks while they fit, keeping a line for the pointer.
  for (; i < blocks.length; i++) {
    const b = blocks[i];
    // A group heading goes first only together with its first fact.
    const need = b.lines.length + (b.head && b.group >= 0 && i + 1 < blocks.length ? blocks[i + 1].lines.length : 0);
    if (i >= 2 && first.length + need > budget - 1) break;
    first.push(...b.lines);
  }
  if (i >= blocks.length) return { first, rest: [] };
  const text = Math.max(20, width - BODY_MARGIN - MARK_W);
  first.push(...wrapText('more evidence below the changes (j scrolls)', text).map((l): DiffLine => ({ kind: 'evidence', text: l, mark: ' ', change: false })));
  const rest: DiffLine[] = [{ kind: 'head', text: 'More evidence', change: false }];
  const b0 = blocks[i];
  if (!b0.head && b0.group >= 0) {
    const gh = blocks.find((b) => b.head && b.group === b0.group);
    if (gh) rest.push(...gh.lines);
  }
  for (; i < blocks.length; i++) rest.push(...blocks[i].lines);
  return { first, rest };
}

/** The evidence as whole sentences (no wrapping): the detail pane (`i`) wraps them itself. */
export function evidenceSentences(ev: EvidenceState | null): string[] {
  if (ev === null) return [];
  if (ev.kind === 'loading') return ['evidence: reading the original and replay records...'];
  if (ev.kind === 'unavailable') return [`evidence unavailable: ${ev.reason}`];
  const out = [`evidence: ${ev.evidence.headline}`];
  for (const g of ev.evidence.groups) {
    out.push(`${g.title}:`);
    for (const f of g.facts) out.push(f.a === undefined && f.b === undefined ? `  ${f.label}` : `  ${f.label}: ${f.a ?? '(none)'} -> ${f.b ?? '(none)'}`);
    if (g.more) out.push(`  and ${g.more} more like these`);
  }
  return out;
}

/**
 * The Diff screen's summary: the levels and cause, then the cause's evidence (first, so the screen
 * opens on it), then every changed item; `width` wraps the evidence to the screen.
 */
export function buildDiffLines(d: ReplayDetail, evidence: EvidenceState | null = null, width = Number.POSITIVE_INFINITY, height = Number.POSITIVE_INFINITY): DiffLine[] {
  const out: DiffLine[] = [];
  const tag = d.tag;
  const levels = (b: boolean | null): string => (b === null ? 'n/a' : b ? 'match' : 'DIFFERS');
  out.push({ kind: 'head', text: `BF ${levels(d.bf_match)}  SF ${levels(d.sf_match)}  PF ${levels(d.pf_match)}  cause ${tag ?? '-'}${d.human_tag ? ` (auto ${d.auto_reason ?? '-'})` : ''}${d.subtags.length ? ` [${d.subtags.join(',')}]` : ''}`, change: false });
  // The error with its remedy, whole: wrapped to the screen, never cut.
  if (d.error) for (const l of wrapText(`error: ${d.error}`, Math.max(20, width - BODY_MARGIN), '  ')) out.push({ kind: 'note', text: l, change: false });
  const head = out.length;
  const s = d.diff_summary;
  if (!isObj(s)) {
    out.push({ kind: 'note', text: d.status === 'passed' ? 'no differences: the replay matched its original' : 'no diff summary recorded for this replay', change: false });
    return out;
  }
  const items = arr(s.items).filter(isObj);
  if (items.length > 0) {
    // diff_summary v1: every changed item with its own evidence.
    const groups: Array<[string, string]> = [['vulnerability', 'Vulnerabilities'], ['package', 'Packages'], ['vex', 'VEX'], ['verdict', 'Verdict']];
    for (const [kind, title] of groups) {
      const group = items.filter((it) => it.kind === kind);
      if (group.length === 0) continue;
      out.push({ kind: 'head', text: `${title} (${group.length})`, change: false });
      for (const it of group) {
        out.push({ kind: 'pair', label: itemLabel(it), left: show(it.a), right: show(it.b), tag, change: true });
        for (const e of arr(it.evidence).slice(0, 3)) out.push({ kind: 'note', text: `  evidence: ${evidenceText(e)}`, change: false });
      }
    }
  } else {
    // Generic rendering of an older or foreign summary: packages, vulnerabilities, verdict.
    const pk = isObj(s.packages) ? s.packages : {};
    const pkgs = [
      ...arr(pk.added).filter(isObj).map((p) => ({ label: `pkg ${show(p.key)} added`, a: '-', b: show(p.versions) })),
      ...arr(pk.removed).filter(isObj).map((p) => ({ label: `pkg ${show(p.key)} removed`, a: show(p.versions), b: '-' })),
      ...arr(pk.changed).filter(isObj).map((p) => ({ label: `pkg ${show(p.key)} changed`, a: show(p.a), b: show(p.b) })),
    ];
    if (pkgs.length) out.push({ kind: 'head', text: `Packages (${pkgs.length})`, change: false });
    for (const p of pkgs) out.push({ kind: 'pair', label: p.label, left: p.a, right: p.b, tag, change: true });
    const vulns = arr(s.top_vulnerabilities).filter(isObj);
    if (vulns.length) out.push({ kind: 'head', text: `Vulnerabilities (${vulns.length})`, change: false });
    for (const v of vulns) {
      const appeared = v.change === 'appeared';
      out.push({ kind: 'pair', label: `vuln ${show(v.vulnerability_id)} ${show(v.purl)} ${show(v.change)}`, left: appeared ? '-' : show(v.severity), right: appeared ? show(v.severity) : '-', tag, change: true });
    }
    if (isObj(s.verdict_change)) {
      out.push({ kind: 'head', text: 'Verdict', change: false });
      out.push({ kind: 'pair', label: 'verdict decision', left: show(s.verdict_change.a), right: show(s.verdict_change.b), tag, change: true });
    }
  }
  // Evidence first. When changes follow, it takes at most half the screen before them and the rest
  // goes after them, so the first screen shows the cause's evidence and the first changes.
  const changes = out.slice(head);
  const hasChanges = changes.some((l) => l.change);
  const split = splitEvidence(evidence, width, hasChanges ? Math.max(6, Math.floor(height / 2)) : Number.POSITIVE_INFINITY);
  out.splice(head, changes.length, ...split.first, ...changes, ...split.rest);
  const ev = arr(d.evidence);
  if (ev.length) {
    out.push({ kind: 'head', text: `Evidence (${ev.length})`, change: false });
    for (const e of ev.slice(0, 20)) out.push({ kind: 'note', text: evidenceText(e), change: false });
  }
  if (out.every((l) => !l.change)) out.push({ kind: 'note', text: evidence?.kind === 'ready' ? 'no semantic change recorded: the evidence above is what differs' : 'no semantic change recorded', change: false });
  return out;
}

/** A unified diff (raw canonical or manifest) as lines; hunks and +/- lines are the `n` stops. */
export function textDiffLines(title: string, unified: string): DiffLine[] {
  const out: DiffLine[] = [{ kind: 'head', text: title, change: false }];
  let from = '';
  for (const line of unified.split('\n')) {
    if (line === '' ) continue;
    if (line.startsWith('===') || line.startsWith('Index:')) continue;
    // The file header pair becomes one heading: with several artifacts, it says whose hunks follow.
    if (line.startsWith('--- ')) {
      from = line.slice(4).split('\t')[0];
      continue;
    }
    if (line.startsWith('+++ ')) {
      out.push({ kind: 'head', text: `${from} -> ${line.slice(4).split('\t')[0]}`, change: false });
      continue;
    }
    const c = line[0];
    if (c === '@') out.push({ kind: 'text', text: line, change: false, sign: '@' });
    else if (c === '+' || c === '-') out.push({ kind: 'text', text: line, change: true, sign: c });
    else out.push({ kind: 'text', text: line, change: false, sign: ' ' });
  }
  if (out.length === 1) out.push({ kind: 'note', text: 'identical', change: false });
  return out;
}

/** Wide enough for original | replay in two columns. */
export const SIDE_BY_SIDE_MIN_WIDTH = 100;

/**
 * Unified text-diff lines as two columns: context on both sides, each run of removals paired row by
 * row with the additions that follow it (`~`), the unpaired rest on its own side (`-` or `+`).
 */
export function sideBySide(lines: DiffLine[]): DiffLine[] {
  const out: DiffLine[] = [];
  let minus: string[] = [];
  let plus: string[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(minus.length, plus.length); i++) {
      const l = minus[i];
      const r = plus[i];
      out.push({ kind: 'split', left: l ?? '', right: r ?? '', mark: l !== undefined && r !== undefined ? '~' : l !== undefined ? '-' : '+', change: true });
    }
    minus = [];
    plus = [];
  };
  for (const l of lines) {
    if (l.kind === 'text' && l.sign === '-') {
      if (plus.length) flush();
      minus.push(l.text.slice(1));
    } else if (l.kind === 'text' && l.sign === '+') plus.push(l.text.slice(1));
    else {
      flush();
      // Context lines of a hunk start with a space; other text (notes such as "replay mode: …") stays whole.
      if (l.kind === 'text' && l.sign === ' ' && l.text.startsWith(' ')) out.push({ kind: 'split', left: l.text.slice(1), right: l.text.slice(1), mark: ' ', change: false });
      else out.push(l);
    }
  }
  flush();
  return out;
}
