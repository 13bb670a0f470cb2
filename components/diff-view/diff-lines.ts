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

/** The evidence as screen lines `width` columns wide: nothing is cut, long values wrap under their label. */
export function evidenceLines(ev: EvidenceState | null, width = Number.POSITIVE_INFINITY): DiffLine[] {
  if (ev === null) return [];
  const text = Math.max(20, width - BODY_MARGIN - MARK_W);
  const out: DiffLine[] = [];
  const put = (t: string, mark: '-' | '+' | ' ' = ' ', indent = '  ') => {
    for (const l of wrapText(t, text, indent)) out.push({ kind: 'evidence', text: l, mark, change: false });
  };
  if (ev.kind === 'loading') {
    out.push({ kind: 'head', text: 'Evidence', change: false });
    put('reading the original and replay records...');
    return out;
  }
  if (ev.kind === 'unavailable') {
    out.push({ kind: 'head', text: 'Evidence', change: false });
    put(`unavailable: ${ev.reason}`);
    return out;
  }
  const e = ev.evidence;
  const cause = e.cause ? `${e.cause}${e.subtags.length ? ` [${e.subtags.join(',')}]` : ''}` : 'a matching replay';
  for (const l of wrapText(`Evidence for ${cause} (- original, + replay)`, Math.max(20, width - BODY_MARGIN))) out.push({ kind: 'head', text: l, change: false });
  put(e.headline);
  for (const g of e.groups) {
    out.push({ kind: 'head', text: g.more ? `${g.title} (${g.facts.length} of ${g.facts.length + g.more})` : g.title, change: false });
    for (const f of g.facts) {
      if (f.a === undefined && f.b === undefined) {
        put(f.label);
        continue;
      }
      const one = `${f.label}: ${f.a ?? '(none)'} -> ${f.b ?? '(none)'}`;
      if (one.length <= text) {
        put(one);
        continue;
      }
      put(f.label);
      put(f.a ?? '(none)', '-');
      put(f.b ?? '(none)', '+');
    }
    if (g.more) put(`and ${g.more} more like these`);
  }
  return out;
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
export function buildDiffLines(d: ReplayDetail, evidence: EvidenceState | null = null, width = Number.POSITIVE_INFINITY): DiffLine[] {
  const out: DiffLine[] = [];
  const tag = d.tag;
  const levels = (b: boolean | null): string => (b === null ? 'n/a' : b ? 'match' : 'DIFFERS');
  out.push({ kind: 'head', text: `BF ${levels(d.bf_match)}  SF ${levels(d.sf_match)}  PF ${levels(d.pf_match)}  cause ${tag ?? '-'}${d.human_tag ? ` (auto ${d.auto_reason ?? '-'})` : ''}${d.subtags.length ? ` [${d.subtags.join(',')}]` : ''}`, change: false });
  if (d.error) out.push({ kind: 'note', text: `error: ${d.error}`, change: false });
  out.push(...evidenceLines(evidence, width));
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
