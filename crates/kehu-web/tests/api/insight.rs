//! Insight end to end: orders in, a classification run, explanations in
//! both languages, scope on every list, change history on the timeline, an
//! order re-classifying its customer through the job queue, settings with a
//! minimum stay, the schedule's idempotence and the queue's leases.

use kehu_app::Clock;
use kehu_app::insight::{JOB_CUSTOMER, JOB_TENANT};
use kehu_store::jobs::{self, NewJob, OnDuplicate};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both;
use crate::customers::urlencode;
use crate::support::{Backend, Client, Server};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// The date `days_ago` days before the server's today (Beijing time).
fn day(s: &Server, days_ago: i64) -> String {
    let d = kehu_app::today(s.clock.now_ms()) - time::Duration::days(days_ago);
    kehu_domain::validate::format_date(d)
}

async fn order(c: &mut Client, customer: &str, date: &str, fen: i64, category: &str) {
    let r = c
        .post(
            &format!("/api/v1/customers/{customer}/orders"),
            json!({"ordered_on": date, "lines": [{"product": "商品", "category": category, "quantity": 1, "amount_fen": fen}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i.get("customer_id")
                .or(i.get("id"))
                .and_then(Value::as_str)
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn insight(c: &Client, id: &str) -> Value {
    let r = c.get(&format!("/api/v1/customers/{id}/insight")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn classification_end_to_end(b: Backend) {
    let s = Server::start(b).await;
    let dept = s.department("华东销售部", None).await;
    s.user("li.na", "sales", Some(&dept), None).await;
    s.user("wang.qiang", "sales", Some(&dept), None).await;
    let mut li = s.login("li.na").await;
    let mut wang = s.login("wang.qiang").await;
    let mut admin = s.login("admin").await;

    // li's big customer in Zhejiang: ¥10,000 a month for a year, two categories.
    let big = li
        .customer(json!({"kind": "company", "name": "杭州大客户有限公司", "province": "浙江省"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for m in 0..12 {
        let cat = if m % 2 == 0 { "家电" } else { "配件" };
        order(&mut li, &big, &day(&s, 5 + m * 30), 1_000_000, cat).await;
    }
    // li's lapsed customer: one purchase 400 days ago.
    let lapsed = li
        .customer(json!({"kind": "person", "name": "赵沉睡", "province": "江苏省"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    order(&mut li, &lapsed, &day(&s, 400), 50_000, "家电").await;
    // wang's customers, buying at different rhythms (so the model has repeat buyers to fit).
    let mut wangs = Vec::new();
    for i in 0..8i64 {
        let id = wang
            .customer(json!({"kind": "person", "name": format!("王客户{i}"), "province": "上海市"}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        for k in 0..(2 + i % 4) {
            order(
                &mut wang,
                &id,
                &day(&s, 3 + k * (10 + i * 7)),
                20_000 + i * 1_000,
                "食品",
            )
            .await;
        }
        wangs.push(id);
    }
    let prospect = wang
        .customer(json!({"kind": "person", "name": "钱潜在"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Every order queued its customer's update (one job per customer); with
    // no full run yet there is no model to update against, so they finish
    // without writing anything.
    {
        let mut r = s.app.store.reader().await.unwrap();
        assert_eq!(
            jobs::pending(&mut r.conn(), &s.tenant_id, JOB_CUSTOMER)
                .await
                .unwrap(),
            10
        );
    }
    assert_eq!(s.app.drain_jobs("test", &s.tenant_id).await.unwrap(), 10);

    // Before any run: an empty insight.
    let before = insight(&li, &big).await;
    assert!(before["computed_at"].is_null() && before["tier"].is_null());

    let rule = admin
        .post(
            "/api/v1/insight/rules",
            json!({"name": "浙江大客户", "tag": "浙江大客户", "rule": "province = \"浙江省\" and spend_365d >= 50000"}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.text);

    let run = s
        .app
        .run_classification(&s.tenant_id, "test")
        .await
        .unwrap();
    assert_eq!(run.customers, 11);
    assert_eq!(run.tier_changes, 11, "a first run assigns everyone");
    assert_eq!(run.tag_changes, 1);

    // The big customer: tier A with the numbers that decided it, in both languages.
    let i = insight(&li, &big).await;
    assert_eq!(i["tier"]["value"], "A", "{i}");
    let why = i["tier"]["explanation"].as_str().unwrap();
    assert!(why.contains("¥120,000") && why.contains("¥80,000"), "{why}");
    assert_eq!(i["frequency"]["value"], "high");
    assert_eq!(i["product_range"]["value"], "diversified");
    assert_eq!(i["facts"]["orders_365d"], 12);
    assert_eq!(i["facts"]["contribution_12m_fen"], 12_000_000);
    // Cost to serve with the default costs: 24 account-manager hours a year for A at ¥100.
    assert_eq!(i["cost_benefit"]["cost_to_serve_fen"], 240_000, "{i}");
    assert_eq!(i["cost_benefit"]["net_fen"], 12_000_000 - 240_000);
    assert_eq!(i["tags"][0]["tag"], "浙江大客户");
    assert!(
        i["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["kind"] == "tier_changed" && h["to"] == "A"),
        "{i}"
    );
    li.lang = "en";
    let en = insight(&li, &big).await;
    let why_en = en["tier"]["explanation"].as_str().unwrap();
    assert!(
        why_en.contains("12-month contribution ¥120,000"),
        "{why_en}"
    );
    li.lang = "zh-CN";
    // The change is on the customer's timeline.
    let tl = li.get(&format!("/api/v1/customers/{big}/timeline")).await;
    let kinds: Vec<&str> = tl.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"tier_changed") && kinds.contains(&"tag_added"),
        "{kinds:?}"
    );

    // The lapsed customer is churned, with an overdue signal; the prospect is a prospect.
    let l = insight(&li, &lapsed).await;
    assert_eq!(l["stage"]["value"], "churned", "{l}");
    assert!(
        l["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == "overdue")
    );
    assert_eq!(
        insight(&wang, &prospect).await["stage"]["value"],
        "prospect"
    );

    // Scope everywhere: lists, filters, insight by id, previews.
    let li_risk = li.get("/api/v1/insight/at-risk").await;
    assert!(ids(&li_risk.body).contains(&lapsed), "{}", li_risk.text);
    assert!(
        ids(&li_risk.body)
            .iter()
            .all(|id| *id == big || *id == lapsed)
    );
    let wang_risk = wang.get("/api/v1/insight/at-risk").await;
    assert!(!ids(&wang_risk.body).contains(&lapsed));
    assert_eq!(
        wang.get(&format!("/api/v1/customers/{big}/insight"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A scoped list (the union of owned and shared customers) carries the
    // badges too, and every row of an admin's page has them after a run.
    let li_a = li.get("/api/v1/customers?tier=A").await;
    assert_eq!(ids(&li_a.body), vec![big.clone()]);
    assert_eq!(li_a.body["items"][0]["tier"], "A", "{}", li_a.text);
    assert!(li_a.body["items"][0]["stage"].is_string(), "{}", li_a.text);
    let page = admin.get("/api/v1/customers?limit=200").await;
    let items = page.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|c| c["tier"].is_string() && c["stage"].is_string()),
        "{}",
        page.text
    );
    assert!(ids(&wang.get("/api/v1/customers?tier=A").await.body).is_empty());
    let tagged = admin
        .get(&format!(
            "/api/v1/customers?tag={}",
            urlencode("浙江大客户")
        ))
        .await;
    assert_eq!(ids(&tagged.body), vec![big.clone()]);
    assert_eq!(tagged.body["items"][0]["tier"], "A");
    let p = json!({"rule": "tier = \"A\" or stage = \"churned\""});
    let mine = li.post("/api/v1/insight/rules/preview", p.clone()).await;
    assert_eq!(
        (mine.body["matches"].as_i64(), mine.body["total"].as_i64()),
        (Some(2), Some(2)),
        "{}",
        mine.text
    );
    let theirs = wang.post("/api/v1/insight/rules/preview", p).await;
    assert_eq!(
        (
            theirs.body["matches"].as_i64(),
            theirs.body["total"].as_i64()
        ),
        (Some(0), Some(9))
    );
    let bad = li
        .post(
            "/api/v1/insight/rules/preview",
            json!({"rule": "orders_90d >= "}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.codes(),
        vec![("rule".to_string(), "rule.syntax".to_string())]
    );
    let cb = li.get("/api/v1/insight/cost-benefit").await;
    assert_eq!(cb.body["total"]["customers"], 2, "{}", cb.text);
    assert_eq!(cb.body["tiers"][0]["contribution_fen"], 12_000_000);

    // An order brings the lapsed customer back, through the job queue.
    order(&mut li, &lapsed, &day(&s, 0), 80_000, "家电").await;
    {
        let mut r = s.app.store.reader().await.unwrap();
        assert_eq!(
            jobs::pending(&mut r.conn(), &s.tenant_id, JOB_CUSTOMER)
                .await
                .unwrap(),
            1
        );
    }
    assert_eq!(s.app.drain_jobs("test", &s.tenant_id).await.unwrap(), 1);
    let back = insight(&li, &lapsed).await;
    assert_eq!(back["stage"]["value"], "won_back", "{back}");
    let h = &back["history"][0];
    assert_eq!(
        (h["kind"].as_str(), h["from"].as_str(), h["to"].as_str()),
        (Some("stage_changed"), Some("churned"), Some("won_back")),
        "{back}"
    );

    // Settings: raise the A threshold; the minimum stay keeps A for 30 days.
    let settings = admin.get("/api/v1/insight/settings").await;
    let mut body = settings.body.clone();
    body.as_object_mut().unwrap().remove("version");
    body["tier"]["a_min_fen"] = json!(20_000_000);
    let put = admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/insight/settings",
            Some(body.to_string().into_bytes()),
            &[("if-match", "\"0\"")],
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.etag(), "\"1\"");
    s.app
        .run_classification(&s.tenant_id, "test")
        .await
        .unwrap();
    let held = insight(&li, &big).await;
    assert_eq!(held["tier"]["value"], "A");
    assert!(
        held["tier"]["explanation"].as_str().unwrap().contains("30"),
        "{held}"
    );
    s.clock.advance_ms(31 * DAY_MS);
    // A month later: sessions have expired too.
    let li = s.login("li.na").await;
    s.app
        .run_classification(&s.tenant_id, "test")
        .await
        .unwrap();
    assert_eq!(insight(&li, &big).await["tier"]["value"], "B");
    // Every classification and tag row written by full runs and by the
    // per-order updates carries its customer's creation time (the class
    // indexes list members in that order).
    {
        let mut r = s.app.store.reader().await.unwrap();
        for table in ["customer_insight", "customer_tags"] {
            let count = |cond: &str| {
                kehu_store::Sql::with(
                    &format!(
                        "SELECT COUNT(*) FROM {table} x JOIN customers c ON c.tenant_id = x.tenant_id AND c.id = x.customer_id WHERE x.tenant_id = $1 AND {cond}"
                    ),
                    vec![kehu_store::Arg::Text(Some(s.tenant_id.clone()))],
                )
            };
            let same = r
                .conn()
                .int(count("x.created_at = c.created_at"))
                .await
                .unwrap();
            let differ = r
                .conn()
                .int(count("x.created_at <> c.created_at"))
                .await
                .unwrap();
            assert_eq!(differ, Some(0), "{table}");
            if table == "customer_insight" {
                assert!(same.unwrap_or(0) > 0, "{table}");
            }
        }
    }

    // The schedule enqueues one run per slot, however often it is asked: the
    // server asks every minute, at whatever millisecond. Start an hour after
    // a slot, so the next one is far off.
    let cron = kehu_app::insight::parse_cron(kehu_app::insight::DEFAULT_CRON).unwrap();
    let now = s.clock.now_ms();
    let slot = kehu_app::insight::previous_slot(&cron, now).unwrap();
    assert_eq!(slot % 1000, 0, "a slot is a whole second");
    s.clock.advance_ms(slot + DAY_MS + 3_600_000 + 123 - now);
    // Other tests' tenants may share the database: count this tenant's jobs.
    let pending = || async {
        let mut r = s.app.store.reader().await.unwrap();
        jobs::pending(&mut r.conn(), &s.tenant_id, JOB_TENANT)
            .await
            .unwrap()
    };
    s.app.enqueue_scheduled().await.unwrap();
    assert_eq!(pending().await, 1);
    s.clock.advance_ms(60_000 + 456);
    s.app.enqueue_scheduled().await.unwrap();
    assert_eq!(pending().await, 1, "the same slot, a minute later");
    s.app.drain_jobs("test", &s.tenant_id).await.unwrap();
    let admin = s.login("admin").await; // a day has passed
    let runs = admin.get("/api/v1/insight/runs").await;
    assert_eq!(runs.body["items"][0]["cause"], "schedule", "{}", runs.text);
    assert_eq!(runs.body["items"][0]["status"], "done");
    // A slot that has run is not run again a minute later.
    s.clock.advance_ms(60_000 + 789);
    s.app.enqueue_scheduled().await.unwrap();
    assert_eq!(pending().await, 0);
    let _ = wangs;
}
both!(classification_end_to_end);

async fn the_queue_leases_and_requeues(b: Backend) {
    let s = Server::start(b).await;
    let now = s.app.clock.now_ms();
    let t = s.tenant_id.as_str();
    let job = |id: &'static str| NewJob {
        tenant_id: t,
        id,
        kind: "test.kind",
        dedupe_key: "same",
        payload: "{}",
        run_after: now,
        now,
    };
    let mut tx = s.app.store.begin().await.unwrap();
    assert!(
        jobs::enqueue(&mut tx, &job("j1"), OnDuplicate::Keep)
            .await
            .unwrap()
    );
    // The same key again is a no-op.
    assert!(
        !jobs::enqueue(&mut tx, &job("j2"), OnDuplicate::Keep)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();

    let mut tx = s.app.store.begin().await.unwrap();
    let got = jobs::claim(&mut tx, "w1", now, now + 1000, Some(t))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, "j1");
    // Nothing else is due while w1 holds the lease.
    assert!(
        jobs::claim(&mut tx, "w2", now, now + 1000, Some(t))
            .await
            .unwrap()
            .is_none()
    );
    // Requeued while running (an order arrived): w1's completion misses it…
    assert!(
        jobs::enqueue(&mut tx, &job("j3"), OnDuplicate::Requeue)
            .await
            .unwrap()
    );
    assert!(!jobs::complete(&mut tx, &got, "w1", now).await.unwrap());
    // …and it runs again.
    let again = jobs::claim(&mut tx, "w2", now, now + 1000, Some(t))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id.as_str(), again.attempts), ("j1", 1));
    // A worker that died: its lease expires and another takes the job over.
    assert!(
        jobs::claim(&mut tx, "w3", now + 500, now + 2000, Some(t))
            .await
            .unwrap()
            .is_none()
    );
    let taken = jobs::claim(&mut tx, "w3", now + 1001, now + 3000, Some(t))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.attempts, 2);
    // A worker that is alive renews its lease (a heartbeat), so the job is
    // not taken over when the first lease would have run out; a worker that
    // lost the job cannot renew it.
    assert!(
        jobs::renew(&mut tx, &taken, "w3", now + 10_000)
            .await
            .unwrap()
    );
    assert!(
        !jobs::renew(&mut tx, &again, "w2", now + 10_000)
            .await
            .unwrap()
    );
    assert!(
        jobs::claim(&mut tx, "w4", now + 5000, now + 6000, Some(t))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !jobs::complete(&mut tx, &again, "w2", now + 1002)
            .await
            .unwrap()
    );
    assert!(
        jobs::complete(&mut tx, &taken, "w3", now + 1002)
            .await
            .unwrap()
    );
    assert!(
        jobs::claim(&mut tx, "w4", now + 5000, now + 6000, Some(t))
            .await
            .unwrap()
            .is_none()
    );
    tx.commit().await.unwrap();
}
both!(the_queue_leases_and_requeues);

/// A run whose process died is closed as interrupted when the next run
/// starts; one still recording that it is alive is left running, however
/// long ago it started.
async fn a_dead_run_is_closed_a_live_one_kept(b: Backend) {
    use kehu_store::insight::{self as st, RunRow};
    let s = Server::start(b).await;
    let t = s.tenant_id.clone();
    let now = s.app.clock.now_ms();
    let long_ago = now - 60 * 60 * 1000;
    // "dead" never beat; "quiet" last beat 5 minutes ago; "alive" 10 s ago.
    // Each is the tenant's one running run in turn.
    for (id, beat) in [
        ("dead", None),
        ("quiet", Some(now - 5 * 60 * 1000)),
        ("alive", Some(now - 10_000)),
    ] {
        let mut tx = s.app.store.begin().await.unwrap();
        st::start_run(
            &mut tx,
            &RunRow::running(&t, id, "schedule", long_ago, "2026-01-01"),
        )
        .await
        .unwrap();
        if let Some(at) = beat {
            st::touch_run(&mut tx, &t, id, at).await.unwrap();
        }
        tx.commit().await.unwrap();
        let result = s.app.run_classification(&t, "manual").await;
        if id == "alive" {
            // One run of a tenant at a time: a live one refuses another,
            // with a translated reason.
            match result {
                Err(kehu_app::AppError::Conflict(e)) => {
                    assert_eq!(e.code, "insight.run_running");
                    use kehu_domain::i18n::{Locale, message};
                    assert!(message(Locale::ZhCn, e.code, &[]).contains("正在运行"));
                    assert!(message(Locale::En, e.code, &[]).contains("already in progress"));
                }
                other => panic!("expected a conflict, got {other:?}"),
            }
        } else {
            result.unwrap();
        }
    }
    let mut r = s.app.store.reader().await.unwrap();
    let runs = st::runs(&mut r.conn(), &t, 10).await.unwrap();
    let status = |id: &str| {
        let run = runs.iter().find(|x| x.id == id).unwrap();
        (run.status.clone(), run.error.clone())
    };
    assert_eq!(status("alive"), ("running".to_string(), None));
    for id in ["dead", "quiet"] {
        assert_eq!(
            status(id),
            ("failed".to_string(), Some("interrupted".to_string())),
            "{id}"
        );
    }
    assert_eq!(runs.iter().filter(|x| x.status == "done").count(), 2);
    // Asking for a run meanwhile says why, in the caller's language.
    drop(r);
    let mut admin = s.login("admin").await;
    let busy = admin.post("/api/v1/insight/runs", json!({})).await;
    assert_eq!(busy.status, StatusCode::CONFLICT, "{}", busy.text);
    assert_eq!(
        busy.codes(),
        vec![(String::new(), "insight.run_running".to_string())]
    );
    assert!(
        busy.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("正在运行"),
        "{}",
        busy.text
    );
    // A second running row is refused by the database itself.
    let mut tx = s.app.store.begin().await.unwrap();
    let err = st::start_run(
        &mut tx,
        &RunRow::running(&t, "twin", "schedule", now, "2026-01-01"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, kehu_store::StoreError::Unique("run_running")),
        "{err:?}"
    );
}
both!(a_dead_run_is_closed_a_live_one_kept);

/// Two app processes on one database (each with its own store, pools and
/// worker, as two `kehu serve` would run) drain one queue: every job runs
/// exactly once, whichever process claims it.
async fn two_processes_share_the_queue(b: Backend) {
    let s = Server::start(b).await;
    let other = s.second_app().await;
    let admin = s.system();
    let runs = 4;
    for _ in 0..runs {
        s.app.queue_run(&admin).await.unwrap();
    }
    let updates = 12;
    let now = s.clock.now_ms();
    let mut tx = s.app.store.begin().await.unwrap();
    for i in 0..updates {
        kehu_app::insight::enqueue_customer_update(&mut tx, &s.tenant_id, &format!("c{i}"), now)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let (a, b2) = tokio::join!(
        s.app.drain_jobs("process-1", &s.tenant_id),
        other.drain_jobs("process-2", &s.tenant_id)
    );
    let (a, b2) = (a.unwrap(), b2.unwrap());
    assert_eq!(
        a + b2,
        runs + updates,
        "process 1 ran {a}, process 2 ran {b2}"
    );
    // Each successful claim ran one job: 16 claims, no update left and each
    // queued run done once means each job ran exactly once. (Job rows are
    // not inspected further: other tests share the PostgreSQL database, and
    // the schedule's enqueue and its purge of old finished jobs, with their
    // clocks a month on, span tenants.)
    let mut r = s.app.store.reader().await.unwrap();
    assert_eq!(
        jobs::pending(&mut r.conn(), &s.tenant_id, JOB_CUSTOMER)
            .await
            .unwrap(),
        0
    );
    // One run of a tenant at a time: a queued run that finds another
    // running is skipped (its job done), so at least one and at most every
    // queued run ran, and each that ran finished.
    let manual = kehu_store::insight::runs(&mut r.conn(), &s.tenant_id, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|run| run.cause == "manual")
        .collect::<Vec<_>>();
    assert!((1..=runs).contains(&manual.len()), "{manual:?}");
    assert!(manual.iter().all(|run| run.status == "done"), "{manual:?}");
}
both!(two_processes_share_the_queue);

/// A process that stops during a run leaves its run "running"; the next
/// run closes it once it is older than the job lease (no live run can be),
/// and leaves a younger one alone.
async fn an_interrupted_run_is_closed(b: Backend) {
    let s = Server::start(b).await;
    let t = s.tenant_id.clone();
    let orphan = |id: &str| {
        kehu_store::insight::RunRow::running(&t, id, "schedule", s.clock.now_ms(), &day(&s, 0))
    };
    let insert = |row: kehu_store::insight::RunRow| {
        let app = s.app.clone();
        async move {
            let mut tx = app.store.begin().await.unwrap();
            kehu_store::insight::start_run(&mut tx, &row).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    insert(orphan("run-died")).await;
    s.clock.advance_ms(31 * 60 * 1000);
    s.app.run_classification(&t, "manual").await.unwrap();
    let admin = s.login("admin").await;
    let runs = admin.get("/api/v1/insight/runs").await;
    let by_id = |id: &str| {
        runs.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not listed: {}", runs.text))
    };
    let died = by_id("run-died");
    assert_eq!(died["status"], "failed", "{died}");
    assert!(
        died["error"].as_str().unwrap().contains("interrupted"),
        "{died}"
    );
    assert!(died["finished_at"].is_string(), "{died}");
    assert_eq!(runs.body["items"][0]["status"], "done", "{}", runs.text);
}
both!(an_interrupted_run_is_closed);

/// A full run diffs each customer against what is stored when it writes
/// that customer: a tag added or removed by another write since the last
/// run is corrected, a kept tag keeps its `since`, and a deleted customer's
/// classification went with it.
async fn a_run_diffs_against_what_is_stored(b: Backend) {
    use kehu_store::insight as ins;
    let s = Server::start(b).await;
    let mut admin = s.login("admin").await;
    let mut ids = Vec::new();
    for name in ["杭州甲", "杭州乙", "杭州丙"] {
        let id = admin
            .customer(json!({"kind": "person", "name": name, "province": "浙江省"}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        order(&mut admin, &id, &day(&s, 10), 10_000, "食品").await;
        ids.push(id);
    }
    let rule = admin
        .post(
            "/api/v1/insight/rules",
            json!({"name": "浙江", "tag": "浙江", "rule": "province = \"浙江省\""}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.text);
    let first = s
        .app
        .run_classification(&s.tenant_id, "test")
        .await
        .unwrap();
    assert_eq!(first.tag_changes, 3);
    let tags = |id: String| {
        let s = &s;
        async move {
            let mut r = s.app.store.reader().await.unwrap();
            ins::tags(&mut r.conn(), &s.tenant_id, Some(&id))
                .await
                .unwrap()
        }
    };
    let since = tags(ids[0].clone()).await[0].since;

    // Other writes since: 甲 got a stray tag, 乙 lost its tag, 丙 was deleted.
    let mut tx = s.app.store.begin().await.unwrap();
    ins::insert_tags(
        &mut tx,
        &s.tenant_id,
        vec![ins::TagRow {
            customer_id: ids[0].clone(),
            tag: "手工".into(),
            rule_id: None,
            since: 1,
            created_at: 1,
        }],
    )
    .await
    .unwrap();
    ins::retag(
        &mut tx,
        &s.tenant_id,
        &[(ids[1].clone(), "浙江".into())],
        vec![],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let gone = admin.get(&format!("/api/v1/customers/{}", ids[2])).await;
    let version = gone.body["version"].as_i64().unwrap();
    let del = admin
        .delete(
            &format!("/api/v1/customers/{}", ids[2]),
            Some(&format!("\"{version}\"")),
        )
        .await;
    assert!(del.status.is_success(), "{}", del.text);
    assert!(
        tags(ids[2].clone()).await.is_empty(),
        "deleted with its customer"
    );

    s.clock.advance_ms(DAY_MS);
    let second = s
        .app
        .run_classification(&s.tenant_id, "test")
        .await
        .unwrap();
    assert_eq!(second.customers, 2);
    assert_eq!(second.tier_changes, 0);
    assert_eq!(second.tag_changes, 2, "甲 loses 手工, 乙 regains 浙江");
    let a = tags(ids[0].clone()).await;
    assert_eq!(a.len(), 1);
    assert_eq!((a[0].tag.as_str(), a[0].since), ("浙江", since));
    let b_tags = tags(ids[1].clone()).await;
    assert_eq!(b_tags.len(), 1);
    assert_eq!(b_tags[0].since, s.clock.now_ms(), "regained today");
    let mut r = s.app.store.reader().await.unwrap();
    assert!(
        ins::insight(&mut r.conn(), &s.tenant_id, &ids[2])
            .await
            .unwrap()
            .is_none()
    );
}
both!(a_run_diffs_against_what_is_stored);

/// A run's chunks write on the calling thread on SQLite, handed over with
/// `block_in_place` on a multi-threaded runtime as in `kehu serve`, each
/// in a group of its own: request writes keep being answered between the
/// run's chunks, nothing deadlocks, and the run classifies every customer
/// it loaded, orders read from the log a bulk load filled.
async fn a_run_writes_beside_requests(b: Backend) {
    let s = Server::start(b).await;
    let owners = s.app.bench_owners(&s.tenant_id).await.unwrap();
    let today = kehu_app::today(s.clock.now_ms());
    let seeded = s
        .app
        .seed_customers(
            &s.tenant_id,
            owners,
            kehu_app::seed::SeedOptions {
                customers: 2_500,
                seed: 7,
                start: today - time::Duration::days(700),
                end: today,
                batch: 500,
            },
        )
        .await
        .unwrap();
    assert!(seeded.orders > 2_500, "{seeded:?}");
    let mut admin = s.login("admin").await;
    let (app, t) = (s.app.clone(), s.tenant_id.clone());
    let run = tokio::spawn(async move { app.run_classification(&t, "test").await });
    let insight_rows = || async {
        let mut r = s.app.store.reader().await.unwrap();
        r.conn()
            .int(kehu_store::sql!(
                "SELECT COUNT(*) FROM customer_insight WHERE tenant_id = $1",
                &s.tenant_id
            ))
            .await
            .unwrap()
            .unwrap_or(0) as u64
    };
    let (mut written, mut mid_run) = (0, false);
    let writing = async {
        while written == 0 || !run.is_finished() {
            let r = admin
                .post(
                    "/api/v1/customers",
                    json!({"kind": "person", "name": format!("并行客户{written}")}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            written += 1;
            // Answered while some chunks were written and others not yet.
            let n = insight_rows().await;
            mid_run |= n > 0 && n < seeded.customers;
        }
    };
    // A deadlock between the run's chunks and the requests fails here
    // rather than hanging the suite.
    tokio::time::timeout(std::time::Duration::from_secs(120), writing)
        .await
        .expect("requests and the run both finish");
    assert!(mid_run, "a request was answered between the run's chunks");
    let summary = run.await.unwrap().unwrap();
    // The run may have loaded a few of the customers written beside it.
    assert!(
        (seeded.customers..=seeded.customers + written).contains(&(summary.customers as u64)),
        "{summary:?}, {written} written"
    );
    assert_eq!(summary.orders as u64, seeded.orders);
    assert_eq!(summary.tier_changes, summary.customers, "a first run");
    assert_eq!(insight_rows().await, summary.customers as u64);
}
mod a_run_writes_beside_requests {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_run_writes_beside_requests(crate::support::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if crate::support::pg_url().is_none() {
            eprintln!("SKIPPED (PostgreSQL leg): set KEHU_TEST_POSTGRES_URL to run it");
            return;
        }
        super::a_run_writes_beside_requests(crate::support::Backend::Postgres).await;
    }
}
