-- Each search row gains a lexeme naming its customer's creation period,
-- `#` and created_at >> 31 (periods of about 25 days; customers.rs,
-- PERIOD_SHIFT). A newest-first search ANDs the newest periods' lexemes to
-- its terms and so reads the rows of the matches in those periods only,
-- not every match's row to rank them all. `#` is outside the search
-- alphabet: no query can spell the lexeme.
-- Rebuilt rather than updated in place, as in 0012 (an UPDATE of every row
-- would leave the table and its GIN index twice their size). Writers wait
-- for the lock; processes of the previous version must be stopped, since
-- their writes lack the lexeme.
LOCK TABLE customer_search IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE customer_search_rebuilt (
    rid         BIGINT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    id          TEXT NOT NULL,
    terms       TSVECTOR NOT NULL
);
INSERT INTO customer_search_rebuilt (rid, tenant_id, created_at, id, terms)
    SELECT rid, tenant_id, created_at, id,
           terms || array_to_tsvector(ARRAY['#' || (created_at >> 31)])
    FROM customer_search;
DROP TABLE customer_search;
ALTER TABLE customer_search_rebuilt RENAME TO customer_search;
ALTER INDEX customer_search_rebuilt_pkey RENAME TO customer_search_pkey;
CREATE INDEX customer_search_terms ON customer_search USING GIN (terms);
ANALYZE customer_search;
