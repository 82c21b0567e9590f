//! Shipping throughput: 100,000 audit events, shaped as the engine writes them (a subscription's
//! creation and its renewals: timing, usage, payload check, tax, revenue schedule, invoice),
//! shipped from a `MemoryStore` outbox to a local osmem-server by `ship_outbox`, with batches of
//! 500 and of 2,000 events. Prints events per second; asserts only that every event arrived once.
//!
//! `cargo run --release -p ai-billing-tests --example ship_bench [EVENTS]`
//! (osmem-server as for the tests: `source scripts/services.sh`, or `pip install osmem-server`).

use std::time::{Duration, Instant};

use ai_billing::AuditOutbox as _;
use ai_billing::MemoryStore;
use ai_billing::audit::{AuditAction, AuditEvent, ShipOptions, SubjectKind, ship_outbox};
use ai_billing::opensearch::{OpenSearchConfig, OpenSearchSink};
use ai_billing_tests::opensearch::{OsmemServer, indexed_count};
use chrono::{Duration as Span, TimeZone, Utc};
use serde_json::{Value, json};

/// One operation's events, as the engine writes them for a renewal of `subscription` in month
/// `month` (or its creation, month 0).
fn operation(account: &str, subscription: usize, month: u32, run_id: &str) -> Vec<AuditEvent> {
    let time = Utc.with_ymd_and_hms(2026, 1, 15, 14, 0, 0).unwrap()
        + Span::days(30 * i64::from(month))
        + Span::milliseconds(subscription as i64);
    let sub_id = format!("sub_{subscription:06}");
    let invoice_id = format!("in_{sub_id}_{month:02}");
    let correlation = ai_billing::audit::new_id();
    let quantity = 1 + subscription % 5;
    let subtotal = format!("{}.00", 9 * quantity);
    let tax = format!(
        "{}.{:02}",
        (9 * quantity * 825) / 10000,
        (9 * quantity * 825 / 100) % 100
    );
    let event = |action, kind, subject: &str, data: Value| {
        AuditEvent::new(time, account, "system", action, kind, subject)
            .correlated((month > 0).then_some(run_id), &correlation)
            .with_data(data)
    };
    use AuditAction as A;
    use SubjectKind as K;
    let mut events = Vec::with_capacity(8);
    if month == 0 {
        events.push(event(
            A::SubscriptionCreated,
            K::Subscription,
            &sub_id,
            json!({ "plan_id": "plan_seats", "plan_version": 1, "quantity": quantity,
                    "start_date": "2026-01-15", "customer_id": format!("cus_{}", subscription % 997) }),
        ));
        events.push(event(
            A::TimingDecided,
            K::Subscription,
            &sub_id,
            json!({ "invoice_timing": "at_start", "first_invoice_at": time }),
        ));
    } else {
        events.push(event(
            A::UsageQueried,
            K::Subscription,
            &sub_id,
            json!({ "query": "shipments_by_weekday", "from": time - Span::days(30), "to": time,
                    "usage": { "shipments": [3, 4, 2, 5, 1, 0, 6], "units": [3, 4, 2, 5, 1, 0, 6] } }),
        ));
    }
    events.push(event(
        A::PayloadValidated,
        K::Subscription,
        &sub_id,
        json!({ "mode": "compiled", "valid": true, "period": month,
                "invoice_lines": [{ "description": "Base charge", "amount": subtotal }] }),
    ));
    events.push(event(
        A::TaxComputed,
        K::Subscription,
        &sub_id,
        json!({ "currency": "USD", "subtotal": subtotal, "inclusive": false, "tax": tax,
                "tax_lines": [{ "name": "Sales tax", "rate": "0.0825", "amount": tax }] }),
    ));
    events.push(event(
        A::RevenueScheduled,
        K::Invoice,
        &invoice_id,
        json!({ "schedule": [{ "start": "2026-01-15", "end": "2026-02-14", "amount": subtotal }] }),
    ));
    events.push(event(
        A::InvoiceIssued,
        K::Invoice,
        &invoice_id,
        json!({ "period_start": "2026-01-15", "period_end": "2026-02-15", "currency": "USD",
                "subtotal": subtotal, "tax": tax, "total": subtotal }),
    ));
    events
}

/// `total` events: subscriptions created and renewed month after month, in write order.
fn synthesize(total: usize) -> Vec<AuditEvent> {
    let mut events = Vec::with_capacity(total + 8);
    let subscriptions = 2_500;
    let mut month = 0;
    while events.len() < total {
        let run_id = ai_billing::audit::new_id();
        for subscription in 0..subscriptions {
            events.extend(operation("acct_bench", subscription, month, &run_id));
            if events.len() >= total {
                break;
            }
        }
        month += 1;
    }
    events.truncate(total);
    events
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: usize = match std::env::args().nth(1) {
        Some(text) => text.parse()?,
        None => 100_000,
    };
    let events = synthesize(total);
    let bytes: usize = events
        .iter()
        .map(|event| serde_json::to_vec(event).map_or(0, |json| json.len()))
        .sum();
    println!(
        "ship_bench: {total} events ({:.0} bytes of JSON each on average), MemoryStore -> \
         osmem-server on loopback",
        bytes as f64 / total as f64
    );
    for batch_size in [500_u32, 2_000] {
        let server = OsmemServer::start();
        let mut config = OpenSearchConfig::new(server.url());
        config.timeout = Duration::from_secs(60);
        let sink = OpenSearchSink::new(config)?;
        let store = MemoryStore::new();
        for chunk in events.chunks(1_000) {
            store.append_events(chunk).await?;
        }
        let options = ShipOptions {
            batch_size,
            ..ShipOptions::default()
        };
        let started = Instant::now();
        let summary = ship_outbox(&store, &sink, &options).await?;
        let elapsed = started.elapsed();
        let documents = indexed_count(&sink).await;
        assert_eq!(summary.shipped, total as u64, "{summary:?}");
        assert_eq!((summary.rejected, summary.pending), (0, 0), "{summary:?}");
        assert_eq!(documents, total as u64, "every event once in OpenSearch");
        println!(
            "batch {batch_size:>5}: {total} events in {:>6.2} s = {:>7.0} events/s \
             ({} batches, {} documents in the index)",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64(),
            summary.batches,
            documents
        );
    }
    Ok(())
}
