//! Who a customer is: names, phones, e-mails, address, ID numbers, contacts; and the
//! near-duplicates that re-enter an earlier customer with small changes.

use std::sync::LazyLock;

use rand::Rng;
use time::Date;

use crate::codes::{self, permute};
use crate::names::{self, Generation, SIMILAR, SURNAME_TABLE, TRADE_CHARS};
use crate::params::{NEAR_DUPLICATES_PER_MILLE, PERSON_SHARE};
use crate::pick::{Weighted, mix64, one, push_digits, push_number, push_random_digits, word};
use crate::regions::{self, City, Province};
use crate::text::{self, INDUSTRIES};
use crate::{GenConfig, GenContact, Gender, Kind, Stream, rng_for};

pub(crate) struct Identity {
    pub kind: Kind,
    pub name: String,
    pub gender: Option<Gender>,
    pub mobiles: Vec<String>,
    pub landlines: Vec<String>,
    pub emails: Vec<String>,
    pub province: &'static Province,
    pub city: &'static City,
    /// Index into `city.districts`.
    pub district: usize,
    pub address: String,
    pub industry: Option<&'static str>,
    pub occupation: Option<&'static str>,
    pub employer: Option<String>,
    pub birthday: Option<Date>,
    pub id_number: Option<String>,
    pub uscc: Option<String>,
    pub contacts: Vec<GenContact>,
    pub duplicate_of: Option<usize>,
}

/// The identity of customer `index`. A near-duplicate starts from the identity of its
/// source (recomputed, so no state is shared between indexes) and then changes a few
/// things with its own random stream.
pub(crate) fn identity(cfg: &GenConfig, index: usize) -> Identity {
    match duplicate_source(cfg.seed, index) {
        Some(source) => {
            let mut id = identity(cfg, source);
            let mut rng = rng_for(cfg.seed, index, Stream::Duplicate);
            match id.kind {
                Kind::Person => perturb_person(&mut id, &mut rng, cfg, index),
                Kind::Company => perturb_company(&mut id, &mut rng, cfg, index),
            }
            id.duplicate_of = Some(source);
            id
        }
        None => {
            let mut rng = rng_for(cfg.seed, index, Stream::Identity);
            if rng.random_bool(PERSON_SHARE) {
                person(&mut rng, cfg, index)
            } else {
                company(&mut rng, cfg, index)
            }
        }
    }
}

/// Whether `index` is a near-duplicate, and of which earlier customer. Decided by a hash
/// rather than a random stream so it costs nothing for the other 99 %. Sources lie at
/// most 20,000 indexes back, so a duplicate usually lands in the same import batch.
fn duplicate_source(seed: u64, index: usize) -> Option<usize> {
    if index == 0 {
        return None;
    }
    let h = mix64(mix64(seed ^ 0x6475_706c_6963_6174) ^ index as u64);
    if h % 1000 >= NEAR_DUPLICATES_PER_MILLE {
        return None;
    }
    let back = (h >> 32) % index.min(20_000) as u64;
    Some(index - 1 - back as usize)
}

type CityRef = (&'static Province, &'static City);

static CITIES: LazyLock<Vec<(CityRef, u32)>> = LazyLock::new(|| {
    regions::mainland()
        .flat_map(|p| p.cities.iter().map(move |c| ((p, c), c.weight)))
        .collect()
});
static CITY_TABLE: LazyLock<Weighted<CityRef>> =
    LazyLock::new(|| Weighted::new(LazyLock::force(&CITIES).as_slice()));

/// A person's name with the readings needed for e-mail addresses.
pub(crate) struct PersonName {
    pub text: String,
    pub surname_py: &'static str,
    pub given_py: [&'static str; 2],
    pub given_len: usize,
}

fn person_name<R: Rng + ?Sized>(rng: &mut R, female: bool, generation: Generation) -> PersonName {
    let &(surname, surname_py) = SURNAME_TABLE.pick(rng);
    // About a fifth of names have a one-character given name (张伟); the rest two (张子轩).
    let given_len = if rng.random_bool(0.22) { 1 } else { 2 };
    let (own, other) = names::given_pools(female, generation);
    let mut text = String::with_capacity(12);
    text.push_str(surname);
    let mut given_py = ["", ""];
    let mut previous = "";
    for slot in given_py.iter_mut().take(given_len) {
        let pool = if rng.random_bool(0.85) { own } else { other };
        let mut pick = *one(rng, pool);
        if pick.0 == previous {
            // Reduplicated names (婷婷) are a deliberate style, not a coin flip.
            pick = *one(rng, pool);
        }
        text.push_str(pick.0);
        *slot = pick.1;
        previous = pick.0;
    }
    PersonName {
        text,
        surname_py,
        given_py,
        given_len,
    }
}

const MIN_AGE: u32 = 20;
const MAX_AGE: u32 = 65;

/// Birth dates and ID sequence numbers, laid out so that (age, day of year, sequence)
/// is a bijection of the customer index: two people then never share an ID number,
/// whatever region they draw. Each age gets 365 days × S sequence slots, with S following
/// a triangular age profile (most customers in their thirties and forties), so a uniform
/// draw over all slots is also a realistic age draw.
struct BirthSlots {
    /// Sequence slots per day for each age from MIN_AGE.
    per_day: Vec<u64>,
    /// Slots below each age (exclusive prefix sums of 365 × per_day).
    below: Vec<u64>,
    total: u64,
}

static BIRTH_SLOTS: LazyLock<BirthSlots> = LazyLock::new(|| {
    let (low, mode, high) = (f64::from(MIN_AGE), 36.0, f64::from(MAX_AGE) + 1.0);
    let density = |x: f64| {
        if x < mode {
            (x - low) / (mode - low)
        } else {
            (high - x) / (high - mode)
        }
    };
    let per_day: Vec<u64> = (MIN_AGE..=MAX_AGE)
        .map(|a| ((500.0 * density(f64::from(a) + 0.5)).round() as u64).clamp(10, 500))
        .collect();
    let mut below = Vec::with_capacity(per_day.len());
    let mut total = 0;
    for s in &per_day {
        below.push(total);
        total += 365 * s;
    }
    BirthSlots {
        per_day,
        below,
        total,
    }
});

/// (age at the end of the window, day of the year 0..365, sequence 0..500) for `index`.
fn birth_slot(seed: u64, index: usize) -> (u32, u16, u16) {
    let slots = &*BIRTH_SLOTS;
    let m = (slots.total as f64).sqrt().ceil() as u64;
    let v = permute(
        index as u64 % slots.total,
        slots.total,
        m,
        seed ^ codes::keys::BIRTH,
    );
    let age = slots.below.partition_point(|&b| b <= v) - 1;
    let r = v - slots.below[age];
    let per_day = slots.per_day[age];
    (
        MIN_AGE + age as u32,
        (r / per_day) as u16,
        (r % per_day) as u16,
    )
}

fn person<R: Rng + ?Sized>(rng: &mut R, cfg: &GenConfig, index: usize) -> Identity {
    let &(province, city) = CITY_TABLE.pick(rng);
    let district = rng.random_range(0..city.districts.len());
    let female = rng.random_bool(0.5);
    let (age, day, sequence) = birth_slot(cfg.seed, index);
    let year = cfg.end.year() - age as i32;
    let birthday = Date::from_ordinal_date(year, day + 1).expect("day 1..=365 exists");
    let generation = if year < 1980 {
        Generation::Older
    } else {
        Generation::Younger
    };
    let name = person_name(rng, female, generation);

    let mut mobiles = vec![codes::mobile(rng, cfg.seed, index, 0)];
    if rng.random_bool(0.2) {
        mobiles.push(codes::mobile(rng, cfg.seed, index, 1));
    }
    let mut landlines = Vec::new();
    if rng.random_bool(0.05) {
        landlines.push(codes::landline(
            cfg.seed,
            city.area_code,
            city.local_len,
            index,
            0,
        ));
    }
    let mut emails = Vec::new();
    if rng.random_bool(0.55) {
        emails.push(person_email(rng, cfg.seed, index, &name, year, &mobiles[0]));
    }

    // The ID's region is where the person was registered: usually the district they live
    // in, otherwise elsewhere in the same province.
    let id_number = rng.random_bool(0.65).then(|| {
        let region = if rng.random_bool(0.75) {
            city.district_codes[district]
        } else {
            let other = one(rng, province.cities);
            *one(rng, other.district_codes)
        };
        // Odd sequence numbers are men's.
        codes::id_number(region, birthday, 2 * sequence + u16::from(!female))
    });
    let birthday = if id_number.is_some() || rng.random_bool(0.25) {
        Some(birthday)
    } else {
        None
    };

    let (occupation, employer, industry) = if rng.random_bool(0.88) {
        let &(title, usual_industry, employed) = text::OCCUPATION_TABLE.pick(rng);
        if employed && rng.random_bool(0.8) {
            let industry = usual_industry.unwrap_or_else(|| *text::INDUSTRY_TABLE.pick(rng));
            let employer = employer_name(rng, city, title, industry);
            (Some(title), Some(employer), Some(INDUSTRIES[industry].0))
        } else {
            (Some(title), None, None)
        }
    } else {
        (None, None, None)
    };

    Identity {
        kind: Kind::Person,
        name: name.text,
        gender: Some(if female { Gender::Female } else { Gender::Male }),
        mobiles,
        landlines,
        emails,
        province,
        city,
        district,
        address: residential_address(rng),
        industry,
        occupation,
        employer,
        birthday,
        id_number,
        uscc: None,
        contacts: Vec::new(),
        duplicate_of: None,
    }
}

/// A person's e-mail on a free-mail provider. QQ mail uses a QQ number, 139 mail the
/// mobile number; the rest a pinyin local part with digits, as Chinese users do, which
/// also keeps unrelated people's addresses apart.
fn person_email<R: Rng + ?Sized>(
    rng: &mut R,
    seed: u64,
    index: usize,
    name: &PersonName,
    birth_year: i32,
    mobile: &str,
) -> String {
    let domain = *text::PERSON_MAIL_TABLE.pick(rng);
    let mut s = String::with_capacity(32);
    match domain {
        "qq.com" => s.push_str(&codes::qq_number(rng, seed, index, 0)),
        "139.com" => s.push_str(mobile),
        _ => {
            pinyin_local_part(rng, &mut s, name);
            if rng.random_bool(0.4) {
                push_digits(&mut s, (birth_year % 100) as u64, 2);
                push_random_digits(&mut s, rng, 3, 0);
            } else {
                let n = rng.random_range(4..=5);
                push_random_digits(&mut s, rng, n, 1);
            }
        }
    }
    s.push('@');
    s.push_str(domain);
    s
}

/// "zhangwei", "wei.zhang", "zhangw", "zw" or "zhang_wei".
fn pinyin_local_part<R: Rng + ?Sized>(rng: &mut R, s: &mut String, name: &PersonName) {
    let given = &name.given_py[..name.given_len];
    match rng.random_range(0..10) {
        0..=3 => {
            s.push_str(name.surname_py);
            given.iter().for_each(|g| s.push_str(g));
        }
        4 => {
            given.iter().for_each(|g| s.push_str(g));
            s.push('.');
            s.push_str(name.surname_py);
        }
        5..=6 => {
            s.push_str(name.surname_py);
            given.iter().for_each(|g| s.push_str(&g[..1]));
        }
        7..=8 => {
            s.push_str(&name.surname_py[..1]);
            given.iter().for_each(|g| s.push_str(&g[..1]));
        }
        _ => {
            s.push_str(name.surname_py);
            s.push('_');
            given.iter().for_each(|g| s.push_str(g));
        }
    }
}

/// Employer of a person customer. Schools and hospitals get their usual public names;
/// everyone else works at a company of the industry.
fn employer_name<R: Rng + ?Sized>(
    rng: &mut R,
    city: &'static City,
    title: &str,
    industry: usize,
) -> String {
    let short = city.short_name();
    match title {
        "教师" if rng.random_bool(0.7) => {
            let mut s = String::from(short);
            match rng.random_range(0..3) {
                0 => {
                    s.push_str("市第");
                    s.push_str(word(
                        rng,
                        &["一", "二", "三", "四", "五", "六", "七", "八", "十二"],
                    ));
                    s.push_str("中学");
                }
                1 => s.push_str("市实验小学"),
                _ => s.push_str(word(rng, &["职业技术学院", "外国语学校", "市第一中学"])),
            }
            s
        }
        "医生" | "护士" if rng.random_bool(0.7) => {
            let mut s = String::from(short);
            s.push_str(word(
                rng,
                &["市人民医院", "市中医院", "市第一人民医院", "市妇幼保健院"],
            ));
            s
        }
        _ => {
            let (trade, _) = random_trade_name(rng);
            let words = INDUSTRIES[industry].1;
            let mut s = String::with_capacity(48);
            s.push_str(city_prefix(city));
            s.push_str(&trade);
            s.push_str(word(rng, words));
            s.push_str("有限公司");
            s
        }
    }
}

/// "深圳市" for cities, "延边" for autonomous prefectures: how names start.
fn city_prefix(city: &'static City) -> &'static str {
    if city.name.ends_with('市') {
        city.name
    } else {
        city.short_name()
    }
}

/// Province name as used in company names: "广东", "内蒙古", "广西".
fn province_plain(province: &Province) -> &'static str {
    let name = province.name;
    for suffix in [
        "壮族自治区",
        "回族自治区",
        "维吾尔自治区",
        "自治区",
        "省",
        "市",
    ] {
        if let Some(s) = name.strip_suffix(suffix) {
            return s;
        }
    }
    name
}

/// A random two-character trade name, for names that need not be unique (employers,
/// buildings).
fn random_trade_name<R: Rng + ?Sized>(rng: &mut R) -> (String, String) {
    let a = one(rng, TRADE_CHARS);
    let b = one(rng, TRADE_CHARS);
    (format!("{}{}", a.0, b.0), format!("{}{}", a.1, b.1))
}

/// The trade name (字号) of company customer `index`: three characters taken from a
/// keyed permutation of the index, so no two companies share one; 15 % keep only the
/// first two (those can repeat, as "华信" does across China).
fn unique_trade_name(seed: u64, index: usize) -> (String, String) {
    let l = TRADE_CHARS.len() as u64;
    let n = l * l * l;
    let m = (n as f64).sqrt().ceil() as u64;
    let key = permute(index as u64 % n, n, m, seed ^ codes::keys::TRADE_NAME);
    let digits = [key / (l * l), key / l % l, key % l];
    let len = if digits[2] < l * 15 / 100 { 2 } else { 3 };
    let mut text = String::with_capacity(9);
    let mut pinyin = String::with_capacity(18);
    for &d in &digits[..len] {
        let (c, py) = TRADE_CHARS[d as usize];
        text.push_str(c);
        pinyin.push_str(py);
    }
    (text, pinyin)
}

/// Shapes of registered company names (企业名称): region + trade name + business word +
/// legal form in its usual permutations.
#[derive(Clone, Copy)]
enum NameForm {
    CityFull,             // 深圳市华信科技有限公司
    CityShort,            // 深圳华信科技有限公司
    CityLimitedLiability, // 杭州云帆贸易有限责任公司
    ParenCityAfter,       // 华信科技（深圳）有限公司
    ParenCityJointStock,  // 华信（深圳）科技股份有限公司
    CityJointStock,       // 深圳市华信科技股份有限公司
    Group,                // 华信科技集团有限公司
    CityGroup,            // 深圳华信集团
    ParenCityLeading,     // （深圳）华信科技有限公司
    Province,             // 广东华信科技有限公司
    NoRegion,             // 华信科技有限公司
    Individual,           // 南山区华信商行 (个体工商户)
}

static NAME_FORMS: &[(NameForm, u32)] = &[
    (NameForm::CityFull, 34),
    (NameForm::CityShort, 10),
    (NameForm::CityLimitedLiability, 8),
    (NameForm::ParenCityAfter, 9),
    (NameForm::ParenCityJointStock, 3),
    (NameForm::CityJointStock, 4),
    (NameForm::Group, 3),
    (NameForm::CityGroup, 1),
    (NameForm::ParenCityLeading, 2),
    (NameForm::Province, 6),
    (NameForm::NoRegion, 5),
    (NameForm::Individual, 8),
];
static NAME_FORM_TABLE: LazyLock<Weighted<NameForm>> = LazyLock::new(|| Weighted::new(NAME_FORMS));

fn company<R: Rng + ?Sized>(rng: &mut R, cfg: &GenConfig, index: usize) -> Identity {
    let &(province, city) = CITY_TABLE.pick(rng);
    let district = rng.random_range(0..city.districts.len());
    let industry = *text::INDUSTRY_TABLE.pick(rng);
    let (industry_name, words) = INDUSTRIES[industry];
    let (trade, trade_py) = unique_trade_name(cfg.seed, index);
    let scope = word(rng, words);
    let form = *NAME_FORM_TABLE.pick(rng);
    let (open, close) = if rng.random_bool(0.75) {
        ("（", "）")
    } else {
        ("(", ")")
    };
    let short = city.short_name();
    let mut name = String::with_capacity(64);
    match form {
        NameForm::CityFull => push_all(&mut name, &[city_prefix(city), &trade, scope, "有限公司"]),
        NameForm::CityShort => push_all(&mut name, &[short, &trade, scope, "有限公司"]),
        NameForm::CityLimitedLiability => {
            push_all(&mut name, &[short, &trade, scope, "有限责任公司"])
        }
        NameForm::ParenCityAfter => {
            push_all(&mut name, &[&trade, scope, open, short, close, "有限公司"])
        }
        NameForm::ParenCityJointStock => push_all(
            &mut name,
            &[&trade, open, short, close, scope, "股份有限公司"],
        ),
        NameForm::CityJointStock => push_all(
            &mut name,
            &[city_prefix(city), &trade, scope, "股份有限公司"],
        ),
        NameForm::Group => push_all(&mut name, &[&trade, scope, "集团有限公司"]),
        NameForm::CityGroup => push_all(&mut name, &[short, &trade, "集团"]),
        NameForm::ParenCityLeading => {
            push_all(&mut name, &[open, short, close, &trade, scope, "有限公司"])
        }
        NameForm::Province => push_all(
            &mut name,
            &[province_plain(province), &trade, scope, "有限公司"],
        ),
        NameForm::NoRegion => push_all(&mut name, &[&trade, scope, "有限公司"]),
        NameForm::Individual => push_all(
            &mut name,
            &[
                city.districts[district],
                &trade,
                word(rng, text::shop_words(industry)),
            ],
        ),
    }
    let individual = matches!(form, NameForm::Individual);

    let uscc = rng
        .random_bool(if individual { 0.8 } else { 0.95 })
        .then(|| {
            let org_type = if individual { b'2' } else { b'1' };
            codes::uscc(
                rng,
                cfg.seed,
                org_type,
                city.district_codes[district],
                index,
            )
        });

    let mut landlines = Vec::new();
    let landline_count = match rng.random_range(0..100) {
        0..=4 => 0,
        5..=89 => 1,
        _ => 2,
    };
    for slot in 0..landline_count {
        landlines.push(codes::landline(
            cfg.seed,
            city.area_code,
            city.local_len,
            index,
            slot,
        ));
    }
    let mut mobiles = Vec::new();
    if rng.random_bool(if individual { 0.9 } else { 0.35 }) {
        mobiles.push(codes::mobile(rng, cfg.seed, index, 0));
    }

    // Own domain for most registered companies: pinyin of the trade name plus a few
    // digits ("huaxinda2718.com"), which is common and keeps firms with the same
    // reading apart.
    let domain = (!individual && rng.random_bool(0.6)).then(|| {
        let mut d = trade_py.clone();
        push_number(&mut d, rng.random_range(10..10_000));
        d.push('.');
        d.push_str(word(rng, text::COMPANY_TLDS));
        d
    });
    let mut emails = Vec::new();
    match &domain {
        Some(d) => {
            emails.push(format!("{}@{d}", one(rng, text::ROLE_MAILBOXES)));
        }
        None if rng.random_bool(0.35) => {
            emails.push(format!(
                "{}@qq.com",
                codes::qq_number(rng, cfg.seed, index, 1)
            ));
        }
        None => {}
    }

    let contact_count = match rng.random_range(0..100) {
        0..=44 => 1,
        45..=74 => 2,
        75..=89 => 3,
        _ => 4,
    };
    let mut contacts = Vec::with_capacity(contact_count);
    for k in 0..contact_count {
        let female = rng.random_bool(0.45);
        let generation = if rng.random_bool(0.4) {
            Generation::Older
        } else {
            Generation::Younger
        };
        let person = person_name(rng, female, generation);
        let primary = k == 0;
        let title = if primary {
            one(rng, text::PRIMARY_TITLES)
        } else {
            one(rng, text::OTHER_TITLES)
        };
        // The boss's mobile is often the company's only mobile.
        let mobile = if primary && !mobiles.is_empty() && rng.random_bool(0.5) {
            mobiles[0].clone()
        } else if rng.random_bool(0.95) {
            codes::mobile(rng, cfg.seed, index, 2 + k as u64)
        } else {
            String::new()
        };
        let email = match &domain {
            Some(d) if rng.random_bool(0.5) => {
                let mut e = String::with_capacity(32);
                pinyin_local_part(rng, &mut e, &person);
                e.push('@');
                e.push_str(d);
                Some(e)
            }
            _ if rng.random_bool(0.15) => Some(format!(
                "{}@qq.com",
                codes::qq_number(rng, cfg.seed, index, 2 + k as u64)
            )),
            _ => None,
        };
        contacts.push(GenContact {
            name: person.text,
            title: (*title).to_owned(),
            mobile,
            email,
            is_primary: primary,
        });
    }

    Identity {
        kind: Kind::Company,
        name,
        gender: None,
        mobiles,
        landlines,
        emails,
        province,
        city,
        district,
        address: office_address(rng, individual),
        industry: Some(industry_name),
        occupation: None,
        employer: None,
        birthday: None,
        id_number: None,
        uscc,
        contacts,
        duplicate_of: None,
    }
}

fn push_all(s: &mut String, parts: &[&str]) {
    for p in parts {
        s.push_str(p);
    }
}

fn road<R: Rng + ?Sized>(rng: &mut R, s: &mut String) {
    s.push_str(word(rng, text::ROAD_STEMS));
    let kind = *text::ROAD_TYPE_TABLE.pick(rng);
    if kind == "路" && rng.random_bool(0.3) {
        s.push_str(word(rng, text::DIRECTIONS));
    }
    s.push_str(kind);
    // House numbers cluster low: most buildings sit near the start of a road.
    let u: f64 = rng.random();
    push_number(s, 1 + (299.0 * u * u) as u64);
    s.push('号');
}

/// Floor and room as Chinese flats number them: floor 12, room 2 → "1202".
fn push_room<R: Rng + ?Sized>(rng: &mut R, s: &mut String, max_floor: u64) {
    let u: f64 = rng.random();
    let floor = 1 + ((max_floor - 1) as f64 * u.powf(1.4)) as u64;
    push_number(s, floor);
    push_digits(s, rng.random_range(1..=8), 2);
}

fn residential_address<R: Rng + ?Sized>(rng: &mut R) -> String {
    let mut s = String::with_capacity(64);
    let style = rng.random_range(0..20);
    if style < 16 {
        road(rng, &mut s);
    }
    if !(9..16).contains(&style) {
        s.push_str(word(rng, text::ESTATE_FIRST));
        s.push_str(word(rng, text::ESTATE_SECOND));
    }
    push_number(&mut s, rng.random_range(1..=30));
    s.push('栋');
    if style < 9 && rng.random_bool(0.6) {
        push_number(&mut s, rng.random_range(1..=4));
        s.push_str("单元");
    }
    push_room(rng, &mut s, 33);
    s
}

fn office_address<R: Rng + ?Sized>(rng: &mut R, shop: bool) -> String {
    let mut s = String::with_capacity(64);
    road(rng, &mut s);
    if shop {
        // Street-level shop: the road number is the whole address, or a 商铺 number.
        if rng.random_bool(0.4) {
            push_number(&mut s, rng.random_range(1..=60));
            s.push_str("号商铺");
        }
        return s;
    }
    let (a, b) = (one(rng, TRADE_CHARS).0, one(rng, TRADE_CHARS).0);
    match rng.random_range(0..20) {
        0..=7 => {
            push_all(&mut s, &[a, b, word(rng, text::OFFICE_KINDS)]);
            let floor = rng.random_range(2..=38);
            push_number(&mut s, floor);
            s.push('楼');
            push_number(&mut s, floor);
            push_digits(&mut s, rng.random_range(1..=20), 2);
            s.push('室');
        }
        8..=12 => {
            push_all(&mut s, &[a, b, word(rng, text::PARK_KINDS)]);
            push_number(&mut s, rng.random_range(1..=20));
            s.push('栋');
            push_room(rng, &mut s, 12);
        }
        13..=16 => {
            push_number(&mut s, rng.random_range(1..=12));
            s.push('栋');
            push_room(rng, &mut s, 20);
        }
        _ => {
            push_all(&mut s, &[a, b, "工业区"]);
            push_number(&mut s, rng.random_range(1..=40));
            s.push_str("号厂房");
        }
    }
    s
}

/// A re-entered person: the name, address or contact data drift, but a strong
/// identifier (mobile or ID number) almost always survives, as in real re-entries.
fn perturb_person<R: Rng + ?Sized>(id: &mut Identity, rng: &mut R, cfg: &GenConfig, index: usize) {
    match rng.random_range(0..10) {
        // Typo or homophone in the given name (张伟 → 张玮).
        0..=2 => {
            // Only inside the given name: the surname is rarely mistyped.
            let split = id
                .name
                .char_indices()
                .nth(1)
                .map_or(id.name.len(), |(i, _)| i);
            let (head, tail) = id.name.split_at(split);
            id.name = match SIMILAR.iter().find(|(from, _)| tail.contains(from)) {
                Some((from, to)) => format!("{head}{}", tail.replacen(from, to, 1)),
                None => format!("{head} {tail}"),
            };
        }
        // Typed with a space after the surname ("张 伟").
        3..=4 => {
            let at = id
                .name
                .char_indices()
                .nth(1)
                .map_or(id.name.len(), |(i, _)| i);
            id.name.insert(at, ' ');
        }
        // Moved house: new address, home phone gone.
        5..=6 => {
            id.address = residential_address(rng);
            id.landlines.clear();
        }
        // New mobile number, but the ID number (if any) is the same.
        7 if id.id_number.is_some() => {
            id.mobiles = vec![codes::mobile(rng, cfg.seed, index, 0)];
            id.emails.clear();
        }
        // Sparse re-entry: only name and mobile.
        _ => {
            id.id_number = None;
            id.birthday = None;
            id.emails.clear();
            id.employer = None;
            id.occupation = None;
            id.industry = None;
        }
    }
    if id.mobiles.len() > 1 && rng.random_bool(0.5) {
        id.mobiles.truncate(1);
    }
    // E-mail typed with capitals: the same address once case-folded.
    if let Some(e) = id.emails.first_mut()
        && rng.random_bool(0.3)
    {
        *e = capitalise_first(e);
    }
}

/// A re-entered company: the name written differently (legal form, region, brackets),
/// some identifiers missing, usually the same phone or USCC.
fn perturb_company<R: Rng + ?Sized>(id: &mut Identity, rng: &mut R, cfg: &GenConfig, index: usize) {
    let before = id.name.clone();
    match rng.random_range(0..5) {
        0 => id.name = strip_legal_form(&id.name),
        1 => {
            id.name = if let Some(s) = id.name.strip_suffix("有限责任公司") {
                format!("{s}有限公司")
            } else if let Some(s) = id.name.strip_suffix("股份有限公司") {
                format!("{s}有限公司")
            } else if let Some(s) = id.name.strip_suffix("有限公司") {
                format!("{s}有限责任公司")
            } else {
                format!("{}有限公司", id.name)
            }
        }
        2 => id.name = swap_brackets(&id.name),
        3 => {
            if let Some(s) = id.name.strip_prefix(id.city.name) {
                id.name = s.to_owned();
            } else if let Some(s) = id.name.strip_prefix(id.city.short_name()) {
                id.name = format!("{}{s}", id.city.name);
            }
        }
        _ => {}
    }
    if id.name == before {
        id.name = strip_legal_form(&id.name);
    }
    if id.name == before {
        id.name.push_str("有限公司");
    }
    // Keep at least one strong identifier: the USCC or the first landline.
    if id.uscc.is_some() && !id.landlines.is_empty() && rng.random_bool(0.5) {
        id.uscc = None;
    }
    if id.landlines.len() > 1 {
        id.landlines.truncate(1);
    }
    if rng.random_bool(0.3) {
        id.emails.clear();
    }
    if rng.random_bool(0.3) {
        id.address = office_address(rng, false);
    }
    // The re-entering rep usually knows only one of the contacts.
    id.contacts.truncate(1);
    if rng.random_bool(0.2) {
        id.contacts[0].mobile = codes::mobile(rng, cfg.seed, index, 2);
        id.contacts[0].email = None;
    }
}

fn strip_legal_form(name: &str) -> String {
    for suffix in [
        "股份有限公司",
        "有限责任公司",
        "集团有限公司",
        "有限公司",
        "集团",
    ] {
        if let Some(s) = name.strip_suffix(suffix)
            && !s.is_empty()
        {
            return s.to_owned();
        }
    }
    name.to_owned()
}

fn swap_brackets(name: &str) -> String {
    if name.contains('（') {
        name.replace('（', "(").replace('）', ")")
    } else {
        name.replace('(', "（").replace(')', "）")
    }
}

fn capitalise_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_helpers() {
        assert_eq!(strip_legal_form("深圳市华信科技有限公司"), "深圳市华信科技");
        assert_eq!(strip_legal_form("华信科技股份有限公司"), "华信科技");
        assert_eq!(
            swap_brackets("华信科技（深圳）有限公司"),
            "华信科技(深圳)有限公司"
        );
        assert_eq!(
            capitalise_first("zhangwei123@163.com"),
            "Zhangwei123@163.com"
        );
        let gx = regions::by_name("广西壮族自治区").unwrap();
        assert_eq!(province_plain(gx), "广西");
        assert_eq!(province_plain(regions::by_name("广东省").unwrap()), "广东");
    }

    #[test]
    fn trade_names_are_unique_when_three_characters_long() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..50_000 {
            let (t, _) = unique_trade_name(7, i);
            if t.chars().count() == 3 {
                assert!(seen.insert(t));
            }
        }
    }
}
