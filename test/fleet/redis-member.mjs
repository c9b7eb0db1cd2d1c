// One member of a fleet: a separate OS process that imports the built package as a user would,
// shares a Redis-backed store with the other members and calls the protected resource.
//
//   node test/fleet/redis-member.mjs '<json config>'
//
// config: {
//   client: "ioredis" | "redis" | "redis5" | "redis4" | "upstash",
//   redisUrl?: string, upstash?: { url, token }, prefix?: string,
//   clientId, clientSecret, resource,            // the tenant's MCP resource URL
//   requests?: number (default 3),               // how many POSTs once started …
//   untilStop?: boolean, intervalMs?: number,    // … or keep calling until "stop" on stdin
//   options?: object,                            // extra withClientCredentials options
//   defaults?: boolean,                          // the library's default connection settings
//   sealingKey?: string,                         // wrap the store: sealedStore(redisStore(…), key)
//   bearerDigest?: boolean                       // report SHA-256 digests of the bearer tokens sent
// }
//
// Protocol on stdio, one JSON object per line on stdout:
//   → {"ready":true,"kind":…}   once the client is connected (all members start on a cold cache)
//   ← "go"                      start calling
//   ← "stop"                    (untilStop) finish the current call and report
//   → {"result":{…}}            what happened: statuses, failures, event counts (and, with
//                               bearerDigest, the SHA-256 hex digest and length of each distinct
//                               bearer token sent: enough to compare tokens and to look for one
//                               inside raw store values without the token itself leaving here)
// Nothing printed carries a secret or a token.

import { createInterface } from "node:readline";
import { sealedStore, withClientCredentials } from "../../dist/index.js";
import { redisStore } from "../../dist/stores/redis.js";

const config = JSON.parse(process.argv[2] ?? "{}");
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const clientErrors = { count: 0, first: undefined };
function onClientError(error) {
  clientErrors.count++;
  clientErrors.first ??= String(error?.code ?? error?.name ?? "error");
}

// Fail fast while Redis is down, where the library allows it: the middleware would otherwise
// wait storeTimeoutMs for each call the client keeps queued. `defaults` keeps the library's own
// settings (offline queue, retries), which the middleware must survive too.
async function connect() {
  switch (config.client) {
    case "ioredis": {
      const { default: Redis } = await import("ioredis");
      const failFast = { maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1_000 };
      const client = new Redis(config.redisUrl, { lazyConnect: true, ...(config.defaults ? {} : failFast) });
      client.on("error", onClientError);
      await client.connect();
      return { client, close: () => client.disconnect() };
    }
    case "redis":
    case "redis5":
    case "redis4": {
      const { createClient } = await import(config.client);
      const failFast = {
        disableOfflineQueue: true,
        socket: { connectTimeout: 1_000, reconnectStrategy: (retries) => Math.min(50 * (retries + 1), 500) },
      };
      const client = createClient({ url: config.redisUrl, ...(config.defaults ? {} : failFast) });
      client.on("error", onClientError);
      await client.connect();
      // v5+ name it destroy(); v4 only has disconnect().
      return { client, close: () => Promise.resolve(typeof client.destroy === "function" ? client.destroy() : client.disconnect()).catch(() => {}) };
    }
    case "upstash": {
      const { Redis } = await import("@upstash/redis");
      const failFast = config.defaults ? {} : { retry: false };
      const client = new Redis({ url: config.upstash.url, token: config.upstash.token, enableTelemetry: false, ...failFast });
      return { client, close: () => {} };
    }
    default:
      throw new Error(`unknown client ${config.client}`);
  }
}

const { client, close } = await connect();
const redis = redisStore({ client, ...(config.prefix === undefined ? {} : { prefix: config.prefix }) });
const store = config.sealingKey === undefined ? redis : sealedStore(redis, config.sealingKey);

/** digest → length of every distinct bearer token this process sent. */
const bearers = new Map();
async function sha256Hex(text) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
// Reads the headers only (never `new Request(input, init)`: that would take over the body).
async function watchBearer(input, init) {
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  const authorization = headers.get("authorization") ?? "";
  if (/^bearer /i.test(authorization)) {
    const token = authorization.slice(7);
    bearers.set(await sha256Hex(token), token.length);
  }
  return fetch(input, init);
}

const events = {};
const errorEvents = [];
const authFetch = withClientCredentials({
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  store,
  ...config.options,
  onEvent(event) {
    events[event.type] = (events[event.type] ?? 0) + 1;
    if (event.type === "error" && errorEvents.length < 5) errorEvents.push(`${event.phase}: ${event.message}`);
  },
})(config.bearerDigest ? watchBearer : fetch);

let stopping = false;
let going = false;
const started = new Promise((resolve) => {
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (line.trim() === "go") {
      going = true;
      resolve();
    }
    if (line.trim() === "stop") stopping = true;
  });
  // The parent went away: never linger as an orphan.
  lines.on("close", () => {
    if (!going) process.exit(2);
    stopping = true;
  });
});
say({ ready: true, kind: redis.kind, pid: process.pid });
await started;

const statuses = {};
const failures = [];
const began = Date.now();
let firstMs;
let calls = 0;
const body = (id) => JSON.stringify({ jsonrpc: "2.0", id, method: "tools/list", params: {} });
const wanted = config.untilStop ? Number.POSITIVE_INFINITY : (config.requests ?? 3);
while (calls < wanted && !(config.untilStop && stopping)) {
  calls++;
  const t0 = Date.now();
  try {
    const response = await authFetch(config.resource, { method: "POST", headers: { "content-type": "application/json" }, body: body(calls) });
    await response.arrayBuffer();
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    if (response.status !== 200 && failures.length < 5) failures.push(`call ${calls}: HTTP ${response.status}`);
  } catch (error) {
    statuses.error = (statuses.error ?? 0) + 1;
    if (failures.length < 5) failures.push(`call ${calls}: ${error?.name}: ${error?.message}`);
  }
  firstMs ??= Date.now() - t0;
  if (config.untilStop && config.intervalMs) await new Promise((resolve) => setTimeout(resolve, config.intervalMs));
}

say({
  result: {
    ok: calls > 0 && statuses[200] === calls,
    kind: redis.kind,
    sealed: config.sealingKey !== undefined,
    calls,
    statuses,
    failures,
    events,
    errorEvents,
    clientErrors: clientErrors.count,
    firstMs,
    totalMs: Date.now() - began,
    ...(config.bearerDigest ? { bearers: [...bearers].map(([sha256, length]) => ({ sha256, length })) } : {}),
  },
});
await Promise.race([
  Promise.resolve()
    .then(close)
    .catch(() => {}),
  new Promise((resolve) => setTimeout(resolve, 500)),
]);
process.exit(0);
