-- Production fidelity counts production replays (issue 13). A replay's mode ('pinned', or
-- 'what-if:feed=…,policy=…,scanner=…' for bisect experiments and canary runs) is kept on its row, and
-- the daily rollup is kept per scope: 'pinned' (production: dashboard, gate, metrics, badge) or
-- 'what-if' (shown only with --include-what-if; canary runs are reported by the canary gate).
-- Rows indexed before this migration did not record their mode: they stay in the 'pinned' scope, and
-- their record hash is cleared so the next `stella index` over their records re-reads them (and moves
-- what-if ones to their scope) instead of skipping them as unchanged.
ALTER TABLE replay_runs ADD COLUMN mode TEXT NOT NULL DEFAULT 'pinned';
UPDATE replay_runs SET record_sha256 = '';

CREATE TABLE fidelity_daily_003 (
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
  scope      TEXT NOT NULL DEFAULT 'pinned' CHECK (scope IN ('pinned', 'what-if')),
  PRIMARY KEY (scope, dim, day, bucket)
) WITHOUT ROWID;
INSERT INTO fidelity_daily_003 (day, dim, bucket, total, n, bf, sf, pf, errors, dur_sum_ms, dur_n, scope)
  SELECT day, dim, bucket, total, n, bf, sf, pf, errors, dur_sum_ms, dur_n, 'pinned' FROM fidelity_daily;
DROP TABLE fidelity_daily;
ALTER TABLE fidelity_daily_003 RENAME TO fidelity_daily;
