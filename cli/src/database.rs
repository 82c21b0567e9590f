//! The `--db URL` every stateful command takes, the engine every command opens on it, and the
//! async runtime those commands run on.
//!
//! Every command opens its database through the library's front door,
//! [`ai_billing::api::BillingEngine::open`], as the Node and C bindings do: one place connects,
//! brings the schema up to date, and sets up tax, the interpreter and the billing mode, so the
//! CLI cannot drift from what the bindings open.

use std::future::Future;
use std::sync::Arc;

use ai_billing::api::{BillingEngine, EngineOptions};
use ai_billing::{Engine, FixtureStore, Store};

use crate::failure::{CliResult, Failure};

/// The database a command works on.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The database: `sqlite://PATH` (created if missing) or `postgres://USER@HOST:PORT/DB`
    /// (not `sqlite::memory:`: it would not outlive the command). Defaults to $AI_BILLING_DB.
    #[arg(long, value_name = "URL", env = "AI_BILLING_DB")]
    pub db: String,
}

/// What a command's engine needs besides its database: tax, the interpreter and mode, how many
/// renewals at once. `Setup::default()` is the offline interpreter, the compiled mode, no tax.
#[derive(Debug, Default, Clone, Copy)]
pub struct Setup<'a> {
    /// How invoices are taxed.
    pub tax: Option<&'a crate::tax::TaxArgs>,
    /// Who reads prompts and writes payloads.
    pub model: Option<&'a crate::model::ModelArgs>,
    /// Renewals in flight at once (the engine's default when `None`).
    pub concurrency: Option<usize>,
    /// Billed periods each renewal reads again for late usage (the engine's default when `None`).
    pub late_usage_lookback: Option<u32>,
}

impl DbArgs {
    /// The engine on this database with `setup`, opened through the front door (schema brought
    /// up to date: migrations are idempotent and cheap when there is nothing to do).
    pub async fn engine(&self, setup: Setup<'_>) -> CliResult<Engine> {
        open_engine(&self.db, setup).await
    }

    /// The library's front door itself, for the commands that call its operations as the
    /// bindings do (`events`, `webhooks`).
    pub async fn billing(&self) -> CliResult<BillingEngine> {
        open_billing(&self.db, Setup::default()).await
    }

    /// The store only, for the commands that read or load rows, opened the same way.
    pub async fn open(&self) -> CliResult<Arc<dyn Store>> {
        Ok(self.engine(Setup::default()).await?.store().clone())
    }

    /// The platform's usage tables of this database, for the commands that write usage rows
    /// (`usage load`, `generate`, the demo): inserting shipments and returns is not part of the
    /// billing engine's ports (the platform writes those tables), so it is its own connection.
    pub async fn open_with_fixtures(&self) -> CliResult<Arc<dyn FixtureStore>> {
        open_fixtures(&self.db).await
    }
}

/// Opens `url` through [`BillingEngine::open`] with `setup` (see [`open_billing`]): the engine.
pub async fn open_engine(url: &str, setup: Setup<'_>) -> CliResult<Engine> {
    Ok(open_billing(url, setup).await?.engine()?.clone())
}

/// Opens `url` through [`BillingEngine::open`] with `setup`; errors say which database, a
/// missing PostgreSQL database how to create it, a model without a key how to do without.
pub async fn open_billing(url: &str, setup: Setup<'_>) -> CliResult<BillingEngine> {
    persistent(url)?;
    let model = setup.model.cloned().unwrap_or_default();
    let concurrency = setup
        .concurrency
        .map(|n| {
            u32::try_from(n)
                .map_err(|_| Failure::invalid_input("--concurrency", format!("{n} is too large")))
        })
        .transpose()?;
    let options = EngineOptions {
        database_url: url.to_owned(),
        interpreter: model.interpreter,
        mode: model.mode,
        openai: None,
        opensearch: None,
        tax: setup
            .tax
            .map(crate::tax::TaxArgs::options)
            .transpose()?
            .flatten(),
        concurrency,
        late_usage_lookback: setup.late_usage_lookback,
    };
    let opened = BillingEngine::open(&options).await.map_err(|e| {
        let missing = is_postgres(url) && is_missing_database(&e);
        let needs_key = e.to_string().contains("OPENAI_API_KEY");
        let failure = Failure::from(e);
        if missing {
            failure
                .context(format!("cannot open the database {}", redact(url)))
                .hint(format!("`ai-billing init --db {}` creates it", redact(url)))
        } else if needs_key {
            failure.hint(model.key_hint())
        } else {
            failure.context(format!("cannot open the database {}", redact(url)))
        }
    })?;
    Ok(opened)
}

pub use ai_billing::api::redact_url as redact;

/// The usage tables of the database `url`, schema brought up to date (see
/// [`DbArgs::open_with_fixtures`]).
pub async fn open_fixtures(url: &str) -> CliResult<Arc<dyn FixtureStore>> {
    persistent(url)?;
    let context = || format!("cannot open the database {}", redact(url));
    let store = ai_billing::connect_with_fixtures(url)
        .await
        .map_err(|e| Failure::from(e).context(context()))?;
    store
        .migrate()
        .await
        .map_err(|e| Failure::from(e).context(context()))?;
    Ok(store)
}

/// Refuses a database that lives in memory (`sqlite::memory:`, `sqlite://` with no path): each
/// command is a process of its own, so what one writes (`init`'s schema, a plan) would be gone
/// before the next, which would fail with "no such table".
fn persistent(url: &str) -> CliResult<()> {
    if ai_billing::sqlite::lives_in_memory(url) {
        return Err(Failure::invalid_input(
            format!("invalid --db {url:?}"),
            "this SQLite database lives in memory only while one command runs: what it writes \
             is gone before the next command; use a file (sqlite://PATH) or PostgreSQL",
        ));
    }
    Ok(())
}

/// Whether `url` names a PostgreSQL database.
fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Creates the PostgreSQL database `url` names when it does not exist yet, through the server's
/// maintenance database (`postgres`), as `createdb` does; the name is quoted. Returns the name
/// of the database created, `None` when it existed or `url` is not PostgreSQL.
pub async fn create_if_missing(url: &str) -> CliResult<Option<String>> {
    use sqlx::migrate::MigrateDatabase;
    if !is_postgres(url) {
        return Ok(None);
    }
    let name = url
        .parse::<sqlx::postgres::PgConnectOptions>()
        .ok()
        .and_then(|options| options.get_database().map(str::to_owned))
        .unwrap_or_else(|| "the database".to_owned());
    let quoted = name.replace('"', "\"\"");
    let how = format!(
        "create it as a user allowed to create databases: psql -h HOST -U USER -d postgres -c 'CREATE DATABASE \"{quoted}\"' (or `createdb {name}`), then run `ai-billing init --db {}` again",
        redact(url)
    );
    let failed = |doing: &str, error: sqlx::Error| {
        Failure::other(
            format!("cannot {doing} on the server of {}", redact(url)),
            driver_message(error),
        )
        .hint(how.clone())
    };
    if sqlx::Postgres::database_exists(url)
        .await
        .map_err(|e| failed("check whether the database exists", e))?
    {
        return Ok(None);
    }
    sqlx::Postgres::create_database(url)
        .await
        .map_err(|e| failed("create the database", e))?;
    Ok(Some(name))
}

/// A driver error as PostgreSQL words it, without the driver's "at line N" (a line of
/// PostgreSQL's C source), as the core's PostgreSQL store reports its own.
fn driver_message(error: sqlx::Error) -> String {
    match &error {
        sqlx::Error::Database(database) => match database.code() {
            Some(code) => format!("PostgreSQL: {} (SQLSTATE {code})", database.message()),
            None => format!("PostgreSQL: {}", database.message()),
        },
        _ => format!("PostgreSQL: {error}"),
    }
}

/// Whether `error` is PostgreSQL's "database does not exist" (SQLSTATE 3D000), said somewhere in
/// its cause chain.
fn is_missing_database(error: &ai_billing::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = next {
        if error.to_string().contains("SQLSTATE 3D000") {
            return true;
        }
        next = error.source();
    }
    false
}

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
