//! Properties of generated data. The check algorithms here are written independently of
//! the generator's (`codes`), so a shared mistake cannot hide.

use std::collections::{HashMap, HashSet};

use time::macros::date;

use crate::regions::{self, ProvinceKind};
use crate::*;

fn cfg(customers: usize, seed: u64) -> GenConfig {
    GenConfig {
        customers,
        seed,
        start: date!(2024 - 01 - 01),
        end: date!(2025 - 12 - 31),
        owners: 20,
    }
}

/// GB 11643-1999: 17 digits, ISO 7064 MOD 11-2 check, existing birth date.
fn valid_id_number(id: &str) -> bool {
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = b[..17]
        .iter()
        .zip(weights)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let expected = b"10X98765432"[(sum % 11) as usize];
    let date_ok = id_birth_date(id).is_some();
    b[17] == expected && date_ok
}

fn id_birth_date(id: &str) -> Option<Date> {
    let year: i32 = id[6..10].parse().ok()?;
    let month: u8 = id[10..12].parse().ok()?;
    let day: u8 = id[12..14].parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// GB 32100-2015: 18 characters of the 31-symbol charset, weights 3^i mod 31, check
/// 31 − (Σ mod 31) with 31 → 0.
fn valid_uscc(code: &str) -> bool {
    const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    let values: Option<Vec<u32>> = code
        .chars()
        .map(|c| CHARSET.find(c).map(|v| v as u32))
        .collect();
    let Some(values) = values else { return false };
    if values.len() != 18 || !code[2..8].bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut weight = 1;
    let mut sum = 0;
    for v in &values[..17] {
        sum += v * weight;
        weight = weight * 3 % 31;
    }
    let check = match 31 - sum % 31 {
        31 => 0,
        c => c,
    };
    values[17] == check
}

/// libphonenumber's CN mobile ranges, spelled out.
fn valid_mobile_shape(m: &str) -> bool {
    let b = m.as_bytes();
    if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) || b[0] != b'1' {
        return false;
    }
    match (b[1], b[2]) {
        (b'3' | b'8', _) => true,
        (b'4', b'5' | b'7') => true,
        (b'5' | b'9', c) => c != b'4',
        (b'6', c) => matches!(c, b'2' | b'5' | b'6' | b'7'),
        (b'7', c) => c != b'4' && c != b'9',
        _ => false,
    }
}

fn libphonenumber_valid(number: &str) -> bool {
    phonenumber::parse(Some(phonenumber::country::Id::CN), number)
        .map(|n| phonenumber::is_valid(&n))
        .unwrap_or(false)
}

#[test]
fn the_standards_examples_pass_the_test_checkers() {
    assert!(valid_uscc("91350100M000100Y43"));
    assert!(valid_uscc("9131000063159284XQ"));
    assert!(!valid_uscc("91350100M000100Y4Z"));
    assert!(!valid_uscc("91310115MA1H8R7C6D"));
    assert!(valid_id_number("11010519491231002X"));
    assert!(!valid_id_number("110105194902301234"));
}

#[test]
fn generation_is_deterministic_and_independent_of_the_customer_count() {
    let a: Vec<_> = generate(&cfg(100, 7)).collect();
    let b: Vec<_> = generate(&cfg(100, 7)).collect();
    assert_eq!(a, b);
    let longer: Vec<_> = generate(&cfg(1000, 7)).take(100).collect();
    assert_eq!(a, longer);
    let middle: Vec<_> = generate_range(&cfg(1000, 7), 40..60).collect();
    assert_eq!(&a[40..60], middle.as_slice());
    assert_eq!(generate_one(&cfg(5, 7), 99), a[99]);
    let other_seed: Vec<_> = generate(&cfg(100, 8)).collect();
    assert_ne!(a, other_seed);
    assert_eq!(generate(&cfg(123, 1)).len(), 123);
}

#[test]
fn identifiers_addresses_contacts_and_dates_are_valid() {
    let c = cfg(2_000, 42);
    let (start, end) = (c.start, c.end);
    let provinces: HashMap<&str, &regions::Province> =
        regions::all().iter().map(|p| (p.name, p)).collect();
    for cust in generate(&c) {
        let province = provinces[cust.province.as_str()];
        assert!(province.is_mainland());
        let city = province
            .cities
            .iter()
            .find(|x| x.name == cust.city)
            .expect("city in province");
        let d = city
            .districts
            .iter()
            .position(|x| *x == cust.district)
            .expect("district in city");
        assert_eq!(city.district_codes[d], cust.district_code);
        assert!(!cust.address.is_empty());

        for m in cust.mobiles.iter().chain(
            cust.contacts
                .iter()
                .map(|x| &x.mobile)
                .filter(|m| !m.is_empty()),
        ) {
            assert!(valid_mobile_shape(m), "{m}");
            assert!(libphonenumber_valid(m), "{m}");
        }
        for l in &cust.landlines {
            let (area, local) = l.split_once('-').expect("area-local");
            assert_eq!(area, city.area_code);
            assert_eq!(local.len(), usize::from(city.local_len));
            assert!((b'2'..=b'8').contains(&local.as_bytes()[0]));
            assert!(libphonenumber_valid(l), "{l}");
        }
        for e in cust
            .emails
            .iter()
            .chain(cust.contacts.iter().filter_map(|x| x.email.as_ref()))
        {
            let (local, domain) = e.split_once('@').expect("an @");
            assert!(
                !local.is_empty() && domain.contains('.') && e.is_ascii(),
                "{e}"
            );
        }

        assert!((start..=end).contains(&cust.created_on));
        assert!(cust.owner < c.owners);
        let mut previous = cust.created_on;
        for o in &cust.orders {
            assert!(
                o.date >= previous && o.date <= end,
                "orders chronological, after creation"
            );
            previous = o.date;
            assert!((1..=4).contains(&o.lines.len()));
            assert!(CHANNELS.contains(&o.channel.as_str()));
            for l in &o.lines {
                assert!(l.quantity >= 1 && l.amount_fen > 0);
                assert!(l.amount_fen <= l.quantity * l.unit_price_fen);
            }
        }
        if cust.latent.is_none() {
            assert!(cust.orders.is_empty(), "prospects never buy");
        }

        match cust.kind {
            Kind::Person => {
                assert!((1..=2).contains(&cust.mobiles.len()));
                assert!(cust.contacts.is_empty() && cust.uscc.is_none() && cust.gender.is_some());
                assert!((2..=5).contains(&cust.name.chars().filter(|c| *c != ' ').count()));
                if let Some(id) = &cust.id_number {
                    assert!(valid_id_number(id), "{id}");
                    assert_eq!(id_birth_date(id), cust.birthday);
                    assert_eq!(id[..2].parse::<u32>().unwrap(), province.prefix());
                    let male = (id.as_bytes()[16] - b'0') % 2 == 1;
                    assert_eq!(male, cust.gender == Some(Gender::Male));
                }
                if let Some(b) = cust.birthday {
                    assert!(b.year() >= end.year() - 66 && b.year() <= end.year() - 20);
                }
            }
            Kind::Company => {
                assert!(cust.mobiles.len() <= 1);
                assert!(cust.id_number.is_none() && cust.birthday.is_none());
                assert!((1..=4).contains(&cust.contacts.len()));
                assert_eq!(cust.contacts.iter().filter(|x| x.is_primary).count(), 1);
                assert!(cust.industry.is_some());
                if let Some(u) = &cust.uscc {
                    assert!(valid_uscc(u), "{u}");
                    assert_eq!(u[2..8].parse::<u32>().unwrap(), cust.district_code);
                }
            }
        }
    }
}

#[test]
fn volumes_match_the_benchmark_shape() {
    let c = cfg(20_000, 1);
    let (mut orders, mut people, mut prospects, mut duplicates, mut buyers_without_orders) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    // (total spend in 分, orders) per kind, for the Gamma-Gamma check.
    let mut spend = [(0i64, 0usize); 2];
    for cust in generate(&c) {
        let s = &mut spend[usize::from(cust.kind == Kind::Company)];
        s.0 += cust.orders.iter().map(GenOrder::amount_fen).sum::<i64>();
        s.1 += cust.orders.len();
        orders += cust.orders.len();
        people += usize::from(cust.kind == Kind::Person);
        prospects += usize::from(cust.latent.is_none());
        duplicates += usize::from(cust.duplicate_of.is_some());
        buyers_without_orders += usize::from(cust.latent.is_some() && cust.orders.is_empty());
    }
    let n = c.customers as f64;
    let mean = orders as f64 / n;
    assert!(
        (8.0..=12.0).contains(&mean),
        "mean orders per customer {mean}"
    );
    assert!((0.56..=0.64).contains(&(people as f64 / n)));
    assert!((0.13..=0.17).contains(&(prospects as f64 / n)));
    assert!((0.006..=0.014).contains(&(duplicates as f64 / n)));
    // Late arrivals whose first purchase would fall after `end`: a few percent at most.
    assert!((buyers_without_orders as f64 / n) < 0.05);
    // Order totals follow the Gamma-Gamma mean p·γ/(q−1) despite whole catalogue items.
    for (kind, gamma) in [
        (0, params::SPEND_GAMMA_PERSON),
        (1, params::SPEND_GAMMA_COMPANY),
    ] {
        let expected = params::SPEND_P * gamma / (params::SPEND_Q - 1.0);
        let actual = spend[kind].0 as f64 / spend[kind].1 as f64;
        assert!(
            (actual / expected - 1.0).abs() < 0.15,
            "mean order {actual} vs {expected}"
        );
    }
}

#[test]
fn strong_identifiers_are_shared_only_by_known_duplicates() {
    let customers: Vec<_> = generate(&cfg(20_000, 3)).collect();
    // Union-find over duplicate_of gives the true clusters.
    let mut root: Vec<usize> = (0..customers.len()).collect();
    fn find(root: &mut [usize], i: usize) -> usize {
        let mut i = i;
        while root[i] != i {
            i = root[i];
        }
        i
    }
    for c in &customers {
        if let Some(src) = c.duplicate_of {
            assert!(src < c.index);
            let (a, b) = (find(&mut root, c.index), find(&mut root, src));
            root[a] = b;
        }
    }
    let mut owner_of: HashMap<String, usize> = HashMap::new();
    for c in &customers {
        let cluster = find(&mut root, c.index);
        let ids = c
            .mobiles
            .iter()
            .chain(&c.landlines)
            .chain(c.id_number.iter())
            .chain(c.uscc.iter())
            .chain(
                c.contacts
                    .iter()
                    .map(|x| &x.mobile)
                    .filter(|m| !m.is_empty()),
            )
            .cloned()
            .collect::<HashSet<_>>();
        for id in ids {
            let other = *owner_of.entry(id.clone()).or_insert(cluster);
            assert_eq!(other, cluster, "{id} shared by unrelated customers");
        }
    }
    // And each duplicate keeps something in common with its source.
    for c in customers.iter().filter(|c| c.duplicate_of.is_some()) {
        let s = &customers[c.duplicate_of.unwrap()];
        let shared = c.mobiles.iter().any(|m| s.mobiles.contains(m))
            || (c.id_number.is_some() && c.id_number == s.id_number)
            || (c.uscc.is_some() && c.uscc == s.uscc)
            || c.landlines.iter().any(|l| s.landlines.contains(l))
            || c.name == s.name;
        assert!(
            shared,
            "duplicate {} has nothing in common with {}",
            c.index, s.index
        );
    }
}

#[test]
fn the_region_table_is_complete_and_consistent() {
    let all = regions::all();
    assert_eq!(all.len(), 34);
    assert_eq!(regions::mainland().count(), 31);
    let mut codes = HashSet::new();
    for p in all {
        assert!(codes.insert(p.code));
        assert_eq!(p.code % 10_000, 0);
        let single = matches!(p.kind, ProvinceKind::Municipality) || p.name == "澳门特别行政区";
        if single {
            assert_eq!(p.cities.len(), 1, "{}", p.name);
        } else {
            assert!(p.cities.len() >= 3, "{}", p.name);
        }
        for c in p.cities {
            assert!(c.districts.len() >= 3, "{}", c.name);
            assert_eq!(c.districts.len(), c.district_codes.len(), "{}", c.name);
            assert_eq!(c.code / 10_000, p.prefix(), "{}", c.name);
            if p.is_mainland() {
                assert!(c.weight > 0);
                assert!(c.area_code.starts_with('0') && (3..=4).contains(&c.area_code.len()));
                assert!(c.local_len == 7 || c.local_len == 8);
                assert_eq!(c.code % 100, 0);
                for &dc in c.district_codes {
                    assert!(dc == c.code || dc / 100 == c.code / 100, "{} {dc}", c.name);
                }
            }
        }
    }
    assert_eq!(regions::by_prefix(44).map(|p| p.name), Some("广东省"));
}
