//! Checks of the listings (issue 20): invoices, subscriptions and customers in pages by
//! `(created_at, id)`, oldest or newest first, each page after the key of the one before, with
//! the filters of their queries.

use std::sync::Arc;

use chrono::Duration;

use super::fixtures::{
    add_months, at, currency, customer, date, invoice, next_state, setup, subscription,
};
use crate::invoice::IssuedInvoice;
use crate::store::{
    CustomerQuery, FixtureStore, InvoiceQuery, ListKey, NewSubscription, Order, Page,
    SubscriptionCommit, SubscriptionQuery,
};
use crate::subscription::{InvoiceStatus, Subscription, SubscriptionStatus};

/// Every item of a listing, read in pages of `limit` from the key of each page's last item.
async fn paged<T, F, Fut>(order: Order, limit: u32, list: F, key: impl Fn(&T) -> ListKey) -> Vec<T>
where
    F: Fn(Page) -> Fut,
    Fut: std::future::Future<Output = Vec<T>>,
{
    let mut all = Vec::new();
    let mut page = Page::first(order, limit);
    loop {
        let items = list(page.clone()).await;
        assert!(
            items.len() <= limit as usize,
            "a page of {limit} held {} items",
            items.len()
        );
        let full = items.len() == limit as usize;
        let last = items.last().map(&key);
        all.extend(items);
        match (full, last) {
            (true, Some(after)) => page.after = Some(after),
            _ => return all,
        }
    }
}

fn invoice_key(invoice: &IssuedInvoice) -> ListKey {
    ListKey {
        at: invoice.created_at,
        id: invoice.id.clone(),
    }
}

fn subscription_key(subscription: &Subscription) -> ListKey {
    ListKey {
        at: subscription.created_at,
        id: subscription.id.clone(),
    }
}

/// Invoices, subscriptions and customers page by their keys in either order, each item once,
/// with every filter, and never show another account's.
pub async fn check_listings(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_l").await;
    setup(&store, "acct_other").await;
    for id in ["cus_2", "cus_0"] {
        store
            .put_customer(&customer("acct_l", id), &[])
            .await
            .expect("put_customer");
    }
    let usd = currency("USD");
    // Four subscriptions, two created at the same instant (ordered by id), one canceled; each
    // with a first invoice and sub_a, sub_b renewals written in turn.
    let mut subs = Vec::new();
    for (n, (id, customer_id, micros)) in [
        ("sub_b", "cus_1", 10),
        ("sub_a", "cus_2", 10),
        ("sub_c", "cus_1", 5),
        ("sub_d", "cus_2", 20),
    ]
    .into_iter()
    .enumerate()
    {
        let mut sub = subscription("acct_l", id, customer_id, None);
        sub.created_at += Duration::microseconds(micros);
        if id == "sub_d" {
            sub.status = SubscriptionStatus::Canceled;
        }
        let mut first = invoice(&sub, date(2026, 1, 15), usd, n == 3);
        first.created_at = sub.created_at;
        store
            .insert_subscription(&NewSubscription {
                subscription: sub.clone(),
                invoice: Some(first),
                events: vec![],
                idempotency: None,
            })
            .await
            .expect("insert_subscription");
        subs.push(sub);
    }
    let other = subscription("acct_other", "sub_a", "cus_1", None);
    store
        .insert_subscription(&NewSubscription {
            subscription: other.clone(),
            invoice: Some(invoice(&other, date(2026, 1, 15), usd, false)),
            events: vec![],
            idempotency: None,
        })
        .await
        .expect("insert_subscription");
    for month in 1..=3u32 {
        for sub in subs.iter_mut().take(2) {
            let next = next_state(sub);
            let mut issued = invoice(&next, add_months(date(2026, 1, 15), month), usd, false);
            // Renewals of both at the same instant each month: the id orders them.
            issued.created_at = at("2026-03-01T00:00:00Z") + Duration::days(i64::from(month));
            let outcome = store
                .commit(&SubscriptionCommit {
                    expected_revision: sub.revision,
                    subscription: next.clone(),
                    invoice: Some(issued),
                    invoice_status: Vec::new(),
                    credit_notes: Vec::new(),
                    events: vec![],
                    idempotency: None,
                })
                .await
                .expect("commit");
            assert_eq!(outcome, crate::store::CommitOutcome::Committed);
            *sub = next;
        }
    }

    // Invoices: the whole account in (created_at, id) order, then in pages of 1 to 5.
    let invoices = |query: InvoiceQuery| {
        let store = Arc::clone(&store);
        async move { store.invoices(&query).await.expect("invoices") }
    };
    let account = InvoiceQuery {
        account_id: Some("acct_l".into()),
        ..Default::default()
    };
    let mut expected = invoices(account.clone()).await;
    assert_eq!(
        expected.len(),
        4 + 6,
        "four first invoices and six renewals"
    );
    expected.sort_by_key(invoice_key);
    let ids = |list: &[IssuedInvoice]| list.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    for order in [Order::Asc, Order::Desc] {
        let mut want = ids(&expected);
        if order == Order::Desc {
            want.reverse();
        }
        for limit in 1..=5 {
            let got = paged(
                order,
                limit,
                |page| {
                    invoices(InvoiceQuery {
                        page: Some(page),
                        ..account.clone()
                    })
                },
                invoice_key,
            )
            .await;
            assert_eq!(ids(&got), want, "invoices in pages of {limit}, {order:?}");
        }
    }
    let filtered = |query: InvoiceQuery| {
        let invoices = &invoices;
        async move {
            let mut all = paged(
                Order::Asc,
                2,
                |page| {
                    invoices(InvoiceQuery {
                        page: Some(page),
                        ..query.clone()
                    })
                },
                invoice_key,
            )
            .await;
            all.sort_by_key(invoice_key);
            ids(&all)
        }
    };
    let want = |keep: &dyn Fn(&IssuedInvoice) -> bool| {
        ids(&expected
            .iter()
            .filter(|i| keep(i))
            .cloned()
            .collect::<Vec<_>>())
    };
    assert_eq!(
        filtered(InvoiceQuery {
            customer_id: Some("cus_2".into()),
            ..account.clone()
        })
        .await,
        want(&|i| i.customer_id == "cus_2"),
        "invoices by customer"
    );
    assert_eq!(
        filtered(InvoiceQuery {
            subscription_id: Some("sub_a".into()),
            ..account.clone()
        })
        .await
        .len(),
        4,
        "invoices by subscription"
    );
    assert_eq!(
        filtered(InvoiceQuery {
            status: Some(InvoiceStatus::Held),
            ..account.clone()
        })
        .await,
        ["in_sub_d_20260115".to_owned()],
        "invoices by status"
    );
    assert_eq!(
        filtered(InvoiceQuery {
            issued_from: Some(date(2026, 3, 15)),
            issued_to: Some(date(2026, 4, 15)),
            ..account.clone()
        })
        .await,
        want(&|i| {
            i.invoice.issue_date >= date(2026, 3, 15) && i.invoice.issue_date <= date(2026, 4, 15)
        }),
        "invoices by issue date, both ends included"
    );
    assert_eq!(
        want(&|i| i.invoice.issue_date >= date(2026, 3, 15)
            && i.invoice.issue_date <= date(2026, 4, 15))
        .len(),
        4,
        "two periods of two subscriptions"
    );

    // Subscriptions.
    let list_subs =
        |status: Option<SubscriptionStatus>, customer_id: Option<&str>, order, limit| {
            let store = Arc::clone(&store);
            let customer_id = customer_id.map(str::to_owned);
            async move {
                paged(
                    order,
                    limit,
                    |page| {
                        let store = Arc::clone(&store);
                        let query = SubscriptionQuery {
                            account_id: "acct_l".into(),
                            status,
                            plan_id: Some("plan_1".into()),
                            customer_id: customer_id.clone(),
                            page,
                        };
                        async move {
                            store
                                .list_subscriptions(&query)
                                .await
                                .expect("list_subscriptions")
                        }
                    },
                    subscription_key,
                )
                .await
                .into_iter()
                .map(|s| s.id)
                .collect::<Vec<_>>()
            }
        };
    for limit in [1, 2, 3, 10] {
        assert_eq!(
            list_subs(None, None, Order::Asc, limit).await,
            ["sub_c", "sub_a", "sub_b", "sub_d"],
            "subscriptions by (created_at, id) in pages of {limit}"
        );
        assert_eq!(
            list_subs(None, None, Order::Desc, limit).await,
            ["sub_d", "sub_b", "sub_a", "sub_c"],
            "subscriptions newest first in pages of {limit}"
        );
    }
    assert_eq!(
        list_subs(Some(SubscriptionStatus::Canceled), None, Order::Asc, 2).await,
        ["sub_d"]
    );
    assert_eq!(
        list_subs(
            Some(SubscriptionStatus::Active),
            Some("cus_2"),
            Order::Asc,
            1
        )
        .await,
        ["sub_a"]
    );
    let whole = store
        .list_subscriptions(&SubscriptionQuery {
            account_id: "acct_l".into(),
            status: None,
            plan_id: None,
            customer_id: None,
            page: Page::first(Order::Asc, 10),
        })
        .await
        .expect("list_subscriptions");
    assert_eq!(
        whole.iter().find(|s| s.id == "sub_a"),
        subs.iter().find(|s| s.id == "sub_a"),
        "a listed subscription is read whole"
    );
    let none = store
        .list_subscriptions(&SubscriptionQuery {
            account_id: "acct_l".into(),
            status: None,
            plan_id: Some("plan_none".into()),
            customer_id: None,
            page: Page::first(Order::Asc, 10),
        })
        .await
        .expect("list_subscriptions");
    assert!(none.is_empty(), "no subscription on an unknown plan");

    // Customers, by id.
    for (order, want) in [
        (Order::Asc, ["cus_0", "cus_1", "cus_2"]),
        (Order::Desc, ["cus_2", "cus_1", "cus_0"]),
    ] {
        let got = paged(
            order,
            2,
            |page| {
                let store = Arc::clone(&store);
                async move {
                    store
                        .list_customers(&CustomerQuery {
                            account_id: "acct_l".into(),
                            page,
                        })
                        .await
                        .expect("list_customers")
                }
            },
            |c: &crate::subscription::Customer| ListKey::id_only(c.id.clone()),
        )
        .await;
        let got: Vec<_> = got.into_iter().map(|c| c.id).collect();
        assert_eq!(got, want, "customers by id, {order:?}");
    }
}
