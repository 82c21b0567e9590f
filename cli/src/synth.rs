//! Deterministic synthetic data: the same deliveries on every run and every machine, for the
//! demo and for `ai-billing generate`.

use ai_billing::calendar;
use ai_billing::usage::{Return, Shipment};
use chrono::{NaiveDate, TimeDelta, Utc};

/// A tiny deterministic generator (a 64-bit LCG, Knuth's MMIX constants): the same deliveries on
/// every run and every machine.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next 31-bit number.
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Deliveries for one customer over `[from, to)` local dates: most mornings between 05:00 and
/// 07:59 local time, a day missed now and then, `copies` units each; about one delivery in
/// fifteen is returned one to two days later.
pub fn deliveries(
    seed: u64,
    prefix: &str,
    tz: chrono_tz::Tz,
    from: NaiveDate,
    to: NaiveDate,
    copies: u32,
) -> (Vec<Shipment>, Vec<Return>) {
    let mut rng = Lcg(seed);
    let (mut shipments, mut returns) = (Vec::new(), Vec::new());
    for day in from.iter_days().take_while(|d| *d < to) {
        if rng.below(12) == 0 {
            continue; // no delivery that day
        }
        let minutes = 300 + rng.below(180) as i64;
        let shipped_at =
            (calendar::local_midnight(tz, day) + TimeDelta::minutes(minutes)).with_timezone(&Utc);
        let id = format!("{prefix}_s{:04}", shipments.len() + 1);
        if rng.below(15) == 0 {
            let hours = 24 + rng.below(24) as i64;
            returns.push(Return {
                id: format!("{prefix}_r{:03}", returns.len() + 1),
                shipment_id: id.clone(),
                returned_at: shipped_at + TimeDelta::hours(hours),
                quantity: copies,
            });
        }
        shipments.push(Shipment {
            id,
            shipped_at,
            quantity: copies,
        });
    }
    (shipments, returns)
}
