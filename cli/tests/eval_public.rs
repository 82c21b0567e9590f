//! The team's public scenarios (`tests/scenarios/public/`, copied from `shared/eval/public/`), run
//! through the built binary exactly as `shared/eval/run.py` scores them: `preview --json` on each
//! case's scenario, then the invoice timing, the number of invoices, their dates and their
//! subtotal, tax and total compared as decimals; a case that expects a refusal must exit 3.
//! Every failure is collected and reported at once.

use std::path::{Path, PathBuf};
use std::process::Command;

use rust_decimal::Decimal;
use serde_json::Value;

const DATE_FIELDS: [&str; 3] = ["issue_date", "period_start", "period_end"];
const MONEY_FIELDS: [&str; 3] = ["subtotal", "tax", "total"];

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/public")
}

/// A JSON value as the scorer reads it: `str(value)` in Python.
fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn decimal(value: Option<&Value>) -> Option<Decimal> {
    let s = text(value);
    s.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(&s).ok())
}

/// The scorer's `compare`: `None` when the answer matches, else what differs.
fn compare(expected: &Value, got: &Value) -> Option<String> {
    let timing = got.get("invoice_timing");
    if timing != expected.get("invoice_timing") {
        return Some(format!(
            "timing {} != {}",
            text(timing),
            text(expected.get("invoice_timing"))
        ));
    }
    let empty = Vec::new();
    let got_invoices = got
        .get("invoices")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let expected_invoices = expected["invoices"]
        .as_array()
        .expect("expected.invoices is an array");
    if got_invoices.len() != expected_invoices.len() {
        return Some(format!(
            "{} invoices != {}",
            got_invoices.len(),
            expected_invoices.len()
        ));
    }
    for (n, (g, e)) in got_invoices.iter().zip(expected_invoices).enumerate() {
        let n = n + 1;
        for field in DATE_FIELDS {
            let got_date: String = text(g.get(field)).chars().take(10).collect();
            if got_date != text(e.get(field)) {
                return Some(format!(
                    "invoice {n} {field} {:?} != {:?}",
                    text(g.get(field)),
                    text(e.get(field))
                ));
            }
        }
        for field in MONEY_FIELDS {
            let want = decimal(e.get(field)).expect("expected amounts are decimals");
            match decimal(g.get(field)) {
                Some(have) if have == want => {}
                Some(_) => {
                    return Some(format!(
                        "invoice {n} {field} {} != {want}",
                        text(g.get(field))
                    ));
                }
                None => {
                    return Some(format!(
                        "invoice {n} {field} unreadable: {:?}",
                        g.get(field)
                    ));
                }
            }
        }
    }
    None
}

#[test]
fn public_scenarios_match_the_scorer() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/scenarios/public exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no public scenarios found in {}",
        cases_dir().display()
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("readable case"))
                .unwrap_or_else(|e| panic!("{name}: case is not JSON: {e}"));
        let scenario_path = dir.path().join(format!("{name}.json"));
        std::fs::write(&scenario_path, case["scenario"].to_string()).expect("write scenario");

        let output = Command::new(env!("CARGO_BIN_EXE_ai-billing"))
            .arg("preview")
            .arg("--json")
            .arg(&scenario_path)
            .output()
            .expect("run ai-billing");
        let code = output.status.code();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let expected = &case["expected"];

        let failure = if expected.get("refuse").and_then(Value::as_bool) == Some(true) {
            match code {
                Some(3) if stdout.trim().is_empty() => None,
                Some(3) => Some(format!("refused but printed on stdout: {}", stdout.trim())),
                _ => Some(format!("billed instead of refusing (exit {code:?})")),
            }
        } else if code == Some(3) {
            Some(format!("refused: {}", stderr.trim()))
        } else if code != Some(0) {
            Some(format!("exit {code:?}: {}", stderr.trim()))
        } else {
            match serde_json::from_str::<Value>(&stdout) {
                Ok(got) => compare(expected, &got),
                Err(e) => Some(format!("unreadable output: {e}")),
            }
        };
        if let Some(why) = failure {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} public scenarios failed:\n  {}",
        failures.len(),
        files.len(),
        failures.join("\n  ")
    );
}
