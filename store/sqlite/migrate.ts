// Opening the index and bringing its schema up to date: forward-only numbered migrations
// (store/migrations/NNN_*.sql), each in its own write transaction; readers migrate an older index too.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StellaError } from '../../src/core/errors.js';
import { backfillTerms } from './terms.js';

/** Steps a migration's SQL cannot express (parsing JSON in TypeScript), run in its transaction. */
const STEPS: Record<number, (db: Database.Database) => void> = { 4: backfillTerms };

function migrationsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Source tree (vitest, tsx), compiled tree (dist/store/sqlite → store) or bundle chunk (dist/chunks → store).
  for (const dir of [path.join(here, '../migrations'), path.join(here, '../../../store/migrations'), path.join(here, '../../store/migrations')]) {
    if (existsSync(dir)) return dir;
  }
  throw new StellaError('IO', `store migrations not found next to ${here}`);
}

function loadMigrations(): Array<{ version: number; sql: string }> {
  const dir = migrationsDir();
  return readdirSync(dir)
    .filter((f) => /^\d+_.*\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.split('_')[0]), sql: readFileSync(path.join(dir, f), 'utf8') }));
}

/** SQLite's answers for a file that is not (or no longer) a whole database. */
const DAMAGED = /^SQLITE_(CORRUPT|NOTADB)/;

/** The one error for a damaged index: names the file, says what SQLite found and how to recover. */
export function indexDamaged(dbPath: string, why: string): StellaError {
  return new StellaError('IO', `the index is damaged (${why}); move it aside and rebuild it with \`stella index DIR…\``, { file: dbPath });
}

/** A SQLite error that says the file is damaged, as indexDamaged; anything else as it is. */
export function damagedOr(e: unknown, dbPath: string): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && DAMAGED.test(code) ? indexDamaged(dbPath, (e as Error).message) : e;
}

export function openDatabase(dbPath: string, opts: { readonly?: boolean } = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    return openOrThrow(dbPath, opts, (d) => (db = d));
  } catch (e) {
    if (db?.open) db.close();
    throw damagedOr(e, dbPath);
  }
}

function openOrThrow(dbPath: string, opts: { readonly?: boolean }, opened: (db: Database.Database) => void): Database.Database {
  let db: Database.Database;
  if (opts.readonly) {
    if (!existsSync(dbPath)) throw new StellaError('NOT_FOUND', 'no index here yet: run `stella index DIR` first', { file: dbPath });
    // A read-write handle held query-only: a SQLITE_OPEN_READONLY handle cannot create the WAL's -shm
    // file when the last writer has removed it, and would fail instead of reading.
    db = new Database(dbPath, { fileMustExist: true });
    opened(db);
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -65536');
    // An index from an older stella is migrated on first use by any command, readers included: the
    // migrations are forward-only transactions, and an upgrade should not need a manual step.
    migrate(db, dbPath, true);
    db.pragma('query_only = ON');
  } else {
    mkdirSync(path.dirname(path.resolve(dbPath)), { recursive: true });
    db = new Database(dbPath);
    opened(db);
    // busy_timeout first: switching a new file to WAL takes a lock another process may hold.
    db.pragma('busy_timeout = 5000');
    // A replay row is ~2.5 KB (its manifest and executor JSON): a 4 KiB page holds one and wastes the
    // rest, 8 KiB pages hold three. Takes effect only on a new, empty file (an existing index keeps its own).
    db.pragma('page_size = 8192');
    toWal(db);
    // WAL + NORMAL: a crash loses at most the last transactions, never consistency.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Index inserts land in random key order (ids are hashes): a larger page cache keeps them in memory.
    db.pragma('cache_size = -65536');
    migrate(db, dbPath);
  }
  return db;
}

/**
 * Switch to WAL. On a new file that other processes are creating at the same moment, SQLite can answer
 * SQLITE_BUSY here without calling the busy handler (the switch rewrites the header under an exclusive
 * lock), so retry it for as long as busy_timeout would have waited.
 */
function toWal(db: Database.Database): void {
  const deadline = Date.now() + 5000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw e;
      Atomics.wait(pause, 0, 0, 20);
    }
  }
}

/**
 * Build the indexes a bulk load deferred (migration 005), one transaction each, in their creation
 * order, so other writers get the lock between them. The loader calls this after its last batch, and
 * every later load first, for a load that was killed (until then, reads are right and slower).
 */
export function buildDeferredIndexes(db: Database.Database): void {
  const next = db.prepare('SELECT seq, name, sql FROM deferred_indexes ORDER BY seq LIMIT 1');
  const done = db.prepare('DELETE FROM deferred_indexes WHERE seq = ?');
  if (next.get() === undefined) return;
  // Each build reads the whole table: through the map, not one pread per page into the page cache.
  db.pragma('mmap_size = 1073741824');
  try {
    for (;;) {
      const more = db
        .transaction(() => {
          const row = next.get() as { seq: number; name: string; sql: string } | undefined;
          if (row === undefined) return false;
          // IF NOT EXISTS: a concurrent load of the same index may have built this one already.
          db.exec(row.sql.replace(/^CREATE INDEX /i, 'CREATE INDEX IF NOT EXISTS '));
          done.run(row.seq);
          return true;
        })
        .immediate();
      if (!more) return;
    }
  } finally {
    db.pragma('mmap_size = 0');
  }
}

/**
 * Bring the schema to the newest migration. The schema version is read under the write lock (BEGIN
 * IMMEDIATE), so of any number of processes started together on a new or an older index exactly one
 * migrates and the others wait for it and then see the new version. A reader never turns a database
 * some other program wrote (version 0 with tables) into an index; an empty file is one a concurrent
 * `stella index` has just created.
 */
function migrate(db: Database.Database, dbPath: string, reader = false): void {
  const migrations = loadMigrations();
  const known = migrations[migrations.length - 1].version;
  // Fast path, no lock: the common case is an index already at the newest version.
  if (db.pragma('user_version', { simple: true }) === known) return;
  try {
    db.exec('BEGIN IMMEDIATE');
    const have = db.pragma('user_version', { simple: true }) as number;
    if (have > known) {
      throw new StellaError('IO', `index schema is version ${have}, newer than this stella knows (${known}): upgrade stella`, { file: dbPath });
    }
    if (have === 0 && reader && (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n > 0) {
      throw new StellaError('IO', 'not a stella index (schema version 0): `stella index DIR` builds one', { file: dbPath });
    }
    for (const m of migrations) {
      if (m.version <= have) continue;
      db.exec(m.sql);
      STEPS[m.version]?.(db);
      db.pragma(`user_version = ${m.version}`);
    }
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.close();
    throw e;
  }
}
