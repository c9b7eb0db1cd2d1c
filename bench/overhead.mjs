// What the middleware costs per request once it has a token, and what a cold start costs.
// Run: npm run build && node bench/overhead.mjs   (loopback only; figures in bench/README.md)
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import { memoryStore, withClientCredentials } from "../dist/index.js";

const TOKEN = "bench-token";
const server = createServer((req, res) => {
  const base = `http://127.0.0.1:${server.address().port}`;
  const json = (status, body, headers = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
  req.resume();
  req.on("end", () => {
    if (req.url === "/.well-known/oauth-protected-resource/mcp") return json(200, { resource: `${base}/mcp`, authorization_servers: [base] });
    if (req.url === "/.well-known/oauth-authorization-server") return json(200, { issuer: base, token_endpoint: `${base}/token` });
    if (req.url === "/token") return json(200, { access_token: TOKEN, token_type: "Bearer", expires_in: 3600 });
    if (req.headers.authorization === `Bearer ${TOKEN}`) return json(200, { ok: true });
    json(401, {}, { "www-authenticate": `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"` });
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${server.address().port}/mcp`;
const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
const init = () => ({ method: "POST", body, headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` } });

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timePerCall(call, n, concurrency) {
  for (let i = 0; i < 200; i++) await (await call()).arrayBuffer(); // warm up
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) await (await call()).arrayBuffer();
    }),
  );
  return ((performance.now() - started) * 1000) / n; // µs per call
}

const results = [];
const authFetch = withClientCredentials({ clientId: "bench", clientSecret: "secret" })(fetch);
await authFetch(url, { method: "POST", body });
for (const concurrency of [1, 16]) {
  // Alternate rounds so JIT warm-up and machine noise hit both sides alike; report medians.
  const raw = [];
  const wrapped = [];
  for (let round = 0; round < 7; round++) {
    raw.push(await timePerCall(() => fetch(url, init()), 2000, concurrency));
    wrapped.push(await timePerCall(() => authFetch(url, { method: "POST", body, headers: { "content-type": "application/json" } }), 2000, concurrency));
  }
  results.push([`cached token, concurrency ${concurrency}`, median(raw), median(wrapped)]);
}

/** A new instance's first call, median of 50; `store()` gives each instance its store (or none). */
async function firstCall(store) {
  const times = [];
  for (let i = 0; i < 50; i++) {
    const options = { clientId: "bench", clientSecret: "secret", ...(store ? { store: store() } : {}) };
    const started = performance.now();
    const fresh = withClientCredentials(options)(fetch);
    await (await fresh(url, { method: "POST", body })).arrayBuffer();
    times.push(performance.now() - started);
  }
  return median(times);
}
const cold = await firstCall();
// A fleet's new instance: the shared store (here memoryStore, i.e. no network) already holds the
// bindings, both metadata documents and the token, so the first call goes out authorized.
const shared = memoryStore();
await withClientCredentials({ clientId: "bench", clientSecret: "secret", store: shared })(fetch)(url, { method: "POST", body });
const warm = await firstCall(() => shared);
server.close();

console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
console.log("| case | raw fetch (µs/call) | withClientCredentials (µs/call) | overhead |");
console.log("| --- | ---: | ---: | ---: |");
for (const [name, raw, wrapped] of results) console.log(`| ${name} | ${raw.toFixed(0)} | ${wrapped.toFixed(0)} | ${(wrapped - raw).toFixed(0)} µs |`);
console.log(`\nfirst call of a new instance, median of 50:`);
console.log(`  cold (401 → PRM → AS metadata → token → retry): ${cold.toFixed(2)} ms`);
console.log(`  on a warm shared store (one authorized request):  ${warm.toFixed(2)} ms`);
