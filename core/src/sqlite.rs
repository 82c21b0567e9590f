//! The embedded SQLite database (feature `sqlite`): the platform's `shipments` and `returns` tables
//! and the predefined usage query templates of `sql/`, run through sqlx.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::error::Result;
use crate::usage::{PeriodUsage, Return, Shipment, UsageQueryTemplate};

/// A SQLite database holding shipments and returns, read only through the usage query templates.
#[derive(Debug, Clone)]
pub struct UsageDb {
    pool: sqlx::SqlitePool,
}

impl UsageDb {
    /// Opens (creating if needed) the database at `url` (`sqlite::memory:` or `sqlite://PATH`) and
    /// creates the platform tables from `sql/schema/sqlite/platform.sql`.
    pub async fn open(url: &str) -> Result<Self> {
        todo!("{url}")
    }
    /// Inserts shipments of one customer of one account, in one transaction.
    pub async fn insert_shipments(&self, account_id: &str, customer_id: &str, rows: &[Shipment]) -> Result<()> {
        todo!("{account_id}{customer_id}{rows:?}{:?}", self.pool)
    }
    /// Inserts returns of one customer of one account, in one transaction.
    pub async fn insert_returns(&self, account_id: &str, customer_id: &str, rows: &[Return]) -> Result<()> {
        todo!("{account_id}{customer_id}{rows:?}")
    }
    /// Runs `template` for one customer of one account over the UTC window `[from, to)`, weekdays
    /// in `tz`, aggregated in SQL.
    pub async fn period_usage(
        &self,
        template: &UsageQueryTemplate,
        account_id: &str,
        customer_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tz: Tz,
    ) -> Result<PeriodUsage> {
        todo!("{template:?}{account_id}{customer_id}{from}{to}{tz}")
    }
}
