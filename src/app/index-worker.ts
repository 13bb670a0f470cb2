// A reading thread of `stella index` (src/app/indexer.ts readerPool): reads, validates and turns
// replay records into SQLite rows with their rollup deltas, one batch a request, so the parse, the
// hashes and the rollup arithmetic run beside the writer's transactions.
import { parentPort } from 'node:worker_threads';
import { type ReadAnswer, type ReadRequest, readBatch, toWire } from './indexer.js';

parentPort?.on('message', (m: ReadRequest) => {
  let answer: ReadAnswer;
  let transfer: ArrayBuffer[] = [];
  try {
    const out = toWire(readBatch(m.records));
    answer = { id: m.id, ok: true, batch: out.wire };
    transfer = out.transfer;
  } catch (e) {
    answer = { id: m.id, ok: false, message: (e as Error)?.message ?? String(e) };
  }
  parentPort?.postMessage(answer, transfer);
});
