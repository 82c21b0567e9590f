//! Parsers of the command-line values that carry a rule (a range, a format), so a wrong value is
//! refused by the option itself, with the rule in the message: `--quantity 0` says the range,
//! `--start 01/15/2026` the date format.

use ai_billing::changes::Effective;
use ai_billing::engine::MAX_QUANTITY;
use chrono::{DateTime, NaiveDate, Utc};

/// A subscription quantity: a whole number from 1 to [`MAX_QUANTITY`]. Options using it also
/// set `allow_negative_numbers`, so `--quantity -2` reaches it instead of looking like a flag.
pub fn quantity(text: &str) -> Result<u32, String> {
    let range = || format!("a quantity is a whole number from 1 to {MAX_QUANTITY}");
    let value: i128 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number: {}", range()))?;
    u32::try_from(value)
        .ok()
        .filter(|value| (1..=MAX_QUANTITY).contains(value))
        .ok_or_else(|| format!("{value} is out of range: {}", range()))
}

/// A calendar date, written `YYYY-MM-DD` (ISO 8601, as everywhere in ai-billing).
pub fn date(text: &str) -> Result<NaiveDate, String> {
    text.trim().parse().map_err(|_| {
        format!("{text:?} is not a date: write it as YYYY-MM-DD, for example 2026-01-15")
    })
}

/// When a change takes effect: `immediately` (the next local midnight), `period_end`, or a local
/// date `YYYY-MM-DD`, as the API spells it.
pub fn effective(text: &str) -> Result<Effective, String> {
    match text.trim() {
        "immediately" => Ok(Effective::Immediately),
        "period_end" => Ok(Effective::PeriodEnd),
        other => other.parse().map(Effective::On).map_err(|_| {
            format!(
                "{text:?} is not an effective date: write immediately, period_end or a date YYYY-MM-DD"
            )
        }),
    }
}

/// An instant, written in RFC 3339 (`2026-02-03T15:00:00Z`).
pub fn instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|at| at.to_utc())
        .map_err(|_| {
            format!("{text:?} is not an RFC 3339 instant: write it as 2026-02-03T15:00:00Z")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantity_outside_its_range_names_the_range() {
        assert_eq!(quantity("3"), Ok(3));
        assert_eq!(quantity("100000"), Ok(100_000));
        for (given, said) in [
            ("-2", "-2 is out of range"),
            ("0", "0 is out of range"),
            ("100001", "100001 is out of range"),
            ("99999999999999", "99999999999999 is out of range"),
            ("two", "\"two\" is not a number"),
            ("1.5", "\"1.5\" is not a number"),
        ] {
            let message = quantity(given).unwrap_err();
            assert!(message.starts_with(said), "{given}: {message}");
            assert!(message.ends_with("from 1 to 100000"), "{given}: {message}");
        }
    }

    #[test]
    fn a_date_in_another_format_names_the_format() {
        assert_eq!(
            date("2026-01-15"),
            NaiveDate::from_ymd_opt(2026, 1, 15).ok_or_else(String::new)
        );
        let message = date("01/15/2026").unwrap_err();
        assert!(message.contains("YYYY-MM-DD"), "{message}");
        assert!(date("2026-02-30").is_err());
    }

    #[test]
    fn an_effective_date_is_a_word_or_a_date() {
        assert_eq!(effective("immediately"), Ok(Effective::Immediately));
        assert_eq!(effective("period_end"), Ok(Effective::PeriodEnd));
        let on = NaiveDate::from_ymd_opt(2026, 3, 1).ok_or_else(String::new);
        assert_eq!(effective("2026-03-01"), on.map(Effective::On));
        let message = effective("now").unwrap_err();
        assert!(
            message.contains("immediately, period_end or a date"),
            "{message}"
        );
    }

    #[test]
    fn an_instant_is_rfc_3339() {
        let at = instant("2026-02-03T10:00:00-05:00").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-02-03T15:00:00+00:00");
        assert!(instant("2026-02-03").unwrap_err().contains("RFC 3339"));
    }
}
