-- A running classification records that it is alive every 30 s (see the
-- SQLite migration of the same name).
ALTER TABLE insight_runs ADD COLUMN alive_at BIGINT;
