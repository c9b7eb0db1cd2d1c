import { delay, HttpResponse, http } from "msw";
import { describe, expect, it, vi } from "vitest";
import { memoryStore, type TokenStore, withClientCredentials } from "../src/index.js";
import { faults } from "../src/msw/index.js";
import { CLIENT_ID, CLIENT_SECRET, collectEvents, rejection, useMockServer } from "./helpers.js";

// Two tiers and single-flight across instances that share a store. A fleet in one process: each
// withClientCredentials() instance has its own memory tier, as separate processes would.
const { mock: install, server } = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });

/** A store that counts calls per method and can hide its locks. */
function countingStore({ locks = true } = {}) {
  const inner = memoryStore();
  const calls = { get: 0, set: 0, delete: 0, acquire: 0, release: 0 };
  const count = <T>(name: keyof typeof calls, result: T): T => {
    calls[name]++;
    return result;
  };
  const store: TokenStore = {
    get: (key) => count("get", inner.get(key)),
    set: (key, value, ttl) => count("set", inner.set(key, value, ttl)),
    delete: (key) => count("delete", inner.delete(key)),
    ...(locks
      ? {
          acquire: (key: string, owner: string, ttl: number) => count("acquire", inner.acquire(key, owner, ttl)),
          release: (key: string, owner: string) => count("release", inner.release(key, owner)),
        }
      : {}),
  };
  return { store, inner, calls };
}

describe("a fleet sharing one store", () => {
  it("5 cold instances × 20 concurrent calls: one token request in all", async () => {
    const mock = install();
    mock.fault("token", faults.delay(100), Infinity); // every instance reaches the token step while the first is out
    const { store } = countingStore();
    const fleet = Array.from({ length: 5 }, () => withClientCredentials({ ...options, store })(fetch));
    const responses = await Promise.all(fleet.flatMap((authFetch) => Array.from({ length: 20 }, () => authFetch(mock.resource, { method: "POST", body }))));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect(mock.requestsTo("token")).toHaveLength(1);
    const sent = new Set(mock.requestsTo("resource").flatMap((r) => (r.headers.authorization ? [r.headers.authorization] : [])));
    expect(sent).toEqual(new Set([`Bearer ${mock.tokens[0]!.accessToken}`]));
  });

  it("without locks, instances started later reuse the stored token (no single-flight, still shared)", async () => {
    const mock = install();
    const { store } = countingStore({ locks: false });
    for (let i = 0; i < 3; i++) expect((await withClientCredentials({ ...options, store })(fetch)(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a fresh instance on a warm store sends its first request already authorized: no 401, no discovery, no token request", async () => {
    const mock = install();
    const { store } = countingStore();
    await withClientCredentials({ ...options, store })(fetch)(mock.resource);
    mock.clearRequests();
    const { events, onEvent } = collectEvents();
    const fresh = withClientCredentials({ ...options, store, onEvent })(fetch);
    expect((await fresh(mock.resource, { method: "POST", body })).status).toBe(200);
    expect(mock.requests.map((r) => [r.endpoint, Boolean(r.headers.authorization)])).toEqual([["resource", true]]);
    expect(events.filter((e) => e.type === "cache-hit").map((e) => e.type === "cache-hit" && e.tier)).toEqual(["store"]);
  });

  it("a call holding a fresh token never touches the store", async () => {
    const mock = install();
    const { store, calls } = countingStore();
    const authFetch = withClientCredentials({ ...options, store })(fetch);
    await authFetch(mock.resource);
    const before = { ...calls };
    for (let i = 0; i < 10; i++) await authFetch(mock.resource);
    expect(calls).toEqual(before);
  });

  it("a lock holder that never releases: a waiter takes over once the lock expires", async () => {
    const mock = install();
    const { store, inner } = countingStore();
    let ghost = true;
    const haunted: TokenStore = {
      ...store,
      // The first lock asked for is already held by an instance that died (600 ms left on it).
      acquire: (key, owner, ttl) => {
        if (ghost) {
          ghost = false;
          inner.acquire(key, "dead-instance", 600);
        }
        return inner.acquire(key, owner, ttl);
      },
    };
    const started = Date.now();
    expect((await withClientCredentials({ ...options, store: haunted })(fetch)(mock.resource)).status).toBe(200);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(550);
    expect(waited).toBeLessThan(5_000);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a holder whose token request fails releases at once: a waiting instance tries itself", async () => {
    let first = true;
    const mock = install(
      {},
      http.post("https://auth.example.com/token", async () => {
        if (!first) return undefined;
        first = false;
        await delay(150); // long enough for the second instance to be waiting on the lock
        return HttpResponse.json({ error: "temporarily_unavailable" }, { status: 400 });
      }),
    );
    const { store } = countingStore();
    const a = withClientCredentials({ ...options, store })(fetch);
    const b = withClientCredentials({ ...options, store })(fetch);
    const [failed, succeeded] = await Promise.allSettled([a(mock.resource), delay(30).then(() => b(mock.resource))]);
    expect(failed.status).toBe("rejected");
    expect(succeeded.status === "fulfilled" && succeeded.value.status).toBe(200);
    expect(mock.tokens).toHaveLength(1);
  });

  it("a 401 for the fleet's token: each instance evicts it, one new token replaces it everywhere", async () => {
    const mock = install();
    const { store } = countingStore();
    const fleet = Array.from({ length: 3 }, () => withClientCredentials({ ...options, store })(fetch));
    for (const authFetch of fleet) await authFetch(mock.resource);
    expect(mock.tokens).toHaveLength(1);
    mock.revoke(mock.tokens[0]!.accessToken);
    const statuses = await Promise.all(fleet.map((authFetch) => authFetch(mock.resource).then((r) => r.status)));
    expect(statuses).toEqual([200, 200, 200]);
    expect(mock.tokens).toHaveLength(2);
  });

  it("each instance's own failures stay its own: a token error reaches every waiting caller as a typed error", async () => {
    const mock = install({ clients: [{ clientId: CLIENT_ID, clientSecret: "something else" }] });
    const { store } = countingStore();
    const fleet = Array.from({ length: 3 }, () => withClientCredentials({ ...options, store, retries: 0 })(fetch));
    const errors = await Promise.all(fleet.map((authFetch) => rejection(authFetch(mock.resource))));
    for (const error of errors) expect(error).toMatchObject({ phase: "token", code: "invalid_client" });
    expect(mock.requestsTo("token").length).toBeLessThanOrEqual(3);
  });
});

describe("background refresh", () => {
  // 100 s tokens with a 40 s skew: fresh for 60 s, refreshed in the background from 60 s to 90 s
  // (the last quarter of the window, 90–100 s, waits), expired at 100 s.
  const skewed = { ...options, refreshSkewSeconds: 40 };
  const at = (ms: number, start: number) => vi.setSystemTime(start + ms);

  it("a caller inside the refresh window never waits on the token endpoint, and only one refresh runs", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const mock = install({ tokenLifetimeSeconds: 100 });
    const authFetch = withClientCredentials(skewed)(fetch);
    await authFetch(mock.resource);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.use(
      http.post(mock.tokenEndpoint, async () => {
        await held; // then on to the mock's token endpoint
      }),
    );
    at(70_000, start);
    const responses = await Promise.all(Array.from({ length: 20 }, () => authFetch(mock.resource, { method: "POST", body })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const first = `Bearer ${mock.tokens[0]!.accessToken}`;
    expect(
      mock
        .requestsTo("resource")
        .slice(-20)
        .every((r) => r.headers.authorization === first),
    ).toBe(true);
    release();
    await vi.waitFor(() => expect(mock.requestsTo("token")).toHaveLength(2));
    await authFetch(mock.resource);
    expect(mock.requestsTo("resource").at(-1)!.headers.authorization).toBe(`Bearer ${mock.tokens[1]!.accessToken}`);
    expect(mock.requestsTo("token")).toHaveLength(2);
    vi.useRealTimers();
  });

  it("a failing background refresh keeps serving the valid token, reports it, and is not retried on every call", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const mock = install({ tokenLifetimeSeconds: 100 });
    const { events, onEvent } = collectEvents();
    const authFetch = withClientCredentials({ ...skewed, retries: 0, onEvent })(fetch);
    await authFetch(mock.resource);
    mock.fault("token", faults.serverError(503), Infinity);
    at(65_000, start);
    for (let i = 0; i < 10; i++) expect((await authFetch(mock.resource)).status).toBe(200);
    await vi.waitFor(() => expect(events.some((e) => e.type === "error" && /background refresh failed/.test(e.message))).toBe(true));
    for (let i = 0; i < 10; i++) expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(2); // the first token, one failed refresh: backing off
    at(71_000, start); // past the back-off: one more try
    await authFetch(mock.resource);
    await vi.waitFor(() => expect(mock.requestsTo("token")).toHaveLength(3));
    vi.useRealTimers();
  });

  it("hands the background refresh to waitUntil, so a serverless runtime keeps it alive past the response", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const mock = install({ tokenLifetimeSeconds: 100 });
    const kept: Promise<unknown>[] = [];
    const authFetch = withClientCredentials({ ...skewed, waitUntil: (promise) => void kept.push(promise) })(fetch);
    await authFetch(mock.resource);
    expect(kept).toHaveLength(0);
    at(70_000, start);
    await authFetch(mock.resource);
    await authFetch(mock.resource);
    expect(kept).toHaveLength(1);
    await kept[0];
    expect(mock.requestsTo("token")).toHaveLength(2);
    await expect(rejection(Promise.resolve().then(() => withClientCredentials({ ...options, waitUntil: "no" as never })))).resolves.toMatchObject({
      phase: "config",
      message: expect.stringMatching(/waitUntil must be a function/),
    });
    vi.useRealTimers();
  });

  it("a waitUntil that throws costs an error event, never the request", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const mock = install({ tokenLifetimeSeconds: 100 });
    const { events, onEvent } = collectEvents();
    const waitUntil = () => {
      throw new Error("waitUntil called outside a request context");
    };
    const authFetch = withClientCredentials({ ...skewed, waitUntil, onEvent })(fetch);
    await authFetch(mock.resource);
    at(70_000, start);
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(events.some((e) => e.type === "error" && /waitUntil failed: Error/.test(e.message))).toBe(true);
    await vi.waitFor(() => expect(mock.tokens).toHaveLength(2)); // the refresh itself went on
    vi.useRealTimers();
  });

  it("a background refresh that never ends (a runtime froze it) is given up: callers do not wait on it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const mock = install({ tokenLifetimeSeconds: 100 });
    const authFetch = withClientCredentials({ ...skewed, timeoutMs: 100_000, retries: 0, storeTimeoutMs: 1000 })(fetch);
    await authFetch(mock.resource);
    let hung = 0;
    const hang = () => {
      hung++;
      return new Promise<never>(() => {});
    };
    server.use(http.post(mock.tokenEndpoint, hang, { once: true })); // the refresh hangs
    at(61_000, start);
    await authFetch(mock.resource); // starts the refresh, which never answers
    await vi.waitFor(() => expect(hung).toBe(1));
    // Past the last quarter of the window callers wait; the frozen refresh (older than its
    // attempts: 3 s of store calls + 100 s) would hold them forever, so they start their own.
    at(61_000 + 104_000, start); // expired by now, too
    const response = await authFetch(mock.resource);
    expect(response.status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(2); // the first token, then the caller's own
    vi.useRealTimers();
  });

  it("a background refresh also refreshes authorization server metadata past its TTL (the hot path never asks for it)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const mock = install({ tokenLifetimeSeconds: 100 });
    const authFetch = withClientCredentials({ ...skewed, discoveryTtlSeconds: 30 })(fetch);
    await authFetch(mock.resource);
    expect(mock.requestsTo("authorization-server-metadata")).toHaveLength(1);
    at(70_000, start);
    await authFetch(mock.resource);
    await vi.waitFor(() => expect(mock.requestsTo("token")).toHaveLength(2));
    await vi.waitFor(() => expect(mock.requestsTo("authorization-server-metadata")).toHaveLength(2));
    vi.useRealTimers();
  });

  it("past three quarters of the window callers wait for the new token; an expired token is never sent", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const mock = install({ tokenLifetimeSeconds: 100 });
    const authFetch = withClientCredentials(skewed)(fetch);
    await authFetch(mock.resource);
    at(95_000, start);
    await authFetch(mock.resource);
    expect(mock.requestsTo("token")).toHaveLength(2);
    expect(mock.requestsTo("resource").at(-1)!.headers.authorization).toBe(`Bearer ${mock.tokens[1]!.accessToken}`);
    vi.useRealTimers();
  });

  it("instances sharing a store: the refreshed token is published, and the other instance refreshes from the store", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const mock = install({ tokenLifetimeSeconds: 100 });
    const { store } = countingStore();
    const [a, b] = [withClientCredentials({ ...skewed, store })(fetch), withClientCredentials({ ...skewed, store })(fetch)];
    await a(mock.resource);
    await b(mock.resource);
    at(70_000, start);
    await a(mock.resource);
    await vi.waitFor(() => expect(mock.requestsTo("token")).toHaveLength(2));
    await b(mock.resource); // in its window too: its background refresh finds a's token in the store
    await vi.waitFor(async () => {
      await b(mock.resource);
      expect(mock.requestsTo("resource").at(-1)!.headers.authorization).toBe(`Bearer ${mock.tokens[1]!.accessToken}`);
    });
    expect(mock.requestsTo("token")).toHaveLength(2);
    vi.useRealTimers();
  });
});
