//! The transactions every SQLite write runs in, and what the store's parts share about them: the
//! write lock taken first, commit and roll-back with the action named, the chunk size of
//! multi-row statements, and how a unique-key refusal is recognised.

use sqlx::{Sqlite, Transaction};

use super::{SqliteStore, storage};
use crate::error::{Error, Result};

/// Rows per multi-row INSERT or `IN (...)` list, far below SQLite's limit on bound variables.
pub(super) const CHUNK: usize = 500;

pub(super) type Tx = Transaction<'static, Sqlite>;

impl SqliteStore {
    /// A write transaction that holds the database's write lock from its first statement, so what
    /// it reads stays true until it commits; waits up to the busy timeout for another writer.
    pub(super) async fn write(&self, action: &str) -> Result<Tx> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(storage(format!("starting to {action}")))
    }
}

pub(super) async fn commit(tx: Tx, action: &str) -> Result<()> {
    tx.commit()
        .await
        .map_err(storage(format!("committing {action}")))
}

/// Ends a transaction that decided to write nothing.
pub(super) async fn roll_back(tx: Tx, action: &str) -> Result<()> {
    tx.rollback()
        .await
        .map_err(storage(format!("rolling back {action}")))
}

pub(super) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

pub(super) fn fetch_failed(what: &str) -> impl FnOnce(sqlx::Error) -> Error {
    storage(format!("reading {what}"))
}
