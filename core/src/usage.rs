//! Usage for one billing period: shipments, shipped units and returns summed per local day of week.
//!
//! Usage reaches billing only through the predefined query templates of `sql/` (see
//! [`UsageQueryTemplate`]); this module holds the shapes they return and a pure aggregation over
//! rows that the templates are checked against.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// One row of the platform's `shipments` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// The shipment's id.
    pub id: String,
    /// When it shipped (UTC instant).
    pub shipped_at: DateTime<Utc>,
    /// Copies/units in it; at least 1.
    pub quantity: u32,
}

/// One row of the platform's `returns` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// Sums rows into [`PeriodUsage`] for the UTC window `[from, to)`, weekdays taken in `tz`.
/// A return whose shipment is not among `shipments` is [`crate::Error::InvalidInput`].
pub fn aggregate(
    shipments: &[Shipment],
    returns: &[Return],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    tz: Tz,
) -> Result<PeriodUsage> {
    todo!("{shipments:?}{returns:?}{from}{to}{tz}")
}

/// A predefined usage query: the only way usage reaches billing. The SQL lives in
/// `sql/queries/<dialect>/<name>.sql` and is compiled into the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UsageQueryTemplate {
    /// The name a plan's `usage_query` gives (`shipments_by_weekday`).
    pub name: &'static str,
    /// What it counts, for the admin's selector.
    pub description: &'static str,
    /// The SQLite text.
    #[serde(skip)]
    pub sqlite: &'static str,
}

/// Every predefined usage query.
pub fn predefined_queries() -> &'static [UsageQueryTemplate] {
    todo!()
}

/// The predefined query named `name`, or [`crate::Error::UnknownUsageQuery`].
pub fn find_query(name: &str) -> Result<&'static UsageQueryTemplate> {
    todo!("{name}")
}
