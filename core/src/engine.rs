//! The billing engine: plans, subscriptions and renewals on the ports ([`Store`], [`Interpreter`],
//! [`TaxCalculator`], [`Clock`]).
//!
//! Every invoice, whether at subscription creation, at renewal or in a preview, goes through the
//! same steps ([`period`]): the stored pricing program prices the period, the agent payload is
//! written and validated, tax is computed on the subtotal, revenue is scheduled. What the engine
//! adds is state: which period a subscription owes next, written together with the invoice and
//! its audit events in one store transaction, over the revision it was computed from. So a crash
//! leaves each renewal either done or not started, and two runs at once never bill a period twice.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;

use crate::audit::{AuditAction, AuditEvent, SubjectKind, new_id};
use crate::calendar::BillingCalendar;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::interpreter::{Interpreter, OfflineInterpreter};
use crate::invoice::{Invoice, IssuedInvoice};
use crate::model::LanguageModel;
use crate::plan::{Account, Plan, PlanType, PlanVersion};
use crate::pricing::InvoiceTiming;
use crate::store::{
    ClaimedPage, CommitOutcome, DueQuery, NewSubscription, PlanQuery, Store, SubscriptionCommit,
    UsageRequest,
};
use crate::subscription::{
    BillingReason, Customer, InvoiceStatus, Subscription, SubscriptionStatus, invoice_id,
};
use crate::tax::{NoTax, TaxCalculator};
use crate::usage::PeriodUsage;

pub mod agent;
pub mod period;

pub use agent::BillingMode;
pub use period::{
    MAX_QUANTITY, NO_CHARGE_DESCRIPTION, PricedPeriod, bill_period, check_quantity, price_period,
};

/// How many times a change is recomputed when someone else changed the same subscription first.
const MAX_ATTEMPTS: u32 = 5;

/// How many due subscriptions are read per page of a run.
const DUE_PAGE: u32 = 256;

/// How many due subscriptions a run in the compiled mode claims, bills and writes at once.
const BATCH_PAGE: u32 = 256;

/// The most pages of the compiled mode in flight at once (`concurrency` when it is lower).
const MAX_PAGES_IN_FLIGHT: usize = 2;

/// Where the next page of due subscriptions starts: `Some(None)` at the beginning,
/// `Some(Some(key))` after that (account, id), `None` when there is no next page.
type Cursor = Option<Option<(String, String)>>;

/// After a page of up to `limit` due subscriptions in (account, id) order: `None` when the page
/// is empty (the run is over), else the cursor of the next page, which is `None` when this page
/// came back short (nothing after it).
fn next_cursor(page: &[Subscription], limit: u32) -> Option<Cursor> {
    let last = page.last()?;
    Some((page.len() >= limit as usize).then(|| Some((last.account_id.clone(), last.id.clone()))))
}

/// The actor of billing runs in the audit trail.
pub const SYSTEM_ACTOR: &str = "system";

/// The billing engine. Cheap to clone; every clone shares the same ports.
#[derive(Debug, Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    interpreter: Arc<dyn Interpreter>,
    tax: Arc<dyn TaxCalculator>,
    clock: Arc<dyn Clock>,
    concurrency: usize,
    mode: BillingMode,
    model: Option<Arc<dyn LanguageModel>>,
}

/// A plan to create, or a new version of one.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SavePlan {
    /// The account the plan belongs to.
    pub account_id: String,
    /// The plan in the platform's shape; `id` is required.
    pub plan: Plan,
    /// Who saves it, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
}

/// A subscription to create.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    /// The account.
    pub account_id: String,
    /// The new subscription's id, unique in the account.
    pub id: String,
    /// The customer billed (must exist).
    pub customer_id: String,
    /// The plan (its latest version bills the first invoice).
    pub plan_id: String,
    /// Copies or seats, 1 to [`MAX_QUANTITY`] (1 when absent).
    #[serde(default = "one")]
    pub quantity: u32,
    /// The local date the first period starts; may be in the past or the future.
    pub start_date: NaiveDate,
    /// Who creates it, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
}

/// A created subscription and its first invoice, if it was billed at creation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct CreatedSubscription {
    /// The subscription as stored.
    pub subscription: Subscription,
    /// The first invoice (`billing_reason: subscription_create`), for plans billed in advance
    /// whose start date has come.
    pub invoice: Option<IssuedInvoice>,
}

/// A quantity change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeQuantity {
    /// The account.
    pub account_id: String,
    /// The subscription.
    pub subscription_id: String,
    /// The new quantity, 1 to [`MAX_QUANTITY`].
    pub quantity: u32,
    /// Who changes it, for the audit trail (`api` when absent).
    #[serde(default = "api_actor")]
    pub actor: String,
}

fn api_actor() -> String {
    crate::api::DEFAULT_ACTOR.to_owned()
}

fn one() -> u32 {
    1
}

/// Called after each subscription a run has handled.
pub type ProgressFn = Arc<dyn Fn(&RunReport) + Send + Sync>;

/// A billing run.
#[derive(Clone, Default)]
pub struct RunDue {
    /// Bill everything due at or before this instant; the clock's now when `None`.
    pub now: Option<DateTime<Utc>>,
    /// Told the totals so far after each subscription (for a progress bar).
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for RunDue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunDue")
            .field("now", &self.now)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct RunReport {
    /// The run's id in the audit trail.
    pub run_id: String,
    /// Subscriptions handled.
    pub subscriptions: u64,
    /// Invoices issued.
    pub issued: u64,
    /// Invoices held for review.
    pub held: u64,
    /// Renewals that failed (each left its subscription as it was, with a `renewal_failed` event).
    pub failed: u64,
    /// The first failures: (account id, subscription id, error).
    pub failures: Vec<(String, String, String)>,
}

/// The most failures a [`RunReport`] lists (all are counted, and all are in the audit trail).
const MAX_LISTED_FAILURES: usize = 20;

/// What one subscription's renewals did in a run.
#[derive(Debug, Default)]
struct Renewed {
    issued: u64,
    held: u64,
    failure: Option<Error>,
}

/// One invoice billed (not yet written) and what it was billed from.
#[derive(Debug)]
struct Billed {
    invoice: Invoice,
    usage: Option<(UsageRequest, PeriodUsage)>,
    /// Open, or held when a model's payload disagreed with the program.
    status: InvoiceStatus,
    /// In the agent modes: the model's payload and how it compared with the program.
    cross_check: Option<(crate::agent::AgentPayload, agent::CrossCheck)>,
}

/// One period a subscription owes, planned by [`Engine::plan_owed`].
#[derive(Debug)]
struct Owed {
    /// The subscription's place in its page.
    index: usize,
    /// The subscription before this period is billed.
    state: Subscription,
    /// The subscription after.
    next: Subscription,
    /// The period's usage window, for programs with usage charges.
    usage: Option<UsageRequest>,
    account: Account,
    plan: PlanVersion,
    /// The instant written as the invoice's `created_at` and the state's `updated_at`.
    written_at: DateTime<Utc>,
}

/// What [`Engine::plan_owed`] found.
#[derive(Debug)]
struct Planned {
    owed: Vec<Owed>,
    failure: Option<(Subscription, Error)>,
}

/// Who, in which run and operation, and when: what every event of one operation shares.
#[derive(Debug, Clone, Copy)]
struct Trail<'a> {
    actor: &'a str,
    run_id: Option<&'a str>,
    correlation: &'a str,
    now: DateTime<Utc>,
}

impl<'a> Trail<'a> {
    fn new(
        actor: &'a str,
        run_id: Option<&'a str>,
        correlation: &'a str,
        now: DateTime<Utc>,
    ) -> Self {
        Trail {
            actor,
            run_id,
            correlation,
            now,
        }
    }
}

/// Plans and accounts read once per run.
#[derive(Debug, Default)]
struct RunCache {
    accounts: Mutex<HashMap<String, Account>>,
    plans: Mutex<HashMap<(String, String), PlanVersion>>,
}

impl Engine {
    /// An engine on `store` with the offline interpreter, no tax and the system clock, renewing
    /// up to 4 subscriptions at once.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Engine {
            store,
            interpreter: Arc::new(OfflineInterpreter),
            tax: Arc::new(NoTax),
            clock: Arc::new(SystemClock),
            concurrency: 4,
            mode: BillingMode::Compiled,
            model: None,
        }
    }

    /// The engine writing payloads in `mode`, with `model` for the agent modes. An agent mode
    /// without a model is [`Error::InvalidInput`] on `OPENAI_API_KEY` (never a silent fallback to
    /// the compiled mode).
    pub fn with_mode(
        mut self,
        mode: BillingMode,
        model: Option<Arc<dyn LanguageModel>>,
    ) -> Result<Self> {
        if mode.uses_model() && model.is_none() {
            return Err(Error::invalid(
                "OPENAI_API_KEY",
                format!(
                    "the {} mode calls a language model: set OPENAI_API_KEY (and OPENAI_BASE_URL, OPENAI_MODEL if needed)",
                    mode.as_str()
                ),
            ));
        }
        self.mode = mode;
        self.model = model;
        Ok(self)
    }

    /// How many subscriptions are renewed at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// How payloads are written.
    pub fn mode(&self) -> BillingMode {
        self.mode
    }

    /// The engine with `interpreter` reading AI plans' prompts.
    pub fn with_interpreter(mut self, interpreter: Arc<dyn Interpreter>) -> Self {
        self.interpreter = interpreter;
        self
    }

    /// The engine with `tax` computing every invoice's tax.
    pub fn with_tax(mut self, tax: Arc<dyn TaxCalculator>) -> Self {
        self.tax = tax;
        self
    }

    /// The engine with `clock` telling the time.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The engine renewing up to `concurrency` subscriptions at once (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Creates or replaces an account.
    #[tracing::instrument(name = "save_account", skip_all, fields(account_id = %account.id, actor))]
    pub async fn save_account(&self, account: &Account, actor: &str) -> Result<()> {
        check_id("account.id", &account.id)?;
        let event = AuditEvent::new(
            self.clock.now(),
            &account.id,
            actor,
            AuditAction::AccountSaved,
            SubjectKind::Account,
            &account.id,
        )
        .with_data(json!({ "account": account }));
        self.store.put_account(account, &[event]).await
    }

    /// Creates or replaces a customer of an existing account.
    #[tracing::instrument(name = "save_customer", skip_all, fields(account_id = %customer.account_id, customer_id = %customer.id, actor))]
    pub async fn save_customer(&self, customer: &Customer, actor: &str) -> Result<()> {
        check_id("customer.id", &customer.id)?;
        self.account(&customer.account_id).await?;
        if let Some(address) = &customer.tax_address
            && (address.country.len() != 2
                || !address.country.chars().all(|c| c.is_ascii_uppercase()))
        {
            return Err(Error::invalid(
                "customer.tax_address.country",
                format!(
                    "{:?} is not an ISO 3166-1 alpha-2 code such as US or FR",
                    address.country
                ),
            ));
        }
        let event = AuditEvent::new(
            self.clock.now(),
            &customer.account_id,
            actor,
            AuditAction::CustomerSaved,
            SubjectKind::Customer,
            &customer.id,
        )
        .with_data(json!({ "customer": customer }));
        self.store.put_customer(customer, &[event]).await
    }

    /// Creates a plan, or saves a new version of it when its fields or its program changed.
    ///
    /// An AI plan's prompt is interpreted now, and its program stored with the version: renewals
    /// never read the prompt again. A refused prompt saves nothing and leaves a `prompt_refused`
    /// event. Saving a plan exactly as its latest version returns that version. A new version
    /// cannot change the currency, the interval or when invoices are issued (existing
    /// subscriptions are anchored on them): that is a new plan.
    #[tracing::instrument(name = "save_plan", skip_all, fields(account_id = %request.account_id, plan_id = ?request.plan.id, plan_type = ?request.plan.plan_type, interpreter = self.interpreter.name(), actor = %request.actor))]
    pub async fn save_plan(&self, request: &SavePlan) -> Result<PlanVersion> {
        let plan = &request.plan;
        let plan_id = plan.id.clone().unwrap_or_default();
        check_id("plan.id", &plan_id)?;
        let account = self.account(&request.account_id).await?;
        plan.check_available(&account)?;
        plan.validate()?;
        let now = self.clock.now();
        let correlation = new_id();
        let mut calls = Vec::new();
        let interpreted = match (plan.plan_type, plan.ai_prompt.as_deref()) {
            (PlanType::Ai, Some(prompt)) => {
                let context = plan.interpreter_context()?;
                match self
                    .interpreter
                    .interpret_recorded(prompt, &context, &mut calls)
                    .await
                {
                    Ok(program) => Some(program),
                    Err(error) => {
                        let mut events = self.interpretation_events(
                            &calls,
                            &account.id,
                            &plan_id,
                            &Trail::new(&request.actor, None, &correlation, now),
                        );
                        events.push(
                            AuditEvent::new(
                                now,
                                &account.id,
                                &request.actor,
                                AuditAction::PromptRefused,
                                SubjectKind::Plan,
                                &plan_id,
                            )
                            .correlated(None, &correlation)
                            .with_data(json!({
                                "prompt": prompt,
                                "interpreter": self.interpreter.name(),
                                "error": error.to_string(),
                                "code": error.code().as_str(),
                            })),
                        );
                        self.store.append_events(&events).await?;
                        return Err(error);
                    }
                }
            }
            _ => None,
        };
        let model_events = self.interpretation_events(
            &calls,
            &account.id,
            &plan_id,
            &Trail::new(&request.actor, None, &correlation, now),
        );
        let is_ai = interpreted.is_some();
        let program = plan.compile_with(&account, interpreted)?;

        for _ in 0..MAX_ATTEMPTS {
            let latest = self
                .store
                .plan_version(&PlanQuery {
                    account_id: account.id.clone(),
                    plan_id: plan_id.clone(),
                    version: None,
                })
                .await?;
            if let Some(latest) = &latest {
                if latest.plan == *plan && latest.program == program {
                    self.store.append_events(&model_events).await?;
                    return Ok(latest.clone());
                }
                check_compatible(latest, plan, &program)?;
            }
            let version = PlanVersion {
                account_id: account.id.clone(),
                plan: plan.clone(),
                version: latest.as_ref().map_or(1, |l| l.version + 1),
                program: program.clone(),
                interpreter: is_ai.then(|| self.interpreter.name().to_owned()),
                created_at: now,
            };
            let event = |action| {
                AuditEvent::new(
                    now,
                    &account.id,
                    &request.actor,
                    action,
                    SubjectKind::Plan,
                    &plan_id,
                )
                .correlated(None, &correlation)
            };
            let mut events = model_events.clone();
            if is_ai {
                events.push(event(AuditAction::PromptInterpreted).with_data(json!({
                    "prompt": plan.ai_prompt,
                    "interpreter": self.interpreter.name(),
                    "version": version.version,
                    "program": program,
                    "reading": program.describe(),
                })));
            }
            let action = if version.version == 1 {
                AuditAction::PlanCreated
            } else {
                AuditAction::PlanChanged
            };
            events.push(event(action).with_data(json!({
                "version": version.version,
                "plan": plan,
                "program": program,
                "invoice_timing": program.invoice_timing(),
            })));
            if self.store.insert_plan_version(&version, &events).await? {
                return Ok(version);
            }
        }
        Err(Error::Contended {
            what: "plan",
            id: plan_id,
        })
    }

    /// Creates a subscription. The plan decides when it is first billed: a plan billed in advance
    /// is invoiced now for its first period (`subscription_create`) if that period has started,
    /// or on its start date if it starts later; a plan billed in arrears is first invoiced at the
    /// end of its first period. The decision is in the audit trail (`timing_decided`).
    #[tracing::instrument(name = "create_subscription", skip_all, fields(account_id = %request.account_id, subscription_id = %request.id, plan_id = %request.plan_id, quantity = request.quantity, mode = self.mode.as_str(), actor = %request.actor))]
    pub async fn create_subscription(
        &self,
        request: &CreateSubscription,
    ) -> Result<CreatedSubscription> {
        check_id("subscription.id", &request.id)?;
        check_id("subscription.customer_id", &request.customer_id)?;
        check_quantity(request.quantity)?;
        crate::calendar::check_start_date("subscription.start_date", request.start_date)?;
        let account = self.account(&request.account_id).await?;
        let customer = self.customer(&account.id, &request.customer_id).await?;
        let plan = self.latest_plan(&account.id, &request.plan_id).await?;
        let program = &plan.program;
        let calendar =
            BillingCalendar::new(request.start_date, program.interval, account.timezone)?;
        let first = calendar.period(1)?;
        let now = self.clock.now();
        let start_at = calendar.local_midnight(first.start).to_utc();
        let correlation = new_id();
        let timing = program.invoice_timing();

        let mut subscription = Subscription {
            account_id: account.id.clone(),
            id: request.id.clone(),
            customer_id: customer.id.clone(),
            plan_id: plan.plan_id().to_owned(),
            quantity: request.quantity,
            start_date: request.start_date,
            status: SubscriptionStatus::Active,
            current_period: 1,
            current_period_start: first.start,
            current_period_end: first.end,
            next_invoice_period: 1,
            next_invoice_at: Some(match timing {
                InvoiceTiming::AtStart => start_at,
                InvoiceTiming::AtRenewal => calendar.local_midnight(first.end).to_utc(),
            }),
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        let event = |action, kind, id: &str| {
            AuditEvent::new(now, &account.id, &request.actor, action, kind, id)
                .correlated(None, &correlation)
        };
        let mut events = vec![
            event(
                AuditAction::SubscriptionCreated,
                SubjectKind::Subscription,
                &request.id,
            )
            .with_data(json!({
                "customer_id": customer.id,
                "plan_id": plan.plan_id(),
                "plan_version": plan.version,
                "quantity": request.quantity,
                "start_date": request.start_date,
            })),
        ];
        let bill_now = timing == InvoiceTiming::AtStart && start_at <= now;
        events.push(
            event(
                AuditAction::TimingDecided,
                SubjectKind::Subscription,
                &request.id,
            )
            .with_data(json!({
                "invoice_timing": timing,
                "first_invoice": if bill_now { "now" } else { "later" },
                "first_invoice_at": if bill_now { Some(now) } else { subscription.next_invoice_at },
                "plan_version": plan.version,
            })),
        );
        let mut invoice = None;
        if bill_now {
            let mut calls = Vec::new();
            let billed = match self
                .bill(&account, &customer, &plan, &subscription, 1, &mut calls)
                .await
            {
                Ok(billed) => billed,
                Err(error) => {
                    // Nothing of the subscription is written; the trail keeps the model's
                    // answers and why the first invoice failed.
                    let mut trail = self.model_events(
                        &calls,
                        &subscription,
                        &Trail::new(&request.actor, None, &correlation, now),
                    );
                    trail.push(
                        event(
                            AuditAction::RenewalFailed,
                            SubjectKind::Subscription,
                            &request.id,
                        )
                        .with_data(json!({
                            "stage": "subscription_create",
                            "period": 1,
                            "error": error.to_string(),
                            "code": error.code().as_str(),
                        })),
                    );
                    self.store.append_events(&trail).await?;
                    return Err(error);
                }
            };
            let issued = self.issued(
                &subscription,
                &plan,
                billed.invoice,
                billed.status,
                BillingReason::SubscriptionCreate,
                now,
            );
            events.extend(self.model_events(
                &calls,
                &subscription,
                &Trail::new(&request.actor, None, &correlation, now),
            ));
            events.extend(self.billing_events(
                &issued,
                billed.usage.as_ref(),
                billed.cross_check.as_ref(),
                &Trail::new(&request.actor, None, &correlation, now),
            ));
            subscription = advance(&subscription, &calendar, timing, &plan.plan, now)?;
            // Creation writes revision 1.
            subscription.revision = 1;
            invoice = Some(issued);
        }
        self.store
            .insert_subscription(&NewSubscription {
                subscription: subscription.clone(),
                invoice: invoice.clone(),
                events,
            })
            .await?;
        Ok(CreatedSubscription {
            subscription,
            invoice,
        })
    }

    /// Changes a subscription's quantity now, with no renewal: the next invoice issued bills the
    /// new quantity. The change is audited with who made it, when, and the old and new values.
    #[tracing::instrument(name = "change_quantity", skip_all, fields(account_id = %request.account_id, subscription_id = %request.subscription_id, quantity = request.quantity, actor = %request.actor))]
    pub async fn change_quantity(&self, request: &ChangeQuantity) -> Result<Subscription> {
        check_quantity(request.quantity)?;
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .subscription(&request.account_id, &request.subscription_id)
                .await?;
            if current.quantity == request.quantity {
                return Ok(current);
            }
            let now = self.clock.now();
            let mut changed = current.clone();
            changed.quantity = request.quantity;
            changed.revision = current.revision + 1;
            changed.updated_at = now;
            let event = AuditEvent::new(
                now,
                &current.account_id,
                &request.actor,
                AuditAction::QuantityChanged,
                SubjectKind::Subscription,
                &current.id,
            )
            .correlated(None, &new_id())
            .with_data(json!({
                "old_quantity": current.quantity,
                "new_quantity": request.quantity,
                "effective_from_period": current.next_invoice_period,
                "next_invoice_at": current.next_invoice_at,
            }));
            let outcome = self
                .store
                .commit(&SubscriptionCommit {
                    expected_revision: current.revision,
                    subscription: changed.clone(),
                    invoice: None,
                    events: vec![event],
                })
                .await?;
            if outcome == CommitOutcome::Committed {
                return Ok(changed);
            }
        }
        Err(Error::Contended {
            what: "subscription",
            id: request.subscription_id.clone(),
        })
    }

    /// The next invoice of a subscription, as it would be issued now (with the usage recorded so
    /// far for a plan billed in arrears), without writing anything.
    #[tracing::instrument(name = "preview_next", skip(self))]
    pub async fn preview_next(&self, account_id: &str, subscription_id: &str) -> Result<Invoice> {
        let subscription = self.subscription(account_id, subscription_id).await?;
        if subscription.status == SubscriptionStatus::Ended {
            return Err(Error::invalid(
                "subscription.status",
                format!("subscription {subscription_id:?} has ended and owes no more invoices"),
            ));
        }
        let account = self.account(account_id).await?;
        let customer = self.customer(account_id, &subscription.customer_id).await?;
        let plan = self.latest_plan(account_id, &subscription.plan_id).await?;
        let billed = self
            .bill(
                &account,
                &customer,
                &plan,
                &subscription,
                subscription.next_invoice_period,
                &mut Vec::new(),
            )
            .await?;
        Ok(billed.invoice)
    }

    /// Renews one subscription as [`Engine::run_due`] would at `now` (every period it owes, in
    /// order), but ends with the renewal's error when one fails (after recording it) instead of
    /// counting it: for callers that bill one subscription and must know why it failed.
    pub async fn renew_subscription(
        &self,
        account_id: &str,
        subscription_id: &str,
        now: DateTime<Utc>,
    ) -> Result<RunReport> {
        let subscription = self.subscription(account_id, subscription_id).await?;
        let run_id = new_id();
        let renewed = self
            .renew(subscription, now, &run_id, &RunCache::default())
            .await;
        if let Some(error) = renewed.failure {
            return Err(error);
        }
        Ok(RunReport {
            run_id,
            subscriptions: 1,
            issued: renewed.issued,
            held: renewed.held,
            ..RunReport::default()
        })
    }

    /// Renews every subscription whose next invoice is due at `request.now` (the clock's now by
    /// default), catching up every period it owes, in one store transaction per invoice.
    ///
    /// Resumable and safe to run twice or at once: a period already billed is never billed again,
    /// and one that is due is never skipped. A renewal that fails leaves its subscription as it
    /// was, writes a `renewal_failed` event, and the run goes on with the next subscription.
    /// Errors of the run itself (the store cannot list due subscriptions) end it.
    #[tracing::instrument(name = "run_due", skip_all, fields(now = ?request.now, run_id = tracing::field::Empty, mode = self.mode.as_str()))]
    pub async fn run_due(&self, request: &RunDue) -> Result<RunReport> {
        let now = request.now.unwrap_or_else(|| self.clock.now());
        let mut report = RunReport {
            run_id: new_id(),
            ..RunReport::default()
        };
        tracing::Span::current().record("run_id", report.run_id.as_str());
        let cache = RunCache::default();
        let run_id = report.run_id.clone();
        if !self.mode.uses_model() {
            self.run_pages(request, now, &Arc::new(cache), &mut report)
                .await?;
            tracing::info!(
                subscriptions = report.subscriptions,
                issued = report.issued,
                failed = report.failed,
                "run finished"
            );
            return Ok(report);
        }
        // The agent modes: one subscription at a time per slot, since each renewal waits on a
        // model. Due subscriptions as one stream, the next page read while the last renewals of the
        // previous one are still in flight, so no renewal slot idles at a page boundary.
        // The page futures own a clone of the engine (a few `Arc`s): a future borrowing `self`
        // from inside the closure is not provably `Send` to rustc.
        let engine = self.clone();
        let due = stream::try_unfold(Some(None), move |cursor| {
            let engine = engine.clone();
            async move { engine.due_page(now, cursor).await }
        })
        .map_ok(|page| stream::iter(page.into_iter().map(Ok::<_, Error>)))
        .try_flatten();
        let results = due
            .map(|subscription| {
                let (cache, run_id) = (&cache, run_id.as_str());
                async move {
                    let subscription = subscription?;
                    let key = (subscription.account_id.clone(), subscription.id.clone());
                    Ok::<_, Error>((key, self.renew(subscription, now, run_id, cache).await))
                }
            })
            .buffer_unordered(self.concurrency);
        let mut results = std::pin::pin!(results);
        while let Some(result) = results.next().await {
            let ((account_id, subscription_id), renewed) = result?;
            report.subscriptions += 1;
            report.issued += renewed.issued;
            report.held += renewed.held;
            if let Some(failure) = renewed.failure {
                report.failed += 1;
                if report.failures.len() < MAX_LISTED_FAILURES {
                    report
                        .failures
                        .push((account_id, subscription_id, failure.to_string()));
                }
            }
            if let Some(progress) = &request.progress {
                progress(&report);
            }
        }
        tracing::info!(
            subscriptions = report.subscriptions,
            issued = report.issued,
            failed = report.failed,
            "run finished"
        );
        Ok(report)
    }

    /// The page of due subscriptions after `cursor` and the cursor of the next (`None` once a
    /// page comes back short). A named `async fn` rather than a closure's async block, so the
    /// run's future is `Send` (`core/tests/send.rs`) and can run on any multi-thread runtime.
    async fn due_page(
        &self,
        now: DateTime<Utc>,
        cursor: Cursor,
    ) -> Result<Option<(Vec<Subscription>, Cursor)>> {
        let Some(after) = cursor else {
            return Ok(None);
        };
        let page = self
            .store
            .due_subscriptions(&DueQuery {
                due_by: now,
                after,
                limit: DUE_PAGE,
            })
            .await?;
        Ok(next_cursor(&page, DUE_PAGE).map(|next| (page, next)))
    }

    /// As [`Engine::due_page`], claiming the page ([`Store::claim_due`]).
    async fn claim_page(
        &self,
        now: DateTime<Utc>,
        cursor: Cursor,
    ) -> Result<Option<(ClaimedPage, Cursor)>> {
        let Some(after) = cursor else {
            return Ok(None);
        };
        let page = self
            .store
            .claim_due(&DueQuery {
                due_by: now,
                after,
                limit: BATCH_PAGE,
            })
            .await?;
        Ok(next_cursor(&page.subscriptions, BATCH_PAGE).map(|next| (page, next)))
    }

    /// The compiled mode's run: pages of due subscriptions claimed from the store, each page
    /// read, billed and written in a few statements ([`Engine::renew_page`]), several pages in
    /// flight at once. A second pass from the start picks up what the first skipped because
    /// another run held it and then let it go (a page rolled back, a process killed); the
    /// subscriptions that failed in this run are not tried again.
    async fn run_pages(
        &self,
        request: &RunDue,
        now: DateTime<Utc>,
        cache: &Arc<RunCache>,
        report: &mut RunReport,
    ) -> Result<()> {
        let run_id = report.run_id.clone();
        let mut failed: HashSet<(String, String)> = HashSet::new();
        for pass in 0..2 {
            let renewed_before = report.subscriptions;
            let engine = self.clone();
            let claims = stream::try_unfold(Some(None), move |cursor| {
                let engine = engine.clone();
                async move { engine.claim_page(now, cursor).await }
            });
            // The failures of the passes before (few): not tried again in this run.
            let failed_before = &failed.clone();
            let mut failed_now = Vec::new();
            let results = claims
                .map(|page| {
                    let run_id = run_id.as_str();
                    async move {
                        let mut page = page?;
                        page.subscriptions.retain(|subscription| {
                            !failed_before.contains(&(
                                subscription.account_id.clone(),
                                subscription.id.clone(),
                            ))
                        });
                        let engine = self.clone();
                        let (cache, run_id) = (cache.clone(), run_id.to_owned());
                        let work =
                            async move { engine.renew_page(page, now, &run_id, &cache).await };
                        // On a multi-thread runtime each page is a task of its own, so billing
                        // (pricing, tax, the events' JSON) runs on every core; elsewhere the
                        // page runs here.
                        Ok::<_, Error>(match tokio::runtime::Handle::try_current() {
                            Ok(runtime)
                                if runtime.runtime_flavor()
                                    == tokio::runtime::RuntimeFlavor::MultiThread =>
                            {
                                match runtime.spawn(work).await {
                                    Ok(renewed) => renewed,
                                    Err(error) if error.is_panic() => {
                                        std::panic::resume_unwind(error.into_panic())
                                    }
                                    Err(error) => {
                                        return Err(Error::Storage {
                                            action: "renewing a page of subscriptions".into(),
                                            source: Box::new(error),
                                        });
                                    }
                                }
                            }
                            _ => work.await,
                        })
                    }
                })
                .buffer_unordered(self.concurrency.min(MAX_PAGES_IN_FLIGHT));
            let mut results = std::pin::pin!(results);
            while let Some(result) = results.next().await {
                for ((account_id, subscription_id), renewed) in result? {
                    report.subscriptions += 1;
                    report.issued += renewed.issued;
                    report.held += renewed.held;
                    if let Some(failure) = renewed.failure {
                        report.failed += 1;
                        if report.failures.len() < MAX_LISTED_FAILURES {
                            report.failures.push((
                                account_id.clone(),
                                subscription_id.clone(),
                                failure.to_string(),
                            ));
                        }
                        failed_now.push((account_id, subscription_id));
                    }
                    if let Some(progress) = &request.progress {
                        progress(report);
                    }
                }
            }
            failed.extend(failed_now);
            if pass == 0 && report.subscriptions == renewed_before {
                // Nothing was due: there is nothing a second pass could find.
                break;
            }
        }
        Ok(())
    }

    /// Renews a claimed page: the customers in one read, every period each subscription owes
    /// planned without I/O, the usage of all of them in one call, each invoice billed, and all
    /// of it written in one [`Store::commit_claimed`] (each renewal atomic on its own). A
    /// renewal the store did not take as it was (someone changed the subscription, the period
    /// was billed, the store failed) is done again one subscription at a time by
    /// [`Engine::renew`], from the subscription as it is then.
    async fn renew_page(
        &self,
        page: ClaimedPage,
        now: DateTime<Utc>,
        run_id: &str,
        cache: &RunCache,
    ) -> Vec<((String, String), Renewed)> {
        let subscriptions = page.subscriptions.clone();
        let count = subscriptions.len();
        let mut results: Vec<Renewed> = (0..count).map(|_| Renewed::default()).collect();
        let keys: Vec<(String, String)> = subscriptions
            .iter()
            .map(|s| (s.account_id.clone(), s.customer_id.clone()))
            .collect();
        let customers = match self.store.customers(&keys).await {
            Ok(customers) if customers.len() == count => customers,
            _ => {
                drop(page);
                return self
                    .renew_again(
                        subscriptions,
                        vec![true; count],
                        results,
                        now,
                        run_id,
                        cache,
                    )
                    .await;
            }
        };

        // Every period each subscription owes, and the usage window of each.
        let mut owed: Vec<Owed> = Vec::new();
        let mut failures: Vec<Option<(Subscription, Error)>> = (0..count).map(|_| None).collect();
        let written_at = self.clock.now();
        for (index, subscription) in subscriptions.iter().enumerate() {
            let planned = self
                .plan_owed(
                    subscription,
                    customers[index].as_ref(),
                    now,
                    written_at,
                    cache,
                )
                .await;
            for item in planned.owed {
                owed.push(Owed { index, ..item });
            }
            failures[index] = planned.failure;
        }
        let requests: Vec<UsageRequest> = owed.iter().filter_map(|o| o.usage.clone()).collect();
        let mut usages = match self.store.usage_many(&requests).await {
            Ok(usages) if usages.len() == requests.len() => usages.into_iter(),
            _ => {
                drop(page);
                return self
                    .renew_again(
                        subscriptions,
                        vec![true; count],
                        results,
                        now,
                        run_id,
                        cache,
                    )
                    .await;
            }
        };

        // Bill each period; a subscription stops at its first failure (what it owed before
        // is still written), as it would renewing one period at a time.
        let mut commits = Vec::with_capacity(owed.len());
        let mut commit_of = Vec::with_capacity(owed.len());
        let mut statuses = Vec::with_capacity(owed.len());
        for item in owed {
            let usage = match &item.usage {
                Some(request) => usages
                    .next()
                    .map(|usage| usage.map(|usage| Some((request.clone(), usage)))),
                None => Some(Ok(None)),
            };
            if failures[item.index].is_some() {
                continue;
            }
            let billed = match usage {
                Some(Ok(usage)) => {
                    self.bill_owed(&item, usage, &customers, cache, run_id)
                        .await
                }
                Some(Err(error)) => Err(error),
                None => Err(Error::overflow("the usage of a page")),
            };
            match billed {
                Ok((commit, status)) => {
                    commits.push(commit);
                    commit_of.push(item.index);
                    statuses.push(status);
                }
                Err(error) => failures[item.index] = Some((item.state, error)),
            }
        }

        let mut again = vec![false; count];
        match self.store.commit_claimed(page, &commits).await {
            Ok(outcomes) if outcomes.len() == commits.len() => {
                for ((outcome, index), status) in outcomes.into_iter().zip(commit_of).zip(statuses)
                {
                    match outcome {
                        Ok(CommitOutcome::Committed) => match status {
                            InvoiceStatus::Open => results[index].issued += 1,
                            InvoiceStatus::Held => results[index].held += 1,
                        },
                        Ok(_) | Err(_) => again[index] = true,
                    }
                }
            }
            _ => again = vec![true; count],
        }
        for (index, failure) in failures.into_iter().enumerate() {
            if again[index] {
                continue;
            }
            if let Some((state, error)) = failure {
                tracing::warn!(
                    account_id = %state.account_id,
                    subscription_id = %state.id,
                    period = state.next_invoice_period,
                    %error,
                    "renewal failed"
                );
                self.record_failure(&state, &error, run_id, &new_id(), &[])
                    .await;
                results[index].failure = Some(error);
            }
        }
        self.renew_again(subscriptions, again, results, now, run_id, cache)
            .await
    }

    /// The page's results, after renewing again, one at a time from its state in the store, each
    /// subscription marked in `again`.
    async fn renew_again(
        &self,
        subscriptions: Vec<Subscription>,
        again: Vec<bool>,
        mut results: Vec<Renewed>,
        now: DateTime<Utc>,
        run_id: &str,
        cache: &RunCache,
    ) -> Vec<((String, String), Renewed)> {
        let mut out = Vec::with_capacity(subscriptions.len());
        for ((subscription, again), mut result) in
            subscriptions.into_iter().zip(again).zip(results.drain(..))
        {
            if again {
                match self
                    .store
                    .subscription(&subscription.account_id, &subscription.id)
                    .await
                {
                    Ok(Some(current)) => {
                        let renewed = self.renew(current, now, run_id, cache).await;
                        result.issued += renewed.issued;
                        result.held += renewed.held;
                        result.failure = renewed.failure;
                    }
                    Ok(None) => {}
                    Err(error) => result.failure = Some(error),
                }
            }
            out.push(((subscription.account_id, subscription.id), result));
        }
        out
    }

    /// Every period `subscription` owes at `now`, planned from its state alone: each period's
    /// state before it is billed and its usage window. Stops at the first period that cannot be
    /// planned (its failure is returned with the state it failed in).
    async fn plan_owed(
        &self,
        subscription: &Subscription,
        customer: Option<&Customer>,
        now: DateTime<Utc>,
        written_at: DateTime<Utc>,
        cache: &RunCache,
    ) -> Planned {
        let mut planned = Planned {
            owed: Vec::new(),
            failure: None,
        };
        let mut state = subscription.clone();
        let setup = async {
            let account = self.cached_account(cache, &subscription.account_id).await?;
            let plan = self
                .cached_plan(cache, &subscription.account_id, &subscription.plan_id)
                .await?;
            if customer.is_none() {
                return Err(Error::not_found(
                    "customer",
                    subscription.customer_id.clone(),
                ));
            }
            let calendar = BillingCalendar::new(
                subscription.start_date,
                plan.program.interval,
                account.timezone,
            )?;
            Ok((account, plan, calendar))
        };
        let (account, plan, calendar) = match setup.await {
            Ok(setup) => setup,
            Err(error) => {
                planned.failure = Some((state, error));
                return planned;
            }
        };
        while state.status == SubscriptionStatus::Active
            && state.next_invoice_at.is_some_and(|at| at <= now)
        {
            let next = usage_request(&account, &plan, &state, state.next_invoice_period).and_then(
                |usage| {
                    let next = advance(
                        &state,
                        &calendar,
                        plan.program.invoice_timing(),
                        &plan.plan,
                        written_at,
                    )?;
                    Ok((usage, next))
                },
            );
            match next {
                Ok((usage, next)) => {
                    planned.owed.push(Owed {
                        index: 0,
                        state: state.clone(),
                        next: next.clone(),
                        usage,
                        account: account.clone(),
                        plan: plan.clone(),
                        written_at,
                    });
                    state = next;
                }
                Err(error) => {
                    planned.failure = Some((state, error));
                    break;
                }
            }
        }
        planned
    }

    /// Bills one planned period from its usage: the commit that writes it, and its status.
    async fn bill_owed(
        &self,
        item: &Owed,
        usage: Option<(UsageRequest, PeriodUsage)>,
        customers: &[Option<Customer>],
        _cache: &RunCache,
        run_id: &str,
    ) -> Result<(SubscriptionCommit, InvoiceStatus)> {
        let customer = customers[item.index]
            .as_ref()
            .ok_or_else(|| Error::not_found("customer", item.state.customer_id.clone()))?;
        let state = &item.state;
        let billed = self
            .bill_with_usage(
                &item.account,
                customer,
                &item.plan,
                state,
                state.next_invoice_period,
                usage,
                &mut Vec::new(),
            )
            .await?;
        let reason = if state.next_invoice_period == 1 {
            BillingReason::SubscriptionCreate
        } else {
            BillingReason::SubscriptionCycle
        };
        let issued = self.issued(
            state,
            &item.plan,
            billed.invoice,
            billed.status,
            reason,
            item.written_at,
        );
        let status = issued.status;
        let correlation = new_id();
        let events = self.billing_events(
            &issued,
            billed.usage.as_ref(),
            billed.cross_check.as_ref(),
            &Trail::new(SYSTEM_ACTOR, Some(run_id), &correlation, item.written_at),
        );
        Ok((
            SubscriptionCommit {
                expected_revision: state.revision,
                subscription: item.next.clone(),
                invoice: Some(issued),
                events,
            },
            status,
        ))
    }

    /// Renews one subscription until it owes nothing due at `now`, or a renewal fails.
    async fn renew(
        &self,
        mut subscription: Subscription,
        now: DateTime<Utc>,
        run_id: &str,
        cache: &RunCache,
    ) -> Renewed {
        let mut renewed = Renewed::default();
        let mut conflicts = 0;
        while subscription.status == SubscriptionStatus::Active
            && subscription.next_invoice_at.is_some_and(|at| at <= now)
        {
            let correlation = new_id();
            let mut calls = Vec::new();
            match self
                .renew_once(&subscription, run_id, &correlation, cache, &mut calls)
                .await
            {
                Ok((CommitOutcome::Committed, Some(next), status)) => {
                    match status {
                        InvoiceStatus::Open => renewed.issued += 1,
                        InvoiceStatus::Held => renewed.held += 1,
                    }
                    subscription = next;
                    conflicts = 0;
                }
                Ok((_, _, _)) => {
                    // Someone else changed the subscription or billed the period first: read it
                    // again and carry on from where it is now.
                    conflicts += 1;
                    let reread = self
                        .store
                        .subscription(&subscription.account_id, &subscription.id)
                        .await;
                    match reread {
                        Ok(Some(current)) if conflicts < MAX_ATTEMPTS => subscription = current,
                        Ok(Some(_)) => {
                            let error = Error::Contended {
                                what: "subscription",
                                id: subscription.id.clone(),
                            };
                            self.record_failure(
                                &subscription,
                                &error,
                                run_id,
                                &correlation,
                                &calls,
                            )
                            .await;
                            renewed.failure = Some(error);
                            break;
                        }
                        Ok(None) => break,
                        Err(error) => {
                            renewed.failure = Some(error);
                            break;
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(
                        account_id = %subscription.account_id,
                        subscription_id = %subscription.id,
                        period = subscription.next_invoice_period,
                        %error,
                        "renewal failed"
                    );
                    self.record_failure(&subscription, &error, run_id, &correlation, &calls)
                        .await;
                    renewed.failure = Some(error);
                    break;
                }
            }
        }
        renewed
    }

    /// Bills the period a subscription owes and commits it with the next state.
    #[tracing::instrument(name = "renewal", skip_all, fields(account_id = %subscription.account_id, subscription_id = %subscription.id, period = subscription.next_invoice_period, run_id, correlation, mode = self.mode.as_str()))]
    async fn renew_once(
        &self,
        subscription: &Subscription,
        run_id: &str,
        correlation: &str,
        cache: &RunCache,
        calls: &mut Vec<agent::AgentCall>,
    ) -> Result<(CommitOutcome, Option<Subscription>, InvoiceStatus)> {
        let account = self.cached_account(cache, &subscription.account_id).await?;
        let plan = self
            .cached_plan(cache, &subscription.account_id, &subscription.plan_id)
            .await?;
        let customer = self
            .customer(&subscription.account_id, &subscription.customer_id)
            .await?;
        let program = &plan.program;
        let calendar =
            BillingCalendar::new(subscription.start_date, program.interval, account.timezone)?;
        let billed = self
            .bill(
                &account,
                &customer,
                &plan,
                subscription,
                subscription.next_invoice_period,
                calls,
            )
            .await?;
        let now = self.clock.now();
        let reason = if subscription.next_invoice_period == 1 {
            BillingReason::SubscriptionCreate
        } else {
            BillingReason::SubscriptionCycle
        };
        let issued = self.issued(
            subscription,
            &plan,
            billed.invoice,
            billed.status,
            reason,
            now,
        );
        let status = issued.status;
        let mut events = self.model_events(
            calls,
            subscription,
            &Trail::new(SYSTEM_ACTOR, Some(run_id), correlation, now),
        );
        events.extend(self.billing_events(
            &issued,
            billed.usage.as_ref(),
            billed.cross_check.as_ref(),
            &Trail::new(SYSTEM_ACTOR, Some(run_id), correlation, now),
        ));
        let next = advance(
            subscription,
            &calendar,
            program.invoice_timing(),
            &plan.plan,
            now,
        )?;
        let outcome = self
            .store
            .commit(&SubscriptionCommit {
                expected_revision: subscription.revision,
                subscription: next.clone(),
                invoice: Some(issued),
                events,
            })
            .await?;
        Ok((outcome, Some(next), status))
    }

    /// Writes a `renewal_failed` event; a store that cannot even take that is logged.
    async fn record_failure(
        &self,
        subscription: &Subscription,
        error: &Error,
        run_id: &str,
        correlation: &str,
        calls: &[agent::AgentCall],
    ) {
        let now = self.clock.now();
        let mut events = self.model_events(
            calls,
            subscription,
            &Trail::new(SYSTEM_ACTOR, Some(run_id), correlation, now),
        );
        let event = AuditEvent::new(
            now,
            &subscription.account_id,
            SYSTEM_ACTOR,
            AuditAction::RenewalFailed,
            SubjectKind::Subscription,
            &subscription.id,
        )
        .correlated(Some(run_id), correlation)
        .with_data(json!({
            "period": subscription.next_invoice_period,
            "quantity": subscription.quantity,
            "revision": subscription.revision,
            "error": error.to_string(),
            "code": error.code().as_str(),
        }));
        events.push(event);
        if let Err(store_error) = self.store.append_events(&events).await {
            tracing::error!(
                account_id = %subscription.account_id,
                subscription_id = %subscription.id,
                %error,
                %store_error,
                "a failed renewal could not be recorded in the audit outbox"
            );
        }
    }

    /// Bills period `index` of `subscription`: usage through the plan's query (for programs with
    /// usage charges), the priced period, the customer's tax.
    async fn bill(
        &self,
        account: &Account,
        customer: &Customer,
        plan: &PlanVersion,
        subscription: &Subscription,
        index: u32,
        calls: &mut Vec<agent::AgentCall>,
    ) -> Result<Billed> {
        let usage = match usage_request(account, plan, subscription, index)? {
            Some(request) => {
                let usage = self.store.usage(&request).await?;
                Some((request, usage))
            }
            None => None,
        };
        self.bill_with_usage(account, customer, plan, subscription, index, usage, calls)
            .await
    }

    /// Bills period `index` of `subscription` from its usage, already read (`None` for programs
    /// without usage charges): the priced period, the agent payload, the customer's tax.
    #[allow(clippy::too_many_arguments)]
    async fn bill_with_usage(
        &self,
        account: &Account,
        customer: &Customer,
        plan: &PlanVersion,
        subscription: &Subscription,
        index: u32,
        usage: Option<(UsageRequest, PeriodUsage)>,
        calls: &mut Vec<agent::AgentCall>,
    ) -> Result<Billed> {
        let program = &plan.program;
        let calendar =
            BillingCalendar::new(subscription.start_date, program.interval, account.timezone)?;
        let period = calendar.period(index)?;
        let priced = price_period(
            program,
            &calendar,
            &period,
            subscription.quantity,
            usage
                .as_ref()
                .map(|(_, u)| u)
                .unwrap_or(&PeriodUsage::default()),
        )?;
        let (priced, status, cross_check) = match &self.model {
            Some(model) if self.mode.uses_model() => {
                let input = agent::AgentInput {
                    rule: plan
                        .plan
                        .ai_prompt
                        .clone()
                        .unwrap_or_else(|| program.describe()),
                    quantity: subscription.quantity,
                    period: &period,
                    calendar: &calendar,
                    currency: program.currency,
                    usage: usage.as_ref().map(|(_, u)| u),
                };
                let payload = agent::ask(model.as_ref(), &input, calls).await?;
                let check =
                    agent::cross_check(self.mode, &payload, &priced.line_items, program.currency);
                if check.agrees {
                    let lines = agent::model_lines(&payload, program.currency, &priced.line_items)?;
                    let priced = priced.with_lines(payload.clone(), lines)?;
                    (priced, InvoiceStatus::Open, Some((payload, check)))
                } else {
                    // Held for review with the program's lines: releasing it can never bill
                    // what the model got wrong.
                    (priced, InvoiceStatus::Held, Some((payload, check)))
                }
            }
            _ => (priced, InvoiceStatus::Open, None),
        };
        let request = priced
            .tax_request()
            .with_address(customer.tax_address.clone())
            .with_exempt(customer.tax_exempt)
            .with_inclusive(account.tax_inclusive);
        let taxed = self.tax.compute(&request).await?;
        Ok(Billed {
            invoice: priced.finish(taxed)?,
            usage,
            status,
            cross_check,
        })
    }

    /// One `model_called` event per call of an agent exchange: the answer, tokens, latency,
    /// attempts and why it was not accepted. Requests hold only the rule and numbers; no secret
    /// ever reaches them.
    fn model_events(
        &self,
        calls: &[agent::AgentCall],
        subscription: &Subscription,
        trail: &Trail<'_>,
    ) -> Vec<AuditEvent> {
        let Trail {
            actor,
            run_id,
            correlation,
            now,
        } = *trail;
        calls
            .iter()
            .map(|call| {
                let response = call.response.as_ref();
                AuditEvent::new(
                    now,
                    &subscription.account_id,
                    actor,
                    AuditAction::ModelCalled,
                    SubjectKind::Subscription,
                    &subscription.id,
                )
                .correlated(run_id, correlation)
                .with_data(json!({
                    "purpose": "agent_payload",
                    "mode": self.mode.as_str(),
                    "model": self.model.as_ref().map(|m| m.name().to_owned()),
                    "period": subscription.next_invoice_period,
                    "attempt": call.attempt,
                    "answer": response.map(|r| &r.answer),
                    "answered_by": response.map(|r| &r.model),
                    "prompt_tokens": response.map(|r| r.usage.prompt_tokens),
                    "completion_tokens": response.map(|r| r.usage.completion_tokens),
                    "http_attempts": response.map(|r| r.attempts),
                    "latency_ms": response.map(|r| r.latency_ms),
                    "problems": call.problems,
                    "error": call.error,
                }))
            })
            .collect()
    }

    fn issued(
        &self,
        subscription: &Subscription,
        plan: &PlanVersion,
        invoice: Invoice,
        status: InvoiceStatus,
        billing_reason: BillingReason,
        now: DateTime<Utc>,
    ) -> IssuedInvoice {
        IssuedInvoice {
            id: invoice_id(&subscription.id, invoice.period_start),
            account_id: subscription.account_id.clone(),
            subscription_id: subscription.id.clone(),
            customer_id: subscription.customer_id.clone(),
            plan_id: plan.plan_id().to_owned(),
            plan_version: plan.version,
            quantity: subscription.quantity,
            billing_reason,
            status,
            created_at: now,
            invoice,
        }
    }

    /// One `model_called` event per answer a model gave while reading a plan prompt.
    fn interpretation_events(
        &self,
        calls: &[crate::model::ModelResponse],
        account_id: &str,
        plan_id: &str,
        trail: &Trail<'_>,
    ) -> Vec<AuditEvent> {
        calls
            .iter()
            .enumerate()
            .map(|(i, response)| {
                AuditEvent::new(
                    trail.now,
                    account_id,
                    trail.actor,
                    AuditAction::ModelCalled,
                    SubjectKind::Plan,
                    plan_id,
                )
                .correlated(trail.run_id, trail.correlation)
                .with_data(json!({
                    "purpose": "interpret_prompt",
                    "interpreter": self.interpreter.name(),
                    "attempt": i + 1,
                    "answer": response.answer,
                    "answered_by": response.model,
                    "prompt_tokens": response.usage.prompt_tokens,
                    "completion_tokens": response.usage.completion_tokens,
                    "http_attempts": response.attempts,
                    "latency_ms": response.latency_ms,
                }))
            })
            .collect()
    }

    /// The events of one billed invoice: usage read, payload validated, tax, revenue, issued.
    fn billing_events(
        &self,
        issued: &IssuedInvoice,
        usage: Option<&(UsageRequest, PeriodUsage)>,
        cross_check: Option<&(crate::agent::AgentPayload, agent::CrossCheck)>,
        trail: &Trail<'_>,
    ) -> Vec<AuditEvent> {
        let Trail {
            actor,
            run_id,
            correlation,
            now,
        } = *trail;
        let invoice = &issued.invoice;
        let currency = invoice.currency.code();
        let event = |action, kind, id: &str| {
            AuditEvent::new(now, &issued.account_id, actor, action, kind, id)
                .correlated(run_id, correlation)
        };
        let subscription =
            |action| event(action, SubjectKind::Subscription, &issued.subscription_id);
        let mut events = Vec::with_capacity(5);
        if let Some((request, usage)) = usage {
            events.push(subscription(AuditAction::UsageQueried).with_data(json!({
                "query": request.query,
                "customer_id": request.customer_id,
                "from": request.from,
                "to": request.to,
                "timezone": request.tz.name(),
                "period": invoice.period_index,
                "usage": usage,
            })));
        }
        let lines: Vec<_> = invoice
            .line_items
            .iter()
            .map(|line| json!({ "description": line.description, "kind": line.kind, "amount": line.amount.to_major().to_string() }))
            .collect();
        if let Some((payload, check)) = cross_check {
            events.push(subscription(AuditAction::CrossChecked).with_data(json!({
                "mode": self.mode.as_str(),
                "period": invoice.period_index,
                "agrees": check.agrees,
                "differences": check.differences,
                "model_payload": payload,
                "invoice_lines": lines,
                "outcome": if check.agrees { "issued" } else { "held" },
            })));
        }
        events.push(
            subscription(AuditAction::PayloadValidated).with_data(json!({
                "mode": self.mode.as_str(),
                "period": invoice.period_index,
                "plan_version": issued.plan_version,
                "quantity": issued.quantity,
                "currency": currency,
                "line_items": lines,
                "valid": true,
            })),
        );
        events.push(subscription(AuditAction::TaxComputed).with_data(json!({
            "currency": currency,
            "subtotal": invoice.subtotal.to_major().to_string(),
            "inclusive": invoice.tax_inclusive,
            "tax_lines": invoice.tax_lines,
            "tax": invoice.tax.to_major().to_string(),
        })));
        events.push(
            subscription(AuditAction::RevenueScheduled).with_data(json!({
                "currency": currency,
                "schedule": invoice.revenue_schedule,
            })),
        );
        let action = match issued.status {
            InvoiceStatus::Open => AuditAction::InvoiceIssued,
            InvoiceStatus::Held => AuditAction::InvoiceHeld,
        };
        events.push(
            event(action, SubjectKind::Invoice, &issued.id).with_data(json!({
                "subscription_id": issued.subscription_id,
                "billing_reason": issued.billing_reason,
                "status": issued.status,
                "period": invoice.period_index,
                "period_start": invoice.period_start,
                "period_end": invoice.period_end,
                "currency": currency,
                "subtotal": invoice.subtotal.to_major().to_string(),
                "tax": invoice.tax.to_major().to_string(),
                "total": invoice.total.to_major().to_string(),
            })),
        );
        events
    }

    async fn account(&self, id: &str) -> Result<Account> {
        self.store
            .account(id)
            .await?
            .ok_or_else(|| Error::not_found("account", id))
    }

    async fn customer(&self, account_id: &str, id: &str) -> Result<Customer> {
        self.store
            .customer(account_id, id)
            .await?
            .ok_or_else(|| Error::not_found("customer", id))
    }

    async fn subscription(&self, account_id: &str, id: &str) -> Result<Subscription> {
        self.store
            .subscription(account_id, id)
            .await?
            .ok_or_else(|| Error::not_found("subscription", id))
    }

    async fn latest_plan(&self, account_id: &str, plan_id: &str) -> Result<PlanVersion> {
        self.store
            .plan_version(&PlanQuery {
                account_id: account_id.to_owned(),
                plan_id: plan_id.to_owned(),
                version: None,
            })
            .await?
            .ok_or_else(|| Error::not_found("plan", plan_id))
    }

    async fn cached_account(&self, cache: &RunCache, id: &str) -> Result<Account> {
        if let Some(account) = lock(&cache.accounts).get(id) {
            return Ok(account.clone());
        }
        let account = self.account(id).await?;
        lock(&cache.accounts).insert(id.to_owned(), account.clone());
        Ok(account)
    }

    async fn cached_plan(
        &self,
        cache: &RunCache,
        account_id: &str,
        plan_id: &str,
    ) -> Result<PlanVersion> {
        let key = (account_id.to_owned(), plan_id.to_owned());
        if let Some(plan) = lock(&cache.plans).get(&key) {
            return Ok(plan.clone());
        }
        let plan = self.latest_plan(account_id, plan_id).await?;
        lock(&cache.plans).insert(key, plan.clone());
        Ok(plan)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The usage window period `index` of `subscription` is billed from, through the plan's query;
/// `None` when the program has no usage charges.
fn usage_request(
    account: &Account,
    plan: &PlanVersion,
    subscription: &Subscription,
    index: u32,
) -> Result<Option<UsageRequest>> {
    let program = &plan.program;
    if program.usage.is_empty() {
        return Ok(None);
    }
    let calendar =
        BillingCalendar::new(subscription.start_date, program.interval, account.timezone)?;
    let period = calendar.period(index)?;
    let (from, to) = calendar.utc_bounds(&period);
    Ok(Some(UsageRequest {
        query: plan.plan.usage_query_name().to_owned(),
        account_id: account.id.clone(),
        customer_id: subscription.customer_id.clone(),
        from,
        to,
        tz: account.timezone,
    }))
}

/// The subscription after its period `next_invoice_period` is billed: the next period owed,
/// when it is due, and the period the subscription is in.
fn advance(
    subscription: &Subscription,
    calendar: &BillingCalendar,
    timing: InvoiceTiming,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<Subscription> {
    let billed = subscription.next_invoice_period;
    let next_index = billed
        .checked_add(1)
        .ok_or_else(|| Error::overflow("the period index"))?;
    let next = calendar.period(next_index)?;
    let mut advanced = subscription.clone();
    advanced.next_invoice_period = next_index;
    advanced.revision = subscription.revision + 1;
    advanced.updated_at = now;
    let current = match timing {
        // Billed at its start: the subscription is in the billed period.
        InvoiceTiming::AtStart => calendar.period(billed)?,
        // Billed at its end: the subscription is in the next one.
        InvoiceTiming::AtRenewal => next,
    };
    advanced.current_period = current.index;
    advanced.current_period_start = current.start;
    advanced.current_period_end = current.end;
    if plan.auto_renew {
        let due = match timing {
            InvoiceTiming::AtStart => next.start,
            InvoiceTiming::AtRenewal => next.end,
        };
        advanced.next_invoice_at = Some(calendar.local_midnight(due).to_utc());
    } else {
        advanced.status = SubscriptionStatus::Ended;
        advanced.next_invoice_at = None;
    }
    Ok(advanced)
}

/// A new version of a plan must keep what its subscriptions are anchored on.
fn check_compatible(
    latest: &PlanVersion,
    plan: &Plan,
    program: &crate::pricing::PricingProgram,
) -> Result<()> {
    let old = &latest.program;
    let problem = if plan.plan_type != latest.plan.plan_type {
        Some(("plan.type", "the plan's type"))
    } else if program.currency != old.currency {
        Some(("plan.currency", "the currency"))
    } else if program.interval != old.interval {
        Some(("plan.interval", "the billing interval"))
    } else if program.invoice_timing() != old.invoice_timing() {
        Some((
            "plan.ai_prompt",
            "when invoices are issued (in advance or in arrears)",
        ))
    } else {
        None
    };
    match problem {
        Some((field, what)) => Err(Error::invalid(
            field,
            format!(
                "a new version of plan {:?} cannot change {what}: existing subscriptions are billed by it; create a new plan instead",
                latest.plan_id()
            ),
        )),
        None => Ok(()),
    }
}

fn check_id(field: &str, id: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if id.len() > 200 || id.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "must be at most 200 characters with no control characters",
        ));
    }
    Ok(())
}
