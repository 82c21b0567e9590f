//! Prompts and the programs they must give, or the refusals they must get.

use rust_decimal::Decimal;

use super::*;
use crate::calendar::IntervalUnit;
use crate::pricing::{Step, StepChange};

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
            "20.00 USD in months 1 to 3 less 50%; then 20.00 USD from month 4 on",
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
            "0.75 USD per shipment on monday to friday, 1.00 USD per shipment on saturday, 2.50 USD per shipment on sunday",
        ),
        (
            "Deliveries on Sunday cost $2.50; all other days $0.75.",
            "0.75 USD per shipment on monday to saturday, 2.50 USD per shipment on sunday",
        ),
        (
            "$1 per shipment on weekends and $0.50 per shipment on weekdays.",
            "1.00 USD per shipment on saturday, sunday",
        ),
        (
            "0-100 shipments at $0.25 each, 101 and above at $0.20 each.",
            "in graduated tiers: 1 to 100 shipments at 0.25 USD each, 101 and above at 0.20 USD each",
        ),
        (
            "Up to 30 shipments: $0.90 each; beyond 30: $0.70 each.",
            "1 to 30 shipments at 0.90 USD each, 31 and above at 0.70 USD each",
        ),
        (
            "Volume pricing: 1-50 shipments at $1 each, 51 and above at $0.80 each.",
            "in volume tiers: 1 to 50 shipments at 1.00 USD each, 51 and above",
        ),
        (
            "If more than 25 shipments are made in a month, each shipment costs $0.50; otherwise $0.70 per shipment.",
            "in volume tiers: 1 to 25 shipments at 0.70 USD each, 26 and above at 0.50 USD each",
        ),
        (
            "First 10 shipments are free, next 20 at $1 each, then $0.50 each.",
            "1 to 10 shipments at 0.00 USD each, 11 to 30 at 1.00 USD each, 31 and above at 0.50 USD each",
        ),
        (
            "$5 per month plus 10 free shipments each month, then $0.40 per shipment.",
            "0.40 USD per shipment; the first 10 shipments each month are free",
        ),
        (
            "$0.30 per copy delivered, with the first 100 copies each month free.",
            "0.30 USD per unit shipped; the first 100 units shipped each month are free",
        ),
        (
            "$2 per shipment, capped at $40 per month, with a minimum of $10 per month.",
            "a usage minimum of 10.00 USD a month; a usage maximum of 40.00 USD a month",
        ),
        (
            "Bill $15 per month base plus $0.20 per shipment, with a usage minimum of $5.",
            "0.20 USD per shipment; a usage minimum of 5.00 USD a month",
        ),
        (
            "No charge for returned deliveries. $0.75 per delivery.",
            "returns come off the count",
        ),
        (
            "A monthly fee of $10 and 25 cents per shipment.",
            "0.25 USD per shipment",
        ),
        (
            "20% off the first 3 months of a $25 monthly subscription.",
            "25.00 USD in months 1 to 3 less 20%; then 25.00 USD from month 4 on",
        ),
        (
            "$10 per month plus $0.25 per shipment after the first 20 shipments.",
            "0.25 USD per shipment; the first 20 shipments each month are free",
        ),
        (
            "$10 per month, which includes 20 shipments; additional shipments $0.25 each.",
            "0.25 USD per shipment; the first 20 shipments each month are free",
        ),
        (
            "Charge $1 per delivery, $2 on Sundays.",
            "1.00 USD per shipment on monday to saturday, 2.00 USD per shipment on sunday",
        ),
        (
            "Bill $10 per month; the first month is free.",
            "free in month 1; then 10.00 USD from month 2 on",
        ),
        (
            "$0.50 per shipment, first 10 shipments free each month.",
            "0.50 USD per shipment; the first 10 shipments each month are free",
        ),
    ];
    for (prompt, reading) in cases {
        match monthly(prompt) {
            Ok(program) => {
                assert!(
                    program.describe().contains(reading),
                    "{prompt}\n{}\nshould contain: {reading}",
                    program.describe()
                );
                // the reading is itself a prompt, read back to the same program
                assert_eq!(monthly(&program.describe()).ok(), Some(program), "{prompt}");
            }
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

/// The wrong bills of issue 17: each is refused, naming the words or the rule it could not place.
#[test]
fn qualifiers_without_a_rule_are_refused_naming_them() {
    let cases = [
        (
            "Bill $10 per month; the first 5 shipments of the subscription are free.",
            "\"subscription\"",
        ),
        (
            "$1 per shipment; the first 5 shipments of the subscription are free.",
            "\"subscription\"",
        ),
        (
            "$10 per month for each of the first 2 copies, $5 for each additional copy",
            "\"each\"",
        ),
        (
            "$10 per month for the first 2 copies, $5 for each additional copy",
            "subscribed copies",
        ),
        (
            "$9 per seat per month for the first 5 seats, $7 per month for each additional seat",
            "subscribed copies",
        ),
        (
            "Charge $1.00 per shipment; shipments with more than 2 copies are $2.00",
            "in \"shipments\"",
        ),
        ("-$5 per month", "minus sign"),
        ("- $5 per month", "minus sign"),
        ("-5 USD per month", "minus sign"),
        ("-$0.50 per delivery", "minus sign"),
        (
            "Bill $5 for the first month, then -$2 per month",
            "minus sign",
        ),
        (
            "Bill $5 for the first month, then –$2 per month",
            "minus sign",
        ),
        ("$1 per delivery plus $1 per delivery", "two prices"),
        ("$1 per delivery and $2 per delivery", "two prices"),
        (
            "$1 per delivery, $1 per delivery on Sundays, $1 on Sundays",
            "two prices",
        ),
        ("$5 per customer per month", "\"customer\""),
        (
            "$1 per delivery plus $0.50 on Sundays",
            "\"plus\" a price for days",
        ),
        (
            "$2.50 per Sunday delivery plus $1 per delivery",
            "\"plus\" a price for days",
        ),
        ("$1 per delivery for the whole subscription", "\"whole\""),
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

/// A usage charge priced by day that leaves a day without a price is refused at interpretation
/// (so when the plan is saved), naming the day and how to say it; "not billed" says it.
#[test]
fn a_day_without_a_price_is_refused_naming_it() {
    for (prompt, days) in [
        (
            "$1 per Sunday paper, weekdays 50 cents",
            "Saturday deliveries",
        ),
        (
            "$0.75 per weekday delivery and $2.50 per Sunday delivery",
            "Saturday deliveries",
        ),
        ("$2 per Sunday delivery", "Monday, Tuesday, Wednesday"),
        (
            "$0.10 per copy delivered on weekdays",
            "Saturday and Sunday copies",
        ),
    ] {
        let error = monthly(prompt).unwrap_err().to_string();
        assert!(error.contains(days), "{prompt}: {error}");
        assert!(error.contains("or that they are not billed"), "{error}");
    }
    for (prompt, reading) in [
        (
            "$2 per Sunday delivery; other days are not billed",
            "2.00 USD per shipment on sunday, not billed on monday to saturday",
        ),
        (
            "$2 per delivery on weekends, free on weekdays",
            "2.00 USD per shipment on saturday, sunday, not billed on monday to friday",
        ),
        (
            "$1 per delivery on weekdays; Saturdays are on the house; Sunday is part of the base fee.",
            "1.00 USD per shipment on monday to friday, not billed on saturday, sunday",
        ),
    ] {
        let program = monthly(prompt).unwrap_or_else(|e| panic!("{prompt}: {e}"));
        assert!(
            program.describe().contains(reading),
            "{}",
            program.describe()
        );
    }
}

/// The families of plain phrasings of issue 17, read from the grammar's rules.
#[test]
fn plain_phrasings_of_each_family_are_read() {
    let cases = [
        ("25¢ per delivery", "0.25 USD per shipment"),
        ("35 ct per delivery", "0.35 USD per shipment"),
        ("25c per delivery", "0.25 USD per shipment"),
        ("twenty-five cents per delivery", "0.25 USD per shipment"),
        (
            "$49 a month plus 0.15 per delivery",
            "0.15 USD per shipment",
        ),
        ("$1 per delivery & $10 per month", "10.00 USD each month"),
        ("$0.50/delivery", "0.50 USD per shipment"),
        ("$2 a pop for deliveries", "2.00 USD per shipment"),
        ("Deliveries are $1 ea.", "1.00 USD per shipment"),
        (
            "$10 per month for every copy on the subscription",
            "10.00 USD each month",
        ),
        (
            "$10 for the first month, every subsequent month adds a dollar",
            "10.00 USD each month, rising by 1.00 USD every month",
        ),
        (
            "$1 per delivery; returned copies come off the bill at that day's price",
            "returns come off the count",
        ),
        (
            "Pricing bands: 1-30 deliveries at $1 each, 31 and above at $0.80 each.",
            "in graduated tiers: 1 to 30 shipments at 1.00 USD each, 31 and above at 0.80 USD each",
        ),
        (
            "$2 per delivery; we will not bill above $40 in any month",
            "a usage maximum of 40.00 USD a month",
        ),
        (
            "$1 per delivery, and we never charge less than $10 a month",
            "a usage minimum of 10.00 USD a month",
        ),
        ("Each delivery is charged $1.", "1.00 USD per shipment"),
        ("We bill customers $12 a month.", "12.00 USD each month"),
        ("The plan costs you $12 a month.", "12.00 USD each month"),
    ];
    for (prompt, reading) in cases {
        let program = monthly(prompt).unwrap_or_else(|e| panic!("{prompt}: {e}"));
        assert!(
            program.describe().contains(reading),
            "{prompt}\n{}\nshould contain: {reading}",
            program.describe()
        );
    }
    let euro = |prompt: &str| interpret(prompt, &ctx("EUR", IntervalUnit::Month));
    for prompt in [
        "1,50 € per delivery",
        "€1,50 per delivery",
        "1,50 EUR per delivery",
    ] {
        let program = euro(prompt).unwrap_or_else(|e| panic!("{prompt}: {e}"));
        assert!(
            program.describe().contains("1.50 EUR per shipment"),
            "{prompt}"
        );
    }
    // a comma with two digits beside no euro amount stays ambiguous
    assert!(monthly("$1,50 per delivery").is_err());
    let pounds = interpret("50p per delivery", &ctx("GBP", IntervalUnit::Month)).unwrap();
    assert!(pounds.describe().contains("0.50 GBP per shipment"));
    assert!(
        monthly("50p per delivery").is_err(),
        "pence are not dollars"
    );
}

/// A thing delivered named beside a price per period is a fee or a usage price: never guessed.
/// Named as the subject of a verb of cost, or as what a fee is "for the ...", it is the product
/// the fee is for (its name is the charge's description).
#[test]
fn a_fee_or_a_price_per_delivery_is_not_guessed() {
    for prompt in [
        "$30 a month for delivery.",
        "Parcels cost $10 a month.",
        "Papers are $30 each month.",
        "$100 per month for up to 100 deliveries.",
        "A newspaper costs $30 a month.",
    ] {
        let error = monthly(prompt).unwrap_err().to_string();
        assert!(
            error.contains("fee per period or a price per delivery"),
            "{prompt}: {error}"
        );
    }
    for (prompt, reading) in [
        (
            "The newspaper costs $30 a month.",
            "Newspaper for each subscribed copy: 30.00 USD each month.",
        ),
        (
            "Newspaper delivery is $30 a month.",
            "Newspaper delivery for each subscribed copy: 30.00 USD each month.",
        ),
        (
            "$10 monthly for the parcel service.",
            "Parcel service for each subscribed copy: 10.00 USD each month.",
        ),
        ("$0.50 per delivery per month.", "0.50 USD per shipment"),
        ("Each meal kit costs $11.50.", "11.50 USD per shipment"),
        (
            "$5 the first month, then $1 more each month.",
            "5.00 USD each month, rising by 1.00 USD every month",
        ),
        (
            "The first 4 boxes each month are included in the $40 monthly fee; extra boxes are $9 each.",
            "9.00 USD per shipment; the first 4 shipments each month are free",
        ),
    ] {
        let program = monthly(prompt).unwrap_or_else(|e| panic!("{prompt}: {e}"));
        assert!(
            program.describe().contains(reading),
            "{}",
            program.describe()
        );
    }
}

/// The admin's name for the thing sold is the charge's description; a kind of thing delivered
/// beside a price per unit is a qualifier, and stays refused.
#[test]
fn a_name_of_the_thing_sold_is_the_charge_description() {
    for (prompt, recurring, usage) in [
        ("The magazine costs $5 a month.", Some("Magazine"), None),
        (
            "Newsletter plan: $4 per month.",
            Some("Newsletter plan"),
            None,
        ),
        ("$25 a month for the garden box.", Some("Garden box"), None),
        ("For the garden box, $25 a month.", Some("Garden box"), None),
        (
            "Farm-fresh box costs $25 a month.",
            Some("Farm-fresh box"),
            None,
        ),
        ("Daily paper: $1 per delivery.", None, Some("Daily paper")),
        ("Meal kit: $11.50 each.", None, Some("Meal kit")),
        (
            "Garden box: $20 a month, plus $2 per delivery.",
            Some("Garden box"),
            Some("Usage (Shipment) charge"),
        ),
        ("Bill $20 per month.", Some("Base charge"), None),
    ] {
        let program = monthly(prompt).unwrap_or_else(|e| panic!("{prompt}: {e}"));
        let descriptions = |v: Vec<&str>| v.first().map(|d| d.to_string());
        assert_eq!(
            descriptions(
                program
                    .recurring
                    .iter()
                    .map(|c| c.description.as_str())
                    .collect()
            ),
            recurring.map(str::to_owned),
            "{prompt}"
        );
        assert_eq!(
            descriptions(
                program
                    .usage
                    .iter()
                    .map(|c| c.description.as_str())
                    .collect()
            ),
            usage.map(str::to_owned),
            "{prompt}"
        );
    }
    for (prompt, named) in [
        ("$2 per box for the garden box.", "garden"),
        ("$9 per kit for vegetarian kits.", "vegetarian"),
        ("$25 per month for the digital edition.", "digital"),
        ("Garden box: $25.", "per month"),
        ("Weekly newsletter: $4.", "names a period"),
        (
            "The big box costs $40 a month for 3 months. The small box costs $20 a month.",
            "named both",
        ),
        ("$5 a month. We charge.", "\"charge\""),
        ("$5 a month, paid by card.", "\"paid\""),
    ] {
        let error = monthly(prompt).unwrap_err().to_string();
        assert!(error.contains(named), "{prompt}: {error}");
    }
}
