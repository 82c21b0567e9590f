// interpretPrompt with the offline interpreter (no network, no key), and noop.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { interpretPrompt, noop } = require('..');

const STEP_UP = 'Bill $5 for the first month and increase by $1 per month';

test('a prompt the offline interpreter understands', async () => {
  const read = await interpretPrompt(STEP_UP);
  assert.equal(read.outcome, 'understood');
  assert.equal(read.interpreter, 'offline');
  assert.equal(read.invoice_timing, 'at_start');
  assert.match(read.reading, /5\.00 USD each month, rising by 1\.00 USD every month/);
  assert.deepEqual(read.program, {
    version: 1,
    currency: 'USD',
    interval: { unit: 'month', count: 1 },
    recurring: [
      {
        description: 'Base charge',
        phases: [{ from_period: 1, amount: '5', step: { every_periods: 1, change: { amount: '1' } } }],
      },
    ],
  });
});

test('options set the plan the prompt belongs to', async () => {
  const read = await interpretPrompt('€30 per quarter', { currency: 'EUR', interval: 'month', intervalCount: 3 });
  assert.equal(read.outcome, 'understood', read.reason);
  assert.equal(read.program.currency, 'EUR');
  assert.deepEqual(read.program.interval, { unit: 'month', count: 3 });
  // undefined and null options are the defaults.
  assert.deepEqual(await interpretPrompt(STEP_UP, undefined), await interpretPrompt(STEP_UP, null));
});

test('a refused prompt is an answer, not an error', async () => {
  const read = await interpretPrompt('charge whatever seems fair');
  assert.equal(read.outcome, 'refused');
  assert.equal(typeof read.reason, 'string');
  assert.ok(read.reason.length > 0);
  assert.deepEqual(Object.keys(read).sort(), ['outcome', 'reason']);
});

test('bad arguments reject with INVALID_INPUT naming the argument', async () => {
  const cases = [
    [() => interpretPrompt(), /^invalid prompt: is missing$/],
    [() => interpretPrompt(42), /^invalid prompt: invalid type: integer `42`, expected a string$/],
    [() => interpretPrompt(STEP_UP, { currency: 'USX' }), /^invalid options\.currency: unknown currency "USX"/],
    [() => interpretPrompt(STEP_UP, { intervalCount: -1 }), /^invalid options\.intervalCount/],
    [() => interpretPrompt(STEP_UP, { interval_count: 2 }), /^invalid options\.interval_count: unknown field/],
    [() => interpretPrompt(STEP_UP, 'EUR'), /^invalid options: invalid type: string "EUR"/],
    [() => interpretPrompt(STEP_UP, { interpreter: 'oracle' }), /^invalid options\.interpreter/],
  ];
  for (const [call, message] of cases) {
    await assert.rejects(call(), (error) => {
      assert.ok(error instanceof Error);
      assert.equal(error.code, 'INVALID_INPUT');
      assert.match(error.message, message);
      return true;
    });
  }
});

test('the openai interpreter without a key is refused before any call', async () => {
  const saved = process.env.OPENAI_API_KEY;
  delete process.env.OPENAI_API_KEY;
  try {
    await assert.rejects(interpretPrompt(STEP_UP, { interpreter: 'openai' }), (error) => {
      assert.equal(error.code, 'INVALID_INPUT');
      assert.match(error.message, /OPENAI_API_KEY/);
      return true;
    });
  } finally {
    if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
  }
});

test('noop returns undefined', () => {
  assert.equal(noop(), undefined);
});
