//! The platform's OpenAPI 3.1 document (`bindings-node/openapi.json`): the operations of
//! [`crate::api`] as the platform's backend exposes them over HTTP, and the webhooks it sends.
//!
//! The paths, parameters and the shapes only HTTP has (listing pages, the error body, webhook
//! event data) are a checked-in template (`openapi.template.json`, beside this file). Everything
//! else is generated here, so the document cannot drift from the library:
//! - `components.schemas` from [`super::api_definitions`], the schemas the TypeScript types
//!   (`types.d.ts`) are written from;
//! - each request body (`x-derive` in the template) from its library request, less the fields the
//!   path carries and a `request_id` (the `Idempotency-Key` header carries it);
//! - the error codes and their HTTP statuses from [`ErrorCode`];
//! - one webhook per [`EventType`](crate::api) value, each an envelope whose `data` is its
//!   object's.

use serde_json::{Map, Value, json};

use crate::error::ErrorCode;

use super::api_definitions;

const TEMPLATE: &str = include_str!("openapi.template.json");
const SCHEMAS: &str = "#/components/schemas/";
const REQUEST_ID: &str = "The platform passes it to the library as the request's `request_id`, \
    which is therefore not in the body.";

/// The whole document, ready to be written as `openapi.json`.
///
/// # Panics
/// When the template is not JSON, a template schema has the name of a generated one, or a body
/// derives from a schema that is not an object: mistakes in this crate's own files, caught by
/// its tests.
pub fn document() -> Value {
    let mut document: Value = serde_json::from_str(TEMPLATE).expect("the template is JSON");
    document["info"]["version"] = Value::String(env!("CARGO_PKG_VERSION").to_owned());
    let template = take_object(
        document["components"]
            .as_object_mut()
            .expect("the template has components"),
        "schemas",
    );
    let mut schemas = merge_schemas(template);
    schemas.insert("ErrorCode".to_owned(), error_code_schema());
    if derive_bodies(&mut schemas) {
        let key = &mut document["components"]["parameters"]["IdempotencyKey"]["description"];
        let text = format!("{} {REQUEST_ID}", key.as_str().unwrap_or_default());
        *key = Value::String(text);
    }
    let webhooks = webhooks(&mut schemas);
    schemas.sort_keys();
    let components = document["components"].as_object_mut().expect("components");
    components.insert("schemas".to_owned(), Value::Object(schemas));
    let responses = components
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    responses.extend(error_responses());
    add_default_errors(&mut document["paths"]);
    document["webhooks"] = Value::Object(webhooks);
    document
}

/// The HTTP status a platform answers with for each error code.
pub fn http_status(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::InvalidInput => 400,
        ErrorCode::PlanNotAvailable => 403,
        ErrorCode::NotFound => 404,
        ErrorCode::Conflict => 409,
        ErrorCode::PromptNotUnderstood | ErrorCode::InvalidPayload => 422,
        ErrorCode::Internal | ErrorCode::Storage => 500,
        ErrorCode::Model => 502,
        ErrorCode::Contended | ErrorCode::Closed => 503,
    }
}

/// The name of the response in `components.responses` for a status.
fn response_name(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        422 => "UnprocessableContent",
        500 => "InternalError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        _ => "Error",
    }
}

fn take_object(map: &mut Map<String, Value>, key: &str) -> Map<String, Value> {
    match map.remove(key) {
        Some(Value::Object(object)) => object,
        _ => Map::new(),
    }
}

/// The generated schemas (their `$defs` references pointed at `components.schemas`), and the
/// template's, which must not shadow them.
fn merge_schemas(template: Map<String, Value>) -> Map<String, Value> {
    let mut schemas = api_definitions();
    schemas.values_mut().for_each(rewrite_refs);
    for (name, mut schema) in template {
        if let Some(object) = schema.as_object_mut() {
            object.remove("x-http-only");
        }
        assert!(
            !schemas.contains_key(&name),
            "the template's schema {name} has the name of a generated one"
        );
        schemas.insert(name, schema);
    }
    schemas
}

/// `#/$defs/X` -> `#/components/schemas/X`, everywhere in `value`.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some(name) = reference.strip_prefix("#/$defs/")
            {
                *reference = format!("{SCHEMAS}{name}");
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// Every code, with its HTTP status in the description.
fn error_code_schema() -> Value {
    let lines: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|code| format!("- `{code}`: {}", http_status(*code)))
        .collect();
    json!({
        "description": format!(
            "The library's stable error code (JS `err.code`, the C result), and the HTTP \
             status it is answered with:\n{}",
            lines.join("\n")
        ),
        "type": "string",
        "enum": ErrorCode::ALL.iter().map(|code| code.as_str()).collect::<Vec<_>>(),
    })
}

/// One response per HTTP status an error code maps to, naming its codes, and `Error` for any.
fn error_responses() -> Map<String, Value> {
    let mut statuses: Vec<u16> = ErrorCode::ALL.iter().map(|c| http_status(*c)).collect();
    statuses.sort_unstable();
    statuses.dedup();
    let body = json!({"application/json": {"schema": {"$ref": format!("{SCHEMAS}ErrorBody")}}});
    let mut responses = Map::new();
    for status in statuses {
        let codes: Vec<&str> = ErrorCode::ALL
            .iter()
            .filter(|code| http_status(**code) == status)
            .map(|code| code.as_str())
            .collect();
        responses.insert(
            response_name(status).to_owned(),
            json!({"description": format!("Error: {}.", codes.join(", ")), "content": body}),
        );
    }
    responses.insert(
        "Error".to_owned(),
        json!({"description": "Any error: the code says which (see ErrorCode).", "content": body}),
    );
    responses
}

/// Every operation answers the other errors (500, 503, ...) as `default`.
fn add_default_errors(paths: &mut Value) {
    let Some(paths) = paths.as_object_mut() else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for (method, operation) in item.iter_mut() {
            if method == "parameters" {
                continue;
            }
            if let Some(responses) = operation["responses"].as_object_mut() {
                responses
                    .entry("default")
                    .or_insert_with(|| json!({"$ref": "#/components/responses/Error"}));
            }
        }
    }
}

/// Replaces each `{"x-derive": {"from", "omit"}}` with its library request's schema, less the
/// fields omitted and `request_id`; true when some request had a `request_id`.
fn derive_bodies(schemas: &mut Map<String, Value>) -> bool {
    let mut request_id = false;
    let derived: Vec<(String, String, Vec<String>)> = schemas
        .iter()
        .filter_map(|(name, schema)| {
            let spec = schema.get("x-derive")?;
            let from = spec["from"]
                .as_str()
                .expect("x-derive names from")
                .to_owned();
            let mut omit: Vec<String> = spec["omit"]
                .as_array()
                .map(|names| {
                    names
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            omit.push("request_id".to_owned());
            Some((name.clone(), from, omit))
        })
        .collect();
    for (name, from, omit) in derived {
        let mut schema = schemas
            .get(&from)
            .unwrap_or_else(|| panic!("{name} derives from {from}, which is not a schema"))
            .clone();
        let object = schema
            .as_object_mut()
            .filter(|object| object.contains_key("properties"))
            .unwrap_or_else(|| panic!("{name} derives from {from}, which is not an object"));
        if let Some(Value::Object(properties)) = object.get_mut("properties") {
            request_id |= properties.contains_key("request_id");
            properties.retain(|key, _| !omit.contains(key));
        }
        if let Some(Value::Array(required)) = object.get_mut("required") {
            required.retain(|key| !key.as_str().is_some_and(|k| omit.contains(&k.to_owned())));
        }
        let description = object
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let note = if omit.len() > 1 {
            format!(
                " The body of {from} over HTTP: {} in the path.",
                omit[..omit.len() - 1].join(", ")
            )
        } else {
            format!(" The body of {from} over HTTP.")
        };
        object.insert(
            "description".to_owned(),
            Value::String(format!("{description}{note}").trim().to_owned()),
        );
        schemas.insert(name, schema);
    }
    request_id
}

/// The event types (`EventType`'s values, with their descriptions).
fn event_types(schemas: &Map<String, Value>) -> Vec<(String, String)> {
    let Some(schema) = schemas.get("EventType") else {
        return Vec::new();
    };
    let describe = |value: &Value| {
        value
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if let Some(Value::Array(values)) = schema.get("enum") {
        return values
            .iter()
            .filter_map(|v| Some((v.as_str()?.to_owned(), String::new())))
            .collect();
    }
    schema
        .get("oneOf")
        .and_then(Value::as_array)
        .map(|variants| {
            variants
                .iter()
                .filter_map(|v| Some((v.get("const")?.as_str()?.to_owned(), describe(v))))
                .collect()
        })
        .unwrap_or_default()
}

/// `invoice.issued` -> `InvoiceIssued`.
fn pascal(name: &str) -> String {
    name.split(['.', '_'])
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect()
}

/// One webhook per event type: its envelope (`PlatformEvent` with its `type` and its object's
/// `data`, as `{Type}Event` in `schemas`) posted with the Standard Webhooks headers.
fn webhooks(schemas: &mut Map<String, Value>) -> Map<String, Value> {
    let mut webhooks = Map::new();
    for (event_type, description) in event_types(schemas) {
        let object = event_type.split('.').next().unwrap_or_default();
        let data = format!("{}EventData", pascal(object));
        let data = if schemas.contains_key(&data) {
            json!({"$ref": format!("{SCHEMAS}{data}")})
        } else {
            json!({"type": "object"})
        };
        let name = format!("{}Event", pascal(&event_type));
        schemas.insert(
            name.clone(),
            json!({
                "description": format!("The body of the `{event_type}` webhook, and of `{event_type}` in `GET /v1/events`."),
                "allOf": [
                    {"$ref": format!("{SCHEMAS}PlatformEvent")},
                    {
                        "type": "object",
                        "properties": {"type": {"const": event_type}, "data": data},
                        "required": ["type", "data"]
                    }
                ]
            }),
        );
        let summary = if description.is_empty() {
            event_type.clone()
        } else {
            description
        };
        webhooks.insert(
            event_type.clone(),
            json!({"post": {
                "operationId": format!("on{}", pascal(&event_type)),
                "summary": summary,
                "description": "Posted to every enabled endpoint that takes this type, at least once \
                    (deduplicate by `webhook-id`), in the order the events were written; a failed \
                    attempt is retried with exponential backoff, and an endpoint that keeps failing \
                    is disabled with its events kept. Verify `webhook-signature` over the raw body \
                    before trusting it.",
                "tags": ["Webhooks"],
                "parameters": [
                    {"$ref": "#/components/parameters/WebhookId"},
                    {"$ref": "#/components/parameters/WebhookTimestamp"},
                    {"$ref": "#/components/parameters/WebhookSignature"}
                ],
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {"schema": {"$ref": format!("{SCHEMAS}{name}")}}}
                },
                "responses": {
                    "2XX": {"description": "Received: any 2xx answer acknowledges the delivery."},
                    "default": {"description": "Anything else, or no answer in time: the delivery is retried."}
                }
            }}),
        );
    }
    webhooks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn references(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    found.push(reference.clone());
                }
                map.values().for_each(|v| references(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, found)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_and_nothing_of_the_template_is_left_over() {
        let document = document();
        let mut found = Vec::new();
        references(&document, &mut found);
        assert!(found.len() > 100, "{}", found.len());
        for reference in found {
            let pointer = reference.strip_prefix('#').expect("a local reference");
            assert!(
                document.pointer(pointer).is_some(),
                "{reference} does not resolve"
            );
        }
        let text = document.to_string();
        for marker in ["x-derive", "x-http-only", "$defs"] {
            assert!(!text.contains(marker), "{marker} is left in the document");
        }
    }

    #[test]
    fn the_library_shapes_are_the_generated_ones() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        for (name, schema) in api_definitions() {
            let mut schema = schema;
            rewrite_refs(&mut schema);
            assert_eq!(schemas[&name], schema, "{name}");
        }
        // An AI plan is a plan: the same schema, with its prompt and usage query.
        let plan = &schemas["Plan"]["properties"];
        for field in [
            "id",
            "amount",
            "currency",
            "interval",
            "type",
            "ai_prompt",
            "usage_query",
        ] {
            assert!(plan.get(field).is_some(), "Plan.{field}");
        }
    }

    #[test]
    fn bodies_leave_out_what_the_path_and_the_header_carry() {
        let document = document();
        let body = &document["components"]["schemas"]["ChangeQuantityBody"];
        let properties = body["properties"].as_object().unwrap();
        assert!(properties.contains_key("account_id"));
        assert!(properties.contains_key("quantity"));
        assert!(!properties.contains_key("subscription_id"));
        assert!(!properties.contains_key("request_id"));
        assert!(
            !body["required"]
                .as_array()
                .unwrap()
                .contains(&json!("subscription_id"))
        );
    }

    /// The query parameters of `GET path`, by name, their `$ref`s resolved.
    fn query_names(document: &Value, path: &str) -> Vec<String> {
        let parameters = document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap();
        let mut names: Vec<String> = parameters
            .iter()
            .map(|parameter| match parameter["$ref"].as_str() {
                Some(reference) => document.pointer(&reference[1..]).unwrap().clone(),
                None => parameter.clone(),
            })
            .map(|parameter| parameter["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn listings_take_the_fields_of_their_library_requests() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        for (path, request, page) in [
            ("/v1/plans", "PlanListQuery", "PlanPage"),
            ("/v1/customers", "ListCustomers", "CustomerPage"),
            ("/v1/subscriptions", "ListSubscriptions", "SubscriptionPage"),
            ("/v1/invoices", "ListInvoices", "InvoicePage"),
            ("/v1/credit-notes", "ListCreditNotes", "CreditNotePage"),
            ("/v1/events", "EventsRequest", "EventPage"),
        ] {
            let mut fields: Vec<String> = schemas[request]["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{request}"))
                .keys()
                .cloned()
                .collect();
            fields.sort();
            assert_eq!(query_names(&document, path), fields, "GET {path}");
            let answer = &document["paths"][path]["get"]["responses"]["200"]["content"];
            let reference = answer["application/json"]["schema"]["$ref"].as_str();
            assert_eq!(
                reference,
                Some(format!("{SCHEMAS}{page}").as_str()),
                "{path}"
            );
        }
    }

    #[test]
    fn every_post_is_safe_to_retry_and_every_operation_has_an_id_and_errors() {
        let document = document();
        let mut ids = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                if method == "parameters" {
                    continue;
                }
                ids.push(operation["operationId"].as_str().unwrap().to_owned());
                assert!(operation["responses"]["default"].is_object(), "{path}");
                if method == "post" {
                    let key = json!({"$ref": "#/components/parameters/IdempotencyKey"});
                    assert!(
                        operation["parameters"].as_array().unwrap().contains(&key),
                        "POST {path} takes no Idempotency-Key"
                    );
                }
            }
        }
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids repeat");
    }

    #[test]
    fn every_error_code_has_a_status_and_a_response() {
        let document = document();
        let codes = &document["components"]["schemas"]["ErrorCode"]["enum"];
        assert_eq!(codes.as_array().unwrap().len(), ErrorCode::ALL.len());
        assert_eq!(http_status(ErrorCode::InvalidInput), 400);
        assert_eq!(http_status(ErrorCode::Conflict), 409);
        for code in ErrorCode::ALL {
            let name = response_name(http_status(code));
            assert_ne!(name, "Error", "{code}");
            assert!(document["components"]["responses"][name].is_object());
        }
    }

    #[test]
    fn each_event_type_is_a_signed_webhook_with_its_objects_data() {
        let document = document();
        let webhooks = document["webhooks"].as_object().unwrap();
        for name in [
            "invoice.issued",
            "invoice.held",
            "credit_note.issued",
            "subscription.created",
            "subscription.canceled",
            "subscription.paused",
            "subscription.resumed",
            "subscription.plan_changed",
            "subscription.quantity_changed",
        ] {
            let post = &webhooks[name]["post"];
            assert_eq!(post["parameters"].as_array().unwrap().len(), 3, "{name}");
        }
        let issued = &document["components"]["schemas"]["InvoiceIssuedEvent"]["allOf"][1];
        assert_eq!(issued["properties"]["type"]["const"], "invoice.issued");
        assert_eq!(
            issued["properties"]["data"]["$ref"],
            "#/components/schemas/InvoiceEventData"
        );
        assert_eq!(pascal("credit_note.issued"), "CreditNoteIssued");
    }
}
