// Packagist (Composer) version order. composer/semver's Comparator compares with PHP's
// `version_compare` (php-src ext/standard/versioning.c), reproduced here:
//   canonicalise: `-`, `_`, `+` and any other non-alphanumeric become `.` (runs collapse), and a `.` is
//   put between a digit and a non-digit; then compare `.`-separated parts pairwise: two numbers
//   numerically; two words by their "special form" rank dev < alpha = a < beta = b < RC = rc < # < pl = p
//   (prefix match; an unknown word ranks below dev); a number against a word as `#` against that word.
//   When one version runs out, the rest of the longer decides: a number makes it greater, a word is
//   compared against `#` (so `1.0 < 1.0.0`, `1.0rc1 < 1.0 < 1.0pl1`).
// A leading `v`/`V` (tags such as `v1.2.3`, which Composer accepts) is dropped first.
// (`dev-foo` against a release: PHP ranks the word `dev` lowest, so a branch sorts below 0.)
import { compareDigits } from './util.js';

const isDigit = (c: string) => c >= '0' && c <= '9';
const isAlnum = (c: string) => isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

/** php_canonicalize_version. */
export function canonicalizePhpVersion(v: string): string {
  if (v === '') return '';
  let out = v[0];
  let last = v[0];
  for (let i = 1; i < v.length; i++) {
    const c = v[i];
    const tail = out[out.length - 1];
    if (c === '-' || c === '_' || c === '+') {
      if (tail !== '.') out += '.';
    } else if ((isNonDigit(last) && isDigit(c)) || (isDigit(last) && isNonDigit(c))) {
      if (tail !== '.') out += '.';
      out += c;
    } else if (!isAlnum(c)) {
      if (tail !== '.') out += '.';
    } else out += c;
    last = c;
  }
  return out;
}

function isNonDigit(c: string): boolean {
  return !isDigit(c) && c !== '.';
}

const SPECIAL: Array<[string, number]> = [
  ['dev', 0],
  ['alpha', 1],
  ['a', 1],
  ['beta', 2],
  ['b', 2],
  ['RC', 3],
  ['rc', 3],
  ['#', 4],
  ['pl', 5],
  ['p', 5],
];

function specialRank(form: string): number {
  for (const [name, rank] of SPECIAL) if (form.startsWith(name)) return rank;
  return -1;
}

function compareSpecial(a: string, b: string): number {
  return Math.sign(specialRank(a) - specialRank(b));
}

function comparePart(p: string, q: string): number {
  const pd = p !== '' && isDigit(p[0]);
  const qd = q !== '' && isDigit(q[0]);
  if (pd && qd) return compareDigits(leadingDigits(p), leadingDigits(q));
  if (!pd && !qd) return compareSpecial(p, q);
  return pd ? compareSpecial('#N#', q) : compareSpecial(p, '#N#');
}

function leadingDigits(s: string): string {
  const m = /^\d+/.exec(s);
  return m ? m[0] : '0';
}

/** PHP's version_compare(a, b) as -1, 0, 1. */
export function phpVersionCompare(a: string, b: string): number {
  if (a === '') return b === '' ? 0 : -1;
  if (b === '') return 1;
  const xs = canonicalizePhpVersion(a).split('.');
  const ys = canonicalizePhpVersion(b).split('.');
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const c = comparePart(xs[i], ys[i]);
    if (c !== 0) return c;
  }
  if (xs.length > n) {
    const rest = xs.slice(n);
    return rest[0] !== '' && isDigit(rest[0][0]) ? 1 : phpVersionCompare(rest.join('.'), '#N#');
  }
  if (ys.length > n) {
    const rest = ys.slice(n);
    return rest[0] !== '' && isDigit(rest[0][0]) ? -1 : phpVersionCompare('#N#', rest.join('.'));
  }
  return 0;
}

export function compareComposer(a: string, b: string): number {
  if (a === b) return 0;
  // Branches (`dev-main`, `dev-foo`): Composer orders a branch below every release, and two different
  // branches not at all (neither <, = nor >). A comparator must answer, so two branches compare by
  // name, and are never equal (a record listing `dev-master` must not match `dev-foo`).
  const da = a.startsWith('dev-');
  const db = b.startsWith('dev-');
  if (da && db) return a < b ? -1 : 1;
  return phpVersionCompare(a.replace(/^[vV]/, ''), b.replace(/^[vV]/, ''));
}
