//! Pure speed, with no I/O: pricing programs evaluated per renewal, and the offline interpreter
//! reading prompts. The figures of BENCHMARKS.md ("Performance and scale"):
//!
//! ```sh
//! cargo run --release -p ai-billing --example bench_eval
//! ```
//!
//! Renewals: the eleven plans `ai-billing generate` writes, each interpreted once, then billed
//! period after period (periods 1 to 12, quantity 1 to 3) over varied weekday usage: the program
//! evaluated (`engine::price_period`), 8.25% tax, and the invoice finished with its revenue
//! schedule, as a renewal does between reading its usage and writing its invoice. Prompts: the
//! same eleven prompts interpreted again and again. Each figure is the median of five rounds.

use std::hint::black_box;
use std::time::Instant;

use ai_billing::calendar::{BillingCalendar, BillingInterval, IntervalUnit};
use ai_billing::interpreter::{self, PlanContext};
use ai_billing::tax::FlatRate;
use ai_billing::usage::PeriodUsage;
use ai_billing::{Currency, engine};
use chrono::NaiveDate;
use rust_decimal::Decimal;

const PROMPTS: [&str; 11] = [
    "$19 per month",
    "$9 monthly for each seat",
    "Bill $5 for the first month and increase by $1 per month",
    "$12 per month for the first 3 months, then $15 per month",
    "$0.75 per weekday delivery and $2.50 per weekend delivery",
    "A $15 monthly base fee, plus $0.50 per delivery Monday to Saturday and $1.50 per Sunday delivery; returned deliveries are not billed.",
    "$0.40 per copy delivered; the first 10 copies each month are free",
    "First 20 deliveries at $1.00 each, then $0.60 per delivery",
    "$0.30 per delivery, with a minimum of $10 per month",
    "$1 per delivery, capped at $25 per month",
    "$0.05 per copy delivered on weekdays and $0.10 per copy on weekends. Returned copies are credited.",
];

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> ai_billing::Result<()> {
    let context = PlanContext {
        currency: Currency::USD,
        interval: BillingInterval::new(IntervalUnit::Month, 1)?,
    };
    let programs = PROMPTS
        .iter()
        .map(|prompt| interpreter::interpret(prompt, &context))
        .collect::<ai_billing::Result<Vec<_>>>()?;
    let tax = FlatRate::new("Sales tax", Decimal::new(825, 4))?;
    let start = NaiveDate::from_ymd_opt(2026, 1, 31).expect("a date");
    let calendars = programs
        .iter()
        .map(|program| BillingCalendar::new(start, program.interval, chrono_tz::America::New_York))
        .collect::<ai_billing::Result<Vec<_>>>()?;
    let periods = (1..=12)
        .map(|index| calendars[0].period(index))
        .collect::<ai_billing::Result<Vec<_>>>()?;
    let usages: Vec<PeriodUsage> = (0..16u64)
        .map(|n| PeriodUsage {
            shipments: std::array::from_fn(|d| (n * 7 + d as u64) % 6),
            units: std::array::from_fn(|d| (n * 5 + d as u64 * 3) % 11),
            returned_shipments: std::array::from_fn(|d| {
                u64::from((n + d as u64).is_multiple_of(9))
            }),
            returned_units: std::array::from_fn(|d| u64::from((n + d as u64).is_multiple_of(9))),
        })
        .collect();

    const RENEWALS: usize = 200_000;
    let mut rates = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut total = 0i64;
        for n in 0..RENEWALS {
            let plan = n % programs.len();
            let period = &periods[(n / programs.len()) % periods.len()];
            let usage = &usages[n % usages.len()];
            let quantity = engine::Quantity::new(1 + (n % 3) as u32)?;
            let priced =
                engine::price_period(&programs[plan], &calendars[plan], period, quantity, usage)?;
            let taxed = tax.tax(&priced.tax_request())?;
            let invoice = priced.finish(taxed)?;
            total += black_box(invoice.total.minor());
        }
        black_box(total);
        rates.push(RENEWALS as f64 / started.elapsed().as_secs_f64());
    }
    println!(
        "pricing: {:.0} renewals/s (program evaluated, taxed, invoice and revenue schedule; median of 5 rounds of {RENEWALS})",
        median(rates)
    );

    const READINGS: usize = 20_000;
    let mut rates = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        for n in 0..READINGS {
            black_box(interpreter::interpret(
                black_box(PROMPTS[n % PROMPTS.len()]),
                &context,
            )?);
        }
        rates.push(READINGS as f64 / started.elapsed().as_secs_f64());
    }
    println!(
        "offline interpreter: {:.0} prompts/s (the 11 prompts of `ai-billing generate`; median of 5 rounds of {READINGS})",
        median(rates)
    );
    Ok(())
}
