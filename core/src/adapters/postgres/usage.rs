//! The platform's usage tables on PostgreSQL: inserting shipments and returns, and reading one
//! customer's usage through the predefined templates' PostgreSQL text.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgPool;
use sqlx::postgres::PgRow;

use super::error::{PgError, storage, storage_error};
use super::rows::get;
use crate::error::{Error, Result};
use crate::store::{UsageRequest, check_usage_window, usage_row_exists};
use crate::usage::{
    PeriodUsage, Return, Shipment, UsageQueryTemplate, check_returns, check_scope, check_shipments,
    find_query, unknown_shipment,
};

/// All rows in one statement; an id the account already has is skipped by `ON CONFLICT` and
/// found missing from `RETURNING`, and the caller rolls back.
const INSERT_SHIPMENTS: &str = "INSERT INTO shipments (account_id, id, customer_id, shipped_at, \
     quantity) \
     SELECT $1, s.id, $2, s.shipped_at, s.quantity \
     FROM UNNEST($3::text[], $4::timestamptz[], $5::bigint[]) AS s (id, shipped_at, quantity) \
     ON CONFLICT DO NOTHING \
     RETURNING id";

const INSERT_RETURNS: &str = "INSERT INTO returns (account_id, id, customer_id, shipment_id, \
     returned_at, quantity) \
     SELECT $1, r.id, $2, r.shipment_id, r.returned_at, r.quantity \
     FROM UNNEST($3::text[], $4::text[], $5::timestamptz[], $6::bigint[]) \
          AS r (id, shipment_id, returned_at, quantity) \
     ON CONFLICT DO NOTHING \
     RETURNING id";

/// The first of `ids` that `inserted` does not hold: the one that already existed.
fn first_existing<'a>(ids: impl Iterator<Item = &'a str>, inserted: &[String]) -> &'a str {
    let written: HashSet<&str> = inserted.iter().map(String::as_str).collect();
    ids.into_iter()
        .find(|id| !written.contains(id))
        .unwrap_or_default()
}

/// Inserts shipments of one customer, all or nothing.
pub(crate) async fn insert_shipments(
    pool: &PgPool,
    account_id: &str,
    customer_id: &str,
    rows: &[Shipment],
) -> Result<()> {
    check_shipments(account_id, customer_id, rows)?;
    let insert = sqlx::query_scalar(INSERT_SHIPMENTS)
        .bind(account_id)
        .bind(customer_id)
        .bind(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.shipped_at).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| i64::from(r.quantity))
                .collect::<Vec<_>>(),
        );
    let ids = rows.iter().map(|r| r.id.as_str());
    insert_all(pool, ("shipments", "shipment"), account_id, ids, insert).await
}

/// Inserts returns of one customer, all or nothing.
pub(crate) async fn insert_returns(
    pool: &PgPool,
    account_id: &str,
    customer_id: &str,
    rows: &[Return],
) -> Result<()> {
    check_returns(account_id, customer_id, rows)?;
    let insert = sqlx::query_scalar(INSERT_RETURNS)
        .bind(account_id)
        .bind(customer_id)
        .bind(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.shipment_id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.returned_at).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| i64::from(r.quantity))
                .collect::<Vec<_>>(),
        );
    let ids = rows.iter().map(|r| r.id.as_str());
    insert_all(pool, ("returns", "return"), account_id, ids, insert).await
}

/// Runs `insert` (one of the statements above, bound to checked rows with these `ids`) in a
/// transaction of its own, committed only when every row was written: an id the account already
/// has is missing from `RETURNING`, and the transaction is dropped. Shipments and returns differ
/// only in their statement and in how the error names the table and a row (`what`).
async fn insert_all<'q, 'a>(
    pool: &PgPool,
    (table, what): (&'static str, &'static str),
    account_id: &str,
    ids: impl ExactSizeIterator<Item = &'a str>,
    insert: sqlx::query::QueryScalar<'q, sqlx::Postgres, String, sqlx::postgres::PgArguments>,
) -> Result<()> {
    if ids.len() == 0 {
        return Ok(());
    }
    let mut tx = pool
        .begin()
        .await
        .map_err(storage(format!("starting to insert {table}")))?;
    let expected = ids.len();
    let inserted: Vec<String> = insert
        .fetch_all(&mut *tx)
        .await
        .map_err(storage(format!("inserting {table}")))?;
    if inserted.len() != expected {
        let id = first_existing(ids, &inserted);
        return Err(usage_row_exists(table, what, id, account_id));
    }
    tx.commit()
        .await
        .map_err(storage(format!("committing {table}")))
}

/// `at` rounded up to the microsecond. Stored instants are whole microseconds (timestamptz), so
/// `at <= stored` exactly when `ceil(at) <= stored`; sqlx would otherwise truncate a bound with
/// nanoseconds, and a window could take in a row just before its start.
pub(crate) fn ceil_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    let extra = at.timestamp_subsec_nanos() % 1_000;
    if extra == 0 {
        at
    } else {
        at.checked_add_signed(TimeDelta::nanoseconds(i64::from(1_000 - extra)))
            .unwrap_or(at)
    }
}

/// One customer's usage through the template named by the request, run once.
pub(crate) async fn usage(pool: &PgPool, request: &UsageRequest) -> Result<PeriodUsage> {
    let template = find_query(&request.query)?;
    check_scope(&request.account_id, &request.customer_id)?;
    check_usage_window(request.from, request.to)?;
    let rows = sqlx::query(template.postgres)
        .bind(&request.account_id)
        .bind(&request.customer_id)
        .bind(ceil_micros(request.from))
        .bind(ceil_micros(request.to))
        .bind(request.tz.name())
        .fetch_all(pool)
        .await
        .map_err(storage(format!("running usage query {}", template.name)))?;
    read_output(template, &rows)
}

fn output_error(template: &UsageQueryTemplate, problem: String) -> Error {
    storage_error(
        format!("running usage query {}", template.name),
        PgError::UsageOutput {
            query: template.name,
            problem,
        },
    )
}

/// Reads the 7 weekday rows of a template into [`PeriodUsage`], failing on a reported return
/// whose shipment is missing.
pub(crate) fn read_output(template: &UsageQueryTemplate, rows: &[PgRow]) -> Result<PeriodUsage> {
    const T: &str = "usage query output";
    // A reported missing shipment comes first: it is the caller's data, not the output's shape.
    if let Some(first) = rows.first() {
        let missing: i64 = get(first, T, "missing_returns")?;
        if missing > 0 {
            let return_id: Option<String> = get(first, T, "missing_return_id")?;
            let shipment_id: Option<String> = get(first, T, "missing_shipment_id")?;
            return Err(unknown_shipment(
                return_id.as_deref().unwrap_or_default(),
                shipment_id.as_deref().unwrap_or_default(),
            ));
        }
    }
    weekday_usage(
        rows,
        |row, column| get(row, T, column),
        |problem| output_error(template, problem),
    )
}

/// Reads the output of a PostgreSQL usage template: seven rows, one per weekday
/// (`weekday` 0 for Monday to 6, each once), with the counts `shipments`, `units`,
/// `returned_shipments` and `returned_units`, none negative. `column` reads one integer column
/// of a row (a read failure is the adapter's own error); `output_error` makes the adapter's
/// error for output of the wrong shape from what is wrong with it.
fn weekday_usage<R>(
    rows: &[R],
    column: impl Fn(&R, &'static str) -> Result<i64>,
    output_error: impl Fn(String) -> Error,
) -> Result<PeriodUsage> {
    if rows.len() != 7 {
        return Err(output_error(format!("{} rows instead of 7", rows.len())));
    }
    let count = |row: &R, name: &'static str| -> Result<u64> {
        let value = column(row, name)?;
        u64::try_from(value).map_err(|_| output_error(format!("{value} in column {name}")))
    };
    let mut usage = PeriodUsage::default();
    let mut seen = [false; 7];
    for row in rows {
        let weekday = column(row, "weekday")?;
        let day = usize::try_from(weekday)
            .ok()
            .filter(|&day| day < 7 && !seen[day])
            .ok_or_else(|| output_error(format!("weekday {weekday} out of place")))?;
        seen[day] = true;
        usage.shipments[day] = count(row, "shipments")?;
        usage.units[day] = count(row, "units")?;
        usage.returned_shipments[day] = count(row, "returned_shipments")?;
        usage.returned_units[day] = count(row, "returned_units")?;
    }
    Ok(usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_bounds_round_up_to_the_microsecond() {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        assert_eq!(
            ceil_micros(at("2026-01-01T00:00:00Z")),
            at("2026-01-01T00:00:00Z")
        );
        assert_eq!(
            ceil_micros(at("2026-01-01T00:00:00.000001Z")),
            at("2026-01-01T00:00:00.000001Z")
        );
        assert_eq!(
            ceil_micros(at("2026-01-01T00:00:00.0000001Z")),
            at("2026-01-01T00:00:00.000001Z")
        );
    }

    #[test]
    fn the_existing_id_is_the_first_not_written() {
        let inserted = vec!["a".to_owned(), "c".to_owned()];
        assert_eq!(first_existing(["a", "b", "c"].into_iter(), &inserted), "b");
    }
}
