// `stella sample`: pick N scans to replay, stratified, from the index or the team store.
import type { Command } from './command.js';
import { EXIT, usageError } from './command.js';
import { parseWindow, resolveNow, storePath, withStore } from '../app/store-path.js';
import { parseBy, sampleFromStore, strataTable } from '../app/sample.js';

const int = (v: unknown, name: string, dflt: number): number => {
  if (v === undefined) return dflt;
  const s = String(v);
  if (!/^\d{1,10}$/.test(s)) throw usageError(`--${name} must be a non-negative integer, got '${s}'`);
  return Number(s);
};

const command: Command = {
  name: 'sample',
  summary: 'pick N scans to replay, stratified by ecosystem, base OS, regulated tier and scanner',
  usage: 'sample --n N [--by ecosystem,base_os,regulated,scanner] [--window 30d] [--seed S] [--canaries ID,…] [--now T] [--db FILE|URL] [--json]',
  options: {
    n: { type: 'string' },
    by: { type: 'string' },
    window: { type: 'string' },
    seed: { type: 'string' },
    canaries: { type: 'string' },
    'min-per-stratum': { type: 'string' },
    'recent-days': { type: 'string' },
    now: { type: 'string' },
    db: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    n: 'how many scans to pick (canaries come on top)',
    by: 'strata dimensions, comma-separated (default all four)',
    window: 'only scans created in the last N days (default 30d)',
    seed: 'seed of the draw (default 0): the same seed gives the same sample',
    canaries: 'scan ids always picked (the golden set)',
    'min-per-stratum': 'each stratum gets at least this many (default 1)',
    'recent-days': 'scans replayed within this many days go last (default 7)',
    now: 'end of the window (RFC 3339; default: now)',
    db: 'index file or postgres:// URL (default $STELLA_DB, else $STELLA_HOME/index.db)',
    json: 'the whole sample as JSON (chosen scans and strata)',
  },
  positionals: false,
  async run({ values }, ctx) {
    if (values.n === undefined) throw usageError('sample needs --n N');
    const req = {
      n: int(values.n, 'n', 0),
      by: parseBy(values.by as string | undefined),
      windowDays: parseWindow(values.window),
      seed: int(values.seed, 'seed', 0),
      now: resolveNow(values.now, ctx.now),
      canaries: typeof values.canaries === 'string' && values.canaries ? values.canaries.split(',') : [],
      ...(values['min-per-stratum'] !== undefined ? { minPerStratum: int(values['min-per-stratum'], 'min-per-stratum', 1) } : {}),
      ...(values['recent-days'] !== undefined ? { recentDays: int(values['recent-days'], 'recent-days', 7) } : {}),
    };
    const result = await withStore(storePath(ctx.env, ctx.cwd, values.db as string | undefined), { readonly: true }, (store) => sampleFromStore(store, req));
    ctx.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : strataTable(result));
    return EXIT.OK;
  },
};

export default command;
