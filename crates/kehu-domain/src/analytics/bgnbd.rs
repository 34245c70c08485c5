//! BG/NBD (Fader, Hardie & Lee 2005): who is still alive and how much they
//! will buy (ANALYTICS.md, "BG/NBD").

use super::optimize::nelder_mead;
use super::special::{euler_bracket_over_eps, hyp2f1, ln_beta, ln_gamma, log_sum_exp};
use super::summary::{RepeatSummary, TimeUnit};

/// BG/NBD parameters: purchase rate λ ~ Gamma(shape r, rate α), so α is in
/// time units (it adds to T); dropout p ~ Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbdParams {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl BgNbdParams {
    /// The same model in another time unit: only α changes (α_days = 7·α_weeks),
    /// so parameters fitted in weeks can score data kept in days.
    pub fn in_unit(self, from: TimeUnit, to: TimeUnit) -> Self {
        BgNbdParams {
            alpha: self.alpha * from.days() / to.days(),
            ..self
        }
    }

    /// ln L for one customer (constants kept, so it matches `lifetimes` and
    /// the paper), with the two-term sum taken by log-sum-exp so customers
    /// with many purchases or a long history do not underflow.
    pub fn log_likelihood(&self, x: u32, t_x: f64, t: f64) -> f64 {
        let xf = f64::from(x);
        let head = ln_gamma(self.r + xf) - ln_gamma(self.r)
            + self.r * self.alpha.ln()
            + ln_beta(self.a, self.b + xf)
            - ln_beta(self.a, self.b);
        head + self.log_tail(x, t_x, t, self.a.ln() - (self.b + xf - 1.0).ln())
    }

    fn log_tail(&self, x: u32, t_x: f64, t: f64, ln_a_over_bx1: f64) -> f64 {
        let rx = self.r + f64::from(x);
        let a1 = -rx * (self.alpha + t).ln();
        if x == 0 {
            return a1;
        }
        let a2 = ln_a_over_bx1 - rx * (self.alpha + t_x).ln();
        log_sum_exp(a1, a2)
    }

    /// ln of the odds that the customer has dropped out; P(alive) is its logistic.
    fn log_odds_dead(&self, x: u32, t_x: f64, t: f64) -> f64 {
        if x == 0 {
            return f64::NEG_INFINITY;
        }
        let xf = f64::from(x);
        self.a.ln() - (self.b + xf - 1.0).ln()
            + (self.r + xf) * ((self.alpha + t).ln() - (self.alpha + t_x).ln())
    }

    /// P(alive | x, t_x, T): the churn signal. Computed as a logistic of the
    /// log-odds so it never overflows; exactly 1 for x = 0 (the model only
    /// lets a customer drop out after a repeat purchase). Mathematically in
    /// (0, 1]; it underflows to 0.0 only when the odds of being dead exceed
    /// ~1e308 (e.g. 200 purchases in one day, then 500 weeks of silence).
    pub fn p_alive(&self, x: u32, t_x: f64, t: f64) -> f64 {
        let lo = self.log_odds_dead(x, t_x, t);
        if lo == f64::NEG_INFINITY {
            1.0
        } else if lo > 0.0 {
            let e = (-lo).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + lo.exp())
        }
    }

    /// E[Y(h) | x, t_x, T]: expected repeat purchases in (T, T + h], the
    /// basis of "expected purchases in the next 90 days" and CLV. Uses the
    /// Euler-transformed 2F1 (a short series) and is finite and continuous
    /// through a = 1. For x = 0 it needs a + b ≠ 1 (the 2F1's third
    /// parameter a + b + x − 1 must not be 0).
    pub fn expected_purchases(&self, x: u32, t_x: f64, t: f64, horizon: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        let xf = f64::from(x);
        let c = self.a + self.b + xf - 1.0;
        let z = horizon / (self.alpha + t + horizon);
        let bracket = if (self.a - 1.0).abs() <= EULER_MAX_EPS {
            euler_bracket_over_eps(self.a + self.b - 1.0 - self.r, self.a - 1.0, c, z)
        } else {
            let lead = (-(self.r + xf) * (horizon / (self.alpha + t)).ln_1p()).exp();
            (1.0 - lead * hyp2f1(self.r + xf, self.b + xf, c, z)) / (self.a - 1.0)
        };
        c * bracket * self.p_alive(x, t_x, t)
    }

    /// E[X(h)] for a customer just acquired: the model's population growth
    /// curve, for checking a fit against the observed cumulative purchases.
    /// Needs a + b > 1.
    pub fn expected_purchases_new(&self, horizon: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        let c = self.a + self.b - 1.0;
        let w = horizon / (self.alpha + horizon);
        if (self.a - 1.0).abs() <= EULER_MAX_EPS {
            c * euler_bracket_over_eps(c - self.r, self.a - 1.0, c, w)
        } else {
            let lead = (-self.r * (horizon / self.alpha).ln_1p()).exp();
            c * (1.0 - lead * hyp2f1(self.r, self.b, c, w)) / (self.a - 1.0)
        }
    }
}

/// Up to this |a − 1| the Euler-transformed series is used (exact through
/// a = 1); beyond it, the direct 2F1, whose series stays finite when the
/// fit drives a and b very large (almost no dropout).
const EULER_MAX_EPS: f64 = 30.0;

/// A fitted BG/NBD model.
#[derive(Debug, Clone, PartialEq)]
pub struct BgNbdFit {
    pub params: BgNbdParams,
    /// Σ ln L at the optimum, in the fitted unit.
    pub log_likelihood: f64,
    pub customers: usize,
    /// Distinct (x, t_x, T) groups the likelihood was evaluated over.
    pub groups: usize,
    pub evaluations: usize,
}

/// Σ ln L over customer groups `(x, t_x, T, count)`, sorted by x so the
/// x-only terms (lnΓ(r+x), lnB(a, b+x), ln a/(b+x−1)) are computed once per x.
fn total_log_likelihood(p: &BgNbdParams, groups: &[(u32, f64, f64, f64)]) -> f64 {
    let base = -ln_gamma(p.r) + p.r * p.alpha.ln() - ln_beta(p.a, p.b);
    let mut total = 0.0;
    let mut cur_x = u32::MAX;
    let (mut head, mut ln_ratio) = (0.0, 0.0);
    for &(x, t_x, t, n) in groups {
        if x != cur_x {
            cur_x = x;
            let xf = f64::from(x);
            head = base + ln_gamma(p.r + xf) + ln_beta(p.a, p.b + xf);
            ln_ratio = p.a.ln() - (p.b + xf - 1.0).ln();
        }
        total += n * (head + p.log_tail(x, t_x, t, ln_ratio));
    }
    total
}

/// Fits BG/NBD by maximum likelihood (Nelder–Mead on ln r, ln α, ln a, ln b,
/// customers grouped by identical (x, t_x, T)). `None` with no customers or
/// when the optimum is not finite. The parameters are in the unit of the
/// summaries.
pub fn fit_bgnbd<K>(summaries: &[RepeatSummary<K>]) -> Option<BgNbdFit> {
    if summaries.is_empty() {
        return None;
    }
    let mut keys: Vec<(u32, f64, f64)> = summaries.iter().map(|s| (s.x, s.t_x, s.t)).collect();
    keys.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.total_cmp(&b.2))
    });
    let mut groups: Vec<(u32, f64, f64, f64)> = Vec::new();
    for (x, t_x, t) in keys {
        match groups.last_mut() {
            Some(g) if g.0 == x && g.1 == t_x && g.2 == t => g.3 += 1.0,
            _ => groups.push((x, t_x, t, 1.0)),
        }
    }
    let n = summaries.len() as f64;
    let mean_t = summaries.iter().map(|s| s.t).sum::<f64>() / n;
    let from_log = |v: &[f64]| BgNbdParams {
        r: v[0].exp(),
        alpha: v[1].exp(),
        a: v[2].exp(),
        b: v[3].exp(),
    };
    let objective = |v: &[f64]| -total_log_likelihood(&from_log(v), &groups) / n;
    // Start at r = a = b = 1 and α at the mean customer age, which sets the
    // start's mean purchase rate to roughly one per customer lifetime.
    let start = [0.0, mean_t.max(1e-3).ln(), 0.0, 0.0];
    let m = nelder_mead(&objective, &start, 0.7, 1e-12, 20_000);
    let params = from_log(&m.x);
    let ll = -m.value * n;
    ll.is_finite().then_some(BgNbdFit {
        params,
        log_likelihood: ll,
        customers: summaries.len(),
        groups: groups.len(),
        evaluations: m.evaluations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ways of evaluating E[Y] agree where both are valid, and the
    /// direct one stays finite where a fit drove a and b huge.
    #[test]
    fn expected_purchases_agree_across_the_evaluation_switch() {
        for &(a, b) in &[(5.0, 9.0), (25.0, 80.0)] {
            let p = BgNbdParams {
                r: 2.1,
                alpha: 7.9,
                a,
                b,
            };
            for &(x, t_x, t, h) in &[
                (0u32, 0.0, 20.0, 13.0),
                (6, 18.0, 28.0, 13.0),
                (44, 25.1, 28.4, 52.0),
            ] {
                let euler = p.expected_purchases(x, t_x, t, h);
                let xf = f64::from(x);
                let c = a + b + xf - 1.0;
                let z = h / (p.alpha + t + h);
                let lead = (-(p.r + xf) * (h / (p.alpha + t)).ln_1p()).exp();
                let direct = c * (1.0 - lead * hyp2f1(p.r + xf, b + xf, c, z)) / (a - 1.0)
                    * p.p_alive(x, t_x, t);
                assert!(
                    (euler - direct).abs() <= 1e-9 * euler.abs().max(1e-12),
                    "{a} {b} {x}: {euler} vs {direct}"
                );
            }
        }
        let huge = BgNbdParams {
            r: 10.26,
            alpha: 7.87,
            a: 3.75e6,
            b: 1.32e8,
        };
        let (e13, e26) = (
            huge.expected_purchases(44, 25.14, 28.43, 13.0),
            huge.expected_purchases(44, 25.14, 28.43, 26.0),
        );
        assert!(e13.is_finite() && e13 > 0.0 && e26 > e13, "{e13} {e26}");
        let n = huge.expected_purchases_new(13.0);
        assert!(n.is_finite() && n > 0.0, "{n}");
    }
}
