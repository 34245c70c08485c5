-- Each search row carries its customer's created_at and id (neither ever
-- changes), so a search with few matches sorts the matches from this table
-- alone and then reads only the page's customers. Before, every match's
-- customer row was read to sort them: about four buffers per match, most of
-- them outside shared_buffers at 1 M customers.
-- Rebuilt rather than updated in place: an UPDATE of every row would add a
-- second set of GIN entries and leave the table twice its size. Writers wait
-- for the lock (a search row written during the copy would be dropped with
-- the old table); processes of the previous version must be stopped, since
-- their inserts lack the new columns.
LOCK TABLE customer_search IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE customer_search_rebuilt (
    rid         BIGINT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    id          TEXT NOT NULL,
    terms       TSVECTOR NOT NULL
);
INSERT INTO customer_search_rebuilt (rid, tenant_id, created_at, id, terms)
    SELECT s.rid, s.tenant_id, c.created_at, c.id, s.terms
    FROM customer_search s JOIN customers c ON c.rid = s.rid;
DROP TABLE customer_search;
ALTER TABLE customer_search_rebuilt RENAME TO customer_search;
ALTER INDEX customer_search_rebuilt_pkey RENAME TO customer_search_pkey;
CREATE INDEX customer_search_terms ON customer_search USING GIN (terms);
ANALYZE customer_search;
