//! `ai-billing preview FILE`: what a billing scenario bills, as JSON (`--json`, the contract the
//! scenario scorer reads) or as a readable table.

use std::io::Write;
use std::path::{Path, PathBuf};

use ai_billing::scenario::{self, PreviewReport, Scenario};
use ai_billing::{ErrorCode, Money};

use crate::documents::{Document, numbered, write_all};
use crate::failure::{CliResult, Failure};
use crate::render;

/// Arguments of `preview`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Bill a scenario file (account, plan, subscription, shipments) and show its invoices",
    long_about = "Read a billing scenario (an account, a plan with its plain-language prompt, a \
                  subscription, the number of periods, an optional tax rate, and the customer's \
                  shipments and returns), bill it through the same code path the library uses for \
                  real subscriptions (the billing engine on an embedded SQLite database: the plan \
                  saved, the subscription created on its start date, the shipments and returns read \
                  back through the predefined usage query at each renewal), and print the invoices.\n\n\
                  Without --json: the invoice timing decision, the plan's plain-English reading, and \
                  each invoice with its line items, subtotal, tax, total and revenue schedule by month.\n\
                  With --json: one JSON object { invoice_timing, invoices, program, reading }; amounts \
                  are decimal strings in major units, dates are local YYYY-MM-DD.\n\
                  With --html DIR: also the HTML document of each invoice and credit note, written to \
                  DIR/invoice-01.html ... and DIR/credit-note-01.html ... in the account's locale (what \
                  was written is said on stderr; stdout is unchanged).\n\n\
                  Exit status: 0 billed; 3 the plan prompt was not understood (the reason on stderr, \
                  nothing on stdout); 2 a malformed scenario (the message names the field); 1 anything else.",
    after_help = "Examples:\n  ai-billing preview examples/scenarios/newspaper.json\n  \
                  ai-billing preview --json examples/scenarios/step-up.json\n\n\
                  The scenario format is described in README.md (\"Scenario files\")."
)]
pub struct Args {
    /// The scenario file (JSON).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write the HTML document of every invoice and credit note to this folder
    /// (invoice-01.html, ..., credit-note-01.html, ...), in the scenario account's locale;
    /// stdout stays the same.
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
    #[command(flatten)]
    pub model: crate::model::ModelArgs,
}

/// Runs `preview`.
pub fn run(args: &Args) -> CliResult {
    let text = crate::input::read_json_file(&args.file, "scenario file")?;
    let scenario = Scenario::from_json(&text).map_err(|e| {
        let failure =
            Failure::from(e).context(format!("{} is not a valid scenario", args.file.display()));
        if looks_like_a_case(&text) {
            failure.hint(CASE_HINT)
        } else {
            failure
        }
    })?;
    let configured = args.model.configure()?;
    let options = scenario::PreviewOptions {
        interpreter: configured.interpreter,
        mode: args.model.mode,
        model: configured.model,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::other("cannot start the async runtime", e))?;
    let report = runtime
        .block_on(scenario::preview_with(&scenario, &options))
        .map_err(|e| {
            let refused = e.code() == ErrorCode::PromptNotUnderstood;
            let failure = Failure::from(e);
            if refused {
                failure.context(format!(
                    "nothing billed: the plan prompt of {} was refused",
                    args.file.display()
                ))
            } else {
                failure.context(format!("cannot bill scenario {}", args.file.display()))
            }
        })?;

    // Everything is computed before anything is printed: a failure leaves stdout empty.
    let output = if args.json {
        let mut json = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::other("cannot print the report", e))?;
        json.push('\n');
        json
    } else {
        table(&scenario, &report)?
    };
    if let Some(folder) = &args.html {
        write_documents(folder, &scenario, &report)?;
    }
    let mut out = std::io::stdout().lock();
    out.write_all(output.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Writes the documents of the preview's invoices and credit notes to `folder`, saying so on
/// stderr.
fn write_documents(folder: &Path, scenario: &Scenario, report: &PreviewReport) -> CliResult {
    let rendered = report.documents(&scenario.account.locale);
    let named = |prefix: &str, all: Vec<String>| {
        let count = all.len();
        all.into_iter()
            .enumerate()
            .map(move |(i, html)| Document {
                name: numbered(prefix, i + 1, count),
                html,
            })
            .collect::<Vec<_>>()
    };
    let mut documents = named("invoice", rendered.invoices);
    documents.extend(named("credit-note", rendered.credit_notes));
    let written = write_all(folder, &documents)?;
    writeln!(
        std::io::stderr(),
        "{} written to {}",
        render::count(written.len(), "document"),
        folder.display()
    )?;
    Ok(())
}

/// What to do with a test case file given as a scenario.
const CASE_HINT: &str = "this is a scenario case ({\"scenario\": ..., \"expected\": ...}); preview the \
                         object under \"scenario\", or see examples/scenarios/";

/// Whether `text` is an evaluation case (`{"scenario": ..., "expected": ...}`) rather than a scenario.
fn looks_like_a_case(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .is_ok_and(|v| v.get("scenario").is_some() && v.get("expected").is_some())
}

/// The readable form of a preview.
fn table(scenario: &Scenario, report: &PreviewReport) -> CliResult<String> {
    let plan = &scenario.plan;
    let mut out = String::new();
    let name = if plan.nickname.is_empty() {
        "(unnamed plan)"
    } else {
        plan.nickname.as_str()
    };
    let every = match plan.interval_count {
        1 => format!("every {}", plan.interval.label()),
        n => format!("every {n} {}s", plan.interval.label()),
    };
    out.push_str(&format!(
        "Plan: {name}, billed {every} in {}; account {} ({})\n",
        plan.currency.code(),
        scenario.account.id,
        scenario.account.timezone.name()
    ));
    if let Some(prompt) = &plan.ai_prompt {
        out.push_str(&format!("Prompt: \"{prompt}\"\n"));
    }
    out.push_str(&format!(
        "Subscription: starts {}, quantity {}; {}, {}; {}\n",
        scenario.subscription.start,
        scenario.subscription.quantity,
        render::count(scenario.shipments.len(), "shipment"),
        render::count(scenario.returns.len(), "return"),
        match (scenario.periods, scenario.until) {
            (_, Some(until)) => format!("until {until}"),
            (periods, None) => render::count(periods.unwrap_or(1), "period"),
        }
    ));
    if !scenario.changes.is_empty() {
        out.push_str(&format!(
            "Changes: {}\n",
            render::count(scenario.changes.len(), "change")
        ));
    }
    out.push_str(&format!(
        "Timing: {}\n",
        render::timing(report.invoice_timing)
    ));
    out.push_str("Reading:\n");
    out.push_str(&render::indent(&report.reading, 2));
    out.push('\n');
    let mut billed = Money::zero(report.program.currency);
    for invoice in &report.invoices {
        out.push_str(&render::indent(&render::invoice(invoice), 2));
        out.push('\n');
        billed = billed.checked_add(invoice.total)?;
    }
    let mut credited = Money::zero(report.program.currency);
    for note in &report.credit_notes {
        out.push_str(&render::indent(&render::credit_note(note), 2));
        out.push('\n');
        credited = credited.checked_add(note.total)?;
    }
    out.push_str(&format!(
        "{}, {} in total",
        render::count(report.invoices.len(), "invoice"),
        render::money(&billed)
    ));
    if !report.credit_notes.is_empty() {
        out.push_str(&format!(
            "; {}, {} credited",
            render::count(report.credit_notes.len(), "credit note"),
            render::money(&credited)
        ));
    }
    out.push_str(".\n");
    Ok(out)
}
