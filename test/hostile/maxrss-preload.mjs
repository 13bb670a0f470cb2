// Preloaded with `node --import` by the bundle-memory test: prints the process's peak RSS at exit.
import { writeSync } from 'node:fs';
process.on('exit', () => writeSync(2, `\nmaxrss_kb=${process.resourceUsage().maxRSS}\n`));
