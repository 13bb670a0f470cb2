// The store suite (port-suite.ts) on the PostgreSQL team store: each store a fresh database.
import { openPgStore } from '../../store/postgres/pg-store.js';
import { requirePostgres } from '../helpers/postgres.js';
import { storeSuite } from './port-suite.js';

const pg = requirePostgres();
storeSuite('PostgreSQL', async () => openPgStore(await pg.freshDatabase()));
