// Fail fast: before long work (the demo build, the benchmarks) check what that work will need and say
// in one line what to run, instead of failing minutes in with a stack from deep inside a dependency.
import { createRequire } from 'node:module';
import { StellaError, isStellaError } from '../core/errors.js';

export const SQLITE_REBUILD_HINT = 'run `npm rebuild better-sqlite3` (compiles from source, a few minutes)';

/**
 * Does better-sqlite3's native binding load? `from` is where the package is resolved from (default: this
 * module). Returns null when it loads, else the one line that says what is wrong and what to run.
 */
export function sqliteBindingProblem(from: string = import.meta.url): string | null {
  let Database: new (file: string) => { close(): void };
  try {
    Database = createRequire(from)('better-sqlite3') as typeof Database;
  } catch (e) {
    return `better-sqlite3 is not installed (${firstLine(e)}): run \`npm install\``;
  }
  try {
    // The binding loads on the first database, not on require.
    new Database(':memory:').close();
    return null;
  } catch (e) {
    const msg = firstLine(e);
    if (/bindings file|\.node|NODE_MODULE_VERSION|invalid ELF|cannot open shared object/i.test(msg)) {
      return `better-sqlite3's native binding is missing or built for another Node (${msg.slice(0, 120)}): ${SQLITE_REBUILD_HINT}`;
    }
    return `better-sqlite3 does not open a database (${msg.slice(0, 120)}): ${SQLITE_REBUILD_HINT}`;
  }
}

async function engineProblem(env: NodeJS.ProcessEnv): Promise<string | null> {
  const { engineFromEnv, ping, START_ENGINE_HINT } = await import('../adapters/docker/engine.js');
  try {
    await ping(engineFromEnv(env));
    return null;
  } catch (e) {
    const msg = isStellaError(e) ? e.message : firstLine(e);
    return msg.includes('dockerd') ? msg : `${msg}; ${START_ENGINE_HINT}`;
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0].trim();
}

export interface PreflightResult {
  /** Problems that stop the work (one line each). */
  fatal: string[];
  /** Problems that only stop part of it (e.g. no engine: the build runs, re-runs will not). */
  notes: string[];
}

/**
 * Check the native bindings and the engine. `needEngine` makes an unreachable engine fatal (benchmarks
 * that run containers); otherwise it is a note (the demo builds in process; `r` and `stella repro` need it).
 */
export async function preflight(env: NodeJS.ProcessEnv, o: { needEngine: boolean; sqliteFrom?: string }): Promise<PreflightResult> {
  const fatal: string[] = [];
  const notes: string[] = [];
  const sqlite = sqliteBindingProblem(o.sqliteFrom);
  if (sqlite) fatal.push(sqlite);
  const reason = await engineProblem(env);
  if (reason) {
    const line = `the Docker engine is not reachable: ${reason}`;
    if (o.needEngine) fatal.push(line);
    else notes.push(`${line} (re-runs with r and \`stella repro\` need it)`);
  }
  return { fatal, notes };
}

/** Throw the first fatal problem as one line (exit 2); write the notes to `stderr`. */
export async function preflightOrThrow(env: NodeJS.ProcessEnv, o: { needEngine: boolean; stderr?: NodeJS.WritableStream; sqliteFrom?: string }): Promise<void> {
  const r = await preflight(env, o);
  for (const n of r.notes) o.stderr?.write(`note: ${n}\n`);
  if (r.fatal.length > 0) throw new StellaError(r.fatal[0].startsWith('the Docker engine') ? 'ENGINE_UNREACHABLE' : 'IO', r.fatal.join('; '));
}
