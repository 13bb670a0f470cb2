// `stella nightly [--db postgres://…] [--n 200 --by … --window 30d --seed S] [--date YYYY-MM-DD] [--wait] [--tickets DIR]`
import path from 'node:path';
import type { Command } from './command.js';
import { EXIT, usageError } from './command.js';
import { percentText } from '../core/fidelity/index.js';
import { ungatedText } from '../core/gate/index.js';
import { isPostgresUrl, redactUrl, resolveNow, stellaHome, storePath, parseWindow } from '../app/store-path.js';
import { parseBy } from '../app/sample.js';
import { checkDate, runNightly, type NightlyResult } from '../app/nightly.js';
import { parseDuration } from '../app/worker.js';
import { reproRunner } from './ticket.js';

const int = (v: unknown, name: string, dflt: number): number => {
  if (v === undefined) return dflt;
  const s = String(v);
  if (!/^\d{1,10}$/.test(s)) throw usageError(`--${name} must be a non-negative integer, got '${s}'`);
  return Number(s);
};

function summary(r: NightlyResult): string {
  const j = r.jobs;
  const lines = [
    r.sampled.reused_batch
      ? `nightly ${r.batch}: batch already enqueued (${r.enqueued.existing} jobs); nothing new enqueued`
      : `nightly ${r.batch}: sampled ${r.sampled.chosen} of ${r.sampled.population} scans (seed ${r.sampled.seed}); enqueued ${r.enqueued.added} jobs (${r.enqueued.existing} already there)`,
    ...r.enqueued.skipped.map((s) => `  not enqueued: ${s.scan_id}: ${s.reason}`),
    `jobs: ${j.done} done, ${j.failed} failed, ${j.leased} running, ${j.queued} queued${r.waited?.timed_out ? ' (stopped waiting)' : ''}`,
    ...r.failed_jobs.map((f) => `  failed after ${f.attempts} attempts: ${f.key}: ${f.last_error ?? 'no error recorded'}`),
    `index: ${r.indexed.records} records of this batch (${r.indexed.inserted} new, ${r.indexed.updated} updated, ${r.indexed.unchanged} unchanged${r.indexed.skipped ? `, ${r.indexed.skipped} refused` : ''})`,
    `gate: ${r.gate.state.toUpperCase()} — BF 30d ${percentText(r.gate.bf_30d)} over ${r.gate.n_30d} replays`,
    ...r.gate.reasons.map((x) => `  ${x}`),
    ...r.gate.ungated.map((b) => `  ${ungatedText(b, r.gate.min_bucket_replays)}`),
    `tickets: ${r.tickets.written.length} new failure(s), ${r.tickets.known.length} already ticketed`,
    ...r.tickets.written.map((t) => `  ${t.file} (${t.failure})`),
  ];
  return lines.join('\n') + '\n';
}

const command: Command = {
  name: 'nightly',
  summary: 'the nightly run on the team store: sample → enqueue replay jobs → (wait for workers) → index → gate → tickets',
  usage: 'nightly [--db postgres://…] [--n 200] [--by ecosystem,base_os,regulated,scanner] [--window 30d] [--seed S] [--date YYYY-MM-DD] [--now T] [--wait [--wait-timeout 6h]] [--tickets DIR] [--json]',
  options: {
    db: { type: 'string' },
    n: { type: 'string' },
    by: { type: 'string' },
    window: { type: 'string' },
    seed: { type: 'string' },
    canaries: { type: 'string' },
    date: { type: 'string' },
    now: { type: 'string' },
    wait: { type: 'boolean' },
    'wait-timeout': { type: 'string' },
    tickets: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    db: 'the team store (default $STELLA_DB; must be postgres://…): scans to sample, the job queue, the index',
    n: 'how many scans to replay (default 200; canaries come on top)',
    by: 'strata dimensions, comma-separated (default all four: ecosystem,base_os,regulated,scanner)',
    window: 'sample scans created in the last N days (default 30d)',
    seed: 'seed of the draw (default: the date as a number, e.g. 20260301)',
    canaries: 'scan ids always replayed (the golden set)',
    date: 'the batch, one per date (default: today, UTC); with an explicit date the sample window ends that day; running twice for one date enqueues nothing new',
    now: 'the instant the gate is evaluated at (RFC 3339; default: now) and, without --date, the end of the sample window',
    wait: 'wait until the workers (`stella worker`) have drained the batch before indexing and gating',
    'wait-timeout': 'with --wait: stop waiting after this long (e.g. 5h) and report what is still pending',
    tickets: 'where ticket files go, one per new failure: DIR/<replay_id>.md (default $STELLA_HOME/tickets)',
    json: 'the whole summary as JSON',
  },
  positionals: false,
  async run({ values }, ctx) {
    const db = storePath(ctx.env, ctx.cwd, values.db as string | undefined);
    if (!isPostgresUrl(db)) throw usageError(`nightly needs the team store: --db postgres://… or STELLA_DB (got '${redactUrl(db)}')`);
    const now = resolveNow(values.now, ctx.now);
    const date = checkDate(typeof values.date === 'string' ? values.date : now.toISOString().slice(0, 10));
    if (values['wait-timeout'] !== undefined && values.wait !== true) throw usageError('--wait-timeout needs --wait');
    const home = stellaHome(ctx.env, ctx.cwd);
    const sampleNow = values.date !== undefined && values.now === undefined ? resolveNow(date, ctx.now) : now;
    const result = await runNightly({
      dbUrl: db,
      date,
      now,
      sample: {
        n: int(values.n, 'n', 200),
        by: parseBy(values.by as string | undefined),
        windowDays: parseWindow(values.window),
        seed: int(values.seed, 'seed', Number(date.replace(/-/g, ''))),
        now: sampleNow,
        canaries: typeof values.canaries === 'string' && values.canaries ? values.canaries.split(',') : [],
      },
      wait: values.wait === true,
      ...(values['wait-timeout'] !== undefined ? { waitTimeoutMs: parseDuration(values['wait-timeout'], '--wait-timeout', 0) } : {}),
      ticketsDir: typeof values.tickets === 'string' ? path.resolve(ctx.cwd, values.tickets) : path.join(home, 'tickets'),
      ticketRun: reproRunner(ctx.env, ctx.cwd, db),
      log: (line) => ctx.stderr.write(`stella nightly: ${line}\n`),
    });
    ctx.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : summary(result));
    return result.gate.state === 'green' ? EXIT.OK : result.gate.state === 'warn' ? EXIT.WARN : EXIT.FAIL;
  },
};

export default command;
