//! The library's operations as the bindings expose them: Node's `BillingEngine` and
//! `interpretPrompt`/`previewScenario`, and the C ABI's JSON functions.
//!
//! Each operation takes one request and gives one answer, both serde data in the platform's
//! shapes (plans, subscriptions and invoices as `DESIGN.md` spells them), with JSON Schemas
//! ([`crate::schema::api_schemas`]). So a binding only converts values and renders errors: the
//! setup (store, interpreter, model, tax, audit shipping), the defaults and the checks are here,
//! once, and Node, C and Rust callers get the same behaviour and the same error codes.

pub mod connect;
pub mod scenario;
pub mod schema;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::calendar::{BillingInterval, IntervalUnit};
use crate::engine::{
    BillingMode, ChangeQuantity, CreateSubscription, CreatedSubscription, RunDue, RunReport,
    SavePlan,
};
use crate::error::{Error, Result};
use crate::invoice::{Invoice, IssuedInvoice};
use crate::llm_interpreter::{InterpreterMode, interpreter_for};
use crate::model::LanguageModel;
use crate::money::Currency;
use crate::plan::{Account, Plan, PlanVersion};
use crate::pricing::{InvoiceTiming, PricingProgram};
use crate::store::{InvoiceQuery, PlanListQuery, PlanQuery, Store};
use crate::subscription::{Customer, Subscription};
use crate::tax::{FlatRate, NoTax, RateTable, TaxCalculator};
use crate::{AuditSink, Engine};

pub use crate::engine::DEFAULT_ACTOR;

/// The most plans one [`BillingEngine::list_plans`] call returns.
pub const MAX_PAGE: u32 = 1000;

/// The largest request, option bag or scenario the API reads, in bytes of JSON text (1 MiB).
/// The largest legitimate request is a scenario with a few thousand shipments (about 100 bytes
/// each); anything bigger is refused before it is parsed, so a caller cannot make the library
/// allocate without bound. A plan prompt has its own, smaller limit
/// ([`crate::plan::MAX_PROMPT_CHARS`]).
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// [`Error::InvalidInput`] on `what` when `len` bytes is more than [`MAX_REQUEST_BYTES`].
fn check_request_size(what: &str, len: usize) -> Result<()> {
    if len > MAX_REQUEST_BYTES {
        return Err(too_large(what, &len.to_string()));
    }
    Ok(())
}

fn too_large(what: &str, size: &str) -> Error {
    Error::invalid(
        what,
        format!("is {size} bytes of JSON; at most {MAX_REQUEST_BYTES} are accepted"),
    )
}

/// How to open a [`BillingEngine`]: Node's `BillingEngine.open(options)` and C's
/// `ai_billing_engine_open(options_json, ...)`. Keys are camelCase, as JavaScript option bags are.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EngineOptions {
    /// The database: `sqlite://PATH` (created if missing), `sqlite::memory:`, or
    /// `postgres://USER@HOST:PORT/DB`. Its schema is brought up to date when the engine opens.
    pub database_url: String,
    /// Who reads AI plans' prompts: `offline` (default: no network, no key), `openai`, or `auto`
    /// (offline first, the model for what it refuses).
    #[serde(default)]
    #[schemars(with = "InterpreterName")]
    pub interpreter: InterpreterMode,
    /// Who writes each invoice's payload: `compiled` (default: the pricing program), `agent` or
    /// `agent_checked` (a model, cross-checked by the program; disagreements are held).
    #[serde(default)]
    pub mode: BillingMode,
    /// The OpenAI (or compatible) API, for the `openai`/`auto` interpreter and the agent modes.
    /// Unset fields come from `OPENAI_API_KEY`, `OPENAI_BASE_URL` and `OPENAI_MODEL`.
    #[serde(default)]
    pub openai: Option<OpenAiOptions>,
    /// Ship the audit trail to OpenSearch after each billing run.
    #[serde(default)]
    pub opensearch: Option<OpenSearchOptions>,
    /// How invoices are taxed; no tax when absent.
    #[serde(default)]
    pub tax: Option<TaxOptions>,
    /// Renewals billed side by side in a run (default 4).
    #[serde(default)]
    pub concurrency: Option<u32>,
}

impl std::fmt::Debug for EngineOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineOptions")
            .field("database_url", &redact_url(&self.database_url))
            .field("interpreter", &self.interpreter)
            .field("mode", &self.mode)
            .field("openai", &self.openai)
            .field("opensearch", &self.opensearch)
            .field("tax", &self.tax)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// Who reads AI plans' prompts (the schema of [`InterpreterMode`] as JSON spells it).
#[derive(JsonSchema)]
#[schemars(rename = "InterpreterMode")]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum InterpreterName {
    /// The offline rules interpreter.
    Offline,
    /// The language model.
    Openai,
    /// Offline first, the model for what it refuses.
    Auto,
}

impl<'de> Deserialize<'de> for InterpreterMode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for InterpreterMode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The OpenAI API settings. `Debug` never shows the key.
#[derive(Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenAiOptions {
    /// The API key; `OPENAI_API_KEY` when absent. Never logged, printed or put in an error.
    #[serde(default)]
    pub api_key: Option<String>,
    /// The API's base URL (`https://api.openai.com/v1`); `OPENAI_BASE_URL` when absent.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The model; `OPENAI_MODEL` when absent.
    #[serde(default)]
    pub model: Option<String>,
    /// How long one attempt may take, in milliseconds.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Retries of a call that failed in a way worth retrying (429, 5xx, timeouts).
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// Calls in flight at once.
    #[serde(default)]
    pub max_concurrency: Option<u32>,
}

impl std::fmt::Debug for OpenAiOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("max_concurrency", &self.max_concurrency)
            .finish()
    }
}

/// Where the audit trail is shipped. `Debug` never shows the password.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenSearchOptions {
    /// The node's base URL (`http://127.0.0.1:9200`), without credentials.
    pub url: String,
    /// The index (default `ai-billing-audit`).
    #[serde(default)]
    pub index: Option<String>,
    /// Basic-auth user.
    #[serde(default)]
    pub username: Option<String>,
    /// Basic-auth password (with `username`).
    #[serde(default)]
    pub password: Option<String>,
}

impl std::fmt::Debug for OpenSearchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSearchOptions")
            .field("url", &self.url)
            .field("index", &self.index)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How invoices are taxed: one flat `rate`, or a jurisdiction rate table (`rules`, as in
/// `examples/tax-rates.json`), stacked per customer address.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaxOptions {
    /// One rate on every invoice, as a decimal string fraction (`"0.0825"` for 8.25%).
    #[serde(default)]
    #[schemars(with = "Option<crate::json::DecimalString>")]
    pub rate: Option<Decimal>,
    /// The rules of a rate table by jurisdiction (country, region, postal prefix).
    #[serde(default)]
    pub rules: Option<Vec<serde_json::Value>>,
}

impl TaxOptions {
    /// The calculator the options describe.
    pub fn calculator(&self) -> Result<Arc<dyn TaxCalculator>> {
        match (&self.rate, &self.rules) {
            (Some(_), Some(_)) => Err(Error::invalid("tax", "give either rate or rules, not both")),
            (Some(rate), None) => Ok(Arc::new(FlatRate::new("Tax", *rate)?)),
            (None, Some(rules)) => Ok(Arc::new(RateTable::from_json(
                &serde_json::json!({ "rules": rules }).to_string(),
            )?)),
            (None, None) => Ok(Arc::new(NoTax)),
        }
    }
}

/// How [`interpret_prompt`] reads a prompt: the plan it belongs to and who reads it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InterpretOptions {
    /// The plan's currency (default USD): amounts written without one are in it.
    #[serde(default = "usd")]
    pub currency: Currency,
    /// The plan's interval unit (default month).
    #[serde(default = "month")]
    pub interval: IntervalUnit,
    /// Units per period (default 1).
    #[serde(default = "one")]
    pub interval_count: u32,
    /// Who reads the prompt (default `offline`).
    #[serde(default)]
    #[schemars(with = "InterpreterName")]
    pub interpreter: InterpreterMode,
    /// The OpenAI API, for the `openai` and `auto` interpreters.
    #[serde(default)]
    pub openai: Option<OpenAiOptions>,
}

impl Default for InterpretOptions {
    fn default() -> Self {
        InterpretOptions {
            currency: usd(),
            interval: month(),
            interval_count: 1,
            interpreter: InterpreterMode::Offline,
            openai: None,
        }
    }
}

fn usd() -> Currency {
    Currency::parse("USD").expect("USD is an ISO 4217 currency")
}

fn month() -> IntervalUnit {
    IntervalUnit::Month
}

fn one() -> u32 {
    1
}

/// What a prompt says: the program, or why it was refused. A refusal is an answer, not an
/// error: the admin rephrases.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Interpretation {
    /// The prompt was understood.
    Understood {
        /// The pricing program it compiles to.
        program: PricingProgram,
        /// The program in plain English.
        reading: String,
        /// When its invoices are issued: `at_start` (in advance) or `at_renewal` (in arrears).
        invoice_timing: InvoiceTiming,
        /// Who read it (`offline`, or the model's name).
        interpreter: String,
    },
    /// The prompt was refused: nothing would be billed from it.
    Refused {
        /// What to rephrase, naming the words or the clause that could not be placed.
        reason: String,
    },
}

/// Reads `prompt` as the plan `options` describes: its program, or the refusal.
pub async fn interpret_prompt(prompt: &str, options: &InterpretOptions) -> Result<Interpretation> {
    let interval = BillingInterval::new(options.interval, options.interval_count)?;
    // The prompt is read as an AI plan's would be when it is saved, and its program checked the
    // same way: what this answers is what `create_plan` would store.
    let plan = Plan::ai("interpreted", options.currency, interval, prompt);
    plan.validate()?;
    let account = Account::new("interpreted", chrono_tz::UTC);
    let model = language_model(
        options.interpreter.needs_model(),
        options.openai.as_ref(),
        None,
    )?;
    let interpreter = interpreter_for(options.interpreter, model)?;
    let read = interpreter
        .interpret(prompt, &plan.interpreter_context()?)
        .await
        .and_then(|program| plan.compile_with(&account, Some(program)));
    match read {
        Ok(program) => Ok(Interpretation::Understood {
            reading: program.describe(),
            invoice_timing: program.invoice_timing(),
            interpreter: interpreter.name().to_owned(),
            program,
        }),
        Err(Error::PromptNotUnderstood { reason }) | Err(Error::UsageNotPriced { reason }) => {
            Ok(Interpretation::Refused { reason })
        }
        Err(error) => Err(error),
    }
}

/// Bills a scenario (the JSON of a scenario file) as `ai-billing preview --json` does, with
/// the offline interpreter in the compiled mode.
#[cfg(feature = "sqlite")]
pub async fn preview_scenario(scenario_json: &str) -> Result<crate::scenario::PreviewReport> {
    check_request_size("scenario", scenario_json.len())?;
    let scenario = crate::scenario::Scenario::from_json(scenario_json)?;
    crate::scenario::preview(&scenario).await
}

/// A predefined usage query, as the plan form's usage source selector lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct UsageQuery {
    /// The name a plan's `usage_query` gives (`shipments_by_weekday`).
    pub name: String,
    /// What it counts.
    pub description: String,
    /// The databases it runs on (`sqlite`, `postgres`, `mysql`).
    pub dialects: Vec<String>,
    /// Whether plans use it when they name none.
    pub default: bool,
}

/// The predefined usage queries (from `sql/queries/`): the only usage sources a plan can name.
pub fn usage_queries() -> Vec<UsageQuery> {
    crate::usage::predefined_queries()
        .iter()
        .map(|query| UsageQuery {
            name: query.name.to_owned(),
            description: query.description.to_owned(),
            dialects: [
                ("sqlite", query.sqlite),
                ("postgres", query.postgres),
                ("mysql", query.mysql),
            ]
            .into_iter()
            .filter(|(_, text)| !text.trim().is_empty())
            .map(|(dialect, _)| dialect.to_owned())
            .collect(),
            default: query.name == crate::plan::DEFAULT_USAGE_QUERY,
        })
        .collect()
}

/// One account.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRef {
    /// The account.
    pub account_id: String,
}

/// An account to create or update.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveAccount {
    /// The account.
    pub account: Account,
    /// Who saves it (default `api`).
    #[serde(default = "default_actor")]
    pub actor: String,
}

/// A customer to create or update.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveCustomer {
    /// The customer.
    pub customer: Customer,
    /// Who saves it (default `api`).
    #[serde(default = "default_actor")]
    pub actor: String,
}

/// One subscription of an account.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRef {
    /// The account.
    pub account_id: String,
    /// The subscription.
    pub subscription_id: String,
}

/// A page of plans, in plan id order, each at its latest version.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PlanPage {
    /// The plans.
    pub plans: Vec<PlanVersion>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// Which invoices to list: one account's, optionally one subscription's, oldest first.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInvoices {
    /// The account.
    pub account_id: String,
    /// Only this subscription's.
    #[serde(default)]
    pub subscription_id: Option<String>,
    /// At most this many.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A billing run: everything due at or before `now`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunDueRequest {
    /// Bill what is due at or before this instant (RFC 3339); the current time when absent.
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
}

/// What a billing run did, and what reached OpenSearch.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RunDueReport {
    /// The renewals.
    #[serde(flatten)]
    pub run: RunReport,
    /// The audit shipping after the run, when the engine ships to OpenSearch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditShipping>,
}

/// What shipping the audit trail after a run did. Events that did not go stay in the outbox
/// for the next run (or `ai-billing audit ship`); shipping never fails a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AuditShipping {
    /// Events stored by OpenSearch.
    pub shipped: u64,
    /// Events OpenSearch refused (kept with the reason).
    pub rejected: u64,
    /// Events still waiting.
    pub pending: u64,
    /// Why shipping stopped early, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn default_actor() -> String {
    DEFAULT_ACTOR.to_owned()
}

/// The billing engine behind Node's `BillingEngine` and C's engine handle: an [`Engine`] set up
/// from [`EngineOptions`], and closed once.
#[derive(Debug)]
pub struct BillingEngine {
    engine: Engine,
    audit: Option<Arc<dyn AuditSink>>,
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

    fn store(&self) -> Result<&Arc<dyn Store>> {
        Ok(self.engine()?.store())
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

    /// Changes a subscription's quantity, from the next invoice issued, with no renewal.
    pub async fn update_subscription(&self, request: &ChangeQuantity) -> Result<Subscription> {
        self.engine()?.change_quantity(request).await
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

    /// An account's invoices (or one subscription's), oldest first.
    pub async fn list_invoices(&self, request: &ListInvoices) -> Result<Vec<IssuedInvoice>> {
        self.store()?
            .invoices(&InvoiceQuery {
                account_id: Some(request.account_id.clone()),
                subscription_id: request.subscription_id.clone(),
                limit: request.limit,
            })
            .await
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

#[cfg(feature = "opensearch")]
fn audit_sink(options: &OpenSearchOptions) -> Result<Arc<dyn AuditSink>> {
    use crate::opensearch::{OpenSearchConfig, OpenSearchSink};
    let mut config = OpenSearchConfig::new(options.url.clone());
    if let Some(index) = &options.index {
        config.index = index.clone();
    }
    match (&options.username, &options.password) {
        (Some(user), Some(password)) => {
            config = config.with_credentials(user.clone(), password.clone());
        }
        (None, None) => {}
        _ => {
            return Err(Error::invalid(
                "opensearch",
                "give both username and password, or neither",
            ));
        }
    }
    Ok(Arc::new(OpenSearchSink::new(config)?))
}

#[cfg(not(feature = "opensearch"))]
fn audit_sink(_: &OpenSearchOptions) -> Result<Arc<dyn AuditSink>> {
    Err(Error::invalid(
        "opensearch",
        "this build of ai-billing has no OpenSearch support (the opensearch feature)",
    ))
}

/// The OpenAI model, when `needed`: the options over the environment (`OPENAI_API_KEY`,
/// `OPENAI_BASE_URL`, `OPENAI_MODEL`). `concurrency` widens the client's limit to a run's, so
/// the model is never a narrower pipe than the run. Without a key it is
/// [`Error::InvalidInput`] naming `OPENAI_API_KEY`.
#[cfg(feature = "openai")]
pub fn language_model(
    needed: bool,
    options: Option<&OpenAiOptions>,
    concurrency: Option<usize>,
) -> Result<Option<Arc<dyn LanguageModel>>> {
    use crate::openai::{OpenAiConfig, OpenAiModel};
    if !needed {
        return Ok(None);
    }
    let given = options.cloned().unwrap_or_default();
    let mut config = OpenAiConfig::from_vars(|name| {
        let option = match name {
            "OPENAI_API_KEY" => given.api_key.clone(),
            "OPENAI_BASE_URL" => given.base_url.clone(),
            "OPENAI_MODEL" => given.model.clone(),
            _ => None,
        };
        option.or_else(|| std::env::var(name).ok())
    })?;
    if let Some(ms) = given.timeout_ms {
        config = config.with_timeout(std::time::Duration::from_millis(ms));
    }
    if let Some(retries) = given.max_retries {
        config = config.with_max_retries(retries);
    }
    if let Some(n) = given.max_concurrency {
        config = config.with_max_concurrency(n.max(1) as usize);
    } else if let Some(n) = concurrency.filter(|n| *n > config.max_concurrency) {
        config = config.with_max_concurrency(n);
    }
    Ok(Some(Arc::new(OpenAiModel::new(config)?)))
}

/// Without the `openai` feature there is no model: asking for one is [`Error::InvalidInput`].
#[cfg(not(feature = "openai"))]
pub fn language_model(
    needed: bool,
    _: Option<&OpenAiOptions>,
    _: Option<usize>,
) -> Result<Option<Arc<dyn LanguageModel>>> {
    if needed {
        return Err(Error::invalid(
            "openai",
            "this build of ai-billing has no OpenAI support (the openai feature)",
        ));
    }
    Ok(None)
}

/// `json` read as a `T`, or [`Error::InvalidInput`] naming `what` and the path of the field
/// that is wrong (`plan.currency: unknown currency "USX"`). Text longer than
/// [`MAX_REQUEST_BYTES`] is refused unread.
pub fn from_json<T: DeserializeOwned>(what: &str, json: &str) -> Result<T> {
    check_request_size(what, json.len())?;
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let value =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| invalid(what, e))?;
    deserializer
        .end()
        .map_err(|e| Error::invalid(what, format!("trailing characters after the JSON: {e}")))?;
    Ok(value)
}

/// As [`from_json`], from a JSON value (what a JavaScript object converts to). A value whose
/// JSON text would be longer than [`MAX_REQUEST_BYTES`] is refused (measured without writing
/// the text out, and no further than the limit).
pub fn from_value<T: DeserializeOwned>(what: &str, value: serde_json::Value) -> Result<T> {
    if json_len(&value) > MAX_REQUEST_BYTES {
        return Err(too_large(what, &format!("over {MAX_REQUEST_BYTES}")));
    }
    serde_path_to_error::deserialize(value).map_err(|e| invalid(what, e))
}

/// The length of `value`'s JSON text, counted up to one byte past [`MAX_REQUEST_BYTES`].
fn json_len(value: &serde_json::Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            if self.0 > MAX_REQUEST_BYTES {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing only fails when the counter stops it: the count is then over the limit.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

fn invalid<E: std::fmt::Display>(what: &str, error: serde_path_to_error::Error<E>) -> Error {
    let path = error.path().to_string();
    let field = if path == "." || path.is_empty() {
        what.to_owned()
    } else {
        format!("{what}.{path}")
    };
    Error::invalid(field, error.inner().to_string())
}

/// `value` as JSON text (what the C ABI returns).
pub fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::invalid("answer", format!("cannot be written as JSON: {e}")))
}

/// The error and every cause under it, once each, joined by `: ` — the message a binding
/// shows (JS `err.message`, C `ai_billing_last_error()`).
pub fn error_message(error: &Error) -> String {
    let mut message = error.to_string();
    let mut next = std::error::Error::source(error);
    while let Some(cause) = next {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        next = cause.source();
    }
    message
}

/// The URL without its password, for messages and `Debug`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ErrorCode;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://billing:s3cret@db:5432/x"),
            "postgres://billing:***@db:5432/x"
        );
        assert_eq!(
            redact_url("postgres://billing@db/x"),
            "postgres://billing@db/x"
        );
        assert_eq!(redact_url("sqlite://a@b.db"), "sqlite://a@b.db");
        let options: EngineOptions = from_value(
            "options",
            json!({"databaseUrl": "postgres://u:pw@h/db", "openai": {"apiKey": "sk-secret"},
                   "opensearch": {"url": "http://o", "username": "u", "password": "hunter2"}}),
        )
        .unwrap();
        let shown = format!("{options:?}");
        for secret in ["pw@", "sk-secret", "hunter2"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn requests_over_the_size_limit_are_refused_unread() {
        let padding = "x".repeat(MAX_REQUEST_BYTES);
        let text = format!(r#"{{"account_id": "{padding}", "subscription_id": "s"}}"#);
        let error = from_json::<SubscriptionRef>("request", &text).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput);
        assert!(error.to_string().contains("at most 1048576"), "{error}");
        let error = from_value::<SubscriptionRef>(
            "request",
            json!({"account_id": padding, "subscription_id": "s"}),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("invalid request: is over 1048576 bytes"),
            "{error}"
        );
        // Just under the limit is read as usual.
        let id = "x".repeat(MAX_REQUEST_BYTES - 64);
        let ok: SubscriptionRef =
            from_value("request", json!({"account_id": id, "subscription_id": "s"})).unwrap();
        assert_eq!(ok.subscription_id, "s");
    }

    #[test]
    fn bad_json_names_the_field_that_is_wrong() {
        let error = from_json::<CreateSubscription>(
            "request",
            r#"{"account_id": "a", "id": "s", "customer_id": "c", "plan_id": "p", "quantity": -1, "start_date": "2026-01-01"}"#,
        )
        .unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput);
        assert!(error.to_string().contains("request.quantity"), "{error}");
        let error = from_json::<EngineOptions>("options", r#"{"databaseUrl": "x", "colour": 1}"#)
            .unwrap_err();
        assert!(error.to_string().contains("colour"), "{error}");
        let error = from_json::<RunDueRequest>("request", "{} {}").unwrap_err();
        assert!(error.to_string().contains("trailing"), "{error}");
        let error = from_value::<SubscriptionRef>("request", json!("text")).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput);
    }

    #[tokio::test]
    async fn a_prompt_is_understood_or_refused_never_an_error() {
        let options = InterpretOptions::default();
        let understood = interpret_prompt(
            "Bill $5 for the first month and increase by $1 per month",
            &options,
        )
        .await
        .unwrap();
        let Interpretation::Understood {
            invoice_timing,
            interpreter,
            reading,
            ..
        } = understood
        else {
            panic!("refused: {understood:?}");
        };
        assert_eq!(invoice_timing, InvoiceTiming::AtStart);
        assert_eq!(interpreter, "offline");
        assert!(!reading.is_empty());
        let refused = interpret_prompt("Charge whatever seems fair", &options)
            .await
            .unwrap();
        assert!(
            matches!(refused, Interpretation::Refused { .. }),
            "{refused:?}"
        );
        let blank = interpret_prompt("  ", &options).await.unwrap_err();
        assert_eq!(blank.code(), ErrorCode::InvalidInput);
        let keyless = InterpretOptions {
            interpreter: InterpreterMode::Llm,
            ..InterpretOptions::default()
        };
        if std::env::var_os("OPENAI_API_KEY").is_none() {
            let error = interpret_prompt("Bill $5 a month", &keyless)
                .await
                .unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
        }
    }

    #[tokio::test]
    async fn an_engine_bills_through_the_api_and_refuses_once_closed() {
        let engine = BillingEngine::open(&EngineOptions {
            database_url: "sqlite::memory:".into(),
            interpreter: InterpreterMode::Offline,
            mode: BillingMode::Compiled,
            openai: None,
            opensearch: None,
            tax: Some(TaxOptions {
                rate: Some(Decimal::new(825, 4)),
                rules: None,
            }),
            concurrency: None,
        })
        .await
        .unwrap();
        let request = |value: serde_json::Value| value;
        engine
            .save_account(&from_value("r", request(json!({"account": {"id": "acct", "abstracted": true, "timezone": "America/New_York"}}))).unwrap())
            .await
            .unwrap();
        engine
            .save_customer(
                &from_value(
                    "r",
                    json!({"customer": {"account_id": "acct", "id": "cus"}}),
                )
                .unwrap(),
            )
            .await
            .unwrap();
        let plan = engine
            .create_plan(
                &from_value(
                    "r",
                    json!({"account_id": "acct", "plan": {
                "id": "plan_step", "currency": "USD", "interval": "month", "type": "ai",
                "ai_prompt": "Bill $5 for the first month and increase by $1 per month"}}),
                )
                .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(plan.version, 1);
        let account = engine
            .get_account(&from_value("r", json!({"account_id": "acct"})).unwrap())
            .await
            .unwrap();
        assert!(account.abstracted);
        let queries = usage_queries();
        assert_eq!(queries[0].name, "shipments_by_weekday");
        assert_eq!(queries[0].dialects, ["sqlite", "postgres", "mysql"]);
        assert!(queries[0].default);
        let created = engine
            .create_subscription(
                &from_value(
                    "r",
                    json!({"account_id": "acct", "id": "sub",
                "customer_id": "cus", "plan_id": "plan_step", "start_date": "2026-01-10"}),
                )
                .unwrap(),
            )
            .await
            .unwrap();
        // Created on a past start date: nothing is billed until a run catches up.
        assert_eq!(created.subscription.quantity, 1);
        let report = engine
            .run_due(&from_value("r", json!({"now": "2026-03-15T12:00:00Z"})).unwrap())
            .await
            .unwrap();
        assert_eq!(report.audit, None);
        let invoices = engine
            .list_invoices(&from_value("r", json!({"account_id": "acct"})).unwrap())
            .await
            .unwrap();
        let totals: Vec<String> = invoices
            .iter()
            .map(|i| i.invoice.total.to_string())
            .collect();
        assert_eq!(
            invoices.len() as u64,
            report.run.issued + created.invoice.iter().count() as u64
        );
        assert_eq!(totals, ["5.41 USD", "6.50 USD", "7.58 USD"]);
        let page = engine
            .list_plans(&from_value("r", json!({"account_id": "acct", "limit": 1})).unwrap())
            .await
            .unwrap();
        assert_eq!(page.next_after.as_deref(), Some("plan_step"));
        let missing = engine
            .get_plan(&from_value("r", json!({"account_id": "acct", "plan_id": "nope"})).unwrap())
            .await
            .unwrap_err();
        assert_eq!(missing.code(), ErrorCode::NotFound);
        engine.close().await.unwrap();
        engine.close().await.unwrap();
        let closed = engine
            .get_subscription(
                &from_value("r", json!({"account_id": "acct", "subscription_id": "sub"})).unwrap(),
            )
            .await
            .unwrap_err();
        assert_eq!(closed.code(), ErrorCode::Closed);
        assert_eq!(error_message(&closed), "the engine is closed");
    }
}
