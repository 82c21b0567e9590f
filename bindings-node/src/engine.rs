//! `BillingEngine`: plans, customers, subscriptions and billing runs on SQLite or PostgreSQL.
//!
//! Each method takes one request object in the platform's snake_case shape and gives a Promise
//! of the core's answer; the checks, defaults and audit trail are the core's
//! ([`ai_billing::api::BillingEngine`]).

use std::future::Future;
use std::sync::Arc;

use ai_billing::Result;
use ai_billing::api::{
    self, AccountRef, CreditNoteRef, EngineOptions, InvoiceRef, ListCreditNotes, ListCustomers,
    ListInvoices, ListSubscriptions, RunDueRequest, SaveAccount, SaveCustomer, SubscriptionRef,
};
use ai_billing::engine::{
    CancelSubscription, ChangePlan, ChangeQuantity, CreateSubscription, CreditInvoice,
    PauseSubscription, ReleaseInvoice, ResumeSubscription, SavePlan, VoidInvoice, WithdrawCancel,
};
use ai_billing::store::{PlanListQuery, PlanQuery};
use napi::Env;
use napi::bindgen_prelude::{AsyncBlock, Unknown};
use napi_derive::napi;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{promise, value};

/// A billing engine on one database: open it with `BillingEngine.open(options)`, close it with
/// `close()`. Every method returns a Promise; after `close()` each one rejects with `CLOSED`. Calls
/// may run side by side.
///
/// Safe retries: `createSubscription` (keyed by its `request_id`, or its `id` without one), the
/// changes and the invoice corrections (keyed by an optional `request_id`, the platform's
/// Idempotency-Key) sent again with the same key and body resolve to what the first call
/// resolved to and write nothing new; the same key with another body rejects with `CONFLICT`.
#[napi]
pub struct BillingEngine {
    pub(crate) inner: Arc<api::BillingEngine>,
}

#[napi]
impl BillingEngine {
    /// Opens the database (`databaseUrl`: `sqlite://PATH`, created if missing, `sqlite::memory:`,
    /// or `postgres://USER@HOST:PORT/DB`), brings its schema up to date, and sets up the
    /// interpreter, billing mode, OpenAI client, tax and audit shipping the options ask for.
    /// Rejects with `INVALID_INPUT` for bad options (a mode that needs a model without an API
    /// key, an unknown database scheme) and `STORAGE` when the database cannot be opened.
    #[napi(
        ts_args_type = "options: EngineOptions",
        ts_return_type = "Promise<BillingEngine>"
    )]
    pub fn open(env: &Env, options: Unknown<'_>) -> napi::Result<AsyncBlock<BillingEngine>> {
        let options = value::request::<EngineOptions>("options", options);
        promise::spawn(env, async move {
            let engine = api::BillingEngine::open(&options?).await?;
            Ok(BillingEngine {
                inner: Arc::new(engine),
            })
        })
    }

    /// Creates or updates an account (`{ account: { id, abstracted, timezone, tax_inclusive? },
    /// actor? }`). Only abstracted accounts may have AI plans. Resolves to the account.
    #[napi(
        ts_args_type = "request: SaveAccount",
        ts_return_type = "Promise<Account>"
    )]
    pub fn save_account(&self, env: &Env, request: Unknown<'_>) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: SaveAccount| async move {
            engine.save_account(&request).await
        })
    }

    /// An account (`{ account_id }`): whether it may have AI plans, its time zone. Rejects with
    /// `NOT_FOUND` when there is none.
    #[napi(
        ts_args_type = "request: AccountRef",
        ts_return_type = "Promise<Account>"
    )]
    pub fn get_account(&self, env: &Env, request: Unknown<'_>) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: AccountRef| async move {
            engine.get_account(&request).await
        })
    }

    /// Creates or updates a customer of an existing account (`{ customer: { account_id, id,
    /// tax_address?, tax_exempt? }, actor? }`). Resolves to the customer.
    #[napi(
        ts_args_type = "request: SaveCustomer",
        ts_return_type = "Promise<Customer>"
    )]
    pub fn save_customer(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: SaveCustomer| async move {
            engine.save_customer(&request).await
        })
    }

    /// Creates a plan, or saves its next version (`{ account_id, plan, actor? }`). A standard
    /// plan's `amount` is in minor units (cents); an AI plan's `ai_prompt` is interpreted now.
    /// Rejects with `PROMPT_NOT_UNDERSTOOD` when the prompt is refused (nothing is saved) and
    /// `PLAN_NOT_AVAILABLE` for an AI plan on an account that is not abstracted. Resolves to the
    /// saved version with its pricing program.
    #[napi(
        ts_args_type = "request: SavePlan",
        ts_return_type = "Promise<PlanVersion>"
    )]
    pub fn create_plan(&self, env: &Env, request: Unknown<'_>) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: SavePlan| async move {
            engine.create_plan(&request).await
        })
    }

    /// A plan at a version, the latest by default (`{ account_id, plan_id, version? }`). Rejects
    /// with `NOT_FOUND` when there is none.
    #[napi(
        ts_args_type = "request: PlanQuery",
        ts_return_type = "Promise<PlanVersion>"
    )]
    pub fn get_plan(&self, env: &Env, request: Unknown<'_>) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: PlanQuery| async move {
            engine.get_plan(&request).await
        })
    }

    /// A page of an account's plans, standard and AI alike, each at its latest version, in plan
    /// id order (`{ account_id, after?, limit? }`). Pass `next_after` as `after` for the next
    /// page; it is absent on the last one.
    #[napi(
        ts_args_type = "request: PlanListQuery",
        ts_return_type = "Promise<PlanPage>"
    )]
    pub fn list_plans(&self, env: &Env, request: Unknown<'_>) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: PlanListQuery| async move {
            engine.list_plans(&request).await
        })
    }

    /// Creates a subscription (`{ account_id, id, customer_id, plan_id, quantity, start_date,
    /// actor?, request_id? }`, `start_date` a local `YYYY-MM-DD`, possibly in the past). A plan
    /// billed in advance whose start has come is invoiced now: the answer carries that first
    /// `invoice`.
    #[napi(
        ts_args_type = "request: CreateSubscription",
        ts_return_type = "Promise<CreatedSubscription>"
    )]
    pub fn create_subscription(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(
            env,
            request,
            |engine, request: CreateSubscription| async move {
                engine.create_subscription(&request).await
            },
        )
    }

    /// A subscription (`{ account_id, subscription_id }`). Rejects with `NOT_FOUND` when there is
    /// none.
    #[napi(
        ts_args_type = "request: SubscriptionRef",
        ts_return_type = "Promise<Subscription>"
    )]
    pub fn get_subscription(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: SubscriptionRef| async move {
            engine.get_subscription(&request).await
        })
    }

    /// Changes a subscription's quantity, with no renewal (`{ account_id, subscription_id,
    /// quantity, proration?, effective?, actor?, request_id? }`): from the next invoice issued
    /// (`proration: "none"`, the default), or from `effective` (`"immediately"`, the default, or a
    /// local date) with the days at each quantity billed (`"prorate"`; a period already billed is
    /// settled: a decrease credited, an increase on the next invoice). Resolves to the
    /// subscription.
    #[napi(
        ts_args_type = "request: ChangeQuantity",
        ts_return_type = "Promise<Subscription>"
    )]
    pub fn update_subscription(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: ChangeQuantity| async move {
            engine.update_subscription(&request).await
        })
    }

    /// Cancels a subscription (`{ account_id, subscription_id, effective?, credit_unused?, actor?,
    /// request_id? }`): at the end of its period (`"period_end"`, the default), `"immediately"`
    /// (the next local midnight) or on a local date, never before today (`INVALID_INPUT` naming
    /// `cancel.effective`). The unserved days of a period already billed are credited unless
    /// `credit_unused` is false. Resolves to `{ subscription, credit_note? }`.
    #[napi(
        ts_args_type = "request: CancelSubscription",
        ts_return_type = "Promise<ChangedSubscription>"
    )]
    pub fn cancel_subscription(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(
            env,
            request,
            |engine, request: CancelSubscription| async move {
                engine.cancel_subscription(&request).await
            },
        )
    }

    /// Withdraws a cancellation before it takes effect (`{ account_id, subscription_id, actor?,
    /// request_id? }`); one that has taken effect, or none, rejects with `INVALID_INPUT`. Resolves
    /// to `{ subscription, credit_note? }`.
    #[napi(
        ts_args_type = "request: WithdrawCancel",
        ts_return_type = "Promise<ChangedSubscription>"
    )]
    pub fn withdraw_cancel(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: WithdrawCancel| async move {
            engine.withdraw_cancel(&request).await
        })
    }

    /// Pauses a subscription, a vacation hold (`{ account_id, subscription_id, from, until?,
    /// actor?, request_id? }`): the local days `from` .. `until - 1` are not served (open until a
    /// resume when `until` is absent). A pause overlapping another rejects with `CONFLICT`.
    /// Resolves to `{ subscription, credit_note? }` (a credit note when the days were billed
    /// already).
    #[napi(
        ts_args_type = "request: PauseSubscription",
        ts_return_type = "Promise<ChangedSubscription>"
    )]
    pub fn pause_subscription(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(
            env,
            request,
            |engine, request: PauseSubscription| async move {
                engine.pause_subscription(&request).await
            },
        )
    }

    /// Ends a pause (`{ account_id, subscription_id, on, actor?, request_id? }`): `on` is the first
    /// local day served again (the pause's own first day removes it). Resolves to `{ subscription,
    /// credit_note? }`.
    #[napi(
        ts_args_type = "request: ResumeSubscription",
        ts_return_type = "Promise<ChangedSubscription>"
    )]
    pub fn resume_subscription(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(
            env,
            request,
            |engine, request: ResumeSubscription| async move {
                engine.resume_subscription(&request).await
            },
        )
    }

    /// Moves a subscription to another saved plan (`{ account_id, subscription_id, plan_id,
    /// effective?, actor?, request_id? }`): from the next period (`"period_end"`, the default), or
    /// from `"immediately"` or a local date, where the old plan's billing ends as an immediate
    /// cancellation's would. A plan in another currency rejects with `INVALID_INPUT` naming
    /// `plan.currency`. Resolves to `{ subscription, credit_note? }`.
    #[napi(
        ts_args_type = "request: ChangePlan",
        ts_return_type = "Promise<ChangedSubscription>"
    )]
    pub fn change_plan(&self, env: &Env, request: Unknown<'_>) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: ChangePlan| async move {
            engine.change_plan(&request).await
        })
    }

    /// Releases a held invoice (`{ account_id, invoice_id, reason, actor?, request_id? }`): it is
    /// issued as the program computed it. An invoice that is not held rejects with `CONFLICT`
    /// naming its status, so releasing twice issues it once. Resolves to the invoice, now `open`.
    #[napi(
        ts_args_type = "request: ReleaseInvoice",
        ts_return_type = "Promise<IssuedInvoice>"
    )]
    pub fn release_invoice(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: ReleaseInvoice| async move {
            engine.release_invoice(&request).await
        })
    }

    /// Voids a held or open invoice (`{ account_id, invoice_id, reason, rebill?, actor?,
    /// request_id? }`): its revenue is reversed, and with `rebill: true` its period is billed again
    /// from the current data (a new invoice, a new id). An invoice with credit notes against it
    /// rejects with `CONFLICT` naming them. Resolves to `{ invoice, revenue_reversed, rebilled? }`.
    #[napi(
        ts_args_type = "request: VoidInvoice",
        ts_return_type = "Promise<VoidedInvoice>"
    )]
    pub fn void_invoice(&self, env: &Env, request: Unknown<'_>) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: VoidInvoice| async move {
            engine.void_invoice(&request).await
        })
    }

    /// A manual credit note on an open invoice (`{ account_id, invoice_id, reason, lines?: [{ line,
    /// amount? }], amount?, actor?, request_id? }`, amounts in cents): chosen lines (numbered from
    /// 1) or an amount, never more than is left to credit (`INVALID_INPUT` naming what is left).
    /// Resolves to the credit note.
    #[napi(
        ts_args_type = "request: CreditInvoice",
        ts_return_type = "Promise<CreditNote>"
    )]
    pub fn credit_invoice(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: CreditInvoice| async move {
            engine.credit_invoice(&request).await
        })
    }

    /// The invoice a subscription's next renewal would issue, from the usage so far
    /// (`{ account_id, subscription_id }`). Writes nothing.
    #[napi(
        ts_args_type = "request: SubscriptionRef",
        ts_return_type = "Promise<Invoice>"
    )]
    pub fn preview_next_invoice(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(
            env,
            request,
            |engine, request: SubscriptionRef| async move {
                engine.preview_next_invoice(&request).await
            },
        )
    }

    /// Bills everything due at or before `now` (an RFC 3339 instant; the current time when
    /// absent), then ships the audit trail when the engine ships to OpenSearch. Resolves to what
    /// the run did: subscriptions handled, invoices issued and held, failures.
    #[napi(
        ts_args_type = "request?: RunDueRequest | undefined | null",
        ts_return_type = "Promise<RunDueReport>"
    )]
    pub fn run_due(
        &self,
        env: &Env,
        request: Option<Unknown<'_>>,
    ) -> napi::Result<AsyncBlock<Value>> {
        let request = value::options::<RunDueRequest>("request", request);
        let engine = self.inner.clone();
        promise::answer(env, async move { engine.run_due(&request?).await })
    }

    /// A page of an account's invoices by the filters given, oldest (or newest) first
    /// (`{ account_id, subscription_id?, customer_id?, status?, issued_from?, issued_to?,
    /// order?, limit?, cursor? }`); pass `next_cursor` as `cursor` for the next page.
    #[napi(
        ts_args_type = "request: ListInvoices",
        ts_return_type = "Promise<InvoicePage>"
    )]
    pub fn list_invoices(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: ListInvoices| async move {
            engine.list_invoices(&request).await
        })
    }

    /// The HTML document of a stored invoice (`{ account_id, invoice_id }`): one self-contained
    /// page in the account's locale (inline styles, no script, image or link; print it from a
    /// browser for a PDF), the same page the CLI and the plan builder show. Rejects with
    /// `NOT_FOUND` naming the account or the invoice that is missing.
    #[napi(
        ts_args_type = "request: InvoiceRef",
        ts_return_type = "Promise<string>"
    )]
    pub fn render_invoice(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: InvoiceRef| async move {
            engine.render_invoice(&request).await
        })
    }

    /// The HTML document of a stored credit note (`{ account_id, credit_note_id }`) in the
    /// account's locale: the invoice it credits, why, its lines and tax, and the revenue it
    /// reverses. Rejects with `NOT_FOUND` naming the account or the credit note that is missing.
    #[napi(
        ts_args_type = "request: CreditNoteRef",
        ts_return_type = "Promise<string>"
    )]
    pub fn render_credit_note(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: CreditNoteRef| async move {
            engine.render_credit_note(&request).await
        })
    }

    /// A page of an account's credit notes by the filters given, oldest (or newest) first.
    #[napi(
        ts_args_type = "request: ListCreditNotes",
        ts_return_type = "Promise<CreditNotePage>"
    )]
    pub fn list_credit_notes(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: ListCreditNotes| async move {
            engine.list_credit_notes(&request).await
        })
    }

    /// A page of an account's subscriptions by status, plan or customer, oldest (or newest)
    /// first.
    #[napi(
        ts_args_type = "request: ListSubscriptions",
        ts_return_type = "Promise<SubscriptionPage>"
    )]
    pub fn list_subscriptions(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(
            env,
            request,
            |engine, request: ListSubscriptions| async move {
                engine.list_subscriptions(&request).await
            },
        )
    }

    /// A page of an account's customers, by id.
    #[napi(
        ts_args_type = "request: ListCustomers",
        ts_return_type = "Promise<CustomerPage>"
    )]
    pub fn list_customers(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: ListCustomers| async move {
            engine.list_customers(&request).await
        })
    }

    /// Closes the database connections, waiting for calls in flight. Every later call rejects
    /// with `CLOSED`; closing twice is harmless.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close(&self, env: &Env) -> napi::Result<AsyncBlock<()>> {
        let engine = self.inner.clone();
        promise::spawn(env, async move { engine.close().await })
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }
}

impl BillingEngine {
    /// Reads `request` as an `R` (or rejects with `INVALID_INPUT` naming the field), then gives
    /// the Promise of `operation`'s answer.
    pub(crate) fn call<R, A, F, Fut>(
        &self,
        env: &Env,
        request: Unknown<'_>,
        operation: F,
    ) -> napi::Result<AsyncBlock<Value>>
    where
        R: DeserializeOwned,
        A: Serialize,
        F: FnOnce(Arc<api::BillingEngine>, R) -> Fut,
        Fut: Future<Output = Result<A>> + Send + 'static,
    {
        let call = value::request::<R>("request", request)
            .map(|request| operation(self.inner.clone(), request));
        promise::answer(env, async move { call?.await })
    }
}
