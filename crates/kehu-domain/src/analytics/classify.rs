//! Simple classes from the facts (PRODUCT.md §B): purchase frequency
//! high / mid / low, amount large / mid / small, product range single /
//! diversified. Each is a threshold rule, inclusive at the lower bound
//! (`value ≥ threshold` reaches the class), and returns its [`Explanation`].

use super::explain::Explanation;
use super::summary::CustomerFacts;
use crate::i18n::Locale;

/// Purchase frequency class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrequencyClass {
    High,
    Mid,
    Low,
}

/// Amount class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmountClass {
    Large,
    Mid,
    Small,
}

/// Product range class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProductRange {
    Single,
    Diversified,
}

impl FrequencyClass {
    pub const ALL: [FrequencyClass; 3] = [
        FrequencyClass::High,
        FrequencyClass::Mid,
        FrequencyClass::Low,
    ];

    /// The class with this stable code.
    pub fn from_code(code: &str) -> Option<FrequencyClass> {
        FrequencyClass::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Stable code for storage and APIs.
    pub fn code(self) -> &'static str {
        match self {
            FrequencyClass::High => "high",
            FrequencyClass::Mid => "mid",
            FrequencyClass::Low => "low",
        }
    }
    pub fn name(self, locale: Locale) -> &'static str {
        match (locale, self) {
            (Locale::ZhCn, FrequencyClass::High) => "高",
            (Locale::ZhCn, FrequencyClass::Mid) => "中",
            (Locale::ZhCn, FrequencyClass::Low) => "低",
            (Locale::En, FrequencyClass::High) => "high",
            (Locale::En, FrequencyClass::Mid) => "mid",
            (Locale::En, FrequencyClass::Low) => "low",
        }
    }
}

impl AmountClass {
    pub const ALL: [AmountClass; 3] = [AmountClass::Large, AmountClass::Mid, AmountClass::Small];

    /// The class with this stable code.
    pub fn from_code(code: &str) -> Option<AmountClass> {
        AmountClass::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Stable code for storage and APIs.
    pub fn code(self) -> &'static str {
        match self {
            AmountClass::Large => "large",
            AmountClass::Mid => "mid",
            AmountClass::Small => "small",
        }
    }
    pub fn name(self, locale: Locale) -> &'static str {
        match (locale, self) {
            (Locale::ZhCn, AmountClass::Large) => "大",
            (Locale::ZhCn, AmountClass::Mid) => "中",
            (Locale::ZhCn, AmountClass::Small) => "小",
            (Locale::En, AmountClass::Large) => "large",
            (Locale::En, AmountClass::Mid) => "mid",
            (Locale::En, AmountClass::Small) => "small",
        }
    }
}

impl ProductRange {
    pub const ALL: [ProductRange; 2] = [ProductRange::Single, ProductRange::Diversified];

    /// The class with this stable code.
    pub fn from_code(code: &str) -> Option<ProductRange> {
        ProductRange::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Stable code for storage and APIs.
    pub fn code(self) -> &'static str {
        match self {
            ProductRange::Single => "single",
            ProductRange::Diversified => "diversified",
        }
    }
    pub fn name(self, locale: Locale) -> &'static str {
        match (locale, self) {
            (Locale::ZhCn, ProductRange::Single) => "单一",
            (Locale::ZhCn, ProductRange::Diversified) => "多样",
            (Locale::En, ProductRange::Single) => "single",
            (Locale::En, ProductRange::Diversified) => "diversified",
        }
    }
}

/// Thresholds for the simple classes. All lower bounds are inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassConfig {
    /// High frequency: `orders_365d ≥` this. Default 12 (about monthly).
    pub frequency_high_min: u32,
    /// Mid frequency: `orders_365d ≥` this. Default 4 (about quarterly).
    pub frequency_mid_min: u32,
    /// Large amount: `spend_365d_fen ≥` this. Default 5,000,000 分 (¥50,000).
    pub amount_large_min_fen: i64,
    /// Mid amount: `spend_365d_fen ≥` this. Default 500,000 分 (¥5,000).
    pub amount_mid_min_fen: i64,
    /// Diversified: distinct categories bought `≥` this. Default 2.
    pub diversified_min_categories: u32,
}

impl Default for ClassConfig {
    fn default() -> Self {
        ClassConfig {
            frequency_high_min: 12,
            frequency_mid_min: 4,
            amount_large_min_fen: 5_000_000,
            amount_mid_min_fen: 500_000,
            diversified_min_categories: 2,
        }
    }
}

/// Frequency from orders (order rows) in the last 365 days:
/// high if `≥ frequency_high_min`, else mid if `≥ frequency_mid_min`, else low.
pub fn frequency_class(orders_365d: u32, cfg: &ClassConfig) -> (FrequencyClass, Explanation) {
    let class = if orders_365d >= cfg.frequency_high_min {
        FrequencyClass::High
    } else if orders_365d >= cfg.frequency_mid_min {
        FrequencyClass::Mid
    } else {
        FrequencyClass::Low
    };
    let why = Explanation::Frequency {
        class,
        orders_365d,
        high_min: cfg.frequency_high_min,
        mid_min: cfg.frequency_mid_min,
    };
    (class, why)
}

/// Amount from spend in the last 365 days (分):
/// large if `≥ amount_large_min_fen`, else mid if `≥ amount_mid_min_fen`, else small.
pub fn amount_class(spend_365d_fen: i64, cfg: &ClassConfig) -> (AmountClass, Explanation) {
    let class = if spend_365d_fen >= cfg.amount_large_min_fen {
        AmountClass::Large
    } else if spend_365d_fen >= cfg.amount_mid_min_fen {
        AmountClass::Mid
    } else {
        AmountClass::Small
    };
    let why = Explanation::Amount {
        class,
        spend_365d_fen,
        large_min_fen: cfg.amount_large_min_fen,
        mid_min_fen: cfg.amount_mid_min_fen,
    };
    (class, why)
}

/// Product range from the number of distinct categories bought (the facts
/// do not carry categories yet, so the caller passes the count):
/// diversified if `≥ diversified_min_categories`, else single (0 included).
pub fn product_range(categories: u32, cfg: &ClassConfig) -> (ProductRange, Explanation) {
    let class = if categories >= cfg.diversified_min_categories {
        ProductRange::Diversified
    } else {
        ProductRange::Single
    };
    let why = Explanation::ProductRange {
        class,
        categories,
        diversified_min: cfg.diversified_min_categories,
    };
    (class, why)
}

/// The three simple classes of one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Classes {
    pub frequency: (FrequencyClass, Explanation),
    pub amount: (AmountClass, Explanation),
    pub product_range: (ProductRange, Explanation),
}

/// Frequency and amount from the facts, product range from `categories`.
pub fn classify<K>(facts: &CustomerFacts<K>, categories: u32, cfg: &ClassConfig) -> Classes {
    Classes {
        frequency: frequency_class(facts.orders_365d, cfg),
        amount: amount_class(facts.spend_365d_fen, cfg),
        product_range: product_range(categories, cfg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::summary::{Order, customer_facts};

    #[test]
    fn frequency_boundaries_are_inclusive() {
        let cfg = ClassConfig::default();
        assert_eq!(frequency_class(12, &cfg).0, FrequencyClass::High);
        assert_eq!(frequency_class(11, &cfg).0, FrequencyClass::Mid);
        assert_eq!(frequency_class(4, &cfg).0, FrequencyClass::Mid);
        assert_eq!(frequency_class(3, &cfg).0, FrequencyClass::Low);
        assert_eq!(frequency_class(0, &cfg).0, FrequencyClass::Low);
        let (_, why) = frequency_class(7, &cfg);
        assert_eq!(
            why.render(Locale::En),
            "frequency mid: 7 orders in 12 months ≥ mid threshold 4, < high threshold 12"
        );
        assert_eq!(
            why.render(Locale::ZhCn),
            "购买频率中：近12个月 7 笔订单 ≥ 中频阈值 4 笔，< 高频阈值 12 笔"
        );
    }

    #[test]
    fn amount_boundaries_and_text() {
        let cfg = ClassConfig::default();
        assert_eq!(amount_class(5_000_000, &cfg).0, AmountClass::Large);
        assert_eq!(amount_class(4_999_999, &cfg).0, AmountClass::Mid);
        assert_eq!(amount_class(500_000, &cfg).0, AmountClass::Mid);
        assert_eq!(amount_class(499_999, &cfg).0, AmountClass::Small);
        assert_eq!(amount_class(-100, &cfg).0, AmountClass::Small);
        let (_, why) = amount_class(499_999, &cfg);
        assert_eq!(
            why.render(Locale::En),
            "amount small: 12-month spend ¥4,999.99 < mid threshold ¥5,000"
        );
        assert_eq!(
            why.render(Locale::ZhCn),
            "金额小：近12个月消费 ¥4,999.99 < 中额阈值 ¥5,000"
        );
    }

    #[test]
    fn product_range_and_classify_from_facts() {
        let cfg = ClassConfig::default();
        assert_eq!(product_range(0, &cfg).0, ProductRange::Single);
        assert_eq!(product_range(1, &cfg).0, ProductRange::Single);
        assert_eq!(product_range(2, &cfg).0, ProductRange::Diversified);
        assert_eq!(
            product_range(3, &cfg).1.render(Locale::En),
            "product range diversified: 3 categories bought ≥ 2"
        );
        // 5 orders of ¥2,000 within the year, one older order outside it.
        let mut orders: Vec<Order<u32>> = (0..5)
            .map(|i| Order {
                customer_id: 7,
                day: 1000 - 30 * i,
                amount_fen: 200_000,
            })
            .collect();
        orders.push(Order {
            customer_id: 7,
            day: 1000 - 400,
            amount_fen: 9_000_000,
        });
        let f = &customer_facts(&orders, 1000)[0];
        let c = classify(f, 1, &cfg);
        assert_eq!(c.frequency.0, FrequencyClass::Mid);
        assert_eq!(c.amount.0, AmountClass::Mid);
        assert_eq!(c.product_range.0, ProductRange::Single);
        assert_eq!(
            c.amount.1,
            Explanation::Amount {
                class: AmountClass::Mid,
                spend_365d_fen: 1_000_000,
                large_min_fen: 5_000_000,
                mid_min_fen: 500_000
            }
        );
    }
}
