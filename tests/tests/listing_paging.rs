//! Paging through an account's invoices while a billing run adds more (issue 20), through the
//! API (`BillingEngine::list_invoices`) on a SQLite file and on PostgreSQL: over 10,000 invoices
//! read in pages of 100 come back each exactly once, in `(created_at, id)` order, every invoice
//! that existed when paging began among them, while the run writes about 1,600 more.

use std::collections::BTreeSet;
use std::sync::Arc;

use ai_billing::IssuedInvoice;
use ai_billing::api::{BillingEngine, RunDueRequest, from_value};
use ai_billing_tests::pg::TestDatabase;
use chrono::{Days, Utc};
use serde_json::json;

const ACCOUNT: &str = "acct_pages";
/// Subscriptions billed before paging begins: five monthly periods each.
const BILLED: usize = 2_000;
/// Subscriptions whose first invoice exists when paging begins, and whose four later periods
/// the run bills while the pages are read.
const RUNNING: usize = 400;

async fn open(url: &str) -> BillingEngine {
    BillingEngine::open(&from_value("options", json!({ "databaseUrl": url })).unwrap())
        .await
        .unwrap()
}

async fn create(engine: &BillingEngine, id: String, start: chrono::NaiveDate) {
    engine
        .create_subscription(
            &from_value(
                "request",
                json!({"account_id": ACCOUNT, "id": id, "customer_id": "cus",
                    "plan_id": "plan_10", "start_date": start}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
}

async fn page(
    engine: &BillingEngine,
    cursor: Option<String>,
) -> (Vec<IssuedInvoice>, Option<String>) {
    let mut request = json!({"account_id": ACCOUNT, "limit": 100});
    if let Some(cursor) = cursor {
        request["cursor"] = cursor.into();
    }
    let page = engine
        .list_invoices(&from_value("request", request).unwrap())
        .await
        .unwrap();
    (page.data, page.next_cursor)
}

async fn pages_while_a_run_bills(url: &str) {
    let engine = Arc::new(open(url).await);
    engine
        .save_account(
            &from_value(
                "request",
                json!({"account": {"id": ACCOUNT, "abstracted": true, "timezone": "UTC"}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    engine
        .save_customer(
            &from_value(
                "request",
                json!({"customer": {"account_id": ACCOUNT, "id": "cus"}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    engine
        .create_plan(
            &from_value(
                "request",
                json!({"account_id": ACCOUNT, "plan": {"id": "plan_10",
            "type": "standard", "currency": "USD", "interval": "month", "amount": 1000}}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    // Started 130 days ago: the periods from 0 to 4 months after the start are due by now.
    let start = Utc::now().date_naive() - Days::new(130);
    for i in 0..BILLED {
        create(&engine, format!("sub_{i:05}"), start).await;
    }
    let first = engine.run_due(&RunDueRequest::default()).await.unwrap();
    assert_eq!(first.run.failed, 0);
    for i in 0..RUNNING {
        create(&engine, format!("run_{i:05}"), start).await;
    }

    // What exists now, read whole before paging begins.
    let mut before = BTreeSet::new();
    let mut cursor = None;
    loop {
        let (data, next) = page(&engine, cursor).await;
        before.extend(data.into_iter().map(|i| i.id));
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert!(
        before.len() >= 10_000 + RUNNING,
        "{} invoices",
        before.len()
    );

    // A run bills the RUNNING subscriptions' later periods while the pages are read.
    let running = {
        let engine = Arc::clone(&engine);
        tokio::spawn(async move { engine.run_due(&RunDueRequest::default()).await })
    };
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut cursor = None;
    loop {
        let (data, next) = page(&engine, cursor).await;
        pages += 1;
        assert!(data.len() <= 100);
        seen.extend(data.into_iter().map(|i| (i.created_at, i.id)));
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        tokio::task::yield_now().await;
    }
    let report = running.await.unwrap().unwrap();
    assert_eq!(report.run.failed, 0);
    assert!(report.run.issued >= 3 * RUNNING as u64, "{:?}", report.run);

    assert!(
        seen.windows(2).all(|pair| pair[0] < pair[1]),
        "pages in (created_at, id) order, no invoice twice"
    );
    let ids: BTreeSet<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), seen.len(), "no invoice twice");
    let missing: Vec<&String> = before.iter().filter(|id| !ids.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} invoices missed, {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(pages >= before.len() / 100, "{pages} pages");
    engine.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_sqlite_while_a_run_bills() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pages.db").display());
    pages_while_a_run_bills(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_postgres_while_a_run_bills() {
    let database = TestDatabase::create().await;
    pages_while_a_run_bills(database.url()).await;
    database.drop_now().await;
}
