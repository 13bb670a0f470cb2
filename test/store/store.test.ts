// The SQLite index: idempotent ingest, bad records reported and skipped, a SIGKILLed indexer, keyset
// paging against a reference order, retag/undo with the audit trail, and the rollup kept in step.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type SqliteStore } from '../../store/sqlite-store.js';
import type { ReplayRow, ReplaySort, ReplayFilter, Cursor } from '../../src/core/ports.js';
import { makeRecord, realisticSpecs, replayIn, writeRecord } from '../../bench/gen-records.js';
import { tempDir } from '../helpers/tmp.js';
import { REPO, STELLA_BIN, runStella } from '../helpers/cli.js';
import { INDEX_BATCH } from '../../src/app/indexer.js';
import { dashboardOf } from '../../src/app/dashboard.js';

const NOW = new Date('2026-01-31T12:00:00Z');
const EXAMPLE_MANIFEST = path.join(REPO, 'fixtures/manifests/example.manifest.json');
const dir = tempDir('stella-store-');

function dumpTables(db: string): Record<string, unknown[]> {
  const h = new Database(db, { readonly: true });
  const out: Record<string, unknown[]> = {};
  for (const t of ['scan_manifests', 'scan_artifacts', 'feed_snapshots', 'replay_runs', 'tag_events', 'fidelity_daily']) {
    out[t] = h.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).raw().all();
  }
  h.close();
  return out;
}

/** The rollup and the per-facet counts must equal what a full scan of replay_runs says, after any sequence of writes. */
async function expectRollupConsistent(store: SqliteStore): Promise<void> {
  // Raw SQL through the test's own read-only connection: the port offers none.
  const db = new Database(store.dbPath, { readonly: true });
  try {
    await rollupMatchesRows(store, db);
  } finally {
    db.close();
  }
}

async function rollupMatchesRows(store: SqliteStore, db: Database.Database): Promise<void> {
  const all = await store.rollup(null);
  const pick = (dim: string) =>
    all
      .filter((r) => r.dim === dim)
      .map((r) => [r.bucket, r.total, r.n, r.bf, r.sf, r.pf, r.errors])
      .sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
  const q = (group: string, where = '1') =>
    db
      .prepare(
        `SELECT ${group} AS b, count(*), sum(status != 'error'), sum(status != 'error' AND bf_match = 1), sum(status != 'error' AND sf_match = 1),
           sum(status != 'error' AND pf_match = 1), sum(status = 'error') FROM replay_runs WHERE ${where} GROUP BY b ORDER BY b`,
      )
      .raw()
      .all();
  expect(pick('all')).toEqual(q("''"));
  expect(pick('cause')).toEqual(q('tag', 'tag IS NOT NULL'));
  expect(pick('status')).toEqual(q('status'));
  expect(pick('ecosystem')).toEqual(q('ecosystem'));
  const facets = 'failing, tag_key, scanner_version, ecosystem, project, policy_set';
  expect(db.prepare(`SELECT ${facets}, n FROM replay_counts ORDER BY ${facets}`).raw().all()).toEqual(
    db.prepare(`SELECT ${facets}, count(*) FROM replay_runs GROUP BY ${facets} ORDER BY ${facets}`).raw().all(),
  );
  // Counts from replay_counts (no text) and from the rows (text) agree with a plain count.
  const one = db.prepare('SELECT replay_id, project, ecosystem, tag FROM replay_runs ORDER BY replay_id LIMIT 1').get() as
    | { replay_id: string; project: string; ecosystem: string; tag: string | null }
    | undefined;
  if (!one) return;
  const filters: Array<[ReplayFilter, string, unknown[]]> = [
    [{}, '1', []],
    [{ failingOnly: true }, 'failing = 1', []],
    [{ causes: ['feed_drift', 'nondeterminism'] }, "tag IN ('feed_drift', 'nondeterminism')", []],
    [{ failingOnly: true, project: one.project, ecosystem: one.ecosystem }, 'failing = 1 AND project = ? AND ecosystem = ?', [one.project, one.ecosystem]],
    [{ text: one.replay_id.slice(3, 9) }, 'instr(replay_id, ?) OR instr(project, ?)', [one.replay_id.slice(3, 9), one.replay_id.slice(3, 9)]],
  ];
  for (const [filter, where, params] of filters) {
    const want = db.prepare(`SELECT count(*) AS total, coalesce(sum(failing), 0) AS failing FROM replay_runs WHERE ${where}`).get(...params);
    expect((await store.countReplays(filter)), JSON.stringify(filter)).toEqual(want);
  }
}

function writeScanRecord(root: string): string {
  const d = path.join(root, 'scan_example');
  mkdirSync(d, { recursive: true });
  copyFileSync(EXAMPLE_MANIFEST, path.join(d, 'manifest.json'));
  const entry = (name: string, p: string, schema: string, n: number) => ({
    path: p,
    canonical_sha256: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    raw_sha256: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    schema,
    bytes: 100 * n,
  });
  const outputs = {
    sbom: entry('sbom', 'artifacts/sbom.cdx.json', 'cyclonedx-1.6', 1),
    findings: entry('findings', 'artifacts/findings.json', 'stella-findings-v1', 2),
    vex: entry('vex', 'artifacts/vex.openvex.json', 'openvex-0.2.0', 3),
    verdict: entry('verdict', 'artifacts/verdict.json', 'stella-verdict-v1', 4),
  };
  writeFileSync(path.join(d, 'outputs.json'), JSON.stringify(outputs, null, 2));
  return d;
}

describe('stella index', () => {
  const root = path.join(dir, 'tree');
  const db = path.join(dir, 'idem', 'index.db');
  beforeAll(async () => {
    for (const s of realisticSpecs(400, NOW)) writeRecord(path.join(root, 'replays', s.finishedAt.slice(0, 7)), makeRecord(s));
    writeScanRecord(path.join(root, 'scans'));
  });

  it('indexing the same tree twice gives identical rows', async () => {
    const first = await runStella(['index', root, '--db', db, '--json']);
    expect(first.code).toBe(0);
    const s1 = JSON.parse(first.stdout);
    expect(s1.replays.inserted).toBe(400);
    expect(s1.scans.inserted).toBe(1);
    const rows1 = dumpTables(db);
    expect(rows1.replay_runs).toHaveLength(400);
    expect(rows1.scan_artifacts).toHaveLength(4);
    expect(rows1.feed_snapshots).toEqual([['sha256:c8bc2586cdd87cd6f970fc4262c4bbc49165811788825fbc1ba3366bfde45413', '2025-12-12T10:15:30Z', 1]]);
    const second = await runStella(['index', root, '--db', db, '--json']);
    expect(second.code).toBe(0);
    const s2 = JSON.parse(second.stdout);
    expect(s2.replays).toEqual({ inserted: 0, updated: 0, unchanged: 400 });
    expect(s2.scans).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
    expect(dumpTables(db)).toEqual(rows1);
    const store = openStore(db);
    await expectRollupConsistent(store);
    store.close();
  });

  it('STELLA_HOME decides where the index lives', async () => {
    const home = path.join(dir, 'home');
    const r = await runStella(['index', path.join(root, 'scans')], { env: { STELLA_HOME: home } });
    expect(r.code).toBe(0);
    expect(existsSync(path.join(home, 'index.db'))).toBe(true);
    const cwd = path.join(dir, 'cwd');
    mkdirSync(cwd);
    const r2 = await runStella(['index', path.join(root, 'scans')], { cwd, env: { STELLA_HOME: '' } });
    expect(r2.code).toBe(0);
    expect(existsSync(path.join(cwd, '.stella', 'index.db'))).toBe(true);
  });

  it('a re-written record updates in place and keeps the human tag', async () => {
    const store = openStore(path.join(dir, 'rewrite.db'));
    const spec = { i: 1, finishedAt: '2026-01-20T10:00:00Z', outcome: 'failed' as const, cause: 'feed_drift' as const };
    await store.ingest({ scans: [], replays: [replayIn(spec)] });
    const id = replayIn(spec).replay_id;
    await store.retag([id], 'nondeterminism', { who: 'ana', at: '2026-01-21T00:00:00Z' });
    const out = (await store.ingest({ scans: [], replays: [replayIn({ ...spec, cause: 'policy_drift' })] }));
    expect(out.replays).toEqual(['updated']);
    const row = (await store.getReplay(id))!;
    expect([row.auto_reason, row.human_tag, row.tag]).toEqual(['policy_drift', 'nondeterminism', 'nondeterminism']);
    await expectRollupConsistent(store);
    store.close();
  });
});

describe('bad records are reported (file + JSON path) and skipped', () => {
  const root = path.join(dir, 'bad');
  const db = path.join(dir, 'bad.db');
  type Case = { name: string; file: 'replay.json' | 'manifest.json'; edit: (text: string) => string; path: string };
  const cases: Case[] = [
    // Truncated: the path is wherever the text stops (here inside `executor`).
    { name: 'truncated JSON', file: 'replay.json', edit: (t) => t.slice(0, t.indexOf('"os"') + 4), path: '$.executor.os' },
    { name: 'unknown status', file: 'replay.json', edit: (t) => t.replace('"status": "failed"', '"status": "maybe"'), path: '$.status' },
    { name: 'bad timestamp', file: 'replay.json', edit: (t) => t.replace(/"finished_at": "[^"]+"/, '"finished_at": "yesterday"'), path: '$.finished_at' },
    { name: 'unknown cause', file: 'replay.json', edit: (t) => t.replace('"mismatch_reason": "feed_drift"', '"mismatch_reason": "gremlins"'), path: '$.mismatch_reason' },
    { name: 'missing replay_id', file: 'replay.json', edit: (t) => t.replace(/"replay_id": "[^"]+",/, ''), path: '$.replay_id' },
    { name: 'subtag not a string', file: 'replay.json', edit: (t) => t.replace(/"subtags": \[\s*"([^"]+)"\s*\]/, '"subtags": ["$1", 7]'), path: '$.subtags[1]' },
    { name: 'bad bf_match', file: 'replay.json', edit: (t) => t.replace('"bf_match": false', '"bf_match": "no"'), path: '$.bf_match' },
    { name: 'bad manifest digest', file: 'manifest.json', edit: (t) => t.replace(/"vuln_feed_bundle_digest": "sha256:[0-9a-f]+"/, '"vuln_feed_bundle_digest": "sha256:XYZ"'), path: '$.feeds.vuln_feed_bundle_digest' },
    { name: 'manifest major version', file: 'manifest.json', edit: (t) => t.replace('"manifest_version": "1.0"', '"manifest_version": "2.0"'), path: '$.manifest_version' },
  ];

  it('each bad record: one line naming file and path; the good ones land; exit 2', async () => {
    for (let i = 0; i < 30; i++) writeRecord(root, makeRecord({ i, finishedAt: '2026-01-10T10:00:00Z', outcome: 'passed', prefix: 'good' }));
    const badFiles: Array<{ file: string; path: string }> = [];
    cases.forEach((c, k) => {
      const d = writeRecord(root, makeRecord({ i: k, finishedAt: '2026-01-10T10:00:00Z', outcome: 'failed', cause: 'feed_drift', prefix: 'bad' }));
      const f = path.join(d, c.file);
      const edited = c.edit(readFileSync(f, 'utf8'));
      expect(edited, c.name).not.toBe(readFileSync(f, 'utf8'));
      writeFileSync(f, edited);
      badFiles.push({ file: f, path: c.path });
    });
    const r = await runStella(['index', root, '--db', db]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(cases.length);
    for (const b of badFiles) {
      const line = lines.find((l) => l.startsWith(`stella index: ${b.file}: `));
      expect(line, b.file).toBeDefined();
      expect(line).toContain(`: ${b.path}: `);
    }
    expect(r.stdout).toContain(`30 new`);
    expect(r.stdout).toContain(`${cases.length} skipped`);
    const store = openStore(db, { readonly: true });
    expect((await store.countReplays({})).total).toBe(30);
    store.close();
    const json = await runStella(['index', root, '--db', db, '--json']);
    expect(json.code).toBe(2);
    const s = JSON.parse(json.stdout);
    expect(s.skipped.map((x: { path: string }) => x.path).sort()).toEqual(badFiles.map((b) => b.path).sort());
  });

  it('usage and missing directories exit 2 with one line', async () => {
    const none = path.join(dir, 'does-not-exist');
    const r = await runStella(['index', none, '--db', path.join(dir, 'u.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`stella index: ${none}: no such directory\n`);
    const r2 = await runStella(['index', '--db', path.join(dir, 'u.db')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('a killed indexer', () => {
  it('SIGKILL mid-run leaves a consistent database and a re-run completes the index', async () => {
    const root = path.join(dir, 'kill');
    const N = 12_000;
    for (const s of realisticSpecs(N, NOW, 99)) writeRecord(root, makeRecord(s));
    const db = path.join(dir, 'kill.db');
    const child = spawn(process.execPath, [STELLA_BIN, 'index', root, '--db', db], { stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => child.on('exit', (_c, sig) => res(sig === 'SIGKILL' ? -9 : _c)));
    // Kill once at least one batch has committed, while the rest is still being written.
    const deadline = Date.now() + 60_000;
    let seen = 0;
    while (Date.now() < deadline) {
      if (existsSync(db)) {
        try {
          const h = new Database(db, { readonly: true, fileMustExist: true });
          h.pragma('busy_timeout = 1000');
          seen = (h.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'replay_runs'").pluck().get() as number)
            ? (h.prepare('SELECT count(*) FROM replay_runs').pluck().get() as number)
            : 0;
          h.close();
        } catch {
          seen = 0;
        }
      }
      if (seen > 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe(-9);
    expect(seen).toBeGreaterThan(0);
    const store = openStore(db);
    expect((await store.integrityCheck())).toBe('ok');
    const partial = (await store.countReplays({})).total;
    expect(partial).toBeLessThan(N);
    expect(partial % INDEX_BATCH).toBe(0);
    await expectRollupConsistent(store);
    store.close();
    const again = await runStella(['index', root, '--db', db, '--json']);
    expect(again.code).toBe(0);
    const s = JSON.parse(again.stdout);
    expect(s.replays.unchanged).toBe(partial);
    expect(s.replays.inserted).toBe(N - partial);
    const after = openStore(db);
    expect((await after.integrityCheck())).toBe('ok');
    expect((await after.countReplays({})).total).toBe(N);
    await expectRollupConsistent(after);
    after.close();
  });
});

describe('a failing writer thread', () => {
  it('stops the load: the error is named, nothing hangs, whole batches stay and a re-run completes', async () => {
    const root = path.join(dir, 'fail');
    const N = 11_000;
    for (const s of realisticSpecs(N, NOW, 98)) writeRecord(root, makeRecord(s));
    const db = path.join(dir, 'fail.db');
    // A replay of the second batch (records are read in name order) that SQLite refuses to insert.
    const refused = readdirSync(root).sort()[INDEX_BATCH + 100];
    openStore(db).close();
    const h = new Database(db);
    h.exec(`CREATE TRIGGER refuse BEFORE INSERT ON replay_runs WHEN NEW.replay_id = '${refused}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    h.close();
    const r = await runStella(['index', root, '--db', db]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('refused by the test');
    const store = openStore(db);
    expect(await store.integrityCheck()).toBe('ok');
    expect((await store.countReplays({})).total).toBe(INDEX_BATCH);
    await expectRollupConsistent(store);
    await store.close();
    const h2 = new Database(db);
    h2.exec('DROP TRIGGER refuse');
    h2.close();
    const again = await runStella(['index', root, '--db', db, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).replays).toEqual({ inserted: N - INDEX_BATCH, updated: 0, unchanged: INDEX_BATCH });
  });
});

describe('keyset paging', () => {
  let store: SqliteStore;
  let all: ReplayRow[];
  beforeAll(async () => {
    store = openStore(path.join(dir, 'paging.db'));
    // Many replays share a finished_at, so the id tie-breaker is exercised.
    const specs = realisticSpecs(1500, NOW, 5).map((s, k) => ({ ...s, finishedAt: k % 3 === 0 ? '2026-01-15T00:00:00Z' : s.finishedAt }));
    await store.ingest({ scans: [], replays: specs.map((s) => replayIn(s)) });
    all = (await Promise.all((await store.idsMatching({})).map((id) => store.getReplay(id)))).map((r) => r!);
    return () => store.close();
  });

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
        let page = (await store.pageReplays({ filter, sort, limit }));
        expect(page.hasMoreBefore).toBe(false);
        for (;;) {
          fwd.push(...page.rows.map((r) => r.replay_id));
          if (!page.hasMoreAfter) break;
          page = (await store.pageReplays({ filter, sort, limit, after: keyFor[sort](page.rows[page.rows.length - 1]) }));
          expect(page.hasMoreBefore).toBe(true);
        }
        expect(fwd).toEqual(want);
        const back: string[] = [];
        page = (await store.pageReplays({ filter, sort, limit, fromEnd: true }));
        expect(page.hasMoreAfter).toBe(false);
        for (;;) {
          back.unshift(...page.rows.map((r) => r.replay_id));
          if (!page.hasMoreBefore) break;
          page = (await store.pageReplays({ filter, sort, limit, before: keyFor[sort](page.rows[0]) }));
        }
        expect(back).toEqual(want);
      });
    }
  }

  it('a page past the end is empty and says there is more before', async () => {
    const last = (await store.pageReplays({ filter: {}, sort: 'newest', limit: 1, fromEnd: true })).rows[0];
    const p = (await store.pageReplays({ filter: {}, sort: 'newest', limit: 10, after: { key: [last.finished_at], id: last.replay_id } }));
    expect(p).toEqual({ rows: [], hasMoreAfter: false, hasMoreBefore: true });
  });

  it('an index written by schema 1 is migrated: replay_counts is filled from its rows', async () => {
    const file = path.join(dir, 'schema1.db');
    const v1 = new Database(file);
    v1.exec(readFileSync(path.join(REPO, 'store/migrations/001_init.sql'), 'utf8'));
    v1.pragma('user_version = 1');
    // Schema 1's columns only (003 added replay_runs.mode and fidelity_daily.scope).
    const cols = (t: string): string => (v1.pragma(`table_info(${t})`) as Array<{ name: string }>).map((c) => c.name).join(', ');
    v1.exec(
      `ATTACH '${store.dbPath}' AS src; INSERT INTO replay_runs SELECT ${cols('replay_runs')} FROM src.replay_runs; INSERT INTO fidelity_daily SELECT ${cols('fidelity_daily')} FROM src.fidelity_daily`,
    );
    v1.close();
    // A reader (stella gate, fidelity, tui) migrates an older index on first use.
    const migrated = openStore(file, { readonly: true });
    const raw = new Database(file, { readonly: true });
    // Brought to the newest schema (every later migration ran, 004's term backfill included).
    const newest = Math.max(...readdirSync(path.join(REPO, 'store/migrations')).filter((f) => /^\d+_.*\.sql$/.test(f)).map((f) => Number(f.split('_')[0])));
    expect(raw.pragma('user_version', { simple: true })).toBe(newest);
    expect(raw.prepare('SELECT count(*) FROM replay_counts').pluck().get()).toBeGreaterThan(0);
    raw.close();
    await expectRollupConsistent(migrated);
    // The reader's own connection stays query-only after migrating: a write through the port fails.
    const someId = (await migrated.idsMatching({}))[0];
    await expect(migrated.retag([someId], 'feed_drift', { who: 'ana', at: '2026-01-31T00:00:00Z' })).rejects.toThrow(/readonly|query_only/i);
    migrated.close();
  });

  it('a reader refuses a database no stella wrote and one from a newer stella, changing neither', async () => {
    const foreign = path.join(dir, 'foreign.db');
    const f = new Database(foreign);
    f.exec('CREATE TABLE notes (t TEXT)');
    f.close();
    expect(() => openStore(foreign, { readonly: true })).toThrow(/not a stella index/);
    const newer = path.join(dir, 'newer.db');
    openStore(newer).close();
    const n = new Database(newer);
    n.pragma('user_version = 99');
    n.close();
    for (const ro of [true, false]) expect(() => openStore(newer, { readonly: ro })).toThrow(/version 99, newer than this stella knows/);
    for (const [file, want] of [[foreign, 0], [newer, 99]] as const) {
      const h = new Database(file, { readonly: true });
      expect(h.pragma('user_version', { simple: true })).toBe(want);
      if (file === foreign) expect(h.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()).toEqual(['notes']);
      h.close();
    }
  });

  it('LIKE wildcards in free text are literal', async () => {
    expect((await store.countReplays({ text: '%' })).total).toBe(0);
    expect((await store.countReplays({ text: '_' })).total).toBe(all.filter((r) => r.replay_id.includes('_')).length);
  });

  it('dashboard: 30/90-day windows, 30 trend points, gate, offenders, causes, counts', async () => {
    const d = await dashboardOf(store, NOW);
    expect(d.windows.map((w) => w.days)).toEqual([30, 90]);
    expect(d.trend).toHaveLength(30);
    expect(d.trend[29].day).toBe('2026-01-31');
    expect(d.trend.reduce((s, p) => s + p.n, 0)).toBe(d.windows[0].n);
    expect(['green', 'warn', 'fail']).toContain(d.gate.state);
    expect(d.counts.replays).toBe(1500);
    expect(d.counts.failing).toBe(all.filter((r) => r.status !== 'passed').length);
    expect(d.counts.errors).toBe(all.filter((r) => r.status === 'error').length);
    expect(d.causes.length).toBeGreaterThan(0);
    for (let i = 1; i < d.offenders.length; i++) expect(d.offenders[i - 1].bf).toBeLessThanOrEqual(d.offenders[i].bf);
  });
});

describe('retag and undo', () => {
  const db = path.join(dir, 'retag.db');
  const snapshot = () => {
    const h = new Database(db, { readonly: true });
    const rows = h.prepare('SELECT replay_id, auto_reason, human_tag, tag, tag_key FROM replay_runs ORDER BY replay_id').raw().all();
    h.close();
    return rows;
  };
  beforeAll(async () => {
    const store = openStore(db);
    const specs = Array.from({ length: 1200 }, (_, i) => ({
      i,
      finishedAt: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}T08:00:00Z`,
      outcome: (i % 6 === 5 ? 'passed' : 'failed') as 'passed' | 'failed',
      cause: (i % 2 ? 'feed_drift' : 'nondeterminism') as 'feed_drift' | 'nondeterminism',
      ecosystem: i % 3 ? 'npm' : 'PyPI',
    }));
    await store.ingest({ scans: [], replays: specs.map((s) => replayIn(s)) });
    store.close();
  });

  it('1,000 replays retagged in one transaction with 1,000 audit rows; undo (new process) restores exactly', async () => {
    const before = snapshot();
    const store = openStore(db);
    const ids = (await store.idsMatching({ failingOnly: true })).slice(0, 1000);
    expect(ids).toHaveLength(1000);
    const r = (await store.retag(ids, 'scanner_drift', { who: 'ana', at: '2026-01-31T09:00:00Z', note: 'image rebuilt' }));
    expect(r.changed).toBe(1000);
    const events = (await store.tagEvents());
    expect(events).toHaveLength(1000);
    expect(new Set(events.map((e) => e.batch_id))).toEqual(new Set([r.batch_id]));
    expect(events.every((e) => e.who === 'ana' && e.note === 'image rebuilt' && e.new_tag === 'scanner_drift' && !e.undone)).toBe(true);
    const one = (await store.getReplay(ids[0]))!;
    expect(one.tag).toBe('scanner_drift');
    expect(one.human_tag).toBe('scanner_drift');
    expect(one.auto_reason).not.toBe('scanner_drift');
    expect((await store.tagEvents(ids[0]))).toHaveLength(1);
    await expectRollupConsistent(store);
    store.close();

    const undo = await runStella(['retag', '--undo', '--db', db, '--json', '--who', 'ben']);
    expect(undo.code).toBe(0);
    expect(JSON.parse(undo.stdout)).toEqual({ batch_id: r.batch_id, restored: 1000 });
    expect(snapshot()).toEqual(before);
    const again = openStore(db);
    expect((await again.tagEvents()).every((e) => e.undone)).toBe(true);
    await expectRollupConsistent(again);
    again.close();
  });

  it('a batch naming an unknown replay changes nothing (all or nothing)', async () => {
    const before = snapshot();
    const store = openStore(db);
    const events = (await store.tagEvents()).length;
    const ids = (await store.idsMatching({})).slice(0, 50);
    await expect(store.retag([...ids, 'replay_nope'], 'runtime_drift', { who: 'ana', at: '2026-01-31T10:00:00Z' })).rejects.toThrow(/no replay 'replay_nope'/);
    expect((await store.tagEvents())).toHaveLength(events);
    store.close();
    expect(snapshot()).toEqual(before);
  });

  it('stacked retags via CLI (--filter, --ids) undo one batch at a time back to the start', async () => {
    const s0 = snapshot();
    const a = await runStella(['retag', '--db', db, '--filter', 'cause:feed_drift eco:npm', '--tag', 'policy_drift', '--who', 'ana', '--json']);
    expect(a.code).toBe(0);
    const ja = JSON.parse(a.stdout);
    expect(ja.changed).toBe(ja.matched);
    const s1 = snapshot();
    const store = openStore(db, { readonly: true });
    const some = (await store.idsMatching({ causes: ['policy_drift'] })).slice(0, 5);
    store.close();
    const b = await runStella(['retag', '--db', db, '--ids', some.join(','), '--tag', 'external_io', '--note', 'proxy']);
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/^retag rt_[0-9a-f]{16}: 5 of 5 replays now tagged external_io/);
    expect(snapshot()).not.toEqual(s1);
    expect((await runStella(['retag', '--undo', '--db', db])).code).toBe(0);
    expect(snapshot()).toEqual(s1);
    expect((await runStella(['retag', '--undo', '--db', db])).code).toBe(0);
    expect(snapshot()).toEqual(s0);
    const none = await runStella(['retag', '--undo', '--db', db]);
    expect(none.stdout).toBe('nothing to undo\n');
  });

  it('bad retag input exits 2 with one line and changes nothing', async () => {
    const before = snapshot();
    for (const args of [
      ['--ids', 'x', '--tag', 'gremlins'],
      ['--filter', 'colour:red', '--tag', 'feed_drift'],
      ['--filter', 'cause:gremlins', '--tag', 'feed_drift'],
      ['--ids', 'replay_nope', '--tag', 'feed_drift'],
      ['--tag', 'feed_drift'],
      ['--undo', '--tag', 'feed_drift'],
    ]) {
      const r = await runStella(['retag', '--db', db, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^stella retag: /);
    }
    expect(snapshot()).toEqual(before);
  });
});
