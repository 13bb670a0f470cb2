// `STELLA_TRACE_STARTUP=1 stella tui 2>trace.txt`: one stderr line per start-up step, in ms since the
// process started (performance.now() counts from Node's own start), to see where the time between exec
// and the first frame goes. Off by default: one environment lookup at load, nothing else.
import { performance } from 'node:perf_hooks';

const tracing = process.env.STELLA_TRACE_STARTUP === '1';

export function traceStartup(step: string): void {
  if (tracing) process.stderr.write(`stella-trace ${performance.now().toFixed(1)} ms ${step}\n`);
}
