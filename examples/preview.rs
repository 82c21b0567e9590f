//! The library in a few lines: interpret a plan prompt into a pricing program, bill one period of
//! it, then preview a whole scenario the way `ai-billing preview` does.
//!
//! Run with `cargo run -p ai-billing-cli --example preview`.

use ai_billing::calendar::{BillingCalendar, BillingInterval, IntervalUnit};
use ai_billing::interpreter::{self, PlanContext};
use ai_billing::scenario::{self, Scenario};
use ai_billing::tax::FlatRate;
use ai_billing::usage::PeriodUsage;
use ai_billing::{Currency, engine};
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A plain-language prompt becomes a typed, versioned pricing program (or is refused).
    let context = PlanContext {
        currency: Currency::USD,
        interval: BillingInterval::new(IntervalUnit::Month, 1)?,
    };
    let program = interpreter::interpret(
        "$0.75 per delivery Monday to Saturday and $2.50 per Sunday delivery",
        &context,
    )?;
    println!("{}\n", program.describe());

    // 2. Bill the first period for a week of deliveries: five weekdays and a Sunday.
    let calendar = BillingCalendar::new(
        NaiveDate::from_ymd_opt(2026, 1, 15).expect("a valid date"),
        program.interval,
        chrono_tz::America::New_York,
    )?;
    let period = calendar.period(1)?;
    let usage = PeriodUsage {
        shipments: [1, 1, 1, 1, 1, 0, 1],
        units: [1, 1, 1, 1, 1, 0, 1],
        ..PeriodUsage::default()
    };
    let tax = FlatRate::new("Sales tax", Decimal::new(825, 4))?;
    // Pricing is pure; tax goes through the `TaxCalculator` port (async, for tax services), and
    // `FlatRate::tax` is its in-place form.
    let priced = engine::price_period(&program, &calendar, &period, engine::Quantity::ONE, &usage)?;
    let taxed = tax.tax(&priced.tax_request())?;
    let invoice = priced.finish(taxed)?;
    println!(
        "Period {} to {}, issued {}: subtotal {}, tax {}, total {}",
        invoice.period_start,
        invoice.period_end,
        invoice.issue_date,
        invoice.subtotal.to_major(),
        invoice.tax.to_major(),
        invoice.total.to_major()
    );
    for item in &invoice.line_items {
        println!("  {:50} {:>8}", item.description, item.amount.to_major());
    }
    assert_eq!(invoice.total.to_major().to_string(), "6.77"); // 6.25 + 0.52 tax

    // 3. A whole scenario, through an embedded SQLite database, as `ai-billing preview` runs it.
    let scenario = Scenario::from_json(
        r#"{
          "account": { "id": "acct_1", "abstracted": true, "timezone": "America/New_York" },
          "plan": { "type": "ai", "nickname": "Seed", "currency": "USD", "interval": "month",
                    "interval_count": 1,
                    "ai_prompt": "Bill $5 for the first month and increase by $1 per month" },
          "subscription": { "start": "2026-01-31", "quantity": 1 },
          "periods": 3,
          "tax": { "rate": "0.0825" }
        }"#,
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(scenario::preview(&scenario))?;
    println!(
        "\n{} ({:?}):",
        scenario.plan.nickname, report.invoice_timing
    );
    for invoice in &report.invoices {
        println!(
            "  issued {}  period {} to {}  total {}",
            invoice.issue_date,
            invoice.period_start,
            invoice.period_end,
            invoice.total.to_major()
        );
    }
    // `serde_json::to_string_pretty(&report)` is what `ai-billing preview --json` prints.
    assert_eq!(report.invoices[1].period_end.to_string(), "2026-03-31");
    assert_eq!(report.invoices[2].total.to_major().to_string(), "7.58");
    Ok(())
}
