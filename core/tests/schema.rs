//! The strict JSON schemas of the pricing program and the agent payload: strict-valid, and
//! describing exactly what the types write and read (including `null` for every optional field).

use ai_billing::agent::AgentPayload;
use ai_billing::calendar::{BillingInterval, IntervalUnit};
use ai_billing::interpreter::{PlanContext, interpret};
use ai_billing::money::Currency;
use ai_billing::pricing::PricingProgram;
use ai_billing::schema::{payload_schema, program_schema, strict_problems};
use serde_json::{Value, json};

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::new(schema).expect("the schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{instance:#}");
}

fn monthly(currency: &str) -> PlanContext {
    PlanContext {
        currency: Currency::parse(currency).unwrap(),
        interval: BillingInterval {
            unit: IntervalUnit::Month,
            count: 1,
        },
    }
}

const PROMPTS: [&str; 14] = [
    "Bill $25 per month.",
    "Charge $12 per month for each copy.",
    "The first 10 shipments each month are free; after that $0.80 per shipment.",
    "First 20 shipments each month at $1.00, additional shipments at $0.60.",
    "A $15 monthly base fee, plus $0.50 per delivery Monday to Saturday and $1.50 per Sunday delivery.",
    "Charge $0.10 per copy delivered.",
    "Charge $1 per shipment; returned shipments are not billed.",
    "Bill $5 for the first month and increase by $1 per month.",
    "Start at $20 per month, increasing by $2.50 each month until it reaches $30.",
    "Free for the first month, then $10 per month, increasing by 10% each year.",
    "Volume pricing: 1-50 shipments at $1 each, 51 and above at $0.80 each.",
    "First 10 shipments are free, next 20 at $1 each, then $0.50 each.",
    "Bill $15 per month base plus $0.20 per shipment, with a usage minimum of $5.",
    "Weekdays $0.75, Saturdays $1, Sundays $2.50 per delivery.",
];

#[test]
fn both_schemas_follow_the_strict_subset() {
    for schema in [program_schema(), payload_schema()] {
        assert_eq!(
            strict_problems(&schema.schema),
            Vec::<String>::new(),
            "{}",
            schema.name
        );
        assert!(
            schema
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
    }
    assert_eq!(program_schema().name, "pricing_program");
    assert_eq!(payload_schema().name, "agent_payload");
}

/// The fields a program leaves out when it is absent (`skip_serializing_if`), which strict output
/// writes as `null` instead.
const OPTIONAL: [&str; 19] = [
    "to_period",
    "step",
    "floor",
    "ceiling",
    "discount_percent",
    "allowance",
    "minimum",
    "cap",
    "returns",
    "recurring",
    "usage",
    "up_to",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A serialised program in the form a strict model writes it: every optional field present, as
/// `null` where the program has none.
fn strict_form(value: &Value) -> Value {
    fn fill(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.values_mut().for_each(fill);
                let is_phase = map.contains_key("from_period");
                let is_usage = map.contains_key("metric");
                let is_program = map.contains_key("version");
                let is_tier = map.contains_key("unit_price");
                let is_rates = !map.is_empty() && map.keys().all(|k| k.ends_with("day"));
                for key in OPTIONAL {
                    let applies = match key {
                        "to_period" | "step" | "floor" | "ceiling" | "discount_percent" => is_phase,
                        "allowance" | "minimum" | "cap" | "returns" => is_usage,
                        "recurring" | "usage" => is_program,
                        "up_to" => is_tier,
                        _ => is_rates,
                    };
                    if applies {
                        map.entry(key.to_owned()).or_insert(Value::Null);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(fill),
            _ => {}
        }
    }
    let mut value = value.clone();
    fill(&mut value);
    value
}

#[test]
fn offline_programs_validate_against_the_program_schema_and_read_back_from_strict_form() {
    let validator = validator(&program_schema().schema);
    let yen = PlanContext {
        currency: Currency::JPY,
        interval: BillingInterval {
            unit: IntervalUnit::Month,
            count: 1,
        },
    };
    let mut programs: Vec<(String, PricingProgram)> = PROMPTS
        .iter()
        .map(|prompt| {
            let program =
                interpret(prompt, &monthly("USD")).unwrap_or_else(|e| panic!("{prompt}: {e}"));
            (prompt.to_string(), program)
        })
        .collect();
    programs.push((
        "yen".to_owned(),
        interpret("Charge 800 JPY per month plus 50 JPY per shipment.", &yen).expect("a yen plan"),
    ));
    for (prompt, program) in programs {
        let written = serde_json::to_value(&program).unwrap();
        // The program as written leaves absent fields out; strict output writes them as null.
        let strict = strict_form(&written);
        assert_valid(&validator, &strict, &prompt);
        let back: PricingProgram = serde_json::from_value(strict.clone())
            .unwrap_or_else(|e| panic!("{prompt}: {e}\n{strict:#}"));
        assert_eq!(back, program, "{prompt}");
        // Deriving the schema changed nothing in how a program is written.
        assert_eq!(serde_json::to_value(&back).unwrap(), written, "{prompt}");
    }
}

#[test]
fn the_program_schema_still_refuses_what_the_types_refuse() {
    let validator = validator(&program_schema().schema);
    let good = json!({
        "version": 1, "currency": "USD", "interval": { "unit": "month", "count": 1 },
        "recurring": null,
        "usage": [ { "description": "Usage (Shipment) charge", "metric": "shipments",
                     "pricing": { "kind": "graduated", "tiers": [
                        { "up_to": 20, "unit_price": "1.00" }, { "up_to": null, "unit_price": "0.60" } ] },
                     "returns": null, "allowance": null, "minimum": "5", "cap": null } ]
    });
    assert_valid(&validator, &good, "graduated");
    let program: PricingProgram = serde_json::from_value(good.clone()).unwrap();
    program.validate().unwrap();

    for (field, bad) in [
        ("unknown field", json!({ "surprise": true })),
        (
            "amount as a number",
            json!({ "usage": [ { "minimum": 5 } ] }),
        ),
        ("lower-case currency", json!({ "currency": "usd" })),
        ("version 2", json!({ "version": 2 })),
    ] {
        let mut instance = good.clone();
        merge(&mut instance, &bad);
        assert!(!validator.is_valid(&instance), "{field} passed the schema");
    }
    // And serde refuses what the schema refuses where it matters (unknown fields, number prices).
    let mut unknown = good.clone();
    merge(&mut unknown, &json!({ "surprise": true }));
    assert!(serde_json::from_value::<PricingProgram>(unknown).is_err());
    let mut number = good.clone();
    merge(&mut number, &json!({ "usage": [ { "minimum": 5 } ] }));
    assert!(serde_json::from_value::<PricingProgram>(number).is_err());
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if v.is_object() || v.is_array() => merge(existing, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(p)) => {
            for (existing, v) in t.iter_mut().zip(p) {
                merge(existing, v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

#[test]
fn payloads_validate_against_the_payload_schema() {
    let validator = validator(&payload_schema().schema);
    let text = r#"{ "subscription_updates": { "current_period_start": "2026-01-15T00:00:00-05:00",
                              "current_period_end": "2026-02-15T00:00:00-05:00" },
        "invoice": { "amount": 10.00, "currency": "USD",
                     "start_date": "2026-01-15T00:00:00-05:00", "end_date": "2026-02-15T00:00:00-05:00",
                     "line_items": [ { "description": "Base charge (month 1)", "amount": 5.00 },
                                     { "description": "Usage (Shipment) charge", "amount": 5.00 } ] } }"#;
    let payload = AgentPayload::parse(text).unwrap();
    let json = serde_json::to_value(&payload).unwrap();
    assert_valid(&validator, &json, "payload");
    assert_eq!(json["invoice"]["amount"].to_string(), "10.00");

    let mut string_amount = json.clone();
    string_amount["invoice"]["amount"] = json!("10.00");
    assert!(!validator.is_valid(&string_amount));
    let mut extra = json.clone();
    extra["invoice"]["tax"] = json!(1);
    assert!(!validator.is_valid(&extra));
}

#[test]
fn key_paths_of_the_schemas() {
    let program = program_schema().schema;
    let defs = &program["$defs"];
    assert_eq!(program["type"], "object");
    assert_eq!(program["additionalProperties"], false);
    assert_eq!(
        program["required"],
        json!(["version", "currency", "interval", "recurring", "usage"])
    );
    assert_eq!(program["properties"]["version"]["enum"], json!([1]));
    assert_eq!(program["properties"]["currency"]["type"], "string");
    assert_eq!(program["properties"]["currency"]["pattern"], "^[A-Z]{3}$");
    // An optional list: nullable.
    assert_eq!(
        program["properties"]["usage"]["anyOf"][1],
        json!({ "type": "null" })
    );
    // Prices are decimal strings; optional ones nullable strings.
    let phase = &defs["Phase"]["properties"];
    assert_eq!(phase["amount"]["type"], "string");
    assert_eq!(phase["amount"]["pattern"], "^-?[0-9]+(\\.[0-9]+)?$");
    assert_eq!(phase["floor"]["type"], json!(["string", "null"]));
    assert_eq!(phase["to_period"]["type"], json!(["integer", "null"]));
    assert!(phase["to_period"].get("format").is_none());
    assert!(phase["to_period"].get("minimum").is_none());
    // Usage pricing: a union of closed objects told apart by `kind`.
    let kinds: Vec<Value> = defs["UsagePricing"]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["properties"]["kind"]["enum"][0].clone())
        .collect();
    assert_eq!(
        kinds,
        [json!("per_unit"), json!("graduated"), json!("volume")]
    );
    let rates = &defs["UsagePricing"]["anyOf"][0]["properties"]["rates"];
    assert_eq!(rates["required"].as_array().unwrap().len(), 7);
    assert_eq!(
        rates["properties"]["sunday"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(
        defs["Tier"]["properties"]["up_to"]["type"],
        json!(["integer", "null"])
    );
    // Descriptions come from the doc comments, in plain words.
    assert!(
        phase["to_period"]["description"]
            .as_str()
            .unwrap()
            .contains("null for ever after")
    );

    let payload = payload_schema().schema;
    let invoice = &payload["$defs"]["PayloadInvoice"]["properties"];
    assert_eq!(invoice["amount"]["type"], "number");
    assert_eq!(invoice["start_date"]["format"], "date-time");
    assert_eq!(
        payload["required"],
        json!(["subscription_updates", "invoice"])
    );
}
