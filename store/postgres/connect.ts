// Opening the team store: a node-postgres pool from a `postgres://` URL (or `postgresql://`; a unix
// socket directory goes in `?host=/path`). The URL is checked here so a typo is one clear line, not a
// driver stack trace; the password never appears in an error.
import pg from 'pg';
import { StellaError } from '../../src/core/errors.js';
import { isPostgresUrl, redactUrl } from './url.js';

export { isPostgresUrl, redactUrl };

// bigint (int8) columns — sums of bytes and milliseconds, count(*) — come back as JS numbers when they
// fit, instead of node-postgres' default strings; a value past 2^53 is refused rather than rounded.
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') {
      return (v: string) => {
        const n = Number(v);
        if (!Number.isSafeInteger(n)) throw new StellaError('IO', `integer ${v} from PostgreSQL is past 2^53`);
        return n;
      };
    }
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export interface PoolOptions {
  /** Most connections this process opens (default 4: a CLI run or one worker). */
  max?: number;
  /** Shown in pg_stat_activity (default `stella`). */
  applicationName?: string;
}

export function openPool(url: string, opts: PoolOptions = {}): pg.Pool {
  if (!isPostgresUrl(url)) {
    throw new StellaError('USAGE', `'${redactUrl(url)}' is not a PostgreSQL URL: use postgres://USER@HOST:PORT/DB or postgres://USER@/DB?host=/socket/dir`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 4,
    application_name: opts.applicationName ?? 'stella',
    connectionTimeoutMillis: 15_000,
    types,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  return pool;
}

/** Connect once and wrap a failure in one line naming the (redacted) URL and what to check. */
export async function connectChecked(pool: pg.Pool, url: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (e) {
    throw new StellaError('IO', `cannot connect to PostgreSQL at ${redactUrl(url)}: ${(e as Error).message}; check the server is running and the URL (host, port, database, user)`, {}, { cause: e });
  }
}
