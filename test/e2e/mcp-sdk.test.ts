// The MCP TypeScript SDK on both sides: its Streamable HTTP server behind its bearer-auth
// middleware (tokens from oidc-provider), and its Client + StreamableHTTPClientTransport
// using our fetch, alone and composed with the SDK's applyMiddlewares().
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { applyMiddlewares, createMiddleware, type RequestLogger, withLogging } from "@modelcontextprotocol/sdk/client/middleware.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ClientCredentialsEvent, type ClientCredentialsOptions, type TokenStore, withClientCredentials } from "../../src/index.js";
import { type Stack, start as startStack } from "./servers/stack.mjs";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(({ onTestFailed }) => {
  const mark = stack.as.events.length;
  onTestFailed(() => console.log("oidc-provider events during this test:", stack.as.events.slice(mark)));
});

function credentials(kind: "privateKeyJwt" | "clientSecret"): ClientCredentialsOptions {
  if (kind === "privateKeyJwt") {
    const { clientId, privateKey } = stack.credentials.privateKeyJwt;
    return { clientId, privateKey };
  }
  return { ...stack.credentials.clientSecret };
}

type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** initialize (+ initialized), tools/list, tools/call: a whole session through `fetch`. */
async function session(fetch: Fetch, url = stack.mcp.url) {
  const client = new Client({ name: "e2e-client", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch });
  await client.connect(transport);
  try {
    const tools = await client.listTools();
    const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
    const whoami = await client.callTool({ name: "whoami", arguments: {} });
    return { tools: tools.tools.map((tool) => tool.name), sum, whoami, server: client.getServerVersion(), sessionId: transport.sessionId };
  } finally {
    await client.close();
  }
}

describe("SDK Client + StreamableHTTPClientTransport({ fetch: withClientCredentials(…)(fetch) })", () => {
  it.each(["privateKeyJwt", "clientSecret"] as const)("initialize, tools/list, tools/call with %s", async (kind) => {
    const events: ClientCredentialsEvent[] = [];
    const options = credentials(kind);
    const mark = stack.mcp.requests.length;
    const authFetch = withClientCredentials({ ...options, onEvent: (event) => void events.push(event) })(fetch);

    const result = await session(authFetch);
    expect(result.server).toMatchObject({ name: "e2e-protected-mcp-server" });
    expect(typeof result.sessionId).toBe("string");
    expect(result.tools).toEqual(expect.arrayContaining(["echo", "add", "whoami"]));
    expect(result.sum).toMatchObject({ content: [{ type: "text", text: "5" }], structuredContent: { sum: 5 } });
    expect(result.whoami.structuredContent).toMatchObject({ clientId: options.clientId, scopes: ["mcp:tools"], resource: stack.mcp.resource });

    // The challenge carried the SDK's resource_metadata and scope; discovery ran from it.
    expect(events.find((e) => e.type === "challenge")).toMatchObject({ resourceMetadata: [stack.mcp.resourceMetadataUrl], scope: "mcp:tools" });
    expect(events.find((e) => e.type === "discovered")).toMatchObject({
      issuer: stack.as.issuer,
      authMethod: kind === "privateKeyJwt" ? "private_key_jwt" : "client_secret_basic",
    });
    expect(events.filter((e) => e.type === "token-request")).toHaveLength(1);

    // Server side: one unauthenticated initialize (the 401), metadata fetched without a token,
    // then everything authorized.
    const seen = stack.mcp.requests.slice(mark);
    expect(seen[0]).toMatchObject({ method: "POST", path: "/mcp", authorized: false, rpc: "initialize", status: 401 });
    expect(seen[1]).toMatchObject({ method: "GET", path: "/.well-known/oauth-protected-resource/mcp", authorized: false, status: 200 });
    const rpc = seen.slice(2).filter((r) => r.path === "/mcp" && r.method === "POST");
    expect(rpc.map((r) => r.rpc)).toEqual(["initialize", "notifications/initialized", "tools/list", "tools/call", "tools/call"]);
    expect(rpc.every((r) => r.authorized && (r.status === 200 || r.status === 202))).toBe(true);
  });

  it("composes with applyMiddlewares(): a logging middleware inside sees the whole OAuth flow", async () => {
    const logged: Array<{ method: string; url: string; status: number }> = [];
    const logger: RequestLogger = ({ method, url, status }) => void logged.push({ method, url: String(url), status });
    // applyMiddlewares(a, b)(fetch) is b(a(fetch)): logging wraps fetch, ours wraps logging.
    const composed = applyMiddlewares(withLogging({ logger }), withClientCredentials(credentials("privateKeyJwt")))(fetch);

    const result = await session(composed);
    expect(result.sum).toMatchObject({ structuredContent: { sum: 5 } });
    const summary = logged.map(({ method, url, status }) => `${method} ${url.replace(stack.mcp.origin, "MCP").replace(stack.as.origin, "AS")} ${status}`);
    expect(summary.slice(0, 7)).toEqual([
      "POST MCP/mcp 401",
      "GET MCP/.well-known/oauth-protected-resource/mcp 200",
      "GET AS/.well-known/oauth-authorization-server/oidc 404",
      "GET AS/.well-known/openid-configuration/oidc 404",
      "GET AS/oidc/.well-known/openid-configuration 200",
      "POST AS/oidc/token 200",
      "POST MCP/mcp 200",
    ]);
  });

  it("composes with applyMiddlewares(): a logging middleware outside sees only the MCP traffic, already authorized", async () => {
    const logged: Array<{ method: string; url: string; status: number }> = [];
    const logger: RequestLogger = ({ method, url, status }) => void logged.push({ method, url: String(url), status });
    const composed = applyMiddlewares(withClientCredentials(credentials("clientSecret")), withLogging({ logger }))(fetch);

    const result = await session(composed);
    expect(result.tools).toContain("add");
    expect(logged.length).toBeGreaterThanOrEqual(4);
    expect(logged.every((entry) => entry.url === stack.mcp.url && (entry.status === 200 || entry.status === 202))).toBe(true);
  });

  it("composes with a header-adding SDK middleware inside (next(input, { ...init, headers })): token requests keep their credentials", async () => {
    const inputs: string[] = [];
    // Written like the SDK's own createMiddleware example. It relies on the SDK's FetchLike
    // contract, (url: string | URL, init), so `next` must never be handed a Request.
    const addTraceHeader = createMiddleware(async (next, input, init) => {
      inputs.push(`${init?.method ?? "GET"} ${typeof input === "string" ? input : input.toString()}`);
      const headers = new Headers(init?.headers);
      headers.set("x-trace-id", "e2e");
      return next(input, { ...init, headers });
    });
    const composed = applyMiddlewares(addTraceHeader, withClientCredentials(credentials("clientSecret")))(fetch);
    const result = await session(composed);
    expect(result.whoami.structuredContent).toMatchObject({ clientId: stack.credentials.clientSecret.clientId });
    expect(inputs).toContain(`POST ${stack.as.tokenEndpoint}`);
    expect(inputs.some((entry) => entry.includes("[object"))).toBe(false);
  });

  it("one authenticated fetch serves several sessions with one token", async () => {
    const events: ClientCredentialsEvent[] = [];
    const authFetch = withClientCredentials({ ...credentials("privateKeyJwt"), onEvent: (event) => void events.push(event) })(fetch);
    const [a, b] = await Promise.all([session(authFetch), session(authFetch)]);
    expect(a.sessionId).not.toBe(b.sessionId);
    expect(events.filter((e) => e.type === "token-request")).toHaveLength(1);
  });
});

describe("token expiry inside an MCP session", () => {
  let short: Stack;
  beforeAll(async () => {
    short = await startStack({ accessTokenTTL: 3 });
  });
  afterAll(async () => {
    await short?.close();
  });

  it("a token the server rejects mid-session (expired there, still valid in the cache) → 401 → new token → the call is retried and the session goes on", {
    timeout: 20_000,
  }, async () => {
    const events: ClientCredentialsEvent[] = [];
    const { clientId, privateKey } = short.credentials.privateKeyJwt;
    // A store that believes every token lives an hour longer than it does: the server's clock wins.
    const entries = new Map<string, string>();
    const optimistic: TokenStore = {
      get: (key) => entries.get(key),
      set: (key, value) => {
        const entry = JSON.parse(value);
        if (entry.kind === "token") entry.data.expiresAt = entry.exp = entry.data.expiresAt + 3_600_000;
        entries.set(key, JSON.stringify(entry));
      },
      delete: (key) => void entries.delete(key),
    };
    const authFetch = withClientCredentials({ clientId, privateKey, store: optimistic, onEvent: (event) => void events.push(event) })(fetch);
    const client = new Client({ name: "e2e-client", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(short.mcp.url), { fetch: authFetch });
    await client.connect(transport);
    const sessionId = transport.sessionId;
    try {
      await new Promise((resolve) => setTimeout(resolve, 4_100)); // TTL 3 s, JWT exp has 1 s resolution
      const mark = short.mcp.requests.length;
      const echo = await client.callTool({ name: "echo", arguments: { text: "still here" } });
      expect(echo).toMatchObject({ content: [{ type: "text", text: "still here" }] });
      expect(transport.sessionId).toBe(sessionId);
      const after = short.mcp.requests.slice(mark).filter((r) => r.path === "/mcp");
      expect(after.map((r) => [r.rpc, r.authorized, r.status])).toEqual([
        ["tools/call", true, 401],
        ["tools/call", true, 200],
      ]);
    } finally {
      await client.close();
    }
    expect(events.filter((e) => e.type === "token-request")).toHaveLength(2);
    expect(events.filter((e) => e.type === "retry").map((e) => e.type === "retry" && e.reason)).toEqual(["unauthorized", "unauthorized"]);
  });

  it("with the default skew the token is replaced before it expires: no 401 after the first", { timeout: 20_000 }, async () => {
    const { clientId, clientSecret } = short.credentials.clientSecret;
    const authFetch = withClientCredentials({ clientId, clientSecret })(fetch);
    const client = new Client({ name: "e2e-client", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(short.mcp.url), { fetch: authFetch }));
    const mark = short.mcp.requests.length;
    try {
      const until = Date.now() + 5_000;
      while (Date.now() < until) {
        await client.callTool({ name: "add", arguments: { a: 1, b: 1 } });
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    } finally {
      await client.close();
    }
    const seen = short.mcp.requests.slice(mark).filter((r) => r.path === "/mcp");
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.filter((r) => r.status === 401)).toEqual([]);
  });
});
