// The CLI's module entry: argv → src/cli. Exit codes come back from the command; stack traces only with
// --debug. bin/stella.cts starts here for everything but `--help` and `--version`.
import { main } from './main.js';

const code = await main({
  argv: process.argv.slice(2),
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  now: () => new Date(),
});
process.exitCode = code;
