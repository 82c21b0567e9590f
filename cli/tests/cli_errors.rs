//! The CLI's contract at its edges: malformed scenarios exit 2 naming the field, an
//! uninterpretable prompt exits 3 with nothing on stdout, `interpret` answers and refuses, and the
//! demo runs end to end.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ai-billing");

/// A valid scenario: the seed step-up plan, three periods, tax 8.25%, one shipment and a return.
fn valid() -> Value {
    json!({
        "account": { "id": "acct_test", "abstracted": true, "timezone": "America/New_York" },
        "plan": {
            "type": "ai", "nickname": "Seed", "currency": "USD", "interval": "month", "interval_count": 1,
            "ai_prompt": "Bill $5 for the first month and increase by $1 per month.",
            "usage_query": "shipments_by_weekday"
        },
        "subscription": { "start": "2026-01-15", "quantity": 1 },
        "periods": 3,
        "tax": { "rate": "0.0825" },
        "shipments": [ { "id": "s1", "shipped_at": "2026-01-15T11:30:00Z", "quantity": 1 } ],
        "returns": [ { "id": "r1", "shipment_id": "s1", "returned_at": "2026-01-17T11:30:00Z", "quantity": 1 } ]
    })
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run ai-billing")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `preview --json` on `text` written to a temp file.
fn preview_text(text: &str) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, text).expect("write scenario");
    run(&["preview", "--json", path.to_str().expect("utf-8 path")])
}

fn preview(scenario: &Value) -> Output {
    preview_text(&scenario.to_string())
}

/// Asserts exit 2, nothing on stdout, one `error:` line, and every word of `names` on stderr.
fn assert_malformed(output: &Output, names: &[&str]) {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "expected exit 2, stderr:\n{err}"
    );
    assert!(
        stdout(output).is_empty(),
        "stdout must be empty on an error, got:\n{}",
        stdout(output)
    );
    assert_eq!(
        err.matches("error:").count(),
        1,
        "the error is printed once:\n{err}"
    );
    for name in names {
        assert!(err.contains(name), "stderr should name {name:?}:\n{err}");
    }
}

#[test]
fn a_valid_scenario_bills_as_json() {
    let output = preview(&valid());
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let report: Value = serde_json::from_str(&stdout(&output)).expect("JSON on stdout");
    assert_eq!(report["invoice_timing"], "at_start");
    let invoices = report["invoices"].as_array().expect("invoices");
    assert_eq!(invoices.len(), 3);
    let totals: Vec<rust_decimal::Decimal> = invoices
        .iter()
        .map(|i| {
            i["total"]
                .as_str()
                .expect("a decimal string")
                .parse()
                .expect("a decimal")
        })
        .collect();
    let expected: Vec<rust_decimal::Decimal> = ["5.41", "6.50", "7.58"]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    assert_eq!(totals, expected);
    assert_eq!(invoices[0]["issue_date"], "2026-01-15");
    assert!(
        report["reading"]
            .as_str()
            .is_some_and(|r| r.contains("in advance"))
    );
}

#[test]
fn the_table_shows_timing_reading_invoices_and_revenue() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, valid().to_string()).expect("write scenario");
    let output = run(&["preview", path.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let text = stdout(&output);
    for needle in [
        "Timing: at_start",
        "Reading:",
        "Invoice 1 - issued 2026-01-15 - period 2026-01-15 to 2026-02-15",
        "Base charge (month 1)",
        "Subtotal",
        "Tax 8.25%",
        "Total",
        "Revenue schedule:",
        "2026-01",
        "3 invoices, 19.49 USD in total.",
    ] {
        assert!(
            text.contains(needle),
            "the table should contain {needle:?}:\n{text}"
        );
    }
    assert!(!text.contains('\u{1b}'), "no colours in plain output");
}

#[test]
fn bad_json_is_malformed() {
    assert_malformed(&preview_text("{\"account\": "), &["scenario", "JSON"]);
    assert_malformed(&preview_text("not json at all"), &["scenario"]);
}

#[test]
fn an_unreadable_file_is_malformed() {
    let output = run(&["preview", "--json", "/nonexistent/ai-billing/scenario.json"]);
    assert_malformed(
        &output,
        &[
            "cannot read scenario file",
            "/nonexistent/ai-billing/scenario.json",
        ],
    );
}

#[test]
fn an_unknown_currency_names_plan_currency() {
    let mut scenario = valid();
    scenario["plan"]["currency"] = json!("XYZ");
    assert_malformed(&preview(&scenario), &["plan.currency", "XYZ"]);
}

#[test]
fn a_bad_time_zone_names_account_timezone() {
    let mut scenario = valid();
    scenario["account"]["timezone"] = json!("Mars/Olympus_Mons");
    assert_malformed(
        &preview(&scenario),
        &["account.timezone", "Mars/Olympus_Mons"],
    );
}

#[test]
fn a_negative_or_zero_quantity_names_subscription_quantity() {
    for quantity in [json!(-1), json!(0), json!(100_001)] {
        let mut scenario = valid();
        scenario["subscription"]["quantity"] = quantity;
        assert_malformed(&preview(&scenario), &["subscription.quantity"]);
    }
}

#[test]
fn a_non_abstracted_account_is_refused() {
    let mut scenario = valid();
    scenario["account"]["abstracted"] = json!(false);
    assert_malformed(&preview(&scenario), &["abstracted", "acct_test"]);
}

#[test]
fn a_100_kb_prompt_names_plan_ai_prompt() {
    let mut scenario = valid();
    scenario["plan"]["ai_prompt"] = json!("Bill $5 per month. ".repeat(100 * 1024 / 19 + 1));
    let output = preview(&scenario);
    assert_malformed(&output, &["plan.ai_prompt"]);
    assert!(
        stderr(&output).len() < 2000,
        "the prompt is not echoed back:\n{}",
        stderr(&output)
    );
}

#[test]
fn a_return_of_an_unknown_shipment_names_its_field() {
    let mut scenario = valid();
    scenario["returns"][0]["shipment_id"] = json!("s404");
    assert_malformed(&preview(&scenario), &["returns[0].shipment_id"]);
}

#[test]
fn an_uninterpretable_prompt_exits_3_with_empty_stdout() {
    let mut scenario = valid();
    scenario["plan"]["ai_prompt"] =
        json!("Charge whatever seems fair based on how happy the customer is.");
    let output = preview(&scenario);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "stderr:\n{err}");
    assert!(
        stdout(&output).is_empty(),
        "nothing on stdout when refusing, got:\n{}",
        stdout(&output)
    );
    assert!(
        err.contains("not understood"),
        "a clear reason on stderr:\n{err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "printed once:\n{err}");
}

#[test]
fn interpret_prints_the_program_and_its_reading() {
    let output = run(&[
        "interpret",
        "Bill $5 for the first month and increase by $1 per month",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let text = stdout(&output);
    let (json_part, reading) = text
        .split_once("\n\n")
        .expect("JSON, a blank line, then the reading");
    let program: Value = serde_json::from_str(json_part).expect("the program as JSON");
    assert_eq!(program["currency"], "USD");
    assert_eq!(program["recurring"][0]["phases"][0]["amount"], "5");
    assert!(reading.contains("in advance"), "{reading}");

    let output = run(&[
        "interpret",
        "--json",
        "EUR 8 per week",
        "--interval",
        "week",
        "--currency",
        "EUR",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let program: Value = serde_json::from_str(&stdout(&output)).expect("only JSON with --json");
    assert_eq!(program["interval"]["unit"], "week");
}

#[test]
fn interpret_refuses_with_exit_3() {
    let output = run(&["interpret", "Charge whatever seems fair"]);
    assert_eq!(
        output.status.code(),
        Some(3),
        "stderr:\n{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());
    assert!(
        stderr(&output).starts_with("error: "),
        "{}",
        stderr(&output)
    );

    let output = run(&["interpret", "$5 per month", "--currency", "XYZ"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stderr:\n{}",
        stderr(&output)
    );
}

#[test]
fn demo_bills_three_plans_into_a_fresh_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("demo.db");
    std::fs::write(&db, b"not a database: the demo recreates it").expect("write a stale file");
    let db_arg = db.to_str().expect("utf-8 path");
    let output = run(&["demo", "--db", db_arg]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        stderr(&output)
    );
    let text = stdout(&output);
    assert_eq!(
        text.matches("Invoice ").count(),
        18,
        "six invoices per plan:\n{text}"
    );
    for needle in [
        "Bill $5 for the first month",
        "Saturday deliveries are $1.00",
        "returned deliveries are not billed",
    ] {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }
    assert!(text.contains("Sales tax 8.25%"));
    assert!(text.contains("Revenue schedule:"));
    assert!(text.contains("Done: 3 plans, 18 invoices"));
    assert!(Path::new(&db).exists());

    // Deterministic: a second run bills the same amounts.
    let json_run = |path: &str| -> Value {
        let output = run(&["demo", "--db", path, "--json"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "stderr:\n{}",
            stderr(&output)
        );
        serde_json::from_str(&stdout(&output)).expect("JSON")
    };
    let first = json_run(db_arg);
    let second = json_run(db_arg);
    assert_eq!(first["summary"], second["summary"]);
    assert_eq!(first["plans"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        first["plans"][2]["invoices"][0]["invoice_timing"],
        Value::Null
    );
    // The hybrid plan starts on Dec 31: billed in arrears, its second period ends on Feb 28.
    let hybrid = &first["plans"][2]["invoices"];
    assert_eq!(hybrid[1]["issue_date"], "2026-02-28");
    assert_eq!(hybrid[1]["billing_reason"], "subscription_cycle");
    // Its quantity changed from 2 to 3 on Apr 10, mid-period: the invoice issued at the end of
    // that period bills 3, the one before it 2, and no extra invoice was issued.
    assert_eq!(hybrid[3]["period_end"], "2026-04-30");
    assert_eq!(hybrid[2]["quantity"], 2);
    assert_eq!(hybrid[3]["quantity"], 3);
    assert_eq!(hybrid.as_array().map(Vec::len), Some(6));
}

#[test]
fn help_explains_every_command() {
    let output = run(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for command in ["preview", "interpret", "demo", "Exit status"] {
        assert!(text.contains(command), "{command} in --help:\n{text}");
    }
    for command in ["preview", "interpret", "demo"] {
        let output = run(&[command, "--help"]);
        assert_eq!(output.status.code(), Some(0), "{command} --help");
        assert!(
            stdout(&output).contains("Examples:"),
            "{command} --help has examples"
        );
    }
}

/// An in-memory SQLite database cannot outlive one command: `init` on it would report success
/// and every later command fail with "no such table". Refused by name, nothing on stdout.
#[test]
fn an_in_memory_database_is_refused_for_commands_that_keep_state() {
    for url in ["sqlite::memory:", "sqlite://"] {
        for args in [
            vec!["init", "--db", url],
            vec!["stats", "--db", url],
            vec!["run", "--db", url, "--until", "2026-01-31"],
            vec![
                "generate",
                "--db",
                url,
                "--subscriptions",
                "1",
                "--start",
                "2026-01-01",
            ],
        ] {
            let output = run(&args);
            assert_malformed(&output, &["--db", url, "sqlite://PATH"]);
        }
    }
    // The scenario preview bills in memory of its own, and keeps working.
    let output = preview(&valid());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}
