// SemVer 2.0.0 precedence (semver.org §11) for npm and crates.io, tolerant of the loose forms found in
// real data: a leading `v` or `=`, missing minor/patch (`1.2` == `1.2.0`), surrounding whitespace.
// Build metadata (`+…`) never affects precedence. Strings that are not versions at all fall back to the
// generic order so the comparator stays total.
import { compareGeneric } from './generic.js';
import { compareDigits, compareStrings } from './util.js';

export interface SemVer {
  core: [string, string, string];
  /** Pre-release identifiers; empty for a release. */
  pre: string[];
  build: string;
}

const LOOSE = /^[vV=]?\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.+-]*))?$/;

export function parseSemver(input: string): SemVer | null {
  const m = LOOSE.exec(input.trim());
  if (!m) return null;
  return {
    core: [m[1], m[2] ?? '0', m[3] ?? '0'],
    pre: m[4] === undefined ? [] : m[4].split('.'),
    build: m[5] ?? '',
  };
}

const NUMERIC = /^\d+$/;

/** Compare pre-release identifier lists: a release (empty list) ranks above any pre-release. */
export function comparePrerelease(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    const xn = NUMERIC.test(x);
    const yn = NUMERIC.test(y);
    let c: number;
    if (xn && yn) c = compareDigits(x, y);
    // Numeric identifiers always have lower precedence than alphanumeric ones.
    else if (xn !== yn) c = xn ? -1 : 1;
    else c = compareStrings(x, y);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function compareParsedSemver(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i++) {
    const c = compareDigits(a.core[i], b.core[i]);
    if (c !== 0) return c;
  }
  return comparePrerelease(a.pre, b.pre);
}

export function compareSemver(a: string, b: string): number {
  if (a === b) return 0;
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (x && y) return compareParsedSemver(x, y);
  // A parsable version sorts after junk; two junk strings use the generic order.
  if (x || y) return x ? 1 : -1;
  return compareGeneric(a, b);
}
