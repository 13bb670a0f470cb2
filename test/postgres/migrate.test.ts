// The team store's schema on a real PostgreSQL 15: concurrent first starts, the recorded version, and
// the tables mirroring the SQLite index column for column.
import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPool, redactUrl } from '../../store/postgres/connect.js';
import { loadMigrations, migrate, schemaVersion } from '../../store/postgres/migrate.js';
import { requirePostgres } from '../helpers/postgres.js';
import { REPO } from '../helpers/cli.js';

const MIRRORED = ['scan_manifests', 'scan_artifacts', 'feed_snapshots', 'replay_runs', 'tag_events', 'fidelity_daily', 'replay_counts'];

function sqliteSchema(): Database.Database {
  const db = new Database(':memory:');
  const dir = path.join(REPO, 'store/migrations');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql')).sort()) db.exec(readFileSync(path.join(dir, f), 'utf8'));
  return db;
}

const server = requirePostgres();
const pools: pg.Pool[] = [];
const pool = (url: string) => {
  const p = openPool(url);
  pools.push(p);
  return p;
};

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
});

describe('PostgreSQL migrations', () => {
  it('two concurrent first starts: one migrates, the other waits on the advisory lock and finds nothing to do', async () => {
    const url = await server.freshDatabase();
    const [a, b] = [pool(url), pool(url)];
    expect(await schemaVersion(a)).toBe(0);
    const known = loadMigrations().map((m) => m.version);
    expect(known).toEqual([1, 2, 3, 4, 5]);
    const results = await Promise.all([migrate(a), migrate(b), migrate(pool(url))]);
    const applied = results.map((r) => r.applied).sort((x, y) => y.length - x.length);
    expect(applied).toEqual([known, [], []]);
    for (const r of results) expect(r.to).toBe(5);
    const rows = (await a.query('SELECT version, name, sha256 FROM stella_schema ORDER BY version')).rows;
    expect(rows.map((r) => [r.version, r.name])).toEqual([
      [1, '001_init.sql'],
      [2, '002_jobs.sql'],
      [3, '003_replay_mode.sql'],
      [4, '004_terms.sql'],
      [5, '005_sample_index.sql'],
    ]);
    expect(rows.map((r) => r.sha256)).toEqual(loadMigrations().map((m) => m.sha256));
    expect(await schemaVersion(b)).toBe(5);
    // A later start applies nothing.
    expect(await migrate(a)).toEqual({ from: 5, to: 5, applied: [] });
  }, 60_000);

  it('mirrors the SQLite index column for column, with every SQLite index present on the same leading columns', async () => {
    const url = await server.freshDatabase();
    const p = pool(url);
    await migrate(p);
    const lite = sqliteSchema();
    for (const table of MIRRORED) {
      const want = (lite.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name);
      const got = (await p.query('SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position', [table])).rows.map((r) => r.column_name);
      expect(got, table).toEqual(want);
    }
    const pgIndexes = new Map<string, string[]>();
    const ix = await p.query(
      `SELECT i.relname AS name, array_agg(a.attname::text ORDER BY k.ord) AS cols
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
         CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE t.relnamespace = 'public'::regnamespace GROUP BY i.relname`,
    );
    for (const r of ix.rows) pgIndexes.set(r.name, r.cols);
    const liteIndexes = lite.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as Array<{ name: string }>;
    expect(liteIndexes.length).toBeGreaterThan(10);
    for (const { name } of liteIndexes) {
      const cols = (lite.pragma(`index_info(${name})`) as Array<{ name: string }>).map((c) => c.name);
      expect(pgIndexes.get(name)?.slice(0, cols.length), name).toEqual(cols);
    }
    // The design note's breakdown index and the queue's claim index.
    expect(pgIndexes.get('replay_runs_breakdown')).toEqual(['scanner_version', 'ecosystem']);
    expect(pgIndexes.get('replay_jobs_claim')).toEqual(['enqueued_seq']);
    lite.close();
  }, 60_000);

  it('keeps text in code-unit order and JSON bytes as written', async () => {
    const url = await server.freshDatabase();
    const p = pool(url);
    await migrate(p);
    await p.query(
      `INSERT INTO scan_manifests VALUES ($1, '2026-01-01T00:00:00Z', 'h', '1.0', 'npm', 'debian', 'p', false, 'prod', 'f', 'pd', NULL, $2)`,
      ['scan_b', '{"z":1,  "a":[2,1]}'],
    );
    await p.query(`INSERT INTO scan_manifests SELECT 'scan_B', created_at, manifest_sha256, scanner_version, ecosystem, base_os, project, regulated, policy_set, feed_digest, policy_digest, record_dir, manifest_json FROM scan_manifests`);
    await p.query(`INSERT INTO scan_manifests SELECT 'scan_a', created_at, manifest_sha256, scanner_version, ecosystem, base_os, project, regulated, policy_set, feed_digest, policy_digest, record_dir, manifest_json FROM scan_manifests WHERE scan_id = 'scan_b'`);
    const ids = (await p.query('SELECT scan_id FROM scan_manifests ORDER BY scan_id')).rows.map((r) => r.scan_id);
    expect(ids).toEqual(['scan_B', 'scan_a', 'scan_b']);
    const raw = (await p.query("SELECT manifest_json::text AS t FROM scan_manifests WHERE scan_id = 'scan_a'")).rows[0].t;
    expect(raw).toBe('{"z":1,  "a":[2,1]}');
    await expect(p.query("INSERT INTO scan_manifests SELECT 'scan_x', created_at, manifest_sha256, scanner_version, ecosystem, base_os, project, regulated, policy_set, feed_digest, policy_digest, record_dir, '{bad' FROM scan_manifests LIMIT 1")).rejects.toThrow(/json/i);
  }, 60_000);

  it('refuses an edited applied migration and a schema newer than this stella', async () => {
    const url = await server.freshDatabase();
    const p = pool(url);
    await migrate(p);
    const edited = loadMigrations().map((m) => (m.version === 1 ? { ...m, sha256: '0'.repeat(64) } : m));
    await expect(migrate(p, edited)).rejects.toThrow(/001_init\.sql changed after it was applied.*new numbered migration/);
    const known = loadMigrations().length;
    await p.query("INSERT INTO stella_schema (version, name, sha256) VALUES (99, '099_future.sql', 'x')");
    await expect(migrate(p)).rejects.toThrow(new RegExp(`schema is version 99, newer than this stella knows \\(${known}\\): upgrade stella`));
    // The lock was released after each refusal: another migrate gets to the same check, not a hang.
    await expect(migrate(pool(url))).rejects.toThrow(/newer than this stella/);
  }, 60_000);

  it('a URL that is not postgres:// is one line, with the password redacted', () => {
    expect(() => openPool('mysql://u:secret@h/db')).toThrow(/is not a PostgreSQL URL/);
    expect(() => openPool('mysql://u:secret@h/db')).not.toThrow(/secret/);
    expect(redactUrl('postgres://u:secret@h:5432/db')).toBe('postgres://u:***@h:5432/db');
  });
});
