//! `plan list` through the binary, on SQLite and PostgreSQL: two plans saved (an AI prompt and a
//! standard `--amount`), one edited into a second version, listed once each at their latest
//! versions, in plan id order, as JSON and as lines; an account without plans lists none and a
//! missing account is an error.

use serde_json::Value;

mod support;
use support::{ai_billing, ok};

const PROMPT: &str = "$0.75 per delivery Monday to Saturday and $2.50 per Sunday delivery";

fn json(args: &[&str]) -> Value {
    let text = ok(args);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}):\n{text}"))
}

/// Saves the plans, edits one, and checks what `plan list` shows, on the database at `db`.
fn check_plan_list(db: &str) {
    for account in ["acct_1", "acct_empty"] {
        ok(&[
            "account",
            "save",
            "--db",
            db,
            "--id",
            account,
            "--timezone",
            "UTC",
            "--abstracted",
        ]);
    }
    let save = |extra: &[&str]| {
        let mut args = vec!["plan", "save", "--db", db, "--account", "acct_1", "--json"];
        args.extend_from_slice(extra);
        json(&args)
    };
    let news = save(&[
        "--id",
        "news",
        "--nickname",
        "Newspaper",
        "--prompt",
        PROMPT,
    ]);
    assert_eq!(news["version"], 1);
    let basic_v1 = save(&["--id", "basic", "--nickname", "Basic", "--amount", "1999"]);
    assert_eq!(basic_v1["version"], 1);
    let basic_v2 = save(&[
        "--id",
        "basic",
        "--nickname",
        "Basic plus",
        "--amount",
        "2499",
    ]);
    assert_eq!(
        basic_v2["version"], 2,
        "saving a plan again makes version 2"
    );

    let listed = json(&["plan", "list", "--db", db, "--account", "acct_1", "--json"]);
    let listed = listed.as_array().expect("a JSON array");
    let ids: Vec<(&str, u64)> = listed
        .iter()
        .map(|version| {
            (
                version["plan"]["id"].as_str().expect("a plan id"),
                version["version"].as_u64().expect("a version"),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [("basic", 2), ("news", 1)],
        "each plan once, at its latest version, in plan id order"
    );
    assert_eq!(
        listed[0], basic_v2,
        "the standard plan as its edit saved it"
    );
    assert_eq!(listed[0]["plan"]["type"], "standard");
    assert_eq!(listed[0]["plan"]["amount"], 2499);
    assert_eq!(listed[1], news, "the AI plan as saved");
    assert_eq!(listed[1]["plan"]["type"], "ai");
    assert_eq!(listed[1]["plan"]["ai_prompt"], PROMPT);
    assert_eq!(listed[1]["interpreter"], "offline");
    for version in listed {
        let id = version["plan"]["id"].as_str().unwrap();
        let shown = json(&[
            "plan",
            "show",
            "--db",
            db,
            "--account",
            "acct_1",
            "--id",
            id,
            "--json",
        ]);
        assert_eq!(
            *version, shown,
            "plan list and plan show agree on the latest {id}"
        );
    }

    let text = ok(&["plan", "list", "--db", db, "--account", "acct_1"]);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        [
            vec![
                "basic", "v2", "standard", "USD", "1", "month", "at_start", "Basic", "plus"
            ],
            vec![
                "news",
                "v1",
                "ai",
                "USD",
                "1",
                "month",
                "at_renewal",
                "Newspaper"
            ],
        ],
        "one line per plan:\n{text}"
    );

    assert_eq!(
        json(&[
            "plan",
            "list",
            "--db",
            db,
            "--account",
            "acct_empty",
            "--json"
        ]),
        Value::Array(vec![]),
        "an account without plans lists none"
    );
    let missing = ai_billing(&["plan", "list", "--db", db, "--account", "acct_missing"]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1), "{stderr}");
    assert!(missing.stdout.is_empty());
    assert!(stderr.contains("acct_missing"), "{stderr}");
}

#[test]
fn sqlite_plan_list_shows_each_plan_at_its_latest_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    check_plan_list(&format!(
        "sqlite://{}",
        dir.path().join("plans.db").display()
    ));
}

#[test]
fn postgres_plan_list_shows_each_plan_at_its_latest_version() {
    let database = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(ai_billing_tests::pg::TestDatabase::create());
    check_plan_list(database.url());
}
