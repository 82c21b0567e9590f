//! Money, dates and percentages as an account's locale writes them, from glibc's locale data
//! (`pure-rust-locales`): LC_MONETARY for amounts (decimal point, grouping, where the symbol and
//! the sign go), LC_TIME for dates (through chrono's `format_localized`), LC_NUMERIC for rates.
//!
//! Amounts stay exact: digits come from the integer minor units, never from a float. The number
//! of decimals is the currency's (JPY 0, USD 2), not the locale's. The symbol is the locale's own
//! when the amount is in the locale's currency (`$` in en-US, `€` in fr-FR); an amount in another
//! currency is written with its ISO code (`1.234,50 USD` in de-DE), which no reader can mistake
//! for a local dollar.

use chrono::NaiveDate;
use pure_rust_locales::{Locale as Posix, locale_match};
use rust_decimal::Decimal;

use crate::locale::Locale;
use crate::money::{Currency, Money};

/// A no-break space: keeps an amount and its symbol on one line.
const NBSP: &str = "\u{a0}";

/// Writes amounts, dates and rates in one locale.
#[derive(Debug, Clone)]
pub struct LocaleFormat {
    posix: Posix,
}

/// Where the symbol and sign of one kind of amount (positive or negative) go: LC_MONETARY's
/// `*_cs_precedes`, `*_sep_by_space` and `*_sign_posn`.
#[derive(Debug, Clone, Copy)]
struct Placement {
    cs_precedes: bool,
    sep_by_space: i64,
    sign_posn: i64,
}

impl LocaleFormat {
    /// The formats of `locale`.
    pub fn new(locale: &Locale) -> Self {
        LocaleFormat {
            posix: locale.posix(),
        }
    }

    /// `money` as the locale writes an amount of its currency: `$1,234.50` (en-US),
    /// `1 234,50 €` (fr-FR), `-$5.00`, `￥1,200` (ja-JP).
    pub fn money(&self, money: Money) -> String {
        let currency = money.currency();
        let negative = money.is_negative();
        let number = self.number(money.minor().unsigned_abs(), currency.exponent());
        let (symbol, is_code) = self.symbol(currency);
        let placement = if negative {
            Placement {
                cs_precedes: locale_match!(self.posix => LC_MONETARY::N_CS_PRECEDES) == 1,
                sep_by_space: locale_match!(self.posix => LC_MONETARY::N_SEP_BY_SPACE),
                sign_posn: locale_match!(self.posix => LC_MONETARY::N_SIGN_POSN),
            }
        } else {
            Placement {
                cs_precedes: locale_match!(self.posix => LC_MONETARY::P_CS_PRECEDES) != 0,
                sep_by_space: locale_match!(self.posix => LC_MONETARY::P_SEP_BY_SPACE),
                sign_posn: locale_match!(self.posix => LC_MONETARY::P_SIGN_POSN),
            }
        };
        let sign = if negative {
            non_empty(locale_match!(self.posix => LC_MONETARY::NEGATIVE_SIGN), "-")
        } else {
            locale_match!(self.posix => LC_MONETARY::POSITIVE_SIGN)
        };
        place(&number, &symbol, is_code, sign, placement)
    }

    /// A date as the locale writes it (its `%x`: `01/15/2026` in en-US, `15.01.2026` in de-DE).
    pub fn date(&self, date: NaiveDate) -> String {
        date.format_localized("%x", self.posix).to_string()
    }

    /// A month and its year (`January 2026`, `janvier 2026`).
    pub fn month(&self, date: NaiveDate) -> String {
        date.format_localized("%B %Y", self.posix).to_string()
    }

    /// A rate given as a fraction, as a percentage with the locale's decimal point (`8.25%`,
    /// `8,25%`), every digit kept.
    pub fn percent(&self, rate: Decimal) -> String {
        let percent = (rate * Decimal::ONE_HUNDRED).normalize().to_string();
        let point = non_empty(locale_match!(self.posix => LC_NUMERIC::DECIMAL_POINT), ".");
        format!("{}%", percent.replace('.', point))
    }

    /// The symbol of `currency` in this locale, and whether it is the ISO code.
    fn symbol(&self, currency: Currency) -> (String, bool) {
        let own = locale_match!(self.posix => LC_MONETARY::INT_CURR_SYMBOL).trim();
        let local = locale_match!(self.posix => LC_MONETARY::CURRENCY_SYMBOL);
        if own == currency.code() && !local.is_empty() {
            (local.to_owned(), false)
        } else {
            (currency.code().to_owned(), true)
        }
    }

    /// `minor` units of a currency with `exponent` decimals, grouped by LC_MONETARY's
    /// `mon_grouping` and `mon_thousands_sep`, with its `mon_decimal_point`.
    fn number(&self, minor: u64, exponent: u32) -> String {
        let scale = 10u64.pow(exponent);
        let (whole, fraction) = (minor / scale, minor % scale);
        let grouped = group(
            &whole.to_string(),
            locale_match!(self.posix => LC_MONETARY::MON_GROUPING),
            locale_match!(self.posix => LC_MONETARY::MON_THOUSANDS_SEP),
        );
        if exponent == 0 {
            return grouped;
        }
        let point = non_empty(
            locale_match!(self.posix => LC_MONETARY::MON_DECIMAL_POINT),
            ".",
        );
        format!(
            "{grouped}{point}{fraction:0width$}",
            width = exponent as usize
        )
    }
}

fn non_empty<'a>(value: &'a str, default: &'a str) -> &'a str {
    if value.is_empty() { default } else { value }
}

/// `digits` split into groups from the right as POSIX `grouping` says: each entry is the size of
/// the next group, the last one repeats, and a size of -1 (or 0 at the end) stops grouping.
fn group(digits: &str, grouping: &[i64], separator: &str) -> String {
    if separator.is_empty() || grouping.is_empty() {
        return digits.to_owned();
    }
    let mut groups: Vec<&str> = Vec::new();
    let mut end = digits.len();
    let mut sizes = grouping.iter().copied();
    let mut size = sizes.next().unwrap_or(-1);
    while end > 0 {
        if size <= 0 {
            groups.push(&digits[..end]);
            break;
        }
        let start = end.saturating_sub(size as usize);
        groups.push(&digits[start..end]);
        end = start;
        if let Some(next) = sizes.next() {
            size = if next == 0 { size } else { next };
        }
    }
    groups.reverse();
    groups.join(separator)
}

/// The number, symbol and sign put together as POSIX LC_MONETARY places them. An ISO code is
/// always set apart from the number by a space.
fn place(number: &str, symbol: &str, is_code: bool, sign: &str, placement: Placement) -> String {
    let sep_by_space = if is_code && placement.sep_by_space == 0 {
        1
    } else {
        placement.sep_by_space
    };
    // The space between the number and the symbol (with a sign next to it) in style 1.
    let space = if sep_by_space == 1 { NBSP } else { "" };
    // The space between a sign and what it is next to in style 2.
    let sign_space = if sep_by_space == 2 && !sign.is_empty() {
        NBSP
    } else {
        ""
    };
    let quantity = if placement.cs_precedes {
        format!("{symbol}{space}{number}")
    } else {
        format!("{number}{space}{symbol}")
    };
    match (placement.sign_posn, placement.cs_precedes) {
        (0, _) if !sign.is_empty() => format!("({quantity})"),
        (0, _) => quantity,
        (2, _) => format!("{quantity}{sign_space}{sign}"),
        (3, true) => format!("{sign}{sign_space}{quantity}"),
        (3, false) => format!("{number}{space}{sign}{sign_space}{symbol}"),
        (4, true) => format!("{symbol}{sign_space}{sign}{space}{number}"),
        (4, false) => format!("{quantity}{sign_space}{sign}"),
        // 1 and any value glibc does not define: the sign before everything.
        _ => format!("{sign}{sign_space}{quantity}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(tag: &str) -> LocaleFormat {
        LocaleFormat::new(&Locale::parse(tag, "locale").unwrap())
    }

    fn money(minor: i64, code: &str) -> Money {
        Money::from_minor(minor, Currency::parse(code).unwrap())
    }

    #[test]
    fn en_us_writes_dollars_with_the_symbol_first() {
        let en = format("en-US");
        assert_eq!(en.money(money(123_450, "USD")), "$1,234.50");
        assert_eq!(en.money(money(0, "USD")), "$0.00");
        assert_eq!(en.money(money(5, "USD")), "$0.05");
        assert_eq!(en.money(money(-500, "USD")), "-$5.00");
        assert_eq!(en.money(money(12_345_678_900, "USD")), "$123,456,789.00");
    }

    #[test]
    fn fr_and_de_write_euros_after_the_number_with_their_separators() {
        assert_eq!(
            format("fr-FR").money(money(123_450, "EUR")),
            "1\u{202f}234,50\u{a0}€"
        );
        assert_eq!(
            format("de-DE").money(money(123_450, "EUR")),
            "1.234,50\u{a0}€"
        );
        assert_eq!(
            format("de-DE").money(money(-123_450, "EUR")),
            "-1.234,50\u{a0}€"
        );
    }

    #[test]
    fn a_foreign_currency_is_written_with_its_code() {
        assert_eq!(
            format("de-DE").money(money(123_450, "USD")),
            "1.234,50\u{a0}USD"
        );
        assert_eq!(
            format("fr-FR").money(money(123_450, "USD")),
            "1\u{202f}234,50\u{a0}USD"
        );
        assert_eq!(
            format("en-US").money(money(123_450, "EUR")),
            "EUR\u{a0}1,234.50"
        );
    }

    #[test]
    fn yen_have_no_decimals() {
        assert_eq!(format("en-US").money(money(1200, "JPY")), "JPY\u{a0}1,200");
        assert_eq!(format("ja-JP").money(money(1200, "JPY")), "￥1,200");
        assert_eq!(format("ja-JP").money(money(-1200, "JPY")), "￥-1,200");
        assert_eq!(format("ja-JP").money(money(0, "JPY")), "￥0");
    }

    #[test]
    fn grouping_follows_the_locale() {
        assert_eq!(group("1234567", &[3, 2], ","), "12,34,567");
        assert_eq!(group("1234567", &[3], ","), "1,234,567");
        assert_eq!(group("1234567", &[3, -1], ","), "1234,567");
        assert_eq!(group("1234567", &[], ","), "1234567");
        assert_eq!(group("12", &[3], ","), "12");
        assert_eq!(group("123", &[3], ","), "123");
    }

    #[test]
    fn dates_months_and_rates_follow_the_locale() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        assert_eq!(format("en-US").date(day), "01/15/2026");
        assert_eq!(format("de-DE").date(day), "15.01.2026");
        assert_eq!(format("fr-FR").date(day), "15/01/2026");
        assert_eq!(format("en-US").month(day), "January 2026");
        assert_eq!(format("fr-FR").month(day), "janvier 2026");
        let rate: Decimal = "0.0825".parse().unwrap();
        assert_eq!(format("en-US").percent(rate), "8.25%");
        assert_eq!(format("de-DE").percent(rate), "8,25%");
        assert_eq!(format("en-US").percent(Decimal::ZERO), "0%");
    }
}
