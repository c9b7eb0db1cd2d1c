// CPU per call once a token is cached, over a stub fetch (no network): ours side by side with the
// MCP SDK 1.x and v2 `withOAuth` middlewares and oauth4webapi's protectedResourceRequest.
// Run: npm run build && node bench/hot-path.mjs   (re-runs itself with --expose-gc; mitata)
import { ClientCredentialsProvider as ClientCredentialsProviderV2, withOAuth as withOAuthV2 } from "@modelcontextprotocol/client";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { withOAuth } from "@modelcontextprotocol/sdk/client/middleware.js";
import { measure } from "mitata";
import { customFetch, protectedResourceRequest } from "oauth4webapi";
import { ensureGc, fmt, importOurs, machine, median, table } from "./lib/common.mjs";

if (ensureGc(import.meta.url)) await main();

async function main() {
  const { withClientCredentials } = await importOurs();
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
  const MIN_CPU_NS = Number(process.env.BENCH_MIN_CPU_MS ?? 300) * 1e6;

  const ISSUER = "https://auth.example.com";
  const TOKEN_URL = `${ISSUER}/token`;
  const URL_ = "https://mcp.example.com/mcp";
  const TOKEN = "bench-token";
  const payload = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
  const bytes = new TextEncoder().encode(payload);

  // One stub for every row. The resource answer is built once and reused (a null body is never
  // consumed). A stream body is drained, as a real fetch would have to; the token endpoint answers
  // JSON and is counted, so measurement can prove no token request happened.
  const ok = new Response(null, { status: 200 });
  let tokenRequests = 0;
  let probe; // set to an array to record the authorization header each row sends
  const stub = async (input, init) => {
    const href = typeof input === "string" ? input : input instanceof Request ? input.url : input.href;
    if (href === TOKEN_URL) {
      tokenRequests++;
      return Response.json({ access_token: TOKEN, token_type: "Bearer", expires_in: 3600 });
    }
    if (init?.body instanceof ReadableStream) {
      // Drained with a reader loop, as a fetch implementation reads a request stream.
      const reader = init.body.getReader();
      while (!(await reader.read()).done);
    }
    if (probe) probe.push(new Headers(init?.headers).get("authorization"));
    return ok;
  };

  const headers = () => ({ "content-type": "application/json", accept: "application/json, text/event-stream" });
  const cases = [
    { name: "string body, object headers", init: () => ({ method: "POST", headers: headers(), body: payload }) },
    // What the SDK's StreamableHTTPClientTransport passes: a Headers instance.
    { name: "string body, Headers", init: () => ({ method: "POST", headers: new Headers(headers()), body: payload }) },
    // What the AI SDK's MCP transport passes: a Headers instance and redirect: "error".
    { name: 'Headers, redirect: "error"', init: () => ({ method: "POST", headers: new Headers(headers()), body: payload, redirect: "error" }) },
    {
      name: "stream body",
      init: () => ({
        method: "POST",
        headers: headers(),
        duplex: "half",
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(bytes);
            controller.close();
          },
        }),
      }),
    },
  ];

  // Spreading a Headers instance copies nothing, so the floor copies one into a new Headers instead.
  const floor = (next) => (input, init) =>
    init?.headers instanceof Headers
      ? next(input, { ...init, headers: withAuth(new Headers(init.headers)) })
      : next(input, { ...init, headers: { ...init?.headers, authorization: "Bearer x" } });
  const withAuth = (h) => {
    h.set("authorization", "Bearer x");
    return h;
  };

  const ours = withClientCredentials({ clientId: "bench", clientSecret: "secret", issuer: ISSUER, tokenEndpoint: TOKEN_URL, resource: URL_ })(stub);
  await ours(URL_, cases[0].init());
  if (tokenRequests !== 1) throw new Error(`ours: expected one token request while warming up, saw ${tokenRequests}`);

  const tokens = { access_token: TOKEN, token_type: "Bearer", expires_in: 3600 };
  const v1 = new ClientCredentialsProvider({ clientId: "bench", clientSecret: "secret", expectedIssuer: ISSUER });
  v1.saveTokens(tokens);
  const v2 = new ClientCredentialsProviderV2({ clientId: "bench", clientSecret: "secret", expectedIssuer: ISSUER });
  v2.saveTokens(tokens);

  const o4w = (next) => (input, init) =>
    protectedResourceRequest(TOKEN, init?.method ?? "GET", new URL(input), new Headers(init?.headers), init?.body, { [customFetch]: next });

  const rows = [
    ["bare fetch (stub)", stub],
    ["floor (spread one header)", floor(stub)],
    ["mcp-client-credentials", ours],
    ["SDK 1.x withOAuth + ClientCredentialsProvider", withOAuth(v1, URL_)(stub)],
    ["SDK v2 withOAuth + ClientCredentialsProvider", withOAuthV2(v2, URL_)(stub)],
    ["oauth4webapi protectedResourceRequest", o4w(stub)],
  ];

  // Every wrapper must send the token (the bare stub and the floor send their own).
  for (const [name, fetchFn] of rows.slice(2)) {
    for (const c of cases) {
      probe = [];
      await fetchFn(URL_, c.init());
      if (probe.length !== 1 || probe[0] !== `Bearer ${TOKEN}`) throw new Error(`${name}, ${c.name}: sent ${JSON.stringify(probe)}`);
    }
  }
  probe = undefined;

  // Rounds interleave the rows (rotating the order), each measured by mitata; the figure is the
  // median over rounds of each measurement's median (ns per call).
  const results = new Map();
  const before = tokenRequests;
  for (const c of cases) {
    const per = rows.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < rows.length; k++) {
        const index = (k + round) % rows.length;
        const fetchFn = rows[index][1];
        const init = c.init;
        const stats = await measure(() => fetchFn(URL_, init()), { min_cpu_time: MIN_CPU_NS });
        per[index].push(stats.p50);
      }
    }
    results.set(
      c.name,
      per.map((samples) => median(samples) / 1000),
    );
  }
  if (tokenRequests !== before) throw new Error(`ours made ${tokenRequests - before} token requests during measurement`);

  const out = [`### Hot path: CPU per call with a cached token (stub fetch)`, "", machine(), ""];
  out.push(`mitata, ${ROUNDS} interleaved rounds of ≥${MIN_CPU_NS / 1e6} ms per row; median of per-round medians. 0 token requests during measurement.`, "");
  for (const c of cases) {
    const micros = results.get(c.name);
    const bare = micros[0];
    const added = micros.map((m) => m - bare);
    const oursAdded = added[2];
    const sdkAdded = added[3];
    const body = rows.map(([name], i) => [
      name,
      fmt(micros[i]),
      i === 0 ? "—" : fmt(added[i]),
      i === 0 ? "—" : `${fmt(added[i] / oursAdded)}×`,
      i === 0 ? "—" : `${fmt(added[i] / sdkAdded)}×`,
    ]);
    out.push(`**${c.name}**`, "", table(["row", "µs/call", "added µs", "added × ours", "added × SDK 1.x"], body), "");
  }
  out.push(
    "Added = row − bare fetch. The floor spreads one header into a plain object (for a `Headers` instance, which spreading empties, it copies the instance and sets the header).",
    "The stream case's stub drains the stream, as any real fetch must; ours buffers it before sending (to replay it after a 401), the SDKs pass it through.",
    "",
  );
  console.log(out.join("\n"));
}
