// Odd but harmless input that real servers send: it works, with the behaviour README "Faults"
// documents. (What is refused is in bad-input.test.ts.)
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { type ClientCredentialsEvent, withClientCredentials } from "../src/index.js";
import { CLIENT_ID, CLIENT_SECRET, collectEvents, recordingStore, useMockServer } from "./helpers.js";

const { mock: install } = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
const DAY_MS = 86_400_000;

const tokenResponse = (event: ClientCredentialsEvent[]) =>
  event.find((e) => e.type === "token-response") as Extract<ClientCredentialsEvent, { type: "token-response" }>;

describe("from the resource", () => {
  it.each([
    ["no WWW-Authenticate", undefined],
    ["a garbage WWW-Authenticate", '\u0001@@"unclosed ,,, ='],
  ])("%s on the 401: the well-known metadata location is used", async (_, header) => {
    const mock = install();
    mock.fault("resource", { kind: "status", status: 401, headers: header === undefined ? {} : { "www-authenticate": header } });
    expect((await withClientCredentials(options)(fetch)(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("resource-metadata")).toHaveLength(1);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a challenge for another scheme only (Basic) is not ours: the 401 comes back, nothing else is requested", async () => {
    const mock = install();
    mock.fault("resource", { kind: "status", status: 401, headers: { "www-authenticate": 'Basic realm="x", Negotiate' } });
    expect((await withClientCredentials(options)(fetch)(mock.resource)).status).toBe(401);
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["resource"]);
  });

  it("resource_metadata at another origin that describes this resource is followed (RFC 9728 allows it)", async () => {
    const mock = install(
      { challengeMetadataUrl: false, prmLocations: [] },
      http.get("https://metadata.example.net/mcp", () =>
        HttpResponse.json({ resource: "https://mcp.example.com/mcp", authorization_servers: ["https://auth.example.com"] }),
      ),
    );
    mock.fault("resource", {
      kind: "status",
      status: 401,
      headers: { "www-authenticate": 'Bearer resource_metadata="https://metadata.example.net/mcp"' },
    });
    expect((await withClientCredentials(options)(fetch)(mock.resource)).status).toBe(200);
  });

  it("a resource that refuses every token gets one retry per call, never a loop", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    mock.clearRequests();
    mock.fault("resource", { kind: "status", status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } }, Number.POSITIVE_INFINITY);
    for (let call = 1; call <= 3; call++) {
      expect((await authFetch(mock.resource)).status).toBe(401);
      expect(mock.requestsTo("resource")).toHaveLength(2 * call);
      expect(mock.requestsTo("token")).toHaveLength(call);
    }
  });
});

describe("from protected resource metadata", () => {
  it("JSON served as text/plain is read as JSON", async () => {
    const mock = install(
      {},
      http.get(
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
        () =>
          new HttpResponse(JSON.stringify({ resource: "https://mcp.example.com/mcp", authorization_servers: ["https://auth.example.com"] }), {
            headers: { "content-type": "text/plain" },
          }),
      ),
    );
    expect((await withClientCredentials(options)(fetch)(mock.resource)).status).toBe(200);
  });
});

describe("expires_in", () => {
  it.each([
    ["missing: an hour", null, 3600_000],
    ['a numeric string ("3600", older Entra ID)', "3600", 3600_000],
    ["a fraction of a second over a minute", 60.5, 60_500],
  ] as const)("%s", async (_, value, lifetimeMs) => {
    const mock = install(
      {},
      http.post("https://auth.example.com/token", () =>
        HttpResponse.json({ access_token: "opaque-token", token_type: "bearer", ...(value === null ? {} : { expires_in: value }) }),
      ),
    );
    const { events, onEvent } = collectEvents();
    const before = Date.now();
    const { accessToken } = await withClientCredentials({ ...options, onEvent })(fetch).getToken(mock.resource);
    expect(accessToken).toBe("opaque-token");
    const { expiresAt } = tokenResponse(events);
    expect(expiresAt! - before).toBeGreaterThanOrEqual(lifetimeMs);
    expect(expiresAt! - Date.now()).toBeLessThanOrEqual(lifetimeMs);
  });

  it("absurdly large (1e12 s) is kept for one day, says so in the event, and the store gets a day's TTL", async () => {
    const mock = install({ tokenLifetimeSeconds: 1e12 });
    const { events, onEvent } = collectEvents();
    const { store, tokenWrites } = recordingStore();
    expect((await withClientCredentials({ ...options, store, onEvent })(fetch)(mock.resource)).status).toBe(200);
    const response = tokenResponse(events);
    expect(response.clampedFrom).toBe(1e12);
    expect(response.expiresAt! - Date.now()).toBeLessThanOrEqual(DAY_MS);
    expect(response.expiresAt! - Date.now()).toBeGreaterThan(DAY_MS - 60_000);
    const [write] = tokenWrites();
    expect(write!.ttl).toBeLessThanOrEqual(86_400);
    expect(write!.token.expiresAt).toBe(response.expiresAt);
  });
});

describe("options", () => {
  it.each(["urn:example:mcp", "api://mcp-prod"])(
    "resource %s (not a URL) with resourceUrl: sent as the indicator, tokens go only under resourceUrl",
    async (resource) => {
      const sentResource: Array<string | null> = [];
      const mock = install(
        {},
        // The mock's own token endpoint knows only its URL resource; this one issues for any.
        http.post("https://auth.example.com/token", async ({ request }) => {
          sentResource.push(new URLSearchParams(await request.text()).get("resource"));
          return HttpResponse.json({ access_token: "token-for-the-urn", token_type: "Bearer", expires_in: 600 });
        }),
      );
      const seen: Array<[string, string | null]> = [];
      // A resource that takes any token: the mock's own checks the token's resource against its URL.
      const next = (input: string | URL | Request, init?: RequestInit) => {
        const url = String(input);
        const authorization = new Headers(init?.headers).get("authorization");
        if (!url.startsWith("https://mcp.example.com/") || url.includes("/.well-known/")) return fetch(input, init);
        seen.push([url, authorization]);
        const challenge = `Bearer resource_metadata="${mock.resourceMetadataUrl}"`;
        return Promise.resolve(authorization ? Response.json({ ok: true }) : new Response(null, { status: 401, headers: { "www-authenticate": challenge } }));
      };
      const authFetch = withClientCredentials({ ...options, resource, resourceUrl: mock.resource })(next);
      expect((await authFetch(mock.resource)).status).toBe(200);
      expect(sentResource).toEqual([resource]);
      await authFetch("https://mcp.example.com/other");
      expect(seen).toEqual([
        [mock.resource, null],
        [mock.resource, "Bearer token-for-the-urn"],
        ["https://mcp.example.com/other", null],
      ]);
    },
  );
});
