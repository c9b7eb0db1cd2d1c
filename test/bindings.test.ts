import { describe, expect, it } from "vitest";
import { withClientCredentials } from "../src/index.js";
import { CLIENT_ID, CLIENT_SECRET, encodeEntry, recordingStore, useMockServer } from "./helpers.js";

// The binding registry with a shared store: the fleet's bindings live in one index entry per
// client configuration; what comes back from the store is checked as strictly as options.
const { mock: install } = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

/** A warm store from one instance, plus the key and data of its bindings index. */
async function warmStore(resource: string, extra: Record<string, unknown> = {}) {
  const recorded = recordingStore();
  await withClientCredentials({ ...options, ...extra, store: recorded.store })(fetch)(resource);
  const index = recorded.writes.filter((w) => w.entry.kind === "bindings").at(-1)!;
  return { ...recorded, indexKey: index.key, bindings: index.entry.data as Array<Record<string, unknown>> };
}

describe("bindings shared through the store", () => {
  it("the index holds what discovery found: boundary, resource indicator, issuer, scopes", async () => {
    const mock = install();
    const { bindings } = await warmStore(mock.resource);
    expect(bindings).toEqual([
      { boundary: mock.resource, resource: mock.resource, issuer: mock.issuer, scopes: ["mcp:read", "mcp:write"], boundAt: expect.any(Number) },
    ]);
  });

  it("another client configuration sharing the store reuses the public metadata, not the binding", async () => {
    const mock = install();
    const { store } = await warmStore(mock.resource);
    mock.clearRequests();
    await withClientCredentials({ ...options, store, scope: "mcp:read" })(fetch)(mock.resource);
    // its own index entry is empty (another scope), so one 401; both metadata documents come from the store
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["resource", "token", "resource"]);
  });

  it("a 403 step-up is shared: a fresh instance starts with the wider scope", async () => {
    const mock = install({
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scopes: ["mcp:read", "mcp:admin"] }],
      requiredScopes: ["mcp:read", "mcp:admin"],
      scopesSupported: ["mcp:read", "mcp:admin"],
      challengeScope: "mcp:read",
    });
    const { store, bindings } = await warmStore(mock.resource);
    expect(mock.requestsTo("token").map((r) => new URLSearchParams(r.body).get("scope"))).toEqual(["mcp:read", "mcp:read mcp:admin"]);
    expect(bindings[0]!.scopes).toEqual(["mcp:read", "mcp:admin"]);
    mock.clearRequests();
    expect((await withClientCredentials({ ...options, store })(fetch)(mock.resource)).status).toBe(200);
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["resource"]);
  });

  it("clearTokens() removes the index, the metadata and the token this instance used", async () => {
    const mock = install();
    const { store, inner } = recordingStore();
    const authFetch = withClientCredentials({ ...options, store })(fetch);
    await authFetch(mock.resource);
    expect(inner.size).toBe(4);
    await authFetch.clearTokens();
    expect(inner.size).toBe(0);
  });

  it.each<[string, (binding: Record<string, unknown>, resource: string) => Record<string, unknown>]>([
    ["a boundary on plain http off loopback", (b) => ({ ...b, boundary: "http://mcp.example.com/mcp", resource: "http://mcp.example.com/mcp" })],
    ["a boundary that does not match its resource", (b) => ({ ...b, boundary: "https://mcp.example.com/" })],
    ["a boundary with a query", (b, r) => ({ ...b, boundary: `${r}?x=1`, resource: `${r}?x=1` })],
    ["an issuer that is not a URL", (b) => ({ ...b, issuer: "not a url" })],
    ["scopes that are not strings", (b) => ({ ...b, scopes: [1, 2] })],
    ["a binding older than the discovery TTL", (b) => ({ ...b, boundAt: Date.now() - 7_200_000 })],
  ])("ignores a stored binding with %s: the instance discovers for itself", async (_name, corrupt) => {
    const mock = install();
    const { store, inner, indexKey, bindings } = await warmStore(mock.resource);
    inner.set(indexKey, encodeEntry("bindings", [corrupt(bindings[0]!, mock.resource)], Date.now() + 60_000), 60);
    mock.clearRequests();
    expect((await withClientCredentials({ ...options, store })(fetch)(mock.resource)).status).toBe(200);
    // The token is still in the store; the binding that leads to it had to be found again.
    expect(mock.requests.map((r) => [r.endpoint, Boolean(r.headers.authorization)])).toEqual([
      ["resource", false],
      ["resource", true],
    ]);
  });

  it("a stored binding for another issuer is ignored when the issuer is pinned", async () => {
    const mock = install();
    const { store, inner, indexKey, bindings } = await warmStore(mock.resource, { issuer: mock.issuer });
    inner.set(indexKey, encodeEntry("bindings", [{ ...bindings[0], issuer: "https://other-auth.example.com" }], Date.now() + 60_000), 60);
    mock.clearRequests();
    const fresh = withClientCredentials({ ...options, issuer: mock.issuer, store })(fetch);
    expect((await fresh(mock.resource)).status).toBe(200);
    expect(mock.requests[0]).toMatchObject({ endpoint: "resource", headers: expect.not.objectContaining({ authorization: expect.anything() }) });
  });

  it("a stored binding outside the configured resourceUrl is ignored", async () => {
    const mock = install();
    const { store, inner, indexKey } = await warmStore(mock.resource, { resourceUrl: mock.resource });
    const outside = {
      boundary: "https://mcp.example.com/elsewhere",
      resource: "https://mcp.example.com/elsewhere",
      issuer: mock.issuer,
      scopes: [],
      boundAt: Date.now(),
    };
    inner.set(indexKey, encodeEntry("bindings", [outside], Date.now() + 60_000), 60);
    mock.clearRequests();
    const fresh = withClientCredentials({ ...options, resourceUrl: mock.resource, store })(fetch);
    await fresh("https://mcp.example.com/elsewhere").catch(() => {});
    expect(mock.requests.every((r) => !r.headers.authorization)).toBe(true);
  });
});
