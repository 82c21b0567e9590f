//! Scenarios end to end: parsing with errors that name their field, and previews through the
//! embedded database and the billing engine, with invoices checked to the cent.

#![cfg(feature = "sqlite")]

use ai_billing::Error;
use ai_billing::pricing::InvoiceTiming;
use ai_billing::scenario::{PreviewReport, Scenario, preview};
use serde_json::{Value, json};

/// A valid scenario of a standard plan: $25.00 a month from 2026-01-31 in New York.
fn standard() -> Value {
    json!({
        "account": { "id": "acct_1", "abstracted": true, "timezone": "America/New_York" },
        "plan": {
            "type": "standard", "nickname": "Monthly", "amount": 2500, "currency": "USD",
            "interval": "month", "interval_count": 1
        },
        "subscription": { "start": "2026-01-31", "quantity": 1 },
        "periods": 3,
        "tax": { "rate": "0.0825" },
        "shipments": [],
        "returns": []
    })
}

/// A valid scenario of an AI plan (parsing only: the prompt is not interpreted here).
fn ai() -> Value {
    json!({
        "account": { "id": "acct_1", "abstracted": true, "timezone": "America/New_York" },
        "plan": {
            "type": "ai", "nickname": "Daily delivery", "currency": "USD",
            "interval": "month", "interval_count": 1,
            "ai_prompt": "$0.75 per weekday delivery and $2.50 per Sunday delivery.",
            "usage_query": "shipments_by_weekday"
        },
        "subscription": { "start": "2026-01-15", "quantity": 1 },
        "periods": 3,
        "tax": { "rate": "0.0825" },
        "shipments": [ { "id": "s1", "shipped_at": "2026-01-15T11:30:00Z", "quantity": 1 } ],
        "returns": [ { "id": "r1", "shipment_id": "s1", "returned_at": "2026-01-17T11:30:00Z", "quantity": 1 } ]
    })
}

fn parse(value: &Value) -> ai_billing::Result<Scenario> {
    Scenario::from_json(&value.to_string())
}

/// The field an [`Error::InvalidInput`] names, with its message.
fn invalid(result: ai_billing::Result<Scenario>) -> (String, String) {
    match result {
        Err(Error::InvalidInput { field, reason }) => (field, reason),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// A JSON number exactly as written (no float is involved: serde_json keeps its digits).
fn number(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn with(mut value: Value, pointer: &str, new: Value) -> Value {
    *value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}")) = new;
    value
}

#[tokio::test]
async fn valid_scenarios_parse() {
    let scenario = parse(&standard()).unwrap();
    assert_eq!(scenario.periods, Some(3));
    assert_eq!(scenario.plan.id, None);
    assert_eq!(scenario.plan.amount, 2500);
    assert_eq!(scenario.tax.unwrap().rate.to_string(), "0.0825");
    let scenario = parse(&ai()).unwrap();
    assert_eq!(scenario.shipments.len(), 1);
    assert_eq!(scenario.returns[0].shipment_id, "s1");
    // Optional parts: no tax, no shipments or returns, quantity 1.
    let mut minimal = standard();
    let object = minimal.as_object_mut().unwrap();
    for key in ["tax", "shipments", "returns"] {
        object.remove(key);
    }
    object["subscription"]
        .as_object_mut()
        .unwrap()
        .remove("quantity");
    let scenario = parse(&minimal).unwrap();
    assert_eq!(scenario.subscription.quantity, 1);
    assert!(scenario.tax.is_none() && scenario.shipments.is_empty());
    // A rate written as a number is read exactly.
    let scenario = parse(&with(standard(), "/tax/rate", number("0.0825"))).unwrap();
    assert_eq!(scenario.tax.unwrap().rate.to_string(), "0.0825");
}

#[tokio::test]
async fn bad_json_is_refused() {
    let (field, reason) = invalid(Scenario::from_json(r#"{ "account": "#));
    assert_eq!(field, "scenario");
    assert!(reason.contains("JSON"), "{reason}");
    let (field, _) = invalid(Scenario::from_json(&format!("{} trailing", standard())));
    assert_eq!(field, "scenario");
    let (field, _) = invalid(Scenario::from_json("[1, 2]"));
    assert_eq!(field, "scenario");
}

#[tokio::test]
async fn missing_and_unknown_fields_are_named() {
    let mut no_start = standard();
    no_start["subscription"]
        .as_object_mut()
        .unwrap()
        .remove("start");
    assert_eq!(invalid(parse(&no_start)).0, "subscription.start");
    let mut no_periods = standard();
    no_periods.as_object_mut().unwrap().remove("periods");
    assert_eq!(invalid(parse(&no_periods)).0, "periods");
    let (field, reason) = invalid(parse(&with(
        standard(),
        "/subscription",
        json!({ "start": "2026-01-31", "quantitiy": 2 }),
    )));
    assert!(field.starts_with("subscription"), "{field}");
    assert!(reason.contains("quantitiy"), "{reason}");
    let (field, _) = invalid(parse(&with(
        standard(),
        "/subscription/start",
        json!("2026-02-30"),
    )));
    assert_eq!(field, "subscription.start");
}

#[tokio::test]
async fn unknown_currency_is_named() {
    let (field, reason) = invalid(parse(&with(standard(), "/plan/currency", json!("XYZ"))));
    assert_eq!(field, "plan.currency");
    assert!(reason.contains("XYZ"), "{reason}");
}

#[tokio::test]
async fn bad_time_zone_is_named() {
    let (field, reason) = invalid(parse(&with(
        standard(),
        "/account/timezone",
        json!("Mars/Olympus_Mons"),
    )));
    assert_eq!(field, "account.timezone");
    assert!(reason.contains("Mars/Olympus_Mons"), "{reason}");
}

#[tokio::test]
async fn negative_quantity_is_refused_clearly() {
    let (field, reason) = invalid(parse(&with(
        standard(),
        "/subscription/quantity",
        json!(-2),
    )));
    assert_eq!(field, "subscription.quantity");
    assert!(reason.contains("negative"), "{reason}");
    let (field, reason) = invalid(parse(&with(
        standard(),
        "/subscription/quantity",
        number("1.5"),
    )));
    assert_eq!(field, "subscription.quantity");
    assert!(reason.contains("whole number"), "{reason}");
}

#[tokio::test]
async fn quantity_must_be_from_1_to_100000() {
    for bad in [0, 100_001, 5_000_000_000_i64] {
        let (field, reason) = invalid(parse(&with(
            standard(),
            "/subscription/quantity",
            json!(bad),
        )));
        assert_eq!(field, "subscription.quantity", "{bad}");
        assert!(reason.contains("100000"), "{bad}: {reason}");
    }
    for good in [1, 100_000] {
        assert_eq!(
            parse(&with(standard(), "/subscription/quantity", json!(good)))
                .unwrap()
                .subscription
                .quantity,
            good
        );
    }
}

#[tokio::test]
async fn periods_must_be_from_1_to_1200() {
    for bad in [json!(0), json!(1201), json!(-1)] {
        assert_eq!(
            invalid(parse(&with(standard(), "/periods", bad))).0,
            "periods"
        );
    }
}

#[tokio::test]
async fn ai_plan_on_a_non_abstracted_account_is_not_available() {
    match parse(&with(ai(), "/account/abstracted", json!(false))) {
        Err(err @ Error::PlanNotAvailable { .. }) => {
            assert!(err.to_string().contains("acct_1"), "{err}");
            assert_eq!(err.code(), ai_billing::ErrorCode::PlanNotAvailable);
        }
        other => panic!("expected PlanNotAvailable, got {other:?}"),
    }
    // A standard plan is fine on any account.
    assert!(parse(&with(standard(), "/account/abstracted", json!(false))).is_ok());
}

#[tokio::test]
async fn oversized_prompt_is_refused_before_interpretation() {
    let prompt = "Bill $5 per month. ".repeat(100 * 1024 / 19 + 1);
    assert!(prompt.len() > 100 * 1024);
    let (field, reason) = invalid(parse(&with(ai(), "/plan/ai_prompt", json!(prompt))));
    assert_eq!(field, "plan.ai_prompt");
    assert!(reason.contains("4000"), "{reason}");
    assert_eq!(
        invalid(parse(&with(ai(), "/plan/ai_prompt", json!("  ")))).0,
        "plan.ai_prompt"
    );
    let mut no_prompt = ai();
    no_prompt["plan"]
        .as_object_mut()
        .unwrap()
        .remove("ai_prompt");
    assert_eq!(invalid(parse(&no_prompt)).0, "plan.ai_prompt");
}

#[tokio::test]
async fn unknown_usage_query_is_refused() {
    match parse(&with(
        ai(),
        "/plan/usage_query",
        json!("select * from shipments"),
    )) {
        Err(err @ Error::UnknownUsageQuery { .. }) => {
            assert!(err.to_string().contains("shipments_by_weekday"), "{err}");
            assert_eq!(err.code(), ai_billing::ErrorCode::InvalidInput);
        }
        other => panic!("expected UnknownUsageQuery, got {other:?}"),
    }
}

#[tokio::test]
async fn return_of_an_unknown_shipment_is_refused() {
    let (field, reason) = invalid(parse(&with(ai(), "/returns/0/shipment_id", json!("s404"))));
    assert_eq!(field, "returns[0].shipment_id");
    assert!(reason.contains("s404"), "{reason}");
}

#[tokio::test]
async fn shipment_and_return_rows_are_checked() {
    let two = json!([
        { "id": "s1", "shipped_at": "2026-01-15T11:30:00Z", "quantity": 1 },
        { "id": "s1", "shipped_at": "2026-01-16T11:30:00Z", "quantity": 1 }
    ]);
    assert_eq!(
        invalid(parse(&with(ai(), "/shipments", two))).0,
        "shipments[1].id"
    );
    assert_eq!(
        invalid(parse(&with(ai(), "/shipments/0/quantity", json!(0)))).0,
        "shipments[0].quantity"
    );
    assert_eq!(
        invalid(parse(&with(ai(), "/returns/0/quantity", json!(0)))).0,
        "returns[0].quantity"
    );
    assert_eq!(
        invalid(parse(&with(ai(), "/returns/0/quantity", json!(2)))).0,
        "returns[0].quantity"
    );
    assert_eq!(
        invalid(parse(&with(
            ai(),
            "/returns/0/returned_at",
            json!("2026-01-14T00:00:00Z")
        )))
        .0,
        "returns[0].returned_at"
    );
    assert_eq!(
        invalid(parse(&with(
            ai(),
            "/shipments/0/shipped_at",
            json!("yesterday")
        )))
        .0,
        "shipments[0].shipped_at"
    );
}

#[tokio::test]
async fn plan_fields_are_checked() {
    assert_eq!(
        invalid(parse(&with(standard(), "/plan/interval_count", json!(0)))).0,
        "plan.interval_count"
    );
    assert_eq!(
        invalid(parse(&with(
            standard(),
            "/plan/interval",
            json!("fortnight")
        )))
        .0,
        "plan.interval"
    );
    assert_eq!(
        invalid(parse(&with(standard(), "/plan/type", json!("magic")))).0,
        "plan.type"
    );
    assert_eq!(
        invalid(parse(&with(standard(), "/tax/rate", json!("1.5")))).0,
        "tax.rate"
    );
    assert_eq!(
        invalid(parse(&with(standard(), "/tax/rate", number("-0.1")))).0,
        "tax.rate"
    );
    assert_eq!(
        invalid(parse(&with(standard(), "/tax/rate", json!("8.25%")))).0,
        "tax.rate"
    );
}

// Previews. Standard plans need no interpreter: these pin the calendar, money, tax, database and
// engine path with exact invoices from billing-conventions.md.

async fn run(value: &Value) -> PreviewReport {
    preview(&parse(value).unwrap()).await.unwrap()
}

/// `(issue_date, period_start, period_end, subtotal, tax, total)` of each invoice, from the JSON the
/// CLI prints.
fn rows(report: &PreviewReport) -> Vec<[String; 6]> {
    let json = serde_json::to_value(report).unwrap();
    json["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            [
                "issue_date",
                "period_start",
                "period_end",
                "subtotal",
                "tax",
                "total",
            ]
            .map(|f| i[f].as_str().unwrap().to_owned())
        })
        .collect()
}

fn row(cells: [&str; 6]) -> [String; 6] {
    cells.map(str::to_owned)
}

#[tokio::test]
async fn month_end_anchor_with_tax() {
    let report = run(&standard()).await;
    assert_eq!(report.invoice_timing, InvoiceTiming::AtStart);
    assert_eq!(
        rows(&report),
        [
            row([
                "2026-01-31",
                "2026-01-31",
                "2026-02-28",
                "25.00",
                "2.06",
                "27.06"
            ]),
            row([
                "2026-02-28",
                "2026-02-28",
                "2026-03-31",
                "25.00",
                "2.06",
                "27.06"
            ]),
            row([
                "2026-03-31",
                "2026-03-31",
                "2026-04-30",
                "25.00",
                "2.06",
                "27.06"
            ]),
        ]
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["invoice_timing"], "at_start");
    let first = &json["invoices"][0];
    assert_eq!(first["currency"], "USD");
    assert_eq!(
        first["line_items"][0]["description"],
        "Base charge (month 1)"
    );
    assert_eq!(first["line_items"][0]["amount"], "25.00");
    assert_eq!(first["tax_lines"][0]["amount"], "2.06");
    assert_eq!(
        json["program"]["recurring"][0]["phases"][0]["amount"],
        "25.00"
    );
    assert!(!report.reading.is_empty());
    // The revenue schedule spreads each subtotal over its service days, summing to it exactly.
    for invoice in &report.invoices {
        let sum: i64 = invoice
            .revenue_schedule
            .iter()
            .map(|e| e.amount.minor())
            .sum();
        assert_eq!(sum, invoice.subtotal.minor());
    }
}

#[tokio::test]
async fn tax_rounds_half_away_from_zero() {
    let value = with(
        with(standard(), "/plan/amount", json!(1000)),
        "/subscription/start",
        json!("2026-01-15"),
    );
    let report = run(&with(value, "/periods", json!(2))).await;
    assert_eq!(
        rows(&report),
        [
            row([
                "2026-01-15",
                "2026-01-15",
                "2026-02-15",
                "10.00",
                "0.83",
                "10.83"
            ]),
            row([
                "2026-02-15",
                "2026-02-15",
                "2026-03-15",
                "10.00",
                "0.83",
                "10.83"
            ]),
        ]
    );
}

#[tokio::test]
async fn quantity_multiplies_a_standard_plan() {
    let mut value = with(standard(), "/subscription/quantity", json!(3));
    value.as_object_mut().unwrap().remove("tax");
    let report = run(&with(value, "/periods", json!(1))).await;
    assert_eq!(
        rows(&report),
        [row([
            "2026-01-31",
            "2026-01-31",
            "2026-02-28",
            "75.00",
            "0.00",
            "75.00"
        ])]
    );
}

#[tokio::test]
async fn yearly_from_a_leap_day() {
    let value = with(standard(), "/plan/interval", json!("year"));
    let value = with(
        with(value, "/plan/amount", json!(12000)),
        "/subscription/start",
        json!("2024-02-29"),
    );
    let mut value = with(value, "/periods", json!(3));
    value.as_object_mut().unwrap().remove("tax");
    assert_eq!(
        rows(&run(&value).await),
        [
            row([
                "2024-02-29",
                "2024-02-29",
                "2025-02-28",
                "120.00",
                "0.00",
                "120.00"
            ]),
            row([
                "2025-02-28",
                "2025-02-28",
                "2026-02-28",
                "120.00",
                "0.00",
                "120.00"
            ]),
            row([
                "2026-02-28",
                "2026-02-28",
                "2027-02-28",
                "120.00",
                "0.00",
                "120.00"
            ]),
        ]
    );
}

#[tokio::test]
async fn weekly_across_a_dst_change() {
    let value = with(standard(), "/plan/interval", json!("week"));
    let value = with(
        with(value, "/plan/amount", json!(800)),
        "/subscription/start",
        json!("2026-03-02"),
    );
    let value = with(
        with(value, "/periods", json!(2)),
        "/tax/rate",
        number("0.07"),
    );
    assert_eq!(
        rows(&run(&value).await),
        [
            row([
                "2026-03-02",
                "2026-03-02",
                "2026-03-09",
                "8.00",
                "0.56",
                "8.56"
            ]),
            row([
                "2026-03-09",
                "2026-03-09",
                "2026-03-16",
                "8.00",
                "0.56",
                "8.56"
            ]),
        ]
    );
}

#[tokio::test]
async fn a_currency_without_minor_unit() {
    let value = with(
        with(standard(), "/plan/currency", json!("JPY")),
        "/plan/amount",
        json!(1200),
    );
    let value = with(with(value, "/tax/rate", json!("0.1")), "/periods", json!(1));
    let value = with(value, "/account/timezone", json!("Asia/Tokyo"));
    assert_eq!(
        rows(&run(&value).await),
        [row([
            "2026-01-31",
            "2026-01-31",
            "2026-02-28",
            "1200",
            "120",
            "1320"
        ])]
    );
}

#[tokio::test]
async fn a_free_plan_still_invoices_zero() {
    let value = with(
        with(standard(), "/plan/amount", json!(0)),
        "/periods",
        json!(1),
    );
    assert_eq!(
        rows(&run(&value).await),
        [row([
            "2026-01-31",
            "2026-01-31",
            "2026-02-28",
            "0.00",
            "0.00",
            "0.00"
        ])]
    );
}

#[tokio::test]
async fn interval_count_of_two_months() {
    let value = with(
        with(standard(), "/plan/interval_count", json!(2)),
        "/periods",
        json!(2),
    );
    let mut value = with(value, "/subscription/start", json!("2025-12-31"));
    value.as_object_mut().unwrap().remove("tax");
    let report = run(&value).await;
    assert_eq!(
        rows(&report),
        [
            row([
                "2025-12-31",
                "2025-12-31",
                "2026-02-28",
                "25.00",
                "0.00",
                "25.00"
            ]),
            row([
                "2026-02-28",
                "2026-02-28",
                "2026-04-30",
                "25.00",
                "0.00",
                "25.00"
            ]),
        ]
    );
    assert_eq!(
        report.invoices[0].line_items[0].description,
        "Base charge (period 1)"
    );
}

/// A usage plan given as a pricing program: shipments go through the embedded database and the
/// predefined query, with local weekdays (a 23:40 shipment in New York is on its local day),
/// local period bounds, DST, and credited returns on the weekday of their shipment.
#[tokio::test]
async fn usage_program_through_the_database() {
    let value = json!({
        "account": { "id": "acct_1", "abstracted": false, "timezone": "America/New_York" },
        "plan": {
            "type": "usage", "nickname": "Per shipment", "currency": "USD", "interval": "month",
            "program": {
                "version": 1, "currency": "USD", "interval": { "unit": "month", "count": 1 },
                "usage": [ {
                    "description": "Usage (Shipment) charge", "metric": "shipments",
                    "pricing": { "kind": "per_unit", "rates": {
                        "monday": "0.80", "tuesday": "0.80", "wednesday": "0.80", "thursday": "0.80",
                        "friday": "0.80", "saturday": "1.60", "sunday": "1.60" } },
                    "returns": "credited"
                } ]
            }
        },
        "subscription": { "start": "2026-01-15", "quantity": 4 },
        "periods": 2,
        "tax": { "rate": "0.0825" },
        "shipments": [
            { "id": "s1", "shipped_at": "2026-01-16T04:40:00Z", "quantity": 1 },
            { "id": "s2", "shipped_at": "2026-01-17T04:40:00Z", "quantity": 1 },
            { "id": "s3", "shipped_at": "2026-01-18T04:40:00Z", "quantity": 1 },
            { "id": "s4", "shipped_at": "2026-01-19T04:40:00Z", "quantity": 1 },
            { "id": "s5", "shipped_at": "2026-01-15T04:59:00Z", "quantity": 1 },
            { "id": "s6", "shipped_at": "2026-02-15T04:59:00Z", "quantity": 1 },
            { "id": "s7", "shipped_at": "2026-02-15T05:00:00Z", "quantity": 1 },
            { "id": "s8", "shipped_at": "2026-03-09T03:40:00Z", "quantity": 1 },
            { "id": "s9", "shipped_at": "2026-03-15T03:59:00Z", "quantity": 1 },
            { "id": "s10", "shipped_at": "2026-03-15T04:00:00Z", "quantity": 1 }
        ],
        "returns": [
            { "id": "r1", "shipment_id": "s3", "returned_at": "2026-01-20T12:00:00Z", "quantity": 1 },
            { "id": "r2", "shipment_id": "s1", "returned_at": "2026-02-20T12:00:00Z", "quantity": 1 }
        ]
    });
    let report = run(&value).await;
    assert_eq!(report.invoice_timing, InvoiceTiming::AtRenewal);
    // Period 1 [Jan 15, Feb 15): s1 Thu 0.80, s2 Fri 0.80, s3 Sat 1.60, s4 Sun 1.60, s6 Sat 1.60
    // (23:59 on Feb 14 local); r1 takes a Saturday off: 4.80, tax 0.396 -> 0.40.
    // Period 2 [Feb 15, Mar 15): s7 Sun, s8 Sun (23:40 EDT), s9 Sat (23:59 EDT) at 1.60; r2 takes a
    // Thursday (its shipment's weekday) off: 4.00, tax 0.33. s5 and s10 fall outside both periods.
    // Quantity does not multiply usage.
    assert_eq!(
        rows(&report),
        [
            row([
                "2026-02-15",
                "2026-01-15",
                "2026-02-15",
                "4.80",
                "0.40",
                "5.20"
            ]),
            row([
                "2026-03-15",
                "2026-02-15",
                "2026-03-15",
                "4.00",
                "0.33",
                "4.33"
            ]),
        ]
    );
    assert_eq!(
        report.invoices[0].line_items[0].description,
        "Usage (Shipment) charge (4 shipments)"
    );
    assert_eq!(
        report.invoices[1].line_items[0].description,
        "Usage (Shipment) charge (2 shipments)"
    );
}
