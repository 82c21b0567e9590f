//! The conformance suite of the [`Store`] port: what every backend (memory, SQLite, PostgreSQL)
//! must do, checked the same way for all of them (feature `testkit`).
//!
//! A backend runs the whole suite with [`run_all`], giving a function that makes a fresh, empty
//! store (a new in-memory store, a new SQLite file, a new PostgreSQL schema), or calls the
//! `check_*` functions one by one (each on a fresh store) to see which one fails. Checks panic
//! with a message that says what the store did wrong.
//!
//! [`check_concurrent_commits`] races eight writers; it only races for real on a multi-thread
//! runtime, so run the suite under `#[tokio::test(flavor = "multi_thread")]`:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn memory_store_conforms() {
//!     ai_billing::store::testkit::run_all(|| async {
//!         Arc::new(ai_billing::MemoryStore::default()) as Arc<dyn ai_billing::Store>
//!     })
//!     .await;
//! }
//! ```
//!
//! Ids are compared in byte order (Rust's `str` order; `COLLATE "C"` in SQL), and instants to the
//! microsecond: every instant the suite writes is in whole microseconds.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::json;

use super::{
    CommitOutcome, DueQuery, InvoiceQuery, NewSubscription, PlanListQuery, PlanQuery, Store,
    StoreStats, SubscriptionCommit, UsageRequest,
};
use crate::audit::{AuditAction, AuditEvent, SubjectKind};
use crate::calendar::{BillingInterval, IntervalUnit};
use crate::error::{Error, Result};
use crate::invoice::{Invoice, IssuedInvoice, LineItem};
use crate::money::{Currency, Money};
use crate::plan::{Account, Plan, PlanType, PlanVersion};
use crate::pricing::{
    ChargeKind, Phase, PricingProgram, RecurringCharge, ReturnsPolicy, UsageCharge, UsageMetric,
    UsagePricing, WeekdayRates,
};
use crate::revrec::RevenueEntry;
use crate::subscription::{
    BillingReason, Customer, InvoiceStatus, Quantity, Subscription, SubscriptionStatus, invoice_id,
};
use crate::tax::{TaxAddress, TaxLine};
use crate::usage::{self, PeriodUsage, Return, SHIPMENTS_BY_WEEKDAY, Shipment};

/// Runs every check, each on a fresh store from `make` (migrated here, and checked empty), so a
/// backend proves it keeps the whole [`Store`] contract with one call.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    macro_rules! run {
        ($($check:ident),* $(,)?) => {
            $(
                let store = fresh(&make).await;
                $check(store).await;
            )*
        };
    }
    run!(
        check_migrate_twice,
        check_accounts_and_customers,
        check_missing_parents_are_not_found,
        check_plan_versions,
        check_list_plans,
        check_insert_subscription,
        check_commit,
        check_concurrent_commits,
        check_due_subscriptions,
        check_invoices,
        check_usage,
        check_usage_missing_shipment,
        check_usage_rows_are_all_or_nothing,
        check_outbox,
        check_outbox_is_all_or_nothing,
        check_rejected_events,
        check_stats,
        check_events_for,
        check_event_round_trip,
        check_customers,
        check_usage_many,
        check_commit_claimed,
    );
}

/// A store from `make`, migrated and checked empty.
async fn fresh<F, Fut>(make: &F) -> Arc<dyn Store>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = make().await;
    store.migrate().await.expect("migrate a fresh store");
    assert_eq!(
        stats(&store).await,
        StoreStats::default(),
        "the store given to the suite must be empty"
    );
    store
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// An RFC 3339 instant.
fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("bad fixture instant {text:?}: {error}"))
        .with_timezone(&Utc)
}

/// A subscription quantity (1 to 100,000).
fn quantity(count: u32) -> Quantity {
    Quantity::new(count).expect("a quantity from 1 to 100000")
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a fixture date")
}

fn add_months(day: NaiveDate, months: u32) -> NaiveDate {
    day.checked_add_months(Months::new(months))
        .expect("a fixture date")
}

fn currency(code: &str) -> Currency {
    Currency::parse(code).expect("a fixture currency")
}

fn money(minor: i64, currency: Currency) -> Money {
    Money::from_minor(minor, currency)
}

fn account(id: &str, timezone: Tz, tax_inclusive: bool) -> Account {
    Account {
        id: id.to_owned(),
        abstracted: true,
        timezone,
        tax_inclusive,
    }
}

fn customer(account_id: &str, id: &str) -> Customer {
    Customer {
        account_id: account_id.to_owned(),
        id: id.to_owned(),
        tax_address: Some(TaxAddress {
            country: "US".into(),
            region: Some("CA".into()),
            postal_code: Some("94103".into()),
        }),
        tax_exempt: false,
    }
}

/// A hybrid plan: a stepping base fee with a 20% intro discount, and a per-unit usage charge
/// with Sunday unpriced, all rates as exact decimals.
fn plan_version(account_id: &str, plan_id: &str, version: u32) -> PlanVersion {
    let usd = currency("USD");
    let interval = BillingInterval {
        unit: IntervalUnit::Month,
        count: 1,
    };
    let mut program = PricingProgram::new(usd, interval);
    program.recurring.push(RecurringCharge {
        description: "Base charge — ü".into(),
        phases: vec![
            Phase {
                from_period: 1,
                to_period: Some(3),
                amount: Decimal::new(499, 2),
                step: None,
                floor: None,
                ceiling: None,
                discount_percent: Some(Decimal::new(200, 1)),
            },
            Phase {
                from_period: 4,
                to_period: None,
                amount: Decimal::new(14_990, 3),
                step: None,
                floor: Some(Decimal::new(1000, 2)),
                ceiling: Some(Decimal::new(30, 0)),
                discount_percent: None,
            },
        ],
    });
    let mut rates = WeekdayRates::uniform(Decimal::new(725, 4));
    rates.0[5] = Some(Decimal::new(1, 2));
    rates.0[6] = None;
    program.usage.push(UsageCharge {
        description: "Usage (Shipment) charge".into(),
        metric: UsageMetric::Units,
        pricing: UsagePricing::PerUnit { rates },
        returns: ReturnsPolicy::Credited,
        allowance: 20,
        minimum: Some(Decimal::new(500, 2)),
        cap: Some(Decimal::new(99_999_999, 2)),
    });
    let mut metadata = serde_json::Map::new();
    metadata.insert("team".into(), json!("billing ü"));
    metadata.insert("limits".into(), json!({"seats": 10, "rate": "0.0725"}));
    PlanVersion {
        account_id: account_id.to_owned(),
        plan: Plan {
            id: Some(plan_id.to_owned()),
            product_id: Some("prod_1".into()),
            nickname: format!("Hybrid v{version}"),
            amount: 0,
            currency: usd,
            interval: IntervalUnit::Month,
            interval_count: 1,
            auto_renew: true,
            metadata,
            plan_type: PlanType::Hybrid,
            ai_prompt: None,
            usage_query: Some(SHIPMENTS_BY_WEEKDAY.into()),
            program: Some(program.clone()),
        },
        version,
        program,
        interpreter: (version == 1).then(|| "offline".to_owned()),
        created_at: at("2026-01-02T03:04:05.123456Z") + chrono::Duration::days(i64::from(version)),
    }
}

/// An active subscription of `customer_id` on `plan_1`, at revision 1.
fn subscription(
    account_id: &str,
    id: &str,
    customer_id: &str,
    next_invoice_at: Option<DateTime<Utc>>,
) -> Subscription {
    Subscription {
        account_id: account_id.to_owned(),
        id: id.to_owned(),
        customer_id: customer_id.to_owned(),
        plan_id: "plan_1".into(),
        quantity: quantity(3),
        start_date: date(2026, 1, 15),
        status: SubscriptionStatus::Active,
        current_period: 1,
        current_period_start: date(2026, 1, 15),
        current_period_end: date(2026, 2, 15),
        next_invoice_period: 2,
        next_invoice_at,
        revision: 1,
        created_at: at("2026-01-15T05:00:00.654321Z"),
        updated_at: at("2026-01-15T05:00:01.000001Z"),
    }
}

/// The next state of `subscription`: one revision on, one more copy.
fn next_state(subscription: &Subscription) -> Subscription {
    let mut next = subscription.clone();
    next.revision += 1;
    next.quantity = quantity(next.quantity.get() + 1);
    next.updated_at += chrono::Duration::microseconds(1_000_001);
    next
}

/// An invoice of `subscription` for the month from `period_start`: two line items near
/// `i64::MAX / 1000` minor units (smaller in a currency without decimals), two tax lines at 7.25%
/// and 1% (included in the amounts or added to them), revenue over the months it spans.
fn invoice(
    subscription: &Subscription,
    period_start: NaiveDate,
    currency: Currency,
    inclusive: bool,
) -> IssuedInvoice {
    let period_end = add_months(period_start, 1);
    let (base, usage) = if currency.exponent() == 0 {
        (9_000_000_000_000, 123_456_789)
    } else {
        (9_000_000_000_000_000, 123_456_789_012_345)
    };
    let line_items = vec![
        LineItem {
            description: "Base charge (month 1) — ü".into(),
            kind: ChargeKind::Recurring,
            amount: money(base, currency),
        },
        LineItem {
            description: "Usage (Shipment) charge".into(),
            kind: ChargeKind::Usage,
            amount: money(usage, currency),
        },
    ];
    let subtotal = money(base + usage, currency);
    let rates = [
        ("State sales tax", Decimal::new(725, 4)),
        ("City tax", Decimal::new(1, 2)),
    ];
    let round = |amount: Decimal| Money::round_from_major(amount, currency).expect("fixture tax");
    let tax_lines: Vec<TaxLine> = if inclusive {
        let combined = Decimal::ONE + rates[0].1 + rates[1].1;
        let net = round(subtotal.to_major() / combined);
        let tax = subtotal.checked_sub(net).expect("fixture tax");
        let first = round(tax.to_major() * rates[0].1 / (combined - Decimal::ONE));
        let second = tax.checked_sub(first).expect("fixture tax");
        vec![
            TaxLine {
                name: rates[0].0.into(),
                rate: rates[0].1,
                amount: first,
            },
            TaxLine {
                name: rates[1].0.into(),
                rate: rates[1].1,
                amount: second,
            },
        ]
    } else {
        rates
            .iter()
            .map(|(name, rate)| TaxLine {
                name: (*name).into(),
                rate: *rate,
                amount: round(subtotal.to_major() * rate),
            })
            .collect()
    };
    let tax = Money::checked_sum(currency, tax_lines.iter().map(|line| line.amount))
        .expect("fixture tax");
    let total = if inclusive {
        subtotal
    } else {
        subtotal.checked_add(tax).expect("fixture total")
    };
    let revenue = total.checked_sub(tax).expect("fixture revenue");
    let month_end = add_months(period_start.with_day(1).expect("a first day"), 1);
    let mut spans = vec![(period_start, month_end.min(period_end))];
    if month_end < period_end {
        spans.push((month_end, period_end));
    }
    let weights: Vec<u64> = spans
        .iter()
        .map(|(start, end)| (*end - *start).num_days() as u64)
        .collect();
    let parts = revenue.allocate(&weights).expect("fixture revenue");
    let revenue_schedule = spans
        .iter()
        .zip(parts)
        .zip(&weights)
        .map(|(((start, end), amount), days)| RevenueEntry {
            month: start.format("%Y-%m").to_string(),
            start: *start,
            end: *end,
            days: *days as u32,
            amount,
        })
        .collect();
    let period_index = subscription.next_invoice_period;
    IssuedInvoice {
        id: invoice_id(&subscription.id, period_start),
        account_id: subscription.account_id.clone(),
        subscription_id: subscription.id.clone(),
        customer_id: subscription.customer_id.clone(),
        plan_id: subscription.plan_id.clone(),
        plan_version: 1,
        quantity: subscription.quantity.get(),
        billing_reason: if period_index <= 1 {
            BillingReason::SubscriptionCreate
        } else {
            BillingReason::SubscriptionCycle
        },
        status: if inclusive {
            InvoiceStatus::Held
        } else {
            InvoiceStatus::Open
        },
        created_at: at("2026-01-15T05:00:00.999999Z"),
        invoice: Invoice {
            period_index,
            issue_date: period_start,
            period_start,
            period_end,
            currency,
            line_items,
            subtotal,
            tax_lines,
            tax,
            tax_inclusive: inclusive,
            total,
            revenue_schedule,
        },
    }
}

/// An event about `subject_id`, at a whole-microsecond instant.
fn event(
    account_id: &str,
    action: AuditAction,
    subject_kind: SubjectKind,
    subject_id: &str,
    correlation_id: Option<&str>,
) -> AuditEvent {
    let event = AuditEvent::new(
        at("2026-01-15T05:00:00.123456Z"),
        account_id,
        "user_ü",
        action,
        subject_kind,
        subject_id,
    );
    match correlation_id {
        Some(correlation) => event.correlated(Some("run_1"), correlation),
        None => event,
    }
}

fn subscription_event(subscription: &Subscription, correlation_id: &str) -> AuditEvent {
    event(
        &subscription.account_id,
        AuditAction::SubscriptionCreated,
        SubjectKind::Subscription,
        &subscription.id,
        Some(correlation_id),
    )
}

fn invoice_event(invoice: &IssuedInvoice, correlation_id: &str) -> AuditEvent {
    event(
        &invoice.account_id,
        AuditAction::InvoiceIssued,
        SubjectKind::Invoice,
        &invoice.id,
        Some(correlation_id),
    )
    .with_data(json!({ "total": invoice.invoice.total.to_major().to_string() }))
}

/// An account (New York), a customer `cus_1` and version 1 of `plan_1`, each written with one
/// event: three events in all.
async fn setup(store: &Arc<dyn Store>, account_id: &str) {
    let acct = account(account_id, chrono_tz::America::New_York, false);
    store
        .put_account(
            &acct,
            &[event(
                account_id,
                AuditAction::AccountSaved,
                SubjectKind::Account,
                account_id,
                None,
            )],
        )
        .await
        .expect("put_account");
    store
        .put_customer(
            &customer(account_id, "cus_1"),
            &[event(
                account_id,
                AuditAction::CustomerSaved,
                SubjectKind::Customer,
                "cus_1",
                None,
            )],
        )
        .await
        .expect("put_customer");
    let inserted = store
        .insert_plan_version(
            &plan_version(account_id, "plan_1", 1),
            &[event(
                account_id,
                AuditAction::PlanCreated,
                SubjectKind::Plan,
                "plan_1",
                None,
            )],
        )
        .await
        .expect("insert_plan_version");
    assert!(inserted, "version 1 of a new plan must be written");
}

async fn stats(store: &Arc<dyn Store>) -> StoreStats {
    store.stats().await.expect("stats")
}

async fn all_events(store: &Arc<dyn Store>) -> Vec<AuditEvent> {
    store
        .pending_events(u32::MAX)
        .await
        .expect("pending_events")
}

async fn invoices_of(store: &Arc<dyn Store>, account_id: &str, id: &str) -> Vec<IssuedInvoice> {
    store
        .invoices(&InvoiceQuery {
            account_id: Some(account_id.to_owned()),
            subscription_id: Some(id.to_owned()),
            limit: None,
        })
        .await
        .expect("invoices")
}

async fn read_subscription(store: &Arc<dyn Store>, account_id: &str, id: &str) -> Subscription {
    store
        .subscription(account_id, id)
        .await
        .expect("subscription")
        .unwrap_or_else(|| panic!("subscription {id:?} of {account_id:?} is missing"))
}

/// Panics unless `result` is [`Error::InvalidInput`] on `field` with a reason mentioning
/// `mentions`.
fn expect_invalid<T: fmt::Debug>(result: Result<T>, field: &str, mentions: &str, what: &str) {
    match result {
        Err(Error::InvalidInput {
            field: found,
            reason,
        }) => {
            assert_eq!(
                found, field,
                "{what}: InvalidInput names the wrong field (reason: {reason})"
            );
            assert!(
                reason.contains(mentions),
                "{what}: the reason {reason:?} should mention {mentions:?}"
            );
        }
        other => panic!("{what}: expected InvalidInput on {field:?}, got {other:?}"),
    }
}

/// Panics unless `result` is [`Error::NotFound`] of `what_kind` `id`.
fn expect_not_found<T: fmt::Debug>(result: Result<T>, what_kind: &str, id: &str, what: &str) {
    match result {
        Err(Error::NotFound {
            what: kind,
            id: found,
        }) => {
            assert_eq!(
                (kind, found.as_str()),
                (what_kind, id),
                "{what}: NotFound names the wrong thing"
            );
        }
        other => panic!("{what}: expected NotFound {what_kind} {id:?}, got {other:?}"),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("serialise")
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// `migrate` is idempotent: running it again on a migrated store changes nothing and the store
/// still works.
pub async fn check_migrate_twice(store: Arc<dyn Store>) {
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
pub async fn check_accounts_and_customers(store: Arc<dyn Store>) {
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

/// Writes that name a missing account or customer are [`Error::NotFound`] and write nothing.
pub async fn check_missing_parents_are_not_found(store: Arc<dyn Store>) {
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
pub async fn check_plan_versions(store: Arc<dyn Store>) {
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
pub async fn check_list_plans(store: Arc<dyn Store>) {
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

/// `insert_subscription`: with and without a first invoice, every field kept, and a duplicate
/// id or an existing invoice refused with nothing written.
pub async fn check_insert_subscription(store: Arc<dyn Store>) {
    setup(&store, "acct_1").await;
    let base = stats(&store).await;
    let sub = subscription("acct_1", "sub_1", "cus_1", Some(at("2026-02-15T05:00:00Z")));
    let first = invoice(&sub, date(2026, 1, 15), currency("USD"), false);
    let created = subscription_event(&sub, "corr_1");
    let issued = invoice_event(&first, "corr_1");
    store
        .insert_subscription(&NewSubscription {
            subscription: sub.clone(),
            invoice: Some(first.clone()),
            events: vec![created.clone(), issued.clone()],
        })
        .await
        .expect("insert_subscription with its first invoice");
    assert_eq!(read_subscription(&store, "acct_1", "sub_1").await, sub);
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_1").await,
        vec![first.clone()]
    );

    let mut ended = subscription("acct_1", "sub_ü_1", "cus_1", None);
    ended.status = SubscriptionStatus::Ended;
    ended.quantity = quantity(100_000);
    ended.start_date = date(2024, 2, 29);
    ended.current_period = 24;
    ended.current_period_start = date(2026, 1, 29);
    ended.current_period_end = date(2026, 2, 28);
    ended.next_invoice_period = 25;
    ended.revision = 7;
    ended.updated_at = at("2026-02-28T23:59:59.999999Z");
    store
        .insert_subscription(&NewSubscription {
            subscription: ended.clone(),
            invoice: None,
            events: vec![],
        })
        .await
        .expect("insert_subscription without an invoice");
    let read = read_subscription(&store, "acct_1", "sub_ü_1").await;
    assert_eq!(
        read, ended,
        "every field round-trips (Ended, no next invoice)"
    );
    assert_eq!(read.next_invoice_at, None);
    assert_eq!(
        read.updated_at, ended.updated_at,
        "instants to the microsecond"
    );
    assert_eq!(
        stats(&store).await,
        StoreStats {
            subscriptions: 2,
            invoices: 1,
            audit_events: base.audit_events + 2,
            audit_pending: base.audit_pending + 2,
            audit_rejected: 0,
        }
    );
    assert_eq!(
        store
            .subscription("acct_2", "sub_1")
            .await
            .expect("subscription"),
        None,
        "subscriptions are scoped by account"
    );

    let before = stats(&store).await;
    let events_before = all_events(&store).await;
    let mut duplicate = subscription("acct_1", "sub_1", "cus_1", None);
    duplicate.quantity = quantity(9);
    let other_period = invoice(&duplicate, date(2026, 3, 15), currency("USD"), false);
    expect_invalid(
        store
            .insert_subscription(&NewSubscription {
                subscription: duplicate.clone(),
                invoice: Some(other_period.clone()),
                events: vec![subscription_event(&duplicate, "corr_2")],
            })
            .await,
        "subscription.id",
        "",
        "insert_subscription with an existing id",
    );
    assert_eq!(stats(&store).await, before, "a duplicate id writes nothing");
    assert_eq!(all_events(&store).await, events_before, "and no event");
    assert_eq!(read_subscription(&store, "acct_1", "sub_1").await, sub);
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_1").await,
        vec![first.clone()]
    );

    let newcomer = subscription("acct_1", "sub_2", "cus_1", None);
    let mut clash = first.clone();
    clash.quantity = 42;
    expect_invalid(
        store
            .insert_subscription(&NewSubscription {
                subscription: newcomer.clone(),
                invoice: Some(clash),
                events: vec![subscription_event(&newcomer, "corr_3")],
            })
            .await,
        "invoice",
        "",
        "insert_subscription with an invoice for a period already invoiced",
    );
    assert_eq!(
        stats(&store).await,
        before,
        "an existing invoice writes nothing"
    );
    assert_eq!(all_events(&store).await, events_before, "and no event");
    assert_eq!(
        store
            .subscription("acct_1", "sub_2")
            .await
            .expect("subscription"),
        None
    );
    assert_eq!(invoices_of(&store, "acct_1", "sub_1").await, vec![first]);
}

/// `commit`: compare-and-set on the revision, one invoice per period, and nothing written
/// unless the outcome is [`CommitOutcome::Committed`].
pub async fn check_commit(store: Arc<dyn Store>) {
    setup(&store, "acct_1").await;
    let sub = subscription(
        "acct_1",
        "sub_ü_1",
        "cus_1",
        Some(at("2026-02-15T05:00:00Z")),
    );
    let first = invoice(&sub, date(2026, 1, 15), currency("USD"), false);
    store
        .insert_subscription(&NewSubscription {
            subscription: sub.clone(),
            invoice: Some(first.clone()),
            events: vec![subscription_event(&sub, "corr_1")],
        })
        .await
        .expect("insert_subscription");

    let mut renewed = next_state(&sub);
    renewed.current_period = 2;
    renewed.current_period_start = date(2026, 2, 15);
    renewed.current_period_end = date(2026, 3, 15);
    renewed.next_invoice_period = 3;
    renewed.next_invoice_at = Some(at("2026-03-15T04:00:00.000001Z"));
    let second = invoice(&sub, date(2026, 2, 15), currency("USD"), true);
    let renewal_events = vec![
        invoice_event(&second, "corr_2"),
        event(
            "acct_1",
            AuditAction::TaxComputed,
            SubjectKind::Invoice,
            &second.id,
            Some("corr_2"),
        ),
    ];
    let before = stats(&store).await;
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 1,
            subscription: renewed.clone(),
            invoice: Some(second.clone()),
            events: renewal_events.clone(),
        })
        .await
        .expect("commit");
    assert_eq!(
        outcome,
        CommitOutcome::Committed,
        "a commit over the current revision is Committed"
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_ü_1").await,
        renewed
    );
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_ü_1").await,
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        stats(&store).await,
        StoreStats {
            invoices: before.invoices + 1,
            audit_events: before.audit_events + 2,
            audit_pending: before.audit_pending + 2,
            ..before
        }
    );

    let unchanged = |store: Arc<dyn Store>, what: &'static str| {
        let expected_sub = renewed.clone();
        let expected_invoices = vec![first.clone(), second.clone()];
        async move {
            let after = stats(&store).await;
            let events = all_events(&store).await;
            assert_eq!(
                read_subscription(&store, "acct_1", "sub_ü_1").await,
                expected_sub,
                "{what}: the subscription must not change"
            );
            assert_eq!(
                invoices_of(&store, "acct_1", "sub_ü_1").await,
                expected_invoices,
                "{what}: no invoice may be written"
            );
            (after, events)
        }
    };
    let (reference, reference_events) = unchanged(store.clone(), "after the commit").await;

    // Stale: computed from revision 1 again.
    let mut late = next_state(&sub);
    late.quantity = quantity(50);
    let third = invoice(&late, date(2026, 3, 15), currency("USD"), false);
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 1,
            subscription: late.clone(),
            invoice: Some(third.clone()),
            events: vec![invoice_event(&third, "corr_3")],
        })
        .await
        .expect("commit over a stale revision");
    assert_eq!(
        outcome,
        CommitOutcome::Stale,
        "a commit over an old revision is Stale"
    );
    let (after, events) = unchanged(store.clone(), "a stale commit").await;
    assert_eq!(after, reference, "a stale commit writes nothing");
    assert_eq!(events, reference_events, "a stale commit writes no event");

    // Stale: the subscription does not exist.
    let ghost = next_state(&subscription("acct_1", "sub_ghost", "cus_1", None));
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 1,
            subscription: ghost.clone(),
            invoice: Some(invoice(&ghost, date(2026, 1, 15), currency("USD"), false)),
            events: vec![subscription_event(&ghost, "corr_4")],
        })
        .await
        .expect("commit of a missing subscription");
    assert_eq!(
        outcome,
        CommitOutcome::Stale,
        "a commit of a missing subscription is Stale"
    );
    let (after, events) = unchanged(store.clone(), "a commit of a missing subscription").await;
    assert_eq!(after, reference);
    assert_eq!(events, reference_events);
    assert_eq!(
        store
            .subscription("acct_1", "sub_ghost")
            .await
            .expect("subscription"),
        None
    );

    // InvoiceExists: the period of `second` again, over the right revision.
    let mut again = next_state(&renewed);
    again.next_invoice_period = 9;
    let mut duplicate = second.clone();
    duplicate.quantity = 77;
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 2,
            subscription: again.clone(),
            invoice: Some(duplicate.clone()),
            events: vec![invoice_event(&duplicate, "corr_5")],
        })
        .await
        .expect("commit of an invoiced period");
    assert_eq!(
        outcome,
        CommitOutcome::InvoiceExists,
        "a commit of an invoiced period is InvoiceExists"
    );
    let (after, events) = unchanged(store.clone(), "an InvoiceExists commit").await;
    assert_eq!(after, reference, "an InvoiceExists commit writes nothing");
    assert_eq!(
        events, reference_events,
        "an InvoiceExists commit writes no event"
    );

    // The new state's revision must be expected + 1.
    let mut skipping = again.clone();
    skipping.revision = 4;
    expect_invalid(
        store
            .commit(&SubscriptionCommit {
                expected_revision: 2,
                subscription: skipping,
                invoice: None,
                events: vec![],
            })
            .await,
        "subscription.revision",
        "",
        "a commit whose revision is not expected + 1",
    );
    let mut same = again.clone();
    same.revision = 2;
    expect_invalid(
        store
            .commit(&SubscriptionCommit {
                expected_revision: 2,
                subscription: same,
                invoice: None,
                events: vec![],
            })
            .await,
        "subscription.revision",
        "",
        "a commit that keeps the revision",
    );
    let (after, events) = unchanged(store.clone(), "a refused revision").await;
    assert_eq!(after, reference);
    assert_eq!(events, reference_events);

    // A change without an invoice (a quantity change) is committed on its own.
    let mut quantity = next_state(&renewed);
    quantity.quantity = self::quantity(12);
    let changed = event(
        "acct_1",
        AuditAction::QuantityChanged,
        SubjectKind::Subscription,
        "sub_ü_1",
        Some("corr_6"),
    )
    .with_data(json!({ "from": 4, "to": 12 }));
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 2,
            subscription: quantity.clone(),
            invoice: None,
            events: vec![changed.clone()],
        })
        .await
        .expect("commit without an invoice");
    assert_eq!(
        outcome,
        CommitOutcome::Committed,
        "a commit without an invoice is Committed"
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_ü_1").await,
        quantity
    );
    let mut expected_events = reference_events;
    expected_events.push(changed);
    assert_eq!(all_events(&store).await, expected_events);
    assert_eq!(stats(&store).await.invoices, reference.invoices);
}

/// Eight writers commit different invoices over the same revision at once: exactly one wins,
/// the others are [`CommitOutcome::Stale`], and exactly one invoice and one set of events are
/// written. Races for real only on a multi-thread runtime.
pub async fn check_concurrent_commits(store: Arc<dyn Store>) {
    setup(&store, "acct_1").await;
    let sub = subscription("acct_1", "sub_1", "cus_1", Some(at("2026-02-15T05:00:00Z")));
    store
        .insert_subscription(&NewSubscription {
            subscription: sub.clone(),
            invoice: None,
            events: vec![],
        })
        .await
        .expect("insert_subscription");
    let before = stats(&store).await;
    let mut tasks = Vec::new();
    for writer in 0..8u32 {
        let store = Arc::clone(&store);
        let mut next = next_state(&sub);
        next.quantity = quantity(10 + writer);
        let issued = invoice(
            &next,
            add_months(date(2026, 2, 15), writer),
            currency("USD"),
            false,
        );
        let events = vec![invoice_event(&issued, &format!("corr_{writer}"))];
        let request = SubscriptionCommit {
            expected_revision: 1,
            subscription: next,
            invoice: Some(issued),
            events,
        };
        tasks.push(tokio::spawn(async move {
            let outcome = store.commit(&request).await;
            (request, outcome)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (request, outcome) = task.await.expect("a committing task panicked");
        match outcome.expect("a concurrent commit failed") {
            CommitOutcome::Committed => winners.push(request),
            CommitOutcome::Stale => {}
            CommitOutcome::InvoiceExists => {
                panic!("the writers bill different periods: InvoiceExists is wrong here")
            }
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one of eight commits over the same revision must win"
    );
    let winner = &winners[0];
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_1").await,
        winner.subscription,
        "the stored state is the winner's"
    );
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_1").await,
        vec![winner.invoice.clone().expect("an invoice")],
        "exactly the winner's invoice is stored"
    );
    assert_eq!(all_events(&store).await[3..], winner.events[..]);
    assert_eq!(
        stats(&store).await,
        StoreStats {
            invoices: before.invoices + 1,
            audit_events: before.audit_events + 1,
            audit_pending: before.audit_pending + 1,
            ..before
        }
    );
}

/// `due_subscriptions`: active ones due at or before `due_by` (inclusive, to the microsecond),
/// ordered by (account id, subscription id) in byte order across accounts, paged with `after`.
pub async fn check_due_subscriptions(store: Arc<dyn Store>) {
    let due_by = at("2026-03-01T05:00:00.000001Z");
    let micro = chrono::Duration::microseconds(1);
    let day = chrono::Duration::days(1);
    for account_id in ["acct_a", "acct_B", "acct_ü"] {
        store
            .put_account(&account(account_id, Tz::UTC, false), &[])
            .await
            .expect("put_account");
        store
            .put_customer(&customer(account_id, "cus_1"), &[])
            .await
            .expect("put_customer");
    }
    let mut ended = subscription("acct_a", "sub_ended", "cus_1", Some(due_by - day));
    ended.status = SubscriptionStatus::Ended;
    let mut ended_none = subscription("acct_a", "sub_ended_none", "cus_1", None);
    ended_none.status = SubscriptionStatus::Ended;
    let rows = vec![
        subscription("acct_a", "sub_1", "cus_1", Some(due_by - day)),
        subscription("acct_a", "sub_B", "cus_1", Some(due_by)),
        subscription("acct_a", "sub_a", "cus_1", Some(due_by + micro)),
        subscription("acct_a", "sub_ü_1", "cus_1", Some(due_by - day * 10)),
        ended,
        ended_none,
        subscription("acct_a", "sub_none", "cus_1", None),
        subscription("acct_B", "sub_1", "cus_1", Some(due_by - day * 5)),
        subscription(
            "acct_ü",
            "sub_z",
            "cus_1",
            Some(due_by - chrono::Duration::hours(1)),
        ),
    ];
    // Written out of order, so the order read cannot be the order written.
    for sub in rows.iter().rev() {
        store
            .insert_subscription(&NewSubscription {
                subscription: sub.clone(),
                invoice: None,
                events: vec![],
            })
            .await
            .expect("insert_subscription");
    }
    let find = |account_id: &str, id: &str| {
        rows.iter()
            .find(|sub| sub.account_id == account_id && sub.id == id)
            .cloned()
            .expect("a fixture subscription")
    };
    let due = |due_by: DateTime<Utc>, after: Option<(&str, &str)>, limit: u32| {
        let store = Arc::clone(&store);
        let query = DueQuery {
            due_by,
            after: after.map(|(account, id)| (account.to_owned(), id.to_owned())),
            limit,
        };
        async move {
            store
                .due_subscriptions(&query)
                .await
                .expect("due_subscriptions")
        }
    };
    let everything = vec![
        find("acct_B", "sub_1"),
        find("acct_a", "sub_1"),
        find("acct_a", "sub_B"),
        find("acct_a", "sub_ü_1"),
        find("acct_ü", "sub_z"),
    ];
    assert_eq!(
        due(due_by, None, 100).await,
        everything,
        "due at or before due_by (inclusive), active only, in (account, id) byte order"
    );
    assert_eq!(due(due_by, None, 0).await, vec![], "limit 0 is nothing");
    assert_eq!(due(due_by, None, 2).await, everything[..2]);
    assert_eq!(
        due(due_by, Some(("acct_a", "sub_1")), 2).await,
        everything[2..4],
        "the next page starts strictly after `after`"
    );
    assert_eq!(
        due(due_by, Some(("acct_a", "sub_ü_1")), 2).await,
        everything[4..]
    );
    assert_eq!(due(due_by, Some(("acct_ü", "sub_z")), 2).await, vec![]);
    assert_eq!(
        due(due_by, Some(("acct_a", "sub_C")), 10).await,
        everything[3..],
        "`after` need not be a subscription that exists"
    );
    assert_eq!(
        due(due_by - micro, None, 100).await,
        vec![
            find("acct_B", "sub_1"),
            find("acct_a", "sub_1"),
            find("acct_a", "sub_ü_1"),
            find("acct_ü", "sub_z"),
        ],
        "one microsecond before a subscription's time it is not due"
    );
    assert_eq!(
        due(due_by - day, None, 100).await,
        vec![
            find("acct_B", "sub_1"),
            find("acct_a", "sub_1"),
            find("acct_a", "sub_ü_1"),
        ]
    );
    assert_eq!(
        due(due_by + micro, None, 100).await.len(),
        6,
        "at its time a subscription is due"
    );
}

/// `invoices`: every field kept exactly (amounts near `i64::MAX / 1000`, decimal tax rates,
/// inclusive and exclusive tax, a JPY invoice, the revenue schedule), ordered by (account,
/// subscription, period start), filtered and limited.
pub async fn check_invoices(store: Arc<dyn Store>) {
    setup(&store, "acct_a").await;
    setup(&store, "acct_B").await;
    let usd = currency("USD");
    let sub_1 = subscription("acct_a", "sub_1", "cus_1", None);
    let sub_u = subscription("acct_a", "sub_ü_1", "cus_1", None);
    let jpy_sub = subscription("acct_B", "sub_1", "cus_1", None);
    let a1 = invoice(&sub_1, date(2026, 1, 15), usd, false);
    let u1 = invoice(&sub_u, date(2026, 1, 15), usd, true);
    let jpy = invoice(&jpy_sub, date(2026, 1, 31), currency("JPY"), false);
    assert_eq!(jpy.invoice.revenue_schedule.len(), 2);
    for (sub, first) in [(&sub_u, &u1), (&sub_1, &a1), (&jpy_sub, &jpy)] {
        store
            .insert_subscription(&NewSubscription {
                subscription: sub.clone(),
                invoice: Some(first.clone()),
                events: vec![],
            })
            .await
            .expect("insert_subscription");
    }
    // Renewals of sub_ü_1 written out of period order.
    let mut state = sub_u.clone();
    let mut u3 = None;
    let mut u2 = None;
    for (months, inclusive) in [(2, false), (1, true)] {
        let next = next_state(&state);
        let mut issued = invoice(&next, add_months(date(2026, 1, 15), months), usd, inclusive);
        issued.plan_version = 2;
        issued.created_at += chrono::Duration::microseconds(i64::from(months));
        let outcome = store
            .commit(&SubscriptionCommit {
                expected_revision: state.revision,
                subscription: next.clone(),
                invoice: Some(issued.clone()),
                events: vec![],
            })
            .await
            .expect("commit");
        assert_eq!(
            outcome,
            CommitOutcome::Committed,
            "a renewal over the current revision is Committed"
        );
        state = next;
        if months == 2 {
            u3 = Some(issued);
        } else {
            u2 = Some(issued);
        }
    }
    let (u2, u3) = (u2.expect("u2"), u3.expect("u3"));
    let list = |account_id: Option<&str>, subscription_id: Option<&str>, limit: Option<u32>| {
        let store = Arc::clone(&store);
        let query = InvoiceQuery {
            account_id: account_id.map(str::to_owned),
            subscription_id: subscription_id.map(str::to_owned),
            limit,
        };
        async move { store.invoices(&query).await.expect("invoices") }
    };
    let everything = vec![jpy, a1.clone(), u1.clone(), u2.clone(), u3.clone()];
    let read = list(None, None, None).await;
    assert_eq!(
        read, everything,
        "every invoice, exactly as written, by (account, subscription, period start)"
    );
    assert_eq!(
        to_json(&read),
        to_json(&everything),
        "invoices' JSON (amounts, tax rates as decimal text) round-trips exactly"
    );
    assert_eq!(list(None, None, Some(2)).await, everything[..2]);
    assert_eq!(list(None, None, Some(0)).await, vec![]);
    assert_eq!(list(Some("acct_a"), None, None).await, everything[1..]);
    assert_eq!(
        list(Some("acct_a"), Some("sub_ü_1"), None).await,
        vec![u1, u2.clone(), u3]
    );
    assert_eq!(list(Some("acct_a"), Some("sub_ü_1"), Some(2)).await[1], u2);
    assert_eq!(
        list(Some("acct_B"), Some("sub_1"), None).await,
        everything[..1]
    );
    assert_eq!(list(Some("acct_a"), Some("sub_1"), None).await, vec![a1]);
    assert_eq!(list(Some("acct_missing"), None, None).await, vec![]);
    assert_eq!(stats(&store).await.invoices, 5);
}

/// One customer's shipments and returns.
type Rows = (Vec<Shipment>, Vec<Return>);

fn shipment(id: &str, shipped_at: &str, quantity: u32) -> Shipment {
    Shipment {
        id: id.to_owned(),
        shipped_at: at(shipped_at),
        quantity,
    }
}

fn return_of(id: &str, shipment_id: &str, returned_at: &str, quantity: u32) -> Return {
    Return {
        id: id.to_owned(),
        shipment_id: shipment_id.to_owned(),
        returned_at: at(returned_at),
        quantity,
    }
}

fn usage_request(
    account_id: &str,
    customer_id: &str,
    from: &str,
    to: &str,
    tz: Tz,
) -> UsageRequest {
    UsageRequest {
        query: SHIPMENTS_BY_WEEKDAY.to_owned(),
        account_id: account_id.to_owned(),
        customer_id: customer_id.to_owned(),
        from: at(from),
        to: at(to),
        tz,
    }
}

async fn insert_rows(store: &Arc<dyn Store>, account_id: &str, customer_id: &str, rows: &Rows) {
    store
        .insert_shipments(account_id, customer_id, &rows.0)
        .await
        .expect("insert_shipments");
    store
        .insert_returns(account_id, customer_id, &rows.1)
        .await
        .expect("insert_returns");
}

async fn read_usage(store: &Arc<dyn Store>, request: &UsageRequest) -> PeriodUsage {
    store
        .usage(request)
        .await
        .unwrap_or_else(|error| panic!("usage {request:?}: {error}"))
}

/// `usage` equals [`crate::usage::aggregate`] over the customer's rows, in several zones, across
/// a DST change, with returns of shipments shipped long before the window; other customers' and
/// accounts' rows never count; an unknown query name is refused.
pub async fn check_usage(store: Arc<dyn Store>) {
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
pub async fn check_usage_missing_shipment(store: Arc<dyn Store>) {
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
pub async fn check_usage_rows_are_all_or_nothing(store: Arc<dyn Store>) {
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
    expect_invalid(
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
    expect_invalid(
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
    expect_invalid(
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

/// The outbox: pending events in the order written (also within one batch at the same instant),
/// `limit`, and `mark_shipped` idempotent and ignoring unknown ids.
pub async fn check_outbox(store: Arc<dyn Store>) {
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        vec![]
    );
    let make = |n: usize| {
        event(
            "acct_1",
            AuditAction::RenewalFailed,
            SubjectKind::Subscription,
            &format!("sub_{n}"),
            None,
        )
    };
    // Ids are UUIDv7, made in order; written in another order so that neither the id nor the
    // time can stand in for the order written.
    let made: Vec<AuditEvent> = (0..5).map(make).collect();
    let written = vec![
        made[3].clone(),
        made[1].clone(),
        made[4].clone(),
        made[0].clone(),
        made[2].clone(),
    ];
    store
        .append_events(&written[..3])
        .await
        .expect("append_events");
    store
        .append_events(&written[3..])
        .await
        .expect("append_events");
    store.append_events(&[]).await.expect("append no events");
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        written,
        "pending events come in the order they were written"
    );
    assert_eq!(
        store.pending_events(2).await.expect("pending_events"),
        written[..2]
    );
    assert_eq!(
        store.pending_events(0).await.expect("pending_events"),
        vec![]
    );
    let shipped_at = at("2026-01-16T00:00:00.000001Z");
    store
        .mark_shipped(
            &[
                written[0].id.clone(),
                written[3].id.clone(),
                "evt_unknown".into(),
            ],
            shipped_at,
        )
        .await
        .expect("mark_shipped");
    let rest = vec![written[1].clone(), written[2].clone(), written[4].clone()];
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        rest
    );
    store
        .mark_shipped(
            &[written[0].id.clone()],
            shipped_at + chrono::Duration::days(1),
        )
        .await
        .expect("mark_shipped twice");
    store
        .mark_shipped(&[], shipped_at)
        .await
        .expect("mark nothing");
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        rest
    );
    assert_eq!(
        stats(&store).await,
        StoreStats {
            audit_events: 5,
            audit_pending: 3,
            ..StoreStats::default()
        }
    );
    store
        .mark_shipped(
            &rest
                .iter()
                .map(|event| event.id.clone())
                .collect::<Vec<_>>(),
            shipped_at,
        )
        .await
        .expect("mark_shipped");
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        vec![]
    );
    assert_eq!(
        store
            .events_for("acct_1", "sub_3")
            .await
            .expect("events_for"),
        vec![made[3].clone()],
        "shipped events stay in the trail"
    );
}

/// Rejected events: `mark_rejected` takes pending events out of `pending_events` (so shipping
/// cannot get stuck on them) but keeps them in the outbox with their reasons, in write order;
/// shipped, unknown or already rejected ids are ignored (the first reason stays);
/// `retry_rejected` puts them back to pending in their place; `mark_shipped` ships a rejected
/// event; `stats` counts pending and rejected apart.
pub async fn check_rejected_events(store: Arc<dyn Store>) {
    let made: Vec<AuditEvent> = (0..5)
        .map(|n| {
            event(
                "acct_1",
                AuditAction::InvoiceIssued,
                SubjectKind::Invoice,
                &format!("in_{n}"),
                Some("corr_1"),
            )
        })
        .collect();
    store.append_events(&made).await.expect("append_events");
    let ids = |events: &[AuditEvent]| -> Vec<String> {
        events.iter().map(|event| event.id.clone()).collect()
    };
    let at_1 = at("2026-01-16T00:00:00.000001Z");
    store
        .mark_shipped(&[made[0].id.clone()], at_1)
        .await
        .expect("mark_shipped");
    store
        .mark_rejected(&[], at_1)
        .await
        .expect("reject nothing");
    store
        .mark_rejected(
            &[
                (
                    made[3].id.clone(),
                    "mapper_parsing_exception: bad total".into(),
                ),
                (made[1].id.clone(), "illegal_argument_exception: ü".into()),
                (made[3].id.clone(), "a second reason for the same id".into()),
                (made[0].id.clone(), "already shipped".into()),
                ("evt_unknown".into(), "unknown".into()),
            ],
            at_1,
        )
        .await
        .expect("mark_rejected");
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        vec![made[2].clone(), made[4].clone()],
        "rejected events leave the pending list; a shipped one is not rejected"
    );
    let rejected = store.rejected_events(10).await.expect("rejected_events");
    assert_eq!(
        rejected,
        vec![
            (made[1].clone(), "illegal_argument_exception: ü".to_owned()),
            (
                made[3].clone(),
                "mapper_parsing_exception: bad total".to_owned()
            ),
        ],
        "rejected events in write order, each with its first reason, the event whole"
    );
    assert_eq!(
        store.rejected_events(1).await.expect("rejected_events"),
        rejected[..1],
        "limit"
    );
    assert_eq!(
        store.rejected_events(0).await.expect("rejected_events"),
        vec![]
    );
    assert_eq!(
        stats(&store).await,
        StoreStats {
            audit_events: 5,
            audit_pending: 2,
            audit_rejected: 2,
            ..StoreStats::default()
        }
    );
    // Rejecting again keeps the first reason.
    store
        .mark_rejected(&[(made[1].id.clone(), "later".into())], at_1)
        .await
        .expect("mark_rejected twice");
    assert_eq!(
        store.rejected_events(10).await.expect("rejected_events"),
        rejected
    );
    assert_eq!(
        store
            .events_for("acct_1", "in_3")
            .await
            .expect("events_for")
            .len(),
        5,
        "rejected events stay in the trail"
    );

    // Back to pending: in their place in write order, reasons gone.
    store
        .retry_rejected(&[
            made[3].id.clone(),
            made[2].id.clone(), // pending: ignored
            made[0].id.clone(), // shipped: ignored
            "evt_unknown".into(),
        ])
        .await
        .expect("retry_rejected");
    store.retry_rejected(&[]).await.expect("retry nothing");
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        vec![made[2].clone(), made[3].clone(), made[4].clone()],
        "a retried event is pending again, in the order written"
    );
    assert_eq!(
        store.rejected_events(10).await.expect("rejected_events"),
        rejected[..1]
    );
    // Rejected again after a retry: the new reason.
    store
        .mark_rejected(&[(made[3].id.clone(), "rejected again".into())], at_1)
        .await
        .expect("mark_rejected after retry");
    assert_eq!(
        store.rejected_events(10).await.expect("rejected_events"),
        vec![
            rejected[0].clone(),
            (made[3].clone(), "rejected again".to_owned())
        ]
    );

    // Shipping a rejected event ships it: it is neither rejected nor pending any more.
    store
        .mark_shipped(&ids(&made[1..4]), at_1)
        .await
        .expect("mark_shipped");
    assert_eq!(
        store.rejected_events(10).await.expect("rejected_events"),
        vec![]
    );
    assert_eq!(
        store.pending_events(10).await.expect("pending_events"),
        vec![made[4].clone()]
    );
    store
        .retry_rejected(&ids(&made))
        .await
        .expect("retry shipped events");
    assert_eq!(
        stats(&store).await,
        StoreStats {
            audit_events: 5,
            audit_pending: 1,
            audit_rejected: 0,
            ..StoreStats::default()
        },
        "retrying shipped events changes nothing"
    );
}

/// Events are written all or nothing: a batch that repeats an id already in the outbox (or
/// within itself) is an error and writes none of its events.
pub async fn check_outbox_is_all_or_nothing(store: Arc<dyn Store>) {
    let first = event(
        "acct_1",
        AuditAction::PromptRefused,
        SubjectKind::Plan,
        "plan_1",
        None,
    );
    store
        .append_events(std::slice::from_ref(&first))
        .await
        .expect("append_events");
    let fresh = event(
        "acct_1",
        AuditAction::PromptRefused,
        SubjectKind::Plan,
        "plan_1",
        None,
    );
    assert!(
        store
            .append_events(&[fresh.clone(), first.clone()])
            .await
            .is_err(),
        "an event id already in the outbox must be refused"
    );
    assert!(
        store
            .append_events(&[fresh.clone(), fresh.clone()])
            .await
            .is_err(),
        "an event id given twice must be refused"
    );
    assert_eq!(
        all_events(&store).await,
        vec![first],
        "nothing of a refused batch"
    );
    assert_eq!(stats(&store).await.audit_events, 1);
}

/// `stats` counts exactly: subscriptions and invoices of all accounts, events and pending ones.
pub async fn check_stats(store: Arc<dyn Store>) {
    setup(&store, "acct_1").await;
    setup(&store, "acct_2").await;
    for (account_id, id) in [
        ("acct_1", "sub_1"),
        ("acct_2", "sub_1"),
        ("acct_2", "sub_2"),
    ] {
        let sub = subscription(account_id, id, "cus_1", Some(at("2026-02-15T05:00:00Z")));
        let first =
            (id == "sub_1").then(|| invoice(&sub, date(2026, 1, 15), currency("USD"), false));
        let mut events = vec![subscription_event(&sub, id)];
        events.extend(first.iter().map(|issued| invoice_event(issued, id)));
        store
            .insert_subscription(&NewSubscription {
                subscription: sub,
                invoice: first,
                events,
            })
            .await
            .expect("insert_subscription");
    }
    assert_eq!(
        stats(&store).await,
        StoreStats {
            subscriptions: 3,
            invoices: 2,
            audit_events: 3 + 3 + 5,
            audit_pending: 11,
            audit_rejected: 0,
        }
    );
    let oldest: Vec<String> = store
        .pending_events(4)
        .await
        .expect("pending_events")
        .into_iter()
        .map(|event| event.id)
        .collect();
    store
        .mark_shipped(&oldest, at("2026-01-16T00:00:00Z"))
        .await
        .expect("mark_shipped");
    assert_eq!(
        stats(&store).await,
        StoreStats {
            subscriptions: 3,
            invoices: 2,
            audit_events: 11,
            audit_pending: 7,
            audit_rejected: 0,
        }
    );
}

/// `events_for`: the events about a subject and those correlated with them (a subscription's
/// trail includes its invoices' events), in the order written, within one account.
pub async fn check_events_for(store: Arc<dyn Store>) {
    let invoice_1 = "in_sub_1_20260115";
    use AuditAction as A;
    use SubjectKind as K;
    let rows = [
        (
            "acct_e",
            A::SubscriptionCreated,
            K::Subscription,
            "sub_1",
            Some("c1"),
        ),
        (
            "acct_e",
            A::InvoiceIssued,
            K::Invoice,
            invoice_1,
            Some("c1"),
        ),
        (
            "acct_e",
            A::SubscriptionCreated,
            K::Subscription,
            "sub_2",
            Some("c3"),
        ),
        ("acct_e", A::TaxComputed, K::Invoice, invoice_1, Some("c1")),
        (
            "acct_f",
            A::SubscriptionCreated,
            K::Subscription,
            "sub_1",
            Some("c1"),
        ),
        (
            "acct_e",
            A::InvoiceIssued,
            K::Invoice,
            "in_sub_2_20260115",
            Some("c3"),
        ),
        (
            "acct_e",
            A::QuantityChanged,
            K::Subscription,
            "sub_1",
            Some("c2"),
        ),
        ("acct_e", A::PlanChanged, K::Plan, "plan_1", None),
        ("acct_e", A::RenewalFailed, K::Subscription, "sub_1", None),
        (
            "acct_f",
            A::InvoiceIssued,
            K::Invoice,
            "in_sub_9",
            Some("c2"),
        ),
    ];
    let events: Vec<AuditEvent> = rows
        .iter()
        .map(|&(account_id, action, kind, subject, correlation)| {
            event(account_id, action, kind, subject, correlation)
        })
        .collect();
    store
        .append_events(&events[..4])
        .await
        .expect("append_events");
    store
        .append_events(&events[4..])
        .await
        .expect("append_events");
    let pick = |indexes: &[usize]| {
        indexes
            .iter()
            .map(|&i| events[i].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        store
            .events_for("acct_e", "sub_1")
            .await
            .expect("events_for"),
        pick(&[0, 1, 3, 6, 8]),
        "a subscription's trail: its events and its operations' invoice events, in order"
    );
    assert_eq!(
        store
            .events_for("acct_e", invoice_1)
            .await
            .expect("events_for"),
        pick(&[0, 1, 3]),
        "an invoice's trail: its events and those of the operation that issued it"
    );
    assert_eq!(
        store
            .events_for("acct_f", "sub_1")
            .await
            .expect("events_for"),
        pick(&[4]),
        "trails are scoped by account"
    );
    assert_eq!(
        store
            .events_for("acct_e", "plan_1")
            .await
            .expect("events_for"),
        pick(&[7])
    );
    assert_eq!(
        store
            .events_for("acct_e", "sub_none")
            .await
            .expect("events_for"),
        vec![]
    );
}

/// Every field of an event round-trips: the data's JSON exactly (decimal strings, nested objects,
/// unicode, escapes), the time to the microsecond, run and correlation ids present or absent.
pub async fn check_event_round_trip(store: Arc<dyn Store>) {
    let data = json!({
        "subtotal": "92233720368547.75",
        "rate": "0.0725",
        "city_rate": "0.01",
        "currency": "USD",
        "count": 7,
        "negative": -3,
        "big": 9_223_372_036_854_775_807_i64,
        "flag": true,
        "nothing": null,
        "nested": {
            "lines": [
                {"description": "Base charge — ü 📦", "amount": "5.00"},
                {"description": "Usage \"quoted\"\nnext line", "amount": "0.10"}
            ],
            "empty": {},
            "list": []
        }
    });
    let rich = AuditEvent {
        time: at("2026-03-08T06:59:59.123456Z"),
        ..event(
            "acct_ü",
            AuditAction::InvoiceIssued,
            SubjectKind::Invoice,
            "in_sub_ü_1_20260308",
            Some("corr_ü"),
        )
        .with_data(data.clone())
    };
    let plain = AuditEvent {
        time: at("1999-12-31T23:59:59.000001Z"),
        ..event(
            "acct_ü",
            AuditAction::PromptRefused,
            SubjectKind::Plan,
            "plan_1",
            None,
        )
    };
    assert_eq!(plain.run_id, None);
    store
        .append_events(&[rich.clone(), plain.clone()])
        .await
        .expect("append_events");
    let read = all_events(&store).await;
    assert_eq!(
        read,
        vec![rich.clone(), plain.clone()],
        "events round-trip exactly"
    );
    assert_eq!(read[0].data, data, "the data's JSON round-trips exactly");
    assert_eq!(read[0].time, rich.time, "the time to the microsecond");
    assert_eq!(read[1].data, json!({}), "empty data stays an empty object");
    assert_eq!(
        store
            .events_for("acct_ü", "in_sub_ü_1_20260308")
            .await
            .expect("events_for"),
        vec![rich]
    );
}

// ---------------------------------------------------------------------------------------------
// A billing run's page: customers, usage and renewals of many subscriptions at once
// ---------------------------------------------------------------------------------------------

/// `customers` reads each key in its place: `None` for one that does not exist (another
/// account's customer of the same id included), the same customer twice when asked twice.
pub async fn check_customers(store: Arc<dyn Store>) {
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

/// `usage_many` gives each window what `usage` gives it, in order, and a window that cannot be
/// read (an unknown query, a return whose shipment is missing, a window ending before it starts)
/// fails in its own place without failing the others.
pub async fn check_usage_many(store: Arc<dyn Store>) {
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

/// `claim_due` lists what `due_subscriptions` lists; `commit_claimed` writes each request as
/// `commit` would (a subscription's periods in order, each over the state written before it), a
/// stale request or a billed period writes nothing of itself or of what follows it for the same
/// subscription, and the others are written whole; a dropped claim writes nothing.
pub async fn check_commit_claimed(store: Arc<dyn Store>) {
    setup(&store, "acct_1").await;
    let due_at = at("2026-02-15T05:00:00Z");
    let mut subs = Vec::new();
    for id in ["sub_a", "sub_b", "sub_c", "sub_d"] {
        let sub = subscription("acct_1", id, "cus_1", Some(due_at));
        store
            .insert_subscription(&NewSubscription {
                subscription: sub.clone(),
                invoice: None,
                events: vec![subscription_event(&sub, &format!("corr_{id}"))],
            })
            .await
            .expect("insert_subscription");
        subs.push(sub);
    }
    let query = DueQuery {
        due_by: due_at,
        after: None,
        limit: 10,
    };
    let listed = store.due_subscriptions(&query).await.expect("due");
    let page = store.claim_due(&query).await.expect("claim_due");
    assert_eq!(
        page.subscriptions, listed,
        "a claim lists the due subscriptions"
    );
    drop(page);
    let before = stats(&store).await;
    assert_eq!(before.invoices, 0);

    // A renewal of `sub` for the month from `start`, over `state`.
    let renewal = |state: &Subscription, start: NaiveDate, tag: &str| {
        let issued = invoice(state, start, currency("USD"), false);
        let mut next = next_state(state);
        next.next_invoice_period += 1;
        next.next_invoice_at = Some(at("2026-03-15T04:00:00Z"));
        SubscriptionCommit {
            expected_revision: state.revision,
            subscription: next,
            events: vec![invoice_event(&issued, tag)],
            invoice: Some(issued),
        }
    };
    // sub_a: two periods in a row. sub_b: one, over a revision it no longer has (and its
    // second period, which must not be written either). sub_c: a period billed already, then
    // the next. sub_d: one period.
    let a1 = renewal(&subs[0], date(2026, 1, 15), "corr_a1");
    let a2 = renewal(&a1.subscription, date(2026, 2, 15), "corr_a2");
    let mut b_now = next_state(&subs[1]);
    b_now.quantity = quantity(9);
    let outcome = store
        .commit(&SubscriptionCommit {
            expected_revision: 1,
            subscription: b_now.clone(),
            invoice: None,
            events: Vec::new(),
        })
        .await
        .expect("commit sub_b");
    assert_eq!(outcome, CommitOutcome::Committed);
    let b1 = renewal(&subs[1], date(2026, 1, 15), "corr_b1");
    let b2 = renewal(&b1.subscription, date(2026, 2, 15), "corr_b2");
    let c0 = renewal(&subs[2], date(2026, 1, 15), "corr_c0");
    let outcome = store.commit(&c0).await.expect("commit sub_c");
    assert_eq!(outcome, CommitOutcome::Committed);
    // Over the state sub_c has now, but for the period billed already.
    let mut c1 = renewal(&c0.subscription, date(2026, 1, 15), "corr_c1");
    c1.events = vec![event(
        "acct_1",
        AuditAction::InvoiceIssued,
        SubjectKind::Invoice,
        "other",
        Some("corr_c1"),
    )];
    let c2 = renewal(&c1.subscription, date(2026, 2, 15), "corr_c2");
    let d1 = renewal(&subs[3], date(2026, 1, 15), "corr_d1");
    let requests = vec![a1.clone(), b1, c1, a2.clone(), b2, c2, d1.clone()];
    let before = stats(&store).await;
    let page = store.claim_due(&query).await.expect("claim_due");
    let outcomes = store
        .commit_claimed(page, &requests)
        .await
        .expect("commit_claimed");
    let outcomes: Vec<CommitOutcome> = outcomes
        .into_iter()
        .map(|o| o.expect("no request is refused"))
        .collect();
    assert_eq!(
        outcomes,
        [
            CommitOutcome::Committed,
            CommitOutcome::Stale,
            CommitOutcome::InvoiceExists,
            CommitOutcome::Committed,
            CommitOutcome::Stale,
            CommitOutcome::Stale,
            CommitOutcome::Committed,
        ],
        "commit_claimed outcomes"
    );
    let after = stats(&store).await;
    assert_eq!(
        after.invoices,
        before.invoices + 3,
        "a1, a2 and d1 are written"
    );
    assert_eq!(
        after.audit_events,
        before.audit_events + 3,
        "their events only"
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_a").await,
        a2.subscription
    );
    assert_eq!(read_subscription(&store, "acct_1", "sub_b").await, b_now);
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_c").await,
        c0.subscription
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_d").await,
        d1.subscription
    );
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_a").await,
        [a1.invoice.clone().unwrap(), a2.invoice.clone().unwrap()],
        "both periods of sub_a, whole"
    );
    assert_eq!(
        invoices_of(&store, "acct_1", "sub_d").await,
        [d1.invoice.clone().unwrap()]
    );
    assert!(invoices_of(&store, "acct_1", "sub_b").await.is_empty());

    // A request refused on its own (its state skips a revision) writes nothing, nor what
    // follows it for the same subscription; the others are written.
    let mut bad = renewal(&d1.subscription, date(2026, 2, 15), "corr_d2");
    bad.subscription.revision += 1;
    let after_bad = renewal(&bad.subscription, date(2026, 3, 15), "corr_d3");
    let a3 = renewal(&a2.subscription, date(2026, 3, 15), "corr_a3");
    let page = store.claim_due(&query).await.expect("claim_due");
    let outcomes = store
        .commit_claimed(page, &[bad, after_bad, a3.clone()])
        .await
        .expect("commit_claimed");
    assert!(outcomes[0].is_err(), "{outcomes:?}");
    assert!(
        !matches!(outcomes[1], Ok(CommitOutcome::Committed)),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[2], Ok(CommitOutcome::Committed)),
        "{outcomes:?}"
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_d").await,
        d1.subscription
    );
    assert_eq!(
        read_subscription(&store, "acct_1", "sub_a").await,
        a3.subscription
    );
    let page = store.claim_due(&query).await.expect("claim_due");
    assert!(
        store
            .commit_claimed(page, &[])
            .await
            .expect("an empty page")
            .is_empty()
    );
}
