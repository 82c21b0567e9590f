//! Listing cursors: the key of a page's last item ([`ListKey`]) and the order it was listed in,
//! as opaque base64url text. A cursor is only a position, never a credential: it names no
//! account, and every listing is scoped by the account it is asked for.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::{ListKey, Order, Page};

/// The most items a page may hold.
pub const MAX_LIST: u32 = 500;
/// How many items a page holds when the caller does not say.
pub const DEFAULT_LIST: u32 = 100;

#[derive(Serialize, Deserialize)]
struct Position {
    /// The order listed in.
    o: Order,
    /// The last item's instant, microseconds since the epoch.
    t: i64,
    /// The last item's id.
    i: String,
}

/// The cursor of the page after `key`, listed in `order`.
pub fn encode(order: Order, key: &ListKey) -> String {
    let position = Position {
        o: order,
        t: key.at.timestamp_micros(),
        i: key.id.clone(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&position).unwrap_or_default())
}

/// The page `cursor` (from a page listed in `order`) continues, of `limit` items (default
/// [`DEFAULT_LIST`], at most [`MAX_LIST`]). A cursor that does not read, or that another order
/// made, is [`Error::InvalidInput`] on `cursor`.
pub fn page(order: Option<Order>, limit: Option<u32>, cursor: Option<&str>) -> Result<Page> {
    let order = order.unwrap_or_default();
    let limit = limit.unwrap_or(DEFAULT_LIST);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(Error::invalid(
            "limit",
            format!("{limit} is not between 1 and {MAX_LIST}"),
        ));
    }
    let after = match cursor {
        None => None,
        Some(text) => Some(decode(order, text)?),
    };
    Ok(Page {
        order,
        limit,
        after,
    })
}

fn decode(order: Order, text: &str) -> Result<ListKey> {
    let unreadable = || {
        Error::invalid(
            "cursor",
            "is not a cursor of this listing: pass next_cursor of the page before, unchanged",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| unreadable())?;
    let position: Position = serde_json::from_slice(&bytes).map_err(|_| unreadable())?;
    if position.o != order {
        return Err(Error::invalid(
            "cursor",
            "was made listing in the other order: list in the order it was made in",
        ));
    }
    let at = DateTime::<Utc>::from_timestamp_micros(position.t).ok_or_else(unreadable)?;
    Ok(ListKey { at, id: position.i })
}

/// The cursor of the page after `items` (listed with `page`), or `None` when `items` was the
/// last page (fewer than its limit).
pub fn next<T>(page: &Page, items: &[T], key: impl Fn(&T) -> ListKey) -> Option<String> {
    if items.len() < page.limit as usize {
        return None;
    }
    items.last().map(|last| encode(page.order, &key(last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_refuses_what_it_is_not() {
        let key = ListKey {
            at: "2026-03-01T10:00:00.123456Z".parse().unwrap(),
            id: "in_sub_1_20260301".into(),
        };
        let cursor = encode(Order::Desc, &key);
        let page = page(Some(Order::Desc), Some(10), Some(&cursor)).unwrap();
        assert_eq!(page.after, Some(key));
        assert!(super::page(Some(Order::Asc), None, Some(&cursor)).is_err());
        assert!(super::page(None, None, Some("not a cursor")).is_err());
        assert!(super::page(None, Some(0), None).is_err());
        assert!(super::page(None, Some(501), None).is_err());
    }
}
