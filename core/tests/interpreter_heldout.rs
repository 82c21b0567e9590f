//! A held-out-style set: prompts in billing admins' words at newspapers, magazines, meal-kit and
//! parcel businesses, written for this test (not taken from the grammar's own examples), each with
//! the reading it must give or the refusal it must get. Scored as correct / refused / wrong; a
//! wrong reading fails the test, and so does any loss of a correct one.

use ai_billing::calendar::{BillingInterval, IntervalUnit};
use ai_billing::interpreter::{PlanContext, interpret};
use ai_billing::money::Currency;

/// What a prompt must give.
enum Expect {
    /// Read today, to exactly this reading.
    Reads(&'static str),
    /// Plain wording the conventions settle, refused today (a safe outcome): if it is read, it
    /// must be read to exactly this.
    Plain(&'static str),
    /// A rule the conventions have no meaning for, or one that would bill wrongly: refused.
    Refuse,
}
use Expect::*;

const CASES: &[(&str, &str, IntervalUnit, Expect)] = &[
    (
        r#"Daily paper: $0.75 per delivery Monday through Saturday, $2.50 for the Sunday edition."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Daily paper: 0.75 USD per shipment on monday to saturday, 2.50 USD per shipment on sunday."#,
        ),
    ),
    (
        r#"We charge 75 cents for each weekday paper and $2 for each weekend paper."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 0.75 USD per shipment on monday to friday, 2.00 USD per shipment on saturday, sunday."#,
        ),
    ),
    (
        r#"Weekday papers are 60¢ each; Saturday and Sunday papers cost $1.50 each."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 0.60 USD per shipment on monday to friday, 1.50 USD per shipment on saturday, sunday."#,
        ),
    ),
    (
        r#"$1 per Sunday paper; weekday papers are not billed and Saturdays are free."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 1.00 USD per shipment on sunday, not billed on monday to saturday."#,
        ),
    ),
    (
        r#"Newspaper delivery is $0.80 per paper, Sundays $2."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 0.80 USD per shipment on monday to saturday, 2.00 USD per shipment on sunday."#,
        ),
    ),
    (
        r#"Charge $15 a month, plus $0.50 for every paper delivered on a Sunday."#,
        "USD",
        IntervalUnit::Month,
        Refuse,
    ),
    (
        r#"$0.70 per paper Monday to Friday, $1.10 on Saturdays and $2.25 on Sundays; returned papers are credited."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 0.70 USD per shipment on monday to friday, 1.10 USD per shipment on saturday, 2.25 USD per shipment on sunday; returns come off the count."#,
        ),
    ),
    (
        r#"Papers delivered on weekdays: 50 cents. Weekend papers: $1.25."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 0.50 USD per shipment on monday to friday, 1.25 USD per shipment on saturday, sunday."#,
        ),
    ),
    (
        r#"Home delivery costs $30 a month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Home delivery for each subscribed copy: 30.00 USD each month."#,
        ),
    ),
    (
        r#"$30 a month for home delivery, but the first month is on us."#,
        "USD",
        IntervalUnit::Month,
        Plain(
            r#"Billed every month in advance.
Base charge for each subscribed copy: free in month 1; then 30.00 USD from month 2 on."#,
        ),
    ),
    (
        r#"Bill $8.99 per month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 8.99 USD each month."#,
        ),
    ),
    (
        r#"The magazine costs $5 for the first month and then $9.99 a month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Magazine for each subscribed copy: 5.00 USD in month 1; then 9.99 USD from month 2 on."#,
        ),
    ),
    (
        r#"$4.99 a month for the first three months, then $7.99 a month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 4.99 USD in months 1 to 3; then 7.99 USD from month 4 on."#,
        ),
    ),
    (
        r#"First 2 months free, then $6 per month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: free in months 1 to 2; then 6.00 USD from month 3 on."#,
        ),
    ),
    (
        r#"$12 per month for each copy on the subscription."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 12.00 USD each month."#,
        ),
    ),
    (
        r#"$6 monthly per copy."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 6.00 USD each month."#,
        ),
    ),
    (
        r#"Charge $60 per year."#,
        "USD",
        IntervalUnit::Year,
        Reads(
            r#"Billed every year in advance.
Base charge for each subscribed copy: 60.00 USD each year."#,
        ),
    ),
    (
        r#"$3 per issue delivered."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 3.00 USD per shipment."#,
        ),
    ),
    (
        r#"Each issue is $2.50 and returned issues are credited."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 2.50 USD per shipment; returns come off the count."#,
        ),
    ),
    (
        r#"$10 a month, 20% off for the first 6 months."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 10.00 USD in months 1 to 6 less 20%; then 10.00 USD from month 7 on."#,
        ),
    ),
    (
        r#"Half price for the first 3 months, regular price $10 per month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 10.00 USD in months 1 to 3 less 50%; then 10.00 USD from month 4 on."#,
        ),
    ),
    (
        r#"Start at $5 per month and add $1 every month until the price reaches $10."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 5.00 USD each month, rising by 1.00 USD every month, up to at most 10.00 USD."#,
        ),
    ),
    (
        r#"$20 per month, rising 5% each year."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 20.00 USD each month, rising by 5% every 12 months."#,
        ),
    ),
    (
        r#"$15 per month for students."#,
        "USD",
        IntervalUnit::Month,
        Refuse,
    ),
    (
        r#"$9.99 per box delivered."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 9.99 USD per shipment."#,
        ),
    ),
    (
        r#"Each meal kit costs $11.50."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 11.50 USD per shipment."#,
        ),
    ),
    (
        r#"Kits are $12 each, and we bill a $5 monthly service fee."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 5.00 USD each month.
Usage (Shipment) charge: 12.00 USD per shipment."#,
        ),
    ),
    (
        r#"$60 per month base plus $8 per box."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 60.00 USD each month.
Usage (Shipment) charge: 8.00 USD per shipment."#,
        ),
    ),
    (
        r#"The first 4 boxes each month are included in the $40 monthly fee; extra boxes are $9 each."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 40.00 USD each month.
Usage (Shipment) charge: 9.00 USD per shipment; the first 4 shipments each month are free."#,
        ),
    ),
    (
        r#"$40 a month, which includes 4 boxes; additional boxes $9 each."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 40.00 USD each month.
Usage (Shipment) charge: 9.00 USD per shipment; the first 4 shipments each month are free."#,
        ),
    ),
    (
        r#"$10 per box, but never more than $60 in a month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 10.00 USD per shipment; a usage maximum of 60.00 USD a month."#,
        ),
    ),
    (
        r#"$10 per box with a minimum charge of $30 per month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 10.00 USD per shipment; a usage minimum of 30.00 USD a month."#,
        ),
    ),
    (
        r#"Boxes: 1-4 at $10 each, 5 and above at $8 each."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge in graduated tiers: 1 to 4 shipments at 10.00 USD each, 5 and above at 8.00 USD each."#,
        ),
    ),
    (
        r#"If a customer receives more than 8 boxes in a month, every box that month is $7; otherwise $9 per box."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge in volume tiers: 1 to 8 shipments at 9.00 USD each, 9 and above at 7.00 USD each."#,
        ),
    ),
    (
        r#"$12 per box; boxes delivered on weekends cost $15."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 12.00 USD per shipment on monday to friday, 15.00 USD per shipment on saturday, sunday."#,
        ),
    ),
    (
        r#"$9 per kit for vegetarian kits."#,
        "USD",
        IntervalUnit::Month,
        Refuse,
    ),
    (
        r#"Charge $2 per bag shipped, and returned bags are not billed."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 2.00 USD per shipment; returns come off the count."#,
        ),
    ),
    (
        r#"$3.50 per parcel."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 3.50 USD per shipment."#,
        ),
    ),
    (
        r#"Parcels are $4 each up to 50 a month, and $3 each after that."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge in graduated tiers: 1 to 50 shipments at 4.00 USD each, 51 and above at 3.00 USD each."#,
        ),
    ),
    (
        r#"$5 per package, first 10 packages each month free."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 5.00 USD per shipment; the first 10 shipments each month are free."#,
        ),
    ),
    (
        r#"$25 monthly platform fee plus $1.20 per shipment."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 25.00 USD each month.
Usage (Shipment) charge: 1.20 USD per shipment."#,
        ),
    ),
    (
        r#"$1.20 per label."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 1.20 USD per shipment."#,
        ),
    ),
    (
        r#"We bill $0.90 per shipment; shipments on Sundays are $1.80."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 0.90 USD per shipment on monday to saturday, 1.80 USD per shipment on sunday."#,
        ),
    ),
    (
        r#"$2 per shipment, max $100 per month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 2.00 USD per shipment; a usage maximum of 100.00 USD a month."#,
        ),
    ),
    (
        r#"$2 per shipment, at least $20 per month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 2.00 USD per shipment; a usage minimum of 20.00 USD a month."#,
        ),
    ),
    (
        r#"0-100 parcels at $2 each, 101-500 at $1.50 each, 501 and above at $1 each."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge in graduated tiers: 1 to 100 shipments at 2.00 USD each, 101 to 500 at 1.50 USD each, 501 and above at 1.00 USD each."#,
        ),
    ),
    (
        r#"Volume pricing: 1-100 shipments at $1 each, 101 and above at $0.80 each."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge in volume tiers: 1 to 100 shipments at 1.00 USD each, 101 and above at 0.80 USD each."#,
        ),
    ),
    (
        r#"$1 per shipment for shipments over 5 kg."#,
        "USD",
        IntervalUnit::Month,
        Refuse,
    ),
    (
        r#"$150 per month flat."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 150.00 USD each month."#,
        ),
    ),
    (
        r#"$2 per shipment; international shipments $5."#,
        "USD",
        IntervalUnit::Month,
        Refuse,
    ),
    (
        r#"Charge $0.50 per shipment, billed in arrears."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 0.50 USD per shipment."#,
        ),
    ),
    (
        r#"$1 per delivery; returns are ignored."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 1.00 USD per shipment."#,
        ),
    ),
    (
        r#"Twenty dollars a month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 20.00 USD each month."#,
        ),
    ),
    (
        r#"Fifteen dollars per month plus fifty cents per delivery."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 15.00 USD each month.
Usage (Shipment) charge: 0.50 USD per shipment."#,
        ),
    ),
    (
        r#"$10/month + $0.25/shipment"#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 10.00 USD each month.
Usage (Shipment) charge: 0.25 USD per shipment."#,
        ),
    ),
    (
        r#"$5 the first month, then $1 more each month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 5.00 USD each month, rising by 1.00 USD every month."#,
        ),
    ),
    (
        r#"Bill $100 per year."#,
        "USD",
        IntervalUnit::Year,
        Reads(
            r#"Billed every year in advance.
Base charge for each subscribed copy: 100.00 USD each year."#,
        ),
    ),
    (
        r#"$8 per week."#,
        "USD",
        IntervalUnit::Week,
        Reads(
            r#"Billed every week in advance.
Base charge for each subscribed copy: 8.00 USD each week."#,
        ),
    ),
    (
        r#"$1 per delivery plus $1 per delivery."#,
        "USD",
        IntervalUnit::Month,
        Refuse,
    ),
    (r#"-$5 per month."#, "USD", IntervalUnit::Month, Refuse),
    (
        r#"$10 per month for the first 2 copies and $5 for each additional copy."#,
        "USD",
        IntervalUnit::Month,
        Refuse,
    ),
    (
        r#"The first 5 deliveries of the subscription are free, then $1 per delivery."#,
        "USD",
        IntervalUnit::Month,
        Refuse,
    ),
    (
        r#"$1 per shipment, $2 for shipments with more than 2 copies."#,
        "USD",
        IntervalUnit::Month,
        Refuse,
    ),
    (
        r#"$0.75 per weekday delivery and $2.50 per Sunday delivery."#,
        "USD",
        IntervalUnit::Month,
        Refuse,
    ),
    (
        r#"Bill $7.50 every month."#,
        "USD",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in advance.
Base charge for each subscribed copy: 7.50 USD each month."#,
        ),
    ),
    (
        r#"A monthly fee of €9 and €0.20 per delivery."#,
        "EUR",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 9.00 EUR each month.
Usage (Shipment) charge: 0.20 EUR per shipment."#,
        ),
    ),
    (
        r#"2,50 € per delivery."#,
        "EUR",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Usage (Shipment) charge: 2.50 EUR per shipment."#,
        ),
    ),
    (
        r#"£5 per month plus 30p per parcel."#,
        "GBP",
        IntervalUnit::Month,
        Reads(
            r#"Billed every month in arrears.
Base charge for each subscribed copy: 5.00 GBP each month.
Usage (Shipment) charge: 0.30 GBP per shipment."#,
        ),
    ),
];

#[test]
fn held_out_prompts_are_read_right_or_refused_never_wrong() {
    let (mut correct, mut refused, mut wrong) = (0, 0, Vec::new());
    for (prompt, currency, unit, expect) in CASES {
        let context = PlanContext {
            currency: Currency::parse(currency).unwrap(),
            interval: BillingInterval {
                unit: *unit,
                count: 1,
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
        "held-out set: {} prompts, {correct} correct, {refused} refused, {} wrong",
        CASES.len(),
        wrong.len()
    );
    assert!(CASES.len() >= 60);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
