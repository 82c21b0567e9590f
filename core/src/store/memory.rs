//! PLACEHOLDER while the helper writes it.
use super::*;

/// In-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore;
