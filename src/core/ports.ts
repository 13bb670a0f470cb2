// Interfaces the pure core and the use cases depend on; adapters implement them at the edge.
import type { Digest, ExecutorEnvironment, ExecutorKind, MismatchReason } from './formats.js';
import type { BucketCounts, DayRange, ReplayFacts, RollupCell, RollupDim } from './fidelity/index.js';
import type { ReplayFilter } from './filter/index.js';
import type { Cursor, ReplaySort } from './filter/sort.js';
import type { SampleBounds, SampleCandidate, SampleGroup } from './sample/index.js';

export type { ReplayFilter } from './filter/index.js';
export type { Cursor, ReplaySort } from './filter/sort.js';

export interface Clock {
  now(): Date;
}

/** Content-addressed blob store (SPEC §1.6). Every read verifies the digest. */
export interface BlobStorePort {
  put(bytes: Uint8Array): Digest;
  get(digest: string): Buffer;
  has(digest: string): boolean;
  /** Absolute path of the stored blob (for read-only bind mounts). */
  pathOf(digest: string): string;
}

/** Progress flows one way: long operations report through an observer and never get steered by it. */
export type ProgressEvent =
  | { kind: 'start'; id: string; total?: number; label: string }
  | { kind: 'progress'; id: string; done: number; total: number; label?: string }
  | { kind: 'finish'; id: string; status: 'passed' | 'failed' | 'error' | 'ok'; label?: string }
  | { kind: 'log'; id: string; message: string };
export type OnEvent = (e: ProgressEvent) => void;

/** One scanner run, fully described: what the executor must mount, set and limit. */
export interface ExecJob {
  /** Stable label for logs and container names (e.g. the replay id). */
  id: string;
  /** Host paths mounted read-only at the given container paths. */
  readOnlyMounts: Array<{ hostPath: string; containerPath: string }>;
  /** Host dir mounted writable at `/out` (docker) or passed as the output dir (local). */
  outputDir: string;
  /** Arguments to the scanner entry point (after `node /app/scanner.js`). */
  args: string[];
  env: { TZ: string; LANG: string; LC_ALL: string };
  /** ISO-8601 instant the clock is frozen at (clock_mode frozen), or null for real time. */
  frozenClock: string | null;
  cpus: number;
  memoryBytes: number;
  timeoutMs: number;
  /** Docker only: the image to run (ID `sha256:…`). */
  imageId?: string;
  /** Replaces the image entry point (docker) or the scanner entry (local); probes and benches use it. */
  entrypoint?: string[];
  /** Abort (Ctrl-C during a batch): the executor kills the run, cleans up and resolves with `aborted`. */
  signal?: AbortSignal;
  /** Size cap of the writable output mount (docker: a tmpfs volume of this size). */
  outputCapBytes?: number;
}

export interface ExecResult {
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  environment: ExecutorEnvironment;
  /** Set when job.signal stopped the run; no outputs should be trusted or kept. */
  aborted?: boolean;
  /** The engine killed the run for exceeding its memory limit (Docker's State.OOMKilled). */
  oomKilled?: boolean;
  /** Why the output directory was not taken back (a link, a device, over the byte cap), naming the entry. */
  outputRefused?: string;
}

export interface Executor {
  readonly kind: ExecutorKind;
  run(job: ExecJob, onEvent?: OnEvent): Promise<ExecResult>;
  /** The environment a run of this job would get, for records of replays that never started. */
  environment?(job: ExecJob): ExecutorEnvironment;
}

// ---- the store port ------------------------------------------------------------------------------
// What the workstation, the indexer and the CLI read and write. The SQLite implementation is
// store/sqlite-store.ts (`openStore`); a second backend (PostgreSQL) implements the same interface.
// Every method returns a Promise because a networked database answers asynchronously; the SQLite
// store does its work synchronously inside them. Names are a contract with the workstation: add,
// never rename. Nothing outside store/ issues SQL.

/** A replay in the index: the facts the rollups count, plus who tagged it and where its record lives. */
export interface ReplayRow extends ReplayFacts {
  replay_id: string;
  original_scan_id: string;
  /** The classifier's tag, never overwritten by humans. */
  auto_reason: MismatchReason | null;
  /** The latest human override, or null. */
  human_tag: MismatchReason | null;
  // `tag` (from ReplayFacts) is the effective tag: human_tag ?? auto_reason.
  subtags: string[];
  started_at: string;
  executor_kind: string;
  record_dir: string | null;
}

export interface PageRequest {
  filter: ReplayFilter;
  sort: ReplaySort;
  after?: Cursor | null;
  before?: Cursor | null;
  limit: number;
  /** The last page (for `G`): rows are still returned in sort order. */
  fromEnd?: boolean;
}

export interface Page {
  rows: ReplayRow[];
  hasMoreAfter: boolean;
  hasMoreBefore: boolean;
}

export interface ReplayDetail extends ReplayRow {
  diff_summary: unknown | null;
  manifest: unknown | null;
  executor: unknown | null;
  error: string | null;
  classifier_version: string | null;
  evidence: unknown | null;
  /** sha256 of the manifest the replay ran from (replay.json `manifest_sha256`). */
  manifest_sha256: string | null;
  warnings: string[];
}

export interface TagEvent {
  event_id: number;
  batch_id: string;
  replay_id: string;
  old_tag: MismatchReason | null;
  new_tag: MismatchReason | null;
  who: string;
  at: string;
  note: string | null;
  undone: boolean;
  /** Who undid the event and when (`stella retag --undo`, `u`); null while it stands. */
  undone_by: string | null;
  undone_at: string | null;
}

/**
 * What one retag did. A cause tag explains a mismatch, so only the selected replays that did not pass
 * (failed or error) take it: `changed` of them got the tag (the others already had it), and
 * `skipped_passing` selected replays passed and were left untouched (no audit row, nothing to undo).
 */
export interface RetagResult {
  batch_id: string;
  changed: number;
  skipped_passing: number;
}

/** A retag event as another store recorded it (`stella sync`): merged by its (batch_id, replay_id). */
export interface TagEventIn {
  batch_id: string;
  replay_id: string;
  new_tag: MismatchReason;
  who: string;
  at: string;
  note: string | null;
}

/** An undo another store recorded (`stella sync`): the event (batch_id, replay_id) undone by `who` at `at`. */
export interface TagUndoIn {
  batch_id: string;
  replay_id: string;
  who: string;
  at: string;
}

export interface TagConflict {
  replay_id: string;
  winner: { tag: MismatchReason | null; who: string; at: string };
  loser: { tag: MismatchReason | null; who: string; at: string };
}

export interface TagMerge {
  merged: number;
  duplicates: number;
  /** Replay ids this store does not hold (their events are not kept). */
  unknown: string[];
  /** Two people's events on one replay: both are kept, the later `at` decides the tag. */
  conflicts: TagConflict[];
}

export interface FidelityPoint {
  day: string;
  n: number;
  bf: number;
  sf: number;
  pf: number;
}

export interface FidelityWindow {
  days: number;
  n: number;
  bf: number | null;
  sf: number | null;
  pf: number | null;
}

export type BucketDimension = 'scanner' | 'ecosystem' | 'policy_set' | 'base_os';

export interface DashboardData {
  now: string;
  /** 30 and 90 days. */
  windows: FidelityWindow[];
  /** Per day, oldest first, for sparklines. */
  trend: FidelityPoint[];
  gate: { state: 'green' | 'warn' | 'fail'; reasons: string[] };
  offenders: Array<{ dimension: BucketDimension; bucket: string; n: number; bf: number }>;
  /** Buckets with replays in the window but fewer than the gate's minimum: shown, not gated. */
  small?: Array<{ dimension: BucketDimension; bucket: string; n: number; bf: number | null; min: number }>;
  /** Every cause, zeros included, over the last `causeWindowDays` days. */
  causes: Array<{ reason: MismatchReason; n: number }>;
  causeWindowDays?: number;
  counts: { replays: number; failing: number; errors: number };
}


/** A replay as the ingester hands it over (already validated): the detail minus what the store derives. */
export type ReplayIn = Omit<ReplayDetail, 'human_tag' | 'tag' | 'evidence'> & {
  record_sha256: string;
  /** replay.json `mode`: 'pinned' (production) or 'what-if:…' (bisect, canary); default 'pinned'. */
  mode?: string;
};

/** Which replays a rollup read counts: production (pinned) ones by default, or every mode. */
export interface RollupScope {
  includeWhatIf?: boolean;
}

export interface ScanIn {
  scan_id: string;
  created_at: string;
  manifest_sha256: string;
  scanner_version: string;
  ecosystem: string;
  base_os: string;
  project: string;
  regulated: boolean;
  policy_set: string;
  feed_digest: string;
  policy_digest: string;
  record_dir: string | null;
  manifest: unknown;
  artifacts: Array<{ name: string; path: string; canonical_sha256: string; raw_sha256: string | null; schema: string; bytes: number }>;
}

export type IngestOutcome = 'inserted' | 'updated' | 'unchanged';

/** An indexed original scan, as the workstation's diffs need it. */
export interface ScanSummary {
  scan_id: string;
  record_dir: string | null;
  manifest: unknown;
}

export interface ReplayStore {
  countReplays(filter: ReplayFilter): Promise<{ total: number; failing: number }>;
  pageReplays(req: PageRequest): Promise<Page>;
  getReplay(id: string): Promise<ReplayDetail | null>;
  getScan(scanId: string): Promise<ScanSummary | null>;
  idsMatching(filter: ReplayFilter): Promise<string[]>;
  /**
   * One transaction; one tag_events row per replay whose tag changed. Passing replays among `ids` are
   * left untouched and counted (`skipped_passing`); an id not in the index changes nothing and throws.
   */
  retag(ids: string[], tag: MismatchReason, opts: { who: string; at: string; note?: string }): Promise<RetagResult>;
  /** Undo the newest batch not yet undone; restores the previous human tags exactly. */
  undoLastRetag(opts: { who: string; at: string }): Promise<{ batch_id: string; restored: number } | null>;
  /** The audit trail (of one replay, or all), oldest event first (`event_id` order). */
  tagEvents(replayId?: string): Promise<TagEvent[]>;
  /**
   * The standing event that set the replay's current human tag (who, when, note): its newest event not
   * undone whose new tag is the human tag, by `at` (ties by batch id, as a merge decides). Null when the
   * replay has no human tag, no audit row explains it, or the replay is not in the index.
   */
  humanTagEvent(replayId: string): Promise<TagEvent | null>;
  /**
   * Merge events recorded elsewhere, in one transaction: an event already here (same batch and replay)
   * is skipped; every other is kept; a replay's human tag becomes that of its latest event by `at`
   * (ties by batch id), so two people retagging one replay keep both events and the later wins.
   */
  mergeTagEvents(events: readonly TagEventIn[]): Promise<TagMerge>;
  /**
   * Merge undos recorded elsewhere, in one transaction: each named event still standing here is marked
   * undone (by the undo's who and at) and its replay's human tag becomes that of its latest event still
   * standing (by `at`, ties by batch id; none: no human tag), the rule merged events follow. Events
   * already undone or not held here are skipped. Returns how many were undone.
   */
  mergeTagUndos(undos: readonly TagUndoIn[]): Promise<{ undone: number }>;
  /** Ingest records in one transaction; the rollup and the list counts move with them. */
  ingest(batch: { scans: ScanIn[]; replays: ReplayIn[] }): Promise<{ scans: IngestOutcome[]; replays: IngestOutcome[] }>;
  /** Rollup sums per (dim, bucket) over a day range (null = all time), optionally only some dimensions. */
  rollup(range: DayRange | null, dims?: readonly RollupDim[], scope?: RollupScope): Promise<BucketCounts[]>;
  /** Rollup cells of one dimension per day over a range. */
  rollupCells(range: DayRange, dim: RollupDim, scope?: RollupScope): Promise<RollupCell[]>;
  /**
   * The sampler's candidates: scans created at or after `createdFrom` (RFC 3339 text order; the sampler
   * decides the exact window) plus the scans named in `alsoIds` (canaries), each with the finished_at of
   * its newest replay. Sorted by scan_id. `canary` is left unset: the caller knows its canary set.
   */
  sampleCandidates(createdFrom: string, alsoIds?: readonly string[]): Promise<SampleCandidate[]>;
  /**
   * The same scans placed by `bounds` (src/core/sample `SampleBounds`): ids in groups where the bounds
   * decide them, the others (and the scans named in `alsoIds`) as candidates; `sampleGrouped` over it
   * gives what `sampleScans` gives over `sampleCandidates`, with a few hundred rows on the wire.
   */
  sampleGroups(bounds: SampleBounds, alsoIds?: readonly string[]): Promise<{ groups: SampleGroup[]; candidates: SampleCandidate[] }>;
  /** Record directories of every indexed scan and replay (for `stella gc`), sorted, without nulls. */
  recordDirs(): Promise<string[]>;
  /** Every digest the index references (feeds, policies, manifests, artifacts; for `stella gc`), sorted. */
  referencedDigests(): Promise<string[]>;
  integrityCheck(): Promise<string>;
  close(): Promise<void>;
}

/** The file writes a record directory needs (node:fs by default); the only way records reach disk. */
export interface RecordFs {
  mkdir(dir: string): void;
  writeFile(file: string, data: string | Uint8Array): void;
}
