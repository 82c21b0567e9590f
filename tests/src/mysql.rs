//! A fresh MariaDB/MySQL database per test, on the server at `AI_BILLING_TEST_MYSQL`.

use sqlx::mysql::MySqlConnection;

use crate::database::{self, AdminError, Dialect};

/// The variable naming the admin database URL of the server the tests use.
pub const ENV: &str = "AI_BILLING_TEST_MYSQL";

/// The project's own server (root without a password), used when [`ENV`] is not set.
pub const DEFAULT_ADMIN_URL: &str = "mysql://root@127.0.0.1:3306/mysql";

/// A fresh MariaDB/MySQL database for one test (see [`database::TestDatabase`]).
pub type TestDatabase = database::TestDatabase<MySql>;

/// The MariaDB/MySQL dialect of [`TestDatabase`].
#[derive(Debug)]
pub struct MySql;

impl Dialect for MySql {
    const ENV: &'static str = ENV;
    const DEFAULT_ADMIN_URL: &'static str = DEFAULT_ADMIN_URL;
    const SERVER: &'static str = "MariaDB/MySQL";

    /// Binary collation, so ids compare in byte order as in the other stores.
    fn create_statement(name: &str) -> String {
        format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    }

    fn drop_statement(name: &str) -> String {
        format!("DROP DATABASE IF EXISTS {name}")
    }

    async fn run_admin(admin_url: &str, sql: String) -> Result<(), AdminError> {
        database::run_admin::<MySqlConnection>(admin_url, sql).await
    }
}

/// The admin URL: [`ENV`], or [`DEFAULT_ADMIN_URL`].
pub fn admin_url() -> String {
    database::admin_url::<MySql>()
}
