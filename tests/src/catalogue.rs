//! The catalogue of bad inputs, `tests/bad-inputs.json`, read the same way by its Rust runners:
//! `cli/tests/bad_inputs.rs` (the `ai-billing` binary) and `bindings-c/tests/bad_inputs.rs` (the
//! C ABI). The Node runner, `bindings-node/test/bad-inputs.test.js`, mirrors this in JavaScript.
//!
//! This file depends on `serde_json` only, so a crate that cannot depend on this one includes it
//! with `#[path]`.

use serde_json::{Map, Value};

/// The catalogue's text.
pub const CATALOGUE: &str = include_str!("../bad-inputs.json");

/// The catalogue, parsed.
pub fn catalogue() -> Value {
    serde_json::from_str(CATALOGUE).expect("tests/bad-inputs.json is JSON")
}

/// A surface a catalogue entry runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The `ai-billing` command line.
    Cli,
    /// The Node addon.
    Node,
    /// The C ABI.
    C,
}

impl Surface {
    fn key(self) -> &'static str {
        match self {
            Surface::Cli => "cli",
            Surface::Node => "node",
            Surface::C => "c",
        }
    }
}

/// Fails with every entry that went wrong on `through` (a surface's name), or when fewer than 60
/// entries ran there at all (`skipped` are those the surface has no way to give).
pub fn assert_all_right(wrong: &[String], tried: usize, skipped: usize, through: &str) {
    assert!(
        wrong.is_empty(),
        "{} of {tried}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        tried >= 60,
        "only {tried} inputs run {through} ({skipped} skipped)"
    );
}

/// What an entry expects on one surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// The surface has no such input; the reason.
    Skip(String),
    /// Success (`code` "OK").
    Ok,
    /// A failure: the code (`INVALID_INPUT`, ...) and a fragment of its message.
    Error {
        /// The stable error code, as the core spells it.
        code: String,
        /// A fragment the message holds.
        message: String,
    },
    /// A CLI failure: the exit status and a fragment of stderr.
    Exit {
        /// The exit status.
        status: i32,
        /// A fragment stderr holds.
        message: String,
    },
}

/// The CLI exit status of a core error code.
pub fn exit_status(code: &str) -> i32 {
    match code {
        "OK" => 0,
        "INVALID_INPUT" | "PLAN_NOT_AVAILABLE" => 2,
        "PROMPT_NOT_UNDERSTOOD" => 3,
        _ => 1,
    }
}

/// What `entry` expects on `surface`.
pub fn expect(entry: &Value, surface: Surface) -> Expect {
    let code = entry["code"].as_str().expect("code").to_owned();
    let message = entry["message"].as_str().unwrap_or_default().to_owned();
    match &entry[surface.key()] {
        Value::String(skip) => Expect::Skip(skip.trim_start_matches("skip: ").to_owned()),
        Value::Object(over) if surface == Surface::Cli => Expect::Exit {
            status: over["exit"].as_i64().expect("exit") as i32,
            message: over["message"].as_str().unwrap_or_default().to_owned(),
        },
        Value::Object(over) => Expect::Error {
            code: over["code"].as_str().expect("code").to_owned(),
            message: over["message"].as_str().unwrap_or_default().to_owned(),
        },
        _ if code == "OK" => Expect::Ok,
        _ if surface == Surface::Cli => Expect::Exit {
            status: exit_status(&code),
            message,
        },
        _ => Expect::Error { code, message },
    }
}

/// `value` with every `{"$repeat": s, "times": n}` replaced by `s` repeated `n` times.
pub fn expand(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.contains_key("$repeat") => {
            let piece = map["$repeat"].as_str().expect("$repeat is a string");
            let times = map["times"].as_u64().expect("times is a count") as usize;
            Value::String(piece.repeat(times))
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), expand(value)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(expand).collect()),
        other => other.clone(),
    }
}

/// `patch` merged over `base` (RFC 7386: `null` removes a key).
pub fn merge(base: &Value, patch: &Value) -> Value {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            let mut merged = base.clone();
            for (key, value) in patch {
                if value.is_null() {
                    merged.remove(key);
                } else {
                    let next = merge(merged.get(key).unwrap_or(&Value::Null), value);
                    merged.insert(key.clone(), next);
                }
            }
            Value::Object(merged)
        }
        (_, patch) => patch.clone(),
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The entry's main input as the bytes a C caller or a file would hold: `hex`, `text` (a string
/// or a list of pieces), `prompt`/`prompt_hex` (interpret), the `patch` merged over the base
/// scenario, or the `request` as JSON. `None` for an input that is absent (`null_arg: input`).
pub fn input_bytes(entry: &Value, base_scenario: &Value) -> Option<Vec<u8>> {
    if entry["null_arg"] == "input" {
        return None;
    }
    if let Some(text) = entry["hex"].as_str().or(entry["prompt_hex"].as_str()) {
        return Some(hex(text));
    }
    match &entry["text"] {
        Value::String(text) => return Some(text.clone().into_bytes()),
        Value::Array(pieces) => {
            let text: String = pieces
                .iter()
                .map(|piece| expand(piece).as_str().expect("a text piece").to_owned())
                .collect();
            return Some(text.into_bytes());
        }
        _ => {}
    }
    if let Some(prompt) = entry.get("prompt") {
        return Some(expand(prompt).as_str().expect("prompt").as_bytes().to_vec());
    }
    if let Some(patch) = entry.get("patch") {
        return Some(
            merge(base_scenario, &expand(patch))
                .to_string()
                .into_bytes(),
        );
    }
    Some(expand(&entry["request"]).to_string().into_bytes())
}

/// The interpret entry's options as JSON text (`options_text` as written), or `None`.
pub fn options_text(entry: &Value) -> Option<String> {
    if let Some(text) = entry["options_text"].as_str() {
        return Some(text.to_owned());
    }
    entry.get("options").map(|options| options.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_holds_at_least_sixty_inputs_each_with_a_code() {
        let catalogue = catalogue();
        let inputs = catalogue["inputs"].as_array().unwrap();
        assert!(inputs.len() >= 60, "{}", inputs.len());
        let mut ids = std::collections::HashSet::new();
        for entry in inputs {
            assert!(ids.insert(entry["id"].as_str().unwrap()), "{entry}");
            for surface in [Surface::Cli, Surface::Node, Surface::C] {
                expect(entry, surface);
            }
        }
    }

    #[test]
    fn merge_and_expand() {
        let base = serde_json::json!({"a": {"b": 1, "c": 2}});
        let patch = serde_json::json!({"a": {"b": null, "d": {"$repeat": "ab", "times": 2}}});
        assert_eq!(
            merge(&base, &expand(&patch)),
            serde_json::json!({"a": {"c": 2, "d": "abab"}})
        );
    }
}
