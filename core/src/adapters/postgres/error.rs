//! The PostgreSQL backend's own errors, kept as the `source` of [`Error::Storage`], and the
//! conversions of database failures into the shared variants.

use crate::error::Error;

/// What went wrong inside the PostgreSQL backend. Private to it: callers see
/// [`Error::Storage`] (with this as its source) or one of the shared variants.
#[derive(Debug)]
pub(crate) enum PgError {
    /// The database or the driver failed.
    Database(sqlx::Error),
    /// The embedded migrations could not be applied.
    Migrate(sqlx::migrate::MigrateError),
    /// A stored value cannot be what the column should hold (edited by hand, or by another
    /// program): it is reported, never trusted and never a panic.
    Corrupt {
        /// The table read.
        table: &'static str,
        /// The column read.
        column: &'static str,
        /// What is wrong with the value.
        problem: String,
    },
    /// A usage template's output does not have the documented shape.
    UsageOutput {
        /// The template's name.
        query: &'static str,
        /// What is wrong with the output.
        problem: String,
    },
}

impl std::fmt::Display for PgError {
    /// Says what failed once. PostgreSQL's own refusals are said as the server says them
    /// (message, detail, hint, SQLSTATE), without the driver's "at line N" (a line of
    /// PostgreSQL's C source, noise to a billing engineer); other driver errors in the driver's
    /// words.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PgError::Database(sqlx::Error::Database(database)) => {
                let Some(postgres) = database.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                else {
                    return write!(f, "PostgreSQL: {}", database.message());
                };
                write!(
                    f,
                    "PostgreSQL: {} (SQLSTATE {})",
                    postgres.message(),
                    postgres.code()
                )?;
                if let Some(detail) = postgres.detail() {
                    write!(f, "; {detail}")?;
                }
                if let Some(hint) = postgres.hint() {
                    write!(f, "; hint: {hint}")?;
                }
                Ok(())
            }
            PgError::Database(other) => write!(f, "PostgreSQL: {other}"),
            PgError::Migrate(_) => f.write_str("the migrations could not be applied"),
            PgError::Corrupt {
                table,
                column,
                problem,
            } => write!(f, "{table}.{column} holds {problem}"),
            PgError::UsageOutput { query, problem } => {
                write!(f, "usage query {query} returned {problem}")
            }
        }
    }
}

impl std::error::Error for PgError {
    /// The cause below: none for a refusal by PostgreSQL (all of it is in the message; the
    /// driver's own text would say it again), the driver's cause (I/O, TLS) for other driver
    /// errors (the driver's text is already this error's message), the migration's error.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PgError::Database(sqlx::Error::Database(_)) => None,
            PgError::Database(other) => other.source(),
            PgError::Migrate(error) => Some(error),
            PgError::Corrupt { .. } | PgError::UsageOutput { .. } => None,
        }
    }
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

/// Whether `error` is PostgreSQL's "lock not available" (SQLSTATE 55P03): a `NOWAIT` lock met a
/// row another transaction holds.
pub(crate) fn lock_unavailable(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.code().as_deref() == Some("55P03"))
}
