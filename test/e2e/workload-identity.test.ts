// Workload identity federation (SEP-1933) end to end: withWorkloadIdentity presents a platform
// JWT from a loopback workload issuer as an RFC 7523 §2.1 grant to oidc-provider, whose
// jwt-bearer grant (servers/jwt-bearer-grant.mjs) really verifies it against the issuer's
// discovery + JWKS, and the access token opens an MCP SDK session. It imports the built
// package, as users get it (`npm run test:e2e` builds first), sources subpath included.
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import * as jose from "jose";
import {
  type AssertionContext,
  type AssertionSource,
  ClientCredentialsError,
  type ClientCredentialsEvent,
  memoryStore,
  type TokenStore,
  type WorkloadIdentityOptions,
  withWorkloadIdentity,
} from "mcp-client-credentials";
import { fileToken } from "mcp-client-credentials/sources/file";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { JWT_BEARER_GRANT } from "./servers/jwt-bearer-grant.mjs";
import { type Stack, start as startStack } from "./servers/stack.mjs";
import { start as startWorkloadIssuer, type WorkloadIssuer } from "./servers/workload-issuer.mjs";

let stack: Stack;
let idp: WorkloadIssuer;
let clientId: string;
let dir: string;

beforeAll(async () => {
  idp = await startWorkloadIssuer();
  stack = await startStack({ jwtBearer: { trust: [{ issuer: idp.issuer }] } });
  clientId = stack.credentials.workloadIdentity?.clientId ?? "";
  dir = await mkdtemp(join(tmpdir(), "wif-e2e-"));
});

afterAll(async () => {
  await stack?.close();
  await idp?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// The AS's reasons are only in its events: show them (they never hold the assertion) when a test fails.
let mark = 0;
beforeEach(({ onTestFailed }) => {
  mark = stack.as.events.length;
  onTestFailed(() => console.log("oidc-provider events during this test:", stack.as.events.slice(mark)));
});

const asEvents = () => stack.as.events.slice(mark);

/** A withWorkloadIdentity client for the stack's public client, with its events collected. */
function client(assertion: AssertionSource, options: Partial<WorkloadIdentityOptions> = {}) {
  const events: ClientCredentialsEvent[] = [];
  const authFetch = withWorkloadIdentity({ clientId, assertion, onEvent: (event) => void events.push(event), ...options })(fetch);
  const tokenRequests = () => events.filter((event) => event.type === "token-request");
  return { authFetch, events, tokenRequests };
}

/** A function source minting for whatever audience the flow asks, remembering every JWT it handed out. */
function minting(issuer: WorkloadIssuer, mint: Partial<Parameters<WorkloadIssuer["mint"]>[0]> = {}) {
  const contexts: AssertionContext[] = [];
  const jwts: string[] = [];
  const source = async (context: AssertionContext) => {
    contexts.push(context);
    const jwt = await issuer.mint({ aud: context.audience, ...mint });
    jwts.push(jwt);
    return jwt;
  };
  return { source, contexts, jwts };
}

/** No JWT handed out appears anywhere a user or a log could see it. */
function expectNoLeak(jwts: string[], ...surfaces: string[]) {
  expect(jwts.length).toBeGreaterThan(0);
  for (const jwt of jwts) {
    const signature = jwt.split(".")[2] ?? "";
    for (const surface of surfaces) {
      expect(surface.includes(jwt)).toBe(false);
      expect(surface.includes(signature)).toBe(false);
    }
  }
}

async function session(fetch: (url: string | URL, init?: RequestInit) => Promise<Response>) {
  const mcp = new Client({ name: "wif-e2e", version: "1.0.0" });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(stack.mcp.url), { fetch }));
  try {
    const tools = await mcp.listTools();
    const whoami = await mcp.callTool({ name: "whoami", arguments: {} });
    return { tools: tools.tools.map((tool) => tool.name), whoami: whoami.structuredContent };
  } finally {
    await mcp.close();
  }
}

describe("withWorkloadIdentity against oidc-provider's jwt-bearer grant", () => {
  it("a valid platform JWT gets a token bound to the MCP resource, and an MCP session runs on it", async () => {
    // Its own issuer, so the AS has not cached its keys yet and must fetch them now.
    const fresh = await startWorkloadIssuer();
    try {
      stack.as.addTrust?.({ issuer: fresh.issuer, subject: "system:serviceaccount:ci:mcp" });
      const minted = minting(fresh, { sub: "system:serviceaccount:ci:mcp" });
      const { authFetch, events, tokenRequests } = client(minted.source);

      const result = await session(authFetch);
      expect(result.tools).toEqual(expect.arrayContaining(["echo", "add", "whoami"]));
      expect(result.whoami).toMatchObject({ clientId, scopes: ["mcp:tools"], resource: stack.mcp.resource });

      expect(minted.contexts[0]).toEqual({
        audience: stack.as.issuer,
        issuer: stack.as.issuer,
        tokenEndpoint: stack.as.tokenEndpoint,
        resource: stack.mcp.resource,
      });
      const claims = jose.decodeJwt((await authFetch.getToken(stack.mcp.url)).accessToken);
      expect(claims).toMatchObject({
        aud: stack.mcp.resource,
        sub: "system:serviceaccount:ci:mcp",
        client_id: clientId,
        scope: "mcp:tools",
        iss: stack.as.issuer,
      });
      expect(tokenRequests()).toEqual([expect.objectContaining({ grantType: JWT_BEARER_GRANT, authMethod: "none", resource: stack.mcp.resource })]);

      // The AS resolved the issuer and fetched its JWKS, and verified the assertion it was sent.
      expect(fresh.requests).toEqual(["/.well-known/openid-configuration", "/jwks"]);
      const granted = asEvents().filter((event) => event.type === "grant.success");
      expect(granted).toHaveLength(1);
      expect(granted[0]).toMatchObject({
        clientId,
        grantType: JWT_BEARER_GRANT,
        assertion: { iss: fresh.issuer, sub: "system:serviceaccount:ci:mcp", verified: true },
      });
      expect(granted[0]?.assertion?.jti).toBe(jose.decodeJwt(minted.jwts.at(-1) ?? "").jti);
      expectNoLeak(minted.jwts, JSON.stringify(events), JSON.stringify(stack.as.events));
    } finally {
      await fresh.close();
    }
  });

  const refusals: Array<[string, string, () => Promise<ReturnType<typeof minting>>, Record<string, string>?]> = [
    ["an untrusted issuer", "the assertion issuer is not trusted", async () => minting(untrusted)],
    // Told to use that audience: the client sends it, so the AS's own check is what refuses it.
    [
      "a wrong audience",
      "the assertion audience is not this authorization server",
      async () => minting(idp, { aud: "https://elsewhere.example/oauth" }),
      { assertionAudience: "https://elsewhere.example/oauth" },
    ],
    ["an expired token", "the assertion has expired", async () => minting(idp, { expiresIn: -120 })],
    [
      "a key the issuer never published",
      "the assertion signature does not verify with the issuer's published keys",
      async () => minting(idp, { key: await idp.foreignKey() }),
    ],
    ["a subject the trust entry does not name", "the assertion subject is not trusted", async () => minting(pinned, { sub: "system:serviceaccount:ci:other" })],
  ];
  let untrusted: WorkloadIssuer;
  /** Trusted for one subject only. */
  let pinned: WorkloadIssuer;
  beforeAll(async () => {
    [untrusted, pinned] = await Promise.all([startWorkloadIssuer(), startWorkloadIssuer()]);
    stack.as.addTrust?.({ issuer: pinned.issuer, subject: "system:serviceaccount:ci:allowed" });
  });
  afterAll(async () => {
    await Promise.all([untrusted?.close(), pinned?.close()]);
  });

  it.each(refusals)("%s → invalid_grant, one request, no retry, no other grant, the JWT nowhere", async (_name, description, make, options) => {
    const minted = await make();
    const { authFetch, events, tokenRequests } = client(minted.source, options);

    const error = await authFetch.getToken(stack.mcp.url).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientCredentialsError);
    expect(error).toMatchObject({ phase: "token", code: "invalid_grant", status: 400, description });
    expect(tokenRequests()).toEqual([expect.objectContaining({ grantType: JWT_BEARER_GRANT })]);

    const seen = asEvents();
    expect(seen).toEqual([expect.objectContaining({ type: "grant.error", clientId, grantType: JWT_BEARER_GRANT, error: "invalid_grant", description })]);
    expect(untrusted.requests).toEqual([]); // an untrusted issuer's keys are never even looked up
    const err = error as ClientCredentialsError;
    expectNoLeak(minted.jwts, String(err), JSON.stringify(err), err.stack ?? "", JSON.stringify(events), JSON.stringify(seen));
  });

  it("a JWT minted for another audience is not sent at all: invalid_assertion, no token request", async () => {
    const minted = minting(idp, { aud: "https://elsewhere.example/oauth" });
    const { authFetch, tokenRequests } = client(minted.source);
    const error = await authFetch.getToken(stack.mcp.url).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ phase: "token", code: "invalid_assertion" });
    expect((error as Error).message).toContain(`minted for the audience ["https://elsewhere.example/oauth"], not ${stack.as.issuer}`);
    expect(tokenRequests()).toEqual([]);
    expect(asEvents()).toEqual([]);
  });

  it("assertionAudience: 'token_endpoint' → the assertion's aud is the token endpoint, which the AS accepts too", async () => {
    const minted = minting(idp);
    const { authFetch } = client(minted.source, { assertionAudience: "token_endpoint" });
    await authFetch.getToken(stack.mcp.url);
    expect(minted.contexts[0]?.audience).toBe(stack.as.tokenEndpoint);
    expect(asEvents()).toEqual([
      expect.objectContaining({ type: "grant.success", assertion: expect.objectContaining({ aud: stack.as.tokenEndpoint, verified: true }) }),
    ]);
  });

  it("the metadata advertises the grant; without clientId oidc-provider refuses the request (it needs a client)", async () => {
    const metadata = await (await fetch(stack.as.discoveryUrl)).json();
    expect(metadata.grant_types_supported).toContain(JWT_BEARER_GRANT);
    expect(metadata.token_endpoint_auth_methods_supported).toContain("none");

    const minted = minting(idp);
    const { authFetch, tokenRequests } = client(minted.source, { clientId: undefined });
    const error = await authFetch.getToken(stack.mcp.url).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ phase: "token", code: "invalid_request", status: 400, description: "no client authentication mechanism provided" });
    expect(tokenRequests()).toHaveLength(1);
    expect(asEvents()).toEqual([expect.objectContaining({ type: "grant.error", grantType: JWT_BEARER_GRANT, error: "invalid_request" })]);
    expect(asEvents()[0]?.clientId).toBeUndefined();
  });
});

describe("a token file, rotated", () => {
  const jti = (jwt: string) => jose.decodeJwt(jwt).jti;
  /** Writes next to the file and renames over it, as kubelet swaps a projected token atomically. */
  const replace = async (path: string, jwt: string) => {
    await writeFile(`${path}.next`, `${jwt}\n`);
    await rename(`${path}.next`, path);
  };
  const verifiedJtis = () => asEvents().map((event) => (event.type === "grant.success" ? event.assertion?.jti : event.error));

  it("the next token request carries the new token", async () => {
    const path = join(dir, "rotated");
    const [a, b] = [await idp.mint({ sub: "rotating", aud: stack.as.issuer }), await idp.mint({ sub: "rotating", aud: stack.as.issuer })];
    await replace(path, a);
    const { authFetch, events, tokenRequests } = client(fileToken(path));

    await authFetch.getToken(stack.mcp.url);
    await replace(path, b);
    await authFetch.getToken(stack.mcp.url); // cached: the rotation alone asks for nothing
    expect(tokenRequests()).toHaveLength(1);
    await authFetch.clearTokens();
    await authFetch.getToken(stack.mcp.url);

    expect(verifiedJtis()).toEqual([jti(a), jti(b)]);
    expectNoLeak([a, b], JSON.stringify(events));
  });

  it("a file rewritten with an expired token, then a fresh one", async () => {
    const path = join(dir, "expiring");
    const expired = await idp.mint({ sub: "rotating", aud: stack.as.issuer, expiresIn: -120 });
    const fresh = await idp.mint({ sub: "rotating", aud: stack.as.issuer });
    await replace(path, await idp.mint({ sub: "rotating", aud: stack.as.issuer }));
    const { authFetch, tokenRequests } = client(fileToken(path));
    await authFetch.getToken(stack.mcp.url);

    await replace(path, expired);
    await authFetch.invalidate(stack.mcp.url);
    await expect(authFetch.getToken(stack.mcp.url)).rejects.toMatchObject({ phase: "token", code: "invalid_grant", description: "the assertion has expired" });
    await replace(path, fresh);
    await authFetch.getToken(stack.mcp.url);

    expect(tokenRequests()).toHaveLength(3);
    expect(verifiedJtis()).toEqual([expect.any(String), "invalid_grant", jti(fresh)]);
  });
});

describe("token cache", () => {
  it("two calls, concurrent and then sequential → one jwt-bearer request", async () => {
    const { authFetch, tokenRequests } = client(minting(idp).source);
    const [first, second] = await Promise.all([authFetch.getToken(stack.mcp.url), authFetch.getToken(stack.mcp.url)]);
    const third = await authFetch.getToken(stack.mcp.url);
    expect(second.accessToken === first.accessToken).toBe(true); // a mismatch must not print the tokens
    expect(third.accessToken === first.accessToken).toBe(true); // a mismatch must not print the tokens
    expect(tokenRequests()).toHaveLength(1);
    expect(asEvents().filter((event) => event.type === "grant.success")).toHaveLength(1);
  });

  it("a memoryStore shared by two instances → one request; the platform JWT is in no key or value", async () => {
    const inner = memoryStore();
    const written: string[] = [];
    const store: TokenStore = {
      get: (key) => inner.get(key),
      set: (key, value, ttl) => {
        written.push(key, value);
        return inner.set(key, value, ttl);
      },
      delete: (key) => inner.delete(key),
      acquire: (key, owner, ttl) => inner.acquire(key, owner, ttl),
      release: (key, owner) => inner.release(key, owner),
    };
    const minted = minting(idp, { sub: "shared-workload" });
    const one = client(minted.source, { store });
    const two = client(minted.source, { store });

    const first = await one.authFetch.getToken(stack.mcp.url);
    const second = await two.authFetch.getToken(stack.mcp.url);
    expect(second.accessToken === first.accessToken).toBe(true); // a mismatch must not print the tokens
    expect(one.tokenRequests().length + two.tokenRequests().length).toBe(1);
    expect(two.events).toContainEqual(expect.objectContaining({ type: "cache-hit", tier: "store" }));
    expect(asEvents().filter((event) => event.type === "grant.success")).toHaveLength(1);

    expect(written.length).toBeGreaterThan(0);
    expectNoLeak(minted.jwts, ...written);
  });
});
