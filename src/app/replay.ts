// `replay`: run a recorded scan again from its manifest, with every input resolved by digest, through an
// executor (Docker by default), and write a replay record beside the evidence of how it ran (SPEC §3, §4).
//
// What is an error and what is a record: problems with the request itself (unreadable or tampered
// manifest, bad --what-if, unreachable engine) throw a StellaError and write nothing. Problems of the
// replay (a pinned blob or image that cannot be found, a scanner that crashes or hangs) produce a
// record with status `error` and a message naming the digest and how to restore it — a batch keeps
// going, and the index counts them.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { makeTempDir } from '../adapters/temp.js';
import { readRecordFile } from '../adapters/fs.js';
import { parseOutCap } from '../adapters/docker/confined-output.js';
import path from 'node:path';
import { canonicalDigest } from '../core/canonical/jcs.js';
import { StellaError, isStellaError } from '../core/errors.js';
import {
  ARTIFACT_NAMES,
  ARTIFACT_PATHS,
  DIGEST_RE,
  type ArtifactName,
  type Digest,
  type ExecutorEnvironment,
  type Outputs,
  type ReplayRecord,
  type ScanManifest,
} from '../core/formats.js';
import { manifestSha256 } from '../core/manifest/index.js';
import type { ExecJob, Executor, OnEvent } from '../core/ports.js';
import type { BlobStore } from '../adapters/blob-store.js';
import { writeDirAtomic, readJsonFile } from '../adapters/fs.js';
import { readVerifiedManifest } from './manifest-file.js';
import { classifiedFields, compareDirs } from './compare.js';

export type WhatIfKey = 'feed' | 'policy' | 'scanner';
export type WhatIf = Partial<Record<WhatIfKey, Digest>>;

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

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_MEMORY_BYTES = 2 * 1024 * 1024 * 1024;

/** Where the pieces are mounted in the container (the local executor maps them back to host paths). */
const MOUNT = { manifest: '/job/manifest.json', feed: '/feed/bundle.tar.zst', policy: '/policy/policy.json', inputDir: '/in', out: '/out' } as const;

/** `feed=sha256:…` / `policy=…` / `scanner=…` → overrides; anything else is a usage error. */
export function parseWhatIf(values: readonly string[]): WhatIf {
  const out: WhatIf = {};
  for (const v of values) {
    const m = /^(feed|policy|scanner)=(.*)$/.exec(v);
    if (!m) throw new StellaError('USAGE', `--what-if ${v}: expected feed=DIGEST, policy=DIGEST or scanner=IMAGE_ID`);
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

type ScanModule = { computeOutputs: (artifactBytes: Record<ArtifactName, Buffer>) => Outputs };

/** outputs.json is the scan engineer's format: reuse their writer so originals and replays hash alike. */
async function computeOutputs(artifacts: Record<ArtifactName, Buffer>): Promise<Outputs> {
  const mod = (await import('./scan.js')) as unknown as ScanModule;
  return mod.computeOutputs(artifacts);
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

interface Resolved {
  mounts: ExecJob['readOnlyMounts'];
  inputName: string;
}

/** Every pinned blob, by digest; the first one missing (or corrupt) is the replay's error. */
function resolveBlobs(m: ScanManifest, blobs: BlobStore): Resolved {
  const inputName = safeName(path.posix.basename(m.input.ref.replace(/\\/g, '/')) || 'input');
  const need: Array<[string, string, string, string]> = [
    [m.input.digest, `${MOUNT.inputDir}/${inputName}`, `input ${m.input.ref}`, '$.input.digest'],
    [m.feeds.vuln_feed_bundle_digest, MOUNT.feed, 'vulnerability feed bundle', '$.feeds.vuln_feed_bundle_digest'],
    [m.policy.policy_bundle_digest, MOUNT.policy, 'policy bundle', '$.policy.policy_bundle_digest'],
  ];
  const mounts: ExecJob['readOnlyMounts'] = [];
  for (const [digest, containerPath, what, field] of need) {
    const restore = `restore it with \`stella blob put FILE\`${what.startsWith('vuln') ? ' or `stella feed snapshot`' : what.startsWith('policy') ? ' or `stella policy bundle`' : ''}, or point STELLA_HOME at the store that has it`;
    if (!blobs.has(digest)) {
      throw new StellaError('BLOB_MISSING', `${what} ${digest} (pinned by ${field}) is not in the blob store (${blobs.root}); ${restore}`, { path: field });
    }
    try {
      mounts.push({ hostPath: blobs.pathOf(digest), containerPath });
    } catch (e) {
      if (!isStellaError(e) || e.code !== 'BLOB_CORRUPT') throw e;
      throw new StellaError('BLOB_CORRUPT', `${what} ${digest} (pinned by ${field}) is damaged in the blob store: ${e.message.replace(/;( remove it and)? restore the blob from its source$/, '')}; delete ${e.file ?? blobs.location(digest)} and ${restore}`, { path: field }, { cause: e });
    }
  }
  return { mounts, inputName };
}

function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return s === '.' || s === '..' ? 'input' : s;
}

function errorText(e: unknown): string {
  return isStellaError(e) ? e.oneLine() : (e as Error)?.message ?? String(e);
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
    outputCapBytes: parseOutCap(opts.env?.STELLA_OUT_CAP, 'STELLA_OUT_CAP'),
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
      outputs = await computeOutputs(artifacts);
    } catch (e) {
      failure = errorText(e);
    }
  }
  const env = { ...run.environment };
  // The executor freezes the clock; the manifest says how the original got it.
  env.clock_mode = manifest.environment.clock_mode;
  env.clock_value = manifest.environment.clock_value;
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

export interface ScannerRun {
  environment: ExecutorEnvironment;
  /** The four artifacts, when the scanner exited 0 and wrote them all. */
  artifacts: Record<ArtifactName, Buffer> | null;
  /** Why there are no artifacts: a missing blob or image, a timeout, a crash. */
  failure: string | null;
  aborted: boolean;
}

export interface ExecuteOptions {
  /** Job label (replay id, scan id). */
  id: string;
  /** The manifest the scanner runs under (what-if overrides already applied). */
  manifest: ScanManifest;
  executor: Executor;
  blobs: BlobStore;
  timeoutMs?: number;
  memoryBytes?: number;
  /** Size of the writable output mount (docker). */
  outputCapBytes?: number;
  prepareImage?: (imageId: Digest) => Promise<unknown>;
  signal?: AbortSignal;
  onEvent?: OnEvent;
}

/**
 * One scanner run through an executor with every input resolved from the blob store by digest: the
 * path replays take, and `stella scan --executor docker` for original scans. Throws only when the
 * engine is unreachable; every other problem comes back as `failure`.
 */
export async function executeScanner(o: ExecuteOptions): Promise<ScannerRun> {
  const m = o.manifest;
  const imageId = m.scanner.scanner_image_digest as Digest;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const job: ExecJob = {
    id: o.id,
    readOnlyMounts: [],
    outputDir: '',
    args: [],
    env: { TZ: m.environment.tz, LANG: m.environment.locale, LC_ALL: m.environment.locale },
    // Recorded clocks are replayed frozen at the recorded value: the only clock the scan saw.
    frozenClock: m.environment.clock_value,
    cpus: m.environment.cpus,
    memoryBytes: o.memoryBytes ?? DEFAULT_MEMORY_BYTES,
    timeoutMs,
    ...(o.outputCapBytes ? { outputCapBytes: o.outputCapBytes } : {}),
    ...(o.executor.kind === 'docker' ? { imageId } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
  const work = makeTempDir('stella-run-');
  let environment: ExecutorEnvironment | null = null;
  let failure: string | null = null;
  let artifacts: Record<ArtifactName, Buffer> | null = null;
  let aborted = false;
  try {
    const resolved = resolveBlobs(m, o.blobs);
    if (o.executor.kind === 'docker' && o.prepareImage) await o.prepareImage(imageId);
    const manifestFile = path.join(work, 'manifest.json');
    writeFileSync(manifestFile, JSON.stringify(m, null, 2) + '\n', { mode: 0o644 });
    const outDir = path.join(work, 'out');
    mkdirSync(outDir);
    job.readOnlyMounts = [{ hostPath: manifestFile, containerPath: MOUNT.manifest }, ...resolved.mounts];
    job.outputDir = outDir;
    const input = resolved.mounts[0].containerPath;
    job.args = ['--manifest', MOUNT.manifest, '--input', input, '--feed', MOUNT.feed, '--policy', MOUNT.policy, '--out', MOUNT.out];
    const res = await o.executor.run(job, o.onEvent);
    environment = res.environment;
    if (res.aborted) aborted = true;
    else if (res.timedOut) failure = `scanner did not finish within ${fmtSeconds(timeoutMs)} and was killed (REPLAY_TIMEOUT); raise --timeout if the scan is just slow`;
    else if (res.outputRefused) failure = res.outputRefused;
    else if (res.oomKilled) failure = `scanner was killed for running out of memory (OOM: the engine's limit is ${job.memoryBytes} bytes, ${Math.round(job.memoryBytes / 1048576)} MiB); the scan needs more memory than the replay allows`;
    else if (res.exitCode !== 0) failure = `scanner exited with ${res.exitCode}: ${lastLine(res.stderr) || lastLine(res.stdout) || 'no output'}`;
    else artifacts = readArtifacts(outDir);
  } catch (e) {
    if (isStellaError(e) && e.code === 'ENGINE_UNREACHABLE') throw e;
    failure = errorText(e);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return {
    environment: environment ?? o.executor.environment?.(job) ?? notRunEnvironment(o.executor.kind, job, imageId),
    artifacts,
    failure,
    aborted,
  };
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

function readArtifacts(outDir: string): Record<ArtifactName, Buffer> {
  const out = {} as Record<ArtifactName, Buffer>;
  for (const n of ARTIFACT_NAMES) {
    const f = path.join(outDir, ARTIFACT_PATHS[n]);
    if (!existsSync(f)) throw new StellaError('RECORD_INVALID', `scanner exited 0 but did not write ${ARTIFACT_PATHS[n]}`, { file: f });
    // Only a regular file with one link, opened without following links, is taken back.
    out[n] = readRecordFile(outDir, ARTIFACT_PATHS[n], { file: f });
  }
  return out;
}

/** When nothing ran (a blob was missing), record what would have run. */
function notRunEnvironment(kind: Executor['kind'], job: ExecJob, imageId: string): ExecutorEnvironment {
  return {
    kind,
    image_digest: kind === 'docker' ? imageId : null,
    network: kind === 'docker' ? 'none' : 'unknown',
    read_only: kind === 'docker',
    user: kind === 'docker' ? '65534:65534' : 'unknown',
    tz: job.env.TZ,
    locale: job.env.LC_ALL,
    clock_mode: 'frozen',
    clock_value: job.frozenClock ?? '',
    cpus: job.cpus,
    arch: 'unknown',
    os: 'unknown',
    kernel: 'unknown',
    engine_version: null,
    assurance: kind === 'docker' ? 'high' : 'low',
  };
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}

function fmtSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
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
