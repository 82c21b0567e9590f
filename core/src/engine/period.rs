//! Billing one period: the one code path that the CLI preview, the bindings and the
//! stateful engine all use to turn a pricing program and a period's usage into an invoice.
//!
//! Pure and deterministic: the program prices the period, the agent payload is computed from the
//! priced lines and validated against the period exactly as a model-written payload would be, its
//! amounts become money at one edge, then tax, total, revenue schedule and issue date follow.

use crate::agent::{AgentPayload, PayloadExpectations};
use crate::calendar::{BillingCalendar, Period};
use crate::error::{Error, Result};
use crate::invoice::Invoice;
use crate::money::Money;
use crate::pricing::{ChargeKind, InvoiceTiming, PricedLine, PricingProgram};
use crate::proration::Served;
use crate::revrec;
use crate::subscription::Quantity;
use crate::tax::{TaxCalculator, TaxRequest, TaxResult};
use crate::usage::PeriodUsage;

/// The description prefix of the zero line of a period the program prices nothing for.
pub const NO_CHARGE_DESCRIPTION: &str = "No charge";

/// A period priced and its payload validated, waiting for its tax: the pure half of billing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedPeriod {
    /// The period it bills.
    pub period: Period,
    /// The local date the invoice is issued on.
    pub issue_date: chrono::NaiveDate,
    /// The agent payload the lines came from (computed from the program in compiled mode).
    pub payload: AgentPayload,
    /// The line items, each exact in minor units.
    pub line_items: Vec<crate::invoice::LineItem>,
    /// Their sum: what tax is computed on.
    pub subtotal: Money,
    /// The lines settled on periods billed before (increases), with the days each concerns:
    /// their revenue is spread over those days, not over this period.
    pub settled: Vec<SettledLine>,
}

/// A line that settles an increase on a period billed before, and the days `[start, end)` it
/// concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledLine {
    /// The line as the invoice shows it.
    pub line: PricedLine,
    /// The first day it concerns.
    pub start: chrono::NaiveDate,
    /// The day after the last day it concerns.
    pub end: chrono::NaiveDate,
}

/// Prices `period` of `calendar` by `program`, for a subscription of `quantity` copies with the
/// period's `usage`.
///
/// `program.evaluate` prices the period; [`AgentPayload::from_lines`] writes the payload, which is
/// validated against the period and converted to line items ([`AgentPayload::invoice_lines`]); the
/// subtotal is their checked sum. The invoice is issued on the period's start for programs billed
/// in advance and on its end for programs billed in arrears.
///
/// A period the program prices nothing for (every recurring charge has ended and there is no usage
/// charge) still gets an invoice of 0, with one zero line "No charge (month k)".
pub fn price_period(
    program: &PricingProgram,
    calendar: &BillingCalendar,
    period: &Period,
    quantity: Quantity,
    usage: &PeriodUsage,
) -> Result<PricedPeriod> {
    let served = Served::whole(quantity, period_days(period)?);
    price_served(program, calendar, period, Some(&served), Vec::new(), usage)
}

/// The days of `period`, as a proration denominator.
pub(crate) fn period_days(period: &Period) -> Result<u32> {
    u32::try_from(period.days()).map_err(|_| Error::overflow("the days of a period"))
}

/// As [`price_period`], for the days the period `served` (a period a change cut short, paused or
/// split by quantity is prorated, [`PricingProgram::evaluate_served`]) and with the lines that
/// settle increases on periods billed before (`settled`, after the program's lines). With no
/// `served` days the program prices nothing: the invoice is only what it settles.
pub fn price_served(
    program: &PricingProgram,
    calendar: &BillingCalendar,
    period: &Period,
    served: Option<&Served>,
    settled: Vec<SettledLine>,
    usage: &PeriodUsage,
) -> Result<PricedPeriod> {
    let quantity = served
        .and_then(|served| served.segments.last())
        .map_or(0, |segment| segment.quantity.get());
    let currency = program.currency;
    let span = tracing::debug_span!(
        "price_period",
        period = period.index,
        period_start = %period.start,
        period_end = %period.end,
        quantity,
        currency = currency.code(),
    );
    let _entered = span.enter();

    let mut lines = match served {
        Some(served) => program.evaluate_served(period.index, served, usage)?,
        None => Vec::new(),
    };
    if lines.is_empty() && settled.is_empty() {
        lines.push(PricedLine {
            description: format!(
                "{NO_CHARGE_DESCRIPTION} ({} {})",
                program.period_noun(),
                period.index
            ),
            kind: ChargeKind::Recurring,
            amount: Money::zero(currency),
            basis: Some(crate::basis::LineBasis::NoCharge(
                crate::basis::NoChargeBasis {
                    period_index: period.index,
                },
            )),
        });
    }
    lines.extend(settled.iter().map(|settled| settled.line.clone()));
    tracing::debug!(lines = lines.len(), "period priced");

    let payload = AgentPayload::from_lines(calendar, period, currency, &lines);
    payload.validate(&PayloadExpectations::for_period(calendar, period, currency))?;
    let line_items = payload.invoice_lines(currency, &lines)?;
    let subtotal = Money::checked_sum(currency, line_items.iter().map(|line| line.amount))?;
    let issue_date = match program.invoice_timing() {
        InvoiceTiming::AtStart => period.start,
        InvoiceTiming::AtRenewal => period.end,
    };
    Ok(PricedPeriod {
        period: *period,
        issue_date,
        payload,
        line_items,
        subtotal,
        settled,
    })
}

impl PricedPeriod {
    /// The period billed with other line items (a model's, once they passed the cross-check)
    /// and the payload they came from: the subtotal becomes their sum.
    pub fn with_lines(
        mut self,
        payload: AgentPayload,
        line_items: Vec<crate::invoice::LineItem>,
    ) -> Result<Self> {
        let currency = self.subtotal.currency();
        self.subtotal = Money::checked_sum(currency, line_items.iter().map(|line| line.amount))?;
        self.line_items = line_items;
        self.payload = payload;
        Ok(self)
    }

    /// `revenue` spread over the period, except the share of the settled lines, each spread
    /// over the days it concerns; the parts are allocated by line amount, so they sum exactly.
    fn revenue_schedule(&self, revenue: Money) -> Result<Vec<crate::revrec::RevenueEntry>> {
        if self.settled.is_empty() {
            return revrec::schedule(revenue, self.period.start, self.period.end);
        }
        let settled_minor: i64 = self.settled.iter().map(|s| s.line.amount.minor()).sum();
        let own = self.subtotal.minor() - settled_minor;
        let mut weights = vec![own.max(0).unsigned_abs()];
        weights.extend(
            self.settled
                .iter()
                .map(|s| s.line.amount.minor().max(0).unsigned_abs()),
        );
        if weights.iter().all(|&w| w == 0) {
            return revrec::schedule(revenue, self.period.start, self.period.end);
        }
        let parts = revenue.allocate(&weights)?;
        let mut schedule = Vec::new();
        let ranges = std::iter::once((self.period.start, self.period.end))
            .chain(self.settled.iter().map(|s| (s.start, s.end)));
        for (part, (start, end)) in parts.into_iter().zip(ranges) {
            if !part.is_zero() {
                schedule.extend(revrec::schedule(part, start, end)?);
            }
        }
        schedule.sort_by_key(|entry| entry.start);
        Ok(schedule)
    }

    /// Where the settled lines sit among the line items (they come last) and the days each
    /// concerns, as the issued invoice keeps them.
    pub(crate) fn settled_spans(&self) -> Vec<crate::invoice::SettledSpan> {
        let first = self.line_items.len().saturating_sub(self.settled.len());
        self.settled
            .iter()
            .enumerate()
            .map(|(i, settled)| crate::invoice::SettledSpan {
                // An invoice has far fewer than 2^32 lines.
                position: u32::try_from(first + i).unwrap_or(u32::MAX),
                start: settled.start,
                end: settled.end,
            })
            .collect()
    }

    /// The tax request for this period's subtotal (add the customer's address and exemption and
    /// the site's inclusiveness with the `with_` methods).
    pub fn tax_request(&self) -> TaxRequest {
        TaxRequest::new(self.subtotal)
    }

    /// The invoice, with `taxed` (the tax calculator's answer for [`Self::tax_request`]): the
    /// total, and the revenue (total less tax) scheduled over `[period.start, period.end)`.
    pub fn finish(self, taxed: TaxResult) -> Result<Invoice> {
        let currency = self.subtotal.currency();
        let tax_sum = Money::checked_sum(currency, taxed.lines.iter().map(|line| line.amount))?;
        if tax_sum != taxed.total {
            return Err(Error::invalid(
                "tax",
                format!(
                    "the tax calculator's lines sum to {} but its total is {}",
                    tax_sum.to_major(),
                    taxed.total.to_major()
                ),
            ));
        }
        let total = if taxed.inclusive {
            self.subtotal
        } else {
            self.subtotal.checked_add(taxed.total)?
        };
        let revenue = total.checked_sub(taxed.total)?;
        let revenue_schedule = self.revenue_schedule(revenue)?;
        tracing::debug!(
            issue_date = %self.issue_date,
            subtotal = %self.subtotal.to_major(),
            tax = %taxed.total.to_major(),
            total = %total.to_major(),
            "period billed"
        );
        Ok(Invoice {
            period_index: self.period.index,
            issue_date: self.issue_date,
            period_start: self.period.start,
            period_end: self.period.end,
            currency,
            line_items: self.line_items,
            subtotal: self.subtotal,
            tax_lines: taxed.lines,
            tax: taxed.total,
            tax_inclusive: taxed.inclusive,
            total,
            revenue_schedule,
        })
    }
}

/// Bills `period` of `calendar` by `program` in one step: [`price_period`], then `tax` on the
/// subtotal (no address, not exempt, exclusive), then [`PricedPeriod::finish`].
pub async fn bill_period(
    program: &PricingProgram,
    calendar: &BillingCalendar,
    period: &Period,
    quantity: Quantity,
    usage: &PeriodUsage,
    tax: &dyn TaxCalculator,
) -> Result<Invoice> {
    let priced = price_period(program, calendar, period, quantity, usage)?;
    let taxed = tax.compute(&priced.tax_request()).await?;
    priced.finish(taxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{BillingInterval, IntervalUnit};
    use crate::money::Currency;
    use crate::pricing::{
        Phase, RecurringCharge, ReturnsPolicy, UsageCharge, UsageMetric, UsagePricing, WeekdayRates,
    };
    use crate::subscription::MAX_QUANTITY;
    use crate::tax::{FlatRate, NoTax};
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn monthly() -> BillingInterval {
        BillingInterval {
            unit: IntervalUnit::Month,
            count: 1,
        }
    }

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn flat(amount: Decimal, to_period: Option<u32>) -> PricingProgram {
        let mut program = PricingProgram::new(usd(), monthly());
        program.recurring.push(RecurringCharge {
            description: "Base charge".into(),
            phases: vec![Phase {
                from_period: 1,
                to_period,
                amount,
                step: None,
                floor: None,
                ceiling: None,
                discount_percent: None,
            }],
        });
        program
    }

    fn calendar(start: NaiveDate) -> BillingCalendar {
        BillingCalendar::new(start, monthly(), chrono_tz::America::New_York).unwrap()
    }

    fn amounts(invoice: &Invoice) -> [String; 3] {
        [invoice.subtotal, invoice.tax, invoice.total].map(|m| m.to_major().to_string())
    }

    #[test]
    fn quantity_bounds() {
        for bad in [0, MAX_QUANTITY + 1] {
            match Quantity::new(bad) {
                Err(Error::InvalidInput { field, .. }) => {
                    assert_eq!(field, "subscription.quantity")
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(Quantity::new(1).is_ok());
        assert!(Quantity::new(MAX_QUANTITY).is_ok());
    }

    #[tokio::test]
    async fn flat_plan_in_advance_with_tax() {
        let program = flat(Decimal::new(2500, 2), None);
        let calendar = calendar(date(2026, 1, 31));
        let tax = FlatRate::new("Tax", Decimal::new(825, 4)).unwrap();
        let period = calendar.period(2).unwrap();
        let invoice = bill_period(
            &program,
            &calendar,
            &period,
            Quantity::ONE,
            &PeriodUsage::default(),
            &tax,
        )
        .await
        .unwrap();
        assert_eq!(invoice.period_index, 2);
        assert_eq!(
            (invoice.period_start, invoice.period_end),
            (date(2026, 2, 28), date(2026, 3, 31))
        );
        assert_eq!(invoice.issue_date, date(2026, 2, 28));
        assert_eq!(amounts(&invoice), ["25.00", "2.06", "27.06"]);
        assert_eq!(invoice.line_items.len(), 1);
        assert_eq!(invoice.line_items[0].description, "Base charge (month 2)");
        assert_eq!(invoice.line_items[0].kind, ChargeKind::Recurring);
        assert_eq!(invoice.tax_lines.len(), 1);
        let scheduled = invoice
            .revenue_schedule
            .iter()
            .try_fold(Money::zero(usd()), |s, e| s.checked_add(e.amount));
        assert_eq!(scheduled.unwrap(), invoice.subtotal);

        let json = serde_json::to_value(&invoice).unwrap();
        assert_eq!(json["issue_date"], "2026-02-28");
        assert_eq!(json["subtotal"], "25.00");
        assert_eq!(json["total"], "27.06");
        assert_eq!(json["currency"], "USD");
        assert_eq!(json["line_items"][0]["amount"], "25.00");
        assert_eq!(json["line_items"][0]["kind"], "recurring");
    }

    #[tokio::test]
    async fn quantity_multiplies_the_recurring_charge() {
        let program = flat(Decimal::new(12, 0), None);
        let calendar = calendar(date(2026, 1, 15));
        let period = calendar.period(1).unwrap();
        let invoice = bill_period(
            &program,
            &calendar,
            &period,
            Quantity::new(3).unwrap(),
            &PeriodUsage::default(),
            &NoTax,
        )
        .await
        .unwrap();
        assert_eq!(amounts(&invoice), ["36.00", "0.00", "36.00"]);
        // A quantity of 0 cannot reach the pricing: it is refused where it is made.
        let err = Quantity::new(0).unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { ref field, .. } if field == "subscription.quantity")
        );
    }

    #[tokio::test]
    async fn usage_plan_in_arrears() {
        let mut program = PricingProgram::new(usd(), monthly());
        let mut rates = WeekdayRates::uniform(Decimal::new(75, 2));
        rates.0[6] = Some(Decimal::new(250, 2));
        program.usage.push(UsageCharge {
            description: "Usage (Shipment) charge".into(),
            metric: UsageMetric::Shipments,
            pricing: UsagePricing::PerUnit { rates },
            returns: ReturnsPolicy::Ignored,
            allowance: 0,
            minimum: None,
            cap: None,
        });
        let calendar = calendar(date(2026, 1, 15));
        let period = calendar.period(1).unwrap();
        let usage = PeriodUsage {
            shipments: [4, 4, 4, 4, 4, 0, 2],
            ..PeriodUsage::default()
        };
        let invoice = bill_period(
            &program,
            &calendar,
            &period,
            Quantity::new(5).unwrap(),
            &usage,
            &NoTax,
        )
        .await
        .unwrap();
        assert_eq!(invoice.issue_date, date(2026, 2, 15));
        // 20 weekday deliveries at 0.75 and 2 Sundays at 2.50; quantity does not multiply usage.
        assert_eq!(amounts(&invoice), ["20.00", "0.00", "20.00"]);
        assert_eq!(invoice.line_items[0].kind, ChargeKind::Usage);
    }

    #[tokio::test]
    async fn free_period_is_an_invoice_of_zero() {
        let program = flat(Decimal::ZERO, None);
        let calendar = calendar(date(2026, 1, 15));
        let period = calendar.period(1).unwrap();
        let tax = FlatRate::new("Tax", Decimal::new(825, 4)).unwrap();
        let invoice = bill_period(
            &program,
            &calendar,
            &period,
            Quantity::ONE,
            &PeriodUsage::default(),
            &tax,
        )
        .await
        .unwrap();
        assert_eq!(amounts(&invoice), ["0.00", "0.00", "0.00"]);
        assert_eq!(invoice.line_items.len(), 1);
    }

    #[tokio::test]
    async fn period_after_every_charge_ended_is_billed_zero() {
        let program = flat(Decimal::new(5, 0), Some(2));
        let calendar = calendar(date(2026, 1, 15));
        let period = calendar.period(3).unwrap();
        let invoice = bill_period(
            &program,
            &calendar,
            &period,
            Quantity::ONE,
            &PeriodUsage::default(),
            &NoTax,
        )
        .await
        .unwrap();
        assert_eq!(amounts(&invoice), ["0.00", "0.00", "0.00"]);
        assert_eq!(invoice.line_items[0].description, "No charge (month 3)");
    }
}
