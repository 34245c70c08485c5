-- Each customer's orders as one row, in the format a classification run
-- reads (`ordered_on total_fen line_categories`, entries separated by a
-- newline; the store's `CustomerOrders`): a run reads one row a customer
-- instead of grouping the orders table (docs/BENCHMARKS.md, T7). The key
-- sorts in byte order ("C"), the order a run reads customers in.
-- Statement triggers keep it in step with every write to orders, whoever
-- writes: an insert appends its orders to their customers' rows, an update
-- or delete rebuilds the rows of the customers it touched. Customers are
-- locked in key order, so two writers never wait on each other in a cycle.
-- Functions on one line: the statements of a migration are split at ";" +
-- newline when the conformance tests run one again.
-- Order writes wait for the migration: an order committed between the
-- copy below and the triggers' creation would be in neither.
LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE customer_order_log (
    tenant_id    TEXT NOT NULL,
    customer_id  TEXT COLLATE "C" NOT NULL,
    log          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);
INSERT INTO customer_order_log (tenant_id, customer_id, log)
    SELECT tenant_id, customer_id,
           string_agg(ordered_on || ' ' || total_fen::text || ' ' || COALESCE(line_categories, ''), E'\n' ORDER BY ordered_on, id)
    FROM orders
    GROUP BY tenant_id, customer_id
    ORDER BY tenant_id, customer_id COLLATE "C";
CREATE OR REPLACE FUNCTION customer_order_log_append() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO customer_order_log AS l (tenant_id, customer_id, log) SELECT tenant_id, customer_id, string_agg(ordered_on || ' ' || total_fen::text || ' ' || COALESCE(line_categories, ''), E'\n' ORDER BY ordered_on, id) FROM new_orders GROUP BY tenant_id, customer_id ORDER BY tenant_id, customer_id COLLATE "C" ON CONFLICT (tenant_id, customer_id) DO UPDATE SET log = l.log || E'\n' || EXCLUDED.log; RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION customer_order_log_rebuild() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'DELETE' THEN PERFORM 1 FROM customer_order_log l WHERE (l.tenant_id, l.customer_id) IN (SELECT tenant_id, customer_id FROM old_orders) ORDER BY l.tenant_id, l.customer_id FOR UPDATE; DELETE FROM customer_order_log l WHERE (l.tenant_id, l.customer_id) IN (SELECT tenant_id, customer_id FROM old_orders); INSERT INTO customer_order_log (tenant_id, customer_id, log) SELECT o.tenant_id, o.customer_id, string_agg(o.ordered_on || ' ' || o.total_fen::text || ' ' || COALESCE(o.line_categories, ''), E'\n' ORDER BY o.ordered_on, o.id) FROM orders o WHERE (o.tenant_id, o.customer_id) IN (SELECT tenant_id, customer_id FROM old_orders) GROUP BY o.tenant_id, o.customer_id; ELSE PERFORM 1 FROM customer_order_log l WHERE (l.tenant_id, l.customer_id) IN (SELECT tenant_id, customer_id FROM old_orders UNION SELECT tenant_id, customer_id FROM new_orders) ORDER BY l.tenant_id, l.customer_id FOR UPDATE; DELETE FROM customer_order_log l WHERE (l.tenant_id, l.customer_id) IN (SELECT tenant_id, customer_id FROM old_orders UNION SELECT tenant_id, customer_id FROM new_orders); INSERT INTO customer_order_log (tenant_id, customer_id, log) SELECT o.tenant_id, o.customer_id, string_agg(o.ordered_on || ' ' || o.total_fen::text || ' ' || COALESCE(o.line_categories, ''), E'\n' ORDER BY o.ordered_on, o.id) FROM orders o WHERE (o.tenant_id, o.customer_id) IN (SELECT tenant_id, customer_id FROM old_orders UNION SELECT tenant_id, customer_id FROM new_orders) GROUP BY o.tenant_id, o.customer_id; END IF; RETURN NULL; END $$;
CREATE TRIGGER customer_order_log_insert AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_orders
    FOR EACH STATEMENT EXECUTE FUNCTION customer_order_log_append();
CREATE TRIGGER customer_order_log_update AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders
    FOR EACH STATEMENT EXECUTE FUNCTION customer_order_log_rebuild();
CREATE TRIGGER customer_order_log_delete AFTER DELETE ON orders
    REFERENCING OLD TABLE AS old_orders
    FOR EACH STATEMENT EXECUTE FUNCTION customer_order_log_rebuild();
ANALYZE customer_order_log;
