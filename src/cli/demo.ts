// `stella demo [--home DIR] [--force] [--open] [--json]`: build the 90-day demo history into $STELLA_HOME
// (once; a marker with the generator version makes later runs instant), then optionally open the
// workstation on it, with the clock at the demo's "now" so its 30/90-day windows cover the history.
import path from 'node:path';
import type { Command } from './command.js';
import { EXIT } from './command.js';
import { usageError } from './command.js';
import { stellaHome } from '../adapters/blob-store.js';
import { buildDemo, readDemoMarker } from '../app/demo.js';
import { preflightOrThrow } from '../app/preflight.js';
import { DEMO_CALENDAR_FILE } from '../app/clock.js';

const command: Command = {
  name: 'demo',
  summary: 'build the bundled 90-day demo history (once) and open the workstation',
  usage: 'demo [--home DIR] [--force] [--open] [--json] [--spec FILE]',
  options: {
    home: { type: 'string' },
    force: { type: 'boolean' },
    open: { type: 'boolean' },
    json: { type: 'boolean' },
    spec: { type: 'string' },
  },
  optionHelp: {
    home: 'where the history goes (default $STELLA_HOME, else ./.stella)',
    force: 'rebuild even when a complete history of this generator version is there',
    open: 'then open the workstation on it (needs a terminal)',
    json: 'print what was built as JSON',
    spec: 'generator inputs (default fixtures/demo/demo.json)',
  },
  positionals: false,
  async run(args, ctx) {
    const v = args.values;
    const home = typeof v.home === 'string' ? path.resolve(ctx.cwd, v.home) : stellaHome(ctx.env, ctx.cwd);
    const out = ctx.stdout as NodeJS.WriteStream;
    if (v.open === true && (!out.isTTY || !process.stdin.isTTY)) {
      throw usageError('--open needs a terminal; build without --open and use `stella fidelity` / `stella gate` in scripts');
    }
    const tty = ctx.stderr.isTTY === true;
    // Minutes of work ahead: a missing native binding or engine is said now, in one line.
    // (An already built history opens at once: no check delays the first frame.)
    if (v.force === true || !readDemoMarker(home)) await preflightOrThrow(ctx.env, { needEngine: false, stderr: ctx.stderr });
    const result = await buildDemo({
      home,
      force: v.force === true,
      ...(typeof v.spec === 'string' ? { specFile: path.resolve(ctx.cwd, v.spec) } : {}),
      onEvent: (e) => {
        if (e.kind === 'start') ctx.stderr.write(`demo: ${e.label}${e.total ? ` (${e.total})` : ''}${tty ? '' : '\n'}`);
        else if (e.kind === 'progress' && tty) ctx.stderr.write(`\rdemo: ${e.id.replace('demo-', '')} ${e.done}/${e.total}`.padEnd(40) + (e.done === e.total ? '\n' : ''));
      },
    });
    if (v.json === true) ctx.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else if (v.open !== true || result.built) {
      const causes = Object.entries(result.causes)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      ctx.stderr.write(
        `demo history ${result.built ? 'built' : 'already built'} in ${home}: ${result.scans} scans, ${result.replays} replays, ${result.failing} failing${causes ? ` (${causes})` : ''}; now = ${result.now}\n`,
      );
    }
    if (v.open !== true) return EXIT.OK;
    const { runWorkstation } = await import('../app/workstation.js');
    const { themeFromEnv } = await import('../../components/theme/theme.js');
    const now = new Date(result.now);
    await runWorkstation({
      env: { ...ctx.env, STELLA_HOME: home },
      cwd: ctx.cwd,
      now: () => now,
      wallNow: ctx.wallNow ?? ctx.now,
      calendar: { now: result.now, file: path.join(home, DEMO_CALENDAR_FILE) },
      theme: themeFromEnv(ctx.env, {}),
      stdout: out,
    });
    return EXIT.OK;
  },
};

export default command;
