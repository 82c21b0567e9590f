//! Parsers of the command-line values that carry a rule (a range, a format), so a wrong value is
//! refused by the option itself, with the rule in the message: `--quantity 0` says the range,
//! `--start 01/15/2026` the date format.

use ai_billing::engine::MAX_QUANTITY;
use chrono::NaiveDate;

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
}
