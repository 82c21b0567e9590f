//! Running the `ai-billing` binary from the CLI's integration tests: with none of the variables
//! that would point it at a real database, model or OpenSearch, so each test says what it uses.
//! Each test file uses some of these helpers, so the others are dead code there.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The binary `cargo test` built.
pub const BIN: &str = env!("CARGO_BIN_EXE_ai-billing");

/// `ai-billing ARGS`, as it ends.
pub fn ai_billing(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("AI_BILLING_DB")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENSEARCH_URL")
        .output()
        .expect("the binary runs")
}

/// What `ai-billing ARGS` prints, after checking it succeeded.
pub fn ok(args: &[&str]) -> String {
    let out = ai_billing(args);
    assert!(
        out.status.success(),
        "ai-billing {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 on stdout")
}

/// What `ai-billing ARGS` says on stderr, after checking it exited with `status` and printed
/// nothing on stdout.
pub fn fails(args: &[&str], status: i32) -> String {
    let out = ai_billing(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(status), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
    stderr
}
