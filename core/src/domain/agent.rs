//! The billing agent's payload, exactly as the platform specifies it:
//!
//! ```json
//! { "subscription_updates": { "current_period_start": "2026-01-15T00:00:00-05:00",
//!                             "current_period_end": "2026-02-15T00:00:00-05:00" },
//!   "invoice": { "amount": 10.00, "currency": "USD",
//!                "start_date": "2026-01-15T00:00:00-05:00", "end_date": "2026-02-15T00:00:00-05:00",
//!                "line_items": [ { "description": "Base charge (month 1)", "amount": 5.00 },
//!                                { "description": "Usage (Shipment) charge (5 shipments)", "amount": 5.00 } ] } }
//! ```
//!
//! In the default (compiled) mode the payload is computed from the pricing program by
//! [`AgentPayload::from_lines`]; in LLM mode a model writes it and [`AgentPayload::parse`] and
//! [`AgentPayload::validate`] check it. Either way the engine issues an invoice only from a payload
//! that validated, converting its decimal amounts to minor units at one edge,
//! [`AgentPayload::invoice_lines`].
//!
//! Dates are RFC 3339 instants with the account's offset: the local midnights that bound the
//! period. Amounts are JSON numbers read and written as exact decimals (serde_json's
//! `arbitrary_precision`): no float is ever involved.

use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::calendar::{BillingCalendar, Period};
use crate::error::{Error, Result};
use crate::invoice::LineItem;
use crate::money::{Currency, Money};
use crate::pricing::PricedLine;

/// What the billing agent answers for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPayload {
    /// The subscription's current period after this action.
    pub subscription_updates: SubscriptionUpdates,
    /// The invoice to issue.
    pub invoice: PayloadInvoice,
}

/// The subscription's period, as the agent sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionUpdates {
    /// Local midnight starting the period, with the account's offset.
    #[schemars(with = "crate::json::Rfc3339")]
    pub current_period_start: DateTime<FixedOffset>,
    /// Local midnight ending the period (the next period's start), with the account's offset.
    #[schemars(with = "crate::json::Rfc3339")]
    pub current_period_end: DateTime<FixedOffset>,
}

/// The invoice part of the payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PayloadInvoice {
    /// The invoice amount (before tax) in major units: the sum of the line items.
    #[serde(with = "exact_number")]
    #[schemars(with = "crate::json::ExactNumber")]
    pub amount: Decimal,
    /// The plan's currency.
    pub currency: Currency,
    /// The period's start, as in [`SubscriptionUpdates::current_period_start`].
    #[schemars(with = "crate::json::Rfc3339")]
    pub start_date: DateTime<FixedOffset>,
    /// The period's end, as in [`SubscriptionUpdates::current_period_end`].
    #[schemars(with = "crate::json::Rfc3339")]
    pub end_date: DateTime<FixedOffset>,
    /// What is billed.
    pub line_items: Vec<PayloadLineItem>,
}

/// One line of the payload's invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PayloadLineItem {
    /// What the line is for.
    pub description: String,
    /// The amount in major units, exact to the currency's minor unit.
    #[serde(with = "exact_number")]
    #[schemars(with = "crate::json::ExactNumber")]
    pub amount: Decimal,
}

/// Amounts as JSON numbers, exact both ways. Writing uses `rust_decimal`'s arbitrary-precision
/// form (`5.00` stays `5.00`); reading accepts only a JSON number (not a string) and keeps every
/// digit as written, refusing what a `Decimal` cannot hold exactly.
mod exact_number {
    use rust_decimal::Decimal;
    use serde::Deserialize;

    pub use rust_decimal::serde::arbitrary_precision::serialize;

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Decimal, D::Error> {
        use serde::de::Error as _;
        let number = serde_json::Number::deserialize(deserializer)?;
        let text = number.as_str();
        Decimal::from_str_exact(text)
            .or_else(|_| Decimal::from_scientific(text))
            .map_err(|e| {
                D::Error::custom(format_args!("{text} is not an exact decimal amount: {e}"))
            })
    }
}

/// What a payload for one period must agree with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadExpectations {
    /// The plan's currency.
    pub currency: Currency,
    /// The instant the period starts (local midnight of its start date).
    pub period_start: DateTime<FixedOffset>,
    /// The instant the period ends (local midnight of its end date).
    pub period_end: DateTime<FixedOffset>,
}

impl PayloadExpectations {
    /// The expectations for `period` of `calendar` in `currency`.
    pub fn for_period(calendar: &BillingCalendar, period: &Period, currency: Currency) -> Self {
        let (period_start, period_end) = period_instants(calendar, period);
        PayloadExpectations {
            currency,
            period_start,
            period_end,
        }
    }
}

/// The local midnights bounding `period`, with the zone's offset at each.
fn period_instants(
    calendar: &BillingCalendar,
    period: &Period,
) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
    (
        calendar.local_midnight(period.start).fixed_offset(),
        calendar.local_midnight(period.end).fixed_offset(),
    )
}

impl AgentPayload {
    /// The payload of the compiled mode: the period of `calendar` and the program's priced `lines`,
    /// the amount being their sum, every amount written at the currency's minor unit (`5.00`).
    pub fn from_lines(
        calendar: &BillingCalendar,
        period: &Period,
        currency: Currency,
        lines: &[PricedLine],
    ) -> Self {
        let (start, end) = period_instants(calendar, period);
        let line_items: Vec<PayloadLineItem> = lines
            .iter()
            .map(|line| PayloadLineItem {
                description: line.description.clone(),
                amount: line.amount.to_major(),
            })
            .collect();
        // Line amounts are i64 minor units, so their sum cannot leave Decimal's 96-bit range for
        // any realistic number of lines; should it, `validate` reports the mismatch.
        let amount = line_items
            .iter()
            .try_fold(Money::zero(currency).to_major(), |sum, line| {
                sum.checked_add(line.amount)
            })
            .unwrap_or(Decimal::MAX);
        AgentPayload {
            subscription_updates: SubscriptionUpdates {
                current_period_start: start,
                current_period_end: end,
            },
            invoice: PayloadInvoice {
                amount,
                currency,
                start_date: start,
                end_date: end,
                line_items,
            },
        }
    }

    /// Parses a payload strictly: the shape above and nothing else (unknown fields, amounts written
    /// as strings, dates without an offset are refused). A malformed payload is
    /// [`Error::InvalidPayload`] naming the field that is wrong.
    pub fn parse(json: &str) -> Result<AgentPayload> {
        crate::json::from_json_object(json, "payload").map_err(|(field, message)| {
            Error::InvalidPayload {
                problems: vec![format!("{field}: {message}")],
            }
        })
    }

    /// Checks the payload against the period and the plan's currency, collecting every problem
    /// (each naming its field) into one [`Error::InvalidPayload`]: the dates are the period's
    /// bounds (the same instants), the currency is the plan's, there is at least one line item,
    /// every description is non-blank, no amount is negative or finer than the currency's minor
    /// unit, and the line items sum to the amount.
    pub fn validate(&self, expected: &PayloadExpectations) -> Result<()> {
        let mut problems = Vec::new();
        let exponent = expected.currency.exponent();
        let updates = &self.subscription_updates;
        let invoice = &self.invoice;
        for (field, found, wanted, what) in [
            (
                "subscription_updates.current_period_start",
                updates.current_period_start,
                expected.period_start,
                "starts",
            ),
            (
                "subscription_updates.current_period_end",
                updates.current_period_end,
                expected.period_end,
                "ends",
            ),
            (
                "invoice.start_date",
                invoice.start_date,
                expected.period_start,
                "starts",
            ),
            (
                "invoice.end_date",
                invoice.end_date,
                expected.period_end,
                "ends",
            ),
        ] {
            if found != wanted {
                problems.push(format!(
                    "{field}: is {}, but the period {what} at {}",
                    found.to_rfc3339(),
                    wanted.to_rfc3339()
                ));
            }
        }
        if invoice.currency != expected.currency {
            problems.push(format!(
                "invoice.currency: is {}, but the plan's currency is {}",
                invoice.currency.code(),
                expected.currency.code()
            ));
        }
        check_amount(&mut problems, "invoice.amount", invoice.amount, exponent);
        if invoice.line_items.is_empty() {
            problems.push("invoice.line_items: at least one line item is required".to_owned());
        }
        let mut sum = Some(Decimal::ZERO);
        for (i, line) in invoice.line_items.iter().enumerate() {
            if line.description.trim().is_empty() {
                problems.push(format!(
                    "invoice.line_items[{i}].description: cannot be empty"
                ));
            }
            check_amount(
                &mut problems,
                &format!("invoice.line_items[{i}].amount"),
                line.amount,
                exponent,
            );
            sum = sum.and_then(|s| s.checked_add(line.amount));
        }
        match sum {
            Some(sum) if sum == invoice.amount => {}
            Some(sum) => problems.push(format!(
                "invoice.amount: is {}, but the line items sum to {sum}",
                invoice.amount
            )),
            None => {
                problems.push("invoice.line_items: the amounts are too large to sum".to_owned())
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidPayload { problems })
        }
    }

    /// The payload's line items as invoice lines in `currency`, each amount converted exactly to
    /// minor units by [`Money::exact_from_major`]: the one edge where payload decimals become money.
    ///
    /// A payload line does not say whether it is a recurring or a usage charge, so each is matched,
    /// by its description, with the program's priced line it bills (`program_lines`, from
    /// [`crate::PricingProgram::evaluate`]), which gives its kind. A payload line that matches no
    /// program line, a program line left unmatched, or an amount that is not exact is
    /// [`Error::InvalidPayload`].
    pub fn invoice_lines(
        &self,
        currency: Currency,
        program_lines: &[PricedLine],
    ) -> Result<Vec<LineItem>> {
        let mut problems = Vec::new();
        let mut used = vec![false; program_lines.len()];
        let mut items = Vec::with_capacity(self.invoice.line_items.len());
        for (i, line) in self.invoice.line_items.iter().enumerate() {
            let field = format!("invoice.line_items[{i}].amount");
            let amount = match Money::exact_from_major(line.amount, currency, &field) {
                Ok(amount) => Some(amount),
                Err(Error::InvalidInput { field, reason }) => {
                    problems.push(format!("{field}: {reason}"));
                    None
                }
                Err(e) => {
                    problems.push(format!("{field}: {e}"));
                    None
                }
            };
            let matched = program_lines
                .iter()
                .enumerate()
                .position(|(j, p)| !used[j] && p.description == line.description);
            let Some(j) = matched else {
                problems.push(format!(
                    "invoice.line_items[{i}].description: {:?} is not a charge of the plan's pricing program",
                    line.description
                ));
                continue;
            };
            used[j] = true;
            if let Some(amount) = amount {
                let program_line = &program_lines[j];
                items.push(LineItem::new(
                    line.description.clone(),
                    program_line.kind,
                    amount,
                    // The basis explains the program's amount, so only a line that bills it.
                    (amount == program_line.amount)
                        .then(|| program_line.basis.clone())
                        .flatten(),
                ));
            }
        }
        for (line, _) in program_lines.iter().zip(&used).filter(|(_, used)| !**used) {
            problems.push(format!(
                "invoice.line_items: the program's charge {:?} is missing",
                line.description
            ));
        }
        if problems.is_empty() {
            Ok(items)
        } else {
            Err(Error::InvalidPayload { problems })
        }
    }
}

/// Adds the problems of one amount: negative, finer than the minor unit, or too large for minor
/// units in an `i64`.
fn check_amount(problems: &mut Vec<String>, field: &str, amount: Decimal, exponent: u32) {
    if amount.is_sign_negative() && !amount.is_zero() {
        problems.push(format!("{field}: cannot be negative (is {amount})"));
    }
    if amount.normalize().scale() > exponent {
        problems.push(format!(
            "{field}: {amount} is finer than the currency's minor unit ({exponent} decimal places)"
        ));
        return;
    }
    let scale = 10i64.checked_pow(exponent).map(Decimal::from);
    if scale
        .and_then(|s| amount.checked_mul(s))
        .and_then(|minor| minor.to_i64())
        .is_none()
    {
        problems.push(format!("{field}: {amount} is too large"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{BillingInterval, IntervalUnit};
    use crate::pricing::ChargeKind;
    use std::str::FromStr;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn expectations() -> PayloadExpectations {
        PayloadExpectations {
            currency: usd(),
            period_start: at("2026-01-15T00:00:00-05:00"),
            period_end: at("2026-02-15T00:00:00-05:00"),
        }
    }

    const GOOD: &str = r#"{
        "subscription_updates": { "current_period_start": "2026-01-15T00:00:00-05:00",
                                  "current_period_end": "2026-02-15T00:00:00-05:00" },
        "invoice": { "amount": 10, "currency": "USD",
                     "start_date": "2026-01-15T00:00:00-05:00", "end_date": "2026-02-15T00:00:00-05:00",
                     "line_items": [ { "description": "Base charge", "amount": 5 },
                                     { "description": "Usage (Shipment) charge", "amount": 5.00 } ] } }"#;

    fn good() -> AgentPayload {
        AgentPayload::parse(GOOD).unwrap()
    }

    fn problems(payload: &AgentPayload) -> Vec<String> {
        match payload.validate(&expectations()) {
            Err(Error::InvalidPayload { problems }) => problems,
            other => panic!("expected InvalidPayload, got {other:?}"),
        }
    }

    fn parse_problems(json: &str) -> Vec<String> {
        match AgentPayload::parse(json) {
            Err(Error::InvalidPayload { problems }) => problems,
            other => panic!("expected InvalidPayload, got {other:?}"),
        }
    }

    #[test]
    fn the_design_example_parses_and_validates() {
        let payload = good();
        assert_eq!(payload.invoice.amount, dec("10"));
        assert_eq!(payload.invoice.line_items.len(), 2);
        payload.validate(&expectations()).unwrap();
    }

    #[test]
    fn amounts_round_trip_exactly_as_written() {
        let payload = good();
        let json = serde_json::to_string(&payload).unwrap();
        // 10 stays 10 and 5.00 stays 5.00: the digits are kept, not re-rendered through a float.
        assert!(json.contains(r#""amount":10,"#), "{json}");
        assert!(json.contains(r#""amount":5}"#), "{json}");
        assert!(json.contains(r#""amount":5.00}"#), "{json}");
        assert_eq!(AgentPayload::parse(&json).unwrap(), payload);
        // 10 and 10.00 are the same amount.
        assert_eq!(dec("10"), dec("10.00"));
    }

    #[test]
    fn decimal_sums_are_exact() {
        let json = GOOD
            .replace(r#""amount": 10,"#, r#""amount": 0.3,"#)
            .replace(r#""amount": 5 }"#, r#""amount": 0.1 }"#)
            .replace(r#""amount": 5.00 }"#, r#""amount": 0.2 }"#);
        let payload = AgentPayload::parse(&json).unwrap();
        assert_eq!(
            payload.invoice.line_items[0].amount + payload.invoice.line_items[1].amount,
            dec("0.3")
        );
        payload.validate(&expectations()).unwrap();
        let again = serde_json::to_string(&payload).unwrap();
        assert!(
            again.contains(r#""amount":0.3,"#) && again.contains(r#""amount":0.1}"#),
            "{again}"
        );
        // Digits beyond f64's precision survive.
        let long = GOOD.replace(r#""amount": 5 }"#, r#""amount": 12345678901234567.01 }"#);
        let payload = AgentPayload::parse(&long).unwrap();
        assert_eq!(
            payload.invoice.line_items[0].amount,
            dec("12345678901234567.01")
        );
    }

    #[test]
    fn dates_serialise_with_the_offset() {
        let json = serde_json::to_value(good()).unwrap();
        assert_eq!(
            json["subscription_updates"]["current_period_start"],
            "2026-01-15T00:00:00-05:00"
        );
        assert_eq!(json["invoice"]["end_date"], "2026-02-15T00:00:00-05:00");
    }

    #[test]
    fn the_same_instant_in_utc_is_the_same_period() {
        let json = GOOD.replace(
            r#""current_period_start": "2026-01-15T00:00:00-05:00""#,
            r#""current_period_start": "2026-01-15T05:00:00Z""#,
        );
        AgentPayload::parse(&json)
            .unwrap()
            .validate(&expectations())
            .unwrap();
    }

    #[test]
    fn lines_must_sum_to_the_amount() {
        let mut p = good();
        p.invoice.amount = dec("10.01");
        let found = problems(&p);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("invoice.amount:") && found[0].contains("sum to 10.00"),
            "{found:?}"
        );
    }

    #[test]
    fn currency_must_match() {
        let mut p = good();
        p.invoice.currency = Currency::parse("EUR").unwrap();
        let found = problems(&p);
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("invoice.currency:"), "{found:?}");
    }

    #[test]
    fn dates_must_match_the_period() {
        let mut p = good();
        p.subscription_updates.current_period_start = at("2026-01-16T00:00:00-05:00");
        p.subscription_updates.current_period_end = at("2026-02-15T00:00:00-04:00");
        p.invoice.start_date = at("2026-01-15T00:00:01-05:00");
        p.invoice.end_date = at("2026-03-15T00:00:00-04:00");
        let found = problems(&p);
        let fields: Vec<&str> = found.iter().map(|s| s.split(':').next().unwrap()).collect();
        assert_eq!(
            fields,
            [
                "subscription_updates.current_period_start",
                "subscription_updates.current_period_end",
                "invoice.start_date",
                "invoice.end_date"
            ]
        );
    }

    #[test]
    fn amounts_must_be_exact_to_the_minor_unit() {
        let mut p = good();
        p.invoice.line_items[0].amount = dec("4.995");
        p.invoice.line_items[1].amount = dec("5.005");
        let found = problems(&p);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("invoice.line_items[0].amount:"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("invoice.line_items[1].amount:"),
            "{found:?}"
        );
        // Trailing zeros are not extra precision.
        let mut p = good();
        p.invoice.line_items[0].amount = dec("5.0000");
        p.validate(&expectations()).unwrap();
        // JPY has no minor unit.
        let mut p = good();
        let jpy = Currency::parse("JPY").unwrap();
        p.invoice.currency = jpy;
        p.invoice.line_items[0].amount = dec("4.5");
        p.invoice.line_items[1].amount = dec("5.5");
        let found = match p.validate(&PayloadExpectations {
            currency: jpy,
            ..expectations()
        }) {
            Err(Error::InvalidPayload { problems }) => problems,
            other => panic!("{other:?}"),
        };
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn amounts_must_not_be_negative() {
        let mut p = good();
        p.invoice.line_items[0].amount = dec("-5");
        p.invoice.line_items[1].amount = dec("0");
        p.invoice.amount = dec("-5");
        let found = problems(&p);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("invoice.amount:") && found[0].contains("negative"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("invoice.line_items[0].amount:"),
            "{found:?}"
        );
    }

    #[test]
    fn at_least_one_line_item() {
        let mut p = good();
        p.invoice.line_items.clear();
        p.invoice.amount = Decimal::ZERO;
        let found = problems(&p);
        assert_eq!(
            found,
            ["invoice.line_items: at least one line item is required"]
        );
    }

    #[test]
    fn descriptions_cannot_be_empty() {
        let mut p = good();
        p.invoice.line_items[1].description = "  ".into();
        let found = problems(&p);
        assert_eq!(
            found,
            ["invoice.line_items[1].description: cannot be empty"]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut p = good();
        p.invoice.currency = Currency::parse("EUR").unwrap();
        p.invoice.end_date = at("2026-02-16T00:00:00-05:00");
        p.invoice.line_items[0].description = String::new();
        p.invoice.line_items[1].amount = dec("5.001");
        let found = problems(&p);
        assert_eq!(found.len(), 5, "{found:?}"); // end date, currency, description, precision, sum
        let err = p.validate(&expectations()).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidPayload);
    }

    #[test]
    fn parse_is_strict_and_names_the_field() {
        let cases = [
            (
                GOOD.replace(r#""amount": 10,"#, r#""amount": "10","#),
                "invoice.amount",
            ),
            (
                GOOD.replace(r#""currency": "USD""#, r#""currency": "XYZ""#),
                "invoice.currency",
            ),
            (
                GOOD.replace(
                    r#""end_date": "2026-02-15T00:00:00-05:00""#,
                    r#""end_date": "2026-02-15""#,
                ),
                "invoice.end_date",
            ),
            (
                GOOD.replace(r#""description": "Base charge", "#, ""),
                "invoice.line_items[0].description",
            ),
            (
                GOOD.replace(r#""currency": "USD","#, r#""currency": "USD", "tax": 1,"#),
                "invoice.tax",
            ),
            (
                GOOD.replace(r#""amount": 5 }"#, r#""amount": 5e400 }"#),
                "invoice.line_items[0].amount",
            ),
            ("{".to_owned(), "payload"),
            ("[]".to_owned(), "payload"),
            (format!("{GOOD} {{}}"), "payload"),
        ];
        for (json, field) in cases {
            let found = parse_problems(&json);
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(
                found[0].starts_with(&format!("{field}:")),
                "{field}: {found:?}"
            );
        }
    }

    fn priced(description: &str, kind: ChargeKind, minor: i64) -> PricedLine {
        PricedLine {
            description: description.into(),
            kind,
            amount: Money::from_minor(minor, usd()),
            basis: None,
        }
    }

    #[test]
    fn invoice_lines_convert_exactly_and_take_the_program_kinds() {
        let program = [
            priced("Base charge", ChargeKind::Recurring, 500),
            priced("Usage (Shipment) charge", ChargeKind::Usage, 500),
        ];
        let items = good().invoice_lines(usd(), &program).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].amount, Money::from_minor(500, usd()));
        assert_eq!(items[0].kind, ChargeKind::Recurring);
        assert_eq!(items[1].kind, ChargeKind::Usage);

        let mut p = good();
        p.invoice.line_items[0].amount = dec("5.001");
        p.invoice.line_items[1].description = "Something else".into();
        let found = match p.invoice_lines(usd(), &program) {
            Err(Error::InvalidPayload { problems }) => problems,
            other => panic!("{other:?}"),
        };
        assert_eq!(found.len(), 3, "{found:?}"); // inexact amount, unknown line, missing charge
        assert!(
            found[0].starts_with("invoice.line_items[0].amount"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("invoice.line_items[1].description"),
            "{found:?}"
        );
        assert!(found[2].contains("Usage (Shipment) charge"), "{found:?}");
    }

    #[test]
    fn from_lines_is_the_compiled_payload_of_the_period() {
        let tz = chrono_tz::America::New_York;
        let interval = BillingInterval {
            unit: IntervalUnit::Month,
            count: 1,
        };
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        let calendar = BillingCalendar::new(start, interval, tz).unwrap();
        let period = calendar.period(1).unwrap();
        let lines = [
            priced("Base charge (month 1)", ChargeKind::Recurring, 500),
            priced(
                "Usage (Shipment) charge (5 shipments)",
                ChargeKind::Usage,
                375,
            ),
        ];
        let payload = AgentPayload::from_lines(&calendar, &period, usd(), &lines);
        let expected = PayloadExpectations::for_period(&calendar, &period, usd());
        assert_eq!(expected, expectations());
        payload.validate(&expected).unwrap();
        let json = serde_json::to_string(&payload).unwrap();
        assert_eq!(
            json,
            r#"{"subscription_updates":{"current_period_start":"2026-01-15T00:00:00-05:00","current_period_end":"2026-02-15T00:00:00-05:00"},"invoice":{"amount":8.75,"currency":"USD","start_date":"2026-01-15T00:00:00-05:00","end_date":"2026-02-15T00:00:00-05:00","line_items":[{"description":"Base charge (month 1)","amount":5.00},{"description":"Usage (Shipment) charge (5 shipments)","amount":3.75}]}}"#
        );
        assert_eq!(AgentPayload::parse(&json).unwrap(), payload);
        let items = payload.invoice_lines(usd(), &lines).unwrap();
        assert_eq!(
            items.iter().map(|i| i.amount.minor()).collect::<Vec<_>>(),
            [500, 375]
        );
    }
}
