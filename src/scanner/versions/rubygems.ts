// RubyGems version order: Gem::Version#<=> (rubygems lib/rubygems/version.rb).
//   The version is cut into segments, runs of digits (numbers) and runs of letters (strings); `-` means
//   `.pre.`. A string segment marks a pre-release: `1.0.a1 < 1.0`. Trailing zeros of the release part
//   and of the pre-release part are dropped (`1.0 = 1`, `1.0.a.0 = 1.a`). Segments compare pairwise,
//   a missing one as 0; a number beats a string, numbers compare numerically, strings by code units.
// Written here rather than taken from @renovatebot/ruby-semver: that library (checked against
// osv-scalibr's 4,123 RubyGems lines) reads numbers as JavaScript doubles, so it calls
// 999999999999999999999999999991 equal to …999, and it rejects `1beta`-style strings that RubyGems
// data contains.
import { compareDigits, compareStrings } from './util.js';

type Seg = { num: true; v: string } | { num: false; v: string };

function segments(input: string): Seg[] {
  const s = input.trim().replace(/-/g, '.pre.');
  return (s.match(/[0-9]+|[a-z]+/gi) ?? []).map((t) => (/^\d/.test(t) ? { num: true, v: t } : { num: false, v: t }));
}

const isZero = (g: Seg) => g.num && /^0+$/.test(g.v);

/** Gem::Version#canonical_segments: trailing zeros dropped from the release and the pre-release part. */
export function canonicalRubySegments(input: string): Seg[] {
  const all = segments(input);
  const cut = all.findIndex((g) => !g.num);
  const release = cut < 0 ? all : all.slice(0, cut);
  const pre = cut < 0 ? [] : all.slice(cut);
  const trim = (xs: Seg[]) => {
    let n = xs.length;
    while (n > 0 && isZero(xs[n - 1])) n--;
    return xs.slice(0, n);
  };
  return [...trim(release), ...trim(pre)];
}

const ZERO: Seg = { num: true, v: '0' };

export function compareRubyGems(a: string, b: string): number {
  if (a === b) return 0;
  const x = canonicalRubySegments(a);
  const y = canonicalRubySegments(b);
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const l = x[i] ?? ZERO;
    const r = y[i] ?? ZERO;
    if (l.num && r.num) {
      const c = compareDigits(l.v, r.v);
      if (c !== 0) return c;
    } else if (l.num !== r.num) return l.num ? 1 : -1;
    else {
      const c = compareStrings(l.v, r.v);
      if (c !== 0) return c;
    }
  }
  return 0;
}
