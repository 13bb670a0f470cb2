// Runs the workstation's count queries on a worker thread with its own read-only connection (WAL lets
// it read beside the UI's connection): a count over a million rows must not freeze the keyboard.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../store/sqlite-store.js';
import type { ReplayFilter } from '../../store/types.js';

const store = openStore((workerData as { dbPath: string }).dbPath, { readonly: true });
parentPort?.on('message', (m: { id: number; filter: ReplayFilter }) => {
  try {
    parentPort?.postMessage({ id: m.id, ok: true, counts: store.countReplays(m.filter) });
  } catch (e) {
    parentPort?.postMessage({ id: m.id, ok: false, message: (e as Error)?.message ?? String(e) });
  }
});
