//! Writing invoices and subscription commits on SQLite: one invoice with its rows, and a billing
//! run's page of commits decided and written in a few multi-row statements.

use std::collections::{HashMap, HashSet};

use sqlx::SqliteConnection;

use super::json_rows::JsonRows;
use super::rows::{self, date_text, micros};
use super::storage;
use crate::error::Result;
use crate::invoice::IssuedInvoice;
use crate::store::{
    CommitOutcome, SubscriptionCommit, check_event_batch, check_invoice_currency,
    invoice_extras_json,
};
use crate::subscription::Subscription;

use super::credit_notes::{credited_invoices, insert_credit_notes};
use super::idempotency::insert_record;
use super::outbox::{event_rows, insert_event_rows, insert_events};
use super::rows::{bind_subscription, insert_children};
use super::tx::{Tx, is_unique_violation};

/// Inserts an invoice and its children. `Ok(false)`, with nothing of the invoice written, when an
/// invoice for the same period (or with the same id) exists; the caller then rolls back.
pub(super) async fn insert_invoice(
    conn: &mut SqliteConnection,
    issued: &IssuedInvoice,
) -> Result<bool> {
    let invoice = &issued.invoice;
    check_invoice_currency(invoice)?;
    let (settled, review) = invoice_extras_json(issued)?;
    let action = || format!("writing invoice {:?}", issued.id);
    let inserted = sqlx::query(
        "INSERT INTO invoices (account_id, id, subscription_id, customer_id, plan_id, \
         plan_version, quantity, billing_reason, status, period_index, issue_date, period_start, \
         period_end, currency, subtotal, tax, tax_inclusive, total, created_at, usage, settled, \
         review) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, \
         ?20, ?21, ?22)",
    )
    .bind(issued.account_id.clone())
    .bind(issued.id.clone())
    .bind(issued.subscription_id.clone())
    .bind(issued.customer_id.clone())
    .bind(issued.plan_id.clone())
    .bind(i64::from(issued.plan_version))
    .bind(i64::from(issued.quantity))
    .bind(issued.billing_reason.as_str())
    .bind(issued.status.as_str())
    .bind(i64::from(invoice.period_index))
    .bind(date_text(invoice.issue_date))
    .bind(date_text(invoice.period_start))
    .bind(date_text(invoice.period_end))
    .bind(invoice.currency.code())
    .bind(invoice.subtotal.minor())
    .bind(invoice.tax.minor())
    .bind(invoice.tax_inclusive)
    .bind(invoice.total.minor())
    .bind(micros(issued.created_at))
    .bind(rows::invoice_usage_json(&issued.usage)?)
    .bind(settled)
    .bind(review)
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(error) if is_unique_violation(&error) => return Ok(false),
        Err(error) => return Err(storage(action())(error)),
    }
    let key = (issued.account_id.as_str(), issued.id.as_str());
    let lines = rows::with_bases(&invoice.line_items)?;
    let children = async {
        insert_children(
            conn,
            key,
            "INSERT INTO invoice_line_items \
         (account_id, invoice_id, position, description, kind, amount, basis) ",
            &lines,
            |row, (line, basis)| {
                row.push_bind(line.description.clone())
                    .push_bind(rows::charge_kind_name(line.kind))
                    .push_bind(line.amount.minor())
                    .push_bind(basis.clone());
            },
        )
        .await?;
        insert_children(
            conn,
            key,
            "INSERT INTO invoice_tax_lines (account_id, invoice_id, position, name, rate, amount) ",
            &invoice.tax_lines,
            |row, line| {
                row.push_bind(line.name.clone())
                    .push_bind(line.rate.to_string())
                    .push_bind(line.amount.minor());
            },
        )
        .await?;
        insert_children(
            conn,
            key,
            "INSERT INTO revenue_schedule \
         (account_id, invoice_id, position, month, start_date, end_date, days, amount) ",
            &invoice.revenue_schedule,
            |row, entry| {
                row.push_bind(entry.month.clone())
                    .push_bind(date_text(entry.start))
                    .push_bind(date_text(entry.end))
                    .push_bind(i64::from(entry.days))
                    .push_bind(entry.amount.minor());
            },
        )
        .await
    };
    children.await.map_err(storage(action()))?;
    Ok(true)
}

/// Replaces a subscription's state over its revision, in `SUBSCRIPTION_COLUMNS` order, `?18`
/// the expected revision.
const UPDATE_SUBSCRIPTION: &str = "UPDATE subscriptions SET account_id = ?1, id = ?2, \
     customer_id = ?3, plan_id = ?4, quantity = ?5, start_date = ?6, status = ?7, \
     current_period = ?8, current_period_start = ?9, current_period_end = ?10, \
     next_invoice_period = ?11, next_invoice_at = ?12, revision = ?13, created_at = ?14, \
     updated_at = ?15, changes = ?16, billed_usage = ?17 \
     WHERE account_id = ?1 AND id = ?2 AND revision = ?18";

/// One change (its revision already checked by the caller) in the caller's write transaction,
/// as [`BillingState::commit`] makes it: the revision compared, the invoice, the events, the
/// credit notes (each checked against the invoices kept before the change), the new state. On
/// anything but `Committed` (or an error) the caller rolls back whatever this wrote.
///
/// [`BillingState::commit`]: crate::store::BillingState::commit
pub(super) async fn commit_one(tx: &mut Tx, request: &SubscriptionCommit) -> Result<CommitOutcome> {
    let subscription = &request.subscription;
    let action = format!("updating subscription {:?}", subscription.id);
    let revision: Option<i64> =
        sqlx::query_scalar("SELECT revision FROM subscriptions WHERE account_id = ?1 AND id = ?2")
            .bind(subscription.account_id.clone())
            .bind(subscription.id.clone())
            .fetch_optional(&mut **tx)
            .await
            .map_err(storage(action.clone()))?;
    if revision != Some(request.expected_revision) {
        return Ok(CommitOutcome::Stale);
    }
    // Each status change over the status it was read with (a void first frees its period).
    for change in &request.invoice_status {
        let updated = sqlx::query(
            "UPDATE invoices SET status = ?1 \
             WHERE account_id = ?2 AND subscription_id = ?3 AND id = ?4 AND status = ?5",
        )
        .bind(change.to.as_str())
        .bind(subscription.account_id.clone())
        .bind(subscription.id.clone())
        .bind(change.invoice_id.clone())
        .bind(change.from.as_str())
        .execute(&mut **tx)
        .await
        .map_err(storage(format!(
            "setting invoice {:?}'s status",
            change.invoice_id
        )))?;
        if updated.rows_affected() != 1 {
            return Ok(CommitOutcome::Stale);
        }
    }
    let credited = credited_invoices(tx, &request.credit_notes).await?;
    if let Some(invoice) = &request.invoice
        && !insert_invoice(tx, invoice).await?
    {
        return Ok(CommitOutcome::InvoiceExists);
    }
    insert_events(tx, &request.events).await?;
    insert_credit_notes(tx, &request.credit_notes, &credited).await?;
    insert_record(tx, request.idempotency.as_ref()).await?;
    let updated = bind_subscription(sqlx::query(UPDATE_SUBSCRIPTION), subscription)?
        .bind(request.expected_revision)
        .execute(&mut **tx)
        .await
        .map_err(storage(action))?;
    if updated.rows_affected() != 1 {
        // Cannot happen under the write lock taken before the revision was read.
        return Ok(CommitOutcome::Stale);
    }
    Ok(CommitOutcome::Committed)
}

/// A page of changes written one by one in the caller's write transaction, each under a
/// savepoint, exactly as [`BillingState::commit_claimed`]'s default: what one request writes is
/// kept only when it is `Committed`, and a request after one of the same subscription that was
/// not is `Stale`. The page path for requests that carry credit notes or invoice status
/// changes or request records, which the set-based [`commit_page`] does not write.
///
/// [`BillingState::commit_claimed`]: crate::store::BillingState::commit_claimed
pub(super) async fn commit_each(
    tx: &mut Tx,
    requests: &[SubscriptionCommit],
) -> Result<Vec<Result<CommitOutcome>>> {
    let action = "committing a page of changes";
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
        run_sql(tx, "SAVEPOINT page_request", action).await?;
        let outcome = match request.check_revision() {
            Ok(()) => commit_one(tx, request).await,
            Err(error) => Err(error),
        };
        if !matches!(outcome, Ok(CommitOutcome::Committed)) {
            run_sql(tx, "ROLLBACK TO page_request", action).await?;
            broken.insert(key);
        }
        run_sql(tx, "RELEASE page_request", action).await?;
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The revisions of a page's subscriptions (`?1`: a [`JsonRows`] array of (account, id)), each
/// found by the primary key.
pub(super) const SELECT_REVISIONS: &str = "SELECT s.account_id, s.id, s.revision \
     FROM jsonb_each(?1) AS k JOIN subscriptions AS s \
       ON s.account_id = k.value ->> 0 AND s.id = k.value ->> 1";

/// A page's invoice heads in one statement, in array order; a head whose id or period already
/// has an invoice is skipped (the caller compares the count written).
pub(super) const INSERT_HEADS: &str = "INSERT INTO invoices (account_id, id, subscription_id, customer_id, \
     plan_id, plan_version, quantity, billing_reason, status, period_index, issue_date, \
     period_start, period_end, currency, subtotal, tax, tax_inclusive, total, created_at, usage, \
     settled, review) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
         value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, \
         value ->> 12, value ->> 13, value ->> 14, value ->> 15, value ->> 16, value ->> 17, \
         value ->> 18, value ->> 19, value ->> 20, value ->> 21 \
     FROM jsonb_each(?1) WHERE true ORDER BY key \
     ON CONFLICT DO NOTHING";

pub(super) const INSERT_LINE_ITEMS: &str = "INSERT INTO invoice_line_items \
     (account_id, invoice_id, position, description, kind, amount, basis) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
         value ->> 6 \
     FROM jsonb_each(?1) ORDER BY key";

pub(super) const INSERT_TAX_LINES: &str = "INSERT INTO invoice_tax_lines \
     (account_id, invoice_id, position, name, rate, amount) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 \
     FROM jsonb_each(?1) ORDER BY key";

pub(super) const INSERT_REVENUE: &str = "INSERT INTO revenue_schedule \
     (account_id, invoice_id, position, month, start_date, end_date, days, amount) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
         value ->> 6, value ->> 7 \
     FROM jsonb_each(?1) ORDER BY key";

/// Each subscription's new state, over its existing row.
pub(super) const UPSERT_STATES: &str = "INSERT INTO subscriptions (account_id, id, customer_id, plan_id, \
     quantity, start_date, status, current_period, current_period_start, current_period_end, \
     next_invoice_period, next_invoice_at, revision, created_at, updated_at, changes, \
     billed_usage) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
         value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, \
         value ->> 12, value ->> 13, value ->> 14, value ->> 15, value ->> 16 \
     FROM jsonb_each(?1) WHERE true ORDER BY key \
     ON CONFLICT (account_id, id) DO UPDATE SET customer_id = excluded.customer_id, \
     plan_id = excluded.plan_id, quantity = excluded.quantity, \
     start_date = excluded.start_date, status = excluded.status, \
     current_period = excluded.current_period, \
     current_period_start = excluded.current_period_start, \
     current_period_end = excluded.current_period_end, \
     next_invoice_period = excluded.next_invoice_period, \
     next_invoice_at = excluded.next_invoice_at, revision = excluded.revision, \
     created_at = excluded.created_at, updated_at = excluded.updated_at, \
     changes = excluded.changes, billed_usage = excluded.billed_usage";

/// What a page's requests come to: each one's outcome, the accepted ones in order, each
/// subscription's last new state (in the order first met) and the invoice heads to write.
pub(super) struct Decided<'a> {
    outcomes: Vec<Result<CommitOutcome>>,
    accepted: Vec<&'a SubscriptionCommit>,
    states: Vec<&'a Subscription>,
    heads: Vec<&'a IssuedInvoice>,
}

/// How [`decide`] learns whether a head is written.
pub(super) enum Heads<'t> {
    /// Assumed written (none conflicts); the caller writes them all at once and checks.
    Assume,
    /// Each written on its own in this transaction, in order (its conflict says the period is
    /// billed).
    OneByOne(&'t mut Tx),
}

/// Goes through a page's requests in order, as [`Store::commit`] would one at a time, given the
/// subscriptions' stored `revisions`: a request whose subscription is not at its expected
/// revision is `Stale`, one whose period is billed is `InvoiceExists` (with
/// [`Heads::OneByOne`]), and neither is written.
pub(super) async fn decide<'a>(
    requests: &'a [SubscriptionCommit],
    mut revisions: HashMap<(String, String), i64>,
    mut heads: Heads<'_>,
) -> Result<Decided<'a>> {
    let mut decided = Decided {
        outcomes: Vec::with_capacity(requests.len()),
        accepted: Vec::with_capacity(requests.len()),
        states: Vec::new(),
        heads: Vec::new(),
    };
    let mut state_of: HashMap<(String, String), usize> = HashMap::new();
    for request in requests {
        let checked = request.check_revision().and_then(|()| {
            check_event_batch(&request.events)?;
            match &request.invoice {
                Some(issued) => check_invoice_currency(&issued.invoice),
                None => Ok(()),
            }
        });
        let subscription = &request.subscription;
        let key = (subscription.account_id.clone(), subscription.id.clone());
        if let Err(error) = checked {
            // What follows it for the same subscription was computed from it: not written.
            revisions.remove(&key);
            decided.outcomes.push(Err(error));
            continue;
        }
        if revisions.get(&key) != Some(&request.expected_revision) {
            revisions.remove(&key);
            decided.outcomes.push(Ok(CommitOutcome::Stale));
            continue;
        }
        if let Some(issued) = &request.invoice {
            if let Heads::OneByOne(tx) = &mut heads
                && !insert_head(tx, issued).await?
            {
                revisions.remove(&key);
                decided.outcomes.push(Ok(CommitOutcome::InvoiceExists));
                continue;
            }
            decided.heads.push(issued);
        }
        revisions.insert(key.clone(), subscription.revision);
        match state_of.get(&key) {
            Some(&index) => decided.states[index] = subscription,
            None => {
                state_of.insert(key, decided.states.len());
                decided.states.push(subscription);
            }
        }
        decided.accepted.push(request);
        decided.outcomes.push(Ok(CommitOutcome::Committed));
    }
    Ok(decided)
}

/// The head of one invoice; `false` when its id or its period already has an invoice.
pub(super) async fn insert_head(tx: &mut Tx, issued: &IssuedInvoice) -> Result<bool> {
    let written = sqlx::query(INSERT_HEADS)
        .bind(head_rows(&[issued])?.finish())
        .execute(&mut **tx)
        .await
        .map_err(storage(format!("writing invoice {:?}", issued.id)))?;
    Ok(written.rows_affected() == 1)
}

/// Invoice heads as the rows of [`INSERT_HEADS`].
pub(super) fn head_rows(heads: &[&IssuedInvoice]) -> Result<JsonRows> {
    let mut json = JsonRows::new();
    for issued in heads {
        let invoice = &issued.invoice;
        let (settled, review) = invoice_extras_json(issued)?;
        json.row()
            .text(&issued.account_id)
            .text(&issued.id)
            .text(&issued.subscription_id)
            .text(&issued.customer_id)
            .text(&issued.plan_id)
            .int(i64::from(issued.plan_version))
            .int(i64::from(issued.quantity))
            .text(issued.billing_reason.as_str())
            .text(issued.status.as_str())
            .int(i64::from(invoice.period_index))
            .text(&date_text(invoice.issue_date))
            .text(&date_text(invoice.period_start))
            .text(&date_text(invoice.period_end))
            .text(invoice.currency.code())
            .int(invoice.subtotal.minor())
            .int(invoice.tax.minor())
            .bool(invoice.tax_inclusive)
            .int(invoice.total.minor())
            .int(micros(issued.created_at))
            .opt_text(rows::invoice_usage_json(&issued.usage)?.as_deref())
            .opt_text(settled.as_deref())
            .opt_text(review.as_deref());
    }
    Ok(json)
}

pub(super) async fn run_sql(tx: &mut Tx, sql: &'static str, action: &str) -> Result<()> {
    sqlx::query(sql)
        .execute(&mut **tx)
        .await
        .map(|_| ())
        .map_err(storage(action))
}

/// Runs one of the page statements over `json` (skipped when it has no row).
pub(super) async fn execute_rows(
    tx: &mut Tx,
    sql: &'static str,
    json: JsonRows,
    action: &str,
) -> Result<u64> {
    if json.len() == 0 {
        return Ok(0);
    }
    Ok(sqlx::query(sql)
        .bind(json.finish())
        .execute(&mut **tx)
        .await
        .map_err(storage(action))?
        .rows_affected())
}

/// The revisions a page's requests expect their subscriptions to be at: each subscription's
/// first request's. When the store holds exactly these, [`decide`] accepts what it accepted
/// assuming them.
pub(super) fn expected_revisions(
    requests: &[SubscriptionCommit],
) -> HashMap<(String, String), i64> {
    let mut expected = HashMap::with_capacity(requests.len());
    for request in requests {
        let subscription = &request.subscription;
        expected
            .entry((subscription.account_id.clone(), subscription.id.clone()))
            .or_insert(request.expected_revision);
    }
    expected
}

/// A page of renewals decided and turned into rows before the write lock is taken, on the
/// assumption that the store holds the [`expected_revisions`] and no head conflicts: building the
/// rows is most of the work of a page, and the write lock is held by one page at a time.
pub(super) struct PreparedPage<'a> {
    requests: &'a [SubscriptionCommit],
    expected: HashMap<(String, String), i64>,
    decided: Decided<'a>,
    heads: JsonRows,
    rows: PageRows,
}

impl<'a> PreparedPage<'a> {
    pub(super) async fn new(requests: &'a [SubscriptionCommit]) -> Result<Self> {
        let expected = expected_revisions(requests);
        let decided = decide(requests, expected.clone(), Heads::Assume).await?;
        let heads = head_rows(&decided.heads)?;
        let rows = PageRows::new(&decided)?;
        Ok(PreparedPage {
            requests,
            expected,
            decided,
            heads,
            rows,
        })
    }
}

/// Every row a decided page writes after its heads: one JSON array per table.
pub(super) struct PageRows {
    lines: JsonRows,
    taxes: JsonRows,
    revenue: JsonRows,
    states: JsonRows,
    events: JsonRows,
}

impl PageRows {
    fn new(decided: &Decided<'_>) -> Result<Self> {
        let (mut lines, mut taxes, mut revenue) =
            (JsonRows::new(), JsonRows::new(), JsonRows::new());
        for issued in &decided.heads {
            let (account_id, id) = (issued.account_id.as_str(), issued.id.as_str());
            for (position, line) in issued.invoice.line_items.iter().enumerate() {
                lines
                    .row()
                    .text(account_id)
                    .text(id)
                    .int(position as i64)
                    .text(&line.description)
                    .text(rows::charge_kind_name(line.kind))
                    .int(line.amount.minor())
                    .opt_text(rows::basis_json(line)?.as_deref());
            }
            for (position, line) in issued.invoice.tax_lines.iter().enumerate() {
                taxes
                    .row()
                    .text(account_id)
                    .text(id)
                    .int(position as i64)
                    .text(&line.name)
                    .text(&line.rate.to_string())
                    .int(line.amount.minor());
            }
            for (position, entry) in issued.invoice.revenue_schedule.iter().enumerate() {
                revenue
                    .row()
                    .text(account_id)
                    .text(id)
                    .int(position as i64)
                    .text(&entry.month)
                    .text(&date_text(entry.start))
                    .text(&date_text(entry.end))
                    .int(i64::from(entry.days))
                    .int(entry.amount.minor());
            }
        }
        // Each subscription's last new state.
        let mut states = JsonRows::new();
        for subscription in &decided.states {
            states
                .row()
                .text(&subscription.account_id)
                .text(&subscription.id)
                .text(&subscription.customer_id)
                .text(&subscription.plan_id)
                .int(i64::from(subscription.quantity))
                .text(&date_text(subscription.start_date))
                .text(subscription.status.as_str())
                .int(i64::from(subscription.current_period))
                .text(&date_text(subscription.current_period_start))
                .text(&date_text(subscription.current_period_end))
                .int(i64::from(subscription.next_invoice_period))
                .opt_int(subscription.next_invoice_at.map(micros))
                .int(subscription.revision)
                .int(micros(subscription.created_at))
                .int(micros(subscription.updated_at))
                .opt_text(rows::changes_json(&subscription.changes)?.as_deref())
                .opt_text(rows::billed_usage_json(&subscription.billed_usage)?.as_deref());
        }
        let events = event_rows(decided.accepted.iter().flat_map(|r| r.events.iter()))?;
        Ok(PageRows {
            lines,
            taxes,
            revenue,
            states,
            events,
        })
    }
}

/// Writes a prepared page of renewals in the caller's write transaction, each as
/// [`Store::commit`] would on its own (see [`decide`]). Each table takes the page in one fixed
/// statement, its rows bound as one JSON array ([`JsonRows`]): the revisions read, the invoice
/// heads, then every child row, new state and event. When the stored revisions are not the
/// expected ones, the page is decided again on what is stored. The heads are written at once
/// on the assumption that none is billed yet; when one is (a run resumed, or two at once), they
/// are rolled back to a savepoint and written again one at a time, so that what follows a billed
/// period is not written.
pub(super) async fn commit_page(
    tx: &mut Tx,
    page: PreparedPage<'_>,
) -> Result<Vec<Result<CommitOutcome>>> {
    let action = "committing a page of renewals";
    let PreparedPage {
        requests,
        expected,
        mut decided,
        heads,
        mut rows,
    } = page;
    let mut keys: Vec<&(String, String)> = expected.keys().collect();
    keys.sort_unstable();
    let mut json = JsonRows::new();
    for (account_id, id) in keys {
        json.row().text(account_id).text(id);
    }
    let mut revisions: HashMap<(String, String), i64> = HashMap::with_capacity(expected.len());
    for row in sqlx::query(SELECT_REVISIONS)
        .bind(json.finish())
        .fetch_all(&mut **tx)
        .await
        .map_err(storage(action))?
    {
        let key: (String, String) = (
            sqlx::Row::try_get(&row, "account_id").map_err(storage(action))?,
            sqlx::Row::try_get(&row, "id").map_err(storage(action))?,
        );
        let revision: i64 = sqlx::Row::try_get(&row, "revision").map_err(storage(action))?;
        revisions.insert(key, revision);
    }

    let mut heads = Some(heads);
    if revisions != expected {
        decided = decide(requests, revisions.clone(), Heads::Assume).await?;
        heads = None;
    }
    let mut rebuild = heads.is_none();
    if !decided.heads.is_empty() {
        run_sql(tx, "SAVEPOINT page_heads", action).await?;
        let json = match heads {
            Some(json) => json,
            None => head_rows(&decided.heads)?,
        };
        let written = execute_rows(tx, INSERT_HEADS, json, action).await?;
        if written != decided.heads.len() as u64 {
            run_sql(tx, "ROLLBACK TO page_heads", action).await?;
            run_sql(tx, "RELEASE page_heads", action).await?;
            decided = decide(requests, revisions, Heads::OneByOne(tx)).await?;
            rebuild = true;
        } else {
            run_sql(tx, "RELEASE page_heads", action).await?;
        }
    }
    if decided.accepted.is_empty() {
        return Ok(decided.outcomes);
    }
    if rebuild {
        rows = PageRows::new(&decided)?;
    }
    let PageRows {
        lines,
        taxes,
        revenue,
        states,
        events,
    } = rows;
    execute_rows(tx, INSERT_LINE_ITEMS, lines, action).await?;
    execute_rows(tx, INSERT_TAX_LINES, taxes, action).await?;
    execute_rows(tx, INSERT_REVENUE, revenue, action).await?;
    execute_rows(tx, UPSERT_STATES, states, action).await?;
    insert_event_rows(tx, events).await?;
    Ok(decided.outcomes)
}
