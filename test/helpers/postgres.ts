// PostgreSQL-backed tests never skip. Under CI, .ci/run exports STELLA_TEST_PG (a throwaway cluster on a
// unix socket); elsewhere the helper starts its own cluster in a temp dir as the `postgres` system user
// (the server refuses to run as root) and stops it after the file's tests. If neither works the test
// fails with the reason.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

const BIN = process.env.STELLA_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PgTestServer {
  /** URL of the maintenance database (`postgres`) on the server. */
  url: string;
  /** A new empty database on the server (dropped after the file's tests); returns its URL. */
  freshDatabase(): Promise<string>;
}

/** The same server URL with another database name (works for `?host=/socket/dir` URLs too). */
export function withDatabase(url: string, db: string): string {
  const m = /^(postgres(?:ql)?:\/\/[^/?]*)(\/[^?]*)?(\?.*)?$/.exec(url);
  if (!m) throw new Error(`not a postgres:// URL: ${url}`);
  return `${m[1]}/${db}${m[3] ?? ''}`;
}

function uid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1;
}

function asPostgres(cmd: string, args: string[]): void {
  const [file, argv] = uid() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error ?? '')).trim().slice(-600)}`);
}

function startOwnCluster(): { url: string; stop: () => void } {
  if (!existsSync(path.join(BIN, 'initdb'))) throw new Error(`${BIN}/initdb is missing: install Debian's postgresql (15)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-pg-test-'));
  if (uid() === 0) {
    const ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(dir, Number(ids), Number(gid));
  }
  const data = path.join(dir, 'data');
  asPostgres(path.join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  asPostgres(path.join(BIN, 'pg_ctl'), [
    '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60',
    '-o', `-c listen_addresses='' -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100`,
    'start',
  ]);
  const stop = () => {
    try {
      asPostgres(path.join(BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return { url: `postgres://postgres@/postgres?host=${dir}`, stop };
}

async function ping(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    await c.query('select 1');
  } finally {
    await c.end();
  }
}

/**
 * A reachable PostgreSQL server for this test file. Call it at the top level of the file (it registers
 * the file's beforeAll/afterAll: hooks added later are not run); the beforeAll throws, failing every
 * test, when there is no server and none can be started — never a skip.
 */
export function requirePostgres(): PgTestServer {
  let url: string | undefined;
  let stop: (() => void) | null = null;
  const made: string[] = [];
  beforeAll(async () => {
    try {
      url = process.env.STELLA_TEST_PG;
      if (!url) ({ url, stop } = startOwnCluster());
      await ping(url);
    } catch (e) {
      stop?.();
      stop = null;
      url = undefined;
      throw new Error(
        `PostgreSQL unavailable (${(e as Error).message}); CI exports STELLA_TEST_PG from .ci/services.sh ` +
          `(start_postgres), otherwise the test starts a cluster with ${BIN}/initdb as the postgres user (CI=${process.env.CI ?? 'unset'})`,
      );
    }
  }, 120_000);
  afterAll(async () => {
    try {
      if (url && made.length) {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          for (const db of made) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
        } finally {
          await c.end();
        }
      }
    } finally {
      stop?.();
    }
  }, 60_000);
  const server = () => {
    if (!url) throw new Error('requirePostgres(): the server is not up (call it at the top level of the test file)');
    return url;
  };
  return {
    get url() {
      return server();
    },
    async freshDatabase() {
      // A random name isolates test files sharing CI's server; it never reaches an output.
      const db = `stella_t_${randomBytes(6).toString('hex')}`;
      const c = new pg.Client({ connectionString: server() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${db}`);
      } finally {
        await c.end();
      }
      made.push(db);
      return withDatabase(server(), db);
    },
  };
}
