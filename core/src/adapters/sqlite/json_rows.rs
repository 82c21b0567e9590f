//! Many rows bound as one parameter: a JSON array of arrays that a statement reads back with
//! `json_each(?1)` and `value ->> N`. One fixed statement (prepared once per connection and
//! cached) then writes a whole page of a table, instead of a multi-row `VALUES` list whose text
//! and thousands of bound values change with every page.
//!
//! SQLite gives back exactly what was written: `->>` returns a JSON integer as an INTEGER, a
//! string as TEXT (unescaped, so the same bytes) and `null` as NULL, as binding each value would.

use std::fmt::Write;

/// A JSON array of rows, each an array of columns, written as it is built.
#[derive(Debug)]
pub(super) struct JsonRows {
    text: String,
    /// Whether the current row has a column yet (the next needs a comma).
    in_row: bool,
    rows: usize,
}

impl JsonRows {
    pub(super) fn new() -> Self {
        Self {
            text: String::from("["),
            in_row: false,
            rows: 0,
        }
    }

    /// Starts the next row.
    pub(super) fn row(&mut self) -> &mut Self {
        if self.rows > 0 {
            self.text.push_str("],[");
        } else {
            self.text.push('[');
        }
        self.rows += 1;
        self.in_row = false;
        self
    }

    fn separate(&mut self) {
        if self.in_row {
            self.text.push(',');
        }
        self.in_row = true;
    }

    /// A TEXT column.
    pub(super) fn text(&mut self, value: &str) -> &mut Self {
        self.separate();
        escape_into(&mut self.text, value);
        self
    }

    /// An INTEGER column.
    pub(super) fn int(&mut self, value: i64) -> &mut Self {
        self.separate();
        let _ = write!(self.text, "{value}");
        self
    }

    /// An INTEGER column that may be NULL.
    pub(super) fn opt_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.int(value),
            None => {
                self.separate();
                self.text.push_str("null");
                self
            }
        }
    }

    /// A TEXT column that may be NULL.
    pub(super) fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => {
                self.separate();
                self.text.push_str("null");
                self
            }
        }
    }

    /// A boolean column, stored as SQLite stores a bound `bool`: INTEGER 0 or 1.
    pub(super) fn bool(&mut self, value: bool) -> &mut Self {
        self.int(i64::from(value))
    }

    /// How many rows there are.
    pub(super) fn len(&self) -> usize {
        self.rows
    }

    /// The array's text, to bind as `?1`.
    pub(super) fn finish(mut self) -> String {
        if self.rows > 0 {
            self.text.push(']');
        }
        self.text.push(']');
        self.text
    }
}

/// `value` as a JSON string: quotes, backslashes and control characters escaped, everything else
/// (UTF-8 included) as it is.
fn escape_into(out: &mut String, value: &str) {
    out.push('"');
    let mut start = 0;
    for (index, byte) in value.bytes().enumerate() {
        let escape: &str = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&value[start..index]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = index + 1;
    }
    out.push_str(&value[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row as SQLite gives it back: each column, and the types of two.
    type ReadBack = (
        String,
        String,
        i64,
        String,
        Option<i64>,
        i64,
        Option<String>,
    );

    #[tokio::test]
    async fn sqlite_reads_back_exactly_what_was_written() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let texts = [
            "plain",
            "quote \" backslash \\ slash /",
            "controls \n\r\t\u{0}\u{1f} end",
            "unicode é 中 🦀",
            "",
        ];
        let mut rows = JsonRows::new();
        for (index, text) in texts.iter().enumerate() {
            rows.row()
                .text(text)
                .int(i64::MIN + index as i64)
                .opt_int(None)
                .bool(index % 2 == 0)
                .opt_text(Some(text));
        }
        assert_eq!(rows.len(), texts.len());
        let back: Vec<ReadBack> = sqlx::query_as(
            "SELECT value ->> 0, typeof(value ->> 1), value ->> 1, typeof(value ->> 2), \
                 value ->> 2, value ->> 3, value ->> 4 FROM json_each(?1) ORDER BY key",
        )
        .bind(rows.finish())
        .fetch_all(&pool)
        .await
        .unwrap();
        for (index, text) in texts.iter().enumerate() {
            let row = &back[index];
            assert_eq!(row.0, *text);
            assert_eq!(
                (row.1.as_str(), row.2),
                ("integer", i64::MIN + index as i64)
            );
            assert_eq!((row.3.as_str(), row.4), ("null", None));
            assert_eq!(row.5, i64::from(index % 2 == 0));
            assert_eq!(row.6.as_deref(), Some(*text));
        }
        let empty: Vec<(String,)> = sqlx::query_as("SELECT value FROM json_each(?1)")
            .bind(JsonRows::new().finish())
            .fetch_all(&pool)
            .await
            .unwrap();
        assert!(empty.is_empty());
    }
}
