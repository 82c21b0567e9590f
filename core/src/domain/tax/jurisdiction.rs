//! A tax rate table by jurisdiction: [`TaxRule`]s keyed on country, region and postal prefix,
//! stacked when several apply (a state rate, a county rate and a city district rate).
//!
//! A rule applies to an address when
//! - its country matches the address's (ISO 3166-1 alpha-2, case-insensitive),
//! - its region, if it has one, matches the address's (case-insensitive, surrounding space
//!   ignored); an address without a region gets no region rule,
//! - its postal prefix, if it has one, starts the address's postal code, both compared without
//!   spaces and dashes and in upper case (`H2X` starts `h2x 1y4`); an address without a postal code
//!   gets no postal rule. A postal rule without a region still needs its country.
//!
//! Every rule that applies is charged, each on the whole subtotal, in an order that depends only on
//! the rules, never on where they sit in the table: country-wide rules first, then region rules,
//! then postal rules, from the broadest jurisdiction to the narrowest (a shorter postal prefix
//! before a longer one), then by name. An address no rule applies to, a request without an
//! address, and an exempt customer pay no tax. Rounding is [`apply_rates`]'s, the one place where
//! tax is rounded.
//!
//! Rules carry no validity dates: a [`TaxRequest`] holds no tax date to pick them by, so a rate
//! change is a new table.
//!
//! A table reads from JSON as `{"rules": [...]}` or a bare array of rules. Rates are decimal
//! strings (`"0.0725"`); a JSON number (`0.0725`) is also read, digit for digit, never through a
//! binary float.
//!
//! ```
//! use ai_billing::money::{Currency, Money};
//! use ai_billing::tax::{RateTable, TaxAddress, TaxRequest};
//!
//! let table = RateTable::from_json(
//!     r#"{"rules": [
//!         {"name": "CA state tax", "country": "US", "region": "CA", "rate": "0.0725"},
//!         {"name": "SF district tax", "country": "US", "region": "CA", "postal_prefix": "941",
//!          "rate": "0.0125"}
//!     ]}"#,
//! )
//! .unwrap();
//! let address = TaxAddress {
//!     country: "US".into(),
//!     region: Some("CA".into()),
//!     postal_code: Some("94103".into()),
//! };
//! let request =
//!     TaxRequest::new(Money::from_minor(10_000, Currency::USD)).with_address(Some(address));
//! let result = table.tax(&request).unwrap();
//! // 100.00 x 7.25% = 7.25 and 100.00 x 1.25% = 1.25.
//! assert_eq!(result.total, Money::from_minor(850, Currency::USD));
//! ```

use std::cmp::Ordering;
use std::collections::HashMap;

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{TaxAddress, TaxCalculator, TaxRequest, TaxResult, apply_rates, check_rate};
use crate::error::{Error, Result};

/// The name of a rate table in error paths (`tax_rates[3].rate`).
const ROOT: &str = "tax_rates";

/// One rate of a [`RateTable`]: it applies to every address inside its jurisdiction (see the
/// [module documentation](self) for the matching rules).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxRule {
    /// The tax's name on the invoice ("CA state sales tax"); not blank.
    pub name: String,
    /// ISO 3166-1 alpha-2 country code (`US`), in either case.
    pub country: String,
    /// The region (state, province) it is limited to, as the country writes it (`CA`, `QC`);
    /// `None` for a country-wide rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The postal code prefix it is limited to (`941`, `H2X`); spaces and dashes are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_prefix: Option<String>,
    /// The rate as a fraction from 0 to 1 (`0.0725` for 7.25%), written as a decimal string.
    #[serde(
        serialize_with = "rust_decimal::serde::str::serialize",
        deserialize_with = "exact_rate::deserialize"
    )]
    pub rate: Decimal,
}

impl TaxRule {
    /// A country-wide rule called `name` at `rate` (a fraction).
    pub fn new(name: impl Into<String>, country: impl Into<String>, rate: Decimal) -> Self {
        TaxRule {
            name: name.into(),
            country: country.into(),
            region: None,
            postal_prefix: None,
            rate,
        }
    }

    /// The rule limited to `region` of its country.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The rule limited to postal codes starting with `prefix`.
    pub fn with_postal_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.postal_prefix = Some(prefix.into());
        self
    }
}

/// A validated table of [`TaxRule`]s: the [`TaxCalculator`] that taxes an address by its
/// jurisdiction, stacking every rule that applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateTable {
    /// The rules as given.
    rules: Vec<TaxRule>,
    /// Every rule's normalised jurisdiction, in the order rules are charged.
    ordered: Vec<Jurisdiction>,
}

/// A rule's jurisdiction in the form it is compared in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Jurisdiction {
    /// Where the rule is in [`RateTable::rules`].
    index: usize,
    /// Upper case, trimmed.
    country: String,
    /// Upper case, trimmed.
    region: Option<String>,
    /// Upper case, without spaces and dashes; never empty.
    postal_prefix: Option<String>,
}

impl Jurisdiction {
    /// 0 for a country-wide rule, 1 for a region rule, 2 for a postal rule.
    fn level(&self) -> u8 {
        match (&self.region, &self.postal_prefix) {
            (None, None) => 0,
            (Some(_), None) => 1,
            (_, Some(_)) => 2,
        }
    }

    fn applies_to(&self, address: &Address) -> bool {
        self.country == address.country
            && self
                .region
                .as_ref()
                .is_none_or(|region| address.region.as_ref() == Some(region))
            && self.postal_prefix.as_ref().is_none_or(|prefix| {
                address
                    .postal_code
                    .as_ref()
                    .is_some_and(|code| code.starts_with(prefix.as_str()))
            })
    }
}

/// An address in the form rules are compared with.
struct Address {
    country: String,
    region: Option<String>,
    postal_code: Option<String>,
}

impl Address {
    fn new(address: &TaxAddress) -> Self {
        Address {
            country: normalize_code(&address.country),
            region: address
                .region
                .as_deref()
                .map(normalize_code)
                .filter(|r| !r.is_empty()),
            postal_code: address
                .postal_code
                .as_deref()
                .map(normalize_postal)
                .filter(|p| !p.is_empty()),
        }
    }
}

/// A country or region code as compared: trimmed, upper case.
fn normalize_code(code: &str) -> String {
    code.trim().to_uppercase()
}

/// A postal code or prefix as compared: without spaces and dashes, upper case.
fn normalize_postal(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

impl RateTable {
    /// A table of `rules`, checked: every name non-blank, every country two ASCII letters, every
    /// region and postal prefix (when given) non-blank, postal prefixes letters and digits (with
    /// spaces and dashes, which are ignored), rates from 0 to 1, and no two rules with the same
    /// jurisdiction and name (compared as when matching; names case-insensitively). A rule that
    /// fails is [`Error::InvalidInput`] naming its field by index: `tax_rates[3].rate`.
    pub fn new(rules: Vec<TaxRule>) -> Result<Self> {
        Self::checked(rules, ROOT)
    }

    /// Reads a table from JSON, `{"rules": [...]}` or a bare array of rules, and checks it as
    /// [`RateTable::new`] does. Unknown fields are refused (a misspelt `postal_prefix` would
    /// otherwise widen a rule to its whole region). A rate is a decimal string (`"0.0725"`) or a
    /// JSON number read exactly as written. Every error is [`Error::InvalidInput`] naming the
    /// path of the bad value in the document: `tax_rates.rules[3].rate` for the object form,
    /// `tax_rates[3].rate` for the array form.
    pub fn from_json(text: &str) -> Result<Self> {
        /// The object form.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Document {
            rules: Vec<TaxRule>,
        }

        match text.trim_start().chars().next() {
            Some('[') => Self::checked(parse_json::<Vec<TaxRule>>(text)?, ROOT),
            Some('{') => Self::checked(
                parse_json::<Document>(text)?.rules,
                &format!("{ROOT}.rules"),
            ),
            _ => {
                let reason = match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                    Ok(_) => {
                        "must be a JSON object {\"rules\": [...]} or an array of rules".to_owned()
                    }
                    Err(e) => format!("is not valid JSON: {e}"),
                };
                Err(Error::invalid(ROOT, reason))
            }
        }
    }

    /// The rules, in the order they were given.
    pub fn rules(&self) -> &[TaxRule] {
        &self.rules
    }

    /// Whether the table has no rule (it then taxes nothing).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules that apply to `address`, in the order they are charged.
    pub fn rules_for<'a>(
        &'a self,
        address: &TaxAddress,
    ) -> impl Iterator<Item = &'a TaxRule> + use<'a> {
        let address = Address::new(address);
        self.ordered
            .iter()
            .filter(move |jurisdiction| jurisdiction.applies_to(&address))
            .map(|jurisdiction| &self.rules[jurisdiction.index])
    }

    /// The tax of `request`: every rule that applies to its address, stacked and rounded by
    /// [`apply_rates`]. No address, no rule that applies, or an exempt customer is no tax.
    pub fn tax(&self, request: &TaxRequest) -> Result<TaxResult> {
        if request.exempt {
            return Ok(TaxResult::none(request));
        }
        let Some(address) = &request.address else {
            return Ok(TaxResult::none(request));
        };
        let rates: Vec<(String, Decimal)> = self
            .rules_for(address)
            .map(|rule| (rule.name.clone(), rule.rate))
            .collect();
        apply_rates(request, &rates)
    }

    /// Checks `rules`, naming errors under `root`, and orders their jurisdictions.
    fn checked(rules: Vec<TaxRule>, root: &str) -> Result<Self> {
        let mut ordered = Vec::with_capacity(rules.len());
        // (country, region, postal prefix, lower-case name) -> index of the first such rule.
        let mut seen: HashMap<(String, Option<String>, Option<String>, String), usize> =
            HashMap::with_capacity(rules.len());
        for (index, rule) in rules.iter().enumerate() {
            let field = |name: &str| format!("{root}[{index}].{name}");
            if rule.name.trim().is_empty() {
                return Err(Error::invalid(field("name"), "cannot be blank"));
            }
            let country = normalize_code(&rule.country);
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(Error::invalid(
                    field("country"),
                    format!(
                        "must be an ISO 3166-1 alpha-2 code such as \"US\", got {:?}",
                        rule.country
                    ),
                ));
            }
            let region = match &rule.region {
                None => None,
                Some(region) if region.trim().is_empty() => {
                    return Err(Error::invalid(
                        field("region"),
                        "cannot be blank; leave it out for a country-wide rule",
                    ));
                }
                Some(region) => Some(normalize_code(region)),
            };
            let postal_prefix = match &rule.postal_prefix {
                None => None,
                Some(prefix) => {
                    let normalized = normalize_postal(prefix);
                    if normalized.is_empty() {
                        return Err(Error::invalid(
                            field("postal_prefix"),
                            "cannot be blank; leave it out for a rule on the whole region or country",
                        ));
                    }
                    if !normalized.chars().all(|c| c.is_ascii_alphanumeric()) {
                        return Err(Error::invalid(
                            field("postal_prefix"),
                            format!(
                                "must be letters and digits (spaces and dashes are ignored), \
                                 got {prefix:?}"
                            ),
                        ));
                    }
                    Some(normalized)
                }
            };
            check_rate(rule.rate).map_err(|e| match e {
                Error::InvalidInput { reason, .. } => Error::invalid(field("rate"), reason),
                other => other,
            })?;
            let key = (
                country.clone(),
                region.clone(),
                postal_prefix.clone(),
                rule.name.trim().to_lowercase(),
            );
            if let Some(first) = seen.insert(key, index) {
                return Err(Error::invalid(
                    field("name"),
                    format!(
                        "{:?} repeats {root}[{first}]: two rules with the same jurisdiction \
                         and name",
                        rule.name
                    ),
                ));
            }
            ordered.push(Jurisdiction {
                index,
                country,
                region,
                postal_prefix,
            });
        }
        ordered.sort_by(|a, b| charge_order(a, &rules[a.index], b, &rules[b.index]));
        Ok(RateTable { rules, ordered })
    }
}

/// The order rules are charged in: broadest jurisdiction first (country, then region, then postal
/// by prefix length), then by name; the remaining keys only break ties between rules that cannot
/// both apply or that differ in region alone, so the order never depends on the table's order.
fn charge_order(
    a: &Jurisdiction,
    rule_a: &TaxRule,
    b: &Jurisdiction,
    rule_b: &TaxRule,
) -> Ordering {
    let prefix_len = |j: &Jurisdiction| j.postal_prefix.as_ref().map_or(0, String::len);
    a.level()
        .cmp(&b.level())
        .then_with(|| prefix_len(a).cmp(&prefix_len(b)))
        .then_with(|| rule_a.name.trim().cmp(rule_b.name.trim()))
        .then_with(|| a.country.cmp(&b.country))
        .then_with(|| a.region.cmp(&b.region))
        .then_with(|| a.postal_prefix.cmp(&b.postal_prefix))
        .then_with(|| rule_a.name.cmp(&rule_b.name))
}

/// Parses `text` as a `T`, naming the path of a bad value under [`ROOT`].
fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let (path, message) = crate::json::json_error_location(&e, "");
        let field = if path.is_empty() {
            ROOT.to_owned()
        } else if path.starts_with('[') {
            format!("{ROOT}{path}")
        } else {
            format!("{ROOT}.{path}")
        };
        Error::invalid(field, message)
    })?;
    deserializer
        .end()
        .map_err(|e| Error::invalid(ROOT, format!("is not valid JSON: {e}")))?;
    Ok(value)
}

/// Reads a rate exactly: a decimal string (`"0.0725"`) or a JSON number kept digit for digit
/// (serde_json's `arbitrary_precision`). A binary float, which only a non-JSON format could hand
/// over, is refused rather than guessed at.
mod exact_rate {
    use std::fmt;

    use rust_decimal::Decimal;
    use serde::Deserialize;
    use serde::de::{self, MapAccess, Visitor};

    pub fn deserialize<'de, D: de::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Decimal, D::Error> {
        deserializer.deserialize_any(RateVisitor)
    }

    fn exact<E: de::Error>(text: &str) -> Result<Decimal, E> {
        let trimmed = text.trim();
        Decimal::from_str_exact(trimmed)
            .or_else(|_| Decimal::from_scientific(trimmed))
            .map_err(|_| {
                E::custom(format_args!(
                    "{text:?} is not an exact decimal rate such as \"0.0725\""
                ))
            })
    }

    struct RateVisitor;

    impl<'de> Visitor<'de> for RateVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal rate such as \"0.0725\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            exact(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Decimal, E> {
            Err(E::custom(
                "a rate cannot be a binary floating-point number; write it as a decimal \
                 string such as \"0.0725\"",
            ))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Decimal, A::Error> {
            // serde_json's arbitrary-precision number: its digits as written.
            let number =
                serde_json::Number::deserialize(de::value::MapAccessDeserializer::new(map))?;
            exact(number.as_str())
        }
    }
}

impl Serialize for RateTable {
    /// The object form `{"rules": [...]}`, which [`RateTable::from_json`] reads back.
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut document = serializer.serialize_struct("RateTable", 1)?;
        document.serialize_field("rules", &self.rules)?;
        document.end()
    }
}

#[async_trait]
impl TaxCalculator for RateTable {
    async fn compute(&self, request: &TaxRequest) -> Result<TaxResult> {
        self.tax(request)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::money::{Currency, Money};

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn rule(name: &str, country: &str, rate: &str) -> TaxRule {
        TaxRule::new(name, country, dec(rate))
    }

    fn address(country: &str, region: Option<&str>, postal_code: Option<&str>) -> TaxAddress {
        TaxAddress {
            country: country.to_owned(),
            region: region.map(str::to_owned),
            postal_code: postal_code.map(str::to_owned),
        }
    }

    fn request(minor: i64, currency: Currency, at: TaxAddress) -> TaxRequest {
        TaxRequest::new(Money::from_minor(minor, currency)).with_address(Some(at))
    }

    /// The result's lines as (name, amount in minor units), and its total in minor units.
    fn lines(result: &TaxResult) -> (Vec<(&str, i64)>, i64) {
        let lines = result
            .lines
            .iter()
            .map(|line| (line.name.as_str(), line.amount.minor()))
            .collect();
        (lines, result.total.minor())
    }

    fn california() -> RateTable {
        RateTable::new(vec![
            rule("CA state tax", "US", "0.0725").with_region("CA"),
            rule("SF district tax", "US", "0.0125")
                .with_region("CA")
                .with_postal_prefix("941"),
        ])
        .unwrap()
    }

    fn canada() -> RateTable {
        RateTable::new(vec![
            rule("QST", "CA", "0.09975").with_region("QC"),
            rule("GST", "CA", "0.05"),
        ])
        .unwrap()
    }

    fn invalid_field(result: Result<RateTable>) -> (String, String) {
        match result {
            Err(Error::InvalidInput { field, reason }) => (field, reason),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn a_state_rate_and_a_postal_district_stack() {
        let table = california();
        let sf = request(
            10_000,
            Currency::USD,
            address("US", Some("CA"), Some("94103")),
        );
        let result = table.tax(&sf).unwrap();
        // 100.00 x 0.0725 = 7.25; 100.00 x 0.0125 = 1.25; total 8.50.
        assert_eq!(
            lines(&result),
            (vec![("CA state tax", 725), ("SF district tax", 125)], 850)
        );
        assert!(!result.inclusive);
        assert_eq!(result.lines[0].rate, dec("0.0725"));
        assert_eq!(result.lines[1].rate, dec("0.0125"));

        // Los Angeles is in the state but not in the district: 7.25 only.
        let la = request(
            10_000,
            Currency::USD,
            address("US", Some("CA"), Some("90012")),
        );
        assert_eq!(
            lines(&table.tax(&la).unwrap()),
            (vec![("CA state tax", 725)], 725)
        );
    }

    #[test]
    fn stacked_rates_round_each_line_separately() {
        let table = RateTable::new(vec![
            rule("State tax", "US", "0.0625").with_region("IL"),
            rule("City tax", "US", "0.005")
                .with_region("IL")
                .with_postal_prefix("606"),
        ])
        .unwrap();
        let chicago = address("US", Some("IL"), Some("60601"));
        // 10.05 x 0.0625 = 0.628125 -> 0.63; 10.05 x 0.005 = 0.05025 -> 0.05; total 0.68.
        let result = table
            .tax(&request(1005, Currency::USD, chicago.clone()))
            .unwrap();
        assert_eq!(
            lines(&result),
            (vec![("State tax", 63), ("City tax", 5)], 68)
        );
        // 10.30 x 0.0625 = 0.64375 -> 0.64; 10.30 x 0.005 = 0.0515 -> 0.05; total 0.69, where a
        // single combined 6.75% would give 0.69525 -> 0.70.
        let result = table.tax(&request(1030, Currency::USD, chicago)).unwrap();
        assert_eq!(
            lines(&result),
            (vec![("State tax", 64), ("City tax", 5)], 69)
        );
    }

    #[test]
    fn a_region_rule_does_not_apply_to_another_region() {
        let table = california();
        // New York: no US rule applies there, so no tax at all (even with an SF-like postal code).
        let ny = request(
            10_000,
            Currency::USD,
            address("US", Some("NY"), Some("94103")),
        );
        let result = table.tax(&ny).unwrap();
        assert_eq!(lines(&result), (vec![], 0));
        assert_eq!(result.total.currency(), Currency::USD);
        // An address without a region gets no region rule.
        let unknown_state = request(10_000, Currency::USD, address("US", None, Some("94103")));
        assert_eq!(lines(&table.tax(&unknown_state).unwrap()), (vec![], 0));
        // Regions and countries compare case-insensitively, ignoring surrounding space.
        let lower = request(10_000, Currency::USD, address("us", Some(" ca "), None));
        assert_eq!(
            lines(&table.tax(&lower).unwrap()),
            (vec![("CA state tax", 725)], 725)
        );
    }

    #[test]
    fn postal_prefixes_ignore_spaces_dashes_and_case() {
        let table = RateTable::new(vec![
            rule("GST", "CA", "0.05"),
            rule("Plateau levy", "CA", "0.01")
                .with_region("QC")
                .with_postal_prefix("H2X"),
            rule("Spaced levy", "CA", "0.02").with_postal_prefix("h2 x-1"),
        ])
        .unwrap();
        let names = |postal: &str| -> Vec<String> {
            table
                .rules_for(&address("CA", Some("QC"), Some(postal)))
                .map(|rule| rule.name.clone())
                .collect()
        };
        let all = vec!["GST", "Plateau levy", "Spaced levy"];
        assert_eq!(names("H2X 1Y4"), all);
        assert_eq!(names("h2x1y4"), all);
        assert_eq!(names("H2X-1Y4"), all);
        // "H2X 2A1" is in H2X but not in H2X1.
        assert_eq!(names("H2X 2A1"), vec!["GST", "Plateau levy"]);
        // A neighbouring forward sortation area is not in H2X.
        assert_eq!(names("H2Y 1Y4"), vec!["GST"]);
        // A prefix longer than the code does not match.
        assert_eq!(names("H2"), vec!["GST"]);
        // Without a postal code, no postal rule applies.
        let no_code: Vec<_> = table
            .rules_for(&address("CA", Some("QC"), None))
            .map(|rule| rule.name.as_str())
            .collect();
        assert_eq!(no_code, vec!["GST"]);
    }

    #[test]
    fn a_postal_rule_without_a_region_still_needs_its_country() {
        let table = RateTable::new(vec![
            rule("District tax", "US", "0.01").with_postal_prefix("941"),
        ])
        .unwrap();
        // In the US, with or without a region: 50.00 x 0.01 = 0.50.
        for region in [None, Some("CA")] {
            let us = request(5000, Currency::USD, address("US", region, Some("94103")));
            assert_eq!(
                lines(&table.tax(&us).unwrap()),
                (vec![("District tax", 50)], 50)
            );
        }
        // The same digits in another country are not the district.
        let mexico = request(5000, Currency::USD, address("MX", None, Some("94103")));
        assert_eq!(lines(&table.tax(&mexico).unwrap()), (vec![], 0));
    }

    #[test]
    fn canada_gst_and_quebec_qst() {
        let table = canada();
        let montreal = request(
            5999,
            Currency::CAD,
            address("CA", Some("QC"), Some("H2X 1Y4")),
        );
        let result = table.tax(&montreal).unwrap();
        // The country rule comes first though the table lists it second.
        // 59.99 x 0.05 = 2.9995 -> 3.00; 59.99 x 0.09975 = 5.9840025 -> 5.98; total 8.98.
        assert_eq!(lines(&result), (vec![("GST", 300), ("QST", 598)], 898));
        assert_eq!(result.total.currency(), Currency::CAD);
        // Ontario gets the GST only: 2.9995 -> 3.00.
        let toronto = request(
            5999,
            Currency::CAD,
            address("CA", Some("ON"), Some("M5V 2T6")),
        );
        assert_eq!(
            lines(&table.tax(&toronto).unwrap()),
            (vec![("GST", 300)], 300)
        );
    }

    #[test]
    fn eu_vat_included_in_the_price() {
        let table = RateTable::new(vec![rule("TVA", "FR", "0.20")]).unwrap();
        let paris =
            request(12_000, Currency::EUR, address("FR", None, Some("75001"))).with_inclusive(true);
        let result = table.tax(&paris).unwrap();
        // net = 120.00 / 1.20 = 100.00; tax = 120.00 - 100.00 = 20.00.
        assert!(result.inclusive);
        assert_eq!(lines(&result), (vec![("TVA", 2000)], 2000));
        assert_eq!(
            paris.subtotal.checked_sub(result.total).unwrap(),
            Money::from_minor(10_000, Currency::EUR)
        );
    }

    #[test]
    fn included_stacked_tax_is_split_in_proportion_and_sums_exactly() {
        let table = RateTable::new(vec![
            rule("NY state tax", "US", "0.04").with_region("NY"),
            rule("NYC local tax", "US", "0.04875")
                .with_region("NY")
                .with_postal_prefix("100"),
        ])
        .unwrap();
        let nyc = request(
            10_888,
            Currency::USD,
            address("US", Some("ny"), Some("10001")),
        )
        .with_inclusive(true);
        let result = table.tax(&nyc).unwrap();
        // net = 108.88 / 1.08875 = 100.0045... -> 100.00; tax = 8.88 (888 cents).
        // Split 888 by 4000 : 4875 (of 8875): 3,552,000 / 8875 = 400 rest 2000 and
        // 4,329,000 / 8875 = 487 rest 6875; the one cent left goes to the larger rest: 400 + 488.
        assert_eq!(
            lines(&result),
            (vec![("NY state tax", 400), ("NYC local tax", 488)], 888)
        );
        let sum: i64 = result.lines.iter().map(|line| line.amount.minor()).sum();
        assert_eq!(sum, result.total.minor());
        assert_eq!(nyc.subtotal.minor() - result.total.minor(), 10_000);
    }

    #[test]
    fn an_exempt_customer_pays_nothing() {
        let sf = request(
            10_000,
            Currency::USD,
            address("US", Some("CA"), Some("94103")),
        );
        for inclusive in [false, true] {
            let exempt = sf.clone().with_exempt(true).with_inclusive(inclusive);
            let result = california().tax(&exempt).unwrap();
            assert_eq!(lines(&result), (vec![], 0));
            assert_eq!(result.inclusive, inclusive);
        }
    }

    #[test]
    fn no_matching_rule_or_no_address_is_no_tax() {
        let table = california();
        let berlin = request(
            10_000,
            Currency::EUR,
            address("DE", Some("BE"), Some("10115")),
        );
        let result = table.tax(&berlin).unwrap();
        assert_eq!(lines(&result), (vec![], 0));
        assert_eq!(result.total.currency(), Currency::EUR);
        let nowhere = TaxRequest::new(Money::from_minor(10_000, Currency::USD));
        assert_eq!(lines(&table.tax(&nowhere).unwrap()), (vec![], 0));
        // An empty table taxes nothing.
        let empty = RateTable::new(Vec::new()).unwrap();
        assert!(empty.is_empty());
        let sf = request(
            10_000,
            Currency::USD,
            address("US", Some("CA"), Some("94103")),
        );
        assert_eq!(lines(&empty.tax(&sf).unwrap()), (vec![], 0));
    }

    #[test]
    fn yen_have_no_minor_unit() {
        let table = RateTable::new(vec![rule("Consumption tax", "JP", "0.10")]).unwrap();
        let tokyo = request(
            1235,
            Currency::JPY,
            address("JP", Some("13"), Some("100-0001")),
        );
        // 1,235 x 0.10 = 123.5 -> 124 yen.
        assert_eq!(
            lines(&table.tax(&tokyo).unwrap()),
            (vec![("Consumption tax", 124)], 124)
        );
        // Included: 1,235 / 1.10 = 1,122.727... -> net 1,123; tax 112.
        let included = tokyo.with_inclusive(true);
        assert_eq!(
            lines(&table.tax(&included).unwrap()),
            (vec![("Consumption tax", 112)], 112)
        );
    }

    #[test]
    fn a_zero_subtotal_has_zero_tax_lines() {
        let sf = request(0, Currency::USD, address("US", Some("CA"), Some("94103")));
        for inclusive in [false, true] {
            let result = california()
                .tax(&sf.clone().with_inclusive(inclusive))
                .unwrap();
            // 0.00 x 0.0725 = 0.00 and 0.00 x 0.0125 = 0.00: the lines are still shown.
            assert_eq!(
                lines(&result),
                (vec![("CA state tax", 0), ("SF district tax", 0)], 0)
            );
        }
    }

    #[test]
    fn a_credit_is_taxed_symmetrically() {
        let sf = request(
            -1005,
            Currency::USD,
            address("US", Some("CA"), Some("94103")),
        );
        // -10.05 x 0.0725 = -0.728625 -> -0.73; -10.05 x 0.0125 = -0.125625 -> -0.13.
        assert_eq!(
            lines(&california().tax(&sf).unwrap()),
            (vec![("CA state tax", -73), ("SF district tax", -13)], -86)
        );
    }

    #[test]
    fn rules_are_charged_broadest_first_whatever_the_table_order() {
        let state = rule("State", "US", "0.06").with_region("CA");
        let county = rule("County", "US", "0.0025")
            .with_region("CA")
            .with_postal_prefix("95");
        let city = rule("City", "US", "0.01")
            .with_region("CA")
            .with_postal_prefix("951");
        let special = rule("Alpha special", "US", "0.001")
            .with_region("CA")
            .with_postal_prefix("951");
        let federal = rule("Federal", "US", "0");
        let rules = [state, county, city, special, federal];
        let expected = vec!["Federal", "State", "County", "Alpha special", "City"];
        let san_jose = address("US", Some("CA"), Some("95112"));
        // Every rotation and its reverse give the same order.
        for shift in 0..rules.len() {
            let mut shuffled = rules.to_vec();
            shuffled.rotate_left(shift);
            for order in [shuffled.clone(), shuffled.into_iter().rev().collect()] {
                let table = RateTable::new(order).unwrap();
                let names: Vec<_> = table
                    .rules_for(&san_jose)
                    .map(|rule| rule.name.as_str())
                    .collect();
                assert_eq!(names, expected);
            }
        }
        // The table keeps the rules as given.
        let table = RateTable::new(rules.to_vec()).unwrap();
        assert_eq!(table.rules(), &rules);
    }

    #[test]
    fn invalid_rules_are_named_by_index() {
        let good = || rule("State", "US", "0.06").with_region("CA");
        let cases: Vec<(TaxRule, &str, &str)> = vec![
            (rule("Too much", "US", "1.5"), "rate", "from 0 to 1"),
            (rule("Negative", "US", "-0.01"), "rate", "from 0 to 1"),
            (rule("Percent", "US", "7.25"), "rate", "from 0 to 1"),
            (rule("  ", "US", "0.05"), "name", "blank"),
            (rule("Long", "USA", "0.05"), "country", "alpha-2"),
            (rule("Digits", "U1", "0.05"), "country", "alpha-2"),
            (rule("Empty", "", "0.05"), "country", "alpha-2"),
            (
                rule("Blank region", "US", "0.05").with_region(" "),
                "region",
                "blank",
            ),
            (
                rule("Blank prefix", "US", "0.05").with_postal_prefix(" - "),
                "postal_prefix",
                "blank",
            ),
            (
                rule("Odd prefix", "US", "0.05").with_postal_prefix("94*"),
                "postal_prefix",
                "letters and digits",
            ),
        ];
        for (bad, name, words) in cases {
            let (field, reason) = invalid_field(RateTable::new(vec![
                good(),
                rule("Other", "US", "0.01"),
                rule("Third", "CA", "0.05"),
                bad.clone(),
            ]));
            assert_eq!(field, format!("tax_rates[3].{name}"), "{bad:?}: {reason}");
            assert!(reason.contains(words), "{bad:?}: {reason}");
        }
    }

    #[test]
    fn two_rules_with_the_same_jurisdiction_and_name_are_refused() {
        let (field, reason) = invalid_field(RateTable::new(vec![
            rule("CA state tax", "US", "0.0725").with_region("CA"),
            rule("SF district", "US", "0.0125")
                .with_region("CA")
                .with_postal_prefix("941"),
            // Same jurisdiction once compared: case, spaces and dashes do not matter.
            rule("sf DISTRICT", "us", "0.02")
                .with_region(" ca")
                .with_postal_prefix("9-41"),
        ]));
        assert_eq!(field, "tax_rates[2].name");
        assert!(reason.contains("tax_rates[1]"), "{reason}");
        // The same name in another jurisdiction, or another name in the same one, is fine.
        RateTable::new(vec![
            rule("District", "US", "0.01").with_postal_prefix("941"),
            rule("District", "US", "0.01")
                .with_region("CA")
                .with_postal_prefix("941"),
            rule("District", "US", "0.01").with_postal_prefix("9410"),
            rule("Other district", "US", "0.01").with_postal_prefix("941"),
        ])
        .unwrap();
    }

    #[test]
    fn from_json_reads_an_object_or_a_bare_array() {
        let object = r#"{"rules": [
            {"name": "CA state tax", "country": "US", "region": "CA", "rate": "0.0725"},
            {"name": "SF district tax", "country": "US", "region": "CA",
             "postal_prefix": "941", "rate": "0.0125"}
        ]}"#;
        let array = r#"[
            {"name": "CA state tax", "country": "US", "region": "CA", "rate": "0.0725"},
            {"name": "SF district tax", "country": "US", "region": "CA",
             "postal_prefix": "941", "rate": "0.0125"}
        ]"#;
        assert_eq!(RateTable::from_json(object).unwrap(), california());
        assert_eq!(RateTable::from_json(array).unwrap(), california());
        // Written back as the object form with string rates, and read back the same.
        let json = serde_json::to_string(&california()).unwrap();
        assert_eq!(
            json,
            r#"{"rules":[{"name":"CA state tax","country":"US","region":"CA","rate":"0.0725"},{"name":"SF district tax","country":"US","region":"CA","postal_prefix":"941","rate":"0.0125"}]}"#
        );
        assert_eq!(RateTable::from_json(&json).unwrap(), california());
    }

    #[test]
    fn from_json_reads_a_number_rate_exactly() {
        let table = RateTable::from_json(
            r#"[{"name": "CA state tax", "country": "US", "region": "CA", "rate": 0.0725},
                {"name": "Tiny", "country": "US", "rate": 0.07250000000000000001},
                {"name": "Tenth", "country": "FR", "rate": 1e-1},
                {"name": "All", "country": "DE", "rate": 1}]"#,
        )
        .unwrap();
        let rates: Vec<String> = table.rules().iter().map(|r| r.rate.to_string()).collect();
        // Every digit as written; 0.0725 as an f64 would be 0.07249999999999999500...
        assert_eq!(rates, ["0.0725", "0.07250000000000000001", "0.1", "1"]);
        assert_eq!(table.rules()[0].rate, dec("0.0725"));
        // 2.00 x 0.0725 = 0.145 -> 0.15 exactly; through an f64 rate it would be 0.1449... -> 0.14.
        let table = RateTable::from_json(
            r#"[{"name": "CA state tax", "country": "US", "region": "CA", "rate": 0.0725}]"#,
        )
        .unwrap();
        let two_dollars = request(200, Currency::USD, address("US", Some("CA"), None));
        assert_eq!(
            lines(&table.tax(&two_dollars).unwrap()),
            (vec![("CA state tax", 15)], 15)
        );
    }

    #[test]
    fn from_json_names_the_bad_field() {
        let field_of = |text: &str| invalid_field(RateTable::from_json(text));
        // A rate that is not a decimal, in either form.
        let (field, reason) = field_of(
            r#"{"rules": [{"name": "A", "country": "US", "rate": "0.05"},
                          {"name": "B", "country": "US", "rate": "seven"}]}"#,
        );
        assert_eq!(field, "tax_rates.rules[1].rate");
        assert!(reason.contains("not an exact decimal rate"), "{reason}");
        let (field, _) = field_of(r#"[{"name": "A", "country": "US", "rate": true}]"#);
        assert_eq!(field, "tax_rates[0].rate");
        // A missing field.
        let (field, reason) = field_of(r#"[{"name": "A", "country": "US"}]"#);
        assert_eq!(field, "tax_rates[0].rate");
        assert!(reason.contains("missing field"), "{reason}");
        let (field, _) = field_of("{}");
        assert_eq!(field, "tax_rates.rules");
        // A misspelt field is refused, not ignored.
        let (field, reason) =
            field_of(r#"[{"name": "A", "country": "US", "postal_prefx": "941", "rate": "0.01"}]"#);
        assert!(field.starts_with("tax_rates[0]"), "{field}");
        assert!(reason.contains("postal_prefx"), "{reason}");
        // Checks after parsing name the path in the document.
        let (field, reason) =
            field_of(r#"{"rules": [{"name": "A", "country": "US", "rate": 8.25}]}"#);
        assert_eq!(field, "tax_rates.rules[0].rate");
        assert!(reason.contains("from 0 to 1"), "{reason}");
        let (field, _) = field_of(r#"[{"name": "A", "country": "USA", "rate": "0.05"}]"#);
        assert_eq!(field, "tax_rates[0].country");
        // A rule that is not an object.
        let (field, _) = field_of("[1]");
        assert_eq!(field, "tax_rates[0]");
        // Not a table at all.
        for text in ["3", "\"rules\"", "null", "", "[", "{\"rules\": []} x"] {
            let (field, _) = field_of(text);
            assert_eq!(field, "tax_rates", "{text:?}");
        }
    }

    #[test]
    fn a_binary_float_rate_is_refused() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error as ValueError, F64Deserializer};
        let float: F64Deserializer<ValueError> = 0.0725_f64.into_deserializer();
        let err = exact_rate::deserialize(float).unwrap_err();
        assert!(err.to_string().contains("decimal string"), "{err}");
    }

    #[tokio::test]
    async fn the_table_is_a_tax_calculator() {
        let calc: std::sync::Arc<dyn TaxCalculator> = std::sync::Arc::new(canada());
        let montreal = request(5999, Currency::CAD, address("CA", Some("QC"), None));
        assert_eq!(calc.compute(&montreal).await.unwrap().total.minor(), 898);
    }
}
