'use strict';
// End-to-end tests of the plan builder in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): the page served by server.js on loopback, over @pelcro/ai-billing on a
// throwaway SQLite database. Run with `npm test` (scripts/test-web.sh installs the browser).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const { createApp, PREVIEW } = require('../server.js');

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT =
  process.env.PLAN_BUILDER_SCREENSHOT ?? path.resolve(__dirname, '../../../docs/plan-builder.png');

const STEP_UP = 'Bill $5 for the first month and increase by $1 per month';
const NEWSPAPER = '$0.75 per weekday delivery, $1.00 per Saturday delivery and $2.50 per Sunday delivery';
const WEEKDAY_AND_SUNDAY = '$0.75 per weekday delivery and $2.50 per Sunday delivery';
const VAGUE = 'Charge whatever seems fair';

let dir;
let app;
let baseUrl;
let browser;
let page;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-builder-test-'));
  app = await createApp({ databaseUrl: `sqlite://${path.join(dir, 'plans.db')}` });
  baseUrl = await app.listen(0);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // --no-sandbox: the tests run as root. The rest keep Chromium off the network: the machine
    // has none, and the page loads nothing from outside 127.0.0.1.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  // Nothing may load from anywhere but the server under test.
  page.outside = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(baseUrl) || url.startsWith('data:')) return route.continue();
    page.outside.push(url);
    return route.abort();
  });
  page.consoleErrors = [];
  page.on('console', (message) => {
    // The refusals the tests provoke are 4xx answers, which Chromium logs; anything else counts.
    const expected = /^Failed to load resource: the server responded with a status of 4\d\d/;
    if (message.type() === 'error' && !expected.test(message.text())) {
      page.consoleErrors.push(message.text());
    }
  });
  page.on('pageerror', (error) => page.consoleErrors.push(error.message));
});

after(async () => {
  await browser?.close();
  await app?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function openPage() {
  await page.goto(baseUrl);
  await page.waitForSelector('body[data-ready="true"]');
}

/** The invoice table's rows as {period, issued, lines: [[description, amount]], subtotal, tax, total}. */
async function invoiceRows() {
  await page.waitForSelector('#invoice-table');
  return page.$$eval('#invoice-table tbody tr', (rows) =>
    rows.map((row) => {
      const cells = row.querySelectorAll('td');
      return {
        period: row.dataset.period,
        issued: cells[0].textContent,
        period_range: cells[1].textContent,
        lines: [...cells[2].querySelectorAll('li')].map((li) => [
          li.children[0].textContent,
          li.children[1].textContent,
        ]),
        subtotal: cells[3].textContent,
        tax: cells[4].textContent,
        total: cells[5].textContent,
      };
    }),
  );
}

/** Cents as "12.34". */
const money = (cents) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
/** 8.25% of `cents`, rounded half up: the sample's tax, computed here independently. */
const tax = (cents) => Math.floor((cents * 825 + 5000) / 10000);

/** Fills the AI plan form (on an abstracted account) and waits for the answer to `prompt`. */
async function fillAiPlan(nickname, prompt) {
  await page.selectOption('#account', 'acct_abstracted');
  await page.check('#type-ai');
  await page.fill('#nickname', nickname);
  await page.fill('#prompt', prompt);
}

async function waitForOutcome(outcome, text) {
  await page.waitForFunction(
    ([want, contains]) => {
      const node = document.querySelector(`#interpretation [data-outcome="${want}"]`);
      return node && (!contains || document.getElementById('interpretation').textContent.includes(contains));
    },
    [outcome, text],
  );
}

test('the form: an AI Plan choice that reveals the prompt and the usage sources, with labels', async () => {
  await openPage();
  assert.equal(await page.inputValue('#account'), 'acct_abstracted');
  assert.equal(await page.isChecked('#type-standard'), true);
  assert.equal(await page.isVisible('#prompt'), false);
  assert.equal(await page.isVisible('#amount'), true);

  await page.check('#type-ai');
  assert.equal(await page.isVisible('#prompt'), true, 'AI Plan reveals the Plan Prompt');
  assert.equal(await page.isVisible('#amount'), false);
  assert.equal(await page.$eval('#prompt', (node) => node.required), true, 'the prompt is required');
  assert.equal(await page.textContent('label[for="prompt"]'), 'Plan Prompt (required)');

  // The usage source lists the library's predefined queries, shipments_by_weekday selected.
  const options = await page.$$eval('#usage-query option', (nodes) =>
    nodes.map((node) => ({ value: node.value, text: node.textContent, selected: node.selected })));
  const { usage_queries: queries } = await (await fetch(`${baseUrl}api/usage-queries`)).json();
  assert.ok(queries.length >= 1);
  assert.deepEqual(options.map((option) => option.value), queries.map((query) => query.name));
  const weekday = options.find((option) => option.value === 'shipments_by_weekday');
  assert.ok(weekday.selected, 'shipments_by_weekday is selected');
  const description = queries.find((query) => query.name === 'shipments_by_weekday').description;
  assert.ok(weekday.text.includes(description), `the option shows the description: ${weekday.text}`);

  // Every control has a label; the interpretation is announced.
  const unlabelled = await page.$$eval('input, select, textarea, button', (nodes) =>
    nodes
      .filter((node) => node.type !== 'hidden')
      .filter((node) => !(node.labels?.length || node.getAttribute('aria-label') || node.textContent.trim()))
      .map((node) => node.id || node.outerHTML));
  assert.deepEqual(unlabelled, []);
  assert.equal(await page.getAttribute('#interpretation', 'aria-live'), 'polite');
  assert.equal(await page.getAttribute('#save-error', 'role'), 'alert');
});

test('a step-up AI plan: its reading, invoices at start, 5.00, 6.00, ... in the preview, then saved', async () => {
  await openPage();
  await fillAiPlan('Step-up box', STEP_UP);
  await waitForOutcome('understood', 'rising by 1.00 USD every month');
  const reading = await page.textContent('#reading');
  assert.match(reading, /5\.00 USD each month, rising by 1\.00 USD every month/);
  assert.match(await page.textContent('#timing'), /First invoice at subscription start/);
  assert.equal(await page.getAttribute('#timing', 'data-timing'), 'at_start');

  const rows = await invoiceRows();
  assert.equal(rows.length, 6);
  rows.forEach((row, index) => {
    const cents = (5 + index) * 100;
    const month = String(index + 1).padStart(2, '0');
    assert.equal(row.issued, `2026-${month}-01`, 'in advance: issued on the period start');
    assert.deepEqual(row.lines, [[`Base charge (month ${index + 1})`, money(cents)]]);
    assert.equal(row.subtotal, money(cents));
    assert.equal(row.tax, money(tax(cents)));
    assert.equal(row.total, `${money(cents + tax(cents))} USD`);
  });
  assert.deepEqual(rows.map((row) => row.subtotal), ['5.00', '6.00', '7.00', '8.00', '9.00', '10.00']);

  // Each invoice's document, as the library renders it, in a sandboxed frame chosen per invoice.
  assert.equal(await page.getAttribute('#document-frame', 'sandbox'), '');
  const documentTotal = page.frameLocator('#document-frame').locator('tfoot tr.total td');
  assert.equal(await documentTotal.innerText(), `$${money(5 * 100 + tax(5 * 100))}`);
  await page.selectOption('#document-select', '2');
  await page.waitForFunction(() => document.getElementById('document-frame').src.endsWith('/invoice/3'));
  await page.frameLocator('#document-frame').locator('text=Base charge (month 3)').waitFor();
  assert.equal(await documentTotal.innerText(), `$${money(7 * 100 + tax(7 * 100))}`);
  await page.selectOption('#document-select', '0');
  await page.frameLocator('#document-frame').locator('text=Base charge (month 1)').waitFor();

  // The filled form, for the README (only the form and preview: no ids or times that change).
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.evaluate(() => document.activeElement?.blur());
  // The whole form and preview inside the viewport: Chromium does not paint a cross-origin frame
  // (the sandboxed document) that lies beyond it.
  const viewport = page.viewportSize();
  const box = await page.locator('.columns').boundingBox();
  await page.setViewportSize({ width: viewport.width, height: Math.ceil(box.y + box.height) + 20 });
  await page.frameLocator('#document-frame').locator('tfoot tr.total').waitFor();
  await page.locator('.columns').screenshot({ path: SCREENSHOT, animations: 'disabled' });
  await page.setViewportSize(viewport);
  assert.ok(fs.statSync(SCREENSHOT).size > 10_000);

  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('save-status').textContent.startsWith('Saved'));
  const status = await page.textContent('#save-status');
  const planId = /as (plan_[0-9a-f]+) \(version 1\)/.exec(status)?.[1];
  assert.ok(planId, status);

  // Listed with the same fields as the standard plan beside it.
  const row = page.locator(`#plans-table tr[data-plan-id="${planId}"]`);
  await row.waitFor();
  const cells = await row.locator('th, td').allTextContents();
  assert.deepEqual(cells.slice(0, 8), [
    planId, 'Step-up box', 'AI Plan', '0.00', 'USD', '1 month', STEP_UP, 'shipments_by_weekday',
  ]);
  const standard = await page.locator('#plans-table tr[data-plan-id="plan_monthly_box"] th, #plans-table tr[data-plan-id="plan_monthly_box"] td').allTextContents();
  assert.deepEqual(standard.slice(0, 8), ['plan_monthly_box', 'Monthly box', 'Standard', '19.99', 'USD', '1 month', '—', '—']);
  assert.equal(cells.length, standard.length);

  // Stored by the engine, with the program it was read into.
  const saved = await app.engine.getPlan({ account_id: 'acct_abstracted', plan_id: planId });
  assert.equal(saved.plan.type, 'ai');
  assert.equal(saved.plan.ai_prompt, STEP_UP);
  assert.equal(saved.plan.usage_query, 'shipments_by_weekday');
  assert.equal(saved.program.recurring[0].phases[0].step.change.amount, '1');
});

test('a usage AI plan: billed at renewal for the period, the amounts of the sample deliveries', async () => {
  await openPage();
  await fillAiPlan('Daily newspaper', NEWSPAPER);
  await waitForOutcome('understood', '2.50 USD per shipment on sunday');
  assert.match(await page.textContent('#timing'), /At renewal, for the period's usage/);
  assert.equal(await page.getAttribute('#timing', 'data-timing'), 'at_renewal');

  // The sample, counted here: a delivery every day at 11:30 UTC (06:30 in New York), none on
  // every 9th day, priced by weekday.
  const rate = [250, 75, 75, 75, 75, 75, 100]; // Sunday .. Saturday, in cents
  const rows = await invoiceRows();
  assert.equal(rows.length, 6);
  let day = 0;
  rows.forEach((row, index) => {
    const start = Date.UTC(2026, index, 1);
    const end = Date.UTC(2026, index + 1, 1);
    let count = 0;
    let cents = 0;
    for (let t = start; t < end; t += 86_400_000, day += 1) {
      if (day % PREVIEW.skipEvery === PREVIEW.skipEvery - 1) continue;
      count += 1;
      cents += rate[new Date(t).getUTCDay()];
    }
    const next = new Date(end).toISOString().slice(0, 10);
    assert.equal(row.issued, next, 'in arrears: issued when the period ends');
    assert.deepEqual(row.lines, [[`Usage (Shipment) charge (${count} shipments)`, money(cents)]]);
    assert.equal(row.subtotal, money(cents));
    assert.equal(row.tax, money(tax(cents)));
    assert.equal(row.total, `${money(cents + tax(cents))} USD`);
  });

  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('save-status').textContent.startsWith('Saved'));
  const listed = await page.$$eval('#plans-table tbody tr', (rows) => rows.map((row) => row.children[1].textContent));
  assert.ok(listed.includes('Daily newspaper'), listed.join(', '));
  assert.ok(listed.includes('Step-up box'), listed.join(', '));

  // A prompt that leaves Saturday without a price is refused as the admin types it (and so
  // can never be saved), naming the day and how to say it, not months later at billing.
  await page.fill('#prompt', WEEKDAY_AND_SUNDAY);
  await waitForOutcome('refused', 'Saturday');
  assert.match(await page.textContent('#interpretation'), /Saturday/);
  assert.equal(await page.$('#invoice-table'), null);
});

test('a vague prompt is refused with what to rephrase, and cannot be saved', async () => {
  await openPage();
  await fillAiPlan('Fair', VAGUE);
  await waitForOutcome('refused');
  const text = await page.textContent('#interpretation');
  assert.match(text, /Not understood/);
  assert.match(text, /names no price/);
  assert.match(text, /Rephrase/);
  assert.equal(await page.$('#invoice-table'), null, 'no preview for a refused prompt');

  await page.click('#save');
  await page.waitForSelector('#save-error [data-code]');
  assert.equal(await page.getAttribute('#save-error [data-code]', 'data-code'), 'PROMPT_NOT_UNDERSTOOD');
  const names = await page.$$eval('#plans-table tbody tr', (rows) => rows.map((row) => row.children[1].textContent));
  assert.ok(!names.includes('Fair'));
});

test('a non-abstracted account: no AI Plan choice, and the engine refuses one when forced', async () => {
  await openPage();
  await page.check('#type-ai');
  await page.selectOption('#account', 'acct_standard');
  assert.equal(await page.isDisabled('#type-ai'), true, 'the AI Plan choice is disabled');
  assert.equal(await page.isChecked('#type-standard'), true, 'the form falls back to a standard plan');
  assert.equal(await page.isVisible('#prompt'), false);
  assert.match(await page.textContent('#ai-hint'), /only for abstracted accounts/);
  assert.equal(await page.getAttribute('#type-ai', 'aria-describedby'), 'ai-hint');

  // The API refuses it: the engine's PLAN_NOT_AVAILABLE, passed through.
  const response = await fetch(`${baseUrl}api/plans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      account_id: 'acct_standard',
      plan: { nickname: 'Forced', currency: 'USD', interval: 'month', interval_count: 1, type: 'ai', ai_prompt: STEP_UP },
    }),
  });
  assert.equal(response.status, 403);
  const body = await response.json();
  assert.equal(body.error.code, 'PLAN_NOT_AVAILABLE');
  assert.match(body.error.message, /acct_standard is not abstracted/);

  // Forced through the page (the disabled choice re-enabled by hand): the refusal is shown.
  await page.$eval('#type-ai', (node) => { node.disabled = false; });
  await page.check('#type-ai');
  await page.fill('#nickname', 'Forced');
  await page.fill('#prompt', STEP_UP);
  await waitForOutcome('preview-error', 'not abstracted');
  await page.click('#save');
  await page.waitForSelector('#save-error [data-code]');
  assert.equal(await page.getAttribute('#save-error [data-code]', 'data-code'), 'PLAN_NOT_AVAILABLE');
  assert.match(await page.textContent('#save-error'), /not abstracted/);

  // Standard plans still work there.
  const { plans } = await app.engine.listPlans({ account_id: 'acct_standard' });
  assert.deepEqual(plans.map((version) => version.plan.type), ['standard']);
  await openPage();
  await page.selectOption('#account', 'acct_standard');
  await page.fill('#nickname', 'Weekly box');
  await page.selectOption('#interval', 'week');
  await page.fill('#amount', '4.505');
  await page.click('#save');
  assert.equal(await page.isVisible('#amount-error'), true);
  assert.match(await page.textContent('#amount-error'), /at most 2 decimals/);
  assert.equal(await page.getAttribute('#amount', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'amount');
  await page.fill('#amount', '4.50');
  assert.equal(await page.isVisible('#amount-error'), false);
  await waitForOutcome('understood', '4.50 USD');
  assert.match(await page.textContent('#timing'), /First invoice at subscription start/);
  assert.equal((await invoiceRows())[1].issued, '2026-01-08');
  await page.click('#save');
  await page.waitForFunction(() => document.getElementById('save-status').textContent.startsWith('Saved'));
  const row = await page.$$eval('#plans-table tbody tr', (rows) =>
    rows.map((r) => [...r.children].slice(1, 6).map((cell) => cell.textContent)));
  assert.deepEqual(row.find((cells) => cells[0] === 'Weekly box'), ['Weekly box', 'Standard', '4.50', 'USD', '1 week']);
});

test('keyboard only: the form is filled and submitted without a mouse, in a sensible order', async () => {
  await openPage();
  const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'account');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'type-standard');
  await page.keyboard.press('ArrowDown'); // the radio group: moves to and selects AI Plan
  assert.equal(await focused(), 'type-ai');
  assert.equal(await page.isChecked('#type-ai'), true);
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'nickname');
  await page.keyboard.type('Keyboard step-up');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'currency');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'interval');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'interval-count');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'prompt');
  await page.keyboard.type(STEP_UP);
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'usage-query');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'save');
  await waitForOutcome('understood', 'rising by 1.00 USD');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('save-status').textContent.startsWith('Saved'));
  const names = await page.$$eval('#plans-table tbody tr', (rows) => rows.map((row) => row.children[1].textContent));
  assert.ok(names.includes('Keyboard step-up'), names.join(', '));

  // A visible focus ring on the focused control.
  await page.focus('#nickname');
  const outline = await page.$eval('#nickname', (node) => getComputedStyle(node).outlineStyle);
  assert.equal(outline, 'solid');
});

test('readable: text contrast of at least 4.5:1, and nothing loaded from outside the server', async () => {
  await openPage();
  await fillAiPlan('Contrast', VAGUE);
  await waitForOutcome('refused');
  const ratios = await contrastRatios();
  await page.selectOption('#account', 'acct_standard');
  await page.fill('#amount', '1.5.0');
  await page.click('#save');
  ratios.push(...(await contrastRatios()));
  assert.ok(ratios.some((entry) => entry.selector === '.hint.unavailable'));
  assert.ok(ratios.some((entry) => entry.selector === '.field-error'));
  assert.ok(ratios.length > 20);
  const low = ratios.filter((entry) => entry.ratio < 4.5);
  assert.deepEqual(low, []);
  assert.deepEqual(page.outside, [], 'no request left 127.0.0.1');
  assert.deepEqual(page.consoleErrors, []);
});

/** The WCAG contrast ratio of the text of each visible element of the page's main kinds. */
function contrastRatios() {
  return page.evaluate(() => {
    const rgb = (text) => text.match(/[\d.]+/g).map(Number);
    const luminance = ([r, g, b]) => {
      const channel = (v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (node) => {
      for (let n = node; n; n = n.parentElement) {
        const colour = rgb(getComputedStyle(n).backgroundColor);
        if (colour.length < 4 || colour[3] > 0) return colour.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const selectors = ['h1', '.lede', 'label', '.hint', '.hint.unavailable', '.field-error', 'button',
      '#interpretation p', '#plans-table td', '#plans-table th', 'caption', 'input', 'select', 'textarea'];
    return selectors.flatMap((selector) => [...document.querySelectorAll(selector)]
      .filter((node) => node.offsetParent !== null)
      .map((node) => {
        const [a, b] = [luminance(rgb(getComputedStyle(node).color)), luminance(background(node))];
        return { selector, id: node.id, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
      }));
  });
}
