// Benchmark helpers: every figure is printed beside the tool a user would otherwise use, measured in
// the same run, as a ratio.
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface Figure {
  bench: string;
  what: string;
  value: number;
  unit: string;
  /**
   * What the same work costs with the usual tool; omitted only for absolute targets. `atLeast`: the
   * tool was stopped at a timeout, so its figure (and the ratio) is a lower bound.
   */
  baseline?: { tool: string; value: number; atLeast?: boolean };
  /** Higher is better (throughput) or lower is better (time)? Decides how the ratio reads. */
  better: 'higher' | 'lower';
  target?: string;
}

export function report(f: Figure): void {
  const v = `${fmt(f.value)} ${f.unit}`;
  let line = `${f.bench.padEnd(10)} ${f.what.padEnd(44)} ${v.padStart(16)}`;
  if (f.baseline) {
    const ratio = f.better === 'higher' ? f.value / f.baseline.value : f.baseline.value / f.value;
    const bound = f.baseline.atLeast ? '> ' : '';
    line += `   vs ${f.baseline.tool}: ${bound}${fmt(f.baseline.value)} ${f.unit}  → ${f.baseline.atLeast ? '≥ ' : ''}${ratio.toFixed(2)}× ${ratio >= 1 ? 'better' : 'worse'}`;
  }
  if (f.target) line += `   [target ${f.target}]`;
  process.stdout.write(line + '\n');
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Wall time of fn in ms. */
export async function timeMs(fn: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Wall time of a shell pipeline in ms (bash -c), failing loudly if the tool is missing. */
export function shellMs(cmd: string): number {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`bench baseline failed: ${cmd}: ${r.stderr?.toString().slice(0, 400)}`);
  return ms;
}

export function hasTool(name: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export interface PtyTimes {
  /** ms from spawning the command to the first output matching each mark (absent: never seen). */
  marks: Record<string, number>;
  /** ms from spawning the command to its exit. */
  exitMs: number;
}

/**
 * Run `argv` in a pseudo-terminal of `cols`×`rows` (util-linux `script`, so the program sees a real
 * tty exactly as in a terminal) and time, from exec, the first output that matches each mark (escape
 * sequences stripped) and the exit. Once every mark was seen, `quit` is typed.
 */
export function ptyTimes(
  argv: string[],
  opts: { marks?: Record<string, RegExp>; quit?: string; env?: NodeJS.ProcessEnv; cols?: number; rows?: number; timeoutMs?: number } = {},
): Promise<PtyTimes> {
  const marks = opts.marks ?? {};
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const inner = `stty cols ${opts.cols ?? 80} rows ${opts.rows ?? 24}; exec ${argv.map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('script', ['-q', '-f', '-e', '-c', inner, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const seen: Record<string, number> = {};
    let text = '';
    let quitSent = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')}: no ${Object.keys(marks).filter((m) => !(m in seen)).join(', ') || 'exit'} within ${opts.timeoutMs ?? 60_000} ms; screen: ${text.slice(-600)}`));
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (b: Buffer) => {
      const now = performance.now() - t0;
      text += b.toString('utf8').replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
      for (const [name, re] of Object.entries(marks)) if (!(name in seen) && re.test(text)) seen[name] = now;
      if (!quitSent && opts.quit !== undefined && Object.keys(marks).every((m) => m in seen)) {
        quitSent = true;
        child.stdin.write(opts.quit);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const exitMs = performance.now() - t0;
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code} in the pty: ${text.slice(-600)}`));
      else resolve({ marks: seen, exitMs });
    });
  });
}
