// Subscription changes through BillingEngine (issue 18, billing-conventions.md "Subscription
// changes"): cancel, withdraw a cancellation, pause and resume, a prorated quantity change, a
// plan change, and the credit notes they issue.
//
// The engine bills on the system clock (no clock can be set from Node), so subscriptions start
// 19 local days before today: a cancellation made today takes effect tomorrow, the 21st day of
// the period, and 20 days were served, as in the conventions' worked example ($31 a month from
// Jan 15 2026, canceled Feb 3: 11.00 credited, tax 0.91). The amounts are computed by the
// conventions' rule for the period's actual length; for a 31-day period they are those numbers.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { BillingEngine } = require('..');

const ACCOUNT = 'acct_changes';
const ZONE = 'America/New_York';
const DAY_MS = 24 * 60 * 60 * 1000;

/** Today's local date in the account's zone, `YYYY-MM-DD`. */
function localToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date());
}

/** The local date `days` after `date` (both `YYYY-MM-DD`; calendar days, no time zone). */
function addDays(date, days) {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Days from `from` to `to` (both `YYYY-MM-DD`). */
function daysBetween(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** `date` one month on, the day kept (the periods' anchor day is at most 28 here). */
function addMonth(date) {
  const [y, m, d] = date.split('-').map(Number);
  const next = new Date(Date.UTC(y, m, d)); // month m (0-based) is the next month
  return next.toISOString().slice(0, 10);
}

/** round(numerator / denominator), half away from zero, in exact integers (BigInt). */
function roundDiv(numerator, denominator) {
  const [n, d] = [BigInt(numerator), BigInt(denominator)];
  const sign = (n < 0n) !== (d < 0n) ? -1n : 1n;
  const [a, b] = [n < 0n ? -n : n, d < 0n ? -d : d];
  return sign * ((2n * a + b) / (2n * b));
}

/** Cents as a decimal string (`1100n` -> `'11.00'`). */
function money(cents) {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/**
 * The conventions' settlement of an in-advance period of `periodDays` days billed `billed`
 * cents, of which `served` days are served: due is round(billed x served / days), the credit
 * is billed - due, its tax round(credit x rate) with the rate in basis points of a percent.
 */
function creditFor(billed, served, periodDays, rateTenThousandths) {
  const due = roundDiv(BigInt(billed) * BigInt(served), periodDays);
  const credit = BigInt(billed) - due;
  const tax = roundDiv(credit * BigInt(rateTenThousandths), 10000);
  return { credit, tax, total: credit + tax };
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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-billing-node-changes-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return `sqlite://${path.join(dir, 'billing.db')}`;
}

/** An engine taxing at 8.25%, an account in New York, a customer and "$31 per month" plans. */
async function setUp(t) {
  const engine = await BillingEngine.open({ databaseUrl: tempSqliteUrl(t), tax: { rate: '0.0825' } });
  t.after(() => engine.close());
  await engine.saveAccount({ account: { id: ACCOUNT, abstracted: true, timezone: ZONE } });
  await engine.saveCustomer({ customer: { account_id: ACCOUNT, id: 'cus_1' } });
  const plan = (id, currency, ai_prompt) =>
    engine.createPlan({
      account_id: ACCOUNT,
      plan: { id, type: 'ai', nickname: id, currency, interval: 'month', ai_prompt },
    });
  await plan('plan_31', 'USD', '$31 per month');
  await plan('plan_20', 'USD', '$20 per month');
  await engine.createPlan({
    account_id: ACCOUNT,
    plan: { id: 'plan_eur', type: 'standard', currency: 'EUR', interval: 'month', amount: 3100 },
  });
  return engine;
}

/** A subscription to `plan_31` started 19 local days ago: its first period is billed already. */
async function subscribe(engine, id, quantity = 1) {
  const today = localToday();
  const start = addDays(today, -19);
  const created = await engine.createSubscription({
    account_id: ACCOUNT,
    id,
    customer_id: 'cus_1',
    plan_id: 'plan_31',
    quantity,
    start_date: start,
  });
  assert.equal(created.invoice.period_start, start);
  assert.equal(created.invoice.subtotal, money(3100n * BigInt(quantity)));
  return { today, start, periodDays: daysBetween(start, addMonth(start)), created };
}

test('the settlement rule gives the conventions\' worked numbers', () => {
  // $31 from Jan 15 2026 (a 31-day period), canceled immediately on Feb 3: 20 days served.
  const { credit, tax, total } = creditFor(3100, 20, 31, 825);
  assert.deepEqual([money(credit), money(tax), money(total)], ['11.00', '0.91', '11.91']);
});

test('cancelSubscription immediately credits the unserved days of an in-advance period', async (t) => {
  const engine = await setUp(t);
  const { today, start, periodDays, created } = await subscribe(engine, 'sub_cancel');
  const tomorrow = addDays(today, 1);
  assert.equal(daysBetween(start, tomorrow), 20, '20 days served');

  const changed = await engine.cancelSubscription({
    account_id: ACCOUNT,
    subscription_id: 'sub_cancel',
    effective: 'immediately',
    actor: 'node-test',
  });
  const expected = creditFor(3100, 20, periodDays, 825);
  const note = changed.credit_note;
  assert.ok(note, 'a credit note');
  assert.equal(note.invoice_id, created.invoice.id);
  assert.equal(note.invoice_period_start, start);
  assert.equal(note.issue_date, tomorrow, 'issued on the effective date');
  assert.equal(note.reason, 'cancel');
  assert.equal(note.currency, 'USD');
  assert.equal(note.number, 1);
  assert.equal(note.subtotal, money(expected.credit));
  assert.equal(note.tax, money(expected.tax));
  assert.equal(note.total, money(expected.total));
  if (periodDays === 31) {
    assert.deepEqual([note.subtotal, note.tax, note.total], ['11.00', '0.91', '11.91']);
  }
  assert.equal(changed.subscription.changes.end.on, tomorrow);
  assert.equal(changed.subscription.changes.end.credit_unused, true);
  assert.equal(changed.subscription.revision, created.subscription.revision + 1);

  // The credit note is listed, for the account and for the subscription.
  assert.deepEqual((await engine.listCreditNotes({ account_id: ACCOUNT })).data, [note]);
  assert.deepEqual(
    (await engine.listCreditNotes({ account_id: ACCOUNT, subscription_id: 'sub_cancel', limit: 10 })).data,
    [note],
  );
  assert.deepEqual((await engine.listCreditNotes({ account_id: ACCOUNT, subscription_id: 'sub_other' })).data, []);
  assert.deepEqual(await engine.getSubscription({ account_id: ACCOUNT, subscription_id: 'sub_cancel' }), changed.subscription);

  // Canceling again now is allowed (it replaces the cancellation); nothing more is credited.
  const again = await engine.cancelSubscription({ account_id: ACCOUNT, subscription_id: 'sub_cancel', effective: 'immediately' });
  assert.equal(again.credit_note, null);
  assert.equal(((await engine.listCreditNotes({ account_id: ACCOUNT })).data).length, 1);
});

test('cancel without credit, at period end, and withdrawn', async (t) => {
  const engine = await setUp(t);
  const { start } = await subscribe(engine, 'sub_end');
  const changed = await engine.cancelSubscription({
    account_id: ACCOUNT,
    subscription_id: 'sub_end',
    effective: 'period_end',
  });
  assert.equal(changed.credit_note, null, 'nothing billed is unserved');
  assert.equal(changed.subscription.changes.end.on, addMonth(start));
  const withdrawn = await engine.withdrawCancel({ account_id: ACCOUNT, subscription_id: 'sub_end', actor: 'node-test' });
  assert.equal(withdrawn.subscription.changes?.end, undefined, 'no cancellation left');
  assert.equal(withdrawn.subscription.status, 'active');
  const none = await rejection(engine.withdrawCancel({ account_id: ACCOUNT, subscription_id: 'sub_end' }));
  assert.equal(none.code, 'INVALID_INPUT', none.message);
  assert.match(none.message, /no cancellation to withdraw/);

  const { today } = await subscribe(engine, 'sub_no_credit');
  const kept = await engine.cancelSubscription({
    account_id: ACCOUNT,
    subscription_id: 'sub_no_credit',
    effective: addDays(today, 2),
    credit_unused: false,
  });
  assert.equal(kept.credit_note, null, 'credit_unused: false issues no credit note');
  assert.equal(kept.subscription.changes.end.on, addDays(today, 2));
  assert.deepEqual((await engine.listCreditNotes({ account_id: ACCOUNT })).data, []);
});

test('a backdated cancel is INVALID_INPUT naming the field', async (t) => {
  const engine = await setUp(t);
  const { today } = await subscribe(engine, 'sub_back');
  const yesterday = addDays(today, -1);
  const error = await rejection(
    engine.cancelSubscription({ account_id: ACCOUNT, subscription_id: 'sub_back', effective: yesterday }),
  );
  assert.equal(error.code, 'INVALID_INPUT', error.message);
  assert.match(error.message, /cancel\.effective/);
  assert.match(error.message, /cannot be backdated/);
  const bad = await rejection(
    engine.cancelSubscription({ account_id: ACCOUNT, subscription_id: 'sub_back', effective: 'someday' }),
  );
  assert.equal(bad.code, 'INVALID_INPUT', bad.message);
  assert.match(bad.message, /request\.effective/);
  const missing = await rejection(engine.cancelSubscription({ account_id: ACCOUNT, subscription_id: 'sub_none' }));
  assert.equal(missing.code, 'NOT_FOUND', missing.message);
  // Nothing was written.
  const subscription = await engine.getSubscription({ account_id: ACCOUNT, subscription_id: 'sub_back' });
  assert.equal(subscription.changes, undefined);
});

test('pauseSubscription and resumeSubscription; overlapping pauses are a CONFLICT', async (t) => {
  const engine = await setUp(t);
  const { today, start, periodDays } = await subscribe(engine, 'sub_hold');
  const [from, until] = [addDays(today, 3), addDays(today, 6)];
  const paused = await engine.pauseSubscription({ account_id: ACCOUNT, subscription_id: 'sub_hold', from, until });
  assert.deepEqual(paused.subscription.changes.pauses, [{ from, until }]);
  // Three days of the period billed already are not served: credited on the pause's first day.
  const expected = creditFor(3100, periodDays - 3, periodDays, 825);
  assert.equal(paused.credit_note.reason, 'pause');
  assert.equal(paused.credit_note.issue_date, from);
  assert.equal(paused.credit_note.subtotal, money(expected.credit));
  assert.equal(daysBetween(start, until) < periodDays, true, 'the hold is inside the billed period');

  const overlap = await rejection(
    engine.pauseSubscription({ account_id: ACCOUNT, subscription_id: 'sub_hold', from: addDays(today, 5), until: addDays(today, 9) }),
  );
  assert.equal(overlap.code, 'CONFLICT', overlap.message);
  const open = await rejection(engine.pauseSubscription({ account_id: ACCOUNT, subscription_id: 'sub_hold', from: addDays(today, 1) }));
  assert.equal(open.code, 'CONFLICT', 'an open pause overlaps too');
  const backdated = await rejection(
    engine.pauseSubscription({ account_id: ACCOUNT, subscription_id: 'sub_hold', from: addDays(today, -2), until: today }),
  );
  assert.equal(backdated.code, 'INVALID_INPUT', backdated.message);

  // Resumed a day early: one of the credited days is served again.
  const resumed = await engine.resumeSubscription({ account_id: ACCOUNT, subscription_id: 'sub_hold', on: addDays(today, 5) });
  assert.deepEqual(resumed.subscription.changes.pauses, [{ from, until: addDays(today, 5) }]);
  assert.equal(resumed.credit_note, null, 'an increase is billed on the next invoice, never credited');
  assert.equal(resumed.subscription.changes.increases.length, 1);
  const notes = (await engine.listCreditNotes({ account_id: ACCOUNT, subscription_id: 'sub_hold' })).data;
  assert.deepEqual(notes, [paused.credit_note]);

  // The first day of a pause removes it.
  const removed = await engine.resumeSubscription({ account_id: ACCOUNT, subscription_id: 'sub_hold', on: from });
  assert.deepEqual(removed.subscription.changes.pauses ?? [], []);
});

test('updateSubscription with proration bills the days at each quantity', async (t) => {
  const engine = await setUp(t);
  const { today, periodDays } = await subscribe(engine, 'sub_qty');
  // From tomorrow at 3 copies: 20 days at 1, the rest at 3; the increase goes on the next invoice.
  const updated = await engine.updateSubscription({
    account_id: ACCOUNT,
    subscription_id: 'sub_qty',
    quantity: 3,
    proration: 'prorate',
    effective: 'immediately',
  });
  assert.equal(updated.quantity, 3);
  const rest = periodDays - 20;
  const due = roundDiv(3100n * 20n, periodDays) + roundDiv(3100n * 3n * BigInt(rest), periodDays);
  assert.equal(updated.changes.increases.length, 1);
  assert.equal(BigInt(updated.changes.increases[0].amount_minor), due - 3100n);
  assert.equal(updated.changes.increases[0].service_start, addDays(today, 1));

  // Down to 2 from a later date: the decrease first takes back the increase still waiting for an
  // invoice (it was never invoiced), so no credit note is issued and the increase is what the
  // period now owes above what it was billed.
  const lowered = await engine.updateSubscription({
    account_id: ACCOUNT,
    subscription_id: 'sub_qty',
    quantity: 2,
    proration: 'prorate',
    effective: addDays(today, 4),
  });
  const dueNow =
    roundDiv(3100n * 20n, periodDays) +
    roundDiv(3100n * 3n * 3n, periodDays) +
    roundDiv(3100n * 2n * BigInt(periodDays - 23), periodDays);
  const waiting = lowered.changes.increases.reduce((sum, i) => sum + BigInt(i.amount_minor), 0n);
  assert.equal(waiting, dueNow - 3100n);
  assert.deepEqual((await engine.listCreditNotes({ account_id: ACCOUNT, subscription_id: 'sub_qty' })).data, []);

  // Without proration, the default: from the next invoice, nothing settled.
  const plain = await engine.updateSubscription({ account_id: ACCOUNT, subscription_id: 'sub_qty', quantity: 1, proration: 'none' });
  assert.equal(plain.quantity, 1);
  assert.equal(((await engine.listCreditNotes({ account_id: ACCOUNT })).data).length, 0);

  const bad = await rejection(
    engine.updateSubscription({ account_id: ACCOUNT, subscription_id: 'sub_qty', quantity: 2, proration: 'sometimes' }),
  );
  assert.equal(bad.code, 'INVALID_INPUT', bad.message);
  assert.match(bad.message, /request\.proration/);
  const backdated = await rejection(
    engine.updateSubscription({
      account_id: ACCOUNT,
      subscription_id: 'sub_qty',
      quantity: 2,
      proration: 'prorate',
      effective: addDays(today, -1),
    }),
  );
  assert.equal(backdated.code, 'INVALID_INPUT', backdated.message);
  assert.match(backdated.message, /quantity\.effective/);
});

test('changePlan keeps the currency', async (t) => {
  const engine = await setUp(t);
  const { start, periodDays, created } = await subscribe(engine, 'sub_plan');
  const other = await rejection(
    engine.changePlan({ account_id: ACCOUNT, subscription_id: 'sub_plan', plan_id: 'plan_eur', effective: 'immediately' }),
  );
  assert.equal(other.code, 'INVALID_INPUT', other.message);
  assert.match(other.message, /plan\.currency/);
  assert.match(other.message, /EUR/);
  const missing = await rejection(engine.changePlan({ account_id: ACCOUNT, subscription_id: 'sub_plan', plan_id: 'plan_none' }));
  assert.equal(missing.code, 'NOT_FOUND', missing.message);

  // At period end (the default): the new plan bills from the next period, the anchor kept.
  const changed = await engine.changePlan({ account_id: ACCOUNT, subscription_id: 'sub_plan', plan_id: 'plan_20', actor: 'node-test' });
  assert.equal(changed.credit_note, null);
  assert.equal(changed.subscription.changes.switch.plan_id, 'plan_20');
  assert.equal(changed.subscription.changes.switch.term.anchor, start);
  assert.equal(changed.subscription.changes.end.on, addMonth(start));
  assert.equal(changed.subscription.revision, created.subscription.revision + 1);
  assert.equal(periodDays >= 28, true);

  // Immediately instead: the old plan's unserved days are credited as a cancel's would be.
  const now = await engine.changePlan({ account_id: ACCOUNT, subscription_id: 'sub_plan', plan_id: 'plan_20', effective: 'immediately' });
  const expected = creditFor(3100, 20, periodDays, 825);
  assert.equal(now.credit_note.reason, 'plan_change');
  assert.equal(now.credit_note.subtotal, money(expected.credit));
  assert.equal(now.credit_note.tax, money(expected.tax));
});
