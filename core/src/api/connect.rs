//! Opening a store by URL: the one place that knows every [`Store`] adapter by its scheme, above
//! them (the port itself names none of its adapters).

use std::sync::Arc;

use crate::error::Result;
use crate::store::{FixtureStore, Store};

/// Opens the store a URL names: `sqlite::memory:` or `sqlite://PATH` (feature `sqlite`),
/// `postgres://...` or `postgresql://...` (feature `postgres`). It is not migrated: call
/// [`crate::store::BillingState::migrate`]. Any other URL, or one whose feature is off, is
/// [`crate::Error::InvalidInput`] on `database url`.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    Ok(connect_with_fixtures(url).await?)
}

/// As [`connect`], keeping the store's [`crate::store::UsageFixtures`]: for what writes usage
/// rows into the platform's tables (tests, demo and generated data sets), not for billing.
pub async fn connect_with_fixtures(url: &str) -> Result<Arc<dyn FixtureStore>> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        #[cfg(feature = "sqlite")]
        "sqlite" => Ok(Arc::new(crate::sqlite::SqliteStore::open(url).await?)),
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => Ok(Arc::new(
            crate::postgres::PostgresStore::connect(url).await?,
        )),
        _ => Err(crate::error::Error::invalid(
            "database url",
            format!(
                "{:?} is not a database this build can open: use sqlite://PATH, sqlite::memory:{}",
                scheme,
                if cfg!(feature = "postgres") {
                    " or postgres://USER@HOST:PORT/DATABASE"
                } else {
                    " (PostgreSQL needs the postgres feature)"
                }
            ),
        )),
    }
}
