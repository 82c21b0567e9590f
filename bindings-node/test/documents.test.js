// Invoice and credit note documents (issue 21): renderInvoice and renderCreditNote on a stored
// invoice and credit note, in the account's locale, NOT_FOUND naming what is missing, and
// previewScenario(scenario, { documents: true }) carrying the document of each invoice and credit
// note of a scenario.
//
// The engine bills on the system clock, so the subscription starts 40 local days before today: a
// billing run issues its first two periods (EUR 1,250 a month, in advance, 8.25% tax).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { BillingEngine, previewScenario } = require('..');

const ACCOUNT = 'acct_documents';
const ZONE = 'Europe/Berlin';
const DAY_MS = 24 * 60 * 60 * 1000;
const SCENARIOS = path.join(__dirname, '..', '..', 'tests', 'scenarios', 'public');

function localToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date());
}

function addDays(date, days) {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

async function rejection(promise) {
  try {
    const value = await promise;
    assert.fail(`expected a rejection, got ${String(value).slice(0, 80)}`);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return error;
  }
}

test('stored invoices and credit notes render in the account locale', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-billing-node-documents-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const engine = await BillingEngine.open({
    databaseUrl: `sqlite://${path.join(dir, 'billing.db')}`,
    tax: { rate: '0.0825' },
  });
  t.after(() => engine.close());
  await engine.saveAccount({ account: { id: ACCOUNT, abstracted: true, timezone: ZONE, locale: 'de-DE' } });
  await engine.saveCustomer({ customer: { account_id: ACCOUNT, id: 'cus_1' } });
  await engine.createPlan({
    account_id: ACCOUNT,
    plan: { id: 'plan_eur', type: 'ai', nickname: 'p', currency: 'EUR', interval: 'month', ai_prompt: '€1250 per month' },
  });
  await engine.createSubscription({
    account_id: ACCOUNT,
    id: 'sub_1',
    customer_id: 'cus_1',
    plan_id: 'plan_eur',
    start_date: addDays(localToday(), -40),
  });
  await engine.runDue();
  const { data: invoices } = await engine.listInvoices({ account_id: ACCOUNT });
  assert.equal(invoices.length, 2);
  for (const invoice of invoices) {
    const html = await engine.renderInvoice({ account_id: ACCOUNT, invoice_id: invoice.id });
    assert.equal(typeof html, 'string');
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    // The words are English; the locale writes the amounts and dates.
    assert.ok(html.includes('<html lang="en">'));
    // Each line's explanation is under it.
    assert.ok(invoice.line_items.every((line) => html.includes(line.explanation)), 'explained');
    assert.ok(html.includes(invoice.id));
    assert.equal(invoice.total, '1353.13');
    assert.ok(html.includes('1.353,13\u00a0€'), 'the total in German');
  }

  const note = await engine.creditInvoice({
    account_id: ACCOUNT,
    invoice_id: invoices[0].id,
    amount: 10000,
    reason: 'goodwill',
  });
  const noteHtml = await engine.renderCreditNote({ account_id: ACCOUNT, credit_note_id: note.id });
  assert.ok(noteHtml.includes('Credit note') && noteHtml.includes(invoices[0].id));
  assert.ok(noteHtml.includes('108,25\u00a0€'));

  const missingInvoice = await rejection(engine.renderInvoice({ account_id: ACCOUNT, invoice_id: 'in_sub_1_20000101' }));
  assert.equal(missingInvoice.code, 'NOT_FOUND');
  assert.match(missingInvoice.message, /in_sub_1_20000101/);
  const missingAccount = await rejection(engine.renderCreditNote({ account_id: 'nope', credit_note_id: note.id }));
  assert.equal(missingAccount.code, 'NOT_FOUND');
  assert.match(missingAccount.message, /account/);
  const badRequest = await rejection(engine.renderInvoice({ account_id: ACCOUNT }));
  assert.equal(badRequest.code, 'INVALID_INPUT');
});

test('a preview carries its documents when asked', async () => {
  const { scenario } = JSON.parse(
    fs.readFileSync(path.join(SCENARIOS, 'change-cancel-immediately-in-advance.json'), 'utf8'),
  );
  const plain = await previewScenario(scenario);
  assert.equal(plain.documents, undefined);
  const report = await previewScenario(scenario, { documents: true });
  const { documents, ...rest } = report;
  assert.deepEqual(rest, plain);
  assert.equal(documents.invoices.length, report.invoices.length);
  assert.equal(documents.credit_notes.length, report.credit_notes.length);
  assert.ok(report.credit_notes.length > 0);
  report.invoices.forEach((invoice, i) => {
    assert.ok(documents.invoices[i].includes(`$${invoice.total}`), `invoice ${i + 1} shows its total`);
  });
  report.credit_notes.forEach((note, i) => {
    assert.ok(documents.credit_notes[i].includes(note.invoice_id));
    assert.ok(documents.credit_notes[i].includes(`$${note.total}`));
  });
  const bad = await rejection(previewScenario(scenario, { documents: 'yes' }));
  assert.equal(bad.code, 'INVALID_INPUT');
});
