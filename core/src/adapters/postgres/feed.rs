//! The outbox in a stable order for PostgreSQL ([`crate::store::AuditOutbox::feed`]): positions
//! are (writing transaction id, seq), and only transactions older than every one still running
//! are shown (`sql/migrations/postgres/0007_platform_events.sql` explains why).

use sqlx::PgPool;

use super::error::storage;
use super::rows;
use crate::error::Result;
use crate::store::{FeedPage, FeedQuery, OutboxPosition};

/// The oldest transaction still running (or the next to start when none is): every event of an
/// older transaction is committed or rolled back, so that part of the outbox is final.
const SELECT_HORIZON: &str = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

/// A page after a position, below the horizon, matching the actions (and account).
const SELECT_PAGE: &str = concat!(
    "SELECT xact, seq, ",
    event_columns!(),
    " FROM audit_outbox WHERE (xact, seq) > ($1, $2) AND xact < $3 AND action = ANY($4) \
     ORDER BY xact, seq LIMIT $5"
);

const SELECT_ACCOUNT_PAGE: &str = concat!(
    "SELECT xact, seq, ",
    event_columns!(),
    " FROM audit_outbox WHERE account_id = $6 AND (xact, seq) > ($1, $2) AND xact < $3 \
     AND action = ANY($4) ORDER BY xact, seq LIMIT $5"
);

pub(crate) async fn feed(pool: &PgPool, query: &FeedQuery) -> Result<FeedPage> {
    let horizon: i64 = sqlx::query_scalar(SELECT_HORIZON)
        .fetch_one(pool)
        .await
        .map_err(storage("reading the feed's horizon"))?;
    // Every position of a transaction below the horizon is at or before this one.
    let settled = query.after.max(OutboxPosition {
        commit: horizon - 1,
        seq: i64::MAX,
    });
    if query.limit == 0 || query.actions.is_empty() {
        return Ok(FeedPage {
            events: Vec::new(),
            end: settled,
        });
    }
    let actions: Vec<&str> = query.actions.iter().map(|action| action.as_str()).collect();
    let statement = match query.account_id {
        Some(_) => SELECT_ACCOUNT_PAGE,
        None => SELECT_PAGE,
    };
    let mut select = sqlx::query(statement)
        .bind(query.after.commit)
        .bind(query.after.seq)
        .bind(horizon)
        .bind(actions)
        .bind(i64::from(query.limit));
    if let Some(account_id) = &query.account_id {
        select = select.bind(account_id.as_str());
    }
    let found = select
        .fetch_all(pool)
        .await
        .map_err(storage("reading the event feed"))?;
    let mut events = Vec::with_capacity(found.len());
    for row in &found {
        let position = OutboxPosition {
            commit: rows::get(row, "audit_outbox", "xact")?,
            seq: rows::get(row, "audit_outbox", "seq")?,
        };
        events.push((position, rows::event(row)?));
    }
    let end = match events.last() {
        Some((last, _)) if events.len() == query.limit as usize => *last,
        _ => settled,
    };
    Ok(FeedPage { events, end })
}
