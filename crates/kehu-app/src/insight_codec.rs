//! How a classification's explanations and signals are stored: as codes and
//! the numbers that mattered (`["tier_threshold","B",3820000,2000000,8000000]`),
//! rendered into the reader's language when read. Storing data instead of
//! sentences keeps `customer_insight` rows small (a full run rewrites a
//! million of them) and lets wording and languages change without a rerun.
//!
//! Rows written before this format hold `{"zh-CN": …, "en": …}` objects;
//! [`render`] and [`signal_text`] still read them, so nothing stored is lost.

use crate::insight::FactsView;
use kehu_domain::analytics::Tier;
use kehu_domain::analytics::classify::{AmountClass, FrequencyClass, ProductRange};
use kehu_domain::analytics::explain::Explanation;
use kehu_domain::analytics::run::{Prediction, Signal};
use kehu_domain::i18n::Locale;
use serde::ser::{Serialize, SerializeTuple, Serializer};
use serde_json::{Value, json};

/// An explanation in its stored form, serialized straight to text: a run
/// writes a million rows, and building a `Value` tree for each was a fifth
/// of its write phase.
pub(crate) struct Stored<'a>(pub &'a Explanation);

impl Serialize for Stored<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Explanation::Frequency {
                class,
                orders_365d,
                high_min,
                mid_min,
            } => ("frequency", class.code(), orders_365d, high_min, mid_min).serialize(s),
            Explanation::Amount {
                class,
                spend_365d_fen,
                large_min_fen,
                mid_min_fen,
            } => (
                "amount",
                class.code(),
                spend_365d_fen,
                large_min_fen,
                mid_min_fen,
            )
                .serialize(s),
            Explanation::ProductRange {
                class,
                categories,
                diversified_min,
            } => ("product_range", class.code(), categories, diversified_min).serialize(s),
            Explanation::TierThreshold {
                tier,
                contribution_fen,
                reached,
                below,
            } => (
                "tier_threshold",
                tier.letter(),
                contribution_fen,
                reached,
                below,
            )
                .serialize(s),
            Explanation::TierPareto {
                tier,
                contribution_fen,
                rank,
                customers,
                share_before_pct,
                lower_pct,
                upper_pct,
            } => (
                "tier_pareto",
                tier.letter(),
                contribution_fen,
                rank,
                customers,
                share_before_pct,
                lower_pct,
                upper_pct,
            )
                .serialize(s),
            Explanation::TierNoContribution { contribution_fen } => {
                ("tier_no_contribution", contribution_fen).serialize(s)
            }
            Explanation::TierHeld {
                kept,
                computed,
                days_in_tier,
                min_stay_days,
                because,
            } => (
                "tier_held",
                kept.letter(),
                computed.letter(),
                days_in_tier,
                min_stay_days,
                Stored(because),
            )
                .serialize(s),
            Explanation::Prospect => ("prospect",).serialize(s),
            Explanation::New {
                days_since_first,
                new_days,
            } => ("new", days_since_first, new_days).serialize(s),
            Explanation::Churned {
                days_since_last,
                interval_days,
                interval_is_default,
                factor,
                max_days,
            } => (
                "churned",
                days_since_last,
                interval_days,
                interval_is_default,
                factor,
                max_days,
            )
                .serialize(s),
            Explanation::AtRisk {
                days_since_last,
                interval_days,
                interval_is_default,
                factor,
            } => (
                "at_risk",
                days_since_last,
                interval_days,
                interval_is_default,
                factor,
            )
                .serialize(s),
            Explanation::WonBack {
                from_churned,
                days_since_last,
                days_in_stage,
                won_back_days,
            } => (
                "won_back",
                from_churned,
                days_since_last,
                days_in_stage,
                won_back_days,
            )
                .serialize(s),
            Explanation::Loyal {
                purchase_days,
                tenure_days,
                min_purchase_days,
                min_tenure_days,
            } => (
                "loyal",
                purchase_days,
                tenure_days,
                min_purchase_days,
                min_tenure_days,
            )
                .serialize(s),
            Explanation::Active {
                days_since_last,
                interval_days,
                interval_is_default,
            } => (
                "active",
                days_since_last,
                interval_days,
                interval_is_default,
            )
                .serialize(s),
        }
    }
}

/// A row's `explanations` object. Keys in byte order, as a `Value` map
/// wrote them before.
#[derive(serde::Serialize)]
pub(crate) struct StoredExplanations<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Stored<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency: Option<Stored<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction: Option<StoredPrediction<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_range: Option<Stored<'a>>,
    pub stage: Stored<'a>,
    pub tier: Stored<'a>,
}

/// Positional reads from a stored array; `None` on any mismatch, so a
/// damaged value renders as nothing rather than as wrong numbers.
struct Fields<'a>(&'a [Value]);

impl Fields<'_> {
    fn i64(&self, i: usize) -> Option<i64> {
        self.0.get(i)?.as_i64()
    }
    fn i32(&self, i: usize) -> Option<i32> {
        i32::try_from(self.i64(i)?).ok()
    }
    fn u32(&self, i: usize) -> Option<u32> {
        u32::try_from(self.i64(i)?).ok()
    }
    fn usize(&self, i: usize) -> Option<usize> {
        usize::try_from(self.i64(i)?).ok()
    }
    fn f64(&self, i: usize) -> Option<f64> {
        self.0.get(i)?.as_f64()
    }
    fn bool(&self, i: usize) -> Option<bool> {
        self.0.get(i)?.as_bool()
    }
    fn str(&self, i: usize) -> Option<&str> {
        self.0.get(i)?.as_str()
    }
    fn tier(&self, i: usize) -> Option<Tier> {
        Tier::from_letter(self.str(i)?)
    }
    /// A nullable field read with `read`: `null` is `Some(None)`; a value
    /// of the wrong type is `None`.
    fn opt<T>(&self, i: usize, read: impl Fn(&Self, usize) -> Option<T>) -> Option<Option<T>> {
        if self.0.get(i)?.is_null() {
            Some(None)
        } else {
            read(self, i).map(Some)
        }
    }
}

/// The explanation [`Stored`] wrote, or `None` if it is not one.
pub(crate) fn decode(v: &Value) -> Option<Explanation> {
    let a = v.as_array()?;
    let f = Fields(a);
    Some(match f.str(0)? {
        "frequency" => Explanation::Frequency {
            class: FrequencyClass::from_code(f.str(1)?)?,
            orders_365d: f.u32(2)?,
            high_min: f.u32(3)?,
            mid_min: f.u32(4)?,
        },
        "amount" => Explanation::Amount {
            class: AmountClass::from_code(f.str(1)?)?,
            spend_365d_fen: f.i64(2)?,
            large_min_fen: f.i64(3)?,
            mid_min_fen: f.i64(4)?,
        },
        "product_range" => Explanation::ProductRange {
            class: ProductRange::from_code(f.str(1)?)?,
            categories: f.u32(2)?,
            diversified_min: f.u32(3)?,
        },
        "tier_threshold" => Explanation::TierThreshold {
            tier: f.tier(1)?,
            contribution_fen: f.i64(2)?,
            reached: f.opt(3, Fields::i64)?,
            below: f.opt(4, Fields::i64)?,
        },
        "tier_pareto" => Explanation::TierPareto {
            tier: f.tier(1)?,
            contribution_fen: f.i64(2)?,
            rank: f.usize(3)?,
            customers: f.usize(4)?,
            share_before_pct: f.f64(5)?,
            lower_pct: f.opt(6, Fields::u32)?,
            upper_pct: f.opt(7, Fields::u32)?,
        },
        "tier_no_contribution" => Explanation::TierNoContribution {
            contribution_fen: f.i64(1)?,
        },
        "tier_held" => Explanation::TierHeld {
            kept: f.tier(1)?,
            computed: f.tier(2)?,
            days_in_tier: f.i32(3)?,
            min_stay_days: f.i32(4)?,
            because: Box::new(decode(a.get(5)?)?),
        },
        "prospect" => Explanation::Prospect,
        "new" => Explanation::New {
            days_since_first: f.i32(1)?,
            new_days: f.i32(2)?,
        },
        "churned" => Explanation::Churned {
            days_since_last: f.i32(1)?,
            interval_days: f.f64(2)?,
            interval_is_default: f.bool(3)?,
            factor: f.f64(4)?,
            max_days: f.i32(5)?,
        },
        "at_risk" => Explanation::AtRisk {
            days_since_last: f.i32(1)?,
            interval_days: f.f64(2)?,
            interval_is_default: f.bool(3)?,
            factor: f.f64(4)?,
        },
        "won_back" => Explanation::WonBack {
            from_churned: f.bool(1)?,
            days_since_last: f.i32(2)?,
            days_in_stage: f.i32(3)?,
            won_back_days: f.i32(4)?,
        },
        "loyal" => Explanation::Loyal {
            purchase_days: f.u32(1)?,
            tenure_days: f.i32(2)?,
            min_purchase_days: f.u32(3)?,
            min_tenure_days: f.i32(4)?,
        },
        "active" => Explanation::Active {
            days_since_last: f.i32(1)?,
            interval_days: f.f64(2)?,
            interval_is_default: f.bool(3)?,
        },
        _ => return None,
    })
}

/// A prediction's explanation as `["prediction", purchase days, days
/// since the last, tenure days]`: the evidence it rests on. P(alive) and the
/// expected purchases are the row's own columns, so they are not repeated.
pub(crate) struct StoredPrediction<'a>(pub &'a Prediction);

impl Serialize for StoredPrediction<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        (
            "prediction",
            p.purchase_days,
            p.days_since_last,
            p.tenure_days,
        )
            .serialize(s)
    }
}

/// The prediction [`StoredPrediction`] wrote, completed with the row's
/// P(alive) and expected purchases.
fn decode_prediction(v: &Value, p_alive: f64, expected_purchases_90d: f64) -> Option<Prediction> {
    let a = v.as_array()?;
    let f = Fields(a);
    (f.str(0)? == "prediction").then_some(())?;
    Some(Prediction {
        p_alive,
        expected_purchases_90d,
        expected_spend_fen: None,
        clv_fen: None,
        predicted_12m_fen: None,
        purchase_days: f.u32(1)?,
        days_since_last: f.i32(2)?,
        tenure_days: f.i32(3)?,
    })
}

/// A signal as `[code, values…]`, serialized straight to text.
pub(crate) struct StoredSignal<'a>(pub &'a Signal);

impl Serialize for StoredSignal<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let s = self.0;
        match s {
            Signal::Overdue {
                days_since_last,
                interval_days,
                interval_is_default,
            } => (
                s.code(),
                days_since_last,
                interval_days,
                interval_is_default,
            )
                .serialize(ser),
            Signal::FallingFrequency {
                orders_90d,
                orders_365d,
            } => (s.code(), orders_90d, orders_365d).serialize(ser),
            Signal::LowPAlive { p_alive } => (s.code(), p_alive).serialize(ser),
        }
    }
}

fn decode_signal(v: &Value) -> Option<Signal> {
    let f = Fields(v.as_array()?);
    Some(match f.str(0)? {
        "overdue" => Signal::Overdue {
            days_since_last: f.i32(1)?,
            interval_days: f.f64(2)?,
            interval_is_default: f.bool(3)?,
        },
        "falling_frequency" => Signal::FallingFrequency {
            orders_90d: f.u32(1)?,
            orders_365d: f.u32(2)?,
        },
        "low_p_alive" => Signal::LowPAlive { p_alive: f.f64(1)? },
        _ => return None,
    })
}

/// A customer's facts as one array in [`FactsView`]'s field order (a run
/// writes a million of them; field names were half of each row).
pub(crate) struct StoredFacts<'a>(pub &'a FactsView);

impl Serialize for StoredFacts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let mut t = s.serialize_tuple(17)?;
        t.serialize_element(&f.first_purchase)?;
        t.serialize_element(&f.last_purchase)?;
        t.serialize_element(&f.purchase_days)?;
        t.serialize_element(&f.repeat_purchases)?;
        t.serialize_element(&f.orders)?;
        t.serialize_element(&f.spend_fen)?;
        t.serialize_element(&f.orders_30d)?;
        t.serialize_element(&f.orders_90d)?;
        t.serialize_element(&f.orders_365d)?;
        t.serialize_element(&f.spend_30d_fen)?;
        t.serialize_element(&f.spend_90d_fen)?;
        t.serialize_element(&f.spend_365d_fen)?;
        t.serialize_element(&f.average_order_value_fen)?;
        t.serialize_element(&f.days_since_last_purchase)?;
        t.serialize_element(&f.typical_interval_days)?;
        t.serialize_element(&f.categories)?;
        t.serialize_element(&f.contribution_12m_fen)?;
        t.end()
    }
}

/// Stored facts, as [`StoredFacts`] writes them or as the named object
/// rows written before it hold.
pub(crate) fn decode_facts(text: &str) -> Option<FactsView> {
    let v: Value = serde_json::from_str(text).ok()?;
    let Some(a) = v.as_array() else {
        return serde_json::from_value(v).ok();
    };
    let f = Fields(a);
    (a.len() == 17).then_some(())?;
    Some(FactsView {
        first_purchase: f.str(0)?.to_string(),
        last_purchase: f.str(1)?.to_string(),
        purchase_days: f.u32(2)?,
        repeat_purchases: f.u32(3)?,
        orders: f.u32(4)?,
        spend_fen: f.i64(5)?,
        orders_30d: f.u32(6)?,
        orders_90d: f.u32(7)?,
        orders_365d: f.u32(8)?,
        spend_30d_fen: f.i64(9)?,
        spend_90d_fen: f.i64(10)?,
        spend_365d_fen: f.i64(11)?,
        average_order_value_fen: f.i64(12)?,
        days_since_last_purchase: f.i32(13)?,
        typical_interval_days: f.opt(14, Fields::f64)?,
        categories: f.u32(15)?,
        contribution_12m_fen: f.i64(16)?,
    })
}

/// `{"zh-CN": …, "en": …}` from a renderer: how timeline entries keep the
/// sentence of the day (and how current explanations were stored before
/// codes).
pub(crate) fn both(f: impl Fn(Locale) -> String) -> Value {
    json!({Locale::ZhCn.tag(): f(Locale::ZhCn), Locale::En.tag(): f(Locale::En)})
}

/// The reader's language from a [`both`] value.
pub(crate) fn rendered(v: &Value, l: Locale) -> Option<String> {
    v.get(l.tag())?.as_str().map(str::to_string)
}

/// A stored explanation (either format) in the reader's language; empty if
/// there is none or it cannot be read.
pub(crate) fn render(v: Option<&Value>, l: Locale) -> String {
    let Some(v) = v else { return String::new() };
    decode(v)
        .map(|e| e.render(l))
        .or_else(|| rendered(v, l))
        .unwrap_or_default()
}

/// A stored prediction explanation (either format) in the reader's language.
pub(crate) fn render_prediction(
    v: Option<&Value>,
    p_alive: f64,
    expected_purchases_90d: f64,
    l: Locale,
) -> String {
    let Some(v) = v else { return String::new() };
    decode_prediction(v, p_alive, expected_purchases_90d)
        .map(|p| p.render(l))
        .or_else(|| rendered(v, l))
        .unwrap_or_default()
}

/// A stored signal (either format) as (code, text in the reader's language).
pub(crate) fn signal_text(v: &Value, l: Locale) -> Option<(String, String)> {
    if let Some(s) = decode_signal(v) {
        return Some((s.code().to_string(), s.render(l)));
    }
    let code = v.get("code")?.as_str()?.to_string();
    Some((code, rendered(v, l).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_facts(f: &FactsView) -> Value {
        serde_json::to_value(StoredFacts(f)).unwrap()
    }

    fn encode_signal(s: &Signal) -> Value {
        serde_json::to_value(StoredSignal(s)).unwrap()
    }

    fn encode_prediction(p: &Prediction) -> Value {
        serde_json::to_value(StoredPrediction(p)).unwrap()
    }

    fn encode(e: &Explanation) -> Value {
        serde_json::to_value(Stored(e)).unwrap()
    }

    fn all_explanations() -> Vec<Explanation> {
        let threshold = Explanation::TierThreshold {
            tier: Tier::B,
            contribution_fen: 3_820_000,
            reached: Some(2_000_000),
            below: Some(8_000_000),
        };
        vec![
            Explanation::Frequency {
                class: FrequencyClass::Mid,
                orders_365d: 4,
                high_min: 12,
                mid_min: 3,
            },
            Explanation::Amount {
                class: AmountClass::Large,
                spend_365d_fen: 1_234_567,
                large_min_fen: 1_000_000,
                mid_min_fen: 100_000,
            },
            Explanation::ProductRange {
                class: ProductRange::Diversified,
                categories: 5,
                diversified_min: 3,
            },
            threshold.clone(),
            Explanation::TierThreshold {
                tier: Tier::D,
                contribution_fen: -500,
                reached: None,
                below: Some(100_000),
            },
            Explanation::TierPareto {
                tier: Tier::A,
                contribution_fen: 99_000,
                rank: 1,
                customers: 200_000,
                share_before_pct: 0.0,
                lower_pct: None,
                upper_pct: Some(50),
            },
            Explanation::TierPareto {
                tier: Tier::C,
                contribution_fen: 12_345,
                rank: 123_456,
                customers: 200_000,
                share_before_pct: 83.123_456_789,
                lower_pct: Some(80),
                upper_pct: Some(95),
            },
            Explanation::TierNoContribution {
                contribution_fen: 0,
            },
            Explanation::TierHeld {
                kept: Tier::A,
                computed: Tier::B,
                days_in_tier: 12,
                min_stay_days: 30,
                because: Box::new(threshold),
            },
            Explanation::Prospect,
            Explanation::New {
                days_since_first: 3,
                new_days: 30,
            },
            Explanation::Churned {
                days_since_last: 400,
                interval_days: 37.5,
                interval_is_default: false,
                factor: 3.0,
                max_days: 365,
            },
            Explanation::AtRisk {
                days_since_last: 80,
                interval_days: 30.0,
                interval_is_default: true,
                factor: 2.0,
            },
            Explanation::WonBack {
                from_churned: true,
                days_since_last: 2,
                days_in_stage: 0,
                won_back_days: 90,
            },
            Explanation::Loyal {
                purchase_days: 9,
                tenure_days: 500,
                min_purchase_days: 6,
                min_tenure_days: 365,
            },
            Explanation::Active {
                days_since_last: 10,
                interval_days: 1.0 / 3.0,
                interval_is_default: false,
            },
        ]
    }

    /// Every variant comes back equal (floats exactly), and renders as the
    /// original does in both languages.
    #[test]
    fn explanations_round_trip() {
        for e in all_explanations() {
            let stored = encode(&e).to_string();
            let back = decode(&serde_json::from_str(&stored).unwrap());
            assert_eq!(back.as_ref(), Some(&e), "{stored}");
            for l in [Locale::ZhCn, Locale::En] {
                let v: Value = serde_json::from_str(&stored).unwrap();
                assert_eq!(render(Some(&v), l), e.render(l));
            }
        }
    }

    #[test]
    fn signals_and_prediction_round_trip() {
        let signals = [
            Signal::Overdue {
                days_since_last: 90,
                interval_days: 21.25,
                interval_is_default: false,
            },
            Signal::FallingFrequency {
                orders_90d: 1,
                orders_365d: 12,
            },
            Signal::LowPAlive { p_alive: 0.123_456 },
        ];
        for s in signals {
            let v = encode_signal(&s);
            assert_eq!(decode_signal(&v), Some(s.clone()));
            assert_eq!(
                signal_text(&v, Locale::En),
                Some((s.code().to_string(), s.render(Locale::En)))
            );
        }
        let p = Prediction {
            p_alive: 0.8,
            expected_purchases_90d: 1.25,
            expected_spend_fen: Some(1000.0),
            clv_fen: Some(50_000.0),
            predicted_12m_fen: Some(40_000),
            purchase_days: 7,
            days_since_last: 12,
            tenure_days: 400,
        };
        let v = encode_prediction(&p);
        for l in [Locale::ZhCn, Locale::En] {
            assert_eq!(render_prediction(Some(&v), 0.8, 1.25, l), p.render(l));
        }
    }

    #[test]
    fn facts_round_trip_and_old_rows_read() {
        let f = FactsView {
            first_purchase: "2024-02-29".into(),
            last_purchase: "2026-11-20".into(),
            purchase_days: 9,
            repeat_purchases: 8,
            orders: 11,
            spend_fen: 1_234_567,
            orders_30d: 1,
            orders_90d: 2,
            orders_365d: 5,
            spend_30d_fen: 1000,
            spend_90d_fen: 20_000,
            spend_365d_fen: 300_000,
            average_order_value_fen: 112_233,
            days_since_last_purchase: 4,
            typical_interval_days: Some(37.25),
            categories: 3,
            contribution_12m_fen: 90_000,
        };
        let stored = encode_facts(&f).to_string();
        assert_eq!(decode_facts(&stored), Some(f.clone()));
        let none = FactsView {
            typical_interval_days: None,
            ..f.clone()
        };
        assert_eq!(decode_facts(&encode_facts(&none).to_string()), Some(none));
        // The named form older rows hold.
        let old = serde_json::to_string(&f).unwrap();
        assert!(old.contains("\"first_purchase\""));
        assert_eq!(decode_facts(&old), Some(f));
        assert_eq!(decode_facts("[1,2]"), None);
        assert_eq!(decode_facts("not json"), None);
    }

    /// The exact text a run stores (what rows written before these types
    /// hold): keys in byte order, absent parts left out, floats as written.
    #[test]
    fn stored_text_is_the_established_format() {
        let tier = Explanation::TierThreshold {
            tier: Tier::D,
            contribution_fen: 7_600,
            reached: None,
            below: Some(500_000),
        };
        let stage = Explanation::AtRisk {
            days_since_last: 201,
            interval_days: 90.0,
            interval_is_default: true,
            factor: 2.0,
        };
        let p = Prediction {
            p_alive: 0.5,
            expected_purchases_90d: 0.1,
            expected_spend_fen: None,
            clv_fen: None,
            predicted_12m_fen: None,
            purchase_days: 1,
            days_since_last: 201,
            tenure_days: 201,
        };
        let ex = StoredExplanations {
            amount: None,
            frequency: None,
            prediction: Some(StoredPrediction(&p)),
            product_range: None,
            stage: Stored(&stage),
            tier: Stored(&tier),
        };
        assert_eq!(
            serde_json::to_string(&ex).unwrap(),
            r#"{"prediction":["prediction",1,201,201],"stage":["at_risk",201,90.0,true,2.0],"tier":["tier_threshold","D",7600,null,500000]}"#
        );
        let signals = [
            Signal::LowPAlive { p_alive: 0.25 },
            Signal::FallingFrequency {
                orders_90d: 0,
                orders_365d: 4,
            },
        ];
        let signals: Vec<StoredSignal> = signals.iter().map(StoredSignal).collect();
        assert_eq!(
            serde_json::to_string(&signals).unwrap(),
            r#"[["low_p_alive",0.25],["falling_frequency",0,4]]"#
        );
    }

    /// Every kind of explanation in the text rows hold (the `json!` arrays
    /// written before `Stored` gave the same bytes): positions, `null`,
    /// floats with their `.0`, the held tier's nested reason.
    #[test]
    fn every_explanation_keeps_its_stored_text() {
        let want = [
            r#"["frequency","mid",4,12,3]"#,
            r#"["amount","large",1234567,1000000,100000]"#,
            r#"["product_range","diversified",5,3]"#,
            r#"["tier_threshold","B",3820000,2000000,8000000]"#,
            r#"["tier_threshold","D",-500,null,100000]"#,
            r#"["tier_pareto","A",99000,1,200000,0.0,null,50]"#,
            r#"["tier_pareto","C",12345,123456,200000,83.123456789,80,95]"#,
            r#"["tier_no_contribution",0]"#,
            r#"["tier_held","A","B",12,30,["tier_threshold","B",3820000,2000000,8000000]]"#,
            r#"["prospect"]"#,
            r#"["new",3,30]"#,
            r#"["churned",400,37.5,false,3.0,365]"#,
            r#"["at_risk",80,30.0,true,2.0]"#,
            r#"["won_back",true,2,0,90]"#,
            r#"["loyal",9,500,6,365]"#,
            r#"["active",10,0.3333333333333333,false]"#,
        ];
        let got: Vec<String> = all_explanations()
            .iter()
            .map(|e| serde_json::to_string(&Stored(e)).unwrap())
            .collect();
        assert_eq!(got, want);
    }

    /// Rows written before codes (sentences in both languages) still read.
    #[test]
    fn old_rendered_rows_still_read() {
        let old = json!({"zh-CN": "B级客户：…", "en": "tier B: …"});
        assert_eq!(render(Some(&old), Locale::En), "tier B: …");
        assert_eq!(render(Some(&old), Locale::ZhCn), "B级客户：…");
        assert_eq!(
            render_prediction(Some(&old), 0.5, 1.0, Locale::En),
            "tier B: …"
        );
        let sig =
            json!({"code": "overdue", "zh-CN": "已 90 天未购买", "en": "no purchase for 90 days"});
        assert_eq!(
            signal_text(&sig, Locale::En),
            Some(("overdue".into(), "no purchase for 90 days".into()))
        );
        // Damaged values render as nothing, never as wrong numbers.
        assert_eq!(
            render(Some(&json!(["tier_threshold", "B", "x"])), Locale::En),
            ""
        );
        assert_eq!(render(Some(&json!(["no_such_kind"])), Locale::En), "");
        assert_eq!(render(None, Locale::En), "");
        assert_eq!(signal_text(&json!([1, 2]), Locale::En), None);
    }
}
