// Where the index lives: `$STELLA_HOME/index.db`, default `./.stella/index.db` (SPEC §1.6).
import path from 'node:path';

export function storePath(env: NodeJS.ProcessEnv, cwd: string, override?: string): string {
  if (override) return path.resolve(cwd, override);
  const home = env.STELLA_HOME && env.STELLA_HOME !== '' ? env.STELLA_HOME : '.stella';
  return path.resolve(cwd, home, 'index.db');
}

import { StellaError } from '../core/errors.js';
import { MISMATCH_REASONS, type MismatchReason } from '../core/formats.js';
import type { ReplayFilter } from '../../store/types.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `--now T` (RFC 3339 or a date) or the injected clock: windows never read the wall clock themselves. */
export function resolveNow(value: unknown, clock: () => Date): Date {
  if (value === undefined) return clock();
  const s = String(value);
  const t = RFC3339.test(s) ? Date.parse(s.length === 10 ? `${s}T23:59:59Z` : s) : NaN;
  if (Number.isNaN(t)) throw new StellaError('USAGE', `--now must be an RFC 3339 date-time like 2026-01-31T12:00:00Z, got '${s}'`);
  return new Date(t);
}

/** `--window 30d` → 30. */
export function parseWindow(value: unknown, dflt = 30): number {
  if (value === undefined) return dflt;
  const m = /^(\d{1,4})d$/.exec(String(value));
  const days = m ? Number(m[1]) : NaN;
  if (!(days >= 1 && days <= 3650)) throw new StellaError('USAGE', `--window must be a number of days like 30d or 90d, got '${String(value)}'`);
  return days;
}

/**
 * The workstation's filter language, shared with `stella retag --filter`:
 * `cause:feed_drift[,policy_drift] eco:npm scanner:1.2.0 project:web policy:prod-default failing` plus
 * free words (matched against id, project, scanner and ecosystem).
 */
export function parseFilter(text: string): ReplayFilter {
  const f: ReplayFilter = {};
  const words: string[] = [];
  for (const tok of text.split(/\s+/).filter(Boolean)) {
    const i = tok.indexOf(':');
    if (i < 0) {
      if (tok === 'failing') f.failingOnly = true;
      else words.push(tok);
      continue;
    }
    const key = tok.slice(0, i);
    const val = tok.slice(i + 1);
    if (val === '') throw new StellaError('USAGE', `filter '${tok}' has no value`);
    switch (key) {
      case 'cause': {
        const causes = val.split(',');
        for (const c of causes) {
          if (!MISMATCH_REASONS.includes(c as MismatchReason)) {
            throw new StellaError('USAGE', `unknown cause '${c}' in filter: expected one of ${MISMATCH_REASONS.join('|')}`);
          }
        }
        f.causes = causes as MismatchReason[];
        break;
      }
      case 'eco':
      case 'ecosystem':
        f.ecosystem = val;
        break;
      case 'scanner':
        f.scanner = val;
        break;
      case 'project':
        f.project = val;
        break;
      case 'policy':
      case 'policy_set':
        f.policySet = val;
        break;
      default:
        throw new StellaError('USAGE', `unknown filter key '${key}': use cause: eco: scanner: project: policy: or free text`);
    }
  }
  if (words.length) f.text = words.join(' ');
  return f;
}
