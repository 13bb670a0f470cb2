// `stella sync --from postgres://…`: pull what is new in the team store into the local index, push
// local retags back; conflicting retags are reported (both kept, the later wins).
import type { Command } from './command.js';
import { EXIT, usageError } from './command.js';
import { storePath } from '../app/store-path.js';
import { isPostgresUrl } from '../../store/open.js';
import { syncFrom } from '../app/sync.js';

const command: Command = {
  name: 'sync',
  summary: 'pull the team store (PostgreSQL) into the local index and push local retags',
  usage: 'sync --from postgres://… [--db FILE] [--json]',
  options: { from: { type: 'string' }, db: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: { from: 'the team store URL (default $STELLA_DB)', db: 'local index file (default $STELLA_HOME/index.db)', json: 'the summary as JSON' },
  positionals: false,
  async run({ values }, ctx) {
    const from = (values.from as string | undefined) ?? ctx.env.STELLA_DB;
    if (!from || !isPostgresUrl(from)) throw usageError('sync needs --from postgres://USER@HOST/DB (or STELLA_DB set to one)');
    const local = storePath({ ...ctx.env, STELLA_DB: '' }, ctx.cwd, values.db as string | undefined);
    if (isPostgresUrl(local)) throw usageError('--db names the local index file; the team store goes in --from');
    const s = await syncFrom(from, local);
    if (values.json) {
      ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
      return EXIT.OK;
    }
    const p = s.pulled;
    const lines = [
      `synced with ${s.from}: pulled ${p.scans} scans, ${p.replays} replays (${p.inserted} new, ${p.updated} updated, ${p.unchanged} unchanged), ` +
        `${p.tag_events} retags, ${p.undone} undos; pushed ${s.pushed.tag_events} retags, ${s.pushed.undone} undos`,
    ];
    for (const c of s.conflicts) {
      lines.push(`  ${c.replay_id}: ${c.loser.who}'s ${c.loser.tag ?? 'untagged'} (${c.loser.at}) lost to ${c.winner.who}'s ${c.winner.tag ?? 'untagged'} (${c.winner.at}); both kept in the audit trail`);
    }
    ctx.stdout.write(lines.join('\n') + '\n');
    return EXIT.OK;
  },
};

export default command;
