//! TypeScript declarations from JSON Schema definitions: the npm package's types are written
//! from the same schemas it ships ([`super::api_definitions`]), so the two cannot disagree.
//!
//! It covers what `schemars` derives for this crate's types (objects, optional and nullable
//! fields, string enums, tagged unions, arrays, tuples, maps, references) and says `unknown`
//! for anything else rather than guess.

use serde_json::{Map, Value};

/// `export interface` / `export type` declarations, one per definition, in the order given,
/// each with its description as a TSDoc comment.
pub fn declarations(definitions: &Map<String, Value>) -> String {
    let mut out = String::new();
    for (name, schema) in definitions {
        doc_comment(&mut out, schema, "");
        match object_body(schema, "") {
            Some(body) if !is_union(schema) => {
                out.push_str(&format!("export interface {name} {body}\n\n"));
            }
            _ => out.push_str(&format!("export type {name} = {};\n\n", ts(schema, ""))),
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn is_union(schema: &Value) -> bool {
    schema.get("oneOf").is_some() || schema.get("anyOf").is_some()
}

/// The TypeScript type of `schema`; `indent` is the indentation of the line it starts on.
fn ts(schema: &Value, indent: &str) -> String {
    let map = match schema {
        Value::Bool(true) => return "unknown".to_owned(),
        Value::Bool(false) => return "never".to_owned(),
        Value::Object(map) => map,
        _ => return "unknown".to_owned(),
    };
    if let Some(Value::String(reference)) = map.get("$ref") {
        let name = reference.rsplit('/').next().unwrap_or("unknown").to_owned();
        // A reference with properties beside it (an internally tagged variant: the tag beside
        // the variant's type) is both.
        return match object_body(schema, indent) {
            Some(body) => format!("{name} & {body}"),
            None => name,
        };
    }
    if let Some(value) = map.get("const") {
        return literal(value);
    }
    if let Some(Value::Array(values)) = map.get("enum") {
        return union(values.iter().map(literal).collect());
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(Value::Array(variants)) = map.get(keyword) {
            let base = object_body(schema, indent);
            let variants = variants.iter().map(|v| ts(v, indent)).collect();
            return match base {
                Some(body) => format!("{body} & ({})", union(variants)),
                None => union(variants),
            };
        }
    }
    if let Some(Value::Array(parts)) = map.get("allOf") {
        let parts: Vec<String> = parts.iter().map(|p| ts(p, indent)).collect();
        return parts.join(" & ");
    }
    match map.get("type") {
        Some(Value::String(kind)) => typed(kind, schema, indent),
        Some(Value::Array(kinds)) => union(
            kinds
                .iter()
                .filter_map(Value::as_str)
                .map(|kind| typed(kind, schema, indent))
                .collect(),
        ),
        _ => "unknown".to_owned(),
    }
}

fn typed(kind: &str, schema: &Value, indent: &str) -> String {
    match kind {
        "string" => "string".to_owned(),
        "integer" | "number" => "number".to_owned(),
        "boolean" => "boolean".to_owned(),
        "null" => "null".to_owned(),
        "array" => array(schema, indent),
        "object" => object_body(schema, indent).unwrap_or_else(|| "Record<string, unknown>".into()),
        _ => "unknown".to_owned(),
    }
}

fn array(schema: &Value, indent: &str) -> String {
    if let Some(Value::Array(items)) = schema.get("prefixItems") {
        let items: Vec<String> = items.iter().map(|item| ts(item, indent)).collect();
        return format!("[{}]", items.join(", "));
    }
    let item = schema
        .get("items")
        .map_or("unknown".to_owned(), |item| ts(item, indent));
    if item.contains(' ') {
        format!("Array<{item}>")
    } else {
        format!("{item}[]")
    }
}

/// An object's `{ ... }` with its properties (optional unless required), or `None` when the
/// schema has no properties (a map, or not an object).
fn object_body(schema: &Value, indent: &str) -> Option<String> {
    let properties = schema.get("properties").and_then(Value::as_object);
    let extra = schema.get("additionalProperties");
    let Some(properties) = properties else {
        return match extra {
            Some(Value::Bool(false)) | None => None,
            Some(Value::Bool(true)) => Some("Record<string, unknown>".to_owned()),
            Some(values) => Some(format!("Record<string, {}>", ts(values, indent))),
        };
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let inner = format!("{indent}  ");
    let mut body = String::from("{\n");
    for (name, property) in properties {
        doc_comment(&mut body, property, &inner);
        let optional = if required.contains(&name.as_str()) {
            ""
        } else {
            "?"
        };
        body.push_str(&format!(
            "{inner}{}{optional}: {};\n",
            property_name(name),
            ts(property, &inner)
        ));
    }
    if let Some(values) = extra.filter(|v| **v != Value::Bool(false)) {
        body.push_str(&format!("{inner}[key: string]: {};\n", ts(values, &inner)));
    }
    body.push_str(indent);
    body.push('}');
    Some(body)
}

fn property_name(name: &str) -> String {
    let plain = name.chars().enumerate().all(|(i, c)| {
        c == '_' || c == '$' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
    });
    if plain && !name.is_empty() {
        name.to_owned()
    } else {
        Value::String(name.to_owned()).to_string()
    }
}

fn literal(value: &Value) -> String {
    value.to_string()
}

/// `a | b`, each part in parentheses when it is itself an intersection, without repeats.
fn union(parts: Vec<String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for part in parts {
        let part = if part.contains(" & ") {
            format!("({part})")
        } else {
            part
        };
        if !seen.contains(&part) {
            seen.push(part);
        }
    }
    match seen.len() {
        0 => "never".to_owned(),
        _ => seen.join(" | "),
    }
}

fn doc_comment(out: &mut String, schema: &Value, indent: &str) {
    let Some(text) = schema.get("description").and_then(Value::as_str) else {
        return;
    };
    let text = text.replace("*/", "*\\/");
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() == 1 {
        out.push_str(&format!("{indent}/** {} */\n", lines[0]));
        return;
    }
    out.push_str(&format!("{indent}/**\n"));
    for line in lines {
        if line.is_empty() {
            out.push_str(&format!("{indent} *\n"));
        } else {
            out.push_str(&format!("{indent} * {line}\n"));
        }
    }
    out.push_str(&format!("{indent} */\n"));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn declare(name: &str, schema: Value) -> String {
        let mut definitions = Map::new();
        definitions.insert(name.to_owned(), schema);
        declarations(&definitions)
    }

    #[test]
    fn objects_become_interfaces_with_optional_and_nullable_fields() {
        let text = declare(
            "Plan",
            json!({
                "description": "A plan.",
                "type": "object",
                "properties": {
                    "id": {"type": ["string", "null"], "description": "Its id."},
                    "amount": {"type": "integer", "format": "int64"},
                    "interval": {"$ref": "#/$defs/IntervalUnit"},
                    "metadata": {"type": "object", "additionalProperties": true},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}
                },
                "required": ["amount", "interval"]
            }),
        );
        assert_eq!(
            text,
            "/** A plan. */\nexport interface Plan {\n  /** Its id. */\n  id?: string | null;\n  amount: number;\n  interval: IntervalUnit;\n  metadata?: Record<string, unknown>;\n  tags?: string[];\n  pair?: [string, number];\n}\n"
        );
    }

    #[test]
    fn enums_and_tagged_unions_become_union_types() {
        assert_eq!(
            declare(
                "Mode",
                json!({"type": "string", "enum": ["compiled", "agent"]})
            ),
            "export type Mode = \"compiled\" | \"agent\";\n"
        );
        assert_eq!(
            declare(
                "Mode",
                json!({"oneOf": [{"type": "string", "const": "a"}, {"const": "b", "description": "B."}]})
            ),
            "export type Mode = \"a\" | \"b\";\n"
        );
        let tagged = declare(
            "Outcome",
            json!({"oneOf": [
                {"type": "object", "properties": {"outcome": {"const": "refused"}, "reason": {"type": "string"}}, "required": ["outcome", "reason"]},
                {"type": "object", "properties": {"outcome": {"const": "understood"}}, "required": ["outcome"]}
            ]}),
        );
        assert_eq!(
            tagged,
            "export type Outcome = {\n  outcome: \"refused\";\n  reason: string;\n} | {\n  outcome: \"understood\";\n};\n"
        );
        // Internally tagged newtype variants: the tag beside a reference to the variant's type.
        let referenced = declare(
            "Basis",
            json!({"oneOf": [
                {"$ref": "#/$defs/Flat", "type": "object", "properties": {"type": {"type": "string", "const": "flat"}}, "required": ["type"]}
            ]}),
        );
        assert_eq!(
            referenced,
            "export type Basis = (Flat & {\n  type: \"flat\";\n});\n"
        );
    }

    #[test]
    fn what_is_not_understood_is_unknown_and_odd_names_are_quoted() {
        let text = declare(
            "Odd",
            json!({"type": "object", "properties": {"a-b": true, "c": {"not": {}}}}),
        );
        assert_eq!(
            text,
            "export interface Odd {\n  \"a-b\"?: unknown;\n  c?: unknown;\n}\n"
        );
    }
}
