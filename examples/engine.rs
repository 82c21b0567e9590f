//! The billing engine in a few lines: a store, an AI plan, a subscription, a quantity change in the
//! middle of a period, and a billing run. `cargo test` runs it, so it cannot rot.
//!
//! Run with `cargo run -p ai-billing-cli --example engine`.

use std::sync::Arc;

use ai_billing::engine::{ChangeQuantity, CreateSubscription, RunDue, SavePlan};
use ai_billing::store::InvoiceQuery;
use ai_billing::tax::FlatRate;
use ai_billing::{
    Account, BillingInterval, Currency, Customer, Engine, FixedClock, IntervalUnit, Plan,
};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use rust_decimal::Decimal;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A store (an in-memory SQLite database here; `sqlite://billing.db` or `postgres://...`
    //    in production), migrated, and an engine on it with a fixed clock and 8.25% sales tax.
    let store = ai_billing::connect("sqlite::memory:").await?;
    store.migrate().await?;
    let clock = Arc::new(FixedClock::new(
        New_York
            .with_ymd_and_hms(2026, 1, 15, 9, 0, 0)
            .unwrap()
            .to_utc(),
    ));
    let engine = Engine::new(store.clone())
        .with_clock(clock.clone())
        .with_tax(Arc::new(FlatRate::new("Sales tax", Decimal::new(825, 4))?));

    // 2. An abstracted account, a customer, and an AI plan: the prompt is interpreted once, now,
    //    and its program stored with the plan's first version.
    engine
        .save_account(&Account::new("acct_1", New_York), "admin")
        .await?;
    engine
        .save_customer(&Customer::new("acct_1", "cus_1"), "admin")
        .await?;
    let monthly = BillingInterval::new(IntervalUnit::Month, 1)?;
    let plan = Plan {
        nickname: "Team".into(),
        ..Plan::ai(
            "plan_seats",
            Currency::USD,
            monthly,
            "$9 monthly for each seat",
        )
    };
    let saved = engine
        .save_plan(&SavePlan {
            account_id: "acct_1".into(),
            plan,
            actor: "admin".into(),
        })
        .await?;
    println!("{}\n", saved.program.describe());

    // 3. A subscription starting today: the plan bills in advance, so its first invoice is now.
    let created = engine
        .create_subscription(&CreateSubscription {
            account_id: "acct_1".into(),
            id: "sub_1".into(),
            customer_id: "cus_1".into(),
            plan_id: "plan_seats".into(),
            quantity: 2,
            start_date: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
            actor: "admin".into(),
            request_id: None,
        })
        .await?;
    assert_eq!(
        created
            .invoice
            .as_ref()
            .map(|i| i.invoice.total.to_major().to_string()),
        Some("19.49".into())
    );

    // 4. Two more seats in the middle of the period: no renewal, no invoice now.
    clock.set(
        New_York
            .with_ymd_and_hms(2026, 1, 28, 11, 0, 0)
            .unwrap()
            .to_utc(),
    );
    engine
        .change_quantity(&ChangeQuantity {
            account_id: "acct_1".into(),
            subscription_id: "sub_1".into(),
            quantity: 4,
            proration: Default::default(),
            effective: ai_billing::changes::Effective::Immediately,
            actor: "ops@example.com".into(),
            request_id: None,
        })
        .await?;

    // 5. The billing run on the 15th of March: two renewals, each billing 4 seats.
    let now = New_York
        .with_ymd_and_hms(2026, 3, 15, 6, 0, 0)
        .unwrap()
        .to_utc();
    clock.set(now);
    let report = engine
        .run_due(&RunDue {
            now: Some(now),
            progress: None,
        })
        .await?;
    assert_eq!((report.issued, report.failed), (2, 0));
    let query = InvoiceQuery {
        account_id: Some("acct_1".into()),
        ..InvoiceQuery::default()
    };
    for issued in store.invoices(&query).await? {
        let invoice = &issued.invoice;
        println!(
            "{}  {} to {}  {} seats  {:<19}  total {}",
            issued.id,
            invoice.period_start,
            invoice.period_end,
            issued.quantity,
            issued.billing_reason.as_str(),
            invoice.total.to_major()
        );
    }
    // Running again bills nothing more: every invoice's identity is (subscription, period start).
    assert_eq!(
        engine
            .run_due(&RunDue {
                now: Some(now),
                progress: None
            })
            .await?
            .issued,
        0
    );
    Ok(())
}
