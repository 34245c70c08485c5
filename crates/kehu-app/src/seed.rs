//! Demo and benchmark data: deterministic customers, contacts and orders
//! from `kehu-seed`, checked by the same validation as the API, sealed and
//! indexed like any other customer, and written in large batches.

use std::time::Instant;

use kehu_crypto::TenantKeys;
use kehu_domain::code::{CodePattern, CodeReset};
use kehu_domain::customer::{CustomerInput, validate_customer};
use kehu_domain::validate::{Phone, format_date};
use kehu_seed::{GenConfig, GenCustomer, Kind as GenKind};
use kehu_store::customers::{
    self as cs, BulkCustomer, ContactRow, CustomerRow, OrderLineRow, OrderRow,
};
use kehu_store::org;
use serde_json::json;

use crate::customers::{
    Sensitive, contact_aad, contact_lookups, customer_aad, lookups as customer_lookups, seal,
    search_terms,
};
use crate::views::{DepartmentBody, UserCreate};
use crate::{Actor, App, AppError, AuditEvent, Result, new_id, today};

#[derive(Clone, Debug)]
pub struct SeedOptions {
    pub customers: usize,
    pub seed: u64,
    pub start: time::Date,
    pub end: time::Date,
    /// Customers per transaction.
    pub batch: usize,
}

#[derive(Clone, Debug, Default)]
pub struct SeedReport {
    pub customers: u64,
    pub contacts: u64,
    pub orders: u64,
    pub rejected: u64,
    pub seconds: f64,
}

/// A demo account: login, password, role and what it shows.
pub struct DemoUser {
    pub login: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub department: Option<&'static str>,
    pub manager: Option<&'static str>,
}

pub const DEMO_DEPARTMENTS: [&str; 3] = ["销售一部", "销售二部", "客户服务部"];

pub const DEMO_USERS: [DemoUser; 8] = [
    DemoUser {
        login: "admin",
        name: "系统管理员",
        role: "admin",
        department: None,
        manager: None,
    },
    DemoUser {
        login: "zhou.min",
        name: "周敏",
        role: "manager",
        department: Some("销售一部"),
        manager: None,
    },
    DemoUser {
        login: "li.na",
        name: "李娜",
        role: "sales",
        department: Some("销售一部"),
        manager: Some("zhou.min"),
    },
    DemoUser {
        login: "wang.qiang",
        name: "王强",
        role: "sales",
        department: Some("销售一部"),
        manager: Some("zhou.min"),
    },
    DemoUser {
        login: "zhang.wei",
        name: "张伟",
        role: "sales",
        department: Some("销售二部"),
        manager: None,
    },
    DemoUser {
        login: "chen.jing",
        name: "陈静",
        role: "service",
        department: Some("客户服务部"),
        manager: None,
    },
    DemoUser {
        login: "liu.yang",
        name: "刘洋",
        role: "marketing",
        department: None,
        manager: None,
    },
    DemoUser {
        login: "sun.li",
        name: "孙丽",
        role: "auditor",
        department: None,
        manager: None,
    },
];

/// Demo passwords are printed by `kehu demo`; they are for a local demo only.
pub fn demo_password(login: &str) -> String {
    format!("demo-{login}-2026")
}

fn gen_input(g: &GenCustomer) -> CustomerInput {
    let mut phones: Vec<String> = g.mobiles.clone();
    phones.extend(g.landlines.iter().cloned());
    CustomerInput {
        kind: match g.kind {
            GenKind::Person => "person".into(),
            GenKind::Company => "company".into(),
        },
        name: g.name.clone(),
        phones,
        emails: g.emails.clone(),
        province: Some(g.province.clone()),
        city: Some(g.city.clone()),
        district: Some(g.district.clone()),
        address: Some(g.address.clone()),
        industry: g.industry.clone(),
        occupation: g.occupation.clone(),
        employer: g.employer.clone(),
        source: Some(g.source.clone()),
        notes: g.notes.clone(),
        birthday: g.birthday.map(format_date),
        unified_social_credit_code: g.uscc.clone(),
        id_number: g.id_number.clone(),
        custom_fields: Default::default(),
    }
}

fn day_ms(d: time::Date, hour: u8) -> i64 {
    let t = d
        .with_hms(hour, 0, 0)
        .expect("valid hour")
        .assume_offset(time::macros::offset!(+8));
    t.unix_timestamp() * 1000
}

/// Turns one generated customer into rows; `None` if validation rejects it.
fn prepare(
    g: &GenCustomer,
    tenant_id: &str,
    keys: &TenantKeys,
    owners: &[String],
    code: String,
    today: time::Date,
) -> Option<BulkCustomer> {
    let c = validate_customer(&gen_input(g), &[], today).ok()?;
    let id = new_id();
    let created_at = day_ms(g.created_on, 9 + (g.index % 9) as u8);
    let owner = owners.get(g.owner % owners.len().max(1)).cloned();
    let sens = Sensitive::of(&c);
    let lookups = customer_lookups(keys, &c);
    let mut contacts = Vec::new();
    for k in &g.contacts {
        let kid = new_id();
        let phones: Vec<String> = Phone::parse("phones", &k.mobile)
            .ok()
            .map(|p| p.e164().to_string())
            .into_iter()
            .collect();
        let ks = Sensitive {
            phones: phones.clone(),
            emails: k.email.iter().cloned().collect(),
            ..Default::default()
        };
        let kl = contact_lookups(keys, &ks);
        contacts.push((
            ContactRow {
                tenant_id: tenant_id.to_string(),
                id: kid.clone(),
                customer_id: id.clone(),
                name: k.name.clone(),
                title: Some(k.title.clone()),
                is_primary: k.is_primary as i64,
                sealed: seal(keys, &contact_aad(tenant_id, &kid), &ks),
                version: 1,
                created_at,
                updated_at: created_at,
            },
            kl,
        ));
    }
    let contact_names: Vec<String> = g.contacts.iter().map(|k| k.name.clone()).collect();
    let mut orders = Vec::with_capacity(g.orders.len());
    for o in &g.orders {
        let oid = new_id();
        let lines: Vec<OrderLineRow> = o
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| OrderLineRow {
                tenant_id: tenant_id.to_string(),
                order_id: oid.clone(),
                line_no: i as i64 + 1,
                product: l.product.clone(),
                category: Some(l.category.clone()),
                quantity: l.quantity,
                amount_fen: l.amount_fen,
            })
            .collect();
        orders.push((
            OrderRow {
                tenant_id: tenant_id.to_string(),
                id: oid,
                customer_id: id.clone(),
                ordered_on: format_date(o.date),
                channel: Some(o.channel.clone()),
                total_fen: lines.iter().map(|l| l.amount_fen).sum(),
                line_count: lines.len() as i64,
                created_by: owner.clone(),
                created_at: day_ms(o.date, 14),
            },
            lines,
        ));
    }
    let kind = c.kind.as_str().to_string();
    let terms = search_terms(&kind, &c.name, c.employer.as_deref(), &contact_names);
    let row = CustomerRow {
        rid: 0,
        tenant_id: tenant_id.to_string(),
        sealed: seal(keys, &customer_aad(tenant_id, &id), &sens),
        id,
        code,
        kind,
        name: c.name,
        owner_id: owner.clone(),
        province: c.province,
        city: c.city,
        district: c.district,
        industry: c.industry,
        occupation: c.occupation,
        employer: c.employer,
        source: c.source,
        notes: c.notes,
        uscc: c.uscc.map(|u| u.as_str().to_string()),
        custom_fields: "{}".into(),
        version: 1,
        created_by: owner,
        created_at,
        updated_at: created_at,
    };
    Some(BulkCustomer {
        row,
        lookups,
        terms,
        contacts,
        orders,
    })
}

impl App {
    /// Creates the demo organisation (3 departments, 8 users across the six
    /// roles) in a tenant that has only its first admin.
    pub async fn seed_demo_org(&self, tenant_id: &str) -> Result<Vec<String>> {
        let system = Actor::system(tenant_id);
        let mut dept_ids = Vec::new();
        for name in DEMO_DEPARTMENTS {
            let d = self
                .create_department(
                    &system,
                    &DepartmentBody {
                        name: name.into(),
                        parent_id: None,
                    },
                )
                .await?;
            dept_ids.push((name, d.id));
        }
        let mut user_ids: Vec<(&str, String)> = Vec::new();
        for u in DEMO_USERS.iter().filter(|u| u.login != "admin") {
            let body = UserCreate {
                login: u.login.into(),
                display_name: Some(u.name.into()),
                password: demo_password(u.login),
                role: u.role.into(),
                department_id: u.department.and_then(|d| {
                    dept_ids
                        .iter()
                        .find(|(n, _)| *n == d)
                        .map(|(_, id)| id.clone())
                }),
                manager_id: u.manager.and_then(|m| {
                    user_ids
                        .iter()
                        .find(|(l, _)| *l == m)
                        .map(|(_, id)| id.clone())
                }),
                locale: None,
            };
            let v = self.create_user(&system, &body).await?;
            user_ids.push((u.login, v.id));
        }
        // Customers belong to the sales team and their manager.
        Ok(DEMO_USERS
            .iter()
            .filter(|u| u.role == "sales" || u.role == "manager")
            .filter_map(|u| {
                user_ids
                    .iter()
                    .find(|(l, _)| *l == u.login)
                    .map(|(_, id)| id.clone())
            })
            .collect())
    }

    /// Generates and stores `opts.customers` customers spread over `owners`.
    /// Generation and sealing run on a blocking thread while the previous
    /// batch is written, so both cores work.
    pub async fn seed_customers(
        &self,
        tenant_id: &str,
        owners: Vec<String>,
        opts: SeedOptions,
    ) -> Result<SeedReport> {
        let started = Instant::now();
        let keys = self.tenant_keys(tenant_id).await?;
        let now = self.now();
        let day = today(now);
        let mut r = self.store.reader().await?;
        let t = org::tenant_by_id(&mut r.conn(), tenant_id)
            .await?
            .ok_or(AppError::NotFound)?;
        drop(r);
        let reset = CodeReset::parse(&t.code_reset).unwrap_or(CodeReset::Never);
        let pattern = CodePattern::parse(&t.code_pattern, reset)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.store.begin_bulk().await?;
        let first = cs::reserve_code_seq(
            &mut tx,
            tenant_id,
            &reset.period_key(day),
            opts.customers as i64,
        )
        .await?;
        tx.commit().await?;

        let (send, mut recv) = tokio::sync::mpsc::channel::<(Vec<BulkCustomer>, u64)>(2);
        let gen_cfg = GenConfig {
            customers: opts.customers,
            seed: opts.seed,
            start: opts.start,
            end: opts.end,
            owners: owners.len().max(1),
        };
        let tid = tenant_id.to_string();
        let batch = opts.batch.max(1);
        let producer = tokio::task::spawn_blocking(move || {
            let mut buf = Vec::with_capacity(batch);
            let mut rejected = 0u64;
            for (i, g) in kehu_seed::generate(&gen_cfg).enumerate() {
                let code = pattern.render(day, (first + i as i64) as u64);
                match prepare(&g, &tid, &keys, &owners, code, day) {
                    Some(b) => buf.push(b),
                    None => rejected += 1,
                }
                if buf.len() == batch {
                    if send
                        .blocking_send((std::mem::take(&mut buf), rejected))
                        .is_err()
                    {
                        return;
                    }
                    rejected = 0;
                }
            }
            let _ = send.blocking_send((buf, rejected));
        });
        let mut report = SeedReport::default();
        while let Some((items, rejected)) = recv.recv().await {
            report.rejected += rejected;
            report.customers += items.len() as u64;
            report.contacts += items.iter().map(|b| b.contacts.len() as u64).sum::<u64>();
            report.orders += items.iter().map(|b| b.orders.len() as u64).sum::<u64>();
            let mut tx = self.store.begin_bulk().await?;
            cs::bulk_insert_customers(&mut tx, items).await?;
            tx.commit().await?;
        }
        producer
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.store.begin_bulk().await?;
        cs::after_bulk_load(&mut tx).await?;
        tx.commit().await?;
        let keys = self.tenant_keys(tenant_id).await?;
        let mut tx = self.store.begin_bulk().await?;
        self.audit(
            &mut tx,
            &keys,
            tenant_id,
            Some(&Actor::system(tenant_id)),
            AuditEvent {
                action: "customer.seed",
                object_type: "customer",
                object_id: None,
                detail: json!({"customers": report.customers, "orders": report.orders, "seed": opts.seed}),
            },
        )
        .await?;
        tx.commit().await?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }
}

impl App {
    /// The benchmark organisation: 3 departments, 3 managers and 17 sales
    /// reps (20 users, as PERFORMANCE.md asks). Returns the owners to spread
    /// customers over; reuses them when they exist.
    pub async fn bench_owners(&self, tenant_id: &str) -> Result<Vec<String>> {
        let system = Actor::system(tenant_id);
        let existing = self.list_users(&system).await?;
        let owners: Vec<String> = existing
            .iter()
            .filter(|u| u.login.starts_with("bench."))
            .map(|u| u.id.clone())
            .collect();
        if !owners.is_empty() {
            return Ok(owners);
        }
        let mut depts = Vec::new();
        for name in ["华东销售部", "华南销售部", "华北销售部"] {
            depts.push(
                self.create_department(
                    &system,
                    &DepartmentBody {
                        name: name.into(),
                        parent_id: None,
                    },
                )
                .await?
                .id,
            );
        }
        let mut out = Vec::new();
        for i in 0..20 {
            let (role, login) = if i < 3 {
                ("manager", format!("bench.manager{i:02}"))
            } else {
                ("sales", format!("bench.sales{i:02}"))
            };
            let body = UserCreate {
                password: demo_password(&login),
                login,
                display_name: None,
                role: role.into(),
                department_id: Some(depts[i % 3].clone()),
                manager_id: None,
                locale: None,
            };
            out.push(self.create_user(&system, &body).await?.id);
        }
        Ok(out)
    }

    /// Removes expired sessions (idle or past their absolute lifetime).
    pub async fn purge_sessions(&self) -> Result<u64> {
        let now = self.now();
        let mut tx = self.store.begin_bulk().await?;
        let n = org::purge_sessions(
            &mut tx,
            now - self.config.session_idle_ms,
            now - self.config.session_absolute_ms,
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeder drops what validation rejects; generated data should never
    /// be rejected (landlines from 800 once were, 1 in 10,000).
    #[test]
    fn every_generated_customer_passes_validation() {
        let today = time::macros::date!(2026 - 11 - 23);
        let rejected: Vec<String> = kehu_seed::generate(&GenConfig::benchmark(30_000, 1))
            .filter_map(|g| {
                validate_customer(&gen_input(&g), &[], today)
                    .err()
                    .map(|e| format!("{:?}: {e:?}", gen_input(&g).phones))
            })
            .collect();
        assert!(
            rejected.is_empty(),
            "{} rejected: {:?}",
            rejected.len(),
            &rejected[..rejected.len().min(5)]
        );
    }
}
