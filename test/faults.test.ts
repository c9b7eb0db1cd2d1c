// Faults of the authorization server and metadata endpoints (MSW): every one has a bounded,
// documented outcome (README "Faults"), each error is typed, and no canary surfaces.
// The same faults at the socket level (resets, stalls, truncation) are in test/e2e/faults.test.ts.
import { HttpResponse, http } from "msw";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { type ClientCredentialsOptions, type FetchLike, memoryStore, withClientCredentials } from "../src/index.js";
import { faults, type MockFault } from "../src/msw/index.js";
import { type Canaries, canaries, captureConsole, countUnhandled, expectNoLeak } from "./canary.js";
import { collectEvents, recordingStore, rejection, useMockServer } from "./helpers.js";

const { mock: install } = useMockServer();
const consoleOutput = captureConsole();
const unhandled = countUnhandled();
let canary: Canaries;
beforeAll(async () => {
  canary = await canaries();
});

const DAY = 86_400;
const httpDate = (secondsAhead: number) => new Date(Date.now() + secondsAhead * 1000).toUTCString();
const status = (code: number, headers: Record<string, string> = {}, body?: string): MockFault => ({ kind: "status", status: code, headers, body });

interface Fault {
  name: string;
  fault: MockFault;
  times?: number;
  options?: Partial<ClientCredentialsOptions>;
  /** The outcome: a response status, or the error a user gets. */
  expected: { ok: true } | { code: string; message: RegExp; retryAfter?: number };
  tokenRequests: number;
}

const FAULTS: Fault[] = [
  { name: "429, Retry-After: 1 s", fault: faults.rateLimited(1), expected: { ok: true }, tokenRequests: 2 },
  {
    name: "429, Retry-After as an HTTP date 2 s ahead",
    get fault() {
      return status(429, { "retry-after": httpDate(2) }); // dated when the case runs
    },
    expected: { ok: true },
    tokenRequests: 2,
  },
  {
    name: "429, Retry-After: one day",
    fault: faults.rateLimited(DAY),
    expected: {
      code: "retry_later",
      message: /HTTP 429: the server asks to retry after 86400 s, beyond what is left of retryBudgetMs \(10000 ms\)/,
      retryAfter: DAY,
    },
    tokenRequests: 1,
  },
  {
    name: "429, Retry-After as an HTTP date a day ahead",
    get fault() {
      return status(429, { "retry-after": httpDate(DAY) });
    },
    expected: { code: "retry_later", message: /retry after 86(39\d|40\d) s/, retryAfter: DAY },
    tokenRequests: 1,
  },
  {
    name: "503, Retry-After: one day",
    fault: status(503, { "retry-after": String(DAY) }),
    expected: { code: "retry_later", message: /HTTP 503: the server asks to retry after 86400 s/, retryAfter: DAY },
    tokenRequests: 1,
  },
  {
    name: "429, Retry-After: 2 s, beyond retryBudgetMs: 500",
    fault: faults.rateLimited(2),
    options: { retryBudgetMs: 500 },
    expected: { code: "retry_later", message: /retry after 2 s, beyond what is left of retryBudgetMs \(500 ms\)/, retryAfter: 2 },
    tokenRequests: 1,
  },
  {
    name: "429 without Retry-After, every time",
    fault: faults.rateLimited(),
    times: Number.POSITIVE_INFINITY,
    expected: { code: "retry_later", message: /token endpoint answered HTTP 429 without an OAuth error/ },
    tokenRequests: 3,
  },
  ...[500, 502].map(
    (code): Fault => ({
      name: `${code}, every time`,
      fault: faults.serverError(code),
      times: Number.POSITIVE_INFINITY,
      expected: { code: "http_error", message: new RegExp(`token endpoint answered HTTP ${code} without an OAuth error`) },
      tokenRequests: 3,
    }),
  ),
  {
    name: "503 without Retry-After, every time",
    fault: faults.serverError(503),
    times: Number.POSITIVE_INFINITY,
    expected: { code: "retry_later", message: /HTTP 503 without an OAuth error/ },
    tokenRequests: 3,
  },
  {
    name: "503 with an OAuth error (temporarily_unavailable), every time",
    fault: faults.oauthError("temporarily_unavailable", "maintenance", 503),
    times: Number.POSITIVE_INFINITY,
    expected: { code: "retry_later", message: /token request failed: temporarily_unavailable \(maintenance\), HTTP 503/ },
    tokenRequests: 3,
  },
  {
    name: "500 with retries: 10 and retryBudgetMs: 1000 (the budget ends it first)",
    fault: faults.serverError(500),
    times: Number.POSITIVE_INFINITY,
    options: { retries: 10, retryBudgetMs: 1000 },
    expected: { code: "http_error", message: /HTTP 500/ },
    tokenRequests: 3, // waits of 0.3 s and 0.6 s fit in 1 s; a third of 1.2 s does not
  },
  {
    name: "a timeout, every time",
    fault: faults.delay(2000),
    times: Number.POSITIVE_INFINITY,
    options: { timeoutMs: 100 },
    expected: { code: "timeout", message: /request timed out after 100 ms/ },
    tokenRequests: 3,
  },
  { name: "one timeout", fault: faults.delay(2000), options: { timeoutMs: 100 }, expected: { ok: true }, tokenRequests: 2 },
  {
    name: "a connection reset, every time",
    fault: faults.networkError(),
    times: Number.POSITIVE_INFINITY,
    expected: { code: "network_error", message: /request failed: Failed to fetch/ },
    tokenRequests: 3,
  },
  { name: "one connection reset", fault: faults.networkError(), expected: { ok: true }, tokenRequests: 2 },
];

describe.each(["secret", "key"] as const)("token endpoint faults, with a client %s", (kind) => {
  // With a key, one case of each error code: the retries in between say nothing more about where a key could surface.
  const cases = FAULTS.filter(
    (f) => kind === "secret" || ("code" in f.expected && (f.tokenRequests === 1 || ["timeout", "network_error"].includes(f.expected.code))),
  );
  it.each(cases.map((f) => [f.name, f] as const))("%s", async (_, f) => {
    const mock = install({ clients: [canary.client] });
    mock.fault("token", f.fault, f.times ?? 1);
    const { events, onEvent } = collectEvents();
    const { store, writes } = recordingStore();
    const authFetch = withClientCredentials({ ...canary.credentials(kind), store, onEvent, ...f.options })(fetch);
    const started = Date.now();
    let error: unknown;
    if ("ok" in f.expected) {
      expect((await authFetch(mock.resource)).status).toBe(200);
    } else {
      error = await rejection(authFetch(mock.resource));
      const { code, message, retryAfter } = f.expected;
      expect(error).toMatchObject({ phase: "token", code });
      expect((error as Error).message).toMatch(message);
      if (retryAfter) expect((error as { retryAfter: number }).retryAfter).toBeCloseTo(retryAfter, -1);
      else expect(error).toHaveProperty("retryAfter", undefined);
      expect(writes.filter((w) => w.entry.kind === "token")).toEqual([]);
    }
    expect(Date.now() - started).toBeLessThan(15_000); // only a hang or an unbounded wait exceeds it
    expect(mock.requestsTo("token")).toHaveLength(f.tokenRequests);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unhandled.count()).toBe(0);
    const tokens = mock.tokens.map((t) => t.accessToken);
    expectNoLeak({ error, events, console: consoleOutput.output(), storeKeys: writes.map((w) => w.key) }, canary.secrets(), tokens);
  });
});

describe("token endpoint faults", () => {
  it("a DNS failure is a network_error that names its code, after the retries", async () => {
    const mock = install({ clients: [canary.client] });
    let lookups = 0;
    // What undici throws when getaddrinfo fails; loopback-only tests cannot ask a real resolver.
    const next: FetchLike = (input, init) => {
      if (!String(input).startsWith(mock.tokenEndpoint)) return fetch(input, init);
      lookups++;
      const cause = Object.assign(new Error("getaddrinfo ENOTFOUND auth.example.com"), { code: "ENOTFOUND", hostname: "auth.example.com" });
      return Promise.reject(new TypeError("fetch failed", { cause }));
    };
    const error = await rejection(withClientCredentials({ clientId: canary.clientId, clientSecret: canary.clientSecret })(next)(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "network_error", url: mock.tokenEndpoint });
    expect(error.message).toMatch(/request failed: fetch failed \(ENOTFOUND\)/);
    expect(lookups).toBe(3);
  });

  it("a Retry-After is remembered: callers fail at once until it has passed, without asking again; clearTokens() forgets it", async () => {
    const mock = install({ clients: [canary.client] });
    mock.fault("token", faults.rateLimited(60));
    const authFetch = withClientCredentials({ clientId: canary.clientId, clientSecret: canary.clientSecret, retryBudgetMs: 1000 })(fetch);
    expect(await rejection(authFetch(mock.resource))).toMatchObject({ code: "retry_later", retryAfter: 60 });
    const again = await rejection(authFetch(mock.resource));
    expect(again).toMatchObject({ phase: "token", code: "retry_later", status: 429 });
    expect(again.retryAfter).toBeGreaterThan(55);
    expect(again.retryAfter).toBeLessThanOrEqual(60);
    expect(again.message).toMatch(/HTTP 429: the server asked to retry after 60 s; \d+ s to go, and it is not asked again before then/);
    expect(mock.requestsTo("token")).toHaveLength(1);
    authFetch.clearTokens();
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("a remembered Retry-After gives way to a fresh token another instance put in the shared store", async () => {
    const mock = install({ clients: [canary.client] });
    const store = memoryStore();
    const options = { clientId: canary.clientId, clientSecret: canary.clientSecret, store };
    const limited = withClientCredentials(options)(fetch);
    mock.fault("token", faults.rateLimited(3600));
    expect(await rejection(limited(mock.resource))).toMatchObject({ code: "retry_later" });
    expect((await withClientCredentials(options)(fetch)(mock.resource)).status).toBe(200); // another instance, later
    expect((await limited(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("an absurd Retry-After (9999999999 s) is remembered for an hour at most", async () => {
    const mock = install({ clients: [canary.client] });
    mock.fault("token", faults.rateLimited(9_999_999_999));
    const authFetch = withClientCredentials({ clientId: canary.clientId, clientSecret: canary.clientSecret })(fetch);
    expect(await rejection(authFetch(mock.resource))).toMatchObject({ code: "retry_later", retryAfter: 9_999_999_999 });
    const again = await rejection(authFetch(mock.resource));
    expect(again.retryAfter).toBeLessThanOrEqual(3600);
    expect(again.retryAfter).toBeGreaterThan(3500);
  });

  it("the caller's abort ends a Retry-After wait at once, and the retry nobody waits for is not made", async () => {
    const mock = install({ clients: [canary.client] });
    mock.fault("token", faults.rateLimited(1));
    const authFetch = withClientCredentials({ clientId: canary.clientId, clientSecret: canary.clientSecret })(fetch);
    const controller = new AbortController();
    const started = Date.now();
    const pending = authFetch(mock.resource, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(900);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(mock.requestsTo("token")).toHaveLength(1);
    // The next caller is not handed the abandoned request's abort.
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(unhandled.count()).toBe(0);
  });
});

describe("a valid cached token outlives failing servers", () => {
  it("discovery and the token endpoint failing past the discovery TTL and inside the refresh window: requests keep the token", async () => {
    const mock = install({ clients: [canary.client], tokenLifetimeSeconds: 4 });
    const { events, onEvent } = collectEvents();
    const authFetch = withClientCredentials({
      clientId: canary.clientId,
      clientSecret: canary.clientSecret,
      discoveryTtlSeconds: 1,
      retries: 0,
      onEvent, // the refresh window is half the 4 s lifetime: from 2 s on, refreshed in the background; callers wait from 3.5 s
    })(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    for (const endpoint of ["resource-metadata", "authorization-server-metadata"] as const)
      mock.fault(endpoint, faults.serverError(500), Number.POSITIVE_INFINITY);
    mock.fault("token", faults.networkError(), Number.POSITIVE_INFINITY);
    await new Promise((resolve) => setTimeout(resolve, 2200));
    for (let i = 0; i < 5; i++) expect((await authFetch(mock.resource)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the background attempt fails
    const sent = mock.requestsTo("resource").map((r) => r.headers.authorization);
    expect(sent).toEqual([undefined, ...Array(6).fill(`Bearer ${mock.tokens[0]!.accessToken}`)]);
    expect(mock.tokens).toHaveLength(1);
    expect(mock.requestsTo("authorization-server-metadata").length + mock.requestsTo("token").length).toBeGreaterThan(2); // a refresh was tried
    expect(events.some((e) => e.type === "error" && /background refresh failed/.test(e.message))).toBe(true);
    expect(unhandled.count()).toBe(0);
  });

  it("a background refresh told to come back later does not ask again before then, while the token keeps serving", async () => {
    const mock = install({ clients: [canary.client], tokenLifetimeSeconds: 120 }); // refreshed in the background from 60 s on
    const authFetch = withClientCredentials({ clientId: canary.clientId, clientSecret: canary.clientSecret })(fetch);
    const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
    vi.useFakeTimers({ toFake: ["Date"] }); // the clock moves only when told; timers stay real
    try {
      expect((await authFetch(mock.resource)).status).toBe(200);
      mock.fault("token", faults.rateLimited(3600), Number.POSITIVE_INFINITY);
      for (const at of [61, 71, 91]) {
        vi.setSystemTime(mock.tokens[0]!.expiresAt - 120_000 + at * 1000); // past the 5 s pause after a failed refresh each time
        expect((await authFetch(mock.resource)).status).toBe(200);
        await settle();
      }
      expect(mock.requestsTo("token")).toHaveLength(2); // the first token, and one refresh told to wait an hour
    } finally {
      vi.useRealTimers();
    }
  });

  it("a resource that 401s the cached token while the token endpoint is down gets the typed error, not a loop", async () => {
    const mock = install({ clients: [canary.client] });
    const authFetch = withClientCredentials({ clientId: canary.clientId, clientSecret: canary.clientSecret, retries: 0 })(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    mock.revoke();
    mock.fault("token", faults.serverError(503), Number.POSITIVE_INFINITY);
    expect(await rejection(authFetch(mock.resource))).toMatchObject({ phase: "token", code: "retry_later", status: 503 });
    expect(mock.requestsTo("resource")).toHaveLength(3); // 401, 200; then the refused token, and no retry without a new one
    expect(mock.requestsTo("token")).toHaveLength(2);
  });
});

describe("discovery faults", () => {
  it.each([
    ["429 with a day's Retry-After", status(429, { "retry-after": String(DAY) }), "retry_later", 1],
    ["503, every time", faults.serverError(503), "retry_later", 3],
    ["500, every time", faults.serverError(500), "http_error", 3],
  ] as const)("protected resource metadata answering %s", async (_, fault, code, attempts) => {
    const mock = install(
      { clients: [canary.client] },
      http.get("https://mcp.example.com/.well-known/oauth-protected-resource", () => HttpResponse.json({}, { status: 404 })),
    );
    mock.fault("resource-metadata", fault, Number.POSITIVE_INFINITY);
    const error = await rejection(withClientCredentials({ clientId: canary.clientId, clientSecret: canary.clientSecret })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "discovery", code, url: mock.resourceMetadataUrl });
    expect(error.message).toMatch(/HTTP (429|50\d)/);
    expect(mock.requestsTo("resource-metadata")).toHaveLength(attempts);
    expect(mock.requestsTo("token")).toHaveLength(0);
  });
});
