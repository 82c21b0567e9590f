//! Rebuilds the crate when a SQLite migration is added or changed: `sqlx::migrate!` embeds the
//! files of `sql/migrations/sqlite/`, which lie outside the package, so cargo does not see them.

fn main() {
    println!("cargo:rerun-if-changed=../sql/migrations/sqlite");
}
