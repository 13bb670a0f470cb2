// `STELLA_TRACE_STARTUP=1 stella tui 2>trace.txt`: one stderr line per start-up step: ms since the
// process started (performance.now() counts from Node's own start) and the CPU the process has used
// so far (all threads), to see where the time between exec and the first frame goes; on a busy
// machine the CPU figure moves less than the wall clock. Off by default: one environment lookup.
import { performance } from 'node:perf_hooks';

const tracing = process.env.STELLA_TRACE_STARTUP === '1';

export function traceStartup(step: string): void {
  if (!tracing) return;
  const cpu = process.cpuUsage();
  process.stderr.write(`stella-trace ${performance.now().toFixed(1)} ms  cpu ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms  ${step}\n`);
}
