// Interfaces the pure core and the use cases depend on; adapters implement them at the edge.
import type { Digest, ExecutorEnvironment, ExecutorKind } from './formats.js';

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
