// `stella index`: walk directories for scan and replay records and ingest them in batches. A bad
// record is reported (file + JSON path) and skipped; the rest still lands. Batches are committed
// one transaction each, so a killed indexer leaves whole batches and a re-run completes the index.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { isStellaError, StellaError } from '../core/errors.js';
import type { IngestOutcome, OnEvent, ReplayIn, ReplayStore, ScanIn } from '../core/ports.js';
import { readReplayRecord, readScanRecord, recordKind } from '../../store/ingest.js';

export interface IndexSummary {
  records: number;
  scans: Record<IngestOutcome, number>;
  replays: Record<IngestOutcome, number>;
  skipped: Array<{ file: string; path: string | null; reason: string }>;
}

// Bigger transactions write each touched index page once per batch instead of once per 1,000 rows.
export const INDEX_BATCH = 5000;

/** Record dirs under each root, in code-unit order (a record dir's own subdirs are not searched). */
export function findRecords(roots: string[]): Array<{ dir: string; kind: 'scan' | 'replay' }> {
  const out: Array<{ dir: string; kind: 'scan' | 'replay' }> = [];
  const walk = (dir: string) => {
    const kind = recordKind(dir);
    if (kind) {
      out.push({ dir, kind });
      return;
    }
    let entries;
    try {
      // Dirent types avoid a stat per entry; symlinks are not followed (a record tree has none).
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const names = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    for (const name of names.sort()) walk(path.join(dir, name));
  };
  for (const root of roots) {
    let st;
    try {
      st = statSync(root);
    } catch {
      throw new StellaError('NOT_FOUND', 'no such directory', { file: root });
    }
    if (!st.isDirectory()) throw new StellaError('USAGE', 'not a directory', { file: root });
    walk(root);
  }
  return out;
}

export async function indexRecords(store: Pick<ReplayStore, 'ingest'>, roots: string[], onEvent?: OnEvent): Promise<IndexSummary> {
  const records = findRecords(roots);
  const summary: IndexSummary = {
    records: records.length,
    scans: { inserted: 0, updated: 0, unchanged: 0 },
    replays: { inserted: 0, updated: 0, unchanged: 0 },
    skipped: [],
  };
  onEvent?.({ kind: 'start', id: 'index', total: records.length, label: 'indexing records' });
  for (let i = 0; i < records.length; i += INDEX_BATCH) {
    const scans: ScanIn[] = [];
    const replays: ReplayIn[] = [];
    for (const r of records.slice(i, i + INDEX_BATCH)) {
      try {
        if (r.kind === 'replay') replays.push(readReplayRecord(r.dir));
        else scans.push(readScanRecord(r.dir));
      } catch (e) {
        // Any failure reading one record skips that record; the index never aborts for one bad file.
        const err = isStellaError(e) ? e : new StellaError('RECORD_INVALID', `unreadable record: ${(e as Error)?.message ?? String(e)}`, { file: r.dir });
        summary.skipped.push({ file: err.file ?? r.dir, path: err.path ?? null, reason: err.message });
        onEvent?.({ kind: 'log', id: 'index', message: err.oneLine() });
      }
    }
    const res = await store.ingest({ scans, replays });
    for (const o of res.scans) summary.scans[o]++;
    for (const o of res.replays) summary.replays[o]++;
    onEvent?.({ kind: 'progress', id: 'index', done: Math.min(i + INDEX_BATCH, records.length), total: records.length });
  }
  onEvent?.({ kind: 'finish', id: 'index', status: summary.skipped.length ? 'error' : 'ok' });
  return summary;
}

/** Index records this stella just wrote (demo, canary): any record the index refuses is a bug, so it throws. */
export async function indexOwnRecords(dbPath: string, roots: string[], what: string): Promise<void> {
  const { withStore } = await import('./store-path.js');
  mkdirSync(path.dirname(dbPath), { recursive: true });
  const summary = await withStore(dbPath, {}, (store) => indexRecords(store, roots));
  if (summary.skipped.length) {
    const s = summary.skipped[0];
    throw new StellaError('RECORD_INVALID', `the index refused a ${what} record: ${s.reason}`, { file: s.file, ...(s.path ? { path: s.path } : {}) });
  }
}
