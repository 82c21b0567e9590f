//! Listings in pages (keyset pagination): items in the order they were written, `(created_at,
//! id)`, oldest or newest first, each page starting strictly after the last item of the one
//! before. A key never moves, so paging while a billing run writes more returns every item that
//! existed when paging began exactly once, in order; the cursor the caller holds is that key,
//! made opaque by the API ([`crate::api`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Oldest first or newest first.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Oldest first.
    #[default]
    Asc,
    /// Newest first.
    Desc,
}

impl Order {
    /// The SQL keyword.
    pub fn sql(self) -> &'static str {
        match self {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        }
    }

    /// The comparison that keeps what comes after a key in this order.
    pub fn after_sql(self) -> &'static str {
        match self {
            Order::Asc => ">",
            Order::Desc => "<",
        }
    }
}

/// Where an item sorts: when it was written, then its id (customers, which record no instant,
/// sort by id alone: their `at` is the epoch).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ListKey {
    /// When the item was written.
    pub at: DateTime<Utc>,
    /// Its id.
    pub id: String,
}

impl ListKey {
    /// The key of an item that sorts by id alone.
    pub fn id_only(id: impl Into<String>) -> Self {
        ListKey {
            at: DateTime::<Utc>::UNIX_EPOCH,
            id: id.into(),
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Oldest or newest first.
    pub order: Order,
    /// At most this many items.
    pub limit: u32,
    /// Only the items after this one, in `order`.
    pub after: Option<ListKey>,
}

impl Page {
    /// The first page of `limit` items in `order`.
    pub fn first(order: Order, limit: u32) -> Self {
        Page {
            order,
            limit,
            after: None,
        }
    }

    /// This page of `items` (the stores that hold them in memory): sorted by `key` in the
    /// page's order, those after its key, at most its limit.
    pub fn select<T>(
        &self,
        items: impl IntoIterator<Item = T>,
        key: impl Fn(&T) -> ListKey,
    ) -> Vec<T> {
        let mut keyed: Vec<(ListKey, T)> = items
            .into_iter()
            .map(|item| (key(&item), item))
            .filter(|(k, _)| match (&self.after, self.order) {
                (None, _) => true,
                (Some(after), Order::Asc) => k > after,
                (Some(after), Order::Desc) => k < after,
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| match self.order {
            Order::Asc => a.cmp(b),
            Order::Desc => b.cmp(a),
        });
        keyed
            .into_iter()
            .take(self.limit as usize)
            .map(|(_, item)| item)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_starts_after_its_key_in_either_order() {
        let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap();
        let items = vec![(at(2), "b"), (at(1), "z"), (at(2), "a"), (at(3), "c")];
        let key = |item: &(DateTime<Utc>, &str)| ListKey {
            at: item.0,
            id: item.1.to_owned(),
        };
        let first = Page::first(Order::Asc, 2).select(items.clone(), key);
        assert_eq!(first, vec![(at(1), "z"), (at(2), "a")]);
        let next = Page {
            after: Some(key(&first[1])),
            ..Page::first(Order::Asc, 2)
        }
        .select(items.clone(), key);
        assert_eq!(next, vec![(at(2), "b"), (at(3), "c")]);
        let newest = Page::first(Order::Desc, 3).select(items, key);
        assert_eq!(newest, vec![(at(3), "c"), (at(2), "b"), (at(2), "a")]);
    }
}
