//! User-visible text. The domain and the API speak in stable codes
//! (`phone.invalid`); this module turns a code and its parameters into a
//! sentence in the reader's language. zh-CN is the default: Kehu's users are
//! Chinese sales teams, and English is for integrators and admins.

/// A language the user interface is translated into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locale {
    ZhCn,
    En,
}

impl Locale {
    /// Picks the best supported language from an `Accept-Language` header,
    /// honouring `q` weights; anything unsupported or absent means zh-CN.
    pub fn from_accept_language(header: Option<&str>) -> Locale {
        let Some(header) = header else {
            return Locale::ZhCn;
        };
        let mut best: Option<(f32, Locale)> = None;
        for (tag, q) in weighted(header) {
            let tag = tag.to_ascii_lowercase();
            let locale = if tag == "en" || tag.starts_with("en-") {
                Locale::En
            } else if tag == "zh" || tag.starts_with("zh-") {
                Locale::ZhCn
            } else {
                continue;
            };
            // The first of equal weights wins, as the header lists them in
            // order of preference.
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, locale));
            }
        }
        best.map_or(Locale::ZhCn, |(_, l)| l)
    }

    /// The BCP 47 tag, for `Content-Language` and `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }
}

/// The items of an HTTP header listing weighted choices (`Accept-Language`,
/// `Accept-Encoding`): each item's value, trimmed, with its `q` weight (1
/// when absent or unreadable).
pub fn weighted(header: &str) -> impl Iterator<Item = (&str, f32)> {
    header.split(',').map(|item| {
        let mut parts = item.split(';');
        let value = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        (value, q)
    })
}

/// (code, zh-CN, en). `{name}` is replaced by the parameter `name`; `{field}`
/// is the translated field label, supplied by the caller.
const CATALOGUE: &[(&str, &str, &str)] = &[
    // Field rules.
    ("text.required", "请填写{field}", "{field} is required."),
    (
        "text.too_long",
        "{field}不能超过 {max} 个字",
        "{field} must be at most {max} characters.",
    ),
    (
        "phone.invalid",
        "{field}不是有效的电话号码，请填写 11 位手机号或带区号的座机号",
        "{field} is not a valid phone number. Enter a mobile number or a landline with its area code.",
    ),
    (
        "email.invalid",
        "{field}不是有效的邮箱地址",
        "{field} is not a valid email address.",
    ),
    (
        "uscc.length",
        "{field}应为 18 位",
        "{field} must be 18 characters long.",
    ),
    (
        "uscc.charset",
        "{field}含有无效字符：只能用数字和大写字母（不含 I、O、S、V、Z），第 3–8 位须为数字",
        "{field} contains invalid characters: only digits and capital letters except I, O, S, V and Z, with digits in positions 3–8.",
    ),
    (
        "uscc.checksum",
        "{field}校验位不正确，请核对是否填错",
        "The check character of {field} does not match. Please check for typos.",
    ),
    (
        "id_number.length",
        "{field}应为 18 位（最后一位可以是 X）或旧版 15 位数字",
        "{field} must be 18 digits (the last may be X) or an old 15-digit number.",
    ),
    (
        "id_number.birth_date",
        "{field}中的出生日期不存在",
        "The birth date in {field} does not exist.",
    ),
    (
        "id_number.checksum",
        "{field}校验位不正确，请核对是否填错",
        "The check digit of {field} does not match. Please check for typos.",
    ),
    (
        "postal_code.invalid",
        "{field}应为 6 位数字",
        "{field} must be 6 digits.",
    ),
    (
        "date.invalid",
        "{field}不是有效日期，请按“年-月-日”填写，例如 2024-03-08",
        "{field} is not a valid date. Use YYYY-MM-DD, for example 2024-03-08.",
    ),
    (
        "date.future",
        "{field}不能晚于今天",
        "{field} cannot be in the future.",
    ),
    (
        "value.invalid",
        "{field}的值无效，可选值：{allowed}",
        "{field} has an invalid value. Allowed: {allowed}.",
    ),
    (
        "value.out_of_range",
        "{field}应在 {min} 到 {max} 之间",
        "{field} must be between {min} and {max}.",
    ),
    (
        "value.not_for_kind",
        "{field}只适用于{kind}客户",
        "{field} applies only to {kind} customers.",
    ),
    (
        "list.too_long",
        "{field}最多填写 {max} 项",
        "{field} can have at most {max} entries.",
    ),
    (
        "kind.invalid",
        "{field}无效，应为“个人”或“企业”",
        "{field} must be person or company.",
    ),
    (
        "birthday.id_mismatch",
        "生日与身份证号中的出生日期不一致",
        "The birthday does not match the birth date in the ID number.",
    ),
    (
        "custom_field.unknown",
        "{field}不是已定义的自定义字段",
        "{field} is not a defined custom field.",
    ),
    (
        "custom_field.type",
        "{field}的值类型不对，应为{expected}",
        "{field} has the wrong type; expected {expected}.",
    ),
    (
        "custom_field.required",
        "请填写{field}",
        "{field} is required.",
    ),
    (
        "custom_field.key",
        "{field}只能包含小写字母、数字和下划线，以字母开头，最多 40 个字符",
        "{field} may contain only lowercase letters, digits and underscores, must start with a letter and be at most 40 characters.",
    ),
    (
        "contact.primary_required",
        "请指定一位主要联系人",
        "Choose a primary contact.",
    ),
    (
        "order.lines_required",
        "订单至少要有一行商品",
        "An order needs at least one line.",
    ),
    (
        "code_pattern.invalid",
        "{field}格式不正确：可用字母、数字、- 和 _，以及 {YYYY} {YY} {MM} {DD} 和一个 {SEQ:n}",
        "{field} is not valid: use letters, digits, - and _, plus {YYYY} {YY} {MM} {DD} and exactly one {SEQ:n}.",
    ),
    (
        "code_pattern.reset_needs_date",
        "按{reset}重新计数时，{field}中必须包含相应的日期部分",
        "When numbering restarts {reset}, {field} must contain the matching date parts.",
    ),
    (
        "login.invalid",
        "{field}只能使用 2–64 位小写字母、数字和 . _ - @",
        "{field} must be 2–64 lowercase letters, digits or . _ - @.",
    ),
    (
        "password.too_short",
        "{field}至少需要 {min} 个字符",
        "{field} must be at least {min} characters.",
    ),
    (
        "password.same_as_login",
        "密码不能与登录名相同",
        "The password must not be the same as the login.",
    ),
    // Whole-request problems (problem+json titles).
    (
        "problem.validation",
        "请求中有 {count} 处错误",
        "The request has {count} invalid field(s).",
    ),
    (
        "problem.not_found",
        "记录不存在或已被删除",
        "The record does not exist or has been deleted.",
    ),
    ("problem.unauthorized", "请先登录", "Please sign in."),
    (
        "problem.forbidden",
        "您没有权限执行此操作",
        "You do not have permission to do this.",
    ),
    (
        "problem.conflict",
        "操作与现有数据冲突",
        "The request conflicts with existing data.",
    ),
    (
        "problem.version_mismatch",
        "该记录已被他人修改，请刷新后重试",
        "Someone else has changed this record. Refresh and try again.",
    ),
    (
        "problem.precondition_required",
        "修改前需要提供记录版本（If-Match 请求头），请刷新后重试",
        "The If-Match header is required: fetch the record's current version before changing it.",
    ),
    (
        "problem.payload_too_large",
        "提交的内容过大",
        "The request body is too large.",
    ),
    (
        "problem.bad_json",
        "请求内容不是有效的 JSON",
        "The request body is not valid JSON.",
    ),
    (
        "problem.bad_utf8",
        "请求内容不是有效的 UTF-8 文本",
        "The request body is not valid UTF-8 text.",
    ),
    (
        "problem.unsupported_media_type",
        "不支持的内容类型，请使用 application/json",
        "Unsupported content type. Use application/json.",
    ),
    (
        "problem.throttled",
        "操作太频繁，请 {seconds} 秒后再试",
        "Too many requests. Try again in {seconds} seconds.",
    ),
    (
        "auth.invalid_token",
        "API 令牌无效或已被吊销",
        "The API token is invalid or has been revoked.",
    ),
    (
        "contact.company_only",
        "只有企业客户可以添加联系人",
        "Only company customers have contacts.",
    ),
    (
        "cursor.invalid",
        "分页游标无效，请从第一页重新加载",
        "The page cursor is not valid; load the list again from the first page.",
    ),
    (
        "custom_field.immutable",
        "自定义字段创建后不能修改标识和类型",
        "A custom field's key and type cannot change once it exists.",
    ),
    (
        "department.unknown",
        "{field}：部门不存在",
        "{field}: no such department.",
    ),
    (
        "field.read_only",
        "您没有修改“{field}”的权限",
        "You may not change {field}.",
    ),
    (
        "field.unknown",
        "未知字段“{field}”",
        "Unknown field: {field}.",
    ),
    (
        "problem.bad_request",
        "请求格式不正确",
        "The request is malformed.",
    ),
    (
        "problem.field_forbidden",
        "您没有修改其中 {count} 个字段的权限",
        "You may not change {count} of the fields in this request.",
    ),
    (
        "problem.method_not_allowed",
        "该地址不支持此操作",
        "This address does not support that method.",
    ),
    (
        "role.admin_locked",
        "管理员角色必须保留全部数据范围和用户、角色管理权限",
        "The administrator role must keep the 'all' data scope and user and role administration.",
    ),
    (
        "tenant.slug",
        "租户标识只能包含 2–40 位小写字母、数字和连字符",
        "The tenant slug must be 2–40 lowercase letters, digits or hyphens.",
    ),
    (
        "ui.index.title",
        "客户管理系统 Kehu",
        "Kehu customer management",
    ),
    (
        "ui.index.body",
        "服务已启动。网页端尚未构建，可先通过 REST API 使用全部功能。",
        "The server is running. The web app has not been built; every capability is available through the REST API.",
    ),
    (
        "unique.custom_field_key",
        "已存在相同标识的自定义字段",
        "A custom field with this key already exists.",
    ),
    (
        "unique.role",
        "已存在相同标识的角色",
        "A role with this key already exists.",
    ),
    (
        "unique.tenant",
        "该租户标识已被使用",
        "This tenant slug is already taken.",
    ),
    (
        "unique.view_name",
        "你已有同名的视图",
        "You already have a view with this name.",
    ),
    (
        "unique.rule_name",
        "已有同名的标签规则",
        "A tag rule with this name already exists.",
    ),
    (
        "insight.run_running",
        "该租户的客户分类正在运行，请等它结束后再试",
        "A classification run for this tenant is already in progress; try again when it has finished.",
    ),
    (
        "rule.syntax",
        "{field}第 {column} 列有误：{message}",
        "{field} has an error at column {column}: {message}",
    ),
    (
        "insight.tier_order",
        "{field}不能高于上一级的门槛（要求 A ≥ B ≥ C）",
        "{field} cannot be above the threshold of the tier above it (A >= B >= C).",
    ),
    (
        "insight.pct_order",
        "{field}不能小于上一级的累计占比（要求 A ≤ B ≤ C）",
        "{field} cannot be below the share of the tier above it (A <= B <= C).",
    ),
    (
        "insight.factor_order",
        "{field}不能小于流失风险倍数",
        "{field} cannot be below the at-risk factor.",
    ),
    (
        "insight.class_order",
        "{field}不能低于“中”档的门槛",
        "{field} cannot be below the mid threshold.",
    ),
    (
        "insight.cron",
        "{field}不是有效的 cron 表达式，例如 30 2 * * *（每天 2:30）",
        "{field} is not a valid cron pattern, e.g. 30 2 * * * (daily at 2:30).",
    ),
    (
        "view.config_invalid",
        "{field}必须是不超过 {max} 字节的 JSON 对象",
        "{field} must be a JSON object of at most {max} bytes.",
    ),
    (
        "user.disable_self",
        "不能停用自己的账号",
        "You cannot disable your own account.",
    ),
    (
        "value.type",
        "{field}的类型不正确，应为 {expected}",
        "{field} has the wrong type; expected {expected}.",
    ),
    (
        "problem.csrf",
        "页面已过期或请求来源不可信，请刷新页面后重试",
        "The request failed the CSRF check. Reload the page and try again.",
    ),
    (
        "problem.internal",
        "系统出错了，请稍后再试",
        "Something went wrong on our side. Please try again later.",
    ),
    // Sign-in.
    (
        "auth.invalid_credentials",
        "登录名或密码错误",
        "Wrong login or password.",
    ),
    (
        "auth.disabled",
        "该账号已停用，请联系管理员",
        "This account is disabled. Please contact your administrator.",
    ),
    (
        "auth.session_expired",
        "登录已过期，请重新登录",
        "Your session has expired. Please sign in again.",
    ),
    // Uniqueness and organisation.
    (
        "unique.login",
        "该登录名已被使用",
        "This login is already taken.",
    ),
    (
        "unique.code",
        "该编号已被使用",
        "This code is already in use.",
    ),
    (
        "unique.department_name",
        "同一上级部门下已有同名部门",
        "A department with this name already exists under the same parent.",
    ),
    (
        "department.cycle",
        "不能把部门移到它自己或它的下级部门之下",
        "A department cannot be moved under itself or one of its sub-departments.",
    ),
    (
        "department.not_empty",
        "该部门下还有成员或下级部门，不能删除",
        "The department still has members or sub-departments and cannot be deleted.",
    ),
    (
        "role.unknown",
        "角色不存在，可选：{allowed}",
        "No such role; choose one of: {allowed}.",
    ),
    ("user.unknown", "用户不存在", "The user does not exist."),
    ("scope.invalid", "数据权限范围无效", "Invalid data scope."),
];

const CATALOGUE_LEN: usize = CATALOGUE.len();

/// Every code in the catalogue, for tests and for checking that callers only
/// emit codes that have a translation.
pub const CODES: &[&str] = &{
    let mut out = [""; CATALOGUE_LEN];
    let mut i = 0;
    while i < CATALOGUE_LEN {
        out[i] = CATALOGUE[i].0;
        i += 1;
    }
    out
};

/// Parameter values that are themselves codes (`kind=company`,
/// `expected=date`, `reset=monthly`) and must be translated too.
const VALUE_LABELS: &[(&str, &str, &str, &str)] = &[
    ("kind", "person", "个人", "person"),
    ("kind", "company", "企业", "company"),
    ("expected", "text", "文本", "text"),
    ("expected", "number", "数字", "a number"),
    ("expected", "date", "日期", "a date"),
    ("expected", "bool", "是/否", "yes/no"),
    ("expected", "select", "单选项", "one option"),
    ("expected", "multi_select", "多选项", "a list of options"),
    ("reset", "daily", "天", "daily"),
    ("reset", "monthly", "月", "monthly"),
    ("reset", "yearly", "年", "yearly"),
    ("reset", "never", "不", "never"),
];

fn localized<'a>(locale: Locale, zh: &'a str, en: &'a str) -> &'a str {
    match locale {
        Locale::ZhCn => zh,
        Locale::En => en,
    }
}

fn param_text(locale: Locale, name: &str, value: &str) -> String {
    VALUE_LABELS
        .iter()
        .find(|(p, v, _, _)| *p == name && *v == value)
        .map_or_else(
            || value.to_string(),
            |(_, _, zh, en)| localized(locale, zh, en).to_string(),
        )
}

/// The message for `code` in `locale`, with `{name}` placeholders filled from
/// `params`. Placeholders without a parameter stay as written (some messages
/// show `{SEQ:n}` literally); an unknown code comes back as itself, so a
/// missing translation is visible rather than silent.
pub fn message(locale: Locale, code: &str, params: &[(&str, String)]) -> String {
    let Some((_, zh, en)) = CATALOGUE.iter().find(|(c, _, _)| *c == code) else {
        return code.to_string();
    };
    let template = localized(locale, zh, en);
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let param = after.find('}').and_then(|close| {
            params
                .iter()
                .find(|(n, _)| *n == &after[..close])
                .map(|p| (close, p))
        });
        match param {
            Some((close, (name, value))) => {
                out.push_str(&param_text(locale, name, value));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Labels of the fields that appear in API errors.
const FIELD_LABELS: &[(&str, &str, &str)] = &[
    ("name", "名称", "Name"),
    ("tag", "标签", "Tag"),
    ("rule", "规则", "Rule"),
    ("method", "分级方法", "Method"),
    ("a_min_fen", "A 级门槛", "Tier A threshold"),
    ("b_min_fen", "B 级门槛", "Tier B threshold"),
    ("c_min_fen", "C 级门槛", "Tier C threshold"),
    ("a_pct", "A 级累计占比", "Tier A share"),
    ("b_pct", "B 级累计占比", "Tier B share"),
    ("c_pct", "C 级累计占比", "Tier C share"),
    ("min_stay_days", "最短停留天数", "Minimum stay"),
    ("frequency_high_min", "高频门槛", "High-frequency threshold"),
    ("frequency_mid_min", "中频门槛", "Mid-frequency threshold"),
    ("amount_large_min_fen", "大额门槛", "Large-amount threshold"),
    ("amount_mid_min_fen", "中额门槛", "Mid-amount threshold"),
    (
        "diversified_min_categories",
        "多品类门槛",
        "Diversified threshold",
    ),
    ("churn_factor", "流失倍数", "Churn factor"),
    ("at_risk_factor", "流失风险倍数", "At-risk factor"),
    ("cron", "运行计划", "Schedule"),
    ("kind", "客户类型", "Type"),
    ("phones", "电话", "Phone"),
    ("phone", "电话", "Phone"),
    ("emails", "邮箱", "Email"),
    ("email", "邮箱", "Email"),
    ("province", "省份", "Province"),
    ("city", "城市", "City"),
    ("district", "区县", "District"),
    ("address", "详细地址", "Address"),
    ("industry", "行业", "Industry"),
    ("occupation", "职业", "Occupation"),
    ("employer", "工作单位", "Employer"),
    ("source", "来源", "Source"),
    ("owner_id", "负责人", "Owner"),
    ("birthday", "生日", "Birthday"),
    (
        "unified_social_credit_code",
        "统一社会信用代码",
        "Unified social credit code",
    ),
    ("id_number", "身份证号", "ID number"),
    ("postal_code", "邮政编码", "Postal code"),
    ("notes", "备注", "Notes"),
    ("custom_fields", "自定义字段", "Custom fields"),
    ("login", "登录名", "Login"),
    ("password", "密码", "Password"),
    ("tenant", "租户", "Tenant"),
    ("title", "职务", "Job title"),
    ("quantity", "数量", "Quantity"),
    ("amount", "金额", "Amount"),
    ("amount_fen", "金额", "Amount"),
    ("product", "商品", "Product"),
    ("category", "品类", "Category"),
    ("channel", "渠道", "Channel"),
    ("ordered_on", "下单日期", "Order date"),
    ("lines", "订单明细", "Order lines"),
    ("role", "角色", "Role"),
    ("department", "部门", "Department"),
    ("limit", "每页条数", "Page size"),
    ("cursor", "分页游标", "Cursor"),
    ("code", "编号", "Code"),
    ("code_pattern", "编号规则", "Numbering pattern"),
    ("key", "字段标识", "Field key"),
    ("label_zh", "中文名称", "Chinese label"),
    ("label_en", "英文名称", "English label"),
    ("options", "选项", "Options"),
    ("contacts", "联系人", "Contacts"),
    ("config", "视图设置", "View settings"),
    ("ids", "所选客户", "Selected customers"),
    ("action", "操作", "Action"),
    ("user_id", "成员", "Member"),
    ("access", "权限", "Access"),
];

/// `phones[2]` → `phones`.
fn strip_index(s: &str) -> &str {
    match s.find('[') {
        Some(i) if s.ends_with(']') => &s[..i],
        _ => s,
    }
}

fn label(locale: Locale, key: &str) -> Option<&'static str> {
    FIELD_LABELS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| localized(locale, zh, en))
}

/// The label of a field name from a [`crate::FieldError`]. Index suffixes
/// are dropped (`phones[2]` → 电话) and a nested path is named by its last
/// known part (`lines[0].quantity` → 数量); an unknown name comes back as is.
pub fn field_label(locale: Locale, field: &str) -> String {
    let whole = strip_index(field);
    if let Some(l) = label(locale, whole) {
        return l.to_string();
    }
    if let Some((_, last)) = field.rsplit_once('.')
        && let Some(l) = label(locale, strip_index(last))
    {
        return l.to_string();
    }
    field.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(locale: Locale, code: &str, params: &[(&str, &str)], want: &str) {
        let params: Vec<(&str, String)> = params.iter().map(|(n, v)| (*n, v.to_string())).collect();
        assert_eq!(message(locale, code, &params), want);
    }

    #[test]
    fn every_code_has_both_languages() {
        assert_eq!(CODES.len(), CATALOGUE.len());
        for code in CODES {
            let zh = message(Locale::ZhCn, code, &[]);
            let en = message(Locale::En, code, &[]);
            assert!(!zh.is_empty() && zh != *code, "{code}: zh");
            assert!(!en.is_empty() && en != *code, "{code}: en");
            assert_ne!(zh, en, "{code}: zh-CN text equals en");
            assert!(
                zh.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
                "{code}: zh has no Chinese"
            );
            assert!(
                en.is_ascii() || en.contains('–'),
                "{code}: en is not English: {en}"
            );
        }
        let mut sorted: Vec<&str> = CODES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), CODES.len(), "duplicate code");
    }

    #[test]
    fn required_codes_are_present() {
        for code in [
            "text.required",
            "text.too_long",
            "phone.invalid",
            "email.invalid",
            "uscc.length",
            "uscc.charset",
            "uscc.checksum",
            "id_number.length",
            "id_number.birth_date",
            "id_number.checksum",
            "postal_code.invalid",
            "date.invalid",
            "date.future",
            "value.invalid",
            "value.out_of_range",
            "list.too_long",
            "kind.invalid",
            "custom_field.unknown",
            "custom_field.type",
            "custom_field.required",
            "contact.primary_required",
            "order.lines_required",
            "problem.validation",
            "problem.not_found",
            "problem.unauthorized",
            "problem.forbidden",
            "problem.conflict",
            "problem.version_mismatch",
            "problem.precondition_required",
            "problem.payload_too_large",
            "problem.bad_json",
            "problem.bad_utf8",
            "problem.unsupported_media_type",
            "problem.throttled",
            "problem.csrf",
            "problem.internal",
            "auth.invalid_credentials",
            "auth.disabled",
            "auth.session_expired",
            "unique.login",
            "unique.code",
            "unique.department_name",
            "department.cycle",
            "department.not_empty",
            "role.unknown",
            "user.unknown",
            "scope.invalid",
        ] {
            assert!(CODES.contains(&code), "{code}");
        }
    }

    /// Each parameter a message uses is one its callers pass.
    #[test]
    fn placeholders_match_parameters() {
        let expect: &[(&str, &[&str])] = &[
            ("text.too_long", &["field", "max"]),
            ("value.invalid", &["field", "allowed"]),
            ("value.out_of_range", &["field", "min", "max"]),
            ("list.too_long", &["field", "max"]),
            ("custom_field.type", &["field", "expected"]),
            ("problem.validation", &["count"]),
            ("problem.throttled", &["seconds"]),
        ];
        for (code, names) in expect {
            let params: Vec<(&str, String)> = names.iter().map(|n| (*n, "∅".to_string())).collect();
            for locale in [Locale::ZhCn, Locale::En] {
                let m = message(locale, code, &params);
                assert_eq!(
                    m.matches('∅').count(),
                    names.len(),
                    "{code} {locale:?}: {m}"
                );
                assert!(!m.contains('{'), "{code} {locale:?}: {m}");
            }
        }
    }

    #[test]
    fn messages_substitute_parameters() {
        use Locale::*;
        check(
            ZhCn,
            "text.too_long",
            &[("field", "名称"), ("max", "100")],
            "名称不能超过 100 个字",
        );
        check(
            En,
            "text.too_long",
            &[("field", "Name"), ("max", "100")],
            "Name must be at most 100 characters.",
        );
        check(
            ZhCn,
            "problem.validation",
            &[("count", "3")],
            "请求中有 3 处错误",
        );
        check(
            En,
            "problem.validation",
            &[("count", "3")],
            "The request has 3 invalid field(s).",
        );
        check(
            ZhCn,
            "problem.version_mismatch",
            &[],
            "该记录已被他人修改，请刷新后重试",
        );
        check(
            ZhCn,
            "problem.throttled",
            &[("seconds", "30")],
            "操作太频繁，请 30 秒后再试",
        );
        check(
            ZhCn,
            "value.out_of_range",
            &[("field", "数量"), ("min", "1"), ("max", "1000000")],
            "数量应在 1 到 1000000 之间",
        );
        check(
            ZhCn,
            "value.not_for_kind",
            &[("field", "身份证号"), ("kind", "person")],
            "身份证号只适用于个人客户",
        );
        check(
            En,
            "value.not_for_kind",
            &[("field", "ID number"), ("kind", "person")],
            "ID number applies only to person customers.",
        );
        check(
            ZhCn,
            "custom_field.type",
            &[("field", "等级"), ("expected", "date")],
            "等级的值类型不对，应为日期",
        );
        check(
            ZhCn,
            "code_pattern.reset_needs_date",
            &[("field", "编号规则"), ("reset", "monthly")],
            "按月重新计数时，编号规则中必须包含相应的日期部分",
        );
        // A placeholder without a parameter stays; extra parameters are ignored.
        check(ZhCn, "text.required", &[("other", "x")], "请填写{field}");
        check(
            En,
            "code_pattern.invalid",
            &[("field", "Numbering pattern")],
            "Numbering pattern is not valid: use letters, digits, - and _, plus {YYYY} {YY} {MM} {DD} and exactly one {SEQ:n}.",
        );
        // A parameter value is inserted once, never re-expanded.
        check(
            En,
            "text.required",
            &[("field", "{field}")],
            "{field} is required.",
        );
        // Unknown codes come back as themselves.
        check(ZhCn, "no.such.code", &[("field", "x")], "no.such.code");
    }

    #[test]
    fn accept_language() {
        use Locale::*;
        for (header, want) in [
            (None, ZhCn),
            (Some(""), ZhCn),
            (Some("en"), En),
            (Some("en-US,en;q=0.9"), En),
            (Some("EN-gb"), En),
            (Some("zh-CN,zh;q=0.9,en;q=0.8"), ZhCn),
            (Some("zh-TW"), ZhCn),
            (Some("fr-FR,en;q=0.5"), En),
            (Some("fr-FR,de"), ZhCn),
            (Some("zh;q=0.5, en;q=0.8"), En),
            (Some("en;q=0"), ZhCn),
            (Some("*"), ZhCn),
            (Some("english"), ZhCn),
        ] {
            assert_eq!(Locale::from_accept_language(header), want, "{header:?}");
        }
        assert_eq!(ZhCn.tag(), "zh-CN");
        assert_eq!(En.tag(), "en");
    }

    #[test]
    fn field_labels() {
        use Locale::*;
        for (field, zh, en) in [
            ("name", "名称", "Name"),
            ("phones", "电话", "Phone"),
            ("phones[2]", "电话", "Phone"),
            ("emails[0]", "邮箱", "Email"),
            (
                "unified_social_credit_code",
                "统一社会信用代码",
                "Unified social credit code",
            ),
            ("id_number", "身份证号", "ID number"),
            ("ordered_on", "下单日期", "Order date"),
            ("lines[0].quantity", "数量", "Quantity"),
            ("lines", "订单明细", "Order lines"),
            ("custom_fields", "自定义字段", "Custom fields"),
            (
                "custom_fields.vip_level",
                "custom_fields.vip_level",
                "custom_fields.vip_level",
            ),
            ("no_such_field", "no_such_field", "no_such_field"),
        ] {
            assert_eq!(field_label(ZhCn, field), zh, "{field}");
            assert_eq!(field_label(En, field), en, "{field}");
        }
        for field in [
            "kind",
            "emails",
            "province",
            "city",
            "district",
            "address",
            "industry",
            "occupation",
            "employer",
            "source",
            "owner_id",
            "birthday",
            "postal_code",
            "notes",
            "login",
            "password",
            "tenant",
            "title",
            "quantity",
            "amount",
            "product",
            "category",
            "channel",
            "role",
            "department",
            "limit",
            "cursor",
        ] {
            assert_ne!(field_label(ZhCn, field), field, "{field}");
            assert_ne!(field_label(ZhCn, field), field_label(En, field), "{field}");
        }
    }
}
