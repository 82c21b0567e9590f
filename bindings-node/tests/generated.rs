//! The npm package's generated files match the Rust types they come from: `types.d.ts` (the
//! TypeScript types napi prepends to `index.d.ts`), the JSON Schema files in `schema/`, and the
//! platform's OpenAPI document `openapi.json` (its components from the same schemas).
//! A change to a type that is not regenerated fails here. To regenerate:
//! `UPDATE_GENERATED=1 cargo test -p ai-billing-node --test generated`.

use std::path::{Path, PathBuf};

use ai_billing::schema::{api_definitions, object_schemas, openapi, typescript};

const HEADER: &str = "// The shapes of @pelcro/ai-billing's API, generated from the Rust types' JSON Schemas\n\
// (ai_billing::schema::api_definitions). Do not edit: run\n\
// `UPDATE_GENERATED=1 cargo test -p ai-billing-node --test generated`.\n\n";

fn package_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Every generated file and what it must hold.
fn expected() -> Vec<(PathBuf, String)> {
    let dir = package_dir();
    let mut files = vec![(
        dir.join("types.d.ts"),
        format!("{HEADER}{}", typescript::declarations(&api_definitions())),
    )];
    for (stem, schema) in object_schemas() {
        let text = serde_json::to_string_pretty(&schema).expect("a schema is JSON");
        files.push((
            dir.join("schema").join(format!("{stem}.schema.json")),
            format!("{text}\n"),
        ));
    }
    let document = serde_json::to_string_pretty(&openapi::document()).expect("JSON");
    files.push((dir.join("openapi.json"), format!("{document}\n")));
    files
}

#[test]
fn generated_files_match_the_rust_types() {
    let update = std::env::var_os("UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    for (path, text) in expected() {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == text {
            continue;
        }
        if update {
            std::fs::create_dir_all(path.parent().expect("a file has a folder")).unwrap();
            std::fs::write(&path, text).unwrap();
        } else {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "generated files differ from the Rust types: {stale:?}; run \
         `UPDATE_GENERATED=1 cargo test -p ai-billing-node --test generated` and commit them"
    );
}
