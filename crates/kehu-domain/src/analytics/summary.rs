//! Per-customer facts from an order log (ANALYTICS.md, "Per-customer summary").
//!
//! Days are plain `i32` day numbers (use [`day_number`] for a `time::Date`),
//! amounts are integer 分. A purchase is a distinct customer-day: several
//! orders on one day count once and their amounts add up.

use std::borrow::Cow;

use time::Date;

/// One row of an order log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order<K> {
    pub customer_id: K,
    /// Day number (see [`day_number`]).
    pub day: i32,
    /// Amount in 分.
    pub amount_fen: i64,
}

/// The day number of a date (its Julian day), so day arithmetic is integer
/// subtraction and independent of the calendar.
pub fn day_number(date: Date) -> i32 {
    date.to_julian_day()
}

/// The time unit the models are fitted in. α scales with it (α_days = 7·α_weeks);
/// r, a, b do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Day,
    Week,
}

impl TimeUnit {
    /// Days per unit.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
        }
    }
}

/// The BG/NBD and Gamma-Gamma input for one customer, in the chosen unit.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatSummary<K> {
    pub customer_id: K,
    /// Repeat purchases: distinct purchase days − 1.
    pub x: u32,
    /// Last purchase day − first purchase day.
    pub t_x: f64,
    /// Calibration end − first purchase day.
    pub t: f64,
    /// Mean spend (分) over the repeat purchase days; 0 when x = 0.
    pub zbar: f64,
}

/// Descriptive facts for one customer as of a day (inclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerFacts<K> {
    pub customer_id: K,
    pub first_purchase: i32,
    pub last_purchase: i32,
    /// Distinct purchase days.
    pub purchase_days: u32,
    /// Repeat purchases (purchase_days − 1).
    pub repeat_purchases: u32,
    /// Order rows (not purchase days).
    pub orders: u32,
    pub spend_fen: i64,
    /// Orders and spend in the windows (as_of − 30, as_of], (as_of − 90, as_of], (as_of − 365, as_of].
    pub orders_30d: u32,
    pub orders_90d: u32,
    pub orders_365d: u32,
    pub spend_30d_fen: i64,
    pub spend_90d_fen: i64,
    pub spend_365d_fen: i64,
    /// spend / orders, in 分.
    pub average_order_value_fen: f64,
    pub days_since_last_purchase: i32,
    /// Median gap in days between consecutive purchase days; `None` with fewer than two.
    pub typical_interval_days: Option<f64>,
}

/// An order log grouped by customer and sorted by day, up to a day: built
/// once (at most one sort, no allocation per customer) and read by both the
/// facts and the model inputs. An order log already in that order is read
/// where it lies.
#[derive(Debug, Clone)]
pub struct OrderBook<'a, K: Clone> {
    /// Each customer with its range of `rows`; ascending by customer.
    customers: Vec<(K, usize, usize)>,
    /// By customer, then day; a customer's rows after `until` are outside
    /// its range.
    rows: Cow<'a, [Order<K>]>,
    until: i32,
}

impl<'a, K: Ord + Clone> OrderBook<'a, K> {
    /// The orders on or before `until`.
    pub fn new(orders: &'a [Order<K>], until: i32) -> Self {
        let by_key =
            |a: &Order<K>, b: &Order<K>| a.customer_id.cmp(&b.customer_id).then(a.day.cmp(&b.day));
        // Runs load orders already in this order: then the book needs no
        // sorted copy (at 10 M orders a copy is 160 MB of fresh memory).
        if orders.is_sorted_by(|a, b| by_key(a, b).is_le()) {
            return Self::from_sorted(Cow::Borrowed(orders), until);
        }
        let mut sorted: Vec<Order<K>> = orders.iter().filter(|o| o.day <= until).cloned().collect();
        sorted.sort_unstable_by(by_key);
        Self::from_sorted(Cow::Owned(sorted), until)
    }

    fn from_sorted(rows: Cow<'a, [Order<K>]>, until: i32) -> Self {
        // Two sequential passes (count, then fill): a binary search per
        // customer jumps about memory, and a growing vector copies itself.
        let same = |a: &Order<K>, b: &Order<K>| a.customer_id == b.customer_id;
        let mut customers = Vec::with_capacity(rows.chunk_by(same).count());
        let mut i = 0;
        for group in rows.chunk_by(same) {
            let upto = group.partition_point(|o| o.day <= until);
            if upto > 0 {
                customers.push((group[0].customer_id.clone(), i, i + upto));
            }
            i += group.len();
        }
        OrderBook {
            customers,
            rows,
            until,
        }
    }

    /// Each customer with its rows.
    fn each(&self) -> impl Iterator<Item = (&K, &[Order<K>])> {
        self.customers
            .iter()
            .map(|(k, from, to)| (k, &self.rows[*from..*to]))
    }

    /// BG/NBD / Gamma-Gamma inputs as of calibration end τ (inclusive, at
    /// most the book's `until`): later orders are ignored, customers first
    /// seen after τ are absent. Sorted by customer id.
    pub fn repeat_summary(&self, calibration_end: i32, unit: TimeUnit) -> Vec<RepeatSummary<K>> {
        debug_assert!(calibration_end <= self.until);
        let mut days = Vec::new();
        let mut out = Vec::with_capacity(self.customers.len());
        out.extend(self.each().filter_map(|(id, rows)| {
            let upto = rows.partition_point(|r| r.day <= calibration_end);
            purchase_days(&rows[..upto], &mut days);
            let (first, last) = (days.first()?.0, days.last()?.0);
            let x = (days.len() - 1) as u32;
            let zbar = if x > 0 {
                days[1..].iter().map(|d| d.1 as f64).sum::<f64>() / f64::from(x)
            } else {
                0.0
            };
            Some(RepeatSummary {
                customer_id: id.clone(),
                x,
                t_x: f64::from(last - first) / unit.days(),
                t: f64::from(calibration_end - first) / unit.days(),
                zbar,
            })
        }));
        out
    }

    /// Descriptive facts as of the book's `until` (inclusive), sorted by
    /// customer id: the evidence tiers, RFM, lifecycle rules and explanations
    /// are computed from.
    pub fn facts(&self) -> Vec<CustomerFacts<K>> {
        let as_of = self.until;
        let (mut days, mut gaps) = (Vec::new(), Vec::new());
        self.each()
            .map(|(id, rows)| {
                purchase_days(rows, &mut days);
                let first = days[0].0;
                let last = days[days.len() - 1].0;
                let window = |len: i32| {
                    let from = rows.partition_point(|r| r.day <= as_of - len);
                    rows[from..]
                        .iter()
                        .fold((0u32, 0i64), |(n, s), r| (n + 1, s + r.amount_fen))
                };
                let (o30, s30) = window(30);
                let (o90, s90) = window(90);
                let (o365, s365) = window(365);
                let spend: i64 = rows.iter().map(|r| r.amount_fen).sum();
                gaps.clear();
                gaps.extend(days.windows(2).map(|w| w[1].0 - w[0].0));
                gaps.sort_unstable();
                let typical = match gaps.len() {
                    0 => None,
                    n if n % 2 == 1 => Some(f64::from(gaps[n / 2])),
                    n => Some((f64::from(gaps[n / 2 - 1]) + f64::from(gaps[n / 2])) / 2.0),
                };
                CustomerFacts {
                    customer_id: id.clone(),
                    first_purchase: first,
                    last_purchase: last,
                    purchase_days: days.len() as u32,
                    repeat_purchases: (days.len() - 1) as u32,
                    orders: rows.len() as u32,
                    spend_fen: spend,
                    orders_30d: o30,
                    orders_90d: o90,
                    orders_365d: o365,
                    spend_30d_fen: s30,
                    spend_90d_fen: s90,
                    spend_365d_fen: s365,
                    average_order_value_fen: spend as f64 / rows.len() as f64,
                    days_since_last_purchase: as_of - last,
                    typical_interval_days: typical,
                }
            })
            .collect()
    }
}

/// (day, total amount) per distinct purchase day of day-sorted rows, into `days`.
fn purchase_days<K>(rows: &[Order<K>], days: &mut Vec<(i32, i64)>) {
    days.clear();
    for &Order {
        day: d,
        amount_fen: amt,
        ..
    } in rows
    {
        match days.last_mut() {
            Some((ld, la)) if *ld == d => *la += amt,
            _ => days.push((d, amt)),
        }
    }
}

/// BG/NBD / Gamma-Gamma inputs as of calibration end τ (inclusive): orders
/// after τ are ignored, customers first seen after τ are absent. Sorted by
/// customer id. Kept separate from [`customer_facts`] because the models
/// want fractional time in a unit while the facts stay in whole days.
pub fn repeat_summary<K: Ord + Clone>(
    orders: &[Order<K>],
    calibration_end: i32,
    unit: TimeUnit,
) -> Vec<RepeatSummary<K>> {
    OrderBook::new(orders, calibration_end).repeat_summary(calibration_end, unit)
}

/// Descriptive per-customer facts as of `as_of` (inclusive), sorted by
/// customer id (see [`OrderBook::facts`]).
pub fn customer_facts<K: Ord + Clone>(orders: &[Order<K>], as_of: i32) -> Vec<CustomerFacts<K>> {
    OrderBook::new(orders, as_of).facts()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(c: u32, day: i32, amt: i64) -> Order<u32> {
        Order {
            customer_id: c,
            day,
            amount_fen: amt,
        }
    }

    fn log() -> Vec<Order<u32>> {
        vec![
            // Customer 1: days 0, 0 (same day: one purchase, 100+50), 10, 30, 31; day 200 after τ.
            o(1, 10, 300),
            o(1, 0, 100),
            o(1, 0, 50),
            o(1, 30, 200),
            o(1, 31, 400),
            o(1, 200, 999),
            // Customer 2: a single purchase day with two orders.
            o(2, 35, 70),
            o(2, 35, 30),
            // Customer 3: first seen after τ.
            o(3, 100, 10),
        ]
    }

    #[test]
    fn sorted_and_unsorted_orders_make_the_same_book() {
        let mut sorted = log();
        sorted.sort_by_key(|o| (o.customer_id, o.day));
        let unsorted = log();
        assert!(
            unsorted != sorted,
            "the fixture must exercise the sorting path"
        );
        for until in [0, 35, 41, 1_000] {
            let (a, b) = (
                OrderBook::new(&unsorted, until),
                OrderBook::new(&sorted, until),
            );
            // Same-day orders may come in either order; the days must not.
            let days = |x: &OrderBook<u32>| {
                x.each()
                    .map(|(k, rows)| (*k, rows.iter().map(|r| r.day).collect::<Vec<_>>()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(days(&a), days(&b));
            assert_eq!(a.facts(), b.facts());
            assert_eq!(
                a.repeat_summary(until, TimeUnit::Day),
                b.repeat_summary(until, TimeUnit::Day)
            );
        }
        // Orders after `until` are left out; a customer with none before is absent.
        let book = OrderBook::new(&sorted, 35);
        assert!(matches!(book.rows, Cow::Borrowed(_)));
        assert_eq!(book.customers, vec![(1, 0, 5), (2, 6, 8)]);
        assert!(matches!(OrderBook::new(&unsorted, 35).rows, Cow::Owned(_)));
    }

    #[test]
    fn repeat_summary_counts_distinct_days_and_excludes_first_from_zbar() {
        let s = repeat_summary(&log(), 41, TimeUnit::Day);
        assert_eq!(s.len(), 2);
        // Customer 1: purchase days 0, 10, 30, 31 → x = 3, t_x = 31, T = 41,
        // zbar = (300 + 200 + 400) / 3 = 300.
        assert_eq!(
            s[0],
            RepeatSummary {
                customer_id: 1,
                x: 3,
                t_x: 31.0,
                t: 41.0,
                zbar: 300.0
            }
        );
        // Customer 2: one purchase day → x = 0, t_x = 0, T = 6, zbar = 0.
        assert_eq!(
            s[1],
            RepeatSummary {
                customer_id: 2,
                x: 0,
                t_x: 0.0,
                t: 6.0,
                zbar: 0.0
            }
        );
        let w = repeat_summary(&log(), 41, TimeUnit::Week);
        assert!((w[0].t_x - 31.0 / 7.0).abs() < 1e-15 && (w[0].t - 41.0 / 7.0).abs() < 1e-15);
    }

    #[test]
    fn customer_facts_windows_and_typical_interval() {
        let f = customer_facts(&log(), 40);
        assert_eq!(f.len(), 2);
        let c1 = &f[0];
        assert_eq!((c1.first_purchase, c1.last_purchase), (0, 31));
        assert_eq!(
            (c1.purchase_days, c1.repeat_purchases, c1.orders),
            (4, 3, 5)
        );
        assert_eq!(c1.spend_fen, 1050);
        // 30-day window is days 11..=40: orders on 30 and 31.
        assert_eq!((c1.orders_30d, c1.spend_30d_fen), (2, 600));
        assert_eq!((c1.orders_90d, c1.spend_90d_fen), (5, 1050));
        assert_eq!((c1.orders_365d, c1.spend_365d_fen), (5, 1050));
        assert!((c1.average_order_value_fen - 210.0).abs() < 1e-12);
        assert_eq!(c1.days_since_last_purchase, 9);
        // Gaps 10, 20, 1 → median 10.
        assert_eq!(c1.typical_interval_days, Some(10.0));
        let c2 = &f[1];
        assert_eq!((c2.purchase_days, c2.orders, c2.spend_fen), (1, 2, 100));
        assert_eq!(c2.typical_interval_days, None);
        // Even number of gaps: days 0, 10, 30, 31, 200 → gaps 1, 10, 20, 169 → median 15.
        let f = customer_facts(&log(), 400);
        assert_eq!(f[0].typical_interval_days, Some(15.0));
        assert_eq!((f[0].orders_30d, f[0].orders_365d), (0, 1));
    }

    #[test]
    fn day_number_is_julian_day() {
        let d = time::macros::date!(2026 - 01 - 31);
        assert_eq!(day_number(d + time::Duration::days(1)) - day_number(d), 1);
    }
}
