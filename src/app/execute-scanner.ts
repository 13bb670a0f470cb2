// One scanner run through an executor, with every input resolved from the blob store by digest: the
// path replays take, and `stella scan --executor docker` for original scans.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { makeStoreTempDir, makeTempDir } from '../adapters/temp.js';
import { readRecordFile } from '../adapters/fs.js';
import path from 'node:path';
import { StellaError, errorText, isStellaError } from '../core/errors.js';
import { ARTIFACT_NAMES, ARTIFACT_PATHS, type ArtifactName, type Digest, type ExecutorEnvironment, type ScanManifest } from '../core/formats.js';
import type { ExecJob, Executor, OnEvent } from '../core/ports.js';
import type { BlobStore } from '../adapters/blob-store.js';

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_MEMORY_BYTES = 2 * 1024 * 1024 * 1024;

/** Where the pieces are mounted in the container (the local executor maps them back to host paths). */
const MOUNT = { manifest: '/job/manifest.json', feed: '/feed/bundle.tar.zst', policy: '/policy/policy.json', inputDir: '/in', out: '/out' } as const;

interface Resolved {
  mounts: ExecJob['readOnlyMounts'];
  inputName: string;
}

/** Every pinned blob, by digest; the first one missing (or corrupt) is the replay's error. */
function resolveBlobs(m: ScanManifest, blobs: BlobStore): Resolved {
  const inputName = safeName(path.posix.basename(m.input.ref.replace(/\\/g, '/')) || 'input');
  const need: Array<[string, string, string, string]> = [
    m.input.archive_digest
      ? [m.input.archive_digest, `${MOUNT.inputDir}/${inputName}`, `input ${m.input.ref}`, '$.input.archive_digest']
      : [m.input.digest, `${MOUNT.inputDir}/${inputName}`, `input ${m.input.ref}`, '$.input.digest'],
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
  /** A recorded runtime to re-create (`stella repro`): it wins over the manifest's environment. */
  runtime?: RecordedRuntime;
}

/** The executor environment a replay ran in, beside the manifest the scanner saw. */
export interface RecordedRuntime {
  tz?: string;
  locale?: string;
  cpus?: number;
  /** The seed the fault switches drew their clock and ids from. */
  faultSeed?: string;
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
    env: { TZ: o.runtime?.tz ?? m.environment.tz, LANG: o.runtime?.locale ?? m.environment.locale, LC_ALL: o.runtime?.locale ?? m.environment.locale },
    // Recorded clocks are replayed frozen at the recorded value: the only clock the scan saw.
    frozenClock: m.environment.clock_value,
    cpus: o.runtime?.cpus ?? m.environment.cpus,
    memoryBytes: o.memoryBytes ?? DEFAULT_MEMORY_BYTES,
    timeoutMs,
    ...(o.outputCapBytes ? { outputCapBytes: o.outputCapBytes } : {}),
    ...(o.executor.kind === 'docker' ? { imageId } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
  const work = engineVisibleTempDir(o.executor.kind, o.blobs, 'stella-run-');
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
    job.args = [
      ...['--manifest', MOUNT.manifest, '--input', input, '--feed', MOUNT.feed, '--policy', MOUNT.policy, '--out', MOUNT.out],
      ...(o.runtime?.cpus !== undefined ? ['--cpus', String(o.runtime.cpus)] : []),
      ...(o.runtime?.faultSeed !== undefined ? ['--fault-seed', o.runtime.faultSeed] : []),
    ];
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
 * A temp directory for what a Docker engine bind-mounts by host path (a run's manifest, the chaos
 * launcher). The engine may not see our $TMPDIR: systemd's PrivateTmp=, a pod whose /tmp is its own
 * emptyDir, any mount namespace of ours. It must see the store (the blobs are mounted from there), so
 * for docker it is in the store: `$STELLA_HOME/tmp/stella-<host>-<pid>-…/<prefix>…`.
 */
export function engineVisibleTempDir(kind: Executor['kind'], blobs: BlobStore, prefix: string): string {
  if (kind !== 'docker') return makeTempDir(prefix);
  try {
    return makeStoreTempDir(blobs.home, prefix);
  } catch (e) {
    const base = path.join(blobs.home, 'tmp');
    throw new StellaError('IO', `cannot stage the run under ${base} (${(e as Error).message}); the Docker engine bind-mounts what a run needs from the store, so STELLA_HOME must be writable`, { file: base }, { cause: e });
  }
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
