//! One analysis run over an order log: the models fitted on the calibration
//! period and every customer's scores and predictions. `kehu analyze` calls
//! [`analyze`]; the server's classification fits through the same
//! [`fit_models`] and predicts with the same model methods, so an analyst's
//! offline numbers are the product's numbers.

use super::bgnbd::{BgNbdFit, fit_bgnbd};
use std::collections::HashMap;

use super::clv::{ClvConfig, discounted_purchases_if_alive};
use super::gamma_gamma::{GammaGammaFit, fit_gamma_gamma};
use super::rfm::rfm_scores;
use super::summary::{Order, OrderBook, RepeatSummary, TimeUnit};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalysisOptions {
    /// RFM is scored as of this day (inclusive).
    pub as_of: i32,
    /// The models see orders up to this day (inclusive); at most `as_of`.
    pub calibration_end: i32,
    pub unit: TimeUnit,
    /// Expected purchases are over this many units after calibration end.
    pub horizon: f64,
    pub clv: ClvConfig,
}

/// One customer's row. Times are in the analysis unit, money in 分.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerResult<K> {
    pub customer_id: K,
    /// Repeat purchases x.
    pub frequency: u32,
    /// t_x.
    pub recency: f64,
    /// T.
    pub age: f64,
    pub r_score: u8,
    pub f_score: u8,
    pub m_score: u8,
    pub p_alive: f64,
    pub expected_purchases: f64,
    /// E[M] from Gamma-Gamma; `None` when that model could not be fitted.
    pub expected_spend_fen: Option<f64>,
    pub clv_fen: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Analysis<K> {
    pub bgnbd: BgNbdFit,
    pub gamma_gamma: Option<GammaGammaFit>,
    /// Customers first seen by calibration end, by id.
    pub customers: Vec<CustomerResult<K>>,
}

/// Why no analysis could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisError {
    CalibrationAfterAsOf,
    NoCustomers,
    /// The BG/NBD likelihood has no finite optimum (e.g. nobody repeats).
    NotIdentifiable,
}

/// The models fitted on the calibration period, with their inputs.
pub struct Fitted<K> {
    /// Per customer first seen by calibration end, sorted by id.
    pub summaries: Vec<RepeatSummary<K>>,
    pub bgnbd: BgNbdFit,
    pub gamma_gamma: Option<GammaGammaFit>,
}

/// Fits BG/NBD and Gamma-Gamma on the book's orders up to calibration end:
/// the one fitting path of `kehu analyze` and the server's runs.
pub fn fit_models<K: Ord + Clone>(
    book: &OrderBook<K>,
    opts: &AnalysisOptions,
) -> Result<Fitted<K>, AnalysisError> {
    if opts.calibration_end > opts.as_of {
        return Err(AnalysisError::CalibrationAfterAsOf);
    }
    let summaries = book.repeat_summary(opts.calibration_end, opts.unit);
    if summaries.is_empty() {
        return Err(AnalysisError::NoCustomers);
    }
    // Nobody repeating drives r to 0: a fit, but not one worth predicting from.
    if summaries.iter().all(|s| s.x == 0) {
        return Err(AnalysisError::NotIdentifiable);
    }
    let bgnbd = fit_bgnbd(&summaries).ok_or(AnalysisError::NotIdentifiable)?;
    let gamma_gamma = fit_gamma_gamma(&summaries);
    Ok(Fitted {
        summaries,
        bgnbd,
        gamma_gamma,
    })
}

/// The models fitted on the calibration period and every customer's
/// scores and predictions, RFM as of `opts.as_of`.
pub fn analyze<K: Ord + Clone>(
    orders: &[Order<K>],
    opts: &AnalysisOptions,
) -> Result<Analysis<K>, AnalysisError> {
    let book = OrderBook::new(orders, opts.as_of);
    let scores = rfm_scores(&book.facts());
    let Fitted {
        summaries,
        bgnbd,
        gamma_gamma,
    } = fit_models(&book, opts)?;
    // Both lists are sorted by id, and every calibration customer has an
    // order by `as_of`, so a merge walk pairs them.
    let mut scores = scores.iter().peekable();
    let p = bgnbd.params;
    // Expected purchases and CLV of an alive customer depend on (x, T)
    // only; far fewer distinct pairs than customers (see BgNbdParams::
    // expected_purchases_if_alive), and each costs 13 series.
    let mut if_alive: HashMap<(u32, u64), (f64, f64)> = HashMap::new();
    let customers = summaries
        .iter()
        .map(|s| {
            while scores.next_if(|r| r.customer_id < s.customer_id).is_some() {}
            let score = scores
                .next_if(|r| r.customer_id == s.customer_id)
                .expect("a calibration customer has orders by as_of");
            let spend = gamma_gamma
                .as_ref()
                .map(|g| g.params.expected_average_spend(s.x, s.zbar));
            let (purchases, discounted) =
                *if_alive.entry((s.x, s.t.to_bits())).or_insert_with(|| {
                    (
                        p.expected_purchases_if_alive(s.x, s.t, opts.horizon),
                        discounted_purchases_if_alive(&p, opts.unit, s.x, s.t, &opts.clv),
                    )
                });
            let p_alive = p.p_alive(s.x, s.t_x, s.t);
            CustomerResult {
                customer_id: s.customer_id.clone(),
                frequency: s.x,
                recency: s.t_x,
                age: s.t,
                r_score: score.r,
                f_score: score.f,
                m_score: score.m,
                p_alive,
                expected_purchases: purchases * p_alive,
                expected_spend_fen: spend,
                clv_fen: spend.map(|m| p_alive * discounted * m * opts.clv.margin_rate),
            }
        })
        .collect();
    Ok(Analysis {
        bgnbd,
        gamma_gamma,
        customers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: u32, day: i32, fen: i64) -> Order<u32> {
        Order {
            customer_id: id,
            day,
            amount_fen: fen,
        }
    }

    fn opts(as_of: i32, calibration_end: i32) -> AnalysisOptions {
        AnalysisOptions {
            as_of,
            calibration_end,
            unit: TimeUnit::Week,
            horizon: 13.0,
            clv: ClvConfig::default(),
        }
    }

    #[test]
    fn rows_follow_the_calibration_period_and_scores_follow_as_of() {
        // Customers 1..=40 buy every (id % 7 + 3) days from day id; 41 first
        // buys after calibration end and so has no row.
        let mut orders = Vec::new();
        for id in 1..=40u32 {
            let gap = (id % 7 + 3) as i32;
            let mut d = id as i32;
            while d <= 200 - (id as i32 % 5) * 20 {
                orders.push(order(id, d, 1_000 + i64::from(id) * 10));
                d += gap;
            }
        }
        orders.push(order(41, 205, 5_000));
        let a = analyze(&orders, &opts(210, 200)).expect("fits");
        assert_eq!(a.customers.len(), 40);
        assert!(a.customers.iter().all(|c| c.customer_id <= 40));
        let c1 = &a.customers[0];
        assert_eq!(c1.customer_id, 1);
        // Customer 1: gap 4 from day 1 to ≤ 180 → days 1, 5, …, 177: 45 days.
        assert_eq!(c1.frequency, 44);
        assert!((c1.recency - 176.0 / 7.0).abs() < 1e-12);
        assert!((c1.age - 199.0 / 7.0).abs() < 1e-12);
        for c in &a.customers {
            assert!((0.0..=1.0).contains(&c.p_alive), "{c:?}");
            assert!(c.expected_purchases >= 0.0, "{c:?} {:?}", a.bgnbd);
            assert!((1..=5).contains(&c.r_score) && (1..=5).contains(&c.f_score));
            let (m, v) = (c.expected_spend_fen.unwrap(), c.clv_fen.unwrap());
            assert!(m > 0.0 && v >= 0.0, "{c:?}");
        }
        // Who stopped early is less likely alive than who bought to the end.
        let stopped = a.customers.iter().find(|c| c.customer_id == 4).unwrap();
        let active = a.customers.iter().find(|c| c.customer_id == 5).unwrap();
        assert!(stopped.p_alive < active.p_alive, "{stopped:?} {active:?}");
    }

    #[test]
    fn refuses_what_cannot_be_analysed() {
        let once = vec![order(1, 10, 100), order(2, 12, 100)];
        assert_eq!(
            analyze(&once, &opts(20, 20)).unwrap_err(),
            AnalysisError::NotIdentifiable
        );
        assert_eq!(
            analyze(&once, &opts(20, 30)).unwrap_err(),
            AnalysisError::CalibrationAfterAsOf
        );
        assert_eq!(
            analyze(&once, &opts(5, 5)).unwrap_err(),
            AnalysisError::NoCustomers
        );
    }
}
