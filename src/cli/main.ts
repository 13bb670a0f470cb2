// The entry's own imports stay small (`stella --help` loads only these): where a home is and what
// its clock says are imported when a command needs them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { COMMANDS } from './registry.js';
import { EXIT, type CliContext, type Command } from './command.js';
import { isStellaError } from '../core/errors.js';
import { traceStartup } from '../app/startup-trace.js';

export const VERSION = '0.1.0';
const TUI_FLAGS = ['--ascii', '--no-color', '--open', '--db'];

export function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'stella — prove security scans are repeatable; explain why one was not',
    '',
    'usage: stella COMMAND [options]     (stella COMMAND --help for its flags)',
    '',
    'commands:',
    ...lines,
    '',
    'global: --help, --version, --debug (stack traces on error)',
    'stella --ascii | --no-color | --open REPLAY_ID  open the workstation with that flag (as stella tui)',
    '',
  ].join('\n');
}

export function commandHelp(cmd: Command): string {
  const opts = Object.entries(cmd.options).map(([name, spec]) => {
    const flag = `--${name}${spec.type === 'string' ? ' VALUE' : ''}`;
    const short = spec.short ? `-${spec.short}, ` : '    ';
    return `  ${short}${flag.padEnd(26)} ${cmd.optionHelp[name] ?? ''}`;
  });
  return [`usage: stella ${cmd.usage}`, '', cmd.summary, '', 'options:', ...opts, '      --help                     show this help', ''].join('\n');
}

export async function main(ctx: CliContext): Promise<number> {
  traceStartup('main');
  // Plain `stella` on a terminal opens the workstation: on $STELLA_HOME's index when there is one,
  // else on the bundled demo history (built once). Piped or scripted, it prints help. (stdin is
  // looked at only then: Node builds process.stdin on first use, a terminal stream costs start-up.)
  const interactive = ctx.argv.length === 0 && ctx.stdout.isTTY === true && process.stdin.isTTY === true;
  const argv = interactive ? await defaultInteractiveArgv(ctx) : ctx.argv;
  const [name, ...rest] = argv;
  const debug = rest.includes('--debug');
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout.write(topHelp());
    return EXIT.OK;
  }
  if (name === '--version') {
    ctx.stdout.write(`stella ${VERSION}\n`);
    return EXIT.OK;
  }
  // `stella --ascii`, `stella --no-color`, `stella --open ID`: the workstation's own flags open it.
  if (TUI_FLAGS.some((f) => name === f || name.startsWith(`${f}=`))) return runCommand(COMMANDS.find((c) => c.name === 'tui'), 'tui', argv, debug, await withHomeClock(ctx, 'tui', argv));
  const entry = COMMANDS.find((c) => c.name === name);
  return runCommand(entry, name, rest, debug, HOME_CLOCK_READERS.has(name) ? await withHomeClock(ctx, name, rest) : ctx);
}

/** The readers of a home: they see its clock (a demo home's calendar, else the wall clock). */
const HOME_CLOCK_READERS = new Set(['tui', 'fidelity', 'gate', 'canary-gate', 'metrics', 'badge', 'ticket']);

function optionValue(rest: string[], name: string): string | undefined {
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === `--${name}`) return rest[i + 1];
    if (rest[i].startsWith(`--${name}=`)) return rest[i].slice(name.length + 3);
  }
  return undefined;
}

async function withHomeClock(ctx: CliContext, name: string, rest: string[]): Promise<CliContext> {
  const [{ storePath }, { calendarNote, homeClock }] = await Promise.all([import('../app/store-path.js'), import('../app/clock.js')]);
  const clock = homeClock(storePath(ctx.env, ctx.cwd, optionValue(rest, 'db')), ctx.now);
  if (!clock.calendar) return { ...ctx, wallNow: ctx.wallNow ?? ctx.now, calendar: null };
  // The workstation says it on screen; the other readers say it on stderr (stdout stays the report),
  // unless --now names the instant explicitly.
  if (name !== 'tui' && optionValue(rest, 'now') === undefined && !rest.includes('--help') && !rest.includes('-h')) {
    ctx.stderr.write(`stella ${name}: ${calendarNote(clock.calendar)}\n`);
  }
  return { ...ctx, now: clock.now, wallNow: ctx.wallNow ?? ctx.now, calendar: clock.calendar };
}

async function defaultInteractiveArgv(ctx: CliContext): Promise<string[]> {
  const { stellaHome } = await import('../adapters/blob-store.js');
  const home = stellaHome(ctx.env, ctx.cwd);
  // The demo history carries its own "now" (demo --open applies it); a real index opens on the real clock.
  const realIndex = existsSync(path.join(home, 'index.db')) && !existsSync(path.join(home, 'demo/.complete.json'));
  return realIndex ? ['tui'] : ['demo', '--open'];
}

async function runCommand(entry: (typeof COMMANDS)[number] | undefined, name: string, rest: string[], debug: boolean, ctx: CliContext): Promise<number> {
  if (!entry) {
    ctx.stderr.write(`stella: unknown command '${name}' (see stella --help)\n`);
    return EXIT.USAGE;
  }
  const cmd = await entry.load();
  traceStartup(`${name} loaded`);
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.stdout.write(commandHelp(cmd));
    return EXIT.OK;
  }
  try {
    const parsed = parseArgs({
      args: rest.filter((a) => a !== '--debug'),
      options: cmd.options,
      allowPositionals: cmd.positionals !== false,
      strict: true,
    });
    return await cmd.run(parsed as never, ctx);
  } catch (e) {
    if (isStellaError(e)) {
      ctx.stderr.write(`stella ${name}: ${e.oneLine()}\n`);
      if (debug && e.stack) ctx.stderr.write(e.stack + '\n');
      return EXIT.ERROR;
    }
    const code = (e as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      ctx.stderr.write(`stella ${name}: ${(e as Error).message} (see stella ${name} --help)\n`);
      return EXIT.USAGE;
    }
    ctx.stderr.write(`stella ${name}: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    if (debug && e instanceof Error && e.stack) ctx.stderr.write(e.stack + '\n');
    return EXIT.ERROR;
  }
}

export { usageError } from './command.js';
