//! The audit trail in OpenSearch, with nothing lost: the OpenSearch sink and `ship_outbox`
//! against a local osmem-server (one per test, see `ai_billing_tests::opensearch`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use ai_billing::audit::{AuditAction, AuditEvent, ShipOptions, SubjectKind, ship_outbox};
use ai_billing::engine::{CreateSubscription, RunDue, SavePlan};
use ai_billing::opensearch::{DEFAULT_INDEX, OpenSearchConfig, OpenSearchSink};
use ai_billing::{
    Account, AuditSink, BillingInterval, Currency, Customer, Engine, FixedClock, IntervalUnit,
    MemoryStore, Plan, Store,
};
use ai_billing::{AuditOutbox as _, BillingState as _};
use ai_billing_tests::billing::{ny, run_at};
use ai_billing_tests::opensearch::{OsmemServer, indexed_count, indexed_documents};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use opensearch::CountParts;
use opensearch::indices::{IndicesGetIndexTemplateParts, IndicesGetMappingParts};
use serde_json::{Value, json};

/// A sink on `server`. Its timeout is a safety net only: every test here either gets an answer
/// (which must not time out however loaded the machine is) or a refused connection (immediate),
/// so it is generous rather than tight.
fn sink_for(server: &OsmemServer) -> OpenSearchSink {
    let mut config = OpenSearchConfig::new(server.url());
    config.timeout = Duration::from_secs(60);
    OpenSearchSink::new(config).expect("an OpenSearch sink")
}

/// Quick retries, so an outage is found in well under a second.
fn quick(batch_size: u32) -> ShipOptions {
    ShipOptions {
        batch_size,
        max_batches: None,
        max_retries: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn events(n: usize) -> Vec<AuditEvent> {
    (0..n)
        .map(|i| {
            AuditEvent::new(
                at("2026-01-15T05:00:00.123456Z"),
                "acct_1",
                "system",
                AuditAction::InvoiceIssued,
                SubjectKind::Invoice,
                format!("in_{i}"),
            )
            .correlated(Some("run_1"), &format!("corr_{i}"))
            .with_data(
                json!({ "currency": "USD", "subtotal": "10.00", "tax": "0.83",
                               "total": format!("{i}.83"), "lines": [{ "amount": "10.00" }] }),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_template_is_installed_with_explicit_mappings() {
    let server = OsmemServer::start();
    let sink = sink_for(&server);
    sink.install_template().await.expect("install the template");
    sink.install_template()
        .await
        .expect("installed once, then a no-op");

    let templates: Value = sink
        .client()
        .indices()
        .get_index_template(IndicesGetIndexTemplateParts::Name(&[DEFAULT_INDEX]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let template = &templates["index_templates"][0];
    assert_eq!(template["name"], DEFAULT_INDEX);
    assert_eq!(
        template["index_template"]["index_patterns"][0],
        DEFAULT_INDEX
    );

    // The index exists, with the template's mappings.
    let mapping: Value = sink
        .client()
        .indices()
        .get_mapping(IndicesGetMappingParts::Index(&[DEFAULT_INDEX]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let properties = &mapping[DEFAULT_INDEX]["mappings"]["properties"];
    for field in [
        "id",
        "account_id",
        "actor",
        "action",
        "subject_kind",
        "subject_id",
        "run_id",
        "correlation_id",
    ] {
        assert_eq!(properties[field]["type"], "keyword", "{field}: {mapping}");
    }
    assert_eq!(properties["time"]["type"], "date");
    let data = &properties["data"];
    assert_eq!(
        data["dynamic"].as_str().unwrap_or_default(),
        "false",
        "{data}"
    );
    assert_eq!(data["properties"]["currency"]["type"], "keyword");
    for amount in ["subtotal", "tax", "total"] {
        assert_eq!(data["properties"][amount]["type"], "scaled_float");
        assert_eq!(data["properties"][amount]["scaling_factor"], 100.0);
    }

    // Amounts are searchable as numbers.
    let shipped = sink.ship(&events(5)).await.unwrap();
    assert_eq!(shipped.shipped.len(), 5);
    indexed_count(&sink).await;
    let body: Value = sink
        .client()
        .count(CountParts::Index(&[DEFAULT_INDEX]))
        .body(json!({ "query": { "range": { "data.total": { "gte": 3.0 } } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["count"].as_u64(),
        Some(2),
        "totals 3.83 and 4.83: {body}"
    );
}

#[tokio::test]
async fn shipping_twice_makes_no_duplicates() {
    let server = OsmemServer::start();
    let sink = sink_for(&server);
    let batch = events(50);
    let report = sink.ship(&batch).await.unwrap();
    assert_eq!(report.shipped.len(), 50);
    assert!(report.rejected.is_empty());
    assert_eq!(indexed_count(&sink).await, 50);

    // Again (a retry after a lost answer): every item is a 409, counted as shipped.
    let again = sink.ship(&batch).await.unwrap();
    assert_eq!(again.shipped.len(), 50);
    assert!(again.rejected.is_empty());
    assert_eq!(indexed_count(&sink).await, 50, "no duplicates");

    let documents = indexed_documents(&sink).await;
    assert_eq!(documents.len(), 50);
    let ids: HashSet<&str> = batch.iter().map(|event| event.id.as_str()).collect();
    for (id, source_id) in &documents {
        assert_eq!(id, source_id, "the document id is the event id");
        assert!(ids.contains(id.as_str()));
    }

    // Through the outbox: the same events shipped again from a store are not copied either.
    let store = MemoryStore::new();
    store.append_events(&batch).await.unwrap();
    let summary = ship_outbox(&store, &sink, &quick(20)).await.unwrap();
    assert_eq!(
        (summary.shipped, summary.pending, summary.batches),
        (50, 0, 3)
    );
    assert_eq!(indexed_count(&sink).await, 50);
}

#[tokio::test]
async fn a_rejected_document_is_kept_and_reported() {
    let server = OsmemServer::start();
    let sink = sink_for(&server);
    let mut batch = events(10);
    // An amount that is not a number violates the scaled_float mapping: OpenSearch answers
    // 400 mapper_parsing_exception for that item alone.
    batch[4].data["total"] = json!("twelve dollars");
    let store = MemoryStore::new();
    store.append_events(&batch).await.unwrap();

    let summary = ship_outbox(&store, &sink, &quick(4)).await.unwrap();
    assert_eq!(
        (summary.shipped, summary.rejected, summary.pending),
        (9, 1, 0)
    );
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (
            stats.audit_events,
            stats.audit_pending,
            stats.audit_rejected
        ),
        (10, 0, 1)
    );
    let rejected = store.rejected_events(10).await.unwrap();
    assert_eq!(rejected.len(), 1);
    let (event, reason) = &rejected[0];
    assert_eq!(event, &batch[4], "the rejected event is kept whole");
    assert!(
        reason.starts_with("400 mapper_parsing_exception") && reason.contains("data.total"),
        "{reason}"
    );
    assert_eq!(indexed_count(&sink).await, 9);

    // Not retried by the next run (it would fail the same way), until it is put back.
    let again = ship_outbox(&store, &sink, &quick(4)).await.unwrap();
    assert_eq!((again.shipped, again.rejected), (0, 0));
    store.retry_rejected(&[batch[4].id.clone()]).await.unwrap();
    let retried = ship_outbox(&store, &sink, &quick(4)).await.unwrap();
    assert_eq!(
        (retried.shipped, retried.rejected),
        (0, 1),
        "rejected again"
    );
}

#[tokio::test]
async fn an_outage_keeps_everything_pending_until_opensearch_is_back() {
    let mut server = OsmemServer::start();
    let sink = sink_for(&server);
    let store = MemoryStore::new();
    store.append_events(&events(30)).await.unwrap();

    server.stop();
    let started = std::time::Instant::now();
    let error = ship_outbox(&store, &sink, &quick(10)).await.unwrap_err();
    assert!(
        error.to_string().contains("OpenSearch"),
        "the error names what failed: {error}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.audit_pending, stats.audit_rejected), (30, 0));

    server.restart();
    let summary = ship_outbox(&store, &sink, &quick(10)).await.unwrap();
    assert_eq!(
        (summary.shipped, summary.rejected, summary.pending),
        (30, 0, 0)
    );
    assert_eq!(indexed_count(&sink).await, 30);
}

/// Billing goes on while OpenSearch is down; events wait in the outbox, then all of them are
/// shipped, once each.
#[tokio::test]
async fn billing_runs_through_an_outage_and_the_trail_arrives_whole() {
    let mut server = OsmemServer::start();
    let sink = sink_for(&server);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(
        New_York
            .with_ymd_and_hms(2026, 1, 15, 9, 0, 0)
            .unwrap()
            .to_utc(),
    ));
    let engine = Engine::new(store.clone()).with_clock(clock.clone());
    engine
        .save_account(&Account::new("acct_1", New_York), "admin")
        .await
        .unwrap();
    engine
        .save_customer(&Customer::new("acct_1", "cus_1"), "admin")
        .await
        .unwrap();
    let monthly = BillingInterval::new(IntervalUnit::Month, 1).unwrap();
    for (id, prompt) in [
        ("plan_seats", "$9 monthly for each seat"),
        (
            "plan_step",
            "Bill $5 for the first month and increase by $1 per month",
        ),
    ] {
        engine
            .save_plan(&SavePlan {
                account_id: "acct_1".into(),
                plan: Plan::ai(id, Currency::USD, monthly, prompt),
                actor: "admin".into(),
            })
            .await
            .unwrap();
    }

    // OpenSearch goes down; subscriptions are created and billed all the same.
    server.stop();
    for n in 0..12 {
        engine
            .create_subscription(&CreateSubscription {
                account_id: "acct_1".into(),
                id: format!("sub_{n:02}"),
                customer_id: "cus_1".into(),
                plan_id: if n % 2 == 0 {
                    "plan_seats"
                } else {
                    "plan_step"
                }
                .into(),
                quantity: 1 + n % 3,
                start_date: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
                actor: "admin".into(),
                request_id: None,
            })
            .await
            .unwrap();
    }
    assert!(
        ship_outbox(store.as_ref(), &sink, &quick(25))
            .await
            .is_err()
    );
    for month in [2, 3] {
        let now = New_York
            .with_ymd_and_hms(2026, month, 15, 9, 0, 0)
            .unwrap()
            .to_utc();
        clock.set(now);
        let report = engine
            .run_due(&RunDue {
                now: Some(now),
                progress: None,
            })
            .await
            .unwrap();
        assert_eq!((report.issued, report.failed), (12, 0), "{report:?}");
    }
    let during = store.stats().await.unwrap();
    assert_eq!(during.audit_pending, during.audit_events, "all waiting");
    assert_eq!(during.invoices, 36, "billing went on");

    // Back up: one run drains it, then the next renewals ship as they come.
    server.restart();
    let summary = ship_outbox(store.as_ref(), &sink, &quick(25))
        .await
        .unwrap();
    assert_eq!(summary.shipped, during.audit_events);
    run_at(&engine, &clock, ny(2026, 4, 15, 9)).await.unwrap();
    ship_outbox(store.as_ref(), &sink, &quick(25))
        .await
        .unwrap();

    let stats = store.stats().await.unwrap();
    assert_eq!((stats.audit_pending, stats.audit_rejected), (0, 0));
    assert_eq!(indexed_count(&sink).await, stats.audit_events);
    let documents = indexed_documents(&sink).await;
    let distinct: HashSet<&str> = documents.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(distinct.len() as u64, stats.audit_events, "no duplicates");
    assert!(documents.iter().all(|(id, source_id)| id == source_id));
    // The trail of one subscription is all there.
    let trail = store.events_for("acct_1", "sub_03").await.unwrap();
    assert!(trail.len() > 4);
    assert!(
        trail
            .iter()
            .all(|event| distinct.contains(event.id.as_str()))
    );
}

#[tokio::test]
async fn the_password_is_never_printed() {
    const SECRET: &str = "s3cr3t-hunter2-pw";
    let mut server = OsmemServer::start();
    let config = OpenSearchConfig::new(server.url()).with_credentials("auditor", SECRET);
    let printed = [
        format!("{config:?}"),
        format!("{config}"),
        format!("{config:#?}"),
    ];
    for text in &printed {
        assert!(!text.contains(SECRET), "{text}");
    }
    assert!(printed[1].contains("auditor"));
    let sink = OpenSearchSink::new(config.clone()).unwrap();
    assert!(!format!("{sink:?}").contains(SECRET));
    assert!(!format!("{:?}", sink.config()).contains(SECRET));

    // Works with credentials (osmem does not check them) ...
    assert_eq!(sink.ship(&events(2)).await.unwrap().shipped.len(), 2);
    // ... and an error, in every form, carries no password either.
    server.stop();
    let store = MemoryStore::new();
    store.append_events(&events(3)).await.unwrap();
    let error = ship_outbox(&store, &sink, &quick(10)).await.unwrap_err();
    let mut texts = vec![
        error.to_string(),
        format!("{error:?}"),
        format!("{error:#?}"),
    ];
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        texts.push(cause.to_string());
        texts.push(format!("{cause:?}"));
        source = cause.source();
    }
    for text in &texts {
        assert!(!text.contains(SECRET), "{text}");
    }
    // A URL with credentials in it is refused without echoing them.
    let error = OpenSearchSink::new(OpenSearchConfig::new(format!(
        "http://auditor:{SECRET}@127.0.0.1:{}",
        server.port()
    )))
    .unwrap_err();
    assert!(!format!("{error} {error:?}").contains(SECRET));
}
