//! Layers import downwards only: the pure domain, then the engine and its ports, then the
//! adapters, then the API. This test reads every `.rs` file under `core/src`, finds each
//! `crate::` path it names (in `use` lines, in code, in attribute strings such as
//! `#[schemars(with = "crate::json::DecimalString")]`; not in comments, and not in a file's
//! `#[cfg(test)]` module, where tests may use what they like), resolves it to the module that
//! holds it, and fails naming the file and the path when a lower layer names a higher one.
//!
//! The layers are folders: `core/src/domain/`, `core/src/ports/`, `core/src/engine/` (with
//! `engine.rs`), `core/src/adapters/`, `core/src/api/` (with `api.rs`). A file's layer is its
//! folder ([`LAYERS`]); a `crate::` path is resolved to the file that holds it, directly
//! (`crate::engine::run`, `crate::domain::money`) or through the crate root's re-exports, which
//! re-export every module of a layer folder under its own name (`crate::money` is
//! `domain/money.rs`). No other `.rs` file may sit at the root of `core/src`.
//!
//! Decisions, documented here:
//! - `interpreter` is domain (the offline front end, the `Interpreter` trait and `PlanContext`);
//!   the LLM interpreter, built on the `LanguageModel` port, is `ports/llm_interpreter.rs`.
//! - `chat` (what is said to and answered by a model: plain data) is domain, so the interpreter
//!   records model calls without depending on the port; `model` (the port, `ScriptedModel` and
//!   the strict schemas of what a model writes) is a port.
//! - `audit` (the event types, the `AuditSink` port and the outbox shipper over the store) is a
//!   port; no domain module needs it.
//! - `clock` (the `Clock` trait with its system and fixed clocks, no I/O) is domain: the step
//!   takes instants, never a clock, but the domain's tests and the scenario preview use it.
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

/// Layer folder (or the file beside it, `engine.rs`, `api.rs`, `domain.rs`, ...) -> layer. A
/// file's layer is the one of the first segment of its path under `core/src`.
const LAYERS: &[(&str, Layer)] = &[
    ("domain", Layer::Domain),
    ("ports", Layer::EngineAndPorts),
    ("engine", Layer::EngineAndPorts),
    ("adapters", Layer::Adapters),
    ("api", Layer::Api),
];

/// Upward imports allowed for now, each `(file, crate:: path prefix)` with why. Keep it empty.
const ALLOWED: &[(&str, &str)] = &[];

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

/// The layer of a module path: the one of its first segment (its layer folder).
fn layer_of(module: &str) -> Option<Layer> {
    let first = module.split('/').next()?;
    LAYERS
        .iter()
        .find(|(folder, _)| *folder == first)
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
/// of the crate, read as written (`engine::run::X` -> `engine/run`) or through the root's
/// re-export of a layer folder's module (`store::Store` -> `ports/store`).
fn target_module(path: &[String], modules: &BTreeMap<String, PathBuf>) -> Option<String> {
    let direct = (1..=path.len())
        .rev()
        .map(|len| path[..len].join("/"))
        .find(|candidate| modules.contains_key(candidate));
    direct.or_else(|| {
        LAYERS.iter().find_map(|(folder, _)| {
            (1..=path.len())
                .rev()
                .map(|len| format!("{folder}/{}", path[..len].join("/")))
                .find(|candidate| modules.contains_key(candidate))
        })
    })
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
        "files outside the layer folders of core/src (see LAYERS in core/tests/layers.rs): {missing:?}"
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
    assert_eq!(
        layer_of("ports/llm_interpreter"),
        Some(Layer::EngineAndPorts)
    );
    assert_eq!(layer_of("domain/interpreter/lexer"), Some(Layer::Domain));
    assert_eq!(
        layer_of("ports/store/testkit/state"),
        Some(Layer::EngineAndPorts)
    );
    assert_eq!(layer_of("engine"), Some(Layer::EngineAndPorts));
    assert_eq!(
        layer_of("money"),
        None,
        "a module outside the layer folders has no layer"
    );
    let modules: BTreeMap<String, PathBuf> = ["domain/money", "ports/store", "engine/run"]
        .iter()
        .map(|m| (m.to_string(), PathBuf::from(format!("{m}.rs"))))
        .collect();
    let path = |text: &str| text.split("::").map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        target_module(&path("money::Money"), &modules).as_deref(),
        Some("domain/money")
    );
    assert_eq!(
        target_module(&path("store::Store"), &modules).as_deref(),
        Some("ports/store")
    );
    assert_eq!(
        target_module(&path("engine::run::X"), &modules).as_deref(),
        Some("engine/run")
    );
}
