//! What the checks build and read: fixture accounts, plans, subscriptions, invoices, events and
//! usage rows, and the assertions they share.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::json;

use crate::agent::{PayloadInvoice, PayloadLineItem};
use crate::audit::{AuditAction, AuditEvent, SubjectKind};
use crate::basis::{DaysBasis, LineBasis, PriceBasis, RecurringBasis, StepBasis};
use crate::calendar::{BillingInterval, IntervalUnit};
use crate::error::{Error, Result};
use crate::invoice::{Invoice, InvoiceReview, IssuedInvoice, LineItem, SettledSpan};
use crate::money::{Currency, Money};
use crate::plan::{Account, Plan, PlanType, PlanVersion};
use crate::pricing::{
    ChargeKind, Phase, PricingProgram, RecurringCharge, ReturnsPolicy, StepChange, UsageCharge,
    UsageMetric, UsagePricing, WeekdayRates,
};
use crate::revrec::RevenueEntry;
use crate::store::{FixtureStore, InvoiceQuery, StoreStats, UsageRequest};
use crate::subscription::{
    BillingReason, Customer, InvoiceStatus, Quantity, Subscription, SubscriptionStatus, invoice_id,
};
use crate::tax::{TaxAddress, TaxLine};
use crate::usage::{PeriodUsage, Return, SHIPMENTS_BY_WEEKDAY, Shipment};

/// An RFC 3339 instant.
pub(super) fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("bad fixture instant {text:?}: {error}"))
        .with_timezone(&Utc)
}

/// A subscription quantity (1 to 100,000).
pub(super) fn quantity(count: u32) -> Quantity {
    Quantity::new(count).expect("a quantity from 1 to 100000")
}

pub(super) fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a fixture date")
}

pub(super) fn add_months(day: NaiveDate, months: u32) -> NaiveDate {
    day.checked_add_months(Months::new(months))
        .expect("a fixture date")
}

pub(super) fn currency(code: &str) -> Currency {
    Currency::parse(code).expect("a fixture currency")
}

pub(super) fn money(minor: i64, currency: Currency) -> Money {
    Money::from_minor(minor, currency)
}

pub(super) fn account(id: &str, timezone: Tz, tax_inclusive: bool) -> Account {
    Account {
        id: id.to_owned(),
        abstracted: true,
        timezone,
        tax_inclusive,
        locale: Default::default(),
    }
}

pub(super) fn customer(account_id: &str, id: &str) -> Customer {
    Customer {
        account_id: account_id.to_owned(),
        id: id.to_owned(),
        tax_address: Some(TaxAddress {
            country: "US".into(),
            region: Some("CA".into()),
            postal_code: Some("94103".into()),
        }),
        tax_exempt: false,
    }
}

/// A hybrid plan: a stepping base fee with a 20% intro discount, and a per-unit usage charge
/// with Sunday unpriced, all rates as exact decimals.
pub(super) fn plan_version(account_id: &str, plan_id: &str, version: u32) -> PlanVersion {
    let usd = currency("USD");
    let interval = BillingInterval {
        unit: IntervalUnit::Month,
        count: 1,
    };
    let mut program = PricingProgram::new(usd, interval);
    program.recurring.push(RecurringCharge {
        description: "Base charge — ü".into(),
        phases: vec![
            Phase {
                from_period: 1,
                to_period: Some(3),
                amount: Decimal::new(499, 2),
                step: None,
                floor: None,
                ceiling: None,
                discount_percent: Some(Decimal::new(200, 1)),
            },
            Phase {
                from_period: 4,
                to_period: None,
                amount: Decimal::new(14_990, 3),
                step: None,
                floor: Some(Decimal::new(1000, 2)),
                ceiling: Some(Decimal::new(30, 0)),
                discount_percent: None,
            },
        ],
    });
    let mut rates = WeekdayRates::uniform(Decimal::new(725, 4));
    rates.0[5] = Some(Decimal::new(1, 2));
    rates.0[6] = None;
    program.usage.push(UsageCharge {
        description: "Usage (Shipment) charge".into(),
        metric: UsageMetric::Units,
        pricing: UsagePricing::PerUnit { rates },
        returns: ReturnsPolicy::Credited,
        allowance: 20,
        minimum: Some(Decimal::new(500, 2)),
        cap: Some(Decimal::new(99_999_999, 2)),
    });
    let mut metadata = serde_json::Map::new();
    metadata.insert("team".into(), json!("billing ü"));
    metadata.insert("limits".into(), json!({"seats": 10, "rate": "0.0725"}));
    PlanVersion {
        account_id: account_id.to_owned(),
        plan: Plan {
            id: Some(plan_id.to_owned()),
            product_id: Some("prod_1".into()),
            nickname: format!("Hybrid v{version}"),
            amount: 0,
            currency: usd,
            interval: IntervalUnit::Month,
            interval_count: 1,
            auto_renew: true,
            metadata,
            plan_type: PlanType::Hybrid,
            ai_prompt: None,
            usage_query: Some(SHIPMENTS_BY_WEEKDAY.into()),
            program: Some(program.clone()),
        },
        version,
        program,
        interpreter: (version == 1).then(|| "offline".to_owned()),
        created_at: at("2026-01-02T03:04:05.123456Z") + chrono::Duration::days(i64::from(version)),
    }
}

/// An active subscription of `customer_id` on `plan_1`, at revision 1.
pub(super) fn subscription(
    account_id: &str,
    id: &str,
    customer_id: &str,
    next_invoice_at: Option<DateTime<Utc>>,
) -> Subscription {
    Subscription {
        account_id: account_id.to_owned(),
        id: id.to_owned(),
        customer_id: customer_id.to_owned(),
        plan_id: "plan_1".into(),
        quantity: quantity(3),
        start_date: date(2026, 1, 15),
        status: SubscriptionStatus::Active,
        current_period: 1,
        current_period_start: date(2026, 1, 15),
        current_period_end: date(2026, 2, 15),
        next_invoice_period: 2,
        next_invoice_at,
        changes: Default::default(),
        billed_usage: Default::default(),
        revision: 1,
        created_at: at("2026-01-15T05:00:00.654321Z"),
        updated_at: at("2026-01-15T05:00:01.000001Z"),
    }
}

/// The next state of `subscription`: one revision on, one more copy.
pub(super) fn next_state(subscription: &Subscription) -> Subscription {
    let mut next = subscription.clone();
    next.revision += 1;
    next.quantity = quantity(next.quantity.get() + 1);
    next.updated_at += chrono::Duration::microseconds(1_000_001);
    // The usage history is written with the state, and read back whole.
    next.billed_usage = crate::late_usage::UsageHistory(vec![crate::late_usage::BilledPeriod {
        period: subscription.next_invoice_period,
        plan_id: subscription.plan_id.clone(),
        plan_version: 1,
        query: "shipments_by_weekday".into(),
        start: subscription.current_period_start,
        end: subscription.current_period_end,
        from: at("2026-01-15T05:00:00Z"),
        to: at("2026-02-15T05:00:00Z"),
        served: crate::proration::Served::whole(subscription.quantity, 31),
        invoice_id: invoice_id(&subscription.id, subscription.current_period_start),
        usage: crate::usage::PeriodUsage {
            shipments: [3, 0, 0, 0, 0, 0, 1],
            ..Default::default()
        },
        age: 0,
    }]);
    next
}

/// An invoice of `subscription` for the month from `period_start`: two line items near
/// `i64::MAX / 1000` minor units (smaller in a currency without decimals), two tax lines at 7.25%
/// and 1% (included in the amounts or added to them), revenue over the months it spans.
pub(super) fn invoice(
    subscription: &Subscription,
    period_start: NaiveDate,
    currency: Currency,
    inclusive: bool,
) -> IssuedInvoice {
    let period_end = add_months(period_start, 1);
    let (base, usage) = if currency.exponent() == 0 {
        (9_000_000_000_000, 123_456_789)
    } else {
        (9_000_000_000_000_000, 123_456_789_012_345)
    };
    let line_items = vec![
        LineItem::new(
            "Base charge (month 1) — ü",
            ChargeKind::Recurring,
            money(base, currency),
            // A basis with every part (a step, a ceiling, a discount, days) round-trips whole.
            Some(LineBasis::Recurring(RecurringBasis {
                charge: "Base charge — ü".into(),
                period_index: 3,
                period_noun: "month".into(),
                price: PriceBasis {
                    base: Decimal::new(5, 0),
                    step: Some(StepBasis {
                        steps: 2,
                        every_periods: 1,
                        change: StepChange::Percent(Decimal::new(25, 1)),
                    }),
                    ceiling: Some(Decimal::new(600, 2)),
                    floor: None,
                    discount_percent: Some(Decimal::new(10, 0)),
                    unit_price: money(base, currency).to_major(),
                },
                quantity: 1,
                days: Some(DaysBasis {
                    days: 31,
                    period_days: 31,
                }),
            })),
        ),
        LineItem::new(
            "Usage (Shipment) charge",
            ChargeKind::Usage,
            money(usage, currency),
            None,
        ),
    ];
    let subtotal = money(base + usage, currency);
    let rates = [
        ("State sales tax", Decimal::new(725, 4)),
        ("City tax", Decimal::new(1, 2)),
    ];
    let round = |amount: Decimal| Money::round_from_major(amount, currency).expect("fixture tax");
    let tax_lines: Vec<TaxLine> = if inclusive {
        let combined = Decimal::ONE + rates[0].1 + rates[1].1;
        let net = round(subtotal.to_major() / combined);
        let tax = subtotal.checked_sub(net).expect("fixture tax");
        let first = round(tax.to_major() * rates[0].1 / (combined - Decimal::ONE));
        let second = tax.checked_sub(first).expect("fixture tax");
        vec![
            TaxLine {
                name: rates[0].0.into(),
                rate: rates[0].1,
                amount: first,
            },
            TaxLine {
                name: rates[1].0.into(),
                rate: rates[1].1,
                amount: second,
            },
        ]
    } else {
        rates
            .iter()
            .map(|(name, rate)| TaxLine {
                name: (*name).into(),
                rate: *rate,
                amount: round(subtotal.to_major() * rate),
            })
            .collect()
    };
    let tax = Money::checked_sum(currency, tax_lines.iter().map(|line| line.amount))
        .expect("fixture tax");
    let total = if inclusive {
        subtotal
    } else {
        subtotal.checked_add(tax).expect("fixture total")
    };
    let revenue = total.checked_sub(tax).expect("fixture revenue");
    let month_end = add_months(period_start.with_day(1).expect("a first day"), 1);
    let mut spans = vec![(period_start, month_end.min(period_end))];
    if month_end < period_end {
        spans.push((month_end, period_end));
    }
    let weights: Vec<u64> = spans
        .iter()
        .map(|(start, end)| (*end - *start).num_days() as u64)
        .collect();
    let parts = revenue.allocate(&weights).expect("fixture revenue");
    let revenue_schedule = spans
        .iter()
        .zip(parts)
        .zip(&weights)
        .map(|(((start, end), amount), days)| RevenueEntry {
            month: start.format("%Y-%m").to_string(),
            start: *start,
            end: *end,
            days: *days as u32,
            amount,
        })
        .collect();
    let period_index = subscription.next_invoice_period;
    IssuedInvoice {
        id: invoice_id(&subscription.id, period_start),
        account_id: subscription.account_id.clone(),
        subscription_id: subscription.id.clone(),
        customer_id: subscription.customer_id.clone(),
        plan_id: subscription.plan_id.clone(),
        plan_version: 1,
        quantity: subscription.quantity.get(),
        billing_reason: if period_index <= 1 {
            BillingReason::SubscriptionCreate
        } else {
            BillingReason::SubscriptionCycle
        },
        status: if inclusive {
            InvoiceStatus::Held
        } else {
            InvoiceStatus::Open
        },
        created_at: at("2026-01-15T05:00:00.999999Z"),
        // Kept with the invoice as written: a store must give it back whole.
        usage: crate::late_usage::InvoiceUsage {
            period: Some(crate::usage::PeriodUsage {
                shipments: [1, 2, 3, 4, 5, 6, 7],
                units: [2, 4, 6, 8, 10, 12, 14],
                returned_shipments: [0, 0, 1, 0, 0, 0, 0],
                returned_units: [0, 0, 2, 0, 0, 0, 0],
            }),
            late: Vec::new(),
        },
        // The held one carries both answers and a settled line, so every store's round trip
        // covers them.
        settled: if inclusive {
            vec![SettledSpan {
                position: 1,
                start: period_start,
                end: period_end,
            }]
        } else {
            Vec::new()
        },
        review: inclusive.then(|| review(currency, period_start, period_end)),
        invoice: Invoice {
            period_index,
            issue_date: period_start,
            period_start,
            period_end,
            currency,
            line_items,
            subtotal,
            tax_lines,
            tax,
            tax_inclusive: inclusive,
            total,
            revenue_schedule,
        },
    }
}

/// An event about `subject_id`, at a whole-microsecond instant.
pub(super) fn event(
    account_id: &str,
    action: AuditAction,
    subject_kind: SubjectKind,
    subject_id: &str,
    correlation_id: Option<&str>,
) -> AuditEvent {
    let event = AuditEvent::new(
        at("2026-01-15T05:00:00.123456Z"),
        account_id,
        "user_ü",
        action,
        subject_kind,
        subject_id,
    );
    match correlation_id {
        Some(correlation) => event.correlated(Some("run_1"), correlation),
        None => event,
    }
}

pub(super) fn subscription_event(subscription: &Subscription, correlation_id: &str) -> AuditEvent {
    event(
        &subscription.account_id,
        AuditAction::SubscriptionCreated,
        SubjectKind::Subscription,
        &subscription.id,
        Some(correlation_id),
    )
}

pub(super) fn invoice_event(invoice: &IssuedInvoice, correlation_id: &str) -> AuditEvent {
    event(
        &invoice.account_id,
        AuditAction::InvoiceIssued,
        SubjectKind::Invoice,
        &invoice.id,
        Some(correlation_id),
    )
    .with_data(json!({ "total": invoice.invoice.total.to_major().to_string() }))
}

/// An account (New York), a customer `cus_1` and version 1 of `plan_1`, each written with one
/// event: three events in all.
pub(super) async fn setup(store: &Arc<dyn FixtureStore>, account_id: &str) {
    let acct = account(account_id, chrono_tz::America::New_York, false);
    store
        .put_account(
            &acct,
            &[event(
                account_id,
                AuditAction::AccountSaved,
                SubjectKind::Account,
                account_id,
                None,
            )],
        )
        .await
        .expect("put_account");
    store
        .put_customer(
            &customer(account_id, "cus_1"),
            &[event(
                account_id,
                AuditAction::CustomerSaved,
                SubjectKind::Customer,
                "cus_1",
                None,
            )],
        )
        .await
        .expect("put_customer");
    let inserted = store
        .insert_plan_version(
            &plan_version(account_id, "plan_1", 1),
            &[event(
                account_id,
                AuditAction::PlanCreated,
                SubjectKind::Plan,
                "plan_1",
                None,
            )],
        )
        .await
        .expect("insert_plan_version");
    assert!(inserted, "version 1 of a new plan must be written");
}

pub(super) async fn stats(store: &Arc<dyn FixtureStore>) -> StoreStats {
    store.stats().await.expect("stats")
}

pub(super) async fn all_events(store: &Arc<dyn FixtureStore>) -> Vec<AuditEvent> {
    store
        .pending_events(u32::MAX)
        .await
        .expect("pending_events")
}

pub(super) async fn invoices_of(
    store: &Arc<dyn FixtureStore>,
    account_id: &str,
    id: &str,
) -> Vec<IssuedInvoice> {
    store
        .invoices(&InvoiceQuery {
            account_id: Some(account_id.to_owned()),
            subscription_id: Some(id.to_owned()),
            limit: None,
            ..Default::default()
        })
        .await
        .expect("invoices")
}

pub(super) async fn read_subscription(
    store: &Arc<dyn FixtureStore>,
    account_id: &str,
    id: &str,
) -> Subscription {
    store
        .subscription(account_id, id)
        .await
        .expect("subscription")
        .unwrap_or_else(|| panic!("subscription {id:?} of {account_id:?} is missing"))
}

/// Panics unless `result` is [`Error::InvalidInput`] on `field` with a reason mentioning
/// `mentions`.
pub(super) fn expect_invalid<T: fmt::Debug>(
    result: Result<T>,
    field: &str,
    mentions: &str,
    what: &str,
) {
    match result {
        Err(Error::InvalidInput {
            field: found,
            reason,
        }) => {
            assert_eq!(
                found, field,
                "{what}: InvalidInput names the wrong field (reason: {reason})"
            );
            assert!(
                reason.contains(mentions),
                "{what}: the reason {reason:?} should mention {mentions:?}"
            );
        }
        other => panic!("{what}: expected InvalidInput on {field:?}, got {other:?}"),
    }
}

/// Panics unless `result` is [`Error::Conflict`] on `field` with a reason mentioning `mentions`:
/// what the call would create already exists.
pub(super) fn expect_conflict<T: fmt::Debug>(
    result: Result<T>,
    field: &str,
    mentions: &str,
    what: &str,
) {
    match result {
        Err(Error::Conflict {
            what: found,
            reason,
        }) => {
            assert_eq!(
                found, field,
                "{what}: Conflict names the wrong field (reason: {reason})"
            );
            assert!(
                reason.contains(mentions),
                "{what}: the reason {reason:?} should mention {mentions:?}"
            );
        }
        other => panic!("{what}: expected Conflict on {field:?}, got {other:?}"),
    }
}

/// Panics unless `result` is [`Error::NotFound`] of `what_kind` `id`.
pub(super) fn expect_not_found<T: fmt::Debug>(
    result: Result<T>,
    what_kind: &str,
    id: &str,
    what: &str,
) {
    match result {
        Err(Error::NotFound {
            what: kind,
            id: found,
        }) => {
            assert_eq!(
                (kind, found.as_str()),
                (what_kind, id),
                "{what}: NotFound names the wrong thing"
            );
        }
        other => panic!("{what}: expected NotFound {what_kind} {id:?}, got {other:?}"),
    }
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("serialise")
}

/// One customer's shipments and returns.
pub(super) type Rows = (Vec<Shipment>, Vec<Return>);

pub(super) fn shipment(id: &str, shipped_at: &str, quantity: u32) -> Shipment {
    Shipment {
        id: id.to_owned(),
        shipped_at: at(shipped_at),
        quantity,
    }
}

pub(super) fn return_of(id: &str, shipment_id: &str, returned_at: &str, quantity: u32) -> Return {
    Return {
        id: id.to_owned(),
        shipment_id: shipment_id.to_owned(),
        returned_at: at(returned_at),
        quantity,
    }
}

pub(super) fn usage_request(
    account_id: &str,
    customer_id: &str,
    from: &str,
    to: &str,
    tz: Tz,
) -> UsageRequest {
    UsageRequest {
        query: SHIPMENTS_BY_WEEKDAY.to_owned(),
        account_id: account_id.to_owned(),
        customer_id: customer_id.to_owned(),
        from: at(from),
        to: at(to),
        tz,
    }
}

pub(super) async fn insert_rows(
    store: &Arc<dyn FixtureStore>,
    account_id: &str,
    customer_id: &str,
    rows: &Rows,
) {
    store
        .insert_shipments(account_id, customer_id, &rows.0)
        .await
        .expect("insert_shipments");
    store
        .insert_returns(account_id, customer_id, &rows.1)
        .await
        .expect("insert_returns");
}

pub(super) async fn read_usage(
    store: &Arc<dyn FixtureStore>,
    request: &UsageRequest,
) -> PeriodUsage {
    store
        .usage(request)
        .await
        .unwrap_or_else(|error| panic!("usage {request:?}: {error}"))
}

/// A model's answer that disagreed with the program, as a held invoice keeps it.
pub(super) fn review(currency: Currency, start: NaiveDate, end: NaiveDate) -> InvoiceReview {
    let midnight = |day: NaiveDate| {
        chrono::FixedOffset::west_opt(5 * 3600)
            .expect("an offset")
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
            .single()
            .expect("one midnight")
    };
    InvoiceReview {
        model: PayloadInvoice {
            amount: Decimal::new(1250, 2),
            currency,
            start_date: midnight(start),
            end_date: midnight(end),
            line_items: vec![PayloadLineItem {
                description: "Base charge — ü".into(),
                amount: Decimal::new(1250, 2),
            }],
        },
        differences: vec!["the model's amount is 12.50 but the program's is 10.00".into()],
    }
}
