//! The change traffic of `ai-billing generate`: what subscribers of a real platform ask for over
//! a few months (cancellations of each kind, some withdrawn; vacation holds, some over several
//! periods, some left open and resumed later; plan changes; prorated quantity changes).
//!
//! Every change is made through the engine's own operation, with the clock at the instant it is
//! made (a local hour of a day inside the subscription's history), so its state, credit note and
//! audit events are the real ones. An operation first issues whatever the subscription owes up
//! to that instant, as a billing run would have by then (`billing-conventions.md`: "billing runs
//! come first"), so the data is what a platform billing every day would hold, whatever runs come
//! after. The same seed gives the same changes at the same instants.

use std::sync::Arc;

use ai_billing::changes::Effective;
use ai_billing::engine::{
    CancelSubscription, ChangePlan, ChangeQuantity, ChangedSubscription, PauseSubscription,
    Proration, ResumeSubscription, WithdrawCancel,
};
use ai_billing::{Engine, FixedClock, calendar};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use crate::failure::{CliResult, Failure};
use crate::synth::Lcg;

/// The actor of every generated change in the audit trail.
const ACTOR: &str = "generate";

/// How many changes of each kind were made.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Traffic {
    /// Cancellations at the end of the current period.
    pub canceled_period_end: u64,
    /// Cancellations from the next local midnight.
    pub canceled_immediately: u64,
    /// Cancellations from a later date.
    pub canceled_on_date: u64,
    /// Of the immediate and dated cancellations, those with `credit_unused: false`.
    pub canceled_without_credit: u64,
    /// Cancellations withdrawn before they took effect.
    pub cancels_withdrawn: u64,
    /// Vacation holds with an end date.
    pub holds: u64,
    /// Of those, the holds longer than a month, over several periods.
    pub holds_over_several_periods: u64,
    /// Holds left open when made.
    pub holds_open: u64,
    /// Of those, the holds resumed later.
    pub holds_resumed: u64,
    /// Plan changes at the end of the current period.
    pub plan_changes_period_end: u64,
    /// Plan changes from the next local midnight.
    pub plan_changes_immediately: u64,
    /// Quantity changes with proration.
    pub quantity_changes_prorated: u64,
    /// Credit notes the changes issued.
    pub credit_notes: u64,
}

impl Traffic {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Traffic) {
        self.canceled_period_end += other.canceled_period_end;
        self.canceled_immediately += other.canceled_immediately;
        self.canceled_on_date += other.canceled_on_date;
        self.canceled_without_credit += other.canceled_without_credit;
        self.cancels_withdrawn += other.cancels_withdrawn;
        self.holds += other.holds;
        self.holds_over_several_periods += other.holds_over_several_periods;
        self.holds_open += other.holds_open;
        self.holds_resumed += other.holds_resumed;
        self.plan_changes_period_end += other.plan_changes_period_end;
        self.plan_changes_immediately += other.plan_changes_immediately;
        self.quantity_changes_prorated += other.quantity_changes_prorated;
        self.credit_notes += other.credit_notes;
    }

    /// The changes made, all kinds together (a withdrawal and a resume count as changes).
    pub fn changes(&self) -> u64 {
        self.canceled_period_end
            + self.canceled_immediately
            + self.canceled_on_date
            + self.cancels_withdrawn
            + self.holds
            + self.holds_open
            + self.holds_resumed
            + self.plan_changes_period_end
            + self.plan_changes_immediately
            + self.quantity_changes_prorated
    }
}

/// A generated subscription, as its changes need it.
pub struct Generated<'a> {
    /// Its account.
    pub account_id: &'a str,
    /// The account's zone: changes are made at local hours.
    pub tz: chrono_tz::Tz,
    /// Its id.
    pub id: &'a str,
    /// Its plan's id.
    pub plan_id: &'a str,
    /// The other plans of the account (same currency), for plan changes.
    pub plans: &'a [String],
    /// Its quantity.
    pub quantity: u32,
    /// Its history: `[start, end)`, local dates (its deliveries run over it).
    pub start: NaiveDate,
    /// The end of its history.
    pub end: NaiveDate,
}

/// Makes the changes `rng` draws for `sub`, each at its instant, and counts them: about one
/// subscription in five changes (2% canceled at period end, 2% immediately, 2% on a date; 4% a
/// hold with an end, 2% an open hold; 2% a plan change at period end, 2% immediately; 3% a
/// prorated quantity).
pub async fn make(engine: &Engine, sub: &Generated<'_>, rng: &mut Lcg) -> CliResult<Traffic> {
    let mut made = Traffic::default();
    // At least 28 days of history: the first change is made on one of its days but the first
    // and the last five, so what follows it (a withdrawal, a resume) fits inside it too.
    let days = (sub.end - sub.start).num_days().max(7) as u64;
    let day = sub.start + TimeDelta::days(1 + rng.below(days - 6) as i64);
    let at = instant(sub.tz, day, rng);
    let later = |rng: &mut Lcg, after: NaiveDate| -> NaiveDate {
        let next = after + TimeDelta::days(1 + rng.below(5) as i64);
        next.min(sub.end - TimeDelta::days(1)).max(after)
    };
    let roll = rng.below(100);
    match roll {
        0..=1 => {
            let changed = cancel(engine, sub, at, Effective::PeriodEnd, true).await?;
            made.canceled_period_end += 1;
            made.count(&changed);
            // One in four is withdrawn a few days later, before it takes effect.
            let ends = changed.subscription.changes.end.map(|end| end.on);
            let back = later(rng, day);
            if rng.below(4) == 0
                && back > day
                && let Some(ends) = ends
                && back < ends
            {
                let request = WithdrawCancel {
                    account_id: sub.account_id.to_owned(),
                    subscription_id: sub.id.to_owned(),
                    actor: ACTOR.to_owned(),
                    request_id: None,
                };
                let at = instant(sub.tz, back, rng);
                let changed = at_instant(engine, at)
                    .withdraw_cancel(&request)
                    .await
                    .map_err(|e| failed(e, "withdraw the cancellation of", sub, at))?;
                made.cancels_withdrawn += 1;
                made.count(&changed);
            }
        }
        2..=5 => {
            let credit = rng.below(4) != 0;
            let effective = if roll <= 3 {
                made.canceled_immediately += 1;
                Effective::Immediately
            } else {
                made.canceled_on_date += 1;
                Effective::On(day + TimeDelta::days(1 + rng.below(40) as i64))
            };
            if !credit {
                made.canceled_without_credit += 1;
            }
            let changed = cancel(engine, sub, at, effective, credit).await?;
            made.count(&changed);
        }
        6..=9 => {
            // Mostly a week or two; one in four over a month, across several periods.
            let from = day + TimeDelta::days(rng.below(15) as i64);
            let long = rng.below(4) == 0;
            let length = if long {
                35 + rng.below(40)
            } else {
                3 + rng.below(18)
            };
            let until = from + TimeDelta::days(length as i64);
            let changed = pause(engine, sub, at, from, Some(until)).await?;
            made.holds += 1;
            if long {
                made.holds_over_several_periods += 1;
            }
            made.count(&changed);
        }
        10..=11 => {
            // Open until the subscriber calls back: three in four do, a few days later.
            let from = day + TimeDelta::days(rng.below(10) as i64);
            let changed = pause(engine, sub, at, from, None).await?;
            made.holds_open += 1;
            made.count(&changed);
            let back = later(rng, day);
            if rng.below(4) != 0 && back > day {
                let on = (from + TimeDelta::days(1 + rng.below(30) as i64)).max(back);
                let request = ResumeSubscription {
                    account_id: sub.account_id.to_owned(),
                    subscription_id: sub.id.to_owned(),
                    on,
                    actor: ACTOR.to_owned(),
                    request_id: None,
                };
                let at = instant(sub.tz, back, rng);
                let changed = at_instant(engine, at)
                    .resume_subscription(&request)
                    .await
                    .map_err(|e| failed(e, "resume", sub, at))?;
                made.holds_resumed += 1;
                made.count(&changed);
            }
        }
        12..=15 => {
            let others: Vec<&String> = sub.plans.iter().filter(|p| *p != sub.plan_id).collect();
            let plan_id = others[rng.below(others.len() as u64) as usize].clone();
            let effective = if roll <= 13 {
                made.plan_changes_period_end += 1;
                Effective::PeriodEnd
            } else {
                made.plan_changes_immediately += 1;
                Effective::Immediately
            };
            let request = ChangePlan {
                account_id: sub.account_id.to_owned(),
                subscription_id: sub.id.to_owned(),
                plan_id,
                effective,
                actor: ACTOR.to_owned(),
                request_id: None,
            };
            let changed = at_instant(engine, at)
                .change_plan(&request)
                .await
                .map_err(|e| failed(e, "change the plan of", sub, at))?;
            made.count(&changed);
        }
        16..=18 => {
            let quantity = if sub.quantity > 1 && rng.below(2) == 0 {
                sub.quantity - 1 - rng.below(u64::from(sub.quantity - 1)) as u32
            } else {
                sub.quantity + 1 + rng.below(3) as u32
            };
            let effective = if rng.below(3) == 0 {
                Effective::On(day + TimeDelta::days(1 + rng.below(20) as i64))
            } else {
                Effective::Immediately
            };
            let request = ChangeQuantity {
                account_id: sub.account_id.to_owned(),
                subscription_id: sub.id.to_owned(),
                quantity,
                proration: Proration::Prorate,
                effective,
                actor: ACTOR.to_owned(),
                request_id: None,
            };
            let engine = at_instant(engine, at);
            let before = engine
                .store()
                .subscription(sub.account_id, sub.id)
                .await?
                .map_or(0, |s| s.changes.credit_notes);
            let changed = engine
                .change_quantity(&request)
                .await
                .map_err(|e| failed(e, "change the quantity of", sub, at))?;
            made.quantity_changes_prorated += 1;
            made.credit_notes += u64::from(changed.changes.credit_notes - before);
        }
        _ => {}
    }
    Ok(made)
}

impl Traffic {
    /// Counts the credit note a change issued.
    fn count(&mut self, changed: &ChangedSubscription) {
        if changed.credit_note.is_some() {
            self.credit_notes += 1;
        }
    }
}

/// A local hour of `day` (09:00 to 20:59) in `tz`, as an instant.
fn instant(tz: chrono_tz::Tz, day: NaiveDate, rng: &mut Lcg) -> DateTime<Utc> {
    let minutes = 9 * 60 + rng.below(12 * 60) as i64;
    (calendar::local_midnight(tz, day) + TimeDelta::minutes(minutes)).with_timezone(&Utc)
}

/// The engine with its clock at `at`.
fn at_instant(engine: &Engine, at: DateTime<Utc>) -> Engine {
    engine.clone().with_clock(Arc::new(FixedClock::new(at)))
}

async fn cancel(
    engine: &Engine,
    sub: &Generated<'_>,
    at: DateTime<Utc>,
    effective: Effective,
    credit_unused: bool,
) -> CliResult<ChangedSubscription> {
    let request = CancelSubscription {
        account_id: sub.account_id.to_owned(),
        subscription_id: sub.id.to_owned(),
        effective,
        credit_unused,
        actor: ACTOR.to_owned(),
        request_id: None,
    };
    at_instant(engine, at)
        .cancel_subscription(&request)
        .await
        .map_err(|e| failed(e, "cancel", sub, at))
}

async fn pause(
    engine: &Engine,
    sub: &Generated<'_>,
    at: DateTime<Utc>,
    from: NaiveDate,
    until: Option<NaiveDate>,
) -> CliResult<ChangedSubscription> {
    let request = PauseSubscription {
        account_id: sub.account_id.to_owned(),
        subscription_id: sub.id.to_owned(),
        from,
        until,
        actor: ACTOR.to_owned(),
        request_id: None,
    };
    at_instant(engine, at)
        .pause_subscription(&request)
        .await
        .map_err(|e| failed(e, "pause", sub, at))
}

/// A generated change the engine refused: a bug of the generator or the engine, said with the
/// subscription and the instant so it can be replayed.
fn failed(
    error: ai_billing::Error,
    doing: &str,
    sub: &Generated<'_>,
    at: DateTime<Utc>,
) -> Failure {
    Failure::from(error).context(format!(
        "generating change traffic: cannot {doing} {}/{} at {}",
        sub.account_id,
        sub.id,
        at.to_rfc3339()
    ))
}
