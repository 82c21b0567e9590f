'use strict';
// The plan builder page. It reads the form, asks the server (which asks @pelcro/ai-billing) what the
// plan bills, and shows the answer. It decides no price itself.

const DEBOUNCE_MS = 350;
const TIMING = {
  at_start: 'First invoice at subscription start: each period is billed in advance.',
  at_renewal: "At renewal, for the period's usage: each period is billed in arrears, when it ends.",
};

/** How the plan list names a plan's type (the CLI can save the others: step_up, usage, hybrid). */
const TYPE_NAMES = { standard: 'Standard', ai: 'AI Plan' };

const $ = (id) => document.getElementById(id);
const form = $('plan-form');
const fields = {
  account: $('account'),
  typeStandard: $('type-standard'),
  typeAi: $('type-ai'),
  nickname: $('nickname'),
  currency: $('currency'),
  interval: $('interval'),
  intervalCount: $('interval-count'),
  amount: $('amount'),
  prompt: $('prompt'),
  usageQuery: $('usage-query'),
  previewStart: $('preview-start'),
};

const state = { accounts: [], usageQueries: [], previewSeq: 0, timer: null };

/** Builds an element: el('p', {class: 'x'}, 'text', child...). Text is always text, never HTML. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error?.message ?? `${response.status} ${response.statusText}`);
    error.code = data.error?.code ?? 'HTTP';
    throw error;
  }
  return data;
}

/** Digits after the decimal point in `currency` (2 for USD, 0 for JPY). */
function exponentOf(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** "19.99" in USD -> 1999 (minor units), by digits, never through a float; an Error when invalid. */
function toMinorUnits(text, currency) {
  const exponent = exponentOf(currency);
  const match = /^(\d{1,12})(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new Error('Enter the amount as a number, for example 19.99.');
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) {
    throw new Error(
      exponent === 0
        ? `${currency} has no minor unit: enter a whole amount.`
        : `${currency} amounts have at most ${exponent} decimals.`,
    );
  }
  return Number(match[1] + fraction.padEnd(exponent, '0'));
}

/** 1999 (minor units) in USD -> "19.99". */
function fromMinorUnits(amount, currency) {
  const exponent = exponentOf(currency);
  const digits = String(Math.abs(amount)).padStart(exponent + 1, '0');
  const sign = amount < 0 ? '-' : '';
  return exponent === 0
    ? `${sign}${digits}`
    : `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

function currentAccount() {
  return state.accounts.find((account) => account.id === fields.account.value);
}

function planType() {
  return fields.typeAi.checked ? 'ai' : 'standard';
}

/** The plan as the form describes it; `amountError` is set when the amount cannot be read. */
function formPlan() {
  const plan = {
    nickname: fields.nickname.value.trim(),
    currency: fields.currency.value,
    interval: fields.interval.value,
    interval_count: Number(fields.intervalCount.value),
    type: planType(),
  };
  let amountError = null;
  if (plan.type === 'ai') {
    plan.ai_prompt = fields.prompt.value;
    plan.usage_query = fields.usageQuery.value;
  } else {
    try {
      plan.amount = toMinorUnits(fields.amount.value, plan.currency);
    } catch (error) {
      amountError = fields.amount.value.trim() === '' ? 'Enter the amount per period.' : error.message;
    }
  }
  return { plan, amountError };
}

function showAmountError(message) {
  const node = $('amount-error');
  node.textContent = message ?? '';
  node.hidden = !message;
  fields.amount.setAttribute('aria-invalid', message ? 'true' : 'false');
}

/** Shows the fields of the chosen plan type. */
function syncType() {
  const ai = planType() === 'ai';
  $('ai-fields').hidden = !ai;
  $('standard-fields').hidden = ai;
  fields.prompt.required = ai;
  fields.amount.required = !ai;
}

/** The AI Plan choice is available only for abstracted accounts: the engine enforces it too. */
function syncAccount() {
  const account = currentAccount();
  const hint = $('ai-hint');
  const available = Boolean(account?.abstracted);
  fields.typeAi.disabled = !available;
  hint.classList.toggle('unavailable', !available);
  if (available) {
    hint.textContent = 'An AI Plan is billed by a plain-language prompt instead of a fixed amount.';
  } else {
    hint.textContent = `AI Plans are unavailable: they can be created only for abstracted accounts, and ${
      account?.id ?? 'this account'
    } is not abstracted.`;
    if (fields.typeAi.checked) {
      fields.typeStandard.checked = true;
      syncType();
    }
  }
  $('account-hint').textContent = account
    ? `Plans are saved to this account (time zone ${account.timezone}; ${
        account.abstracted ? 'abstracted: AI Plans available' : 'not abstracted: standard plans only'
      }).`
    : 'Plans are saved to this account.';
}

function schedulePreview() {
  clearTimeout(state.timer);
  state.timer = setTimeout(runPreview, DEBOUNCE_MS);
}

function setInterpretation(...children) {
  $('interpretation').replaceChildren(...children);
}

async function runPreview() {
  const seq = ++state.previewSeq;
  const { plan, amountError } = formPlan();
  const account = currentAccount();
  const previewNode = $('preview');
  if (!account) return;
  if (plan.type === 'ai' && plan.ai_prompt.trim() === '') {
    setInterpretation(el('p', { class: 'muted' }, 'Write the Plan Prompt to see how it is read.'));
    previewNode.replaceChildren();
    return;
  }
  if (plan.type === 'standard' && amountError) {
    setInterpretation(el('p', { class: 'muted' }, fields.amount.value.trim() === ''
      ? 'Enter the amount per period to see the invoices.'
      : `The amount cannot be read: ${amountError}`));
    previewNode.replaceChildren();
    return;
  }
  $('interpretation').setAttribute('aria-busy', 'true');
  let answer;
  try {
    answer = await api('POST', '/api/preview', {
      account_id: account.id,
      plan,
      start: fields.previewStart.value,
    });
  } catch (error) {
    if (seq !== state.previewSeq) return;
    $('interpretation').removeAttribute('aria-busy');
    setInterpretation(
      el('div', { class: 'notice error', 'data-outcome': 'error' },
        el('p', {}, el('strong', {}, 'Cannot read this plan: '), error.message),
        el('p', { class: 'code' }, `Error code: ${error.code}`)),
    );
    previewNode.replaceChildren();
    return;
  }
  if (seq !== state.previewSeq) return; // a newer edit has its own preview on the way
  $('interpretation').removeAttribute('aria-busy');
  renderAnswer(answer);
}

function renderAnswer({ interpretation, preview, preview_error: previewError }) {
  const previewNode = $('preview');
  if (interpretation && interpretation.outcome !== 'understood') {
    setInterpretation(
      el('div', { class: 'notice refused', 'data-outcome': 'refused' },
        el('p', {}, el('strong', {}, 'Not understood. '), 'Nothing would be billed from this prompt.'),
        el('p', { id: 'refusal-reason' }, interpretation.reason),
        el('p', {}, 'Rephrase it with the prices and when they apply, for example "$25 per month" or ' +
          '"$0.50 per shipment on weekdays and $0.80 per shipment on weekends" (a price for every day).')),
    );
    previewNode.replaceChildren();
    return;
  }
  const reading = interpretation?.reading ?? preview?.reading ?? '';
  const timing = interpretation?.invoice_timing ?? preview?.invoice_timing;
  const readingNode = el('div', { class: 'notice understood', 'data-outcome': 'understood' },
    el('h3', {}, interpretation ? 'How the prompt is read' : 'How the plan bills'),
    el('div', { id: 'reading' }, reading.split('\n').map((line) => el('p', {}, line))),
    timing ? el('p', { id: 'timing', 'data-timing': timing }, el('strong', {}, 'Timing: '), TIMING[timing]) : null,
    interpretation ? el('p', { class: 'muted' }, `Read by the ${interpretation.interpreter} interpreter.`) : null);
  if (previewError) {
    setInterpretation(readingNode,
      el('div', { class: 'notice error', 'data-outcome': 'preview-error' },
        el('p', {}, el('strong', {}, 'The sample cannot be billed: '), previewError.message),
        el('p', { class: 'code' }, `Error code: ${previewError.code}`)));
    previewNode.replaceChildren();
    return;
  }
  setInterpretation(readingNode,
    el('p', { class: 'muted' }, `${preview.invoices.length} invoices previewed; the first totals ${
      preview.invoices[0]?.total ?? '0'} ${preview.invoices[0]?.currency ?? ''}.`));
  previewNode.replaceChildren(invoiceTable(preview), documentViewer(preview.documents ?? []));
}

/**
 * The document of one previewed invoice at a time, as the library renders it for customers (the
 * same page the platform, the CLI and Node give), in a sandboxed frame: no script runs in it.
 */
function documentViewer(documents) {
  if (documents.length === 0) return el('p', { class: 'muted' }, 'No documents to show.');
  const frame = el('iframe', {
    id: 'document-frame',
    class: 'document-frame',
    title: `Document: ${documents[0].label}`,
    sandbox: '',
    src: documents[0].url,
  });
  const open = el('a', { id: 'document-open', href: documents[0].url, target: '_blank', rel: 'noopener' },
    'Open the document on its own (print it there for a PDF)');
  const select = el('select', { id: 'document-select' },
    documents.map((doc, i) => el('option', { value: String(i) }, doc.label)));
  select.addEventListener('change', () => {
    const doc = documents[Number(select.value)];
    frame.setAttribute('src', doc.url);
    frame.setAttribute('title', `Document: ${doc.label}`);
    open.setAttribute('href', doc.url);
  });
  return el('div', { class: 'documents', id: 'documents' },
    el('h3', {}, 'Invoice documents'),
    el('div', { class: 'field' }, el('label', { for: 'document-select' }, 'Show the document of'), select),
    open,
    frame);
}

function invoiceTable(preview) {
  const { sample } = preview;
  const rate = (Number(sample.tax_rate) * 100).toFixed(2).replace(/\.?0+$/, '');
  const caption = el('caption', {},
    `The first ${sample.periods} invoices of one subscription (quantity 1) starting ${sample.start}, ` +
    `over sample usage: one delivery a day, except every 9th day (${sample.shipments} deliveries), ` +
    `taxed at ${rate}%.`);
  const head = el('thead', {}, el('tr', {},
    ['Invoice', 'Issued', 'Period', 'Line items', 'Subtotal', 'Tax', 'Total'].map((name) =>
      el('th', { scope: 'col' }, name))));
  const rows = preview.invoices.map((invoice) => el('tr', { 'data-period': invoice.period_index },
    el('th', { scope: 'row' }, `#${invoice.period_index}`),
    el('td', { class: 'date' }, invoice.issue_date),
    el('td', { class: 'date' }, invoice.period_start, el('br'), `to ${invoice.period_end}`),
    el('td', { class: 'line-items' }, el('ul', { class: 'lines' }, invoice.line_items.map((line) =>
      el('li', {}, el('span', {}, line.description), ' ', el('span', { class: 'money' }, line.amount))))),
    el('td', { class: 'money' }, invoice.subtotal),
    el('td', { class: 'money', title: invoice.tax_lines.map((t) => `${t.name} ${t.rate}`).join(', ') }, invoice.tax),
    el('td', { class: 'money total' }, `${invoice.total} ${invoice.currency}`)));
  return el('table', { id: 'invoice-table', class: 'invoices' }, caption, head, el('tbody', {}, rows));
}

async function loadPlans() {
  const account = currentAccount();
  if (!account) return;
  const node = $('plans');
  let plans;
  try {
    ({ plans } = await api('GET', `/api/plans?account_id=${encodeURIComponent(account.id)}`));
  } catch (error) {
    node.replaceChildren(el('p', { class: 'notice error' }, `Cannot list the plans: ${error.message}`));
    return;
  }
  if (account.id !== fields.account.value) return;
  const head = el('thead', {}, el('tr', {},
    ['Plan id', 'Nickname', 'Type', 'Amount', 'Currency', 'Interval', 'Plan prompt', 'Usage source',
      'Version', 'Created'].map((name) => el('th', { scope: 'col' }, name))));
  const rows = plans.map(({ plan, version, created_at: createdAt }) => el('tr', { 'data-plan-id': plan.id },
    el('th', { scope: 'row' }, el('code', {}, plan.id)),
    el('td', {}, plan.nickname ?? ''),
    el('td', {}, TYPE_NAMES[plan.type] ?? plan.type),
    el('td', { class: 'money' }, fromMinorUnits(plan.amount ?? 0, plan.currency)),
    el('td', {}, plan.currency),
    el('td', {}, `${plan.interval_count ?? 1} ${plan.interval}`),
    el('td', { class: 'prompt' }, plan.ai_prompt ?? '—'),
    el('td', {}, plan.usage_query ?? '—'),
    el('td', { class: 'money' }, version),
    el('td', { class: 'date' }, createdAt.slice(0, 19).replace('T', ' '))));
  node.replaceChildren(el('table', { id: 'plans-table', class: 'plans' },
    el('caption', {}, `${plans.length} plan${plans.length === 1 ? '' : 's'} of ${account.id}, each at its latest version`),
    head, el('tbody', {}, rows)));
}

async function save(event) {
  event.preventDefault();
  $('save-status').textContent = '';
  $('save-error').replaceChildren();
  const { plan, amountError } = formPlan();
  showAmountError(plan.type === 'standard' ? amountError : null);
  if (plan.type === 'standard' && amountError) {
    fields.amount.focus();
    return;
  }
  if (!form.checkValidity()) {
    form.querySelector('input:invalid, select:invalid, textarea:invalid')?.focus();
    form.reportValidity();
    return;
  }
  const button = $('save');
  button.disabled = true;
  try {
    const { plan: saved } = await api('POST', '/api/plans', { account_id: fields.account.value, plan });
    await loadPlans();
    $('save-status').textContent =
      `Saved ${saved.plan.type === 'ai' ? 'AI Plan' : 'plan'} "${saved.plan.nickname}" as ${saved.plan.id} (version ${saved.version}).`;
  } catch (error) {
    $('save-error').replaceChildren(el('div', { class: 'notice error', 'data-code': error.code },
      el('p', {}, el('strong', {}, 'Not saved: '), error.message),
      el('p', { class: 'code' }, `Error code: ${error.code}`)));
  } finally {
    button.disabled = false;
  }
}

function describeUsageQuery() {
  const query = state.usageQueries.find((q) => q.name === fields.usageQuery.value);
  $('usage-query-description').textContent = query
    ? `${query.description} (runs on ${query.dialects.join(', ')})`
    : '';
}

async function start() {
  const [{ accounts }, { usage_queries: queries }] = await Promise.all([
    api('GET', '/api/accounts'),
    api('GET', '/api/usage-queries'),
  ]);
  state.accounts = accounts;
  state.usageQueries = queries;
  fields.account.replaceChildren(...accounts.map((account) => el('option', { value: account.id },
    `${account.id} (${account.abstracted ? 'abstracted' : 'not abstracted'})`)));
  fields.usageQuery.replaceChildren(...queries.map((query) => el('option', {
    value: query.name,
    selected: query.default || query.name === 'shipments_by_weekday',
  }, `${query.name}: ${query.description}`)));
  describeUsageQuery();
  syncAccount();
  syncType();

  fields.account.addEventListener('change', () => {
    syncAccount();
    $('save-status').textContent = '';
    $('save-error').replaceChildren();
    loadPlans();
    schedulePreview();
  });
  for (const radio of [fields.typeStandard, fields.typeAi]) {
    radio.addEventListener('change', () => {
      syncType();
      schedulePreview();
    });
  }
  fields.usageQuery.addEventListener('change', describeUsageQuery);
  fields.amount.addEventListener('input', () => showAmountError(null));
  form.addEventListener('input', () => {
    // A message about the last save is stale once the form changes.
    $('save-status').textContent = '';
    $('save-error').replaceChildren();
    schedulePreview();
  });
  form.addEventListener('change', schedulePreview);
  fields.previewStart.addEventListener('input', schedulePreview);
  form.addEventListener('submit', save);
  await loadPlans();
  document.body.dataset.ready = 'true';
}

start().catch((error) => {
  $('save-error').replaceChildren(el('div', { class: 'notice error' },
    el('p', {}, el('strong', {}, 'The page could not start: '), error.message)));
});
