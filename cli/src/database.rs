//! The `--db URL` every stateful command takes, and the async runtime those commands run on.

use std::future::Future;
use std::sync::Arc;

use ai_billing::{FixtureStore, Store};

use crate::failure::{CliResult, Failure};

/// The database a command works on.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The database: `sqlite://PATH` (created if missing), `sqlite::memory:`, or
    /// `postgres://USER@HOST:PORT/DB`. Defaults to $AI_BILLING_DB.
    #[arg(long, value_name = "URL", env = "AI_BILLING_DB")]
    pub db: String,
}

impl DbArgs {
    /// Connects and brings the schema up to date (migrations are idempotent and cheap when
    /// there is nothing to do).
    pub async fn open(&self) -> CliResult<Arc<dyn Store>> {
        Ok(self.open_with_fixtures().await?)
    }

    /// As [`DbArgs::open`], keeping the store's usage fixtures: for commands that write usage
    /// rows (generated data sets).
    pub async fn open_with_fixtures(&self) -> CliResult<Arc<dyn FixtureStore>> {
        let context = || format!("cannot open the database {}", redact(&self.db));
        let store = ai_billing::connect_with_fixtures(&self.db)
            .await
            .map_err(|e| crate::failure::Failure::from(e).context(context()))?;
        store
            .migrate()
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        Ok(store)
    }
}

pub use ai_billing::api::redact_url as redact;

/// Runs `future` on a multi-threaded runtime (renewals run side by side).
pub fn block_on<T>(future: impl Future<Output = CliResult<T>>) -> CliResult<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::other("cannot start the async runtime", e))?
        .block_on(future)
}

/// Who the audit trail says did it: `--actor`, else $USER, else `cli`.
pub fn actor(given: Option<&str>) -> String {
    given
        .map(str::to_owned)
        .or_else(|| std::env::var("USER").ok().filter(|user| !user.is_empty()))
        .unwrap_or_else(|| "cli".to_owned())
}
