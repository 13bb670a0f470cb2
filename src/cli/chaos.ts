// `stella chaos --from MANIFEST.json [--variations tz,locale,cpus,env,file-order,umask,clock,run-order]
//   [--executor docker|local] [--out-dir DIR] [--timeout S] [--json]`
// Exit 0 when BF holds under every variation, 1 when a variation breaks it, 2 on error.
import path from 'node:path';
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { usageError } from './command.js';
import { parseVariations, renderChaosReport } from '../core/chaos/index.js';
import { BlobStore } from '../adapters/blob-store.js';
import { chaos } from '../app/chaos.js';
import { makeExecutor } from '../app/executors.js';

const command: Command = {
  name: 'chaos',
  summary: 'replay one manifest under varied environments; name what breaks BF',
  usage: 'chaos --from MANIFEST.json [--variations tz,locale,cpus,env,file-order,umask,clock,run-order] [--executor docker|local] [--out-dir DIR] [--timeout S] [--json]',
  options: {
    from: { type: 'string' },
    variations: { type: 'string' },
    executor: { type: 'string' },
    'out-dir': { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    from: 'the scan manifest to replay (its blobs must be in $STELLA_HOME)',
    variations: 'comma-separated subset to try (default: all), each alone, then combined',
    executor: 'docker (default) or local (child process, lower assurance)',
    'out-dir': 'keep every run\'s artifacts and chaos.json here',
    timeout: 'kill a run after S seconds (default 600)',
    json: 'print the chaos report as JSON',
  },
  positionals: false,
  async run(args, ctx) {
    const v = args.values;
    if (typeof v.from !== 'string') throw usageError('--from MANIFEST.json is required');
    const variations = parseVariations(typeof v.variations === 'string' ? v.variations : undefined);
    let timeoutMs: number | undefined;
    if (v.timeout !== undefined) {
      const n = Number(v.timeout);
      if (typeof v.timeout !== 'string' || !Number.isFinite(n) || n <= 0) throw usageError(`--timeout ${String(v.timeout)}: expected a positive number of seconds`);
      timeoutMs = Math.round(n * 1000);
    }
    const blobs = BlobStore.fromEnv(ctx.env, ctx.cwd);
    const setup = await makeExecutor(typeof v.executor === 'string' ? v.executor : 'docker', ctx, blobs);
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.on('SIGINT', onSignal);
    try {
      const { report } = await chaos({
        manifestPath: path.resolve(ctx.cwd, v.from),
        variations,
        executor: setup.executor,
        blobs,
        env: ctx.env,
        signal: controller.signal,
        ...(setup.prepareImage ? { prepareImage: setup.prepareImage } : {}),
        ...(timeoutMs ? { timeoutMs } : {}),
        ...(typeof v['out-dir'] === 'string' ? { outDir: path.resolve(ctx.cwd, v['out-dir']) } : {}),
        onEvent: (e) => {
          if (e.kind === 'progress' && ctx.stderr.isTTY) ctx.stderr.write(`\rchaos ${e.done}/${e.total} ${e.label ?? ''}`.padEnd(40) + (e.done === e.total ? '\n' : ''));
        },
      });
      ctx.stdout.write(v.json === true ? JSON.stringify(report, null, 2) + '\n' : renderChaosReport(report));
      return report.verdict === 'stable' ? EXIT.OK : report.verdict === 'unstable' ? EXIT.FAIL : EXIT.ERROR;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};

export default command;
