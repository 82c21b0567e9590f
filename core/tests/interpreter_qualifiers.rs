//! The qualifier test: prompts the offline interpreter understands, each extended by a qualifier
//! that would change the bill and that the billing conventions have no rule for (a customer
//! group, a calendar season, a shipment attribute, a lifetime count, a payment condition, ...).
//! Every one must be refused: a qualifier is never dropped to bill a different rule.

use ai_billing::calendar::{BillingInterval, IntervalUnit};
use ai_billing::interpreter::{PlanContext, interpret};
use ai_billing::money::Currency;

fn monthly() -> PlanContext {
    PlanContext {
        currency: Currency::USD,
        interval: BillingInterval {
            unit: IntervalUnit::Month,
            count: 1,
        },
    }
}

/// Prompts the interpreter reads, written without a final full stop.
const UNDERSTOOD: &[&str] = &[
    "$25 per month",
    "Bill $12 per month for each copy",
    "$0.50 per delivery",
    "Charge $0.10 per copy delivered",
    "$10 per month plus $0.25 per shipment",
    "$0.75 per weekday delivery and $2.50 per weekend delivery",
    "The first 10 shipments each month are free; after that $0.80 per shipment",
    "$4.99 per month for the first 3 months, then $14.99 per month",
    "Bill $5 for the first month and increase by $1 per month",
    "$2 per shipment, capped at $40 per month",
    "$0.40 per shipment with a monthly minimum of $15",
    "First 20 shipments each month at $1.00, additional shipments at $0.60",
    "Charge $1 per shipment; returned shipments are not billed",
    "$20 per month, 50% off for the first 3 months",
    "Up to 30 shipments: $0.90 each; beyond 30: $0.70 each",
];

/// Qualifiers by family, each one a rule the conventions do not have.
const QUALIFIERS: &[(&str, &[&str])] = &[
    (
        "customer group",
        &[
            "for new customers",
            "for business customers",
            "for students",
            "for customers in Canada",
            "for premium members",
            "for VIP accounts",
            "for subscribers who signed up before 2025",
            "per customer",
            "for each customer",
            "for returning customers",
            "for the first 100 customers",
        ],
    ),
    (
        "calendar season",
        &[
            "during the summer",
            "in December",
            "over the holidays",
            "in the winter months",
            "on public holidays",
            "at Christmas",
            "in Q4",
            "during peak season",
            "from June to August",
            "on weekends in July",
        ],
    ),
    (
        "shipment attribute",
        &[
            "for express shipments",
            "for shipments over 5 kg",
            "for international deliveries",
            "for heavy parcels",
            "for deliveries outside the city",
            "for oversized boxes",
            "for shipments with more than 2 copies",
            "for signed-for deliveries",
            "for same-day delivery",
            "per shipment weighing more than 2 lb",
            "for refrigerated kits",
        ],
    ),
    (
        "lifetime count",
        &[
            "for the first 5 shipments of the subscription",
            "over the life of the subscription",
            "for the first 100 deliveries ever",
            "in total",
            "across all months",
            "for the whole subscription",
            "for the entire subscription",
            "after the first year",
            "once the subscription is a year old",
            "for the first 50 deliveries overall",
            "until 100 shipments in total",
        ],
    ),
    (
        "payment condition",
        &[
            "if paid by card",
            "when paid on time",
            "if paid annually",
            "for customers who pay upfront",
            "if the invoice is paid within 10 days",
            "for customers on autopay",
            "if they pay by direct debit",
            "unless paid late",
            "with a late fee of $5",
            "plus a $2 fee for card payments",
        ],
    ),
    (
        "other conditions",
        &[
            "only on weekdays",
            "per household",
            "for orders above $50",
            "except for returns",
            "if the customer is late",
            "for each address",
            "per delivery address",
            "for gift subscriptions",
            "for the digital edition",
            "when the weather is bad",
            "only",
            "or less",
            "whichever is more",
        ],
    ),
];

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

#[test]
fn every_qualified_prompt_is_refused() {
    let ctx = monthly();
    for prompt in UNDERSTOOD {
        assert!(
            interpret(prompt, &ctx).is_ok(),
            "{prompt} must be understood without a qualifier"
        );
    }
    let mut checked = 0;
    let mut wrong = Vec::new();
    for prompt in UNDERSTOOD {
        for (family, qualifiers) in QUALIFIERS {
            for qualifier in *qualifiers {
                for variant in [
                    format!("{prompt} {qualifier}."),
                    format!("{}, {prompt}.", capitalised(qualifier)),
                    format!("{prompt}. This applies {qualifier}."),
                ] {
                    checked += 1;
                    if let Ok(program) = interpret(&variant, &ctx) {
                        wrong.push(format!(
                            "[{family}] {variant}\n  read as: {}",
                            program.describe().replace('\n', " ")
                        ));
                    }
                }
            }
        }
    }
    assert!(checked >= 2500, "{checked} prompts checked");
    assert!(
        wrong.is_empty(),
        "{} of {checked} qualified prompts were read instead of refused:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
