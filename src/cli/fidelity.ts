// `stella fidelity`: BF/SF/PF over a window, optionally per bucket, with a per-day trend.
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { ALL_DIMENSIONS, GATE_DIMENSIONS, bucketFigures, figures, percentText, totalOf, trend, windowRange, type Dimension } from '../core/fidelity/index.js';
import { parseWindow, resolveNow, storePath, withStore } from '../app/store-path.js';
import { MIN_BUCKET_REPLAYS } from '../core/gate/index.js';

const command: Command = {
  name: 'fidelity',
  summary: 'report Replay Fidelity (BF/SF/PF) over a window, by bucket: pinned (production) replays unless --include-what-if',
  usage: 'fidelity [--window 30d|90d] [--by scanner|ecosystem|policy_set|base_os|feed] [--now T] [--include-what-if] [--db FILE] [--json]',
  options: { window: { type: 'string' }, by: { type: 'string' }, now: { type: 'string' }, db: { type: 'string' }, json: { type: 'boolean' }, 'include-what-if': { type: 'boolean' } },
  optionHelp: {
    window: 'window length in days ending today (default 30d)',
    by: 'break the figures down by this bucket',
    now: 'end of the window (RFC 3339; default: now)',
    db: 'index file (default $STELLA_HOME/index.db)',
    json: 'machine-readable output',
    'include-what-if': 'count what-if replays too (bisect experiments, canary runs); by default only pinned (production) replays count',
  },
  positionals: false,
  async run({ values }, ctx) {
    const days = parseWindow(values.window);
    const by = values.by as string | undefined;
    if (by !== undefined && !ALL_DIMENSIONS.includes(by as Dimension)) {
      throw new StellaError('USAGE', `--by must be one of ${ALL_DIMENSIONS.join('|')}, got '${by}'`);
    }
    const now = resolveNow(values.now, ctx.now);
    const range = windowRange(now, days);
    const scope = { includeWhatIf: values['include-what-if'] === true };
    const [rows, cells] = await withStore(storePath(ctx.env, ctx.cwd, values.db as string | undefined), { readonly: true }, (store) =>
      Promise.all([store.rollup(range, by ? ['all', by as Dimension] : ['all'], scope), store.rollupCells(range, 'all', scope)]),
    );
    {
      const total = figures(totalOf(rows));
      const points = trend(cells, range);
      const buckets = by ? bucketFigures(rows, by as Dimension) : undefined;
      if (values.json) {
        const report = { now: now.toISOString(), window_days: days, from: range.from, to: range.to, ...total, ...(by ? { by, buckets } : {}), trend: points };
        ctx.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return EXIT.OK;
      }
      const out = [
        `Replay Fidelity, ${days} days ${range.from} … ${range.to}: ${total.n} completed replays, ${total.errors} errors`,
        `  BF ${percentText(total.bf)}   SF ${percentText(total.sf)}   PF ${percentText(total.pf)}`,
      ];
      if (buckets) {
        out.push('', `by ${by}:`);
        const w = Math.max(6, ...buckets.map((b) => b.bucket.length));
        out.push(`  ${'bucket'.padEnd(w)}  ${'n'.padStart(7)}  ${'BF'.padStart(6)}  ${'SF'.padStart(6)}  ${'PF'.padStart(6)}`);
        // Buckets the gate does not judge (too few replays) say so instead of standing beside the others.
        const gated = (GATE_DIMENSIONS as readonly string[]).includes(by as string);
        for (const b of buckets) {
          const row = `  ${b.bucket.padEnd(w)}  ${String(b.n).padStart(7)}  ${percentText(b.bf).padStart(6)}  ${percentText(b.sf).padStart(6)}  ${percentText(b.pf).padStart(6)}`;
          out.push(gated && b.n > 0 && b.n < MIN_BUCKET_REPLAYS ? `${row}  ${b.n} replay${b.n === 1 ? '' : 's'} (< ${MIN_BUCKET_REPLAYS}, not gated)` : row);
        }
      }
      out.push('', 'per day (BF):');
      for (const p of points) out.push(`  ${p.day}  ${String(p.n).padStart(6)}  ${percentText(p.bf).padStart(6)}`);
      ctx.stdout.write(out.join('\n') + '\n');
      return EXIT.OK;
    }
  },
};

export default command;
