-- Mirror of store/migrations/004_terms.sql: the searchable terms of each replay (vulnerability ids,
-- aliases, package names, purls; src/core/filter/terms.ts), written with the replay row.
CREATE TABLE replay_terms (
  term      text COLLATE "C" NOT NULL,
  replay_id text COLLATE "C" NOT NULL REFERENCES replay_runs (replay_id) ON DELETE CASCADE,
  PRIMARY KEY (term, replay_id)
);
CREATE INDEX replay_terms_by_replay ON replay_terms (replay_id);
