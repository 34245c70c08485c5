//! `kehu-app`: Kehu's use cases. Each public method is one user action: it
//! checks permissions, parses input into domain types, seals sensitive
//! values, writes through `kehu-store` in one transaction together with its
//! audit row, and returns a view that is already masked for the caller.
//!
//! Architecture invariant: no HTTP here (no status codes, headers, cookies),
//! and no SQL. Time comes from an injected [`Clock`].

pub mod auth;
mod auth_cache;
pub mod customers;
mod defs_cache;
pub mod insight;
mod insight_codec;
pub mod org;
pub mod saved_views;
pub mod seed;
pub mod views;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use kehu_crypto::{MasterKey, PasswordParams, TenantKeys};
use kehu_domain::access::{DataScope, FieldAccess, Permission, RoleRules};
use kehu_domain::{FieldError, FieldErrors};
use kehu_store::audit::AuditRow;
use kehu_store::customers::Viewer;
use kehu_store::{Store, StoreError, Tx};

pub use kehu_store;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// A field the caller may not write; reported per field.
    #[error("read-only fields: {0}")]
    FieldForbidden(FieldErrors),
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("version mismatch")]
    VersionMismatch,
    #[error("throttled for {0}s")]
    Throttled(u64),
    /// A rule about existing data (duplicate login, non-empty department).
    #[error("conflict: {0}")]
    Conflict(FieldError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::VersionConflict => AppError::VersionMismatch,
            StoreError::Unique(rule) => {
                let (field, code) = match rule {
                    "login" => ("login", "unique.login"),
                    "code" => ("code", "unique.code"),
                    "department_name" => ("name", "unique.department_name"),
                    "department_cycle" => ("parent_id", "department.cycle"),
                    "department_not_empty" => ("id", "department.not_empty"),
                    "custom_field_key" => ("key", "unique.custom_field_key"),
                    "role" => ("key", "unique.role"),
                    "tenant" => ("tenant", "unique.tenant"),
                    "view_name" => ("name", "unique.view_name"),
                    "rule_name" => ("name", "unique.rule_name"),
                    "run_running" => ("", insight::RUN_RUNNING),
                    _ => ("", "problem.conflict"),
                };
                AppError::Conflict(FieldError::new(field, code))
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Validation(e)
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Validation(e.into())
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Injected time, so tests can move it (session expiry, throttling).
pub trait Clock: Send + Sync {
    /// Unix milliseconds, UTC.
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
    }
}

/// A clock that stands still until told to move.
#[derive(Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn new(ms: i64) -> Self {
        ManualClock(std::sync::atomic::AtomicI64::new(ms))
    }
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

pub fn today(now_ms: i64) -> time::Date {
    // Business dates are Beijing dates: a 23:30 order belongs to that day.
    time::OffsetDateTime::from_unix_timestamp(now_ms / 1000)
        .map(|t| t.to_offset(time::macros::offset!(+8)).date())
        .unwrap_or(time::Date::MIN)
}

#[derive(Clone, Debug)]
pub struct AppConfig {
    pub password: PasswordParams,
    pub session_idle_ms: i64,
    pub session_absolute_ms: i64,
    /// Failures of one account before it is paused.
    pub account_max_failures: i64,
    pub account_lock_ms: i64,
    /// Failures from one address before it is paused (across accounts).
    pub ip_max_failures: i64,
    pub ip_lock_ms: i64,
    pub throttle_window_ms: i64,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            password: PasswordParams::PRODUCTION,
            session_idle_ms: 2 * 3600 * 1000,
            session_absolute_ms: 12 * 3600 * 1000,
            account_max_failures: 5,
            // Short: enough to stop guessing, not long enough to lock the
            // real user out of a working day.
            account_lock_ms: 60 * 1000,
            ip_max_failures: 50,
            ip_lock_ms: 5 * 60 * 1000,
            throttle_window_ms: 15 * 60 * 1000,
        }
    }
}

pub struct App {
    pub store: Store,
    master: MasterKey,
    keys: RwLock<HashMap<String, TenantKeys>>,
    auth_cache: auth_cache::AuthCache,
    defs: defs_cache::DefsCache,
    pub clock: Arc<dyn Clock>,
    pub config: AppConfig,
}

/// The signed-in user behind a request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub tenant_id: String,
    pub user_id: String,
    pub login: String,
    pub role_key: String,
    pub rules: RoleRules,
    pub department_id: Option<String>,
    pub ip: String,
    pub locale: String,
}

impl Actor {
    pub fn viewer(&self) -> Viewer {
        Viewer {
            tenant_id: self.tenant_id.clone(),
            user_id: self.user_id.clone(),
            scope: self.rules.data_scope,
            department_id: self.department_id.clone(),
        }
    }

    pub fn require(&self, p: Permission) -> Result<()> {
        if self.rules.has(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn field(&self, field: &str) -> FieldAccess {
        self.rules.field(field)
    }

    /// A system actor for CLI work (seeding, init): full rights in one tenant.
    pub fn system(tenant_id: &str) -> Actor {
        Actor {
            tenant_id: tenant_id.to_string(),
            user_id: "system".into(),
            login: "system".into(),
            role_key: "admin".into(),
            rules: RoleRules {
                key: "admin".into(),
                permissions: Permission::ALL.to_vec(),
                data_scope: DataScope::All,
                fields: Default::default(),
            },
            department_id: None,
            ip: "cli".into(),
            locale: "zh-CN".into(),
        }
    }
}

/// What an audit row says, before it is chained.
pub struct AuditEvent<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: Option<&'a str>,
    pub detail: serde_json::Value,
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl App {
    pub fn new(store: Store, master: MasterKey, clock: Arc<dyn Clock>, config: AppConfig) -> App {
        App {
            store,
            master,
            keys: RwLock::new(HashMap::new()),
            auth_cache: Default::default(),
            defs: Default::default(),
            clock,
            config,
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The tenant's unwrapped keys, cached after the first use.
    pub async fn tenant_keys(&self, tenant_id: &str) -> Result<TenantKeys> {
        if let Some(k) = self.keys.read().expect("key cache poisoned").get(tenant_id) {
            return Ok(k.clone());
        }
        let mut r = self.store.reader().await?;
        let t = kehu_store::org::tenant_by_id(&mut r.conn(), tenant_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let keys = self
            .master
            .unwrap_tenant_keys(tenant_id, &t.wrapped_keys)
            .map_err(|e| AppError::Internal(format!("tenant keys: {e} (wrong master key?)")))?;
        self.keys
            .write()
            .expect("key cache poisoned")
            .insert(tenant_id.to_string(), keys.clone());
        Ok(keys)
    }

    /// Appends an audit row inside `tx`, chained with the tenant's audit key.
    pub async fn audit(
        &self,
        tx: &mut Tx,
        keys: &TenantKeys,
        tenant_id: &str,
        actor: Option<&Actor>,
        ev: AuditEvent<'_>,
    ) -> Result<()> {
        let mut row = AuditRow {
            tenant_id: tenant_id.to_string(),
            seq: 0,
            at: self.now(),
            actor_id: actor.map(|a| a.user_id.clone()),
            actor_login: actor.map(|a| a.login.clone()),
            ip: actor.map(|a| a.ip.clone()),
            action: ev.action.to_string(),
            object_type: ev.object_type.to_string(),
            object_id: ev.object_id.map(str::to_string),
            detail: ev.detail.to_string(),
            mac: Vec::new(),
        };
        kehu_store::audit::append(tx, &mut row, |bytes| keys.audit_mac(bytes)).await?;
        Ok(())
    }

    /// Recomputes the audit chain of a tenant. Returns the number of rows
    /// checked, or the first sequence number where the chain breaks.
    pub async fn verify_audit(&self, tenant_id: &str) -> Result<AuditVerdict> {
        let keys = self.tenant_keys(tenant_id).await?;
        let mut r = self.store.reader().await?;
        let mut prev = vec![0u8; 32];
        let mut expect_seq = 1;
        loop {
            let page =
                kehu_store::audit::chain_page(&mut r.conn(), tenant_id, expect_seq - 1, 1000)
                    .await?;
            if page.is_empty() {
                break;
            }
            for row in page {
                if row.seq != expect_seq {
                    return Ok(AuditVerdict::Broken {
                        seq: expect_seq,
                        reason: "missing row",
                    });
                }
                let mac = keys.audit_mac(&row.chained_bytes(&prev));
                if !kehu_crypto::ct_eq(&mac, &row.mac) {
                    return Ok(AuditVerdict::Broken {
                        seq: row.seq,
                        reason: "row altered",
                    });
                }
                prev = row.mac;
                expect_seq += 1;
            }
        }
        let (head_seq, head_mac) = kehu_store::audit::head(&mut r.conn(), tenant_id).await?;
        if head_seq != expect_seq - 1 || !kehu_crypto::ct_eq(&head_mac, &prev) {
            return Ok(AuditVerdict::Broken {
                seq: expect_seq,
                reason: "rows removed from the end",
            });
        }
        Ok(AuditVerdict::Intact {
            rows: expect_seq - 1,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditVerdict {
    Intact { rows: i64 },
    Broken { seq: i64, reason: &'static str },
}
