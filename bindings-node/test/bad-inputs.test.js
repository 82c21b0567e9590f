// The catalogue of bad inputs (tests/bad-inputs.json) through @pelcro/ai-billing: each entry
// rejects with its err.code and a fragment of its message (an interpret refusal resolves to
// { outcome: 'refused' }). The same catalogue runs through the CLI (cli/tests/bad_inputs.rs)
// and the C ABI (bindings-c/tests/bad_inputs.rs).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { BillingEngine, interpretPrompt, previewScenario } = require('..');

const CATALOGUE = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'tests', 'bad-inputs.json'), 'utf8'),
);

/** `value` with every {"$repeat": s, "times": n} replaced by s repeated n times. */
function expand(value) {
  if (Array.isArray(value)) return value.map(expand);
  if (value && typeof value === 'object') {
    if ('$repeat' in value) return value.$repeat.repeat(value.times);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(v)]));
  }
  return value;
}

/** RFC 7386: `patch` merged over `base`, null removing a key. */
function merge(base, patch) {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const merged = base && typeof base === 'object' && !Array.isArray(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = merge(merged[key], value);
  }
  return merged;
}

/** What the entry expects from Node: null when it does not apply here. */
function expected(entry) {
  const over = entry.node;
  if (typeof over === 'string') return null;
  if (over) return { code: over.code, message: over.message ?? '' };
  return { code: entry.code, message: entry.message ?? '' };
}

/** The entry's main input as a JavaScript value (undefined for `null_arg: input`). */
function input(entry) {
  if (entry.null_arg === 'input') return undefined;
  if (entry.text !== undefined) {
    return Array.isArray(entry.text) ? entry.text.map(expand).join('') : entry.text;
  }
  if (entry.prompt !== undefined) return expand(entry.prompt);
  if (entry.patch !== undefined) return merge(CATALOGUE.base_scenario, expand(entry.patch));
  return expand(entry.request);
}

const camel = (op) => op.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

async function setUp() {
  const engine = await BillingEngine.open({ databaseUrl: 'sqlite::memory:' });
  for (const step of CATALOGUE.setup) await engine[camel(step.op)](step.request);
  return engine;
}

test('every bad input of the catalogue rejects with its code', async () => {
  const saved = process.env.OPENAI_API_KEY;
  delete process.env.OPENAI_API_KEY;
  const engine = await setUp();
  const closed = await setUp();
  await closed.close();
  let tried = 0;
  let skipped = 0;
  const wrong = [];
  try {
    for (const entry of CATALOGUE.inputs) {
      const expect = expected(entry);
      if (!expect) {
        skipped += 1;
        continue;
      }
      tried += 1;
      const value = input(entry);
      const fresh = [];
      const call = async () => {
        switch (entry.op) {
          case 'preview':
            return previewScenario(value);
          case 'interpret':
            return interpretPrompt(value, entry.options);
          case 'engine_open': {
            const opened = await BillingEngine.open(value);
            fresh.push(opened);
            return opened;
          }
          default: {
            let target = engine;
            if (entry.closed) target = closed;
            else if (entry.op === 'create_subscription' || entry.op === 'create_plan') {
              // Writes that may succeed get an engine of their own.
              target = await setUp();
              fresh.push(target);
            }
            return target[camel(entry.op)](value);
          }
        }
      };
      let outcome;
      try {
        const answer = await call();
        if (expect.code === 'OK') {
          // A listing answers a page: its data is the list.
          const list = answer !== null && typeof answer === 'object' && 'data' in answer ? answer.data : answer;
          outcome = entry.expect_empty ? Array.isArray(list) && list.length === 0 : true;
        } else if (entry.op === 'interpret' && expect.code === 'PROMPT_NOT_UNDERSTOOD') {
          // A refusal is an answer.
          outcome = answer.outcome === 'refused' && answer.reason.includes(expect.message);
        } else {
          outcome = `resolved: ${JSON.stringify(answer).slice(0, 200)}`;
        }
      } catch (error) {
        outcome =
          error instanceof Error &&
          error.code === expect.code &&
          error.message.includes(expect.message)
            ? true
            : `${error.code}: ${String(error.message).slice(0, 300)}`;
      }
      for (const opened of fresh) await opened.close();
      if (outcome !== true) {
        wrong.push(`${entry.id}: expected ${expect.code} ${JSON.stringify(expect.message)}; got ${outcome}`);
      }
    }
  } finally {
    await engine.close();
    if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
  }
  assert.deepEqual(wrong, [], `${wrong.length} of ${tried}`);
  assert.ok(tried >= 60, `only ${tried} inputs tried (${skipped} skipped)`);
  console.log(`bad inputs: ${tried} tried through Node, ${skipped} not applicable`);
});
