//! Usage for one billing period: shipments, shipped units and returns summed per local day of week.
//!
//! Usage reaches billing only through the predefined query templates of `sql/` (see
//! [`UsageQueryTemplate`]); this module holds the shapes they return and a pure aggregation over
//! rows that the templates are checked against.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub mod window;

/// One row of the platform's `shipments` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Shipment {
    /// The shipment's id.
    pub id: String,
    /// When it shipped (UTC instant).
    pub shipped_at: DateTime<Utc>,
    /// Copies/units in it; at least 1.
    pub quantity: u32,
}

/// One row of the platform's `returns` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Return {
    /// The return's id.
    pub id: String,
    /// The shipment it returns.
    pub shipment_id: String,
    /// When it was returned (UTC instant).
    pub returned_at: DateTime<Utc>,
    /// Units returned; at least 1.
    pub quantity: u32,
}

/// Usage of one period, indexed by local weekday, Monday = 0 ... Sunday = 6.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct PeriodUsage {
    /// Shipments (rows) whose local `shipped_at` falls in the period.
    pub shipments: [u64; 7],
    /// Units (sum of `quantity`) of those shipments.
    pub units: [u64; 7],
    /// Returns whose `returned_at` falls in the period, on the local weekday of their shipment.
    pub returned_shipments: [u64; 7],
    /// Units (sum of the return's `quantity`) of those returns.
    pub returned_units: [u64; 7],
}

impl PeriodUsage {
    /// Shipments (rows) of the period over all weekdays, before returns.
    pub fn total_shipments(&self) -> u64 {
        total(&self.shipments)
    }
    /// Shipped units of the period over all weekdays, before returns.
    pub fn total_units(&self) -> u64 {
        total(&self.units)
    }
    /// Returns (rows) of the period over all weekdays.
    pub fn total_returned_shipments(&self) -> u64 {
        total(&self.returned_shipments)
    }
    /// Returned units of the period over all weekdays.
    pub fn total_returned_units(&self) -> u64 {
        total(&self.returned_units)
    }
    /// No shipment and no return in the period.
    pub fn is_empty(&self) -> bool {
        [
            self.shipments,
            self.units,
            self.returned_shipments,
            self.returned_units,
        ]
        .iter()
        .all(|counts| counts.iter().all(|&count| count == 0))
    }
}

/// The sum of seven counts. Counts come from 64-bit SQL sums, so the total cannot realistically
/// overflow; it saturates rather than wrap or panic.
fn total(counts: &[u64; 7]) -> u64 {
    counts
        .iter()
        .fold(0, |sum, &count| sum.saturating_add(count))
}

/// The error for a return, counted in a period, whose shipment does not exist for its customer.
pub(crate) fn unknown_shipment(return_id: &str, shipment_id: &str) -> Error {
    Error::invalid(
        "returns.shipment_id",
        format!(
            "return {return_id:?} points at shipment {shipment_id:?}, which is not a shipment of this customer"
        ),
    )
}

/// Checks the scope of a usage read or write: a non-empty account and customer.
pub(crate) fn check_scope(account_id: &str, customer_id: &str) -> Result<()> {
    if account_id.is_empty() {
        return Err(Error::invalid("account_id", "must not be empty"));
    }
    if customer_id.is_empty() {
        return Err(Error::invalid("customer_id", "must not be empty"));
    }
    Ok(())
}

/// Checks shipments before any store writes them: scope, a non-empty id given once, a quantity of
/// at least 1, `shipped_at` in whole seconds. The error names the first bad row.
pub(crate) fn check_shipments(
    account_id: &str,
    customer_id: &str,
    rows: &[Shipment],
) -> Result<()> {
    check_scope(account_id, customer_id)?;
    let mut ids = std::collections::HashSet::with_capacity(rows.len());
    for row in rows {
        check_row(
            "shipments",
            "shipment",
            &row.id,
            &mut ids,
            row.quantity,
            row.shipped_at,
        )?;
    }
    Ok(())
}

/// Checks returns like [`check_shipments`], and a non-empty shipment id.
pub(crate) fn check_returns(account_id: &str, customer_id: &str, rows: &[Return]) -> Result<()> {
    check_scope(account_id, customer_id)?;
    let mut ids = std::collections::HashSet::with_capacity(rows.len());
    for row in rows {
        check_row(
            "returns",
            "return",
            &row.id,
            &mut ids,
            row.quantity,
            row.returned_at,
        )?;
        if row.shipment_id.is_empty() {
            return Err(Error::invalid(
                "returns.shipment_id",
                format!("return {:?} has an empty shipment id", row.id),
            ));
        }
    }
    Ok(())
}

fn check_row<'a>(
    table: &str,
    what: &str,
    id: &'a str,
    ids: &mut std::collections::HashSet<&'a str>,
    quantity: u32,
    at: DateTime<Utc>,
) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid(
            format!("{table}.id"),
            format!("a {what} has an empty id"),
        ));
    }
    if !ids.insert(id) {
        return Err(Error::invalid(
            format!("{table}.id"),
            format!("{what} {id:?} is given twice"),
        ));
    }
    if quantity == 0 {
        return Err(Error::invalid(
            format!("{table}.quantity"),
            format!("{what} {id:?} has quantity 0; it must be at least 1"),
        ));
    }
    if at.timestamp_subsec_nanos() != 0 {
        let column = if table == "shipments" {
            "shipped_at"
        } else {
            "returned_at"
        };
        return Err(Error::invalid(
            format!("{table}.{column}"),
            format!("{what} {id:?} is at {at}: times are stored in whole seconds"),
        ));
    }
    Ok(())
}

/// Sums rows into [`PeriodUsage`] for the UTC window `[from, to)`, weekdays taken in `tz`.
/// A return whose shipment is not among `shipments` is [`crate::Error::InvalidInput`].
///
/// `shipments` holds the customer's shipments of any time (a return counts on the weekday of its
/// shipment, which may have shipped before the window); only those shipped in the window are
/// counted. A quantity of 0, a shipment id given twice or `from` after `to` is
/// [`crate::Error::InvalidInput`]. When several returns point at unknown shipments, the error
/// names the one with the smallest id.
pub fn aggregate(
    shipments: &[Shipment],
    returns: &[Return],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    tz: Tz,
) -> Result<PeriodUsage> {
    if from > to {
        return Err(Error::invalid(
            "usage window",
            format!("starts at {from} after it ends at {to}"),
        ));
    }
    let weekday =
        |at: DateTime<Utc>| at.with_timezone(&tz).weekday().num_days_from_monday() as usize;
    let in_window = |at: DateTime<Utc>| from <= at && at < to;
    let add = |slot: &mut u64, amount: u64| -> Result<()> {
        *slot = slot
            .checked_add(amount)
            .ok_or_else(|| Error::overflow("period usage"))?;
        Ok(())
    };

    let mut by_id: HashMap<&str, &Shipment> = HashMap::with_capacity(shipments.len());
    let mut usage = PeriodUsage::default();
    for shipment in shipments {
        if shipment.quantity == 0 {
            return Err(Error::invalid(
                "shipments.quantity",
                format!(
                    "shipment {:?} has quantity 0; it must be at least 1",
                    shipment.id
                ),
            ));
        }
        if by_id.insert(&shipment.id, shipment).is_some() {
            return Err(Error::invalid(
                "shipments.id",
                format!("shipment {:?} is given twice", shipment.id),
            ));
        }
        if in_window(shipment.shipped_at) {
            let day = weekday(shipment.shipped_at);
            add(&mut usage.shipments[day], 1)?;
            add(&mut usage.units[day], u64::from(shipment.quantity))?;
        }
    }

    let mut unknown: Option<&Return> = None;
    for ret in returns.iter().filter(|ret| in_window(ret.returned_at)) {
        if ret.quantity == 0 {
            return Err(Error::invalid(
                "returns.quantity",
                format!("return {:?} has quantity 0; it must be at least 1", ret.id),
            ));
        }
        match by_id.get(ret.shipment_id.as_str()) {
            Some(shipment) => {
                let day = weekday(shipment.shipped_at);
                add(&mut usage.returned_shipments[day], 1)?;
                add(&mut usage.returned_units[day], u64::from(ret.quantity))?;
            }
            None => {
                if unknown.is_none_or(|first| ret.id < first.id) {
                    unknown = Some(ret);
                }
            }
        }
    }
    match unknown {
        Some(ret) => Err(unknown_shipment(&ret.id, &ret.shipment_id)),
        None => Ok(usage),
    }
}

/// A predefined usage query: the only way usage reaches billing. The SQL lives in
/// `sql/queries/<dialect>/<name>.sql` and is compiled into the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UsageQueryTemplate {
    /// The name a plan's `usage_query` gives (`shipments_by_weekday`).
    pub name: &'static str,
    /// What it counts, for the admin's selector.
    pub description: &'static str,
    /// The SQLite text: offsets given as JSON segments, since SQLite has no time zone database.
    #[serde(skip)]
    pub sqlite: &'static str,
    /// The PostgreSQL text: weekdays through the server's time zone database (`AT TIME ZONE`).
    #[serde(skip)]
    pub postgres: &'static str,
    /// The MySQL 8 / MariaDB 10.6+ text: offsets given as JSON segments read with `JSON_TABLE`,
    /// like SQLite, since those servers often have no time zone tables loaded.
    #[serde(skip)]
    pub mysql: &'static str,
}

/// The name of the default usage query: shipments per local day of week.
pub const SHIPMENTS_BY_WEEKDAY: &str = "shipments_by_weekday";

static PREDEFINED_QUERIES: [UsageQueryTemplate; 1] = [UsageQueryTemplate {
    name: SHIPMENTS_BY_WEEKDAY,
    description: "Shipments and shipped units per local day of week, less returns, for the subscription's customer",
    sqlite: include_str!("../../../sql/queries/sqlite/shipments_by_weekday.sql"),
    postgres: include_str!("../../../sql/queries/postgres/shipments_by_weekday.sql"),
    mysql: include_str!("../../../sql/queries/mysql/shipments_by_weekday.sql"),
}];

/// Every predefined usage query.
pub fn predefined_queries() -> &'static [UsageQueryTemplate] {
    &PREDEFINED_QUERIES
}

/// The predefined query named `name`, or [`crate::Error::UnknownUsageQuery`].
pub fn find_query(name: &str) -> Result<&'static UsageQueryTemplate> {
    PREDEFINED_QUERIES
        .iter()
        .find(|query| query.name == name)
        .ok_or_else(|| Error::UnknownUsageQuery {
            name: name.to_owned(),
            known: PREDEFINED_QUERIES
                .iter()
                .map(|query| query.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn ret(id: &str, shipment_id: &str, returned_at: &str, quantity: u32) -> Return {
        Return {
            id: id.into(),
            shipment_id: shipment_id.into(),
            returned_at: at(returned_at),
            quantity,
        }
    }

    const NEW_YORK: Tz = chrono_tz::America::New_York;

    #[test]
    fn late_friday_evening_in_new_york_is_a_friday() {
        // 2026-01-16 is a Friday; 23:40 EST is 04:40 UTC on Saturday.
        let rows = [shipment("s1", "2026-01-17T04:40:00Z", 3)];
        let usage = aggregate(
            &rows,
            &[],
            at("2026-01-01T05:00:00Z"),
            at("2026-02-01T05:00:00Z"),
            NEW_YORK,
        )
        .unwrap();
        assert_eq!(usage.shipments, [0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(usage.units, [0, 0, 0, 0, 3, 0, 0]);
        let in_utc = aggregate(
            &rows,
            &[],
            at("2026-01-01T00:00:00Z"),
            at("2026-02-01T00:00:00Z"),
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(in_utc.shipments, [0, 0, 0, 0, 0, 1, 0]);
    }

    #[test]
    fn window_is_half_open() {
        let rows = [
            shipment("before", "2026-01-31T23:59:59Z", 1),
            shipment("first", "2026-02-01T00:00:00Z", 2),
            shipment("last", "2026-02-28T23:59:59Z", 4),
            shipment("after", "2026-03-01T00:00:00Z", 8),
        ];
        let usage = aggregate(
            &rows,
            &[],
            at("2026-02-01T00:00:00Z"),
            at("2026-03-01T00:00:00Z"),
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(usage.total_shipments(), 2);
        assert_eq!(usage.total_units(), 6);
        // 2026-02-01 is a Sunday, 2026-02-28 a Saturday.
        assert_eq!(usage.units, [0, 0, 0, 0, 0, 4, 2]);
    }

    #[test]
    fn a_return_counts_on_its_shipments_weekday_even_months_earlier() {
        // Shipped Monday 2025-10-06 (New York); returned in January 2026 on a Thursday.
        let shipments = [
            shipment("old", "2025-10-06T14:00:00Z", 5),
            shipment("new", "2026-01-14T15:00:00Z", 1),
        ];
        let returns = [
            ret("r1", "old", "2026-01-15T15:00:00Z", 2),
            ret("r-before", "new", "2025-12-31T15:00:00Z", 1),
        ];
        let usage = aggregate(
            &shipments,
            &returns,
            at("2026-01-01T05:00:00Z"),
            at("2026-02-01T05:00:00Z"),
            NEW_YORK,
        )
        .unwrap();
        assert_eq!(usage.shipments, [0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(usage.returned_shipments, [1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(usage.returned_units, [2, 0, 0, 0, 0, 0, 0]);
        assert_eq!(usage.total_returned_shipments(), 1);
        assert_eq!(usage.total_returned_units(), 2);
    }

    #[test]
    fn a_return_of_an_unknown_shipment_is_refused_naming_it() {
        let shipments = [shipment("s1", "2026-01-05T12:00:00Z", 1)];
        let returns = [
            ret("r9", "ghost", "2026-01-06T12:00:00Z", 1),
            ret("r2", "phantom", "2026-01-07T12:00:00Z", 1),
        ];
        let err = aggregate(
            &shipments,
            &returns,
            at("2026-01-01T00:00:00Z"),
            at("2026-02-01T00:00:00Z"),
            Tz::UTC,
        )
        .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("\"r2\"") && message.contains("\"phantom\""),
            "{message}"
        );
        // Outside the window it does not matter.
        let later = aggregate(
            &shipments,
            &returns,
            at("2026-02-01T00:00:00Z"),
            at("2026-03-01T00:00:00Z"),
            Tz::UTC,
        );
        assert!(later.unwrap().is_empty());
    }

    #[test]
    fn bad_rows_and_windows_are_refused() {
        let (from, to) = (at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z"));
        let zero = [shipment("s1", "2026-01-05T12:00:00Z", 0)];
        assert!(matches!(
            aggregate(&zero, &[], from, to, Tz::UTC),
            Err(Error::InvalidInput { .. })
        ));
        let twice = [
            shipment("s1", "2026-01-05T12:00:00Z", 1),
            shipment("s1", "2026-01-06T12:00:00Z", 1),
        ];
        assert!(matches!(
            aggregate(&twice, &[], from, to, Tz::UTC),
            Err(Error::InvalidInput { .. })
        ));
        let one = [shipment("s1", "2026-01-05T12:00:00Z", 1)];
        let zero_return = [ret("r1", "s1", "2026-01-06T12:00:00Z", 0)];
        assert!(matches!(
            aggregate(&one, &zero_return, from, to, Tz::UTC),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            aggregate(&one, &[], to, from, Tz::UTC),
            Err(Error::InvalidInput { .. })
        ));
        assert!(
            aggregate(&one, &[], from, from, Tz::UTC)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn empty_usage() {
        let usage = PeriodUsage::default();
        assert!(usage.is_empty());
        assert_eq!((usage.total_shipments(), usage.total_units()), (0, 0));
        let returned_only = PeriodUsage {
            returned_units: [0, 0, 1, 0, 0, 0, 0],
            ..PeriodUsage::default()
        };
        assert!(!returned_only.is_empty());
    }

    #[test]
    fn the_registry_holds_the_default_query() {
        let query = find_query(SHIPMENTS_BY_WEEKDAY).unwrap();
        assert_eq!(query.name, "shipments_by_weekday");
        assert_eq!(
            query.description,
            "Shipments and shipped units per local day of week, less returns, for the subscription's customer"
        );
        assert!(query.sqlite.contains("jsonb_each(?2)"));
        assert_eq!(predefined_queries().len(), 1);
        match find_query("shipments; DROP TABLE shipments") {
            Err(Error::UnknownUsageQuery { name, known }) => {
                assert_eq!(name, "shipments; DROP TABLE shipments");
                assert_eq!(known, "shipments_by_weekday");
            }
            other => panic!("{other:?}"),
        }
    }
}
