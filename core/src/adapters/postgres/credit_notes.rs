//! Credit notes on PostgreSQL: checked against the invoice they credit and written with their
//! lines, tax lines and reversed revenue in the caller's transaction (one statement per table),
//! and read back whole, in (subscription id, number) order.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};

use super::error::{corrupt, storage};
use super::invoices::{
    SELECT_INVOICE, children, invoice_head, kind_name, line_item, positions, revenue_entry,
    tax_line,
};
use super::listing::Listing;
use super::rows::{get, get_u32};
use crate::credit_note::CreditNote;
use crate::error::Result;
use crate::invoice::IssuedInvoice;
use crate::money::{Currency, Money};
use crate::store::{CreditNoteQuery, check_credit_note, credit_note_exists};

/// A credit note's number or id already used (the two unique keys), before it is written.
const NOTE_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM credit_notes \
     WHERE account_id = $1 AND (id = $2 OR (subscription_id = $3 AND number = $4)))";

/// The head; a unique violation skips the row (found missing from `RETURNING`) instead of
/// aborting the caller's transaction.
const INSERT_NOTE: &str = "INSERT INTO credit_notes (account_id, id, number, subscription_id, \
     customer_id, invoice_id, invoice_period_start, issue_date, reason, currency, subtotal_minor, \
     tax_minor, tax_inclusive, total_minor, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT DO NOTHING \
     RETURNING id";

const INSERT_LINE_ITEMS: &str = "INSERT INTO credit_note_line_items \
     (account_id, credit_note_id, position, description, kind, amount_minor, basis) \
     SELECT $1, $2, l.position, l.description, l.kind, l.amount_minor, l.basis::jsonb \
     FROM UNNEST($3::int[], $4::text[], $5::text[], $6::bigint[], $7::text[]) \
          AS l (position, description, kind, amount_minor, basis)";

const INSERT_TAX_LINES: &str = "INSERT INTO credit_note_tax_lines \
     (account_id, credit_note_id, position, name, rate, amount_minor) \
     SELECT $1, $2, t.position, t.name, t.rate, t.amount_minor \
     FROM UNNEST($3::int[], $4::text[], $5::text[], $6::bigint[]) \
          AS t (position, name, rate, amount_minor)";

const INSERT_REVENUE: &str = "INSERT INTO credit_note_revenue \
     (account_id, credit_note_id, position, month, start_date, end_date, days, amount_minor) \
     SELECT $1, $2, r.position, r.month, r.start_date, r.end_date, r.days, r.amount_minor \
     FROM UNNEST($3::int[], $4::text[], $5::date[], $6::date[], $7::bigint[], $8::bigint[]) \
          AS r (position, month, start_date, end_date, days, amount_minor)";

const NOTE_COLUMNS: &str = "account_id, id, number, subscription_id, customer_id, \
     invoice_id, invoice_period_start, issue_date, reason, currency, subtotal_minor, tax_minor, \
     tax_inclusive, total_minor, created_at";

const SELECT_LINE_ITEMS: &str = "SELECT account_id, credit_note_id, description, kind, \
     amount_minor, basis::text AS basis FROM credit_note_line_items \
     WHERE (account_id, credit_note_id) IN (SELECT * FROM UNNEST($1::text[], $2::text[])) \
     ORDER BY account_id, credit_note_id, position";

const SELECT_TAX_LINES: &str = "SELECT account_id, credit_note_id, name, rate, amount_minor \
     FROM credit_note_tax_lines \
     WHERE (account_id, credit_note_id) IN (SELECT * FROM UNNEST($1::text[], $2::text[])) \
     ORDER BY account_id, credit_note_id, position";

const SELECT_REVENUE: &str = "SELECT account_id, credit_note_id, month, start_date, end_date, \
     days, amount_minor FROM credit_note_revenue \
     WHERE (account_id, credit_note_id) IN (SELECT * FROM UNNEST($1::text[], $2::text[])) \
     ORDER BY account_id, credit_note_id, position";

/// The invoice each note credits as the store holds it now (its head: what the checks read),
/// `None` where there is none. Read before the commit writes its own invoice, so a note is
/// checked against the invoices kept before the change, as the memory store does.
pub(crate) async fn credited_invoices(
    conn: &mut PgConnection,
    notes: &[CreditNote],
) -> Result<Vec<Option<IssuedInvoice>>> {
    let mut found = Vec::with_capacity(notes.len());
    for note in notes {
        let row = sqlx::query(SELECT_INVOICE)
            .bind(&note.account_id)
            .bind(&note.invoice_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage(format!(
                "reading invoice {:?}, which credit note {:?} credits",
                note.invoice_id, note.id
            )))?;
        found.push(row.as_ref().map(invoice_head).transpose()?);
    }
    Ok(found)
}

/// Writes `notes`, each refused first as every store refuses it: a number (or id) the
/// subscription has used is [`credit_note_exists`], an invoice that is not the subscription's
/// (from `credited`, in the same order) or in another currency is [`check_credit_note`]'s error.
/// No statement fails on a duplicate, so the caller's transaction stays usable; on an error the
/// caller rolls back and nothing of the change is kept.
pub(crate) async fn insert_credit_notes(
    conn: &mut PgConnection,
    notes: &[CreditNote],
    credited: &[Option<IssuedInvoice>],
) -> Result<()> {
    for (note, invoice) in notes.iter().zip(credited) {
        let action = || format!("writing credit note {:?}", note.id);
        let used: bool = sqlx::query_scalar(NOTE_EXISTS)
            .bind(&note.account_id)
            .bind(&note.id)
            .bind(&note.subscription_id)
            .bind(i64::from(note.number))
            .fetch_one(&mut *conn)
            .await
            .map_err(storage(action()))?;
        if used {
            return Err(credit_note_exists(note));
        }
        check_credit_note(note, invoice.as_ref())?;
        let written: Option<String> = sqlx::query_scalar(INSERT_NOTE)
            .bind(&note.account_id)
            .bind(&note.id)
            .bind(i64::from(note.number))
            .bind(&note.subscription_id)
            .bind(&note.customer_id)
            .bind(&note.invoice_id)
            .bind(note.invoice_period_start)
            .bind(note.issue_date)
            .bind(&note.reason)
            .bind(note.currency.code())
            .bind(note.subtotal.minor())
            .bind(note.tax.minor())
            .bind(note.tax_inclusive)
            .bind(note.total.minor())
            .bind(note.created_at)
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage(action()))?;
        if written.is_none() {
            // The same number twice in one change.
            return Err(credit_note_exists(note));
        }
        insert_children(conn, note).await?;
    }
    Ok(())
}

async fn insert_children(conn: &mut PgConnection, note: &CreditNote) -> Result<()> {
    let action = || format!("writing the rows of credit note {:?}", note.id);
    if !note.line_items.is_empty() {
        let lines = &note.line_items;
        sqlx::query(INSERT_LINE_ITEMS)
            .bind(&note.account_id)
            .bind(&note.id)
            .bind(positions(lines.len())?)
            .bind(
                lines
                    .iter()
                    .map(|l| l.description.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(lines.iter().map(|l| kind_name(l.kind)).collect::<Vec<_>>())
            .bind(lines.iter().map(|l| l.amount.minor()).collect::<Vec<_>>())
            .bind(super::rows::bases_json(lines)?)
            .execute(&mut *conn)
            .await
            .map_err(storage(action()))?;
    }
    if !note.tax_lines.is_empty() {
        let taxes = &note.tax_lines;
        sqlx::query(INSERT_TAX_LINES)
            .bind(&note.account_id)
            .bind(&note.id)
            .bind(positions(taxes.len())?)
            .bind(taxes.iter().map(|t| t.name.as_str()).collect::<Vec<_>>())
            // Decimal's Display keeps the scale ("0.0800"), and FromStr reads it back exactly.
            .bind(taxes.iter().map(|t| t.rate.to_string()).collect::<Vec<_>>())
            .bind(taxes.iter().map(|t| t.amount.minor()).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await
            .map_err(storage(action()))?;
    }
    if !note.revenue_reversed.is_empty() {
        let entries = &note.revenue_reversed;
        sqlx::query(INSERT_REVENUE)
            .bind(&note.account_id)
            .bind(&note.id)
            .bind(positions(entries.len())?)
            .bind(entries.iter().map(|r| r.month.as_str()).collect::<Vec<_>>())
            .bind(entries.iter().map(|r| r.start).collect::<Vec<_>>())
            .bind(entries.iter().map(|r| r.end).collect::<Vec<_>>())
            .bind(
                entries
                    .iter()
                    .map(|r| i64::from(r.days))
                    .collect::<Vec<_>>(),
            )
            .bind(entries.iter().map(|r| r.amount.minor()).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await
            .map_err(storage(action()))?;
    }
    Ok(())
}

/// An account's credit notes (or one subscription's), whole, by (subscription id, number), at
/// most `query.limit`. Credit notes are never changed once written, so the heads and their rows
/// need no common snapshot.
pub(crate) async fn select_credit_notes(
    pool: &PgPool,
    query: &CreditNoteQuery,
) -> Result<Vec<CreditNote>> {
    let mut select = Listing::select(NOTE_COLUMNS, "credit_notes");
    select
        .eq("account_id", Some(&query.account_id))
        .eq("subscription_id", query.subscription_id.as_deref())
        .eq("customer_id", query.customer_id.as_deref())
        .eq("invoice_id", query.invoice_id.as_deref())
        .dates("issue_date", query.issued_from, query.issued_to);
    match &query.page {
        Some(page) => select.page(page, Some("created_at"), "id"),
        None => select.limit("subscription_id, number", query.limit),
    };
    let rows = select
        .build()
        .fetch_all(pool)
        .await
        .map_err(storage("reading credit notes"))?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut notes = rows.iter().map(note_head).collect::<Result<Vec<_>>>()?;
    let accounts: Vec<&str> = notes.iter().map(|n| n.account_id.as_str()).collect();
    let ids: Vec<&str> = notes.iter().map(|n| n.id.as_str()).collect();
    let keys = (accounts.as_slice(), ids.as_slice());
    let parent = "credit_note_id";
    const LINES: &str = "credit_note_line_items";
    const TAXES: &str = "credit_note_tax_lines";
    const REVENUE: &str = "credit_note_revenue";
    let mut lines = children(pool, SELECT_LINE_ITEMS, LINES, parent, keys).await?;
    let mut taxes = children(pool, SELECT_TAX_LINES, TAXES, parent, keys).await?;
    let mut revenue = children(pool, SELECT_REVENUE, REVENUE, parent, keys).await?;
    for note in &mut notes {
        let key = (note.account_id.clone(), note.id.clone());
        let currency = note.currency;
        for row in lines.remove(&key).unwrap_or_default() {
            note.line_items.push(line_item(&row, LINES, currency)?);
        }
        for row in taxes.remove(&key).unwrap_or_default() {
            note.tax_lines.push(tax_line(&row, TAXES, currency)?);
        }
        for row in revenue.remove(&key).unwrap_or_default() {
            note.revenue_reversed
                .push(revenue_entry(&row, REVENUE, currency)?);
        }
    }
    Ok(notes)
}

/// A `credit_notes` row ([`SELECT_NOTES`]' columns), without its child rows.
fn note_head(row: &PgRow) -> Result<CreditNote> {
    const T: &str = "credit_notes";
    let code: String = get(row, T, "currency")?;
    let currency = Currency::parse(&code)
        .map_err(|_| corrupt(T, "currency", format!("{code:?}, not a currency")))?;
    let money = |column: &'static str| -> Result<Money> {
        Ok(Money::from_minor(get(row, T, column)?, currency))
    };
    Ok(CreditNote {
        id: get(row, T, "id")?,
        number: get_u32(row, T, "number")?,
        account_id: get(row, T, "account_id")?,
        subscription_id: get(row, T, "subscription_id")?,
        customer_id: get(row, T, "customer_id")?,
        invoice_id: get(row, T, "invoice_id")?,
        invoice_period_start: get(row, T, "invoice_period_start")?,
        issue_date: get(row, T, "issue_date")?,
        reason: get(row, T, "reason")?,
        currency,
        line_items: Vec::new(),
        subtotal: money("subtotal_minor")?,
        tax_lines: Vec::new(),
        tax: money("tax_minor")?,
        tax_inclusive: get(row, T, "tax_inclusive")?,
        total: money("total_minor")?,
        revenue_reversed: Vec::new(),
        created_at: get(row, T, "created_at")?,
    })
}
