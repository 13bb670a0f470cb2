-- Replay jobs (store/postgres/queue.ts): one row per job, leased with FOR UPDATE SKIP LOCKED.
-- `job_key` makes enqueueing idempotent (the nightly batch, scan and mode: enqueueing the same night
-- twice adds nothing). `attempts` doubles as the fencing token of a lease: a worker's heartbeat or
-- completion names the attempt it holds, so a worker whose lease expired and was re-claimed cannot
-- complete the job a second time. Lease times are the server's clock (now()), one clock for all workers.
CREATE TABLE replay_jobs (
  job_key      text COLLATE "C" PRIMARY KEY,
  scan_id      text COLLATE "C" NOT NULL,
  mode         text COLLATE "C" NOT NULL,
  payload      json NOT NULL,
  state        text COLLATE "C" NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'leased', 'done', 'failed')),
  attempts     integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  worker_id    text COLLATE "C",
  leased_until timestamptz,
  run_after    timestamptz NOT NULL DEFAULT now(),
  enqueued_seq bigint GENERATED ALWAYS AS IDENTITY,
  enqueued_at  timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  result       json,
  last_error   text,
  CHECK (state <> 'leased' OR (leased_until IS NOT NULL AND worker_id IS NOT NULL))
);
-- Claimable work in FIFO order: queued rows and leased rows whose lease may have expired.
CREATE INDEX replay_jobs_claim ON replay_jobs (enqueued_seq) WHERE state IN ('queued', 'leased');
CREATE INDEX replay_jobs_scan ON replay_jobs (scan_id);
