-- Deleting a customer now removes its classification and tags, and a full
-- run no longer clears a tenant's rows wholesale: rows kept for customers
-- deleted before this migration are removed once here.
DELETE FROM customer_insight WHERE EXISTS (
    SELECT 1 FROM customers c WHERE c.tenant_id = customer_insight.tenant_id
        AND c.id = customer_insight.customer_id AND c.deleted_at IS NOT NULL);
DELETE FROM customer_tags WHERE EXISTS (
    SELECT 1 FROM customers c WHERE c.tenant_id = customer_tags.tenant_id
        AND c.id = customer_tags.customer_id AND c.deleted_at IS NOT NULL);
