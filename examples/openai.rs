//! The LLM interpreter and the billing agent against the real OpenAI API (or any compatible
//! server). Not part of CI: it needs a key and the network.
//!
//! ```sh
//! export OPENAI_API_KEY=sk-...            # OPENAI_BASE_URL and OPENAI_MODEL are optional
//! cargo run -p ai-billing-cli --example openai
//! ```
//!
//! A prompt the offline interpreter refuses is read by the model (`auto`); the program it
//! proposes is checked like any other and shown in plain English. Then one subscription is billed
//! in the `agent_checked` mode: the model writes the payload, the program cross-checks it, and the
//! invoice is issued or held.

use std::sync::Arc;

use ai_billing::engine::{BillingMode, CreateSubscription, SavePlan};
use ai_billing::llm_interpreter::{InterpreterMode, interpreter_for};
use ai_billing::model::LanguageModel;
use ai_billing::openai::{OpenAiConfig, OpenAiModel};
use ai_billing::{
    Account, BillingInterval, Currency, Customer, Engine, IntervalUnit, MemoryStore, Plan,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = match OpenAiConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}\n(this example calls the OpenAI API; nothing was run)");
            return Ok(());
        }
    };
    println!("Using {config}");
    let model: Arc<dyn LanguageModel> = Arc::new(OpenAiModel::new(config)?);
    let engine = Engine::new(Arc::new(MemoryStore::default()))
        .with_interpreter(interpreter_for(InterpreterMode::Auto, Some(model.clone()))?)
        .with_mode(BillingMode::AgentChecked, Some(model))?;

    let account = Account::new("acct_demo", chrono_tz::America::New_York);
    engine.save_account(&account, "example").await?;
    let customer = Customer::new(account.id.clone(), "cus_1");
    engine.save_customer(&customer, "example").await?;
    let monthly = BillingInterval::new(IntervalUnit::Month, 1)?;
    let plan = Plan {
        nickname: "Team".into(),
        ..Plan::ai(
            "plan_team",
            Currency::USD,
            monthly,
            "Each seat costs nine dollars a month.",
        )
    };
    let saved = engine
        .save_plan(&SavePlan {
            account_id: account.id.clone(),
            plan,
            actor: "example".into(),
        })
        .await?;
    println!(
        "Read by {}:\n{}\n",
        saved.interpreter.as_deref().unwrap_or("?"),
        saved.program.describe()
    );

    let created = engine
        .create_subscription(&CreateSubscription {
            account_id: account.id.clone(),
            id: "sub_1".into(),
            customer_id: customer.id.clone(),
            plan_id: "plan_team".into(),
            quantity: 3,
            start_date: chrono::Utc::now().date_naive(),
            actor: "example".into(),
            request_id: None,
        })
        .await?;
    if let Some(issued) = created.invoice {
        println!(
            "First invoice {} ({}): total {} {}",
            issued.id,
            issued.status.as_str(),
            issued.invoice.total.to_major(),
            issued.invoice.currency.code()
        );
        for line in &issued.invoice.line_items {
            println!("  {:40} {}", line.description, line.amount.to_major());
        }
    }
    Ok(())
}
