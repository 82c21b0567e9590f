//! Plain-text rendering of pricing programs and invoices, for people (the `--json` outputs are for
//! programs). No colours and no box-drawing characters: the output reads the same in a terminal,
//! a log file and a CI transcript.

use std::fmt::Write;

use ai_billing::{Invoice, InvoiceTiming, Money};

/// Width of the description column of an invoice.
const DESCRIPTION_WIDTH: usize = 52;
/// Width of the amount column of an invoice.
const AMOUNT_WIDTH: usize = 12;

/// The timing decision in words.
pub fn timing(timing: InvoiceTiming) -> &'static str {
    match timing {
        InvoiceTiming::AtStart => {
            "at_start (in advance: each invoice is issued on its period's start date, the first with the subscription)"
        }
        InvoiceTiming::AtRenewal => {
            "at_renewal (in arrears: each invoice is issued on its period's end date, for that period's usage)"
        }
    }
}

/// An amount with its currency code, `12.34 USD`.
pub fn money(amount: &Money) -> String {
    format!("{} {}", amount.to_major(), amount.currency().code())
}

/// A count with its noun, singular for one: `1 subscription`, `2 subscriptions`, `0 invoices`.
/// `noun` is the singular; the plural adds an `s`, except the one irregular noun the CLI counts
/// (`delivery`).
pub fn count(n: impl TryInto<u64>, noun: &str) -> String {
    let n = n.try_into().unwrap_or(u64::MAX);
    match (n, noun) {
        (1, _) => format!("1 {noun}"),
        (_, "delivery") => format!("{n} deliveries"),
        _ => format!("{n} {noun}s"),
    }
}

/// Indents every line of `text` by `by` spaces.
pub fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().map(|line| format!("{pad}{line}\n")).collect()
}

fn row(out: &mut String, label: &str, amount: &str) {
    // A description longer than its column wraps onto its own line, the amount below it.
    if label.chars().count() > DESCRIPTION_WIDTH {
        let _ = writeln!(out, "    {label}");
        let _ = writeln!(out, "    {:DESCRIPTION_WIDTH$} {amount:>AMOUNT_WIDTH$}", "");
    } else {
        let _ = writeln!(
            out,
            "    {label:DESCRIPTION_WIDTH$} {amount:>AMOUNT_WIDTH$}"
        );
    }
}

/// A line item, and under it how its amount was reached.
fn line_item(out: &mut String, item: &ai_billing::LineItem) {
    row(out, &item.description, &item.amount.to_major().to_string());
    if let Some(explanation) = &item.explanation {
        let _ = writeln!(out, "      = {explanation}");
    }
}

/// One invoice: its header, line items, subtotal, tax, total and revenue schedule.
pub fn invoice(invoice: &Invoice) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Invoice {} - issued {} - period {} to {} ({})",
        invoice.period_index,
        invoice.issue_date,
        invoice.period_start,
        invoice.period_end,
        invoice.currency.code()
    );
    if invoice.line_items.is_empty() {
        row(&mut out, "(nothing billed this period)", "");
    }
    for item in &invoice.line_items {
        line_item(&mut out, item);
    }
    let rule = "-".repeat(DESCRIPTION_WIDTH + 1 + AMOUNT_WIDTH);
    let _ = writeln!(out, "    {rule}");
    row(
        &mut out,
        "Subtotal",
        &invoice.subtotal.to_major().to_string(),
    );
    if invoice.tax_lines.is_empty() {
        row(&mut out, "Tax", &invoice.tax.to_major().to_string());
    }
    for line in &invoice.tax_lines {
        let percent = (line.rate * rust_decimal::Decimal::ONE_HUNDRED).normalize();
        row(
            &mut out,
            &format!("{} {percent}%", line.name),
            &line.amount.to_major().to_string(),
        );
    }
    row(&mut out, "Total", &invoice.total.to_major().to_string());
    if !invoice.revenue_schedule.is_empty() {
        let _ = writeln!(out, "    Revenue schedule:");
        for entry in &invoice.revenue_schedule {
            let days = if entry.days == 1 { "day" } else { "days" };
            let _ = writeln!(
                out,
                "      {}  {:>3} {days:<4} {:>AMOUNT_WIDTH$}",
                entry.month,
                entry.days,
                entry.amount.to_major().to_string()
            );
        }
    }
    out
}

/// A held invoice's review, for the reviewer who releases or voids it: the model's answer, the
/// program's (the invoice's own lines) and what differed.
pub fn review(
    issued: &ai_billing::IssuedInvoice,
    review: &ai_billing::invoice::InvoiceReview,
) -> String {
    let mut out = String::new();
    let invoice = &issued.invoice;
    let _ = writeln!(
        out,
        "Held for review: the model's answer and the program's differ (release it as the program          computed it, or void it: `ai-billing invoice release|void --id {}`).",
        issued.id
    );
    let _ = writeln!(
        out,
        "  The model's answer: {} {}",
        review.model.amount,
        review.model.currency.code()
    );
    for line in &review.model.line_items {
        row(&mut out, &line.description, &line.amount.to_string());
    }
    let _ = writeln!(
        out,
        "  The program's answer (the invoice's lines): {}",
        money(&invoice.subtotal)
    );
    for line in &invoice.line_items {
        row(
            &mut out,
            &line.description,
            &line.amount.to_major().to_string(),
        );
    }
    let _ = writeln!(out, "  What differed:");
    for difference in &review.differences {
        let _ = writeln!(out, "    - {difference}");
    }
    out
}

/// A credit note as the terminal shows it: what it credits, its lines, tax and total.
pub fn credit_note(note: &ai_billing::credit_note::CreditNote) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Credit note {} - issued {} - against the invoice of the period from {} ({}, {})",
        note.number,
        note.issue_date,
        note.invoice_period_start,
        note.reason,
        note.currency.code()
    );
    for item in &note.line_items {
        line_item(&mut out, item);
    }
    let rule = "-".repeat(DESCRIPTION_WIDTH + 1 + AMOUNT_WIDTH);
    let _ = writeln!(out, "    {rule}");
    row(&mut out, "Subtotal", &note.subtotal.to_major().to_string());
    row(&mut out, "Tax", &note.tax.to_major().to_string());
    row(
        &mut out,
        "Total credited",
        &note.total.to_major().to_string(),
    );
    out
}

/// Credit notes as a table, one row each: id, subscription, the invoice credited, issue date,
/// reason, subtotal, tax and total with the currency. Columns are as wide as their widest cell.
pub fn credit_note_table(notes: &[ai_billing::credit_note::CreditNote]) -> String {
    let header = [
        "CREDIT NOTE",
        "SUBSCRIPTION",
        "INVOICE",
        "ISSUED",
        "REASON",
        "SUBTOTAL",
        "TAX",
        "TOTAL",
    ];
    let rows: Vec<[String; 8]> = notes
        .iter()
        .map(|note| {
            [
                note.id.clone(),
                note.subscription_id.clone(),
                note.invoice_id.clone(),
                note.issue_date.to_string(),
                note.reason.clone(),
                note.subtotal.to_major().to_string(),
                note.tax.to_major().to_string(),
                money(&note.total),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            // Text columns to the left, amounts (the last three) to the right.
            if i >= 5 {
                let _ = write!(text, "{cell:>width$}  ");
            } else {
                let _ = write!(text, "{cell:<width$}  ");
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1u64, "subscription"), "1 subscription");
        assert_eq!(count(0u64, "invoice"), "0 invoices");
        assert_eq!(count(2usize, "shipment"), "2 shipments");
        assert_eq!(count(1u32, "delivery"), "1 delivery");
        assert_eq!(count(3u32, "delivery"), "3 deliveries");
    }
}
