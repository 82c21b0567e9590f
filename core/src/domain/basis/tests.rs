//! The bases of the conventions' worked cases: each recomputes its line, and reads as the
//! arithmetic a billing person would write.

use rust_decimal::Decimal;

use super::*;
use crate::calendar::{BillingInterval, IntervalUnit};
use crate::interpreter::{PlanContext, interpret};
use crate::pricing::{PricedLine, PricingProgram};
use crate::proration::{Segment, Served};
use crate::subscription::Quantity;
use crate::usage::PeriodUsage;

fn monthly(prompt: &str) -> PricingProgram {
    interpret(
        prompt,
        &PlanContext {
            currency: Currency::USD,
            interval: BillingInterval {
                unit: IntervalUnit::Month,
                count: 1,
            },
        },
    )
    .unwrap()
}

fn explained(line: &PricedLine) -> (String, Money) {
    let basis = line.basis.as_ref().expect("every program line has a basis");
    (
        basis.explain(Currency::USD),
        basis.recompute(Currency::USD).unwrap(),
    )
}

#[test]
fn a_step_up_shows_its_arithmetic() {
    let program = monthly("Bill $5 for the first month and increase by $1 per month");
    let lines = program.evaluate(3, 1, &PeriodUsage::default()).unwrap();
    let (sentence, amount) = explained(&lines[0]);
    assert_eq!(sentence, "Month 3: 5.00 + 2 x 1.00 = 7.00");
    assert_eq!(amount, lines[0].amount);
    assert_eq!(amount.minor(), 700);

    let lines = program.evaluate(1, 3, &PeriodUsage::default()).unwrap();
    let (sentence, amount) = explained(&lines[0]);
    assert_eq!(sentence, "Month 1: 5.00 per copy x 3 copies = 15.00");
    assert_eq!(amount.minor(), 1500);
}

#[test]
fn a_compounding_step_with_a_ceiling_says_where_it_stopped() {
    let program = monthly("$10 per month, increasing 5% every month, up to $11");
    let lines = program.evaluate(4, 1, &PeriodUsage::default()).unwrap();
    let (sentence, amount) = explained(&lines[0]);
    assert_eq!(amount.minor(), 1100, "{sentence}");
    assert!(sentence.starts_with("Month 4: 10.00 x 1.05^"), "{sentence}");
    assert!(sentence.ends_with("capped at 11.00"), "{sentence}");
}

#[test]
fn a_partial_period_shows_its_days_and_quantities() {
    let program = monthly("$12 per month for each copy");
    let served = Served {
        period_days: 30,
        segments: vec![
            Segment {
                quantity: Quantity::new(2).unwrap(),
                days: 10,
            },
            Segment {
                quantity: Quantity::new(3).unwrap(),
                days: 20,
            },
        ],
    };
    let lines = program
        .evaluate_served(1, &served, &PeriodUsage::default())
        .unwrap();
    let sentences: Vec<String> = lines.iter().map(|line| explained(line).0).collect();
    assert_eq!(
        sentences,
        [
            "Month 1: 12.00 per copy x 2 copies x 10/30 days = 8.00",
            "Month 1: 12.00 per copy x 3 copies x 20/30 days = 24.00",
        ]
    );
}

#[test]
fn weekday_usage_shows_each_day_its_returns_and_the_rates() {
    let program = monthly(
        "$0.75 per delivery Monday to Saturday and $2.50 per Sunday delivery; \
         returned deliveries are not billed",
    );
    let usage = PeriodUsage {
        shipments: [4, 4, 4, 4, 4, 4, 3],
        units: [4, 4, 4, 4, 4, 4, 3],
        returned_shipments: [1, 0, 0, 0, 0, 0, 1],
        returned_units: [1, 0, 0, 0, 0, 0, 1],
    };
    let lines = program.evaluate(2, 1, &usage).unwrap();
    let (sentence, amount) = explained(&lines[0]);
    // (3 + 4 x 5) x 0.75 + 2 x 2.50 = 17.25 + 5.00
    assert_eq!(amount.minor(), 2225);
    assert_eq!(amount, lines[0].amount);
    assert!(
        sentence.starts_with(
            "27 shipments (Mon 4, Tue 4, Wed 4, Thu 4, Fri 4, Sat 4, Sun 3), less 2 shipments \
             returned = 25: Mon-Sat 23 x 0.75 + Sun 2 x 2.50 = 22.25"
        ),
        "{sentence}"
    );
}

#[test]
fn tiers_allowances_minimums_and_caps_say_what_applied() {
    let usage = |n: u64| PeriodUsage {
        shipments: [n, 0, 0, 0, 0, 0, 0],
        units: [n, 0, 0, 0, 0, 0, 0],
        ..Default::default()
    };
    let graduated = monthly("First 20 deliveries at $1.00 each, then $0.60 per delivery");
    let (sentence, amount) = explained(&graduated.evaluate(1, 1, &usage(26)).unwrap()[0]);
    assert_eq!(amount.minor(), 2360);
    assert!(
        sentence.ends_with(": 20 x 1.00 + 6 x 0.60 = 23.60"),
        "{sentence}"
    );

    let allowance = monthly("$0.40 per copy delivered; the first 10 copies each month are free");
    let (sentence, amount) = explained(&allowance.evaluate(1, 1, &usage(25)).unwrap()[0]);
    assert_eq!(amount.minor(), 600);
    assert!(
        sentence.ends_with(": 10 free, 15 x 0.40 = 6.00"),
        "{sentence}"
    );

    let minimum = monthly("$0.30 per delivery, with a minimum of $10 per month");
    let (sentence, amount) = explained(&minimum.evaluate(1, 1, &usage(5)).unwrap()[0]);
    assert_eq!(amount.minor(), 1000);
    assert!(
        sentence.ends_with("= 1.50; the minimum of 10.00 applies"),
        "{sentence}"
    );

    let cap = monthly("$1 per delivery, capped at $25 per month");
    let (sentence, amount) = explained(&cap.evaluate(1, 1, &usage(40)).unwrap()[0]);
    assert_eq!(amount.minor(), 2500);
    assert!(sentence.ends_with("= 40.00; capped at 25.00"), "{sentence}");
}

#[test]
fn a_basis_that_does_not_add_up_is_refused_naming_what() {
    let program = monthly("Bill $5 for the first month and increase by $1 per month");
    let lines = program.evaluate(3, 1, &PeriodUsage::default()).unwrap();
    let Some(LineBasis::Recurring(mut basis)) = lines[0].basis.clone() else {
        panic!("a recurring basis");
    };
    basis.price.unit_price = Decimal::new(800, 2);
    let error = LineBasis::Recurring(basis)
        .recompute(Currency::USD)
        .unwrap_err();
    assert!(error.to_string().contains("line_item.basis"), "{error}");
    assert!(error.to_string().contains("unit price"), "{error}");
}

#[test]
fn a_basis_round_trips_through_json() {
    let program = monthly("A $15 monthly base fee plus $0.50 per delivery");
    let usage = PeriodUsage {
        shipments: [3, 3, 3, 3, 3, 2, 2],
        units: [3, 3, 3, 3, 3, 2, 2],
        ..Default::default()
    };
    for line in program.evaluate(1, 2, &usage).unwrap() {
        let basis = line.basis.unwrap();
        let json = serde_json::to_string(&basis).unwrap();
        let back: LineBasis = serde_json::from_str(&json).unwrap();
        assert_eq!(back, basis);
        assert_eq!(back.recompute(Currency::USD).unwrap(), line.amount);
    }
}

#[test]
fn credits_recompute_whole_asked_and_shared() {
    let usd = Currency::USD;
    let whole = CreditBasis {
        invoice_id: "in_1".into(),
        line: 1,
        line_amount: Decimal::new(2000, 2),
        credited_before: Decimal::new(500, 2),
        credited: Credited::Rest,
    };
    assert_eq!(whole.amount(usd).unwrap().minor(), 1500);
    let shared = CreditBasis {
        credited_before: Decimal::ZERO,
        credited: Credited::Share {
            requested: Decimal::new(7, 2),
            weight: Decimal::new(2000, 2),
            total_weight: Decimal::new(3000, 2),
            remainder: Decimal::new(1, 2),
        },
        ..whole.clone()
    };
    // floor(7 x 2000 / 3000) = 4 cents, plus 1 of the remainder.
    assert_eq!(shared.amount(usd).unwrap().minor(), 5);
    let sentence = LineBasis::Credit(shared).explain(usd);
    assert!(
        sentence.contains("0.07 x 20.00/30.00 rounded down, + 0.01"),
        "{sentence}"
    );
    let too_much = CreditBasis {
        credited: Credited::Asked {
            amount: Decimal::new(1600, 2),
        },
        ..whole
    };
    assert!(too_much.amount(usd).is_err());
}
