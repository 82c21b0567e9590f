// Safe retries through BillingEngine (issue 20): a createSubscription or a change sent again with
// the same key and body (a retry after a timeout) resolves to what the first call resolved to and
// writes nothing new; the same key with another body rejects with err.code CONFLICT, which a
// client can tell from a bad request (INVALID_INPUT).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { BillingEngine } = require('..');

const ACCOUNT = 'acct_retries';
const ZONE = 'America/New_York';

/** Today's local date in the account's zone, `YYYY-MM-DD`. */
function localToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date());
}

/** Resolves to the error `promise` rejects with (and fails when it resolves). */
async function rejection(promise) {
  try {
    const value = await promise;
    assert.fail(`expected a rejection, got ${JSON.stringify(value)}`);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return error;
  }
}

async function setUp(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-billing-node-retries-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const engine = await BillingEngine.open({ databaseUrl: `sqlite://${path.join(dir, 'billing.db')}` });
  t.after(() => engine.close());
  await engine.saveAccount({ account: { id: ACCOUNT, abstracted: true, timezone: ZONE } });
  await engine.saveCustomer({ customer: { account_id: ACCOUNT, id: 'cus_1' } });
  const plan = {
    account_id: ACCOUNT,
    plan: { id: 'plan_31', type: 'ai', nickname: 'plan_31', currency: 'USD', interval: 'month', ai_prompt: '$31 per month' },
  };
  const saved = await engine.createPlan(plan);
  // The same plan saved again answers the same version.
  assert.deepEqual(await engine.createPlan(plan), saved);
  return engine;
}

/** Every invoice and credit note of the account: what a retry must not add to. */
async function written(engine) {
  const invoices = await engine.listInvoices({ account_id: ACCOUNT });
  const notes = await engine.listCreditNotes({ account_id: ACCOUNT });
  return { invoices: invoices.data.length, notes: notes.data.length };
}

test('createSubscription retried answers the first answer; another body is CONFLICT', async (t) => {
  const engine = await setUp(t);
  const request = {
    account_id: ACCOUNT,
    id: 'sub_1',
    customer_id: 'cus_1',
    plan_id: 'plan_31',
    quantity: 1,
    start_date: localToday(),
  };
  const created = await engine.createSubscription(request);
  assert.ok(created.invoice, 'billed in advance');
  const before = await written(engine);
  assert.deepEqual(await engine.createSubscription(request), created);
  // The same request with its keys in another order and a default spelled out.
  const reordered = { start_date: request.start_date, actor: 'api', ...request };
  assert.deepEqual(await engine.createSubscription(reordered), created);
  assert.deepEqual(await written(engine), before);

  const error = await rejection(engine.createSubscription({ ...request, quantity: 2 }));
  assert.equal(error.code, 'CONFLICT');
  assert.match(error.message, /sub_1/);
  assert.match(error.message, /differed/);

  // Keyed by a request_id: the key reused for another subscription is a conflict naming it.
  const keyed = { ...request, id: 'sub_2', request_id: 'create-2' };
  const second = await engine.createSubscription(keyed);
  assert.deepEqual(await engine.createSubscription(keyed), second);
  const reused = await rejection(engine.createSubscription({ ...keyed, id: 'sub_3' }));
  assert.equal(reused.code, 'CONFLICT');
  assert.match(reused.message, /create-2/);
});

test('a change retried with its request_id answers the first answer; another body is CONFLICT', async (t) => {
  const engine = await setUp(t);
  await engine.createSubscription({
    account_id: ACCOUNT,
    id: 'sub_1',
    customer_id: 'cus_1',
    plan_id: 'plan_31',
    start_date: localToday(),
  });
  const cancel = {
    account_id: ACCOUNT,
    subscription_id: 'sub_1',
    effective: 'immediately',
    request_id: 'cancel-1',
  };
  const canceled = await engine.cancelSubscription(cancel);
  const before = await written(engine);
  assert.deepEqual(await engine.cancelSubscription(cancel), canceled);
  assert.deepEqual(await written(engine), before, 'no second credit note');

  const error = await rejection(engine.cancelSubscription({ ...cancel, credit_unused: false }));
  assert.equal(error.code, 'CONFLICT');
  assert.match(error.message, /cancel-1/);
  assert.match(error.message, /differed/);

  const quantity = { account_id: ACCOUNT, subscription_id: 'sub_1', quantity: 3, request_id: 'qty-1' };
  const updated = await engine.updateSubscription(quantity);
  assert.deepEqual(await engine.updateSubscription(quantity), updated);
  const badKey = await rejection(engine.updateSubscription({ ...quantity, request_id: '' }));
  assert.equal(badKey.code, 'INVALID_INPUT');
  assert.match(badKey.message, /request_id/);
});
