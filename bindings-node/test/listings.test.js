// Listings through BillingEngine (issue 20): pages of invoices, credit notes, subscriptions and
// customers with opaque cursors, filters, both orders and bounded page sizes.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { BillingEngine } = require('..');

const ACCOUNT = 'acct_listings';
const DAY_MS = 24 * 60 * 60 * 1000;

function daysAgo(days) {
  return new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10);
}

async function setUp(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-billing-node-listings-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const engine = await BillingEngine.open({ databaseUrl: `sqlite://${path.join(dir, 'billing.db')}` });
  t.after(() => engine.close());
  await engine.saveAccount({ account: { id: ACCOUNT, abstracted: true, timezone: 'UTC' } });
  for (const id of ['cus_a', 'cus_b', 'cus_c']) {
    await engine.saveCustomer({ customer: { account_id: ACCOUNT, id } });
  }
  for (const [id, amount] of [['plan_10', 1000], ['plan_20', 2000]]) {
    await engine.createPlan({
      account_id: ACCOUNT,
      plan: { id, type: 'standard', currency: 'USD', interval: 'month', amount },
    });
  }
  // Seven subscriptions, started 100 days ago: each has its first invoice and three renewals.
  for (let i = 0; i < 7; i++) {
    await engine.createSubscription({
      account_id: ACCOUNT,
      id: `sub_${i}`,
      customer_id: ['cus_a', 'cus_b', 'cus_c'][i % 3],
      plan_id: i % 2 === 0 ? 'plan_10' : 'plan_20',
      quantity: 1,
      start_date: daysAgo(100),
    });
  }
  await engine.runDue({ now: new Date().toISOString() });
  return engine;
}

/** Every item of a listing, page after page of `limit`, with the number of pages read. */
async function all(list, request, limit) {
  const items = [];
  let cursor;
  let pages = 0;
  for (;;) {
    const page = await list({ ...request, limit, ...(cursor ? { cursor } : {}) });
    pages += 1;
    assert.ok(page.data.length <= limit, 'a page holds at most its limit');
    items.push(...page.data);
    if (page.next_cursor === null) return { items, pages };
    assert.equal(typeof page.next_cursor, 'string');
    cursor = page.next_cursor;
  }
}

test('invoices page by cursor, each once, oldest or newest first, filtered', async (t) => {
  const engine = await setUp(t);
  const list = (request) => engine.listInvoices(request);
  const whole = (await list({ account_id: ACCOUNT, limit: 500 })).data;
  assert.ok(whole.length >= 7 * 4, `every subscription has 4 or more invoices (${whole.length})`);

  const { items, pages } = await all(list, { account_id: ACCOUNT }, 3);
  assert.deepEqual(items.map((i) => i.id), whole.map((i) => i.id), 'pages of 3 read the same, in order');
  assert.equal(pages, Math.floor(whole.length / 3) + 1);
  assert.equal(new Set(items.map((i) => i.id)).size, items.length, 'no invoice twice');

  const newest = await all(list, { account_id: ACCOUNT, order: 'desc' }, 4);
  assert.deepEqual(newest.items.map((i) => i.id), whole.map((i) => i.id).reverse());

  const customer = await all(list, { account_id: ACCOUNT, customer_id: 'cus_b' }, 2);
  assert.ok(customer.items.length > 0);
  assert.ok(customer.items.every((i) => ['sub_1', 'sub_4'].includes(i.subscription_id)));
  assert.equal(customer.items.length, whole.filter((i) => ['sub_1', 'sub_4'].includes(i.subscription_id)).length);

  const one = (await list({ account_id: ACCOUNT, subscription_id: 'sub_3' })).data;
  assert.ok(one.length >= 4 && one.every((i) => i.subscription_id === 'sub_3'));
  const periods = one.map((i) => i.period_index);
  assert.deepEqual(periods, [...periods].sort((a, b) => a - b), 'a subscription oldest first by period');

  const from = one[1].issue_date;
  const dated = (await list({ account_id: ACCOUNT, subscription_id: 'sub_3', issued_from: from })).data;
  assert.ok(dated.every((i) => i.issue_date >= from));
  assert.ok(dated.length < one.length);

  assert.deepEqual((await list({ account_id: ACCOUNT, status: 'held' })).data, [], 'no held invoices');
  assert.equal((await list({ account_id: 'acct_other' })).data.length, 0, 'another account sees none');
});

test('subscriptions and customers page with filters', async (t) => {
  const engine = await setUp(t);
  const subs = await all((r) => engine.listSubscriptions(r), { account_id: ACCOUNT }, 2);
  assert.deepEqual(subs.items.map((s) => s.id).sort(), ['sub_0', 'sub_1', 'sub_2', 'sub_3', 'sub_4', 'sub_5', 'sub_6']);
  assert.equal(subs.pages, 4);

  const onPlan = (await engine.listSubscriptions({ account_id: ACCOUNT, plan_id: 'plan_20' })).data;
  assert.deepEqual(onPlan.map((s) => s.id).sort(), ['sub_1', 'sub_3', 'sub_5']);
  const ofCustomer = (await engine.listSubscriptions({ account_id: ACCOUNT, customer_id: 'cus_a', order: 'desc' })).data;
  assert.deepEqual(ofCustomer.map((s) => s.id).sort(), ['sub_0', 'sub_3', 'sub_6']);
  assert.equal((await engine.listSubscriptions({ account_id: ACCOUNT, status: 'active' })).data.length, 7);
  assert.equal((await engine.listSubscriptions({ account_id: ACCOUNT, status: 'canceled' })).data.length, 0);

  const customers = await all((r) => engine.listCustomers(r), { account_id: ACCOUNT }, 2);
  assert.deepEqual(customers.items.map((c) => c.id), ['cus_a', 'cus_b', 'cus_c']);
});

test('bad page sizes and cursors are INVALID_INPUT naming the field', async (t) => {
  const engine = await setUp(t);
  for (const [request, field] of [
    [{ account_id: ACCOUNT, limit: 0 }, 'limit'],
    [{ account_id: ACCOUNT, limit: 501 }, 'limit'],
    [{ account_id: ACCOUNT, cursor: 'not a cursor' }, 'cursor'],
  ]) {
    await assert.rejects(engine.listInvoices(request), (error) => {
      assert.equal(error.code, 'INVALID_INPUT');
      assert.match(error.message, new RegExp(field));
      return true;
    });
  }
  const asc = await engine.listInvoices({ account_id: ACCOUNT, limit: 1 });
  await assert.rejects(
    engine.listInvoices({ account_id: ACCOUNT, order: 'desc', cursor: asc.next_cursor }),
    (error) => error.code === 'INVALID_INPUT' && /cursor/.test(error.message),
  );
});
