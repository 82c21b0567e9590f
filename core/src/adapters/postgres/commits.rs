//! One subscription change in the caller's transaction (what [`BillingState::commit`] writes),
//! and a page of them one by one under savepoints (the page path for changes that carry credit
//! notes).
//!
//! [`BillingState::commit`]: crate::store::BillingState::commit

use std::collections::HashSet;

use sqlx::PgConnection;

use super::credit_notes::{credited_invoices, insert_credit_notes};
use super::error::{lock_unavailable, storage};
use super::events::insert_events;
use super::idempotency::insert_record;
use super::invoices::{Inserted, insert_invoice};
use super::{LOCK_REVISION, UPDATE_SUBSCRIPTION, bind_subscription};
use crate::error::Result;
use crate::store::{CommitOutcome, SubscriptionCommit};

/// One change (its revision already checked by the caller) on `conn`, inside the caller's
/// transaction: the row locked and its revision compared (the compare-and-set: a concurrent
/// commit waits on the lock, then reads the revision this one wrote), the invoice, the events,
/// the credit notes (each checked against the invoices kept before the change), the new state.
/// On anything but `Committed` (or an error) the caller rolls back whatever this wrote.
pub(crate) async fn commit_one(
    conn: &mut PgConnection,
    request: &SubscriptionCommit,
) -> Result<CommitOutcome> {
    let subscription = &request.subscription;
    let locked = sqlx::query_scalar(LOCK_REVISION)
        .bind(&subscription.account_id)
        .bind(&subscription.id)
        .fetch_optional(&mut *conn)
        .await;
    let revision: Option<i64> = match locked {
        Err(error) if lock_unavailable(&error) => return Ok(CommitOutcome::Busy),
        locked => locked.map_err(storage(format!(
            "locking subscription {:?}",
            subscription.id
        )))?,
    };
    if revision != Some(request.expected_revision) {
        return Ok(CommitOutcome::Stale);
    }
    // Each status change over the status it was read with (a void first frees its period).
    for change in &request.invoice_status {
        let updated = sqlx::query(
            "UPDATE invoices SET status = $1 \
             WHERE account_id = $2 AND subscription_id = $3 AND id = $4 AND status = $5",
        )
        .bind(change.to.as_str())
        .bind(&subscription.account_id)
        .bind(&subscription.id)
        .bind(&change.invoice_id)
        .bind(change.from.as_str())
        .execute(&mut *conn)
        .await
        .map_err(storage(format!(
            "setting invoice {:?}'s status",
            change.invoice_id
        )))?;
        if updated.rows_affected() != 1 {
            return Ok(CommitOutcome::Stale);
        }
    }
    let credited = credited_invoices(conn, &request.credit_notes).await?;
    if let Some(invoice) = &request.invoice
        && insert_invoice(conn, invoice).await? == Inserted::Exists
    {
        return Ok(CommitOutcome::InvoiceExists);
    }
    insert_events(conn, &request.events).await?;
    insert_credit_notes(conn, &request.credit_notes, &credited).await?;
    insert_record(conn, request.idempotency.as_ref()).await?;
    bind_subscription(sqlx::query(UPDATE_SUBSCRIPTION), subscription)?
        .execute(&mut *conn)
        .await
        .map_err(storage(format!(
            "writing subscription {:?}",
            subscription.id
        )))?;
    Ok(CommitOutcome::Committed)
}

async fn run(conn: &mut PgConnection, sql: &'static str) -> Result<()> {
    sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(storage("committing a page of changes"))
}

/// A page of changes written one by one on `conn` (inside the page's transaction), each under a
/// savepoint, exactly as [`BillingState::commit_claimed`]'s default: what one request writes is
/// kept only when it is `Committed` (a refusal, even one PostgreSQL raised, is rolled back to
/// its savepoint and the transaction goes on), and a request after one of the same subscription
/// that was not is `Stale`.
///
/// [`BillingState::commit_claimed`]: crate::store::BillingState::commit_claimed
pub(crate) async fn commit_each(
    conn: &mut PgConnection,
    requests: &[SubscriptionCommit],
) -> Result<Vec<Result<CommitOutcome>>> {
    let mut outcomes = Vec::with_capacity(requests.len());
    let mut broken: HashSet<(&str, &str)> = HashSet::new();
    for request in requests {
        let key = (
            request.subscription.account_id.as_str(),
            request.subscription.id.as_str(),
        );
        if broken.contains(&key) {
            outcomes.push(Ok(CommitOutcome::Stale));
            continue;
        }
        run(conn, "SAVEPOINT page_request").await?;
        let outcome = match request.check_revision() {
            Ok(()) => commit_one(conn, request).await,
            Err(error) => Err(error),
        };
        if !matches!(outcome, Ok(CommitOutcome::Committed)) {
            run(conn, "ROLLBACK TO SAVEPOINT page_request").await?;
            broken.insert(key);
        }
        run(conn, "RELEASE SAVEPOINT page_request").await?;
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
