-- SQLite's 0006 gives its FTS5 table prefix indexes. PostgreSQL's GIN index
-- on the tsvector answers `term:*` from its sorted entry tree and needs no
-- change; this file keeps the two migration lists in step.
SELECT 1;
