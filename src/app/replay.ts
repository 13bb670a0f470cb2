// `replay`: run a recorded scan again from its manifest, with every input resolved by digest, through an
// executor (Docker by default), and write a replay record beside the evidence of how it ran (SPEC §3, §4).
//
// What is an error and what is a record: problems with the request itself (unreadable or tampered
// manifest, bad --what-if, unreachable engine) throw a StellaError and write nothing. Problems of the
// replay (a pinned blob or image that cannot be found, a scanner that crashes or hangs) produce a
// record with status `error` and a message naming the digest and how to restore it — a batch keeps
// going, and the index counts them.
import path from 'node:path';

import { StellaError, isStellaError } from '../core/errors.js';
import { DIGEST_RE, type Digest, type ExecutorEnvironment, type Outputs, type ReplayRecord, type ScanManifest } from '../core/formats.js';
import { manifestSha256 } from '../core/manifest/index.js';
import type { Executor, OnEvent } from '../core/ports.js';
import type { BlobStore } from '../adapters/blob-store.js';
import { parseOutCap } from '../adapters/docker/confined-output.js';
import { isPresent, readRecordManifest } from './manifest-file.js';
import { classifiedFields, compareLoaded } from './compare.js';
import { loadRecord, recordFromMemory, writeRecordDir, type ScanRecord } from './record.js';
import { buildReplayRecord, effectiveManifest, modeOf, replayIdOf, type ClassifiedFields, type WhatIf, type WhatIfKey } from '../core/record/index.js';
import type { RecordFs } from '../core/ports.js';
import { DEFAULT_TIMEOUT_MS, executeScanner, type RecordedRuntime } from './execute-scanner.js';
import { computeOutputs } from '../core/record/outputs.js';
import { errorText } from '../core/errors.js';

export { parseWhatIf, effectiveManifest, compareOutputs, type WhatIf, type WhatIfKey } from '../core/record/index.js';
export { replayIdOf as replayId } from '../core/record/index.js';

export interface ReplayOptions {
  manifestPath: string;
  /** Parent directory; the record is written to `<outDir>/<replay_id>/`. */
  outDir: string;
  executor: Executor;
  whatIf?: WhatIf;
  timeoutMs?: number;
  memoryBytes?: number;
  blobs: BlobStore;
  /** Injected clock for started_at/finished_at (and so the replay id). */
  now: () => Date;
  onEvent?: OnEvent;
  env?: NodeJS.ProcessEnv;
  /** Docker: make the image available in the engine (load from the store); throws IMAGE_MISSING. */
  prepareImage?: (imageId: Digest) => Promise<unknown>;
  signal?: AbortSignal;
  /** Where the record's files are written (default: node:fs); tests count writes through it. */
  fs?: RecordFs;
  /** The executor environment to re-create (`stella repro`: the recorded tz, locale, cpus, fault seed). */
  runtime?: RecordedRuntime;
}

export interface ReplayResult {
  record: ReplayRecord;
  /** Where the record was written; null when the replay was aborted (nothing is kept). */
  dir: string | null;
}

export { DEFAULT_MEMORY_BYTES, DEFAULT_TIMEOUT_MS, executeScanner, type ExecuteOptions, type ScannerRun } from './execute-scanner.js';

/** Refuse to replay what the manifest does not pin, unless the user named the replacement. */
function requirePinned(m: ScanManifest, w: WhatIf, kind: string, file: string): void {
  const checks: Array<[WhatIfKey, string, string, boolean]> = [
    ['feed', m.feeds.vuln_feed_bundle_digest, '$.feeds.vuln_feed_bundle_digest', true],
    ['policy', m.policy.policy_bundle_digest, '$.policy.policy_bundle_digest', true],
    ['scanner', m.scanner.scanner_image_digest, '$.scanner.scanner_image_digest', kind === 'docker'],
  ];
  for (const [key, value, at, needed] of checks) {
    if (!needed || DIGEST_RE.test(value) || w[key]) continue;
    throw new StellaError(
      'MANIFEST_INVALID',
      `${key} is not pinned (${JSON.stringify(value)}): replaying it would silently use whatever is current; pass --what-if ${key}=sha256:… to replay against a specific ${key === 'scanner' ? 'image' : 'bundle'} (the replay is then classified external_io)`,
      { file, path: at },
    );
  }
}

/**
 * The original record beside the manifest, when it has outputs.json: read before anything runs, by the
 * rules every record reader shares (no links, paths inside the record, I-JSON), so a bad original
 * is refused with its file and JSON path and nothing is written.
 */
function readOriginal(manifestPath: string): ScanRecord | null {
  const dir = path.dirname(manifestPath);
  if (!isPresent(path.join(dir, 'outputs.json'))) return null;
  return loadRecord(dir);
}

export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  const whatIf = opts.whatIf ?? {};
  const { manifest, bytes: manifestBytes, signature } = readRecordManifest(opts.manifestPath, { env: opts.env });
  requirePinned(manifest, whatIf, opts.executor.kind, opts.manifestPath);
  const originalRecord = readOriginal(opts.manifestPath);
  const original = originalRecord?.outputs ?? null;
  const mSha = manifestSha256(manifest);
  const startedAt = opts.now().toISOString();
  const id = replayIdOf(mSha, opts.executor.kind, whatIf, startedAt);
  const effective = effectiveManifest(manifest, whatIf);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  opts.onEvent?.({ kind: 'start', id, label: manifest.scan_id });
  const identity = { replay_id: id, original_scan_id: manifest.scan_id, manifest_sha256: mSha, mode: modeOf(whatIf), started_at: startedAt };

  const run = await executeScanner({
    id,
    manifest: effective,
    executor: opts.executor,
    blobs: opts.blobs,
    timeoutMs,
    memoryBytes: opts.memoryBytes,
    outputCapBytes: parseOutCap(opts.env?.STELLA_OUT_CAP, 'STELLA_OUT_CAP'),
    prepareImage: opts.prepareImage,
    signal: opts.signal,
    onEvent: opts.onEvent,
    ...(opts.runtime ? { runtime: opts.runtime } : {}),
  });
  if (run.aborted) {
    opts.onEvent?.({ kind: 'finish', id, status: 'error', label: 'aborted' });
    const record = buildReplayRecord({ ...identity, finished_at: opts.now().toISOString(), executor: run.environment, outputs: null, original, failure: 'aborted' });
    return { record, dir: null };
  }
  const artifacts = run.artifacts;
  let outputs: Outputs | null = null;
  let failure = run.failure;
  if (artifacts) {
    try {
      outputs = computeOutputs(artifacts);
    } catch (e) {
      failure = errorText(e);
    }
  }
  // The executor freezes the clock; the manifest says how the original got it (or the clock what-if).
  // The fault switches it ran with, and the seed they drew from, are part of how it ran.
  const executor = {
    ...run.environment,
    clock_mode: effective.environment.clock_mode,
    clock_value: effective.environment.clock_value,
    ...runtimeFacts(effective, opts.runtime),
  };
  const input = {
    ...identity,
    finished_at: opts.now().toISOString(),
    executor,
    outputs,
    original,
    failure,
    noOriginal: `no original outputs.json next to ${opts.manifestPath}: the replay's artifacts are kept but there is nothing to compare them with`,
  };
  let record = buildReplayRecord(input);
  const target = path.join(opts.outDir, id);
  if (record.bf_match !== null && artifacts && outputs) {
    // The full comparison runs on what this replay holds in memory, against the original on disk.
    const replayed = recordFromMemory(target, effective, outputs, artifacts, record);
    record = buildReplayRecord({ ...input, classified: originalRecord ? await classifyAgainstOriginal(originalRecord, replayed, opts.blobs) : undefined });
  }
  // Written once: every file of the record, then the directory goes live.
  await writeRecordDir(
    target,
    {
      manifest: manifestBytes,
      ...(signature ? { signature } : {}),
      ...(artifacts && outputs ? { artifacts, outputs } : {}),
      replay: record,
    },
    opts.fs,
  );
  opts.onEvent?.({ kind: 'finish', id, status: record.status, label: manifest.scan_id });
  return { record, dir: target };
}

/** `scanner_flags` (when any) and `fault_seed` (when one was given) for the record's executor. */
export function runtimeFacts(m: ScanManifest, runtime?: RecordedRuntime): Pick<ExecutorEnvironment, 'scanner_flags' | 'fault_seed'> {
  return {
    ...(m.scanner.flags.length ? { scanner_flags: [...m.scanner.flags] } : {}),
    ...(runtime?.faultSeed !== undefined ? { fault_seed: runtime.faultSeed } : {}),
  };
}

/**
 * SF/PF, mismatch reason, subtags, evidence summary from the diff + classifier core, against the
 * original read (and refused when bad) before the run. A comparison that cannot be made says why instead.
 */
async function classifyAgainstOriginal(
  original: ScanRecord,
  replayed: ScanRecord,
  blobs: BlobStore,
): Promise<{ fields: ClassifiedFields; warnings: string[] } | { error: string }> {
  try {
    const r = await compareLoaded(original, replayed, { blobs, force: true });
    return { fields: classifiedFields(r), warnings: r.comparison.warnings };
  } catch (e) {
    return { error: errorText(e) };
  }
}

export interface BatchItem {
  manifestPath: string;
  result?: ReplayResult;
  error?: string;
}

/**
 * Many replays with bounded concurrency. Stops starting new work when `signal` aborts; replays already
 * written stay on disk. A per-manifest problem is reported on its item; an unreachable engine stops all.
 */
export async function replayBatch(
  manifests: readonly string[],
  concurrency: number,
  one: (manifestPath: string) => Promise<ReplayResult>,
  opts: { signal?: AbortSignal; onEvent?: OnEvent } = {},
): Promise<BatchItem[]> {
  const items: BatchItem[] = manifests.map((m) => ({ manifestPath: m }));
  let next = 0;
  let done = 0;
  let fatal: unknown = null;
  opts.onEvent?.({ kind: 'start', id: 'batch', total: items.length, label: 'replays' });
  const worker = async () => {
    while (next < items.length && !opts.signal?.aborted && fatal === null) {
      const item = items[next++];
      try {
        item.result = await one(item.manifestPath);
      } catch (e) {
        if (isStellaError(e) && e.code === 'ENGINE_UNREACHABLE') fatal = e;
        item.error = errorText(isStellaError(e) ? e.withFile(item.manifestPath) : e);
      }
      done++;
      opts.onEvent?.({ kind: 'progress', id: 'batch', done, total: items.length, label: path.basename(path.dirname(item.manifestPath)) });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (fatal) throw fatal;
  return items;
}
