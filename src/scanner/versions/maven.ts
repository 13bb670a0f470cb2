// Maven version order as the Maven project specifies it ("Version Order Specification", POM reference;
// implemented by org.apache.maven.artifact.versioning.ComparableVersion):
// - split at `.`, `-` and every digit/letter transition; a transition counts as `-`; the separator is
//   kept as the token's prefix; an empty token is `0`. Qualifiers are case-insensitive; `cr` = `rc`,
//   `ga` = `final` = `release` = `` (the release); `a`/`b`/`m` directly followed by a digit are
//   alpha/beta/milestone.
// - trailing "null" tokens (0, ``) are dropped from the end, and again before each remaining `-` from
//   end to start: this is the list nesting after `-` (`1-ga-1` = `1-1`, `1.0.0-rc1` = `1-rc1`).
// - tokens compare pairwise, the shorter version padded with nulls of the other's prefix (0 after `.`,
//   the release after `-`). Same prefix: numbers numerically; qualifiers alpha < beta < milestone < rc <
//   snapshot < (release) < sp < any other (those by code units); a number beats a qualifier, but a padded
//   0 counts as the release. Different prefixes: `.qualifier` < `-qualifier` < `-number` < `.number`,
//   so `2.0-1 < 2.0.1` and `1.0.0-beta11 < 1.0.0-beta.6`.
import { compareDigits, compareStrings } from './util.js';

interface Token {
  /** `.` (also the first token) or `-`. */
  sep: '.' | '-';
  num: boolean;
  /** Digits without leading zeros, or the normalised qualifier. */
  v: string;
  padded?: boolean;
}

const RANKS: Record<string, number> = { alpha: 0, beta: 1, milestone: 2, rc: 3, snapshot: 4, '': 5, sp: 6 };

const UNKNOWN = 7;

function qualifier(raw: string, followedByDigit: boolean): string {
  let q = raw.toLowerCase();
  if (q === 'cr') q = 'rc';
  if (q === 'ga' || q === 'final' || q === 'release') q = '';
  if (followedByDigit) q = q === 'a' ? 'alpha' : q === 'b' ? 'beta' : q === 'm' ? 'milestone' : q;
  return q;
}

function isNull(t: Token): boolean {
  return t.num ? t.v === '0' : t.v === '';
}

export function parseMaven(input: string): Token[] {
  const tokens: Token[] = [];
  const parts = input.trim().split(/([.-])/);
  for (let p = 0; p < parts.length; p += 2) {
    let sep: '.' | '-' = p === 0 ? '.' : (parts[p - 1] as '.' | '-');
    const runs = parts[p].match(/\d+|\D+/g) ?? [''];
    runs.forEach((run, k) => {
      if (k > 0) sep = '-';
      if (run === '' || /^\d/.test(run)) tokens.push({ sep, num: true, v: run.replace(/^0+(?=.)/, '') || '0' });
      else tokens.push({ sep, num: false, v: qualifier(run, k + 1 < runs.length) });
    });
  }
  // Drop trailing nulls, then again before each remaining `-`, from the end to the start.
  let i = tokens.length - 1;
  while (i > 0) {
    if (isNull(tokens[i])) {
      tokens.splice(i, 1);
      i--;
      continue;
    }
    while (i >= 0 && tokens[i].sep !== '-') i--;
    i--;
  }
  return tokens;
}

function pad(other: Token): Token {
  return other.sep === '.' ? { sep: '.', num: true, v: '0', padded: true } : { sep: '-', num: false, v: '', padded: true };
}

function rank(q: string): number {
  return RANKS[q] ?? UNKNOWN;
}

function compareQualifiers(a: string, b: string): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  return ra === UNKNOWN ? compareStrings(a, b) : 0;
}

function compareToken(a: Token, b: Token): number {
  if (a.sep === b.sep) {
    if (a.num && b.num) return compareDigits(a.v, b.v);
    if (!a.num && !b.num) return compareQualifiers(a.v, b.v);
    // A number against a qualifier: a padded 0 stands for the release; a real number wins.
    if (a.num) return a.padded ? compareQualifiers('', b.v) : 1;
    return b.padded ? compareQualifiers(a.v, '') : -1;
  }
  const order = (t: Token) => (t.num ? (t.sep === '-' ? 2 : 3) : t.sep === '.' ? 0 : 1);
  return order(a) < order(b) ? -1 : 1;
}

export function compareMaven(a: string, b: string): number {
  if (a === b) return 0;
  const x = parseMaven(a);
  const y = parseMaven(b);
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const l = x[i] ?? pad(y[i]);
    const r = y[i] ?? pad(x[i]);
    const c = compareToken(l, r);
    if (c !== 0) return c;
  }
  return 0;
}

