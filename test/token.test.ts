import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { withClientCredentials } from "../src/index.js";
import { faults } from "../src/msw/index.js";
import { CLIENT_ID, CLIENT_SECRET, collectEvents, rejection, useMockServer } from "./helpers.js";

const { mock: install } = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
const tokenForm = (mock: ReturnType<typeof install>, index = 0) => new URLSearchParams(mock.requestsTo("token")[index]!.body);

describe("scope: option > challenge > PRM scopes_supported > none", () => {
  it("the option wins over challenge and metadata", async () => {
    const mock = install({ challengeScope: "mcp:write", scopesSupported: ["mcp:read", "mcp:write", "admin"] });
    await withClientCredentials({ ...options, scope: ["mcp:read", "admin"] })(fetch)(mock.resource);
    expect(tokenForm(mock).get("scope")).toBe("mcp:read admin");
  });

  it("the challenge scope wins over metadata", async () => {
    const mock = install({ challengeScope: "mcp:write" });
    await withClientCredentials(options)(fetch)(mock.resource);
    expect(tokenForm(mock).get("scope")).toBe("mcp:write");
  });

  it("PRM scopes_supported is used when nothing else says", async () => {
    const mock = install({ scopesSupported: ["mcp:read", "mcp:write"] });
    await withClientCredentials(options)(fetch)(mock.resource);
    expect(tokenForm(mock).get("scope")).toBe("mcp:read mcp:write");
  });

  it("no scope parameter when nobody names one", async () => {
    const mock = install({ scopesSupported: [], resourceMetadata: { scopes_supported: undefined } });
    await withClientCredentials(options)(fetch)(mock.resource);
    expect(tokenForm(mock).has("scope")).toBe(false);
  });

  it("a space-separated option string is split and de-duplicated", async () => {
    const mock = install();
    await withClientCredentials({ ...options, scope: "  mcp:read   mcp:read mcp:write " })(fetch)(mock.resource);
    expect(tokenForm(mock).get("scope")).toBe("mcp:read mcp:write");
  });
});

describe("resource indicator (RFC 8707)", () => {
  it("resource: false omits the parameter", async () => {
    const mock = install();
    expect((await withClientCredentials({ ...options, resource: false, resourceUrl: mock.resource })(fetch)(mock.resource)).status).toBe(200);
    expect(tokenForm(mock).has("resource")).toBe(false);
  });

  it("a resource string overrides the discovered one", async () => {
    const mock = install({ resource: "https://mcp.example.com/mcp" });
    await withClientCredentials({ ...options, resource: "https://mcp.example.com/" })(fetch)(mock.resource).catch(() => undefined);
    expect(tokenForm(mock).get("resource")).toBe("https://mcp.example.com/");
  });

  it("surfaces invalid_target as a typed token error", async () => {
    const mock = install({ resourceMetadata: { resource: "https://mcp.example.com/mcp/" } });
    const error = await rejection(withClientCredentials(options)(fetch)("https://mcp.example.com/mcp/x"));
    expect(error).toMatchObject({ phase: "token", status: 400, code: "invalid_target" });
    expect(mock.requestsTo("token")).toHaveLength(1);
  });
});

describe("token responses are untrusted", () => {
  it("a 200 carrying an error is an error", async () => {
    const mock = install();
    mock.fault("token", {
      kind: "status",
      status: 200,
      headers: { "content-type": "application/json" },
      body: '{"error":"invalid_scope","error_description":"nope"}',
    });
    const error = await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "token", status: 200, code: "invalid_scope", description: "nope" });
  });

  it("compares token_type case-insensitively", async () => {
    const mock = install({ tokenType: "bearer" });
    const authFetch = withClientCredentials(options)(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect((await authFetch.getToken(mock.resource)).tokenType).toBe("bearer");
  });

  it("refuses token types other than Bearer", async () => {
    const mock = install({ tokenType: "DPoP" });
    const error = await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "unsupported_token_type" });
  });

  it("a missing expires_in means the documented default of 3600 s", async () => {
    const mock = install({ tokenLifetimeSeconds: null });
    const authFetch = withClientCredentials(options)(fetch);
    const before = Date.now();
    const token = await authFetch.getToken(mock.resource);
    expect(token.expiresAt).toBeGreaterThanOrEqual(before + 3600_000);
    expect(token.expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);
  });

  it("expiry is absolute: obtained time + expires_in", async () => {
    const mock = install({ tokenLifetimeSeconds: 120 });
    const before = Date.now();
    const token = await withClientCredentials(options)(fetch).getToken(mock.resource);
    expect(token.expiresAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(token.expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
    expect(token).not.toHaveProperty("obtainedAt");
  });

  it.each([
    ["not JSON", faults.malformedJson(), "invalid_token_response", /not JSON/],
    ["missing access_token", { kind: "status", status: 200, body: '{"token_type":"Bearer"}' } as const, "invalid_token_response", /access_token/],
    [
      "negative expires_in",
      { kind: "status", status: 200, body: '{"access_token":"a","token_type":"Bearer","expires_in":-5}' } as const,
      "invalid_token_response",
      /expires_in/,
    ],
    ["an array", { kind: "status", status: 200, body: "[]" } as const, "invalid_token_response", /root/],
  ])("a token response that is %s is a typed error", async (_name, fault, code, message) => {
    const mock = install();
    mock.fault("token", fault);
    const error = await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "token", code });
    expect(error.message).toMatch(message);
  });

  it("accepts expires_in as a numeric string", async () => {
    const mock = install();
    mock.fault("token", { kind: "status", status: 200, body: '{"access_token":"tok","token_type":"Bearer","expires_in":"60"}' });
    const token = await withClientCredentials(options)(fetch).getToken(mock.resource);
    expect(token.expiresAt - Date.now()).toBeLessThanOrEqual(60_000);
  });

  it("OAuth errors carry status, code and description", async () => {
    const mock = install({ clients: [{ clientId: CLIENT_ID, clientSecret: "the-right-one" }] });
    const error = await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(error).toMatchObject({ name: "ClientCredentialsError", phase: "token", status: 401, code: "invalid_client" });
    expect(error.message).toMatch(/^\[token\] token request failed: invalid_client/);
  });

  it("redacts a secret the server echoes and strips control characters", async () => {
    const mock = install();
    mock.fault("token", faults.oauthError("invalid_client", `secret ${CLIENT_SECRET} is wrong\u0000\u001b[31m`, 401));
    const error = await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(error.description).toBe("secret [redacted] is wrong [31m");
    expect(JSON.stringify(error)).not.toContain(CLIENT_SECRET);
    expect(error.message).not.toContain(CLIENT_SECRET);
  });

  it("a non-OAuth error status is reported with its status", async () => {
    const mock = install();
    mock.fault("token", { kind: "status", status: 418, body: "teapot" });
    const error = await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "token", status: 418 });
  });
});

describe("static configuration skips discovery", () => {
  it("issuer + tokenEndpoint + resource: the first request already carries a token", async () => {
    const mock = install();
    const authFetch = withClientCredentials({ ...options, issuer: mock.issuer, tokenEndpoint: mock.tokenEndpoint, resource: mock.resource })(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["token", "resource"]);
    expect(mock.requestsTo("resource")[0]!.headers.authorization).toMatch(/^Bearer /);
  });

  it("issuer + resource: only authorization server metadata is fetched", async () => {
    const mock = install();
    const authFetch = withClientCredentials({ ...options, issuer: mock.issuer, resource: mock.resource })(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["authorization-server-metadata", "token", "resource"]);
  });

  it("tokenEndpoint alone: PRM gives the resource, no AS metadata fetched", async () => {
    const mock = install();
    const authFetch = withClientCredentials({ ...options, tokenEndpoint: mock.tokenEndpoint })(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["resource", "resource-metadata", "token", "resource"]);
  });

  it("a configured issuer pins the authorization server", async () => {
    const mock = install();
    const error = await rejection(withClientCredentials({ ...options, issuer: "https://other-auth.example.com" })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "discovery", code: "issuer_not_allowed" });
    expect(mock.requestsTo("token")).toHaveLength(0);
  });

  it("with a configured resource, other URLs pass through untouched", async () => {
    const mock = install(
      {},
      http.get("https://elsewhere.example.com/api", ({ request }) =>
        HttpResponse.json(
          { auth: request.headers.get("authorization") },
          { status: 401, headers: { "www-authenticate": 'Bearer resource_metadata="https://elsewhere.example.com/prm"' } },
        ),
      ),
    );
    const authFetch = withClientCredentials({ ...options, resource: mock.resource })(fetch);
    const response = await authFetch("https://elsewhere.example.com/api");
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ auth: null });
    expect(mock.requests).toHaveLength(0);
  });

  it("validates static URLs up front", () => {
    expect(() => withClientCredentials({ ...options, resource: "http://mcp.example.com/mcp", issuer: "https://a.example" })(fetch)).toThrow(/must use https/);
    expect(() => withClientCredentials({ ...options, resource: "not a url", issuer: "https://a.example" })(fetch)).toThrow(/not a valid absolute URL/);
  });

  it("getToken() without a URL uses static configuration, and says what is missing otherwise", async () => {
    const mock = install();
    const token = await withClientCredentials({ ...options, tokenEndpoint: mock.tokenEndpoint, resource: false, resourceUrl: mock.resource })(fetch).getToken();
    expect(token.accessToken).toBe(mock.tokens[0]!.accessToken);
    expect(tokenForm(mock).has("resource")).toBe(false);
    const error = await rejection(withClientCredentials(options)(fetch).getToken());
    expect(error).toMatchObject({ phase: "config", code: "invalid_config" });
  });

  it("getToken(url) discovers through the well-known locations without a request to the resource", async () => {
    const mock = install();
    const { events, onEvent } = collectEvents();
    const token = await withClientCredentials({ ...options, onEvent })(fetch).getToken(mock.resource);
    expect(token).toMatchObject({ tokenType: "Bearer", resource: mock.resource, issuer: mock.issuer });
    expect(mock.requestsTo("resource")).toHaveLength(0);
    expect(events.some((e) => e.type === "discovered")).toBe(true);
  });
});
