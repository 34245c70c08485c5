//! Test harness: a real `kehu` HTTP server on a random local port, over a
//! real SQLite file or a fresh PostgreSQL database, with an injected clock.

use std::net::SocketAddr;
use std::sync::Arc;

use kehu_app::seed::demo_password;
use kehu_app::views::{DepartmentBody, UserCreate};
use kehu_app::{Actor, App, AppConfig, ManualClock};
use kehu_crypto::{MasterKey, PasswordParams};
use kehu_store::{DbUrl, OpenOptions, Store};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::OnceCell;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body against SQLite and, when `KEHU_TEST_POSTGRES_URL` is
/// set, against PostgreSQL. Without it the PostgreSQL leg says it skipped.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await;
            }
            #[tokio::test]
            async fn postgres() {
                if $crate::support::pg_url().is_none() {
                    eprintln!("SKIPPED (PostgreSQL leg): set KEHU_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres to run it");
                    return;
                }
                super::$name($crate::support::Backend::Postgres).await;
            }
        }
    };
}

pub fn pg_url() -> Option<String> {
    std::env::var("KEHU_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// One fresh PostgreSQL database per test process; tests isolate themselves
/// by tenant (which is itself under test).
async fn pg_database() -> String {
    static DB: OnceCell<String> = OnceCell::const_new();
    DB.get_or_init(|| async {
        let admin = pg_url().expect("checked by caller");
        let name = format!("kehu_test_{}_{}", std::process::id(), uuid_like());
        let url = DbUrl::parse(&admin).unwrap();
        let store = Store::open(&url, OpenOptions::default())
            .await
            .expect("connect to PostgreSQL");
        if let Store::Postgres(pool) = &store {
            kehu_store::drop_stale_test_databases(pool, "kehu_test_")
                .await
                .expect("drop earlier runs' databases");
            kehu_store::admin_exec(pool, &format!("CREATE DATABASE {name}"))
                .await
                .expect("CREATE DATABASE");
        }
        store.close().await;
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin);
        let db_url = format!("{base}/{name}");
        let store = Store::open(&DbUrl::parse(&db_url).unwrap(), OpenOptions::default())
            .await
            .unwrap();
        store.migrate().await.expect("migrations on PostgreSQL");
        store.close().await;
        db_url
    })
    .await
    .clone()
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    format!(
        "{:x}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

pub struct Server {
    pub base: String,
    pub app: Arc<App>,
    pub clock: Arc<ManualClock>,
    pub tenant_id: String,
    pub tenant: String,
    pub db_path: Option<std::path::PathBuf>,
    url: DbUrl,
    dir: tempfile::TempDir,
}

async fn open_app(url: &DbUrl, dir: &std::path::Path, clock: Arc<ManualClock>) -> Arc<App> {
    let store = Store::open(
        url,
        OpenOptions {
            create: true,
            max_connections: 4,
        },
    )
    .await
    .unwrap();
    let config = AppConfig {
        password: PasswordParams::FAST_FOR_TESTS,
        ..Default::default()
    };
    let master = MasterKey::load_or_create_file(&dir.join("kehu.key"), true).unwrap();
    Arc::new(App::new(store, master, clock, config))
}

impl Server {
    /// A server with one new tenant (slug unique per call) and its admin
    /// `admin` / `demo-admin-2026`.
    pub async fn start(backend: Backend) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (url, db_path) = match backend {
            Backend::Sqlite => {
                let p = dir.path().join("kehu.db");
                (DbUrl::Sqlite(p.clone()), Some(p))
            }
            Backend::Postgres => (DbUrl::parse(&pg_database().await).unwrap(), None),
        };
        let clock = Arc::new(ManualClock::new(now_ms()));
        let app = open_app(&url, dir.path(), clock.clone()).await;
        app.store.migrate().await.unwrap();
        let tenant = format!("t{}", uuid_like());
        let (tenant_id, _) = app
            .create_tenant(&tenant, "测试公司", "admin", &demo_password("admin"))
            .await
            .unwrap();
        let router = kehu_web::router(app.clone(), kehu_web::WebConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Server {
            base: format!("http://{addr}"),
            app,
            clock,
            tenant_id,
            tenant,
            db_path,
            url,
            dir,
        }
    }

    /// Another app process on the same database and master key (its own
    /// store, pools and writer), as a second server would run.
    pub async fn second_app(&self) -> Arc<App> {
        open_app(&self.url, self.dir.path(), self.clock.clone()).await
    }

    pub fn system(&self) -> Actor {
        Actor::system(&self.tenant_id)
    }

    pub async fn department(&self, name: &str, parent: Option<&str>) -> String {
        self.app
            .create_department(
                &self.system(),
                &DepartmentBody {
                    name: name.into(),
                    parent_id: parent.map(str::to_string),
                },
            )
            .await
            .unwrap()
            .id
    }

    /// Adds a user whose password is `demo-<login>-2026`.
    pub async fn user(
        &self,
        login: &str,
        role: &str,
        department: Option<&str>,
        manager: Option<&str>,
    ) -> String {
        let body = UserCreate {
            login: login.into(),
            display_name: None,
            password: demo_password(login),
            role: role.into(),
            department_id: department.map(str::to_string),
            manager_id: manager.map(str::to_string),
            locale: None,
        };
        self.app
            .create_user(&self.system(), &body)
            .await
            .unwrap()
            .id
    }

    pub fn anon(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            base: self.base.clone(),
            csrf: None,
            lang: "zh-CN",
            bearer: None,
        }
    }

    /// Signs in with the harness password of `login`.
    pub async fn login(&self, login: &str) -> Client {
        let mut c = self.anon();
        let r = c.post("/api/v1/auth/login", serde_json::json!({"tenant": self.tenant, "login": login, "password": demo_password(login)})).await;
        assert_eq!(r.status, StatusCode::OK, "login {login}: {}", r.body);
        c.csrf = Some(r.body["csrf_token"].as_str().unwrap().to_string());
        c
    }
}

pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
    pub lang: &'static str,
    pub bearer: Option<String>,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body as sent (compressed when the response says so).
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .expect("ETag header")
            .to_str()
            .unwrap()
            .to_string()
    }
    /// The `code`s of the problem's field errors.
    pub fn codes(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["field"].as_str().unwrap_or("").to_string(),
                            e["code"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Client {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{}", self.base, path))
            .header("accept-language", self.lang);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        if method != Method::GET
            && let Some(c) = &self.csrf
        {
            req = req.header("x-csrf-token", c);
        }
        if let Some(t) = &self.bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in extra {
            req = req.header(*k, HeaderValue::from_str(v).unwrap());
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
            bytes,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[]).await
    }
    /// A GET with `Accept-Encoding` (the body stays as sent).
    pub async fn get_encoded(&self, path: &str, accept_encoding: &str) -> Resp {
        self.send(
            Method::GET,
            path,
            None,
            &[("accept-encoding", accept_encoding)],
        )
        .await
    }
    pub async fn post(&mut self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body.to_string().into_bytes()), &[])
            .await
    }
    pub async fn patch(&self, path: &str, body: Value, if_match: Option<&str>) -> Resp {
        let extra: Vec<(&str, &str)> = if_match.map(|v| vec![("if-match", v)]).unwrap_or_default();
        self.send(
            Method::PATCH,
            path,
            Some(body.to_string().into_bytes()),
            &extra,
        )
        .await
    }
    pub async fn delete(&self, path: &str, if_match: Option<&str>) -> Resp {
        let extra: Vec<(&str, &str)> = if_match.map(|v| vec![("if-match", v)]).unwrap_or_default();
        self.send(Method::DELETE, path, None, &extra).await
    }

    /// Creates a customer and returns its JSON (asserting 201).
    pub async fn customer(&mut self, body: Value) -> Value {
        let r = self.post("/api/v1/customers", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "create customer: {}", r.text);
        r.body
    }
}
