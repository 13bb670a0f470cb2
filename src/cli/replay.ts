// `stella replay --from M --out-dir D [--executor docker|local] [--what-if k=DIGEST]… [--timeout S] [--json]`
// and `stella replay --batch PATH… --out-dir D [--concurrency N]` (SPEC §3).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseOutCap } from '../adapters/docker/confined-output.js';
import type { CliContext, Command } from './command.js';
import { EXIT } from './command.js';
import { usageError } from './command.js';
import { StellaError } from '../core/errors.js';
import type { ReplayRecord } from '../core/formats.js';
import type { OnEvent } from '../core/ports.js';
import { BlobStore } from '../adapters/blob-store.js';
import { makeExecutor } from '../app/executors.js';
import { bisect, renderBisect } from '../app/bisect.js';
import { DEFAULT_TIMEOUT_MS, parseWhatIf, replay, replayBatch, type ReplayOptions, type ReplayResult } from '../app/replay.js';

const EXIT_INTERRUPTED = 130;

/** Manifests named directly, or every scan record's manifest.json under a directory (replays skipped). */
export function findManifests(paths: readonly string[], cwd: string): string[] {
  const out = new Set<string>();
  const walk = (dir: string) => {
    if (existsSync(path.join(dir, 'replay.json'))) return;
    if (existsSync(path.join(dir, 'manifest.json'))) out.add(path.join(dir, 'manifest.json'));
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    if (!existsSync(abs)) throw new StellaError('NOT_FOUND', 'no such file or directory', { file: p });
    if (statSync(abs).isDirectory()) walk(abs);
    else out.add(abs);
  }
  return [...out].sort();
}

function parseTimeout(v: unknown): number {
  if (v === undefined) return DEFAULT_TIMEOUT_MS;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0) throw usageError(`--timeout ${String(v)}: expected a positive number of seconds`);
  return Math.round(n * 1000);
}

function summary(r: ReplayResult): string {
  const rec = r.record;
  const match = rec.bf_match === null ? 'not compared' : rec.bf_match ? 'BF match' : 'BF mismatch';
  return `${rec.replay_id} ${rec.status} (${match}; ${rec.executor.kind}${rec.executor.assurance === 'low' ? ', lower assurance' : ''})${r.dir ? ` → ${r.dir}` : ''}`;
}

function statusExit(s: ReplayRecord['status']): number {
  return s === 'passed' ? EXIT.OK : s === 'failed' ? EXIT.FAIL : EXIT.ERROR;
}

/** Progress on stderr: a redrawn bar on a terminal, one line per finished replay otherwise. */
function progress(ctx: CliContext): OnEvent {
  const tty = ctx.stderr.isTTY === true;
  return (e) => {
    if (e.kind !== 'progress') return;
    if (tty) {
      const width = 30;
      const filled = Math.round((e.done / e.total) * width);
      ctx.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.done}/${e.total} ${e.label ?? ''}`.padEnd(80) + (e.done === e.total ? '\n' : ''));
    } else {
      ctx.stderr.write(`replay ${e.done}/${e.total} ${e.label ?? ''}\n`);
    }
  };
}

const command: Command = {
  name: 'replay',
  summary: 'replay a scan from its manifest in a locked-down container',
  usage: 'replay --from MANIFEST.json --out-dir DIR [--executor docker|local] [--what-if feed=D|policy=D|scanner=ID|tz=Z|locale=L|cpus=N|clock=T]… [--timeout S] [--json]\n       stella replay --batch MANIFEST_OR_DIR… --out-dir DIR [--concurrency N] [--executor …] [--timeout S] [--json]\n       stella replay --from A/manifest.json --bisect B_DIR --out-dir DIR [--executor …] [--json]',
  options: {
    from: { type: 'string' },
    'out-dir': { type: 'string' },
    executor: { type: 'string' },
    'what-if': { type: 'string', multiple: true },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    batch: { type: 'boolean' },
    concurrency: { type: 'string' },
    bisect: { type: 'string' },
    'out-cap': { type: 'string' },
  },
  optionHelp: {
    from: 'the scan manifest to replay (its record directory holds the original outputs)',
    'out-dir': 'where replay records go: DIR/<replay_id>/',
    executor: 'docker (default, locked-down container) or local (child process, lower assurance)',
    'what-if': 'override one pinned component to bisect a cause: feed=DIGEST, policy=DIGEST, scanner=IMAGE_ID; or the environment: tz=ZONE, locale=LOCALE, cpus=N, clock=RFC3339',
    timeout: 'kill the scanner after S seconds (default 600); the replay is then an error',
    json: 'print the replay record(s) as JSON',
    batch: 'replay every manifest named (files, or directories searched for scan records)',
    concurrency: 'batch: replays running at once (default 2)',
    'out-cap': 'size of the scanner\'s writable /out mount, a tmpfs (default 256M; env STELLA_OUT_CAP); more fails the replay',
    bisect: 'B_DIR: replay --from with each of B\'s differing pins swapped in (feed, policy, scanner) and name the swap that reproduces B',
  },
  async run(args, ctx) {
    const v = args.values;
    const outDir = typeof v['out-dir'] === 'string' ? path.resolve(ctx.cwd, v['out-dir']) : null;
    if (!outDir) throw usageError('--out-dir DIR is required');
    const whatIf = parseWhatIf((v['what-if'] as string[] | undefined) ?? []);
    const timeoutMs = parseTimeout(v.timeout);
    // --out-cap travels as STELLA_OUT_CAP, checked here so a bad value is a usage error before any run.
    const replayEnv = typeof v['out-cap'] === 'string' ? { ...ctx.env, STELLA_OUT_CAP: v['out-cap'] } : ctx.env;
    parseOutCap(replayEnv.STELLA_OUT_CAP, typeof v['out-cap'] === 'string' ? '--out-cap' : 'STELLA_OUT_CAP');
    const kind = typeof v.executor === 'string' ? v.executor : 'docker';
    const batch = v.batch === true;
    if (batch && typeof v.from === 'string') throw usageError('use either --from MANIFEST or --batch PATH…');
    if (batch && typeof v.bisect === 'string') throw usageError('--bisect works on one manifest (--from), not --batch');
    if (!batch && typeof v.from !== 'string') throw usageError('--from MANIFEST.json is required (or --batch PATH…)');
    if (!batch && args.positionals.length) throw usageError(`unexpected argument '${args.positionals[0]}'`);
    const concurrency = v.concurrency === undefined ? 2 : Number(v.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw usageError(`--concurrency ${String(v.concurrency)}: expected a positive integer`);
    const manifests = batch ? findManifests(args.positionals, ctx.cwd) : [path.resolve(ctx.cwd, v.from as string)];
    if (batch && manifests.length === 0) throw usageError('--batch: no manifests found under the given paths');

    const blobs = BlobStore.fromEnv(ctx.env, ctx.cwd);
    const setup = await makeExecutor(kind, ctx, blobs);
    const controller = new AbortController();
    // Ctrl-C: stop starting replays, kill and remove the running containers, keep finished records.
    const onSignal = () => {
      if (controller.signal.aborted) return;
      ctx.stderr.write('\ninterrupted: stopping running replays, keeping finished records\n');
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      // What every replay of this command shares (a batch item, a bisect trial).
      const common = {
        outDir,
        executor: setup.executor,
        timeoutMs,
        blobs,
        now: ctx.now,
        env: replayEnv,
        signal: controller.signal,
        ...(setup.prepareImage ? { prepareImage: setup.prepareImage } : {}),
      };
      const one = (manifestPath: string) => {
        const o: ReplayOptions = { ...common, manifestPath, whatIf };
        return replay(o);
      };
      if (typeof v.bisect === 'string') {
        if (Object.keys(whatIf).length) throw usageError('--bisect chooses the what-if swaps itself; drop --what-if');
        const r = await bisect({
          manifestPath: manifests[0],
          targetDir: path.resolve(ctx.cwd, v.bisect),
          ...common,
        });
        ctx.stdout.write(v.json === true ? JSON.stringify(r, null, 2) + '\n' : renderBisect(r));
        if (r.verdict.trials.length > 0 && r.verdict.trials.every((t) => t.remaining === null)) return EXIT.ERROR;
        return r.verdict.culprit === null ? EXIT.DIFFERS : EXIT.OK;
      }
      if (!batch) {
        const r = await one(manifests[0]);
        if (controller.signal.aborted || r.dir === null) return EXIT_INTERRUPTED;
        if (v.json === true) ctx.stdout.write(JSON.stringify(r.record, null, 2) + '\n');
        else ctx.stdout.write(summary(r) + '\n');
        if (r.record.status === 'error') ctx.stderr.write(`stella replay: ${manifests[0]}: ${r.record.error}\n`);
        return statusExit(r.record.status);
      }
      const items = await replayBatch(manifests, concurrency, one, { signal: controller.signal, onEvent: progress(ctx) });
      const rows = items.map((it) => ({
        manifest: it.manifestPath,
        replay_id: it.result?.record.replay_id ?? null,
        status: it.result ? (it.result.dir ? it.result.record.status : 'aborted') : it.error ? 'error' : 'not started',
        dir: it.result?.dir ?? null,
        error: it.error ?? it.result?.record.error ?? null,
      }));
      if (v.json === true) ctx.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else {
        for (const r of rows) ctx.stdout.write(`${r.status.padEnd(11)} ${r.replay_id ?? '-'} ${r.manifest}${r.error ? `: ${r.error}` : ''}\n`);
      }
      if (controller.signal.aborted) return EXIT_INTERRUPTED;
      if (rows.some((r) => r.status === 'error')) return EXIT.ERROR;
      if (rows.some((r) => r.status === 'failed')) return EXIT.FAIL;
      return EXIT.OK;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

export default command;
