//! The pricing program: a typed, versioned description of what a plan charges, produced by an
//! interpreter from the plan prompt (or given directly for standard plans), stored with the plan,
//! shown to the admin, and evaluated by [`PricingProgram::evaluate`] at every renewal.
//!
//! Prices in a program are `rust_decimal` amounts in major units per subscribed copy (recurring) or
//! per counted unit (usage); rounding to the minor unit happens once per line item, in evaluation.

mod describe;
mod evaluate;

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use crate::calendar::BillingInterval;
use crate::error::{Error, Result};
use crate::json::DecimalString;
use crate::money::Currency;

pub use evaluate::{ChargeKind, PricedLine};

/// The version of the program format this library writes and evaluates.
pub const PROGRAM_VERSION: u32 = 1;

/// When a plan's invoice for a period is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceTiming {
    /// In advance, on the period's start date (flat and step-up plans).
    AtStart,
    /// In arrears, on the period's end date, for the period's usage (usage and hybrid plans).
    AtRenewal,
}

/// What a plan charges, per billing period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PricingProgram {
    /// Format version, [`PROGRAM_VERSION`].
    #[schemars(extend("const" = PROGRAM_VERSION))]
    pub version: u32,
    /// The plan's currency; every price is in it.
    pub currency: Currency,
    /// The plan's billing interval; "month 3" means period 3 of this interval.
    pub interval: BillingInterval,
    /// Recurring charges (flat or base fees), multiplied by the subscription quantity.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub recurring: Vec<RecurringCharge>,
    /// Usage charges, on the period's shipments or shipped units; not multiplied by quantity.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub usage: Vec<UsageCharge>,
}

/// A recurring fee, made of consecutive phases ("$4.99 for the first 3 months, then $14.99").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurringCharge {
    /// The line item's description ("Base charge").
    pub description: String,
    /// Phases in period order, the first from period 1, each starting where the previous ended.
    pub phases: Vec<Phase>,
}

/// One phase of a recurring charge: a price for a range of periods, possibly stepping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// First period of the phase (1-based).
    pub from_period: u32,
    /// Last period of the phase (inclusive); `None` for ever after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_period: Option<u32>,
    /// Price per period per subscribed copy at `from_period`, in major units.
    #[serde(with = "rust_decimal::serde::str")]
    #[schemars(with = "DecimalString")]
    pub amount: Decimal,
    /// How the price changes as periods pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    /// The price never goes below this (a step's floor).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    #[schemars(with = "Option<DecimalString>")]
    pub floor: Option<Decimal>,
    /// The price never goes above this (a step's ceiling, "until it reaches $30").
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    #[schemars(with = "Option<DecimalString>")]
    pub ceiling: Option<Decimal>,
    /// A percentage taken off the price in this phase (`20` for 20% off).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    #[schemars(with = "Option<DecimalString>")]
    pub discount_percent: Option<Decimal>,
}

/// A regular change of a recurring price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The price changes once every this many periods.
    pub every_periods: u32,
    /// The change.
    pub change: StepChange,
}

/// The size of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StepChange {
    /// Add this amount (negative to decrease), in major units.
    Amount(
        #[serde(with = "rust_decimal::serde::str")]
        #[schemars(with = "DecimalString")]
        Decimal,
    ),
    /// Multiply by (1 + percent/100), compounding (negative to decrease).
    Percent(
        #[serde(with = "rust_decimal::serde::str")]
        #[schemars(with = "DecimalString")]
        Decimal,
    ),
}

/// What a usage charge counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsageMetric {
    /// Shipment rows ("per shipment / delivery / package / paper").
    Shipments,
    /// Shipped units, the sum of `quantity` ("per copy / unit / item delivered").
    Units,
}

/// What returns do to a usage charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnsPolicy {
    /// Returns are ignored (the default when the prompt says nothing of them).
    #[default]
    Ignored,
    /// Each return takes its shipment (or its units) off the count, at its weekday's rate.
    Credited,
}

/// A usage charge on the period's shipments or units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageCharge {
    /// The line item's description ("Usage (Shipment) charge").
    pub description: String,
    /// What is counted.
    pub metric: UsageMetric,
    /// How the count is priced.
    pub pricing: UsagePricing,
    /// What returns do.
    #[serde(default, deserialize_with = "null_as_default")]
    pub returns: ReturnsPolicy,
    /// Units free each period before pricing.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub allowance: u64,
    /// The charge is at least this much per period, in major units.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    #[schemars(with = "Option<DecimalString>")]
    pub minimum: Option<Decimal>,
    /// The charge is at most this much per period, in major units.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    #[schemars(with = "Option<DecimalString>")]
    pub cap: Option<Decimal>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A defaulted field that also reads an explicit `null` as its default: a model answering in
/// strict structured output writes `null` for every field it leaves out.
fn null_as_default<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// How a usage count is priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum UsagePricing {
    /// A price per unit by local weekday; a weekday with no price must have no usage.
    PerUnit {
        /// The price of each weekday.
        rates: WeekdayRates,
    },
    /// Each unit priced in its own tier ("first 20 at $1, then $0.60").
    Graduated {
        /// Tiers in ascending order, the last open-ended.
        tiers: Vec<Tier>,
    },
    /// Every unit priced at the tier the period's total falls in.
    Volume {
        /// Tiers in ascending order, the last open-ended.
        tiers: Vec<Tier>,
    },
}

/// A usage tier: units up to and including `up_to` are priced at `unit_price`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The tier's last unit (inclusive); `None` for the open-ended last tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_to: Option<u64>,
    /// The price of each unit in the tier, in major units.
    #[serde(with = "rust_decimal::serde::str")]
    #[schemars(with = "DecimalString")]
    pub unit_price: Decimal,
}

/// A price per local weekday, Monday first; `None` where the prompt gives no price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WeekdayRates(pub [Option<Decimal>; 7]);

/// Weekday names, Monday first, as the program's JSON spells them.
pub const WEEKDAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl WeekdayRates {
    /// The same price on every day.
    pub fn uniform(price: Decimal) -> Self {
        WeekdayRates([Some(price); 7])
    }
    /// The one price of every day, if all seven days have the same price.
    pub fn single_rate(&self) -> Option<Decimal> {
        let first = self.0[0]?;
        self.0.iter().all(|r| *r == Some(first)).then_some(first)
    }
}

impl Serialize for WeekdayRates {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (name, rate) in WEEKDAY_NAMES.iter().zip(self.0.iter()) {
            if let Some(rate) = rate {
                map.serialize_entry(name, &rate.to_string())?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for WeekdayRates {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        // `null` is a day without a price, as strict structured output writes it.
        let map = std::collections::BTreeMap::<String, Option<String>>::deserialize(deserializer)?;
        let mut rates = WeekdayRates::default();
        for (day, price) in map {
            let index = WEEKDAY_NAMES
                .iter()
                .position(|n| *n == day)
                .ok_or_else(|| D::Error::custom(format!("unknown weekday {day:?}")))?;
            let Some(price) = price else { continue };
            let price: Decimal = price
                .parse()
                .map_err(|e| D::Error::custom(format!("price of {day}: {e}")))?;
            rates.0[index] = Some(price);
        }
        Ok(rates)
    }
}

impl JsonSchema for WeekdayRates {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WeekdayRates".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let day = generator.subschema_for::<Option<DecimalString>>();
        let properties: serde_json::Map<String, serde_json::Value> = WEEKDAY_NAMES
            .iter()
            .map(|name| ((*name).to_owned(), day.clone().to_value()))
            .collect();
        schemars::json_schema!({
            "type": "object",
            "description": "The price of one unit on each local weekday, in major units; null (or absent) for a day with no price.",
            "properties": properties,
            "additionalProperties": false,
        })
    }
}

impl PricingProgram {
    /// An empty program for a plan in `currency`, billed every `interval`.
    pub fn new(currency: Currency, interval: BillingInterval) -> Self {
        PricingProgram {
            version: PROGRAM_VERSION,
            currency,
            interval,
            recurring: Vec::new(),
            usage: Vec::new(),
        }
    }

    /// In arrears when anything is billed on usage, in advance otherwise (the conventions' rule).
    pub fn invoice_timing(&self) -> InvoiceTiming {
        if self.usage.is_empty() {
            InvoiceTiming::AtStart
        } else {
            InvoiceTiming::AtRenewal
        }
    }

    /// Checks the program's structure: a known version, at least one charge, phases contiguous from
    /// period 1, prices not negative, tiers ascending and open-ended, minimum not above cap. Both
    /// interpreters' output and every stored program pass through here.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: String, reason: &str| Err(Error::invalid(field, reason));
        if self.version != PROGRAM_VERSION {
            return bad(
                "program.version".into(),
                "this library evaluates pricing programs of version 1",
            );
        }
        if self.recurring.is_empty() && self.usage.is_empty() {
            return bad(
                "program".into(),
                "a pricing program needs at least one charge",
            );
        }
        for (i, charge) in self.recurring.iter().enumerate() {
            let at = |f: &str| format!("program.recurring[{i}].{f}");
            if charge.phases.is_empty() {
                return bad(at("phases"), "a recurring charge needs at least one phase");
            }
            let mut next = 1u32;
            for (p, phase) in charge.phases.iter().enumerate() {
                let at = |f: &str| format!("program.recurring[{i}].phases[{p}].{f}");
                if phase.from_period != next {
                    return bad(
                        at("from_period"),
                        "phases must follow each other from period 1 without gaps",
                    );
                }
                match phase.to_period {
                    Some(to) if to < phase.from_period => {
                        return bad(at("to_period"), "ends before it starts");
                    }
                    Some(to) => {
                        next = to
                            .checked_add(1)
                            .ok_or_else(|| Error::overflow("phase periods"))?
                    }
                    None if p + 1 != charge.phases.len() => {
                        return bad(at("to_period"), "only the last phase can run for ever");
                    }
                    None => {}
                }
                let prices = [Some(phase.amount), phase.floor, phase.ceiling];
                if prices.iter().flatten().any(|v| v.is_sign_negative()) {
                    return bad(at("amount"), "prices cannot be negative");
                }
                if let (Some(floor), Some(ceiling)) = (phase.floor, phase.ceiling)
                    && floor > ceiling
                {
                    return bad(at("floor"), "the floor is above the ceiling");
                }
                if let Some(d) = phase.discount_percent
                    && (d <= Decimal::ZERO || d > Decimal::ONE_HUNDRED)
                {
                    return bad(
                        at("discount_percent"),
                        "a discount is a percentage above 0 and at most 100",
                    );
                }
                if let Some(step) = &phase.step {
                    if step.every_periods == 0 {
                        return bad(at("step.every_periods"), "must be at least 1");
                    }
                    if let StepChange::Percent(p) = step.change
                        && p <= -Decimal::ONE_HUNDRED
                    {
                        return bad(at("step.change"), "a price cannot fall by 100% or more");
                    }
                }
            }
            if charge.phases.last().is_some_and(|p| p.to_period.is_some()) {
                // A charge that stops is allowed: periods after its last phase bill nothing for it.
            }
        }
        for (i, charge) in self.usage.iter().enumerate() {
            let at = |f: &str| format!("program.usage[{i}].{f}");
            let tiers = match &charge.pricing {
                UsagePricing::PerUnit { rates } => {
                    if rates.0.iter().all(Option::is_none) {
                        return bad(
                            at("pricing.rates"),
                            "needs a price for at least one weekday",
                        );
                    }
                    if rates.0.iter().flatten().any(|r| r.is_sign_negative()) {
                        return bad(at("pricing.rates"), "prices cannot be negative");
                    }
                    if charge.allowance > 0 && rates.single_rate().is_none() {
                        return bad(
                            at("allowance"),
                            "a free allowance with different weekday prices is ambiguous (which units are free?)",
                        );
                    }
                    None
                }
                UsagePricing::Graduated { tiers } | UsagePricing::Volume { tiers } => Some(tiers),
            };
            if let Some(tiers) = tiers {
                if tiers.is_empty() || tiers.last().is_some_and(|t| t.up_to.is_some()) {
                    return bad(
                        at("pricing.tiers"),
                        "tiers must end with an open-ended tier",
                    );
                }
                let mut previous = 0u64;
                for (t, tier) in tiers.iter().enumerate() {
                    if tier.unit_price.is_sign_negative() {
                        return bad(
                            format!("program.usage[{i}].pricing.tiers[{t}].unit_price"),
                            "cannot be negative",
                        );
                    }
                    if let Some(up_to) = tier.up_to {
                        if up_to <= previous && !(t == 0 && up_to > 0) {
                            return bad(
                                format!("program.usage[{i}].pricing.tiers[{t}].up_to"),
                                "tiers must ascend",
                            );
                        }
                        previous = up_to;
                    }
                }
            }
            for (name, value) in [("minimum", charge.minimum), ("cap", charge.cap)] {
                if value.is_some_and(|v| v.is_sign_negative()) {
                    return bad(at(name), "cannot be negative");
                }
            }
            if let (Some(min), Some(cap)) = (charge.minimum, charge.cap)
                && min > cap
            {
                return bad(at("minimum"), "the minimum is above the cap");
            }
        }
        Ok(())
    }
}
