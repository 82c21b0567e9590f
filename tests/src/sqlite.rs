//! SQLite fixtures: a fresh, migrated [`SqliteStore`] in its own temporary folder, or in memory.

use std::path::PathBuf;
use std::sync::Arc;

use ai_billing::sqlite::SqliteStore;
use ai_billing::{BillingState as _, FixtureStore};
use tempfile::TempDir;

/// A migrated SQLite store on a new file, with the folder that holds it. The folder (and the
/// database, with its WAL files) is deleted when this is dropped, so keep it alive as long as the
/// store is used.
#[derive(Debug)]
pub struct SqliteFile {
    /// The store.
    pub store: SqliteStore,
    /// Its URL, to open more handles on the same file (as another process would).
    pub url: String,
    /// The database file.
    pub path: PathBuf,
    dir: TempDir,
}

impl SqliteFile {
    /// The store as the ports with its usage fixtures, for the conformance suite and the engine.
    pub fn shared(&self) -> Arc<dyn FixtureStore> {
        Arc::new(self.store.clone())
    }

    /// Another handle on the same file, with its own connections: what a second process sees.
    pub async fn reopen(&self) -> SqliteStore {
        SqliteStore::open(&self.url)
            .await
            .expect("open the SQLite file again")
    }

    /// The temporary folder, kept alive by this value.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// A fresh SQLite file store, migrated (see [`SqliteFile`]).
pub async fn file_store() -> SqliteFile {
    let file = unmigrated_file_store().await;
    file.store.migrate().await.expect("migrate the SQLite file");
    file
}

/// A SQLite file store on a new file, not migrated yet (no tables).
pub async fn unmigrated_file_store() -> SqliteFile {
    let dir = tempfile::Builder::new()
        .prefix("ai-billing-sqlite-")
        .tempdir()
        .expect("create a temporary folder");
    let path = dir.path().join("billing.db");
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::open(&url)
        .await
        .expect("open a new SQLite file");
    SqliteFile {
        store,
        url,
        path,
        dir,
    }
}

/// A fresh in-memory SQLite store, migrated. It lives as long as the store (and its clones).
pub async fn memory_store() -> SqliteStore {
    let store = SqliteStore::open("sqlite::memory:")
        .await
        .expect("open an in-memory SQLite store");
    store.migrate().await.expect("migrate the in-memory store");
    store
}
