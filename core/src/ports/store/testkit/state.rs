//! Checks of the subscriptions and invoices in [`crate::store::BillingState`]: creation, commits
//! and their compare-and-set, due lists, invoices, a billing run's page, and the counts.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::fixtures::{
    account, add_months, all_events, at, currency, customer, date, event, expect_conflict,
    expect_invalid, invoice, invoice_event, invoices_of, money, next_state, quantity,
    read_subscription, setup, stats, subscription, subscription_event, to_json,
};
use crate::audit::{AuditAction, SubjectKind};
use crate::error::{Error, Result};
use crate::store::{
    CommitOutcome, DueQuery, FixtureStore, InvoiceQuery, NewSubscription, StoreStats,
    SubscriptionCommit,
};
use crate::subscription::{Subscription, SubscriptionStatus};

/// `insert_subscription`: with and without a first invoice, every field kept, and a duplicate
/// id or an existing invoice refused with nothing written.
pub async fn check_insert_subscription(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    let base = stats(&store).await;
    let sub = subscription("acct_1", "sub_1", "cus_1", Some(at("2026-02-15T05:00:00Z")));
    let first = invoice(&sub, date(2026, 1, 15), currency("USD"), false);
    let created = subscription_event(&sub, "corr_1");
    let issued = invoice_event(&first, "corr_1");
    store
        .insert_subscription(&NewSubscription {
            subscription: sub.clone(),
            invoice: Some(first.clone()),
            events: vec![created.clone(), issued.clone()],
            idempotency: None,
        })
        .await
        .expect("insert_subscription with its first invoice");
    assert_eq!(read_subscription(&store, "acct_1", "sub_1").await, sub);
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_1").await,
        vec![first.clone()]
    );

    let mut ended = subscription("acct_1", "sub_ü_1", "cus_1", None);
    ended.status = SubscriptionStatus::Ended;
    ended.quantity = quantity(100_000);
    ended.start_date = date(2024, 2, 29);
    ended.current_period = 24;
    ended.current_period_start = date(2026, 1, 29);
    ended.current_period_end = date(2026, 2, 28);
    ended.next_invoice_period = 25;
    ended.revision = 7;
    ended.updated_at = at("2026-02-28T23:59:59.999999Z");
    store
        .insert_subscription(&NewSubscription {
            subscription: ended.clone(),
            invoice: None,
            events: vec![],
            idempotency: None,
        })
        .await
        .expect("insert_subscription without an invoice");
    let read = read_subscription(&store, "acct_1", "sub_ü_1").await;
    assert_eq!(
        read, ended,
        "every field round-trips (Ended, no next invoice)"
    );
    assert_eq!(read.next_invoice_at, None);
    assert_eq!(
        read.updated_at, ended.updated_at,
        "instants to the microsecond"
    );
    assert_eq!(
        stats(&store).await,
        StoreStats {
            subscriptions: 2,
            invoices: 1,
            audit_events: base.audit_events + 2,
            audit_pending: base.audit_pending + 2,
            audit_rejected: 0,
        }
    );
    assert_eq!(
        store
            .subscription("acct_2", "sub_1")
            .await
            .expect("subscription"),
        None,
        "subscriptions are scoped by account"
    );

    let before = stats(&store).await;
    let events_before = all_events(&store).await;
    let mut duplicate = subscription("acct_1", "sub_1", "cus_1", None);
    duplicate.quantity = quantity(9);
    let other_period = invoice(&duplicate, date(2026, 3, 15), currency("USD"), false);
    expect_conflict(
        store
            .insert_subscription(&NewSubscription {
                subscription: duplicate.clone(),
                invoice: Some(other_period.clone()),
                events: vec![subscription_event(&duplicate, "corr_2")],
                idempotency: None,
            })
            .await,
        "subscription.id",
        "",
        "insert_subscription with an existing id",
    );
    assert_eq!(stats(&store).await, before, "a duplicate id writes nothing");
    assert_eq!(all_events(&store).await, events_before, "and no event");
    assert_eq!(read_subscription(&store, "acct_1", "sub_1").await, sub);
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_1").await,
        vec![first.clone()]
    );

    let newcomer = subscription("acct_1", "sub_2", "cus_1", None);
    let mut clash = first.clone();
    clash.quantity = 42;
    expect_conflict(
        store
            .insert_subscription(&NewSubscription {
                subscription: newcomer.clone(),
                invoice: Some(clash),
                events: vec![subscription_event(&newcomer, "corr_3")],
                idempotency: None,
            })
            .await,
        "invoice",
        "",
        "insert_subscription with an invoice for a period already invoiced",
    );
    assert_eq!(
        stats(&store).await,
        before,
        "an existing invoice writes nothing"
    );
    assert_eq!(all_events(&store).await, events_before, "and no event");
    assert_eq!(
        store
            .subscription("acct_1", "sub_2")
            .await
            .expect("subscription"),
        None
    );
    assert_eq!(invoices_of(&store, "acct_1", "sub_1").await, vec![first]);
}

/// `commit`: compare-and-set on the revision, one invoice per period, and nothing written
/// unless the outcome is [`CommitOutcome::Committed`].
pub async fn check_commit(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    let sub = subscription(
        "acct_1",
        "sub_ü_1",
        "cus_1",
        Some(at("2026-02-15T05:00:00Z")),
    );
    let first = invoice(&sub, date(2026, 1, 15), currency("USD"), false);
    store
        .insert_subscription(&NewSubscription {
            subscription: sub.clone(),
            invoice: Some(first.clone()),
            events: vec![subscription_event(&sub, "corr_1")],
            idempotency: None,
        })
        .await
        .expect("insert_subscription");

    let mut renewed = next_state(&sub);
    renewed.current_period = 2;
    renewed.current_period_start = date(2026, 2, 15);
    renewed.current_period_end = date(2026, 3, 15);
    renewed.next_invoice_period = 3;
    renewed.next_invoice_at = Some(at("2026-03-15T04:00:00.000001Z"));
    let second = invoice(&sub, date(2026, 2, 15), currency("USD"), true);
    let renewal_events = vec![
        invoice_event(&second, "corr_2"),
        event(
            "acct_1",
            AuditAction::TaxComputed,
            SubjectKind::Invoice,
            &second.id,
            Some("corr_2"),
        ),
    ];
    let before = stats(&store).await;
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 1,
            subscription: renewed.clone(),
            invoice: Some(second.clone()),
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events: renewal_events.clone(),
            idempotency: None,
        })
        .await
        .expect("commit");
    assert_eq!(
        outcome,
        CommitOutcome::Committed,
        "a commit over the current revision is Committed"
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_ü_1").await,
        renewed
    );
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_ü_1").await,
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        stats(&store).await,
        StoreStats {
            invoices: before.invoices + 1,
            audit_events: before.audit_events + 2,
            audit_pending: before.audit_pending + 2,
            ..before
        }
    );

    let unchanged = |store: Arc<dyn FixtureStore>, what: &'static str| {
        let expected_sub = renewed.clone();
        let expected_invoices = vec![first.clone(), second.clone()];
        async move {
            let after = stats(&store).await;
            let events = all_events(&store).await;
            assert_eq!(
                read_subscription(&store, "acct_1", "sub_ü_1").await,
                expected_sub,
                "{what}: the subscription must not change"
            );
            assert_eq!(
                invoices_of(&store, "acct_1", "sub_ü_1").await,
                expected_invoices,
                "{what}: no invoice may be written"
            );
            (after, events)
        }
    };
    let (reference, reference_events) = unchanged(store.clone(), "after the commit").await;

    // Stale: computed from revision 1 again.
    let mut late = next_state(&sub);
    late.quantity = quantity(50);
    let third = invoice(&late, date(2026, 3, 15), currency("USD"), false);
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 1,
            subscription: late.clone(),
            invoice: Some(third.clone()),
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events: vec![invoice_event(&third, "corr_3")],
            idempotency: None,
        })
        .await
        .expect("commit over a stale revision");
    assert_eq!(
        outcome,
        CommitOutcome::Stale,
        "a commit over an old revision is Stale"
    );
    let (after, events) = unchanged(store.clone(), "a stale commit").await;
    assert_eq!(after, reference, "a stale commit writes nothing");
    assert_eq!(events, reference_events, "a stale commit writes no event");

    // Stale: the subscription does not exist.
    let ghost = next_state(&subscription("acct_1", "sub_ghost", "cus_1", None));
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 1,
            subscription: ghost.clone(),
            invoice: Some(invoice(&ghost, date(2026, 1, 15), currency("USD"), false)),
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events: vec![subscription_event(&ghost, "corr_4")],
            idempotency: None,
        })
        .await
        .expect("commit of a missing subscription");
    assert_eq!(
        outcome,
        CommitOutcome::Stale,
        "a commit of a missing subscription is Stale"
    );
    let (after, events) = unchanged(store.clone(), "a commit of a missing subscription").await;
    assert_eq!(after, reference);
    assert_eq!(events, reference_events);
    assert_eq!(
        store
            .subscription("acct_1", "sub_ghost")
            .await
            .expect("subscription"),
        None
    );

    // InvoiceExists: the period of `second` again, over the right revision.
    let mut again = next_state(&renewed);
    again.next_invoice_period = 9;
    let mut duplicate = second.clone();
    duplicate.quantity = 77;
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 2,
            subscription: again.clone(),
            invoice: Some(duplicate.clone()),
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events: vec![invoice_event(&duplicate, "corr_5")],
            idempotency: None,
        })
        .await
        .expect("commit of an invoiced period");
    assert_eq!(
        outcome,
        CommitOutcome::InvoiceExists,
        "a commit of an invoiced period is InvoiceExists"
    );
    let (after, events) = unchanged(store.clone(), "an InvoiceExists commit").await;
    assert_eq!(after, reference, "an InvoiceExists commit writes nothing");
    assert_eq!(
        events, reference_events,
        "an InvoiceExists commit writes no event"
    );

    // The new state's revision must be expected + 1.
    let mut skipping = again.clone();
    skipping.revision = 4;
    expect_invalid(
        store
            .commit(&SubscriptionCommit {
                expected_revision: 2,
                subscription: skipping,
                invoice: None,
                invoice_status: Vec::new(),
                credit_notes: Vec::new(),
                events: vec![],
                idempotency: None,
            })
            .await,
        "subscription.revision",
        "",
        "a commit whose revision is not expected + 1",
    );
    let mut same = again.clone();
    same.revision = 2;
    expect_invalid(
        store
            .commit(&SubscriptionCommit {
                expected_revision: 2,
                subscription: same,
                invoice: None,
                invoice_status: Vec::new(),
                credit_notes: Vec::new(),
                events: vec![],
                idempotency: None,
            })
            .await,
        "subscription.revision",
        "",
        "a commit that keeps the revision",
    );
    let (after, events) = unchanged(store.clone(), "a refused revision").await;
    assert_eq!(after, reference);
    assert_eq!(events, reference_events);

    // A change without an invoice (a quantity change) is committed on its own.
    let mut quantity = next_state(&renewed);
    quantity.quantity = self::quantity(12);
    let changed = event(
        "acct_1",
        AuditAction::QuantityChanged,
        SubjectKind::Subscription,
        "sub_ü_1",
        Some("corr_6"),
    )
    .with_data(json!({ "from": 4, "to": 12 }));
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 2,
            subscription: quantity.clone(),
            invoice: None,
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events: vec![changed.clone()],
            idempotency: None,
        })
        .await
        .expect("commit without an invoice");
    assert_eq!(
        outcome,
        CommitOutcome::Committed,
        "a commit without an invoice is Committed"
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_ü_1").await,
        quantity
    );
    let mut expected_events = reference_events;
    expected_events.push(changed);
    assert_eq!(all_events(&store).await, expected_events);
    assert_eq!(stats(&store).await.invoices, reference.invoices);
}

/// Eight writers commit different invoices over the same revision at once: exactly one wins,
/// the others are [`CommitOutcome::Stale`], and exactly one invoice and one set of events are
/// written. Races for real only on a multi-thread runtime.
pub async fn check_concurrent_commits(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    let sub = subscription("acct_1", "sub_1", "cus_1", Some(at("2026-02-15T05:00:00Z")));
    store
        .insert_subscription(&NewSubscription {
            subscription: sub.clone(),
            invoice: None,
            events: vec![],
            idempotency: None,
        })
        .await
        .expect("insert_subscription");
    let before = stats(&store).await;
    let mut tasks = Vec::new();
    for writer in 0..8u32 {
        let store = Arc::clone(&store);
        let mut next = next_state(&sub);
        next.quantity = quantity(10 + writer);
        let issued = invoice(
            &next,
            add_months(date(2026, 2, 15), writer),
            currency("USD"),
            false,
        );
        let events = vec![invoice_event(&issued, &format!("corr_{writer}"))];
        let request = SubscriptionCommit {
            expected_revision: 1,
            subscription: next,
            invoice: Some(issued),
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events,
            idempotency: None,
        };
        tasks.push(tokio::spawn(async move {
            let outcome = store.commit(&request).await;
            (request, outcome)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (request, outcome) = task.await.expect("a committing task panicked");
        match outcome.expect("a concurrent commit failed") {
            CommitOutcome::Committed => winners.push(request),
            // Not written: the revision moved on, or the row was held at that moment.
            CommitOutcome::Stale | CommitOutcome::Busy => {}
            CommitOutcome::InvoiceExists => {
                panic!("the writers bill different periods: InvoiceExists is wrong here")
            }
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one of eight commits over the same revision must win"
    );
    let winner = &winners[0];
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_1").await,
        winner.subscription,
        "the stored state is the winner's"
    );
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_1").await,
        vec![winner.invoice.clone().expect("an invoice")],
        "exactly the winner's invoice is stored"
    );
    assert_eq!(all_events(&store).await[3..], winner.events[..]);
    assert_eq!(
        stats(&store).await,
        StoreStats {
            invoices: before.invoices + 1,
            audit_events: before.audit_events + 1,
            audit_pending: before.audit_pending + 1,
            ..before
        }
    );
}

/// `due_subscriptions`: active ones due at or before `due_by` (inclusive, to the microsecond),
/// ordered by (account id, subscription id) in byte order across accounts, paged with `after`.
pub async fn check_due_subscriptions(store: Arc<dyn FixtureStore>) {
    let due_by = at("2026-03-01T05:00:00.000001Z");
    let micro = chrono::Duration::microseconds(1);
    let day = chrono::Duration::days(1);
    for account_id in ["acct_a", "acct_B", "acct_ü"] {
        store
            .put_account(&account(account_id, Tz::UTC, false), &[])
            .await
            .expect("put_account");
        store
            .put_customer(&customer(account_id, "cus_1"), &[])
            .await
            .expect("put_customer");
    }
    let mut ended = subscription("acct_a", "sub_ended", "cus_1", Some(due_by - day));
    ended.status = SubscriptionStatus::Ended;
    let mut ended_none = subscription("acct_a", "sub_ended_none", "cus_1", None);
    ended_none.status = SubscriptionStatus::Ended;
    let rows = vec![
        subscription("acct_a", "sub_1", "cus_1", Some(due_by - day)),
        subscription("acct_a", "sub_B", "cus_1", Some(due_by)),
        subscription("acct_a", "sub_a", "cus_1", Some(due_by + micro)),
        subscription("acct_a", "sub_ü_1", "cus_1", Some(due_by - day * 10)),
        ended,
        ended_none,
        subscription("acct_a", "sub_none", "cus_1", None),
        subscription("acct_B", "sub_1", "cus_1", Some(due_by - day * 5)),
        subscription(
            "acct_ü",
            "sub_z",
            "cus_1",
            Some(due_by - chrono::Duration::hours(1)),
        ),
    ];
    // Written out of order, so the order read cannot be the order written.
    for sub in rows.iter().rev() {
        store
            .insert_subscription(&NewSubscription {
                subscription: sub.clone(),
                invoice: None,
                events: vec![],
                idempotency: None,
            })
            .await
            .expect("insert_subscription");
    }
    let find = |account_id: &str, id: &str| {
        rows.iter()
            .find(|sub| sub.account_id == account_id && sub.id == id)
            .cloned()
            .expect("a fixture subscription")
    };
    let due = |due_by: DateTime<Utc>, after: Option<(&str, &str)>, limit: u32| {
        let store = Arc::clone(&store);
        let query = DueQuery {
            due_by,
            after: after.map(|(account, id)| (account.to_owned(), id.to_owned())),
            limit,
        };
        async move {
            store
                .due_subscriptions(&query)
                .await
                .expect("due_subscriptions")
        }
    };
    let everything = vec![
        find("acct_B", "sub_1"),
        find("acct_a", "sub_1"),
        find("acct_a", "sub_B"),
        find("acct_a", "sub_ü_1"),
        find("acct_ü", "sub_z"),
    ];
    assert_eq!(
        due(due_by, None, 100).await,
        everything,
        "due at or before due_by (inclusive), active only, in (account, id) byte order"
    );
    assert_eq!(due(due_by, None, 0).await, vec![], "limit 0 is nothing");
    assert_eq!(due(due_by, None, 2).await, everything[..2]);
    assert_eq!(
        due(due_by, Some(("acct_a", "sub_1")), 2).await,
        everything[2..4],
        "the next page starts strictly after `after`"
    );
    assert_eq!(
        due(due_by, Some(("acct_a", "sub_ü_1")), 2).await,
        everything[4..]
    );
    assert_eq!(due(due_by, Some(("acct_ü", "sub_z")), 2).await, vec![]);
    assert_eq!(
        due(due_by, Some(("acct_a", "sub_C")), 10).await,
        everything[3..],
        "`after` need not be a subscription that exists"
    );
    assert_eq!(
        due(due_by - micro, None, 100).await,
        vec![
            find("acct_B", "sub_1"),
            find("acct_a", "sub_1"),
            find("acct_a", "sub_ü_1"),
            find("acct_ü", "sub_z"),
        ],
        "one microsecond before a subscription's time it is not due"
    );
    assert_eq!(
        due(due_by - day, None, 100).await,
        vec![
            find("acct_B", "sub_1"),
            find("acct_a", "sub_1"),
            find("acct_a", "sub_ü_1"),
        ]
    );
    assert_eq!(
        due(due_by + micro, None, 100).await.len(),
        6,
        "at its time a subscription is due"
    );
}

/// `invoices`: every field kept exactly (amounts near `i64::MAX / 1000`, decimal tax rates,
/// inclusive and exclusive tax, a JPY invoice, the revenue schedule), ordered by (account,
/// subscription, period start), filtered and limited.
pub async fn check_invoices(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_a").await;
    setup(&store, "acct_B").await;
    let usd = currency("USD");
    let sub_1 = subscription("acct_a", "sub_1", "cus_1", None);
    let sub_u = subscription("acct_a", "sub_ü_1", "cus_1", None);
    let jpy_sub = subscription("acct_B", "sub_1", "cus_1", None);
    let a1 = invoice(&sub_1, date(2026, 1, 15), usd, false);
    let u1 = invoice(&sub_u, date(2026, 1, 15), usd, true);
    let jpy = invoice(&jpy_sub, date(2026, 1, 31), currency("JPY"), false);
    assert_eq!(jpy.invoice.revenue_schedule.len(), 2);
    for (sub, first) in [(&sub_u, &u1), (&sub_1, &a1), (&jpy_sub, &jpy)] {
        store
            .insert_subscription(&NewSubscription {
                subscription: sub.clone(),
                invoice: Some(first.clone()),
                events: vec![],
                idempotency: None,
            })
            .await
            .expect("insert_subscription");
    }
    // Renewals of sub_ü_1 written out of period order.
    let mut state = sub_u.clone();
    let mut u3 = None;
    let mut u2 = None;
    for (months, inclusive) in [(2, false), (1, true)] {
        let next = next_state(&state);
        let mut issued = invoice(&next, add_months(date(2026, 1, 15), months), usd, inclusive);
        issued.plan_version = 2;
        issued.created_at += chrono::Duration::microseconds(i64::from(months));
        let outcome = store
            .commit(&SubscriptionCommit {
                expected_revision: state.revision,
                subscription: next.clone(),
                invoice: Some(issued.clone()),
                invoice_status: Vec::new(),
                credit_notes: Vec::new(),
                events: vec![],
                idempotency: None,
            })
            .await
            .expect("commit");
        assert_eq!(
            outcome,
            CommitOutcome::Committed,
            "a renewal over the current revision is Committed"
        );
        state = next;
        if months == 2 {
            u3 = Some(issued);
        } else {
            u2 = Some(issued);
        }
    }
    let (u2, u3) = (u2.expect("u2"), u3.expect("u3"));
    let list = |account_id: Option<&str>, subscription_id: Option<&str>, limit: Option<u32>| {
        let store = Arc::clone(&store);
        let query = InvoiceQuery {
            account_id: account_id.map(str::to_owned),
            subscription_id: subscription_id.map(str::to_owned),
            limit,
            ..Default::default()
        };
        async move { store.invoices(&query).await.expect("invoices") }
    };
    let everything = vec![jpy, a1.clone(), u1.clone(), u2.clone(), u3.clone()];
    let read = list(None, None, None).await;
    assert_eq!(
        read, everything,
        "every invoice, exactly as written, by (account, subscription, period start)"
    );
    assert_eq!(
        to_json(&read),
        to_json(&everything),
        "invoices' JSON (amounts, tax rates as decimal text) round-trips exactly"
    );
    assert_eq!(list(None, None, Some(2)).await, everything[..2]);
    assert_eq!(list(None, None, Some(0)).await, vec![]);
    assert_eq!(list(Some("acct_a"), None, None).await, everything[1..]);
    assert_eq!(
        list(Some("acct_a"), Some("sub_ü_1"), None).await,
        vec![u1, u2.clone(), u3]
    );
    assert_eq!(list(Some("acct_a"), Some("sub_ü_1"), Some(2)).await[1], u2);
    assert_eq!(
        list(Some("acct_B"), Some("sub_1"), None).await,
        everything[..1]
    );
    assert_eq!(list(Some("acct_a"), Some("sub_1"), None).await, vec![a1]);
    assert_eq!(list(Some("acct_missing"), None, None).await, vec![]);
    assert_eq!(stats(&store).await.invoices, 5);
}

/// `stats` counts exactly: subscriptions and invoices of all accounts, events and pending ones.
pub async fn check_stats(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    setup(&store, "acct_2").await;
    for (account_id, id) in [
        ("acct_1", "sub_1"),
        ("acct_2", "sub_1"),
        ("acct_2", "sub_2"),
    ] {
        let sub = subscription(account_id, id, "cus_1", Some(at("2026-02-15T05:00:00Z")));
        let first =
            (id == "sub_1").then(|| invoice(&sub, date(2026, 1, 15), currency("USD"), false));
        let mut events = vec![subscription_event(&sub, id)];
        events.extend(first.iter().map(|issued| invoice_event(issued, id)));
        store
            .insert_subscription(&NewSubscription {
                subscription: sub,
                invoice: first,
                events,
                idempotency: None,
            })
            .await
            .expect("insert_subscription");
    }
    assert_eq!(
        stats(&store).await,
        StoreStats {
            subscriptions: 3,
            invoices: 2,
            audit_events: 3 + 3 + 5,
            audit_pending: 11,
            audit_rejected: 0,
        }
    );
    let oldest: Vec<String> = store
        .pending_events(4)
        .await
        .expect("pending_events")
        .into_iter()
        .map(|event| event.id)
        .collect();
    store
        .mark_shipped(&oldest, at("2026-01-16T00:00:00Z"))
        .await
        .expect("mark_shipped");
    assert_eq!(
        stats(&store).await,
        StoreStats {
            subscriptions: 3,
            invoices: 2,
            audit_events: 11,
            audit_pending: 7,
            audit_rejected: 0,
        }
    );
}

/// `claim_due` lists what `due_subscriptions` lists; `commit_claimed` writes each request as
/// `commit` would (a subscription's periods in order, each over the state written before it), a
/// stale request or a billed period writes nothing of itself or of what follows it for the same
/// subscription, and the others are written whole; a dropped claim writes nothing.
pub async fn check_commit_claimed(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    let due_at = at("2026-02-15T05:00:00Z");
    let mut subs = Vec::new();
    for id in ["sub_a", "sub_b", "sub_c", "sub_d"] {
        let sub = subscription("acct_1", id, "cus_1", Some(due_at));
        store
            .insert_subscription(&NewSubscription {
                subscription: sub.clone(),
                invoice: None,
                events: vec![subscription_event(&sub, &format!("corr_{id}"))],
                idempotency: None,
            })
            .await
            .expect("insert_subscription");
        subs.push(sub);
    }
    let query = DueQuery {
        due_by: due_at,
        after: None,
        limit: 10,
    };
    let listed = store.due_subscriptions(&query).await.expect("due");
    let page = store.claim_due(&query).await.expect("claim_due");
    assert_eq!(
        page.subscriptions, listed,
        "a claim lists the due subscriptions"
    );
    // Let the claim go now (dropping it lets its rows go only once its connection has rolled
    // back, a moment later).
    store
        .commit_claimed(page, &[])
        .await
        .expect("release the claim");
    let before = stats(&store).await;
    assert_eq!(before.invoices, 0);

    // A renewal of `sub` for the month from `start`, over `state`.
    let renewal = |state: &Subscription, start: NaiveDate, tag: &str| {
        let issued = invoice(state, start, currency("USD"), false);
        let mut next = next_state(state);
        next.next_invoice_period += 1;
        next.next_invoice_at = Some(at("2026-03-15T04:00:00Z"));
        SubscriptionCommit {
            expected_revision: state.revision,
            subscription: next,
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events: vec![invoice_event(&issued, tag)],
            invoice: Some(issued),
            idempotency: None,
        }
    };
    // sub_a: two periods in a row. sub_b: one, over a revision it no longer has (and its
    // second period, which must not be written either). sub_c: a period billed already, then
    // the next. sub_d: one period.
    let a1 = renewal(&subs[0], date(2026, 1, 15), "corr_a1");
    let a2 = renewal(&a1.subscription, date(2026, 2, 15), "corr_a2");
    let mut b_now = next_state(&subs[1]);
    b_now.quantity = quantity(9);
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 1,
            subscription: b_now.clone(),
            invoice: None,
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events: Vec::new(),
            idempotency: None,
        })
        .await
        .expect("commit sub_b");
    assert_eq!(outcome, CommitOutcome::Committed);
    let b1 = renewal(&subs[1], date(2026, 1, 15), "corr_b1");
    let b2 = renewal(&b1.subscription, date(2026, 2, 15), "corr_b2");
    let c0 = renewal(&subs[2], date(2026, 1, 15), "corr_c0");
    let outcome = store.commit(&c0).await.expect("commit sub_c");
    assert_eq!(outcome, CommitOutcome::Committed);
    // Over the state sub_c has now, but for the period billed already.
    let mut c1 = renewal(&c0.subscription, date(2026, 1, 15), "corr_c1");
    c1.events = vec![event(
        "acct_1",
        AuditAction::InvoiceIssued,
        SubjectKind::Invoice,
        "other",
        Some("corr_c1"),
    )];
    let c2 = renewal(&c1.subscription, date(2026, 2, 15), "corr_c2");
    let d1 = renewal(&subs[3], date(2026, 1, 15), "corr_d1");
    let requests = vec![a1.clone(), b1, c1, a2.clone(), b2, c2, d1.clone()];
    let before = stats(&store).await;
    let page = store.claim_due(&query).await.expect("claim_due");
    let outcomes = store
        .commit_claimed(page, &requests)
        .await
        .expect("commit_claimed");
    let outcomes: Vec<CommitOutcome> = outcomes
        .into_iter()
        .map(|o| o.expect("no request is refused"))
        .collect();
    assert_eq!(
        outcomes,
        [
            CommitOutcome::Committed,
            CommitOutcome::Stale,
            CommitOutcome::InvoiceExists,
            CommitOutcome::Committed,
            CommitOutcome::Stale,
            CommitOutcome::Stale,
            CommitOutcome::Committed,
        ],
        "commit_claimed outcomes"
    );
    let after = stats(&store).await;
    assert_eq!(
        after.invoices,
        before.invoices + 3,
        "a1, a2 and d1 are written"
    );
    assert_eq!(
        after.audit_events,
        before.audit_events + 3,
        "their events only"
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_a").await,
        a2.subscription
    );
    assert_eq!(read_subscription(&store, "acct_1", "sub_b").await, b_now);
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_c").await,
        c0.subscription
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_d").await,
        d1.subscription
    );
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_a").await,
        [a1.invoice.clone().unwrap(), a2.invoice.clone().unwrap()],
        "both periods of sub_a, whole"
    );
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_d").await,
        [d1.invoice.clone().unwrap()]
    );
    assert!(invoices_of(&store, "acct_1", "sub_b").await.is_empty());

    // A request refused on its own (its state skips a revision) writes nothing, nor what
    // follows it for the same subscription; the others are written.
    let mut bad = renewal(&d1.subscription, date(2026, 2, 15), "corr_d2");
    bad.subscription.revision += 1;
    let after_bad = renewal(&bad.subscription, date(2026, 3, 15), "corr_d3");
    let a3 = renewal(&a2.subscription, date(2026, 3, 15), "corr_a3");
    let page = store.claim_due(&query).await.expect("claim_due");
    let outcomes = store
        .commit_claimed(page, &[bad, after_bad, a3.clone()])
        .await
        .expect("commit_claimed");
    assert!(outcomes[0].is_err(), "{outcomes:?}");
    assert!(
        !matches!(outcomes[1], Ok(CommitOutcome::Committed)),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[2], Ok(CommitOutcome::Committed)),
        "{outcomes:?}"
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_d").await,
        d1.subscription
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_a").await,
        a3.subscription
    );
    let page = store.claim_due(&query).await.expect("claim_due");
    assert!(
        store
            .commit_claimed(page, &[])
            .await
            .expect("an empty page")
            .is_empty()
    );
}

/// Panics unless `result` is [`Error::CurrencyMismatch`] from `expected` to `found`.
fn expect_mismatch<T: std::fmt::Debug>(result: Result<T>, expected: &str, found: &str, what: &str) {
    match result {
        Err(Error::CurrencyMismatch {
            expected: is,
            found: was,
        }) => assert_eq!(
            (is.as_str(), was.as_str()),
            (expected, found),
            "{what}: the mismatch names the wrong currencies"
        ),
        other => panic!("{what}: expected CurrencyMismatch {expected} -> {found}, got {other:?}"),
    }
}

/// One currency per invoice: an invoice with an amount (a line, a tax line, a revenue entry) in
/// another currency than its own is [`Error::CurrencyMismatch`] from `insert_subscription`,
/// `commit` and `commit_claimed` alike, and nothing of that write is stored.
pub async fn check_invoice_currency(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    let eur = currency("EUR");
    let before = stats(&store).await;
    let events_before = all_events(&store).await;

    let sub = subscription("acct_1", "sub_1", "cus_1", Some(at("2026-02-15T05:00:00Z")));
    let mut mixed = invoice(&sub, date(2026, 1, 15), currency("USD"), false);
    mixed.invoice.line_items[1].amount = money(100, eur);
    expect_mismatch(
        store
            .insert_subscription(&NewSubscription {
                subscription: sub.clone(),
                invoice: Some(mixed),
                events: vec![subscription_event(&sub, "corr_1")],
                idempotency: None,
            })
            .await,
        "USD",
        "EUR",
        "insert_subscription with a line in another currency",
    );
    assert_eq!(
        stats(&store).await,
        before,
        "a mixed invoice writes nothing"
    );
    assert_eq!(all_events(&store).await, events_before, "and no event");
    assert_eq!(
        store
            .subscription("acct_1", "sub_1")
            .await
            .expect("subscription"),
        None,
        "nor the subscription it came with"
    );

    store
        .insert_subscription(&NewSubscription {
            subscription: sub.clone(),
            invoice: None,
            events: vec![subscription_event(&sub, "corr_2")],
            idempotency: None,
        })
        .await
        .expect("insert_subscription");
    let before = stats(&store).await;
    let events_before = all_events(&store).await;
    let next = next_state(&sub);
    let mut taxed = invoice(&next, date(2026, 2, 15), currency("USD"), false);
    taxed.invoice.tax_lines[0].amount = money(7, eur);
    expect_mismatch(
        store
            .commit(&SubscriptionCommit {
                expected_revision: sub.revision,
                subscription: next.clone(),
                invoice: Some(taxed.clone()),
                invoice_status: Vec::new(),
                credit_notes: Vec::new(),
                events: vec![invoice_event(&taxed, "corr_3")],
                idempotency: None,
            })
            .await,
        "USD",
        "EUR",
        "commit with a tax line in another currency",
    );
    let mut revenue = invoice(&next, date(2026, 2, 15), currency("USD"), false);
    revenue.invoice.revenue_schedule[0].amount = money(1, eur);
    let page = store
        .claim_due(&DueQuery {
            due_by: at("2026-02-15T05:00:00Z"),
            after: None,
            limit: 10,
        })
        .await
        .expect("claim_due");
    let outcomes = store
        .commit_claimed(
            page,
            &[SubscriptionCommit {
                expected_revision: sub.revision,
                subscription: next.clone(),
                invoice: Some(revenue.clone()),
                invoice_status: Vec::new(),
                credit_notes: Vec::new(),
                events: vec![invoice_event(&revenue, "corr_4")],
                idempotency: None,
            }],
        )
        .await
        .expect("commit_claimed");
    assert_eq!(outcomes.len(), 1, "one outcome per request");
    expect_mismatch(
        outcomes.into_iter().next().expect("an outcome"),
        "USD",
        "EUR",
        "commit_claimed with a revenue entry in another currency",
    );
    assert_eq!(
        stats(&store).await,
        before,
        "a mixed invoice writes nothing"
    );
    assert_eq!(all_events(&store).await, events_before, "and no event");
    assert_eq!(read_subscription(&store, "acct_1", "sub_1").await, sub);
    assert_eq!(invoices_of(&store, "acct_1", "sub_1").await, vec![]);
}
