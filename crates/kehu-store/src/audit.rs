//! The audit log: one row per write, reveal and login, appended in the same
//! transaction as the change it records, and chained: each row's MAC covers
//! the previous row's MAC, so editing or deleting a row breaks the chain.
//! The MAC itself is computed by the caller (only kehu-crypto holds keys).

use crate::fast::row;

use crate::db::{Conn, Sql, Tx};
use crate::{Result, StoreError, sql};

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct AuditRow {
        pub tenant_id: String,
        pub seq: i64,
        pub at: i64,
        pub actor_id: Option<String>,
        pub actor_login: Option<String>,
        pub ip: Option<String>,
        pub action: String,
        pub object_type: String,
        pub object_id: Option<String>,
        /// JSON; never contains sensitive values.
        pub detail: String,
        pub mac: Vec<u8>,
    }
}

impl AuditRow {
    /// The bytes the MAC covers: the previous MAC and every field, each
    /// length-prefixed so no two different rows encode the same.
    pub fn chained_bytes(&self, prev_mac: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.detail.len());
        let mut put = |b: &[u8]| {
            out.extend_from_slice(&(b.len() as u64).to_le_bytes());
            out.extend_from_slice(b);
        };
        put(prev_mac);
        put(self.tenant_id.as_bytes());
        put(&self.seq.to_le_bytes());
        put(&self.at.to_le_bytes());
        let opt = |s: &Option<String>| s.clone().map(|v| format!("+{v}")).unwrap_or_default();
        put(opt(&self.actor_id).as_bytes());
        put(opt(&self.actor_login).as_bytes());
        put(opt(&self.ip).as_bytes());
        put(self.action.as_bytes());
        put(self.object_type.as_bytes());
        put(opt(&self.object_id).as_bytes());
        put(self.detail.as_bytes());
        out
    }
}

row! {
    struct Head {
        seq: i64,
        mac: Vec<u8>,
    }
}

/// Appends `row` (its `seq` and `mac` are filled in here) to its tenant's chain.
pub async fn append(
    tx: &mut Tx,
    row: &mut AuditRow,
    mac: impl FnOnce(&[u8]) -> [u8; 32],
) -> Result<()> {
    // The UPDATE takes the head's row lock (PostgreSQL) or runs under the
    // write lock (SQLite), so concurrent appends serialise.
    let head: Head = tx
        .opt(sql!(
            "UPDATE audit_head SET seq = seq + 1 WHERE tenant_id = $1 RETURNING seq, mac",
            &row.tenant_id
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    row.seq = head.seq;
    row.mac = mac(&row.chained_bytes(&head.mac)).to_vec();
    tx.exec(sql!(
        "INSERT INTO audit_log (tenant_id, seq, at, actor_id, actor_login, ip, action, object_type, object_id, detail, mac)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &row.tenant_id, row.seq, row.at, &row.actor_id, &row.actor_login, &row.ip, &row.action, &row.object_type,
        &row.object_id, &row.detail, row.mac.clone()
    ))
    .await?;
    tx.exec(sql!(
        "UPDATE audit_head SET mac = $1 WHERE tenant_id = $2",
        row.mac.clone(),
        &row.tenant_id
    ))
    .await?;
    Ok(())
}

const AUDIT_COLS: &str =
    "tenant_id, seq, at, actor_id, actor_login, ip, action, object_type, object_id, detail, mac";

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Newest first, keyset-paged by `seq`.
pub async fn list(
    c: &mut Conn<'_>,
    tenant_id: &str,
    f: &AuditFilter,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {AUDIT_COLS} FROM audit_log WHERE tenant_id = "
    ));
    q.bind(tenant_id);
    let eq = [
        ("actor_id", &f.actor_id),
        ("action", &f.action),
        ("object_type", &f.object_type),
        ("object_id", &f.object_id),
    ];
    for (col, val) in eq {
        if let Some(v) = val {
            q.push(&format!(" AND {col} = ")).bind(v);
        }
    }
    if let Some(v) = f.from {
        q.push(" AND at >= ").bind(v);
    }
    if let Some(v) = f.to {
        q.push(" AND at < ").bind(v);
    }
    if let Some(s) = before_seq {
        q.push(" AND seq < ").bind(s);
    }
    q.push(" ORDER BY seq DESC").limit(limit);
    c.all(q).await
}

/// Rows in chain order from `after_seq`, for verification in batches.
pub async fn chain_page(
    c: &mut Conn<'_>,
    tenant_id: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    c.all(sql!(
        &format!("SELECT {AUDIT_COLS} FROM audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT {limit}"),
        tenant_id,
        after_seq
    ))
    .await
}

/// The chain head: last sequence number and MAC.
pub async fn head(c: &mut Conn<'_>, tenant_id: &str) -> Result<(i64, Vec<u8>)> {
    let h: Head = c
        .one(sql!(
            "SELECT seq, mac FROM audit_head WHERE tenant_id = $1",
            tenant_id
        ))
        .await?;
    Ok((h.seq, h.mac))
}
