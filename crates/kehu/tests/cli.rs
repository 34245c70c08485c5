//! End-to-end tests of the `kehu` binary: each test runs the real executable
//! on a SQLite database in its own temporary directory.
//!
//! Every child process gets a clean `KEHU_*` environment (so a developer's
//! own settings cannot leak in), `KEHU_LOG=error` and no backtraces.
//!
//! `KEHU_TEST_BINARY=target/release/kehu` runs them against another build.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

const PASSWORD: &str = "correct horse battery";
/// `kehu seed` and `kehu demo` create their administrator with this password.
const SEED_ADMIN_PASSWORD: &str = "demo-admin-2026";
/// Any single command (argon2 hashing, migrations, seeding 300 customers in
/// a debug build) finishes well within this; a hang fails instead of blocking.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// Generous for a debug build on a busy 2-core machine.
const READY_WITHIN: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- helpers

fn binary() -> PathBuf {
    match std::env::var_os("KEHU_TEST_BINARY") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_BIN_EXE_kehu")),
    }
}

/// `kehu` in `dir`, with a clean `KEHU_*` environment.
fn kehu(dir: &Path) -> Command {
    let mut c = Command::new(binary());
    c.current_dir(dir);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("KEHU_") {
            c.env_remove(k);
        }
    }
    c.env("KEHU_LOG", "error")
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0");
    c
}

struct Out {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

impl Out {
    /// Exit 0; returns stdout.
    #[track_caller]
    fn ok(&self) -> &str {
        assert!(self.status.success(), "expected success, got {self:?}");
        &self.stdout
    }

    /// A clean refusal: exit 1 with an `Error: …` message (not a panic,
    /// which exits 101); returns stderr.
    #[track_caller]
    fn refused(&self) -> &str {
        assert_eq!(
            self.status.code(),
            Some(1),
            "expected a clean error (exit 1), got {self:?}"
        );
        assert!(
            self.stderr.contains("Error: "),
            "expected an error message, got {self:?}"
        );
        assert!(
            !self.stderr.contains("panicked"),
            "expected no panic, got {self:?}"
        );
        &self.stderr
    }
}

/// Runs `c` with `stdin` (or an empty standard input) and a timeout.
fn run(mut c: Command, stdin: Option<&str>) -> Out {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn kehu");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            // The command may exit before reading (a refused flag): ignore EPIPE.
            let _ = input.write_all(s.as_bytes());
        }
    }
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_t = thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_t = thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let status = wait_timeout(&mut child, COMMAND_TIMEOUT).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{c:?} did not finish within {COMMAND_TIMEOUT:?}");
    });
    Out {
        status,
        stdout: out_t.join().expect("stdout reader"),
        stderr: err_t.join().expect("stderr reader"),
    }
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return Some(s);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// A fresh temporary directory with the database path `k.db` in it.
struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn db(&self) -> PathBuf {
        self.path("k.db")
    }

    fn url(&self) -> String {
        sqlite_url(&self.db())
    }

    fn key(&self) -> PathBuf {
        self.path("k.db.key")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = kehu(self.dir.path());
        c.args(args);
        c
    }

    /// `kehu <args> --database-url sqlite://<tmp>/k.db`.
    fn db_cmd(&self, args: &[&str]) -> Command {
        let mut c = self.cmd(args);
        c.args(["--database-url", &self.url()]);
        c
    }

    fn init(&self, tenant: &str, admin: &str, password: &str) -> Out {
        run(
            self.db_cmd(&[
                "init",
                "--tenant",
                tenant,
                "--admin-login",
                admin,
                "--password-stdin",
            ]),
            Some(&format!("{password}\n")),
        )
    }

    fn user_add(&self, tenant: &str, login: &str, role: &str, password: &str) -> Out {
        run(
            self.db_cmd(&[
                "user",
                "add",
                "--tenant",
                tenant,
                "--login",
                login,
                "--role",
                role,
                "--password-stdin",
            ]),
            Some(&format!("{password}\n")),
        )
    }

    /// A new directory with a copy of the database (and its WAL) but no key.
    fn copy_without_key(&self) -> Env {
        let other = Env::new();
        for suffix in ["", "-wal", "-shm"] {
            let from = self.path(&format!("k.db{suffix}"));
            if from.exists() {
                fs::copy(&from, other.path(&format!("k.db{suffix}"))).unwrap();
            }
        }
        other
    }

    /// Runs `audit verify` and returns the number of verified rows.
    #[track_caller]
    fn audit_rows(&self, url: &str, key_file: Option<&Path>, tenant: &str) -> u64 {
        let mut c = self.cmd(&["audit", "verify", "--tenant", tenant, "--database-url", url]);
        if let Some(k) = key_file {
            c.arg("--key-file").arg(k);
        }
        let out = run(c, None);
        audit_rows(out.ok())
    }
}

/// The row count of "audit log intact: N rows verified".
#[track_caller]
fn audit_rows(stdout: &str) -> u64 {
    let rest = stdout
        .trim()
        .strip_prefix("audit log intact: ")
        .unwrap_or_else(|| panic!("not an intact verdict: {stdout:?}"));
    rest.split(' ').next().unwrap().parse().expect("row count")
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind :0")
        .local_addr()
        .unwrap()
        .port()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client")
}

/// A running `kehu serve`/`kehu demo`; killed on drop if still running.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `kehu <args> --bind 127.0.0.1:<free port>` and waits until
    /// `/healthz` answers 200; returns the server and how long that took.
    fn start(env: &Env, args: &[&str], rt: &tokio::runtime::Runtime) -> (Server, Duration) {
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let log = env.path(&format!("server-{port}.log"));
        let mut c = env.cmd(args);
        c.args(["--bind", &bind])
            .stdin(Stdio::null())
            .stdout(Stdio::from(fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(
                fs::OpenOptions::new().append(true).open(&log).unwrap(),
            ));
        let started = Instant::now();
        let child = c.spawn().expect("spawn server");
        let mut server = Server {
            child,
            base: format!("http://{bind}"),
            log,
        };
        let client = http();
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("server exited early ({status}):\n{}", server.log_text());
            }
            let healthy = rt.block_on(async {
                match client
                    .get(format!("{}/healthz", server.base))
                    .timeout(Duration::from_secs(1))
                    .send()
                    .await
                {
                    Ok(r) => r.status() == reqwest::StatusCode::OK,
                    Err(_) => false,
                }
            });
            if healthy {
                break;
            }
            assert!(
                started.elapsed() < READY_WITHIN,
                "server not ready within {READY_WITHIN:?}:\n{}",
                server.log_text()
            );
            thread::sleep(Duration::from_millis(25));
        }
        let ready = started.elapsed();
        eprintln!("{args:?}: /healthz ready after {ready:?}");
        (server, ready)
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Ctrl-C (SIGINT, by process id) and wait for the graceful shutdown.
    fn stop(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -INT {pid} failed");
        match wait_timeout(&mut self.child, Duration::from_secs(10)) {
            Some(s) => s,
            None => panic!(
                "server did not stop within 10 s of SIGINT:\n{}",
                self.log_text()
            ),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Signs in; returns the CSRF token (the session cookie stays in `client`).
async fn login(
    client: &reqwest::Client,
    server: &Server,
    tenant: &str,
    login: &str,
    password: &str,
) -> reqwest::Result<(reqwest::StatusCode, Value)> {
    let r = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"tenant": tenant, "login": login, "password": password}))
        .send()
        .await?;
    let status = r.status();
    Ok((status, r.json().await.unwrap_or(Value::Null)))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Pages through `/api/v1/customers` and returns every code.
async fn all_customer_codes(client: &reqwest::Client, server: &Server) -> Vec<String> {
    let mut codes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = server.url("/api/v1/customers?limit=200");
        if let Some(c) = &cursor {
            url.push_str("&cursor=");
            url.push_str(&percent_encode(c));
        }
        let r = client.get(url).send().await.expect("list customers");
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let page: Value = r.json().await.expect("page json");
        for item in page["items"].as_array().expect("items") {
            codes.push(item["code"].as_str().expect("code").to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return codes,
        }
    }
}

// ---------------------------------------------------------------- 1. init

#[test]
fn init_creates_private_key_and_tenant_and_refuses_a_second_init() {
    let env = Env::new();
    let out = env.init("acme", "boss", PASSWORD);
    let stdout = out.ok();
    assert!(
        stdout.starts_with("tenant acme ("),
        "init should print the tenant: {stdout:?}"
    );
    assert!(stdout.contains("administrator boss ("), "{stdout:?}");
    assert!(env.db().exists());
    assert!(env.key().exists(), "init creates <db>.key");
    assert_eq!(mode(&env.key()), 0o600, "the key file is private");
    assert_eq!(mode(&env.db()), 0o600, "so is the database file");
    let key_before = fs::read(env.key()).unwrap();

    // Same tenant again: a clean, translated refusal; the key is untouched.
    let again = env.init("acme", "boss", PASSWORD);
    let err = again.refused();
    assert!(err.contains("该租户标识已被使用"), "{err}");
    assert!(err.contains("This tenant slug is already taken."), "{err}");
    assert_eq!(fs::read(env.key()).unwrap(), key_before);

    // The first tenant's audit log has its creation entry.
    assert_eq!(env.audit_rows(&env.url(), None, "acme"), 1);
}

#[test]
fn init_rejects_short_password_without_stdin_flag_and_empty_stdin() {
    let env = Env::new();

    // Without --password-stdin: refused before anything is created.
    let out = run(
        env.db_cmd(&["init", "--tenant", "acme", "--admin-login", "boss"]),
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.refused().contains("--password-stdin"), "{out:?}");
    assert!(!env.db().exists(), "nothing is created without a password");
    assert!(!env.key().exists());

    // Empty standard input.
    let out = run(
        env.db_cmd(&[
            "init",
            "--tenant",
            "acme",
            "--admin-login",
            "boss",
            "--password-stdin",
        ]),
        None,
    );
    assert!(
        out.refused().contains("no password on standard input"),
        "{out:?}"
    );

    // Too short: translated message, with the field's label, in both languages;
    // and nothing is created on disk.
    let out = env.init("acme", "boss", "short");
    let err = out.refused();
    assert!(err.contains("密码至少需要 10 个字符"), "{err}");
    assert!(
        err.contains("Password must be at least 10 characters"),
        "{err}"
    );
    assert!(
        !env.key().exists() && !env.db().exists(),
        "a refused init leaves nothing behind"
    );

    // Same as the login.
    let out = env.init("acme", "boss.login", "boss.login");
    let err = out.refused();
    assert!(err.contains("密码不能与登录名相同"), "{err}");
    assert!(
        err.contains("The password must not be the same as the login."),
        "{err}"
    );

    // A password with a Windows line ending still works, and the tenant was
    // not created by the failed attempts.
    let out = run(
        env.db_cmd(&[
            "init",
            "--tenant",
            "acme",
            "--admin-login",
            "boss",
            "--password-stdin",
        ]),
        Some(&format!("{PASSWORD}\r\n")),
    );
    assert!(out.ok().starts_with("tenant acme ("));
}

// ------------------------------------------ 2. refusing to open the database

/// The refusals of every command that opens an existing database (`serve`,
/// `user`, `audit`): `prefix` is the command without `--database-url`.
fn assert_open_refusals(prefix: &[&str]) {
    let env = Env::new();
    env.init("acme", "boss", PASSWORD).ok();

    // The database copied elsewhere without its key.
    let other = env.copy_without_key();
    let out = run(other.db_cmd(prefix), None);
    let err = out.refused();
    assert!(err.contains("no master key"), "{err}");
    assert!(
        err.contains(&other.key().display().to_string()),
        "names the key path: {err}"
    );
    assert!(err.contains("KEHU_MASTER_KEY"), "{err}");

    // A key file readable by others is refused.
    fs::copy(env.key(), other.key()).unwrap();
    fs::set_permissions(other.key(), fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(other.db_cmd(prefix), None);
    let err = out.refused();
    assert!(err.contains("0600"), "{err}");
    assert!(err.contains("chmod 600"), "{err}");

    // Unknown scheme: named in the message.
    let mut c = env.cmd(prefix);
    c.args(["--database-url", "mysql://x"]);
    let out = run(c, None);
    let err = out.refused();
    assert!(
        err.contains("unsupported database URL scheme 'mysql'"),
        "{err}"
    );

    // A missing SQLite file (its key present) is refused, not created.
    let missing = env.path("missing.db");
    fs::copy(env.key(), env.path("missing.db.key")).unwrap();
    let mut c = env.cmd(prefix);
    c.args(["--database-url", &sqlite_url(&missing)]);
    let out = run(c, None);
    let err = out.refused();
    assert!(err.contains("does not exist"), "{err}");
    assert!(err.contains("kehu init"), "{err}");
    assert!(!missing.exists(), "no silent creation of {missing:?}");
}

#[test]
fn commands_on_an_existing_database_refuse_missing_key_bad_scheme_and_missing_file() {
    // `user` and `audit` open the database exactly like `serve` does.
    assert_open_refusals(&["audit", "verify", "--tenant", "acme"]);
    assert_open_refusals(&["user", "disable", "--tenant", "acme", "--login", "x"]);
}

#[test]
fn serve_refuses_missing_key_bad_scheme_and_missing_file() {
    let port = free_port().to_string();
    let bind = format!("127.0.0.1:{port}");
    assert_open_refusals(&["serve", "--bind", &bind]);
}

#[test]
fn master_key_from_environment_replaces_the_key_file() {
    let env = Env::new();
    env.init("acme", "boss", PASSWORD).ok();
    let key = fs::read_to_string(env.key()).unwrap();
    let other = env.copy_without_key();
    let mut c = other.db_cmd(&["audit", "verify", "--tenant", "acme"]);
    c.env("KEHU_MASTER_KEY", key.trim());
    assert_eq!(audit_rows(run(c, None).ok()), 1);

    // A wrong value is refused without echoing it.
    let mut c = other.db_cmd(&["audit", "verify", "--tenant", "acme"]);
    c.env("KEHU_MASTER_KEY", "not-a-key");
    let out = run(c, None);
    let err = out.refused();
    assert!(err.contains("KEHU_MASTER_KEY"), "{err}");
    assert!(
        !err.contains("not-a-key"),
        "the secret is not echoed: {err}"
    );
}

// ---------------------------------------------------------------- 3. users

#[test]
fn user_add_and_disable() {
    let env = Env::new();
    env.init("acme", "boss", PASSWORD).ok();

    let out = env.user_add("acme", "li.na", "sales", PASSWORD);
    let stdout = out.ok();
    assert!(stdout.starts_with("user li.na ("), "{stdout:?}");
    assert!(
        stdout.trim_end().ends_with("added with role sales"),
        "{stdout:?}"
    );

    // The same login again.
    let out = env.user_add("acme", "li.na", "sales", PASSWORD);
    let err = out.refused();
    assert!(err.contains("该登录名已被使用"), "{err}");
    assert!(err.contains("This login is already taken."), "{err}");

    // Unknown role: the message lists the roles to choose from, in both languages.
    let out = env.user_add("acme", "wang.qiang", "ceo", PASSWORD);
    let err = out.refused();
    assert!(
        err.contains("角色不存在，可选：admin, auditor, manager, marketing, sales, service"),
        "{err}"
    );
    assert!(err.contains("choose one of: admin, auditor"), "{err}");

    // Unknown department.
    let c = env.db_cmd(&[
        "user",
        "add",
        "--tenant",
        "acme",
        "--login",
        "wang.qiang",
        "--role",
        "sales",
        "--department",
        "华东销售部",
        "--password-stdin",
    ]);
    let out = run(c, Some(&format!("{PASSWORD}\n")));
    assert!(
        out.refused().contains("no department named '华东销售部'"),
        "{out:?}"
    );

    // Unknown tenant, short password.
    let out = env.user_add("nope", "wang.qiang", "sales", PASSWORD);
    assert!(out.refused().contains("no tenant 'nope'"), "{out:?}");
    let out = env.user_add("acme", "wang.qiang", "sales", "short");
    assert!(out.refused().contains("至少需要 10 个字符"), "{out:?}");

    // Disable.
    let out = run(
        env.db_cmd(&["user", "disable", "--tenant", "acme", "--login", "li.na"]),
        None,
    );
    assert!(
        out.ok().contains("user li.na disabled"),
        "disable reports the user: {out:?}"
    );
    let out = run(
        env.db_cmd(&["user", "disable", "--tenant", "acme", "--login", "ghost"]),
        None,
    );
    assert!(out.refused().contains("no user 'ghost'"), "{out:?}");

    // Each change is audited and the chain is intact:
    // tenant.create, user.create, user.update.
    assert!(env.audit_rows(&env.url(), None, "acme") >= 3);
}

// ------------------------------------------------------- 4. environment

#[test]
fn database_url_and_tenant_from_environment() {
    let env = Env::new();
    let with_env = |args: &[&str]| {
        let mut c = env.cmd(args);
        c.env("KEHU_DATABASE_URL", env.url())
            .env("KEHU_TENANT", "acme");
        c
    };
    let out = run(
        with_env(&["init", "--admin-login", "boss", "--password-stdin"]),
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.ok().starts_with("tenant acme ("), "{out:?}");
    assert!(env.db().exists() && env.key().exists());

    let out = run(
        with_env(&[
            "user",
            "add",
            "--login",
            "li.na",
            "--role",
            "sales",
            "--password-stdin",
        ]),
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.ok().starts_with("user li.na ("), "{out:?}");

    let out = run(with_env(&["user", "disable", "--login", "li.na"]), None);
    out.ok();

    let out = run(with_env(&["audit", "verify"]), None);
    assert!(audit_rows(out.ok()) >= 3);

    // A flag wins over the environment.
    let mut c = with_env(&["audit", "verify", "--tenant", "nope"]);
    c.args(["--database-url", &env.url()]);
    assert!(run(c, None).refused().contains("no tenant 'nope'"));
    let other = env.path("other.db");
    let mut c = with_env(&["audit", "verify"]);
    c.args(["--database-url", &sqlite_url(&other)]);
    assert!(run(c, None).refused().contains("other.db"));
    assert!(!other.exists());
}

// ------------------------------------------------ 5. HTTP, audit, backup

/// Init, users, then a server started with `server_args` (the command and
/// its flags, without `--bind`): health, login, CSRF, a customer, a
/// disabled user, online backup and graceful stop; then `audit verify` and
/// `backup` offline.
fn http_flow(server_args: &[&str]) {
    let env = Env::new();
    env.init("acme", "boss", PASSWORD).ok();
    env.user_add("acme", "li.na", "sales", PASSWORD).ok();
    env.user_add("acme", "gone", "sales", PASSWORD).ok();
    run(
        env.db_cmd(&["user", "disable", "--tenant", "acme", "--login", "gone"]),
        None,
    )
    .ok();
    let rows_before = env.audit_rows(&env.url(), None, "acme");

    let rt = runtime();
    let mut args = server_args.to_vec();
    let url = env.url();
    args.extend(["--database-url", &url]);
    let (mut server, ready) = Server::start(&env, &args, &rt);
    assert!(ready < READY_WITHIN, "ready after {ready:?}");

    let live_copy = env.path("live-copy.db");
    let sales = http();
    rt.block_on(async {
        let client = http();
        let r = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");

        // Wrong password, disabled user.
        let (status, _) = login(&client, &server, "acme", "boss", "wrong password!")
            .await
            .unwrap();
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
        let (status, _) = login(&client, &server, "acme", "gone", PASSWORD)
            .await
            .unwrap();
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);

        // The CLI-created sales user can sign in.
        let (status, body) = login(&sales, &server, "acme", "li.na", PASSWORD)
            .await
            .unwrap();
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert_eq!(body["user"]["role"], "sales");

        // The administrator.
        let (status, body) = login(&client, &server, "acme", "boss", PASSWORD)
            .await
            .unwrap();
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert_eq!(body["user"]["login"], "boss");
        assert_eq!(body["user"]["role"], "admin");
        let csrf = body["csrf_token"].as_str().expect("csrf_token").to_string();

        let customer = json!({"kind": "person", "name": "张三"});
        // Without the CSRF header: refused.
        let r = client
            .post(server.url("/api/v1/customers"))
            .json(&customer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
        // With it: created.
        let r = client
            .post(server.url("/api/v1/customers"))
            .header("x-csrf-token", &csrf)
            .json(&customer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        assert!(r.headers().contains_key("etag"));
        let created: Value = r.json().await.unwrap();
        assert_eq!(created["name"], "张三");
        let code = created["code"].as_str().expect("code").to_string();
        assert!(!code.is_empty());

        let codes = all_customer_codes(&client, &server).await;
        assert_eq!(codes, vec![code]);

        let r = sales
            .get(server.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
    });

    // `user disable` on the running server's database ends the sessions:
    // another process sees it within the caller cache's 5 seconds.
    run(
        env.db_cmd(&["user", "disable", "--tenant", "acme", "--login", "li.na"]),
        None,
    )
    .ok();
    rt.block_on(async {
        let disabled_at = std::time::Instant::now();
        loop {
            let r = sales
                .get(server.url("/api/v1/auth/me"))
                .send()
                .await
                .unwrap();
            if r.status() == reqwest::StatusCode::UNAUTHORIZED {
                break;
            }
            assert!(
                disabled_at.elapsed() < Duration::from_secs(7),
                "still signed in {:?} after the user was disabled",
                disabled_at.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let (status, _) = login(&sales, &server, "acme", "li.na", PASSWORD)
            .await
            .unwrap();
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    });

    // `backup` is safe while the server runs.
    run(
        env.db_cmd(&["backup", "--to", live_copy.to_str().unwrap()]),
        None,
    )
    .ok();
    assert!(live_copy.exists());

    let status = server.stop();
    assert!(
        status.success(),
        "graceful stop on SIGINT: {status}\n{}",
        server.log_text()
    );
    drop(server);

    // Login, the failed logins and the customer were audited; chain intact.
    let rows_after = env.audit_rows(&env.url(), None, "acme");
    assert!(
        rows_after > rows_before,
        "audit rows {rows_before} -> {rows_after}"
    );

    // Offline backup; it is a working database (with the original key).
    let copy = env.path("copy.db");
    let out = run(
        env.db_cmd(&["backup", "--to", copy.to_str().unwrap()]),
        None,
    );
    let stdout = out.ok();
    assert!(stdout.contains("backup written to"), "{stdout:?}");
    assert!(
        stdout.contains("key file"),
        "reminds about the key: {stdout:?}"
    );
    assert!(fs::metadata(&copy).unwrap().len() > 0);
    assert_eq!(
        env.audit_rows(&sqlite_url(&copy), Some(&env.key()), "acme"),
        rows_after
    );
    assert!(env.audit_rows(&sqlite_url(&live_copy), Some(&env.key()), "acme") > rows_before);

    // An existing target is never overwritten.
    let before = fs::read(&copy).unwrap();
    let out = run(
        env.db_cmd(&["backup", "--to", copy.to_str().unwrap()]),
        None,
    );
    assert!(out.refused().contains("already exists"), "{out:?}");
    assert_eq!(fs::read(&copy).unwrap(), before);

    // Backup of a database that does not exist.
    let out = run(
        env.cmd(&[
            "backup",
            "--database-url",
            &sqlite_url(&env.path("missing.db")),
            "--to",
            env.path("x.db").to_str().unwrap(),
        ]),
        None,
    );
    assert!(out.refused().contains("does not exist"), "{out:?}");
    assert!(!env.path("missing.db").exists());
}

#[test]
fn serve_http_login_customer_then_audit_verify_and_backup() {
    http_flow(&["serve"]);
}

/// The same flow through `kehu demo`, which serves with the same code as
/// `serve` (and adds a small `demo` tenant next to `acme`).
#[test]
fn demo_server_http_login_customer_then_audit_verify_and_backup() {
    http_flow(&["demo", "--customers", "1"]);
}

// ---------------------------------------------------------------- 6. seed

/// "seeded N customers, C contacts, O orders in …; R rejected by validation"
fn seed_counts(stdout: &str) -> (u64, u64, u64, u64) {
    let words: Vec<&str> = stdout.split_whitespace().collect();
    let before = |w: &str| -> u64 {
        let i = words
            .iter()
            .position(|x| x.trim_end_matches([',', ';']) == w)
            .unwrap_or_else(|| panic!("no '{w}' in {stdout:?}"));
        words[i - 1].parse().expect(w)
    };
    assert_eq!(words.first(), Some(&"seeded"), "{stdout:?}");
    (
        before("customers"),
        before("contacts"),
        before("orders"),
        before("rejected"),
    )
}

#[test]
fn seed_twice_adds_customers_with_distinct_codes() {
    let env = Env::new();
    let seed = || {
        run(
            env.db_cmd(&[
                "seed",
                "--tenant",
                "bench",
                "--customers",
                "300",
                "--seed",
                "7",
            ]),
            None,
        )
    };
    let first = seed();
    let (customers, _contacts, orders, rejected) = seed_counts(first.ok());
    assert_eq!(customers, 300);
    assert!(orders > 0, "{first:?}");
    assert_eq!(rejected, 0);
    assert_eq!(mode(&env.key()), 0o600);

    // Same seed again: 300 more, no code collision.
    let second = seed();
    let (customers, _, orders, rejected) = seed_counts(second.ok());
    assert_eq!(customers, 300);
    assert!(orders > 0);
    assert_eq!(rejected, 0);
    env.audit_rows(&env.url(), None, "bench");

    // Classification in this process: one JSON line with what it did.
    let out = run(
        env.cmd(&[
            "classify",
            "--now",
            "--tenant",
            "bench",
            "--database-url",
            &env.url(),
        ]),
        None,
    );
    let line: serde_json::Value = serde_json::from_str(out.ok().trim()).expect("one JSON line");
    assert_eq!(line["customers"], 600, "{line}");
    assert_eq!(line["tier_changes"], 600, "a first run assigns every tier");
    // The seed's example tag rules (added once, not again by the second
    // seed) tag customers.
    assert!(line["tag_changes"].as_u64().unwrap() > 0, "{line}");
    assert!(
        line["orders"].as_u64().unwrap() > 0 && line["compute_ms"].is_u64(),
        "{line}"
    );
    // Without --now the run is queued for the server's worker.
    let out = run(
        env.cmd(&[
            "classify",
            "--tenant",
            "bench",
            "--database-url",
            &env.url(),
        ]),
        None,
    );
    assert!(out.ok().starts_with("queued run "), "{out:?}");
    let out = run(
        env.cmd(&[
            "classify",
            "--now",
            "--tenant",
            "nobody",
            "--database-url",
            &env.url(),
        ]),
        None,
    );
    assert!(
        !out.status.success() && out.stderr.contains("no tenant 'nobody'"),
        "{out:?}"
    );

    // All 600 are there, each with its own code.
    let rt = runtime();
    let (server, _) = Server::start(
        &env,
        &["demo", "--customers", "1", "--database-url", &env.url()],
        &rt,
    );
    rt.block_on(async {
        let client = http();
        let (status, body) = login(&client, &server, "bench", "admin", SEED_ADMIN_PASSWORD)
            .await
            .unwrap();
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        let mut codes = all_customer_codes(&client, &server).await;
        assert_eq!(codes.len(), 600);
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 600, "customer codes are unique");
    });
}

// ---------------------------------------------------------------- help

/// `--help` builds each subcommand's parser, which in debug builds runs
/// clap's consistency checks.
#[test]
fn every_subcommand_has_help() {
    let env = Env::new();
    let commands: &[&[&str]] = &[
        &[],
        &["demo"],
        &["init"],
        &["user"],
        &["user", "add"],
        &["user", "disable"],
        &["serve"],
        &["migrate"],
        &["backup"],
        &["seed"],
        &["audit"],
        &["audit", "verify"],
        &["classify"],
        &["openapi"],
    ];
    for args in commands {
        let mut c = env.cmd(args);
        c.arg("--help");
        let out = run(c, None);
        assert!(out.ok().contains("Usage: kehu"), "{args:?}: {out:?}");
    }
    let out = run(env.cmd(&["--version"]), None);
    assert!(out.ok().starts_with("kehu "), "{out:?}");
}

// ------------------------------------------------------------- 7. openapi

#[test]
fn openapi_prints_the_document() {
    let env = Env::new();
    let out = run(env.cmd(&["openapi"]), None);
    let stdout = out.ok();
    assert!(stdout.contains("\"/customers\""));
    let doc: Value = serde_json::from_str(stdout).expect("OpenAPI JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/customers",
        "/customers/{id}",
        "/auth/login",
        "/audit/verify",
    ] {
        assert!(doc["paths"].get(path).is_some(), "missing {path}");
    }
    assert_eq!(
        fs::read_dir(env.dir.path()).unwrap().count(),
        0,
        "openapi touches no database"
    );
}

// ------------------------------------------------------------- 8. migrate

#[test]
fn migrate_creates_the_schema_on_a_fresh_path() {
    let env = Env::new();
    let out = run(env.db_cmd(&["migrate"]), None);
    assert!(out.ok().contains("migrations applied (Sqlite)"), "{out:?}");
    assert!(env.db().exists());
    assert!(!env.key().exists(), "migrate needs no key");
    // Idempotent.
    run(env.db_cmd(&["migrate"]), None).ok();
    // A later init uses the schema and creates the key.
    assert!(
        env.init("acme", "boss", PASSWORD)
            .ok()
            .starts_with("tenant acme (")
    );
    assert_eq!(mode(&env.key()), 0o600);
    assert_eq!(env.audit_rows(&env.url(), None, "acme"), 1);

    let out = run(env.cmd(&["migrate", "--database-url", "mysql://x"]), None);
    assert!(out.refused().contains("'mysql'"), "{out:?}");
}

// ---------------------------------------------------------------- analyze

/// An order log with a buy-then-maybe-stop rhythm (a small LCG, so the file
/// is the same on every run): 400 customers over 2025, amounts in yuan with
/// 0–2 decimals, a few same-day duplicates, plus a header in another order.
fn order_log() -> String {
    let mut s = String::from("date,customer_id,amount,quantity\n");
    let mut state: u64 = 42;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let start = time::macros::date!(2025 - 01 - 01);
    for c in 0..400 {
        let mut day = (next() * 120.0) as i64;
        let rate = 0.02 + next() * 0.1; // purchases per day while active
        let stop = 0.1 + next() * 0.4; // chance to drop out after each purchase
        loop {
            if day > 364 {
                break;
            }
            let date = start + time::Duration::days(day);
            let amount = 20.0 + next() * 400.0;
            s.push_str(&format!("{date},C{c:04},{amount:.2},1\n"));
            if next() < 0.05 {
                s.push_str(&format!("{date},C{c:04},5,1\n"));
            }
            if next() < stop {
                break;
            }
            day += 1 + (-next().max(1e-9).ln() / rate) as i64;
        }
    }
    s
}

#[test]
fn analyze_fits_the_models_and_scores_every_customer() {
    let dir = TempDir::new().unwrap();
    let orders = dir.path().join("orders.csv");
    fs::write(&orders, order_log()).unwrap();
    let out = dir.path().join("results.csv");
    let mut c = kehu(dir.path());
    c.args(["analyze", "--orders"]).arg(&orders).args([
        "--as-of",
        "2025-12-31",
        "--calibration-end",
        "2025-09-30",
        "--unit",
        "week",
        "--horizon",
        "13",
        "--out",
    ]);
    c.arg(&out);
    let stdout = run(c, None).ok().to_string();
    let params: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    for k in ["r", "alpha", "a", "b"] {
        let v = params["bgnbd"][k].as_f64().unwrap_or(f64::NAN);
        assert!(v.is_finite() && v > 0.0, "bgnbd.{k} = {v}: {stdout}");
    }
    assert!(params["bgnbd"]["log_likelihood"].as_f64().unwrap() < 0.0);
    for k in ["p", "q", "v", "log_likelihood"] {
        assert!(
            params["gamma_gamma"][k]
                .as_f64()
                .is_some_and(f64::is_finite),
            "{stdout}"
        );
    }
    let text = fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "customer_id,frequency,recency,T,r_score,f_score,m_score,p_alive,expected_purchases,expected_spend,clv"
        )
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    // One row per customer first seen by the calibration end.
    let log = order_log();
    let mut first_seen: std::collections::BTreeMap<&str, &str> = Default::default();
    for l in log.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let e = first_seen.entry(f[1]).or_insert(f[0]);
        if f[0] < *e {
            *e = f[0];
        }
    }
    let expected = first_seen.values().filter(|d| **d <= "2025-09-30").count();
    assert_eq!(rows.len(), expected);
    for r in &rows {
        let p: f64 = r[7].parse().unwrap();
        assert!((0.0..=1.0).contains(&p), "{r:?}");
        for s in &r[4..7] {
            assert!(("1"..="5").contains(&s.as_str()), "{r:?}");
        }
        let (e, clv): (f64, f64) = (r[8].parse().unwrap(), r[10].parse().unwrap());
        assert!(e >= 0.0 && clv >= 0.0, "{r:?}");
    }
    // Frequency is repeat purchase days (a same-day extra order is not one),
    // recency and T in weeks, from the log itself for one customer.
    let row = &rows[0];
    let days: std::collections::BTreeSet<&str> = log
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some(row[0].as_str()))
        .map(|l| l.split(',').next().unwrap())
        .filter(|d| *d <= "2025-09-30")
        .collect();
    assert_eq!(row[1], (days.len() - 1).to_string(), "{row:?} {days:?}");
    let day = |s: &str| {
        time::Date::parse(
            s,
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .unwrap()
    };
    let first = day(days.first().unwrap());
    let t: f64 = row[3].parse().unwrap();
    assert!(
        (t - (day("2025-09-30") - first).whole_days() as f64 / 7.0).abs() < 1e-9,
        "{row:?}"
    );
}

/// `kehu analyze` of `orders` as of 2025-12-31, results to `out`.
fn analyze_year_end(dir: &Path, orders: &Path, out: &Path) -> Command {
    let mut c = kehu(dir);
    c.args(["analyze", "--orders"])
        .arg(orders)
        .args(["--as-of", "2025-12-31", "--out"])
        .arg(out);
    c
}

/// A log with quoted fields and CRLF line ends, or with a byte order mark
/// (as spreadsheets save them), reads exactly like the plain one.
#[test]
fn analyze_reads_quoted_and_crlf_files_alike() {
    let dir = TempDir::new().unwrap();
    let plain = order_log();
    let quoted: String = plain
        .lines()
        .map(|l| {
            let f: Vec<String> = l.split(',').map(|v| format!("\"{v}\"")).collect();
            f.join(",") + "\r\n"
        })
        .collect();
    let bom = format!("\u{feff}{plain}");
    let mut results = Vec::new();
    for (name, text) in [
        ("plain.csv", plain),
        ("quoted.csv", quoted),
        ("bom.csv", bom),
    ] {
        let orders = dir.path().join(name);
        fs::write(&orders, text).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let stdout = run(analyze_year_end(dir.path(), &orders, &out), None)
            .ok()
            .to_string();
        results.push((stdout, fs::read_to_string(&out).unwrap()));
    }
    assert!(results[0].1.lines().count() > 300);
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

#[test]
fn analyze_names_the_line_and_field_of_bad_input() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("r.csv");
    let cases = [
        (
            "customer_id,date,amount\nA,2025-01-02,10\nB,2025-13-40,5\n",
            "line 3, date",
        ),
        (
            "customer_id,date,amount\nA,2025-01-02,-3\n",
            "line 2, amount",
        ),
        (
            "customer_id,date,amount\nA,2025-01-02,1.234\n",
            "line 2, amount",
        ),
        (
            "customer,date,amount\nA,2025-01-02,1\n",
            "missing column customer_id",
        ),
        (
            "customer_id,date,amount\nA,2025-01-02,10\nB,2025-01-03\n",
            "line 3: expected 3 fields, found 2",
        ),
        (
            "customer_id,date,amount\n\"A\",\"2025-01-02\",\"10\"\n\"B, Ltd\",\"2025-13-01\",5\n",
            "line 3, date",
        ),
        (
            "customer_id,date,amount\nA,2025-01-02,10\nB,2025-01-03,4\n",
            "no customer bought again",
        ),
    ];
    for (csv, want) in cases {
        let f = dir.path().join("o.csv");
        fs::write(&f, csv).unwrap();
        let err = run(analyze_year_end(dir.path(), &f, &out), None)
            .refused()
            .to_string();
        assert!(err.contains(want), "{want}: {err}");
        assert!(
            err.contains('行') || err.contains("列") || err.contains("客户"),
            "zh-CN too: {err}"
        );
    }
}
