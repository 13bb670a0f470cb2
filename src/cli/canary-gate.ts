// `stella canary --scanner IMAGE` and `stella gate --canary --scanner IMAGE`: replay the golden canary
// set with a candidate image, index the replays and gate them (exit 0 green, 3 warn, 1 fail).
import path from 'node:path';
import type { CliContext } from './command.js';
import { EXIT, usageError } from './command.js';
import { DIGEST_RE, type Digest } from '../core/formats.js';
import { gateJunit } from '../core/gate/index.js';
import type { BlobStore } from '../adapters/blob-store.js';
import { writeFileAtomic } from '../adapters/fs.js';
import { storePath } from '../app/store-path.js';
import { defaultCanaryDir, renderCanaryReport, runCanaries } from '../app/canary.js';
import { makeExecutor } from '../app/executors.js';

export interface CanaryGateValues {
  scanner?: unknown;
  executor?: unknown;
  junit?: unknown;
  json?: unknown;
  timeout?: unknown;
}

export async function canaryGate(v: CanaryGateValues, ctx: CliContext, dir: string = defaultCanaryDir(), blobs?: BlobStore): Promise<number> {
  if (!blobs) blobs = (await import('../adapters/blob-store.js')).BlobStore.fromEnv(ctx.env, ctx.cwd);
    const image = v.scanner as string;
    if (!DIGEST_RE.test(image)) throw usageError(`--scanner ${image}: expected an image ID (sha256: followed by 64 lowercase hex), e.g. from \`stella image build\``);
    let timeoutMs: number | undefined;
    if (v.timeout !== undefined) {
      const n = Number(v.timeout);
      if (!Number.isFinite(n) || n <= 0) throw usageError(`--timeout ${String(v.timeout)}: expected a positive number of seconds`);
      timeoutMs = Math.round(n * 1000);
    }
    const setup = await makeExecutor(typeof v.executor === 'string' ? v.executor : 'docker', ctx, blobs);
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.on('SIGINT', onSignal);
    try {
      const report = await runCanaries({
        dir,
        scannerImage: image as Digest,
        executor: setup.executor,
        blobs,
        home: blobs.home,
        now: ctx.now,
        indexDb: storePath(ctx.env, ctx.cwd),
        signal: controller.signal,
        ...(setup.prepareImage ? { prepareImage: setup.prepareImage } : {}),
        ...(timeoutMs ? { timeoutMs } : {}),
        onEvent: (e) => {
          if (e.kind === 'progress' && ctx.stderr.isTTY) ctx.stderr.write(`\rcanary ${e.done}/${e.total} ${e.label ?? ''}`.padEnd(60) + (e.done === e.total ? '\n' : ''));
        },
      });
      if (typeof v.junit === 'string') writeFileAtomic(path.resolve(ctx.cwd, v.junit), gateJunit(report.gate.gate, ctx.now().toISOString()));
      ctx.stdout.write(v.json === true ? JSON.stringify(report, null, 2) + '\n' : renderCanaryReport(report));
      return report.gate.state === 'green' ? EXIT.OK : report.gate.state === 'warn' ? EXIT.WARN : EXIT.FAIL;
    } finally {
      process.off('SIGINT', onSignal);
    }
}
