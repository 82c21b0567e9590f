//! A fresh database per test on a server of either dialect: what PostgreSQL and MariaDB/MySQL
//! share in making one (a unique name, creation on the admin database, dropping it after the
//! test, even when the test panics), with what differs between them behind [`Dialect`].

use std::fmt::Debug;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// What one kind of server needs to make and drop a test database: its statements and how to
/// run one on the admin database. Implemented by [`crate::pg::Postgres`] and
/// [`crate::mysql::MySql`].
pub trait Dialect: Debug + 'static {
    /// The variable naming the admin database URL of the server the tests use.
    const ENV: &'static str;
    /// The admin URL used when [`Dialect::ENV`] is not set.
    const DEFAULT_ADMIN_URL: &'static str;
    /// The server, as a message names it (`PostgreSQL`).
    const SERVER: &'static str;

    /// The statement creating the database `name` (made of `[a-z0-9_]`, never from input).
    fn create_statement(name: &str) -> String;

    /// The statement dropping the database `name` if it exists.
    fn drop_statement(name: &str) -> String;

    /// Connects to `admin_url`, runs `sql` as a plain simple-protocol statement (outside any
    /// transaction block, as `CREATE DATABASE` needs) and closes the connection.
    fn run_admin(admin_url: &str, sql: String) -> impl Future<Output = Result<(), AdminError>>;
}

/// Why a statement on the admin database failed.
#[derive(Debug)]
pub enum AdminError {
    /// No server answered at the admin URL.
    Connect(sqlx::Error),
    /// The server refused the statement.
    Execute(sqlx::Error),
}

/// A database `ai_billing_test_<random>` created for one test (or one run) and dropped after it,
/// so tests never see each other's rows and a failed run leaves nothing behind.
///
/// Drop it with [`TestDatabase::drop_now`] at the end of the test; if the test panics first, the
/// `Drop` impl drops it on a thread of its own (it cannot block on the test's runtime).
#[derive(Debug)]
pub struct TestDatabase<D: Dialect> {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
    dialect: PhantomData<D>,
}

impl<D: Dialect> TestDatabase<D> {
    /// Creates a fresh, empty database. Panics, naming the dialect's variable, when no server
    /// answers.
    pub async fn create() -> Self {
        let admin_url = admin_url::<D>();
        let name = unique_name();
        match D::run_admin(&admin_url, D::create_statement(&name)).await {
            Ok(()) => {}
            Err(AdminError::Connect(error)) => panic!(
                "no {} server answers at {admin_url} ({error}). Set {} to the URL of an admin \
                 database ({}), or source scripts/services.sh, which starts a throwaway server \
                 when none runs.",
                D::SERVER,
                D::ENV,
                D::DEFAULT_ADMIN_URL
            ),
            Err(AdminError::Execute(error)) => {
                panic!("creating database {name} at {admin_url}: {error}")
            }
        }
        let url = database_url(&admin_url, &name);
        TestDatabase {
            admin_url,
            name,
            url,
            dropped: false,
            dialect: PhantomData,
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

    /// Drops the database now (see [`Dialect::drop_statement`] for what happens to whoever is
    /// still connected).
    pub async fn drop_now(mut self) {
        self.dropped = true;
        drop_database::<D>(&self.admin_url, &self.name).await;
    }
}

impl<D: Dialect> Drop for TestDatabase<D> {
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
                runtime.block_on(drop_database::<D>(&admin_url, &name));
            }
        });
        let _ = handle.join();
    }
}

/// [`Dialect::run_admin`] over a connection of type `C`: the same steps for every server.
pub(crate) async fn run_admin<C>(admin_url: &str, sql: String) -> Result<(), AdminError>
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    let mut admin = C::connect(admin_url).await.map_err(AdminError::Connect)?;
    let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut admin)
        .await
        .map(drop)
        .map_err(AdminError::Execute);
    let _ = admin.close().await;
    done
}

/// Drops the database `name`, best effort: a server that is gone has nothing left to drop.
async fn drop_database<D: Dialect>(admin_url: &str, name: &str) {
    let _ = D::run_admin(admin_url, D::drop_statement(name)).await;
}

/// The admin URL of `D`'s server: its variable, or its default.
pub fn admin_url<D: Dialect>() -> String {
    std::env::var(D::ENV)
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| D::DEFAULT_ADMIN_URL.to_owned())
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
