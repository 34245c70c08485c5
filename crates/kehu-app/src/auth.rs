//! Signing in and out: password login with throttling, cookie sessions with
//! idle and absolute expiry, bearer tokens for integrations.

use kehu_crypto::{dummy_hash, hash_password, hash_token, random_token, verify_password};
use kehu_domain::FieldError;
use kehu_domain::access::{CUSTOMER_FIELDS, DataScope, FieldAccess, Permission, RoleRules};
use kehu_domain::customer::validate_password;
use kehu_store::org::{self, ApiTokenRow, RoleRow, SessionRow, ThrottleRow, UserRow};
use serde_json::{Value, json};

use crate::auth_cache::Entry;
use crate::views::{MeView, NewToken, PasswordChange, TokenView, UserView, rfc3339};
use crate::{Actor, App, AppError, AuditEvent, Result, new_id};

pub struct LoginOk {
    /// The session cookie's value; only its hash is stored.
    pub session_token: String,
    pub csrf_token: String,
    pub user: UserView,
}

pub fn role_rules(r: &RoleRow) -> RoleRules {
    let fields = match serde_json::from_str::<Value>(&r.field_access) {
        Ok(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), FieldAccess::parse(v.as_str()?)?)))
            .collect(),
        _ => Default::default(),
    };
    RoleRules {
        key: r.key.clone(),
        permissions: r
            .permissions
            .split_whitespace()
            .filter_map(Permission::parse)
            .collect(),
        // An unreadable scope falls back to the narrowest one, never to more.
        data_scope: DataScope::parse(&r.data_scope).unwrap_or(DataScope::Own),
        fields,
    }
}

pub fn user_view(u: &UserRow, role_key: &str) -> UserView {
    UserView {
        id: u.id.clone(),
        login: u.login.clone(),
        display_name: u.display_name.clone(),
        role: role_key.to_string(),
        department_id: u.department_id.clone(),
        manager_id: u.manager_id.clone(),
        locale: u.locale.clone(),
        disabled: u.disabled != 0,
        version: u.version,
        created_at: rfc3339(u.created_at),
    }
}

/// Tenant id used for throttle rows that are not bound to a tenant (IPs).
const ANY_TENANT: &str = "*";

impl App {
    /// Builds the actor for a user, or refuses a disabled or vanished one.
    pub async fn actor_for(&self, tenant_id: &str, user_id: &str, ip: &str) -> Result<Actor> {
        let mut r = self.store.reader().await?;
        let u = org::user(&mut r.conn(), tenant_id, user_id)
            .await?
            .ok_or(AppError::Unauthorized("auth.session_expired"))?;
        if u.disabled != 0 {
            return Err(AppError::Unauthorized("auth.disabled"));
        }
        let role = org::role(&mut r.conn(), tenant_id, &u.role_id)
            .await?
            .ok_or(AppError::Unauthorized("auth.session_expired"))?;
        Ok(Actor {
            tenant_id: tenant_id.to_string(),
            user_id: u.id,
            login: u.login,
            role_key: role.key.clone(),
            rules: role_rules(&role),
            department_id: u.department_id,
            ip: ip.to_string(),
            locale: u.locale,
        })
    }

    async fn throttled(&self, tenant_id: &str, key: &str) -> Result<()> {
        let mut r = self.store.reader().await?;
        if let Some(t) = org::throttle(&mut r.conn(), tenant_id, key).await? {
            let now = self.now();
            if t.locked_until > now {
                return Err(AppError::Throttled(
                    ((t.locked_until - now + 999) / 1000) as u64,
                ));
            }
        }
        Ok(())
    }

    async fn record_failure(
        &self,
        tx: &mut kehu_store::Tx,
        tenant_id: &str,
        key: &str,
        max: i64,
        lock_ms: i64,
    ) -> Result<()> {
        let now = self.now();
        let old = org::throttle(&mut tx.conn(), tenant_id, key).await?;
        let mut t = match old {
            Some(t) if now - t.window_start <= self.config.throttle_window_ms => t,
            _ => ThrottleRow {
                failures: 0,
                window_start: now,
                locked_until: 0,
            },
        };
        t.failures += 1;
        if t.failures >= max {
            // Each further failure doubles the pause, up to 16 times the base.
            let doublings = (t.failures - max).min(4) as u32;
            t.locked_until = now + lock_ms * (1i64 << doublings);
        }
        org::put_throttle(tx, tenant_id, key, &t).await?;
        Ok(())
    }

    pub async fn login(
        &self,
        tenant_slug: &str,
        login: &str,
        password: &str,
        ip: &str,
    ) -> Result<LoginOk> {
        let login = login.trim().to_lowercase();
        let ip_key = format!("ip:{ip}");
        self.throttled(ANY_TENANT, &ip_key).await?;
        let mut r = self.store.reader().await?;
        let tenant = org::tenant_by_slug(&mut r.conn(), tenant_slug.trim()).await?;
        let user = match &tenant {
            Some(t) => org::user_by_login(&mut r.conn(), &t.tenant_id, &login).await?,
            None => None,
        };
        drop(r);
        let acct_key = format!("login:{login}");
        if let Some(t) = &tenant {
            self.throttled(&t.tenant_id, &acct_key).await?;
        }
        // Verify even for an unknown user so timing does not tell who exists.
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| dummy_hash(self.config.password));
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let (tenant, user) = match (tenant, user, ok) {
            (Some(t), Some(u), true) if u.disabled == 0 => (t, u),
            (tenant, user, ok) => {
                // Before the transaction: a cold key cache reads the
                // database, and a request transaction awaits nothing but its
                // statements (later requests' writes wait for it).
                let keys = match &tenant {
                    Some(t) => Some(self.tenant_keys(&t.tenant_id).await?),
                    None => None,
                };
                let mut tx = self.store.begin().await?;
                self.record_failure(
                    &mut tx,
                    ANY_TENANT,
                    &ip_key,
                    self.config.ip_max_failures,
                    self.config.ip_lock_ms,
                )
                .await?;
                if let (Some(t), Some(keys)) = (&tenant, &keys) {
                    self.record_failure(
                        &mut tx,
                        &t.tenant_id,
                        &acct_key,
                        self.config.account_max_failures,
                        self.config.account_lock_ms,
                    )
                    .await?;
                    let reason = match (&user, ok) {
                        (None, _) => "unknown_login",
                        (Some(_), false) => "bad_password",
                        (Some(_), true) => "disabled",
                    };
                    let who = user
                        .as_ref()
                        .map(|u| Actor::system(&t.tenant_id).with_user(u, ip));
                    self.audit(
                        &mut tx,
                        keys,
                        &t.tenant_id,
                        who.as_ref(),
                        AuditEvent {
                            action: "auth.login_failed",
                            object_type: "user",
                            object_id: user.as_ref().map(|u| u.id.as_str()),
                            detail: json!({"login": login, "reason": reason, "ip": ip}),
                        },
                    )
                    .await?;
                }
                tx.commit().await?;
                let disabled = user.is_some_and(|u| u.disabled != 0) && ok;
                return Err(AppError::Unauthorized(if disabled {
                    "auth.disabled"
                } else {
                    "auth.invalid_credentials"
                }));
            }
        };
        let token = random_token();
        let csrf = random_token();
        let now = self.now();
        let keys = self.tenant_keys(&tenant.tenant_id).await?;
        let mut r = self.store.reader().await?;
        let role = org::role(&mut r.conn(), &tenant.tenant_id, &user.role_id)
            .await?
            .ok_or(AppError::NotFound)?;
        drop(r);
        let mut tx = self.store.begin().await?;
        org::clear_throttle(&mut tx, &tenant.tenant_id, &acct_key).await?;
        org::insert_session(
            &mut tx,
            &SessionRow {
                token_hash: hash_token(&token),
                tenant_id: tenant.tenant_id.clone(),
                user_id: user.id.clone(),
                csrf_token: csrf.clone(),
                ip: ip.to_string(),
                created_at: now,
                last_seen_at: now,
            },
        )
        .await?;
        let actor = Actor::system(&tenant.tenant_id).with_user(&user, ip);
        self.audit(
            &mut tx,
            &keys,
            &tenant.tenant_id,
            Some(&actor),
            AuditEvent {
                action: "auth.login",
                object_type: "user",
                object_id: Some(&user.id),
                detail: json!({"ip": ip}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(LoginOk {
            session_token: token,
            csrf_token: csrf,
            user: user_view(&user, &role.key),
        })
    }

    /// Resolves a session cookie; refuses expired sessions and removes them.
    /// Resolves a session cookie; refuses expired sessions and removes them.
    pub async fn session_actor(&self, token: &str, ip: &str) -> Result<(Actor, String)> {
        let hash = hash_token(token);
        let now = self.now();
        let entry = match self.auth_cache.get(&hash, now) {
            Some(e) => e,
            None => {
                let mut r = self.store.reader().await?;
                let s = org::session(&mut r.conn(), &hash)
                    .await?
                    .ok_or(AppError::Unauthorized("auth.session_expired"))?;
                drop(r);
                let actor = self.actor_for(&s.tenant_id, &s.user_id, ip).await?;
                let e = Entry {
                    actor,
                    csrf: Some(s.csrf_token),
                    created_at: s.created_at,
                    last_seen_at: s.last_seen_at,
                    cached_at: now,
                };
                self.auth_cache.put(hash.clone(), e.clone());
                e
            }
        };
        if now - entry.last_seen_at > self.config.session_idle_ms
            || now - entry.created_at > self.config.session_absolute_ms
        {
            self.auth_cache.remove(&hash);
            let mut tx = self.store.begin().await?;
            org::delete_session(&mut tx, &hash).await?;
            tx.commit().await?;
            return Err(AppError::Unauthorized("auth.session_expired"));
        }
        // Refreshing at most once a minute keeps reads from turning into
        // writes; while another write holds the lock it waits for a later
        // request (idle expiry is far longer than any write).
        if now - entry.last_seen_at > 60_000
            && let Some(mut tx) = self.touch_tx(now - entry.last_seen_at).await?
        {
            org::touch_session(&mut tx, &hash, now).await?;
            tx.commit().await?;
            self.auth_cache.touch(&hash, now);
        }
        let mut actor = entry.actor;
        actor.ip = ip.to_string();
        Ok((actor, entry.csrf.unwrap_or_default()))
    }

    /// The transaction for a last-seen refresh: skipped while the write
    /// lock is taken (a read must not wait behind a classification run's
    /// writes), unless the refresh is half an idle period late, when it
    /// waits rather than let a session in use expire.
    async fn touch_tx(&self, since_seen: i64) -> Result<Option<kehu_store::Tx>> {
        if since_seen > self.config.session_idle_ms / 2 {
            Ok(Some(self.store.begin().await?))
        } else {
            Ok(self.store.try_begin().await?)
        }
    }

    pub async fn bearer_actor(&self, token: &str, ip: &str) -> Result<Actor> {
        let hash = hash_token(token);
        let now = self.now();
        let entry = match self.auth_cache.get(&hash, now) {
            Some(e) => e,
            None => {
                let mut r = self.store.reader().await?;
                let t = org::token_by_hash(&mut r.conn(), &hash)
                    .await?
                    .ok_or(AppError::Unauthorized("auth.invalid_token"))?;
                drop(r);
                if t.revoked_at.is_some() {
                    return Err(AppError::Unauthorized("auth.invalid_token"));
                }
                let actor = self.actor_for(&t.tenant_id, &t.user_id, ip).await?;
                let e = Entry {
                    actor,
                    csrf: None,
                    created_at: t.created_at,
                    last_seen_at: t.last_used_at.unwrap_or(0),
                    cached_at: now,
                };
                self.auth_cache.put(hash.clone(), e.clone());
                e
            }
        };
        if now - entry.last_seen_at > 60_000
            && let Some(mut tx) = self.touch_tx(now - entry.last_seen_at).await?
        {
            org::touch_token(&mut tx, &hash, now).await?;
            tx.commit().await?;
            self.auth_cache.touch(&hash, now);
        }
        let mut actor = entry.actor;
        actor.ip = ip.to_string();
        Ok(actor)
    }

    pub async fn logout(&self, actor: &Actor, token: &str) -> Result<()> {
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        self.auth_cache.remove(&hash_token(token));
        org::delete_session(&mut tx, &hash_token(token)).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "auth.logout",
                object_type: "user",
                object_id: Some(&actor.user_id),
                detail: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn me(&self, actor: &Actor) -> Result<MeView> {
        let mut r = self.store.reader().await?;
        let u = org::user(&mut r.conn(), &actor.tenant_id, &actor.user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let t = org::tenant_by_id(&mut r.conn(), &actor.tenant_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let fields: serde_json::Map<String, Value> = CUSTOMER_FIELDS
            .iter()
            .map(|f| (f.to_string(), json!(actor.field(f).as_str())))
            .collect();
        Ok(MeView {
            user: user_view(&u, &actor.role_key),
            tenant: t.slug,
            permissions: actor
                .rules
                .permissions
                .iter()
                .map(|p| p.as_str().to_string())
                .collect(),
            data_scope: actor.rules.data_scope.as_str().to_string(),
            fields: Value::Object(fields),
            csrf_token: None,
        })
    }

    pub async fn change_password(&self, actor: &Actor, body: &PasswordChange) -> Result<()> {
        let mut r = self.store.reader().await?;
        let mut u = org::user(&mut r.conn(), &actor.tenant_id, &actor.user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        drop(r);
        let (cur, hash) = (body.current_password.clone(), u.password_hash.clone());
        let ok = tokio::task::spawn_blocking(move || verify_password(&cur, &hash))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if !ok {
            return Err(FieldError::new("current_password", "auth.invalid_credentials").into());
        }
        validate_password("new_password", &body.new_password, &u.login)?;
        let (pw, params) = (body.new_password.clone(), self.config.password);
        u.password_hash = tokio::task::spawn_blocking(move || hash_password(&pw, params))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        org::update_user(&mut tx, &u, self.now()).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "user.password_change",
                object_type: "user",
                object_id: Some(&u.id),
                detail: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_token(&self, actor: &Actor, name: &str) -> Result<NewToken> {
        actor.require(Permission::TokenCreate)?;
        let name = kehu_domain::normalize::required_text("name", name, 100)?;
        let token = random_token();
        let id = new_id();
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        org::insert_token(
            &mut tx,
            &ApiTokenRow {
                tenant_id: actor.tenant_id.clone(),
                id: id.clone(),
                user_id: actor.user_id.clone(),
                name: name.clone(),
                token_hash: hash_token(&token),
                created_at: self.now(),
                last_used_at: None,
                revoked_at: None,
            },
        )
        .await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "token.create",
                object_type: "api_token",
                object_id: Some(&id),
                detail: json!({"name": name}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(NewToken { id, token })
    }

    pub async fn list_tokens(&self, actor: &Actor) -> Result<Vec<TokenView>> {
        let mut r = self.store.reader().await?;
        Ok(
            org::list_tokens(&mut r.conn(), &actor.tenant_id, &actor.user_id)
                .await?
                .into_iter()
                .map(|t| TokenView {
                    id: t.id,
                    name: t.name,
                    created_at: rfc3339(t.created_at),
                    last_used_at: t.last_used_at.map(rfc3339),
                    revoked: t.revoked_at.is_some(),
                })
                .collect(),
        )
    }

    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> Result<()> {
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        org::revoke_token(&mut tx, &actor.tenant_id, &actor.user_id, id, self.now()).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "token.revoke",
                object_type: "api_token",
                object_id: Some(id),
                detail: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        self.auth_cache
            .forget_user(&actor.tenant_id, &actor.user_id);
        Ok(())
    }
}

impl Actor {
    /// The same actor, speaking as `u` (for audit rows written at login).
    pub fn with_user(mut self, u: &UserRow, ip: &str) -> Actor {
        self.user_id = u.id.clone();
        self.login = u.login.clone();
        self.ip = ip.to_string();
        self
    }
}
