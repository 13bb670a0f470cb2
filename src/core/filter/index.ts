// The one filter language: the workstation's `/` prompt, `stella retag --filter` and the list queries
// all parse text here into one ReplayFilter, and the store turns that filter into its own query.
//
//   cause:feed_drift[,policy_drift]  eco:npm  scanner:1.2.0  project:web  policy:prod-default  failing
//
// plus free words, matched case-insensitively against id, project, scanner and ecosystem, and by prefix
// against the replay's vulnerability ids, aliases, package names and purls (src/core/filter/terms.ts). A new facet
// is one row in FACETS and one field in ReplayFilter (and, in the store, an index that starts with it).
import { StellaError } from '../errors.js';
import { MISMATCH_REASONS, type MismatchReason } from '../formats.js';

export interface ReplayFilter {
  failingOnly?: boolean;
  causes?: MismatchReason[];
  /** Free text over id/project/scanner/ecosystem (case-insensitive substring) and search terms (prefix). */
  text?: string;
  scanner?: string;
  ecosystem?: string;
  project?: string;
  policySet?: string;
}

type Facet = (f: ReplayFilter, value: string) => string | null;

const isCause = (c: string): c is MismatchReason => (MISMATCH_REASONS as readonly string[]).includes(c);

/** key → how its value lands in the filter; a returned string is the error. */
const FACETS: Record<string, Facet> = {
  cause: (f, v) => {
    for (const c of v.split(',')) {
      if (!isCause(c)) return `unknown cause '${c}' in filter: expected one of ${MISMATCH_REASONS.join('|')}`;
      f.causes = [...new Set([...(f.causes ?? []), c])];
    }
    return null;
  },
  eco: (f, v) => ((f.ecosystem = v), null),
  ecosystem: (f, v) => ((f.ecosystem = v), null),
  scanner: (f, v) => ((f.scanner = v), null),
  project: (f, v) => ((f.project = v), null),
  policy: (f, v) => ((f.policySet = v), null),
  policy_set: (f, v) => ((f.policySet = v), null),
};

/** Parse filter text; every problem is reported (the prompt shows the first), the rest still applies. */
export function parseFilter(text: string): { filter: ReplayFilter; errors: string[] } {
  const filter: ReplayFilter = {};
  const words: string[] = [];
  const errors: string[] = [];
  // A facet value with spaces is quoted: scanner:"stella-scan 1.0.0".
  for (const m of text.trim().matchAll(/[^\s:"]+:"[^"]*"|\S+/g)) {
    const tok = m[0].replace(/^([^\s:"]+):"([^"]*)"$/, '$1:$2');
    const i = tok.indexOf(':');
    // A purl (pkg:npm/cookie@0.6.0) is a search word, not a facet.
    if (i < 0 || /^pkg:/i.test(tok)) {
      if (tok === 'failing') filter.failingOnly = true;
      else words.push(tok);
      continue;
    }
    const key = tok.slice(0, i);
    const value = tok.slice(i + 1);
    const facet = Object.hasOwn(FACETS, key) ? FACETS[key] : undefined;
    if (!facet) errors.push(`unknown filter key '${key}': use ${Object.keys(FACETS).filter((k) => k !== 'ecosystem' && k !== 'policy_set').join(': ')}: or free text`);
    else if (value === '') errors.push(`filter '${tok}' has no value`);
    else {
      const err = facet(filter, value);
      if (err) errors.push(err);
    }
  }
  if (words.length) filter.text = words.join(' ');
  return { filter, errors };
}

/** For commands: the first problem is a usage error. */
export function parseFilterOrThrow(text: string): ReplayFilter {
  const { filter, errors } = parseFilter(text);
  if (errors.length) throw new StellaError('USAGE', errors[0]);
  return filter;
}
