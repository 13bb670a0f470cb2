// `stella worker`: claim replay jobs from the PostgreSQL queue (store/postgres/queue.ts), replay each on
// this worker's Docker engine through the replay use case, write the record into the shared store,
// index it into the team store and complete the job with the attempt that leased it.
//
// Exactly one replay record per job, by a deterministic id rather than by trusting completion alone:
// the job's start instant is fixed on its first attempt (`JobQueue.pinStart`, the server's clock) and
// is the record's `started_at`, so every attempt of one job derives the same replay id
// (manifest, executor kind, what-if, started_at) and writes the same directory
// `<store>/replays/<batch>/<replay_id>/`; a retry after a SIGKILL replaces the record the killed worker
// may have left, and the index (keyed by replay id) holds one row for it. Fencing then guards the
// rest: a run writes into a staging directory named by its lease (`replays/.staging/<key>#<attempt>`),
// renews its lease, and only then moves the record into place, indexes it and completes; a worker
// whose lease was lost (expired, re-claimed) discards its staged record.
//
// Orphans: every container and output volume a run creates is labelled with its queue (the team
// store's identity, `JobQueue.identity`), job key, attempt and worker id. On start and before every
// claim a worker removes, on its engine, this queue's containers and volumes (and staging directories)
// whose lease is no longer the current, live one, plus the engine's
// usual orphans of dead processes on this host (DockerExecutor.reapOrphans).
//
// Signals: the first SIGTERM/SIGINT stops claiming and lets the current job finish; a second one aborts
// it (its container is killed and removed) and gives the job back to the queue.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { errorText, isStellaError, StellaError } from '../core/errors.js';
import { whatIfOfMode } from '../core/record/index.js';
import type { ReplayStore } from '../core/ports.js';
import { BlobStore } from '../adapters/blob-store.js';
import { DockerExecutor } from '../adapters/docker/executor.js';
import { openPgStore } from '../../store/postgres/pg-store.js';
import { JobQueue, leaseTag, type Lease } from '../../store/postgres/queue.js';
import { makeExecutor } from './executors.js';
import { indexRecords } from './indexer.js';
import { replay } from './replay.js';

export const LABEL_JOB = 'stella.job';
export const LABEL_ATTEMPT = 'stella.attempt';
export const LABEL_WORKER = 'stella.worker';
export const LABEL_QUEUE = 'stella.queue';

const DURATION_RE = /^(\d{1,9})(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `60s`, `500ms`, `2m`, `6h` → milliseconds. */
export function parseDuration(value: unknown, what: string, dflt: number): number {
  if (value === undefined) return dflt;
  const m = DURATION_RE.exec(String(value));
  const n = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
  if (!(n >= 1)) throw new StellaError('USAGE', `${what} must be a duration like 60s, 500ms, 2m or 6h, got '${String(value)}'`);
  return n;
}

export type WorkerUntil = 'stopped' | 'once' | 'empty';

export interface WorkerOptions {
  /** The team store (postgres://…): the queue and the index. */
  dbUrl: string;
  /** DOCKER_HOST of this worker's engine. */
  engine: string;
  /** The shared store every worker reaches: blobs, images and records (`replays/<batch>/<id>/`). */
  storeDir: string;
  workerId: string;
  leaseMs: number;
  until: WorkerUntil;
  pollMs?: number;
  timeoutMs?: number;
  env: NodeJS.ProcessEnv;
  /** Wall clock for finished_at (started_at is the job's, from the queue). */
  wallNow: () => Date;
  log: (line: string) => void;
  /** Stop claiming; the current job finishes. */
  stop: AbortSignal;
  /** Abort the current job and give it back. */
  abort: AbortSignal;
}

export interface WorkerSummary {
  done: number;
  /** Jobs given back (a replay that threw, or aborted by a second signal). */
  released: number;
  /** Jobs whose lease was lost mid-run (their record was discarded). */
  lost: number;
  reaped: number;
}

const encodeLease = (l: { key: string; attempt: number }) => encodeURIComponent(leaseTag(l.key, l.attempt));

function decodeLease(name: string): { key: string; attempt: number } | null {
  let text: string;
  try {
    text = decodeURIComponent(name);
  } catch {
    return null;
  }
  const m = /^(.+)#(\d+)$/.exec(text);
  return m ? { key: m[1], attempt: Number(m[2]) } : null;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}`;
}

export async function runWorker(o: WorkerOptions): Promise<WorkerSummary> {
  if (!/^[A-Za-z0-9._@:-]{1,128}$/.test(o.workerId)) throw new StellaError('USAGE', `--id must be 1-128 of A-Z a-z 0-9 . _ @ : -, got '${o.workerId}'`);
  const store = await openPgStore(o.dbUrl, { max: 3 });
  try {
    const queue = new JobQueue(store.pool);
    const blobs = new BlobStore(o.storeDir);
    const replays = path.join(o.storeDir, 'replays');
    const staging = path.join(replays, '.staging');
    let current: Lease | null = null;
    const queueId = await queue.identity();
    const setup = await makeExecutor('docker', { env: { ...o.env, DOCKER_HOST: o.engine } }, blobs, {
      labels: (): Record<string, string> =>
        current ? { [LABEL_QUEUE]: queueId, [LABEL_JOB]: current.key, [LABEL_ATTEMPT]: String(current.attempt), [LABEL_WORKER]: o.workerId } : {},
    });
    if (!(setup.executor instanceof DockerExecutor)) throw new StellaError('USAGE', 'a worker replays on a Docker engine');
    const executor = setup.executor;
    const summary: WorkerSummary = { done: 0, released: 0, lost: 0, reaped: 0 };

    const reap = async () => {
      // The executor already reaped this host's dead processes' orphans when it connected: count them.
      const orphans = executor.takeReapedAtStart() + (await executor.reapOrphans());
      // Only this queue's runs: another team store's workers may share the engine.
      const stale = await executor.reapLabelled(`${LABEL_QUEUE}=${queueId}`, async (found) => {
        const live = await queue.liveLeases(found.map((l) => ({ key: l[LABEL_JOB] ?? '', attempt: Number(l[LABEL_ATTEMPT]) })));
        return (l) => !live.has(leaseTag(l[LABEL_JOB] ?? '', Number(l[LABEL_ATTEMPT])));
      });
      const dirs = existsSync(staging) ? readdirSync(staging) : [];
      const leases = dirs.map((d) => ({ d, l: decodeLease(d) }));
      const live = await queue.liveLeases(leases.flatMap((x) => (x.l ? [x.l] : [])));
      for (const { d, l } of leases) if (!l || !live.has(leaseTag(l.key, l.attempt))) rmSync(path.join(staging, d), { recursive: true, force: true });
      if (orphans + stale > 0) o.log(`reaped ${orphans + stale} orphan container(s) on ${o.engine}`);
      summary.reaped += orphans + stale;
    };

    const runJob = async (lease: Lease): Promise<void> => {
      current = lease;
      const controller = new AbortController();
      let lost = false;
      const onAbort = () => controller.abort();
      o.abort.addEventListener('abort', onAbort, { once: true });
      const beat = setInterval(() => {
        queue.heartbeat(lease, o.leaseMs).then(
          (ok) => {
            if (!ok && !lost) {
              lost = true;
              controller.abort();
            }
          },
          (e) => o.log(`heartbeat of ${lease.key} failed (${errorText(e)}); retrying`),
        );
      }, Math.max(100, Math.floor(o.leaseMs / 3)));
      const stage = path.join(staging, encodeLease(lease));
      try {
        const startedAt = await queue.pinStart(lease);
        if (startedAt === null) {
          lost = true;
          return;
        }
        const manifestPath = await manifestOf(lease, store);
        const start = new Date(startedAt);
        let first = true;
        const now = () => {
          if (first) {
            first = false;
            return start;
          }
          const w = o.wallNow();
          return w < start ? start : w;
        };
        rmSync(stage, { recursive: true, force: true });
        const r = await replay({
          manifestPath,
          outDir: stage,
          executor,
          whatIf: whatIfOfMode(lease.mode),
          blobs,
          now,
          env: o.env,
          signal: controller.signal,
          ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
          ...(setup.prepareImage ? { prepareImage: setup.prepareImage } : {}),
        });
        if (r.dir === null) {
          // Aborted: the lease was lost (nothing to give back), or a second signal stops this worker.
          if (!lost) {
            await queue.fail(lease, `released by worker ${o.workerId} (stopping)`);
            summary.released++;
            o.log(`released ${lease.key} (attempt ${lease.attempt})`);
          }
          return;
        }
        if (lost || !(await queue.heartbeat(lease, o.leaseMs))) {
          lost = true;
          return;
        }
        // The lease was just renewed: the record goes live, is indexed, and the job completes.
        const batch = lease.key.slice(0, lease.key.indexOf('/'));
        const target = path.join(replays, batch, r.record.replay_id);
        mkdirSync(path.dirname(target), { recursive: true });
        if (existsSync(target)) rmSync(target, { recursive: true, force: true });
        renameSync(r.dir, target);
        const indexed = await indexRecords(store, [target]);
        if (indexed.skipped.length) throw new StellaError('RECORD_INVALID', `the index refused the record: ${indexed.skipped[0].reason}`, { file: indexed.skipped[0].file });
        const rec = r.record;
        const result = { replay_id: rec.replay_id, dir: target, status: rec.status, bf_match: rec.bf_match, mismatch_reason: rec.mismatch_reason, worker_id: o.workerId, engine: o.engine };
        if (await queue.complete(lease, result)) {
          summary.done++;
          o.log(`done ${lease.key} (attempt ${lease.attempt}) → ${rec.replay_id} ${rec.status}`);
        } else {
          lost = true;
        }
      } catch (e) {
        if (lost) return;
        const fatal = isStellaError(e) && e.code === 'ENGINE_UNREACHABLE';
        const res = await queue.fail(lease, errorText(e), { retryAfterMs: fatal ? 0 : Math.min(o.leaseMs, 30_000) });
        if (!res.accepted) {
          // The lease had gone already (another worker may have removed this run's container).
          lost = true;
          return;
        }
        summary.released++;
        o.log(`job ${lease.key} (attempt ${lease.attempt}) failed: ${errorText(e)}${res.state ? ` → ${res.state}` : ''}`);
        if (fatal) throw e;
      } finally {
        clearInterval(beat);
        o.abort.removeEventListener('abort', onAbort);
        rmSync(stage, { recursive: true, force: true });
        if (lost) {
          summary.lost++;
          o.log(`gave up ${lease.key} (attempt ${lease.attempt}): its lease is no longer ours`);
        }
        current = null;
      }
    };

    o.log(`worker ${o.workerId} on ${o.engine}: store ${o.storeDir}, team store ${store.dbPath}, lease ${o.leaseMs} ms`);
    for (;;) {
      await reap();
      if (o.stop.aborted) break;
      const [lease] = await queue.claim(o.workerId, { leaseMs: o.leaseMs, limit: 1 });
      if (lease) {
        o.log(`claimed ${lease.key} (attempt ${lease.attempt})`);
        await runJob(lease);
        if (o.until === 'once') break;
        continue;
      }
      if (o.until === 'once') break;
      if (o.until === 'empty') {
        await queue.sweep();
        if ((await queue.pending()) === 0) break;
      }
      await sleep(o.pollMs ?? 1000, o.stop);
    }
    await reap();
    return summary;
  } finally {
    await store.close();
  }
}

/** The scan's manifest: named in the job (nightly puts it there), else the indexed scan's record. */
async function manifestOf(lease: Lease, store: Pick<ReplayStore, 'getScan'>): Promise<string> {
  const p = lease.payload as { manifest?: unknown } | null;
  if (p && typeof p.manifest === 'string' && p.manifest !== '') return p.manifest;
  const scan = await store.getScan(lease.scan_id);
  if (!scan?.record_dir) throw new StellaError('NOT_FOUND', `job ${lease.key}: scan ${lease.scan_id} has no record directory in the team store (index its record first)`);
  return path.join(scan.record_dir, 'manifest.json');
}
