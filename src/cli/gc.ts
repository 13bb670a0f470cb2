// `stella gc`: expire blobs no kept record references, once they are older than N days.
import path from 'node:path';
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { stellaHome } from '../adapters/blob-store.js';
import { resolveNow, storePath } from '../app/store-path.js';
import { applyGc, planGc, type GcCandidate } from '../app/gc.js';

function parseDays(value: unknown): number {
  if (value === undefined) return 30;
  const m = /^(\d{1,5})d$/.exec(String(value));
  const days = m ? Number(m[1]) : NaN;
  if (!(days >= 1)) throw new StellaError('USAGE', `--older-than must be a number of days like 30d, got '${String(value)}'`);
  return days;
}

function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} B` : `${v.toFixed(1)} ${units[u]}`;
}

const line = (c: GcCandidate) => `  ${c.digest}  ${size(c.bytes).padStart(10)}  ${String(c.age_days).padStart(4)} days  ${c.kind}\n`;

const command: Command = {
  name: 'gc',
  summary: 'expire unreferenced blobs older than N days (records and canonical hashes are kept)',
  usage: 'gc [--older-than 30d] [--dry-run] [--records DIR]… [--db FILE] [--now T] [--json]',
  options: {
    'older-than': { type: 'string' },
    'dry-run': { type: 'boolean' },
    records: { type: 'string', multiple: true },
    db: { type: 'string' },
    now: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    'older-than': 'only blobs stored more than this long ago (default 30d)',
    'dry-run': 'list what would be removed and the bytes it would free; remove nothing',
    records: 'another directory of records to keep referenced (records outside STELLA_HOME)',
    db: 'index whose replays count as kept records (default $STELLA_HOME/index.db)',
    now: 'reference time (RFC 3339; default: now)',
    json: 'machine-readable plan / result',
  },
  positionals: false,
  async run({ values }, ctx) {
    const home = stellaHome(ctx.env, ctx.cwd);
    const plan = await planGc({
      home,
      olderThanDays: parseDays(values['older-than']),
      now: resolveNow(values.now, ctx.now),
      recordRoots: ((values.records as string[] | undefined) ?? []).map((r) => path.resolve(ctx.cwd, r)),
      indexPath: storePath(ctx.env, ctx.cwd, values.db as string | undefined),
    });
    const summary = `${plan.kept_referenced + plan.kept_recent} of ${plan.blobs} blobs: ${plan.kept_referenced} referenced by ${plan.records} records (${plan.indexed_replays} indexed replays), ${plan.kept_recent} younger than ${plan.older_than_days} days`;
    if (values['dry-run']) {
      if (values.json) ctx.stdout.write(JSON.stringify({ dry_run: true, ...plan }) + '\n');
      else {
        ctx.stdout.write(`dry run: would remove ${plan.remove.length} blobs, freeing ${size(plan.bytes)} (${plan.bytes} bytes)\n`);
        for (const c of plan.remove) ctx.stdout.write(line(c));
        ctx.stdout.write(`kept: ${summary}\n`);
      }
      return EXIT.OK;
    }
    const done = applyGc(home, plan);
    if (values.json) ctx.stdout.write(JSON.stringify({ dry_run: false, ...plan, remove: done.removed, bytes: done.bytes, skipped: done.skipped }) + '\n');
    else {
      ctx.stdout.write(`removed ${done.removed.length} blobs, freed ${size(done.bytes)} (${done.bytes} bytes)\n`);
      for (const c of done.removed) ctx.stdout.write(line(c));
      if (done.skipped.length) ctx.stdout.write(`kept ${done.skipped.length} blobs stored again since the plan was made\n`);
      ctx.stdout.write(`kept: ${summary}\n`);
    }
    return EXIT.OK;
  },
};

export default command;
