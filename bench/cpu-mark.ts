// Preloaded by the start-up benches (`node --import dist/bench/cpu-mark.js …`): appends one line to
// $STELLA_BENCH_CPU_FILE — the CPU the process has used (all threads) and the ms since it started —
// at the first stdout write that contains $STELLA_BENCH_CPU_MARK (the workstation's first frame), or
// at exit when no mark is set. On a busy machine wall time stretches with the load; CPU time does not.
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const file = process.env.STELLA_BENCH_CPU_FILE;
const mark = process.env.STELLA_BENCH_CPU_MARK;

function record(): void {
  const c = process.cpuUsage();
  if (file) appendFileSync(file, `${(c.user + c.system) / 1000} ${performance.now()}\n`);
}

if (mark) {
  const write = process.stdout.write.bind(process.stdout) as (...a: unknown[]) => boolean;
  let seen = false;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    if (!seen && String(chunk).includes(mark)) {
      seen = true;
      record();
    }
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
} else {
  process.on('exit', record);
}
