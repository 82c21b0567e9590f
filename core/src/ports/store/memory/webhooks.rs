//! [`WebhookEndpoints`] for [`MemoryStore`].

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::Result;
use crate::store::{WebhookEndpoints, check_webhook_write, webhook_exists};
use crate::webhooks::WebhookEndpoint;

#[async_trait]
impl WebhookEndpoints for MemoryStore {
    async fn put_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        expected_revision: Option<u64>,
    ) -> Result<bool> {
        check_webhook_write(endpoint, expected_revision)?;
        let mut state = self.lock();
        let stored = state.webhooks.get(&endpoint.id);
        match (expected_revision, stored) {
            (None, Some(_)) => return Err(webhook_exists(&endpoint.id)),
            (Some(expected), Some(stored)) if stored.revision != expected => return Ok(false),
            (Some(_), None) => return Ok(false),
            _ => {}
        }
        state.webhooks.insert(endpoint.id.clone(), endpoint.clone());
        Ok(true)
    }

    async fn webhook(&self, id: &str) -> Result<Option<WebhookEndpoint>> {
        Ok(self.lock().webhooks.get(id).cloned())
    }

    async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        Ok(self.lock().webhooks.values().cloned().collect())
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool> {
        Ok(self.lock().webhooks.remove(id).is_some())
    }
}
