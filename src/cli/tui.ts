// `stella tui [--open REPLAY_ID] [--db FILE] [--no-color] [--ascii]`: the triage workstation (SPEC §6).
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { usageError } from './command.js';
import { themeFromEnv } from '../../components/theme/theme.js';
import { existsSync } from 'node:fs';
import { openIndex, runWorkstation } from '../app/workstation.js';
import { isPostgresUrl, storePath } from '../app/store-path.js';
import { traceStartup } from '../app/startup-trace.js';

const command: Command = {
  name: 'tui',
  summary: 'open the triage workstation (default when no command is given)',
  usage: 'tui [--open REPLAY_ID] [--db FILE] [--no-color] [--ascii]',
  options: {
    open: { type: 'string' },
    db: { type: 'string' },
    'no-color': { type: 'boolean' },
    ascii: { type: 'boolean' },
  },
  optionHelp: {
    open: 'start on the diff of this replay',
    db: 'the index database (default $STELLA_HOME/index.db)',
    'no-color': 'no colours (bold and inverse stay); NO_COLOR does the same',
    ascii: 'ASCII glyphs only (automatic when the locale is not UTF-8)',
  },
  positionals: false,
  async run(args, ctx) {
    const v = args.values;
    const out = ctx.stdout as NodeJS.WriteStream;
    if (v.open !== undefined && (typeof v.open !== 'string' || v.open.trim() === '')) throw usageError('--open REPLAY_ID: expected a replay id');
    // A broken index is reported before anything is drawn (and without creating a file).
    const dbPath = storePath(ctx.env, ctx.cwd, typeof v.db === 'string' ? v.db : undefined);
    if (isPostgresUrl(dbPath)) throw usageError('the workstation reads a local index: `stella sync --from URL` pulls the team store into it');
    if (existsSync(dbPath)) openIndex(dbPath, { readonly: true }).close();
    traceStartup('index checked');
    if (!out.isTTY || !process.stdin.isTTY) {
      throw usageError('the workstation needs a terminal; for scripts use `stella fidelity`, `stella retag` or `stella ticket` with --json');
    }
    await runWorkstation({
      env: ctx.env,
      cwd: ctx.cwd,
      now: ctx.now,
      ...(ctx.wallNow ? { wallNow: ctx.wallNow } : {}),
      ...(ctx.calendar ? { calendar: ctx.calendar } : {}),
      ...(typeof v.open === 'string' ? { openId: v.open } : {}),
      ...(typeof v.db === 'string' ? { dbPath: v.db } : {}),
      theme: themeFromEnv(ctx.env, { noColor: v['no-color'] === true, ascii: v.ascii === true }),
      stdout: out,
    });
    return EXIT.OK;
  },
};

export default command;
