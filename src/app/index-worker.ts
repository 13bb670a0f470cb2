// A reading thread of `stella index` (src/app/indexer.ts readerPool): reads, validates and turns
// replay records into SQLite rows, so the parse and the hashes run beside the writer's transactions.
import { parentPort } from 'node:worker_threads';
import { type ReadAnswer, type ReadRequest, readRecords } from './indexer.js';

parentPort?.on('message', (m: ReadRequest) => {
  let answer: ReadAnswer;
  try {
    answer = { id: m.id, ok: true, results: readRecords(m.records, true) };
  } catch (e) {
    answer = { id: m.id, ok: false, message: (e as Error)?.message ?? String(e) };
  }
  parentPort?.postMessage(answer);
});
