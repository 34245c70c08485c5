//! Saved list views (per user) and bulk actions on customers.

use kehu_domain::FieldError;
use kehu_domain::access::Permission;
use kehu_domain::normalize::required_text;
use kehu_store::saved_views::{self as sv, SavedViewRow};
use serde_json::{Map, Value, json};

use crate::views::*;
use crate::{Actor, App, AppError, AuditEvent, Result, new_id};

/// Lists a view may belong to.
const VIEW_KINDS: &[&str] = &["customers"];
/// Upper bound on a view's stored settings.
pub const VIEW_CONFIG_MAX_BYTES: usize = 16 * 1024;
/// Upper bound on one bulk request, so it stays one short interaction.
pub const BULK_MAX_IDS: usize = 500;

fn view_of(r: &SavedViewRow) -> SavedView {
    SavedView {
        id: r.id.clone(),
        name: r.name.clone(),
        kind: r.kind.clone(),
        config: serde_json::from_str(&r.config).unwrap_or_else(|_| json!({})),
        version: r.version,
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
    }
}

fn check_kind(kind: &str) -> Result<()> {
    if VIEW_KINDS.contains(&kind) {
        return Ok(());
    }
    Err(FieldError::new("kind", "value.invalid")
        .with("allowed", VIEW_KINDS.join(", "))
        .into())
}

/// The stored form of a view's settings. A search text that is a phone
/// number, email or ID number is dropped: it would sit unencrypted in the
/// database, where every customer's copy of it is sealed.
fn config_text(config: &Value) -> Result<String> {
    let mut config = config.clone();
    if let Some(obj) = config.as_object_mut()
        && let Some(Value::String(q)) = obj.get("q")
    {
        let plan = kehu_domain::search::plan_query(q);
        if plan.phone.is_some() || plan.email.is_some() || plan.id_number.is_some() {
            obj.remove("q");
        }
    }
    let text = config.to_string();
    if !config.is_object() || text.len() > VIEW_CONFIG_MAX_BYTES {
        return Err(FieldError::new("config", "view.config_invalid")
            .with("max", VIEW_CONFIG_MAX_BYTES.to_string())
            .into());
    }
    Ok(text)
}

/// What one bulk request asks for, checked before any customer is touched.
enum BulkAction {
    AssignOwner(String),
    AddTeam { user_id: String, access: String },
}

fn parse_bulk(req: &BulkRequest) -> Result<(Vec<String>, BulkAction)> {
    if req.ids.is_empty() {
        return Err(FieldError::new("ids", "text.required").into());
    }
    if req.ids.len() > BULK_MAX_IDS {
        return Err(FieldError::new("ids", "list.too_long")
            .with("max", BULK_MAX_IDS.to_string())
            .into());
    }
    let mut ids: Vec<String> = Vec::with_capacity(req.ids.len());
    for id in &req.ids {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let action = match req.action.as_str() {
        "assign_owner" => match req.owner_id.as_deref().filter(|s| !s.is_empty()) {
            Some(o) => BulkAction::AssignOwner(o.to_string()),
            None => return Err(FieldError::new("owner_id", "text.required").into()),
        },
        "add_team" => {
            let Some(user_id) = req.user_id.as_deref().filter(|s| !s.is_empty()) else {
                return Err(FieldError::new("user_id", "text.required").into());
            };
            let access = req.access.as_deref().unwrap_or("read");
            if access != "read" && access != "write" {
                return Err(FieldError::new("access", "value.invalid")
                    .with("allowed", "read, write")
                    .into());
            }
            BulkAction::AddTeam {
                user_id: user_id.to_string(),
                access: access.to_string(),
            }
        }
        _ => {
            return Err(FieldError::new("action", "value.invalid")
                .with("allowed", "assign_owner, add_team")
                .into());
        }
    };
    Ok((ids, action))
}

impl App {
    pub async fn list_views(&self, actor: &Actor, kind: &str) -> Result<Vec<SavedView>> {
        check_kind(kind)?;
        let mut r = self.store.reader().await?;
        Ok(
            sv::list_views(&mut r.conn(), &actor.tenant_id, &actor.user_id, kind)
                .await?
                .iter()
                .map(view_of)
                .collect(),
        )
    }

    pub async fn create_view(&self, actor: &Actor, body: &SavedViewCreate) -> Result<SavedView> {
        let name = required_text("name", &body.name, 50)?;
        check_kind(&body.kind)?;
        let config = config_text(&body.config)?;
        let now = self.now();
        let row = SavedViewRow {
            tenant_id: actor.tenant_id.clone(),
            id: new_id(),
            user_id: actor.user_id.clone(),
            kind: body.kind.clone(),
            name,
            config,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        sv::insert_view(&mut tx, &row).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "view.create",
                object_type: "saved_view",
                object_id: Some(&row.id),
                detail: json!({"name": row.name, "kind": row.kind}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(view_of(&row))
    }

    pub async fn update_view(
        &self,
        actor: &Actor,
        id: &str,
        if_match: i64,
        body: &SavedViewPatch,
    ) -> Result<SavedView> {
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        let old = sv::view(&mut tx.conn(), &actor.tenant_id, &actor.user_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if old.version != if_match {
            return Err(AppError::VersionMismatch);
        }
        let mut new = old.clone();
        if let Some(n) = &body.name {
            new.name = required_text("name", n, 50)?;
        }
        if let Some(c) = &body.config {
            new.config = config_text(c)?;
        }
        if new.name == old.name && new.config == old.config {
            // Nothing to change: no new version, so other tabs stay current.
            return Ok(view_of(&old));
        }
        new.updated_at = self.now();
        let row = sv::update_view(&mut tx, &new).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "view.update",
                object_type: "saved_view",
                object_id: Some(id),
                detail: json!({"name": row.name}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(view_of(&row))
    }

    pub async fn delete_view(&self, actor: &Actor, id: &str, if_match: i64) -> Result<()> {
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        sv::delete_view(&mut tx, &actor.tenant_id, &actor.user_id, id, if_match).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "view.delete",
                object_type: "saved_view",
                object_id: Some(id),
                detail: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies one action to each customer through the same use case a
    /// single request runs (scope, permissions, audit, timeline), each in
    /// its own transaction: one customer the caller may not change fails
    /// alone and is reported, the rest go through.
    pub async fn bulk_customers(
        &self,
        actor: &Actor,
        req: &BulkRequest,
    ) -> Result<(i64, Vec<(String, AppError)>)> {
        actor.require(Permission::CustomerAssign)?;
        let (ids, action) = parse_bulk(req)?;
        // The target user is checked once, not once per customer.
        let (user, field) = match &action {
            BulkAction::AssignOwner(o) => (o, "owner_id"),
            BulkAction::AddTeam { user_id, .. } => (user_id, "user_id"),
        };
        let mut r = self.store.reader().await?;
        crate::customers::active_user(&mut r.conn(), &actor.tenant_id, user, field).await?;
        drop(r);
        let mut updated = 0;
        let mut failed = Vec::new();
        let mut rest = ids.into_iter();
        for id in rest.by_ref() {
            let outcome = match &action {
                BulkAction::AssignOwner(owner) => self.assign_owner(actor, &id, owner).await,
                BulkAction::AddTeam { user_id, access } => {
                    self.add_to_team(actor, &id, user_id, access).await
                }
            };
            match outcome {
                Ok(true) => updated += 1,
                Ok(false) => {}
                // The database failed: stop, and say which customers were
                // not attempted, so the caller knows exactly what changed.
                Err(e @ AppError::Internal(_)) => {
                    failed.push((id, e));
                    break;
                }
                Err(e) => failed.push((id, e)),
            }
        }
        for id in rest {
            failed.push((
                id,
                AppError::Internal("not attempted after an earlier failure".into()),
            ));
        }
        Ok((updated, failed))
    }

    /// `Ok(false)` when the user already has that access.
    async fn add_to_team(
        &self,
        actor: &Actor,
        id: &str,
        user_id: &str,
        access: &str,
    ) -> Result<bool> {
        let team = self.list_team(actor, id).await?;
        if team
            .iter()
            .any(|m| m.user_id == user_id && m.access == access)
        {
            return Ok(false);
        }
        self.put_team_member(actor, id, user_id, access).await?;
        Ok(true)
    }

    /// `Ok(false)` when the customer already had that owner.
    async fn assign_owner(&self, actor: &Actor, id: &str, owner: &str) -> Result<bool> {
        let current = self.get_customer(actor, id).await?;
        if current.owner_id.as_deref() == Some(owner) {
            return Ok(false);
        }
        let mut body = Map::new();
        body.insert("owner_id".into(), Value::String(owner.to_string()));
        self.update_customer(actor, id, current.version, &body)
            .await?;
        Ok(true)
    }
}
