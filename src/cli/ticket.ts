// `stella ticket REPLAY_ID`: a markdown ticket — manifest, mismatch reason, diff summary, and the
// one command that reproduces the replay.
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { reproductionCommand, ticketMarkdown } from '../core/metrics/ticket.js';
import { isPostgresUrl, redactUrl, stellaHome, storePath, withStore } from '../app/store-path.js';
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

const command: Command = {
  name: 'ticket',
  summary: 'write a markdown ticket for a failed replay',
  usage: 'ticket REPLAY_ID [--db FILE] [--json]',
  options: { db: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: { db: 'index file (default $STELLA_HOME/index.db)', json: 'JSON with the markdown and its parts' },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new StellaError('USAGE', 'ticket needs exactly one REPLAY_ID (see stella ticket --help)');
    const dbPath = storePath(ctx.env, ctx.cwd, values.db as string | undefined);
    const d = await withStore(dbPath, { readonly: true }, (store) => store.getReplay(positionals[0]));
    if (!d) {
      throw new StellaError('NOT_FOUND', `no replay '${positionals[0]}' in the index (run \`stella index DIR\` first)`, {
        file: isPostgresUrl(dbPath) ? redactUrl(dbPath) : dbPath,
      });
    }
    // A team store is named by its URL (without the password: a ticket is pasted into a tracker; the
    // reader supplies it through PGPASSWORD or ~/.pgpass); a local index by its file beside the home.
    const abs = isPostgresUrl(dbPath) ? null : path.resolve(ctx.cwd, dbPath);
    const run = abs
      ? { executable: stellaExecutable(), home: path.dirname(abs), ...(path.basename(abs) === 'index.db' ? {} : { db: abs }) }
      : { executable: stellaExecutable(), home: stellaHome(ctx.env, ctx.cwd), db: redactUrl(dbPath) };
    const markdown = ticketMarkdown(d, run);
    if (values.json) {
      const out = {
        replay_id: d.replay_id,
        original_scan_id: d.original_scan_id,
        status: d.status,
        mismatch_reason: d.auto_reason,
        human_tag: d.human_tag,
        tag: d.tag,
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
