//! `ai-billing demo`: the first minute with the library, with no key and no server.
//!
//! The billing engine on an embedded SQLite file: three AI plans written in plain language are
//! saved (each prompt interpreted into a stored, versioned program); one customer and one
//! subscription per plan, created on its start date (plans billed in advance get their first
//! invoice then); six months of deterministic deliveries (and a few returns); billing runs up to
//! mid-April, a quantity change in the middle of a period, and runs up to July. Every invoice goes
//! through the path real subscriptions take: usage through the predefined query, the program,
//! the agent payload check, tax, revenue schedule, all written with their audit events.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use ai_billing::calendar;
use ai_billing::engine::{ChangeQuantity, CreateSubscription, RunDue, SavePlan};
use ai_billing::store::{InvoiceQuery, StoreStats};
use ai_billing::tax::{FlatRate, TaxAddress};
use ai_billing::usage;
use ai_billing::{
    Account, BillingInterval, Currency, Customer, FixedClock, IntervalUnit, IssuedInvoice, Money,
    Plan, PricingProgram,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::database::{Setup, open_engine};
use crate::failure::{CliResult, Failure};
use crate::render;
use crate::synth::deliveries;

/// Who the demo's changes are by, in the audit trail.
const ACTOR: &str = "demo";

/// The demo's mid-period quantity change: (plan index, new quantity).
const QUANTITY_CHANGE: (usize, u32) = (2, 3);

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Bill three plain-language AI plans for six months with the engine, on an embedded SQLite file",
    long_about = "The first minute with ai-billing: no key, no server, a few seconds.\n\n\
                  Creates a fresh SQLite database with one abstracted account (America/New_York) and \
                  three AI plans written in plain language (a step-up price, newspaper delivery rates \
                  per weekday, and a base fee plus usage where returns are not billed); each prompt is \
                  interpreted and its reading printed. One subscription per plan is created on its \
                  start date, deliveries (with some returns) are stored, and the billing engine runs up \
                  to 2026-04-10, when one customer's quantity changes mid-period, then up to 2026-07-01, \
                  with 8.25% sales tax. Every invoice is printed with its line items, tax, total and \
                  revenue schedule.",
    after_help = "Examples:\n  ai-billing demo\n  ai-billing demo --db /tmp/demo.db --json"
)]
pub struct Args {
    /// The SQLite file to create; an existing file at this path is deleted first.
    #[arg(long, value_name = "PATH", default_value = "ai-billing-demo.db")]
    pub db: PathBuf,
    /// Print one JSON object (plans, programs, subscriptions, invoices, summary) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: crate::model::ModelArgs,
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
        start: (2025, 12, 31),
        deliveries: true,
    },
];

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
    invoices: Vec<IssuedInvoice>,
}

#[derive(Serialize)]
struct SubscriptionReport {
    id: String,
    customer_id: String,
    quantity: u32,
    start: NaiveDate,
    shipments: usize,
    returns: usize,
}

#[derive(Serialize)]
struct Summary {
    plans: usize,
    audit_events: u64,
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
    let report = runtime.block_on(bill_everything(&args.db, &args.model))?;

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

async fn bill_everything(path: &Path, model: &crate::model::ModelArgs) -> CliResult<Report> {
    remove_database(path)?;
    let url = format!("sqlite://{}", path.display());
    let account = Account::new(ACCOUNT_ID, chrono_tz::America::New_York);
    let tz = account.timezone;
    // The demo's clock: each step happens at a fixed moment, so every run prints the same.
    let clock = Arc::new(FixedClock::new(at_local(tz, date(2026, 1, 1), 8)));
    let setup = Setup {
        model: Some(model),
        ..Setup::default()
    };
    let engine = open_engine(&url, setup)
        .await?
        .with_tax(Arc::new(FlatRate::new("Sales tax", TAX_RATE)?))
        .with_clock(clock.clone());
    let store = crate::database::open_fixtures(&url).await?;
    engine.save_account(&account, ACTOR).await?;

    let mut plans = Vec::new();
    let mut steps = Vec::new();
    let monthly = BillingInterval::new(IntervalUnit::Month, 1)?;
    for (n, demo) in PLANS.iter().enumerate() {
        let id = format!("plan_demo_{}", n + 1);
        let plan = Plan {
            product_id: Some("prod_demo".to_owned()),
            nickname: demo.nickname.to_owned(),
            usage_query: Some(usage::SHIPMENTS_BY_WEEKDAY.to_owned()),
            ..Plan::ai(id, Currency::USD, monthly, demo.prompt)
        };
        let saved = engine
            .save_plan(&SavePlan {
                account_id: account.id.clone(),
                plan,
                actor: ACTOR.to_owned(),
            })
            .await
            .map_err(|e| {
                Failure::from(e)
                    .context(format!("the demo plan {:?} did not compile", demo.nickname))
            })?;
        engine
            .save_customer(
                &Customer::new(account.id.clone(), demo.customer_id).with_tax_address(TaxAddress {
                    country: "US".to_owned(),
                    region: Some("NY".to_owned()),
                    postal_code: Some("10001".to_owned()),
                }),
                ACTOR,
            )
            .await?;
        let (year, month, day) = demo.start;
        let start = date(year, month, day);
        let end = start
            .checked_add_months(chrono::Months::new(PERIODS))
            .unwrap_or(start);
        let (shipments, returns) = if demo.deliveries {
            deliveries(
                n as u64 + 1,
                demo.customer_id,
                tz,
                start,
                end,
                demo.quantity,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        store
            .insert_shipments(&account.id, demo.customer_id, &shipments)
            .await?;
        store
            .insert_returns(&account.id, demo.customer_id, &returns)
            .await?;
        plans.push(PlanReport {
            reading: saved.program.describe(),
            program: saved.program.clone(),
            plan: saved.plan.clone(),
            subscription: SubscriptionReport {
                id: format!("sub_demo_{}", n + 1),
                customer_id: demo.customer_id.to_owned(),
                quantity: demo.quantity,
                start,
                shipments: shipments.len(),
                returns: returns.len(),
            },
            invoices: Vec::new(),
        });
        steps.push((start, n));
    }

    // Each subscription is created on its start date, in the morning: plans billed in advance
    // get their first invoice then.
    steps.sort();
    for (start, n) in steps {
        clock.set(at_local(tz, start, 9));
        let sub = &plans[n].subscription;
        engine
            .create_subscription(&CreateSubscription {
                account_id: account.id.clone(),
                id: sub.id.clone(),
                customer_id: sub.customer_id.clone(),
                plan_id: plans[n].plan.id.clone().unwrap_or_default(),
                quantity: sub.quantity,
                start_date: start,
                actor: ACTOR.to_owned(),
                request_id: None,
            })
            .await?;
    }
    // Billing runs up to mid-April; then a customer changes their quantity mid-period (no
    // renewal, no invoice); then the runs go on to the end of June.
    let mid_april = at_local(tz, date(2026, 4, 10), 12);
    clock.set(mid_april);
    engine
        .run_due(&RunDue {
            now: Some(mid_april),
            progress: None,
        })
        .await?;
    let changed = &plans[QUANTITY_CHANGE.0].subscription;
    engine
        .change_quantity(&ChangeQuantity {
            account_id: account.id.clone(),
            subscription_id: changed.id.clone(),
            quantity: QUANTITY_CHANGE.1,
            proration: Default::default(),
            effective: ai_billing::changes::Effective::Immediately,
            actor: ACTOR.to_owned(),
            request_id: None,
        })
        .await?;
    let until = at_local(tz, date(2026, 7, 1), 6);
    clock.set(until);
    let run = engine
        .run_due(&RunDue {
            now: Some(until),
            progress: None,
        })
        .await?;
    if run.failed > 0 {
        return Err(Failure::other(
            "the demo's billing run failed",
            run.failures
                .iter()
                .map(|(account, subscription, error)| format!("{account}/{subscription}: {error}"))
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    for plan in &mut plans {
        plan.invoices = store
            .invoices(&InvoiceQuery {
                account_id: Some(account.id.clone()),
                subscription_id: Some(plan.subscription.id.clone()),
                limit: None,
                ..Default::default()
            })
            .await?;
    }
    let stats = store.stats().await?;
    let summary = summarize(&plans, stats)?;
    Ok(Report {
        database: path.display().to_string(),
        account,
        tax_rate: TAX_RATE.to_string(),
        plans,
        summary,
    })
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("the demo's dates are valid")
}

/// `hour`:00 local time on `day`, as a UTC instant.
fn at_local(tz: chrono_tz::Tz, day: NaiveDate, hour: i64) -> DateTime<Utc> {
    (calendar::local_midnight(tz, day) + chrono::TimeDelta::hours(hour)).to_utc()
}

fn summarize(plans: &[PlanReport], stats: StoreStats) -> CliResult<Summary> {
    let currency = Currency::USD;
    let mut summary = Summary {
        plans: plans.len(),
        audit_events: stats.audit_events,
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
        for invoice in plan.invoices.iter().map(|issued| &issued.invoice) {
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
        "ai-billing demo: three AI plans written in plain language, billed by the engine for six months\n",
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
            "Subscription: customer {}, quantity {}, starts {}; {} and {} in the database\n\n",
            sub.customer_id,
            sub.quantity,
            sub.start,
            render::count(sub.shipments, "delivery"),
            render::count(sub.returns, "return")
        ));
        for issued in &plan.invoices {
            out.push_str(&format!(
                "  {} ({}, plan version {}, quantity {}):\n",
                issued.id,
                issued.billing_reason.as_str(),
                issued.plan_version,
                issued.quantity
            ));
            out.push_str(&render::indent(&render::invoice(&issued.invoice), 2));
            out.push('\n');
        }
    }
    let s = &report.summary;
    out.push_str(&format!(
        "Done: {} plans, {} invoices from {} deliveries and {} returns; billed {} (subtotal {} + tax {}), \
         {} audit events, in {:.1} s. Database: {}\n",
        s.plans,
        s.invoices,
        s.shipments,
        s.returns,
        render::money(&s.total),
        render::money(&s.subtotal),
        render::money(&s.tax),
        s.audit_events,
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
