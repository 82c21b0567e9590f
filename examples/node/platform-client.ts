// The platform's HTTP API from TypeScript, typed by the OpenAPI document that @pelcro/ai-billing
// ships (openapi.json): a small fetch wrapper that creates a subscription and changes it safely
// (Idempotency-Key), pages through invoices with cursors, voids and credits one, and reads the
// webhooks' events. Every request and answer type comes from the document, none is written by hand:
//
//   npm install
//   npm run types       # openapi-typescript openapi.json -> platform-api.d.ts (not committed)
//   npm run typecheck   # tsc --noEmit
//
// bindings-node/test/openapi.test.js generates the types from the repository's openapi.json and
// type-checks this file the same way.

import type { components, operations, webhooks } from './platform-api';

type Schemas = components['schemas'];

/** The JSON answer of an operation for one status. */
type Answer<Op extends keyof operations, Status extends keyof operations[Op]['responses']> =
  operations[Op]['responses'][Status] extends { content: { 'application/json': infer Body } }
    ? Body
    : never;

/** The query of an operation. */
type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

export type Invoice = Schemas['IssuedInvoice'];
export type PlatformEvent = Schemas['PlatformEvent'];
export type ErrorCode = Schemas['ErrorCode'];

/** A failed request: the HTTP status and the library's stable code. */
export class PlatformError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

type QueryValue = string | number | boolean | readonly string[] | undefined;

/** A client of the platform's HTTP API. */
export class PlatformClient {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  private async call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: { query?: Record<string, QueryValue>; body?: unknown; idempotencyKey?: string } = {},
  ): Promise<T> {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value === undefined) continue;
      // `types` is an array sent comma-separated (style: form, explode: false).
      url.searchParams.set(name, Array.isArray(value) ? value.join(',') : String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const response = await this.fetchImpl(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    if (!response.ok) {
      const { error } = (await response.json()) as Schemas['ErrorBody'];
      throw new PlatformError(response.status, error.code, error.message, error.field);
    }
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  /** An AI plan, in the same shape and at the same path as a standard plan. */
  createPlan(body: Schemas['SavePlanBody'], idempotencyKey: string): Promise<Answer<'createPlan', 201>> {
    return this.call('POST', '/v1/plans', { body, idempotencyKey });
  }

  createSubscription(
    body: Schemas['CreateSubscriptionBody'],
    idempotencyKey: string,
  ): Promise<Answer<'createSubscription', 201>> {
    return this.call('POST', '/v1/subscriptions', { body, idempotencyKey });
  }

  changeQuantity(
    subscriptionId: string,
    body: Schemas['ChangeQuantityBody'],
    idempotencyKey: string,
  ): Promise<Answer<'changeQuantity', 200>> {
    const path = `/v1/subscriptions/${encodeURIComponent(subscriptionId)}/quantity`;
    return this.call('POST', path, { body, idempotencyKey });
  }

  cancel(
    subscriptionId: string,
    body: Schemas['CancelSubscriptionBody'],
    idempotencyKey: string,
  ): Promise<Answer<'cancelSubscription', 200>> {
    const path = `/v1/subscriptions/${encodeURIComponent(subscriptionId)}/cancel`;
    return this.call('POST', path, { body, idempotencyKey });
  }

  voidInvoice(
    invoiceId: string,
    body: Schemas['VoidInvoiceBody'],
    idempotencyKey: string,
  ): Promise<Answer<'voidInvoice', 200>> {
    const path = `/v1/invoices/${encodeURIComponent(invoiceId)}/void`;
    return this.call('POST', path, { body, idempotencyKey });
  }

  listInvoices(query: Query<'listInvoices'>): Promise<Answer<'listInvoices', 200>> {
    return this.call('GET', '/v1/invoices', { query });
  }

  /** Every invoice the filters select, page after page, each once. */
  async *invoices(query: Omit<Query<'listInvoices'>, 'cursor'>): AsyncGenerator<Invoice> {
    let cursor: string | undefined;
    do {
      const page = await this.listInvoices({ ...query, cursor });
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** Credits part of an open invoice: a credit note for an amount (minor units) or lines. */
  creditInvoice(
    invoiceId: string,
    body: Schemas['CreditInvoiceBody'],
    idempotencyKey: string,
  ): Promise<Answer<'creditInvoice', 200>> {
    const path = `/v1/invoices/${encodeURIComponent(invoiceId)}/credit-notes`;
    return this.call('POST', path, { body, idempotencyKey });
  }

  /** The events after `after` (the pull feed); keep `next` for the next call. */
  events(query: Query<'listEvents'>): Promise<Answer<'listEvents', 200>> {
    return this.call('GET', '/v1/events', { query });
  }
}

/** The body of one webhook, by its event type. */
export type WebhookBody<Type extends keyof webhooks> = NonNullable<
  NonNullable<webhooks[Type]['post']>['requestBody']
>['content']['application/json'];

/** What a backend does with an issued invoice: charge the card, email the subscriber. */
export function onInvoiceIssued(event: WebhookBody<'invoice.issued'>): string {
  // The envelope's type is the webhook's own, and its data is the invoice's.
  const type: 'invoice.issued' = event.type;
  return `${type} ${event.data.id} for ${event.data.total ?? '?'} ${event.data.currency ?? ''} (event ${event.id})`;
}

/** Bills an account's usage plan, then totals what it invoiced this year, newest first. */
export async function example(client: PlatformClient): Promise<string[]> {
  const lines: string[] = [];
  const plan = await client.createPlan(
    {
      account_id: 'acct_1',
      plan: {
        id: 'plan_daily',
        type: 'ai',
        nickname: 'Daily paper',
        currency: 'USD',
        interval: 'month',
        ai_prompt: '$0.75 per delivery Monday to Saturday and $2.50 per Sunday delivery',
        usage_query: 'shipments_by_weekday',
      },
    },
    'create-plan-daily',
  );
  lines.push(`plan ${plan.plan.id ?? ''} v${plan.version}: ${plan.plan.type}`);

  const created = await client.createSubscription(
    { account_id: 'acct_1', id: 'sub_1', customer_id: 'cus_1', plan_id: 'plan_daily', quantity: 2, start_date: '2026-01-31' },
    'create-sub-1',
  );
  lines.push(`subscription ${created.subscription.id}, first invoice ${created.invoice?.total ?? 'none'}`);

  try {
    await client.changeQuantity('sub_1', { account_id: 'acct_1', quantity: 3, proration: 'prorate' }, 'qty-sub-1');
  } catch (error) {
    // A retry with the same key and another body: the change was made once already.
    if (error instanceof PlatformError && error.code === 'CONFLICT') lines.push('quantity: already changed');
    else throw error;
  }

  let total = 0;
  for await (const invoice of client.invoices({
    account_id: 'acct_1',
    status: 'open',
    issued_from: '2026-01-01',
    issued_to: '2026-12-31',
    order: 'desc',
    limit: 100,
  })) {
    // Amounts are decimal strings in major units; count cents, never floats.
    total += Math.round(Number(invoice.total.replace('.', '')));
  }
  lines.push(`invoiced ${total} cents`);

  const note = await client.creditInvoice(
    'inv_1',
    { account_id: 'acct_1', amount: 500, reason: 'late delivery' },
    'credit-inv-1',
  );
  lines.push(`credit note ${note.id}: ${note.total} ${note.currency}`);

  const page = await client.events({ account_id: 'acct_1', types: ['invoice.issued', 'credit_note.issued'], limit: 50 });
  lines.push(`${page.events.length} events, more: ${page.has_more}, next ${page.next}`);
  return lines;
}

// The types are the document's, not `any`: each line below must fail to type-check.
// @ts-expect-error a quantity is a number
export const badQuantity: Schemas['ChangeQuantityBody'] = { account_id: 'acct_1', quantity: '2' };
// @ts-expect-error the subscription is in the path, not the body
export const badBody: Schemas['ChangeQuantityBody'] = { account_id: 'acct_1', quantity: 2, subscription_id: 's' };
// @ts-expect-error a page size is a number
export const badQuery: Query<'listInvoices'> = { account_id: 'acct_1', limit: 'all' };
// @ts-expect-error only the documented codes exist
export const badCode: ErrorCode = 'TEAPOT';
