//! The platform's events on `BillingEngine`: the pull feed (`events`) and webhook endpoints
//! (`addWebhook`, `listWebhooks`, `enableWebhook`, `disableWebhook`, `removeWebhook`) with their
//! delivery pump (`deliverWebhooks`). Thin wrappers over [`ai_billing::api::BillingEngine`];
//! `docs/events.md` documents the event types and the webhook contract.

use ai_billing::api::{AddWebhook, DeliverRequest, WebhookRef};
use ai_billing::audit::feed::EventsRequest;
use napi::Env;
use napi::bindgen_prelude::{AsyncBlock, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::engine::BillingEngine;
use crate::{promise, value};

#[napi]
impl BillingEngine {
    /// A page of the platform's events, oldest first (`{ after?, limit?, types?, account_id? }`):
    /// at most `limit` (1 to 500, default 100) after the cursor `after` (the `next` of an
    /// earlier page), only the `types` given (`invoice.issued`, ...) and the account given.
    /// Resolves to `{ events, next, has_more }`; each event's `id` is its idempotency key.
    /// Rejects with `INVALID_INPUT` for a bad cursor, type or limit.
    #[napi(
        ts_args_type = "request?: EventsRequest | undefined | null",
        ts_return_type = "Promise<EventPage>"
    )]
    pub fn events(
        &self,
        env: &Env,
        request: Option<Unknown<'_>>,
    ) -> napi::Result<AsyncBlock<Value>> {
        let request = value::options::<EventsRequest>("request", request);
        let engine = self.inner.clone();
        promise::answer(env, async move { engine.events(&request?).await })
    }

    /// Adds a webhook endpoint (`{ id, url, secret?, types?, account_id?, from? }`): events are
    /// posted to `url` signed by the Standard Webhooks convention. Resolves to
    /// `{ webhook, secret }`: the only answer that carries the secret (`whsec_...`; a fresh one
    /// when none is given). Rejects with `CONFLICT` for a taken id.
    #[napi(
        ts_args_type = "request: AddWebhook",
        ts_return_type = "Promise<AddedWebhook>"
    )]
    pub fn add_webhook(&self, env: &Env, request: Unknown<'_>) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: AddWebhook| async move {
            engine.add_webhook(&request).await
        })
    }

    /// Every webhook endpoint with its delivery state, without secrets: `{ webhooks }`.
    #[napi(ts_return_type = "Promise<WebhookList>")]
    pub fn list_webhooks(&self, env: &Env) -> napi::Result<AsyncBlock<Value>> {
        let engine = self.inner.clone();
        promise::answer(env, async move { engine.list_webhooks().await })
    }

    /// Enables an endpoint (`{ id }`): the events it missed are delivered by the next pump.
    #[napi(
        ts_args_type = "request: WebhookRef",
        ts_return_type = "Promise<WebhookInfo>"
    )]
    pub fn enable_webhook(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: WebhookRef| async move {
            engine.enable_webhook(&request).await
        })
    }

    /// Disables an endpoint (`{ id }`); its events are kept for when it is enabled again.
    #[napi(
        ts_args_type = "request: WebhookRef",
        ts_return_type = "Promise<WebhookInfo>"
    )]
    pub fn disable_webhook(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: WebhookRef| async move {
            engine.disable_webhook(&request).await
        })
    }

    /// Removes an endpoint (`{ id }`); rejects with `NOT_FOUND` when there is none.
    #[napi(
        ts_args_type = "request: WebhookRef",
        ts_return_type = "Promise<WebhookInfo>"
    )]
    pub fn remove_webhook(
        &self,
        env: &Env,
        request: Unknown<'_>,
    ) -> napi::Result<AsyncBlock<Value>> {
        self.call(env, request, |engine, request: WebhookRef| async move {
            engine.remove_webhook(&request).await
        })
    }

    /// One pass of the delivery pump (`{ max_events?, max_failures?, timeout_ms?,
    /// initial_backoff_ms?, max_backoff_ms? }`): each enabled endpoint that is due gets its
    /// events in order until caught up or a failure, which schedules a retry (or disables it
    /// after `max_failures` in a row). Call it on a timer. Resolves to what it did.
    #[napi(
        ts_args_type = "request?: DeliverRequest | undefined | null",
        ts_return_type = "Promise<DeliverySummary>"
    )]
    pub fn deliver_webhooks(
        &self,
        env: &Env,
        request: Option<Unknown<'_>>,
    ) -> napi::Result<AsyncBlock<Value>> {
        let request = value::options::<DeliverRequest>("request", request);
        let engine = self.inner.clone();
        promise::answer(env, async move { engine.deliver_webhooks(&request?).await })
    }
}
