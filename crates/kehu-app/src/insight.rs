//! Insight use cases (issue 5): classification runs (full, and one
//! customer after an order), the job queue and nightly schedule that drive
//! them, settings, tag rules with live preview, and the reads people use:
//! a customer's insight, the at-risk and upgrade lists and cost-benefit.
//!
//! The maths is `kehu_domain::analytics::run`; this module loads its
//! inputs and stores its outputs with the change history in one
//! transaction. A customer's current explanations are stored as codes and
//! numbers and rendered in the reader's language (`insight_codec`); the
//! timeline's change entries keep the sentence of the day in both
//! languages, so history reads as it was decided.

use std::collections::{BTreeMap, HashMap};

use crate::insight_codec as codec;
use kehu_domain::access::{FieldAccess, Permission};
use kehu_domain::analytics::classify::{AmountClass, FrequencyClass, ProductRange};
use kehu_domain::analytics::lifecycle::Stage;
use kehu_domain::analytics::rules::{CustomValue, Expr, RuleContext, TextField, parse_rule};
use kehu_domain::analytics::run::{
    CategorySpend, CostBenefit, CostConfig, CustomerIn, CustomerOut, InsightConfig, Model,
    PredictionCache, TagRule, TenantIn, TenantRun, add_cost_benefit, classify_one,
    cost_to_serve_fen, tag_change,
};
use kehu_domain::analytics::{
    BgNbdParams, ClassConfig, CustomerFacts, GammaGammaParams, LifecycleConfig, Order,
    PreviousStage, PreviousTier, RfmSegment, Tier, TierConfig, TierMethod,
};
use kehu_domain::i18n::Locale;
use kehu_domain::validate::{format_date, parse_ymd};
use kehu_domain::{FieldError, FieldErrors};
use kehu_store::Conn;
use kehu_store::customers::{Access, TimelineRow};
use kehu_store::insight::{self as st, InsightRow, Ranking, RunRow, TagRow};
use kehu_store::jobs::{self, NewJob, OnDuplicate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::customers::{decode_token, encode_token, page_limit};
use crate::views::rfc3339;
use crate::{Actor, App, AppError, AuditEvent, Result, new_id, today};

/// Job kinds.
pub const JOB_TENANT: &str = "insight.tenant";
pub const JOB_CUSTOMER: &str = "insight.customer";
/// How long a claimed job stays a worker's without a sign of life. Short,
/// so the job of a process that died is taken over within minutes; the
/// worker renews it every [`HEARTBEAT`] while it works, so a run of any
/// length keeps it. A run records that it is alive as often, and a run
/// silent for longer than this is taken for dead.
const JOB_LEASE_MS: i64 = 2 * 60 * 1000;
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(30);
/// Customers a full run writes per transaction: about 0.1 s of SQLite's
/// write lock at a million customers, which a request write waits out.
const RUN_CHUNK: usize = 1000;

/// A full run treats customers deleted this long before it began as
/// possibly deleted since it loaded them: a delete stamps its time before
/// it commits (and another process's clock may lag), so one stamped just
/// before the run's start can still commit after the load.
const DELETE_MARGIN_MS: i64 = 10 * 60 * 1000;

/// What every chunk of one full run shares.
struct RunWrite<'a> {
    tenant_id: &'a str,
    run_id: &'a str,
    now: i64,
    /// Customers deleted since this time are left out (see
    /// [`DELETE_MARGIN_MS`]).
    deleted_since: i64,
    run: &'a TenantRun,
    rules: &'a [TagRule],
    cfg: &'a InsightConfig,
}

/// What a full run's chunks add up to.
#[derive(Default)]
struct RunTally {
    /// Customers each rule tags, by rule id.
    rule_counts: BTreeMap<String, i64>,
    tier: usize,
    stage: usize,
    tags: usize,
    /// Time spent building the chunks' outcomes (computing, not writing).
    finishing: std::time::Duration,
}
/// The problem code for a second run of a tenant while one is under way.
pub(crate) const RUN_RUNNING: &str = "insight.run_running";

/// Repeats a beat every [`HEARTBEAT`] on its own task (so it goes on while
/// the work it vouches for waits, e.g. for the write connection) until
/// dropped. A beat that fails is logged and the next one tries again; a
/// beat that answers `false` (the lease is gone) ends it, and
/// [`Heartbeat::lost`] then completes.
struct Heartbeat {
    task: tokio::task::JoinHandle<()>,
    lost: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Heartbeat {
    fn start<F, Fut>(what: &'static str, beat: F) -> Heartbeat
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = kehu_store::Result<bool>> + Send,
    {
        Heartbeat::every(what, HEARTBEAT, beat)
    }

    fn every<F, Fut>(what: &'static str, period: std::time::Duration, beat: F) -> Heartbeat
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = kehu_store::Result<bool>> + Send,
    {
        let (lost_tx, lost) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.tick().await; // the first tick is immediate
            loop {
                tick.tick().await;
                match beat().await {
                    Ok(true) => {}
                    Ok(false) => {
                        let _ = lost_tx.send(());
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "{what} heartbeat failed"),
                }
            }
        });
        Heartbeat {
            task,
            lost: Some(lost),
        }
    }

    /// Completes when a beat found the lease gone; never otherwise.
    async fn lost(&mut self) {
        if let Some(rx) = self.lost.take()
            && rx.await.is_ok()
        {
            return;
        }
        std::future::pending().await
    }
}

impl App {
    /// A [`Heartbeat`] whose beat gets the store and the clock's time.
    fn heartbeat<F, Fut>(&self, what: &'static str, beat: F) -> Heartbeat
    where
        F: Fn(kehu_store::Store, i64) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = kehu_store::Result<bool>> + Send,
    {
        let (store, clock) = (self.store.clone(), self.clock.clone());
        Heartbeat::start(what, move || beat(store.clone(), clock.now_ms()))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}
/// The error code of a run whose process stopped mid-run (the web app
/// translates it; other failures carry the error's own text).
const RUN_INTERRUPTED: &str = "interrupted";

// ---------------------------------------------------------------- settings

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TierSettings {
    /// `thresholds` or `pareto`.
    pub method: String,
    pub a_min_fen: i64,
    pub b_min_fen: i64,
    pub c_min_fen: i64,
    pub a_pct: u32,
    pub b_pct: u32,
    pub c_pct: u32,
    pub min_stay_days: i32,
    pub upgrade_immediately: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClassSettings {
    pub frequency_high_min: u32,
    pub frequency_mid_min: u32,
    pub amount_large_min_fen: i64,
    pub amount_mid_min_fen: i64,
    pub diversified_min_categories: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LifecycleSettings {
    pub new_days: i32,
    pub default_interval_days: f64,
    pub min_interval_days: f64,
    pub at_risk_factor: f64,
    pub churn_factor: f64,
    pub churn_max_days: i32,
    pub loyal_min_purchase_days: u32,
    pub loyal_min_tenure_days: i32,
    pub won_back_days: i32,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    pub clv_months: u32,
    pub monthly_discount_pct: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HoursPerTier {
    #[serde(rename = "A")]
    pub a: f64,
    #[serde(rename = "B")]
    pub b: f64,
    #[serde(rename = "C")]
    pub c: f64,
    #[serde(rename = "D")]
    pub d: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CostSettings {
    pub default_margin_pct: f64,
    pub margin_pct_by_category: BTreeMap<String, f64>,
    pub cost_per_order_fen: i64,
    pub hourly_cost_fen: i64,
    pub hours_per_year: HoursPerTier,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    /// Cron pattern in Beijing time (5 fields, or 6 with seconds first).
    pub cron: String,
}

/// A tenant's insight settings; a change applies from the next run.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InsightSettings {
    pub tier: TierSettings,
    pub classes: ClassSettings,
    pub lifecycle: LifecycleSettings,
    pub model: ModelSettings,
    pub costs: CostSettings,
    pub schedule: ScheduleSettings,
}

/// The settings with their version (the `ETag`).
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct InsightSettingsView {
    /// 0 while the defaults apply.
    pub version: i64,
    pub tier: TierSettings,
    pub classes: ClassSettings,
    pub lifecycle: LifecycleSettings,
    pub model: ModelSettings,
    pub costs: CostSettings,
    pub schedule: ScheduleSettings,
}

impl InsightSettingsView {
    fn new(version: i64, s: InsightSettings) -> Self {
        InsightSettingsView {
            version,
            tier: s.tier,
            classes: s.classes,
            lifecycle: s.lifecycle,
            model: s.model,
            costs: s.costs,
            schedule: s.schedule,
        }
    }
}

pub const DEFAULT_CRON: &str = "30 2 * * *";

impl Default for InsightSettings {
    fn default() -> Self {
        let t = TierConfig::default();
        let (a, b, c) = match TierMethod::DEFAULT_THRESHOLDS {
            TierMethod::Thresholds {
                a_min_fen,
                b_min_fen,
                c_min_fen,
            } => (a_min_fen, b_min_fen, c_min_fen),
            TierMethod::Pareto { .. } => unreachable!("the default is thresholds"),
        };
        let k = ClassConfig::default();
        let l = LifecycleConfig::default();
        let costs = CostConfig::default();
        let clv = kehu_domain::analytics::ClvConfig::default();
        InsightSettings {
            tier: TierSettings {
                method: "thresholds".into(),
                a_min_fen: a,
                b_min_fen: b,
                c_min_fen: c,
                a_pct: 50,
                b_pct: 80,
                c_pct: 95,
                min_stay_days: t.min_stay_days,
                upgrade_immediately: t.upgrade_immediately,
            },
            classes: ClassSettings {
                frequency_high_min: k.frequency_high_min,
                frequency_mid_min: k.frequency_mid_min,
                amount_large_min_fen: k.amount_large_min_fen,
                amount_mid_min_fen: k.amount_mid_min_fen,
                diversified_min_categories: k.diversified_min_categories,
            },
            lifecycle: LifecycleSettings {
                new_days: l.new_days,
                default_interval_days: l.default_interval_days,
                min_interval_days: l.min_interval_days,
                at_risk_factor: l.at_risk_factor,
                churn_factor: l.churn_factor,
                churn_max_days: l.churn_max_days,
                loyal_min_purchase_days: l.loyal_min_purchase_days,
                loyal_min_tenure_days: l.loyal_min_tenure_days,
                won_back_days: l.won_back_days,
            },
            model: ModelSettings {
                clv_months: clv.months,
                monthly_discount_pct: clv.monthly_discount * 100.0,
            },
            costs: CostSettings {
                default_margin_pct: costs.default_margin_pct,
                margin_pct_by_category: costs.margin_pct_by_category,
                cost_per_order_fen: costs.cost_per_order_fen,
                hourly_cost_fen: costs.hourly_cost_fen,
                hours_per_year: HoursPerTier {
                    a: costs.hours_per_year[0],
                    b: costs.hours_per_year[1],
                    c: costs.hours_per_year[2],
                    d: costs.hours_per_year[3],
                },
            },
            schedule: ScheduleSettings {
                cron: DEFAULT_CRON.into(),
            },
        }
    }
}

/// Parses a cron pattern (5 fields, or 6 with seconds).
pub fn parse_cron(s: &str) -> Option<croner::Cron> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build()
        .parse(s.trim())
        .ok()
}

impl InsightSettings {
    /// Every rule a setting must follow, reported per field.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        let t = &self.tier;
        if t.method != "thresholds" && t.method != "pareto" {
            e.push(
                FieldError::new("tier.method", "value.invalid")
                    .with("allowed", "thresholds, pareto"),
            );
        }
        for (f, v) in [
            ("tier.a_min_fen", t.a_min_fen),
            ("tier.b_min_fen", t.b_min_fen),
            ("tier.c_min_fen", t.c_min_fen),
        ] {
            if v < 0 {
                e.push(FieldError::new(f, "value.out_of_range").with("min", 0));
            }
        }
        if t.a_min_fen < t.b_min_fen {
            e.push(FieldError::new("tier.b_min_fen", "insight.tier_order"));
        }
        if t.b_min_fen < t.c_min_fen {
            e.push(FieldError::new("tier.c_min_fen", "insight.tier_order"));
        }
        for (f, v) in [
            ("tier.a_pct", t.a_pct),
            ("tier.b_pct", t.b_pct),
            ("tier.c_pct", t.c_pct),
        ] {
            if !(1..=100).contains(&v) {
                e.push(
                    FieldError::new(f, "value.out_of_range")
                        .with("min", 1)
                        .with("max", 100),
                );
            }
        }
        if t.a_pct > t.b_pct {
            e.push(FieldError::new("tier.b_pct", "insight.pct_order"));
        }
        if t.b_pct > t.c_pct {
            e.push(FieldError::new("tier.c_pct", "insight.pct_order"));
        }
        let mut range = |f: &str, v: f64, lo: f64, hi: f64| {
            if !(lo..=hi).contains(&v) || v.is_nan() {
                e.push(
                    FieldError::new(f, "value.out_of_range")
                        .with("min", lo)
                        .with("max", hi),
                );
            }
        };
        range(
            "tier.min_stay_days",
            f64::from(t.min_stay_days),
            0.0,
            3650.0,
        );
        let k = &self.classes;
        range(
            "classes.frequency_mid_min",
            f64::from(k.frequency_mid_min),
            1.0,
            10_000.0,
        );
        range(
            "classes.frequency_high_min",
            f64::from(k.frequency_high_min),
            1.0,
            10_000.0,
        );
        range(
            "classes.amount_mid_min_fen",
            k.amount_mid_min_fen as f64,
            0.0,
            1e15,
        );
        range(
            "classes.amount_large_min_fen",
            k.amount_large_min_fen as f64,
            0.0,
            1e15,
        );
        range(
            "classes.diversified_min_categories",
            f64::from(k.diversified_min_categories),
            2.0,
            1000.0,
        );
        let l = &self.lifecycle;
        range("lifecycle.new_days", f64::from(l.new_days), 1.0, 3650.0);
        range(
            "lifecycle.default_interval_days",
            l.default_interval_days,
            1.0,
            3650.0,
        );
        range(
            "lifecycle.min_interval_days",
            l.min_interval_days,
            1.0,
            3650.0,
        );
        range("lifecycle.at_risk_factor", l.at_risk_factor, 1.0, 100.0);
        range("lifecycle.churn_factor", l.churn_factor, 1.0, 100.0);
        range(
            "lifecycle.churn_max_days",
            f64::from(l.churn_max_days),
            1.0,
            36500.0,
        );
        range(
            "lifecycle.loyal_min_purchase_days",
            f64::from(l.loyal_min_purchase_days),
            2.0,
            10_000.0,
        );
        range(
            "lifecycle.loyal_min_tenure_days",
            f64::from(l.loyal_min_tenure_days),
            0.0,
            36500.0,
        );
        range(
            "lifecycle.won_back_days",
            f64::from(l.won_back_days),
            1.0,
            3650.0,
        );
        range(
            "model.clv_months",
            f64::from(self.model.clv_months),
            1.0,
            120.0,
        );
        range(
            "model.monthly_discount_pct",
            self.model.monthly_discount_pct,
            0.0,
            100.0,
        );
        let c = &self.costs;
        range("costs.default_margin_pct", c.default_margin_pct, 0.0, 100.0);
        for (cat, v) in &c.margin_pct_by_category {
            range(
                &format!("costs.margin_pct_by_category.{cat}"),
                *v,
                0.0,
                100.0,
            );
        }
        range(
            "costs.cost_per_order_fen",
            c.cost_per_order_fen as f64,
            0.0,
            1e12,
        );
        range("costs.hourly_cost_fen", c.hourly_cost_fen as f64, 0.0, 1e12);
        let h = &c.hours_per_year;
        for (f, v) in [("A", h.a), ("B", h.b), ("C", h.c), ("D", h.d)] {
            range(&format!("costs.hours_per_year.{f}"), v, 0.0, 8760.0);
        }
        if l.at_risk_factor > l.churn_factor {
            e.push(FieldError::new(
                "lifecycle.churn_factor",
                "insight.factor_order",
            ));
        }
        if k.frequency_mid_min > k.frequency_high_min {
            e.push(FieldError::new(
                "classes.frequency_high_min",
                "insight.class_order",
            ));
        }
        if k.amount_mid_min_fen > k.amount_large_min_fen {
            e.push(FieldError::new(
                "classes.amount_large_min_fen",
                "insight.class_order",
            ));
        }
        if parse_cron(&self.schedule.cron).is_none() {
            e.push(FieldError::new("schedule.cron", "insight.cron"));
        }
        e.into_result()
    }

    /// The domain's configuration (valid settings assumed).
    pub fn config(&self) -> InsightConfig {
        let t = &self.tier;
        let method = if t.method == "pareto" {
            TierMethod::Pareto {
                a_pct: t.a_pct,
                b_pct: t.b_pct,
                c_pct: t.c_pct,
            }
        } else {
            TierMethod::Thresholds {
                a_min_fen: t.a_min_fen,
                b_min_fen: t.b_min_fen,
                c_min_fen: t.c_min_fen,
            }
        };
        let k = &self.classes;
        let l = &self.lifecycle;
        let c = &self.costs;
        InsightConfig {
            tier: TierConfig {
                method,
                min_stay_days: t.min_stay_days,
                upgrade_immediately: t.upgrade_immediately,
            },
            classes: ClassConfig {
                frequency_high_min: k.frequency_high_min,
                frequency_mid_min: k.frequency_mid_min,
                amount_large_min_fen: k.amount_large_min_fen,
                amount_mid_min_fen: k.amount_mid_min_fen,
                diversified_min_categories: k.diversified_min_categories,
            },
            lifecycle: LifecycleConfig {
                new_days: l.new_days,
                default_interval_days: l.default_interval_days,
                min_interval_days: l.min_interval_days,
                at_risk_factor: l.at_risk_factor,
                churn_factor: l.churn_factor,
                churn_max_days: l.churn_max_days,
                loyal_min_purchase_days: l.loyal_min_purchase_days,
                loyal_min_tenure_days: l.loyal_min_tenure_days,
                won_back_days: l.won_back_days,
            },
            clv: kehu_domain::analytics::ClvConfig {
                months: self.model.clv_months,
                monthly_discount: self.model.monthly_discount_pct / 100.0,
                ..Default::default()
            },
            costs: CostConfig {
                default_margin_pct: c.default_margin_pct,
                margin_pct_by_category: c.margin_pct_by_category.clone(),
                cost_per_order_fen: c.cost_per_order_fen,
                hourly_cost_fen: c.hourly_cost_fen,
                hours_per_year: [
                    c.hours_per_year.a,
                    c.hours_per_year.b,
                    c.hours_per_year.c,
                    c.hours_per_year.d,
                ],
            },
        }
    }
}

// ---------------------------------------------------------------- views

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct Assigned {
    /// Stable code: `A`…`D`, a stage code, or a class code.
    pub value: String,
    pub name: String,
    /// `YYYY-MM-DD`; tier and stage only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    pub explanation: String,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct RfmView {
    pub r: i64,
    pub f: i64,
    pub m: i64,
    pub segment: String,
    pub segment_name: String,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct PredictionView {
    pub p_alive: f64,
    pub expected_purchases_90d: f64,
    /// Gamma-Gamma expected order value, in 分; absent without that model.
    pub expected_spend_fen: Option<i64>,
    /// 12-month CLV (monthly discounting), in 分.
    pub clv_fen: Option<i64>,
    pub explanation: String,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct UpgradeView {
    pub tier: String,
    pub predicted_12m_fen: i64,
    pub threshold_fen: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct SignalView {
    /// `overdue`, `falling_frequency` or `low_p_alive`.
    pub code: String,
    pub text: String,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct TagView {
    pub tag: String,
    pub rule_id: Option<String>,
    pub since: String,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct HistoryView {
    pub at: String,
    /// `tier_changed`, `stage_changed`, `tag_added` or `tag_removed`.
    pub kind: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub explanation: String,
}

/// The facts a classification used; money in 分, dates `YYYY-MM-DD`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct FactsView {
    pub first_purchase: String,
    pub last_purchase: String,
    pub purchase_days: u32,
    pub repeat_purchases: u32,
    pub orders: u32,
    pub spend_fen: i64,
    pub orders_30d: u32,
    pub orders_90d: u32,
    pub orders_365d: u32,
    pub spend_30d_fen: i64,
    pub spend_90d_fen: i64,
    pub spend_365d_fen: i64,
    pub average_order_value_fen: i64,
    pub days_since_last_purchase: i32,
    pub typical_interval_days: Option<f64>,
    pub categories: u32,
    pub contribution_12m_fen: i64,
}

/// A customer's classification with the reasons, in the caller's language.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct InsightView {
    pub customer_id: String,
    /// When the classification was computed; null: never classified yet.
    pub computed_at: Option<String>,
    pub run_id: Option<String>,
    pub tier: Option<Assigned>,
    pub stage: Option<Assigned>,
    pub frequency: Option<Assigned>,
    pub amount: Option<Assigned>,
    pub product_range: Option<Assigned>,
    pub rfm: Option<RfmView>,
    pub facts: Option<FactsView>,
    pub prediction: Option<PredictionView>,
    pub upgrade: Option<UpgradeView>,
    pub value_at_risk_fen: Option<i64>,
    /// This customer's 12-month contribution against their cost to serve
    /// (same rule as `GET /insight/cost-benefit`, with today's settings).
    pub cost_benefit: Option<CustomerCostView>,
    pub signals: Vec<SignalView>,
    pub tags: Vec<TagView>,
    /// Last 100 tier, stage and tag changes, newest first.
    pub history: Vec<HistoryView>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct CustomerCostView {
    pub contribution_12m_fen: i64,
    /// Orders in 365 days × cost per order + the tier's yearly hours × hourly cost.
    pub cost_to_serve_fen: i64,
    pub net_fen: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct AtRiskItem {
    pub customer_id: String,
    pub code: String,
    pub name: Option<String>,
    pub owner_id: Option<String>,
    pub tier: String,
    pub stage: String,
    pub p_alive: Option<f64>,
    pub days_since_last_purchase: Option<i32>,
    pub typical_interval_days: Option<f64>,
    pub clv_fen: Option<i64>,
    pub value_at_risk_fen: i64,
    pub signals: Vec<SignalView>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct AtRiskPage {
    pub items: Vec<AtRiskItem>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct UpgradeItem {
    pub customer_id: String,
    pub code: String,
    pub name: Option<String>,
    pub owner_id: Option<String>,
    pub tier: String,
    pub upgrade_tier: String,
    pub contribution_12m_fen: i64,
    pub predicted_12m_fen: i64,
    pub threshold_fen: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct UpgradePage {
    pub items: Vec<UpgradeItem>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct CostBenefitRow {
    pub tier: String,
    pub customers: i64,
    pub contribution_fen: i64,
    pub cost_fen: i64,
    pub net_fen: i64,
    pub contribution_per_customer_fen: i64,
    pub cost_per_customer_fen: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct CostBenefitTotal {
    pub customers: i64,
    pub contribution_fen: i64,
    pub cost_fen: i64,
    pub net_fen: i64,
}

/// Contribution (12 months, margin applied) against cost to serve (orders ×
/// cost per order + account-manager hours per tier × hourly cost), per tier.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct CostBenefitView {
    pub tiers: Vec<CostBenefitRow>,
    pub total: CostBenefitTotal,
    /// Customers in scope not classified yet.
    pub unclassified: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct RuleView {
    pub id: String,
    pub name: String,
    /// The tag a matching customer gets.
    pub tag: String,
    pub rule: String,
    pub description: Option<String>,
    pub enabled: bool,
    /// Customers tagged at the last full run.
    pub matches: Option<i64>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct RuleList {
    pub items: Vec<RuleView>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub name: String,
    pub tag: String,
    pub rule: String,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePatch {
    pub name: Option<String>,
    pub tag: Option<String>,
    pub rule: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub rule: String,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct PreviewCustomer {
    pub customer_id: String,
    pub code: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct PreviewView {
    /// Customers in the caller's scope the rule matches now.
    pub matches: i64,
    /// Customers in the caller's scope.
    pub total: i64,
    /// Up to 20 matches, by code.
    pub sample: Vec<PreviewCustomer>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct RunView {
    pub id: String,
    /// `schedule`, `manual`, `cli` or `seed`.
    pub cause: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub as_of: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub customers: Option<i64>,
    pub tier_changes: Option<i64>,
    pub stage_changes: Option<i64>,
    pub tag_changes: Option<i64>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct RunList {
    pub items: Vec<RunView>,
}

#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct QueuedJob {
    pub job_id: String,
}

/// What a full run did, with timings (the CLI prints it).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RunSummary {
    pub run_id: String,
    pub customers: usize,
    pub orders: usize,
    pub tier_changes: usize,
    pub stage_changes: usize,
    pub tag_changes: usize,
    pub load_ms: u128,
    /// The tenant-wide part plus building each chunk's outcomes (which
    /// happens between the chunks' writes).
    pub compute_ms: u128,
    /// Writing, without the outcome building counted in `compute_ms`.
    pub write_ms: u128,
    pub total_ms: u128,
}

// ---------------------------------------------------------------- helpers

fn locale_of(actor: &Actor) -> Locale {
    if actor.locale == "en" {
        Locale::En
    } else {
        Locale::ZhCn
    }
}

fn date_of(day: i64) -> String {
    time::Date::from_julian_day(day as i32)
        .map(format_date)
        .unwrap_or_default()
}

fn custom_values(json_text: &str) -> BTreeMap<String, CustomValue> {
    let mut out = BTreeMap::new();
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(json_text) {
        for (k, v) in m {
            let cv = match v {
                Value::String(s) => CustomValue::Str(s),
                Value::Number(n) => n.as_f64().map_or(CustomValue::Absent, CustomValue::Num),
                Value::Bool(b) => CustomValue::Bool(b),
                _ => CustomValue::Absent,
            };
            out.insert(k, cv);
        }
    }
    out
}

fn facts_view(o: &CustomerOut) -> Option<FactsView> {
    let f = o.facts.as_ref()?;
    let d = |n: i32| date_of(i64::from(n));
    Some(FactsView {
        first_purchase: d(f.first_purchase),
        last_purchase: d(f.last_purchase),
        purchase_days: f.purchase_days,
        repeat_purchases: f.repeat_purchases,
        orders: f.orders,
        spend_fen: f.spend_fen,
        orders_30d: f.orders_30d,
        orders_90d: f.orders_90d,
        orders_365d: f.orders_365d,
        spend_30d_fen: f.spend_30d_fen,
        spend_90d_fen: f.spend_90d_fen,
        spend_365d_fen: f.spend_365d_fen,
        average_order_value_fen: f.average_order_value_fen.round() as i64,
        days_since_last_purchase: f.days_since_last_purchase,
        typical_interval_days: f.typical_interval_days,
        categories: o.categories,
        contribution_12m_fen: o.contribution_12m_fen,
    })
}

impl FactsView {
    /// The domain's facts again (dates back to day numbers), so a rule
    /// preview reads stored facts exactly as a run reads computed ones.
    fn to_facts(&self) -> Option<CustomerFacts<()>> {
        Some(CustomerFacts {
            customer_id: (),
            first_purchase: day_of(&self.first_purchase)?,
            last_purchase: day_of(&self.last_purchase)?,
            purchase_days: self.purchase_days,
            repeat_purchases: self.repeat_purchases,
            orders: self.orders,
            spend_fen: self.spend_fen,
            orders_30d: self.orders_30d,
            orders_90d: self.orders_90d,
            orders_365d: self.orders_365d,
            spend_30d_fen: self.spend_30d_fen,
            spend_90d_fen: self.spend_90d_fen,
            spend_365d_fen: self.spend_365d_fen,
            average_order_value_fen: self.average_order_value_fen as f64,
            days_since_last_purchase: self.days_since_last_purchase,
            typical_interval_days: self.typical_interval_days,
        })
    }
}

/// A rule context from stored facts (rule previews between runs).
fn context_from(p: &st::PreviewRow, facts: Option<&FactsView>, tags: &[String]) -> RuleContext {
    let mut c = RuleContext::new();
    if let Some(f) = facts.and_then(FactsView::to_facts) {
        c.set_facts(&f);
    }
    c.set_text(TextField::Kind, p.kind.clone());
    let texts = [
        (TextField::Province, &p.province),
        (TextField::Source, &p.source),
        (TextField::Tier, &p.tier),
        (TextField::Stage, &p.stage),
    ];
    for (field, value) in texts {
        if let Some(v) = value {
            c.set_text(field, v.clone());
        }
    }
    for (k, v) in custom_values(&p.custom_fields) {
        c.set_custom(k, v);
    }
    for t in tags {
        c.add_tag(t.clone());
    }
    c
}

fn model_json(m: &Model) -> String {
    json!({
        "bgnbd": m.bgnbd.map(|p| json!({"r": p.r, "alpha": p.alpha, "a": p.a, "b": p.b})),
        "bgnbd_log_likelihood": m.bgnbd_log_likelihood,
        "gamma_gamma": m.gamma_gamma.map(|p| json!({"p": p.p, "q": p.q, "v": p.v})),
        "tier_floors": m.tier_floors,
        "unit": "week",
    })
    .to_string()
}

fn model_from_json(s: &str) -> Option<Model> {
    let v: Value = serde_json::from_str(s).ok()?;
    let f = |o: &Value, k: &str| o.get(k).and_then(Value::as_f64);
    let bgnbd = v.get("bgnbd").filter(|b| !b.is_null()).and_then(|b| {
        Some(BgNbdParams {
            r: f(b, "r")?,
            alpha: f(b, "alpha")?,
            a: f(b, "a")?,
            b: f(b, "b")?,
        })
    });
    let gamma_gamma = v.get("gamma_gamma").filter(|g| !g.is_null()).and_then(|g| {
        Some(GammaGammaParams {
            p: f(g, "p")?,
            q: f(g, "q")?,
            v: f(g, "v")?,
        })
    });
    let floors = v.get("tier_floors")?.as_array()?;
    let floor = |i: usize| floors.get(i).and_then(Value::as_i64);
    Some(Model {
        bgnbd,
        gamma_gamma,
        bgnbd_log_likelihood: f(&v, "bgnbd_log_likelihood"),
        tier_floors: [floor(0), floor(1), floor(2)],
    })
}

/// `v` as JSON text (these values always serialize).
fn json_text(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The stored row for one customer's outcome.
fn insight_row(
    customer: &st::RunCustomer,
    run_id: &str,
    now: i64,
    o: &CustomerOut,
    prev_rfm: Option<&InsightRow>,
) -> InsightRow {
    // Codes and numbers, rendered when read (see `insight_codec`).
    let classes = o.classes.as_ref();
    let ex = codec::StoredExplanations {
        amount: classes.map(|c| codec::Stored(&c.amount.1)),
        frequency: classes.map(|c| codec::Stored(&c.frequency.1)),
        prediction: o.prediction.as_ref().map(codec::StoredPrediction),
        product_range: classes.map(|c| codec::Stored(&c.product_range.1)),
        stage: codec::Stored(&o.stage.explanation),
        tier: codec::Stored(&o.tier.explanation),
    };
    let signals: Vec<codec::StoredSignal> = o.signals.iter().map(codec::StoredSignal).collect();
    let (r, f, m, seg) = match (&o.rfm, prev_rfm) {
        (Some(s), _) => (
            Some(i64::from(s.r)),
            Some(i64::from(s.f)),
            Some(i64::from(s.m)),
            Some(s.segment.code().to_string()),
        ),
        // Between runs RFM keeps the last full run's scores.
        (None, Some(p)) => (p.r_score, p.f_score, p.m_score, p.rfm_segment.clone()),
        (None, None) => (None, None, None, None),
    };
    let p = o.prediction.as_ref();
    InsightRow {
        customer_id: customer.id.clone(),
        created_at: customer.created_at,
        run_id: run_id.to_string(),
        computed_at: now,
        tier: o.tier.tier.letter().into(),
        tier_since: i64::from(o.tier.since_day),
        stage: o.stage.stage.code().into(),
        stage_since: i64::from(o.stage.since_day),
        frequency_class: o.classes.as_ref().map(|c| c.frequency.0.code().into()),
        amount_class: o.classes.as_ref().map(|c| c.amount.0.code().into()),
        product_range: o.classes.as_ref().map(|c| c.product_range.0.code().into()),
        r_score: r,
        f_score: f,
        m_score: m,
        rfm_segment: seg,
        contribution_12m_fen: o.contribution_12m_fen,
        orders_365d: o.facts.as_ref().map_or(0, |f| i64::from(f.orders_365d)),
        p_alive: p.map(|p| p.p_alive),
        expected_purchases_90d: p.map(|p| p.expected_purchases_90d),
        expected_spend_fen: p.and_then(|p| p.expected_spend_fen),
        clv_fen: p.and_then(|p| p.clv_fen),
        value_at_risk_fen: o.value_at_risk_fen,
        upgrade_tier: o.upgrade.map(|u| u.tier.letter().into()),
        predicted_12m_fen: o.upgrade.map(|u| u.predicted_12m_fen),
        upgrade_threshold_fen: o.upgrade.map(|u| u.threshold_fen),
        facts: facts_view(o).map(|f| json_text(&codec::StoredFacts(&f))),
        explanations: json_text(&ex),
        signals: json_text(&signals),
    }
}

/// What a full run reads: the tenant's customers (sorted by id), its tag
/// rules, and every order grouped by customer, numbered as in `customers`.
async fn load_run(
    c: &mut Conn<'_>,
    tenant_id: &str,
    as_of: &str,
    year_ago: &str,
) -> Result<(Vec<st::RunCustomer>, Vec<st::RuleRow>, OrderLoad)> {
    let customers = st::run_customers(c, tenant_id).await?;
    let rule_rows = st::rules(c, tenant_id).await?;
    let ids: Vec<&str> = customers.iter().map(|c| c.id.as_str()).collect();
    // Orders come grouped by customer id; a cursor into the sorted ids
    // finds each customer's number without a map of a million strings.
    let index = |id: &str, hint: &mut usize| -> Option<u32> {
        // Each group is the next customer with orders: usually the
        // next id, or a few further on.
        if let Some(i) = (*hint..ids.len().min(*hint + 4)).find(|&i| ids[i] == id) {
            *hint = i;
            return Some(i as u32);
        }
        let i = ids.binary_search(&id).ok()?;
        *hint = i;
        Some(i as u32)
    };
    let mut load = OrderLoad::default();
    let mut hint = 0usize;
    st::each_customer_orders(c, tenant_id, None, as_of, |g| {
        if let Some(c) = index(&g.customer_id, &mut hint) {
            load.add(c, &g, year_ago);
        }
        Ok(())
    })
    .await?;
    drop(ids);
    Ok((customers, rule_rows, load))
}

/// A run's orders as the domain takes them, folded from the store's
/// per-customer groups: every order, and one [`CategorySpend`] per category
/// each customer ever bought, with the spend after `year_ago` (`YYYY-MM-DD`,
/// exclusive).
#[derive(Default)]
struct OrderLoad {
    orders: Vec<Order<u32>>,
    categories: Vec<CategorySpend>,
    /// One customer's spend by category; a customer buys from a handful of
    /// categories, so a list beats a map. Reused across customers.
    spend: Vec<(Option<String>, i64)>,
}

impl OrderLoad {
    /// Adds one group of the order stream as customer number `customer`.
    fn add(&mut self, customer: u32, g: &st::CustomerOrders, year_ago: &str) {
        let first = self.orders.len();
        for o in g.orders() {
            let Some(day) = day_of(o.ordered_on) else {
                continue;
            };
            self.orders.push(Order {
                customer_id: customer,
                day,
                amount_fen: o.total_fen,
            });
            let recent = o.ordered_on > year_ago;
            let spend = &mut self.spend;
            o.each_category(|category, amount| {
                let add = if recent { amount } else { 0 };
                match spend.iter_mut().find(|(c, _)| c.as_deref() == category) {
                    Some((_, s)) => *s += add,
                    None => spend.push((category.map(str::to_string), add)),
                }
            });
        }
        // By day within the customer (the log keeps orders in the order
        // they were written), so the order book can take the stream as it is.
        self.orders[first..].sort_unstable_by_key(|o| o.day);
        self.spend.sort();
        self.categories
            .extend(
                self.spend
                    .drain(..)
                    .map(|(category, spend_365d_fen)| CategorySpend {
                        customer,
                        category,
                        spend_365d_fen,
                    }),
            );
    }
}

/// Timeline rows for what changed for one customer, and the counts.
struct Changes {
    rows: Vec<TimelineRow>,
    tier: usize,
    stage: usize,
    tags: usize,
}

impl Changes {
    fn new() -> Self {
        Changes {
            rows: Vec::new(),
            tier: 0,
            stage: 0,
            tags: 0,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        tenant_id: &str,
        customer_id: &str,
        run_id: &str,
        now: i64,
        o: &CustomerOut,
        prev: Option<&st::PreviousRow>,
        old_tags: &HeldTags,
        new_tags: &BTreeMap<String, String>,
    ) {
        let mut push = |kind: &str, detail: Value| {
            self.rows.push(TimelineRow {
                tenant_id: tenant_id.to_string(),
                id: new_id(),
                customer_id: customer_id.to_string(),
                at: now,
                actor_id: None,
                kind: kind.to_string(),
                detail: detail.to_string(),
            });
        };
        let tier = o.tier.tier.letter();
        if prev.is_none_or(|p| p.tier != tier) {
            push(
                "tier_changed",
                json!({"from": prev.map(|p| &p.tier), "to": tier, "run_id": run_id,
                       "explanation": codec::both(|l| o.tier.explanation.render(l))}),
            );
            self.tier += 1;
        }
        let stage = o.stage.stage.code();
        if prev.is_none_or(|p| p.stage != stage) {
            push(
                "stage_changed",
                json!({"from": prev.map(|p| &p.stage), "to": stage, "run_id": run_id,
                       "explanation": codec::both(|l| o.stage.explanation.render(l))}),
            );
            self.stage += 1;
        }
        for (tag, rule_id) in new_tags {
            if !old_tags.contains_key(tag) {
                push(
                    "tag_added",
                    json!({"tag": tag, "rule_id": rule_id, "run_id": run_id,
                    "explanation": codec::both(|l| tag_change(true, tag, l))}),
                );
                self.tags += 1;
            }
        }
        for tag in old_tags.keys() {
            if !new_tags.contains_key(tag) {
                push(
                    "tag_removed",
                    json!({"tag": tag, "run_id": run_id,
                    "explanation": codec::both(|l| tag_change(false, tag, l))}),
                );
                self.tags += 1;
            }
        }
    }
}

/// Enabled rules that parse, in evaluation order (a stored rule always
/// parsed when saved; one that no longer does is skipped, not fatal).
fn compiled(rules: &[st::RuleRow]) -> Vec<TagRule> {
    rules
        .iter()
        .filter(|r| r.enabled != 0)
        .filter_map(|r| {
            Some(TagRule {
                id: r.id.clone(),
                tag: r.tag.clone(),
                expr: parse_rule(&r.rule).ok()?,
            })
        })
        .collect()
}

/// Stored tags of a customer: tag -> (since, rule id).
type HeldTags = BTreeMap<String, (i64, Option<String>)>;

/// A full run's tag changes for one customer, from what it holds to what the
/// run gives it (tag -> rule id): tags it loses go to `removed`; tags it
/// gains, or that another rule now gives (keeping their `since`), to `added`.
/// A tag kept from the same rule is left as it is.
fn diff_tags(
    c: &st::RunCustomer,
    held: &HeldTags,
    new_tags: BTreeMap<String, String>,
    now: i64,
    removed: &mut Vec<(String, String)>,
    added: &mut Vec<TagRow>,
) {
    for tag in held.keys().filter(|t| !new_tags.contains_key(*t)) {
        removed.push((c.id.clone(), tag.clone()));
    }
    for (tag, rule_id) in new_tags {
        let old = held.get(&tag);
        if old.is_some_and(|o| o.1.as_deref() == Some(rule_id.as_str())) {
            continue;
        }
        added.push(TagRow {
            customer_id: c.id.clone(),
            tag,
            rule_id: Some(rule_id),
            since: old.map_or(now, |o| o.0),
            created_at: c.created_at,
        });
    }
}

fn new_tag_map(o: &CustomerOut, rules: &[TagRule]) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for &i in &o.tags {
        m.entry(rules[i].tag.clone())
            .or_insert_with(|| rules[i].id.clone());
    }
    m
}

fn previous_tier(p: Option<&st::PreviousRow>) -> Option<PreviousTier> {
    let p = p?;
    Some(PreviousTier {
        tier: Tier::from_letter(&p.tier)?,
        since_day: p.tier_since as i32,
    })
}

fn previous_stage(p: Option<&st::PreviousRow>) -> Option<PreviousStage> {
    let p = p?;
    Some(PreviousStage {
        stage: Stage::from_code(&p.stage)?,
        since_day: p.stage_since as i32,
    })
}

/// A stored `YYYY-MM-DD` (normalised when written) as a day number.
fn day_of(date: &str) -> Option<i32> {
    parse_ymd(date).map(|d| d.to_julian_day())
}

fn signal_views(json_text: &str, l: Locale) -> Vec<SignalView> {
    serde_json::from_str::<Vec<Value>>(json_text)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| codec::signal_text(s, l))
        .map(|(code, text)| SignalView { code, text })
        .collect()
}

fn rule_view(r: &st::RuleRow) -> RuleView {
    RuleView {
        id: r.id.clone(),
        name: r.name.clone(),
        tag: r.tag.clone(),
        rule: r.rule.clone(),
        description: r.description.clone(),
        enabled: r.enabled != 0,
        matches: r.matches,
        version: r.version,
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
    }
}

fn run_view(r: &RunRow) -> RunView {
    RunView {
        id: r.id.clone(),
        cause: r.cause.clone(),
        status: r.status.clone(),
        as_of: r.as_of.clone(),
        started_at: rfc3339(r.started_at),
        finished_at: r.finished_at.map(rfc3339),
        customers: r.customers,
        tier_changes: r.tier_changes,
        stage_changes: r.stage_changes,
        tag_changes: r.tag_changes,
        error: r.error.clone(),
    }
}

/// Checks a rule's name, tag and text; the parse error names the column.
fn check_rule(name: &str, tag: &str, rule: &str, locale: Locale) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::default();
    for (f, v, max) in [("name", name, 100), ("tag", tag, 50)] {
        let n = v.trim().chars().count();
        if n == 0 {
            e.push(FieldError::new(f, "text.required"));
        } else if n > max {
            e.push(FieldError::new(f, "text.too_long").with("max", max));
        }
    }
    if rule.trim().is_empty() {
        e.push(FieldError::new("rule", "text.required"));
    } else if rule.chars().count() > 2000 {
        e.push(FieldError::new("rule", "text.too_long").with("max", 2000));
    } else if let Err(p) = parse_rule(rule) {
        e.push(
            FieldError::new("rule", "rule.syntax")
                .with("column", p.column as i64)
                .with("message", p.render(locale)),
        );
    }
    e.into_result()
}

// ---------------------------------------------------------------- use cases

impl App {
    async fn settings_of(&self, tenant_id: &str) -> Result<(InsightSettings, i64)> {
        let mut r = self.store.reader().await?;
        match st::settings(&mut r.conn(), tenant_id).await? {
            Some(row) => {
                let s: InsightSettings = serde_json::from_str(&row.config)
                    .map_err(|e| AppError::Internal(format!("insight settings: {e}")))?;
                Ok((s, row.version))
            }
            None => Ok((InsightSettings::default(), 0)),
        }
    }

    pub async fn insight_settings(&self, actor: &Actor) -> Result<InsightSettingsView> {
        actor.require(Permission::CustomerRead)?;
        let (settings, version) = self.settings_of(&actor.tenant_id).await?;
        Ok(InsightSettingsView::new(version, settings))
    }

    pub async fn put_insight_settings(
        &self,
        actor: &Actor,
        body: &InsightSettings,
        version: i64,
    ) -> Result<InsightSettingsView> {
        actor.require(Permission::SettingsAdmin)?;
        body.validate()?;
        let (old, _) = self.settings_of(&actor.tenant_id).await?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let config = serde_json::to_string(body).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        let v = st::put_settings(&mut tx, &actor.tenant_id, &config, version, self.now()).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "insight.settings",
                object_type: "insight_settings",
                object_id: None,
                detail: json!({"from": old, "to": body}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(InsightSettingsView::new(v, body.clone()))
    }

    /// Classifies every customer of a tenant now and stores the outcome
    /// with its change history (what `kehu classify --now`, the nightly
    /// job and "run now" do).
    pub async fn run_classification(&self, tenant_id: &str, cause: &str) -> Result<RunSummary> {
        let started = std::time::Instant::now();
        let now = self.now();
        let today_date = today(now);
        let today_day = today_date.to_julian_day();
        let as_of = format_date(today_date);
        let year_ago = format_date(today_date - time::Duration::days(365));
        let (settings, _) = self.settings_of(tenant_id).await?;
        let cfg = settings.config();
        let run_id = new_id();
        let mut run = RunRow::running(tenant_id, &run_id, cause, now, &as_of);
        let mut tx = self.store.begin().await?;
        // A process that died mid-run left its run "running"; no live run is
        // older than the job lease, so those are closed here.
        st::fail_stale_runs(&mut tx, tenant_id, now - JOB_LEASE_MS, now, RUN_INTERRUPTED).await?;
        st::start_run(&mut tx, &run).await?;
        tx.commit().await?;
        let (tenant, id) = (tenant_id.to_string(), run_id.clone());
        let _alive = self.heartbeat("classification run", move |store, now| {
            let (tenant, id) = (tenant.clone(), id.clone());
            async move {
                let mut tx = store.begin().await?;
                st::touch_run(&mut tx, &tenant, &id, now).await?;
                tx.commit().await?;
                Ok(true)
            }
        });
        let result = self
            .classify_all(
                tenant_id, &run_id, now, today_day, &as_of, &year_ago, &cfg, started,
            )
            .await;
        match result {
            Ok(summary) => Ok(summary),
            Err(e) => {
                run.status = "failed".into();
                run.finished_at = Some(self.now());
                run.error = Some(e.to_string());
                let mut tx = self.store.begin().await?;
                st::finish_run(&mut tx, &run).await?;
                tx.commit().await?;
                Err(e)
            }
        }
    }

    /// Classifies and writes one chunk of a full run (`chunk` are the run's
    /// customers from number `first`, `inputs` theirs) in a transaction of
    /// its own, against what the chunk's customers hold now: their stored
    /// rows (read under this transaction; another write may have come since
    /// the run loaded) decide minimum stays and are what the change history
    /// diffs against. Returns how many stored rows it found and how many
    /// customers it had.
    async fn write_run_chunk(
        &self,
        w: &RunWrite<'_>,
        first: usize,
        chunk: &[st::RunCustomer],
        inputs: &mut [CustomerIn],
        cache: &mut PredictionCache,
        tally: &mut RunTally,
    ) -> Result<(usize, usize)> {
        let mut tx = self.store.begin_alone().await?;
        let ids: Vec<&str> = chunk.iter().map(|c| c.id.as_str()).collect();
        let stored = st::stored_for_run(&mut tx, w.tenant_id, &ids).await?;
        let previous: Vec<Option<st::PreviousRow>> = chunk
            .iter()
            .map(|c| stored.get(&c.id).map(st::StoredInsight::previous))
            .collect();
        let t_chunk = std::time::Instant::now();
        let outs: Vec<CustomerOut> = inputs
            .iter_mut()
            .zip(&previous)
            .enumerate()
            .map(|(j, (input, p))| {
                input.prev_tier = previous_tier(p.as_ref());
                input.prev_stage = previous_stage(p.as_ref());
                w.run.customer(first + j, input, w.rules, w.cfg, cache)
            })
            .collect();
        tally.finishing += t_chunk.elapsed();
        let deleted = st::deleted_since(&mut tx, w.tenant_id, w.deleted_since).await?;
        let mut held: HashMap<String, HeldTags> = HashMap::new();
        for t in st::tags_of(&mut tx, w.tenant_id, &ids).await? {
            held.entry(t.customer_id)
                .or_default()
                .insert(t.tag, (t.since, t.rule_id));
        }
        let mut changes = Changes::new();
        let mut rows = Vec::with_capacity(chunk.len());
        let (mut removed, mut added) = (Vec::new(), Vec::new());
        let no_tags = BTreeMap::new();
        for ((c, o), previous) in chunk.iter().zip(&outs).zip(&previous) {
            if deleted.contains(&c.id) {
                // Deleted since the run loaded it: nothing is written.
                continue;
            }
            for &i in &o.tags {
                *tally.rule_counts.entry(w.rules[i].id.clone()).or_default() += 1;
            }
            if stored.get(&c.id).is_some_and(|s| s.computed_at > w.now) {
                // Re-classified after an order while the run computed (that
                // result saw the order; this one did not). The run's tags
                // for it still count towards rule matches.
                continue;
            }
            let new_tags = new_tag_map(o, w.rules);
            let held = held.get(&c.id).unwrap_or(&no_tags);
            changes.record(
                w.tenant_id,
                &c.id,
                w.run_id,
                w.now,
                o,
                previous.as_ref(),
                held,
                &new_tags,
            );
            diff_tags(c, held, new_tags, w.now, &mut removed, &mut added);
            rows.push(insight_row(c, w.run_id, w.now, o, None));
        }
        tally.tier += changes.tier;
        tally.stage += changes.stage;
        tally.tags += changes.tags;
        st::write_run_rows(&mut tx, w.tenant_id, rows, &stored, w.now).await?;
        st::retag(&mut tx, w.tenant_id, &removed, added).await?;
        st::insert_timeline_rows(&mut tx, changes.rows).await?;
        tx.commit().await?;
        Ok((stored.len(), ids.len()))
    }

    #[allow(clippy::too_many_arguments)]
    async fn classify_all(
        &self,
        tenant_id: &str,
        run_id: &str,
        now: i64,
        today_day: i32,
        as_of: &str,
        year_ago: &str,
        cfg: &InsightConfig,
        started: std::time::Instant,
    ) -> Result<RunSummary> {
        let keys = self.tenant_keys(tenant_id).await?;
        // Seconds of reading at a million customers: on SQLite through a
        // connection of the synchronous path (no hop to sqlx's worker thread
        // for every row), off the async workers.
        let mut reader = self.store.fast_reader().await?;
        let (customers, rule_rows, load) = self
            .store
            .off_workers(load_run(&mut reader.read(), tenant_id, as_of, year_ago))
            .await?;
        drop(reader);
        let OrderLoad {
            orders, categories, ..
        } = load;
        let inputs: Vec<CustomerIn> = customers
            .iter()
            .map(|c| CustomerIn {
                kind: c.kind.clone(),
                province: c.province.clone(),
                source: c.source.clone(),
                custom: custom_values(&c.custom_fields),
                // Set from the stored rows when the customer's chunk is written.
                prev_tier: None,
                prev_stage: None,
            })
            .collect();
        let rules = compiled(&rule_rows);
        let load_ms = started.elapsed().as_millis();
        let t_compute = std::time::Instant::now();
        let order_count = orders.len();
        // Seconds of CPU at a million customers: off the async workers, so
        // the server keeps answering requests during the nightly run.
        let cfg_owned = cfg.clone();
        let (run, mut inputs, rules) = tokio::task::spawn_blocking(move || {
            let run = TenantRun::new(
                &TenantIn {
                    customers: &inputs,
                    orders: &orders,
                    categories: &categories,
                    rules: &rules,
                },
                &cfg_owned,
                today_day,
            );
            (run, inputs, rules)
        })
        .await
        .map_err(|e| AppError::Internal(format!("classification task: {e}")))?;
        // Each chunk's outcomes are built just before they are written (see
        // `TenantRun`); that time counts as computing, not writing. It is a
        // millisecond or two a chunk, so it stays on this task.
        let prepare = t_compute.elapsed();
        let t_write = std::time::Instant::now();
        let mut tally = RunTally {
            rule_counts: rule_rows.iter().map(|r| (r.id.clone(), 0)).collect(),
            ..RunTally::default()
        };
        let mut cache = PredictionCache::default();
        let w = RunWrite {
            tenant_id,
            run_id,
            now,
            deleted_since: now - DELETE_MARGIN_MS,
            run: &run,
            rules: &rules,
            cfg,
        };
        // Each chunk of customers is replaced in a short transaction of its
        // own: one transaction for a whole tenant held SQLite's write lock
        // for the whole write (106 s at a million customers), and every
        // request write behind it gave up. Readers meanwhile see each
        // customer either as before or as after the run, never half of one.
        for (k, chunk) in customers.chunks(RUN_CHUNK).enumerate() {
            let first = k * RUN_CHUNK;
            // The chunk's statements run on this thread on SQLite: through
            // sqlx's worker thread (a message there and back per statement)
            // the write phase took a quarter longer at 200,000 customers.
            let inputs = &mut inputs[first..first + chunk.len()];
            let (stored_rows, chunk_rows) = self
                .store
                .off_workers(self.write_run_chunk(&w, first, chunk, inputs, &mut cache, &mut tally))
                .await?;
            // A tenant's first run fills tables PostgreSQL's planner last saw
            // (nearly) empty, and with those statistics each chunk's read of
            // its stored rows became a scan of all rows written so far
            // (minutes at 200 k customers). So while the run mostly inserts,
            // statistics are refreshed whenever the chunks written double.
            if stored_rows * 2 < chunk_rows
                && k > 0
                && (k + 1).is_power_of_two()
                && let Err(e) = st::refresh_statistics(&self.store).await
            {
                tracing::warn!(error = %e, "statistics during a classification run");
            }
        }
        let summary = RunSummary {
            run_id: run_id.to_string(),
            customers: customers.len(),
            orders: order_count,
            tier_changes: tally.tier,
            stage_changes: tally.stage,
            tag_changes: tally.tags,
            load_ms,
            compute_ms: (prepare + tally.finishing).as_millis(),
            write_ms: 0,
            total_ms: 0,
        };
        let counts: Vec<(String, i64)> = tally.rule_counts.into_iter().collect();
        let mut tx = self.store.begin_bulk().await?;
        st::clear_deleted(&mut tx, tenant_id, w.deleted_since).await?;
        st::set_rule_matches(&mut tx, tenant_id, &counts).await?;
        let run = RunRow {
            status: "done".into(),
            finished_at: Some(self.now()),
            customers: Some(summary.customers as i64),
            tier_changes: Some(summary.tier_changes as i64),
            stage_changes: Some(summary.stage_changes as i64),
            tag_changes: Some(summary.tag_changes as i64),
            model: Some(model_json(&run.model)),
            ..RunRow::running(tenant_id, run_id, "", now, as_of)
        };
        st::finish_run(&mut tx, &run).await?;
        self.audit(
            &mut tx,
            &keys,
            tenant_id,
            None,
            AuditEvent {
                action: "insight.run",
                object_type: "insight_run",
                object_id: Some(run_id),
                detail: json!({"customers": summary.customers, "tier_changes": summary.tier_changes,
                               "stage_changes": summary.stage_changes, "tag_changes": summary.tag_changes}),
            },
        )
        .await?;
        tx.commit().await?;
        // The run is done and committed; fresher statistics are a bonus, so
        // failing to gather them (a lock or statement timeout) is logged,
        // never reported as a failed run.
        if let Err(e) = st::refresh_statistics(&self.store).await {
            tracing::warn!(error = %e, "statistics after a classification run");
        }
        let write_ms = t_write
            .elapsed()
            .saturating_sub(tally.finishing)
            .as_millis();
        Ok(RunSummary {
            write_ms,
            total_ms: started.elapsed().as_millis(),
            ..summary
        })
    }

    /// Re-evaluates one customer with the last full run's model (after an
    /// order). Without a full run yet, there is nothing to be consistent
    /// with: the next full run classifies the customer.
    pub async fn classify_customer(&self, tenant_id: &str, customer_id: &str) -> Result<bool> {
        let now = self.now();
        let today_date = today(now);
        let as_of = format_date(today_date);
        let year_ago = format_date(today_date - time::Duration::days(365));
        let mut r = self.store.reader().await?;
        let Some((run_id, model)) = st::last_model(&mut r.conn(), tenant_id).await? else {
            return Ok(false);
        };
        let model = model_from_json(&model)
            .ok_or_else(|| AppError::Internal("stored insight model unreadable".into()))?;
        let Some(c) = st::run_customer(&mut r.conn(), tenant_id, customer_id).await? else {
            return Ok(false);
        };
        let prev_row = st::insight(&mut r.conn(), tenant_id, customer_id).await?;
        let prev_owned = prev_row.as_ref().map(st::PreviousRow::from);
        let prev = prev_owned.as_ref();
        let old_tags = st::tags(&mut r.conn(), tenant_id, Some(customer_id)).await?;
        let rule_rows = st::rules(&mut r.conn(), tenant_id).await?;
        let mut load = OrderLoad::default();
        st::each_customer_orders(&mut r.conn(), tenant_id, Some(customer_id), &as_of, |g| {
            load.add(0, &g, &year_ago);
            Ok(())
        })
        .await?;
        let OrderLoad {
            orders,
            categories: cats,
            ..
        } = load;
        drop(r);
        let (settings, _) = self.settings_of(tenant_id).await?;
        let cfg = settings.config();
        let rules = compiled(&rule_rows);
        let input = CustomerIn {
            kind: c.kind.clone(),
            province: c.province.clone(),
            source: c.source.clone(),
            custom: custom_values(&c.custom_fields),
            prev_tier: previous_tier(prev),
            prev_stage: previous_stage(prev),
        };
        let o = classify_one(
            &input,
            &orders,
            &cats,
            &rules,
            &model,
            &cfg,
            today_date.to_julian_day(),
        );
        let held: HeldTags = old_tags
            .into_iter()
            .map(|t| (t.tag, (t.since, t.rule_id)))
            .collect();
        let new_tags = new_tag_map(&o, &rules);
        let mut changes = Changes::new();
        changes.record(
            tenant_id,
            customer_id,
            &run_id,
            now,
            &o,
            prev,
            &held,
            &new_tags,
        );
        let tag_rows = new_tags
            .into_iter()
            .map(|(tag, rule_id)| {
                let since = held.get(&tag).map_or(now, |h| h.0);
                TagRow {
                    customer_id: customer_id.to_string(),
                    tag,
                    rule_id: Some(rule_id),
                    since,
                    created_at: c.created_at,
                }
            })
            .collect();
        let row = insight_row(&c, &run_id, now, &o, prev_row.as_ref());
        let mut tx = self.store.begin().await?;
        st::replace_one(&mut tx, tenant_id, row).await?;
        st::replace_tags(&mut tx, tenant_id, Some(customer_id), tag_rows).await?;
        st::insert_timeline_rows(&mut tx, changes.rows).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A customer's classification, explained in the caller's language.
    pub async fn customer_insight(&self, actor: &Actor, customer_id: &str) -> Result<InsightView> {
        actor.require(Permission::CustomerRead)?;
        let mut r = self.store.reader().await?;
        kehu_store::customers::customer(&mut r.conn(), &actor.viewer(), customer_id, Access::Read)
            .await?
            .ok_or(AppError::NotFound)?;
        let row = st::insight(&mut r.conn(), &actor.tenant_id, customer_id).await?;
        let tags = st::tags(&mut r.conn(), &actor.tenant_id, Some(customer_id)).await?;
        let history = st::history(&mut r.conn(), &actor.tenant_id, customer_id, 100).await?;
        drop(r);
        let l = locale_of(actor);
        let history = history
            .iter()
            .map(|h| {
                let d: Value = serde_json::from_str(&h.detail).unwrap_or(Value::Null);
                let (from, to) = if h.kind.starts_with("tag_") {
                    let t = d.get("tag").and_then(Value::as_str).map(str::to_string);
                    if h.kind == "tag_added" {
                        (None, t)
                    } else {
                        (t, None)
                    }
                } else {
                    (
                        d.get("from").and_then(Value::as_str).map(str::to_string),
                        d.get("to").and_then(Value::as_str).map(str::to_string),
                    )
                };
                HistoryView {
                    at: rfc3339(h.at),
                    kind: h.kind.clone(),
                    from,
                    to,
                    explanation: d
                        .get("explanation")
                        .and_then(|e| codec::rendered(e, l))
                        .unwrap_or_default(),
                }
            })
            .collect();
        let tags = tags
            .into_iter()
            .map(|t| TagView {
                tag: t.tag,
                rule_id: t.rule_id,
                since: rfc3339(t.since),
            })
            .collect();
        let Some(row) = row else {
            return Ok(InsightView {
                customer_id: customer_id.to_string(),
                computed_at: None,
                run_id: None,
                tier: None,
                stage: None,
                frequency: None,
                amount: None,
                product_range: None,
                rfm: None,
                facts: None,
                prediction: None,
                upgrade: None,
                value_at_risk_fen: None,
                cost_benefit: None,
                signals: Vec::new(),
                tags,
                history,
            });
        };
        let ex: Value = serde_json::from_str(&row.explanations).unwrap_or(Value::Null);
        let why = |k: &str| codec::render(ex.get(k), l);
        let class = |k: &str, code: &Option<String>, name: Option<&str>| {
            code.as_ref().map(|c| Assigned {
                value: c.clone(),
                name: name.unwrap_or(c).to_string(),
                since: None,
                explanation: why(k),
            })
        };
        let rfm = match (row.r_score, row.f_score, row.m_score, &row.rfm_segment) {
            (Some(r), Some(f), Some(m), Some(seg)) => Some(RfmView {
                r,
                f,
                m,
                segment: seg.clone(),
                segment_name: RfmSegment::from_code(seg)
                    .map_or(seg.clone(), |s| s.name(l).to_string()),
            }),
            _ => None,
        };
        let prediction = row.p_alive.map(|p| PredictionView {
            p_alive: p,
            expected_purchases_90d: row.expected_purchases_90d.unwrap_or(0.0),
            expected_spend_fen: row.expected_spend_fen.map(|v| v.round() as i64),
            clv_fen: row.clv_fen.map(|v| v.round() as i64),
            explanation: codec::render_prediction(
                ex.get("prediction"),
                p,
                row.expected_purchases_90d.unwrap_or(0.0),
                l,
            ),
        });
        let upgrade = match (
            &row.upgrade_tier,
            row.predicted_12m_fen,
            row.upgrade_threshold_fen,
        ) {
            (Some(t), Some(p), Some(th)) => Some(UpgradeView {
                tier: t.clone(),
                predicted_12m_fen: p,
                threshold_fen: th,
            }),
            _ => None,
        };
        let cost_benefit = match Tier::from_letter(&row.tier) {
            Some(t) => {
                let (settings, _) = self.settings_of(&actor.tenant_id).await?;
                let mut cb = CostBenefit::default();
                add_cost_benefit(
                    &mut cb,
                    t,
                    row.contribution_12m_fen,
                    u32::try_from(row.orders_365d).unwrap_or(u32::MAX),
                    &settings.config().costs,
                );
                Some(CustomerCostView {
                    contribution_12m_fen: cb.contribution_fen,
                    cost_to_serve_fen: cb.cost_fen,
                    net_fen: cb.net_fen(),
                })
            }
            None => None,
        };
        Ok(InsightView {
            customer_id: customer_id.to_string(),
            computed_at: Some(rfc3339(row.computed_at)),
            run_id: Some(row.run_id.clone()),
            tier: Some(Assigned {
                value: row.tier.clone(),
                name: Tier::from_letter(&row.tier).map_or(row.tier.clone(), |t| t.name(l)),
                since: Some(date_of(row.tier_since)),
                explanation: why("tier"),
            }),
            stage: Some(Assigned {
                value: row.stage.clone(),
                name: Stage::from_code(&row.stage)
                    .map_or(row.stage.clone(), |s| s.name(l).to_string()),
                since: Some(date_of(row.stage_since)),
                explanation: why("stage"),
            }),
            frequency: class(
                "frequency",
                &row.frequency_class,
                row.frequency_class
                    .as_deref()
                    .and_then(FrequencyClass::from_code)
                    .map(|c| c.name(l)),
            ),
            amount: class(
                "amount",
                &row.amount_class,
                row.amount_class
                    .as_deref()
                    .and_then(AmountClass::from_code)
                    .map(|c| c.name(l)),
            ),
            product_range: class(
                "product_range",
                &row.product_range,
                row.product_range
                    .as_deref()
                    .and_then(ProductRange::from_code)
                    .map(|c| c.name(l)),
            ),
            rfm,
            facts: row.facts.as_deref().and_then(codec::decode_facts),
            prediction,
            upgrade,
            value_at_risk_fen: row.value_at_risk_fen,
            cost_benefit,
            signals: signal_views(&row.signals, l),
            tags,
            history,
        })
    }

    async fn ranked_page(
        &self,
        actor: &Actor,
        ranking: Ranking,
        owner_id: Option<&str>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<(Vec<st::ListRow>, Option<String>)> {
        actor.require(Permission::CustomerRead)?;
        let limit = page_limit(limit)?;
        let after = cursor
            .map(|c| {
                let a = decode_token(c, 2)?;
                let bad = || FieldError::new("cursor", "cursor.invalid");
                Ok::<_, FieldError>((
                    a[0].as_i64().ok_or_else(bad)?,
                    a[1].as_str().ok_or_else(bad)?.to_string(),
                ))
            })
            .transpose()?;
        let mut r = self.store.reader().await?;
        let mut rows = st::ranked(
            &mut r.conn(),
            &actor.viewer(),
            ranking,
            owner_id,
            after.as_ref().map(|(v, id)| (*v, id.as_str())),
            limit + 1,
        )
        .await?;
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| {
                let v = match ranking {
                    Ranking::AtRisk => r.value_at_risk_fen,
                    Ranking::Upgrade => r.predicted_12m_fen,
                };
                encode_token(json!([v.unwrap_or(0), r.customer_id]))
            })
        } else {
            None
        };
        Ok((rows, next))
    }

    /// Customers in scope with at-risk signals, by value at risk.
    pub async fn at_risk(
        &self,
        actor: &Actor,
        owner_id: Option<&str>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<AtRiskPage> {
        let (rows, next_cursor) = self
            .ranked_page(actor, Ranking::AtRisk, owner_id, cursor, limit)
            .await?;
        let l = locale_of(actor);
        let show_name = actor.field("name") != FieldAccess::Hidden;
        let items = rows
            .into_iter()
            .map(|r| {
                let f: Option<FactsView> = r.facts.as_deref().and_then(codec::decode_facts);
                AtRiskItem {
                    customer_id: r.customer_id,
                    code: r.code,
                    name: show_name.then_some(r.name),
                    owner_id: r.owner_id,
                    tier: r.tier,
                    stage: r.stage,
                    p_alive: r.p_alive,
                    days_since_last_purchase: f.as_ref().map(|f| f.days_since_last_purchase),
                    typical_interval_days: f.as_ref().and_then(|f| f.typical_interval_days),
                    clv_fen: r.clv_fen.map(|v| v.round() as i64),
                    value_at_risk_fen: r.value_at_risk_fen.unwrap_or(0),
                    signals: signal_views(&r.signals, l),
                }
            })
            .collect();
        Ok(AtRiskPage { items, next_cursor })
    }

    /// Customers in scope likely to move up a tier, by predicted value.
    pub async fn upgrades(
        &self,
        actor: &Actor,
        owner_id: Option<&str>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<UpgradePage> {
        let (rows, next_cursor) = self
            .ranked_page(actor, Ranking::Upgrade, owner_id, cursor, limit)
            .await?;
        let show_name = actor.field("name") != FieldAccess::Hidden;
        let items = rows
            .into_iter()
            .map(|r| UpgradeItem {
                customer_id: r.customer_id,
                code: r.code,
                name: show_name.then_some(r.name),
                owner_id: r.owner_id,
                tier: r.tier,
                upgrade_tier: r.upgrade_tier.unwrap_or_default(),
                contribution_12m_fen: r.contribution_12m_fen,
                predicted_12m_fen: r.predicted_12m_fen.unwrap_or(0),
                threshold_fen: r.upgrade_threshold_fen.unwrap_or(0),
            })
            .collect();
        Ok(UpgradePage { items, next_cursor })
    }

    /// Contribution vs cost to serve per tier, over the caller's scope.
    pub async fn cost_benefit(&self, actor: &Actor) -> Result<CostBenefitView> {
        actor.require(Permission::CustomerRead)?;
        let (settings, _) = self.settings_of(&actor.tenant_id).await?;
        let costs = settings.config().costs;
        let mut r = self.store.reader().await?;
        let totals = st::tier_totals(&mut r.conn(), &actor.viewer()).await?;
        let unclassified = st::unclassified(&mut r.conn(), &actor.viewer()).await?;
        let mut tiers = Vec::new();
        let mut all = CostBenefit::default();
        for t in Tier::ALL {
            let row = totals.iter().find(|x| x.tier == t.letter());
            let cb = row.map_or(CostBenefit::default(), |x| CostBenefit {
                customers: x.customers as u64,
                contribution_fen: x.contribution_fen,
                cost_fen: cost_to_serve_fen(t, x.customers as u64, x.orders_365d as u64, &costs),
            });
            let n = cb.customers as i64;
            tiers.push(CostBenefitRow {
                tier: t.letter().into(),
                customers: n,
                contribution_fen: cb.contribution_fen,
                cost_fen: cb.cost_fen,
                net_fen: cb.net_fen(),
                contribution_per_customer_fen: if n > 0 { cb.contribution_fen / n } else { 0 },
                cost_per_customer_fen: if n > 0 { cb.cost_fen / n } else { 0 },
            });
            all.customers += cb.customers;
            all.contribution_fen += cb.contribution_fen;
            all.cost_fen += cb.cost_fen;
        }
        Ok(CostBenefitView {
            tiers,
            total: CostBenefitTotal {
                customers: all.customers as i64,
                contribution_fen: all.contribution_fen,
                cost_fen: all.cost_fen,
                net_fen: all.net_fen(),
            },
            unclassified,
        })
    }

    pub async fn list_rules(&self, actor: &Actor) -> Result<RuleList> {
        actor.require(Permission::CustomerRead)?;
        let mut r = self.store.reader().await?;
        let rows = st::rules(&mut r.conn(), &actor.tenant_id).await?;
        Ok(RuleList {
            items: rows.iter().map(rule_view).collect(),
        })
    }

    pub async fn get_rule(&self, actor: &Actor, id: &str) -> Result<RuleView> {
        actor.require(Permission::CustomerRead)?;
        let mut r = self.store.reader().await?;
        let row = st::rule(&mut r.conn(), &actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(rule_view(&row))
    }

    pub async fn create_rule(&self, actor: &Actor, body: &RuleBody) -> Result<RuleView> {
        actor.require(Permission::SettingsAdmin)?;
        check_rule(&body.name, &body.tag, &body.rule, locale_of(actor))?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let now = self.now();
        let row = st::RuleRow {
            tenant_id: actor.tenant_id.clone(),
            id: new_id(),
            name: body.name.trim().to_string(),
            tag: body.tag.trim().to_string(),
            rule: body.rule.clone(),
            description: body.description.clone().filter(|d| !d.trim().is_empty()),
            enabled: i64::from(body.enabled.unwrap_or(true)),
            position: 0,
            matches: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        st::insert_rule(&mut tx, &row).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "rule.create",
                object_type: "tag_rule",
                object_id: Some(&row.id),
                detail: json!({"name": row.name, "tag": row.tag, "rule": row.rule, "enabled": row.enabled != 0}),
            },
        )
        .await?;
        let stored = st::rule(&mut tx.conn(), &actor.tenant_id, &row.id)
            .await?
            .ok_or(AppError::NotFound)?;
        tx.commit().await?;
        Ok(rule_view(&stored))
    }

    pub async fn patch_rule(
        &self,
        actor: &Actor,
        id: &str,
        patch: &RulePatch,
        version: i64,
    ) -> Result<RuleView> {
        actor.require(Permission::SettingsAdmin)?;
        let mut r = self.store.reader().await?;
        let old = st::rule(&mut r.conn(), &actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        drop(r);
        let mut row = old.clone();
        if let Some(n) = &patch.name {
            row.name = n.trim().to_string();
        }
        if let Some(t) = &patch.tag {
            row.tag = t.trim().to_string();
        }
        if let Some(x) = &patch.rule {
            row.rule = x.clone();
        }
        if let Some(d) = &patch.description {
            row.description = Some(d.clone()).filter(|d| !d.trim().is_empty());
        }
        if let Some(e) = patch.enabled {
            row.enabled = i64::from(e);
        }
        check_rule(&row.name, &row.tag, &row.rule, locale_of(actor))?;
        row.version = version;
        row.updated_at = self.now();
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        st::update_rule(&mut tx, &row).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "rule.update",
                object_type: "tag_rule",
                object_id: Some(id),
                detail: json!({"from": {"name": old.name, "tag": old.tag, "rule": old.rule, "enabled": old.enabled != 0},
                               "to": {"name": row.name, "tag": row.tag, "rule": row.rule, "enabled": row.enabled != 0}}),
            },
        )
        .await?;
        let stored = st::rule(&mut tx.conn(), &actor.tenant_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        tx.commit().await?;
        Ok(rule_view(&stored))
    }

    pub async fn delete_rule(&self, actor: &Actor, id: &str, version: i64) -> Result<()> {
        actor.require(Permission::SettingsAdmin)?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        st::delete_rule(&mut tx, &actor.tenant_id, id, version).await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "rule.delete",
                object_type: "tag_rule",
                object_id: Some(id),
                detail: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many customers in scope a rule matches now (on the facts of the
    /// last classification), with a sample.
    pub async fn preview_rule(&self, actor: &Actor, rule: &str) -> Result<PreviewView> {
        actor.require(Permission::CustomerRead)?;
        let l = locale_of(actor);
        if rule.chars().count() > 2000 {
            return Err(FieldError::new("rule", "text.too_long")
                .with("max", 2000)
                .into());
        }
        let expr: Expr = parse_rule(rule).map_err(|p| {
            FieldError::new("rule", "rule.syntax")
                .with("column", p.column as i64)
                .with("message", p.render(l))
        })?;
        let show_name = actor.field("name") != FieldAccess::Hidden;
        let mut r = self.store.reader().await?;
        let tags = st::tags(&mut r.conn(), &actor.tenant_id, None).await?;
        let mut by_customer: HashMap<String, Vec<String>> = HashMap::new();
        for t in tags {
            by_customer.entry(t.customer_id).or_default().push(t.tag);
        }
        let mut matches = 0i64;
        let mut total = 0i64;
        let mut sample = Vec::new();
        let none = Vec::new();
        st::each_preview(&mut r.conn(), &actor.viewer(), |p| {
            total += 1;
            let facts: Option<FactsView> = p.facts.as_deref().and_then(codec::decode_facts);
            let ctx = context_from(&p, facts.as_ref(), by_customer.get(&p.id).unwrap_or(&none));
            if expr.eval(&ctx) {
                matches += 1;
                if sample.len() < 20 {
                    sample.push(PreviewCustomer {
                        customer_id: p.id,
                        code: p.code,
                        name: show_name.then_some(p.name),
                    });
                }
            }
            Ok(())
        })
        .await?;
        Ok(PreviewView {
            matches,
            total,
            sample,
        })
    }

    pub async fn list_runs(&self, actor: &Actor) -> Result<RunList> {
        actor.require(Permission::CustomerRead)?;
        let mut r = self.store.reader().await?;
        let rows = st::runs(&mut r.conn(), &actor.tenant_id, 50).await?;
        Ok(RunList {
            items: rows.iter().map(run_view).collect(),
        })
    }

    /// Queues a full run now ("run now").
    pub async fn queue_run(&self, actor: &Actor) -> Result<QueuedJob> {
        actor.require(Permission::SettingsAdmin)?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let id = new_id();
        let now = self.now();
        // A run under way covers this request (one run of a tenant at a
        // time); saying so beats a queued job that would be skipped.
        let mut r = self.store.reader().await?;
        let busy = st::live_run(&mut r.conn(), &actor.tenant_id, now - JOB_LEASE_MS).await?;
        drop(r);
        if busy {
            return Err(AppError::Conflict(FieldError::new("", RUN_RUNNING)));
        }
        let mut tx = self.store.begin().await?;
        jobs::enqueue(
            &mut tx,
            &NewJob {
                tenant_id: &actor.tenant_id,
                id: &id,
                kind: JOB_TENANT,
                dedupe_key: &format!("manual:{id}"),
                payload: &json!({"cause": "manual"}).to_string(),
                run_after: now,
                now,
            },
            OnDuplicate::Keep,
        )
        .await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "insight.queue_run",
                object_type: "job",
                object_id: Some(&id),
                detail: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(QueuedJob { job_id: id })
    }

    /// Enqueues each tenant's scheduled run for the latest schedule slot at
    /// or before now (idempotent: the slot is the job's key). A slot missed
    /// while no process ran is caught up once.
    pub async fn enqueue_scheduled(&self) -> Result<usize> {
        let now = self.now();
        let mut r = self.store.reader().await?;
        let tenants = kehu_store::org::list_tenants(&mut r.conn()).await?;
        drop(r);
        // Walks every finished job (no index on finished_at): off the
        // runtime threads.
        let mut tx = self.store.begin_bulk().await?;
        jobs::purge_finished(&mut tx, now - 30 * 24 * 3600 * 1000).await?;
        tx.commit().await?;
        let mut queued = 0;
        for t in tenants {
            let (settings, _) = self.settings_of(&t.tenant_id).await?;
            let Some(cron) = parse_cron(&settings.schedule.cron) else {
                continue;
            };
            let Some(slot) = previous_slot(&cron, now) else {
                continue;
            };
            let key = format!("schedule:{}", rfc3339(slot));
            let mut tx = self.store.begin().await?;
            let inserted = jobs::enqueue(
                &mut tx,
                &NewJob {
                    tenant_id: &t.tenant_id,
                    id: &new_id(),
                    kind: JOB_TENANT,
                    dedupe_key: &key,
                    payload: &json!({"cause": "schedule"}).to_string(),
                    run_after: now,
                    now,
                },
                OnDuplicate::Keep,
            )
            .await?;
            tx.commit().await?;
            queued += usize::from(inserted);
        }
        Ok(queued)
    }

    /// Claims and runs one due job (of `tenant` only, when given); `false`
    /// when none was due.
    pub async fn work_one(&self, worker: &str, tenant: Option<&str>) -> Result<bool> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let job = jobs::claim(&mut tx, worker, now, now + JOB_LEASE_MS, tenant).await?;
        tx.commit().await?;
        let Some(job) = job else {
            return Ok(false);
        };
        let (j, w) = (job.clone(), worker.to_string());
        let mut lease = self.heartbeat("job lease", move |store, now| {
            let (j, w) = (j.clone(), w.clone());
            async move {
                let mut tx = store.begin().await?;
                let kept = jobs::renew(&mut tx, &j, &w, now + JOB_LEASE_MS).await?;
                tx.commit().await?;
                Ok(kept)
            }
        });
        let payload: Value = serde_json::from_str(&job.payload).unwrap_or(Value::Null);
        // The job stops when its lease is gone (this process stalled past
        // it and another worker took the job over): two full runs of one
        // tenant at once would only collide. Dropping the work rolls back
        // its open transaction; its run row stays "running" until a later
        // run finds it silent.
        let work = async {
            match job.kind.as_str() {
                JOB_TENANT => {
                    let cause = payload
                        .get("cause")
                        .and_then(Value::as_str)
                        .unwrap_or("schedule");
                    match self.run_classification(&job.tenant_id, cause).await {
                        // Another run of the tenant is under way: it
                        // classifies everyone as of today, so this job's
                        // work is being done.
                        Err(AppError::Conflict(e)) if e.code == RUN_RUNNING => {
                            tracing::info!(tenant = %job.tenant_id, "a classification run is already running; job skipped");
                            Ok(())
                        }
                        other => other.map(|_| ()),
                    }
                }
                JOB_CUSTOMER => {
                    let id = payload
                        .get("customer_id")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    self.classify_customer(&job.tenant_id, id).await.map(|_| ())
                }
                other => Err(AppError::Internal(format!("unknown job kind {other}"))),
            }
        };
        let outcome = tokio::select! {
            o = work => o,
            () = lease.lost() => Err(AppError::Internal(
                "the job's lease was lost: another worker took it over".into(),
            )),
        };
        drop(lease);
        let done_at = self.now();
        let mut tx = self.store.begin().await?;
        match outcome {
            Ok(()) => {
                jobs::complete(&mut tx, &job, worker, done_at).await?;
            }
            Err(e) => {
                tracing::warn!(job = %job.id, kind = %job.kind, error = %e, "job failed");
                // Three tries, a minute apart, then it stays failed (the
                // run history shows the error).
                let retry = (job.attempts < 3).then_some(done_at + 60_000);
                jobs::fail(&mut tx, &job, worker, &e.to_string(), retry, done_at).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Every tenant's id (CLI work over all tenants).
    pub async fn tenant_ids(&self) -> Result<Vec<String>> {
        let mut r = self.store.reader().await?;
        Ok(kehu_store::org::list_tenants(&mut r.conn())
            .await?
            .into_iter()
            .map(|t| t.tenant_id)
            .collect())
    }

    /// Example tag rules for the demo tenant, so its customers carry tags
    /// and the rule page has something to show, and for the benchmark
    /// tenant, so a run evaluates rules as a real tenant's does. A tenant
    /// that has rules already is left as it is.
    pub async fn seed_demo_rules(&self, tenant_id: &str) -> Result<()> {
        let actor = Actor::system(tenant_id);
        if !self.list_rules(&actor).await?.items.is_empty() {
            return Ok(());
        }
        let rules = [
            (
                "华东高价值",
                "华东高价值",
                "province in [\"上海市\", \"江苏省\", \"浙江省\"] and spend_365d >= 20000",
                "华东三省市、近一年消费满 2 万元的客户",
            ),
            (
                "沉睡老客",
                "沉睡老客",
                "purchase_days >= 3 and days_since_last_purchase > 180",
                "买过 3 次以上、半年没有再买的老客户",
            ),
            (
                "重点维护",
                "重点维护",
                "tier in [\"A\", \"B\"] or has_tag(\"华东高价值\")",
                "A/B 级或华东高价值客户",
            ),
        ];
        for (name, tag, rule, description) in rules {
            self.create_rule(
                &actor,
                &RuleBody {
                    name: name.into(),
                    tag: tag.into(),
                    rule: rule.into(),
                    description: Some(description.into()),
                    enabled: Some(true),
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Runs a tenant's due jobs until none is left (tests).
    pub async fn drain_jobs(&self, worker: &str, tenant: &str) -> Result<usize> {
        let mut n = 0;
        while self.work_one(worker, Some(tenant)).await? {
            n += 1;
        }
        Ok(n)
    }
}

/// The latest slot of `cron` (Beijing time) at or before `now_ms`, in
/// whole seconds. The slot is the nightly job's key, so it must not depend
/// on when it is asked: croner keeps the sub-second part of the time it
/// searches back from, and a key with it made every minute's check a new
/// "missed" slot (a million-customer run after run, all day).
pub fn previous_slot(cron: &croner::Cron, now_ms: i64) -> Option<i64> {
    use chrono::TimeZone;
    let tz = chrono::FixedOffset::east_opt(8 * 3600)?;
    let now = tz.timestamp_opt(now_ms.div_euclid(1000), 0).single()?;
    let t = cron.find_previous_occurrence(&now, true).ok()?;
    Some(t.timestamp() * 1000)
}

/// Enqueues the single-customer update an order causes, inside the order's
/// transaction.
pub async fn enqueue_customer_update(
    tx: &mut kehu_store::Tx,
    tenant_id: &str,
    customer_id: &str,
    now: i64,
) -> Result<()> {
    jobs::enqueue(
        tx,
        &NewJob {
            tenant_id,
            id: &new_id(),
            kind: JOB_CUSTOMER,
            dedupe_key: customer_id,
            payload: &json!({"customer_id": customer_id}).to_string(),
            run_after: now,
            now,
        },
        OnDuplicate::Requeue,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod heartbeat_tests {
    use super::Heartbeat;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn counting(keep_for: usize) -> (Arc<AtomicUsize>, Heartbeat) {
        let beats = Arc::new(AtomicUsize::new(0));
        let b = beats.clone();
        let hb = Heartbeat::every("test", Duration::from_millis(5), move || {
            let n = b.fetch_add(1, Ordering::SeqCst) + 1;
            async move { Ok(n < keep_for) }
        });
        (beats, hb)
    }

    #[tokio::test]
    async fn a_lost_lease_ends_the_beats_and_is_reported() {
        let (beats, mut hb) = counting(3);
        tokio::time::timeout(Duration::from_secs(10), hb.lost())
            .await
            .expect("the third beat loses the lease");
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(beats.load(Ordering::SeqCst), 3, "no beats after the loss");
    }

    #[tokio::test]
    async fn a_kept_lease_is_never_reported_and_dropping_stops_the_beats() {
        let (beats, mut hb) = counting(usize::MAX);
        assert!(
            tokio::time::timeout(Duration::from_millis(60), hb.lost())
                .await
                .is_err()
        );
        assert!(beats.load(Ordering::SeqCst) >= 2);
        drop(hb);
        tokio::time::sleep(Duration::from_millis(10)).await;
        let after_drop = beats.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(beats.load(Ordering::SeqCst), after_drop);
    }
}
