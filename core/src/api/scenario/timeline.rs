//! What happens to a scenario's subscription over time (`eval/README.md`, "Subscription changes
//! in a scenario"): the changes made to it at their instants, and usage rows that reach their
//! tables later than they shipped (`recorded_at`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::changes::Effective;
use crate::engine::Proration;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::usage::{Return, Shipment};

/// A shipment of a scenario, and when its row reached the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioShipment {
    /// The shipment's id.
    pub id: String,
    /// When it shipped (UTC instant).
    pub shipped_at: DateTime<Utc>,
    /// Copies/units in it; at least 1.
    pub quantity: u32,
    /// When its row was inserted (`shipped_at` when absent); late usage is recorded after the
    /// invoice of its period was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<DateTime<Utc>>,
}

impl ScenarioShipment {
    /// The row, as the `shipments` table holds it.
    pub fn row(&self) -> Shipment {
        Shipment {
            id: self.id.clone(),
            shipped_at: self.shipped_at,
            quantity: self.quantity,
        }
    }
}

/// A return of a scenario, and when its row reached the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioReturn {
    /// The return's id.
    pub id: String,
    /// The shipment it returns.
    pub shipment_id: String,
    /// When it was returned (UTC instant).
    pub returned_at: DateTime<Utc>,
    /// Units returned; at least 1.
    pub quantity: u32,
    /// When its row was inserted (`returned_at` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<DateTime<Utc>>,
}

impl ScenarioReturn {
    /// The row, as the `returns` table holds it.
    pub fn row(&self) -> Return {
        Return {
            id: self.id.clone(),
            shipment_id: self.shipment_id.clone(),
            returned_at: self.returned_at,
            quantity: self.quantity,
        }
    }
}

/// One change made to the scenario's subscription, at `made_at`: exactly one of the other
/// fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioChange {
    /// When the change is made (every run due up to then comes first).
    pub made_at: DateTime<Utc>,
    /// A cancellation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<CancelChange>,
    /// Withdrawing the cancellation (an empty object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraw_cancel: Option<Empty>,
    /// A pause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<PauseChange>,
    /// Ending a pause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<ResumeChange>,
    /// A quantity change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<QuantityChange>,
    /// A plan change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanChange>,
}

/// An empty object: a change with nothing to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// A scenario's cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelChange {
    /// `period_end` (the default), `immediately` or a local date.
    #[serde(default = "period_end")]
    pub effective: Effective,
    /// Whether unserved days billed are credited (`true` when absent).
    #[serde(default = "yes")]
    pub credit_unused: bool,
}

/// A scenario's pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseChange {
    /// The first local day not served.
    pub from: NaiveDate,
    /// The first local day served again; open when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
}

/// A scenario's resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeChange {
    /// The first local day served again.
    pub on: NaiveDate,
}

/// A scenario's quantity change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantityChange {
    /// The new quantity.
    pub to: u32,
    /// `none` (the default) or `prorate`.
    #[serde(default)]
    pub proration: Proration,
    /// With `prorate`: `immediately` (the default) or a local date.
    #[serde(default = "immediately")]
    pub effective: Effective,
}

/// A scenario's plan change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanChange {
    /// The new plan, whole, as the scenario's `plan` is.
    pub to: Plan,
    /// `period_end` (the default), `immediately` or a local date.
    #[serde(default = "period_end")]
    pub effective: Effective,
}

fn period_end() -> Effective {
    Effective::PeriodEnd
}

fn immediately() -> Effective {
    Effective::Immediately
}

fn yes() -> bool {
    true
}

/// What one scenario change does, once checked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum What<'a> {
    Cancel(&'a CancelChange),
    WithdrawCancel,
    Pause(&'a PauseChange),
    Resume(&'a ResumeChange),
    Quantity(&'a QuantityChange),
    Plan(&'a PlanChange),
}

impl ScenarioChange {
    /// What the change does; invalid input on `field` (`changes[2]`) unless exactly one kind of
    /// change is given.
    pub(crate) fn what(&self, field: &str) -> Result<What<'_>> {
        let given: Vec<What<'_>> = [
            self.cancel.as_ref().map(What::Cancel),
            self.withdraw_cancel.map(|_| What::WithdrawCancel),
            self.pause.as_ref().map(What::Pause),
            self.resume.as_ref().map(What::Resume),
            self.quantity.as_ref().map(What::Quantity),
            self.plan.as_ref().map(What::Plan),
        ]
        .into_iter()
        .flatten()
        .collect();
        match given.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::invalid(
                field,
                "names no change: give one of cancel, withdraw_cancel, pause, resume, quantity, plan",
            )),
            _ => Err(Error::invalid(
                field,
                "names more than one change: give each change its own entry with its own made_at",
            )),
        }
    }
}

/// The last instant billed by a scenario that ends on local date `until`: everything due before
/// the next local midnight.
pub(crate) fn last_instant(tz: chrono_tz::Tz, until: NaiveDate) -> Result<DateTime<Utc>> {
    let next = until
        .succ_opt()
        .ok_or_else(|| Error::invalid("until", format!("{until} is the last date there is")))?;
    Ok(crate::calendar::local_midnight(tz, next).to_utc() - chrono::TimeDelta::microseconds(1))
}
