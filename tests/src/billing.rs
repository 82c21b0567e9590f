//! Helpers of the engine-level tests: instants on the New York clock most fixtures use, and a
//! billing run at a chosen moment.

use ai_billing::engine::{RunDue, RunReport};
use ai_billing::{Engine, FixedClock};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::America::New_York;

/// `hour`:00 on that day in New York, as a UTC instant.
pub fn ny(y: i32, m: u32, d: u32, hour: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(y, m, d, hour, 0, 0)
        .unwrap()
        .to_utc()
}

/// Sets `clock` to `now` and runs every renewal due by then.
pub async fn run_at(
    engine: &Engine,
    clock: &FixedClock,
    now: DateTime<Utc>,
) -> ai_billing::Result<RunReport> {
    clock.set(now);
    engine
        .run_due(&RunDue {
            now: Some(now),
            progress: None,
        })
        .await
}
