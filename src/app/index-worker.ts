// A writing thread of `stella index` (src/app/indexer.ts writerPool): reads, validates and turns
// replay records into SQLite rows with their rollup deltas, then writes the batch through its own
// connection once the batch before it has committed. The parse, the hashes and the rollup
// arithmetic of one batch run while another thread writes.
import { parentPort } from 'node:worker_threads';
import { TURN_ABORTED, type WriteAnswer, type WriteRequest, readBatch } from './indexer.js';
import { bulkWriter } from '../../store/sqlite/ingest.js';

let writer: ReturnType<typeof bulkWriter> | null = null;

/** Block until the batch before `seq` has committed (false: another thread failed, the load stops). */
function awaitTurn(turn: Int32Array, seq: number): boolean {
  for (;;) {
    const now = Atomics.load(turn, 0);
    if (now === seq) return true;
    if (now === TURN_ABORTED) return false;
    Atomics.wait(turn, 0, now);
  }
}

parentPort?.on('message', (m: WriteRequest | 'close') => {
  if (m === 'close') {
    writer?.close();
    parentPort?.close();
    return;
  }
  const turn = new Int32Array(m.turn);
  let answer: WriteAnswer;
  try {
    const { batch, skipped } = readBatch(m.records, true);
    if (!awaitTurn(turn, m.seq)) throw new Error('another index writer failed');
    writer ??= bulkWriter(m.target);
    answer = { id: m.id, ok: true, done: { ...writer.write(batch), skipped } };
    Atomics.store(turn, 0, m.seq + 1);
  } catch (e) {
    answer = { id: m.id, ok: false, message: (e as Error)?.message ?? String(e) };
    Atomics.store(turn, 0, TURN_ABORTED);
  }
  Atomics.notify(turn, 0);
  parentPort?.postMessage(answer);
});
