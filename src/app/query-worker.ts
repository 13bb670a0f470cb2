// Runs the workstation's whole-filter queries on a worker thread with its own read-only connection
// (WAL lets it read beside the UI's connection): a count, or a free-text page, over a million rows
// must not freeze the keyboard.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../store/sqlite-store.js';
import type { PageRequest, ReplayFilter } from '../core/ports.js';

export type WorkerQuery = { id: number; kind: 'count'; filter: ReplayFilter } | { id: number; kind: 'page'; req: PageRequest };

const store = openStore((workerData as { dbPath: string }).dbPath, { readonly: true });
parentPort?.on('message', (m: WorkerQuery) => {
  const result: Promise<unknown> = m.kind === 'count' ? store.countReplays(m.filter) : store.pageReplays(m.req);
  result.then(
    (r) => parentPort?.postMessage({ id: m.id, ok: true, result: r }),
    (e: unknown) => parentPort?.postMessage({ id: m.id, ok: false, message: (e as Error)?.message ?? String(e) }),
  );
});
