// SQLite implementation of the store port (better-sqlite3, WAL, busy timeout, prepared statements).
// Every write that changes a replay's counted facts updates the `fidelity_daily` rollup in the same
// transaction, so window aggregates read a few hundred rollup rows instead of millions of replays.
// One module per concern under store/sqlite/: migrate, rows, ingest, page, retag, rollup. The port's
// methods are async (a networked backend needs that); here each does its work synchronously inside.
import type { DayRange, RollupDim } from '../src/core/fidelity/index.js';
import type { MismatchReason } from '../src/core/formats.js';
import type { SampleBounds } from '../src/core/sample/index.js';
import type { PageRequest, ReplayFilter, ReplayIn, ReplayStore, RollupScope, ScanIn, TagEventIn, TagUndoIn } from '../src/core/ports.js';
import { openDatabase } from './sqlite/migrate.js';
import { type Conn, connOf } from './sqlite/rows.js';
import { type BulkLoad, bulkLoad, ingest } from './sqlite/ingest.js';
import { countReplays, getReplay, getScan, idsMatching, pageReplays } from './sqlite/page.js';
import { humanTagEvent, retag, tagEvents, undoLastRetag } from './sqlite/retag.js';
import { rollup, rollupCells } from './sqlite/rollup.js';
import { mergeTagEvents, mergeTagUndos } from './sqlite/merge.js';
import { recordDirs, referencedDigests, sampleCandidates, sampleGroups } from './sqlite/sample.js';

export type { IngestOutcome, ReplayIn, ReplayStore, ScanIn } from '../src/core/ports.js';

export interface SqliteStore extends ReplayStore {
  readonly dbPath: string;
  /** Many batches at once (`stella index`); deferIndexes: into an empty index, build the indexes after the load. */
  bulkLoad(opts: { deferIndexes: boolean }): BulkLoad;
}

/** Open (creating and migrating when writable) the index at `dbPath`. */
export function openStore(dbPath: string, opts: { readonly?: boolean } = {}): SqliteStore {
  return new Store(connOf(openDatabase(dbPath, opts), dbPath));
}

// Runs synchronous work as the port's Promise: a throw becomes a rejection, as a networked store's would.
const later = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));

class Store implements SqliteStore {
  constructor(private readonly c: Conn) {}

  get dbPath(): string {
    return this.c.dbPath;
  }

  close(): Promise<void> {
    return later(() => {
      if (this.c.db.open) this.c.db.close();
    });
  }

  integrityCheck(): Promise<string> {
    return later(() => String(this.c.db.pragma('integrity_check', { simple: true })));
  }

  ingest(batch: { scans: ScanIn[]; replays: ReplayIn[] }) {
    return later(() => ingest(this.c, batch));
  }

  bulkLoad(opts: { deferIndexes: boolean }): BulkLoad {
    return bulkLoad(this.c, opts);
  }

  rollup(range: DayRange | null, dims?: readonly RollupDim[], scope?: RollupScope) {
    return later(() => rollup(this.c, range, dims, scope));
  }

  rollupCells(range: DayRange, dim: RollupDim, scope?: RollupScope) {
    return later(() => rollupCells(this.c, range, dim, scope));
  }

  countReplays(filter: ReplayFilter) {
    return later(() => countReplays(this.c, filter));
  }

  idsMatching(filter: ReplayFilter) {
    return later(() => idsMatching(this.c, filter));
  }

  pageReplays(req: PageRequest) {
    return later(() => pageReplays(this.c, req));
  }

  getReplay(id: string) {
    return later(() => getReplay(this.c, id));
  }

  getScan(scanId: string) {
    return later(() => getScan(this.c, scanId));
  }

  retag(ids: string[], tag: MismatchReason, opts: { who: string; at: string; note?: string }) {
    return later(() => retag(this.c, ids, tag, opts));
  }

  undoLastRetag(opts: { who: string; at: string }) {
    return later(() => undoLastRetag(this.c, opts));
  }

  tagEvents(replayId?: string) {
    return later(() => tagEvents(this.c, replayId));
  }

  humanTagEvent(replayId: string) {
    return later(() => humanTagEvent(this.c, replayId));
  }

  mergeTagEvents(events: readonly TagEventIn[]) {
    return later(() => mergeTagEvents(this.c, events));
  }

  mergeTagUndos(undos: readonly TagUndoIn[]) {
    return later(() => mergeTagUndos(this.c, undos));
  }

  sampleCandidates(createdFrom: string, alsoIds?: readonly string[]) {
    return later(() => sampleCandidates(this.c, createdFrom, alsoIds));
  }

  sampleGroups(bounds: SampleBounds, alsoIds?: readonly string[]) {
    return later(() => sampleGroups(this.c, bounds, alsoIds));
  }

  recordDirs() {
    return later(() => recordDirs(this.c));
  }

  referencedDigests() {
    return later(() => referencedDigests(this.c));
  }
}
