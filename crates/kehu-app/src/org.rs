//! Organisation and settings: tenants, users, departments, roles, custom
//! field definitions, the customer code pattern, and reading the audit log.

use kehu_crypto::hash_password;
use kehu_domain::access::{
    BUILTIN_ROLES, CUSTOMER_FIELDS, DataScope, FieldAccess, Permission, builtin_role,
};
use kehu_domain::code::{CodePattern, CodeReset, DEFAULT_PATTERN, DEFAULT_RESET};
use kehu_domain::custom_field::{CustomFieldDef, FieldType, check_def, valid_key};
use kehu_domain::customer::{validate_login, validate_password};
use kehu_domain::normalize::required_text;
use kehu_domain::{FieldError, FieldErrors};
use kehu_store::audit::{self, AuditFilter};
use kehu_store::customers::{self as cs, CustomFieldRow};
use kehu_store::org::{self, DepartmentRow, RoleRow, TenantRow, UserRow};
use serde_json::{Value, json};

use crate::auth::{role_rules, user_view};
use crate::views::*;
use crate::{Actor, App, AppError, AuditEvent, Result, new_id, today};

fn role_row_fields(fields: &std::collections::BTreeMap<String, FieldAccess>) -> String {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| (k.clone(), json!(v.as_str())))
            .collect(),
    )
    .to_string()
}

fn role_unknown(roles: &[RoleRow]) -> FieldError {
    let keys: Vec<&str> = roles.iter().map(|r| r.key.as_str()).collect();
    FieldError::new("role", "role.unknown").with("allowed", keys.join(", "))
}

fn role_view(r: &RoleRow) -> RoleView {
    let rules = role_rules(r);
    RoleView {
        id: r.id.clone(),
        key: r.key.clone(),
        permissions: rules
            .permissions
            .iter()
            .map(|p| p.as_str().to_string())
            .collect(),
        data_scope: rules.data_scope.as_str().to_string(),
        fields: serde_json::from_str(&r.field_access).unwrap_or(json!({})),
        version: r.version,
    }
}

fn dept_view(d: &DepartmentRow) -> DepartmentView {
    DepartmentView {
        id: d.id.clone(),
        parent_id: d.parent_id.clone(),
        name: d.name.clone(),
        depth: d.path.matches('/').count() as i64 - 2,
        version: d.version,
    }
}

fn field_view(f: &CustomFieldRow) -> CustomFieldView {
    CustomFieldView {
        id: f.id.clone(),
        key: f.key.clone(),
        label_zh: f.label_zh.clone(),
        label_en: f.label_en.clone(),
        field_type: f.field_type.clone(),
        options: serde_json::from_str(&f.options).unwrap_or_default(),
        required: f.required != 0,
        position: f.position,
        version: f.version,
    }
}

/// The input rules of a new tenant and its first administrator; returns the
/// normalised login. Callers check before creating anything on disk.
pub fn check_new_tenant(slug: &str, admin_login: &str, admin_password: &str) -> Result<String> {
    let mut errors = FieldErrors::default();
    if !valid_slug(slug) {
        errors.push(FieldError::new("tenant", "tenant.slug"));
    }
    let login = errors.take(validate_login("login", admin_login));
    if let Some(l) = &login {
        errors.take(validate_password("password", admin_password, l));
    }
    errors.into_result()?;
    Ok(login.expect("checked"))
}

pub fn valid_slug(s: &str) -> bool {
    (2..=40).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl App {
    /// Creates a tenant with its keys, the built-in roles and its first
    /// administrator. Used by `kehu init` and `kehu demo`.
    pub async fn create_tenant(
        &self,
        slug: &str,
        name: &str,
        admin_login: &str,
        admin_password: &str,
    ) -> Result<(String, String)> {
        let login = check_new_tenant(slug, admin_login, admin_password)?;
        let now = self.now();
        let tenant_id = new_id();
        let (keys, wrapped) = self.master.new_tenant_keys(&tenant_id);
        let (pw, params) = (admin_password.to_string(), self.config.password);
        let hash = tokio::task::spawn_blocking(move || hash_password(&pw, params))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        org::insert_tenant(
            &mut tx,
            &TenantRow {
                tenant_id: tenant_id.clone(),
                slug: slug.to_string(),
                name: name.to_string(),
                wrapped_keys: wrapped,
                code_pattern: DEFAULT_PATTERN.into(),
                code_reset: DEFAULT_RESET.as_str().into(),
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )
        .await?;
        let mut admin_role = String::new();
        for key in BUILTIN_ROLES {
            let rules = builtin_role(key).expect("built-in");
            let id = new_id();
            if *key == "admin" {
                admin_role = id.clone();
            }
            org::insert_role(
                &mut tx,
                &RoleRow {
                    tenant_id: tenant_id.clone(),
                    id,
                    key: key.to_string(),
                    permissions: rules
                        .permissions
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    data_scope: rules.data_scope.as_str().into(),
                    field_access: role_row_fields(&rules.fields),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            )
            .await?;
        }
        let user_id = new_id();
        let user = UserRow {
            tenant_id: tenant_id.clone(),
            id: user_id.clone(),
            login: login.clone(),
            display_name: login.clone(),
            password_hash: hash,
            role_id: admin_role,
            department_id: None,
            manager_id: None,
            locale: "zh-CN".into(),
            disabled: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        org::insert_user(&mut tx, &user).await?;
        let system = Actor::system(&tenant_id);
        self.audit(
            &mut tx,
            &keys,
            &tenant_id,
            Some(&system),
            AuditEvent {
                action: "tenant.create",
                object_type: "tenant",
                object_id: Some(&tenant_id),
                detail: json!({"slug": slug, "admin": login}),
            },
        )
        .await?;
        tx.commit().await?;
        self.keys
            .write()
            .expect("key cache poisoned")
            .insert(tenant_id.clone(), keys);
        Ok((tenant_id, user_id))
    }

    pub async fn tenant_id_by_slug(&self, slug: &str) -> Result<String> {
        let mut r = self.store.reader().await?;
        Ok(org::tenant_by_slug(&mut r.conn(), slug)
            .await?
            .ok_or(AppError::NotFound)?
            .tenant_id)
    }

    // ---- users ----

    async fn role_keys(&self, tenant_id: &str) -> Result<Vec<RoleRow>> {
        let mut r = self.store.reader().await?;
        Ok(org::list_roles(&mut r.conn(), tenant_id).await?)
    }

    /// Everyone signed in may list users (names for owner pickers); only
    /// user administrators change them.
    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<UserView>> {
        let roles = self.role_keys(&actor.tenant_id).await?;
        let mut r = self.store.reader().await?;
        let users = org::list_users(&mut r.conn(), &actor.tenant_id).await?;
        Ok(users
            .iter()
            .map(|u| {
                user_view(
                    u,
                    roles
                        .iter()
                        .find(|r| r.id == u.role_id)
                        .map(|r| r.key.as_str())
                        .unwrap_or(""),
                )
            })
            .collect())
    }

    pub async fn get_user(&self, actor: &Actor, id: &str) -> Result<UserView> {
        self.list_users(actor)
            .await?
            .into_iter()
            .find(|u| u.id == id)
            .ok_or(AppError::NotFound)
    }

    async fn check_refs(
        &self,
        tenant_id: &str,
        department_id: &Option<String>,
        manager_id: &Option<String>,
        errors: &mut FieldErrors,
    ) -> Result<()> {
        let mut r = self.store.reader().await?;
        if let Some(d) = department_id
            && org::department(&mut r.conn(), tenant_id, d)
                .await?
                .is_none()
        {
            errors.push(FieldError::new("department_id", "department.unknown"));
        }
        if let Some(m) = manager_id
            && org::user(&mut r.conn(), tenant_id, m).await?.is_none()
        {
            errors.push(FieldError::new("manager_id", "user.unknown"));
        }
        Ok(())
    }

    pub async fn create_user(&self, actor: &Actor, body: &UserCreate) -> Result<UserView> {
        actor.require(Permission::UserAdmin)?;
        let mut errors = FieldErrors::default();
        let login = errors.take(validate_login("login", &body.login));
        if let Some(l) = &login {
            errors.take(validate_password("password", &body.password, l));
        }
        let roles = self.role_keys(&actor.tenant_id).await?;
        let role = roles.iter().find(|r| r.key == body.role);
        if role.is_none() {
            errors.push(role_unknown(&roles));
        }
        let locale = body.locale.clone().unwrap_or_else(|| "zh-CN".into());
        if locale != "zh-CN" && locale != "en" {
            errors.push(FieldError::new("locale", "value.invalid").with("allowed", "zh-CN, en"));
        }
        let display = match &body.display_name {
            Some(d) => errors.take(required_text("display_name", d, 50)),
            None => login.clone(),
        };
        self.check_refs(
            &actor.tenant_id,
            &body.department_id,
            &body.manager_id,
            &mut errors,
        )
        .await?;
        errors.into_result()?;
        let role = role.expect("checked");
        let (pw, params) = (body.password.clone(), self.config.password);
        let hash = tokio::task::spawn_blocking(move || hash_password(&pw, params))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.now();
        let u = UserRow {
            tenant_id: actor.tenant_id.clone(),
            id: new_id(),
            login: login.expect("checked"),
            display_name: display.unwrap_or_default(),
            password_hash: hash,
            role_id: role.id.clone(),
            department_id: body.department_id.clone(),
            manager_id: body.manager_id.clone(),
            locale,
            disabled: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        org::insert_user(&mut tx, &u).await?;
        self.audit(&mut tx, &keys, &actor.tenant_id, Some(actor), AuditEvent { action: "user.create", object_type: "user", object_id: Some(&u.id), detail: json!({"login": u.login, "role": role.key, "department_id": u.department_id}) }).await?;
        tx.commit().await?;
        Ok(user_view(&u, &role.key))
    }

    pub async fn update_user(
        &self,
        actor: &Actor,
        id: &str,
        if_match: i64,
        p: &UserPatch,
    ) -> Result<UserView> {
        actor.require(Permission::UserAdmin)?;
        let mut r = self.store.reader().await?;
        let mut u = org::user(&mut r.conn(), &actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        drop(r);
        if u.version != if_match {
            return Err(AppError::VersionMismatch);
        }
        let roles = self.role_keys(&actor.tenant_id).await?;
        let mut errors = FieldErrors::default();
        let mut changes = Vec::new();
        if let Some(d) = &p.display_name
            && let Some(d) = errors.take(required_text("display_name", d, 50))
        {
            changes.push(json!({"field": "display_name", "from": u.display_name, "to": d}));
            u.display_name = d;
        }
        if let Some(key) = &p.role {
            match roles.iter().find(|r| &r.key == key) {
                Some(r) => {
                    changes.push(json!({"field": "role", "to": key}));
                    u.role_id = r.id.clone();
                }
                None => errors.push(role_unknown(&roles)),
            }
        }
        if let Some(d) = &p.department_id {
            changes.push(json!({"field": "department_id", "from": u.department_id, "to": d}));
            u.department_id = d.clone();
        }
        if let Some(m) = &p.manager_id {
            if m.as_deref() == Some(id) {
                errors.push(FieldError::new("manager_id", "value.invalid"));
            }
            changes.push(json!({"field": "manager_id", "from": u.manager_id, "to": m}));
            u.manager_id = m.clone();
        }
        if let Some(l) = &p.locale {
            if l != "zh-CN" && l != "en" {
                errors
                    .push(FieldError::new("locale", "value.invalid").with("allowed", "zh-CN, en"));
            }
            u.locale = l.clone();
        }
        let disabling = p.disabled == Some(true) && u.disabled == 0;
        if let Some(dis) = p.disabled {
            if dis && id == actor.user_id {
                errors.push(FieldError::new("disabled", "user.disable_self"));
            }
            changes.push(json!({"field": "disabled", "to": dis}));
            u.disabled = dis as i64;
        }
        if let Some(pw) = &p.password
            && errors
                .take(validate_password("password", pw, &u.login))
                .is_some()
        {
            let (pw, params) = (pw.clone(), self.config.password);
            u.password_hash = tokio::task::spawn_blocking(move || hash_password(&pw, params))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?
                .map_err(|e| AppError::Internal(e.to_string()))?;
            changes.push(json!({"field": "password", "redacted": true}));
        }
        self.check_refs(
            &actor.tenant_id,
            &p.department_id.clone().flatten(),
            &p.manager_id.clone().flatten(),
            &mut errors,
        )
        .await?;
        errors.into_result()?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        u.version = org::update_user(&mut tx, &u, self.now()).await?;
        if disabling || p.password.is_some() {
            // A disabled user or a reset password ends every open session.
            org::delete_user_sessions(&mut tx, &actor.tenant_id, id).await?;
        }
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "user.update",
                object_type: "user",
                object_id: Some(id),
                detail: json!({"changes": changes}),
            },
        )
        .await?;
        tx.commit().await?;
        // Role, scope, department or the account itself changed: resolve again.
        self.auth_cache.forget_user(&actor.tenant_id, id);
        let key = roles
            .iter()
            .find(|r| r.id == u.role_id)
            .map(|r| r.key.clone())
            .unwrap_or_default();
        Ok(user_view(&u, &key))
    }

    /// The signed-in user's own language.
    pub async fn set_locale(&self, actor: &Actor, locale: &str) -> Result<UserView> {
        if locale != "zh-CN" && locale != "en" {
            return Err(FieldError::new("locale", "value.invalid")
                .with("allowed", "zh-CN, en")
                .into());
        }
        let mut r = self.store.reader().await?;
        let mut u = org::user(&mut r.conn(), &actor.tenant_id, &actor.user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        drop(r);
        u.locale = locale.to_string();
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        u.version = org::update_user(&mut tx, &u, self.now()).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "user.locale",
                object_type: "user",
                object_id: Some(&u.id),
                detail: json!({"locale": locale}),
            },
        )
        .await?;
        tx.commit().await?;
        self.auth_cache
            .forget_user(&actor.tenant_id, &actor.user_id);
        Ok(user_view(&u, &actor.role_key))
    }

    // ---- departments ----

    pub async fn list_departments(&self, actor: &Actor) -> Result<Vec<DepartmentView>> {
        let mut r = self.store.reader().await?;
        Ok(org::list_departments(&mut r.conn(), &actor.tenant_id)
            .await?
            .iter()
            .map(dept_view)
            .collect())
    }

    pub async fn create_department(
        &self,
        actor: &Actor,
        body: &DepartmentBody,
    ) -> Result<DepartmentView> {
        actor.require(Permission::DepartmentAdmin)?;
        let name = required_text("name", &body.name, 50)?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        let d = org::insert_department(
            &mut tx,
            &actor.tenant_id,
            &new_id(),
            body.parent_id.as_deref(),
            &name,
            self.now(),
        )
        .await
        .map_err(|e| match e {
            kehu_store::StoreError::NotFound => {
                AppError::Validation(FieldError::new("parent_id", "department.unknown").into())
            }
            e => e.into(),
        })?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "department.create",
                object_type: "department",
                object_id: Some(&d.id),
                detail: json!({"name": d.name, "parent_id": d.parent_id}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(dept_view(&d))
    }

    pub async fn update_department(
        &self,
        actor: &Actor,
        id: &str,
        if_match: i64,
        body: &DepartmentBody,
    ) -> Result<DepartmentView> {
        actor.require(Permission::DepartmentAdmin)?;
        let name = required_text("name", &body.name, 50)?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        if let Some(p) = &body.parent_id
            && org::department(&mut tx.conn(), &actor.tenant_id, p)
                .await?
                .is_none()
        {
            return Err(FieldError::new("parent_id", "department.unknown").into());
        }
        let d = org::update_department(
            &mut tx,
            &actor.tenant_id,
            id,
            &name,
            body.parent_id.as_deref(),
            if_match,
            self.now(),
        )
        .await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "department.update",
                object_type: "department",
                object_id: Some(id),
                detail: json!({"name": d.name, "parent_id": d.parent_id}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(dept_view(&d))
    }

    pub async fn delete_department(&self, actor: &Actor, id: &str, if_match: i64) -> Result<()> {
        actor.require(Permission::DepartmentAdmin)?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        org::delete_department(&mut tx, &actor.tenant_id, id, if_match).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "department.delete",
                object_type: "department",
                object_id: Some(id),
                detail: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- roles ----

    pub async fn list_roles(&self, actor: &Actor) -> Result<Vec<RoleView>> {
        Ok(self
            .role_keys(&actor.tenant_id)
            .await?
            .iter()
            .map(role_view)
            .collect())
    }

    fn parse_role_body(
        body: &RoleBody,
    ) -> Result<(
        Vec<Permission>,
        DataScope,
        std::collections::BTreeMap<String, FieldAccess>,
    )> {
        let mut errors = FieldErrors::default();
        let mut perms = Vec::new();
        for p in &body.permissions {
            match Permission::parse(p) {
                Some(p) => perms.push(p),
                None => errors.push(
                    FieldError::new("permissions", "value.invalid").with(
                        "allowed",
                        Permission::ALL
                            .iter()
                            .map(|p| p.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                ),
            }
        }
        let scope = DataScope::parse(&body.data_scope);
        if scope.is_none() {
            errors.push(FieldError::new("data_scope", "scope.invalid"));
        }
        let mut fields = std::collections::BTreeMap::new();
        for (k, v) in &body.fields {
            match (
                CUSTOMER_FIELDS.contains(&k.as_str()),
                v.as_str().and_then(FieldAccess::parse),
            ) {
                (true, Some(a)) => {
                    fields.insert(k.clone(), a);
                }
                (false, _) => errors.push(FieldError::new(format!("fields.{k}"), "field.unknown")),
                (true, None) => errors.push(
                    FieldError::new(format!("fields.{k}"), "value.invalid")
                        .with("allowed", "hidden, read, edit"),
                ),
            }
        }
        errors.into_result()?;
        Ok((perms, scope.expect("checked"), fields))
    }

    pub async fn create_role(&self, actor: &Actor, body: &RoleBody) -> Result<RoleView> {
        actor.require(Permission::RoleAdmin)?;
        let key = body.key.clone().unwrap_or_default();
        if !valid_key(&key) {
            return Err(FieldError::new("key", "custom_field.key").into());
        }
        let (perms, scope, fields) = Self::parse_role_body(body)?;
        let now = self.now();
        let row = RoleRow {
            tenant_id: actor.tenant_id.clone(),
            id: new_id(),
            key,
            permissions: perms
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            data_scope: scope.as_str().into(),
            field_access: role_row_fields(&fields),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        org::insert_role(&mut tx, &row).await?;
        self.audit(&mut tx, &keys, &actor.tenant_id, Some(actor), AuditEvent { action: "role.create", object_type: "role", object_id: Some(&row.id), detail: json!({"key": row.key, "permissions": row.permissions, "data_scope": row.data_scope, "fields": row.field_access}) }).await?;
        tx.commit().await?;
        Ok(role_view(&row))
    }

    pub async fn update_role(
        &self,
        actor: &Actor,
        id: &str,
        if_match: i64,
        body: &RoleBody,
    ) -> Result<RoleView> {
        actor.require(Permission::RoleAdmin)?;
        let (perms, scope, fields) = Self::parse_role_body(body)?;
        let mut r = self.store.reader().await?;
        let mut row = org::role(&mut r.conn(), &actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        drop(r);
        if row.version != if_match {
            return Err(AppError::VersionMismatch);
        }
        // The administrator role keeps its rights, so a tenant cannot lock itself out.
        if row.key == "admin"
            && (scope != DataScope::All
                || !perms.contains(&Permission::RoleAdmin)
                || !perms.contains(&Permission::UserAdmin))
        {
            return Err(FieldError::new("permissions", "role.admin_locked").into());
        }
        row.permissions = perms
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        row.data_scope = scope.as_str().into();
        row.field_access = role_row_fields(&fields);
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        row.version = org::update_role(&mut tx, &row, self.now()).await?;
        self.audit(&mut tx, &keys, &actor.tenant_id, Some(actor), AuditEvent { action: "role.update", object_type: "role", object_id: Some(id), detail: json!({"key": row.key, "permissions": row.permissions, "data_scope": row.data_scope, "fields": row.field_access}) }).await?;
        tx.commit().await?;
        self.auth_cache.forget_tenant(&actor.tenant_id);
        Ok(role_view(&row))
    }

    // ---- custom fields ----

    pub async fn list_custom_fields(&self, actor: &Actor) -> Result<Vec<CustomFieldView>> {
        let mut r = self.store.reader().await?;
        Ok(cs::custom_fields(&mut r.conn(), &actor.tenant_id)
            .await?
            .iter()
            .map(field_view)
            .collect())
    }

    fn check_field_body(body: &CustomFieldBody) -> Result<FieldType> {
        let t = FieldType::parse(&body.field_type).ok_or_else(|| {
            FieldError::new("field_type", "value.invalid").with(
                "allowed",
                FieldType::ALL
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })?;
        check_def(&CustomFieldDef {
            key: body.key.clone(),
            label_zh: body.label_zh.clone(),
            label_en: body.label_en.clone(),
            field_type: t,
            options: body.options.clone(),
            required: body.required,
        })?;
        Ok(t)
    }

    pub async fn create_custom_field(
        &self,
        actor: &Actor,
        body: &CustomFieldBody,
    ) -> Result<CustomFieldView> {
        actor.require(Permission::SettingsAdmin)?;
        let t = Self::check_field_body(body)?;
        let now = self.now();
        let row = CustomFieldRow {
            tenant_id: actor.tenant_id.clone(),
            id: new_id(),
            key: body.key.clone(),
            label_zh: body.label_zh.trim().into(),
            label_en: body.label_en.trim().into(),
            field_type: t.as_str().into(),
            options: json!(body.options).to_string(),
            required: body.required as i64,
            position: body.position,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        cs::insert_custom_field(&mut tx, &row).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "custom_field.create",
                object_type: "custom_field",
                object_id: Some(&row.id),
                detail: json!({"key": row.key, "type": row.field_type}),
            },
        )
        .await?;
        self.commit_defs_change(tx, &actor.tenant_id).await?;
        Ok(field_view(&row))
    }

    pub async fn update_custom_field(
        &self,
        actor: &Actor,
        id: &str,
        if_match: i64,
        body: &CustomFieldBody,
    ) -> Result<CustomFieldView> {
        actor.require(Permission::SettingsAdmin)?;
        let mut r = self.store.reader().await?;
        let mut row = cs::custom_field(&mut r.conn(), &actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        drop(r);
        if row.version != if_match {
            return Err(AppError::VersionMismatch);
        }
        if body.key != row.key || body.field_type != row.field_type {
            return Err(FieldError::new("key", "custom_field.immutable").into());
        }
        Self::check_field_body(body)?;
        row.label_zh = body.label_zh.trim().into();
        row.label_en = body.label_en.trim().into();
        row.options = json!(body.options).to_string();
        row.required = body.required as i64;
        row.position = body.position;
        row.updated_at = self.now();
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        row.version = cs::update_custom_field(&mut tx, &row).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "custom_field.update",
                object_type: "custom_field",
                object_id: Some(id),
                detail: json!({"key": row.key}),
            },
        )
        .await?;
        self.commit_defs_change(tx, &actor.tenant_id).await?;
        Ok(field_view(&row))
    }

    pub async fn delete_custom_field(&self, actor: &Actor, id: &str, if_match: i64) -> Result<()> {
        actor.require(Permission::SettingsAdmin)?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        cs::delete_custom_field(&mut tx, &actor.tenant_id, id, if_match).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "custom_field.delete",
                object_type: "custom_field",
                object_id: Some(id),
                detail: json!({}),
            },
        )
        .await?;
        self.commit_defs_change(tx, &actor.tenant_id).await?;
        Ok(())
    }

    // ---- customer code pattern ----

    pub async fn code_settings(&self, actor: &Actor) -> Result<CodeSettingsView> {
        let mut r = self.store.reader().await?;
        let t = org::tenant_by_id(&mut r.conn(), &actor.tenant_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let reset = CodeReset::parse(&t.code_reset).unwrap_or(CodeReset::Never);
        let example = CodePattern::parse(&t.code_pattern, reset)
            .map(|p| p.render(today(self.now()), 1))
            .unwrap_or_default();
        Ok(CodeSettingsView {
            pattern: t.code_pattern,
            reset: t.code_reset,
            example,
            version: t.version,
        })
    }

    pub async fn update_code_settings(
        &self,
        actor: &Actor,
        if_match: i64,
        body: &CodeSettingsBody,
    ) -> Result<CodeSettingsView> {
        actor.require(Permission::SettingsAdmin)?;
        let reset = CodeReset::parse(&body.reset).ok_or_else(|| {
            FieldError::new("reset", "value.invalid")
                .with("allowed", "daily, monthly, yearly, never")
        })?;
        let p = CodePattern::parse(&body.pattern, reset)?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        let version = org::update_code_pattern(
            &mut tx,
            &actor.tenant_id,
            p.source(),
            reset.as_str(),
            if_match,
            self.now(),
        )
        .await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "settings.code_pattern",
                object_type: "tenant",
                object_id: Some(&actor.tenant_id),
                detail: json!({"pattern": p.source(), "reset": reset.as_str()}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(CodeSettingsView {
            pattern: p.source().into(),
            reset: reset.as_str().into(),
            example: p.render(today(self.now()), 1),
            version,
        })
    }

    // ---- audit ----

    pub async fn list_audit(
        &self,
        actor: &Actor,
        f: &AuditFilter,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<AuditPage> {
        actor.require(Permission::AuditRead)?;
        let limit = crate::customers::page_limit(limit)?;
        let before = match cursor {
            Some(c) => Some(
                c.parse::<i64>()
                    .map_err(|_| FieldError::new("cursor", "cursor.invalid"))?,
            ),
            None => None,
        };
        let mut r = self.store.reader().await?;
        let rows = audit::list(&mut r.conn(), &actor.tenant_id, f, before, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        let items: Vec<AuditView> = rows
            .into_iter()
            .take(limit as usize)
            .map(|a| AuditView {
                seq: a.seq,
                at: rfc3339(a.at),
                actor_id: a.actor_id,
                actor_login: a.actor_login,
                ip: a.ip,
                action: a.action,
                object_type: a.object_type,
                object_id: a.object_id,
                detail: serde_json::from_str(&a.detail).unwrap_or(json!({})),
            })
            .collect();
        let next_cursor = if more {
            items.last().map(|a| a.seq.to_string())
        } else {
            None
        };
        Ok(AuditPage { items, next_cursor })
    }
}
