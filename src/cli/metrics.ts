// `stella metrics`: Prometheus text exposition; `--serve PORT` serves /metrics on 127.0.0.1 only.
import http from 'node:http';
import type { CliContext, Command } from './command.js';
import { EXIT } from './command.js';
import { StellaError } from '../core/errors.js';
import { windowRange } from '../core/fidelity/index.js';
import { renderPrometheus } from '../core/metrics/prometheus.js';
import { parseWindow, resolveNow, storePath, withStore } from '../app/store-path.js';
import type { RollupScope } from '../core/ports.js';

function render(dbPath: string, now: Date, days: number, scope: RollupScope = {}): Promise<string> {
  return withStore(dbPath, { readonly: true }, async (store) => {
    const [window, allTime] = await Promise.all([store.rollup(windowRange(now, days), ['combo'], scope), store.rollup(null, ['all', 'status', 'cause'], scope)]);
    return renderPrometheus({ window, windowDays: days, allTime });
  });
}

function serve(ctx: CliContext, port: number, text: () => Promise<string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' || (url !== '/metrics' && url !== '/')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: GET /metrics\n');
        return;
      }
      text().then(
        (body) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(e as Error).message}\n`),
      );
    });
    server.on('error', (e: NodeJS.ErrnoException) =>
      reject(new StellaError('IO', `cannot listen on 127.0.0.1:${port}: ${e.code ?? e.message}`)),
    );
    // Loopback only: metrics name projects and scanners, which are not for the whole network.
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      ctx.stderr.write(`serving http://127.0.0.1:${bound}/metrics (Ctrl-C to stop)\n`);
    });
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close(() => resolve(EXIT.OK));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

const command: Command = {
  name: 'metrics',
  summary: 'print or serve Prometheus metrics',
  usage: 'metrics [--serve PORT] [--window 30d] [--now T] [--include-what-if] [--db FILE]',
  options: {
    serve: { type: 'string' },
    window: { type: 'string' },
    now: { type: 'string' },
    db: { type: 'string' },
    json: { type: 'boolean' },
    'include-what-if': { type: 'boolean' },
  },
  optionHelp: {
    serve: 'serve GET /metrics on 127.0.0.1:PORT until interrupted (0 = any free port)',
    window: 'fidelity gauge window (default 30d)',
    now: 'end of the window (RFC 3339; default: now, per scrape when serving)',
    db: 'index file (default $STELLA_HOME/index.db)',
    json: 'wrap the exposition text in JSON ({"text": …})',
    'include-what-if': 'count what-if replays too (bisect experiments, canary runs); by default only pinned (production) replays count',
  },
  positionals: false,
  async run({ values }, ctx) {
    const days = parseWindow(values.window);
    const dbPath = storePath(ctx.env, ctx.cwd, values.db as string | undefined);
    const nowOf = () => resolveNow(values.now, ctx.now);
    const scope = { includeWhatIf: values['include-what-if'] === true };
    nowOf();
    if (values.serve !== undefined) {
      const port = Number(values.serve);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StellaError('USAGE', `--serve needs a port 0-65535, got '${String(values.serve)}'`);
      // Fail before listening if the index is missing or unreadable.
      await render(dbPath, nowOf(), days, scope);
      return serve(ctx, port, () => render(dbPath, nowOf(), days, scope));
    }
    const text = await render(dbPath, nowOf(), days, scope);
    ctx.stdout.write(values.json ? JSON.stringify({ text }) + '\n' : text);
    return EXIT.OK;
  },
};

export default command;
