//! `ai-billing usage load`: shipments and returns from a file into the platform's `shipments` and
//! `returns` tables, so a database built by hand bills real usage.
//!
//! A file is CSV with a header row (`*.csv`) or JSON lines (one object a line, anything else), in
//! the tables' columns: shipments `id, customer_id, shipped_at, quantity`, returns `id,
//! customer_id, shipment_id, returned_at, quantity`; instants in RFC 3339. Every row is read and
//! checked before anything is written, and a bad row stops the load naming the file's line and the
//! field (nothing is written). Loading is idempotent by row id: a row whose id the account
//! already has is skipped, so a file can be loaded again after more rows were appended to it.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use ai_billing::usage::{Return, Shipment};
use ai_billing::{Error, FixtureStore};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::database::{DbArgs, block_on};
use crate::failure::{CliResult, Failure};
use crate::render;

/// `ai-billing usage ...`.
#[derive(Debug, clap::Subcommand)]
pub enum UsageCommand {
    /// Load shipments (or, with --returns, returns) from a CSV or JSON-lines file.
    #[command(
        long_about = "Loads the platform's usage rows from a file into the database: shipments \
                      (id, customer_id, shipped_at, quantity) or, with --returns, returns (id, \
                      customer_id, shipment_id, returned_at, quantity). A *.csv file has a header \
                      row naming the columns; any other file is JSON lines, one object a line. \
                      Instants are RFC 3339 (2026-01-15T16:00:00Z).\n\n\
                      Every row is checked before anything is written: a bad row stops the load \
                      with the line and the field, and nothing is written. A row whose id the \
                      account already has is skipped, so loading a file twice loads it once. \
                      The customers must exist (`ai-billing customer save`).",
        after_help = "Examples:\n  ai-billing usage load --db sqlite://billing.db --account acct_1 examples/usage/shipments.csv\n  ai-billing usage load --db sqlite://billing.db --account acct_1 --returns examples/usage/returns.jsonl"
    )]
    Load(LoadArgs),
}

/// Arguments of `usage load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account the rows belong to.
    #[arg(long)]
    pub account: String,
    /// The file holds returns (default: shipments).
    #[arg(long)]
    pub returns: bool,
    /// The file: `*.csv` with a header row, or JSON lines.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Runs `usage ...`.
pub fn run(command: &UsageCommand) -> CliResult {
    let UsageCommand::Load(args) = command;
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Failure::invalid_input(format!("cannot read {}", args.file.display()), e))?;
    let records = records(&args.file, &text)?;
    let loaded = if args.returns {
        load::<Return>(args, &records)?
    } else {
        load::<Shipment>(args, &records)?
    };
    writeln!(
        std::io::stdout(),
        "Loaded {} into account {} from {} ({} already there, skipped).",
        render::count(loaded.inserted, loaded.noun),
        args.account,
        args.file.display(),
        loaded.skipped
    )?;
    Ok(())
}

/// What a load wrote.
struct Loaded {
    noun: &'static str,
    inserted: u64,
    skipped: u64,
}

/// One row of the file: its line number (1-based, as editors count) and its fields by column.
struct Record {
    line: usize,
    fields: serde_json::Map<String, Value>,
}

/// The file's rows, by its format; blank lines are skipped.
fn records(path: &Path, text: &str) -> CliResult<Vec<Record>> {
    let csv = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
    let lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim_end_matches('\r')))
        .filter(|(_, line)| !line.trim().is_empty());
    let bad = |line: usize, reason: String| {
        Failure::invalid_input(format!("{} line {line}", path.display()), reason)
    };
    if !csv {
        return lines
            .map(|(line, text)| match serde_json::from_str(text) {
                Ok(Value::Object(fields)) => Ok(Record { line, fields }),
                Ok(_) => Err(bad(line, "is not a JSON object".to_owned())),
                Err(e) => Err(bad(line, format!("is not valid JSON: {e}"))),
            })
            .collect();
    }
    let mut lines = lines;
    let Some((header_line, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let columns = csv_cells(header).map_err(|reason| bad(header_line, reason))?;
    lines
        .map(|(line, text)| {
            let cells = csv_cells(text).map_err(|reason| bad(line, reason))?;
            if cells.len() != columns.len() {
                return Err(bad(
                    line,
                    format!(
                        "has {} cells, the header has {} ({})",
                        cells.len(),
                        columns.len(),
                        columns.join(",")
                    ),
                ));
            }
            let fields = columns
                .iter()
                .cloned()
                .zip(cells.into_iter().map(Value::String))
                .collect();
            Ok(Record { line, fields })
        })
        .collect()
}

/// The cells of one CSV line: comma-separated, a cell in double quotes may hold commas and `""`
/// for a quote (RFC 4180, without line breaks inside a cell). Cells are trimmed.
fn csv_cells(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut cell = String::new();
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        cell.push('"');
                    }
                    Some('"') => break,
                    Some(c) => cell.push(c),
                    None => return Err("has a quoted cell that is not closed".to_owned()),
                }
            }
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            if !matches!(chars.peek(), None | Some(',')) {
                return Err("has text after a quoted cell".to_owned());
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                cell.push(c);
                chars.next();
            }
        }
        cells.push(cell.trim().to_owned());
        if chars.next().is_none() {
            return Ok(cells);
        }
    }
}

/// A usage row the platform's tables hold: read from a [`Record`], inserted through the store.
trait UsageRow: Sized + Send + Sync {
    /// The table (`shipments`), for messages.
    const TABLE: &'static str;
    /// One row (`shipment`), for messages.
    const NOUN: &'static str;
    /// The row from its fields; `Err` names the field and what is wrong.
    fn read(fields: &Fields<'_>) -> Result<Self, String>;
    /// The row's id.
    fn id(&self) -> &str;
    /// Inserts rows of one customer, all or nothing, refusing an id the account already has.
    fn insert<'a>(
        store: &'a dyn FixtureStore,
        account_id: &'a str,
        customer_id: &'a str,
        rows: &'a [Self],
    ) -> Pin<Box<dyn Future<Output = ai_billing::Result<()>> + Send + 'a>>;
}

impl UsageRow for Shipment {
    const TABLE: &'static str = "shipments";
    const NOUN: &'static str = "shipment";

    fn read(fields: &Fields<'_>) -> Result<Self, String> {
        Ok(Shipment {
            id: fields.text("id")?,
            shipped_at: fields.instant("shipped_at")?,
            quantity: fields.quantity()?,
        })
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn insert<'a>(
        store: &'a dyn FixtureStore,
        account_id: &'a str,
        customer_id: &'a str,
        rows: &'a [Self],
    ) -> Pin<Box<dyn Future<Output = ai_billing::Result<()>> + Send + 'a>> {
        store.insert_shipments(account_id, customer_id, rows)
    }
}

impl UsageRow for Return {
    const TABLE: &'static str = "returns";
    const NOUN: &'static str = "return";

    fn read(fields: &Fields<'_>) -> Result<Self, String> {
        Ok(Return {
            id: fields.text("id")?,
            shipment_id: fields.text("shipment_id")?,
            returned_at: fields.instant("returned_at")?,
            quantity: fields.quantity()?,
        })
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn insert<'a>(
        store: &'a dyn FixtureStore,
        account_id: &'a str,
        customer_id: &'a str,
        rows: &'a [Self],
    ) -> Pin<Box<dyn Future<Output = ai_billing::Result<()>> + Send + 'a>> {
        store.insert_returns(account_id, customer_id, rows)
    }
}

/// The fields of one record, read by name with the rule each column follows.
struct Fields<'r>(&'r serde_json::Map<String, Value>);

impl Fields<'_> {
    fn value(&self, name: &str) -> Result<&Value, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Err(format!("{name}: missing")),
            Some(value) => Ok(value),
        }
    }

    /// A non-empty text (an id).
    fn text(&self, name: &str) -> Result<String, String> {
        match self.value(name)? {
            Value::String(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
            Value::String(_) => Err(format!("{name}: empty")),
            other => Err(format!("{name}: {other} is not a text")),
        }
    }

    /// An RFC 3339 instant in whole seconds (the tables store seconds).
    fn instant(&self, name: &str) -> Result<DateTime<Utc>, String> {
        let text = self.text(name)?;
        let at = DateTime::parse_from_rfc3339(&text)
            .map_err(|_| {
                format!("{name}: {text:?} is not an RFC 3339 instant such as 2026-01-15T16:00:00Z")
            })?
            .to_utc();
        if at.timestamp_subsec_nanos() != 0 {
            return Err(format!("{name}: {text:?} has a fraction of a second"));
        }
        Ok(at)
    }

    /// `quantity`: a whole number, at least 1 (copies or units in the row).
    fn quantity(&self) -> Result<u32, String> {
        let text = match self.value("quantity")? {
            Value::String(text) => text.trim().to_owned(),
            Value::Number(number) => number.to_string(),
            other => return Err(format!("quantity: {other} is not a number")),
        };
        text.parse::<u32>()
            .ok()
            .filter(|quantity| *quantity >= 1)
            .ok_or_else(|| format!("quantity: {text} is not a whole number from 1 to 4294967295"))
    }
}

/// Reads and checks every record as an `R`, then inserts them customer by customer, skipping
/// the ids the account already has.
fn load<R: UsageRow>(args: &LoadArgs, records: &[Record]) -> CliResult<Loaded> {
    let at_line = |line: usize| format!("{} line {line}", args.file.display());
    let mut by_customer: BTreeMap<String, Vec<R>> = BTreeMap::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for record in records {
        let fields = Fields(&record.fields);
        let row = R::read(&fields)
            .and_then(|row| {
                let customer = fields.text("customer_id")?;
                Ok((row, customer))
            })
            .map_err(|reason| Failure::invalid_input(at_line(record.line), reason));
        let (row, customer) = row?;
        if let Some(earlier) = seen.insert(row.id().to_owned(), record.line) {
            return Err(Failure::invalid_input(
                at_line(record.line),
                format!("id: {} {:?} is also on line {earlier}", R::NOUN, row.id()),
            ));
        }
        first_line.entry(customer.clone()).or_insert(record.line);
        by_customer.entry(customer).or_default().push(row);
    }
    block_on(async {
        let store = args.db.open_with_fixtures().await?;
        if store.account(&args.account).await?.is_none() {
            return Err(Error::not_found("account", &args.account).into());
        }
        for customer in by_customer.keys() {
            if store.customer(&args.account, customer).await?.is_none() {
                return Err(Failure::invalid_input(
                    at_line(first_line[customer]),
                    format!(
                        "customer_id: customer {customer:?} does not exist in account {:?} (save it first: ai-billing customer save)",
                        args.account
                    ),
                ));
            }
        }
        let mut loaded = Loaded {
            noun: R::NOUN,
            inserted: 0,
            skipped: 0,
        };
        for (customer, rows) in &by_customer {
            let (inserted, skipped) =
                insert_new(store.as_ref(), &args.account, customer, rows).await?;
            loaded.inserted += inserted;
            loaded.skipped += skipped;
        }
        Ok(loaded)
    })
}

/// Inserts `rows` of one customer, skipping those whose id the account already has: returns
/// (inserted, skipped). The store inserts a batch all or nothing and refuses it whole when one id
/// exists, so a refused batch is halved until each half goes in or is one row already there: one
/// transaction for a new file, about two per row for a file loaded again.
async fn insert_new<R: UsageRow>(
    store: &dyn FixtureStore,
    account_id: &str,
    customer_id: &str,
    rows: &[R],
) -> CliResult<(u64, u64)> {
    let (mut inserted, mut skipped) = (0, 0);
    let mut pending = vec![rows];
    while let Some(batch) = pending.pop() {
        if batch.is_empty() {
            continue;
        }
        match R::insert(store, account_id, customer_id, batch).await {
            Ok(()) => inserted += batch.len() as u64,
            Err(error) if already_there::<R>(&error) => {
                if batch.len() == 1 {
                    skipped += 1;
                } else {
                    let (first, second) = batch.split_at(batch.len() / 2);
                    pending.extend([second, first]);
                }
            }
            Err(error) => {
                return Err(Failure::from(error)
                    .context(format!("loading {} of customer {customer_id}", R::TABLE)));
            }
        }
    }
    Ok((inserted, skipped))
}

/// Whether `error` is the store's refusal of an id the account already has (a `CONFLICT` on
/// this table's id, and nothing else).
fn already_there<R: UsageRow>(error: &Error) -> bool {
    matches!(error, Error::Conflict { what, .. } if what == &format!("{}.id", R::TABLE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_follow_rfc_4180_on_one_line() {
        assert_eq!(csv_cells("a, b ,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            csv_cells(r#""s,1","say ""hi""",3"#).unwrap(),
            ["s,1", r#"say "hi""#, "3"]
        );
        assert_eq!(csv_cells("a,,").unwrap(), ["a", "", ""]);
        assert!(csv_cells(r#""open"#).is_err());
        assert!(csv_cells(r#""a"b,c"#).is_err());
    }

    #[test]
    fn a_bad_field_is_named() {
        let read = |json: &str| {
            let fields: serde_json::Map<String, Value> = serde_json::from_str(json).unwrap();
            Shipment::read(&Fields(&fields))
        };
        let good = read(r#"{"id":"s1","shipped_at":"2026-01-15T16:00:00Z","quantity":2}"#);
        assert_eq!(good.unwrap().quantity, 2);
        for (json, said) in [
            (
                r#"{"shipped_at":"2026-01-15T16:00:00Z","quantity":1}"#,
                "id: missing",
            ),
            (
                r#"{"id":" ","shipped_at":"2026-01-15T16:00:00Z","quantity":1}"#,
                "id: empty",
            ),
            (
                r#"{"id":"s","shipped_at":"01/15/2026","quantity":1}"#,
                "shipped_at: \"01/15/2026\" is not an RFC 3339 instant",
            ),
            (
                r#"{"id":"s","shipped_at":"2026-01-15T16:00:00.5Z","quantity":1}"#,
                "fraction of a second",
            ),
            (
                r#"{"id":"s","shipped_at":"2026-01-15T16:00:00Z","quantity":0}"#,
                "quantity: 0 is not a whole number",
            ),
            (
                r#"{"id":"s","shipped_at":"2026-01-15T16:00:00Z","quantity":"-1"}"#,
                "quantity: -1 is not",
            ),
        ] {
            let reason = read(json).unwrap_err();
            assert!(reason.contains(said), "{json}: {reason}");
        }
    }
}
