// Child process of the tui bench: opens the workstation on the index named in argv and prints the
// measured frame timings as one JSON line (a fresh process, so its peak RSS is the workstation's).
import { probe } from './tui.bench.js';

const result = await probe(process.argv[2]);
process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
