// The nightly sampler: deterministic for a seed, proportional with a per-stratum minimum, canaries
// always in, recently replayed scans last.
import { describe, expect, it } from 'vitest';
import { RANK_SPAN, allocate, sampleGrouped, sampleRank, sampleScans, type SampleCandidate, type SampleGroup } from '../../src/core/sample/index.js';
import { mulberry32, shuffled } from '../../src/core/seeded-random.js';

const NOW = '2026-03-31T23:00:00Z';
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const nowMs = Date.parse(NOW);

function pick<T>(rnd: () => number, weighted: Array<[T, number]>): T {
  let x = rnd() * weighted.reduce((a, [, w]) => a + w, 0);
  for (const [v, w] of weighted) if ((x -= w) < 0) return v;
  return weighted[weighted.length - 1][0];
}

/** 3000 scans over 60 days: npm 50%, pypi 30%, go 15%, cargo 5%; a quarter replayed in the last week. */
function population(seed = 7, n = 3000): SampleCandidate[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => ({
    scan_id: `scan_${String(i).padStart(5, '0')}`,
    created_at: iso(nowMs - Math.floor(rnd() * 60 * DAY)),
    ecosystem: pick(rnd, [['npm', 50], ['pypi', 30], ['go', 15], ['cargo', 5]]),
    base_os: pick(rnd, [['debian-12', 60], ['alpine-3.19', 30], ['ubi-9', 10]]),
    regulated: rnd() < 0.2,
    scanner: pick(rnd, [['1.4.0', 70], ['1.5.0-rc1', 30]]),
    last_replayed_at: rnd() < 0.25 ? iso(nowMs - Math.floor(rnd() * 6 * DAY)) : rnd() < 0.5 ? iso(nowMs - 20 * DAY) : null,
  }));
}

const countBy = <T>(xs: readonly T[], f: (x: T) => string) => xs.reduce((m, x) => m.set(f(x), (m.get(f(x)) ?? 0) + 1), new Map<string, number>());

describe('allocate', () => {
  it('is proportional, rounded by largest remainder with ties in key order', () => {
    expect(allocate([50, 30, 15, 5], 20, 1)).toEqual([10, 6, 3, 1]);
    expect(allocate([10, 10, 10], 10, 1)).toEqual([4, 3, 3]);
    expect(allocate([5, 5, 5], 100, 1)).toEqual([5, 5, 5]);
  });
  it('lifts small strata to the minimum (or all they have) and shares the rest by size', () => {
    expect(allocate([97, 2, 1], 10, 2)).toEqual([7, 2, 1]);
    expect(allocate([600, 300, 100, 3], 100, 5)).toEqual([58, 29, 10, 3]);
  });
  it('when minima exceed N, the largest strata get one each in turn', () => {
    expect(allocate([1, 40, 30, 20], 2, 1)).toEqual([0, 1, 1, 0]);
    // Every stratum gets one before any gets a second.
    expect(allocate([1, 40, 30, 20], 5, 2)).toEqual([1, 2, 1, 1]);
  });
});

describe('sampleScans', () => {
  const base = { n: 200, by: ['ecosystem'] as const, seed: 42, now: NOW, windowDays: 30 };

  it('is deterministic for a seed, whatever order the candidates arrive in', () => {
    const pop = population();
    const a = sampleScans(pop, { ...base, by: ['ecosystem', 'base_os', 'regulated', 'scanner'] });
    const b = sampleScans(shuffled(pop, mulberry32(99)), { ...base, by: ['ecosystem', 'base_os', 'regulated', 'scanner'] });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = sampleScans(pop, { ...base, seed: 43, by: ['ecosystem', 'base_os', 'regulated', 'scanner'] });
    expect(c.strata.map((s) => s.allocated)).toEqual(a.strata.map((s) => s.allocated));
    const overlap = c.chosen.filter((x) => a.chosen.some((y) => y.scan_id === x.scan_id)).length;
    expect(overlap).toBeLessThan(a.chosen.length);
    expect(a.chosen.map((x) => x.scan_id)).toEqual([...a.chosen.map((x) => x.scan_id)].sort());
  });

  it('adding scans to one stratum leaves the picks of a stratum with the same allocation unchanged', () => {
    const pop = population();
    const more = [...pop, ...['m1', 'm2', 'm3'].map((id) => ({ ...pop[0], scan_id: `scan_${id}`, ecosystem: 'maven', created_at: iso(nowMs - DAY) }))];
    const a = sampleScans(pop, base);
    const b = sampleScans(more, base);
    const picks = (r: ReturnType<typeof sampleScans>, k: string) => r.chosen.filter((c) => c.stratum === k).map((c) => c.scan_id);
    const same = a.strata.filter((s) => b.strata.find((t) => t.key === s.key)!.allocated === s.allocated);
    expect(same.length).toBeGreaterThan(0);
    for (const s of same) expect(picks(b, s.key), s.key).toEqual(picks(a, s.key));
    expect(picks(b, 'ecosystem=maven')).toHaveLength(1);
  });

  it('allocates in proportion to stratum size, only from the window, and chooses exactly the allocation', () => {
    const pop = population();
    const r = sampleScans(pop, base);
    const inWindow = pop.filter((c) => Date.parse(c.created_at) > nowMs - 30 * DAY);
    expect(r.population).toBe(inWindow.length);
    expect(r.chosen).toHaveLength(200);
    const sizes = countBy(inWindow, (c) => `ecosystem=${c.ecosystem}`);
    expect(r.strata.map((s) => s.key)).toEqual(['ecosystem=cargo', 'ecosystem=go', 'ecosystem=npm', 'ecosystem=pypi']);
    for (const s of r.strata) {
      expect(s.population).toBe(sizes.get(s.key));
      expect(Math.abs(s.allocated - (200 * s.population) / inWindow.length)).toBeLessThan(1);
    }
    const picked = countBy(r.chosen, (c) => c.stratum);
    for (const s of r.strata) expect(picked.get(s.key)).toBe(s.allocated);
    const byId = new Map(pop.map((c) => [c.scan_id, c]));
    for (const c of r.chosen) {
      expect(Date.parse(byId.get(c.scan_id)!.created_at)).toBeGreaterThan(nowMs - 30 * DAY);
      expect(c.stratum).toBe(`ecosystem=${byId.get(c.scan_id)!.ecosystem}`);
    }
  });

  it('gives a small stratum its minimum', () => {
    // Keep 3 cargo scans in the window: proportionally they would get ~0.2 of 60.
    const pop = population().filter((c) => c.ecosystem !== 'cargo');
    const cargo = ['scan_c1', 'scan_c2', 'scan_c3'].map((id, i) => ({ ...population()[0], scan_id: id, ecosystem: 'cargo', created_at: iso(nowMs - (i + 1) * DAY) }));
    const r1 = sampleScans([...pop, ...cargo], { ...base, n: 60, minPerStratum: 1 });
    const r2 = sampleScans([...pop, ...cargo], { ...base, n: 60, minPerStratum: 2 });
    const r5 = sampleScans([...pop, ...cargo], { ...base, n: 60, minPerStratum: 5 });
    const alloc = (r: ReturnType<typeof sampleScans>, k: string) => r.strata.find((s) => s.key === k)!.allocated;
    expect([alloc(r1, 'ecosystem=cargo'), alloc(r2, 'ecosystem=cargo'), alloc(r5, 'ecosystem=cargo')]).toEqual([1, 2, 3]);
    for (const r of [r1, r2, r5]) expect(r.chosen).toHaveLength(60);
    expect(alloc(r5, 'ecosystem=npm')).toBeLessThan(alloc(r1, 'ecosystem=npm') + 1);
  });

  it('always includes canaries, on top of N and outside the window', () => {
    const pop = population();
    const canaries: SampleCandidate[] = [
      { scan_id: 'canary_npm', created_at: '2025-01-01T00:00:00Z', ecosystem: 'npm', base_os: 'debian-12', regulated: true, scanner: '1.4.0', canary: true, last_replayed_at: iso(nowMs - DAY) },
      { scan_id: 'canary_go', created_at: '2025-01-01T00:00:00Z', ecosystem: 'go', base_os: 'debian-12', regulated: false, scanner: '1.4.0', canary: true, last_replayed_at: null },
    ];
    const r = sampleScans([...pop, ...canaries], base);
    expect(r.chosen.filter((c) => c.reason === 'canary').map((c) => c.scan_id)).toEqual(['canary_go', 'canary_npm']);
    expect(r.chosen.filter((c) => c.reason === 'sampled')).toHaveLength(200);
    expect(r.strata.find((s) => s.key === 'ecosystem=npm')!.canaries).toBe(1);
    const none = sampleScans([...pop, ...canaries], { ...base, n: 0 });
    expect(none.chosen.map((c) => c.scan_id)).toEqual(['canary_go', 'canary_npm']);
  });

  it('picks recently replayed scans only when a stratum has no other scans left', () => {
    const mk = (i: number, recent: boolean): SampleCandidate => ({
      scan_id: `s${String(i).padStart(3, '0')}`, created_at: iso(nowMs - DAY), ecosystem: 'npm', base_os: 'x', regulated: false, scanner: '1',
      last_replayed_at: recent ? iso(nowMs - 2 * DAY) : i % 3 === 0 ? iso(nowMs - 10 * DAY) : null,
    });
    const pop = Array.from({ length: 100 }, (_, i) => mk(i, i % 2 === 0)); // 50 recent, 50 not
    for (const seed of [1, 2, 3]) {
      const r = sampleScans(pop, { ...base, seed, n: 50 });
      expect(r.chosen.filter((c) => c.recent)).toEqual([]);
      expect(r.strata[0].recent).toBe(50);
    }
    const more = sampleScans(pop, { ...base, n: 60 });
    expect(more.chosen.filter((c) => !c.recent)).toHaveLength(50);
    expect(more.chosen.filter((c) => c.recent)).toHaveLength(10);
    // With recentDays 0 nothing counts as recent and the picks mix.
    const mixed = sampleScans(pop, { ...base, n: 50, recentDays: 0 });
    expect(mixed.chosen.filter((c) => pop.find((p) => p.scan_id === c.scan_id)!.last_replayed_at?.startsWith(iso(nowMs - 2 * DAY).slice(0, 10))).length).toBeGreaterThan(0);
  });

  it('decides the window edges by time, whatever the offset (the window is (now - 30d, now])', () => {
    const mk = (scan_id: string, created_at: string, last_replayed_at: string | null = null): SampleCandidate => ({
      scan_id, created_at, ecosystem: 'npm', base_os: 'x', regulated: false, scanner: '1', last_replayed_at,
    });
    // from = 2026-03-01T23:00:00Z, to = 2026-03-31T23:00:00Z
    const pop = [
      mk('a_exactly_from', '2026-03-01T23:00:00.000Z'),
      mk('b_before_from', '2026-03-01T22:59:59Z'),
      mk('c_after_from', '2026-03-01T23:00:01Z'),
      mk('d_offset_before', '2026-03-02T00:30:00+02:00'),
      mk('e_offset_after', '2026-03-01T20:30:00-03:00'),
      mk('f_exactly_now', '2026-03-31T23:00:00Z'),
      mk('g_after_now', '2026-03-31T23:00:00.001Z'),
      mk('h_next_day_offset', '2026-04-01T00:30:00+02:00'),
      mk('k_next_day_offset_after', '2026-04-01T00:30:00+01:00'),
      mk('i_inside', '2026-03-15T12:00:00Z', '2026-03-25T23:00:00Z'),
      mk('j_inside', '2026-03-16T12:00:00Z', '2026-03-24T22:59:59Z'),
    ];
    const r = sampleScans(pop, { ...base, n: 100 });
    expect(r.chosen.map((c) => c.scan_id)).toEqual(['c_after_from', 'e_offset_after', 'f_exactly_now', 'h_next_day_offset', 'i_inside', 'j_inside']);
    // recentDays 7: from 2026-03-24T23:00:00Z on.
    expect(r.chosen.filter((c) => c.recent).map((c) => c.scan_id)).toEqual(['i_inside']);
    expect(() => sampleScans([mk('z', '2026-03-1xT00:00:00Z')], base)).toThrow(/created_at of z is not an RFC 3339 time: '2026-03-1xT00:00:00Z'/);
  });

  it('returns a strata table over every requested dimension', () => {
    const r = sampleScans(population(), { ...base, by: ['regulated', 'scanner'] });
    expect(r.strata.map((s) => s.key)).toEqual(['regulated=false,scanner=1.4.0', 'regulated=false,scanner=1.5.0-rc1', 'regulated=true,scanner=1.4.0', 'regulated=true,scanner=1.5.0-rc1']);
    expect(r.strata[2].labels).toEqual({ regulated: 'true', scanner: '1.4.0' });
    expect(r.strata.reduce((a, s) => a + s.allocated, 0)).toBe(200);
    expect(r.strata.reduce((a, s) => a + s.share, 0)).toBeCloseTo(1, 10);
    expect(r.window).toEqual({ from: '2026-03-01T23:00:00.000Z', to: '2026-03-31T23:00:00.000Z' });
  });

  it('refuses unknown or repeated dimensions and bad times', () => {
    expect(() => sampleScans([], { ...base, by: ['language' as never] })).toThrow(/cannot stratify by 'language': use any of ecosystem,base_os,regulated,scanner/);
    expect(() => sampleScans([], { ...base, by: ['scanner', 'scanner'] })).toThrow(/'scanner' is named twice/);
    expect(() => sampleScans([], { ...base, now: 'yesterday' })).toThrow(/now is not an RFC 3339 time/);
    expect(() => sampleScans([population()[0], population()[0]], base)).toThrow(/candidate twice/);
  });
});

describe('sampleGrouped under a rank cut', () => {
  // Every scan well inside the window, so a store could place each one: fresh, or replayed 2 days ago.
  const pop = population(11, 6000).map((c, i) => ({
    ...c,
    created_at: iso(nowMs - (1 + (i % 20)) * DAY),
    last_replayed_at: i % 5 === 0 ? iso(nowMs - 2 * DAY) : null,
  }));
  const base = { by: ['ecosystem', 'base_os'] as const, seed: 5, now: NOW, windowDays: 30, minPerStratum: 3 };
  /** The groups a store sends when it cuts every group's ids at `share` of the rank span (or sends all). */
  function groups(share: (count: number) => number, seed = base.seed): SampleGroup[] {
    const out = new Map<string, SampleGroup & { f: string[]; r: string[] }>();
    for (const c of pop) {
      const key = [c.ecosystem, c.base_os, c.regulated, c.scanner].join('|');
      const g = out.get(key) ?? { ecosystem: c.ecosystem, base_os: c.base_os, regulated: c.regulated, scanner: c.scanner, fresh: [], recent: [], f: [], r: [] };
      (c.last_replayed_at ? g.r : g.f).push(c.scan_id);
      out.set(key, g);
    }
    return [...out.values()].map(({ f, r, ...g }) => {
      const [fb, rb] = [Math.floor(share(f.length) * RANK_SPAN), Math.floor(share(r.length) * RANK_SPAN)];
      return {
        ...g,
        fresh: f.filter((id) => sampleRank(seed, id) < fb),
        recent: r.filter((id) => sampleRank(seed, id) < rb),
        freshCount: f.length,
        freshBelow: fb,
        recentCount: r.length,
        recentBelow: rb,
      };
    });
  }

  it('gives the answer of the whole population when the cuts cover every allocation, with far fewer ids', () => {
    for (const n of [20, 200]) {
      const options = { ...base, by: [...base.by], n };
      const want = sampleScans(pop, options);
      const cut = groups((c) => Math.min(1, (1.5 * n) / pop.length + 12 / c));
      const sent = cut.reduce((a, g) => a + g.fresh.length + g.recent.length, 0);
      expect(sent).toBeLessThan(pop.length / 2);
      expect(sampleGrouped({ groups: cut, candidates: [] }, options), `n=${n}`).toEqual(want);
      // Whole lists (no count, no bound) are the same answer too.
      const bare = groups(() => 1).map((g) => ({ ecosystem: g.ecosystem, base_os: g.base_os, regulated: g.regulated, scanner: g.scanner, fresh: g.fresh, recent: g.recent }));
      expect(sampleGrouped({ groups: bare, candidates: [] }, options)).toEqual(want);
    }
  });

  it('says so (null) when a stratum needs ids below no cut: too tight a cut, or recent scans needed', () => {
    const options = { ...base, by: [...base.by], n: 200 };
    expect(sampleGrouped({ groups: groups(() => 1 / 4096), candidates: [] }, options)).toBeNull();
    // 5,000 of 6,000 asked: every fresh scan is taken, so a cut fresh list cannot do; whole lists can.
    const most = { ...options, n: 5000 };
    expect(sampleGrouped({ groups: groups((c) => Math.min(1, 0.5 + 12 / c)), candidates: [] }, most)).toBeNull();
    const whole = sampleGrouped({ groups: groups(() => 1), candidates: [] }, most)!;
    expect(whole).toEqual(sampleScans(pop, most));
    expect(whole.chosen.filter((c) => c.recent).length).toBeGreaterThan(0);
  });
});
