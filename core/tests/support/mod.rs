//! Setup shared by the engine's integration tests (`agent_mode.rs`, `engine.rs`): one New York
//! account with one customer on a fresh in-memory store, and AI plans in dollars, monthly.

use std::sync::Arc;

use ai_billing::{
    Account, BillingInterval, Currency, Customer, Engine, FixedClock, FixtureStore, IntervalUnit,
    MemoryStore, Plan,
};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::America::New_York;

pub const ACCOUNT: &str = "acct_1";
pub const CUSTOMER: &str = "cus_1";

/// `hour`:00 in New York on the date.
pub fn ny(y: i32, m: u32, d: u32, hour: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(y, m, d, hour, 0, 0)
        .unwrap()
        .to_utc()
}

/// An AI plan `id` billed monthly in dollars by `prompt`.
pub fn ai_plan(id: &str, prompt: &str) -> Plan {
    let monthly = BillingInterval {
        unit: IntervalUnit::Month,
        count: 1,
    };
    Plan::ai(id, Currency::USD, monthly, prompt)
}

/// A fresh in-memory store, a clock on Jan 1, 2026, 8:00 in New York, and an engine on both in
/// which [`ACCOUNT`] (New York, `abstracted` as asked) and its customer [`CUSTOMER`] are saved.
pub async fn setup(abstracted: bool) -> (Arc<dyn FixtureStore>, Arc<FixedClock>, Engine) {
    let store: Arc<dyn FixtureStore> = Arc::new(MemoryStore::default());
    let clock = Arc::new(FixedClock::new(ny(2026, 1, 1, 8)));
    let engine = Engine::new(store.clone()).with_clock(clock.clone());
    let account = Account {
        abstracted,
        ..Account::new(ACCOUNT, New_York)
    };
    engine.save_account(&account, "admin").await.unwrap();
    engine
        .save_customer(&Customer::new(ACCOUNT, CUSTOMER), "admin")
        .await
        .unwrap();
    (store, clock, engine)
}
