//! Checks of invoice corrections in the store: status changes written over the status they were
//! read with, at most one invoice of a period that is not void, and a voided period billed again
//! by a new invoice in the same commit (whether committed alone or in a page).

use std::sync::Arc;

use crate::invoice::IssuedInvoice;
use crate::store::{
    ClaimedPage, CommitOutcome, FixtureStore, InvoiceStatusChange, NewSubscription,
    SubscriptionCommit,
};
use crate::subscription::{InvoiceStatus, Subscription, rebilled_invoice_id};

use super::fixtures::{
    all_events, at, currency, date, invoice, invoice_event, invoices_of, next_state,
    read_subscription, setup, stats, subscription, subscription_event,
};

/// The commit of `state`'s next revision setting `changes` and writing `invoice`, with one event.
fn correction(
    state: &Subscription,
    changes: &[(&IssuedInvoice, InvoiceStatus, InvoiceStatus)],
    invoice: Option<IssuedInvoice>,
    correlation: &str,
) -> SubscriptionCommit {
    let anchor = invoice.as_ref().or(changes.first().map(|(i, _, _)| *i));
    SubscriptionCommit {
        expected_revision: state.revision,
        subscription: next_state(state),
        invoice_status: changes
            .iter()
            .map(|(invoice, from, to)| InvoiceStatusChange {
                invoice_id: invoice.id.clone(),
                from: *from,
                to: *to,
            })
            .collect(),
        events: anchor
            .map(|invoice| vec![invoice_event(invoice, correlation)])
            .unwrap_or_default(),
        invoice,
        credit_notes: Vec::new(),
        idempotency: None,
    }
}

/// `invoice` with another status.
fn with_status(invoice: &IssuedInvoice, status: InvoiceStatus) -> IssuedInvoice {
    IssuedInvoice {
        status,
        ..invoice.clone()
    }
}

/// Release, void and re-bill: each status change is written over the status it was computed
/// from (else `Stale`, nothing written), a void frees its period for a new invoice written in the
/// same commit, a second invoice of a period that is not void is `InvoiceExists`, and a held
/// invoice's review and settled lines read back as written.
pub async fn check_invoice_corrections(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    let sub = subscription("acct_1", "sub_1", "cus_1", Some(at("2026-02-15T05:00:00Z")));
    // The fixture's tax-inclusive invoice is held, with a review and a settled line.
    let held = invoice(&sub, date(2026, 1, 15), currency("USD"), true);
    assert_eq!(held.status, InvoiceStatus::Held);
    assert!(held.review.is_some() && !held.settled.is_empty());
    store
        .insert_subscription(&NewSubscription {
            subscription: sub.clone(),
            invoice: Some(held.clone()),
            events: vec![subscription_event(&sub, "corr_1")],
            idempotency: None,
        })
        .await
        .expect("insert_subscription");
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_1").await,
        vec![held.clone()],
        "a held invoice's review and settled lines read back as written"
    );

    // Released: held -> open, over the status it was read with.
    let release = correction(
        &sub,
        &[(&held, InvoiceStatus::Held, InvoiceStatus::Open)],
        None,
        "corr_2",
    );
    let outcome = store.commit(&release).await.expect("release");
    assert_eq!(outcome, CommitOutcome::Committed, "a release is Committed");
    let released = with_status(&held, InvoiceStatus::Open);
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_1").await,
        vec![released.clone()]
    );
    let state = read_subscription(&store, "acct_1", "sub_1").await;
    assert_eq!(state, release.subscription);

    // Released again over the held status it no longer has: Stale, and nothing is written.
    let before = (stats(&store).await, all_events(&store).await);
    let again = correction(
        &state,
        &[(&held, InvoiceStatus::Held, InvoiceStatus::Open)],
        None,
        "corr_3",
    );
    assert_eq!(
        store.commit(&again).await.expect("release again"),
        CommitOutcome::Stale,
        "a status change over a status the invoice no longer has is Stale"
    );
    assert_eq!((stats(&store).await, all_events(&store).await), before);
    assert_eq!(read_subscription(&store, "acct_1", "sub_1").await, state);

    // A second invoice of the period while the first is not void: InvoiceExists.
    let mut rebill = invoice(&sub, date(2026, 1, 15), currency("USD"), false);
    rebill.id = rebilled_invoice_id("sub_1", date(2026, 1, 15), 0);
    let twice = correction(&state, &[], Some(rebill.clone()), "corr_4");
    assert_eq!(
        store.commit(&twice).await.expect("a second invoice"),
        CommitOutcome::InvoiceExists,
        "a period has at most one invoice that is not void"
    );
    assert_eq!((stats(&store).await, all_events(&store).await), before);

    // Voided and billed again in one commit.
    let void = correction(
        &state,
        &[(&released, InvoiceStatus::Open, InvoiceStatus::Void)],
        Some(rebill.clone()),
        "corr_5",
    );
    assert_eq!(
        store.commit(&void).await.expect("void and re-bill"),
        CommitOutcome::Committed,
        "a void frees its period for the invoice that bills it again in the same commit"
    );
    let voided = with_status(&held, InvoiceStatus::Void);
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_1").await,
        vec![voided.clone(), rebill.clone()],
        "the void invoice stays, listed by (period start, id) with the new one"
    );
    let state = read_subscription(&store, "acct_1", "sub_1").await;

    // Another subscription's invoice cannot be changed through this one: Stale.
    let other = subscription("acct_1", "sub_2", "cus_1", Some(at("2026-02-15T05:00:00Z")));
    store
        .insert_subscription(&NewSubscription {
            subscription: other.clone(),
            invoice: None,
            events: vec![subscription_event(&other, "corr_6")],
            idempotency: None,
        })
        .await
        .expect("insert_subscription");
    let before = (stats(&store).await, all_events(&store).await);
    let foreign = correction(
        &other,
        &[(&rebill, InvoiceStatus::Open, InvoiceStatus::Void)],
        None,
        "corr_7",
    );
    assert_eq!(
        store.commit(&foreign).await.expect("a foreign void"),
        CommitOutcome::Stale,
        "a commit changes only its own subscription's invoices"
    );
    assert_eq!((stats(&store).await, all_events(&store).await), before);

    // The same through a page: void the re-bill and bill the period a third time.
    let mut third = invoice(&sub, date(2026, 1, 15), currency("USD"), false);
    third.id = rebilled_invoice_id("sub_1", date(2026, 1, 15), 1);
    let page = correction(
        &state,
        &[(&rebill, InvoiceStatus::Open, InvoiceStatus::Void)],
        Some(third.clone()),
        "corr_8",
    );
    let outcomes = store
        .commit_claimed(ClaimedPage::unlocked(Vec::new()), &[page])
        .await
        .expect("commit_claimed");
    assert!(
        matches!(outcomes.as_slice(), [Ok(CommitOutcome::Committed)]),
        "a page's correction is written as a commit would write it: {outcomes:?}"
    );
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_1").await,
        vec![
            voided,
            with_status(&rebill, InvoiceStatus::Void),
            third.clone()
        ]
    );
    let non_void = invoices_of(&store, "acct_1", "sub_1")
        .await
        .into_iter()
        .filter(|invoice| invoice.status != InvoiceStatus::Void)
        .count();
    assert_eq!(non_void, 1, "one invoice of the period is not void");
}
