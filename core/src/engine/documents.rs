//! The documents of stored invoices and credit notes ([`crate::document`]), in the locale of the
//! account they belong to.

use crate::credit_note::CreditNote;
use crate::document::{self, DocumentOptions};
use crate::error::{Error, Result};
use crate::invoice::IssuedInvoice;
use crate::plan::Account;
use crate::store::{CreditNoteQuery, InvoiceQuery};
use crate::subscription::invoice_subscription_id;

use super::Engine;

impl Engine {
    /// The invoice `invoice_id` of `account_id`; [`Error::NotFound`] naming the account or the
    /// invoice when either is missing.
    pub async fn invoice(&self, account_id: &str, invoice_id: &str) -> Result<IssuedInvoice> {
        self.document_account(account_id).await?;
        self.stored_invoice(account_id, invoice_id).await
    }

    /// The credit note `credit_note_id` of `account_id`; [`Error::NotFound`] naming the account
    /// or the credit note when either is missing.
    pub async fn credit_note(&self, account_id: &str, credit_note_id: &str) -> Result<CreditNote> {
        self.document_account(account_id).await?;
        self.stored_credit_note(account_id, credit_note_id).await
    }

    /// The HTML document of the invoice `invoice_id`, in the account's locale.
    pub async fn invoice_document(&self, account_id: &str, invoice_id: &str) -> Result<String> {
        let account = self.document_account(account_id).await?;
        let invoice = self.stored_invoice(account_id, invoice_id).await?;
        Ok(document::render_issued_invoice(
            &invoice,
            &DocumentOptions::new(account.locale),
        ))
    }

    /// The HTML document of the credit note `credit_note_id`, in the account's locale.
    pub async fn credit_note_document(
        &self,
        account_id: &str,
        credit_note_id: &str,
    ) -> Result<String> {
        let account = self.document_account(account_id).await?;
        let note = self.stored_credit_note(account_id, credit_note_id).await?;
        Ok(document::render_credit_note(
            &note,
            &DocumentOptions::new(account.locale),
        ))
    }

    /// The invoice `invoice_id` of `subscription_id`, if the subscription has it: the one read
    /// of an invoice by its id (its subscription's invoices, by the store's index).
    pub(crate) async fn invoice_of_subscription(
        &self,
        account_id: &str,
        subscription_id: &str,
        invoice_id: &str,
    ) -> Result<Option<IssuedInvoice>> {
        Ok(self
            .store
            .invoices(&InvoiceQuery {
                account_id: Some(account_id.to_owned()),
                subscription_id: Some(subscription_id.to_owned()),
                ..Default::default()
            })
            .await?
            .into_iter()
            .find(|invoice| invoice.id == invoice_id))
    }

    /// The credit note `credit_note_id` of `subscription_id`, if the subscription has it.
    pub(crate) async fn credit_note_of_subscription(
        &self,
        account_id: &str,
        subscription_id: &str,
        credit_note_id: &str,
    ) -> Result<Option<CreditNote>> {
        Ok(self
            .store
            .credit_notes(&CreditNoteQuery {
                account_id: account_id.to_owned(),
                subscription_id: Some(subscription_id.to_owned()),
                ..Default::default()
            })
            .await?
            .into_iter()
            .find(|note| note.id == credit_note_id))
    }

    /// The invoice `invoice_id` of an account known to exist, by the subscription its id names.
    async fn stored_invoice(&self, account_id: &str, invoice_id: &str) -> Result<IssuedInvoice> {
        let missing = || Error::not_found("invoice", invoice_id);
        let subscription_id = invoice_subscription_id(invoice_id).ok_or_else(missing)?;
        self.invoice_of_subscription(account_id, subscription_id, invoice_id)
            .await?
            .ok_or_else(missing)
    }

    /// The credit note `credit_note_id` of an account known to exist.
    async fn stored_credit_note(
        &self,
        account_id: &str,
        credit_note_id: &str,
    ) -> Result<CreditNote> {
        let missing = || Error::not_found("credit_note", credit_note_id);
        let subscription_id = credit_note_subscription_id(credit_note_id).ok_or_else(missing)?;
        self.credit_note_of_subscription(account_id, subscription_id, credit_note_id)
            .await?
            .ok_or_else(missing)
    }

    async fn document_account(&self, account_id: &str) -> Result<Account> {
        self.store
            .account(account_id)
            .await?
            .ok_or_else(|| Error::not_found("account", account_id))
    }
}

/// The subscription a credit note id names (`cn_{subscription}_{number}`); `None` for a text
/// that is no credit note id.
fn credit_note_subscription_id(credit_note_id: &str) -> Option<&str> {
    let (subscription, number) = credit_note_id.strip_prefix("cn_")?.rsplit_once('_')?;
    let numbered = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
    (numbered && !subscription.is_empty()).then_some(subscription)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credit_note::credit_note_id;

    #[test]
    fn a_credit_note_id_names_its_subscription() {
        assert_eq!(
            credit_note_subscription_id(&credit_note_id("sub_a_b", 12)),
            Some("sub_a_b")
        );
        assert_eq!(credit_note_subscription_id("cn_sub_x"), None);
        assert_eq!(credit_note_subscription_id("cn__1"), None);
        assert_eq!(credit_note_subscription_id("in_sub_20260101"), None);
    }
}
