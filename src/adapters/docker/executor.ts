// Docker executor: one scanner run in a locked-down container (SPEC §3). The container never outlives
// the run: it is created without AutoRemove and removed in `finally` on every path (exit, crash,
// timeout, abort), and it carries labels naming its owner so a later start can reap what a killed
// process left behind.
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { StellaError } from '../../core/errors.js';
import type { ExecutorEnvironment } from '../../core/formats.js';
import type { ExecJob, ExecResult, Executor, OnEvent } from '../../core/ports.js';
import { faketimeEnv } from './clock-env.js';
import { call, engineFacts, ping, type Engine, type EngineFacts } from './engine.js';
import { IMAGE_PATHS, IMAGE_USER } from './image-archive.js';
import { createConfinedInput, inputMounts, removeConfinedInput, type ConfinedInput } from './confined-input.js';
import { createConfinedOutput, DEFAULT_OUT_CAP_BYTES, removeConfinedOutput, takeBackOutput, type ConfinedOutput } from './confined-output.js';

export const LABEL = 'stella.replay';
export const LABEL_RUN = 'stella.run';
export const LABEL_PID = 'stella.pid';
export const LABEL_HOST = 'stella.host';
export const LABEL_DEADLINE = 'stella.deadline';
/** Owner pid of an output holder (not LABEL_PID, so counting a process's scanner containers stays exact). */
export const LABEL_HOLDER_PID = 'stella.holder-pid';

const MAX_LOG_BYTES = 1 << 20;
/** After this long past its deadline a container is an orphan whoever started it (remote engines). */
const ORPHAN_GRACE_MS = 60_000;
const DEFAULT_PIDS_LIMIT = 256;
const TMPFS_BYTES = 256 * 1024 * 1024;

export interface DockerExecutorOptions {
  pidsLimit?: number;
  /** Wall clock for deadlines/labels only (never reaches an artifact). */
  wallNow?: () => number;
  /** More labels for every container and volume of a run, asked at each run (a worker's job and lease). */
  labels?: () => Record<string, string>;
}

/**
 * The HostConfig every run gets; probes assert on exactly this. With `input` (an engine that does not
 * share our filesystem) the read-only mounts are the filled input volumes instead of bind mounts.
 */
export function hostConfig(job: ExecJob, engineCpus: number, pidsLimit = DEFAULT_PIDS_LIMIT, outputVolume?: string, input?: ConfinedInput): Docker.HostConfig {
  const cpus = Math.max(0.01, Math.min(job.cpus, engineCpus));
  return {
    NetworkMode: 'none',
    ReadonlyRootfs: true,
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    Privileged: false,
    PidsLimit: pidsLimit,
    Memory: job.memoryBytes,
    MemorySwap: job.memoryBytes,
    NanoCpus: Math.round(cpus * 1e9),
    Tmpfs: { '/tmp': `rw,nosuid,nodev,noexec,size=${TMPFS_BYTES}` },
    // Mounts, not Binds: a bind with a missing source is an error here, where Binds would quietly
    // create an empty root-owned directory on the host and mount that.
    Mounts: [
      ...(input ? inputMounts(input) : job.readOnlyMounts.map((m) => ({ Type: 'bind' as const, Source: m.hostPath, Target: m.containerPath, ReadOnly: true }))),
      // The writable mount: a size-capped tmpfs volume (confined-output.ts) in real runs.
      outputVolume
        ? { Type: 'volume' as const, Source: outputVolume, Target: IMAGE_PATHS.output, ReadOnly: false }
        : { Type: 'bind' as const, Source: job.outputDir, Target: IMAGE_PATHS.output, ReadOnly: false },
    ],
    AutoRemove: false,
    IpcMode: 'private',
  };
}

export function containerEnv(job: ExecJob): string[] {
  const env: Record<string, string> = { TZ: job.env.TZ, LANG: job.env.LANG, LC_ALL: job.env.LC_ALL };
  if (job.frozenClock !== null) Object.assign(env, faketimeEnv(job.frozenClock, IMAGE_PATHS.faketime));
  return Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k]}`);
}

export class DockerExecutor implements Executor {
  readonly kind = 'docker' as const;
  private readonly wallNow: () => number;
  /** Orphan containers `create` removed, until `takeReapedAtStart` hands the count on. */
  private reapedAtStart = 0;

  private constructor(
    readonly engine: Engine,
    readonly facts: EngineFacts,
    private readonly opts: DockerExecutorOptions,
  ) {
    this.wallNow = opts.wallNow ?? (() => Date.now());
  }

  /** Connect, learn the engine's facts and reap orphans a killed stella left behind. */
  static async create(engine: Engine, opts: DockerExecutorOptions = {}): Promise<DockerExecutor> {
    await ping(engine);
    const facts = await engineFacts(engine);
    const ex = new DockerExecutor(engine, facts, opts);
    ex.reapedAtStart = await ex.reapOrphans();
    return ex;
  }

  /** How many orphan containers `create` removed (once: later calls say 0), for the caller's tally. */
  takeReapedAtStart(): number {
    const n = this.reapedAtStart;
    this.reapedAtStart = 0;
    return n;
  }

  /**
   * Remove labelled containers whose owner is gone: started on this host by a process that no longer
   * exists, or (any host) past their deadline by more than a grace period. Live runs of other stella
   * processes are left alone.
   */
  async reapOrphans(): Promise<number> {
    const list = await call(this.engine, () => this.engine.docker.listContainers({ all: true, filters: { label: [`${LABEL}=1`] } }));
    let reaped = 0;
    const me = hostname();
    for (const c of list) {
      const labels = c.Labels ?? {};
      const pid = Number(labels[LABEL_PID] ?? labels[LABEL_HOLDER_PID]);
      const deadline = Date.parse(labels[LABEL_DEADLINE] ?? '');
      const ownerGone = labels[LABEL_HOST] === me && Number.isInteger(pid) && !processAlive(pid);
      const overdue = !Number.isNaN(deadline) && this.wallNow() > deadline + ORPHAN_GRACE_MS;
      if (!ownerGone && !overdue) continue;
      await removeQuietly(this.engine.docker.getContainer(c.Id));
      reaped++;
    }
    // Output volumes of a killed stella (their holders are gone by now).
    const vols = ((await call(this.engine, () => this.engine.docker.listVolumes({ filters: { label: [`${LABEL}=1`] } }))) as { Volumes?: Array<{ Name: string; Labels?: Record<string, string> }> }).Volumes ?? [];
    for (const v of vols) {
      const labels = v.Labels ?? {};
      const pid = Number(labels[LABEL_HOLDER_PID]);
      const deadline = Date.parse(labels[LABEL_DEADLINE] ?? '');
      const ownerGone = labels[LABEL_HOST] === me && Number.isInteger(pid) && !processAlive(pid);
      const overdue = !Number.isNaN(deadline) && this.wallNow() > deadline + ORPHAN_GRACE_MS;
      if (!ownerGone && !overdue) continue;
      await this.engine.docker.getVolume(v.Name).remove({ force: true }).catch(() => undefined);
    }
    return reaped;
  }

  /**
   * Remove every container and output volume carrying `label` whose label values `isStale` condemns
   * (asked once, with all of them): a worker's runs whose lease another worker has taken over.
   */
  async reapLabelled(label: string, isStale: (found: Array<Record<string, string>>) => Promise<(labels: Record<string, string>) => boolean>): Promise<number> {
    const list = await call(this.engine, () => this.engine.docker.listContainers({ all: true, filters: { label: [label] } }));
    const vols = ((await call(this.engine, () => this.engine.docker.listVolumes({ filters: { label: [label] } }))) as { Volumes?: Array<{ Name: string; Labels?: Record<string, string> }> }).Volumes ?? [];
    if (list.length === 0 && vols.length === 0) return 0;
    const stale = await isStale([...list.map((c) => c.Labels ?? {}), ...vols.map((v) => v.Labels ?? {})]);
    let reaped = 0;
    for (const c of list) {
      if (!stale(c.Labels ?? {})) continue;
      await removeQuietly(this.engine.docker.getContainer(c.Id));
      reaped++;
    }
    for (const v of vols) {
      if (stale(v.Labels ?? {})) await this.engine.docker.getVolume(v.Name).remove({ force: true }).catch(() => undefined);
    }
    return reaped;
  }

  environment(job: ExecJob): ExecutorEnvironment {
    return {
      kind: 'docker',
      image_digest: job.imageId ?? null,
      network: 'none',
      read_only: true,
      user: IMAGE_USER,
      tz: job.env.TZ,
      locale: job.env.LC_ALL,
      clock_mode: job.frozenClock !== null ? 'frozen' : 'recorded',
      clock_value: job.frozenClock ?? '',
      cpus: Math.min(job.cpus, this.facts.cpus),
      arch: this.facts.arch,
      os: this.facts.os,
      kernel: this.facts.kernel,
      engine_version: this.facts.engineVersion,
      assurance: 'high',
    };
  }

  async run(job: ExecJob, onEvent?: OnEvent): Promise<ExecResult> {
    if (!job.imageId) throw new StellaError('USAGE', 'docker executor needs an image ID');
    const environment = this.environment(job);
    if (job.signal?.aborted) return { exitCode: null, timedOut: false, stdout: '', stderr: '', environment, aborted: true };
    const deadline = new Date(this.wallNow() + job.timeoutMs).toISOString();
    const capBytes = job.outputCapBytes ?? DEFAULT_OUT_CAP_BYTES;
    const labels = {
      [LABEL]: '1',
      [LABEL_HOLDER_PID]: String(process.pid),
      [LABEL_HOST]: hostname(),
      [LABEL_DEADLINE]: deadline,
      'stella.run-holder': job.id,
      ...this.opts.labels?.(),
    };
    let confined: ConfinedOutput;
    try {
      confined = await createConfinedOutput(this.engine, job.imageId, capBytes, labels);
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) throw imageMissing(job.imageId);
      throw e;
    }
    let input: ConfinedInput | undefined;
    try {
      // An engine elsewhere cannot bind-mount our paths: the inputs are copied into volumes.
      if (!this.engine.sharesFilesystem && job.readOnlyMounts.length > 0) {
        input = await createConfinedInput(this.engine, job.imageId, job.readOnlyMounts, labels);
        onEvent?.({ kind: 'log', id: job.id, message: `inputs copied into ${input.volumes.length} volume(s)` });
      }
      return await this.runConfined(job, environment, confined, capBytes, deadline, onEvent, input);
    } finally {
      if (input) await removeConfinedInput(this.engine, input);
      await removeConfinedOutput(this.engine, confined);
    }
  }

  private async runConfined(job: ExecJob, environment: ExecutorEnvironment, confined: ConfinedOutput, capBytes: number, deadline: string, onEvent?: OnEvent, input?: ConfinedInput): Promise<ExecResult> {
    const imageId = job.imageId!;
    let container: Docker.Container;
    try {
      container = await call(this.engine, () =>
        this.engine.docker.createContainer({
          Image: imageId,
          ...(job.entrypoint ? { Entrypoint: job.entrypoint } : {}),
          Cmd: job.args,
          Env: containerEnv(job),
          User: IMAGE_USER,
          WorkingDir: '/',
          NetworkDisabled: true,
          AttachStdin: false,
          AttachStdout: false,
          AttachStderr: false,
          Tty: false,
          Labels: {
            [LABEL]: '1',
            [LABEL_RUN]: job.id,
            [LABEL_PID]: String(process.pid),
            [LABEL_HOST]: hostname(),
            [LABEL_DEADLINE]: deadline,
            ...this.opts.labels?.(),
          },
          HostConfig: hostConfig(job, this.facts.cpus, this.opts.pidsLimit, confined.volume, input),
        }),
      );
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) throw imageMissing(imageId);
      throw e;
    }
    onEvent?.({ kind: 'log', id: job.id, message: `container ${container.id.slice(0, 12)} created` });
    let timedOut = false;
    let aborted = false;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      // 'next-exit' so a wait posted before start does not return at once for a created container.
      const waiting = container.wait({ condition: 'next-exit' });
      // If start fails, nobody awaits this; it settles when the container is removed.
      waiting.catch(() => undefined);
      await call(this.engine, () => container.start());
      const stop = new Promise<'timeout' | 'abort'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), job.timeoutMs);
        onAbort = () => resolve('abort');
        job.signal?.addEventListener('abort', onAbort, { once: true });
        if (job.signal?.aborted) resolve('abort');
      });
      const first = await Promise.race([waiting.then(() => 'exited' as const), stop]);
      if (first !== 'exited') {
        timedOut = first === 'timeout';
        aborted = first === 'abort';
        await container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
      }
      const waited = (await waiting.catch(() => ({ StatusCode: null }))) as { StatusCode: number | null };
      const state = ((await container.inspect().catch(() => null)) as { State?: { OOMKilled?: boolean } } | null)?.State;
      const { stdout, stderr } = await readLogs(container);
      // Take /out back only from a run that finished by itself; what it left is judged entry by entry.
      const outputRefused = !timedOut && !aborted ? await takeBackOutput(this.engine, confined, job.outputDir, capBytes) : null;
      return {
        ...(outputRefused ? { outputRefused } : {}),
        exitCode: timedOut || aborted ? null : waited.StatusCode,
        timedOut,
        stdout,
        stderr,
        environment,
        ...(aborted ? { aborted } : {}),
        ...(state?.OOMKilled ? { oomKilled: true } : {}),
      };
    } finally {
      if (timer) clearTimeout(timer);
      if (onAbort) job.signal?.removeEventListener('abort', onAbort);
      await removeQuietly(container);
      onEvent?.({ kind: 'log', id: job.id, message: `container ${container.id.slice(0, 12)} removed` });
    }
  }
}

function imageMissing(imageId: string): StellaError {
  return new StellaError('IMAGE_MISSING', `scanner image ${imageId} is not loaded in the engine; run \`stella image load ${imageId}\` (or \`stella image build\` from the same dist)`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

async function removeQuietly(container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    // 404: already gone; 409: removal already in progress (the engine finishes it).
    if (status !== 404 && status !== 409) throw e;
  }
}

/** Non-TTY logs are multiplexed: 8-byte frames [stream, 0, 0, 0, size(4, BE)] then the payload. */
async function readLogs(container: Docker.Container): Promise<{ stdout: string; stderr: string }> {
  let raw: Buffer;
  try {
    raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  } catch {
    return { stdout: '', stderr: '' };
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outBytes = 0;
  let errBytes = 0;
  let off = 0;
  while (off + 8 <= raw.length) {
    const stream = raw[off];
    const size = raw.readUInt32BE(off + 4);
    const payload = raw.subarray(off + 8, off + 8 + size);
    if (stream === 2) {
      if (errBytes < MAX_LOG_BYTES) err.push(payload);
      errBytes += size;
    } else {
      if (outBytes < MAX_LOG_BYTES) out.push(payload);
      outBytes += size;
    }
    off += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
