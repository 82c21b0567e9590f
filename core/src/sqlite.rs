//! The embedded SQLite database (feature `sqlite`): the platform's `shipments` and `returns` tables
//! and the predefined usage query templates of `sql/`, run through sqlx.
//!
//! Every SQLite usage template takes the same bound parameters and returns the same columns (the
//! header of `sql/queries/sqlite/shipments_by_weekday.sql` documents both): account, customer,
//! the UTC window, and the account zone's UTC offset segments as JSON, since SQLite has no time
//! zone database. Times are stored as unix seconds.

use std::fmt::Write as _;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};

use crate::error::{Error, Result};
use crate::usage::window::{OffsetSegment, offset_segments_unix};
use crate::usage::{
    PeriodUsage, Return, Shipment, UsageQueryTemplate, check_returns, check_scope, check_shipments,
    unknown_shipment,
};

/// The platform's tables; idempotent.
const PLATFORM_SCHEMA: &str = include_str!("../../sql/schema/sqlite/platform.sql");

const INSERT_SHIPMENT: &str = "INSERT INTO shipments (account_id, id, customer_id, shipped_at, quantity) \
     VALUES (?1, ?2, ?3, ?4, ?5)";

const INSERT_RETURN: &str = "INSERT INTO returns \
     (account_id, id, customer_id, shipment_id, returned_at, quantity) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// How far before the window the first run of a usage query gives offsets for, so the shipments
/// of the usual returns are covered and the query runs once. Older shipments cost a second run.
const RETURN_LOOKBACK_SECONDS: i64 = 400 * 86_400;

/// What went wrong inside this backend, kept as the source of [`Error::Storage`].
#[derive(Debug, thiserror::Error)]
enum SqliteUsageError {
    /// A template's output does not have the documented shape.
    #[error("usage query {query} returned {problem}")]
    Output {
        query: &'static str,
        problem: String,
    },
    /// Rows stayed outside the offset segments even after they were widened to cover them.
    #[error("usage query {query} left {count} rows outside the time zone offsets it was given")]
    Uncovered { query: &'static str, count: i64 },
}

fn storage<E>(action: impl Into<String>) -> impl FnOnce(E) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    let action = action.into();
    move |source| Error::Storage {
        action,
        source: Box::new(source),
    }
}

/// A SQLite database holding shipments and returns, read only through the usage query templates.
#[derive(Debug, Clone)]
pub struct UsageDb {
    pool: sqlx::SqlitePool,
}

impl UsageDb {
    /// Opens (creating if needed) the database at `url` (`sqlite::memory:` or `sqlite://PATH`) and
    /// creates the platform tables from `sql/schema/sqlite/platform.sql`.
    ///
    /// An in-memory database lives as long as this handle (and its clones): its pool holds exactly
    /// one connection that is never closed, so every query sees the same database. A file database
    /// is created if missing and uses the WAL journal. Opening an existing database keeps its rows.
    pub async fn open(url: &str) -> Result<Self> {
        if !url.starts_with("sqlite:") {
            return Err(Error::invalid(
                "database url",
                format!("{url:?} is not a SQLite url: use sqlite::memory: or sqlite://PATH"),
            ));
        }
        let options =
            SqliteConnectOptions::from_str(url).map_err(storage("reading the database url"))?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            SqlitePoolOptions::new()
                .connect_with(
                    options
                        .create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal),
                )
                .await
        }
        .map_err(storage(format!("opening the SQLite database {url}")))?;
        sqlx::raw_sql(PLATFORM_SCHEMA)
            .execute(&pool)
            .await
            .map_err(storage("creating the platform tables"))?;
        Ok(Self { pool })
    }

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
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(storage("starting to insert shipments"))?;
        for row in rows {
            sqlx::query(INSERT_SHIPMENT)
                .bind(account_id)
                .bind(row.id.as_str())
                .bind(customer_id)
                .bind(row.shipped_at.timestamp())
                .bind(i64::from(row.quantity))
                .execute(&mut *tx)
                .await
                .map_err(|e| insert_failed(e, "shipments.id", "shipment", &row.id, account_id))?;
        }
        tx.commit().await.map_err(storage("committing shipments"))
    }

    /// Inserts returns of one customer of one account, in one transaction.
    ///
    /// Checked like [`UsageDb::insert_shipments`], and the shipment id must not be empty. The
    /// shipment need not exist yet: a usage query over a period holding a return whose shipment
    /// does not exist fails, naming the return.
    pub async fn insert_returns(
        &self,
        account_id: &str,
        customer_id: &str,
        rows: &[Return],
    ) -> Result<()> {
        check_returns(account_id, customer_id, rows)?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(storage("starting to insert returns"))?;
        for row in rows {
            sqlx::query(INSERT_RETURN)
                .bind(account_id)
                .bind(row.id.as_str())
                .bind(customer_id)
                .bind(row.shipment_id.as_str())
                .bind(row.returned_at.timestamp())
                .bind(i64::from(row.quantity))
                .execute(&mut *tx)
                .await
                .map_err(|e| insert_failed(e, "returns.id", "return", &row.id, account_id))?;
        }
        tx.commit().await.map_err(storage("committing returns"))
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
        if from > to {
            return Err(Error::invalid(
                "usage window",
                format!("starts at {from} after it ends at {to}"),
            ));
        }
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
                        source: Box::new(SqliteUsageError::Uncovered {
                            query: template.name,
                            count,
                        }),
                    });
                }
            }
        }
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
        source: Box::new(SqliteUsageError::Output {
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
    if rows.len() != 7 {
        return Err(output_error(
            template,
            format!("{} rows instead of 7", rows.len()),
        ));
    }
    let reading = |source: sqlx::Error| Error::Storage {
        action: format!("reading usage query {}", template.name),
        source: Box::new(source),
    };
    let count = |row: &SqliteRow, column: &str| -> Result<u64> {
        let value: i64 = row.try_get(column).map_err(reading)?;
        u64::try_from(value)
            .map_err(|_| output_error(template, format!("{value} in column {column}")))
    };
    let mut usage = PeriodUsage::default();
    let mut seen = [false; 7];
    for row in rows {
        let weekday: i64 = row.try_get("weekday").map_err(reading)?;
        let day = usize::try_from(weekday)
            .ok()
            .filter(|&day| day < 7 && !seen[day])
            .ok_or_else(|| output_error(template, format!("weekday {weekday} out of place")))?;
        seen[day] = true;
        usage.shipments[day] = count(row, "shipments")?;
        usage.units[day] = count(row, "units")?;
        usage.returned_shipments[day] = count(row, "returned_shipments")?;
        usage.returned_units[day] = count(row, "returned_units")?;
    }
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

/// A failed insert: an id the account already has is bad input naming it; anything else is the
/// store failing.
fn insert_failed(error: sqlx::Error, field: &str, what: &str, id: &str, account_id: &str) -> Error {
    if let sqlx::Error::Database(db) = &error
        && db.is_unique_violation()
    {
        return Error::invalid(
            field,
            format!("{what} {id:?} already exists in account {account_id:?}"),
        );
    }
    storage(format!("inserting {what} {id:?}"))(error)
}

#[cfg(test)]
mod tests {
    use super::*;
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
    async fn open_refuses_other_urls() {
        let err = UsageDb::open("postgres://localhost/db").await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn bad_rows_insert_nothing() {
        let db = UsageDb::open("sqlite::memory:").await.unwrap();
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
        let again = db
            .insert_shipments("acct", "cust", &rows[..1])
            .await
            .unwrap_err();
        assert!(
            matches!(&again, Error::InvalidInput { reason, .. } if reason.contains("already exists")),
            "{again:?}"
        );
        let usage = db
            .period_usage(query, "acct", "cust", from, to, Tz::UTC)
            .await
            .unwrap();
        assert_eq!(usage.shipments, [1, 0, 0, 0, 0, 0, 0]);
    }
}
