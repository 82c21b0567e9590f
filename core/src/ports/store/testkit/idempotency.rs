//! Checks of the records of keyed requests ([`IdempotencyRecord`]): written in the transaction
//! of the creation or commit they come with and read back as written, one per (account, key)
//! (a second is refused and nothing of its write is kept, alone, in a page, or racing).

use std::sync::Arc;

use serde_json::json;

use crate::store::{
    ClaimedPage, CommitOutcome, FixtureStore, IdempotencyRecord, NewSubscription,
    SubscriptionCommit,
};
use crate::subscription::Subscription;

use super::fixtures::{
    at, expect_conflict, next_state, read_subscription, setup, stats, subscription,
    subscription_event,
};

fn record(account_id: &str, key: &str, operation: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        account_id: account_id.to_owned(),
        key: key.to_owned(),
        operation: operation.to_owned(),
        request_hash: format!("{:064x}", key.len()),
        answer: json!({ "subscription": { "id": key, "amount": "12.34" }, "ids": [1, 2] }),
        created_at: at("2026-01-15T05:00:00.123456Z"),
    }
}

fn creation(sub: &Subscription, key: Option<&str>, correlation: &str) -> NewSubscription {
    NewSubscription {
        subscription: sub.clone(),
        invoice: None,
        events: vec![subscription_event(sub, correlation)],
        idempotency: key.map(|key| record(&sub.account_id, key, "create_subscription")),
    }
}

fn change(state: &Subscription, key: Option<&str>, correlation: &str) -> SubscriptionCommit {
    let next = next_state(state);
    SubscriptionCommit {
        expected_revision: state.revision,
        events: vec![subscription_event(&next, correlation)],
        subscription: next,
        invoice: None,
        invoice_status: Vec::new(),
        credit_notes: Vec::new(),
        idempotency: key.map(|key| record(&state.account_id, key, "cancel_subscription")),
    }
}

async fn read(
    store: &Arc<dyn FixtureStore>,
    account_id: &str,
    key: &str,
) -> Option<IdempotencyRecord> {
    store
        .idempotency_record(account_id, key)
        .await
        .expect("idempotency_record")
}

/// A record is written with its creation or commit and read back as written; a second record of
/// the same (account, key) is `Conflict` on `request_id` and nothing of its write is kept (in a
/// commit, a page, or a creation); another account's same key is free; a stale commit writes no
/// record; of eight creations racing under one key, exactly one is written.
pub async fn check_idempotency_records(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    setup(&store, "acct_2").await;
    assert_eq!(read(&store, "acct_1", "k1").await, None, "no record yet");

    let sub = subscription("acct_1", "sub_1", "cus_1", None);
    store
        .insert_subscription(&creation(&sub, Some("k1"), "idem_1"))
        .await
        .expect("a creation with its record");
    assert_eq!(
        read(&store, "acct_1", "k1").await,
        Some(record("acct_1", "k1", "create_subscription")),
        "the record reads back as written"
    );
    assert_eq!(
        read(&store, "acct_2", "k1").await,
        None,
        "keys are per account"
    );

    // The key taken: nothing of the second creation is written.
    let before = stats(&store).await;
    let other = subscription("acct_1", "sub_2", "cus_1", None);
    expect_conflict(
        store
            .insert_subscription(&creation(&other, Some("k1"), "idem_2"))
            .await,
        "request_id",
        "k1",
        "a creation under a taken key",
    );
    assert_eq!(stats(&store).await, before, "nothing of it written");
    assert!(
        store
            .subscription("acct_1", "sub_2")
            .await
            .unwrap()
            .is_none(),
        "its subscription is not written"
    );
    // The same key in another account is another key.
    let elsewhere = subscription("acct_2", "sub_1", "cus_1", None);
    store
        .insert_subscription(&creation(&elsewhere, Some("k1"), "idem_3"))
        .await
        .expect("the same key in another account");

    // A commit writes its record with the change; a taken key refuses the whole commit.
    let outcome = store
        .commit(&change(&sub, Some("k2"), "idem_4"))
        .await
        .expect("a commit with its record");
    assert_eq!(outcome, CommitOutcome::Committed);
    assert!(read(&store, "acct_1", "k2").await.is_some());
    let state = read_subscription(&store, "acct_1", "sub_1").await;
    let before = stats(&store).await;
    expect_conflict(
        store.commit(&change(&state, Some("k1"), "idem_5")).await,
        "request_id",
        "k1",
        "a commit under a taken key",
    );
    assert_eq!(stats(&store).await, before, "nothing of it written");
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_1").await,
        state,
        "the state is not changed"
    );
    // A stale commit writes no record.
    let outcome = store
        .commit(&change(&sub, Some("k3"), "idem_6"))
        .await
        .expect("a stale commit");
    assert_eq!(outcome, CommitOutcome::Stale);
    assert_eq!(
        read(&store, "acct_1", "k3").await,
        None,
        "no record of a stale commit"
    );

    // In a page: the record is written with its request, and a taken key fails that request
    // alone.
    let outcomes = store
        .commit_claimed(
            ClaimedPage::unlocked(Vec::new()),
            &[
                change(&state, Some("k4"), "idem_7"),
                change(&elsewhere, Some("k1"), "idem_8"),
            ],
        )
        .await
        .expect("commit_claimed");
    assert!(
        matches!(outcomes[0], Ok(CommitOutcome::Committed)),
        "the page's first request: {:?}",
        outcomes[0]
    );
    assert!(
        matches!(outcomes[1], Err(crate::Error::Conflict { .. })),
        "a page request under a taken key: {:?}",
        outcomes[1]
    );
    assert!(read(&store, "acct_1", "k4").await.is_some());
    assert_eq!(
        read_subscription(&store, "acct_2", "sub_1").await,
        elsewhere,
        "the refused request's change is not written"
    );

    // Eight creations racing under one key: one is written.
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let sub = subscription("acct_1", &format!("race_{i}"), "cus_1", None);
                store
                    .insert_subscription(&creation(&sub, Some("race"), &format!("race_{i}")))
                    .await
            })
        })
        .collect();
    let mut written = 0;
    for racer in racers {
        match racer.await.expect("a racer") {
            Ok(()) => written += 1,
            Err(crate::Error::Conflict { .. }) => {}
            Err(other) => panic!("a racer under a taken key: {other:?}"),
        }
    }
    assert_eq!(written, 1, "exactly one creation under the raced key");
    let mut found = 0;
    for i in 0..8 {
        if store
            .subscription("acct_1", &format!("race_{i}"))
            .await
            .unwrap()
            .is_some()
        {
            found += 1;
        }
    }
    assert_eq!(found, 1, "exactly one raced subscription is written");
}
