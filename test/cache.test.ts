import { http } from "msw";
import { afterEach, describe, expect, it, vi } from "vitest";
import { memoryStore, type StoredToken, type TokenStore, withClientCredentials } from "../src/index.js";
import { faults } from "../src/msw/index.js";
import { CLIENT_ID, CLIENT_SECRET, collectEvents, decodeEntry, encodeEntry, recordingStore, useMockServer } from "./helpers.js";

const { mock: install } = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

afterEach(() => vi.useRealTimers());

describe("cache", () => {
  it("a second call reuses the token: no discovery, no token request, no 401", async () => {
    const mock = install();
    const { events, onEvent } = collectEvents();
    const authFetch = withClientCredentials({ ...options, onEvent })(fetch);
    await authFetch(mock.resource);
    mock.clearRequests();
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["resource"]);
    expect(events.filter((e) => e.type === "cache-hit")).toHaveLength(1);
  });

  it("URLs under the same resource share the token; the resource's parent does not get it", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    mock.clearRequests();
    expect((await authFetch(`${mock.resource}/sub/path?q=1`)).status).toBe(200);
    expect(mock.requestsTo("resource")[0]!.headers.authorization).toMatch(/^Bearer /);
  });

  it("replaces a token before it expires (refresh skew), in the background: the caller is served the valid token", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const mock = install({ tokenLifetimeSeconds: 300 });
    const authFetch = withClientCredentials({ ...options, refreshSkewSeconds: 60 })(fetch);
    await authFetch(mock.resource);
    vi.setSystemTime(Date.now() + 230_000); // 70 s left: still fresh
    await authFetch(mock.resource);
    expect(mock.tokens).toHaveLength(1);
    vi.setSystemTime(Date.now() + 20_000); // 50 s left: inside the skew
    mock.fault("token", faults.delay(100));
    await authFetch(mock.resource);
    expect(mock.requestsTo("resource").at(-1)!.headers.authorization).toBe(`Bearer ${mock.tokens[0]!.accessToken}`);
    await vi.waitFor(() => expect(mock.tokens).toHaveLength(2));
    await authFetch(mock.resource);
    expect(mock.requestsTo("resource").at(-1)!.headers.authorization).toBe(`Bearer ${mock.tokens[1]!.accessToken}`);
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("never sends an expired token, even when the resource would accept it (200 with JSON-RPC error servers)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const mock = install({ tokenLifetimeSeconds: 120 });
    const authFetch = withClientCredentials({ ...options, refreshSkewSeconds: 0 })(fetch);
    await authFetch(mock.resource);
    vi.setSystemTime(Date.now() + 121_000);
    mock.clearRequests();
    const first = mock.tokens.length;
    await authFetch(mock.resource);
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["token", "resource"]);
    expect(mock.tokens.length).toBe(first + 1);
  });

  it("caps the skew at half the lifetime when tokens are short-lived", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const mock = install({ tokenLifetimeSeconds: 30 });
    const authFetch = withClientCredentials({ ...options, refreshSkewSeconds: 60 })(fetch);
    await authFetch(mock.resource);
    await authFetch(mock.resource);
    vi.setSystemTime(Date.now() + 10_000);
    await authFetch(mock.resource);
    expect(mock.tokens).toHaveLength(1);
    vi.setSystemTime(Date.now() + 6_000);
    await authFetch(mock.resource);
    expect(mock.tokens).toHaveLength(2);
  });

  it("keeps using a still-valid token when an early refresh fails", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const mock = install({ tokenLifetimeSeconds: 300 });
    const authFetch = withClientCredentials({ ...options, refreshSkewSeconds: 60, retries: 0 })(fetch);
    await authFetch(mock.resource);
    const first = mock.tokens[0]!.accessToken;
    vi.setSystemTime(Date.now() + 250_000);
    mock.fault("token", faults.serverError(503));
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("resource").at(-1)!.headers.authorization).toBe(`Bearer ${first}`);
  });

  it("different scopes are different cache entries", async () => {
    const mock = install();
    const { store, tokenWrites } = recordingStore();
    await withClientCredentials({ ...options, store, scope: "mcp:read" })(fetch)(mock.resource);
    await withClientCredentials({ ...options, store, scope: "mcp:write" })(fetch)(mock.resource);
    await withClientCredentials({ ...options, store, scope: "mcp:write" })(fetch)(mock.resource);
    expect(mock.tokens.map((t) => t.scope)).toEqual(["mcp:read", "mcp:write"]);
    expect(new Set(tokenWrites().map((w) => w.key)).size).toBe(2);
  });

  it("scope order does not change the key: instances sharing a store share the token", async () => {
    const mock = install();
    const store = memoryStore();
    await withClientCredentials({ ...options, store, scope: "mcp:read mcp:write" })(fetch)(mock.resource);
    await withClientCredentials({ ...options, store, scope: ["mcp:write", "mcp:read"] })(fetch)(mock.resource);
    expect(mock.tokens).toHaveLength(1);
  });

  it("store keys are fixed-length hashes with no secret, client id or URL in them", async () => {
    const mock = install();
    const { store, writes } = recordingStore();
    await withClientCredentials({ ...options, store })(fetch)(mock.resource);
    expect(writes.map((w) => w.entry.kind).sort()).toEqual(["authorization-server-metadata", "bindings", "resource-metadata", "token"]);
    for (const { key } of writes) expect(key).toMatch(/^mcc1:[A-Za-z0-9_-]{43}$/);
  });

  it("stores absolute expiry with a TTL matching the token lifetime", async () => {
    const mock = install({ tokenLifetimeSeconds: 90 });
    const { store, tokenWrites } = recordingStore();
    await withClientCredentials({ ...options, store })(fetch)(mock.resource);
    const { token, ttl } = tokenWrites()[0]!;
    expect(ttl).toBeGreaterThanOrEqual(89);
    expect(ttl).toBeLessThanOrEqual(90);
    expect(token.expiresAt - token.obtainedAt).toBe(90_000);
  });

  it("ignores garbage in the store and survives a failing store: the in-process tier serves", async () => {
    const mock = install();
    const { events, onEvent } = collectEvents();
    const broken: TokenStore = {
      get: () => "{not json",
      set: () => Promise.reject(new Error("redis down")),
      delete: () => {
        throw new Error("redis down");
      },
    };
    const authFetch = withClientCredentials({ ...options, store: broken, onEvent })(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(events.some((e) => e.type === "error" && /token store set failed: Error/.test(e.message))).toBe(true);
    mock.clearRequests();
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["resource"]);
  });
});

describe("one request at a time", () => {
  it("100 concurrent cold requests: one PRM fetch, one AS metadata fetch, one token request", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => authFetch(`${mock.resource}?call=${i}`, { method: "POST", body: String(i) })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(mock.requestsTo("resource-metadata")).toHaveLength(1);
    expect(mock.requestsTo("authorization-server-metadata")).toHaveLength(1);
    expect(mock.requestsTo("token")).toHaveLength(1);
    // The cold gate: one 401, then every request once, with the token.
    expect(mock.requestsTo("resource").filter((r) => !r.headers.authorization)).toHaveLength(1);
    expect(mock.requestsTo("resource")).toHaveLength(101);
    const bodies = await Promise.all(responses.map(async (r) => ((await r.json()) as { body: string }).body));
    expect(bodies).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  });

  it("concurrent cold requests to different paths under one resource share one discovery", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => authFetch(`${mock.resource}/tool/${i}`)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(mock.requestsTo("resource-metadata")).toHaveLength(1);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("100 concurrent getToken() calls with static config make one token request", async () => {
    const mock = install();
    const authFetch = withClientCredentials({ ...options, tokenEndpoint: mock.tokenEndpoint, resource: mock.resource })(fetch);
    const tokens = await Promise.all(Array.from({ length: 100 }, () => authFetch.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a caller's abort ends its own wait at once and never cancels the shared request", async () => {
    const mock = install();
    mock.fault("token", faults.delay(200));
    const authFetch = withClientCredentials({ ...options, tokenEndpoint: mock.tokenEndpoint, resource: mock.resource })(fetch);
    const controller = new AbortController();
    const aborted = authFetch(mock.resource, { signal: controller.signal });
    const patient = authFetch(mock.resource);
    setTimeout(() => controller.abort(new Error("caller gave up")), 20);
    const started = Date.now();
    await expect(aborted).rejects.toThrow("caller gave up");
    expect(Date.now() - started).toBeLessThan(150);
    expect((await patient).status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("an already-aborted signal rejects without a token request", async () => {
    const mock = install();
    const authFetch = withClientCredentials({ ...options, tokenEndpoint: mock.tokenEndpoint, resource: mock.resource })(fetch);
    await expect(authFetch(mock.resource, { signal: AbortSignal.abort() })).rejects.toThrow();
    expect(mock.requestsTo("token")).toHaveLength(0);
  });
});

describe("401 handling", () => {
  it("a rejected token is evicted, replaced once, and the request retried once", async () => {
    const mock = install();
    const { events, onEvent } = collectEvents();
    const authFetch = withClientCredentials({ ...options, onEvent })(fetch);
    await authFetch(mock.resource);
    mock.revoke();
    const response = await authFetch(mock.resource, { method: "POST", body: "again" });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { body: string }).body).toBe("again");
    expect(mock.tokens).toHaveLength(2);
    expect(events.filter((e) => e.type === "retry")).toHaveLength(2);
    // discovery is not repeated
    expect(mock.requestsTo("resource-metadata")).toHaveLength(1);
  });

  it("never loops: a resource that rejects every token gets one retry, then its 401 is returned", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    mock.clearRequests();
    mock.fault("resource", { kind: "status", status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } }, 10);
    const response = await authFetch(mock.resource);
    expect(response.status).toBe(401);
    expect(mock.requestsTo("resource")).toHaveLength(2);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a 401 without a Bearer challenge on an unauthenticated request is returned as is", async () => {
    const mock = install();
    mock.fault("resource", { kind: "status", status: 401, headers: { "www-authenticate": 'Basic realm="x"' } });
    const response = await withClientCredentials(options)(fetch)(mock.resource);
    expect(response.status).toBe(401);
    expect(mock.requests).toHaveLength(1);
  });

  it("evicts only the token that was rejected, not one another instance already put in its place", async () => {
    const { store, inner, tokenWrites } = recordingStore();
    let replacement: StoredToken | undefined;
    const mock = install(
      {},
      http.all("https://mcp.example.com/mcp", ({ request }) => {
        // Another instance replaces the token in the shared store while ours is being rejected.
        if (replacement && request.headers.get("authorization") === `Bearer ${mock.tokens[0]!.accessToken}`)
          inner.set(tokenWrites()[0]!.key, encodeEntry("token", replacement, replacement.expiresAt), 60);
        return undefined;
      }),
    );
    const a = withClientCredentials({ ...options, store })(fetch);
    await a(mock.resource);
    const other = withClientCredentials(options)(fetch);
    replacement = { ...(await other.getToken(mock.resource)), obtainedAt: Date.now() };
    mock.revoke(mock.tokens[0]!.accessToken);
    mock.clearRequests();
    expect((await a(mock.resource)).status).toBe(200);
    expect(mock.tokens).toHaveLength(2); // no third token: the replacement was kept and used
    expect(mock.requestsTo("resource").map((r) => r.headers.authorization)).toEqual([
      `Bearer ${mock.tokens[0]!.accessToken}`,
      `Bearer ${replacement.accessToken}`,
    ]);
    expect(decodeEntry<StoredToken>(inner.get(tokenWrites()[0]!.key))?.data.accessToken).toBe(replacement.accessToken);
  });
});
