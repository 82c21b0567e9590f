//! Invoices: written with their line items, tax lines and revenue schedule in the caller's
//! transaction (one statement per table, whatever the number of rows), and read back whole.

use std::collections::HashMap;

use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};

use super::error::{corrupt, storage};
use super::listing::Listing;
use super::rows::{self, get, get_u32};
use crate::error::{Error, Result};
use crate::invoice::{Invoice, IssuedInvoice, LineItem};
use crate::money::{Currency, Money};
use crate::pricing::ChargeKind;
use crate::revrec::RevenueEntry;
use crate::store::{InvoiceQuery, check_invoice_currency, invoice_extras_json};
use crate::subscription::{BillingReason, InvoiceStatus};
use crate::tax::TaxLine;

/// The invoice row. Any unique violation (the id, or a second invoice for the period) skips the
/// row instead of failing the statement, so `RETURNING` tells the caller which case it is in
/// while its transaction stays usable.
const INSERT_INVOICE: &str = "INSERT INTO invoices (account_id, id, subscription_id, customer_id, \
     plan_id, plan_version, quantity, billing_reason, status, created_at, period_index, issue_date, \
     period_start, period_end, currency, subtotal_minor, tax_minor, tax_inclusive, total_minor, \
     usage, settled, review) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
         $20::json, $21, $22) \
     ON CONFLICT DO NOTHING \
     RETURNING id";

const INSERT_LINE_ITEMS: &str = "INSERT INTO invoice_line_items \
     (account_id, invoice_id, position, description, kind, amount_minor, basis) \
     SELECT $1, $2, l.position, l.description, l.kind, l.amount_minor, l.basis::jsonb \
     FROM UNNEST($3::int[], $4::text[], $5::text[], $6::bigint[], $7::text[]) \
          AS l (position, description, kind, amount_minor, basis)";

const INSERT_TAX_LINES: &str = "INSERT INTO invoice_tax_lines \
     (account_id, invoice_id, position, name, rate, amount_minor) \
     SELECT $1, $2, t.position, t.name, t.rate, t.amount_minor \
     FROM UNNEST($3::int[], $4::text[], $5::text[], $6::bigint[]) \
          AS t (position, name, rate, amount_minor)";

const INSERT_REVENUE: &str = "INSERT INTO revenue_schedule \
     (account_id, invoice_id, position, month, start_date, end_date, days, amount_minor) \
     SELECT $1, $2, r.position, r.month, r.start_date, r.end_date, r.days, r.amount_minor \
     FROM UNNEST($3::int[], $4::text[], $5::date[], $6::date[], $7::bigint[], $8::bigint[]) \
          AS r (position, month, start_date, end_date, days, amount_minor)";

const INVOICE_HEAD_COLUMNS: &str = "account_id, id, subscription_id, customer_id, plan_id, \
     plan_version, quantity, billing_reason, status, created_at, period_index, issue_date, \
     period_start, period_end, currency, subtotal_minor, tax_minor, tax_inclusive, total_minor, \
     usage::text AS usage, settled, review";

/// One invoice's head, by its key.
pub(crate) const SELECT_INVOICE: &str = "SELECT account_id, id, subscription_id, customer_id, \
     plan_id, plan_version, quantity, billing_reason, status, created_at, period_index, \
     issue_date, period_start, period_end, currency, subtotal_minor, tax_minor, tax_inclusive, \
     total_minor, usage::text AS usage, settled, review FROM invoices WHERE account_id = $1 AND id = $2";

/// The child rows of a set of invoices, given as parallel (account id, invoice id) arrays.
const SELECT_LINE_ITEMS: &str = "SELECT account_id, invoice_id, description, kind, amount_minor, \
     basis::text AS basis FROM invoice_line_items \
     WHERE (account_id, invoice_id) IN (SELECT * FROM UNNEST($1::text[], $2::text[])) \
     ORDER BY account_id, invoice_id, position";

const SELECT_TAX_LINES: &str = "SELECT account_id, invoice_id, name, rate, amount_minor \
     FROM invoice_tax_lines \
     WHERE (account_id, invoice_id) IN (SELECT * FROM UNNEST($1::text[], $2::text[])) \
     ORDER BY account_id, invoice_id, position";

const SELECT_REVENUE: &str = "SELECT account_id, invoice_id, month, start_date, end_date, days, \
     amount_minor \
     FROM revenue_schedule \
     WHERE (account_id, invoice_id) IN (SELECT * FROM UNNEST($1::text[], $2::text[])) \
     ORDER BY account_id, invoice_id, position";

/// What [`insert_invoice`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// The invoice and its rows were written.
    Written,
    /// An invoice with the same id or for the same period exists; nothing was written.
    Exists,
}

pub(crate) fn kind_name(kind: ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Recurring => "recurring",
        ChargeKind::Usage => "usage",
    }
}

fn parse_kind(text: &str) -> Option<ChargeKind> {
    match text {
        "recurring" => Some(ChargeKind::Recurring),
        "usage" => Some(ChargeKind::Usage),
        _ => None,
    }
}

pub(crate) fn positions(count: usize) -> Result<Vec<i32>> {
    (0..count)
        .map(|index| i32::try_from(index).map_err(|_| Error::overflow("invoice rows")))
        .collect()
}

/// Writes `issued` and its rows on `conn` (inside the caller's transaction).
pub(crate) async fn insert_invoice(
    conn: &mut PgConnection,
    issued: &IssuedInvoice,
) -> Result<Inserted> {
    let invoice = &issued.invoice;
    check_invoice_currency(invoice)?;
    let (settled, review) = invoice_extras_json(issued)?;
    let subtotal = invoice.subtotal.minor();
    let tax = invoice.tax.minor();
    let total = invoice.total.minor();
    let line_amounts = invoice
        .line_items
        .iter()
        .map(|line| line.amount.minor())
        .collect::<Vec<_>>();
    let tax_amounts = invoice
        .tax_lines
        .iter()
        .map(|line| line.amount.minor())
        .collect::<Vec<_>>();
    let revenue_amounts = invoice
        .revenue_schedule
        .iter()
        .map(|entry| entry.amount.minor())
        .collect::<Vec<_>>();
    let action = || format!("writing invoice {:?}", issued.id);

    let written: Option<String> = sqlx::query_scalar(INSERT_INVOICE)
        .bind(&issued.account_id)
        .bind(&issued.id)
        .bind(&issued.subscription_id)
        .bind(&issued.customer_id)
        .bind(&issued.plan_id)
        .bind(i64::from(issued.plan_version))
        .bind(i64::from(issued.quantity))
        .bind(issued.billing_reason.as_str())
        .bind(issued.status.as_str())
        .bind(issued.created_at)
        .bind(i64::from(invoice.period_index))
        .bind(invoice.issue_date)
        .bind(invoice.period_start)
        .bind(invoice.period_end)
        .bind(invoice.currency.code())
        .bind(subtotal)
        .bind(tax)
        .bind(invoice.tax_inclusive)
        .bind(total)
        .bind(rows::invoice_usage_json(&issued.usage)?)
        .bind(settled)
        .bind(review)
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage(action()))?;
    if written.is_none() {
        return Ok(Inserted::Exists);
    }

    if !invoice.line_items.is_empty() {
        sqlx::query(INSERT_LINE_ITEMS)
            .bind(&issued.account_id)
            .bind(&issued.id)
            .bind(positions(invoice.line_items.len())?)
            .bind(
                invoice
                    .line_items
                    .iter()
                    .map(|l| l.description.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                invoice
                    .line_items
                    .iter()
                    .map(|l| kind_name(l.kind))
                    .collect::<Vec<_>>(),
            )
            .bind(line_amounts)
            .bind(super::rows::bases_json(&invoice.line_items)?)
            .execute(&mut *conn)
            .await
            .map_err(storage(action()))?;
    }
    if !invoice.tax_lines.is_empty() {
        sqlx::query(INSERT_TAX_LINES)
            .bind(&issued.account_id)
            .bind(&issued.id)
            .bind(positions(invoice.tax_lines.len())?)
            .bind(
                invoice
                    .tax_lines
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>(),
            )
            // Decimal's Display keeps the scale ("0.0800"), and FromStr reads it back exactly.
            .bind(
                invoice
                    .tax_lines
                    .iter()
                    .map(|t| t.rate.to_string())
                    .collect::<Vec<_>>(),
            )
            .bind(tax_amounts)
            .execute(&mut *conn)
            .await
            .map_err(storage(action()))?;
    }
    if !invoice.revenue_schedule.is_empty() {
        let schedule = &invoice.revenue_schedule;
        sqlx::query(INSERT_REVENUE)
            .bind(&issued.account_id)
            .bind(&issued.id)
            .bind(positions(schedule.len())?)
            .bind(
                schedule
                    .iter()
                    .map(|r| r.month.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(schedule.iter().map(|r| r.start).collect::<Vec<_>>())
            .bind(schedule.iter().map(|r| r.end).collect::<Vec<_>>())
            .bind(
                schedule
                    .iter()
                    .map(|r| i64::from(r.days))
                    .collect::<Vec<_>>(),
            )
            .bind(revenue_amounts)
            .execute(&mut *conn)
            .await
            .map_err(storage(action()))?;
    }
    Ok(Inserted::Written)
}

type InvoiceKey = (String, String);

/// Invoices matching `query`, whole, in (account, subscription, period start) order.
pub(crate) async fn select_invoices(
    pool: &PgPool,
    query: &InvoiceQuery,
) -> Result<Vec<IssuedInvoice>> {
    const ACTION: &str = "reading invoices";
    let mut select = Listing::select(INVOICE_HEAD_COLUMNS, "invoices");
    select
        .eq("account_id", query.account_id.as_deref())
        .eq("subscription_id", query.subscription_id.as_deref())
        .eq("customer_id", query.customer_id.as_deref())
        .eq("status", query.status.map(|status| status.as_str()))
        .dates("issue_date", query.issued_from, query.issued_to);
    match &query.page {
        Some(page) => select.page(page, Some("created_at"), "id"),
        None => select.limit("account_id, subscription_id, period_start", query.limit),
    };
    let rows = select
        .build()
        .fetch_all(pool)
        .await
        .map_err(storage(ACTION))?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut heads = Vec::with_capacity(rows.len());
    for row in &rows {
        heads.push(invoice_head(row)?);
    }
    let accounts: Vec<&str> = heads.iter().map(|h| h.account_id.as_str()).collect();
    let ids: Vec<&str> = heads.iter().map(|h| h.id.as_str()).collect();

    let keys = (accounts.as_slice(), ids.as_slice());
    let parent = "invoice_id";
    let mut lines = children(pool, SELECT_LINE_ITEMS, "invoice_line_items", parent, keys).await?;
    let mut taxes = children(pool, SELECT_TAX_LINES, "invoice_tax_lines", parent, keys).await?;
    let mut revenue = children(pool, SELECT_REVENUE, "revenue_schedule", parent, keys).await?;
    let mut invoices = Vec::with_capacity(heads.len());
    for mut issued in heads {
        let key = (issued.account_id.clone(), issued.id.clone());
        let currency = issued.invoice.currency;
        for row in lines.remove(&key).unwrap_or_default() {
            let line = line_item(&row, "invoice_line_items", currency)?;
            issued.invoice.line_items.push(line);
        }
        for row in taxes.remove(&key).unwrap_or_default() {
            let line = tax_line(&row, "invoice_tax_lines", currency)?;
            issued.invoice.tax_lines.push(line);
        }
        for row in revenue.remove(&key).unwrap_or_default() {
            let entry = revenue_entry(&row, "revenue_schedule", currency)?;
            issued.invoice.revenue_schedule.push(entry);
        }
        invoices.push(issued);
    }
    Ok(invoices)
}

/// The rows of the child `table` of some documents (`select` over their parallel (account id,
/// document id) arrays, in (account, document, position) order), grouped by their document's
/// key (`parent` the column naming the document).
pub(crate) async fn children(
    pool: &PgPool,
    select: &'static str,
    table: &'static str,
    parent: &'static str,
    (accounts, ids): (&[&str], &[&str]),
) -> Result<HashMap<InvoiceKey, Vec<PgRow>>> {
    let mut grouped: HashMap<InvoiceKey, Vec<PgRow>> = HashMap::new();
    for row in sqlx::query(select)
        .bind(accounts)
        .bind(ids)
        .fetch_all(pool)
        .await
        .map_err(storage(format!("reading {table}")))?
    {
        let key = (get(&row, table, "account_id")?, get(&row, table, parent)?);
        grouped.entry(key).or_default().push(row);
    }
    Ok(grouped)
}

/// A line item row (`description`, `kind`, `amount_minor`) of `table`, in its document's
/// currency.
pub(crate) fn line_item(row: &PgRow, table: &'static str, currency: Currency) -> Result<LineItem> {
    let kind: String = get(row, table, "kind")?;
    Ok(LineItem::new(
        get::<String>(row, table, "description")?,
        parse_kind(&kind).ok_or_else(|| corrupt(table, "kind", format!("{kind:?}, not a kind")))?,
        Money::from_minor(get(row, table, "amount_minor")?, currency),
        super::rows::basis_from_json(table, get(row, table, "basis")?)?,
    ))
}

/// A tax line row (`name`, `rate` as text, `amount_minor`) of `table`, in its document's currency.
pub(crate) fn tax_line(row: &PgRow, table: &'static str, currency: Currency) -> Result<TaxLine> {
    let rate: String = get(row, table, "rate")?;
    Ok(TaxLine {
        name: get(row, table, "name")?,
        rate: rate
            .parse::<Decimal>()
            .map_err(|_| corrupt(table, "rate", format!("{rate:?}, not a decimal")))?,
        amount: Money::from_minor(get(row, table, "amount_minor")?, currency),
    })
}

/// A revenue row (`month`, `start_date`, `end_date`, `days`, `amount_minor`) of `table`, in its
/// document's currency.
pub(crate) fn revenue_entry(
    row: &PgRow,
    table: &'static str,
    currency: Currency,
) -> Result<RevenueEntry> {
    Ok(RevenueEntry {
        month: get(row, table, "month")?,
        start: get(row, table, "start_date")?,
        end: get(row, table, "end_date")?,
        days: get_u32(row, table, "days")?,
        amount: Money::from_minor(get(row, table, "amount_minor")?, currency),
    })
}

/// A nullable JSON text column: `None` when NULL, else its value.
fn json_column<T: serde::de::DeserializeOwned>(
    row: &PgRow,
    table: &'static str,
    column: &'static str,
) -> Result<Option<T>> {
    match get::<Option<String>>(row, table, column)? {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| corrupt(table, column, format!("JSON that does not read: {error}"))),
    }
}

/// An `invoices` row ([`INVOICE_HEAD_COLUMNS`]), without its child rows.
pub(crate) fn invoice_head(row: &PgRow) -> Result<IssuedInvoice> {
    const T: &str = "invoices";
    let code: String = get(row, T, "currency")?;
    let currency = Currency::parse(&code)
        .map_err(|_| corrupt(T, "currency", format!("{code:?}, not a currency")))?;
    let reason: String = get(row, T, "billing_reason")?;
    let status: String = get(row, T, "status")?;
    let money = |column: &'static str| -> Result<Money> {
        Ok(Money::from_minor(get(row, T, column)?, currency))
    };
    Ok(IssuedInvoice {
        id: get(row, T, "id")?,
        account_id: get(row, T, "account_id")?,
        subscription_id: get(row, T, "subscription_id")?,
        customer_id: get(row, T, "customer_id")?,
        plan_id: get(row, T, "plan_id")?,
        plan_version: get_u32(row, T, "plan_version")?,
        quantity: get_u32(row, T, "quantity")?,
        billing_reason: BillingReason::parse(&reason)
            .ok_or_else(|| corrupt(T, "billing_reason", format!("{reason:?}, not a reason")))?,
        status: InvoiceStatus::parse(&status)
            .ok_or_else(|| corrupt(T, "status", format!("{status:?}, not a status")))?,
        created_at: get(row, T, "created_at")?,
        usage: rows::json_or_default(row, T, "usage")?,
        settled: json_column(row, T, "settled")?.unwrap_or_default(),
        review: json_column(row, T, "review")?,
        invoice: Invoice {
            period_index: get_u32(row, T, "period_index")?,
            issue_date: get(row, T, "issue_date")?,
            period_start: get(row, T, "period_start")?,
            period_end: get(row, T, "period_end")?,
            currency,
            line_items: Vec::new(),
            subtotal: money("subtotal_minor")?,
            tax_lines: Vec::new(),
            tax: money("tax_minor")?,
            tax_inclusive: get(row, T, "tax_inclusive")?,
            total: money("total_minor")?,
            revenue_schedule: Vec::new(),
        },
    })
}
