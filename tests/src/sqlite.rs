//! SQLite fixtures (being written).
