// `stella ticket REPLAY_ID`: a markdown ticket — manifest, mismatch reason, diff summary, and the
// one command that reproduces the replay.
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { reproductionCommand, ticketMarkdown, type ReproRunner } from '../core/metrics/ticket.js';
import { ticketRecords } from '../app/ticket.js';
import { isPostgresUrl, redactUrl, stellaHome, storePath, withStore } from '../app/store-path.js';
import { urlHasPassword, urlWithoutPassword } from '../../store/postgres/url.js';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** This stella by absolute path: node itself, then the script it runs (the bin link resolved). */
export function stellaExecutable(): string[] {
  const script = process.argv[1];
  if (script && existsSync(script)) return [process.execPath, realpathSync(script)];
  // In-process callers (tests): the built entry point beside this module (dist/src/cli → dist/bin).
  return [process.execPath, fileURLToPath(new URL('../../bin/stella.js', import.meta.url))];
}

/**
 * The STELLA_HOME a reproduction uses (its blobs, its `repro/`), one rule for `ticket`, nightly's
 * tickets and `repro`: $STELLA_HOME when set (always, for a postgres:// store: a URL is no directory),
 * else the index file's directory.
 */
export function storeHome(env: NodeJS.ProcessEnv, cwd: string, dbPath: string): string {
  if (env.STELLA_HOME || isPostgresUrl(dbPath)) return stellaHome(env, cwd);
  return path.dirname(path.resolve(cwd, dbPath));
}

/**
 * How a ticket's `stella repro` line runs pasted into a clean shell: this stella by absolute path, the
 * home named, and `--db` unless the index is `<home>/index.db`. A team store is named by its URL
 * without any password (a ticket is pasted into a tracker; `***` would be sent as the password): the
 * reader supplies it through PGPASSWORD or ~/.pgpass, and the ticket says so when the store needed one.
 */
export function reproRunner(env: NodeJS.ProcessEnv, cwd: string, dbPath: string): ReproRunner {
  const home = storeHome(env, cwd, dbPath);
  const executable = stellaExecutable();
  if (isPostgresUrl(dbPath)) {
    const needsPassword = urlHasPassword(dbPath) || Boolean(env.PGPASSWORD) || Boolean(env.PGPASSFILE);
    return { executable, home, db: urlWithoutPassword(dbPath), ...(needsPassword ? { password: 'PGPASSWORD or ~/.pgpass' as const } : {}) };
  }
  const abs = path.resolve(cwd, dbPath);
  return { executable, home, ...(abs === path.join(home, 'index.db') ? {} : { db: abs }) };
}

const command: Command = {
  name: 'ticket',
  summary: 'write a markdown ticket for a failed replay',
  usage: 'ticket REPLAY_ID [--db FILE] [--json]',
  options: { db: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: { db: 'index file (default $STELLA_HOME/index.db)', json: 'JSON with the markdown and its parts' },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new StellaError('USAGE', 'ticket needs exactly one REPLAY_ID (see stella ticket --help)');
    const dbPath = storePath(ctx.env, ctx.cwd, values.db as string | undefined);
    const { d, records, taggedBy } = await withStore(dbPath, { readonly: true }, async (store) => {
      const detail = await store.getReplay(positionals[0]);
      return {
        d: detail,
        records: detail ? await ticketRecords(store, detail) : undefined,
        taggedBy: detail?.human_tag ? await store.humanTagEvent(detail.replay_id) : null,
      };
    });
    if (!d) {
      throw new StellaError('NOT_FOUND', `no replay '${positionals[0]}' in the index (run \`stella index DIR\` first)`, {
        file: isPostgresUrl(dbPath) ? redactUrl(dbPath) : dbPath,
      });
    }
    const run = reproRunner(ctx.env, ctx.cwd, dbPath);
    const markdown = ticketMarkdown(d, run, records, taggedBy);
    // A passing replay has no cause, whatever tag an older version let a retag put on it.
    const tagged = d.status !== 'passed' && taggedBy ? { who: taggedBy.who, at: taggedBy.at, batch_id: taggedBy.batch_id, note: taggedBy.note } : null;
    if (values.json) {
      const out = {
        replay_id: d.replay_id,
        original_scan_id: d.original_scan_id,
        status: d.status,
        mismatch_reason: d.auto_reason,
        human_tag: d.human_tag,
        tag: d.status === 'passed' ? null : d.tag,
        tagged_by: tagged,
        subtags: d.subtags,
        manifest: { path: d.record_dir ? `${d.record_dir}/manifest.json` : null, sha256: d.manifest_sha256 },
        diff_summary: d.diff_summary,
        reproduce: reproductionCommand(d, run),
        markdown,
      };
      ctx.stdout.write(JSON.stringify(out, null, 2) + '\n');
    } else {
      ctx.stdout.write(markdown);
    }
    return EXIT.OK;
  },
};

export default command;
