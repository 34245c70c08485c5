-- Each order carries its lines' (category, amount) pairs as a JSON array,
-- so a classification run reads categories in the same pass as the orders
-- instead of joining every order line (see the SQLite migration).
ALTER TABLE orders ADD COLUMN line_categories TEXT;
UPDATE orders o SET line_categories = COALESCE((
    SELECT json_agg(json_build_array(l.category, l.amount_fen))::text
    FROM order_lines l
    WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id
), '[]');
