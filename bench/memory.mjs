// Heap per cached token, and no growth under load: ours side by side with the MCP SDK 1.x.
// Every measurement runs in its own child process under --expose-gc, over a stub fetch that
// implements discovery (401 → protected resource metadata → AS metadata → token; no network).
// Run: npm run build && node bench/memory.mjs
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { withOAuth } from "@modelcontextprotocol/sdk/client/middleware.js";
import { fmt, importOurs, machine, table } from "./lib/common.mjs";

const RESOURCES = Number(process.env.BENCH_RESOURCES ?? 10_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100_000);
const ISSUER = "https://auth.example.com";
const MCP = "https://mcp.example.com";
const resourceUrl = (i) => `${MCP}/r/${i}`;

const child = process.argv[2];
if (child) {
  if (typeof globalThis.gc !== "function") throw new Error("run the child with --expose-gc");
  process.stdout.write(JSON.stringify(await measureIn(child)));
} else {
  await parent();
}

async function parent() {
  const run = (mode) => {
    const result = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), mode], { encoding: "utf8", maxBuffer: 1 << 20 });
    if (result.status !== 0) throw new Error(`${mode} failed:\n${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  const many = { ours: run("ours-many"), sdk: run("sdk-many") };
  const one = { ours: run("ours-one"), sdk: run("sdk-one") };
  const kb = (bytes) => (bytes / 1024).toFixed(1);
  const perToken = (r) => r.heapDelta / RESOURCES;
  const out = ["### Memory: heap per cached token, and growth under load", "", machine(), ""];
  out.push(
    table(
      [
        `${RESOURCES.toLocaleString("en-US")} distinct resources`,
        "heap held (KiB)",
        "per resource (B)",
        "× ours",
        "per token held (B)",
        "token requests, pass 1",
        "tokens still held (pass 2)",
        "401s in pass 2",
      ],
      [
        [
          "ours: one instance",
          kb(many.ours.heapDelta),
          fmt(perToken(many.ours), 0),
          "1.00×",
          fmt(many.ours.heapDelta / (RESOURCES - many.ours.secondPassTokens), 0),
          many.ours.firstPassTokens,
          RESOURCES - many.ours.secondPassTokens,
          many.ours.secondPass401,
        ],
        [
          "SDK 1.x: one ClientCredentialsProvider + withOAuth per resource",
          kb(many.sdk.heapDelta),
          fmt(perToken(many.sdk), 0),
          `${fmt(perToken(many.sdk) / perToken(many.ours))}×`,
          fmt(many.sdk.heapDelta / (RESOURCES - many.sdk.secondPassTokens), 0),
          many.sdk.firstPassTokens,
          RESOURCES - many.sdk.secondPassTokens,
          many.sdk.secondPass401,
        ],
      ],
    ),
    "",
  );
  out.push(
    table(
      [
        `one resource, ${REQUESTS.toLocaleString("en-US")} requests`,
        "heap after 10,000 (KiB)",
        `heap after ${REQUESTS.toLocaleString("en-US")} (KiB)`,
        "growth (KiB)",
        "token requests",
      ],
      [
        ["ours", kb(one.ours.heapAt10k), kb(one.ours.heapAtEnd), kb(one.ours.heapAtEnd - one.ours.heapAt10k), one.ours.tokenRequests],
        [
          "SDK 1.x withOAuth + ClientCredentialsProvider",
          kb(one.sdk.heapAt10k),
          kb(one.sdk.heapAtEnd),
          kb(one.sdk.heapAtEnd - one.sdk.heapAt10k),
          one.sdk.tokenRequests,
        ],
      ],
    ),
    "",
  );
  out.push(
    "Heap = `process.memoryUsage().heapUsed` after `gc()`, each row in a fresh `node --expose-gc` child, the library warmed up on other resources before the baseline. " +
      "Heap held = after pass 1 (every resource requested once, the whole discovery flow each) − before, with the instances still referenced. " +
      'Pass 2 requests the resources again in reverse order: "tokens still held" = resources served without a token request (for an LRU cache, exactly the number it keeps); ' +
      "a 401 in pass 2 means the resource → authorization server binding was forgotten and discovery ran again. " +
      '"Per resource" divides the heap held by the resources requested, "per token held" by the tokens still held at the end of pass 1.',
    "",
  );
  console.log(out.join("\n"));
}

function heap() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

/** The whole discovery surface for `/r/<i>` resources, answered in process; counts what it serves. */
function discoveryStub() {
  const counts = { token: 0, unauthorized: 0 };
  const asMetadata = JSON.stringify({
    issuer: ISSUER,
    token_endpoint: `${ISSUER}/token`,
    // The SDK's metadata schema requires it even for client_credentials.
    authorization_endpoint: `${ISSUER}/authorize`,
    grant_types_supported: ["client_credentials"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    response_types_supported: ["token"],
  });
  const json = (body, status = 200) => new Response(body, { status, headers: { "content-type": "application/json" } });
  const fetchFn = async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const url = new URL(request ? request.url : String(input));
    if (url.origin === ISSUER) {
      if (url.pathname === "/.well-known/oauth-authorization-server") return json(asMetadata);
      if (url.pathname === "/token") {
        counts.token++;
        const body = new URLSearchParams(request ? await request.text() : String(init?.body ?? ""));
        const resource = body.get("resource") ?? "none";
        return json(JSON.stringify({ access_token: `tok:${resource}`, token_type: "Bearer", expires_in: 3600 }));
      }
      return json("{}", 404);
    }
    const prm = url.pathname.match(/^\/\.well-known\/oauth-protected-resource(\/r\/\d+)$/);
    if (prm) return json(JSON.stringify({ resource: `${MCP}${prm[1]}`, authorization_servers: [ISSUER] }));
    if (/^\/r\/\d+$/.test(url.pathname)) {
      const auth = new Headers(request ? request.headers : init?.headers).get("authorization");
      if (auth === `Bearer tok:${MCP}${url.pathname}`) return new Response(null, { status: 200 });
      counts.unauthorized++;
      return new Response(null, {
        status: 401,
        headers: { "www-authenticate": `Bearer resource_metadata="${MCP}/.well-known/oauth-protected-resource${url.pathname}"` },
      });
    }
    return json("{}", 404);
  };
  return { fetchFn, counts };
}

function rpc() {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) };
}

async function expectOk(response, what) {
  if (response.status !== 200) throw new Error(`${what}: status ${response.status}`);
}

async function measureIn(mode) {
  const { withClientCredentials } = await importOurs();
  const [lib, shape] = mode.split("-");
  // One authenticated fetch per resource for the SDK (a provider holds one token), one for all for ours.
  const factory = (fetchFn) => {
    if (lib === "ours") {
      const authFetch = withClientCredentials({ clientId: "bench", clientSecret: "secret" })(fetchFn);
      return () => authFetch;
    }
    const wrappers = new Map();
    return (url) => {
      let wrapped = wrappers.get(url);
      if (!wrapped) {
        const provider = new ClientCredentialsProvider({ clientId: "bench", clientSecret: "secret", expectedIssuer: ISSUER });
        wrapped = withOAuth(provider, url)(fetchFn);
        wrappers.set(url, wrapped);
      }
      return wrapped;
    };
  };

  // Warm up the code paths on other resources with a throw-away instance.
  {
    const stub = discoveryStub();
    const get = factory(stub.fetchFn);
    for (let i = 0; i < 300; i++) await expectOk(await get(resourceUrl(1e6 + i))(resourceUrl(1e6 + i), rpc()), "warm-up");
  }

  const stub = discoveryStub();
  if (shape === "many") {
    const before = heap();
    const get = factory(stub.fetchFn);
    for (let i = 0; i < RESOURCES; i++) await expectOk(await get(resourceUrl(i))(resourceUrl(i), rpc()), `pass 1, resource ${i}`);
    const after = heap();
    const firstPassTokens = stub.counts.token;
    stub.counts.token = 0;
    stub.counts.unauthorized = 0;
    for (let i = RESOURCES - 1; i >= 0; i--) await expectOk(await get(resourceUrl(i))(resourceUrl(i), rpc()), `pass 2, resource ${i}`);
    return { heapDelta: after - before, firstPassTokens, secondPassTokens: stub.counts.token, secondPass401: stub.counts.unauthorized };
  }
  const url = resourceUrl(0);
  const authFetch = factory(stub.fetchFn)(url);
  for (let i = 0; i < 10_000; i++) await expectOk(await authFetch(url, rpc()), "one resource");
  const heapAt10k = heap();
  for (let i = 10_000; i < REQUESTS; i++) await expectOk(await authFetch(url, rpc()), "one resource");
  const heapAtEnd = heap();
  return { heapAt10k, heapAtEnd, tokenRequests: stub.counts.token };
}
