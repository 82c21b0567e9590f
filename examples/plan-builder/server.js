'use strict';
// The AI plan builder: a small web app on loopback over @pelcro/ai-billing.
//
// Everything that decides a price comes from the library: interpretPrompt reads the prompt,
// previewScenario bills the sample (and renders each invoice's document), the BillingEngine saves and lists plans and refuses an AI plan
// for an account that is not abstracted. This file only serves the page, shapes requests, and
// passes the library's answers and errors through.

const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { parseArgs } = require('node:util');

const billing = require('@pelcro/ai-billing');

/** The accounts seeded at start: one that may have AI plans, one that may not. */
const SEED_ACCOUNTS = [
  { id: 'acct_abstracted', abstracted: true, timezone: 'America/New_York' },
  { id: 'acct_standard', abstracted: false, timezone: 'America/New_York' },
];

/** A standard plan on each seeded account, so the list shows both kinds side by side. */
const SEED_PLAN = {
  id: 'plan_monthly_box',
  nickname: 'Monthly box',
  amount: 1999,
  currency: 'USD',
  interval: 'month',
  interval_count: 1,
  type: 'standard',
};

/** The sample the preview bills: what the page says it bills. */
const PREVIEW = {
  periods: 6,
  defaultStart: '2026-01-01',
  defaultTaxRate: '0.0825',
  // One delivery a day at 11:30 UTC, but none on every 9th day (a missed or skipped delivery), so
  // the weekday counts differ from period to period. Deterministic: the same plan previews the
  // same invoices every time.
  deliveryHourUtc: '11:30:00',
  skipEvery: 9,
  // Enough days for six periods of the longest interval the form allows, and a cap on the sample.
  maxDays: 6 * 12 * 366 + 2,
};

/** How many previews keep their documents to serve (the oldest is dropped first). */
const MAX_DOCUMENT_SETS = 32;

/**
 * The headers of an invoice or credit note document: it is the library's self-contained page
 * (inline styles, no script, image, font or link), so it may load nothing at all, and only this
 * page may frame it.
 */
const DOCUMENT_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const DAYS_PER_UNIT = { day: 1, week: 7, month: 31, year: 366 };
const MAX_BODY = 64 * 1024;
const PUBLIC = path.join(__dirname, 'public');
const STATIC = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

/** An error answered with an HTTP status and the library's code. */
class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The HTTP status for one of the library's error codes. */
function statusOf(code) {
  switch (code) {
    case 'INVALID_INPUT':
      return 400;
    case 'PLAN_NOT_AVAILABLE':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'PROMPT_NOT_UNDERSTOOD':
      return 422;
    default:
      return 500;
  }
}

/** Shipments for the preview: daily deliveries from `start` (YYYY-MM-DD) over `days` days. */
function sampleShipments(start, days) {
  const shipments = [];
  const first = Date.parse(`${start}T${PREVIEW.deliveryHourUtc}Z`);
  for (let day = 0; day < days; day += 1) {
    if (day % PREVIEW.skipEvery === PREVIEW.skipEvery - 1) continue;
    shipments.push({
      id: `sample_${day + 1}`,
      shipped_at: new Date(first + day * 86_400_000).toISOString().replace('.000Z', 'Z'),
      quantity: 1,
    });
  }
  return shipments;
}

/** Reads a JSON request body (at most MAX_BODY bytes). */
function readJson(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'INVALID_INPUT', `the request body is over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      } catch (error) {
        reject(new HttpError(400, 'INVALID_INPUT', `the request body is not JSON: ${error.message}`));
      }
    });
    req.on('error', reject);
  });
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function requireString(body, field) {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new HttpError(400, 'INVALID_INPUT', `${field} is required`);
  }
  return value;
}

/**
 * The plan in the platform's shape from the form's fields (`plan` in a request body). Only what
 * the form can send is kept; the library checks every value.
 */
function planFrom(input) {
  if (input === null || typeof input !== 'object') {
    throw new HttpError(400, 'INVALID_INPUT', 'plan is required');
  }
  const plan = {
    nickname: input.nickname,
    currency: input.currency,
    interval: input.interval,
    interval_count: input.interval_count,
    type: input.type,
  };
  if (input.type === 'ai') {
    plan.ai_prompt = input.ai_prompt;
    plan.usage_query = input.usage_query;
  } else {
    plan.amount = input.amount;
  }
  return plan;
}

/** Opens the engine and seeds the accounts; the returned app serves the page and its API. */
async function createApp({ databaseUrl }) {
  const missing = [
    typeof billing.usageQueries !== 'function' && 'usageQueries()',
    typeof billing.BillingEngine.prototype.getAccount !== 'function' && 'BillingEngine#getAccount()',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(
      `this build of @pelcro/ai-billing has no ${missing.join(' and ')}: rebuild bindings-node (npm run build)`,
    );
  }
  const engine = await billing.BillingEngine.open({ databaseUrl });
  for (const account of SEED_ACCOUNTS) {
    await engine.saveAccount({ account, actor: 'plan-builder' });
    try {
      await engine.getPlan({ account_id: account.id, plan_id: SEED_PLAN.id });
    } catch (error) {
      if (error.code !== 'NOT_FOUND') throw error;
      await engine.createPlan({ account_id: account.id, plan: SEED_PLAN, actor: 'plan-builder' });
    }
  }

  const getAccount = (accountId) => engine.getAccount({ account_id: accountId });

  // The documents of recent previews, by a random token: the page frames them from
  // /api/documents/TOKEN/invoice/N (and credit-note/N), each served as the library rendered it.
  const documentSets = new Map();

  function keepDocuments(documents) {
    const token = crypto.randomBytes(12).toString('hex');
    documentSets.set(token, documents);
    while (documentSets.size > MAX_DOCUMENT_SETS) documentSets.delete(documentSets.keys().next().value);
    return token;
  }

  function serveDocument(res, token, kind, number) {
    const set = documentSets.get(token);
    const list = kind === 'invoice' ? set?.invoices : set?.credit_notes;
    const html = list?.[number - 1];
    if (html === undefined) throw new HttpError(404, 'NOT_FOUND', `no ${kind} document ${number} for this preview`);
    res.writeHead(200, { ...DOCUMENT_HEADERS, 'content-length': Buffer.byteLength(html) });
    res.end(html);
  }

  async function listAllPlans(accountId) {
    const plans = [];
    let after;
    do {
      const page = await engine.listPlans({ account_id: accountId, after, limit: 200 });
      plans.push(...page.plans);
      after = page.next_after ?? undefined;
    } while (after);
    return plans;
  }

  async function preview(body) {
    const account = await getAccount(requireString(body, 'account_id'));
    const plan = planFrom(body.plan);
    const answer = {};
    if (plan.type === 'ai') {
      // The interpretation first: a refusal is an answer (what to rephrase), not an error.
      const interpretation = await billing.interpretPrompt(plan.ai_prompt ?? '', {
        currency: plan.currency,
        interval: plan.interval,
        intervalCount: plan.interval_count,
      });
      answer.interpretation = interpretation;
      if (interpretation.outcome !== 'understood') return answer;
    }
    const start = body.start ?? PREVIEW.defaultStart;
    const rate = body.tax_rate ?? PREVIEW.defaultTaxRate;
    const perPeriod = (DAYS_PER_UNIT[plan.interval] ?? 31) * (Number(plan.interval_count) || 1);
    const days = Math.min(PREVIEW.periods * perPeriod + 2, PREVIEW.maxDays);
    const scenario = {
      account: {
        id: account.id,
        abstracted: account.abstracted,
        timezone: account.timezone,
        ...(account.locale ? { locale: account.locale } : {}),
      },
      plan,
      subscription: { start, quantity: 1 },
      periods: PREVIEW.periods,
      tax: { rate },
      shipments: typeof start === 'string' ? sampleShipments(start, days) : [],
      returns: [],
    };
    try {
      const report = await billing.previewScenario(scenario, { documents: true });
      const token = keepDocuments(report.documents);
      answer.preview = {
        invoice_timing: report.invoice_timing,
        reading: report.reading,
        invoices: report.invoices,
        // The library's document of each invoice and credit note, where the page can frame it.
        documents: [
          ...report.invoices.map((invoice, i) => ({
            kind: 'invoice',
            label: `Invoice #${invoice.period_index}, issued ${invoice.issue_date}`,
            url: `/api/documents/${token}/invoice/${i + 1}`,
          })),
          ...(report.credit_notes ?? []).map((note, i) => ({
            kind: 'credit_note',
            label: `Credit note ${note.id}, issued ${note.issue_date}`,
            url: `/api/documents/${token}/credit-note/${i + 1}`,
          })),
        ],
        sample: { start, tax_rate: rate, periods: PREVIEW.periods, shipments: scenario.shipments.length },
      };
    } catch (error) {
      if (!error.code) throw error;
      // The preview's own refusal (a weekday the prompt gives no price, a bad start date) is
      // shown beside the reading; the interpretation still stands.
      answer.preview_error = { code: error.code, message: error.message };
    }
    return answer;
  }

  async function createPlan(body) {
    const accountId = requireString(body, 'account_id');
    const plan = planFrom(body.plan);
    plan.id = `plan_${crypto.randomBytes(5).toString('hex')}`;
    const saved = await engine.createPlan({ account_id: accountId, plan, actor: 'plan-builder' });
    return saved;
  }

  async function route(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const key = `${req.method} ${url.pathname}`;
    const document = /^\/api\/documents\/([0-9a-f]{24})\/(invoice|credit-note)\/([1-9][0-9]{0,3})$/.exec(url.pathname);
    if (document && req.method === 'GET') {
      return serveDocument(res, document[1], document[2] === 'invoice' ? 'invoice' : 'credit_note', Number(document[3]));
    }
    switch (key) {
      case 'GET /api/accounts': {
        const accounts = await Promise.all(SEED_ACCOUNTS.map((account) => getAccount(account.id)));
        return send(res, 200, { accounts });
      }
      case 'GET /api/usage-queries':
        return send(res, 200, { usage_queries: billing.usageQueries() });
      case 'GET /api/plans': {
        const accountId = url.searchParams.get('account_id');
        if (!accountId) throw new HttpError(400, 'INVALID_INPUT', 'account_id is required');
        await getAccount(accountId);
        return send(res, 200, { plans: await listAllPlans(accountId) });
      }
      case 'POST /api/plans':
        return send(res, 201, { plan: await createPlan(await readJson(req)) });
      case 'POST /api/preview':
        return send(res, 200, await preview(await readJson(req)));
      default:
        break;
    }
    const file = req.method === 'GET' || req.method === 'HEAD' ? STATIC[url.pathname] : undefined;
    if (!file) throw new HttpError(404, 'NOT_FOUND', `no ${req.method} ${url.pathname}`);
    const content = await fs.promises.readFile(path.join(PUBLIC, file[0]));
    res.writeHead(200, {
      'content-type': file[1],
      'content-length': content.length,
      'cache-control': 'no-cache',
      // Nothing loads from anywhere but this server.
      'content-security-policy':
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : content);
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((error) => {
      const code = error.code ?? 'INTERNAL';
      const status = error.status ?? statusOf(code);
      if (status >= 500) console.error(error);
      if (!res.headersSent) send(res, status, { error: { code, message: error.message } });
      else res.destroy();
    });
  });

  return {
    server,
    engine,
    async listen(port = 0) {
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
      return `http://127.0.0.1:${server.address().port}/`;
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections?.();
      await engine.close();
    },
  };
}

/** `sqlite://...` from --db, $PLAN_BUILDER_DB, or a temporary file. */
function databaseFromArgs(argv, env) {
  const { values } = parseArgs({
    args: argv,
    options: { db: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(
      'usage: npm start [-- --db PATH|sqlite://PATH]\n' +
        '  PORT             the port on 127.0.0.1 (default: a free one)\n' +
        '  PLAN_BUILDER_DB  the SQLite database, as --db (default: a temporary file)',
    );
    process.exit(0);
  }
  const db = values.db ?? env.PLAN_BUILDER_DB;
  if (db) {
    const url = db.includes('://') || db.startsWith('sqlite:') ? db : `sqlite://${path.resolve(db)}`;
    return { databaseUrl: url, temporary: null };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-builder-'));
  return { databaseUrl: `sqlite://${path.join(dir, 'plans.db')}`, temporary: dir };
}

async function main() {
  const { databaseUrl, temporary } = databaseFromArgs(process.argv.slice(2), process.env);
  const removeTemporary = () => temporary && fs.rmSync(temporary, { recursive: true, force: true });
  let app;
  let url;
  try {
    app = await createApp({ databaseUrl });
    url = await app.listen(process.env.PORT ? Number(process.env.PORT) : 0);
  } catch (error) {
    await app?.close().catch(() => {});
    removeTemporary();
    throw error;
  }
  console.log(`Plan builder: ${url}`);
  console.log(`Database: ${databaseUrl}${temporary ? ' (temporary, removed on exit)' : ''}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.close();
    removeTemporary();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(`plan-builder: ${error.code ? `${error.code}: ` : ''}${error.message}`);
    process.exit(1);
  });
}

module.exports = { createApp, sampleShipments, SEED_ACCOUNTS, PREVIEW };
