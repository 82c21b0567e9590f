//! The billing engine end to end on the in-memory store: timing of the first invoice, renewals,
//! catch-up, quantity changes, plan versions, refusals, failures that leave nothing behind, and
//! two runs at once. (The same engine on SQLite and PostgreSQL is exercised by the CLI tests.)

use std::sync::Arc;

use ai_billing::audit::AuditAction;
use ai_billing::engine::{ChangeQuantity, CreateSubscription, RunDue, SavePlan};
use ai_billing::store::InvoiceQuery;
use ai_billing::tax::{FlatRate, TaxAddress};
use ai_billing::usage::Shipment;
use ai_billing::{
    Account, BillingReason, Customer, Engine, Error, FixedClock, FixtureStore, IssuedInvoice, Plan,
    SubscriptionStatus,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use rust_decimal::Decimal;

mod support;
use support::{ACCOUNT, CUSTOMER, ai_plan, ny};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

struct Fixture {
    store: Arc<dyn FixtureStore>,
    clock: Arc<FixedClock>,
    engine: Engine,
}

async fn fixture(abstracted: bool) -> Fixture {
    let (store, clock, engine) = support::setup(abstracted).await;
    Fixture {
        store,
        clock,
        engine,
    }
}

async fn save(f: &Fixture, plan: Plan) -> ai_billing::Result<ai_billing::PlanVersion> {
    f.engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan,
            actor: "admin".into(),
        })
        .await
}

async fn subscribe(
    f: &Fixture,
    id: &str,
    plan: &str,
    quantity: u32,
    start: NaiveDate,
) -> ai_billing::Result<ai_billing::engine::CreatedSubscription> {
    f.engine
        .create_subscription(&CreateSubscription {
            account_id: ACCOUNT.into(),
            id: id.into(),
            customer_id: CUSTOMER.into(),
            plan_id: plan.into(),
            quantity,
            start_date: start,
            actor: "admin".into(),
            request_id: None,
        })
        .await
}

async fn run(f: &Fixture, now: DateTime<Utc>) -> ai_billing::engine::RunReport {
    f.clock.set(now);
    f.engine
        .run_due(&RunDue {
            now: Some(now),
            progress: None,
        })
        .await
        .unwrap()
}

async fn invoices(f: &Fixture, subscription: &str) -> Vec<IssuedInvoice> {
    f.store
        .invoices(&InvoiceQuery {
            account_id: Some(ACCOUNT.into()),
            subscription_id: Some(subscription.into()),
            limit: None,
            ..Default::default()
        })
        .await
        .unwrap()
}

fn totals(invoices: &[IssuedInvoice]) -> Vec<String> {
    invoices
        .iter()
        .map(|i| i.invoice.total.to_major().to_string())
        .collect()
}

#[tokio::test]
async fn in_advance_plans_bill_at_creation_then_at_each_period_start() {
    let f = fixture(true).await;
    save(
        &f,
        ai_plan(
            "p",
            "Bill $5 for the first month and increase by $1 per month",
        ),
    )
    .await
    .unwrap();
    f.clock.set(ny(2026, 1, 31, 9));
    let created = subscribe(&f, "s", "p", 1, date(2026, 1, 31)).await.unwrap();
    let first = created.invoice.expect("billed at creation");
    assert_eq!(first.billing_reason, BillingReason::SubscriptionCreate);
    assert_eq!(first.invoice.period_start, date(2026, 1, 31));
    assert_eq!(first.invoice.period_end, date(2026, 2, 28));
    assert_eq!(first.invoice.total.to_major().to_string(), "5.00");
    assert_eq!(created.subscription.next_invoice_period, 2);
    assert_eq!(
        created.subscription.next_invoice_at,
        Some(ny(2026, 2, 28, 0))
    );

    // Nothing is due before the next period starts.
    assert_eq!(run(&f, ny(2026, 2, 27, 23)).await.issued, 0);
    let report = run(&f, ny(2026, 3, 31, 0)).await;
    assert_eq!((report.issued, report.failed), (2, 0));
    let all = invoices(&f, "s").await;
    assert_eq!(totals(&all), ["5.00", "6.00", "7.00"]);
    assert_eq!(
        all.iter()
            .map(|i| i.invoice.period_start)
            .collect::<Vec<_>>(),
        [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    );
    assert!(
        all[1..]
            .iter()
            .all(|i| i.billing_reason == BillingReason::SubscriptionCycle)
    );
    // A second run at the same moment issues nothing.
    assert_eq!(run(&f, ny(2026, 3, 31, 0)).await.issued, 0);
    assert_eq!(invoices(&f, "s").await.len(), 3);
}

#[tokio::test]
async fn a_future_start_is_billed_when_it_comes() {
    let f = fixture(true).await;
    save(&f, ai_plan("p", "$19 per month")).await.unwrap();
    let created = subscribe(&f, "s", "p", 2, date(2026, 3, 10)).await.unwrap();
    assert!(created.invoice.is_none());
    assert_eq!(
        created.subscription.next_invoice_at,
        Some(ny(2026, 3, 10, 0))
    );
    assert_eq!(run(&f, ny(2026, 3, 9, 23)).await.issued, 0);
    assert_eq!(run(&f, ny(2026, 3, 10, 0)).await.issued, 1);
    let all = invoices(&f, "s").await;
    assert_eq!(all[0].billing_reason, BillingReason::SubscriptionCreate);
    assert_eq!(totals(&all), ["38.00"]);
}

#[tokio::test]
async fn in_arrears_plans_bill_usage_at_the_end_of_each_period() {
    let f = fixture(true).await;
    save(
        &f,
        ai_plan(
            "p",
            "$0.75 per weekday delivery and $2.50 per Sunday delivery; Saturdays are not billed",
        ),
    )
    .await
    .unwrap();
    let created = subscribe(&f, "s", "p", 1, date(2026, 1, 1)).await.unwrap();
    assert!(created.invoice.is_none());
    // Monday 5 Jan to Friday 9 Jan, and Sunday 11 Jan; a Friday 23:40 delivery in New York is a
    // Friday delivery, though it is Saturday in UTC.
    let mut rows: Vec<Shipment> = (5..=9)
        .map(|d| Shipment {
            id: format!("w{d}"),
            shipped_at: ny(2026, 1, d, 6),
            quantity: 1,
        })
        .collect();
    rows.push(Shipment {
        id: "sun".into(),
        shipped_at: ny(2026, 1, 11, 6),
        quantity: 1,
    });
    rows.push(Shipment {
        id: "late-friday".into(),
        shipped_at: New_York
            .with_ymd_and_hms(2026, 1, 16, 23, 40, 0)
            .unwrap()
            .to_utc(),
        quantity: 1,
    });
    f.store
        .insert_shipments(ACCOUNT, CUSTOMER, &rows)
        .await
        .unwrap();
    assert_eq!(run(&f, ny(2026, 1, 31, 23)).await.issued, 0);
    assert_eq!(run(&f, ny(2026, 2, 1, 0)).await.issued, 1);
    let all = invoices(&f, "s").await;
    assert_eq!(all[0].billing_reason, BillingReason::SubscriptionCreate);
    assert_eq!(all[0].invoice.issue_date, date(2026, 2, 1));
    // 6 weekday deliveries at 0.75 and one Sunday at 2.50.
    assert_eq!(totals(&all), ["7.00"]);
    let sub = f.store.subscription(ACCOUNT, "s").await.unwrap().unwrap();
    assert_eq!(
        (sub.current_period, sub.next_invoice_period),
        (2, 2),
        "in arrears, the subscription is in period 2 and owes it at its end"
    );
}

#[tokio::test]
async fn a_quantity_change_applies_from_the_next_invoice_with_no_renewal() {
    let f = fixture(true).await;
    save(&f, ai_plan("flat", "$12 per month for each copy"))
        .await
        .unwrap();
    save(
        &f,
        ai_plan(
            "hybrid",
            "A $15 monthly base fee per copy, plus $0.50 per delivery",
        ),
    )
    .await
    .unwrap();
    f.clock.set(ny(2026, 1, 15, 9));
    subscribe(&f, "adv", "flat", 1, date(2026, 1, 15))
        .await
        .unwrap();
    subscribe(&f, "arr", "hybrid", 1, date(2026, 1, 15))
        .await
        .unwrap();

    f.clock.set(ny(2026, 1, 25, 14));
    for id in ["adv", "arr"] {
        let changed = f
            .engine
            .change_quantity(&ChangeQuantity {
                account_id: ACCOUNT.into(),
                subscription_id: id.into(),
                quantity: 3,
                proration: Default::default(),
                effective: ai_billing::changes::Effective::Immediately,
                actor: "ops@example.com".into(),
                request_id: None,
            })
            .await
            .unwrap();
        assert_eq!(changed.quantity, 3);
    }
    // No renewal and no invoice came of it.
    assert_eq!(invoices(&f, "adv").await.len(), 1);
    assert!(invoices(&f, "arr").await.is_empty());
    let trail = f.store.events_for(ACCOUNT, "adv").await.unwrap();
    let change = trail
        .iter()
        .find(|e| e.action == AuditAction::QuantityChanged)
        .expect("the change is audited");
    assert_eq!(change.actor, "ops@example.com");
    assert_eq!(change.time, ny(2026, 1, 25, 14));
    assert_eq!(change.data["old_quantity"], 1);
    assert_eq!(change.data["new_quantity"], 3);

    run(&f, ny(2026, 2, 15, 0)).await;
    // In advance: period 1 was billed for 1 copy; period 2 for 3.
    assert_eq!(totals(&invoices(&f, "adv").await), ["12.00", "36.00"]);
    // In arrears: the invoice at the end of period 1 bills the new quantity.
    let arr = invoices(&f, "arr").await;
    assert_eq!(totals(&arr), ["45.00"]);
    assert_eq!(arr[0].quantity, 3);
}

#[tokio::test]
async fn a_late_run_catches_up_every_period_in_order() {
    let f = fixture(true).await;
    save(
        &f,
        ai_plan(
            "p",
            "Bill $5 for the first month and increase by $1 per month",
        ),
    )
    .await
    .unwrap();
    f.clock.set(ny(2026, 1, 15, 9));
    subscribe(&f, "s", "p", 1, date(2025, 10, 15))
        .await
        .unwrap();
    let report = run(&f, ny(2026, 1, 15, 9)).await;
    assert_eq!(report.issued, 3);
    assert_eq!(
        totals(&invoices(&f, "s").await),
        ["5.00", "6.00", "7.00", "8.00"]
    );
}

#[tokio::test]
async fn plan_versions_bill_the_invoices_issued_after_them() {
    let f = fixture(true).await;
    let v1 = save(&f, ai_plan("p", "$10 per month")).await.unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.interpreter.as_deref(), Some("offline"));
    // The same plan again is the same version.
    assert_eq!(
        save(&f, ai_plan("p", "$10 per month"))
            .await
            .unwrap()
            .version,
        1
    );
    f.clock.set(ny(2026, 1, 15, 9));
    subscribe(&f, "s", "p", 1, date(2026, 1, 15)).await.unwrap();
    let v2 = save(&f, ai_plan("p", "$12 per month")).await.unwrap();
    assert_eq!(v2.version, 2);
    run(&f, ny(2026, 2, 15, 0)).await;
    let all = invoices(&f, "s").await;
    assert_eq!(totals(&all), ["10.00", "12.00"]);
    assert_eq!(
        all.iter().map(|i| i.plan_version).collect::<Vec<_>>(),
        [1, 2]
    );
    // A new version cannot move from in advance to in arrears: that is a new plan.
    let err = save(&f, ai_plan("p", "$0.50 per delivery"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    assert!(err.to_string().contains("create a new plan"), "{err}");
}

#[tokio::test]
async fn refused_prompts_and_unavailable_plans_save_nothing() {
    let f = fixture(true).await;
    let err = save(&f, ai_plan("vague", "Charge whatever seems fair"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PromptNotUnderstood { .. }), "{err}");
    let trail = f.store.events_for(ACCOUNT, "vague").await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, AuditAction::PromptRefused);
    assert!(
        f.store
            .plan_version(&ai_billing::store::PlanQuery {
                account_id: ACCOUNT.into(),
                plan_id: "vague".into(),
                version: None,
            })
            .await
            .unwrap()
            .is_none()
    );

    let plain = fixture(false).await;
    let err = save(&plain, ai_plan("p", "$10 per month"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PlanNotAvailable { .. }), "{err}");
}

#[tokio::test]
async fn bad_subscriptions_are_refused_by_name() {
    let f = fixture(true).await;
    save(&f, ai_plan("p", "$10 per month")).await.unwrap();
    for quantity in [0, 100_001] {
        let err = subscribe(&f, "s", "p", quantity, date(2026, 1, 1))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field, .. } if field == "subscription.quantity"),
            "{err}"
        );
    }
    let err = subscribe(&f, "s", "nope", 1, date(2026, 1, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { what: "plan", .. }), "{err}");
    subscribe(&f, "s", "p", 100_000, date(2026, 1, 1))
        .await
        .unwrap();
    let err = subscribe(&f, "s", "p", 1, date(2026, 1, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict { what, .. } if what == "subscription.id"),
        "{err}"
    );
    assert_eq!(f.store.stats().await.unwrap().subscriptions, 1);
}

/// A plan whose interval no subscription's calendar takes is refused when it is saved (by the
/// same check), not later when it is subscribed to.
#[tokio::test]
async fn a_plan_no_subscription_could_use_is_refused_when_saved() {
    let f = fixture(true).await;
    for (prompt, count) in [("$5 every 100000 months", 100_000), ("$5 per month", 0)] {
        let plan = Plan {
            interval_count: count,
            ..ai_plan("long", prompt)
        };
        let err = save(&f, plan).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field, .. } if field == "plan.interval_count"),
            "{err}"
        );
    }
    let saved = f
        .store
        .list_plans(&ai_billing::store::PlanListQuery {
            account_id: ACCOUNT.into(),
            after: None,
            limit: None,
        })
        .await
        .unwrap();
    assert!(saved.is_empty(), "nothing was saved: {saved:?}");
    // The most a calendar takes is saved, and subscribed to.
    let plan = Plan {
        interval_count: 1000,
        ..ai_plan("long", "$5 every 1000 months")
    };
    save(&f, plan).await.unwrap();
    f.clock.set(ny(2026, 1, 1, 9));
    subscribe(&f, "s", "long", 1, date(2026, 1, 1))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failed_renewal_leaves_nothing_and_the_run_goes_on() {
    let f = fixture(true).await;
    // No price for Saturdays: a Saturday delivery cannot be billed. The interpreter refuses such a
    // prompt when the plan is saved, so the program is given directly, as a usage plan's is.
    let program = serde_json::json!({
        "version": 1, "currency": "USD", "interval": { "unit": "month", "count": 1 },
        "usage": [ { "description": "Usage (Shipment) charge", "metric": "shipments",
            "pricing": { "kind": "per_unit", "rates": { "monday": "0.75", "tuesday": "0.75",
                "wednesday": "0.75", "thursday": "0.75", "friday": "0.75", "sunday": "2.50" } } } ]
    });
    let weekday = Plan {
        plan_type: ai_billing::PlanType::Usage,
        ai_prompt: None,
        program: Some(serde_json::from_value(program).unwrap()),
        ..ai_plan("weekday", "unused")
    };
    save(&f, weekday).await.unwrap();
    save(&f, ai_plan("flat", "$10 per month")).await.unwrap();
    f.clock.set(ny(2026, 1, 1, 9));
    subscribe(&f, "bad", "weekday", 1, date(2026, 1, 1))
        .await
        .unwrap();
    subscribe(&f, "good", "flat", 1, date(2026, 1, 1))
        .await
        .unwrap();
    f.store
        .insert_shipments(
            ACCOUNT,
            CUSTOMER,
            &[Shipment {
                id: "saturday".into(),
                shipped_at: ny(2026, 1, 10, 7),
                quantity: 1,
            }],
        )
        .await
        .unwrap();
    let before = f.store.subscription(ACCOUNT, "bad").await.unwrap().unwrap();
    let report = run(&f, ny(2026, 2, 1, 0)).await;
    assert_eq!((report.issued, report.failed), (1, 1));
    assert_eq!(report.failures[0].1, "bad");
    assert!(invoices(&f, "bad").await.is_empty());
    assert_eq!(
        f.store.subscription(ACCOUNT, "bad").await.unwrap().unwrap(),
        before
    );
    let trail = f.store.events_for(ACCOUNT, "bad").await.unwrap();
    let failed = trail
        .iter()
        .find(|e| e.action == AuditAction::RenewalFailed)
        .expect("the failure is audited");
    assert_eq!(failed.data["code"], "PROMPT_NOT_UNDERSTOOD");
    assert_eq!(totals(&invoices(&f, "good").await), ["10.00", "10.00"]);
}

#[tokio::test]
async fn a_run_ahead_of_the_clock_is_refused_and_writes_nothing() {
    let f = fixture(true).await;
    save(&f, ai_plan("flat", "$10 per month")).await.unwrap();
    f.clock.set(ny(2026, 1, 1, 9));
    subscribe(&f, "s", "flat", 1, date(2026, 1, 1))
        .await
        .unwrap();
    let before = f.store.subscription(ACCOUNT, "s").await.unwrap().unwrap();
    let trail_before = f.store.events_for(ACCOUNT, "s").await.unwrap().len();
    // On Jan 20, a run (or one renewal) up to Jun 30 would issue the invoices of Feb to Jun now.
    f.clock.set(ny(2026, 1, 20, 9));
    let later = ny(2026, 6, 30, 9);
    let refused = [
        f.engine
            .run_due(&RunDue {
                now: Some(later),
                progress: None,
            })
            .await
            .map(|_| ()),
        f.engine
            .renew_subscription(ACCOUNT, "s", later)
            .await
            .map(|_| ()),
    ];
    for result in refused {
        match result {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "now");
                assert!(reason.contains("2026-06-30T13:00:00Z"), "{reason}");
                assert!(reason.contains("2026-01-20T14:00:00Z"), "{reason}");
            }
            other => panic!("expected an invalid now, got {other:?}"),
        }
    }
    assert_eq!(invoices(&f, "s").await.len(), 1, "only the first invoice");
    assert_eq!(
        f.store.subscription(ACCOUNT, "s").await.unwrap().unwrap(),
        before
    );
    assert_eq!(
        f.store.events_for(ACCOUNT, "s").await.unwrap().len(),
        trail_before
    );
    // Up to the clock's now (or before it) is fine; so is no `now` at all.
    let now = ny(2026, 1, 20, 9);
    let report = f
        .engine
        .run_due(&RunDue {
            now: Some(now),
            progress: None,
        })
        .await
        .unwrap();
    assert_eq!(report.issued, 0);
    assert_eq!(run(&f, ny(2026, 2, 1, 9)).await.issued, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runs_at_once_issue_each_invoice_once() {
    let f = fixture(true).await;
    save(&f, ai_plan("p", "$10 per month")).await.unwrap();
    f.clock.set(ny(2026, 1, 1, 9));
    for n in 0..40 {
        subscribe(&f, &format!("s{n:02}"), "p", 1, date(2026, 1, 1 + n % 28))
            .await
            .unwrap();
    }
    // Only the two that start on Jan 1 were billed at creation; the others start later.
    let before = f.store.stats().await.unwrap().invoices;
    assert_eq!(before, 2);
    let now = ny(2026, 6, 30, 0);
    f.clock.set(now);
    let request = RunDue {
        now: Some(now),
        progress: None,
    };
    let (one, two) = (
        f.engine.clone().with_concurrency(3),
        f.engine.clone().with_concurrency(5),
    );
    let (a, b) = tokio::join!(one.run_due(&request), two.run_due(&request));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.failed + b.failed, 0);
    let stored = f.store.stats().await.unwrap().invoices;
    assert_eq!(a.issued + b.issued + before, stored);
    let mut keys = std::collections::HashSet::new();
    for n in 0..40 {
        let all = invoices(&f, &format!("s{n:02}")).await;
        assert_eq!(all.len(), 6, "s{n:02}");
        for invoice in all {
            assert!(keys.insert((invoice.subscription_id, invoice.invoice.period_start)));
        }
    }
}

#[tokio::test]
async fn tax_follows_the_customer_and_the_site() {
    let f = fixture(true).await;
    let engine = f.engine.clone().with_tax(Arc::new(
        FlatRate::new("Sales tax", Decimal::new(825, 4)).unwrap(),
    ));
    engine
        .save_customer(
            &Customer::new(ACCOUNT, "exempt")
                .with_tax_address(TaxAddress {
                    country: "US".into(),
                    region: Some("NY".into()),
                    postal_code: None,
                })
                .exempt(),
            "admin",
        )
        .await
        .unwrap();
    save(&f, ai_plan("p", "$10 per month")).await.unwrap();
    f.clock.set(ny(2026, 1, 1, 9));
    for (id, customer) in [("taxed", CUSTOMER), ("free", "exempt")] {
        engine
            .create_subscription(&CreateSubscription {
                account_id: ACCOUNT.into(),
                id: id.into(),
                customer_id: customer.into(),
                plan_id: "p".into(),
                quantity: 1,
                start_date: date(2026, 1, 1),
                actor: "admin".into(),
                request_id: None,
            })
            .await
            .unwrap();
    }
    // 10.00 at 8.25% is 0.825 -> 0.83.
    let taxed = &invoices(&f, "taxed").await[0].invoice;
    assert_eq!(
        [taxed.subtotal, taxed.tax, taxed.total].map(|m| m.to_major().to_string()),
        ["10.00", "0.83", "10.83"]
    );
    let free = &invoices(&f, "free").await[0].invoice;
    assert_eq!(free.total.to_major().to_string(), "10.00");
    assert!(free.tax_lines.is_empty());

    // A tax-inclusive site: 10.00 holds the tax: 10 / 1.0825 = 9.2379 -> 9.24 net, 0.76 tax.
    engine
        .save_account(&Account::new(ACCOUNT, New_York).tax_inclusive(), "admin")
        .await
        .unwrap();
    let preview = engine.preview_next(ACCOUNT, "taxed").await.unwrap();
    assert_eq!(
        [preview.subtotal, preview.tax, preview.total].map(|m| m.to_major().to_string()),
        ["10.00", "0.76", "10.00"]
    );
    assert!(preview.tax_inclusive);
    assert_eq!(preview.revenue().unwrap().to_major().to_string(), "9.24");
    // A preview writes nothing.
    assert_eq!(invoices(&f, "taxed").await.len(), 1);
}

#[tokio::test]
async fn a_plan_that_does_not_renew_ends_after_its_period() {
    let f = fixture(true).await;
    let mut plan = ai_plan("once", "$30 per month");
    plan.auto_renew = false;
    save(&f, plan).await.unwrap();
    f.clock.set(ny(2026, 1, 1, 9));
    let created = subscribe(&f, "s", "once", 1, date(2026, 1, 1))
        .await
        .unwrap();
    assert_eq!(created.subscription.status, SubscriptionStatus::Ended);
    assert_eq!(created.subscription.next_invoice_at, None);
    assert_eq!(run(&f, ny(2026, 12, 1, 0)).await.issued, 0);
    assert_eq!(invoices(&f, "s").await.len(), 1);
}

#[tokio::test]
async fn jurisdiction_tax_stacks_by_address_with_exemption_and_inclusive_sites() {
    let f = fixture(true).await;
    let table = ai_billing::tax::RateTable::from_json(
        r#"{"rules": [
            {"name": "CA state tax", "country": "US", "region": "CA", "rate": "0.0725"},
            {"name": "SF district tax", "country": "US", "region": "CA", "postal_prefix": "941", "rate": "0.0125"},
            {"name": "GST", "country": "CA", "rate": "0.05"},
            {"name": "QST", "country": "CA", "region": "QC", "rate": "0.09975"},
            {"name": "TVA", "country": "FR", "rate": "0.20"}
        ]}"#,
    )
    .unwrap();
    let engine = f.engine.clone().with_tax(Arc::new(table));
    let customers = [
        ("sf", "US", Some("CA"), Some("94103"), false),
        ("la", "US", Some("CA"), Some("90012"), false),
        ("sf_exempt", "US", Some("CA"), Some("94103"), true),
        ("montreal", "CA", Some("QC"), Some("H2X 1Y4"), false),
        ("berlin", "DE", None, Some("10115"), false),
    ];
    for (id, country, region, postal, exempt) in customers {
        engine
            .save_customer(
                &Customer {
                    tax_exempt: exempt,
                    ..Customer::new(ACCOUNT, id).with_tax_address(TaxAddress {
                        country: country.into(),
                        region: region.map(Into::into),
                        postal_code: postal.map(Into::into),
                    })
                },
                "admin",
            )
            .await
            .unwrap();
    }
    save(&f, ai_plan("p", "$59.99 per month")).await.unwrap();
    f.clock.set(ny(2026, 1, 1, 9));
    let mut taxed = Vec::new();
    for (id, ..) in customers {
        let created = engine
            .create_subscription(&CreateSubscription {
                account_id: ACCOUNT.into(),
                id: format!("sub_{id}"),
                customer_id: id.into(),
                plan_id: "p".into(),
                quantity: 1,
                start_date: date(2026, 1, 1),
                actor: "admin".into(),
                request_id: None,
            })
            .await
            .unwrap();
        let invoice = created.invoice.unwrap().invoice;
        let lines: Vec<String> = invoice
            .tax_lines
            .iter()
            .map(|l| format!("{} {}", l.name, l.amount.to_major()))
            .collect();
        taxed.push((
            id,
            lines,
            invoice.tax.to_major().to_string(),
            invoice.total.to_major().to_string(),
        ));
    }
    let expect = |id, lines: &[&str], tax: &str, total: &str| {
        (
            id,
            lines.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
            tax.to_string(),
            total.to_string(),
        )
    };
    assert_eq!(
        taxed,
        [
            // 59.99 x 7.25% = 4.349275 -> 4.35; x 1.25% = 0.749875 -> 0.75.
            expect(
                "sf",
                &["CA state tax 4.35", "SF district tax 0.75"],
                "5.10",
                "65.09"
            ),
            expect("la", &["CA state tax 4.35"], "4.35", "64.34"),
            expect("sf_exempt", &[], "0.00", "59.99"),
            // GST 59.99 x 5% = 2.9995 -> 3.00; QST x 9.975% = 5.9840025 -> 5.98.
            expect("montreal", &["GST 3.00", "QST 5.98"], "8.98", "68.97"),
            expect("berlin", &[], "0.00", "59.99"),
        ]
    );

    // A tax-inclusive site in France: 59.99 holds 20% VAT: net 59.99 / 1.2 = 49.991666 -> 49.99,
    // VAT 10.00; the revenue recognised is the net.
    engine
        .save_account(&Account::new(ACCOUNT, New_York).tax_inclusive(), "admin")
        .await
        .unwrap();
    engine
        .save_customer(
            &Customer::new(ACCOUNT, "paris").with_tax_address(TaxAddress {
                country: "FR".into(),
                region: None,
                postal_code: Some("75001".into()),
            }),
            "admin",
        )
        .await
        .unwrap();
    let created = engine
        .create_subscription(&CreateSubscription {
            account_id: ACCOUNT.into(),
            id: "sub_paris".into(),
            customer_id: "paris".into(),
            plan_id: "p".into(),
            quantity: 1,
            start_date: date(2026, 1, 1),
            actor: "admin".into(),
            request_id: None,
        })
        .await
        .unwrap();
    let invoice = created.invoice.unwrap().invoice;
    assert!(invoice.tax_inclusive);
    assert_eq!(
        [invoice.subtotal, invoice.tax, invoice.total].map(|m| m.to_major().to_string()),
        ["59.99", "10.00", "59.99"]
    );
    let recognised = invoice
        .revenue_schedule
        .iter()
        .map(|entry| entry.amount.minor())
        .sum::<i64>();
    assert_eq!(recognised, 4999);
}
