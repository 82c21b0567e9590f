//! `ai-billing run`: renews every subscription due up to a date, and `ai-billing stats`.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai_billing::engine::RunDue;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::database::{DbArgs, Setup, block_on};
use crate::failure::{CliResult, Failure};
use crate::tax::TaxArgs;

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Renew every subscription whose invoice is due up to a date",
    long_about = "Renews every subscription whose next invoice is due at or before --until: usage \
                  through the plan's query, the agent payload, tax on the final amount, the revenue \
                  schedule and the invoice, then the next period, in one transaction per invoice. A \
                  subscription that owes several periods is caught up. Safe to re-run, to resume \
                  after a crash, and to run twice at once: no period is billed twice or skipped. \
                  --until cannot be later than now: an invoice is never issued before its time.\n\n\
                  Exit status: 0 when every renewal succeeded; 1 when some failed (each left its \
                  subscription untouched and wrote a renewal_failed audit event); 2 for an \
                  --until later than now.",
    after_help = "Examples:\n  ai-billing run --db sqlite://bench.db --until 2026-04-30\n  ai-billing run --db postgres://postgres@127.0.0.1/billing --until 2026-04-30T05:00:00Z --json"
)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// Bill what is due up to this moment, not later than now: a date (the end of that day,
    /// UTC) or an RFC 3339 instant.
    #[arg(long, value_name = "DATE", value_parser = parse_until)]
    pub until: DateTime<Utc>,
    #[command(flatten)]
    pub tax: TaxArgs,
    #[command(flatten)]
    pub model: crate::model::ModelArgs,
    /// Ship the audit trail while billing: `opensearch` (to --opensearch-url) or `none` (events
    /// wait in the outbox for `ai-billing audit ship`). Shipping never blocks billing.
    #[arg(long, value_name = "SINK", default_value = "none", value_parser = ["none", "opensearch"])]
    pub audit: String,
    #[command(flatten)]
    pub opensearch: crate::audit::OpenSearchArgs,
    /// Renewals in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    /// Billed periods each renewal reads again for usage recorded late (0 turns it off, at most
    /// 12); usage later than that is reported in the audit trail as `late_usage_ignored`.
    #[arg(long, value_name = "PERIODS", default_value_t = 2)]
    pub late_usage_lookback: u32,
    /// Print `{"issued": N, "held": N, "failed": N}` at the end instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `--until`: a date means the last instant of that day in UTC.
fn parse_until(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(date) = text.parse::<NaiveDate>() {
        let end = NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).unwrap_or(NaiveTime::MIN);
        return Ok(date.and_time(end).and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.to_utc())
        .map_err(|_| format!("{text:?} is neither a date (2026-04-30) nor an RFC 3339 instant"))
}

/// Runs `run`.
pub fn run(args: &Args) -> CliResult {
    let started = Instant::now();
    let sink = match args.audit.as_str() {
        "opensearch" => Some(args.opensearch.sink()?),
        _ => None,
    };
    let (report, shipped) = block_on(async {
        let engine = args
            .db
            .engine(Setup {
                tax: Some(&args.tax),
                model: Some(&args.model),
                concurrency: Some(args.concurrency),
                late_usage_lookback: Some(args.late_usage_lookback),
            })
            .await?;
        let store = engine.store().clone();
        let shipper = sink
            .clone()
            .map(|sink| crate::audit::BackgroundShipper::start(store.clone(), sink));
        let bar = progress_bar(args.json);
        let progress_bar = bar.clone();
        let pause = PauseHook::from_env();
        let request = RunDue {
            now: Some(args.until),
            progress: Some(Arc::new(move |report| {
                if let Some(pause) = &pause {
                    pause.reached(report.issued);
                }
                progress_bar.set_position(report.subscriptions);
                progress_bar.set_message(format!(
                    "{} issued, {} held, {} failed",
                    report.issued, report.held, report.failed
                ));
            })),
        };
        let report = engine.run_due(&request).await;
        bar.finish_and_clear();
        // Ship what is left even when the run failed: its events are in the outbox too.
        let shipped = match (shipper, &sink) {
            (Some(shipper), Some(sink)) => {
                Some(shipper.finish(store.as_ref(), sink.as_ref()).await)
            }
            _ => None,
        };
        // A run later than now is refused by the engine (field `now`); say it was --until.
        let report = report.map_err(|error| {
            let ahead =
                matches!(&error, ai_billing::Error::InvalidInput { field, .. } if field == "now");
            let failure = Failure::from(error);
            if ahead {
                failure.context(format!(
                    "cannot run up to --until {}",
                    args.until.to_rfc3339()
                ))
            } else {
                failure
            }
        })?;
        Ok((report, shipped))
    })?;
    if let Some((summary, error)) = &shipped {
        let mut err = std::io::stderr().lock();
        match error {
            None => writeln!(
                err,
                "audit: {} shipped to OpenSearch, {} rejected, {} pending",
                crate::render::count(summary.shipped, "event"),
                summary.rejected,
                summary.pending
            )?,
            Some(error) => writeln!(
                err,
                "audit: OpenSearch did not take every event ({error}); {} in the outbox: run `ai-billing audit ship`",
                crate::render::count(summary.pending, "event")
            )?,
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let summary =
            json!({ "issued": report.issued, "held": report.held, "failed": report.failed });
        writeln!(out, "{summary}")?;
    } else {
        writeln!(
            out,
            "Renewed {} up to {}: {} issued, {} held, {} failed, in {:.1} s (run {}).",
            crate::render::count(report.subscriptions, "subscription"),
            args.until.to_rfc3339(),
            crate::render::count(report.issued, "invoice"),
            report.held,
            report.failed,
            started.elapsed().as_secs_f64(),
            report.run_id
        )?;
    }
    out.flush()?;
    if report.failed > 0 {
        let mut err = std::io::stderr().lock();
        for (account, subscription, error) in &report.failures {
            writeln!(err, "failed: {account}/{subscription}: {error}")?;
        }
        return Err(Failure::other(
            format!(
                "{} of {} renewals failed",
                report.failed, report.subscriptions
            ),
            "each failed renewal left its subscription untouched and wrote a renewal_failed audit event",
        ));
    }
    Ok(())
}

/// The environment variable of the test hook [`PauseHook`].
const PAUSE_FILE_VAR: &str = "AI_BILLING_TEST_PAUSE_FILE";

/// A test hook, for the tests that kill a run and resume it: with `AI_BILLING_TEST_PAUSE_FILE`
/// set to a path, the run stops for good as soon as it has committed its first invoices (the
/// engine reports progress only after a page of renewals is committed), writes that path (the
/// number of invoices issued so far) and waits there until it is killed. So a test knows the run
/// is mid-way, with invoices committed and the run not finished, without guessing a delay. Never
/// set it outside a test: the run never ends.
#[derive(Debug)]
struct PauseHook {
    path: std::path::PathBuf,
}

impl PauseHook {
    /// The hook the environment asks for, if any.
    fn from_env() -> Option<PauseHook> {
        std::env::var_os(PAUSE_FILE_VAR)
            .filter(|path| !path.is_empty())
            .map(|path| PauseHook { path: path.into() })
    }

    /// Called with the invoices issued so far after each renewal: once there are some, says so
    /// in the file and blocks the run's driver (nothing more is read or claimed) until killed.
    fn reached(&self, issued: u64) {
        if issued == 0 {
            return;
        }
        // Written whole under another name, then renamed: the test never reads half a file.
        let partial = self.path.with_extension("partial");
        if std::fs::write(&partial, issued.to_string()).is_ok() {
            let _ = std::fs::rename(&partial, &self.path);
        }
        loop {
            std::thread::park();
        }
    }
}

/// A spinner with counts on a terminal; nothing otherwise.
fn progress_bar(json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {pos} subscriptions renewed: {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Arguments of `stats`.
#[derive(Debug, clap::Args)]
#[command(about = "Count subscriptions, invoices and audit events (shipped and pending)")]
pub struct StatsArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Print JSON: `{"subscriptions": N, "invoices": N, "audit_events": N, "audit_pending": N}`.
    #[arg(long)]
    pub json: bool,
}

/// Runs `stats`.
pub fn stats(args: &StatsArgs) -> CliResult {
    let stats = block_on(async {
        let store = args.db.open().await?;
        Ok(store.stats().await?)
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let json =
            serde_json::to_string(&stats).map_err(|e| Failure::other("printing the stats", e))?;
        writeln!(out, "{json}")?;
    } else {
        writeln!(
            out,
            "subscriptions {}\ninvoices {}\naudit events {} ({} pending)",
            stats.subscriptions, stats.invoices, stats.audit_events, stats.audit_pending
        )?;
    }
    Ok(())
}
