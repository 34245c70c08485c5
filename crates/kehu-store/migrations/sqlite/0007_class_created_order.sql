-- The customer list filtered by tier, stage or tag shows the newest
-- customers first. A class that long-standing customers hold (tier A,
-- loyal) sits far from the start of the created_at index, and the other
-- plan fetched and sorted every member (120-460 ms at 1 M). Each
-- classification row now carries its customer's created_at (set once at
-- creation, never changed), and the class indexes list members in that
-- order, so the newest page is read straight from them. They still serve
-- the member counts and `IN` lookups the older indexes did.
ALTER TABLE customer_insight ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
UPDATE customer_insight SET created_at = c.created_at
    FROM customers c WHERE c.tenant_id = customer_insight.tenant_id AND c.id = customer_insight.customer_id;
ALTER TABLE customer_tags ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
UPDATE customer_tags SET created_at = c.created_at
    FROM customers c WHERE c.tenant_id = customer_tags.tenant_id AND c.id = customer_tags.customer_id;
DROP INDEX customer_insight_tier;
CREATE INDEX customer_insight_tier ON customer_insight (tenant_id, tier, created_at, customer_id);
DROP INDEX customer_insight_stage;
CREATE INDEX customer_insight_stage ON customer_insight (tenant_id, stage, created_at, customer_id);
DROP INDEX customer_tags_tag;
CREATE INDEX customer_tags_tag ON customer_tags (tenant_id, tag, created_at, customer_id);
