//! Billing scenarios (the format of `eval/README.md`) and their preview: an account, a plan, a
//! subscription, a number of periods, optional tax, and the shipments and returns of the period.
//!
//! [`Scenario::from_json`] parses and checks a scenario; every error names its field as a path
//! (`plan.currency`, `subscription.quantity`, `returns[0].shipment_id`). [`preview`] (feature
//! `sqlite`) bills it with the billing engine itself on an in-memory SQLite store: the plan saved
//! (its prompt interpreted), the subscription created on its start date, the shipments and returns
//! read back through the predefined usage query, and renewals up to the last period.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::credit_note::CreditNote;
use crate::engine::{MAX_QUANTITY, Quantity};
use crate::error::{Error, Result};
use crate::invoice::Invoice;
use crate::json::from_json_object;
use crate::plan::{Account, Plan};
use crate::pricing::{InvoiceTiming, PricingProgram};
use crate::tax::{self, FlatRate, NoTax, TaxCalculator};
use crate::usage::Shipment;

mod timeline;

use timeline::What;
pub use timeline::{
    CancelChange, Empty, PauseChange, PlanChange, QuantityChange, ResumeChange, ScenarioChange,
    ScenarioReturn, ScenarioShipment,
};

/// The most periods a scenario may bill (100 years of months).
pub const MAX_PERIODS: u32 = 1200;

/// The customer id a scenario's shipments and returns belong to in the embedded database.
pub const SCENARIO_CUSTOMER_ID: &str = "cus_scenario";

/// The name of a scenario's flat tax line.
pub const SCENARIO_TAX_NAME: &str = "Tax";

/// One billing scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The account that owns the plan.
    pub account: Account,
    /// The plan (a scenario's plan has no `id` or `product_id`).
    pub plan: Plan,
    /// The subscription to the plan.
    pub subscription: ScenarioSubscription,
    /// How many periods to bill, 1 to [`MAX_PERIODS`]; or, instead, `until`.
    #[serde(
        default,
        deserialize_with = "de_periods",
        skip_serializing_if = "Option::is_none"
    )]
    pub periods: Option<u32>,
    /// Bill everything due up to the end of this local date, instead of a number of periods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// A flat tax on each invoice's subtotal; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<ScenarioTax>,
    /// The customer's shipments, each inserted when it was recorded.
    #[serde(default)]
    pub shipments: Vec<ScenarioShipment>,
    /// The customer's returns, each inserted when it was recorded.
    #[serde(default)]
    pub returns: Vec<ScenarioReturn>,
    /// The changes made to the subscription, each at its `made_at`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<ScenarioChange>,
}

/// A scenario's subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSubscription {
    /// The local date the subscription starts on: the anchor of its periods.
    pub start: NaiveDate,
    /// Subscribed copies, 1 to [`MAX_QUANTITY`]; 1 when absent.
    #[serde(default, deserialize_with = "de_quantity")]
    pub quantity: Quantity,
}

/// A scenario's tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioTax {
    /// The rate as a fraction (`0.0825`), from 0 to 1; written as a JSON string or number, read
    /// exactly either way.
    #[serde(
        serialize_with = "rust_decimal::serde::str::serialize",
        deserialize_with = "de_rate"
    )]
    #[schemars(with = "crate::json::DecimalString")]
    pub rate: Decimal,
}

/// A whole number read from JSON for a bounded count, with a message that says the bounds (a
/// negative number or a fraction is refused in words, not as "expected u32").
struct CountVisitor {
    what: &'static str,
    max: u32,
}

impl<'de> serde::de::Visitor<'de> for CountVisitor {
    type Value = u32;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a whole number of {} from 1 to {}", self.what, self.max)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<u32, E> {
        u32::try_from(v)
            .map_err(|_| E::custom(format_args!("must be from 1 to {}, got {v}", self.max)))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<u32, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format_args!(
                "cannot be negative: must be a whole number of {} from 1 to {}, got {v}",
                self.what, self.max
            ))),
        }
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> std::result::Result<u32, A::Error> {
        // serde_json's arbitrary-precision form of a number.
        use serde::de::Error as _;
        let number =
            serde_json::Number::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        let text = number.as_str();
        if let Ok(v) = text.parse::<u64>() {
            return self.visit_u64(v);
        }
        if let Ok(v) = text.parse::<i64>() {
            return self.visit_i64(v);
        }
        Err(A::Error::custom(format_args!(
            "must be a whole number of {} from 1 to {}, got {text}",
            self.what, self.max
        )))
    }
}

fn de_quantity<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Quantity, D::Error> {
    let count = deserializer.deserialize_u64(CountVisitor {
        what: "copies",
        max: MAX_QUANTITY,
    })?;
    Quantity::try_from(count).map_err(serde::de::Error::custom)
}

fn de_periods<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<u32>, D::Error> {
    deserializer
        .deserialize_u64(CountVisitor {
            what: "periods",
            max: MAX_PERIODS,
        })
        .map(Some)
}

/// A rate written as a JSON string (`"0.0825"`) or number (`0.0825`), kept exactly as written.
fn de_rate<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Decimal, D::Error> {
    struct RateVisitor;
    fn exact<E: serde::de::Error>(text: &str) -> std::result::Result<Decimal, E> {
        Decimal::from_str_exact(text.trim())
            .or_else(|_| Decimal::from_scientific(text.trim()))
            .map_err(|_| {
                E::custom(format_args!(
                    "{text:?} is not a decimal rate such as \"0.0825\""
                ))
            })
    }
    impl<'de> serde::de::Visitor<'de> for RateVisitor {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a decimal rate such as \"0.0825\" or 0.0825")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Decimal, E> {
            exact(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            map: A,
        ) -> std::result::Result<Decimal, A::Error> {
            // serde_json's arbitrary-precision form of a number: its digits as written.
            let number =
                serde_json::Number::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            exact(number.as_str())
        }
    }
    deserializer.deserialize_any(RateVisitor)
}

impl Scenario {
    /// Parses a scenario and checks it ([`Scenario::validate`]). A malformed document or value is
    /// [`Error::InvalidInput`] naming the field path; an AI plan on an account that is not
    /// abstracted is [`Error::PlanNotAvailable`]; an unknown usage query is
    /// [`Error::UnknownUsageQuery`].
    pub fn from_json(text: &str) -> Result<Scenario> {
        let scenario: Scenario = from_json_object(text, "scenario")
            .map_err(|(field, message)| Error::invalid(field, message))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Checks what the types do not: the plan is available to the account, quantity and periods
    /// are in range, the plan's fields (interval count, amount, prompt size, usage query), the tax
    /// rate, shipment and return quantities of at least 1, unique ids, and every return pointing at
    /// a shipment of the scenario, no earlier than it shipped and for no more units than it held.
    pub fn validate(&self) -> Result<()> {
        if self.account.id.trim().is_empty() {
            return Err(Error::invalid("account.id", "cannot be empty"));
        }
        self.plan.check_available(&self.account)?;
        crate::calendar::check_start_date("subscription.start", self.subscription.start)?;
        match (self.periods, self.until) {
            (Some(periods), None) if !(1..=MAX_PERIODS).contains(&periods) => {
                return Err(Error::invalid(
                    "periods",
                    format!("must be a whole number from 1 to {MAX_PERIODS}, got {periods}"),
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "until",
                    "give either periods or until, not both",
                ));
            }
            (None, None) => {
                return Err(Error::invalid(
                    "periods",
                    "missing: give the number of periods to bill, or until (a local date)",
                ));
            }
            (None, Some(until)) if until < self.subscription.start => {
                return Err(Error::invalid(
                    "until",
                    format!(
                        "{until} is before the subscription starts ({})",
                        self.subscription.start
                    ),
                ));
            }
            _ => {}
        }
        self.validate_changes()?;
        self.plan.validate()?;
        if let Some(tax) = &self.tax {
            tax::check_rate(tax.rate)?;
        }
        let mut shipments: HashMap<&str, &Shipment> = HashMap::with_capacity(self.shipments.len());
        let rows: Vec<Shipment> = self.shipments.iter().map(ScenarioShipment::row).collect();
        for (i, (recorded, shipment)) in self.shipments.iter().zip(&rows).enumerate() {
            if recorded
                .recorded_at
                .is_some_and(|at| at < shipment.shipped_at)
            {
                return Err(Error::invalid(
                    format!("shipments[{i}].recorded_at"),
                    "is before the shipment shipped",
                ));
            }
            if shipment.id.trim().is_empty() {
                return Err(Error::invalid(
                    format!("shipments[{i}].id"),
                    "cannot be empty",
                ));
            }
            if shipment.quantity < 1 {
                return Err(Error::invalid(
                    format!("shipments[{i}].quantity"),
                    "must be at least 1",
                ));
            }
            if shipments.insert(shipment.id.as_str(), shipment).is_some() {
                return Err(Error::invalid(
                    format!("shipments[{i}].id"),
                    format!(
                        "{:?} is the id of an earlier shipment too; ids must be unique",
                        shipment.id
                    ),
                ));
            }
        }
        let mut return_ids = std::collections::HashSet::with_capacity(self.returns.len());
        for (i, recorded) in self.returns.iter().enumerate() {
            let ret = recorded;
            if recorded.recorded_at.is_some_and(|at| at < ret.returned_at) {
                return Err(Error::invalid(
                    format!("returns[{i}].recorded_at"),
                    "is before the return was made",
                ));
            }
            if ret.id.trim().is_empty() {
                return Err(Error::invalid(
                    format!("returns[{i}].id"),
                    "cannot be empty",
                ));
            }
            if !return_ids.insert(ret.id.as_str()) {
                return Err(Error::invalid(
                    format!("returns[{i}].id"),
                    format!(
                        "{:?} is the id of an earlier return too; ids must be unique",
                        ret.id
                    ),
                ));
            }
            if ret.quantity < 1 {
                return Err(Error::invalid(
                    format!("returns[{i}].quantity"),
                    "must be at least 1",
                ));
            }
            let Some(shipment) = shipments.get(ret.shipment_id.as_str()) else {
                return Err(Error::invalid(
                    format!("returns[{i}].shipment_id"),
                    format!(
                        "{:?} is not the id of a shipment in the scenario",
                        ret.shipment_id
                    ),
                ));
            };
            if ret.returned_at < shipment.shipped_at {
                return Err(Error::invalid(
                    format!("returns[{i}].returned_at"),
                    format!(
                        "is before shipment {:?} shipped ({})",
                        shipment.id,
                        shipment.shipped_at.to_rfc3339()
                    ),
                ));
            }
            if ret.quantity > shipment.quantity {
                return Err(Error::invalid(
                    format!("returns[{i}].quantity"),
                    format!(
                        "returns {} units but shipment {:?} held {}",
                        ret.quantity, shipment.id, shipment.quantity
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks each change: exactly one kind, made no earlier than the subscription starts, a new
    /// plan valid and available to the account.
    fn validate_changes(&self) -> Result<()> {
        let start = crate::calendar::local_midnight(self.account.timezone, self.subscription.start)
            .to_utc();
        for (i, change) in self.changes.iter().enumerate() {
            let what = change.what(&format!("changes[{i}]"))?;
            if change.made_at < start {
                return Err(Error::invalid(
                    format!("changes[{i}].made_at"),
                    format!(
                        "{} is before the subscription starts ({})",
                        change.made_at.to_rfc3339(),
                        self.subscription.start
                    ),
                ));
            }
            match what {
                What::Plan(plan) => {
                    // The plan's own paths (`plan.currency`) under the change's.
                    let field = |e: Error| match e {
                        Error::InvalidInput { field, reason } => {
                            let inner = field.strip_prefix("plan").unwrap_or(&field);
                            Error::invalid(format!("changes[{i}].plan.to{inner}"), reason)
                        }
                        other => other,
                    };
                    plan.to.check_available(&self.account).map_err(field)?;
                    plan.to.validate().map_err(field)?;
                }
                What::Quantity(quantity) => {
                    Quantity::new(quantity.to).map_err(|_| {
                        Error::invalid(
                            format!("changes[{i}].quantity.to"),
                            format!(
                                "must be a whole number from 1 to {MAX_QUANTITY}, got {}",
                                quantity.to
                            ),
                        )
                    })?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The scenario's tax: [`FlatRate`] at `tax.rate`, or [`NoTax`].
    pub fn tax_calculator(&self) -> Result<Box<dyn TaxCalculator>> {
        Ok(match &self.tax {
            Some(tax) => Box::new(FlatRate::new(SCENARIO_TAX_NAME, tax.rate)?),
            None => Box::new(NoTax),
        })
    }
}

/// What a scenario bills: the JSON that `ai-billing preview --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PreviewReport {
    /// When the plan's invoices are issued.
    pub invoice_timing: InvoiceTiming,
    /// Every invoice issued, in issue order (those of one day by period start).
    pub invoices: Vec<Invoice>,
    /// Every credit note issued, in issue order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credit_notes: Vec<CreditNote>,
    /// The pricing program the plan compiled to.
    pub program: PricingProgram,
    /// The program in plain English ([`PricingProgram::describe`]).
    pub reading: String,
    /// The periods whose invoice was held for review (agent modes only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held_periods: Vec<u32>,
}

impl PreviewReport {
    /// The HTML documents of the preview's invoices and credit notes ([`crate::document`]), in
    /// `locale` (the scenario account's), in the report's order. An invoice is numbered with the
    /// id the engine gave it ([`SCENARIO_SUBSCRIPTION_ID`]'s invoice of its period, the id its
    /// credit notes name), and one whose period was held says so.
    pub fn documents(&self, locale: &crate::locale::Locale) -> PreviewDocuments {
        use crate::document::{self, DocumentHeader, DocumentOptions};
        use crate::subscription::{InvoiceStatus, invoice_id};

        let options = DocumentOptions::new(locale.clone());
        let invoices = self
            .invoices
            .iter()
            .map(|invoice| {
                let held = self.held_periods.contains(&invoice.period_index);
                let header = DocumentHeader {
                    id: Some(invoice_id(SCENARIO_SUBSCRIPTION_ID, invoice.period_start)),
                    customer_id: Some(SCENARIO_CUSTOMER_ID.to_owned()),
                    subscription_id: Some(SCENARIO_SUBSCRIPTION_ID.to_owned()),
                    status: Some(if held {
                        InvoiceStatus::Held
                    } else {
                        InvoiceStatus::Open
                    }),
                };
                document::render_invoice(invoice, &header, &options)
            })
            .collect();
        let credit_notes = self
            .credit_notes
            .iter()
            .map(|note| document::render_credit_note(note, &options))
            .collect();
        PreviewDocuments {
            invoices,
            credit_notes,
        }
    }
}

/// The HTML documents of a preview: one per invoice and per credit note, in the report's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PreviewDocuments {
    /// The document of each invoice of [`PreviewReport::invoices`].
    pub invoices: Vec<String>,
    /// The document of each credit note of [`PreviewReport::credit_notes`].
    pub credit_notes: Vec<String>,
}

/// A preview with the documents of its invoices and credit notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DocumentedPreview {
    /// What the scenario bills.
    #[serde(flatten)]
    pub report: PreviewReport,
    /// The documents, in the scenario account's locale.
    pub documents: PreviewDocuments,
}

/// How a preview interprets the plan and writes each payload: the offline interpreter and the
/// compiled mode by default.
#[derive(Debug, Clone)]
pub struct PreviewOptions {
    /// Reads an AI plan's prompt.
    pub interpreter: std::sync::Arc<dyn crate::interpreter::Interpreter>,
    /// How each invoice's payload is written.
    pub mode: crate::engine::BillingMode,
    /// The model of the agent modes.
    pub model: Option<std::sync::Arc<dyn crate::model::LanguageModel>>,
}

impl Default for PreviewOptions {
    fn default() -> Self {
        PreviewOptions {
            interpreter: std::sync::Arc::new(crate::interpreter::OfflineInterpreter),
            mode: crate::engine::BillingMode::Compiled,
            model: None,
        }
    }
}

/// The plan id a scenario's plan is saved under when it has none.
pub const SCENARIO_PLAN_ID: &str = "plan_scenario";

/// The id of a scenario's subscription.
pub const SCENARIO_SUBSCRIPTION_ID: &str = "sub_scenario";

/// Bills a scenario with the offline interpreter in the compiled mode: [`preview_with`].
#[cfg(feature = "sqlite")]
pub async fn preview(scenario: &Scenario) -> Result<PreviewReport> {
    preview_with(scenario, &PreviewOptions::default()).await
}

/// Bills a scenario's periods through the billing engine itself, on an in-memory SQLite store
/// and a clock that moves through the scenario: the account, a customer
/// ([`SCENARIO_CUSTOMER_ID`]) and the plan are saved (an AI prompt is interpreted then), the
/// shipments and returns inserted, the subscription created on its start date (a plan billed in
/// advance is invoiced then), and renewed up to the issue date of the last period. So a preview
/// is exactly what the platform would bill, by the same code.
///
/// A renewal that fails ends the preview with its error (a usage the prompt gives no price for is
/// [`Error::UsageNotPriced`]); in the agent modes a payload that disagrees with the program makes
/// a held invoice ([`PreviewReport::held_periods`]).
#[cfg(feature = "sqlite")]
#[tracing::instrument(
    name = "preview",
    level = "debug",
    skip_all,
    fields(
        account = %scenario.account.id,
        plan_type = ?scenario.plan.plan_type,
        periods = ?scenario.periods,
        until = ?scenario.until,
        changes = scenario.changes.len(),
        shipments = scenario.shipments.len(),
        returns = scenario.returns.len(),
        mode = options.mode.as_str(),
    )
)]
pub async fn preview_with(scenario: &Scenario, options: &PreviewOptions) -> Result<PreviewReport> {
    use std::sync::Arc;

    use crate::calendar::local_midnight;
    use crate::clock::FixedClock;
    use crate::sqlite::SqliteStore;
    use crate::store::BillingState as _;

    scenario.validate()?;
    let account = &scenario.account;
    let start = scenario.subscription.start;
    let clock = Arc::new(FixedClock::new(
        local_midnight(account.timezone, start).to_utc(),
    ));
    let store = Arc::new(SqliteStore::open("sqlite::memory:").await?);
    // Closed on every path, so no connection thread outlives the preview (a C caller that exits
    // right after it would otherwise see the thread's memory as leaked).
    let report = bill_scenario(scenario, options, store.clone(), clock).await;
    store.close().await?;
    report
}

/// The body of [`preview_with`], on its in-memory store and clock.
#[cfg(feature = "sqlite")]
async fn bill_scenario(
    scenario: &Scenario,
    options: &PreviewOptions,
    store: std::sync::Arc<crate::sqlite::SqliteStore>,
    clock: std::sync::Arc<crate::clock::FixedClock>,
) -> Result<PreviewReport> {
    use std::sync::Arc;

    use crate::calendar::BillingCalendar;
    use crate::engine::{CreateSubscription, Engine, SavePlan};
    use crate::store::{BillingState as _, InvoiceQuery};
    use crate::subscription::{Customer, InvoiceStatus};

    const ACTOR: &str = "preview";
    let account = &scenario.account;
    let start = scenario.subscription.start;
    store.migrate().await?;
    let engine = Engine::new(store.clone())
        .with_clock(clock.clone())
        .with_tax(Arc::from(scenario.tax_calculator()?))
        .with_interpreter(options.interpreter.clone())
        .with_mode(options.mode, options.model.clone())?;

    let mut plan = scenario.plan.clone();
    if plan.id.is_none() {
        plan.id = Some(SCENARIO_PLAN_ID.to_owned());
    }
    plan.check_available(account)?;
    engine.save_account(account, ACTOR).await?;
    engine
        .save_customer(
            &Customer {
                account_id: account.id.clone(),
                id: SCENARIO_CUSTOMER_ID.to_owned(),
                tax_address: None,
                tax_exempt: false,
            },
            ACTOR,
        )
        .await?;
    let saved = engine
        .save_plan(&SavePlan {
            account_id: account.id.clone(),
            plan,
            actor: ACTOR.to_owned(),
        })
        .await?;
    let program = saved.program;
    // Rows recorded by the start are in the tables from the start; the others arrive at their
    // `recorded_at`, between the runs, as the changes do.
    let start_at = crate::calendar::local_midnight(account.timezone, start).to_utc();
    let (shipments_now, shipments_later): (Vec<_>, Vec<_>) = scenario
        .shipments
        .iter()
        .partition(|row| row.recorded_at.is_none_or(|at| at <= start_at));
    let (returns_now, returns_later): (Vec<_>, Vec<_>) = scenario
        .returns
        .iter()
        .partition(|row| row.recorded_at.is_none_or(|at| at <= start_at));
    let rows = |rows: &[&ScenarioShipment]| rows.iter().map(|r| r.row()).collect::<Vec<_>>();
    store
        .insert_shipments(&account.id, SCENARIO_CUSTOMER_ID, &rows(&shipments_now))
        .await?;
    let returned = |rows: &[&ScenarioReturn]| rows.iter().map(|r| r.row()).collect::<Vec<_>>();
    store
        .insert_returns(&account.id, SCENARIO_CUSTOMER_ID, &returned(&returns_now))
        .await?;
    engine
        .create_subscription(&CreateSubscription {
            account_id: account.id.clone(),
            id: SCENARIO_SUBSCRIPTION_ID.to_owned(),
            customer_id: SCENARIO_CUSTOMER_ID.to_owned(),
            plan_id: saved.plan.id.clone().unwrap_or_default(),
            quantity: scenario.subscription.quantity.get(),
            start_date: start,
            actor: ACTOR.to_owned(),
            request_id: None,
        })
        .await?;

    // Where the scenario ends: the last period's invoice, or the end of `until`.
    let end = match (scenario.until, scenario.periods) {
        (Some(until), _) => timeline::last_instant(account.timezone, until)?,
        (None, periods) => {
            let calendar = BillingCalendar::new(start, program.interval, account.timezone)?;
            let last = calendar.period(periods.unwrap_or(1))?;
            let due = match program.invoice_timing() {
                InvoiceTiming::AtStart => last.start,
                InvoiceTiming::AtRenewal => last.end,
            };
            calendar.local_midnight(due).to_utc()
        }
    };

    // Every change and late row at its instant, in time order (rows first at one instant),
    // after the runs due by then.
    enum Step<'a> {
        Shipment(&'a ScenarioShipment),
        Return(&'a ScenarioReturn),
        Change(usize, &'a ScenarioChange),
    }
    let mut steps: Vec<(chrono::DateTime<chrono::Utc>, u8, Step<'_>)> = Vec::new();
    for row in shipments_later {
        steps.push((row.recorded_at.unwrap_or(start_at), 0, Step::Shipment(row)));
    }
    for row in returns_later {
        steps.push((row.recorded_at.unwrap_or(start_at), 0, Step::Return(row)));
    }
    for (i, change) in scenario.changes.iter().enumerate() {
        steps.push((change.made_at, 1, Step::Change(i, change)));
    }
    steps.sort_by_key(|(at, order, _)| (*at, *order));
    let mut plans = 1;
    for (at, _, step) in steps {
        if at > end {
            break;
        }
        clock.set(at);
        engine
            .renew_subscription(&account.id, SCENARIO_SUBSCRIPTION_ID, at)
            .await?;
        match step {
            Step::Shipment(row) => {
                store
                    .insert_shipments(&account.id, SCENARIO_CUSTOMER_ID, &[row.row()])
                    .await?;
            }
            Step::Return(row) => {
                store
                    .insert_returns(&account.id, SCENARIO_CUSTOMER_ID, &[row.row()])
                    .await?;
            }
            Step::Change(i, change) => {
                apply_change(&engine, account, change, i, &mut plans).await?;
            }
        }
    }
    clock.set(end);
    engine
        .renew_subscription(&account.id, SCENARIO_SUBSCRIPTION_ID, end)
        .await?;

    let mut issued = store
        .invoices(&InvoiceQuery {
            account_id: Some(account.id.clone()),
            subscription_id: Some(SCENARIO_SUBSCRIPTION_ID.to_owned()),
            limit: None,
            ..Default::default()
        })
        .await?;
    issued.sort_by_key(|i| (i.invoice.issue_date, i.invoice.period_start));
    let mut credit_notes = engine
        .credit_notes(&crate::store::CreditNoteQuery {
            account_id: account.id.clone(),
            subscription_id: Some(SCENARIO_SUBSCRIPTION_ID.to_owned()),
            limit: None,
            ..Default::default()
        })
        .await?;
    credit_notes.sort_by_key(|note| (note.issue_date, note.number));
    let held_periods = issued
        .iter()
        .filter(|i| i.status == InvoiceStatus::Held)
        .map(|i| i.invoice.period_index)
        .collect();
    Ok(PreviewReport {
        invoice_timing: program.invoice_timing(),
        invoices: issued.into_iter().map(|i| i.invoice).collect(),
        credit_notes,
        held_periods,
        reading: program.describe(),
        program,
    })
}

/// Makes scenario change `i` on the scenario's subscription; a new plan is saved first, as
/// `plan_scenario_2`, `plan_scenario_3`, ... (`plans` counts them). An error names the change.
#[cfg(feature = "sqlite")]
async fn apply_change(
    engine: &crate::engine::Engine,
    account: &Account,
    change: &ScenarioChange,
    i: usize,
    plans: &mut u32,
) -> Result<()> {
    use crate::engine::{
        CancelSubscription, ChangePlan, ChangeQuantity, PauseSubscription, ResumeSubscription,
        SavePlan, WithdrawCancel,
    };
    const ACTOR: &str = "preview";
    let (account_id, subscription_id) = (account.id.clone(), SCENARIO_SUBSCRIPTION_ID.to_owned());
    // An input error names the change it came from (`changes[1].pause.from`).
    let named = |error: Error| match error {
        Error::InvalidInput { field, reason } => {
            Error::invalid(format!("changes[{i}].{field}"), reason)
        }
        other => other,
    };
    let done = match change.what(&format!("changes[{i}]"))? {
        What::Cancel(cancel) => engine
            .cancel_subscription(&CancelSubscription {
                account_id,
                subscription_id,
                effective: cancel.effective,
                credit_unused: cancel.credit_unused,
                actor: ACTOR.to_owned(),
                request_id: None,
            })
            .await
            .map(drop),
        What::WithdrawCancel => engine
            .withdraw_cancel(&WithdrawCancel {
                account_id,
                subscription_id,
                actor: ACTOR.to_owned(),
                request_id: None,
            })
            .await
            .map(drop),
        What::Pause(pause) => engine
            .pause_subscription(&PauseSubscription {
                account_id,
                subscription_id,
                from: pause.from,
                until: pause.until,
                actor: ACTOR.to_owned(),
                request_id: None,
            })
            .await
            .map(drop),
        What::Resume(resume) => engine
            .resume_subscription(&ResumeSubscription {
                account_id,
                subscription_id,
                on: resume.on,
                actor: ACTOR.to_owned(),
                request_id: None,
            })
            .await
            .map(drop),
        What::Quantity(quantity) => engine
            .change_quantity(&ChangeQuantity {
                account_id,
                subscription_id,
                quantity: quantity.to,
                proration: quantity.proration,
                effective: quantity.effective,
                actor: ACTOR.to_owned(),
                request_id: None,
            })
            .await
            .map(drop),
        What::Plan(plan) => {
            *plans += 1;
            let mut to = plan.to.clone();
            if to.id.is_none() {
                to.id = Some(format!("{SCENARIO_PLAN_ID}_{plans}"));
            }
            let plan_id = to.id.clone().unwrap_or_default();
            engine
                .save_plan(&SavePlan {
                    account_id: account_id.clone(),
                    plan: to,
                    actor: ACTOR.to_owned(),
                })
                .await?;
            engine
                .change_plan(&ChangePlan {
                    account_id,
                    subscription_id,
                    plan_id,
                    effective: plan.effective,
                    actor: ACTOR.to_owned(),
                    request_id: None,
                })
                .await
                .map(drop)
        }
    };
    done.map_err(named)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::json_error_location;

    fn field(err: Error) -> String {
        match err {
            Error::InvalidInput { field, .. } => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    fn parse_err(json: &str) -> Error {
        // Only the serde step: these cases fail before any semantic check.
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let e = serde_path_to_error::deserialize::<_, Scenario>(&mut deserializer).unwrap_err();
        let (field, message) = json_error_location(&e, "scenario");
        Error::invalid(field, message)
    }

    #[test]
    fn only_an_object_is_a_scenario() {
        for text in ["[1, 2]", "3", "\"scenario\"", "null"] {
            match Scenario::from_json(text) {
                Err(Error::InvalidInput { field, reason }) => {
                    assert_eq!(field, "scenario");
                    assert!(reason.contains("must be a JSON object"), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
        match Scenario::from_json("[1, ") {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "scenario");
                assert!(reason.contains("not valid JSON"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_errors_name_their_path() {
        assert_eq!(field(parse_err("{")), "scenario");
        assert_eq!(field(parse_err("{}")), "account");
        assert_eq!(
            field(parse_err(r#"{"account": {"id": "a", "abstracted": true}}"#)),
            "account.timezone"
        );
        assert_eq!(
            field(parse_err(
                r#"{"account": {"id": "a", "abstracted": true, "timezone": "Mars/Base"}}"#
            )),
            "account.timezone"
        );
    }

    #[test]
    fn counts_refuse_negatives_and_fractions_in_words() {
        #[derive(Debug, Deserialize)]
        struct Q {
            #[serde(deserialize_with = "de_quantity")]
            #[allow(dead_code)]
            quantity: Quantity,
        }
        for (json, needle) in [
            (r#"{"quantity": -3}"#, "cannot be negative"),
            (r#"{"quantity": 1.5}"#, "whole number"),
            (r#"{"quantity": 99999999999}"#, "from 1 to 100000"),
            (r#"{"quantity": "3"}"#, "whole number"),
        ] {
            let err = serde_json::from_str::<Q>(json).unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
        assert_eq!(
            serde_json::from_str::<Q>(r#"{"quantity": 7}"#)
                .unwrap()
                .quantity,
            7
        );
    }

    #[test]
    fn rates_are_read_exactly_from_strings_and_numbers() {
        for json in [
            r#"{"rate": "0.0825"}"#,
            r#"{"rate": 0.0825}"#,
            r#"{"rate": 8.25e-2}"#,
        ] {
            let tax: ScenarioTax = serde_json::from_str(json).unwrap();
            assert_eq!(tax.rate, Decimal::new(825, 4), "{json}");
        }
        // More digits than an f64 holds survive.
        let tax: ScenarioTax = serde_json::from_str(r#"{"rate": 0.12345678901234567891}"#).unwrap();
        assert_eq!(tax.rate.to_string(), "0.12345678901234567891");
        assert_eq!(
            serde_json::from_str::<ScenarioTax>(r#"{"rate": 1}"#)
                .unwrap()
                .rate,
            Decimal::ONE
        );
        assert!(serde_json::from_str::<ScenarioTax>(r#"{"rate": "8.25%"}"#).is_err());
        assert!(serde_json::from_str::<ScenarioTax>(r#"{"rate": true}"#).is_err());
        assert_eq!(
            serde_json::to_string(&ScenarioTax {
                rate: Decimal::new(825, 4)
            })
            .unwrap(),
            r#"{"rate":"0.0825"}"#
        );
    }
}
