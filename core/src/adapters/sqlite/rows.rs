//! Reading stored rows back into the core's types, refusing any value the core could not have
//! written (an unknown status, a negative quantity, a malformed date) with [`Error::Storage`]
//! naming the table and column, and the few encodings shared by the writes.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::SqliteError;
use super::tx::CHUNK;
use crate::audit::{AuditAction, AuditEvent, SubjectKind};
use crate::changes::Changes;
use crate::credit_note::CreditNote;
use crate::error::{Error, Result};
use crate::invoice::{Invoice, InvoiceReview, IssuedInvoice, LineItem, SettledSpan};
use crate::late_usage::{InvoiceUsage, UsageHistory};
use crate::money::{Currency, Money};
use crate::plan::{Account, PlanVersion};
use crate::pricing::ChargeKind;
use crate::revrec::RevenueEntry;
use crate::store::stored_tax_address;
use crate::subscription::{
    BillingReason, Customer, InvoiceStatus, Quantity, Subscription, SubscriptionStatus,
};
use crate::tax::TaxLine;

/// The columns of `subscriptions`, in the order [`subscription`] reads them.
pub(super) const SUBSCRIPTION_COLUMNS: &str = "account_id, id, customer_id, plan_id, quantity, \
     start_date, status, current_period, current_period_start, current_period_end, \
     next_invoice_period, next_invoice_at, revision, created_at, updated_at, changes, \
     billed_usage";

/// The columns of `audit_outbox` that make an event.
pub(super) const EVENT_COLUMNS: &str = "id, time, account_id, actor, action, subject_kind, \
     subject_id, run_id, correlation_id, data";

/// The columns of `credit_notes`, without the children.
pub(super) const CREDIT_NOTE_COLUMNS: &str = "account_id, id, number, subscription_id, \
     customer_id, invoice_id, invoice_period_start, issue_date, reason, currency, subtotal, tax, \
     tax_inclusive, total, created_at";

/// The columns of `invoices`, without the children.
pub(super) const INVOICE_COLUMNS: &str = "account_id, id, subscription_id, customer_id, plan_id, \
     plan_version, quantity, billing_reason, status, period_index, issue_date, period_start, \
     period_end, currency, subtotal, tax, tax_inclusive, total, created_at, usage, settled, review";

/// A stored value the core cannot accept.
pub(super) fn corrupt(table: &'static str, column: &'static str, problem: String) -> Error {
    Error::Storage {
        action: format!("reading {table}"),
        source: Box::new(SqliteError::Corrupt {
            table,
            column,
            problem,
        }),
    }
}

/// One column, as the type SQLite gives it.
fn get<'r, T>(row: &'r SqliteRow, table: &'static str, column: &'static str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column).map_err(|source| Error::Storage {
        action: format!("reading {table}.{column}"),
        source: Box::new(source),
    })
}

fn text(row: &SqliteRow, table: &'static str, column: &'static str) -> Result<String> {
    get(row, table, column)
}

fn flag(row: &SqliteRow, table: &'static str, column: &'static str) -> Result<bool> {
    match get::<i64>(row, table, column)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(corrupt(table, column, format!("{other}, not 0 or 1"))),
    }
}

/// A count or index that the core keeps as `u32`, at least `min`.
fn count(row: &SqliteRow, table: &'static str, column: &'static str, min: u32) -> Result<u32> {
    let value: i64 = get(row, table, column)?;
    u32::try_from(value)
        .ok()
        .filter(|&value| value >= min)
        .ok_or_else(|| {
            corrupt(
                table,
                column,
                format!("{value}, not between {min} and {}", u32::MAX),
            )
        })
}

/// Unix microseconds, as every instant of the engine's tables is stored.
pub(super) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn instant_of(value: i64, table: &'static str, column: &'static str) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(value)
        .ok_or_else(|| corrupt(table, column, format!("{value}, not an instant")))
}

fn instant(row: &SqliteRow, table: &'static str, column: &'static str) -> Result<DateTime<Utc>> {
    instant_of(get(row, table, column)?, table, column)
}

fn optional_instant(
    row: &SqliteRow,
    table: &'static str,
    column: &'static str,
) -> Result<Option<DateTime<Utc>>> {
    get::<Option<i64>>(row, table, column)?
        .map(|value| instant_of(value, table, column))
        .transpose()
}

/// A local date as stored: `YYYY-MM-DD`.
pub(super) fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn date(row: &SqliteRow, table: &'static str, column: &'static str) -> Result<NaiveDate> {
    let value = text(row, table, column)?;
    NaiveDate::parse_from_str(&value, "%Y-%m-%d")
        .map_err(|_| corrupt(table, column, format!("{value:?}, not a YYYY-MM-DD date")))
}

fn json<T: serde::de::DeserializeOwned>(
    row: &SqliteRow,
    table: &'static str,
    column: &'static str,
) -> Result<T> {
    let value = text(row, table, column)?;
    serde_json::from_str(&value).map_err(|source| Error::Storage {
        action: format!("reading {table}.{column}"),
        source: Box::new(source),
    })
}

/// A string enum of the core, read through its serde name.
fn named<T: serde::de::DeserializeOwned>(
    row: &SqliteRow,
    table: &'static str,
    column: &'static str,
) -> Result<T> {
    let value = text(row, table, column)?;
    serde_json::from_value(serde_json::Value::String(value.clone()))
        .map_err(|_| corrupt(table, column, format!("the unknown value {value:?}")))
}

/// A string enum of the core, as stored (its serde name).
pub(super) fn name_of<T: serde::Serialize>(value: &T) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Ok(name),
        Ok(other) => Err(Error::invalid(
            "stored name",
            format!("{other} is not a name"),
        )),
        Err(source) => Err(Error::Storage {
            action: "naming a value to store".to_owned(),
            source: Box::new(source),
        }),
    }
}

/// A line item's kind as stored. A match, not serde, so a new kind cannot be stored before its
/// reader below knows it.
pub(super) fn charge_kind_name(kind: ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Recurring => "recurring",
        ChargeKind::Usage => "usage",
    }
}

/// A row of `accounts`.
fn locale(tag: &str, table: &'static str) -> Result<crate::locale::Locale> {
    crate::locale::Locale::parse(tag, "locale")
        .map_err(|_| corrupt(table, "locale", format!("{tag:?}, not a known locale")))
}

pub(super) fn account(row: &SqliteRow) -> Result<Account> {
    const T: &str = "accounts";
    let timezone = text(row, T, "timezone")?;
    Ok(Account {
        id: text(row, T, "id")?,
        abstracted: flag(row, T, "abstracted")?,
        timezone: timezone.parse().map_err(|_| {
            corrupt(
                T,
                "timezone",
                format!("{timezone:?}, not an IANA time zone"),
            )
        })?,
        tax_inclusive: flag(row, T, "tax_inclusive")?,
        locale: locale(&text(row, T, "locale")?, T)?,
    })
}

/// A row of `customers`.
pub(super) fn customer(row: &SqliteRow) -> Result<Customer> {
    const T: &str = "customers";
    let country: Option<String> = get(row, T, "tax_country")?;
    let region: Option<String> = get(row, T, "tax_region")?;
    let postal_code: Option<String> = get(row, T, "tax_postal_code")?;
    let tax_address = stored_tax_address(country, region, postal_code)
        .map_err(|problem| corrupt(T, "tax_country", problem.to_owned()))?;
    Ok(Customer {
        account_id: text(row, T, "account_id")?,
        id: text(row, T, "id")?,
        tax_address,
        tax_exempt: flag(row, T, "tax_exempt")?,
    })
}

/// A row of `plan_versions`.
pub(super) fn plan_version(row: &SqliteRow) -> Result<PlanVersion> {
    const T: &str = "plan_versions";
    let plan_id = text(row, T, "plan_id")?;
    let plan: crate::plan::Plan = json(row, T, "plan_json")?;
    if plan.id.as_deref() != Some(plan_id.as_str()) {
        return Err(corrupt(
            T,
            "plan_json",
            format!(
                "a plan with id {:?} in the row of plan {plan_id:?}",
                plan.id
            ),
        ));
    }
    Ok(PlanVersion {
        account_id: text(row, T, "account_id")?,
        plan,
        version: count(row, T, "version", 1)?,
        program: json(row, T, "program_json")?,
        interpreter: get(row, T, "interpreter")?,
        created_at: instant(row, T, "created_at")?,
    })
}

/// A row of `subscriptions` ([`SUBSCRIPTION_COLUMNS`]).
pub(super) fn subscription(row: &SqliteRow) -> Result<Subscription> {
    const T: &str = "subscriptions";
    let status = text(row, T, "status")?;
    Ok(Subscription {
        account_id: text(row, T, "account_id")?,
        id: text(row, T, "id")?,
        customer_id: text(row, T, "customer_id")?,
        plan_id: text(row, T, "plan_id")?,
        quantity: Quantity::try_from(count(row, T, "quantity", 1)?)
            .map_err(|e| corrupt(T, "quantity", e.to_string()))?,
        start_date: date(row, T, "start_date")?,
        status: SubscriptionStatus::parse(&status)
            .ok_or_else(|| corrupt(T, "status", format!("the unknown status {status:?}")))?,
        current_period: count(row, T, "current_period", 0)?,
        current_period_start: date(row, T, "current_period_start")?,
        current_period_end: date(row, T, "current_period_end")?,
        next_invoice_period: count(row, T, "next_invoice_period", 0)?,
        next_invoice_at: optional_instant(row, T, "next_invoice_at")?,
        changes: json_or_default(row, T, "changes")?,
        billed_usage: json_or_default(row, T, "billed_usage")?,
        revision: get(row, T, "revision")?,
        created_at: instant(row, T, "created_at")?,
        updated_at: instant(row, T, "updated_at")?,
    })
}

/// A subscription's changes as stored: the JSON text of [`Changes`], or NULL when there are none
/// (most subscriptions), so an unchanged row costs nothing to write or read.
pub(super) fn changes_json(changes: &Changes) -> Result<Option<String>> {
    json_unless_empty(changes, changes.is_empty(), "a subscription's changes")
}

/// A subscription's usage history as stored: its JSON text, or NULL for plans without usage.
pub(super) fn billed_usage_json(history: &UsageHistory) -> Result<Option<String>> {
    json_unless_empty(history, history.is_empty(), "a subscription's billed usage")
}

/// `value`'s JSON text, or NULL when it is `empty`.
fn json_unless_empty<T: serde::Serialize>(
    value: &T,
    empty: bool,
    what: &str,
) -> Result<Option<String>> {
    if empty {
        return Ok(None);
    }
    serde_json::to_string(value)
        .map(Some)
        .map_err(|source| Error::Storage {
            action: format!("encoding {what}"),
            source: Box::new(source),
        })
}

/// A JSON column: the default when NULL (nothing is parsed), else its JSON.
fn json_or_default<T: serde::de::DeserializeOwned + Default>(
    row: &SqliteRow,
    table: &'static str,
    column: &'static str,
) -> Result<T> {
    match get::<Option<String>>(row, table, column)? {
        None => Ok(T::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|error| corrupt(table, column, format!("JSON that does not read: {error}"))),
    }
}

/// A nullable JSON column: `None` when NULL, else its value.
fn json_column<T: serde::de::DeserializeOwned>(
    row: &SqliteRow,
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

/// The invoice columns of a row of `invoices` ([`INVOICE_COLUMNS`]), without its children.
pub(super) struct InvoiceHead {
    pub(super) account_id: String,
    pub(super) id: String,
    pub(super) subscription_id: String,
    pub(super) customer_id: String,
    pub(super) plan_id: String,
    pub(super) plan_version: u32,
    pub(super) quantity: u32,
    pub(super) billing_reason: BillingReason,
    pub(super) status: InvoiceStatus,
    pub(super) period_index: u32,
    pub(super) issue_date: NaiveDate,
    pub(super) period_start: NaiveDate,
    pub(super) period_end: NaiveDate,
    pub(super) currency: Currency,
    pub(super) subtotal: i64,
    pub(super) tax: i64,
    pub(super) tax_inclusive: bool,
    pub(super) total: i64,
    pub(super) created_at: DateTime<Utc>,
    pub(super) usage: InvoiceUsage,
    pub(super) settled: Vec<SettledSpan>,
    pub(super) review: Option<InvoiceReview>,
}

/// A row of `invoices`.
pub(super) fn invoice_head(row: &SqliteRow) -> Result<InvoiceHead> {
    const T: &str = "invoices";
    let reason = text(row, T, "billing_reason")?;
    let status = text(row, T, "status")?;
    let currency = text(row, T, "currency")?;
    Ok(InvoiceHead {
        account_id: text(row, T, "account_id")?,
        id: text(row, T, "id")?,
        subscription_id: text(row, T, "subscription_id")?,
        customer_id: text(row, T, "customer_id")?,
        plan_id: text(row, T, "plan_id")?,
        plan_version: count(row, T, "plan_version", 1)?,
        quantity: count(row, T, "quantity", 1)?,
        billing_reason: BillingReason::parse(&reason).ok_or_else(|| {
            corrupt(
                T,
                "billing_reason",
                format!("the unknown reason {reason:?}"),
            )
        })?,
        status: InvoiceStatus::parse(&status)
            .ok_or_else(|| corrupt(T, "status", format!("the unknown status {status:?}")))?,
        period_index: count(row, T, "period_index", 1)?,
        issue_date: date(row, T, "issue_date")?,
        period_start: date(row, T, "period_start")?,
        period_end: date(row, T, "period_end")?,
        currency: Currency::parse(&currency)
            .map_err(|_| corrupt(T, "currency", format!("the unknown currency {currency:?}")))?,
        subtotal: get(row, T, "subtotal")?,
        tax: get(row, T, "tax")?,
        tax_inclusive: flag(row, T, "tax_inclusive")?,
        total: get(row, T, "total")?,
        created_at: instant(row, T, "created_at")?,
        usage: json_or_default(row, T, "usage")?,
        settled: json_column(row, T, "settled")?.unwrap_or_default(),
        review: json_column(row, T, "review")?,
    })
}

/// An invoice's usage as stored: its JSON text, or NULL for programs without usage.
/// A line's basis as stored: its JSON, or NULL for a line without one.
pub(super) fn basis_json(line: &LineItem) -> Result<Option<String>> {
    match &line.basis {
        Some(basis) => json_unless_empty(basis, false, "a line item's basis"),
        None => Ok(None),
    }
}

/// Each line with its basis as stored, encoded before the write begins.
pub(super) fn with_bases(lines: &[LineItem]) -> Result<Vec<(&LineItem, Option<String>)>> {
    lines
        .iter()
        .map(|line| Ok((line, basis_json(line)?)))
        .collect()
}

pub(super) fn invoice_usage_json(usage: &InvoiceUsage) -> Result<Option<String>> {
    json_unless_empty(usage, usage.is_empty(), "an invoice's usage")
}

impl InvoiceHead {
    /// The whole invoice: this head with its child rows.
    pub(super) fn into_issued(
        self,
        line_items: Vec<LineItem>,
        tax_lines: Vec<TaxLine>,
        revenue_schedule: Vec<RevenueEntry>,
    ) -> IssuedInvoice {
        let currency = self.currency;
        IssuedInvoice {
            invoice: Invoice {
                period_index: self.period_index,
                issue_date: self.issue_date,
                period_start: self.period_start,
                period_end: self.period_end,
                currency,
                line_items,
                subtotal: Money::from_minor(self.subtotal, currency),
                tax_lines,
                tax: Money::from_minor(self.tax, currency),
                tax_inclusive: self.tax_inclusive,
                total: Money::from_minor(self.total, currency),
                revenue_schedule,
            },
            id: self.id,
            account_id: self.account_id,
            subscription_id: self.subscription_id,
            customer_id: self.customer_id,
            plan_id: self.plan_id,
            plan_version: self.plan_version,
            quantity: self.quantity,
            billing_reason: self.billing_reason,
            status: self.status,
            created_at: self.created_at,
            usage: self.usage,
            settled: self.settled,
            review: self.review,
        }
    }
}

/// A row of `credit_notes` ([`CREDIT_NOTE_COLUMNS`]), its lines, tax lines and reversed revenue
/// left empty for the caller to fill from the child tables.
pub(super) fn credit_note_head(row: &SqliteRow) -> Result<CreditNote> {
    const T: &str = "credit_notes";
    let code = text(row, T, "currency")?;
    let currency = Currency::parse(&code)
        .map_err(|_| corrupt(T, "currency", format!("the unknown currency {code:?}")))?;
    let money = |column: &'static str| -> Result<Money> {
        Ok(Money::from_minor(get(row, T, column)?, currency))
    };
    Ok(CreditNote {
        id: text(row, T, "id")?,
        number: count(row, T, "number", 0)?,
        account_id: text(row, T, "account_id")?,
        subscription_id: text(row, T, "subscription_id")?,
        customer_id: text(row, T, "customer_id")?,
        invoice_id: text(row, T, "invoice_id")?,
        invoice_period_start: date(row, T, "invoice_period_start")?,
        issue_date: date(row, T, "issue_date")?,
        reason: text(row, T, "reason")?,
        currency,
        line_items: Vec::new(),
        subtotal: money("subtotal")?,
        tax_lines: Vec::new(),
        tax: money("tax")?,
        tax_inclusive: flag(row, T, "tax_inclusive")?,
        total: money("total")?,
        revenue_reversed: Vec::new(),
        created_at: instant(row, T, "created_at")?,
    })
}

/// The key of the document (an invoice, a credit note) a child row belongs to: its account and
/// the `parent` column.
pub(super) fn child_key(
    row: &SqliteRow,
    table: &'static str,
    parent: &'static str,
) -> Result<(String, String)> {
    Ok((text(row, table, "account_id")?, text(row, table, parent)?))
}

/// A row of a line item table (`invoice_line_items`, `credit_note_line_items`), in its
/// document's currency.
pub(super) fn line_item(
    row: &SqliteRow,
    table: &'static str,
    currency: Currency,
) -> Result<LineItem> {
    let kind = match text(row, table, "kind")?.as_str() {
        "recurring" => ChargeKind::Recurring,
        "usage" => ChargeKind::Usage,
        other => {
            return Err(corrupt(
                table,
                "kind",
                format!("the unknown kind {other:?}"),
            ));
        }
    };
    let basis = match get::<Option<String>>(row, table, "basis")? {
        Some(json) => Some(serde_json::from_str(&json).map_err(|e| {
            corrupt(
                table,
                "basis",
                format!("JSON that is not a line basis: {e}"),
            )
        })?),
        None => None,
    };
    Ok(LineItem::new(
        text(row, table, "description")?,
        kind,
        Money::from_minor(get(row, table, "amount")?, currency),
        basis,
    ))
}

/// A row of a tax line table (`invoice_tax_lines`, `credit_note_tax_lines`), in its document's
/// currency.
pub(super) fn tax_line(
    row: &SqliteRow,
    table: &'static str,
    currency: Currency,
) -> Result<TaxLine> {
    let rate = text(row, table, "rate")?;
    Ok(TaxLine {
        name: text(row, table, "name")?,
        rate: Decimal::from_str(&rate)
            .map_err(|_| corrupt(table, "rate", format!("{rate:?}, not a decimal")))?,
        amount: Money::from_minor(get(row, table, "amount")?, currency),
    })
}

/// A row of a revenue table (`revenue_schedule`, `credit_note_revenue`), in its document's
/// currency.
pub(super) fn revenue_entry(
    row: &SqliteRow,
    table: &'static str,
    currency: Currency,
) -> Result<RevenueEntry> {
    Ok(RevenueEntry {
        month: text(row, table, "month")?,
        start: date(row, table, "start_date")?,
        end: date(row, table, "end_date")?,
        days: count(row, table, "days", 0)?,
        amount: Money::from_minor(get(row, table, "amount")?, currency),
    })
}

/// A row of `audit_outbox` ([`EVENT_COLUMNS`]).
pub(super) fn event(row: &SqliteRow) -> Result<AuditEvent> {
    const T: &str = "audit_outbox";
    Ok(AuditEvent {
        id: text(row, T, "id")?,
        time: instant(row, T, "time")?,
        account_id: text(row, T, "account_id")?,
        actor: text(row, T, "actor")?,
        action: named::<AuditAction>(row, T, "action")?,
        subject_kind: named::<SubjectKind>(row, T, "subject_kind")?,
        subject_id: text(row, T, "subject_id")?,
        run_id: get(row, T, "run_id")?,
        correlation_id: get(row, T, "correlation_id")?,
        data: json(row, T, "data")?,
    })
}

/// A rejected row of `audit_outbox` ([`EVENT_COLUMNS`] and `reject_reason`): the event and why
/// the sink refused it.
pub(super) fn rejected_event(row: &SqliteRow) -> Result<(AuditEvent, String)> {
    Ok((event(row)?, text(row, "audit_outbox", "reject_reason")?))
}

/// A count from `SELECT COUNT(*) AS column`.
pub(super) fn total(row: &SqliteRow, table: &'static str, column: &'static str) -> Result<u64> {
    let value: i64 = get(row, table, column)?;
    u64::try_from(value).map_err(|_| corrupt(table, column, format!("a count of {value}")))
}

/// The subscription's columns, bound in [`SUBSCRIPTION_COLUMNS`] order (`?1` to `?16`).
pub(super) fn bind_subscription<'q>(
    query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>,
    subscription: &Subscription,
) -> Result<sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>> {
    let changes = changes_json(&subscription.changes)?;
    let billed_usage = billed_usage_json(&subscription.billed_usage)?;
    Ok(query
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
        .bind(changes)
        .bind(billed_usage))
}

/// Groups the rows of a child `table` by the key of their document (the account and the
/// `parent` column), each read in its document's currency; rows of no document in `heads` are
/// skipped.
pub(super) fn by_parent<T>(
    rows: &[SqliteRow],
    table: &'static str,
    parent: &'static str,
    heads: &HashMap<(String, String), crate::money::Currency>,
    read: impl Fn(&SqliteRow, &'static str, crate::money::Currency) -> Result<T>,
) -> Result<HashMap<(String, String), Vec<T>>> {
    let mut grouped: HashMap<(String, String), Vec<T>> = HashMap::new();
    for row in rows {
        let key = child_key(row, table, parent)?;
        let Some(currency) = heads.get(&key) else {
            continue;
        };
        let item = read(row, table, *currency)?;
        grouped.entry(key).or_default().push(item);
    }
    Ok(grouped)
}

/// Inserts one child table of an invoice (`insert_into` names its columns, the key and position
/// first), chunked multi-row INSERTs of (account, invoice, position) then what `push` binds for
/// an item. The three child tables differ only in their columns.
pub(super) async fn insert_children<T>(
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
