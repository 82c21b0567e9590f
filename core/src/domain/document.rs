//! The document of an invoice or a credit note: one self-contained HTML page that every surface
//! shows the same way (the platform, the CLI, Node, the plan builder's preview), and whose PDF is
//! that page printed by a browser.
//!
//! The page makes no request: its one stylesheet is inline and it has no script, image, font or
//! link. It has landmarks (banner, main, contentinfo), its lines in a `<table>` with a caption and
//! header cells, print rules (page size and margins, no line row split over two pages), dark text
//! on white. Its words (labels, descriptions, explanations) are English, so its `lang` is `en`
//! whatever the account's locale, whose glibc data writes its amounts and dates ([`format`]): a
//! screen reader then reads the words as English and the numbers as written. Every text that comes from outside (descriptions written from plan prompts,
//! ids, reasons) is escaped by maud's templates, so none can become markup.
//!
//! ```
//! use ai_billing::document::{DocumentHeader, DocumentOptions, render_invoice};
//! # use ai_billing::{Currency, Invoice, LineItem, Money, pricing::ChargeKind};
//! # let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
//! # let usd = |cents| Money::from_minor(cents, Currency::USD);
//! let invoice = Invoice {
//!     period_index: 1, issue_date: day(15), period_start: day(15),
//!     period_end: chrono::NaiveDate::from_ymd_opt(2026, 2, 15).unwrap(),
//!     currency: Currency::USD,
//!     line_items: vec![LineItem::new("Base charge (month 1)", ChargeKind::Recurring,
//!                                    usd(123_450), None)],
//!     subtotal: usd(123_450), tax_lines: vec![], tax: usd(0), tax_inclusive: false,
//!     total: usd(123_450), revenue_schedule: vec![],
//! };
//! let html = render_invoice(&invoice, &DocumentHeader::default(), &DocumentOptions::default());
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! assert!(html.contains("$1,234.50"));
//! ```

pub mod format;

use chrono::NaiveDate;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::credit_note::CreditNote;
use crate::invoice::{Invoice, IssuedInvoice, LineItem};
use crate::locale::Locale;
use crate::money::{Currency, Money};
use crate::revrec::RevenueEntry;
use crate::subscription::InvoiceStatus;
use crate::tax::TaxLine;

use format::LocaleFormat;

/// The stylesheet of every document; `PAGE_SIZE` is the locale's paper.
const STYLE: &str = include_str!("document/style.css");

/// How a document is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentOptions {
    /// The locale of its amounts and dates (the account's).
    pub locale: Locale,
}

impl DocumentOptions {
    /// The options of a document in `locale`.
    pub fn new(locale: Locale) -> Self {
        DocumentOptions { locale }
    }
}

/// What an invoice's document says about it besides what it bills: its id, who it bills and its
/// status, each shown when known. An [`IssuedInvoice`] knows them all
/// ([`DocumentHeader::of`]); a previewed invoice none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentHeader {
    /// The invoice's id, shown as its number.
    pub id: Option<String>,
    /// The customer it bills.
    pub customer_id: Option<String>,
    /// The subscription it bills.
    pub subscription_id: Option<String>,
    /// Its status: a void or held invoice says so in a banner.
    pub status: Option<InvoiceStatus>,
}

impl DocumentHeader {
    /// The header of an invoice as a store keeps it.
    pub fn of(invoice: &IssuedInvoice) -> Self {
        DocumentHeader {
            id: Some(invoice.id.clone()),
            customer_id: Some(invoice.customer_id.clone()),
            subscription_id: Some(invoice.subscription_id.clone()),
            status: Some(invoice.status),
        }
    }
}

/// The HTML document of `invoice`.
pub fn render_invoice(
    invoice: &Invoice,
    header: &DocumentHeader,
    options: &DocumentOptions,
) -> String {
    let fmt = LocaleFormat::new(&options.locale);
    let currency = invoice.currency;
    let title = match &header.id {
        Some(id) => format!("Invoice {id}"),
        None => format!("Invoice, billing period {}", invoice.period_index),
    };
    let body = html! {
        header.document {
            div {
                h1 { "Invoice" }
                @if let Some(id) = &header.id {
                    p.document-number { "No. " (id) }
                }
            }
            dl.facts {
                @if let Some(status) = header.status {
                    dt { "Status" } dd { (status_label(status)) }
                }
                @if let Some(customer) = &header.customer_id {
                    dt { "Customer" } dd { (customer) }
                }
                @if let Some(subscription) = &header.subscription_id {
                    dt { "Subscription" } dd { (subscription) }
                }
                dt { "Issue date" } dd { (date(&fmt, invoice.issue_date)) }
                dt { "Service period" } dd { (service_period(&fmt, invoice.period_start, invoice.period_end)) }
                dt { "Billing period" } dd { (invoice.period_index) }
            }
        }
        main {
            @match header.status {
                Some(InvoiceStatus::Void) => {
                    p.banner.void {
                        "VOID"
                        span { "This invoice was voided: it is not payable and its revenue was reversed." }
                    }
                }
                Some(InvoiceStatus::Held) => {
                    p.banner.held {
                        "HELD FOR REVIEW"
                        span { "This invoice is waiting for review and has not been sent to the customer." }
                    }
                }
                _ => {}
            }
            (lines_table(&fmt, &Totals {
                caption: "Invoice lines",
                lines: &invoice.line_items,
                subtotal: invoice.subtotal,
                tax_lines: &invoice.tax_lines,
                tax: invoice.tax,
                tax_inclusive: invoice.tax_inclusive,
                total: invoice.total,
                total_label: "Total due",
            }))
            (revenue_section(&fmt, "Revenue schedule", "Revenue recognised per month (the total less tax)", &invoice.revenue_schedule))
        }
        (footer(currency, invoice.tax_inclusive, &options.locale))
    };
    page(&title, &options.locale, body)
}

/// The HTML document of an invoice as a store keeps it: with its id, customer, subscription and
/// status.
pub fn render_issued_invoice(invoice: &IssuedInvoice, options: &DocumentOptions) -> String {
    render_invoice(&invoice.invoice, &DocumentHeader::of(invoice), options)
}

/// The HTML document of a credit note: the invoice it credits, why, its lines and tax, and the
/// revenue it reverses.
pub fn render_credit_note(note: &CreditNote, options: &DocumentOptions) -> String {
    let fmt = LocaleFormat::new(&options.locale);
    let body = html! {
        header.document {
            div {
                h1 { "Credit note" }
                p.document-number { "No. " (note.id) }
            }
            dl.facts {
                dt { "Credits invoice" } dd { (note.invoice_id) }
                dt { "Invoice period from" } dd { (date(&fmt, note.invoice_period_start)) }
                dt { "Reason" } dd { (reason_label(&note.reason)) }
                dt { "Customer" } dd { (note.customer_id) }
                dt { "Subscription" } dd { (note.subscription_id) }
                dt { "Issue date" } dd { (date(&fmt, note.issue_date)) }
            }
        }
        main {
            (lines_table(&fmt, &Totals {
                caption: "Credited lines",
                lines: &note.line_items,
                subtotal: note.subtotal,
                tax_lines: &note.tax_lines,
                tax: note.tax,
                tax_inclusive: note.tax_inclusive,
                total: note.total,
                total_label: "Total credited",
            }))
            (revenue_section(&fmt, "Revenue reversed", "Revenue taken back per month", &note.revenue_reversed))
        }
        (footer(note.currency, note.tax_inclusive, &options.locale))
    };
    page(&format!("Credit note {}", note.id), &options.locale, body)
}

/// The sentence that explains how a line's amount was reached, shown under its description.
fn explanation(line: &LineItem) -> Option<&str> {
    line.explanation.as_deref()
}

/// What the lines table of a document shows.
struct Totals<'a> {
    caption: &'static str,
    lines: &'a [LineItem],
    subtotal: Money,
    tax_lines: &'a [TaxLine],
    tax: Money,
    tax_inclusive: bool,
    total: Money,
    total_label: &'static str,
}

fn lines_table(fmt: &LocaleFormat, totals: &Totals<'_>) -> Markup {
    html! {
        table.lines {
            caption { (totals.caption) }
            thead {
                tr {
                    th scope="col" { "Description" }
                    th.amount scope="col" { "Amount" }
                }
            }
            tbody {
                @for line in totals.lines {
                    tr {
                        th scope="row" {
                            (line.description)
                            @if let Some(sentence) = explanation(line) {
                                span.explanation { (sentence) }
                            }
                        }
                        td.amount { (fmt.money(line.amount)) }
                    }
                }
            }
            tfoot {
                tr {
                    th scope="row" {
                        @if totals.tax_inclusive { "Subtotal (tax included)" } @else { "Subtotal" }
                    }
                    td.amount { (fmt.money(totals.subtotal)) }
                }
                @for tax in totals.tax_lines {
                    tr {
                        th scope="row" {
                            (tax.name) " " (fmt.percent(tax.rate))
                            @if totals.tax_inclusive { " (included)" }
                        }
                        td.amount { (fmt.money(tax.amount)) }
                    }
                }
                @if totals.tax_lines.len() > 1 {
                    tr {
                        th scope="row" { @if totals.tax_inclusive { "Tax included" } @else { "Tax" } }
                        td.amount { (fmt.money(totals.tax)) }
                    }
                }
                tr.total {
                    th scope="row" { (totals.total_label) }
                    td.amount { (fmt.money(totals.total)) }
                }
            }
        }
        @if totals.tax_inclusive {
            p.note {
                "Tax included: the amounts above include " (fmt.money(totals.tax)) " of tax."
            }
        }
    }
}

fn revenue_section(
    fmt: &LocaleFormat,
    heading: &'static str,
    caption: &'static str,
    entries: &[RevenueEntry],
) -> Markup {
    html! {
        @if !entries.is_empty() {
            section aria-label=(heading) {
                h2 { (heading) }
                table.revenue {
                    caption { (caption) }
                    thead {
                        tr {
                            th scope="col" { "Month" }
                            th scope="col" { "Service days" }
                            th.amount scope="col" { "Amount" }
                        }
                    }
                    tbody {
                        @for entry in entries {
                            tr {
                                th scope="row" { (fmt.month(entry.start)) }
                                td { (service_period(fmt, entry.start, entry.end)) " (" (entry.days) ")" }
                                td.amount { (fmt.money(entry.amount)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn footer(currency: Currency, tax_inclusive: bool, locale: &Locale) -> Markup {
    html! {
        footer.document {
            p {
                "Amounts in " (currency.iso().name()) " (" (currency.code()) ")"
                @if tax_inclusive { ", tax included." } @else { "." }
                " Dates and amounts written for " (locale.tag()) "."
            }
        }
    }
}

/// A whole page around `body`.
fn page(title: &str, locale: &Locale, body: Markup) -> String {
    let style = STYLE.replace("PAGE_SIZE", paper(locale));
    html! {
        (DOCTYPE)
        // The words are English; the locale writes only amounts and dates.
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                // A constant of this crate, not input.
                style { (PreEscaped(style)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// The paper of the locale's region: US letter where it is the custom, A4 elsewhere.
fn paper(locale: &Locale) -> &'static str {
    let region = locale.tag().rsplit('-').next().unwrap_or_default();
    match region {
        "US" | "CA" | "MX" | "PH" | "CL" | "CO" | "VE" | "PR" => "letter",
        _ => "A4",
    }
}

fn date(fmt: &LocaleFormat, day: NaiveDate) -> Markup {
    html! { time datetime=(day.format("%Y-%m-%d")) { (fmt.date(day)) } }
}

/// The local days `[start, end)`, written from the first day to the last.
fn service_period(fmt: &LocaleFormat, start: NaiveDate, end: NaiveDate) -> Markup {
    let last = end.pred_opt().filter(|last| *last > start);
    html! {
        (date(fmt, start))
        @if let Some(last) = last { " – " (date(fmt, last)) }
    }
}

fn status_label(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Open => "Open",
        InvoiceStatus::Held => "Held for review",
        InvoiceStatus::Void => "Void",
    }
}

fn reason_label(reason: &str) -> &str {
    match reason {
        "cancel" => "Cancellation",
        "pause" => "Pause",
        "quantity" => "Quantity decrease",
        "plan_change" => "Plan change",
        "manual" => "Manual credit",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credit_note::{Credit, CreditNote};
    use crate::pricing::ChargeKind;
    use crate::subscription::BillingReason;
    use crate::tax::{self, TaxRequest};
    use rust_decimal::Decimal;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn money(minor: i64, currency: Currency) -> Money {
        Money::from_minor(minor, currency)
    }

    fn line(description: &str, minor: i64, currency: Currency) -> LineItem {
        LineItem::new(description, ChargeKind::Usage, money(minor, currency), None)
    }

    /// An invoice of `lines` with a tax at `rate`, included or added.
    fn invoice(currency: Currency, lines: Vec<LineItem>, rate: &str, inclusive: bool) -> Invoice {
        let subtotal = Money::checked_sum(currency, lines.iter().map(|l| l.amount)).unwrap();
        let rate: Decimal = rate.parse().unwrap();
        let taxed = tax::apply_rates(
            &TaxRequest::new(subtotal).with_inclusive(inclusive),
            &[("Sales tax".into(), rate)],
        )
        .unwrap();
        let total = if inclusive {
            subtotal
        } else {
            subtotal.checked_add(taxed.total).unwrap()
        };
        let revenue = total.checked_sub(taxed.total).unwrap();
        Invoice {
            period_index: 2,
            issue_date: day(2026, 2, 15),
            period_start: day(2026, 1, 15),
            period_end: day(2026, 2, 15),
            currency,
            line_items: lines,
            subtotal,
            tax_lines: taxed.lines,
            tax: taxed.total,
            tax_inclusive: inclusive,
            total,
            revenue_schedule: crate::revrec::schedule(revenue, day(2026, 1, 15), day(2026, 2, 15))
                .unwrap(),
        }
    }

    fn issued(invoice: Invoice, status: InvoiceStatus) -> IssuedInvoice {
        IssuedInvoice {
            id: "in_sub_1_20260115".into(),
            account_id: "acct".into(),
            subscription_id: "sub_1".into(),
            customer_id: "cust_9".into(),
            plan_id: "plan".into(),
            plan_version: 1,
            quantity: 1,
            billing_reason: BillingReason::SubscriptionCycle,
            status,
            created_at: "2026-02-15T05:00:00Z".parse().unwrap(),
            usage: Default::default(),
            settled: Vec::new(),
            review: None,
            invoice,
        }
    }

    fn en() -> DocumentOptions {
        DocumentOptions::default()
    }

    fn in_locale(tag: &str) -> DocumentOptions {
        DocumentOptions::new(Locale::parse(tag, "locale").unwrap())
    }

    /// The usage invoice of the tests: two lines, 8.25% tax.
    fn usage_invoice() -> Invoice {
        invoice(
            Currency::USD,
            vec![
                line("Base charge", 500, Currency::USD),
                line("Usage (Shipment) charge", 123_450, Currency::USD),
            ],
            "0.0825",
            false,
        )
    }

    #[test]
    fn every_amount_and_fact_of_an_invoice_is_on_its_document() {
        let invoice = usage_invoice();
        let html = render_issued_invoice(&issued(invoice.clone(), InvoiceStatus::Open), &en());
        for text in [
            "<!DOCTYPE html>",
            "<html lang=\"en\">",
            "<h1>Invoice</h1>",
            "in_sub_1_20260115",
            "cust_9",
            "sub_1",
            "Open",
            "02/15/2026",
            "01/15/2026",
            "02/14/2026",
            "Base charge",
            "Usage (Shipment) charge",
            "$5.00",
            "$1,234.50",
            "$1,239.50",
            "Sales tax 8.25%",
            "$102.26",
            "$1,341.76",
            "Revenue schedule",
            "January 2026",
            "February 2026",
        ] {
            assert!(html.contains(text), "{text:?} missing from\n{html}");
        }
        for entry in &invoice.revenue_schedule {
            assert!(html.contains(&LocaleFormat::new(&Locale::default()).money(entry.amount)));
        }
        assert!(!html.contains("VOID") && !html.contains("HELD FOR REVIEW"));
    }

    #[test]
    fn the_document_has_landmarks_a_captioned_table_and_print_rules() {
        let html = render_invoice(&usage_invoice(), &DocumentHeader::default(), &en());
        for text in [
            "<header class=\"document\">",
            "<main>",
            "<footer class=\"document\">",
            "<caption>Invoice lines</caption>",
            "<th scope=\"col\">Description</th>",
            "<th scope=\"row\">",
            "@page { size: letter;",
            "break-inside: avoid",
        ] {
            assert!(html.contains(text), "{text:?} missing from\n{html}");
        }
        assert_eq!(html.matches("<main>").count(), 1);
        assert!(html.contains("Invoice, billing period 2"));
        assert!(in_locale("de-DE").locale.tag() == "de-DE");
        let german = render_invoice(
            &usage_invoice(),
            &DocumentHeader::default(),
            &in_locale("de-DE"),
        );
        assert!(german.contains("@page { size: A4;"));
    }

    #[test]
    fn text_from_prompts_is_escaped() {
        let mut invoice = usage_invoice();
        invoice.line_items[0].description =
            "<script>alert('x')</script> & <img src=x onerror=alert(1)>".into();
        let mut header = DocumentHeader::of(&issued(invoice.clone(), InvoiceStatus::Open));
        header.customer_id = Some("\"><b>cust</b>".into());
        let html = render_invoice(&invoice, &header, &en());
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>cust"), "{html}");
        assert!(html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;img"));
    }

    #[test]
    fn a_document_asks_for_nothing_outside_itself() {
        let void = render_issued_invoice(&issued(usage_invoice(), InvoiceStatus::Void), &en());
        let note = render_credit_note(&credit_note(), &in_locale("fr-FR"));
        for html in [void, note] {
            for needle in [
                "http", "src=", "url(", "@import", "<script", "<link", "href=",
            ] {
                assert!(!html.contains(needle), "{needle:?} in\n{html}");
            }
        }
    }

    #[test]
    fn void_and_held_invoices_say_so_in_a_banner() {
        let void = render_issued_invoice(&issued(usage_invoice(), InvoiceStatus::Void), &en());
        assert!(
            void.contains("VOID") && void.contains("not payable"),
            "{void}"
        );
        let held = render_issued_invoice(&issued(usage_invoice(), InvoiceStatus::Held), &en());
        assert!(held.contains("HELD FOR REVIEW"), "{held}");
    }

    #[test]
    fn a_tax_inclusive_invoice_says_the_tax_is_included() {
        let invoice = invoice(
            Currency::EUR,
            vec![line("Base charge", 12_000, Currency::EUR)],
            "0.20",
            true,
        );
        let html = render_invoice(&invoice, &DocumentHeader::default(), &in_locale("fr-FR"));
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("Subtotal (tax included)"), "{html}");
        assert!(html.contains("Sales tax 20% (included)"), "{html}");
        assert!(html.contains("Tax included: the amounts above include 20,00\u{a0}€ of tax."));
        assert!(html.contains("120,00\u{a0}€"));
        assert!(html.contains("15/02/2026"));
        assert!(html.contains("janvier 2026"));
    }

    #[test]
    fn amounts_of_a_currency_without_decimals_have_none() {
        let invoice = invoice(
            Currency::JPY,
            vec![line("Base charge", 1200, Currency::JPY)],
            "0.10",
            false,
        );
        let html = render_invoice(&invoice, &DocumentHeader::default(), &in_locale("ja-JP"));
        assert!(html.contains("￥1,200") && html.contains("￥120") && html.contains("￥1,320"));
    }

    fn credit_note() -> CreditNote {
        let invoice = issued(
            invoice(
                Currency::USD,
                vec![line("Base charge (month 1)", 3100, Currency::USD)],
                "0.0825",
                false,
            ),
            InvoiceStatus::Open,
        );
        CreditNote::against(
            &invoice,
            Credit {
                number: 1,
                issue_date: day(2026, 2, 4),
                reason: "cancel".into(),
                lines: vec![line(
                    "Base charge (month 1), 11 of 31 days unserved",
                    1100,
                    Currency::USD,
                )],
                service: (day(2026, 2, 4), day(2026, 2, 15)),
            },
            "2026-02-03T15:00:00Z".parse().unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn a_credit_note_names_the_invoice_it_credits_why_and_the_revenue_reversed() {
        let html = render_credit_note(&credit_note(), &en());
        for text in [
            "<h1>Credit note</h1>",
            "cn_sub_1_1",
            "Credits invoice",
            "in_sub_1_20260115",
            "Cancellation",
            "02/04/2026",
            "11 of 31 days unserved",
            "$11.00",
            "$0.91",
            "$11.91",
            "Total credited",
            "Revenue reversed",
            "February 2026",
        ] {
            assert!(html.contains(text), "{text:?} missing from\n{html}");
        }
    }
}
