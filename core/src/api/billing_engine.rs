//! The [`BillingEngine`]: an [`Engine`] opened from [`EngineOptions`], its operations, and its
//! closing (shipping the audit outbox once more).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::audit::feed::{EventPage, EventsRequest, read_events};
use crate::credit_note::CreditNote;
use crate::engine::{
    CancelSubscription, ChangePlan, ChangeQuantity, ChangedSubscription, CreateSubscription,
    CreatedSubscription, CreditInvoice, PauseSubscription, ReleaseInvoice, ResumeSubscription,
    RunDue, SavePlan, VoidInvoice, VoidedInvoice, WithdrawCancel,
};
use crate::error::{Error, Result};
use crate::invoice::{Invoice, IssuedInvoice};
use crate::llm_interpreter::interpreter_for;
use crate::plan::{Account, PlanVersion};
use crate::store::{
    CreditNoteQuery, CustomerQuery, InvoiceQuery, ListKey, PlanListQuery, PlanQuery, Store,
    SubscriptionQuery,
};
use crate::subscription::{Customer, Subscription};
use crate::webhooks::WebhookSender;
use crate::{AuditSink, Engine};

use super::cursor;
use super::messages::error_message;
use super::options::{EngineOptions, audit_sink, language_model};
use super::requests::{
    AccountRef, AuditShipping, CreditNotePage, CreditNoteRef, CustomerPage, InvoicePage,
    InvoiceRef, ListCreditNotes, ListCustomers, ListInvoices, ListSubscriptions, PlanPage,
    RunDueReport, RunDueRequest, SaveAccount, SaveCustomer, SubscriptionPage, SubscriptionRef,
};

/// The most plans one [`BillingEngine::list_plans`] call returns.
pub const MAX_PAGE: u32 = 1000;

/// The billing engine behind Node's `BillingEngine` and C's engine handle: an [`Engine`] set up
/// from [`EngineOptions`], and closed once.
#[derive(Debug)]
pub struct BillingEngine {
    engine: Engine,
    audit: Option<Arc<dyn AuditSink>>,
    webhooks: OnceLock<Arc<dyn WebhookSender>>,
    closed: AtomicBool,
}

impl BillingEngine {
    /// Opens the database (bringing its schema up to date) and sets up what `options` ask for.
    /// A mode that needs a model without an API key, an unknown database scheme or a bad tax
    /// table fails here, before anything is billed.
    pub async fn open(options: &EngineOptions) -> Result<BillingEngine> {
        let store = crate::connect(&options.database_url).await?;
        store.migrate().await?;
        let mut engine = Engine::new(store);
        if let Some(concurrency) = options.concurrency {
            if concurrency == 0 {
                return Err(Error::invalid("concurrency", "must be at least 1"));
            }
            engine = engine.with_concurrency(concurrency as usize);
        }
        if let Some(lookback) = options.late_usage_lookback {
            engine = engine.with_late_usage_lookback(lookback)?;
        }
        if let Some(tax) = &options.tax {
            engine = engine.with_tax(tax.calculator()?);
        }
        let model = language_model(
            options.interpreter.needs_model() || options.mode.uses_model(),
            options.openai.as_ref(),
            Some(engine.concurrency()),
        )?;
        let engine = engine
            .with_interpreter(interpreter_for(options.interpreter, model.clone())?)
            .with_mode(options.mode, model)?;
        let audit = options.opensearch.as_ref().map(audit_sink).transpose()?;
        Ok(BillingEngine {
            engine,
            audit,
            webhooks: OnceLock::new(),
            closed: AtomicBool::new(false),
        })
    }

    /// The engine underneath, for Rust callers that need more than the bindings expose.
    pub fn engine(&self) -> Result<&Engine> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed { what: "engine" });
        }
        Ok(&self.engine)
    }

    pub(super) fn store(&self) -> Result<&Arc<dyn Store>> {
        Ok(self.engine()?.store())
    }

    /// The sender of webhooks, made on first use.
    pub(super) fn webhook_sender(&self) -> Result<Arc<dyn WebhookSender>> {
        if let Some(sender) = self.webhooks.get() {
            return Ok(Arc::clone(sender));
        }
        let sender = webhook_sender()?;
        Ok(Arc::clone(self.webhooks.get_or_init(|| sender)))
    }

    /// A page of the platform's events, oldest first ([`crate::audit::feed`]): at most 500, by
    /// type and account, after the cursor of an earlier page.
    pub async fn events(&self, request: &EventsRequest) -> Result<EventPage> {
        read_events(self.store()?.as_ref(), request).await
    }

    /// Creates or updates an account.
    pub async fn save_account(&self, request: &SaveAccount) -> Result<Account> {
        self.engine()?
            .save_account(&request.account, &request.actor)
            .await?;
        Ok(request.account.clone())
    }

    /// An account (whether it may have AI plans, its time zone); [`Error::NotFound`] when there
    /// is none.
    pub async fn get_account(&self, request: &AccountRef) -> Result<Account> {
        self.store()?
            .account(&request.account_id)
            .await?
            .ok_or_else(|| Error::not_found("account", &request.account_id))
    }

    /// Creates or updates a customer of an existing account.
    pub async fn save_customer(&self, request: &SaveCustomer) -> Result<Customer> {
        self.engine()?
            .save_customer(&request.customer, &request.actor)
            .await?;
        Ok(request.customer.clone())
    }

    /// Creates a plan, or saves its next version. An AI plan's prompt is interpreted now; a
    /// refused prompt saves nothing ([`Error::PromptNotUnderstood`]), and an account that is
    /// not abstracted gets [`Error::PlanNotAvailable`].
    pub async fn create_plan(&self, request: &SavePlan) -> Result<PlanVersion> {
        self.engine()?.save_plan(request).await
    }

    /// A plan at a version (the latest by default); [`Error::NotFound`] when there is none.
    pub async fn get_plan(&self, request: &PlanQuery) -> Result<PlanVersion> {
        self.store()?
            .plan_version(request)
            .await?
            .ok_or_else(|| Error::not_found("plan", &request.plan_id))
    }

    /// A page of an account's plans (standard and AI alike), each at its latest version.
    pub async fn list_plans(&self, request: &PlanListQuery) -> Result<PlanPage> {
        let limit = request.limit.unwrap_or(MAX_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("{limit} is not between 1 and {MAX_PAGE}"),
            ));
        }
        let plans = self
            .store()?
            .list_plans(&PlanListQuery {
                limit: Some(limit),
                ..request.clone()
            })
            .await?;
        let next_after = (plans.len() == limit as usize)
            .then(|| plans.last().map(|p| p.plan_id().to_owned()))
            .flatten();
        Ok(PlanPage { plans, next_after })
    }

    /// Creates a subscription; a plan billed in advance whose start has come is invoiced now.
    pub async fn create_subscription(
        &self,
        request: &CreateSubscription,
    ) -> Result<CreatedSubscription> {
        self.engine()?.create_subscription(request).await
    }

    /// A subscription; [`Error::NotFound`] when there is none.
    pub async fn get_subscription(&self, request: &SubscriptionRef) -> Result<Subscription> {
        self.store()?
            .subscription(&request.account_id, &request.subscription_id)
            .await?
            .ok_or_else(|| Error::not_found("subscription", &request.subscription_id))
    }

    /// Changes a subscription's quantity, with no renewal: from the next invoice issued, or
    /// prorated from its effective date (`proration: prorate`).
    pub async fn update_subscription(&self, request: &ChangeQuantity) -> Result<Subscription> {
        self.engine()?.change_quantity(request).await
    }

    /// Cancels a subscription: at the end of its period (the default), now, or on a date; the
    /// unserved days of a period already billed are credited unless `credit_unused` is false.
    pub async fn cancel_subscription(
        &self,
        request: &CancelSubscription,
    ) -> Result<ChangedSubscription> {
        self.engine()?.cancel_subscription(request).await
    }

    /// Withdraws a cancellation that has not taken effect.
    pub async fn withdraw_cancel(&self, request: &WithdrawCancel) -> Result<ChangedSubscription> {
        self.engine()?.withdraw_cancel(request).await
    }

    /// Pauses a subscription (a vacation hold); a pause overlapping another is a conflict.
    pub async fn pause_subscription(
        &self,
        request: &PauseSubscription,
    ) -> Result<ChangedSubscription> {
        self.engine()?.pause_subscription(request).await
    }

    /// Ends a pause on a date (its first day removes it).
    pub async fn resume_subscription(
        &self,
        request: &ResumeSubscription,
    ) -> Result<ChangedSubscription> {
        self.engine()?.resume_subscription(request).await
    }

    /// Moves a subscription to another plan in the same currency: at the end of its period (the
    /// default), now, or on a date.
    pub async fn change_plan(&self, request: &ChangePlan) -> Result<ChangedSubscription> {
        self.engine()?.change_plan(request).await
    }

    /// Releases a held invoice: it is issued as the program computed it. An invoice that is not
    /// held is a conflict naming its status (releasing twice issues it once).
    pub async fn release_invoice(&self, request: &ReleaseInvoice) -> Result<IssuedInvoice> {
        self.engine()?.release_invoice(request).await
    }

    /// Voids a held or open invoice, its revenue reversed; with `rebill`, its period is billed
    /// again from the current data (a new invoice, a new id). An invoice with credit notes
    /// against it is a conflict naming them.
    pub async fn void_invoice(&self, request: &VoidInvoice) -> Result<VoidedInvoice> {
        self.engine()?.void_invoice(request).await
    }

    /// Issues a manual credit note on an open invoice, for chosen lines or an amount, never more
    /// than is left to credit.
    pub async fn credit_invoice(&self, request: &CreditInvoice) -> Result<CreditNote> {
        self.engine()?.credit_invoice(request).await
    }

    /// The HTML document of a stored invoice ([`crate::document`]), in its account's locale:
    /// one self-contained page (print it for a PDF). [`Error::NotFound`] names the account or
    /// the invoice that is missing.
    pub async fn render_invoice(&self, request: &InvoiceRef) -> Result<String> {
        self.engine()?
            .invoice_document(&request.account_id, &request.invoice_id)
            .await
    }

    /// The HTML document of a stored credit note, in its account's locale. [`Error::NotFound`]
    /// names the account or the credit note that is missing.
    pub async fn render_credit_note(&self, request: &CreditNoteRef) -> Result<String> {
        self.engine()?
            .credit_note_document(&request.account_id, &request.credit_note_id)
            .await
    }

    /// The invoice a subscription's next renewal would issue, from the usage so far; writes
    /// nothing.
    pub async fn preview_next_invoice(&self, request: &SubscriptionRef) -> Result<Invoice> {
        self.engine()?
            .preview_next(&request.account_id, &request.subscription_id)
            .await
    }

    /// Bills everything due, then ships the audit trail when the engine ships to OpenSearch.
    pub async fn run_due(&self, request: &RunDueRequest) -> Result<RunDueReport> {
        let engine = self.engine()?;
        let run = engine
            .run_due(&RunDue {
                now: request.now,
                progress: None,
            })
            .await?;
        let audit = match &self.audit {
            Some(sink) => Some(ship(engine.store().as_ref(), sink.as_ref()).await),
            None => None,
        };
        Ok(RunDueReport { run, audit })
    }

    /// A page of an account's invoices by the filters given, oldest (or newest) first.
    pub async fn list_invoices(&self, request: &ListInvoices) -> Result<InvoicePage> {
        let page = cursor::page(request.order, request.limit, request.cursor.as_deref())?;
        let data = self
            .store()?
            .invoices(&InvoiceQuery {
                account_id: Some(request.account_id.clone()),
                subscription_id: request.subscription_id.clone(),
                customer_id: request.customer_id.clone(),
                status: request.status,
                issued_from: request.issued_from,
                issued_to: request.issued_to,
                page: Some(page.clone()),
                limit: None,
            })
            .await?;
        let next_cursor = cursor::next(&page, &data, |invoice| ListKey {
            at: invoice.created_at,
            id: invoice.id.clone(),
        });
        Ok(InvoicePage { data, next_cursor })
    }

    /// A page of an account's credit notes by the filters given, oldest (or newest) first.
    pub async fn list_credit_notes(&self, request: &ListCreditNotes) -> Result<CreditNotePage> {
        let page = cursor::page(request.order, request.limit, request.cursor.as_deref())?;
        let data = self
            .store()?
            .credit_notes(&CreditNoteQuery {
                account_id: request.account_id.clone(),
                subscription_id: request.subscription_id.clone(),
                customer_id: request.customer_id.clone(),
                invoice_id: request.invoice_id.clone(),
                issued_from: request.issued_from,
                issued_to: request.issued_to,
                page: Some(page.clone()),
                limit: None,
            })
            .await?;
        let next_cursor = cursor::next(&page, &data, |note| ListKey {
            at: note.created_at,
            id: note.id.clone(),
        });
        Ok(CreditNotePage { data, next_cursor })
    }

    /// A page of an account's subscriptions by the filters given, oldest (or newest) first.
    pub async fn list_subscriptions(
        &self,
        request: &ListSubscriptions,
    ) -> Result<SubscriptionPage> {
        let page = cursor::page(request.order, request.limit, request.cursor.as_deref())?;
        let data = self
            .store()?
            .list_subscriptions(&SubscriptionQuery {
                account_id: request.account_id.clone(),
                status: request.status,
                plan_id: request.plan_id.clone(),
                customer_id: request.customer_id.clone(),
                page: page.clone(),
            })
            .await?;
        let next_cursor = cursor::next(&page, &data, |subscription| ListKey {
            at: subscription.created_at,
            id: subscription.id.clone(),
        });
        Ok(SubscriptionPage { data, next_cursor })
    }

    /// A page of an account's customers, by id.
    pub async fn list_customers(&self, request: &ListCustomers) -> Result<CustomerPage> {
        let page = cursor::page(request.order, request.limit, request.cursor.as_deref())?;
        let data = self
            .store()?
            .list_customers(&CustomerQuery {
                account_id: request.account_id.clone(),
                page: page.clone(),
            })
            .await?;
        let next_cursor = cursor::next(&page, &data, |customer| {
            ListKey::id_only(customer.id.clone())
        });
        Ok(CustomerPage { data, next_cursor })
    }

    /// Closes the engine: the database connections are closed, and every later call fails
    /// with [`Error::Closed`]. Closing twice is harmless.
    pub async fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.engine.store().close().await
    }

    /// Whether [`BillingEngine::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// The HTTP sender of webhooks.
#[cfg(feature = "webhooks")]
fn webhook_sender() -> Result<Arc<dyn WebhookSender>> {
    Ok(Arc::new(crate::webhook_http::HttpWebhookSender::new()?))
}

#[cfg(not(feature = "webhooks"))]
fn webhook_sender() -> Result<Arc<dyn WebhookSender>> {
    Err(Error::invalid(
        "webhooks",
        "this build of ai-billing has no webhook support (the webhooks feature)",
    ))
}

/// Ships the outbox once; a failure is reported, never raised (the events wait).
async fn ship(store: &dyn Store, sink: &dyn AuditSink) -> AuditShipping {
    let options = crate::audit::ShipOptions::default();
    match crate::audit::ship_outbox(store, sink, &options).await {
        Ok(summary) => AuditShipping {
            shipped: summary.shipped,
            rejected: summary.rejected,
            pending: summary.pending,
            error: None,
        },
        Err(error) => {
            let pending = store
                .stats()
                .await
                .map(|stats| stats.audit_pending)
                .unwrap_or_default();
            AuditShipping {
                shipped: 0,
                rejected: 0,
                pending,
                error: Some(error_message(&error)),
            }
        }
    }
}
