// Maven version order, modelled on org.apache.maven.artifact.versioning.ComparableVersion (Maven 3.x):
// - the string is split at `.` and `-` and at every digit/letter transition (`1.0alpha1` → 1, 0, alpha, 1);
// - numbers compare numerically; qualifiers by rank alpha < beta < milestone < rc < snapshot < (release)
//   < sp, with the short forms `a`/`b`/`m` (only when followed by a digit) and the aliases `cr` = rc,
//   `ga`/`final`/`release` = release; unknown qualifiers sort after `sp`, among themselves by code units;
// - a number outranks any qualifier in the same position (`1.1` > `1-sp`), and trailing "null" items
//   (0, empty, ga/final/release) are dropped, so `1` == `1.0` == `1.0.0` == `1-ga`.
// The list nesting Maven applies after `-` is flattened; that only changes the order of exotic mixes of
// qualifiers and numbers, which do not occur in the ranges of advisory databases.
import { compareDigits, compareStrings } from './util.js';

type Item = { kind: 'num'; v: string } | { kind: 'qual'; rank: number; v: string };

const RANKS: Record<string, number> = {
  alpha: 0,
  beta: 1,
  milestone: 2,
  rc: 3,
  cr: 3,
  snapshot: 4,
  '': 5,
  ga: 5,
  final: 5,
  release: 5,
  sp: 6,
};
const RELEASE_RANK = 5;
const UNKNOWN_RANK = 7;

function qualifier(s: string, followedByDigit: boolean): Item {
  let q = s.toLowerCase();
  if (followedByDigit && q.length === 1) q = q === 'a' ? 'alpha' : q === 'b' ? 'beta' : q === 'm' ? 'milestone' : q;
  const rank = RANKS[q];
  return { kind: 'qual', rank: rank ?? UNKNOWN_RANK, v: rank === undefined ? q : '' };
}

export function parseMaven(input: string): Item[] {
  const tokens = input.trim().match(/\d+|[^\d.\-]+/g) ?? [];
  const items: Item[] = tokens.map((t, i) =>
    /^\d/.test(t) ? { kind: 'num', v: t } : qualifier(t, i + 1 < tokens.length && /^\d/.test(tokens[i + 1])),
  );
  // Maven trims zeros at the end of every numeric run, not only at the end: `1.0.0-rc1` == `1-rc1`.
  for (let i = items.length - 1; i > 0; i--) {
    const next = items[i + 1];
    if (isZero(items[i]) && items[i - 1].kind === 'num' && (next === undefined || next.kind === 'qual')) items.splice(i, 1);
  }
  while (items.length > 0 && isNull(items[items.length - 1])) items.pop();
  return items;
}

function isZero(it: Item): boolean {
  return it.kind === 'num' && /^0+$/.test(it.v);
}

function isNull(it: Item): boolean {
  return it.kind === 'num' ? /^0+$/.test(it.v) : it.rank === RELEASE_RANK;
}

function compareItem(a: Item | undefined, b: Item | undefined): number {
  // A missing item behaves like 0 against numbers and like "release" against qualifiers.
  const x = a ?? (b?.kind === 'num' ? ({ kind: 'num', v: '0' } as Item) : ({ kind: 'qual', rank: RELEASE_RANK, v: '' } as Item));
  const y = b ?? (a?.kind === 'num' ? ({ kind: 'num', v: '0' } as Item) : ({ kind: 'qual', rank: RELEASE_RANK, v: '' } as Item));
  if (x.kind === 'num' && y.kind === 'num') return compareDigits(x.v, y.v);
  if (x.kind !== y.kind) return x.kind === 'num' ? 1 : -1;
  const xq = x as Extract<Item, { kind: 'qual' }>;
  const yq = y as Extract<Item, { kind: 'qual' }>;
  if (xq.rank !== yq.rank) return xq.rank < yq.rank ? -1 : 1;
  return compareStrings(xq.v, yq.v);
}

export function compareMaven(a: string, b: string): number {
  if (a === b) return 0;
  const x = parseMaven(a);
  const y = parseMaven(b);
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const c = compareItem(x[i], y[i]);
    if (c !== 0) return c;
  }
  return 0;
}
