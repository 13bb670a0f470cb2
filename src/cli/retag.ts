// `stella retag`: override the cause tag of replays (one transaction, one audit row per replay), undo
// the last retag, or read the audit trail (`--history`: who, when, old → new, note, undone). The same
// store functions the workstation's `t` and `u` keys call.
//
// A cause tag explains a mismatch: a retag applies to the selected replays that did not pass (failed or
// error); passing ones are left untouched and counted, in the text and in `--json` (`skipped_passing`).
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { MISMATCH_REASONS, type MismatchReason } from '../core/formats.js';
import type { ReplayStore, TagEvent } from '../core/ports.js';
import { isPostgresUrl, redactUrl, storePath, withStore } from '../app/store-path.js';
import { parseFilterOrThrow } from '../core/filter/index.js';
import { auditWho } from '../app/who.js';

const command: Command = {
  name: 'retag',
  summary: 'override the cause tag of failing replays, undo the last retag, or list the audit trail',
  usage:
    "retag (--ids A,B,… | --filter 'cause:feed_drift eco:npm') --tag CAUSE [--note N] [--who W] [--json] | retag --undo [--json] | retag --history [--ids A,B,… | --filter F] [--json]",
  options: {
    ids: { type: 'string' },
    filter: { type: 'string' },
    tag: { type: 'string' },
    note: { type: 'string' },
    who: { type: 'string' },
    undo: { type: 'boolean' },
    history: { type: 'boolean' },
    db: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    ids: 'comma-separated replay ids',
    filter: 'every replay matching the workstation filter (cause: eco: scanner: project: policy: failing, free text)',
    tag: `the new cause: ${MISMATCH_REASONS.join('|')} (only replays that did not pass take it; passing ones are left untouched)`,
    note: 'why (kept in the audit trail)',
    who: 'who is retagging (default $USER, else the OS account; "from ADDR" added over SSH)',
    undo: 'undo the most recent retag not yet undone',
    history: 'list the audit trail (who, when, old → new, note, undone), oldest first; --ids or --filter narrow it',
    db: 'index file (default $STELLA_HOME/index.db) or postgres://… (or $STELLA_DB)',
    json: 'machine-readable result',
  },
  positionals: false,
  async run({ values }, ctx) {
    const dbPath = storePath(ctx.env, ctx.cwd, values.db as string | undefined);
    if (values.history) {
      const extra = (['tag', 'note', 'who', 'undo'] as const).filter((k) => values[k] !== undefined);
      if (extra.length) throw new StellaError('USAGE', `--history takes no ${extra.map((k) => `--${k}`).join(', ')}`);
      if (values.ids !== undefined && values.filter !== undefined) throw new StellaError('USAGE', '--history takes at most one of --ids or --filter');
      const where = isPostgresUrl(dbPath) ? redactUrl(dbPath) : dbPath;
      const events = await withStore(dbPath, { readonly: true }, (store) => historyOf(store, where, values.ids as string | undefined, values.filter as string | undefined));
      if (values.json) ctx.stdout.write(JSON.stringify({ events: events.map(eventJson) }) + '\n');
      else ctx.stdout.write(historyText(events));
      return EXIT.OK;
    }
    const who = auditWho(ctx.env, values.who as string | undefined);
    // Audit times are the wall clock, whatever calendar the home keeps.
    const at = (ctx.wallNow ?? ctx.now)().toISOString();
    if (values.undo) {
      if (values.ids !== undefined || values.filter !== undefined || values.tag !== undefined) {
        throw new StellaError('USAGE', '--undo takes no --ids, --filter or --tag');
      }
      const r = await withStore(dbPath, {}, (store) => store.undoLastRetag({ who, at }));
      if (values.json) ctx.stdout.write(JSON.stringify(r ?? { batch_id: null, restored: 0 }) + '\n');
      else ctx.stdout.write(r ? `undid retag ${r.batch_id}: ${r.restored} replays restored\n` : 'nothing to undo\n');
      return EXIT.OK;
    }
    if ((values.ids === undefined) === (values.filter === undefined)) throw new StellaError('USAGE', 'retag needs exactly one of --ids or --filter (or --undo, --history)');
    const tag = values.tag as string | undefined;
    if (tag === undefined) throw new StellaError('USAGE', 'retag needs --tag CAUSE');
    if (!MISMATCH_REASONS.includes(tag as MismatchReason)) throw new StellaError('USAGE', `unknown --tag '${tag}': expected one of ${MISMATCH_REASONS.join('|')}`);
    await withStore(dbPath, {}, async (store) => {
      const ids = values.ids !== undefined ? idList(String(values.ids)) : await store.idsMatching(parseFilterOrThrow(String(values.filter)));
      if (ids.length === 0) throw new StellaError('USAGE', values.ids !== undefined ? '--ids is empty' : 'no replay matches --filter');
      const matched = new Set(ids).size;
      // The store decides what passed inside its one transaction; a selection of passing replays only
      // writes nothing there, and is a usage error here, as a filter matching nothing is.
      const r = await store.retag(ids, tag as MismatchReason, { who, at, note: values.note as string | undefined });
      if (r.skipped_passing === matched) {
        const what = values.ids !== undefined ? `--ids names only passing replays (${matched})` : `--filter matches only passing replays (${matched})`;
        throw new StellaError('USAGE', `${what}: a cause tag explains a mismatch; nothing to retag (add 'failing' to a filter)`);
      }
      if (values.json) ctx.stdout.write(JSON.stringify({ batch_id: r.batch_id, changed: r.changed, matched, skipped_passing: r.skipped_passing, tag }) + '\n');
      else {
        const left = r.skipped_passing ? `; ${r.skipped_passing} passing left untouched (a cause tag explains a mismatch)` : '';
        ctx.stdout.write(`retag ${r.batch_id}: ${r.changed} of ${matched} replays now tagged ${tag}${left} (undo: stella retag --undo)\n`);
      }
    });
    return EXIT.OK;
  },
};

const idList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** The audit trail, or the events of the replays `--ids` names (each must be indexed) or `--filter` matches. */
async function historyOf(store: ReplayStore, where: string, ids: string | undefined, filter: string | undefined): Promise<TagEvent[]> {
  let events: TagEvent[];
  if (ids !== undefined) {
    const list = [...new Set(idList(ids))];
    if (list.length === 0) throw new StellaError('USAGE', '--ids is empty');
    events = [];
    for (const id of list) {
      if (!(await store.getReplay(id))) throw new StellaError('NOT_FOUND', `no replay '${id}' in the index`, { file: where });
      events.push(...(await store.tagEvents(id)));
    }
  } else if (filter !== undefined) {
    const wanted = new Set(await store.idsMatching(parseFilterOrThrow(filter)));
    events = (await store.tagEvents()).filter((e) => wanted.has(e.replay_id));
  } else {
    events = await store.tagEvents();
  }
  return events.sort(byTime);
}

// Content order, the same on every backend and after a sync (event ids are each store's own): time,
// then batch, then replay (code units, never locale order). One batch shares its time.
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byTime = (a: TagEvent, b: TagEvent): number => cmp(a.at, b.at) || cmp(a.batch_id, b.batch_id) || cmp(a.replay_id, b.replay_id) || a.event_id - b.event_id;

/** An event as `--json` prints it: the port's event without the store-local event id. */
function eventJson(e: TagEvent) {
  return {
    at: e.at,
    batch_id: e.batch_id,
    replay_id: e.replay_id,
    who: e.who,
    old_tag: e.old_tag,
    new_tag: e.new_tag,
    note: e.note,
    undone: e.undone,
    undone_by: e.undone_by,
    undone_at: e.undone_at,
  };
}

// Names and notes are typed by people (and pulled from a team store): quoted when they hold anything a
// terminal would act on, so one event stays one line.
const safe = (s: string): string => (/[\u0000-\u001f\u007f-\u009f]/.test(s) ? JSON.stringify(s) : s);

function historyText(events: readonly TagEvent[]): string {
  if (events.length === 0) return 'no retags recorded\n';
  const replays = new Set(events.map((e) => e.replay_id)).size;
  const batches = new Set(events.map((e) => e.batch_id)).size;
  const out = [`${events.length} retag event${events.length === 1 ? '' : 's'} on ${replays} replay${replays === 1 ? '' : 's'} in ${batches} batch${batches === 1 ? '' : 'es'}, oldest first`];
  for (const e of events) {
    const note = e.note !== null ? ` note ${JSON.stringify(e.note)}` : '';
    const undone = e.undone ? ` (undone by ${safe(e.undone_by ?? '?')} at ${e.undone_at ?? '?'})` : '';
    out.push(`${e.at} ${e.batch_id} ${e.replay_id} ${e.old_tag ?? 'none'} → ${e.new_tag ?? 'none'} by ${safe(e.who)}${note}${undone}`);
  }
  return out.join('\n') + '\n';
}

export default command;
