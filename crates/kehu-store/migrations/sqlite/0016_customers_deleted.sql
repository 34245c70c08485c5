-- Deleted customers by when they were deleted (a delete sets updated_at).
-- Each chunk of a classification run asks which customers were deleted
-- since (about) the run began; through customers_updated that walked every
-- customer updated in that window and read each one's row, for every chunk
-- (at 290,000 customers, after 90,000 edits in the ten minutes before, a
-- run's write phase took 12 s instead of 2). Only deletes write here.
CREATE INDEX customers_deleted ON customers (tenant_id, updated_at, id)
    WHERE deleted_at IS NOT NULL;
