//! Prompts and the programs they must give, or the refusals they must get.

use super::*;

fn ctx(currency: &str, unit: IntervalUnit) -> PlanContext {
    PlanContext {
        currency: Currency::parse(currency).unwrap(),
        interval: BillingInterval { unit, count: 1 },
    }
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
        let unit = if prompt.contains("year") {
            IntervalUnit::Year
        } else {
            IntervalUnit::Month
        };
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
    assert_eq!(
        phase.step,
        Some(Step {
            every_periods: 1,
            change: StepChange::Amount(d("1"))
        })
    );
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

/// Each prompt and a fragment of the plain-English reading it must give.
#[test]
fn wordings_give_the_expected_programs() {
    let cases = [
        ("$25/mo", "25.00 USD each month"),
        ("25 dollars monthly", "25.00 USD each month"),
        ("USD 25 per month", "25.00 USD each month"),
        ("Charge 2500 cents per month.", "25.00 USD each month"),
        ("Charge $12 monthly per copy", "12.00 USD each month"),
        (
            "$20 per month, 50% off for the first 3 months.",
            "20.00 USD in months 1 to 3, less 50%; then 20.00 USD from month 4 on",
        ),
        (
            "The first 2 months are free, then $12 per month.",
            "free in months 1 to 2; then 12.00 USD from month 3 on",
        ),
        (
            "Starts at $10/month and goes up $2 every month, capped at $20.",
            "rising by 2.00 USD every month, up to at most 20.00 USD",
        ),
        (
            "$100 per month for the first month, decreasing by $10 per month until it reaches $50.",
            "falling by 10.00 USD every month, never below 50.00 USD",
        ),
        (
            "Introductory price of $4.99 per month for the first three months, then $14.99 per month.",
            "4.99 USD in months 1 to 3; then 14.99 USD from month 4 on",
        ),
        (
            "$5 for month 1, $6 for month 2, $7 for month 3, and $8 thereafter.",
            "8.00 USD from month 4 on",
        ),
        (
            "Bill five dollars for the first month and add one dollar each month.",
            "5.00 USD each month, rising by 1.00 USD every month",
        ),
        (
            "Free for the first month, then $10 per month, increasing by 10% each year.",
            "rising by 10% every 12 months",
        ),
        ("Charge 50 cents a shipment.", "0.50 USD per shipment"),
        ("35 cents per delivery.", "0.35 USD per shipment"),
        ("$0.35 per package delivered.", "0.35 USD per shipment"),
        (
            "Charge $0.10 per copy delivered.",
            "0.10 USD per unit shipped",
        ),
        (
            "Weekdays $0.75, Saturdays $1, Sundays $2.50 per delivery.",
            "0.75 USD per shipment on monday, tuesday, wednesday, thursday, friday, 1.00 USD per shipment on saturday, 2.50 USD per shipment on sunday",
        ),
        (
            "Deliveries on Sunday cost $2.50; all other days $0.75.",
            "0.75 USD per shipment on monday, tuesday, wednesday, thursday, friday, saturday, 2.50 USD per shipment on sunday",
        ),
        (
            "$1 per shipment on weekends and $0.50 per shipment on weekdays.",
            "1.00 USD per shipment on saturday, sunday",
        ),
        (
            "0-100 shipments at $0.25 each, 101 and above at $0.20 each.",
            "graduated, each shipment priced in its own tier: 1 to 100 at 0.25 USD each, 101 and above at 0.20 USD each",
        ),
        (
            "Up to 30 shipments: $0.90 each; beyond 30: $0.70 each.",
            "1 to 30 at 0.90 USD each, 31 and above at 0.70 USD each",
        ),
        (
            "Volume pricing: 1-50 shipments at $1 each, 51 and above at $0.80 each.",
            "volume, every shipment priced at the tier the period's total falls in: 1 to 50 at 1.00 USD each, 51 and above",
        ),
        (
            "If more than 25 shipments are made in a month, each shipment costs $0.50; otherwise $0.70 per shipment.",
            "volume, every shipment priced at the tier the period's total falls in: 1 to 25 at 0.70 USD each, 26 and above at 0.50 USD each",
        ),
        (
            "First 10 shipments are free, next 20 at $1 each, then $0.50 each.",
            "1 to 10 at 0.00 USD each, 11 to 30 at 1.00 USD each, 31 and above at 0.50 USD each",
        ),
        (
            "$5 per month plus 10 free shipments each month, then $0.40 per shipment.",
            "0.40 USD per shipment; the first 10 each month free",
        ),
        (
            "$0.30 per copy delivered, with the first 100 copies each month free.",
            "0.30 USD per unit shipped; the first 100 each month free",
        ),
        (
            "$2 per shipment, capped at $40 per month, with a minimum of $10 per month.",
            "at least 10.00 USD a month; at most 40.00 USD a month",
        ),
        (
            "Bill $15 per month base plus $0.20 per shipment, with a usage minimum of $5.",
            "0.20 USD per shipment; at least 5.00 USD a month",
        ),
        (
            "No charge for returned deliveries. $0.75 per delivery.",
            "returns are not billed",
        ),
        (
            "A monthly fee of $10 and 25 cents per shipment.",
            "0.25 USD per shipment",
        ),
        (
            "20% off the first 3 months of a $25 monthly subscription.",
            "25.00 USD in months 1 to 3, less 20%; then 25.00 USD from month 4 on",
        ),
        (
            "$10 per month plus $0.25 per shipment after the first 20 shipments.",
            "0.25 USD per shipment; the first 20 each month free",
        ),
        (
            "$10 per month, which includes 20 shipments; additional shipments $0.25 each.",
            "0.25 USD per shipment; the first 20 each month free",
        ),
        (
            "Charge $1 per delivery, $2 on Sundays.",
            "1.00 USD per shipment on monday, tuesday, wednesday, thursday, friday, saturday, 2.00 USD per shipment on sunday",
        ),
        (
            "Bill $10 per month; the first month is free.",
            "free in month 1; then 10.00 USD from month 2 on",
        ),
        (
            "$0.50 per shipment, first 10 shipments free each month.",
            "0.50 USD per shipment; the first 10 each month free",
        ),
    ];
    for (prompt, reading) in cases {
        match monthly(prompt) {
            Ok(program) => assert!(
                program.describe().contains(reading),
                "{prompt}\n{}\nshould contain: {reading}",
                program.describe()
            ),
            Err(e) => panic!("{prompt}: {e}"),
        }
    }
}

/// Prompts that are vague, contradictory or outside the language are refused, never guessed.
#[test]
fn refusals_name_what_to_rephrase() {
    let cases = [
        ("€8 per month", "EUR"),
        ("$10 per month plus 8% tax", "tax"),
        (
            "$10 per month plus $0.25 per shipment, minimum $15 per month.",
            "which charge",
        ),
        (
            "Charge $0.50 per shipment and $10 per month, billed in advance.",
            "in arrears",
        ),
        ("Bill $25 per week.", "interval"),
        ("Bill $25 per month. Bill $30 per month.", "same periods"),
        ("$1 per shipment, or $2 on holidays.", "holidays"),
        (
            "The price is $30 per month but customers in their first month pay nothing.",
            "nothing",
        ),
        ("Increase by $1 per month.", "price"),
        ("Charge a fair price.", "price"),
        ("$4.99 per month for the first 3 months.", "no price after"),
    ];
    for (prompt, fragment) in cases {
        match monthly(prompt) {
            Ok(p) => panic!("{prompt} should be refused, got {}", p.describe()),
            Err(e) => assert!(
                e.to_string().contains(fragment),
                "{prompt}: {e} should mention {fragment}"
            ),
        }
    }
}
