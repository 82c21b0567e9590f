// BillingEngine end to end: the same flow on a temporary SQLite file and, when
// AI_BILLING_TEST_POSTGRES names an admin URL, on a PostgreSQL database created for the run.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { BillingEngine } = require('..');

const ACCOUNT = 'acct_node';
const STEP_UP = 'Bill $5 for the first month and increase by $1 per month';
const DAY_MS = 24 * 60 * 60 * 1000;

/** A local date `days` ago, `YYYY-MM-DD`. */
function daysAgo(days) {
  return new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10);
}

/** Resolves to the error `promise` rejects with (and fails when it resolves). */
async function rejection(promise) {
  try {
    const value = await promise;
    assert.fail(`expected a rejection, got ${JSON.stringify(value)}`);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    assert.ok(error instanceof Error, 'rejects with an Error');
    return error;
  }
}

function tempSqliteUrl(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-billing-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return `sqlite://${path.join(dir, 'billing.db')}`;
}

/** The whole flow on one database: plans, a subscription, a quantity change, a run. */
async function flow(databaseUrl) {
  const engine = await BillingEngine.open({ databaseUrl });
  assert.equal(engine.closed, false);
  try {
    const account = await engine.saveAccount({
      account: { id: ACCOUNT, abstracted: true, timezone: 'America/New_York' },
      actor: 'node-test',
    });
    assert.deepEqual(account, { id: ACCOUNT, abstracted: true, timezone: 'America/New_York' });
    assert.deepEqual(await engine.getAccount({ account_id: ACCOUNT }), account);
    const customer = await engine.saveCustomer({ customer: { account_id: ACCOUNT, id: 'cus_1' } });
    assert.equal(customer.id, 'cus_1');

    const ai = await engine.createPlan({
      account_id: ACCOUNT,
      plan: {
        id: 'plan_ai',
        type: 'ai',
        nickname: 'Step-up',
        currency: 'USD',
        interval: 'month',
        ai_prompt: STEP_UP,
      },
    });
    assert.equal(ai.version, 1);
    assert.equal(ai.interpreter, 'offline');
    assert.equal(ai.plan.ai_prompt, STEP_UP);
    assert.equal(ai.program.recurring[0].phases[0].amount, '5');

    const standard = await engine.createPlan({
      account_id: ACCOUNT,
      plan: { id: 'plan_std', type: 'standard', currency: 'USD', interval: 'month', amount: 1200 },
    });
    assert.equal(standard.plan.amount, 1200, 'a standard plan amount is integer cents');
    assert.equal(standard.program.recurring[0].phases[0].amount, '12.00');

    // Both kinds list side by side, in plan id order, with the same fields.
    const page = await engine.listPlans({ account_id: ACCOUNT });
    assert.deepEqual(
      page.plans.map((p) => [p.plan.id, p.plan.type]),
      [
        ['plan_ai', 'ai'],
        ['plan_std', 'standard'],
      ],
    );
    assert.equal(page.next_after, undefined);
    const fields = (version) => Object.keys(version).filter((k) => k !== 'interpreter').sort();
    assert.deepEqual(fields(page.plans[0]), fields(page.plans[1]));
    assert.deepEqual(fields(page.plans[0]), ['account_id', 'created_at', 'plan', 'program', 'version']);
    assert.deepEqual(Object.keys(page.plans[0].plan).sort(), [...Object.keys(page.plans[1].plan), 'ai_prompt'].sort());
    const firstPage = await engine.listPlans({ account_id: ACCOUNT, limit: 1 });
    assert.equal(firstPage.next_after, 'plan_ai');
    const secondPage = await engine.listPlans({ account_id: ACCOUNT, after: firstPage.next_after });
    assert.deepEqual(secondPage.plans.map((p) => p.plan.id), ['plan_std']);

    assert.deepEqual(await engine.getPlan({ account_id: ACCOUNT, plan_id: 'plan_ai' }), ai);
    assert.deepEqual(await engine.getPlan({ account_id: ACCOUNT, plan_id: 'plan_std', version: 1 }), standard);

    // Started 70 days ago: the first period is billed at creation (in advance), two more are owed.
    const start = daysAgo(70);
    const created = await engine.createSubscription({
      account_id: ACCOUNT,
      id: 'sub_1',
      customer_id: 'cus_1',
      plan_id: 'plan_ai',
      quantity: 1,
      start_date: start,
    });
    assert.equal(created.subscription.start_date, start);
    assert.equal(created.subscription.status, 'active');
    assert.equal(created.invoice.billing_reason, 'subscription_create');
    assert.equal(created.invoice.period_index, 1);
    assert.equal(created.invoice.total, '5.00', 'money crosses as decimal strings');
    assert.deepEqual(await engine.getSubscription({ account_id: ACCOUNT, subscription_id: 'sub_1' }), created.subscription);

    const next = await engine.previewNextInvoice({ account_id: ACCOUNT, subscription_id: 'sub_1' });
    assert.equal(next.period_index, 2);
    assert.equal(next.line_items[0].amount, '6.00');
    assert.equal(next.total, '6.00');

    const report = await engine.runDue({ now: new Date().toISOString() });
    assert.equal(report.subscriptions, 1);
    assert.equal(report.issued, 2);
    assert.equal(report.held, 0);
    assert.equal(report.failed, 0);
    assert.deepEqual(report.failures, []);
    assert.equal(typeof report.run_id, 'string');

    // A quantity change (no proration): from the next invoice issued. Billing runs come first
    // (billing-conventions.md), so a change made before the run would have billed periods 2
    // and 3 at quantity 1 all the same.
    const billed = await engine.getSubscription({ account_id: ACCOUNT, subscription_id: 'sub_1' });
    const updated = await engine.updateSubscription({
      account_id: ACCOUNT,
      subscription_id: 'sub_1',
      quantity: 2,
    });
    assert.equal(updated.quantity, 2);
    assert.equal(updated.revision, billed.revision + 1);
    const after = await engine.previewNextInvoice({ account_id: ACCOUNT, subscription_id: 'sub_1' });
    assert.equal(after.period_index, 4);
    assert.equal(after.total, '16.00', '$8 for period 4, two copies');

    const { data: invoices, next_cursor } = await engine.listInvoices({ account_id: ACCOUNT, subscription_id: 'sub_1' });
    assert.equal(next_cursor, null, 'one page holds them all');
    assert.deepEqual(
      invoices.map((i) => [i.period_index, i.quantity, i.billing_reason, i.total]),
      [
        [1, 1, 'subscription_create', '5.00'],
        [2, 1, 'subscription_cycle', '6.00'],
        [3, 1, 'subscription_cycle', '7.00'],
      ],
    );
    const first = await engine.listInvoices({ account_id: ACCOUNT, limit: 1 });
    assert.deepEqual(first.data, invoices.slice(0, 1));
    const second = await engine.listInvoices({ account_id: ACCOUNT, limit: 1, cursor: first.next_cursor });
    assert.deepEqual(second.data, invoices.slice(1, 2));
    const newest = await engine.listInvoices({ account_id: ACCOUNT, limit: 1, order: 'desc' });
    assert.deepEqual(newest.data, invoices.slice(-1));
    // A second run finds nothing due.
    assert.equal((await engine.runDue({ now: new Date().toISOString() })).issued, 0);
  } finally {
    await engine.close();
  }
  assert.equal(engine.closed, true);
  const closed = await rejection(engine.listPlans({ account_id: ACCOUNT }));
  assert.equal(closed.code, 'CLOSED');
  assert.match(closed.message, /closed/);
  await engine.close(); // closing twice is harmless
}

test('the engine flow on a SQLite file', async (t) => {
  await flow(tempSqliteUrl(t));
});

test('the engine flow on PostgreSQL', async (t) => {
  const admin = process.env.AI_BILLING_TEST_POSTGRES;
  if (!admin) {
    t.skip('AI_BILLING_TEST_POSTGRES is not set');
    return;
  }
  const database = `ai_billing_node_${process.pid}_${Date.now()}`;
  const psql = (sql) => execFileSync('psql', [admin, '-v', 'ON_ERROR_STOP=1', '-qc', sql], { stdio: 'pipe' });
  psql(`CREATE DATABASE ${database}`);
  t.after(() => psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  const url = new URL(admin);
  url.pathname = `/${database}`;
  await flow(url.toString());
});

test('errors carry a stable code and name the field', async (t) => {
  const engine = await BillingEngine.open({ databaseUrl: tempSqliteUrl(t) });
  t.after(() => engine.close());
  await engine.saveAccount({ account: { id: ACCOUNT, abstracted: true, timezone: 'UTC' } });
  await engine.saveAccount({ account: { id: 'acct_plain', abstracted: false, timezone: 'UTC' } });
  await engine.saveCustomer({ customer: { account_id: ACCOUNT, id: 'cus_1' } });
  await engine.createPlan({
    account_id: ACCOUNT,
    plan: { id: 'plan_std', type: 'standard', currency: 'USD', interval: 'month', amount: 1200 },
  });
  const aiPlan = (account_id, id, ai_prompt) => ({
    account_id,
    plan: { id, type: 'ai', currency: 'USD', interval: 'month', ai_prompt },
  });

  let error = await rejection(engine.createPlan(aiPlan('acct_plain', 'plan_ai', STEP_UP)));
  assert.equal(error.code, 'PLAN_NOT_AVAILABLE');
  assert.match(error.message, /acct_plain is not abstracted/);

  error = await rejection(engine.createPlan(aiPlan(ACCOUNT, 'plan_fair', 'charge whatever seems fair')));
  assert.equal(error.code, 'PROMPT_NOT_UNDERSTOOD');
  assert.match(error.message, /not understood/);
  error = await rejection(engine.getPlan({ account_id: ACCOUNT, plan_id: 'plan_fair' }));
  assert.equal(error.code, 'NOT_FOUND', 'a refused prompt saves nothing');
  assert.match(error.message, /plan "plan_fair" was not found/);

  const subscription = {
    account_id: ACCOUNT,
    id: 'sub_1',
    customer_id: 'cus_1',
    plan_id: 'plan_std',
    quantity: 1,
    start_date: daysAgo(1),
  };
  const invalid = async (promise, pattern) => {
    const e = await rejection(promise);
    assert.equal(e.code, 'INVALID_INPUT', e.message);
    assert.match(e.message, pattern);
  };
  await invalid(engine.createSubscription({ ...subscription, quantity: 0 }), /quantity/);
  await invalid(engine.createSubscription({ ...subscription, quantity: '2' }), /^invalid request\.quantity: invalid type: string "2"/);
  await invalid(engine.createSubscription({ ...subscription, quantity: 1.5 }), /request\.quantity: .*floating point/);
  await invalid(engine.createSubscription({ ...subscription, quantity: 5e9 }), /request\.quantity: invalid value: integer `5000000000`/);
  await invalid(engine.createSubscription({ ...subscription, start_date: 'tomorrow' }), /request\.start_date/);
  await invalid(engine.createSubscription({ ...subscription, extra: true }), /unknown field `extra`/);
  const { customer_id, ...missing } = subscription;
  await invalid(engine.createSubscription(missing), /missing field `customer_id`/);
  await invalid(engine.createSubscription('sub_1'), /^invalid request: invalid type: string/);
  await invalid(engine.createSubscription(), /^invalid request: is missing/);
  await invalid(
    engine.createPlan({
      account_id: ACCOUNT,
      plan: { id: 'plan_x', type: 'standard', currency: 'USX', interval: 'month', amount: 100 },
    }),
    /request\.plan\.currency: unknown currency "USX"/,
  );
  await invalid(
    engine.createPlan({
      account_id: ACCOUNT,
      plan: { id: 'plan_x', type: 'standard', currency: 'USD', interval: 'fortnight', amount: 100 },
    }),
    /request\.plan\.interval/,
  );
  await invalid(engine.saveAccount({ account: { id: 'a', abstracted: 'yes', timezone: 'UTC' } }), /request\.account\.abstracted/);
  await invalid(engine.saveAccount({ account: { id: 'a', abstracted: true, timezone: 'Mars/Base' } }), /request\.account\.timezone/);
  await invalid(engine.listPlans({ account_id: ACCOUNT, limit: 0 }), /limit/);
  await invalid(BillingEngine.open({ databaseUrl: 'sqlite::memory:', concurrency: 0 }), /concurrency/);
  await invalid(BillingEngine.open({ database_url: 'sqlite::memory:' }), /unknown field `database_url`/);
  await invalid(BillingEngine.open({ databaseUrl: 'sqlite::memory:', interpreter: 'oracle' }), /options\.interpreter/);

  error = await rejection(engine.createSubscription({ ...subscription, plan_id: 'plan_missing' }));
  assert.equal(error.code, 'NOT_FOUND');
  assert.match(error.message, /plan_missing/);
  error = await rejection(engine.getAccount({ account_id: 'acct_missing' }));
  assert.equal(error.code, 'NOT_FOUND');
  assert.match(error.message, /account "acct_missing" was not found/);
  error = await rejection(engine.getSubscription({ account_id: ACCOUNT, subscription_id: 'sub_missing' }));
  assert.equal(error.code, 'NOT_FOUND');
  error = await rejection(engine.previewNextInvoice({ account_id: ACCOUNT, subscription_id: 'sub_missing' }));
  assert.equal(error.code, 'NOT_FOUND');
  error = await rejection(engine.updateSubscription({ account_id: ACCOUNT, subscription_id: 'sub_missing', quantity: 2 }));
  assert.equal(error.code, 'NOT_FOUND');

  // Nothing above was written: the account still has only its standard plan.
  const page = await engine.listPlans({ account_id: ACCOUNT });
  assert.deepEqual(page.plans.map((p) => p.plan.id), ['plan_std']);
});

test('calls run side by side on one engine', async (t) => {
  const engine = await BillingEngine.open({ databaseUrl: tempSqliteUrl(t) });
  t.after(() => engine.close());
  await engine.saveAccount({ account: { id: ACCOUNT, abstracted: true, timezone: 'UTC' } });
  const ids = Array.from({ length: 20 }, (_, i) => `plan_${String(i).padStart(2, '0')}`);
  await Promise.all(
    ids.map((id, i) =>
      engine.createPlan({
        account_id: ACCOUNT,
        plan: { id, type: 'standard', currency: 'EUR', interval: 'month', amount: 100 + i },
      }),
    ),
  );
  const page = await engine.listPlans({ account_id: ACCOUNT });
  assert.deepEqual(page.plans.map((p) => p.plan.id), ids);
  assert.deepEqual(page.plans.map((p) => p.plan.amount), ids.map((_, i) => 100 + i));
});

test('a database that cannot be opened is a STORAGE error', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-billing-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const error = await rejection(
    BillingEngine.open({ databaseUrl: `sqlite://${path.join(dir, 'missing', 'folder', 'b.db')}` }),
  );
  assert.equal(error.code, 'STORAGE', error.message);
  const scheme = await rejection(BillingEngine.open({ databaseUrl: 'oracle://db' }));
  assert.equal(scheme.code, 'INVALID_INPUT', scheme.message);
});
