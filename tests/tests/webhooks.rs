//! Webhooks end to end over real HTTP on loopback: the pump posts the outbox's platform events
//! to local receivers that fail (500) and time out part of the time. Every request's signature is
//! checked (by the core's verifier here; `bindings-node/test/webhooks.test.js` checks them with
//! the independent `standardwebhooks` package), and after deduplication by `webhook-id` every
//! event arrived exactly once, in order, with none of a filtered endpoint's other types. An
//! endpoint disabled after repeated failure keeps its events and gets them once enabled again;
//! a stored retry schedule survives a restart.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ai_billing::Store;
use ai_billing::audit::platform::{EventType, PlatformEvent};
use ai_billing::audit::{AuditAction, AuditEvent, SubjectKind};
use ai_billing::store::OutboxPosition;
use ai_billing::webhook_http::HttpWebhookSender;
use ai_billing::webhooks::{
    DeliverOptions, DeliverySummary, WebhookEndpoint, WebhookSecret, deliver_webhooks,
};
use ai_billing_tests::sqlite::file_store;
use chrono::{TimeZone, Utc};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Answers request n (from 0): 500 when `n % fail_every == fail_every - 1`, 200 after a delay
/// longer than the sender's timeout when `n % slow_every == slow_every - 1`, else 200 at once.
/// `down` makes every answer 500.
struct Flaky {
    calls: AtomicUsize,
    fail_every: usize,
    slow_every: usize,
    down: Arc<AtomicBool>,
}

impl Respond for Flaky {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) || n % self.fail_every == self.fail_every - 1 {
            ResponseTemplate::new(500)
        } else if n % self.slow_every == self.slow_every - 1 {
            ResponseTemplate::new(200).set_delay(Duration::from_millis(900))
        } else {
            ResponseTemplate::new(200)
        }
    }
}

async fn receiver(fail_every: usize, slow_every: usize) -> (MockServer, Arc<AtomicBool>) {
    let server = MockServer::start().await;
    let down = Arc::new(AtomicBool::new(false));
    Mock::given(method("POST"))
        .respond_with(Flaky {
            calls: AtomicUsize::new(0),
            fail_every,
            slow_every,
            down: Arc::clone(&down),
        })
        .mount(&server)
        .await;
    (server, down)
}

fn options() -> DeliverOptions {
    DeliverOptions {
        batch_size: 7,
        max_events: None,
        max_failures: 1000,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        timeout: Duration::from_millis(250),
    }
}

/// `count` events of every platform type in turn (and an internal one between), across two
/// accounts, written in several batches.
async fn write_events(store: &dyn Store, count: usize, tag: &str) -> Vec<AuditEvent> {
    let time = Utc.with_ymd_and_hms(2026, 1, 15, 5, 0, 0).unwrap();
    let mut written = Vec::new();
    for chunk in 0..count.div_ceil(5) {
        let mut batch = Vec::new();
        for i in chunk * 5..(chunk * 5 + 5).min(count) {
            let ty = EventType::ALL[i % EventType::ALL.len()];
            let account = if i % 3 == 0 { "acct_b" } else { "acct_a" };
            batch.push(
                AuditEvent::new(
                    time,
                    account,
                    "system",
                    ty.action(),
                    SubjectKind::Invoice,
                    format!("obj_{tag}_{i}"),
                )
                .with_data(json!({ "n": i, "total": "10.83", "currency": "USD" })),
            );
            batch.push(AuditEvent::new(
                time,
                account,
                "system",
                AuditAction::TaxComputed,
                SubjectKind::Subscription,
                "sub",
            ));
        }
        store.append_events(&batch).await.unwrap();
        written.extend(batch);
    }
    written
}

fn endpoint(id: &str, url: String, types: Vec<EventType>) -> WebhookEndpoint {
    let mut endpoint = WebhookEndpoint::new(
        id,
        url,
        WebhookSecret::generate().unwrap(),
        Utc::now(),
        OutboxPosition::START,
    )
    .unwrap();
    endpoint.types = types;
    endpoint
}

/// Pumps until a pass finds nothing to do: nothing delivered, failed or waiting.
async fn pump_until_idle(store: &dyn Store, sender: &HttpWebhookSender) -> DeliverySummary {
    let mut total = DeliverySummary::default();
    for _ in 0..5000 {
        let pass = deliver_webhooks(store, sender, &options()).await.unwrap();
        total.delivered += pass.delivered;
        total.failed += pass.failed;
        total.disabled += pass.disabled;
        if pass.delivered == 0 && pass.failed == 0 && pass.waiting == 0 {
            return total;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the pump never caught up: {total:?}");
}

/// The platform events a receiver got, in first-arrival order, after checking every request's
/// headers and signature and deduplicating by `webhook-id`; and how many requests came in all.
async fn received(server: &MockServer, secret: &WebhookSecret) -> (Vec<PlatformEvent>, usize) {
    let requests = server.received_requests().await.unwrap();
    let mut seen = HashSet::new();
    let mut events = Vec::new();
    for request in &requests {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .unwrap_or_else(|| panic!("no {name} header"))
                .to_str()
                .unwrap()
                .to_owned()
        };
        let id = header("webhook-id");
        let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
        let body = String::from_utf8(request.body.clone()).unwrap();
        assert!(
            secret.verify(&id, timestamp, &body, &header("webhook-signature")),
            "a bad signature on {id}"
        );
        assert_eq!(header("content-type"), "application/json");
        assert!(
            (Utc::now().timestamp() - timestamp).abs() < 300,
            "a stale timestamp"
        );
        let event: PlatformEvent = serde_json::from_str(&body).unwrap();
        assert_eq!(event.id, id, "webhook-id is the event id");
        if seen.insert(id) {
            events.push(event);
        }
    }
    (events, requests.len())
}

fn platform_ids(written: &[AuditEvent], filter: impl Fn(&PlatformEvent) -> bool) -> Vec<String> {
    written
        .iter()
        .filter_map(PlatformEvent::from_audit)
        .filter(|event| filter(event))
        .map(|event| event.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_arrives_once_through_failures_and_timeouts() {
    let file = file_store().await;
    let store = file.shared();
    let (all_server, _) = receiver(4, 7).await;
    let (issued_server, _) = receiver(3, 5).await;
    let all = endpoint("we_all", format!("{}/hooks", all_server.uri()), vec![]);
    let issued = endpoint(
        "we_issued",
        format!("{}/hooks", issued_server.uri()),
        vec![EventType::InvoiceIssued, EventType::CreditNoteIssued],
    );
    store.put_webhook(&all, None).await.unwrap();
    store.put_webhook(&issued, None).await.unwrap();
    let sender = HttpWebhookSender::new().unwrap();

    let mut written = write_events(store.as_ref(), 40, "first").await;
    let first = pump_until_idle(store.as_ref(), &sender).await;
    assert!(
        first.failed > 0,
        "the receivers failed part of the time: {first:?}"
    );
    // More events after the endpoints caught up: delivered from where each stood.
    written.extend(write_events(store.as_ref(), 25, "second").await);
    pump_until_idle(store.as_ref(), &sender).await;

    let (got, requests) = received(&all_server, &all.secret).await;
    let ids: Vec<String> = got.iter().map(|event| event.id.clone()).collect();
    assert_eq!(
        ids,
        platform_ids(&written, |_| true),
        "every event once, in order"
    );
    assert!(
        requests > ids.len(),
        "some were retried ({requests} requests)"
    );
    let (got, _) = received(&issued_server, &issued.secret).await;
    let ids: Vec<String> = got.iter().map(|event| event.id.clone()).collect();
    assert_eq!(
        ids,
        platform_ids(&written, |event| matches!(
            event.event_type,
            EventType::InvoiceIssued | EventType::CreditNoteIssued
        )),
        "the filtered endpoint got its types once each and nothing else"
    );
    let stored = store.webhook("we_all").await.unwrap().unwrap();
    assert_eq!(stored.delivered, 65);
    assert_eq!((stored.failures, stored.next_attempt_at), (0, None));
    assert!(stored.enabled);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_endpoint_keeps_its_events_until_it_is_enabled() {
    let file = file_store().await;
    let store = file.shared();
    let (server, down) = receiver(usize::MAX, usize::MAX).await;
    down.store(true, Ordering::SeqCst);
    let hook = endpoint("we_1", format!("{}/hooks", server.uri()), vec![]);
    store.put_webhook(&hook, None).await.unwrap();
    let sender = HttpWebhookSender::new().unwrap();
    let mut written = write_events(store.as_ref(), 6, "before").await;
    let few = DeliverOptions {
        max_failures: 3,
        ..options()
    };
    let mut disabled = 0;
    for _ in 0..1000 {
        let pass = deliver_webhooks(store.as_ref(), &sender, &few)
            .await
            .unwrap();
        disabled += pass.disabled;
        if disabled > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(disabled, 1);
    let stored = store.webhook("we_1").await.unwrap().unwrap();
    assert!(!stored.enabled && stored.disabled_at.is_some());
    assert_eq!(stored.failures, 3);
    assert_eq!(stored.last_error.as_deref(), Some("answered HTTP 500"));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    // Disabled: more events come, and no pass sends anything.
    written.extend(write_events(store.as_ref(), 4, "while_disabled").await);
    let idle = deliver_webhooks(store.as_ref(), &sender, &few)
        .await
        .unwrap();
    assert_eq!(idle, DeliverySummary::default());
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    // The receiver is back; enabling the endpoint delivers everything it missed.
    down.store(false, Ordering::SeqCst);
    let enabled = stored.switched(true, Utc::now());
    assert!(
        store
            .put_webhook(&enabled, Some(stored.revision))
            .await
            .unwrap()
    );
    pump_until_idle(store.as_ref(), &sender).await;
    let (got, _) = received(&server, &hook.secret).await;
    let ids: Vec<String> = got.iter().map(|event| event.id.clone()).collect();
    assert_eq!(ids, platform_ids(&written, |_| true));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_retry_schedule_survives_a_restart() {
    let file = file_store().await;
    let store = file.shared();
    let (server, down) = receiver(usize::MAX, usize::MAX).await;
    down.store(true, Ordering::SeqCst);
    store
        .put_webhook(
            &endpoint("we_1", format!("{}/hooks", server.uri()), vec![]),
            None,
        )
        .await
        .unwrap();
    write_events(store.as_ref(), 2, "x").await;
    let sender = HttpWebhookSender::new().unwrap();
    let slow = DeliverOptions {
        initial_backoff: Duration::from_secs(3600),
        max_backoff: Duration::from_secs(3600),
        ..options()
    };
    let pass = deliver_webhooks(store.as_ref(), &sender, &slow)
        .await
        .unwrap();
    assert_eq!((pass.failed, pass.delivered), (1, 0));
    down.store(false, Ordering::SeqCst);

    // A new process on the same file waits for the stored attempt time.
    let reopened: Arc<dyn Store> = Arc::new(file.reopen().await);
    let pass = deliver_webhooks(reopened.as_ref(), &sender, &slow)
        .await
        .unwrap();
    assert_eq!(pass.waiting, 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let stored = reopened.webhook("we_1").await.unwrap().unwrap();
    let wait = stored.next_attempt_at.unwrap() - Utc::now();
    assert!(
        wait > chrono::Duration::minutes(20),
        "backoff with jitter in [30, 60] min: {wait}"
    );
}
