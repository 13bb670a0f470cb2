// `stella sync --from postgres://…`: incremental by watermark, idempotent, resumable after SIGKILL;
// retags pushed with their audit rows; two engineers retagging one replay keep both events, the later
// wins, and the other is told at the next sync.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { realisticSpecs, replayIn } from '../../bench/gen-records.js';
import { openPgStore } from '../../store/postgres/pg-store.js';
import { bulkLoad } from '../../store/postgres/bulk.js';
import { openStore } from '../../store/sqlite-store.js';
import type { ReplayStore } from '../../src/core/ports.js';
import { STELLA_BIN, runStella } from '../helpers/cli.js';
import { requirePostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { expectConsistent, scansIn } from '../store/port-suite.js';

const pg = requirePostgres();
const dir = tempDir('stella-sync-');
const NOW = new Date('2026-01-31T12:00:00Z');

const rowsOf = async (s: ReplayStore) => (await s.pageReplays({ filter: {}, sort: 'oldest', limit: 1_000_000 })).rows;

async function seed(url: string, specs: ReturnType<typeof realisticSpecs>, scans = scansIn(0)): Promise<void> {
  const remote = await openPgStore(url);
  try {
    for (let i = 0; i < specs.length; i += 1000) await remote.ingest({ scans: i === 0 ? scans : [], replays: specs.slice(i, i + 1000).map((s) => replayIn(s)) });
  } finally {
    await remote.close();
  }
}

async function same(url: string, db: string): Promise<void> {
  const remote = await openPgStore(url, { readonly: true });
  const local = openStore(db, { readonly: true });
  try {
    expect(await rowsOf(local)).toEqual(await rowsOf(remote));
    expect(await local.rollup(null)).toEqual(await remote.rollup(null));
    await expectConsistent(local);
  } finally {
    await remote.close();
    await local.close();
  }
}

describe('stella sync', () => {
  it('pulls everything, then only what is new; a second run pulls nothing', async () => {
    const url = await pg.freshDatabase();
    await seed(url, realisticSpecs(1500, NOW, 31), scansIn(120));
    const db = path.join(dir, 'inc.db');
    const first = await runStella(['sync', '--from', url, '--db', db, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).pulled).toMatchObject({ scans: 120, replays: 1500, inserted: 1500 });
    await same(url, db);
    await seed(url, realisticSpecs(40, NOW, 32).map((s) => ({ ...s, prefix: 'late' })));
    const second = JSON.parse((await runStella(['sync', '--from', url, '--db', db, '--json'])).stdout);
    expect(second.pulled).toMatchObject({ scans: 0, replays: 40, inserted: 40, updated: 0, unchanged: 0 });
    const third = JSON.parse((await runStella(['sync', '--from', url, '--db', db, '--json'])).stdout);
    expect(third.pulled).toMatchObject({ scans: 0, replays: 0 });
    await same(url, db);
    const text = await runStella(['sync', '--from', url, '--db', db]);
    expect(text.stdout).toMatch(/^synced with postgres:\/\/.*: pulled 0 scans, 0 replays/);
  });

  it('keeps each replay\'s mode: what-if replays stay out of the production rollup locally too', async () => {
    const url = await pg.freshDatabase();
    const remote = await openPgStore(url);
    const replays = realisticSpecs(200, NOW, 35).map((s, k) => ({ ...replayIn(s), ...(k % 4 === 0 ? { mode: 'what-if:feed=sha256:' + 'f'.repeat(64) } : {}) }));
    await remote.ingest({ scans: [], replays });
    await remote.close();
    const db = path.join(dir, 'mode.db');
    expect((await runStella(['sync', '--from', url, '--db', db])).code).toBe(0);
    // (expectConsistent counts every row as production, so the rows and rollups are compared here.)
    const r = await openPgStore(url, { readonly: true });
    const l = openStore(db, { readonly: true });
    try {
      expect(await rowsOf(l)).toEqual(await rowsOf(r));
      const pinned = await l.rollup(null, ['all']);
      const every = await l.rollup(null, ['all'], { includeWhatIf: true });
      expect(pinned).toEqual(await r.rollup(null, ['all']));
      expect(every).toEqual(await r.rollup(null, ['all'], { includeWhatIf: true }));
      expect(every[0].total - pinned[0].total).toBe(50);
    } finally {
      await r.close();
      await l.close();
    }
  });

  it('SIGKILLed mid-pull, a re-run completes: every row once, rollup consistent', async () => {
    const url = await pg.freshDatabase();
    // Loaded in bulk (the port's per-row ingest is tested elsewhere): the kill needs a long pull, not a long set-up.
    const remote = await openPgStore(url);
    await bulkLoad(remote.pool, { scans: [], replays: realisticSpecs(9000, NOW, 33).map((s) => replayIn(s)) });
    await expectConsistent(remote);
    await remote.close();
    const db = path.join(dir, 'kill.db');
    const state = `${db}.sync.json`;
    const child = spawn(process.execPath, [STELLA_BIN, 'sync', '--from', url, '--db', db], { stdio: 'ignore' });
    const exited = new Promise<string | number | null>((res) => child.on('exit', (c, sig) => res(sig ?? c)));
    let progressed = false;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !progressed) {
      try {
        const s = existsSync(state) ? (Object.values(JSON.parse(readFileSync(state, 'utf8')))[0] as { pending: { replays_after: string } | null }) : null;
        progressed = Boolean(s?.pending?.replays_after);
      } catch {
        progressed = false;
      }
      if (!progressed) await new Promise((r) => setTimeout(r, 2));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(progressed).toBe(true);
    const partial = openStore(db, { readonly: true });
    const got = (await partial.countReplays({})).total;
    await expectConsistent(partial);
    await partial.close();
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(9000);
    const again = await runStella(['sync', '--from', url, '--db', db, '--json']);
    expect(again.code).toBe(0);
    const s = JSON.parse(again.stdout);
    expect(s.pulled.inserted).toBe(9000 - got);
    await same(url, db);
  });

  it('two engineers retag one replay: both events kept, the later wins, the other is told', async () => {
    const url = await pg.freshDatabase();
    await seed(url, realisticSpecs(300, NOW, 34));
    const [a, b] = [path.join(dir, 'ana.db'), path.join(dir, 'ben.db')];
    for (const db of [a, b]) expect((await runStella(['sync', '--from', url, '--db', db])).code).toBe(0);
    const la = openStore(a);
    const [id, other] = (await la.idsMatching({ failingOnly: true })).slice(0, 2);
    await la.retag([id, other], 'external_io', { who: 'ana', at: '2026-02-01T09:00:00Z', note: 'proxy' });
    await la.close();
    const lb = openStore(b);
    await lb.retag([id], 'runtime_drift', { who: 'ben', at: '2026-02-01T10:00:00Z' });
    await lb.close();
    // Ana pushes first; then Ben (pulls Ana's older event, pushes his later one); then Ana again.
    const s1 = JSON.parse((await runStella(['sync', '--from', url, '--db', a, '--json'])).stdout);
    expect(s1.pushed.tag_events).toBe(2);
    expect(s1.conflicts).toEqual([]);
    const s2 = JSON.parse((await runStella(['sync', '--from', url, '--db', b, '--json'])).stdout);
    expect(s2.pushed.tag_events).toBe(1);
    const s3 = await runStella(['sync', '--from', url, '--db', a]);
    expect(s3.code).toBe(0);
    expect(s3.stdout).toContain(`${id}: ana's external_io (2026-02-01T09:00:00Z) lost to ben's runtime_drift (2026-02-01T10:00:00Z); both kept in the audit trail`);
    const remote = await openPgStore(url, { readonly: true });
    try {
      expect((await remote.tagEvents(id)).map((e) => [e.who, e.new_tag])).toEqual([['ana', 'external_io'], ['ben', 'runtime_drift']]);
      expect((await remote.getReplay(id))!.tag).toBe('runtime_drift');
      expect((await remote.getReplay(other))!.tag).toBe('external_io');
      expect((await remote.tagEvents(other)).map((e) => e.note)).toEqual(['proxy']);
    } finally {
      await remote.close();
    }
    for (const db of [a, b]) {
      const l = openStore(db, { readonly: true });
      expect((await l.getReplay(id))!.tag, db).toBe('runtime_drift');
      expect((await l.getReplay(other))!.tag, db).toBe('external_io');
      expect((await l.tagEvents(id)).map((e) => e.who).sort(), db).toEqual(['ana', 'ben']);
      await expectConsistent(l);
      await l.close();
    }
    // Settled: nothing more moves.
    for (const db of [a, b]) {
      const s = JSON.parse((await runStella(['sync', '--from', url, '--db', db, '--json'])).stdout);
      expect(s.conflicts, db).toEqual([]);
      expect(s.pushed.tag_events, db).toBe(0);
    }
  });

  it('an undo reaches the other store at the next sync, both ways; neither undo stack offers it again', async () => {
    const url = await pg.freshDatabase();
    await seed(url, realisticSpecs(300, NOW, 36));
    const ws = path.join(dir, 'undo.db');
    const sync = async () => {
      const r = await runStella(['sync', '--from', url, '--db', ws, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as { pulled: { tag_events: number; undone: number }; pushed: { tag_events: number; undone: number } };
    };
    const ok = async (args: string[]) => {
      const r = await runStella(args);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
      return r.stdout;
    };
    const tagOf = async (db: string, id: string) => {
      const s = db === url ? await openPgStore(url, { readonly: true }) : openStore(db, { readonly: true });
      try {
        return (await s.getReplay(id))!.tag;
      } finally {
        await s.close();
      }
    };
    await sync();
    const l = openStore(ws, { readonly: true });
    const [x, y] = (await l.pageReplays({ filter: { failingOnly: true }, sort: 'oldest', limit: 1000 })).rows
      .filter((r) => r.tag !== 'external_io' && r.tag !== 'runtime_drift')
      .map((r) => [r.replay_id, r.tag] as const);
    await l.close();

    // Undone on the team store: the local index follows.
    await ok(['retag', '--ids', x[0], '--tag', 'external_io', '--who', 'bob', '--db', url]);
    expect((await sync()).pulled.tag_events).toBe(1);
    expect(await tagOf(ws, x[0])).toBe('external_io');
    expect(await ok(['retag', '--undo', '--db', url])).toMatch(/^undid retag rt_[0-9a-f]{16}: 1 replays restored\n$/);
    expect(await tagOf(url, x[0])).toBe(x[1]);
    const s1 = await sync();
    expect(await tagOf(ws, x[0])).toBe(x[1]);
    await same(url, ws);
    const ticketTag = async (db: string) => (JSON.parse(await ok(['ticket', x[0], '--db', db, '--json'])) as { tag: string }).tag;
    expect(await ticketTag(ws)).toBe(x[1]);
    expect(await ticketTag(url)).toBe(x[1]);
    expect(s1.pulled).toMatchObject({ tag_events: 0, undone: 1 });
    expect(s1.pushed).toMatchObject({ tag_events: 0, undone: 0 });
    // The local trail says who undid it, and the local undo stack does not offer that batch again.
    const ev = openStore(ws, { readonly: true });
    expect((await ev.tagEvents(x[0])).map((e) => [e.who, e.undone])).toEqual([['bob', true]]);
    await ev.close();
    expect(await ok(['retag', '--undo', '--db', ws])).toBe('nothing to undo\n');

    // Undone on the local index: the team store follows.
    await ok(['retag', '--ids', y[0], '--tag', 'runtime_drift', '--who', 'carol', '--db', ws]);
    expect((await sync()).pushed.tag_events).toBe(1);
    expect(await tagOf(url, y[0])).toBe('runtime_drift');
    expect(await ok(['retag', '--undo', '--db', ws])).toMatch(/^undid retag rt_[0-9a-f]{16}: 1 replays restored\n$/);
    const s2 = await sync();
    expect(await tagOf(url, y[0])).toBe(y[1]);
    await same(url, ws);
    expect(s2.pushed).toMatchObject({ tag_events: 0, undone: 1 });
    expect(await ok(['retag', '--undo', '--db', url])).toBe('nothing to undo\n');

    // Bob's event pulled, Carol's retag here on top, Bob's undone on the team store: Carol's undo then
    // lands where the team store's does (no human tag), not on Bob's undone tag.
    await ok(['retag', '--ids', y[0], '--tag', 'external_io', '--who', 'bob', '--db', url]);
    await sync();
    await ok(['retag', '--ids', y[0], '--tag', 'runtime_drift', '--who', 'carol', '--db', ws]);
    await ok(['retag', '--undo', '--db', url]);
    const s4 = await sync();
    expect([s4.pulled.undone, s4.pushed.tag_events]).toEqual([1, 1]);
    expect(await tagOf(ws, y[0])).toBe('runtime_drift');
    await same(url, ws);
    await ok(['retag', '--undo', '--db', ws]);
    expect((await sync()).pushed.undone).toBe(1);
    expect(await tagOf(ws, y[0])).toBe(y[1]);
    await same(url, ws);

    // Settled: nothing more moves, and a fresh index agrees.
    const s3 = await sync();
    expect([s3.pulled.tag_events, s3.pulled.undone, s3.pushed.tag_events, s3.pushed.undone]).toEqual([0, 0, 0, 0]);
    await same(url, ws);
    const fresh = path.join(dir, 'undo-fresh.db');
    await ok(['sync', '--from', url, '--db', fresh]);
    await same(url, fresh);
  });

  it('a conflict met by both the pull and the push is told once, and the counts add up', async () => {
    const url = await pg.freshDatabase();
    await seed(url, realisticSpecs(300, NOW, 37));
    const [a, b] = [path.join(dir, 'carol.db'), path.join(dir, 'dave.db')];
    for (const db of [a, b]) expect((await runStella(['sync', '--from', url, '--db', db])).code).toBe(0);
    const la = openStore(a, { readonly: true });
    const id = (await la.pageReplays({ filter: { failingOnly: true }, sort: 'oldest', limit: 1000 })).rows.find(
      (r) => r.tag !== 'external_io' && r.tag !== 'runtime_drift',
    )!.replay_id;
    await la.close();
    expect((await runStella(['retag', '--ids', id, '--tag', 'external_io', '--who', 'carol', '--db', a])).code).toBe(0);
    expect((await runStella(['retag', '--ids', id, '--tag', 'runtime_drift', '--who', 'dave', '--db', b])).code).toBe(0);
    expect(JSON.parse((await runStella(['sync', '--from', url, '--db', a, '--json'])).stdout).pushed.tag_events).toBe(1);
    const r = await runStella(['sync', '--from', url, '--db', b, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.conflicts).toHaveLength(1);
    expect(s.pulled.tag_events).toBe(1);
    expect(s.pushed).toEqual({ tag_events: 1, duplicates: 0, unknown: 0, undone: 0 });
    expect(s.conflicts[0]).toMatchObject({ replay_id: id, winner: { who: 'dave', tag: 'runtime_drift' }, loser: { who: 'carol', tag: 'external_io' } });
    const remote = await openPgStore(url, { readonly: true });
    try {
      expect((await remote.tagEvents(id)).map((e) => e.who)).toEqual(['carol', 'dave']);
    } finally {
      await remote.close();
    }
    await same(url, b);
    // The text form names it once too.
    expect((await runStella(['retag', '--ids', id, '--tag', 'feed_drift', '--who', 'carol', '--db', a])).code).toBe(0);
    expect((await runStella(['retag', '--ids', id, '--tag', 'scanner_drift', '--who', 'dave', '--db', b])).code).toBe(0);
    expect((await runStella(['sync', '--from', url, '--db', a])).code).toBe(0);
    const t = await runStella(['sync', '--from', url, '--db', b]);
    expect(t.stdout.split('\n').filter((line) => line.includes("carol's feed_drift"))).toHaveLength(1);
  });

  it('bad use: one line, exit 2', async () => {
    for (const args of [['sync'], ['sync', '--from', '/tmp/x.db'], ['sync', '--from', 'postgres://a@/b', '--db', 'postgres://a@/c']]) {
      const r = await runStella(args, { env: { STELLA_DB: '' } });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });
});
