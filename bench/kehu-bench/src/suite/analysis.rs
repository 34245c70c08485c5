//! T7 (full re-classification vs F_duckdb) and T8 (BG/NBD + Gamma-Gamma vs
//! F_lifetimes). Both floors are Python (bench/python/floors.py, run with
//! bench/.venv's interpreter) reading the seeded database's orders exported
//! once to `bench/data/orders-<backend>-<N>.csv` (`customer_id,date,amount`,
//! amount in yuan: the format `kehu analyze` reads).
//!
//! What is timed (docs/BENCHMARKS.md says the same):
//! - T8 floor: inside Python, from `read_csv` of the order file through
//!   lifetimes' `summary_data_from_transaction_data`, both fits, every
//!   customer's P(alive), expected purchases, expected spend and CLV, to the
//!   result CSV written; interpreter start and imports are not counted.
//!   Kehu: the whole `kehu analyze` process (start, CSV parse, summary, RFM
//!   scores, both fits, predictions, result CSV), wall clock.
//! - T7 floor: DuckDB's RFM query alone (CREATE TABLE … AS with NTILE(5)),
//!   on orders already loaded into an in-memory table (loading reported
//!   apart). Kehu: `kehu classify`'s own `compute_ms` and `total_ms`.
//!
//! Floor and Kehu run pinned to the same CPU set (`--analysis-cpu`, CPU 0 by
//! default; DuckDB with `threads = 1`), interleaved, ratio = median of the
//! pairwise ratios.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{Bench, Row, block, goal, log, thousands};
use crate::load::now_ms;
use crate::stats::{Check, Series, median};
use crate::tools::{self, Db, pinned};

/// Agreement with lifetimes that T8 requires (a fast wrong answer is
/// worthless): every fitted parameter within this relative difference…
const PARAM_REL_TOL: f64 = 1e-3;
/// …and every customer's P(alive) within this absolute difference.
const P_ALIVE_ABS_TOL: f64 = 1e-3;
/// Horizon of `expected_purchases` (weeks), as `kehu analyze`'s default.
const HORIZON_WEEKS: &str = "13";

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

fn secs(ms: f64) -> String {
    if ms < 10_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

fn times(v: f64) -> String {
    if v < 0.01 {
        format!("{v:.4}×")
    } else if v < 1.0 {
        format!("{v:.3}×")
    } else {
        format!("{v:.2}×")
    }
}

fn parse_json(out: &str, what: &str) -> Result<Value> {
    let line = out
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("{what}: no JSON object on stdout: {out}"))?;
    serde_json::from_str(line).with_context(|| format!("{what}: bad JSON: {line}"))
}

/// Today's date in Beijing (UTC+8), as `kehu classify --now` dates its run.
fn beijing_today() -> String {
    civil_from_days(((now_ms() / 1000.0) as i64 + 8 * 3600).div_euclid(86_400))
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01); Howard Hinnant's
/// civil_from_days.
fn civil_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The exported order file and what is known about it.
struct Orders {
    path: PathBuf,
    rows: u64,
    max_date: String,
}

impl Bench<'_> {
    fn python(&self, args: &[&str]) -> std::process::Command {
        let mut c = pinned(&self.a.analysis_cpu, &self.a.python);
        c.arg(&self.a.floors_py).args(args);
        c
    }

    fn analysis_row(&self, target: &str, operation: &str, must: &str, why: String) -> Row {
        Row {
            backend: String::new(),
            target: target.into(),
            operation: operation.into(),
            floor: "—".into(),
            kehu: "—".into(),
            ratio: "—".into(),
            must: must.into(),
            verdict: "error".into(),
            latency: "—".into(),
            notes: why,
            raw: Value::Null,
        }
    }

    /// T8 (first backend only) and T7. A failure is reported as an error
    /// row; the other blocks still run.
    pub(super) fn analysis(&mut self) -> Result<()> {
        if !self.a.python.exists() {
            bail!(
                "{} missing: bench/run creates bench/.venv (or pass --skip T7 --skip T8)",
                self.a.python.display()
            );
        }
        let orders = match self.orders_csv() {
            Ok(o) => o,
            Err(e) => {
                let why = format!("order export failed: {e:#}");
                log(&why);
                for (t, op, m) in [("T7", T7_OP, T7_MUST), ("T8", T8_OP, T8_MUST)] {
                    if !self.skip(t) {
                        let r = self.analysis_row(t, op, m, why.clone());
                        self.push(r);
                    }
                }
                return Ok(());
            }
        };
        if self.first
            && !self.skip("T8")
            && let Err(e) = self.t8(&orders)
        {
            log(format!("T8 failed: {e:#}"));
            let r = self.analysis_row("T8", T8_OP, T8_MUST, format!("{e:#}"));
            self.push(r);
        }
        if !self.skip("T7")
            && let Err(e) = self.t7(&orders)
        {
            log(format!("T7 failed: {e:#}"));
            let r = self.analysis_row("T7", T7_OP, T7_MUST, format!("{e:#}"));
            self.push(r);
        }
        Ok(())
    }

    /// Exports the tenant's orders once per seeded database (reused while
    /// the database's `.seeded` marker is unchanged).
    fn orders_csv(&self) -> Result<Orders> {
        let n = self.a.customers;
        let (tag, seeded) = match &self.db {
            Db::Sqlite { path } => ("sqlite", {
                let mut m = path.clone().into_os_string();
                m.push(".seeded");
                PathBuf::from(m)
            }),
            Db::Postgres { .. } => ("pg", self.a.data.join(format!("pg-{n}.seeded"))),
        };
        let path = self.a.data.join(format!("orders-{tag}-{n}.csv"));
        let marker = self.a.data.join(format!("orders-{tag}-{n}.json"));
        let stamp = std::fs::read_to_string(&seeded)
            .unwrap_or_default()
            .trim()
            .to_string();
        if let Ok(m) = std::fs::read(&marker)
            && let Ok(m) = serde_json::from_slice::<Value>(&m)
            && m["seeded"].as_str() == Some(stamp.as_str())
            && path.exists()
        {
            log(format!("reusing {}", path.display()));
            return Ok(Orders {
                path,
                rows: m["rows"].as_u64().unwrap_or(0),
                max_date: m["max_date"].as_str().unwrap_or_default().to_string(),
            });
        }
        let _ = std::fs::remove_file(&marker);
        let tmp = path.with_extension("csv.tmp");
        let t = Instant::now();
        log(format!(
            "exporting orders to {} (customer_id,date,amount)",
            path.display()
        ));
        let tenant = super::lit(super::TENANT);
        match &self.db {
            Db::Sqlite { .. } => {
                let script = format!(
                    ".headers on\n.mode csv\n.separator , \"\\n\"\n.output '{}'\n\
                     SELECT o.customer_id AS customer_id, o.ordered_on AS date, \
                     printf('%d.%02d', o.total_fen / 100, o.total_fen % 100) AS amount \
                     FROM orders o JOIN tenants t ON t.tenant_id = o.tenant_id WHERE t.slug = {tenant};\n",
                    tmp.display()
                );
                tools::output_stdin(self.db.cli(None), &script)?;
            }
            Db::Postgres { .. } => {
                let script = format!(
                    "\\copy (SELECT o.customer_id AS customer_id, o.ordered_on AS date, \
                     (o.total_fen / 100)::text || '.' || lpad((o.total_fen % 100)::text, 2, '0') AS amount \
                     FROM orders o JOIN tenants t ON t.tenant_id = o.tenant_id WHERE t.slug = {tenant}) \
                     TO '{}' WITH (FORMAT csv, HEADER)\n",
                    tmp.display()
                );
                tools::output_stdin(self.db.cli(None), &script)?;
            }
        }
        // Rows and the last order day (T8's as-of), in one pass.
        let text = std::fs::read(&tmp)?;
        let mut rows = 0u64;
        let mut max_date: &[u8] = b"";
        for line in text.split(|b| *b == b'\n').skip(1) {
            if line.is_empty() {
                continue;
            }
            rows += 1;
            if let Some(d) = line.split(|b| *b == b',').nth(1)
                && d > max_date
            {
                max_date = d;
            }
        }
        let max_date = String::from_utf8_lossy(max_date).into_owned();
        drop(text);
        if rows == 0 {
            bail!("the database has no orders for tenant {}", super::TENANT);
        }
        std::fs::rename(&tmp, &path)?;
        std::fs::write(
            &marker,
            serde_json::to_vec(&json!({"seeded": stamp, "rows": rows, "max_date": max_date}))?,
        )?;
        log(format!(
            "exported {} orders (last day {max_date}) in {:.1} s",
            thousands(rows as i64),
            t.elapsed().as_secs_f64()
        ));
        Ok(Orders {
            path,
            rows,
            max_date,
        })
    }

    // ------------------------------------------------------------------ T8
    fn t8(&mut self, orders: &Orders) -> Result<()> {
        let as_of = orders.max_date.clone();
        let csv = orders.path.to_string_lossy().into_owned();
        let lt_out = self.scratch.join("t8-lifetimes.csv");
        let k_out = self.scratch.join("t8-kehu.csv");
        let lt_out_s = lt_out.to_string_lossy().into_owned();
        let k_out_s = k_out.to_string_lossy().into_owned();
        log(format!(
            "T8: lifetimes vs kehu analyze on {} orders, as of {as_of} (unit week, horizon {HORIZON_WEEKS})",
            thousands(orders.rows as i64)
        ));
        let mut agreement: Option<Value> = None;
        let (runs, series) = block(
            "T8",
            self.a.reps,
            |i| {
                let _ = std::fs::remove_file(&lt_out);
                let _ = std::fs::remove_file(&k_out);
                // Floor: lifetimes (timed inside Python, see the module doc).
                let t = Instant::now();
                let out = tools::output(self.python(&[
                    "lifetimes",
                    "--orders",
                    &csv,
                    "--as-of",
                    &as_of,
                    "--horizon",
                    HORIZON_WEEKS,
                    "--out",
                    &lt_out_s,
                ]))?;
                let floor_wall_ms = t.elapsed().as_secs_f64() * 1000.0;
                let fl = parse_json(&out, "floors.py lifetimes")?;
                // Kehu: the whole process.
                let mut c = pinned(&self.a.analysis_cpu, &self.a.kehu);
                c.args([
                    "analyze",
                    "--orders",
                    &csv,
                    "--as-of",
                    &as_of,
                    "--unit",
                    "week",
                    "--horizon",
                    HORIZON_WEEKS,
                    "--out",
                    &k_out_s,
                ])
                .env("KEHU_LOG", "warn");
                let t = Instant::now();
                let kout = tools::output(c)?;
                let kehu_ms = t.elapsed().as_secs_f64() * 1000.0;
                let kp = parse_json(&kout, "kehu analyze")?;
                if i == 0 && agreement.is_none() {
                    let cmp = tools::output(self.python(&[
                        "compare-t8",
                        "--kehu",
                        &k_out_s,
                        "--kehu-params",
                        &kp.to_string(),
                        "--lifetimes",
                        &lt_out_s,
                        "--lifetimes-params",
                        &fl.to_string(),
                    ]))?;
                    let cmp = parse_json(&cmp, "floors.py compare-t8")?;
                    log(format!("T8 agreement: {cmp}"));
                    agreement = Some(cmp);
                }
                Ok(json!({
                    "floor_ms": f(&fl, "total_ms"), "floor_wall_ms": floor_wall_ms,
                    "kehu_ms": kehu_ms, "lifetimes": fl, "kehu": kp,
                }))
            },
            &[("kehu / F_lifetimes", &|r: &Value| {
                f(r, "kehu_ms") / f(r, "floor_ms")
            })],
        )?;
        let agreement = agreement.unwrap_or(Value::Null);
        let get = |k: &str| median(&runs.iter().map(|r| f(r, k)).collect::<Vec<_>>());
        let phase = |k: &str| {
            median(
                &runs
                    .iter()
                    .map(|r| f(&r["lifetimes"], k))
                    .collect::<Vec<_>>(),
            )
        };

        // Agreement: parameters and P(alive).
        let mut worst_param = 0.0f64;
        let mut param_notes = Vec::new();
        for k in ["r", "alpha", "a", "b", "p", "q", "v"] {
            let p = &agreement["params"][k];
            if p.is_null() {
                worst_param = f64::INFINITY;
                param_notes.push(format!("{k}: missing"));
                continue;
            }
            let rel = f(p, "rel_diff");
            worst_param = worst_param.max(if rel.is_nan() { f64::INFINITY } else { rel });
            param_notes.push(format!(
                "{k} {:.6} vs {:.6}",
                f(p, "kehu"),
                f(p, "lifetimes")
            ));
        }
        let pc = &agreement["per_customer"];
        let p_alive_diff = f(&pc["p_alive"], "max_abs_diff");
        let same_customers = f(&agreement, "only_kehu") == 0.0
            && f(&agreement, "only_lifetimes") == 0.0
            && f(&agreement, "customers_kehu") > 0.0;
        let agrees =
            same_customers && worst_param <= PARAM_REL_TOL && p_alive_diff <= P_ALIVE_ABS_TOL;
        let checks = vec![
            Check::max("≤ 0.1× F_lifetimes", series[0].clone(), 0.1),
            Check::max(
                &format!(
                    "agrees with lifetimes (same customers and summaries, parameters within {:.1} %, P(alive) within {P_ALIVE_ABS_TOL})",
                    PARAM_REL_TOL * 100.0
                ),
                Series::exact(if agrees { 0.0 } else { 1.0 }),
                0.0,
            ),
        ];
        let (v, mut notes) = verdict_with_reran(&checks, &series[0]);
        notes.insert(
            0,
            format!(
                "{} customers, {} orders, as of {as_of}, unit week; agreement (Kehu vs lifetimes): parameters {} (largest relative difference {:.2e}); per customer max |Δ|: P(alive) {:.2e}, expected purchases ({HORIZON_WEEKS} weeks) {:.2e}, expected spend {:.2e} yuan, CLV {:.2e} yuan (max relative {:.2e}); summaries max |Δ| x {:.0}, t_x {:.1e}, T {:.1e}",
                thousands(f(&agreement, "customers_lifetimes") as i64),
                thousands(orders.rows as i64),
                param_notes.join(", "),
                worst_param,
                p_alive_diff,
                f(&pc["expected_purchases"], "max_abs_diff"),
                f(&pc["expected_spend"], "max_abs_diff"),
                f(&pc["clv"], "max_abs_diff"),
                f(&pc["clv"], "max_rel_diff"),
                f(&agreement["summary_max_abs_diff"], "frequency"),
                f(&agreement["summary_max_abs_diff"], "recency"),
                f(&agreement["summary_max_abs_diff"], "T"),
            ),
        );
        notes.push(goal(series[0].median() <= 0.02, "≤ 0.02×"));
        notes.push(format!(
            "F_lifetimes phases (median ms): read_csv {:.0}, summary_data_from_transaction_data {:.0}, BG/NBD fit {:.0}, Gamma-Gamma fit {:.0}, predictions + CLV {:.0}, write {:.0}; not counted: Python start + imports {:.0}",
            phase("read_ms"),
            phase("summary_ms"),
            phase("fit_bgnbd_ms"),
            phase("fit_gg_ms"),
            phase("predict_ms"),
            phase("write_ms"),
            phase("python_start_ms") + phase("import_ms"),
        ));
        notes.push(format!(
            "Kehu = whole `kehu analyze` process (also RFM scores); floor and Kehu pinned to CPU {}",
            self.a.analysis_cpu
        ));
        self.push(Row {
            backend: String::new(),
            target: "T8".into(),
            operation: T8_OP.into(),
            floor: format!("lifetimes {}", secs(get("floor_ms"))),
            kehu: secs(get("kehu_ms")),
            ratio: times(series[0].median()),
            must: T8_MUST.into(),
            verdict: v,
            latency: "—".into(),
            notes: notes.join("; "),
            raw: json!({"runs": runs, "ratios": series[0].values, "agreement": agreement}),
        });
        Ok(())
    }

    // ------------------------------------------------------------------ T7
    fn classify_cmd(&self) -> std::process::Command {
        let mut c = self.kehu_cmd(&["classify", "--now"], &self.a.analysis_cpu);
        c.arg("--tenant").arg(super::TENANT);
        c
    }

    fn t7(&mut self, orders: &Orders) -> Result<()> {
        let as_of = beijing_today();
        let csv = orders.path.to_string_lossy().into_owned();
        let rfm_out = self.scratch.join("t7-duckdb-rfm.csv");
        let rfm_out_s = rfm_out.to_string_lossy().into_owned();
        let duck = |out: Option<&str>| -> Result<Value> {
            let mut args = vec![
                "duckdb",
                "--orders",
                &csv,
                "--as-of",
                &as_of,
                "--threads",
                "1",
            ];
            if let Some(o) = out {
                args.extend(["--out", o]);
            }
            parse_json(&tools::output(self.python(&args))?, "floors.py duckdb")
        };
        let has_classify = {
            let mut c = std::process::Command::new(&self.a.kehu);
            c.args(["classify", "--help"])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            c.status().map(|s| s.success()).unwrap_or(false)
        };
        if !has_classify {
            log("T7: `kehu classify` missing; measuring the floor alone");
            let d = duck(Some(&rfm_out_s))?;
            self.push(Row {
                backend: String::new(),
                target: "T7".into(),
                operation: T7_OP.into(),
                floor: format!("DuckDB RFM {}", secs(f(&d, "rfm_ms"))),
                kehu: "kehu classify missing".into(),
                ratio: "—".into(),
                must: T7_MUST.into(),
                verdict: "not run".into(),
                latency: "—".into(),
                notes: format!(
                    "`{} classify --help` failed: the command does not exist in this build; F_duckdb measured once: RFM query {} over {} customers / {} orders (DuckDB {}, 1 thread; loading the CSV {} apart)",
                    self.a.kehu.display(),
                    secs(f(&d, "rfm_ms")),
                    thousands(f(&d, "customers") as i64),
                    thousands(f(&d, "orders") as i64),
                    d["duckdb"].as_str().unwrap_or("?"),
                    secs(f(&d, "load_ms")),
                ),
                raw: json!({"duckdb": d}),
            });
            return Ok(());
        }
        let tenant = super::lit(super::TENANT);
        let classified_before: u64 = self
            .db
            .one(&format!(
                "SELECT count(*) FROM customer_insight WHERE tenant_id = (SELECT tenant_id FROM tenants WHERE slug = {tenant})"
            ))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        // One untimed run first: on a database never classified it writes
        // every result (reported in the notes); the timed pairs are then
        // re-classifications, as T7 names them, with a warm page cache.
        log(format!(
            "T7: first `kehu classify` (untimed; {classified_before} customers classified before)"
        ));
        let t = Instant::now();
        let first = parse_json(&tools::output(self.classify_cmd())?, "kehu classify")?;
        let first_wall = t.elapsed().as_secs_f64() * 1000.0;
        log(format!("T7 first run: {first} ({first_wall:.0} ms wall)"));
        let (runs, series) = block(
            "T7",
            self.a.reps,
            |i| {
                let d = duck(if i == 0 { Some(&rfm_out_s) } else { None })?;
                let t = Instant::now();
                let k = parse_json(&tools::output(self.classify_cmd())?, "kehu classify")?;
                let wall = t.elapsed().as_secs_f64() * 1000.0;
                for key in ["compute_ms", "total_ms"] {
                    if !k[key].is_number() {
                        bail!("kehu classify printed no {key}: {k}");
                    }
                }
                Ok(json!({"duckdb": d, "kehu": k, "kehu_wall_ms": wall}))
            },
            &[
                ("compute / F_duckdb", &|r: &Value| {
                    f(&r["kehu"], "compute_ms") / f(&r["duckdb"], "rfm_ms")
                }),
                ("end to end / F_duckdb", &|r: &Value| {
                    f(&r["kehu"], "total_ms") / f(&r["duckdb"], "rfm_ms")
                }),
            ],
        )?;
        let get = |a: &str, k: &str| median(&runs.iter().map(|r| f(&r[a], k)).collect::<Vec<_>>());
        let wall = median(
            &runs
                .iter()
                .map(|r| f(r, "kehu_wall_ms"))
                .collect::<Vec<_>>(),
        );
        let d0 = &runs[0]["duckdb"];

        // RFM agreement: Kehu's stored scores vs DuckDB's NTILE(5).
        let rfm_note = match self.t7_rfm_agreement(&rfm_out) {
            Ok(v) => {
                let mism = f(&v, "r_score_mismatches")
                    + f(&v, "f_score_mismatches")
                    + f(&v, "m_score_mismatches");
                (
                    Some(mism),
                    format!(
                        "RFM agreement with DuckDB: {} customers compared ({} scored by Kehu, {} by DuckDB), mismatching scores R {:.0}, F {:.0}, M {:.0}",
                        thousands(f(&v, "joined") as i64),
                        thousands(f(&v, "customers_kehu") as i64),
                        thousands(f(&v, "customers_duckdb") as i64),
                        f(&v, "r_score_mismatches"),
                        f(&v, "f_score_mismatches"),
                        f(&v, "m_score_mismatches"),
                    ),
                )
            }
            Err(e) => (None, format!("RFM agreement not checked: {e:#}")),
        };
        let common = vec![
            rfm_note.1.clone(),
            format!(
                "Kehu: {} customers, first run ({} classified before) {}; F_duckdb: RFM query over {} customers / {} orders (DuckDB {}, 1 thread, in memory; loading the CSV {} apart); as of {as_of}; pinned to CPU {}",
                thousands(get("kehu", "customers") as i64),
                thousands(classified_before as i64),
                describe(&first, first_wall),
                thousands(f(d0, "customers") as i64),
                thousands(f(d0, "orders") as i64),
                d0["duckdb"].as_str().unwrap_or("?"),
                secs(get("duckdb", "load_ms")),
                self.a.analysis_cpu
            ),
        ];
        let rfm_check = rfm_note
            .0
            .map(|m| Check::max("RFM scores equal DuckDB's", Series::exact(m), 0.0));
        for (idx, (label, kehu_key, limit, goal_limit, must)) in [
            ("computing", "compute_ms", 0.5, 0.25, "≤ 0.5× F_duckdb"),
            (
                "end to end (results + change history written)",
                "total_ms",
                2.0,
                1.0,
                "≤ 2× F_duckdb",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let mut checks = vec![Check::max(must, series[idx].clone(), limit)];
            checks.extend(rfm_check.clone());
            let (v, mut notes) = verdict_with_reran(&checks, &series[idx]);
            notes.push(goal(
                series[idx].median() <= goal_limit,
                &format!("≤ {goal_limit}×"),
            ));
            if idx == 1 {
                notes.push(format!("process wall time {}", secs(wall)));
            }
            notes.extend(common.clone());
            self.push(Row {
                backend: String::new(),
                target: "T7".into(),
                operation: format!("full re-classification, {label}"),
                floor: format!("DuckDB RFM {}", secs(get("duckdb", "rfm_ms"))),
                kehu: secs(get("kehu", kehu_key)),
                ratio: times(series[idx].median()),
                must: must.into(),
                verdict: v,
                latency: "—".into(),
                notes: notes.join("; "),
                raw: json!({"runs": runs, "ratios": series[idx].values, "first_run": first}),
            });
        }
        Ok(())
    }

    /// Kehu's stored R/F/M scores, exported and compared with DuckDB's.
    fn t7_rfm_agreement(&self, duck_csv: &Path) -> Result<Value> {
        if !duck_csv.exists() {
            bail!("no DuckDB RFM output");
        }
        let out = self.scratch.join("t7-kehu-rfm.csv");
        let tenant = super::lit(super::TENANT);
        let select = format!(
            "SELECT customer_id, r_score, f_score, m_score FROM customer_insight \
             WHERE tenant_id = (SELECT tenant_id FROM tenants WHERE slug = {tenant}) AND r_score IS NOT NULL"
        );
        let script = match &self.db {
            Db::Sqlite { .. } => format!(
                ".headers on\n.mode csv\n.separator , \"\\n\"\n.output '{}'\n{select};\n",
                out.display()
            ),
            Db::Postgres { .. } => format!(
                "\\copy ({select}) TO '{}' WITH (FORMAT csv, HEADER)\n",
                out.display()
            ),
        };
        tools::output_stdin(self.db.cli(None), &script)?;
        let v = parse_json(
            &tools::output(self.python(&[
                "compare-rfm",
                "--kehu",
                &out.to_string_lossy(),
                "--duckdb",
                &duck_csv.to_string_lossy(),
            ]))?,
            "floors.py compare-rfm",
        )?;
        log(format!("T7 RFM agreement: {v}"));
        Ok(v)
    }
}

const T8_OP: &str = "BG/NBD + Gamma-Gamma fit; per customer P(alive), expected purchases, expected spend, CLV (`kehu analyze` on the order CSV)";
const T8_MUST: &str = "≤ 0.1× F_lifetimes, same answers";
const T7_OP: &str = "full re-classification (`kehu classify --now`)";
const T7_MUST: &str = "computing ≤ 0.5× F_duckdb; end to end ≤ 2×";

/// `kehu classify`'s JSON in a few words.
fn describe(k: &Value, wall_ms: f64) -> String {
    let mut parts = Vec::new();
    for key in ["compute_ms", "total_ms"] {
        if let Some(v) = k[key].as_f64() {
            parts.push(format!("{key} {v:.0}"));
        }
    }
    for (key, v) in k.as_object().into_iter().flatten() {
        if !["compute_ms", "total_ms", "customers"].contains(&key.as_str()) && v.is_number() {
            parts.push(format!("{key} {v}"));
        }
    }
    parts.push(format!("wall {wall_ms:.0} ms"));
    parts.join(", ")
}

/// `stats::verdict` plus the rerun note the other rows carry.
fn verdict_with_reran(checks: &[Check], s: &Series) -> (String, Vec<String>) {
    let (v, mut n) = crate::stats::verdict(checks);
    if s.reran {
        n.push("block rerun once (runs varied > 10 %)".into());
    }
    (v, n)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn day_numbers_to_dates() {
        assert_eq!(civil_from_days(0), "1970-01-01");
        assert_eq!(civil_from_days(11_016), "2000-02-29");
        assert_eq!(civil_from_days(20_415), "2025-11-23");
        assert_eq!(civil_from_days(20_780), "2026-11-23");
        assert_eq!(civil_from_days(-1), "1969-12-31");
    }
}
