// `chaos`: replay one manifest under deliberately varied environments (reprotest-style: one variation
// at a time, then all combined) and name the variation that breaks BF. The manifest never changes; what
// changes is how the scanner process runs: TZ/LANG/LC_ALL and the CPU limit through the executor job,
// and, through a small launcher that runs before the scanner in the same process, extra environment
// variables, the umask, the CPU count the scanner sees and the order directory listings come back in.
import { mkdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import { canonicalizeArtifact, normalizeArtifact, rawDigest } from '../core/canonical/normalize.js';
import { StellaError, isStellaError } from '../core/errors.js';
import {
  ARTIFACT_NAMES,
  ARTIFACT_PATHS,
  ARTIFACT_SCHEMAS,
  type ArtifactName,
  type Digest,
  type ExecutorEnvironment,
  type Outputs,
  type ScanManifest,
} from '../core/formats.js';
import { manifestSha256 } from '../core/manifest/index.js';
import type { ExecJob, ExecResult, Executor, OnEvent } from '../core/ports.js';
import { parseJsonBytes } from '../core/json/parse.js';
import {
  buildChaosReport,
  executionOrder,
  planChaos,
  type ChaosReport,
  type PlannedRun,
  type RunOutcome,
  type RunOutputs,
  type RunReport,
  type RunSettings,
  type VariationName,
} from '../core/chaos/index.js';
import type { BlobStore } from '../adapters/blob-store.js';
import { writeDirAtomic } from '../adapters/fs.js';
import { IMAGE_PATHS } from '../adapters/docker/image-archive.js';
import { isPresent, readRecordManifest } from './manifest-file.js';
import { readOutputs } from './record.js';
import { executeScanner } from './replay.js';
import { engineVisibleTempDir } from './execute-scanner.js';
import { compareDirs, type CompareOptions } from './compare.js';

/** Where the launcher and its settings are mounted in the container (host paths for the local executor). */
const LAUNCHER_PATH = '/chaos/launch.mjs';

/**
 * Runs inside the scanner process before the scanner: applies one run's settings, then imports the
 * scanner entry with the arguments it would have had. Patching `fs`/`os` and re-syncing the builtin ESM
 * exports makes `import { readdirSync } from 'node:fs'` in the scanner see the patched functions.
 */
export const LAUNCHER_SOURCE = `// stella chaos launcher: apply the run's variation, then start the scanner.
import fs from 'node:fs';
import os from 'node:os';
import { syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';
const [node, , encoded, entry, ...args] = process.argv;
const s = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
for (const [k, v] of Object.entries(s.extra_env)) process.env[k] = v;
if (s.umask !== null) process.umask(parseInt(s.umask, 8));
const n = s.cpus;
os.availableParallelism = () => n;
const realCpus = os.cpus;
os.cpus = () => {
  const c = realCpus.call(os);
  const first = c[0] ?? { model: 'cpu', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
  return Array.from({ length: n }, (_, i) => c[i] ?? first);
};
if (s.reverse_readdir) {
  const rds = fs.readdirSync;
  fs.readdirSync = function (...a) { return rds.apply(fs, a).reverse(); };
  const rd = fs.readdir;
  fs.readdir = function (p, o, cb) {
    if (typeof o === 'function') { cb = o; o = undefined; }
    return rd.call(fs, p, o, (e, list) => cb(e, list ? list.reverse() : list));
  };
  const rdp = fs.promises.readdir;
  fs.promises.readdir = async (...a) => (await rdp.apply(fs.promises, a)).reverse();
}
syncBuiltinESMExports();
process.argv = [node, entry, ...args];
await import(pathToFileURL(entry).href);
`;

/** Decorates an executor: every job it runs gets one chaos run's settings. */
export class VariedExecutor implements Executor {
  readonly kind: Executor['kind'];

  constructor(
    private readonly inner: Executor,
    private readonly settings: RunSettings,
    private readonly launcherHostPath: string,
  ) {
    this.kind = inner.kind;
  }

  vary(job: ExecJob): ExecJob {
    const encoded = Buffer.from(JSON.stringify(this.settings), 'utf8').toString('base64');
    return {
      ...job,
      env: { TZ: this.settings.tz, LANG: this.settings.locale, LC_ALL: this.settings.locale },
      cpus: this.settings.cpus,
      frozenClock: this.settings.clock ?? job.frozenClock,
      readOnlyMounts: [...job.readOnlyMounts, { hostPath: this.launcherHostPath, containerPath: LAUNCHER_PATH }],
      entrypoint: [IMAGE_PATHS.node, LAUNCHER_PATH, encoded, IMAGE_PATHS.entry],
    };
  }

  run(job: ExecJob, onEvent?: OnEvent): Promise<ExecResult> {
    return this.inner.run(this.vary(job), onEvent);
  }

  environment(job: ExecJob): ExecutorEnvironment {
    const v = this.vary(job);
    return this.inner.environment
      ? this.inner.environment(v)
      : { kind: this.kind, image_digest: v.imageId ?? null, network: 'unknown', read_only: false, user: 'unknown', tz: v.env.TZ, locale: v.env.LC_ALL, clock_mode: 'frozen', clock_value: v.frozenClock ?? '', cpus: v.cpus, arch: 'unknown', os: 'unknown', kernel: 'unknown', engine_version: null, assurance: 'low' };
  }
}

export interface ChaosOptions {
  manifestPath: string;
  variations: readonly VariationName[];
  executor: Executor;
  blobs: BlobStore;
  prepareImage?: (imageId: Digest) => Promise<unknown>;
  timeoutMs?: number;
  /** Keep every run's record (and chaos.json) under this directory; written atomically at the end. */
  outDir?: string;
  env?: NodeJS.ProcessEnv;
  onEvent?: OnEvent;
  signal?: AbortSignal;
}

export interface ChaosResult {
  report: ChaosReport;
  dir: string | null;
}

/** Per artifact: canonical hash (BF) and the normalized document (for the diff), plus outputs.json. */
export function hashArtifacts(artifacts: Record<ArtifactName, Buffer>, where: string): { outputs: Outputs; run: RunOutputs } {
  const outputs = {} as Outputs;
  const run = { artifacts: {} } as RunOutputs;
  for (const n of ARTIFACT_NAMES) {
    const doc = parseJsonBytes(artifacts[n], path.join(where, ARTIFACT_PATHS[n]));
    const schema = ARTIFACT_SCHEMAS[n];
    const c = canonicalizeArtifact(schema, doc);
    outputs[n] = { path: ARTIFACT_PATHS[n], canonical_sha256: c.digest, raw_sha256: rawDigest(artifacts[n]), schema, bytes: artifacts[n].length };
    run.artifacts[n] = { canonical_sha256: c.digest, raw_sha256: rawDigest(artifacts[n]), doc: normalizeArtifact(schema, doc) };
  }
  return { outputs, run };
}

function originalHashes(manifestPath: string): Partial<Record<ArtifactName, Digest>> | null {
  const file = path.join(path.dirname(manifestPath), 'outputs.json');
  if (!isPresent(file)) return null;
  // By the rule every record reader shares: no link, I-JSON, digests and paths checked.
  const o = readOutputs(file);
  const out: Partial<Record<ArtifactName, Digest>> = {};
  for (const n of ARTIFACT_NAMES) out[n] = o[n].canonical_sha256;
  return out;
}

/** The classifier's tag for a varied run against the baseline. Runs that differ only in CPU count are
 * handed to it as repeats, so a CPU-dependent difference is tagged nondeterminism/concurrency. */
async function classifyRun(a: string, b: string, blobs: BlobStore, repeats?: CompareOptions['repeats']): Promise<RunReport['classification']> {
  const r = await compareDirs(a, b, { blobs, ...(repeats ? { repeats } : {}) });
  return { mismatch_reason: r.classification.mismatch_reason, subtags: r.classification.subtags, diff_summary: r.diff_summary };
}

function digestsOf(o: RunOutputs): Partial<Record<ArtifactName, string>> {
  const out: Partial<Record<ArtifactName, string>> = {};
  for (const n of ARTIFACT_NAMES) out[n] = o.artifacts[n].canonical_sha256;
  return out;
}

export async function chaos(opts: ChaosOptions): Promise<ChaosResult> {
  const { manifest, bytes: manifestBytes } = readRecordManifest(opts.manifestPath, { env: opts.env });
  const original = originalHashes(opts.manifestPath);
  const plan = planChaos(manifest, opts.variations);
  // The launcher is bind-mounted: staged where the engine sees it (the store), not in $TMPDIR.
  const work = engineVisibleTempDir(opts.executor.kind, opts.blobs, 'stella-chaos-');
  try {
    const launcher = path.join(work, 'launch.mjs');
    writeFileSync(launcher, LAUNCHER_SOURCE, { mode: 0o644 });
    const runsDir = path.join(work, 'runs');
    mkdirSync(runsDir);
    const outcomes = new Map<string, { outcome: RunOutcome; dir: string | null }>();
    const order = executionOrder(plan);
    opts.onEvent?.({ kind: 'start', id: 'chaos', total: order.length, label: manifest.scan_id });
    let done = 0;
    for (const run of order) {
      if (opts.signal?.aborted) throw new StellaError('IO', 'interrupted: chaos runs stopped, nothing written');
      outcomes.set(run.name, await runOnce(run, manifest, manifestBytes, runsDir, launcher, opts));
      opts.onEvent?.({ kind: 'progress', id: 'chaos', done: ++done, total: order.length, label: run.name });
    }
    const base = outcomes.get('baseline')!;
    const runs = [];
    for (const run of plan.runs) {
      const got = outcomes.get(run.name)!;
      let classification: RunReport['classification'] | undefined;
      if (base.dir && got.dir && base.outcome.kind === 'ok' && got.outcome.kind === 'ok' && !sameHashes(base.outcome.outputs, got.outcome.outputs)) {
        const repeats =
          run.name === 'cpus'
            ? [
                { cpus: plan.baseline.settings.cpus, digests: digestsOf(base.outcome.outputs) },
                { cpus: run.settings.cpus, digests: digestsOf(got.outcome.outputs) },
              ]
            : undefined;
        classification = await classifyRun(base.dir, got.dir, opts.blobs, repeats);
      }
      runs.push({ run, outcome: got.outcome, ...(classification ? { classification } : {}) });
    }
    const report = buildChaosReport({
      scan_id: manifest.scan_id,
      manifest_sha256: manifestSha256(manifest),
      baseline: { run: plan.baseline, outcome: base.outcome, original },
      runs,
    });
    opts.onEvent?.({ kind: 'finish', id: 'chaos', status: report.verdict === 'stable' ? 'passed' : report.verdict === 'unstable' ? 'failed' : 'error' });
    let dir: string | null = null;
    if (opts.outDir) {
      dir = path.resolve(opts.outDir);
      await writeDirAtomic(dir, (tmp) => {
        cpSync(runsDir, path.join(tmp, 'runs'), { recursive: true });
        writeFileSync(path.join(tmp, 'chaos.json'), JSON.stringify(report, null, 2) + '\n');
      });
    }
    return { report, dir };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function sameHashes(a: RunOutputs, b: RunOutputs): boolean {
  return ARTIFACT_NAMES.every((n) => a.artifacts[n].canonical_sha256 === b.artifacts[n].canonical_sha256);
}

async function runOnce(
  run: PlannedRun,
  manifest: ScanManifest,
  manifestBytes: Buffer,
  runsDir: string,
  launcher: string,
  opts: ChaosOptions,
): Promise<{ outcome: RunOutcome; dir: string | null }> {
  const executor = new VariedExecutor(opts.executor, run.settings, launcher);
  const res = await executeScanner({
    id: `chaos-${run.name}`,
    manifest,
    executor,
    blobs: opts.blobs,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.prepareImage ? { prepareImage: opts.prepareImage } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
  });
  if (res.aborted) throw new StellaError('IO', 'interrupted: chaos runs stopped, nothing written');
  if (!res.artifacts) return { outcome: { kind: 'error', error: res.failure ?? 'no outputs' }, dir: null };
  const dir = path.join(runsDir, run.name);
  try {
    const hashed = hashArtifacts(res.artifacts, dir);
    mkdirSync(path.join(dir, 'artifacts'), { recursive: true });
    writeFileSync(path.join(dir, 'manifest.json'), manifestBytes);
    for (const n of ARTIFACT_NAMES) writeFileSync(path.join(dir, ARTIFACT_PATHS[n]), res.artifacts[n]);
    writeFileSync(path.join(dir, 'outputs.json'), JSON.stringify(hashed.outputs, null, 2) + '\n');
    writeFileSync(path.join(dir, 'environment.json'), JSON.stringify({ run: run.name, settings: run.settings, executor: res.environment }, null, 2) + '\n');
    return { outcome: { kind: 'ok', outputs: hashed.run }, dir };
  } catch (e) {
    if (!isStellaError(e)) throw e;
    return { outcome: { kind: 'error', error: e.oneLine() }, dir: null };
  }
}
