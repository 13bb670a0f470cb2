// `replay`: run a recorded scan again from its manifest, with every input resolved by digest, through an
// executor (Docker by default), and write a replay record beside the evidence of how it ran (SPEC §3, §4).
//
// What is an error and what is a record: problems with the request itself (unreadable or tampered
// manifest, bad --what-if, unreachable engine) throw a StellaError and write nothing. Problems of the
// replay (a pinned blob or image that cannot be found, a scanner that crashes or hangs) produce a
// record with status `error` and a message naming the digest and how to restore it — a batch keeps
// going, and the index counts them.
import { existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalDigest } from '../core/canonical/jcs.js';
import { StellaError, isStellaError } from '../core/errors.js';
import { ARTIFACT_NAMES, ARTIFACT_PATHS, DIGEST_RE, type Digest, type Outputs, type ReplayRecord, type ScanManifest } from '../core/formats.js';
import { manifestSha256 } from '../core/manifest/index.js';
import type { Executor, OnEvent } from '../core/ports.js';
import type { BlobStore } from '../adapters/blob-store.js';
import { writeDirAtomic, readJsonFile } from '../adapters/fs.js';
import { readVerifiedManifest } from './manifest-file.js';
import { classifiedFields, compareDirs } from './compare.js';
import { DEFAULT_TIMEOUT_MS, executeScanner } from './execute-scanner.js';
import { computeOutputs } from '../core/record/outputs.js';
import { errorText } from '../core/errors.js';
import { RFC3339 } from '../core/guards.js';

export type WhatIfKey = 'feed' | 'policy' | 'scanner';
/** Overrides of the recorded executor environment: the time zone, locale, CPU count and frozen clock. */
export type EnvWhatIfKey = 'tz' | 'locale' | 'cpus' | 'clock';
export type WhatIf = Partial<Record<WhatIfKey, Digest>> & Partial<Record<EnvWhatIfKey, string>>;

const ENV_WHAT_IF: Record<EnvWhatIfKey, { re: RegExp; expect: string; ok?: (v: string) => boolean }> = {
  tz: { re: /^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/, expect: 'an IANA time zone such as America/New_York' },
  locale: { re: /^[A-Za-z][A-Za-z0-9_.@\-]*$/, expect: 'a locale such as C.UTF-8 or de_DE.UTF-8' },
  cpus: { re: /^[1-9][0-9]{0,3}$/, expect: 'a CPU count from 1 to 9999' },
  clock: { re: RFC3339, expect: 'an RFC 3339 instant such as 2025-12-12T10:15:30Z', ok: (v) => !Number.isNaN(Date.parse(v)) },
};

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
}

export interface ReplayResult {
  record: ReplayRecord;
  /** Where the record was written; null when the replay was aborted (nothing is kept). */
  dir: string | null;
}

export { DEFAULT_MEMORY_BYTES, DEFAULT_TIMEOUT_MS, executeScanner, type ExecuteOptions, type ScannerRun } from './execute-scanner.js';

/** `feed=sha256:…` / `policy=…` / `scanner=…` → overrides; anything else is a usage error. */
export function parseWhatIf(values: readonly string[]): WhatIf {
  const out: WhatIf = {};
  for (const v of values) {
    const e = /^(tz|locale|cpus|clock)=(.*)$/.exec(v);
    if (e) {
      const key = e[1] as EnvWhatIfKey;
      const rule = ENV_WHAT_IF[key];
      if (!rule.re.test(e[2]) || (rule.ok && !rule.ok(e[2]))) throw new StellaError('USAGE', `--what-if ${v}: expected ${key}= ${rule.expect}`);
      if (out[key] !== undefined && out[key] !== e[2]) throw new StellaError('USAGE', `--what-if ${key} given twice with different values`);
      out[key] = e[2];
      continue;
    }
    const m = /^(feed|policy|scanner)=(.*)$/.exec(v);
    if (!m) throw new StellaError('USAGE', `--what-if ${v}: expected feed=DIGEST, policy=DIGEST, scanner=IMAGE_ID, tz=ZONE, locale=LOCALE, cpus=N or clock=RFC3339`);
    const key = m[1] as WhatIfKey;
    if (!DIGEST_RE.test(m[2])) throw new StellaError('DIGEST_INVALID', `--what-if ${key}=${m[2]}: not a digest (sha256: followed by 64 lowercase hex)`);
    if (out[key] && out[key] !== m[2]) throw new StellaError('USAGE', `--what-if ${key} given twice with different digests`);
    out[key] = m[2] as Digest;
  }
  return out;
}

function whatIfText(w: WhatIf): string {
  return (Object.keys(w) as WhatIfKey[])
    .sort()
    .map((k) => `${k}=${w[k]}`)
    .join(',');
}

/**
 * replay_id = rpl_ + 16 hex of sha256 over the identity tuple (manifest, executor kind, overrides,
 * start time). Left out on purpose: the output directory and the host — the same replay written to
 * two places is the same replay.
 */
export function replayId(manifestSha: Digest, kind: string, whatIf: WhatIf, startedAt: string): string {
  const d = canonicalDigest({ manifest_sha256: manifestSha, executor: kind, what_if: whatIfText(whatIf), started_at: startedAt });
  return `rpl_${d.slice('sha256:'.length, 'sha256:'.length + 16)}`;
}

/** The manifest the scanner sees: the original with the what-if overrides applied. */
export function effectiveManifest(m: ScanManifest, w: WhatIf): ScanManifest {
  const copy = JSON.parse(JSON.stringify(m)) as ScanManifest;
  if (w.feed) copy.feeds.vuln_feed_bundle_digest = w.feed;
  if (w.policy) copy.policy.policy_bundle_digest = w.policy;
  if (w.scanner) copy.scanner.scanner_image_digest = w.scanner;
  if (w.tz !== undefined) copy.environment.tz = w.tz;
  if (w.locale !== undefined) copy.environment.locale = w.locale;
  if (w.cpus !== undefined) copy.environment.cpus = Number(w.cpus);
  if (w.clock !== undefined) {
    copy.environment.clock_mode = 'frozen';
    copy.environment.clock_value = w.clock;
  }
  return copy;
}

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

export interface Comparison {
  bf_match: boolean | null;
  warnings: string[];
}

/** BF = every artifact's canonical hash equal; raw-only differences become a warning (SPEC §1.3). */
export function compareOutputs(original: Outputs | null, replayed: Outputs): Comparison {
  if (!original) return { bf_match: null, warnings: [] };
  let bf = true;
  let rawDiffers = false;
  for (const name of ARTIFACT_NAMES) {
    const a = original[name];
    const b = replayed[name];
    if (!a || !b || a.canonical_sha256 !== b.canonical_sha256) bf = false;
    else if (a.raw_sha256 && b.raw_sha256 && a.raw_sha256 !== b.raw_sha256) rawDiffers = true;
  }
  return { bf_match: bf, warnings: bf && rawDiffers ? ['unstable_raw_order'] : [] };
}

function readOriginalOutputs(manifestPath: string): Outputs | null {
  const file = path.join(path.dirname(manifestPath), 'outputs.json');
  if (!existsSync(file)) return null;
  return readJsonFile(file) as Outputs;
}

export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  const whatIf = opts.whatIf ?? {};
  const manifest = readVerifiedManifest(opts.manifestPath, { env: opts.env });
  const manifestBytes = readFileSync(opts.manifestPath);
  const signature = path.join(path.dirname(opts.manifestPath), 'manifest.sig');
  requirePinned(manifest, whatIf, opts.executor.kind, opts.manifestPath);
  const original = readOriginalOutputs(opts.manifestPath);
  const mSha = manifestSha256(manifest);
  const startedAt = opts.now().toISOString();
  const id = replayId(mSha, opts.executor.kind, whatIf, startedAt);
  const effective = effectiveManifest(manifest, whatIf);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  opts.onEvent?.({ kind: 'start', id, label: manifest.scan_id });

  const base: Omit<ReplayRecord, 'executor' | 'finished_at' | 'status' | 'bf_match' | 'artifacts'> = {
    replay_id: id,
    original_scan_id: manifest.scan_id,
    manifest_sha256: mSha,
    mode: Object.keys(whatIf).length ? `what-if:${whatIfText(whatIf)}` : 'pinned',
    started_at: startedAt,
    sf_match: null,
    pf_match: null,
    mismatch_reason: null,
    subtags: [],
    diff_summary: null,
  };
  const run = await executeScanner({
    id,
    manifest: effective,
    executor: opts.executor,
    blobs: opts.blobs,
    timeoutMs,
    memoryBytes: opts.memoryBytes,
    prepareImage: opts.prepareImage,
    signal: opts.signal,
    onEvent: opts.onEvent,
  });
  if (run.aborted) {
    opts.onEvent?.({ kind: 'finish', id, status: 'error', label: 'aborted' });
    return { record: { ...base, executor: run.environment, finished_at: opts.now().toISOString(), status: 'error', bf_match: null, artifacts: {}, error: 'aborted' }, dir: null };
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
  const env = { ...run.environment };
  // The executor freezes the clock; the manifest says how the original got it (or the clock what-if).
  env.clock_mode = effective.environment.clock_mode;
  env.clock_value = effective.environment.clock_value;
  const finishedAt = opts.now().toISOString();
  let record: ReplayRecord = { ...base, executor: env, finished_at: finishedAt, status: 'error', bf_match: null, artifacts: {}, error: failure ?? 'no outputs' };
  if (failure === null && outputs) {
    const cmp = compareOutputs(original, outputs);
    const arts: ReplayRecord['artifacts'] = {};
    for (const n of ARTIFACT_NAMES) arts[n] = { canonical_sha256: outputs[n].canonical_sha256 };
    record = {
      ...base,
      executor: env,
      finished_at: finishedAt,
      status: cmp.bf_match === null ? 'error' : cmp.bf_match ? 'passed' : 'failed',
      bf_match: cmp.bf_match,
      artifacts: arts,
      ...(cmp.warnings.length ? { warnings: cmp.warnings } : {}),
      ...(cmp.bf_match === null
        ? { error: `no original outputs.json next to ${opts.manifestPath}: the replay's artifacts are kept but there is nothing to compare them with` }
        : {}),
    };
  }
  const target = path.join(opts.outDir, id);
  await writeDirAtomic(target, async (tmp) => {
    writeFileSync(path.join(tmp, 'manifest.json'), manifestBytes);
    if (existsSync(signature)) copyFileSync(signature, path.join(tmp, 'manifest.sig'));
    const writeRecord = () => writeFileSync(path.join(tmp, 'replay.json'), JSON.stringify(specOrder(record), null, 2) + '\n');
    if (artifacts && outputs) {
      mkdirSync(path.join(tmp, 'artifacts'));
      for (const n of ARTIFACT_NAMES) writeFileSync(path.join(tmp, ARTIFACT_PATHS[n]), artifacts[n]);
      writeFileSync(path.join(tmp, 'outputs.json'), JSON.stringify(outputs, null, 2) + '\n');
    }
    writeRecord();
    if (record.bf_match !== null) {
      // The full comparison reads both records from disk (the replay one still in its temp dir), then
      // replay.json is rewritten with SF/PF, the cause and the diff summary before the dir goes live.
      record = await classifyAgainstOriginal(record, path.dirname(opts.manifestPath), tmp, opts.blobs);
      writeRecord();
    }
  });
  record = specOrder(record);
  opts.onEvent?.({ kind: 'finish', id, status: record.status, label: manifest.scan_id });
  return { record, dir: target };
}

/**
 * SF/PF, mismatch reason, subtags, evidence summary from the diff + classifier core. The BF verdict
 * stays the one computed from outputs.json; a comparison that cannot be made (an original record with
 * unreadable artifacts) leaves the rest null and says why in a warning.
 */
async function classifyAgainstOriginal(record: ReplayRecord, originalDir: string, replayDir: string, blobs: BlobStore): Promise<ReplayRecord> {
  try {
    const r = await compareDirs(originalDir, replayDir, { blobs, force: true });
    const warnings = [...new Set([...(record.warnings ?? []).filter((w) => w !== 'unstable_raw_order'), ...r.comparison.warnings])].sort();
    return {
      ...record,
      ...classifiedFields(r),
      status: r.comparison.bf.match ? 'passed' : 'failed',
      ...(warnings.length ? { warnings } : { warnings: undefined }),
    };
  } catch (e) {
    return { ...record, warnings: [...(record.warnings ?? []), `not classified: ${errorText(e)}`] };
  }
}

/** replay.json keys in the order SPEC §4 lists them, so records read the same everywhere. */
function specOrder(r: ReplayRecord): ReplayRecord {
  const keys: Array<keyof ReplayRecord> = [
    'replay_id', 'original_scan_id', 'manifest_sha256', 'mode', 'executor', 'started_at', 'finished_at', 'status',
    'bf_match', 'sf_match', 'pf_match', 'artifacts', 'mismatch_reason', 'subtags', 'diff_summary', 'classifier_version', 'warnings', 'error',
  ];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (r[k] !== undefined) out[k] = r[k];
  return out as unknown as ReplayRecord;
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
