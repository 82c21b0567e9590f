//! The PostgreSQL backend's own errors, kept as the `source` of [`Error::Storage`], and the
//! conversions of database failures into the shared variants.

use crate::error::Error;

/// What went wrong inside the PostgreSQL backend. Private to it: callers see
/// [`Error::Storage`] (with this as its source) or one of the shared variants.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PgError {
    /// The database or the driver failed.
    #[error("PostgreSQL failed")]
    Database(#[source] sqlx::Error),
    /// The embedded migrations could not be applied.
    #[error("the migrations could not be applied")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A stored value cannot be what the column should hold (edited by hand, or by another
    /// program): it is reported, never trusted and never a panic.
    #[error("{table}.{column} holds {problem}")]
    Corrupt {
        /// The table read.
        table: &'static str,
        /// The column read.
        column: &'static str,
        /// What is wrong with the value.
        problem: String,
    },
    /// A usage template's output does not have the documented shape.
    #[error("usage query {query} returned {problem}")]
    UsageOutput {
        /// The template's name.
        query: &'static str,
        /// What is wrong with the output.
        problem: String,
    },
}

/// Wraps a backend error as [`Error::Storage`] while doing `action`.
pub(crate) fn storage_error(action: impl Into<String>, error: PgError) -> Error {
    Error::Storage {
        action: action.into(),
        source: Box::new(error),
    }
}

/// A closure turning a sqlx error into [`Error::Storage`] while doing `action`, for `map_err`.
pub(crate) fn storage(action: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
    let action = action.into();
    move |source| storage_error(action, PgError::Database(source))
}

/// A stored value that cannot be read back: [`Error::Storage`] naming the table and column.
pub(crate) fn corrupt(
    table: &'static str,
    column: &'static str,
    problem: impl Into<String>,
) -> Error {
    storage_error(
        format!("reading {table}"),
        PgError::Corrupt {
            table,
            column,
            problem: problem.into(),
        },
    )
}

/// Whether `error` is the violation of a foreign key (a row names a missing one).
pub(crate) fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}
