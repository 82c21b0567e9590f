//! The SELECT of a listing, built from its optional filters and its page with sqlx's
//! [`QueryBuilder`]: every value a bound parameter, never spliced into the SQL.

use chrono::NaiveDate;
use sqlx::{Postgres, QueryBuilder};

use crate::store::Page;

/// A SELECT with its conditions so far.
pub(crate) struct Listing {
    builder: QueryBuilder<Postgres>,
    conditions: usize,
}

impl Listing {
    /// `SELECT {columns} FROM {table}`, conditions to come.
    pub(crate) fn select(columns: &str, table: &str) -> Self {
        Listing {
            builder: QueryBuilder::new(format!("SELECT {columns} FROM {table}")),
            conditions: 0,
        }
    }

    fn and(&mut self) -> &mut QueryBuilder<Postgres> {
        self.builder.push(if self.conditions == 0 {
            " WHERE "
        } else {
            " AND "
        });
        self.conditions += 1;
        &mut self.builder
    }

    /// `column = value` when `value` is given.
    pub(crate) fn eq(&mut self, column: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.and()
                .push(format!("{column} = "))
                .push_bind(value.to_owned());
        }
        self
    }

    /// `column` (a date) within `[from, to]`, each bound when given.
    pub(crate) fn dates(
        &mut self,
        column: &str,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> &mut Self {
        if let Some(from) = from {
            self.and().push(format!("{column} >= ")).push_bind(from);
        }
        if let Some(to) = to {
            self.and().push(format!("{column} <= ")).push_bind(to);
        }
        self
    }

    /// The page by (`at`, `id`) (`at` is `None` for tables listed by id alone): after its key,
    /// in its order, at most its limit. Ends the statement.
    pub(crate) fn page(&mut self, page: &Page, at: Option<&str>, id: &str) -> &mut Self {
        let order = page.order.sql();
        if let Some(after) = &page.after {
            let compare = page.order.after_sql();
            match at {
                Some(at) => {
                    self.and()
                        .push(format!("({at}, {id}) {compare} ("))
                        .push_bind(after.at)
                        .push(", ")
                        .push_bind(after.id.clone())
                        .push(")");
                }
                None => {
                    self.and()
                        .push(format!("{id} {compare} "))
                        .push_bind(after.id.clone());
                }
            }
        }
        match at {
            Some(at) => self
                .builder
                .push(format!(" ORDER BY {at} {order}, {id} {order} LIMIT ")),
            None => self.builder.push(format!(" ORDER BY {id} {order} LIMIT ")),
        };
        self.builder.push_bind(i64::from(page.limit));
        self
    }

    /// `ORDER BY {order_by}` and the limit when given. Ends the statement.
    pub(crate) fn limit(&mut self, order_by: &str, limit: Option<u32>) -> &mut Self {
        self.builder.push(format!(" ORDER BY {order_by} LIMIT "));
        self.builder.push_bind(limit.map(i64::from));
        self
    }

    /// The statement.
    pub(crate) fn build(
        &mut self,
    ) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
        self.builder.build()
    }
}
