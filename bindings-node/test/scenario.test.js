// previewScenario on the example scenarios: the report `ai-billing preview --json` prints.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { previewScenario } = require('..');

const SCENARIOS = path.join(__dirname, '..', '..', 'examples', 'scenarios');
const read = (name) => fs.readFileSync(path.join(SCENARIOS, name), 'utf8');

test('a scenario as an object and as JSON text', async () => {
  const text = read('step-up.json');
  const fromText = await previewScenario(text);
  const fromObject = await previewScenario(JSON.parse(text));
  assert.deepEqual(fromObject, fromText);
  assert.equal(fromText.invoice_timing, 'at_start');
  assert.match(fromText.reading, /rising by 1\.00 USD every month/);
  // Amounts are decimal strings in major units, as the CLI prints them.
  assert.deepEqual(
    fromText.invoices.map((i) => [i.period_index, i.issue_date, i.subtotal, i.tax, i.total]),
    [
      [1, '2026-01-31', '5.00', '0.41', '5.41'],
      [2, '2026-02-28', '6.00', '0.50', '6.50'],
      [3, '2026-03-31', '7.00', '0.58', '7.58'],
      [4, '2026-04-30', '8.00', '0.66', '8.66'],
    ],
  );
  assert.deepEqual(fromText.invoices[0].tax_lines, [{ name: 'Tax', rate: '0.0825', amount: '0.41' }]);
});

test('a usage scenario bills its shipments in arrears', async () => {
  const report = await previewScenario(read('newspaper.json'));
  assert.equal(report.invoice_timing, 'at_renewal');
  assert.equal(report.invoices.length, 3);
  for (const invoice of report.invoices) {
    assert.equal(typeof invoice.total, 'string');
    assert.ok(invoice.line_items.every((line) => line.kind === 'usage'));
  }
});

// The CLI's `preview --json` and previewScenario give the same report. AI_BILLING_CLI names the
// ai-billing binary (scripts/test-node.sh sets it to the one `cargo test` built).
test('the same report as ai-billing preview --json', async (t) => {
  const cli = process.env.AI_BILLING_CLI;
  if (!cli || !fs.existsSync(cli)) {
    t.skip('AI_BILLING_CLI does not name the ai-billing binary');
    return;
  }
  for (const name of ['step-up.json', 'newspaper.json']) {
    const printed = execFileSync(cli, ['preview', '--json', path.join(SCENARIOS, name)], { encoding: 'utf8' });
    assert.deepEqual(await previewScenario(read(name)), JSON.parse(printed), name);
  }
});

test('a malformed scenario names the field', async () => {
  const scenario = JSON.parse(read('step-up.json'));
  scenario.plan.currency = 'USX';
  await assert.rejects(previewScenario(scenario), (error) => {
    assert.equal(error.code, 'INVALID_INPUT');
    assert.match(error.message, /plan\.currency/);
    return true;
  });
  await assert.rejects(previewScenario('{"account": '), { code: 'INVALID_INPUT' });
  await assert.rejects(previewScenario(42), {
    code: 'INVALID_INPUT',
    message: 'invalid scenario: expected a scenario object or its JSON text',
  });
});

test('a scenario whose prompt is refused', async () => {
  const scenario = JSON.parse(read('step-up.json'));
  scenario.plan.ai_prompt = 'charge whatever seems fair';
  await assert.rejects(previewScenario(scenario), { code: 'PROMPT_NOT_UNDERSTOOD' });
});
