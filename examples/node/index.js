// @pelcro/ai-billing in one script: read a plan prompt, preview a scenario, then bill a
// subscription on a temporary SQLite database. Offline: no network, no API key.
//
//   cd bindings-node && npm ci && npm run build     # the addon
//   cd ../examples/node && npm install && node index.js
//
// bindings-node/scripts/pack-test.sh runs this file against the packed npm package.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { interpretPrompt, previewScenario, BillingEngine } = require('@pelcro/ai-billing');

const PROMPT = 'Bill $5 for the first month and increase by $1 per month';

/** The local date `days` before today, `YYYY-MM-DD`. */
function daysAgo(days) {
  return new Date(Date.now() - days * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
}

async function main() {
  // 1. What a prompt says, before any plan is saved.
  const read = await interpretPrompt(PROMPT);
  console.log(`Prompt: ${PROMPT}`);
  console.log(`Outcome: ${read.outcome} (by ${read.interpreter}, invoices ${read.invoice_timing})`);
  console.log(read.reading);
  const refused = await interpretPrompt('charge whatever seems fair');
  console.log(`Outcome of "charge whatever seems fair": ${refused.outcome}: ${refused.reason}`);

  // 2. A scenario billed as `ai-billing preview --json` bills it: four months with 8.25% tax.
  const report = await previewScenario({
    account: { id: 'acct_example', abstracted: true, timezone: 'America/New_York' },
    plan: { type: 'ai', currency: 'USD', interval: 'month', ai_prompt: PROMPT },
    subscription: { start: '2026-01-31', quantity: 1 },
    periods: 4,
    tax: { rate: '0.0825' },
  });
  console.log(`Preview: ${report.invoices.length} invoices, totals ${report.invoices.map((i) => i.total).join(', ')}`);

  // 3. A real engine on a temporary SQLite file.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-billing-example-'));
  const engine = await BillingEngine.open({ databaseUrl: `sqlite://${path.join(dir, 'billing.db')}` });
  try {
    await engine.saveAccount({ account: { id: 'acct_1', abstracted: true, timezone: 'America/New_York' } });
    await engine.saveCustomer({ customer: { account_id: 'acct_1', id: 'cus_1' } });
    const plan = await engine.createPlan({
      account_id: 'acct_1',
      plan: { id: 'plan_step_up', type: 'ai', nickname: 'Step-up', currency: 'USD', interval: 'month', ai_prompt: PROMPT },
    });
    console.log(`Plan ${plan.plan.id} v${plan.version} saved, read by ${plan.interpreter}`);

    // Started 70 days ago: the first month is invoiced at once (billed in advance)...
    const created = await engine.createSubscription({
      account_id: 'acct_1',
      id: 'sub_1',
      customer_id: 'cus_1',
      plan_id: plan.plan.id,
      quantity: 1,
      start_date: daysAgo(70),
    });
    console.log(`Subscription ${created.subscription.id} created, first invoice ${created.invoice.total} ${created.invoice.currency}`);

    // ...and a billing run catches up the months owed since.
    const run = await engine.runDue({ now: new Date().toISOString() });
    console.log(`Run: ${run.issued} invoices issued for ${run.subscriptions} subscription(s), ${run.failed} failed`);

    const { data: invoices } = await engine.listInvoices({ account_id: 'acct_1', subscription_id: 'sub_1' });
    console.log('Invoices:');
    for (const invoice of invoices) {
      console.log(`  period ${invoice.period_index} from ${invoice.period_start}: ${invoice.total} ${invoice.currency} (${invoice.billing_reason})`);
    }

    // Errors carry a stable code.
    try {
      await engine.createSubscription({ account_id: 'acct_1', id: 'sub_2', customer_id: 'cus_1', plan_id: 'plan_step_up', quantity: 0, start_date: daysAgo(0) });
    } catch (error) {
      console.log(`Quantity 0: ${error.code}: ${error.message}`);
    }
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`${error.code ?? 'ERROR'}: ${error.message}`);
  process.exitCode = 1;
});
