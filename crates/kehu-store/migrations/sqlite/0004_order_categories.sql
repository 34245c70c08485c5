-- Each order carries its lines' (category, amount) pairs as a JSON array,
-- so a classification run reads categories in the same pass as the orders
-- instead of joining every order line (measured: the join was 4.9 s of an
-- 11 s load at 200,000 customers; docs/BENCHMARKS.md, T7). Written with the
-- lines, never edited apart from them.
ALTER TABLE orders ADD COLUMN line_categories TEXT;
UPDATE orders SET line_categories = (
    SELECT json_group_array(json_array(l.category, l.amount_fen))
    FROM order_lines l
    WHERE l.tenant_id = orders.tenant_id AND l.order_id = orders.id
);
