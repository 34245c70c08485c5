//! Gamma-Gamma spend model (Fader & Hardie 2013; Colombo & Jiang 1999):
//! what a customer's purchases are worth (ANALYTICS.md, "Gamma-Gamma").

use super::bgnbd::GTOL;
use super::optimize::{Objective, bfgs_two_stage};
use super::special::{digamma, ln_gamma};
use super::sum::sum_rows;
use super::summary::RepeatSummary;

/// Spend per purchase z ~ Gamma(p, ν) with ν ~ Gamma(q, v) across customers.
/// v is in the money unit of zbar (分 when fitted on [`RepeatSummary`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGammaParams {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

impl GammaGammaParams {
    /// ln L of one customer's mean repeat spend `zbar` over `x` purchases.
    pub fn log_likelihood(&self, x: u32, zbar: f64) -> f64 {
        let (p, q, v) = (self.p, self.q, self.v);
        let xf = f64::from(x);
        let px = p * xf;
        ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q)
            + q * v.ln()
            + (px - 1.0) * zbar.ln()
            + px * xf.ln()
            - (px + q) * (v + xf * zbar).ln()
    }

    /// Population mean spend per purchase, v·p/(q−1) (needs q > 1): the
    /// estimate for customers without repeat purchases.
    pub fn population_mean(&self) -> f64 {
        self.v * self.p / (self.q - 1.0)
    }

    /// E[M | x, zbar]: the customer's own mean shrunk toward the population
    /// mean, more for customers with few purchases; the population mean for x = 0.
    pub fn expected_average_spend(&self, x: u32, zbar: f64) -> f64 {
        if x == 0 {
            return self.population_mean();
        }
        let px = self.p * f64::from(x);
        let w = px / (px + self.q - 1.0);
        (1.0 - w) * self.population_mean() + w * zbar
    }
}

/// A fitted Gamma-Gamma model.
#[derive(Debug, Clone, PartialEq)]
pub struct GammaGammaFit {
    pub params: GammaGammaParams,
    pub log_likelihood: f64,
    /// Customers used (x > 0 and zbar > 0).
    pub customers: usize,
    pub evaluations: usize,
}

/// The Gamma-Gamma log-likelihood arranged for repeated evaluation. With
/// s = x·zbar, one customer's ln L is
/// lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q·(ln v − ln s) − (q + px)·u − ln zbar,
/// u = ln(1 + v/s): the lnΓ terms depend on x only (summed per distinct
/// x), ln s and ln zbar are constants, so a customer costs one ln_1p per
/// evaluation, and u is small, so the sums keep their precision.
struct Likelihood {
    /// Distinct x with its number of customers.
    xs: Vec<(f64, f64)>,
    /// (x, 1/s, s) per customer.
    rows: Vec<(f64, f64, f64)>,
    sum_ln_s: f64,
    sum_ln_zbar: f64,
}

impl Likelihood {
    fn new(rows: impl Iterator<Item = (u32, f64)>) -> Self {
        let mut counts = std::collections::BTreeMap::<u32, f64>::new();
        let (mut sum_ln_s, mut sum_ln_zbar) = (0.0, 0.0);
        let rows: Vec<(f64, f64, f64)> = rows
            .map(|(x, zbar)| {
                *counts.entry(x).or_default() += 1.0;
                let xf = f64::from(x);
                let s = xf * zbar;
                sum_ln_s += s.ln();
                sum_ln_zbar += zbar.ln();
                (xf, 1.0 / s, s)
            })
            .collect();
        Likelihood {
            xs: counts.into_iter().map(|(x, n)| (f64::from(x), n)).collect(),
            rows,
            sum_ln_s,
            sum_ln_zbar,
        }
    }

    /// Σ ln L at `g`, and its gradient in (p, q, v) written to `grad`.
    fn eval(&self, params: &GammaGammaParams, grad: &mut [f64; 3]) -> f64 {
        let GammaGammaParams { p, q, v } = *params;
        let n = self.rows.len() as f64;
        let (lg_q, dg_q, ln_v) = (ln_gamma(q), digamma(q), v.ln());
        // Σ u, Σ x·u, Σ (q+px)/(v+s) (= −∂/∂v of Σ (q+px)·u).
        let [su, sxu, sdv] = sum_rows(&self.rows, |&(x, inv_s, s), acc: &mut [f64; 3]| {
            let u = (v * inv_s).ln_1p();
            acc[0] += u;
            acc[1] += x * u;
            acc[2] += (q + p * x) / (v + s);
        });
        let mut ll = q * (n * ln_v - self.sum_ln_s) - q * su - p * sxu - self.sum_ln_zbar;
        let mut d = [-sxu, n * ln_v - self.sum_ln_s - su, n * q / v - sdv];
        for &(x, count) in &self.xs {
            let px = p * x;
            let dg_pxq = digamma(px + q);
            ll += count * (ln_gamma(px + q) - ln_gamma(px) - lg_q);
            d[0] += count * x * (dg_pxq - digamma(px));
            d[1] += count * (dg_pxq - dg_q);
        }
        *grad = d;
        ll
    }
}

/// Fits (p, q, v) by maximum likelihood on the customers with x > 0 and
/// zbar > 0: BFGS on the log-parameters with the analytic gradient, first
/// on a subsample. `None` when there are none or the optimum is not finite.
pub fn fit_gamma_gamma<K>(summaries: &[RepeatSummary<K>]) -> Option<GammaGammaFit> {
    let returning = || summaries.iter().filter(|s| s.x > 0 && s.zbar > 0.0);
    let count = returning().count();
    if count == 0 {
        return None;
    }
    let n = count as f64;
    let mean = returning().map(|s| s.zbar).sum::<f64>() / n;
    let from_log = |v: &[f64]| GammaGammaParams {
        p: v[0].exp(),
        q: v[1].exp(),
        v: v[2].exp(),
    };
    let make = |stride: usize| -> Box<Objective> {
        let lik = Likelihood::new(returning().step_by(stride).map(|s| (s.x, s.zbar)));
        let scale = -1.0 / lik.rows.len() as f64;
        Box::new(move |v: &[f64], g: &mut [f64]| {
            let p = from_log(v);
            let mut d = [0.0; 3];
            let ll = lik.eval(&p, &mut d);
            for (i, theta) in [p.p, p.q, p.v].into_iter().enumerate() {
                g[i] = scale * theta * d[i];
            }
            scale * ll
        })
    };
    // Start at p = 1, q = 2, v = mean zbar: population mean = mean zbar.
    let start = [0.0, 2f64.ln(), mean.ln()];
    let m = bfgs_two_stage(&make, count, &start, GTOL);
    let ll = -m.value * n;
    ll.is_finite().then_some(GammaGammaFit {
        params: from_log(&m.x),
        log_likelihood: ll,
        customers: count,
        evaluations: m.evaluations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The arranged likelihood equals the per-customer sum, and its analytic
    /// gradient matches central differences.
    #[test]
    fn likelihood_and_gradient_are_right() {
        let rows = [
            (1u32, 3_500.0),
            (1, 120.0),
            (2, 9_000.0),
            (7, 4_410.5),
            (30, 2_000.0),
        ];
        let lik = Likelihood::new(rows.iter().copied());
        let p = GammaGammaParams {
            p: 6.25,
            q: 3.74,
            v: 1_500.0,
        };
        let mut g = [0.0; 3];
        let ll = lik.eval(&p, &mut g);
        let direct: f64 = rows.iter().map(|&(x, z)| p.log_likelihood(x, z)).sum();
        assert!(
            (ll - direct).abs() < 1e-10 * direct.abs(),
            "{ll} vs {direct}"
        );
        let v = [p.p, p.q, p.v];
        for i in 0..3 {
            let h = 1e-6 * v[i];
            let at = |delta: f64| {
                let mut w = v;
                w[i] += delta;
                lik.eval(
                    &GammaGammaParams {
                        p: w[0],
                        q: w[1],
                        v: w[2],
                    },
                    &mut [0.0; 3],
                )
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (fd - g[i]).abs() < 1e-6 * g[i].abs().max(1e-3),
                "{i}: {fd} vs {}",
                g[i]
            );
        }
    }
}
