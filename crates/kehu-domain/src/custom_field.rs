//! Custom fields: typed, defined per tenant, validated like built-in fields.

use crate::FieldError;
use crate::normalize::nfkc;
use crate::validate::{format_date, parse_date};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Number,
    Date,
    Bool,
    Select,
    MultiSelect,
}

impl FieldType {
    pub const ALL: [FieldType; 6] = [
        FieldType::Text,
        FieldType::Number,
        FieldType::Date,
        FieldType::Bool,
        FieldType::Select,
        FieldType::MultiSelect,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::Bool => "bool",
            FieldType::Select => "select",
            FieldType::MultiSelect => "multi_select",
        }
    }
    pub fn parse(s: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A JSON-like value as the domain sees it, without depending on a JSON crate.
#[derive(Clone, Debug, PartialEq)]
pub enum RawValue {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    List(Vec<RawValue>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct CustomFieldDef {
    /// Stable key used in `custom_fields` objects: `[a-z][a-z0-9_]{0,39}`.
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    pub field_type: FieldType,
    pub options: Vec<String>,
    pub required: bool,
}

pub fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && key.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Validates a definition an administrator submits.
pub fn check_def(def: &CustomFieldDef) -> Result<(), FieldError> {
    if !valid_key(&def.key) {
        return Err(FieldError::new("key", "custom_field.key"));
    }
    if def.label_zh.trim().is_empty() {
        return Err(FieldError::new("label_zh", "text.required"));
    }
    if def.label_en.trim().is_empty() {
        return Err(FieldError::new("label_en", "text.required"));
    }
    let needs_options = matches!(def.field_type, FieldType::Select | FieldType::MultiSelect);
    if needs_options && def.options.is_empty() {
        return Err(FieldError::new("options", "text.required"));
    }
    Ok(())
}

/// Checks a whole `custom_fields` object against the tenant's definitions and
/// returns it normalised (dates as `YYYY-MM-DD`, text NFKC). Unknown keys are
/// refused so a typo is not silently stored.
pub fn validate_values(
    defs: &[CustomFieldDef],
    values: &BTreeMap<String, RawValue>,
) -> Result<BTreeMap<String, RawValue>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = BTreeMap::new();
    for key in values.keys() {
        if !defs.iter().any(|d| &d.key == key) {
            errors.push(FieldError::new(
                format!("custom_fields.{key}"),
                "custom_field.unknown",
            ));
        }
    }
    for def in defs {
        let field = format!("custom_fields.{}", def.key);
        let value = values.get(&def.key).unwrap_or(&RawValue::Null);
        let type_err = || {
            FieldError::new(field.clone(), "custom_field.type")
                .with("expected", def.field_type.as_str())
        };
        let checked = match (def.field_type, value) {
            (_, RawValue::Null) => {
                if def.required {
                    errors.push(FieldError::new(field.clone(), "custom_field.required"));
                }
                continue;
            }
            (FieldType::Text, RawValue::Text(s)) => {
                let s = nfkc(s);
                if s.chars().count() > 500 {
                    Err(FieldError::new(field.clone(), "text.too_long").with("max", 500))
                } else {
                    Ok(RawValue::Text(s))
                }
            }
            (FieldType::Number, RawValue::Number(n)) if n.is_finite() => Ok(RawValue::Number(*n)),
            (FieldType::Bool, RawValue::Bool(b)) => Ok(RawValue::Bool(*b)),
            (FieldType::Date, RawValue::Text(s)) => {
                parse_date(&field, s).map(|d| RawValue::Text(format_date(d)))
            }
            (FieldType::Select, RawValue::Text(s)) => {
                if def.options.contains(s) {
                    Ok(RawValue::Text(s.clone()))
                } else {
                    Err(FieldError::new(field.clone(), "value.invalid")
                        .with("allowed", def.options.join(", ")))
                }
            }
            (FieldType::MultiSelect, RawValue::List(items)) => {
                let mut picked = Vec::new();
                let mut bad = false;
                for item in items {
                    match item {
                        RawValue::Text(s) if def.options.contains(s) => {
                            if !picked.contains(&RawValue::Text(s.clone())) {
                                picked.push(RawValue::Text(s.clone()));
                            }
                        }
                        _ => bad = true,
                    }
                }
                if bad {
                    Err(FieldError::new(field.clone(), "value.invalid")
                        .with("allowed", def.options.join(", ")))
                } else {
                    Ok(RawValue::List(picked))
                }
            }
            _ => Err(type_err()),
        };
        match checked {
            Ok(v) => {
                out.insert(def.key.clone(), v);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs() -> Vec<CustomFieldDef> {
        let d = |key: &str, t: FieldType, required: bool| CustomFieldDef {
            key: key.into(),
            label_zh: "标签".into(),
            label_en: "Label".into(),
            field_type: t,
            options: vec!["金牌".into(), "银牌".into()],
            required,
        };
        vec![
            d("wechat", FieldType::Text, false),
            d("employees", FieldType::Number, false),
            d("founded", FieldType::Date, false),
            d("vip", FieldType::Bool, true),
            d("level", FieldType::Select, false),
            d("labels", FieldType::MultiSelect, false),
        ]
    }

    fn check_ok(pairs: Vec<(&str, RawValue)>) -> BTreeMap<String, RawValue> {
        let values = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        validate_values(&defs(), &values).unwrap()
    }

    fn check_err(pairs: Vec<(&str, RawValue)>) -> Vec<(String, &'static str)> {
        let values = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        validate_values(&defs(), &values)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn accepts_typed_values() {
        let out = check_ok(vec![
            ("wechat", RawValue::Text("ｗｘ＿ｚｓ".into())),
            ("vip", RawValue::Bool(true)),
            ("level", RawValue::Text("金牌".into())),
            (
                "labels",
                RawValue::List(vec![
                    RawValue::Text("银牌".into()),
                    RawValue::Text("银牌".into()),
                ]),
            ),
        ]);
        assert_eq!(out["wechat"], RawValue::Text("wx_zs".into()));
        assert_eq!(
            out["labels"],
            RawValue::List(vec![RawValue::Text("银牌".into())])
        );
    }

    #[test]
    fn reports_every_broken_rule() {
        let errs = check_err(vec![
            ("employees", RawValue::Text("many".into())),
            ("level", RawValue::Text("铜牌".into())),
            ("nope", RawValue::Bool(true)),
        ]);
        assert!(errs.contains(&("custom_fields.nope".into(), "custom_field.unknown")));
        assert!(errs.contains(&("custom_fields.employees".into(), "custom_field.type")));
        assert!(errs.contains(&("custom_fields.level".into(), "value.invalid")));
        assert!(errs.contains(&("custom_fields.vip".into(), "custom_field.required")));
    }

    #[test]
    fn keys() {
        assert!(valid_key("wechat_id"));
        assert!(!valid_key("WeChat"));
        assert!(!valid_key("1st"));
        assert!(!valid_key(""));
    }
}
