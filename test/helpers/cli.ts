// Run the built CLI as a real child process (exit codes, stdout, stderr as a user sees them).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const STELLA_BIN = path.join(REPO, 'dist/bin/stella.js');
export const THIRD_PARTY = path.join(REPO, 'fixtures/third_party');

/** The shipped golden canary set (fixtures/canaries/canaries.json): the clock, feed time and inputs tests scan. */
export const CANARIES = JSON.parse(readFileSync(path.join(REPO, 'fixtures/canaries/canaries.json'), 'utf8')) as {
  clock: string;
  feed: { generated_at: string };
  canaries: Array<{ id: string; input: string }>;
};

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runStella(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STELLA_BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(opts.input ?? '');
  });
}
