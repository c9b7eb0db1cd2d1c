// The MCP TypeScript SDK v2 (@modelcontextprotocol/client + /server 2.4) with our fetch and our
// AuthProvider adapter, in every version-negotiation mode, and across SDK versions: v2 client
// against the v1 server of stack.mjs, v1 client against the v2 server. Tokens come from the one
// oidc-provider; every test counts the token requests the AS answered.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  applyMiddlewares,
  Client,
  SdkError,
  SdkErrorCode,
  StreamableHTTPClientTransport,
  type StreamableHTTPClientTransportOptions,
  type VersionNegotiationMode,
} from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { authProvider } from "../../src/adapters.js";
import { type ClientCredentialsOptions, withClientCredentials } from "../../src/index.js";
import * as mcpServerV2 from "./servers/mcp-server-v2.mjs";
import { type Stack, start as startStack } from "./servers/stack.mjs";

const MODERN = "2026-07-28";
const LEGACY = "2025-11-25";
const MODES: Array<[string, VersionNegotiationMode]> = [
  ["legacy (default)", "legacy"],
  ["auto", "auto"],
  [`pin ${MODERN}`, { pin: MODERN }],
];
const KINDS = ["privateKeyJwt", "clientSecret"] as const;
type Kind = (typeof KINDS)[number];

let stack: Stack;
let v2: mcpServerV2.ProtectedMcpV2Server;

beforeAll(async () => {
  stack = await startStack();
  v2 = await mcpServerV2.start({ issuer: stack.as.issuer });
  stack.as.addResource(v2.resource, { scope: mcpServerV2.SCOPE });
});

afterAll(async () => {
  await v2?.close();
  await stack?.close();
});

let mark = 0;
beforeEach(({ onTestFailed }) => {
  mark = stack.as.events.length;
  onTestFailed(() => console.log("oidc-provider events during this test:", stack.as.events.slice(mark)));
});

function credentials(kind: Kind): ClientCredentialsOptions {
  if (kind === "privateKeyJwt") {
    const { clientId, privateKey } = stack.credentials.privateKeyJwt;
    return { clientId, privateKey };
  }
  return { ...stack.credentials.clientSecret };
}

/** Token requests the authorization server granted since the test began (and none refused). */
function tokenRequests(kind: Kind) {
  const events = stack.as.events.slice(mark);
  expect(events.filter((e) => e.type !== "grant.success")).toEqual([]);
  return events.filter((e) => e.type === "grant.success" && e.clientId === stack.credentials[kind].clientId).length;
}

type Route = "fetch" | "applyMiddlewares" | "adapter";

/** The transport options for one route: our fetch, our fetch composed by the SDK, or our AuthProvider over a plain fetch. */
function transportOptions(route: Route, kind: Kind, url: string): StreamableHTTPClientTransportOptions {
  if (route === "applyMiddlewares") return { fetch: applyMiddlewares(withClientCredentials(credentials(kind)))(fetch) };
  const authFetch = withClientCredentials(credentials(kind))(fetch);
  return route === "fetch" ? { fetch: authFetch } : { authProvider: authProvider(authFetch, url), fetch };
}

/** connect (negotiation), tools/list, two tools/call: a whole session with the v2 client. */
async function session(url: string, mode: VersionNegotiationMode, options: StreamableHTTPClientTransportOptions) {
  const client = new Client({ name: "e2e-v2-client", version: "1.0.0" }, { versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), options));
  try {
    const tools = await client.listTools();
    const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
    const whoami = await client.callTool({ name: "whoami", arguments: {} });
    return { protocol: client.getNegotiatedProtocolVersion(), tools: tools.tools.map((t) => t.name), sum, whoami: whoami.structuredContent };
  } finally {
    await client.close();
  }
}

describe("SDK v2 client → SDK v2 server (createMcpHandler + requireBearerAuth)", () => {
  describe.each(["fetch", "applyMiddlewares", "adapter"] as const)("route: %s", (route) => {
    describe.each(MODES)("versionNegotiation %s", (_name, mode) => {
      it.each(KINDS)("%s: negotiates, calls tools, one token", async (kind) => {
        const seen = v2.requests.length;
        const result = await session(v2.url, mode, transportOptions(route, kind, v2.url));
        const modern = mode !== "legacy";
        expect(result.protocol).toBe(modern ? MODERN : LEGACY);
        expect(result.tools).toEqual(expect.arrayContaining(["echo", "add", "whoami"]));
        expect(result.sum).toMatchObject({ content: [{ type: "text", text: "5" }], structuredContent: { sum: 5 } });
        // The token reached the server, and the server served the era that was negotiated.
        expect(result.whoami).toMatchObject({
          clientId: credentials(kind).clientId,
          scopes: ["mcp:tools"],
          resource: v2.resource,
          era: modern ? "modern" : "legacy",
        });
        expect(tokenRequests(kind)).toBe(1);

        const mcp = v2.requests.slice(seen).filter((r) => r.path === "/mcp");
        const refused = mcp.filter((r) => r.status === 401);
        // fetch routes: exactly one unauthenticated first request (the discovery 401). The adapter
        // asks getToken() first, which reads the well-known PRM itself: no 401, no request without a token.
        expect(refused.length).toBe(route === "adapter" ? 0 : 1);
        if (route === "adapter") expect(mcp.every((r) => r.authorized)).toBe(true);
        expect(refused.every((r) => !r.authorized)).toBe(true);
        const calls = mcp.filter((r) => r.authorized && r.method === "POST");
        expect(calls.every((r) => r.status === 200 || r.status === 202)).toBe(true);
        expect(calls.map((r) => r.rpc)).toEqual(
          modern
            ? ["server/discover", "tools/list", "tools/call", "tools/call"]
            : ["initialize", "notifications/initialized", "tools/list", "tools/call", "tools/call"],
        );
        if (modern) expect(calls.every((r) => r.protocolVersion === MODERN)).toBe(true);
      });
    });
  });
});

describe("authProvider(authFetch, url) adapter on a plain fetch (SDK v2 transport)", () => {
  it.each(KINDS)("%s: a token the server stops accepting → onUnauthorized → exactly one new token → the call succeeds", async (kind) => {
    const authFetch = withClientCredentials(credentials(kind))(fetch);
    const client = new Client({ name: "e2e-v2-adapter", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(new StreamableHTTPClientTransport(new URL(v2.url), { authProvider: authProvider(authFetch, v2.url), fetch }));
    try {
      expect(tokenRequests(kind)).toBe(1);
      expect(v2.revokeSeenTokens()).toBeGreaterThan(0);
      const seen = v2.requests.length;
      const echo = await client.callTool({ name: "echo", arguments: { text: "after revocation" } });
      expect(echo).toMatchObject({ content: [{ type: "text", text: "after revocation" }] });
      expect(v2.requests.slice(seen).map((r) => [r.rpc, r.authorized, r.status])).toEqual([
        ["tools/call", true, 401],
        ["tools/call", true, 200],
      ]);
      expect(tokenRequests(kind)).toBe(2);
    } finally {
      await client.close();
    }
  });

  it("N sessions connecting at once through one authFetch's providers: one token request", async () => {
    const authFetch = withClientCredentials(credentials("privateKeyJwt"))(fetch);
    const results = await Promise.all(Array.from({ length: 5 }, () => session(v2.url, "auto", { authProvider: authProvider(authFetch, v2.url), fetch })));
    expect(results.map((r) => r.sum.structuredContent)).toEqual(Array(5).fill({ sum: 5 }));
    expect(tokenRequests("privateKeyJwt")).toBe(1);
  });

  it("N concurrent calls all refused after a revocation: one new token request, every call succeeds", async () => {
    const authFetch = withClientCredentials(credentials("clientSecret"))(fetch);
    const client = new Client({ name: "e2e-v2-adapter", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(new StreamableHTTPClientTransport(new URL(v2.url), { authProvider: authProvider(authFetch, v2.url), fetch }));
    try {
      v2.revokeSeenTokens();
      const seen = v2.requests.length;
      const sums = await Promise.all(Array.from({ length: 5 }, (_, i) => client.callTool({ name: "add", arguments: { a: i, b: 1 } })));
      expect(sums.map((s) => s.structuredContent)).toEqual([1, 2, 3, 4, 5].map((sum) => ({ sum })));
      // All five were sent with the revoked token and refused: their onUnauthorized calls overlapped.
      expect(v2.requests.slice(seen).filter((r) => r.status === 401)).toHaveLength(5);
      expect(tokenRequests("clientSecret")).toBe(2);
    } finally {
      await client.close();
    }
  });

  it("a 401 that arrives after another call already replaced the token does not throw the new token away", async () => {
    // Call "slow" was sent with the revoked token like call "fast", but its 401 is held back until
    // "fast" has been refused, got a new token and succeeded. Its onUnauthorized must not evict that one.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated = async (input: string | URL, init?: RequestInit) => {
      const response = await fetch(input, init);
      if (response.status === 401 && typeof init?.body === "string" && init.body.includes('"slow"')) await held;
      return response;
    };
    const authFetch = withClientCredentials(credentials("privateKeyJwt"))(fetch);
    const client = new Client({ name: "e2e-v2-adapter", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(new StreamableHTTPClientTransport(new URL(v2.url), { authProvider: authProvider(authFetch, v2.url), fetch: gated }));
    try {
      v2.revokeSeenTokens();
      const slow = client.callTool({ name: "echo", arguments: { text: "slow" } });
      const fast = await client.callTool({ name: "echo", arguments: { text: "fast" } });
      release();
      expect([fast, await slow].map((r) => r.content)).toEqual([[{ type: "text", text: "fast" }], [{ type: "text", text: "slow" }]]);
      expect(tokenRequests("privateKeyJwt")).toBe(2);
    } finally {
      release();
      await client.close();
    }
  });
});

describe("cross-version: SDK v2 client → SDK v1 server (stack.mjs)", () => {
  describe.each(["fetch", "adapter"] as const)("route: %s", (route) => {
    it.each(KINDS)("%s, legacy and auto: the 2025 handshake, tools called, one token each", async (kind) => {
      for (const mode of ["legacy", "auto"] as const) {
        mark = stack.as.events.length;
        const result = await session(stack.mcp.url, mode, transportOptions(route, kind, stack.mcp.url));
        expect(result.protocol).toBe(LEGACY);
        expect(result.sum).toMatchObject({ structuredContent: { sum: 5 } });
        expect(result.whoami).toMatchObject({ clientId: credentials(kind).clientId, resource: stack.mcp.resource });
        expect(tokenRequests(kind)).toBe(1);
      }
    });
  });

  it(`pinned to ${MODERN}: the v1 server cannot offer it, so connect fails loudly (after authenticating)`, async () => {
    const seen = stack.mcp.requests.length;
    const error = await session(stack.mcp.url, { pin: MODERN }, transportOptions("fetch", "clientSecret", stack.mcp.url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SdkError);
    expect((error as SdkError).code).toBe(SdkErrorCode.EraNegotiationFailed);
    // It got that far authenticated: the v1 server answered the authorized probe itself (400), not a 401.
    expect(
      stack.mcp.requests
        .slice(seen)
        .filter((r) => r.rpc === "server/discover")
        .map((r) => [r.authorized, r.status]),
    ).toEqual([
      [false, 401],
      [true, 400],
    ]);
    expect(tokenRequests("clientSecret")).toBe(1);
  });
});

describe("cross-version: SDK v1 client → SDK v2 server (its stateless 2025 fallback)", () => {
  it.each(KINDS)("%s: initialize, tools/list, tools/call; one token", async (kind) => {
    const client = new ClientV1({ name: "e2e-v1-client", version: "1.0.0" });
    await client.connect(new TransportV1(new URL(v2.url), { fetch: withClientCredentials(credentials(kind))(fetch) }));
    try {
      const tools = await client.listTools();
      const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
      const whoami = await client.callTool({ name: "whoami", arguments: {} });
      expect(client.getServerVersion()).toMatchObject({ name: "e2e-protected-mcp-server-v2" });
      expect(tools.tools.map((t) => t.name)).toEqual(expect.arrayContaining(["echo", "add", "whoami"]));
      expect(sum).toMatchObject({ structuredContent: { sum: 5 } });
      expect(whoami.structuredContent).toMatchObject({ clientId: credentials(kind).clientId, resource: v2.resource, era: "legacy" });
    } finally {
      await client.close();
    }
    expect(tokenRequests(kind)).toBe(1);
  });
});

describe("examples/mcp-sdk-v2-client.mjs, run as written (the built package, by name)", () => {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  async function example(url: string, kind: Kind) {
    const { MCP_CLIENT_SECRET: _s, MCP_PRIVATE_KEY: _k, ...inherited } = process.env;
    const env: Record<string, string | undefined> = { ...inherited, MCP_SERVER_URL: url, MCP_CLIENT_ID: stack.credentials[kind].clientId };
    if (kind === "privateKeyJwt") env.MCP_PRIVATE_KEY = stack.credentials.privateKeyJwt.privateKey;
    else env.MCP_CLIENT_SECRET = stack.credentials.clientSecret.clientSecret;
    return promisify(execFile)(process.execPath, ["examples/mcp-sdk-v2-client.mjs"], { cwd: root, timeout: 30_000, env });
  }

  it.each(KINDS)("%s against the v2 server: 2026-07-28", async (kind) => {
    const { stdout } = await example(v2.url, kind);
    expect(stdout).toBe(`protocol: ${MODERN}\ntools: echo, add, whoami\nadd(2, 3) = 5\n`);
    expect(tokenRequests(kind)).toBe(1);
  });

  it.each(KINDS)("%s against the v1 server: falls back to 2025-11-25", async (kind) => {
    const { stdout } = await example(stack.mcp.url, kind);
    expect(stdout).toBe(`protocol: ${LEGACY}\ntools: echo, add, whoami\nadd(2, 3) = 5\n`);
    expect(tokenRequests(kind)).toBe(1);
  });
});
