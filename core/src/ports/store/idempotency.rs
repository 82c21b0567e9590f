//! The record of a request made with an idempotency key: what lets a retry answer what the first
//! request answered. Stores write it in the same transaction as the request's own writes, so a
//! request never exists without its record, nor a record without its request.

use chrono::{DateTime, Utc};

/// One request made under a key, kept per (account, key): the operation, a hash of its body and
/// its answer. A second record of the same (account, key) is refused by every store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The account the request was made in.
    pub account_id: String,
    /// The key: the caller's `request_id`, or what the operation is keyed by without one
    /// (a subscription's creation by its id).
    pub key: String,
    /// The operation (`create_subscription`, `cancel_subscription`, ...).
    pub operation: String,
    /// The SHA-256 of the request's canonical JSON, in lowercase hex: a retry with another body
    /// is told apart from a true retry.
    pub request_hash: String,
    /// What the request answered, as JSON: enough for a retry to answer the same.
    pub answer: serde_json::Value,
    /// When the request was made.
    pub created_at: DateTime<Utc>,
}
