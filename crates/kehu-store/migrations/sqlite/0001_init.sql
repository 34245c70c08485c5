-- Kehu schema v1 (SQLite). Every table carries tenant_id; times are Unix
-- milliseconds UTC; dates are 'YYYY-MM-DD'; money is integer 分; ids UUIDv7 text.
-- The PostgreSQL twin lives in ../postgres/0001_init.sql with the same shape.

CREATE TABLE tenants (
    tenant_id     TEXT PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    wrapped_keys  BLOB NOT NULL,
    code_pattern  TEXT NOT NULL,
    code_reset    TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE departments (
    tenant_id   TEXT NOT NULL REFERENCES tenants(tenant_id),
    id          TEXT NOT NULL,
    parent_id   TEXT,
    name        TEXT NOT NULL,
    -- '/<root id>/<child id>/' so "this department and below" is a prefix match
    path        TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX departments_name ON departments (tenant_id, COALESCE(parent_id, ''), name);
CREATE INDEX departments_path ON departments (tenant_id, path);

CREATE TABLE roles (
    tenant_id     TEXT NOT NULL REFERENCES tenants(tenant_id),
    id            TEXT NOT NULL,
    key           TEXT NOT NULL,
    permissions   TEXT NOT NULL,
    data_scope    TEXT NOT NULL,
    field_access  TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, key)
);

CREATE TABLE users (
    tenant_id      TEXT NOT NULL REFERENCES tenants(tenant_id),
    id             TEXT NOT NULL,
    login          TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role_id        TEXT NOT NULL,
    department_id  TEXT,
    manager_id     TEXT,
    locale         TEXT NOT NULL DEFAULT 'zh-CN',
    disabled       INTEGER NOT NULL DEFAULT 0,
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, login)
);
CREATE INDEX users_department ON users (tenant_id, department_id);
CREATE INDEX users_manager ON users (tenant_id, manager_id);

CREATE TABLE sessions (
    token_hash    BLOB PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    csrf_token    TEXT NOT NULL,
    ip            TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);

CREATE TABLE api_tokens (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    name          TEXT NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER,
    PRIMARY KEY (tenant_id, id)
);

-- Failed-login counters shared by every app process. IP keys are not
-- tenant-bound and use tenant_id '*'.
CREATE TABLE login_throttle (
    tenant_id     TEXT NOT NULL,
    key           TEXT NOT NULL,
    failures      INTEGER NOT NULL,
    window_start  INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE customers (
    -- A stable integer key for the full-text index's rowid.
    rid            INTEGER PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(tenant_id),
    id             TEXT NOT NULL UNIQUE,
    code           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    owner_id       TEXT,
    province       TEXT,
    city           TEXT,
    district       TEXT,
    industry       TEXT,
    occupation     TEXT,
    employer       TEXT,
    source         TEXT,
    notes          TEXT,
    uscc           TEXT,
    custom_fields  TEXT NOT NULL DEFAULT '{}',
    -- phones, emails, id number, birthday, street address: sealed, never clear
    sealed         BLOB NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    created_by     TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deleted_at     INTEGER,
    UNIQUE (tenant_id, code)
);
CREATE INDEX customers_created ON customers (tenant_id, created_at, id);
CREATE INDEX customers_updated ON customers (tenant_id, updated_at, id);
CREATE INDEX customers_owner ON customers (tenant_id, owner_id, created_at, id);
CREATE INDEX customers_province ON customers (tenant_id, province, created_at, id);
CREATE INDEX customers_name ON customers (tenant_id, name, id);

-- Blind indexes (HMAC) for exact lookup of sealed values. source_id is the
-- customer or contact the value belongs to, so one contact's numbers can be
-- replaced without touching the others'.
CREATE TABLE customer_lookup (
    tenant_id    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    digest       BLOB NOT NULL,
    customer_id  TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, digest, source_id)
);
CREATE INDEX customer_lookup_source ON customer_lookup (tenant_id, source_id);

-- App-made search terms (CJK uni/bigrams, pinyin); rowid = customers.rid.
CREATE VIRTUAL TABLE customer_search USING fts5 (
    terms,
    tenant_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TABLE customer_team (
    tenant_id    TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    access       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, user_id)
);
CREATE INDEX customer_team_user ON customer_team (tenant_id, user_id, customer_id);

CREATE TABLE contacts (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    title        TEXT,
    is_primary   INTEGER NOT NULL DEFAULT 0,
    sealed       BLOB NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX contacts_customer ON contacts (tenant_id, customer_id);

CREATE TABLE orders (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    ordered_on   TEXT NOT NULL,
    channel      TEXT,
    total_fen    INTEGER NOT NULL,
    line_count   INTEGER NOT NULL,
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX orders_customer ON orders (tenant_id, customer_id, ordered_on);

CREATE TABLE order_lines (
    tenant_id   TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    line_no     INTEGER NOT NULL,
    product     TEXT NOT NULL,
    category    TEXT,
    quantity    INTEGER NOT NULL,
    amount_fen  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, order_id, line_no)
);

CREATE TABLE timeline (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    at           INTEGER NOT NULL,
    actor_id     TEXT,
    kind         TEXT NOT NULL,
    detail       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX timeline_customer ON timeline (tenant_id, customer_id, at);

CREATE TABLE custom_field_defs (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    key         TEXT NOT NULL,
    label_zh    TEXT NOT NULL,
    label_en    TEXT NOT NULL,
    field_type  TEXT NOT NULL,
    options     TEXT NOT NULL,
    required    INTEGER NOT NULL DEFAULT 0,
    position    INTEGER NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, key)
);

-- One counter per tenant and code period; codes are never reused.
CREATE TABLE code_sequences (
    tenant_id  TEXT NOT NULL,
    period     TEXT NOT NULL,
    value      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, period)
);

-- Hash-chained audit log: mac = HMAC(audit key, prev_mac || row).
CREATE TABLE audit_log (
    tenant_id    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    actor_id     TEXT,
    actor_login  TEXT,
    ip           TEXT,
    action       TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    TEXT,
    detail       TEXT NOT NULL,
    mac          BLOB NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_object ON audit_log (tenant_id, object_type, object_id);
CREATE INDEX audit_at ON audit_log (tenant_id, at);

-- The chain head, one row per tenant: updating it serialises appends.
CREATE TABLE audit_head (
    tenant_id  TEXT PRIMARY KEY,
    seq        INTEGER NOT NULL,
    mac        BLOB NOT NULL
);
