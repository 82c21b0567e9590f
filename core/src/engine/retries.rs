//! Safe retries (issue 20): a create or a change made again with the same key and the same body
//! answers what the first answered, and writes nothing new; the same key with another body is
//! [`Error::Conflict`]. A subscription's creation is keyed by its `request_id`, or by the
//! subscription's id without one; a change or an invoice correction only by its `request_id`
//! (without one it is made as before).
//!
//! The record of a keyed request ([`IdempotencyRecord`]) is written by the store in the
//! transaction of the request's own writes. A request first looks its key up (a hit answers, or
//! conflicts); on a miss it is made with its record attached, and when the store refuses the
//! write because the key was taken meanwhile (a twin racing it), the twin's record answers.
//!
//! What is hashed is the request as the engine read it (defaults filled in), as JSON with its
//! keys sorted, without `request_id`: so a retry that spells a default out, or orders its keys
//! otherwise, is the same request. `actor` counts: the same key sent by someone else is another
//! request, and must not be answered as if they had made the first.
//!
//! What is kept as the answer is the subscription's state as answered and the ids (and statuses)
//! of the documents answered: an issued document never changes but for its status, so a retry
//! reads them back and answers exactly what the first did.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::credit_note::CreditNote;
use crate::error::{Error, Result};
use crate::invoice::IssuedInvoice;
use crate::store::IdempotencyRecord;
use crate::subscription::{InvoiceStatus, Subscription};

use super::{Engine, check_id};

/// A request made under a key: what its record is filed under and how its body is recognised.
#[derive(Debug, Clone)]
pub(crate) struct Keyed {
    account_id: String,
    /// The store's key: the `request_id`, or `subscription:<id>` for a creation without one.
    key: String,
    /// How a refusal names the key (`request_id "r1"`, `subscription "sub_1"`).
    named: String,
    /// The field a refusal names: `request_id`, or `subscription.id` for a creation keyed by it.
    field: &'static str,
    operation: &'static str,
    hash: String,
}

impl Keyed {
    /// The key of a request that gave `request_id` (checked like an id), `None` without one.
    pub(crate) fn by_request_id<R: Serialize>(
        operation: &'static str,
        account_id: &str,
        request_id: Option<&str>,
        request: &R,
    ) -> Result<Option<Keyed>> {
        let Some(request_id) = request_id else {
            return Ok(None);
        };
        check_id("request_id", request_id)?;
        Ok(Some(Keyed {
            account_id: account_id.to_owned(),
            key: request_id.to_owned(),
            named: format!("request_id {request_id:?}"),
            field: "request_id",
            operation,
            hash: request_hash(operation, request)?,
        }))
    }

    /// The key of a subscription's creation: its `request_id`, or the subscription's id.
    pub(crate) fn creation<R: Serialize>(
        account_id: &str,
        subscription_id: &str,
        request_id: Option<&str>,
        request: &R,
    ) -> Result<Keyed> {
        let operation = "create_subscription";
        if let Some(keyed) = Self::by_request_id(operation, account_id, request_id, request)? {
            return Ok(keyed);
        }
        Ok(Keyed {
            account_id: account_id.to_owned(),
            key: format!("subscription:{subscription_id}"),
            named: format!("subscription {subscription_id:?}"),
            field: "subscription.id",
            operation,
            hash: request_hash(operation, request)?,
        })
    }

    /// The record to write with the request's own writes, answering `receipt`.
    pub(crate) fn record(&self, receipt: &Receipt, at: DateTime<Utc>) -> Result<IdempotencyRecord> {
        Ok(IdempotencyRecord {
            account_id: self.account_id.clone(),
            key: self.key.clone(),
            operation: self.operation.to_owned(),
            request_hash: self.hash.clone(),
            answer: serde_json::to_value(receipt)
                .map_err(|error| Error::invalid("request", error.to_string()))?,
            created_at: at,
        })
    }
}

/// The SHA-256 (lowercase hex) of `operation` and the request's canonical JSON: keys sorted at
/// every level, `request_id` left out.
fn request_hash<R: Serialize>(operation: &str, request: &R) -> Result<String> {
    let mut json = serde_json::to_value(request)
        .map_err(|error| Error::invalid("request", error.to_string()))?;
    if let Value::Object(fields) = &mut json {
        fields.remove("request_id");
    }
    let canonical = sorted(json).to_string();
    let digest = Sha256::new()
        .chain_update(operation.as_bytes())
        .chain_update(b"\n")
        .chain_update(canonical.as_bytes())
        .finalize();
    Ok(digest.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// `json` with every object's keys in byte order.
fn sorted(json: Value) -> Value {
    match json {
        Value::Object(fields) => {
            let mut fields: Vec<_> = fields.into_iter().collect();
            fields.sort_by(|(a, _), (b, _)| a.cmp(b));
            Value::Object(
                fields
                    .into_iter()
                    .map(|(key, value)| (key, sorted(value)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// What a keyed request answered, as its record keeps it: the subscription's state it answered,
/// and the documents it answered by id (each invoice with the status it had).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Receipt {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) subscription: Option<Subscription>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) invoices: Vec<InvoiceRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) credit_notes: Vec<NoteRef>,
}

/// An invoice answered, with its status then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct InvoiceRef {
    subscription_id: String,
    id: String,
    status: InvoiceStatus,
}

/// A credit note answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct NoteRef {
    subscription_id: String,
    id: String,
}

impl Receipt {
    pub(super) fn with_subscription(mut self, subscription: &Subscription) -> Self {
        self.subscription = Some(subscription.clone());
        self
    }

    pub(super) fn with_invoice(mut self, invoice: &IssuedInvoice) -> Self {
        self.invoices.push(InvoiceRef {
            subscription_id: invoice.subscription_id.clone(),
            id: invoice.id.clone(),
            status: invoice.status,
        });
        self
    }

    pub(super) fn with_note(mut self, note: &CreditNote) -> Self {
        self.credit_notes.push(NoteRef {
            subscription_id: note.subscription_id.clone(),
            id: note.id.clone(),
        });
        self
    }

    pub(super) fn subscription(&mut self) -> Result<Subscription> {
        self.subscription.take().ok_or_else(|| self.unreadable())
    }

    pub(super) fn unreadable(&self) -> Error {
        Error::invalid(
            "request_id",
            "the stored answer of the earlier request does not hold what this operation answers",
        )
    }
}

/// An answer a keyed request can give again from its [`Receipt`].
pub(crate) trait Replayable: Sized {
    /// What the record keeps of it.
    fn receipt(&self) -> Receipt;

    /// The answer again, read back through `engine`.
    async fn replay(engine: &Engine, account_id: &str, receipt: Receipt) -> Result<Self>;
}

impl Replayable for Subscription {
    fn receipt(&self) -> Receipt {
        Receipt::default().with_subscription(self)
    }

    async fn replay(_: &Engine, _: &str, mut receipt: Receipt) -> Result<Self> {
        receipt.subscription()
    }
}

impl Replayable for IssuedInvoice {
    fn receipt(&self) -> Receipt {
        Receipt::default().with_invoice(self)
    }

    async fn replay(engine: &Engine, account_id: &str, receipt: Receipt) -> Result<Self> {
        match receipt.invoices.first() {
            Some(found) => engine.invoice_answered(account_id, found).await,
            None => Err(receipt.unreadable()),
        }
    }
}

impl Replayable for CreditNote {
    fn receipt(&self) -> Receipt {
        Receipt::default().with_note(self)
    }

    async fn replay(engine: &Engine, account_id: &str, receipt: Receipt) -> Result<Self> {
        match receipt.credit_notes.first() {
            Some(found) => engine.note_answered(account_id, found).await,
            None => Err(receipt.unreadable()),
        }
    }
}

impl Engine {
    /// The answer of the request made earlier under `keyed`'s key, if there was one: its answer
    /// when it was this same request, [`Error::Conflict`] naming the key when it differed.
    pub(crate) async fn replayed<T: Replayable>(&self, keyed: Option<&Keyed>) -> Result<Option<T>> {
        let Some(keyed) = keyed else {
            return Ok(None);
        };
        let Some(record) = self
            .store
            .idempotency_record(&keyed.account_id, &keyed.key)
            .await?
        else {
            return Ok(None);
        };
        if record.operation != keyed.operation || record.request_hash != keyed.hash {
            return Err(Error::conflict(
                keyed.field,
                format!(
                    "{} was already used by an earlier request ({}) that differed from this one: \
                     a retry must repeat the request exactly, and a new request needs a new key",
                    keyed.named, record.operation
                ),
            ));
        }
        let receipt: Receipt = serde_json::from_value(record.answer).map_err(|error| {
            Error::invalid(
                "request_id",
                format!(
                    "the stored answer of {} cannot be read: {error}",
                    keyed.named
                ),
            )
        })?;
        T::replay(self, &keyed.account_id, receipt).await.map(Some)
    }

    /// After a keyed request failed: the answer of the twin that made it meanwhile (its record
    /// is there now: the key it took refused this one's write, or what the twin did made this
    /// one's change impossible), or the failure when no request holds the key.
    pub(crate) async fn replayed_after<T: Replayable>(
        &self,
        keyed: Option<&Keyed>,
        failed: Error,
    ) -> Result<T> {
        match self.replayed(keyed).await? {
            Some(answer) => Ok(answer),
            None => Err(failed),
        }
    }

    /// An invoice a request answered, as it was then (only its status can have changed since).
    pub(super) async fn invoice_answered(
        &self,
        account_id: &str,
        found: &InvoiceRef,
    ) -> Result<IssuedInvoice> {
        let mut invoice = self
            .invoice_of_subscription(account_id, &found.subscription_id, &found.id)
            .await?
            .ok_or_else(|| Error::not_found("invoice", &found.id))?;
        invoice.status = found.status;
        Ok(invoice)
    }

    /// A credit note a request answered (credit notes never change).
    pub(super) async fn note_answered(
        &self,
        account_id: &str,
        found: &NoteRef,
    ) -> Result<CreditNote> {
        self.credit_note_of_subscription(account_id, &found.subscription_id, &found.id)
            .await?
            .ok_or_else(|| Error::not_found("credit note", &found.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_ignores_key_order_and_the_request_id() {
        let a = serde_json::json!({ "b": 1, "a": { "y": 2, "x": 3 }, "request_id": "r1" });
        let b = serde_json::json!({ "a": { "x": 3, "y": 2 }, "b": 1, "request_id": "r2" });
        assert_eq!(
            request_hash("op", &a).unwrap(),
            request_hash("op", &b).unwrap()
        );
        assert_ne!(
            request_hash("op", &a).unwrap(),
            request_hash("other", &a).unwrap()
        );
        let c = serde_json::json!({ "a": { "x": 3, "y": 2 }, "b": 2 });
        assert_ne!(
            request_hash("op", &a).unwrap(),
            request_hash("op", &c).unwrap()
        );
        assert_eq!(request_hash("op", &a).unwrap().len(), 64);
    }
}
