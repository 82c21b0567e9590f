//! Accounts and plans in the platform's shapes, and how a plan becomes a [`PricingProgram`].
//!
//! An AI plan is a standard plan with three more fields (`type: "ai"`, `ai_prompt`, `usage_query`),
//! so every API that lists, reads or writes plans handles it unchanged. [`Plan::compile`] is the
//! one place that turns any plan into the program that bills it: a standard plan's `amount`, an AI
//! plan's prompt through the offline [`interpreter`](crate::interpreter), or the program given with
//! a step-up, usage or hybrid plan.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::calendar::{BillingInterval, IntervalUnit};
use crate::error::{Error, Result};
use crate::interpreter::{self, PlanContext};
use crate::locale::Locale;
use crate::money::{Currency, Money};
use crate::pricing::{Phase, PricingProgram, RecurringCharge};
use crate::usage::{self, UsageQueryTemplate};

/// The longest plan prompt accepted, in characters. Longer prompts are refused before any
/// interpretation (they are either a mistake or an attempt to smuggle something in).
pub const MAX_PROMPT_CHARS: usize = 4000;

/// The usage query a plan uses when it names none: shipments per local day of week.
pub const DEFAULT_USAGE_QUERY: &str = "shipments_by_weekday";

/// The description of the one recurring charge of a standard plan.
pub const STANDARD_CHARGE_DESCRIPTION: &str = "Base charge";

/// A platform account: the tenant that owns plans and subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Account {
    /// The account's id.
    pub id: String,
    /// Whether the account is abstracted; only abstracted accounts may have AI plans.
    pub abstracted: bool,
    /// The account's IANA time zone: periods, usage windows and weekdays are local to it.
    /// Serialised as its IANA name (`America/New_York`).
    #[serde(with = "tz_name")]
    #[schemars(with = "String")]
    pub timezone: Tz,
    /// Whether the account's prices already include tax (a tax-inclusive site): tax is then the
    /// part of each invoice's amount that is tax, not added on top.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tax_inclusive: bool,
    /// How the account's documents write dates and money (a BCP 47 tag, `en-US` when absent).
    #[serde(default, skip_serializing_if = "Locale::is_default")]
    pub locale: Locale,
}

impl Account {
    /// An account as the platform creates it for AI billing: abstracted (so it may have AI plans)
    /// and with prices that do not include tax. The one place those defaults are spelled.
    pub fn new(id: impl Into<String>, timezone: Tz) -> Self {
        Account {
            id: id.into(),
            abstracted: true,
            timezone,
            tax_inclusive: false,
            locale: Locale::default(),
        }
    }

    /// The account as a tax-inclusive site: its prices already hold the tax.
    pub fn tax_inclusive(mut self) -> Self {
        self.tax_inclusive = true;
        self
    }

    /// The account with its documents in `locale`.
    pub fn with_locale(mut self, locale: Locale) -> Self {
        self.locale = locale;
        self
    }
}

/// Serde for a time zone as its IANA name, with an error that names the field.
mod tz_name {
    use chrono_tz::Tz;

    pub fn serialize<S: serde::Serializer>(tz: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(tz.name())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Tz;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an IANA time zone name such as America/New_York")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Tz, E> {
                name.parse::<Tz>().map_err(|_| {
                    E::custom(format_args!(
                        "timezone {name:?} is not an IANA time zone name (such as America/New_York)"
                    ))
                })
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// The kind of a plan, as the platform's `type` field spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanType {
    /// A flat price per period: `amount` minor units, in advance.
    Standard,
    /// A recurring price that changes over periods, given as a [`PricingProgram`]; in advance.
    StepUp,
    /// Usage charges only, given as a [`PricingProgram`]; in arrears.
    Usage,
    /// A base fee plus usage charges, given as a [`PricingProgram`]; in arrears.
    Hybrid,
    /// Priced by a plain-language prompt (`ai_prompt`), interpreted into a program.
    Ai,
}

/// A plan in the platform's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    /// The plan's id (absent on a plan that is not stored yet, such as a scenario's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The product the plan belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// The plan's display name.
    #[serde(default)]
    pub nickname: String,
    /// The price per period of a standard plan, in minor units (cents); 0 when absent.
    #[serde(default)]
    pub amount: i64,
    /// The plan's currency; every charge is in it.
    pub currency: Currency,
    /// The unit of the billing interval.
    pub interval: IntervalUnit,
    /// How many units make one period; at least 1.
    #[serde(default = "one")]
    pub interval_count: u32,
    /// Whether subscriptions renew at the end of each period.
    #[serde(default = "yes")]
    pub auto_renew: bool,
    /// Free-form metadata, kept as given.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// The kind of plan (`type` in JSON).
    #[serde(rename = "type")]
    pub plan_type: PlanType,
    /// The billing rule in plain language; required for AI plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_prompt: Option<String>,
    /// The predefined usage query that feeds usage charges; [`DEFAULT_USAGE_QUERY`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_query: Option<String>,
    /// The pricing program of a step-up, usage or hybrid plan. Standard and AI plans are priced by
    /// their `amount` and `ai_prompt`; a program stored with them is not used by [`Plan::compile`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<PricingProgram>,
}

/// One version of a stored plan: the plan as saved and the pricing program that bills it.
/// Versions are immutable; editing a plan makes a new version, and each invoice records the
/// version it was billed by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlanVersion {
    /// The account the plan belongs to.
    pub account_id: String,
    /// The plan as saved; its `id` is set.
    pub plan: Plan,
    /// 1 for the plan as first saved, then one more per change.
    pub version: u32,
    /// The program that bills it (for an AI plan, its prompt as interpreted when saved).
    pub program: PricingProgram,
    /// Which interpreter read the prompt (`offline`), for AI plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    /// When this version was saved.
    pub created_at: DateTime<Utc>,
}

impl PlanVersion {
    /// The plan's id.
    pub fn plan_id(&self) -> &str {
        self.plan.id.as_deref().unwrap_or_default()
    }
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

impl Plan {
    /// An AI plan with the platform's defaults, so callers say only what differs between plans:
    /// priced by `prompt`, renewing, in no product, with no metadata, the default usage query
    /// ([`DEFAULT_USAGE_QUERY`], by naming none) and `id` as its nickname.
    pub fn ai(
        id: impl Into<String>,
        currency: Currency,
        interval: BillingInterval,
        prompt: impl Into<String>,
    ) -> Plan {
        let id = id.into();
        Plan {
            id: Some(id.clone()),
            product_id: None,
            nickname: id,
            amount: 0,
            currency,
            interval: interval.unit,
            interval_count: interval.count,
            auto_renew: true,
            metadata: serde_json::Map::new(),
            plan_type: PlanType::Ai,
            ai_prompt: Some(prompt.into()),
            usage_query: None,
            program: None,
        }
    }

    /// The billing interval; a count a subscription's calendar would refuse (0, or above
    /// [`MAX_INTERVAL_COUNT`](crate::domain::calendar::MAX_INTERVAL_COUNT)) is refused here by the same
    /// check (field `plan.interval_count`), so it is refused when the plan is saved.
    pub fn interval(&self) -> Result<BillingInterval> {
        let interval = BillingInterval {
            unit: self.interval,
            count: self.interval_count,
        };
        interval.validate_as("plan.interval_count")?;
        Ok(interval)
    }

    /// Whether `account` may have this plan: AI plans exist only for abstracted accounts
    /// ([`Error::PlanNotAvailable`]).
    pub fn check_available(&self, account: &Account) -> Result<()> {
        if self.plan_type == PlanType::Ai && !account.abstracted {
            return Err(Error::PlanNotAvailable {
                account_id: account.id.clone(),
            });
        }
        Ok(())
    }

    /// The name of the usage query the plan uses, [`DEFAULT_USAGE_QUERY`] when it names none.
    pub fn usage_query_name(&self) -> &str {
        self.usage_query.as_deref().unwrap_or(DEFAULT_USAGE_QUERY)
    }

    /// The predefined usage query template the plan uses ([`Error::UnknownUsageQuery`] when the
    /// name is not one of them).
    pub fn usage_query_template(&self) -> Result<&'static UsageQueryTemplate> {
        usage::find_query(self.usage_query_name())
    }

    /// Checks the plan's fields on their own (not against an account): interval count, a
    /// non-negative amount, the prompt (required and non-blank for AI plans, at most
    /// [`MAX_PROMPT_CHARS`] characters) and the usage query. Each error names its field.
    pub fn validate(&self) -> Result<()> {
        self.interval()?;
        if self.amount < 0 {
            return Err(Error::invalid(
                "plan.amount",
                format!("cannot be negative (got {})", self.amount),
            ));
        }
        match self.ai_prompt.as_deref() {
            Some(prompt) => check_prompt(prompt)?,
            None if self.plan_type == PlanType::Ai => {
                return Err(Error::invalid(
                    "plan.ai_prompt",
                    "an AI plan needs a prompt saying how to bill",
                ));
            }
            None => {}
        }
        self.usage_query_template()?;
        Ok(())
    }

    /// The pricing program that bills this plan for `account`:
    /// - `standard`: one recurring charge, "Base charge", of `amount` minor units per period;
    /// - `ai`: the prompt interpreted by the offline [`interpreter`](crate::interpreter::interpret);
    /// - `step_up`, `usage`, `hybrid`: the plan's `program` (required), which must fit the type
    ///   (no usage charge on a step-up plan, at least one on usage and hybrid plans, and a recurring
    ///   charge on a hybrid plan).
    ///
    /// Every program returned passes [`PricingProgram::validate`] and is in the plan's currency and
    /// interval. An AI plan for an account that is not abstracted is [`Error::PlanNotAvailable`].
    pub fn compile(&self, account: &Account) -> Result<PricingProgram> {
        self.compile_with(account, None)
    }

    /// What an interpreter is told about the plan when it reads the prompt.
    pub fn interpreter_context(&self) -> Result<PlanContext> {
        Ok(PlanContext {
            currency: self.currency,
            interval: self.interval()?,
        })
    }

    /// As [`Plan::compile`], with an AI plan's prompt already `interpreted` (by any interpreter):
    /// the program is then checked like the offline interpreter's. With `None`, or for other plan
    /// types, this is [`Plan::compile`].
    pub fn compile_with(
        &self,
        account: &Account,
        interpreted: Option<PricingProgram>,
    ) -> Result<PricingProgram> {
        self.check_available(account)?;
        self.validate()?;
        let interval = self.interval()?;
        let program = match self.plan_type {
            PlanType::Standard => {
                let price = Money::from_minor(self.amount, self.currency).to_major();
                let mut program = PricingProgram::new(self.currency, interval);
                program.recurring.push(RecurringCharge {
                    description: STANDARD_CHARGE_DESCRIPTION.to_owned(),
                    phases: vec![Phase {
                        from_period: 1,
                        to_period: None,
                        amount: price,
                        step: None,
                        floor: None,
                        ceiling: None,
                        discount_percent: None,
                    }],
                });
                program
            }
            PlanType::Ai => match interpreted {
                Some(program) => program,
                None => {
                    // `validate` has checked that the prompt is present.
                    let prompt = self.ai_prompt.as_deref().unwrap_or_default();
                    interpreter::interpret(prompt, &self.interpreter_context()?)?
                }
            },
            PlanType::StepUp | PlanType::Usage | PlanType::Hybrid => {
                let program = self.program.clone().ok_or_else(|| {
                    Error::invalid(
                        "plan.program",
                        "a step-up, usage or hybrid plan needs its pricing program",
                    )
                })?;
                self.check_program_fits_type(&program)?;
                program
            }
        };
        program.validate()?;
        if program.currency != self.currency {
            return Err(Error::invalid(
                "plan.program.currency",
                format!(
                    "the program is in {} but the plan is in {}",
                    program.currency.code(),
                    self.currency.code()
                ),
            ));
        }
        if program.interval != interval {
            return Err(Error::invalid(
                "plan.program.interval",
                format!(
                    "the program bills every {:?} x {} but the plan every {:?} x {}",
                    program.interval.unit, program.interval.count, interval.unit, interval.count
                ),
            ));
        }
        Ok(program)
    }

    fn check_program_fits_type(&self, program: &PricingProgram) -> Result<()> {
        let has_usage = !program.usage.is_empty();
        let has_recurring = !program.recurring.is_empty();
        let reason = match self.plan_type {
            PlanType::StepUp if has_usage => {
                "a step-up plan bills in advance and cannot have usage charges"
            }
            PlanType::Usage | PlanType::Hybrid if !has_usage => {
                "a usage or hybrid plan needs at least one usage charge"
            }
            PlanType::Hybrid if !has_recurring => {
                "a hybrid plan needs a recurring base fee as well as usage charges"
            }
            _ => return Ok(()),
        };
        Err(Error::invalid("plan.program", reason))
    }
}

/// Checks a plan prompt: not blank and at most [`MAX_PROMPT_CHARS`] characters (field
/// `plan.ai_prompt`).
pub fn check_prompt(prompt: &str) -> Result<()> {
    if prompt.trim().is_empty() {
        return Err(Error::invalid(
            "plan.ai_prompt",
            "an AI plan needs a prompt saying how to bill",
        ));
    }
    // Count no further than one past the limit: a huge prompt costs nothing to refuse.
    let chars = prompt.chars().take(MAX_PROMPT_CHARS + 1).count();
    if chars > MAX_PROMPT_CHARS {
        return Err(Error::invalid(
            "plan.ai_prompt",
            format!(
                "is {} characters long; at most {MAX_PROMPT_CHARS} are accepted",
                prompt.chars().count()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{
        InvoiceTiming, ReturnsPolicy, UsageCharge, UsageMetric, UsagePricing, WeekdayRates,
    };
    use rust_decimal::Decimal;

    fn account(abstracted: bool) -> Account {
        Account {
            id: "acct_1".into(),
            abstracted,
            timezone: chrono_tz::America::New_York,
            tax_inclusive: false,
            locale: Default::default(),
        }
    }

    fn plan_json(extra: &str) -> String {
        format!(r#"{{ "currency": "USD", "interval": "month", {extra} }}"#)
    }

    fn plan(extra: &str) -> Plan {
        serde_json::from_str(&plan_json(extra)).unwrap()
    }

    fn field_of(err: &Error) -> &str {
        match err {
            Error::InvalidInput { field, .. } => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn a_new_account_is_abstracted_and_not_tax_inclusive_until_told() {
        let account = Account::new("acct_1", chrono_tz::America::New_York);
        assert_eq!(
            account,
            Account {
                id: "acct_1".into(),
                abstracted: true,
                timezone: chrono_tz::America::New_York,
                tax_inclusive: false,
                locale: Default::default(),
            }
        );
        assert!(account.tax_inclusive().tax_inclusive);
    }

    #[test]
    fn an_ai_plan_has_the_platform_defaults() {
        let interval = BillingInterval::new(IntervalUnit::Week, 2).unwrap();
        let plan = Plan::ai(
            "seats",
            Currency::EUR,
            interval,
            "$10 per month for each seat",
        );
        assert_eq!(
            plan,
            Plan {
                id: Some("seats".into()),
                product_id: None,
                nickname: "seats".into(),
                amount: 0,
                currency: Currency::EUR,
                interval: IntervalUnit::Week,
                interval_count: 2,
                auto_renew: true,
                metadata: serde_json::Map::new(),
                plan_type: PlanType::Ai,
                ai_prompt: Some("$10 per month for each seat".into()),
                usage_query: None,
                program: None,
            }
        );
        assert_eq!(plan.interval().unwrap(), interval);
        assert_eq!(plan.usage_query_name(), DEFAULT_USAGE_QUERY);
        plan.validate().unwrap();
    }

    #[test]
    fn account_timezone_round_trips_as_its_iana_name() {
        let json = r#"{"id":"acct_1","abstracted":true,"timezone":"America/New_York"}"#;
        let account: Account = serde_json::from_str(json).unwrap();
        assert_eq!(account.timezone, chrono_tz::America::New_York);
        assert_eq!(serde_json::to_string(&account).unwrap(), json);
    }

    #[test]
    fn unknown_timezone_names_the_field() {
        let err = serde_json::from_str::<Account>(
            r#"{"id":"a","abstracted":true,"timezone":"Mars/Olympus"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("timezone") && err.contains("Mars/Olympus"),
            "{err}"
        );
    }

    #[test]
    fn plan_defaults_and_type_field() {
        let p = plan(r#""type": "standard", "amount": 2500"#);
        assert_eq!(p.plan_type, PlanType::Standard);
        assert_eq!(p.interval_count, 1);
        assert!(p.auto_renew);
        assert!(p.metadata.is_empty());
        assert_eq!(p.id, None);
        assert_eq!(p.usage_query_name(), DEFAULT_USAGE_QUERY);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["type"], "standard");
        let p = plan(r#""type": "step_up""#);
        assert_eq!(p.plan_type, PlanType::StepUp);
    }

    #[test]
    fn interval_counts_a_calendar_refuses_are_refused() {
        let p = plan(r#""type": "standard", "interval_count": 0"#);
        assert_eq!(field_of(&p.interval().unwrap_err()), "plan.interval_count");
        // Above the most a subscription's calendar takes: refused by the same check.
        let p = plan(r#""type": "standard", "interval_count": 100000"#);
        let error = p.validate().unwrap_err();
        assert_eq!(field_of(&error), "plan.interval_count");
        assert!(error.to_string().contains("1 to 1000 months"), "{error}");
        let p = plan(r#""type": "standard", "interval_count": 1000"#);
        p.validate().unwrap();
        let p = plan(r#""type": "standard", "interval_count": 3"#);
        assert_eq!(
            p.interval().unwrap(),
            BillingInterval {
                unit: IntervalUnit::Month,
                count: 3
            }
        );
    }

    #[test]
    fn ai_plans_only_for_abstracted_accounts() {
        let p = plan(r#""type": "ai", "ai_prompt": "Bill $5 per month""#);
        assert!(p.check_available(&account(true)).is_ok());
        match p.check_available(&account(false)) {
            Err(Error::PlanNotAvailable { account_id }) => assert_eq!(account_id, "acct_1"),
            other => panic!("{other:?}"),
        }
        let p = plan(r#""type": "standard", "amount": 100"#);
        assert!(p.check_available(&account(false)).is_ok());
        assert!(matches!(
            plan(r#""type": "ai", "ai_prompt": "x""#).compile(&account(false)),
            Err(Error::PlanNotAvailable { .. })
        ));
    }

    #[test]
    fn prompt_checks() {
        assert_eq!(
            field_of(&check_prompt("   ").unwrap_err()),
            "plan.ai_prompt"
        );
        assert!(check_prompt(&"a".repeat(MAX_PROMPT_CHARS)).is_ok());
        // Characters, not bytes: 4000 two-byte characters are fine.
        assert!(check_prompt(&"é".repeat(MAX_PROMPT_CHARS)).is_ok());
        let err = check_prompt(&"a".repeat(100 * 1024)).unwrap_err();
        assert_eq!(field_of(&err), "plan.ai_prompt");
        assert!(err.to_string().contains("102400"), "{err}");
        let p = plan(r#""type": "ai""#);
        assert_eq!(field_of(&p.validate().unwrap_err()), "plan.ai_prompt");
    }

    #[test]
    fn negative_amount_is_refused() {
        let p = plan(r#""type": "standard", "amount": -1"#);
        assert_eq!(field_of(&p.validate().unwrap_err()), "plan.amount");
    }

    #[test]
    fn unknown_usage_query_is_refused() {
        let p = plan(r#""type": "standard", "usage_query": "drop table shipments""#);
        assert!(matches!(p.validate(), Err(Error::UnknownUsageQuery { .. })));
    }

    #[test]
    fn standard_plan_compiles_to_a_base_charge() {
        let p = plan(r#""type": "standard", "amount": 2500"#);
        let program = p.compile(&account(false)).unwrap();
        program.validate().unwrap();
        assert_eq!(program.invoice_timing(), InvoiceTiming::AtStart);
        assert_eq!(program.recurring.len(), 1);
        assert_eq!(program.recurring[0].description, "Base charge");
        assert_eq!(program.recurring[0].phases[0].amount, Decimal::new(2500, 2));
        assert!(program.usage.is_empty());
    }

    fn usage_program(currency: &str) -> PricingProgram {
        let mut program = PricingProgram::new(
            Currency::parse(currency).unwrap(),
            BillingInterval {
                unit: IntervalUnit::Month,
                count: 1,
            },
        );
        program.usage.push(UsageCharge {
            description: "Usage (Shipment) charge".into(),
            metric: UsageMetric::Shipments,
            pricing: UsagePricing::PerUnit {
                rates: WeekdayRates::uniform(Decimal::new(75, 2)),
            },
            returns: ReturnsPolicy::Ignored,
            allowance: 0,
            minimum: None,
            cap: None,
        });
        program
    }

    #[test]
    fn program_plans_need_a_matching_program() {
        let mut p = plan(r#""type": "usage""#);
        assert_eq!(
            field_of(&p.compile(&account(true)).unwrap_err()),
            "plan.program"
        );
        p.program = Some(usage_program("USD"));
        assert_eq!(
            p.compile(&account(true)).unwrap().invoice_timing(),
            InvoiceTiming::AtRenewal
        );
        p.program = Some(usage_program("EUR"));
        assert_eq!(
            field_of(&p.compile(&account(true)).unwrap_err()),
            "plan.program.currency"
        );
        p.program = Some(usage_program("USD"));
        p.interval_count = 2;
        assert_eq!(
            field_of(&p.compile(&account(true)).unwrap_err()),
            "plan.program.interval"
        );
        p.interval_count = 1;
        p.plan_type = PlanType::StepUp;
        assert_eq!(
            field_of(&p.compile(&account(true)).unwrap_err()),
            "plan.program"
        );
        p.plan_type = PlanType::Hybrid;
        assert_eq!(
            field_of(&p.compile(&account(true)).unwrap_err()),
            "plan.program"
        );
        let mut invalid = usage_program("USD");
        invalid.version = 99;
        p.plan_type = PlanType::Usage;
        p.program = Some(invalid);
        assert_eq!(
            field_of(&p.compile(&account(true)).unwrap_err()),
            "program.version"
        );
    }
}
