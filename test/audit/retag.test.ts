// Retagging through the real CLI on a real index, on SQLite and on PostgreSQL (the two stores' retag
// code differs): a cause tag explains a mismatch, so a retag applies to the replays that did not pass
// and leaves passing ones untouched (and says so); the audit trail reads back through
// `stella retag --history`; the dashboard's cause histogram ignores tags an older version put on passing
// replays (made here the way such a tag still arrives: merged from another store).
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { makeRecord, realisticSpecs, writeRecord, type GenSpec } from '../../bench/gen-records.js';
import { dashboardOf } from '../../src/app/dashboard.js';
import { windowRange } from '../../src/core/fidelity/index.js';
import type { MismatchReason } from '../../src/core/formats.js';
import { openAnyStore } from '../../store/open.js';
import { runStella } from '../helpers/cli.js';
import { requirePostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

const pg = requirePostgres();
const dir = tempDir('stella-retag-');
const root = path.join(dir, 'records');
const NOW = new Date('2026-01-31T12:00:00Z');
const at = ['--now', NOW.toISOString()];
const specs = realisticSpecs(600, NOW, 11);
const idOf = (s: GenSpec) => makeRecord(s).replay.replay_id;
const npm = specs.filter((s) => s.ecosystem === 'npm');
const npmPassing = npm.filter((s) => s.outcome === 'passed');
const npmNotPassing = npm.filter((s) => s.outcome !== 'passed');

/** The cause each replay carries after `retag --filter eco:npm --tag policy_drift`: null when it passed. */
const causeAfter = (s: GenSpec): MismatchReason | null =>
  s.outcome === 'passed' ? null : s.ecosystem === 'npm' ? 'policy_drift' : s.outcome === 'failed' ? (s.cause ?? 'feed_drift') : null;

beforeAll(() => {
  for (const s of specs) writeRecord(path.join(root, s.finishedAt.slice(0, 7)), makeRecord(s));
}, 120_000);

describe.each(['sqlite', 'postgres'] as const)('retag on %s', (backend) => {
  let db = '';
  const stella = (args: string[]) => runStella([...args, '--db', db]);
  const history = async (...args: string[]) => {
    const r = await stella(['retag', '--history', '--json', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).events as Array<Record<string, unknown>>;
  };

  beforeAll(async () => {
    db = backend === 'sqlite' ? path.join(tempDir('stella-retag-db-'), 'index.db') : await pg.freshDatabase();
    const r = await stella(['index', root, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).replays.inserted).toBe(600);
  }, 120_000);

  it('an index with no retags has an empty audit trail', async () => {
    expect(await history()).toEqual([]);
    expect((await stella(['retag', '--history'])).stdout).toBe('no retags recorded\n');
  });

  it('the data set holds passing and failing npm replays (an error among them)', () => {
    expect(npmPassing.length).toBeGreaterThan(50);
    expect(npmNotPassing.filter((s) => s.outcome === 'failed').length).toBeGreaterThan(2);
    expect(npmNotPassing.filter((s) => s.outcome === 'error').length).toBeGreaterThan(0);
  });

  it('retags only the replays that did not pass, says how many passing ones it left, undoes exactly that', async () => {
    const r = await stella(['retag', '--filter', 'eco:npm', '--tag', 'policy_drift', '--who', 'ana', '--note', 'lockfile policy changed', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toEqual({ batch_id: j.batch_id, changed: npmNotPassing.length, matched: npm.length, skipped_passing: npmPassing.length, tag: 'policy_drift' });
    expect(j.batch_id).toMatch(/^rt_[0-9a-f]{16}$/);

    // Passing replays carry no cause; the failing and errored ones carry the new tag.
    const pass = JSON.parse((await stella(['ticket', idOf(npmPassing[0]), '--json'])).stdout);
    expect([pass.status, pass.human_tag, pass.tag]).toEqual(['passed', null, null]);
    for (const s of npmNotPassing.slice(0, 3)) expect(JSON.parse((await stella(['ticket', idOf(s), '--json'])).stdout).tag).toBe('policy_drift');
    // Mismatch counts move only by the failing replays retagged.
    const metrics = (await stella(['metrics', ...at])).stdout;
    const expected = specs.filter((s) => causeAfter(s) === 'policy_drift').length;
    expect(metrics).toContain(`replay_mismatches{reason="policy_drift"} ${expected}\n`);

    // One audit row per changed replay, readable back: who, when, old → new, note.
    const events = await history();
    expect(events.map((e) => e.replay_id)).toEqual(npmNotPassing.map(idOf).sort());
    const f = npmNotPassing.find((s) => s.outcome === 'failed')!;
    expect(events.find((e) => e.replay_id === idOf(f))).toEqual({
      at: events[0].at, batch_id: j.batch_id, replay_id: idOf(f), who: 'ana', old_tag: f.cause ?? 'feed_drift', new_tag: 'policy_drift',
      note: 'lockfile policy changed', undone: false, undone_by: null, undone_at: null,
    });
    expect(events.find((e) => e.replay_id === idOf(npmNotPassing.find((s) => s.outcome === 'error')!))?.old_tag).toBeNull();
    // The ticket says who tagged it, when, in which retag, and why.
    const t = JSON.parse((await stella(['ticket', idOf(f), '--json'])).stdout);
    expect(t.tagged_by).toEqual({ who: 'ana', at: events[0].at, batch_id: j.batch_id, note: 'lockfile policy changed' });
    expect(t.markdown).toContain(`- **Tagged by:** ana at ${events[0].at} (retag \`${j.batch_id}\`) — note: "lockfile policy changed"\n`);
    expect(pass.tagged_by).toBeNull();
    // The store names the event behind a replay's human tag (the ticket's "tagged by").
    const store = await openAnyStore(db, { readonly: true });
    try {
      expect(await store.humanTagEvent(idOf(f))).toMatchObject({ who: 'ana', note: 'lockfile policy changed', batch_id: j.batch_id, new_tag: 'policy_drift' });
      expect(await store.humanTagEvent(idOf(npmPassing[0]))).toBeNull();
    } finally {
      await store.close();
    }

    const u = await stella(['retag', '--undo', '--who', 'ben', '--json']);
    expect(JSON.parse(u.stdout)).toEqual({ batch_id: j.batch_id, restored: npmNotPassing.length });
    expect(JSON.parse((await stella(['ticket', idOf(f), '--json'])).stdout).tag).toBe(f.cause ?? 'feed_drift');
    const undone = await history();
    expect(undone).toHaveLength(npmNotPassing.length);
    expect(undone.every((e) => e.undone === true && e.undone_by === 'ben' && typeof e.undone_at === 'string')).toBe(true);
    expect((await stella(['retag', '--undo'])).stdout).toBe('nothing to undo\n');
  });

  it('the text says how many passing replays were left untouched', async () => {
    const ids = [...npmPassing.slice(0, 3), ...npmNotPassing.slice(0, 2)].map(idOf);
    const r = await stella(['retag', '--ids', ids.join(','), '--tag', 'external_io', '--who', 'cy']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^retag rt_[0-9a-f]{16}: 2 of 5 replays now tagged external_io; 3 passing left untouched \(a cause tag explains a mismatch\) \(undo: stella retag --undo\)\n$/);
    expect((await stella(['retag', '--undo'])).code).toBe(0);
  });

  it('--ids naming only passing replays is a usage error that writes nothing', async () => {
    const before = await history();
    const ids = npmPassing.slice(0, 4).map(idOf);
    const r = await stella(['retag', '--ids', ids.join(','), '--tag', 'runtime_drift', '--who', 'cy', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("stella retag: --ids names only passing replays (4): a cause tag explains a mismatch; nothing to retag (add 'failing' to a filter)\n");
    const f = await stella(['retag', '--filter', 'eco:npm failing', '--tag', 'runtime_drift']);
    expect(f.code).toBe(0);
    expect((await stella(['retag', '--undo'])).code).toBe(0);
    expect((await history()).filter((e) => !e.undone)).toEqual(before.filter((e) => !e.undone));
    expect(await history()).toHaveLength(before.length + npmNotPassing.length);
  });

  it('--history lists the trail sorted by time, narrowed by --ids or --filter, the same on every backend', async () => {
    const a = npmNotPassing[0];
    const b = specs.find((s) => s.outcome === 'failed' && s.ecosystem !== 'npm')!;
    expect((await stella(['retag', '--ids', idOf(a), '--tag', 'nondeterminism', '--who', 'dee', '--note', 'line one\nline two'])).code).toBe(0);
    expect((await stella(['retag', '--ids', idOf(b), '--tag', 'external_io', '--who', 'eve'])).code).toBe(0);
    const all = await history();
    const keys = all.map((e) => `${String(e.at)}\u0000${String(e.batch_id)}\u0000${String(e.replay_id)}`);
    expect(keys).toEqual([...keys].sort());
    const mine = await history('--ids', idOf(b));
    expect(mine.map((e) => [e.who, e.old_tag, e.new_tag, e.undone])).toEqual([['eve', b.cause ?? 'feed_drift', 'external_io', false]]);
    expect((await history('--filter', 'eco:npm')).every((e) => npm.some((s) => idOf(s) === e.replay_id))).toBe(true);
    expect(await history('--ids', idOf(npmPassing[0]))).toEqual([]);
    const text = (await stella(['retag', '--history', '--ids', `${idOf(a)},${idOf(b)}`])).stdout.split('\n');
    expect(text[0]).toMatch(/^\d+ retag events on 2 replays in \d+ batches, oldest first$/);
    expect(text).toContainEqual(expect.stringMatching(new RegExp(`^\\S+ rt_[0-9a-f]{16} ${idOf(a)} \\S+ → nondeterminism by dee note "line one\\\\nline two"$`)));
    expect(text).toContainEqual(expect.stringMatching(new RegExp(`^\\S+ rt_[0-9a-f]{16} ${idOf(b)} \\S+ → external_io by eve$`)));
    expect(text.filter((l) => l.includes(' (undone by ')).length).toBeGreaterThan(0);
    const bad = await stella(['retag', '--history', '--ids', 'replay_nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain("no replay 'replay_nope' in the index");
    const mixed = await stella(['retag', '--history', '--tag', 'feed_drift']);
    expect([mixed.code, mixed.stderr]).toEqual([2, 'stella retag: --history takes no --tag\n']);
    for (let i = 0; i < 2; i++) expect((await stella(['retag', '--undo'])).code).toBe(0);
  });

  it('the dashboard cause histogram counts only replays that did not pass, whatever tags an older version left', async () => {
    const store = await openAnyStore(db);
    try {
      expect((await stella(['retag', '--filter', 'eco:npm', '--tag', 'policy_drift', '--who', 'ana'])).code).toBe(0);
      // An older version's retag of passing replays, as it still reaches a store: merged from another one.
      const legacy = npmPassing.slice(0, 40).map((s, i) => ({ batch_id: 'rt_0000000000000old', replay_id: idOf(s), new_tag: 'policy_drift' as const, who: 'old', at: `2026-01-30T00:00:${String(i).padStart(2, '0')}Z`, note: null }));
      expect((await store.mergeTagEvents(legacy)).merged).toBe(40);
      expect((await store.getReplay(idOf(npmPassing[0])))?.human_tag).toBe('policy_drift');
      const d = await dashboardOf(store, NOW);
      const range = windowRange(NOW, 30);
      const inWindow = specs.filter((s) => s.finishedAt.slice(0, 10) >= range.from && s.finishedAt.slice(0, 10) <= range.to);
      const want = new Map<string, number>();
      for (const s of inWindow) {
        const c = causeAfter(s);
        if (c !== null) want.set(c, (want.get(c) ?? 0) + 1);
      }
      for (const c of d.causes) expect(c.n, c.reason).toBe(want.get(c.reason) ?? 0);
      const failingTagged = inWindow.filter((s) => causeAfter(s) !== null).length;
      expect(d.causes.reduce((n, c) => n + c.n, 0)).toBe(failingTagged);
      // The metrics gauge and the ticket ignore those tags the same way.
      const metrics = (await stella(['metrics', ...at])).stdout;
      expect(metrics).toContain(`replay_mismatches{reason="policy_drift"} ${specs.filter((s) => causeAfter(s) === 'policy_drift').length}\n`);
      expect(JSON.parse((await stella(['ticket', idOf(npmPassing[0]), '--json'])).stdout)).toMatchObject({ human_tag: 'policy_drift', tag: null, tagged_by: null });
    } finally {
      await store.close();
    }
  });
});
