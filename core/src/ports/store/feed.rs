//! Reading the audit outbox in a stable order, for consumers that keep their own cursor (the
//! platform's pull feed, each webhook endpoint): [`OutboxPosition`], [`FeedQuery`], [`FeedPage`].
//!
//! A consumer that pages by position must never see a position appear behind its cursor after it
//! has passed it. Each store orders its outbox so that cannot happen: SQLite and memory write one
//! transaction at a time, so the write order (`seq`) is the commit order; PostgreSQL writes
//! concurrently, so a later `seq` can commit first, and its position leads with the writing
//! transaction's id (`xact`) and the feed shows only transactions older than every one still
//! running (below the snapshot's `xmin`), whose set of events can no longer grow.

use crate::audit::{AuditAction, AuditEvent};

/// Where an event stands in the outbox's stable order: `(commit, seq)`, compared in that order.
/// `commit` is the writing transaction's id on PostgreSQL and 0 on stores that write one
/// transaction at a time; `seq` the write order. [`OutboxPosition::START`] is before every event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutboxPosition {
    /// The order of the writing transaction (0 where writes are serialised).
    pub commit: i64,
    /// The write order.
    pub seq: i64,
}

impl OutboxPosition {
    /// Before every event.
    pub const START: OutboxPosition = OutboxPosition { commit: 0, seq: 0 };
}

/// A page of the outbox after a position ([`crate::store::AuditOutbox::feed`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedQuery {
    /// Events strictly after this position.
    pub after: OutboxPosition,
    /// At most this many events (0: none, only where the feed ends now).
    pub limit: u32,
    /// Only events with one of these actions (none: no event at all).
    pub actions: Vec<AuditAction>,
    /// Only the events of this account, when given.
    pub account_id: Option<String>,
}

/// What [`crate::store::AuditOutbox::feed`] read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeedPage {
    /// The matching events after `after`, in the stable order, each with its position.
    pub events: Vec<(OutboxPosition, AuditEvent)>,
    /// Where the next page starts: the last event's position when the page is full; otherwise
    /// the end of what the store can show now (every event at or before it was read or did not
    /// match), never before `after`. Passing it as the next `after` skips nothing and re-reads
    /// nothing.
    pub end: OutboxPosition,
}
