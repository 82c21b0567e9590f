//! [`BillingState`] for [`SqliteStore`]: every write one `BEGIN IMMEDIATE` transaction with its
//! events (the invoices and commits it writes in `commits`, credit notes in `credit_notes`, the
//! outbox in `outbox`, the usage source in `usage`).

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::filters::Filters;
use super::rows::{
    self, INVOICE_COLUMNS, SUBSCRIPTION_COLUMNS, bind_subscription, by_parent, micros,
};
use super::{SqliteStore, storage};
use crate::audit::AuditEvent;
use crate::credit_note::CreditNote;
use crate::error::{Error, Result};
use crate::invoice::IssuedInvoice;
use crate::plan::{Account, PlanVersion};
use crate::store::{
    BillingState, ClaimedPage, CommitOutcome, CreditNoteQuery, CustomerQuery, DueQuery,
    IdempotencyRecord, InvoiceQuery, NewSubscription, PlanListQuery, PlanQuery, StoreStats,
    SubscriptionCommit, SubscriptionQuery, check_plan_id, invoice_exists, subscription_exists,
};
use crate::subscription::{Customer, Subscription};

use super::commits::{PreparedPage, commit_each, commit_one, commit_page, insert_invoice};
use super::credit_notes::select_credit_notes;
use super::idempotency::{insert_record, select_record};
use super::outbox::insert_events;
use super::tx::{CHUNK, commit, fetch_failed, is_unique_violation, roll_back};

/// Whether a row matching `sql` (a `SELECT 1 ... WHERE` over the bound `keys`) exists.
pub(super) async fn exists(
    conn: &mut SqliteConnection,
    sql: &'static str,
    keys: &[&str],
) -> Result<bool> {
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

pub(super) async fn require_account(conn: &mut SqliteConnection, account_id: &str) -> Result<()> {
    if exists(conn, "SELECT 1 FROM accounts WHERE id = ?1", &[account_id]).await? {
        Ok(())
    } else {
        Err(Error::NotFound {
            what: "account",
            id: account_id.to_owned(),
        })
    }
}

/// The due query: `?1` due by, `?2` limit, and with `after`, `?3`/`?4` the cursor. The literal
/// `status = 'active' AND next_invoice_at IS NOT NULL` matches the WHERE of the partial index
/// `subscriptions_due`, which is in (account_id, id) order: SQLite walks it from the cursor and
/// stops after `limit` due rows, with no sort.
pub(super) fn due_sql(after: bool) -> String {
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
pub(super) const LIST_PLANS: &str = "SELECT account_id, plan_id, version, plan_json, program_json, \
     interpreter, created_at FROM plan_versions AS v \
     WHERE account_id = ?1 AND plan_id > ?2 \
       AND version = (SELECT MAX(version) FROM plan_versions AS p \
                      WHERE p.account_id = v.account_id AND p.plan_id = v.plan_id) \
     ORDER BY plan_id LIMIT ?3";

#[async_trait]
impl BillingState for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        self.run_migrations().await
    }

    async fn put_account(&self, account: &Account, events: &[AuditEvent]) -> Result<()> {
        let action = format!("saving account {:?}", account.id);
        let mut tx = self.write(&action).await?;
        sqlx::query(
            "INSERT INTO accounts (id, abstracted, timezone, tax_inclusive, locale) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (id) DO UPDATE SET abstracted = excluded.abstracted, \
             timezone = excluded.timezone, tax_inclusive = excluded.tax_inclusive, \
             locale = excluded.locale",
        )
        .bind(account.id.clone())
        .bind(account.abstracted)
        .bind(account.timezone.name())
        .bind(account.tax_inclusive)
        .bind(account.locale.tag().to_owned())
        .execute(&mut *tx)
        .await
        .map_err(storage(action.clone()))?;
        insert_events(&mut tx, events).await?;
        commit(tx, &action).await
    }

    async fn account(&self, id: &str) -> Result<Option<Account>> {
        sqlx::query(
            "SELECT id, abstracted, timezone, tax_inclusive, locale FROM accounts WHERE id = ?1",
        )
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
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
            ))),
            subscription,
        )?;
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
        insert_record(&mut tx, request.idempotency.as_ref()).await?;
        commit(tx, &action).await
    }

    async fn idempotency_record(
        &self,
        account_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(storage(format!("reading request {key:?}")))?;
        select_record(&mut conn, account_id, key).await
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
        let action = format!("updating subscription {:?}", request.subscription.id);
        let mut tx = self.write(&action).await?;
        // An error drops the transaction: nothing of the commit is written.
        let outcome = commit_one(&mut tx, request).await?;
        if outcome == CommitOutcome::Committed {
            commit(tx, &action).await?;
        } else {
            roll_back(tx, &action).await?;
        }
        Ok(outcome)
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
        if requests.iter().any(|request| {
            !request.credit_notes.is_empty()
                || !request.invoice_status.is_empty()
                || request.idempotency.is_some()
        }) {
            // Rare (a change settled at a renewal, a correction): each request on its own, in
            // order.
            let mut tx = self.write(action).await?;
            let outcomes = commit_each(&mut tx, requests).await?;
            commit(tx, action).await?;
            return Ok(outcomes);
        }
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

    async fn credit_notes(&self, query: &CreditNoteQuery) -> Result<Vec<CreditNote>> {
        select_credit_notes(&self.pool, query).await
    }

    async fn list_subscriptions(&self, query: &SubscriptionQuery) -> Result<Vec<Subscription>> {
        let mut filters = Filters::default();
        filters
            .eq("account_id", Some(&query.account_id))
            .eq("status", query.status.map(|status| status.as_str()))
            .eq("plan_id", query.plan_id.as_deref())
            .eq("customer_id", query.customer_id.as_deref())
            .page(&query.page, Some("created_at"), "id");
        let sql = filters.select(SUBSCRIPTION_COLUMNS, "subscriptions");
        filters
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(&self.pool)
            .await
            .map_err(fetch_failed("subscriptions"))?
            .iter()
            .map(rows::subscription)
            .collect()
    }

    async fn list_customers(&self, query: &CustomerQuery) -> Result<Vec<Customer>> {
        let mut filters = Filters::default();
        filters
            .eq("account_id", Some(&query.account_id))
            .page(&query.page, None, "id");
        let sql = filters.select(
            "account_id, id, tax_country, tax_region, tax_postal_code, tax_exempt",
            "customers",
        );
        filters
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(&self.pool)
            .await
            .map_err(fetch_failed("customers"))?
            .iter()
            .map(rows::customer)
            .collect()
    }

    async fn invoices(&self, query: &InvoiceQuery) -> Result<Vec<IssuedInvoice>> {
        // The chosen invoices, as a CTE the children are joined to, so each table is read once.
        let mut filters = Filters::default();
        filters
            .eq("account_id", query.account_id.as_deref())
            .eq("subscription_id", query.subscription_id.as_deref())
            .eq("customer_id", query.customer_id.as_deref())
            .eq("status", query.status.map(|status| status.as_str()))
            .dates("issue_date", query.issued_from, query.issued_to);
        let order = match &query.page {
            Some(page) => {
                filters.page(page, Some("created_at"), "id");
                format!("created_at {0}, id {0}", page.order.sql())
            }
            None => {
                const BY_PERIOD: &str = "account_id, subscription_id, period_start";
                filters.limit(BY_PERIOD, query.limit);
                BY_PERIOD.to_owned()
            }
        };
        let with = format!("WITH chosen AS ({}) ", filters.select("*", "invoices"));
        let run = |sql: String| filters.bind(sqlx::query(sqlx::AssertSqlSafe(sql)));

        // One read transaction: the invoices and their children from the same snapshot.
        let mut tx = self.pool.begin().await.map_err(fetch_failed("invoices"))?;
        let heads = run(format!(
            "{with}SELECT {INVOICE_COLUMNS} FROM chosen ORDER BY {order}"
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
        const PARENT: &str = "invoice_id";
        let mut lines = by_parent(
            &lines,
            "invoice_line_items",
            PARENT,
            &currencies,
            rows::line_item,
        )?;
        let mut taxes = by_parent(
            &taxes,
            "invoice_tax_lines",
            PARENT,
            &currencies,
            rows::tax_line,
        )?;
        let mut revenue = by_parent(
            &revenue,
            "revenue_schedule",
            PARENT,
            &currencies,
            rows::revenue_entry,
        )?;
        Ok(heads
            .into_iter()
            .map(|head| {
                let key = (head.account_id.clone(), head.id.clone());
                head.into_issued(
                    lines.remove(&key).unwrap_or_default(),
                    taxes.remove(&key).unwrap_or_default(),
                    revenue.remove(&key).unwrap_or_default(),
                )
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
