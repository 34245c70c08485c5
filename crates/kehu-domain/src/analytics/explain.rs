//! Why a customer is in a class: every assignment in [`super::classify`],
//! [`super::tier`] and [`super::lifecycle`] returns an [`Explanation`] naming
//! the rule or threshold that decided it and the numbers that mattered. It is
//! plain data (store it, compare it) and renders to a sentence in zh-CN or
//! English with [`Explanation::render`].

use super::classify::{AmountClass, FrequencyClass, ProductRange};
use super::lifecycle::Stage;
use super::tier::Tier;
use crate::i18n::Locale;

/// Money in 分 as yuan for people: `¥38,200`, `¥1,234.50`, `-¥12.05`.
/// Thousands separators always; the 角/分 part only when it is not zero.
pub fn format_yuan(fen: i64) -> String {
    let neg = fen < 0;
    let abs = fen.unsigned_abs();
    let yuan = (abs / 100).to_string();
    let cents = abs % 100;
    let mut grouped = String::with_capacity(yuan.len() + yuan.len() / 3);
    for (i, ch) in yuan.chars().enumerate() {
        if i > 0 && (yuan.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if neg { "-" } else { "" };
    if cents == 0 {
        format!("{sign}¥{grouped}")
    } else {
        format!("{sign}¥{grouped}.{cents:02}")
    }
}

/// Days as a short number: whole numbers without a fraction, others with one decimal.
fn days(d: f64) -> String {
    if (d - d.round()).abs() < 1e-9 {
        format!("{}", d.round() as i64)
    } else {
        format!("{d:.1}")
    }
}

/// Which rule produced an assignment, with the values that mattered.
#[derive(Debug, Clone, PartialEq)]
pub enum Explanation {
    /// Purchase frequency from orders in the last 365 days.
    Frequency {
        class: FrequencyClass,
        orders_365d: u32,
        high_min: u32,
        mid_min: u32,
    },
    /// Amount from spend in the last 365 days.
    Amount {
        class: AmountClass,
        spend_365d_fen: i64,
        large_min_fen: i64,
        mid_min_fen: i64,
    },
    /// Product range from the number of distinct categories bought.
    ProductRange {
        class: ProductRange,
        categories: u32,
        diversified_min: u32,
    },
    /// Tier by thresholds on 12-month contribution. `reached` is the
    /// threshold of the assigned tier (`None` for D), `below` the threshold
    /// of the next tier up that was not reached (`None` for A).
    TierThreshold {
        tier: Tier,
        contribution_fen: i64,
        reached: Option<i64>,
        below: Option<i64>,
    },
    /// Tier by Pareto share: the share of the total contribution held by the
    /// customers ranked before this one (in percent), against the tier's bounds.
    TierPareto {
        tier: Tier,
        contribution_fen: i64,
        /// 1-based rank (contribution descending, ties by id ascending).
        rank: usize,
        customers: usize,
        share_before_pct: f64,
        /// Lower bound of the tier's band (`None` for A), in percent.
        lower_pct: Option<u32>,
        /// Upper bound of the tier's band (`None` for D), in percent.
        upper_pct: Option<u32>,
    },
    /// Tier by Pareto share for a customer with no positive contribution (always D).
    TierNoContribution { contribution_fen: i64 },
    /// The rules computed another tier, but the current one was kept because
    /// it has not been held for the minimum stay yet.
    TierHeld {
        kept: Tier,
        computed: Tier,
        days_in_tier: i32,
        min_stay_days: i32,
        because: Box<Explanation>,
    },
    /// Lifecycle: no purchase yet.
    Prospect,
    /// Lifecycle: first purchase within the "new" window.
    New {
        days_since_first: i32,
        new_days: i32,
    },
    /// Lifecycle: silent for longer than `factor ×` the customer's own
    /// interval, or longer than `max_days`.
    Churned {
        days_since_last: i32,
        interval_days: f64,
        /// The interval is the default (fewer than two purchase days) rather than the customer's own.
        interval_is_default: bool,
        factor: f64,
        max_days: i32,
    },
    /// Lifecycle: silent for longer than `factor ×` the customer's own interval.
    AtRisk {
        days_since_last: i32,
        interval_days: f64,
        interval_is_default: bool,
        factor: f64,
    },
    /// Lifecycle: bought again after having been churned (`from_churned`:
    /// this run found the new purchase), or won back `days_in_stage` days ago
    /// and still within `won_back_days`.
    WonBack {
        from_churned: bool,
        days_since_last: i32,
        days_in_stage: i32,
        won_back_days: i32,
    },
    /// Lifecycle: enough purchase days over a long enough tenure.
    Loyal {
        purchase_days: u32,
        tenure_days: i32,
        min_purchase_days: u32,
        min_tenure_days: i32,
    },
    /// Lifecycle: buying within the customer's rhythm, none of the above.
    Active {
        days_since_last: i32,
        interval_days: f64,
        interval_is_default: bool,
    },
}

impl Explanation {
    /// The explanation as one sentence in the given language.
    pub fn render(&self, locale: Locale) -> String {
        let zh = locale == Locale::ZhCn;
        match self {
            Explanation::Frequency {
                class,
                orders_365d: n,
                high_min: h,
                mid_min: m,
            } => {
                let name = class.name(locale);
                match (zh, class) {
                    (true, FrequencyClass::High) => {
                        format!("购买频率{name}：近12个月 {n} 笔订单 ≥ 高频阈值 {h} 笔")
                    }
                    (true, FrequencyClass::Mid) => {
                        format!(
                            "购买频率{name}：近12个月 {n} 笔订单 ≥ 中频阈值 {m} 笔，< 高频阈值 {h} 笔"
                        )
                    }
                    (true, FrequencyClass::Low) => {
                        format!("购买频率{name}：近12个月 {n} 笔订单 < 中频阈值 {m} 笔")
                    }
                    (false, FrequencyClass::High) => {
                        format!("frequency {name}: {n} orders in 12 months ≥ high threshold {h}")
                    }
                    (false, FrequencyClass::Mid) => format!(
                        "frequency {name}: {n} orders in 12 months ≥ mid threshold {m}, < high threshold {h}"
                    ),
                    (false, FrequencyClass::Low) => {
                        format!("frequency {name}: {n} orders in 12 months < mid threshold {m}")
                    }
                }
            }
            Explanation::Amount {
                class,
                spend_365d_fen,
                large_min_fen,
                mid_min_fen,
            } => {
                let name = class.name(locale);
                let (s, l, m) = (
                    format_yuan(*spend_365d_fen),
                    format_yuan(*large_min_fen),
                    format_yuan(*mid_min_fen),
                );
                match (zh, class) {
                    (true, AmountClass::Large) => {
                        format!("金额{name}：近12个月消费 {s} ≥ 大额阈值 {l}")
                    }
                    (true, AmountClass::Mid) => {
                        format!("金额{name}：近12个月消费 {s} ≥ 中额阈值 {m}，< 大额阈值 {l}")
                    }
                    (true, AmountClass::Small) => {
                        format!("金额{name}：近12个月消费 {s} < 中额阈值 {m}")
                    }
                    (false, AmountClass::Large) => {
                        format!("amount {name}: 12-month spend {s} ≥ large threshold {l}")
                    }
                    (false, AmountClass::Mid) => format!(
                        "amount {name}: 12-month spend {s} ≥ mid threshold {m}, < large threshold {l}"
                    ),
                    (false, AmountClass::Small) => {
                        format!("amount {name}: 12-month spend {s} < mid threshold {m}")
                    }
                }
            }
            Explanation::ProductRange {
                class,
                categories: c,
                diversified_min: d,
            } => {
                let name = class.name(locale);
                match (zh, class) {
                    (true, ProductRange::Diversified) => {
                        format!("产品范围{name}：购买了 {c} 个品类 ≥ {d}")
                    }
                    (true, ProductRange::Single) => {
                        format!("产品范围{name}：购买了 {c} 个品类 < {d}")
                    }
                    (false, ProductRange::Diversified) => {
                        format!("product range {name}: {c} categories bought ≥ {d}")
                    }
                    (false, ProductRange::Single) => {
                        format!("product range {name}: {c} categories bought < {d}")
                    }
                }
            }
            Explanation::TierThreshold {
                tier,
                contribution_fen,
                reached,
                below,
            } => {
                let t = tier.letter();
                let up = tier.better().map(|u| u.letter()).unwrap_or("");
                let c = format_yuan(*contribution_fen);
                let mut parts = Vec::new();
                if let Some(r) = reached {
                    parts.push(if zh {
                        format!("≥ {t}级阈值 {}", format_yuan(*r))
                    } else {
                        format!("≥ {t} threshold {}", format_yuan(*r))
                    });
                }
                if let Some(b) = below {
                    parts.push(if zh {
                        format!("< {up}级阈值 {}", format_yuan(*b))
                    } else {
                        format!("< {up} threshold {}", format_yuan(*b))
                    });
                }
                if zh {
                    format!("{t}级客户：近12个月贡献 {c} {}", parts.join("，"))
                } else {
                    format!("tier {t}: 12-month contribution {c} {}", parts.join(", "))
                }
            }
            Explanation::TierPareto {
                tier,
                contribution_fen,
                rank,
                customers,
                share_before_pct,
                lower_pct,
                upper_pct,
            } => {
                let t = tier.letter();
                let c = format_yuan(*contribution_fen);
                let s = format!("{share_before_pct:.1}%");
                let band = match (lower_pct, upper_pct) {
                    (None, Some(u)) => format!("< {u}%"),
                    (Some(l), Some(u)) => format!("≥ {l}%, < {u}%"),
                    (Some(l), None) => format!("≥ {l}%"),
                    (None, None) => String::new(),
                };
                if zh {
                    format!(
                        "{t}级客户：近12个月贡献 {c}，在 {customers} 位客户中排第 {rank}，排在其前的客户累计贡献占比 {s}（{t}级区间 {}）",
                        band.replace(", ", "，")
                    )
                } else {
                    format!(
                        "tier {t}: 12-month contribution {c}, rank {rank} of {customers}; customers ranked before hold {s} of the total ({t} band {band})"
                    )
                }
            }
            Explanation::TierNoContribution { contribution_fen } => {
                let c = format_yuan(*contribution_fen);
                if zh {
                    format!("D级客户：近12个月贡献 {c}，没有正贡献")
                } else {
                    format!("tier D: 12-month contribution {c}, no positive contribution")
                }
            }
            Explanation::TierHeld {
                kept,
                computed,
                days_in_tier,
                min_stay_days,
                because,
            } => {
                let (k, c) = (kept.letter(), computed.letter());
                let inner = because.render(locale);
                if zh {
                    format!(
                        "保持{k}级：规则结果为{c}级，但当前等级仅保持 {days_in_tier} 天 < 最短停留 {min_stay_days} 天（规则依据：{inner}）"
                    )
                } else {
                    format!(
                        "kept tier {k}: the rules give {c}, but the current tier has been held {days_in_tier} days < minimum stay {min_stay_days} days (rule: {inner})"
                    )
                }
            }
            Explanation::Prospect => {
                if zh {
                    format!("{}：尚无购买记录", Stage::Prospect.name(locale))
                } else {
                    format!("{}: no purchase yet", Stage::Prospect.name(locale))
                }
            }
            Explanation::New {
                days_since_first,
                new_days,
            } => {
                if zh {
                    format!(
                        "{}：首次购买于 {days_since_first} 天前 < {new_days} 天",
                        Stage::New.name(locale)
                    )
                } else {
                    format!(
                        "{}: first purchase {days_since_first} days ago < {new_days} days",
                        Stage::New.name(locale)
                    )
                }
            }
            Explanation::Churned {
                days_since_last: d,
                interval_days,
                interval_is_default,
                factor,
                max_days,
            } => {
                let name = Stage::Churned.name(locale);
                let i = days(*interval_days);
                let f = days(*factor);
                let limit = days(factor * interval_days);
                let over_factor = f64::from(*d) > factor * interval_days;
                match (zh, over_factor) {
                    (true, true) => format!(
                        "{name}：距上次购买 {d} 天 > {f} × {}购买间隔 {i} 天（{limit} 天）",
                        if *interval_is_default {
                            "默认"
                        } else {
                            "其平常"
                        }
                    ),
                    (true, false) => {
                        format!("{name}：距上次购买 {d} 天 > 上限 {max_days} 天")
                    }
                    (false, true) => format!(
                        "{name}: {d} days since last purchase > {f} × {} interval of {i} days ({limit} days)",
                        if *interval_is_default {
                            "the default"
                        } else {
                            "their typical"
                        }
                    ),
                    (false, false) => {
                        format!("{name}: {d} days since last purchase > limit of {max_days} days")
                    }
                }
            }
            Explanation::AtRisk {
                days_since_last: d,
                interval_days,
                interval_is_default,
                factor,
            } => {
                let name = Stage::AtRisk.name(locale);
                let i = days(*interval_days);
                let f = days(*factor);
                let limit = days(factor * interval_days);
                if zh {
                    format!(
                        "{name}：距上次购买 {d} 天 > {f} × {}购买间隔 {i} 天（{limit} 天）",
                        if *interval_is_default {
                            "默认"
                        } else {
                            "其平常"
                        }
                    )
                } else {
                    format!(
                        "{name}: {d} days since last purchase > {f} × {} interval of {i} days ({limit} days)",
                        if *interval_is_default {
                            "the default"
                        } else {
                            "their typical"
                        }
                    )
                }
            }
            Explanation::WonBack {
                from_churned,
                days_since_last: d,
                days_in_stage: n,
                won_back_days: w,
            } => {
                let name = Stage::WonBack.name(locale);
                match (zh, from_churned) {
                    (true, true) => format!("{name}：流失后于 {d} 天前再次购买"),
                    (true, false) => format!("{name}：挽回于 {n} 天前 < {w} 天"),
                    (false, true) => {
                        format!("{name}: bought again {d} days ago after having been churned")
                    }
                    (false, false) => format!("{name}: won back {n} days ago < {w} days"),
                }
            }
            Explanation::Loyal {
                purchase_days,
                tenure_days,
                min_purchase_days,
                min_tenure_days,
            } => {
                let name = Stage::Loyal.name(locale);
                if zh {
                    format!(
                        "{name}：{purchase_days} 个购买日 ≥ {min_purchase_days}，成为客户 {tenure_days} 天 ≥ {min_tenure_days} 天"
                    )
                } else {
                    format!(
                        "{name}: {purchase_days} purchase days ≥ {min_purchase_days}, customer for {tenure_days} days ≥ {min_tenure_days} days"
                    )
                }
            }
            Explanation::Active {
                days_since_last: d,
                interval_days,
                interval_is_default,
            } => {
                let name = Stage::Active.name(locale);
                let i = days(*interval_days);
                if zh {
                    format!(
                        "{name}：距上次购买 {d} 天，在{}购买节奏内（间隔 {i} 天）",
                        if *interval_is_default {
                            "默认"
                        } else {
                            "其平常"
                        }
                    )
                } else {
                    format!(
                        "{name}: {d} days since last purchase, within {} rhythm (interval {i} days)",
                        if *interval_is_default {
                            "the default"
                        } else {
                            "their usual"
                        }
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_formatting() {
        assert_eq!(format_yuan(0), "¥0");
        assert_eq!(format_yuan(5), "¥0.05");
        assert_eq!(format_yuan(100_000), "¥1,000");
        assert_eq!(format_yuan(3_820_000), "¥38,200");
        assert_eq!(format_yuan(12_345_678_950), "¥123,456,789.50");
        assert_eq!(format_yuan(99_900), "¥999");
        assert_eq!(format_yuan(-123_405), "-¥1,234.05");
        assert_eq!(format_yuan(i64::MIN), "-¥92,233,720,368,547,758.08");
    }
}
