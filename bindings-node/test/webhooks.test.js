// The platform's events through BillingEngine: webhooks posted to local receivers on loopback,
// every request verified by the independent implementation of the Standard Webhooks convention
// (the `standardwebhooks` npm package, a devDependency), through receivers that answer 500 and
// time out part of the time. After deduplication by webhook-id every event arrives exactly once,
// in the feed's order; an endpoint filtered by type gets none of the other types; an endpoint
// disabled after repeated failure keeps its events and gets them once enabled again. And the
// pull feed (`events`) pages the same events.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { Webhook } = require('standardwebhooks');

const { BillingEngine } = require('..');

const ACCOUNT = 'acct_hooks';
const STEP_UP = 'Bill $5 for the first month and increase by $1 per month';
const PUMP = { timeout_ms: 200, initial_backoff_ms: 5, max_backoff_ms: 20, max_failures: 1000 };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A receiver on 127.0.0.1. `answer(n)` gives request n's fate: `200`, `500`, or `'slow'` (200
 * after 800 ms, past the pump's 200 ms timeout). Each request is verified with `standardwebhooks`
 * once the secret is known (`receiver.secret = ...`); a bad signature is recorded, not answered
 * 2xx.
 */
async function receiver(answer) {
  const state = { requests: 0, received: [], bad: [], secret: null, answer };
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = state.requests++;
      let event;
      try {
        event = new Webhook(state.secret).verify(body, request.headers);
      } catch (error) {
        state.bad.push(`${request.headers['webhook-id']}: ${error.message}`);
        response.writeHead(400).end();
        return;
      }
      assert.equal(event.id, request.headers['webhook-id'], 'webhook-id is the event id');
      state.received.push(event);
      const fate = state.answer(n);
      if (fate === 'slow') {
        setTimeout(() => response.writeHead(200).end(), 800);
      } else {
        response.writeHead(fate).end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${server.address().port}/hooks`;
  state.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return state;
}

/** The events a receiver got, first arrival of each id only, in arrival order. */
function deduplicated(state) {
  const seen = new Set();
  return state.received.filter((event) => !seen.has(event.id) && seen.add(event.id));
}

/** Pumps until a pass has nothing to do; resolves to the passes' totals. */
async function pumpUntilIdle(engine, options = PUMP) {
  const total = { delivered: 0, failed: 0, disabled: 0 };
  for (let i = 0; i < 3000; i++) {
    const pass = await engine.deliverWebhooks(options);
    total.delivered += pass.delivered;
    total.failed += pass.failed;
    total.disabled += pass.disabled;
    if (pass.delivered === 0 && pass.failed === 0 && pass.waiting === 0) return total;
    await sleep(5);
  }
  assert.fail(`the pump never caught up: ${JSON.stringify(total)}`);
}

/** Every event of the pull feed, by pages of `limit`. */
async function feed(engine, request = {}, limit = 3) {
  const events = [];
  let after;
  for (;;) {
    const page = await engine.events({ ...request, after, limit });
    assert.ok(page.events.length <= limit);
    events.push(...page.events);
    after = page.next;
    if (!page.has_more) return events;
  }
}

async function subscribe(engine, id, start) {
  await engine.createSubscription({
    account_id: ACCOUNT, id, customer_id: 'cus', plan_id: 'plan_step', start_date: start,
  });
}

test('webhooks arrive once each, verified by standardwebhooks, through failures and timeouts', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-billing-node-webhooks-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const engine = await BillingEngine.open({ databaseUrl: `sqlite://${path.join(dir, 'hooks.db')}` });
  t.after(() => engine.close());
  const all = await receiver((n) => (n % 4 === 3 ? 500 : n % 6 === 5 ? 'slow' : 200));
  const issued = await receiver((n) => (n % 3 === 2 ? 500 : n % 5 === 4 ? 'slow' : 200));
  const flaky = await receiver(() => 500);
  t.after(() => Promise.all([all.close(), issued.close(), flaky.close()]));

  // Added before any event, from now: every event after this.
  const added = await engine.addWebhook({ id: 'we_all', url: all.url });
  assert.match(added.secret, /^whsec_/);
  all.secret = added.secret;

  await engine.saveAccount({ account: { id: ACCOUNT, abstracted: true, timezone: 'America/New_York' } });
  await engine.saveCustomer({ customer: { account_id: ACCOUNT, id: 'cus' } });
  await engine.createPlan({
    account_id: ACCOUNT,
    plan: { id: 'plan_step', currency: 'USD', interval: 'month', type: 'ai', ai_prompt: STEP_UP },
  });
  for (let n = 1; n <= 5; n++) await subscribe(engine, `sub_${n}`, `2026-01-0${n}`);
  await engine.runDue({ now: '2026-05-15T12:00:00Z' });
  await engine.cancelSubscription({ account_id: ACCOUNT, subscription_id: 'sub_1' });

  // Added later with a secret of its own and a filter, from the start of the outbox.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  await engine.addWebhook({ id: 'we_issued', url: issued.url, secret, types: ['invoice.issued'], from: 'start' });
  issued.secret = secret;
  const flakyAdded = await engine.addWebhook({ id: 'we_flaky', url: flaky.url, from: 'start' });
  flaky.secret = flakyAdded.secret;

  const listed = await engine.listWebhooks();
  assert.deepEqual(listed.webhooks.map((w) => w.id), ['we_all', 'we_flaky', 'we_issued']);
  assert.ok(!JSON.stringify(listed).includes('whsec_'), 'no secret is listed');

  // The flaky endpoint fails 3 times in a row and is disabled; the others go on.
  let first = await pumpUntilIdle(engine, { ...PUMP, max_failures: 3 });
  assert.equal(first.disabled, 1);
  assert.ok(first.failed > 3, `the receivers failed part of the time: ${JSON.stringify(first)}`);
  const disabled = (await engine.listWebhooks()).webhooks.find((w) => w.id === 'we_flaky');
  assert.equal(disabled.enabled, false);
  assert.equal(disabled.failures, 3);
  assert.equal(disabled.last_error, 'answered HTTP 500');
  assert.equal(flaky.requests, 3);

  // More events while it is disabled: nothing reaches it.
  await subscribe(engine, 'sub_6', '2026-01-06');
  await engine.runDue({ now: '2026-06-15T12:00:00Z' });
  await pumpUntilIdle(engine);
  assert.equal(flaky.requests, 3);

  // Back up and enabled: it gets everything, from the first event.
  flaky.answer = () => 200;
  const enabled = await engine.enableWebhook({ id: 'we_flaky' });
  assert.equal(enabled.enabled, true);
  await pumpUntilIdle(engine);

  const events = await feed(engine);
  const ids = events.map((event) => event.id);
  assert.ok(events.length > 30, `${events.length} events`);
  for (const state of [all, issued, flaky]) assert.deepEqual(state.bad, [], 'every signature verified');
  assert.deepEqual(deduplicated(all).map((e) => e.id), ids, 'every event once, in order');
  assert.ok(all.requests > ids.length, 'some were retried');
  assert.deepEqual(deduplicated(flaky).map((e) => e.id), ids, 'the re-enabled endpoint got all');
  const issuedIds = events.filter((e) => e.type === 'invoice.issued').map((e) => e.id);
  assert.deepEqual(deduplicated(issued).map((e) => e.id), issuedIds);
  assert.ok(issued.received.every((e) => e.type === 'invoice.issued'), 'no filtered-out type');
  for (const type of ['subscription.created', 'invoice.issued', 'subscription.cancel_scheduled']) {
    assert.ok(events.some((e) => e.type === type), `${type} in the feed`);
  }
  const [event] = events;
  assert.equal(event.api_version, '2026-12-01');
  assert.equal(event.account_id, ACCOUNT);
  assert.equal(event.data.object, 'subscription');

  // The feed's filters and its errors.
  const filtered = await feed(engine, { types: ['invoice.issued'], account_id: ACCOUNT }, 2);
  assert.deepEqual(filtered.map((e) => e.id), issuedIds);
  for (const [request, field] of [[{ limit: 0 }, 'limit'], [{ limit: 501 }, 'limit'],
    [{ after: 'nope' }, 'after'], [{ types: ['invoice.paid'] }, 'types']]) {
    await assert.rejects(engine.events(request), (error) => {
      assert.equal(error.code, 'INVALID_INPUT');
      assert.match(error.message, new RegExp(field));
      return true;
    });
  }
  await assert.rejects(engine.addWebhook({ id: 'we_all', url: all.url }), { code: 'CONFLICT' });
  await engine.removeWebhook({ id: 'we_flaky' });
  await assert.rejects(engine.removeWebhook({ id: 'we_flaky' }), { code: 'NOT_FOUND' });
});
