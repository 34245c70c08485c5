//! The customer archive (客户档案): what a valid customer, contact and order
//! is. Input arrives as plain strings from any edge (API, CLI, import) and
//! leaves as checked values, or as every broken rule at once.

use crate::custom_field::{CustomFieldDef, RawValue, validate_values};
use crate::normalize::{optional_text, required_text};
use crate::validate::{Email, IdNumber, Phone, Uscc, parse_date};
use crate::{FieldError, FieldErrors};
use std::collections::BTreeMap;
use time::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Person,
    Company,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Person => "person",
            Kind::Company => "company",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "person" => Some(Kind::Person),
            "company" => Some(Kind::Company),
            _ => None,
        }
    }
}

pub const MAX_PHONES: usize = 10;
pub const MAX_EMAILS: usize = 10;

/// A customer as written by a user, before any check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomerInput {
    pub kind: String,
    pub name: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub address: Option<String>,
    pub industry: Option<String>,
    pub occupation: Option<String>,
    pub employer: Option<String>,
    pub source: Option<String>,
    pub notes: Option<String>,
    pub birthday: Option<String>,
    pub unified_social_credit_code: Option<String>,
    pub id_number: Option<String>,
    pub custom_fields: BTreeMap<String, RawValue>,
}

/// A checked customer: every value normalised, identifiers verified.
#[derive(Clone, Debug, PartialEq)]
pub struct Customer {
    pub kind: Kind,
    pub name: String,
    pub phones: Vec<Phone>,
    pub emails: Vec<Email>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub address: Option<String>,
    pub industry: Option<String>,
    pub occupation: Option<String>,
    pub employer: Option<String>,
    pub source: Option<String>,
    pub notes: Option<String>,
    pub birthday: Option<Date>,
    pub uscc: Option<Uscc>,
    pub id_number: Option<IdNumber>,
    pub custom_fields: BTreeMap<String, RawValue>,
}

/// `raw` checked and normalised; numbers in `stored` (as the store holds
/// them) are taken as they are.
fn phones(field: &str, raw: &[String], stored: &[String], errors: &mut FieldErrors) -> Vec<Phone> {
    if raw.len() > MAX_PHONES {
        errors.push(FieldError::new(field, "list.too_long").with("max", MAX_PHONES));
        return Vec::new();
    }
    let mut out: Vec<Phone> = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        let p = if stored.contains(p) {
            Some(Phone::stored(p))
        } else {
            errors.take(Phone::parse(&format!("{field}[{i}]"), p))
        };
        if let Some(p) = p {
            // The same number written twice is one number.
            if !out.iter().any(|q| q.e164() == p.e164()) {
                out.push(p);
            }
        }
    }
    out
}

fn emails(field: &str, raw: &[String], errors: &mut FieldErrors) -> Vec<Email> {
    if raw.len() > MAX_EMAILS {
        errors.push(FieldError::new(field, "list.too_long").with("max", MAX_EMAILS));
        return Vec::new();
    }
    let mut out: Vec<Email> = Vec::new();
    for (i, e) in raw.iter().enumerate() {
        if let Some(e) = errors.take(Email::parse(&format!("{field}[{i}]"), e))
            && !out.iter().any(|f| f.lookup_key() == e.lookup_key())
        {
            out.push(e);
        }
    }
    out
}

pub fn validate_customer(
    input: &CustomerInput,
    defs: &[CustomFieldDef],
    today: Date,
) -> Result<Customer, FieldErrors> {
    validate_edit(input, &[], defs, today)
}

/// [`validate_customer`] for an edit of a customer whose phones are
/// `stored_phones` (their stored E.164 forms): those it keeps are not
/// checked again, so an edit of other fields neither pays for nor fails on
/// numbers written under earlier rules. New numbers are checked as ever.
pub fn validate_edit(
    input: &CustomerInput,
    stored_phones: &[String],
    defs: &[CustomFieldDef],
    today: Date,
) -> Result<Customer, FieldErrors> {
    let mut errors = FieldErrors::default();
    let kind = Kind::parse(&input.kind);
    if kind.is_none() {
        errors.push(FieldError::new("kind", "kind.invalid"));
    }
    let name = errors.take(required_text("name", &input.name, 100));
    let phones = phones("phones", &input.phones, stored_phones, &mut errors);
    let emails = emails("emails", &input.emails, &mut errors);
    let mut opt = |field: &str, v: &Option<String>, max: usize| {
        errors
            .take(optional_text(field, v.as_deref(), max))
            .flatten()
    };
    let province = opt("province", &input.province, 50);
    let city = opt("city", &input.city, 50);
    let district = opt("district", &input.district, 50);
    let address = opt("address", &input.address, 200);
    let industry = opt("industry", &input.industry, 50);
    let occupation = opt("occupation", &input.occupation, 50);
    let employer = opt("employer", &input.employer, 100);
    let source = opt("source", &input.source, 50);
    let notes = opt("notes", &input.notes, 2000);
    let blank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };

    let mut birthday = None;
    if let Some(b) = blank(&input.birthday)
        && let Some(d) = errors.take(parse_date("birthday", &b))
    {
        if d > today {
            errors.push(FieldError::new("birthday", "date.future"));
        }
        birthday = Some(d);
    }
    let uscc = blank(&input.unified_social_credit_code)
        .and_then(|s| errors.take(Uscc::parse("unified_social_credit_code", &s)));
    let id_number =
        blank(&input.id_number).and_then(|s| errors.take(IdNumber::parse("id_number", &s)));

    if let Some(kind) = kind {
        // Identifiers belong to one kind of customer; storing the other is a mistake.
        if kind == Kind::Person && uscc.is_some() {
            errors.push(
                FieldError::new("unified_social_credit_code", "value.not_for_kind")
                    .with("kind", "company"),
            );
        }
        if kind == Kind::Company && (id_number.is_some() || birthday.is_some()) {
            let field = if id_number.is_some() {
                "id_number"
            } else {
                "birthday"
            };
            errors.push(FieldError::new(field, "value.not_for_kind").with("kind", "person"));
        }
    }
    if let Some(id) = &id_number {
        match birthday {
            None => birthday = Some(id.birth_date()),
            Some(b) if b != id.birth_date() => {
                errors.push(FieldError::new("birthday", "birthday.id_mismatch"))
            }
            Some(_) => {}
        }
    }
    let custom_fields = match validate_values(defs, &input.custom_fields) {
        Ok(v) => v,
        Err(es) => {
            es.into_iter().for_each(|e| errors.push(e));
            BTreeMap::new()
        }
    };
    errors.into_result()?;
    Ok(Customer {
        kind: kind.expect("checked above"),
        name: name.expect("checked above"),
        phones,
        emails,
        province,
        city,
        district,
        address,
        industry,
        occupation,
        employer,
        source,
        notes,
        birthday,
        uscc,
        id_number,
        custom_fields,
    })
}

/// A contact person under a company customer (联系人).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContactInput {
    pub name: String,
    pub title: Option<String>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub is_primary: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    pub name: String,
    pub title: Option<String>,
    pub phones: Vec<Phone>,
    pub emails: Vec<Email>,
    pub is_primary: bool,
}

pub fn validate_contact(input: &ContactInput) -> Result<Contact, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = errors.take(required_text("name", &input.name, 50));
    let title = errors
        .take(optional_text("title", input.title.as_deref(), 50))
        .flatten();
    let phones = phones("phones", &input.phones, &[], &mut errors);
    let emails = emails("emails", &input.emails, &mut errors);
    errors.into_result()?;
    Ok(Contact {
        name: name.expect("checked"),
        title,
        phones,
        emails,
        is_primary: input.is_primary,
    })
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderLineInput {
    pub product: String,
    pub category: Option<String>,
    pub quantity: i64,
    /// Line total in 分.
    pub amount_fen: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderInput {
    pub ordered_on: String,
    pub channel: Option<String>,
    pub lines: Vec<OrderLineInput>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderLine {
    pub product: String,
    pub category: Option<String>,
    pub quantity: i64,
    pub amount_fen: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub ordered_on: Date,
    pub channel: Option<String>,
    pub lines: Vec<OrderLine>,
}

impl Order {
    pub fn total_fen(&self) -> i64 {
        self.lines.iter().map(|l| l.amount_fen).sum()
    }
}

pub const MAX_ORDER_LINES: usize = 200;
/// ¥100,000,000 per line: far above any SMB order, far below i64 overflow when summed.
pub const MAX_LINE_AMOUNT_FEN: i64 = 10_000_000_000;

pub fn validate_order(input: &OrderInput, today: Date) -> Result<Order, FieldErrors> {
    let mut errors = FieldErrors::default();
    let ordered_on = errors.take(parse_date("ordered_on", &input.ordered_on));
    if let Some(d) = ordered_on
        && d > today
    {
        errors.push(FieldError::new("ordered_on", "date.future"));
    }
    let channel = errors
        .take(optional_text("channel", input.channel.as_deref(), 30))
        .flatten();
    if input.lines.is_empty() {
        errors.push(FieldError::new("lines", "order.lines_required"));
    }
    if input.lines.len() > MAX_ORDER_LINES {
        errors.push(FieldError::new("lines", "list.too_long").with("max", MAX_ORDER_LINES));
    }
    let mut lines = Vec::new();
    for (i, l) in input.lines.iter().enumerate().take(MAX_ORDER_LINES) {
        let product = errors.take(required_text(
            &format!("lines[{i}].product"),
            &l.product,
            100,
        ));
        let category = errors
            .take(optional_text(
                &format!("lines[{i}].category"),
                l.category.as_deref(),
                50,
            ))
            .flatten();
        if !(1..=1_000_000).contains(&l.quantity) {
            errors.push(
                FieldError::new(format!("lines[{i}].quantity"), "value.out_of_range")
                    .with("min", 1)
                    .with("max", 1_000_000),
            );
        }
        if !(0..=MAX_LINE_AMOUNT_FEN).contains(&l.amount_fen) {
            errors.push(
                FieldError::new(format!("lines[{i}].amount_fen"), "value.out_of_range")
                    .with("min", 0)
                    .with("max", MAX_LINE_AMOUNT_FEN),
            );
        }
        if let Some(product) = product {
            lines.push(OrderLine {
                product,
                category,
                quantity: l.quantity,
                amount_fen: l.amount_fen,
            });
        }
    }
    errors.into_result()?;
    Ok(Order {
        ordered_on: ordered_on.expect("checked"),
        channel,
        lines,
    })
}

/// Login names: short, lowercase, unambiguous in a URL or a log line.
pub fn validate_login(field: &str, raw: &str) -> Result<String, FieldError> {
    let s = crate::normalize::nfkc(raw).to_lowercase();
    let ok = (2..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if ok {
        Ok(s)
    } else {
        Err(FieldError::new(field, "login.invalid"))
    }
}

/// Passwords: at least 10 characters, at most 256 (Argon2 input bound), not the login.
pub fn validate_password(field: &str, password: &str, login: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < 10 {
        return Err(FieldError::new(field, "password.too_short").with("min", 10));
    }
    if n > 256 {
        return Err(FieldError::new(field, "text.too_long").with("max", 256));
    }
    if password.eq_ignore_ascii_case(login) {
        return Err(FieldError::new(field, "password.same_as_login"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 23);

    fn person() -> CustomerInput {
        CustomerInput {
            kind: "person".into(),
            name: "张三".into(),
            ..Default::default()
        }
    }

    fn check_err(input: CustomerInput, expect: &[(&str, &str)]) {
        let errs = validate_customer(&input, &[], TODAY).unwrap_err();
        let got: Vec<(String, &str)> = errs.0.iter().map(|e| (e.field.clone(), e.code)).collect();
        for (f, c) in expect {
            assert!(
                got.contains(&(f.to_string(), *c)),
                "missing {f}/{c} in {got:?}"
            );
        }
    }

    #[test]
    fn valid_person_normalises_and_derives_birthday() {
        let mut input = person();
        input.name = "  张　三 ".into();
        input.phones = vec!["138 0013 8000".into(), "+86 138-0013-8000".into()];
        input.id_number = Some("11010519491231002x".into());
        let c = validate_customer(&input, &[], TODAY).unwrap();
        assert_eq!(c.name, "张 三");
        assert_eq!(c.phones.len(), 1, "the same number twice is one number");
        assert_eq!(c.birthday, Some(date!(1949 - 12 - 31)));
        assert_eq!(c.id_number.unwrap().as_str(), "11010519491231002X");
    }

    /// An edit takes the numbers the customer already has as stored (one
    /// written under older rules included) and checks the new ones.
    #[test]
    fn an_edit_checks_only_new_phones() {
        let old_rules = "+8612345".to_string();
        let mut input = person();
        input.phones = vec![old_rules.clone(), "+8613800138000".into()];
        assert!(validate_customer(&input, &[], TODAY).is_err());
        let stored = vec![old_rules.clone(), "+8613800138000".into()];
        let c = validate_edit(&input, &stored, &[], TODAY).unwrap();
        let kept: Vec<&str> = c.phones.iter().map(Phone::e164).collect();
        assert_eq!(kept, [old_rules.as_str(), "+8613800138000"]);
        assert_eq!(
            c.phones[1].kind(),
            crate::validate::PhoneKind::Mobile,
            "looked up when asked"
        );
        input.phones.push("12345".into());
        let errs = validate_edit(&input, &stored, &[], TODAY).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["phones[2]"]);
        // A new number equal to a kept one is still one number.
        input.phones = vec!["+8613800138000".into(), "138 0013 8000".into()];
        let c = validate_edit(&input, &stored, &[], TODAY).unwrap();
        assert_eq!(c.phones.len(), 1);
    }

    #[test]
    fn collects_every_error() {
        let mut input = person();
        input.kind = "alien".into();
        input.name = "名".repeat(101);
        input.phones = vec!["12345".into()];
        input.emails = vec!["not-an-email".into()];
        input.id_number = Some("110105194902301234".into());
        check_err(
            input,
            &[
                ("kind", "kind.invalid"),
                ("name", "text.too_long"),
                ("phones[0]", "phone.invalid"),
                ("emails[0]", "email.invalid"),
                ("id_number", "id_number.birth_date"),
            ],
        );
    }

    #[test]
    fn identifiers_belong_to_their_kind() {
        let mut input = person();
        input.unified_social_credit_code = Some("91350100M000100Y43".into());
        check_err(
            input,
            &[("unified_social_credit_code", "value.not_for_kind")],
        );
        let company = CustomerInput {
            kind: "company".into(),
            name: "福州某某有限公司".into(),
            id_number: Some("11010519491231002X".into()),
            ..Default::default()
        };
        check_err(company, &[("id_number", "value.not_for_kind")]);
    }

    #[test]
    fn birthday_rules() {
        let mut input = person();
        input.birthday = Some("2030-01-01".into());
        check_err(input, &[("birthday", "date.future")]);
        let mut input = person();
        input.birthday = Some("1950-01-01".into());
        input.id_number = Some("11010519491231002X".into());
        check_err(input, &[("birthday", "birthday.id_mismatch")]);
    }

    #[test]
    fn orders() {
        let line = |q, a| OrderLineInput {
            product: "茶叶".into(),
            category: Some("食品".into()),
            quantity: q,
            amount_fen: a,
        };
        let ok = OrderInput {
            ordered_on: "2026-11-01".into(),
            channel: None,
            lines: vec![line(2, 5000), line(1, 1)],
        };
        assert_eq!(validate_order(&ok, TODAY).unwrap().total_fen(), 5001);
        let bad = OrderInput {
            ordered_on: "2026-12-01".into(),
            channel: None,
            lines: vec![line(0, -1)],
        };
        let errs = validate_order(&bad, TODAY).unwrap_err();
        let codes: Vec<_> = errs.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert!(codes.contains(&("ordered_on", "date.future")));
        assert!(codes.contains(&("lines[0].quantity", "value.out_of_range")));
        assert!(codes.contains(&("lines[0].amount_fen", "value.out_of_range")));
        let empty = OrderInput {
            ordered_on: "2026-11-01".into(),
            channel: None,
            lines: vec![],
        };
        assert_eq!(
            validate_order(&empty, TODAY).unwrap_err().0[0].code,
            "order.lines_required"
        );
    }

    #[test]
    fn logins_and_passwords() {
        assert_eq!(validate_login("login", " Ｗang.Li ").unwrap(), "wang.li");
        assert!(validate_login("login", "王").is_err());
        assert!(validate_password("password", "short", "x").is_err());
        assert!(validate_password("password", "wang.li.example", "wang.li.example").is_err());
        assert!(validate_password("password", "correct horse battery", "wang").is_ok());
    }
}
