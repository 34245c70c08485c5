-- Insight (issue 5): each tenant's settings, every customer's latest
-- classification with its explanations, tags from tag rules, run history,
-- and the job queue that runs classification (nightly, manual, after orders).

CREATE TABLE insight_settings (
    tenant_id   TEXT PRIMARY KEY,
    config      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE customer_insight (
    tenant_id              TEXT NOT NULL,
    customer_id            TEXT NOT NULL,
    run_id                 TEXT NOT NULL,
    computed_at            INTEGER NOT NULL,
    tier                   TEXT NOT NULL,
    -- day numbers (days since 1970-01-01, Beijing dates)
    tier_since             INTEGER NOT NULL,
    stage                  TEXT NOT NULL,
    stage_since            INTEGER NOT NULL,
    frequency_class        TEXT,
    amount_class           TEXT,
    product_range          TEXT,
    r_score                INTEGER,
    f_score                INTEGER,
    m_score                INTEGER,
    rfm_segment            TEXT,
    contribution_12m_fen   INTEGER NOT NULL,
    orders_365d            INTEGER NOT NULL,
    p_alive                REAL,
    expected_purchases_90d REAL,
    expected_spend_fen     REAL,
    clv_fen                REAL,
    -- set only for customers with at-risk signals
    value_at_risk_fen      INTEGER,
    upgrade_tier           TEXT,
    predicted_12m_fen      INTEGER,
    upgrade_threshold_fen  INTEGER,
    -- JSON: the facts the decisions used (rule previews evaluate on them)
    facts                  TEXT,
    -- JSON: {"tier": {"zh-CN": …, "en": …}, "stage": …, …}
    explanations           TEXT NOT NULL,
    -- JSON: [{"code": …, "zh-CN": …, "en": …}]
    signals                TEXT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);
CREATE INDEX customer_insight_tier ON customer_insight (tenant_id, tier, customer_id);
CREATE INDEX customer_insight_stage ON customer_insight (tenant_id, stage, customer_id);
CREATE INDEX customer_insight_risk ON customer_insight (tenant_id, value_at_risk_fen, customer_id);
CREATE INDEX customer_insight_upgrade ON customer_insight (tenant_id, upgrade_tier, predicted_12m_fen, customer_id);

CREATE TABLE customer_tags (
    tenant_id    TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    tag          TEXT NOT NULL,
    rule_id      TEXT,
    since        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, tag)
);
CREATE INDEX customer_tags_tag ON customer_tags (tenant_id, tag, customer_id);

CREATE TABLE tag_rules (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    tag          TEXT NOT NULL,
    rule         TEXT NOT NULL,
    description  TEXT,
    enabled      INTEGER NOT NULL,
    -- evaluation order (creation order): has_tag sees earlier rules' tags
    position     INTEGER NOT NULL,
    matches      INTEGER,
    version      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX tag_rules_name ON tag_rules (tenant_id, name);

CREATE TABLE insight_runs (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    cause          TEXT NOT NULL,
    status         TEXT NOT NULL,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    as_of          TEXT NOT NULL,
    customers      INTEGER,
    tier_changes   INTEGER,
    stage_changes  INTEGER,
    tag_changes    INTEGER,
    -- JSON: fitted parameters and tier floors, reused by single-customer updates
    model          TEXT,
    error          TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX insight_runs_started ON insight_runs (tenant_id, started_at);

-- Background work. The unique key makes enqueueing idempotent (one nightly
-- run per schedule slot however many app processes enqueue it).
CREATE TABLE jobs (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    kind          TEXT NOT NULL,
    dedupe_key    TEXT NOT NULL,
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    run_after     INTEGER NOT NULL,
    locked_by     TEXT,
    locked_until  INTEGER,
    created_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    error         TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (tenant_id, kind, dedupe_key);
CREATE INDEX jobs_due ON jobs (state, run_after);
