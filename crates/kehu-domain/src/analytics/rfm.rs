//! RFM quintile scores and named segments (ANALYTICS.md, "RFM").

use super::summary::CustomerFacts;
use crate::i18n::Locale;

/// NTILE(`buckets`) bucket (1-based) for each position 0..n of an ordered
/// list, exactly like SQL: the first n mod k buckets hold ⌈n/k⌉ rows, the
/// rest ⌊n/k⌋. Shared so the database and the domain agree row for row.
pub fn ntile(n: usize, buckets: usize) -> Vec<u8> {
    assert!((1..=255).contains(&buckets), "buckets must be 1..=255");
    let q = n / buckets;
    let rem = n % buckets;
    let big = rem * (q + 1);
    (0..n)
        .map(|i| {
            let b = if i < big {
                i / (q + 1)
            } else {
                rem + (i - big) / q
            };
            (b + 1) as u8
        })
        .collect()
}

/// The named RFM segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RfmSegment {
    Champions,
    Loyal,
    PotentialLoyalist,
    New,
    Promising,
    NeedAttention,
    AboutToSleep,
    AtRisk,
    CannotLose,
    Hibernating,
    Lost,
}

impl RfmSegment {
    /// Every segment, in display order (best first).
    pub const ALL: [RfmSegment; 11] = [
        RfmSegment::Champions,
        RfmSegment::Loyal,
        RfmSegment::PotentialLoyalist,
        RfmSegment::New,
        RfmSegment::Promising,
        RfmSegment::NeedAttention,
        RfmSegment::AboutToSleep,
        RfmSegment::AtRisk,
        RfmSegment::CannotLose,
        RfmSegment::Hibernating,
        RfmSegment::Lost,
    ];

    /// The segment with this stable code.
    pub fn from_code(code: &str) -> Option<RfmSegment> {
        RfmSegment::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Display name in the given language.
    pub fn name(self, locale: Locale) -> &'static str {
        match locale {
            Locale::ZhCn => self.name_zh(),
            Locale::En => self.name_en(),
        }
    }

    /// The widely used R×F grid (the M score does not enter; it is shown
    /// beside the segment). By R score, then F score:
    ///
    /// | R \ F | 1 | 2 | 3 | 4 | 5 |
    /// |---|---|---|---|---|---|
    /// | 5 | new | potential loyalist | potential loyalist | champions | champions |
    /// | 4 | promising | potential loyalist | potential loyalist | loyal | loyal |
    /// | 3 | about to sleep | about to sleep | need attention | loyal | loyal |
    /// | 2 | hibernating | hibernating | at risk | at risk | cannot lose |
    /// | 1 | lost | hibernating | at risk | at risk | cannot lose |
    ///
    /// The grid is the common one (hibernating for R 1–2 × F 1–2) with its
    /// worst cell, R = 1 and F = 1, split out as "lost".
    pub fn from_scores(r: u8, f: u8) -> RfmSegment {
        use RfmSegment::*;
        match (r, f) {
            (5, 4..=5) => Champions,
            (5, 2..=3) | (4, 2..=3) => PotentialLoyalist,
            (5, _) => New,
            (4, 4..=5) | (3, 4..=5) => Loyal,
            (4, _) => Promising,
            (3, 3) => NeedAttention,
            (3, _) => AboutToSleep,
            (_, 5) => CannotLose,
            (_, 3) | (_, 4) => AtRisk,
            (1, 1) => Lost,
            _ => Hibernating,
        }
    }

    /// Stable code for storage and APIs.
    pub fn code(self) -> &'static str {
        use RfmSegment::*;
        match self {
            Champions => "champions",
            Loyal => "loyal",
            PotentialLoyalist => "potential_loyalist",
            New => "new",
            Promising => "promising",
            NeedAttention => "need_attention",
            AboutToSleep => "about_to_sleep",
            AtRisk => "at_risk",
            CannotLose => "cannot_lose",
            Hibernating => "hibernating",
            Lost => "lost",
        }
    }

    /// Display name in English.
    pub fn name_en(self) -> &'static str {
        use RfmSegment::*;
        match self {
            Champions => "Champions",
            Loyal => "Loyal",
            PotentialLoyalist => "Potential loyalist",
            New => "New",
            Promising => "Promising",
            NeedAttention => "Need attention",
            AboutToSleep => "About to sleep",
            AtRisk => "At risk",
            CannotLose => "Cannot lose",
            Hibernating => "Hibernating",
            Lost => "Lost",
        }
    }

    /// Display name in zh-CN.
    pub fn name_zh(self) -> &'static str {
        use RfmSegment::*;
        match self {
            Champions => "冠军客户",
            Loyal => "忠诚客户",
            PotentialLoyalist => "潜力忠诚客户",
            New => "新客户",
            Promising => "有潜力客户",
            NeedAttention => "需要关注客户",
            AboutToSleep => "即将沉睡客户",
            AtRisk => "流失风险客户",
            CannotLose => "不能失去的客户",
            Hibernating => "沉睡客户",
            Lost => "已流失客户",
        }
    }
}

/// RFM values, scores and segment for one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct RfmScore<K> {
    pub customer_id: K,
    /// as_of − last purchase day.
    pub recency_days: i32,
    /// Distinct purchase days.
    pub frequency: u32,
    /// Total spend in 分.
    pub monetary_fen: i64,
    pub r: u8,
    pub f: u8,
    pub m: u8,
    pub segment: RfmSegment,
}

/// Scores 1–5 per customer like `NTILE(5) OVER (ORDER BY key, customer_id)`:
/// R orders recency_days descending (oldest buyers get 1), F frequency
/// ascending, M monetary ascending, ties always by customer id ascending, so
/// SQLite, PostgreSQL and this code agree. Facts must be as of the RFM day
/// (see [`super::summary::customer_facts`]). Output is in input order.
pub fn rfm_scores<K: Ord + Clone>(facts: &[CustomerFacts<K>]) -> Vec<RfmScore<K>> {
    let n = facts.len();
    let tiles = ntile(n, 5);
    // Facts usually come sorted by id; then ties break by position, the
    // same order, and each ranking is a sort of packed (value, position)
    // keys instead of comparisons through the facts.
    let by_id = facts
        .windows(2)
        .all(|w| w[0].customer_id < w[1].customer_id);
    let ranks = |order: &[usize]| {
        let mut s = vec![0u8; n];
        for (pos, &i) in order.iter().enumerate() {
            s[i] = tiles[pos];
        }
        s
    };
    let score = |cmp: &dyn Fn(&CustomerFacts<K>, &CustomerFacts<K>) -> std::cmp::Ordering,
                 key: &dyn Fn(&CustomerFacts<K>) -> i64| {
        if by_id && n < 1 << 32 {
            // Ascending key in the high bits (offset so negatives sort
            // first), position in the low 32.
            let mut keys: Vec<u128> = facts
                .iter()
                .enumerate()
                .map(|(i, f)| ((key(f) as i128 - i64::MIN as i128) as u128) << 32 | i as u128)
                .collect();
            keys.sort_unstable();
            let order: Vec<usize> = keys.iter().map(|k| (*k & 0xffff_ffff) as usize).collect();
            return ranks(&order);
        }
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_unstable_by(|&i, &j| {
            cmp(&facts[i], &facts[j])
                .then_with(|| facts[i].customer_id.cmp(&facts[j].customer_id))
                .then(i.cmp(&j))
        });
        ranks(&idx)
    };
    let r = score(
        &|a, b| b.days_since_last_purchase.cmp(&a.days_since_last_purchase),
        &|f| -i64::from(f.days_since_last_purchase),
    );
    let f = score(&|a, b| a.purchase_days.cmp(&b.purchase_days), &|f| {
        i64::from(f.purchase_days)
    });
    let m = score(&|a, b| a.spend_fen.cmp(&b.spend_fen), &|f| f.spend_fen);
    facts
        .iter()
        .enumerate()
        .map(|(i, c)| RfmScore {
            customer_id: c.customer_id.clone(),
            recency_days: c.days_since_last_purchase,
            frequency: c.purchase_days,
            monetary_fen: c.spend_fen,
            r: r[i],
            f: f[i],
            m: m[i],
            segment: RfmSegment::from_scores(r[i], f[i]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::summary::{Order, customer_facts};
    use super::*;

    fn sizes(n: usize) -> Vec<usize> {
        let t = ntile(n, 5);
        (1..=5)
            .map(|b| t.iter().filter(|&&x| x == b).count())
            .collect()
    }

    #[test]
    fn ntile_bucket_sizes_match_sql() {
        // First N mod 5 buckets get ⌈N/5⌉, the rest ⌊N/5⌋; buckets are contiguous and nondecreasing.
        assert_eq!(sizes(7), vec![2, 2, 1, 1, 1]);
        assert_eq!(sizes(10), vec![2, 2, 2, 2, 2]);
        assert_eq!(sizes(12), vec![3, 3, 2, 2, 2]);
        assert_eq!(sizes(3), vec![1, 1, 1, 0, 0]);
        assert_eq!(sizes(0), vec![0, 0, 0, 0, 0]);
        assert_eq!(ntile(7, 5), vec![1, 1, 2, 2, 3, 4, 5]);
        assert_eq!(ntile(12, 5), vec![1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5]);
        for n in 0..60 {
            let t = ntile(n, 5);
            assert!(t.windows(2).all(|w| w[0] <= w[1] && w[1] - w[0] <= 1));
        }
    }

    #[test]
    fn rfm_scores_with_ties_break_by_customer_id() {
        // 7 customers, as of day 100. Each buys once on day `last` for `amt`,
        // plus `extra` earlier purchase days.
        let spec: [(u32, i32, u32, i64); 7] = [
            // (id, last day, extra days, amount per day)
            (7, 90, 0, 100),
            (3, 90, 0, 100),
            (5, 50, 2, 300),
            (1, 99, 4, 50),
            (2, 50, 2, 300),
            (6, 10, 0, 10),
            (4, 99, 1, 1000),
        ];
        let mut orders = Vec::new();
        for &(id, last, extra, amt) in &spec {
            for k in 0..=extra {
                orders.push(Order {
                    customer_id: id,
                    day: last - k as i32,
                    amount_fen: amt,
                });
            }
        }
        let facts = customer_facts(&orders, 100);
        let s = rfm_scores(&facts);
        let by = |id: u32| s.iter().find(|x| x.customer_id == id).unwrap();
        // R: recency desc, id asc: 6(90) 2(50) 5(50) 3(10) 7(10) 1(1) 4(1) → 1 1 2 2 3 4 5.
        let r: Vec<u8> = [6, 2, 5, 3, 7, 1, 4].iter().map(|&i| by(i).r).collect();
        assert_eq!(r, vec![1, 1, 2, 2, 3, 4, 5]);
        // F: freq asc, id asc: 3(1) 6(1) 7(1) 4(2) 2(3) 5(3) 1(5) → 1 1 2 2 3 4 5.
        let f: Vec<u8> = [3, 6, 7, 4, 2, 5, 1].iter().map(|&i| by(i).f).collect();
        assert_eq!(f, vec![1, 1, 2, 2, 3, 4, 5]);
        // M: spend asc, id asc: 6(10) 3(100) 7(100) 1(250) 2(900) 5(900) 4(2000).
        let m: Vec<u8> = [6, 3, 7, 1, 2, 5, 4].iter().map(|&i| by(i).m).collect();
        assert_eq!(m, vec![1, 1, 2, 2, 3, 4, 5]);
        assert_eq!(
            (by(1).recency_days, by(1).frequency, by(1).monetary_fen),
            (1, 5, 250)
        );
        // Customer 1 is R 4, F 5 → loyal; customer 4 is R 5, F 2 → potential loyalist.
        assert_eq!(by(1).segment, RfmSegment::Loyal);
        assert_eq!(by(4).segment, RfmSegment::PotentialLoyalist);
        // Facts in another order take the comparison path: same scores.
        let mut shuffled = facts.clone();
        shuffled.reverse();
        shuffled.swap(1, 4);
        for x in rfm_scores(&shuffled) {
            assert_eq!(
                (x.r, x.f, x.m),
                (
                    by(x.customer_id).r,
                    by(x.customer_id).f,
                    by(x.customer_id).m
                )
            );
        }
    }

    #[test]
    fn segment_grid_is_total_and_named() {
        use RfmSegment::*;
        assert_eq!(RfmSegment::from_scores(5, 5), Champions);
        assert_eq!(RfmSegment::from_scores(3, 4), Loyal);
        assert_eq!(RfmSegment::from_scores(4, 2), PotentialLoyalist);
        assert_eq!(RfmSegment::from_scores(5, 1), New);
        assert_eq!(RfmSegment::from_scores(4, 1), Promising);
        assert_eq!(RfmSegment::from_scores(3, 3), NeedAttention);
        assert_eq!(RfmSegment::from_scores(3, 2), AboutToSleep);
        assert_eq!(RfmSegment::from_scores(2, 4), AtRisk);
        assert_eq!(RfmSegment::from_scores(1, 5), CannotLose);
        assert_eq!(RfmSegment::from_scores(2, 2), Hibernating);
        assert_eq!(RfmSegment::from_scores(1, 2), Hibernating);
        assert_eq!(RfmSegment::from_scores(1, 1), Lost);
        let mut seen = std::collections::HashSet::new();
        for r in 1..=5 {
            for f in 1..=5 {
                seen.insert(RfmSegment::from_scores(r, f));
            }
        }
        assert_eq!(seen.len(), 11, "every segment reachable");
        for s in RfmSegment::ALL {
            assert!(!s.name_zh().is_empty() && s.name_zh() != s.name_en() && !s.code().is_empty());
        }
    }
}
