// `stella worker --engine DOCKER_HOST [--db postgres://…] [--store DIR] [--id ID] [--lease 60s] [--once|--until-empty]`
import path from 'node:path';
import type { Command } from './command.js';
import { EXIT, usageError } from './command.js';
import { isPostgresUrl, redactUrl, stellaHome, storePath } from '../app/store-path.js';
import { defaultWorkerId, parseDuration, runWorker, type WorkerUntil } from '../app/worker.js';

const EXIT_INTERRUPTED = 130;

const command: Command = {
  name: 'worker',
  summary: 'run replay jobs from the team store\'s queue on one Docker engine (stella nightly enqueues them)',
  usage: 'worker --engine DOCKER_HOST [--db postgres://…] [--store DIR] [--id ID] [--lease 60s] [--timeout S] [--once|--until-empty]',
  options: {
    engine: { type: 'string' },
    db: { type: 'string' },
    store: { type: 'string' },
    id: { type: 'string' },
    lease: { type: 'string' },
    timeout: { type: 'string' },
    poll: { type: 'string' },
    once: { type: 'boolean' },
    'until-empty': { type: 'boolean' },
  },
  optionHelp: {
    engine: 'the Docker engine replays run on: unix:///run/docker.sock, tcp://host:2376 (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) or ssh://user@host',
    db: 'the team store holding the queue and the index (default $STELLA_DB; must be postgres://…)',
    store: 'the shared store every worker reaches: blobs, images, records under replays/<batch>/ (default $STELLA_HOME)',
    id: 'this worker\'s name in the queue and on its containers (default HOSTNAME-PID)',
    lease: 'how long a claimed job stays ours without a heartbeat (default 60s; renewed every third of it); a killed worker\'s job is retried after it',
    timeout: 'kill a scanner after S seconds (default 600); the replay is then an error record',
    poll: 'how often an idle worker asks for work (default 1s)',
    once: 'run at most one job, then exit',
    'until-empty': 'exit once no job is queued or leased (a dead worker\'s leases are waited for and retried)',
  },
  positionals: false,
  async run({ values }, ctx) {
    if (typeof values.engine !== 'string' || values.engine === '') throw usageError('worker needs --engine DOCKER_HOST (e.g. unix:///var/run/docker.sock)');
    const db = storePath(ctx.env, ctx.cwd, values.db as string | undefined);
    if (!isPostgresUrl(db)) throw usageError(`worker needs the team store: --db postgres://… or STELLA_DB (got '${redactUrl(db)}')`);
    if (values.once === true && values['until-empty'] === true) throw usageError('use either --once or --until-empty');
    const until: WorkerUntil = values.once === true ? 'once' : values['until-empty'] === true ? 'empty' : 'stopped';
    const leaseMs = parseDuration(values.lease, '--lease', 60_000);
    if (leaseMs < 1000) throw usageError(`--lease must be at least 1s, got '${String(values.lease)}'`);
    let timeoutMs: number | undefined;
    if (values.timeout !== undefined) {
      const n = Number(values.timeout);
      if (!(Number.isFinite(n) && n > 0)) throw usageError(`--timeout ${String(values.timeout)}: expected a positive number of seconds`);
      timeoutMs = Math.round(n * 1000);
    }
    const stop = new AbortController();
    const abort = new AbortController();
    const log = (line: string) => ctx.stderr.write(`stella worker: ${line}\n`);
    const onSignal = (sig: string) => {
      if (!stop.signal.aborted) {
        log(`${sig}: finishing the current job, then exiting (send it again to give the job back now)`);
        stop.abort();
      } else if (!abort.signal.aborted) {
        log(`${sig}: aborting the current job and giving it back`);
        abort.abort();
      }
    };
    const onTerm = () => onSignal('SIGTERM');
    const onInt = () => onSignal('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    try {
      const s = await runWorker({
        dbUrl: db,
        engine: values.engine,
        storeDir: typeof values.store === 'string' ? path.resolve(ctx.cwd, values.store) : stellaHome(ctx.env, ctx.cwd),
        workerId: typeof values.id === 'string' ? values.id : defaultWorkerId(),
        leaseMs,
        until,
        pollMs: parseDuration(values.poll, '--poll', 1000),
        ...(timeoutMs ? { timeoutMs } : {}),
        env: ctx.env,
        wallNow: ctx.wallNow ?? ctx.now,
        log,
        stop: stop.signal,
        abort: abort.signal,
      });
      log(`exiting: ${s.done} done, ${s.released} given back, ${s.lost} lost to another worker, ${s.reaped} orphan container(s) reaped`);
      return abort.signal.aborted ? EXIT_INTERRUPTED : EXIT.OK;
    } finally {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    }
  },
};

export default command;
