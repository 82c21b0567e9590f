// The `openai` interpreter against an OpenAI-protocol server written with node:http: the chat
// completions request the core sends, the program the model answers, refusals, failures, and
// that the API key never reaches an error message.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const { interpretPrompt, BillingEngine } = require('..');

const API_KEY = 'sk-test-node-9f8e7d6c5b4a39281706';
const MODEL = 'gpt-test';
const PROMPT = 'Nine dollars a month per seat, forever.';

/** What the server answers next, by the prompt found in the request. */
const answers = new Map();
/** Every request the server received: { headers, body }. */
const requests = [];
let server;
let baseUrl;

function completion(message, finish_reason = 'stop') {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    model: MODEL,
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason }],
    usage: { prompt_tokens: 120, completion_tokens: 60, total_tokens: 180 },
  };
}

before(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const body = JSON.parse(text);
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const said = body.messages.map((m) => m.content).join('\n');
      const [status, answer] = [...answers].find(([prompt]) => said.includes(prompt))?.[1] ?? [
        404,
        { error: { message: 'no answer for this prompt' } },
      ];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${server.address().port}/v1`;
});

after(() => new Promise((resolve) => server.close(resolve)));

const options = (extra = {}) => ({
  interpreter: 'openai',
  openai: { apiKey: API_KEY, baseUrl, model: MODEL, maxRetries: 0, timeoutMs: 5000, ...extra },
});

/** The program the model answers: $9 a month, billed in advance. */
const NINE_A_MONTH = {
  version: 1,
  currency: 'USD',
  interval: { unit: 'month', count: 1 },
  recurring: [{ description: 'Seat', phases: [{ from_period: 1, to_period: null, amount: '9', step: null }] }],
  usage: [],
};

test('the model reads the prompt through chat completions', async () => {
  answers.set(PROMPT, [200, completion({ content: JSON.stringify(NINE_A_MONTH) })]);
  const before = requests.length;
  const read = await interpretPrompt(PROMPT, options());
  assert.equal(read.outcome, 'understood');
  assert.equal(read.interpreter, `llm:${MODEL}`);
  assert.equal(read.invoice_timing, 'at_start');
  assert.equal(read.program.recurring[0].phases[0].amount, '9');
  assert.match(read.reading, /9\.00 USD each month/);

  assert.equal(requests.length, before + 1, 'one call');
  const { method, url, headers, body } = requests.at(-1);
  assert.equal(method, 'POST');
  assert.equal(url, '/v1/chat/completions');
  assert.equal(headers.authorization, `Bearer ${API_KEY}`);
  assert.equal(body.model, MODEL);
  assert.equal(body.temperature, 0);
  assert.equal(body.response_format.type, 'json_schema');
  assert.equal(body.response_format.json_schema.name, 'pricing_program');
  assert.equal(body.response_format.json_schema.strict, true);
  assert.equal(body.response_format.json_schema.schema.type, 'object');
  assert.ok(body.messages.some((m) => m.role === 'user' && m.content.includes(PROMPT)));
});

test('an engine with the openai interpreter saves the model-read plan', async (t) => {
  answers.set(PROMPT, [200, completion({ content: JSON.stringify(NINE_A_MONTH) })]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-billing-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const engine = await BillingEngine.open({
    databaseUrl: `sqlite://${path.join(dir, 'b.db')}`,
    ...options(),
  });
  t.after(() => engine.close());
  await engine.saveAccount({ account: { id: 'acct', abstracted: true, timezone: 'UTC' } });
  const plan = await engine.createPlan({
    account_id: 'acct',
    plan: { id: 'plan_seat', type: 'ai', currency: 'USD', interval: 'month', ai_prompt: PROMPT },
  });
  assert.equal(plan.interpreter, `llm:${MODEL}`);
  assert.equal(plan.program.recurring[0].phases[0].amount, '9');
});

test('a model refusal is a refused reading', async () => {
  const prompt = 'Charge them what they deserve.';
  answers.set(prompt, [200, completion({ content: null, refusal: 'I cannot price this.' })]);
  const read = await interpretPrompt(prompt, options());
  assert.equal(read.outcome, 'refused');
  assert.match(read.reason, /declined/);
});

test('a failing model is a MODEL error that never shows the key', async () => {
  const prompt = 'Ten dollars monthly.';
  // A server that echoes the key, as some do in their error bodies.
  answers.set(prompt, [
    401,
    { error: { message: `Incorrect API key provided: ${API_KEY}`, type: 'invalid_request_error', code: 'invalid_api_key' } },
  ]);
  await assert.rejects(interpretPrompt(prompt, options()), (error) => {
    assert.equal(error.code, 'MODEL');
    assert.match(error.message, /language model failed/);
    assert.ok(!error.message.includes(API_KEY), `the key leaked: ${error.message}`);
    assert.ok(!error.message.includes(API_KEY.slice(3, 20)), `part of the key leaked: ${error.message}`);
    assert.ok(!JSON.stringify(error).includes(API_KEY));
    assert.ok(!String(error.stack).includes(API_KEY));
    return true;
  });

  answers.set(prompt, [500, { error: `upstream failed for key ${API_KEY}` }]);
  await assert.rejects(interpretPrompt(prompt, options()), (error) => {
    assert.equal(error.code, 'MODEL');
    assert.ok(!error.message.includes(API_KEY), `the key leaked: ${error.message}`);
    return true;
  });

  // A program the model keeps getting wrong (the wrong currency, twice) is refused, not billed.
  answers.set(prompt, [200, completion({ content: JSON.stringify({ ...NINE_A_MONTH, currency: 'EUR' }) })]);
  const read = await interpretPrompt(prompt, options());
  assert.equal(read.outcome, 'refused');
  assert.match(read.reason, /currency/);
});

test('an unreachable server is a MODEL error', async () => {
  const closed = http.createServer();
  await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = closed.address().port;
  await new Promise((resolve) => closed.close(resolve));
  await assert.rejects(
    interpretPrompt(PROMPT, options({ baseUrl: `http://127.0.0.1:${port}/v1` })),
    (error) => {
      assert.equal(error.code, 'MODEL');
      assert.ok(!error.message.includes(API_KEY));
      return true;
    },
  );
});
