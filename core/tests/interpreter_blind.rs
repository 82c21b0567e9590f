//! A blind-style set for issue 17: prompts written for this test in the words of admins at
//! newspapers, magazines, meal-kit and parcel businesses, in the families the first blind set
//! found refused (the thing sold named, verbs of billing, idioms for free, decimal commas and
//! pence, amounts in words, what a fee comes with, limits and phases in other words, intervals of
//! two weeks or a quarter), each with the reading it must give or the refusal it must get.
//! Scored as correct / refused / wrong; a wrong reading fails the test (a refusal is safe, a wrong
//! bill is the worst outcome), and so does the loss of a reading that was right.

use ai_billing::calendar::{BillingInterval, IntervalUnit};
use ai_billing::interpreter::{PlanContext, interpret};
use ai_billing::money::Currency;

/// What a prompt must give.
enum Expect {
    /// Read, to exactly this reading.
    Reads(&'static str),
    /// Plain wording the conventions settle, refused today (a safe outcome): if it is read, it
    /// must be read to exactly this.
    Plain(&'static str),
    /// A rule the conventions have no meaning for, or one that would bill wrongly: refused.
    Refuse,
}
use Expect::*;

/// (prompt, currency, interval unit, interval count, expected)
const CASES: &[(&str, &str, IntervalUnit, u32, Expect)] = &[
    (
        r#"Daily Herald delivery: 65 cents per paper Monday through Saturday; Sunday papers are $2.25."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Daily Herald delivery: 0.65 USD per shipment on monday to saturday, 2.25 USD per shipment on sunday."#,
        ),
    ),
    (
        r#"The weekend edition costs $4 a month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Plain(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 4.00 USD each month."#,
        ),
    ),
    (
        r#"We bill 4,50 € per paper delivered, Sundays 6,00 €."#,
        "EUR",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 4.50 EUR per shipment on monday to saturday, 6.00 EUR per shipment on sunday."#,
        ),
    ),
    (
        r#"Sunday paper only: $3 per Sunday delivery; other days are not billed."#,
        "USD",
        IntervalUnit::Month,
        1,
        Plain(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 3.00 USD per shipment on sunday, not billed on monday to saturday."#,
        ),
    ),
    (
        r#"Papers are forty-five cents each on weekdays and a dollar fifty on weekends."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 0.45 USD per shipment on monday to friday, 1.50 USD per shipment on saturday, sunday."#,
        ),
    ),
    (
        r#"Newspaper delivery runs $28 a month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in advance.
Newspaper delivery for each subscribed copy: 28.00 USD each month."#,
        ),
    ),
    (
        r#"The Gazette costs $12 a month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in advance.
Gazette for each subscribed copy: 12.00 USD each month."#,
        ),
    ),
    (
        r#"$0.90 per paper; returned papers are credited at that day's price."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 0.90 USD per shipment; returns come off the count."#,
        ),
    ),
    (
        r#"Charge 80 cents per paper, with a minimum of $15 per month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 0.80 USD per shipment; a usage minimum of 15.00 USD a month."#,
        ),
    ),
    (
        r#"Delivery is free on Sundays, otherwise $1.10 per paper."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 1.10 USD per shipment on monday to saturday, not billed on sunday."#,
        ),
    ),
    (
        r#"$1 per paper for papers delivered before 6am."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"Each paper costs $1, but Sunday papers cost $2 in December."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"The magazine is $6.99 a month; the first issue is free."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"Monthly magazine: $4.50 per issue delivered."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Monthly magazine: 4.50 USD per shipment."#,
        ),
    ),
    (
        r#"Our quarterly journal costs $30 a quarter."#,
        "USD",
        IntervalUnit::Month,
        3,
        Reads(
            r#"Billed every 3 months in advance.
Quarterly journal for each subscribed copy: 30.00 USD each period."#,
        ),
    ),
    (
        r#"The magazine costs $9 a month for each copy on the subscription."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in advance.
Magazine for each subscribed copy: 9.00 USD each month."#,
        ),
    ),
    (
        r#"$60 a year for the print edition."#,
        "USD",
        IntervalUnit::Year,
        1,
        Refuse,
    ),
    (
        r#"The magazine costs $5 a month for the first six months and $8 a month after that."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in advance.
Magazine for each subscribed copy: 5.00 USD in months 1 to 6; then 8.00 USD from month 7 on."#,
        ),
    ),
    (
        r#"Magazine subscription: $3 for the first month, then $1 more every month, capped at $10."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in advance.
Magazine subscription for each subscribed copy: 3.00 USD each month, rising by 1.00 USD every month, up to at most 10.00 USD."#,
        ),
    ),
    (
        r#"The magazine is half price for the first 3 months; after that it's $8 a month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in advance.
Magazine for each subscribed copy: 8.00 USD in months 1 to 3 less 50%; then 8.00 USD from month 4 on."#,
        ),
    ),
    (
        r#"$5 a month, or $50 a year if paid annually."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"The magazine costs $4 a week."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"The magazine costs $4 a week."#,
        "USD",
        IntervalUnit::Week,
        1,
        Reads(
            r#"Billed every week in advance.
Magazine for each subscribed copy: 4.00 USD each week."#,
        ),
    ),
    (
        r#"Meal kit: $59.99 per box, delivered every other week."#,
        "USD",
        IntervalUnit::Week,
        2,
        Reads(
            r#"Billed every 2 weeks in arrears.
Meal kit: 59.99 USD per shipment."#,
        ),
    ),
    (
        r#"Family box: $79 per box; the first box is half price."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"$11 per meal kit, and a $5 monthly service fee."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 5.00 USD each month.
Usage (Shipment) charge: 11.00 USD per shipment."#,
        ),
    ),
    (
        r#"Veggie box costs $25 a month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in advance.
Veggie box for each subscribed copy: 25.00 USD each month."#,
        ),
    ),
    (
        r#"The garden box is €30 a month, and each extra box is €12."#,
        "EUR",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"Meal kits are $10.50 each; no charge for the first kit each month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 10.50 USD per shipment; the first 1 shipments each month are free."#,
        ),
    ),
    (
        r#"We charge $9 per kit; kits with more than 4 servings are $12."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"$40 a month, which covers 4 kits; additional kits are $9.50 apiece."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 40.00 USD each month.
Usage (Shipment) charge: 9.50 USD per shipment; the first 4 shipments each month are free."#,
        ),
    ),
    (
        r#"Dinner box: twelve dollars fifty per box, never more than $100 in a month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Dinner box: 12.50 USD per shipment; a usage maximum of 100.00 USD a month."#,
        ),
    ),
    (
        r#"Meal kit plan: $8 per kit, with a $30 monthly minimum."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Meal kit plan: 8.00 USD per shipment; a usage minimum of 30.00 USD a month."#,
        ),
    ),
    (
        r#"Kits on Saturdays cost $15; kits on other days cost $10."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 10.00 USD per shipment on monday to friday, sunday, 15.00 USD per shipment on saturday."#,
        ),
    ),
    (
        r#"Recipe boxes: 1-3 boxes at $12 each, 4 or more at $10 each."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge in graduated tiers: 1 to 3 shipments at 12.00 USD each, 4 and above at 10.00 USD each."#,
        ),
    ),
    (
        r#"Parcel locker service: $2.40 per parcel."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Parcel locker service: 2.40 USD per shipment."#,
        ),
    ),
    (
        r#"Parcels: £3.20 each, £2.50 each after the first 100 in a month."#,
        "GBP",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge in graduated tiers: 1 to 100 shipments at 3.20 GBP each, 101 and above at 2.50 GBP each."#,
        ),
    ),
    (
        r#"Courier plan: a $25 monthly fee that comes with 20 parcels, then $1.75 per parcel."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Courier plan for each subscribed copy: 25.00 USD each month.
Usage (Shipment) charge: 1.75 USD per shipment; the first 20 shipments each month are free."#,
        ),
    ),
    (
        r#"Each parcel is $4.25, and returned parcels are not billed."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 4.25 USD per shipment; returns come off the count."#,
        ),
    ),
    (
        r#"$3 a parcel for parcels over 2 kg."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"Parcels cost $5 each; express parcels $9."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"Small business shipping: $0.95 per label, with a cap of $200 per month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"Shipping: first 50 parcels each month at $2, next 50 at $1.50, beyond that $1."#,
        "USD",
        IntervalUnit::Month,
        1,
        Plain(
            r#"Billed every month in arrears.
Usage (Shipment) charge in graduated tiers: 1 to 50 shipments at 2.00 USD each, 51 to 100 at 1.50 USD each, 101 and above at 1.00 USD each."#,
        ),
    ),
    (
        r#"If more than 200 parcels ship in a month, every parcel that month is $1.10; otherwise $1.40 each."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge in volume tiers: 1 to 200 shipments at 1.40 USD each, 201 and above at 1.10 USD each."#,
        ),
    ),
    (
        r#"€2 per parcel, €1,50 per parcel on weekends."#,
        "EUR",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 2.00 EUR per shipment on monday to friday, 1.50 EUR per shipment on saturday, sunday."#,
        ),
    ),
    (
        r#"Parcel pickup is $15 a month plus 60 cents per parcel."#,
        "USD",
        IntervalUnit::Month,
        1,
        Plain(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 15.00 USD each month.
Usage (Shipment) charge: 0.60 USD per shipment."#,
        ),
    ),
    (
        r#"Parcel delivery costs $15 a month plus 60 cents per parcel."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Parcel delivery for each subscribed copy: 15.00 USD each month.
Usage (Shipment) charge: 0.60 USD per shipment."#,
        ),
    ),
    (
        r#"Twenty-five dollars a month for the garden box."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in advance.
Garden box for each subscribed copy: 25.00 USD each month."#,
        ),
    ),
    (
        r#"Ninety cents per delivery, and two dollars for Sunday deliveries."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 0.90 USD per shipment on monday to saturday, 2.00 USD per shipment on sunday."#,
        ),
    ),
    (
        r#"Seven euros fifty a month."#,
        "EUR",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 7.50 EUR each month."#,
        ),
    ),
    (
        r#"Three dollars and twenty-five cents per parcel."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 3.25 USD per shipment."#,
        ),
    ),
    (
        r#"$5 per month, or whatever the customer can afford."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"$20 a month for the first subscriber in each household."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"$1 per delivery, twice the price on holidays."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"The first 5 deliveries ever are free, then $1 per delivery."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"$10 a month, billed twice a month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"$2 per delivery every other week."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"The garden box costs $25."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"$12 per month for the first 2 copies and $6 per month for each copy after that."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"$18 every other week for the newsletter."#,
        "USD",
        IntervalUnit::Week,
        2,
        Reads(
            r#"Billed every 2 weeks in advance.
Newsletter for each subscribed copy: 18.00 USD each period."#,
        ),
    ),
    (
        r#"Biweekly box: $35 every two weeks, first two weeks free."#,
        "USD",
        IntervalUnit::Week,
        2,
        Reads(
            r#"Billed every 2 weeks in advance.
Biweekly box for each subscribed copy: free in weeks 1 to 2; then 35.00 USD from week 3 on."#,
        ),
    ),
    (
        r#"The newsletter is free for the first month, then $4 a month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in advance.
Newsletter for each subscribed copy: free in month 1; then 4.00 USD from month 2 on."#,
        ),
    ),
    (
        r#"The daily paper costs $1 each."#,
        "USD",
        IntervalUnit::Month,
        1,
        Plain(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 1.00 USD per shipment."#,
        ),
    ),
    (
        r#"Weekly veggie box: $22 a week, deliveries on Saturdays only."#,
        "USD",
        IntervalUnit::Week,
        1,
        Refuse,
    ),
    (
        r#"Home delivery of the Tribune costs $35 a month."#,
        "USD",
        IntervalUnit::Month,
        1,
        Refuse,
    ),
    (
        r#"The parcel plan is $49 a month and includes 30 parcels; extra parcels cost $1.20 each."#,
        "USD",
        IntervalUnit::Month,
        1,
        Reads(
            r#"Billed every month in arrears.
Parcel plan for each subscribed copy: 49.00 USD each month.
Usage (Shipment) charge: 1.20 USD per shipment; the first 30 shipments each month are free."#,
        ),
    ),
];

#[test]
fn blind_prompts_are_read_right_or_refused_never_wrong() {
    let (mut correct, mut refused, mut wrong) = (0, 0, Vec::new());
    for (prompt, currency, unit, count, expect) in CASES {
        let context = PlanContext {
            currency: Currency::parse(currency).unwrap(),
            interval: BillingInterval {
                unit: *unit,
                count: *count,
            },
        };
        let reading = interpret(prompt, &context).map(|p| p.describe());
        match (expect, reading) {
            (Refuse, Err(_)) => correct += 1,
            (Refuse, Ok(got)) => {
                wrong.push(format!("{prompt}\n  must be refused, read as:\n{got}"))
            }
            (Reads(want) | Plain(want), Ok(got)) if got == *want => correct += 1,
            (Reads(want) | Plain(want), Ok(got)) => {
                wrong.push(format!("{prompt}\n  want:\n{want}\n  got:\n{got}"))
            }
            (Plain(_), Err(_)) => refused += 1,
            (Reads(_), Err(e)) => wrong.push(format!("{prompt}\n  was read, now refused: {e}")),
        }
    }
    println!(
        "blind set: {} prompts, {correct} correct, {refused} refused, {} wrong",
        CASES.len(),
        wrong.len()
    );
    assert!(CASES.len() >= 40);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
