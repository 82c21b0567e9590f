//! The one-line sentence of a line's basis: the arithmetic in words, with the amounts in the
//! currency's minor unit ("Month 3: 5.00 + 2 x 1.00 = 7.00"). Documents show it under the line;
//! the numbers are those of the basis, so the sentence always adds up to the line.

use rust_decimal::Decimal;

use super::{
    ChangeBasis, CreditBasis, Credited, LateUsageBasis, LimitBasis, LineBasis, PriceBasis,
    RecurringBasis, UsageBasis, UsagePriceBasis,
};
use crate::money::{Currency, Money};
use crate::pricing::{StepChange, UsageMetric};
use crate::proration::share;

/// The sentence of `basis`.
pub(super) fn sentence(basis: &LineBasis, currency: Currency) -> String {
    match basis {
        LineBasis::Recurring(basis) => recurring(basis, currency),
        LineBasis::Usage(basis) => usage(basis, currency),
        LineBasis::Change(basis) => change(basis, currency),
        LineBasis::LateUsage(basis) => late(basis, currency),
        LineBasis::Credit(basis) => credit(basis, currency),
        LineBasis::NoCharge(basis) => format!("Nothing is due for period {}", basis.period_index),
    }
}

/// A decimal as an amount: at least the currency's minor digits ("5" -> "5.00"), more when it
/// has them (a unit price of "0.125"), and at most six.
fn amount(value: Decimal, currency: Currency) -> String {
    let digits = currency.exponent();
    let value = value.normalize();
    if value.scale() <= digits {
        let mut value = value;
        value.rescale(digits);
        value.to_string()
    } else if value.scale() > 6 {
        format!(
            "{}...",
            value.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::ToZero)
        )
    } else {
        value.to_string()
    }
}

fn money(value: Money) -> String {
    value.to_major().to_string()
}

/// `word` with its first letter upper case ("month" -> "Month").
pub(crate) fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "5.00 + 2 x 1.00 = 7.00", "10.00 x 1.05^3 = 11.57625", "12.00", with the ceiling, floor and
/// discount that applied.
fn price(basis: &PriceBasis, currency: Currency) -> String {
    let mut text = amount(basis.base, currency);
    let stepped = basis.stepped().unwrap_or(basis.unit_price);
    if let Some(step) = basis.step.as_ref().filter(|step| step.steps > 0) {
        match step.change {
            StepChange::Amount(delta) => {
                let sign = if delta.is_sign_negative() { "-" } else { "+" };
                text.push_str(&format!(
                    " {sign} {} x {}",
                    step.steps,
                    amount(delta.abs(), currency)
                ));
            }
            StepChange::Percent(percent) => {
                let factor = Decimal::ONE + percent / Decimal::ONE_HUNDRED;
                text.push_str(&format!(" x {}^{}", factor.normalize(), step.steps));
            }
        }
        text.push_str(&format!(" = {}", amount(stepped, currency)));
    }
    let mut held = stepped;
    if let Some(ceiling) = basis.ceiling.filter(|ceiling| held > *ceiling) {
        text.push_str(&format!(", capped at {}", amount(ceiling, currency)));
        held = ceiling;
    }
    if let Some(floor) = basis.floor.filter(|floor| held < *floor) {
        text.push_str(&format!(
            ", raised to the floor of {}",
            amount(floor, currency)
        ));
        held = floor;
    }
    if held.is_sign_negative() && !held.is_zero() {
        text.push_str(", never below 0");
    }
    if let Some(discount) = basis.discount_percent {
        text.push_str(&format!(
            ", less {}% = {}",
            discount.normalize(),
            amount(basis.unit_price, currency)
        ));
    }
    text
}

/// "Month 3: 5.00 + 2 x 1.00 = 7.00", "Month 1: 12.00 per copy x 2 copies x 10/30 days = 8.00".
fn recurring(basis: &RecurringBasis, currency: Currency) -> String {
    let mut text = format!(
        "{} {}: {}",
        capitalised(&basis.period_noun),
        basis.period_index,
        price(&basis.price, currency)
    );
    text.push_str(&recurring_tail(basis, currency));
    text
}

/// The quantity, the days and the result, when they are not the unit price itself.
fn recurring_tail(basis: &RecurringBasis, currency: Currency) -> String {
    let mut text = String::new();
    if basis.quantity != 1 {
        text.push_str(&format!(" per copy x {} copies", basis.quantity));
    }
    if let Some(days) = basis.days {
        text.push_str(&format!(" x {}/{} days", days.days, days.period_days));
    }
    if !text.is_empty()
        && let Ok(total) = basis.amount(currency)
    {
        text.push_str(&format!(" = {}", money(total)));
    }
    text
}

const SHORT_WEEKDAYS: [(&str, &str); 7] = [
    ("monday", "Mon"),
    ("tuesday", "Tue"),
    ("wednesday", "Wed"),
    ("thursday", "Thu"),
    ("friday", "Fri"),
    ("saturday", "Sat"),
    ("sunday", "Sun"),
];

fn short(weekday: &str) -> &str {
    SHORT_WEEKDAYS
        .iter()
        .find(|(long, _)| *long == weekday)
        .map_or(weekday, |(_, short)| short)
}

/// "26 shipments (Mon 4, ..., Sun 2), less 2 returns: 5 free, 20 x 1.00 + 1 x 0.60 = 20.60;
/// the minimum of 25.00 applies".
fn usage(basis: &UsageBasis, currency: Currency) -> String {
    let (one, many) = match basis.metric {
        UsageMetric::Shipments => ("shipment", "shipments"),
        UsageMetric::Units => ("copy", "copies"),
    };
    let counted: u64 = basis.weekdays.iter().map(|day| day.counted).sum();
    let returned: u64 = basis.weekdays.iter().map(|day| day.returned).sum();
    let mut text = plural(counted, one, many);
    if !basis.weekdays.is_empty() {
        let days: Vec<String> = basis
            .weekdays
            .iter()
            .filter(|day| day.counted > 0)
            .map(|day| format!("{} {}", short(&day.weekday), day.counted))
            .collect();
        if !days.is_empty() {
            text.push_str(&format!(" ({})", days.join(", ")));
        }
    }
    if returned > 0 {
        text.push_str(&format!(", less {} returned", plural(returned, one, many)));
    }
    if returned > 0 || basis.count != counted {
        text.push_str(&format!(" = {}", basis.count));
    }
    text.push_str(": ");
    let billable = basis.count.saturating_sub(basis.allowance);
    if basis.allowance > 0 {
        text.push_str(&format!("{} free, ", basis.allowance.min(basis.count)));
    }
    let terms: Vec<String> = match &basis.pricing {
        UsagePriceBasis::PerUnit { rate } => {
            vec![format!("{billable} x {}", amount(*rate, currency))]
        }
        UsagePriceBasis::ByWeekday => by_rate(basis)
            .into_iter()
            .map(|(days, net, rate)| {
                format!(
                    "{days} {net} x {}",
                    rate.map_or_else(|| "?".to_owned(), |r| amount(r, currency))
                )
            })
            .collect(),
        UsagePriceBasis::Graduated { tiers } => tiers
            .iter()
            .filter(|tier| tier.units > 0)
            .map(|tier| format!("{} x {}", tier.units, amount(tier.unit_price, currency)))
            .collect(),
        UsagePriceBasis::Volume { tiers } => tiers
            .iter()
            .filter(|tier| tier.units > 0)
            .map(|tier| {
                let bound = match tier.up_to {
                    Some(up_to) => format!("{}-{up_to}", tier.from),
                    None => format!("{} and above", tier.from),
                };
                format!(
                    "all {} at the {bound} tier, {} x {}",
                    tier.units,
                    tier.units,
                    amount(tier.unit_price, currency)
                )
            })
            .collect(),
    };
    if terms.is_empty() {
        text.push_str(&format!("0 = {}", amount(basis.priced, currency)));
    } else {
        text.push_str(&format!(
            "{} = {}",
            terms.join(" + "),
            amount(basis.priced, currency)
        ));
    }
    if let Some(minimum) = basis.minimum.as_ref().filter(|m| m.applied) {
        text.push_str(&format!(
            "; the minimum of {} applies",
            limit(minimum, currency)
        ));
    }
    if let Some(cap) = basis.cap.as_ref().filter(|c| c.applied) {
        text.push_str(&format!("; capped at {}", limit(cap, currency)));
    }
    text
}

/// The weekdays grouped by rate, in the order of their first day: their names ("Mon-Sat",
/// "Sat, Sun"), their net count together, and the rate.
fn by_rate(basis: &UsageBasis) -> Vec<(String, i128, Option<Decimal>)> {
    let mut groups: Vec<(Vec<usize>, i128, Option<Decimal>)> = Vec::new();
    for day in &basis.weekdays {
        let index = SHORT_WEEKDAYS
            .iter()
            .position(|(long, _)| *long == day.weekday)
            .unwrap_or(0);
        let net = i128::from(day.counted) - i128::from(day.returned);
        match groups.iter_mut().find(|(_, _, rate)| *rate == day.rate) {
            Some((days, sum, _)) => {
                days.push(index);
                *sum += net;
            }
            None => groups.push((vec![index], net, day.rate)),
        }
    }
    groups
        .into_iter()
        .map(|(days, net, rate)| (day_names(&days), net, rate))
        .collect()
}

/// "Mon-Sat" for a run of three days or more, "Sat, Sun" otherwise.
fn day_names(days: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &day in days {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == day => *end = day,
            _ => runs.push((day, day)),
        }
    }
    let name = |day: usize| SHORT_WEEKDAYS[day % 7].1;
    runs.iter()
        .map(|&(start, end)| match end - start {
            0 => name(start).to_owned(),
            1 => format!("{}, {}", name(start), name(end)),
            _ => format!("{}-{}", name(start), name(end)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn limit(basis: &LimitBasis, currency: Currency) -> String {
    match basis.days {
        Some(days) => {
            let prorated = share(basis.amount, days.days, days.period_days)
                .map(|value| amount(value, currency))
                .unwrap_or_default();
            format!(
                "{} x {}/{} days = {prorated}",
                amount(basis.amount, currency),
                days.days,
                days.period_days
            )
        }
        None => amount(basis.amount, currency),
    }
}

fn signed(value: Money, increase: bool) -> String {
    format!("{}{}", if increase { "+" } else { "-" }, money(value))
}

/// "Quantity 2 -> 3 from 2026-04-11, month 1 (2026-04-01 to 2026-05-01): due 8.00 + 24.00 =
/// 32.00, billed 24.00: +8.00".
fn change(basis: &ChangeBasis, currency: Currency) -> String {
    let lines = |lines: &[RecurringBasis]| -> String {
        let parts: Vec<String> = lines
            .iter()
            .map(|line| {
                let mut part = price(&line.price, currency);
                part.push_str(&recurring_tail(line, currency));
                part
            })
            .collect();
        if parts.is_empty() {
            "nothing".to_owned()
        } else {
            parts.join(" + ")
        }
    };
    let (Ok(before), Ok(after), Ok(total), Ok(increase)) = (
        basis.due_before(currency),
        basis.due_after(currency),
        basis.amount(currency),
        basis.is_increase(currency),
    ) else {
        return basis.change.clone();
    };
    // "31.00" alone when the lines are the amount itself, "20.00 (31.00 x 20/31 days = 20.00)"
    // when they hold arithmetic.
    let due = |total: Money, detail: String| {
        if detail == money(total) {
            detail
        } else {
            format!("{} ({detail})", money(total))
        }
    };
    let mut text = format!(
        "{}, period {} ({} to {}): {} was due {}, now {}",
        basis.change,
        basis.period_index,
        basis.period_start,
        basis.period_end,
        basis.charge,
        due(before, lines(&basis.before)),
        due(after, lines(&basis.after)),
    );
    if !basis.netted.is_zero() {
        text.push_str(&format!(
            ", less {} settled against a change not yet invoiced",
            amount(basis.netted, currency)
        ));
    }
    text.push_str(&format!(": {}", signed(total, increase)));
    text
}

/// "Period 3 (2026-03-15 to 2026-04-15) priced again on the usage recorded since: now 9.00
/// (18 shipments: 18 x 0.50 = 9.00), billed 7.00: +2.00".
fn late(basis: &LateUsageBasis, currency: Currency) -> String {
    let (Ok(now), Ok(billed), Ok(total)) = (
        basis.owed_now(currency),
        basis.owed_billed(currency),
        basis.amount(currency),
    ) else {
        return format!("Period {} priced again", basis.period_index);
    };
    let lines: Vec<String> = basis.now.iter().map(|line| usage(line, currency)).collect();
    format!(
        "Period {} ({} to {}) priced again on the usage recorded since: now {} ({}), billed {}: {}",
        basis.period_index,
        basis.period_start,
        basis.period_end,
        money(now),
        lines.join("; "),
        money(billed),
        signed(total, now.minor() > billed.minor())
    )
}

/// "Line 2 of invoice X: 20.00 less 5.00 credited before = 15.00", or the amount asked, or its
/// share of an amount.
fn credit(basis: &CreditBasis, currency: Currency) -> String {
    let total = basis
        .amount(currency)
        .map(money)
        .unwrap_or_else(|_| "?".to_owned());
    let mut text = format!("Line {} of invoice {}", basis.line, basis.invoice_id);
    if !basis.credited_before.is_zero() {
        text.push_str(&format!(
            " ({} less {} credited before)",
            amount(basis.line_amount, currency),
            amount(basis.credited_before, currency)
        ));
    }
    match &basis.credited {
        Credited::Rest => text.push_str(&format!(", all it has left: {total}")),
        Credited::Asked { .. } => text.push_str(&format!(", the amount asked: {total}")),
        Credited::Share {
            requested,
            weight,
            total_weight,
            remainder,
        } => {
            text.push_str(&format!(
                ", its share of {} spread by what each line has left: {} x {}/{}",
                amount(*requested, currency),
                amount(*requested, currency),
                amount(*weight, currency),
                amount(*total_weight, currency)
            ));
            if !remainder.is_zero() {
                text.push_str(&format!(
                    " rounded down, + {} of the remainder",
                    amount(*remainder, currency)
                ));
            }
            text.push_str(&format!(" = {total}"));
        }
    }
    text
}
