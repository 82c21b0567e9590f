//! The in-memory store against the `Store` conformance suite: the reference every other backend
//! (SQLite, PostgreSQL) is held to.

use std::sync::Arc;

use ai_billing::FixtureStore;
use ai_billing::MemoryStore;

#[tokio::test(flavor = "multi_thread")]
async fn memory_store_passes_the_conformance_suite() {
    ai_billing::store::testkit::run_all(|| async {
        Arc::new(MemoryStore::default()) as Arc<dyn FixtureStore>
    })
    .await;
}
