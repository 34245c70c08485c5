//! Saved list views: each user's own named list configurations.
//!
//! A view belongs to one user; every query names both the tenant and the
//! user, so no one reads or changes another person's views.

use crate::fast::row;

use crate::db::{Conn, Tx};
use crate::{Result, StoreError, sql};

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct SavedViewRow {
        pub tenant_id: String,
        pub id: String,
        pub user_id: String,
        pub kind: String,
        pub name: String,
        pub config: String,
        pub version: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const COLS: &str = "tenant_id, id, user_id, kind, name, config, version, created_at, updated_at";

pub async fn list_views(
    c: &mut Conn<'_>,
    tenant_id: &str,
    user_id: &str,
    kind: &str,
) -> Result<Vec<SavedViewRow>> {
    c.all(sql!(
        &format!(
            "SELECT {COLS} FROM saved_views WHERE tenant_id = $1 AND user_id = $2 AND kind = $3 ORDER BY name, id"
        ),
        tenant_id,
        user_id,
        kind
    ))
    .await
}

pub async fn view(
    c: &mut Conn<'_>,
    tenant_id: &str,
    user_id: &str,
    id: &str,
) -> Result<Option<SavedViewRow>> {
    c.opt(sql!(
        &format!(
            "SELECT {COLS} FROM saved_views WHERE tenant_id = $1 AND user_id = $2 AND id = $3"
        ),
        tenant_id,
        user_id,
        id
    ))
    .await
}

pub async fn insert_view(tx: &mut Tx, v: &SavedViewRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO saved_views (tenant_id, id, user_id, kind, name, config, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
        &v.tenant_id, &v.id, &v.user_id, &v.kind, &v.name, &v.config, v.created_at
    ))
    .await
    .map_err(|e| e.unique_as("view_name"))?;
    Ok(())
}

/// Writes `v`'s name and configuration if the stored version is still
/// `v.version`; returns the row as stored (version + 1).
pub async fn update_view(tx: &mut Tx, v: &SavedViewRow) -> Result<SavedViewRow> {
    let n = tx
        .exec(sql!(
            "UPDATE saved_views SET name = $1, config = $2, version = version + 1, updated_at = $3
             WHERE tenant_id = $4 AND user_id = $5 AND id = $6 AND version = $7",
            &v.name,
            &v.config,
            v.updated_at,
            &v.tenant_id,
            &v.user_id,
            &v.id,
            v.version
        ))
        .await
        .map_err(|e| e.unique_as("view_name"))?;
    if n == 0 {
        return Err(gone_or_conflict(&mut tx.conn(), &v.tenant_id, &v.user_id, &v.id).await);
    }
    view(&mut tx.conn(), &v.tenant_id, &v.user_id, &v.id)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn delete_view(
    tx: &mut Tx,
    tenant_id: &str,
    user_id: &str,
    id: &str,
    version: i64,
) -> Result<()> {
    let n = tx
        .exec(sql!(
            "DELETE FROM saved_views WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND version = $4",
            tenant_id, user_id, id, version
        ))
        .await?;
    if n == 0 {
        return Err(gone_or_conflict(&mut tx.conn(), tenant_id, user_id, id).await);
    }
    Ok(())
}

/// After a guarded write touched nothing: was the row missing, or newer?
async fn gone_or_conflict(
    c: &mut Conn<'_>,
    tenant_id: &str,
    user_id: &str,
    id: &str,
) -> StoreError {
    match view(c, tenant_id, user_id, id).await {
        Ok(Some(_)) => StoreError::VersionConflict,
        Ok(None) => StoreError::NotFound,
        Err(e) => e,
    }
}
