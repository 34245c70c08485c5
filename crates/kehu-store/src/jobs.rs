//! The job queue: background work kept in the database, so it survives
//! restarts and several app processes share it.
//!
//! Enqueueing is idempotent through `(tenant_id, kind, dedupe_key)`: a
//! nightly run is enqueued once per schedule slot whichever process gets
//! there first. A claim is one atomic `UPDATE … RETURNING` (on PostgreSQL
//! the candidate row is picked `FOR UPDATE SKIP LOCKED`, so processes never
//! wait on each other); a worker's lease expires, so a job whose process
//! died is picked up again. The queue is the one place read across
//! tenants: a claimed job then works inside its own tenant only.

use crate::fast::row;

use crate::db::{Sql, Tx};
use crate::{Result, sql};

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct JobRow {
        pub tenant_id: String,
        pub id: String,
        pub kind: String,
        pub dedupe_key: String,
        pub payload: String,
        pub attempts: i64,
    }
}

/// What to do when a job with the same key already exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDuplicate {
    /// Keep the existing job, whatever its state (schedule slots).
    Keep,
    /// Queue it again (a job that is running will run once more after).
    Requeue,
}

pub struct NewJob<'a> {
    pub tenant_id: &'a str,
    pub id: &'a str,
    pub kind: &'a str,
    pub dedupe_key: &'a str,
    pub payload: &'a str,
    pub run_after: i64,
    pub now: i64,
}

/// Enqueues inside the caller's transaction, so a job exists exactly when
/// the change that causes it was committed. Returns whether a row was
/// inserted or requeued.
pub async fn enqueue(tx: &mut Tx, j: &NewJob<'_>, dup: OnDuplicate) -> Result<bool> {
    let conflict = match dup {
        OnDuplicate::Keep => "DO NOTHING",
        // Clearing the lock makes the running worker's completion miss the
        // row (it completes by id and locked_by), so the job runs again.
        OnDuplicate::Requeue => {
            "DO UPDATE SET state = 'queued', attempts = 0, run_after = excluded.run_after, payload = excluded.payload, locked_by = NULL, locked_until = NULL, error = NULL"
        }
    };
    let n = tx
        .exec(sql!(
            &format!(
                "INSERT INTO jobs (tenant_id, id, kind, dedupe_key, payload, state, attempts, run_after, created_at)
                 VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7)
                 ON CONFLICT (tenant_id, kind, dedupe_key) {conflict}"
            ),
            j.tenant_id,
            j.id,
            j.kind,
            j.dedupe_key,
            j.payload,
            j.run_after,
            j.now
        ))
        .await?;
    Ok(n > 0)
}

/// Takes the next due job (queued, or running with an expired lease) and
/// leases it to `worker` until `lease_until`; only `tenant`'s when given
/// (tests sharing one database; a tenant's own tools).
pub async fn claim(
    tx: &mut Tx,
    worker: &str,
    now: i64,
    lease_until: i64,
    tenant: Option<&str>,
) -> Result<Option<JobRow>> {
    let lock = if tx.is_pg() {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let mut q = Sql::new("UPDATE jobs SET state = 'running', locked_by = ");
    q.bind(worker)
        .push(", locked_until = ")
        .bind(lease_until)
        .push(", attempts = attempts + 1 WHERE (tenant_id, id) = (SELECT tenant_id, id FROM jobs WHERE ((state = 'queued' AND run_after <= ")
        .bind(now)
        .push(") OR (state = 'running' AND locked_until < ")
        .bind(now)
        .push("))");
    if let Some(t) = tenant {
        q.push(" AND tenant_id = ").bind(t);
    }
    q.push(&format!(
        " ORDER BY run_after LIMIT 1{lock}) RETURNING tenant_id, id, kind, dedupe_key, payload, attempts"
    ));
    tx.opt(q).await
}

/// Marks a job done; `false` when the lease was lost (the job was requeued
/// or taken over), in which case the job stays as it is.
pub async fn complete(tx: &mut Tx, j: &JobRow, worker: &str, now: i64) -> Result<bool> {
    let n = tx
        .exec(sql!(
            "UPDATE jobs SET state = 'done', finished_at = $1, locked_by = NULL, locked_until = NULL
             WHERE tenant_id = $2 AND id = $3 AND locked_by = $4 AND state = 'running'",
            now,
            &j.tenant_id,
            &j.id,
            worker
        ))
        .await?;
    Ok(n > 0)
}

/// Extends a running job's lease to `until` while its worker is still at
/// it; `false` when the lease was lost (requeued, or taken over after it
/// expired), so the worker knows another may be running the job.
pub async fn renew(tx: &mut Tx, j: &JobRow, worker: &str, until: i64) -> Result<bool> {
    let n = tx
        .exec(sql!(
            "UPDATE jobs SET locked_until = $1
             WHERE tenant_id = $2 AND id = $3 AND locked_by = $4 AND state = 'running'",
            until,
            &j.tenant_id,
            &j.id,
            worker
        ))
        .await?;
    Ok(n > 0)
}

/// Records a failure: queued again after `retry_at`, or failed for good
/// when `retry_at` is `None`.
pub async fn fail(
    tx: &mut Tx,
    j: &JobRow,
    worker: &str,
    error: &str,
    retry_at: Option<i64>,
    now: i64,
) -> Result<()> {
    let (state, run_after) = match retry_at {
        Some(t) => ("queued", t),
        None => ("failed", now),
    };
    tx.exec(sql!(
        "UPDATE jobs SET state = $1, run_after = $2, error = $3, finished_at = $4, locked_by = NULL, locked_until = NULL
         WHERE tenant_id = $5 AND id = $6 AND locked_by = $7 AND state = 'running'",
        state,
        run_after,
        error,
        now,
        &j.tenant_id,
        &j.id,
        worker
    ))
    .await?;
    Ok(())
}

/// Forgets finished jobs older than `before` (the queue is not a log; the
/// run history and the audit log are).
pub async fn purge_finished(tx: &mut Tx, before: i64) -> Result<u64> {
    tx.exec(sql!(
        "DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished_at < $1",
        before
    ))
    .await
}

/// Jobs of a tenant not finished yet, by kind (tests, `kehu classify`).
pub async fn pending(c: &mut crate::db::Conn<'_>, tenant_id: &str, kind: &str) -> Result<i64> {
    Ok(c
        .int(sql!(
            "SELECT COUNT(*) FROM jobs WHERE tenant_id = $1 AND kind = $2 AND state IN ('queued', 'running')",
            tenant_id,
            kind
        ))
        .await?
        .unwrap_or(0))
}
