// What every `stella` subcommand module exports. Commands get their IO through CliContext so tests can
// run them in-process, and return the exit code instead of calling process.exit.
import type { ParseArgsConfig } from 'node:util';
import { StellaError } from '../core/errors.js';

export interface CliContext {
  argv: string[];
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Injected clock: commands never read Date.now() themselves. For readers of a demo home this is
   * the demo's calendar (src/app/clock.ts); `wallNow` is then the wall clock, for audit times. */
  now: () => Date;
  wallNow?: () => Date;
  /** Set when `now` is a demo home's calendar. */
  calendar?: { now: string; file: string } | null;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  name: string;
  summary: string;
  /** Usage line after `stella `, e.g. `canon FILE [--schema S] [--hash]`. */
  usage: string;
  options: OptionSpec;
  /** One line per option for --help, keyed by option name. */
  optionHelp: Record<string, string>;
  /** Allow positional arguments (default true). */
  positionals?: boolean;
  run(args: ParsedArgs, ctx: CliContext): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** Exit codes shared by every command (SPEC §4, §5). */
export const EXIT = { OK: 0, DIFFERS: 1, FAIL: 1, USAGE: 2, ERROR: 2, WARN: 3 } as const;

/** A bad command line: one line on stderr, exit 2. */
export function usageError(message: string): StellaError {
  return new StellaError('USAGE', message);
}
