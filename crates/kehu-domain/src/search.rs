//! Search tokens for names, computed in the app so that SQLite (FTS5,
//! `unicode61`) and PostgreSQL (`to_tsvector('simple')`) index exactly the
//! same terms. Every term is lowercase ASCII `[a-z0-9]` or CJK characters
//! only, so neither tokenizer splits or alters it.
//!
//! What makes Chinese names findable:
//! - CJK unigrams and bigrams: a substring query of two or more characters is
//!   the conjunction of its bigrams, without a word segmenter;
//! - the pinyin of the name, in full and as initials, matched by prefix, so
//!   `zs`, `zhangs` and `zhangsan` all find 张三. The `pinyin` crate reads one
//!   character at a time and gets surnames (单 dan) and words (银行 yinxing)
//!   wrong, so the live readings of common polyphonic characters are expanded
//!   (capped), and tables of surnames and words put the right reading first.

use crate::normalize::nfkc;
use crate::validate::{Email, IdNumber, Uscc, phone_lookup_key};
use pinyin::ToPinyin;
use std::collections::HashSet;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Readings of polyphonic characters multiply; this many spellings of a name
/// are enough to cover the likely ones without bloating the index.
const MAX_PINYIN_VARIANTS: usize = 8;
/// Only the start of a long name is read into pinyin: prefix search never
/// needs more, and company names can be long.
const MAX_PINYIN_UNITS: usize = 32;
/// Pinyin written from inside a name (`zjtd` for 北京字节跳动) is cut to this
/// many syllables.
const MAX_SUFFIX_UNITS: usize = 12;
/// A query longer than this many terms is cut; beyond it a query is a paste.
const MAX_QUERY_TERMS: usize = 16;

/// Surnames whose reading differs from the character's usual one (CLDR
/// Han-Latin/Names and common usage). A name that starts with one of these is
/// read only this way: nobody says 单(dān)伟.
const SURNAMES: &[(char, &str)] = &[
    ('单', "shan"),
    ('曾', "zeng"),
    ('解', "xie"),
    ('区', "ou"),
    ('仇', "qiu"),
    ('朴', "piao"),
    ('查', "zha"),
    ('覃', "qin"),
    ('盖', "ge"),
    ('缪', "miao"),
    ('乐', "yue"),
    ('沈', "shen"),
    ('华', "hua"),
    ('秘', "bi"),
    ('种', "chong"),
    ('员', "yun"),
    ('召', "shao"),
    ('翟', "zhai"),
    ('宿', "su"),
    ('牟', "mou"),
    ('卜', "bu"),
    ('重', "chong"),
    ('燕', "yan"),
    ('曲', "qu"),
    ('尉', "wei"),
    ('柏', "bai"),
    ('薄', "bo"),
    ('贾', "jia"),
    ('折', "she"),
    ('洗', "xian"),
    ('谌', "chen"),
    ('长', "chang"),
    ('都', "du"),
    ('藏', "zang"),
    ('朝', "chao"),
    ('莘', "shen"),
    ('隗', "wei"),
    ('繁', "po"),
    ('句', "gou"),
    ('能', "nai"),
    ('粘', "nian"),
    ('那', "na"),
    ('石', "shi"),
    ('万', "wan"),
    ('艾', "ai"),
    ('叶', "ye"),
    ('纪', "ji"),
    ('冯', "feng"),
    ('任', "ren"),
    ('车', "che"),
    ('殷', "yin"),
    ('蔺', "lin"),
    ('阚', "kan"),
    ('眭', "sui"),
];

/// Two-character surnames. Checked before [`SURNAMES`] so that 单于 is
/// chanyu, not shanyu, and 万俟 is moqi.
const COMPOUND_SURNAMES: &[(&str, [&str; 2])] = &[
    ("万俟", ["mo", "qi"]),
    ("尉迟", ["yu", "chi"]),
    ("单于", ["chan", "yu"]),
    ("澹台", ["tan", "tai"]),
    ("长孙", ["zhang", "sun"]),
    ("欧阳", ["ou", "yang"]),
    ("司马", ["si", "ma"]),
    ("司徒", ["si", "tu"]),
    ("司空", ["si", "kong"]),
    ("诸葛", ["zhu", "ge"]),
    ("上官", ["shang", "guan"]),
    ("东方", ["dong", "fang"]),
    ("皇甫", ["huang", "fu"]),
    ("令狐", ["ling", "hu"]),
    ("宇文", ["yu", "wen"]),
    ("慕容", ["mu", "rong"]),
    ("公孙", ["gong", "sun"]),
    ("夏侯", ["xia", "hou"]),
    ("轩辕", ["xuan", "yuan"]),
    ("呼延", ["hu", "yan"]),
    ("端木", ["duan", "mu"]),
    ("独孤", ["du", "gu"]),
    ("南宫", ["nan", "gong"]),
    ("西门", ["xi", "men"]),
    ("闻人", ["wen", "ren"]),
    ("赫连", ["he", "lian"]),
    ("拓跋", ["tuo", "ba"]),
    ("钟离", ["zhong", "li"]),
    ("百里", ["bai", "li"]),
    ("申屠", ["shen", "tu"]),
    ("太史", ["tai", "shi"]),
    ("鲜于", ["xian", "yu"]),
    ("乐正", ["yue", "zheng"]),
    ("公羊", ["gong", "yang"]),
    ("左丘", ["zuo", "qiu"]),
];

/// Words frequent in company and place names whose per-character reading is
/// wrong (银行 is not yinxing). Matched on consecutive characters anywhere.
const PHRASES: &[(&str, &[&str])] = &[
    ("银行", &["yin", "hang"]),
    ("分行", &["fen", "hang"]),
    ("支行", &["zhi", "hang"]),
    ("总行", &["zong", "hang"]),
    ("商行", &["shang", "hang"]),
    ("车行", &["che", "hang"]),
    ("琴行", &["qin", "hang"]),
    ("行业", &["hang", "ye"]),
    ("重庆", &["chong", "qing"]),
    ("长沙", &["chang", "sha"]),
    ("长春", &["chang", "chun"]),
    ("长城", &["chang", "cheng"]),
    ("长江", &["chang", "jiang"]),
    ("长安", &["chang", "an"]),
    ("长治", &["chang", "zhi"]),
    ("厦门", &["xia", "men"]),
    ("大厦", &["da", "sha"]),
    ("成都", &["cheng", "du"]),
    ("首都", &["shou", "du"]),
    ("都市", &["du", "shi"]),
    ("东莞", &["dong", "guan"]),
    ("西藏", &["xi", "zang"]),
    ("朝阳", &["chao", "yang"]),
    ("宿迁", &["su", "qian"]),
    ("蚌埠", &["beng", "bu"]),
    ("六安", &["lu", "an"]),
    ("乐山", &["le", "shan"]),
    ("乐清", &["yue", "qing"]),
    ("音乐", &["yin", "yue"]),
    ("快乐", &["kuai", "le"]),
    ("会计", &["kuai", "ji"]),
    ("单位", &["dan", "wei"]),
    ("家居", &["jia", "ju"]),
    ("供应", &["gong", "ying"]),
    ("调查", &["diao", "cha"]),
    ("数据", &["shu", "ju"]),
    ("和平", &["he", "ping"]),
    ("传媒", &["chuan", "mei"]),
    ("重工", &["zhong", "gong"]),
    ("地产", &["di", "chan"]),
];

/// CJK ideographs (with extensions and compatibility forms), 〇 and 々, kana
/// and Hangul: scripts written without spaces, so they are cut into n-grams.
/// Only letters: kana punctuation such as `・` would be a separator to the
/// database tokenizers and must not become a term.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3005}' | '\u{3007}'
        | '\u{3041}'..='\u{3096}'
        | '\u{309D}'..='\u{309F}'
        | '\u{30A1}'..='\u{30FA}'
        | '\u{30FC}'..='\u{30FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{323AF}')
}

/// A Latin letter or digit folded to `[a-z0-9]` (é → e), or `None`.
fn fold_latin(c: char) -> Option<char> {
    if c.is_ascii_alphanumeric() {
        return Some(c.to_ascii_lowercase());
    }
    if !c.is_alphabetic() {
        return None;
    }
    let mut parts = std::iter::once(c).nfd();
    let base = parts.next()?;
    (base.is_ascii_alphabetic() && parts.all(is_combining_mark)).then(|| base.to_ascii_lowercase())
}

/// A run of text that yields terms: a Latin/digit word or a CJK run.
#[derive(Debug, PartialEq)]
enum Segment {
    Word(String),
    Cjk(Vec<char>),
}

/// Splits normalised text into words and CJK runs. Punctuation ends both;
/// whitespace ends a word but not a CJK run, since a space inside a Chinese
/// name (`张 三`) is a typing accident, not a word boundary.
fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut cjk: Vec<char> = Vec::new();
    fn flush_word(word: &mut String, out: &mut Vec<Segment>) {
        if !word.is_empty() {
            out.push(Segment::Word(std::mem::take(word)));
        }
    }
    fn flush_cjk(cjk: &mut Vec<char>, out: &mut Vec<Segment>) {
        if !cjk.is_empty() {
            out.push(Segment::Cjk(std::mem::take(cjk)));
        }
    }
    for c in nfkc(text).chars() {
        if is_cjk(c) {
            flush_word(&mut word, &mut out);
            cjk.push(c);
        } else if let Some(l) = fold_latin(c) {
            flush_cjk(&mut cjk, &mut out);
            word.push(l);
        } else if c.is_whitespace() {
            flush_word(&mut word, &mut out);
        } else {
            flush_word(&mut word, &mut out);
            flush_cjk(&mut cjk, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_cjk(&mut cjk, &mut out);
    out
}

/// Characters whose other readings are alive in names and company names,
/// usual reading first. The `pinyin` crate also lists archaic readings for
/// most common characters (王 yu, 明 meng, 英 yang, 司 ci); expanding those
/// would spend the variant budget on spellings nobody types and make `yuming`
/// find 王明, so only the readings listed here are expanded.
const POLYPHONES: &[(char, &[&str])] = &[
    ('长', &["chang", "zhang"]),
    ('行', &["xing", "hang"]),
    ('重', &["zhong", "chong"]),
    ('乐', &["le", "yue"]),
    ('单', &["dan", "shan", "chan"]),
    ('曾', &["zeng", "ceng"]),
    ('解', &["jie", "xie"]),
    ('朝', &["chao", "zhao"]),
    ('都', &["du", "dou"]),
    ('藏', &["cang", "zang"]),
    ('厦', &["xia", "sha"]),
    ('查', &["cha", "zha"]),
    ('区', &["qu", "ou"]),
    ('仇', &["chou", "qiu"]),
    ('朴', &["pu", "piao"]),
    ('覃', &["qin", "tan"]),
    ('传', &["chuan", "zhuan"]),
    ('和', &["he", "huo"]),
    ('还', &["hai", "huan"]),
    ('会', &["hui", "kuai"]),
    ('调', &["tiao", "diao"]),
    ('省', &["sheng", "xing"]),
    ('弹', &["tan", "dan"]),
    ('卜', &["bu", "bo"]),
    ('柏', &["bai", "bo"]),
    ('薄', &["bo", "bao"]),
    ('差', &["cha", "chai"]),
    ('称', &["cheng", "chen"]),
    ('地', &["di", "de"]),
    ('的', &["de", "di"]),
    ('了', &["le", "liao"]),
    ('着', &["zhe", "zhao", "zhuo"]),
    ('便', &["bian", "pian"]),
    ('合', &["he", "ge"]),
    ('石', &["shi", "dan"]),
    ('万', &["wan", "mo"]),
    ('俟', &["si", "qi"]),
    ('尉', &["wei", "yu"]),
    ('蔚', &["wei", "yu"]),
    ('澹', &["dan", "tan"]),
    ('盖', &["gai", "ge"]),
    ('缪', &["miao", "miu", "mou"]),
    ('种', &["zhong", "chong"]),
    ('秘', &["mi", "bi"]),
    ('召', &["zhao", "shao"]),
    ('翟', &["zhai", "di"]),
    ('宿', &["su", "xiu"]),
    ('车', &["che", "ju"]),
    ('能', &["neng", "nai"]),
    ('折', &["zhe", "she"]),
    ('句', &["ju", "gou"]),
    ('员', &["yuan", "yun"]),
    ('繁', &["fan", "po"]),
    ('莘', &["shen", "xin"]),
    ('隗', &["wei", "kui"]),
    ('洗', &["xi", "xian"]),
    ('贾', &["jia", "gu"]),
    ('莞', &["guan", "wan"]),
    ('蚌', &["bang", "beng"]),
    ('番', &["fan", "pan"]),
    ('铅', &["qian", "yan"]),
    ('六', &["liu", "lu"]),
    ('校', &["xiao", "jiao"]),
    ('角', &["jiao", "jue"]),
    ('觉', &["jue", "jiao"]),
    ('率', &["lv", "shuai"]),
    ('绿', &["lv", "lu"]),
    ('降', &["jiang", "xiang"]),
    ('参', &["can", "shen", "cen"]),
    ('系', &["xi", "ji"]),
    ('给', &["gei", "ji"]),
    ('露', &["lu", "lou"]),
    ('血', &["xue", "xie"]),
    ('奇', &["qi", "ji"]),
    ('期', &["qi", "ji"]),
    ('乘', &["cheng", "sheng"]),
    ('似', &["si", "shi"]),
    ('大', &["da", "dai"]),
    ('那', &["na", "nei"]),
    ('数', &["shu", "shuo"]),
    ('强', &["qiang", "jiang"]),
    ('什', &["shen", "shi"]),
    ('佛', &["fo", "fu"]),
    ('堡', &["bao", "pu", "bu"]),
    ('识', &["shi", "zhi"]),
    ('说', &["shuo", "shui", "yue"]),
    ('模', &["mo", "mu"]),
    ('仔', &["zai", "zi"]),
    ('扎', &["zha", "za"]),
    ('塞', &["sai", "se"]),
    ('色', &["se", "shai"]),
    ('阿', &["a", "e"]),
    ('蕃', &["fan", "bo"]),
];

/// The readings of a character to expand, usual one first; ü is written `v`
/// as on a pinyin keyboard, with `u` as a second spelling (吕 lv, lu).
fn readings(c: char) -> Vec<String> {
    if let Some((_, list)) = POLYPHONES.iter().find(|(p, _)| *p == c) {
        return list.iter().map(|r| r.to_string()).collect();
    }
    let Some(first) = c.to_pinyin().map(|p| p.plain()) else {
        return Vec::new();
    };
    let spelled: String = first
        .chars()
        .filter_map(|ch| match ch {
            'ü' => Some('v'),
            'ê' => Some('e'),
            'a'..='z' => Some(ch),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    if !spelled.is_empty() {
        out.push(spelled);
    }
    if first.contains('ü') {
        out.push(first.replace('ü', "u"));
    }
    out
}

/// One position of a name's pinyin: the alternatives for a Han character, or
/// a Latin/digit word that passes through as itself.
struct Unit {
    readings: Vec<String>,
    /// Latin words go into the initials whole (`3M中国` → `3mzg`).
    whole_in_initials: bool,
    han: Option<char>,
}

fn units(text: &str, is_person_name: bool) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    for seg in segments(text) {
        match seg {
            Segment::Word(w) => out.push(Unit {
                readings: vec![w],
                whole_in_initials: true,
                han: None,
            }),
            Segment::Cjk(chars) => {
                for c in chars.into_iter().take(MAX_PINYIN_UNITS) {
                    let r = readings(c);
                    // Kana, Hangul and rare ideographs have no pinyin.
                    if !r.is_empty() {
                        out.push(Unit {
                            readings: r,
                            whole_in_initials: false,
                            han: Some(c),
                        });
                    }
                }
            }
        }
        if out.len() >= MAX_PINYIN_UNITS {
            break;
        }
    }
    out.truncate(MAX_PINYIN_UNITS);
    apply_phrases(&mut out);
    if is_person_name {
        apply_surname(&mut out);
    }
    out
}

fn fix(unit: &mut Unit, reading: &str) {
    unit.readings = vec![reading.to_string()];
}

fn apply_phrases(units: &mut [Unit]) {
    for i in 0..units.len().saturating_sub(1) {
        let (Some(a), Some(b)) = (units[i].han, units[i + 1].han) else {
            continue;
        };
        for (phrase, readings) in PHRASES {
            let mut pc = phrase.chars();
            if pc.next() == Some(a) && pc.next() == Some(b) {
                fix(&mut units[i], readings[0]);
                fix(&mut units[i + 1], readings[1]);
            }
        }
    }
}

fn apply_surname(units: &mut [Unit]) {
    let first = units.first().and_then(|u| u.han);
    let second = units.get(1).and_then(|u| u.han);
    let Some(first) = first else { return };
    if let Some(second) = second {
        for (name, readings) in COMPOUND_SURNAMES {
            let mut nc = name.chars();
            if nc.next() == Some(first) && nc.next() == Some(second) {
                fix(&mut units[0], readings[0]);
                fix(&mut units[1], readings[1]);
                return;
            }
        }
    }
    if let Some((_, reading)) = SURNAMES.iter().find(|(c, _)| *c == first) {
        fix(&mut units[0], reading);
    }
}

/// Up to `cap` choices of one reading per unit: the usual reading of every
/// character first, then spellings that change one character, then two…, so
/// the cap drops the least likely combinations.
fn variants(units: &[Unit], cap: usize) -> Vec<Vec<usize>> {
    let poly: Vec<usize> = (0..units.len())
        .filter(|&i| units[i].readings.len() > 1)
        .collect();
    let mut out = vec![vec![0; units.len()]];
    let mut cur = vec![0; units.len()];
    for k in 1..=poly.len() {
        if out.len() >= cap {
            break;
        }
        changes(units, &poly, 0, k, &mut cur, &mut out, cap);
    }
    out.truncate(cap);
    out
}

/// Adds every choice that changes exactly `k` more of `poly[start..]`.
fn changes(
    units: &[Unit],
    poly: &[usize],
    start: usize,
    k: usize,
    cur: &mut Vec<usize>,
    out: &mut Vec<Vec<usize>>,
    cap: usize,
) {
    if k == 0 {
        out.push(cur.clone());
        return;
    }
    for p in start..poly.len() {
        let u = poly[p];
        for alt in 1..units[u].readings.len() {
            if out.len() >= cap {
                return;
            }
            cur[u] = alt;
            changes(units, poly, p + 1, k - 1, cur, out, cap);
        }
        cur[u] = 0;
    }
}

fn spell(units: &[Unit], choice: &[usize], initials: bool) -> String {
    let mut s = String::new();
    for (u, &c) in units.iter().zip(choice) {
        let r = &u.readings[c];
        if initials && !u.whole_in_initials {
            s.push_str(&r[..1]);
        } else {
            s.push_str(r);
        }
    }
    s
}

fn push_unique(out: &mut Vec<String>, seen: &mut HashSet<String>, term: String) {
    if !term.is_empty() && seen.insert(term.clone()) {
        out.push(term);
    }
}

/// The terms to index for one name (customer, contact, company), deduplicated:
/// Latin/digit words; CJK unigrams and bigrams; the name's full pinyin and
/// initials (every likely reading, capped); and, from each later character,
/// the pinyin of the rest of the name in its usual reading, so `sanfeng` and
/// `zjtd` (北京字节跳动) are found by prefix too. For person names the surname
/// is read as a surname (单伟 → `shanwei`, `sw`).
pub fn index_terms(text: &str, is_person_name: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for seg in segments(text) {
        match seg {
            Segment::Word(w) => push_unique(&mut out, &mut seen, w),
            Segment::Cjk(chars) => {
                for c in &chars {
                    push_unique(&mut out, &mut seen, c.to_string());
                }
                for pair in chars.windows(2) {
                    push_unique(&mut out, &mut seen, pair.iter().collect());
                }
            }
        }
    }
    let units = units(text, is_person_name);
    // A name without Chinese characters has no pinyin beyond its own words.
    if !units.iter().any(|u| u.han.is_some()) {
        return out;
    }
    for choice in variants(&units, MAX_PINYIN_VARIANTS) {
        push_unique(&mut out, &mut seen, spell(&units, &choice, false));
        push_unique(&mut out, &mut seen, spell(&units, &choice, true));
    }
    let usual = vec![0; units.len()];
    for start in 1..units.len() {
        if units[start].han.is_none() {
            continue;
        }
        let end = (start + MAX_SUFFIX_UNITS).min(units.len());
        let rest = &units[start..end];
        push_unique(&mut out, &mut seen, spell(rest, &usual[start..end], false));
        push_unique(&mut out, &mut seen, spell(rest, &usual[start..end], true));
    }
    out
}

/// One term of a text query. `prefix` terms match any indexed term that
/// starts with `text`; the others must match a term exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryTerm {
    pub text: String,
    pub prefix: bool,
}

/// What a search box query can mean. The caller ORs the exact identifier
/// matches with the text match (all `terms` must match).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryPlan {
    /// E.164 (with `;ext=` if an extension was typed), compared exactly.
    pub phone: Option<String>,
    /// Case-folded e-mail address.
    pub email: Option<String>,
    /// Normalised 18-character ID number.
    pub id_number: Option<String>,
    /// Normalised 统一社会信用代码.
    pub uscc: Option<String>,
    /// Upper-cased candidate customer code.
    pub code: Option<String>,
    pub terms: Vec<QueryTerm>,
}

/// Every code pattern has exactly one sequence part, printed as digits
/// ([`crate::code`]), so a query without a digit (`zs`, `wwm`) is no code and
/// the search skips the code lookup.
fn looks_like_code(s: &str) -> bool {
    (1..=40).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && s.chars().any(|c| c.is_ascii_digit())
}

/// Reads a search box query. Text terms come from the same tokenizer as
/// [`index_terms`], so whatever was indexed can be found.
pub fn plan_query(q: &str) -> QueryPlan {
    let s = nfkc(q);
    if s.is_empty() {
        return QueryPlan::default();
    }
    let mut plan = QueryPlan {
        phone: phone_lookup_key(&s),
        email: s
            .contains('@')
            .then(|| Email::parse("q", &s).ok().map(|e| e.lookup_key()))
            .flatten(),
        id_number: IdNumber::parse("q", &s)
            .ok()
            .map(|i| i.as_str().to_string()),
        uscc: Uscc::parse("q", &s).ok().map(|u| u.as_str().to_string()),
        code: looks_like_code(&s).then(|| s.to_ascii_uppercase()),
        terms: Vec::new(),
    };
    let mut push = |text: String, prefix: bool| {
        let term = QueryTerm { text, prefix };
        if !plan.terms.contains(&term) && plan.terms.len() < MAX_QUERY_TERMS {
            plan.terms.push(term);
        }
    };
    for seg in segments(&s) {
        match seg {
            Segment::Word(w) => push(w, true),
            Segment::Cjk(chars) if chars.len() == 1 => push(chars[0].to_string(), false),
            Segment::Cjk(chars) => {
                for pair in chars.windows(2) {
                    push(pair.iter().collect(), false);
                }
            }
        }
    }
    plan
}

/// True when `term` (one of [`plan_query`]'s) matches one of `index`. This is
/// the contract both databases implement; kept here so tests can state it.
pub fn term_matches(term: &QueryTerm, index: &[String]) -> bool {
    index.iter().any(|t| {
        if term.prefix {
            t.starts_with(&term.text)
        } else {
            *t == term.text
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Index `name`, run `query`, and say whether every term matched.
    fn finds(name: &str, is_person: bool, query: &str) -> bool {
        let index = index_terms(name, is_person);
        let plan = plan_query(query);
        !plan.terms.is_empty() && plan.terms.iter().all(|t| term_matches(t, &index))
    }

    fn check_index(name: &str, is_person: bool, must_have: &[&str], must_not: &[&str]) {
        let terms = index_terms(name, is_person);
        for t in must_have {
            assert!(
                terms.iter().any(|x| x == t),
                "{name}: missing {t:?} in {terms:?}"
            );
        }
        for t in must_not {
            assert!(
                !terms.iter().any(|x| x == t),
                "{name}: unexpected {t:?} in {terms:?}"
            );
        }
    }

    fn assert_alphabet(terms: &[String]) {
        for t in terms {
            assert!(!t.is_empty());
            let ascii = t
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
            let cjk = t.chars().all(is_cjk);
            assert!(
                ascii || cjk,
                "term {t:?} mixes alphabets or has punctuation"
            );
        }
    }

    /// Every reading in the hand-made tables is one the dictionary knows for
    /// that character: catches typos such as `zhnag`.
    #[test]
    fn tables_only_use_real_readings() {
        use pinyin::ToPinyinMulti;
        let known = |c: char, r: &str| {
            c.to_pinyin_multi()
                .map(|m| m.into_iter().any(|p| p.plain().replace('ü', "v") == r))
                .unwrap_or(false)
        };
        for (c, list) in POLYPHONES {
            assert!(list.len() > 1, "{c}");
            for r in *list {
                assert!(known(*c, r), "{c} {r}");
            }
        }
        for (c, r) in SURNAMES {
            assert!(known(*c, r), "{c} {r}");
        }
        for (name, rs) in COMPOUND_SURNAMES {
            for (c, r) in name.chars().zip(rs) {
                assert!(known(c, r), "{name} {r}");
            }
        }
        for (word, rs) in PHRASES {
            assert_eq!(word.chars().count(), rs.len(), "{word}");
            for (c, r) in word.chars().zip(rs.iter()) {
                assert!(known(c, r), "{word} {r}");
            }
        }
    }

    #[test]
    fn zhang_san_by_pinyin_prefix() {
        for q in [
            "zs",
            "zhangs",
            "zhangsan",
            "ZS",
            "ｚｓ",
            "zhang san",
            "张",
            "张三",
            "三",
        ] {
            assert!(finds("张三", true, q), "{q}");
        }
        for q in ["zs", "zhangs", "zhangsan"] {
            let plan = plan_query(q);
            assert_eq!(
                plan.terms,
                vec![QueryTerm {
                    text: q.to_string(),
                    prefix: true
                }]
            );
            assert!(index_terms("张三", true).iter().any(|t| t.starts_with(q)));
        }
        assert!(!finds("张三", true, "ls"));
        assert!(!finds("张三", true, "李四"));
        check_index("张三", true, &["张", "三", "张三", "zhangsan", "zs"], &[]);
    }

    #[test]
    fn cjk_bigrams_find_substrings() {
        let plan = plan_query("张三");
        assert_eq!(
            plan.terms,
            vec![QueryTerm {
                text: "张三".into(),
                prefix: false
            }]
        );
        assert!(index_terms("张三丰", true).contains(&"张三".to_string()));
        assert!(finds("张三丰", true, "张三"));
        assert!(finds("张三丰", true, "三丰"));
        assert!(finds("张三丰", true, "sanfeng"));
        assert!(finds("北京字节跳动科技有限公司", false, "字节跳动"));
        assert!(finds("北京字节跳动科技有限公司", false, "zjtd"));
        assert!(finds("北京字节跳动科技有限公司", false, "bjzj"));
        assert!(finds("北京字节跳动科技有限公司", false, "beijingzijie"));
        assert!(!finds("北京字节跳动科技有限公司", false, "跳字"));
        let plan = plan_query("字节跳动");
        let texts: Vec<&str> = plan.terms.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["字节", "节跳", "跳动"]);
        assert!(plan.terms.iter().all(|t| !t.prefix));
    }

    #[test]
    fn surnames_are_read_as_surnames() {
        check_index("单伟", true, &["shanwei", "sw"], &["danwei", "dw"]);
        check_index("曾国藩", true, &["zengguofan", "zgf"], &["cengguofan"]);
        check_index("解缙", true, &["xiejin"], &["jiejin"]);
        check_index("区志伟", true, &["ouzhiwei", "ozw"], &[]);
        check_index("仇英", true, &["qiuying"], &[]);
        check_index("朴树", true, &["piaoshu"], &[]);
        check_index("查良镛", true, &["zhaliangyong"], &[]);
        check_index("覃文", true, &["qinwen"], &[]);
        check_index("万俟云", true, &["moqiyun", "mqy"], &["wansiyun"]);
        check_index("欧阳修", true, &["ouyangxiu", "oyx"], &[]);
        check_index("司马光", true, &["simaguang", "smg"], &["cimaguang"]);
        check_index("单于燕", true, &["chanyuyan"], &["shanyuyan"]);
        check_index("尉迟恭", true, &["yuchigong"], &[]);
        // Not a person: every reading is kept, the usual one included.
        check_index("单伟贸易", false, &["danweimaoyi", "shanweimaoyi"], &[]);
    }

    #[test]
    fn polyphonic_characters_are_expanded_and_capped() {
        // 乐 le/yue in a given name: both readings indexed.
        check_index("张乐", true, &["zhangle", "zhangyue", "zl", "zy"], &[]);
        check_index(
            "长沙银行",
            false,
            &["changshayinhang", "csyh"],
            &["zhangshayinxing"],
        );
        check_index(
            "重庆和平",
            false,
            &["chongqingheping", "cqhp"],
            &["zhongqingheping"],
        );
        // A name full of polyphones still yields at most 8 spellings: the
        // usual reading first, then those that change a single character.
        let name = "和乐行长重朝都藏";
        let u = units(name, false);
        let v = variants(&u, MAX_PINYIN_VARIANTS);
        assert_eq!(v.len(), MAX_PINYIN_VARIANTS);
        assert_eq!(v[0], vec![0; 8]);
        assert!(
            v[1..]
                .iter()
                .all(|c| c.iter().filter(|&&r| r != 0).count() == 1),
            "{v:?}"
        );
        let terms = index_terms(name, false);
        assert!(
            terms.contains(&"helexingchangzhongchaoducang".to_string()),
            "{terms:?}"
        );
        assert!(
            terms.contains(&"huolexingchangzhongchaoducang".to_string()),
            "{terms:?}"
        );
        // Few polyphones: every combination fits under the cap.
        let v = variants(&units("单乐", false), MAX_PINYIN_VARIANTS);
        assert_eq!(v.len(), 3 * 2);
        // ü is typed v (lv), u also accepted.
        check_index("吕布", true, &["lvbu", "lubu", "lb"], &[]);
    }

    #[test]
    fn latin_and_digits_pass_through() {
        check_index(
            "3M中国",
            false,
            &["3m", "中", "国", "中国", "3mzhongguo", "3mzg"],
            &[],
        );
        assert!(finds("3M中国", false, "3mz"));
        assert!(finds("3M中国", false, "3M 中国"));
        check_index(
            "ABC科技有限公司",
            false,
            &["abc", "abckejiyouxiangongsi", "abckjyxgs", "科技"],
            &[],
        );
        assert!(finds("ABC科技有限公司", false, "abckej"));
        assert!(finds("ABC科技有限公司", false, "kjyx"));
        check_index("Café Zhang", true, &["cafe", "zhang"], &["cafezhang"]);
        check_index(
            "（北京）华为技术有限公司",
            false,
            &[
                "北京",
                "华为",
                "beijinghuaweijishuyouxiangongsi",
                "bjhwjsyxgs",
            ],
            &[],
        );
        assert!(finds("（北京）华为技术有限公司", false, "huawei"));
        assert!(finds("（北京）华为技术有限公司", false, "hwjs"));
        check_index("张 三", true, &["张三", "zhangsan"], &[]);
    }

    #[test]
    fn terms_use_one_alphabet() {
        for (name, p) in [
            ("3M中国", false),
            ("O'Brien & Sons, Ltd.", false),
            ("（北京）科技·有限公司【总部】", false),
            ("张三-Ｚｈａｎｇ", true),
            ("吕布", true),
            ("ソニー株式会社", false),
            ("ジョン・スミス", true),
            ("嗯呣", true),
            ("", true),
        ] {
            assert_alphabet(&index_terms(name, p));
        }
        let plan = plan_query("\"张三\" OR zs* -李 'x'");
        let texts: Vec<String> = plan.terms.iter().map(|t| t.text.clone()).collect();
        assert_alphabet(&texts);
        assert_eq!(texts, ["张三", "or", "zs", "李", "x"]);
        assert_eq!(index_terms("O'Brien & Sons", false), ["o", "brien", "sons"]);
    }

    #[test]
    fn phone_queries_share_one_key() {
        let key = Some("+8613800138000".to_string());
        for q in [
            "138 0013 8000",
            "+86 138-0013-8000",
            "８６１３８００１３８０００",
            "13800138000",
        ] {
            assert_eq!(plan_query(q).phone, key, "{q}");
        }
        assert_eq!(
            plan_query("010-62345678转801").phone.as_deref(),
            Some("+861062345678;ext=801")
        );
        assert_eq!(plan_query("张三").phone, None);
        assert_eq!(plan_query("12345").phone, None);
    }

    #[test]
    fn identifier_queries() {
        let plan = plan_query(" Zhang.San@Example.com ");
        assert_eq!(plan.email.as_deref(), Some("zhang.san@example.com"));
        assert_eq!(plan.phone, None);
        assert_eq!(plan.code, None);
        assert_eq!(plan_query("zs").email, None);

        let plan = plan_query("11010519491231002x");
        assert_eq!(plan.id_number.as_deref(), Some("11010519491231002X"));
        assert_eq!(plan.code.as_deref(), Some("11010519491231002X"));

        let plan = plan_query("91350100m000100y43");
        assert_eq!(plan.uscc.as_deref(), Some("91350100M000100Y43"));
        assert_eq!(plan.id_number, None);

        assert_eq!(
            plan_query(" kh-2025_0001 ").code.as_deref(),
            Some("KH-2025_0001")
        );
        assert_eq!(plan_query("张三").code, None);
        assert_eq!(plan_query("a b").code, None);
        assert_eq!(plan_query(&"a".repeat(41)).code, None);
        // No digit, no sequence part: pinyin initials are not codes.
        assert_eq!(plan_query("wwm").code, None);
        assert_eq!(plan_query("KH-ABC").code, None);
        assert_eq!(plan_query("kh7").code.as_deref(), Some("KH7"));
    }

    #[test]
    fn empty_query_plans_nothing() {
        for q in ["", "   ", "\u{3000}", "\t\n"] {
            assert_eq!(plan_query(q), QueryPlan::default());
        }
        assert!(plan_query("!!!").terms.is_empty());
        assert!(index_terms("", false).is_empty());
        assert!(index_terms("、。", true).is_empty());
    }

    #[test]
    fn long_queries_are_capped() {
        let q: String = "张三李四王五赵六钱七孙八周九吴十郑十一".to_string();
        assert_eq!(plan_query(&q).terms.len(), MAX_QUERY_TERMS);
        let long_name = "中".repeat(500);
        let terms = index_terms(&long_name, false);
        assert!(terms.iter().all(|t| t.len() <= 6 * MAX_PINYIN_UNITS));
    }
}
