-- Search what engineers search for (issue 13): the vulnerability ids, aliases, package names and
-- purls of each replay (src/core/filter/terms.ts), kept in the same transaction as every ingest.
-- Keyed (term, replay_id) so a `/CVE-2024-` prefix is a range scan; by replay_id for re-ingest.
-- Rows already indexed are filled by the migrator's step for this version (store/sqlite/terms.ts).
CREATE TABLE replay_terms (
  term      TEXT NOT NULL,
  replay_id TEXT NOT NULL,
  PRIMARY KEY (term, replay_id)
) WITHOUT ROWID;
CREATE INDEX replay_terms_by_replay ON replay_terms (replay_id);
