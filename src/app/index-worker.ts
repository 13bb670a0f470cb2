// A writing thread of `stella index` (src/app/indexer.ts writerPool): reads and validates each
// record of its batch, handing replays to its bulk writer as SQLite rows as they are read, then
// commits the batch once the batch before it has committed. The reading of one batch (the parse,
// the hashes, the rollup arithmetic) runs while another thread writes.
import { parentPort } from 'node:worker_threads';
import type { ScanIn } from '../core/ports.js';
import { type BatchDone, TURN_ABORTED, type WriteAnswer, type WriteRequest, readRecord } from './indexer.js';
import { type BulkWriter, bulkWriter } from '../../store/sqlite/ingest.js';

let writer: BulkWriter | null = null;

/** Block until the batch before `seq` has committed (false: another thread failed, the load stops). */
function awaitTurn(turn: Int32Array, seq: number): boolean {
  for (;;) {
    const now = Atomics.load(turn, 0);
    if (now === seq) return true;
    if (now === TURN_ABORTED) return false;
    Atomics.wait(turn, 0, now);
  }
}

function writeBatch(m: WriteRequest, turn: Int32Array): BatchDone {
  const w = (writer ??= bulkWriter(m.target));
  const scans: ScanIn[] = [];
  const skipped: BatchDone['skipped'] = [];
  for (const found of m.records) {
    const r = readRecord(found, true);
    if (r.kind === 'prepared') w.add(r.replay);
    else if (r.kind === 'scan') scans.push(r.scan);
    else if (r.kind === 'skipped') skipped.push({ skipped: r.skipped, line: r.line });
  }
  if (!awaitTurn(turn, m.seq)) throw new Error('another index writer failed');
  return { ...w.commit(scans), skipped };
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
    answer = { id: m.id, ok: true, done: writeBatch(m, turn) };
    Atomics.store(turn, 0, m.seq + 1);
  } catch (e) {
    answer = { id: m.id, ok: false, message: (e as Error)?.message ?? String(e) };
    Atomics.store(turn, 0, TURN_ABORTED);
  }
  Atomics.notify(turn, 0);
  parentPort?.postMessage(answer);
});
