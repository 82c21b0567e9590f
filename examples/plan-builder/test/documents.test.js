'use strict';
// The invoice and credit note documents (issue 21) in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core), as @pelcro/ai-billing renders them:
//   (a) the document of every invoice and credit note of every public scenario opens and shows
//       its total;
//   (b) no document makes a request: nothing leaves the page but the document itself;
//   (c) axe-core (from node_modules, injected inline) finds no contrast or landmark violation;
//   (d) a document prints to a PDF of at least one page;
//   (e) screenshots for the docs: docs/invoice-usage.png, docs/invoice-step-up.png and
//       docs/credit-note.png.
// The scenarios are the team's public evaluation cases (../shared/eval/public, when present),
// completed by the repository's copy (tests/scenarios/public), which adds the subscription
// changes that make credit notes.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { previewScenario } = require('@pelcro/ai-billing');

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../../..');
const DOCS = process.env.DOCUMENT_SCREENSHOTS ?? path.join(ROOT, 'docs');
const SHARED = path.resolve(ROOT, '..', 'shared', 'eval', 'public');
const REPOSITORY = path.join(ROOT, 'tests', 'scenarios', 'public');
const AXE = require.resolve('axe-core/axe.min.js');

/** Every public scenario case by file name: the shared folder's first, then the repository's. */
function publicCases() {
  const cases = new Map();
  for (const folder of [SHARED, REPOSITORY]) {
    if (!fs.existsSync(folder)) continue;
    for (const name of fs.readdirSync(folder).filter((n) => n.endsWith('.json')).sort()) {
      if (!cases.has(name)) cases.set(name, JSON.parse(fs.readFileSync(path.join(folder, name), 'utf8')));
    }
  }
  return cases;
}

/** The digits of an amount: how a total is recognised whatever the locale writes around it. */
const digits = (text) => text.replace(/[^0-9]/g, '');

let browser;
let page;
let requests;
/** { name, kind, index, total, html } for every document of every scenario. */
const documents = [];

before(async () => {
  for (const [name, { scenario, expected }] of publicCases()) {
    if (expected?.refuse) continue; // a refused prompt bills nothing: no document
    const report = await previewScenario(scenario, { documents: true });
    report.invoices.forEach((invoice, i) => {
      documents.push({ name, kind: 'invoice', index: i, total: invoice.total, html: report.documents.invoices[i], invoice });
    });
    (report.credit_notes ?? []).forEach((note, i) => {
      documents.push({ name, kind: 'credit_note', index: i, total: note.total, html: report.documents.credit_notes[i], note });
    });
  }
  // One scenario in another locale: the same checks hold for German dates and amounts.
  const german = publicCases().get('change-cancel-immediately-in-advance.json').scenario;
  german.account.locale = 'de-DE';
  const report = await previewScenario(german, { documents: true });
  documents.push({ name: 'de-DE', kind: 'invoice', index: 0, total: report.invoices[0].total, html: report.documents.invoices[0] });
  documents.push({ name: 'de-DE', kind: 'credit_note', index: 0, total: report.credit_notes[0].total, html: report.documents.credit_notes[0] });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 900, height: 600 } });
  page = await context.newPage();
  // Every request any document makes is recorded and refused: there must be none.
  requests = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('about:') && !url.startsWith('data:')) requests.push(url);
  });
  await context.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.abort();
  });
});

after(async () => {
  await browser?.close();
});

async function open(html) {
  await page.setContent(html, { waitUntil: 'load' });
}

test('every document of every public scenario shows its total and asks for nothing', async () => {
  assert.ok(documents.length >= 60, `${documents.length} documents`);
  assert.ok(documents.some((d) => d.kind === 'credit_note'), 'credit notes are among them');
  for (const doc of documents) {
    const label = `${doc.name} ${doc.kind} ${doc.index + 1}`;
    await open(doc.html);
    const total = page.locator('tfoot tr.total td');
    assert.ok(await total.isVisible(), `${label}: the total is visible`);
    assert.equal(digits(await total.innerText()), digits(doc.total), `${label}: shows ${doc.total}`);
    assert.equal(await page.locator('h1').innerText(), doc.kind === 'invoice' ? 'Invoice' : 'Credit note', label);
    // No script, image, stylesheet, font or frame to load.
    const loads = await page.evaluate(() =>
      document.querySelectorAll('script, img, link, iframe, object, embed, [src], [href]').length);
    assert.equal(loads, 0, `${label}: nothing to load`);
  }
  assert.deepEqual(requests, [], 'no request left any document');
});

test('axe finds no contrast or landmark violation', async () => {
  // One document of each kind per scenario (they share one template), and the German ones.
  const seen = new Set();
  const sample = documents.filter((doc) => {
    const key = `${doc.name}/${doc.kind}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  for (const doc of sample) {
    await open(doc.html);
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const rules = window.axe.getRules()
        .map((rule) => rule.ruleId)
        .filter((id) => id === 'color-contrast' || id === 'region' || id.startsWith('landmark-'));
      const result = await window.axe.run(document, { runOnly: { type: 'rule', values: rules } });
      return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    assert.deepEqual(violations, [], `${doc.name} ${doc.kind}`);
  }
  assert.deepEqual(requests, [], 'axe, injected inline, fetched nothing either');
});

test('a document prints to PDF', async () => {
  const doc = documents.find((d) => d.kind === 'invoice' && d.invoice?.line_items.length > 1) ?? documents[0];
  await open(doc.html);
  const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  const pages = pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? [];
  assert.ok(pages.length >= 1, `${pages.length} pages`);
});

test('screenshots of a usage invoice, a step-up invoice and a credit note', async () => {
  const pick = (predicate, what) => {
    const found = documents.find(predicate);
    assert.ok(found, `a ${what} among the documents`);
    return found;
  };
  const usage = pick((d) => d.kind === 'invoice' && d.name === 'hybrid-weekday-with-tax.json' && d.index === 1, 'usage invoice');
  const stepUp = pick((d) => d.kind === 'invoice' && d.name === 'seed-step-up.json' && d.index === 2, 'step-up invoice');
  const note = pick((d) => d.kind === 'credit_note' && d.name === 'change-cancel-immediately-in-advance.json', 'credit note');
  assert.ok(usage.invoice.line_items.some((line) => line.kind === 'usage'));
  fs.mkdirSync(DOCS, { recursive: true });
  for (const [doc, file] of [[usage, 'invoice-usage.png'], [stepUp, 'invoice-step-up.png'], [note, 'credit-note.png']]) {
    await open(doc.html);
    const png = await page.screenshot({ path: path.join(DOCS, file), fullPage: true });
    assert.ok(png.length > 10_000, `${file} has content`);
  }
});
