//! The platform's usage tables in SQLite: inserting shipments and returns, and reading a period's
//! usage through a predefined usage query template.

use std::fmt::Write as _;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;
use sqlx::query_builder::Separated;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::{SqliteError, SqliteStore, storage};
use crate::error::{Error, Result};
use crate::store::{
    UsageFixtures, UsageRequest, UsageSource, check_usage_window, usage_row_exists,
};
use crate::usage::window::offset_segments_unix;
use crate::usage::{
    PeriodUsage, Return, Shipment, UsageQueryTemplate, check_returns, check_scope, check_shipments,
    find_query, unknown_shipment,
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
    /// least 1, and `shipped_at` in whole seconds (the platform stores unix seconds). A bad row is
    /// [`Error::InvalidInput`] and an id the account already has [`Error::Conflict`], naming it,
    /// and nothing is inserted.
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
        let window = Window::new(account_id, customer_id, from, to, tz)?;
        let mut read = self.read_windows(template, &[window]).await?;
        read.pop()
            .unwrap_or_else(|| Err(output_error(template, "no row for the window".to_owned())))
    }

    /// Reads `windows` with `template` in one statement (callers keep it to
    /// [`WINDOWS_PER_STATEMENT`]), and gives each window its usage (or its own error, such as a
    /// return of an unknown shipment) in order. The outer `Err` is the store failing.
    ///
    /// A window some of whose rows lie before the lookback's segments is read again on its own,
    /// with segments that cover them.
    pub(super) async fn read_windows(
        &self,
        template: &UsageQueryTemplate,
        windows: &[Window<'_>],
    ) -> Result<Vec<Result<PeriodUsage>>> {
        let covers: Vec<Cover> = windows.iter().map(Window::cover).collect();
        let outputs = self.run_template(template, windows, &covers).await?;
        let mut read = Vec::with_capacity(windows.len());
        for (window, output) in windows.iter().zip(outputs) {
            let output = match output.uncovered {
                Some(Uncovered { first, last, .. }) => {
                    // Once, on its own, with segments reaching the rows it reported.
                    let (from, to) = window.cover();
                    let widened = (from.min(first), to.max(last.saturating_add(1)));
                    let mut again = self.run_template(template, &[*window], &[widened]).await?;
                    let again = again.pop().ok_or_else(|| {
                        output_error(template, "no row for the window".to_owned())
                    })?;
                    if let Some(Uncovered { count, .. }) = again.uncovered {
                        read.push(Err(Error::Storage {
                            action: format!("running usage query {}", template.name),
                            source: Box::new(SqliteError::Uncovered {
                                query: template.name,
                                count,
                            }),
                        }));
                        continue;
                    }
                    again
                }
                None => output,
            };
            read.push(match output.missing {
                Some((return_id, shipment_id)) => Err(unknown_shipment(&return_id, &shipment_id)),
                None => Ok(output.usage),
            });
        }
        Ok(read)
    }

    /// One statement of `template` over `windows`, the segments of each window's zone covering
    /// at least the union of `covers` of the windows in that zone.
    async fn run_template(
        &self,
        template: &UsageQueryTemplate,
        windows: &[Window<'_>],
        covers: &[Cover],
    ) -> Result<Vec<WindowOutput>> {
        let (windows_json, segments_json) = template_parameters(windows, covers);
        let rows = sqlx::query(template.sqlite)
            .bind(windows_json)
            .bind(segments_json)
            .fetch_all(&self.pool)
            .await
            .map_err(storage(format!("running usage query {}", template.name)))?;
        if rows.len() != windows.len() {
            return Err(output_error(
                template,
                format!("{} rows for {} windows", rows.len(), windows.len()),
            ));
        }
        rows.iter()
            .enumerate()
            .map(|(ord, row)| read_output(template, ord, row))
            .collect()
    }
}

/// How many windows one usage statement reads: a statement per window spent most of a billing
/// run handing statements and rows between threads; a quarter of a page per statement leaves
/// several statements of a page to run at once on the pool's connections.
pub(super) const WINDOWS_PER_STATEMENT: usize = 64;

/// The unix seconds `[from, to)` a zone's segments must cover for a read.
type Cover = (i64, i64);

/// One window of a usage read: a customer of an account over the unix seconds `[from, to)`,
/// weekdays in `tz`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window<'a> {
    account_id: &'a str,
    customer_id: &'a str,
    from: i64,
    to: i64,
    tz: Tz,
}

impl<'a> Window<'a> {
    /// Checks the scope and the window. Stored times are whole seconds s, so `from <= s` is
    /// `ceil(from) <= s`, and so for `to`.
    pub(super) fn new(
        account_id: &'a str,
        customer_id: &'a str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tz: Tz,
    ) -> Result<Self> {
        check_scope(account_id, customer_id)?;
        check_usage_window(from, to)?;
        Ok(Window {
            account_id,
            customer_id,
            from: ceil_seconds(from),
            to: ceil_seconds(to),
            tz,
        })
    }

    /// The window and the lookback before it that covers the shipments of its usual returns.
    fn cover(&self) -> Cover {
        (self.from.saturating_sub(RETURN_LOOKBACK_SECONDS), self.to)
    }
}

/// The template's `?1` and `?2` for `windows`: each window with its zone's number, and each zone
/// once with segments over the union of its windows' `covers`.
fn template_parameters(windows: &[Window<'_>], covers: &[Cover]) -> (String, String) {
    let mut zones: Vec<(Tz, Cover)> = Vec::new();
    let mut rows = Vec::with_capacity(windows.len());
    for (window, &(from, to)) in windows.iter().zip(covers) {
        let zone = match zones.iter().position(|(tz, _)| *tz == window.tz) {
            Some(zone) => {
                let cover = &mut zones[zone].1;
                *cover = (cover.0.min(from), cover.1.max(to));
                zone
            }
            None => {
                zones.push((window.tz, (from, to)));
                zones.len() - 1
            }
        };
        rows.push((
            window.account_id,
            window.customer_id,
            window.from,
            window.to,
            zone,
        ));
    }
    let mut segments = String::from("[");
    for (zone, (tz, (from, to))) in zones.iter().enumerate() {
        for segment in offset_segments_unix(*tz, *from, *to) {
            let separator = if segments.len() == 1 { "" } else { "," };
            // Writing to a String cannot fail.
            let _ = write!(
                segments,
                "{separator}[{zone},{},{},{}]",
                segment.from, segment.to, segment.offset_seconds
            );
        }
    }
    segments.push(']');
    // Strings and integers only: serializing them cannot fail.
    let windows = serde_json::to_string(&rows).unwrap_or_default();
    (windows, segments)
}

/// Rows of a window that no segment covered: how many, and the earliest and latest `shipped_at`.
#[derive(Debug, Clone, Copy)]
struct Uncovered {
    count: i64,
    first: i64,
    last: i64,
}

/// What the template says about one window.
#[derive(Debug)]
struct WindowOutput {
    usage: PeriodUsage,
    /// The rows no segment covered, when some were not.
    uncovered: Option<Uncovered>,
    /// The smallest return whose shipment does not exist, and that shipment's id.
    missing: Option<(String, String)>,
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

fn output_error(template: &UsageQueryTemplate, problem: String) -> Error {
    Error::Storage {
        action: format!("running usage query {}", template.name),
        source: Box::new(SqliteError::Output {
            query: template.name,
            problem,
        }),
    }
}

/// Reads the row of the window at `ord`: its weekday counts and its checks.
fn read_output(template: &UsageQueryTemplate, ord: usize, row: &SqliteRow) -> Result<WindowOutput> {
    let reading = |source: sqlx::Error| Error::Storage {
        action: format!("reading usage query {}", template.name),
        source: Box::new(source),
    };
    let wrong = |problem: String| output_error(template, problem);
    let row_ord: i64 = row.try_get("ord").map_err(reading)?;
    if usize::try_from(row_ord).ok() != Some(ord) {
        return Err(wrong(format!(
            "window {row_ord} in the place of window {ord}"
        )));
    }
    let weekdays: &str = row.try_get("weekdays").map_err(reading)?;
    let weekdays: Vec<[i64; 5]> = serde_json::from_str(weekdays).map_err(|error| {
        wrong(format!(
            "weekdays that are not [[weekday, 4 counts], ...]: {error}"
        ))
    })?;
    let mut usage = PeriodUsage::default();
    let mut seen = [false; 7];
    for [
        weekday,
        shipments,
        units,
        returned_shipments,
        returned_units,
    ] in weekdays
    {
        let day = usize::try_from(weekday)
            .ok()
            .filter(|&day| day < 7 && !seen[day])
            .ok_or_else(|| wrong(format!("weekday {weekday} out of place")))?;
        seen[day] = true;
        let count =
            |value: i64| u64::try_from(value).map_err(|_| wrong(format!("a count of {value}")));
        usage.shipments[day] = count(shipments)?;
        usage.units[day] = count(units)?;
        usage.returned_shipments[day] = count(returned_shipments)?;
        usage.returned_units[day] = count(returned_units)?;
    }
    let count: i64 = row.try_get("uncovered").map_err(reading)?;
    let first: Option<i64> = row.try_get("uncovered_from").map_err(reading)?;
    let last: Option<i64> = row.try_get("uncovered_to").map_err(reading)?;
    let uncovered = match (count, first, last) {
        (0, _, _) => None,
        (1.., Some(first), Some(last)) => Some(Uncovered { count, first, last }),
        _ => {
            return Err(wrong(format!(
                "{count} uncovered rows without their bounds"
            )));
        }
    };
    let missing_returns: i64 = row.try_get("missing_returns").map_err(reading)?;
    let return_id: Option<String> = row.try_get("missing_return_id").map_err(reading)?;
    let shipment_id: Option<String> = row.try_get("missing_shipment_id").map_err(reading)?;
    let missing = match (missing_returns, return_id) {
        (0, _) => None,
        (_, Some(return_id)) => Some((return_id, shipment_id.unwrap_or_default())),
        (count, None) => return Err(wrong(format!("{count} missing returns without an id"))),
    };
    Ok(WindowOutput {
        usage,
        uncovered,
        missing,
    })
}

fn ceil_seconds(at: DateTime<Utc>) -> i64 {
    at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0)
}

/// Usage statements of a page in flight at once, each on its own connection (the pool has 10),
/// each reading [`WINDOWS_PER_STATEMENT`] windows: a page of 256 reads on up to 4 threads.
pub(super) const USAGE_IN_FLIGHT: usize = 4;

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
    use crate::store::{BillingState, UsageSource};
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
    fn parameters_number_each_zone_once_over_its_windows() {
        let (jan, feb, mar) = (
            at("2026-01-01T00:00:00Z"),
            at("2026-02-01T00:00:00Z"),
            at("2026-03-01T00:00:00Z"),
        );
        let paris = chrono_tz::Europe::Paris;
        let windows = [
            Window::new("a", "c\"1", jan, feb, Tz::UTC).unwrap(),
            Window::new("a", "c2", jan, feb, paris).unwrap(),
            Window::new("b", "c3", feb, mar, Tz::UTC).unwrap(),
        ];
        let covers = [(10, 20), (30, 40), (15, 50)];
        let (windows, segments) = template_parameters(&windows, &covers);
        assert_eq!(
            windows,
            format!(
                r#"[["a","c\"1",{},{},0],["a","c2",{},{},1],["b","c3",{},{},0]]"#,
                jan.timestamp(),
                feb.timestamp(),
                jan.timestamp(),
                feb.timestamp(),
                feb.timestamp(),
                mar.timestamp()
            )
        );
        assert_eq!(segments, "[[0,10,50,0],[1,30,40,3600]]");
        assert_eq!(
            template_parameters(&[], &[]),
            ("[]".to_owned(), "[]".to_owned())
        );
    }

    #[test]
    fn window_bounds_round_up_to_whole_seconds() {
        assert_eq!(ceil_seconds(at("2026-01-01T00:00:00Z")), 1_767_225_600);
        assert_eq!(ceil_seconds(at("2026-01-01T00:00:00.001Z")), 1_767_225_601);
        assert_eq!(ceil_seconds(at("1969-12-31T23:59:59.5Z")), 0);
    }

    /// A page's worth of windows (several statements' worth), three zones, a return of a shipment
    /// from two years before (read again with wider segments) and a return of a missing shipment:
    /// each window as the pure aggregate gives it, or its own error.
    #[tokio::test]
    async fn many_windows_read_as_the_aggregate_counts() {
        let db = SqliteStore::open("sqlite::memory:").await.unwrap();
        db.migrate().await.unwrap();
        let zones = [
            chrono_tz::America::New_York,
            chrono_tz::Europe::Paris,
            chrono_tz::Asia::Kolkata,
        ];
        let mut rows = Vec::new();
        for customer in 0..6 {
            let shipments: Vec<Shipment> = (0..40)
                .map(|day| {
                    let at = at("2026-01-01T00:00:00Z")
                        + chrono::Duration::hours(i64::from(day) * 23 + customer * 5);
                    Shipment {
                        id: format!("s{customer}-{day}"),
                        shipped_at: at,
                        quantity: 1 + (day % 3),
                    }
                })
                .chain([shipment(
                    &format!("old{customer}"),
                    "2024-01-07T23:30:00Z",
                    2,
                )])
                .collect();
            let mut returns = vec![Return {
                id: format!("r{customer}"),
                shipment_id: format!("s{customer}-3"),
                returned_at: at("2026-01-20T10:00:00Z"),
                quantity: 1,
            }];
            if customer == 1 {
                returns.push(Return {
                    id: "r-old".into(),
                    shipment_id: "old1".into(),
                    returned_at: at("2026-01-25T10:00:00Z"),
                    quantity: 2,
                });
            }
            if customer == 4 {
                returns.push(Return {
                    id: "r-lost".into(),
                    shipment_id: "nowhere".into(),
                    returned_at: at("2026-01-26T10:00:00Z"),
                    quantity: 1,
                });
            }
            let customer_id = format!("cus{customer}");
            db.insert_shipments("acct", &customer_id, &shipments)
                .await
                .unwrap();
            db.insert_returns("acct", &customer_id, &returns)
                .await
                .unwrap();
            rows.push((customer_id, shipments, returns));
        }
        let mut requests = Vec::new();
        for index in 0..150_i64 {
            let (customer_id, _, _) = &rows[(index % 6) as usize];
            let from = at("2025-12-20T00:00:00Z") + chrono::Duration::hours(index * 7);
            let to = from + chrono::Duration::days(10 + index % 20);
            requests.push((customer_id.as_str(), from, to, zones[(index % 3) as usize]));
        }
        let query = crate::usage::find_query("shipments_by_weekday").unwrap();
        let usage_requests: Vec<crate::store::UsageRequest> = requests
            .iter()
            .map(|&(customer_id, from, to, tz)| crate::store::UsageRequest {
                query: query.name.to_owned(),
                account_id: "acct".to_owned(),
                customer_id: customer_id.to_owned(),
                from,
                to,
                tz,
            })
            .collect();
        assert!(usage_requests.len() > 2 * WINDOWS_PER_STATEMENT);
        let read = db.usage_many(&usage_requests).await.unwrap();
        assert_eq!(read.len(), usage_requests.len());
        let mut errors = 0;
        for (&(customer_id, from, to, tz), got) in requests.iter().zip(&read) {
            let (_, shipments, returns) = rows.iter().find(|(c, _, _)| c == customer_id).unwrap();
            match (
                crate::usage::aggregate(shipments, returns, from, to, tz),
                got,
            ) {
                (Ok(want), Ok(got)) => assert_eq!(&want, got, "{customer_id} {from} {to} {tz}"),
                (Err(want), Err(got)) => {
                    errors += 1;
                    assert_eq!(want.to_string(), got.to_string());
                }
                (want, got) => panic!("{customer_id} {from} {to}: {got:?}, want {want:?}"),
            }
        }
        assert!(errors > 0, "the missing shipment fails its windows");
        assert!(
            read.iter().any(|usage| usage
                .as_ref()
                .is_ok_and(|usage| usage.total_returned_units() >= 2)),
            "the old shipment's return is counted"
        );
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
            matches!(&again, Error::Conflict { what, reason }
                if what == "shipments.id" && reason.contains("\"ok\" already exists")),
            "{again:?}"
        );
        let usage = db
            .period_usage(query, "acct", "cust", from, to, Tz::UTC)
            .await
            .unwrap();
        assert_eq!(usage.shipments, [1, 0, 0, 0, 0, 0, 0]);
    }
}
