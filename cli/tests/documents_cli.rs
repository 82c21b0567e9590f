//! Invoice and credit note documents through the `ai-billing` binary (issue 21): `preview --html
//! DIR` writes one file per invoice and credit note and leaves stdout as it was; `invoices
//! --html` prints the one invoice selected or writes each to DIR/ID.html, in the account's
//! locale; `credit-notes --html` the same for credit notes.

use std::path::Path;

mod support;
use support::{ai_billing, ok};

/// The scenario of a public case file, written to `dir/scenario.json`.
fn scenario(dir: &Path, case: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/scenarios/public")
        .join(case);
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let file = dir.join("scenario.json");
    std::fs::write(&file, case["scenario"].to_string()).unwrap();
    file.display().to_string()
}

#[test]
fn preview_writes_every_document_and_keeps_its_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), "change-cancel-immediately-in-advance.json");
    let docs = dir.path().join("docs");
    let plain = ok(&["preview", "--json", &file]);
    let out = ai_billing(&["preview", "--json", &file, "--html", docs.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), plain);
    assert!(String::from_utf8_lossy(&out.stderr).contains("written to"));

    let report: serde_json::Value = serde_json::from_str(&plain).unwrap();
    let invoices = report["invoices"].as_array().unwrap();
    let notes = report["credit_notes"].as_array().unwrap();
    assert!(!invoices.is_empty() && !notes.is_empty());
    let mut names: Vec<String> = std::fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut expected: Vec<String> = (1..=notes.len())
        .map(|i| format!("credit-note-{i:02}.html"))
        .chain((1..=invoices.len()).map(|i| format!("invoice-{i:02}.html")))
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    for (i, invoice) in invoices.iter().enumerate() {
        let html =
            std::fs::read_to_string(docs.join(format!("invoice-{:02}.html", i + 1))).unwrap();
        let total = format!("${}", invoice["total"].as_str().unwrap());
        assert!(html.contains(&total), "{total} not in invoice {}", i + 1);
    }
    let note = std::fs::read_to_string(docs.join("credit-note-01.html")).unwrap();
    assert!(note.contains("Credit note") && note.contains("Cancellation"));
    assert!(note.contains(&format!("${}", notes[0]["total"].as_str().unwrap())));
}

#[test]
fn stored_invoices_and_credit_notes_print_or_write_their_documents() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("billing.db").display());
    let db = url.as_str();
    ok(&["init", "--db", db]);
    ok(&[
        "account",
        "save",
        "--db",
        db,
        "--id",
        "acct_1",
        "--timezone",
        "Europe/Paris",
        "--abstracted",
        "--locale",
        "fr-FR",
    ]);
    ok(&[
        "customer",
        "save",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "cus_1",
    ]);
    ok(&[
        "plan",
        "save",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "plan_1",
        "--currency",
        "EUR",
        "--prompt",
        "€1200 per month for each seat",
    ]);
    for id in ["sub_1", "sub_2"] {
        ok(&[
            "subscription",
            "create",
            "--db",
            db,
            "--account",
            "acct_1",
            "--id",
            id,
            "--customer",
            "cus_1",
            "--plan",
            "plan_1",
            "--start",
            "2026-01-01",
            "--at",
            "2026-01-01T15:00:00Z",
        ]);
    }
    let one = ok(&[
        "invoices",
        "--db",
        db,
        "--account",
        "acct_1",
        "--invoice",
        "in_sub_1_20260101",
        "--html",
    ]);
    assert!(one.starts_with("<!DOCTYPE html>"), "{one}");
    assert!(one.contains("<html lang=\"en\">") && one.contains("1\u{202f}200,00\u{a0}€"));
    assert!(one.contains("in_sub_1_20260101") && one.contains("01/01/2026"));

    // Several without a folder: exit 2, saying how to choose.
    let out = ai_billing(&["invoices", "--db", db, "--account", "acct_1", "--html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 invoices match") && stderr.contains("--html DIR"),
        "{stderr}"
    );

    let folder = dir.path().join("invoices");
    let listed = ok(&[
        "invoices",
        "--db",
        db,
        "--account",
        "acct_1",
        "--html",
        folder.to_str().unwrap(),
    ]);
    assert!(listed.contains("2 invoice documents written"), "{listed}");
    for id in ["in_sub_1_20260101", "in_sub_2_20260101"] {
        let html = std::fs::read_to_string(folder.join(format!("{id}.html"))).unwrap();
        assert!(html.contains(id));
    }

    ok(&[
        "invoice",
        "credit",
        "--db",
        db,
        "--account",
        "acct_1",
        "--id",
        "in_sub_1_20260101",
        "--amount",
        "100.00",
        "--reason",
        "goodwill",
        "--at",
        "2026-01-10T15:00:00Z",
    ]);
    let note = ok(&[
        "credit-notes",
        "--db",
        db,
        "--account",
        "acct_1",
        "--credit-note",
        "cn_sub_1_1",
        "--html",
    ]);
    assert!(note.contains("Credit note") && note.contains("in_sub_1_20260101"));
    assert!(note.contains("100,00\u{a0}€") && note.contains("Manual credit"));
    let out = ai_billing(&[
        "credit-notes",
        "--db",
        db,
        "--account",
        "acct_1",
        "--credit-note",
        "cn_nope_1",
        "--html",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 credit notes match"));
}
