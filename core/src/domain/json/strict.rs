//! The rewrite of a JSON schema into the subset OpenAI's strict structured output accepts
//! ([`to_strict`]), and the check of that subset ([`strict_problems`]).

use serde_json::{Map, Value};

/// Keywords strict mode accepts in a subschema; [`to_strict`] drops the others.
const ALLOWED_KEYWORDS: [&str; 12] = [
    "type",
    "description",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "anyOf",
    "$ref",
    "$defs",
    "pattern",
    "format",
];

/// The string formats strict mode accepts; [`to_strict`] drops any other `format`.
const ALLOWED_FORMATS: [&str; 9] = [
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// How deeply objects may nest in a strict schema.
const MAX_OBJECT_DEPTH: usize = 10;

/// Rewrites a JSON schema into OpenAI's strict structured-output subset:
///
/// - every object gets `additionalProperties: false` and lists all its properties in `required`;
///   a property that was not required becomes nullable (`type: [T, "null"]` for a scalar,
///   `null` added to an `enum`, `anyOf: [.., {"type": "null"}]` for an object, array or union);
/// - `oneOf` becomes `anyOf`, `const` becomes a one-value `enum`, a one-element `allOf` is merged
///   into its schema;
/// - a `$ref` with sibling keywords is wrapped (`anyOf: [{"$ref": ..}]` beside them);
/// - a nullable object or array (`type: ["object", "null"]`) becomes `anyOf` with `null`;
/// - keywords outside the subset are dropped (`$schema`, `title`, `default`, `examples`,
///   `minimum`, `maximum`, `minLength`, `minItems`, ...), and `format` unless it is one strict mode
///   knows (`date-time`, `date`, `uuid`, ...).
///
/// [`strict_problems`] of the result is empty for the schemas of this crate.
pub fn to_strict(mut schema: Value) -> Value {
    strictify(&mut schema);
    schema
}

fn strictify(node: &mut Value) {
    let Value::Object(map) = node else {
        return;
    };
    // Merge a one-element allOf (how generators attach a description to a reference).
    if let Some(Value::Array(all)) = map.get("allOf")
        && all.len() == 1
        && let Some(Value::Object(inner)) = map.remove("allOf").and_then(|mut v| {
            v.as_array_mut()
                .and_then(|a| a.pop())
                .filter(Value::is_object)
        })
    {
        for (k, v) in inner {
            map.entry(k).or_insert(v);
        }
    }
    if let Some(one_of) = map.remove("oneOf") {
        match map.get_mut("anyOf") {
            Some(Value::Array(any)) => any.extend(one_of.as_array().cloned().unwrap_or_default()),
            _ => {
                map.insert("anyOf".to_owned(), one_of);
            }
        }
    }
    if let Some(value) = map.remove("const") {
        map.insert("enum".to_owned(), Value::Array(vec![value]));
    }
    if let Some(Value::String(format)) = map.get("format")
        && !ALLOWED_FORMATS.contains(&format.as_str())
    {
        map.remove("format");
    }
    map.retain(|key, _| ALLOWED_KEYWORDS.contains(&key.as_str()));

    if let Some(Value::Object(defs)) = map.get_mut("$defs") {
        defs.values_mut().for_each(strictify);
    }
    if let Some(Value::Array(any)) = map.get_mut("anyOf") {
        any.iter_mut().for_each(strictify);
    }
    if let Some(items) = map.get_mut("items") {
        strictify(items);
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(strictify);
        let required: Vec<String> = match map.get("required") {
            Some(Value::Array(r)) => r
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let Some(Value::Object(properties)) = map.get_mut("properties") else {
            unreachable!("matched above");
        };
        for (name, property) in properties.iter_mut() {
            if !required.contains(name) {
                make_nullable(property);
            }
        }
        let all: Vec<Value> = properties.keys().cloned().map(Value::String).collect();
        map.insert("required".to_owned(), Value::Array(all));
        map.insert("additionalProperties".to_owned(), Value::Bool(false));
        map.insert("type".to_owned(), Value::String("object".to_owned()));
    }
    split_nullable_composite(node);
    wrap_ref_with_siblings(node);
}

/// `type: ["object", "null"]` (or array) becomes `anyOf: [{..object..}, {"type": "null"}]`.
fn split_nullable_composite(node: &mut Value) {
    let Value::Object(map) = node else { return };
    let Some(Value::Array(types)) = map.get("type") else {
        return;
    };
    let nullable = types.iter().any(|t| t == "null");
    let composite: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
    let is_composite = composite.iter().any(|t| t == "object" || t == "array");
    if !(nullable && is_composite && composite.len() == 1) {
        return;
    }
    let description = map.remove("description");
    let mut inner = std::mem::take(map);
    inner.insert("type".to_owned(), composite[0].clone());
    if let Some(Value::Array(values)) = inner.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    let mut outer = Map::new();
    if let Some(d) = description {
        outer.insert("description".to_owned(), d);
    }
    outer.insert(
        "anyOf".to_owned(),
        Value::Array(vec![Value::Object(inner), null_schema()]),
    );
    *map = outer;
}

/// `{"$ref": r, "description": d}` becomes `{"anyOf": [{"$ref": r}], "description": d}`.
fn wrap_ref_with_siblings(node: &mut Value) {
    let Value::Object(map) = node else { return };
    if map.len() > 1
        && let Some(reference) = map.remove("$ref")
    {
        let mut only_ref = Map::new();
        only_ref.insert("$ref".to_owned(), reference);
        map.insert(
            "anyOf".to_owned(),
            Value::Array(vec![Value::Object(only_ref)]),
        );
    }
}

fn null_schema() -> Value {
    let mut map = Map::new();
    map.insert("type".to_owned(), Value::String("null".to_owned()));
    Value::Object(map)
}

fn is_nullable(node: &Value) -> bool {
    let Value::Object(map) = node else {
        return false;
    };
    match map.get("type") {
        Some(Value::String(t)) if t == "null" => return true,
        Some(Value::Array(types)) if types.iter().any(|t| t == "null") => return true,
        _ => {}
    }
    if let Some(Value::Array(any)) = map.get("anyOf") {
        return any.iter().any(is_nullable);
    }
    false
}

/// Lets `node` also accept `null` (for a property strict mode makes required).
fn make_nullable(node: &mut Value) {
    if is_nullable(node) {
        return;
    }
    let Value::Object(map) = node else { return };
    let scalar = match map.get("type") {
        Some(Value::String(t)) => t != "object" && t != "array",
        _ => false,
    };
    if scalar && !map.contains_key("anyOf") && !map.contains_key("$ref") {
        if let Some(Value::String(t)) = map.remove("type") {
            map.insert(
                "type".to_owned(),
                Value::Array(vec![Value::String(t), Value::String("null".to_owned())]),
            );
        }
        if let Some(Value::Array(values)) = map.get_mut("enum") {
            values.push(Value::Null);
        }
        return;
    }
    if (map.len() == 1 || (map.len() == 2 && map.contains_key("description")))
        && let Some(Value::Array(any)) = map.get_mut("anyOf")
    {
        any.push(null_schema());
        return;
    }
    let description = map.remove("description");
    let inner = std::mem::take(map);
    if let Some(d) = description {
        map.insert("description".to_owned(), d);
    }
    map.insert(
        "anyOf".to_owned(),
        Value::Array(vec![Value::Object(inner), null_schema()]),
    );
}

/// Why `schema` would be refused by strict structured output; empty when it follows the subset:
/// the root is an object (not a union); every subschema is a JSON object using only the allowed
/// keywords (and formats); every object lists `properties`, has `additionalProperties: false` and
/// requires every property; a nullable type is a scalar; arrays have `items`; every `$ref` stands
/// alone and resolves into `$defs`; objects nest at most 10 deep.
pub fn strict_problems(schema: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    match schema.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        _ => {
            problems.push("$: the root must be an object schema (\"type\": \"object\")".to_owned())
        }
    }
    if schema.get("anyOf").is_some() {
        problems.push("$: the root cannot be anyOf".to_owned());
    }
    check(schema, schema, "$", 0, &mut problems);
    problems
}

fn check(root: &Value, node: &Value, at: &str, depth: usize, problems: &mut Vec<String>) {
    let Value::Object(map) = node else {
        problems.push(format!(
            "{at}: a subschema must be a JSON object, not {node}"
        ));
        return;
    };
    for key in map.keys() {
        if !ALLOWED_KEYWORDS.contains(&key.as_str()) {
            problems.push(format!(
                "{at}: keyword \"{key}\" is not supported in strict mode"
            ));
        }
    }
    if let Some(format) = map.get("format")
        && !format
            .as_str()
            .is_some_and(|f| ALLOWED_FORMATS.contains(&f))
    {
        problems.push(format!(
            "{at}: format {format} is not supported in strict mode"
        ));
    }
    if let Some(reference) = map.get("$ref") {
        if map.len() > 1 {
            problems.push(format!("{at}: $ref cannot have sibling keywords"));
        }
        let target = reference
            .as_str()
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer));
        if target.is_none() {
            problems.push(format!(
                "{at}: $ref {reference} does not resolve in this schema"
            ));
        }
    }
    let types: Vec<&str> = match map.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        Some(other) => {
            problems.push(format!("{at}: type {other} is not a type name"));
            Vec::new()
        }
        None => Vec::new(),
    };
    if types.len() > 1 && types.iter().any(|t| *t == "object" || *t == "array") {
        problems.push(format!(
            "{at}: a nullable object or array must be written as anyOf with null, not a type list"
        ));
    }
    if map.get("type").is_none()
        && map.get("anyOf").is_none()
        && map.get("$ref").is_none()
        && map.get("enum").is_none()
    {
        problems.push(format!("{at}: the subschema says no type"));
    }
    if let Some(values) = map.get("enum") {
        match values.as_array() {
            Some(v) if !v.is_empty() => {}
            _ => problems.push(format!("{at}: enum must be a non-empty array")),
        }
    }
    let is_object = types.contains(&"object") || map.contains_key("properties");
    let mut depth = depth;
    if is_object {
        depth += 1;
        if depth > MAX_OBJECT_DEPTH {
            problems.push(format!("{at}: objects nest deeper than {MAX_OBJECT_DEPTH}"));
        }
        if map.get("additionalProperties") != Some(&Value::Bool(false)) {
            problems.push(format!(
                "{at}: an object needs \"additionalProperties\": false"
            ));
        }
        match map.get("properties") {
            Some(Value::Object(properties)) => {
                let required: Vec<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for name in properties.keys() {
                    if !required.contains(&name.as_str()) {
                        problems.push(format!("{at}: property \"{name}\" is not required"));
                    }
                }
                for name in &required {
                    if !properties.contains_key(*name) {
                        problems.push(format!("{at}: \"{name}\" is required but not a property"));
                    }
                }
                for (name, property) in properties {
                    check(root, property, &format!("{at}.{name}"), depth, problems);
                }
            }
            _ => problems.push(format!("{at}: an object needs its \"properties\"")),
        }
    } else if map.contains_key("additionalProperties") || map.contains_key("required") {
        problems.push(format!(
            "{at}: object keywords on a schema that is not an object"
        ));
    }
    if types.contains(&"array") {
        match map.get("items") {
            Some(items) => check(root, items, &format!("{at}[]"), depth, problems),
            None => problems.push(format!("{at}: an array needs its \"items\"")),
        }
    }
    if let Some(any) = map.get("anyOf") {
        match any.as_array() {
            Some(branches) if !branches.is_empty() => {
                for (i, branch) in branches.iter().enumerate() {
                    check(root, branch, &format!("{at}|{i}"), depth, problems);
                }
            }
            _ => problems.push(format!("{at}: anyOf must be a non-empty array")),
        }
    }
    if let Some(defs) = map.get("$defs") {
        match defs.as_object() {
            Some(defs) if at == "$" => {
                for (name, def) in defs {
                    check(root, def, &format!("$defs.{name}"), 0, problems);
                }
            }
            Some(_) => problems.push(format!("{at}: $defs belong at the root")),
            None => problems.push(format!("{at}: $defs must be an object")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_transform_closes_objects_and_makes_optional_fields_nullable() {
        let schema = to_strict(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "T",
            "type": "object",
            "properties": {
                "a": { "type": "integer", "format": "uint32", "minimum": 0 },
                "b": { "type": ["string", "null"], "default": null },
                "c": { "oneOf": [ { "const": "x" }, { "const": "y" } ] },
                "d": { "type": ["object", "null"], "properties": { "e": { "type": "boolean" } },
                       "required": ["e"] },
                "f": { "type": "string", "enum": ["p", "q"] },
                "g": { "type": "array", "items": { "type": "string" }, "minItems": 1 },
            },
            "required": ["a"],
        }));
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": {
                    "a": { "type": "integer" },
                    "b": { "type": ["string", "null"] },
                    "c": { "anyOf": [ { "enum": ["x"] }, { "enum": ["y"] }, { "type": "null" } ] },
                    "d": { "anyOf": [
                        { "type": "object", "properties": { "e": { "type": "boolean" } },
                          "required": ["e"], "additionalProperties": false },
                        { "type": "null" } ] },
                    "f": { "type": ["string", "null"], "enum": ["p", "q", null] },
                    "g": { "anyOf": [ { "type": "array", "items": { "type": "string" } },
                                      { "type": "null" } ] },
                },
                "required": ["a", "b", "c", "d", "f", "g"],
                "additionalProperties": false,
            })
        );
        assert_eq!(strict_problems(&schema), Vec::<String>::new());
    }

    #[test]
    fn the_checker_names_what_strict_mode_refuses() {
        let problems = strict_problems(&json!({
            "type": "object",
            "properties": {
                "a": { "type": "integer", "minimum": 0 },
                "b": { "type": "object", "properties": {} },
                "c": { "$ref": "#/$defs/missing", "description": "x" },
                "d": { "type": "string", "format": "uint32" },
            },
            "required": ["a"],
        }));
        let text = problems.join("\n");
        for expected in [
            "$: an object needs \"additionalProperties\": false",
            "$: property \"b\" is not required",
            "$.a: keyword \"minimum\" is not supported",
            "$.b: an object needs \"additionalProperties\": false",
            "$.c: $ref cannot have sibling keywords",
            "$.c: $ref \"#/$defs/missing\" does not resolve",
            "$.d: format \"uint32\" is not supported",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        assert!(!strict_problems(&json!({ "anyOf": [] })).is_empty());
    }
}
