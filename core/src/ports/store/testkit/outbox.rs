//! Checks of [`crate::store::AuditOutbox`]: pending, shipped and rejected events, all-or-nothing
//! batches, a subject's trail, and events read back as written.

use std::sync::Arc;

use serde_json::json;

use super::fixtures::{all_events, at, event, stats};
use crate::audit::{AuditAction, AuditEvent, SubjectKind};
use crate::store::{FixtureStore, StoreStats};

/// The outbox: pending events in the order written (also within one batch at the same instant),
/// `limit`, and `mark_shipped` idempotent and ignoring unknown ids.
pub async fn check_outbox(store: Arc<dyn FixtureStore>) {
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        vec![]
    );
    let make = |n: usize| {
        event(
            "acct_1",
            AuditAction::RenewalFailed,
            SubjectKind::Subscription,
            &format!("sub_{n}"),
            None,
        )
    };
    // Ids are UUIDv7, made in order; written in another order so that neither the id nor the
    // time can stand in for the order written.
    let made: Vec<AuditEvent> = (0..5).map(make).collect();
    let written = vec![
        made[3].clone(),
        made[1].clone(),
        made[4].clone(),
        made[0].clone(),
        made[2].clone(),
    ];
    store
        .append_events(&written[..3])
        .await
        .expect("append_events");
    store
        .append_events(&written[3..])
        .await
        .expect("append_events");
    store.append_events(&[]).await.expect("append no events");
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        written,
        "pending events come in the order they were written"
    );
    assert_eq!(
        store.pending_events(2).await.expect("pending_events"),
        written[..2]
    );
    assert_eq!(
        store.pending_events(0).await.expect("pending_events"),
        vec![]
    );
    let shipped_at = at("2026-01-16T00:00:00.000001Z");
    store
        .mark_shipped(
            &[
                written[0].id.clone(),
                written[3].id.clone(),
                "evt_unknown".into(),
            ],
            shipped_at,
        )
        .await
        .expect("mark_shipped");
    let rest = vec![written[1].clone(), written[2].clone(), written[4].clone()];
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        rest
    );
    store
        .mark_shipped(
            &[written[0].id.clone()],
            shipped_at + chrono::Duration::days(1),
        )
        .await
        .expect("mark_shipped twice");
    store
        .mark_shipped(&[], shipped_at)
        .await
        .expect("mark nothing");
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        rest
    );
    assert_eq!(
        stats(&store).await,
        StoreStats {
            audit_events: 5,
            audit_pending: 3,
            ..StoreStats::default()
        }
    );
    store
        .mark_shipped(
            &rest
                .iter()
                .map(|event| event.id.clone())
                .collect::<Vec<_>>(),
            shipped_at,
        )
        .await
        .expect("mark_shipped");
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        vec![]
    );
    assert_eq!(
        store
            .events_for("acct_1", "sub_3")
            .await
            .expect("events_for"),
        vec![made[3].clone()],
        "shipped events stay in the trail"
    );
}

/// Rejected events: `mark_rejected` takes pending events out of `pending_events` (so shipping
/// cannot get stuck on them) but keeps them in the outbox with their reasons, in write order;
/// shipped, unknown or already rejected ids are ignored (the first reason stays);
/// `retry_rejected` puts them back to pending in their place; `mark_shipped` ships a rejected
/// event; `stats` counts pending and rejected apart.
pub async fn check_rejected_events(store: Arc<dyn FixtureStore>) {
    let made: Vec<AuditEvent> = (0..5)
        .map(|n| {
            event(
                "acct_1",
                AuditAction::InvoiceIssued,
                SubjectKind::Invoice,
                &format!("in_{n}"),
                Some("corr_1"),
            )
        })
        .collect();
    store.append_events(&made).await.expect("append_events");
    let ids = |events: &[AuditEvent]| -> Vec<String> {
        events.iter().map(|event| event.id.clone()).collect()
    };
    let at_1 = at("2026-01-16T00:00:00.000001Z");
    store
        .mark_shipped(&[made[0].id.clone()], at_1)
        .await
        .expect("mark_shipped");
    store
        .mark_rejected(&[], at_1)
        .await
        .expect("reject nothing");
    store
        .mark_rejected(
            &[
                (
                    made[3].id.clone(),
                    "mapper_parsing_exception: bad total".into(),
                ),
                (made[1].id.clone(), "illegal_argument_exception: ü".into()),
                (made[3].id.clone(), "a second reason for the same id".into()),
                (made[0].id.clone(), "already shipped".into()),
                ("evt_unknown".into(), "unknown".into()),
            ],
            at_1,
        )
        .await
        .expect("mark_rejected");
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        vec![made[2].clone(), made[4].clone()],
        "rejected events leave the pending list; a shipped one is not rejected"
    );
    let rejected = store.rejected_events(10).await.expect("rejected_events");
    assert_eq!(
        rejected,
        vec![
            (made[1].clone(), "illegal_argument_exception: ü".to_owned()),
            (
                made[3].clone(),
                "mapper_parsing_exception: bad total".to_owned()
            ),
        ],
        "rejected events in write order, each with its first reason, the event whole"
    );
    assert_eq!(
        store.rejected_events(1).await.expect("rejected_events"),
        rejected[..1],
        "limit"
    );
    assert_eq!(
        store.rejected_events(0).await.expect("rejected_events"),
        vec![]
    );
    assert_eq!(
        stats(&store).await,
        StoreStats {
            audit_events: 5,
            audit_pending: 2,
            audit_rejected: 2,
            ..StoreStats::default()
        }
    );
    // Rejecting again keeps the first reason.
    store
        .mark_rejected(&[(made[1].id.clone(), "later".into())], at_1)
        .await
        .expect("mark_rejected twice");
    assert_eq!(
        store.rejected_events(10).await.expect("rejected_events"),
        rejected
    );
    assert_eq!(
        store
            .events_for("acct_1", "in_3")
            .await
            .expect("events_for")
            .len(),
        5,
        "rejected events stay in the trail"
    );

    // Back to pending: in their place in write order, reasons gone.
    store
        .retry_rejected(&[
            made[3].id.clone(),
            made[2].id.clone(), // pending: ignored
            made[0].id.clone(), // shipped: ignored
            "evt_unknown".into(),
        ])
        .await
        .expect("retry_rejected");
    store.retry_rejected(&[]).await.expect("retry nothing");
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        vec![made[2].clone(), made[3].clone(), made[4].clone()],
        "a retried event is pending again, in the order written"
    );
    assert_eq!(
        store.rejected_events(10).await.expect("rejected_events"),
        rejected[..1]
    );
    // Rejected again after a retry: the new reason.
    store
        .mark_rejected(&[(made[3].id.clone(), "rejected again".into())], at_1)
        .await
        .expect("mark_rejected after retry");
    assert_eq!(
        store.rejected_events(10).await.expect("rejected_events"),
        vec![
            rejected[0].clone(),
            (made[3].clone(), "rejected again".to_owned())
        ]
    );

    // Shipping a rejected event ships it: it is neither rejected nor pending any more.
    store
        .mark_shipped(&ids(&made[1..4]), at_1)
        .await
        .expect("mark_shipped");
    assert_eq!(
        store.rejected_events(10).await.expect("rejected_events"),
        vec![]
    );
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        vec![made[4].clone()]
    );
    store
        .retry_rejected(&ids(&made))
        .await
        .expect("retry shipped events");
    assert_eq!(
        stats(&store).await,
        StoreStats {
            audit_events: 5,
            audit_pending: 1,
            audit_rejected: 0,
            ..StoreStats::default()
        },
        "retrying shipped events changes nothing"
    );
}

/// Events are written all or nothing: a batch that repeats an id already in the outbox (or
/// within itself) is an error and writes none of its events.
pub async fn check_outbox_is_all_or_nothing(store: Arc<dyn FixtureStore>) {
    let first = event(
        "acct_1",
        AuditAction::PromptRefused,
        SubjectKind::Plan,
        "plan_1",
        None,
    );
    store
        .append_events(std::slice::from_ref(&first))
        .await
        .expect("append_events");
    let fresh = event(
        "acct_1",
        AuditAction::PromptRefused,
        SubjectKind::Plan,
        "plan_1",
        None,
    );
    assert!(
        store
            .append_events(&[fresh.clone(), first.clone()])
            .await
            .is_err(),
        "an event id already in the outbox must be refused"
    );
    assert!(
        store
            .append_events(&[fresh.clone(), fresh.clone()])
            .await
            .is_err(),
        "an event id given twice must be refused"
    );
    assert_eq!(
        all_events(&store).await,
        vec![first],
        "nothing of a refused batch"
    );
    assert_eq!(stats(&store).await.audit_events, 1);
}

/// `events_for`: the events about a subject and those correlated with them (a subscription's
/// trail includes its invoices' events), in the order written, within one account.
pub async fn check_events_for(store: Arc<dyn FixtureStore>) {
    let invoice_1 = "in_sub_1_20260115";
    use AuditAction as A;
    use SubjectKind as K;
    let rows = [
        (
            "acct_e",
            A::SubscriptionCreated,
            K::Subscription,
            "sub_1",
            Some("c1"),
        ),
        (
            "acct_e",
            A::InvoiceIssued,
            K::Invoice,
            invoice_1,
            Some("c1"),
        ),
        (
            "acct_e",
            A::SubscriptionCreated,
            K::Subscription,
            "sub_2",
            Some("c3"),
        ),
        ("acct_e", A::TaxComputed, K::Invoice, invoice_1, Some("c1")),
        (
            "acct_f",
            A::SubscriptionCreated,
            K::Subscription,
            "sub_1",
            Some("c1"),
        ),
        (
            "acct_e",
            A::InvoiceIssued,
            K::Invoice,
            "in_sub_2_20260115",
            Some("c3"),
        ),
        (
            "acct_e",
            A::QuantityChanged,
            K::Subscription,
            "sub_1",
            Some("c2"),
        ),
        ("acct_e", A::PlanChanged, K::Plan, "plan_1", None),
        ("acct_e", A::RenewalFailed, K::Subscription, "sub_1", None),
        (
            "acct_f",
            A::InvoiceIssued,
            K::Invoice,
            "in_sub_9",
            Some("c2"),
        ),
    ];
    let events: Vec<AuditEvent> = rows
        .iter()
        .map(|&(account_id, action, kind, subject, correlation)| {
            event(account_id, action, kind, subject, correlation)
        })
        .collect();
    store
        .append_events(&events[..4])
        .await
        .expect("append_events");
    store
        .append_events(&events[4..])
        .await
        .expect("append_events");
    let pick = |indexes: &[usize]| {
        indexes
            .iter()
            .map(|&i| events[i].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        store
            .events_for("acct_e", "sub_1")
            .await
            .expect("events_for"),
        pick(&[0, 1, 3, 6, 8]),
        "a subscription's trail: its events and its operations' invoice events, in order"
    );
    assert_eq!(
        store
            .events_for("acct_e", invoice_1)
            .await
            .expect("events_for"),
        pick(&[0, 1, 3]),
        "an invoice's trail: its events and those of the operation that issued it"
    );
    assert_eq!(
        store
            .events_for("acct_f", "sub_1")
            .await
            .expect("events_for"),
        pick(&[4]),
        "trails are scoped by account"
    );
    assert_eq!(
        store
            .events_for("acct_e", "plan_1")
            .await
            .expect("events_for"),
        pick(&[7])
    );
    assert_eq!(
        store
            .events_for("acct_e", "sub_none")
            .await
            .expect("events_for"),
        vec![]
    );
}

/// Every field of an event round-trips: the data's JSON exactly (decimal strings, nested objects,
/// unicode, escapes), the time to the microsecond, run and correlation ids present or absent.
pub async fn check_event_round_trip(store: Arc<dyn FixtureStore>) {
    let data = json!({
        "subtotal": "92233720368547.75",
        "rate": "0.0725",
        "city_rate": "0.01",
        "currency": "USD",
        "count": 7,
        "negative": -3,
        "big": 9_223_372_036_854_775_807_i64,
        "flag": true,
        "nothing": null,
        "nested": {
            "lines": [
                {"description": "Base charge — ü 📦", "amount": "5.00"},
                {"description": "Usage \"quoted\"\nnext line", "amount": "0.10"}
            ],
            "empty": {},
            "list": []
        }
    });
    let rich = AuditEvent {
        time: at("2026-03-08T06:59:59.123456Z"),
        ..event(
            "acct_ü",
            AuditAction::InvoiceIssued,
            SubjectKind::Invoice,
            "in_sub_ü_1_20260308",
            Some("corr_ü"),
        )
        .with_data(data.clone())
    };
    let plain = AuditEvent {
        time: at("1999-12-31T23:59:59.000001Z"),
        ..event(
            "acct_ü",
            AuditAction::PromptRefused,
            SubjectKind::Plan,
            "plan_1",
            None,
        )
    };
    assert_eq!(plain.run_id, None);
    store
        .append_events(&[rich.clone(), plain.clone()])
        .await
        .expect("append_events");
    let read = all_events(&store).await;
    assert_eq!(
        read,
        vec![rich.clone(), plain.clone()],
        "events round-trip exactly"
    );
    assert_eq!(read[0].data, data, "the data's JSON round-trips exactly");
    assert_eq!(read[0].time, rich.time, "the time to the microsecond");
    assert_eq!(read[1].data, json!({}), "empty data stays an empty object");
    assert_eq!(
        store
            .events_for("acct_ü", "in_sub_ü_1_20260308")
            .await
            .expect("events_for"),
        vec![rich]
    );
}
