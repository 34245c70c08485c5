-- The at-risk and upgrade rankings only ever read customers that have a
-- value at risk / an upgrade tier (their queries say `IS NOT NULL`), about
-- half and a tenth of a tenant. Partial indexes hold just those rows, so a
-- full classification run, which rewrites every customer's row, maintains
-- two smaller indexes.
DROP INDEX customer_insight_risk;
CREATE INDEX customer_insight_risk ON customer_insight (tenant_id, value_at_risk_fen, customer_id)
    WHERE value_at_risk_fen IS NOT NULL;
DROP INDEX customer_insight_upgrade;
CREATE INDEX customer_insight_upgrade ON customer_insight (tenant_id, upgrade_tier, predicted_12m_fen, customer_id)
    WHERE upgrade_tier IS NOT NULL;
