//! The engine's futures are `Send`, so the bindings can run them on a multi-threaded runtime
//! (napi's tokio runtime runs every Promise's future there). A compile-time check: if a future
//! stops being `Send`, this file stops compiling.

use ai_billing::api::{BillingEngine, RunDueRequest};
use ai_billing::engine::RunDue;

fn assert_send<T: Send>(_: &T) {}

#[allow(dead_code)]
fn api_futures_are_send(engine: &BillingEngine, request: &RunDueRequest) {
    assert_send(&engine.run_due(request));
}

#[allow(dead_code)]
fn engine_futures_are_send(engine: &ai_billing::Engine, request: &RunDue) {
    assert_send(&engine.run_due(request));
}

#[test]
fn the_engine_futures_compile_as_send() {}
