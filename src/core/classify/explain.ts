// One paragraph a human can paste into a ticket: what differed, the cause, and the evidence that shows it.
import type { Comparison } from '../diff/types.js';
import type { Classification, Evidence } from './index.js';

const MAX_SENTENCES = 12;
const short = (v: unknown): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /^sha256:[0-9a-f]{64}$/.test(s) ? s.slice(0, 19) + '…' : s;
};
const purlName = (purl: string): string => purl.replace(/^pkg:[^/]+\//, '').replace(/%40/g, '@');

/** One evidence item as a sentence (the ticket and the explain paragraph share it). */
export function sentence(e: Evidence): string | null {
  switch (e.kind) {
    case 'manifest_field':
      return `${e.path} changed from ${short(e.a)} to ${short(e.b)}`;
    case 'executor_field':
      return `the executor's ${e.field} was ${short(e.a)} in A and ${short(e.b)} in B`;
    case 'feed_finding': {
      const verb = { appeared: 'now matches', disappeared: 'no longer matches', severity_changed: 'changed severity on', fix_changed: 'changed fix versions on' }[e.change];
      if (!e.records.length) return `${e.vulnerability_id} ${verb} ${purlName(e.purl)}, but no single feed record change explains it`;
      const why = e.records.map((r) => `${r.change} ${r.id === e.vulnerability_id ? 'that record' : r.id}`).join(' and ');
      return `${e.vulnerability_id} ${verb} ${purlName(e.purl)} because the new feed bundle ${why}`;
    }
    case 'feed_unavailable':
      return `feed bundle ${short(e.digest)} (${e.side.toUpperCase()}) is not in the blob store, so the changed records cannot be named`;
    case 'policy_rule':
      return `policy rule ${e.path} changed from ${short(e.before)} to ${short(e.after)}`;
    case 'policy_unavailable':
      return `policy bundle ${short(e.digest)} (${e.side.toUpperCase()}) is not in the blob store, so the changed rules cannot be named`;
    case 'verdict_change': {
      const codes = [...e.codes_added.map((c) => `+${c}`), ...e.codes_removed.map((c) => `-${c}`)];
      return `verdict flipped ${e.a} → ${e.b}${codes.length ? ` on reason ${codes.join(', ')}` : ''}`;
    }
    case 'unpinned':
      return `${e.side.toUpperCase()} does not pin ${e.path} (it says ${JSON.stringify(e.value)}), so whatever was current was read`;
    case 'network':
      return `${e.side.toUpperCase()} ran with network ${e.value}`;
    case 'artifact_value':
      return `${e.artifact} ${e.path} differs (${short(e.a)} vs ${short(e.b)}${e.subtag === 'unknown' ? '' : `: looks like ${e.subtag}${e.near ? `, near the ${e.near.replace('_', ' ')}` : ''}`})`;
    case 'permutation':
      return `${e.artifact} ${e.path} holds the same items in another order (${e.subtag})`;
    case 'semantic_change':
      return `${e.artifact} results changed with every input equal (${Object.entries(e.counts).map(([k, n]) => `${k.replace(/_/g, ' ')} ${n}`).join(', ')})`;
    case 'repeats':
      return `repeated replays with ${e.runs.map((r) => r.cpus).join('/')} CPUs gave different outputs`;
    default: {
      const _exhaustive: never = e;
      return _exhaustive;
    }
  }
}

export function explainParagraph(c: Comparison, cls: Classification, names: { a: string; b: string }): string {
  const levels = (['bf', 'sf', 'pf'] as const).map((l) => `${l.toUpperCase()} ${c[l].match ? 'matches' : 'differs'}`).join(', ');
  if (!cls.mismatch_reason) {
    const warn = c.warnings.length ? ` Warning: ${c.warnings.join(', ')} (the scanner's raw output order is not stable).` : '';
    return `${names.b} matches ${names.a} (${levels}).${warn}`;
  }
  const tag = cls.subtags.length ? `${cls.mismatch_reason} [${cls.subtags.join(', ')}]` : cls.mismatch_reason;
  const sentences = cls.evidence.map(sentence).filter((s): s is string => s !== null);
  const shown = sentences.slice(0, MAX_SENTENCES);
  const more = sentences.length > shown.length ? `; and ${sentences.length - shown.length} more` : '';
  return `${names.b} does not match ${names.a} (${levels}). Cause: ${tag}${shown.length ? ' — ' + shown.join('; ') + more : ''}. (classifier ${cls.classifier_version})`;
}
