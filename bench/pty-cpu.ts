// CPU ms (all threads) of a command run in a pty, up to the first stdout write containing `mark`
// (the workstation's first frame), else to its exit: through the cpu-mark preload, so the figure is
// the process's own work, whatever else the machine runs at the time.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ptyTimes } from './lib.js';

const PRELOAD = fileURLToPath(new URL('./cpu-mark.js', import.meta.url));

export async function ptyCpuMs(
  argv: string[],
  opts: { mark?: string; marks?: Record<string, RegExp>; quit?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stella-cpu-'));
  const file = path.join(dir, 'cpu');
  try {
    const env = { ...(opts.env ?? process.env), STELLA_BENCH_CPU_FILE: file, ...(opts.mark ? { STELLA_BENCH_CPU_MARK: opts.mark } : {}) };
    await ptyTimes([argv[0], '--import', PRELOAD, ...argv.slice(1)], {
      env,
      ...(opts.marks ? { marks: opts.marks } : {}),
      ...(opts.quit ? { quit: opts.quit } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    return Number(readFileSync(file, 'utf8').trim().split('\n')[0].split(' ')[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
