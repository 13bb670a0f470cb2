-- Stella team store v1 in PostgreSQL 15: the SQLite index (store/migrations/001_init.sql + 002_counts.sql)
-- column for column, in PostgreSQL types, plus the design note's breakdown index.
--
-- Types, and why:
-- * flags are boolean, counts integer, byte and millisecond sums bigint;
-- * timestamps stay the RFC 3339 text the records carry (`created_at`, `started_at`, `finished_at`, `at`):
--   readers must print exactly what was recorded (byte-identical `--json` across backends) and
--   timestamptz would drop the writer's offset and precision; the indexer writes them in UTC `Z` form, so
--   text order is time order, the same comparison SQLite makes. `day` is the UTC day of `finished_at`.
-- * every text column is COLLATE "C": ORDER BY and keyset comparisons are code-unit order, like SQLite's
--   BINARY (and the project's comparators), never the server locale's;
-- * JSON columns are `json`, not `jsonb`: `json` is validated and keeps the exact text, while jsonb
--   re-orders keys, which would change what readers print.

CREATE TABLE scan_manifests (
  scan_id          text COLLATE "C" PRIMARY KEY,
  created_at       text COLLATE "C" NOT NULL,
  manifest_sha256  text COLLATE "C" NOT NULL,
  scanner_version  text COLLATE "C" NOT NULL,
  ecosystem        text COLLATE "C" NOT NULL,
  base_os          text COLLATE "C" NOT NULL,
  project          text COLLATE "C" NOT NULL,
  regulated        boolean NOT NULL,
  policy_set       text COLLATE "C" NOT NULL,
  feed_digest      text COLLATE "C" NOT NULL,
  policy_digest    text COLLATE "C" NOT NULL,
  record_dir       text COLLATE "C",
  manifest_json    json NOT NULL
);
-- Sampling windows (design note: `(created_at)`), keyset-ordered by id.
CREATE INDEX scan_manifests_created ON scan_manifests (created_at, scan_id);
CREATE INDEX scan_manifests_feed ON scan_manifests (feed_digest);

CREATE TABLE scan_artifacts (
  scan_id          text COLLATE "C" NOT NULL REFERENCES scan_manifests (scan_id) ON DELETE CASCADE,
  name             text COLLATE "C" NOT NULL,
  path             text COLLATE "C" NOT NULL,
  canonical_sha256 text COLLATE "C" NOT NULL,
  raw_sha256       text COLLATE "C",
  schema           text COLLATE "C" NOT NULL,
  bytes            bigint NOT NULL,
  PRIMARY KEY (scan_id, name)
);
CREATE INDEX scan_artifacts_digest ON scan_artifacts (canonical_sha256);

CREATE TABLE feed_snapshots (
  digest      text COLLATE "C" PRIMARY KEY,
  first_seen  text COLLATE "C" NOT NULL,
  scans       integer NOT NULL DEFAULT 0
);

CREATE TABLE replay_runs (
  replay_id          text COLLATE "C" PRIMARY KEY,
  original_scan_id   text COLLATE "C" NOT NULL,
  record_sha256      text COLLATE "C" NOT NULL,
  status             text COLLATE "C" NOT NULL CHECK (status IN ('passed', 'failed', 'error')),
  failing            boolean NOT NULL,
  bf_match           boolean,
  sf_match           boolean,
  pf_match           boolean,
  auto_reason        text COLLATE "C",
  human_tag          text COLLATE "C",
  tag                text COLLATE "C",
  tag_key            text COLLATE "C" NOT NULL,
  subtags_json       json NOT NULL,
  started_at         text COLLATE "C" NOT NULL,
  finished_at        text COLLATE "C" NOT NULL,
  day                text COLLATE "C" NOT NULL CHECK (day ~ '^\d{4}-\d{2}-\d{2}$'),
  duration_ms        bigint,
  scanner_version    text COLLATE "C" NOT NULL,
  ecosystem          text COLLATE "C" NOT NULL,
  policy_set         text COLLATE "C" NOT NULL,
  base_os            text COLLATE "C" NOT NULL,
  project            text COLLATE "C" NOT NULL,
  feed_digest        text COLLATE "C" NOT NULL,
  regulated          boolean NOT NULL,
  executor_kind      text COLLATE "C" NOT NULL,
  record_dir         text COLLATE "C",
  manifest_sha256    text COLLATE "C",
  classifier_version text COLLATE "C",
  error              text COLLATE "C",
  diff_summary_json  json,
  manifest_json      json,
  executor_json      json,
  warnings_json      json NOT NULL
);
-- The workstation's list sorts and filters, as in SQLite 002 (leading equality columns, then the
-- sort's order).
CREATE INDEX replay_runs_cause ON replay_runs (tag_key, finished_at, replay_id);
CREATE INDEX replay_runs_project ON replay_runs (project, finished_at, replay_id);
CREATE INDEX replay_runs_cause_failing ON replay_runs (tag_key, failing, finished_at, replay_id);
CREATE INDEX replay_runs_cause_project ON replay_runs (tag_key, project, finished_at, replay_id);
CREATE INDEX replay_runs_failing_cause ON replay_runs (failing, tag_key, finished_at, replay_id);
CREATE INDEX replay_runs_failing_project ON replay_runs (failing, project, finished_at, replay_id);
CREATE INDEX replay_runs_failing_first_text ON replay_runs (failing, finished_at, replay_id, project, scanner_version, ecosystem);
CREATE INDEX replay_runs_finished_text ON replay_runs (finished_at, replay_id, failing, project, scanner_version, ecosystem);
-- Recency per scan (the sampler de-prioritises scans replayed recently).
CREATE INDEX replay_runs_scan ON replay_runs (original_scan_id, finished_at);
-- Design note: `(scanner_version, ecosystem)` for breakdown dashboards.
CREATE INDEX replay_runs_breakdown ON replay_runs (scanner_version, ecosystem);

CREATE TABLE tag_events (
  event_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  batch_id     text COLLATE "C" NOT NULL,
  replay_id    text COLLATE "C" NOT NULL,
  old_tag      text COLLATE "C",
  new_tag      text COLLATE "C",
  old_human    text COLLATE "C",
  who          text COLLATE "C" NOT NULL,
  at           text COLLATE "C" NOT NULL,
  note         text COLLATE "C",
  undone       boolean NOT NULL DEFAULT false,
  undone_by    text COLLATE "C",
  undone_at    text COLLATE "C"
);
CREATE INDEX tag_events_batch ON tag_events (batch_id);
CREATE INDEX tag_events_replay ON tag_events (replay_id, event_id);

-- dim: all | scanner | ecosystem | policy_set | base_os | feed | project_regulated | combo | status | cause
-- Kept in the same transaction as every ingest and retag, so window figures never scan replay_runs.
CREATE TABLE fidelity_daily (
  day        text COLLATE "C" NOT NULL,
  dim        text COLLATE "C" NOT NULL,
  bucket     text COLLATE "C" NOT NULL,
  total      integer NOT NULL DEFAULT 0,
  n          integer NOT NULL DEFAULT 0,
  bf         integer NOT NULL DEFAULT 0,
  sf         integer NOT NULL DEFAULT 0,
  pf         integer NOT NULL DEFAULT 0,
  errors     integer NOT NULL DEFAULT 0,
  dur_sum_ms bigint NOT NULL DEFAULT 0,
  dur_n      integer NOT NULL DEFAULT 0,
  PRIMARY KEY (dim, day, bucket)
);

-- One row per combination of the list's filterable facets (SQLite 002): counts without scanning.
CREATE TABLE replay_counts (
  failing         boolean NOT NULL,
  tag_key         text COLLATE "C" NOT NULL,
  scanner_version text COLLATE "C" NOT NULL,
  ecosystem       text COLLATE "C" NOT NULL,
  project         text COLLATE "C" NOT NULL,
  policy_set      text COLLATE "C" NOT NULL,
  n               integer NOT NULL,
  PRIMARY KEY (tag_key, failing, scanner_version, ecosystem, project, policy_set)
);
