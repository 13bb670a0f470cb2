-- Stella index v1 (SPEC §5). Tables follow the seed; fidelity_daily is a rollup kept in the same
-- transaction as every insert and retag, so window aggregates never scan replay_runs.

CREATE TABLE scan_manifests (
  scan_id          TEXT PRIMARY KEY,
  created_at       TEXT NOT NULL,
  manifest_sha256  TEXT NOT NULL,
  scanner_version  TEXT NOT NULL,
  ecosystem        TEXT NOT NULL,
  base_os          TEXT NOT NULL,
  project          TEXT NOT NULL,
  regulated        INTEGER NOT NULL,
  policy_set       TEXT NOT NULL,
  feed_digest      TEXT NOT NULL,
  policy_digest    TEXT NOT NULL,
  record_dir       TEXT,
  manifest_json    TEXT NOT NULL
);
CREATE INDEX scan_manifests_created ON scan_manifests (created_at, scan_id);
CREATE INDEX scan_manifests_feed ON scan_manifests (feed_digest);

CREATE TABLE scan_artifacts (
  scan_id          TEXT NOT NULL REFERENCES scan_manifests (scan_id) ON DELETE CASCADE,
  name             TEXT NOT NULL,
  path             TEXT NOT NULL,
  canonical_sha256 TEXT NOT NULL,
  raw_sha256       TEXT,
  schema           TEXT NOT NULL,
  bytes            INTEGER NOT NULL,
  PRIMARY KEY (scan_id, name)
);
CREATE INDEX scan_artifacts_digest ON scan_artifacts (canonical_sha256);

CREATE TABLE feed_snapshots (
  digest      TEXT PRIMARY KEY,
  first_seen  TEXT NOT NULL,
  scans       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE replay_runs (
  replay_id          TEXT PRIMARY KEY,
  original_scan_id   TEXT NOT NULL,
  record_sha256      TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('passed', 'failed', 'error')),
  failing            INTEGER NOT NULL,
  bf_match           INTEGER,
  sf_match           INTEGER,
  pf_match           INTEGER,
  auto_reason        TEXT,
  human_tag          TEXT,
  tag                TEXT,
  tag_key            TEXT NOT NULL,
  subtags_json       TEXT NOT NULL,
  started_at         TEXT NOT NULL,
  finished_at        TEXT NOT NULL,
  day                TEXT NOT NULL,
  duration_ms        INTEGER,
  scanner_version    TEXT NOT NULL,
  ecosystem          TEXT NOT NULL,
  policy_set         TEXT NOT NULL,
  base_os            TEXT NOT NULL,
  project            TEXT NOT NULL,
  feed_digest        TEXT NOT NULL,
  regulated          INTEGER NOT NULL,
  executor_kind      TEXT NOT NULL,
  record_dir         TEXT,
  manifest_sha256    TEXT,
  classifier_version TEXT,
  error              TEXT,
  diff_summary_json  TEXT,
  manifest_json      TEXT,
  executor_json      TEXT,
  warnings_json      TEXT NOT NULL
);
-- One index per list sort of the workstation (keyset paging: every column in one direction).
CREATE INDEX replay_runs_failing_first ON replay_runs (failing, finished_at, replay_id);
CREATE INDEX replay_runs_finished ON replay_runs (finished_at, replay_id);
CREATE INDEX replay_runs_cause ON replay_runs (tag_key, finished_at, replay_id);
CREATE INDEX replay_runs_project ON replay_runs (project, finished_at, replay_id);
CREATE INDEX replay_runs_scan ON replay_runs (original_scan_id);

CREATE TABLE tag_events (
  event_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_id     TEXT NOT NULL,
  replay_id    TEXT NOT NULL,
  old_tag      TEXT,
  new_tag      TEXT,
  old_human    TEXT,
  who          TEXT NOT NULL,
  at           TEXT NOT NULL,
  note         TEXT,
  undone       INTEGER NOT NULL DEFAULT 0,
  undone_by    TEXT,
  undone_at    TEXT
);
CREATE INDEX tag_events_batch ON tag_events (batch_id);
CREATE INDEX tag_events_replay ON tag_events (replay_id, event_id);

-- dim: all | scanner | ecosystem | policy_set | base_os | feed | project_regulated | combo | status | cause
CREATE TABLE fidelity_daily (
  day        TEXT NOT NULL,
  dim        TEXT NOT NULL,
  bucket     TEXT NOT NULL,
  total      INTEGER NOT NULL DEFAULT 0,
  n          INTEGER NOT NULL DEFAULT 0,
  bf         INTEGER NOT NULL DEFAULT 0,
  sf         INTEGER NOT NULL DEFAULT 0,
  pf         INTEGER NOT NULL DEFAULT 0,
  errors     INTEGER NOT NULL DEFAULT 0,
  dur_sum_ms INTEGER NOT NULL DEFAULT 0,
  dur_n      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (dim, day, bucket)
) WITHOUT ROWID;
