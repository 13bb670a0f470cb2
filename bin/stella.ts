#!/usr/bin/env node
// argv → src/cli. Exit codes come back from the command; stack traces only with --debug.
import { main } from '../src/cli/main.js';

const code = await main({
  argv: process.argv.slice(2),
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  now: () => new Date(),
});
process.exitCode = code;
