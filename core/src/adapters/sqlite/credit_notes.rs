//! Credit notes on SQLite: checked against the invoice they credit and written with their lines,
//! tax lines and reversed revenue in the caller's write transaction, and read back whole, in
//! (subscription id, number) order.

use std::collections::HashMap;

use sqlx::sqlite::SqliteRow;
use sqlx::{SqliteConnection, SqlitePool};

use super::filters::Filters;
use super::rows::{self, CREDIT_NOTE_COLUMNS, INVOICE_COLUMNS, date_text, micros};
use super::rows::{by_parent, insert_children};
use super::storage;
use super::tx::{fetch_failed, roll_back};
use crate::credit_note::CreditNote;
use crate::error::Result;
use crate::invoice::IssuedInvoice;
use crate::money::Currency;
use crate::store::{CreditNoteQuery, check_credit_note, credit_note_exists};

/// A credit note's number or id already used (the two unique keys), before it is written.
const NOTE_EXISTS: &str = "SELECT 1 FROM credit_notes \
     WHERE account_id = ?1 AND (id = ?2 OR (subscription_id = ?3 AND number = ?4))";

const INSERT_NOTE: &str = "INSERT INTO credit_notes (account_id, id, number, subscription_id, \
     customer_id, invoice_id, invoice_period_start, issue_date, reason, currency, subtotal, tax, \
     tax_inclusive, total, created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
     ON CONFLICT DO NOTHING";

/// The invoice each note credits as the store holds it now (its head: what the checks read),
/// `None` where there is none. Read before the commit writes its own invoice, so a note is
/// checked against the invoices that were kept before the change, as the memory store does.
pub(super) async fn credited_invoices(
    conn: &mut SqliteConnection,
    notes: &[CreditNote],
) -> Result<Vec<Option<IssuedInvoice>>> {
    let mut found = Vec::with_capacity(notes.len());
    for note in notes {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {INVOICE_COLUMNS} FROM invoices WHERE account_id = ?1 AND id = ?2"
        )))
        .bind(note.account_id.clone())
        .bind(note.invoice_id.clone())
        .fetch_optional(&mut *conn)
        .await
        .map_err(fetch_failed("the invoice a credit note credits"))?;
        let invoice = match row {
            Some(row) => {
                Some(rows::invoice_head(&row)?.into_issued(Vec::new(), Vec::new(), Vec::new()))
            }
            None => None,
        };
        found.push(invoice);
    }
    Ok(found)
}

/// Writes `notes`, each refused first as every store refuses it: a number (or id) the
/// subscription has used is [`credit_note_exists`], an invoice that is not the subscription's
/// (from `credited`, in the same order) or in another currency is [`check_credit_note`]'s error.
/// On an error the caller rolls back: nothing of the change is kept.
pub(super) async fn insert_credit_notes(
    conn: &mut SqliteConnection,
    notes: &[CreditNote],
    credited: &[Option<IssuedInvoice>],
) -> Result<()> {
    for (note, invoice) in notes.iter().zip(credited) {
        let action = || format!("writing credit note {:?}", note.id);
        let used = sqlx::query(NOTE_EXISTS)
            .bind(note.account_id.clone())
            .bind(note.id.clone())
            .bind(note.subscription_id.clone())
            .bind(i64::from(note.number))
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage(action()))?;
        if used.is_some() {
            return Err(credit_note_exists(note));
        }
        check_credit_note(note, invoice.as_ref())?;
        let written = sqlx::query(INSERT_NOTE)
            .bind(note.account_id.clone())
            .bind(note.id.clone())
            .bind(i64::from(note.number))
            .bind(note.subscription_id.clone())
            .bind(note.customer_id.clone())
            .bind(note.invoice_id.clone())
            .bind(date_text(note.invoice_period_start))
            .bind(date_text(note.issue_date))
            .bind(note.reason.clone())
            .bind(note.currency.code())
            .bind(note.subtotal.minor())
            .bind(note.tax.minor())
            .bind(note.tax_inclusive)
            .bind(note.total.minor())
            .bind(micros(note.created_at))
            .execute(&mut *conn)
            .await
            .map_err(storage(action()))?;
        if written.rows_affected() != 1 {
            // The same number twice in one change.
            return Err(credit_note_exists(note));
        }
        insert_children_of(conn, note)
            .await
            .map_err(storage(action()))?;
    }
    Ok(())
}

async fn insert_children_of(
    conn: &mut SqliteConnection,
    note: &CreditNote,
) -> std::result::Result<(), sqlx::Error> {
    let key = (note.account_id.as_str(), note.id.as_str());
    let lines =
        rows::with_bases(&note.line_items).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    insert_children(
        conn,
        key,
        "INSERT INTO credit_note_line_items \
         (account_id, credit_note_id, position, description, kind, amount, basis) ",
        &lines,
        |row, (line, basis)| {
            row.push_bind(line.description.clone())
                .push_bind(rows::charge_kind_name(line.kind))
                .push_bind(line.amount.minor())
                .push_bind(basis.clone());
        },
    )
    .await?;
    insert_children(
        conn,
        key,
        "INSERT INTO credit_note_tax_lines \
         (account_id, credit_note_id, position, name, rate, amount) ",
        &note.tax_lines,
        |row, line| {
            row.push_bind(line.name.clone())
                .push_bind(line.rate.to_string())
                .push_bind(line.amount.minor());
        },
    )
    .await?;
    insert_children(
        conn,
        key,
        "INSERT INTO credit_note_revenue \
         (account_id, credit_note_id, position, month, start_date, end_date, days, amount) ",
        &note.revenue_reversed,
        |row, entry| {
            row.push_bind(entry.month.clone())
                .push_bind(date_text(entry.start))
                .push_bind(date_text(entry.end))
                .push_bind(i64::from(entry.days))
                .push_bind(entry.amount.minor());
        },
    )
    .await
}

/// An account's credit notes (or one subscription's), whole, by (subscription id, number), at
/// most `query.limit`: the heads, then each child table joined to them, in one read transaction.
pub(super) async fn select_credit_notes(
    pool: &SqlitePool,
    query: &CreditNoteQuery,
) -> Result<Vec<CreditNote>> {
    let mut filters = Filters::default();
    filters
        .eq("account_id", Some(&query.account_id))
        .eq("subscription_id", query.subscription_id.as_deref())
        .eq("customer_id", query.customer_id.as_deref())
        .eq("invoice_id", query.invoice_id.as_deref())
        .dates("issue_date", query.issued_from, query.issued_to);
    let order = match &query.page {
        Some(page) => {
            filters.page(page, Some("created_at"), "id");
            format!("created_at {0}, id {0}", page.order.sql())
        }
        None => {
            filters.limit("subscription_id, number", query.limit);
            "subscription_id, number".to_owned()
        }
    };
    let with = format!("WITH chosen AS ({}) ", filters.select("*", "credit_notes"));
    let run = |sql: String| filters.bind(sqlx::query(sqlx::AssertSqlSafe(sql)));

    let mut tx = pool.begin().await.map_err(fetch_failed("credit_notes"))?;
    let heads = run(format!(
        "{with}SELECT {CREDIT_NOTE_COLUMNS} FROM chosen ORDER BY {order}"
    ))
    .fetch_all(&mut *tx)
    .await
    .map_err(fetch_failed("credit_notes"))?;
    let tables = [
        "credit_note_line_items",
        "credit_note_tax_lines",
        "credit_note_revenue",
    ];
    let mut children: [Vec<SqliteRow>; 3] = Default::default();
    for (rows, table) in children.iter_mut().zip(tables) {
        *rows = run(format!(
            "{with}SELECT c.* FROM {table} AS c JOIN chosen AS n \
             ON c.account_id = n.account_id AND c.credit_note_id = n.id \
             ORDER BY c.account_id, c.credit_note_id, c.position"
        ))
        .fetch_all(&mut *tx)
        .await
        .map_err(fetch_failed(table))?;
    }
    roll_back(tx, "reading credit notes").await?;

    let [lines, taxes, revenue] = children;
    let mut notes = heads
        .iter()
        .map(rows::credit_note_head)
        .collect::<Result<Vec<_>>>()?;
    let currencies: HashMap<(String, String), Currency> = notes
        .iter()
        .map(|note| ((note.account_id.clone(), note.id.clone()), note.currency))
        .collect();
    const PARENT: &str = "credit_note_id";
    let [lines_table, taxes_table, revenue_table] = tables;
    let mut lines = by_parent(&lines, lines_table, PARENT, &currencies, rows::line_item)?;
    let mut taxes = by_parent(&taxes, taxes_table, PARENT, &currencies, rows::tax_line)?;
    let mut revenue = by_parent(
        &revenue,
        revenue_table,
        PARENT,
        &currencies,
        rows::revenue_entry,
    )?;
    for note in &mut notes {
        let key = (note.account_id.clone(), note.id.clone());
        note.line_items = lines.remove(&key).unwrap_or_default();
        note.tax_lines = taxes.remove(&key).unwrap_or_default();
        note.revenue_reversed = revenue.remove(&key).unwrap_or_default();
    }
    Ok(notes)
}
