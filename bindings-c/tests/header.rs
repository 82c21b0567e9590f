//! The committed header `include/ai_billing.h` is what cbindgen generates from this crate now.
//! `UPDATE_HEADER=1 cargo test -p ai-billing-c --test header` rewrites it.

use std::path::Path;

#[test]
fn committed_header_matches_the_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    // From the source files alone: no `cargo metadata` run, so the test is quick and offline.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen reads src/");
    let mut generated = Vec::new();
    bindings.write(&mut generated);

    let path = dir.join("include/ai_billing.h");
    if std::env::var_os("UPDATE_HEADER").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write include/ai_billing.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    if committed != generated {
        panic!(
            "{} is out of date with bindings-c/src; regenerate it with\n    \
             UPDATE_HEADER=1 cargo test -p ai-billing-c --test header\n\
             and commit it. The generated header:\n{}",
            path.display(),
            String::from_utf8_lossy(&generated)
        );
    }
}
