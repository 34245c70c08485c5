-- Rows kept for customers deleted before this migration are removed once
-- (see the SQLite migration of the same name).
DELETE FROM customer_insight i USING customers c
    WHERE c.tenant_id = i.tenant_id AND c.id = i.customer_id AND c.deleted_at IS NOT NULL;
DELETE FROM customer_tags t USING customers c
    WHERE c.tenant_id = t.tenant_id AND c.id = t.customer_id AND c.deleted_at IS NOT NULL;
