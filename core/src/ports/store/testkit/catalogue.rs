//! Checks of the catalogue in [`crate::store::BillingState`]: migrations, accounts and customers,
//! plan versions and their listing.

use std::sync::Arc;

use chrono_tz::Tz;

use super::fixtures::{
    account, all_events, currency, customer, date, event, expect_not_found, invoice, plan_version,
    setup, stats, subscription, subscription_event, to_json,
};
use crate::audit::{AuditAction, SubjectKind};
use crate::plan::{Account, PlanVersion};
use crate::store::{FixtureStore, NewSubscription, PlanListQuery, PlanQuery};
use crate::subscription::Customer;
use crate::tax::TaxAddress;

/// `migrate` is idempotent: running it again on a migrated store changes nothing and the store
/// still works.
pub async fn check_migrate_twice(store: Arc<dyn FixtureStore>) {
    store.migrate().await.expect("migrate once more");
    store.migrate().await.expect("migrate a third time");
    setup(&store, "acct_1").await;
    store
        .migrate()
        .await
        .expect("migrate a store that holds data");
    assert_eq!(
        stats(&store).await.audit_events,
        3,
        "migrating must keep what the store holds"
    );
    assert!(store.account("acct_1").await.expect("account").is_some());
}

/// Accounts and customers are upserts that keep every field (time zone, tax settings, tax
/// address, exemption), are scoped by account, and write their events; a customer needs its
/// account.
pub async fn check_accounts_and_customers(store: Arc<dyn FixtureStore>) {
    assert_eq!(store.account("acct_ü").await.expect("account"), None);
    let first = account("acct_ü", chrono_tz::America::New_York, true);
    let saved = event(
        "acct_ü",
        AuditAction::AccountSaved,
        SubjectKind::Account,
        "acct_ü",
        None,
    );
    store
        .put_account(&first, std::slice::from_ref(&saved))
        .await
        .expect("put_account");
    assert_eq!(
        store.account("acct_ü").await.expect("account"),
        Some(first.clone())
    );
    let changed = Account {
        abstracted: false,
        timezone: chrono_tz::Asia::Kolkata,
        tax_inclusive: false,
        locale: crate::locale::Locale::parse("hi-IN", "locale").expect("a known locale"),
        ..first
    };
    let saved_again = event(
        "acct_ü",
        AuditAction::AccountSaved,
        SubjectKind::Account,
        "acct_ü",
        None,
    );
    store
        .put_account(&changed, std::slice::from_ref(&saved_again))
        .await
        .expect("put_account over an existing account");
    assert_eq!(
        store.account("acct_ü").await.expect("account"),
        Some(changed),
        "put_account replaces the account"
    );
    store
        .put_account(&account("acct_2", Tz::UTC, false), &[])
        .await
        .expect("put_account without events");

    let with_address = customer("acct_ü", "cus_ü");
    store
        .put_customer(&with_address, &[])
        .await
        .expect("put_customer");
    assert_eq!(
        store.customer("acct_ü", "cus_ü").await.expect("customer"),
        Some(with_address.clone())
    );
    assert_eq!(
        store.customer("acct_2", "cus_ü").await.expect("customer"),
        None,
        "customers are scoped by account"
    );
    let other_account = Customer {
        account_id: "acct_2".into(),
        tax_address: Some(TaxAddress {
            country: "CA".into(),
            region: Some("QC".into()),
            postal_code: None,
        }),
        ..with_address.clone()
    };
    store
        .put_customer(&other_account, &[])
        .await
        .expect("the same customer id in another account");
    let exempt = Customer {
        tax_address: None,
        tax_exempt: true,
        ..with_address
    };
    let customer_saved = event(
        "acct_ü",
        AuditAction::CustomerSaved,
        SubjectKind::Customer,
        "cus_ü",
        None,
    );
    store
        .put_customer(&exempt, std::slice::from_ref(&customer_saved))
        .await
        .expect("put_customer over an existing customer");
    assert_eq!(
        store.customer("acct_ü", "cus_ü").await.expect("customer"),
        Some(exempt),
        "put_customer replaces the customer"
    );
    assert_eq!(
        store.customer("acct_2", "cus_ü").await.expect("customer"),
        Some(other_account)
    );
    assert_eq!(
        store.customer("acct_ü", "cus_2").await.expect("customer"),
        None
    );

    expect_not_found(
        store
            .put_customer(
                &customer("acct_missing", "cus_1"),
                &[event(
                    "acct_missing",
                    AuditAction::CustomerSaved,
                    SubjectKind::Customer,
                    "cus_1",
                    None,
                )],
            )
            .await,
        "account",
        "acct_missing",
        "put_customer in a missing account",
    );
    assert_eq!(
        all_events(&store).await,
        vec![saved, saved_again, customer_saved],
        "upserts write their events, in order; a refused write writes none"
    );
}

/// Writes that name a missing account or customer are [`crate::error::Error::NotFound`] and write nothing.
pub async fn check_missing_parents_are_not_found(store: Arc<dyn FixtureStore>) {
    expect_not_found(
        store
            .put_customer(&customer("acct_missing", "cus_1"), &[])
            .await,
        "account",
        "acct_missing",
        "put_customer in a missing account",
    );
    expect_not_found(
        store
            .insert_plan_version(&plan_version("acct_missing", "plan_1", 1), &[])
            .await,
        "account",
        "acct_missing",
        "insert_plan_version in a missing account",
    );
    let orphan = subscription("acct_missing", "sub_1", "cus_1", None);
    expect_not_found(
        store
            .insert_subscription(&NewSubscription {
                subscription: orphan,
                invoice: None,
                events: vec![],
                idempotency: None,
            })
            .await,
        "account",
        "acct_missing",
        "insert_subscription in a missing account",
    );
    setup(&store, "acct_1").await;
    let before = stats(&store).await;
    let no_customer = subscription("acct_1", "sub_1", "cus_missing", None);
    let first = invoice(&no_customer, date(2026, 1, 15), currency("USD"), false);
    expect_not_found(
        store
            .insert_subscription(&NewSubscription {
                subscription: no_customer.clone(),
                invoice: Some(first.clone()),
                events: vec![subscription_event(&no_customer, "corr_1")],
                idempotency: None,
            })
            .await,
        "customer",
        "cus_missing",
        "insert_subscription for a missing customer",
    );
    assert_eq!(
        stats(&store).await,
        before,
        "a refused subscription writes nothing"
    );
    assert_eq!(store.account("acct_missing").await.expect("account"), None);
}

/// Plan versions: compare-and-set on the version number, latest or a given version, and every
/// field (the program's JSON exactly) read back as written.
pub async fn check_plan_versions(store: Arc<dyn FixtureStore>) {
    store
        .put_account(&account("acct_1", Tz::UTC, false), &[])
        .await
        .expect("put_account");
    store
        .put_account(&account("acct_2", Tz::UTC, false), &[])
        .await
        .expect("put_account");
    let query = |account_id: &str, version: Option<u32>| PlanQuery {
        account_id: account_id.to_owned(),
        plan_id: "plan_ü".to_owned(),
        version,
    };
    assert_eq!(
        store
            .plan_version(&query("acct_1", None))
            .await
            .expect("plan_version"),
        None
    );
    let v1 = plan_version("acct_1", "plan_ü", 1);
    let created = event(
        "acct_1",
        AuditAction::PlanCreated,
        SubjectKind::Plan,
        "plan_ü",
        None,
    );
    assert!(
        store
            .insert_plan_version(&v1, std::slice::from_ref(&created))
            .await
            .expect("insert v1"),
        "version 1 of a new plan is written"
    );
    let mut v1_again = plan_version("acct_1", "plan_ü", 1);
    v1_again.plan.nickname = "someone else's v1".into();
    let lost = event(
        "acct_1",
        AuditAction::PlanChanged,
        SubjectKind::Plan,
        "plan_ü",
        None,
    );
    assert!(
        !store
            .insert_plan_version(&v1_again, std::slice::from_ref(&lost))
            .await
            .expect("insert v1 again"),
        "a second version 1 is refused with Ok(false)"
    );
    let mut v3 = plan_version("acct_1", "plan_ü", 3);
    v3.plan.nickname = "skipping".into();
    assert!(
        !store
            .insert_plan_version(&v3, &[lost])
            .await
            .expect("insert v3"),
        "a version that skips one is refused with Ok(false)"
    );
    assert_eq!(
        stats(&store).await.audit_events,
        1,
        "a refused version writes no event"
    );
    let v2 = plan_version("acct_1", "plan_ü", 2);
    assert_eq!(v2.interpreter, None);
    let changed = event(
        "acct_1",
        AuditAction::PlanChanged,
        SubjectKind::Plan,
        "plan_ü",
        None,
    );
    assert!(
        store
            .insert_plan_version(&v2, std::slice::from_ref(&changed))
            .await
            .expect("insert v2"),
        "version 2 after 1 is written"
    );
    let latest = store
        .plan_version(&query("acct_1", None))
        .await
        .expect("plan_version")
        .expect("the latest version");
    assert_eq!(latest, v2, "the latest version is v2, as written");
    let first = store
        .plan_version(&query("acct_1", Some(1)))
        .await
        .expect("plan_version")
        .expect("version 1");
    assert_eq!(first, v1, "version 1 is kept as first written");
    assert_eq!(
        to_json(&first.program),
        to_json(&v1.program),
        "the program's JSON round-trips exactly"
    );
    assert_eq!(
        to_json(&first),
        to_json(&v1),
        "the version's JSON round-trips"
    );
    assert_eq!(first.interpreter.as_deref(), Some("offline"));
    assert_eq!(
        first.created_at, v1.created_at,
        "created_at to the microsecond"
    );
    assert_eq!(
        store
            .plan_version(&query("acct_1", Some(3)))
            .await
            .expect("plan_version"),
        None
    );
    assert_eq!(
        store
            .plan_version(&query("acct_2", None))
            .await
            .expect("plan_version"),
        None,
        "plan versions are scoped by account"
    );
    let other = plan_version("acct_2", "plan_ü", 1);
    assert!(
        store
            .insert_plan_version(&other, &[])
            .await
            .expect("the same plan id in another account"),
        "plan version numbers are per account"
    );
    assert_eq!(
        store
            .plan_version(&query("acct_2", Some(1)))
            .await
            .expect("plan_version"),
        Some(other)
    );
    assert_eq!(all_events(&store).await, vec![created, changed]);
}

/// `list_plans`: the latest version of each plan of one account (never another account's), in
/// plan id byte order (`plan_Z` before `plan_a` before `plan_ü`), after a cursor, at most a
/// limit; an account without plans, or a missing one, lists none.
pub async fn check_list_plans(store: Arc<dyn FixtureStore>) {
    for id in ["acct_1", "acct_2", "acct_empty"] {
        store
            .put_account(&account(id, Tz::UTC, false), &[])
            .await
            .expect("put_account");
    }
    // Versions written out of plan id order, acct_2's interleaved with acct_1's and sharing one
    // plan id with it.
    let writes = [
        ("acct_1", "plan_b", 1),
        ("acct_2", "plan_a", 1),
        ("acct_1", "plan_ü", 1),
        ("acct_1", "plan_b", 2),
        ("acct_1", "plan_a", 1),
        ("acct_2", "plan_c", 1),
        ("acct_1", "plan_Z", 1),
        ("acct_1", "plan_ü", 2),
        ("acct_2", "plan_a", 2),
        ("acct_1", "plan_b", 3),
    ];
    for (account_id, plan_id, number) in writes {
        assert!(
            store
                .insert_plan_version(&plan_version(account_id, plan_id, number), &[])
                .await
                .expect("insert_plan_version"),
            "version {number} of {plan_id:?} in {account_id:?} is written"
        );
    }
    let list = |account_id: &str, after: Option<&str>, limit: Option<u32>| {
        let store = Arc::clone(&store);
        let query = PlanListQuery {
            account_id: account_id.to_owned(),
            after: after.map(str::to_owned),
            limit,
        };
        async move {
            store
                .list_plans(&query)
                .await
                .unwrap_or_else(|error| panic!("list_plans {query:?}: {error}"))
        }
    };
    let keys = |versions: &[PlanVersion]| -> Vec<(String, u32)> {
        versions
            .iter()
            .map(|version| (version.plan_id().to_owned(), version.version))
            .collect()
    };
    let expected = vec![
        plan_version("acct_1", "plan_Z", 1),
        plan_version("acct_1", "plan_a", 1),
        plan_version("acct_1", "plan_b", 3),
        plan_version("acct_1", "plan_ü", 2),
    ];
    let all = list("acct_1", None, None).await;
    assert_eq!(
        keys(&all),
        keys(&expected),
        "every plan of the account once, at its latest version, in plan id byte order"
    );
    assert_eq!(all, expected, "each listed version is read back as written");
    assert_eq!(
        to_json(&all),
        to_json(&expected),
        "the listed versions' JSON round-trips"
    );
    assert_eq!(
        keys(&list("acct_2", None, None).await),
        keys(&[
            plan_version("acct_2", "plan_a", 2),
            plan_version("acct_2", "plan_c", 1),
        ]),
        "plans are listed per account, never another account's"
    );

    // Limits and cursors.
    assert_eq!(list("acct_1", None, Some(2)).await, expected[..2].to_vec());
    assert_eq!(list("acct_1", None, Some(0)).await, vec![]);
    assert_eq!(list("acct_1", None, Some(10)).await, expected);
    assert_eq!(
        list("acct_1", Some("plan_a"), Some(2)).await,
        expected[2..].to_vec(),
        "strictly after the cursor"
    );
    assert_eq!(
        list("acct_1", Some("plan_b"), None).await,
        expected[3..].to_vec()
    );
    assert_eq!(
        list("acct_1", Some("plan_aa"), None).await,
        expected[2..].to_vec(),
        "a cursor need not be a plan id"
    );
    assert_eq!(
        keys(&list("acct_1", Some("plan_B"), None).await),
        keys(&expected),
        "the cursor compares in byte order: plan_B < plan_Z < plan_a"
    );
    assert_eq!(
        keys(&list("acct_1", Some("plan_Z"), None).await),
        keys(&expected[1..]),
        "the cursor compares in byte order: plan_Z < plan_a"
    );
    assert_eq!(list("acct_1", Some("plan_ü"), None).await, vec![]);
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = list("acct_1", after.as_deref(), Some(1)).await;
        assert!(page.len() <= 1, "a page holds at most its limit");
        let Some(last) = page.last() else { break };
        after = Some(last.plan_id().to_owned());
        paged.extend(page);
        assert!(paged.len() <= expected.len(), "paging must end: {paged:?}");
    }
    assert_eq!(
        paged, expected,
        "pages of one, cursor by cursor, list every plan once"
    );

    // A new version replaces the old one in the list; a refused one changes nothing.
    assert!(
        !store
            .insert_plan_version(&plan_version("acct_1", "plan_a", 3), &[])
            .await
            .expect("insert_plan_version"),
        "a version that skips one is refused"
    );
    assert_eq!(list("acct_1", None, None).await, expected);
    let a2 = plan_version("acct_1", "plan_a", 2);
    assert!(
        store
            .insert_plan_version(&a2, &[])
            .await
            .expect("insert_plan_version")
    );
    assert_eq!(
        list("acct_1", Some("plan_Z"), Some(1)).await,
        vec![a2],
        "the list follows the latest version"
    );

    // Accounts without plans.
    assert_eq!(list("acct_empty", None, None).await, vec![]);
    assert_eq!(list("acct_missing", None, None).await, vec![]);
    assert_eq!(list("acct_empty", Some("plan_a"), Some(5)).await, vec![]);
}

/// `customers` reads each key in its place: `None` for one that does not exist (another
/// account's customer of the same id included), the same customer twice when asked twice.
pub async fn check_customers(store: Arc<dyn FixtureStore>) {
    setup(&store, "acct_1").await;
    setup(&store, "acct_2").await;
    let mut second = customer("acct_1", "cus_ü_2");
    second.tax_exempt = true;
    store
        .put_customer(&second, &[])
        .await
        .expect("put_customer");
    let keys: Vec<(String, String)> = [
        ("acct_1", "cus_ü_2"),
        ("acct_1", "cus_missing"),
        ("acct_1", "cus_1"),
        ("acct_3", "cus_1"),
        ("acct_2", "cus_1"),
        ("acct_1", "cus_ü_2"),
    ]
    .iter()
    .map(|(a, c)| ((*a).to_owned(), (*c).to_owned()))
    .collect();
    let found = store.customers(&keys).await.expect("customers");
    let expected = vec![
        Some(second.clone()),
        None,
        Some(customer("acct_1", "cus_1")),
        None,
        Some(customer("acct_2", "cus_1")),
        Some(second),
    ];
    assert_eq!(found, expected, "customers must read each key in its place");
    assert!(
        store.customers(&[]).await.expect("no keys").is_empty(),
        "no keys read no customers"
    );
}
