//! The catalogue of bad inputs (`tests/bad-inputs.json`) through the `ai-billing` binary: each
//! entry's exit status and a fragment of its message on stderr, with nothing on stdout. Engine
//! operations run on a copy of a SQLite file set up as the catalogue's `setup` says, through the
//! CLI's own commands. The same catalogue runs through Node and C (see the catalogue's `about`).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::process::{Command, Output};

use ai_billing_tests::catalogue::{self, Expect, Surface};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ai-billing");

fn run(args: &[OsString]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("AI_BILLING_DB")
        .env_remove("OPENAI_API_KEY")
        .output()
        .expect("run ai-billing")
}

/// A flag's value: text as is, numbers and other JSON as JSON text; `None` for null, absent or
/// `false`.
fn flag_value(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::Bool(false) => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// The command line of an engine operation on the database `db`, `request` being the
/// catalogue's request (its `$repeat`s expanded); `file` receives a plan's JSON.
fn engine_args(
    op: &str,
    request: &Value,
    db: &str,
    file: &Path,
    raw: Option<&[u8]>,
) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    let flag = |args: &mut Vec<String>, name: &str, value: &Value| {
        if value == &Value::Bool(true) {
            args.push(format!("--{name}"));
        } else if let Some(value) = flag_value(value) {
            args.push(format!("--{name}"));
            args.push(value);
        }
    };
    let command: &[&str] = match op {
        "save_account" => &["account", "save"],
        "save_customer" => &["customer", "save"],
        "create_plan" => &["plan", "save"],
        "get_plan" => &["plan", "show"],
        "list_plans" => &["plan", "list"],
        "create_subscription" => &["subscription", "create"],
        "update_subscription" => &["subscription", "quantity"],
        "get_subscription" => &["subscription", "show"],
        "preview_next_invoice" => &["subscription", "preview"],
        "list_invoices" => &["invoices"],
        "run_due" => &["run"],
        "engine_open" => &["stats"],
        "release_invoice" => &["invoice", "release"],
        "void_invoice" => &["invoice", "void"],
        "credit_invoice" => &["invoice", "credit"],
        other => panic!("no command line for {other}"),
    };
    args.extend(command.iter().map(|s| s.to_string()));
    let db = if op == "engine_open" {
        request["databaseUrl"].as_str().unwrap_or(db).to_owned()
    } else {
        db.to_owned()
    };
    args.extend(["--db".to_owned(), db]);
    match op {
        "save_account" => {
            let account = &request["account"];
            flag(&mut args, "id", &account["id"]);
            flag(&mut args, "timezone", &account["timezone"]);
            flag(&mut args, "abstracted", &account["abstracted"]);
        }
        "save_customer" => {
            let customer = &request["customer"];
            flag(&mut args, "account", &customer["account_id"]);
            flag(&mut args, "id", &customer["id"]);
        }
        "create_plan" => {
            let text = match raw {
                Some(raw) => raw.to_vec(),
                None => request["plan"].to_string().into_bytes(),
            };
            std::fs::write(file, text).expect("write the plan file");
            flag(&mut args, "account", &request["account_id"]);
            args.extend(["--file".to_owned(), file.display().to_string()]);
        }
        "get_plan" => {
            flag(&mut args, "account", &request["account_id"]);
            flag(&mut args, "id", &request["plan_id"]);
        }
        "list_plans" => flag(&mut args, "account", &request["account_id"]),
        "create_subscription" => {
            flag(&mut args, "account", &request["account_id"]);
            flag(&mut args, "id", &request["id"]);
            flag(&mut args, "customer", &request["customer_id"]);
            flag(&mut args, "plan", &request["plan_id"]);
            flag(&mut args, "quantity", &request["quantity"]);
            flag(&mut args, "start", &request["start_date"]);
            flag(&mut args, "request-id", &request["request_id"]);
        }
        "update_subscription" => {
            flag(&mut args, "account", &request["account_id"]);
            flag(&mut args, "id", &request["subscription_id"]);
            flag(&mut args, "quantity", &request["quantity"]);
            flag(&mut args, "request-id", &request["request_id"]);
        }
        "get_subscription" | "preview_next_invoice" => {
            flag(&mut args, "account", &request["account_id"]);
            flag(&mut args, "id", &request["subscription_id"]);
        }
        "list_invoices" => {
            flag(&mut args, "account", &request["account_id"]);
            flag(&mut args, "subscription", &request["subscription_id"]);
            flag(&mut args, "limit", &request["limit"]);
            args.push("--json".to_owned());
        }
        "run_due" => flag(&mut args, "until", &request["now"]),
        "release_invoice" | "void_invoice" | "credit_invoice" => {
            flag(&mut args, "account", &request["account_id"]);
            flag(&mut args, "id", &request["invoice_id"]);
            flag(&mut args, "reason", &request["reason"]);
            flag(&mut args, "rebill", &request["rebill"]);
            flag(&mut args, "request-id", &request["request_id"]);
            // The request's amounts are in cents; the command line takes the currency's unit.
            let major = |cents: &Value| {
                cents
                    .as_i64()
                    .map(|c| format!("{}.{:02}", c / 100, c % 100))
            };
            if let Some(amount) = major(&request["amount"]) {
                args.extend(["--amount".to_owned(), amount]);
            }
            if let Some(lines) = request["lines"].as_array() {
                let lines: Vec<String> = lines
                    .iter()
                    .map(|line| match major(&line["amount"]) {
                        Some(amount) => format!("{}:{amount}", line["line"]),
                        None => line["line"].to_string(),
                    })
                    .collect();
                args.extend(["--lines".to_owned(), lines.join(",")]);
            }
        }
        _ => {}
    }
    args
}

/// A SQLite file set up as the catalogue's `setup` says, through the CLI.
fn set_up(dir: &Path, setup: &[Value]) -> std::path::PathBuf {
    let path = dir.join("template.db");
    let db = format!("sqlite://{}", path.display());
    for (i, step) in setup.iter().enumerate() {
        let file = dir.join(format!("setup-{i}.json"));
        let args = engine_args(
            step["op"].as_str().unwrap(),
            &step["request"],
            &db,
            &file,
            None,
        );
        let output = run(&args.into_iter().map(OsString::from).collect::<Vec<_>>());
        assert!(
            output.status.success(),
            "setup step {step}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    path
}

#[test]
fn every_bad_input_of_the_catalogue_fails_with_its_exit_status_and_message() {
    let catalogue = catalogue::catalogue();
    let base = &catalogue["base_scenario"];
    let dir = tempfile::tempdir().expect("temp dir");
    let template = set_up(dir.path(), catalogue["setup"].as_array().unwrap());
    let (mut tried, mut skipped) = (0, 0);
    let mut wrong = Vec::new();
    for (n, entry) in catalogue["inputs"].as_array().unwrap().iter().enumerate() {
        let id = entry["id"].as_str().unwrap();
        let (status, fragment) = match catalogue::expect(entry, Surface::Cli) {
            Expect::Skip(_) => {
                skipped += 1;
                continue;
            }
            Expect::Ok => (0, String::new()),
            Expect::Exit { status, message } => (status, message),
            Expect::Error { .. } => unreachable!("the CLI expects exit statuses"),
        };
        tried += 1;
        let input = catalogue::input_bytes(entry, base).expect("a CLI entry has an input");
        let op = entry["op"].as_str().unwrap();
        let args: Vec<OsString> = match op {
            "preview" => {
                let file = dir.path().join(format!("scenario-{n}.json"));
                std::fs::write(&file, &input).unwrap();
                vec!["preview".into(), "--json".into(), file.into()]
            }
            "interpret" => {
                let mut args: Vec<OsString> = vec![
                    "interpret".into(),
                    "--json".into(),
                    OsString::from_vec(input),
                ];
                let options = entry.get("options").cloned().unwrap_or_default();
                for (key, flag) in [
                    ("currency", "--currency"),
                    ("interval", "--interval"),
                    ("intervalCount", "--interval-count"),
                ] {
                    if let Some(value) = flag_value(&options[key]) {
                        args.extend([flag.into(), value.into()]);
                    }
                }
                args
            }
            _ => {
                let db_path = dir.path().join(format!("db-{n}.db"));
                // The database with its write-ahead log: the setup's last writes may be there.
                for suffix in ["", "-wal", "-shm"] {
                    let from = format!("{}{suffix}", template.display());
                    if Path::new(&from).exists() {
                        std::fs::copy(&from, format!("{}{suffix}", db_path.display())).unwrap();
                    }
                }
                let db = format!("sqlite://{}", db_path.display());
                let raw = entry.get("text").map(|_| input.as_slice());
                let request = catalogue::expand(&entry["request"]);
                let file = dir.path().join(format!("plan-{n}.json"));
                engine_args(op, &request, &db, &file, raw)
                    .into_iter()
                    .map(OsString::from)
                    .collect()
            }
        };
        let output = run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let code = output.status.code().unwrap_or(-1);
        let ok = if status == 0 {
            code == 0 && (entry["expect_empty"] != true || stdout.trim() == "[]")
        } else {
            code == status
                && stderr.contains(&fragment)
                && stderr.starts_with("error: ")
                && (op == "preview" || op == "interpret" || stdout.is_empty())
                && (op != "preview" && op != "interpret" || stdout.is_empty())
        };
        if !ok {
            wrong.push(format!(
                "{id}: expected exit {status} with {fragment:?}; got {code}: {}{}",
                stderr.chars().take(300).collect::<String>(),
                stdout.chars().take(200).collect::<String>()
            ));
        }
    }
    catalogue::assert_all_right(&wrong, tried, skipped, "on the CLI");
    eprintln!("bad inputs: {tried} tried through the CLI, {skipped} not applicable");
}
