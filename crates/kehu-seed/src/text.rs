//! Word lists: industries, occupations, lead sources, channels, notes, address parts.
//! Weights are rough shares among a Chinese SMB's customers, not statistics.

use std::sync::LazyLock;

use crate::pick::Weighted;

/// (industry, business-scope words used in company names). Weighted by `INDUSTRY_WEIGHTS`.
#[rustfmt::skip]
pub(crate) static INDUSTRIES: &[(&str, &[&str])] = &[
    ("制造业", &["机械制造", "精密机械", "电子", "五金制品", "塑胶制品", "模具", "包装材料",
        "新材料", "自动化设备", "服装", "家具", "照明电器"]),
    ("批发零售", &["贸易", "商贸", "商业", "百货", "进出口", "供应链管理", "电子商务", "日用品"]),
    ("信息技术", &["科技", "信息技术", "网络科技", "软件", "数据科技", "智能科技", "电子科技",
        "信息科技"]),
    ("餐饮", &["餐饮管理", "餐饮服务", "食品", "酒店管理", "餐饮连锁"]),
    ("教育", &["教育科技", "教育咨询", "文化传播", "培训", "职业技能培训"]),
    ("医疗", &["医疗器械", "医药", "生物科技", "健康管理", "医疗科技"]),
    ("建筑", &["建筑工程", "建设工程", "装饰工程", "建材", "工程设计", "园林绿化"]),
    ("物流", &["物流", "供应链", "货运代理", "运输", "仓储服务", "国际物流"]),
    ("专业服务", &["企业管理咨询", "财务咨询", "会计服务", "知识产权代理", "人力资源",
        "法律咨询"]),
    ("文化传媒", &["文化传媒", "广告", "传媒", "影视文化", "会展服务"]),
    ("房地产", &["房地产开发", "物业管理", "房地产经纪", "置业"]),
    ("农业", &["农业科技", "农产品", "生态农业", "农业发展"]),
    ("汽车", &["汽车服务", "汽车销售", "汽车配件", "新能源汽车"]),
];

#[rustfmt::skip]
static INDUSTRY_WEIGHTS: &[(usize, u32)] = &[
    (0, 20), (1, 20), (2, 16), (3, 8), (4, 6), (5, 6), (6, 8), (7, 6), (8, 5), (9, 4), (10, 3),
    (11, 2), (12, 2),
];

pub(crate) static INDUSTRY_TABLE: LazyLock<Weighted<usize>> =
    LazyLock::new(|| Weighted::new(INDUSTRY_WEIGHTS));

/// Words for individual businesses (个体工商户) by industry, e.g. "南山区华信商行".
pub(crate) fn shop_words(industry: usize) -> &'static [&'static str] {
    match industry {
        1 => &["商行", "经营部", "便利店", "超市"],
        3 => &["餐馆", "饭店", "小吃店", "茶餐厅"],
        12 => &["汽车维修店", "汽配行"],
        0 => &["加工厂", "五金店"],
        _ => &["工作室", "服务部", "商行"],
    }
}

/// An occupation: (title, index into `INDUSTRIES` of the usual employer or `None` for
/// "any", whether such people have an employer at all).
pub(crate) type Occupation = (&'static str, Option<usize>, bool);

/// Occupations of person customers.
#[rustfmt::skip]
pub(crate) static OCCUPATIONS: &[(Occupation, u32)] = &[
    (("工程师", None, true), 12), (("程序员", Some(2), true), 8), (("教师", Some(4), true), 8),
    (("医生", Some(5), true), 4), (("护士", Some(5), true), 3), (("会计", None, true), 8),
    (("销售经理", None, true), 8), (("行政专员", None, true), 6), (("人力资源", None, true), 4),
    (("设计师", None, true), 5), (("律师", Some(8), true), 2), (("采购专员", None, true), 5),
    (("项目经理", None, true), 5), (("财务经理", None, true), 3), (("市场专员", None, true), 4),
    (("店长", Some(1), true), 3), (("司机", Some(7), true), 3), (("厨师", Some(3), true), 2),
    (("公务员", None, false), 4), (("个体经营者", None, false), 9), (("自由职业", None, false), 5),
    (("企业主", None, false), 5), (("退休", None, false), 4),
];

pub(crate) static OCCUPATION_TABLE: LazyLock<Weighted<Occupation>> =
    LazyLock::new(|| Weighted::new(OCCUPATIONS));

#[rustfmt::skip]
static PERSON_SOURCES: &[(&str, u32)] = &[
    ("老客户介绍", 16), ("微信", 16), ("门店到访", 12), ("线上广告", 10), ("抖音", 8), ("官网", 8),
    ("电话营销", 6), ("地推", 6), ("公众号", 6), ("百度推广", 5), ("展会", 3),
];
#[rustfmt::skip]
static COMPANY_SOURCES: &[(&str, u32)] = &[
    ("官网", 14), ("展会", 14), ("老客户介绍", 16), ("电话营销", 14), ("线上广告", 8), ("微信", 8),
    ("百度推广", 8), ("地推", 5), ("公众号", 4), ("招投标", 5), ("合作伙伴", 4),
];
pub(crate) static PERSON_SOURCE_TABLE: LazyLock<Weighted<&'static str>> =
    LazyLock::new(|| Weighted::new(PERSON_SOURCES));
pub(crate) static COMPANY_SOURCE_TABLE: LazyLock<Weighted<&'static str>> =
    LazyLock::new(|| Weighted::new(COMPANY_SOURCES));

/// The seven order channels of the brief.
#[rustfmt::skip]
pub const CHANNELS: [&str; 7] = [
    "门店", "线上商城", "电话", "微信", "企业微信", "展会", "经销商",
];

#[rustfmt::skip]
static PERSON_CHANNELS: &[(usize, u32)] = &[
    (0, 30), (1, 30), (2, 10), (3, 25), (4, 4), (5, 1), (6, 0),
];
#[rustfmt::skip]
static COMPANY_CHANNELS: &[(usize, u32)] = &[
    (0, 7), (1, 15), (2, 25), (3, 5), (4, 25), (5, 8), (6, 15),
];
pub(crate) static PERSON_CHANNEL_TABLE: LazyLock<Weighted<usize>> =
    LazyLock::new(|| Weighted::new(PERSON_CHANNELS));
pub(crate) static COMPANY_CHANNEL_TABLE: LazyLock<Weighted<usize>> =
    LazyLock::new(|| Weighted::new(COMPANY_CHANNELS));

/// Contact job titles; the first block is what a primary contact usually is.
#[rustfmt::skip]
pub(crate) static PRIMARY_TITLES: &[&str] = &[
    "总经理", "采购经理", "行政主管", "老板", "负责人",
];
#[rustfmt::skip]
pub(crate) static OTHER_TITLES: &[&str] = &[
    "财务经理", "技术总监", "销售总监", "法人代表", "采购专员", "办公室主任", "IT主管", "董事长",
    "副总经理", "出纳", "前台", "项目经理", "仓库主管",
];

pub(crate) static PERSON_NOTES: &[&str] = &[
    "老客户介绍，关注价格",
    "周末方便联系",
    "需要开具电子发票",
    "对售后服务要求高",
    "喜欢微信沟通，不要打电话",
    "上次投诉过配送慢，已处理",
    "有意向购买新电脑，预算五千左右",
    "生日当月可以送小礼品",
    "只在晚上七点后接电话",
    "家里有两台打印机需要保养",
    "对茶叶礼盒感兴趣",
    "会员积分较多，可推荐兑换",
];
pub(crate) static COMPANY_NOTES: &[&str] = &[
    "需要开具增值税专用发票",
    "年底有集中采购计划",
    "付款周期月结30天",
    "采购需走招投标流程",
    "决策人是总经理，采购只负责比价",
    "新办公室装修，可能需要整套家具",
    "对接人离职，需重新建立联系",
    "有分公司在外地，可拓展",
    "要求上门安装调试",
    "价格敏感，竞品报价更低",
    "IT外包到期，可推荐运维服务包",
    "已签年度框架协议",
    "发票抬头与公司名称一致",
    "送货需提前预约，园区限时进货",
];

/// Road-name stems: "人民" + 路 / 大道 / 街, optionally with a direction ("中山北路").
#[rustfmt::skip]
pub(crate) static ROAD_STEMS: &[&str] = &[
    "人民", "解放", "中山", "建设", "和平", "新华", "长江", "黄河", "文化", "学府", "科技", "高新",
    "滨江", "东风", "青年", "迎宾", "世纪", "工业", "创业", "发展", "朝阳", "光明", "胜利", "团结",
    "幸福", "湖滨", "花园", "府前", "体育", "车站", "友谊", "振兴", "复兴", "延安", "红旗", "新城",
    "科技园", "金融", "商业", "滨海", "环城", "站前", "园林", "星光", "梧桐", "锦绣", "南湖",
    "翠微", "凤凰", "民生",
];
#[rustfmt::skip]
pub(crate) static ROAD_TYPES: &[(&str, u32)] = &[
    ("路", 60), ("大道", 15), ("街", 15), ("大街", 10),
];
pub(crate) static ROAD_TYPE_TABLE: LazyLock<Weighted<&'static str>> =
    LazyLock::new(|| Weighted::new(ROAD_TYPES));
#[rustfmt::skip]
pub(crate) static DIRECTIONS: &[&str] = &[
    "东", "西", "南", "北", "中",
];

/// Housing estates: first part + second part ("阳光" + "花园").
#[rustfmt::skip]
pub(crate) static ESTATE_FIRST: &[&str] = &[
    "阳光", "碧水", "金色", "锦绣", "翠湖", "龙湖", "万科", "保利", "绿地", "华润", "世纪", "幸福",
    "和谐", "明珠", "东方", "书香", "御景", "名仕", "紫金", "滨江", "金地", "中海",
];
#[rustfmt::skip]
pub(crate) static ESTATE_SECOND: &[&str] = &[
    "花园", "家园", "小区", "公寓", "雅苑", "华庭", "名苑", "新城", "佳园", "城", "府", "公馆",
];
/// Office buildings and parks: a two-character name + one of these.
#[rustfmt::skip]
pub(crate) static OFFICE_KINDS: &[&str] = &[
    "大厦", "中心", "广场", "国际大厦", "商务中心", "写字楼",
];
#[rustfmt::skip]
pub(crate) static PARK_KINDS: &[&str] = &[
    "科技园", "工业园", "创业园", "产业园", "软件园",
];

/// Free-mail providers for people: (domain, weight). "qq.com" and "139.com" get special
/// local parts (QQ number, mobile number).
#[rustfmt::skip]
pub(crate) static PERSON_MAIL: &[(&str, u32)] = &[
    ("qq.com", 40), ("163.com", 22), ("126.com", 10), ("sina.com", 5), ("139.com", 5),
    ("foxmail.com", 3), ("outlook.com", 4), ("hotmail.com", 2), ("gmail.com", 3), ("sohu.com", 3),
    ("yeah.net", 2), ("aliyun.com", 1),
];
pub(crate) static PERSON_MAIL_TABLE: LazyLock<Weighted<&'static str>> =
    LazyLock::new(|| Weighted::new(PERSON_MAIL));

/// Role mailboxes of a company's own domain.
#[rustfmt::skip]
pub(crate) static ROLE_MAILBOXES: &[&str] = &[
    "info", "sales", "service", "contact", "admin", "hr",
];
#[rustfmt::skip]
pub(crate) static COMPANY_TLDS: &[&str] = &[
    "com", "cn", "com.cn", "net",
];
