//! The conformance suite of the store's ports ([`crate::store::BillingState`],
//! [`crate::store::UsageSource`], [`crate::store::AuditOutbox`], and the
//! [`crate::store::UsageFixtures`] its usage checks write through): what every backend (memory,
//! SQLite, PostgreSQL) must do, checked the same way for all of them (feature `testkit`). The
//! checks live by concern: `catalogue`, `state` (subscriptions and invoices), `changes` (a
//! subscription's changes, its cancellation, credit notes), `corrections` (invoice status
//! changes, void and re-bill), `idempotency` (the records of keyed requests), `listings`,
//! `usage`, `outbox`, `feed` (the outbox in a stable order, and the webhook endpoints).
//!
//! A backend runs the whole suite with [`run_all`], giving a function that makes a fresh, empty
//! store (a new in-memory store, a new SQLite file, a new PostgreSQL schema), or calls the
//! `check_*` functions one by one (each on a fresh store) to see which one fails. Checks panic
//! with a message that says what the store did wrong.
//!
//! [`check_concurrent_commits`] races eight writers; it only races for real on a multi-thread
//! runtime, so run the suite under `#[tokio::test(flavor = "multi_thread")]`:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn memory_store_conforms() {
//!     ai_billing::store::testkit::run_all(|| async {
//!         Arc::new(ai_billing::MemoryStore::default()) as Arc<dyn ai_billing::store::FixtureStore>
//!     })
//!     .await;
//! }
//! ```
//!
//! Ids are compared in byte order (Rust's `str` order; `COLLATE "C"` in SQL), and instants to the
//! microsecond: every instant the suite writes is in whole microseconds.

use std::future::Future;
use std::sync::Arc;

use crate::store::{FixtureStore, StoreStats};

mod catalogue;
mod changes;
mod corrections;
mod feed;
mod fixtures;
mod idempotency;
mod listings;
mod outbox;
mod state;
mod usage;

pub use catalogue::{
    check_accounts_and_customers, check_customers, check_list_plans, check_migrate_twice,
    check_missing_parents_are_not_found, check_plan_versions,
};
pub use changes::{
    check_commit_claimed_credit_notes, check_credit_notes, check_subscription_changes,
};
pub use corrections::check_invoice_corrections;
pub use feed::{check_feed, check_feed_while_writers_race, check_webhook_endpoints};
pub use idempotency::check_idempotency_records;
pub use listings::check_listings;
pub use outbox::{
    check_event_round_trip, check_events_for, check_outbox, check_outbox_is_all_or_nothing,
    check_rejected_events,
};
pub use state::{
    check_commit, check_commit_claimed, check_concurrent_commits, check_due_subscriptions,
    check_insert_subscription, check_invoice_currency, check_invoices, check_stats,
};
pub use usage::{
    check_usage, check_usage_many, check_usage_missing_shipment,
    check_usage_rows_are_all_or_nothing,
};

use fixtures::stats;

/// Runs every check, each on a fresh store from `make` (migrated here, and checked empty), so a
/// backend proves it keeps the whole contract of the store's ports with one call.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn FixtureStore>>,
{
    macro_rules! run {
        ($($check:ident),* $(,)?) => {
            $(
                let store = fresh(&make).await;
                $check(store).await;
            )*
        };
    }
    run!(
        check_migrate_twice,
        check_accounts_and_customers,
        check_missing_parents_are_not_found,
        check_plan_versions,
        check_list_plans,
        check_insert_subscription,
        check_commit,
        check_concurrent_commits,
        check_due_subscriptions,
        check_invoices,
        check_invoice_currency,
        check_usage,
        check_usage_missing_shipment,
        check_usage_rows_are_all_or_nothing,
        check_outbox,
        check_outbox_is_all_or_nothing,
        check_rejected_events,
        check_stats,
        check_events_for,
        check_event_round_trip,
        check_customers,
        check_usage_many,
        check_commit_claimed,
        check_subscription_changes,
        check_credit_notes,
        check_commit_claimed_credit_notes,
        check_invoice_corrections,
        check_idempotency_records,
        check_listings,
        check_feed,
        check_feed_while_writers_race,
        check_webhook_endpoints,
    );
}

/// A store from `make`, migrated and checked empty.
async fn fresh<F, Fut>(make: &F) -> Arc<dyn FixtureStore>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn FixtureStore>>,
{
    let store = make().await;
    store.migrate().await.expect("migrate a fresh store");
    assert_eq!(
        stats(&store).await,
        StoreStats::default(),
        "the store given to the suite must be empty"
    );
    store
}
