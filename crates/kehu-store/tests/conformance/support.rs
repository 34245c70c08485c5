//! Harness for the storage conformance suite: every test body runs once on a
//! fresh SQLite file and once on PostgreSQL (when `KEHU_TEST_POSTGRES_URL` is
//! set). PostgreSQL gets one fresh database per test process; tests isolate
//! themselves there by creating their own tenant(s).

use kehu_domain::access::DataScope;
use kehu_store::customers::{self as cs, CustomerRow, Lookup, Viewer};
use kehu_store::org::{self, DepartmentRow, RoleRow, TenantRow, UserRow};
use kehu_store::{DbUrl, OpenOptions, Store};
use tokio::sync::OnceCell;

pub use kehu_store::Backend;

/// Runs `$name(Backend)` as `$name::sqlite` and `$name::postgres`. Without
/// `KEHU_TEST_POSTGRES_URL` the PostgreSQL leg says it skipped and passes.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if $crate::support::pg_url().is_none() {
                    eprintln!(
                        "SKIPPED (PostgreSQL leg): set KEHU_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres to run it"
                    );
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

pub fn nanos() -> u128 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

pub fn now_ms() -> i64 {
    (nanos() / 1_000_000) as i64
}

/// A UUIDv7 text id, as the application uses.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A short unique token for slugs, logins and keys.
pub fn unique() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// This backend's migrations folder (`migrations/sqlite` or `…/postgres`).
pub fn migrations_dir(b: Backend) -> String {
    let dir = match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR"))
}

/// The text of one of this backend's migrations, to run again over data.
pub fn migration_sql(b: Backend, file: &str) -> String {
    std::fs::read_to_string(format!("{}/{file}", migrations_dir(b))).unwrap()
}

/// Runs one of PostgreSQL's migrations again inside `tx`, a statement a
/// call (prepared statements take one; no migration has `;` inside one).
pub async fn rerun_pg_migration(tx: &mut kehu_store::Tx, file: &str) {
    for stmt in migration_sql(Backend::Postgres, file).split(";\n") {
        let code: Vec<&str> = stmt
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect();
        if code.iter().any(|l| !l.trim().is_empty()) {
            tx.exec(kehu_store::sql!(&code.join("\n"))).await.unwrap();
        }
    }
}

/// The URL of this process's PostgreSQL database, created and migrated on
/// first use (`CREATE DATABASE kehu_conf_<pid>_<nanos>`).
async fn pg_database() -> String {
    static DB: OnceCell<String> = OnceCell::const_new();
    DB.get_or_init(|| async {
        let admin = pg_url().expect("checked by caller");
        let name = format!("kehu_conf_{}_{}", std::process::id(), nanos());
        let store = Store::open(&DbUrl::parse(&admin).unwrap(), OpenOptions::default())
            .await
            .expect("connect to PostgreSQL (admin URL)");
        match &store {
            Store::Postgres(pool) => {
                kehu_store::drop_stale_test_databases(pool, "kehu_conf_")
                    .await
                    .expect("drop earlier runs' databases");
                kehu_store::admin_exec(pool, &format!("CREATE DATABASE {name}"))
                    .await
                    .expect("CREATE DATABASE")
            }
            Store::Sqlite { .. } => panic!("KEHU_TEST_POSTGRES_URL is not a PostgreSQL URL"),
        }
        store.close().await;
        let url = pg_database_url(&name);
        let store = Store::open(&DbUrl::parse(&url).unwrap(), OpenOptions::default())
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrations on PostgreSQL");
        store.close().await;
        eprintln!("PostgreSQL leg: database {name}");
        url
    })
    .await
    .clone()
}

/// Runs one statement on `store` in a transaction of its own, committed.
pub async fn exec_committed(store: &Store, q: kehu_store::Sql) {
    let mut tx = store.begin_bulk().await.unwrap();
    tx.exec(q).await.unwrap();
    tx.commit().await.unwrap();
}

/// The URL of database `name` on the server of `KEHU_TEST_POSTGRES_URL`.
fn pg_database_url(name: &str) -> String {
    let admin = pg_url().expect("checked by caller");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

/// Runs `statement` (CREATE or DROP DATABASE) on that server.
async fn pg_server_exec(statement: &str) {
    let admin = Store::open(
        &DbUrl::parse(&pg_url().expect("checked by caller")).unwrap(),
        OpenOptions::default(),
    )
    .await
    .unwrap();
    if let Store::Postgres(pool) = &admin {
        kehu_store::admin_exec(pool, statement).await.unwrap();
    }
    admin.close().await;
}

/// A store with no migrations applied: a SQLite file in `dir`, or a fresh
/// PostgreSQL database (`kehu_conf_…`, dropped by the next run's sweep
/// if the test does not drop it), for tests that upgrade from an older
/// schema. Returns the database's name on PostgreSQL.
pub async fn unmigrated_store(b: Backend, dir: &std::path::Path) -> (Store, Option<String>) {
    let opts = OpenOptions {
        create: true,
        max_connections: 4,
    };
    match b {
        Backend::Sqlite => {
            let url = DbUrl::Sqlite(dir.join("upgrade.db"));
            (Store::open(&url, opts).await.unwrap(), None)
        }
        Backend::Postgres => {
            // This process's sweep of earlier runs' databases goes first.
            pg_database().await;
            let name = format!("kehu_conf_{}_{}", std::process::id(), nanos());
            pg_server_exec(&format!("CREATE DATABASE {name}")).await;
            let url = DbUrl::parse(&pg_database_url(&name)).unwrap();
            (Store::open(&url, opts).await.unwrap(), Some(name))
        }
    }
}

/// Drops a database [`unmigrated_store`] made (after its store is closed).
pub async fn drop_database(name: &str) {
    pg_server_exec(&format!("DROP DATABASE {name}")).await;
}

/// Applies this backend's migrations up to and including `version`, read
/// from the same files the binary embeds (so a later `Store::migrate`
/// accepts their checksums and applies the rest).
pub async fn migrate_to(store: &Store, version: i64) {
    let dir = migrations_dir(store.backend());
    let m = sqlx::migrate::Migrator::new(std::path::Path::new(&dir))
        .await
        .unwrap();
    match store {
        Store::Sqlite { write, .. } => m.run_to(version, write).await.unwrap(),
        Store::Postgres(pool) => m.run_to(version, pool).await.unwrap(),
    }
}

/// One test's world: a migrated store and a fresh tenant of its own.
pub struct Ctx {
    pub store: Store,
    pub tenant_id: String,
    pub slug: String,
    /// Scratch space (the SQLite file lives here; backups go here).
    pub dir: tempfile::TempDir,
}

impl Ctx {
    pub async fn new(backend: Backend) -> Ctx {
        let dir = tempfile::tempdir().unwrap();
        let url = match backend {
            Backend::Sqlite => DbUrl::Sqlite(dir.path().join("kehu.db")),
            Backend::Postgres => DbUrl::parse(&pg_database().await).unwrap(),
        };
        let store = Store::open(
            &url,
            OpenOptions {
                create: true,
                max_connections: 8,
            },
        )
        .await
        .expect("open store");
        store.migrate().await.expect("migrate");
        assert_eq!(store.backend(), backend);
        let mut ctx = Ctx {
            store,
            tenant_id: String::new(),
            slug: String::new(),
            dir,
        };
        let (id, slug) = ctx.new_tenant().await;
        ctx.tenant_id = id;
        ctx.slug = slug;
        ctx
    }

    pub async fn close(self) {
        self.store.close().await;
    }

    /// Creates another tenant; returns (tenant_id, slug).
    pub async fn new_tenant(&self) -> (String, String) {
        let t = tenant_row(&new_id(), &format!("t{}", unique()));
        let mut tx = self.store.begin().await.unwrap();
        org::insert_tenant(&mut tx, &t).await.unwrap();
        tx.commit().await.unwrap();
        (t.tenant_id, t.slug)
    }

    pub async fn role(&self, tenant_id: &str, scope: DataScope) -> String {
        let r = RoleRow {
            tenant_id: tenant_id.into(),
            id: new_id(),
            key: format!("role_{}", unique()),
            permissions: "customer.read".into(),
            data_scope: scope.as_str().into(),
            field_access: "{}".into(),
            version: 1,
            created_at: now_ms(),
            updated_at: now_ms(),
        };
        let mut tx = self.store.begin().await.unwrap();
        org::insert_role(&mut tx, &r).await.unwrap();
        tx.commit().await.unwrap();
        r.id
    }

    pub async fn department(
        &self,
        tenant_id: &str,
        parent: Option<&str>,
        name: &str,
    ) -> DepartmentRow {
        let mut tx = self.store.begin().await.unwrap();
        let d = org::insert_department(&mut tx, tenant_id, &new_id(), parent, name, now_ms())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        d
    }

    pub async fn user(
        &self,
        tenant_id: &str,
        login: &str,
        department: Option<&str>,
        manager: Option<&str>,
    ) -> String {
        let role_id = self.role(tenant_id, DataScope::Own).await;
        let u = user_row(tenant_id, login, &role_id, department, manager);
        let mut tx = self.store.begin().await.unwrap();
        org::insert_user(&mut tx, &u).await.unwrap();
        tx.commit().await.unwrap();
        u.id
    }

    /// Inserts a customer; returns (id, rid).
    pub async fn customer(
        &self,
        tenant_id: &str,
        name: &str,
        owner: Option<&str>,
        lookups: &[Lookup],
        terms: &str,
    ) -> (String, i64) {
        let row = customer_row(tenant_id, &format!("C-{}", unique()), name, owner, now_ms());
        let mut tx = self.store.begin().await.unwrap();
        let rid = cs::insert_customer(&mut tx, &row, lookups, terms)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        (row.id, rid)
    }

    /// Inserts customers named 张三 with the given codes and creation times,
    /// all with the same search terms, in one transaction.
    pub async fn customers_at(
        &self,
        tenant_id: &str,
        items: impl IntoIterator<Item = (String, i64)>,
        terms: &str,
    ) {
        let mut tx = self.store.begin().await.unwrap();
        for (code, at) in items {
            let row = customer_row(tenant_id, &code, "张三", None, at);
            cs::insert_customer(&mut tx, &row, &[], terms)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }

    /// Runs one statement in a transaction of its own, committed.
    pub async fn exec_committed(&self, q: kehu_store::Sql) {
        exec_committed(&self.store, q).await;
    }

    pub fn viewer(&self, user_id: &str, scope: DataScope, department: Option<&str>) -> Viewer {
        Viewer {
            tenant_id: self.tenant_id.clone(),
            user_id: user_id.into(),
            scope,
            department_id: department.map(str::to_string),
        }
    }

    /// The tenant's administrator view (scope All).
    pub fn all(&self, tenant_id: &str) -> Viewer {
        Viewer {
            tenant_id: tenant_id.into(),
            user_id: new_id(),
            scope: DataScope::All,
            department_id: None,
        }
    }
}

pub fn tenant_row(id: &str, slug: &str) -> TenantRow {
    TenantRow {
        tenant_id: id.into(),
        slug: slug.into(),
        name: "测试公司".into(),
        wrapped_keys: vec![7u8; 48],
        code_pattern: "KH-{yyyy}-{seq:5}".into(),
        code_reset: "yearly".into(),
        version: 1,
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_000_000,
    }
}

pub fn user_row(
    tenant_id: &str,
    login: &str,
    role_id: &str,
    department: Option<&str>,
    manager: Option<&str>,
) -> UserRow {
    UserRow {
        tenant_id: tenant_id.into(),
        id: new_id(),
        login: login.into(),
        display_name: format!("User {login}"),
        password_hash: "$argon2id$fake".into(),
        role_id: role_id.into(),
        department_id: department.map(str::to_string),
        manager_id: manager.map(str::to_string),
        locale: "zh-CN".into(),
        disabled: 0,
        version: 1,
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_000_000,
    }
}

pub fn customer_row(
    tenant_id: &str,
    code: &str,
    name: &str,
    owner: Option<&str>,
    at: i64,
) -> CustomerRow {
    CustomerRow {
        rid: 0,
        tenant_id: tenant_id.into(),
        id: new_id(),
        code: code.into(),
        kind: "person".into(),
        name: name.into(),
        owner_id: owner.map(str::to_string),
        province: Some("浙江省".into()),
        city: Some("杭州市".into()),
        district: None,
        industry: None,
        occupation: Some("engineer".into()),
        employer: None,
        source: Some("referral".into()),
        notes: None,
        uscc: None,
        custom_fields: "{}".into(),
        sealed: vec![1, 2, 3, 4],
        version: 1,
        created_by: owner.map(str::to_string),
        created_at: at,
        updated_at: at,
    }
}

pub fn lookup(kind: &'static str, seed: &str) -> Lookup {
    Lookup {
        kind,
        digest: fake_mac(seed.as_bytes()).to_vec(),
    }
}

/// A deterministic stand-in for the HMAC (no keys in the store's tests):
/// four FNV-1a lanes over the input, with the length mixed in.
pub fn fake_mac(data: &[u8]) -> [u8; 32] {
    let mut lanes: [u64; 4] = [
        0xcbf2_9ce4_8422_2325,
        0x8422_2325_cbf2_9ce4,
        0x9e37_79b9_7f4a_7c15,
        0x2545_f491_4f6c_dd1d,
    ];
    for (i, &b) in data.iter().enumerate() {
        for (j, lane) in lanes.iter_mut().enumerate() {
            *lane ^= u64::from(b) ^ ((i as u64) << (j * 8));
            *lane = lane.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let mut out = [0u8; 32];
    for (j, lane) in lanes.iter().enumerate() {
        let v = lane ^ (data.len() as u64).rotate_left(j as u32 * 13);
        out[j * 8..j * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    out
}

/// Every customer the viewer can list (all pages, created_at order).
pub async fn list_all(ctx: &Ctx, v: &Viewer, f: &cs::CustomerFilter) -> Vec<CustomerRow> {
    list_all_sorted(ctx, v, f, cs::SortKey::CreatedAt).await
}

/// Every customer the viewer may see that matches, page by page in `sort` order.
pub async fn list_all_sorted(
    ctx: &Ctx,
    v: &Viewer,
    f: &cs::CustomerFilter,
    sort: cs::SortKey,
) -> Vec<CustomerRow> {
    list_pages(ctx, v, f, sort, false, 200).await
}

/// Every customer the viewer may see that matches, following the cursor
/// through pages of `limit` in `sort` order (`desc`: descending).
pub async fn list_pages(
    ctx: &Ctx,
    v: &Viewer,
    f: &cs::CustomerFilter,
    sort: cs::SortKey,
    desc: bool,
    limit: i64,
) -> Vec<CustomerRow> {
    let mut out = Vec::new();
    let mut after: Option<cs::Cursor> = None;
    loop {
        let mut fr = ctx.store.fast_reader().await.unwrap();
        let page = cs::list_customers(&mut fr.read(), v, f, sort, desc, after.as_ref(), limit)
            .await
            .unwrap();
        assert!(page.len() as i64 <= limit);
        let done = (page.len() as i64) < limit;
        after = page.last().map(|c| cs::Cursor::after(&c.customer, sort));
        out.extend(page.into_iter().map(|l| l.customer));
        if done {
            return out;
        }
    }
}

/// The ids of every customer matching `search` for the viewer, sorted.
pub async fn search_ids(ctx: &Ctx, v: &Viewer, search: cs::SearchSpec) -> Vec<String> {
    let f = cs::CustomerFilter {
        search: Some(search),
        ..Default::default()
    };
    let mut ids: Vec<String> = list_all(ctx, v, &f)
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort();
    ids
}

pub fn terms(t: &[(&str, bool)]) -> cs::SearchSpec {
    cs::SearchSpec {
        terms: t.iter().map(|(s, p)| (s.to_string(), *p)).collect(),
        ..Default::default()
    }
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
