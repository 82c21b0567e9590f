//! `ai-billing demo`: the first minute with the library, with no key and no server.
//!
//! Three AI plans written in plain language are compiled to pricing programs; one subscription on
//! each gets six months of deterministic daily deliveries (and a few returns) in an embedded
//! SQLite file; every period is then billed through the same path the library uses for real
//! subscriptions: usage read back through the predefined query, the program's evaluation, the
//! agent payload check, tax, total and revenue schedule.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ai_billing::calendar::{self, BillingCalendar};
use ai_billing::engine;
use ai_billing::sqlite::UsageDb;
use ai_billing::tax::{FlatRate, TaxCalculator};
use ai_billing::usage::{self, Return, Shipment};
use ai_billing::{Account, Currency, IntervalUnit, Invoice, Money, Plan, PlanType, PricingProgram};
use chrono::{NaiveDate, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::failure::{CliResult, Failure};
use crate::render;

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Bill three plain-language AI plans for six months, from an embedded SQLite file",
    long_about = "The first minute with ai-billing: no key, no server, a few seconds.\n\n\
                  Creates a fresh SQLite database, one abstracted account (America/New_York) and three \
                  AI plans written in plain language (a step-up price, newspaper delivery rates per \
                  weekday, and a base fee plus usage where returns are not billed). Each prompt is \
                  compiled by the offline interpreter and its reading is printed. One subscription per \
                  plan gets six months of deterministic daily deliveries, with some returns, stored in \
                  the database; then six periods of each are billed from the usage read back through \
                  the predefined `shipments_by_weekday` query, with 8.25% sales tax. Every invoice is \
                  printed with its line items, tax, total and revenue schedule.",
    after_help = "Examples:\n  ai-billing demo\n  ai-billing demo --db /tmp/demo.db --json"
)]
pub struct Args {
    /// The SQLite file to create; an existing file at this path is deleted first.
    #[arg(long, value_name = "PATH", default_value = "ai-billing-demo.db")]
    pub db: PathBuf,
    /// Print one JSON object (plans, programs, subscriptions, invoices, summary) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The demo's account.
const ACCOUNT_ID: &str = "acct_demo";
/// Billing periods per subscription.
const PERIODS: u32 = 6;
/// The demo's sales tax, 8.25%.
const TAX_RATE: Decimal = Decimal::from_parts(825, 0, 0, false, 4);

/// One plan of the demo and the subscription on it.
struct DemoPlan {
    nickname: &'static str,
    prompt: &'static str,
    customer_id: &'static str,
    quantity: u32,
    start: (i32, u32, u32),
    /// Whether the customer gets deliveries (a step-up plan has no usage).
    deliveries: bool,
}

const PLANS: [DemoPlan; 3] = [
    DemoPlan {
        nickname: "Step-up starter",
        prompt: "Bill $5 for the first month and increase by $1 per month",
        customer_id: "cus_ada",
        quantity: 1,
        start: (2026, 1, 15),
        deliveries: false,
    },
    DemoPlan {
        nickname: "Daily newspaper",
        prompt: "$0.75 per weekday delivery and $2.50 per Sunday delivery. Saturday deliveries are $1.00.",
        customer_id: "cus_grace",
        quantity: 1,
        start: (2026, 1, 1),
        deliveries: true,
    },
    DemoPlan {
        nickname: "Hybrid delivery",
        prompt: "A $15 monthly base fee, plus $0.50 per delivery Monday to Saturday and $1.50 per Sunday \
                 delivery; returned deliveries are not billed.",
        customer_id: "cus_linus",
        quantity: 2,
        start: (2026, 1, 31),
        deliveries: true,
    },
];

/// A tiny deterministic generator (a 64-bit LCG, Knuth's MMIX constants): the same deliveries on
/// every run and every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Deliveries for one customer over `[from, to)` local dates: most mornings between 05:00 and
/// 07:59 local time, a day missed now and then, `copies` units each; about one delivery in
/// fifteen is returned one to two days later.
fn deliveries(
    seed: u64,
    prefix: &str,
    tz: chrono_tz::Tz,
    from: NaiveDate,
    to: NaiveDate,
    copies: u32,
) -> (Vec<Shipment>, Vec<Return>) {
    let mut rng = Lcg(seed);
    let (mut shipments, mut returns) = (Vec::new(), Vec::new());
    for day in from.iter_days().take_while(|d| *d < to) {
        if rng.below(12) == 0 {
            continue; // no delivery that day
        }
        let minutes = 300 + rng.below(180) as i64;
        let shipped_at =
            (calendar::local_midnight(tz, day) + TimeDelta::minutes(minutes)).with_timezone(&Utc);
        let id = format!("{prefix}_s{:04}", shipments.len() + 1);
        if rng.below(15) == 0 {
            let hours = 24 + rng.below(24) as i64;
            returns.push(Return {
                id: format!("{prefix}_r{:03}", returns.len() + 1),
                shipment_id: id.clone(),
                returned_at: shipped_at + TimeDelta::hours(hours),
                quantity: copies,
            });
        }
        shipments.push(Shipment {
            id,
            shipped_at,
            quantity: copies,
        });
    }
    (shipments, returns)
}

/// The JSON form of the demo (`--json`).
#[derive(Serialize)]
struct Report {
    database: String,
    account: Account,
    tax_rate: String,
    plans: Vec<PlanReport>,
    summary: Summary,
}

#[derive(Serialize)]
struct PlanReport {
    plan: Plan,
    program: PricingProgram,
    reading: String,
    subscription: SubscriptionReport,
    invoices: Vec<Invoice>,
}

#[derive(Serialize)]
struct SubscriptionReport {
    customer_id: String,
    quantity: u32,
    start: NaiveDate,
    shipments: usize,
    returns: usize,
}

#[derive(Serialize)]
struct Summary {
    plans: usize,
    invoices: usize,
    shipments: usize,
    returns: usize,
    currency: Currency,
    #[serde(serialize_with = "ai_billing::money::serialize_major")]
    subtotal: Money,
    #[serde(serialize_with = "ai_billing::money::serialize_major")]
    tax: Money,
    #[serde(serialize_with = "ai_billing::money::serialize_major")]
    total: Money,
}

/// Deletes the database file and its WAL companions, so every run starts from nothing.
fn remove_database(path: &Path) -> CliResult {
    if path.is_dir() {
        return Err(Failure::invalid_input(
            format!("cannot create the demo database at {}", path.display()),
            "it is a directory; give a file path with --db",
        ));
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Failure::other(
                    format!("cannot delete the old {}", Path::new(&name).display()),
                    e,
                ));
            }
        }
    }
    Ok(())
}

/// Runs `demo`.
pub fn run(args: &Args) -> CliResult {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::other("cannot start the async runtime", e))?;
    let report = runtime.block_on(bill_everything(&args.db))?;

    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::other("printing the report", e))?;
        writeln!(out, "{json}")?;
    } else {
        write!(out, "{}", text(&report, started))?;
    }
    out.flush()?;
    Ok(())
}

async fn bill_everything(path: &Path) -> CliResult<Report> {
    remove_database(path)?;
    let db = UsageDb::open(&format!("sqlite://{}", path.display()))
        .await
        .map_err(|e| {
            Failure::from(e).context(format!(
                "cannot create the demo database {}",
                path.display()
            ))
        })?;

    let account = Account {
        id: ACCOUNT_ID.to_owned(),
        abstracted: true,
        timezone: chrono_tz::America::New_York,
        tax_inclusive: false,
    };
    let tax = FlatRate::new("Sales tax", TAX_RATE)?;
    let query = usage::find_query("shipments_by_weekday")?;

    let mut plans = Vec::new();
    for (n, demo) in PLANS.iter().enumerate() {
        let plan = Plan {
            id: Some(format!("plan_demo_{}", n + 1)),
            product_id: Some("prod_demo".to_owned()),
            nickname: demo.nickname.to_owned(),
            amount: 0,
            currency: Currency::USD,
            interval: IntervalUnit::Month,
            interval_count: 1,
            auto_renew: true,
            metadata: serde_json::Map::new(),
            plan_type: PlanType::Ai,
            ai_prompt: Some(demo.prompt.to_owned()),
            usage_query: Some(query.name.to_owned()),
            program: None,
        };
        let program = plan.compile(&account).map_err(|e| {
            Failure::from(e).context(format!("the demo plan {:?} did not compile", demo.nickname))
        })?;

        let (year, month, day) = demo.start;
        let start =
            NaiveDate::from_ymd_opt(year, month, day).expect("the demo's start dates are valid");
        let calendar = BillingCalendar::new(start, program.interval, account.timezone)?;
        let last = calendar.period(PERIODS)?;
        let (shipments, returns) = if demo.deliveries {
            deliveries(
                n as u64 + 1,
                demo.customer_id,
                account.timezone,
                start,
                last.end,
                demo.quantity,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        db.insert_shipments(&account.id, demo.customer_id, &shipments)
            .await?;
        db.insert_returns(&account.id, demo.customer_id, &returns)
            .await?;

        let mut invoices = Vec::new();
        for index in 1..=PERIODS {
            let period = calendar.period(index)?;
            let (from, to) = calendar.utc_bounds(&period);
            let usage = db
                .period_usage(
                    query,
                    &account.id,
                    demo.customer_id,
                    from,
                    to,
                    calendar.tz(),
                )
                .await?;
            let invoice = engine::bill_period(
                &program,
                &calendar,
                &period,
                demo.quantity,
                &usage,
                &tax as &dyn TaxCalculator,
            )
            .await
            .map_err(|e| {
                Failure::from(e).context(format!("billing period {index} of {:?}", demo.nickname))
            })?;
            invoices.push(invoice);
        }

        plans.push(PlanReport {
            reading: program.describe(),
            program,
            subscription: SubscriptionReport {
                customer_id: demo.customer_id.to_owned(),
                quantity: demo.quantity,
                start,
                shipments: shipments.len(),
                returns: returns.len(),
            },
            plan,
            invoices,
        });
    }

    let summary = summarize(&plans)?;
    Ok(Report {
        database: path.display().to_string(),
        account,
        tax_rate: TAX_RATE.to_string(),
        plans,
        summary,
    })
}

fn summarize(plans: &[PlanReport]) -> CliResult<Summary> {
    let currency = Currency::USD;
    let mut summary = Summary {
        plans: plans.len(),
        invoices: 0,
        shipments: 0,
        returns: 0,
        currency,
        subtotal: Money::zero(currency),
        tax: Money::zero(currency),
        total: Money::zero(currency),
    };
    for plan in plans {
        summary.shipments += plan.subscription.shipments;
        summary.returns += plan.subscription.returns;
        for invoice in &plan.invoices {
            summary.invoices += 1;
            summary.subtotal = summary.subtotal.checked_add(invoice.subtotal)?;
            summary.tax = summary.tax.checked_add(invoice.tax)?;
            summary.total = summary.total.checked_add(invoice.total)?;
        }
    }
    Ok(summary)
}

fn text(report: &Report, started: Instant) -> String {
    let mut out = String::new();
    out.push_str(
        "ai-billing demo: three AI plans written in plain language, billed for six months\n",
    );
    out.push_str(&format!(
        "Database {} (created fresh), account {} (abstracted, {}), sales tax {}%\n",
        report.database,
        report.account.id,
        report.account.timezone.name(),
        (TAX_RATE * Decimal::ONE_HUNDRED).normalize()
    ));
    for (n, plan) in report.plans.iter().enumerate() {
        let sub = &plan.subscription;
        out.push_str(&format!(
            "\n=== Plan {}: {} ===\n",
            n + 1,
            plan.plan.nickname
        ));
        out.push_str(&format!(
            "Prompt: \"{}\"\n",
            plan.plan.ai_prompt.as_deref().unwrap_or_default()
        ));
        out.push_str("Reading:\n");
        out.push_str(&render::indent(&plan.reading, 2));
        out.push_str(&format!(
            "Subscription: customer {}, quantity {}, starts {}; {} deliveries and {} returns in the database\n\n",
            sub.customer_id, sub.quantity, sub.start, sub.shipments, sub.returns
        ));
        for invoice in &plan.invoices {
            out.push_str(&render::indent(&render::invoice(invoice), 2));
            out.push('\n');
        }
    }
    let s = &report.summary;
    out.push_str(&format!(
        "Done: {} plans, {} invoices from {} deliveries and {} returns; billed {} (subtotal {} + tax {}) in {:.1} s. \
         Database: {}\n",
        s.plans,
        s.invoices,
        s.shipments,
        s.returns,
        render::money(&s.total),
        render::money(&s.subtotal),
        render::money(&s.tax),
        started.elapsed().as_secs_f64(),
        report.database
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_deterministic_and_whole_seconds() {
        let tz = chrono_tz::America::New_York;
        let from = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let (a, ra) = deliveries(7, "c", tz, from, to, 2);
        let (b, rb) = deliveries(7, "c", tz, from, to, 2);
        assert_eq!(a, b);
        assert_eq!(ra, rb);
        assert!(a.len() > 150 && a.len() < 181, "{} deliveries", a.len());
        assert!(!ra.is_empty());
        assert!(
            a.iter()
                .all(|s| s.quantity == 2 && s.shipped_at.timestamp_subsec_nanos() == 0)
        );
        assert!(ra.iter().all(|r| {
            a.iter()
                .any(|s| s.id == r.shipment_id && s.shipped_at < r.returned_at)
        }));
    }

    #[test]
    fn the_tax_rate_is_eight_and_a_quarter_percent() {
        assert_eq!(TAX_RATE.to_string(), "0.0825");
    }
}
