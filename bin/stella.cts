#!/usr/bin/env node
// The `stella` executable (dist/bin/stella.js, CommonJS). `stella --help` and `stella --version` print
// text the build took from src/cli/main.ts, without Node's ES module loader (~12 ms of start-up on
// Node 20, more than half the help's budget over `node -e 0`); everything else goes to the CLI's ES
// module entry, src/cli/entry.ts, loaded beside this file's directory whether bundled or not.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Replaced by scripts/build.mjs; tsc's own copy (dist/bin/stella.cjs) leaves them undefined and
// sends every command to the entry.
declare const STELLA_TOP_HELP: string | undefined;
declare const STELLA_VERSION: string | undefined;

const args = process.argv.slice(2);
const built = typeof STELLA_TOP_HELP === 'string' && typeof STELLA_VERSION === 'string';
if (built && args.length === 1 && (args[0] === '--help' || args[0] === '-h' || args[0] === 'help')) process.stdout.write(STELLA_TOP_HELP);
else if (built && args.length === 1 && args[0] === '--version') process.stdout.write(`stella ${STELLA_VERSION}\n`);
else void import(pathToFileURL(path.join(__dirname, '../src/cli/entry.js')).href);
