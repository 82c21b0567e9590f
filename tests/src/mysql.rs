//! A fresh MariaDB/MySQL database per test, on the server at `AI_BILLING_TEST_MYSQL`.

use sqlx::Connection;
use sqlx::mysql::MySqlConnection;

use crate::pg::{database_url, unique_name};

/// The variable naming the admin database URL of the server the tests use.
pub const ENV: &str = "AI_BILLING_TEST_MYSQL";

/// The project's own server (root without a password), used when [`ENV`] is not set.
pub const DEFAULT_ADMIN_URL: &str = "mysql://root@127.0.0.1:3306/mysql";

/// A database `ai_billing_test_<random>` created for one test and dropped after it.
///
/// Drop it with [`TestDatabase::drop_now`] at the end of the test; if the test panics first, the
/// `Drop` impl drops it on a thread of its own.
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
        let mut admin = MySqlConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "no MariaDB/MySQL server answers at {admin_url} ({error}). Set {ENV} to the \
                     URL of an admin database (mysql://root@127.0.0.1:3306/mysql), or source \
                     scripts/services.sh, which starts a throwaway server when none runs."
                )
            });
        // The name is made of [a-z0-9_], never from input.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        )))
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

    /// Drops the database now.
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
        // Best effort, on a runtime of its own: this may run inside a tokio test.
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
    let Ok(mut admin) = MySqlConnection::connect(admin_url).await else {
        return;
    };
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
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
