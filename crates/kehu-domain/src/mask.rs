//! Masking of personal information for display (PIPL art. 51: de-identify
//! what a user has no need to see). Inputs are the stored, normalised values;
//! the output keeps just enough to recognise a record over the phone
//! ("尾号 5678") without disclosing it.

const STARS: &str = "****";

/// The last `n` characters of `s` (fewer if `s` is shorter).
fn last_chars(s: &str, n: usize) -> &str {
    let start = s
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    if n == 0 { "" } else { &s[start..] }
}

/// Mobile `+8613812345678` → `138****5678`; Chinese landline → area code,
/// `-****` and the last 4 digits (`010-****5678`); anything else keeps the
/// last 4 characters. An extension is never shown.
pub fn mask_phone(e164: &str) -> String {
    let number = e164.split_once(";ext=").map_or(e164, |(n, _)| n);
    if let Some(national) = number.strip_prefix("+86")
        && national.bytes().all(|b| b.is_ascii_digit())
    {
        if national.len() == 11 && national.starts_with('1') {
            return format!("{}{STARS}{}", &national[..3], &national[7..]);
        }
        // Area codes are 10 and 2X (010, 021…) or three digits (0755…);
        // 400/800 service numbers have none and fall through.
        let area_len = if national.starts_with("10") || national.starts_with('2') {
            2
        } else if national.starts_with(['3', '4', '5', '6', '7', '8', '9'])
            && !national.starts_with("400")
            && !national.starts_with("800")
        {
            3
        } else {
            0
        };
        if area_len > 0 && national.len() >= area_len + 7 {
            return format!(
                "0{}-{STARS}{}",
                &national[..area_len],
                last_chars(national, 4)
            );
        }
    }
    mask_tail(number)
}

/// Everything but the last 4 characters hidden; short values hidden entirely.
fn mask_tail(s: &str) -> String {
    if s.chars().count() <= 4 {
        return STARS.to_string();
    }
    format!("{STARS}{}", last_chars(s, 4))
}

/// `zhang.san@example.com` → `z***@example.com`: the first character of the
/// local part and the domain (the domain tells the company, not the person).
pub fn mask_email(s: &str) -> String {
    match s.rsplit_once('@') {
        Some((local, domain)) => match local.chars().next() {
            Some(first) => format!("{first}***@{domain}"),
            None => format!("***@{domain}"),
        },
        None => mask_tail(s),
    }
}

/// `11010519491231002X` → `110105**********2X`: the region and the last two
/// characters stay, the birth date and sequence number do not.
pub fn mask_id_number(s: &str) -> String {
    let n = s.chars().count();
    if n <= 8 {
        return STARS.to_string();
    }
    let head: String = s.chars().take(6).collect();
    format!("{head}{}{}", "*".repeat(n - 8), last_chars(s, 2))
}

/// The first 6 characters (province and city, usually) then `****`.
pub fn mask_address(s: &str) -> String {
    if s.chars().count() <= 6 {
        return STARS.to_string();
    }
    let head: String = s.chars().take(6).collect();
    format!("{head}{STARS}")
}

/// A birthday reveals age and, with a name, identity; nothing is kept.
pub fn mask_birthday(_: &str) -> String {
    "****-**-**".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(f: fn(&str) -> String, input: &str, want: &str) {
        assert_eq!(f(input), want, "{input:?}");
    }

    #[test]
    fn phones() {
        check(mask_phone, "+8613812345678", "138****5678");
        check(mask_phone, "+861062345678", "010-****5678");
        check(mask_phone, "+861062345678;ext=801", "010-****5678");
        check(mask_phone, "+862187654321", "021-****4321");
        check(mask_phone, "+8675586013388", "0755-****3388");
        check(mask_phone, "+8637161234567", "0371-****4567");
        check(mask_phone, "+864001234567", "****4567");
        check(mask_phone, "+868008108888", "****8888");
        check(mask_phone, "+85221234567", "****4567");
        check(mask_phone, "123", "****");
        check(mask_phone, "", "****");
    }

    #[test]
    fn masks_agree_with_validate() {
        use crate::validate::Phone;
        let p = Phone::parse("p", "0755-8601 3388 转 12").unwrap();
        check(mask_phone, p.e164(), "0755-****3388");
    }

    #[test]
    fn emails() {
        check(mask_email, "zhang.san@example.com", "z***@example.com");
        check(mask_email, "张三@例子.中国", "张***@例子.中国");
        check(mask_email, "a@qq.com", "a***@qq.com");
        check(mask_email, "@qq.com", "***@qq.com");
        check(mask_email, "not-an-email", "****mail");
    }

    #[test]
    fn id_numbers() {
        check(mask_id_number, "11010519491231002X", "110105**********2X");
        check(mask_id_number, "440524188001010014", "440524**********14");
        check(mask_id_number, "12345678", "****");
    }

    #[test]
    fn addresses_count_characters_not_bytes() {
        check(
            mask_address,
            "北京市海淀区中关村大街1号",
            "北京市海淀区****",
        );
        check(mask_address, "北京市海淀区", "****");
        check(mask_address, "上海", "****");
        check(mask_address, "1 Main Street", "1 Main****");
    }

    #[test]
    fn birthdays() {
        check(mask_birthday, "1949-12-31", "****-**-**");
        check(mask_birthday, "", "****-**-**");
    }
}
