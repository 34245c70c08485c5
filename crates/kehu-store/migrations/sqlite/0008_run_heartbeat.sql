-- A running classification records that it is alive every 30 s, and its
-- job's lease is renewed as often, so a run whose process died is found
-- (and its job taken over) within minutes rather than after a lease long
-- enough for the longest run.
ALTER TABLE insight_runs ADD COLUMN alive_at INTEGER;
