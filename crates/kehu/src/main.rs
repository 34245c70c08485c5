//! `kehu`: the one binary. Reads configuration (flags, each also a `KEHU_…`
//! environment variable), wires store, keys, app and web together, and runs
//! the command. Only this crate reads the environment.

mod analyze;

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use kehu_app::seed::{DEMO_USERS, SeedOptions, demo_password};
use kehu_app::{Actor, App, AppConfig, AuditVerdict, Clock, SystemClock};
use kehu_crypto::MasterKey;
use kehu_domain::i18n::{Locale, field_label, message};
use kehu_store::{DbUrl, OpenOptions, Store};
use kehu_web::{MetricsAccess, WebConfig};

#[derive(Parser)]
#[command(
    name = "kehu",
    version,
    about = "Kehu (客户) customer management: API server, demo and admin tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Db {
    /// sqlite://PATH or postgres://USER@HOST/DB
    #[arg(long, env = "KEHU_DATABASE_URL", default_value = "sqlite://kehu.db")]
    database_url: String,
    /// Master key file (base64, mode 0600). Default for SQLite: <database file>.key.
    /// KEHU_MASTER_KEY (base64) takes precedence.
    #[arg(long, env = "KEHU_KEY_FILE")]
    key_file: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct ServeOpts {
    #[arg(long, env = "KEHU_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Mark the session cookie Secure (when served over HTTPS).
    #[arg(long, env = "KEHU_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Who may read /metrics.
    #[arg(long, env = "KEHU_METRICS", value_enum, default_value = "loopback")]
    metrics: Metrics,
}

#[derive(Clone, Copy, ValueEnum)]
enum Metrics {
    Loopback,
    Admin,
    Off,
}

#[derive(Subcommand)]
enum Command {
    /// Open (or create) a demo database with realistic data and serve it.
    Demo {
        #[arg(
            long,
            env = "KEHU_DATABASE_URL",
            default_value = "sqlite://kehu-demo.db"
        )]
        database_url: String,
        #[arg(long, env = "KEHU_KEY_FILE")]
        key_file: Option<PathBuf>,
        #[command(flatten)]
        serve: ServeOpts,
        /// Demo customers to generate on first start.
        #[arg(long, env = "KEHU_DEMO_CUSTOMERS", default_value_t = 2500)]
        customers: usize,
    },
    /// Create the schema, the key file (if none), a tenant and its first administrator.
    Init {
        #[command(flatten)]
        db: Db,
        #[arg(long, env = "KEHU_TENANT")]
        tenant: String,
        #[arg(long, env = "KEHU_TENANT_NAME")]
        tenant_name: Option<String>,
        #[arg(long, env = "KEHU_ADMIN_LOGIN")]
        admin_login: String,
        /// Read the password from the first line of standard input.
        #[arg(long, env = "KEHU_PASSWORD_STDIN")]
        password_stdin: bool,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// Serve the API (and the web app).
    Serve {
        #[command(flatten)]
        db: Db,
        #[command(flatten)]
        serve: ServeOpts,
    },
    /// Apply database migrations.
    Migrate {
        #[command(flatten)]
        db: Db,
    },
    /// Consistent online copy of a SQLite database (safe while the server runs).
    Backup {
        #[command(flatten)]
        db: Db,
        #[arg(long, env = "KEHU_BACKUP_TO")]
        to: PathBuf,
    },
    /// Generate benchmark data: N customers with contacts and ~10 orders each,
    /// and the demo's example tag rules if the tenant has no rules.
    Seed {
        #[command(flatten)]
        db: Db,
        #[arg(long, env = "KEHU_TENANT", default_value = "bench")]
        tenant: String,
        #[arg(long, env = "KEHU_SEED_CUSTOMERS", default_value_t = 10_000)]
        customers: usize,
        #[arg(long, env = "KEHU_SEED", default_value_t = 1)]
        seed: u64,
        /// Customers per transaction.
        #[arg(long, env = "KEHU_SEED_BATCH", default_value_t = 2000)]
        batch: usize,
    },
    /// Audit log tools.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Classify customers (tiers, lifecycle, RFM, predictions, tags).
    /// With `--now` the run happens in this process and prints one JSON
    /// line per tenant; without, it is queued for the server's worker.
    Classify {
        #[command(flatten)]
        db: Db,
        /// One tenant by slug; every tenant when absent.
        #[arg(long, env = "KEHU_TENANT")]
        tenant: Option<String>,
        #[arg(long)]
        now: bool,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Fit the purchase models to an order log and score every customer.
    ///
    /// Reads a CSV with header `customer_id,date,amount` (amount in yuan, up
    /// to 2 decimals; extra columns such as `quantity` are ignored; a
    /// purchase is a distinct customer-day). Prints the fitted parameters as
    /// one JSON object and writes one row per customer to --out.
    Analyze {
        #[arg(long)]
        orders: PathBuf,
        /// RFM is scored as of this day (YYYY-MM-DD, inclusive).
        #[arg(long, value_parser = parse_day)]
        as_of: time::Date,
        /// The models see orders up to this day; defaults to --as-of.
        #[arg(long, value_parser = parse_day)]
        calibration_end: Option<time::Date>,
        #[arg(long, value_enum, default_value = "week")]
        unit: UnitArg,
        /// Expected purchases over this many units after calibration end.
        #[arg(long, default_value_t = 13.0)]
        horizon: f64,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum UnitArg {
    Day,
    Week,
}

fn parse_day(s: &str) -> Result<time::Date, String> {
    analyze::parse_date(None, s).map_err(|e| e.to_string())
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user with a role (admin, manager, sales, service, marketing, auditor).
    Add {
        #[command(flatten)]
        db: Db,
        #[arg(long, env = "KEHU_TENANT")]
        tenant: String,
        #[arg(long, env = "KEHU_LOGIN")]
        login: String,
        #[arg(long, env = "KEHU_ROLE")]
        role: String,
        /// Department name.
        #[arg(long, env = "KEHU_DEPARTMENT")]
        department: Option<String>,
        #[arg(long, env = "KEHU_DISPLAY_NAME")]
        display_name: Option<String>,
        #[arg(long, env = "KEHU_PASSWORD_STDIN")]
        password_stdin: bool,
    },
    /// Disable a user and end their sessions.
    Disable {
        #[command(flatten)]
        db: Db,
        #[arg(long, env = "KEHU_TENANT")]
        tenant: String,
        #[arg(long, env = "KEHU_LOGIN")]
        login: String,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Recompute the hash chain of a tenant's audit log.
    Verify {
        #[command(flatten)]
        db: Db,
        #[arg(long, env = "KEHU_TENANT")]
        tenant: String,
    },
}

fn key_path(url: &DbUrl, key_file: &Option<PathBuf>) -> PathBuf {
    if let Some(k) = key_file {
        return k.clone();
    }
    match url.sqlite_path() {
        Some(p) => {
            let mut s = p.as_os_str().to_owned();
            s.push(".key");
            PathBuf::from(s)
        }
        None => PathBuf::from("kehu.key"),
    }
}

/// The master key from KEHU_MASTER_KEY or the key file; only `create`
/// commands (demo, init) may make a new one.
fn master_key(url: &DbUrl, key_file: &Option<PathBuf>, create: bool) -> Result<MasterKey> {
    if let Ok(b64) = std::env::var("KEHU_MASTER_KEY") {
        return MasterKey::from_base64(&b64).context("KEHU_MASTER_KEY must be 32 bytes in base64");
    }
    let path = key_path(url, key_file);
    MasterKey::load_or_create_file(&path, create).with_context(|| {
        format!(
            "no master key: set KEHU_MASTER_KEY or --key-file (looked for {}); `kehu init` creates one",
            path.display()
        )
    })
}

async fn open(url: &str, key_file: &Option<PathBuf>, create: bool) -> Result<App> {
    let url = DbUrl::parse(url)?;
    let key = master_key(&url, key_file, create)?;
    let store = Store::open(
        &url,
        OpenOptions {
            create,
            ..Default::default()
        },
    )
    .await?;
    store.migrate().await.context("database migration failed")?;
    let mut config = AppConfig::default();
    if let Ok(v) = std::env::var("KEHU_SESSION_IDLE_MINUTES") {
        config.session_idle_ms = v.parse::<i64>().context("KEHU_SESSION_IDLE_MINUTES")? * 60_000;
    }
    Ok(App::new(store, key, Arc::new(SystemClock), config))
}

fn read_password(stdin: bool) -> Result<String> {
    if !stdin {
        bail!(
            "pass --password-stdin and write the password on standard input (it is never taken from a flag)"
        );
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        bail!("no password on standard input");
    }
    Ok(pw)
}

/// A field error as a person reads it, with the field's translated label.
fn localized(locale: Locale, e: &kehu_domain::FieldError) -> String {
    let mut params = e.params.clone();
    params.push(("field", field_label(locale, &e.field)));
    message(locale, e.code, &params)
}

fn app_err(e: kehu_app::AppError) -> anyhow::Error {
    match e {
        kehu_app::AppError::Validation(errs) | kehu_app::AppError::FieldForbidden(errs) => {
            let lines: Vec<String> = errs
                .0
                .iter()
                .map(|e| {
                    format!(
                        "{}: {} / {}",
                        e.field,
                        localized(Locale::ZhCn, e),
                        localized(Locale::En, e)
                    )
                })
                .collect();
            anyhow::anyhow!("{}", lines.join("\n"))
        }
        kehu_app::AppError::Conflict(e) => {
            anyhow::anyhow!(
                "{} / {}",
                localized(Locale::ZhCn, &e),
                localized(Locale::En, &e)
            )
        }
        other => anyhow::anyhow!("{other}"),
    }
}

async fn serve(app: App, s: &ServeOpts) -> Result<()> {
    let app = Arc::new(app);
    let config = WebConfig {
        secure_cookies: s.secure_cookies,
        metrics: match s.metrics {
            Metrics::Loopback => MetricsAccess::Loopback,
            Metrics::Admin => MetricsAccess::Admin,
            Metrics::Off => MetricsAccess::Off,
        },
        ..Default::default()
    };
    let router = kehu_web::router(app.clone(), config);
    let listener = tokio::net::TcpListener::bind(s.bind)
        .await
        .with_context(|| format!("cannot listen on {}", s.bind))?;
    spawn_jobs(app.clone());
    let purge = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = purge.purge_sessions().await {
                tracing::warn!(error = %e, "session purge failed");
            }
        }
    });
    tracing::info!(addr = %s.bind, "listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    app.store.close().await;
    Ok(())
}

/// Background work: the schedule (each tenant's nightly classification,
/// checked every minute) and a worker that runs queued jobs. Both go
/// through the database, so several processes on one PostgreSQL share them.
fn spawn_jobs(app: Arc<App>) {
    let sched = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = sched.enqueue_scheduled().await {
                tracing::warn!(error = %e, "scheduling failed");
            }
        }
    });
    let worker = format!("{}-{}", std::process::id(), kehu_app::new_id());
    tokio::spawn(async move {
        loop {
            match app.work_one(&worker, None).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "job worker"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
    });
}

fn two_years_to_today() -> (time::Date, time::Date) {
    // Up to yesterday: seeded times fall in working hours, and today's may
    // still be ahead of the clock.
    let end = kehu_app::today(SystemClock.now_ms()) - time::Duration::days(1);
    (end - time::Duration::days(730), end)
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KEHU_LOG")
                .unwrap_or_else(|_| "info,sqlx=error".into()),
        )
        .with_target(false)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Demo {
            database_url,
            key_file,
            serve: s,
            customers,
        } => {
            let app = open(&database_url, &key_file, true).await?;
            let tenant = match app.tenant_id_by_slug("demo").await {
                Ok(id) => id,
                Err(_) => {
                    println!(
                        "Creating the demo database ({customers} customers, two years of orders)…"
                    );
                    let (tid, _) = app
                        .create_tenant("demo", "演示公司", "admin", &demo_password("admin"))
                        .await
                        .map_err(app_err)?;
                    let owners = app.seed_demo_org(&tid).await.map_err(app_err)?;
                    let (start, end) = two_years_to_today();
                    let r = app
                        .seed_customers(
                            &tid,
                            owners,
                            SeedOptions {
                                customers,
                                seed: 42,
                                start,
                                end,
                                batch: 1000,
                            },
                        )
                        .await
                        .map_err(app_err)?;
                    println!(
                        "  {} customers, {} contacts, {} orders in {:.1}s",
                        r.customers, r.contacts, r.orders, r.seconds
                    );
                    app.seed_demo_rules(&tid).await.map_err(app_err)?;
                    let run = app
                        .run_classification(&tid, "seed")
                        .await
                        .map_err(app_err)?;
                    println!(
                        "  classified in {:.1}s (tiers, lifecycle, RFM, churn model, tags)",
                        run.total_ms as f64 / 1000.0
                    );
                    tid
                }
            };
            let _ = tenant;
            println!();
            println!("Kehu demo is running at http://{}/", s.bind);
            println!(
                "API: http://{}/api/v1 (OpenAPI document: /api/v1/openapi.json)",
                s.bind
            );
            println!("Tenant: demo. Logins (login / password / role):");
            for u in DEMO_USERS.iter() {
                println!(
                    "  {:<11} {:<24} {} ({})",
                    u.login,
                    demo_password(u.login),
                    u.role,
                    u.name
                );
            }
            println!("Press Ctrl-C to stop.");
            serve(app, &s).await
        }
        Command::Init {
            db,
            tenant,
            tenant_name,
            admin_login,
            password_stdin,
        } => {
            let pw = read_password(password_stdin)?;
            // Check the input before creating any file, so a typo leaves nothing behind.
            kehu_app::org::check_new_tenant(&tenant, &admin_login, &pw).map_err(app_err)?;
            let app = open(&db.database_url, &db.key_file, true).await?;
            let name = tenant_name.unwrap_or_else(|| tenant.clone());
            let (tid, uid) = app
                .create_tenant(&tenant, &name, &admin_login, &pw)
                .await
                .map_err(app_err)?;
            println!("tenant {tenant} ({tid}) created; administrator {admin_login} ({uid})");
            Ok(())
        }
        Command::User(UserCmd::Add {
            db,
            tenant,
            login,
            role,
            department,
            display_name,
            password_stdin,
        }) => {
            let pw = read_password(password_stdin)?;
            let app = open(&db.database_url, &db.key_file, false).await?;
            let tid = app
                .tenant_id_by_slug(&tenant)
                .await
                .map_err(|_| anyhow::anyhow!("no tenant '{tenant}'"))?;
            let actor = Actor::system(&tid);
            let department_id = match department {
                Some(name) => Some(
                    app.list_departments(&actor)
                        .await
                        .map_err(app_err)?
                        .into_iter()
                        .find(|d| d.name == name)
                        .with_context(|| format!("no department named '{name}'"))?
                        .id,
                ),
                None => None,
            };
            let body = kehu_app::views::UserCreate {
                login,
                display_name,
                password: pw,
                role,
                department_id,
                manager_id: None,
                locale: None,
            };
            let u = app.create_user(&actor, &body).await.map_err(app_err)?;
            println!("user {} ({}) added with role {}", u.login, u.id, u.role);
            Ok(())
        }
        Command::User(UserCmd::Disable { db, tenant, login }) => {
            let app = open(&db.database_url, &db.key_file, false).await?;
            let tid = app
                .tenant_id_by_slug(&tenant)
                .await
                .map_err(|_| anyhow::anyhow!("no tenant '{tenant}'"))?;
            let actor = Actor::system(&tid);
            let u = app
                .list_users(&actor)
                .await
                .map_err(app_err)?
                .into_iter()
                .find(|u| u.login == login)
                .with_context(|| format!("no user '{login}'"))?;
            let patch = kehu_app::views::UserPatch {
                disabled: Some(true),
                ..Default::default()
            };
            app.update_user(&actor, &u.id, u.version, &patch)
                .await
                .map_err(app_err)?;
            println!("user {login} disabled; their sessions are closed");
            Ok(())
        }
        Command::Serve { db, serve: s } => {
            let app = open(&db.database_url, &db.key_file, false).await?;
            serve(app, &s).await
        }
        Command::Migrate { db } => {
            let url = DbUrl::parse(&db.database_url)?;
            let store = Store::open(
                &url,
                OpenOptions {
                    create: true,
                    ..Default::default()
                },
            )
            .await?;
            store.migrate().await?;
            println!("migrations applied ({:?})", store.backend());
            Ok(())
        }
        Command::Backup { db, to } => {
            let url = DbUrl::parse(&db.database_url)?;
            let store = Store::open(&url, OpenOptions::default()).await?;
            let started = std::time::Instant::now();
            store.backup_to(&to).await?;
            println!(
                "backup written to {} in {:.1}s (copy the key file separately: without it the data cannot be read)",
                to.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Analyze {
            orders,
            as_of,
            calibration_end,
            unit,
            horizon,
            out,
        } => {
            if !(horizon.is_finite() && horizon >= 0.0) {
                bail!("--horizon 应为不小于 0 的数 / --horizon must be a number ≥ 0");
            }
            let line = analyze::run(&analyze::AnalyzeArgs {
                orders: &orders,
                as_of,
                calibration_end,
                unit: match unit {
                    UnitArg::Day => kehu_domain::analytics::TimeUnit::Day,
                    UnitArg::Week => kehu_domain::analytics::TimeUnit::Week,
                },
                horizon,
                out: &out,
            })?;
            analyze::write_line(&line)?;
            Ok(())
        }
        Command::Seed {
            db,
            tenant,
            customers,
            seed,
            batch,
        } => {
            let app = open(&db.database_url, &db.key_file, true).await?;
            let tid = match app.tenant_id_by_slug(&tenant).await {
                Ok(t) => t,
                Err(_) => {
                    app.create_tenant(&tenant, &tenant, "admin", &demo_password("admin"))
                        .await
                        .map_err(app_err)?
                        .0
                }
            };
            let owners = app.bench_owners(&tid).await.map_err(app_err)?;
            let (start, end) = two_years_to_today();
            let r = app
                .seed_customers(
                    &tid,
                    owners,
                    SeedOptions {
                        customers,
                        seed,
                        start,
                        end,
                        batch,
                    },
                )
                .await
                .map_err(app_err)?;
            // The demo's example tag rules, so classification runs on this
            // data evaluate rules (PERFORMANCE.md T7 counts them).
            app.seed_demo_rules(&tid).await.map_err(app_err)?;
            println!(
                "seeded {} customers, {} contacts, {} orders in {:.1}s ({:.0} customers/s); {} rejected by validation",
                r.customers,
                r.contacts,
                r.orders,
                r.seconds,
                r.customers as f64 / r.seconds.max(1e-9),
                r.rejected
            );
            Ok(())
        }
        Command::Audit(AuditCmd::Verify { db, tenant }) => {
            let app = open(&db.database_url, &db.key_file, false).await?;
            let tid = app
                .tenant_id_by_slug(&tenant)
                .await
                .map_err(|_| anyhow::anyhow!("no tenant '{tenant}'"))?;
            match app.verify_audit(&tid).await.map_err(app_err)? {
                AuditVerdict::Intact { rows } => {
                    println!("audit log intact: {rows} rows verified");
                    Ok(())
                }
                AuditVerdict::Broken { seq, reason } => {
                    bail!("audit log BROKEN at row {seq}: {reason}")
                }
            }
        }
        Command::Classify { db, tenant, now } => {
            let app = open(&db.database_url, &db.key_file, false).await?;
            let tenants = match tenant {
                Some(slug) => vec![
                    app.tenant_id_by_slug(&slug)
                        .await
                        .map_err(|_| anyhow::anyhow!("no tenant '{slug}'"))?,
                ],
                None => app.tenant_ids().await.map_err(app_err)?,
            };
            for tid in tenants {
                if now {
                    let r = app.run_classification(&tid, "cli").await.map_err(app_err)?;
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    let job = app.queue_run(&Actor::system(&tid)).await.map_err(app_err)?;
                    println!("queued run {} for tenant {tid}", job.job_id);
                }
            }
            Ok(())
        }
        Command::Openapi => {
            println!("{}", kehu_web::openapi_json());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
