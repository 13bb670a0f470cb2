// One store suite, run against each backend (port.sqlite.test.ts, port.postgres.test.ts): everything the
// port promises, asserted through the port alone: idempotent ingest, a re-written record keeps its
// human tag, keyset paging against a reference order in every sort × filter, counts, retag/undo with
// the audit trail, all-or-nothing batches, literal LIKE wildcards, the dashboard, and the rollup and
// list counts kept equal to what the rows say after every sequence of writes.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Cursor, ReplayFilter, ReplayRow, ReplaySort, ReplayStore } from '../../src/core/ports.js';
import { cellsOf, type RollupDim } from '../../src/core/fidelity/index.js';
import { realisticSpecs, replayIn } from '../../bench/gen-records.js';
import { dashboardOf } from '../../src/app/dashboard.js';
import { sampleFromStore } from '../../src/app/sample.js';
import { sampleBounds, sampleGrouped, sampleRank, sampleScans } from '../../src/core/sample/index.js';
import type { ScanIn } from '../../src/core/ports.js';

const ECOS = ['npm', 'PyPI', 'Go', 'Debian'];
const OSES = ['debian-12', 'alpine-3.20', 'none'];

/** `count` scans over 60 days with varied labels; deterministic. */
export function scansIn(count: number): ScanIn[] {
  return Array.from({ length: count }, (_, i) => {
    const created_at = new Date(Date.parse('2026-01-31T00:00:00Z') - (i % 60) * 86_400_000 - (i % 7) * 3_600_000).toISOString().replace('.000Z', 'Z');
    const labels = { ecosystem: ECOS[i % 4], base_os: OSES[i % 3], regulated: i % 10 === 0, project: `p${i % 5}` };
    const digest = (k: string) => `sha256:${(k + String(i)).padEnd(64, '0').slice(0, 64).replace(/[^0-9a-f]/g, 'a')}`;
    return {
      scan_id: `scan_${String(i).padStart(5, '0')}`,
      created_at,
      manifest_sha256: digest('m'),
      scanner_version: i % 9 === 0 ? '1.2.0' : '1.1.0',
      ...labels,
      policy_set: 'prod-default',
      feed_digest: digest(`f${i % 3}`),
      policy_digest: digest('p'),
      record_dir: `/records/scans/scan_${i}`,
      manifest: { scan_id: `scan_${i}`, labels },
      artifacts: [{ name: 'sbom', path: 'artifacts/sbom.cdx.json', canonical_sha256: digest('c'), raw_sha256: null, schema: 'cyclonedx-1.6', bytes: 10 + i }],
    };
  });
}

const NOW = new Date('2026-01-31T12:00:00Z');

export type OpenStore = () => Promise<ReplayStore>;

async function allRows(store: ReplayStore): Promise<ReplayRow[]> {
  return (await store.pageReplays({ filter: {}, sort: 'oldest', limit: 1_000_000 })).rows;
}

/** The rollup and the list counts equal what the rows themselves say. */
export async function expectConsistent(store: ReplayStore): Promise<void> {
  const rows = await allRows(store);
  const want = new Map<string, number[]>();
  for (const r of rows) {
    for (const c of cellsOf({ ...r, tag: r.tag })) {
      const k = `${c.dim}\u0000${c.bucket}`;
      const cur = want.get(k) ?? [0, 0, 0, 0, 0, 0];
      [c.c.total, c.c.n, c.c.bf, c.c.sf, c.c.pf, c.c.errors].forEach((v, i) => (cur[i] += v));
      want.set(k, cur);
    }
  }
  const dims: RollupDim[] = ['all', 'cause', 'status', 'ecosystem', 'scanner'];
  const got = (await store.rollup(null, dims)).map((b) => [`${b.dim}\u0000${b.bucket}`, [b.total, b.n, b.bf, b.sf, b.pf, b.errors]] as const);
  const wanted = [...want.entries()].filter(([k]) => dims.includes(k.split('\u0000')[0] as RollupDim) && want.get(k)![0] !== 0);
  expect(new Map(got)).toEqual(new Map(wanted));
  const count = (pred: (r: ReplayRow) => boolean) => {
    const m = rows.filter(pred);
    return { total: m.length, failing: m.filter((r) => r.status !== 'passed').length };
  };
  const one = rows[0];
  if (!one) return;
  const checks: Array<[ReplayFilter, (r: ReplayRow) => boolean]> = [
    [{}, () => true],
    [{ failingOnly: true }, (r) => r.status !== 'passed'],
    [{ causes: ['feed_drift', 'nondeterminism'] }, (r) => r.tag === 'feed_drift' || r.tag === 'nondeterminism'],
    [{ failingOnly: true, project: one.project, ecosystem: one.ecosystem }, (r) => r.status !== 'passed' && r.project === one.project && r.ecosystem === one.ecosystem],
    [{ text: one.replay_id.slice(3, 9) }, (r) => [r.replay_id, r.project, r.scanner_version, r.ecosystem].some((x) => x.toLowerCase().includes(one.replay_id.slice(3, 9).toLowerCase()))],
  ];
  for (const [f, pred] of checks) expect(await store.countReplays(f), JSON.stringify(f)).toEqual(count(pred));
}

export function storeSuite(backend: string, open: OpenStore): void {
  describe(`store port on ${backend}: ingest`, () => {
    it('ingesting the same batch twice: inserted, then unchanged; rows equal', async () => {
      const store = await open();
      try {
        const batch = realisticSpecs(300, NOW, 11).map((s) => replayIn(s));
        const first = await store.ingest({ scans: [], replays: batch });
        expect(first.replays.filter((o) => o === 'inserted')).toHaveLength(300);
        const rows1 = await allRows(store);
        const second = await store.ingest({ scans: [], replays: batch });
        expect(second.replays.every((o) => o === 'unchanged')).toBe(true);
        expect(await allRows(store)).toEqual(rows1);
        expect(await store.integrityCheck()).toBe('ok');
        await expectConsistent(store);
      } finally {
        await store.close();
      }
    });

    it('a re-written record updates in place and keeps the human tag', async () => {
      const store = await open();
      try {
        const spec = { i: 1, finishedAt: '2026-01-20T10:00:00Z', outcome: 'failed' as const, cause: 'feed_drift' as const };
        await store.ingest({ scans: [], replays: [replayIn(spec)] });
        const id = replayIn(spec).replay_id;
        await store.retag([id], 'nondeterminism', { who: 'ana', at: '2026-01-21T00:00:00Z' });
        const out = await store.ingest({ scans: [], replays: [replayIn({ ...spec, cause: 'policy_drift' })] });
        expect(out.replays).toEqual(['updated']);
        const row = (await store.getReplay(id))!;
        expect([row.auto_reason, row.human_tag, row.tag]).toEqual(['policy_drift', 'nondeterminism', 'nondeterminism']);
        await expectConsistent(store);
      } finally {
        await store.close();
      }
    });
  });

  describe(`store port on ${backend}: keyset paging`, () => {
    let store: ReplayStore;
    let all: ReplayRow[];
    beforeAll(async () => {
      store = await open();
      const specs = realisticSpecs(1500, NOW, 5).map((s, k) => ({ ...s, finishedAt: k % 3 === 0 ? '2026-01-15T00:00:00Z' : s.finishedAt }));
      await store.ingest({ scans: [], replays: specs.map((s) => replayIn(s)) });
      all = await allRows(store);
      return () => store.close();
    }, 120_000);

    const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
    const reference: Record<ReplaySort, (a: ReplayRow, b: ReplayRow) => number> = {
      failing_first: (a, b) => cmp(Number(b.status !== 'passed'), Number(a.status !== 'passed')) || cmp(b.finished_at, a.finished_at) || cmp(b.replay_id, a.replay_id),
      newest: (a, b) => cmp(b.finished_at, a.finished_at) || cmp(b.replay_id, a.replay_id),
      oldest: (a, b) => cmp(a.finished_at, b.finished_at) || cmp(a.replay_id, b.replay_id),
      cause: (a, b) => cmp(a.tag ?? '~', b.tag ?? '~') || cmp(a.finished_at, b.finished_at) || cmp(a.replay_id, b.replay_id),
      project: (a, b) => cmp(a.project, b.project) || cmp(a.finished_at, b.finished_at) || cmp(a.replay_id, b.replay_id),
    };
    const keyFor: Record<ReplaySort, (r: ReplayRow) => Cursor> = {
      failing_first: (r) => ({ key: [r.status !== 'passed' ? 1 : 0, r.finished_at], id: r.replay_id }),
      newest: (r) => ({ key: [r.finished_at], id: r.replay_id }),
      oldest: (r) => ({ key: [r.finished_at], id: r.replay_id }),
      cause: (r) => ({ key: [r.tag ?? '~', r.finished_at], id: r.replay_id }),
      project: (r) => ({ key: [r.project, r.finished_at], id: r.replay_id }),
    };
    const filters: Array<[string, ReplayFilter, (r: ReplayRow) => boolean]> = [
      ['no filter', {}, () => true],
      ['failing only', { failingOnly: true }, (r) => r.status !== 'passed'],
      ['one cause', { causes: ['scanner_drift'] }, (r) => r.tag === 'scanner_drift'],
      ['cause + ecosystem', { causes: ['feed_drift', 'nondeterminism'], ecosystem: 'npm' }, (r) => (r.tag === 'feed_drift' || r.tag === 'nondeterminism') && r.ecosystem === 'npm'],
      ['free text', { text: 'LEDGER' }, (r) => [r.replay_id, r.project, r.scanner_version, r.ecosystem].some((x) => x.toLowerCase().includes('ledger'))],
    ];
    for (const sort of Object.keys(reference) as ReplaySort[]) {
      for (const [fname, filter, pred] of filters) {
        it(`${sort} / ${fname}: forward, backward and from the end match the reference order`, async () => {
          const want = all.filter(pred).sort(reference[sort]).map((r) => r.replay_id);
          expect(want.length).toBeGreaterThan(0);
          expect((await store.countReplays(filter)).total).toBe(want.length);
          const limit = 37;
          const fwd: string[] = [];
          let page = await store.pageReplays({ filter, sort, limit });
          expect(page.hasMoreBefore).toBe(false);
          for (;;) {
            fwd.push(...page.rows.map((r) => r.replay_id));
            if (!page.hasMoreAfter) break;
            page = await store.pageReplays({ filter, sort, limit, after: keyFor[sort](page.rows[page.rows.length - 1]) });
            expect(page.hasMoreBefore).toBe(true);
          }
          expect(fwd).toEqual(want);
          const back: string[] = [];
          page = await store.pageReplays({ filter, sort, limit, fromEnd: true });
          expect(page.hasMoreAfter).toBe(false);
          for (;;) {
            back.unshift(...page.rows.map((r) => r.replay_id));
            if (!page.hasMoreBefore) break;
            page = await store.pageReplays({ filter, sort, limit, before: keyFor[sort](page.rows[0]) });
          }
          expect(back).toEqual(want);
        });
      }
    }

    it('a page past the end is empty and says there is more before', async () => {
      const last = (await store.pageReplays({ filter: {}, sort: 'newest', limit: 1, fromEnd: true })).rows[0];
      const p = await store.pageReplays({ filter: {}, sort: 'newest', limit: 10, after: { key: [last.finished_at], id: last.replay_id } });
      expect(p).toEqual({ rows: [], hasMoreAfter: false, hasMoreBefore: true });
    });

    it('LIKE wildcards in free text are literal', async () => {
      expect((await store.countReplays({ text: '%' })).total).toBe(0);
      expect((await store.countReplays({ text: '_' })).total).toBe(all.filter((r) => r.replay_id.includes('_')).length);
    });

    it('getReplay and getScan: a known id has its detail, an unknown one is null', async () => {
      const d = (await store.getReplay(all[0].replay_id))!;
      expect({ ...d, diff_summary: undefined, manifest: undefined, executor: undefined, error: undefined, classifier_version: undefined, evidence: undefined, manifest_sha256: undefined, warnings: undefined }).toMatchObject(all[0]);
      expect(Array.isArray(d.warnings)).toBe(true);
      expect(await store.getReplay('replay_nope')).toBeNull();
      expect(await store.getScan('scan_nope')).toBeNull();
    });

    it('dashboard: 30/90-day windows, 30 trend points, gate, offenders, causes, counts', async () => {
      const d = await dashboardOf(store, NOW);
      expect(d.windows.map((w) => w.days)).toEqual([30, 90]);
      expect(d.trend).toHaveLength(30);
      expect(d.trend[29].day).toBe('2026-01-31');
      expect(d.trend.reduce((s, p) => s + p.n, 0)).toBe(d.windows[0].n);
      expect(d.counts.replays).toBe(1500);
      expect(d.counts.failing).toBe(all.filter((r) => r.status !== 'passed').length);
      expect(d.counts.errors).toBe(all.filter((r) => r.status === 'error').length);
      expect(d.causes.length).toBeGreaterThan(0);
      for (let i = 1; i < d.offenders.length; i++) expect(d.offenders[i - 1].bf).toBeLessThanOrEqual(d.offenders[i].bf);
      await expectConsistent(store);
    });
  });

  describe(`store port on ${backend}: sampler candidates and gc references`, () => {
    it('candidates by created_at plus named canaries, with the newest replay per scan; the sample is seeded', async () => {
      const store = await open();
      try {
        const scans = scansIn(400);
        const specs = realisticSpecs(200, NOW, 21);
        const replays = specs.map((s, k) => ({ ...replayIn(s), original_scan_id: scans[k % 50].scan_id }));
        await store.ingest({ scans, replays });
        const cands = await store.sampleCandidates('2026-01-10', ['scan_00059', 'scan_nope']);
        const want = scans.filter((s) => s.created_at >= '2026-01-10' || s.scan_id === 'scan_00059').map((s) => s.scan_id).sort();
        expect(cands.map((c) => c.scan_id)).toEqual(want);
        const newest = (id: string) => replays.filter((r) => r.original_scan_id === id).map((r) => r.finished_at).sort().pop() ?? null;
        for (const c of cands) expect(c.last_replayed_at, c.scan_id).toBe(newest(c.scan_id));
        expect(cands.find((c) => c.scan_id === 'scan_00010')).toMatchObject({ ecosystem: 'Go', base_os: 'alpine-3.20', regulated: true, scanner: '1.1.0' });
        const req = { n: 40, by: ['ecosystem', 'base_os', 'regulated', 'scanner'] as const, windowDays: 30, seed: 7, now: NOW, canaries: ['scan_00059'] };
        const a = await sampleFromStore(store, { ...req, by: [...req.by] });
        expect(a.chosen.filter((c) => c.reason === 'sampled')).toHaveLength(40);
        expect(a.chosen.find((c) => c.scan_id === 'scan_00059')?.reason).toBe('canary');
        expect(await sampleFromStore(store, { ...req, by: [...req.by] })).toEqual(a);
        expect((await sampleFromStore(store, { ...req, by: [...req.by], seed: 8 })).chosen).not.toEqual(a.chosen);
        const dirs = await store.recordDirs();
        expect(dirs).toEqual([...new Set([...scans.map((s) => s.record_dir), ...replays.map((r) => r.record_dir)])].filter((d): d is string => d !== null).sort());
        const digests = await store.referencedDigests();
        for (const d of [scans[3].feed_digest, scans[3].policy_digest, scans[3].artifacts[0].canonical_sha256, replays[0].feed_digest]) expect(digests).toContain(d);
        expect([...digests].sort()).toEqual(digests);
      } finally {
        await store.close();
      }
    });
  });

  describe(`store port on ${backend}: the sampler's groups`, () => {
    it('the scans placed in groups give the same sample as the plain candidates, window edges and offsets included', async () => {
      const store = await open();
      try {
        const scans = scansIn(300);
        // Times on and around the bounds' days, with offsets and fractions, so both sides of every bound are met.
        const odd = ['2025-12-31T12:00:00Z', '2026-01-01T11:59:59.999Z', '2026-01-01T12:00:00Z', '2026-01-01T12:00:00.001Z', '2026-01-01T13:30:00+02:00',
          '2026-01-01T09:00:00-03:00', '2026-01-02T00:30:00+14:00', '2026-01-31T12:00:00Z', '2026-01-31T12:00:00.001Z', '2026-02-01T01:00:00+13:00',
          '2026-01-01T12:00:00.500Z', '2026-01-01T12:00:00.501Z', '2026-01-01T12:00:01Z', '2026-01-31T12:00:00.500Z', '2026-01-31T12:00:00.501Z'];
        odd.forEach((t, i) => (scans[i * 7].created_at = t));
        const specs = realisticSpecs(240, NOW, 22);
        const fin = ['2026-01-23T12:00:00Z', '2026-01-24T11:59:59Z', '2026-01-24T12:00:00Z', '2026-01-24T13:00:00+02:00', '2026-01-24T08:00:00-05:00',
          '2026-01-22T23:00:00-14:00', '2026-01-10T00:00:00Z', '2026-01-30T00:00:00Z', '2026-01-24T12:00:00.500Z', '2026-01-24T12:00:00.499Z',
          '2026-01-24T12:00:01Z'];
        const replays = specs.map((s, k) => ({ ...replayIn(s), original_scan_id: scans[(k * 5) % 300].scan_id, ...(k < fin.length * 3 ? { finished_at: fin[k % fin.length] } : {}) }));
        await store.ingest({ scans, replays });
        const canaries = ['scan_00003', 'scan_00140', 'scan_00299'];
        // The last: a now with milliseconds, so exact times on a bound's day meet an instant inside a second.
        for (const [windowDays, recentDays, seed, by, shift] of [[30, 7, 7, ['ecosystem', 'base_os', 'regulated', 'scanner'], 0], [30, 7, 8, ['base_os'], 0], [10, 0, 9, [], 0], [45, 3, 10, ['regulated', 'ecosystem'], 0], [30, 7, 11, ['ecosystem'], 500]] as const) {
          const now = new Date(NOW.getTime() + shift);
          const options = { n: 50, by: [...by], seed, now: now.toISOString(), windowDays, recentDays };
          const b = sampleBounds(options);
          const mark = <T extends { scan_id: string }>(c: T) => (canaries.includes(c.scan_id) ? { ...c, canary: true } : c);
          const plain = sampleScans((await store.sampleCandidates(b.createdFrom, canaries)).map(mark), options);
          const placed = await store.sampleGroups(b, canaries);
          expect(placed.groups.reduce((a, g) => a + g.fresh.length + g.recent.length, 0), `${windowDays}d`).toBeGreaterThan(0);
          expect(sampleGrouped({ groups: placed.groups, candidates: placed.candidates.map(mark) }, options), `${windowDays}d/${recentDays}d by ${by.join(',')}`).toEqual(plain);
          // Under a cut a store may send, per group, only the ids below a bound it names (exactly those),
          // with the group's count; the sample through the port is the plain one either way.
          const cut = await store.sampleGroups(sampleBounds(options, true), canaries);
          type G = (typeof cut.groups)[number];
          const keyOf = (g: G) => {
            const cls = (g.freshCount ?? g.fresh.length) > 0 ? 'fresh' : (g.recentCount ?? g.recent.length) > 0 ? 'recent' : null;
            return cls && [g.ecosystem, g.base_os, g.regulated, g.scanner, cls].join('|');
          };
          const whole = new Map(placed.groups.filter(keyOf).map((g) => [keyOf(g), g]));
          expect(cut.groups.filter(keyOf).length).toBe(whole.size);
          for (const g of cut.groups.filter(keyOf)) {
            const w = whole.get(keyOf(g))!;
            for (const [got, all, count, below] of [[g.fresh, w.fresh, g.freshCount, g.freshBelow], [g.recent, w.recent, g.recentCount, g.recentBelow]] as const) {
              expect(count ?? got.length).toBe(all.length);
              expect([...got].sort()).toEqual(all.filter((id) => below === undefined || sampleRank(seed, id) < below).sort());
            }
          }
          expect(cut.candidates.map((c) => c.scan_id).sort()).toEqual(placed.candidates.map((c) => c.scan_id).sort());
          const req = { n: 50, by: [...by], windowDays, recentDays, seed, now, canaries };
          expect(await sampleFromStore(store, req), 'through the port').toEqual(plain);
          expect(await sampleFromStore(store, { ...req, n: 5 }), 'n = 5').toEqual(sampleScans((await store.sampleCandidates(b.createdFrom, canaries)).map(mark), { ...options, n: 5 }));
        }
      } finally {
        await store.close();
      }
    });
  });

  describe(`store port on ${backend}: retag and undo`, () => {
    let store: ReplayStore;
    const snapshot = async () => (await allRows(store)).map((r) => [r.replay_id, r.auto_reason, r.human_tag, r.tag]);
    beforeAll(async () => {
      store = await open();
      const specs = Array.from({ length: 600 }, (_, i) => ({
        i,
        finishedAt: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}T08:00:00Z`,
        outcome: (i % 6 === 5 ? 'passed' : 'failed') as 'passed' | 'failed',
        cause: (i % 2 ? 'feed_drift' : 'nondeterminism') as 'feed_drift' | 'nondeterminism',
        ecosystem: i % 3 ? 'npm' : 'PyPI',
      }));
      await store.ingest({ scans: [], replays: specs.map((s) => replayIn(s)) });
      return () => store.close();
    }, 120_000);

    it('a batch retag writes one audit row per changed replay; stacked undos restore exactly', async () => {
      const s0 = await snapshot();
      const ids = (await store.idsMatching({ failingOnly: true })).slice(0, 400);
      const a = await store.retag(ids, 'scanner_drift', { who: 'ana', at: '2026-01-31T09:00:00Z', note: 'image rebuilt' });
      expect(a.batch_id).toMatch(/^rt_[0-9a-f]{16}$/);
      expect(a.changed).toBe(400);
      await expectConsistent(store);
      const s1 = await snapshot();
      const b = await store.retag([...ids.slice(0, 5), ids[0]], 'external_io', { who: 'ben', at: '2026-01-31T10:00:00Z' });
      expect(b.changed).toBe(5);
      const again = await store.retag(ids.slice(0, 5), 'external_io', { who: 'ben', at: '2026-01-31T10:01:00Z' });
      expect(again.changed).toBe(0);
      const ev = await store.tagEvents(ids[0]);
      expect(ev.map((e) => [e.old_tag, e.new_tag, e.who, e.undone])).toEqual([
        [(s0.find((r) => r[0] === ids[0]) as unknown[])[3], 'scanner_drift', 'ana', false],
        ['scanner_drift', 'external_io', 'ben', false],
      ]);
      expect((await store.tagEvents()).length).toBe(405);
      expect(await store.undoLastRetag({ who: 'cy', at: '2026-01-31T11:00:00Z' })).toEqual({ batch_id: b.batch_id, restored: 5 });
      expect(await snapshot()).toEqual(s1);
      expect(await store.undoLastRetag({ who: 'cy', at: '2026-01-31T11:01:00Z' })).toEqual({ batch_id: a.batch_id, restored: 400 });
      expect(await snapshot()).toEqual(s0);
      expect(await store.undoLastRetag({ who: 'cy', at: '2026-01-31T11:02:00Z' })).toBeNull();
      expect((await store.tagEvents()).every((e) => e.undone)).toBe(true);
      await expectConsistent(store);
    });

    it('passing replays are left untouched and counted; humanTagEvent names the standing event', async () => {
      const s0 = await snapshot();
      const rows = await allRows(store);
      const passing = rows.filter((r) => r.status === 'passed').slice(0, 3).map((r) => r.replay_id);
      const failing = rows.filter((r) => r.status !== 'passed').slice(0, 2).map((r) => r.replay_id);
      expect([passing.length, failing.length]).toEqual([3, 2]);
      const a = await store.retag([...passing, ...failing], 'runtime_drift', { who: 'ana', at: '2026-02-01T09:00:00Z', note: 'tz' });
      expect({ changed: a.changed, skipped_passing: a.skipped_passing }).toEqual({ changed: 2, skipped_passing: 3 });
      for (const id of passing) expect(await store.tagEvents(id)).toEqual([]);
      expect(await store.humanTagEvent(passing[0])).toBeNull();
      expect(await store.humanTagEvent(failing[0])).toMatchObject({ batch_id: a.batch_id, who: 'ana', at: '2026-02-01T09:00:00Z', note: 'tz', new_tag: 'runtime_drift', undone: false });
      const b = await store.retag([failing[0]], 'external_io', { who: 'ben', at: '2026-02-01T10:00:00Z' });
      expect(await store.humanTagEvent(failing[0])).toMatchObject({ batch_id: b.batch_id, who: 'ben', note: null, new_tag: 'external_io' });
      expect(await store.retag(passing, 'feed_drift', { who: 'ana', at: '2026-02-01T11:00:00Z' })).toMatchObject({ changed: 0, skipped_passing: 3 });
      await expectConsistent(store);
      expect(await store.undoLastRetag({ who: 'cy', at: '2026-02-01T12:00:00Z' })).toEqual({ batch_id: b.batch_id, restored: 1 });
      expect(await store.humanTagEvent(failing[0])).toMatchObject({ batch_id: a.batch_id, who: 'ana' });
      const undone = (await store.tagEvents(failing[0])).find((e) => e.batch_id === b.batch_id);
      expect(undone).toMatchObject({ undone: true, undone_by: 'cy', undone_at: '2026-02-01T12:00:00Z' });
      expect(await store.undoLastRetag({ who: 'cy', at: '2026-02-01T12:01:00Z' })).toEqual({ batch_id: a.batch_id, restored: 2 });
      expect(await store.humanTagEvent(failing[0])).toBeNull();
      expect(await store.humanTagEvent('replay_nope')).toBeNull();
      expect(await snapshot()).toEqual(s0);
      await expectConsistent(store);
    });

    it('merged undos: undone here too, the latest event standing decides, a local undo after them restores what was before', async () => {
      const before = await snapshot();
      const tagOf = async (id: string) => (await store.getReplay(id))!.tag;
      const [x, y] = (await store.idsMatching({ failingOnly: true })).slice(450, 452);
      // Bob's event comes from another store; Carol retags x here after it.
      const bob = { batch_id: 'rt_00000000000000b0', new_tag: 'external_io' as const, who: 'bob', at: '2026-02-01T09:00:00Z', note: null };
      expect((await store.mergeTagEvents([{ ...bob, replay_id: x }, { ...bob, replay_id: y }])).merged).toBe(2);
      await store.retag([x], 'runtime_drift', { who: 'carol', at: '2026-02-01T10:00:00Z' });
      // Bob's undo arrives, twice over, with one for an event this store does not hold.
      const undo = { batch_id: bob.batch_id, who: 'bob', at: '2026-02-01T11:00:00Z' };
      const undos = [{ ...undo, replay_id: x }, { ...undo, replay_id: y }, { ...undo, replay_id: y, at: '2026-02-01T11:30:00Z' }, { ...undo, batch_id: 'rt_nope', replay_id: x }];
      expect(await store.mergeTagUndos(undos)).toEqual({ undone: 2 });
      expect(await tagOf(x)).toBe('runtime_drift');
      expect(await tagOf(y)).toBe(before.find((r) => r[0] === y)![3]);
      expect(await store.mergeTagUndos(undos)).toEqual({ undone: 0 });
      expect((await store.tagEvents(y)).map((e) => [e.who, e.new_tag, e.undone, e.undone_by, e.undone_at])).toEqual([
        ['bob', 'external_io', true, 'bob', '2026-02-01T11:00:00Z'],
      ]);
      expect((await store.tagEvents(x)).map((e) => [e.who, e.undone, e.undone_by])).toEqual([['bob', true, 'bob'], ['carol', false, null]]);
      await expectConsistent(store);
      // Carol's undo: x goes back to no human tag, not to Bob's undone one.
      expect((await store.undoLastRetag({ who: 'carol', at: '2026-02-01T12:00:00Z' }))?.restored).toBe(1);
      expect(await snapshot()).toEqual(before);
      expect(await store.undoLastRetag({ who: 'carol', at: '2026-02-01T12:01:00Z' })).toBeNull();
      await expectConsistent(store);
    });

    it('a batch naming an unknown replay changes nothing (all or nothing)', async () => {
      const before = await snapshot();
      const events = (await store.tagEvents()).length;
      const ids = (await store.idsMatching({})).slice(0, 50);
      await expect(store.retag([...ids, 'replay_nope'], 'runtime_drift', { who: 'ana', at: '2026-01-31T10:00:00Z' })).rejects.toThrow(/no replay 'replay_nope'/);
      await expect(store.retag(ids, 'gremlins' as never, { who: 'ana', at: '2026-01-31T10:00:00Z' })).rejects.toThrow(/unknown cause tag 'gremlins'/);
      expect(await store.tagEvents()).toHaveLength(events);
      expect(await snapshot()).toEqual(before);
      await expectConsistent(store);
    });
  });
}
