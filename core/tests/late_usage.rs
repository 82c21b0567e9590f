//! Late usage end to end on the in-memory store (`billing-conventions.md`, "Late usage"): a row
//! recorded after its period was billed is billed once, at the next renewal, priced by the
//! program that billed its period; a late return is a credit note; what comes later than the
//! look-back is reported (`late_usage_ignored`), never billed; a look-back of 0 reads nothing.

use std::sync::Arc;

use ai_billing::engine::{
    ChangePlan, ChangeQuantity, CreateSubscription, Proration, RunDue, SavePlan,
};
use ai_billing::store::{CreditNoteQuery, InvoiceQuery};
use ai_billing::tax::FlatRate;
use ai_billing::usage::{Return, Shipment};
use ai_billing::{AuditAction, Engine, FixedClock, FixtureStore, IssuedInvoice};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

mod support;
use support::{ACCOUNT, CUSTOMER, ai_plan, ny};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// 16:00 UTC on the date: when the deliveries of these tests are made.
fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 16, 0, 0).unwrap()
}

struct Fixture {
    store: Arc<dyn FixtureStore>,
    clock: Arc<FixedClock>,
    engine: Engine,
    rows: std::cell::Cell<u32>,
}

/// A subscription `sub` from Jan 15 2026 to a plan read from `prompt`, with a look-back of
/// `lookback` and a flat tax at `rate` when given.
async fn subscribed(prompt: &str, lookback: u32, rate: Option<&str>) -> Fixture {
    let (store, clock, engine) = support::setup(true).await;
    let mut engine = engine.with_late_usage_lookback(lookback).unwrap();
    if let Some(rate) = rate {
        engine = engine.with_tax(Arc::new(
            FlatRate::new("Tax", rate.parse::<Decimal>().unwrap()).unwrap(),
        ));
    }
    engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: ai_plan("plan", prompt),
            actor: "admin".into(),
        })
        .await
        .unwrap();
    clock.set(ny(2026, 1, 15, 0));
    engine
        .create_subscription(&CreateSubscription {
            account_id: ACCOUNT.into(),
            id: "sub".into(),
            customer_id: CUSTOMER.into(),
            plan_id: "plan".into(),
            quantity: 1,
            start_date: date(2026, 1, 15),
            actor: "admin".into(),
            request_id: None,
        })
        .await
        .unwrap();
    Fixture {
        store,
        clock,
        engine,
        rows: std::cell::Cell::new(0),
    }
}

impl Fixture {
    /// A billing run at 12:00 in New York on the date.
    async fn run(&self, y: i32, m: u32, d: u32) {
        let now = ny(y, m, d, 12);
        self.clock.set(now);
        let report = self
            .engine
            .run_due(&RunDue {
                now: Some(now),
                progress: None,
            })
            .await
            .unwrap();
        assert_eq!(report.failed, 0, "{:?}", report.failures);
    }

    /// One delivery of one copy on each day, recorded now.
    async fn deliver(&self, days: &[DateTime<Utc>]) {
        let rows: Vec<Shipment> = days
            .iter()
            .map(|day| {
                self.rows.set(self.rows.get() + 1);
                Shipment {
                    id: format!("s{}", self.rows.get()),
                    shipped_at: *day,
                    quantity: 1,
                }
            })
            .collect();
        self.store
            .insert_shipments(ACCOUNT, CUSTOMER, &rows)
            .await
            .unwrap();
    }

    async fn invoices(&self) -> Vec<IssuedInvoice> {
        self.store
            .invoices(&InvoiceQuery {
                account_id: Some(ACCOUNT.into()),
                subscription_id: Some("sub".into()),
                limit: None,
                ..Default::default()
            })
            .await
            .unwrap()
    }

    /// Each invoice as (issue date, [(description, amount)]).
    async fn lines(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.invoices()
            .await
            .into_iter()
            .map(|i| {
                (
                    i.invoice.issue_date.to_string(),
                    i.invoice
                        .line_items
                        .iter()
                        .map(|l| (l.description.clone(), l.amount.to_major().to_string()))
                        .collect(),
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

    async fn ignored_events(&self) -> Vec<serde_json::Value> {
        self.store
            .events_for(ACCOUNT, "sub")
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == AuditAction::LateUsageIgnored)
            .map(|e| e.data)
            .collect()
    }
}

fn days(y: i32, m: u32, from: u32, count: u32) -> Vec<DateTime<Utc>> {
    (0..count).map(|i| at(y, m, from + i)).collect()
}

fn owned(lines: &[(&str, &str)]) -> Vec<(String, String)> {
    lines
        .iter()
        .map(|(d, a)| ((*d).to_owned(), (*a).to_owned()))
        .collect()
}

#[tokio::test]
async fn the_conventions_example_bills_the_late_shipments_on_the_next_invoice() {
    let f = subscribed("$0.50 per delivery", 2, None).await;
    f.deliver(&days(2026, 1, 16, 10)).await;
    f.run(2026, 2, 15).await;
    // 4 more shipped on Feb 10, recorded on Feb 20; 6 in the second period.
    f.clock.set(at(2026, 2, 20));
    f.deliver(&[at(2026, 2, 10); 4]).await;
    f.deliver(&days(2026, 2, 16, 6)).await;
    f.run(2026, 3, 15).await;
    f.run(2026, 4, 15).await;
    let lines = f.lines().await;
    assert_eq!(
        lines,
        vec![
            (
                "2026-02-15".into(),
                owned(&[("Usage (Shipment) charge (10 shipments)", "5.00")])
            ),
            (
                "2026-03-15".into(),
                owned(&[
                    ("Usage (Shipment) charge (6 shipments)", "3.00"),
                    (
                        "Late usage, period 1 (2026-01-15 to 2026-02-15): +4 shipments",
                        "2.00"
                    ),
                ])
            ),
            // Billed once: the next renewal finds nothing new.
            (
                "2026-04-15".into(),
                owned(&[("Usage (Shipment) charge (0 shipments)", "0.00")])
            ),
        ]
    );
    // The invoice keeps what it was billed on; the late line's revenue belongs to period 1.
    let invoices = f.invoices().await;
    let march = &invoices[1];
    assert_eq!(march.usage.period.unwrap().total_shipments(), 6);
    assert_eq!(march.usage.late.len(), 1);
    assert_eq!(march.usage.late[0].billed.total_shipments(), 10);
    assert_eq!(march.usage.late[0].now.total_shipments(), 14);
    let january: i64 = march
        .invoice
        .revenue_schedule
        .iter()
        .filter(|e| e.start < date(2026, 2, 15))
        .map(|e| e.amount.minor())
        .sum();
    assert_eq!(january, 200);
    assert!(f.credit_notes().await.is_empty());
    assert!(f.ignored_events().await.is_empty());
}

#[tokio::test]
async fn a_late_return_is_a_credit_note_against_its_periods_invoice_with_its_tax() {
    let f = subscribed(
        "Charge $1 per shipment; returned shipments are not billed.",
        2,
        Some("0.0825"),
    )
    .await;
    f.deliver(&days(2026, 1, 16, 12)).await;
    f.run(2026, 2, 15).await;
    f.clock.set(at(2026, 2, 25));
    f.store
        .insert_returns(
            ACCOUNT,
            CUSTOMER,
            &[Return {
                id: "r1".into(),
                shipment_id: "s3".into(),
                returned_at: at(2026, 2, 12),
                quantity: 1,
            }],
        )
        .await
        .unwrap();
    f.run(2026, 3, 15).await;
    // Feb 15: 12.00 + tax 0.99; the credit note on Mar 15: 1.00 + tax 0.08 (at the invoice's rate).
    assert_eq!(
        f.credit_notes().await,
        vec![(
            "2026-03-15".into(),
            "2026-01-15".into(),
            "1.00".into(),
            "0.08".into(),
            "1.08".into()
        )]
    );
    let invoices = f.invoices().await;
    assert_eq!(invoices[1].invoice.subtotal.to_major().to_string(), "0.00");
    assert_eq!(invoices[1].usage.late.len(), 1);
}

#[tokio::test]
async fn usage_later_than_the_lookback_is_reported_and_never_billed() {
    let f = subscribed("$0.50 per delivery", 2, None).await;
    f.deliver(&days(2026, 1, 16, 10)).await;
    f.run(2026, 2, 15).await;
    f.run(2026, 3, 15).await;
    f.run(2026, 4, 15).await;
    // Period 1 was read again on Mar 15 and Apr 15; a row recorded after that is past the
    // look-back: the May 15 renewal reports it.
    f.clock.set(at(2026, 4, 20));
    f.deliver(&[at(2026, 2, 1)]).await;
    f.run(2026, 5, 15).await;
    f.run(2026, 6, 15).await;
    let subtotals: Vec<String> = f
        .invoices()
        .await
        .iter()
        .map(|i| i.invoice.subtotal.to_major().to_string())
        .collect();
    assert_eq!(subtotals, ["5.00", "0.00", "0.00", "0.00", "0.00"]);
    let ignored = f.ignored_events().await;
    assert_eq!(ignored.len(), 1, "{ignored:?}");
    assert_eq!(ignored[0]["period"], 1);
    assert_eq!(ignored[0]["changed"], "+1 shipment");
    assert_eq!(ignored[0]["lookback"], 2);
}

#[tokio::test]
async fn a_lookback_of_zero_reads_nothing_again() {
    let f = subscribed("$0.50 per delivery", 0, None).await;
    f.deliver(&days(2026, 1, 16, 10)).await;
    f.run(2026, 2, 15).await;
    f.clock.set(at(2026, 2, 20));
    f.deliver(&[at(2026, 2, 10)]).await;
    f.run(2026, 3, 15).await;
    let subtotals: Vec<String> = f
        .invoices()
        .await
        .iter()
        .map(|i| i.invoice.subtotal.to_major().to_string())
        .collect();
    assert_eq!(subtotals, ["5.00", "0.00"]);
    assert!(f.ignored_events().await.is_empty());
    let subscription = f
        .engine
        .store()
        .subscription(ACCOUNT, "sub")
        .await
        .unwrap()
        .unwrap();
    assert!(subscription.billed_usage.is_empty());
    assert!(
        Engine::new(f.engine.store().clone())
            .with_late_usage_lookback(13)
            .is_err()
    );
}

#[tokio::test]
async fn late_usage_is_priced_by_the_program_that_billed_its_period() {
    // A tier that the late rows cross: the first 10 deliveries at $1, the rest at $0.50.
    let f = subscribed(
        "$1 per delivery for the first 10 deliveries, then $0.50 per delivery",
        2,
        None,
    )
    .await;
    f.deliver(&days(2026, 1, 16, 8)).await;
    f.run(2026, 2, 15).await;
    // The plan changes its price before the late rows arrive: period 1 keeps version 1's.
    f.engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: ai_plan("plan", "$2 per delivery"),
            actor: "admin".into(),
        })
        .await
        .unwrap();
    f.clock.set(at(2026, 2, 20));
    f.deliver(&[
        at(2026, 2, 1),
        at(2026, 2, 2),
        at(2026, 2, 3),
        at(2026, 2, 4),
    ])
    .await;
    f.run(2026, 3, 15).await;
    let lines = f.lines().await;
    // 8 -> 12 deliveries: 2 more at $1 and 2 at $0.50.
    assert_eq!(
        lines[1].1.last().unwrap(),
        &(
            "Late usage, period 1 (2026-01-15 to 2026-02-15): +4 shipments".to_owned(),
            "3.00".to_owned()
        )
    );
}

#[tokio::test]
async fn a_catch_up_run_settles_late_usage_once_and_after_a_plan_change_by_the_old_plan() {
    let f = subscribed("$0.50 per delivery", 2, None).await;
    f.engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: ai_plan("other", "$3 per delivery"),
            actor: "admin".into(),
        })
        .await
        .unwrap();
    f.deliver(&days(2026, 1, 16, 10)).await;
    f.run(2026, 2, 15).await;
    // Late rows for period 1, then a plan change at period end, then a run that catches up
    // two periods at once.
    f.clock.set(at(2026, 2, 20));
    f.deliver(&[at(2026, 2, 5), at(2026, 2, 6)]).await;
    f.engine
        .change_plan(&ChangePlan {
            account_id: ACCOUNT.into(),
            subscription_id: "sub".into(),
            plan_id: "other".into(),
            effective: ai_billing::changes::Effective::PeriodEnd,
            actor: "admin".into(),
            request_id: None,
        })
        .await
        .unwrap();
    f.deliver(&days(2026, 3, 16, 2)).await;
    f.run(2026, 4, 16).await;
    let lines = f.lines().await;
    let late: Vec<&(String, String)> = lines
        .iter()
        .flat_map(|(_, lines)| lines)
        .filter(|(d, _)| d.starts_with("Late usage"))
        .collect();
    // Billed once, at $0.50 (the old plan's price), on the first invoice after the rows came.
    assert_eq!(
        late,
        vec![&(
            "Late usage, period 1 (2026-01-15 to 2026-02-15): +2 shipments".to_owned(),
            "1.00".to_owned()
        )]
    );
}

#[tokio::test]
async fn late_usage_of_a_prorated_period_keeps_its_served_days() {
    // A minimum of $10 a month, prorated by the served days of a quantity change.
    let f = subscribed("$1 per delivery with a $10 monthly minimum", 2, None).await;
    f.clock.set(at(2026, 1, 20));
    f.engine
        .change_quantity(&ChangeQuantity {
            account_id: ACCOUNT.into(),
            subscription_id: "sub".into(),
            quantity: 2,
            proration: Proration::Prorate,
            effective: ai_billing::changes::Effective::Immediately,
            actor: "admin".into(),
            request_id: None,
        })
        .await
        .unwrap();
    f.deliver(&days(2026, 1, 21, 3)).await;
    f.run(2026, 2, 15).await;
    let first = f.invoices().await[0].invoice.subtotal;
    f.clock.set(at(2026, 2, 20));
    f.deliver(&days(2026, 2, 1, 12)).await;
    f.run(2026, 3, 15).await;
    let invoices = f.invoices().await;
    let late: i64 = invoices[1]
        .invoice
        .line_items
        .iter()
        .filter(|l| l.description.starts_with("Late usage"))
        .map(|l| l.amount.minor())
        .sum();
    // Period 1 as billed: the minimum applied (3 deliveries); now 15 deliveries are 15.00.
    assert_eq!(first.minor() + late, 1500, "{invoices:#?}");
}

#[tokio::test]
async fn a_rebilled_period_takes_its_late_rows_and_a_voided_one_bills_none() {
    use ai_billing::subscription::InvoiceStatus;
    // Period 1 billed on 10 rows; 4 more recorded late, then the invoice is voided and billed
    // again from the current data: the new invoice bills 14, and the next renewal finds nothing
    // late (it compares with what the new invoice was billed on).
    let f = subscribed("$0.50 per delivery", 2, None).await;
    f.deliver(&days(2026, 1, 16, 10)).await;
    f.run(2026, 2, 15).await;
    f.clock.set(at(2026, 2, 20));
    f.deliver(&[at(2026, 2, 10); 4]).await;
    let first = f.invoices().await[0].id.clone();
    let voided = void(&f, first, true).await;
    let rebilled = voided.rebilled.unwrap();
    assert_eq!(rebilled.invoice.total.to_major().to_string(), "7.00");
    assert_eq!(rebilled.usage.period.unwrap().total_shipments(), 14);
    f.run(2026, 3, 15).await;
    let march = f.invoices().await.pop().unwrap();
    assert_eq!(
        march
            .invoice
            .line_items
            .iter()
            .map(|l| l.description.as_str())
            .collect::<Vec<_>>(),
        ["Usage (Shipment) charge (0 shipments)"],
        "the re-billing billed the late rows; nothing is billed twice"
    );

    // Voided without a re-billing, the period is billed by nothing: rows recorded late for it
    // are neither billed on a later invoice nor credited against the void one.
    let f = subscribed("$0.50 per delivery", 2, None).await;
    f.deliver(&days(2026, 1, 16, 10)).await;
    f.run(2026, 2, 15).await;
    let first = f.invoices().await[0].id.clone();
    f.clock.set(at(2026, 2, 20));
    void(&f, first, false).await;
    f.deliver(&[at(2026, 2, 10); 4]).await;
    f.run(2026, 3, 15).await;
    let invoices = f.invoices().await;
    assert_eq!(invoices[0].status, InvoiceStatus::Void);
    assert_eq!(invoices[1].invoice.line_items.len(), 1, "{:?}", invoices[1]);
    assert!(f.credit_notes().await.is_empty());
}

async fn void(f: &Fixture, invoice_id: String, rebill: bool) -> ai_billing::engine::VoidedInvoice {
    f.engine
        .void_invoice(&ai_billing::engine::VoidInvoice {
            account_id: ACCOUNT.into(),
            invoice_id,
            rebill,
            actor: "ops".into(),
            reason: "issued on wrong data".into(),
            request_id: None,
        })
        .await
        .unwrap()
}
