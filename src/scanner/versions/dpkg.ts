// Debian package version order (Debian Policy §5.6.12; dpkg's lib/dpkg/version.c `dpkg_version_compare`
// and `verrevcmp`), for the OSV ecosystems Debian and Ubuntu:
//   [epoch:]upstream[-revision]. The epoch (digits before the first `:`, default 0) compares as a
//   number; upstream and revision (after the last `-`, default empty ≡ "0") with verrevcmp: alternate
//   non-digit and digit runs; in a non-digit run `~` sorts before everything, even the end of the
//   string, then the end, then letters, then every other character (by code, +256); digit runs compare as
//   unbounded numbers. So `1.0~rc1 < 1.0 < 1.0a < 1.0+b`, and `0:1.0 = 1.0`, `1.0-0 = 1.0`.
import { compareDigits, sign } from './util.js';

export interface DpkgVersion {
  epoch: string;
  upstream: string;
  revision: string;
}

export function parseDpkg(input: string): DpkgVersion {
  let s = input.trim();
  let epoch = '0';
  const colon = s.indexOf(':');
  if (colon >= 0 && /^\d+$/.test(s.slice(0, colon))) {
    epoch = s.slice(0, colon);
    s = s.slice(colon + 1);
  }
  const dash = s.lastIndexOf('-');
  return dash >= 0 ? { epoch, upstream: s.slice(0, dash), revision: s.slice(dash + 1) } : { epoch, upstream: s, revision: '' };
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** dpkg's `order()`: the weight of one character of a non-digit run (NaN = end of string → 0). */
function order(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1; // '~'
  return c + 256;
}

/** dpkg's `verrevcmp` over one upstream or revision part. */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = order(a, i);
      const bc = order(b, j);
      if (ac !== bc) return sign(ac - bc);
      i++;
      j++;
    }
    const si = i;
    const sj = j;
    while (i < a.length && isDigit(a.charCodeAt(i))) i++;
    while (j < b.length && isDigit(b.charCodeAt(j))) j++;
    const c = compareDigits(a.slice(si, i) || '0', b.slice(sj, j) || '0');
    if (c !== 0) return c;
  }
  return 0;
}

export function compareDpkg(a: string, b: string): number {
  if (a === b) return 0;
  const x = parseDpkg(a);
  const y = parseDpkg(b);
  return compareDigits(x.epoch, y.epoch) || verrevcmp(x.upstream, y.upstream) || verrevcmp(x.revision, y.revision);
}
