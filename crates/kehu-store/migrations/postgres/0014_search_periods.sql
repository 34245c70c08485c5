-- Each search row gains a lexeme naming its customer's creation period,
-- `#` and created_at >> 31 (periods of about 25 days; customers.rs,
-- PERIOD_SHIFT). A newest-first search ANDs the newest periods' lexemes to
-- its terms and so reads the rows of the matches in those periods only,
-- not every match's row to rank them all. `#` is outside the search
-- alphabet: no query can spell the lexeme.
-- A trigger adds the lexeme to every row inserted and every change of the
-- terms, so every writer's rows have it, including a process of the
-- previous version still running (its rows would otherwise be missed by
-- every newest-first search).
-- Rebuilt rather than updated in place, as in 0012 (an UPDATE of every row
-- would leave the table and its GIN index twice their size). Writers wait
-- for the lock.
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
-- One line: the statements of a migration are split at ";" + newline when
-- the conformance tests run one again.
CREATE OR REPLACE FUNCTION customer_search_period() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.terms := NEW.terms || array_to_tsvector(ARRAY['#' || (NEW.created_at >> 31)]); RETURN NEW; END $$;
CREATE TRIGGER customer_search_period BEFORE INSERT OR UPDATE OF terms, created_at ON customer_search
    FOR EACH ROW EXECUTE FUNCTION customer_search_period();
ANALYZE customer_search;
