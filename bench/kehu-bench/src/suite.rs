//! The suite: T1, T2, T3, T4, T7, T8, T10 and T11 of PERFORMANCE.md, each
//! against its floor measured in the same run, floor and Kehu interleaved,
//! ratio = median of the pairwise ratios, rerun-once-then-inconclusive.
//! T7 and T8 (classification, CLV models) live in `suite/analysis.rs`.

mod analysis;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use serde_json::{Value, json};

use crate::load::now_ms;
use crate::stats::{Check, MAX_SPREAD, Series, cv, median, percentile, verdict};
use crate::tools::{self, Cred, Db, Http, LOAD_CPU, SERVER_CPU, Server, lit, pinned};

#[derive(clap::Args, Clone)]
pub struct SuiteArgs {
    /// sqlite, postgres or both.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    #[arg(long, default_value_t = 1_000_000)]
    customers: usize,
    /// Where the seeded databases, key files and scratch files live.
    #[arg(long, default_value = "bench/data")]
    data: PathBuf,
    #[arg(long, default_value = "target/release/kehu")]
    kehu: PathBuf,
    #[arg(long, default_value = "target/release/floor-json")]
    floor: PathBuf,
    #[arg(long, default_value = "bench/wrk/paths.lua")]
    wrk_script: PathBuf,
    /// The results table (Markdown); raw runs go next to it as .json.
    #[arg(long, default_value = "bench/results/latest.md")]
    out: PathBuf,
    /// PostgreSQL server (trust auth); the database is kehu_bench_<N>.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pg: String,
    /// Floor/Kehu pairs per block.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Seconds per wrk (throughput) run.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Seconds per oha (latency) run.
    #[arg(long, default_value_t = 8)]
    latency_seconds: u64,
    /// Seconds per T4 writers run.
    #[arg(long, default_value_t = 8)]
    write_seconds: u64,
    /// Connections for wrk and oha.
    #[arg(long, default_value_t = 16)]
    connections: u32,
    /// Floor/Kehu pairs for T10 (each backs up the whole database twice).
    #[arg(long)]
    backup_reps: Option<usize>,
    /// CPUs for the T10 backups (floor and Kehu alike), as taskset takes
    /// them: the server's CPU by default; "0,1" lets them use both.
    #[arg(long, default_value = SERVER_CPU)]
    backup_cpu: String,
    /// Targets to leave out (T1, T2, T3, T4, T7, T8, T10, T11); repeatable.
    #[arg(long)]
    skip: Vec<String>,
    /// Python of bench/.venv (duckdb and lifetimes pinned; bench/run makes it).
    #[arg(long, default_value = "bench/.venv/bin/python")]
    python: PathBuf,
    /// The Python floors of T7 (F_duckdb) and T8 (F_lifetimes).
    #[arg(long, default_value = "bench/python/floors.py")]
    floors_py: PathBuf,
    /// CPUs for T7/T8 (floor and Kehu alike), as taskset takes them.
    #[arg(long, default_value = SERVER_CPU)]
    analysis_cpu: String,
    /// The command line to quote in the report.
    #[arg(long, default_value = "bench/run")]
    command: String,
}

/// One line of the results table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub backend: String,
    pub target: String,
    pub operation: String,
    pub floor: String,
    pub kehu: String,
    pub ratio: String,
    pub must: String,
    pub verdict: String,
    pub latency: String,
    pub notes: String,
    /// Every run's numbers, for latest.json.
    pub raw: Value,
}

const TENANT: &str = "bench";
const KEHU_PORT: u16 = 18080;
const FLOOR_PORT: u16 = 18081;
const T11_PORT: u16 = 18082;

/// `kehu serve` catches up a missed nightly classification when it starts
/// (on a freshly seeded database, always): a run of the whole tenant that
/// would otherwise share the CPU with the first measurements. Waits until
/// the server's latest run is no longer running.
fn wait_for_background_runs(http: &Http, admin: &Cred) -> Result<()> {
    // The scheduler enqueues at start; the worker looks every 2 s.
    std::thread::sleep(Duration::from_secs(5));
    let t = Instant::now();
    loop {
        let r = http.get("/api/v1/insight/runs", admin)?;
        if r.status != 200 {
            bail!("GET /insight/runs: {} {}", r.status, r.body);
        }
        if r.body["items"][0]["status"] != "running" {
            break;
        }
        if t.elapsed() > Duration::from_secs(1800) {
            bail!("a classification run was still running after 30 min");
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    if t.elapsed() > Duration::from_secs(1) {
        log(format!(
            "waited {:.0} s for the server's catch-up classification run",
            t.elapsed().as_secs_f64()
        ));
    }
    Ok(())
}

fn log(msg: impl AsRef<str>) {
    eprintln!("[bench {}] {}", hms(), msg.as_ref());
}

fn hms() -> String {
    let s = (now_ms() / 1000.0) as u64 % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn password(login: &str) -> String {
    format!("demo-{login}-2026")
}

fn pct(v: f64) -> String {
    if v < 0.1 {
        format!("{:.1} %", v * 100.0)
    } else {
        format!("{:.0} %", v * 100.0)
    }
}

fn ms(v: f64) -> String {
    if v.is_nan() {
        "none completed".into()
    } else if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

fn rate(v: f64, unit: &str) -> String {
    format!("{} {unit}", thousands(v.round() as i64))
}

fn thousands(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A named number taken from each run of a block.
type Key<'a, T> = (&'a str, &'a dyn Fn(&T) -> f64);

/// An extra check computed from a read row's latency.
type LatCheck = Box<dyn Fn(&Lat) -> Check>;

/// Runs a block `reps` times; when a key series' coefficient of variation
/// exceeds 10 % the whole block is rerun once, and a key that is still
/// beyond it is marked noisy (reported as inconclusive, never as a pass).
fn block<T: Clone>(
    label: &str,
    reps: usize,
    mut run: impl FnMut(usize) -> Result<T>,
    keys: &[Key<T>],
) -> Result<(Vec<T>, Vec<Series>)> {
    let mut reran = false;
    loop {
        let mut runs = Vec::with_capacity(reps);
        for i in 0..reps {
            runs.push(run(i)?);
        }
        let series: Vec<Series> = keys
            .iter()
            .map(|(_, f)| Series {
                values: runs.iter().map(f).collect(),
                noisy: false,
                reran,
            })
            .collect();
        let noisy: Vec<&str> = keys
            .iter()
            .zip(&series)
            .filter(|(_, s)| cv(&s.values) > MAX_SPREAD)
            .map(|((k, _), _)| *k)
            .collect();
        for ((k, _), s) in keys.iter().zip(&series) {
            log(format!(
                "{label}: {k} = {:?} (cv {:.1} %)",
                s.values
                    .iter()
                    .map(|v| (v * 1000.0).round() / 1000.0)
                    .collect::<Vec<_>>(),
                cv(&s.values) * 100.0
            ));
        }
        if noisy.is_empty() {
            return Ok((runs, series));
        }
        if reran {
            log(format!(
                "{label}: still noisy after rerun ({noisy:?}): inconclusive"
            ));
            let series = keys
                .iter()
                .zip(series)
                .map(|((k, _), mut s)| {
                    s.noisy = noisy.contains(k);
                    s
                })
                .collect();
            return Ok((runs, series));
        }
        log(format!(
            "{label}: runs vary > 10 % ({noisy:?}); rerunning the block once"
        ));
        reran = true;
    }
}

/// Everything one backend's run needs.
struct Bench<'a> {
    a: &'a SuiteArgs,
    db: Db,
    /// `--database-url` for kehu.
    url: String,
    key_file: Option<PathBuf>,
    scratch: PathBuf,
    rows: Vec<Row>,
    /// The first backend of the run: T8 (a CSV in, a CSV out; no
    /// database) runs only there.
    first: bool,
}

pub fn run(a: SuiteArgs) -> Result<()> {
    let backends: Vec<&str> = match a.backend.as_str() {
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        "both" => vec!["sqlite", "postgres"],
        other => bail!("--backend must be sqlite, postgres or both, not {other}"),
    };
    for tool in ["wrk", "taskset", "sqlite3"] {
        which(tool)?;
    }
    let started = now_ms();
    let code = code_version();
    let mut rows: Vec<Row> = Vec::new();
    let mut failures = Vec::new();
    for (bi, b) in backends.into_iter().enumerate() {
        let n = a.customers;
        let (db, url, key_file) = match b {
            "sqlite" => {
                let path = a.data.join(format!("sqlite-{n}.db"));
                (
                    Db::Sqlite { path: path.clone() },
                    format!("sqlite://{}", path.display()),
                    None,
                )
            }
            _ => {
                which("psql")?;
                let url = format!("{}/kehu_bench_{n}", a.pg.trim_end_matches('/'));
                (
                    Db::Postgres { url: url.clone() },
                    url,
                    Some(a.data.join(format!("pg-{n}.key"))),
                )
            }
        };
        let scratch = a.data.join("tmp");
        std::fs::create_dir_all(&scratch)?;
        let mut bench = Bench {
            a: &a,
            db,
            url,
            key_file,
            scratch,
            rows: Vec::new(),
            first: bi == 0,
        };
        log(format!("=== {} with {n} customers ===", bench.db.label()));
        let r = bench.all();
        rows.extend(std::mem::take(&mut bench.rows));
        if let Err(e) = r {
            log(format!("{b}: suite stopped: {e:#}"));
            failures.push(format!("{b}: {e:#}"));
        }
        write_report(&a, &rows, started, &code, &failures)?;
    }
    let md = std::fs::read_to_string(&a.out)?;
    println!("{md}");
    if !failures.is_empty() {
        bail!("the suite stopped early: {}", failures.join("; "));
    }
    Ok(())
}

fn which(tool: &str) -> Result<()> {
    let ok = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()?
        .success();
    if !ok {
        bail!("{tool} is not installed (bench/run installs it)");
    }
    Ok(())
}

impl Bench<'_> {
    fn skip(&self, t: &str) -> bool {
        self.a.skip.iter().any(|s| s.eq_ignore_ascii_case(t))
    }

    fn backend(&self) -> String {
        self.db.label().to_string()
    }

    fn kehu_cmd(&self, args: &[&str], cpu: &str) -> std::process::Command {
        let mut c = pinned(cpu, &self.a.kehu);
        c.args(args).arg("--database-url").arg(&self.url);
        if let Some(k) = &self.key_file {
            c.arg("--key-file").arg(k);
        }
        c.env("KEHU_LOG", "warn");
        c
    }

    fn serve(&self, port: u16, log_name: &str) -> Result<Server> {
        let mut c = self.kehu_cmd(&["serve"], SERVER_CPU);
        c.arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--metrics")
            .arg("off");
        Server::spawn("kehu serve", c, &self.scratch.join(log_name))
    }

    fn all(&mut self) -> Result<()> {
        if !self.skip("T7") || !self.skip("T8") {
            self.analysis()?;
        }
        if !["T1", "T2", "T3", "T4", "T10"].iter().all(|t| self.skip(t)) {
            self.served()?;
        }
        // Last: T11 stops each server it starts, and on a never-classified
        // database a stopped server may have claimed the catch-up run, whose
        // job lease (30 min) would then hold up the blocks above.
        if !self.skip("T11") {
            self.t11()?;
        }
        Ok(())
    }

    /// The blocks measured against one running server (T1-T4, T10).
    fn served(&mut self) -> Result<()> {
        let mut kehu = self.serve(KEHU_PORT, "kehu-serve.log")?;
        let http = Http::new(&format!("http://127.0.0.1:{KEHU_PORT}"))?;
        http.wait_ready(Duration::from_secs(60))?;
        let mut floor_c = pinned(SERVER_CPU, &self.a.floor);
        floor_c.arg(format!("127.0.0.1:{FLOOR_PORT}"));
        let mut floor = Server::spawn("floor-json", floor_c, &self.scratch.join("floor.log"))?;
        wait_port(FLOOR_PORT)?;

        // The admin uses an API token; sales users may not make tokens, so
        // they use the session cookie (with its CSRF token for writes).
        log("signing in: admin (API token), bench.sales03..10 (session cookies)");
        let admin = http.token(TENANT, "admin", &password("admin"))?;
        wait_for_background_runs(&http, &admin)?;
        let writers: Vec<Cred> = (3..=10)
            .map(|i| {
                let login = format!("bench.sales{i:02}");
                http.login(TENANT, &login, &password(&login))
            })
            .collect::<Result<_>>()?;
        let sales = writers[0].clone();
        let sales_id = self.db.one(&format!(
            "SELECT id FROM users WHERE login = {}",
            lit("bench.sales03")
        ))?;
        let ctx = Ctx {
            http,
            admin,
            sales,
            sales_id,
            writers,
            kehu_pid: kehu.pid(),
            floor_pid: floor.pid(),
        };
        let r = (|| -> Result<()> {
            if !self.skip("T1") {
                self.t1(&ctx)?;
            }
            if !self.skip("T2") {
                self.t2(&ctx)?;
            }
            if !self.skip("T3") {
                self.t3(&ctx)?;
            }
            if !self.skip("T4") {
                self.t4(&ctx)?;
            }
            if !self.skip("T10") {
                self.t10(&ctx)?;
            }
            Ok(())
        })();
        if let Ok(rss) = tools::rss_mib(ctx.kehu_pid) {
            log(format!("kehu serve RSS after the load: {rss:.1} MiB"));
        }
        kehu.stop();
        floor.stop();
        r
    }

    fn push(&mut self, mut row: Row) {
        row.backend = self.backend();
        log(format!(
            "{} {} {}: floor {} | kehu {} | ratio {} | {} | {} {}",
            row.backend,
            row.target,
            row.operation,
            row.floor,
            row.kehu,
            row.ratio,
            row.latency,
            row.verdict,
            row.notes
        ));
        self.rows.push(row);
    }

    fn write_lines(&self, name: &str, lines: &[String]) -> Result<PathBuf> {
        let p = self.scratch.join(name);
        std::fs::write(&p, lines.join("\n") + "\n")?;
        Ok(p)
    }

    /// Customer ids spread over the table (deterministic), optionally of one owner.
    fn sample_ids(&self, owner: Option<&str>, n: usize) -> Result<Vec<String>> {
        let owner = owner
            .map(|o| format!(" AND owner_id = {}", lit(o)))
            .unwrap_or_default();
        let ids: Vec<String> = self
            .db
            .rows(&format!(
                "SELECT id FROM customers WHERE deleted_at IS NULL{owner} ORDER BY (rid * 2654435761) % 1000003 LIMIT {n}"
            ))?
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect();
        if ids.is_empty() {
            bail!("no customers in the database");
        }
        Ok(ids)
    }

    // ---------------------------------------------------------------- T11
    fn t11(&mut self) -> Result<()> {
        log("T11: start kehu serve, wait for /healthz 200, idle RSS");
        let http = Http::new(&format!("http://127.0.0.1:{T11_PORT}"))?;
        let (runs, series) = block(
            "T11",
            self.a.reps,
            |_| {
                let mut s = self.serve(T11_PORT, "t11.log")?;
                let ready = http.wait_ready(Duration::from_secs(60))?;
                std::thread::sleep(Duration::from_secs(2));
                let rss = tools::rss_mib(s.pid())?;
                s.stop();
                std::thread::sleep(Duration::from_millis(300));
                Ok((ready.as_secs_f64() * 1000.0, rss))
            },
            &[
                ("ready ms", &|r: &(f64, f64)| r.0),
                ("idle RSS MiB", &|r: &(f64, f64)| r.1),
            ],
        )?;
        let raw = json!({"ready_ms": series[0].values, "rss_mib": series[1].values});
        let c = Check::max("ready ≤ 1 s", series[0].clone(), 1000.0);
        let (v, n) = verdict(&[c]);
        self.push(Row {
            backend: String::new(),
            target: "T11".into(),
            operation: "time to ready: `kehu serve` start → /healthz 200".into(),
            floor: "—".into(),
            kehu: ms(series[0].median()),
            ratio: "—".into(),
            must: "≤ 1 s".into(),
            verdict: v,
            latency: "—".into(),
            notes: n.join("; "),
            raw: raw.clone(),
        });
        let c = Check::max("idle RSS ≤ 64 MB", series[1].clone(), 64.0);
        let (v, mut n) = verdict(&[c]);
        n.push(goal(series[1].median() <= 40.0, "≤ 40 MB"));
        let _ = runs;
        self.push(Row {
            backend: String::new(),
            target: "T11".into(),
            operation: "idle RSS of `kehu serve` 2 s after ready (VmRSS)".into(),
            floor: "—".into(),
            kehu: format!("{:.1} MiB", series[1].median()),
            ratio: "—".into(),
            must: "≤ 64 MB".into(),
            verdict: v,
            latency: "—".into(),
            notes: n.join("; "),
            raw,
        });
        Ok(())
    }

    // ---------------------------------------------------------- HTTP blocks
    /// wrk floor/Kehu pairs over the same request paths; ratio = Kehu / floor.
    fn throughput(&self, ctx: &Ctx, label: &str, paths: &Path, token: &Cred) -> Result<Thr> {
        // Warm-up (not counted): caches, connections, JIT-free but page cache matters.
        tools::wrk(
            &self.a.wrk_script,
            KEHU_PORT,
            paths,
            token,
            2,
            self.a.connections,
            ctx.kehu_pid,
        )?;
        let (runs, series) = block(
            label,
            self.a.reps,
            |_| {
                let f = tools::wrk(
                    &self.a.wrk_script,
                    FLOOR_PORT,
                    paths,
                    token,
                    self.a.seconds,
                    self.a.connections,
                    ctx.floor_pid,
                )?;
                let k = tools::wrk(
                    &self.a.wrk_script,
                    KEHU_PORT,
                    paths,
                    token,
                    self.a.seconds,
                    self.a.connections,
                    ctx.kehu_pid,
                )?;
                if k.non_2xx > 0 || k.socket_errors > 0 {
                    bail!(
                        "{label}: Kehu answered {} non-2xx responses ({} socket errors)",
                        k.non_2xx,
                        k.socket_errors
                    );
                }
                Ok((f, k))
            },
            &[("Kehu/F_json", &|r: &(tools::WrkOut, tools::WrkOut)| {
                r.1.rps / r.0.rps
            })],
        )?;
        Ok(Thr {
            floor_rps: median(&runs.iter().map(|r| r.0.rps).collect::<Vec<_>>()),
            kehu_rps: median(&runs.iter().map(|r| r.1.rps).collect::<Vec<_>>()),
            floor_cores: median(&runs.iter().map(|r| r.0.server_cores).collect::<Vec<_>>()),
            kehu_cores: median(&runs.iter().map(|r| r.1.server_cores).collect::<Vec<_>>()),
            ratio: series[0].clone(),
            raw: json!(runs),
        })
    }

    /// oha at `rate` (open loop), `reps` runs; p50/p99 medians.
    fn latency(&self, label: &str, urls: &Path, token: &Cred, rate: f64) -> Result<Lat> {
        let (runs, series) = block(
            label,
            self.a.reps,
            |_| {
                let o = tools::oha(
                    urls,
                    token,
                    rate,
                    self.a.latency_seconds,
                    self.a.connections,
                )?;
                if o.non_2xx > 0 || o.errors > 0 {
                    bail!(
                        "{label}: {} non-2xx responses, {} errors",
                        o.non_2xx,
                        o.errors
                    );
                }
                Ok(o)
            },
            &[("p99 ms", &|o: &tools::OhaOut| o.p99_ms)],
        )?;
        Ok(Lat {
            p50: median(&runs.iter().map(|o| o.p50_ms).collect::<Vec<_>>()),
            p99: series[0].clone(),
            rate,
            raw: json!(runs),
        })
    }

    fn urls(&self, name: &str, paths: &[String], port: u16) -> Result<PathBuf> {
        let lines: Vec<String> = paths
            .iter()
            .map(|p| format!("http://127.0.0.1:{port}{p}"))
            .collect();
        self.write_lines(name, &lines)
    }

    /// A read row: throughput vs F_json plus latency at 50 % of Kehu's max.
    fn read_row(&mut self, ctx: &Ctx, spec: ReadSpec) -> Result<Lat> {
        let ReadSpec {
            target,
            operation,
            file,
            paths,
            token,
            min_ratio,
            goal_ratio,
            max_p99,
            extra,
            extra_must,
            mut notes,
        } = spec;
        let pf = self.write_lines(&format!("{file}.paths"), &paths)?;
        let uf = self.urls(&format!("{file}.urls"), &paths, KEHU_PORT)?;
        let thr = self.throughput(ctx, &format!("{target} {file}"), &pf, &token)?;
        let lat = self.latency(
            &format!("{target} {file} latency"),
            &uf,
            &token,
            thr.kehu_rps * 0.5,
        )?;
        let mut checks = vec![
            Check::min(
                &format!("≥ {} of F_json", pct(min_ratio)),
                thr.ratio.clone(),
                min_ratio,
            ),
            Check::max(&format!("p99 ≤ {max_p99} ms"), lat.p99.clone(), max_p99),
        ];
        if let Some(f) = extra {
            let c = f(&lat);
            notes.push(format!("{} = {:.2}", c.what, c.series.median()));
            checks.push(c);
        }
        let (v, n) = verdict(&checks);
        notes.extend(n);
        notes.push(goal(
            thr.ratio.median() >= goal_ratio,
            &format!("≥ {}", pct(goal_ratio)),
        ));
        notes.push(format!(
            "server CPU during wrk: F_json {:.2}, Kehu {:.2} cores; per server CPU-second Kehu = {} of F_json",
            thr.floor_cores,
            thr.kehu_cores,
            pct((thr.kehu_rps / thr.kehu_cores) / (thr.floor_rps / thr.floor_cores))
        ));
        if thr.ratio.reran || lat.p99.reran {
            notes.push("block rerun once (runs varied > 10 %)".into());
        }
        self.push(Row {
            backend: String::new(),
            target: target.into(),
            operation,
            floor: rate(thr.floor_rps, "req/s"),
            kehu: rate(thr.kehu_rps, "req/s"),
            ratio: pct(thr.ratio.median()),
            must: format!("≥ {} of F_json, p99 ≤ {max_p99} ms{extra_must}", pct(min_ratio)),
            verdict: v,
            latency: format!(
                "{} / {} at {}",
                ms(lat.p50),
                ms(lat.p99.median()),
                rate(lat.rate, "req/s")
            ),
            notes: notes.join("; "),
            raw: json!({"throughput": thr.raw, "ratios": thr.ratio.values, "latency": lat.raw, "p99": lat.p99.values}),
        });
        Ok(lat)
    }

    // ------------------------------------------------------------------ T1
    fn t1(&mut self, ctx: &Ctx) -> Result<()> {
        let own = self.sample_ids(Some(&ctx.sales_id), 1000)?;
        let any = self.sample_ids(None, 1000)?;
        // Sanity: the sales user sees their own customer, masked, and not others'.
        let r = ctx
            .http
            .get(&format!("/api/v1/customers/{}", own[0]), &ctx.sales)?;
        if r.status != 200 {
            bail!(
                "T1: sales user cannot read own customer: {} {}",
                r.status,
                r.body
            );
        }
        let masked = r.body["masked"].as_array().map(|a| a.len()).unwrap_or(0);
        let other = self.db.one(&format!(
            "SELECT id FROM customers WHERE owner_id <> {} AND deleted_at IS NULL LIMIT 1",
            lit(&ctx.sales_id)
        ))?;
        let r2 = ctx
            .http
            .get(&format!("/api/v1/customers/{other}"), &ctx.sales)?;
        if r2.status != 404 {
            bail!(
                "T1: scope own not enforced: {} for another owner's customer",
                r2.status
            );
        }
        let paths: Vec<String> = own
            .iter()
            .map(|i| format!("/api/v1/customers/{i}"))
            .collect();
        let sales = ctx.sales.clone();
        self.read_row(
            ctx,
            ReadSpec::new(
                "T1",
                "GET /customers/{id}, sales user (scope own), 1,000 of their ids round-robin",
                "t1-sales",
                paths,
                &sales,
                (0.5, 0.7, 5.0),
            )
            .note(format!(
                "auth: {}; {masked} fields masked in the response",
                ctx.sales.kind()
            )),
        )?;
        let paths: Vec<String> = any
            .iter()
            .map(|i| format!("/api/v1/customers/{i}"))
            .collect();
        let admin = ctx.admin.clone();
        self.read_row(
            ctx,
            ReadSpec::new(
                "T1",
                "GET /customers/{id}, admin (scope all), 1,000 ids across the table",
                "t1-admin",
                paths,
                &admin,
                (0.5, 0.7, 5.0),
            )
            .note(format!("auth: {}", ctx.admin.kind())),
        )?;
        Ok(())
    }

    // ------------------------------------------------------------------ T2
    /// Follows `next_cursor` from the first page until `skip` rows are behind
    /// (200 rows a request), returning the cursor of the page after them.
    fn walk(&self, ctx: &Ctx, query: &str, skip: usize) -> Result<String> {
        let mut cursor: Option<String> = None;
        let mut behind = 0usize;
        let t = Instant::now();
        while behind < skip {
            let n = (skip - behind).min(200);
            let mut path = format!("/api/v1/customers?{query}&limit={n}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let r = ctx.http.get(&path, &ctx.admin)?;
            if r.status != 200 {
                bail!("walking {query}: {} {}", r.status, r.body);
            }
            let got = r.body["items"].as_array().map(|a| a.len()).unwrap_or(0);
            behind += got;
            cursor = r.body["next_cursor"].as_str().map(str::to_string);
            if cursor.is_none() || got == 0 {
                bail!("walking {query}: data ended after {behind} rows");
            }
        }
        log(format!(
            "walked {behind} rows ({query}) in {:.1}s",
            t.elapsed().as_secs_f64()
        ));
        cursor.ok_or_else(|| anyhow!("no cursor"))
    }

    fn t2(&mut self, ctx: &Ctx) -> Result<()> {
        let top = self.db.rows(
            "SELECT owner_id, count(*) FROM customers WHERE deleted_at IS NULL AND owner_id IS NOT NULL GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1",
        )?;
        let (owner, count) = match top.first() {
            Some(r) if r.len() >= 2 => (r[0].clone(), r[1].parse::<usize>()?),
            _ => bail!("T2: no owners"),
        };
        let total: usize = self
            .db
            .one("SELECT count(*) FROM customers WHERE deleted_at IS NULL")?
            .parse()?;
        let q = format!("owner_id={}&sort=-created_at", urlencode(&owner));
        let admin = ctx.admin.clone();
        let p1 = vec![format!("/api/v1/customers?{q}&limit=50")];
        let lat1 = self.read_row(
            ctx,
            ReadSpec::new(
                "T2",
                "list 50, owner filter, sort -created_at, page 1 (admin)",
                "t2-page1",
                p1,
                &admin,
                (0.15, 0.25, 20.0),
            )
            .note(format!("owner has {} customers", thousands(count as i64))),
        )?;
        let base = lat1.p99.median();
        let p1_noisy = lat1.p99.noisy;
        let deep = move |lat: &Lat| {
            Check::max(
                "deep p99 / page-1 p99",
                Series {
                    values: lat.p99.values.iter().map(|v| v / base).collect(),
                    noisy: lat.p99.noisy || p1_noisy,
                    reran: lat.p99.reran,
                },
                2.0,
            )
        };
        // Deepest full page of that owner (page 10,000 needs 500,000 rows).
        let page = (count / 50).clamp(1, 10_000);
        if page > 1 {
            let cur = self.walk(ctx, &q, (page - 1) * 50)?;
            let paths = vec![format!("/api/v1/customers?{q}&limit=50&cursor={cur}")];
            let r = ctx.http.get(&paths[0], &ctx.admin)?;
            let n = r.body["items"].as_array().map(|a| a.len()).unwrap_or(0);
            if n != 50 {
                bail!("T2 deep page has {n} items");
            }
            self.read_row(
                ctx,
                ReadSpec::new(
                    "T2",
                    &format!(
                        "same owner, page {} (its deepest full page; cursors followed)",
                        thousands(page as i64)
                    ),
                    "t2-deep-owner",
                    paths,
                    &admin,
                    (0.15, 0.25, 20.0),
                )
                .deep(Box::new(deep)),
            )?;
        }
        let page = (total / 50).clamp(1, 10_000);
        if page > 1 {
            let qa = "sort=-created_at";
            let cur = self.walk(ctx, qa, (page - 1) * 50)?;
            let paths = vec![format!("/api/v1/customers?{qa}&limit=50&cursor={cur}")];
            self.read_row(
                ctx,
                ReadSpec::new(
                    "T2",
                    &format!(
                        "list 50, no filter, sort -created_at, page {} (admin; cursors followed)",
                        thousands(page as i64)
                    ),
                    "t2-deep-all",
                    paths,
                    &admin,
                    (0.15, 0.25, 20.0),
                )
                .deep(Box::new(deep)),
            )?;
        }
        Ok(())
    }

    // ------------------------------------------------------------------ T3
    fn t3(&mut self, ctx: &Ctx) -> Result<()> {
        // Ten person names spread over the table.
        let names: Vec<String> = self
            .db
            .rows("SELECT name FROM customers WHERE kind = 'person' AND deleted_at IS NULL AND length(name) = 3 ORDER BY (rid * 2654435761) % 1000003 LIMIT 10")?
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect();
        if names.is_empty() {
            bail!("T3: no 3-character person names");
        }
        // 2-character substring: the given name (not a prefix of the name).
        let cjk: Vec<(String, String)> = names
            .iter()
            .map(|n| {
                let s: String = n.chars().skip(1).take(2).collect();
                (s.clone(), s)
            })
            .collect();
        // Pinyin initials of the whole name (王伟明 → wwm), as Kehu indexes them.
        let initials: Vec<(String, String)> = names
            .iter()
            .filter_map(|n| {
                let ascii: Vec<String> = kehu_domain::search::index_terms(n, true)
                    .into_iter()
                    .filter(|t| t.chars().all(|c| c.is_ascii_lowercase()))
                    .collect();
                let want = n.chars().count();
                ascii
                    .into_iter()
                    .find(|t| t.len() == want)
                    .map(|t| (t, n.clone()))
            })
            .collect();
        // Phones: revealed by the admin (audited), searched as typed (11 digits).
        let ids = self.sample_ids(None, 40)?;
        let mut phones: Vec<(String, String)> = Vec::new();
        for id in ids {
            if phones.len() == 10 {
                break;
            }
            let r = ctx.http.call(
                reqwest::Method::POST,
                &format!("/api/v1/customers/{id}/reveal"),
                &ctx.admin,
                Some(&json!({"fields": ["phones"], "reason": "kehu-bench T3 phone search"})),
            )?;
            if r.status != 200 {
                bail!("T3: reveal: {} {}", r.status, r.body);
            }
            if let Some(p) = r.body["phones"][0].as_str() {
                let national = p.strip_prefix("+86").unwrap_or(p).to_string();
                if national.starts_with('1') && national.len() == 11 {
                    phones.push((national.clone(), national));
                }
            }
        }
        for (kind, label, queries) in [
            ("cjk", "2-character Chinese substring (e.g. 伟明)", cjk),
            (
                "initials",
                "pinyin initials of a name (e.g. wwm → 王伟明)",
                initials,
            ),
            ("phone", "mobile number (blind index)", phones),
        ] {
            if queries.is_empty() {
                log(format!("T3 {kind}: no queries; skipped"));
                continue;
            }
            self.t3_one(ctx, kind, label, &queries)?;
        }
        Ok(())
    }

    /// `queries`: (what Kehu is asked, what the LIKE floor scans for).
    fn t3_one(
        &mut self,
        ctx: &Ctx,
        kind: &str,
        label: &str,
        queries: &[(String, String)],
    ) -> Result<()> {
        let paths: Vec<String> = queries
            .iter()
            .map(|(q, _)| format!("/api/v1/customers?q={}&limit=50", urlencode(q)))
            .collect();
        // Every query must answer; count how many find something.
        let mut found = 0;
        for p in &paths {
            let r = ctx.http.get(p, &ctx.admin)?;
            if r.status != 200 {
                bail!("T3 {kind}: {p}: {} {}", r.status, r.body);
            }
            if r.body["items"].as_array().is_some_and(|a| !a.is_empty()) {
                found += 1;
            }
        }
        let pf = self.write_lines(&format!("t3-{kind}.paths"), &paths)?;
        let uf = self.urls(&format!("t3-{kind}.urls"), &paths, KEHU_PORT)?;
        tools::wrk(
            &self.a.wrk_script,
            KEHU_PORT,
            &pf,
            &ctx.admin,
            2,
            self.a.connections,
            ctx.kehu_pid,
        )?;
        let max = tools::wrk(
            &self.a.wrk_script,
            KEHU_PORT,
            &pf,
            &ctx.admin,
            self.a.seconds,
            self.a.connections,
            ctx.kehu_pid,
        )?;
        let scans: Vec<String> = queries
            .iter()
            .map(|(_, like)| {
                format!(
                    "SELECT count(*) FROM customers WHERE name LIKE {}",
                    lit(&format!("%{like}%"))
                )
            })
            .collect();
        let mut matches: Vec<f64> = Vec::new();
        let (runs, series) = block(
            &format!("T3 {kind}"),
            self.a.reps,
            |i| {
                let t = self.db.timed(&scans, Some(SERVER_CPU))?;
                if i == 0 && matches.is_empty() {
                    // Row counts of the LIKE floor: how selective the queries are.
                    for s in &scans {
                        matches.push(self.db.one(s)?.parse().unwrap_or(f64::NAN));
                    }
                }
                let scan = median(&t);
                let o = tools::oha(
                    &uf,
                    &ctx.admin,
                    max.rps * 0.5,
                    self.a.latency_seconds,
                    self.a.connections,
                )?;
                if o.non_2xx > 0 || o.errors > 0 {
                    bail!("T3 {kind}: {} non-2xx, {} errors", o.non_2xx, o.errors);
                }
                Ok((scan, o))
            },
            &[
                ("p99/F_scan", &|r: &(f64, tools::OhaOut)| r.1.p99_ms / r.0),
                ("p99 ms", &|r: &(f64, tools::OhaOut)| r.1.p99_ms),
            ],
        )?;
        let scan = median(&runs.iter().map(|r| r.0).collect::<Vec<_>>());
        let p50 = median(&runs.iter().map(|r| r.1.p50_ms).collect::<Vec<_>>());
        let p99 = series[1].median();
        let checks = vec![
            Check::max("p99 ≤ 20 ms", series[1].clone(), 20.0),
            Check::max("p99 ≤ 0.1× F_scan", series[0].clone(), 0.1),
        ];
        let (v, mut notes) = verdict(&checks);
        notes.insert(
            0,
            format!(
                "{} queries, {found} with hits; LIKE matches median {}; max {}",
                queries.len(),
                thousands(median(&matches) as i64),
                rate(max.rps, "req/s")
            ),
        );
        notes.push(goal(p99 <= 10.0, "p99 ≤ 10 ms"));
        self.push(Row {
            backend: String::new(),
            target: "T3".into(),
            operation: format!("search: {label}, admin, 50 rows"),
            floor: format!("F_scan {}", ms(scan)),
            kehu: format!("p99 {}", ms(p99)),
            ratio: format!("{:.3}×", series[0].median()),
            must: "p99 ≤ 20 ms and ≤ 0.1× F_scan".into(),
            verdict: v,
            latency: format!("{} / {} at {}", ms(p50), ms(p99), rate(max.rps * 0.5, "req/s")),
            notes: notes.join("; "),
            raw: json!({"runs": runs.iter().map(|r| json!({"scan_ms": r.0, "oha": r.1})).collect::<Vec<_>>(), "max_rps": max.rps, "queries": queries}),
        });
        Ok(())
    }

    // ------------------------------------------------------------------ T4
    /// The floor: single-row autocommit INSERTs through the database's own
    /// CLI into a table with the customers table's columns and indexes.
    fn f_tx(&self, rows: usize, salt: usize) -> Result<f64> {
        let ddl = "CREATE TABLE customers (
            rid INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, id TEXT NOT NULL UNIQUE,
            code TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, owner_id TEXT,
            province TEXT, city TEXT, district TEXT, industry TEXT, occupation TEXT,
            employer TEXT, source TEXT, notes TEXT, uscc TEXT, custom_fields TEXT NOT NULL DEFAULT '{}',
            sealed BLOB NOT NULL, version INTEGER NOT NULL DEFAULT 1, created_by TEXT,
            created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
            UNIQUE (tenant_id, code));
          CREATE INDEX customers_created ON customers (tenant_id, created_at, id);
          CREATE INDEX customers_updated ON customers (tenant_id, updated_at, id);
          CREATE INDEX customers_owner ON customers (tenant_id, owner_id, created_at, id);
          CREATE INDEX customers_province ON customers (tenant_id, province, created_at, id);
          CREATE INDEX customers_name ON customers (tenant_id, name, id)";
        let ts = now_ms() as i64;
        let mut script = String::new();
        let (cmd, secs) = match &self.db {
            Db::Sqlite { .. } => {
                let path = self.scratch.join("ftx.db");
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
                }
                let fdb = Db::Sqlite { path: path.clone() };
                tools::output_stdin(
                    fdb.cli(None),
                    &format!("PRAGMA journal_mode=WAL;\n{ddl};\n"),
                )?;
                script.push_str("PRAGMA synchronous=FULL;\n");
                for i in 0..rows {
                    script.push_str(&format!(
                        "INSERT INTO customers (tenant_id, id, code, kind, name, owner_id, province, city, sealed, created_by, created_at, updated_at) VALUES ('bench', lower(hex(randomblob(16))), 'F{salt}-{i}', 'person', '王伟明{i}', 'owner-{o}', '浙江省', '杭州市', randomblob(320), 'owner-{o}', {t}, {t});\n",
                        o = i % 20,
                        t = ts + i as i64
                    ));
                }
                let (_, _, secs) = tools::output_stdin(fdb.cli(Some(SERVER_CPU)), &script)?;
                ("sqlite3", secs)
            }
            Db::Postgres { .. } => {
                let fdb = self.pg_floor_db()?;
                let pg_ddl = ddl
                    .replace(
                        "rid INTEGER PRIMARY KEY",
                        "rid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                    )
                    .replace("BLOB", "BYTEA")
                    .replace("INTEGER", "BIGINT");
                tools::output_stdin(
                    fdb.cli(None),
                    &format!("DROP TABLE IF EXISTS customers;\n{pg_ddl};\n"),
                )?;
                for i in 0..rows {
                    script.push_str(&format!(
                        "INSERT INTO customers (tenant_id, id, code, kind, name, owner_id, province, city, sealed, created_by, created_at, updated_at) VALUES ('bench', md5(random()::text), 'F{salt}-{i}', 'person', '王伟明{i}', 'owner-{o}', '浙江省', '杭州市', decode(repeat(md5(random()::text), 10), 'hex'), 'owner-{o}', {t}, {t});\n",
                        o = i % 20,
                        t = ts + i as i64
                    ));
                }
                let (_, _, secs) = tools::output_stdin(fdb.cli(Some(SERVER_CPU)), &script)?;
                ("psql", secs)
            }
        };
        let _ = cmd;
        Ok(rows as f64 / secs)
    }

    /// PostgreSQL F_tx writes into its own database, not Kehu's.
    fn pg_floor_db(&self) -> Result<Db> {
        let base = self.a.pg.trim_end_matches('/');
        let admin = Db::Postgres {
            url: format!("{base}/postgres"),
        };
        let exists = admin.rows("SELECT 1 FROM pg_database WHERE datname = 'kehu_bench_floor'")?;
        if exists.is_empty() {
            admin.rows("CREATE DATABASE kehu_bench_floor")?;
        }
        Ok(Db::Postgres {
            url: format!("{base}/kehu_bench_floor"),
        })
    }

    fn writers(&self, ctx: &Ctx, seconds: u64, salt: u64) -> Result<Value> {
        let me = std::env::current_exe()?;
        let creds = self.scratch.join("writers.json");
        std::fs::write(&creds, serde_json::to_vec(&ctx.writers)?)?;
        let mut c = pinned(LOAD_CPU, me);
        c.arg("writers")
            .arg("--base")
            .arg(&ctx.http.base)
            .arg("--creds-file")
            .arg(&creds)
            .arg("--seconds")
            .arg(seconds.to_string())
            .arg("--salt")
            .arg(salt.to_string());
        let out = tools::output(c)?;
        Ok(serde_json::from_str(out.trim())?)
    }

    fn t4(&mut self, ctx: &Ctx) -> Result<()> {
        log("T4: calibrating F_tx");
        let cal = self.f_tx(300, 0)?;
        let rows = ((cal * 3.0) as usize).clamp(300, 200_000);
        log(format!(
            "T4: F_tx ≈ {cal:.0} rows/s; {rows} rows per floor run"
        ));
        let salt0 = (now_ms() as u64 / 1000) % 100_000;
        self.writers(ctx, 2, salt0)?; // warm-up
        let (runs, series) = block(
            "T4",
            self.a.reps,
            |i| {
                let f = self.f_tx(rows, i + 1)?;
                let k = self.writers(ctx, self.a.write_seconds, salt0 + 1 + i as u64)?;
                Ok((f, k))
            },
            &[("Kehu/F_tx", &|r: &(f64, Value)| {
                r.1["writes_per_s"].as_f64().unwrap_or(0.0) / r.0
            })],
        )?;
        let s5xx: f64 = runs
            .iter()
            .map(|r| r.1["s5xx"].as_f64().unwrap_or(0.0))
            .sum();
        let other: f64 = runs
            .iter()
            .map(|r| {
                r.1["other_errors"].as_f64().unwrap_or(0.0)
                    + r.1["transport_errors"].as_f64().unwrap_or(0.0)
            })
            .sum();
        let first_error = runs
            .iter()
            .find_map(|r| r.1["first_error"].as_str().map(str::to_string));
        let floor = median(&runs.iter().map(|r| r.0).collect::<Vec<_>>());
        let kehu = median(
            &runs
                .iter()
                .map(|r| r.1["writes_per_s"].as_f64().unwrap_or(0.0))
                .collect::<Vec<_>>(),
        );
        let p50 = median(
            &runs
                .iter()
                .map(|r| r.1["p50_ms"].as_f64().unwrap_or(f64::NAN))
                .collect::<Vec<_>>(),
        );
        let p99 = median(
            &runs
                .iter()
                .map(|r| r.1["p99_ms"].as_f64().unwrap_or(f64::NAN))
                .collect::<Vec<_>>(),
        );
        let checks = vec![
            Check::min("≥ 70 % of F_tx", series[0].clone(), 0.7),
            Check::max("0 5xx (SQLITE_BUSY surfaced)", Series::exact(s5xx), 0.0),
        ];
        let (v, mut notes) = verdict(&checks);
        notes.insert(0, format!("5xx: {s5xx}; other errors: {other}"));
        if let Some(e) = first_error {
            notes.push(format!("first error: {e}"));
        }
        notes.push(goal(series[0].median() >= 0.9, "≥ 90 %"));
        notes.push("a write = POST /customers (customer, lookups, search terms, timeline, audit) or PATCH of it (timeline, audit); F_tx = one-row INSERT".into());
        let floor_name = match self.db {
            Db::Sqlite { .. } => "F_tx sqlite3 WAL, synchronous=FULL",
            Db::Postgres { .. } => "F_tx psql autocommit",
        };
        self.push(Row {
            backend: String::new(),
            target: "T4".into(),
            operation: "create + update with audit row, 8 concurrent writers (8 sales users)".into(),
            floor: format!("{}: {}", floor_name, rate(floor, "rows/s")),
            kehu: rate(kehu, "writes/s"),
            ratio: pct(series[0].median()),
            must: "≥ 70 % of F_tx, 0 SQLITE_BUSY/5xx".into(),
            verdict: v,
            latency: format!("{} / {} (closed loop)", ms(p50), ms(p99)),
            notes: notes.join("; "),
            raw: json!({"runs": runs.iter().map(|r| json!({"f_tx_rows_per_s": r.0, "kehu": r.1})).collect::<Vec<_>>(), "ratios": series[0].values}),
        });
        Ok(())
    }

    // ----------------------------------------------------------------- T10
    fn t10(&mut self, ctx: &Ctx) -> Result<()> {
        let Db::Sqlite { path } = self.db.clone() else {
            self.push(Row {
                backend: String::new(),
                target: "T10".into(),
                operation: "online backup under 50 writes/s".into(),
                floor: "—".into(),
                kehu: "—".into(),
                ratio: "—".into(),
                must: "≤ 3× sqlite3 .backup, write p99 ≤ 500 ms".into(),
                verdict: "n/a".into(),
                latency: "—".into(),
                notes: "`kehu backup` is SQLite-only; on PostgreSQL it refers to pg_dump".into(),
                raw: Value::Null,
            });
            return Ok(());
        };
        let size = std::fs::metadata(&path)?.len() as f64 / 1_048_576.0;
        let me = std::env::current_exe()?;
        let floor_to = self.scratch.join("floor-backup.db");
        let kehu_to = self.scratch.join("kehu-backup.db");
        let stop = self.scratch.join("paced.stop");
        let samples_file = self.scratch.join("paced.json");
        let cred_file = self.scratch.join("paced-cred.json");
        std::fs::write(&cred_file, serde_json::to_vec(&ctx.sales)?)?;
        let (runs, series) = block(
            "T10",
            self.a.backup_reps.unwrap_or(self.a.reps),
            |i| {
                for p in [&floor_to, &kehu_to, &stop, &samples_file] {
                    let _ = std::fs::remove_file(p);
                }
                // Floor: the sqlite3 CLI's .backup of the quiet database (under
                // writes from another process it restarts and may never end).
                let t = Instant::now();
                let mut c = pinned(&self.a.backup_cpu, "sqlite3");
                c.arg(&path)
                    .arg(format!(".backup '{}'", floor_to.display()));
                tools::output(c)?;
                let floor = t.elapsed().as_secs_f64();
                let _ = std::fs::remove_file(&floor_to);
                // Kehu: `kehu backup` while 50 creates/s arrive through the API.
                let mut p = pinned(LOAD_CPU, &me);
                p.arg("paced")
                    .arg("--base")
                    .arg(&ctx.http.base)
                    .arg("--cred-file")
                    .arg(&cred_file)
                    .arg("--rate")
                    .arg("50")
                    .arg("--stop-file")
                    .arg(&stop)
                    .arg("--out")
                    .arg(&samples_file)
                    .arg("--salt")
                    .arg(((now_ms() as u64 / 1000) % 100_000 + i as u64).to_string())
                    .stdout(Stdio::null());
                let mut paced = p.spawn()?;
                std::thread::sleep(Duration::from_secs(3));
                let t0 = now_ms();
                let mut c = self.kehu_cmd(&["backup"], &self.a.backup_cpu);
                c.arg("--to").arg(&kehu_to);
                tools::output(c)?;
                let t1 = now_ms();
                std::thread::sleep(Duration::from_secs(2));
                std::fs::write(&stop, b"stop")?;
                let st = paced.wait()?;
                if !st.success() {
                    bail!("T10: paced writer failed: {st}");
                }
                let samples: Vec<Value> = serde_json::from_slice(
                    &std::fs::read(&samples_file).context("paced samples")?,
                )?;
                let _ = std::fs::remove_file(&kehu_to);
                let during: Vec<&Value> = samples
                    .iter()
                    .filter(|s| {
                        let d = s["due_ms"].as_f64().unwrap_or(0.0);
                        d >= t0 && d <= t1
                    })
                    .collect();
                let mut lat: Vec<f64> = during
                    .iter()
                    .map(|s| s["latency_ms"].as_f64().unwrap_or(f64::NAN))
                    .collect();
                lat.sort_by(f64::total_cmp);
                let bad = during
                    .iter()
                    .filter(|s| s["status"].as_u64() != Some(201))
                    .count();
                let kehu = (t1 - t0) / 1000.0;
                Ok(json!({
                    "floor_s": floor, "kehu_s": kehu, "writes": during.len(), "bad": bad,
                    "p50_ms": percentile(&lat, 50.0), "p99_ms": percentile(&lat, 99.0),
                    "max_ms": lat.last().copied().unwrap_or(f64::NAN),
                }))
            },
            &[
                ("kehu backup / sqlite3 .backup", &|r: &Value| {
                    r["kehu_s"].as_f64().unwrap_or(f64::NAN)
                        / r["floor_s"].as_f64().unwrap_or(f64::NAN)
                }),
                ("write p99 ms", &|r: &Value| {
                    r["p99_ms"].as_f64().unwrap_or(f64::NAN)
                }),
            ],
        )?;
        let get = |k: &str| {
            median(
                &runs
                    .iter()
                    .map(|r| r[k].as_f64().unwrap_or(f64::NAN))
                    .collect::<Vec<_>>(),
            )
        };
        let bad: f64 = runs.iter().map(|r| r["bad"].as_f64().unwrap_or(0.0)).sum();
        let writes: f64 = runs
            .iter()
            .map(|r| r["writes"].as_f64().unwrap_or(0.0))
            .sum();
        let checks = vec![
            Check::max("≤ 3× sqlite3 .backup", series[0].clone(), 3.0),
            Check::max("write p99 ≤ 500 ms", series[1].clone(), 500.0),
            Check::max("no failed writes", Series::exact(bad), 0.0),
        ];
        let (v, mut notes) = verdict(&checks);
        notes.insert(
            0,
            format!(
                "database {size:.0} MiB; {writes} writes during the backups, {bad} failed; worst {}",
                ms(get("max_ms"))
            ),
        );
        notes.push(goal(series[0].median() <= 2.0, "≤ 2×"));
        notes.push(format!(
            "floor measured on the quiet database; `kehu backup` is VACUUM INTO; backups on CPU {}",
            self.a.backup_cpu
        ));
        self.push(Row {
            backend: String::new(),
            target: "T10".into(),
            operation: "`kehu backup` under 50 writes/s (POST /customers, open loop)".into(),
            floor: format!("sqlite3 .backup {:.1} s", get("floor_s")),
            kehu: format!("{:.1} s", get("kehu_s")),
            ratio: format!("{:.2}×", series[0].median()),
            must: "≤ 3× sqlite3 .backup, write p99 ≤ 500 ms".into(),
            verdict: v,
            latency: format!("writes {} / {}", ms(get("p50_ms")), ms(series[1].median())),
            notes: notes.join("; "),
            raw: json!(runs),
        });
        Ok(())
    }
}

fn goal(met: bool, what: &str) -> String {
    if met {
        format!("goal {what} met")
    } else {
        format!("goal {what} not met")
    }
}

fn wait_port(port: u16) -> Result<()> {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    bail!("nothing listens on {port}")
}

/// What a read row measures and what it must reach.
struct ReadSpec {
    target: &'static str,
    operation: String,
    file: &'static str,
    paths: Vec<String>,
    token: Cred,
    min_ratio: f64,
    goal_ratio: f64,
    max_p99: f64,
    extra: Option<LatCheck>,
    extra_must: String,
    notes: Vec<String>,
}

impl ReadSpec {
    fn new(
        target: &'static str,
        operation: &str,
        file: &'static str,
        paths: Vec<String>,
        token: &Cred,
        (min_ratio, goal_ratio, max_p99): (f64, f64, f64),
    ) -> ReadSpec {
        ReadSpec {
            target,
            operation: operation.into(),
            file,
            paths,
            token: token.clone(),
            min_ratio,
            goal_ratio,
            max_p99,
            extra: None,
            extra_must: String::new(),
            notes: Vec::new(),
        }
    }
    fn note(mut self, n: String) -> ReadSpec {
        self.notes.push(n);
        self
    }
    fn deep(mut self, f: LatCheck) -> ReadSpec {
        self.extra = Some(f);
        self.extra_must = "; deep p99 ≤ 2× page 1".into();
        self
    }
}

struct Ctx {
    http: Http,
    admin: Cred,
    sales: Cred,
    sales_id: String,
    writers: Vec<Cred>,
    kehu_pid: u32,
    floor_pid: u32,
}

struct Thr {
    floor_rps: f64,
    kehu_rps: f64,
    floor_cores: f64,
    kehu_cores: f64,
    ratio: Series,
    raw: Value,
}

struct Lat {
    p50: f64,
    p99: Series,
    rate: f64,
    raw: Value,
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.1} GiB", kb / 1_048_576.0))
        .unwrap_or_default();
    let n = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{n} CPUs ({cpu}), {mem} RAM; load average at the end: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// The code the run measures: HEAD and whether crates/ had uncommitted
/// changes, taken when the suite starts (others may commit during a run).
fn code_version() -> String {
    let git = |args: &str| {
        tools::output({
            let mut c = std::process::Command::new("sh");
            c.arg("-c").arg(format!("git {args} 2>/dev/null"));
            c
        })
        .unwrap_or_default()
    };
    let dirty = git("status --porcelain -- crates Cargo.lock")
        .lines()
        .count();
    format!(
        "commit {}{}",
        git("rev-parse --short HEAD").trim(),
        if dirty > 0 {
            format!(
                " plus {dirty} uncommitted changed files under crates/ (the build measured the working tree)"
            )
        } else {
            String::new()
        }
    )
}

fn write_report(
    a: &SuiteArgs,
    rows: &[Row],
    started: f64,
    code: &str,
    failures: &[String],
) -> Result<()> {
    let date = tools::output({
        let mut c = std::process::Command::new("date");
        c.arg("-u").arg("+%Y-%m-%d %H:%M UTC");
        c
    })
    .unwrap_or_default();
    let latency_tool = match tools::oha_bin() {
        Some(p) => {
            let mut c = std::process::Command::new(p);
            c.arg("--version");
            format!(
                "{} (open loop, `--latency-correction`)",
                tools::output(c).unwrap_or_default().trim()
            )
        }
        None => "kehu-bench open-loop client (oha could not be installed)".into(),
    };
    let wrk_v = tools::output({
        let mut c = std::process::Command::new("sh");
        c.arg("-c").arg("wrk -v 2>&1 | head -1");
        c
    })
    .unwrap_or_default();
    let mut md = String::new();
    md.push_str("# Kehu benchmark results (latest run)\n\n");
    md.push_str(&format!(
        "- Date: {}\n- Command: `{}`\n- Customers: {}\n- Machine: {}\n- Runs: {} floor/Kehu pairs per block, wrk {} s, oha {} s at 50 % of Kehu's max, T4 writers {} s; {} connections; server on CPU {SERVER_CPU}, load on CPU {LOAD_CPU}\n- Suite wall time: {:.0} min\n",
        date.trim(),
        a.command,
        thousands(a.customers as i64),
        machine(),
        a.reps,
        a.seconds,
        a.latency_seconds,
        a.write_seconds,
        a.connections,
        (now_ms() - started) / 60_000.0
    ));
    // The binary measured: with `bench/run --kehu BIN` it is not the
    // working tree's build, so say which file it was and when it was made.
    let built = tools::output({
        let mut c = std::process::Command::new("date");
        c.arg("-u")
            .arg("-r")
            .arg(&a.kehu)
            .arg("+%Y-%m-%d %H:%M UTC");
        c
    })
    .unwrap_or_default()
    .trim()
    .to_string();
    let code = if a.kehu == Path::new("target/release/kehu") {
        code.to_string()
    } else {
        format!(
            "kehu binary `{}` (file time {built}; not built by this run); repository at the start: {code}",
            a.kehu.display()
        )
    };
    md.push_str(&format!(
        "- Code: {code}\n- Throughput: {}; latency: {latency_tool}\n\n",
        wrk_v
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    ));
    md.push_str("| backend | # | operation | floor | Kehu | ratio | target (must) | verdict | p50 / p99 | notes |\n");
    md.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | **{}** | {} | {} |\n",
            r.backend,
            r.target,
            r.operation.replace('|', "\\|"),
            r.floor,
            r.kehu,
            r.ratio,
            r.must,
            r.verdict,
            r.latency,
            r.notes.replace('|', "\\|")
        ));
    }
    if !failures.is_empty() {
        md.push_str("\nThe suite stopped early:\n\n");
        for f in failures {
            md.push_str(&format!("- {f}\n"));
        }
    }
    md.push_str("\nRatio = median of the pairwise (floor run, Kehu run) ratios. A block whose key numbers vary by more than 10 % (coefficient of variation) is rerun once; if it still varies it is reported as inconclusive, never as a pass. Raw runs: `latest.json`.\n");
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.out, md)?;
    std::fs::write(
        a.out.with_extension("json"),
        serde_json::to_vec_pretty(&json!({"customers": a.customers, "rows": rows}))?,
    )?;
    Ok(())
}
