-- Saved list views: a user's own named searches, filters, sort and columns.
-- `config` is the web app's JSON (opaque to the server, size-capped by the app).
CREATE TABLE saved_views (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    config      TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX saved_views_name ON saved_views (tenant_id, user_id, kind, name);
