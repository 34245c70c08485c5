//! Lifecycle stage (PRODUCT.md glossary: prospect 潜在, new 新客户, active
//! 活跃, loyal 忠诚, at-risk 流失风险, churned 已流失, won-back 已挽回) from
//! the facts, the previous stage and configurable rules.
//!
//! Rule order — the first rule that matches decides:
//!
//! 1. **prospect**: no purchase (no facts, or zero purchase days).
//! 2. **new**: first purchase less than `new_days` ago (default 30).
//! 3. **churned**: days since last purchase > `churn_factor` × interval
//!    (default 4) or > `churn_max_days` (default 365).
//! 4. **at-risk**: days since last purchase > `at_risk_factor` × interval (default 2).
//! 5. **won-back**: the previous stage was churned and the last purchase is
//!    on or after the day it was assigned (bought again after churning); or the
//!    previous stage was won-back and has been held < `won_back_days`
//!    (default 90), after which the customer moves on to loyal / active.
//! 6. **loyal**: purchase days ≥ `loyal_min_purchase_days` (default 5) and
//!    tenure (days since first purchase) ≥ `loyal_min_tenure_days` (default 180).
//! 7. **active**: everything else.
//!
//! "Interval" is the customer's own typical inter-purchase interval
//! (`CustomerFacts::typical_interval_days`, the median gap), or
//! `default_interval_days` (default 90) with fewer than two purchase days,
//! never less than `min_interval_days` (default 7) so two purchases on
//! consecutive days do not make a customer at risk a few days later.

use super::explain::Explanation;
use super::summary::CustomerFacts;
use crate::i18n::Locale;

/// Lifecycle stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Prospect,
    New,
    Active,
    Loyal,
    AtRisk,
    Churned,
    WonBack,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Prospect,
        Stage::New,
        Stage::Active,
        Stage::Loyal,
        Stage::AtRisk,
        Stage::Churned,
        Stage::WonBack,
    ];

    /// The stage with this stable code.
    pub fn from_code(code: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Stable code for storage and APIs.
    pub fn code(self) -> &'static str {
        match self {
            Stage::Prospect => "prospect",
            Stage::New => "new",
            Stage::Active => "active",
            Stage::Loyal => "loyal",
            Stage::AtRisk => "at_risk",
            Stage::Churned => "churned",
            Stage::WonBack => "won_back",
        }
    }

    /// Display name (PRODUCT.md glossary).
    pub fn name(self, locale: Locale) -> &'static str {
        match (locale, self) {
            (Locale::ZhCn, Stage::Prospect) => "潜在",
            (Locale::ZhCn, Stage::New) => "新客户",
            (Locale::ZhCn, Stage::Active) => "活跃",
            (Locale::ZhCn, Stage::Loyal) => "忠诚",
            (Locale::ZhCn, Stage::AtRisk) => "流失风险",
            (Locale::ZhCn, Stage::Churned) => "已流失",
            (Locale::ZhCn, Stage::WonBack) => "已挽回",
            (Locale::En, Stage::Prospect) => "prospect",
            (Locale::En, Stage::New) => "new",
            (Locale::En, Stage::Active) => "active",
            (Locale::En, Stage::Loyal) => "loyal",
            (Locale::En, Stage::AtRisk) => "at-risk",
            (Locale::En, Stage::Churned) => "churned",
            (Locale::En, Stage::WonBack) => "won-back",
        }
    }
}

/// Lifecycle rules of a tenant (see the module doc for the order).
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleConfig {
    /// New while the first purchase is less than this many days ago. Default 30.
    pub new_days: i32,
    /// Interval used with fewer than two purchase days. Default 90.
    pub default_interval_days: f64,
    /// Floor of the interval. Default 7.
    pub min_interval_days: f64,
    /// At risk when silent for more than this × the interval. Default 2.
    pub at_risk_factor: f64,
    /// Churned when silent for more than this × the interval. Default 4.
    pub churn_factor: f64,
    /// Churned when silent for more than this many days, whatever the interval. Default 365.
    pub churn_max_days: i32,
    /// Loyal needs at least this many purchase days. Default 5.
    pub loyal_min_purchase_days: u32,
    /// Loyal needs a first purchase at least this many days ago. Default 180.
    pub loyal_min_tenure_days: i32,
    /// Won-back lasts this many days. Default 90.
    pub won_back_days: i32,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            new_days: 30,
            default_interval_days: 90.0,
            min_interval_days: 7.0,
            at_risk_factor: 2.0,
            churn_factor: 4.0,
            churn_max_days: 365,
            loyal_min_purchase_days: 5,
            loyal_min_tenure_days: 180,
            won_back_days: 90,
        }
    }
}

/// The stage a customer held, and since when (day number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviousStage {
    pub stage: Stage,
    pub since_day: i32,
}

/// The stage to store.
#[derive(Debug, Clone, PartialEq)]
pub struct StageAssignment {
    pub stage: Stage,
    /// The day the stage was assigned (unchanged when the stage is kept).
    pub since_day: i32,
    /// The stage differs from the previous one (true for a first assignment).
    pub changed: bool,
    pub explanation: Explanation,
}

/// The lifecycle stage on `today` from the customer's facts (computed as of
/// `today`; `None` for a customer without orders) and the previous stage.
pub fn lifecycle_stage<K>(
    facts: Option<&CustomerFacts<K>>,
    previous: Option<PreviousStage>,
    today: i32,
    cfg: &LifecycleConfig,
) -> StageAssignment {
    let (stage, explanation) = decide(facts, previous, today, cfg);
    match previous {
        Some(p) if p.stage == stage => StageAssignment {
            stage,
            since_day: p.since_day,
            changed: false,
            explanation,
        },
        _ => StageAssignment {
            stage,
            since_day: today,
            changed: true,
            explanation,
        },
    }
}

fn decide<K>(
    facts: Option<&CustomerFacts<K>>,
    previous: Option<PreviousStage>,
    today: i32,
    cfg: &LifecycleConfig,
) -> (Stage, Explanation) {
    let Some(f) = facts.filter(|f| f.purchase_days > 0) else {
        return (Stage::Prospect, Explanation::Prospect);
    };
    let days_since_first = today - f.first_purchase;
    let d = today - f.last_purchase;
    if days_since_first < cfg.new_days {
        return (
            Stage::New,
            Explanation::New {
                days_since_first,
                new_days: cfg.new_days,
            },
        );
    }
    let interval_is_default = f.typical_interval_days.is_none();
    let interval_days = f
        .typical_interval_days
        .unwrap_or(cfg.default_interval_days)
        .max(cfg.min_interval_days);
    let silent = f64::from(d);
    if silent > cfg.churn_factor * interval_days || d > cfg.churn_max_days {
        return (
            Stage::Churned,
            Explanation::Churned {
                days_since_last: d,
                interval_days,
                interval_is_default,
                factor: cfg.churn_factor,
                max_days: cfg.churn_max_days,
            },
        );
    }
    if silent > cfg.at_risk_factor * interval_days {
        return (
            Stage::AtRisk,
            Explanation::AtRisk {
                days_since_last: d,
                interval_days,
                interval_is_default,
                factor: cfg.at_risk_factor,
            },
        );
    }
    if let Some(p) = previous {
        let days_in_stage = today - p.since_day;
        let won_back = match p.stage {
            // On or after the day it was marked churned: a churned stage
            // is only ever assigned after a silence, so any purchase dated
            // that day or later is new (an order entered the same day).
            Stage::Churned => f.last_purchase >= p.since_day,
            Stage::WonBack => days_in_stage < cfg.won_back_days,
            _ => false,
        };
        if won_back {
            return (
                Stage::WonBack,
                Explanation::WonBack {
                    from_churned: p.stage == Stage::Churned,
                    days_since_last: d,
                    days_in_stage: if p.stage == Stage::Churned {
                        0
                    } else {
                        days_in_stage
                    },
                    won_back_days: cfg.won_back_days,
                },
            );
        }
    }
    let tenure_days = days_since_first;
    if f.purchase_days >= cfg.loyal_min_purchase_days && tenure_days >= cfg.loyal_min_tenure_days {
        return (
            Stage::Loyal,
            Explanation::Loyal {
                purchase_days: f.purchase_days,
                tenure_days,
                min_purchase_days: cfg.loyal_min_purchase_days,
                min_tenure_days: cfg.loyal_min_tenure_days,
            },
        );
    }
    (
        Stage::Active,
        Explanation::Active {
            days_since_last: d,
            interval_days,
            interval_is_default,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: i32 = 10_000;

    /// Facts as of TODAY with the fields the rules read.
    fn facts(
        first_ago: i32,
        last_ago: i32,
        purchase_days: u32,
        typical: Option<f64>,
    ) -> CustomerFacts<u32> {
        CustomerFacts {
            customer_id: 1,
            first_purchase: TODAY - first_ago,
            last_purchase: TODAY - last_ago,
            purchase_days,
            repeat_purchases: purchase_days.saturating_sub(1),
            orders: purchase_days,
            spend_fen: 10_000,
            orders_30d: 0,
            orders_90d: 0,
            orders_365d: 0,
            spend_30d_fen: 0,
            spend_90d_fen: 0,
            spend_365d_fen: 0,
            average_order_value_fen: 100.0,
            days_since_last_purchase: last_ago,
            typical_interval_days: typical,
        }
    }

    fn stage(f: Option<&CustomerFacts<u32>>, prev: Option<PreviousStage>) -> StageAssignment {
        lifecycle_stage(f, prev, TODAY, &LifecycleConfig::default())
    }

    #[test]
    fn prospect_without_purchases() {
        let s = stage(None, None);
        assert_eq!(
            (s.stage, s.changed, s.since_day),
            (Stage::Prospect, true, TODAY)
        );
        assert_eq!(
            s.explanation.render(Locale::En),
            "prospect: no purchase yet"
        );
        assert_eq!(s.explanation.render(Locale::ZhCn), "潜在：尚无购买记录");
    }

    #[test]
    fn new_within_the_window_only() {
        let s = stage(Some(&facts(29, 29, 1, None)), None);
        assert_eq!(s.stage, Stage::New);
        assert_eq!(
            s.explanation.render(Locale::En),
            "new: first purchase 29 days ago < 30 days"
        );
        // Day 30: no longer new; single purchase, default interval 90 → active.
        let s = stage(Some(&facts(30, 30, 1, None)), None);
        assert_eq!(s.stage, Stage::Active);
        assert_eq!(
            s.explanation,
            Explanation::Active {
                days_since_last: 30,
                interval_days: 90.0,
                interval_is_default: true
            }
        );
    }

    #[test]
    fn at_risk_against_own_rhythm_with_text() {
        // Typical interval 20 days: 40 days silent is still active, 41 is at risk.
        let s = stage(Some(&facts(200, 40, 4, Some(20.0))), None);
        assert_eq!(s.stage, Stage::Active);
        let s = stage(Some(&facts(200, 41, 4, Some(20.0))), None);
        assert_eq!(s.stage, Stage::AtRisk);
        assert_eq!(
            s.explanation.render(Locale::En),
            "at-risk: 41 days since last purchase > 2 × their typical interval of 20 days (40 days)"
        );
        assert_eq!(
            s.explanation.render(Locale::ZhCn),
            "流失风险：距上次购买 41 天 > 2 × 其平常购买间隔 20 天（40 天）"
        );
        // The interval is floored at 7 days: typical 1 day, 14 days silent → active, 15 → at risk.
        assert_eq!(
            stage(Some(&facts(100, 14, 3, Some(1.0))), None).stage,
            Stage::Active
        );
        assert_eq!(
            stage(Some(&facts(100, 15, 3, Some(1.0))), None).stage,
            Stage::AtRisk
        );
        // Fractional interval and the default interval in the text.
        let s = stage(Some(&facts(300, 200, 1, None)), None);
        assert_eq!(s.stage, Stage::AtRisk);
        assert_eq!(
            s.explanation.render(Locale::En),
            "at-risk: 200 days since last purchase > 2 × the default interval of 90 days (180 days)"
        );
        let s = stage(Some(&facts(300, 40, 3, Some(12.5))), None);
        assert_eq!(
            s.explanation.render(Locale::ZhCn),
            "流失风险：距上次购买 40 天 > 2 × 其平常购买间隔 12.5 天（25 天）"
        );
    }

    #[test]
    fn churned_by_factor_or_by_max_days() {
        // 4 × 20 = 80: 80 days is at risk, 81 churned.
        assert_eq!(
            stage(Some(&facts(300, 80, 4, Some(20.0))), None).stage,
            Stage::AtRisk
        );
        let s = stage(Some(&facts(300, 81, 4, Some(20.0))), None);
        assert_eq!(s.stage, Stage::Churned);
        assert_eq!(
            s.explanation.render(Locale::En),
            "churned: 81 days since last purchase > 4 × their typical interval of 20 days (80 days)"
        );
        // Typical interval 100 days: 366 days silent < 400, churned by the 365-day limit.
        let s = stage(Some(&facts(900, 366, 4, Some(100.0))), None);
        assert_eq!(s.stage, Stage::Churned);
        assert_eq!(
            s.explanation.render(Locale::En),
            "churned: 366 days since last purchase > limit of 365 days"
        );
        assert_eq!(
            s.explanation.render(Locale::ZhCn),
            "已流失：距上次购买 366 天 > 上限 365 天"
        );
        assert_eq!(
            stage(Some(&facts(900, 365, 4, Some(100.0))), None).stage,
            Stage::AtRisk
        );
    }

    #[test]
    fn loyal_needs_purchases_and_tenure() {
        let s = stage(Some(&facts(180, 5, 5, Some(30.0))), None);
        assert_eq!(s.stage, Stage::Loyal);
        assert_eq!(
            s.explanation.render(Locale::En),
            "loyal: 5 purchase days ≥ 5, customer for 180 days ≥ 180 days"
        );
        assert_eq!(
            stage(Some(&facts(179, 5, 5, Some(30.0))), None).stage,
            Stage::Active
        );
        assert_eq!(
            stage(Some(&facts(400, 5, 4, Some(30.0))), None).stage,
            Stage::Active
        );
        // A loyal customer who goes quiet is at risk (rule order).
        assert_eq!(
            stage(Some(&facts(400, 70, 9, Some(30.0))), None).stage,
            Stage::AtRisk
        );
    }

    #[test]
    fn won_back_after_churn_then_moves_on() {
        let churned = PreviousStage {
            stage: Stage::Churned,
            since_day: TODAY - 50,
        };
        // Bought 10 days ago, after the churn was assigned → won-back.
        let f = facts(800, 10, 6, Some(60.0));
        let s = stage(Some(&f), Some(churned));
        assert_eq!(
            (s.stage, s.changed, s.since_day),
            (Stage::WonBack, true, TODAY)
        );
        assert_eq!(
            s.explanation.render(Locale::En),
            "won-back: bought again 10 days ago after having been churned"
        );
        assert_eq!(
            s.explanation.render(Locale::ZhCn),
            "已挽回：流失后于 10 天前再次购买"
        );
        // Without the churned history the same facts are loyal.
        assert_eq!(stage(Some(&f), None).stage, Stage::Loyal);
        // Churned but no purchase since: still churned by the rules.
        let quiet = facts(800, 300, 6, Some(60.0));
        let s = stage(Some(&quiet), Some(churned));
        assert_eq!(
            (s.stage, s.changed, s.since_day),
            (Stage::Churned, false, TODAY - 50)
        );
        // Won-back is kept for 90 days, then the usual rules apply.
        let wb = |since_ago| PreviousStage {
            stage: Stage::WonBack,
            since_day: TODAY - since_ago,
        };
        let s = stage(Some(&f), Some(wb(89)));
        assert_eq!(
            (s.stage, s.changed, s.since_day),
            (Stage::WonBack, false, TODAY - 89)
        );
        assert_eq!(
            s.explanation.render(Locale::En),
            "won-back: won back 89 days ago < 90 days"
        );
        assert_eq!(stage(Some(&f), Some(wb(90))).stage, Stage::Loyal);
        // A won-back customer who goes quiet again is at risk.
        assert_eq!(
            stage(Some(&facts(800, 130, 6, Some(60.0))), Some(wb(10))).stage,
            Stage::AtRisk
        );
    }

    #[test]
    fn stage_names() {
        assert_eq!(Stage::ALL.len(), 7);
        assert_eq!(Stage::AtRisk.code(), "at_risk");
        assert_eq!(Stage::WonBack.name(Locale::ZhCn), "已挽回");
    }
}
