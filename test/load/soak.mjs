// Load soak (issue 10): 10,000 concurrent requests through one wrapped fetch against loopback
// servers in a child process (bench/lib/servers.mjs, the benchmarks' own). Asserts counts and outcomes, never speed:
// the only time bound is one a hang would exceed. Heap figures come from this process alone.
// Run: npm run test:load   (node --expose-gc test/load/soak.mjs against a built dist/)
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { CLIENT_ID, CLIENT_SECRET, spawnServers } from "../../bench/lib/servers.mjs";
import { redactor, waitForDist } from "../support/suite-runner.mjs";

const N = 10_000;
const SOAK_ROUNDS = 20;
const SOAK_CONCURRENCY = 2_000;
const MIB = 1024 * 1024;
const HEAP_SLACK = 16 * MIB; // after everything, against the baseline
const SOAK_SLACK = 4 * MIB; // last soak round against the first: 40,000 requests leaking 100 B each would exceed it
const HANG_MS = 30_000; // the rate-limited phase must fail fast; only a wait for Retry-After comes near this
const WHOLE_RUN_MS = 180_000;

const redact = redactor([CLIENT_SECRET]);
let passed = 0;
let failed = 0;
const check = (name, ok, detail) => {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok" : "not ok"} - ${name}${!ok && detail ? ` (${redact(detail)})` : ""}`);
};
const info = (text) => console.log(`# ${redact(text)}`);
const mib = (bytes) => (bytes / MIB).toFixed(1);

let unhandled = 0;
let firstUnhandled;
process.on("unhandledRejection", (reason) => {
  unhandled++;
  firstUnhandled ??= reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
});

if (typeof globalThis.gc !== "function") {
  check("runs with --expose-gc (npm run test:load)", false, "globalThis.gc is missing");
  finish();
}

const hang = setTimeout(() => {
  check(`the whole soak finished within ${WHOLE_RUN_MS / 1000} s`, false, "hung");
  finish();
}, WHOLE_RUN_MS);
hang.unref();

// 10,000 concurrent requests hold about as many sockets in this process.
const fdLimit = Number(/^Max open files\s+(\d+)/m.exec(safeRead("/proc/self/limits"))?.[1] ?? Number.NaN);
info(`node ${process.version}, open files limit ${Number.isNaN(fdLimit) ? "unknown" : fdLimit}`);
if (fdLimit < N + 1_000) check(`open files limit ≥ ${N + 1_000} (ulimit -n 65536)`, false, `it is ${fdLimit}`);

const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
// The bare global fetch: the drop-in users write. (The middleware lets a 401's connection go back
// to the pool before it retries; without that, the rotation phase opened 10,000 more sockets.)
const next = fetch;
/** Set up by the run at the bottom: the built package and the servers' child process. */
let withClientCredentials;
let ClientCredentialsError;
let servers;

const rpc = (id) => ({
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
  body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/list" }),
});

/**
 * n requests started in one synchronous loop, all awaited. Keeps only a summary: how many came
 * back 200 with their own JSON-RPC id (the body read to the end), other statuses, and rejections.
 */
async function stampede(authFetch, n, hangMs) {
  // One signal each (undici warns about thousands of listeners on one), aborted only by a hang.
  const controllers = hangMs ? Array.from({ length: n }, () => new AbortController()) : [];
  let hung = false;
  const bound = hangMs
    ? setTimeout(() => {
        hung = true;
        for (const controller of controllers) controller.abort(new Error(`still pending after ${hangMs / 1000} s`));
      }, hangMs)
    : undefined;
  const started = performance.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: n }, async (_, i) => {
      const response = await authFetch(servers.resourceUrl, hangMs ? { ...rpc(i), signal: controllers[i].signal } : rpc(i));
      const text = await response.text();
      let id;
      try {
        id = JSON.parse(text).id;
      } catch {}
      return response.status === 200 && id === i ? "ok" : `status ${response.status}${response.status === 200 ? ", wrong body" : ""}`;
    }),
  );
  clearTimeout(bound);
  const summary = { ms: performance.now() - started, hung, ok: 0, other: new Map(), rejections: [] };
  for (const outcome of outcomes) {
    if (outcome.status === "rejected") summary.rejections.push(outcome.reason);
    else if (outcome.value === "ok") summary.ok++;
    else summary.other.set(outcome.value, (summary.other.get(outcome.value) ?? 0) + 1);
  }
  return summary;
}

function describe(run) {
  const parts = [...run.other].map(([what, count]) => `${what} ×${count}`);
  const first = run.rejections[0];
  if (first)
    parts.push(
      `${run.rejections.length} rejected, first: ${first?.name}: ${first?.message}${first?.cause ? ` (cause: ${first.cause.code ?? first.cause.message})` : ""}`,
    );
  return parts.join("; ") || "none";
}

const delta = (after, before) => Object.fromEntries(Object.keys(after).map((key) => [key, after[key] - before[key]]));
const countsLine = (d) => `token ${d.token}, 429 ${d.tokenRateLimited}, PRM ${d.prm}, AS metadata ${d.asMetadata}, 401 ${d.unauthorized}, 200 ${d.authorized}`;

/** After everything this process may still hold has had the chance to go. */
async function settledHeap() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await sleep(50);
  }
  return process.memoryUsage().heapUsed;
}

/** Closes the servers' idle keep-alive sockets and gives the client time to see them close. */
async function dropSockets() {
  await servers.closeIdle();
  await sleep(500);
}

async function main() {
  // Warm-up on a throw-away instance, as wide as the phases: module code, JIT, and undici's pool,
  // which keeps one client object per connection it ever opened (~2 KiB each, sockets closed or not).
  const warm = await stampede(withClientCredentials(options)(next), N);
  if (warm.ok !== N) check(`warm-up: ${N} requests succeed`, false, describe(warm));
  await dropSockets();
  const baseline = await settledHeap();
  info(`heap baseline ${mib(baseline)} MiB`);
  await servers.reset({ keepTokens: true });

  const authFetch = withClientCredentials(options)(next);
  let before = await servers.counts();

  // 1. Cold: one discovery, one token, one 401 for all of them.
  let run = await stampede(authFetch, N);
  let after = await servers.counts();
  let d = delta(after, before);
  info(`cold: ${Math.round(run.ms)} ms; ${countsLine(d)}`);
  check(`cold: ${N} concurrent requests all answer 200 with their own body`, run.ok === N, describe(run));
  check("cold: exactly 1 token request", d.token === 1, `${d.token}`);
  check("cold: protected resource metadata fetched once", d.prm === 1, `${d.prm}`);
  check("cold: authorization server metadata fetched once", d.asMetadata === 1, `${d.asMetadata}`);
  check("cold: 1 request answered 401 (the others waited at the cold gate)", d.unauthorized === 1, `${d.unauthorized}`);
  await sleep(0);
  check("cold: no unhandled rejection", unhandled === 0, `${unhandled}: ${firstUnhandled}`);

  // 2. Warm: the cached token, nothing else.
  before = after;
  run = await stampede(authFetch, N);
  after = await servers.counts();
  d = delta(after, before);
  info(`warm: ${Math.round(run.ms)} ms; ${countsLine(d)}`);
  check(`warm: ${N} concurrent requests all answer 200 with their own body`, run.ok === N, describe(run));
  check("warm: no token request, no 401", d.token === 0 && d.unauthorized === 0, countsLine(d));
  check("warm: no unhandled rejection", unhandled === 0, `${unhandled}: ${firstUnhandled}`);

  // 3. Rotation: every request carries a token the server now refuses; the 401 path is single-flight.
  await servers.reset(); // the server forgets every token it issued: each is refused from now on
  before = await servers.counts();
  run = await stampede(authFetch, N);
  after = await servers.counts();
  d = delta(after, before);
  info(`rotation: ${Math.round(run.ms)} ms; ${countsLine(d)}`);
  check(`rotation: ${N} concurrent requests with a revoked token all answer 200 with their own body`, run.ok === N, describe(run));
  check("rotation: exactly 1 more token request", d.token === 1, `${d.token}`);
  check("rotation: discovery documents fetched at most once more", d.prm <= 1 && d.asMetadata <= 1, countsLine(d));
  check("rotation: no unhandled rejection", unhandled === 0, `${unhandled}: ${firstUnhandled}`);

  // Soak: rounds of warm traffic; after the first round's sockets are pooled, the heap stays flat.
  await dropSockets();
  before = await servers.counts();
  const heaps = [];
  let soakOk = 0;
  let soakFailure;
  const soakStarted = performance.now();
  for (let round = 0; round < SOAK_ROUNDS; round++) {
    run = await stampede(authFetch, SOAK_CONCURRENCY);
    soakOk += run.ok;
    if (run.ok !== SOAK_CONCURRENCY) soakFailure ??= `round ${round + 1}: ${describe(run)}`;
    run = undefined;
    heaps.push(await settledHeap());
  }
  after = await servers.counts();
  d = delta(after, before);
  info(`soak: ${SOAK_ROUNDS} × ${SOAK_CONCURRENCY} in ${Math.round(performance.now() - soakStarted)} ms; ${countsLine(d)}`);
  info(`soak heap after each round (MiB): ${heaps.map(mib).join(" ")}`);
  check(`soak: ${SOAK_ROUNDS * SOAK_CONCURRENCY} requests all answer 200 with their own body`, soakOk === SOAK_ROUNDS * SOAK_CONCURRENCY, soakFailure);
  check("soak: no token request, no 401", d.token === 0 && d.unauthorized === 0, countsLine(d));
  const growth = heaps.at(-1) - heaps[0];
  check(
    `soak: heap after the last round within ${mib(SOAK_SLACK)} MiB of the first (grew ${mib(growth)} MiB)`,
    growth <= SOAK_SLACK,
    `${mib(heaps[0])} → ${mib(heaps.at(-1))} MiB`,
  );

  // 4. Rate-limited authorization server: one token request, every caller told to come back later, at once.
  await authFetch.clearTokens();
  await servers.configure({ retryAfter: 86_400 });
  before = await servers.counts();
  run = await stampede(authFetch, N, HANG_MS);
  await servers.configure({ retryAfter: 0 });
  after = await servers.counts();
  d = delta(after, before);
  info(`rate-limited: ${Math.round(run.ms)} ms; ${countsLine(d)}`);
  check(`rate-limited: ${N} concurrent requests all settle within ${HANG_MS / 1000} s`, !run.hung, describe(run));
  const wanted = (error) =>
    error instanceof ClientCredentialsError && error.code === "retry_later" && typeof error.retryAfter === "number" && Math.abs(error.retryAfter - 86_400) <= 5;
  const unwanted = run.rejections.filter((error) => !wanted(error));
  const firstUnwanted = unwanted[0];
  check(
    `rate-limited: all ${N} reject with ClientCredentialsError retry_later, retryAfter ≈ 86400`,
    run.rejections.length === N && unwanted.length === 0,
    `${run.rejections.length} rejected, ${unwanted.length} otherwise; first: ${firstUnwanted?.name}: code ${firstUnwanted?.code}, retryAfter ${firstUnwanted?.retryAfter}, ${firstUnwanted?.message}; fulfilled: ${describe({ ...run, rejections: [] })}`,
  );
  check("rate-limited: the token endpoint saw exactly 1 request", d.tokenRateLimited + d.token === 1, `${d.tokenRateLimited + d.token}`);
  check(
    "rate-limited: rediscovery after clearTokens() ran once (1 401, PRM and AS metadata at most once)",
    d.unauthorized === 1 && d.prm <= 1 && d.asMetadata <= 1,
    countsLine(d),
  );
  run = undefined;
  await sleep(0);
  check("rate-limited: no unhandled rejection", unhandled === 0, `${unhandled}: ${firstUnhandled}`);

  // 5. Heap: everything dropped, pooled sockets closed: back near the baseline.
  await dropSockets();
  const end = await settledHeap();
  info(`heap: baseline ${mib(baseline)} MiB, after all phases ${mib(end)} MiB (${end >= baseline ? "+" : ""}${mib(end - baseline)} MiB)`);
  check(`heap: after all phases within ${mib(HEAP_SLACK)} MiB of the baseline`, end - baseline <= HEAP_SLACK, `${mib(baseline)} → ${mib(end)} MiB`);
  check("no unhandled rejection in the whole run", unhandled === 0, `${unhandled}: ${firstUnhandled}`);
}

try {
  await waitForDist(["index.js"]);
  ({ withClientCredentials, ClientCredentialsError } = await import("../../dist/index.js"));
  servers = await spawnServers();
  info(`resource ${servers.resourceUrl}, issuer ${servers.issuer}`);
  await main();
} catch (error) {
  check("the soak ran to the end", false, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
} finally {
  if (servers) {
    await Promise.race([servers.close(), sleep(5_000)]);
    servers.kill();
  }
}
finish();

function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

function safeRead(file) {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
