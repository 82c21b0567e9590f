//! Customers and subscriptions as the engine keeps them, and what each invoice of a subscription
//! is issued for.
//!
//! A subscription's billing state is two things: the period the subscription is in now (the
//! platform's `current_period_start`/`current_period_end`), and the next invoice it owes: which
//! period (`next_invoice_period`) and from when (`next_invoice_at`: the period's start for plans
//! billed in advance, its end for plans billed in arrears). Every change bumps `revision`, and a
//! store writes a change only over the revision it was computed from, so two writers can never
//! both act on the same state.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::changes::Changes;
use crate::error::Error;
use crate::late_usage::UsageHistory;
use crate::tax::TaxAddress;

/// The largest subscription quantity (copies, seats) accepted.
pub const MAX_QUANTITY: u32 = 100_000;

/// A subscription's quantity (copies, seats): a whole number from 1 to [`MAX_QUANTITY`], checked
/// once, where it is made ([`Quantity::new`], or reading it from JSON), so code that holds one
/// never checks it again. It is a plain number in JSON and in its JSON Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

/// A number that is not a quantity (0, or more than [`MAX_QUANTITY`]); as an [`Error`], it is
/// invalid input on `subscription.quantity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantityOutOfRange(pub u32);

impl fmt::Display for QuantityOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "must be a whole number from 1 to {MAX_QUANTITY}, got {}",
            self.0
        )
    }
}

impl std::error::Error for QuantityOutOfRange {}

impl From<QuantityOutOfRange> for Error {
    fn from(error: QuantityOutOfRange) -> Self {
        Error::invalid("subscription.quantity", error.to_string())
    }
}

impl Quantity {
    /// One copy or seat.
    pub const ONE: Quantity = Quantity(1);

    /// `count` as a quantity; [`Error::InvalidInput`] on `subscription.quantity` unless it is
    /// from 1 to [`MAX_QUANTITY`].
    pub fn new(count: u32) -> crate::Result<Self> {
        Ok(Quantity::try_from(count)?)
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity::ONE
    }
}

impl TryFrom<u32> for Quantity {
    type Error = QuantityOutOfRange;

    fn try_from(count: u32) -> Result<Self, QuantityOutOfRange> {
        if (1..=MAX_QUANTITY).contains(&count) {
            Ok(Quantity(count))
        } else {
            Err(QuantityOutOfRange(count))
        }
    }
}

impl From<Quantity> for u32 {
    fn from(quantity: Quantity) -> u32 {
        quantity.0
    }
}

impl From<Quantity> for i64 {
    fn from(quantity: Quantity) -> i64 {
        i64::from(quantity.0)
    }
}

impl PartialEq<u32> for Quantity {
    fn eq(&self, other: &u32) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// For command-line arguments: a whole number from 1 to [`MAX_QUANTITY`].
impl FromStr for Quantity {
    type Err = Error;

    fn from_str(text: &str) -> crate::Result<Self> {
        let count = text.trim().parse::<u32>().map_err(|_| {
            Error::invalid(
                "subscription.quantity",
                format!("must be a whole number from 1 to {MAX_QUANTITY}, got {text:?}"),
            )
        })?;
        Quantity::new(count)
    }
}

/// The schema of the number it is (`u32`), so generated types keep their shape.
impl schemars::JsonSchema for Quantity {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        u32::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        u32::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        u32::json_schema(generator)
    }
}

/// A customer of an account: who subscriptions bill, and where they are taxed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Customer {
    /// The account the customer belongs to.
    pub account_id: String,
    /// The customer's id, unique in the account.
    pub id: String,
    /// Where the customer is taxed; no tax applies when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_address: Option<TaxAddress>,
    /// A tax-exempt customer is never taxed.
    #[serde(default)]
    pub tax_exempt: bool,
}

impl Customer {
    /// A customer as most are created: no tax address (so no tax applies) and not exempt. The
    /// one place those defaults are spelled, for setup code, examples and tests.
    pub fn new(account_id: impl Into<String>, id: impl Into<String>) -> Self {
        Customer {
            account_id: account_id.into(),
            id: id.into(),
            tax_address: None,
            tax_exempt: false,
        }
    }

    /// The customer taxed at `address`.
    pub fn with_tax_address(mut self, address: TaxAddress) -> Self {
        self.tax_address = Some(address);
        self
    }

    /// The customer made tax-exempt: never taxed, whatever its address.
    pub fn exempt(mut self) -> Self {
        self.tax_exempt = true;
        self
    }
}

/// Whether a subscription still bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// It bills at `next_invoice_at`.
    Active,
    /// It has billed its last period (its plan does not auto-renew).
    Ended,
    /// It was canceled and its end has come: no run bills it.
    Canceled,
}

impl SubscriptionStatus {
    /// The status as stored (`active`).
    pub fn as_str(&self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Ended => "ended",
            SubscriptionStatus::Canceled => "canceled",
        }
    }
}

/// A subscription to a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Subscription {
    /// The account it belongs to.
    pub account_id: String,
    /// The subscription's id, unique in the account.
    pub id: String,
    /// The customer billed; usage is read for this customer only.
    pub customer_id: String,
    /// The plan it is on; each invoice is billed by the plan's version in force when it is issued.
    pub plan_id: String,
    /// Copies or seats, 1 to 100,000; multiplies recurring charges.
    pub quantity: Quantity,
    /// The local date of the first period's start: every period is anchored on it.
    pub start_date: NaiveDate,
    /// Whether it still bills.
    pub status: SubscriptionStatus,
    /// The index of the period it is in now (1 for the first, also before the start date).
    pub current_period: u32,
    /// The local start date of that period.
    pub current_period_start: NaiveDate,
    /// The local end date of that period (the next one's start).
    pub current_period_end: NaiveDate,
    /// The index of the period the next invoice bills.
    pub next_invoice_period: u32,
    /// When the next invoice is due; absent once the subscription has ended.
    pub next_invoice_at: Option<DateTime<Utc>>,
    /// What has been changed and is still in force: its cancellation, pauses, quantity by date,
    /// and increases waiting for the next invoice. Empty (and absent in JSON) when nothing has.
    #[serde(default, skip_serializing_if = "Changes::is_empty")]
    pub changes: Changes,
    /// The periods billed recently with the usage each was billed on, read again at the next
    /// renewal for late usage; empty for plans without usage charges.
    #[serde(default, skip_serializing_if = "UsageHistory::is_empty")]
    pub billed_usage: UsageHistory,
    /// Bumped by every change; a change is written only over the revision it was computed from.
    pub revision: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Why an invoice was issued, as the platform spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillingReason {
    /// The first invoice of a subscription.
    SubscriptionCreate,
    /// A renewal.
    SubscriptionCycle,
    /// The settlement at a subscription's end of increases no later invoice could carry.
    SubscriptionEnd,
}

impl BillingReason {
    /// The reason as stored (`subscription_cycle`).
    pub fn as_str(&self) -> &'static str {
        match self {
            BillingReason::SubscriptionCreate => "subscription_create",
            BillingReason::SubscriptionCycle => "subscription_cycle",
            BillingReason::SubscriptionEnd => "subscription_end",
        }
    }

    /// Parses a stored reason.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "subscription_create" => Some(BillingReason::SubscriptionCreate),
            "subscription_cycle" => Some(BillingReason::SubscriptionCycle),
            "subscription_end" => Some(BillingReason::SubscriptionEnd),
            _ => None,
        }
    }
}

/// An invoice's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Issued to the customer.
    Open,
    /// Held for review: never sent to the customer until someone releases it.
    Held,
    /// Voided: withdrawn, its revenue reversed; its period may be billed again by a new invoice
    /// with a new id (at most one invoice of a period is not void).
    Void,
}

impl InvoiceStatus {
    /// The status as stored (`open`).
    pub fn as_str(&self) -> &'static str {
        match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::Held => "held",
            InvoiceStatus::Void => "void",
        }
    }

    /// Parses a stored status.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(InvoiceStatus::Open),
            "held" => Some(InvoiceStatus::Held),
            "void" => Some(InvoiceStatus::Void),
            _ => None,
        }
    }
}

impl SubscriptionStatus {
    /// Parses a stored status.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(SubscriptionStatus::Active),
            "ended" => Some(SubscriptionStatus::Ended),
            "canceled" => Some(SubscriptionStatus::Canceled),
            _ => None,
        }
    }
}

/// An invoice's id: derived from its subscription and the local start date of the period it
/// bills, never from anything a model wrote, so the same invoice always has the same id.
pub fn invoice_id(subscription_id: &str, period_start: NaiveDate) -> String {
    format!("in_{subscription_id}_{}", period_start.format("%Y%m%d"))
}

/// The id of the invoice that bills a period again after `voided` invoices of it were voided
/// (`in_{subscription}_{yyyymmdd}_r{n}`, n = 1 + the voided count): derived, like
/// [`invoice_id`], so re-billing the same period twice at once makes the same id once.
pub fn rebilled_invoice_id(subscription_id: &str, period_start: NaiveDate, voided: u32) -> String {
    format!(
        "{}_r{}",
        invoice_id(subscription_id, period_start),
        voided.saturating_add(1)
    )
}

/// The subscription an invoice id names ([`invoice_id`], [`rebilled_invoice_id`]): what is
/// between `in_` and the period's `_yyyymmdd` (and a re-billing's `_r{n}`); `None` for a text
/// that is no invoice id.
pub fn invoice_subscription_id(invoice_id: &str) -> Option<&str> {
    let rest = invoice_id.strip_prefix("in_")?;
    let rest = match rest.rsplit_once("_r") {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => rest,
    };
    let (subscription, day) = rest.rsplit_once('_')?;
    let dated = day.len() == 8 && day.bytes().all(|b| b.is_ascii_digit());
    (dated && !subscription.is_empty()).then_some(subscription)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invoice_id_names_its_subscription() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        for subscription in ["sub_1", "s", "sub_r2", "a_20260115"] {
            assert_eq!(
                invoice_subscription_id(&invoice_id(subscription, day)),
                Some(subscription)
            );
            assert_eq!(
                invoice_subscription_id(&rebilled_invoice_id(subscription, day, 11)),
                Some(subscription)
            );
        }
        assert_eq!(rebilled_invoice_id("s", day, 0), "in_s_20260115_r1");
        for bad in [
            "",
            "in_",
            "in__20260115",
            "cn_s_1",
            "in_s_2026011",
            "in_s_20260115_rx",
        ] {
            assert_eq!(invoice_subscription_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_quantity_is_a_whole_number_from_1_to_100000() {
        for bad in [0, MAX_QUANTITY + 1, u32::MAX] {
            match Quantity::new(bad) {
                Err(Error::InvalidInput { field, reason }) => {
                    assert_eq!(field, "subscription.quantity");
                    assert_eq!(
                        reason,
                        format!("must be a whole number from 1 to 100000, got {bad}")
                    );
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        for good in [1, 2, MAX_QUANTITY] {
            assert_eq!(Quantity::new(good).unwrap().get(), good);
        }
        assert_eq!(Quantity::default(), Quantity::ONE);
        assert_eq!("7".parse::<Quantity>().unwrap(), 7);
        for bad in ["0", "-1", "1.5", "x", "100001"] {
            assert!(bad.parse::<Quantity>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_quantity_is_a_plain_number_in_json() {
        let quantity: Quantity = serde_json::from_str("3").unwrap();
        assert_eq!(serde_json::to_string(&quantity).unwrap(), "3");
        let error = serde_json::from_str::<Quantity>("0").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("must be a whole number from 1 to 100000, got 0"),
            "{error}"
        );
        assert!(serde_json::from_str::<Quantity>("-1").is_err());
        assert_eq!(
            schemars::schema_for!(Quantity).as_value(),
            schemars::schema_for!(u32).as_value()
        );
    }

    #[test]
    fn a_new_customer_is_untaxed_and_not_exempt_until_told() {
        let customer = Customer::new("acct_1", "cus_1");
        assert_eq!(
            customer,
            Customer {
                account_id: "acct_1".into(),
                id: "cus_1".into(),
                tax_address: None,
                tax_exempt: false,
            }
        );
        let address = TaxAddress {
            country: "US".into(),
            region: Some("NY".into()),
            postal_code: None,
        };
        let taxed = customer.with_tax_address(address.clone()).exempt();
        assert_eq!(taxed.tax_address, Some(address));
        assert!(taxed.tax_exempt);
        assert_eq!(
            (taxed.account_id.as_str(), taxed.id.as_str()),
            ("acct_1", "cus_1")
        );
    }
}
