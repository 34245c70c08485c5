//! Tag rules: a small rule language over a customer's facts (issue 5, item 4).
//!
//! ```text
//! rule       = or_expr EOF ;
//! or_expr    = and_expr { "or" and_expr } ;
//! and_expr   = not_expr { "and" not_expr } ;
//! not_expr   = "not" not_expr | primary ;
//! primary    = "(" or_expr ")"
//!            | "has_tag" "(" string ")"
//!            | field cmp_op literal
//!            | field "in" "[" [ literal { "," literal } ] "]" ;
//! cmp_op     = "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" ;
//! literal    = string | number | money | "true" | "false" ;
//! money      = ( "¥" | "￥" ) number | number "元" ;
//! number     = [ "-" ] digit { digit } [ "." digit { digit } ] ;
//! string     = '"' { char | '\"' | '\\' } '"' ;
//! field      = "orders_30d" | "orders_90d" | "orders_365d"
//!            | "spend_30d" | "spend_90d" | "spend_365d"
//!            | "purchase_days" | "repeat_purchases" | "days_since_last_purchase"
//!            | "average_order_value" | "typical_interval_days"
//!            | "province" | "source" | "kind" | "tier" | "stage"
//!            | "custom." key ;
//! ```
//!
//! Keywords (`and`, `or`, `not`, `in`, `true`, `false`, `has_tag`) and the
//! built-in field names are case-insensitive; custom keys keep their case.
//! Chinese aliases: `且`/`并且` = and, `或`/`或者` = or, `非` = not,
//! `属于` = in. Precedence: `not` > `and` > `or`.
//!
//! Amounts: the spend fields and `average_order_value` are written in yuan
//! in rules (plain numbers, `¥5000` and `5000元` all mean 5000 yuan) and
//! compared against the fen values of [`CustomerFacts`] (rounded to the
//! nearest fen). A money literal on
//! any other field is an error.
//!
//! Semantic checks at parse time: unknown fields, a number field compared
//! with a string or boolean, a text field compared with a number.
//! Custom fields are untyped until evaluation.
//!
//! **Missing values compare false**: a comparison or `in` whose field has no
//! value (no facts, no typical interval, unset province, absent custom
//! field, or a custom value of a different type than the literal) is
//! false for every operator, including `!=`; `not (...)` of it is true.
//! Strings compare by code point; booleans only support `=` and `!=`.
//! Column positions are 1-based and counted in characters over the whole
//! rule text; byte offsets are 0-based.

use std::collections::{BTreeMap, BTreeSet};

use super::lifecycle::Stage;
use super::summary::CustomerFacts;
use super::tier::Tier;
use crate::i18n::Locale;

/// Maximum nesting of parentheses and `not`, so no input can exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// Numeric fields taken from [`CustomerFacts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NumField {
    Orders30d,
    Orders90d,
    Orders365d,
    Spend30d,
    Spend90d,
    Spend365d,
    PurchaseDays,
    RepeatPurchases,
    DaysSinceLastPurchase,
    AverageOrderValue,
    TypicalIntervalDays,
}

impl NumField {
    pub const ALL: [NumField; 11] = [
        NumField::Orders30d,
        NumField::Orders90d,
        NumField::Orders365d,
        NumField::Spend30d,
        NumField::Spend90d,
        NumField::Spend365d,
        NumField::PurchaseDays,
        NumField::RepeatPurchases,
        NumField::DaysSinceLastPurchase,
        NumField::AverageOrderValue,
        NumField::TypicalIntervalDays,
    ];

    pub fn name(self) -> &'static str {
        match self {
            NumField::Orders30d => "orders_30d",
            NumField::Orders90d => "orders_90d",
            NumField::Orders365d => "orders_365d",
            NumField::Spend30d => "spend_30d",
            NumField::Spend90d => "spend_90d",
            NumField::Spend365d => "spend_365d",
            NumField::PurchaseDays => "purchase_days",
            NumField::RepeatPurchases => "repeat_purchases",
            NumField::DaysSinceLastPurchase => "days_since_last_purchase",
            NumField::AverageOrderValue => "average_order_value",
            NumField::TypicalIntervalDays => "typical_interval_days",
        }
    }

    /// Written in yuan in rules, stored in fen in facts.
    pub fn is_money(self) -> bool {
        matches!(
            self,
            NumField::Spend30d
                | NumField::Spend90d
                | NumField::Spend365d
                | NumField::AverageOrderValue
        )
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Text fields of the customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TextField {
    Province,
    Source,
    Kind,
    Tier,
    Stage,
}

impl TextField {
    pub const ALL: [TextField; 5] = [
        TextField::Province,
        TextField::Source,
        TextField::Kind,
        TextField::Tier,
        TextField::Stage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TextField::Province => "province",
            TextField::Source => "source",
            TextField::Kind => "kind",
            TextField::Tier => "tier",
            TextField::Stage => "stage",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The names a rule may use (plus `custom.<key>`).
pub fn known_fields() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = NumField::ALL.iter().map(|f| f.name()).collect();
    v.extend(TextField::ALL.iter().map(|f| f.name()));
    v.push("custom.<key>");
    v
}

/// A field referenced by a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Num(NumField),
    Text(TextField),
    Custom(String),
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A literal after type checking; numbers on money fields are already in fen.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Num(f64),
    Text(String),
    Bool(bool),
}

/// A parsed rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp {
        field: Field,
        op: CmpOp,
        value: Value,
    },
    In {
        field: Field,
        values: Vec<Value>,
    },
    HasTag(String),
}

/// A custom field's value for one customer.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum CustomValue {
    Str(String),
    Num(f64),
    Bool(bool),
    #[default]
    Absent,
}

/// Everything a rule can look at for one customer. Unset values are missing.
#[derive(Clone, Debug, Default)]
pub struct RuleContext {
    numbers: [Option<f64>; 11],
    texts: [Option<String>; 5],
    custom: BTreeMap<String, CustomValue>,
    tags: BTreeSet<String>,
}

impl RuleContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Numbers from facts computed as of a day (amounts in fen).
    pub fn from_facts<K>(facts: &CustomerFacts<K>) -> Self {
        let mut c = Self::default();
        c.set_facts(facts);
        c
    }

    pub fn set_facts<K>(&mut self, f: &CustomerFacts<K>) {
        use NumField as N;
        self.set_number(N::Orders30d, f64::from(f.orders_30d));
        self.set_number(N::Orders90d, f64::from(f.orders_90d));
        self.set_number(N::Orders365d, f64::from(f.orders_365d));
        self.set_number(N::Spend30d, f.spend_30d_fen as f64);
        self.set_number(N::Spend90d, f.spend_90d_fen as f64);
        self.set_number(N::Spend365d, f.spend_365d_fen as f64);
        self.set_number(N::PurchaseDays, f64::from(f.purchase_days));
        self.set_number(N::RepeatPurchases, f64::from(f.repeat_purchases));
        self.set_number(
            N::DaysSinceLastPurchase,
            f64::from(f.days_since_last_purchase),
        );
        self.set_number(N::AverageOrderValue, f.average_order_value_fen);
        self.numbers[N::TypicalIntervalDays.index()] = f.typical_interval_days;
    }

    /// Sets a number; money fields take fen.
    pub fn set_number(&mut self, field: NumField, value: f64) -> &mut Self {
        self.numbers[field.index()] = Some(value);
        self
    }

    pub fn set_text(&mut self, field: TextField, value: impl Into<String>) -> &mut Self {
        self.texts[field.index()] = Some(value.into());
        self
    }

    /// `tier` as its letter ("A" … "D").
    pub fn set_tier(&mut self, tier: Tier) -> &mut Self {
        self.set_text(TextField::Tier, tier.letter())
    }

    /// `stage` as its stable code ("at_risk", …).
    pub fn set_stage(&mut self, stage: Stage) -> &mut Self {
        self.set_text(TextField::Stage, stage.code())
    }

    pub fn set_custom(&mut self, key: impl Into<String>, value: CustomValue) -> &mut Self {
        self.custom.insert(key.into(), value);
        self
    }

    pub fn add_tag(&mut self, tag: impl Into<String>) -> &mut Self {
        self.tags.insert(tag.into());
        self
    }

    pub fn number(&self, field: NumField) -> Option<f64> {
        self.numbers[field.index()]
    }

    pub fn text(&self, field: TextField) -> Option<&str> {
        self.texts[field.index()].as_deref()
    }

    pub fn custom(&self, key: &str) -> &CustomValue {
        static ABSENT: CustomValue = CustomValue::Absent;
        self.custom.get(key).unwrap_or(&ABSENT)
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.contains(tag)
    }
}

// ---------------------------------------------------------------- errors

/// What the parser was looking for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    Condition,
    ComparisonOp,
    Value,
    Number,
    StringLiteral,
    OpenParen,
    CloseParen,
    OpenBracket,
    CommaOrCloseBracket,
    AndOrEnd,
}

impl Expected {
    fn render(self, locale: Locale) -> &'static str {
        match (locale, self) {
            (Locale::ZhCn, Expected::Condition) => "条件（字段、has_tag、not 或 “(”）",
            (Locale::ZhCn, Expected::ComparisonOp) => "比较运算符",
            (Locale::ZhCn, Expected::Value) => "值（字符串、数字或金额）",
            (Locale::ZhCn, Expected::Number) => "数字",
            (Locale::ZhCn, Expected::StringLiteral) => "字符串",
            (Locale::ZhCn, Expected::OpenParen) => "“(”",
            (Locale::ZhCn, Expected::CloseParen) => "“)”",
            (Locale::ZhCn, Expected::OpenBracket) => "“[”",
            (Locale::ZhCn, Expected::CommaOrCloseBracket) => "“,” 或 “]”",
            (Locale::ZhCn, Expected::AndOrEnd) => "“and”、“or” 或规则结尾",
            (Locale::En, Expected::Condition) => "a condition (a field, has_tag, not or \"(\")",
            (Locale::En, Expected::ComparisonOp) => "a comparison operator",
            (Locale::En, Expected::Value) => "a value (string, number or amount)",
            (Locale::En, Expected::Number) => "a number",
            (Locale::En, Expected::StringLiteral) => "a string",
            (Locale::En, Expected::OpenParen) => "\"(\"",
            (Locale::En, Expected::CloseParen) => "\")\"",
            (Locale::En, Expected::OpenBracket) => "\"[\"",
            (Locale::En, Expected::CommaOrCloseBracket) => "\",\" or \"]\"",
            (Locale::En, Expected::AndOrEnd) => "\"and\", \"or\" or the end of the rule",
        }
    }
}

/// What the parser found instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// The source text of the token or character.
    Text(String),
    End,
}

impl Found {
    fn render(&self, locale: Locale) -> String {
        match (locale, self) {
            (Locale::ZhCn, Found::Text(t)) => format!("“{t}”"),
            (Locale::En, Found::Text(t)) => format!("\"{t}\""),
            (Locale::ZhCn, Found::End) => "规则结尾".to_string(),
            (Locale::En, Found::End) => "the end of the rule".to_string(),
        }
    }
}

/// The type of a field or literal, for type errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Number,
    Text,
    Bool,
}

impl ValueType {
    fn render(self, locale: Locale) -> &'static str {
        match (locale, self) {
            (Locale::ZhCn, ValueType::Number) => "数字",
            (Locale::ZhCn, ValueType::Text) => "文本",
            (Locale::ZhCn, ValueType::Bool) => "布尔值",
            (Locale::En, ValueType::Number) => "a number",
            (Locale::En, ValueType::Text) => "text",
            (Locale::En, ValueType::Bool) => "a boolean",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ErrorKind {
    Syntax {
        expected: Expected,
        found: Found,
    },
    UnterminatedString,
    BadEscape(char),
    UnknownField {
        name: String,
        known: Vec<&'static str>,
    },
    TypeMismatch {
        field: String,
        field_type: ValueType,
        literal: ValueType,
    },
    MoneyOnNonMoneyField {
        field: String,
    },
    TooDeep,
}

/// A parse error: where (0-based byte offset, 1-based character column) and what.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub byte: usize,
    pub column: usize,
    pub kind: ErrorKind,
}

impl ParseError {
    /// The expected token, for syntax errors.
    pub fn expected(&self) -> Option<Expected> {
        match &self.kind {
            ErrorKind::Syntax { expected, .. } => Some(*expected),
            _ => None,
        }
    }

    /// The token found, for syntax errors.
    pub fn found(&self) -> Option<&Found> {
        match &self.kind {
            ErrorKind::Syntax { found, .. } => Some(found),
            _ => None,
        }
    }

    pub fn render(&self, locale: Locale) -> String {
        let c = self.column;
        let zh = locale == Locale::ZhCn;
        match &self.kind {
            ErrorKind::Syntax { expected, found } => {
                let (e, f) = (expected.render(locale), found.render(locale));
                if zh {
                    format!("第 {c} 列：应为{e}，实际为{f}")
                } else {
                    format!("column {c}: expected {e}, found {f}")
                }
            }
            ErrorKind::UnterminatedString => {
                if zh {
                    format!("第 {c} 列：字符串缺少结束引号")
                } else {
                    format!("column {c}: unterminated string")
                }
            }
            ErrorKind::BadEscape(ch) => {
                if zh {
                    format!("第 {c} 列：无效的转义 “\\{ch}”，只能用 \\\" 和 \\\\")
                } else {
                    format!("column {c}: invalid escape \"\\{ch}\"; only \\\" and \\\\ are allowed")
                }
            }
            ErrorKind::UnknownField { name, known } => {
                if zh {
                    format!(
                        "第 {c} 列：未知字段 “{name}”，可用字段：{}",
                        known.join("、")
                    )
                } else {
                    format!(
                        "column {c}: unknown field \"{name}\"; known fields: {}",
                        known.join(", ")
                    )
                }
            }
            ErrorKind::TypeMismatch {
                field,
                field_type,
                literal,
            } => {
                let (ft, lt) = (field_type.render(locale), literal.render(locale));
                if zh {
                    format!("第 {c} 列：字段 “{field}” 是{ft}，不能与{lt}比较")
                } else {
                    format!(
                        "column {c}: field \"{field}\" is {ft} and cannot be compared with {lt}"
                    )
                }
            }
            ErrorKind::MoneyOnNonMoneyField { field } => {
                if zh {
                    format!("第 {c} 列：字段 “{field}” 不是金额，不能使用金额单位")
                } else {
                    format!(
                        "column {c}: field \"{field}\" is not an amount; money units are not allowed"
                    )
                }
            }
            ErrorKind::TooDeep => {
                if zh {
                    format!("第 {c} 列：嵌套超过 {MAX_DEPTH} 层")
                } else {
                    format!("column {c}: nesting deeper than {MAX_DEPTH} levels")
                }
            }
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Locale::En))
    }
}

impl std::error::Error for ParseError {}

// ---------------------------------------------------------------- lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    /// Yuan.
    Money(f64),
    Cmp(CmpOp),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    And,
    Or,
    Not,
    In,
    True,
    False,
    /// A character no token starts with.
    Other,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    byte: usize,
    column: usize,
    text: String,
}

fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(src.len(), |&(b, _)| b);
    let err = |i: usize, kind: ErrorKind| ParseError {
        byte: byte_at(i),
        column: i + 1,
        kind,
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let peek = |k: usize| chars.get(k).map(|&(_, ch)| ch);
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '[' => {
                i += 1;
                Tok::LBracket
            }
            ']' => {
                i += 1;
                Tok::RBracket
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '=' => {
                i += if peek(i + 1) == Some('=') { 2 } else { 1 };
                Tok::Cmp(CmpOp::Eq)
            }
            '!' if peek(i + 1) == Some('=') => {
                i += 2;
                Tok::Cmp(CmpOp::Ne)
            }
            '<' | '>' => {
                let eq = peek(i + 1) == Some('=');
                i += if eq { 2 } else { 1 };
                Tok::Cmp(match (c, eq) {
                    ('<', false) => CmpOp::Lt,
                    ('<', true) => CmpOp::Le,
                    ('>', false) => CmpOp::Gt,
                    _ => CmpOp::Ge,
                })
            }
            '"' => {
                i += 1;
                let mut s = String::new();
                loop {
                    match peek(i) {
                        None => return Err(err(start, ErrorKind::UnterminatedString)),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') => match peek(i + 1) {
                            Some(e @ ('"' | '\\')) => {
                                s.push(e);
                                i += 2;
                            }
                            Some(e) => return Err(err(i, ErrorKind::BadEscape(e))),
                            None => return Err(err(start, ErrorKind::UnterminatedString)),
                        },
                        Some(ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                Tok::Str(s)
            }
            '¥' | '￥' => {
                i += 1;
                match lex_number(&chars, i) {
                    Some((v, next)) => {
                        i = next;
                        Tok::Money(v)
                    }
                    None => {
                        let found = peek(i).map_or(Found::End, |ch| Found::Text(ch.to_string()));
                        return Err(err(
                            i,
                            ErrorKind::Syntax {
                                expected: Expected::Number,
                                found,
                            },
                        ));
                    }
                }
            }
            _ if c.is_ascii_digit()
                || (c == '-' && peek(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                match lex_number(&chars, i) {
                    Some((v, next)) => {
                        i = next;
                        if peek(i) == Some('元') {
                            i += 1;
                            Tok::Money(v)
                        } else {
                            Tok::Num(v)
                        }
                    }
                    None => {
                        return Err(err(
                            i,
                            ErrorKind::Syntax {
                                expected: Expected::Number,
                                found: Found::Text(c.to_string()),
                            },
                        ));
                    }
                }
            }
            _ if c.is_alphabetic() || c == '_' => {
                while peek(i).is_some_and(|ch| ch.is_alphanumeric() || ch == '_' || ch == '.') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().map(|&(_, ch)| ch).collect();
                match word.to_lowercase().as_str() {
                    "and" | "且" | "并且" => Tok::And,
                    "or" | "或" | "或者" => Tok::Or,
                    "not" | "非" => Tok::Not,
                    "in" | "属于" => Tok::In,
                    "true" => Tok::True,
                    "false" => Tok::False,
                    _ => Tok::Ident(word),
                }
            }
            _ => {
                // No rule accepts it; the parser reports what it expected here.
                i += 1;
                Tok::Other
            }
        };
        out.push(Token {
            tok,
            byte: byte_at(start),
            column: start + 1,
            text: src[byte_at(start)..byte_at(i)].to_string(),
        });
    }
    Ok(out)
}

/// `[-]digits[.digits]` starting at `i`; returns the value and the next index.
fn lex_number(chars: &[(usize, char)], mut i: usize) -> Option<(f64, usize)> {
    let mut s = String::new();
    if chars.get(i).map(|p| p.1) == Some('-') {
        s.push('-');
        i += 1;
    }
    let digits = |s: &mut String, i: &mut usize| {
        let before = *i;
        while let Some(&(_, d)) = chars.get(*i) {
            if !d.is_ascii_digit() {
                break;
            }
            s.push(d);
            *i += 1;
        }
        *i > before
    };
    if !digits(&mut s, &mut i) {
        return None;
    }
    if chars.get(i).map(|p| p.1) == Some('.')
        && chars.get(i + 1).is_some_and(|p| p.1.is_ascii_digit())
    {
        s.push('.');
        i += 1;
        digits(&mut s, &mut i);
    }
    s.parse::<f64>().ok().map(|v| (v, i))
}

// ---------------------------------------------------------------- parser

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    end_byte: usize,
    end_column: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn error_here(&self, kind: ErrorKind) -> ParseError {
        match self.peek() {
            Some(t) => ParseError {
                byte: t.byte,
                column: t.column,
                kind,
            },
            None => ParseError {
                byte: self.end_byte,
                column: self.end_column,
                kind,
            },
        }
    }

    fn expected(&self, expected: Expected) -> ParseError {
        let found = self
            .peek()
            .map_or(Found::End, |t| Found::Text(t.text.clone()));
        self.error_here(ErrorKind::Syntax { expected, found })
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek().is_some_and(|t| &t.tok == tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok, expected: Expected) -> Result<(), ParseError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.expected(expected))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(self.error_here(ErrorKind::TooDeep))
        } else {
            Ok(())
        }
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and_expr()?;
        while self.eat(&Tok::Or) {
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.not_expr()?;
        while self.eat(&Tok::And) {
            let right = self.not_expr()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, ParseError> {
        if self.peek().is_some_and(|t| t.tok == Tok::Not) {
            self.enter()?;
            self.pos += 1;
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.expected(Expected::Condition));
        };
        match &tok.tok {
            Tok::LParen => {
                self.enter()?;
                self.pos += 1;
                let inner = self.or_expr()?;
                self.expect(&Tok::RParen, Expected::CloseParen)?;
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Ident(name) if name.eq_ignore_ascii_case("has_tag") => {
                self.pos += 1;
                self.expect(&Tok::LParen, Expected::OpenParen)?;
                let tag = match self.peek() {
                    Some(Token {
                        tok: Tok::Str(s), ..
                    }) => s.clone(),
                    _ => return Err(self.expected(Expected::StringLiteral)),
                };
                self.pos += 1;
                self.expect(&Tok::RParen, Expected::CloseParen)?;
                Ok(Expr::HasTag(tag))
            }
            Tok::Ident(name) => {
                let field = resolve_field(name).ok_or_else(|| ParseError {
                    byte: tok.byte,
                    column: tok.column,
                    kind: ErrorKind::UnknownField {
                        name: name.clone(),
                        known: known_fields(),
                    },
                })?;
                self.pos += 1;
                if self.eat(&Tok::In) {
                    self.expect(&Tok::LBracket, Expected::OpenBracket)?;
                    let mut values = Vec::new();
                    if !self.eat(&Tok::RBracket) {
                        loop {
                            values.push(self.literal(&field)?);
                            if self.eat(&Tok::RBracket) {
                                break;
                            }
                            self.expect(&Tok::Comma, Expected::CommaOrCloseBracket)?;
                        }
                    }
                    return Ok(Expr::In { field, values });
                }
                let op = match self.peek() {
                    Some(Token {
                        tok: Tok::Cmp(op), ..
                    }) => *op,
                    _ => return Err(self.expected(Expected::ComparisonOp)),
                };
                self.pos += 1;
                let value = self.literal(&field)?;
                Ok(Expr::Cmp { field, op, value })
            }
            _ => Err(self.expected(Expected::Condition)),
        }
    }

    /// A literal, type-checked against `field`; money fields come out in fen.
    fn literal(&mut self, field: &Field) -> Result<Value, ParseError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.expected(Expected::Value));
        };
        let (value, lit_type, money) = match &tok.tok {
            Tok::Str(s) => (Value::Text(s.clone()), ValueType::Text, false),
            Tok::Num(v) => (Value::Num(*v), ValueType::Number, false),
            Tok::Money(v) => (Value::Num(*v), ValueType::Number, true),
            Tok::True => (Value::Bool(true), ValueType::Bool, false),
            Tok::False => (Value::Bool(false), ValueType::Bool, false),
            _ => return Err(self.expected(Expected::Value)),
        };
        let at = |kind| ParseError {
            byte: tok.byte,
            column: tok.column,
            kind,
        };
        let value = match field {
            Field::Num(f) => {
                if lit_type != ValueType::Number {
                    return Err(at(ErrorKind::TypeMismatch {
                        field: f.name().to_string(),
                        field_type: ValueType::Number,
                        literal: lit_type,
                    }));
                }
                if money && !f.is_money() {
                    return Err(at(ErrorKind::MoneyOnNonMoneyField {
                        field: f.name().to_string(),
                    }));
                }
                match value {
                    Value::Num(v) if f.is_money() => Value::Num((v * 100.0).round()),
                    v => v,
                }
            }
            Field::Text(f) => {
                if lit_type != ValueType::Text {
                    return Err(at(ErrorKind::TypeMismatch {
                        field: f.name().to_string(),
                        field_type: ValueType::Text,
                        literal: lit_type,
                    }));
                }
                value
            }
            Field::Custom(key) => {
                if money {
                    return Err(at(ErrorKind::MoneyOnNonMoneyField {
                        field: format!("custom.{key}"),
                    }));
                }
                value
            }
        };
        self.pos += 1;
        Ok(value)
    }
}

fn resolve_field(name: &str) -> Option<Field> {
    if let Some((prefix, key)) = name.split_once('.')
        && prefix.eq_ignore_ascii_case("custom")
    {
        return (!key.is_empty()).then(|| Field::Custom(key.to_string()));
    }
    let lower = name.to_lowercase();
    if let Some(f) = NumField::ALL.iter().find(|f| f.name() == lower) {
        return Some(Field::Num(*f));
    }
    TextField::ALL
        .iter()
        .find(|f| f.name() == lower)
        .map(|f| Field::Text(*f))
}

/// Parses and type-checks a rule.
pub fn parse_rule(src: &str) -> Result<Expr, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        end_byte: src.len(),
        end_column: src.chars().count() + 1,
        depth: 0,
    };
    let expr = p.or_expr()?;
    if p.peek().is_some() {
        return Err(p.expected(Expected::AndOrEnd));
    }
    Ok(expr)
}

// ---------------------------------------------------------------- evaluation

fn ordering_matches(ord: Option<std::cmp::Ordering>, op: CmpOp) -> bool {
    use std::cmp::Ordering::*;
    match (ord, op) {
        (None, _) => false,
        (Some(o), CmpOp::Eq) => o == Equal,
        (Some(o), CmpOp::Ne) => o != Equal,
        (Some(o), CmpOp::Lt) => o == Less,
        (Some(o), CmpOp::Le) => o != Greater,
        (Some(o), CmpOp::Gt) => o == Greater,
        (Some(o), CmpOp::Ge) => o != Less,
    }
}

fn compare(ctx: &RuleContext, field: &Field, op: CmpOp, value: &Value) -> bool {
    match (field, value) {
        (Field::Num(f), Value::Num(v)) => ctx
            .number(*f)
            .is_some_and(|x| ordering_matches(x.partial_cmp(v), op)),
        (Field::Text(f), Value::Text(v)) => ctx
            .text(*f)
            .is_some_and(|x| ordering_matches(Some(x.cmp(v.as_str())), op)),
        (Field::Custom(key), _) => match (ctx.custom(key), value) {
            (CustomValue::Num(x), Value::Num(v)) => ordering_matches(x.partial_cmp(v), op),
            (CustomValue::Str(x), Value::Text(v)) => {
                ordering_matches(Some(x.as_str().cmp(v.as_str())), op)
            }
            (CustomValue::Bool(x), Value::Bool(v)) => match op {
                CmpOp::Eq => x == v,
                CmpOp::Ne => x != v,
                _ => false,
            },
            _ => false,
        },
        _ => false,
    }
}

impl Expr {
    /// Evaluates the rule; missing values compare false (see the module docs).
    pub fn eval(&self, ctx: &RuleContext) -> bool {
        match self {
            Expr::Or(a, b) => a.eval(ctx) || b.eval(ctx),
            Expr::And(a, b) => a.eval(ctx) && b.eval(ctx),
            Expr::Not(a) => !a.eval(ctx),
            Expr::Cmp { field, op, value } => compare(ctx, field, *op, value),
            Expr::In { field, values } => values.iter().any(|v| compare(ctx, field, CmpOp::Eq, v)),
            Expr::HasTag(tag) => ctx.has_tag(tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RuleContext {
        let mut c = RuleContext::new();
        c.set_number(NumField::Orders90d, 4.0)
            .set_number(NumField::Spend365d, 500_000.0)
            .set_number(NumField::DaysSinceLastPurchase, 12.0)
            .set_text(TextField::Province, "广东省")
            .set_text(TextField::Source, "wechat")
            .set_tier(Tier::B)
            .set_stage(Stage::AtRisk)
            .set_custom("industry", CustomValue::Str("retail".into()))
            .set_custom("employees", CustomValue::Num(120.0))
            .set_custom("vip_contract", CustomValue::Bool(true))
            .add_tag("vip");
        c
    }

    fn eval(rule: &str, c: &RuleContext) -> bool {
        parse_rule(rule)
            .unwrap_or_else(|e| panic!("{rule}: {e}"))
            .eval(c)
    }

    #[test]
    fn precedence_not_and_or() {
        let c = ctx();
        // or binds loosest: true or (false and false)
        assert!(eval(
            "orders_90d = 4 or orders_90d = 1 and orders_90d = 2",
            &c
        ));
        // with parentheses: (true or false) and false
        assert!(!eval(
            "(orders_90d = 4 or orders_90d = 1) and orders_90d = 2",
            &c
        ));
        // not binds tighter than and: (not false) and true
        assert!(eval("not orders_90d = 1 and orders_90d = 4", &c));
        // not (false and true) vs (not false) and false
        assert!(eval("not (orders_90d = 1 and orders_90d = 4)", &c));
        assert!(!eval("not orders_90d = 4 or orders_90d = 1", &c));
        assert!(eval("not not orders_90d = 4", &c));
        let e = parse_rule("orders_90d = 4 or orders_90d = 1 and orders_90d = 2").unwrap();
        assert!(matches!(e, Expr::Or(_, ref r) if matches!(**r, Expr::And(_, _))));
    }

    #[test]
    fn comparisons_and_keywords_case_insensitive() {
        let c = ctx();
        for (rule, want) in [
            ("orders_90d >= 4", true),
            ("orders_90d > 4", false),
            ("orders_90d <= 4", true),
            ("orders_90d < 4", false),
            ("orders_90d != 4", false),
            ("orders_90d == 4", true),
            ("days_since_last_purchase > 10.5", true),
            ("ORDERS_90D = 4 AND Province = \"广东省\"", true),
            ("orders_90d = 4 且 province = \"广东省\"", true),
            ("orders_90d = 1 或 非 orders_90d = 1", true),
            ("tier = \"B\" and stage = \"at_risk\"", true),
            ("source < \"x\"", true),
        ] {
            assert_eq!(eval(rule, &c), want, "{rule}");
        }
    }

    #[test]
    fn in_lists() {
        let c = ctx();
        assert!(eval("province in [\"广东省\", \"浙江省\"]", &c));
        assert!(!eval("province in [\"江苏省\", \"浙江省\"]", &c));
        assert!(!eval("province in []", &c));
        assert!(eval("orders_90d in [1, 2, 4]", &c));
        assert!(eval("province 属于 [\"广东省\"]", &c));
        assert!(eval("not province in [\"浙江省\"]", &c));
        assert!(eval("spend_365d in [¥5000]", &c));
    }

    #[test]
    fn money_units_are_yuan_against_fen() {
        let c = ctx(); // spend_365d = 500000 fen = ¥5000
        assert!(eval("spend_365d >= ¥5000", &c));
        assert!(eval("spend_365d >= ￥5000", &c));
        assert!(eval("spend_365d = 5000元", &c));
        assert!(eval("spend_365d = 5000", &c));
        assert!(!eval("spend_365d > 5000.00", &c));
        assert!(eval("spend_365d > ¥4999.99", &c));
        let mut small = RuleContext::new();
        small.set_number(NumField::Spend30d, 10.0);
        // 0.1 × 100 is not exactly 10 in binary; literals are rounded to the fen.
        assert!(eval("spend_30d = ¥0.10 and spend_30d = 0.1元", &small));
        assert!(!eval("spend_365d >= 500001", &c));
        assert_eq!(
            parse_rule("spend_365d >= ¥5000").unwrap(),
            Expr::Cmp {
                field: Field::Num(NumField::Spend365d),
                op: CmpOp::Ge,
                value: Value::Num(500_000.0),
            }
        );
    }

    #[test]
    fn has_tag_and_strings_with_escapes() {
        let mut c = ctx();
        assert!(eval("has_tag(\"vip\")", &c));
        assert!(eval("HAS_TAG(\"vip\") and not has_tag(\"blocked\")", &c));
        c.add_tag("say \"hi\" \\o/");
        assert!(eval(r#"has_tag("say \"hi\" \\o/")"#, &c));
    }

    #[test]
    fn custom_fields() {
        let c = ctx();
        assert!(eval("custom.industry = \"retail\"", &c));
        assert!(eval("custom.employees >= 100", &c));
        assert!(eval("custom.vip_contract = true", &c));
        assert!(!eval("custom.vip_contract != true", &c));
        // type mismatch at run time: false
        assert!(!eval("custom.employees = \"120\"", &c));
        assert!(!eval("custom.vip_contract > false", &c));
        assert!(eval("custom.industry in [\"retail\", \"food\"]", &c));
    }

    #[test]
    fn missing_values_compare_false() {
        let c = ctx();
        // typical interval, spend_30d, kind, custom.missing are unset
        for rule in [
            "typical_interval_days > 0",
            "typical_interval_days <= 0",
            "spend_30d != 0",
            "kind = \"company\"",
            "kind != \"company\"",
            "kind in [\"company\", \"person\"]",
            "custom.missing = 1",
            "custom.missing != 1",
        ] {
            assert!(!eval(rule, &c), "{rule}");
        }
        assert!(eval("not kind = \"company\"", &c));
        assert!(!eval("orders_90d > 0", &RuleContext::new()));
    }

    #[test]
    fn context_from_facts() {
        let facts = CustomerFacts {
            customer_id: 7u32,
            first_purchase: 10,
            last_purchase: 90,
            purchase_days: 3,
            repeat_purchases: 2,
            orders: 4,
            spend_fen: 1_000_000,
            orders_30d: 1,
            orders_90d: 4,
            orders_365d: 4,
            spend_30d_fen: 100_000,
            spend_90d_fen: 1_000_000,
            spend_365d_fen: 1_000_000,
            average_order_value_fen: 250_000.0,
            days_since_last_purchase: 10,
            typical_interval_days: None,
        };
        let c = RuleContext::from_facts(&facts);
        assert!(eval(
            "spend_90d = ¥10000 and average_order_value = 2500元",
            &c
        ));
        assert!(eval("repeat_purchases = 2 and purchase_days = 3", &c));
        assert!(eval("orders_30d = 1 and days_since_last_purchase = 10", &c));
        assert!(!eval("typical_interval_days > 0", &c));
    }

    fn err(rule: &str) -> ParseError {
        match parse_rule(rule) {
            Ok(e) => panic!("{rule} parsed: {e:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn syntax_error_column_both_languages() {
        let e = err("orders_90d >= and province = \"x\"");
        assert_eq!(e.column, 15);
        assert_eq!(e.byte, 14);
        assert_eq!(e.expected(), Some(Expected::Value));
        assert_eq!(
            e.render(Locale::ZhCn),
            "第 15 列：应为值（字符串、数字或金额），实际为“and”"
        );
        assert_eq!(
            e.render(Locale::En),
            "column 15: expected a value (string, number or amount), found \"and\""
        );
        // The brief's example: a missing comparison operator.
        let e = err("province = \"广东\" and source and x");
        // "province = "广东" and source " is 27 characters, 30 bytes.
        assert_eq!((e.column, e.byte), (28, 31));
        let e = err("province = \"广东\" and tier and x");
        assert_eq!((e.column, e.byte), (26, 29));
        assert_eq!(e.expected(), Some(Expected::ComparisonOp));
        assert_eq!(
            e.render(Locale::ZhCn),
            "第 26 列：应为比较运算符，实际为“and”"
        );
        assert_eq!(
            e.render(Locale::En),
            "column 26: expected a comparison operator, found \"and\""
        );
    }

    #[test]
    fn syntax_errors_at_end_and_brackets() {
        let e = err("(orders_90d > 1");
        assert_eq!((e.column, e.expected()), (16, Some(Expected::CloseParen)));
        assert_eq!(
            e.render(Locale::En),
            "column 16: expected \")\", found the end of the rule"
        );
        assert_eq!(e.render(Locale::ZhCn), "第 16 列：应为“)”，实际为规则结尾");
        let e = err("province in [\"a\" \"b\"]");
        assert_eq!(
            (e.column, e.expected()),
            (18, Some(Expected::CommaOrCloseBracket))
        );
        let e = err("province in \"a\"");
        assert_eq!((e.column, e.expected()), (13, Some(Expected::OpenBracket)));
        let e = err("has_tag(vip)");
        assert_eq!((e.column, e.expected()), (9, Some(Expected::StringLiteral)));
        let e = err("orders_90d > 1 orders_30d > 1");
        assert_eq!((e.column, e.expected()), (16, Some(Expected::AndOrEnd)));
        let e = err("");
        assert_eq!((e.column, e.expected()), (1, Some(Expected::Condition)));
        let e = err("orders_90d > 1 and @");
        assert_eq!(e.column, 20);
        assert_eq!(e.found(), Some(&Found::Text("@".into())));
        assert_eq!(
            e.render(Locale::En),
            "column 20: expected a condition (a field, has_tag, not or \"(\"), found \"@\""
        );
        let e = err("orders_90d ! 3");
        assert_eq!((e.column, e.expected()), (12, Some(Expected::ComparisonOp)));
        assert_eq!(
            e.render(Locale::ZhCn),
            "第 12 列：应为比较运算符，实际为“!”"
        );
        let e = err("spend_30d > ¥x");
        assert_eq!((e.column, e.expected()), (14, Some(Expected::Number)));
    }

    #[test]
    fn string_errors() {
        let e = err("province = \"广东");
        assert_eq!((e.column, e.byte), (12, 11));
        assert_eq!(e.kind, ErrorKind::UnterminatedString);
        assert_eq!(e.render(Locale::ZhCn), "第 12 列：字符串缺少结束引号");
        assert_eq!(e.render(Locale::En), "column 12: unterminated string");
        let e = err("province = \"a\\nb\"");
        assert_eq!(e.column, 14);
        assert_eq!(e.kind, ErrorKind::BadEscape('n'));
        assert!(
            e.render(Locale::En)
                .starts_with("column 14: invalid escape \"\\n\"")
        );
        assert!(
            e.render(Locale::ZhCn)
                .starts_with("第 14 列：无效的转义 “\\n”")
        );
    }

    #[test]
    fn unknown_field_lists_known_ones() {
        let e = err("orders_60d > 1");
        assert_eq!(e.column, 1);
        let en = e.render(Locale::En);
        assert!(
            en.starts_with(
                "column 1: unknown field \"orders_60d\"; known fields: orders_30d, orders_90d,"
            ),
            "{en}"
        );
        assert!(en.contains("typical_interval_days") && en.ends_with("custom.<key>"));
        let zh = e.render(Locale::ZhCn);
        assert!(
            zh.starts_with("第 1 列：未知字段 “orders_60d”，可用字段：orders_30d、orders_90d、"),
            "{zh}"
        );
        let e = err("orders_90d > 1 and 城市 = \"广州\"");
        assert_eq!(e.column, 20);
        assert!(matches!(e.kind, ErrorKind::UnknownField { ref name, .. } if name == "城市"));
        assert!(matches!(
            err("custom. = 1").kind,
            ErrorKind::UnknownField { .. }
        ));
    }

    #[test]
    fn type_errors() {
        let e = err("orders_90d > \"3\"");
        assert_eq!(e.column, 14);
        assert_eq!(
            e.kind,
            ErrorKind::TypeMismatch {
                field: "orders_90d".into(),
                field_type: ValueType::Number,
                literal: ValueType::Text
            }
        );
        assert_eq!(
            e.render(Locale::ZhCn),
            "第 14 列：字段 “orders_90d” 是数字，不能与文本比较"
        );
        assert_eq!(
            e.render(Locale::En),
            "column 14: field \"orders_90d\" is a number and cannot be compared with text"
        );
        let e = err("province in [\"广东省\", 3]");
        assert_eq!(e.column, 21);
        assert_eq!(
            e.render(Locale::ZhCn),
            "第 21 列：字段 “province” 是文本，不能与数字比较"
        );
        assert_eq!(
            e.render(Locale::En),
            "column 21: field \"province\" is text and cannot be compared with a number"
        );
        let e = err("orders_90d = true");
        assert!(matches!(
            e.kind,
            ErrorKind::TypeMismatch {
                literal: ValueType::Bool,
                ..
            }
        ));
        let e = err("orders_90d > ¥3");
        assert_eq!(e.column, 14);
        assert_eq!(
            e.render(Locale::En),
            "column 14: field \"orders_90d\" is not an amount; money units are not allowed"
        );
        assert_eq!(
            e.render(Locale::ZhCn),
            "第 14 列：字段 “orders_90d” 不是金额，不能使用金额单位"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}orders_90d > 1{}", "(".repeat(100), ")".repeat(100));
        let e = err(&deep);
        assert_eq!(e.kind, ErrorKind::TooDeep);
        assert_eq!(e.column, MAX_DEPTH + 1);
        assert!(matches!(
            err(&"not ".repeat(10_000)).kind,
            ErrorKind::TooDeep
        ));
        let ok = format!("{}orders_90d > 1{}", "(".repeat(60), ")".repeat(60));
        assert!(parse_rule(&ok).is_ok());
    }

    #[test]
    fn every_prefix_parses_or_errors_without_panicking() {
        let rules = [
            "orders_90d >= 3 and (province in [\"广东省\", \"浙江省\"] or not has_tag(\"vip\"))",
            "spend_365d >= ¥5000 or spend_90d > 5000元 and custom.等级 != \"金\\\"牌\\\\\"",
            "NOT (days_since_last_purchase > 30.5 and typical_interval_days < 14) 且 tier = \"A\"",
            "custom.flag = false or average_order_value <= -12.50 或 stage in []",
        ];
        let c = ctx();
        let mut oks = 0;
        for rule in rules {
            assert!(parse_rule(rule).is_ok(), "{rule}");
            for (i, _) in rule.char_indices().chain([(rule.len(), ' ')]) {
                let prefix = &rule[..i];
                match parse_rule(prefix) {
                    Ok(e) => {
                        oks += 1;
                        let _ = e.eval(&c);
                    }
                    Err(e) => {
                        assert!(e.byte <= prefix.len(), "{prefix}");
                        assert!(e.column <= prefix.chars().count() + 1, "{prefix}");
                        assert!(prefix.is_char_boundary(e.byte));
                        assert!(!e.render(Locale::ZhCn).is_empty());
                        assert!(!e.render(Locale::En).is_empty());
                    }
                }
            }
        }
        assert!(oks > 4);
        // Pseudo-random garbage over the language's alphabet.
        let alphabet: Vec<char> =
            "ab_.0129 ()[],=!<>\"\\¥￥元-且或非in not and or has_tag custom.x orders_90d province"
                .chars()
                .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let len = (seed % 40) as usize;
            let mut s = String::new();
            for _ in 0..len {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                s.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            if let Ok(e) = parse_rule(&s) {
                let _ = e.eval(&c);
            }
        }
    }

    #[test]
    fn deterministic_and_repeatable() {
        let c = ctx();
        let e = parse_rule("orders_90d > 1 and has_tag(\"vip\")").unwrap();
        let e2 = parse_rule("orders_90d > 1 and has_tag(\"vip\")").unwrap();
        assert_eq!(e, e2);
        assert!(e.eval(&c) && e.eval(&c));
    }
}
