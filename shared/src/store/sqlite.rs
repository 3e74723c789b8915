//! SQLite store (in progress).
pub struct SqliteStore;
