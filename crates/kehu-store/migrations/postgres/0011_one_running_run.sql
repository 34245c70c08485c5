-- At most one running classification run per tenant: two full runs of one
-- tenant at once would write over each other's chunks. Older runs still
-- marked running (their process died) are closed first, as a new run would.
UPDATE insight_runs SET status = 'failed', error = 'interrupted', finished_at = started_at
WHERE status = 'running' AND EXISTS (
    SELECT 1 FROM insight_runs n
    WHERE n.tenant_id = insight_runs.tenant_id AND n.status = 'running'
        AND (n.started_at > insight_runs.started_at
             OR (n.started_at = insight_runs.started_at AND n.id > insight_runs.id)));
CREATE UNIQUE INDEX insight_runs_one_running ON insight_runs (tenant_id) WHERE status = 'running';
