//! Checks of [`crate::store::UsageSource`] (the predefined usage queries) over rows written through
//! [`crate::store::UsageFixtures`].

use std::sync::Arc;

use chrono_tz::Tz;

use super::fixtures::{
    Rows, at, expect_conflict, expect_invalid, insert_rows, read_usage, return_of, shipment,
    usage_request,
};
use crate::error::Error;
use crate::store::{FixtureStore, UsageRequest};
use crate::usage;

/// `usage` equals [`crate::usage::aggregate`] over the customer's rows, in several zones, across
/// a DST change, with returns of shipments shipped long before the window; other customers' and
/// accounts' rows never count; an unknown query name is refused.
pub async fn check_usage(store: Arc<dyn FixtureStore>) {
    let ny = chrono_tz::America::New_York;
    let kolkata = chrono_tz::Asia::Kolkata;
    let mine: Rows = (
        vec![
            // Monday 2025-10-06 in New York, months before the windows.
            shipment("s_old", "2025-10-06T14:00:00Z", 5),
            // Friday 23:40 in New York, Saturday in UTC and in Kolkata.
            shipment("s_fri_ny", "2026-01-17T04:40:00Z", 3),
            // Friday in New York, Saturday 00:15 in Kolkata.
            shipment("s_ü_kolkata", "2026-01-16T18:45:00Z", 2),
            // The window edges of January in New York.
            shipment("s_first", "2026-01-01T05:00:00Z", 7),
            shipment("s_after", "2026-02-01T05:00:00Z", 11),
            // Around the DST change of 2026-03-08 in New York (02:00 EST -> 03:00 EDT).
            shipment("s_pre_dst", "2026-03-07T04:30:00Z", 13),
            shipment("s_dst", "2026-03-08T07:30:00Z", 17),
            shipment("s_post_dst", "2026-03-09T03:30:00Z", 19),
            shipment("s_edt_midnight", "2026-03-10T04:00:00Z", 23),
        ],
        vec![
            return_of("r_old", "s_old", "2026-01-15T15:00:00Z", 2),
            return_of("r_before", "s_old", "2025-12-31T15:00:00Z", 1),
            return_of("r_new", "s_fri_ny", "2026-01-20T12:00:00Z", 1),
            return_of("r_dst", "s_pre_dst", "2026-03-09T12:00:00Z", 4),
            // Recorded before its shipment: allowed, and counted once the shipment exists.
            return_of("r_early", "s_late", "2026-01-25T12:00:00Z", 1),
        ],
    );
    let late_shipment = vec![shipment("s_late", "2026-01-24T12:00:00Z", 6)];
    let other_customer: Rows = (
        vec![shipment("s_other", "2026-01-16T12:00:00Z", 100)],
        vec![return_of("r_other", "s_other", "2026-01-17T12:00:00Z", 50)],
    );
    let other_account: Rows = (
        vec![
            shipment("s_fri_ny", "2026-01-17T04:40:00Z", 1000),
            shipment("s_x", "2026-01-10T12:00:00Z", 1000),
        ],
        vec![return_of("r_old", "s_fri_ny", "2026-01-18T12:00:00Z", 500)],
    );
    insert_rows(&store, "acct_1", "cus_1", &mine).await;
    store
        .insert_shipments("acct_1", "cus_1", &late_shipment)
        .await
        .expect("insert_shipments");
    insert_rows(&store, "acct_1", "cus_2", &other_customer).await;
    insert_rows(&store, "acct_2", "cus_1", &other_account).await;
    store
        .insert_shipments("acct_1", "cus_1", &[])
        .await
        .expect("inserting no rows is fine");

    let mut all_mine = mine.0.clone();
    all_mine.extend(late_shipment);
    let windows = [
        ("2026-01-01T05:00:00Z", "2026-02-01T05:00:00Z", ny),
        ("2025-12-31T18:30:00Z", "2026-01-31T18:30:00Z", kolkata),
        ("2026-03-01T05:00:00Z", "2026-04-01T04:00:00Z", ny),
        ("2026-03-08T05:00:00Z", "2026-03-10T04:00:00Z", ny),
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", Tz::UTC),
        ("2025-01-01T00:00:00Z", "2027-01-01T00:00:00Z", Tz::UTC),
    ];
    for (from, to, tz) in windows {
        let request = usage_request("acct_1", "cus_1", from, to, tz);
        let expected = usage::aggregate(&all_mine, &mine.1, request.from, request.to, tz)
            .expect("aggregate over the fixture");
        assert_eq!(
            read_usage(&store, &request).await,
            expected,
            "usage of cus_1 over [{from}, {to}) in {tz} must equal usage::aggregate"
        );
        let request = usage_request("acct_1", "cus_2", from, to, tz);
        let expected = usage::aggregate(
            &other_customer.0,
            &other_customer.1,
            request.from,
            request.to,
            tz,
        )
        .expect("aggregate over the fixture");
        assert_eq!(read_usage(&store, &request).await, expected);
    }

    // A few values by hand, so a wrong aggregate cannot hide a wrong store.
    let january = read_usage(
        &store,
        &usage_request("acct_1", "cus_1", windows[0].0, windows[0].1, ny),
    )
    .await;
    assert_eq!(january.shipments, [0, 0, 0, 1, 2, 1, 0]);
    assert_eq!(january.units, [0, 0, 0, 7, 5, 6, 0]);
    assert_eq!(january.returned_shipments, [1, 0, 0, 0, 1, 1, 0]);
    assert_eq!(january.returned_units, [2, 0, 0, 0, 1, 1, 0]);
    let in_kolkata = read_usage(
        &store,
        &usage_request("acct_1", "cus_1", windows[1].0, windows[1].1, kolkata),
    )
    .await;
    assert_eq!(in_kolkata.units[5], 3 + 2 + 6, "Saturday in Kolkata");
    let dst = read_usage(
        &store,
        &usage_request("acct_1", "cus_1", windows[3].0, windows[3].1, ny),
    )
    .await;
    assert_eq!(
        dst.units,
        [0, 0, 0, 0, 0, 0, 17 + 19],
        "both sides of the DST change are Sunday 2026-03-08 in New York"
    );
    assert_eq!(
        dst.returned_units,
        [0, 0, 0, 0, 4, 0, 0],
        "returned on the shipment's Friday"
    );

    match store
        .usage(&UsageRequest {
            query: "shipments; DROP TABLE shipments".into(),
            ..usage_request("acct_1", "cus_1", windows[0].0, windows[0].1, ny)
        })
        .await
    {
        Err(Error::UnknownUsageQuery { name, .. }) => {
            assert_eq!(name, "shipments; DROP TABLE shipments");
        }
        other => panic!("an unknown usage query must be UnknownUsageQuery, got {other:?}"),
    }
    assert!(
        read_usage(
            &store,
            &usage_request("acct_missing", "cus_1", windows[5].0, windows[5].1, Tz::UTC),
        )
        .await
        .is_empty(),
        "a customer without rows has empty usage"
    );
}

/// A return in the window whose shipment does not exist for its customer (missing, or another
/// customer's) is [`Error::InvalidInput`] naming the return.
pub async fn check_usage_missing_shipment(store: Arc<dyn FixtureStore>) {
    store
        .insert_shipments(
            "acct_1",
            "cus_1",
            &[shipment("s_1", "2026-01-05T12:00:00Z", 1)],
        )
        .await
        .expect("insert_shipments");
    store
        .insert_returns(
            "acct_1",
            "cus_3",
            &[return_of("r_ghost", "ghost", "2026-01-06T12:00:00Z", 1)],
        )
        .await
        .expect("a return may be recorded before its shipment");
    store
        .insert_returns(
            "acct_1",
            "cus_4",
            &[return_of("r_cross", "s_1", "2026-01-07T12:00:00Z", 1)],
        )
        .await
        .expect("insert_returns");
    let january = |customer_id: &str| {
        usage_request(
            "acct_1",
            customer_id,
            "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            Tz::UTC,
        )
    };
    for (customer_id, return_id) in [("cus_3", "r_ghost"), ("cus_4", "r_cross")] {
        match store.usage(&january(customer_id)).await {
            Err(error @ Error::InvalidInput { .. }) => assert!(
                error.to_string().contains(return_id),
                "the error {error} should name the return {return_id:?}"
            ),
            other => panic!(
                "a return of {customer_id} whose shipment is not theirs must be InvalidInput, got {other:?}"
            ),
        }
    }
    let february = UsageRequest {
        from: at("2026-02-01T00:00:00Z"),
        to: at("2026-03-01T00:00:00Z"),
        ..january("cus_3")
    };
    assert!(
        read_usage(&store, &february).await.is_empty(),
        "outside the window such a return does not matter"
    );
    assert_eq!(
        read_usage(&store, &january("cus_1"))
            .await
            .total_shipments(),
        1
    );
}

/// `insert_shipments` and `insert_returns` check every row first and insert all or nothing: a
/// bad row or an id that exists in the account is [`Error::InvalidInput`] naming it.
pub async fn check_usage_rows_are_all_or_nothing(store: Arc<dyn FixtureStore>) {
    let request = usage_request(
        "acct_1",
        "cus_1",
        "2026-01-01T00:00:00Z",
        "2026-02-01T00:00:00Z",
        Tz::UTC,
    );
    store
        .insert_shipments(
            "acct_1",
            "cus_1",
            &[shipment("s1", "2026-01-05T12:00:00Z", 1)],
        )
        .await
        .expect("insert_shipments");
    let ok = || shipment("s_ok", "2026-01-06T12:00:00Z", 1);
    expect_conflict(
        store
            .insert_shipments(
                "acct_1",
                "cus_1",
                &[ok(), shipment("s1", "2026-01-07T12:00:00Z", 1)],
            )
            .await,
        "shipments.id",
        "s1",
        "a shipment id that exists",
    );
    expect_conflict(
        store
            .insert_shipments(
                "acct_1",
                "cus_2",
                &[ok(), shipment("s1", "2026-01-07T12:00:00Z", 1)],
            )
            .await,
        "shipments.id",
        "s1",
        "a shipment id that exists for another customer of the account",
    );
    expect_invalid(
        store
            .insert_shipments(
                "acct_1",
                "cus_1",
                &[
                    ok(),
                    shipment("s_twice", "2026-01-07T12:00:00Z", 1),
                    shipment("s_twice", "2026-01-08T12:00:00Z", 1),
                ],
            )
            .await,
        "shipments.id",
        "s_twice",
        "a shipment id given twice",
    );
    expect_invalid(
        store
            .insert_shipments(
                "acct_1",
                "cus_1",
                &[ok(), shipment("s_zero", "2026-01-07T12:00:00Z", 0)],
            )
            .await,
        "shipments.quantity",
        "s_zero",
        "a shipment of quantity 0",
    );
    expect_invalid(
        store
            .insert_shipments(
                "acct_1",
                "cus_1",
                &[ok(), shipment("s_frac", "2026-01-07T12:00:00.5Z", 1)],
            )
            .await,
        "shipments.shipped_at",
        "s_frac",
        "a shipment time with a fraction of a second",
    );
    expect_invalid(
        store
            .insert_shipments(
                "acct_1",
                "cus_1",
                &[ok(), shipment("", "2026-01-07T12:00:00Z", 1)],
            )
            .await,
        "shipments.id",
        "",
        "a shipment without an id",
    );
    let usage = read_usage(&store, &request).await;
    assert_eq!(
        usage.total_shipments(),
        1,
        "a refused batch inserts none of its rows"
    );
    assert!(
        read_usage(
            &store,
            &UsageRequest {
                customer_id: "cus_2".into(),
                ..request.clone()
            }
        )
        .await
        .is_empty()
    );
    store
        .insert_shipments(
            "acct_2",
            "cus_1",
            &[shipment("s1", "2026-01-05T12:00:00Z", 1)],
        )
        .await
        .expect("the same shipment id in another account is another shipment");

    store
        .insert_returns(
            "acct_1",
            "cus_1",
            &[return_of("r1", "s1", "2026-01-08T12:00:00Z", 1)],
        )
        .await
        .expect("insert_returns");
    let ok = || return_of("r_ok", "s1", "2026-01-09T12:00:00Z", 1);
    expect_conflict(
        store
            .insert_returns(
                "acct_1",
                "cus_1",
                &[ok(), return_of("r1", "s1", "2026-01-10T12:00:00Z", 1)],
            )
            .await,
        "returns.id",
        "r1",
        "a return id that exists",
    );
    expect_invalid(
        store
            .insert_returns(
                "acct_1",
                "cus_1",
                &[ok(), return_of("r_zero", "s1", "2026-01-10T12:00:00Z", 0)],
            )
            .await,
        "returns.quantity",
        "r_zero",
        "a return of quantity 0",
    );
    expect_invalid(
        store
            .insert_returns(
                "acct_1",
                "cus_1",
                &[ok(), return_of("r_nowhere", "", "2026-01-10T12:00:00Z", 1)],
            )
            .await,
        "returns.shipment_id",
        "r_nowhere",
        "a return without a shipment id",
    );
    expect_invalid(
        store
            .insert_returns(
                "acct_1",
                "cus_1",
                &[
                    ok(),
                    return_of("r_frac", "s1", "2026-01-10T12:00:00.000001Z", 1),
                ],
            )
            .await,
        "returns.returned_at",
        "r_frac",
        "a return time with a fraction of a second",
    );
    let usage = read_usage(&store, &request).await;
    assert_eq!(
        (
            usage.total_returned_shipments(),
            usage.total_returned_units()
        ),
        (1, 1),
        "a refused batch of returns inserts none of its rows"
    );
}

/// `usage_many` gives each window what `usage` gives it, in order, and a window that cannot be
/// read (an unknown query, a return whose shipment is missing, a window ending before it starts)
/// fails in its own place without failing the others.
pub async fn check_usage_many(store: Arc<dyn FixtureStore>) {
    let ny = chrono_tz::America::New_York;
    let paris = chrono_tz::Europe::Paris;
    insert_rows(
        &store,
        "acct_1",
        "cus_1",
        &(
            vec![
                shipment("s1", "2026-01-16T04:40:00Z", 3),
                shipment("s2", "2026-01-18T12:00:00Z", 2),
                shipment("s3", "2026-02-03T12:00:00Z", 5),
            ],
            vec![return_of("r1", "s2", "2026-01-20T12:00:00Z", 1)],
        ),
    )
    .await;
    insert_rows(
        &store,
        "acct_1",
        "cus_2",
        &(
            vec![shipment("s4", "2026-01-17T23:30:00Z", 7)],
            vec![return_of("r_lost", "s_missing", "2026-01-19T12:00:00Z", 1)],
        ),
    )
    .await;
    let mut unknown = usage_request(
        "acct_1",
        "cus_1",
        "2026-01-01T05:00:00Z",
        "2026-02-01T05:00:00Z",
        ny,
    );
    unknown.query = "no_such_query".into();
    let requests = vec![
        usage_request(
            "acct_1",
            "cus_1",
            "2026-01-01T05:00:00Z",
            "2026-02-01T05:00:00Z",
            ny,
        ),
        usage_request(
            "acct_1",
            "cus_1",
            "2026-02-01T05:00:00Z",
            "2026-03-01T05:00:00Z",
            ny,
        ),
        unknown,
        usage_request(
            "acct_1",
            "cus_2",
            "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            paris,
        ),
        usage_request(
            "acct_1",
            "cus_1",
            "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            paris,
        ),
        usage_request(
            "acct_1",
            "cus_1",
            "2026-03-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            ny,
        ),
        usage_request(
            "acct_2",
            "cus_1",
            "2026-01-01T05:00:00Z",
            "2026-02-01T05:00:00Z",
            ny,
        ),
        usage_request(
            "acct_1",
            "cus_1",
            "2026-01-01T05:00:00Z",
            "2026-02-01T05:00:00Z",
            ny,
        ),
    ];
    let many = store.usage_many(&requests).await.expect("usage_many");
    assert_eq!(many.len(), requests.len(), "one result per window");
    for (request, result) in requests.iter().zip(&many) {
        match (store.usage(request).await, result) {
            (Ok(one), Ok(batch)) => assert_eq!(&one, batch, "usage_many of {request:?}"),
            (Err(one), Err(batch)) => assert_eq!(
                one.code(),
                batch.code(),
                "usage_many must fail {request:?} as usage does ({one} / {batch})"
            ),
            (one, batch) => panic!("usage_many of {request:?}: {batch:?}, usage: {one:?}"),
        }
    }
    assert!(many[0].as_ref().is_ok_and(|u| !u.is_empty()));
    assert!(many[2].is_err() && many[3].is_err() && many[5].is_err());
    assert!(store.usage_many(&[]).await.expect("no windows").is_empty());
}
