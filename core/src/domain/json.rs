//! JSON helpers every layer uses: reading a JSON object and saying where it is wrong, the schema
//! markers of exact values (decimal strings, exact numbers, RFC 3339 instants), the schema
//! `schemars` derives for a type, and its rewrite into OpenAI's strict subset ([`strict`]).
//!
//! A leaf: it imports nothing of this crate, so the pure domain can use it without reaching up
//! into the API's modules.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde_json::Value;

pub mod strict;

pub use strict::{strict_problems, to_strict};

/// Where a JSON error is, as `(field path, message)`: the path of the value that failed (with the
/// missing field's name appended for a missing field), or `root` for the document itself and for
/// malformed JSON.
pub(crate) fn json_error_location(
    err: &serde_path_to_error::Error<serde_json::Error>,
    root: &str,
) -> (String, String) {
    let inner = err.inner();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let path = err.path().to_string();
            let mut field = if path == "." { root.to_owned() } else { path };
            let message = inner.to_string();
            if let Some(name) = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
            {
                field = if field == root {
                    name.to_owned()
                } else {
                    format!("{field}.{name}")
                };
            }
            (field, message)
        }
        _ => (root.to_owned(), format!("is not valid JSON: {inner}")),
    }
}

/// Parses `text` as a JSON object of type `T`, or says where it is wrong as `(field path,
/// message)` (see [`json_error_location`]). Anything but an object at the top is refused as such
/// (serde would otherwise read a struct from an array, field by field).
pub(crate) fn from_json_object<T: serde::de::DeserializeOwned>(
    text: &str,
    root: &str,
) -> std::result::Result<T, (String, String)> {
    if !text.trim_start().starts_with('{') {
        let message = match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => "must be a JSON object".to_owned(),
            Err(e) => format!("is not valid JSON: {e}"),
        };
        return Err((root.to_owned(), message));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| json_error_location(&e, root))?;
    deserializer
        .end()
        .map_err(|e| (root.to_owned(), format!("is not valid JSON: {e}")))?;
    Ok(value)
}

/// The schema `schemars` derives for what `T` deserialises from (JSON Schema 2020-12), before
/// [`to_strict`].
pub(crate) fn schema_for<T: JsonSchema>() -> Value {
    let mut schema = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    plain_descriptions(&mut schema);
    schema
}

/// Descriptions come from doc comments: turn their rustdoc into what a model reads (links and code
/// marks dropped, `None` said as `null`).
pub(crate) fn plain_descriptions(node: &mut Value) {
    match node {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(text) if key == "description" => {
                        *text = text
                            .replace("`None`", "null")
                            .replace("[`", "")
                            .replace("`]", "")
                            .replace('`', "");
                    }
                    _ => plain_descriptions(value),
                }
            }
        }
        Value::Array(values) => values.iter_mut().for_each(plain_descriptions),
        _ => {}
    }
}

/// A price in a pricing program: a decimal number written as a JSON string.
pub(crate) struct DecimalString;

impl JsonSchema for DecimalString {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "DecimalString".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DECIMAL_PATTERN,
            "description": "A decimal number in major units written as a string, for example \"0.75\" or \"25\"; no currency sign, no exponent.",
        })
    }
}

/// What a decimal string in a program looks like.
const DECIMAL_PATTERN: &str = "^-?[0-9]+(\\.[0-9]+)?$";

/// An amount in the agent payload: an exact JSON number (read without a float).
pub(crate) struct ExactNumber;

impl JsonSchema for ExactNumber {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "ExactNumber".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "description": "An amount in major units as a JSON number, exact to the currency's minor unit (10.00).",
        })
    }
}

/// An instant in the agent payload: RFC 3339 with the account's UTC offset.
pub(crate) struct Rfc3339;

impl JsonSchema for Rfc3339 {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Rfc3339".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "An RFC 3339 instant with the account's UTC offset, for example \"2026-01-15T00:00:00-05:00\".",
        })
    }
}
