-- Production fidelity counts production replays: the same change as SQLite's 003_replay_mode.sql.
-- A replay's mode on its row; the daily rollup kept per scope ('pinned' = production, 'what-if' =
-- bisect experiments and canary runs, shown only with --include-what-if).
ALTER TABLE replay_runs ADD COLUMN mode text COLLATE "C" NOT NULL DEFAULT 'pinned';
UPDATE replay_runs SET record_sha256 = '';
ALTER TABLE fidelity_daily ADD COLUMN scope text COLLATE "C" NOT NULL DEFAULT 'pinned' CHECK (scope IN ('pinned', 'what-if'));
ALTER TABLE fidelity_daily DROP CONSTRAINT fidelity_daily_pkey;
ALTER TABLE fidelity_daily ADD PRIMARY KEY (scope, dim, day, bucket);
