-- Bulk load (issue 17): the first `stella index` into an empty index drops the secondary indexes of
-- replay_runs and replay_terms, loads every batch, then builds each index once with CREATE INDEX (one
-- sort) instead of writing random index pages for every row of every batch. The dropped indexes are
-- listed here in the transaction that drops them, and each is removed from the list in the transaction
-- that builds it again; a load killed in between leaves whole batches and this list, and the next
-- `stella index` builds what is still listed (store/sqlite/migrate.ts). seq keeps the creation order.
-- IF NOT EXISTS: an index whose user_version was set back (test/store/search.test.ts does) has it.
CREATE TABLE IF NOT EXISTS deferred_indexes (
  seq  INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  sql  TEXT NOT NULL
);
