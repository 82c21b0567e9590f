//! `ai-billing generate`: a synthetic but realistic data set for benchmarks and tests.
//!
//! Three abstracted accounts in different zones and currencies; in each, AI plans of every kind
//! written in plain language (flat, per seat, step-up, phased, weekday rates, hybrid with returns
//! not billed, free allowance, graduated tiers, minimum, cap, credited returns per copy); one
//! customer per subscription with a tax address (some exempt); subscriptions starting on different
//! days of the first four weeks, mostly quantity 1 to 3, some larger; daily deliveries for every
//! customer over the whole horizon with a few returns; and change traffic over that horizon
//! ([`crate::traffic`]: cancellations, vacation holds, plan changes, prorated quantities). The same
//! seed gives the same data.
//!
//! Subscriptions are created as of the day before `--start`, so none is billed at creation. The
//! subscriptions that change (about one in five) are billed up to each change as it is made, as a
//! platform billing every day would have billed them; every other invoice is issued by
//! `ai-billing run`.
//!
//! All or nothing: a new SQLite file is removed again when the run fails, and a database an
//! earlier generate filled is refused before anything is written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use ai_billing::engine::{CreateSubscription, SavePlan};
use ai_billing::tax::TaxAddress;
use ai_billing::{
    Account, BillingInterval, Currency, Customer, Engine, FixedClock, FixtureStore, IntervalUnit,
    Plan,
};
use chrono::{Months, NaiveDate, TimeDelta};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;

use crate::database::{DbArgs, Setup, block_on};
use crate::failure::{CliResult, Failure};
use crate::render::count;
use crate::synth::{Lcg, deliveries};
use crate::traffic::{Generated, Traffic};

/// Arguments of `generate`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Fill a database with synthetic accounts, AI plans, subscriptions and deliveries",
    after_help = "Example:\n  ai-billing generate --db sqlite://bench.db --subscriptions 10000 --start 2026-01-01 --months 3 --seed 7\n  ai-billing run --db sqlite://bench.db --until 2026-04-30"
)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// How many subscriptions (one customer each).
    #[arg(long, value_name = "N")]
    pub subscriptions: u32,
    /// The first possible start date, YYYY-MM-DD; subscriptions start over the following four
    /// weeks.
    #[arg(long, value_name = "DATE", value_parser = crate::arguments::date)]
    pub start: NaiveDate,
    /// Months of deliveries after each subscription's start.
    #[arg(long, value_name = "M", default_value_t = 3)]
    pub months: u32,
    /// The seed: the same seed gives the same data.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The largest data set `generate` makes in one call.
const MAX_SUBSCRIPTIONS: u32 = 10_000_000;

/// The plans of every account: (id suffix, nickname, prompt).
const PLANS: [(&str, &str, &str); 11] = [
    ("flat", "Flat monthly", "$19 per month"),
    ("seats", "Per seat", "$9 monthly for each seat"),
    (
        "stepup",
        "Step-up starter",
        "Bill $5 for the first month and increase by $1 per month",
    ),
    (
        "intro",
        "Intro price",
        "$12 per month for the first 3 months, then $15 per month",
    ),
    (
        "newspaper",
        "Daily newspaper",
        "$0.75 per weekday delivery and $2.50 per weekend delivery",
    ),
    (
        "hybrid",
        "Hybrid delivery",
        "A $15 monthly base fee, plus $0.50 per delivery Monday to Saturday and $1.50 per Sunday delivery; returned deliveries are not billed.",
    ),
    (
        "allowance",
        "Copies with allowance",
        "$0.40 per copy delivered; the first 10 copies each month are free",
    ),
    (
        "graduated",
        "Graduated deliveries",
        "First 20 deliveries at $1.00 each, then $0.60 per delivery",
    ),
    (
        "minimum",
        "Usage with minimum",
        "$0.30 per delivery, with a minimum of $10 per month",
    ),
    (
        "cap",
        "Usage with cap",
        "$1 per delivery, capped at $25 per month",
    ),
    (
        "credited",
        "Copies, returns credited",
        "$0.05 per copy delivered on weekdays and $0.10 per copy on weekends. Returned copies are credited.",
    ),
];

/// The accounts: (id, zone, currency, tax-inclusive).
const ACCOUNTS: [(&str, chrono_tz::Tz, Currency, bool); 3] = [
    (
        "acct_gazette",
        chrono_tz::America::New_York,
        Currency::USD,
        false,
    ),
    (
        "acct_pacific",
        chrono_tz::America::Los_Angeles,
        Currency::USD,
        false,
    ),
    (
        "acct_lemonde",
        chrono_tz::Europe::Paris,
        Currency::EUR,
        true,
    ),
];

/// Tax addresses customers are given, by account: (country, region, postal code).
fn address(account: usize, pick: u64) -> TaxAddress {
    let (country, region, postal) = match (account, pick % 4) {
        (2, 0 | 1) => ("FR", None, "75001"),
        (2, _) => ("FR", None, "69002"),
        (_, 0) => ("US", Some("CA"), "94103"),
        (_, 1) => ("US", Some("NY"), "10001"),
        (_, 2) => ("US", Some("WA"), "98101"),
        (_, _) => ("CA", Some("QC"), "H2X 1Y4"),
    };
    TaxAddress {
        country: country.to_owned(),
        region: region.map(str::to_owned),
        postal_code: Some(postal.to_owned()),
    }
}

/// What was generated.
#[derive(Debug, Default, Serialize)]
struct Summary {
    accounts: usize,
    plans: usize,
    customers: u64,
    subscriptions: u64,
    shipments: u64,
    returns: u64,
    /// The change traffic, by kind.
    changes: Traffic,
    /// Invoices issued while generating: what the changed subscriptions owed when each change
    /// was made.
    invoices: u64,
    seconds: String,
}

/// Runs `generate`.
pub fn run(args: &Args) -> CliResult {
    if args.subscriptions == 0 || args.subscriptions > MAX_SUBSCRIPTIONS {
        return Err(Failure::invalid_input(
            "invalid --subscriptions",
            format!("must be from 1 to {MAX_SUBSCRIPTIONS}"),
        ));
    }
    if args.months == 0 || args.months > 120 {
        return Err(Failure::invalid_input(
            "invalid --months",
            "must be from 1 to 120",
        ));
    }
    let started = Instant::now();
    // All or nothing: a SQLite file this run creates is removed again when it fails.
    let created = new_sqlite_file(&args.db.db);
    let generated = block_on(generate(args));
    if let (Err(_), Some(path)) = (&generated, &created) {
        remove_sqlite_file(path);
    }
    let mut summary = generated?;
    summary.seconds = format!("{:.1}", started.elapsed().as_secs_f64());
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::to_string(&summary)
            .map_err(|e| Failure::other("printing the summary", e))?;
        writeln!(out, "{json}")?;
    } else {
        writeln!(
            out,
            "Generated {} ({}) on {} in {}, with {} and {}, in {} s.",
            count(summary.subscriptions, "subscription"),
            count(summary.customers, "customer"),
            count(summary.plans, "plan"),
            count(summary.accounts, "account"),
            count(summary.shipments, "shipment"),
            count(summary.returns, "return"),
            summary.seconds
        )?;
        let c = &summary.changes;
        writeln!(
            out,
            "Changes: {}: {} canceled (at period end {}, immediately {}, on a date {}; {} without credit; {} withdrawn), {} ({} over several periods), {} left open ({} resumed), {} (at period end {}, immediately {}), {} prorated; {} and {} issued on the way.",
            count(c.changes(), "change"),
            c.canceled_period_end + c.canceled_immediately + c.canceled_on_date,
            c.canceled_period_end,
            c.canceled_immediately,
            c.canceled_on_date,
            c.canceled_without_credit,
            c.cancels_withdrawn,
            count(c.holds, "vacation hold"),
            c.holds_over_several_periods,
            count(c.holds_open, "hold"),
            c.holds_resumed,
            count(
                c.plan_changes_period_end + c.plan_changes_immediately,
                "plan change"
            ),
            c.plan_changes_period_end,
            c.plan_changes_immediately,
            count(c.quantity_changes_prorated, "quantity change"),
            count(c.credit_notes, "credit note"),
            count(summary.invoices, "invoice"),
        )?;
    }
    Ok(())
}

async fn generate(args: &Args) -> CliResult<Summary> {
    let engine = args.db.engine(Setup::default()).await?;
    let store = args.db.open_with_fixtures().await?;
    let before = args
        .start
        .pred_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| Failure::invalid_input("invalid --start", "the date is out of range"))?
        .and_utc();
    // Into an existing database: what an earlier generate wrote would conflict half-way through,
    // so it is refused before anything is written.
    for (id, ..) in ACCOUNTS {
        if engine.store().account(id).await?.is_some() {
            return Err(Failure::invalid_input(
                format!("invalid --db {}", crate::database::redact(&args.db.db)),
                format!(
                    "it already holds account {id:?} (an earlier generate): generate fills a new database"
                ),
            ));
        }
    }
    let clock = Arc::new(FixedClock::new(before));
    let engine = engine.with_clock(clock);
    let actor = "generate";
    let mut summary = Summary {
        accounts: ACCOUNTS.len(),
        plans: ACCOUNTS.len() * PLANS.len(),
        ..Summary::default()
    };

    let monthly = BillingInterval::new(IntervalUnit::Month, 1)?;
    for (id, tz, currency, inclusive) in ACCOUNTS {
        let account = Account {
            tax_inclusive: inclusive,
            locale: Default::default(),
            ..Account::new(id, tz)
        };
        engine.save_account(&account, actor).await?;
        for (suffix, nickname, prompt) in PLANS {
            let prompt = prompt.replace('$', currency_symbol(currency));
            let plan = Plan {
                product_id: Some("prod_generated".to_owned()),
                nickname: nickname.to_owned(),
                ..Plan::ai(format!("plan_{suffix}"), currency, monthly, prompt)
            };
            engine
                .save_plan(&SavePlan {
                    account_id: id.to_owned(),
                    plan,
                    actor: actor.to_owned(),
                })
                .await
                .map_err(|e| {
                    Failure::from(e).context(format!("the generated plan {nickname:?} in {id}"))
                })?;
        }
    }

    let plans: Vec<String> = PLANS
        .iter()
        .map(|(suffix, _, _)| format!("plan_{suffix}"))
        .collect();
    let results: Vec<(u64, u64, Traffic)> = stream::iter(0..args.subscriptions)
        .map(|n| subscription(&engine, &store, args, &plans, n))
        .buffer_unordered(8)
        .try_collect()
        .await?;
    for (shipments, returns, changes) in results {
        summary.customers += 1;
        summary.subscriptions += 1;
        summary.shipments += shipments;
        summary.returns += returns;
        summary.changes.add(&changes);
    }
    summary.invoices = engine.store().stats().await?.invoices;
    Ok(summary)
}

/// The file of a SQLite `url` when it does not exist yet (so this run would create it); `None`
/// for memory, PostgreSQL, or a file that is already there (never removed).
fn new_sqlite_file(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite://")?.split('?').next()?;
    let path = PathBuf::from(path);
    (!path.as_os_str().is_empty() && !path.exists()).then_some(path)
}

/// Removes a SQLite file and its WAL files (best effort: what cannot be removed is left).
fn remove_sqlite_file(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
}

fn currency_symbol(currency: Currency) -> &'static str {
    if currency == Currency::EUR {
        "€"
    } else {
        "$"
    }
}

/// Creates subscription `n`: its customer, the subscription, the customer's deliveries, then the
/// changes it gets over that history (drawn from a stream of their own, so the rest of the data
/// is what the same seed always gave).
async fn subscription(
    engine: &Engine,
    store: &Arc<dyn FixtureStore>,
    args: &Args,
    plans: &[String],
    n: u32,
) -> CliResult<(u64, u64, Traffic)> {
    let mut rng = Lcg(args.seed.wrapping_mul(1_000_003).wrapping_add(u64::from(n)));
    rng.next();
    let account_index = (rng.below(ACCOUNTS.len() as u64)) as usize;
    let (account_id, tz, _, _) = ACCOUNTS[account_index];
    let (plan_suffix, _, _) = PLANS[rng.below(PLANS.len() as u64) as usize];
    let customer_id = format!("cus_{n:07}");
    // The address draws from `rng` before the exemption: the same seed gives the same data.
    let mut customer = Customer::new(account_id, customer_id.clone())
        .with_tax_address(address(account_index, rng.next()));
    if rng.below(20) == 0 {
        customer = customer.exempt();
    }
    engine.save_customer(&customer, "generate").await?;
    let start = args.start + TimeDelta::days(rng.below(28) as i64);
    let quantity = match rng.below(20) {
        0 => 10 + rng.below(41) as u32,
        1..=12 => 1,
        13..=17 => 2,
        _ => 3,
    };
    engine
        .create_subscription(&CreateSubscription {
            account_id: account_id.to_owned(),
            id: format!("sub_{n:07}"),
            customer_id: customer_id.clone(),
            plan_id: format!("plan_{plan_suffix}"),
            quantity,
            start_date: start,
            actor: "generate".to_owned(),
            request_id: None,
        })
        .await?;
    let end = start
        .checked_add_months(Months::new(args.months))
        .unwrap_or(NaiveDate::MAX);
    let copies = 1 + rng.below(3) as u32;
    let (shipments, returns) = deliveries(rng.next(), &customer_id, tz, start, end, copies);
    store
        .insert_shipments(account_id, &customer_id, &shipments)
        .await?;
    store
        .insert_returns(account_id, &customer_id, &returns)
        .await?;
    let mut changes_rng = Lcg(args
        .seed
        .wrapping_mul(2_000_029)
        .wrapping_add(0x9E37_79B9)
        .wrapping_add(u64::from(n)));
    changes_rng.next();
    let id = format!("sub_{n:07}");
    let plan_id = format!("plan_{plan_suffix}");
    let generated = Generated {
        account_id,
        tz,
        id: &id,
        plan_id: &plan_id,
        plans,
        quantity,
        start,
        end,
    };
    let changes = crate::traffic::make(engine, &generated, &mut changes_rng).await?;
    Ok((shipments.len() as u64, returns.len() as u64, changes))
}
