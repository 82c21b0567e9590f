//! Checks of the outbox feed ([`crate::store::AuditOutbox::feed`]) and of
//! [`crate::store::WebhookEndpoints`]: paging in a stable order that skips nothing and repeats
//! nothing (also while writers race), filters, and endpoints written by compare-and-set.

use std::collections::HashSet;
use std::sync::Arc;

use super::fixtures::{at, event};
use crate::audit::platform::EventType;
use crate::audit::{AuditAction, AuditEvent, SubjectKind};
use crate::error::ErrorCode;
use crate::store::{FeedQuery, FixtureStore, OutboxPosition};
use crate::webhooks::{WebhookEndpoint, WebhookSecret};

/// Reads the whole feed from `after` by pages of `limit`, checking that positions only grow.
async fn read_all(
    store: &Arc<dyn FixtureStore>,
    after: OutboxPosition,
    limit: u32,
    actions: &[AuditAction],
    account_id: Option<&str>,
) -> (Vec<AuditEvent>, OutboxPosition) {
    let mut cursor = after;
    let mut read = Vec::new();
    loop {
        let page = store
            .feed(&FeedQuery {
                after: cursor,
                limit,
                actions: actions.to_vec(),
                account_id: account_id.map(str::to_owned),
            })
            .await
            .expect("feed");
        let mut last = cursor;
        for (position, _) in &page.events {
            assert!(
                *position > last,
                "positions grow: {position:?} after {last:?}"
            );
            last = *position;
        }
        assert!(
            page.end >= last,
            "the end {:?} is before the page's last event {last:?}",
            page.end
        );
        let done = page.events.len() < limit as usize;
        read.extend(page.events.into_iter().map(|(_, event)| event));
        cursor = page.end;
        if done {
            return (read, cursor);
        }
    }
}

/// [`read_all`], again until it reads `want` events or a minute has passed. A PostgreSQL feed
/// shows a transaction's events only once every older transaction on the server has ended
/// (another test's too), so what was just written may take a moment to appear; it never skips.
async fn read_settled(
    store: &Arc<dyn FixtureStore>,
    after: OutboxPosition,
    limit: u32,
    actions: &[AuditAction],
    account_id: Option<&str>,
    want: usize,
) -> (Vec<AuditEvent>, OutboxPosition) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (read, end) = read_all(store, after, limit, actions, account_id).await;
        if read.len() >= want || std::time::Instant::now() > deadline {
            return (read, end);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn ids(events: &[AuditEvent]) -> Vec<&str> {
    events.iter().map(|event| event.id.as_str()).collect()
}

/// The feed: every matching event once, in the order written, by pages of any size; filters by
/// action and account; `end` passes over what does not match and stops before what comes next.
pub async fn check_feed(store: Arc<dyn FixtureStore>) {
    let all = [
        AuditAction::InvoiceIssued,
        AuditAction::TaxComputed,
        AuditAction::SubscriptionCreated,
    ];
    let empty = store
        .feed(&FeedQuery {
            after: OutboxPosition::START,
            limit: 10,
            actions: all.to_vec(),
            account_id: None,
        })
        .await
        .expect("feed of an empty outbox");
    assert_eq!(empty.events, vec![]);
    let mut written = Vec::new();
    for batch in 0..5 {
        let events: Vec<AuditEvent> = (0..7)
            .map(|i| {
                event(
                    if i % 3 == 0 { "acct_b" } else { "acct_a" },
                    all[(batch + i) % all.len()],
                    SubjectKind::Invoice,
                    &format!("in_{batch}_{i}"),
                    None,
                )
            })
            .collect();
        store.append_events(&events).await.expect("append_events");
        written.extend(events);
    }
    // Once all of it shows, every later read of it does: the horizon only moves on.
    read_settled(
        &store,
        OutboxPosition::START,
        100,
        &all,
        None,
        written.len(),
    )
    .await;
    for limit in [1, 3, 35, 100] {
        let (read, _) = read_all(&store, OutboxPosition::START, limit, &all, None).await;
        assert_eq!(
            ids(&read),
            ids(&written),
            "pages of {limit}: every event once, in order"
        );
    }
    let issued: Vec<&AuditEvent> = written
        .iter()
        .filter(|e| e.action == AuditAction::InvoiceIssued && e.account_id == "acct_a")
        .collect();
    let (read, end) = read_all(
        &store,
        OutboxPosition::START,
        2,
        &[AuditAction::InvoiceIssued],
        Some("acct_a"),
    )
    .await;
    assert_eq!(
        read.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        issued.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        "filtered by action and account"
    );
    // Caught up: nothing after `end`, even though non-matching events came last.
    let (again, same_end) = read_all(
        &store,
        end,
        2,
        &[AuditAction::InvoiceIssued],
        Some("acct_a"),
    )
    .await;
    assert_eq!(again, vec![]);
    // It may move on (on PostgreSQL, past other transactions that ended meanwhile), never back.
    assert!(same_end >= end, "an empty page never moves its cursor back");
    let only_end = store
        .feed(&FeedQuery {
            after: OutboxPosition::START,
            limit: 0,
            actions: all.to_vec(),
            account_id: None,
        })
        .await
        .expect("feed with limit 0");
    assert_eq!(only_end.events, vec![]);
    let (after_end, _) = read_all(&store, only_end.end, 10, &all, None).await;
    assert_eq!(after_end, vec![], "limit 0 gives where the feed ends now");
    // What comes later is read after the end.
    let later = event(
        "acct_a",
        AuditAction::InvoiceIssued,
        SubjectKind::Invoice,
        "in_later",
        None,
    );
    store
        .append_events(std::slice::from_ref(&later))
        .await
        .expect("append_events");
    let (read, _) = read_settled(
        &store,
        end,
        2,
        &[AuditAction::InvoiceIssued],
        Some("acct_a"),
        1,
    )
    .await;
    assert_eq!(ids(&read), vec![later.id.as_str()]);
    let none = store
        .feed(&FeedQuery {
            after: OutboxPosition::START,
            limit: 10,
            actions: Vec::new(),
            account_id: None,
        })
        .await
        .expect("feed of no action");
    assert_eq!(none.events, vec![]);
}

/// Eight writers append while a reader pages: once they are done and the reader has caught up,
/// it read every event exactly once, and each writer's events in that writer's order.
pub async fn check_feed_while_writers_race(store: Arc<dyn FixtureStore>) {
    const WRITERS: usize = 8;
    const BATCHES: usize = 12;
    let actions = [AuditAction::InvoiceIssued];
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for batch in 0..BATCHES {
                    let events: Vec<AuditEvent> = (0..3)
                        .map(|i| {
                            event(
                                "acct_a",
                                AuditAction::InvoiceIssued,
                                SubjectKind::Invoice,
                                &format!("in_{writer}_{batch}_{i}"),
                                None,
                            )
                        })
                        .collect();
                    store.append_events(&events).await.expect("append_events");
                    mine.extend(events.into_iter().map(|event| event.id));
                    tokio::task::yield_now().await;
                }
                mine
            })
        })
        .collect();
    let mut cursor = OutboxPosition::START;
    let mut read: Vec<AuditEvent> = Vec::new();
    while !writers.iter().all(|writer| writer.is_finished()) {
        let (page, end) = read_all(&store, cursor, 5, &actions, None).await;
        read.extend(page);
        cursor = end;
        tokio::task::yield_now().await;
    }
    let mut written = Vec::new();
    for writer in writers {
        written.push(writer.await.expect("a writer"));
    }
    let left = (WRITERS * BATCHES * 3).saturating_sub(read.len());
    let (rest, _) = read_settled(&store, cursor, 5, &actions, None, left).await;
    read.extend(rest);
    let mut seen = HashSet::new();
    for event in &read {
        assert!(
            seen.insert(event.id.as_str()),
            "event {} read twice",
            event.id
        );
    }
    assert_eq!(seen.len(), WRITERS * BATCHES * 3, "every event read once");
    for mine in written {
        let order: Vec<&str> = read
            .iter()
            .map(|event| event.id.as_str())
            .filter(|id| mine.iter().any(|m| m == id))
            .collect();
        assert_eq!(order, mine.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

fn endpoint(id: &str) -> WebhookEndpoint {
    let mut endpoint = WebhookEndpoint::new(
        id,
        "http://127.0.0.1:9/hooks?x=ü",
        WebhookSecret::generate().expect("a secret"),
        at("2026-01-15T05:00:00.123456Z"),
        OutboxPosition { commit: 7, seq: 11 },
    )
    .expect("an endpoint");
    endpoint.types = vec![EventType::InvoiceIssued, EventType::SubscriptionCanceled];
    endpoint.account_id = Some("acct_ü".into());
    endpoint
}

/// Webhook endpoints: written and read back whole (secret, types, cursor, state), a taken id is
/// a conflict, replaced only over the revision read, listed by id, removed.
pub async fn check_webhook_endpoints(store: Arc<dyn FixtureStore>) {
    assert_eq!(store.webhooks().await.expect("webhooks"), vec![]);
    assert_eq!(store.webhook("we_b").await.expect("webhook"), None);
    let b = endpoint("we_b");
    assert!(store.put_webhook(&b, None).await.expect("add we_b"));
    let a = endpoint("we_a");
    assert!(store.put_webhook(&a, None).await.expect("add we_a"));
    assert_eq!(
        store.webhook("we_b").await.expect("webhook"),
        Some(b.clone())
    );
    let taken = store.put_webhook(&b, None).await.unwrap_err();
    assert_eq!(taken.code(), ErrorCode::Conflict, "{taken}");
    assert_eq!(
        store.webhooks().await.expect("webhooks"),
        vec![a.clone(), b.clone()],
        "listed by id"
    );

    let mut next = b.clone();
    next.revision = 2;
    next.cursor = OutboxPosition { commit: 9, seq: 40 };
    next.failures = 3;
    next.next_attempt_at = Some(at("2026-01-15T06:00:00.000001Z"));
    next.last_error = Some("answered HTTP 500".into());
    next.delivered = 12;
    next.enabled = false;
    next.disabled_at = Some(at("2026-01-15T06:00:00Z"));
    assert!(store.put_webhook(&next, Some(1)).await.expect("replace"));
    assert_eq!(
        store.webhook("we_b").await.expect("webhook"),
        Some(next.clone())
    );
    let mut stale = next.clone();
    stale.revision = 2;
    assert!(
        !store.put_webhook(&stale, Some(1)).await.expect("stale"),
        "a write over a revision that is gone writes nothing"
    );
    assert_eq!(
        store.webhook("we_b").await.expect("webhook"),
        Some(next.clone())
    );
    let skipped = store.put_webhook(&stale, Some(5)).await.unwrap_err();
    assert_eq!(skipped.code(), ErrorCode::InvalidInput, "{skipped}");
    let mut missing = endpoint("we_missing");
    missing.revision = 2;
    assert!(!store.put_webhook(&missing, Some(1)).await.expect("missing"));

    assert!(store.delete_webhook("we_b").await.expect("delete"));
    assert!(!store.delete_webhook("we_b").await.expect("delete again"));
    assert_eq!(store.webhooks().await.expect("webhooks"), vec![a]);
}
