// `stella nightly`: the design note's nightly run over the team store — sample (the stratified sampler
// over the store's scans) → enqueue one replay job per sampled scan, keyed `date/scan_id/mode` →
// (with --wait: wait for the workers to drain the batch) → index the batch's records → gate → one
// ticket file per new failure.
//
// Idempotent per date: a batch that already has jobs is not sampled again (the sample would move, as
// tonight's replays make their scans "recently replayed"), and enqueueing is idempotent by job key
// anyway; a re-run only waits, indexes, gates and tickets what is new. A failure is identified by
// (scan, mode, cause): it is ticketed once, in the first batch it shows up in; each ticket is noted on
// its job (`result.ticket`), so later batches (and re-runs of this one) know it was ticketed.
import path from 'node:path';
import { StellaError } from '../core/errors.js';
import type { GateResult } from '../core/gate/index.js';
import { ticketMarkdown, type ReproRunner } from '../core/metrics/ticket.js';
import type { ReplayDetail, ReplayStore } from '../core/ports.js';
import type { SampleResult } from '../core/sample/index.js';
import { writeFileAtomic } from '../adapters/fs.js';
import { openPgStore } from '../../store/postgres/pg-store.js';
import { JobQueue, jobKey, type BatchJob, type JobState } from '../../store/postgres/queue.js';
import { gateFromStore } from './dashboard.js';
import { indexRecords } from './indexer.js';
import { sampleFromStore, type SampleRequest } from './sample.js';
import { ticketRecords } from './ticket.js';

const MODE = 'pinned';

export interface NightlyOptions {
  dbUrl: string;
  /** The batch: one nightly per date (YYYY-MM-DD). */
  date: string;
  sample: SampleRequest;
  /** Gate as of this instant. */
  now: Date;
  wait: boolean;
  waitTimeoutMs?: number;
  pollMs?: number;
  ticketsDir: string;
  /** How tickets name the command that reproduces a replay. */
  ticketRun: ReproRunner;
  log: (line: string) => void;
  signal?: AbortSignal;
}

interface JobResult {
  replay_id?: string;
  dir?: string;
  status?: string;
  ticket?: { failure: string; file: string };
}

export interface NightlyResult {
  batch: string;
  sampled: { population: number; chosen: number; seed: number; reused_batch: boolean };
  enqueued: { added: number; existing: number; skipped: Array<{ scan_id: string; reason: string }> };
  jobs: Record<JobState, number>;
  waited: { timed_out: boolean } | null;
  indexed: { records: number; inserted: number; updated: number; unchanged: number; skipped: number };
  gate: GateResult;
  tickets: {
    written: Array<{ replay_id: string; failure: string; file: string }>;
    /** Failures ticketed in an earlier batch (or an earlier run of this one). */
    known: Array<{ replay_id: string; failure: string }>;
  };
  /** Jobs that used up their attempts without a record. */
  failed_jobs: Array<{ key: string; attempts: number; last_error: string | null }>;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function checkDate(date: string): string {
  if (!DATE_RE.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) {
    throw new StellaError('USAGE', `--date must be a calendar date like 2026-03-01, got '${date}'`);
  }
  return date;
}

const resultOf = (j: BatchJob): JobResult => (j.result && typeof j.result === 'object' ? (j.result as JobResult) : {});
const pendingOf = (c: Record<JobState, number>) => c.queued + c.leased;

export async function runNightly(o: NightlyOptions): Promise<NightlyResult> {
  const batch = checkDate(o.date);
  const store = await openPgStore(o.dbUrl, { max: 3 });
  try {
    const queue = new JobQueue(store.pool);
    const before = await queue.batch(batch);
    let sample: SampleResult | null = null;
    const enqueued: NightlyResult['enqueued'] = { added: 0, existing: before.length, skipped: [] };
    if (before.length === 0) {
      sample = await sampleFromStore(store, o.sample);
      const jobs = [];
      for (const c of sample.chosen) {
        const scan = await store.getScan(c.scan_id);
        if (!scan?.record_dir) {
          enqueued.skipped.push({ scan_id: c.scan_id, reason: 'no record directory in the team store' });
          continue;
        }
        jobs.push({ key: jobKey(batch, c.scan_id, MODE), scan_id: c.scan_id, mode: MODE, payload: { manifest: path.join(scan.record_dir, 'manifest.json'), reason: c.reason } });
      }
      const r = await queue.enqueue(jobs);
      enqueued.added = r.added.length;
      enqueued.existing = r.existing.length;
      o.log(`batch ${batch}: sampled ${sample.chosen.length} of ${sample.population} scans, enqueued ${r.added.length} jobs`);
    } else {
      o.log(`batch ${batch}: already enqueued (${before.length} jobs); nothing new`);
    }

    let waited: NightlyResult['waited'] = null;
    if (o.wait) {
      const deadline = o.waitTimeoutMs ? Date.now() + o.waitTimeoutMs : Infinity;
      let last = '';
      for (;;) {
        await queue.sweep();
        const c = await queue.batchCounts(batch);
        const line = `${c.done} done, ${c.failed} failed, ${c.leased} running, ${c.queued} queued`;
        if (line !== last) o.log(`batch ${batch}: ${line}`);
        last = line;
        if (pendingOf(c) === 0) {
          waited = { timed_out: false };
          break;
        }
        if (Date.now() > deadline || o.signal?.aborted) {
          waited = { timed_out: true };
          o.log(`batch ${batch}: stopped waiting with ${pendingOf(c)} jobs pending`);
          break;
        }
        await new Promise((r) => setTimeout(r, o.pollMs ?? 2000));
      }
    }

    // Workers index what they write; this catches a record whose worker died between writing and indexing.
    const jobs = await queue.batch(batch);
    const dirs = jobs.filter((j) => j.state === 'done').flatMap((j) => (resultOf(j).dir ? [resultOf(j).dir as string] : []));
    const ix = dirs.length ? await indexRecords(store, dirs) : null;
    const indexed = {
      records: ix?.records ?? 0,
      inserted: ix?.replays.inserted ?? 0,
      updated: ix?.replays.updated ?? 0,
      unchanged: ix?.replays.unchanged ?? 0,
      skipped: ix?.skipped.length ?? 0,
    };
    for (const s of ix?.skipped ?? []) o.log(`index: ${s.file}: ${s.reason}`);

    const gate = await gateFromStore(store, o.now);
    const tickets = await writeTickets(jobs, batch, o, store, queue);
    return {
      batch,
      sampled: { population: sample?.population ?? 0, chosen: sample?.chosen.length ?? 0, seed: o.sample.seed, reused_batch: sample === null },
      enqueued,
      jobs: await queue.batchCounts(batch),
      waited,
      indexed,
      gate,
      tickets,
      failed_jobs: jobs.filter((j) => j.state === 'failed').map((j) => ({ key: j.key, attempts: j.attempts, last_error: j.last_error })),
    };
  } finally {
    await store.close();
  }
}

async function writeTickets(
  jobs: readonly BatchJob[],
  batch: string,
  o: NightlyOptions,
  store: Pick<ReplayStore, 'getReplay' | 'getScan'>,
  queue: JobQueue,
): Promise<NightlyResult['tickets']> {
  const failing: Array<{ job: BatchJob; replayId: string; failure: string; detail: ReplayDetail }> = [];
  const known: NightlyResult['tickets']['known'] = [];
  for (const j of jobs) {
    const r = resultOf(j);
    if (j.state !== 'done' || !r.replay_id || (r.status !== 'failed' && r.status !== 'error')) continue;
    const d = await store.getReplay(r.replay_id);
    if (!d) continue;
    const failure = `${j.scan_id}/${j.mode}/${d.tag ?? d.status}`;
    if (r.ticket) known.push({ replay_id: r.replay_id, failure });
    else failing.push({ job: j, replayId: r.replay_id, failure, detail: d });
  }
  const earlier = await queue.ticketedElsewhere(batch, failing.map((f) => f.failure));
  const written: NightlyResult['tickets']['written'] = [];
  const notes: Array<{ key: string; failure: string; file: string }> = [];
  for (const f of failing) {
    if (earlier.has(f.failure)) {
      known.push({ replay_id: f.replayId, failure: f.failure });
      continue;
    }
    const file = path.join(o.ticketsDir, `${f.replayId}.md`);
    writeFileAtomic(file, ticketMarkdown(f.detail, o.ticketRun, await ticketRecords(store, f.detail)));
    written.push({ replay_id: f.replayId, failure: f.failure, file });
    notes.push({ key: f.job.key, failure: f.failure, file });
  }
  await queue.noteTickets(notes);
  return { written, known };
}
