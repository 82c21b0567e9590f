//! The billing agent of the agent modes: a language model writes the period's payload (the shape
//! of [`AgentPayload`]) from the plan's rule, the subscription and the period's usage; the payload
//! is parsed strictly and validated, retried with its problems at most twice, and cross-checked
//! against the pricing program. The model proposes; the program decides whether it is issued.
//!
//! What reaches the model is the plan's rule, the subscription's quantity, period and currency,
//! and the usage as numbers per day of week: no free text from shipment rows, no customer data.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::agent::{AgentPayload, PayloadExpectations};
use crate::calendar::{BillingCalendar, Period};
use crate::error::{Error, Result};
use crate::invoice::LineItem;
use crate::model::{LanguageModel, Message, ModelAnswer, ModelRequest, ModelResponse, Role};
use crate::money::{Currency, Money};
use crate::pricing::ChargeKind;
use crate::usage::PeriodUsage;

/// How an invoice's payload is written.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BillingMode {
    /// The pricing program writes the payload: no model call at renewal (the default).
    #[default]
    Compiled,
    /// A model writes the payload, as the platform specified; it is issued as the model wrote it
    /// when its total agrees with the program's, and held for review otherwise.
    Agent,
    /// A model writes the payload; it is issued only when every line agrees with the program's
    /// (same lines, same amounts, in order), and held for review otherwise.
    AgentChecked,
}

impl BillingMode {
    /// The mode as the CLI and the audit trail spell it (`agent_checked`).
    pub fn as_str(&self) -> &'static str {
        match self {
            BillingMode::Compiled => "compiled",
            BillingMode::Agent => "agent",
            BillingMode::AgentChecked => "agent_checked",
        }
    }

    /// Whether the mode calls a model.
    pub fn uses_model(&self) -> bool {
        *self != BillingMode::Compiled
    }
}

impl FromStr for BillingMode {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "compiled" => Ok(BillingMode::Compiled),
            "agent" => Ok(BillingMode::Agent),
            "agent_checked" => Ok(BillingMode::AgentChecked),
            other => Err(Error::invalid(
                "mode",
                format!("{other:?} is not compiled, agent or agent_checked"),
            )),
        }
    }
}

/// The most times a payload that fails validation is asked for again, with its problems.
pub const MAX_PAYLOAD_RETRIES: u32 = 2;

/// What the agent is told about one period.
#[derive(Debug, Clone)]
pub(crate) struct AgentInput<'a> {
    /// The plan's rule: the AI plan's prompt, or the program's reading for other plans.
    pub rule: String,
    /// Copies or seats.
    pub quantity: crate::subscription::Quantity,
    /// The period billed.
    pub period: &'a Period,
    /// Its calendar (for the period's instants).
    pub calendar: &'a BillingCalendar,
    /// The plan's currency.
    pub currency: Currency,
    /// The period's usage, for plans with usage charges.
    pub usage: Option<&'a PeriodUsage>,
    /// The days served, when the period was not served whole at one quantity (a pause, an end
    /// or a quantity change inside it).
    pub served: Option<crate::proration::Served>,
    /// Lines that settle changes on earlier periods, to be copied onto the invoice as given.
    pub settlements: Vec<crate::pricing::PricedLine>,
}

/// One model call of an agent exchange, for the audit trail.
#[derive(Debug, Clone)]
pub(crate) struct AgentCall {
    /// 1 for the first ask, 2 and 3 for the retries.
    pub attempt: u32,
    /// The model's answer, when the call returned one.
    pub response: Option<ModelResponse>,
    /// Why the answer was not accepted (parse or validation problems), if it was not.
    pub problems: Vec<String>,
    /// The call's own error, if it failed.
    pub error: Option<String>,
}

const SYSTEM: &str = "You are the billing agent of a subscription platform. For one billing period of one \
subscription you write the invoice payload, following the plan's billing rule exactly.\n\
Rules: amounts are decimal numbers in the plan's currency, rounded to its minor unit (half away from \
zero) per line item; the invoice amount is the sum of the line items, before tax. A recurring price is \
multiplied by the subscription quantity; usage charges are not. Usage is given as counts per local day \
of week (monday..sunday): shipments (rows), units (copies shipped), returned shipments and returned \
units; returns matter only if the rule says returns are credited or not billed. Use the period's start \
and end exactly as given for current_period_start/start_date and current_period_end/end_date. Write \
one line item per charge, with a short description. When `served` is given, the period was not served \
whole (a pause, a cancellation or a quantity change inside it): bill each recurring charge once per \
quantity, round(price x quantity x days / period_days), and prorate usage minimums and caps by the \
served days over period_days. Copy every line under `settlements` onto the invoice as given, after the \
plan's own lines. If the rule does not say how to bill this period, refuse instead of guessing.";

/// The usage as numbers per weekday, Monday first.
fn usage_json(usage: &PeriodUsage) -> serde_json::Value {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let by_day = |values: &[u64; 7]| -> serde_json::Value {
        DAYS.iter()
            .zip(values)
            .map(|(day, value)| ((*day).to_owned(), json!(value)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    json!({
        "shipments": by_day(&usage.shipments),
        "units": by_day(&usage.units),
        "returned_shipments": by_day(&usage.returned_shipments),
        "returned_units": by_day(&usage.returned_units),
    })
}

/// The user message: the rule as delimited data, then numbers and dates only.
fn user_message(input: &AgentInput<'_>) -> String {
    let expected = PayloadExpectations::for_period(input.calendar, input.period, input.currency);
    let facts = json!({
        "subscription": {
            "quantity": input.quantity,
            "currency": input.currency.code(),
            "period_index": input.period.index,
            "period_start": expected.period_start.to_rfc3339(),
            "period_end": expected.period_end.to_rfc3339(),
        },
        "usage": input.usage.map(usage_json),
        "served": input.served.as_ref().map(|served| json!({
            "period_days": served.period_days,
            "days_by_quantity": served.segments.iter().map(|segment| json!({
                "quantity": segment.quantity,
                "days": segment.days,
            })).collect::<Vec<_>>(),
        })),
        "settlements": input.settlements.iter().map(|line| json!({
            "description": line.description,
            "amount": line.amount.to_major().to_string(),
        })).collect::<Vec<_>>(),
    });
    format!(
        "The plan's billing rule, between the markers:\n<<<RULE\n{}\nRULE>>>\n\nThe period to bill:\n{}",
        input.rule, facts
    )
}

/// Asks `model` for the payload of one period, validates it, and asks again with the problems at
/// most [`MAX_PAYLOAD_RETRIES`] times. Every call is recorded in `calls`, also when this fails.
///
/// A refusal, a transport failure or a payload still invalid after the retries is an error: the
/// period is not billed from this exchange.
pub(crate) async fn ask(
    model: &dyn LanguageModel,
    input: &AgentInput<'_>,
    calls: &mut Vec<AgentCall>,
) -> Result<AgentPayload> {
    let expected = PayloadExpectations::for_period(input.calendar, input.period, input.currency);
    let mut messages = vec![
        Message::new(Role::System, SYSTEM),
        Message::new(Role::User, user_message(input)),
    ];
    let schema = crate::model::payload_schema();
    let action = format!("writing the payload of period {}", input.period.index);
    let mut last_problems = Vec::new();
    for attempt in 1..=MAX_PAYLOAD_RETRIES + 1 {
        let request = ModelRequest {
            messages: messages.clone(),
            schema: schema.clone(),
        };
        let response = match model.complete(&request).await {
            Ok(response) => response,
            Err(error) => {
                calls.push(AgentCall {
                    attempt,
                    response: None,
                    problems: Vec::new(),
                    error: Some(error.to_string()),
                });
                return Err(error);
            }
        };
        let text = match &response.answer {
            ModelAnswer::Refusal(reason) => {
                let reason = reason.clone();
                calls.push(AgentCall {
                    attempt,
                    response: Some(response),
                    problems: Vec::new(),
                    error: Some(format!("the model refused: {reason}")),
                });
                return Err(Error::model(action, format!("the model refused: {reason}")));
            }
            ModelAnswer::Json(text) => text.clone(),
        };
        let checked = AgentPayload::parse(&text)
            .and_then(|payload| payload.validate(&expected).map(|()| payload));
        match checked {
            Ok(payload) => {
                calls.push(AgentCall {
                    attempt,
                    response: Some(response),
                    problems: Vec::new(),
                    error: None,
                });
                return Ok(payload);
            }
            Err(Error::InvalidPayload { problems }) => {
                calls.push(AgentCall {
                    attempt,
                    response: Some(response),
                    problems: problems.clone(),
                    error: None,
                });
                messages.push(Message::new(Role::Assistant, text));
                messages.push(Message::new(
                    Role::User,
                    format!(
                        "That payload is not valid:\n- {}\nWrite the whole payload again, corrected.",
                        problems.join("\n- ")
                    ),
                ));
                last_problems = problems;
            }
            Err(other) => return Err(other),
        }
    }
    Err(Error::InvalidPayload {
        problems: last_problems,
    })
}

/// The model's payload checked against the program's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CrossCheck {
    /// Whether the payload may be issued.
    pub agrees: bool,
    /// What differs, in words.
    pub differences: Vec<String>,
}

/// Compares the model's payload with the program's line items: in [`BillingMode::Agent`], the
/// total; in [`BillingMode::AgentChecked`], every line's amount in order, and the total.
pub(crate) fn cross_check(
    mode: BillingMode,
    payload: &AgentPayload,
    program: &[LineItem],
    currency: Currency,
) -> CrossCheck {
    let mut differences = Vec::new();
    let program_total = program.iter().try_fold(Decimal::ZERO, |sum, line| {
        sum.checked_add(line.amount.to_major())
    });
    if program_total != Some(payload.invoice.amount) {
        differences.push(format!(
            "the model's amount is {} {} but the program's is {} {}",
            payload.invoice.amount,
            currency.code(),
            program_total.map_or_else(|| "too large".to_owned(), |t| t.to_string()),
            currency.code()
        ));
    }
    if mode == BillingMode::AgentChecked {
        let model_lines = &payload.invoice.line_items;
        if model_lines.len() != program.len() {
            differences.push(format!(
                "the model wrote {} line items but the program bills {}",
                model_lines.len(),
                program.len()
            ));
        }
        for (i, (model_line, program_line)) in model_lines.iter().zip(program).enumerate() {
            if model_line.amount != program_line.amount.to_major() {
                differences.push(format!(
                    "line {}: the model's {:?} is {} but the program's {:?} is {}",
                    i + 1,
                    model_line.description,
                    model_line.amount,
                    program_line.description,
                    program_line.amount.to_major()
                ));
            }
        }
    }
    CrossCheck {
        agrees: differences.is_empty(),
        differences,
    }
}

/// The model's line items as invoice lines, each amount converted exactly. A line's kind is that
/// of the program's line with the same description, else of an unused program line with the same
/// amount, else of the program's line at the same position (recurring when there is none).
pub(crate) fn model_lines(
    payload: &AgentPayload,
    currency: Currency,
    program: &[LineItem],
) -> Result<Vec<LineItem>> {
    let mut used = vec![false; program.len()];
    let mut lines = Vec::with_capacity(payload.invoice.line_items.len());
    for (i, line) in payload.invoice.line_items.iter().enumerate() {
        let amount = Money::exact_from_major(
            line.amount,
            currency,
            &format!("invoice.line_items[{i}].amount"),
        )?;
        let matched = program
            .iter()
            .enumerate()
            .position(|(j, p)| !used[j] && p.description == line.description)
            .or_else(|| {
                program
                    .iter()
                    .enumerate()
                    .position(|(j, p)| !used[j] && p.amount == amount)
            });
        let (kind, basis) = match matched {
            Some(j) => {
                used[j] = true;
                // The basis explains the program's amount, so only a line that bills it.
                let basis = (program[j].amount == amount)
                    .then(|| program[j].basis.clone())
                    .flatten();
                (program[j].kind, basis)
            }
            None => (
                program.get(i).map_or(ChargeKind::Recurring, |p| p.kind),
                None,
            ),
        };
        lines.push(LineItem::new(line.description.clone(), kind, amount, basis));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_print() {
        for mode in [
            BillingMode::Compiled,
            BillingMode::Agent,
            BillingMode::AgentChecked,
        ] {
            assert_eq!(mode.as_str().parse::<BillingMode>().unwrap(), mode);
        }
        assert!(matches!(
            "llm".parse::<BillingMode>(),
            Err(Error::InvalidInput { .. })
        ));
        assert!(!BillingMode::Compiled.uses_model());
        assert!(BillingMode::AgentChecked.uses_model());
    }

    #[test]
    fn usage_is_sent_as_numbers_per_weekday() {
        let usage = PeriodUsage {
            shipments: [1, 2, 3, 4, 5, 6, 7],
            ..PeriodUsage::default()
        };
        let json = usage_json(&usage);
        assert_eq!(json["shipments"]["monday"], 1);
        assert_eq!(json["shipments"]["sunday"], 7);
        assert_eq!(json["returned_units"]["friday"], 0);
    }
}
