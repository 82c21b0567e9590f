//! Checks of what issue 18 adds to [`crate::store::BillingState`]: a subscription's changes in
//! force and its `canceled` status kept with it, and credit notes written atomically with the
//! commit that issues them, refused as every store refuses them, and listed.

use std::sync::Arc;

use chrono::NaiveDate;

use super::fixtures::{
    all_events, at, currency, date, event, expect_conflict, expect_invalid, invoice, invoices_of,
    money, next_state, quantity, read_subscription, setup, stats, subscription, to_json,
};
use crate::audit::{AuditAction, AuditEvent, SubjectKind};
use crate::changes::{Changes, Increase, Pause, PlanSwitch, QuantityFrom, ScheduledEnd, Term};
use crate::credit_note::{Credit, CreditNote};
use crate::error::Error;
use crate::invoice::{IssuedInvoice, LineItem};
use crate::pricing::ChargeKind;
use crate::store::{
    CommitOutcome, CreditNoteQuery, DueQuery, FixtureStore, NewSubscription, SubscriptionCommit,
};
use crate::subscription::{Subscription, SubscriptionStatus};

/// Every kind of change at once: an end, a closed and an open pause, quantities by date, an
/// increase near `i64::MAX / 1000` with a description that needs escaping, the note counter.
fn every_change() -> Changes {
    Changes {
        end: Some(ScheduledEnd {
            on: date(2026, 6, 1),
            credit_unused: true,
        }),
        pauses: vec![
            Pause {
                from: date(2026, 3, 1),
                until: Some(date(2026, 3, 8)),
            },
            Pause {
                from: date(2026, 4, 20),
                until: None,
            },
        ],
        quantities: vec![
            QuantityFrom {
                from: date(2026, 1, 15),
                quantity: quantity(3),
            },
            QuantityFrom {
                from: date(2026, 2, 11),
                quantity: quantity(100_000),
            },
        ],
        increases: vec![Increase {
            basis: None,
            description: "Quantity 2 -> 3 from 2026-04-11, 20 of 30 days — ü \"x\\y\"".into(),
            amount_minor: 9_000_000_000_000_000,
            service_start: date(2026, 4, 11),
            service_end: date(2026, 5, 1),
        }],
        term: Some(Term {
            anchor: date(2026, 1, 31),
            offset: 1,
            starts_on: date(2026, 2, 10),
        }),
        switch: Some(PlanSwitch {
            plan_id: "plan_2".into(),
            term: Term::from_start(date(2026, 6, 1)),
            first_period_end: date(2026, 7, 1),
            first_due: date(2026, 6, 1),
        }),
        credit_notes: 7,
    }
}

/// A change about `subscription` (what the commit carrying a credit note audits).
fn change_event(subscription: &Subscription, correlation_id: &str) -> AuditEvent {
    event(
        &subscription.account_id,
        AuditAction::QuantityChanged,
        SubjectKind::Subscription,
        &subscription.id,
        Some(correlation_id),
    )
}

/// Credit note `number` against `invoice`: two lines (`cents` and 7 minor units), tax at the
/// invoice's rates (included when the invoice's were), revenue reversed over days that span two
/// months, a whole-microsecond instant.
fn credit_note(invoice: &IssuedInvoice, number: u32, cents: i64) -> CreditNote {
    let currency = invoice.invoice.currency;
    let start = invoice.invoice.period_start;
    CreditNote::against(
        invoice,
        Credit {
            number,
            issue_date: start + chrono::Duration::days(20),
            reason: "cancel".into(),
            lines: vec![
                LineItem::new(
                    "Base charge (month 1), 11 of 31 days unserved — ü",
                    ChargeKind::Recurring,
                    money(cents, currency),
                    None,
                ),
                LineItem::new(
                    "Usage (Shipment) minimum",
                    ChargeKind::Usage,
                    money(7, currency),
                    Some(crate::basis::LineBasis::Credit(crate::basis::CreditBasis {
                        invoice_id: invoice.id.clone(),
                        line: 2,
                        line_amount: invoice.invoice.line_items[1].amount.to_major(),
                        credited_before: rust_decimal::Decimal::new(1, 2),
                        credited: crate::basis::Credited::Share {
                            requested: rust_decimal::Decimal::new(1050, 2),
                            weight: rust_decimal::Decimal::new(300, 2),
                            total_weight: rust_decimal::Decimal::new(4500, 2),
                            remainder: rust_decimal::Decimal::new(1, 2),
                        },
                    })),
                ),
            ],
            service: (
                start + chrono::Duration::days(10),
                invoice.invoice.period_end,
            ),
        },
        at("2026-02-04T05:00:00.123456Z") + chrono::Duration::microseconds(i64::from(number)),
    )
    .expect("a fixture credit note")
}

async fn notes(
    store: &Arc<dyn FixtureStore>,
    account_id: &str,
    subscription_id: Option<&str>,
    limit: Option<u32>,
) -> Vec<CreditNote> {
    store
        .credit_notes(&CreditNoteQuery {
            account_id: account_id.to_owned(),
            subscription_id: subscription_id.map(str::to_owned),
            limit,
            ..Default::default()
        })
        .await
        .expect("credit_notes")
}

/// A subscription with its first invoice (the period from Jan 15), due Feb 15.
async fn with_first_invoice(
    store: &Arc<dyn FixtureStore>,
    account_id: &str,
    id: &str,
    inclusive: bool,
) -> (Subscription, IssuedInvoice) {
    let sub = subscription(account_id, id, "cus_1", Some(at("2026-02-15T05:00:00Z")));
    let first = invoice(&sub, date(2026, 1, 15), currency("USD"), inclusive);
    store
        .insert_subscription(&NewSubscription {
            subscription: sub.clone(),
            invoice: Some(first.clone()),
            events: vec![],
            idempotency: None,
        })
        .await
        .expect("insert_subscription");
    (sub, first)
}

/// A change of `state` that issues `notes` (and `invoice`, if any), its counter moved on.
fn crediting(
    state: &Subscription,
    invoice: Option<IssuedInvoice>,
    notes: Vec<CreditNote>,
    tag: &str,
) -> SubscriptionCommit {
    let mut next = next_state(state);
    next.changes.credit_notes += notes.len() as u32;
    SubscriptionCommit {
        expected_revision: state.revision,
        events: vec![change_event(&next, tag)],
        subscription: next,
        invoice,
        invoice_status: Vec::new(),
        credit_notes: notes,
        idempotency: None,
    }
}

/// A subscription's changes in force round-trip exactly through every way a subscription is
/// written (`insert_subscription`, `commit`, `commit_claimed`) and read (`subscription`,
/// `due_subscriptions`, `claim_due`); no changes read back as none; status `canceled`
/// round-trips and a canceled subscription is never due, whatever its `next_invoice_at`.
pub async fn check_subscription_changes(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    let due_at = at("2026-02-15T05:00:00Z");
    let mut changed = subscription("acct_1", "sub_changed", "cus_1", Some(due_at));
    changed.changes = every_change();
    let plain = subscription("acct_1", "sub_plain", "cus_1", Some(due_at));
    for sub in [&changed, &plain] {
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
    let read = read_subscription(&store, "acct_1", "sub_changed").await;
    assert_eq!(read, changed, "every change round-trips");
    assert_eq!(to_json(&read), to_json(&changed));
    let read = read_subscription(&store, "acct_1", "sub_plain").await;
    assert!(read.changes.is_empty(), "no changes read back as none");
    assert_eq!(read, plain);

    let query = DueQuery {
        due_by: due_at,
        after: None,
        limit: 10,
    };
    let due = store.due_subscriptions(&query).await.expect("due");
    assert_eq!(
        due,
        vec![changed.clone(), plain.clone()],
        "the due list carries the changes"
    );
    let page = store.claim_due(&query).await.expect("claim_due");
    assert_eq!(page.subscriptions, due, "a claim carries the changes");
    // Let the claim go now (dropping it lets its rows go only once its connection has rolled
    // back, a moment later).
    store
        .commit_claimed(page, &[])
        .await
        .expect("release the claim");

    // commit: changes gained, and changes cleared.
    let mut gained = next_state(&plain);
    gained.changes.end = Some(ScheduledEnd {
        on: date(2026, 2, 4),
        credit_unused: false,
    });
    let mut cleared = next_state(&changed);
    cleared.changes = Changes::default();
    for next in [&gained, &cleared] {
        let request = SubscriptionCommit {
            expected_revision: next.revision - 1,
            subscription: next.clone(),
            invoice: None,
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events: vec![],
            idempotency: None,
        };
        let outcome = store.commit(&request).await.expect("commit");
        assert_eq!(outcome, CommitOutcome::Committed);
        assert_eq!(
            read_subscription(&store, "acct_1", &next.id).await,
            *next,
            "commit writes the changes"
        );
    }

    // commit_claimed (a billing run's page): the changes of each new state.
    let mut paused = next_state(&gained);
    paused.changes.pauses = every_change().pauses;
    let mut back = next_state(&cleared);
    back.changes = every_change();
    let page = store.claim_due(&query).await.expect("claim_due");
    let requests: Vec<SubscriptionCommit> = [&back, &paused]
        .into_iter()
        .map(|next| SubscriptionCommit {
            expected_revision: next.revision - 1,
            subscription: next.clone(),
            invoice: None,
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events: vec![],
            idempotency: None,
        })
        .collect();
    let outcomes = store
        .commit_claimed(page, &requests)
        .await
        .expect("commit_claimed");
    assert!(
        outcomes
            .iter()
            .all(|outcome| matches!(outcome, Ok(CommitOutcome::Committed))),
        "{outcomes:?}"
    );
    for next in [&back, &paused] {
        assert_eq!(
            read_subscription(&store, "acct_1", &next.id).await,
            *next,
            "commit_claimed writes the changes"
        );
    }

    // Canceled: by a commit (its next_invoice_at left set) and written so from the start.
    let mut canceled = next_state(&paused);
    canceled.status = SubscriptionStatus::Canceled;
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: paused.revision,
            subscription: canceled.clone(),
            invoice: None,
            invoice_status: Vec::new(),
            credit_notes: Vec::new(),
            events: vec![],
            idempotency: None,
        })
        .await
        .expect("commit a cancellation");
    assert_eq!(outcome, CommitOutcome::Committed);
    let mut born_canceled = subscription("acct_1", "sub_canceled", "cus_1", Some(due_at));
    born_canceled.status = SubscriptionStatus::Canceled;
    store
        .insert_subscription(&NewSubscription {
            subscription: born_canceled.clone(),
            invoice: None,
            events: vec![],
            idempotency: None,
        })
        .await
        .expect("insert a canceled subscription");
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_plain").await,
        canceled,
        "status canceled round-trips"
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_canceled").await,
        born_canceled
    );
    let late = DueQuery {
        due_by: at("2027-01-01T00:00:00Z"),
        ..query
    };
    assert_eq!(
        store.due_subscriptions(&late).await.expect("due"),
        vec![back.clone()],
        "a canceled subscription is never due"
    );
    let page = store.claim_due(&late).await.expect("claim_due");
    assert_eq!(page.subscriptions, vec![back], "nor claimed");
}

/// Credit notes: a commit that issues one writes it with its subscription, invoice and events,
/// and it reads back whole (lines, tax lines, reversed revenue, every field); a stale commit, an
/// `InvoiceExists` commit, and a refused note write nothing at all; a note whose invoice is not
/// its subscription's is `InvalidInput` on `credit_note.invoice_id`, one in another currency
/// `CurrencyMismatch`, a number used already (or twice in the commit) `Conflict` on
/// `credit_note.id`; the listing is an account's or a subscription's, by (subscription id,
/// number), limited.
pub async fn check_credit_notes(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    setup(&store, "acct_2").await;
    let (sub_a, inv_a) = with_first_invoice(&store, "acct_1", "sub_a", false).await;
    let (sub_b, inv_b) = with_first_invoice(&store, "acct_1", "sub_b", true).await;
    let (other, inv_other) = with_first_invoice(&store, "acct_2", "sub_a", false).await;
    assert!(notes(&store, "acct_1", None, None).await.is_empty());

    let a1 = credit_note(&inv_a, 1, 1100);
    assert_eq!(a1.revenue_reversed.len(), 2, "the fixture spans two months");
    let first = crediting(&sub_a, None, vec![a1.clone()], "corr_a1");
    let events_before = all_events(&store).await;
    let outcome = store
        .commit(&first)
        .await
        .expect("commit with a credit note");
    assert_eq!(outcome, CommitOutcome::Committed);
    let listed = notes(&store, "acct_1", Some("sub_a"), None).await;
    assert_eq!(listed, vec![a1.clone()], "the credit note, every field");
    assert_eq!(to_json(&listed), to_json(&vec![a1.clone()]));
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_a").await,
        first.subscription
    );
    assert_eq!(
        all_events(&store).await[events_before.len()..],
        first.events
    );

    // Nothing of a commit that is not Committed, or is refused, is written.
    let state = first.subscription.clone();
    let reference = (stats(&store).await, all_events(&store).await);
    let unchanged = |what: &'static str| {
        let store = Arc::clone(&store);
        let state = state.clone();
        let reference = reference.clone();
        let a1 = a1.clone();
        async move {
            assert_eq!(
                (stats(&store).await, all_events(&store).await),
                reference,
                "{what}: nothing written, no event"
            );
            assert_eq!(
                notes(&store, "acct_1", None, None).await,
                vec![a1],
                "{what}: no credit note"
            );
            assert_eq!(read_subscription(&store, "acct_1", "sub_a").await, state);
        }
    };
    let stale = crediting(&sub_a, None, vec![credit_note(&inv_a, 2, 5)], "corr_stale");
    let outcome = store.commit(&stale).await.expect("a stale commit");
    assert_eq!(outcome, CommitOutcome::Stale);
    unchanged("a stale commit with a credit note").await;

    let billed = crediting(
        &state,
        Some(inv_a.clone()),
        vec![credit_note(&inv_a, 2, 5)],
        "corr_billed",
    );
    let outcome = store
        .commit(&billed)
        .await
        .expect("an InvoiceExists commit");
    assert_eq!(outcome, CommitOutcome::InvoiceExists);
    unchanged("an InvoiceExists commit with a credit note").await;

    let mut ghost = credit_note(&inv_a, 2, 5);
    ghost.invoice_id = "in_missing".into();
    expect_invalid(
        store
            .commit(&crediting(&state, None, vec![ghost], "corr_ghost"))
            .await,
        "credit_note.invoice_id",
        "in_missing",
        "a credit note for an unknown invoice",
    );
    unchanged("a credit note for an unknown invoice").await;

    let mut elsewhere = credit_note(&inv_a, 2, 5);
    elsewhere.invoice_id = inv_b.id.clone();
    expect_invalid(
        store
            .commit(&crediting(&state, None, vec![elsewhere], "corr_elsewhere"))
            .await,
        "credit_note.invoice_id",
        &inv_b.id,
        "a credit note for another subscription's invoice",
    );
    unchanged("a credit note for another subscription's invoice").await;

    let mut euros = credit_note(&inv_a, 2, 5);
    euros.currency = currency("EUR");
    euros.subtotal = money(euros.subtotal.minor(), currency("EUR"));
    let refused = store
        .commit(&crediting(&state, None, vec![euros], "corr_eur"))
        .await;
    assert!(
        matches!(refused, Err(Error::CurrencyMismatch { .. })),
        "a credit note in another currency than its invoice: {refused:?}"
    );
    unchanged("a credit note in another currency").await;

    // A good note after a refused one in the same commit: the whole commit is refused.
    expect_conflict(
        store
            .commit(&crediting(
                &state,
                Some(invoice(&state, date(2026, 2, 15), currency("USD"), false)),
                vec![credit_note(&inv_a, 2, 5), a1.clone()],
                "corr_again",
            ))
            .await,
        "credit_note.id",
        &a1.id,
        "a credit note number used already",
    );
    unchanged("a duplicate credit note").await;

    // The same number twice in one commit.
    expect_conflict(
        store
            .commit(&crediting(
                &state,
                None,
                vec![credit_note(&inv_a, 2, 5), credit_note(&inv_a, 2, 6)],
                "corr_twice",
            ))
            .await,
        "credit_note.id",
        "cn_sub_a_2",
        "a credit note number given twice in one commit",
    );
    unchanged("a credit note number given twice").await;

    // Written out of order: 10 before 2 (numbers, not text: "10" < "2"), sub_b's in between.
    let a10 = credit_note(&inv_a, 10, 3);
    let second = crediting(&state, None, vec![a10.clone()], "corr_a10");
    assert_eq!(
        store.commit(&second).await.expect("commit"),
        CommitOutcome::Committed
    );
    let b1 = credit_note(&inv_b, 1, 250);
    assert!(b1.tax_inclusive, "sub_b's invoice includes its tax");
    let on_b = crediting(&sub_b, None, vec![b1.clone()], "corr_b1");
    assert_eq!(
        store.commit(&on_b).await.expect("commit"),
        CommitOutcome::Committed
    );
    // With a renewal invoice in the same commit.
    let a2 = credit_note(&inv_a, 2, 99);
    let renewal = invoice(
        &second.subscription,
        date(2026, 2, 15),
        currency("USD"),
        false,
    );
    let third = crediting(
        &second.subscription,
        Some(renewal.clone()),
        vec![a2.clone()],
        "corr_a2",
    );
    assert_eq!(
        store.commit(&third).await.expect("commit"),
        CommitOutcome::Committed
    );
    let o1 = credit_note(&inv_other, 1, 1);
    let on_other = crediting(&other, None, vec![o1.clone()], "corr_o1");
    assert_eq!(
        store.commit(&on_other).await.expect("commit"),
        CommitOutcome::Committed
    );
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_a").await,
        vec![inv_a.clone(), renewal],
        "the invoice written with a credit note"
    );

    let everything = vec![a1.clone(), a2.clone(), a10.clone(), b1.clone()];
    assert_eq!(
        notes(&store, "acct_1", None, None).await,
        everything,
        "an account's credit notes by (subscription id, number)"
    );
    assert_eq!(
        notes(&store, "acct_1", None, Some(2)).await,
        everything[..2]
    );
    assert_eq!(notes(&store, "acct_1", None, Some(0)).await, vec![]);
    assert_eq!(
        notes(&store, "acct_1", Some("sub_a"), Some(2)).await,
        vec![a1, a2]
    );
    assert_eq!(notes(&store, "acct_1", Some("sub_b"), None).await, vec![b1]);
    assert_eq!(
        notes(&store, "acct_2", None, None).await,
        vec![o1],
        "scoped by account (the same subscription id in another account)"
    );
    assert_eq!(
        notes(&store, "acct_1", Some("sub_none"), None).await,
        vec![]
    );
    assert_eq!(notes(&store, "acct_missing", None, None).await, vec![]);
}

/// `commit_claimed` writes a request's credit notes with it, as `commit` would one by one: a
/// note may credit an invoice an earlier request of the page wrote; a request refused for its
/// note writes nothing of itself (nor of what follows it for the same subscription); a stale
/// one writes no note; the others are written whole.
pub async fn check_commit_claimed_credit_notes(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    let (sub_a, inv_a) = with_first_invoice(&store, "acct_1", "sub_a", false).await;
    let (sub_b, inv_b) = with_first_invoice(&store, "acct_1", "sub_b", false).await;
    let (sub_c, inv_c) = with_first_invoice(&store, "acct_1", "sub_c", true).await;
    let renewal = |state: &Subscription, start: NaiveDate, notes: Vec<CreditNote>, tag: &str| {
        let issued = invoice(state, start, currency("USD"), false);
        crediting(state, Some(issued), notes, tag)
    };
    let a1 = renewal(
        &sub_a,
        date(2026, 2, 15),
        vec![credit_note(&inv_a, 1, 100)],
        "corr_a1",
    );
    let a1_invoice = a1.invoice.clone().expect("an invoice");
    // Credits the invoice a1 writes in this page.
    let a2 = renewal(
        &a1.subscription,
        date(2026, 3, 15),
        vec![credit_note(&a1_invoice, 2, 200)],
        "corr_a2",
    );
    let mut unknown = credit_note(&inv_b, 1, 5);
    unknown.invoice_id = "in_missing".into();
    let b1 = renewal(&sub_b, date(2026, 2, 15), vec![unknown], "corr_b1");
    let b2 = renewal(&b1.subscription, date(2026, 3, 15), vec![], "corr_b2");
    let mut c_stale = renewal(
        &sub_c,
        date(2026, 2, 15),
        vec![credit_note(&inv_c, 1, 5)],
        "corr_c",
    );
    c_stale.expected_revision = 7;
    c_stale.subscription.revision = 8;
    let requests = vec![a1.clone(), b1, c_stale, a2.clone(), b2];
    let before = stats(&store).await;
    let events_before = all_events(&store).await;
    let page = store
        .claim_due(&DueQuery {
            due_by: at("2026-02-15T05:00:00Z"),
            after: None,
            limit: 10,
        })
        .await
        .expect("claim_due");
    let mut outcomes = store
        .commit_claimed(page, &requests)
        .await
        .expect("commit_claimed");
    assert_eq!(outcomes.len(), requests.len());
    let refused = std::mem::replace(&mut outcomes[1], Ok(CommitOutcome::Stale));
    assert!(
        matches!(outcomes[0], Ok(CommitOutcome::Committed)),
        "{outcomes:?}"
    );
    expect_invalid(
        refused,
        "credit_note.invoice_id",
        "in_missing",
        "a page's request with a note for an unknown invoice",
    );
    assert!(
        matches!(outcomes[2], Ok(CommitOutcome::Stale)),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[3], Ok(CommitOutcome::Committed)),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[4], Ok(CommitOutcome::Stale)),
        "what follows a refused request is not written: {outcomes:?}"
    );
    assert_eq!(
        notes(&store, "acct_1", None, None).await,
        [a1.credit_notes.clone(), a2.credit_notes.clone()].concat(),
        "sub_a's two notes only"
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_a").await,
        a2.subscription
    );
    assert_eq!(read_subscription(&store, "acct_1", "sub_b").await, sub_b);
    assert_eq!(read_subscription(&store, "acct_1", "sub_c").await, sub_c);
    let after = stats(&store).await;
    assert_eq!(
        after.invoices,
        before.invoices + 2,
        "a1's and a2's invoices"
    );
    assert_eq!(
        all_events(&store).await[events_before.len()..],
        [a1.events, a2.events].concat(),
        "their events only"
    );
}
