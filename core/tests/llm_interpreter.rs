//! The LLM interpreter and the auto chain, against a scripted model: what reaches the model, how
//! its answers are checked, retried once, and refused.

use std::sync::Arc;

use ai_billing::calendar::{BillingInterval, IntervalUnit};
use ai_billing::interpreter::{Interpreter, PlanContext, interpret};
use ai_billing::llm_interpreter::{
    AutoInterpreter, InterpreterMode, LlmInterpreter, interpreter_for,
};
use ai_billing::model::{LanguageModel, ModelAnswer, Role, ScriptedModel};
use ai_billing::money::Currency;
use ai_billing::plan::{Account, Plan};
use ai_billing::schema::program_schema;
use ai_billing::{Error, PricingProgram};

fn context() -> PlanContext {
    PlanContext {
        currency: Currency::USD,
        interval: BillingInterval {
            unit: IntervalUnit::Month,
            count: 1,
        },
    }
}

fn scripted(answers: Vec<Result<ModelAnswer, String>>) -> Arc<ScriptedModel> {
    Arc::new(ScriptedModel::new(answers))
}

fn json(text: &str) -> Result<ModelAnswer, String> {
    Ok(ModelAnswer::Json(text.to_owned()))
}

/// A strict model's answer for "$0.75 per weekday delivery and $2.50 per Sunday delivery, plus a
/// $5 monthly base fee": every optional field written, as `null` where absent.
const GOOD: &str = r#"{
  "version": 1, "currency": "USD", "interval": { "unit": "month", "count": 1 },
  "recurring": [ { "description": "Base charge", "phases": [
      { "from_period": 1, "to_period": null, "amount": "5", "step": null, "floor": null,
        "ceiling": null, "discount_percent": null } ] } ],
  "usage": [ { "description": "Usage (Shipment) charge", "metric": "shipments",
      "pricing": { "kind": "per_unit", "rates": { "monday": "0.75", "tuesday": "0.75",
          "wednesday": "0.75", "thursday": "0.75", "friday": "0.75", "saturday": null,
          "sunday": "2.50" } },
      "returns": null, "allowance": null, "minimum": null, "cap": null } ]
}"#;

const PROMPT: &str = "Charge $0.75 per weekday delivery and $2.50 per Sunday delivery, plus a $5 monthly base fee; the account's secret note: ACME-INTERNAL-42.";

fn ai_plan(prompt: &str) -> Plan {
    Plan {
        nickname: "AI".into(),
        ..Plan::ai("plan_ai", Currency::USD, context().interval, prompt)
    }
}

fn account() -> Account {
    Account::new("acct_secret_7731", chrono_tz::America::New_York)
}

fn reason(error: Error) -> String {
    match error {
        Error::PromptNotUnderstood { reason } => reason,
        other => panic!("expected PromptNotUnderstood, got {other:?}"),
    }
}

#[tokio::test]
async fn a_good_answer_is_the_program_compile_with_accepts() {
    let model = scripted(vec![json(GOOD)]);
    let interpreter = LlmInterpreter::new(model.clone());
    assert_eq!(interpreter.name(), "llm:scripted");
    let plan = ai_plan("$0.75 per weekday delivery, $2.50 per Sunday delivery, $5 base fee");
    let context = plan.interpreter_context().unwrap();
    let program = interpreter
        .interpret(plan.ai_prompt.as_deref().unwrap(), &context)
        .await
        .unwrap();
    let expected: PricingProgram = serde_json::from_str(GOOD).unwrap();
    assert_eq!(program, expected);
    assert_eq!(program.recurring[0].phases[0].to_period, None);
    let compiled = plan
        .compile_with(&account(), Some(program.clone()))
        .unwrap();
    assert_eq!(compiled, program);
    assert_eq!(model.requests().len(), 1);
}

#[tokio::test]
async fn the_request_holds_the_conventions_the_prompt_and_the_schema_and_nothing_else() {
    let model = scripted(vec![json(GOOD)]);
    LlmInterpreter::new(model.clone())
        .interpret(PROMPT, &context())
        .await
        .unwrap();
    let requests = model.requests();
    let request = &requests[0];
    assert_eq!(request.schema, program_schema());
    assert_eq!(request.messages.len(), 2);
    let system = &request.messages[0];
    assert_eq!(system.role, Role::System);
    for convention in [
        "in advance",
        "in arrears",
        "graduated",
        "volume",
        "allowance",
        "minimum",
        "cap",
        "returns",
        "quantity multiplies recurring charges only",
        "plan's currency",
        "REFUSE",
        "never guess",
        "weekday",
    ] {
        assert!(
            system.content.contains(convention),
            "the system message lacks {convention:?}"
        );
    }
    let user = &request.messages[1];
    assert_eq!(user.role, Role::User);
    // The prompt is sent as data: a JSON string inside a JSON object, with the plan's context.
    let start = user.content.find('{').unwrap();
    let data: serde_json::Value = serde_json::from_str(&user.content[start..]).unwrap();
    assert_eq!(
        data,
        serde_json::json!({
            "plan_prompt": PROMPT,
            "plan_currency": "USD",
            "plan_interval": { "unit": "month", "count": 1 },
        })
    );
    // Nothing else about the account reaches the model.
    let everything = serde_json::to_string(&requests).unwrap();
    for private in ["acct_", "America/New_York", "plan_ai", "OPENAI_API_KEY"] {
        assert!(!everything.contains(private), "{private} was sent");
    }
}

#[tokio::test]
async fn a_refusal_is_prompt_not_understood_with_the_models_reason() {
    let model = scripted(vec![Ok(ModelAnswer::Refusal(
        "the prompt does not say what a delivery costs".into(),
    ))]);
    let error = LlmInterpreter::new(model.clone())
        .interpret("Charge whatever seems fair", &context())
        .await
        .unwrap_err();
    assert!(reason(error).contains("the prompt does not say what a delivery costs"));
    assert_eq!(model.requests().len(), 1);
}

#[tokio::test]
async fn an_empty_program_is_read_as_a_refusal() {
    let model = scripted(vec![json(
        r#"{"version":1,"currency":"USD","interval":{"unit":"month","count":1},"recurring":null,"usage":null}"#,
    )]);
    let error = LlmInterpreter::new(model.clone())
        .interpret("Bill them something nice", &context())
        .await
        .unwrap_err();
    assert!(reason(error).contains("no charge"));
    assert_eq!(model.requests().len(), 1);
}

#[tokio::test]
async fn malformed_json_is_retried_once_with_its_errors() {
    let bad = GOOD.replace(r#""amount": "5""#, r#""amount": 5"#);
    let model = scripted(vec![json(&bad), json(GOOD)]);
    let program = LlmInterpreter::new(model.clone())
        .interpret(PROMPT, &context())
        .await
        .unwrap();
    assert_eq!(
        program,
        serde_json::from_str::<PricingProgram>(GOOD).unwrap()
    );
    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    let retry = &requests[1].messages;
    assert_eq!(retry.len(), 4);
    assert_eq!(retry[..2], requests[0].messages[..]);
    assert_eq!(retry[2].role, Role::Assistant);
    assert_eq!(retry[2].content, bad);
    assert_eq!(retry[3].role, Role::User);
    assert!(
        retry[3]
            .content
            .contains("program.recurring[0].phases[0].amount"),
        "{}",
        retry[3].content
    );
    assert_eq!(requests[1].schema, program_schema());
}

#[tokio::test]
async fn two_bad_answers_are_refused_naming_the_problem() {
    let unknown = GOOD.replace(r#""version": 1,"#, r#""version": 1, "notes": "guessing","#);
    let model = scripted(vec![json("{ not json"), json(&unknown)]);
    let error = LlmInterpreter::new(model.clone())
        .interpret(PROMPT, &context())
        .await
        .unwrap_err();
    let reason = reason(error);
    assert!(reason.contains("notes"), "{reason}");
    assert!(reason.contains("unknown field"), "{reason}");
    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].messages[3].content.contains("not valid JSON"));
}

#[tokio::test]
async fn a_program_that_fails_validation_is_retried_with_the_field() {
    let gap = GOOD.replace(r#""from_period": 1"#, r#""from_period": 2"#);
    let model = scripted(vec![json(&gap), json(GOOD)]);
    LlmInterpreter::new(model.clone())
        .interpret(PROMPT, &context())
        .await
        .unwrap();
    let requests = model.requests();
    assert!(
        requests[1].messages[3]
            .content
            .contains("program.recurring[0].phases[0].from_period")
    );
}

#[tokio::test]
async fn a_wrong_currency_is_retried_then_refused() {
    let eur = GOOD.replace(r#""currency": "USD""#, r#""currency": "EUR""#);
    let model = scripted(vec![json(&eur), json(&eur)]);
    let error = LlmInterpreter::new(model.clone())
        .interpret(PROMPT, &context())
        .await
        .unwrap_err();
    let reason = reason(error);
    assert!(reason.contains("program.currency"), "{reason}");
    assert!(reason.contains("EUR"), "{reason}");
    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1].messages[3]
            .content
            .contains("plan's currency is USD")
    );
}

#[tokio::test]
async fn a_wrong_interval_is_a_problem_too() {
    let weekly = GOOD.replace(r#""unit": "month""#, r#""unit": "week""#);
    let model = scripted(vec![json(&weekly), json(GOOD)]);
    LlmInterpreter::new(model.clone())
        .interpret(PROMPT, &context())
        .await
        .unwrap();
    assert!(
        model.requests()[1].messages[3]
            .content
            .contains("program.interval")
    );
}

#[tokio::test]
async fn a_model_failure_stays_a_model_error() {
    let model = scripted(vec![Err("connection reset".into())]);
    let error = LlmInterpreter::new(model)
        .interpret(PROMPT, &context())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Model { .. }), "{error:?}");
}

#[tokio::test]
async fn empty_and_oversized_prompts_never_reach_the_model() {
    let model = scripted(vec![]);
    let interpreter = LlmInterpreter::new(model.clone());
    assert!(matches!(
        interpreter.interpret("  ", &context()).await,
        Err(Error::PromptNotUnderstood { .. })
    ));
    let long = "a".repeat(ai_billing::interpreter::MAX_PROMPT_CHARS + 1);
    assert!(matches!(
        interpreter.interpret(&long, &context()).await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(model.requests().is_empty());
}

#[tokio::test]
async fn auto_asks_the_model_only_for_prompts_the_offline_interpreter_refuses() {
    let model = scripted(vec![json(GOOD)]);
    let auto = AutoInterpreter::new(model.clone());
    assert_eq!(auto.name(), "auto(offline, llm:scripted)");

    let understood = "Bill $25 per month.";
    let program = auto.interpret(understood, &context()).await.unwrap();
    assert_eq!(program, interpret(understood, &context()).unwrap());
    assert!(model.requests().is_empty());

    let refused_offline = "Five dollars a month, and seventy-five cents for every newspaper we drop at the door on weekdays, two fifty on Sundays.";
    assert!(interpret(refused_offline, &context()).is_err());
    let program = auto.interpret(refused_offline, &context()).await.unwrap();
    assert_eq!(
        program,
        serde_json::from_str::<PricingProgram>(GOOD).unwrap()
    );
    assert_eq!(model.requests().len(), 1);
}

#[tokio::test]
async fn auto_passes_on_errors_other_than_not_understood() {
    let model = scripted(vec![]);
    let auto = AutoInterpreter::new(model.clone());
    let long = "$1 ".repeat(ai_billing::interpreter::MAX_PROMPT_CHARS);
    assert!(matches!(
        auto.interpret(&long, &context()).await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(model.requests().is_empty());
}

#[test]
fn modes_parse_and_build_their_interpreters() {
    assert_eq!(
        "offline".parse::<InterpreterMode>().unwrap(),
        InterpreterMode::Offline
    );
    assert_eq!(
        "openai".parse::<InterpreterMode>().unwrap(),
        InterpreterMode::Llm
    );
    assert_eq!(
        "Auto".parse::<InterpreterMode>().unwrap(),
        InterpreterMode::Auto
    );
    assert!(matches!(
        "gpt".parse::<InterpreterMode>(),
        Err(Error::InvalidInput { .. })
    ));
    for mode in [
        InterpreterMode::Offline,
        InterpreterMode::Llm,
        InterpreterMode::Auto,
    ] {
        assert_eq!(mode.to_string().parse::<InterpreterMode>().unwrap(), mode);
    }

    let model: Arc<dyn LanguageModel> = scripted(vec![]);
    let name = |mode, model| interpreter_for(mode, model).map(|i| i.name().to_owned());
    assert_eq!(name(InterpreterMode::Offline, None).unwrap(), "offline");
    assert_eq!(
        name(InterpreterMode::Offline, Some(model.clone())).unwrap(),
        "offline"
    );
    assert_eq!(
        name(InterpreterMode::Llm, Some(model.clone())).unwrap(),
        "llm:scripted"
    );
    assert_eq!(
        name(InterpreterMode::Auto, Some(model)).unwrap(),
        "auto(offline, llm:scripted)"
    );
    for mode in [InterpreterMode::Llm, InterpreterMode::Auto] {
        match interpreter_for(mode, None) {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "OPENAI_API_KEY");
                assert!(reason.contains("OPENAI_API_KEY"), "{reason}");
            }
            other => panic!("{mode}: expected InvalidInput, got {other:?}"),
        }
    }
}
