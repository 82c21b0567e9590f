//! The platform's usage tables in SQLite: inserting shipments and returns, and reading a period's
//! usage through a predefined usage query template.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::query_builder::Separated;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::{SqliteError, SqliteStore, storage};
use crate::error::{Error, Result};
use crate::store::{check_usage_window, usage_row_exists, weekday_usage};
use crate::usage::window::{OffsetSegment, offset_segments_unix};
use crate::usage::{
    PeriodUsage, Return, Shipment, UsageQueryTemplate, check_returns, check_scope, check_shipments,
    unknown_shipment,
};

/// How far before the window the first run of a usage query gives offsets for, so the shipments
/// of the usual returns are covered and the query runs once. Older shipments cost a second run.
const RETURN_LOOKBACK_SECONDS: i64 = 400 * 86_400;

/// Rows per multi-row INSERT: 6 bound values each stays far below SQLite's variable limit.
const INSERT_CHUNK: usize = 500;

impl SqliteStore {
    /// Inserts shipments of one customer of one account, in one transaction.
    ///
    /// Every row is checked before anything is written: a non-empty id given once, a quantity of at
    /// least 1, and `shipped_at` in whole seconds (the platform stores unix seconds). A bad row, or
    /// an id the account already has, is [`Error::InvalidInput`] naming it, and nothing is inserted.
    pub async fn insert_shipments(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Shipment],
    ) -> Result<()> {
        check_shipments(account_id, customer_id, rows)?;
        self.insert_usage_rows(
            ("shipments", "shipment"),
            "INSERT INTO shipments (account_id, id, customer_id, shipped_at, quantity) ",
            (account_id, customer_id),
            rows,
            |shipment| &shipment.id,
            |row, shipment| {
                row.push_bind(shipment.shipped_at.timestamp())
                    .push_bind(i64::from(shipment.quantity));
            },
        )
        .await
    }

    /// Inserts returns of one customer of one account, in one transaction.
    ///
    /// Checked like [`SqliteStore::insert_shipments`], and the shipment id must not be empty.
    /// The shipment need not exist yet: a usage query over a period holding a return whose
    /// shipment does not exist fails, naming the return.
    pub async fn insert_returns(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Return],
    ) -> Result<()> {
        check_returns(account_id, customer_id, rows)?;
        self.insert_usage_rows(
            ("returns", "return"),
            "INSERT INTO returns \
             (account_id, id, customer_id, shipment_id, returned_at, quantity) ",
            (account_id, customer_id),
            rows,
            |r| &r.id,
            |row, r| {
                row.push_bind(r.shipment_id.clone())
                    .push_bind(r.returned_at.timestamp())
                    .push_bind(i64::from(r.quantity));
            },
        )
        .await
    }

    /// Inserts checked platform rows of one customer in one transaction, all or nothing: chunked
    /// multi-row INSERTs of (account, id, customer) then what `push` binds for a row. Shipments
    /// and returns differ only in `table` (and what one row is called), their columns and `id`.
    #[allow(clippy::too_many_arguments)]
    async fn insert_usage_rows<T>(
        &self,
        (table, what): (&'static str, &'static str),
        insert_into: &'static str,
        (account_id, customer_id): (&str, &str),
        rows: &[T],
        id: impl Fn(&T) -> &str,
        push: impl Fn(&mut Separated<'_, Sqlite, &'static str>, &T),
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(storage(format!("starting to insert {table}")))?;
        for chunk in rows.chunks(INSERT_CHUNK) {
            let mut insert = QueryBuilder::<Sqlite>::new(insert_into);
            insert.push_values(chunk, |mut row, item| {
                row.push_bind(account_id.to_owned())
                    .push_bind(id(item).to_owned())
                    .push_bind(customer_id.to_owned());
                push(&mut row, item);
            });
            if let Err(error) = insert.build().execute(&mut *tx).await {
                let ids = chunk.iter().map(&id);
                return Err(existing_id(&mut tx, error, table, what, account_id, ids).await);
            }
        }
        tx.commit()
            .await
            .map_err(storage(format!("committing {table}")))
    }

    /// Runs `template` for one customer of one account over the UTC window `[from, to)`, weekdays
    /// in `tz`, aggregated in SQL.
    ///
    /// The result equals [`crate::usage::aggregate`] over the customer's rows. A return in the
    /// window whose shipment does not exist for the customer is [`Error::InvalidInput`] naming the
    /// return; `from` after `to` is [`Error::InvalidInput`]. The template runs once in the usual
    /// case, twice when a return in the window is for a shipment more than about 400 days older
    /// than the window (see the header of the template).
    pub async fn period_usage(
        &self,
        template: &UsageQueryTemplate,
        account_id: &str,
        customer_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tz: Tz,
    ) -> Result<PeriodUsage> {
        check_scope(account_id, customer_id)?;
        check_usage_window(from, to)?;
        // Stored times are whole seconds s, so `from <= s` is `ceil(from) <= s`, and so for `to`.
        let (from_s, to_s) = (ceil_seconds(from), ceil_seconds(to));
        let mut cover = (from_s.saturating_sub(RETURN_LOOKBACK_SECONDS), to_s);
        let mut widened = false;
        loop {
            let segments = segments_json(&offset_segments_unix(tz, cover.0, cover.1));
            let rows = sqlx::query(template.sqlite)
                .bind(account_id)
                .bind(customer_id)
                .bind(from_s)
                .bind(to_s)
                .bind(segments)
                .fetch_all(&self.pool)
                .await
                .map_err(storage(format!("running usage query {}", template.name)))?;
            let (usage, check) = read_output(template, &rows)?;
            if let Some(return_id) = check.missing_return_id {
                return Err(unknown_shipment(
                    &return_id,
                    check.missing_shipment_id.as_deref().unwrap_or_default(),
                ));
            }
            match (check.uncovered, check.uncovered_from, check.uncovered_to) {
                (0, _, _) => return Ok(usage),
                (_, Some(low), Some(high)) if !widened => {
                    cover = (cover.0.min(low), cover.1.max(high.saturating_add(1)));
                    widened = true;
                }
                (count, _, _) => {
                    return Err(Error::Storage {
                        action: format!("running usage query {}", template.name),
                        source: Box::new(SqliteError::Uncovered {
                            query: template.name,
                            count,
                        }),
                    });
                }
            }
        }
    }
}

/// A failed batch insert of platform rows: when one of `ids` already exists in the account it is
/// bad input naming it (the ids of one batch are checked to be distinct before); anything else is
/// the store failing. Looked up in the same transaction, which the caller then drops.
async fn existing_id<'a>(
    tx: &mut SqliteConnection,
    error: sqlx::Error,
    table: &'static str,
    what: &'static str,
    account_id: &str,
    ids: impl Iterator<Item = &'a str>,
) -> Error {
    let unique = matches!(&error, sqlx::Error::Database(db) if db.is_unique_violation());
    if !unique {
        return storage(format!("inserting {table}"))(error);
    }
    let mut find =
        QueryBuilder::<Sqlite>::new(format!("SELECT id FROM {table} WHERE account_id = "));
    find.push_bind(account_id.to_owned()).push(" AND id IN (");
    let mut list = find.separated(", ");
    for id in ids {
        list.push_bind(id.to_owned());
    }
    find.push(") ORDER BY id LIMIT 1");
    match find.build().fetch_optional(&mut *tx).await {
        Ok(Some(row)) => match row.try_get::<String, _>("id") {
            Ok(id) => usage_row_exists(table, what, &id, account_id),
            Err(read) => storage(format!("finding the existing {what} id"))(read),
        },
        Ok(None) => storage(format!("inserting {table}"))(error),
        Err(find) => storage(format!("finding the existing {what} id"))(find),
    }
}

/// The check columns of a template's output.
#[derive(Debug, Default)]
struct OutputCheck {
    uncovered: i64,
    uncovered_from: Option<i64>,
    uncovered_to: Option<i64>,
    missing_return_id: Option<String>,
    missing_shipment_id: Option<String>,
}

fn output_error(template: &UsageQueryTemplate, problem: String) -> Error {
    Error::Storage {
        action: format!("running usage query {}", template.name),
        source: Box::new(SqliteError::Output {
            query: template.name,
            problem,
        }),
    }
}

/// Reads the 7 weekday rows of a template into [`PeriodUsage`] and its check columns.
fn read_output(
    template: &UsageQueryTemplate,
    rows: &[SqliteRow],
) -> Result<(PeriodUsage, OutputCheck)> {
    let reading = |source: sqlx::Error| Error::Storage {
        action: format!("reading usage query {}", template.name),
        source: Box::new(source),
    };
    let usage = weekday_usage(
        rows,
        |row, column| row.try_get(column).map_err(reading),
        |problem| output_error(template, problem),
    )?;
    let row = &rows[0];
    let check = OutputCheck {
        uncovered: row.try_get("uncovered").map_err(reading)?,
        uncovered_from: row.try_get("uncovered_from").map_err(reading)?,
        uncovered_to: row.try_get("uncovered_to").map_err(reading)?,
        missing_return_id: row.try_get("missing_return_id").map_err(reading)?,
        missing_shipment_id: row.try_get("missing_shipment_id").map_err(reading)?,
    };
    Ok((usage, check))
}

/// The segments as the templates' JSON parameter: `[[from, to, offset], ...]`.
fn segments_json(segments: &[OffsetSegment]) -> String {
    let mut json = String::from("[");
    for (index, segment) in segments.iter().enumerate() {
        let separator = if index == 0 { "" } else { "," };
        // Writing to a String cannot fail.
        let _ = write!(
            json,
            "{separator}[{},{},{}]",
            segment.from, segment.to, segment.offset_seconds
        );
    }
    json.push(']');
    json
}

fn ceil_seconds(at: DateTime<Utc>) -> i64 {
    at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::usage::find_query;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn shipment(id: &str, shipped_at: &str, quantity: u32) -> Shipment {
        Shipment {
            id: id.into(),
            shipped_at: at(shipped_at),
            quantity,
        }
    }

    #[test]
    fn segments_are_written_as_json_triples() {
        let segments = [
            OffsetSegment {
                from: -10,
                to: 5,
                offset_seconds: -18_000,
            },
            OffsetSegment {
                from: 5,
                to: 9,
                offset_seconds: 37_800,
            },
        ];
        assert_eq!(segments_json(&segments), "[[-10,5,-18000],[5,9,37800]]");
        assert_eq!(segments_json(&[]), "[]");
    }

    #[test]
    fn window_bounds_round_up_to_whole_seconds() {
        assert_eq!(ceil_seconds(at("2026-01-01T00:00:00Z")), 1_767_225_600);
        assert_eq!(ceil_seconds(at("2026-01-01T00:00:00.001Z")), 1_767_225_601);
        assert_eq!(ceil_seconds(at("1969-12-31T23:59:59.5Z")), 0);
    }

    #[tokio::test]
    async fn bad_rows_insert_nothing() {
        let db = SqliteStore::open("sqlite::memory:").await.unwrap();
        db.migrate().await.unwrap();
        let rows = [
            shipment("ok", "2026-01-05T12:00:00Z", 1),
            shipment("zero", "2026-01-05T12:00:00Z", 0),
        ];
        let err = db
            .insert_shipments("acct", "cust", &rows)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("\"zero\""), "{err}");
        let fractional = [shipment("frac", "2026-01-05T12:00:00.5Z", 1)];
        assert!(matches!(
            db.insert_shipments("acct", "cust", &fractional).await,
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            db.insert_shipments("", "cust", &rows[..1]).await,
            Err(Error::InvalidInput { .. })
        ));
        let query = find_query("shipments_by_weekday").unwrap();
        let (from, to) = (at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z"));
        let usage = db
            .period_usage(query, "acct", "cust", from, to, Tz::UTC)
            .await
            .unwrap();
        assert!(usage.is_empty());

        db.insert_shipments("acct", "cust", &rows[..1])
            .await
            .unwrap();
        let again = [
            shipment("new", "2026-01-06T12:00:00Z", 1),
            shipment("ok", "2026-01-05T12:00:00Z", 1),
        ];
        let again = db
            .insert_shipments("acct", "cust", &again)
            .await
            .unwrap_err();
        assert!(
            matches!(&again, Error::InvalidInput { field, reason }
                if field == "shipments.id" && reason.contains("\"ok\" already exists")),
            "{again:?}"
        );
        let usage = db
            .period_usage(query, "acct", "cust", from, to, Tz::UTC)
            .await
            .unwrap();
        assert_eq!(usage.shipments, [1, 0, 0, 0, 0, 0, 0]);
    }
}
