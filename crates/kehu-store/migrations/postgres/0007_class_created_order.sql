-- Each classification row carries its customer's created_at (set once at
-- creation, never changed), and the class indexes list members in that
-- order, as on SQLite (see the SQLite migration of the same name: the
-- newest page of a tier, stage or tag is read straight from them).
ALTER TABLE customer_insight ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
UPDATE customer_insight i SET created_at = c.created_at
    FROM customers c WHERE c.tenant_id = i.tenant_id AND c.id = i.customer_id;
ALTER TABLE customer_tags ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
UPDATE customer_tags t SET created_at = c.created_at
    FROM customers c WHERE c.tenant_id = t.tenant_id AND c.id = t.customer_id;
DROP INDEX customer_insight_tier;
CREATE INDEX customer_insight_tier ON customer_insight (tenant_id, tier, created_at, customer_id);
DROP INDEX customer_insight_stage;
CREATE INDEX customer_insight_stage ON customer_insight (tenant_id, stage, created_at, customer_id);
DROP INDEX customer_tags_tag;
CREATE INDEX customer_tags_tag ON customer_tags (tenant_id, tag, created_at, customer_id);
