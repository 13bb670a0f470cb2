// Benchmark helpers: every figure is printed beside the tool a user would otherwise use, measured in
// the same run, as a ratio.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface Figure {
  bench: string;
  what: string;
  value: number;
  unit: string;
  /** What the same work costs with the usual tool; omitted only for absolute targets. */
  baseline?: { tool: string; value: number };
  /** Higher is better (throughput) or lower is better (time)? Decides how the ratio reads. */
  better: 'higher' | 'lower';
  target?: string;
}

export function report(f: Figure): void {
  const v = `${fmt(f.value)} ${f.unit}`;
  let line = `${f.bench.padEnd(10)} ${f.what.padEnd(44)} ${v.padStart(16)}`;
  if (f.baseline) {
    const ratio = f.better === 'higher' ? f.value / f.baseline.value : f.baseline.value / f.value;
    line += `   vs ${f.baseline.tool}: ${fmt(f.baseline.value)} ${f.unit}  → ${ratio.toFixed(2)}× ${ratio >= 1 ? 'better' : 'worse'}`;
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
