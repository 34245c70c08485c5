//! One classification run over a tenant: every customer's facts, classes,
//! tier, lifecycle stage, RFM scores, model predictions, at-risk signals,
//! upgrade potential and tags, from the tenant's orders and settings.
//! Pure: the caller loads the inputs and stores the outputs (`kehu-app`).
//!
//! Customers are numbered `0..n` by the caller (its order, usually by id),
//! and orders refer to them by that number, so the maths works on `u32`
//! keys rather than strings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::bgnbd::BgNbdParams;
use super::classify::{ClassConfig, Classes, classify};
use super::clv::{ClvConfig, discounted_purchases_if_alive};
use super::explain::Explanation;
#[cfg(test)]
use super::explain::format_yuan;
use super::gamma_gamma::GammaGammaParams;
use super::lifecycle::{LifecycleConfig, PreviousStage, Stage, StageAssignment, lifecycle_stage};
use super::report::{AnalysisOptions, Fitted, fit_models};
use super::rfm::{RfmScore, rfm_scores};
use super::rules::{CustomValue, Expr, RuleContext, TextField};
use super::summary::{CustomerFacts, Order, OrderBook, TimeUnit, customer_facts, repeat_summary};
use super::tier::{
    PreviousTier, Tier, TierAssignment, TierConfig, TierMethod, apply_min_stay, compute_tiers,
    tier_by_thresholds,
};
use crate::i18n::Locale;

/// Days in the prediction window of "expected purchases" and in a year.
pub const PREDICTION_DAYS: f64 = 90.0;
const YEAR_DAYS: f64 = 365.0;

/// What serving a customer costs, and what share of spend is contribution.
#[derive(Debug, Clone, PartialEq)]
pub struct CostConfig {
    /// Margin (contribution share of spend) of a category not listed, in percent.
    pub default_margin_pct: f64,
    pub margin_pct_by_category: BTreeMap<String, f64>,
    /// Handling cost of one order, in 分.
    pub cost_per_order_fen: i64,
    /// Cost of one account-manager hour, in 分.
    pub hourly_cost_fen: i64,
    /// Account-manager hours per customer and year, by tier A, B, C, D.
    pub hours_per_year: [f64; 4],
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            default_margin_pct: 100.0,
            margin_pct_by_category: BTreeMap::new(),
            cost_per_order_fen: 0,
            hourly_cost_fen: 10_000,
            hours_per_year: [24.0, 12.0, 4.0, 1.0],
        }
    }
}

impl CostConfig {
    pub fn margin_pct(&self, category: Option<&str>) -> f64 {
        category
            .and_then(|c| self.margin_pct_by_category.get(c))
            .copied()
            .unwrap_or(self.default_margin_pct)
    }
}

/// A tenant's insight settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InsightConfig {
    pub tier: TierConfig,
    pub classes: ClassConfig,
    pub lifecycle: LifecycleConfig,
    /// CLV horizon and discounting (its margin is taken from `costs`).
    pub clv: ClvConfig,
    pub costs: CostConfig,
}

/// One customer as the run sees it.
#[derive(Debug, Clone, Default)]
pub struct CustomerIn {
    pub kind: String,
    pub province: Option<String>,
    pub source: Option<String>,
    pub custom: BTreeMap<String, CustomValue>,
    pub prev_tier: Option<PreviousTier>,
    pub prev_stage: Option<PreviousStage>,
}

/// Spend of one customer in one category: `spend_365d_fen` is the spend in
/// the last 365 days (zero when the category was bought only earlier).
#[derive(Debug, Clone, PartialEq)]
pub struct CategorySpend {
    pub customer: u32,
    pub category: Option<String>,
    pub spend_365d_fen: i64,
}

/// A tag rule, evaluated in the order given.
#[derive(Debug, Clone)]
pub struct TagRule {
    pub id: String,
    pub tag: String,
    pub expr: Expr,
}

/// The tenant-wide part of a run: fitted models and the contribution at
/// which each tier starts. Stored with the run, so a single customer can
/// be re-evaluated between runs (after an order) on the same footing.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub bgnbd: Option<BgNbdParams>,
    pub gamma_gamma: Option<GammaGammaParams>,
    /// BG/NBD log-likelihood and customers, for the run history.
    pub bgnbd_log_likelihood: Option<f64>,
    /// Lowest 12-month contribution in tiers A, B, C (the thresholds
    /// themselves for the threshold method; what the Pareto shares came to
    /// otherwise). `None` when a tier is empty under Pareto.
    pub tier_floors: [Option<i64>; 3],
}

impl Model {
    /// The tier a 12-month contribution reaches against the tier floors (an
    /// empty Pareto tier can't be reached between runs).
    fn tier_by_floors(&self, contribution_fen: i64) -> (Tier, Explanation) {
        let [a, b, c] = self.tier_floors.map(|f| f.unwrap_or(i64::MAX));
        tier_by_thresholds(contribution_fen, a, b, c)
    }
}

/// Model outputs for one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub p_alive: f64,
    pub expected_purchases_90d: f64,
    pub expected_spend_fen: Option<f64>,
    pub clv_fen: Option<f64>,
    /// Expected contribution over the next 365 days.
    pub predicted_12m_fen: Option<i64>,
    pub purchase_days: u32,
    pub days_since_last: i32,
    pub tenure_days: i32,
}

impl Prediction {
    pub fn render(&self, locale: Locale) -> String {
        let pct = self.p_alive * 100.0;
        let e = self.expected_purchases_90d;
        match locale {
            Locale::ZhCn => format!(
                "仍在购买的概率 {pct:.0}%：{} 个购买日、首购于 {} 天前、距上次购买 {} 天；按本租户的 BG/NBD 模型，预计未来 90 天购买 {e:.1} 次",
                self.purchase_days, self.tenure_days, self.days_since_last
            ),
            Locale::En => format!(
                "P(alive) {pct:.0}%: {} purchase days, first purchase {} days ago, last {} days ago; the tenant's BG/NBD model expects {e:.1} purchases in the next 90 days",
                self.purchase_days, self.tenure_days, self.days_since_last
            ),
        }
    }
}

/// Evidence that a customer may be drifting away.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// Silent for longer than the at-risk factor × their own interval.
    Overdue {
        days_since_last: i32,
        interval_days: f64,
        interval_is_default: bool,
    },
    /// Orders in the last 90 days under half the year's quarterly pace.
    FallingFrequency { orders_90d: u32, orders_365d: u32 },
    /// The model gives less than even odds that they still buy.
    LowPAlive { p_alive: f64 },
}

impl Signal {
    pub fn code(&self) -> &'static str {
        match self {
            Signal::Overdue { .. } => "overdue",
            Signal::FallingFrequency { .. } => "falling_frequency",
            Signal::LowPAlive { .. } => "low_p_alive",
        }
    }

    pub fn render(&self, locale: Locale) -> String {
        let zh = locale == Locale::ZhCn;
        match self {
            Signal::Overdue {
                days_since_last: d,
                interval_days: i,
                interval_is_default: def,
            } => {
                let ratio = f64::from(*d) / i;
                match (zh, def) {
                    (true, false) => {
                        format!("已 {d} 天未购买，是其平常购买间隔（{i:.0} 天）的 {ratio:.1} 倍")
                    }
                    (true, true) => {
                        format!("已 {d} 天未购买，是默认购买间隔（{i:.0} 天）的 {ratio:.1} 倍")
                    }
                    (false, false) => format!(
                        "{d} days without a purchase, {ratio:.1} × their typical interval of {i:.0} days"
                    ),
                    (false, true) => format!(
                        "{d} days without a purchase, {ratio:.1} × the default interval of {i:.0} days"
                    ),
                }
            }
            Signal::FallingFrequency {
                orders_90d,
                orders_365d,
            } => {
                let pace = f64::from(*orders_365d) / 4.0;
                if zh {
                    format!(
                        "购买频率下降：近 90 天 {orders_90d} 单，低于近一年每季度平均 {pace:.1} 单的一半"
                    )
                } else {
                    format!(
                        "buying less often: {orders_90d} orders in 90 days, under half the year's pace of {pace:.1} a quarter"
                    )
                }
            }
            Signal::LowPAlive { p_alive } => {
                let pct = p_alive * 100.0;
                if zh {
                    format!("模型估计仍在购买的概率仅 {pct:.0}%")
                } else {
                    format!("the model puts the chance they still buy at {pct:.0}%")
                }
            }
        }
    }
}

/// Why a tag came or went in a run, for the customer's history.
pub fn tag_change(added: bool, tag: &str, locale: Locale) -> String {
    match (added, locale) {
        (true, Locale::ZhCn) => format!("符合标签规则，获得标签「{tag}」"),
        (true, Locale::En) => format!("matches a tag rule: tagged \"{tag}\""),
        (false, Locale::ZhCn) => format!("不再符合规则，移除标签「{tag}」"),
        (false, Locale::En) => format!("no longer matches its rule: \"{tag}\" removed"),
    }
}

/// "Likely to move up": predicted 12-month contribution reaches the next tier's floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upgrade {
    pub tier: Tier,
    pub predicted_12m_fen: i64,
    pub threshold_fen: i64,
}

/// Everything a run decides about one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerOut {
    pub facts: Option<CustomerFacts<u32>>,
    /// Distinct categories ever bought.
    pub categories: u32,
    pub contribution_12m_fen: i64,
    pub classes: Option<Classes>,
    pub tier: TierAssignment,
    pub stage: StageAssignment,
    /// Tenant-relative; only full runs score it (`None` from [`classify_one`]).
    pub rfm: Option<RfmScore<u32>>,
    pub prediction: Option<Prediction>,
    pub signals: Vec<Signal>,
    /// Set when there are signals: 12-month contribution × (1 − P(alive))
    /// (the whole contribution when there is no model).
    pub value_at_risk_fen: Option<i64>,
    pub upgrade: Option<Upgrade>,
    /// Indexes into the rules that matched.
    pub tags: Vec<usize>,
}

/// The inputs of a full run.
pub struct TenantIn<'a> {
    pub customers: &'a [CustomerIn],
    pub orders: &'a [Order<u32>],
    pub categories: &'a [CategorySpend],
    pub rules: &'a [TagRule],
}

/// Per customer: (distinct categories, 12-month contribution in 分).
fn contributions(n: usize, rows: &[CategorySpend], costs: &CostConfig) -> Vec<(u32, i64)> {
    let mut out = vec![(0u32, 0i64); n];
    for r in rows {
        let Some(slot) = out.get_mut(r.customer as usize) else {
            continue;
        };
        if r.category.is_some() {
            slot.0 += 1;
        }
        let pct = costs.margin_pct(r.category.as_deref());
        slot.1 += (r.spend_365d_fen as f64 * pct / 100.0).round() as i64;
    }
    out
}

fn clv_config(cfg: &InsightConfig) -> ClvConfig {
    ClvConfig {
        margin_rate: cfg.costs.default_margin_pct / 100.0,
        ..cfg.clv
    }
}

/// Classifies every customer of a tenant as of `today` (a day number).
pub fn classify_tenant(
    input: &TenantIn<'_>,
    cfg: &InsightConfig,
    today: i32,
) -> (Model, Vec<CustomerOut>) {
    let run = TenantRun::new(input, cfg, today);
    let mut cache = PredictionCache::default();
    let out = (0..input.customers.len())
        .map(|i| run.customer(i, &input.customers[i], input.rules, cfg, &mut cache))
        .collect();
    (run.model, out)
}

/// The tenant-wide part of a run (models, RFM, tiers) with what each
/// customer's outcome is built from. A caller that stores outcomes a chunk
/// at a time builds them with [`TenantRun::customer`] a chunk at a time:
/// at a million customers the whole `Vec<CustomerOut>` is 600 MB of fresh
/// memory, and on a VM writing fresh pages cost more than the maths.
pub struct TenantRun {
    pub model: Model,
    today: i32,
    /// Customers with orders, by number: their facts, RFM scores and
    /// Gamma-Gamma's E[M] (as `kehu analyze` reports it), at the same positions.
    facts: Vec<CustomerFacts<u32>>,
    rfm: Vec<RfmScore<u32>>,
    spend: Vec<Option<f64>>,
    /// Each customer's position in `facts`, [`TenantRun::NONE`] without orders.
    at: Vec<u32>,
    /// (distinct categories, 12-month contribution) per customer.
    contrib: Vec<(u32, i64)>,
    /// Pareto tiers per customer; empty for thresholds.
    ranked: Vec<(Tier, Explanation)>,
}

impl TenantRun {
    const NONE: u32 = u32::MAX;

    pub fn new(input: &TenantIn<'_>, cfg: &InsightConfig, today: i32) -> TenantRun {
        let n = input.customers.len();
        let book = OrderBook::new(input.orders, today);
        let facts = book.facts();
        let opts = AnalysisOptions {
            as_of: today,
            calibration_end: today,
            unit: TimeUnit::Week,
            horizon: PREDICTION_DAYS / 7.0,
            clv: clv_config(cfg),
        };
        // The models only: each customer's predictions come from `predict`.
        let fitted = fit_models(&book, &opts).ok();
        drop(book);
        let rfm = rfm_scores(&facts);
        let mut at = vec![Self::NONE; n];
        for (pos, f) in facts.iter().enumerate() {
            if let Some(slot) = at.get_mut(f.customer_id as usize) {
                *slot = pos as u32;
            }
        }
        let mut spend: Vec<Option<f64>> = vec![None; facts.len()];
        if let Some(Fitted {
            summaries,
            gamma_gamma: Some(gg),
            ..
        }) = &fitted
        {
            for s in summaries {
                if let Some(&pos) = at.get(s.customer_id as usize)
                    && pos != Self::NONE
                {
                    spend[pos as usize] = Some(gg.params.expected_average_spend(s.x, s.zbar));
                }
            }
        }
        let contrib = contributions(n, input.categories, &cfg.costs);
        // Thresholds depend on the customer alone: `customer` applies them.
        // Pareto ranks the tenant, so its outcome is kept, in customer order
        // (`compute_tiers` keeps the order it is given).
        let ranked: Vec<(Tier, Explanation)> = match cfg.tier.method {
            TierMethod::Thresholds { .. } => Vec::new(),
            TierMethod::Pareto { .. } => {
                let rows: Vec<(u32, i64)> =
                    (0..n as u32).map(|i| (i, contrib[i as usize].1)).collect();
                compute_tiers(&rows, &cfg.tier.method)
                    .into_iter()
                    .map(|(_, t, why)| (t, why))
                    .collect()
            }
        };
        let tier_floors = match cfg.tier.method {
            TierMethod::Thresholds {
                a_min_fen,
                b_min_fen,
                c_min_fen,
            } => [Some(a_min_fen), Some(b_min_fen), Some(c_min_fen)],
            TierMethod::Pareto { .. } => {
                let mut floors = [None; 3];
                for ((t, _), (_, c)) in ranked.iter().zip(&contrib) {
                    let idx = match t {
                        Tier::A => 0,
                        Tier::B => 1,
                        Tier::C => 2,
                        Tier::D => continue,
                    };
                    floors[idx] = Some(floors[idx].map_or(*c, |f: i64| f.min(*c)));
                }
                floors
            }
        };
        let model = Model {
            bgnbd: fitted.as_ref().map(|a| a.bgnbd.params),
            gamma_gamma: fitted
                .as_ref()
                .and_then(|a| a.gamma_gamma.as_ref().map(|g| g.params)),
            bgnbd_log_likelihood: fitted.as_ref().map(|a| a.bgnbd.log_likelihood),
            tier_floors,
        };
        TenantRun {
            model,
            today,
            facts,
            rfm,
            spend,
            at,
            contrib,
            ranked,
        }
    }

    /// Everything the run decides about customer `i`; `c` is
    /// `input.customers[i]` and `rules` the input's rules. `cache` holds
    /// predictions shared between customers: keep one per run.
    pub fn customer(
        &self,
        i: usize,
        c: &CustomerIn,
        rules: &[TagRule],
        cfg: &InsightConfig,
        cache: &mut PredictionCache,
    ) -> CustomerOut {
        let (categories, contribution) = self.contrib[i];
        let (tier, why) = match self.ranked.get(i) {
            Some(t) => t.clone(),
            None => self.model.tier_by_floors(contribution),
        };
        let tier = apply_min_stay(tier, why, c.prev_tier, self.today, &cfg.tier);
        let pos = (self.at[i] != Self::NONE).then_some(self.at[i] as usize);
        let mut out = finish(
            c,
            pos.map(|p| self.facts[p].clone()),
            categories,
            contribution,
            tier,
            pos.and_then(|p| self.spend[p]),
            &self.model,
            rules,
            cfg,
            self.today,
            cache,
        );
        out.rfm = pos.map(|p| self.rfm[p].clone());
        out
    }
}

/// Re-evaluates one customer between full runs (after an order), with the
/// last run's `model`: its tier floors stand in for the tier method, and
/// RFM (relative to the whole tenant) is left to the next full run.
/// `orders` and `categories` are this customer's, numbered 0.
pub fn classify_one(
    customer: &CustomerIn,
    orders: &[Order<u32>],
    categories: &[CategorySpend],
    rules: &[TagRule],
    model: &Model,
    cfg: &InsightConfig,
    today: i32,
) -> CustomerOut {
    let facts = customer_facts(orders, today).into_iter().next();
    let (cats, contribution) = contributions(1, categories, &cfg.costs)[0];
    let (tier, why) = model.tier_by_floors(contribution);
    let tier = apply_min_stay(tier, why, customer.prev_tier, today, &cfg.tier);
    let spend = repeat_summary(orders, today, TimeUnit::Week)
        .first()
        .and_then(|s| Some(model.gamma_gamma?.expected_average_spend(s.x, s.zbar)));
    finish(
        customer,
        facts,
        cats,
        contribution,
        tier,
        spend,
        model,
        rules,
        cfg,
        today,
        &mut PredictionCache::default(),
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    c: &CustomerIn,
    facts: Option<CustomerFacts<u32>>,
    categories: u32,
    contribution: i64,
    tier: TierAssignment,
    spend: Option<f64>,
    model: &Model,
    rules: &[TagRule],
    cfg: &InsightConfig,
    today: i32,
    cache: &mut PredictionCache,
) -> CustomerOut {
    let stage = lifecycle_stage(facts.as_ref(), c.prev_stage, today, &cfg.lifecycle);
    let classes = facts
        .as_ref()
        .map(|f| classify(f, categories, &cfg.classes));
    let prediction = match (&facts, model.bgnbd) {
        (Some(f), Some(p)) => Some(predict(f, contribution, &p, spend, cfg, cache)),
        _ => None,
    };
    let signals = facts
        .as_ref()
        .map(|f| signals(f, prediction.as_ref(), &cfg.lifecycle))
        .unwrap_or_default();
    let value_at_risk_fen = (!signals.is_empty()).then(|| {
        let lost = prediction.as_ref().map_or(1.0, |p| 1.0 - p.p_alive);
        (contribution.max(0) as f64 * lost).round() as i64
    });
    let upgrade = prediction.as_ref().and_then(|p| {
        let predicted = p.predicted_12m_fen?;
        let up = tier.tier.better()?;
        let floor = model.tier_floors[up as usize]?;
        (predicted >= floor).then_some(Upgrade {
            tier: up,
            predicted_12m_fen: predicted,
            threshold_fen: floor,
        })
    });
    let tags = if rules.is_empty() {
        Vec::new() // nothing to evaluate: skip building the rule context
    } else {
        tag_customer(c, facts.as_ref(), tier.tier, stage.stage, rules)
    };
    CustomerOut {
        facts,
        categories,
        contribution_12m_fen: contribution,
        classes,
        tier,
        stage,
        rfm: None,
        prediction,
        signals,
        value_at_risk_fen,
        upgrade,
        tags,
    }
}

/// The indexes of the tag rules that match, evaluated in order (so
/// `has_tag` sees the tags of earlier rules).
fn tag_customer(
    c: &CustomerIn,
    facts: Option<&CustomerFacts<u32>>,
    tier: Tier,
    stage: Stage,
    rules: &[TagRule],
) -> Vec<usize> {
    let mut ctx = RuleContext::new();
    if let Some(f) = facts {
        ctx.set_facts(f);
    }
    ctx.set_text(TextField::Kind, c.kind.clone());
    if let Some(p) = &c.province {
        ctx.set_text(TextField::Province, p.clone());
    }
    if let Some(s) = &c.source {
        ctx.set_text(TextField::Source, s.clone());
    }
    ctx.set_tier(tier).set_stage(stage);
    for (k, v) in &c.custom {
        ctx.set_custom(k.clone(), v.clone());
    }
    let mut tags = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, r) in rules.iter().enumerate() {
        if r.expr.eval(&ctx) {
            tags.push(i);
            if seen.insert(r.tag.clone()) {
                ctx.add_tag(r.tag.clone());
            }
        }
    }
    tags
}

/// What an alive customer with (x, T) is expected to buy: over 90 days,
/// over a year, and the discounted monthly purchases of CLV. The model's
/// predictions are these × P(alive) (see
/// `BgNbdParams::expected_purchases_if_alive`), and a tenant has far fewer
/// distinct (x, T) than customers, so a run computes each once.
#[derive(Default)]
pub struct PredictionCache(HashMap<(u32, u64), [f64; 3]>);

/// `spend` is Gamma-Gamma's E[M] for the customer (`None` without that model).
fn predict(
    f: &CustomerFacts<u32>,
    contribution: i64,
    p: &BgNbdParams,
    spend: Option<f64>,
    cfg: &InsightConfig,
    cache: &mut PredictionCache,
) -> Prediction {
    // The model's time axis (ANALYTICS.md): weeks, t_x and T from the first purchase.
    let w = TimeUnit::Week.days();
    let x = f.repeat_purchases;
    let t_x = f64::from(f.last_purchase - f.first_purchase) / w;
    let age = f64::from(f.days_since_last_purchase + f.last_purchase - f.first_purchase) / w;
    let clv_cfg = clv_config(cfg);
    let [e90, e365, discounted] = *cache.0.entry((x, age.to_bits())).or_insert_with(|| {
        [
            p.expected_purchases_if_alive(x, age, PREDICTION_DAYS / w),
            p.expected_purchases_if_alive(x, age, YEAR_DAYS / w),
            discounted_purchases_if_alive(p, TimeUnit::Week, x, age, &clv_cfg),
        ]
    });
    let p_alive = p.p_alive(x, t_x, age);
    let clv_fen = spend.map(|m| p_alive * discounted * m * clv_cfg.margin_rate);
    // Contribution share of this customer's spend (the default margin when
    // they bought nothing this year).
    let margin = if f.spend_365d_fen > 0 {
        contribution as f64 / f.spend_365d_fen as f64
    } else {
        cfg.costs.default_margin_pct / 100.0
    };
    let predicted_12m_fen = spend.map(|m| (e365 * p_alive * m * margin).round() as i64);
    Prediction {
        p_alive,
        expected_purchases_90d: e90 * p_alive,
        expected_spend_fen: spend,
        clv_fen,
        predicted_12m_fen,
        purchase_days: f.purchase_days,
        days_since_last: f.days_since_last_purchase,
        tenure_days: f.days_since_last_purchase + f.last_purchase - f.first_purchase,
    }
}

fn signals(f: &CustomerFacts<u32>, p: Option<&Prediction>, cfg: &LifecycleConfig) -> Vec<Signal> {
    let mut out = Vec::new();
    let interval = f
        .typical_interval_days
        .unwrap_or(cfg.default_interval_days)
        .max(cfg.min_interval_days);
    if f64::from(f.days_since_last_purchase) > cfg.at_risk_factor * interval {
        out.push(Signal::Overdue {
            days_since_last: f.days_since_last_purchase,
            interval_days: interval,
            interval_is_default: f.typical_interval_days.is_none(),
        });
    }
    if f.orders_365d >= 4 && f64::from(f.orders_90d) < 0.5 * f64::from(f.orders_365d) / 4.0 {
        out.push(Signal::FallingFrequency {
            orders_90d: f.orders_90d,
            orders_365d: f.orders_365d,
        });
    }
    if let Some(p) = p
        && p.p_alive < 0.5
    {
        out.push(Signal::LowPAlive { p_alive: p.p_alive });
    }
    out
}

/// Contribution against cost to serve for one tier (or all).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CostBenefit {
    pub customers: u64,
    pub contribution_fen: i64,
    pub cost_fen: i64,
}

impl CostBenefit {
    pub fn net_fen(&self) -> i64 {
        self.contribution_fen - self.cost_fen
    }
}

/// Cost to serve `customers` customers of a tier with `orders` orders
/// between them in the last 365 days: orders × cost per order + the tier's
/// yearly account-manager hours × hourly cost, per customer. Linear, so a
/// tier's total is the sum over its customers.
pub fn cost_to_serve_fen(tier: Tier, customers: u64, orders: u64, costs: &CostConfig) -> i64 {
    let hours = costs.hours_per_year[tier as usize];
    orders as i64 * costs.cost_per_order_fen
        + (hours * costs.hourly_cost_fen as f64 * customers as f64).round() as i64
}

/// Adds one customer to its tier's row.
pub fn add_cost_benefit(
    row: &mut CostBenefit,
    tier: Tier,
    contribution_fen: i64,
    orders_365d: u32,
    costs: &CostConfig,
) {
    row.customers += 1;
    row.contribution_fen += contribution_fen;
    row.cost_fen += cost_to_serve_fen(tier, 1, u64::from(orders_365d), costs);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::lifecycle::Stage;
    use crate::analytics::rules::parse_rule;

    fn order(c: u32, day: i32, fen: i64) -> Order<u32> {
        Order {
            customer_id: c,
            day,
            amount_fen: fen,
        }
    }

    /// 60 customers: 0..40 buy every (i % 9 + 5) days until a dropout day,
    /// 40..59 buy once, 59 never.
    fn tenant() -> (Vec<CustomerIn>, Vec<Order<u32>>, Vec<CategorySpend>) {
        let today = 400;
        let mut customers = Vec::new();
        let mut orders = Vec::new();
        let mut cats = Vec::new();
        for i in 0..60u32 {
            customers.push(CustomerIn {
                kind: if i % 2 == 0 { "person" } else { "company" }.into(),
                province: Some(if i % 3 == 0 { "浙江省" } else { "广东省" }.into()),
                ..Default::default()
            });
            let mut spend = 0;
            if i < 40 {
                let gap = (i % 9 + 5) as i32;
                let stop = if i % 4 == 0 { 200 } else { today };
                let mut d = i as i32;
                while d <= stop {
                    let amt = 10_000 + i64::from(i) * 5_000;
                    orders.push(order(i, d, amt));
                    if d > today - 365 {
                        spend += amt;
                    }
                    d += gap;
                }
            } else if i < 59 {
                orders.push(order(i, 300 + i as i32, 50_000));
                spend = 50_000;
            }
            if i < 59 {
                cats.push(CategorySpend {
                    customer: i,
                    category: Some("家电".into()),
                    spend_365d_fen: spend,
                });
            }
            if i % 5 == 0 && i < 40 {
                cats.push(CategorySpend {
                    customer: i,
                    category: Some("配件".into()),
                    spend_365d_fen: 0,
                });
            }
        }
        (customers, orders, cats)
    }

    /// A run's input without tag rules.
    fn no_rules<'a>(
        customers: &'a [CustomerIn],
        orders: &'a [Order<u32>],
        categories: &'a [CategorySpend],
    ) -> TenantIn<'a> {
        TenantIn {
            customers,
            orders,
            categories,
            rules: &[],
        }
    }

    #[test]
    fn each_outcome_holds_its_own_customers_numbers() {
        // Customers without orders among the others, and orders of a
        // customer number the tenant does not have: every outcome must
        // still carry its own customer's facts, scores and spend.
        let (customers, mut orders, cats) = tenant();
        let silent = [3u32, 17, 30, 41];
        orders.retain(|o| !silent.contains(&o.customer_id));
        orders.push(order(999, 390, 70_000));
        let input = no_rules(&customers, &orders, &cats);
        let (model, out) = classify_tenant(&input, &InsightConfig::default(), 400);
        let gg = model.gamma_gamma.expect("a Gamma-Gamma model");
        assert_eq!(out.len(), customers.len());
        for (i, o) in out.iter().enumerate() {
            let i = i as u32;
            let own: Vec<Order<u32>> = orders
                .iter()
                .filter(|x| x.customer_id == i)
                .cloned()
                .collect();
            if own.is_empty() {
                assert!(
                    o.facts.is_none() && o.rfm.is_none() && o.prediction.is_none(),
                    "{i}"
                );
                continue;
            }
            assert_eq!(o.facts, customer_facts(&own, 400).into_iter().next(), "{i}");
            let rfm = o.rfm.as_ref().expect("scored");
            assert_eq!(rfm.customer_id, i);
            assert_eq!(rfm.frequency, o.facts.as_ref().unwrap().purchase_days);
            let s = &repeat_summary(&own, 400, TimeUnit::Week)[0];
            let spend = o.prediction.as_ref().and_then(|p| p.expected_spend_fen);
            assert_eq!(spend, Some(gg.expected_average_spend(s.x, s.zbar)), "{i}");
        }
    }

    #[test]
    fn both_tier_methods_agree_with_compute_tiers() {
        let (customers, orders, cats) = tenant();
        let input = no_rules(&customers, &orders, &cats);
        let methods = [
            TierMethod::Pareto {
                a_pct: 50,
                b_pct: 80,
                c_pct: 95,
            },
            TierMethod::Thresholds {
                a_min_fen: 400_000,
                b_min_fen: 150_000,
                c_min_fen: 10_000,
            },
        ];
        for method in methods {
            let mut cfg = InsightConfig::default();
            cfg.tier.method = method.clone();
            let (model, out) = classify_tenant(&input, &cfg, 400);
            let rows: Vec<(u32, i64)> = out
                .iter()
                .enumerate()
                .map(|(i, o)| (i as u32, o.contribution_12m_fen))
                .collect();
            let expected = compute_tiers(&rows, &method);
            for (o, (_, tier, why)) in out.iter().zip(&expected) {
                assert_eq!((o.tier.tier, &o.tier.explanation), (*tier, why));
            }
            let tiers: BTreeSet<Tier> = out.iter().map(|o| o.tier.tier).collect();
            assert!(tiers.len() >= 3, "{method:?} spreads customers: {tiers:?}");
            // Each floor is the lowest contribution in its tier.
            for (k, t) in [Tier::A, Tier::B, Tier::C].into_iter().enumerate() {
                let lowest = out
                    .iter()
                    .filter(|o| o.tier.tier == t)
                    .map(|o| o.contribution_12m_fen)
                    .min();
                match method {
                    TierMethod::Pareto { .. } => assert_eq!(model.tier_floors[k], lowest),
                    TierMethod::Thresholds { .. } => {
                        assert!(lowest.is_none_or(|l| l >= model.tier_floors[k].unwrap()))
                    }
                }
            }
        }
    }

    #[test]
    fn a_run_classifies_everyone_and_explains_it() {
        let (customers, orders, cats) = tenant();
        let rules = vec![
            TagRule {
                id: "r1".into(),
                tag: "浙江活跃".into(),
                expr: parse_rule("province = \"浙江省\" and orders_90d >= 3").unwrap(),
            },
            TagRule {
                id: "r2".into(),
                tag: "重点".into(),
                expr: parse_rule("has_tag(\"浙江活跃\") or tier = \"A\"").unwrap(),
            },
        ];
        let input = TenantIn {
            customers: &customers,
            orders: &orders,
            categories: &cats,
            rules: &rules,
        };
        let mut cfg = InsightConfig::default();
        cfg.costs.margin_pct_by_category.insert("家电".into(), 25.0);
        let (model, out) = classify_tenant(&input, &cfg, 400);
        assert_eq!(out.len(), 60);
        assert!(model.bgnbd.is_some() && model.gamma_gamma.is_some());
        // The prospect: no facts, D, no prediction, no signals.
        let p = &out[59];
        assert!(p.facts.is_none() && p.prediction.is_none() && p.rfm.is_none());
        assert_eq!((p.tier.tier, p.stage.stage), (Tier::D, Stage::Prospect));
        // Contribution is 25 % of the year's spend in 家电.
        let c39 = &out[39];
        let spend: i64 = orders
            .iter()
            .filter(|o| o.customer_id == 39 && o.day > 35)
            .map(|o| o.amount_fen)
            .sum();
        assert_eq!(
            c39.contribution_12m_fen,
            (spend as f64 * 0.25).round() as i64
        );
        assert_eq!(out[0].categories, 2);
        assert_eq!(out[1].categories, 1);
        // Customers who stopped at day 200 are at risk or churned, with
        // signals and value at risk, and lower P(alive) than steady buyers.
        let stopped = &out[4];
        let steady = &out[5];
        assert!(matches!(
            stopped.stage.stage,
            Stage::AtRisk | Stage::Churned
        ));
        assert!(stopped.signals.iter().any(|s| s.code() == "overdue"));
        assert!(stopped.value_at_risk_fen.is_some());
        assert!(steady.signals.is_empty() && steady.value_at_risk_fen.is_none());
        let (ps, pa) = (
            stopped.prediction.as_ref().unwrap().p_alive,
            steady.prediction.as_ref().unwrap().p_alive,
        );
        assert!(ps < pa, "{ps} {pa}");
        // Tags: rule order matters for has_tag.
        for (i, o) in out.iter().enumerate() {
            let zj = customers[i].province.as_deref() == Some("浙江省")
                && o.facts.as_ref().is_some_and(|f| f.orders_90d >= 3);
            assert_eq!(o.tags.contains(&0), zj, "customer {i}");
            assert_eq!(o.tags.contains(&1), zj || o.tier.tier == Tier::A);
        }
        // Every customer with orders has RFM scores 1-5.
        assert!(
            out[..59]
                .iter()
                .all(|o| o.rfm.as_ref().is_some_and(|r| (1..=5).contains(&r.r)))
        );
        // Explanations name the numbers.
        let zh = out[39].tier.explanation.render(Locale::ZhCn);
        assert!(
            zh.contains(&format_yuan(out[39].contribution_12m_fen)),
            "{zh}"
        );
        let s = stopped.signals[0].render(Locale::En);
        assert!(s.contains("days without a purchase"), "{s}");
    }

    #[test]
    fn one_customer_between_runs_uses_the_runs_floors() {
        let (customers, orders, cats) = tenant();
        let input = no_rules(&customers, &orders, &cats);
        let mut cfg = InsightConfig::default();
        cfg.tier.method = TierMethod::DEFAULT_PARETO;
        let (model, out) = classify_tenant(&input, &cfg, 400);
        let floors = model.tier_floors;
        assert!(floors[0].unwrap() >= floors[1].unwrap());
        // The same customer alone, with the run's floors, lands in the same tier.
        for i in [3u32, 17, 39, 45] {
            let own: Vec<Order<u32>> = orders
                .iter()
                .filter(|o| o.customer_id == i)
                .map(|o| order(0, o.day, o.amount_fen))
                .collect();
            let own_cats: Vec<CategorySpend> = cats
                .iter()
                .filter(|c| c.customer == i)
                .map(|c| CategorySpend {
                    customer: 0,
                    ..c.clone()
                })
                .collect();
            let one = classify_one(
                &customers[i as usize],
                &own,
                &own_cats,
                &[],
                &model,
                &cfg,
                400,
            );
            let full = &out[i as usize];
            assert_eq!(one.tier.tier, full.tier.tier, "customer {i}");
            assert_eq!(one.stage.stage, full.stage.stage);
            assert_eq!(one.contribution_12m_fen, full.contribution_12m_fen);
            assert_eq!(one.prediction.is_some(), full.prediction.is_some());
            assert!(one.rfm.is_none());
        }
    }

    #[test]
    fn upgrade_needs_a_prediction_over_the_next_floor() {
        let (customers, orders, cats) = tenant();
        let input = no_rules(&customers, &orders, &cats);
        let cfg = InsightConfig::default();
        let (model, out) = classify_tenant(&input, &cfg, 400);
        for o in &out {
            if let Some(u) = o.upgrade {
                assert_eq!(Some(u.tier), o.tier.tier.better());
                assert!(u.predicted_12m_fen >= u.threshold_fen);
                assert_eq!(Some(u.threshold_fen), model.tier_floors[u.tier as usize]);
            }
        }
    }

    #[test]
    fn cost_benefit_adds_orders_and_hours() {
        let costs = CostConfig {
            cost_per_order_fen: 500,
            hourly_cost_fen: 20_000,
            ..Default::default()
        };
        let mut row = CostBenefit::default();
        add_cost_benefit(&mut row, Tier::A, 1_000_000, 10, &costs);
        add_cost_benefit(&mut row, Tier::A, 500_000, 2, &costs);
        assert_eq!(row.customers, 2);
        assert_eq!(row.contribution_fen, 1_500_000);
        // 12 orders × ¥5 + 2 × 24 h × ¥200.
        assert_eq!(row.cost_fen, 12 * 500 + 2 * 24 * 20_000);
        assert_eq!(row.net_fen(), 1_500_000 - row.cost_fen);
    }
}
