-- Workstation scale (SPEC §6 at 1,000,000 replays). Counting a filter by walking replay_runs took
-- seconds; `replay_counts` keeps one row per combination of the list's filterable facets, updated in
-- the same transaction as every ingest and retag, so any filter without free text counts a few
-- thousand rows at most.
CREATE TABLE replay_counts (
  failing         INTEGER NOT NULL,
  tag_key         TEXT NOT NULL,
  scanner_version TEXT NOT NULL,
  ecosystem       TEXT NOT NULL,
  project         TEXT NOT NULL,
  policy_set      TEXT NOT NULL,
  n               INTEGER NOT NULL,
  PRIMARY KEY (tag_key, failing, scanner_version, ecosystem, project, policy_set)
) WITHOUT ROWID;

INSERT INTO replay_counts (failing, tag_key, scanner_version, ecosystem, project, policy_set, n)
  SELECT failing, tag_key, scanner_version, ecosystem, project, policy_set, count(*) FROM replay_runs
  GROUP BY failing, tag_key, scanner_version, ecosystem, project, policy_set;

-- The list's filters pin `failing` and `tag_key` by equality; an index that leads with the pinned
-- column and continues in the sort's order returns a page without sorting the whole match set
-- (otherwise SQLite prefers the equality index and sorts 100k+ rows for 50).
CREATE INDEX replay_runs_cause_failing ON replay_runs (tag_key, failing, finished_at, replay_id);
CREATE INDEX replay_runs_cause_project ON replay_runs (tag_key, project, finished_at, replay_id);
CREATE INDEX replay_runs_failing_cause ON replay_runs (failing, tag_key, finished_at, replay_id);
CREATE INDEX replay_runs_failing_project ON replay_runs (failing, project, finished_at, replay_id);

-- Free text (LIKE over replay_id, project, scanner_version, ecosystem) in the two time orders reads
-- these narrow indexes instead of 1.6 KB rows: a rare id at 1M rows in ~0.5 s instead of ~9 s.
CREATE INDEX replay_runs_failing_first_text ON replay_runs (failing, finished_at, replay_id, project, scanner_version, ecosystem);
CREATE INDEX replay_runs_finished_text ON replay_runs (finished_at, replay_id, failing, project, scanner_version, ecosystem);
DROP INDEX replay_runs_failing_first;
DROP INDEX replay_runs_finished;
