// Steady traffic over several token lifetimes, time compressed 10×: 6 s tokens (60 s scaled
// down), a token endpoint that takes 150 ms, one request every 20 ms (open loop: each starts on
// schedule whether or not earlier ones have finished) for 30 s per contender. How many user
// requests waited on a token request after the first token, and the latency tail.
// Run: node bench/latency-tail.mjs [seconds per contender]   (loopback; figures in bench/README.md)
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { contenders, OAUTH4WEBAPI_FOOTNOTE, oursBuild, rpcInit } from "./lib/clients.mjs";
import { environment, format, percentile, table, withRatio } from "./lib/report.mjs";
import { spawnServers } from "./lib/servers.mjs";

const EXPIRES_IN = 6; // seconds: a 60 s token scaled down 10×
const REFRESH_SKEW = 6; // seconds: the 60 s default scaled down 10× (capped at half the lifetime: 3 s)
const TOKEN_DELAY_MS = 150;
const INTERVAL_MS = 20;
const DURATION_MS = Number(process.argv[2] ?? 30) * 1000;
const WARM_UP_MS = 1000;
// Loopback requests take 1–3 ms here; one slower than this joined a token request already in
// flight (or a 401 and rediscovery), even if it did not wait for all of it.
const SLOWED_MS = 50;

console.log(`${environment()}; ${oursBuild}`);
const servers = await spawnServers({ expiresIn: EXPIRES_IN, tokenDelayMs: TOKEN_DELAY_MS });

/** Open-loop traffic through one fresh instance; every request's start time, latency and outcome. */
async function traffic(contender, durationMs) {
  await servers.reset();
  await servers.closeIdle();
  await sleep(250);
  const authFetch = contender.make({ ...servers, refreshSkewSeconds: REFRESH_SKEW });
  const requests = [];
  const inflight = [];
  const t0 = performance.now();
  const t0Epoch = Date.now(); // the servers report token times in epoch milliseconds
  for (let i = 0; i * INTERVAL_MS < durationMs; i++) {
    const wait = t0 + i * INTERVAL_MS - performance.now();
    if (wait > 0) await sleep(wait);
    const record = { start: performance.now() - t0, latency: Number.NaN, status: 0, error: undefined };
    requests.push(record);
    inflight.push(
      authFetch(servers.resourceUrl, rpcInit(i))
        .then(async (response) => {
          await response.arrayBuffer();
          record.status = response.status;
        })
        .catch((error) => {
          record.error = error;
        })
        .finally(() => {
          record.latency = performance.now() - t0 - record.start;
        }),
    );
  }
  await Promise.all(inflight);
  return { requests, counts: await servers.counts(), t0Epoch };
}

// Same warm-up for everyone: one second of traffic on a separate instance, not recorded.
for (const contender of contenders) await traffic(contender, WARM_UP_MS);

const rows = [];
const details = [];
let ours;
for (const contender of contenders) {
  const { requests, counts, t0Epoch } = await traffic(contender, DURATION_MS);
  // The cold start is not what this measures: leave out every request that started before the
  // first successful response arrived.
  const firstDone = Math.min(...requests.filter((r) => r.status === 200).map((r) => r.start + r.latency));
  const steady = requests.filter((r) => r.start >= firstDone);
  const coldEnd = Math.max(...requests.filter((r) => r.start < firstDone).map((r) => r.start + r.latency));
  const latencies = steady.map((r) => r.latency);
  const result = {
    requests: steady.length,
    waited: steady.filter((r) => r.latency > TOKEN_DELAY_MS).length,
    slowed: steady.filter((r) => r.latency > SLOWED_MS).length,
    // Tokens issued after the last cold request (started before firstDone) had its answer: the
    // cold start's own token requests, one or many, are not counted.
    tokensAfterFirst: counts.tokenTimes.filter((at) => at - t0Epoch > coldEnd).length,
    expired401: counts.unauthorizedExpired,
    all401: counts.unauthorized,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: Math.max(...latencies),
    errors: requests.filter((r) => r.error || r.status !== 200).length,
    firstError: requests.find((r) => r.error)?.error,
  };
  ours ??= result;
  console.error(`  ${contender.name}: ${JSON.stringify({ ...result, firstError: result.firstError?.message })}`);
  rows.push([
    contender.name,
    format(result.requests),
    withRatio(result.waited, ours.waited),
    withRatio(result.slowed, ours.slowed),
    withRatio(result.tokensAfterFirst, ours.tokensAfterFirst),
    withRatio(result.expired401, ours.expired401),
    withRatio(result.p50, ours.p50, 2),
    withRatio(result.p99, ours.p99, 1),
    withRatio(result.max, ours.max, 1),
    format(result.errors),
  ]);
  if (result.firstError) details.push(`${contender.name}: first error: ${result.firstError.name}: ${result.firstError.message}`);
}
await servers.close();

console.log(
  `\n### Steady traffic over token expiries: ${EXPIRES_IN} s tokens, token endpoint +${TOKEN_DELAY_MS} ms, a request every ${INTERVAL_MS} ms for ${DURATION_MS / 1000} s (ratios to "ours, discovery")\n`,
);
console.log(
  table(
    [
      "contender",
      "requests after the first token",
      `waited a whole token request (> ${TOKEN_DELAY_MS} ms)`,
      `slowed by one (> ${SLOWED_MS} ms)`,
      "token requests after it",
      "401s with an expired token",
      "p50 (ms)",
      "p99 (ms)",
      "max (ms)",
      "errors",
    ],
    rows,
  ),
);
console.log(
  `\nTime compressed 10×: 60 s tokens and the 60 s refreshSkewSeconds default scaled to ${EXPIRES_IN} s and ${REFRESH_SKEW} s (ours and the oauth4webapi client get refreshSkewSeconds: ${REFRESH_SKEW}; the cap at half the lifetime makes it ${EXPIRES_IN / 2} s either way). ` +
    `The MCP SDKs have no such setting. "Waited" is measured from the outside: a request slower than the token endpoint's delay waited a whole token request (or a 401 and rediscovery); one slower than ${SLOWED_MS} ms (loopback requests otherwise take 1–3 ms) joined one already in flight. Errors count rejections and non-200 responses over the whole run.\n\n${OAUTH4WEBAPI_FOOTNOTE}`,
);
for (const line of details) console.log(`\n${line}`);
