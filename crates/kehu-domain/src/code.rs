//! Customer codes (客户编码) from a per-tenant pattern such as `KH{YYYY}{MM}-{SEQ:4}`.
//! The sequence resets daily, monthly, yearly or never; a reset period must be
//! visible in the code, or codes would repeat.

use crate::FieldError;
use time::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeReset {
    Daily,
    Monthly,
    Yearly,
    Never,
}

impl CodeReset {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeReset::Daily => "daily",
            CodeReset::Monthly => "monthly",
            CodeReset::Yearly => "yearly",
            CodeReset::Never => "never",
        }
    }
    pub fn parse(s: &str) -> Option<CodeReset> {
        [
            CodeReset::Daily,
            CodeReset::Monthly,
            CodeReset::Yearly,
            CodeReset::Never,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// The key of the sequence counter for `date`: one counter per period.
    pub fn period_key(self, date: Date) -> String {
        let (y, m, d) = (date.year(), u8::from(date.month()), date.day());
        match self {
            CodeReset::Daily => format!("{y:04}{m:02}{d:02}"),
            CodeReset::Monthly => format!("{y:04}{m:02}"),
            CodeReset::Yearly => format!("{y:04}"),
            CodeReset::Never => String::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Year4,
    Year2,
    Month,
    Day,
    Seq(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodePattern {
    source: String,
    parts: Vec<Part>,
    reset: CodeReset,
}

pub const DEFAULT_PATTERN: &str = "KH{YYYY}{MM}{SEQ:5}";
pub const DEFAULT_RESET: CodeReset = CodeReset::Monthly;

impl CodePattern {
    pub fn parse(pattern: &str, reset: CodeReset) -> Result<CodePattern, FieldError> {
        let field = "code_pattern";
        if pattern.chars().count() > 32 {
            return Err(FieldError::new(field, "text.too_long").with("max", 32));
        }
        let mut parts = Vec::new();
        let mut rest = pattern;
        let mut text = String::new();
        while let Some(c) = rest.chars().next() {
            if c == '{' {
                let end = rest
                    .find('}')
                    .ok_or_else(|| FieldError::new(field, "code_pattern.invalid"))?;
                let token = &rest[1..end];
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(match token {
                    "YYYY" => Part::Year4,
                    "YY" => Part::Year2,
                    "MM" => Part::Month,
                    "DD" => Part::Day,
                    t => match t.strip_prefix("SEQ:").and_then(|n| n.parse::<usize>().ok()) {
                        Some(n) if (1..=12).contains(&n) => Part::Seq(n),
                        _ => return Err(FieldError::new(field, "code_pattern.invalid")),
                    },
                });
                rest = &rest[end + 1..];
            } else {
                if !(c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                    return Err(FieldError::new(field, "code_pattern.invalid"));
                }
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        if parts.iter().filter(|p| matches!(p, Part::Seq(_))).count() != 1 {
            return Err(FieldError::new(field, "code_pattern.invalid"));
        }
        let has = |want: &[Part]| want.iter().all(|w| parts.contains(w));
        let year = has(&[Part::Year4]) || has(&[Part::Year2]);
        let covered = match reset {
            CodeReset::Never => true,
            CodeReset::Yearly => year,
            CodeReset::Monthly => year && has(&[Part::Month]),
            CodeReset::Daily => year && has(&[Part::Month, Part::Day]),
        };
        if !covered {
            return Err(FieldError::new(field, "code_pattern.reset_needs_date")
                .with("reset", reset.as_str()));
        }
        Ok(CodePattern {
            source: pattern.to_string(),
            parts,
            reset,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }
    pub fn reset(&self) -> CodeReset {
        self.reset
    }

    /// Renders the code for the `seq`-th customer of the period containing `date`.
    /// A sequence wider than its digits simply grows: codes stay unique.
    pub fn render(&self, date: Date, seq: u64) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Year4 => out.push_str(&format!("{:04}", date.year())),
                Part::Year2 => out.push_str(&format!("{:02}", date.year().rem_euclid(100))),
                Part::Month => out.push_str(&format!("{:02}", u8::from(date.month()))),
                Part::Day => out.push_str(&format!("{:02}", date.day())),
                Part::Seq(n) => out.push_str(&format!("{seq:0n$}", n = *n)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn check(pattern: &str, reset: CodeReset, seq: u64, expect: &str) {
        let p = CodePattern::parse(pattern, reset).unwrap();
        assert_eq!(p.render(date!(2026 - 11 - 03), seq), expect);
    }

    fn check_err(pattern: &str, reset: CodeReset, code: &str) {
        assert_eq!(CodePattern::parse(pattern, reset).unwrap_err().code, code);
    }

    #[test]
    fn renders_patterns() {
        check(DEFAULT_PATTERN, DEFAULT_RESET, 7, "KH20261100007");
        check(
            "C-{YY}{MM}{DD}-{SEQ:3}",
            CodeReset::Daily,
            12,
            "C-261103-012",
        );
        check("CUST{SEQ:4}", CodeReset::Never, 12345, "CUST12345");
    }

    #[test]
    fn rejects_bad_patterns() {
        check_err(
            "KH{SEQ:5}",
            CodeReset::Daily,
            "code_pattern.reset_needs_date",
        );
        check_err(
            "KH{YYYY}{SEQ:5}",
            CodeReset::Monthly,
            "code_pattern.reset_needs_date",
        );
        check_err("KH{YYYY}", CodeReset::Never, "code_pattern.invalid");
        check_err("KH{SEQ:2}{SEQ:2}", CodeReset::Never, "code_pattern.invalid");
        check_err("客户{SEQ:4}", CodeReset::Never, "code_pattern.invalid");
        check_err("KH{SEQ:0}", CodeReset::Never, "code_pattern.invalid");
        check_err("KH{SEQ:4", CodeReset::Never, "code_pattern.invalid");
    }

    #[test]
    fn period_keys() {
        let d = date!(2026 - 01 - 05);
        assert_eq!(CodeReset::Daily.period_key(d), "20260105");
        assert_eq!(CodeReset::Monthly.period_key(d), "202601");
        assert_eq!(CodeReset::Yearly.period_key(d), "2026");
        assert_eq!(CodeReset::Never.period_key(d), "");
    }
}
