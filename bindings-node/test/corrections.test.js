// Invoice corrections through BillingEngine (issue 19, billing-conventions.md "Invoice
// corrections"): void with its revenue reversed and the period billed again, manual credit
// notes never more than is left, and the refusals with their stable codes. (Releasing a held
// invoice needs a model that disagrees: the Rust tests cover it, on every store.)
//
// The engine bills on the system clock, so the subscription starts 40 local days before today:
// a billing run issues its first two periods ($31 a month, in advance, 8.25% tax).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { BillingEngine } = require('..');

const ACCOUNT = 'acct_corrections';
const ZONE = 'America/New_York';
const DAY_MS = 24 * 60 * 60 * 1000;

function localToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date());
}

function addDays(date, days) {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
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

/** The sum of decimal strings with two decimals, as a decimal string (exact: in cents). */
function sum(amounts) {
  const cents = amounts.reduce((total, amount) => total + BigInt(amount.replace('.', '')), 0n);
  return `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
}

test('void and re-bill, credit notes, and the refusals', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-billing-node-corrections-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const engine = await BillingEngine.open({
    databaseUrl: `sqlite://${path.join(dir, 'billing.db')}`,
    tax: { rate: '0.0825' },
  });
  t.after(() => engine.close());
  await engine.saveAccount({ account: { id: ACCOUNT, abstracted: true, timezone: ZONE } });
  await engine.saveCustomer({ customer: { account_id: ACCOUNT, id: 'cus_1' } });
  await engine.createPlan({
    account_id: ACCOUNT,
    plan: { id: 'plan_31', type: 'ai', nickname: 'p', currency: 'USD', interval: 'month', ai_prompt: '$31 per month' },
  });
  await engine.createSubscription({
    account_id: ACCOUNT,
    id: 'sub_1',
    customer_id: 'cus_1',
    plan_id: 'plan_31',
    start_date: addDays(localToday(), -40),
  });
  await engine.runDue();
  const { data: invoices } = await engine.listInvoices({ account_id: ACCOUNT, subscription_id: 'sub_1' });
  assert.equal(invoices.length, 2);
  const [first, last] = invoices;

  // Void the period billed last and bill it again: a new id, the same amounts.
  const voided = await engine.voidInvoice({
    account_id: ACCOUNT,
    invoice_id: last.id,
    rebill: true,
    actor: 'node-test',
    reason: 'issued on wrong data',
  });
  assert.equal(voided.invoice.id, last.id);
  assert.equal(voided.invoice.status, 'void');
  assert.equal(sum(voided.revenue_reversed.map((entry) => entry.amount)), '31.00');
  const rebilled = voided.rebilled;
  assert.equal(rebilled.id, `${last.id}_r1`);
  assert.equal(rebilled.status, 'open');
  assert.deepEqual([rebilled.subtotal, rebilled.tax, rebilled.total], ['31.00', '2.56', '33.56']);
  const { data: listed } = await engine.listInvoices({ account_id: ACCOUNT, subscription_id: 'sub_1' });
  assert.deepEqual(listed.map((i) => [i.id, i.status]), [
    [first.id, 'open'],
    [last.id, 'void'],
    [rebilled.id, 'open'],
  ]);

  // A credit of 5.00 on line 1, with the invoice's tax; then more than is left is refused.
  const note = await engine.creditInvoice({
    account_id: ACCOUNT,
    invoice_id: rebilled.id,
    lines: [{ line: 1, amount: 500 }],
    reason: 'a missed delivery',
  });
  assert.equal(note.id, 'cn_sub_1_1');
  assert.equal(note.reason, 'manual');
  assert.deepEqual([note.subtotal, note.tax, note.total], ['5.00', '0.41', '5.41']);
  assert.equal(sum(note.revenue_reversed.map((entry) => entry.amount)), '5.00');
  const tooMuch = await rejection(
    engine.creditInvoice({ account_id: ACCOUNT, invoice_id: rebilled.id, amount: 2700, reason: 'x' }),
  );
  assert.equal(tooMuch.code, 'INVALID_INPUT', tooMuch.message);
  assert.match(tooMuch.message, /26\.00 left/);
  const both = await rejection(
    engine.creditInvoice({ account_id: ACCOUNT, invoice_id: rebilled.id, amount: 1, lines: [{ line: 1 }], reason: 'x' }),
  );
  assert.equal(both.code, 'INVALID_INPUT', both.message);

  // A credited invoice is not voided; an open one is not released; an earlier period is not
  // billed again; an unknown invoice is not found; a reason is required.
  const credited = await rejection(
    engine.voidInvoice({ account_id: ACCOUNT, invoice_id: rebilled.id, reason: 'x' }),
  );
  assert.equal(credited.code, 'CONFLICT', credited.message);
  assert.match(credited.message, /cn_sub_1_1/);
  const open = await rejection(
    engine.releaseInvoice({ account_id: ACCOUNT, invoice_id: first.id, reason: 'x' }),
  );
  assert.equal(open.code, 'CONFLICT', open.message);
  assert.match(open.message, /is open/);
  const earlier = await rejection(
    engine.voidInvoice({ account_id: ACCOUNT, invoice_id: first.id, rebill: true, reason: 'x' }),
  );
  assert.equal(earlier.code, 'CONFLICT', earlier.message);
  const missing = await rejection(
    engine.voidInvoice({ account_id: ACCOUNT, invoice_id: 'in_sub_1_19990101', reason: 'x' }),
  );
  assert.equal(missing.code, 'NOT_FOUND', missing.message);
  const unexplained = await rejection(
    engine.voidInvoice({ account_id: ACCOUNT, invoice_id: first.id }),
  );
  assert.equal(unexplained.code, 'INVALID_INPUT', unexplained.message);
  assert.equal(
    (await engine.listInvoices({ account_id: ACCOUNT, subscription_id: 'sub_1' })).data.length,
    3,
    'the refusals wrote nothing',
  );
});
