//! The embedded SQLite store (feature `sqlite`): [`SqliteStore`], the [`Store`](crate::Store) of a
//! single machine, in a file or in memory.
//!
//! # Schema
//! The tables are created by the embedded migrations of `sql/migrations/sqlite/` (see
//! [`BillingState::migrate`](crate::store::BillingState::migrate)): the platform's `shipments` and `returns`, and the
//! engine's accounts, customers, plan versions, subscriptions (with the changes in force, JSON,
//! NULL when none), invoices (with their line items, tax lines and revenue schedule), credit notes
//! (likewise) and the audit outbox. Money is integer minor units with its ISO code,
//! rates decimal text, instants unix microseconds, local dates `YYYY-MM-DD` text.
//!
//! # Concurrency
//! Every write is one transaction begun with `BEGIN IMMEDIATE`: it takes the database's write lock
//! before it reads anything it decides on (a subscription's revision, a plan's latest version), so
//! two writers, in this process or another, can never both decide on the same state. A writer that
//! finds the database locked waits up to 30 seconds (`busy_timeout`) rather than failing. A file
//! database uses the WAL journal, so readers never wait for the writer.
//!
//! # Usage templates
//! Every SQLite usage template takes the same bound parameters and returns the same columns (the
//! header of `sql/queries/sqlite/shipments_by_weekday.sql` documents both): a JSON list of
//! windows (account, customer, UTC window, zone), and each zone's UTC offset segments as JSON,
//! since SQLite has no time zone database; one row per window. A billing run reads a page's
//! windows in a few statements rather than one statement each. Shipment and return times are
//! stored as unix seconds.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use crate::error::{Error, Result};

mod commits;
mod credit_notes;
mod filters;
mod idempotency;
mod json_rows;
mod outbox;
mod rows;
mod store;
mod tx;
mod usage;
mod webhooks;

/// How long a statement waits for another connection's (or process's) write lock before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long opening a new file database waits, in all, while another process creates it.
const OPEN_RETRY_FOR: Duration = Duration::from_secs(30);

/// The migrations of `sql/migrations/sqlite/`, compiled into the library.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../sql/migrations/sqlite");

/// A [`Store`](crate::Store) in an embedded SQLite database: a file (`sqlite://PATH`) for a
/// single machine, shared safely by several processes, or memory (`sqlite::memory:`) for
/// previews and tests.
///
/// Cloning is cheap and shares the connections (and, in memory, the database).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
}

impl SqliteStore {
    /// Opens the database at `url`: `sqlite::memory:`, or `sqlite://PATH` (created if missing).
    /// Call [`BillingState::migrate`](crate::store::BillingState::migrate) before using it.
    ///
    /// An in-memory database (and SQLite's private temporary one, `sqlite://` with no path) lives
    /// as long as this handle (and its clones): its pool holds exactly one connection that is
    /// never closed, so every query sees the same database. A file database
    /// uses the WAL journal and keeps its rows across opens. Every connection enforces foreign
    /// keys and waits up to 30 seconds for a lock held by another writer.
    pub async fn open(url: &str) -> Result<Self> {
        if !url.starts_with("sqlite:") {
            return Err(Error::invalid(
                "database url",
                format!("{url:?} is not a SQLite url: use sqlite::memory: or sqlite://PATH"),
            ));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(storage("reading the database url"))?
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = if lives_in_memory(url) {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(storage(format!("opening the SQLite database {url}")))?
        } else {
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
            // Switching a new file to WAL needs an exclusive lock that busy_timeout does not wait
            // for: when another process is creating the same file at this moment, try again.
            let started = std::time::Instant::now();
            loop {
                match SqlitePoolOptions::new().connect_with(options.clone()).await {
                    Ok(pool) => break pool,
                    Err(error) if is_busy(&error) && started.elapsed() < OPEN_RETRY_FOR => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(error) => {
                        return Err(storage(format!("opening the SQLite database {url}"))(error));
                    }
                }
            }
        };
        Ok(Self { pool })
    }

    /// The connection pool, for tools and tests that read the tables directly.
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.pool
    }

    /// Applies the embedded migrations that are not applied yet.
    ///
    /// The whole run is one `BEGIN IMMEDIATE` transaction (each migration a savepoint inside it),
    /// so a second process migrating at the same time waits for the first and then finds nothing
    /// left to do; sqlx's own SQLite migrator takes no lock.
    async fn run_migrations(&self) -> Result<()> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(storage("starting to migrate the database"))?;
        MIGRATOR
            .run_direct(None, &mut *tx, false)
            .await
            .map_err(storage("migrating the database"))?;
        tx.commit()
            .await
            .map_err(storage("committing the database migrations"))
    }
}

/// Whether `url` names a SQLite database that lives only as long as the store opened on it:
/// memory (`sqlite::memory:`, `mode=memory`) or SQLite's private temporary database (no path:
/// `sqlite://`). Each connection to such a URL would be a database of its own, so
/// [`SqliteStore::open`] gives it one connection; a tool that opens the database once per command
/// (the CLI) refuses it, since what one command writes is gone before the next.
pub fn lives_in_memory(url: &str) -> bool {
    if !url.starts_with("sqlite:") {
        return false;
    }
    if url.contains(":memory:") || url.contains("mode=memory") {
        return true;
    }
    SqliteConnectOptions::from_str(url)
        .is_ok_and(|options| options.get_filename().as_os_str().is_empty())
}

/// Whether `error` is SQLite saying the database is locked by another connection.
fn is_busy(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes (code + 256 * n).
            db.code()
                .and_then(|code| code.parse::<i64>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 6))
        }
        _ => false,
    }
}

/// What went wrong inside this backend, kept as the source of [`Error::Storage`].
#[derive(Debug, thiserror::Error)]
enum SqliteError {
    /// A template's output does not have the documented shape.
    #[error("usage query {query} returned {problem}")]
    Output {
        query: &'static str,
        problem: String,
    },
    /// Rows stayed outside the offset segments even after they were widened to cover them.
    #[error("usage query {query} left {count} rows outside the time zone offsets it was given")]
    Uncovered { query: &'static str, count: i64 },
    /// A stored value the core cannot accept: the database was changed by something else.
    #[error("{table}.{column} holds {problem}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        problem: String,
    },
}

/// The conversion of a backend error into [`Error::Storage`] saying what the store was doing.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_refuses_other_urls() {
        let err = SqliteStore::open("postgres://localhost/db")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }

    #[test]
    fn urls_that_live_in_memory_are_told_from_files() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://",
            "sqlite:",
            "sqlite://db?mode=memory",
        ] {
            assert!(lives_in_memory(url), "{url}");
        }
        for url in [
            "sqlite://billing.db",
            "sqlite:///tmp/b.db",
            "postgres://h/db",
        ] {
            assert!(!lives_in_memory(url), "{url}");
        }
    }

    /// Each connection to `sqlite://` is a private temporary database of its own: the store
    /// holds one, so the schema it migrated is the one every later call sees.
    #[tokio::test]
    async fn a_temporary_database_is_one_database() {
        use crate::store::BillingState;
        let store = SqliteStore::open("sqlite://").await.unwrap();
        store.migrate().await.unwrap();
        let stats = futures_util::future::join_all((0..8).map(|_| store.stats())).await;
        for stats in stats {
            assert_eq!(stats.unwrap().subscriptions, 0);
        }
    }
}
