//! The PostgreSQL [`Store`](crate::store::Store) (feature `postgres`): the billing engine's state for production and
//! scale, with the platform's usage tables, through sqlx.
//!
//! The schema is created by the embedded migrations of `sql/migrations/postgres/`
//! ([`PostgresStore::migrate`]); its header explains the column types. What this adapter adds to
//! the store's contract:
//! - **Compare-and-set by row lock.** [`BillingState::commit`] reads the subscription's revision with
//!   `SELECT ... FOR UPDATE NOWAIT`: two writers over the same revision serialise on the row, the
//!   second sees the first's revision and reports [`CommitOutcome::Stale`], and a row another
//!   transaction holds right now is [`CommitOutcome::Busy`] (never waited for on a pooled
//!   connection).
//! - **No aborted transactions on duplicates.** Inserts that may meet an existing key use
//!   `ON CONFLICT DO NOTHING RETURNING`, so a duplicate is found without an error that would abort
//!   the transaction; the transaction is then rolled back (dropped) and nothing is written.
//! - **Changes as JSON, NULL when none.** A subscription's changes in force are one `json` column,
//!   NULL for the subscriptions nothing has changed, which are then written and read as before.
//! - **Batched rows.** An invoice's line items, tax lines and revenue schedule, a batch of events,
//!   shipments or returns are each one statement over `UNNEST` arrays, never a round trip per row.
//! - **Usage in SQL.** [`UsageSource::usage`] runs the template's PostgreSQL text once, with the
//!   server's time zone database.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::audit::AuditEvent;
use crate::credit_note::CreditNote;
use crate::error::{Error, Result};
use crate::invoice::IssuedInvoice;
use crate::plan::{Account, PlanVersion};
use crate::store::{
    AuditOutbox, BillingState, ClaimedPage, CommitOutcome, CreditNoteQuery, CustomerQuery,
    DueQuery, FeedPage, FeedQuery, IdempotencyRecord, InvoiceQuery, NewSubscription, PlanListQuery,
    PlanQuery, StoreStats, SubscriptionCommit, SubscriptionQuery, UsageFixtures, UsageRequest,
    UsageSource, check_event_batch, check_plan_id, invoice_exists, subscription_exists,
};
use crate::subscription::{Customer, Subscription};
use crate::usage::{PeriodUsage, Return, Shipment};

#[macro_use]
mod rows;
mod batch;
mod commits;
mod credit_notes;
mod error;
mod events;
mod feed;
mod idempotency;
mod invoices;
mod listing;
mod usage;
mod webhooks;

use commits::commit_one;
use credit_notes::select_credit_notes;
use error::{PgError, is_foreign_key_violation, storage, storage_error};
use events::insert_events;
use idempotency::{insert_record, select_record};
use invoices::{Inserted, insert_invoice, select_invoices};

/// The pool size [`PostgresStore::connect`] uses: enough for a billing run's concurrency and a
/// few readers, well under PostgreSQL's default limit of 100 connections.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long a call waits for a free connection before it fails, rather than hang when the pool
/// is exhausted or the server is gone.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting waits for the server to answer at all (a refusal fails at once).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The embedded migrations of `sql/migrations/postgres/`, compiled into the library.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../sql/migrations/postgres");

const ACCOUNT_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)";

const CUSTOMER_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM customers WHERE account_id = $1 AND id = $2)";

const UPSERT_ACCOUNT: &str = "INSERT INTO accounts (id, abstracted, timezone, tax_inclusive, \
         locale) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (id) DO UPDATE SET abstracted = EXCLUDED.abstracted, \
         timezone = EXCLUDED.timezone, tax_inclusive = EXCLUDED.tax_inclusive, \
         locale = EXCLUDED.locale";

const SELECT_ACCOUNT: &str =
    "SELECT id, abstracted, timezone, tax_inclusive, locale FROM accounts WHERE id = $1";

const UPSERT_CUSTOMER: &str = "INSERT INTO customers (account_id, id, tax_country, tax_region, \
     tax_postal_code, tax_exempt) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (account_id, id) DO UPDATE SET tax_country = EXCLUDED.tax_country, \
         tax_region = EXCLUDED.tax_region, tax_postal_code = EXCLUDED.tax_postal_code, \
         tax_exempt = EXCLUDED.tax_exempt";

const SELECT_CUSTOMER: &str = "SELECT account_id, id, tax_country, tax_region, tax_postal_code, \
     tax_exempt FROM customers WHERE account_id = $1 AND id = $2";

/// Written only when it is the next version: the check and the write are one statement, and the
/// primary key makes a concurrent writer of the same version skip (`DO NOTHING`) instead.
const INSERT_PLAN_VERSION: &str = "INSERT INTO plan_versions (account_id, plan_id, version, plan, \
     program, interpreter, created_at) \
     SELECT $1, $2, $3, $4::json, $5::json, $6, $7 \
     WHERE COALESCE((SELECT max(version) FROM plan_versions \
                     WHERE account_id = $1 AND plan_id = $2), 0) = $3 - 1 \
     ON CONFLICT DO NOTHING \
     RETURNING version";

const SELECT_PLAN_VERSION: &str = "SELECT account_id, version, plan::text AS plan, \
     program::text AS program, interpreter, created_at FROM plan_versions \
     WHERE account_id = $1 AND plan_id = $2 AND ($3::bigint IS NULL OR version = $3) \
     ORDER BY version DESC LIMIT 1";

/// The latest version of each plan of an account: `$1` the account, `$2` the cursor (`''` for
/// none: every stored plan id is non-empty, so after `''` is all of them), `$3` the limit (NULL is
/// `LIMIT ALL`). The primary key (account_id, plan_id, version), in `COLLATE "C"` order, serves
/// the walk from the cursor in plan id order and each plan's `max(version)`.
const LIST_PLANS: &str = "SELECT account_id, plan_id, version, plan::text AS plan, \
     program::text AS program, interpreter, created_at FROM plan_versions AS v \
     WHERE account_id = $1 AND plan_id > $2 \
       AND version = (SELECT max(version) FROM plan_versions AS p \
                      WHERE p.account_id = v.account_id AND p.plan_id = v.plan_id) \
     ORDER BY plan_id LIMIT $3";

const INSERT_SUBSCRIPTION: &str = "INSERT INTO subscriptions (account_id, id, customer_id, \
     plan_id, quantity, start_date, status, current_period, current_period_start, \
     current_period_end, next_invoice_period, next_invoice_at, revision, created_at, updated_at, \
     changes, billed_usage) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::json, \
         $17::json) \
     ON CONFLICT DO NOTHING \
     RETURNING id";

const UPDATE_SUBSCRIPTION: &str = "UPDATE subscriptions SET customer_id = $3, plan_id = $4, \
     quantity = $5, start_date = $6, status = $7, current_period = $8, current_period_start = $9, \
     current_period_end = $10, next_invoice_period = $11, next_invoice_at = $12, revision = $13, \
     created_at = $14, updated_at = $15, changes = $16::json, billed_usage = $17::json \
     WHERE account_id = $1 AND id = $2";

/// `NOWAIT`: a change never waits, holding a pooled connection, for a row a run's page holds
/// (enough of them would leave the page no connection to finish with); it is told `Busy`.
const LOCK_REVISION: &str =
    "SELECT revision FROM subscriptions WHERE account_id = $1 AND id = $2 FOR UPDATE NOWAIT";

const SELECT_SUBSCRIPTION: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE account_id = $1 AND id = $2"
);

const SELECT_DUE: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE status = 'active' AND next_invoice_at <= $1 \
       AND ($2::text IS NULL OR (account_id, id) > ($2, $3)) \
     ORDER BY account_id, id LIMIT $4"
);

const SELECT_PENDING: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM audit_outbox WHERE shipped_at IS NULL AND rejected_at IS NULL ORDER BY seq LIMIT $1"
);

/// Shipping an event also clears its rejection: the sink has it now.
const MARK_SHIPPED: &str = "UPDATE audit_outbox \
     SET shipped_at = $2, rejected_at = NULL, reject_reason = NULL \
     WHERE id = ANY($1) AND shipped_at IS NULL";

/// Each pending event of the list gets its reason; the first of an id given twice wins
/// (`DISTINCT ON` over the list's order), and events already shipped or rejected are left alone.
const MARK_REJECTED: &str = "UPDATE audit_outbox AS o \
     SET rejected_at = $3, reject_reason = r.reason \
     FROM (SELECT DISTINCT ON (id) id, reason \
           FROM UNNEST($1::text[], $2::text[]) WITH ORDINALITY AS u (id, reason, ord) \
           ORDER BY id, ord) AS r \
     WHERE o.id = r.id AND o.shipped_at IS NULL AND o.rejected_at IS NULL";

const SELECT_REJECTED: &str = concat!(
    "SELECT ",
    event_columns!(),
    ", reject_reason FROM audit_outbox WHERE rejected_at IS NOT NULL ORDER BY seq LIMIT $1"
);

const RETRY_REJECTED: &str = "UPDATE audit_outbox SET rejected_at = NULL, reject_reason = NULL \
     WHERE id = ANY($1) AND rejected_at IS NOT NULL";

/// Events about the subject, and every event sharing a correlation id with one of them (the
/// whole operation that touched the subject), in write order.
const SELECT_EVENTS_FOR: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM audit_outbox WHERE account_id = $1 AND (subject_id = $2 OR correlation_id IN ( \
         SELECT correlation_id FROM audit_outbox \
         WHERE account_id = $1 AND subject_id = $2 AND correlation_id IS NOT NULL)) \
     ORDER BY seq"
);

const SELECT_STATS: &str = "SELECT (SELECT count(*) FROM subscriptions) AS subscriptions, \
     (SELECT count(*) FROM invoices) AS invoices, \
     (SELECT count(*) FROM audit_outbox) AS audit_events, \
     (SELECT count(*) FROM audit_outbox WHERE shipped_at IS NULL AND rejected_at IS NULL) \
         AS audit_pending, \
     (SELECT count(*) FROM audit_outbox WHERE rejected_at IS NOT NULL) AS audit_rejected";

/// The billing engine's state in PostgreSQL. Cheap to clone (the pool is shared); hold it as
/// `Arc<dyn Store>`.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`) with a pool of
    /// [`DEFAULT_MAX_CONNECTIONS`]. Tables are not touched: call
    /// [`BillingState::migrate`] once at start.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Connects like [`PostgresStore::connect`] with at most `max_connections` connections (at
    /// least 1): size it to the callers' concurrency and the server's `max_connections`.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Self> {
        if max_connections == 0 {
            return Err(Error::invalid(
                "max_connections",
                "a pool needs at least 1 connection",
            ));
        }
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::invalid(
                "database url",
                format!("{url:?} is not a PostgreSQL url: use postgres://USER@HOST:PORT/DATABASE"),
            ));
        }
        let options = PgConnectOptions::from_str(url).map_err(|error| {
            Error::invalid(
                "database url",
                format!("{url:?} is not a PostgreSQL url ({error})"),
            )
        })?;
        probe(&options).await?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(storage("connecting to PostgreSQL"))?;
        Ok(Self { pool })
    }

    /// A store over an existing pool (shared with other code of the application).
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The pool, for the application's own queries and for closing it.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn begin(&self, action: &str) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool
            .begin()
            .await
            .map_err(storage(format!("starting to {action}")))
    }
}

/// Opens one connection and closes it, so a server that refuses it (nothing listening, a
/// database that does not exist, a bad password) fails at once with its own answer: the pool
/// retries a refused connection until its acquire timeout (30 s) and then reports only that.
/// A server that does not answer at all fails after [`CONNECT_TIMEOUT`].
async fn probe(options: &PgConnectOptions) -> Result<()> {
    use sqlx::Connection;
    let action = format!(
        "connecting to PostgreSQL at {}:{}",
        options.get_host(),
        options.get_port()
    );
    match tokio::time::timeout(CONNECT_TIMEOUT, sqlx::PgConnection::connect_with(options)).await {
        Ok(Ok(connection)) => {
            // Closing politely is a courtesy; the connection is dropped either way.
            let _ = connection.close().await;
            Ok(())
        }
        Ok(Err(error)) => Err(storage(action)(error)),
        Err(_) => Err(Error::Storage {
            action,
            source: Box::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the server did not answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ),
            )),
        }),
    }
}

/// Fails with [`Error::NotFound`] when the account does not exist.
async fn require_account(conn: &mut sqlx::PgConnection, account_id: &str) -> Result<()> {
    let exists: bool = sqlx::query_scalar(ACCOUNT_EXISTS)
        .bind(account_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(storage(format!("reading account {account_id:?}")))?;
    if exists {
        Ok(())
    } else {
        Err(Error::not_found("account", account_id))
    }
}

/// Binds every column of a subscription in the order of [`INSERT_SUBSCRIPTION`] and
/// [`UPDATE_SUBSCRIPTION`]; its changes as JSON text, NULL when there are none.
fn bind_subscription<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    subscription: &'q Subscription,
) -> Result<sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>> {
    let changes = rows::changes_json(&subscription.changes)?;
    let billed_usage = rows::billed_usage_json(&subscription.billed_usage)?;
    Ok(query
        .bind(&subscription.account_id)
        .bind(&subscription.id)
        .bind(&subscription.customer_id)
        .bind(&subscription.plan_id)
        .bind(i64::from(subscription.quantity))
        .bind(subscription.start_date)
        .bind(subscription.status.as_str())
        .bind(i64::from(subscription.current_period))
        .bind(subscription.current_period_start)
        .bind(subscription.current_period_end)
        .bind(i64::from(subscription.next_invoice_period))
        .bind(subscription.next_invoice_at)
        .bind(subscription.revision)
        .bind(subscription.created_at)
        .bind(subscription.updated_at)
        .bind(changes)
        .bind(billed_usage))
}

fn to_json<T: serde::Serialize>(value: &T, field: &str) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|error| Error::invalid(field, format!("cannot be written as JSON: {error}")))
}

fn count(value: i64, column: &'static str) -> Result<u64> {
    u64::try_from(value).map_err(|_| error::corrupt("stats", column, format!("{value}")))
}

#[async_trait]
impl BillingState for PostgresStore {
    /// Applies the embedded migrations. sqlx's migrator takes a PostgreSQL advisory lock for the
    /// run, so two processes migrating at once apply each migration once; applied migrations are
    /// recorded (with their checksum) in `_sqlx_migrations` and skipped.
    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await.map_err(|error| {
            storage_error("migrating the PostgreSQL schema", PgError::Migrate(error))
        })
    }

    async fn put_account(&self, account: &Account, events: &[AuditEvent]) -> Result<()> {
        check_event_batch(events)?;
        let mut tx = self.begin("save an account").await?;
        sqlx::query(UPSERT_ACCOUNT)
            .bind(&account.id)
            .bind(account.abstracted)
            .bind(account.timezone.name())
            .bind(account.tax_inclusive)
            .bind(account.locale.tag())
            .execute(&mut *tx)
            .await
            .map_err(storage(format!("writing account {:?}", account.id)))?;
        insert_events(&mut tx, events).await?;
        tx.commit().await.map_err(storage("committing an account"))
    }

    async fn account(&self, id: &str) -> Result<Option<Account>> {
        let row = sqlx::query(SELECT_ACCOUNT)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(storage(format!("reading account {id:?}")))?;
        row.as_ref().map(rows::account).transpose()
    }

    async fn put_customer(&self, customer: &Customer, events: &[AuditEvent]) -> Result<()> {
        let mut tx = self.begin("save a customer").await?;
        require_account(&mut tx, &customer.account_id).await?;
        check_event_batch(events)?;
        let address = customer.tax_address.as_ref();
        sqlx::query(UPSERT_CUSTOMER)
            .bind(&customer.account_id)
            .bind(&customer.id)
            .bind(address.map(|a| a.country.as_str()))
            .bind(address.and_then(|a| a.region.as_deref()))
            .bind(address.and_then(|a| a.postal_code.as_deref()))
            .bind(customer.tax_exempt)
            .execute(&mut *tx)
            .await
            .map_err(|error| {
                if is_foreign_key_violation(&error) {
                    // The account was deleted between the check and the write.
                    Error::not_found("account", customer.account_id.clone())
                } else {
                    storage(format!("writing customer {:?}", customer.id))(error)
                }
            })?;
        insert_events(&mut tx, events).await?;
        tx.commit().await.map_err(storage("committing a customer"))
    }

    async fn customer(&self, account_id: &str, id: &str) -> Result<Option<Customer>> {
        let row = sqlx::query(SELECT_CUSTOMER)
            .bind(account_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(storage(format!("reading customer {id:?}")))?;
        row.as_ref().map(rows::customer).transpose()
    }

    async fn insert_plan_version(
        &self,
        version: &PlanVersion,
        events: &[AuditEvent],
    ) -> Result<bool> {
        let mut tx = self.begin("save a plan version").await?;
        require_account(&mut tx, &version.account_id).await?;
        let plan_id = version.plan_id();
        check_plan_id(plan_id)?;
        if version.version == 0 {
            return Ok(false);
        }
        let plan = to_json(&version.plan, "plan")?;
        let program = to_json(&version.program, "program")?;
        let written: Option<i64> = sqlx::query_scalar(INSERT_PLAN_VERSION)
            .bind(&version.account_id)
            .bind(plan_id)
            .bind(i64::from(version.version))
            .bind(plan)
            .bind(program)
            .bind(version.interpreter.as_deref())
            .bind(version.created_at)
            .fetch_optional(&mut *tx)
            .await
            .map_err(storage(format!(
                "writing version {} of plan {plan_id:?}",
                version.version
            )))?;
        if written.is_none() {
            // Not the next version (or someone wrote it first): nothing is written.
            return Ok(false);
        }
        insert_events(&mut tx, events).await?;
        tx.commit()
            .await
            .map_err(storage("committing a plan version"))?;
        Ok(true)
    }

    async fn plan_version(&self, query: &PlanQuery) -> Result<Option<PlanVersion>> {
        let row = sqlx::query(SELECT_PLAN_VERSION)
            .bind(&query.account_id)
            .bind(&query.plan_id)
            .bind(query.version.map(i64::from))
            .fetch_optional(&self.pool)
            .await
            .map_err(storage(format!("reading plan {:?}", query.plan_id)))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let version = rows::plan_version(&row)?;
        rows::check_plan_key(&version, &query.plan_id)?;
        Ok(Some(version))
    }

    async fn list_plans(&self, query: &PlanListQuery) -> Result<Vec<PlanVersion>> {
        let found = sqlx::query(LIST_PLANS)
            .bind(&query.account_id)
            .bind(query.after.as_deref().unwrap_or_default())
            .bind(query.limit.map(i64::from))
            .fetch_all(&self.pool)
            .await
            .map_err(storage(format!(
                "listing the plans of account {:?}",
                query.account_id
            )))?;
        found.iter().map(rows::keyed_plan_version).collect()
    }

    async fn insert_subscription(&self, request: &NewSubscription) -> Result<()> {
        let mut tx = self.begin("create a subscription").await?;
        match write_subscription(&mut tx, request).await {
            Ok(()) => tx
                .commit()
                .await
                .map_err(storage("committing a subscription")),
            Err(error) => {
                // Rolled back now, not when the pool next uses the connection: a refused
                // creation (a key or an id taken by a twin) holds no transaction open.
                let _ = tx.rollback().await;
                Err(error)
            }
        }
    }

    async fn idempotency_record(
        &self,
        account_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        select_record(&self.pool, account_id, key).await
    }

    async fn subscription(&self, account_id: &str, id: &str) -> Result<Option<Subscription>> {
        let row = sqlx::query(SELECT_SUBSCRIPTION)
            .bind(account_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(storage(format!("reading subscription {id:?}")))?;
        row.as_ref().map(rows::subscription).transpose()
    }

    async fn commit(&self, request: &SubscriptionCommit) -> Result<CommitOutcome> {
        request.check_revision()?;
        let mut tx = self.begin("commit a subscription change").await?;
        let outcome = commit_one(&mut tx, request).await;
        if let Ok(CommitOutcome::Committed) = outcome {
            tx.commit()
                .await
                .map_err(storage("committing a subscription change"))?;
        } else {
            // Anything but Committed writes nothing. Rolled back now, not when the pool next
            // uses the connection: the row lock is gone before the caller goes on (a writer
            // after it never finds the row held by a change that is over).
            let _ = tx.rollback().await;
        }
        outcome
    }

    async fn customers(&self, keys: &[(String, String)]) -> Result<Vec<Option<Customer>>> {
        batch::customers(&self.pool, keys).await
    }

    /// Locks the page's rows in a transaction that stays open until the page is committed or
    /// dropped (`FOR UPDATE SKIP LOCKED`): runs in other processes skip them, and a run that
    /// dies lets them go at once.
    async fn claim_due(&self, query: &DueQuery) -> Result<ClaimedPage> {
        batch::claim_due(&self.pool, query).await
    }

    async fn commit_claimed(
        &self,
        page: ClaimedPage,
        requests: &[SubscriptionCommit],
    ) -> Result<Vec<Result<CommitOutcome>>> {
        batch::commit_claimed(&self.pool, page, requests).await
    }

    async fn due_subscriptions(&self, query: &DueQuery) -> Result<Vec<Subscription>> {
        let (after_account, after_id) = match &query.after {
            Some((account, id)) => (Some(account.as_str()), Some(id.as_str())),
            None => (None, None),
        };
        let found = sqlx::query(SELECT_DUE)
            .bind(query.due_by)
            .bind(after_account)
            .bind(after_id)
            .bind(i64::from(query.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(storage("reading due subscriptions"))?;
        found.iter().map(rows::subscription).collect()
    }

    async fn credit_notes(&self, query: &CreditNoteQuery) -> Result<Vec<CreditNote>> {
        select_credit_notes(&self.pool, query).await
    }

    async fn invoices(&self, query: &InvoiceQuery) -> Result<Vec<IssuedInvoice>> {
        select_invoices(&self.pool, query).await
    }

    async fn list_subscriptions(&self, query: &SubscriptionQuery) -> Result<Vec<Subscription>> {
        let mut select = listing::Listing::select(subscription_columns!(), "subscriptions");
        select
            .eq("account_id", Some(&query.account_id))
            .eq("status", query.status.map(|status| status.as_str()))
            .eq("plan_id", query.plan_id.as_deref())
            .eq("customer_id", query.customer_id.as_deref())
            .page(&query.page, Some("created_at"), "id");
        select
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(storage("listing subscriptions"))?
            .iter()
            .map(rows::subscription)
            .collect()
    }

    async fn list_customers(&self, query: &CustomerQuery) -> Result<Vec<Customer>> {
        let mut select = listing::Listing::select(
            "account_id, id, tax_country, tax_region, tax_postal_code, tax_exempt",
            "customers",
        );
        select
            .eq("account_id", Some(&query.account_id))
            .page(&query.page, None, "id");
        select
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(storage("listing customers"))?
            .iter()
            .map(rows::customer)
            .collect()
    }

    async fn close(&self) -> Result<()> {
        self.pool.close().await;
        Ok(())
    }

    async fn stats(&self) -> Result<StoreStats> {
        let row = sqlx::query(SELECT_STATS)
            .fetch_one(&self.pool)
            .await
            .map_err(storage("counting what the store holds"))?;
        const T: &str = "stats";
        Ok(StoreStats {
            subscriptions: count(rows::get(&row, T, "subscriptions")?, "subscriptions")?,
            invoices: count(rows::get(&row, T, "invoices")?, "invoices")?,
            audit_events: count(rows::get(&row, T, "audit_events")?, "audit_events")?,
            audit_pending: count(rows::get(&row, T, "audit_pending")?, "audit_pending")?,
            audit_rejected: count(rows::get(&row, T, "audit_rejected")?, "audit_rejected")?,
        })
    }
}

#[async_trait]
impl UsageSource for PostgresStore {
    async fn usage_many(&self, requests: &[UsageRequest]) -> Result<Vec<Result<PeriodUsage>>> {
        batch::usage_many(&self.pool, requests).await
    }

    async fn usage(&self, request: &UsageRequest) -> Result<PeriodUsage> {
        usage::usage(&self.pool, request).await
    }
}

#[async_trait]
impl AuditOutbox for PostgresStore {
    async fn append_events(&self, events: &[AuditEvent]) -> Result<()> {
        check_event_batch(events)?;
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin("append events").await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await.map_err(storage("committing events"))
    }

    async fn pending_events(&self, limit: u32) -> Result<Vec<AuditEvent>> {
        let found = sqlx::query(SELECT_PENDING)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(storage("reading pending events"))?;
        found.iter().map(rows::event).collect()
    }

    async fn mark_shipped(&self, ids: &[String], at: DateTime<Utc>) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query(MARK_SHIPPED)
            .bind(ids)
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(storage("marking events shipped"))?;
        Ok(())
    }

    async fn mark_rejected(&self, rejected: &[(String, String)], at: DateTime<Utc>) -> Result<()> {
        if rejected.is_empty() {
            return Ok(());
        }
        sqlx::query(MARK_REJECTED)
            .bind(
                rejected
                    .iter()
                    .map(|(id, _)| id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                rejected
                    .iter()
                    .map(|(_, reason)| reason.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(storage("marking events rejected"))?;
        Ok(())
    }

    async fn rejected_events(&self, limit: u32) -> Result<Vec<(AuditEvent, String)>> {
        let found = sqlx::query(SELECT_REJECTED)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(storage("reading rejected events"))?;
        found
            .iter()
            .map(|row| {
                Ok((
                    rows::event(row)?,
                    rows::get(row, "audit_outbox", "reject_reason")?,
                ))
            })
            .collect()
    }

    async fn retry_rejected(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query(RETRY_REJECTED)
            .bind(ids)
            .execute(&self.pool)
            .await
            .map_err(storage("putting rejected events back to pending"))?;
        Ok(())
    }

    async fn events_for(&self, account_id: &str, subject_id: &str) -> Result<Vec<AuditEvent>> {
        let found = sqlx::query(SELECT_EVENTS_FOR)
            .bind(account_id)
            .bind(subject_id)
            .fetch_all(&self.pool)
            .await
            .map_err(storage(format!("reading the events of {subject_id:?}")))?;
        found.iter().map(rows::event).collect()
    }

    async fn feed(&self, query: &FeedQuery) -> Result<FeedPage> {
        feed::feed(&self.pool, query).await
    }
}

#[async_trait]
impl UsageFixtures for PostgresStore {
    async fn insert_shipments(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Shipment],
    ) -> Result<()> {
        usage::insert_shipments(&self.pool, account_id, customer_id, rows).await
    }

    async fn insert_returns(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Return],
    ) -> Result<()> {
        usage::insert_returns(&self.pool, account_id, customer_id, rows).await
    }
}

/// The writes of [`BillingState::insert_subscription`] in `tx`; the caller commits or rolls back.
async fn write_subscription(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    request: &NewSubscription,
) -> Result<()> {
    let subscription = &request.subscription;
    require_account(tx, &subscription.account_id).await?;
    let customer_exists: bool = sqlx::query_scalar(CUSTOMER_EXISTS)
        .bind(&subscription.account_id)
        .bind(&subscription.customer_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(storage(format!(
            "reading customer {:?}",
            subscription.customer_id
        )))?;
    if !customer_exists {
        return Err(Error::not_found(
            "customer",
            subscription.customer_id.clone(),
        ));
    }
    let written = bind_subscription(sqlx::query(INSERT_SUBSCRIPTION), subscription)?
        .fetch_optional(&mut **tx)
        .await
        .map_err(|error| {
            if is_foreign_key_violation(&error) {
                Error::not_found("customer", subscription.customer_id.clone())
            } else {
                storage(format!("writing subscription {:?}", subscription.id))(error)
            }
        })?;
    if written.is_none() {
        return Err(subscription_exists(subscription));
    }
    if let Some(invoice) = &request.invoice
        && insert_invoice(tx, invoice).await? == Inserted::Exists
    {
        return Err(invoice_exists(invoice));
    }
    insert_events(tx, &request.events).await?;
    insert_record(tx, request.idempotency.as_ref()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port nothing listens on: one the system just gave out, closed again.
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn a_refused_connection_fails_at_once_naming_the_server() {
        let port = closed_port();
        let url = format!("postgres://postgres@127.0.0.1:{port}/billing");
        let started = std::time::Instant::now();
        let error = PostgresStore::connect(&url).await.unwrap_err();
        // The pool alone retried for its 30 s acquire timeout; the answer is immediate.
        assert!(started.elapsed() < Duration::from_secs(10), "{error}");
        let Error::Storage { action, source } = &error else {
            panic!("expected a storage error, got {error:?}");
        };
        assert_eq!(
            action,
            &format!("connecting to PostgreSQL at 127.0.0.1:{port}")
        );
        assert!(source.to_string().contains("refused"), "{source}");
    }
}
