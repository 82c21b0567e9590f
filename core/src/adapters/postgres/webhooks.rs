//! [`WebhookEndpoints`] for [`PostgresStore`]: one row per endpoint in `webhook_endpoints`,
//! replaced by compare-and-set on its revision.

use async_trait::async_trait;
use sqlx::postgres::PgRow;

use super::PostgresStore;
use super::error::{corrupt, storage};
use super::rows::get;
use crate::audit::platform::EventType;
use crate::error::{Error, Result};
use crate::store::{OutboxPosition, WebhookEndpoints, check_webhook_write, webhook_exists};
use crate::webhooks::{WebhookEndpoint, WebhookSecret};

macro_rules! columns {
    () => {
        "id, url, secret, event_types, account_id, enabled, created_at, revision, cursor_commit, \
         cursor_seq, failures, next_attempt_at, last_error, delivered, disabled_at"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO webhook_endpoints (",
    columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (id) DO NOTHING"
);

const UPDATE: &str = "UPDATE webhook_endpoints SET url = $2, secret = $3, event_types = $4, \
     account_id = $5, enabled = $6, created_at = $7, revision = $8, cursor_commit = $9, \
     cursor_seq = $10, failures = $11, next_attempt_at = $12, last_error = $13, delivered = $14, \
     disabled_at = $15 WHERE id = $1 AND revision = $16";

const SELECT_ONE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM webhook_endpoints WHERE id = $1"
);

const SELECT_ALL: &str = concat!("SELECT ", columns!(), " FROM webhook_endpoints ORDER BY id");

const T: &str = "webhook_endpoints";

#[async_trait]
impl WebhookEndpoints for PostgresStore {
    async fn put_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        expected_revision: Option<u64>,
    ) -> Result<bool> {
        check_webhook_write(endpoint, expected_revision)?;
        let types = serde_json::to_string(&endpoint.types).map_err(|error| Error::Storage {
            action: "encoding a webhook's event types".into(),
            source: Box::new(error),
        })?;
        let statement = if expected_revision.is_some() {
            UPDATE
        } else {
            INSERT
        };
        let mut write = sqlx::query(statement)
            .bind(endpoint.id.as_str())
            .bind(endpoint.url.as_str())
            .bind(endpoint.secret.expose())
            .bind(types)
            .bind(endpoint.account_id.as_deref())
            .bind(endpoint.enabled)
            .bind(endpoint.created_at)
            .bind(int(endpoint.revision)?)
            .bind(endpoint.cursor.commit)
            .bind(endpoint.cursor.seq)
            .bind(i64::from(endpoint.failures))
            .bind(endpoint.next_attempt_at)
            .bind(endpoint.last_error.as_deref())
            .bind(int(endpoint.delivered)?)
            .bind(endpoint.disabled_at);
        if let Some(expected) = expected_revision {
            write = write.bind(int(expected)?);
        }
        let written = write
            .execute(&self.pool)
            .await
            .map_err(storage(format!(
                "saving webhook endpoint {:?}",
                endpoint.id
            )))?
            .rows_affected()
            == 1;
        if !written && expected_revision.is_none() {
            // ON CONFLICT skipped it: the id is taken.
            return Err(webhook_exists(&endpoint.id));
        }
        Ok(written)
    }

    async fn webhook(&self, id: &str) -> Result<Option<WebhookEndpoint>> {
        sqlx::query(SELECT_ONE)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(storage("reading a webhook endpoint"))?
            .as_ref()
            .map(endpoint)
            .transpose()
    }

    async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        sqlx::query(SELECT_ALL)
            .fetch_all(&self.pool)
            .await
            .map_err(storage("reading webhook endpoints"))?
            .iter()
            .map(endpoint)
            .collect()
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(storage(format!("removing webhook endpoint {id:?}")))?;
        Ok(done.rows_affected() == 1)
    }
}

fn int(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Overflow {
        what: "a webhook endpoint's counter".into(),
    })
}

fn counter(row: &PgRow, column: &'static str) -> Result<u64> {
    let value: i64 = get(row, T, column)?;
    u64::try_from(value).map_err(|_| corrupt(T, column, format!("{value}, below 0")))
}

/// A row of `webhook_endpoints`.
fn endpoint(row: &PgRow) -> Result<WebhookEndpoint> {
    let types: String = get(row, T, "event_types")?;
    let types: Vec<EventType> = serde_json::from_str(&types)
        .map_err(|error| corrupt(T, "event_types", format!("{types:?}: {error}")))?;
    let secret: String = get(row, T, "secret")?;
    Ok(WebhookEndpoint {
        id: get(row, T, "id")?,
        url: get(row, T, "url")?,
        secret: WebhookSecret::parse(&secret)
            .map_err(|_| corrupt(T, "secret", "not whsec_<base64>"))?,
        types,
        account_id: get(row, T, "account_id")?,
        enabled: get(row, T, "enabled")?,
        created_at: get(row, T, "created_at")?,
        revision: counter(row, "revision")?,
        cursor: OutboxPosition {
            commit: get(row, T, "cursor_commit")?,
            seq: get(row, T, "cursor_seq")?,
        },
        failures: u32::try_from(counter(row, "failures")?)
            .map_err(|_| corrupt(T, "failures", "over u32"))?,
        next_attempt_at: get(row, T, "next_attempt_at")?,
        last_error: get(row, T, "last_error")?,
        delivered: counter(row, "delivered")?,
        disabled_at: get(row, T, "disabled_at")?,
    })
}
