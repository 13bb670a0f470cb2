// The nightly sampler (design note §1.5): pick N historical scans to replay, stratified by any of
// ecosystem, base OS, regulatory tier and scanner. Pure: the caller hands in the candidate scans (from
// either store) and the time; the same candidates, options and seed give the same answer on every
// machine, whatever order the candidates came in.
//
// 1. Canaries are always in, on top of N (they are the golden set, replayed every night).
// 2. The other scans created within the window form the population, grouped into strata by the
//    chosen dimensions.
// 3. Allocation is proportional to stratum size with a per-stratum minimum (a small stratum — one
//    base OS, one scanner — still gets looked at): strata whose proportional share falls below the
//    minimum get the minimum, the rest share what is left in proportion to their sizes, rounded by
//    largest remainder (ties by stratum key). When N cannot give every stratum its minimum, strata
//    take one scan each in turn, largest first.
// 4. Within a stratum, scans not replayed in the last `recentDays` come first; within each group the
//    scans with the smallest rank are taken (ties by scan id), where a scan's rank is the top 52 bits
//    of PostgreSQL's `hashtextextended(scan_id, seed)` (a signed int8) plus 2^63 (`sampleRank`,
//    ./pg-hash.ts). Ranks depend on nothing but the seed and the id, so the answer does
//    not depend on the order candidates arrive in, no global sort of a million scans is needed, and
//    adding scans to one stratum does not move the picks of another with the same allocation. It is
//    the hash PostgreSQL computes natively for ~60 ns a row (md5() costs ~1 µs), so the team store can
//    cut by rank itself (below).
// A store need not send every scan: `sampleBounds` names the days by which it may place a scan in a
// label group (`sampleGrouped`), leaving only the scans near a bound, with odd offsets, or named as
// canaries to be decided here. Of a group it may send just the count and the ids whose rank falls
// below a cut computed from the counts (`SampleCut`); when a stratum needs more ids than the cuts
// certify, `sampleGrouped` says so and the caller asks again without a cut. Either way the answer is
// the one `sampleScans` gives over all of the scans.
import { compareCodeUnits } from '../canonical/jcs.js';
import { StellaError } from '../errors.js';
import { hashRank52 } from './pg-hash.js';

export const STRATUM_DIMS = ['ecosystem', 'base_os', 'regulated', 'scanner'] as const;
export type StratumDim = (typeof STRATUM_DIMS)[number];

export interface SampleCandidate {
  scan_id: string;
  /** RFC 3339. */
  created_at: string;
  ecosystem: string;
  base_os: string;
  regulated: boolean;
  /** scanner_version. */
  scanner: string;
  canary?: boolean;
  /** finished_at of the newest replay of this scan (RFC 3339), or null when never replayed. */
  last_replayed_at: string | null;
}

export interface SampleOptions {
  n: number;
  by: readonly StratumDim[];
  seed: number;
  /** End of the window (RFC 3339), injected: the core never reads the clock. */
  now: string;
  /** Only scans created in the last `windowDays` days are sampled (canaries always are). Default 30. */
  windowDays?: number;
  /** Each stratum gets at least this many scans (or all it has). Default 1. */
  minPerStratum?: number;
  /** A scan replayed within this many days is picked only after its stratum's other scans. Default 7. */
  recentDays?: number;
}

export interface StratumRow {
  /** `dim=value` pairs joined by `,` in the order of `by` (`all` when `by` is empty). */
  key: string;
  labels: Partial<Record<StratumDim, string>>;
  /** Non-canary scans of the window in this stratum. */
  population: number;
  /** Of those, replayed within recentDays. */
  recent: number;
  /** population / total population. */
  share: number;
  /** Scans allocated (= chosen) from the population. */
  allocated: number;
  /** Canaries in this stratum (chosen on top of the allocation). */
  canaries: number;
}

export interface SampleChoice {
  scan_id: string;
  stratum: string;
  reason: 'canary' | 'sampled';
  /** Replayed within recentDays (chosen only because its stratum needed it). */
  recent: boolean;
}

export interface SampleResult {
  n: number;
  by: StratumDim[];
  seed: number;
  window: { from: string; to: string };
  population: number;
  /** Sorted by scan_id. */
  chosen: SampleChoice[];
  /** Sorted by key. */
  strata: StratumRow[];
}

const DAY_MS = 86_400_000;

/** The four labels a stratum is cut by (a candidate and a group both carry them). */
type Labelled = Pick<SampleCandidate, 'ecosystem' | 'base_os' | 'regulated' | 'scanner'>;

function label(c: Labelled, d: StratumDim): string {
  switch (d) {
    case 'ecosystem':
      return c.ecosystem;
    case 'base_os':
      return c.base_os;
    case 'regulated':
      return c.regulated ? 'true' : 'false';
    case 'scanner':
      return c.scanner;
    default: {
      const _exhaustive: never = d;
      return _exhaustive;
    }
  }
}

/** Ranks are integers below this (52 bits: exact in a double). */
export const RANK_SPAN = 2 ** 52;

/** A scan's rank for a seed (see the header): 0 <= rank < RANK_SPAN. */
export function sampleRank(seed: number, scanId: string): number {
  return hashRank52(scanId, seed);
}

function time(s: string, what: () => string): number {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new StellaError('USAGE', `${what()} is not an RFC 3339 time: '${s}'`);
  return t;
}

const DIGIT = (c: number) => c >= 48 && c <= 57;
const DATE_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9];

/**
 * Compare the time `s` with `ms` (whose UTC day is `day`): negative before, 0 at, positive after.
 * Over a million candidates Date.parse dominated the sampler, so a UTC (`…Z`) time on another day than
 * `day` is decided by comparing its `YYYY-MM-DD` prefix; the same day, or another offset, is parsed.
 */
function compareTime(s: string, ms: number, day: string, what: () => string): number {
  if (s.length >= 20 && s.charCodeAt(s.length - 1) === 90 && s.charCodeAt(10) === 84 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45) {
    let shaped = true;
    for (const i of DATE_DIGITS) shaped &&= DIGIT(s.charCodeAt(i));
    if (shaped) {
      for (let i = 0; i < 10; i++) {
        const d = s.charCodeAt(i) - day.charCodeAt(i);
        if (d !== 0) return d;
      }
    }
  }
  return time(s, what) - ms;
}

function check(opts: SampleOptions): Required<SampleOptions> {
  const int = (v: number, name: string, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new StellaError('USAGE', `${name} must be an integer ${lo}..${hi}, got ${v}`);
    return v;
  };
  const seen = new Set<string>();
  for (const d of opts.by) {
    if (!(STRATUM_DIMS as readonly string[]).includes(d)) throw new StellaError('USAGE', `cannot stratify by '${d}': use any of ${STRATUM_DIMS.join(',')}`);
    if (seen.has(d)) throw new StellaError('USAGE', `'${d}' is named twice in --by`);
    seen.add(d);
  }
  return {
    n: int(opts.n, 'n', 0, 10_000_000),
    by: opts.by,
    seed: int(opts.seed, 'seed', 0, 0xffffffff),
    now: opts.now,
    windowDays: int(opts.windowDays ?? 30, 'window days', 1, 3650),
    minPerStratum: int(opts.minPerStratum ?? 1, 'minimum per stratum', 0, 1_000_000),
    recentDays: int(opts.recentDays ?? 7, 'recent days', 0, 3650),
  };
}

/** How many scans each stratum gets (see the header); sizes are in key order, the result too. */
export function allocate(sizes: readonly number[], n: number, minPer: number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const budget = Math.min(n, total);
  const mins = sizes.map((s) => Math.min(minPer, s));
  const alloc = sizes.map(() => 0);
  if (mins.reduce((a, b) => a + b, 0) > budget) {
    // Not enough for every minimum: one each in turn, largest stratum first (ties: key order).
    const order = sizes.map((_, i) => i).sort((a, b) => sizes[b] - sizes[a] || a - b);
    let left = budget;
    while (left > 0) {
      for (const i of order) {
        if (left === 0) break;
        if (alloc[i] < mins[i]) {
          alloc[i]++;
          left--;
        }
      }
    }
    return alloc;
  }
  const floored = new Set<number>();
  let shares: number[] = [];
  for (;;) {
    const rest = budget - [...floored].reduce((a, i) => a + mins[i], 0);
    const restSize = sizes.reduce((a, s, i) => (floored.has(i) ? a : a + s), 0);
    shares = sizes.map((s, i) => (floored.has(i) || restSize === 0 ? 0 : (rest * s) / restSize));
    const below = sizes.map((_, i) => i).filter((i) => !floored.has(i) && shares[i] < mins[i]);
    if (below.length === 0) break;
    for (const i of below) floored.add(i);
  }
  let left = budget;
  sizes.forEach((_, i) => {
    alloc[i] = floored.has(i) ? mins[i] : Math.floor(shares[i]);
    left -= alloc[i];
  });
  // Largest remainder; ties by key order. A stratum never gets more than it has (share <= size).
  const byRemainder = sizes
    .map((_, i) => i)
    .filter((i) => !floored.has(i))
    .sort((a, b) => shares[b] - Math.floor(shares[b]) - (shares[a] - Math.floor(shares[a])) || a - b);
  for (const i of byRemainder) {
    if (left === 0) break;
    if (alloc[i] < sizes[i]) {
      alloc[i]++;
      left--;
    }
  }
  return alloc;
}

/** A scan id with its rank (see the header). */
interface Ranked {
  id: string;
  rank: number;
}

const byRank = (a: Ranked, b: Ranked): number => a.rank - b.rank || compareCodeUnits(a.id, b.id);

/**
 * The k ids of smallest rank, in rank order. The rank is computed once per id, and an entry is
 * allocated only when it enters the k-long buffer, so a large stratum costs no sort and little garbage.
 */
function smallest(ids: readonly string[], k: number, rankOf: (id: string) => number): Ranked[] {
  if (k <= 0) return [];
  if (k * 16 >= ids.length) return ids.map((id) => ({ id, rank: rankOf(id) })).sort(byRank).slice(0, k);
  const buf: Ranked[] = [];
  for (const id of ids) {
    const rank = rankOf(id);
    if (buf.length === k) {
      const last = buf[k - 1];
      if (rank > last.rank || (rank === last.rank && compareCodeUnits(id, last.id) >= 0)) continue;
    }
    const x = { id, rank };
    let lo = 0;
    let hi = buf.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byRank(buf[mid], x) < 0) lo = mid + 1;
      else hi = mid;
    }
    buf.splice(lo, 0, x);
    if (buf.length > k) buf.pop();
  }
  return buf;
}

/**
 * Scans a store has already placed (see `sampleBounds`), sent as bare ids: one group per
 * (ecosystem, base_os, regulated, scanner), so a million scans cross as a few hundred rows.
 */
export interface SampleGroup {
  ecosystem: string;
  base_os: string;
  regulated: boolean;
  scanner: string;
  /** Non-canary scans surely inside the window and surely not replayed within recentDays. */
  fresh: readonly string[];
  /** Non-canary scans surely inside the window and surely replayed within recentDays. */
  recent: readonly string[];
  /**
   * Under a cut: how many fresh (recent) scans the group has, and the bound their rank was cut at — the
   * list holds exactly those with `sampleRank` below it. Absent: the list holds them all.
   */
  freshCount?: number;
  freshBelow?: number;
  recentCount?: number;
  recentBelow?: number;
}

/**
 * How a store may cut a group's ids by rank. With P the group counts summed (fresh and recent, over
 * every group) and c one group's count (fresh or recent), it sends c, a bound no lower than
 * `floor(min(1, take / P + spare / c) * RANK_SPAN)` (it may round up), and exactly the ids of rank below
 * that bound. The cut is only an economy:
 * `take` covers a proportional allocation with room to spare, `spare` a stratum's minimum, and the
 * answer is exact whatever the cut (a short stratum is asked for again without one).
 */
export interface SampleCut {
  seed: number;
  take: number;
  spare: number;
}

/**
 * What a store needs to pre-sort candidates into groups without changing the answer. Every bound is a
 * `YYYY-MM-DD` day, compared as text. A time is *shaped* when it has at least 20 characters, four digits,
 * `-`, two digits, `-`, two digits, `T` at the start and `Z` at the end: the sampler decides a shaped time
 * on another day than a bound by its day alone (a time with an offset, or on a bound's day, is parsed).
 * A scan may go into a group's `fresh` or `recent` only when it is not a canary, its created_at is
 * shaped with a day after `insideAfter` and before `insideBefore`, and its newest replay (largest
 * finished_at as text) is null or before `replayedFrom` (→ fresh), or shaped on a day before
 * `recentDay` (→ fresh) or after it (→ recent). Every other scan created at or after `createdFrom`
 * (and every canary) goes to the candidates with its newest replay, which may be given as null when it
 * is before `replayedFrom`: an RFC 3339 time before that day, whatever its offset, is not recent.
 * A time is *exact* when it is `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ`, all digits, hours
 * 00–23, minutes and seconds 00–59: it names one millisecond, which the sampler compares with the
 * instants `from`, `to` and `recentFrom` (as `toISOString` writes them). A store may also decide a
 * non-canary scan whose times are exact where the days do not: created_at after `from` and at or
 * before `to` is inside the window (else the scan is no candidate at all), and a newest replay at or
 * after `recentFrom` is recent (else fresh). Compared as text, an exact 24-character time against the
 * instant itself, a 20-character one by its first 19 characters (at or after `recentFrom`: at or after
 * the first whole second not before it).
 */
export interface SampleBounds {
  createdFrom: string;
  insideAfter: string;
  insideBefore: string;
  recentDay: string;
  replayedFrom: string;
  from: string;
  to: string;
  recentFrom: string;
  /** When set, the store may cut the groups' lists by rank (see SampleCut). */
  cut?: SampleCut;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function span(o: Required<SampleOptions>) {
  const to = time(o.now, () => 'now');
  const from = to - o.windowDays * DAY_MS;
  const recentFrom = to - o.recentDays * DAY_MS;
  return { to, from, recentFrom };
}

/**
 * The bounds a store sorts candidates by (see SampleBounds) for these options; with `cut`, the rank cut
 * too: 1.5 × n spread by share plus 12 + 2 × the minimum per group, so that a stratum falls short (and
 * is asked for again) about once in many thousand nights.
 */
export function sampleBounds(options: SampleOptions, cut = false): SampleBounds {
  const o = check(options);
  const { to, from, recentFrom } = span(o);
  // A day before the window (or the recent span): offsets are at most ±24 h.
  const iso = (ms: number) => new Date(ms).toISOString();
  const days = {
    createdFrom: dayOf(from - DAY_MS), insideAfter: dayOf(from), insideBefore: dayOf(to), recentDay: dayOf(recentFrom), replayedFrom: dayOf(recentFrom - DAY_MS),
    from: iso(from), to: iso(to), recentFrom: iso(recentFrom),
  };
  return cut ? { ...days, cut: { seed: o.seed, take: 1.5 * o.n, spare: 12 + 2 * o.minPerStratum } } : days;
}

export function sampleScans(candidates: readonly SampleCandidate[], options: SampleOptions): SampleResult {
  return sampleGrouped({ groups: [], candidates }, options)!;
}

/**
 * The sampler over scans a store placed in groups (by `sampleBounds`) plus the candidates it did not
 * place; null when the groups were cut by rank and some stratum needs ids below no cut (ask again
 * without `cut`).
 */
export function sampleGrouped(input: { groups: readonly SampleGroup[]; candidates: readonly SampleCandidate[] }, options: SampleOptions): SampleResult | null {
  const o = check(options);
  const { to, from, recentFrom } = span(o);
  const [fromDay, toDay, recentDay] = [dayOf(from), dayOf(to), dayOf(recentFrom)];
  const isRecent = (c: SampleCandidate) =>
    c.last_replayed_at !== null && compareTime(c.last_replayed_at, recentFrom, recentDay, () => `last replay of ${c.scan_id}`) >= 0;
  const rankOf = (id: string) => sampleRank(o.seed, id);

  /** Ids known of one class of a stratum: all with rank below `below` are among `ids`, of `count` in all. */
  interface Pool {
    ids: string[];
    count: number;
    below: number;
  }
  interface Stratum {
    key: string;
    labels: Partial<Record<StratumDim, string>>;
    fresh: Pool;
    recent: Pool;
    canaries: SampleCandidate[];
  }
  // Strata found through one small map per dimension (label value → next level), so a million
  // candidates cost a few short-string lookups each instead of building and hashing a key string.
  type Level = Map<string, Level | Stratum>;
  const root: Level = new Map();
  const strata = new Map<string, Stratum>();
  const stratumOf = (c: Labelled): Stratum => {
    let level = root;
    for (let j = 0; j < o.by.length - 1; j++) {
      const v = label(c, o.by[j]);
      let next = level.get(v) as Level | undefined;
      if (!next) level.set(v, (next = new Map()));
      level = next;
    }
    const last = o.by.length ? label(c, o.by[o.by.length - 1]) : 'all';
    let s = level.get(last) as Stratum | undefined;
    if (!s) {
      const key = o.by.length ? o.by.map((d) => `${d}=${label(c, d)}`).join(',') : 'all';
      const pool = (): Pool => ({ ids: [], count: 0, below: Infinity });
      s = { key, labels: Object.fromEntries(o.by.map((d) => [d, label(c, d)])), fresh: pool(), recent: pool(), canaries: [] };
      level.set(last, s);
      strata.set(key, s);
    }
    return s;
  };
  const add = (p: Pool, ids: readonly string[], count: number | undefined, below: number | undefined) => {
    for (const id of ids) p.ids.push(id);
    p.count += count ?? ids.length;
    // A list cut below a bound certifies only ranks below it (a whole list certifies every rank).
    if (count !== undefined && count > ids.length && below !== undefined) p.below = Math.min(p.below, below);
  };
  for (const g of input.groups) {
    const [fresh, recent] = [g.freshCount ?? g.fresh.length, g.recentCount ?? g.recent.length];
    if (fresh === 0 && recent === 0) continue;
    const s = stratumOf(g);
    add(s.fresh, g.fresh, g.freshCount, g.freshBelow);
    add(s.recent, g.recent, g.recentCount, g.recentBelow);
  }
  for (const c of input.candidates) {
    if (!c.canary) {
      const what = () => `created_at of ${c.scan_id}`;
      if (!(compareTime(c.created_at, from, fromDay, what) > 0 && compareTime(c.created_at, to, toDay, what) <= 0)) continue;
    }
    const s = stratumOf(c);
    if (c.canary) s.canaries.push(c);
    else add(isRecent(c) ? s.recent : s.fresh, [c.scan_id], undefined, undefined);
  }
  const keys = [...strata.keys()].sort(compareCodeUnits);
  const sizes = keys.map((k) => strata.get(k)!.fresh.count + strata.get(k)!.recent.count);
  const alloc = allocate(sizes, o.n, o.minPerStratum);
  const population = sizes.reduce((a, b) => a + b, 0);

  /** The k smallest ranks of a pool, or null when its cut certifies fewer than k. */
  const take = (p: Pool, k: number): Ranked[] | null => {
    if (p.below === Infinity) return smallest(p.ids, k, rankOf);
    if (k <= 0) return [];
    const certified = smallest(p.ids, p.ids.length, rankOf).filter((r) => r.rank < p.below);
    return certified.length >= k ? certified.slice(0, k) : null;
  };
  const chosen: SampleChoice[] = [];
  const rows: StratumRow[] = [];
  for (const [i, key] of keys.entries()) {
    const s = strata.get(key)!;
    const fresh = take(s.fresh, Math.min(alloc[i], s.fresh.count));
    const recent = take(s.recent, alloc[i] - s.fresh.count);
    if (!fresh || !recent) return null;
    for (const r of fresh) chosen.push({ scan_id: r.id, stratum: key, reason: 'sampled', recent: false });
    for (const r of recent) chosen.push({ scan_id: r.id, stratum: key, reason: 'sampled', recent: true });
    for (const c of s.canaries) chosen.push({ scan_id: c.scan_id, stratum: key, reason: 'canary', recent: isRecent(c) });
    rows.push({ key, labels: s.labels, population: sizes[i], recent: s.recent.count, share: population ? sizes[i] / population : 0, allocated: alloc[i], canaries: s.canaries.length });
  }
  chosen.sort((a, b) => compareCodeUnits(a.scan_id, b.scan_id));
  // Scan ids are unique in either store; a repeated one among the picks means the caller's query is wrong.
  for (let i = 1; i < chosen.length; i++) {
    if (chosen[i].scan_id === chosen[i - 1].scan_id) throw new StellaError('USAGE', `scan ${chosen[i].scan_id} is a candidate twice`);
  }
  return {
    n: o.n,
    by: [...o.by],
    seed: o.seed,
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    population,
    chosen,
    strata: rows,
  };
}
