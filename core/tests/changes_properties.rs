//! Property tests of subscription changes: any sequence of cancellations, withdrawals, pauses,
//! resumes and quantity changes, made at any instants between billing runs, on a plan billed in
//! advance and on one billed in arrears (with a delivery every day). Checked against an oracle
//! that follows the conventions day by day (a day is served unless on or after the end or inside
//! a pause; a period owes, at each quantity, `round(price x quantity x days / period_days)`, and
//! its deliveries up to the end):
//! - what was invoiced, net of credit notes, is what the served days owe, to the cent;
//! - no invoice or credit note is negative, and none bills a day after the end;
//! - the revenue recognised equals what was billed net of credits.

use std::collections::BTreeMap;

use ai_billing::calendar::BillingCalendar;
use ai_billing::changes::Effective;
use ai_billing::engine::{
    CancelSubscription, ChangeQuantity, CreateSubscription, PauseSubscription, Proration,
    ResumeSubscription, RunDue, SavePlan, WithdrawCancel,
};
use ai_billing::store::{CreditNoteQuery, InvoiceQuery};
use ai_billing::{BillingInterval, IntervalUnit, SubscriptionStatus};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use proptest::prelude::*;
use rust_decimal::Decimal;

mod support;
use support::{ACCOUNT, CUSTOMER, ai_plan};

/// The price per copy per month of the plan under test.
const PRICE: i64 = 31;

#[derive(Debug, Clone)]
enum Op {
    Cancel(u8),
    Withdraw,
    Pause(u8, Option<u8>),
    Resume(u8),
    Quantity(u32, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3).prop_map(Op::Cancel),
        Just(Op::Withdraw),
        (1u8..40, prop::option::of(1u8..50)).prop_map(|(from, len)| Op::Pause(from, len)),
        (1u8..60).prop_map(Op::Resume),
        (1u32..5, any::<bool>()).prop_map(|(q, prorate)| Op::Quantity(q, prorate)),
    ]
}

/// The oracle: the subscription's days as the conventions define them.
#[derive(Debug, Default)]
struct Oracle {
    end: Option<NaiveDate>,
    pauses: Vec<(NaiveDate, Option<NaiveDate>)>,
    /// Quantity from a day on.
    quantities: BTreeMap<NaiveDate, u32>,
}

impl Oracle {
    fn served(&self, day: NaiveDate) -> Option<u32> {
        let ended = self.end.is_some_and(|end| day >= end);
        let paused = self
            .pauses
            .iter()
            .any(|(from, until)| *from <= day && until.is_none_or(|u| day < u));
        if ended || paused {
            return None;
        }
        self.quantities.range(..=day).next_back().map(|(_, q)| *q)
    }

    /// What every period from the start to `horizon` owes, in cents: the recurring price of the
    /// served days by quantity, and in arrears (`per_delivery`, cents) one delivery a day up to
    /// the end, paused days included (usage is what the tables hold).
    fn due(
        &self,
        calendar: &BillingCalendar,
        horizon: NaiveDate,
        per_delivery: Option<i64>,
    ) -> i64 {
        let mut total = 0;
        for index in 1.. {
            let period = calendar.period(index).unwrap();
            if period.start >= horizon || self.end.is_some_and(|end| period.start >= end) {
                break;
            }
            let days = period.days();
            if let Some(cents) = per_delivery {
                let last = self.end.map_or(period.end, |end| end.min(period.end));
                total += cents * (last - period.start).num_days();
            }
            let mut by_quantity: BTreeMap<u32, i64> = BTreeMap::new();
            for day in period.start.iter_days().take_while(|d| *d < period.end) {
                if let Some(q) = self.served(day) {
                    *by_quantity.entry(q).or_default() += 1;
                }
            }
            for (q, served) in by_quantity {
                let exact =
                    Decimal::from(PRICE * 100 * i64::from(q) * served) / Decimal::from(days);
                let cents = exact.round_dp_with_strategy(
                    0,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                );
                total += i64::try_from(cents.mantissa()).unwrap() / 10i64.pow(cents.scale());
            }
        }
        total
    }
}

fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
}

/// The plan under test: `$31 per month for each copy`, billed in advance; or in arrears, the
/// same fee with `$0.50 per delivery` and a delivery every day.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Billed {
    InAdvance,
    InArrears,
}

async fn scenario(billed_as: Billed, ops: Vec<(u8, Op)>) -> Result<(), TestCaseError> {
    let start = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    let (store, clock, engine) = support::setup(true).await;
    engine
        .save_plan(&SavePlan {
            account_id: ACCOUNT.into(),
            plan: ai_plan(
                "plan",
                match billed_as {
                    Billed::InAdvance => "$31 per month for each copy",
                    Billed::InArrears => "$31 per month for each copy plus $0.50 per delivery",
                },
            ),
            actor: "t".into(),
        })
        .await
        .unwrap();
    clock.set(support::ny(2026, 1, 15, 0));
    engine
        .create_subscription(&CreateSubscription {
            account_id: ACCOUNT.into(),
            id: "sub".into(),
            customer_id: CUSTOMER.into(),
            plan_id: "plan".into(),
            quantity: 1,
            start_date: start,
            actor: "t".into(),
            request_id: None,
        })
        .await
        .unwrap();
    let monthly = BillingInterval {
        unit: IntervalUnit::Month,
        count: 1,
    };
    let calendar = BillingCalendar::new(start, monthly, New_York).unwrap();
    if billed_as == Billed::InArrears {
        // A delivery every day at 16:00 UTC (the same local date in New York).
        let shipments: Vec<ai_billing::usage::Shipment> = (0..300u64)
            .map(|n| ai_billing::usage::Shipment {
                id: format!("s{n}"),
                shipped_at: at(start + Days::new(n), 16),
                quantity: 1,
            })
            .collect();
        store
            .insert_shipments(ACCOUNT, CUSTOMER, &shipments)
            .await
            .unwrap();
    }
    let mut oracle = Oracle::default();
    oracle.quantities.insert(NaiveDate::MIN, 1);
    let sub = |id: &str| (ACCOUNT.to_owned(), id.to_owned());
    let mut ops = ops;
    ops.sort_by_key(|(day, _)| *day);
    for (offset, op) in ops {
        let today = start + Days::new(u64::from(offset));
        let now = at(today, 15);
        clock.set(now);
        engine
            .run_due(&RunDue {
                now: Some(now),
                progress: None,
            })
            .await
            .unwrap();
        let (account_id, subscription_id) = sub("sub");
        let current = calendar.period_containing(today).unwrap().unwrap();
        let day = |n: u8| today + Days::new(u64::from(n));
        match op {
            Op::Cancel(kind) => {
                let effective = match kind {
                    0 => Effective::Immediately,
                    1 => Effective::PeriodEnd,
                    _ => Effective::On(day(20)),
                };
                let done = engine
                    .cancel_subscription(&CancelSubscription {
                        account_id,
                        subscription_id,
                        effective,
                        credit_unused: true,
                        actor: "t".into(),
                        request_id: None,
                    })
                    .await;
                if done.is_ok() {
                    let on = match effective {
                        Effective::Immediately => day(1),
                        Effective::PeriodEnd => current.end,
                        Effective::On(date) => date,
                    };
                    oracle.end = Some(on);
                    oracle.pauses.retain(|(from, _)| *from < on);
                }
            }
            Op::Withdraw => {
                let done = engine
                    .withdraw_cancel(&WithdrawCancel {
                        account_id,
                        subscription_id,
                        actor: "t".into(),
                        request_id: None,
                    })
                    .await;
                if done.is_ok() {
                    oracle.end = None;
                }
            }
            Op::Pause(from, len) => {
                let (from, until) = (
                    day(from),
                    len.map(|len| day(from) + Days::new(u64::from(len))),
                );
                let done = engine
                    .pause_subscription(&PauseSubscription {
                        account_id,
                        subscription_id,
                        from,
                        until,
                        actor: "t".into(),
                        request_id: None,
                    })
                    .await;
                if done.is_ok() {
                    oracle.pauses.push((from, until));
                }
            }
            Op::Resume(on) => {
                let on = day(on);
                let done = engine
                    .resume_subscription(&ResumeSubscription {
                        account_id,
                        subscription_id,
                        on,
                        actor: "t".into(),
                        request_id: None,
                    })
                    .await;
                if done.is_ok() {
                    let index = oracle
                        .pauses
                        .iter()
                        .position(|(from, until)| *from <= on && until.is_none_or(|u| on < u))
                        .expect("the engine resumed a pause the oracle does not hold");
                    if oracle.pauses[index].0 == on {
                        oracle.pauses.remove(index);
                    } else {
                        oracle.pauses[index].1 = Some(on);
                    }
                }
            }
            Op::Quantity(quantity, prorate) => {
                let done = engine
                    .change_quantity(&ChangeQuantity {
                        account_id,
                        subscription_id,
                        quantity,
                        proration: if prorate {
                            Proration::Prorate
                        } else {
                            Proration::None
                        },
                        effective: Effective::Immediately,
                        actor: "t".into(),
                        request_id: None,
                    })
                    .await;
                // In advance, the period holding today is billed: the next invoice is the next
                // period's.
                // In arrears it is the period holding today's.
                let from = match (prorate, billed_as) {
                    (true, _) => day(1),
                    (false, Billed::InAdvance) => current.end,
                    (false, Billed::InArrears) => current.start,
                };
                let holds = oracle
                    .quantities
                    .range(..=from)
                    .next_back()
                    .map(|(_, q)| *q)
                    == Some(quantity)
                    && oracle.quantities.range(from..).all(|(_, q)| *q == quantity);
                if done.is_ok() && !holds {
                    let later: Vec<NaiveDate> =
                        oracle.quantities.range(from..).map(|(d, _)| *d).collect();
                    for d in later {
                        oracle.quantities.remove(&d);
                    }
                    oracle.quantities.insert(from, quantity);
                }
            }
        }
    }
    // Long after the last change: every increase is on an invoice, every end has come.
    let horizon = start + Days::new(240);
    let end_at = at(horizon, 12);
    clock.set(end_at);
    engine
        .run_due(&RunDue {
            now: Some(end_at),
            progress: None,
        })
        .await
        .unwrap();

    let invoices = store
        .invoices(&InvoiceQuery {
            account_id: Some(ACCOUNT.into()),
            subscription_id: Some("sub".into()),
            limit: None,
            ..Default::default()
        })
        .await
        .unwrap();
    let notes = engine
        .credit_notes(&CreditNoteQuery {
            account_id: ACCOUNT.into(),
            subscription_id: Some("sub".into()),
            limit: None,
            ..Default::default()
        })
        .await
        .unwrap();
    let billed: i64 = invoices.iter().map(|i| i.invoice.subtotal.minor()).sum();
    let credited: i64 = notes.iter().map(|n| n.subtotal.minor()).sum();
    // Due up to the first period that starts on or after the horizon's period (the last billed
    // in advance is the one holding the horizon; in arrears, the one before it).
    let holding = calendar.period_containing(horizon).unwrap().unwrap();
    let (billed_to, per_delivery) = match billed_as {
        Billed::InAdvance => (holding.end, None),
        Billed::InArrears => (holding.start, Some(50)),
    };
    let due = oracle.due(&calendar, billed_to, per_delivery);
    prop_assert_eq!(
        billed - credited,
        due,
        "billed {} - credited {} != due {}",
        billed,
        credited,
        due
    );
    for invoice in &invoices {
        prop_assert!(!invoice.invoice.subtotal.is_negative());
        prop_assert!(
            invoice
                .invoice
                .line_items
                .iter()
                .all(|l| !l.amount.is_negative())
        );
        if let Some(end) = oracle.end {
            // A period billed before the cancellation was made is credited instead (the total
            // above); no period that starts on or after the end is billed.
            prop_assert!(
                invoice.invoice.period_start < end,
                "invoice {} bills a period after the end {}",
                invoice.id,
                end
            );
        }
    }
    for note in &notes {
        prop_assert!(note.subtotal.minor() > 0);
    }
    let recognised: i64 = invoices
        .iter()
        .flat_map(|i| i.invoice.revenue_schedule.iter())
        .map(|e| e.amount.minor())
        .sum();
    let reversed: i64 = notes
        .iter()
        .flat_map(|n| n.revenue_reversed.iter())
        .map(|e| e.amount.minor())
        .sum();
    prop_assert_eq!(recognised - reversed, billed - credited);
    let state = store.subscription(ACCOUNT, "sub").await.unwrap().unwrap();
    if oracle.end.is_some_and(|end| end <= horizon) {
        prop_assert_eq!(state.status, SubscriptionStatus::Canceled);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn billed_net_of_credits_is_what_the_served_days_owe(
        ops in prop::collection::vec((0u8..150, op()), 0..7)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(scenario(Billed::InAdvance, ops))?;
    }

    #[test]
    fn in_arrears_too(
        ops in prop::collection::vec((0u8..150, op()), 0..7)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(scenario(Billed::InArrears, ops))?;
    }
}
