//! `kehu analyze`: the insight models over an order log in a CSV file, for
//! analysts. Reading and writing files is all this does; the numbers come
//! from `kehu_domain::analytics::analyze`, the code path the server uses.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use kehu_domain::analytics::{
    AnalysisError, AnalysisOptions, ClvConfig, Order, TimeUnit, analyze, day_number,
};
use kehu_domain::validate::parse_ymd;
use serde_json::json;

/// Both languages, as every CLI message (zh-CN first).
fn both(zh: String, en: String) -> anyhow::Error {
    anyhow::anyhow!("{zh} / {en}")
}

/// `line`: where in the CSV the value came from (none for a flag).
pub fn parse_date(line: Option<usize>, s: &str) -> Result<time::Date> {
    let s = s.trim();
    // `2026-03-01`, or the date part of `2026-03-01 10:00:00` / `…T10:00:00`.
    let day = s
        .get(..10)
        .filter(|_| s.len() == 10 || matches!(s.as_bytes().get(10), Some(b' ' | b'T')));
    day.and_then(parse_ymd).ok_or_else(|| {
        let (zh_field, en_field) = match line {
            Some(n) => (format!("第 {n} 行 date"), format!("line {n}, date")),
            None => ("日期".to_string(), "date".to_string()),
        };
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
    let f = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(2)
        .fold(0i64, |n, b| n * 10 + i64::from(b - b'0'));
    w.checked_mul(100)?.checked_add(f)
}

/// A fast multiply-rotate hash for customer ids read from the analyst's
/// own file (std's SipHash guards servers against chosen keys, which a
/// local file is not, and costs a tenth of the run on 10⁷ lines).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// An order log with customer ids numbered 0.. in the ids' sort order, so
/// the analysis works on small integers and still orders customers (and
/// breaks RFM ties) by id as the file spells it.
struct OrderLog {
    orders: Vec<Order<u32>>,
    /// Customer id text by number.
    ids: Vec<Box<str>>,
}

/// Builds an [`OrderLog`] line by line, whichever reader splits the lines.
struct LogBuilder {
    /// Positions of customer_id, date and amount in a record.
    cols: [usize; 3],
    fields: usize,
    /// One copy of each distinct id: a 10-million-line log allocates per
    /// customer, not per line.
    number: HashMap<Box<str>, u32, BuildHasherDefault<IdHasher>>,
    ids: Vec<Box<str>>,
    orders: Vec<Order<u32>>,
}

impl LogBuilder {
    /// From the header's field names (any order, any case, padded or not).
    fn new<'h>(header: impl Iterator<Item = &'h str>) -> Result<Self> {
        let header: Vec<&str> = header.map(str::trim).collect();
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    both(
                        format!("缺少列 {name}（需要 customer_id,date,amount）"),
                        format!("missing column {name} (need customer_id,date,amount)"),
                    )
                })
        };
        Ok(LogBuilder {
            cols: [col("customer_id")?, col("date")?, col("amount")?],
            fields: header.len(),
            number: HashMap::default(),
            ids: Vec::new(),
            orders: Vec::new(),
        })
    }

    /// One record, `line` being its line number in the file.
    fn add(&mut self, line: usize, record: &[&str]) -> Result<()> {
        if record.len() != self.fields {
            bail!(both(
                format!(
                    "第 {line} 行：应有 {} 列，实际为 {} 列",
                    self.fields,
                    record.len()
                ),
                format!(
                    "line {line}: expected {} fields, found {}",
                    self.fields,
                    record.len()
                )
            ));
        }
        let [ci, di, ai] = self.cols;
        let id = record[ci].trim();
        if id.is_empty() {
            bail!(both(
                format!("第 {line} 行 customer_id：不能为空"),
                format!("line {line}, customer_id: must not be empty")
            ));
        }
        let day = parse_date(Some(line), record[di])?;
        let raw = record[ai];
        let amount_fen = parse_amount(raw).ok_or_else(|| {
            both(
                format!("第 {line} 行 amount：应为不小于 0、最多两位小数的金额，实际为 “{raw}”"),
                format!("line {line}, amount: expected a non-negative amount with at most 2 decimals, got \"{raw}\""),
            )
        })?;
        let customer_id = match self.number.get(id) {
            Some(&n) => n,
            None => {
                let n = self.ids.len() as u32;
                self.ids.push(id.into());
                self.number.insert(id.into(), n);
                n
            }
        };
        self.orders.push(Order {
            customer_id,
            day: day_number(day),
            amount_fen,
        });
        Ok(())
    }

    /// Renumbers the customers in id order.
    fn finish(self) -> OrderLog {
        let LogBuilder {
            mut ids,
            mut orders,
            ..
        } = self;
        let mut by_text: Vec<u32> = (0..ids.len() as u32).collect();
        by_text.sort_unstable_by(|a, b| ids[*a as usize].cmp(&ids[*b as usize]));
        let mut rank = vec![0u32; ids.len()];
        for (new, old) in by_text.iter().enumerate() {
            rank[*old as usize] = new as u32;
        }
        for o in &mut orders {
            o.customer_id = rank[o.customer_id as usize];
        }
        let ids = by_text
            .iter()
            .map(|old| std::mem::take(&mut ids[*old as usize]))
            .collect();
        OrderLog { orders, ids }
    }
}

fn cannot_read(path: &Path, e: impl std::fmt::Display) -> anyhow::Error {
    both(
        format!("无法读取 {}：{e}", path.display()),
        format!("cannot read {}: {e}", path.display()),
    )
}

/// Reads `customer_id,date,amount[,quantity]` (header required, any column
/// order). Plain lines are split here, a file with quoted fields (`"…"`)
/// goes to the csv crate: the first is ~3× faster on an order log, the
/// second handles every CSV.
fn read_orders(path: &Path) -> Result<OrderLog> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| cannot_read(path, e))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, file);
    let mut buf = String::new();
    let mut log: Option<LogBuilder> = None;
    let mut line = 0;
    loop {
        buf.clear();
        if r.read_line(&mut buf).map_err(|e| cannot_read(path, e))? == 0 {
            break;
        }
        line += 1;
        let text = buf.trim_end_matches(['\n', '\r']);
        if text.contains('"') {
            return read_orders_quoted(path);
        }
        if text.is_empty() {
            continue; // as the csv crate does
        }
        match &mut log {
            // A UTF-8 byte order mark (spreadsheet exports) is not part of
            // the first name; the csv crate drops it too.
            None => {
                log = Some(LogBuilder::new(
                    text.trim_start_matches('\u{feff}').split(','),
                )?)
            }
            Some(b) => with_fields(text.split(','), |f| b.add(line, f))?,
        }
    }
    log.map(LogBuilder::finish)
        .ok_or_else(|| cannot_read(path, "no header / 没有表头"))
}

/// Calls `f` with a record's fields, kept on the stack for the usual few.
fn with_fields<'a, T>(fields: impl Iterator<Item = &'a str>, f: impl FnOnce(&[&str]) -> T) -> T {
    let mut arr = [""; 16];
    let mut n = 0;
    let mut rest: Vec<&str> = Vec::new();
    for field in fields {
        if n < arr.len() {
            arr[n] = field;
        } else {
            if rest.is_empty() {
                rest.extend_from_slice(&arr);
            }
            rest.push(field);
        }
        n += 1;
    }
    if rest.is_empty() {
        f(&arr[..n])
    } else {
        f(&rest)
    }
}

/// [`read_orders`] for a file with quoted fields.
fn read_orders_quoted(path: &Path) -> Result<OrderLog> {
    let mut r = csv::ReaderBuilder::new()
        .from_path(path)
        .map_err(|e| cannot_read(path, e))?;
    let mut log = LogBuilder::new(r.headers().context("CSV header")?.iter())?;
    let mut rec = csv::StringRecord::new();
    let mut line = 1;
    while r.read_record(&mut rec).map_err(|e| {
        both(
            format!("第 {} 行：{e}", line + 1),
            format!("line {}: {e}", line + 1),
        )
    })? {
        line = rec.position().map_or(line + 1, |p| p.line() as usize);
        with_fields(rec.iter(), |f| log.add(line, f))?;
    }
    Ok(log.finish())
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
    let log = read_orders(a.orders)?;
    let opts = AnalysisOptions {
        as_of: day_number(a.as_of),
        calibration_end: day_number(a.calibration_end.unwrap_or(a.as_of)),
        unit: a.unit,
        horizon: a.horizon,
        clv: ClvConfig::default(),
    };
    let r = analyze(&log.orders, &opts).map_err(|e| match e {
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
    // One reused buffer per field: a million rows, eleven fields each.
    let mut buf = String::new();
    let mut put = |w: &mut csv::Writer<std::fs::File>, v: std::fmt::Arguments| {
        buf.clear();
        std::fmt::Write::write_fmt(&mut buf, v).expect("writing to a String");
        w.write_field(&buf)
    };
    for c in &r.customers {
        w.write_field(&*log.ids[c.customer_id as usize])?;
        put(&mut w, format_args!("{}", c.frequency))?;
        put(&mut w, format_args!("{}", c.recency))?;
        put(&mut w, format_args!("{}", c.age))?;
        put(&mut w, format_args!("{}", c.r_score))?;
        put(&mut w, format_args!("{}", c.f_score))?;
        put(&mut w, format_args!("{}", c.m_score))?;
        put(&mut w, format_args!("{}", c.p_alive))?;
        put(&mut w, format_args!("{}", c.expected_purchases))?;
        // Money leaves in the unit it came in (yuan), not in 分.
        for fen in [c.expected_spend_fen, c.clv_fen] {
            match fen {
                Some(f) => put(&mut w, format_args!("{}", Yuan4(f)))?,
                None => w.write_field("")?,
            }
        }
        w.write_record(None::<&[u8]>)?;
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

/// 分 shown as yuan with 4 decimals (`1234.5678`), through an integer:
/// exact float formatting to a fixed precision is slow, and this column
/// has a row per customer.
struct Yuan4(f64);

impl std::fmt::Display for Yuan4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let units = (self.0 * 100.0).round();
        if !units.is_finite() || units.abs() >= 9.0e18 {
            return write!(f, "{:.4}", self.0 / 100.0);
        }
        let units = units as i64;
        let sign = if units < 0 { "-" } else { "" };
        let u = units.unsigned_abs();
        write!(f, "{sign}{}.{:04}", u / 10_000, u % 10_000)
    }
}

pub fn write_line(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{s}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_four_decimals_and_rounds_half_away() {
        let y = |fen: f64| Yuan4(fen).to_string();
        assert_eq!(y(123_456.789), "1234.5679");
        assert_eq!(y(0.0), "0.0000");
        assert_eq!(y(5.0), "0.0500");
        assert_eq!(y(-250.004), "-2.5000");
        assert_eq!(y(1e30), format!("{:.4}", 1e28));
    }
}
