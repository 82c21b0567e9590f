//! `ai-billing preview --mode agent_checked` end to end: the binary reads `OPENAI_API_KEY` and
//! `OPENAI_BASE_URL`, calls a local OpenAI-protocol server ([`MockOpenAi`]) once per period, and
//! bills what `--mode compiled` bills; without a key it fails naming `OPENAI_API_KEY`.

use std::path::Path;
use std::process::{Command, Output};

use ai_billing_tests::openai_mock::MockOpenAi;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ai-billing");

/// Three months of a three-seat subscription at $10 per seat, with sales tax.
const SCENARIO: &str = r#"{
  "account": { "id": "acct_1", "abstracted": true, "timezone": "America/New_York" },
  "plan": {
    "type": "ai", "nickname": "Team seats", "currency": "USD",
    "interval": "month", "interval_count": 1,
    "ai_prompt": "$10 per month for each seat"
  },
  "subscription": { "start": "2026-01-15", "quantity": 3 },
  "periods": 3,
  "tax": { "rate": "0.0825" }
}"#;
const PERIODS: usize = 3;

/// `ai-billing preview --mode MODE --json FILE` with only the OpenAI variables given.
fn preview(mode: &str, file: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(["preview", "--mode", mode, "--json"])
        .arg(file)
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_MODEL")
        .env_remove("AI_BILLING_DB");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the binary runs")
}

fn invoices(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "preview failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert!(report.get("held_periods").is_none(), "{report}");
    report["invoices"].as_array().expect("invoices").clone()
}

/// What an invoice bills, without the lines' descriptions (the model words its own).
fn billed(invoice: &Value) -> Value {
    let amounts: Vec<Value> = invoice["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["amount"].clone())
        .collect();
    serde_json::json!({
        "period_index": invoice["period_index"],
        "issue_date": invoice["issue_date"],
        "period_start": invoice["period_start"],
        "period_end": invoice["period_end"],
        "currency": invoice["currency"],
        "line_amounts": amounts,
        "subtotal": invoice["subtotal"],
        "tax_lines": invoice["tax_lines"],
        "tax": invoice["tax"],
        "total": invoice["total"],
        "revenue_schedule": invoice["revenue_schedule"],
    })
}

#[test]
fn agent_checked_preview_bills_as_compiled_with_one_model_call_per_period() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The server runs on its own thread: the blocking process calls below do not stall it.
    let mock = runtime.block_on(MockOpenAi::start());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seats.json");
    std::fs::write(&file, SCENARIO).unwrap();

    let compiled = invoices(&preview("compiled", &file, &[]));
    assert_eq!(mock.stats().requests, 0);
    let base_url = mock.base_url();
    let agent = invoices(&preview(
        "agent_checked",
        &file,
        &[
            ("OPENAI_API_KEY", "test-key"),
            ("OPENAI_BASE_URL", base_url.as_str()),
        ],
    ));

    assert_eq!(compiled.len(), PERIODS);
    assert_eq!(
        agent.iter().map(billed).collect::<Vec<_>>(),
        compiled.iter().map(billed).collect::<Vec<_>>()
    );
    for invoice in &agent {
        assert_eq!(invoice["line_items"][0]["description"], "Seats");
        assert_eq!(invoice["subtotal"].to_string(), r#""30.00""#);
    }
    let stats = mock.stats();
    assert_eq!(
        (stats.requests, stats.completions),
        (PERIODS as u64, PERIODS as u64),
        "exactly one request per period"
    );
}

#[test]
fn agent_checked_preview_without_a_key_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seats.json");
    std::fs::write(&file, SCENARIO).unwrap();
    let output = preview("agent_checked", &file, &[]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("OPENAI_API_KEY"), "{stderr}");
    assert!(output.stdout.is_empty());
}

/// The key the secret test uses: it must appear nowhere but in the request's header.
const SECRET_KEY: &str = "sk-test-SUPERSECRET-0123456789";

#[test]
fn the_api_key_never_reaches_the_output_the_errors_or_the_audit_trail() {
    use ai_billing_tests::openai_mock::MockBehaviour;

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime.block_on(MockOpenAi::start());
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("secret.db").display());
    let base_url = mock.base_url();
    let run = |args: &[&str]| -> Output {
        Command::new(BIN)
            .args(args)
            .env("OPENAI_API_KEY", SECRET_KEY)
            .env("OPENAI_BASE_URL", &base_url)
            .env_remove("OPENAI_MODEL")
            .env_remove("AI_BILLING_DB")
            .output()
            .expect("the binary runs")
    };
    // A run bills only what is due by now (the CLI's clock is the system's): the subscription
    // starts 4 months back, the first run bills up to 2 months back, the second up to now.
    let today = chrono::Utc::now().date_naive();
    let start = (today - chrono::Months::new(4)).to_string();
    let later = (today - chrono::Months::new(2)).to_string();
    let far = chrono::Utc::now().to_rfc3339();
    let mut everything = String::new();
    let mut keep = |output: Output| -> Output {
        everything.push_str(&String::from_utf8_lossy(&output.stdout));
        everything.push_str(&String::from_utf8_lossy(&output.stderr));
        output
    };
    let steps: Vec<Vec<&str>> = vec![
        vec![
            "account",
            "save",
            "--db",
            &db,
            "--id",
            "acct_1",
            "--timezone",
            "UTC",
            "--abstracted",
        ],
        vec![
            "customer",
            "save",
            "--db",
            &db,
            "--account",
            "acct_1",
            "--id",
            "cus_1",
        ],
        vec![
            "plan",
            "save",
            "--db",
            &db,
            "--account",
            "acct_1",
            "--id",
            "seats",
            "--prompt",
            "$10 per month for each seat",
        ],
        vec![
            "subscription",
            "create",
            "--db",
            &db,
            "--account",
            "acct_1",
            "--id",
            "sub_1",
            "--customer",
            "cus_1",
            "--plan",
            "seats",
            "--quantity",
            "2",
            "--start",
            &start,
            "--mode",
            "agent",
        ],
        vec![
            "run",
            "--db",
            &db,
            "--until",
            &later,
            "--mode",
            "agent_checked",
        ],
    ];
    for step in &steps {
        let output = keep(run(step));
        assert!(output.status.success(), "{step:?}: {output:?}");
    }
    assert!(mock.stats().requests >= 2, "the model was called");
    // Every call fails now: the errors are printed and audited.
    mock.set_behaviour(MockBehaviour {
        fail_every: Some(1),
        ..MockBehaviour::default()
    });
    let failed = keep(run(&[
        "run", "--db", &db, "--until", &far, "--mode", "agent",
    ]));
    assert_eq!(failed.status.code(), Some(1), "{failed:?}");
    let trail = keep(run(&[
        "audit",
        "show",
        "--db",
        &db,
        "--account",
        "acct_1",
        "--subscription",
        "sub_1",
        "--json",
    ]));
    assert!(trail.status.success());
    let events: Vec<Value> = serde_json::from_slice(&trail.stdout).unwrap();
    assert!(events.iter().any(|e| e["action"] == "model_called"));
    assert!(events.iter().any(|e| e["action"] == "renewal_failed"));
    assert!(
        !everything.contains(SECRET_KEY),
        "the key leaked:\n{everything}"
    );
    assert!(!everything.contains("SUPERSECRET"));
    assert!(
        !everything.to_lowercase().contains("bearer"),
        "{everything}"
    );
    // Nor is it stored anywhere in the database file.
    let raw = std::fs::read(dir.path().join("secret.db")).unwrap();
    let wal = std::fs::read(dir.path().join("secret.db-wal")).unwrap_or_default();
    for bytes in [raw, wal] {
        assert!(
            !bytes
                .windows(SECRET_KEY.len())
                .any(|w| w == SECRET_KEY.as_bytes()),
            "the key is in the database file"
        );
    }
}
