// The store suite (port-suite.ts) on the SQLite index.
import path from 'node:path';
import { openStore } from '../../store/sqlite-store.js';
import { tempDir } from '../helpers/tmp.js';
import { storeSuite } from './port-suite.js';

const dir = tempDir('stella-port-sqlite-');
let n = 0;
storeSuite('SQLite', async () => openStore(path.join(dir, `s${++n}.db`)));
