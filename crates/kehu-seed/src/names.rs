//! Name material: surnames with their frequency and reading, given-name characters,
//! trade-name (字号) characters, each with the pinyin the generator needs for e-mail
//! addresses and web domains.

use std::sync::LazyLock;

use crate::pick::Weighted;

/// (surname, pinyin as a surname, weight ≈ per-ten-thousand share of the population).
/// Weights follow the published national rankings closely enough for realistic
/// clustering (王/李/张 ≈ 7 % each). Polyphonic surnames carry their surname reading
/// (单 shan, 曾 zeng, 解 xie, 区 ou, 仇 qiu, 朴 piao, 查 zha, 盖 ge), which is exactly
/// what pinyin search must get right.
#[rustfmt::skip]
static SURNAMES: &[((&str, &str), u32)] = &[
    (("王", "wang"), 710), (("李", "li"), 700), (("张", "zhang"), 650), (("刘", "liu"), 540),
    (("陈", "chen"), 450), (("杨", "yang"), 310), (("黄", "huang"), 230), (("赵", "zhao"), 220),
    (("吴", "wu"), 200), (("周", "zhou"), 190), (("徐", "xu"), 160), (("孙", "sun"), 150),
    (("马", "ma"), 150), (("朱", "zhu"), 130), (("胡", "hu"), 130), (("郭", "guo"), 120),
    (("何", "he"), 120), (("林", "lin"), 110), (("高", "gao"), 110), (("罗", "luo"), 100),
    (("郑", "zheng"), 95), (("梁", "liang"), 90), (("谢", "xie"), 85), (("宋", "song"), 80),
    (("唐", "tang"), 78), (("许", "xu"), 75), (("韩", "han"), 72), (("冯", "feng"), 70),
    (("邓", "deng"), 68), (("曹", "cao"), 66), (("彭", "peng"), 63), (("曾", "zeng"), 62),
    (("肖", "xiao"), 60), (("田", "tian"), 58), (("董", "dong"), 56), (("袁", "yuan"), 54),
    (("潘", "pan"), 52), (("于", "yu"), 50), (("蒋", "jiang"), 50), (("蔡", "cai"), 49),
    (("余", "yu"), 48), (("杜", "du"), 47), (("叶", "ye"), 46), (("程", "cheng"), 45),
    (("苏", "su"), 44), (("魏", "wei"), 43), (("吕", "lv"), 42), (("丁", "ding"), 41),
    (("任", "ren"), 40), (("沈", "shen"), 39), (("姚", "yao"), 38), (("卢", "lu"), 37),
    (("姜", "jiang"), 36), (("崔", "cui"), 35), (("钟", "zhong"), 34), (("谭", "tan"), 33),
    (("陆", "lu"), 32), (("汪", "wang"), 31), (("范", "fan"), 30), (("金", "jin"), 30),
    (("石", "shi"), 29), (("廖", "liao"), 28), (("贾", "jia"), 27), (("夏", "xia"), 26),
    (("韦", "wei"), 26), (("付", "fu"), 25), (("方", "fang"), 25), (("白", "bai"), 24),
    (("邹", "zou"), 24), (("孟", "meng"), 23), (("熊", "xiong"), 23), (("秦", "qin"), 22),
    (("邱", "qiu"), 22), (("江", "jiang"), 21), (("尹", "yin"), 21), (("薛", "xue"), 20),
    (("闫", "yan"), 20), (("段", "duan"), 19), (("雷", "lei"), 19), (("侯", "hou"), 18),
    (("龙", "long"), 18), (("史", "shi"), 17), (("陶", "tao"), 17), (("黎", "li"), 16),
    (("贺", "he"), 16), (("顾", "gu"), 15), (("毛", "mao"), 15), (("郝", "hao"), 14),
    (("龚", "gong"), 14), (("邵", "shao"), 14), (("万", "wan"), 13), (("钱", "qian"), 13),
    (("严", "yan"), 12), (("覃", "qin"), 12), (("武", "wu"), 12), (("戴", "dai"), 12),
    (("莫", "mo"), 11), (("孔", "kong"), 11), (("向", "xiang"), 10), (("汤", "tang"), 10),
    // Polyphonic surnames: rare, but the classic pinyin-search traps.
    (("单", "shan"), 3), (("解", "xie"), 3), (("仇", "qiu"), 2), (("朴", "piao"), 2),
    (("查", "zha"), 2), (("区", "ou"), 1), (("盖", "ge"), 1),
    // Compound surnames.
    (("欧阳", "ouyang"), 4), (("上官", "shangguan"), 1), (("司马", "sima"), 1),
    (("诸葛", "zhuge"), 1), (("司徒", "situ"), 1), (("东方", "dongfang"), 1),
    (("皇甫", "huangfu"), 1), (("令狐", "linghu"), 1), (("慕容", "murong"), 1),
    (("夏侯", "xiahou"), 1),
];

/// Given-name characters by gender. Names born before 1980 lean on the first part of
/// each list (建国, 秀英…), later ones on the second part (子轩, 欣怡…).
#[rustfmt::skip]
static MALE_OLDER: &[(&str, &str)] = &[
    ("建", "jian"), ("国", "guo"), ("军", "jun"), ("强", "qiang"), ("伟", "wei"), ("明", "ming"),
    ("华", "hua"), ("平", "ping"), ("志", "zhi"), ("勇", "yong"), ("刚", "gang"), ("林", "lin"),
    ("海", "hai"), ("东", "dong"), ("兵", "bing"), ("文", "wen"), ("立", "li"), ("永", "yong"),
    ("德", "de"), ("庆", "qing"), ("福", "fu"), ("生", "sheng"), ("荣", "rong"), ("春", "chun"),
    ("新", "xin"), ("忠", "zhong"), ("红", "hong"), ("卫", "wei"), ("斌", "bin"), ("波", "bo"),
];
#[rustfmt::skip]
static MALE_YOUNGER: &[(&str, &str)] = &[
    ("磊", "lei"), ("杰", "jie"), ("涛", "tao"), ("超", "chao"), ("鹏", "peng"), ("辉", "hui"),
    ("浩", "hao"), ("俊", "jun"), ("峰", "feng"), ("亮", "liang"), ("凯", "kai"), ("龙", "long"),
    ("飞", "fei"), ("健", "jian"), ("成", "cheng"), ("昊", "hao"), ("轩", "xuan"), ("睿", "rui"),
    ("泽", "ze"), ("宇", "yu"), ("博", "bo"), ("鑫", "xin"), ("航", "hang"), ("铭", "ming"),
    ("晨", "chen"), ("阳", "yang"), ("毅", "yi"), ("锋", "feng"), ("旭", "xu"), ("家", "jia"),
    ("嘉", "jia"), ("子", "zi"), ("梓", "zi"), ("逸", "yi"), ("一", "yi"), ("天", "tian"),
    ("景", "jing"), ("瑞", "rui"), ("诚", "cheng"), ("哲", "zhe"), ("彬", "bin"), ("源", "yuan"),
    ("晓", "xiao"), ("振", "zhen"), ("伟", "wei"),
];
#[rustfmt::skip]
static FEMALE_OLDER: &[(&str, &str)] = &[
    ("秀", "xiu"), ("英", "ying"), ("桂", "gui"), ("兰", "lan"), ("凤", "feng"), ("芳", "fang"),
    ("红", "hong"), ("梅", "mei"), ("萍", "ping"), ("玉", "yu"), ("珍", "zhen"), ("华", "hua"),
    ("丽", "li"), ("艳", "yan"), ("霞", "xia"), ("琴", "qin"), ("云", "yun"), ("敏", "min"),
    ("静", "jing"), ("娟", "juan"), ("燕", "yan"), ("淑", "shu"), ("春", "chun"), ("莲", "lian"),
    ("素", "su"),
];
#[rustfmt::skip]
static FEMALE_YOUNGER: &[(&str, &str)] = &[
    ("娜", "na"), ("婷", "ting"), ("雪", "xue"), ("慧", "hui"), ("颖", "ying"), ("琳", "lin"),
    ("晶", "jing"), ("欣", "xin"), ("怡", "yi"), ("佳", "jia"), ("悦", "yue"), ("梦", "meng"),
    ("雨", "yu"), ("萱", "xuan"), ("思", "si"), ("诗", "shi"), ("琪", "qi"), ("馨", "xin"),
    ("美", "mei"), ("洁", "jie"), ("倩", "qian"), ("璐", "lu"), ("瑶", "yao"), ("可", "ke"),
    ("莉", "li"), ("月", "yue"), ("蕾", "lei"), ("薇", "wei"), ("然", "ran"), ("若", "ruo"),
    ("安", "an"), ("宁", "ning"), ("欢", "huan"), ("雯", "wen"), ("彤", "tong"), ("菲", "fei"),
    ("露", "lu"), ("珊", "shan"), ("晓", "xiao"), ("子", "zi"), ("梓", "zi"), ("涵", "han"),
    ("一", "yi"), ("嘉", "jia"), ("静", "jing"),
];

/// Characters for trade names (字号): auspicious, business-like, unambiguous readings.
#[rustfmt::skip]
pub(crate) static TRADE_CHARS: &[(&str, &str)] = &[
    ("华", "hua"), ("信", "xin"), ("云", "yun"), ("帆", "fan"), ("恒", "heng"), ("瑞", "rui"),
    ("达", "da"), ("博", "bo"), ("创", "chuang"), ("新", "xin"), ("鑫", "xin"), ("盛", "sheng"),
    ("泰", "tai"), ("宏", "hong"), ("远", "yuan"), ("景", "jing"), ("金", "jin"), ("汇", "hui"),
    ("联", "lian"), ("通", "tong"), ("安", "an"), ("康", "kang"), ("嘉", "jia"), ("德", "de"),
    ("鼎", "ding"), ("诚", "cheng"), ("天", "tian"), ("海", "hai"), ("中", "zhong"), ("立", "li"),
    ("锦", "jin"), ("润", "run"), ("合", "he"), ("众", "zhong"), ("佳", "jia"), ("科", "ke"),
    ("易", "yi"), ("优", "you"), ("星", "xing"), ("智", "zhi"), ("领", "ling"), ("永", "yong"),
    ("正", "zheng"), ("和", "he"), ("美", "mei"), ("旭", "xu"), ("晨", "chen"), ("蓝", "lan"),
    ("青", "qing"), ("峰", "feng"), ("腾", "teng"), ("飞", "fei"), ("龙", "long"), ("凯", "kai"),
    ("展", "zhan"), ("迅", "xun"), ("兴", "xing"), ("源", "yuan"), ("宇", "yu"), ("辰", "chen"),
    ("亿", "yi"), ("万", "wan"), ("百", "bai"), ("同", "tong"), ("力", "li"), ("丰", "feng"),
    ("弘", "hong"), ("昊", "hao"), ("睿", "rui"), ("思", "si"), ("维", "wei"), ("拓", "tuo"),
    ("卓", "zhuo"), ("越", "yue"), ("航", "hang"), ("驰", "chi"), ("启", "qi"), ("明", "ming"),
    ("光", "guang"), ("晟", "sheng"), ("昌", "chang"), ("隆", "long"), ("富", "fu"),
    ("祥", "xiang"), ("顺", "shun"), ("利", "li"), ("益", "yi"), ("森", "sen"), ("林", "lin"),
    ("泽", "ze"), ("浩", "hao"), ("铭", "ming"), ("东", "dong"), ("南", "nan"), ("北", "bei"),
    ("尚", "shang"), ("品", "pin"), ("奥", "ao"), ("捷", "jie"), ("邦", "bang"),
];

/// Homophones and look-alikes used to make near-duplicate names (typos at entry).
#[rustfmt::skip]
pub(crate) static SIMILAR: &[(&str, &str)] = &[
    ("伟", "玮"), ("静", "婧"), ("丽", "莉"), ("明", "铭"), ("军", "君"), ("玲", "琳"),
    ("华", "桦"), ("慧", "惠"), ("红", "虹"), ("芳", "方"), ("娜", "纳"), ("杰", "洁"),
    ("磊", "垒"), ("涛", "韬"), ("婷", "亭"), ("晨", "辰"), ("鑫", "新"), ("凯", "恺"),
    ("峰", "锋"), ("辉", "晖"), ("浩", "皓"), ("宇", "羽"), ("欣", "昕"), ("怡", "仪"),
    ("雪", "学"), ("颖", "莹"), ("敏", "民"), ("强", "墙"), ("勇", "永"), ("波", "博"),
];

pub(crate) static SURNAME_TABLE: LazyLock<Weighted<(&'static str, &'static str)>> =
    LazyLock::new(|| Weighted::new(SURNAMES));

/// Characters with their readings.
pub(crate) type Readings = &'static [(&'static str, &'static str)];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Generation {
    Older,
    Younger,
}

/// The pools to draw given-name characters from: the generation's own pool most of
/// the time, the other now and then (names do not switch overnight).
pub(crate) fn given_pools(female: bool, generation: Generation) -> (Readings, Readings) {
    match (female, generation) {
        (false, Generation::Older) => (MALE_OLDER, MALE_YOUNGER),
        (false, Generation::Younger) => (MALE_YOUNGER, MALE_OLDER),
        (true, Generation::Older) => (FEMALE_OLDER, FEMALE_YOUNGER),
        (true, Generation::Younger) => (FEMALE_YOUNGER, FEMALE_OLDER),
    }
}

/// Every character the generator can put in a person's given name, with its reading.
#[cfg(test)]
pub(crate) fn all_given() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    MALE_OLDER
        .iter()
        .chain(MALE_YOUNGER)
        .chain(FEMALE_OLDER)
        .chain(FEMALE_YOUNGER)
}

#[cfg(test)]
pub(crate) fn all_surnames() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    SURNAMES.iter().map(|(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_has_a_plain_lowercase_reading() {
        let readings = all_given().chain(all_surnames()).chain(TRADE_CHARS.iter());
        for (han, py) in readings {
            assert!(!han.is_empty() && !han.is_ascii(), "{han}");
            assert!(
                !py.is_empty() && py.bytes().all(|b| b.is_ascii_lowercase()),
                "{han} {py}"
            );
        }
        assert!(SIMILAR.iter().all(|(a, b)| a != b));
    }
}
