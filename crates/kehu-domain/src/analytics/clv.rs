//! Customer lifetime value over a horizon of months (ANALYTICS.md, "CLV").

use super::bgnbd::BgNbdParams;
use super::summary::TimeUnit;

/// CLV horizon and discounting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClvConfig {
    pub months: u32,
    pub weeks_per_month: f64,
    /// Discount rate per month (0.01 = 1 %).
    pub monthly_discount: f64,
    /// Share of spend that is contribution (1.0 = CLV in spend).
    pub margin_rate: f64,
}

impl Default for ClvConfig {
    /// 12 months of 4.345 weeks, 1 % a month, CLV in spend.
    fn default() -> Self {
        ClvConfig {
            months: 12,
            weeks_per_month: 4.345,
            monthly_discount: 0.01,
            margin_rate: 1.0,
        }
    }
}

/// Discounted value of the purchases BG/NBD expects month by month:
/// Σ_k margin · E[M] · (E[Y(k months)] − E[Y((k−1) months)]) / (1+d)^k.
/// `params` are in `unit` (the unit x, t_x, T are in); `expected_spend` is
/// E[M] from Gamma-Gamma, in the money unit the result is wanted in.
pub fn clv(
    params: &BgNbdParams,
    unit: TimeUnit,
    x: u32,
    t_x: f64,
    t: f64,
    expected_spend: f64,
    config: &ClvConfig,
) -> f64 {
    params.p_alive(x, t_x, t)
        * discounted_purchases_if_alive(params, unit, x, t, config)
        * expected_spend
        * config.margin_rate
}

/// Σ_k (E[Y(k months)] − E[Y((k−1) months)]) / (1+d)^k for a customer known
/// to be alive: [`clv`] is this × P(alive) × E[M] × margin. Depends on x and
/// T only, so a caller scoring many customers computes it once per (x, T).
pub fn discounted_purchases_if_alive(
    params: &BgNbdParams,
    unit: TimeUnit,
    x: u32,
    t: f64,
    config: &ClvConfig,
) -> f64 {
    let month = config.weeks_per_month * 7.0 / unit.days();
    let mut prev = 0.0;
    let mut total = 0.0;
    for k in 1..=config.months {
        let ey = params.expected_purchases_if_alive(x, t, month * f64::from(k));
        total += (ey - prev) / (1.0 + config.monthly_discount).powi(k as i32);
        prev = ey;
    }
    total
}
