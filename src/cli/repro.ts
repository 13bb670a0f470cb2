// `stella repro REPLAY_ID`: re-create a replay as it ran and end with one verdict line (SPEC §8).
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { storePath, withStore } from '../app/store-path.js';
import { storeHome } from './ticket.js';

const command: Command = {
  name: 'repro',
  summary: 'reproduce a replay as it ran (same scan, overrides, executor, image) and compare with the record',
  usage: 'repro REPLAY_ID [--db FILE] [--json]',
  options: { db: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: { db: 'index file or postgres:// URL (default $STELLA_HOME/index.db); blobs come from, and the new record goes to, $STELLA_HOME (when unset: the index file\'s directory)', json: 'JSON with the verdict and both records' },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new StellaError('USAGE', 'repro needs exactly one REPLAY_ID (see stella repro --help)');
    const dbPath = storePath(ctx.env, ctx.cwd, values.db as string | undefined);
    const { reproduce } = await import('../app/repro.js');
    const r = await withStore(dbPath, { readonly: true }, (store) =>
      reproduce({ store, replayId: positionals[0], home: storeHome(ctx.env, ctx.cwd, dbPath), env: ctx.env, cwd: ctx.cwd, now: ctx.wallNow ?? ctx.now }),
    );
    if (values.json) {
      ctx.stdout.write(JSON.stringify({ reproduced: r.reproduced, verdict: r.verdict, dir: r.dir, recorded: r.recorded, rerun: r.rerun }, null, 2) + '\n');
    } else {
      ctx.stdout.write(r.verdict + '\n');
    }
    return r.reproduced ? EXIT.OK : EXIT.DIFFERS;
  },
};

export default command;
