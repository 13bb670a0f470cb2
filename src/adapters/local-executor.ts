// Local executor: the scanner as a child process, for machines without Docker. Same env and clock rules
// as the container (TZ/LANG/LC_ALL from the manifest, libfaketime preloaded for a frozen clock, nothing
// else inherited), no network when `unshare -n` is permitted — but no read-only root, no user switch,
// no resource limits, so its replays are recorded as lower assurance.
import { spawn, spawnSync } from 'node:child_process';
import { makeTempDir } from './temp.js';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { StellaError } from '../core/errors.js';
import type { ExecutorEnvironment } from '../core/formats.js';
import type { ExecJob, ExecResult, Executor, OnEvent } from '../core/ports.js';
import { faketimeEnv } from './docker/clock-env.js';
import { dockerArch, findFaketimeLib, IMAGE_PATHS } from './docker/image-archive.js';

const MAX_LOG_BYTES = 1 << 20;

export interface LocalExecutorOptions {
  /** Host path of the compiled scanner entry (dist/src/scanner/entry.js). */
  entry: string;
  nodePath?: string;
  /** Environment to take PATH from (to find `unshare`); nothing else is inherited. */
  env?: NodeJS.ProcessEnv;
}

/** Which `unshare` invocation gives this user a private network namespace, if any. */
function probeUnshare(env: NodeJS.ProcessEnv): string[] | null {
  for (const flags of [['-n'], ['-r', '-n']]) {
    const r = spawnSync('unshare', [...flags, 'true'], { env: { PATH: env.PATH ?? '/usr/bin:/bin' }, stdio: 'ignore' });
    if (r.status === 0) return flags;
  }
  return null;
}

export class LocalExecutor implements Executor {
  readonly kind = 'local' as const;
  private readonly unshare: string[] | null;
  private readonly faketimeLib: string;
  private readonly nodePath: string;
  private readonly pathEnv: string;

  constructor(private readonly opts: LocalExecutorOptions) {
    if (!existsSync(opts.entry)) {
      throw new StellaError('NOT_FOUND', 'scanner entry is not built; run `npx tsc -p .` first', { file: opts.entry });
    }
    const env = opts.env ?? process.env;
    this.pathEnv = env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
    this.unshare = probeUnshare(env);
    this.faketimeLib = findFaketimeLib();
    this.nodePath = opts.nodePath ?? process.execPath;
  }

  environment(job: ExecJob): ExecutorEnvironment {
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    const gid = typeof process.getgid === 'function' ? process.getgid() : -1;
    return {
      kind: 'local',
      image_digest: null,
      network: this.unshare ? 'none' : 'host',
      read_only: false,
      user: `${uid}:${gid}`,
      tz: job.env.TZ,
      locale: job.env.LC_ALL,
      clock_mode: job.frozenClock !== null ? 'frozen' : 'recorded',
      clock_value: job.frozenClock ?? '',
      // Not enforced locally: what the scanner will see.
      cpus: os.availableParallelism(),
      arch: dockerArch(process.arch),
      os: process.platform,
      kernel: os.release(),
      engine_version: null,
      assurance: 'low',
    };
  }

  /**
   * Container paths (`/in/x`, `/out`, `/usr/local/bin/node`) mapped to what they stand for on the host.
   * Mounts go through `stage`: a symlink per mount under its container path, so the scanner sees the
   * same file names as in the container (it tells a Cargo.lock from a go.mod by name; blobs are hashes).
   */
  hostPaths(job: ExecJob, args: readonly string[], stage: string): string[] {
    const map = [
      ...job.readOnlyMounts.map((m) => [m.containerPath, path.join(stage, m.containerPath)] as const),
      [IMAGE_PATHS.output, job.outputDir] as const,
      [IMAGE_PATHS.node, this.nodePath] as const,
      [IMAGE_PATHS.entry, this.opts.entry] as const,
    ];
    return args.map((a) => {
      for (const [c, h] of map) {
        if (a === c) return h;
        if (a.startsWith(`${c}/`)) return h + a.slice(c.length);
      }
      return a;
    });
  }

  async run(job: ExecJob, onEvent?: OnEvent): Promise<ExecResult> {
    const environment = this.environment(job);
    if (job.signal?.aborted) return { exitCode: null, timedOut: false, stdout: '', stderr: '', environment, aborted: true };
    const env: Record<string, string> = { PATH: this.pathEnv, TZ: job.env.TZ, LANG: job.env.LANG, LC_ALL: job.env.LC_ALL };
    if (job.frozenClock !== null) Object.assign(env, faketimeEnv(job.frozenClock, this.faketimeLib));
    const stage = makeTempDir('stella-local-');
    for (const m of job.readOnlyMounts) {
      const link = path.join(stage, m.containerPath);
      mkdirSync(path.dirname(link), { recursive: true });
      symlinkSync(path.resolve(m.hostPath), link);
    }
    // Same command line as the image: entry point (node + scanner entry, unless replaced) then args.
    const argv = this.hostPaths(job, [...(job.entrypoint ?? [IMAGE_PATHS.node, IMAGE_PATHS.entry]), ...job.args], stage);
    const [cmd, args] = this.unshare ? ['unshare', [...this.unshare, '--', ...argv]] : [argv[0], argv.slice(1)];
    onEvent?.({ kind: 'log', id: job.id, message: `local: ${cmd} ${args.join(' ')}` });
    try {
      return await this.spawnJob(job, cmd, args, env, environment);
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }

  private spawnJob(job: ExecJob, cmd: string, args: string[], env: Record<string, string>, environment: ExecutorEnvironment): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      // detached: own process group, so a timeout kills the scanner and anything it started.
      const child = spawn(cmd, args, { env, cwd: job.outputDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      child.stdout.on('data', (b: Buffer) => {
        if (outBytes < MAX_LOG_BYTES) out.push(b);
        outBytes += b.length;
      });
      child.stderr.on('data', (b: Buffer) => {
        if (errBytes < MAX_LOG_BYTES) err.push(b);
        errBytes += b.length;
      });
      let timedOut = false;
      let aborted = false;
      const killGroup = () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, job.timeoutMs);
      const onAbort = () => {
        aborted = true;
        killGroup();
      };
      job.signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (e) => {
        clearTimeout(timer);
        job.signal?.removeEventListener('abort', onAbort);
        reject(new StellaError('IO', `cannot start the scanner: ${e.message}`, { file: cmd }));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        job.signal?.removeEventListener('abort', onAbort);
        resolve({
          exitCode: timedOut || aborted ? null : code,
          timedOut,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          environment,
          ...(aborted ? { aborted } : {}),
        });
      });
    });
  }
}
