//! Gamma-Gamma spend model (Fader & Hardie 2013; Colombo & Jiang 1999):
//! what a customer's purchases are worth (ANALYTICS.md, "Gamma-Gamma").

use super::optimize::nelder_mead;
use super::special::ln_gamma;
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

/// Fits (p, q, v) by maximum likelihood on the customers with x > 0 and
/// zbar > 0 (Nelder–Mead on log-parameters). `None` when there are none or
/// the optimum is not finite.
pub fn fit_gamma_gamma<K>(summaries: &[RepeatSummary<K>]) -> Option<GammaGammaFit> {
    let rows: Vec<(u32, f64)> = summaries
        .iter()
        .filter(|s| s.x > 0 && s.zbar > 0.0)
        .map(|s| (s.x, s.zbar))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let n = rows.len() as f64;
    let mean = rows.iter().map(|r| r.1).sum::<f64>() / n;
    let from_log = |v: &[f64]| GammaGammaParams {
        p: v[0].exp(),
        q: v[1].exp(),
        v: v[2].exp(),
    };
    let objective = |v: &[f64]| {
        let p = from_log(v);
        -rows
            .iter()
            .map(|&(x, z)| p.log_likelihood(x, z))
            .sum::<f64>()
            / n
    };
    // Start at p = 1, q = 2, v = mean zbar: population mean = mean zbar.
    let start = [0.0, 2f64.ln(), mean.ln()];
    let m = nelder_mead(&objective, &start, 0.7, 1e-12, 20_000);
    let ll = -m.value * n;
    ll.is_finite().then_some(GammaGammaFit {
        params: from_log(&m.x),
        log_likelihood: ll,
        customers: rows.len(),
        evaluations: m.evaluations,
    })
}
