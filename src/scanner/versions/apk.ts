// Alpine package version order: apk-tools 2's `apk_version_compare` (src/version.c of the apk-tools
// that Alpine 3.x ships; `apk version -t`), for the OSV ecosystems Alpine, Wolfi, Chainguard,
// Alpaquita, BellSoft Hardened Containers and MinimOS.
//   digit{.digit}...{letter}{_suffix{number}}...{-rN}
// A version is read as a stream of typed tokens: numbers (after the first component a leading zero
// makes the component compare as a fraction: `1.02 < 1.1`), one optional lowercase letter, suffixes
// `_alpha|_beta|_pre|_rc` (before the release) or `_cvs|_svn|_git|_hg|_p` (after it), each with an
// optional number, and `-rN` (package revision). Streams compare token by token while both have a
// token of the same kind; when the kinds differ, the version that goes on is greater unless it goes on
// with a pre-release suffix. A token that breaks the grammar stops the comparison there ("invalid",
// which apk-tools 2 ranks as a kind before all others). Numbers are unbounded (BigInt) where apk-tools
// overflows a C int.

const enum T {
  Invalid = -1,
  DigitOrZero = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNo = 4,
  RevisionNo = 5,
  End = 6,
}

const PRE = ['alpha', 'beta', 'pre', 'rc'];
const POST = ['cvs', 'svn', 'git', 'hg', 'p'];

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isLower = (c: string | undefined) => c !== undefined && c >= 'a' && c <= 'z';

class Reader {
  pos = 0;
  type: T = T.Digit;
  constructor(readonly s: string) {}

  /** Classify what follows the token just read (apk's next_token). */
  private classify(): void {
    const s = this.s;
    const prev = this.type;
    let n: T = T.Invalid;
    const c = s[this.pos];
    if (this.pos >= s.length) n = T.End;
    else if ((prev === T.Digit || prev === T.DigitOrZero) && isLower(c)) n = T.Letter;
    else if (prev === T.Letter && isDigit(c)) n = T.Digit;
    else if (prev === T.Suffix && isDigit(c)) n = T.SuffixNo;
    else {
      if (c === '.') n = T.DigitOrZero;
      else if (c === '_') n = T.Suffix;
      else if (c === '-' && s[this.pos + 1] === 'r') {
        n = T.RevisionNo;
        this.pos++;
      }
      this.pos++;
    }
    // Kinds only move forward, except `.` after a number, `_` after a suffix number, a number after a letter.
    if (n < prev && !((n === T.DigitOrZero && prev === T.Digit) || (n === T.Suffix && prev === T.SuffixNo) || (n === T.Digit && prev === T.Letter))) {
      n = T.Invalid;
    }
    this.type = n;
  }

  /** The value of the current token, then advance and classify the next one (apk's get_token). */
  value(): bigint {
    const s = this.s;
    if (this.pos >= s.length) {
      this.type = T.End;
      return 0n;
    }
    let i = this.pos;
    let v = 0n;
    let forced: T | null = null;
    switch (this.type) {
      case T.DigitOrZero:
        if (s[i] === '0') {
          // Leading zeros: the count, negated, then the digits after them as an ordinary number.
          while (i < s.length && s[i] === '0') i++;
          v = -BigInt(i - this.pos);
          forced = T.Digit;
          break;
        }
      // falls through
      case T.Digit:
      case T.SuffixNo:
      case T.RevisionNo: {
        const start = i;
        while (isDigit(s[i])) i++;
        if (i > start) v = BigInt(s.slice(start, i));
        break;
      }
      case T.Letter:
        v = BigInt(s.charCodeAt(i));
        i++;
        break;
      case T.Suffix: {
        const rest = s.slice(i);
        const pre = PRE.findIndex((p) => rest.startsWith(p));
        const post = pre >= 0 ? -1 : POST.findIndex((p) => rest.startsWith(p));
        if (pre >= 0) {
          v = BigInt(pre - PRE.length);
          i += PRE[pre].length;
        } else if (post >= 0) {
          v = BigInt(post);
          i += POST[post].length;
        } else {
          this.type = T.Invalid;
          return -1n;
        }
        break;
      }
      default:
        this.type = T.Invalid;
        return -1n;
    }
    this.pos = i;
    if (this.pos >= s.length) this.type = T.End;
    else if (forced !== null) this.type = forced;
    else this.classify();
    return v;
  }

  /** The value of the current token without consuming it. */
  peek(): bigint {
    const copy = new Reader(this.s);
    copy.pos = this.pos;
    copy.type = this.type;
    return copy.value();
  }
}

export function compareApk(a: string, b: string): number {
  if (a === b) return 0;
  const x = new Reader(a);
  const y = new Reader(b);
  let av = 0n;
  let bv = 0n;
  while (x.type === y.type && x.type !== T.End && x.type !== T.Invalid && av === bv) {
    av = x.value();
    bv = y.value();
  }
  if (av !== bv) return av < bv ? -1 : 1;
  if (x.type === y.type) return 0;
  if (x.type === T.Suffix && x.peek() < 0n) return -1;
  if (y.type === T.Suffix && y.peek() < 0n) return 1;
  return x.type > y.type ? -1 : 1;
}
