// `stella gate`: SPEC §5 release gate. Exit 0 green, 3 warn, 1 fail, 2 usage/input error.
import path from 'node:path';
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { MIN_BUCKET_REPLAYS, gateJunit, ungatedText } from '../core/gate/index.js';
import { percentText } from '../core/fidelity/index.js';
import { writeFileAtomic } from '../adapters/fs.js';
import { resolveNow, storePath, withStore } from '../app/store-path.js';
import { gateFromStore } from '../app/dashboard.js';

const command: Command = {
  name: 'gate',
  summary: 'gate a release on production Replay Fidelity: pinned replays only (exit 0 green, 3 warn, 1 fail)',
  usage: 'gate [--now T] [--junit FILE] [--min-bucket N] [--include-what-if] [--db FILE] [--json]\n       stella gate --canary --scanner IMAGE_ID [--executor docker|local] [--junit FILE] [--json]',
  options: {
    now: { type: 'string' },
    junit: { type: 'string' },
    'min-bucket': { type: 'string' },
    db: { type: 'string' },
    json: { type: 'boolean' },
    canary: { type: 'boolean' },
    scanner: { type: 'string' },
    executor: { type: 'string' },
    'include-what-if': { type: 'boolean' },
  },
  optionHelp: {
    now: 'evaluate as of this instant (RFC 3339; default: now)',
    junit: 'also write a JUnit XML report, one testcase per rule',
    'min-bucket': `ignore buckets with fewer completed replays (default ${MIN_BUCKET_REPLAYS})`,
    db: 'index file (default $STELLA_HOME/index.db)',
    json: 'machine-readable result',
    canary: 'gate a release candidate: replay the golden canary set with --scanner (same as `stella canary`)',
    scanner: 'with --canary: the candidate scanner image ID',
    executor: 'with --canary: docker (default) or local',
    'include-what-if': 'count what-if replays too (bisect experiments, canary runs); by default only pinned (production) replays count' + ' (canary runs are gated by --canary)',
  },
  positionals: false,
  async run(args, ctx) {
    const { values } = args;
    if (values.canary === true) {
      // One gate for release pipelines: the canary run indexes its replays and gates them (same exit codes).
      if (typeof values.scanner !== 'string') throw new StellaError('USAGE', '--canary needs --scanner IMAGE_ID (from `stella image build`)');
      const { canaryGate } = await import('./canary-gate.js');
      const { scanner, executor, junit, json } = values;
      return canaryGate({ scanner, executor, junit, json }, ctx);
    }
    if (values.scanner !== undefined || values.executor !== undefined) throw new StellaError('USAGE', '--scanner and --executor only apply with --canary');
    const now = resolveNow(values.now, ctx.now);
    let min: number | undefined;
    if (values['min-bucket'] !== undefined) {
      min = Number(values['min-bucket']);
      if (!Number.isInteger(min) || min < 1) throw new StellaError('USAGE', `--min-bucket must be a positive integer, got '${String(values['min-bucket'])}'`);
    }
    const result = await withStore(storePath(ctx.env, ctx.cwd, values.db as string | undefined), { readonly: true }, (store) =>
      gateFromStore(store, now, min, { includeWhatIf: values['include-what-if'] === true }),
    );
    if (values.junit) writeFileAtomic(path.resolve(ctx.cwd, String(values.junit)), gateJunit(result, now.toISOString()));
    if (values.json) {
      ctx.stdout.write(JSON.stringify({ now: now.toISOString(), ...result }, null, 2) + '\n');
    } else {
      const lines = [`gate: ${result.state.toUpperCase()} — BF 30d ${percentText(result.bf_30d)} over ${result.n_30d} replays`];
      for (const r of result.rules) lines.push(`  [${r.ok ? 'ok' : r.severity}] ${r.id}: ${r.description}`);
      for (const reason of result.reasons) lines.push(`  ${reason}`);
      for (const b of result.ungated) lines.push(`  ${ungatedText(b, result.min_bucket_replays)}`);
      ctx.stdout.write(lines.join('\n') + '\n');
    }
    return result.state === 'green' ? EXIT.OK : result.state === 'warn' ? EXIT.WARN : EXIT.FAIL;
  },
};

export default command;
