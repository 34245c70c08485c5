//! Chinese identifiers: phone numbers, e-mail, 统一社会信用代码, 居民身份证号,
//! postal codes and dates. Every parser normalises with [`nfkc`] first, so
//! full-width input from a Chinese IME is accepted, and returns the one
//! canonical form that is stored and compared.

use crate::FieldError;
use crate::normalize::nfkc;
use phonenumber::Type;
use phonenumber::metadata::DATABASE;
use time::{Date, Month};

// ---------------------------------------------------------------------------
// Phone numbers
// ---------------------------------------------------------------------------

/// What a number is for; never which operator (number portability, 携号转网).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PhoneKind {
    Mobile,
    Landline,
    /// 400 / 800 numbers and other shared-cost or toll-free lines.
    Service,
}

/// A phone number accepted when it was written (see [`Phone::stored`]),
/// stored as E.164 (`+8613812345678`), with an
/// optional extension kept as `;ext=801` so the stored string parses back.
/// Its kind follows from the E.164 form and is looked up when asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone {
    e164: String,
}

/// Extension markers, longest first so `分机号` wins over `分机`.
const EXT_MARKERS: &[&str] = &[";ext=", "分机号", "分机", "转", "ext.", "ext", "x", "#"];
const MAX_EXT_DIGITS: usize = 8;

fn is_ext(s: &str) -> bool {
    (1..=MAX_EXT_DIGITS).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// Splits `010-62345678转801` into the number and `801`. `None` when a marker
/// is present but what follows is not an extension.
fn split_marked_extension(s: &str) -> Option<(&str, Option<String>)> {
    let lower = s.to_ascii_lowercase();
    let found = EXT_MARKERS
        .iter()
        .filter_map(|m| lower.find(m).map(|at| (at, m.len())))
        .min_by_key(|&(at, len)| (at, usize::MAX - len));
    let Some((at, len)) = found else {
        return Some((s, None));
    };
    // ASCII lowercasing keeps byte offsets, so `at` is valid in `s` too.
    let ext: String = s[at + len..]
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '.' | '-' | '：'))
        .collect();
    is_ext(&ext).then_some((&s[..at], Some(ext)))
}

/// Parses the number part (no extension) into an E.164 number and its kind.
fn parse_number(main: &str) -> Option<(String, PhoneKind)> {
    // Only the characters people use to write a number; anything else (a
    // name, a word) is not a phone, even if libphonenumber would find digits.
    if !main
        .chars()
        .all(|c| c.is_ascii_digit() || " -().+/".contains(c))
    {
        return None;
    }
    // One `+`, before the first digit (`(+86) 138…` is common).
    let first_digit = main
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(main.len());
    let plus = match main.matches('+').count() {
        0 => false,
        1 if main[..first_digit].contains('+') => true,
        _ => return None,
    };
    let digits: String = main.chars().filter(char::is_ascii_digit).collect();
    if !(5..=17).contains(&digits.len()) {
        return None;
    }
    let dialled = if plus {
        international(&digits)
    } else if let Some(rest) = digits.strip_prefix("00") {
        // 00 is the international call prefix dialled from China (0086…).
        international(rest)
    } else if digits.len() == 13 && digits.starts_with("861") {
        // 86 written without + in front of a mobile number.
        format!("+{digits}")
    } else {
        digits
    };
    from_library(&dialled)
}

/// The number as the library reads it (`+` and digits, or Chinese digits).
fn from_library(text: &str) -> Option<(String, PhoneKind)> {
    let number = phonenumber::parse(Some(phonenumber::country::Id::CN), text).ok()?;
    if number.extension().is_some() {
        return None;
    }
    // `parse` succeeding does not mean the number exists: `12345678901`
    // parses to a short nonsense number. Validity is a known type in the
    // number's region: `is_valid` computes the type again (a dozen pattern
    // matches), so it is asked only when a leading zero makes its view of
    // the number differ from `number_type`'s (Italy).
    let number_type = number.number_type(&DATABASE);
    let valid = if number.national().zeros() == 0 {
        number_type != Type::Unknown
    } else {
        number.is_valid()
    };
    if !valid {
        return None;
    }
    let kind = match number_type {
        Type::Mobile => PhoneKind::Mobile,
        Type::TollFree
        | Type::SharedCost
        | Type::PremiumRate
        | Type::Uan
        | Type::Voicemail
        | Type::ShortCode
        | Type::StandardRate
        | Type::Carrier
        | Type::NoInternational
        | Type::Emergency => PhoneKind::Service,
        _ => PhoneKind::Landline,
    };
    // E.164 is `+`, the country code and the national number; the
    // library's formatter would first look for a display pattern.
    let e164 = format!("+{}{}", number.country().code(), number.national());
    if kind == PhoneKind::Landline && !cn_local_number_ok(&e164) {
        return None;
    }
    Some((e164, kind))
}

/// The numbering plan says a Chinese local number starts with 2–8; the
/// library's Beijing pattern is looser (it accepts `010-02345678`).
fn cn_local_number_ok(e164: &str) -> bool {
    let Some(national) = e164.strip_prefix("+86") else {
        return true;
    };
    let area_len = if national.starts_with("10") || national.starts_with('2') {
        2
    } else {
        3
    };
    national
        .as_bytes()
        .get(area_len)
        .is_some_and(|d| (b'2'..=b'8').contains(d))
}

/// `+86 (0)10 …`: the trunk 0 is often written after +86 and must go.
fn international(digits: &str) -> String {
    match digits.strip_prefix("860") {
        Some(rest) => format!("+86{rest}"),
        None => format!("+{digits}"),
    }
}

impl Phone {
    /// Accepts any common written form: spaces, `-`, `()`, `+86`/`0086`/`86`,
    /// full-width digits, and extensions written `-801`, `转801`, `分机801`,
    /// `ext801`, `#801` or `;ext=801`. The region is China unless a `+` or
    /// `00` prefix says otherwise.
    pub fn parse(field: &str, raw: &str) -> Result<Phone, FieldError> {
        let invalid = || FieldError::new(field, "phone.invalid");
        let s = nfkc(raw);
        if s.is_empty() || s.chars().count() > 40 {
            return Err(invalid());
        }
        let (main, ext) = split_marked_extension(&s).ok_or_else(invalid)?;
        let mut candidates = vec![(main, ext.clone())];
        // A trailing `-801` is an extension only if the number without it is
        // valid and the whole is not: `138-0013-8000` stays one number.
        if ext.is_none()
            && let Some(at) = main.rfind('-')
            && is_ext(main[at + 1..].trim())
        {
            candidates.push((&main[..at], Some(main[at + 1..].trim().to_string())));
        }
        for (number, ext) in candidates {
            if let Some((e164, _)) = parse_number(number) {
                let e164 = match ext {
                    Some(ext) => format!("{e164};ext={ext}"),
                    None => e164,
                };
                return Ok(Phone { e164 });
            }
        }
        Err(invalid())
    }

    /// A number as the store holds it (the E.164 form [`Phone::parse`]
    /// gave when it was written, with any `;ext=`), taken as it is. An edit
    /// that keeps a customer's numbers does not check them again: the check
    /// was made when they were written (perhaps under earlier rules), and it
    /// is the costliest part of a write's validation.
    pub(crate) fn stored(e164: &str) -> Phone {
        Phone {
            e164: e164.to_string(),
        }
    }

    /// E.164, plus `;ext=NNN` when there is an extension.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// What the number is for. A stored number that today's rules no
    /// longer accept (written under earlier ones) counts as a landline.
    pub fn kind(&self) -> PhoneKind {
        let main = self.e164.split(";ext=").next().unwrap_or_default();
        parse_number(main).map_or(PhoneKind::Landline, |(_, k)| k)
    }

    /// The extension digits, if any.
    pub fn extension(&self) -> Option<&str> {
        self.e164.split_once(";ext=").map(|(_, ext)| ext)
    }
}

/// The stored form of any written phone number, for exact search and dedupe;
/// `None` when the text is not a valid phone number.
pub fn phone_lookup_key(raw: &str) -> Option<String> {
    Phone::parse("phone", raw).ok().map(|p| p.e164)
}

// ---------------------------------------------------------------------------
// E-mail
// ---------------------------------------------------------------------------

/// An e-mail address as written (normalised and trimmed).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Email, FieldError> {
        let s = nfkc(raw);
        // A CRM address must be deliverable on the internet: a dotted domain,
        // no `Name <a@b>` display form, no `[1.2.3.4]` literal.
        let options = email_address::Options::default()
            .with_required_tld()
            .without_display_text()
            .without_domain_literal();
        let ok = !s.is_empty()
            && !s.contains(char::is_whitespace)
            && email_address::EmailAddress::parse_with_options(&s, options).is_ok();
        if ok {
            Ok(Email(s))
        } else {
            Err(FieldError::new(field, "email.invalid"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Case-folded form for dedupe and search. Mail providers in China (QQ,
    /// 163, corporate Exmail) treat the local part case-insensitively too.
    pub fn lookup_key(&self) -> String {
        self.0.to_lowercase()
    }
}

// ---------------------------------------------------------------------------
// 统一社会信用代码 (GB 32100-2015)
// ---------------------------------------------------------------------------

/// The 31 symbols of the code in value order; I, O, Z, S and V are excluded
/// because they look like digits.
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

fn uscc_value(c: char) -> Option<u32> {
    USCC_ALPHABET
        .iter()
        .position(|&b| char::from(b) == c)
        .map(|p| p as u32)
}

/// The check character for the first 17 characters (weights 3^(i-1) mod 31).
fn uscc_check(body: &[u32]) -> char {
    let mut weight = 1;
    let mut sum = 0;
    for v in body {
        sum += v * weight;
        weight = weight * 3 % 31;
    }
    char::from(USCC_ALPHABET[((31 - sum % 31) % 31) as usize])
}

/// A 统一社会信用代码, upper-case, checksum verified.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Uscc(String);

impl Uscc {
    pub fn parse(field: &str, raw: &str) -> Result<Uscc, FieldError> {
        let s: String = nfkc(raw)
            .chars()
            .filter(|c| *c != ' ')
            .collect::<String>()
            .to_uppercase();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(FieldError::new(field, "uscc.length"));
        }
        let mut values = Vec::with_capacity(18);
        for (i, &c) in chars.iter().enumerate() {
            // Positions 3–8 are the administrative division code: digits only.
            let v = uscc_value(c).filter(|_| !(2..8).contains(&i) || c.is_ascii_digit());
            match v {
                Some(v) => values.push(v),
                None => return Err(FieldError::new(field, "uscc.charset")),
            }
        }
        if uscc_check(&values[..17]) != chars[17] {
            return Err(FieldError::new(field, "uscc.checksum"));
        }
        Ok(Uscc(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// ---------------------------------------------------------------------------
// 居民身份证号 (GB 11643-1999)
// ---------------------------------------------------------------------------

/// ISO 7064 MOD 11-2 check character over 17 digits.
fn id_check(body: &[u8]) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    char::from(CHECK[(sum % 11) as usize])
}

fn ymd(digits: &str) -> Option<Date> {
    let year: i32 = digits.get(0..4)?.parse().ok()?;
    let month: u8 = digits.get(4..6)?.parse().ok()?;
    let day: u8 = digits.get(6..8)?.parse().ok()?;
    // Nobody alive was born before 1800; such a "date" is a typo.
    if year < 1800 {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// An 18-character 居民身份证号 with a real birth date and a valid check
/// character. Legacy 15-digit numbers are upgraded on parse.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdNumber {
    value: String,
    birth_date: Date,
}

impl IdNumber {
    pub fn parse(field: &str, raw: &str) -> Result<IdNumber, FieldError> {
        let s: String = nfkc(raw)
            .chars()
            .filter(|c| *c != ' ')
            .collect::<String>()
            .to_uppercase();
        let b = s.as_bytes();
        let shape_ok = match b.len() {
            15 => b.iter().all(u8::is_ascii_digit),
            18 => {
                b[..17].iter().all(u8::is_ascii_digit) && (b[17].is_ascii_digit() || b[17] == b'X')
            }
            _ => false,
        };
        if !shape_ok {
            return Err(FieldError::new(field, "id_number.length"));
        }
        if b.len() == 15 {
            // GB 11643-1989 numbers have a 2-digit year of the 1900s and no
            // check character: insert "19" and compute it.
            let body = format!("{}19{}", &s[..6], &s[6..]);
            let birth_date =
                ymd(&body[6..14]).ok_or_else(|| FieldError::new(field, "id_number.birth_date"))?;
            let value = format!("{body}{}", id_check(body.as_bytes()));
            return Ok(IdNumber { value, birth_date });
        }
        let birth_date =
            ymd(&s[6..14]).ok_or_else(|| FieldError::new(field, "id_number.birth_date"))?;
        if id_check(&b[..17]) != char::from(b[17]) {
            return Err(FieldError::new(field, "id_number.checksum"));
        }
        Ok(IdNumber {
            value: s,
            birth_date,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn birth_date(&self) -> Date {
        self.birth_date
    }
}

// ---------------------------------------------------------------------------
// Postal codes and dates
// ---------------------------------------------------------------------------

/// A 6-digit 邮政编码 (no checksum exists).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PostalCode(String);

impl PostalCode {
    pub fn parse(field: &str, raw: &str) -> Result<PostalCode, FieldError> {
        let s: String = nfkc(raw).chars().filter(|c| *c != ' ').collect();
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(PostalCode(s))
        } else {
            Err(FieldError::new(field, "postal_code.invalid"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A calendar date written `YYYY-MM-DD` (ISO 8601, the API's only form).
pub fn parse_date(field: &str, raw: &str) -> Result<Date, FieldError> {
    parse_ymd(&nfkc(raw)).ok_or_else(|| FieldError::new(field, "date.invalid"))
}

/// `YYYY-MM-DD` exactly (ASCII digits, year ≥ 1, a real calendar day), no
/// normalisation: for text already normalised (stored dates) or read in
/// bulk (an order log), where [`parse_date`]'s NFKC copy per value costs
/// more than the parse.
pub fn parse_ymd(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok().filter(|y| *y >= 1)?;
    let month = Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(num(8..10)?).ok()?).ok()
}

/// The inverse of [`parse_date`].
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    /// `from_library` asks the library for validity and E.164 in a cheaper
    /// way; over many numbers of many countries (Italy's significant
    /// leading zero among them) it must agree with the library's own calls.
    #[test]
    fn phone_shortcuts_agree_with_the_library() {
        let reference = |text: &str| -> Option<String> {
            let n = phonenumber::parse(Some(phonenumber::country::Id::CN), text).ok()?;
            (n.is_valid() && n.extension().is_none())
                .then(|| n.format().mode(phonenumber::Mode::E164).to_string())
        };
        let prefixes = [
            "", "+86", "+8610", "+86755", "+1", "+44", "+39", "+3906", "+390", "+81", "+852",
            "+886", "+49", "+7", "+61", "+65", "010", "0755", "021", "13", "15", "17", "18", "19",
            "400", "800", "+3933", "+37", "+262", "+800",
        ];
        // A fixed linear congruential sequence: the same digits every run.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let (mut checked, mut valid) = (0, 0);
        for p in prefixes {
            for len in 3..=12 {
                for _ in 0..12 {
                    let mut text = p.to_string();
                    for _ in 0..len {
                        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        text.push(char::from(b'0' + ((x >> 33) % 10) as u8));
                    }
                    let want = reference(&text);
                    match from_library(&text) {
                        Some((got, _)) => assert_eq!(want.as_ref(), Some(&got), "{text}"),
                        // Refused on top of the library only by the rule
                        // for Chinese local numbers.
                        None => assert!(
                            want.as_deref().is_none_or(|w| !cn_local_number_ok(w)),
                            "{text}: the library accepts {want:?}"
                        ),
                    }
                    checked += 1;
                    valid += usize::from(want.is_some());
                }
            }
        }
        assert!(
            checked > 3_000 && valid > 300,
            "{checked} numbers, {valid} valid"
        );
    }

    #[test]
    fn dates_by_hand_match_the_calendar() {
        assert_eq!(
            parse_ymd("2024-02-29"),
            Some(time::macros::date!(2024 - 02 - 29))
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-011",
            "20240101xx",
            "２０２４-01-01",
        ] {
            assert_eq!(parse_ymd(bad), None, "{bad}");
        }
    }

    use super::*;

    /// Parses a phone and returns (e164, kind), or the error code.
    fn check_phone(raw: &str) -> Result<(String, PhoneKind), &'static str> {
        Phone::parse("phones[0]", raw)
            .map(|p| (p.e164().to_string(), p.kind()))
            .map_err(|e| {
                assert_eq!(e.field, "phones[0]");
                e.code
            })
    }

    fn ok_phone(raw: &str, e164: &str, kind: PhoneKind) {
        assert_eq!(check_phone(raw), Ok((e164.to_string(), kind)), "{raw:?}");
        // The stored form parses back to itself.
        assert_eq!(
            check_phone(e164),
            Ok((e164.to_string(), kind)),
            "round trip of {e164:?}"
        );
    }

    fn bad_phone(raw: &str) {
        assert_eq!(check_phone(raw), Err("phone.invalid"), "{raw:?}");
        assert_eq!(phone_lookup_key(raw), None, "{raw:?}");
    }

    #[test]
    fn mobile_numbers_in_every_written_form() {
        use PhoneKind::Mobile;
        for raw in [
            "13812345678",
            "+86 138 1234 5678",
            "008613812345678",
            "8613812345678",
            "86 138-1234-5678",
            "１３８ １２３４ ５６７８",
            "＋８６１３８１２３４５６７８",
            "(+86) 138 1234 5678",
            "138-1234-5678",
            "\u{3000}13812345678\u{3000}",
        ] {
            ok_phone(raw, "+8613812345678", Mobile);
        }
        for raw in [
            "19212345678",
            "19912345678",
            "16212345678",
            "17012345678",
            "14512345678",
            "17400123456",
        ] {
            ok_phone(raw, &format!("+86{raw}"), Mobile);
        }
    }

    #[test]
    fn invalid_mobiles_are_rejected() {
        for raw in [
            "14912345678",
            "19412345678",
            "17406123456",
            "12345678901",
            "11012345678",
            "1381234567",
            "138123456789",
            "",
            "   ",
            "张三",
            "138 1234 567a",
            "13812345678 张三",
            "1+3812345678",
        ] {
            bad_phone(raw);
        }
    }

    #[test]
    fn landlines_service_numbers_and_extensions() {
        use PhoneKind::*;
        ok_phone("010-62345678", "+861062345678", Landline);
        ok_phone("(010) 6234 5678", "+861062345678", Landline);
        ok_phone("+86 (0)10 6234 5678", "+861062345678", Landline);
        ok_phone("+86 10 6234 5678", "+861062345678", Landline);
        ok_phone("021-87654321", "+862187654321", Landline);
        ok_phone("0755-86013388", "+8675586013388", Landline);
        ok_phone("0755-8601-3388", "+8675586013388", Landline);
        ok_phone("0371-61234567", "+8637161234567", Landline);
        for raw in [
            "010-62345678-801",
            "010-62345678转801",
            "010-62345678 转 801",
            "010-62345678分机801",
            "010-62345678分机号：801",
            "010-62345678 ext801",
            "010-62345678 ext. 801",
            "010-62345678 EXT 801",
            "010-62345678#801",
            "010-62345678 x801",
            "０１０－６２３４５６７８转８０１",
        ] {
            ok_phone(raw, "+861062345678;ext=801", Landline);
        }
        assert_eq!(
            Phone::parse("p", "010-62345678转801").unwrap().extension(),
            Some("801")
        );
        assert_eq!(Phone::parse("p", "010-62345678").unwrap().extension(), None);
        ok_phone("400-123-4567", "+864001234567", Service);
        ok_phone("800-810-8888", "+868008108888", Service);
        // Other countries need an explicit + or 00.
        ok_phone("+852 2123 4567", "+85221234567", Landline);
        ok_phone("+1 650 253 0000", "+16502530000", Landline);
    }

    #[test]
    fn invalid_landlines_are_rejected() {
        for raw in [
            "62345678",
            "010-02345678",
            "0755-861234567",
            "001-62345678",
            "0371-6123456",
            "010-62345678转",
            "010-62345678转abc",
            "010-62345678转123456789",
            "14123456789012",
        ] {
            bad_phone(raw);
        }
    }

    #[test]
    fn lookup_key_is_the_same_for_all_forms() {
        let key = phone_lookup_key("138 0013 8000").unwrap();
        assert_eq!(key, "+8613800138000");
        assert_eq!(
            phone_lookup_key("+86 138-0013-8000").as_deref(),
            Some(key.as_str())
        );
        assert_eq!(
            phone_lookup_key("８６１３８００１３８０００").as_deref(),
            Some(key.as_str())
        );
        assert_eq!(
            phone_lookup_key("0086 13800138000").as_deref(),
            Some(key.as_str())
        );
    }

    fn check_email(raw: &str) -> Result<(String, String), &'static str> {
        Email::parse("emails[0]", raw)
            .map(|e| (e.as_str().to_string(), e.lookup_key()))
            .map_err(|e| e.code)
    }

    #[test]
    fn emails() {
        assert_eq!(
            check_email("  Zhang.San@Example.COM "),
            Ok((
                "Zhang.San@Example.COM".into(),
                "zhang.san@example.com".into()
            ))
        );
        assert_eq!(
            check_email("ｚｓ＠ｑｑ．ｃｏｍ"),
            Ok(("zs@qq.com".into(), "zs@qq.com".into()))
        );
        assert_eq!(
            check_email("user+tag@mail.163.com").map(|e| e.1),
            Ok("user+tag@mail.163.com".into())
        );
        for bad in [
            "",
            "zs",
            "zs@",
            "@qq.com",
            "zs@localhost",
            "zs@qq",
            "z s@qq.com",
            "张三 <zs@qq.com>",
            "zs@[1.2.3.4]",
            "zs@@qq.com",
        ] {
            assert_eq!(check_email(bad), Err("email.invalid"), "{bad:?}");
        }
    }

    fn check_uscc(raw: &str) -> Result<String, &'static str> {
        Uscc::parse("unified_social_credit_code", raw)
            .map(|u| u.as_str().to_string())
            .map_err(|e| e.code)
    }

    #[test]
    fn uscc() {
        for good in [
            "91350100M000100Y43",
            "9131000063159284XQ",
            "91110108MA01ABCDEN",
            "92440300MA5FXXXXXJ",
        ] {
            assert_eq!(check_uscc(good).as_deref(), Ok(good));
        }
        assert_eq!(
            check_uscc(" 91350100m000100y43 ").as_deref(),
            Ok("91350100M000100Y43")
        );
        assert_eq!(
            check_uscc("９１３５０１００Ｍ０００１００Ｙ４３").as_deref(),
            Ok("91350100M000100Y43")
        );
        // Z is not a code symbol at all, so that is a charset error.
        assert_eq!(check_uscc("91350100M000100Y4Z"), Err("uscc.charset"));
        for bad in [
            "91350100M000100Y42",
            "91310115MA1H8R7C6D",
            "91350211M0000XUF46",
            "91350100M0001TGQXM",
        ] {
            assert_eq!(check_uscc(bad), Err("uscc.checksum"), "{bad}");
        }
        assert_eq!(check_uscc("91350100M000100Y4"), Err("uscc.length"));
        assert_eq!(check_uscc("91350100M000100Y433"), Err("uscc.length"));
        assert_eq!(check_uscc(""), Err("uscc.length"));
        // I, O, S, V, Z are not in the alphabet; letters are not allowed in
        // the division code (positions 3–8).
        assert_eq!(check_uscc("91350100M000100I43"), Err("uscc.charset"));
        assert_eq!(check_uscc("9135010OM000100Y43"), Err("uscc.charset"));
        assert_eq!(check_uscc("913501A0M000100Y43"), Err("uscc.charset"));
        assert_eq!(check_uscc("91350100M00010统Y43"), Err("uscc.charset"));
    }

    fn check_id(raw: &str) -> Result<(String, String), &'static str> {
        IdNumber::parse("id_number", raw)
            .map(|i| (i.as_str().to_string(), format_date(i.birth_date())))
            .map_err(|e| e.code)
    }

    #[test]
    fn id_numbers() {
        assert_eq!(
            check_id("11010519491231002X"),
            Ok(("11010519491231002X".into(), "1949-12-31".into()))
        );
        assert_eq!(
            check_id("11010519491231002x"),
            Ok(("11010519491231002X".into(), "1949-12-31".into()))
        );
        assert_eq!(
            check_id("440524188001010014"),
            Ok(("440524188001010014".into(), "1880-01-01".into()))
        );
        assert_eq!(
            check_id("110101200002290018"),
            Ok(("110101200002290018".into(), "2000-02-29".into()))
        );
        assert_eq!(
            check_id("310115199003071239").map(|i| i.1),
            Ok("1990-03-07".into())
        );
        assert_eq!(
            check_id("１１０１０５１９４９１２３１００２Ｘ").map(|i| i.0),
            Ok("11010519491231002X".into())
        );
        // Legacy 15-digit number upgraded to 18.
        assert_eq!(
            check_id("320311770706001"),
            Ok(("320311197707060018".into(), "1977-07-06".into()))
        );
        assert_eq!(check_id("110105194912310021"), Err("id_number.checksum"));
        assert_eq!(check_id("110105194902301234"), Err("id_number.birth_date"));
        assert_eq!(
            check_id("110105190002290011"),
            Err("id_number.birth_date"),
            "1900 was not a leap year"
        );
        assert_eq!(check_id("110105194913310021"), Err("id_number.birth_date"));
        assert_eq!(check_id("320311771306001"), Err("id_number.birth_date"));
        for bad in [
            "",
            "1101051949123100",
            "11010519491231002XX",
            "1101051949123100X2",
            "11010519491231002Y",
            "32031177070600X",
        ] {
            assert_eq!(check_id(bad), Err("id_number.length"), "{bad:?}");
        }
    }

    #[test]
    fn postal_codes() {
        for good in ["100000", "200001", "518000", " ５１８０００ "] {
            assert_eq!(
                PostalCode::parse("postal_code", good).unwrap().as_str(),
                nfkc(good)
            );
        }
        for bad in ["10000", "1000000", "10000a", ""] {
            assert_eq!(
                PostalCode::parse("postal_code", bad).unwrap_err().code,
                "postal_code.invalid"
            );
        }
    }

    fn check_date(raw: &str) -> Result<String, &'static str> {
        parse_date("birthday", raw)
            .map(format_date)
            .map_err(|e| e.code)
    }

    #[test]
    fn dates() {
        assert_eq!(check_date("2024-02-29").as_deref(), Ok("2024-02-29"));
        assert_eq!(
            check_date(" ２０２４－０１－０５ ").as_deref(),
            Ok("2024-01-05")
        );
        assert_eq!(check_date("0999-12-31").as_deref(), Ok("0999-12-31"));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-5",
            "2024/01/05",
            "20240105",
            "",
            "0000-01-01",
            "+024-01-05",
            "2024-01-05T00:00",
        ] {
            assert_eq!(check_date(bad), Err("date.invalid"), "{bad:?}");
        }
    }
}
