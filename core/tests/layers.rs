//! Layers import downwards only: the pure domain, then the engine and its ports, then the
//! adapters, then the API. This test reads every `.rs` file under `core/src`, finds each
//! `crate::` path it names (in `use` lines, in code, in attribute strings such as
//! `#[schemars(with = "crate::json::DecimalString")]`; not in comments, and not in a file's
//! `#[cfg(test)]` module, where tests may use what they like), resolves it to the module that
//! holds it, and fails naming the file and the path when a lower layer names a higher one.
//!
//! Data-driven: [`LAYERS`] maps a module path (a file under `core/src` without `.rs`) to its
//! layer, the longest matching prefix winning, so `interpreter/llm` can sit above `interpreter`.
//! When files move into layer folders, update the table, not the code.
//!
//! Decisions, documented here:
//! - `interpreter` is domain (the offline front end, the `Interpreter` port's trait and
//!   `PlanContext`), but `interpreter/llm` is in the ports layer: the LLM interpreter is built
//!   on the `LanguageModel` port (`model`). A parent naming its own child (`pub mod llm;`,
//!   `pub use llm::...`) is not a `crate::` path and is not checked.
//! - `chat` (what is said to and answered by a model: plain data) is domain, so the interpreter
//!   records model calls without depending on the port; `model` (the port, `ScriptedModel` and
//!   the strict schemas of what a model writes) is in the ports layer.
//! - `audit` (the event types and the `AuditSink` trait) is domain; `audit/ship` (the outbox
//!   shipper over the store) is with the ports.
//! - `lib.rs` is the crate root: it declares and re-exports every module, so it is not checked.
//! - `super::` and `self::` paths stay inside a module and are not checked.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The layers, lowest first: a file may name its own layer and those below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    /// Pure domain: no I/O, no port.
    Domain,
    /// The engine and the ports it is built on.
    EngineAndPorts,
    /// The adapters behind features: databases, OpenAI, OpenSearch.
    Adapters,
    /// The library as the CLI and the bindings call it.
    Api,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Domain => "domain",
            Layer::EngineAndPorts => "engine and ports",
            Layer::Adapters => "adapters",
            Layer::Api => "api",
        })
    }
}

/// Module path (a file under `core/src` without `.rs`, folders with `/`) -> layer. The longest
/// prefix of a module's path that is listed here gives its layer; every module must have one.
const LAYERS: &[(&str, Layer)] = &[
    // The pure domain.
    ("money", Layer::Domain),
    ("calendar", Layer::Domain),
    ("plan", Layer::Domain),
    ("pricing", Layer::Domain),
    ("interpreter", Layer::Domain),
    ("usage", Layer::Domain),
    ("agent", Layer::Domain),
    ("tax", Layer::Domain),
    ("revrec", Layer::Domain),
    ("invoice", Layer::Domain),
    ("subscription", Layer::Domain),
    ("json", Layer::Domain),
    ("chat", Layer::Domain),
    ("clock", Layer::Domain),
    ("error", Layer::Domain),
    ("audit", Layer::Domain),
    // The engine and its ports.
    ("engine", Layer::EngineAndPorts),
    ("store", Layer::EngineAndPorts),
    ("model", Layer::EngineAndPorts),
    ("audit/ship", Layer::EngineAndPorts),
    ("interpreter/llm", Layer::EngineAndPorts),
    // The adapters.
    ("sqlite", Layer::Adapters),
    ("postgres", Layer::Adapters),
    ("openai", Layer::Adapters),
    ("opensearch", Layer::Adapters),
    // The API.
    ("api", Layer::Api),
    ("scenario", Layer::Api),
    ("schema", Layer::Api),
    ("connect", Layer::Api),
];

/// Upward imports allowed for now, each `(file, crate:: path prefix)` with why. Keep it empty.
const ALLOWED: &[(&str, &str)] = &[
    // removed by the engine split
    ("engine.rs", "crate::api::DEFAULT_ACTOR"),
    // removed at merge: the engine's one-line edit to `crate::model::payload_schema()` (the
    // strict schemas moved to the model port; `schema` only re-exports them).
    ("engine/agent.rs", "crate::schema::payload_schema"),
];

/// The crate root, whose `.rs` files are read.
fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, as its path relative to `root`.
fn rust_files(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(root, &path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path.strip_prefix(root).expect("under the root").to_owned());
        }
    }
}

/// A file's module path: `interpreter/llm.rs` -> `interpreter/llm`.
fn module_of(file: &Path) -> String {
    file.with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The layer of a module path: its longest prefix listed in [`LAYERS`].
fn layer_of(module: &str) -> Option<Layer> {
    LAYERS
        .iter()
        .filter(|(prefix, _)| {
            module == *prefix
                || module
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, layer)| *layer)
}

/// A file's text without its comments and without its `#[cfg(test)] mod tests` (which starts at
/// the first top-level `#[cfg(test)]` line followed by a `mod`).
fn checked_text(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if *line == "#[cfg(test)]"
            && lines
                .get(index + 1)
                .is_some_and(|next| next.starts_with("mod "))
        {
            break;
        }
        let code = match line.find("//") {
            // `//` inside a string (a URL) is rare in this crate's imports; a line whose
            // comment starts the line is dropped whole.
            Some(at) if line[..at].trim().is_empty() => "",
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        kept.push(code);
    }
    kept.join("\n")
}

/// Every `crate::` path in `text`, as its segments (`crate::{a::B, c}` gives `a::B` and `c`).
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue; // `ai_billing_crate::` or the like, not this crate's root
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group);
            for item in split_top_level(&group[..end]) {
                paths.push(segments(item.trim()));
            }
        } else {
            paths.push(segments(rest));
        }
    }
    paths.retain(|path| !path.is_empty());
    paths
}

/// The index of the `}` closing a group that starts just after its `{`.
fn matching_brace(text: &str) -> usize {
    let mut depth = 0usize;
    for (index, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return index,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

/// The items of a `{...}` group at its top level, split on commas.
fn split_top_level(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (index, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&group[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
}

/// The `::`-separated identifiers at the start of `text` (`a::b::C<T>` gives `a`, `b`, `C`).
fn segments(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        found.push(rest[..end].to_owned());
        match rest[end..].strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    found
}

/// The module a `crate::` path lands in: the longest prefix of its segments that is a module
/// of the crate (`interpreter::llm::X` -> `interpreter/llm`, `store::Store` -> `store`).
fn target_module(path: &[String], modules: &BTreeMap<String, PathBuf>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|len| path[..len].join("/"))
        .find(|candidate| modules.contains_key(candidate))
}

#[test]
fn every_module_has_a_layer() {
    let root = source_root();
    let mut files = Vec::new();
    rust_files(&root, &root, &mut files);
    let missing: Vec<String> = files
        .iter()
        .map(|file| module_of(file))
        .filter(|module| module != "lib" && layer_of(module).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a layer in LAYERS (core/tests/layers.rs): {missing:?}"
    );
}

#[test]
fn no_layer_imports_a_higher_one() {
    let root = source_root();
    let mut files = Vec::new();
    rust_files(&root, &root, &mut files);
    assert!(files.len() > 40, "core/src has its files");
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|file| (module_of(file), file.clone()))
        .collect();

    let mut upward = Vec::new();
    let mut allowed_seen = Vec::new();
    for (module, file) in &modules {
        if module == "lib" {
            continue;
        }
        let layer = layer_of(module).expect("every module has a layer (see the other test)");
        let text = std::fs::read_to_string(root.join(file)).expect("a source file");
        for path in crate_paths(&checked_text(&text)) {
            let Some(target) = target_module(&path, &modules) else {
                continue; // an item of the crate root (a re-export of lib.rs)
            };
            let Some(target_layer) = layer_of(&target) else {
                continue;
            };
            if target_layer <= layer {
                continue;
            }
            let shown = format!("crate::{}", path.join("::"));
            let file_name = file.to_string_lossy().replace('\\', "/");
            if let Some(allowed) = ALLOWED
                .iter()
                .find(|(f, prefix)| *f == file_name && shown.starts_with(prefix))
            {
                allowed_seen.push(*allowed);
                continue;
            }
            upward.push(format!(
                "core/src/{file_name} ({layer}) names {shown} ({target_layer})"
            ));
        }
    }
    upward.sort();
    upward.dedup();
    assert!(
        upward.is_empty(),
        "imports from a lower layer to a higher one:\n  {}",
        upward.join("\n  ")
    );
    for allowed in ALLOWED {
        assert!(
            allowed_seen.contains(allowed),
            "{allowed:?} in ALLOWED no longer happens: delete it from core/tests/layers.rs"
        );
    }
}

#[test]
fn the_reader_finds_paths_in_groups_attributes_and_code() {
    let text = "use crate::{audit::AuditEvent, store::{Store, testkit}};\n\
                #[schemars(with = \"crate::json::DecimalString\")]\n\
                // crate::api::ignored in a comment\n\
                let x = crate::engine::Engine::new(s);\n\
                use ai_billing_crate::nothing;\n\
                #[cfg(test)]\nmod tests { use crate::api::Hidden; }\n";
    let paths: Vec<String> = crate_paths(&checked_text(text))
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(
        paths,
        [
            "audit::AuditEvent",
            "store",
            "json::DecimalString",
            "engine::Engine::new"
        ]
    );
    assert_eq!(layer_of("interpreter/llm"), Some(Layer::EngineAndPorts));
    assert_eq!(layer_of("interpreter/lexer"), Some(Layer::Domain));
    assert_eq!(layer_of("audit/ship"), Some(Layer::EngineAndPorts));
    assert_eq!(layer_of("store/testkit/state"), Some(Layer::EngineAndPorts));
    assert_eq!(
        layer_of("apix"),
        None,
        "a prefix matches whole segments only"
    );
}
