//! The WHERE, ORDER BY and LIMIT of a listing, built from its optional filters and its page:
//! every value bound as a numbered parameter, never spliced into the SQL.

use chrono::NaiveDate;
use sqlx::Sqlite;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;

use super::rows::{date_text, micros};
use crate::store::Page;

/// A bound value.
#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Int(i64),
}

/// A listing's conditions and their bound values, in parameter order.
#[derive(Debug, Default)]
pub(super) struct Filters {
    conditions: Vec<String>,
    values: Vec<Value>,
    tail: String,
}

impl Filters {
    fn push(&mut self, value: Value) -> usize {
        self.values.push(value);
        self.values.len()
    }

    /// `column = value` when `value` is given.
    pub(super) fn eq(&mut self, column: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            let n = self.push(Value::Text(value.to_owned()));
            self.conditions.push(format!("{column} = ?{n}"));
        }
        self
    }

    /// `column` (a local date as text) within `[from, to]`, each bound when given.
    pub(super) fn dates(
        &mut self,
        column: &str,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> &mut Self {
        if let Some(from) = from {
            let n = self.push(Value::Text(date_text(from)));
            self.conditions.push(format!("{column} >= ?{n}"));
        }
        if let Some(to) = to {
            let n = self.push(Value::Text(date_text(to)));
            self.conditions.push(format!("{column} <= ?{n}"));
        }
        self
    }

    /// The page by (`at`, `id`): after its key, in its order, at most its limit. `at` is `None`
    /// for tables listed by id alone.
    pub(super) fn page(&mut self, page: &Page, at: Option<&str>, id: &str) -> &mut Self {
        let order = page.order.sql();
        if let Some(after) = &page.after {
            let n = self.push(Value::Text(after.id.clone()));
            let compare = page.order.after_sql();
            match at {
                Some(at) => {
                    let m = self.push(Value::Int(micros(after.at)));
                    self.conditions
                        .push(format!("({at}, {id}) {compare} (?{m}, ?{n})"));
                }
                None => self.conditions.push(format!("{id} {compare} ?{n}")),
            }
        }
        let n = self.push(Value::Int(i64::from(page.limit)));
        self.tail = match at {
            Some(at) => format!(" ORDER BY {at} {order}, {id} {order} LIMIT ?{n}"),
            None => format!(" ORDER BY {id} {order} LIMIT ?{n}"),
        };
        self
    }

    /// A plain limit, when given (a listing without a page).
    pub(super) fn limit(&mut self, order_by: &str, limit: Option<u32>) -> &mut Self {
        self.tail = format!(" ORDER BY {order_by}");
        if let Some(limit) = limit {
            let n = self.push(Value::Int(i64::from(limit)));
            self.tail.push_str(&format!(" LIMIT ?{n}"));
        }
        self
    }

    /// `SELECT {columns} FROM {table}` with the conditions, order and limit.
    pub(super) fn select(&self, columns: &str, table: &str) -> String {
        let mut sql = format!("SELECT {columns} FROM {table}");
        if !self.conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.conditions.join(" AND "));
        }
        sql.push_str(&self.tail);
        sql
    }

    /// `query` with the values bound in order.
    pub(super) fn bind<'q>(
        &self,
        mut query: Query<'q, Sqlite, SqliteArguments>,
    ) -> Query<'q, Sqlite, SqliteArguments> {
        for value in &self.values {
            query = match value {
                Value::Text(text) => query.bind(text.clone()),
                Value::Int(int) => query.bind(*int),
            };
        }
        query
    }
}
