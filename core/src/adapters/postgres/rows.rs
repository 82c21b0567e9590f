//! Reading rows back into domain values. Every stored value is checked as it is read: a value
//! that cannot be what its column should hold is [`crate::Error::Storage`] naming the table and
//! column, never a panic and never silently repaired.

use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, Row, Type};

use super::error::{PgError, corrupt, storage_error};
use crate::audit::{AuditAction, AuditEvent, SubjectKind};
use crate::changes::Changes;
use crate::error::Result;
use crate::late_usage::{InvoiceUsage, UsageHistory};
use crate::plan::{Account, PlanVersion};
use crate::store::stored_tax_address;
use crate::subscription::{Customer, Quantity, Subscription, SubscriptionStatus};

/// The columns [`subscription`] reads: a macro so statements can `concat!` it and stay static.
macro_rules! subscription_columns {
    () => {
        "account_id, id, customer_id, plan_id, quantity, start_date, status, current_period, \
         current_period_start, current_period_end, next_invoice_period, next_invoice_at, \
         revision, created_at, updated_at, changes::text AS changes, \
         billed_usage::text AS billed_usage"
    };
}

/// The columns [`event`] reads: a macro so statements can `concat!` it and stay static.
macro_rules! event_columns {
    () => {
        "id, time, account_id, actor, action, subject_kind, subject_id, run_id, \
         correlation_id, data::text AS data"
    };
}

/// One column of `row`, decoded; a value of the wrong type is a storage error naming it.
pub(crate) fn get<'r, T>(row: &'r PgRow, table: &'static str, column: &'static str) -> Result<T>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get(column).map_err(|source| {
        storage_error(
            format!("reading {table}.{column}"),
            PgError::Database(source),
        )
    })
}

/// A BIGINT column that holds a `u32` in the domain.
pub(crate) fn get_u32(row: &PgRow, table: &'static str, column: &'static str) -> Result<u32> {
    let value: i64 = get(row, table, column)?;
    u32::try_from(value).map_err(|_| corrupt(table, column, format!("{value}, not a u32")))
}

/// A JSON text column, parsed into `T`.
pub(crate) fn get_json<T: DeserializeOwned>(
    row: &PgRow,
    table: &'static str,
    column: &'static str,
) -> Result<T> {
    let text: String = get(row, table, column)?;
    serde_json::from_str(&text)
        .map_err(|error| corrupt(table, column, format!("bad JSON: {error}")))
}

/// A text column holding a unit enum as serde spells it (`invoice_issued`).
fn get_serde_name<T: DeserializeOwned>(
    row: &PgRow,
    table: &'static str,
    column: &'static str,
) -> Result<T> {
    let text: String = get(row, table, column)?;
    serde_json::from_value(serde_json::Value::String(text.clone()))
        .map_err(|_| corrupt(table, column, format!("{text:?}, not a known value")))
}

/// An `accounts` row.
pub(crate) fn account(row: &PgRow) -> Result<Account> {
    let timezone: String = get(row, "accounts", "timezone")?;
    Ok(Account {
        id: get(row, "accounts", "id")?,
        abstracted: get(row, "accounts", "abstracted")?,
        timezone: timezone.parse::<Tz>().map_err(|_| {
            corrupt(
                "accounts",
                "timezone",
                format!("{timezone:?}, not an IANA zone"),
            )
        })?,
        tax_inclusive: get(row, "accounts", "tax_inclusive")?,
        locale: {
            let tag: String = get(row, "accounts", "locale")?;
            crate::locale::Locale::parse(&tag, "accounts.locale").map_err(|_| {
                corrupt("accounts", "locale", format!("{tag:?}, not a known locale"))
            })?
        },
    })
}

/// A `customers` row.
pub(crate) fn customer(row: &PgRow) -> Result<Customer> {
    let country: Option<String> = get(row, "customers", "tax_country")?;
    let region: Option<String> = get(row, "customers", "tax_region")?;
    let postal_code: Option<String> = get(row, "customers", "tax_postal_code")?;
    let tax_address = stored_tax_address(country, region, postal_code)
        .map_err(|problem| corrupt("customers", "tax_country", problem))?;
    Ok(Customer {
        account_id: get(row, "customers", "account_id")?,
        id: get(row, "customers", "id")?,
        tax_address,
        tax_exempt: get(row, "customers", "tax_exempt")?,
    })
}

/// A `plan_versions` row (`plan` and `program` selected as text).
pub(crate) fn plan_version(row: &PgRow) -> Result<PlanVersion> {
    Ok(PlanVersion {
        account_id: get(row, "plan_versions", "account_id")?,
        plan: get_json(row, "plan_versions", "plan")?,
        version: get_u32(row, "plan_versions", "version")?,
        program: get_json(row, "plan_versions", "program")?,
        interpreter: get(row, "plan_versions", "interpreter")?,
        created_at: get(row, "plan_versions", "created_at")?,
    })
}

/// A `plan_versions` row selected with its `plan_id` too, checked against the plan it holds.
pub(crate) fn keyed_plan_version(row: &PgRow) -> Result<PlanVersion> {
    let plan_id: String = get(row, "plan_versions", "plan_id")?;
    let version = plan_version(row)?;
    check_plan_key(&version, &plan_id)?;
    Ok(version)
}

/// A stored plan's own id must be the `plan_id` it is stored under.
pub(crate) fn check_plan_key(version: &PlanVersion, plan_id: &str) -> Result<()> {
    if version.plan_id() == plan_id {
        return Ok(());
    }
    Err(corrupt(
        "plan_versions",
        "plan",
        format!(
            "a plan with id {:?} under plan_id {plan_id:?}",
            version.plan_id()
        ),
    ))
}

/// A `subscriptions` row, selected with [`SUBSCRIPTION_COLUMNS`].
pub(crate) fn subscription(row: &PgRow) -> Result<Subscription> {
    const T: &str = "subscriptions";
    let status: String = get(row, T, "status")?;
    Ok(Subscription {
        account_id: get(row, T, "account_id")?,
        id: get(row, T, "id")?,
        customer_id: get(row, T, "customer_id")?,
        plan_id: get(row, T, "plan_id")?,
        quantity: Quantity::try_from(get_u32(row, T, "quantity")?)
            .map_err(|e| corrupt(T, "quantity", e.to_string()))?,
        start_date: get(row, T, "start_date")?,
        status: SubscriptionStatus::parse(&status)
            .ok_or_else(|| corrupt(T, "status", format!("{status:?}, not a status")))?,
        current_period: get_u32(row, T, "current_period")?,
        current_period_start: get(row, T, "current_period_start")?,
        current_period_end: get(row, T, "current_period_end")?,
        next_invoice_period: get_u32(row, T, "next_invoice_period")?,
        next_invoice_at: get(row, T, "next_invoice_at")?,
        changes: json_or_default(row, T, "changes")?,
        billed_usage: json_or_default(row, T, "billed_usage")?,
        revision: get(row, T, "revision")?,
        created_at: get(row, T, "created_at")?,
        updated_at: get(row, T, "updated_at")?,
    })
}

/// A subscription's changes as stored: the JSON of [`Changes`], or NULL when there are none (most
/// subscriptions), so an unchanged row costs nothing to write or read.
pub(crate) fn changes_json(changes: &Changes) -> Result<Option<String>> {
    json_unless_empty(changes, changes.is_empty(), "subscription.changes")
}

/// A subscription's usage history as stored: its JSON, or NULL for plans without usage.
pub(crate) fn billed_usage_json(history: &UsageHistory) -> Result<Option<String>> {
    json_unless_empty(history, history.is_empty(), "subscription.billed_usage")
}

/// Each line's basis as stored: its JSON, or NULL for a line without one.
pub(crate) fn bases_json(lines: &[crate::invoice::LineItem]) -> Result<Vec<Option<String>>> {
    lines
        .iter()
        .map(|line| match &line.basis {
            Some(basis) => json_unless_empty(basis, false, "line_items.basis"),
            None => Ok(None),
        })
        .collect()
}

/// A line's basis read back from its JSON column.
pub(crate) fn basis_from_json(
    table: &'static str,
    json: Option<String>,
) -> Result<Option<crate::basis::LineBasis>> {
    json.map(|json| {
        serde_json::from_str(&json).map_err(|e| {
            corrupt(
                table,
                "basis",
                format!("JSON that is not a line basis: {e}"),
            )
        })
    })
    .transpose()
}

/// An invoice's usage as stored: its JSON, or NULL for programs without usage.
pub(crate) fn invoice_usage_json(usage: &InvoiceUsage) -> Result<Option<String>> {
    json_unless_empty(usage, usage.is_empty(), "invoice.usage")
}

/// `value`'s JSON text, or NULL when it is `empty`.
fn json_unless_empty<T: serde::Serialize>(
    value: &T,
    empty: bool,
    field: &str,
) -> Result<Option<String>> {
    if empty {
        return Ok(None);
    }
    serde_json::to_string(value).map(Some).map_err(|error| {
        crate::error::Error::invalid(field, format!("cannot be written as JSON: {error}"))
    })
}

/// A JSON column (selected as text): the default when NULL (nothing is parsed), else its JSON.
pub(crate) fn json_or_default<T: serde::de::DeserializeOwned + Default>(
    row: &PgRow,
    table: &'static str,
    column: &'static str,
) -> Result<T> {
    match get::<Option<String>>(row, table, column)? {
        None => Ok(T::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|error| corrupt(table, column, format!("bad JSON: {error}"))),
    }
}

/// An `audit_outbox` row, selected with [`EVENT_COLUMNS`].
pub(crate) fn event(row: &PgRow) -> Result<AuditEvent> {
    const T: &str = "audit_outbox";
    let action: AuditAction = get_serde_name(row, T, "action")?;
    let subject_kind: SubjectKind = get_serde_name(row, T, "subject_kind")?;
    Ok(AuditEvent {
        id: get(row, T, "id")?,
        time: get(row, T, "time")?,
        account_id: get(row, T, "account_id")?,
        actor: get(row, T, "actor")?,
        action,
        subject_kind,
        subject_id: get(row, T, "subject_id")?,
        run_id: get(row, T, "run_id")?,
        correlation_id: get(row, T, "correlation_id")?,
        data: get_json(row, T, "data")?,
    })
}
