//! The platform's pull feed: [`read_events`] pages through the platform events of the audit
//! outbox, oldest first, with an opaque cursor ([`EventsRequest::after`], [`EventPage::next`]),
//! filters by type and account, and a bounded page size. A consumer beside the OpenSearch
//! shipper and the webhooks: it holds its own cursor and changes nothing in the store.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::platform::{EventType, PlatformEvent};
use crate::error::{Error, Result};
use crate::store::{AuditOutbox, FeedQuery, OutboxPosition};

/// The largest page [`read_events`] returns.
pub const MAX_EVENTS_PAGE: u32 = 500;

/// The page size when none is asked for.
pub const DEFAULT_EVENTS_PAGE: u32 = 100;

/// A page of the feed to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsRequest {
    /// Events after this cursor (a `next` of an earlier page); from the oldest when absent.
    #[serde(default)]
    pub after: Option<String>,
    /// At most this many events: 1 to 500, default 100.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only these types (`invoice.issued`, ...); every type when empty.
    #[serde(default)]
    pub types: Vec<EventType>,
    /// Only this account's events, when given.
    #[serde(default)]
    pub account_id: Option<String>,
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<PlatformEvent>,
    /// The cursor to pass as `after` for the next page (with the same filters); always given, so
    /// a consumer that is caught up keeps it and asks again later.
    pub next: String,
    /// Whether more events were there when this page was read.
    pub has_more: bool,
}

/// Reads a page of the feed. A `limit` of 0 or over [`MAX_EVENTS_PAGE`], or an `after` that is
/// not a cursor of this feed, is [`Error::InvalidInput`].
pub async fn read_events(store: &dyn AuditOutbox, request: &EventsRequest) -> Result<EventPage> {
    let limit = request.limit.unwrap_or(DEFAULT_EVENTS_PAGE);
    if !(1..=MAX_EVENTS_PAGE).contains(&limit) {
        return Err(Error::invalid(
            "limit",
            format!("{limit} is not between 1 and {MAX_EVENTS_PAGE}"),
        ));
    }
    let after = match &request.after {
        Some(cursor) => parse_cursor(cursor)?,
        None => OutboxPosition::START,
    };
    // One more than asked, to know whether there is more.
    let mut page = store
        .feed(&FeedQuery {
            after,
            limit: limit + 1,
            actions: EventType::actions(&request.types),
            account_id: request.account_id.clone(),
        })
        .await?;
    let has_more = page.events.len() > limit as usize;
    let end = if has_more {
        page.events.truncate(limit as usize);
        page.events.last().map_or(after, |(position, _)| *position)
    } else {
        page.end
    };
    Ok(EventPage {
        events: page
            .events
            .iter()
            .filter_map(|(_, event)| PlatformEvent::from_audit(event))
            .collect(),
        next: cursor(end),
        has_more,
    })
}

/// The opaque text of a position: URL-safe base64 of `1:{commit}:{seq}` (1 is the cursor's
/// format version).
pub fn cursor(position: OutboxPosition) -> String {
    URL_SAFE_NO_PAD.encode(format!("1:{}:{}", position.commit, position.seq))
}

/// The position of a cursor made by [`cursor`]; anything else is [`Error::InvalidInput`].
pub fn parse_cursor(text: &str) -> Result<OutboxPosition> {
    let bad = || {
        Error::invalid(
            "after",
            format!(
                "{:?} is not a cursor of this feed: pass the `next` of an earlier page",
                text.chars().take(64).collect::<String>()
            ),
        )
    };
    let decoded = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let mut parts = decoded.split(':');
    let (Some("1"), Some(commit), Some(seq), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let number = |part: &str| part.parse::<i64>().ok().filter(|n| *n >= 0);
    match (number(commit), number(seq)) {
        (Some(commit), Some(seq)) => Ok(OutboxPosition { commit, seq }),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        for position in [
            OutboxPosition::START,
            OutboxPosition { commit: 0, seq: 42 },
            OutboxPosition {
                commit: 9_000_000_001,
                seq: i64::MAX,
            },
        ] {
            assert_eq!(parse_cursor(&cursor(position)).unwrap(), position);
        }
        for bad in [
            "",
            "abc",
            "MTox",
            "!!",
            &URL_SAFE_NO_PAD.encode("2:1:1"),
            &URL_SAFE_NO_PAD.encode("1:-1:3"),
        ] {
            let error = parse_cursor(bad).unwrap_err();
            assert!(error.to_string().starts_with("invalid after:"), "{error}");
        }
    }
}
