// DPoP (RFC 9449, SEP-1932) against real software on loopback: oidc-provider with features.dPoP
// (with and without its nonce requirement) issuing tokens by client credentials and by workload
// identity (the JWT-bearer grant of servers/jwt-bearer-grant.mjs, with oidc-provider's own DPoP
// helpers), and an MCP SDK server behind a DPoP check that verifies everything a resource must
// (servers/dpop-resource.mjs): bound tokens, nonces, MCP sessions, the example. It imports the
// built package, as users get it (`npx tsup` first). The resource's refusals are in
// dpop-refusals.test.ts, dpop: "auto" and dpop_not_bound in dpop-auto.test.ts.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import * as jose from "jose";
import { type ClientCredentialsEvent, withWorkloadIdentity } from "mcp-client-credentials";
import { describe, expect, it } from "vitest";
import {
  credentialId,
  dpopServers,
  expectNoLeak,
  initialize,
  KINDS,
  type Kind,
  MCP_HEADERS,
  ownKeyPair,
  proofThumbprint,
  recorder,
  WORKLOAD,
} from "./dpop-helpers.js";

const { as, rs, keys, issuer, client } = dpopServers(["on", "nonce"], { workload: true });

describe("oidc-provider with features.dPoP: tokens come back DPoP and bound to the client's key", () => {
  describe.each(KINDS)("%s", (kind) => {
    it("dpop: true (a generated key): token_type DPoP, cnf.jkt = the thumbprint of the key that signed the proofs", async () => {
      const c = client(kind, { dpop: true });
      expect((await initialize(c.authFetch, rs.on.url)).status).toBe(200);
      expect(c.tokenTypes).toEqual(["DPoP"]);
      const [tokenRequest] = c.to(as.on.tokenEndpoint);
      const thumbprint = await proofThumbprint(tokenRequest?.headers.get("dpop") ?? "");
      const token = await c.authFetch.getToken(rs.on.url);
      expect(token.tokenType).toBe("DPoP");
      expect(jose.decodeJwt(token.accessToken).cnf).toEqual({ jkt: thumbprint });
      // The resource saw the same key: every authorized request is DPoP with a proof of that key.
      const authorized = c.to(rs.on.url).filter((s) => s.headers.has("authorization"));
      expect(authorized.map((s) => [s.headers.get("authorization")?.split(" ")[0], s.status])).toEqual([["DPoP", 200]]);
      expect(await proofThumbprint(authorized[0]?.headers.get("dpop") ?? "")).toBe(thumbprint);
      expect(c.events.filter((e) => e.type === "token-request").map((e) => e.type === "token-request" && e.dpop)).toEqual([true]);
      expectNoLeak(c.events);
    });

    it("dpop: { keyPair }: cnf.jkt = the RFC 7638 thumbprint of the caller's key", async () => {
      const { keyPair, thumbprint } = await ownKeyPair();
      const c = client(kind, { dpop: { keyPair } });
      const token = await c.authFetch.getToken(rs.on.url);
      expect(c.tokenTypes).toEqual(["DPoP"]);
      expect(jose.decodeJwt(token.accessToken).cnf).toEqual({ jkt: thumbprint });
    });
  });

  it("workload identity: oidc-provider's jwt-bearer grant (servers/jwt-bearer-grant.mjs) checks the proof, nonce included, and binds the token to its key; an MCP session through the DPoP resource works", async () => {
    const events: ClientCredentialsEvent[] = [];
    const recorded = recorder();
    const assertion = async ({ audience }: { audience: string }) => issuer.idp.mint({ aud: audience });
    const authFetch = withWorkloadIdentity({ clientId: WORKLOAD, assertion, dpop: true, onEvent: (e) => void events.push(e) })(recorded.next);
    const marked = as.nonce.events.length;
    const seen = rs.nonce.requests.length;
    const mcp = new Client({ name: "dpop-e2e-workload", version: "1.0.0" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(rs.nonce.url), { fetch: authFetch }));
    let whoami: unknown;
    try {
      expect((await mcp.listTools()).tools.map((t) => t.name)).toEqual(["echo", "add", "whoami"]);
      whoami = (await mcp.callTool({ name: "whoami", arguments: {} })).structuredContent;
    } finally {
      await mcp.close();
    }
    // The grant validated the proof (it asked for its nonce once) before issuing a DPoP token.
    expect(as.nonce.events.slice(marked).map((e) => [e.type, e.grantType, e.error])).toEqual([
      ["grant.error", "urn:ietf:params:oauth:grant-type:jwt-bearer", "use_dpop_nonce"],
      ["grant.success", "urn:ietf:params:oauth:grant-type:jwt-bearer", undefined],
    ]);
    expect(recorded.tokenTypes).toEqual(["DPoP"]);
    const thumbprint = await proofThumbprint(recorded.to(as.nonce.tokenEndpoint).at(-1)?.headers.get("dpop") ?? "");
    const token = await authFetch.getToken(rs.nonce.url);
    expect(token.tokenType).toBe("DPoP");
    expect(jose.decodeJwt(token.accessToken)).toMatchObject({ client_id: WORKLOAD, cnf: { jkt: thumbprint } });
    expect(whoami).toEqual({ clientId: WORKLOAD, scopes: ["mcp:tools"], jkt: thumbprint });
    const requests = rs.nonce.requests.slice(seen).filter((r) => r.authorized);
    expect(requests.every((r) => r.scheme === "DPoP" && r.proof)).toBe(true);
    expect(requests.filter((r) => r.outcome !== "ok").map((r) => r.outcome)).toEqual(["nonce: missing"]);
    expectNoLeak(events);
  });
});

describe("nonces required by the authorization server and the resource", () => {
  /** One initialize and one tools/list through `authFetch`; how many requests each server got. */
  async function run(setup: "on" | "nonce", kind: Kind) {
    const c = client(kind, { dpop: true });
    const { status, session } = await initialize(c.authFetch, rs[setup].url);
    expect(status).toBe(200);
    const list = await c.authFetch(rs[setup].url, {
      method: "POST",
      headers: { ...MCP_HEADERS, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    expect(list.status).toBe(200);
    await list.body?.cancel();
    return { ...c, atAs: c.to(as[setup].tokenEndpoint).length, atRs: c.to(rs[setup].url).length };
  }

  it.each(KINDS)("%s: the session succeeds with exactly one more request at each (the use_dpop_nonce answers)", async (kind) => {
    const base = await run("on", kind);
    const seen = rs.nonce.requests.length;
    const marked = as.nonce.events.length;
    const nonce = await run("nonce", kind);
    expect(nonce.atAs).toBe(base.atAs + 1);
    expect(nonce.atRs).toBe(base.atRs + 1);
    expect(nonce.tokenTypes).toEqual(["DPoP"]);
    expect(as.nonce.events.slice(marked).map((e) => [e.type, e.error])).toEqual([
      ["grant.error", "use_dpop_nonce"],
      ["grant.success", undefined],
    ]);
    const outcomes = rs.nonce.requests
      .slice(seen)
      .filter((r) => r.path === "/mcp")
      .map((r) => r.outcome);
    expect(outcomes).toEqual(["no token", "nonce: missing", "ok", "ok"]);
    const types = nonce.events.map((e) => (e.type === "retry" ? `retry:${e.reason}` : e.type));
    expect(types.filter((t) => t === "dpop-nonce")).toHaveLength(2);
    expect(types.filter((t) => t === "retry:use_dpop_nonce")).toHaveLength(1);
    expectNoLeak(nonce.events);
  });

  it("a nonce rotated abruptly costs one more request; one announced in a 200 costs none", async () => {
    const c = client("clientSecret", { dpop: true });
    const echo = async () => (await initialize(c.authFetch, rs.nonce.url)).status;
    expect(await echo()).toBe(200);
    let seen = rs.nonce.requests.length;
    rs.nonce.rotateNonce();
    expect(await echo()).toBe(200);
    expect(rs.nonce.requests.slice(seen).map((r) => r.outcome)).toEqual(["nonce: stale", "ok"]);
    // Graceful twice: the second call is accepted only if the client took the nonce the first answer announced.
    seen = rs.nonce.requests.length;
    rs.nonce.rotateNonce({ graceful: true });
    expect(await echo()).toBe(200);
    rs.nonce.rotateNonce({ graceful: true });
    expect(await echo()).toBe(200);
    expect(rs.nonce.requests.slice(seen).map((r) => r.outcome)).toEqual(["ok", "ok"]);
  });
});

describe("MCP sessions through the DPoP-validating resource (nonces on)", () => {
  it.each(KINDS)("SDK v1 client, %s: initialize, tools/list, tools/call; every authorized request a DPoP one", async (kind) => {
    const { keyPair, thumbprint } = await ownKeyPair();
    const c = client(kind, { dpop: { keyPair } });
    const seen = rs.nonce.requests.length;
    const mcp = new Client({ name: "dpop-e2e-v1", version: "1.0.0" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(rs.nonce.url), { fetch: c.authFetch }));
    try {
      expect((await mcp.listTools()).tools.map((t) => t.name)).toEqual(["echo", "add", "whoami"]);
      expect(await mcp.callTool({ name: "add", arguments: { a: 2, b: 3 } })).toMatchObject({ structuredContent: { sum: 5 } });
      expect((await mcp.callTool({ name: "whoami", arguments: {} })).structuredContent).toEqual({
        clientId: credentialId(kind),
        scopes: ["mcp:tools"],
        jkt: thumbprint,
      });
    } finally {
      await mcp.close();
    }
    const requests = rs.nonce.requests.slice(seen).filter((r) => r.authorized);
    expect(requests.every((r) => r.scheme === "DPoP" && r.proof)).toBe(true);
    expect(requests.filter((r) => r.outcome !== "ok").map((r) => r.outcome)).toEqual(["nonce: missing"]);
    expect(requests.filter((r) => r.method === "POST" && r.outcome === "ok").map((r) => r.rpc)).toEqual([
      "initialize",
      "notifications/initialized",
      "tools/list",
      "tools/call",
      "tools/call",
    ]);
    expectNoLeak(c.events);
  });

  it.each(KINDS)("SDK v2 client (@modelcontextprotocol/client), %s: the 2025 handshake, tools/list, tools/call", async (kind) => {
    const { keyPair, thumbprint } = await ownKeyPair();
    const c = client(kind, { dpop: { keyPair } });
    const mcp = new ClientV2({ name: "dpop-e2e-v2", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
    await mcp.connect(new TransportV2(new URL(rs.nonce.url), { fetch: c.authFetch }));
    try {
      expect((await mcp.listTools()).tools.map((t) => t.name)).toEqual(["echo", "add", "whoami"]);
      expect(await mcp.callTool({ name: "echo", arguments: { text: "bound" } })).toMatchObject({ content: [{ type: "text", text: "bound" }] });
      expect((await mcp.callTool({ name: "whoami", arguments: {} })).structuredContent).toMatchObject({ clientId: credentialId(kind), jkt: thumbprint });
    } finally {
      await mcp.close();
    }
    expect(c.to(rs.nonce.url).filter((s) => s.headers.has("authorization") && !s.headers.get("authorization")?.startsWith("DPoP "))).toEqual([]);
    expectNoLeak(c.events);
  });
});

describe("examples/dpop.mjs (quoted by the docs), as a separate process", () => {
  it("lists the tools through the DPoP resource (nonces on) and reports a DPoP token; every authorized request a DPoP one", async () => {
    const seen = rs.nonce.requests.length;
    // Only what the example reads: no credential inherited from this process.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(MCP_|VITEST)/.test(name)));
    const env = { ...inherited, NO_COLOR: "1", MCP_SERVER_URL: rs.nonce.url, MCP_CLIENT_ID: credentialId("privateKeyJwt"), MCP_PRIVATE_KEY: keys.privateKey };
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["examples/dpop.mjs"], { cwd: root, timeout: 30_000, env });
    expect(stdout).toBe("tools: echo, add, whoami\ntoken type: DPoP\n");
    expect(stderr).toBe("");
    const mcp = rs.nonce.requests.slice(seen).filter((r) => r.path === "/mcp" && r.authorized);
    expect(mcp.length).toBeGreaterThan(0);
    expect(mcp.every((r) => r.scheme === "DPoP" && r.proof)).toBe(true);
    expect(mcp.filter((r) => r.outcome !== "ok").map((r) => r.outcome)).toEqual(["nonce: missing"]);
  });
});
