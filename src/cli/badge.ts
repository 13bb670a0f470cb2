// `stella badge --svg|--json`: the Replay Fidelity badge (BF over 30 days, coloured by the gate).
import path from 'node:path';
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { badgeJson, badgeSvg } from '../core/metrics/badge.js';
import { writeFileAtomic } from '../adapters/fs.js';
import { resolveNow, storePath, withStore } from '../app/store-path.js';
import { gateFromStore } from '../app/dashboard.js';

const command: Command = {
  name: 'badge',
  summary: 'write the Replay Fidelity badge (SVG or shields JSON)',
  usage: 'badge --svg|--json [--out FILE] [--now T] [--include-what-if] [--db FILE]',
  options: { svg: { type: 'boolean' }, json: { type: 'boolean' }, out: { type: 'string' }, now: { type: 'string' }, db: { type: 'string' }, 'include-what-if': { type: 'boolean' } },
  optionHelp: {
    svg: 'an SVG badge: "Replay Fidelity: 99.2%"',
    json: 'a shields.io endpoint JSON document',
    out: 'write to FILE (atomically) instead of stdout',
    now: 'end of the 30-day window (RFC 3339; default: now)',
    db: 'index file (default $STELLA_HOME/index.db)',
    'include-what-if': 'count what-if replays too (bisect experiments, canary runs); by default only pinned (production) replays count',
  },
  positionals: false,
  async run({ values }, ctx) {
    if (Boolean(values.svg) === Boolean(values.json)) throw new StellaError('USAGE', 'badge needs exactly one of --svg or --json');
    const now = resolveNow(values.now, ctx.now);
    const gate = await withStore(storePath(ctx.env, ctx.cwd, values.db as string | undefined), { readonly: true }, (store) =>
      gateFromStore(store, now, undefined, { includeWhatIf: values['include-what-if'] === true }),
    );
    const b = badgeJson(gate.bf_30d, gate.state);
    const text = values.svg ? badgeSvg(b) : JSON.stringify(b) + '\n';
    if (values.out) writeFileAtomic(path.resolve(ctx.cwd, String(values.out)), text);
    else ctx.stdout.write(text);
    return EXIT.OK;
  },
};

export default command;
