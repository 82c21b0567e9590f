// The shapes of @pelcro/ai-billing's API, generated from the Rust types' JSON Schemas
// (ai_billing::schema::api_definitions). Do not edit: run
// `UPDATE_GENERATED=1 cargo test -p ai-billing-node --test generated`.

/** A platform account: the tenant that owns plans and subscriptions. */
export interface Account {
  /** The account's id. */
  id: string;
  /** Whether the account is abstracted; only abstracted accounts may have AI plans. */
  abstracted: boolean;
  /**
   * The account's IANA time zone: periods, usage windows and weekdays are local to it.
   * Serialised as its IANA name (America/New_York).
   */
  timezone: string;
  /**
   * Whether the account's prices already include tax (a tax-inclusive site): tax is then the
   * part of each invoice's amount that is tax, not added on top.
   */
  tax_inclusive?: boolean;
  /** How the account's documents write dates and money (a BCP 47 tag, en-US when absent). */
  locale?: Locale;
}

/** One account. */
export interface AccountRef {
  /** The account. */
  account_id: string;
}

/** An endpoint to add. */
export interface AddWebhook {
  /** Its id, unique in the store. */
  id: string;
  /** Where events are posted: http:// or https://, without credentials. */
  url: string;
  /** The signing secret, whsec_<base64> (24 to 64 bytes); a fresh one when absent. */
  secret?: string | null;
  /** Only these event types; every type when empty. */
  types?: EventType[];
  /** Only this account's events, when given. */
  account_id?: string | null;
  /** Where deliveries start (default now). */
  from?: DeliverFrom;
}

/** An endpoint just added, with its secret: the only answer that carries it. */
export interface AddedWebhook {
  /** The endpoint. */
  webhook: WebhookInfo;
  /**
   * The signing secret, whsec_<base64>: configure the receiver with it; it is not shown
   * again.
   */
  secret: string;
}

/** What the billing agent answers for one period. */
export interface AgentPayload {
  /** The subscription's current period after this action. */
  subscription_updates: SubscriptionUpdates;
  /** The invoice to issue. */
  invoice: PayloadInvoice;
}

/**
 * What shipping the audit trail after a run did. Events that did not go stay in the outbox
 * for the next run (or ai-billing audit ship); shipping never fails a run.
 */
export interface AuditShipping {
  /** Events stored by OpenSearch. */
  shipped: number;
  /** Events OpenSearch refused (kept with the reason). */
  rejected: number;
  /** Events still waiting. */
  pending: number;
  /** Why shipping stopped early, if it did. */
  error?: string | null;
}

/**
 * One period a subscription was billed for, and the usage it has been billed on so far (the
 * invoice's, plus any late usage settled since).
 */
export interface BilledPeriod {
  /** The plan's period index. */
  period: number;
  /** The plan it was billed by... */
  plan_id: string;
  /** ...at this version: late usage is priced by the program that billed the period. */
  plan_version: number;
  /** The plan's usage query, which read the period. */
  query: string;
  /** The local dates it billed, [start, end). */
  start: string;
  /** The day after the last day it billed. */
  end: string;
  /** Its usage window in UTC, as the plan's usage query read it. */
  from: string;
  /** The end of the window (exclusive). */
  to: string;
  /** The days it served, by quantity: late usage is priced for the same days. */
  served: Served;
  /** The invoice that billed it: a late return is credited against it. */
  invoice_id: string;
  /** What it has been billed on so far. */
  usage: PeriodUsage;
  /** Renewals since it was billed: 0 for the one just billed. */
  age: number;
}

/** A billing interval: count units (interval + interval_count on a plan). */
export interface BillingInterval {
  /** The unit. */
  unit: IntervalUnit;
  /** How many units make one period; at least 1. */
  count: number;
}

/** How an invoice's payload is written. */
export type BillingMode = "compiled" | "agent" | "agent_checked";

/** Why an invoice was issued, as the platform spells it. */
export type BillingReason = "subscription_create" | "subscription_cycle" | "subscription_end";

/** A scenario's cancellation. */
export interface CancelChange {
  /** period_end (the default), immediately or a local date. */
  effective?: Effective;
  /** Whether unserved days billed are credited (true when absent). */
  credit_unused?: boolean;
}

/** A cancellation. */
export interface CancelSubscription {
  /** The account. */
  account_id: string;
  /** The subscription. */
  subscription_id: string;
  /**
   * When service ends: period_end (the default), immediately (the next local midnight)
   * or a local date.
   */
  effective?: Effective;
  /** Whether the unserved days of a period already billed are credited (true when absent). */
  credit_unused?: boolean;
  /** Who cancels, for the audit trail (api when absent). */
  actor?: string;
  /**
   * The caller's key for this request (the platform's Idempotency-Key): made again with the
   * same key and body, it answers what it answered the first time and writes nothing new;
   * with another body, it is CONFLICT. Without one, a retry is a new request.
   */
  request_id?: string | null;
}

/**
 * The settlement of a change on one charge of a period billed before: what the charge was due
 * before the change and after it; the line is the difference, less what was netted against
 * increases not yet invoiced.
 */
export interface ChangeBasis {
  /** The change, in words ("Quantity 2 -> 3 from 2026-04-11"). */
  change: string;
  /** The charge it settles. */
  charge: string;
  /** The period it settles. */
  period_index: number;
  /** The period's first day. */
  period_start: string;
  /** The day after its last day. */
  period_end: string;
  /** The charge's lines due before the change. */
  before: RecurringBasis[];
  /** The charge's lines due after it. */
  after: RecurringBasis[];
  /** What was taken off the difference against an opposite settlement not yet invoiced. */
  netted?: string;
}

/** A plan change. */
export interface ChangePlan {
  /** The account. */
  account_id: string;
  /** The subscription. */
  subscription_id: string;
  /** The plan to bill by (saved; its latest version bills, in the same currency). */
  plan_id: string;
  /**
   * When the new plan starts: period_end (the default: it bills from the next period, its
   * period 1), immediately or a local date (the old plan's billing ends there as an
   * immediate cancellation's would).
   */
  effective?: Effective;
  /** Who changes it, for the audit trail (api when absent). */
  actor?: string;
  /**
   * The caller's key for this request (the platform's Idempotency-Key): made again with the
   * same key and body, it answers what it answered the first time and writes nothing new;
   * with another body, it is CONFLICT. Without one, a retry is a new request.
   */
  request_id?: string | null;
}

/** A quantity change. */
export interface ChangeQuantity {
  /** The account. */
  account_id: string;
  /** The subscription. */
  subscription_id: string;
  /** The new quantity, 1 to MAX_QUANTITY. */
  quantity: number;
  /**
   * none (the default): the new quantity applies from the next invoice issued; prorate:
   * it holds from effective, and the days at each quantity are billed.
   */
  proration?: Proration;
  /**
   * With prorate: when the new quantity takes effect (immediately, the default: the next
   * local midnight; or a local date).
   */
  effective?: Effective;
  /** Who changes it, for the audit trail (api when absent). */
  actor?: string;
  /**
   * The caller's key for this request (the platform's Idempotency-Key): made again with the
   * same key and body, it answers what it answered the first time and writes nothing new;
   * with another body, it is CONFLICT. Without one, a retry is a new request.
   */
  request_id?: string | null;
}

/** A subscription after a change, and the credit note the change issued. */
export interface ChangedSubscription {
  /** The subscription as stored. */
  subscription: Subscription;
  /** The credit note of a decrease on a period already billed. */
  credit_note?: CreditNote | null;
}

/**
 * What has been changed on a subscription and is still in force. Empty for a subscription
 * nothing has changed, which bills every period whole at its quantity.
 */
export interface Changes {
  /** The cancellation, once one is made (until it is withdrawn). */
  end?: ScheduledEnd | null;
  /** The pauses that still concern a period not yet settled, in date order, never overlapping. */
  pauses?: Pause[];
  /**
   * The quantity by date, in date order, once it has changed; the first entry holds from
   * before any period still concerned.
   */
  quantities?: QuantityFrom[];
  /** Increases settled on billed periods, for the next invoice. */
  increases?: Increase[];
  /** The plan's term, once a plan change took effect (the subscription's start otherwise). */
  term?: Term | null;
  /** A plan change waiting for its effective date. */
  switch?: PlanSwitch | null;
  /**
   * How many credit notes the subscription has been issued: the next one's number is this
   * plus one.
   */
  credit_notes?: number;
}

/** Which kind of charge a line item comes from. */
export type ChargeKind = "recurring" | "usage";

/** A subscription to create. */
export interface CreateSubscription {
  /** The account. */
  account_id: string;
  /** The new subscription's id, unique in the account. */
  id: string;
  /** The customer billed (must exist). */
  customer_id: string;
  /** The plan (its latest version bills the first invoice). */
  plan_id: string;
  /** Copies or seats, 1 to MAX_QUANTITY (1 when absent). */
  quantity?: number;
  /** The local date the first period starts; may be in the past or the future. */
  start_date: string;
  /** Who creates it, for the audit trail (api when absent). */
  actor?: string;
  /**
   * The caller's key for this request (the platform's Idempotency-Key): made again with the
   * same key and body, it answers what it answered the first time and writes nothing new;
   * with another body, it is CONFLICT. Without one, the subscription's id keys it.
   */
  request_id?: string | null;
}

/** A created subscription and its first invoice, if it was billed at creation. */
export interface CreatedSubscription {
  /** The subscription as stored. */
  subscription: Subscription;
  /**
   * The first invoice (billing_reason: subscription_create), for plans billed in advance
   * whose start date has come.
   */
  invoice?: IssuedInvoice | null;
}

/** What a credit note credits of one invoice line. */
export interface CreditBasis {
  /** The invoice credited. */
  invoice_id: string;
  /** The line's position on it, from 1. */
  line: number;
  /** The line's amount on the invoice. */
  line_amount: string;
  /** What earlier credit notes credited on the line. */
  credited_before?: string;
  /** How much of what is left this note credits. */
  credited: Credited;
}

/**
 * A manual credit note on an open invoice: chosen lines, or an amount spread over the lines
 * by what each has left (exactly one of the two). Never more than is left to credit: the
 * invoice's subtotal (and total) less every credit note against it, each line likewise. Tax at
 * the invoice's rates; the revenue of the credited share reversed over the days it concerns.
 */
export interface CreditInvoice {
  /** The account. */
  account_id: string;
  /** The open invoice. */
  invoice_id: string;
  /** The lines credited, each all it has left or an amount of it. */
  lines?: CreditLine[];
  /** An amount to credit over the invoice's lines, in minor units (cents), before tax. */
  amount?: number | null;
  /** Who credits it, for the audit trail (api when absent). */
  actor?: string;
  /** Why, for the audit trail (required). */
  reason: string;
  /**
   * The caller's key for this request (the platform's Idempotency-Key): made again with the
   * same key and body, it answers what it answered the first time and writes nothing new;
   * with another body, it is CONFLICT. Without one, a retry is a new request.
   */
  request_id?: string | null;
}

/** One line credited. */
export interface CreditLine {
  /** The line's number on the invoice, from 1. */
  line: number;
  /** How much of it, in minor units (cents), before tax; all it has left when absent. */
  amount?: number | null;
}

/** A credit note against an issued invoice. Its amounts are positive: what is credited. */
export interface CreditNote {
  /**
   * cn_{subscription}_{number}: derived from the subscription and its number, so the same
   * credit note always has the same id.
   */
  id: string;
  /** The subscription's credit notes are numbered from 1. */
  number: number;
  /** The account it belongs to. */
  account_id: string;
  /** The subscription whose invoice it credits. */
  subscription_id: string;
  /** The customer credited. */
  customer_id: string;
  /** The invoice it credits. */
  invoice_id: string;
  /** The start of the period that invoice billed. */
  invoice_period_start: string;
  /** The local date it is issued: the effective date of the change that made it. */
  issue_date: string;
  /** Why: cancel, pause, quantity, plan_change, or manual. */
  reason: string;
  /** The invoice's currency. */
  currency: string;
  /** What is credited, each line rounded once. */
  line_items: LineItem[];
  /** The sum of the lines. */
  subtotal: string;
  /** The tax credited, at the invoice's rates. */
  tax_lines: TaxLine[];
  /** The sum of the tax lines. */
  tax: string;
  /** Whether the lines include the tax, as the invoice's did. */
  tax_inclusive?: boolean;
  /** What the customer is credited. */
  total: string;
  /**
   * The revenue taken back, per calendar month over the days it concerns (positive amounts:
   * what is reversed).
   */
  revenue_reversed: RevenueEntry[];
  /** When it was written. */
  created_at: string;
}

/** A page of credit notes. */
export interface CreditNotePage {
  /** The credit notes, in the order asked. */
  data: CreditNote[];
  /** Pass as cursor for the next page; null on the last page. */
  next_cursor?: string | null;
}

/**
 * Which credit notes to list: an account's, or one subscription's, in (subscription id, number)
 * order.
 */
export interface CreditNoteQuery {
  /** The account. */
  account_id: string;
  /** Only this subscription's. */
  subscription_id?: string | null;
  /** At most this many (all when null). */
  limit?: number | null;
  /** Only this customer's. */
  customer_id?: string | null;
  /** Only those crediting this invoice. */
  invoice_id?: string | null;
  /** Only those issued on or after this local date... */
  issued_from?: string | null;
  /** ...and on or before this one. */
  issued_to?: string | null;
}

/** One credit note of an account. */
export interface CreditNoteRef {
  /** The account. */
  account_id: string;
  /** The credit note. */
  credit_note_id: string;
}

/** How much of a line's rest a credit note credits. */
export type Credited = {
  how: "rest";
} | {
  how: "asked";
  /** The amount. */
  amount: string;
} | {
  how: "share";
  /** The amount the credit note was asked for. */
  requested: string;
  /** What this line has left to credit. */
  weight: string;
  /** What all the lines have left. */
  total_weight: string;
  /** The remainder given to this line so the shares sum to the request. */
  remainder?: string;
};

/** A customer of an account: who subscriptions bill, and where they are taxed. */
export interface Customer {
  /** The account the customer belongs to. */
  account_id: string;
  /** The customer's id, unique in the account. */
  id: string;
  /** Where the customer is taxed; no tax applies when absent. */
  tax_address?: TaxAddress | null;
  /** A tax-exempt customer is never taxed. */
  tax_exempt?: boolean;
}

/** A page of customers. */
export interface CustomerPage {
  /** The customers, by id. */
  data: Customer[];
  /** Pass as cursor for the next page; null on the last page. */
  next_cursor?: string | null;
}

/** The days of a partial period: days of period_days. */
export interface DaysBasis {
  /** The days billed. */
  days: number;
  /** The days of the whole period (the proration denominator). */
  period_days: number;
}

/** Where a new endpoint's deliveries start. */
export type DeliverFrom = "now" | "start";

/** One pass of the delivery pump, and its policy (each absent field takes its default). */
export interface DeliverRequest {
  /** At most this many events per endpoint in this pass (default: until caught up). */
  max_events?: number | null;
  /** Failures in a row after which an endpoint is disabled (default 10). */
  max_failures?: number | null;
  /** Milliseconds one request may take (default 15,000). */
  timeout_ms?: number | null;
  /**
   * Milliseconds to wait after a first failure, doubling after each further one (default
   * 5,000).
   */
  initial_backoff_ms?: number | null;
  /** The longest wait between two attempts, in milliseconds (default 3,600,000). */
  max_backoff_ms?: number | null;
}

/** What a deliver_webhooks call did. */
export interface DeliverySummary {
  /** Enabled endpoints that were due and tried. */
  endpoints: number;
  /** Events delivered (answered 2xx). */
  delivered: number;
  /** Attempts that failed (at most one per endpoint per call: a failure stops that endpoint). */
  failed: number;
  /** Endpoints disabled by this call after too many failures in a row. */
  disabled: number;
  /** Enabled endpoints skipped because their next attempt is later. */
  waiting: number;
}

/** A preview with the documents of its invoices and credit notes. */
export interface DocumentedPreview {
  /** When the plan's invoices are issued. */
  invoice_timing: InvoiceTiming;
  /** Every invoice issued, in issue order (those of one day by period start). */
  invoices: Invoice[];
  /** Every credit note issued, in issue order. */
  credit_notes: CreditNote[];
  /** The pricing program the plan compiled to. */
  program: PricingProgram;
  /** The program in plain English (PricingProgram::describe). */
  reading: string;
  /** The periods whose invoice was held for review (agent modes only). */
  held_periods: number[];
  /** The documents, in the scenario account's locale. */
  documents: PreviewDocuments;
}

/** "immediately" (the next local midnight), "period_end", or a local date YYYY-MM-DD. */
export type Effective = "immediately" | "period_end" | string;

/** An empty object: a change with nothing to say. */
export type Empty = Record<string, unknown>;

/**
 * How to open a BillingEngine: Node's BillingEngine.open(options) and C's
 * ai_billing_engine_open(options_json, ...). Keys are camelCase, as JavaScript option bags are.
 */
export interface EngineOptions {
  /**
   * The database: sqlite://PATH (created if missing), sqlite::memory:, or
   * postgres://USER@HOST:PORT/DB. Its schema is brought up to date when the engine opens.
   */
  databaseUrl: string;
  /**
   * Who reads AI plans' prompts: offline (default: no network, no key), openai, or auto
   * (offline first, the model for what it refuses).
   */
  interpreter?: InterpreterMode;
  /**
   * Who writes each invoice's payload: compiled (default: the pricing program), agent or
   * agent_checked (a model, cross-checked by the program; disagreements are held).
   */
  mode?: BillingMode;
  /**
   * The OpenAI (or compatible) API, for the openai/auto interpreter and the agent modes.
   * Unset fields come from OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL.
   */
  openai?: OpenAiOptions | null;
  /** Ship the audit trail to OpenSearch after each billing run. */
  opensearch?: OpenSearchOptions | null;
  /** How invoices are taxed; no tax when absent. */
  tax?: TaxOptions | null;
  /** Renewals billed side by side in a run (default 4). */
  concurrency?: number | null;
  /**
   * How many billed periods each renewal reads again for usage recorded late (default 2; 0
   * turns late usage off; at most 12). Later usage is reported as late_usage_ignored.
   */
  lateUsageLookback?: number | null;
}

/** A page of the feed. */
export interface EventPage {
  /** The events, oldest first. */
  events: PlatformEvent[];
  /**
   * The cursor to pass as after for the next page (with the same filters); always given, so
   * a consumer that is caught up keeps it and asks again later.
   */
  next: string;
  /** Whether more events were there when this page was read. */
  has_more: boolean;
}

/**
 * What happened, as the platform names it (invoice.issued); the types of version
 * 2026-12-01 (API_VERSION).
 */
export type EventType = "invoice.issued" | "invoice.held" | "invoice.released" | "invoice.voided" | "credit_note.issued" | "subscription.created" | "subscription.quantity_changed" | "subscription.cancel_scheduled" | "subscription.cancel_withdrawn" | "subscription.canceled" | "subscription.paused" | "subscription.resumed" | "subscription.plan_change_scheduled" | "subscription.plan_changed";

/** A page of the feed to read. */
export interface EventsRequest {
  /** Events after this cursor (a next of an earlier page); from the oldest when absent. */
  after?: string | null;
  /** At most this many events: 1 to 500, default 100. */
  limit?: number | null;
  /** Only these types (invoice.issued, ...); every type when empty. */
  types?: EventType[];
  /** Only this account's events, when given. */
  account_id?: string | null;
}

/** An increase settled on a period already billed, waiting for the subscription's next invoice. */
export interface Increase {
  /** The line's description ("Quantity 2 -> 3 from 2026-04-11, 20 of 30 days"). */
  description: string;
  /** The amount, in minor units of the plan's currency. */
  amount_minor: number;
  /** The first day it concerns. */
  service_start: string;
  /** The day after the last day it concerns. */
  service_end: string;
  /** How the amount was reached (absent on increases settled before bases were kept). */
  basis?: ChangeBasis | null;
}

/** How interpret_prompt reads a prompt: the plan it belongs to and who reads it. */
export interface InterpretOptions {
  /** The plan's currency (default USD): amounts written without one are in it. */
  currency?: string;
  /** The plan's interval unit (default month). */
  interval?: IntervalUnit;
  /** Units per period (default 1). */
  intervalCount?: number;
  /** Who reads the prompt (default offline). */
  interpreter?: InterpreterMode;
  /** The OpenAI API, for the openai and auto interpreters. */
  openai?: OpenAiOptions | null;
}

/**
 * What a prompt says: the program, or why it was refused. A refusal is an answer, not an
 * error: the admin rephrases.
 */
export type Interpretation = {
  outcome: "understood";
  /** The pricing program it compiles to. */
  program: PricingProgram;
  /** The program in plain English. */
  reading: string;
  /** When its invoices are issued: at_start (in advance) or at_renewal (in arrears). */
  invoice_timing: InvoiceTiming;
  /** Who read it (offline, or the model's name). */
  interpreter: string;
} | {
  outcome: "refused";
  /** What to rephrase, naming the words or the clause that could not be placed. */
  reason: string;
};

/** Who reads AI plans' prompts (the schema of InterpreterMode as JSON spells it). */
export type InterpreterMode = "offline" | "openai" | "auto";

/** The unit of a plan's billing interval. */
export type IntervalUnit = "day" | "week" | "month" | "year";

/** The invoice of one billing period. */
export interface Invoice {
  /** The period it bills, 1 for the first. */
  period_index: number;
  /** The local date it is issued: the period's start (in advance) or end (in arrears). */
  issue_date: string;
  /** The local date the period starts on. */
  period_start: string;
  /** The local date the next period starts on ([period_start, period_end)). */
  period_end: string;
  /** The plan's currency; every amount is in it. */
  currency: string;
  /** What is billed, each line rounded to the minor unit. */
  line_items: LineItem[];
  /** The sum of the line items. */
  subtotal: string;
  /** The taxes applied to the subtotal. */
  tax_lines: TaxLine[];
  /** The sum of the tax lines. */
  tax: string;
  /**
   * Whether the line items already include the tax (a tax-inclusive site): then total is
   * subtotal and tax is the part of it that is tax.
   */
  tax_inclusive?: boolean;
  /** What the customer pays: subtotal + tax, or subtotal when the tax is included. */
  total: string;
  /** The revenue (the total less tax) recognised per calendar month over the service period. */
  revenue_schedule: RevenueEntry[];
}

/** A page of invoices. */
export interface InvoicePage {
  /** The invoices, in the order asked. */
  data: IssuedInvoice[];
  /** Pass as cursor for the next page; null on the last page. */
  next_cursor?: string | null;
}

/** One invoice of an account. */
export interface InvoiceRef {
  /** The account. */
  account_id: string;
  /** The invoice. */
  invoice_id: string;
}

/**
 * Both answers of a held invoice: the model's (its amount and lines, as it wrote them) and what
 * differed from the program's (the invoice's own lines).
 */
export interface InvoiceReview {
  /** The invoice the model wrote (amount before tax and lines, in major units). */
  model: PayloadInvoice;
  /** What differed from the program's lines, in words. */
  differences: string[];
}

/** An invoice's status. */
export type InvoiceStatus = "open" | "held" | "void";

/** When a plan's invoice for a period is issued. */
export type InvoiceTiming = "at_start" | "at_renewal";

/**
 * The usage an invoice was billed on, kept with it: its own period's (per local weekday), and
 * each period billed before that it settled late usage for.
 */
export interface InvoiceUsage {
  /** The usage of the invoice's own period; null when its program has no usage charges. */
  period?: PeriodUsage | null;
  /**
   * The periods read again whose difference this invoice (or a credit note issued with it)
   * settled.
   */
  late?: Reread[];
}

/** An invoice as a store keeps it: the billed Invoice with who it bills and why. */
export interface IssuedInvoice {
  /**
   * Derived from the subscription and the period start
   * (invoice_id(crate::subscription::invoice_id)).
   */
  id: string;
  /** The account it belongs to. */
  account_id: string;
  /** The subscription it bills. */
  subscription_id: string;
  /** The customer it bills. */
  customer_id: string;
  /** The plan it was billed by... */
  plan_id: string;
  /** ...at this version of the plan. */
  plan_version: number;
  /** The subscription's quantity it was billed for. */
  quantity: number;
  /** The first invoice, or a renewal. */
  billing_reason: BillingReason;
  /** Open (issued), held for review, or void. */
  status: InvoiceStatus;
  /** When it was written. */
  created_at: string;
  /**
   * The usage it was billed on: its period's per local weekday, and the periods billed before
   * whose late usage it settled.
   */
  usage?: InvoiceUsage;
  /**
   * The lines that settle other periods (increases of changes), with the days each concerns:
   * what a re-billing of the period carries over unchanged. Empty (and absent in JSON) for
   * most invoices.
   */
  settled?: SettledSpan[];
  /**
   * For an invoice held because a model's answer disagreed with the program: the model's
   * answer and what differed (the program's answer is the invoice's own lines), so a
   * reviewer can decide. Absent otherwise.
   */
  review?: InvoiceReview | null;
  /** The period it bills, 1 for the first. */
  period_index: number;
  /** The local date it is issued: the period's start (in advance) or end (in arrears). */
  issue_date: string;
  /** The local date the period starts on. */
  period_start: string;
  /** The local date the next period starts on ([period_start, period_end)). */
  period_end: string;
  /** The plan's currency; every amount is in it. */
  currency: string;
  /** What is billed, each line rounded to the minor unit. */
  line_items: LineItem[];
  /** The sum of the line items. */
  subtotal: string;
  /** The taxes applied to the subtotal. */
  tax_lines: TaxLine[];
  /** The sum of the tax lines. */
  tax: string;
  /**
   * Whether the line items already include the tax (a tax-inclusive site): then total is
   * subtotal and tax is the part of it that is tax.
   */
  tax_inclusive?: boolean;
  /** What the customer pays: subtotal + tax, or subtotal when the tax is included. */
  total: string;
  /** The revenue (the total less tax) recognised per calendar month over the service period. */
  revenue_schedule: RevenueEntry[];
}

/**
 * Late usage of a period billed before: its usage charges priced on the usage billed and on the
 * usage the tables hold now; the line is the difference.
 */
export interface LateUsageBasis {
  /** The period read again. */
  period_index: number;
  /** Its first day. */
  period_start: string;
  /** The day after its last day. */
  period_end: string;
  /** Its usage charges as they were billed. */
  billed: UsageBasis[];
  /** Its usage charges on the usage the tables hold now. */
  now: UsageBasis[];
}

/** A usage minimum or cap, prorated by the days served of a partial period. */
export interface LimitBasis {
  /** The amount as the plan states it, for a whole period. */
  amount: string;
  /** The days served, when the period was not served whole. */
  days?: DaysBasis | null;
  /** Whether it set the amount. */
  applied: boolean;
}

/** How a line's amount was reached. */
export type LineBasis = (RecurringBasis & {
  type: "recurring";
}) | (UsageBasis & {
  type: "usage";
}) | (ChangeBasis & {
  type: "change";
}) | (LateUsageBasis & {
  type: "late_usage";
}) | (CreditBasis & {
  type: "credit";
}) | (NoChargeBasis & {
  type: "no_charge";
});

/** One line of an invoice (or of a credit note). */
export interface LineItem {
  /** What the line is for ("Base charge (month 1)"). */
  description: string;
  /** Recurring or usage. */
  kind: ChargeKind;
  /** The amount, exact in minor units. */
  amount: string;
  /**
   * How the amount was reached, as data: LineBasis::recompute gives the amount again.
   * Absent only on lines written before bases were kept.
   */
  basis?: LineBasis | null;
  /** The basis in one sentence ("Month 3: 5.00 + 2 x 1.00 = 7.00"), shown under the line. */
  explanation?: string | null;
}

/** A page of an account's credit notes, oldest (or newest) first, by the filters given. */
export interface ListCreditNotes {
  /** The account. */
  account_id: string;
  /** Only this subscription's. */
  subscription_id?: string | null;
  /** Only this customer's. */
  customer_id?: string | null;
  /** Only those crediting this invoice. */
  invoice_id?: string | null;
  /** Only those issued on or after this local date (YYYY-MM-DD)... */
  issued_from?: string | null;
  /** ...and on or before this one. */
  issued_to?: string | null;
  /** asc (oldest first, the default) or desc. */
  order?: Order | null;
  /** At most this many (1 to 500; 100 when absent). */
  limit?: number | null;
  /** next_cursor of the page before. */
  cursor?: string | null;
}

/** A page of an account's customers, by id. */
export interface ListCustomers {
  /** The account. */
  account_id: string;
  /** asc (the default) or desc, by id. */
  order?: Order | null;
  /** At most this many (1 to 500; 100 when absent). */
  limit?: number | null;
  /** next_cursor of the page before. */
  cursor?: string | null;
}

/** A page of an account's invoices, oldest (or newest) first, by the filters given. */
export interface ListInvoices {
  /** The account. */
  account_id: string;
  /** Only this subscription's. */
  subscription_id?: string | null;
  /** Only this customer's. */
  customer_id?: string | null;
  /** Only those in this status. */
  status?: InvoiceStatus | null;
  /** Only those issued on or after this local date (YYYY-MM-DD)... */
  issued_from?: string | null;
  /** ...and on or before this one. */
  issued_to?: string | null;
  /** asc (oldest first, the default) or desc. */
  order?: Order | null;
  /** At most this many (1 to 500; 100 when absent). */
  limit?: number | null;
  /** next_cursor of the page before. */
  cursor?: string | null;
}

/** A page of an account's subscriptions, oldest (or newest) first, by the filters given. */
export interface ListSubscriptions {
  /** The account. */
  account_id: string;
  /** Only those in this status. */
  status?: SubscriptionStatus | null;
  /** Only those on this plan. */
  plan_id?: string | null;
  /** Only this customer's. */
  customer_id?: string | null;
  /** asc (oldest first, the default) or desc. */
  order?: Order | null;
  /** At most this many (1 to 500; 100 when absent). */
  limit?: number | null;
  /** next_cursor of the page before. */
  cursor?: string | null;
}

/** A BCP 47 locale tag with a region, such as en-US, fr-FR or de-DE. */
export type Locale = string;

/** A period the program prices nothing for: 0. */
export interface NoChargeBasis {
  /** The period, 1 for the first. */
  period_index: number;
}

/** The OpenAI API settings. Debug never shows the key. */
export interface OpenAiOptions {
  /** The API key; OPENAI_API_KEY when absent. Never logged, printed or put in an error. */
  apiKey?: string | null;
  /** The API's base URL (https://api.openai.com/v1); OPENAI_BASE_URL when absent. */
  baseUrl?: string | null;
  /** The model; OPENAI_MODEL when absent. */
  model?: string | null;
  /** How long one attempt may take, in milliseconds. */
  timeoutMs?: number | null;
  /** Retries of a call that failed in a way worth retrying (429, 5xx, timeouts). */
  maxRetries?: number | null;
  /** Calls in flight at once. */
  maxConcurrency?: number | null;
}

/** Where the audit trail is shipped. Debug never shows the password. */
export interface OpenSearchOptions {
  /** The node's base URL (http://127.0.0.1:9200), without credentials. */
  url: string;
  /** The index (default ai-billing-audit). */
  index?: string | null;
  /** Basic-auth user. */
  username?: string | null;
  /** Basic-auth password (with username). */
  password?: string | null;
}

/** Oldest first or newest first. */
export type Order = "asc" | "desc";

/** A vacation hold: the days from .. until - 1 are not served. */
export interface Pause {
  /** The first day not served. */
  from: string;
  /** The first day served again; open (until a resume) when absent. */
  until?: string | null;
}

/** A scenario's pause. */
export interface PauseChange {
  /** The first local day not served. */
  from: string;
  /** The first local day served again; open when absent. */
  until?: string | null;
}

/** A pause (vacation hold). */
export interface PauseSubscription {
  /** The account. */
  account_id: string;
  /** The subscription. */
  subscription_id: string;
  /** The first local day not served; not before the day the pause is made. */
  from: string;
  /** The first local day served again; open until a resume when absent. */
  until?: string | null;
  /** Who pauses it, for the audit trail (api when absent). */
  actor?: string;
  /**
   * The caller's key for this request (the platform's Idempotency-Key): made again with the
   * same key and body, it answers what it answered the first time and writes nothing new;
   * with another body, it is CONFLICT. Without one, a retry is a new request.
   */
  request_id?: string | null;
}

/** The invoice part of the payload. */
export interface PayloadInvoice {
  /** The invoice amount (before tax) in major units: the sum of the line items. */
  amount: number;
  /** The plan's currency. */
  currency: string;
  /** The period's start, as in SubscriptionUpdates::current_period_start. */
  start_date: string;
  /** The period's end, as in SubscriptionUpdates::current_period_end. */
  end_date: string;
  /** What is billed. */
  line_items: PayloadLineItem[];
}

/** One line of the payload's invoice. */
export interface PayloadLineItem {
  /** What the line is for. */
  description: string;
  /** The amount in major units, exact to the currency's minor unit. */
  amount: number;
}

/** Usage of one period, indexed by local weekday, Monday = 0 ... Sunday = 6. */
export interface PeriodUsage {
  /** Shipments (rows) whose local shipped_at falls in the period. */
  shipments: number[];
  /** Units (sum of quantity) of those shipments. */
  units: number[];
  /** Returns whose returned_at falls in the period, on the local weekday of their shipment. */
  returned_shipments: number[];
  /** Units (sum of the return's quantity) of those returns. */
  returned_units: number[];
}

/** One phase of a recurring charge: a price for a range of periods, possibly stepping. */
export interface Phase {
  /** First period of the phase (1-based). */
  from_period: number;
  /** Last period of the phase (inclusive); null for ever after. */
  to_period?: number | null;
  /** Price per period per subscribed copy at from_period, in major units. */
  amount: string;
  /** How the price changes as periods pass. */
  step?: Step | null;
  /** The price never goes below this (a step's floor). */
  floor?: string | null;
  /** The price never goes above this (a step's ceiling, "until it reaches $30"). */
  ceiling?: string | null;
  /** A percentage taken off the price in this phase (20 for 20% off). */
  discount_percent?: string | null;
}

/** A plan in the platform's shape. */
export interface Plan {
  /** The plan's id (absent on a plan that is not stored yet, such as a scenario's). */
  id?: string | null;
  /** The product the plan belongs to. */
  product_id?: string | null;
  /** The plan's display name. */
  nickname?: string;
  /** The price per period of a standard plan, in minor units (cents); 0 when absent. */
  amount?: number;
  /** The plan's currency; every charge is in it. */
  currency: string;
  /** The unit of the billing interval. */
  interval: IntervalUnit;
  /** How many units make one period; at least 1. */
  interval_count?: number;
  /** Whether subscriptions renew at the end of each period. */
  auto_renew?: boolean;
  /** Free-form metadata, kept as given. */
  metadata?: Record<string, unknown>;
  /** The kind of plan (type in JSON). */
  type: PlanType;
  /** The billing rule in plain language; required for AI plans. */
  ai_prompt?: string | null;
  /** The predefined usage query that feeds usage charges; DEFAULT_USAGE_QUERY when absent. */
  usage_query?: string | null;
  /**
   * The pricing program of a step-up, usage or hybrid plan. Standard and AI plans are priced by
   * their amount and ai_prompt; a program stored with them is not used by Plan::compile.
   */
  program?: PricingProgram | null;
}

/** A scenario's plan change. */
export interface PlanChange {
  /** The new plan, whole, as the scenario's plan is. */
  to: Plan;
  /** period_end (the default), immediately or a local date. */
  effective?: Effective;
}

/** Which plans to list: one account's, each at its latest version, for paging by plan id. */
export interface PlanListQuery {
  /** The account. */
  account_id: string;
  /** Only plans whose id comes strictly after this one (the last id of the previous page). */
  after?: string | null;
  /** At most this many (all when null). */
  limit?: number | null;
}

/** A page of plans, in plan id order, each at its latest version. */
export interface PlanPage {
  /** The plans. */
  plans: PlanVersion[];
  /** Pass as after for the next page; absent on the last page. */
  next_after?: string | null;
}

/** Which plan version to read. */
export interface PlanQuery {
  /** The account. */
  account_id: string;
  /** The plan. */
  plan_id: string;
  /** A version number, or null for the latest. */
  version?: number | null;
}

/**
 * A plan change waiting for its effective date: the subscription's end on the old plan
 * (Changes::end) is where the new plan's term begins.
 */
export interface PlanSwitch {
  /** The plan billed from the effective date. */
  plan_id: string;
  /** Its term. */
  term: Term;
  /** Where its period 1 ends (the next anchor date, or a whole period on). */
  first_period_end: string;
  /** The local date its period 1 is due: its start in advance, its end in arrears. */
  first_due: string;
}

/** The kind of a plan, as the platform's type field spells it. */
export type PlanType = "standard" | "step_up" | "usage" | "hybrid" | "ai";

/**
 * One version of a stored plan: the plan as saved and the pricing program that bills it.
 * Versions are immutable; editing a plan makes a new version, and each invoice records the
 * version it was billed by.
 */
export interface PlanVersion {
  /** The account the plan belongs to. */
  account_id: string;
  /** The plan as saved; its id is set. */
  plan: Plan;
  /** 1 for the plan as first saved, then one more per change. */
  version: number;
  /** The program that bills it (for an AI plan, its prompt as interpreted when saved). */
  program: PricingProgram;
  /** Which interpreter read the prompt (offline), for AI plans. */
  interpreter?: string | null;
  /** When this version was saved. */
  created_at: string;
}

/** One event as the platform receives it: a feed item and a webhook's body. */
export interface PlatformEvent {
  /**
   * The audit event's id (a UUIDv7): the same on every read and every delivery, so the
   * platform deduplicates by it (it is the webhook's webhook-id).
   */
  id: string;
  /** What happened. */
  type: EventType;
  /** The shape's version, API_VERSION. */
  api_version: string;
  /** When it happened. */
  created_at: string;
  /** The account it belongs to. */
  account_id: string;
  /**
   * What it is about: object (invoice, credit_note, subscription) and id, then the
   * audit event's own keys for that type (amounts as decimal strings in major units with
   * their currency, dates as ISO 8601).
   */
  data: unknown;
}

/** The HTML documents of a preview: one per invoice and per credit note, in the report's order. */
export interface PreviewDocuments {
  /** The document of each invoice of PreviewReport::invoices. */
  invoices: string[];
  /** The document of each credit note of PreviewReport::credit_notes. */
  credit_notes: string[];
}

/** What a scenario bills: the JSON that ai-billing preview --json prints. */
export interface PreviewReport {
  /** When the plan's invoices are issued. */
  invoice_timing: InvoiceTiming;
  /** Every invoice issued, in issue order (those of one day by period start). */
  invoices: Invoice[];
  /** Every credit note issued, in issue order. */
  credit_notes: CreditNote[];
  /** The pricing program the plan compiled to. */
  program: PricingProgram;
  /** The program in plain English (PricingProgram::describe). */
  reading: string;
  /** The periods whose invoice was held for review (agent modes only). */
  held_periods: number[];
}

/**
 * What a scenario preview of the bindings adds to its report (previewScenario(scenario,
 * options)).
 */
export interface PreviewScenarioOptions {
  /**
   * Add documents: the HTML document of each invoice and credit note, in the scenario
   * account's locale (false when absent).
   */
  documents?: boolean;
}

/**
 * The price per copy of a period: base, stepped, then held between floor and ceiling, then
 * discounted.
 */
export interface PriceBasis {
  /** The price the phase starts at. */
  base: string;
  /** The steps taken since the phase started, when it steps. */
  step?: StepBasis | null;
  /** The highest the price goes. */
  ceiling?: string | null;
  /** The lowest the price goes. */
  floor?: string | null;
  /** The discount taken off, in percent. */
  discount_percent?: string | null;
  /** What the arithmetic gives, exact. */
  unit_price: string;
}

/** What a plan charges, per billing period. */
export interface PricingProgram {
  /** Format version, PROGRAM_VERSION. */
  version: 1;
  /** The plan's currency; every price is in it. */
  currency: string;
  /** The plan's billing interval; "month 3" means period 3 of this interval. */
  interval: BillingInterval;
  /** Recurring charges (flat or base fees), multiplied by the subscription quantity. */
  recurring?: RecurringCharge[];
  /** Usage charges, on the period's shipments or shipped units; not multiplied by quantity. */
  usage?: UsageCharge[];
}

/** How a quantity change bills the period it falls in. */
export type Proration = "none" | "prorate";

/** A scenario's quantity change. */
export interface QuantityChange {
  /** The new quantity. */
  to: number;
  /** none (the default) or prorate. */
  proration?: Proration;
  /** With prorate: immediately (the default) or a local date. */
  effective?: Effective;
}

/** The quantity from a date on. */
export interface QuantityFrom {
  /** The first day at this quantity. */
  from: string;
  /** The quantity. */
  quantity: number;
}

/** A recurring charge: round(unit price x quantity x days / period days). */
export interface RecurringBasis {
  /** The charge, as the program names it ("Base charge"). */
  charge: string;
  /** The period, 1 for the first. */
  period_index: number;
  /** What a period is called ("month", "week", "period"). */
  period_noun: string;
  /** How the price per copy of the period was reached. */
  price: PriceBasis;
  /** The copies it is multiplied by. */
  quantity: number;
  /** The days billed of the period, when not the whole period. */
  days?: DaysBasis | null;
}

/** A recurring fee, made of consecutive phases ("$4.99 for the first 3 months, then $14.99"). */
export interface RecurringCharge {
  /** The line item's description ("Base charge"). */
  description: string;
  /** Phases in period order, the first from period 1, each starting where the previous ended. */
  phases: Phase[];
}

/**
 * Releasing a held invoice: it is issued as the program computed it (a held invoice already
 * carries the program's lines). An invoice that is not held (released already, issued, or
 * void) is Error::Conflict naming its status: releasing twice issues it once.
 */
export interface ReleaseInvoice {
  /** The account. */
  account_id: string;
  /** The held invoice. */
  invoice_id: string;
  /** Who releases it, for the audit trail (api when absent). */
  actor?: string;
  /** Why, for the audit trail (required). */
  reason: string;
  /**
   * The caller's key for this request (the platform's Idempotency-Key): made again with the
   * same key and body, it answers what it answered the first time and writes nothing new;
   * with another body, it is CONFLICT. Without one, a retry is a new request.
   */
  request_id?: string | null;
}

/**
 * A period billed before, read again: the usage it had been billed on and the usage the tables
 * hold now.
 */
export interface Reread {
  /** The period read again. */
  period: number;
  /** Its local dates, [start, end). */
  start: string;
  /** The day after its last day. */
  end: string;
  /** The invoice that billed it. */
  invoice_id: string;
  /** The usage it had been billed on. */
  billed: PeriodUsage;
  /** The usage the tables hold now. */
  now: PeriodUsage;
}

/** A scenario's resume. */
export interface ResumeChange {
  /** The first local day served again. */
  on: string;
}

/** Ending a pause. */
export interface ResumeSubscription {
  /** The account. */
  account_id: string;
  /** The subscription. */
  subscription_id: string;
  /**
   * The first local day served again: it ends the pause that holds it (the pause's own
   * first day removes the pause).
   */
  on: string;
  /** Who resumes it, for the audit trail (api when absent). */
  actor?: string;
  /**
   * The caller's key for this request (the platform's Idempotency-Key): made again with the
   * same key and body, it answers what it answered the first time and writes nothing new;
   * with another body, it is CONFLICT. Without one, a retry is a new request.
   */
  request_id?: string | null;
}

/** What returns do to a usage charge. */
export type ReturnsPolicy = "ignored" | "credited";

/** Revenue recognised in one calendar month for one invoice. */
export interface RevenueEntry {
  /** The calendar month, YYYY-MM. */
  month: string;
  /** First service day of the period in this month. */
  start: string;
  /** Day after the last service day of the period in this month. */
  end: string;
  /** Service days in this month. */
  days: number;
  /** Revenue recognised in this month. */
  amount: string;
}

/** What a billing run did, and what reached OpenSearch. */
export interface RunDueReport {
  /** The run's id in the audit trail. */
  run_id: string;
  /** Subscriptions handled. */
  subscriptions: number;
  /** Invoices issued. */
  issued: number;
  /** Invoices held for review. */
  held: number;
  /** Renewals that failed (each left its subscription as it was, with a renewal_failed event). */
  failed: number;
  /** The first failures: (account id, subscription id, error). */
  failures: Array<[string, string, string]>;
  /** The audit shipping after the run, when the engine ships to OpenSearch. */
  audit?: AuditShipping | null;
}

/** A billing run: everything due at or before now. */
export interface RunDueRequest {
  /** Bill what is due at or before this instant (RFC 3339); the current time when absent. */
  now?: string | null;
}

/** An account to create or update. */
export interface SaveAccount {
  /** The account. */
  account: Account;
  /** Who saves it (default api). */
  actor?: string;
}

/** A customer to create or update. */
export interface SaveCustomer {
  /** The customer. */
  customer: Customer;
  /** Who saves it (default api). */
  actor?: string;
}

/** A plan to create, or a new version of one. */
export interface SavePlan {
  /** The account the plan belongs to. */
  account_id: string;
  /** The plan in the platform's shape; id is required. */
  plan: Plan;
  /** Who saves it, for the audit trail (api when absent). */
  actor?: string;
}

/** One billing scenario. */
export interface Scenario {
  /** The account that owns the plan. */
  account: Account;
  /** The plan (a scenario's plan has no id or product_id). */
  plan: Plan;
  /** The subscription to the plan. */
  subscription: ScenarioSubscription;
  /** How many periods to bill, 1 to MAX_PERIODS; or, instead, until. */
  periods?: number | null;
  /** Bill everything due up to the end of this local date, instead of a number of periods. */
  until?: string | null;
  /** A flat tax on each invoice's subtotal; none when absent. */
  tax?: ScenarioTax | null;
  /** The customer's shipments, each inserted when it was recorded. */
  shipments?: ScenarioShipment[];
  /** The customer's returns, each inserted when it was recorded. */
  returns?: ScenarioReturn[];
  /** The changes made to the subscription, each at its made_at. */
  changes?: ScenarioChange[];
}

/**
 * One change made to the scenario's subscription, at made_at: exactly one of the other
 * fields.
 */
export interface ScenarioChange {
  /** When the change is made (every run due up to then comes first). */
  made_at: string;
  /** A cancellation. */
  cancel?: CancelChange | null;
  /** Withdrawing the cancellation (an empty object). */
  withdraw_cancel?: Empty | null;
  /** A pause. */
  pause?: PauseChange | null;
  /** Ending a pause. */
  resume?: ResumeChange | null;
  /** A quantity change. */
  quantity?: QuantityChange | null;
  /** A plan change. */
  plan?: PlanChange | null;
}

/** A return of a scenario, and when its row reached the table. */
export interface ScenarioReturn {
  /** The return's id. */
  id: string;
  /** The shipment it returns. */
  shipment_id: string;
  /** When it was returned (UTC instant). */
  returned_at: string;
  /** Units returned; at least 1. */
  quantity: number;
  /** When its row was inserted (returned_at when absent). */
  recorded_at?: string | null;
}

/** A shipment of a scenario, and when its row reached the table. */
export interface ScenarioShipment {
  /** The shipment's id. */
  id: string;
  /** When it shipped (UTC instant). */
  shipped_at: string;
  /** Copies/units in it; at least 1. */
  quantity: number;
  /**
   * When its row was inserted (shipped_at when absent); late usage is recorded after the
   * invoice of its period was issued.
   */
  recorded_at?: string | null;
}

/** A scenario's subscription. */
export interface ScenarioSubscription {
  /** The local date the subscription starts on: the anchor of its periods. */
  start: string;
  /** Subscribed copies, 1 to MAX_QUANTITY; 1 when absent. */
  quantity?: number;
}

/** A scenario's tax. */
export interface ScenarioTax {
  /**
   * The rate as a fraction (0.0825), from 0 to 1; written as a JSON string or number, read
   * exactly either way.
   */
  rate: string;
}

/** A cancellation: the subscription is served up to local midnight starting on. */
export interface ScheduledEnd {
  /** The first day not served. */
  on: string;
  /** Whether the unserved days of a period already billed are credited. */
  credit_unused: boolean;
}

/** The days of one state of a period: all the served days at one quantity, contiguous or not. */
export interface Segment {
  /** The subscription's quantity on those days. */
  quantity: number;
  /** How many local days. */
  days: number;
}

/**
 * What a period serves: its length (the days of the whole anchored period, the denominator of
 * every share) and its served days, grouped into segments in the order they first occur.
 */
export interface Served {
  /** The days of the whole period. */
  period_days: number;
  /** The served days by state; empty when no day is served. */
  segments: Segment[];
}

/**
 * A line of an invoice that settles another period than the invoice's own: its position among
 * the invoice's lines (from 0) and the local days [start, end) it concerns.
 */
export interface SettledSpan {
  /** The line's position among the invoice's line items, from 0. */
  position: number;
  /** The first day the line concerns. */
  start: string;
  /** The day after the last day it concerns. */
  end: string;
}

/** A regular change of a recurring price. */
export interface Step {
  /** The price changes once every this many periods. */
  every_periods: number;
  /** The change. */
  change: StepChange;
}

/** The steps of a step-up: steps times change, one every every_periods periods. */
export interface StepBasis {
  /** How many steps were taken by this period. */
  steps: number;
  /** The periods between two steps. */
  every_periods: number;
  /** What each step does. */
  change: StepChange;
}

/** The size of a step. */
export type StepChange = {
  /** A decimal number in major units written as a string, for example "0.75" or "25"; no currency sign, no exponent. */
  amount: string;
} | {
  /** A decimal number in major units written as a string, for example "0.75" or "25"; no currency sign, no exponent. */
  percent: string;
};

/** A subscription to a plan. */
export interface Subscription {
  /** The account it belongs to. */
  account_id: string;
  /** The subscription's id, unique in the account. */
  id: string;
  /** The customer billed; usage is read for this customer only. */
  customer_id: string;
  /** The plan it is on; each invoice is billed by the plan's version in force when it is issued. */
  plan_id: string;
  /** Copies or seats, 1 to 100,000; multiplies recurring charges. */
  quantity: number;
  /** The local date of the first period's start: every period is anchored on it. */
  start_date: string;
  /** Whether it still bills. */
  status: SubscriptionStatus;
  /** The index of the period it is in now (1 for the first, also before the start date). */
  current_period: number;
  /** The local start date of that period. */
  current_period_start: string;
  /** The local end date of that period (the next one's start). */
  current_period_end: string;
  /** The index of the period the next invoice bills. */
  next_invoice_period: number;
  /** When the next invoice is due; absent once the subscription has ended. */
  next_invoice_at?: string | null;
  /**
   * What has been changed and is still in force: its cancellation, pauses, quantity by date,
   * and increases waiting for the next invoice. Empty (and absent in JSON) when nothing has.
   */
  changes?: Changes;
  /**
   * The periods billed recently with the usage each was billed on, read again at the next
   * renewal for late usage; empty for plans without usage charges.
   */
  billed_usage?: UsageHistory;
  /** Bumped by every change; a change is written only over the revision it was computed from. */
  revision: number;
  /** When it was created. */
  created_at: string;
  /** When it last changed. */
  updated_at: string;
}

/** A page of subscriptions. */
export interface SubscriptionPage {
  /** The subscriptions, in the order asked. */
  data: Subscription[];
  /** Pass as cursor for the next page; null on the last page. */
  next_cursor?: string | null;
}

/** One subscription of an account. */
export interface SubscriptionRef {
  /** The account. */
  account_id: string;
  /** The subscription. */
  subscription_id: string;
}

/** Whether a subscription still bills. */
export type SubscriptionStatus = "active" | "ended" | "canceled";

/** The subscription's period, as the agent sets it. */
export interface SubscriptionUpdates {
  /** Local midnight starting the period, with the account's offset. */
  current_period_start: string;
  /** Local midnight ending the period (the next period's start), with the account's offset. */
  current_period_end: string;
}

/** Where a customer is taxed. */
export interface TaxAddress {
  /** ISO 3166-1 alpha-2 country code (US), upper case. */
  country: string;
  /** The region (state, province) code as the country writes it (CA, QC). */
  region?: string | null;
  /** The postal code (94103, H2X 1Y4). */
  postal_code?: string | null;
}

/** One tax on an invoice. */
export interface TaxLine {
  /** The tax's name ("Sales tax"). */
  name: string;
  /** The rate as a fraction (0.0825 for 8.25%). */
  rate: string;
  /** The tax amount, rounded to the minor unit. */
  amount: string;
}

/**
 * How invoices are taxed: one flat rate, or a jurisdiction rate table (rules, as in
 * examples/tax-rates.json), stacked per customer address.
 */
export interface TaxOptions {
  /** One rate on every invoice, as a decimal string fraction ("0.0825" for 8.25%). */
  rate?: string | null;
  /** The rules of a rate table by jurisdiction (country, region, postal prefix). */
  rules?: unknown[] | null;
}

/**
 * The plan a subscription bills by now, in time: the anchor of its calendar (kept across a plan
 * change of the same interval, as Stripe and Lago keep a customer's billing day), how many of
 * that calendar's periods came before the plan's period 1, and the day the plan began (its
 * period 1 may be the part of an anchored period from that day).
 */
export interface Term {
  /** The calendar's anchor. */
  anchor: string;
  /** The anchored periods before the plan's period 1. */
  offset: number;
  /** The first day billed by the plan. */
  starts_on: string;
}

/** A usage tier: units up to and including up_to are priced at unit_price. */
export interface Tier {
  /** The tier's last unit (inclusive); null for the open-ended last tier. */
  up_to?: number | null;
  /** The price of each unit in the tier, in major units. */
  unit_price: string;
}

/** A tier of a usage charge and the units it priced. */
export interface TierBasis {
  /** The first unit of the tier (1 for the first tier). */
  from: number;
  /** The last unit of the tier; absent on the open-ended tier. */
  up_to?: number | null;
  /** The price of each unit in it. */
  unit_price: string;
  /** The units priced in it. */
  units: number;
}

/**
 * A usage charge: the period's count per local weekday, less the returns credited and the
 * allowance, priced per unit, by weekday or in tiers, then held between minimum and cap.
 */
export interface UsageBasis {
  /** The charge, as the program names it ("Usage (Shipment) charge"). */
  charge: string;
  /** The period, 1 for the first. */
  period_index: number;
  /** What it counts: shipments (rows) or units (copies). */
  metric: UsageMetric;
  /** Whether returns come off the count. */
  returns: ReturnsPolicy;
  /** The count of each local weekday that has any, Monday first. */
  weekdays: WeekdayCount[];
  /** The period's count: the weekdays' counts less their returns, never below zero. */
  count: number;
  /** The free allowance taken off the count. */
  allowance?: number;
  /** How the count is priced. */
  pricing: UsagePriceBasis;
  /** The amount before the minimum and the cap, exact. */
  priced: string;
  /** The minimum charge, when the charge has one. */
  minimum?: LimitBasis | null;
  /** The cap, when the charge has one. */
  cap?: LimitBasis | null;
}

/** A usage charge on the period's shipments or units. */
export interface UsageCharge {
  /** The line item's description ("Usage (Shipment) charge"). */
  description: string;
  /** What is counted. */
  metric: UsageMetric;
  /** How the count is priced. */
  pricing: UsagePricing;
  /** What returns do. */
  returns?: ReturnsPolicy;
  /** Units free each period before pricing. */
  allowance?: number;
  /** The charge is at least this much per period, in major units. */
  minimum?: string | null;
  /** The charge is at most this much per period, in major units. */
  cap?: string | null;
}

/**
 * The periods a subscription was billed for recently, newest last: only those with usage
 * charges, and only as far back as the look-back reaches (plus the one read to report).
 */
export type UsageHistory = BilledPeriod[];

/** What a usage charge counts. */
export type UsageMetric = "shipments" | "units";

/** How a usage count is priced. */
export type UsagePriceBasis = {
  model: "per_unit";
  /** The price of a unit. */
  rate: string;
} | {
  model: "by_weekday";
} | {
  model: "graduated";
  /** The tiers, with the units each priced. */
  tiers: TierBasis[];
} | {
  model: "volume";
  /** The tiers, with the units each priced (all in one). */
  tiers: TierBasis[];
};

/** How a usage count is priced. */
export type UsagePricing = {
  kind: "per_unit";
  /** The price of each weekday. */
  rates: {
    /** A decimal number in major units written as a string, for example "0.75" or "25"; no currency sign, no exponent. */
    monday?: string | null;
    /** A decimal number in major units written as a string, for example "0.75" or "25"; no currency sign, no exponent. */
    tuesday?: string | null;
    /** A decimal number in major units written as a string, for example "0.75" or "25"; no currency sign, no exponent. */
    wednesday?: string | null;
    /** A decimal number in major units written as a string, for example "0.75" or "25"; no currency sign, no exponent. */
    thursday?: string | null;
    /** A decimal number in major units written as a string, for example "0.75" or "25"; no currency sign, no exponent. */
    friday?: string | null;
    /** A decimal number in major units written as a string, for example "0.75" or "25"; no currency sign, no exponent. */
    saturday?: string | null;
    /** A decimal number in major units written as a string, for example "0.75" or "25"; no currency sign, no exponent. */
    sunday?: string | null;
  };
} | {
  kind: "graduated";
  /** Tiers in ascending order, the last open-ended. */
  tiers: Tier[];
} | {
  kind: "volume";
  /** Tiers in ascending order, the last open-ended. */
  tiers: Tier[];
};

/** A predefined usage query, as the plan form's usage source selector lists it. */
export interface UsageQuery {
  /** The name a plan's usage_query gives (shipments_by_weekday). */
  name: string;
  /** What it counts. */
  description: string;
  /** The databases it runs on (sqlite, postgres, mysql). */
  dialects: string[];
  /** Whether plans use it when they name none. */
  default: boolean;
}

/**
 * Voiding a held or open invoice: it becomes void and its revenue schedule is reversed. With
 * rebill, the same commit bills its period again from the current data (a new invoice, a new
 * id). An invoice with credit notes against it is Error::Conflict naming them.
 */
export interface VoidInvoice {
  /** The account. */
  account_id: string;
  /** The invoice. */
  invoice_id: string;
  /**
   * Whether its period is billed again from the current data (false when absent); only
   * the period billed last can be.
   */
  rebill?: boolean;
  /** Who voids it, for the audit trail (api when absent). */
  actor?: string;
  /** Why, for the audit trail (required). */
  reason: string;
  /**
   * The caller's key for this request (the platform's Idempotency-Key): made again with the
   * same key and body, it answers what it answered the first time and writes nothing new;
   * with another body, it is CONFLICT. Without one, a retry is a new request.
   */
  request_id?: string | null;
}

/** A voided invoice, the revenue its void reversed, and the invoice that bills its period again. */
export interface VoidedInvoice {
  /** The invoice, now void. */
  invoice: IssuedInvoice;
  /**
   * The revenue taken back, per calendar month (positive amounts: what is reversed): its
   * whole schedule, entry by entry, so the reversal sums to it to the cent.
   */
  revenue_reversed: RevenueEntry[];
  /** The invoice that bills its period again, when asked for. */
  rebilled?: IssuedInvoice | null;
}

/** An endpoint as listed: everything but its secret. */
export interface WebhookInfo {
  /** Its id. */
  id: string;
  /** Where events are posted. */
  url: string;
  /** The event types it receives; every type when empty. */
  types: EventType[];
  /** Only this account's events, when set. */
  account_id?: string | null;
  /** Whether deliveries are made. */
  enabled: boolean;
  /** When it was added. */
  created_at: string;
  /** Failed attempts in a row at its next event. */
  failures: number;
  /** No attempt before this instant (after a failure). */
  next_attempt_at?: string | null;
  /** The last failure's reason. */
  last_error?: string | null;
  /** Events delivered so far. */
  delivered: number;
  /** When it was disabled. */
  disabled_at?: string | null;
}

/** Every endpoint, by id. */
export interface WebhookList {
  /** The endpoints, without their secrets. */
  webhooks: WebhookInfo[];
}

/** One endpoint. */
export interface WebhookRef {
  /** The endpoint's id. */
  id: string;
}

/** One local weekday's usage. */
export interface WeekdayCount {
  /** The weekday, lower case ("monday"). */
  weekday: string;
  /** Shipments (or units) on that weekday. */
  counted: number;
  /** Returns (or returned units) taken off on that weekday. */
  returned?: number;
  /** The weekday's price, when prices differ by weekday. */
  rate?: string | null;
}

/** Withdrawing a cancellation that has not taken effect. */
export interface WithdrawCancel {
  /** The account. */
  account_id: string;
  /** The subscription. */
  subscription_id: string;
  /** Who withdraws it, for the audit trail (api when absent). */
  actor?: string;
  /**
   * The caller's key for this request (the platform's Idempotency-Key): made again with the
   * same key and body, it answers what it answered the first time and writes nothing new;
   * with another body, it is CONFLICT. Without one, a retry is a new request.
   */
  request_id?: string | null;
}

/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

/**
 * A billing engine on one database: open it with `BillingEngine.open(options)`, close it with
 * `close()`. Every method returns a Promise; after `close()` each one rejects with `CLOSED`. Calls
 * may run side by side.
 *
 * Safe retries: `createSubscription` (keyed by its `request_id`, or its `id` without one), the
 * changes and the invoice corrections (keyed by an optional `request_id`, the platform's
 * Idempotency-Key) sent again with the same key and body resolve to what the first call
 * resolved to and write nothing new; the same key with another body rejects with `CONFLICT`.
 */
export declare class BillingEngine {
  /**
   * Opens the database (`databaseUrl`: `sqlite://PATH`, created if missing, `sqlite::memory:`,
   * or `postgres://USER@HOST:PORT/DB`), brings its schema up to date, and sets up the
   * interpreter, billing mode, OpenAI client, tax and audit shipping the options ask for.
   * Rejects with `INVALID_INPUT` for bad options (a mode that needs a model without an API
   * key, an unknown database scheme) and `STORAGE` when the database cannot be opened.
   */
  static open(options: EngineOptions): Promise<BillingEngine>
  /**
   * Creates or updates an account (`{ account: { id, abstracted, timezone, tax_inclusive? },
   * actor? }`). Only abstracted accounts may have AI plans. Resolves to the account.
   */
  saveAccount(request: SaveAccount): Promise<Account>
  /**
   * An account (`{ account_id }`): whether it may have AI plans, its time zone. Rejects with
   * `NOT_FOUND` when there is none.
   */
  getAccount(request: AccountRef): Promise<Account>
  /**
   * Creates or updates a customer of an existing account (`{ customer: { account_id, id,
   * tax_address?, tax_exempt? }, actor? }`). Resolves to the customer.
   */
  saveCustomer(request: SaveCustomer): Promise<Customer>
  /**
   * Creates a plan, or saves its next version (`{ account_id, plan, actor? }`). A standard
   * plan's `amount` is in minor units (cents); an AI plan's `ai_prompt` is interpreted now.
   * Rejects with `PROMPT_NOT_UNDERSTOOD` when the prompt is refused (nothing is saved) and
   * `PLAN_NOT_AVAILABLE` for an AI plan on an account that is not abstracted. Resolves to the
   * saved version with its pricing program.
   */
  createPlan(request: SavePlan): Promise<PlanVersion>
  /**
   * A plan at a version, the latest by default (`{ account_id, plan_id, version? }`). Rejects
   * with `NOT_FOUND` when there is none.
   */
  getPlan(request: PlanQuery): Promise<PlanVersion>
  /**
   * A page of an account's plans, standard and AI alike, each at its latest version, in plan
   * id order (`{ account_id, after?, limit? }`). Pass `next_after` as `after` for the next
   * page; it is absent on the last one.
   */
  listPlans(request: PlanListQuery): Promise<PlanPage>
  /**
   * Creates a subscription (`{ account_id, id, customer_id, plan_id, quantity, start_date,
   * actor?, request_id? }`, `start_date` a local `YYYY-MM-DD`, possibly in the past). A plan
   * billed in advance whose start has come is invoiced now: the answer carries that first
   * `invoice`.
   */
  createSubscription(request: CreateSubscription): Promise<CreatedSubscription>
  /**
   * A subscription (`{ account_id, subscription_id }`). Rejects with `NOT_FOUND` when there is
   * none.
   */
  getSubscription(request: SubscriptionRef): Promise<Subscription>
  /**
   * Changes a subscription's quantity, with no renewal (`{ account_id, subscription_id,
   * quantity, proration?, effective?, actor?, request_id? }`): from the next invoice issued
   * (`proration: "none"`, the default), or from `effective` (`"immediately"`, the default, or a
   * local date) with the days at each quantity billed (`"prorate"`; a period already billed is
   * settled: a decrease credited, an increase on the next invoice). Resolves to the
   * subscription.
   */
  updateSubscription(request: ChangeQuantity): Promise<Subscription>
  /**
   * Cancels a subscription (`{ account_id, subscription_id, effective?, credit_unused?, actor?,
   * request_id? }`): at the end of its period (`"period_end"`, the default), `"immediately"`
   * (the next local midnight) or on a local date, never before today (`INVALID_INPUT` naming
   * `cancel.effective`). The unserved days of a period already billed are credited unless
   * `credit_unused` is false. Resolves to `{ subscription, credit_note? }`.
   */
  cancelSubscription(request: CancelSubscription): Promise<ChangedSubscription>
  /**
   * Withdraws a cancellation before it takes effect (`{ account_id, subscription_id, actor?,
   * request_id? }`); one that has taken effect, or none, rejects with `INVALID_INPUT`. Resolves
   * to `{ subscription, credit_note? }`.
   */
  withdrawCancel(request: WithdrawCancel): Promise<ChangedSubscription>
  /**
   * Pauses a subscription, a vacation hold (`{ account_id, subscription_id, from, until?,
   * actor?, request_id? }`): the local days `from` .. `until - 1` are not served (open until a
   * resume when `until` is absent). A pause overlapping another rejects with `CONFLICT`.
   * Resolves to `{ subscription, credit_note? }` (a credit note when the days were billed
   * already).
   */
  pauseSubscription(request: PauseSubscription): Promise<ChangedSubscription>
  /**
   * Ends a pause (`{ account_id, subscription_id, on, actor?, request_id? }`): `on` is the first
   * local day served again (the pause's own first day removes it). Resolves to `{ subscription,
   * credit_note? }`.
   */
  resumeSubscription(request: ResumeSubscription): Promise<ChangedSubscription>
  /**
   * Moves a subscription to another saved plan (`{ account_id, subscription_id, plan_id,
   * effective?, actor?, request_id? }`): from the next period (`"period_end"`, the default), or
   * from `"immediately"` or a local date, where the old plan's billing ends as an immediate
   * cancellation's would. A plan in another currency rejects with `INVALID_INPUT` naming
   * `plan.currency`. Resolves to `{ subscription, credit_note? }`.
   */
  changePlan(request: ChangePlan): Promise<ChangedSubscription>
  /**
   * Releases a held invoice (`{ account_id, invoice_id, reason, actor?, request_id? }`): it is
   * issued as the program computed it. An invoice that is not held rejects with `CONFLICT`
   * naming its status, so releasing twice issues it once. Resolves to the invoice, now `open`.
   */
  releaseInvoice(request: ReleaseInvoice): Promise<IssuedInvoice>
  /**
   * Voids a held or open invoice (`{ account_id, invoice_id, reason, rebill?, actor?,
   * request_id? }`): its revenue is reversed, and with `rebill: true` its period is billed again
   * from the current data (a new invoice, a new id). An invoice with credit notes against it
   * rejects with `CONFLICT` naming them. Resolves to `{ invoice, revenue_reversed, rebilled? }`.
   */
  voidInvoice(request: VoidInvoice): Promise<VoidedInvoice>
  /**
   * A manual credit note on an open invoice (`{ account_id, invoice_id, reason, lines?: [{ line,
   * amount? }], amount?, actor?, request_id? }`, amounts in cents): chosen lines (numbered from
   * 1) or an amount, never more than is left to credit (`INVALID_INPUT` naming what is left).
   * Resolves to the credit note.
   */
  creditInvoice(request: CreditInvoice): Promise<CreditNote>
  /**
   * The invoice a subscription's next renewal would issue, from the usage so far
   * (`{ account_id, subscription_id }`). Writes nothing.
   */
  previewNextInvoice(request: SubscriptionRef): Promise<Invoice>
  /**
   * Bills everything due at or before `now` (an RFC 3339 instant; the current time when
   * absent), then ships the audit trail when the engine ships to OpenSearch. Resolves to what
   * the run did: subscriptions handled, invoices issued and held, failures.
   */
  runDue(request?: RunDueRequest | undefined | null): Promise<RunDueReport>
  /**
   * A page of an account's invoices by the filters given, oldest (or newest) first
   * (`{ account_id, subscription_id?, customer_id?, status?, issued_from?, issued_to?,
   * order?, limit?, cursor? }`); pass `next_cursor` as `cursor` for the next page.
   */
  listInvoices(request: ListInvoices): Promise<InvoicePage>
  /**
   * The HTML document of a stored invoice (`{ account_id, invoice_id }`): one self-contained
   * page in the account's locale (inline styles, no script, image or link; print it from a
   * browser for a PDF), the same page the CLI and the plan builder show. Rejects with
   * `NOT_FOUND` naming the account or the invoice that is missing.
   */
  renderInvoice(request: InvoiceRef): Promise<string>
  /**
   * The HTML document of a stored credit note (`{ account_id, credit_note_id }`) in the
   * account's locale: the invoice it credits, why, its lines and tax, and the revenue it
   * reverses. Rejects with `NOT_FOUND` naming the account or the credit note that is missing.
   */
  renderCreditNote(request: CreditNoteRef): Promise<string>
  /** A page of an account's credit notes by the filters given, oldest (or newest) first. */
  listCreditNotes(request: ListCreditNotes): Promise<CreditNotePage>
  /**
   * A page of an account's subscriptions by status, plan or customer, oldest (or newest)
   * first.
   */
  listSubscriptions(request: ListSubscriptions): Promise<SubscriptionPage>
  /** A page of an account's customers, by id. */
  listCustomers(request: ListCustomers): Promise<CustomerPage>
  /**
   * Closes the database connections, waiting for calls in flight. Every later call rejects
   * with `CLOSED`; closing twice is harmless.
   */
  close(): Promise<void>
  /** Whether `close()` was called. */
  get closed(): boolean
  /**
   * A page of the platform's events, oldest first (`{ after?, limit?, types?, account_id? }`):
   * at most `limit` (1 to 500, default 100) after the cursor `after` (the `next` of an
   * earlier page), only the `types` given (`invoice.issued`, ...) and the account given.
   * Resolves to `{ events, next, has_more }`; each event's `id` is its idempotency key.
   * Rejects with `INVALID_INPUT` for a bad cursor, type or limit.
   */
  events(request?: EventsRequest | undefined | null): Promise<EventPage>
  /**
   * Adds a webhook endpoint (`{ id, url, secret?, types?, account_id?, from? }`): events are
   * posted to `url` signed by the Standard Webhooks convention. Resolves to
   * `{ webhook, secret }`: the only answer that carries the secret (`whsec_...`; a fresh one
   * when none is given). Rejects with `CONFLICT` for a taken id.
   */
  addWebhook(request: AddWebhook): Promise<AddedWebhook>
  /** Every webhook endpoint with its delivery state, without secrets: `{ webhooks }`. */
  listWebhooks(): Promise<WebhookList>
  /** Enables an endpoint (`{ id }`): the events it missed are delivered by the next pump. */
  enableWebhook(request: WebhookRef): Promise<WebhookInfo>
  /** Disables an endpoint (`{ id }`); its events are kept for when it is enabled again. */
  disableWebhook(request: WebhookRef): Promise<WebhookInfo>
  /** Removes an endpoint (`{ id }`); rejects with `NOT_FOUND` when there is none. */
  removeWebhook(request: WebhookRef): Promise<WebhookInfo>
  /**
   * One pass of the delivery pump (`{ max_events?, max_failures?, timeout_ms?,
   * initial_backoff_ms?, max_backoff_ms? }`): each enabled endpoint that is due gets its
   * events in order until caught up or a failure, which schedules a retry (or disables it
   * after `max_failures` in a row). Call it on a timer. Resolves to what it did.
   */
  deliverWebhooks(request?: DeliverRequest | undefined | null): Promise<DeliverySummary>
}

/**
 * Reads `prompt` as an AI plan's prompt: the pricing program it compiles to, in plain English
 * too, and when its invoices are issued (`outcome: "understood"`), or why it was refused
 * (`outcome: "refused"`, nothing would be billed from it: rephrase).
 *
 * `options` gives the plan's currency and interval (USD, every month by default) and who reads
 * the prompt: `offline` (default: no network, no key), `openai`, or `auto`. Rejects with
 * `INVALID_INPUT` for bad options and `MODEL` when the model cannot be reached.
 */
export declare function interpretPrompt(prompt: string, options?: InterpretOptions | undefined | null): Promise<Interpretation>

/**
 * Does nothing: the cost of one synchronous call from JavaScript into the addon and back, for
 * the boundary benchmark (`bench/interpret.js`).
 */
export declare function noop(): void

/**
 * Bills a scenario (an account, a plan, a subscription, the number of periods, an optional tax
 * rate, shipments and returns) on a throwaway SQLite database, with the offline interpreter,
 * and gives the report `ai-billing preview --json` prints: the invoice timing, the program, its
 * reading and every invoice, amounts as decimal strings.
 *
 * With `{ documents: true }` the report also has `documents: { invoices, credit_notes }`: the
 * HTML document of each invoice and credit note, in order, in the scenario account's locale
 * (what `ai-billing preview --html DIR` writes and the plan builder's preview shows).
 *
 * `scenario` is the scenario object or its JSON text (a scenario file's content). Rejects with
 * `INVALID_INPUT` naming the field for a malformed scenario and `PROMPT_NOT_UNDERSTOOD` when the
 * plan's prompt is refused.
 */
export declare function previewScenario(scenario: Scenario | string, options?: PreviewScenarioOptions | undefined | null): Promise<PreviewReport | DocumentedPreview>

/**
 * The predefined usage queries (the only usage sources a plan can name), each with what it
 * counts, the databases it runs on, and whether plans use it when they name none. For a plan
 * form's usage source selector.
 */
export declare function usageQueries(): UsageQuery[]
