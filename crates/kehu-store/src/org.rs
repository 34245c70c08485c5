//! Tenants, departments, roles, users, sessions, API tokens and login
//! throttling: who works in Kehu and how they get in.

use crate::fast::row;

use crate::db::{Conn, Tx};
use crate::{Result, StoreError, sql};

row! {
    #[derive(Clone, Debug)]
    pub struct TenantRow {
        pub tenant_id: String,
        pub slug: String,
        pub name: String,
        pub wrapped_keys: Vec<u8>,
        pub code_pattern: String,
        pub code_reset: String,
        pub version: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const TENANT_COLS: &str = "tenant_id, slug, name, wrapped_keys, code_pattern, code_reset, version, created_at, updated_at";

pub async fn insert_tenant(tx: &mut Tx, t: &TenantRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO tenants (tenant_id, slug, name, wrapped_keys, code_pattern, code_reset, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
        &t.tenant_id, &t.slug, &t.name, t.wrapped_keys.clone(), &t.code_pattern, &t.code_reset, t.created_at
    ))
    .await
    .map_err(|e| e.unique_as("tenant"))?;
    tx.exec(sql!(
        "INSERT INTO audit_head (tenant_id, seq, mac) VALUES ($1, 0, $2)",
        &t.tenant_id,
        vec![0u8; 32]
    ))
    .await?;
    Ok(())
}

pub async fn tenant_by_slug(c: &mut Conn<'_>, slug: &str) -> Result<Option<TenantRow>> {
    c.opt(sql!(
        &format!("SELECT {TENANT_COLS} FROM tenants WHERE slug = $1"),
        slug
    ))
    .await
}

pub async fn tenant_by_id(c: &mut Conn<'_>, id: &str) -> Result<Option<TenantRow>> {
    c.opt(sql!(
        &format!("SELECT {TENANT_COLS} FROM tenants WHERE tenant_id = $1"),
        id
    ))
    .await
}

pub async fn list_tenants(c: &mut Conn<'_>) -> Result<Vec<TenantRow>> {
    c.all(sql!(&format!(
        "SELECT {TENANT_COLS} FROM tenants ORDER BY slug"
    )))
    .await
}

pub async fn update_code_pattern(
    tx: &mut Tx,
    tenant_id: &str,
    pattern: &str,
    reset: &str,
    version: i64,
    now: i64,
) -> Result<i64> {
    let n = tx
        .exec(sql!(
            "UPDATE tenants SET code_pattern = $1, code_reset = $2, version = version + 1, updated_at = $3
             WHERE tenant_id = $4 AND version = $5",
            pattern, reset, now, tenant_id, version
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(version + 1)
}

/// Takes the next number of a code sequence; never hands out a number twice.
pub async fn next_code_seq(tx: &mut Tx, tenant_id: &str, period: &str) -> Result<i64> {
    tx.int(sql!(
        "INSERT INTO code_sequences (tenant_id, period, value) VALUES ($1, $2, 1)
         ON CONFLICT (tenant_id, period) DO UPDATE SET value = code_sequences.value + 1
         RETURNING value",
        tenant_id,
        period
    ))
    .await?
    .ok_or(StoreError::NotFound)
}

row! {
    #[derive(Clone, Debug)]
    pub struct DepartmentRow {
        pub tenant_id: String,
        pub id: String,
        pub parent_id: Option<String>,
        pub name: String,
        pub path: String,
        pub version: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const DEPT_COLS: &str = "tenant_id, id, parent_id, name, path, version, created_at, updated_at";

pub async fn department(
    c: &mut Conn<'_>,
    tenant_id: &str,
    id: &str,
) -> Result<Option<DepartmentRow>> {
    c.opt(sql!(
        &format!("SELECT {DEPT_COLS} FROM departments WHERE tenant_id = $1 AND id = $2"),
        tenant_id,
        id
    ))
    .await
}

pub async fn department_by_name(
    c: &mut Conn<'_>,
    tenant_id: &str,
    name: &str,
) -> Result<Option<DepartmentRow>> {
    c.opt(sql!(
        &format!("SELECT {DEPT_COLS} FROM departments WHERE tenant_id = $1 AND name = $2 ORDER BY path LIMIT 1"),
        tenant_id,
        name
    ))
    .await
}

pub async fn list_departments(c: &mut Conn<'_>, tenant_id: &str) -> Result<Vec<DepartmentRow>> {
    c.all(sql!(
        &format!("SELECT {DEPT_COLS} FROM departments WHERE tenant_id = $1 ORDER BY path"),
        tenant_id
    ))
    .await
}

/// Inserts a department under `parent_id`; its path extends the parent's.
pub async fn insert_department(
    tx: &mut Tx,
    tenant_id: &str,
    id: &str,
    parent_id: Option<&str>,
    name: &str,
    now: i64,
) -> Result<DepartmentRow> {
    let parent_path = match parent_id {
        Some(p) => {
            department(&mut tx.conn(), tenant_id, p)
                .await?
                .ok_or(StoreError::NotFound)?
                .path
        }
        None => "/".to_string(),
    };
    let row = DepartmentRow {
        tenant_id: tenant_id.into(),
        id: id.into(),
        parent_id: parent_id.map(str::to_string),
        name: name.into(),
        path: format!("{parent_path}{id}/"),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    tx.exec(sql!(
        "INSERT INTO departments (tenant_id, id, parent_id, name, path, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
        &row.tenant_id, &row.id, &row.parent_id, &row.name, &row.path, now
    ))
    .await
    .map_err(|e| e.unique_as("department_name"))?;
    Ok(row)
}

/// Renames and/or moves a department; the subtree's paths move with it.
pub async fn update_department(
    tx: &mut Tx,
    tenant_id: &str,
    id: &str,
    name: &str,
    parent_id: Option<&str>,
    version: i64,
    now: i64,
) -> Result<DepartmentRow> {
    let old = department(&mut tx.conn(), tenant_id, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if old.version != version {
        return Err(StoreError::VersionConflict);
    }
    let parent_path = match parent_id {
        Some(p) => {
            department(&mut tx.conn(), tenant_id, p)
                .await?
                .ok_or(StoreError::NotFound)?
                .path
        }
        None => "/".to_string(),
    };
    if parent_path.starts_with(&old.path) {
        return Err(StoreError::Unique("department_cycle"));
    }
    let new_path = format!("{parent_path}{id}/");
    // The UPDATE checks the version itself: on PostgreSQL a concurrent
    // writer may have committed since the SELECT above.
    let n = tx
        .exec(sql!(
            "UPDATE departments SET name = $1, parent_id = $2, path = $3, version = version + 1, updated_at = $4
             WHERE tenant_id = $5 AND id = $6 AND version = $7",
            name, parent_id, &new_path, now, tenant_id, id, version
        ))
        .await
        .map_err(|e| e.unique_as("department_name"))?;
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    if new_path != old.path {
        tx.exec(sql!(
            "UPDATE departments SET path = $1 || substr(path, CAST($2 AS INTEGER)) WHERE tenant_id = $3 AND path LIKE $4 AND id <> $5",
            &new_path,
            old.path.len() as i64 + 1,
            tenant_id,
            format!("{}%", old.path),
            id
        ))
        .await?;
    }
    department(&mut tx.conn(), tenant_id, id)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Deletes an empty department (no sub-departments, no users).
pub async fn delete_department(tx: &mut Tx, tenant_id: &str, id: &str, version: i64) -> Result<()> {
    let d = department(&mut tx.conn(), tenant_id, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if d.version != version {
        return Err(StoreError::VersionConflict);
    }
    let children = tx
        .int(sql!(
            "SELECT COUNT(*) FROM departments WHERE tenant_id = $1 AND parent_id = $2",
            tenant_id,
            id
        ))
        .await?
        .unwrap_or(0);
    let users = tx
        .int(sql!(
            "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND department_id = $2",
            tenant_id,
            id
        ))
        .await?
        .unwrap_or(0);
    if children + users > 0 {
        return Err(StoreError::Unique("department_not_empty"));
    }
    let n = tx
        .exec(sql!(
            "DELETE FROM departments WHERE tenant_id = $1 AND id = $2 AND version = $3",
            tenant_id,
            id,
            version
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(())
}

row! {
    #[derive(Clone, Debug)]
    pub struct RoleRow {
        pub tenant_id: String,
        pub id: String,
        pub key: String,
        /// Space-separated permission keys.
        pub permissions: String,
        pub data_scope: String,
        /// JSON object: field → hidden | read | edit.
        pub field_access: String,
        pub version: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const ROLE_COLS: &str =
    "tenant_id, id, key, permissions, data_scope, field_access, version, created_at, updated_at";

pub async fn insert_role(tx: &mut Tx, r: &RoleRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO roles (tenant_id, id, key, permissions, data_scope, field_access, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
        &r.tenant_id, &r.id, &r.key, &r.permissions, &r.data_scope, &r.field_access, r.created_at
    ))
    .await
    .map_err(|e| e.unique_as("role"))?;
    Ok(())
}

pub async fn list_roles(c: &mut Conn<'_>, tenant_id: &str) -> Result<Vec<RoleRow>> {
    c.all(sql!(
        &format!("SELECT {ROLE_COLS} FROM roles WHERE tenant_id = $1 ORDER BY key"),
        tenant_id
    ))
    .await
}

pub async fn role(c: &mut Conn<'_>, tenant_id: &str, id: &str) -> Result<Option<RoleRow>> {
    c.opt(sql!(
        &format!("SELECT {ROLE_COLS} FROM roles WHERE tenant_id = $1 AND id = $2"),
        tenant_id,
        id
    ))
    .await
}

pub async fn role_by_key(c: &mut Conn<'_>, tenant_id: &str, key: &str) -> Result<Option<RoleRow>> {
    c.opt(sql!(
        &format!("SELECT {ROLE_COLS} FROM roles WHERE tenant_id = $1 AND key = $2"),
        tenant_id,
        key
    ))
    .await
}

pub async fn update_role(tx: &mut Tx, r: &RoleRow, now: i64) -> Result<i64> {
    let n = tx
        .exec(sql!(
            "UPDATE roles SET permissions = $1, data_scope = $2, field_access = $3, version = version + 1, updated_at = $4
             WHERE tenant_id = $5 AND id = $6 AND version = $7",
            &r.permissions, &r.data_scope, &r.field_access, now, &r.tenant_id, &r.id, r.version
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(r.version + 1)
}

row! {
    #[derive(Clone, Debug)]
    pub struct UserRow {
        pub tenant_id: String,
        pub id: String,
        pub login: String,
        pub display_name: String,
        pub password_hash: String,
        pub role_id: String,
        pub department_id: Option<String>,
        pub manager_id: Option<String>,
        pub locale: String,
        pub disabled: i64,
        pub version: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const USER_COLS: &str = "tenant_id, id, login, display_name, password_hash, role_id, department_id, manager_id, locale, disabled, version, created_at, updated_at";

pub async fn insert_user(tx: &mut Tx, u: &UserRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO users (tenant_id, id, login, display_name, password_hash, role_id, department_id, manager_id, locale, disabled, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 1, $10, $10)",
        &u.tenant_id, &u.id, &u.login, &u.display_name, &u.password_hash, &u.role_id, &u.department_id,
        &u.manager_id, &u.locale, u.created_at
    ))
    .await
    .map_err(|e| e.unique_as("login"))?;
    Ok(())
}

pub async fn user(c: &mut Conn<'_>, tenant_id: &str, id: &str) -> Result<Option<UserRow>> {
    c.opt(sql!(
        &format!("SELECT {USER_COLS} FROM users WHERE tenant_id = $1 AND id = $2"),
        tenant_id,
        id
    ))
    .await
}

pub async fn user_by_login(
    c: &mut Conn<'_>,
    tenant_id: &str,
    login: &str,
) -> Result<Option<UserRow>> {
    c.opt(sql!(
        &format!("SELECT {USER_COLS} FROM users WHERE tenant_id = $1 AND login = $2"),
        tenant_id,
        login
    ))
    .await
}

pub async fn list_users(c: &mut Conn<'_>, tenant_id: &str) -> Result<Vec<UserRow>> {
    c.all(sql!(
        &format!("SELECT {USER_COLS} FROM users WHERE tenant_id = $1 ORDER BY login"),
        tenant_id
    ))
    .await
}

/// Writes every mutable field of a user if its version still matches.
pub async fn update_user(tx: &mut Tx, u: &UserRow, now: i64) -> Result<i64> {
    let n = tx
        .exec(sql!(
            "UPDATE users SET display_name = $1, password_hash = $2, role_id = $3, department_id = $4, manager_id = $5,
                 locale = $6, disabled = $7, version = version + 1, updated_at = $8
             WHERE tenant_id = $9 AND id = $10 AND version = $11",
            &u.display_name, &u.password_hash, &u.role_id, &u.department_id, &u.manager_id, &u.locale, u.disabled,
            now, &u.tenant_id, &u.id, u.version
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(u.version + 1)
}

row! {
    #[derive(Clone, Debug)]
    pub struct SessionRow {
        pub token_hash: Vec<u8>,
        pub tenant_id: String,
        pub user_id: String,
        pub csrf_token: String,
        pub ip: String,
        pub created_at: i64,
        pub last_seen_at: i64,
    }
}

pub async fn insert_session(tx: &mut Tx, s: &SessionRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO sessions (token_hash, tenant_id, user_id, csrf_token, ip, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
        s.token_hash.clone(), &s.tenant_id, &s.user_id, &s.csrf_token, &s.ip, s.created_at
    ))
    .await?;
    Ok(())
}

pub async fn session(c: &mut Conn<'_>, token_hash: &[u8]) -> Result<Option<SessionRow>> {
    c.opt(sql!(
        "SELECT token_hash, tenant_id, user_id, csrf_token, ip, created_at, last_seen_at FROM sessions WHERE token_hash = $1",
        token_hash
    ))
    .await
}

pub async fn touch_session(tx: &mut Tx, token_hash: &[u8], now: i64) -> Result<()> {
    tx.exec(sql!(
        "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2",
        now,
        token_hash
    ))
    .await?;
    Ok(())
}

pub async fn delete_session(tx: &mut Tx, token_hash: &[u8]) -> Result<()> {
    tx.exec(sql!(
        "DELETE FROM sessions WHERE token_hash = $1",
        token_hash
    ))
    .await?;
    Ok(())
}

pub async fn delete_user_sessions(tx: &mut Tx, tenant_id: &str, user_id: &str) -> Result<()> {
    tx.exec(sql!(
        "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2",
        tenant_id,
        user_id
    ))
    .await?;
    Ok(())
}

/// Drops sessions idle since `idle_before` or created before `created_before`.
pub async fn purge_sessions(tx: &mut Tx, idle_before: i64, created_before: i64) -> Result<u64> {
    tx.exec(sql!(
        "DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2",
        idle_before,
        created_before
    ))
    .await
}

row! {
    #[derive(Clone, Debug)]
    pub struct ApiTokenRow {
        pub tenant_id: String,
        pub id: String,
        pub user_id: String,
        pub name: String,
        pub token_hash: Vec<u8>,
        pub created_at: i64,
        pub last_used_at: Option<i64>,
        pub revoked_at: Option<i64>,
    }
}

const TOKEN_COLS: &str =
    "tenant_id, id, user_id, name, token_hash, created_at, last_used_at, revoked_at";

pub async fn insert_token(tx: &mut Tx, t: &ApiTokenRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO api_tokens (tenant_id, id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &t.tenant_id, &t.id, &t.user_id, &t.name, t.token_hash.clone(), t.created_at
    ))
    .await?;
    Ok(())
}

pub async fn token_by_hash(c: &mut Conn<'_>, hash: &[u8]) -> Result<Option<ApiTokenRow>> {
    c.opt(sql!(
        &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1"),
        hash
    ))
    .await
}

pub async fn list_tokens(
    c: &mut Conn<'_>,
    tenant_id: &str,
    user_id: &str,
) -> Result<Vec<ApiTokenRow>> {
    c.all(sql!(
        &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at"),
        tenant_id,
        user_id
    ))
    .await
}

pub async fn revoke_token(
    tx: &mut Tx,
    tenant_id: &str,
    user_id: &str,
    id: &str,
    now: i64,
) -> Result<()> {
    let n = tx
        .exec(sql!(
            "UPDATE api_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND user_id = $3 AND id = $4 AND revoked_at IS NULL",
            now, tenant_id, user_id, id
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn touch_token(tx: &mut Tx, hash: &[u8], now: i64) -> Result<()> {
    tx.exec(sql!(
        "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2",
        now,
        hash
    ))
    .await?;
    Ok(())
}

row! {
    #[derive(Clone, Debug)]
    pub struct ThrottleRow {
        pub failures: i64,
        pub window_start: i64,
        pub locked_until: i64,
    }
}

pub async fn throttle(c: &mut Conn<'_>, tenant_id: &str, key: &str) -> Result<Option<ThrottleRow>> {
    c.opt(sql!(
        "SELECT failures, window_start, locked_until FROM login_throttle WHERE tenant_id = $1 AND key = $2",
        tenant_id,
        key
    ))
    .await
}

pub async fn put_throttle(tx: &mut Tx, tenant_id: &str, key: &str, t: &ThrottleRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO login_throttle (tenant_id, key, failures, window_start, locked_until) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, key) DO UPDATE SET failures = $3, window_start = $4, locked_until = $5",
        tenant_id, key, t.failures, t.window_start, t.locked_until
    ))
    .await?;
    Ok(())
}

pub async fn clear_throttle(tx: &mut Tx, tenant_id: &str, key: &str) -> Result<()> {
    tx.exec(sql!(
        "DELETE FROM login_throttle WHERE tenant_id = $1 AND key = $2",
        tenant_id,
        key
    ))
    .await?;
    Ok(())
}
