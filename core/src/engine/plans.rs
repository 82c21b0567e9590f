//! Saving what subscriptions are billed by: accounts, customers, and plans with their versions
//! (an AI plan's prompt is interpreted once, when its version is saved).

use serde_json::json;

use crate::audit::{AuditAction, AuditEvent, SubjectKind, new_id};
use crate::error::{Error, Result};
use crate::plan::{Account, Plan, PlanType, PlanVersion};
use crate::store::PlanQuery;
use crate::subscription::Customer;

use super::{Engine, MAX_ATTEMPTS, api_actor, check_id, events};

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

impl Engine {
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
                        let mut events = events::interpretation_events(
                            &calls,
                            self.interpreter.name(),
                            &account.id,
                            &plan_id,
                            &self.trail(&request.actor, None, &correlation, now),
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
        let model_events = events::interpretation_events(
            &calls,
            self.interpreter.name(),
            &account.id,
            &plan_id,
            &self.trail(&request.actor, None, &correlation, now),
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
