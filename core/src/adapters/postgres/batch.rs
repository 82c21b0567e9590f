//! What a billing run does a page at a time on PostgreSQL: claiming due subscriptions
//! (`FOR UPDATE SKIP LOCKED`, held by the page's transaction), reading a page's customers and
//! usage in one statement each, and writing a page of renewals in a few set-based statements.

use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::commits::commit_each;
use super::error::{lock_unavailable, storage};
use super::events::insert_events;
use super::rows::{self, get};
use super::usage::{ceil_micros, read_output};
use crate::error::{Error, Result};
use crate::invoice::IssuedInvoice;
use crate::store::{
    ClaimedPage, CommitOutcome, DueQuery, SubscriptionCommit, UsageRequest, check_event_batch,
    check_invoice_currency, check_usage_window, invoice_extras_json,
};
use crate::subscription::{Customer, Subscription};
use crate::usage::{PeriodUsage, check_scope, find_query};

/// The due page, locked by the claiming transaction; rows another transaction holds are skipped.
/// The partial index `subscriptions_due` is walked from the cursor in (account, id) order.
const CLAIM_DUE: &str = concat!(
    "SELECT ",
    subscription_columns!(),
    " FROM subscriptions WHERE status = 'active' AND next_invoice_at <= $1 \
       AND ($2::text IS NULL OR (account_id, id) > ($2, $3)) \
     ORDER BY account_id, id LIMIT $4 FOR UPDATE SKIP LOCKED"
);

/// The revisions of a page's subscriptions, locked for the writes (at once when the page's own
/// claim holds them; `NOWAIT` otherwise: a row another transaction holds makes the page `Busy`).
const LOCK_REVISIONS: &str = "SELECT account_id, id, revision FROM subscriptions \
     WHERE (account_id, id) IN (SELECT * FROM UNNEST($1::text[], $2::text[])) \
     ORDER BY account_id, id FOR UPDATE NOWAIT";

const SELECT_CUSTOMERS: &str = "SELECT account_id, id, tax_country, tax_region, \
     tax_postal_code, tax_exempt FROM customers \
     WHERE (account_id, id) IN (SELECT * FROM UNNEST($1::text[], $2::text[]))";

/// A page's invoice heads in one statement; a conflict (the id, or the period billed) skips the
/// row, and `RETURNING` says which were written.
const INSERT_INVOICES: &str = "INSERT INTO invoices (account_id, id, subscription_id, \
     customer_id, plan_id, plan_version, quantity, billing_reason, status, created_at, \
     period_index, issue_date, period_start, period_end, currency, subtotal_minor, tax_minor, \
     tax_inclusive, total_minor, usage, settled, review) \
     SELECT a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t::json, u, v \
     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
         $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::timestamptz[], $11::bigint[], \
         $12::date[], $13::date[], $14::date[], $15::text[], $16::bigint[], $17::bigint[], \
         $18::bool[], $19::bigint[], $20::text[], $21::text[], $22::text[]) \
       AS x (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, v) \
     ON CONFLICT DO NOTHING \
     RETURNING account_id, id";

const INSERT_LINE_ITEMS: &str = "INSERT INTO invoice_line_items \
     (account_id, invoice_id, position, description, kind, amount_minor, basis) \
     SELECT a, b, c, d, e, f, g::jsonb FROM UNNEST($1::text[], $2::text[], $3::int[], \
         $4::text[], $5::text[], $6::bigint[], $7::text[]) AS x (a, b, c, d, e, f, g)";

const INSERT_TAX_LINES: &str = "INSERT INTO invoice_tax_lines \
     (account_id, invoice_id, position, name, rate, amount_minor) \
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], \
         $6::bigint[])";

const INSERT_REVENUE: &str = "INSERT INTO revenue_schedule \
     (account_id, invoice_id, position, month, start_date, end_date, days, amount_minor) \
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::int[], $4::text[], $5::date[], \
         $6::date[], $7::bigint[], $8::bigint[])";

const UPDATE_STATES: &str = "UPDATE subscriptions AS s SET customer_id = n.customer_id, \
     plan_id = n.plan_id, quantity = n.quantity, start_date = n.start_date, status = n.status, \
     current_period = n.current_period, current_period_start = n.current_period_start, \
     current_period_end = n.current_period_end, next_invoice_period = n.next_invoice_period, \
     next_invoice_at = n.next_invoice_at, revision = n.revision, created_at = n.created_at, \
     updated_at = n.updated_at, changes = n.changes::json, \
     billed_usage = n.billed_usage::json \
     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::date[], \
         $7::text[], $8::bigint[], $9::date[], $10::date[], $11::bigint[], $12::timestamptz[], \
         $13::bigint[], $14::timestamptz[], $15::timestamptz[], $16::text[], $17::text[]) \
       AS n (account_id, id, customer_id, plan_id, quantity, start_date, status, current_period, \
             current_period_start, current_period_end, next_invoice_period, next_invoice_at, \
             revision, created_at, updated_at, changes, billed_usage) \
     WHERE s.account_id = n.account_id AND s.id = n.id";

/// The claim's transaction, kept in the [`ClaimedPage`].
struct Claim(Transaction<'static, Postgres>);

pub(crate) async fn claim_due(pool: &PgPool, query: &DueQuery) -> Result<ClaimedPage> {
    let mut tx = pool
        .begin()
        .await
        .map_err(storage("starting to claim due subscriptions"))?;
    let (after_account, after_id) = match &query.after {
        Some((account, id)) => (Some(account.as_str()), Some(id.as_str())),
        None => (None, None),
    };
    let found = sqlx::query(CLAIM_DUE)
        .bind(query.due_by)
        .bind(after_account)
        .bind(after_id)
        .bind(i64::from(query.limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(storage("claiming due subscriptions"))?;
    let subscriptions = found
        .iter()
        .map(rows::subscription)
        .collect::<Result<Vec<_>>>()?;
    if subscriptions.is_empty() {
        // Nothing held: give the connection back at once.
        drop(tx);
        return Ok(ClaimedPage::unlocked(subscriptions));
    }
    Ok(ClaimedPage::held(subscriptions, Box::new(Claim(tx))))
}

pub(crate) async fn customers(
    pool: &PgPool,
    keys: &[(String, String)],
) -> Result<Vec<Option<Customer>>> {
    let accounts: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    let ids: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    let found = sqlx::query(SELECT_CUSTOMERS)
        .bind(&accounts)
        .bind(&ids)
        .fetch_all(pool)
        .await
        .map_err(storage("reading customers"))?;
    let mut by_key = HashMap::with_capacity(found.len());
    for row in &found {
        let customer = rows::customer(row)?;
        by_key.insert((customer.account_id.clone(), customer.id.clone()), customer);
    }
    Ok(keys.iter().map(|key| by_key.get(key).cloned()).collect())
}

/// The template's PostgreSQL text run once per window of a list in one statement: the template
/// as a `LATERAL` subquery over the windows' arrays, each `$n` of the template naming a column
/// of the window row. Only the predefined template's own text is rewritten; every value is
/// still bound.
fn lateral(template: &str) -> String {
    let body = template
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let body = body.trim().trim_end_matches(';');
    let body = body
        .replace("$1", "w.account_id")
        .replace("$2", "w.customer_id")
        .replace("$3", "w.from_at")
        .replace("$4", "w.to_at")
        .replace("$5", "w.tz");
    format!(
        "SELECT w.ord, t.* FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], \
         $4::timestamptz[], $5::text[]) WITH ORDINALITY \
         AS w (account_id, customer_id, from_at, to_at, tz, ord) \
         CROSS JOIN LATERAL ({body}) AS t ORDER BY w.ord, t.weekday"
    )
}

pub(crate) async fn usage_many(
    pool: &PgPool,
    requests: &[UsageRequest],
) -> Result<Vec<Result<PeriodUsage>>> {
    let mut results: Vec<Option<Result<PeriodUsage>>> = (0..requests.len()).map(|_| None).collect();
    // Grouped by template; a request that cannot run fails on its own.
    let mut groups: HashMap<&'static str, Vec<usize>> = HashMap::new();
    for (index, request) in requests.iter().enumerate() {
        let checked = find_query(&request.query).and_then(|template| {
            check_scope(&request.account_id, &request.customer_id)?;
            check_usage_window(request.from, request.to)?;
            Ok(template)
        });
        match checked {
            Ok(template) => groups.entry(template.name).or_default().push(index),
            Err(error) => results[index] = Some(Err(error)),
        }
    }
    for (name, indexes) in groups {
        let template = find_query(name)?;
        let sql = lateral(template.postgres);
        let chosen: Vec<&UsageRequest> = indexes.iter().map(|&i| &requests[i]).collect();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(
                chosen
                    .iter()
                    .map(|r| r.account_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                chosen
                    .iter()
                    .map(|r| r.customer_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                chosen
                    .iter()
                    .map(|r| ceil_micros(r.from))
                    .collect::<Vec<_>>(),
            )
            .bind(chosen.iter().map(|r| ceil_micros(r.to)).collect::<Vec<_>>())
            .bind(chosen.iter().map(|r| r.tz.name()).collect::<Vec<_>>())
            .fetch_all(pool)
            .await
            .map_err(storage(format!("running usage query {}", template.name)))?;
        // Seven rows per window, in window order.
        let mut by_window: Vec<Vec<sqlx::postgres::PgRow>> =
            (0..chosen.len()).map(|_| Vec::with_capacity(7)).collect();
        for row in rows {
            let ord: i64 = get(&row, "usage query output", "ord")?;
            let slot = usize::try_from(ord - 1)
                .ok()
                .and_then(|slot| by_window.get_mut(slot))
                .ok_or_else(|| Error::overflow("a usage window's ordinal"))?;
            slot.push(row);
        }
        for (rows, &index) in by_window.iter().zip(&indexes) {
            results[index] = Some(read_output(template, rows));
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::overflow("a usage window"))))
        .collect())
}

/// Writes a page's renewals in its claim's transaction (or a new one), each as [`Store::commit`]
/// would on its own, then commits: in a few set-based statements, or one by one when a request
/// carries credit notes.
///
/// [`Store::commit`]: crate::Store::commit
pub(crate) async fn commit_claimed(
    pool: &PgPool,
    page: ClaimedPage,
    requests: &[SubscriptionCommit],
) -> Result<Vec<Result<CommitOutcome>>> {
    let held = page
        .into_hold()
        .and_then(|hold| hold.downcast::<Claim>().ok());
    if requests.is_empty() {
        if let Some(claim) = held {
            claim.0.commit().await.map_err(storage("ending a claim"))?;
        }
        return Ok(Vec::new());
    }
    let mut tx = match held {
        Some(claim) => claim.0,
        None => pool
            .begin()
            .await
            .map_err(storage("starting to commit a page of renewals"))?,
    };
    let outcomes = if requests.iter().any(|r| {
        !r.credit_notes.is_empty() || !r.invoice_status.is_empty() || r.idempotency.is_some()
    }) {
        // Rare (a change settled at a renewal, a correction): each request on its own, in order.
        commit_each(&mut tx, requests).await
    } else {
        write_page(&mut tx, requests).await
    };
    let outcomes = match outcomes {
        Ok(outcomes)
            if !outcomes
                .iter()
                .all(|outcome| matches!(outcome, Ok(CommitOutcome::Busy))) =>
        {
            outcomes
        }
        // Nothing is written: rolled back now, so the page's row locks are gone before the
        // caller goes on.
        other => {
            let _ = tx.rollback().await;
            return other;
        }
    };
    tx.commit()
        .await
        .map_err(storage("committing a page of renewals"))?;
    Ok(outcomes)
}

type Key = (String, String);

async fn write_page(
    conn: &mut PgConnection,
    requests: &[SubscriptionCommit],
) -> Result<Vec<Result<CommitOutcome>>> {
    const ACTION: &str = "committing a page of renewals";
    let mut keys: Vec<Key> = requests
        .iter()
        .map(|r| (r.subscription.account_id.clone(), r.subscription.id.clone()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut revisions: HashMap<Key, i64> = HashMap::with_capacity(keys.len());
    let locked = sqlx::query(LOCK_REVISIONS)
        .bind(keys.iter().map(|k| k.0.as_str()).collect::<Vec<_>>())
        .bind(keys.iter().map(|k| k.1.as_str()).collect::<Vec<_>>())
        .fetch_all(&mut *conn)
        .await;
    let rows = match locked {
        Err(error) if lock_unavailable(&error) => {
            return Ok(requests.iter().map(|_| Ok(CommitOutcome::Busy)).collect());
        }
        rows => rows.map_err(storage(ACTION))?,
    };
    for row in rows {
        const T: &str = "subscriptions";
        revisions.insert(
            (get(&row, T, "account_id")?, get(&row, T, "id")?),
            get(&row, T, "revision")?,
        );
    }

    let mut outcomes: Vec<Option<Result<CommitOutcome>>> =
        (0..requests.len()).map(|_| None).collect();
    // Rounds: the first period each subscription owes, then the second, ...: each round's
    // heads go in one statement, over the revisions the rounds before left.
    let mut position: HashMap<Key, usize> = HashMap::new();
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    for (index, request) in requests.iter().enumerate() {
        let checked = request.check_revision().and_then(|()| {
            check_event_batch(&request.events)?;
            match &request.invoice {
                Some(issued) => check_invoice_currency(&issued.invoice),
                None => Ok(()),
            }
        });
        if let Err(error) = checked {
            outcomes[index] = Some(Err(error));
        }
        let key = (
            request.subscription.account_id.clone(),
            request.subscription.id.clone(),
        );
        let round = position.entry(key).or_insert(0);
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(index);
        *round += 1;
    }
    let mut accepted: Vec<usize> = Vec::new();
    let mut states: HashMap<Key, &Subscription> = HashMap::new();
    for round in rounds {
        let mut heads: Vec<usize> = Vec::new();
        for &index in &round {
            let request = &requests[index];
            let key = (
                request.subscription.account_id.clone(),
                request.subscription.id.clone(),
            );
            if outcomes[index].is_some() {
                // Refused by its checks: what follows it was computed from it.
                revisions.remove(&key);
            } else if revisions.get(&key) != Some(&request.expected_revision) {
                revisions.remove(&key);
                outcomes[index] = Some(Ok(CommitOutcome::Stale));
            } else if request.invoice.is_some() {
                heads.push(index);
            } else {
                outcomes[index] = Some(Ok(CommitOutcome::Committed));
            }
        }
        let written = insert_heads(
            &mut *conn,
            heads.iter().filter_map(|&i| requests[i].invoice.as_ref()),
        )
        .await?;
        for &index in &heads {
            let Some(issued) = &requests[index].invoice else {
                continue;
            };
            let key = (issued.account_id.clone(), issued.id.clone());
            outcomes[index] = Some(Ok(if written.contains(&key) {
                CommitOutcome::Committed
            } else {
                let subscription = &requests[index].subscription;
                revisions.remove(&(subscription.account_id.clone(), subscription.id.clone()));
                CommitOutcome::InvoiceExists
            }));
        }
        for &index in &round {
            let request = &requests[index];
            if matches!(outcomes[index], Some(Ok(CommitOutcome::Committed))) {
                let key = (
                    request.subscription.account_id.clone(),
                    request.subscription.id.clone(),
                );
                revisions.insert(key.clone(), request.subscription.revision);
                states.insert(key, &request.subscription);
                accepted.push(index);
            }
        }
    }
    accepted.sort_unstable();
    let invoices: Vec<&IssuedInvoice> = accepted
        .iter()
        .filter_map(|&i| requests[i].invoice.as_ref())
        .collect();
    insert_children(&mut *conn, &invoices).await?;
    let mut states: Vec<&Subscription> = states.into_values().collect();
    states.sort_unstable_by(|a, b| (&a.account_id, &a.id).cmp(&(&b.account_id, &b.id)));
    update_states(&mut *conn, &states).await?;
    let events: Vec<crate::audit::AuditEvent> = accepted
        .iter()
        .flat_map(|&i| requests[i].events.iter().cloned())
        .collect();
    insert_events(&mut *conn, &events).await?;
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Ok(CommitOutcome::Stale)))
        .collect())
}

async fn insert_heads<'a>(
    conn: &mut PgConnection,
    invoices: impl Iterator<Item = &'a IssuedInvoice>,
) -> Result<HashSet<Key>> {
    let invoices: Vec<&IssuedInvoice> = invoices.collect();
    if invoices.is_empty() {
        return Ok(HashSet::new());
    }
    let (mut settled, mut review) = (
        Vec::with_capacity(invoices.len()),
        Vec::with_capacity(invoices.len()),
    );
    for issued in &invoices {
        let (spans, answers) = invoice_extras_json(issued)?;
        settled.push(spans);
        review.push(answers);
    }
    let rows = sqlx::query(INSERT_INVOICES)
        .bind(
            invoices
                .iter()
                .map(|i| i.account_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(invoices.iter().map(|i| i.id.as_str()).collect::<Vec<_>>())
        .bind(
            invoices
                .iter()
                .map(|i| i.subscription_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.customer_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.plan_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i64::from(i.plan_version))
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i64::from(i.quantity))
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.billing_reason.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.status.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(invoices.iter().map(|i| i.created_at).collect::<Vec<_>>())
        .bind(
            invoices
                .iter()
                .map(|i| i64::from(i.invoice.period_index))
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.invoice.issue_date)
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.invoice.period_start)
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.invoice.period_end)
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.invoice.currency.code())
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.invoice.subtotal.minor())
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.invoice.tax.minor())
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.invoice.tax_inclusive)
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| i.invoice.total.minor())
                .collect::<Vec<_>>(),
        )
        .bind(
            invoices
                .iter()
                .map(|i| rows::invoice_usage_json(&i.usage))
                .collect::<Result<Vec<_>>>()?,
        )
        .bind(settled)
        .bind(review)
        .fetch_all(&mut *conn)
        .await
        .map_err(storage("writing a page of invoices"))?;
    rows.iter()
        .map(|row| {
            Ok((
                get(row, "invoices", "account_id")?,
                get(row, "invoices", "id")?,
            ))
        })
        .collect()
}

fn position(index: usize) -> Result<i32> {
    i32::try_from(index).map_err(|_| Error::overflow("invoice rows"))
}

#[allow(clippy::type_complexity)]
async fn insert_children(conn: &mut PgConnection, invoices: &[&IssuedInvoice]) -> Result<()> {
    const ACTION: &str = "writing a page of invoice rows";
    let mut lines: (
        Vec<&str>,
        Vec<&str>,
        Vec<i32>,
        Vec<&str>,
        Vec<&str>,
        Vec<i64>,
        Vec<Option<String>>,
    ) = Default::default();
    let mut taxes: (
        Vec<&str>,
        Vec<&str>,
        Vec<i32>,
        Vec<&str>,
        Vec<String>,
        Vec<i64>,
    ) = Default::default();
    #[allow(clippy::type_complexity)]
    let mut revenue: (
        Vec<&str>,
        Vec<&str>,
        Vec<i32>,
        Vec<&str>,
        Vec<chrono::NaiveDate>,
        Vec<chrono::NaiveDate>,
        Vec<i64>,
        Vec<i64>,
    ) = Default::default();
    for issued in invoices {
        let invoice = &issued.invoice;
        for (p, line) in invoice.line_items.iter().enumerate() {
            lines.0.push(&issued.account_id);
            lines.1.push(&issued.id);
            lines.2.push(position(p)?);
            lines.3.push(&line.description);
            lines.4.push(match line.kind {
                crate::pricing::ChargeKind::Recurring => "recurring",
                crate::pricing::ChargeKind::Usage => "usage",
            });
            lines.5.push(line.amount.minor());
        }
        lines
            .6
            .extend(super::rows::bases_json(&invoice.line_items)?);
        for (p, line) in invoice.tax_lines.iter().enumerate() {
            taxes.0.push(&issued.account_id);
            taxes.1.push(&issued.id);
            taxes.2.push(position(p)?);
            taxes.3.push(&line.name);
            // Decimal's Display keeps the scale ("0.0800"), and FromStr reads it back exactly.
            taxes.4.push(line.rate.to_string());
            taxes.5.push(line.amount.minor());
        }
        for (p, entry) in invoice.revenue_schedule.iter().enumerate() {
            revenue.0.push(&issued.account_id);
            revenue.1.push(&issued.id);
            revenue.2.push(position(p)?);
            revenue.3.push(&entry.month);
            revenue.4.push(entry.start);
            revenue.5.push(entry.end);
            revenue.6.push(i64::from(entry.days));
            revenue.7.push(entry.amount.minor());
        }
    }
    if !lines.0.is_empty() {
        sqlx::query(INSERT_LINE_ITEMS)
            .bind(lines.0)
            .bind(lines.1)
            .bind(lines.2)
            .bind(lines.3)
            .bind(lines.4)
            .bind(lines.5)
            .bind(lines.6)
            .execute(&mut *conn)
            .await
            .map_err(storage(ACTION))?;
    }
    if !taxes.0.is_empty() {
        sqlx::query(INSERT_TAX_LINES)
            .bind(taxes.0)
            .bind(taxes.1)
            .bind(taxes.2)
            .bind(taxes.3)
            .bind(taxes.4)
            .bind(taxes.5)
            .execute(&mut *conn)
            .await
            .map_err(storage(ACTION))?;
    }
    if !revenue.0.is_empty() {
        sqlx::query(INSERT_REVENUE)
            .bind(revenue.0)
            .bind(revenue.1)
            .bind(revenue.2)
            .bind(revenue.3)
            .bind(revenue.4)
            .bind(revenue.5)
            .bind(revenue.6)
            .bind(revenue.7)
            .execute(&mut *conn)
            .await
            .map_err(storage(ACTION))?;
    }
    Ok(())
}

async fn update_states(conn: &mut PgConnection, states: &[&Subscription]) -> Result<()> {
    if states.is_empty() {
        return Ok(());
    }
    sqlx::query(UPDATE_STATES)
        .bind(
            states
                .iter()
                .map(|s| s.account_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(states.iter().map(|s| s.id.as_str()).collect::<Vec<_>>())
        .bind(
            states
                .iter()
                .map(|s| s.customer_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            states
                .iter()
                .map(|s| s.plan_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            states
                .iter()
                .map(|s| i64::from(s.quantity))
                .collect::<Vec<_>>(),
        )
        .bind(states.iter().map(|s| s.start_date).collect::<Vec<_>>())
        .bind(states.iter().map(|s| s.status.as_str()).collect::<Vec<_>>())
        .bind(
            states
                .iter()
                .map(|s| i64::from(s.current_period))
                .collect::<Vec<_>>(),
        )
        .bind(
            states
                .iter()
                .map(|s| s.current_period_start)
                .collect::<Vec<_>>(),
        )
        .bind(
            states
                .iter()
                .map(|s| s.current_period_end)
                .collect::<Vec<_>>(),
        )
        .bind(
            states
                .iter()
                .map(|s| i64::from(s.next_invoice_period))
                .collect::<Vec<_>>(),
        )
        .bind(states.iter().map(|s| s.next_invoice_at).collect::<Vec<_>>())
        .bind(states.iter().map(|s| s.revision).collect::<Vec<_>>())
        .bind(states.iter().map(|s| s.created_at).collect::<Vec<_>>())
        .bind(states.iter().map(|s| s.updated_at).collect::<Vec<_>>())
        .bind(
            states
                .iter()
                .map(|s| rows::changes_json(&s.changes))
                .collect::<Result<Vec<_>>>()?,
        )
        .bind(
            states
                .iter()
                .map(|s| rows::billed_usage_json(&s.billed_usage))
                .collect::<Result<Vec<_>>>()?,
        )
        .execute(&mut *conn)
        .await
        .map_err(storage("writing a page of subscription states"))?;
    Ok(())
}
