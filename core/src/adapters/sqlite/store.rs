//! [`Store`] for [`SqliteStore`]: every write one `BEGIN IMMEDIATE` transaction with its events.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sqlx::query_builder::Separated;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, Transaction};

use super::json_rows::JsonRows;
use super::rows::{self, EVENT_COLUMNS, INVOICE_COLUMNS, SUBSCRIPTION_COLUMNS, date_text, micros};
use super::{SqliteStore, storage};
use crate::audit::AuditEvent;
use crate::error::{Error, Result};
use crate::invoice::{Invoice, IssuedInvoice};
use crate::money::Money;
use crate::plan::{Account, PlanVersion};
use crate::store::{
    AuditOutbox, BillingState, ClaimedPage, CommitOutcome, DueQuery, InvoiceQuery, NewSubscription,
    PlanListQuery, PlanQuery, StoreStats, SubscriptionCommit, UsageFixtures, UsageRequest,
    UsageSource, check_event_batch, check_invoice_currency, check_plan_id, event_exists,
    invoice_exists, subscription_exists,
};
use crate::subscription::{Customer, Subscription};
use crate::usage::{PeriodUsage, Return, Shipment, UsageQueryTemplate, find_query};

use super::usage::{WINDOWS_PER_STATEMENT, Window};

/// Rows per multi-row INSERT or `IN (...)` list, far below SQLite's limit on bound variables.
const CHUNK: usize = 500;

/// Usage statements of a page in flight at once, each on its own connection (the pool has 10),
/// each reading [`WINDOWS_PER_STATEMENT`] windows: a page of 256 reads on up to 4 threads.
const USAGE_IN_FLIGHT: usize = 4;

type Tx = Transaction<'static, Sqlite>;

impl SqliteStore {
    /// A write transaction that holds the database's write lock from its first statement, so what
    /// it reads stays true until it commits; waits up to the busy timeout for another writer.
    async fn write(&self, action: &str) -> Result<Tx> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(storage(format!("starting to {action}")))
    }
}

async fn commit(tx: Tx, action: &str) -> Result<()> {
    tx.commit()
        .await
        .map_err(storage(format!("committing {action}")))
}

/// Runs an outbox update whose statement `head` ends with `id IN (`, over `ids` in chunks of
/// [`CHUNK`] bound ids, inside `tx`.
async fn update_events(
    tx: &mut Tx,
    action: &str,
    ids: &[String],
    head: impl Fn() -> QueryBuilder<Sqlite>,
) -> Result<()> {
    for chunk in ids.chunks(CHUNK) {
        let mut update = head();
        let mut list = update.separated(", ");
        for id in chunk {
            list.push_bind(id.clone());
        }
        update.push(")");
        update
            .build()
            .execute(&mut **tx)
            .await
            .map_err(storage(action))?;
    }
    Ok(())
}

/// Ends a transaction that decided to write nothing.
async fn roll_back(tx: Tx, action: &str) -> Result<()> {
    tx.rollback()
        .await
        .map_err(storage(format!("rolling back {action}")))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether a row matching `sql` (a `SELECT 1 ... WHERE` over the bound `keys`) exists.
async fn exists(conn: &mut SqliteConnection, sql: &'static str, keys: &[&str]) -> Result<bool> {
    let mut query = sqlx::query(sql);
    for key in keys {
        query = query.bind(key.to_string());
    }
    query
        .fetch_optional(&mut *conn)
        .await
        .map(|row| row.is_some())
        .map_err(storage("checking what a write names"))
}

async fn require_account(conn: &mut SqliteConnection, account_id: &str) -> Result<()> {
    if exists(conn, "SELECT 1 FROM accounts WHERE id = ?1", &[account_id]).await? {
        Ok(())
    } else {
        Err(Error::NotFound {
            what: "account",
            id: account_id.to_owned(),
        })
    }
}

/// Writes `events` to the outbox in one statement (the events bound as one JSON array). An id
/// given twice is [`Error::InvalidInput`], one already in the outbox [`Error::Conflict`], naming it.
async fn insert_events(conn: &mut SqliteConnection, events: &[AuditEvent]) -> Result<()> {
    insert_event_rows(conn, event_rows(events)?).await
}

/// `events` checked ([`check_event_batch`]) and as the rows of [`INSERT_EVENTS`].
fn event_rows<'a>(events: impl IntoIterator<Item = &'a AuditEvent> + Clone) -> Result<JsonRows> {
    check_event_batch(events.clone())?;
    let mut json = JsonRows::new();
    for event in events {
        let data = serde_json::to_string(&event.data).map_err(storage(format!(
            "encoding the data of event {:?}",
            event.id
        )))?;
        json.row()
            .text(&event.id)
            .int(micros(event.time))
            .text(&event.account_id)
            .text(&event.actor)
            .text(event.action.as_str())
            .text(&rows::name_of(&event.subject_kind)?)
            .text(&event.subject_id)
            .opt_text(event.run_id.as_deref())
            .opt_text(event.correlation_id.as_deref())
            .text(&data);
    }
    Ok(json)
}

/// Writes checked [`event_rows`]; an id already in the outbox is [`Error::Conflict`] naming it.
async fn insert_event_rows(conn: &mut SqliteConnection, json: JsonRows) -> Result<()> {
    if json.len() == 0 {
        return Ok(());
    }
    let json = json.finish();
    if let Err(error) = sqlx::query(INSERT_EVENTS)
        .bind(&json)
        .execute(&mut *conn)
        .await
    {
        if !is_unique_violation(&error) {
            return Err(storage("writing audit events")(error));
        }
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM audit_outbox WHERE id IN (SELECT value ->> 0 FROM json_each(?1)) \
             ORDER BY seq LIMIT 1",
        )
        .bind(&json)
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage("finding an existing event id"))?;
        return Err(match id {
            Some(id) => event_exists(&id),
            None => storage("writing audit events")(error),
        });
    }
    Ok(())
}

/// The events of a [`JsonRows`] array, in array order (the order of their `seq`).
const INSERT_EVENTS: &str = "INSERT INTO audit_outbox (id, time, account_id, actor, action, \
     subject_kind, subject_id, run_id, correlation_id, data) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
         value ->> 6, value ->> 7, value ->> 8, value ->> 9 \
     FROM jsonb_each(?1) ORDER BY key";

/// Inserts an invoice and its children. `Ok(false)`, with nothing of the invoice written, when an
/// invoice for the same period (or with the same id) exists; the caller then rolls back.
async fn insert_invoice(conn: &mut SqliteConnection, issued: &IssuedInvoice) -> Result<bool> {
    let invoice = &issued.invoice;
    check_invoice_currency(invoice)?;
    let action = || format!("writing invoice {:?}", issued.id);
    let inserted = sqlx::query(
        "INSERT INTO invoices (account_id, id, subscription_id, customer_id, plan_id, \
         plan_version, quantity, billing_reason, status, period_index, issue_date, period_start, \
         period_end, currency, subtotal, tax, tax_inclusive, total, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
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
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(error) if is_unique_violation(&error) => return Ok(false),
        Err(error) => return Err(storage(action())(error)),
    }
    let key = (issued.account_id.as_str(), issued.id.as_str());
    let children = async {
        insert_children(
            conn,
            key,
            "INSERT INTO invoice_line_items \
         (account_id, invoice_id, position, description, kind, amount) ",
            &invoice.line_items,
            |row, line| {
                row.push_bind(line.description.clone())
                    .push_bind(rows::charge_kind_name(line.kind))
                    .push_bind(line.amount.minor());
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

/// The revisions of a page's subscriptions (`?1`: a [`JsonRows`] array of (account, id)), each
/// found by the primary key.
const SELECT_REVISIONS: &str = "SELECT s.account_id, s.id, s.revision \
     FROM jsonb_each(?1) AS k JOIN subscriptions AS s \
       ON s.account_id = k.value ->> 0 AND s.id = k.value ->> 1";

/// A page's invoice heads in one statement, in array order; a head whose id or period already
/// has an invoice is skipped (the caller compares the count written).
const INSERT_HEADS: &str = "INSERT INTO invoices (account_id, id, subscription_id, customer_id, \
     plan_id, plan_version, quantity, billing_reason, status, period_index, issue_date, \
     period_start, period_end, currency, subtotal, tax, tax_inclusive, total, created_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
         value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, \
         value ->> 12, value ->> 13, value ->> 14, value ->> 15, value ->> 16, value ->> 17, \
         value ->> 18 \
     FROM jsonb_each(?1) WHERE true ORDER BY key \
     ON CONFLICT DO NOTHING";

const INSERT_LINE_ITEMS: &str = "INSERT INTO invoice_line_items \
     (account_id, invoice_id, position, description, kind, amount) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 \
     FROM jsonb_each(?1) ORDER BY key";

const INSERT_TAX_LINES: &str = "INSERT INTO invoice_tax_lines \
     (account_id, invoice_id, position, name, rate, amount) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 \
     FROM jsonb_each(?1) ORDER BY key";

const INSERT_REVENUE: &str = "INSERT INTO revenue_schedule \
     (account_id, invoice_id, position, month, start_date, end_date, days, amount) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
         value ->> 6, value ->> 7 \
     FROM jsonb_each(?1) ORDER BY key";

/// Each subscription's new state, over its existing row.
const UPSERT_STATES: &str = "INSERT INTO subscriptions (account_id, id, customer_id, plan_id, \
     quantity, start_date, status, current_period, current_period_start, current_period_end, \
     next_invoice_period, next_invoice_at, revision, created_at, updated_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
         value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, \
         value ->> 12, value ->> 13, value ->> 14 \
     FROM jsonb_each(?1) WHERE true ORDER BY key \
     ON CONFLICT (account_id, id) DO UPDATE SET customer_id = excluded.customer_id, \
     plan_id = excluded.plan_id, quantity = excluded.quantity, \
     start_date = excluded.start_date, status = excluded.status, \
     current_period = excluded.current_period, \
     current_period_start = excluded.current_period_start, \
     current_period_end = excluded.current_period_end, \
     next_invoice_period = excluded.next_invoice_period, \
     next_invoice_at = excluded.next_invoice_at, revision = excluded.revision, \
     created_at = excluded.created_at, updated_at = excluded.updated_at";

/// What a page's requests come to: each one's outcome, the accepted ones in order, each
/// subscription's last new state (in the order first met) and the invoice heads to write.
struct Decided<'a> {
    outcomes: Vec<Result<CommitOutcome>>,
    accepted: Vec<&'a SubscriptionCommit>,
    states: Vec<&'a Subscription>,
    heads: Vec<&'a IssuedInvoice>,
}

/// How [`decide`] learns whether a head is written.
enum Heads<'t> {
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
async fn decide<'a>(
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
async fn insert_head(tx: &mut Tx, issued: &IssuedInvoice) -> Result<bool> {
    let written = sqlx::query(INSERT_HEADS)
        .bind(head_rows(&[issued]).finish())
        .execute(&mut **tx)
        .await
        .map_err(storage(format!("writing invoice {:?}", issued.id)))?;
    Ok(written.rows_affected() == 1)
}

/// Invoice heads as the rows of [`INSERT_HEADS`].
fn head_rows(heads: &[&IssuedInvoice]) -> JsonRows {
    let mut json = JsonRows::new();
    for issued in heads {
        let invoice = &issued.invoice;
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
            .int(micros(issued.created_at));
    }
    json
}

async fn run_sql(tx: &mut Tx, sql: &'static str, action: &str) -> Result<()> {
    sqlx::query(sql)
        .execute(&mut **tx)
        .await
        .map(|_| ())
        .map_err(storage(action))
}

/// Runs one of the page statements over `json` (skipped when it has no row).
async fn execute_rows(tx: &mut Tx, sql: &'static str, json: JsonRows, action: &str) -> Result<u64> {
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
fn expected_revisions(requests: &[SubscriptionCommit]) -> HashMap<(String, String), i64> {
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
        let heads = head_rows(&decided.heads);
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
struct PageRows {
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
                    .int(line.amount.minor());
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
                .int(micros(subscription.updated_at));
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
async fn commit_page(tx: &mut Tx, page: PreparedPage<'_>) -> Result<Vec<Result<CommitOutcome>>> {
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
        let json = heads.unwrap_or_else(|| head_rows(&decided.heads));
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

/// Inserts one child table of an invoice (`insert_into` names its columns, the key and position
/// first), chunked multi-row INSERTs of (account, invoice, position) then what `push` binds for
/// an item. The three child tables differ only in their columns.
async fn insert_children<T>(
    conn: &mut SqliteConnection,
    (account_id, invoice_id): (&str, &str),
    insert_into: &'static str,
    items: &[T],
    push: impl Fn(&mut Separated<'_, Sqlite, &'static str>, &T),
) -> std::result::Result<(), sqlx::Error> {
    let items: Vec<_> = items.iter().enumerate().collect();
    for chunk in items.chunks(CHUNK) {
        let mut insert = QueryBuilder::<Sqlite>::new(insert_into);
        insert.push_values(chunk, |mut row, (position, item)| {
            row.push_bind(account_id.to_owned())
                .push_bind(invoice_id.to_owned())
                .push_bind(*position as i64);
            push(&mut row, item);
        });
        insert.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The subscription's columns after its key, bound in [`SUBSCRIPTION_COLUMNS`] order.
fn bind_subscription<'q>(
    query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>,
    subscription: &Subscription,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments> {
    query
        .bind(subscription.account_id.clone())
        .bind(subscription.id.clone())
        .bind(subscription.customer_id.clone())
        .bind(subscription.plan_id.clone())
        .bind(i64::from(subscription.quantity))
        .bind(date_text(subscription.start_date))
        .bind(subscription.status.as_str())
        .bind(i64::from(subscription.current_period))
        .bind(date_text(subscription.current_period_start))
        .bind(date_text(subscription.current_period_end))
        .bind(i64::from(subscription.next_invoice_period))
        .bind(subscription.next_invoice_at.map(micros))
        .bind(subscription.revision)
        .bind(micros(subscription.created_at))
        .bind(micros(subscription.updated_at))
}

/// The due query: `?1` due by, `?2` limit, and with `after`, `?3`/`?4` the cursor. The literal
/// `status = 'active' AND next_invoice_at IS NOT NULL` matches the WHERE of the partial index
/// `subscriptions_due`, which is in (account_id, id) order: SQLite walks it from the cursor and
/// stops after `limit` due rows, with no sort.
fn due_sql(after: bool) -> String {
    let cursor = if after {
        "AND (account_id, id) > (?3, ?4) "
    } else {
        ""
    };
    format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
         WHERE status = 'active' AND next_invoice_at IS NOT NULL AND next_invoice_at <= ?1 \
         {cursor}ORDER BY account_id, id LIMIT ?2"
    )
}

/// The latest version of each plan of an account: `?1` the account, `?2` the cursor (`''` for
/// none: every stored plan id is non-empty, so after `''` is all of them), `?3` the limit (-1 for
/// none). The primary key (account_id, plan_id, version) serves it all: SQLite walks it from the
/// cursor in plan id order (no sort) and finds each plan's `MAX(version)` with one seek.
const LIST_PLANS: &str = "SELECT account_id, plan_id, version, plan_json, program_json, \
     interpreter, created_at FROM plan_versions AS v \
     WHERE account_id = ?1 AND plan_id > ?2 \
       AND version = (SELECT MAX(version) FROM plan_versions AS p \
                      WHERE p.account_id = v.account_id AND p.plan_id = v.plan_id) \
     ORDER BY plan_id LIMIT ?3";

fn fetch_failed(what: &str) -> impl FnOnce(sqlx::Error) -> Error {
    storage(format!("reading {what}"))
}

/// Groups child rows by their invoice key.
fn by_invoice<T>(
    rows: &[SqliteRow],
    table: &'static str,
    heads: &HashMap<(String, String), crate::money::Currency>,
    read: impl Fn(&SqliteRow, crate::money::Currency) -> Result<T>,
) -> Result<HashMap<(String, String), Vec<T>>> {
    let mut grouped: HashMap<(String, String), Vec<T>> = HashMap::new();
    for row in rows {
        let key = rows::invoice_key(row, table)?;
        let Some(currency) = heads.get(&key) else {
            continue;
        };
        let item = read(row, *currency)?;
        grouped.entry(key).or_default().push(item);
    }
    Ok(grouped)
}

#[async_trait]
impl BillingState for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        self.run_migrations().await
    }

    async fn put_account(&self, account: &Account, events: &[AuditEvent]) -> Result<()> {
        let action = format!("saving account {:?}", account.id);
        let mut tx = self.write(&action).await?;
        sqlx::query(
            "INSERT INTO accounts (id, abstracted, timezone, tax_inclusive) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET abstracted = excluded.abstracted, \
             timezone = excluded.timezone, tax_inclusive = excluded.tax_inclusive",
        )
        .bind(account.id.clone())
        .bind(account.abstracted)
        .bind(account.timezone.name())
        .bind(account.tax_inclusive)
        .execute(&mut *tx)
        .await
        .map_err(storage(action.clone()))?;
        insert_events(&mut tx, events).await?;
        commit(tx, &action).await
    }

    async fn account(&self, id: &str) -> Result<Option<Account>> {
        sqlx::query("SELECT id, abstracted, timezone, tax_inclusive FROM accounts WHERE id = ?1")
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(fetch_failed("accounts"))?
            .as_ref()
            .map(rows::account)
            .transpose()
    }

    async fn put_customer(&self, customer: &Customer, events: &[AuditEvent]) -> Result<()> {
        let action = format!("saving customer {:?}", customer.id);
        let mut tx = self.write(&action).await?;
        require_account(&mut tx, &customer.account_id).await?;
        let address = customer.tax_address.as_ref();
        sqlx::query(
            "INSERT INTO customers \
             (account_id, id, tax_country, tax_region, tax_postal_code, tax_exempt) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (account_id, id) DO UPDATE SET tax_country = excluded.tax_country, \
             tax_region = excluded.tax_region, tax_postal_code = excluded.tax_postal_code, \
             tax_exempt = excluded.tax_exempt",
        )
        .bind(customer.account_id.clone())
        .bind(customer.id.clone())
        .bind(address.map(|a| a.country.clone()))
        .bind(address.and_then(|a| a.region.clone()))
        .bind(address.and_then(|a| a.postal_code.clone()))
        .bind(customer.tax_exempt)
        .execute(&mut *tx)
        .await
        .map_err(storage(action.clone()))?;
        insert_events(&mut tx, events).await?;
        commit(tx, &action).await
    }

    async fn customer(&self, account_id: &str, id: &str) -> Result<Option<Customer>> {
        sqlx::query(
            "SELECT account_id, id, tax_country, tax_region, tax_postal_code, tax_exempt \
             FROM customers WHERE account_id = ?1 AND id = ?2",
        )
        .bind(account_id.to_owned())
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(fetch_failed("customers"))?
        .as_ref()
        .map(rows::customer)
        .transpose()
    }

    async fn insert_plan_version(
        &self,
        version: &PlanVersion,
        events: &[AuditEvent],
    ) -> Result<bool> {
        let plan_id = version.plan_id();
        let plan_json = serde_json::to_string(&version.plan)
            .map_err(storage(format!("encoding plan {plan_id:?}")))?;
        let program_json = serde_json::to_string(&version.program)
            .map_err(storage(format!("encoding the program of plan {plan_id:?}")))?;
        let action = format!("saving version {} of plan {plan_id:?}", version.version);
        let mut tx = self.write(&action).await?;
        require_account(&mut tx, &version.account_id).await?;
        check_plan_id(plan_id)?;
        let latest: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM plan_versions \
             WHERE account_id = ?1 AND plan_id = ?2",
        )
        .bind(version.account_id.clone())
        .bind(plan_id.to_owned())
        .fetch_one(&mut *tx)
        .await
        .map_err(storage(action.clone()))?;
        if i64::from(version.version) != latest + 1 {
            roll_back(tx, &action).await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO plan_versions (account_id, plan_id, version, plan_json, program_json, \
             interpreter, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(version.account_id.clone())
        .bind(plan_id.to_owned())
        .bind(i64::from(version.version))
        .bind(plan_json)
        .bind(program_json)
        .bind(version.interpreter.clone())
        .bind(micros(version.created_at))
        .execute(&mut *tx)
        .await
        .map_err(storage(action.clone()))?;
        insert_events(&mut tx, events).await?;
        commit(tx, &action).await?;
        Ok(true)
    }

    async fn plan_version(&self, query: &PlanQuery) -> Result<Option<PlanVersion>> {
        const COLUMNS: &str = "SELECT account_id, plan_id, version, plan_json, program_json, \
             interpreter, created_at FROM plan_versions WHERE account_id = ?1 AND plan_id = ?2";
        let sql = match query.version {
            Some(_) => sqlx::AssertSqlSafe(format!("{COLUMNS} AND version = ?3")),
            None => sqlx::AssertSqlSafe(format!("{COLUMNS} ORDER BY version DESC LIMIT 1")),
        };
        let mut select = sqlx::query(sql)
            .bind(query.account_id.clone())
            .bind(query.plan_id.clone());
        if let Some(version) = query.version {
            select = select.bind(i64::from(version));
        }
        select
            .fetch_optional(&self.pool)
            .await
            .map_err(fetch_failed("plan_versions"))?
            .as_ref()
            .map(rows::plan_version)
            .transpose()
    }

    async fn list_plans(&self, query: &PlanListQuery) -> Result<Vec<PlanVersion>> {
        sqlx::query(LIST_PLANS)
            .bind(query.account_id.clone())
            .bind(query.after.clone().unwrap_or_default())
            .bind(query.limit.map_or(-1, i64::from))
            .fetch_all(&self.pool)
            .await
            .map_err(fetch_failed("plan_versions"))?
            .iter()
            .map(rows::plan_version)
            .collect()
    }

    async fn insert_subscription(&self, request: &NewSubscription) -> Result<()> {
        let subscription = &request.subscription;
        let action = format!("creating subscription {:?}", subscription.id);
        let mut tx = self.write(&action).await?;
        require_account(&mut tx, &subscription.account_id).await?;
        let keys = [
            subscription.account_id.as_str(),
            subscription.customer_id.as_str(),
        ];
        if !exists(
            &mut tx,
            "SELECT 1 FROM customers WHERE account_id = ?1 AND id = ?2",
            &keys,
        )
        .await?
        {
            return Err(Error::NotFound {
                what: "customer",
                id: subscription.customer_id.clone(),
            });
        }
        let insert = bind_subscription(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
            ))),
            subscription,
        );
        match insert.execute(&mut *tx).await {
            Ok(_) => {}
            Err(error) if is_unique_violation(&error) => {
                return Err(subscription_exists(subscription));
            }
            Err(error) => return Err(storage(action)(error)),
        }
        if let Some(invoice) = &request.invoice
            && !insert_invoice(&mut tx, invoice).await?
        {
            return Err(invoice_exists(invoice));
        }
        insert_events(&mut tx, &request.events).await?;
        commit(tx, &action).await
    }

    async fn subscription(&self, account_id: &str, id: &str) -> Result<Option<Subscription>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE account_id = ?1 AND id = ?2"
        )))
        .bind(account_id.to_owned())
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(fetch_failed("subscriptions"))?
        .as_ref()
        .map(rows::subscription)
        .transpose()
    }

    async fn commit(&self, request: &SubscriptionCommit) -> Result<CommitOutcome> {
        request.check_revision()?;
        let subscription = &request.subscription;
        let action = format!("updating subscription {:?}", subscription.id);
        let mut tx = self.write(&action).await?;
        let revision: Option<i64> = sqlx::query_scalar(
            "SELECT revision FROM subscriptions WHERE account_id = ?1 AND id = ?2",
        )
        .bind(subscription.account_id.clone())
        .bind(subscription.id.clone())
        .fetch_optional(&mut *tx)
        .await
        .map_err(storage(action.clone()))?;
        if revision != Some(request.expected_revision) {
            roll_back(tx, &action).await?;
            return Ok(CommitOutcome::Stale);
        }
        if let Some(invoice) = &request.invoice
            && !insert_invoice(&mut tx, invoice).await?
        {
            roll_back(tx, &action).await?;
            return Ok(CommitOutcome::InvoiceExists);
        }
        let update = bind_subscription(
            sqlx::query(
                "UPDATE subscriptions SET account_id = ?1, id = ?2, customer_id = ?3, \
                 plan_id = ?4, quantity = ?5, start_date = ?6, status = ?7, current_period = ?8, \
                 current_period_start = ?9, current_period_end = ?10, next_invoice_period = ?11, \
                 next_invoice_at = ?12, revision = ?13, created_at = ?14, updated_at = ?15 \
                 WHERE account_id = ?1 AND id = ?2 AND revision = ?16",
            ),
            subscription,
        )
        .bind(request.expected_revision);
        let updated = update
            .execute(&mut *tx)
            .await
            .map_err(storage(action.clone()))?;
        if updated.rows_affected() != 1 {
            // Cannot happen under the write lock taken before the revision was read.
            roll_back(tx, &action).await?;
            return Ok(CommitOutcome::Stale);
        }
        insert_events(&mut tx, &request.events).await?;
        commit(tx, &action).await?;
        Ok(CommitOutcome::Committed)
    }

    async fn customers(&self, keys: &[(String, String)]) -> Result<Vec<Option<Customer>>> {
        let mut found: HashMap<(String, String), Customer> = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(CHUNK) {
            let mut select = QueryBuilder::<Sqlite>::new(
                "SELECT account_id, id, tax_country, tax_region, tax_postal_code, tax_exempt \
                 FROM customers WHERE (account_id, id) IN (VALUES ",
            );
            let mut list = select.separated(", ");
            for (account_id, id) in chunk {
                list.push("(")
                    .push_bind_unseparated(account_id.clone())
                    .push_unseparated(", ")
                    .push_bind_unseparated(id.clone())
                    .push_unseparated(")");
            }
            select.push(")");
            for row in select
                .build()
                .persistent(false)
                .fetch_all(&self.pool)
                .await
                .map_err(fetch_failed("customers"))?
            {
                let customer = rows::customer(&row)?;
                found.insert((customer.account_id.clone(), customer.id.clone()), customer);
            }
        }
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }

    async fn commit_claimed(
        &self,
        page: ClaimedPage,
        requests: &[SubscriptionCommit],
    ) -> Result<Vec<Result<CommitOutcome>>> {
        drop(page);
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let action = "committing a page of renewals";
        let page = PreparedPage::new(requests).await?;
        let mut tx = self.write(action).await?;
        let outcomes = commit_page(&mut tx, page).await?;
        commit(tx, action).await?;
        Ok(outcomes)
    }

    async fn due_subscriptions(&self, query: &DueQuery) -> Result<Vec<Subscription>> {
        let sql = due_sql(query.after.is_some());
        let mut select = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(micros(query.due_by))
            .bind(i64::from(query.limit));
        if let Some((account_id, id)) = &query.after {
            select = select.bind(account_id.clone()).bind(id.clone());
        }
        select
            .fetch_all(&self.pool)
            .await
            .map_err(fetch_failed("due subscriptions"))?
            .iter()
            .map(rows::subscription)
            .collect()
    }

    async fn invoices(&self, query: &InvoiceQuery) -> Result<Vec<IssuedInvoice>> {
        // The chosen invoices, as a CTE the children are joined to, so each table is read once.
        let mut chosen = String::from("SELECT * FROM invoices WHERE 1 = 1");
        let mut binds: Vec<i64> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        if let Some(account_id) = &query.account_id {
            texts.push(account_id.clone());
            chosen.push_str(&format!(" AND account_id = ?{}", texts.len()));
        }
        if let Some(subscription_id) = &query.subscription_id {
            texts.push(subscription_id.clone());
            chosen.push_str(&format!(" AND subscription_id = ?{}", texts.len()));
        }
        chosen.push_str(" ORDER BY account_id, subscription_id, period_start");
        if let Some(limit) = query.limit {
            binds.push(i64::from(limit));
            chosen.push_str(&format!(" LIMIT ?{}", texts.len() + 1));
        }
        let with = format!("WITH chosen AS ({chosen}) ");
        let run = |sql: String| {
            let mut select = sqlx::query(sqlx::AssertSqlSafe(sql));
            for text in &texts {
                select = select.bind(text.clone());
            }
            for value in &binds {
                select = select.bind(*value);
            }
            select
        };

        // One read transaction: the invoices and their children from the same snapshot.
        let mut tx = self.pool.begin().await.map_err(fetch_failed("invoices"))?;
        let heads = run(format!(
            "{with}SELECT {INVOICE_COLUMNS} FROM chosen \
             ORDER BY account_id, subscription_id, period_start"
        ))
        .fetch_all(&mut *tx)
        .await
        .map_err(fetch_failed("invoices"))?;
        // Each child table of the chosen invoices, in (invoice, position) order.
        let mut children: [Vec<SqliteRow>; 3] = Default::default();
        let tables = [
            "invoice_line_items",
            "invoice_tax_lines",
            "revenue_schedule",
        ];
        for (rows, table) in children.iter_mut().zip(tables) {
            *rows = run(format!(
                "{with}SELECT c.* FROM {table} AS c JOIN chosen AS i \
                 ON c.account_id = i.account_id AND c.invoice_id = i.id \
                 ORDER BY c.account_id, c.invoice_id, c.position"
            ))
            .fetch_all(&mut *tx)
            .await
            .map_err(fetch_failed(table))?;
        }
        let [lines, taxes, revenue] = children;
        roll_back(tx, "reading invoices").await?;

        let heads = heads
            .iter()
            .map(rows::invoice_head)
            .collect::<Result<Vec<_>>>()?;
        let currencies: HashMap<(String, String), crate::money::Currency> = heads
            .iter()
            .map(|head| ((head.account_id.clone(), head.id.clone()), head.currency))
            .collect();
        let mut lines = by_invoice(&lines, "invoice_line_items", &currencies, rows::line_item)?;
        let mut taxes = by_invoice(&taxes, "invoice_tax_lines", &currencies, rows::tax_line)?;
        let mut revenue = by_invoice(
            &revenue,
            "revenue_schedule",
            &currencies,
            rows::revenue_entry,
        )?;
        Ok(heads
            .into_iter()
            .map(|head| {
                let key = (head.account_id.clone(), head.id.clone());
                let currency = head.currency;
                IssuedInvoice {
                    invoice: Invoice {
                        period_index: head.period_index,
                        issue_date: head.issue_date,
                        period_start: head.period_start,
                        period_end: head.period_end,
                        currency,
                        line_items: lines.remove(&key).unwrap_or_default(),
                        subtotal: Money::from_minor(head.subtotal, currency),
                        tax_lines: taxes.remove(&key).unwrap_or_default(),
                        tax: Money::from_minor(head.tax, currency),
                        tax_inclusive: head.tax_inclusive,
                        total: Money::from_minor(head.total, currency),
                        revenue_schedule: revenue.remove(&key).unwrap_or_default(),
                    },
                    id: head.id,
                    account_id: head.account_id,
                    subscription_id: head.subscription_id,
                    customer_id: head.customer_id,
                    plan_id: head.plan_id,
                    plan_version: head.plan_version,
                    quantity: head.quantity,
                    billing_reason: head.billing_reason,
                    status: head.status,
                    created_at: head.created_at,
                }
            })
            .collect())
    }

    async fn close(&self) -> Result<()> {
        self.pool.close().await;
        Ok(())
    }

    async fn stats(&self) -> Result<StoreStats> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM subscriptions) AS subscriptions, \
             (SELECT COUNT(*) FROM invoices) AS invoices, \
             (SELECT COUNT(*) FROM audit_outbox) AS audit_events, \
             (SELECT COUNT(*) FROM audit_outbox \
                 WHERE shipped_at IS NULL AND rejected_at IS NULL) AS audit_pending, \
             (SELECT COUNT(*) FROM audit_outbox WHERE rejected_at IS NOT NULL) AS audit_rejected",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(fetch_failed("counts"))?;
        Ok(StoreStats {
            subscriptions: rows::total(&row, "subscriptions", "subscriptions")?,
            invoices: rows::total(&row, "invoices", "invoices")?,
            audit_events: rows::total(&row, "audit_outbox", "audit_events")?,
            audit_pending: rows::total(&row, "audit_outbox", "audit_pending")?,
            audit_rejected: rows::total(&row, "audit_outbox", "audit_rejected")?,
        })
    }
}

#[async_trait]
impl UsageSource for SqliteStore {
    async fn usage_many(&self, requests: &[UsageRequest]) -> Result<Vec<Result<PeriodUsage>>> {
        // The windows that are well formed, by template, read a chunk per statement with a few
        // statements in flight (each on its own connection), beside the writes of another page.
        let mut read: Vec<Option<Result<PeriodUsage>>> = Vec::with_capacity(requests.len());
        let mut by_template: Vec<(&UsageQueryTemplate, Vec<usize>, Vec<Window<'_>>)> = Vec::new();
        for (index, request) in requests.iter().enumerate() {
            let checked = find_query(&request.query).and_then(|template| {
                let window = Window::new(
                    &request.account_id,
                    &request.customer_id,
                    request.from,
                    request.to,
                    request.tz,
                )?;
                Ok((template, window))
            });
            match checked {
                Ok((template, window)) => {
                    read.push(None);
                    match by_template
                        .iter_mut()
                        .find(|(t, _, _)| t.name == template.name)
                    {
                        Some((_, places, windows)) => {
                            places.push(index);
                            windows.push(window);
                        }
                        None => by_template.push((template, vec![index], vec![window])),
                    }
                }
                Err(error) => read.push(Some(Err(error))),
            }
        }
        let mut statements = Vec::new();
        for (template, places, windows) in &by_template {
            for (places, windows) in places
                .chunks(WINDOWS_PER_STATEMENT)
                .zip(windows.chunks(WINDOWS_PER_STATEMENT))
            {
                statements.push(async move {
                    Ok::<_, Error>((places, self.read_windows(template, windows).await?))
                });
            }
        }
        let mut statements =
            futures_util::stream::iter(statements).buffer_unordered(USAGE_IN_FLIGHT);
        while let Some(done) = statements.next().await {
            let (places, usages) = done?;
            for (&place, usage) in places.iter().zip(usages) {
                read[place] = Some(usage);
            }
        }
        Ok(read
            .into_iter()
            .map(|usage| {
                usage.unwrap_or_else(|| {
                    Err(Error::Storage {
                        action: "reading usage".to_owned(),
                        source: "a window was not read".into(),
                    })
                })
            })
            .collect())
    }

    async fn usage(&self, request: &UsageRequest) -> Result<PeriodUsage> {
        let template = find_query(&request.query)?;
        self.period_usage(
            template,
            &request.account_id,
            &request.customer_id,
            request.from,
            request.to,
            request.tz,
        )
        .await
    }
}

#[async_trait]
impl AuditOutbox for SqliteStore {
    async fn append_events(&self, events: &[AuditEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let action = "writing audit events";
        let mut tx = self.write(action).await?;
        insert_events(&mut tx, events).await?;
        commit(tx, action).await
    }

    async fn pending_events(&self, limit: u32) -> Result<Vec<AuditEvent>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM audit_outbox \
             WHERE shipped_at IS NULL AND rejected_at IS NULL ORDER BY seq LIMIT ?1"
        )))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(fetch_failed("pending events"))?
        .iter()
        .map(rows::event)
        .collect()
    }

    async fn mark_shipped(&self, ids: &[String], at: DateTime<Utc>) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let action = "marking events shipped";
        let mut tx = self.write(action).await?;
        update_events(&mut tx, action, ids, || {
            let mut update = QueryBuilder::<Sqlite>::new("UPDATE audit_outbox SET shipped_at = ");
            update.push_bind(micros(at)).push(
                ", rejected_at = NULL, reject_reason = NULL \
                     WHERE shipped_at IS NULL AND id IN (",
            );
            update
        })
        .await?;
        commit(tx, action).await
    }

    async fn mark_rejected(&self, rejected: &[(String, String)], at: DateTime<Utc>) -> Result<()> {
        if rejected.is_empty() {
            return Ok(());
        }
        let action = "marking events rejected";
        let mut tx = self.write(action).await?;
        // One statement per event: the reasons differ, and rejections are few. The first reason
        // of an id given twice stays, as the second finds the event rejected already.
        for (id, reason) in rejected {
            sqlx::query(
                "UPDATE audit_outbox SET rejected_at = ?1, reject_reason = ?2 \
                 WHERE id = ?3 AND shipped_at IS NULL AND rejected_at IS NULL",
            )
            .bind(micros(at))
            .bind(reason.clone())
            .bind(id.clone())
            .execute(&mut *tx)
            .await
            .map_err(storage(action))?;
        }
        commit(tx, action).await
    }

    async fn rejected_events(&self, limit: u32) -> Result<Vec<(AuditEvent, String)>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS}, reject_reason FROM audit_outbox \
             WHERE rejected_at IS NOT NULL ORDER BY seq LIMIT ?1"
        )))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(fetch_failed("rejected events"))?
        .iter()
        .map(rows::rejected_event)
        .collect()
    }

    async fn retry_rejected(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let action = "putting rejected events back to pending";
        let mut tx = self.write(action).await?;
        update_events(&mut tx, action, ids, || {
            QueryBuilder::<Sqlite>::new(
                "UPDATE audit_outbox SET rejected_at = NULL, reject_reason = NULL \
                 WHERE rejected_at IS NOT NULL AND id IN (",
            )
        })
        .await?;
        commit(tx, action).await
    }

    async fn events_for(&self, account_id: &str, subject_id: &str) -> Result<Vec<AuditEvent>> {
        // About the subject, or in an operation (correlation id) that has an event about it.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM audit_outbox WHERE account_id = ?1 AND (\
                 subject_id = ?2 \
                 OR correlation_id IN (SELECT correlation_id FROM audit_outbox \
                     WHERE account_id = ?1 AND subject_id = ?2 AND correlation_id IS NOT NULL)\
             ) ORDER BY seq"
        )))
        .bind(account_id.to_owned())
        .bind(subject_id.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(fetch_failed("events"))?
        .iter()
        .map(rows::event)
        .collect()
    }
}

#[async_trait]
impl UsageFixtures for SqliteStore {
    async fn insert_shipments(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Shipment],
    ) -> Result<()> {
        SqliteStore::insert_shipments(self, account_id, customer_id, rows).await
    }

    async fn insert_returns(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Return],
    ) -> Result<()> {
        SqliteStore::insert_returns(self, account_id, customer_id, rows).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The due query runs on the partial index, in its order: no table scan, no sort.
    #[tokio::test]
    async fn the_due_query_walks_the_partial_index() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        for after in [false, true] {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "EXPLAIN QUERY PLAN {}",
                due_sql(after)
            )))
            .bind(0_i64)
            .bind(10_i64)
            .bind("a")
            .bind("b")
            .fetch_all(&store.pool)
            .await
            .unwrap();
            let plan: Vec<String> = rows
                .iter()
                .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
                .collect();
            let plan = plan.join(" | ");
            assert!(plan.contains("subscriptions_due"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }

    /// Listing plans walks the primary key from the cursor and seeks each plan's latest version
    /// in it: no table scan, no sort.
    #[tokio::test]
    async fn listing_plans_walks_the_primary_key() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {LIST_PLANS}"
        )))
        .bind("acct_1")
        .bind("plan_a")
        .bind(10_i64)
        .fetch_all(&store.pool)
        .await
        .unwrap();
        let details: Vec<String> = rows
            .iter()
            .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
            .collect();
        let plan = details.join(" | ");
        // The primary key's index: walked from the cursor, then one seek per plan for its latest
        // version (covering: the subquery never reads the table).
        for step in [
            "SEARCH v USING INDEX sqlite_autoindex_plan_versions_1 (account_id=? AND plan_id>?)",
            "SEARCH p USING COVERING INDEX sqlite_autoindex_plan_versions_1 \
             (account_id=? AND plan_id=?)",
        ] {
            assert!(plan.contains(step), "{plan}");
        }
        assert!(!plan.contains("SCAN"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
