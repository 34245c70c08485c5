//! Identifiers with check characters, and the keyed permutations that keep generated
//! identifiers unique.
//!
//! Unrelated generated records must not share a phone, ID number or USCC: duplicate
//! detection treats any of those as "same customer", so an accidental collision would
//! be a false duplicate in the benchmark's ground truth. Drawing such numbers at random
//! collides a few hundred times per million records (birthday paradox); instead they are
//! a keyed bijection of the customer index, unique by construction, yet random-looking.

use rand::Rng;

use crate::pick::{Weighted, mix64, push_digits};

/// A keyed bijection on `[0, m²)`: a four-round balanced Feistel network over `Z_m × Z_m`.
/// Each round maps (l, r) to (r, l + F(r) mod m), which is invertible whatever F is.
fn feistel(x: u64, m: u64, key: u64) -> u64 {
    let (mut l, mut r) = (x / m, x % m);
    for round in 0..4u64 {
        let f = mix64(r ^ key ^ (round << 58)) % m;
        (l, r) = (r, (l + f) % m);
    }
    l * m + r
}

/// A keyed bijection on `[0, n)` for `n ≤ m²`, by cycle-walking the Feistel network:
/// values that land outside `[0, n)` are permuted again until they fall inside, which
/// keeps the map a bijection on the smaller domain.
pub(crate) fn permute(x: u64, n: u64, m: u64, key: u64) -> u64 {
    debug_assert!(x < n && n <= m * m);
    let mut y = feistel(x, m, key);
    while y >= n {
        y = feistel(y, m, key);
    }
    y
}

/// Distinct keys per kind of identifier, so e.g. a customer's mobile and QQ number are
/// unrelated even though both come from the same index.
pub(crate) mod keys {
    pub const MOBILE: u64 = 0x4d4f_4249_4c45_0001;
    pub const LANDLINE: u64 = 0x4c41_4e44_4c49_0002;
    pub const QQ: u64 = 0x5151_5151_5151_0003;
    pub const ORG_NUMERIC: u64 = 0x4f52_474e_554d_0004;
    pub const ORG_MA: u64 = 0x4f52_474d_4100_0005;
    pub const TRADE_NAME: u64 = 0x5452_4144_4500_0006;
    pub const BIRTH: u64 = 0x4249_5254_4800_0007;
}

/// Mainland mobile prefixes, weighted roughly by how common they are. Every one is in
/// libphonenumber's CN mobile ranges (`1(?:[38]\d|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])`):
/// no 154, 194, 140/141/144/149, 160/161/163/164/168/169 or 174.
#[rustfmt::skip]
static MOBILE_PREFIXES: &[(u16, u32)] = &[
    (130, 30), (131, 30), (132, 30), (133, 30), (134, 20), (135, 40), (136, 40), (137, 40),
    (138, 50), (139, 50), (145, 3), (147, 5), (150, 30), (151, 30), (152, 30), (153, 20), (155, 20),
    (156, 20), (157, 20), (158, 30), (159, 30), (162, 1), (165, 1), (166, 10), (167, 1), (170, 3),
    (171, 2), (172, 3), (173, 10), (175, 5), (176, 10), (177, 10), (178, 10), (180, 20), (181, 20),
    (182, 20), (183, 20), (184, 10), (185, 20), (186, 30), (187, 30), (188, 20), (189, 30),
    (190, 5), (191, 5), (192, 3), (193, 5), (195, 5), (196, 2), (197, 3), (198, 10), (199, 10),
];

static MOBILE_TABLE: std::sync::LazyLock<Weighted<u16>> =
    std::sync::LazyLock::new(|| Weighted::new(MOBILE_PREFIXES));

/// Slots per customer for mobiles and QQ numbers: 0–1 the customer's own, 2–5 its
/// contacts' (at most four).
pub(crate) const SLOTS: u64 = 8;

/// An 11-digit mainland mobile, unique for each (index, slot) while
/// `index × SLOTS < 10⁸` (i.e. up to 12.5 M customers).
pub(crate) fn mobile<R: Rng + ?Sized>(rng: &mut R, seed: u64, index: usize, slot: u64) -> String {
    let mut s = String::with_capacity(11);
    push_digits(&mut s, u64::from(*MOBILE_TABLE.pick(rng)), 3);
    let x = (index as u64 * SLOTS + slot) % 100_000_000;
    push_digits(
        &mut s,
        permute(x, 100_000_000, 10_000, seed ^ keys::MOBILE),
        8,
    );
    s
}

/// A landline "area-local", e.g. "0755-66013388". The local number starts with 2–7:
/// the plan allows 8 too, but 8-digit numbers from 800 (010-800…, 021-800…) are not
/// fixed lines and fail validation, so 8 is left out. The whole local number is a
/// bijection of (index, slot) over the 6 × 10^(len−1) numbers, so two customers of one
/// city never share a landline below 3 M customers.
pub(crate) fn landline(
    seed: u64,
    area_code: &str,
    local_len: u8,
    index: usize,
    slot: u64,
) -> String {
    let rest = u32::from(local_len) - 1;
    let tail = 10u64.pow(rest);
    let n = 6 * tail;
    let m = (n as f64).sqrt().ceil() as u64;
    let v = permute((index as u64 * 2 + slot) % n, n, m, seed ^ keys::LANDLINE);
    let mut s = String::with_capacity(area_code.len() + 1 + usize::from(local_len));
    s.push_str(area_code);
    s.push('-');
    s.push((b'2' + (v / tail) as u8) as char);
    push_digits(&mut s, v % tail, rest as usize);
    s
}

/// A QQ number (9 or 10 digits, no leading zero), unique per (index, slot).
pub(crate) fn qq_number<R: Rng + ?Sized>(
    rng: &mut R,
    seed: u64,
    index: usize,
    slot: u64,
) -> String {
    let mut s = String::with_capacity(10);
    s.push((b'0' + rng.random_range(1..=9)) as char);
    if rng.random_bool(0.3) {
        s.push((b'0' + rng.random_range(0..=9)) as char);
    }
    let x = (index as u64 * SLOTS + slot) % 100_000_000;
    push_digits(&mut s, permute(x, 100_000_000, 10_000, seed ^ keys::QQ), 8);
    s
}

/// ISO 7064 MOD 11-2 check character of a resident ID number's first 17 digits
/// (GB 11643-1999).
pub(crate) fn id_check_char(first17: &[u8]) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] as char
}

/// An 18-digit resident ID: region, birth date, 3-digit sequence (odd for men), check.
pub(crate) fn id_number(region: u32, birthday: time::Date, sequence: u16) -> String {
    let mut s = String::with_capacity(18);
    push_digits(&mut s, u64::from(region), 6);
    push_digits(&mut s, birthday.year() as u64, 4);
    push_digits(&mut s, u64::from(u8::from(birthday.month())), 2);
    push_digits(&mut s, u64::from(birthday.day()), 2);
    push_digits(&mut s, u64::from(sequence), 3);
    let check = id_check_char(s.as_bytes());
    s.push(check);
    s
}

/// The 31 characters of GB 32100-2015, in value order (no I, O, S, V, Z).
pub(crate) const USCC_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Check character of a GB 11714 organisation code body (8 characters): weights
/// 3,7,9,10,5,8,4,2; letters count A = 10 … Z = 35; 11 − (Σ mod 11), with 10 → X and
/// 11 → 0. `91350100M000100Y43` carries `M000100Y` + `4`.
pub(crate) fn org_check_char(body: &[u8]) -> char {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let value = |c: u8| match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        _ => u32::from(c - b'A') + 10,
    };
    let sum: u32 = body.iter().zip(WEIGHTS).map(|(&c, w)| value(c) * w).sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => (b'0' + d as u8) as char,
    }
}

/// Check character of a USCC's first 17 characters (GB 32100-2015): weights 3^i mod 31,
/// 31 − (Σ mod 31), with 31 → 0.
pub(crate) fn uscc_check_char(first17: &[u8]) -> char {
    let mut weight = 1u32;
    let mut sum = 0u32;
    for &c in first17 {
        let v = USCC_CHARSET
            .iter()
            .position(|&x| x == c)
            .expect("USCC charset") as u32;
        sum += v * weight;
        weight = weight * 3 % 31;
    }
    USCC_CHARSET[((31 - sum % 31) % 31) as usize] as char
}

/// A unified social credit code: registration authority 9 (market regulation), the
/// organisation type ('1' enterprise, '2' individual business), the region, a GB 11714
/// organisation code unique per customer index, and the check character. Newer codes
/// use the "MA…" body that local regulators hand out since 2015; older ones are numeric.
pub(crate) fn uscc<R: Rng + ?Sized>(
    rng: &mut R,
    seed: u64,
    org_type: u8,
    region: u32,
    index: usize,
) -> String {
    let mut s = String::with_capacity(18);
    s.push('9');
    s.push(org_type as char);
    push_digits(&mut s, u64::from(region), 6);
    if rng.random_bool(0.6) {
        // "MA" + 6 characters of the USCC charset: 31⁶ ≈ 887 M distinct bodies.
        const N: u64 = 31u64.pow(6);
        let mut v = permute(index as u64 % N, N, 31u64.pow(3), seed ^ keys::ORG_MA);
        s.push_str("MA");
        let mut tail = [0u8; 6];
        for slot in tail.iter_mut().rev() {
            *slot = USCC_CHARSET[(v % 31) as usize];
            v /= 31;
        }
        s.push_str(std::str::from_utf8(&tail).expect("ASCII"));
    } else {
        let x = index as u64 % 100_000_000;
        push_digits(
            &mut s,
            permute(x, 100_000_000, 10_000, seed ^ keys::ORG_NUMERIC),
            8,
        );
    }
    let org_check = org_check_char(&s.as_bytes()[8..16]);
    s.push(org_check);
    let check = uscc_check_char(s.as_bytes());
    s.push(check);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection() {
        for (n, m) in [(1_000_000u64, 1_000u64), (100, 10), (7_000, 100)] {
            let mut seen = vec![false; n as usize];
            for x in 0..n {
                let y = permute(x, n, m, 42) as usize;
                assert!(!seen[y]);
                seen[y] = true;
            }
        }
    }

    #[test]
    fn check_characters_match_the_standards_examples() {
        assert_eq!(uscc_check_char(b"91350100M000100Y4"), '3');
        assert_eq!(uscc_check_char(b"9131000063159284X"), 'Q');
        assert_eq!(org_check_char(b"M000100Y"), '4');
        assert_eq!(org_check_char(b"63159284"), 'X');
        assert_eq!(id_check_char(b"11010519491231002"), 'X');
    }
}
