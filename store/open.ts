// One opener for either backend: a `postgres://` (or `postgresql://`) URL opens the team store in
// PostgreSQL, anything else is the path of a local SQLite index. Callers hold the port, never a driver.
import type { ReplayStore } from '../src/core/ports.js';
import { isPostgresUrl } from './postgres/connect.js';
import { openPgStore } from './postgres/pg-store.js';
import { openStore } from './sqlite-store.js';

export type AnyStore = ReplayStore & { readonly dbPath: string };

export async function openAnyStore(where: string, opts: { readonly?: boolean } = {}): Promise<AnyStore> {
  return isPostgresUrl(where) ? openPgStore(where, opts) : openStore(where, opts);
}

export { isPostgresUrl };
