//! Load clients run as their own processes (pinned to the load CPU by the
//! driver): `writers` (T4, closed loop) and `paced` (T10, open loop).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Value, json};

use crate::tools::Cred;

fn sign(rb: reqwest::RequestBuilder, cred: &Cred) -> reqwest::RequestBuilder {
    cred.headers()
        .into_iter()
        .fold(rb, |rb, (k, v)| rb.header(k, v))
}

pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
        * 1000.0
}

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
];
const GIVEN: [&str; 16] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
];

/// A valid new person customer: Chinese name, unique mainland mobile.
pub fn new_customer(writer: u64, i: u64, salt: u64) -> Value {
    let n = writer * 1_000_003 + i;
    let name = format!(
        "{}{}{}",
        SURNAMES[(n % 12) as usize],
        GIVEN[((n / 12) % 16) as usize],
        GIVEN[((n / 192) % 16) as usize]
    );
    // 199 + 8 digits: a mobile range nobody in the seed uses.
    let mobile = format!("199{:08}", (salt * 7_919 + n) % 100_000_000);
    json!({
        "kind": "person",
        "name": name,
        "phones": [mobile],
        "province": "浙江省",
        "city": "杭州市",
        "source": "压测",
    })
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    s5xx: AtomicU64,
    other: AtomicU64,
    transport: AtomicU64,
}

/// T4: one task per token, each creating a customer and then updating it
/// (two audited writes) until the time is up. Prints one JSON object.
pub async fn writers(base: String, creds: Vec<Cred>, seconds: f64, salt: u64) -> Result<()> {
    let http = client()?;
    let counts = Arc::new(Counts::default());
    let lat = Arc::new(std::sync::Mutex::new(Vec::<f64>::new()));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for (w, cred) in creds.into_iter().enumerate() {
        let http = http.clone();
        let base = base.clone();
        let counts = counts.clone();
        let lat = lat.clone();
        let first_error = first_error.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut i = 0u64;
            let note = |status: reqwest::StatusCode, body: String| {
                if status.is_server_error() {
                    counts.s5xx.fetch_add(1, Ordering::Relaxed);
                } else {
                    counts.other.fetch_add(1, Ordering::Relaxed);
                }
                let mut e = first_error.lock().expect("lock");
                if e.is_none() {
                    *e = Some(format!(
                        "{status}: {}",
                        body.chars().take(300).collect::<String>()
                    ));
                }
            };
            while Instant::now() < deadline {
                i += 1;
                let t = Instant::now();
                let res = sign(http.post(format!("{base}/api/v1/customers")), &cred)
                    .json(&new_customer(w as u64, i, salt))
                    .send()
                    .await;
                let res = match res {
                    Ok(r) => r,
                    Err(_) => {
                        counts.transport.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                };
                let status = res.status();
                let body = res.text().await.unwrap_or_default();
                if status != reqwest::StatusCode::CREATED {
                    note(status, body);
                    continue;
                }
                counts.ok.fetch_add(1, Ordering::Relaxed);
                mine.push(t.elapsed().as_secs_f64() * 1000.0);
                let v: Value = serde_json::from_str(&body).unwrap_or_default();
                let (Some(id), Some(version)) = (v["id"].as_str(), v["version"].as_i64()) else {
                    continue;
                };
                if Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                let res = sign(http.patch(format!("{base}/api/v1/customers/{id}")), &cred)
                    .header("If-Match", format!("\"{version}\""))
                    .json(&json!({"notes": format!("压测更新 {w}-{i}"), "city": "宁波市"}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        counts.ok.fetch_add(1, Ordering::Relaxed);
                        mine.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    Ok(r) => {
                        let s = r.status();
                        note(s, r.text().await.unwrap_or_default());
                    }
                    Err(_) => {
                        counts.transport.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat.lock().expect("lock").extend(mine);
        }));
    }
    for t in tasks {
        t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let mut l = lat.lock().expect("lock").clone();
    l.sort_by(f64::total_cmp);
    let ok = counts.ok.load(Ordering::Relaxed);
    let out = json!({
        "ok": ok,
        "s5xx": counts.s5xx.load(Ordering::Relaxed),
        "other_errors": counts.other.load(Ordering::Relaxed),
        "transport_errors": counts.transport.load(Ordering::Relaxed),
        "seconds": secs,
        "writes_per_s": ok as f64 / secs,
        "p50_ms": percentile(&l, 50.0),
        "p99_ms": percentile(&l, 99.0),
        "max_ms": l.last().copied().unwrap_or(f64::NAN),
        "first_error": *first_error.lock().expect("lock"),
    });
    println!("{out}");
    Ok(())
}

#[derive(Serialize)]
struct Sample {
    /// When the write was due (Unix ms): open loop, so a slow write does not
    /// delay the next ones and the latency is measured from this instant.
    due_ms: f64,
    latency_ms: f64,
    status: u16,
}

/// T10: `rate` creates per second on a fixed schedule until `stop_file`
/// exists (or `max_seconds` pass). Writes every sample as JSON to `out`.
pub async fn paced(
    base: String,
    cred: Cred,
    rate: f64,
    stop_file: std::path::PathBuf,
    max_seconds: f64,
    out: std::path::PathBuf,
    salt: u64,
) -> Result<()> {
    let http = client()?;
    let samples = Arc::new(std::sync::Mutex::new(Vec::<Sample>::new()));
    let period = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now();
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut i = 0u64;
    let mut inflight = tokio::task::JoinSet::new();
    loop {
        tick.tick().await;
        if stop_file.exists() || started.elapsed().as_secs_f64() > max_seconds {
            break;
        }
        i += 1;
        let due = started + period * (i as u32 - 1);
        let due_ms = now_ms() - due.elapsed().as_secs_f64() * 1000.0;
        let http = http.clone();
        let url = format!("{base}/api/v1/customers");
        let cred = cred.clone();
        let samples = samples.clone();
        inflight.spawn(async move {
            let res = sign(http.post(url), &cred)
                .json(&new_customer(99, i, salt))
                .send()
                .await;
            let status = match res {
                Ok(r) => {
                    let s = r.status().as_u16();
                    let _ = r.bytes().await;
                    s
                }
                Err(_) => 0,
            };
            samples.lock().expect("lock").push(Sample {
                due_ms,
                latency_ms: due.elapsed().as_secs_f64() * 1000.0,
                status,
            });
        });
        while inflight.try_join_next().is_some() {}
    }
    while inflight.join_next().await.is_some() {}
    let s = samples.lock().expect("lock");
    std::fs::write(&out, serde_json::to_vec(&*s)?)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

/// Fallback for oha (when it cannot be installed): GETs at a fixed rate
/// (open loop, latency from the due instant, so coordinated omission is
/// corrected), round-robin over `urls`. Prints the same JSON fields the
/// suite reads from oha.
pub async fn open_loop_get(
    urls: Vec<String>,
    headers: Vec<String>,
    rate: f64,
    seconds: f64,
) -> Result<()> {
    let http = client()?;
    let period = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now();
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut set = tokio::task::JoinSet::new();
    let mut i = 0usize;
    let mut lat = Vec::new();
    let mut non_2xx = 0u64;
    let mut errors = 0u64;
    let mut collect = |r: (f64, Option<u16>)| match r.1 {
        Some(s) if (200..300).contains(&s) => lat.push(r.0),
        Some(_) => non_2xx += 1,
        None => errors += 1,
    };
    while started.elapsed().as_secs_f64() < seconds {
        tick.tick().await;
        let due = started + period * i as u32;
        let url = urls[i % urls.len()].clone();
        i += 1;
        let mut rb = http.get(url);
        for h in &headers {
            if let Some((k, v)) = h.split_once(':') {
                rb = rb.header(k.trim(), v.trim());
            }
        }
        set.spawn(async move {
            let s = match rb.send().await {
                Ok(r) => {
                    let s = r.status().as_u16();
                    let _ = r.bytes().await;
                    Some(s)
                }
                Err(_) => None,
            };
            (due.elapsed().as_secs_f64() * 1000.0, s)
        });
        while let Some(r) = set.try_join_next() {
            collect(r?);
        }
    }
    while let Some(r) = set.join_next().await {
        collect(r?);
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "latencyPercentiles": {"p50": percentile(&lat, 50.0) / 1000.0, "p99": percentile(&lat, 99.0) / 1000.0},
            "summary": {"requestsPerSec": lat.len() as f64 / secs},
            "statusCodeDistribution": {"200": lat.len(), "other": non_2xx},
            "errorDistribution": {"error": errors},
        })
    );
    Ok(())
}
