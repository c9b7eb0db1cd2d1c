import { HttpResponse, http } from "msw";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type FetchLike, type TokenStore, withClientCredentials } from "../src/index.js";
import { faults } from "../src/msw/index.js";
import { abortable } from "../src/util.js";
import { CLIENT_ID, CLIENT_SECRET, collectEvents, recordingStore, rejection, useMockServer } from "./helpers.js";

const { mock: install } = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
const echo = (url: string) =>
  http.all(url, ({ request }) =>
    HttpResponse.json(
      { authorization: request.headers.get("authorization") },
      { status: request.headers.has("authorization") ? 200 : 401, headers: { "www-authenticate": "Bearer" } },
    ),
  );

afterEach(() => vi.useRealTimers());

describe("resource: false (no audience binding)", () => {
  it("tokens go only under resourceUrl, never to another site that answers 401 Bearer", async () => {
    const mock = install({}, echo("https://evil.example/x"));
    const authFetch = withClientCredentials({ ...options, tokenEndpoint: mock.tokenEndpoint, resource: false, resourceUrl: mock.resource })(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    const evil = await authFetch("https://evil.example/x");
    expect(evil.status).toBe(401);
    expect(await evil.json()).toEqual({ authorization: null });
    expect(mock.requestsTo("token")).toHaveLength(1);
  });
});

describe("slow or stalled authorization servers", () => {
  it("a token response whose body never ends times out, and later callers are not stuck behind it", async () => {
    let stall = true;
    const mock = install(
      {},
      http.post("https://auth.example.com/token", () => {
        if (!stall) return undefined;
        const body = new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('{"access_token":')) });
        return new HttpResponse(body, { headers: { "content-type": "application/json" } });
      }),
    );
    const authFetch = withClientCredentials({ ...options, timeoutMs: 200, retries: 0 })(fetch);
    const error = await rejection(authFetch(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "timeout" });
    stall = false;
    expect((await authFetch(mock.resource)).status).toBe(200);
  });

  it("a hanging token store costs one storeTimeoutMs, not an outage, and is skipped for a while after", async () => {
    const mock = install();
    let calls = 0;
    const hang = () => {
      calls++;
      return new Promise<never>(() => {});
    };
    const hanging: TokenStore = { get: hang, set: hang, delete: hang };
    const { events, onEvent } = collectEvents();
    const authFetch = withClientCredentials({ ...options, store: hanging, storeTimeoutMs: 100, onEvent })(fetch);
    const started = Date.now();
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls).toBe(1);
    expect(events.filter((e) => e.type === "error").map((e) => e.type === "error" && e.message)).toEqual([
      "token store get failed: TimeoutError (working without it for 5 s)",
    ]);
  });

  it("a caller's abort ends its wait on a slow store at once", async () => {
    const mock = install();
    const slow: TokenStore = { get: () => new Promise(() => {}), set: () => {}, delete: () => {} };
    const authFetch = withClientCredentials({ ...options, store: slow, tokenEndpoint: mock.tokenEndpoint, resource: mock.resource, timeoutMs: 5_000 })(fetch);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("gave up")), 30);
    const started = Date.now();
    await expect(authFetch(mock.resource, { signal: controller.signal })).rejects.toThrow("gave up");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("an abort during the store read ends the wait before any token request, with no unhandled rejection", async () => {
    const mock = install({ clients: [{ clientId: CLIENT_ID, clientSecret: "other" }] });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const slow: TokenStore = { get: () => new Promise((resolve) => setTimeout(() => resolve(undefined), 50)), set: () => {}, delete: () => {} };
      const authFetch = withClientCredentials({ ...options, store: slow, tokenEndpoint: mock.tokenEndpoint, resource: mock.resource })(fetch);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 10);
      await expect(authFetch(mock.resource, { signal: controller.signal })).rejects.toBeDefined();
      // a shared request that fails after its only caller left must not surface as unhandled
      await expect(abortable(Promise.reject(new Error("late failure")), AbortSignal.abort())).rejects.toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(mock.requestsTo("token")).toHaveLength(0);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("hostile responses", () => {
  it.each([
    ["a line break", "abc\ndef"],
    ["non-ASCII", "tök€n"],
    ["a space", "two words"],
  ])("an access_token with %s is refused, without echoing it", async (_name, value) => {
    const mock = install();
    mock.fault("token", { kind: "status", status: 200, body: JSON.stringify({ access_token: value, token_type: "Bearer" }) });
    const error = await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "invalid_token_response" });
    expect(error.message).not.toContain(value);
  });

  it("a challenge listing hundreds of metadata URLs leads to a handful of requests", async () => {
    let requests = 0;
    const urls = Array.from({ length: 300 }, (_, i) => `resource_metadata="https://spam.example/m${i}"`).join(", ");
    const mock = install(
      { prmLocations: [] },
      http.get(/^https:\/\/spam\.example\//, () => {
        requests++;
        return new HttpResponse(null, { status: 404 });
      }),
      http.all("https://mcp.example.com/mcp", () => new HttpResponse(null, { status: 401, headers: { "www-authenticate": `Bearer ${urls}` } })),
    );
    await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(requests).toBeLessThanOrEqual(4);
  });
});

describe("discovery tries every candidate", () => {
  it("a redirecting path-form metadata URL does not hide a valid root form", async () => {
    const mock = install(
      { prmLocations: ["root"], challengeMetadataUrl: false },
      http.get(
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
        () => new HttpResponse(null, { status: 308, headers: { location: "/elsewhere" } }),
      ),
    );
    expect((await withClientCredentials(options)(fetch)(mock.resource)).status).toBe(200);
  });

  it("an invalid first authorization-server document does not hide a valid later one; all invalid reports the first problem", async () => {
    const mock = install(
      { metadataForms: ["openid-inserted"] },
      http.get("https://auth.example.com/.well-known/oauth-authorization-server", () => HttpResponse.json({ issuer: "https://wrong.example" })),
    );
    expect((await withClientCredentials(options)(fetch)(mock.resource)).status).toBe(200);
    install(
      { metadataForms: [] },
      http.get("https://auth.example.com/.well-known/oauth-authorization-server", () => HttpResponse.json({ issuer: "https://wrong.example" })),
    );
    const error = await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(error.code).toBe("issuer_mismatch");
  });
});

describe("scopes from a later challenge", () => {
  it("a static configuration without scope takes the scope a 401 challenge asks for", async () => {
    const mock = install({ challengeScope: "mcp:write", requiredScopes: ["mcp:write"] });
    const authFetch = withClientCredentials({ ...options, issuer: mock.issuer, tokenEndpoint: mock.tokenEndpoint, resource: mock.resource })(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.tokens.map((t) => t.scope)).toEqual(["", "mcp:write"]);
  });
});

describe("what a response says about where it came from", () => {
  it("a fetch that routes through a gateway (response.url on another origin, no redirect) still authenticates", async () => {
    const mock = install();
    const gateway: FetchLike = async (input, init) => {
      const response = await fetch(input, init);
      Object.defineProperty(response, "url", { value: "https://internal-gateway.local:8443/mcp" });
      return response;
    };
    expect((await withClientCredentials(options)(gateway)(mock.resource)).status).toBe(200);
  });

  it("a refused token quoted in a challenge's resource_metadata URL is not fetched, nor shown in any event", async () => {
    const mock = install();
    let refused: string | undefined;
    const next: FetchLike = async (input, init) => {
      const authorization = new Headers(init?.headers).get("authorization");
      if (String(input) === mock.resource && authorization && !refused) {
        refused = authorization.slice("Bearer ".length);
        const challenge = `Bearer resource_metadata="https://mcp.example.com/prm/${refused}"`;
        return new Response(null, { status: 401, headers: { "www-authenticate": challenge } });
      }
      return fetch(input, init);
    };
    const { events, onEvent } = collectEvents();
    const authFetch = withClientCredentials({ ...options, onEvent, tokenEndpoint: mock.tokenEndpoint, resource: mock.resource, issuer: mock.issuer })(next);
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(refused).toBeDefined();
    expect(JSON.stringify(events).includes(refused!)).toBe(false);
    expect(mock.requests.some((r) => r.url.includes(refused!))).toBe(false);
  });

  it("a test that fakes setTimeout after importing the package still completes a cold request", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      expect((await authFetch(mock.resource)).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("clearTokens()", () => {
  it("also forgets tokens it only read from a shared store", async () => {
    const mock = install();
    const { store } = recordingStore();
    await withClientCredentials({ ...options, store })(fetch)(mock.resource);
    const reader = withClientCredentials({ ...options, store })(fetch);
    await reader(mock.resource);
    await reader.clearTokens();
    mock.clearRequests();
    await reader(mock.resource);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a token request in flight during clearTokens() does not write its token back", async () => {
    const mock = install();
    const { store, tokenWrites } = recordingStore();
    const authFetch = withClientCredentials({ ...options, store, tokenEndpoint: mock.tokenEndpoint, resource: mock.resource })(fetch);
    mock.fault("token", faults.delay(200));
    const pending = authFetch.getToken();
    while (mock.requestsTo("token").length === 0) await new Promise((resolve) => setTimeout(resolve, 5)); // the request is out
    await authFetch.clearTokens();
    const old = await pending;
    expect(tokenWrites()).toHaveLength(0);
    const fresh = await authFetch.getToken();
    expect(fresh.accessToken).not.toBe(old.accessToken);
  });

  it("a discovery in flight during clearTokens() does not bring its binding back, here or in the store", async () => {
    const mock = install();
    const { store, writes } = recordingStore();
    const authFetch = withClientCredentials({ ...options, store })(fetch);
    mock.fault("resource-metadata", faults.delay(200));
    const pending = authFetch(mock.resource);
    while (mock.requestsTo("resource-metadata").length === 0) await new Promise((resolve) => setTimeout(resolve, 5)); // discovery under way
    await authFetch.clearTokens();
    expect((await pending).status).toBe(200); // the call itself still completes
    expect(writes.filter((w) => w.entry.kind === "bindings")).toEqual([]);
    mock.clearRequests();
    expect((await authFetch(mock.resource)).status).toBe(200);
    // Discovered afresh: the first request goes without a token and the metadata is fetched again.
    expect(mock.requestsTo("resource")[0]!.headers.authorization).toBeUndefined();
    expect(mock.requestsTo("resource-metadata")).toHaveLength(1);
  });
});

describe("browsers", () => {
  it("an opaque redirect is returned, never sent twice", async () => {
    const mock = install({ resource: "https://mcp.example.com/mcp" });
    const authFetch = withClientCredentials({ ...options, tokenEndpoint: mock.tokenEndpoint, resource: mock.resource })(async (input, init) => {
      if (String(input).endsWith("/mcp/moved")) {
        calls.push(init?.redirect);
        return { type: "opaqueredirect", status: 0, headers: new Headers(), body: null } as unknown as Response;
      }
      return fetch(input, init);
    });
    const calls: Array<RequestRedirect | undefined> = [];
    const response = await authFetch("https://mcp.example.com/mcp/moved", { method: "POST", body: "once" });
    expect(response.type).toBe("opaqueredirect");
    expect(calls).toEqual(["manual"]);
  });
});
