import { decodeJwt, exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { withClientCredentials } from "../src/index.js";
import { CLIENT_ID, CLIENT_SECRET, collectEvents, json, rejection, useMockServer } from "./helpers.js";

const { mock: install } = useMockServer();

describe("discovery from a 401, end to end", () => {
  it("runs 401 → PRM → AS metadata → token → retry with client_secret_basic", async () => {
    const mock = install();
    const authFetch = withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch);
    const response = await authFetch(mock.resource, {
      method: "POST",
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({ ok: true, clientId: CLIENT_ID, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["resource", "resource-metadata", "authorization-server-metadata", "token", "resource"]);
    const token = mock.requestsTo("token")[0]!;
    expect(token.headers.authorization).toMatch(/^Basic /);
    const form = new URLSearchParams(token.body);
    expect(form.get("grant_type")).toBe("client_credentials");
    expect(form.get("resource")).toBe(mock.resource);
    expect(mock.tokens[0]!.authMethod).toBe("client_secret_basic");
  });

  it("uses client_secret_post when the server lists only that", async () => {
    const mock = install({ authMethodsSupported: ["client_secret_post"] });
    const response = await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource);
    expect(response.status).toBe(200);
    const form = new URLSearchParams(mock.requestsTo("token")[0]!.body);
    expect(form.get("client_id")).toBe(CLIENT_ID);
    expect(form.get("client_secret")).toBe(CLIENT_SECRET);
    expect(mock.tokens[0]!.authMethod).toBe("client_secret_post");
  });

  it.each(["ES256", "RS256", "PS256", "EdDSA"])("authenticates with private_key_jwt (%s, PEM) verified by the mock", async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const mock = install({ clients: [{ clientId: "jwt-client", jwks: [{ ...(await exportJWK(publicKey)), alg }] }], signingAlgsSupported: [alg] });
    const authFetch = withClientCredentials({ clientId: "jwt-client", privateKey: await exportPKCS8(privateKey) })(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    const form = new URLSearchParams(mock.requestsTo("token")[0]!.body);
    expect(form.has("client_id")).toBe(false);
    const claims = decodeJwt(form.get("client_assertion")!);
    expect(claims).toMatchObject({ iss: "jwt-client", sub: "jwt-client", aud: mock.issuer });
    expect(mock.tokens[0]!.authMethod).toBe("private_key_jwt");
  });

  it("sends assertions with aud = token endpoint when told to (older servers)", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const mock = install({ clients: [{ clientId: "old", jwks: [await exportJWK(publicKey)] }], assertionAudiences: ["https://auth.example.com/token"] });
    const authFetch = withClientCredentials({ clientId: "old", privateKey, assertionAudience: "token_endpoint" })(fetch);
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(decodeJwt(new URLSearchParams(mock.requestsTo("token")[0]!.body).get("client_assertion")!).aud).toBe(mock.tokenEndpoint);
  });

  it("a server that refuses the default aud yields a typed invalid_client error", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const mock = install({ clients: [{ clientId: "old", jwks: [await exportJWK(publicKey)] }], assertionAudiences: ["https://auth.example.com/token"] });
    const error = await rejection(withClientCredentials({ clientId: "old", privateKey })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "token", status: 401, code: "invalid_client" });
  });
});

describe("protected resource metadata (RFC 9728)", () => {
  it("falls back to the path form when the challenge has no resource_metadata", async () => {
    const mock = install({ challengeMetadataUrl: false });
    expect((await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("resource-metadata").map((r) => r.url)).toEqual(["https://mcp.example.com/.well-known/oauth-protected-resource/mcp"]);
  });

  it("falls back to the root form after the path form 404s", async () => {
    const mock = install({ challengeMetadataUrl: false, prmLocations: ["root"] });
    const { events, onEvent } = collectEvents();
    expect((await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, onEvent })(fetch)(mock.resource)).status).toBe(200);
    const tried = events.filter((e) => e.type === "discovery" && e.kind === "resource-metadata");
    expect(tried.map((e) => e.type === "discovery" && [e.url, e.status])).toEqual([
      ["https://mcp.example.com/.well-known/oauth-protected-resource/mcp", 404],
      ["https://mcp.example.com/.well-known/oauth-protected-resource", 200],
    ]);
  });

  it("tries repeated resource_metadata candidates in order when the first is a 404", async () => {
    const { http, HttpResponse } = await import("msw");
    let mockRef: ReturnType<typeof install> | undefined;
    const mock = install(
      {},
      http.all("https://mcp.example.com/mcp", ({ request }) => {
        if (request.headers.has("authorization")) return undefined; // let the kit check the token
        return new HttpResponse(null, {
          status: 401,
          headers: { "www-authenticate": `Bearer resource_metadata="https://mcp.example.com/gone", resource_metadata="${mockRef!.resourceMetadataUrl}"` },
        });
      }),
    );
    mockRef = mock;
    expect((await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("resource-metadata")).toHaveLength(1);
  });

  it("refuses metadata whose resource does not cover the requested URL", async () => {
    const mock = install({ resourceMetadata: { resource: "https://mcp.example.com/other" } });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "discovery", code: "resource_mismatch" });
    expect(mock.requestsTo("token")).toHaveLength(0);
  });

  it("refuses a resource on another origin and a mere string prefix", async () => {
    for (const resource of ["https://evil.example.com/mcp", "https://mcp.example.com/mc"]) {
      const mock = install({ resourceMetadata: { resource } });
      const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
      expect(error.code).toBe("resource_mismatch");
    }
  });

  it("accepts a resource that is a path prefix and sends it verbatim", async () => {
    const mock = install({ resource: "https://mcp.example.com/" });
    const response = await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)("https://mcp.example.com/mcp/v1?x=1");
    expect(response.status).toBe(200);
    expect(new URLSearchParams(mock.requestsTo("token")[0]!.body).get("resource")).toBe("https://mcp.example.com/");
  });

  it("reports invalid metadata documents as discovery errors naming the field", async () => {
    const mock = install({ resourceMetadata: { resource: 42 } });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "discovery", code: "invalid_resource_metadata" });
    expect(error.message).toContain("resource");
  });

  it.each([
    ["resourceMetadata", { authorization_servers: "https://auth.example.com" }, "authorization_servers: invalid_type", "invalid_resource_metadata"],
    ["resourceMetadata", { scopes_supported: ["mcp:read", 7] }, "scopes_supported: invalid_type", "invalid_resource_metadata"],
    [
      "authorizationServerMetadata",
      { grant_types_supported: "client_credentials" },
      "grant_types_supported: invalid_type",
      "invalid_authorization_server_metadata",
    ],
    [
      "authorizationServerMetadata",
      { token_endpoint_auth_methods_supported: [null] },
      "token_endpoint_auth_methods_supported: invalid_type",
      "invalid_authorization_server_metadata",
    ],
  ])("refuses a %s list that is not a list of strings, naming the field (%#)", async (document, override, named, code) => {
    const mock = install({ [document]: override });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "discovery", code });
    expect(error.message).toContain(named);
    expect(mock.requestsTo("token")).toHaveLength(0);
  });

  it("reports metadata without authorization servers", async () => {
    const mock = install({ resourceMetadata: { authorization_servers: [] } });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
    expect(error.message).toMatch(/no authorization_servers/);
  });

  it("names every URL it tried when no metadata exists", async () => {
    const mock = install({ prmLocations: [], challengeMetadataUrl: false });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "discovery", code: "resource_metadata_not_found" });
    expect(error.message).toContain("/.well-known/oauth-protected-resource/mcp → 404");
  });
});

describe("authorization server metadata (RFC 8414 / OIDC)", () => {
  it.each([
    [["oauth"], "https://auth.example.com/.well-known/oauth-authorization-server/tenant1"],
    [["openid-inserted"], "https://auth.example.com/.well-known/openid-configuration/tenant1"],
    [["openid-appended"], "https://auth.example.com/tenant1/.well-known/openid-configuration"],
  ] as const)("finds %j metadata for an issuer with a path, in MCP priority order", async (forms, found) => {
    const mock = install({ issuer: "https://auth.example.com/tenant1", metadataForms: [...forms] });
    expect((await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource)).status).toBe(200);
    const urls = mock.requestsTo("authorization-server-metadata").map((r) => r.url);
    expect(urls).toEqual([found]);
  });

  it("tries the path-aware URLs in order before finding the appended form", async () => {
    const mock = install({ issuer: "https://auth.example.com/tenant1", metadataForms: ["openid-appended"] });
    const { events, onEvent } = collectEvents();
    await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, onEvent })(fetch)(mock.resource);
    const tried = events.flatMap((e) => (e.type === "discovery" && e.kind === "authorization-server-metadata" ? [e.url] : []));
    expect(tried).toEqual([
      "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
      "https://auth.example.com/.well-known/openid-configuration/tenant1",
      "https://auth.example.com/tenant1/.well-known/openid-configuration",
    ]);
  });

  it("treats a non-JSON 200 (a web app's catch-all page) as absent and tries the next form", async () => {
    const { http, HttpResponse } = await import("msw");
    const mock = install(
      { issuer: "https://auth.example.com/tenant1", metadataForms: ["openid-appended"] },
      http.get("https://auth.example.com/.well-known/oauth-authorization-server/tenant1", () => HttpResponse.html("<!doctype html><title>app</title>")),
    );
    const { events, onEvent } = collectEvents();
    expect((await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, onEvent })(fetch)(mock.resource)).status).toBe(200);
    expect(events.filter((e) => e.type === "discovery" && e.kind === "authorization-server-metadata")).toHaveLength(3);
  });

  it("uses the root OIDC form for a path-less issuer", async () => {
    const mock = install({ metadataForms: ["openid-inserted"] });
    expect((await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("authorization-server-metadata").map((r) => r.url)).toEqual(["https://auth.example.com/.well-known/openid-configuration"]);
  });

  it("refuses metadata whose issuer differs from the one the URL was built from", async () => {
    const mock = install({ authorizationServerMetadata: { issuer: "https://evil.example.com" } });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "discovery", code: "issuer_mismatch" });
    expect(mock.requestsTo("token")).toHaveLength(0);
  });

  it("tolerates a single trailing slash difference in the issuer", async () => {
    const mock = install({ authorizationServerMetadata: { issuer: "https://auth.example.com/" } });
    expect((await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource)).status).toBe(200);
  });

  it("tries the grant once when grant_types_supported lacks client_credentials (RFC 8414: advisory)", async () => {
    const mock = install({ grantTypesSupported: ["authorization_code", "refresh_token"] });
    expect((await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("names what the metadata listed when such a server refuses the grant", async () => {
    const mock = install({ grantTypesSupported: ["authorization_code", "refresh_token"] });
    mock.fault("token", { kind: "oauth-error", error: "unsupported_grant_type", description: "grant not enabled" });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "unsupported_grant_type", description: "grant not enabled", status: 400 });
    expect(error.message).toContain('grant_types_supported ["authorization_code","refresh_token"] without client_credentials');
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("does not blame the metadata for refusals that are not about the grant", async () => {
    const mock = install({ grantTypesSupported: ["authorization_code"] });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: "wrong" })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "invalid_client" });
    expect(error.message).not.toContain("grant_types_supported");
  });

  it("does not blame the metadata when it lists client_credentials", async () => {
    const mock = install();
    mock.fault("token", { kind: "oauth-error", error: "unsupported_grant_type" });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "unsupported_grant_type" });
    expect(error.message).not.toContain("grant_types_supported");
  });

  it("accepts metadata without grant_types_supported", async () => {
    const mock = install({ grantTypesSupported: null });
    expect((await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource)).status).toBe(200);
  });

  it("gives a config error when no auth method fits the credential", async () => {
    const mock = install({ authMethodsSupported: ["private_key_jwt"] });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "config", code: "unsupported_auth_method" });
    expect(error.message).not.toContain(CLIENT_SECRET);
  });

  it("requires https for a non-loopback token endpoint", async () => {
    const mock = install({ authorizationServerMetadata: { token_endpoint: "http://auth.example.com/token" } });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "discovery", code: "insecure_url" });
  });

  it("requires https for a non-loopback issuer unless allowInsecureRequests", async () => {
    const mock = install({ issuer: "http://auth.example.com" });
    const error = await rejection(withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })(fetch)(mock.resource));
    expect(error.code).toBe("insecure_url");
    mock.reset();
    const response = await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, allowInsecureRequests: true })(fetch)(mock.resource);
    expect(response.status).toBe(200);
  });
});
