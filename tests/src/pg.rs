//! A fresh PostgreSQL database per test, on the server at `AI_BILLING_TEST_POSTGRES`.

use sqlx::postgres::PgConnection;

use crate::database::{self, AdminError, Dialect};

/// The variable naming the admin database URL of the server the tests use.
pub const ENV: &str = "AI_BILLING_TEST_POSTGRES";

/// The project's own server (trust auth), used when [`ENV`] is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh PostgreSQL database for one test (see [`database::TestDatabase`]).
pub type TestDatabase = database::TestDatabase<Postgres>;

/// The PostgreSQL dialect of [`TestDatabase`].
#[derive(Debug)]
pub struct Postgres;

impl Dialect for Postgres {
    const ENV: &'static str = ENV;
    const DEFAULT_ADMIN_URL: &'static str = DEFAULT_ADMIN_URL;
    const SERVER: &'static str = "PostgreSQL";

    fn create_statement(name: &str) -> String {
        format!("CREATE DATABASE {name}")
    }

    /// `WITH (FORCE)`: whoever is still connected is disconnected.
    fn drop_statement(name: &str) -> String {
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    }

    async fn run_admin(admin_url: &str, sql: String) -> Result<(), AdminError> {
        database::run_admin::<PgConnection>(admin_url, sql).await
    }
}

/// The admin URL: [`ENV`], or [`DEFAULT_ADMIN_URL`].
pub fn admin_url() -> String {
    database::admin_url::<Postgres>()
}
