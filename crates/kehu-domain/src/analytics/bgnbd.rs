//! BG/NBD (Fader, Hardie & Lee 2005): who is still alive and how much they
//! will buy (ANALYTICS.md, "BG/NBD").

use super::optimize::{Objective, bfgs_two_stage};
use super::special::{digamma, euler_bracket_over_eps, hyp2f1, ln_beta, ln_gamma, log_sum_exp};
use super::sum::sum_rows;
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
        self.expected_purchases_if_alive(x, t, horizon) * self.p_alive(x, t_x, t)
    }

    /// E[Y(h)] / P(alive): what an alive customer is expected to buy. It
    /// depends on x and T only (t_x enters through P(alive)), so a caller
    /// scoring many customers can compute it once per distinct (x, T).
    pub fn expected_purchases_if_alive(&self, x: u32, t: f64, horizon: f64) -> f64 {
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
        c * bracket
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

/// The BG/NBD log-likelihood of a set of customers, arranged for repeated
/// evaluation: customers with the same (x, t_x, T) are one group, the
/// x-only terms (lnΓ(r+x), lnB(a, b+x), a/(b+x−1)) are computed once per
/// distinct x, and ln(α+τ) once per distinct time τ, so a group costs one
/// exp and one ln_1p.
struct Likelihood {
    /// Distinct times (T and t_x values), ascending.
    times: Vec<f64>,
    /// Distinct x with the number of customers having it.
    xs: Vec<(u32, f64)>,
    /// (index into xs, index of T, index of t_x, customers).
    groups: Vec<(u32, u32, u32, f64)>,
    customers: f64,
}

impl Likelihood {
    fn new(keys: &mut [(u32, f64, f64)]) -> Self {
        keys.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
        });
        let mut times: Vec<f64> = keys.iter().flat_map(|k| [k.1, k.2]).collect();
        times.sort_unstable_by(f64::total_cmp);
        times.dedup();
        let at = |v: f64| times.partition_point(|t| *t < v) as u32;
        let mut xs: Vec<(u32, f64)> = Vec::new();
        let mut groups: Vec<(u32, u32, u32, f64)> = Vec::new();
        let mut last: Option<(u32, f64, f64)> = None;
        for &(x, t_x, t) in keys.iter() {
            match xs.last_mut() {
                Some(e) if e.0 == x => e.1 += 1.0,
                _ => xs.push((x, 1.0)),
            }
            match groups.last_mut() {
                Some(g) if last == Some((x, t_x, t)) => g.3 += 1.0,
                _ => groups.push(((xs.len() - 1) as u32, at(t), at(t_x), 1.0)),
            }
            last = Some((x, t_x, t));
        }
        Likelihood {
            times,
            xs,
            groups,
            customers: keys.len() as f64,
        }
    }

    /// Σ ln L at `p`, and its gradient in (r, α, a, b) written to `grad`.
    fn eval(&self, p: &BgNbdParams, grad: &mut [f64; 4]) -> f64 {
        let BgNbdParams { r, alpha, a, b } = *p;
        let (ln_t, inv_t): (Vec<f64>, Vec<f64>) = self
            .times
            .iter()
            .map(|t| ((alpha + t).ln(), 1.0 / (alpha + t)))
            .unzip();
        // Per distinct x: ln(a/(b+x−1)) and 1/(b+x−1) for the tail, and the
        // head lnΓ(r+x)−lnΓ(r) + r ln α + lnB(a, b+x) − lnB(a, b) with its
        // derivatives, summed over the x's customers right here.
        let (dg_r, dg_ab, dg_b) = (digamma(r), digamma(a + b), digamma(b));
        let (ln_a, ln_alpha) = (a.ln(), alpha.ln());
        let lgam = ln_gamma(r) + ln_beta(a, b);
        let mut ll = 0.0;
        let mut d = [0.0; 4];
        let mut per_x: Vec<(f64, f64)> = Vec::with_capacity(self.xs.len());
        for &(x, n) in &self.xs {
            let xf = f64::from(x);
            let head = ln_gamma(r + xf) + r * ln_alpha + ln_beta(a, b + xf) - lgam;
            let dg_abx = digamma(a + b + xf);
            ll += n * head;
            d[0] += n * (digamma(r + xf) - dg_r + ln_alpha);
            d[1] += n * r / alpha;
            d[2] += n * (dg_ab - dg_abx);
            d[3] += n * (dg_ab - dg_b + digamma(b + xf) - dg_abx);
            per_x.push((ln_a - (b + xf - 1.0).ln(), 1.0 / (b + xf - 1.0)));
        }
        // Tail: ln[(α+T)^−(r+x) + [x>0]·a/(b+x−1)·(α+t_x)^−(r+x)]
        //     = −(r+x)·ln(α+T) + softplus(δ), δ = ln(a/(b+x−1)) − (r+x)·ln((α+t_x)/(α+T)),
        // whose share w = sigmoid(δ) weighs the second term in the derivatives.
        // Σ ln L, ∂/∂r, ∂/∂α, Σ n·w (for ∂/∂a), ∂/∂b.
        let tail = sum_rows(&self.groups, |&(xi, it, itx, n), acc: &mut [f64; 5]| {
            let (x, _) = self.xs[xi as usize];
            let rx = r + f64::from(x);
            let (l1, i1) = (ln_t[it as usize], inv_t[it as usize]);
            if x == 0 {
                acc[0] -= n * rx * l1;
                acc[1] -= n * l1;
                acc[2] -= n * rx * i1;
                return;
            }
            let (l2, i2) = (ln_t[itx as usize], inv_t[itx as usize]);
            let (ln_ratio, inv_bx1) = per_x[xi as usize];
            let delta = ln_ratio - rx * (l2 - l1);
            let (softplus, w) = if delta > 0.0 {
                let e = (-delta).exp();
                (delta + e.ln_1p(), 1.0 / (1.0 + e))
            } else {
                let e = delta.exp();
                (e.ln_1p(), e / (1.0 + e))
            };
            acc[0] += n * (softplus - rx * l1);
            acc[1] -= n * (l1 + w * (l2 - l1));
            acc[2] -= n * rx * (i1 + w * (i2 - i1));
            acc[3] += n * w;
            acc[4] -= n * w * inv_bx1;
        });
        ll += tail[0];
        d[0] += tail[1];
        d[1] += tail[2];
        d[3] += tail[4];
        let sw = tail[3];
        d[2] += sw / a;
        *grad = d;
        ll
    }
}

/// Fits BG/NBD by maximum likelihood: BFGS on (ln r, ln α, ln a, ln b) with
/// the analytic gradient, first on a subsample, then on everyone. `None`
/// with no customers or when the optimum is not finite. The parameters are
/// in the unit of the summaries.
pub fn fit_bgnbd<K>(summaries: &[RepeatSummary<K>]) -> Option<BgNbdFit> {
    if summaries.is_empty() {
        return None;
    }
    let sample = |stride: usize| {
        let mut keys: Vec<(u32, f64, f64)> = summaries
            .iter()
            .step_by(stride)
            .map(|s| (s.x, s.t_x, s.t))
            .collect();
        Likelihood::new(&mut keys)
    };
    let from_log = |v: &[f64]| BgNbdParams {
        r: v[0].exp(),
        alpha: v[1].exp(),
        a: v[2].exp(),
        b: v[3].exp(),
    };
    // The objective is −mean ln L over the customers, its gradient taken
    // through the log-parameters (∂/∂ln θ = θ·∂/∂θ).
    let full = sample(1);
    let make = |stride: usize| -> Box<Objective> {
        let sampled = (stride > 1).then(|| sample(stride));
        let full = &full;
        Box::new(move |v: &[f64], g: &mut [f64]| {
            let lik = sampled.as_ref().unwrap_or(full);
            let p = from_log(v);
            let mut d = [0.0; 4];
            let ll = lik.eval(&p, &mut d);
            let scale = -1.0 / lik.customers;
            for (i, theta) in [p.r, p.alpha, p.a, p.b].into_iter().enumerate() {
                g[i] = scale * theta * d[i];
            }
            scale * ll
        })
    };
    let n = summaries.len() as f64;
    let mean_t = summaries.iter().map(|s| s.t).sum::<f64>() / n;
    // Start at r = a = b = 1 and α at the mean customer age, which sets the
    // start's mean purchase rate to roughly one per customer lifetime.
    let start = [0.0, mean_t.max(1e-3).ln(), 0.0, 0.0];
    let m = bfgs_two_stage(&make, summaries.len(), &start, GTOL);
    let params = from_log(&m.x);
    let ll = -m.value * n;
    ll.is_finite().then_some(BgNbdFit {
        params,
        log_likelihood: ll,
        customers: summaries.len(),
        groups: full.groups.len(),
        evaluations: m.evaluations,
    })
}

/// Gradient tolerance on the mean log-likelihood per customer: far below
/// what moves a prediction, well above the rounding of a sum over 10⁶ terms.
pub(crate) const GTOL: f64 = 1e-9;

#[cfg(test)]
mod tests {
    use super::*;

    /// The grouped likelihood equals the sum of the per-customer ones, and
    /// its analytic gradient matches central differences.
    #[test]
    fn grouped_likelihood_and_gradient_are_right() {
        let mut keys = vec![
            (0, 0.0, 30.0),
            (0, 0.0, 30.0),
            (0, 0.0, 12.5),
            (1, 3.0, 30.0),
            (4, 20.0, 30.0),
            (4, 20.0, 30.0),
            (4, 29.5, 30.0),
            (17, 11.0, 12.5),
            (60, 29.9, 30.0),
        ];
        let lik = Likelihood::new(&mut keys);
        assert_eq!(lik.groups.len(), 7);
        for p in [
            BgNbdParams {
                r: 0.24,
                alpha: 4.4,
                a: 0.79,
                b: 2.43,
            },
            BgNbdParams {
                r: 3.1,
                alpha: 0.6,
                a: 1.0,
                b: 40.0,
            },
        ] {
            let mut g = [0.0; 4];
            let ll = lik.eval(&p, &mut g);
            let direct: f64 = keys.iter().map(|k| p.log_likelihood(k.0, k.1, k.2)).sum();
            assert!(
                (ll - direct).abs() < 1e-10 * direct.abs(),
                "{ll} vs {direct}"
            );
            let v = [p.r, p.alpha, p.a, p.b];
            for i in 0..4 {
                let h = 1e-6 * v[i];
                let at = |delta: f64| {
                    let mut w = v;
                    w[i] += delta;
                    let q = BgNbdParams {
                        r: w[0],
                        alpha: w[1],
                        a: w[2],
                        b: w[3],
                    };
                    lik.eval(&q, &mut [0.0; 4])
                };
                let fd = (at(h) - at(-h)) / (2.0 * h);
                assert!(
                    (fd - g[i]).abs() < 1e-6 * g[i].abs().max(1.0),
                    "{i}: {fd} vs {}",
                    g[i]
                );
            }
        }
    }

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
