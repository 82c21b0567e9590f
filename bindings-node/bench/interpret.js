// The cost of crossing the JavaScript/Rust boundary, and interpretPrompt's throughput.
//
//   npm run build && node bench/interpret.js [--seconds S] [--noop-calls N]
//
// - noop: ns per call of the synchronous no-op export over ~1e6 calls, next to a JavaScript
//   function that does nothing (what the boundary adds).
// - interpretPrompt (offline interpreter, a typical prompt): calls/s and mean latency with one
//   call at a time (sequential awaits), then with N calls in flight.
// No dependencies; run it on the release build (`npm run build`), on an otherwise idle machine.
'use strict';

const os = require('node:os');
const { noop, interpretPrompt } = require('..');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const SECONDS = option('--seconds', 3);
const NOOP_CALLS = option('--noop-calls', 1_000_000);
const IN_FLIGHT = [1, 4, 16, 64];
const PROMPT = 'Bill $5 for the first month and increase by $1 per month';

const now = () => process.hrtime.bigint();

/** ns per call of `fn` over `calls` calls (after a warm-up), best of 5 rounds. */
function perCall(fn, calls) {
  for (let i = 0; i < 100_000; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = now();
    for (let i = 0; i < calls; i++) fn();
    best = Math.min(best, Number(now() - start) / calls);
  }
  return best;
}

/** calls/s and mean latency (µs) of interpretPrompt with `inFlight` calls in flight for SECONDS. */
async function throughput(inFlight) {
  const deadline = now() + BigInt(Math.round(SECONDS * 1e9));
  let calls = 0;
  let latency = 0n;
  const worker = async () => {
    while (now() < deadline) {
      const start = now();
      const read = await interpretPrompt(PROMPT);
      latency += now() - start;
      if (read.outcome !== 'understood') throw new Error(`unexpected answer: ${JSON.stringify(read)}`);
      calls++;
    }
  };
  const start = now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = Number(now() - start) / 1e9;
  return { callsPerSecond: calls / elapsed, meanMicros: Number(latency / BigInt(calls)) / 1e3, calls };
}

async function main() {
  const jsNoop = () => {};
  const native = perCall(noop, NOOP_CALLS);
  const js = perCall(jsNoop, NOOP_CALLS);

  // Warm-up: the runtime's threads, the interpreter's first allocations.
  for (let i = 0; i < 200; i++) await interpretPrompt(PROMPT);

  const rows = [];
  for (const inFlight of IN_FLIGHT) {
    rows.push({ inFlight, ...(await throughput(inFlight)) });
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`@pelcro/ai-billing boundary benchmark — Node ${process.version}, ${os.cpus().length} x ${cpu}`);
  console.log('');
  console.log(`${NOOP_CALLS} calls each, best of 5 rounds:`);
  console.log('');
  console.log(`| call                          |      ns/call |`);
  console.log(`|-------------------------------|-------------:|`);
  console.log(`| noop() (the addon, sync)      | ${native.toFixed(1).padStart(12)} |`);
  console.log(`| a JavaScript no-op function   | ${js.toFixed(1).padStart(12)} |`);
  console.log('');
  console.log(`interpretPrompt(${JSON.stringify(PROMPT)}), offline, ${SECONDS} s each:`);
  console.log('');
  console.log(`| calls in flight |    calls/s | mean latency (µs) |    calls |`);
  console.log(`|----------------:|-----------:|------------------:|---------:|`);
  for (const row of rows) {
    const label = row.inFlight === 1 ? '1 (sequential)' : String(row.inFlight);
    console.log(
      `| ${label.padStart(15)} | ${Math.round(row.callsPerSecond).toString().padStart(10)} | ${row.meanMicros.toFixed(1).padStart(17)} | ${String(row.calls).padStart(8)} |`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
