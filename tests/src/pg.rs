//! A fresh PostgreSQL database per test, on the server at `AI_BILLING_TEST_POSTGRES`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The variable naming the admin database URL of the server the tests use.
pub const ENV: &str = "AI_BILLING_TEST_POSTGRES";

/// The project's own server (trust auth), used when [`ENV`] is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database `ai_billing_test_<random>` created for one test (or one run) and dropped after it,
/// so tests never see each other's rows and a failed run leaves nothing behind.
///
/// Drop it with [`TestDatabase::drop_now`] at the end of the test; if the test panics first, the
/// `Drop` impl drops it on a thread of its own (it cannot block on the test's runtime).
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl TestDatabase {
    /// Creates a fresh, empty database. Panics, naming [`ENV`], when no server answers.
    pub async fn create() -> Self {
        let admin_url = admin_url();
        let name = unique_name();
        let mut admin = connect_admin(&admin_url).await;
        // CREATE DATABASE cannot run in a transaction block: a plain simple-protocol statement.
        // The name is made here of [a-z0-9_], never from input.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("creating database {name} at {admin_url}: {error}"));
        let _ = admin.close().await;
        let url = database_url(&admin_url, &name);
        TestDatabase {
            admin_url,
            name,
            url,
            dropped: false,
        }
    }

    /// The URL of the fresh database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database now, disconnecting whoever is still connected (`WITH (FORCE)`).
    pub async fn drop_now(mut self) {
        self.dropped = true;
        drop_database(&self.admin_url, &self.name).await;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        self.dropped = true;
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Best effort: a runtime of its own on a thread of its own, since this may run inside a
        // tokio test where blocking on the test's runtime is not allowed.
        let handle = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(drop_database(&admin_url, &name));
            }
        });
        let _ = handle.join();
    }
}

async fn drop_database(admin_url: &str, name: &str) {
    let Ok(mut admin) = PgConnection::connect(admin_url).await else {
        return;
    };
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
    let _ = admin.close().await;
}

/// The admin URL: [`ENV`], or [`DEFAULT_ADMIN_URL`].
pub fn admin_url() -> String {
    std::env::var(ENV)
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_ADMIN_URL.to_owned())
}

async fn connect_admin(admin_url: &str) -> PgConnection {
    PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "no PostgreSQL server answers at {admin_url} ({error}). Set {ENV} to the URL of an \
             admin database (postgres://postgres@127.0.0.1:5432/postgres), or source \
             scripts/services.sh, which starts a throwaway server when none runs."
            )
        })
}

/// `ai_billing_test_<random>`: process id, clock and a counter, so parallel tests and parallel
/// runs never collide.
pub(crate) fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!(
        "ai_billing_test_{:x}_{:x}_{}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `admin_url` with its database replaced by `name` (query parameters kept).
pub(crate) fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_swapped_in_the_url() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            database_url("postgres://u@h:1/admin?sslmode=disable", "t1"),
            "postgres://u@h:1/t1?sslmode=disable"
        );
        assert_eq!(
            database_url("postgres://u@h:1", "t1"),
            "postgres://u@h:1/t1"
        );
        let (a, b) = (unique_name(), unique_name());
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        );
    }
}
