//! Subscription changes end to end on the in-memory store: the worked numbers of
//! `billing-conventions.md` ("Subscription changes"), each change made at 15:00 UTC on its date
//! between billing runs, and the rules a change must keep (no backdating, no overlapping pause,
//! nothing billed after the end).

use std::sync::Arc;

use ai_billing::changes::{Effective, Pause};
use ai_billing::engine::{
    CancelSubscription, ChangeQuantity, CreateSubscription, PauseSubscription, Proration, RunDue,
    SavePlan, WithdrawCancel,
};
use ai_billing::store::{CreditNoteQuery, InvoiceQuery};
use ai_billing::tax::FlatRate;
use ai_billing::usage::Shipment;
use ai_billing::{Engine, Error, FixedClock, FixtureStore, SubscriptionStatus};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

mod support;
use support::{ACCOUNT, CUSTOMER, ai_plan};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// 15:00 UTC on the date: when the worked examples make their changes.
fn made(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 15, 0, 0).unwrap()
}

struct Fixture {
    store: Arc<dyn FixtureStore>,
    clock: Arc<FixedClock>,
    engine: Engine,
}

/// The account of `support::setup`, with a flat tax at `rate` (none when `None`), a plan read
/// from `prompt`, and subscription `sub` of `quantity` from `start`, created on its start date.
async fn subscribed(prompt: &str, rate: Option<&str>, quantity: u32, start: NaiveDate) -> Fixture {
    let (store, clock, engine) = support::setup(true).await;
    let engine = match rate {
        Some(rate) => engine.with_tax(Arc::new(
            FlatRate::new("Tax", rate.parse::<Decimal>().unwrap()).unwrap(),
        )),
        None => engine,
    };
    engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: ai_plan("plan", prompt),
            actor: "admin".into(),
        })
        .await
        .unwrap();
    clock.set(support::ny(start.year(), start.month(), start.day(), 0));
    engine
        .create_subscription(&CreateSubscription {
            account_id: ACCOUNT.into(),
            id: "sub".into(),
            customer_id: CUSTOMER.into(),
            plan_id: "plan".into(),
            quantity,
            start_date: start,
            actor: "admin".into(),
            request_id: None,
        })
        .await
        .unwrap();
    Fixture {
        store,
        clock,
        engine,
    }
}

use chrono::Datelike;

impl Fixture {
    async fn run(&self, now: DateTime<Utc>) {
        self.clock.set(now);
        self.engine
            .run_due(&RunDue {
                now: Some(now),
                progress: None,
            })
            .await
            .unwrap();
    }

    /// Each invoice as (issue date, period start, period end, subtotal, tax).
    async fn invoices(&self) -> Vec<(String, String, String, String, String)> {
        self.store
            .invoices(&InvoiceQuery {
                account_id: Some(ACCOUNT.into()),
                subscription_id: Some("sub".into()),
                limit: None,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|i| {
                let i = i.invoice;
                (
                    i.issue_date.to_string(),
                    i.period_start.to_string(),
                    i.period_end.to_string(),
                    i.subtotal.to_major().to_string(),
                    i.tax.to_major().to_string(),
                )
            })
            .collect()
    }

    /// Each credit note as (issue date, credited period start, subtotal, tax, total).
    async fn credit_notes(&self) -> Vec<(String, String, String, String, String)> {
        self.engine
            .credit_notes(&CreditNoteQuery {
                account_id: ACCOUNT.into(),
                subscription_id: Some("sub".into()),
                limit: None,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|n| {
                (
                    n.issue_date.to_string(),
                    n.invoice_period_start.to_string(),
                    n.subtotal.to_major().to_string(),
                    n.tax.to_major().to_string(),
                    n.total.to_major().to_string(),
                )
            })
            .collect()
    }

    async fn cancel(&self, at: DateTime<Utc>, effective: Effective) -> ai_billing::Result<()> {
        self.clock.set(at);
        self.engine
            .cancel_subscription(&CancelSubscription {
                account_id: ACCOUNT.into(),
                subscription_id: "sub".into(),
                effective,
                credit_unused: true,
                actor: "support".into(),
                request_id: None,
            })
            .await
            .map(|_| ())
    }

    async fn resume(&self, at: DateTime<Utc>, on: NaiveDate) -> ai_billing::Result<()> {
        self.clock.set(at);
        self.engine
            .resume_subscription(&ai_billing::engine::ResumeSubscription {
                account_id: ACCOUNT.into(),
                subscription_id: "sub".into(),
                on,
                actor: "support".into(),
                request_id: None,
            })
            .await
            .map(|_| ())
    }

    async fn pause(&self, at: DateTime<Utc>, pause: Pause) -> ai_billing::Result<()> {
        self.clock.set(at);
        self.engine
            .pause_subscription(&PauseSubscription {
                account_id: ACCOUNT.into(),
                subscription_id: "sub".into(),
                from: pause.from,
                until: pause.until,
                actor: "support".into(),
                request_id: None,
            })
            .await
            .map(|_| ())
    }
}

fn row(
    issue: &str,
    start: &str,
    end: &str,
    subtotal: &str,
    tax: &str,
) -> (String, String, String, String, String) {
    (
        issue.into(),
        start.into(),
        end.into(),
        subtotal.into(),
        tax.into(),
    )
}

fn note(
    issue: &str,
    start: &str,
    subtotal: &str,
    tax: &str,
    total: &str,
) -> (String, String, String, String, String) {
    (
        issue.into(),
        start.into(),
        subtotal.into(),
        tax.into(),
        total.into(),
    )
}

#[tokio::test]
async fn cancel_immediately_in_advance_credits_the_unserved_days() {
    let f = subscribed("$31 per month", Some("0.0825"), 1, date(2026, 1, 15)).await;
    f.cancel(made(2026, 2, 3), Effective::Immediately)
        .await
        .unwrap();
    f.run(made(2026, 6, 1)).await;
    assert_eq!(
        f.invoices().await,
        vec![row(
            "2026-01-15",
            "2026-01-15",
            "2026-02-15",
            "31.00",
            "2.56"
        )]
    );
    assert_eq!(
        f.credit_notes().await,
        vec![note("2026-02-04", "2026-01-15", "11.00", "0.91", "11.91")]
    );
    let sub = f.store.subscription(ACCOUNT, "sub").await.unwrap().unwrap();
    assert_eq!(sub.status, SubscriptionStatus::Canceled);
    assert_eq!(sub.next_invoice_at, None);
}

#[tokio::test]
async fn cancel_immediately_in_arrears_issues_a_final_invoice() {
    let f = subscribed(
        "A $15 monthly base fee plus $0.50 per delivery",
        Some("0.0825"),
        1,
        date(2026, 1, 15),
    )
    .await;
    let shipments: Vec<Shipment> = (0..60)
        .map(|n| Shipment {
            id: format!("s{n}"),
            shipped_at: Utc.with_ymd_and_hms(2026, 1, 15, 16, 0, 0).unwrap() + chrono::Days::new(n),
            quantity: 1,
        })
        .collect();
    f.store
        .insert_shipments(ACCOUNT, CUSTOMER, &shipments)
        .await
        .unwrap();
    f.cancel(made(2026, 2, 2), Effective::Immediately)
        .await
        .unwrap();
    f.run(made(2026, 6, 1)).await;
    assert_eq!(
        f.invoices().await,
        vec![row(
            "2026-02-03",
            "2026-01-15",
            "2026-02-03",
            "18.69",
            "1.54"
        )]
    );
    assert!(f.credit_notes().await.is_empty());
}

#[tokio::test]
async fn cancel_at_period_end_bills_the_current_period_and_nothing_after() {
    let f = subscribed("$20 per month", None, 1, date(2026, 1, 15)).await;
    f.run(made(2026, 2, 16)).await;
    f.cancel(made(2026, 2, 20), Effective::PeriodEnd)
        .await
        .unwrap();
    f.run(made(2026, 6, 1)).await;
    assert_eq!(
        f.invoices().await,
        vec![
            row("2026-01-15", "2026-01-15", "2026-02-15", "20.00", "0.00"),
            row("2026-02-15", "2026-02-15", "2026-03-15", "20.00", "0.00"),
        ]
    );
    assert!(f.credit_notes().await.is_empty());
}

#[tokio::test]
async fn a_pause_inside_a_billed_period_is_credited_on_its_first_day() {
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    let hold = Pause {
        from: date(2026, 3, 1),
        until: Some(date(2026, 3, 8)),
    };
    f.pause(made(2026, 2, 20), hold).await.unwrap();
    f.run(made(2026, 4, 20)).await;
    assert_eq!(
        f.invoices()
            .await
            .into_iter()
            .map(|r| r.3)
            .collect::<Vec<_>>(),
        ["31.00", "31.00", "31.00", "31.00"]
    );
    assert_eq!(
        f.credit_notes().await,
        vec![note("2026-03-01", "2026-02-15", "7.75", "0.00", "7.75")]
    );
}

#[tokio::test]
async fn a_pause_known_before_a_period_is_billed_is_prorated_on_it() {
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    let hold = Pause {
        from: date(2026, 3, 20),
        until: Some(date(2026, 4, 5)),
    };
    f.pause(made(2026, 1, 20), hold).await.unwrap();
    f.run(made(2026, 4, 20)).await;
    assert_eq!(
        f.invoices()
            .await
            .into_iter()
            .map(|r| r.3)
            .collect::<Vec<_>>(),
        ["31.00", "31.00", "15.00", "31.00"]
    );
    assert!(f.credit_notes().await.is_empty());
}

#[tokio::test]
async fn a_prorated_quantity_increase_is_a_line_on_the_next_invoice() {
    let f = subscribed("$12 per month for each copy", None, 2, date(2026, 4, 1)).await;
    f.clock.set(made(2026, 4, 10));
    f.engine
        .change_quantity(&ChangeQuantity {
            account_id: ACCOUNT.into(),
            subscription_id: "sub".into(),
            quantity: 3,
            proration: Proration::Prorate,
            effective: Effective::Immediately,
            actor: "support".into(),
            request_id: None,
        })
        .await
        .unwrap();
    f.run(made(2026, 6, 2)).await;
    assert_eq!(
        f.invoices()
            .await
            .into_iter()
            .map(|r| r.3)
            .collect::<Vec<_>>(),
        ["24.00", "44.00", "36.00"]
    );
    assert!(f.credit_notes().await.is_empty());
}

#[tokio::test]
async fn changes_are_checked() {
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    // No backdating.
    match f
        .cancel(made(2026, 2, 3), Effective::On(date(2026, 2, 2)))
        .await
    {
        Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "cancel.effective"),
        other => panic!("{other:?}"),
    }
    // Overlapping pauses conflict; two made on the same day back to back do not.
    let hold = |from, until| Pause {
        from,
        until: Some(until),
    };
    f.pause(made(2026, 2, 3), hold(date(2026, 3, 1), date(2026, 3, 8)))
        .await
        .unwrap();
    f.pause(made(2026, 2, 3), hold(date(2026, 3, 8), date(2026, 3, 9)))
        .await
        .unwrap();
    assert_eq!(
        f.pause(made(2026, 2, 3), hold(date(2026, 3, 5), date(2026, 3, 6)))
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "CONFLICT"
    );
    // A cancellation withdrawn before it takes effect bills on as before.
    f.cancel(made(2026, 2, 3), Effective::On(date(2026, 4, 1)))
        .await
        .unwrap();
    f.clock.set(made(2026, 2, 4));
    f.engine
        .withdraw_cancel(&WithdrawCancel {
            account_id: ACCOUNT.into(),
            subscription_id: "sub".into(),
            actor: "support".into(),
            request_id: None,
        })
        .await
        .unwrap();
    f.run(made(2026, 5, 20)).await;
    assert_eq!(f.invoices().await.len(), 5);
    // After its end a subscription cannot be changed.
    f.cancel(made(2026, 5, 20), Effective::Immediately)
        .await
        .unwrap();
    f.run(made(2026, 5, 22)).await;
    match f.cancel(made(2026, 5, 22), Effective::Immediately).await {
        Err(Error::InvalidInput { field, reason }) => {
            assert_eq!(field, "subscription.status");
            assert!(reason.contains("canceled"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

impl Fixture {
    async fn change_plan(&self, at: DateTime<Utc>, prompt: &str, effective: Effective) {
        self.engine
            .save_plan(&SavePlan {
                account_id: ACCOUNT.into(),
                plan: ai_plan("plan_2", prompt),
                actor: "admin".into(),
            })
            .await
            .unwrap();
        self.clock.set(at);
        self.engine
            .change_plan(&ai_billing::engine::ChangePlan {
                account_id: ACCOUNT.into(),
                subscription_id: "sub".into(),
                plan_id: "plan_2".into(),
                effective,
                actor: "support".into(),
                request_id: None,
            })
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_plan_change_at_period_end_keeps_the_anchor_day() {
    let f = subscribed("$20 per month", None, 1, date(2026, 1, 31)).await;
    f.change_plan(
        made(2026, 2, 10),
        "Bill $5 for the first month and increase by $1 per month",
        Effective::PeriodEnd,
    )
    .await;
    f.run(made(2026, 4, 1)).await;
    assert_eq!(
        f.invoices().await,
        vec![
            row("2026-01-31", "2026-01-31", "2026-02-28", "20.00", "0.00"),
            row("2026-02-28", "2026-02-28", "2026-03-31", "5.00", "0.00"),
            row("2026-03-31", "2026-03-31", "2026-04-30", "6.00", "0.00"),
        ]
    );
    let sub = f.store.subscription(ACCOUNT, "sub").await.unwrap().unwrap();
    assert_eq!(sub.plan_id, "plan_2");
}

#[tokio::test]
async fn an_immediate_plan_change_credits_the_old_plan_and_bills_a_partial_first_period() {
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    f.change_plan(
        made(2026, 2, 3),
        "Bill $20 for the first month and increase by $2 per month",
        Effective::Immediately,
    )
    .await;
    f.run(made(2026, 3, 16)).await;
    assert_eq!(
        f.invoices().await,
        vec![
            row("2026-01-15", "2026-01-15", "2026-02-15", "31.00", "0.00"),
            row("2026-02-04", "2026-02-04", "2026-02-15", "7.10", "0.00"),
            row("2026-02-15", "2026-02-15", "2026-03-15", "22.00", "0.00"),
            row("2026-03-15", "2026-03-15", "2026-04-15", "24.00", "0.00"),
        ]
    );
    assert_eq!(
        f.credit_notes().await,
        vec![note("2026-02-04", "2026-01-15", "11.00", "0.00", "11.00")]
    );
}

#[tokio::test]
async fn an_immediate_change_to_a_usage_plan_bills_the_partial_period_in_arrears() {
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    let shipments: Vec<Shipment> = (0..60)
        .map(|n| Shipment {
            id: format!("s{n}"),
            shipped_at: Utc.with_ymd_and_hms(2026, 1, 15, 16, 0, 0).unwrap() + chrono::Days::new(n),
            quantity: 1,
        })
        .collect();
    f.store
        .insert_shipments(ACCOUNT, CUSTOMER, &shipments)
        .await
        .unwrap();
    f.change_plan(
        made(2026, 2, 3),
        "$0.50 per delivery",
        Effective::Immediately,
    )
    .await;
    f.run(made(2026, 3, 16)).await;
    assert_eq!(
        f.invoices().await,
        vec![
            row("2026-01-15", "2026-01-15", "2026-02-15", "31.00", "0.00"),
            row("2026-02-15", "2026-02-04", "2026-02-15", "5.50", "0.00"),
            row("2026-03-15", "2026-02-15", "2026-03-15", "14.00", "0.00"),
        ]
    );
    assert_eq!(
        f.credit_notes().await,
        vec![note("2026-02-04", "2026-01-15", "11.00", "0.00", "11.00")]
    );
}

// Edge cases other billing systems' users reported (Kill Bill, Lago), as tests.

#[tokio::test]
async fn a_cancellation_effective_on_a_billing_day_bills_nothing_from_that_day() {
    // Made before the billing day: the period starting on it is never billed.
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    f.cancel(made(2026, 2, 20), Effective::On(date(2026, 3, 15)))
        .await
        .unwrap();
    f.run(made(2026, 6, 1)).await;
    assert_eq!(f.invoices().await.len(), 2);
    assert!(f.credit_notes().await.is_empty());
    // Made on the billing day itself, after the run billed it: the whole period is credited.
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    f.run(made(2026, 3, 15)).await;
    f.cancel(made(2026, 3, 15), Effective::On(date(2026, 3, 15)))
        .await
        .unwrap();
    f.run(made(2026, 6, 1)).await;
    assert_eq!(f.invoices().await.len(), 3);
    assert_eq!(
        f.credit_notes().await,
        vec![note("2026-03-15", "2026-03-15", "31.00", "0.00", "31.00")]
    );
    let sub = f.store.subscription(ACCOUNT, "sub").await.unwrap().unwrap();
    assert_eq!(sub.status, SubscriptionStatus::Canceled);
}

#[tokio::test]
async fn an_immediate_cancellation_takes_effect_at_the_next_local_midnight_far_from_utc() {
    // 15:00 UTC on Feb 3 is already Feb 4 in Kiritimati (UTC+14) and still Feb 3 in Pago Pago
    // (UTC-11): the first unserved day is the day after the local date.
    for (zone, unserved_from, credited) in [
        (chrono_tz::Pacific::Kiritimati, "2026-02-05", "10.00"),
        (chrono_tz::Pacific::Pago_Pago, "2026-02-04", "11.00"),
    ] {
        let g = MemoryStoreFixture::new(zone)
            .await
            .subscribe("$31 per month", date(2026, 1, 15))
            .await;
        g.cancel(made(2026, 2, 3), Effective::Immediately)
            .await
            .unwrap();
        g.run(made(2026, 6, 1)).await;
        let notes = g.credit_notes().await;
        assert_eq!(notes.len(), 1, "{zone}");
        assert_eq!(notes[0].0, unserved_from, "{zone}");
        assert_eq!(notes[0].2, credited, "{zone}");
    }
}

/// A fixture whose account is in `zone`.
struct MemoryStoreFixture {
    zone: chrono_tz::Tz,
}

impl MemoryStoreFixture {
    async fn new(zone: chrono_tz::Tz) -> Self {
        MemoryStoreFixture { zone }
    }

    async fn subscribe(&self, prompt: &str, start: NaiveDate) -> Fixture {
        use ai_billing::{Account, Customer, MemoryStore};
        let store: Arc<dyn FixtureStore> = Arc::new(MemoryStore::default());
        let local_start = self
            .zone
            .from_local_datetime(&start.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .to_utc();
        let clock = Arc::new(FixedClock::new(local_start));
        let engine = Engine::new(store.clone()).with_clock(clock.clone());
        let account = Account {
            abstracted: true,
            ..Account::new(ACCOUNT, self.zone)
        };
        engine.save_account(&account, "admin").await.unwrap();
        engine
            .save_customer(&Customer::new(ACCOUNT, CUSTOMER), "admin")
            .await
            .unwrap();
        engine
            .save_plan(&SavePlan {
                account_id: ACCOUNT.into(),
                plan: ai_plan("plan", prompt),
                actor: "admin".into(),
            })
            .await
            .unwrap();
        engine
            .create_subscription(&CreateSubscription {
                account_id: ACCOUNT.into(),
                id: "sub".into(),
                customer_id: CUSTOMER.into(),
                plan_id: "plan".into(),
                quantity: 1,
                start_date: start,
                actor: "admin".into(),
                request_id: None,
            })
            .await
            .unwrap();
        Fixture {
            store,
            clock,
            engine,
        }
    }
}

#[tokio::test]
async fn a_hold_spanning_several_periods_bills_each_period_its_served_days() {
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    let hold = Pause {
        from: date(2026, 2, 1),
        until: Some(date(2026, 4, 20)),
    };
    f.pause(made(2026, 1, 20), hold).await.unwrap();
    f.run(made(2026, 5, 16)).await;
    // Jan 15 was billed before the hold was made: 14 of its 31 days are credited on Feb 1.
    assert_eq!(
        f.invoices()
            .await
            .into_iter()
            .map(|r| r.3)
            .collect::<Vec<_>>(),
        ["31.00", "0.00", "0.00", "25.83", "31.00"]
    );
    assert_eq!(
        f.credit_notes().await,
        vec![note("2026-02-01", "2026-01-15", "14.00", "0.00", "14.00")]
    );
}

#[tokio::test]
async fn a_resume_before_the_hold_began_removes_or_shortens_it() {
    let hold = Pause {
        from: date(2026, 3, 1),
        until: Some(date(2026, 3, 31)),
    };
    // Resumed on its first day: the hold is gone.
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    f.pause(made(2026, 1, 20), hold).await.unwrap();
    f.resume(made(2026, 2, 10), date(2026, 3, 1)).await.unwrap();
    f.run(made(2026, 4, 16)).await;
    assert_eq!(
        f.invoices()
            .await
            .into_iter()
            .map(|r| r.3)
            .collect::<Vec<_>>(),
        ["31.00", "31.00", "31.00", "31.00"]
    );
    // Resumed on Mar 10, before the hold began: Feb 15 - Mar 15 serves 19 of 28 days.
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    f.pause(made(2026, 1, 20), hold).await.unwrap();
    f.resume(made(2026, 2, 10), date(2026, 3, 10))
        .await
        .unwrap();
    f.run(made(2026, 4, 16)).await;
    assert_eq!(
        f.invoices()
            .await
            .into_iter()
            .map(|r| r.3)
            .collect::<Vec<_>>(),
        ["31.00", "21.04", "31.00", "31.00"]
    );
    assert!(f.credit_notes().await.is_empty());
}

#[tokio::test]
async fn an_open_hold_bills_nothing_until_resumed_and_the_resume_is_an_increase() {
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    let hold = Pause {
        from: date(2026, 2, 15),
        until: None,
    };
    f.pause(made(2026, 2, 10), hold).await.unwrap();
    f.run(made(2026, 4, 20)).await;
    f.resume(made(2026, 4, 20), date(2026, 4, 25))
        .await
        .unwrap();
    f.run(made(2026, 5, 16)).await;
    // Apr 15 - May 15 was billed 0.00 while open; 20 of its 30 days are served after all.
    assert_eq!(
        f.invoices()
            .await
            .into_iter()
            .map(|r| r.3)
            .collect::<Vec<_>>(),
        ["31.00", "0.00", "0.00", "0.00", "51.67"]
    );
}

#[tokio::test]
async fn the_preview_of_a_subscription_that_ends_says_so() {
    let f = subscribed("$31 per month", None, 1, date(2026, 1, 15)).await;
    f.cancel(made(2026, 2, 3), Effective::PeriodEnd)
        .await
        .unwrap();
    match f.engine.preview_next(ACCOUNT, "sub").await {
        Err(Error::InvalidInput { field, reason }) => {
            assert_eq!(field, "subscription.status");
            assert!(reason.contains("is canceled from 2026-02-15"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    f.run(made(2026, 2, 16)).await;
    match f.engine.preview_next(ACCOUNT, "sub").await {
        Err(Error::InvalidInput { reason, .. }) => assert!(reason.contains("canceled"), "{reason}"),
        other => panic!("{other:?}"),
    }
}
