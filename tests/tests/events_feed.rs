//! The platform's pull feed through the API (`BillingEngine::events`) on SQLite and PostgreSQL:
//! paging with small pages while billing runs and changes add events returns every platform
//! event exactly once, in the order written; type and account filters hold; bad cursors, types
//! and page sizes are clear `INVALID_INPUT` errors.

use std::collections::HashSet;

use ai_billing::ErrorCode;
use ai_billing::api::{self, BillingEngine, EngineOptions, EventPage, EventsRequest};
use ai_billing::audit::platform::{EventType, PlatformEvent};
use ai_billing_tests::pg::TestDatabase;
use serde_json::json;

/// A request read as the API reads it.
macro_rules! request {
    ($value:expr) => {
        api::from_value("request", $value).unwrap()
    };
}

async fn open(database_url: &str) -> BillingEngine {
    let options: EngineOptions =
        api::from_value("options", json!({ "databaseUrl": database_url })).unwrap();
    BillingEngine::open(&options).await.unwrap()
}

/// Two accounts, each with a step-up plan and subscriptions from January 2026 (not billed yet).
async fn catalogue(engine: &BillingEngine) {
    for (account, subscriptions) in [("acct_a", 6), ("acct_b", 4)] {
        engine
            .save_account(&request!(
                json!({"account": {"id": account, "abstracted": true,
                "timezone": "America/New_York"}})
            ))
            .await
            .unwrap();
        engine
            .save_customer(&request!(
                json!({"customer": {"account_id": account, "id": "cus"}})
            ))
            .await
            .unwrap();
        engine
            .create_plan(&request!(
                json!({"account_id": account, "plan": {"id": "plan_step",
                "currency": "USD", "interval": "month", "type": "ai",
                "ai_prompt": "Bill $5 for the first month and increase by $1 per month"}})
            ))
            .await
            .unwrap();
        for n in 0..subscriptions {
            engine
                .create_subscription(&request!(json!({"account_id": account,
                    "id": format!("sub_{n}"), "customer_id": "cus", "plan_id": "plan_step",
                    "start_date": format!("2026-01-{:02}", n + 1)})))
                .await
                .unwrap();
        }
    }
}

async fn page(engine: &BillingEngine, request: serde_json::Value) -> EventPage {
    engine
        .events(&api::from_value::<EventsRequest>("request", request).unwrap())
        .await
        .unwrap()
}

/// Every platform event in the outbox, in the order written.
async fn expected(engine: &BillingEngine) -> Vec<PlatformEvent> {
    let store = engine.engine().unwrap().store().clone();
    store
        .pending_events(1_000_000)
        .await
        .unwrap()
        .iter()
        .filter_map(PlatformEvent::from_audit)
        .collect()
}

fn ids(events: &[PlatformEvent]) -> Vec<&str> {
    events.iter().map(|event| event.id.as_str()).collect()
}

async fn check_feed(engine: BillingEngine) {
    catalogue(&engine).await;
    engine
        .run_due(&request!(json!({ "now": "2026-03-15T12:00:00Z" })))
        .await
        .unwrap();

    // Read a few pages of 4, then bill more and change subscriptions, then read on.
    let mut read: Vec<PlatformEvent> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..3 {
        let got = page(&engine, json!({ "after": cursor, "limit": 4 })).await;
        assert_eq!(got.events.len(), 4);
        assert!(got.has_more);
        read.extend(got.events);
        cursor = Some(got.next);
    }
    engine
        .run_due(&request!(json!({ "now": "2026-06-15T12:00:00Z" })))
        .await
        .unwrap();
    engine
        .cancel_subscription(&request!(
            json!({"account_id": "acct_a", "subscription_id": "sub_0",
            "effective": "period_end"})
        ))
        .await
        .unwrap();
    engine
        .update_subscription(&request!(
            json!({"account_id": "acct_b", "subscription_id": "sub_1",
            "quantity": 3})
        ))
        .await
        .unwrap();
    let all = expected(&engine).await;
    // PostgreSQL shows a transaction's events once every older transaction on the server (other
    // tests' too) has ended: a caught-up reader waits for the rest, it never skips them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let got = page(&engine, json!({ "after": cursor, "limit": 4 })).await;
        assert!(got.events.len() <= 4);
        read.extend(got.events);
        cursor = Some(got.next);
        if !got.has_more {
            if read.len() >= all.len() || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    assert!(all.len() > 60, "{} events", all.len());
    assert_eq!(
        ids(&read),
        ids(&all),
        "every event once, in the order written"
    );
    let mut seen = HashSet::new();
    assert!(read.iter().all(|event| seen.insert(&event.id)));
    let types: HashSet<EventType> = read.iter().map(|event| event.event_type).collect();
    for ty in [
        EventType::SubscriptionCreated,
        EventType::InvoiceIssued,
        EventType::SubscriptionCancelScheduled,
        EventType::SubscriptionQuantityChanged,
    ] {
        assert!(types.contains(&ty), "{ty} in the feed");
    }
    // Caught up: the last cursor reads nothing more.
    let after = page(&engine, json!({ "after": cursor })).await;
    assert_eq!((after.events.len(), after.has_more), (0, false));
    assert_eq!(Some(after.next), cursor, "a caught-up cursor stays put");

    // Filters: one account's invoices and cancellations, by pages of 3.
    let wanted = ["invoice.issued", "subscription.cancel_scheduled"];
    let mut filtered = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let got = page(
            &engine,
            json!({ "after": cursor, "limit": 3, "types": wanted, "account_id": "acct_a" }),
        )
        .await;
        filtered.extend(got.events);
        cursor = Some(got.next);
        if !got.has_more {
            break;
        }
    }
    let expected_filtered: Vec<PlatformEvent> = all
        .iter()
        .filter(|event| event.account_id == "acct_a" && wanted.contains(&event.event_type.as_str()))
        .cloned()
        .collect();
    assert!(expected_filtered.len() > 10);
    assert_eq!(ids(&filtered), ids(&expected_filtered));
    for event in &filtered {
        assert_eq!(event.api_version, "2026-12-01");
        assert!(event.data.get("object").is_some() && event.data.get("id").is_some());
    }

    // Bad requests are INVALID_INPUT naming what is wrong.
    for (request, field) in [
        (json!({ "limit": 0 }), "limit"),
        (json!({ "limit": 501 }), "limit"),
        (json!({ "after": "not-a-cursor" }), "after"),
        (json!({ "after": "MToxOjI6Mw" }), "after"),
    ] {
        let error = engine
            .events(&api::from_value::<EventsRequest>("request", request.clone()).unwrap())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput, "{request}: {error}");
        assert!(error.to_string().contains(field), "{request}: {error}");
    }
    let error = api::from_value::<EventsRequest>("request", json!({ "types": ["invoice.paid"] }))
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidInput);
    assert!(error.to_string().contains("invoice.issued"), "{error}");
    engine.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_feed_pages_every_event_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("feed.db").display());
    check_feed(open(&url).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_feed_pages_every_event_once_on_postgres() {
    let database = TestDatabase::create().await;
    check_feed(open(database.url()).await).await;
    database.drop_now().await;
}
