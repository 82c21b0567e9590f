//! What every adapter checks and reports alike. The rules of the store's contract live here once,
//! so the adapters cannot drift apart in what they accept or in how they name a refusal; how each
//! backend finds the fact (a map lookup, a unique key, a `RETURNING` list) stays in the adapter.

use crate::audit::AuditEvent;
use crate::credit_note::CreditNote;
use crate::error::{Error, Result};
use crate::invoice::{Invoice, IssuedInvoice};
use crate::subscription::Subscription;

#[cfg(doc)]
use crate::store::BillingState;

/// Checks a batch of events before any of it is written: every id non-empty and given once.
/// Whether an id is already in the outbox is left to the adapter, which finds it in its own way.
pub(crate) fn check_event_batch<'a>(
    events: impl IntoIterator<Item = &'a AuditEvent>,
) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for event in events {
        if event.id.is_empty() {
            return Err(Error::invalid("events.id", "an event has an empty id"));
        }
        if !seen.insert(event.id.as_str()) {
            return Err(Error::invalid(
                "events.id",
                format!("event {:?} is given twice", event.id),
            ));
        }
    }
    Ok(())
}

/// Checks that every amount of `invoice` (subtotal, tax, total, each line, tax line and revenue
/// entry) is in the invoice's currency, as every store requires before it writes one: a store
/// keeps one currency per invoice and only minor units per line.
pub fn check_invoice_currency(invoice: &Invoice) -> Result<()> {
    let amounts = [invoice.subtotal, invoice.tax, invoice.total]
        .into_iter()
        .chain(invoice.line_items.iter().map(|line| line.amount))
        .chain(invoice.tax_lines.iter().map(|line| line.amount))
        .chain(invoice.revenue_schedule.iter().map(|entry| entry.amount));
    for amount in amounts {
        if amount.currency() != invoice.currency {
            return Err(Error::CurrencyMismatch {
                expected: invoice.currency.code().to_owned(),
                found: amount.currency().code().to_owned(),
            });
        }
    }
    Ok(())
}

/// Checks a credit note against the invoice it credits (`None`: no such invoice): the invoice is
/// kept, of the same subscription and currency, and every amount of the note is in that currency.
/// Every adapter calls it before it writes a note, so the refusals read alike.
pub(crate) fn check_credit_note(note: &CreditNote, invoice: Option<&IssuedInvoice>) -> Result<()> {
    let Some(invoice) = invoice.filter(|invoice| invoice.subscription_id == note.subscription_id)
    else {
        return Err(Error::invalid(
            "credit_note.invoice_id",
            format!(
                "{:?} is not an invoice of subscription {:?}",
                note.invoice_id, note.subscription_id
            ),
        ));
    };
    let amounts = [note.subtotal, note.tax, note.total]
        .into_iter()
        .chain(note.line_items.iter().map(|line| line.amount))
        .chain(note.tax_lines.iter().map(|line| line.amount))
        .chain(note.revenue_reversed.iter().map(|entry| entry.amount));
    for amount in amounts {
        if amount.currency() != invoice.invoice.currency
            || note.currency != invoice.invoice.currency
        {
            return Err(Error::CurrencyMismatch {
                expected: invoice.invoice.currency.code().to_owned(),
                found: amount.currency().code().to_owned(),
            });
        }
    }
    Ok(())
}

/// The refusal of a credit note whose number the subscription has already used.
pub(crate) fn credit_note_exists(note: &CreditNote) -> Error {
    Error::conflict(
        "credit_note.id",
        format!("credit note {:?} already exists", note.id),
    )
}

/// The refusal of an event whose id is already in the outbox.
pub(crate) fn event_exists(id: &str) -> Error {
    Error::conflict(
        "events.id",
        format!("event {id:?} is already in the outbox"),
    )
}

/// Checks an endpoint before [`crate::store::WebhookEndpoints::put_webhook`] writes it: its id
/// and URL, and a revision one past the expected one for a replacement.
pub(crate) fn check_webhook_write(
    endpoint: &crate::webhooks::WebhookEndpoint,
    expected_revision: Option<u64>,
) -> Result<()> {
    endpoint.check()?;
    if let Some(expected) = expected_revision
        && endpoint.revision != expected + 1
    {
        return Err(Error::invalid(
            "webhook.revision",
            format!(
                "{} is not one more than the expected revision {expected}",
                endpoint.revision
            ),
        ));
    }
    Ok(())
}

/// The conflict of adding an endpoint whose id is taken.
pub(crate) fn webhook_exists(id: &str) -> Error {
    Error::conflict(
        "webhook.id",
        format!("webhook endpoint {id:?} already exists"),
    )
}

/// Checks that a plan version to store has a plan id (its key in every store).
pub(crate) fn check_plan_id(plan_id: &str) -> Result<()> {
    if plan_id.is_empty() {
        return Err(Error::invalid("plan.id", "a stored plan needs an id"));
    }
    Ok(())
}

/// The refusal of [`BillingState::insert_subscription`] when the account already has the id.
pub(crate) fn subscription_exists(subscription: &Subscription) -> Error {
    Error::conflict(
        "subscription.id",
        format!(
            "subscription {:?} already exists in account {:?}",
            subscription.id, subscription.account_id
        ),
    )
}

/// The refusal of [`BillingState::insert_subscription`] when the first invoice's period already has one.
pub(crate) fn invoice_exists(invoice: &IssuedInvoice) -> Error {
    Error::conflict(
        "invoice",
        format!(
            "an invoice of subscription {:?} for the period starting {} already exists",
            invoice.subscription_id, invoice.invoice.period_start
        ),
    )
}

/// The refusal of a platform row (`what` is `shipment` or `return`, in `table`) whose id the
/// account already has.
pub(crate) fn usage_row_exists(table: &str, what: &str, id: &str, account_id: &str) -> Error {
    Error::conflict(
        format!("{table}.id"),
        format!("{what} {id:?} already exists in account {account_id:?}"),
    )
}

/// Checks a usage window before a database runs a template over it: `from` not after `to`
/// (as [`crate::usage::aggregate`] checks it for the in-memory rows).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn check_usage_window(
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if from > to {
        return Err(Error::invalid(
            "usage window",
            format!("starts at {from} after it ends at {to}"),
        ));
    }
    Ok(())
}

/// A customer's tax address from its three nullable columns, as both databases store it: no
/// address when all three are NULL, and a region or postal code without a country is not an
/// address the core writes (the `Err` says what is wrong, for the adapter's corruption error).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn stored_tax_address(
    country: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
) -> Result<Option<crate::tax::TaxAddress>, &'static str> {
    match country {
        Some(country) => Ok(Some(crate::tax::TaxAddress {
            country,
            region,
            postal_code,
        })),
        None if region.is_none() && postal_code.is_none() => Ok(None),
        None => Err("NULL while the address has a region or postal code"),
    }
}

/// The JSON text of an invoice's two optional columns, `settled` and `review` (NULL when empty,
/// as almost every invoice is), as every database store writes them.
pub(crate) fn invoice_extras_json(
    invoice: &IssuedInvoice,
) -> Result<(Option<String>, Option<String>)> {
    let encode = |what: &str, value: serde_json::Result<String>| {
        value.map_err(|source| Error::Storage {
            action: format!("encoding invoice {:?}'s {what}", invoice.id),
            source: Box::new(source),
        })
    };
    let settled = match invoice.settled.as_slice() {
        [] => None,
        spans => Some(encode("settled lines", serde_json::to_string(spans))?),
    };
    let review = match &invoice.review {
        None => None,
        Some(review) => Some(encode("review", serde_json::to_string(review))?),
    };
    Ok((settled, review))
}

/// The refusal of a write whose idempotency record's (account, key) is taken: another request
/// was made under that key first (the engine then reads its record and answers as for a retry).
pub(crate) fn request_key_taken(record: &super::IdempotencyRecord) -> Error {
    Error::conflict(
        "request_id",
        format!(
            "a request with key {:?} was already made in account {:?}",
            record.key, record.account_id
        ),
    )
}
