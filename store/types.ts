// The store port: what the workstation and the CLI read and write. The SQLite implementation is
// store/sqlite-store.ts (`openStore`). Names here are a contract with the workstation; add, never rename.
import type { MismatchReason, ReplayStatus } from '../src/core/formats.js';

export interface ReplayRow {
  replay_id: string;
  original_scan_id: string;
  status: ReplayStatus;
  bf_match: boolean | null;
  sf_match: boolean | null;
  pf_match: boolean | null;
  /** The classifier's tag, never overwritten by humans. */
  auto_reason: MismatchReason | null;
  /** The latest human override, or null. */
  human_tag: MismatchReason | null;
  /** Effective tag = human_tag ?? auto_reason. */
  tag: MismatchReason | null;
  subtags: string[];
  started_at: string;
  finished_at: string;
  duration_ms: number | null;
  scanner_version: string;
  ecosystem: string;
  policy_set: string;
  base_os: string;
  project: string;
  feed_digest: string;
  regulated: boolean;
  executor_kind: string;
  record_dir: string | null;
}

export interface ReplayFilter {
  failingOnly?: boolean;
  causes?: MismatchReason[];
  /** Free text over id/project/scanner/ecosystem (case-insensitive substring). */
  text?: string;
  scanner?: string;
  ecosystem?: string;
  project?: string;
  policySet?: string;
}

export type ReplaySort = 'failing_first' | 'newest' | 'oldest' | 'cause' | 'project';

/** Keyset position: the sort key values of a row plus its id as the final tie-breaker. */
export interface Cursor {
  key: Array<string | number | null>;
  id: string;
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
  causes: Array<{ reason: MismatchReason; n: number }>;
  counts: { replays: number; failing: number; errors: number };
}

export interface ReplayStore {
  countReplays(filter: ReplayFilter): { total: number; failing: number };
  pageReplays(req: PageRequest): Page;
  getReplay(id: string): ReplayDetail | null;
  idsMatching(filter: ReplayFilter): string[];
  /** One transaction; one tag_events row per replay whose tag changed. */
  retag(ids: string[], tag: MismatchReason, opts: { who: string; at: string; note?: string }): { batch_id: string; changed: number };
  /** Undo the newest batch not yet undone; restores the previous human tags exactly. */
  undoLastRetag(opts: { who: string; at: string }): { batch_id: string; restored: number } | null;
  tagEvents(replayId?: string): TagEvent[];
  dashboard(now: Date): DashboardData;
  close(): void;
}
