// `npm run bench`: runs every bench/*.bench.ts (compiled to dist/bench) in name order, or the ones
// named on the command line (`npm run bench -- canon scan`).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { preflight } from '../src/app/preflight.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.js$/, '')))
  .sort();

// Benchmarks run containers and SQLite for minutes: a missing binding or engine is said first, in one line.
const check = await preflight(process.env, { needEngine: true });
if (check.fatal.length > 0) {
  for (const line of check.fatal) process.stderr.write(`bench: ${line}\n`);
  process.exit(2);
}

let failed = 0;
for (const f of files) {
  const mod = (await import(pathToFileURL(path.join(here, f)).href)) as { default: () => Promise<void> };
  process.stdout.write(`\n# ${f.replace(/\.bench\.js$/, '')}\n`);
  try {
    await mod.default();
  } catch (e) {
    failed++;
    process.stdout.write(`  FAILED: ${(e as Error).stack ?? e}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
