//! Prompts and the programs they must give, or the refusals they must get.

use super::*;

fn ctx(currency: &str, unit: IntervalUnit) -> PlanContext {
    PlanContext { currency: Currency::parse(currency).unwrap(), interval: BillingInterval { unit, count: 1 } }
}

fn monthly(prompt: &str) -> Result<PricingProgram> {
    interpret(prompt, &ctx("USD", IntervalUnit::Month))
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn public_prompts_interpret() {
    for prompt in [
        "Bill $120 per year.",
        "First month free, then $9.99 per month.",
        "Bill $25 per month.",
        "Charge $12 per month for each copy.",
        "The first 10 shipments each month are free; after that $0.80 per shipment.",
        "First 20 shipments each month at $1.00, additional shipments at $0.60.",
        "Base fee of $10 per month plus $0.25 per shipment.",
        "A $15 monthly base fee, plus $0.50 per delivery Monday to Saturday and $1.50 per Sunday delivery.",
        "$4.99 per month for the first 3 months, then $14.99 per month.",
        "Weekday shipments cost $0.80 each and weekend shipments cost $1.60 each.",
        "$0.75 per weekday delivery and $2.50 per Sunday delivery. Saturday deliveries are $1.00.",
        "Charge $0.10 per copy delivered.",
        "Charge $1 per shipment; returned shipments are not billed.",
        "Bill $5 for the first month and increase by $1 per month.",
        "Start at $20 per month, increasing by $2.50 each month until it reaches $30.",
        "$2 per shipment, but never more than $40 in a month.",
        "$0.40 per shipment with a monthly minimum of $15.",
        "Charge $0.50 per shipment, billed monthly in arrears.",
        "If a customer has more than 25 shipments in a month, all of that month's shipments are billed at $0.50; otherwise $0.70 each.",
    ] {
        let unit = if prompt.contains("year") { IntervalUnit::Year } else { IntervalUnit::Month };
        if let Err(e) = interpret(prompt, &ctx("USD", unit)) {
            panic!("{prompt}: {e}");
        }
    }
    assert!(interpret("Charge $8 every week.", &ctx("USD", IntervalUnit::Week)).is_ok());
}

#[test]
fn seed_step_up() {
    let p = monthly("Bill $5 for the first month and increase by $1 per month").unwrap();
    let phase = &p.recurring[0].phases[0];
    assert_eq!(phase.amount, d("5"));
    assert_eq!(phase.to_period, None);
    assert_eq!(phase.step, Some(Step { every_periods: 1, change: StepChange::Amount(d("1")) }));
}

#[test]
fn refuses_vague_prompts() {
    for prompt in [
        "Charge whatever seems fair based on how happy the customer is.",
        "Bill a reasonable amount each month.",
        "$10 per month or $1 per shipment, whichever is more.",
        "",
    ] {
        assert!(monthly(prompt).is_err(), "{prompt} should be refused");
    }
}
