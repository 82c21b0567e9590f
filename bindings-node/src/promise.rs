//! Futures of the core as JavaScript Promises, on napi's tokio runtime.
//!
//! A future ends with the core's `Result`; the error is turned into a JavaScript `Error`
//! ([`crate::error::to_js`]) on the JavaScript thread, where the Promise is settled. Arguments
//! that cannot be read reject the Promise the same way, so a caller handles every failure in one
//! place (`catch`).

use std::future::Future;

use napi::Env;
use napi::bindgen_prelude::{AsyncBlock, AsyncBlockBuilder, ToNapiValue};
use serde::Serialize;
use serde_json::Value;

use crate::{error, value};

/// A Promise of what `future` gives.
pub fn spawn<T, F>(env: &Env, future: F) -> napi::Result<AsyncBlock<T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = ai_billing::Result<T>> + Send + 'static,
{
    // Boxed, so napi holds a pointer: with the core's futures inline (several kilobytes), a
    // Promise made inside an async context (node:test, AsyncLocalStorage) rejected with
    // `undefined` and its real answer surfaced as an uncaught error.
    let future = Box::pin(future);
    AsyncBlockBuilder::<ai_billing::Result<T>, _>::build_with_map(
        env,
        async move { Ok(future.await) },
        |env, result| result.map_err(|e| error::to_js(&env, &e)),
    )
}

/// A Promise of `future`'s answer as a plain JavaScript value (serialised off the JavaScript
/// thread).
pub fn answer<A, F>(env: &Env, future: F) -> napi::Result<AsyncBlock<Value>>
where
    A: Serialize,
    F: Future<Output = ai_billing::Result<A>> + Send + 'static,
{
    spawn(env, async move { value::answer(&future.await?) })
}
