// The replay job queue, on PostgreSQL's `FOR UPDATE SKIP LOCKED` directly.
//
// Why not pg-boss: the queue needs one table whose rows we can join to the store (scan ids, the
// nightly batch), leases whose expiry and fencing we define (the replay's exactly-one-record rule rests
// on them), and nothing running besides PostgreSQL. pg-boss brings its own schema of several tables, a
// maintenance loop (its own timers for expiry and archiving) and its own retry semantics; the part we
// need is ~one UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED) statement, which PostgreSQL documents for
// exactly this use.
//
// A job's life: queued → leased (claim: attempts + 1, worker_id, leased_until = now() + lease) →
// done (complete, by the holder of the current attempt while the lease is live) | queued again
// (fail with a retry delay, or the lease expired and another claim takes it) | failed (attempts used up).
// `attempts` is the lease's fencing token: heartbeat, complete and fail name the attempt they hold and
// are refused once it is no longer the current, live one.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { StellaError } from '../../src/core/errors.js';

export interface JobSpec {
  /** Idempotency key: enqueueing a key that exists adds nothing. See `jobKey`. */
  key: string;
  scan_id: string;
  mode: string;
  payload?: unknown;
  maxAttempts?: number;
}

export interface Lease {
  key: string;
  scan_id: string;
  mode: string;
  payload: unknown;
  /** 1 on the first claim; the fencing token of this lease. */
  attempt: number;
  worker_id: string;
  leased_until: Date;
}

export type JobState = 'queued' | 'leased' | 'done' | 'failed';

/** The key of one replay of one scan in one batch (e.g. the nightly run's date): `batch/scan_id/mode`. */
export function jobKey(batch: string, scanId: string, mode: string): string {
  for (const [name, v] of [['batch', batch], ['scan_id', scanId], ['mode', mode]] as const) {
    if (v === '' || v.includes('/')) throw new StellaError('USAGE', `job ${name} must be non-empty and contain no '/', got '${v}'`);
  }
  return `${batch}/${scanId}/${mode}`;
}

const ms = (n: number, what: string): number => {
  if (!Number.isInteger(n) || n < 1 || n > 86_400_000) throw new StellaError('USAGE', `${what} must be 1 ms to 24 h, got ${n}`);
  return n;
};

interface JobRow {
  job_key: string;
  scan_id: string;
  mode: string;
  payload: unknown;
  attempts: number;
  worker_id: string;
  leased_until: Date;
}

/** One job of a batch as `batch()` lists it. */
export interface BatchJob {
  key: string;
  scan_id: string;
  mode: string;
  payload: unknown;
  state: JobState;
  attempts: number;
  worker_id: string | null;
  result: unknown;
  last_error: string | null;
}

/** `key#attempt`: how a lease is named on the containers it runs. */
export const leaseTag = (key: string, attempt: number): string => `${key}#${attempt}`;

/** The key range of one batch: `batch/` ≤ key < `batch0` ('0' follows '/' in code-unit order, the keys' collation). */
function batchRange(batch: string): [string, string] {
  if (batch === '' || batch.includes('/')) throw new StellaError('USAGE', `job batch must be non-empty and contain no '/', got '${batch}'`);
  return [`${batch}/`, `${batch}0`];
}

function stateCounts(rows: ReadonlyArray<{ state: JobState; n: number }>): Record<JobState, number> {
  const out: Record<JobState, number> = { queued: 0, leased: 0, done: 0, failed: 0 };
  for (const row of rows) out[row.state] = row.n;
  return out;
}

const toLease = (r: JobRow): Lease => ({
  key: r.job_key,
  scan_id: r.scan_id,
  mode: r.mode,
  payload: r.payload,
  attempt: r.attempts,
  worker_id: r.worker_id,
  leased_until: r.leased_until,
});

export class JobQueue {
  constructor(private readonly pool: pg.Pool) {}

  /** Insert jobs whose keys are new; returns which keys were added and which already existed. */
  async enqueue(jobs: readonly JobSpec[]): Promise<{ added: string[]; existing: string[] }> {
    if (jobs.length === 0) return { added: [], existing: [] };
    const r = await this.pool.query<{ job_key: string }>(
      `INSERT INTO replay_jobs (job_key, scan_id, mode, payload, max_attempts)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::json[], $5::int[])
       ON CONFLICT (job_key) DO NOTHING
       RETURNING job_key`,
      [jobs.map((j) => j.key), jobs.map((j) => j.scan_id), jobs.map((j) => j.mode), jobs.map((j) => JSON.stringify(j.payload ?? {})), jobs.map((j) => j.maxAttempts ?? 5)],
    );
    const added = new Set(r.rows.map((x) => x.job_key));
    return { added: jobs.filter((j) => added.has(j.key)).map((j) => j.key), existing: jobs.filter((j) => !added.has(j.key)).map((j) => j.key) };
  }

  /**
   * Lease up to `limit` jobs for `workerId`: queued ones, and leased ones whose lease expired (their
   * worker died or stalled), oldest first. Rows another claimer has locked are skipped, not waited on.
   */
  async claim(workerId: string, opts: { leaseMs: number; limit?: number }): Promise<Lease[]> {
    if (workerId === '') throw new StellaError('USAGE', 'a worker id is required to claim jobs');
    const r = await this.pool.query<JobRow>(
      `UPDATE replay_jobs j
          SET state = 'leased', attempts = j.attempts + 1, worker_id = $1,
              leased_until = now() + $2 * interval '1 millisecond'
         FROM (SELECT job_key FROM replay_jobs
                WHERE state IN ('queued', 'leased')
                  AND (state = 'queued' OR leased_until < now())
                  AND run_after <= now() AND attempts < max_attempts
                ORDER BY enqueued_seq
                LIMIT $3
                FOR UPDATE SKIP LOCKED) c
        WHERE j.job_key = c.job_key
    RETURNING j.job_key, j.scan_id, j.mode, j.payload, j.attempts, j.worker_id, j.leased_until`,
      [workerId, ms(opts.leaseMs, 'lease'), opts.limit ?? 1],
    );
    return r.rows.map(toLease).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Extend a live lease; false when it is lost (expired, re-claimed, or the job is finished). */
  async heartbeat(lease: Lease, leaseMs: number): Promise<boolean> {
    const r = await this.pool.query<{ leased_until: Date }>(
      `UPDATE replay_jobs SET leased_until = now() + $4 * interval '1 millisecond'
        WHERE job_key = $1 AND worker_id = $2 AND attempts = $3 AND state = 'leased' AND leased_until >= now()
    RETURNING leased_until`,
      [lease.key, lease.worker_id, lease.attempt, ms(leaseMs, 'lease')],
    );
    if (r.rowCount !== 1) return false;
    lease.leased_until = r.rows[0].leased_until;
    return true;
  }

  /**
   * Mark the job done with its result. Exactly one completion per job succeeds: the holder of the
   * current, live lease. A completion for a lost lease (expired, re-claimed, or already done) is refused
   * (false) and the caller must discard its work.
   */
  async complete(lease: Lease, result: unknown): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE replay_jobs SET state = 'done', completed_at = now(), leased_until = NULL, result = $4::json, last_error = NULL
        WHERE job_key = $1 AND worker_id = $2 AND attempts = $3 AND state = 'leased' AND leased_until >= now()`,
      [lease.key, lease.worker_id, lease.attempt, JSON.stringify(result ?? null)],
    );
    return r.rowCount === 1;
  }

  /** Give a job back after an error: queued again after `retryAfterMs`, or failed when attempts are used up. */
  async fail(lease: Lease, error: string, opts: { retryAfterMs?: number } = {}): Promise<{ accepted: boolean; state?: JobState }> {
    const r = await this.pool.query<{ state: JobState }>(
      `UPDATE replay_jobs
          SET state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
              leased_until = NULL, last_error = $4,
              run_after = now() + $5 * interval '1 millisecond'
        WHERE job_key = $1 AND worker_id = $2 AND attempts = $3 AND state = 'leased' AND leased_until >= now()
    RETURNING state`,
      [lease.key, lease.worker_id, lease.attempt, error, opts.retryAfterMs ?? 0],
    );
    return r.rowCount === 1 ? { accepted: true, state: r.rows[0].state } : { accepted: false };
  }

  /** Expired leases with no attempts left become `failed` (nobody will claim them again); returns their keys. */
  async sweep(): Promise<string[]> {
    const r = await this.pool.query<{ job_key: string }>(
      `UPDATE replay_jobs SET state = 'failed', leased_until = NULL, last_error = coalesce(last_error, 'lease expired on the last attempt')
        WHERE state = 'leased' AND leased_until < now() AND attempts >= max_attempts
    RETURNING job_key`,
    );
    return r.rows.map((x) => x.job_key).sort();
  }

  /**
   * The instant the job's replay started, fixed on its first attempt (the server's clock, RFC 3339 with
   * milliseconds, kept in the payload as `started_at`) and returned unchanged to every later attempt.
   * The replay id is derived from it, so a retry after a crash writes the same record (one per job).
   * Null when the lease is no longer the current, live one.
   */
  async pinStart(lease: Lease): Promise<string | null> {
    const r = await this.pool.query<{ started_at: string }>(
      `UPDATE replay_jobs
          SET payload = CASE WHEN json_typeof(payload) = 'object' AND (payload::jsonb ? 'started_at') THEN payload
                             ELSE (CASE WHEN json_typeof(payload) = 'object' THEN payload::jsonb ELSE '{}'::jsonb END
                                   || jsonb_build_object('started_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))::json END
        WHERE job_key = $1 AND worker_id = $2 AND attempts = $3 AND state = 'leased' AND leased_until >= now()
    RETURNING payload->>'started_at' AS started_at`,
      [lease.key, lease.worker_id, lease.attempt],
    );
    return r.rowCount === 1 ? r.rows[0].started_at : null;
  }

  /**
   * Which of the given (key, attempt) leases are still the current, live lease of their job. A worker's
   * containers carry their job key and attempt; those whose lease is not live are orphans to remove.
   */
  async liveLeases(leases: ReadonlyArray<{ key: string; attempt: number }>): Promise<Set<string>> {
    if (leases.length === 0) return new Set();
    const r = await this.pool.query<{ job_key: string; attempts: number }>(
      `SELECT job_key, attempts FROM replay_jobs
        WHERE job_key = ANY($1::text[]) AND state = 'leased' AND leased_until >= now()`,
      [[...new Set(leases.map((l) => l.key))]],
    );
    return new Set(r.rows.map((x) => leaseTag(x.job_key, x.attempts)));
  }

  /**
   * A name for this queue that is the same from every client: the cluster's system identifier (when the
   * role may read it; operators can revoke pg_control_system()), the database's oid and name, hashed.
   * Workers label their containers with it, so workers of another team store sharing an engine never
   * take each other's containers for orphans.
   */
  async identity(): Promise<string> {
    const db = (await this.pool.query<{ name: string; oid: string }>(`SELECT current_database() AS name, oid::text AS oid FROM pg_database WHERE datname = current_database()`)).rows[0];
    const sid = await this.pool.query<{ sid: string }>('SELECT system_identifier::text AS sid FROM pg_control_system()').then(
      (r) => r.rows[0]?.sid ?? '',
      () => '',
    );
    return createHash('sha256').update(`${sid}/${db.oid}/${db.name}`).digest('hex').slice(0, 16);
  }

  /** Jobs still to run or running, in every batch (a draining worker waits for these). */
  async pending(): Promise<number> {
    const r = await this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM replay_jobs WHERE state IN ('queued', 'leased')`);
    return r.rows[0].n;
  }

  /** Every job of one batch (keys `batch/…`), by key. */
  async batch(batch: string): Promise<BatchJob[]> {
    const r = await this.pool.query<BatchJob>(
      `SELECT job_key AS key, scan_id, mode, payload, state, attempts, worker_id, result, last_error FROM replay_jobs
        WHERE job_key >= $1 AND job_key < $2 ORDER BY job_key`,
      batchRange(batch),
    );
    return r.rows;
  }

  /** Per-state counts of one batch. */
  async batchCounts(batch: string): Promise<Record<JobState, number>> {
    const r = await this.pool.query<{ state: JobState; n: number }>(
      'SELECT state, count(*)::int AS n FROM replay_jobs WHERE job_key >= $1 AND job_key < $2 GROUP BY state',
      batchRange(batch),
    );
    return stateCounts(r.rows);
  }

  /**
   * Note on done jobs which failure each was ticketed as (`result.ticket`: the failure key and file).
   * Returns how many jobs took the note.
   */
  async noteTickets(notes: ReadonlyArray<{ key: string; failure: string; file: string }>): Promise<number> {
    if (notes.length === 0) return 0;
    const r = await this.pool.query(
      `UPDATE replay_jobs j
          SET result = (coalesce(j.result::jsonb, '{}'::jsonb) || jsonb_build_object('ticket', jsonb_build_object('failure', n.failure, 'file', n.file)))::json
         FROM unnest($1::text[], $2::text[], $3::text[]) AS n(job_key, failure, file)
        WHERE j.job_key = n.job_key AND j.state = 'done'`,
      [notes.map((n) => n.key), notes.map((n) => n.failure), notes.map((n) => n.file)],
    );
    return r.rowCount ?? 0;
  }

  /** Of these failure keys, those already ticketed by a job of another batch. */
  async ticketedElsewhere(batch: string, failures: readonly string[]): Promise<Set<string>> {
    if (failures.length === 0) return new Set();
    const [from, to] = batchRange(batch);
    const r = await this.pool.query<{ failure: string }>(
      `SELECT DISTINCT result->'ticket'->>'failure' AS failure FROM replay_jobs
        WHERE state = 'done' AND NOT (job_key >= $1 AND job_key < $2)
          AND scan_id = ANY($3::text[]) AND result->'ticket'->>'failure' = ANY($4::text[])`,
      [from, to, [...new Set(failures.map((f) => f.split('/')[0]))], [...failures]],
    );
    return new Set(r.rows.map((x) => x.failure));
  }

  async counts(): Promise<Record<JobState, number>> {
    const r = await this.pool.query<{ state: JobState; n: number }>('SELECT state, count(*)::int AS n FROM replay_jobs GROUP BY state');
    return stateCounts(r.rows);
  }

  async job(key: string): Promise<{ state: JobState; attempts: number; worker_id: string | null; result: unknown; last_error: string | null } | null> {
    const r = await this.pool.query('SELECT state, attempts, worker_id, result, last_error FROM replay_jobs WHERE job_key = $1', [key]);
    return r.rows[0] ?? null;
  }
}
