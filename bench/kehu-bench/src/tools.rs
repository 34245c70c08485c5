//! The outside tools the suite drives: wrk, oha, sqlite3, psql, taskset, and
//! the server processes (kehu serve, floor-json).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

/// CPU the servers (and floors' database work) run on.
pub const SERVER_CPU: &str = "0";
/// CPU the load generators run on.
pub const LOAD_CPU: &str = "1";

pub fn pinned(cpu: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new("taskset");
    c.arg("-c").arg(cpu).arg(program);
    c
}

/// Runs to completion; stdout as text, or an error with stderr.
pub fn output(mut c: Command) -> Result<String> {
    let desc = format!("{c:?}");
    let o = c.output().with_context(|| format!("cannot start {desc}"))?;
    if !o.status.success() {
        bail!(
            "{desc} failed ({}): {}{}",
            o.status,
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(&o.stdout)
        );
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Runs with `input` on stdin; returns (stdout, stderr, seconds).
pub fn output_stdin(mut c: Command, input: &str) -> Result<(String, String, f64)> {
    let desc = format!("{c:?}");
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let t = Instant::now();
    let mut child = c.spawn().with_context(|| format!("cannot start {desc}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.to_string();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let o = child.wait_with_output()?;
    let secs = t.elapsed().as_secs_f64();
    let _ = feeder.join();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    if !o.status.success() {
        bail!("{desc} failed ({}): {err}{out}", o.status);
    }
    Ok((out, err, secs))
}

/// CPU seconds (user + system) a process has used so far.
pub fn cpu_seconds(pid: u32) -> f64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // Fields after the ")" that closes the command name; utime, stime are 14, 15.
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = 100.0; // USER_HZ on Linux
    let ut: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
    let st: f64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
    (ut + st) / tick
}

/// VmRSS of a process in MiB.
pub fn rss_mib(pid: u32) -> Result<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = s
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| anyhow!("no VmRSS for pid {pid}"))?;
    Ok(kb / 1024.0)
}

/// A server child process, stopped with SIGINT (graceful) when dropped.
pub struct Server {
    pub child: Child,
}

impl Server {
    pub fn spawn(name: &str, mut c: Command, log: &Path) -> Result<Server> {
        let f = std::fs::File::create(log)?;
        c.stdout(f.try_clone()?).stderr(f).stdin(Stdio::null());
        let child = c.spawn().with_context(|| format!("cannot start {name}"))?;
        Ok(Server { child })
    }
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One wrk run: closed loop, `connections` connections, one thread on the load CPU.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WrkOut {
    pub rps: f64,
    pub non_2xx: u64,
    pub socket_errors: u64,
    /// CPU the server used over the run, in cores (1.0 = CPU 0 saturated).
    pub server_cores: f64,
}

pub fn wrk(
    script: &Path,
    port: u16,
    paths_file: &Path,
    cred: &Cred,
    seconds: u64,
    connections: u32,
    server_pid: u32,
) -> Result<WrkOut> {
    // One path: wrk's static request (no Lua per request, so the load
    // generator is as cheap as it gets); several: the Lua script cycles them.
    let paths: Vec<String> = std::fs::read_to_string(paths_file)?
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let mut c = pinned(LOAD_CPU, "wrk");
    c.arg("-t1")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("--timeout")
        .arg("10s");
    if paths.len() == 1 {
        for h in cred.header_lines() {
            c.arg("-H").arg(h);
        }
        c.arg(format!("http://127.0.0.1:{port}{}", paths[0]));
    } else {
        c.arg("-s")
            .arg(script)
            .arg(format!("http://127.0.0.1:{port}"))
            .arg("--")
            .arg(paths_file)
            .args(cred.header_lines());
    }
    let cpu0 = cpu_seconds(server_pid);
    let t = Instant::now();
    let out = output(c)?;
    let server_cores = (cpu_seconds(server_pid) - cpu0) / t.elapsed().as_secs_f64();
    let rps = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| anyhow!("no Requests/sec in wrk output:\n{out}"))?;
    let non_2xx = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let socket_errors = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map(|v| {
            v.split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    Ok(WrkOut {
        rps,
        non_2xx,
        socket_errors,
        server_cores,
    })
}

/// One oha run: open loop at `rate` req/s with latency correction.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OhaOut {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub rps: f64,
    pub errors: u64,
    pub non_2xx: u64,
}

pub fn oha(
    urls_file: &Path,
    cred: &Cred,
    rate: f64,
    seconds: u64,
    connections: u32,
) -> Result<OhaOut> {
    let Some(oha) = oha_bin() else {
        // No oha: the harness's own open-loop client (the report says so).
        let mut c = pinned(LOAD_CPU, std::env::current_exe()?);
        c.arg("open-loop")
            .arg("--urls-file")
            .arg(urls_file)
            .args(
                cred.header_lines()
                    .into_iter()
                    .flat_map(|h| ["--header".to_string(), h]),
            )
            .arg("--rate")
            .arg(format!("{:.0}", rate.max(1.0)))
            .arg("--seconds")
            .arg(seconds.to_string());
        let _ = connections;
        return parse_oha(&output(c)?);
    };
    let mut c = pinned(LOAD_CPU, oha);
    c.arg("--no-tui")
        .arg("--output-format")
        .arg("json")
        .arg("--urls-from-file")
        .arg(urls_file)
        .arg("-z")
        .arg(format!("{seconds}s"))
        .arg("-q")
        .arg(format!("{:.0}", rate.max(1.0)))
        .arg("--latency-correction")
        .arg("-c")
        .arg(connections.to_string())
        .arg("--worker-threads")
        .arg("1")
        .arg("-t")
        .arg("10s");
    for h in cred.header_lines() {
        c.arg("-H").arg(h);
    }
    parse_oha(&output(c)?)
}

fn parse_oha(out: &str) -> Result<OhaOut> {
    let v: Value = serde_json::from_str(out).with_context(|| format!("oha JSON: {out}"))?;
    let pct = |k: &str| {
        v["latencyPercentiles"][k]
            .as_f64()
            .map(|s| s * 1000.0)
            .unwrap_or(f64::NAN)
    };
    let mut non_2xx = 0;
    if let Some(m) = v["statusCodeDistribution"].as_object() {
        for (code, n) in m {
            if !code.starts_with('2') {
                non_2xx += n.as_u64().unwrap_or(0);
            }
        }
    }
    let errors = v["errorDistribution"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !k.contains("aborted due to deadline"))
                .map(|(_, n)| n.as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0);
    Ok(OhaOut {
        p50_ms: pct("p50"),
        p99_ms: pct("p99"),
        rps: v["summary"]["requestsPerSec"].as_f64().unwrap_or(f64::NAN),
        errors,
        non_2xx,
    })
}

/// oha from $OHA, ~/.cargo/bin or PATH; `None` when it is not installed.
pub fn oha_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("OHA") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let p = PathBuf::from(home).join(".cargo/bin/oha");
    if p.exists() {
        return Some(p);
    }
    let on_path = Command::new("sh")
        .arg("-c")
        .arg("command -v oha")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    on_path.then(|| PathBuf::from("oha"))
}

/// Where the data is, and how to ask it plain SQL through its own CLI.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite { path: PathBuf },
    Postgres { url: String },
}

impl Db {
    pub fn label(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "SQLite",
            Db::Postgres { .. } => "PostgreSQL",
        }
    }

    /// A command for the database's CLI reading SQL on stdin.
    pub fn cli(&self, cpu: Option<&str>) -> Command {
        let prog = match self {
            Db::Sqlite { .. } => "sqlite3",
            Db::Postgres { .. } => "psql",
        };
        let mut c = match cpu {
            Some(cpu) => pinned(cpu, prog),
            None => Command::new(prog),
        };
        match self {
            Db::Sqlite { path } => {
                c.arg("-batch").arg("-bail").arg(path);
            }
            Db::Postgres { url, .. } => {
                c.arg("-X")
                    .arg("-q")
                    .arg("-v")
                    .arg("ON_ERROR_STOP=1")
                    .arg("-At")
                    .arg(url);
            }
        }
        c
    }

    /// Rows of a query, columns separated by `|`.
    pub fn rows(&self, sql: &str) -> Result<Vec<Vec<String>>> {
        let (out, _, _) = output_stdin(self.cli(None), &format!("{sql};\n"))?;
        Ok(out
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split('|').map(str::to_string).collect())
            .collect())
    }

    pub fn one(&self, sql: &str) -> Result<String> {
        self.rows(sql)?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .ok_or_else(|| anyhow!("no row for: {sql}"))
    }

    /// Runs `statements` with the CLI's own timer on, returning each
    /// statement's engine time in ms (sqlite3 `.timer on`, psql `\timing on`).
    pub fn timed(&self, statements: &[String], cpu: Option<&str>) -> Result<Vec<f64>> {
        let mut script = String::new();
        match self {
            Db::Sqlite { .. } => script.push_str(".timer on\n"),
            Db::Postgres { .. } => script.push_str("\\timing on\n"),
        }
        for s in statements {
            script.push_str(s);
            script.push_str(";\n");
        }
        let (out, err, _) = output_stdin(self.cli(cpu), &script)?;
        let all = format!("{out}\n{err}");
        let times: Vec<f64> = match self {
            Db::Sqlite { .. } => all
                .lines()
                .filter_map(|l| l.trim().strip_prefix("Run Time: real "))
                .filter_map(|l| l.split_whitespace().next()?.parse::<f64>().ok())
                .map(|s| s * 1000.0)
                .collect(),
            Db::Postgres { .. } => all
                .lines()
                .filter_map(|l| l.trim().strip_prefix("Time: "))
                .filter_map(|l| l.split_whitespace().next()?.parse::<f64>().ok())
                .collect(),
        };
        if times.len() != statements.len() {
            bail!(
                "expected {} timings, got {}: {all}",
                statements.len(),
                times.len()
            );
        }
        Ok(times)
    }
}

/// SQL string literal.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// How a load client signs its requests: an API token or a session cookie
/// (with its CSRF token, which unsafe methods need).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum Cred {
    Bearer(String),
    Cookie { cookie: String, csrf: String },
}

impl Cred {
    pub fn headers(&self) -> Vec<(String, String)> {
        match self {
            Cred::Bearer(t) => vec![("Authorization".into(), format!("Bearer {t}"))],
            Cred::Cookie { cookie, csrf } => vec![
                ("Cookie".into(), cookie.clone()),
                ("X-CSRF-Token".into(), csrf.clone()),
            ],
        }
    }
    /// `Name: value` lines, for wrk and oha.
    pub fn header_lines(&self) -> Vec<String> {
        self.headers()
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect()
    }
    pub fn kind(&self) -> &'static str {
        match self {
            Cred::Bearer(_) => "API token",
            Cred::Cookie { .. } => "session cookie",
        }
    }
}

/// A small blocking HTTP helper for set-up calls (sign-in, sampling, cursors).
pub struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    pub base: String,
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Http {
    pub fn new(base: &str) -> Result<Http> {
        Ok(Http {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()?,
            base: base.to_string(),
        })
    }

    pub fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Reply> {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        for (k, v) in headers {
            rb = rb.header(*k, v);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        self.rt.block_on(async move {
            let r = rb.send().await?;
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            let text = r.text().await?;
            let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
            Ok(Reply {
                status,
                headers,
                body,
            })
        })
    }

    pub fn get(&self, path: &str, cred: &Cred) -> Result<Reply> {
        self.call(reqwest::Method::GET, path, cred, None)
    }

    pub fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        cred: &Cred,
        body: Option<&Value>,
    ) -> Result<Reply> {
        let h = cred.headers();
        let h: Vec<(&str, String)> = h.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        self.send(method, path, &h, body)
    }

    /// Polls `/healthz` until it answers 200.
    pub fn wait_ready(&self, limit: Duration) -> Result<Duration> {
        let t = Instant::now();
        loop {
            let ok = self.rt.block_on(async {
                match self
                    .client
                    .get(format!("{}/healthz", self.base))
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await
                {
                    Ok(r) => r.status() == reqwest::StatusCode::OK,
                    Err(_) => false,
                }
            });
            if ok {
                return Ok(t.elapsed());
            }
            if t.elapsed() > limit {
                bail!("{} not ready after {limit:?}", self.base);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Signs in with the password: a session cookie and its CSRF token.
    pub fn login(&self, tenant: &str, login: &str, password: &str) -> Result<Cred> {
        let r = self.send(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            &[],
            Some(&serde_json::json!({"tenant": tenant, "login": login, "password": password})),
        )?;
        if r.status != 200 {
            bail!("login {login}: {} {}", r.status, r.body);
        }
        let cookie = r
            .headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()
                    .filter(|kv| kv.starts_with("kehu_session="))
                    .map(str::to_string)
            })
            .ok_or_else(|| anyhow!("login {login}: no kehu_session cookie"))?;
        let csrf = r.body["csrf_token"]
            .as_str()
            .ok_or_else(|| anyhow!("login {login}: no csrf_token"))?
            .to_string();
        Ok(Cred::Cookie { cookie, csrf })
    }

    /// Signs in, then makes an API token for `Authorization: Bearer` use
    /// (roles with the permission to make tokens only).
    pub fn token(&self, tenant: &str, login: &str, password: &str) -> Result<Cred> {
        let session = self.login(tenant, login, password)?;
        let r = self.call(
            reqwest::Method::POST,
            "/api/v1/auth/tokens",
            &session,
            Some(&serde_json::json!({"name": "kehu-bench"})),
        )?;
        if r.status != 201 {
            bail!("token for {login}: {} {}", r.status, r.body);
        }
        Ok(Cred::Bearer(
            r.body["token"]
                .as_str()
                .ok_or_else(|| anyhow!("no token in {}", r.body))?
                .to_string(),
        ))
    }
}
