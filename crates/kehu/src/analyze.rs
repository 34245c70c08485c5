//! `kehu analyze`: the insight models over an order log in a CSV file, for
//! analysts. Reading and writing files is all this does; the numbers come
//! from `kehu_domain::analytics::analyze`, the code path the server uses.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use kehu_domain::analytics::{
    AnalysisError, AnalysisOptions, ClvConfig, Order, TimeUnit, analyze, day_number,
};
use serde_json::json;

/// Both languages, as every CLI message (zh-CN first).
fn both(zh: String, en: String) -> anyhow::Error {
    anyhow::anyhow!("{zh} / {en}")
}

/// `line`: where in the CSV the value came from (none for a flag).
pub fn parse_date(line: Option<usize>, s: &str) -> Result<time::Date> {
    let (zh_field, en_field) = match line {
        Some(n) => (format!("第 {n} 行 date"), format!("line {n}, date")),
        None => ("日期".to_string(), "date".to_string()),
    };
    let s = s.trim();
    // `2026-03-01`, or the date part of `2026-03-01 10:00:00` / `…T10:00:00`.
    let day = s
        .get(..10)
        .filter(|_| s.len() == 10 || matches!(s.as_bytes().get(10), Some(b' ' | b'T')));
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    day.and_then(|d| time::Date::parse(d, &fmt).ok())
        .ok_or_else(|| {
            both(
                format!("{zh_field}：日期应为 YYYY-MM-DD，实际为 “{s}”"),
                format!("{en_field}: expected a date YYYY-MM-DD, got \"{s}\""),
            )
        })
}

/// An amount in currency units (`12`, `12.5`, `12.50`) to 分, exactly.
fn parse_amount(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    let f: i64 = format!("{frac:0<2}").parse().ok()?;
    w.checked_mul(100)?.checked_add(f)
}

/// Reads `customer_id,date,amount[,quantity]` (header required, any column order).
fn read_orders(path: &Path) -> Result<Vec<Order<String>>> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| {
            both(
                format!("无法读取 {}：{e}", path.display()),
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
    let headers = r.headers().context("CSV header")?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                both(
                    format!("缺少列 {name}（需要 customer_id,date,amount）"),
                    format!("missing column {name} (need customer_id,date,amount)"),
                )
            })
    };
    let (ci, di, ai) = (col("customer_id")?, col("date")?, col("amount")?);
    let mut orders = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec =
            rec.map_err(|e| both(format!("第 {line} 行：{e}"), format!("line {line}: {e}")))?;
        let id = rec.get(ci).unwrap_or("").to_string();
        if id.is_empty() {
            bail!(both(
                format!("第 {line} 行 customer_id：不能为空"),
                format!("line {line}, customer_id: must not be empty")
            ));
        }
        let day = parse_date(Some(line), rec.get(di).unwrap_or(""))?;
        let raw = rec.get(ai).unwrap_or("");
        let amount_fen = parse_amount(raw).ok_or_else(|| {
            both(
                format!("第 {line} 行 amount：应为不小于 0、最多两位小数的金额，实际为 “{raw}”"),
                format!("line {line}, amount: expected a non-negative amount with at most 2 decimals, got \"{raw}\""),
            )
        })?;
        orders.push(Order {
            customer_id: id,
            day: day_number(day),
            amount_fen,
        });
    }
    Ok(orders)
}

pub struct AnalyzeArgs<'a> {
    pub orders: &'a Path,
    pub as_of: time::Date,
    pub calibration_end: Option<time::Date>,
    pub unit: TimeUnit,
    pub horizon: f64,
    pub out: &'a Path,
}

/// Runs the analysis; returns the parameters as one JSON line (for stdout).
pub fn run(a: &AnalyzeArgs) -> Result<String> {
    let orders = read_orders(a.orders)?;
    let opts = AnalysisOptions {
        as_of: day_number(a.as_of),
        calibration_end: day_number(a.calibration_end.unwrap_or(a.as_of)),
        unit: a.unit,
        horizon: a.horizon,
        clv: ClvConfig::default(),
    };
    let r = analyze(&orders, &opts).map_err(|e| match e {
        AnalysisError::CalibrationAfterAsOf => both(
            "--calibration-end 不能晚于 --as-of".into(),
            "--calibration-end must not be after --as-of".into(),
        ),
        AnalysisError::NoCustomers => both(
            "校准期内没有订单".into(),
            "no orders up to the calibration end".into(),
        ),
        AnalysisError::NotIdentifiable => both(
            "无法拟合模型：校准期内没有客户重复购买".into(),
            "cannot fit the model: no customer bought again in the calibration period".into(),
        ),
    })?;
    let mut w = csv::Writer::from_path(a.out).map_err(|e| {
        both(
            format!("无法写入 {}：{e}", a.out.display()),
            format!("cannot write {}: {e}", a.out.display()),
        )
    })?;
    w.write_record([
        "customer_id",
        "frequency",
        "recency",
        "T",
        "r_score",
        "f_score",
        "m_score",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "clv",
    ])?;
    // Money leaves in the unit it came in (yuan), not in 分.
    let money = |v: Option<f64>| v.map(|f| format!("{:.4}", f / 100.0)).unwrap_or_default();
    for c in &r.customers {
        w.write_record([
            c.customer_id.clone(),
            c.frequency.to_string(),
            c.recency.to_string(),
            c.age.to_string(),
            c.r_score.to_string(),
            c.f_score.to_string(),
            c.m_score.to_string(),
            c.p_alive.to_string(),
            c.expected_purchases.to_string(),
            money(c.expected_spend_fen),
            money(c.clv_fen),
        ])?;
    }
    w.flush()?;
    let p = r.bgnbd.params;
    let gg = r.gamma_gamma.map(|g| {
        // Spend was fitted in 分; in yuan v scales by 1/100 (p, q do not)
        // and each customer's density by 100, so ln L gains n·ln 100.
        json!({"p": g.params.p, "q": g.params.q, "v": g.params.v / 100.0,
               "log_likelihood": g.log_likelihood + g.customers as f64 * 100f64.ln()})
    });
    Ok(json!({
        "bgnbd": {"r": p.r, "alpha": p.alpha, "a": p.a, "b": p.b, "log_likelihood": r.bgnbd.log_likelihood},
        "gamma_gamma": gg,
    })
    .to_string())
}

pub fn write_line(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{s}")?;
    Ok(())
}
