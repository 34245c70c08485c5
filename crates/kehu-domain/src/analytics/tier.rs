//! Value tier A/B/C/D (PRODUCT.md §B) from 12-month contribution in 分, by
//! one of two configurable methods, with a minimum stay against flapping.
//!
//! "Contribution" is whatever the caller passes: `CustomerFacts::spend_365d_fen`
//! today, margin once margin rates per category exist (issue 5, item 7).
//!
//! **Thresholds** ([`TierMethod::Thresholds`]): A if contribution ≥ `a_min_fen`,
//! else B if ≥ `b_min_fen`, else C if ≥ `c_min_fen`, else D. Defaults
//! ¥80,000 / ¥20,000 / ¥5,000.
//!
//! **Pareto** ([`TierMethod::Pareto`]): only positive contributions count.
//! Customers with contribution > 0 are sorted by contribution descending,
//! ties by customer id ascending. For the customer at position i,
//! `before` = the sum of the contributions of the customers ranked before
//! them, `total` = the sum over all of them, and `share = before / total`.
//! A if share < `a_pct` %, else B if share < `b_pct` %, else C if share <
//! `c_pct` %, else D (compared exactly in integers: `before·100 < pct·total`).
//! The top customer always has share 0 and is A (when `a_pct` > 0); a
//! customer whose `before` is exactly 50 % is B with the default 50 / 80 / 95.
//! So A is the smallest head of the ranking that holds at least 50 % of the
//! contribution. Customers with contribution ≤ 0 are D.
//!
//! **Minimum stay** ([`apply_min_stay`]): given the previous tier and the day
//! it was assigned, a different computed tier is applied only when the
//! previous one has been held for at least `min_stay_days` (default 30).
//! Upgrades (to a better tier) are applied at once when
//! `upgrade_immediately` is set (the default: a customer who just placed a
//! large order should be served as such now); downgrades always wait. So a
//! tier can go down at most once per `min_stay_days`.

use super::explain::Explanation;
use crate::i18n::Locale;

/// Value tier; A is the best. `Ord` follows the letters: `A < B < C < D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    A,
    B,
    C,
    D,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::A, Tier::B, Tier::C, Tier::D];

    /// The tier with this letter.
    pub fn from_letter(letter: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.letter() == letter)
    }

    /// "A" … "D" (also the stable code).
    pub fn letter(self) -> &'static str {
        match self {
            Tier::A => "A",
            Tier::B => "B",
            Tier::C => "C",
            Tier::D => "D",
        }
    }

    /// Display name: "A级" / "tier A".
    pub fn name(self, locale: Locale) -> String {
        match locale {
            Locale::ZhCn => format!("{}级", self.letter()),
            Locale::En => format!("tier {}", self.letter()),
        }
    }

    /// The next better tier (`None` for A).
    pub fn better(self) -> Option<Tier> {
        match self {
            Tier::A => None,
            Tier::B => Some(Tier::A),
            Tier::C => Some(Tier::B),
            Tier::D => Some(Tier::C),
        }
    }
}

/// How the tier is computed from 12-month contribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierMethod {
    /// Fixed thresholds in 分 (lower bounds, inclusive); expects a ≥ b ≥ c.
    Thresholds {
        a_min_fen: i64,
        b_min_fen: i64,
        c_min_fen: i64,
    },
    /// Cumulative-share bounds in percent; expects a ≤ b ≤ c ≤ 100.
    Pareto { a_pct: u32, b_pct: u32, c_pct: u32 },
}

impl TierMethod {
    /// ¥80,000 / ¥20,000 / ¥5,000.
    pub const DEFAULT_THRESHOLDS: TierMethod = TierMethod::Thresholds {
        a_min_fen: 8_000_000,
        b_min_fen: 2_000_000,
        c_min_fen: 500_000,
    };
    /// 50 / 80 / 95 %.
    pub const DEFAULT_PARETO: TierMethod = TierMethod::Pareto {
        a_pct: 50,
        b_pct: 80,
        c_pct: 95,
    };
}

/// Tier settings of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierConfig {
    /// Default [`TierMethod::DEFAULT_THRESHOLDS`].
    pub method: TierMethod,
    /// Days a tier is held before it may change. Default 30.
    pub min_stay_days: i32,
    /// Upgrades skip the minimum stay. Default true.
    pub upgrade_immediately: bool,
}

impl Default for TierConfig {
    fn default() -> Self {
        TierConfig {
            method: TierMethod::DEFAULT_THRESHOLDS,
            min_stay_days: 30,
            upgrade_immediately: true,
        }
    }
}

/// Tier of one contribution by fixed thresholds.
pub fn tier_by_thresholds(
    contribution_fen: i64,
    a_min_fen: i64,
    b_min_fen: i64,
    c_min_fen: i64,
) -> (Tier, Explanation) {
    let (tier, reached, below) = if contribution_fen >= a_min_fen {
        (Tier::A, Some(a_min_fen), None)
    } else if contribution_fen >= b_min_fen {
        (Tier::B, Some(b_min_fen), Some(a_min_fen))
    } else if contribution_fen >= c_min_fen {
        (Tier::C, Some(c_min_fen), Some(b_min_fen))
    } else {
        (Tier::D, None, Some(c_min_fen))
    };
    (
        tier,
        Explanation::TierThreshold {
            tier,
            contribution_fen,
            reached,
            below,
        },
    )
}

/// Computed tiers for a tenant's customers, in input order. `contributions`
/// holds (customer id, 12-month contribution in 分); ids should be unique.
pub fn compute_tiers<K: Ord + Clone>(
    contributions: &[(K, i64)],
    method: &TierMethod,
) -> Vec<(K, Tier, Explanation)> {
    match *method {
        TierMethod::Thresholds {
            a_min_fen,
            b_min_fen,
            c_min_fen,
        } => contributions
            .iter()
            .map(|(k, c)| {
                let (t, why) = tier_by_thresholds(*c, a_min_fen, b_min_fen, c_min_fen);
                (k.clone(), t, why)
            })
            .collect(),
        TierMethod::Pareto {
            a_pct,
            b_pct,
            c_pct,
        } => pareto(contributions, a_pct, b_pct, c_pct),
    }
}

fn pareto<K: Ord + Clone>(
    contributions: &[(K, i64)],
    a_pct: u32,
    b_pct: u32,
    c_pct: u32,
) -> Vec<(K, Tier, Explanation)> {
    let mut order: Vec<usize> = (0..contributions.len())
        .filter(|&i| contributions[i].1 > 0)
        .collect();
    order.sort_by(|&i, &j| {
        contributions[j]
            .1
            .cmp(&contributions[i].1)
            .then_with(|| contributions[i].0.cmp(&contributions[j].0))
    });
    let total: i128 = order.iter().map(|&i| i128::from(contributions[i].1)).sum();
    let ranked = order.len();
    let mut out: Vec<Option<(Tier, Explanation)>> = vec![None; contributions.len()];
    let mut before: i128 = 0;
    for (pos, &i) in order.iter().enumerate() {
        let below = |pct: u32| before * 100 < i128::from(pct) * total;
        let (tier, lower_pct, upper_pct) = if below(a_pct) {
            (Tier::A, None, Some(a_pct))
        } else if below(b_pct) {
            (Tier::B, Some(a_pct), Some(b_pct))
        } else if below(c_pct) {
            (Tier::C, Some(b_pct), Some(c_pct))
        } else {
            (Tier::D, Some(c_pct), None)
        };
        let why = Explanation::TierPareto {
            tier,
            contribution_fen: contributions[i].1,
            rank: pos + 1,
            customers: ranked,
            share_before_pct: (before as f64) * 100.0 / (total as f64),
            lower_pct,
            upper_pct,
        };
        out[i] = Some((tier, why));
        before += i128::from(contributions[i].1);
    }
    contributions
        .iter()
        .zip(out)
        .map(|((k, c), t)| match t {
            Some((tier, why)) => (k.clone(), tier, why),
            None => (
                k.clone(),
                Tier::D,
                Explanation::TierNoContribution {
                    contribution_fen: *c,
                },
            ),
        })
        .collect()
}

/// The tier a customer held, and since when (day number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviousTier {
    pub tier: Tier,
    pub since_day: i32,
}

/// The tier to store after the minimum-stay rule.
#[derive(Debug, Clone, PartialEq)]
pub struct TierAssignment {
    pub tier: Tier,
    /// The day the stored tier was assigned (unchanged when kept).
    pub since_day: i32,
    /// The tier differs from the previous one (true for a first assignment).
    pub changed: bool,
    pub explanation: Explanation,
}

/// Applies the minimum stay to a computed tier (see the module doc).
pub fn apply_min_stay(
    computed: Tier,
    why: Explanation,
    previous: Option<PreviousTier>,
    today: i32,
    cfg: &TierConfig,
) -> TierAssignment {
    let Some(prev) = previous else {
        return TierAssignment {
            tier: computed,
            since_day: today,
            changed: true,
            explanation: why,
        };
    };
    if prev.tier == computed {
        return TierAssignment {
            tier: computed,
            since_day: prev.since_day,
            changed: false,
            explanation: why,
        };
    }
    let days_in_tier = today - prev.since_day;
    let upgrade = computed < prev.tier;
    if days_in_tier >= cfg.min_stay_days || (upgrade && cfg.upgrade_immediately) {
        TierAssignment {
            tier: computed,
            since_day: today,
            changed: true,
            explanation: why,
        }
    } else {
        TierAssignment {
            tier: prev.tier,
            since_day: prev.since_day,
            changed: false,
            explanation: Explanation::TierHeld {
                kept: prev.tier,
                computed,
                days_in_tier,
                min_stay_days: cfg.min_stay_days,
                because: Box::new(why),
            },
        }
    }
}

/// Computes tiers with `cfg.method` and applies the minimum stay, for
/// (customer id, contribution in 分, previous tier) rows; output in input order.
pub fn assign_tiers<K: Ord + Clone>(
    rows: &[(K, i64, Option<PreviousTier>)],
    today: i32,
    cfg: &TierConfig,
) -> Vec<(K, TierAssignment)> {
    let contributions: Vec<(K, i64)> = rows.iter().map(|(k, c, _)| (k.clone(), *c)).collect();
    compute_tiers(&contributions, &cfg.method)
        .into_iter()
        .zip(rows)
        .map(|((k, t, why), (_, _, prev))| (k, apply_min_stay(t, why, *prev, today, cfg)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiers(rows: &[(u32, i64)], m: &TierMethod) -> Vec<Tier> {
        compute_tiers(rows, m).into_iter().map(|r| r.1).collect()
    }

    #[test]
    fn thresholds_boundaries_and_example_text() {
        let m = TierMethod::DEFAULT_THRESHOLDS;
        let rows = [
            (1, 8_000_000),
            (2, 7_999_999),
            (3, 2_000_000),
            (4, 1_999_999),
            (5, 500_000),
            (6, 499_999),
            (7, 0),
            (8, -5_000),
        ];
        use Tier::*;
        assert_eq!(tiers(&rows, &m), [A, B, B, C, C, D, D, D]);
        let (t, why) = tier_by_thresholds(3_820_000, 8_000_000, 2_000_000, 500_000);
        assert_eq!(t, B);
        assert_eq!(
            why.render(Locale::En),
            "tier B: 12-month contribution ¥38,200 ≥ B threshold ¥20,000, < A threshold ¥80,000"
        );
        assert_eq!(
            why.render(Locale::ZhCn),
            "B级客户：近12个月贡献 ¥38,200 ≥ B级阈值 ¥20,000，< A级阈值 ¥80,000"
        );
        let (_, a) = tier_by_thresholds(9_000_050, 8_000_000, 2_000_000, 500_000);
        assert_eq!(
            a.render(Locale::En),
            "tier A: 12-month contribution ¥90,000.50 ≥ A threshold ¥80,000"
        );
        let (_, d) = tier_by_thresholds(0, 8_000_000, 2_000_000, 500_000);
        assert_eq!(
            d.render(Locale::ZhCn),
            "D级客户：近12个月贡献 ¥0 < C级阈值 ¥5,000"
        );
    }

    #[test]
    fn pareto_exact_boundaries() {
        use Tier::*;
        let m = TierMethod::DEFAULT_PARETO;
        // Shares before: 0 %, 50 % (exactly: B), 80 % (exactly: C), 95 % (exactly: D).
        let rows = [(1, 50), (2, 30), (3, 15), (4, 5)];
        assert_eq!(tiers(&rows, &m), [A, B, C, D]);
        // Just below each bound stays in the better tier: before = 49, 79, 94 of 100;
        // the last has 99 % before it.
        let rows = [(1, 49), (2, 30), (3, 15), (4, 5), (5, 1)];
        assert_eq!(tiers(&rows, &m), [A, A, B, C, D]);
        // A single customer is A; no positive contribution is D.
        assert_eq!(tiers(&[(9, 1)], &m), [A]);
        let r = compute_tiers(&[(1, 0), (2, -10), (3, 10)], &m);
        assert_eq!(
            r.iter().map(|x| x.1).collect::<Vec<_>>(),
            [D, D, A],
            "non-positive contributions are D and do not count in the total"
        );
        assert_eq!(
            r[1].2,
            Explanation::TierNoContribution {
                contribution_fen: -10
            }
        );
        // Input order is kept in the output.
        let rows = [(4, 5), (2, 30), (1, 50), (3, 15)];
        assert_eq!(tiers(&rows, &m), [D, B, A, C]);
    }

    #[test]
    fn pareto_ties_are_broken_by_id() {
        use Tier::*;
        let m = TierMethod::DEFAULT_PARETO;
        // Four equal customers: shares before 0, 25, 50, 75 %.
        // Ranked by id: 3, 5, 8, 9 → A, A, B (exactly 50 %), B (75 % < 80 %).
        let rows = [(9, 100), (5, 100), (3, 100), (8, 100)];
        assert_eq!(tiers(&rows, &m), [B, A, A, B]);
        let r = compute_tiers(&rows, &m);
        match &r[3].2 {
            Explanation::TierPareto {
                rank,
                customers,
                share_before_pct,
                lower_pct,
                upper_pct,
                ..
            } => {
                assert_eq!((*rank, *customers), (3, 4));
                assert!((share_before_pct - 50.0).abs() < 1e-12);
                assert_eq!((*lower_pct, *upper_pct), (Some(50), Some(80)));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            r[3].2.render(Locale::En),
            "tier B: 12-month contribution ¥1, rank 3 of 4; customers ranked before hold 50.0% of the total (B band ≥ 50%, < 80%)"
        );
        assert_eq!(
            r[3].2.render(Locale::ZhCn),
            "B级客户：近12个月贡献 ¥1，在 4 位客户中排第 3，排在其前的客户累计贡献占比 50.0%（B级区间 ≥ 50%，< 80%）"
        );
    }

    #[test]
    fn pareto_does_not_overflow() {
        let m = TierMethod::DEFAULT_PARETO;
        let rows = [(1, i64::MAX), (2, i64::MAX), (3, i64::MAX)];
        // Shares before 0, 33.3, 66.7 %.
        assert_eq!(tiers(&rows, &m), [Tier::A, Tier::A, Tier::B]);
    }

    fn b_why() -> Explanation {
        tier_by_thresholds(3_820_000, 8_000_000, 2_000_000, 500_000).1
    }

    #[test]
    fn min_stay_holds_a_downgrade_then_applies_it() {
        let cfg = TierConfig::default();
        let prev = Some(PreviousTier {
            tier: Tier::A,
            since_day: 100,
        });
        // Day 129: 29 days in A < 30 → kept.
        let held = apply_min_stay(Tier::B, b_why(), prev, 129, &cfg);
        assert_eq!(
            (held.tier, held.since_day, held.changed),
            (Tier::A, 100, false)
        );
        assert_eq!(
            held.explanation,
            Explanation::TierHeld {
                kept: Tier::A,
                computed: Tier::B,
                days_in_tier: 29,
                min_stay_days: 30,
                because: Box::new(b_why()),
            }
        );
        assert_eq!(
            held.explanation.render(Locale::En),
            "kept tier A: the rules give B, but the current tier has been held 29 days < minimum stay 30 days (rule: tier B: 12-month contribution ¥38,200 ≥ B threshold ¥20,000, < A threshold ¥80,000)"
        );
        assert!(
            held.explanation
                .render(Locale::ZhCn)
                .starts_with("保持A级：规则结果为B级，但当前等级仅保持 29 天 < 最短停留 30 天")
        );
        // Day 130: exactly 30 days → applied.
        let moved = apply_min_stay(Tier::B, b_why(), prev, 130, &cfg);
        assert_eq!(
            (moved.tier, moved.since_day, moved.changed),
            (Tier::B, 130, true)
        );
        assert_eq!(moved.explanation, b_why());
    }

    #[test]
    fn min_stay_upgrades_immediate_or_held_by_config() {
        let prev = Some(PreviousTier {
            tier: Tier::C,
            since_day: 100,
        });
        let cfg = TierConfig::default();
        let up = apply_min_stay(Tier::B, b_why(), prev, 101, &cfg);
        assert_eq!((up.tier, up.since_day, up.changed), (Tier::B, 101, true));
        let strict = TierConfig {
            upgrade_immediately: false,
            ..TierConfig::default()
        };
        let held = apply_min_stay(Tier::B, b_why(), prev, 101, &strict);
        assert_eq!((held.tier, held.changed), (Tier::C, false));
        let later = apply_min_stay(Tier::B, b_why(), prev, 130, &strict);
        assert_eq!((later.tier, later.changed), (Tier::B, true));
    }

    #[test]
    fn no_flap_across_a_sequence_of_runs() {
        // Contribution oscillates around the B threshold every day; with a
        // strict config the stored tier changes at most once per 30 days.
        let cfg = TierConfig {
            upgrade_immediately: false,
            ..TierConfig::default()
        };
        let mut prev: Option<PreviousTier> = None;
        let mut changes = Vec::new();
        for day in 0..90 {
            let c = if day % 2 == 0 { 2_000_000 } else { 1_999_999 };
            let rows = [(1u32, c, prev)];
            let (_, a) = assign_tiers(&rows, day, &cfg).remove(0);
            if a.changed {
                changes.push((day, a.tier));
            }
            prev = Some(PreviousTier {
                tier: a.tier,
                since_day: a.since_day,
            });
        }
        assert_eq!(
            changes,
            [(0, Tier::B), (31, Tier::C), (62, Tier::B)],
            "first assignment, then one change per minimum stay"
        );
        // Same tier recomputed: unchanged, since day kept.
        let same = apply_min_stay(
            Tier::B,
            b_why(),
            Some(PreviousTier {
                tier: Tier::B,
                since_day: 5,
            }),
            6,
            &cfg,
        );
        assert_eq!(
            (same.tier, same.since_day, same.changed),
            (Tier::B, 5, false)
        );
    }
}
