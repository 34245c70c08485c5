-- Each customer's orders as one row, in the format a classification run
-- reads (`ordered_on total_fen line_categories`, entries separated by a
-- newline; the store's `CustomerOrders`). A run used to group the orders
-- table by customer: an index walk and a table seek per order, 1.5 s of
-- SQLite at 200,000 customers and most of the load at a million; reading
-- these rows takes 0.17 s there (docs/BENCHMARKS.md, T7).
-- Triggers keep it in step with every write to orders, whoever writes: an
-- insert appends its entry (entries are in insertion order; a run sorts a
-- customer's orders by day), an update or delete rebuilds the customers'
-- rows it touched.
-- A rowid table, not WITHOUT ROWID: a heavy buyer's row is several KB, and
-- a WITHOUT ROWID b-tree moves anything over ~1 KB to overflow pages.
CREATE TABLE customer_order_log (
    tenant_id    TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    log          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);
-- In key order, so a run's walk of the key reads the table in order too.
INSERT INTO customer_order_log (tenant_id, customer_id, log)
    SELECT tenant_id, customer_id,
           group_concat(ordered_on || ' ' || total_fen || ' ' || COALESCE(line_categories, ''), char(10))
    FROM (SELECT * FROM orders ORDER BY tenant_id, customer_id, ordered_on)
    GROUP BY tenant_id, customer_id
    ORDER BY tenant_id, customer_id;
CREATE TRIGGER customer_order_log_insert AFTER INSERT ON orders
BEGIN
    INSERT INTO customer_order_log (tenant_id, customer_id, log)
        VALUES (NEW.tenant_id, NEW.customer_id,
                NEW.ordered_on || ' ' || NEW.total_fen || ' ' || COALESCE(NEW.line_categories, ''))
        ON CONFLICT (tenant_id, customer_id) DO UPDATE SET log = log || char(10) || excluded.log;
END;
CREATE TRIGGER customer_order_log_update
AFTER UPDATE OF tenant_id, customer_id, ordered_on, total_fen, line_categories ON orders
BEGIN
    DELETE FROM customer_order_log
        WHERE (tenant_id = OLD.tenant_id AND customer_id = OLD.customer_id)
           OR (tenant_id = NEW.tenant_id AND customer_id = NEW.customer_id);
    INSERT INTO customer_order_log (tenant_id, customer_id, log)
        SELECT tenant_id, customer_id,
               group_concat(ordered_on || ' ' || total_fen || ' ' || COALESCE(line_categories, ''), char(10))
        FROM orders
        WHERE (tenant_id = OLD.tenant_id AND customer_id = OLD.customer_id)
           OR (tenant_id = NEW.tenant_id AND customer_id = NEW.customer_id)
        GROUP BY tenant_id, customer_id;
END;
CREATE TRIGGER customer_order_log_delete AFTER DELETE ON orders
BEGIN
    DELETE FROM customer_order_log
        WHERE tenant_id = OLD.tenant_id AND customer_id = OLD.customer_id;
    INSERT INTO customer_order_log (tenant_id, customer_id, log)
        SELECT tenant_id, customer_id,
               group_concat(ordered_on || ' ' || total_fen || ' ' || COALESCE(line_categories, ''), char(10))
        FROM orders
        WHERE tenant_id = OLD.tenant_id AND customer_id = OLD.customer_id
        GROUP BY tenant_id, customer_id;
END;
