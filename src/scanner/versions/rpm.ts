// RPM version order: rpm's `rpmvercmp` (rpmio/rpmvercmp.c, rpm ≥ 4.15 with the caret) applied to epoch,
// version and release in turn (`rpmVersionCompare`), for the OSV ecosystems Red Hat, AlmaLinux, Rocky
// Linux, SUSE, openSUSE, Mageia, openEuler, Azure Linux (CBL-Mariner) and Photon OS.
//   [epoch:]version[-release]: the epoch is the digits before a `:` (otherwise there is none: 0); the
//   release follows the last `-`. rpmvercmp skips every character that is not an ASCII letter, digit, `~` or
//   `^`, then compares alternating digit runs (as numbers; a number beats letters) and letter runs (by
//   code units). `~` sorts before everything, even the end (`1.0~rc1 < 1.0`); `^` sorts after the end
//   but before any further segment (`1.0 < 1.0^git1 < 1.0.1`). When one string runs out, the longer wins.
//   A version without a release sorts before the same version with one (`1 < 1-0`), as OSV records
//   and osv-scalibr order them.
import { compareDigits, compareStrings } from './util.js';

export interface RpmVersion {
  epoch: string;
  version: string;
  /** null: no `-` at all. */
  release: string | null;
}

export function parseRpm(input: string): RpmVersion {
  let s = input;
  let epoch = '0';
  const colon = s.indexOf(':');
  if (colon >= 0 && /^\d*$/.test(s.slice(0, colon))) {
    epoch = s.slice(0, colon) || '0';
    s = s.slice(colon + 1);
  }
  // The release is what follows the last `-` (rpm's parseEVR).
  const dash = s.lastIndexOf('-');
  return dash >= 0 ? { epoch, version: s.slice(0, dash), release: s.slice(dash + 1) } : { epoch, version: s, release: null };
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const TILDE = 126;
const CARET = 94;

/** rpmvercmp: negative, zero or positive. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const skip = (s: string, k: number) => {
    while (k < s.length) {
      const c = s.charCodeAt(k);
      if (isDigit(c) || isAlpha(c) || c === TILDE || c === CARET) break;
      k++;
    }
    return k;
  };
  while (i < a.length || j < b.length) {
    i = skip(a, i);
    j = skip(b, j);
    const ca = i < a.length ? a.charCodeAt(i) : -1;
    const cb = j < b.length ? b.charCodeAt(j) : -1;
    if (ca === TILDE || cb === TILDE) {
      if (ca !== TILDE) return 1;
      if (cb !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === CARET || cb === CARET) {
      if (ca === -1) return -1;
      if (cb === -1) return 1;
      if (ca !== CARET) return 1;
      if (cb !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === -1 || cb === -1) break;
    const numeric = isDigit(ca);
    const run = numeric ? isDigit : isAlpha;
    const si = i;
    const sj = j;
    while (i < a.length && run(a.charCodeAt(i))) i++;
    while (j < b.length && run(b.charCodeAt(j))) j++;
    // b's segment is of the other kind: a number beats letters.
    if (j === sj) return numeric ? 1 : -1;
    const c = numeric ? compareDigits(a.slice(si, i), b.slice(sj, j)) : compareStrings(a.slice(si, i), b.slice(sj, j));
    if (c !== 0) return c;
  }
  const ra = i >= a.length;
  const rb = j >= b.length;
  return ra && rb ? 0 : ra ? -1 : 1;
}

export function compareRpm(a: string, b: string): number {
  if (a === b) return 0;
  const x = parseRpm(a);
  const y = parseRpm(b);
  const e = rpmvercmp(x.epoch, y.epoch);
  if (e !== 0) return e;
  const v = rpmvercmp(x.version, y.version);
  if (v !== 0) return v;
  if (x.release === null || y.release === null) return x.release === y.release ? 0 : x.release === null ? -1 : 1;
  return rpmvercmp(x.release, y.release);
}
