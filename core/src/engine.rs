//! The billing engine: plans, subscriptions and renewals on the ports ([`Store`], [`Interpreter`],
//! [`TaxCalculator`], [`Clock`]).
//!
//! Every invoice, whether at subscription creation, at renewal or in a preview, goes through the
//! same steps ([`period`]): the stored pricing program prices the period, the agent payload is
//! written and validated, tax is computed on the subtotal, revenue is scheduled. What the engine
//! adds is state: which period a subscription owes next, written together with the invoice and
//! its audit events in one store transaction, over the revision it was computed from. So a crash
//! leaves each renewal either done or not started, and two runs at once never bill a period twice.
//!
//! By concept: `plans` saves accounts, customers and plans; `subscriptions` creates them and
//! changes their quantity; `changes` cancels, pauses and changes plans; `corrections` releases,
//! voids (and re-bills) and credits invoices; `step` is one renewal, pure; `run` is the batched
//! driver around it and the billing runs; `events` builds the audit events; `cache` reads what
//! renewals are billed under.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::interpreter::{Interpreter, OfflineInterpreter};
use crate::model::LanguageModel;
use crate::store::Store;
use crate::tax::{NoTax, TaxCalculator};

pub mod agent;
mod cache;
mod changes;
mod corrections;
mod documents;
mod events;
mod late;
pub mod period;
mod plans;
mod retries;
mod run;
mod settlement;
mod step;
mod subscriptions;

pub use crate::subscription::{MAX_QUANTITY, Quantity};
pub use agent::BillingMode;
pub use changes::{
    CancelSubscription, ChangePlan, ChangedSubscription, PauseSubscription, Proration,
    ResumeSubscription, WithdrawCancel,
};
pub use corrections::{CreditInvoice, CreditLine, ReleaseInvoice, VoidInvoice, VoidedInvoice};
pub use period::{NO_CHARGE_DESCRIPTION, PricedPeriod, bill_period, price_period};
pub use plans::SavePlan;
pub use run::{ProgressFn, RunDue, RunReport};
pub use subscriptions::{ChangeQuantity, CreateSubscription, CreatedSubscription};

/// How many times a change is recomputed when someone else changed the same subscription first.
const MAX_ATTEMPTS: u32 = 5;

/// How long a write waits, in all, for a subscription another writer holds (a run's page being
/// billed) before it gives up as contended: a page is billed in well under a second.
const BUSY_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits before trying again a write that found its subscription held by another writer:
/// 10 ms, doubling up to 320 ms; `false` once [`BUSY_PATIENCE`] since `since` is spent.
async fn wait_busy(since: std::time::Instant, tries: u32) -> bool {
    if since.elapsed() >= BUSY_PATIENCE {
        return false;
    }
    let delay = std::time::Duration::from_millis(10 << tries.min(5));
    tokio::time::sleep(delay).await;
    true
}

/// The actor of billing runs in the audit trail.
pub const SYSTEM_ACTOR: &str = "system";

/// The actor the audit trail records when a request names none.
pub const DEFAULT_ACTOR: &str = "api";

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
    lookback: u32,
}

fn api_actor() -> String {
    DEFAULT_ACTOR.to_owned()
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
            lookback: crate::late_usage::DEFAULT_LOOKBACK,
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

    /// The engine reading `periods` billed periods again at each renewal for late usage (0 turns
    /// late usage off; at most [`crate::late_usage::MAX_LOOKBACK`], else
    /// [`Error::InvalidInput`] on `late_usage_lookback`).
    pub fn with_late_usage_lookback(mut self, periods: u32) -> Result<Self> {
        if periods > crate::late_usage::MAX_LOOKBACK {
            return Err(Error::invalid(
                "late_usage_lookback",
                format!(
                    "{periods} periods is more than the {} a renewal reads again",
                    crate::late_usage::MAX_LOOKBACK
                ),
            ));
        }
        self.lookback = periods;
        Ok(self)
    }

    /// How many billed periods a renewal reads again for late usage.
    pub fn late_usage_lookback(&self) -> u32 {
        self.lookback
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The trail of one operation's events, with this engine's mode and model.
    fn trail<'a>(
        &'a self,
        actor: &'a str,
        run_id: Option<&'a str>,
        correlation: &'a str,
        now: DateTime<Utc>,
    ) -> events::Trail<'a> {
        events::Trail {
            actor,
            run_id,
            correlation,
            now,
            mode: self.mode,
            model: self.model.as_ref().map(|model| model.name()),
        }
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
