// `stella retag`: override the cause tag of replays (one transaction, one audit row per replay), or
// undo the last retag. The same store functions the workstation's `t` and `u` keys call.
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { MISMATCH_REASONS, type MismatchReason } from '../core/formats.js';
import { storePath, withStore } from '../app/store-path.js';
import { parseFilterOrThrow } from '../core/filter/index.js';
import { auditWho } from '../app/who.js';

const command: Command = {
  name: 'retag',
  summary: 'override the cause tag of replays, or undo the last retag',
  usage: "retag (--ids A,B,… | --filter 'cause:feed_drift eco:npm') --tag CAUSE [--note N] [--who W] [--json] | retag --undo [--json]",
  options: {
    ids: { type: 'string' },
    filter: { type: 'string' },
    tag: { type: 'string' },
    note: { type: 'string' },
    who: { type: 'string' },
    undo: { type: 'boolean' },
    db: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    ids: 'comma-separated replay ids',
    filter: 'every replay matching the workstation filter (cause: eco: scanner: project: policy: failing, free text)',
    tag: `the new cause: ${MISMATCH_REASONS.join('|')}`,
    note: 'why (kept in the audit trail)',
    who: 'who is retagging (default $USER, else the OS account; "from ADDR" added over SSH)',
    undo: 'undo the most recent retag not yet undone',
    db: 'index file (default $STELLA_HOME/index.db)',
    json: 'machine-readable result',
  },
  positionals: false,
  async run({ values }, ctx) {
    const who = auditWho(ctx.env, values.who as string | undefined);
    // Audit times are the wall clock, whatever calendar the home keeps.
    const at = (ctx.wallNow ?? ctx.now)().toISOString();
    if (values.undo) {
      if (values.ids !== undefined || values.filter !== undefined || values.tag !== undefined) {
        throw new StellaError('USAGE', '--undo takes no --ids, --filter or --tag');
      }
      const r = await withStore(storePath(ctx.env, ctx.cwd, values.db as string | undefined), {}, (store) => store.undoLastRetag({ who, at }));
      if (values.json) ctx.stdout.write(JSON.stringify(r ?? { batch_id: null, restored: 0 }) + '\n');
      else ctx.stdout.write(r ? `undid retag ${r.batch_id}: ${r.restored} replays restored\n` : 'nothing to undo\n');
      return EXIT.OK;
    }
    if ((values.ids === undefined) === (values.filter === undefined)) throw new StellaError('USAGE', 'retag needs exactly one of --ids or --filter (or --undo)');
    const tag = values.tag as string | undefined;
    if (tag === undefined) throw new StellaError('USAGE', 'retag needs --tag CAUSE');
    if (!MISMATCH_REASONS.includes(tag as MismatchReason)) throw new StellaError('USAGE', `unknown --tag '${tag}': expected one of ${MISMATCH_REASONS.join('|')}`);
    await withStore(storePath(ctx.env, ctx.cwd, values.db as string | undefined), {}, async (store) => {
      const ids =
        values.ids !== undefined
          ? String(values.ids)
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : await store.idsMatching(parseFilterOrThrow(String(values.filter)));
      if (ids.length === 0) throw new StellaError('USAGE', values.ids !== undefined ? '--ids is empty' : 'no replay matches --filter');
      const r = await store.retag(ids, tag as MismatchReason, { who, at, note: values.note as string | undefined });
      if (values.json) ctx.stdout.write(JSON.stringify({ ...r, matched: ids.length, tag }) + '\n');
      else ctx.stdout.write(`retag ${r.batch_id}: ${r.changed} of ${ids.length} replays now tagged ${tag} (undo: stella retag --undo)\n`);
    });
    return EXIT.OK;
  },
};

export default command;
