// Versioned migrations for the team store: `store/postgres/migrations/NNN_name.sql`, applied in order,
// each in its own transaction, recorded in `stella_schema` with the file's sha256.
//
// Several workers or CLI runs may start at once against a new database. The migrator holds a
// session-level advisory lock for the whole run, so one of them migrates and the others wait, then find
// nothing left to do. An applied migration whose file has changed since is refused: schema changes are
// new numbered files, never edits (the same rule as the SQLite index).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { StellaError } from '../../src/core/errors.js';

/** pg_advisory_lock key: the first 8 bytes of sha256("stella-replay schema migration"), as int8. */
export const MIGRATION_LOCK_KEY = createHash('sha256').update('stella-replay schema migration').digest().readBigInt64BE(0);

export interface Migration {
  version: number;
  name: string;
  sha256: string;
  sql: string;
}

export interface MigrateResult {
  from: number;
  to: number;
  applied: number[];
}

function migrationsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Source tree (vitest), compiled tree (dist/store/postgres) or bundle chunk (dist/chunks).
  for (const dir of [path.join(here, 'migrations'), path.join(here, '../../../store/postgres/migrations'), path.join(here, '../../store/postgres/migrations')]) {
    if (existsSync(dir)) return dir;
  }
  throw new StellaError('IO', `PostgreSQL migrations not found next to ${here}`);
}

export function loadMigrations(dir = migrationsDir()): Migration[] {
  const out = readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const bytes = readFileSync(path.join(dir, f));
      return { version: Number(f.slice(0, 3)), name: f, sha256: createHash('sha256').update(bytes).digest('hex'), sql: bytes.toString('utf8') };
    });
  out.forEach((m, i) => {
    if (m.version !== i + 1) throw new StellaError('IO', `migration ${m.name} is out of sequence (expected ${String(i + 1).padStart(3, '0')}_…)`, { file: path.join(dir, m.name) });
  });
  return out;
}

/** Bring the database to the newest schema this stella knows; safe to call from many processes at once. */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = loadMigrations()): Promise<MigrateResult> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS stella_schema (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        sha256     text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const have = (await client.query<{ version: number; name: string; sha256: string }>('SELECT version, name, sha256 FROM stella_schema ORDER BY version')).rows;
      const known = migrations.length ? migrations[migrations.length - 1].version : 0;
      const from = have.length ? have[have.length - 1].version : 0;
      if (from > known) throw new StellaError('IO', `team store schema is version ${from}, newer than this stella knows (${known}): upgrade stella`);
      for (const row of have) {
        const m = migrations[row.version - 1];
        if (m.sha256 !== row.sha256) {
          throw new StellaError('IO', `migration ${m.name} changed after it was applied as ${row.name} (sha256 ${row.sha256.slice(0, 12)}…); schema changes go in a new numbered migration`);
        }
      }
      const applied: number[] = [];
      for (const m of migrations) {
        if (m.version <= from) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO stella_schema (version, name, sha256) VALUES ($1, $2, $3)', [m.version, m.name, m.sha256]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw new StellaError('IO', `migration ${m.name} failed: ${(e as Error).message}`, {}, { cause: e });
        }
        applied.push(m.version);
      }
      return { from, to: Math.max(from, known), applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  } finally {
    client.release();
  }
}

/** The schema version recorded in the database (0 when never migrated). */
export async function schemaVersion(pool: pg.Pool): Promise<number> {
  const t = await pool.query<{ t: string | null }>("SELECT to_regclass('stella_schema')::text AS t");
  if (t.rows[0].t === null) return 0;
  const r = await pool.query<{ v: number | null }>('SELECT max(version) AS v FROM stella_schema');
  return r.rows[0].v ?? 0;
}
