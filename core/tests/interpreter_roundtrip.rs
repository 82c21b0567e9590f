//! The reading round-trips: the plain-English reading (`describe`) of every program the offline
//! interpreter makes is itself a prompt that the interpreter reads back to the identical program.
//! The reading is what an admin approves, so it must say exactly what will be billed.
//!
//! Checked over every public scenario prompt, every plan `ai-billing generate` makes (read from
//! `cli/src/generate.rs`, in both of its currencies), and a property test over generated programs
//! of every shape the interpreter makes.

use std::path::{Path, PathBuf};

use ai_billing::calendar::{BillingInterval, IntervalUnit};
use ai_billing::interpreter::{PlanContext, interpret};
use ai_billing::money::Currency;
use ai_billing::pricing::{
    Phase, PricingProgram, RecurringCharge, ReturnsPolicy, Step, StepChange, Tier, UsageCharge,
    UsageMetric, UsagePricing, WeekdayRates,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// Reads `program`'s reading back and asserts it gives `program` again.
fn assert_round_trip(program: &PricingProgram, context: &PlanContext, origin: &str) {
    let reading = program.describe();
    match interpret(&reading, context) {
        Ok(back) => assert_eq!(
            &back,
            program,
            "{origin}\nthe reading:\n{reading}\nreads back as:\n{}",
            back.describe()
        ),
        Err(e) => panic!("{origin}\nthe reading:\n{reading}\nis refused: {e}"),
    }
}

fn context(currency: &str, unit: &str, count: u32) -> PlanContext {
    let unit = match unit {
        "day" => IntervalUnit::Day,
        "week" => IntervalUnit::Week,
        "month" => IntervalUnit::Month,
        "year" => IntervalUnit::Year,
        other => panic!("unknown interval {other}"),
    };
    PlanContext {
        currency: Currency::parse(currency).unwrap(),
        interval: BillingInterval { unit, count },
    }
}

/// Every plan (the scenario's and those of its plan changes) of every scenario file in `dir`.
fn scenario_plans(dir: &Path) -> Vec<(String, PlanContext)> {
    let mut plans = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return plans;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let text = std::fs::read_to_string(path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let scenario = json.get("scenario").unwrap_or(&json);
        let mut add = |plan: &serde_json::Value| {
            if let Some(prompt) = plan["ai_prompt"].as_str() {
                let ctx = context(
                    plan["currency"].as_str().unwrap(),
                    plan["interval"].as_str().unwrap(),
                    plan["interval_count"].as_u64().unwrap_or(1) as u32,
                );
                plans.push((prompt.to_owned(), ctx));
            }
        };
        add(&scenario["plan"]);
        for change in scenario["changes"].as_array().into_iter().flatten() {
            add(&change["plan"]["to"]);
        }
    }
    plans
}

/// The prompts of `const PLANS` in `cli/src/generate.rs` (every third string literal of it: id,
/// nickname, prompt), so that this test follows the file rather than a copy of it.
fn generated_prompts() -> Vec<String> {
    let source = std::fs::read_to_string(root().join("cli/src/generate.rs")).unwrap();
    let start = source
        .find("const PLANS")
        .expect("generate.rs declares PLANS");
    let body = &source[start..];
    let body = &body[body.find("= [").expect("PLANS is an array")..];
    let body = &body[..body.find("];").expect("PLANS ends")];
    let mut literals = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('"') {
        let after = &rest[open + 1..];
        let close = after.find('"').expect("a closed string literal");
        literals.push(after[..close].to_owned());
        rest = &after[close + 1..];
    }
    assert_eq!(
        literals.len() % 3,
        0,
        "PLANS holds (id, nickname, prompt) triples"
    );
    literals.chunks(3).map(|c| c[2].clone()).collect()
}

#[test]
fn every_public_prompt_reads_back_to_its_program() {
    let mut plans = scenario_plans(&root().join("tests/scenarios/public"));
    plans.extend(scenario_plans(&root().join("../shared/eval/public")));
    assert!(plans.len() >= 23, "the public scenarios are found");
    let mut understood = 0;
    for (prompt, ctx) in &plans {
        if let Ok(program) = interpret(prompt, ctx) {
            assert_round_trip(&program, ctx, prompt);
            understood += 1;
        }
    }
    assert!(
        understood >= 22,
        "only {understood} public prompts understood"
    );
}

#[test]
fn every_generated_plan_reads_back_to_its_program() {
    let prompts = generated_prompts();
    assert!(prompts.len() >= 11, "{prompts:?}");
    for prompt in prompts {
        for (currency, symbol) in [("USD", "$"), ("EUR", "€")] {
            let prompt = prompt.replace('$', symbol);
            let ctx = context(currency, "month", 1);
            let program = interpret(&prompt, &ctx)
                .unwrap_or_else(|e| panic!("generate's plan {prompt:?} is refused: {e}"));
            assert_round_trip(&program, &ctx, &prompt);
        }
    }
}

/// Found by the fuzz run of the offline interpreter (`tests/tests/fuzz.rs`, which now checks the
/// round trip of every program it gets): a stray "$0." is a base charge of zero for ever, whose
/// reading "free each month" was refused (free for which periods?). It now reads "0.00 USD".
#[test]
fn a_zero_price_for_ever_reads_back() {
    let ctx = context("USD", "month", 1);
    let prompt = "$0. $75 per weekday delivery and $2.50 per Sunday delivery. Saturday deliveries are $1.00.";
    let program = interpret(prompt, &ctx).unwrap();
    assert!(
        program.describe().contains("0.00 USD each month"),
        "{}",
        program.describe()
    );
    assert_round_trip(&program, &ctx, prompt);
}

// ---- generated programs, in every shape the interpreter makes ----

fn cents(range: std::ops::Range<i64>) -> impl Strategy<Value = Decimal> {
    range.prop_map(|c| Decimal::new(c, 2))
}

fn interval() -> impl Strategy<Value = BillingInterval> {
    prop_oneof![
        Just(IntervalUnit::Day),
        Just(IntervalUnit::Week),
        Just(IntervalUnit::Month),
        Just(IntervalUnit::Year),
    ]
    .prop_flat_map(|unit| {
        // mostly one unit; also every 2 or 3 (every 2 weeks, quarterly, every 2 years)
        prop_oneof![3 => Just(1u32), 1 => 2u32..4]
            .prop_map(move |count| BillingInterval { unit, count })
    })
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![Just("USD"), Just("EUR"), Just("GBP"), Just("CAD")]
        .prop_map(|c| Currency::parse(c).unwrap())
}

/// A step of the open last phase, with the bound the interpreter can attach to it.
fn stepped_phase(from: u32) -> impl Strategy<Value = Phase> {
    (
        cents(100..10_000),
        any::<bool>(),
        any::<bool>(),
        1u32..4,
        cents(1..500),
        1i64..30,
        0u8..3,
    )
        .prop_map(move |(amount, falling, percent, every, by, pct, bound)| {
            let size = if percent { Decimal::from(pct) } else { by };
            let size = if falling { -size } else { size };
            let change = if percent {
                StepChange::Percent(size)
            } else {
                StepChange::Amount(size)
            };
            let (floor, ceiling) = match (bound, falling) {
                (0, _) => (None, None),
                (_, true) => (Some((amount / Decimal::TWO).round_dp(2)), None),
                (1, false) => (None, Some(amount * Decimal::TWO)),
                (_, false) => (Some(amount), None),
            };
            Phase {
                from_period: from,
                to_period: None,
                amount,
                step: Some(Step {
                    every_periods: every,
                    change,
                }),
                floor,
                ceiling,
                discount_percent: None,
            }
        })
}

fn plain_phase(from: u32, to: Option<u32>, amount: Decimal, discount: Option<Decimal>) -> Phase {
    Phase {
        from_period: from,
        to_period: to,
        amount,
        step: None,
        floor: None,
        ceiling: None,
        discount_percent: discount,
    }
}

fn recurring() -> impl Strategy<Value = RecurringCharge> {
    let flat = cents(1..100_000).prop_map(|a| vec![plain_phase(1, None, a, None)]);
    let stepped = stepped_phase(1).prop_map(|p| vec![p]);
    // an introductory phase (free, discounted or its own price), then one or two more
    let phased = (
        1u32..6,
        1u32..6,
        0u8..3,
        0u8..3,
        cents(0..10_000),
        cents(1..10_000),
        cents(1..10_000),
        1i64..100,
        any::<bool>(),
    )
        .prop_flat_map(|(k, k2, intro, middle, a, b, c, pct, step)| {
            let first = match intro {
                0 => plain_phase(1, Some(k), Decimal::ZERO, None),
                1 => plain_phase(1, Some(k), b, Some(Decimal::from(pct))),
                _ => plain_phase(1, Some(k), a.max(Decimal::new(1, 2)), None),
            };
            let mut phases = vec![first];
            let mut from = k + 1;
            if middle == 0 {
                phases.push(plain_phase(from, Some(from + k2 - 1), c, None));
                from += k2;
            }
            let last = if step {
                stepped_phase(from).boxed()
            } else {
                Just(plain_phase(from, None, b, None)).boxed()
            };
            last.prop_map(move |last| {
                let mut phases = phases.clone();
                phases.push(last);
                phases
            })
        });
    (prop_oneof![flat, stepped, phased], recurring_name()).prop_map(|(phases, description)| {
        RecurringCharge {
            description,
            phases,
        }
    })
}

/// The admin's own names for the thing sold, as the interpreter writes them (no article, the
/// first letter capitalised), or none: the default description.
const NAMES: &[&str] = &[
    "Garden box",
    "Daily paper",
    "Magazine",
    "Newsletter plan",
    "Farm-fresh box",
    "Chef's box",
    "Home delivery",
    "Weekly newsletter",
    "Veggie bundle",
];

fn name_or(default: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just(default.to_owned()),
        1 => prop::sample::select(NAMES).prop_map(str::to_owned),
    ]
}

fn recurring_name() -> impl Strategy<Value = String> {
    name_or("Base charge")
}

fn tiers() -> impl Strategy<Value = Vec<Tier>> {
    (
        prop::collection::vec((1u64..40, cents(0..300)), 1..4),
        cents(0..300),
    )
        .prop_map(|(bounded, last)| {
            let mut up_to = 0;
            let mut tiers: Vec<Tier> = bounded
                .into_iter()
                .map(|(width, unit_price)| {
                    up_to += width;
                    Tier {
                        up_to: Some(up_to),
                        unit_price,
                    }
                })
                .collect();
            tiers.push(Tier {
                up_to: None,
                unit_price: last,
            });
            tiers
        })
}

fn day_rates() -> impl Strategy<Value = WeekdayRates> {
    (
        prop::collection::vec(0usize..3, 7),
        prop::collection::vec(cents(0..500), 3),
    )
        .prop_map(|(pick, prices)| WeekdayRates(std::array::from_fn(|d| Some(prices[pick[d]]))))
}

fn usage(metric: UsageMetric) -> impl Strategy<Value = UsageCharge> {
    let pricing = prop_oneof![
        cents(0..500).prop_map(|r| UsagePricing::PerUnit {
            rates: WeekdayRates::uniform(r)
        }),
        day_rates().prop_map(|rates| UsagePricing::PerUnit { rates }),
        tiers().prop_map(|tiers| UsagePricing::Graduated { tiers }),
        tiers().prop_map(|tiers| UsagePricing::Volume { tiers }),
    ];
    (
        pricing,
        any::<bool>(),
        0u64..30,
        prop::option::of(cents(0..5_000)),
        prop::option::of(cents(5_000..20_000)),
        name_or(match metric {
            UsageMetric::Shipments => "Usage (Shipment) charge",
            UsageMetric::Units => "Usage (Unit) charge",
        }),
    )
        .prop_map(move |(pricing, credited, allowance, minimum, cap, description)| {
            let uniform = matches!(&pricing, UsagePricing::PerUnit { rates } if rates.single_rate().is_some());
            UsageCharge {
                description,
                metric,
                pricing,
                returns: if credited {
                    ReturnsPolicy::Credited
                } else {
                    ReturnsPolicy::Ignored
                },
                allowance: if uniform { allowance } else { 0 },
                minimum,
                cap,
            }
        })
}

/// The shapes the interpreter writes: a single-rate day table is a uniform rate, a two-tier
/// graduated table with a free first tier is an allowance, a single open tier is a flat rate.
fn canonical(charge: &UsageCharge) -> bool {
    match &charge.pricing {
        UsagePricing::PerUnit { rates } => {
            rates.single_rate().is_some() || rates.0.iter().flatten().any(|r| !r.is_zero())
        }
        UsagePricing::Graduated { tiers } => !(tiers.len() == 2 && tiers[0].unit_price.is_zero()),
        UsagePricing::Volume { .. } => true,
    }
}

fn program() -> impl Strategy<Value = PricingProgram> {
    (
        currency(),
        interval(),
        prop::option::of(recurring()),
        prop::option::of(prop_oneof![
            usage(UsageMetric::Shipments),
            usage(UsageMetric::Units)
        ]),
    )
        .prop_filter("a program charges something", |(_, _, r, u)| {
            r.is_some() || u.is_some()
        })
        .prop_filter("in the interpreter's own shape", |(_, _, _, u)| {
            u.as_ref().is_none_or(canonical)
        })
        .prop_map(|(currency, interval, recurring, usage)| {
            let mut program = PricingProgram::new(currency, interval);
            program.recurring.extend(recurring);
            program.usage.extend(usage);
            program
        })
        .prop_filter("a valid program", |p| p.validate().is_ok())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_generated_program_reads_back_to_itself(program in program()) {
        let context = PlanContext { currency: program.currency, interval: program.interval };
        assert_round_trip(&program, &context, "a generated program");
    }
}
