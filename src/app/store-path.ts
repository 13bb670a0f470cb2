// Where the index lives: `$STELLA_HOME/index.db`, default `./.stella/index.db` (SPEC §1.6).
import path from 'node:path';
import type { ReplayStore } from '../core/ports.js';
import { isPostgresUrl, redactUrl } from '../../store/postgres/url.js';
import { stellaHome } from '../adapters/blob-store.js';

export { isPostgresUrl, redactUrl, stellaHome };

/** `--db FILE|postgres://…`, else `$STELLA_DB`, else the local index; a PostgreSQL URL passes through as is. */
export function storePath(env: NodeJS.ProcessEnv, cwd: string, override?: string): string {
  const where = override || env.STELLA_DB;
  if (where && isPostgresUrl(where)) return where;
  if (where) return path.resolve(cwd, where);
  return path.join(stellaHome(env, cwd), 'index.db');
}

import { StellaError } from '../core/errors.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `--now T` (RFC 3339 or a date) or the injected clock: windows never read the wall clock themselves. */
export function resolveNow(value: unknown, clock: () => Date): Date {
  if (value === undefined) return clock();
  const s = String(value);
  const t = RFC3339.test(s) ? Date.parse(s.length === 10 ? `${s}T23:59:59Z` : s) : NaN;
  if (Number.isNaN(t)) throw new StellaError('USAGE', `--now must be an RFC 3339 date-time like 2026-01-31T12:00:00Z, got '${s}'`);
  return new Date(t);
}

/** `--window 30d` → 30. */
export function parseWindow(value: unknown, dflt = 30): number {
  if (value === undefined) return dflt;
  const m = /^(\d{1,4})d$/.exec(String(value));
  const days = m ? Number(m[1]) : NaN;
  if (!(days >= 1 && days <= 3650)) throw new StellaError('USAGE', `--window must be a number of days like 30d or 90d, got '${String(value)}'`);
  return days;
}

/**
 * Open the index, run `fn` on it, close it: the shape of every command that reads or writes it. The
 * stores load here, not with this module: the CLI's entry resolves paths without loading a driver.
 */
export async function withStore<T>(dbPath: string, opts: { readonly?: boolean }, fn: (store: ReplayStore) => Promise<T>): Promise<T> {
  const { openAnyStore } = await import('../../store/open.js');
  const store = await openAnyStore(dbPath, opts);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
