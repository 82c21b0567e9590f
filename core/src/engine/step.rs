//! One renewal step, pure: from a subscription's state, the plan version it is billed by, the
//! period's usage, the billing mode's input (a model's payload in the agent modes) and the tax
//! calculator's answer, to the commit it makes (the issued invoice with its lines, tax lines and
//! revenue schedule, the next state, the audit events). No store, no clock, no `async`.
//!
//! Three ports stand between a planned period and its commit: the usage source, the model (agent
//! modes) and the tax calculator, each possibly a network call. So the step is a few pure
//! functions and the driver ([`super::run`]) makes the calls between them, in batches where it
//! can:
//!
//! 1. [`Renewal::plan`] (from the state alone): the period owed, its usage window, the next state.
//! 2. The driver reads the usage; [`price`] prices the period ([`super::period::price_period`]).
//! 3. In the agent modes the driver asks the model; [`judge`] cross-checks its payload: issued as
//!    the model wrote it, or held with the program's lines.
//! 4. The driver asks the tax calculator for [`Judged::tax_request`]; [`settle`] makes the commit.
//!
//! The billing calendar is built once per subscription ([`Terms`]) and each period once per
//! renewal ([`Renewal::period`]), then passed along.

use chrono::{DateTime, Utc};

use crate::agent::AgentPayload;
use crate::audit::AuditEvent;
use crate::calendar::{BillingCalendar, Period};
use crate::changes::Term;
use crate::credit_note::CreditNote;
use crate::error::{Error, Result};
use crate::invoice::{InvoiceReview, IssuedInvoice};
use crate::late_usage::{BilledPeriod, InvoiceUsage};
use crate::money::Money;
use crate::plan::{Account, PlanVersion};
use crate::pricing::{ChargeKind, InvoiceTiming};
use crate::proration::Served;
use crate::store::{SubscriptionCommit, UsageRequest};
use crate::subscription::{
    BillingReason, Customer, InvoiceStatus, Subscription, SubscriptionStatus, invoice_id,
};
use crate::tax::{TaxRequest, TaxResult};
use crate::usage::PeriodUsage;

use super::BillingMode;
use super::agent::{self, AgentCall, AgentInput, CrossCheck};
use super::events::{self, Trail};
use super::late::settlement::{Late, LateRead};
use super::period::{PricedPeriod, SettledLine, price_served};

/// What a subscription is billed under, read once for all the periods it owes: its account, its
/// customer, the plan version and the billing calendar they give.
#[derive(Debug, Clone)]
pub(crate) struct Terms {
    pub account: Account,
    pub customer: Customer,
    pub plan: PlanVersion,
    /// Anchored on the term's anchor (the subscription's start date until a plan change), in
    /// the plan's interval and the account's zone.
    pub calendar: BillingCalendar,
    /// Where the plan's periods start on the calendar.
    pub term: Term,
    /// How many billed periods a renewal reads again for late usage.
    pub lookback: u32,
}

impl Terms {
    /// The terms of `subscription`; the calendar is built here, once.
    pub fn new(
        subscription: &Subscription,
        account: Account,
        customer: Customer,
        plan: PlanVersion,
    ) -> Result<Self> {
        let term = subscription
            .changes
            .term
            .unwrap_or_else(|| Term::from_start(subscription.start_date));
        let calendar = BillingCalendar::new(term.anchor, plan.program.interval, account.timezone)?;
        Ok(Terms {
            account,
            customer,
            plan,
            calendar,
            term,
            lookback: crate::late_usage::DEFAULT_LOOKBACK,
        })
    }

    /// These terms reading `lookback` billed periods again at each renewal.
    pub fn with_lookback(mut self, lookback: u32) -> Self {
        self.lookback = lookback;
        self
    }

    /// The plan's period `index` (from the day the plan began, for its period 1), and the days
    /// of the whole anchored period: the denominator of every share of it.
    pub fn period(&self, index: u32) -> Result<(Period, u32)> {
        let anchored = self.calendar.period(
            index
                .checked_add(self.term.offset)
                .ok_or_else(|| Error::overflow("the period index"))?,
        )?;
        let days = super::period::period_days(&anchored)?;
        Ok((
            Period {
                index,
                start: anchored.start.max(self.term.starts_on),
                end: anchored.end,
            },
            days,
        ))
    }

    fn timing(&self) -> InvoiceTiming {
        self.plan.program.invoice_timing()
    }

    /// The local date the invoice of `period` is issued: its start (in advance) or its end.
    pub fn issue_date(&self, period: &Period) -> chrono::NaiveDate {
        match self.timing() {
            InvoiceTiming::AtStart => period.start,
            InvoiceTiming::AtRenewal => period.end,
        }
    }
}

/// What a renewal does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RenewalKind {
    /// Bills the period owed (cut short where the subscription ends inside it).
    Period,
    /// The subscription's end has come: it becomes `canceled`, with a settlement invoice when
    /// increases wait for a next invoice that will never come.
    Close,
    /// A plan change takes effect: the new plan's period 1 is owed next (the increases waiting
    /// go on its invoice). The renewals after it are planned with the new plan's terms.
    Switch,
}

/// One period a subscription owes, planned from its state alone.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Renewal {
    /// What it does.
    pub kind: RenewalKind,
    /// The subscription before the period is billed.
    pub state: Subscription,
    /// The period billed (`state.next_invoice_period`), ending where the subscription ends; for
    /// a close, the days its settlement concerns.
    pub period: Period,
    /// The days of the whole anchored period: the denominator of every share.
    pub period_days: u32,
    /// Its usage window, for programs with usage charges.
    pub usage: Option<UsageRequest>,
    /// The subscription after: the next period owed, when it is due, the period it is in.
    pub next: Subscription,
    /// Why the invoice is issued.
    pub reason: BillingReason,
    /// The instant written as the invoice's `created_at` and the state's `updated_at`.
    pub written_at: DateTime<Utc>,
    /// The periods billed before that it reads again for late usage (the driver sets them on
    /// the first period a batch bills).
    pub late_reads: Vec<LateRead>,
}

impl Renewal {
    /// The renewal of the period `state` owes next, written at `written_at`.
    pub fn plan(terms: &Terms, state: &Subscription, written_at: DateTime<Utc>) -> Result<Self> {
        let (whole, period_days) = terms.period(state.next_invoice_period)?;
        let Some(period) = state.changes.clip(&whole) else {
            return Renewal::close(terms, state, whole, period_days, written_at);
        };
        let usage = usage_request(terms, state, &period);
        let next = advance(terms, state, &period, written_at)?;
        let reason = if period.index == 1 {
            BillingReason::SubscriptionCreate
        } else {
            BillingReason::SubscriptionCycle
        };
        Ok(Renewal {
            kind: RenewalKind::Period,
            state: state.clone(),
            period,
            period_days,
            usage,
            next,
            reason,
            written_at,
            late_reads: Vec::new(),
        })
    }

    /// The close of `state` at its end, which comes before period `owed` would start: canceled,
    /// or on the new plan of a plan change.
    fn close(
        terms: &Terms,
        state: &Subscription,
        owed: Period,
        period_days: u32,
        written_at: DateTime<Utc>,
    ) -> Result<Self> {
        let end = state.changes.end.map_or(owed.start, |end| end.on);
        if let Some(switch) = &state.changes.switch {
            let mut next = state.clone();
            next.plan_id = switch.plan_id.clone();
            next.changes.term = Some(switch.term);
            next.changes.end = None;
            next.changes.switch = None;
            next.next_invoice_period = 1;
            next.current_period = 1;
            next.current_period_start = switch.term.starts_on;
            next.current_period_end = switch.first_period_end;
            next.next_invoice_at = Some(terms.calendar.local_midnight(switch.first_due).to_utc());
            next.revision = state.revision + 1;
            next.updated_at = written_at;
            return Ok(Renewal {
                kind: RenewalKind::Switch,
                state: state.clone(),
                period: Period {
                    index: owed.index,
                    start: end,
                    end,
                },
                period_days,
                usage: None,
                next,
                reason: BillingReason::SubscriptionCycle,
                written_at,
                late_reads: Vec::new(),
            });
        }
        let start = state
            .changes
            .increases
            .iter()
            .map(|increase| increase.service_start)
            .min()
            .unwrap_or(end)
            .min(end);
        let mut next = state.clone();
        next.status = SubscriptionStatus::Canceled;
        next.next_invoice_at = None;
        next.changes.increases.clear();
        next.revision = state.revision + 1;
        next.updated_at = written_at;
        Ok(Renewal {
            kind: RenewalKind::Close,
            state: state.clone(),
            period: Period {
                index: owed.index,
                start,
                end,
            },
            period_days,
            usage: None,
            next,
            reason: BillingReason::SubscriptionEnd,
            written_at,
            late_reads: Vec::new(),
        })
    }

    /// This renewal after `previous` (the state the renewal before it in the same batch
    /// writes): what that one settled of the usage history and the credit notes it numbered,
    /// which the plan could not know.
    pub fn follow(&mut self, previous: &Subscription) {
        for state in [&mut self.state, &mut self.next] {
            state.billed_usage = previous.billed_usage.clone();
            state.changes.credit_notes = previous.changes.credit_notes;
        }
    }

    /// Whether the renewal issues an invoice: every period does; a close only when it settles
    /// increases.
    pub fn issues_invoice(&self) -> bool {
        match self.kind {
            RenewalKind::Period => true,
            RenewalKind::Close => !self.state.changes.increases.is_empty(),
            RenewalKind::Switch => false,
        }
    }

    /// The days the renewal's period served, by quantity.
    pub fn served(&self) -> Served {
        self.state.changes.served(
            self.period.start,
            self.period.end,
            self.period_days,
            self.state.quantity,
        )
    }

    /// The lines of the increases waiting for this invoice, each with the days it concerns.
    pub fn settled_lines(&self, terms: &Terms) -> Result<Vec<SettledLine>> {
        let currency = terms.plan.program.currency;
        Ok(self
            .state
            .changes
            .increases
            .iter()
            .map(|increase| SettledLine {
                line: crate::pricing::PricedLine {
                    description: increase.description.clone(),
                    kind: ChargeKind::Recurring,
                    amount: Money::from_minor(increase.amount_minor, currency),
                    basis: increase.basis.clone().map(crate::basis::LineBasis::Change),
                },
                start: increase.service_start,
                end: increase.service_end,
            })
            .collect())
    }

    /// What the agent is told about this period.
    pub fn agent_input<'a>(
        &'a self,
        terms: &'a Terms,
        usage: Option<&'a PeriodUsage>,
        late: &[SettledLine],
    ) -> Result<AgentInput<'a>> {
        let program = &terms.plan.program;
        let served = self.served();
        Ok(AgentInput {
            served: served.whole_at().is_none().then_some(served),
            settlements: self
                .settled_lines(terms)?
                .into_iter()
                .chain(late.iter().cloned())
                .map(|settled| settled.line)
                .collect(),
            rule: terms
                .plan
                .plan
                .ai_prompt
                .clone()
                .unwrap_or_else(|| program.describe()),
            quantity: self.state.quantity,
            period: &self.period,
            calendar: &terms.calendar,
            currency: program.currency,
            usage,
        })
    }
}

/// Every period `subscription` owes at `now`, in order, each planned from the state the one
/// before leaves; and the error of the first that cannot be planned, with the state it failed in
/// (the periods before it are still owed).
pub(crate) fn owed(
    terms: &Terms,
    subscription: &Subscription,
    now: DateTime<Utc>,
    written_at: DateTime<Utc>,
) -> (Vec<Renewal>, Option<(Subscription, Error)>) {
    let mut renewals: Vec<Renewal> = Vec::new();
    loop {
        let state = renewals
            .last()
            .map_or(subscription, |renewal| &renewal.next);
        if state.status != SubscriptionStatus::Active
            || state.next_invoice_at.is_none_or(|at| at > now)
        {
            break;
        }
        match Renewal::plan(terms, state, written_at) {
            Ok(renewal) if renewal.kind == RenewalKind::Switch => {
                // What the new plan owes is planned with its own terms.
                renewals.push(renewal);
                break;
            }
            Ok(renewal) => renewals.push(renewal),
            Err(error) => {
                let state = state.clone();
                return (renewals, Some((state, error)));
            }
        }
    }
    (renewals, None)
}

/// The period fields of `subscription` when `owed` is the next period it owes and `billed` the
/// one it was last billed for (`None` for a new subscription): the period it is in, and when the
/// next invoice is due. A new subscription and a renewed one are positioned by this one rule.
pub(crate) fn position(
    subscription: &mut Subscription,
    calendar: &BillingCalendar,
    timing: InvoiceTiming,
    owed: &Period,
    billed: Option<&Period>,
) {
    // Where the subscription ends inside the period owed, the period ends there; where it ends
    // before, the next thing due is its close, on its end date.
    let clipped = subscription.changes.clip(owed);
    let current = match (timing, billed, clipped.as_ref()) {
        // Billed at its start: the subscription is in the billed period.
        (InvoiceTiming::AtStart, Some(billed), _) => *billed,
        // Billed at its end (or not billed yet): it is in the period it owes.
        (_, _, Some(clipped)) => *clipped,
        (_, _, None) => *owed,
    };
    subscription.next_invoice_period = owed.index;
    subscription.current_period = current.index;
    subscription.current_period_start = current.start;
    subscription.current_period_end = current.end;
    let due = match (clipped, subscription.changes.end) {
        (None, Some(end)) => end.on,
        (None, None) => owed.start,
        (Some(owed), _) => match timing {
            InvoiceTiming::AtStart => owed.start,
            InvoiceTiming::AtRenewal => owed.end,
        },
    };
    subscription.next_invoice_at = Some(calendar.local_midnight(due).to_utc());
}

/// The subscription after its period `billed` is billed: the next period owed, when it is due,
/// and the period the subscription is in; ended after its one period when the plan does not
/// renew.
fn advance(
    terms: &Terms,
    subscription: &Subscription,
    billed: &Period,
    now: DateTime<Utc>,
) -> Result<Subscription> {
    let next_index = billed
        .index
        .checked_add(1)
        .ok_or_else(|| Error::overflow("the period index"))?;
    let (next, _) = terms.period(next_index)?;
    let mut advanced = subscription.clone();
    // The increases waiting for this invoice are on it; what no later period concerns is
    // forgotten (the billed period may still be settled, so it stays).
    advanced.changes.increases.clear();
    advanced.changes.prune(billed.start);
    position(
        &mut advanced,
        &terms.calendar,
        terms.timing(),
        &next,
        Some(billed),
    );
    advanced.revision = subscription.revision + 1;
    advanced.updated_at = now;
    if !terms.plan.plan.auto_renew {
        advanced.status = SubscriptionStatus::Ended;
        advanced.next_invoice_at = None;
    }
    Ok(advanced)
}

/// The usage window `period` of `subscription` is billed from, through the plan's query;
/// `None` when the program has no usage charges.
pub(crate) fn usage_request(
    terms: &Terms,
    subscription: &Subscription,
    period: &Period,
) -> Option<UsageRequest> {
    if terms.plan.program.usage.is_empty() {
        return None;
    }
    let (from, to) = terms.calendar.utc_bounds(period);
    Some(UsageRequest {
        query: terms.plan.plan.usage_query_name().to_owned(),
        account_id: terms.account.id.clone(),
        customer_id: subscription.customer_id.clone(),
        from,
        to,
        tz: terms.account.timezone,
    })
}

/// Prices the renewal's period by the plan's program, with its usage (`None`: the program has
/// no usage charges).
pub(crate) fn price(
    terms: &Terms,
    renewal: &Renewal,
    usage: Option<&PeriodUsage>,
    late: &[SettledLine],
) -> Result<PricedPeriod> {
    let served = match renewal.kind {
        RenewalKind::Period => Some(renewal.served()),
        // A close bills only what it settles.
        RenewalKind::Close | RenewalKind::Switch => None,
    };
    price_served(
        &terms.plan.program,
        &terms.calendar,
        &renewal.period,
        served.as_ref(),
        renewal
            .settled_lines(terms)?
            .into_iter()
            .chain(late.iter().cloned())
            .collect(),
        usage.unwrap_or(&PeriodUsage::default()),
    )
}

/// A priced period and what the billing mode decided about it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Judged {
    pub priced: PricedPeriod,
    /// Open, or held when a model's payload disagreed with the program.
    pub status: InvoiceStatus,
    /// In the agent modes: the model's payload and how it compared with the program.
    pub cross_check: Option<(AgentPayload, CrossCheck)>,
}

/// What the billing mode makes of `priced`: in the compiled mode (`payload` is `None`) it is
/// issued as priced; in an agent `mode`, the model's `payload` is cross-checked against the
/// program's lines and issued as the model wrote it when it agrees, else held for review with
/// the program's lines (releasing it can never bill what the model got wrong).
pub(crate) fn judge(
    terms: &Terms,
    priced: PricedPeriod,
    mode: BillingMode,
    payload: Option<AgentPayload>,
) -> Result<Judged> {
    let Some(payload) = payload else {
        return Ok(Judged {
            priced,
            status: InvoiceStatus::Open,
            cross_check: None,
        });
    };
    let currency = terms.plan.program.currency;
    let check = agent::cross_check(mode, &payload, &priced.line_items, currency);
    if !check.agrees {
        return Ok(Judged {
            priced,
            status: InvoiceStatus::Held,
            cross_check: Some((payload, check)),
        });
    }
    let lines = agent::model_lines(&payload, currency, &priced.line_items)?;
    Ok(Judged {
        priced: priced.with_lines(payload.clone(), lines)?,
        status: InvoiceStatus::Open,
        cross_check: Some((payload, check)),
    })
}

impl Judged {
    /// What the tax calculator is asked: the subtotal, the customer's address and exemption, the
    /// account's inclusiveness.
    pub fn tax_request(&self, terms: &Terms) -> TaxRequest {
        self.priced
            .tax_request()
            .with_address(terms.customer.tax_address.clone())
            .with_exempt(terms.customer.tax_exempt)
            .with_inclusive(terms.account.tax_inclusive)
    }
}

/// What one renewal writes: its issued invoice (lines, tax lines, revenue schedule), the
/// subscription's next state over the revision it was computed from, and the audit events.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settled {
    pub invoice: IssuedInvoice,
    /// The revision `next` was computed from.
    pub expected_revision: i64,
    pub next: Subscription,
    /// The credit notes of late returns, against the invoices of their periods.
    pub credit_notes: Vec<CreditNote>,
    pub events: Vec<AuditEvent>,
}

impl Settled {
    /// The store's commit of it.
    pub fn into_commit(self) -> SubscriptionCommit {
        SubscriptionCommit {
            expected_revision: self.expected_revision,
            subscription: self.next,
            invoice: Some(self.invoice),
            invoice_status: Vec::new(),
            credit_notes: self.credit_notes,
            events: self.events,
            idempotency: None,
        }
    }
}

/// The commit of a judged renewal, given `taxed` (the answer to [`Judged::tax_request`]): the
/// issued invoice, the next state, and the events (the model's `calls` first, then the
/// invoice's own).
pub(crate) fn settle(
    terms: &Terms,
    renewal: &Renewal,
    read: Read,
    judged: Judged,
    taxed: TaxResult,
    calls: &[AgentCall],
    trail: &Trail<'_>,
) -> Result<Settled> {
    let state = &renewal.state;
    let Read { usage, late } = read;
    let settled = judged.priced.settled_spans();
    let review = match (&judged.status, &judged.cross_check) {
        (InvoiceStatus::Held, Some((payload, check))) => Some(InvoiceReview {
            model: payload.invoice.clone(),
            differences: check.differences.clone(),
        }),
        _ => None,
    };
    let invoice = IssuedInvoice {
        id: invoice_id(&state.id, renewal.period.start),
        account_id: state.account_id.clone(),
        subscription_id: state.id.clone(),
        customer_id: state.customer_id.clone(),
        plan_id: terms.plan.plan_id().to_owned(),
        plan_version: terms.plan.version,
        quantity: state.quantity.get(),
        billing_reason: renewal.reason,
        status: judged.status,
        created_at: renewal.written_at,
        usage: InvoiceUsage {
            period: usage,
            late: late.settled.clone(),
        },
        settled,
        review,
        invoice: judged.priced.finish(taxed)?,
    };
    let mut next = renewal.next.clone();
    next.billed_usage = late.next_history(billed_period(terms, renewal, &invoice), terms.lookback);
    next.changes.credit_notes = state
        .changes
        .credit_notes
        .checked_add(u32::try_from(late.credit_notes.len()).unwrap_or(u32::MAX))
        .ok_or_else(|| Error::overflow("the credit note number"))?;
    let usage = renewal.usage.clone().zip(usage);
    let mut events = events::model_events(calls, state, trail);
    events.extend(events::billing_events(
        &invoice,
        usage.as_ref(),
        judged.cross_check.as_ref(),
        trail,
    ));
    events.extend(
        late.credit_notes
            .iter()
            .map(|note| events::credit_note_event(note, trail)),
    );
    events.extend(
        late.ignored
            .iter()
            .map(|ignored| events::late_usage_ignored(state, ignored, terms.lookback, trail)),
    );
    if renewal.kind == RenewalKind::Close {
        events.push(events::ended_event(state, renewal.period.end, trail));
    }
    Ok(Settled {
        invoice,
        expected_revision: state.revision,
        next,
        credit_notes: late.credit_notes,
        events,
    })
}

/// What a renewal read: its period's usage (`None` for programs without usage charges) and what
/// the late usage of the periods before it settles.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Read {
    pub usage: Option<PeriodUsage>,
    pub late: Late,
}

/// The period `invoice` billed, as the usage history remembers it: only for programs with usage
/// charges, and only a period the renewal bills (a close's settlement bills none).
fn billed_period(
    terms: &Terms,
    renewal: &Renewal,
    invoice: &IssuedInvoice,
) -> Option<BilledPeriod> {
    if renewal.kind != RenewalKind::Period {
        return None;
    }
    let request = renewal.usage.as_ref()?;
    Some(BilledPeriod {
        period: renewal.period.index,
        plan_id: terms.plan.plan_id().to_owned(),
        plan_version: terms.plan.version,
        query: request.query.clone(),
        start: renewal.period.start,
        end: renewal.period.end,
        from: request.from,
        to: request.to,
        served: renewal.served(),
        invoice_id: invoice.id.clone(),
        usage: invoice.usage.period.unwrap_or_default(),
        age: 0,
    })
}

/// The commit of a close or a switch that issues no invoice: the subscription canceled, or on
/// its new plan, and its event.
pub(crate) fn close_commit(renewal: &Renewal, trail: &Trail<'_>) -> SubscriptionCommit {
    let event = match renewal.kind {
        RenewalKind::Switch => events::switched_event(&renewal.state, &renewal.next, trail),
        _ => events::ended_event(&renewal.state, renewal.period.end, trail),
    };
    SubscriptionCommit {
        expected_revision: renewal.state.revision,
        subscription: renewal.next.clone(),
        invoice: None,
        invoice_status: Vec::new(),
        credit_notes: Vec::new(),
        events: vec![event],
        idempotency: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditAction;
    use crate::money::Money;
    use crate::plan::Plan;
    use crate::pricing::{PricingProgram, RecurringCharge};
    use crate::subscription::Quantity;
    use crate::tax::{FlatRate, NoTax, TaxCalculator};
    use chrono::NaiveDate;
    use chrono_tz::America::New_York;
    use futures_util::FutureExt;
    use rust_decimal::Decimal;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Local midnight of `day` in New York, in UTC.
    fn midnight(day: NaiveDate) -> DateTime<Utc> {
        use chrono::TimeZone;
        New_York
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .to_utc()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// The terms of a monthly USD plan read from `prompt`, for a subscription starting `start`.
    fn terms(prompt: &str, start: NaiveDate) -> Terms {
        let account = Account::new("acct", New_York);
        let plan: Plan = serde_json::from_value(serde_json::json!({
            "id": "plan", "type": "ai", "currency": "USD", "interval": "month",
            "ai_prompt": prompt, "usage_query": "shipments_by_weekday",
        }))
        .unwrap();
        let program = plan.compile(&account).unwrap();
        let version = PlanVersion {
            account_id: account.id.clone(),
            plan,
            version: 1,
            program,
            interpreter: None,
            created_at: at("2026-01-01T00:00:00Z"),
        };
        let customer = Customer::new("acct", "cust");
        Terms::new(&new_state(start, 1), account, customer, version).unwrap()
    }

    /// A subscription as created: owing period 1, before its calendar positions it.
    fn new_state(start: NaiveDate, quantity: u32) -> Subscription {
        Subscription {
            account_id: "acct".into(),
            id: "sub".into(),
            customer_id: "cust".into(),
            plan_id: "plan".into(),
            quantity: Quantity::new(quantity).unwrap(),
            start_date: start,
            status: SubscriptionStatus::Active,
            current_period: 1,
            current_period_start: start,
            current_period_end: start,
            next_invoice_period: 1,
            next_invoice_at: None,
            changes: Default::default(),
            billed_usage: Default::default(),
            revision: 1,
            created_at: at("2026-01-01T00:00:00Z"),
            updated_at: at("2026-01-01T00:00:00Z"),
        }
    }

    /// The state owing period `index` of `terms`, with `quantity`.
    fn owing(terms: &Terms, index: u32, quantity: u32) -> Subscription {
        let mut state = new_state(terms.calendar.period(1).unwrap().start, quantity);
        let owed = terms.calendar.period(index).unwrap();
        let billed = (index > 1).then(|| terms.calendar.period(index - 1).unwrap());
        position(
            &mut state,
            &terms.calendar,
            terms.timing(),
            &owed,
            billed.as_ref(),
        );
        state.revision = i64::from(index);
        state
    }

    fn trail(now: DateTime<Utc>, mode: BillingMode) -> Trail<'static> {
        Trail {
            actor: "system",
            run_id: Some("run"),
            correlation: "corr",
            now,
            mode,
            model: None,
        }
    }

    /// The whole step, with `tax` answering at once (the driver awaits it between the pure parts).
    fn bill(
        terms: &Terms,
        state: &Subscription,
        usage: Option<PeriodUsage>,
        mode: BillingMode,
        payload: impl FnOnce(&PricedPeriod) -> Option<AgentPayload>,
        tax: &dyn TaxCalculator,
    ) -> Result<Settled> {
        let now = at("2026-06-01T12:00:00Z");
        let renewal = Renewal::plan(terms, state, now)?;
        let priced = price(terms, &renewal, usage.as_ref(), &[])?;
        let payload = payload(&priced);
        let judged = judge(terms, priced, mode, payload)?;
        let taxed = tax
            .compute(&judged.tax_request(terms))
            .now_or_never()
            .expect("the tax answers at once")?;
        let late = Late::none(&renewal.state);
        settle(
            terms,
            &renewal,
            Read { usage, late },
            judged,
            taxed,
            &[],
            &trail(now, mode),
        )
    }

    fn compiled(_: &PricedPeriod) -> Option<AgentPayload> {
        None
    }

    fn amounts(settled: &Settled) -> [String; 3] {
        let invoice = &settled.invoice.invoice;
        [invoice.subtotal, invoice.tax, invoice.total].map(|m| m.to_major().to_string())
    }

    fn lines(settled: &Settled) -> Vec<(String, String)> {
        settled
            .invoice
            .invoice
            .line_items
            .iter()
            .map(|l| (l.description.clone(), l.amount.to_major().to_string()))
            .collect()
    }

    fn actions(settled: &Settled) -> Vec<AuditAction> {
        settled.events.iter().map(|e| e.action).collect()
    }

    fn tax_8_25() -> FlatRate {
        FlatRate::new("Sales tax", Decimal::new(825, 4)).unwrap()
    }

    fn deliveries(per_weekday: u64) -> PeriodUsage {
        PeriodUsage {
            shipments: [per_weekday; 7],
            ..PeriodUsage::default()
        }
    }

    /// One row of the table: a plan, the period owed, the quantity, the usage, the tax; what the
    /// invoice must say.
    struct Case {
        name: &'static str,
        prompt: &'static str,
        start: NaiveDate,
        period: u32,
        quantity: u32,
        usage: Option<PeriodUsage>,
        taxed: bool,
        issue_date: NaiveDate,
        reason: BillingReason,
        lines: &'static [(&'static str, &'static str)],
        amounts: [&'static str; 3],
    }

    #[test]
    fn the_step_bills_each_kind_of_period() {
        let cases = [
            Case {
                name: "in advance, the first invoice",
                prompt: "$25 per month",
                start: date(2026, 1, 31),
                period: 1,
                quantity: 1,
                usage: None,
                taxed: false,
                issue_date: date(2026, 1, 31),
                reason: BillingReason::SubscriptionCreate,
                lines: &[("Base charge (month 1)", "25.00")],
                amounts: ["25.00", "0.00", "25.00"],
            },
            Case {
                name: "in arrears, with usage",
                prompt: "$0.50 per delivery",
                start: date(2026, 1, 15),
                period: 1,
                quantity: 1,
                usage: Some(deliveries(2)),
                taxed: false,
                issue_date: date(2026, 2, 15),
                reason: BillingReason::SubscriptionCreate,
                lines: &[("Usage (Shipment) charge (14 shipments)", "7.00")],
                amounts: ["7.00", "0.00", "7.00"],
            },
            Case {
                name: "step-up, period k",
                prompt: "Bill $5 for the first month and increase by $1 per month",
                start: date(2026, 1, 15),
                period: 4,
                quantity: 1,
                usage: None,
                taxed: false,
                issue_date: date(2026, 4, 15),
                reason: BillingReason::SubscriptionCycle,
                lines: &[("Base charge (month 4)", "8.00")],
                amounts: ["8.00", "0.00", "8.00"],
            },
            Case {
                name: "a free period is an invoice of zero",
                prompt: "Free for the first month, then $10 per month",
                start: date(2026, 1, 15),
                period: 1,
                quantity: 1,
                usage: None,
                taxed: true,
                issue_date: date(2026, 1, 15),
                reason: BillingReason::SubscriptionCreate,
                lines: &[("Base charge (month 1)", "0.00")],
                amounts: ["0.00", "0.00", "0.00"],
            },
            Case {
                name: "quantity multiplies the recurring charge, not usage",
                prompt: "A $12 monthly base fee plus $0.50 per delivery",
                start: date(2026, 1, 15),
                period: 2,
                quantity: 3,
                usage: Some(deliveries(1)),
                taxed: false,
                issue_date: date(2026, 3, 15),
                reason: BillingReason::SubscriptionCycle,
                lines: &[
                    ("Base charge (month 2), 3 x 12", "36.00"),
                    ("Usage (Shipment) charge (7 shipments)", "3.50"),
                ],
                amounts: ["39.50", "0.00", "39.50"],
            },
            Case {
                name: "tax is rounded once, half away from zero",
                prompt: "$10 per month",
                start: date(2026, 1, 15),
                period: 2,
                quantity: 1,
                usage: None,
                taxed: true,
                issue_date: date(2026, 2, 15),
                reason: BillingReason::SubscriptionCycle,
                lines: &[("Base charge (month 2)", "10.00")],
                amounts: ["10.00", "0.83", "10.83"],
            },
        ];
        for case in cases {
            let terms = terms(case.prompt, case.start);
            let state = owing(&terms, case.period, case.quantity);
            let tax: &dyn TaxCalculator = if case.taxed { &tax_8_25() } else { &NoTax };
            let settled = bill(
                &terms,
                &state,
                case.usage,
                BillingMode::Compiled,
                compiled,
                tax,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let invoice = &settled.invoice;
            assert_eq!(invoice.invoice.period_index, case.period, "{}", case.name);
            assert_eq!(invoice.invoice.issue_date, case.issue_date, "{}", case.name);
            assert_eq!(invoice.billing_reason, case.reason, "{}", case.name);
            assert_eq!(invoice.status, InvoiceStatus::Open, "{}", case.name);
            assert_eq!(invoice.quantity, case.quantity, "{}", case.name);
            assert_eq!(
                invoice.id,
                invoice_id("sub", invoice.invoice.period_start),
                "{}",
                case.name
            );
            let want: Vec<(String, String)> = case
                .lines
                .iter()
                .map(|(d, a)| (d.to_string(), a.to_string()))
                .collect();
            assert_eq!(lines(&settled), want, "{}", case.name);
            assert_eq!(amounts(&settled), case.amounts, "{}", case.name);
            // The revenue is the invoice less its tax, spread to the cent.
            let scheduled = invoice
                .invoice
                .revenue_schedule
                .iter()
                .try_fold(Money::zero(invoice.invoice.currency), |s, e| {
                    s.checked_add(e.amount)
                })
                .unwrap();
            assert_eq!(
                scheduled,
                invoice
                    .invoice
                    .total
                    .checked_sub(invoice.invoice.tax)
                    .unwrap(),
                "{}",
                case.name
            );
            // The next state owes the next period, over the revision it was computed from.
            assert_eq!(settled.expected_revision, state.revision, "{}", case.name);
            assert_eq!(settled.next.revision, state.revision + 1, "{}", case.name);
            assert_eq!(
                settled.next.next_invoice_period,
                case.period + 1,
                "{}",
                case.name
            );
            // Usage read is in the trail exactly when the program has usage charges.
            assert_eq!(
                actions(&settled).contains(&AuditAction::UsageQueried),
                case.usage.is_some(),
                "{}",
                case.name
            );
            assert_eq!(
                actions(&settled).last(),
                Some(&AuditAction::InvoiceIssued),
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn the_next_state_follows_the_invoice_timing() {
        // In advance: after period 1 (Jan 31 - Feb 28) the subscription is in period 1 and owes
        // period 2 on Feb 28 (the anchor day clamps).
        let advance_terms = terms("$25 per month", date(2026, 1, 31));
        let settled = bill(
            &advance_terms,
            &owing(&advance_terms, 1, 1),
            None,
            BillingMode::Compiled,
            compiled,
            &NoTax,
        )
        .unwrap();
        let next = &settled.next;
        assert_eq!(next.current_period, 1);
        assert_eq!(
            (next.current_period_start, next.current_period_end),
            (date(2026, 1, 31), date(2026, 2, 28))
        );
        assert_eq!(next.next_invoice_at, Some(midnight(date(2026, 2, 28))));
        assert_eq!(next.status, SubscriptionStatus::Active);

        // In arrears: after period 1 (Jan 15 - Feb 15) it is in period 2 and owes it on Mar 15.
        let arrears_terms = terms("$0.50 per delivery", date(2026, 1, 15));
        let settled = bill(
            &arrears_terms,
            &owing(&arrears_terms, 1, 1),
            Some(PeriodUsage::default()),
            BillingMode::Compiled,
            compiled,
            &NoTax,
        )
        .unwrap();
        let next = &settled.next;
        assert_eq!(next.current_period, 2);
        assert_eq!(
            (next.current_period_start, next.current_period_end),
            (date(2026, 2, 15), date(2026, 3, 15))
        );
        assert_eq!(next.next_invoice_at, Some(midnight(date(2026, 3, 15))));
    }

    #[test]
    fn a_new_subscription_is_positioned_by_the_same_rule() {
        for (prompt, due) in [
            ("$25 per month", date(2026, 1, 15)),
            ("$0.50 per delivery", date(2026, 2, 15)),
        ] {
            let terms = terms(prompt, date(2026, 1, 15));
            let state = owing(&terms, 1, 1);
            assert_eq!(state.current_period, 1, "{prompt}");
            assert_eq!(
                (state.current_period_start, state.current_period_end),
                (date(2026, 1, 15), date(2026, 2, 15)),
                "{prompt}"
            );
            assert_eq!(state.next_invoice_at, Some(midnight(due)), "{prompt}");
        }
    }

    #[test]
    fn a_plan_that_does_not_renew_ends_after_its_period() {
        let mut terms = terms("$25 per month", date(2026, 1, 15));
        terms.plan.plan.auto_renew = false;
        let settled = bill(
            &terms,
            &owing(&terms, 1, 1),
            None,
            BillingMode::Compiled,
            compiled,
            &NoTax,
        )
        .unwrap();
        assert_eq!(settled.next.status, SubscriptionStatus::Ended);
        assert_eq!(settled.next.next_invoice_at, None);
    }

    #[test]
    fn owed_catches_up_every_due_period_in_order() {
        let terms = terms("$25 per month", date(2026, 1, 15));
        let state = owing(&terms, 1, 1);
        let written_at = at("2026-04-20T12:00:00Z");
        // Due on Jan 15, Feb 15, Mar 15 and Apr 15; May 15 is not yet.
        let (renewals, failure) = owed(&terms, &state, written_at, written_at);
        assert!(failure.is_none());
        let periods: Vec<u32> = renewals.iter().map(|r| r.period.index).collect();
        assert_eq!(periods, [1, 2, 3, 4]);
        for pair in renewals.windows(2) {
            assert_eq!(pair[1].state, pair[0].next);
        }
        assert_eq!(
            renewals[3].next.next_invoice_at,
            Some(midnight(date(2026, 5, 15)))
        );
        // Exactly at a due instant, that period is owed too.
        let (renewals, _) = owed(&terms, &state, midnight(date(2026, 2, 15)), written_at);
        assert_eq!(renewals.len(), 2);
        // A subscription that has ended owes nothing.
        let mut ended = state.clone();
        ended.status = SubscriptionStatus::Ended;
        assert!(owed(&terms, &ended, written_at, written_at).0.is_empty());
    }

    #[test]
    fn a_model_that_disagrees_is_held_with_the_programs_lines() {
        let terms = terms("$10 per month", date(2026, 1, 15));
        let state = owing(&terms, 2, 1);
        for (mode, model_amount, status) in [
            (BillingMode::Agent, "10.00", InvoiceStatus::Open),
            (BillingMode::Agent, "12.00", InvoiceStatus::Held),
            (BillingMode::AgentChecked, "12.00", InvoiceStatus::Held),
        ] {
            let amount: Decimal = model_amount.parse().unwrap();
            let settled = bill(
                &terms,
                &state,
                None,
                mode,
                |priced| {
                    let mut payload = priced.payload.clone();
                    payload.invoice.amount = amount;
                    payload.invoice.line_items[0].amount = amount;
                    payload.invoice.line_items[0].description = "Monthly fee".into();
                    Some(payload)
                },
                &tax_8_25(),
            )
            .unwrap();
            let invoice = &settled.invoice;
            assert_eq!(invoice.status, status, "{mode:?} {model_amount}");
            let expected_line = match status {
                // Issued as the model wrote it.
                InvoiceStatus::Open => ("Monthly fee", "10.00"),
                // Held: the program's lines, so releasing it never bills the model's mistake.
                InvoiceStatus::Held => ("Base charge (month 2)", "10.00"),
                InvoiceStatus::Void => unreachable!("a renewal is never void"),
            };
            // A held invoice keeps the model's answer and what differed, for its reviewer.
            match &invoice.review {
                Some(review) => {
                    assert_eq!(status, InvoiceStatus::Held);
                    assert_eq!(review.model.amount.to_string(), model_amount);
                    assert!(!review.differences.is_empty());
                }
                None => assert_eq!(status, InvoiceStatus::Open),
            }
            assert_eq!(
                lines(&settled),
                [(expected_line.0.to_owned(), expected_line.1.to_owned())]
            );
            assert_eq!(amounts(&settled), ["10.00", "0.83", "10.83"]);
            let actions = actions(&settled);
            assert!(actions.contains(&AuditAction::CrossChecked));
            let last = match status {
                InvoiceStatus::Open => AuditAction::InvoiceIssued,
                InvoiceStatus::Held => AuditAction::InvoiceHeld,
                InvoiceStatus::Void => unreachable!("a renewal is never void"),
            };
            assert_eq!(actions.last(), Some(&last));
        }
    }

    #[test]
    fn a_tax_inclusive_account_takes_the_tax_out_of_the_price() {
        let mut terms = terms("$10 per month", date(2026, 1, 15));
        terms.account = terms.account.clone().tax_inclusive();
        let settled = bill(
            &terms,
            &owing(&terms, 1, 1),
            None,
            BillingMode::Compiled,
            compiled,
            &tax_8_25(),
        )
        .unwrap();
        let invoice = &settled.invoice.invoice;
        assert!(invoice.tax_inclusive);
        assert_eq!(invoice.total, invoice.subtotal);
        assert_eq!(invoice.total.to_major().to_string(), "10.00");
        assert_eq!(invoice.tax.to_major().to_string(), "0.76");
    }

    #[test]
    fn a_period_after_every_charge_ended_is_billed_zero() {
        let mut terms = terms("$10 per month", date(2026, 1, 15));
        let mut program =
            PricingProgram::new(terms.plan.program.currency, terms.plan.program.interval);
        let mut charge: RecurringCharge = terms.plan.program.recurring[0].clone();
        charge.phases[0].to_period = Some(2);
        program.recurring.push(charge);
        terms.plan.program = program;
        let settled = bill(
            &terms,
            &owing(&terms, 3, 1),
            None,
            BillingMode::Compiled,
            compiled,
            &NoTax,
        )
        .unwrap();
        assert_eq!(
            lines(&settled),
            [("No charge (month 3)".to_owned(), "0.00".to_owned())]
        );
    }
}
