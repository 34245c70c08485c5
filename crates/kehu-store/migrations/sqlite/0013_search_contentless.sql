-- The search index stores only what a search reads: which customers hold a
-- term. Searches AND single terms and prefixes, so term positions
-- (`detail = none`) and a stored copy of the terms (`content = ''`) were
-- written on every create and edit and never read; the rowid is the
-- customer's `rid`, and every search joins `customers` on it and tests the
-- tenant there. `contentless_delete` keeps `DELETE … WHERE rowid = ?` for
-- edits and deletes. Rebuilt from the old table's stored terms: about a
-- minute per million customers; stop older processes first.
CREATE VIRTUAL TABLE customer_search_rebuilt USING fts5 (
    terms,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3',
    content = '',
    contentless_delete = 1,
    detail = none
);
INSERT INTO customer_search_rebuilt (rowid, terms)
    SELECT rowid, terms FROM customer_search;
DROP TABLE customer_search;
ALTER TABLE customer_search_rebuilt RENAME TO customer_search;
INSERT INTO customer_search (customer_search) VALUES ('optimize');
