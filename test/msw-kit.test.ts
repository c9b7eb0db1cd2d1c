import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createMcpAuthMock, faults, type McpAuthMock, type McpAuthMockOptions } from "../src/msw/index.js";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => {
  server.resetHandlers();
  vi.useRealTimers();
});
afterAll(() => server.close());

const ISSUER = "https://auth.example.com";
const RESOURCE = "https://mcp.example.com/mcp";
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** Installs the kit's handlers followed by a 404 catch-all (so nothing reaches the network). */
function install(options: McpAuthMockOptions): McpAuthMock {
  const mock = createMcpAuthMock(options);
  server.resetHandlers(
    ...mock.handlers,
    http.all("*", () => new HttpResponse(null, { status: 404 })),
  );
  return mock;
}

const secretClient = { clientId: "ci-bot", clientSecret: "s3cret" };

/** RFC 6749 §2.3.1 / Appendix B: form-urlencode, then base64 of the UTF-8 bytes. */
function basic(id: string, secret: string, encode = true): string {
  const enc = (s: string) => (encode ? encodeURIComponent(s).replace(/%20/g, "+") : s);
  const bytes = new TextEncoder().encode(`${enc(id)}:${enc(secret)}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

function postToken(mock: McpAuthMock, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(mock.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(params).toString(),
  });
}

async function getToken(mock: McpAuthMock, extra: Record<string, string> = {}): Promise<string> {
  const res = await postToken(mock, { grant_type: "client_credentials", ...extra }, { authorization: basic("ci-bot", "s3cret") });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function expectOAuthError(res: Response, status: number, error: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(((await res.json()) as { error: string }).error).toBe(error);
}

interface KeyPair {
  privateKey: CryptoKey;
  publicJwk: JsonWebKey;
}
async function keyPair(alg = "ES256"): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { privateKey, publicJwk: (await exportJWK(publicKey)) as JsonWebKey };
}

function assertion(
  key: CryptoKey,
  opts: { id?: string; aud?: string | string[]; alg?: string; iat?: number; exp?: number; claims?: JWTPayload } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const id = opts.id ?? "jwt-bot";
  return new SignJWT({ jti: crypto.randomUUID(), ...opts.claims })
    .setProtectedHeader({ alg: opts.alg ?? "ES256" })
    .setIssuer(id)
    .setSubject(id)
    .setAudience(opts.aud ?? ISSUER)
    .setIssuedAt(opts.iat ?? now)
    .setExpirationTime(opts.exp ?? now + 60)
    .sign(key);
}

function jwtParams(jwt: string, extra: Record<string, string> = {}): Record<string, string> {
  return { grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: jwt, ...extra };
}

describe("authorization server metadata", () => {
  it("serves the RFC 8414 form for a path-less issuer with the documented defaults", async () => {
    const mock = install({ clients: [secretClient] });
    const res = await fetch(`${ISSUER}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/token`,
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
      token_endpoint_auth_signing_alg_values_supported: ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"],
      grant_types_supported: ["client_credentials"],
      scopes_supported: ["mcp:read", "mcp:write"],
      response_types_supported: [],
    });
    expect(mock.tokenEndpoint).toBe(`${ISSUER}/token`);
    expect((await fetch(`${ISSUER}/.well-known/openid-configuration`)).status).toBe(404);
    expect(mock.requestsTo("authorization-server-metadata")).toHaveLength(1);
  });

  it("serves all three forms for an issuer with a path, and nothing at the root", async () => {
    const issuer = "https://auth.example.com/tenant1";
    const mock = install({ clients: [secretClient], issuer, metadataForms: ["oauth", "openid-inserted", "openid-appended"] });
    for (const url of [
      "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
      "https://auth.example.com/.well-known/openid-configuration/tenant1",
      "https://auth.example.com/tenant1/.well-known/openid-configuration",
    ]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      expect(await res.json()).toMatchObject({ issuer, token_endpoint: `${issuer}/token` });
    }
    expect((await fetch("https://auth.example.com/.well-known/oauth-authorization-server")).status).toBe(404);
    expect(mock.tokenEndpoint).toBe("https://auth.example.com/tenant1/token");
  });

  it("only answers the enabled forms", async () => {
    install({ clients: [secretClient], issuer: "https://auth.example.com/t", metadataForms: ["openid-appended"] });
    expect((await fetch("https://auth.example.com/t/.well-known/openid-configuration")).status).toBe(200);
    expect((await fetch("https://auth.example.com/.well-known/openid-configuration/t")).status).toBe(404);
    expect((await fetch("https://auth.example.com/.well-known/oauth-authorization-server/t")).status).toBe(404);
  });

  it("removes a terminating slash of the issuer path when building URLs (RFC 8414 §3.1)", async () => {
    const mock = install({ clients: [secretClient], issuer: "https://auth.example.com/t1/" });
    expect(mock.tokenEndpoint).toBe("https://auth.example.com/t1/token");
    const res = await fetch("https://auth.example.com/.well-known/oauth-authorization-server/t1");
    expect(((await res.json()) as { issuer: string }).issuer).toBe("https://auth.example.com/t1/");
  });

  it("omits null fields and merges authorizationServerMetadata over the document", async () => {
    install({
      clients: [secretClient],
      authMethodsSupported: null,
      signingAlgsSupported: null,
      grantTypesSupported: null,
      authorizationServerMetadata: { issuer: "https://evil.example.com", extra: 1 },
    });
    const doc = (await (await fetch(`${ISSUER}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(doc).not.toHaveProperty("token_endpoint_auth_methods_supported");
    expect(doc).not.toHaveProperty("token_endpoint_auth_signing_alg_values_supported");
    expect(doc).not.toHaveProperty("grant_types_supported");
    expect(doc).toMatchObject({ issuer: "https://evil.example.com", extra: 1, token_endpoint: `${ISSUER}/token` });
  });
});

describe("protected resource metadata", () => {
  it("serves the path form by default and not the root form", async () => {
    const mock = install({ clients: [secretClient], scopesSupported: ["a", "b"] });
    expect(mock.resourceMetadataUrl).toBe("https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
    const res = await fetch(mock.resourceMetadataUrl);
    expect(await res.json()).toEqual({
      resource: RESOURCE,
      authorization_servers: [ISSUER],
      scopes_supported: ["a", "b"],
      bearer_methods_supported: ["header"],
    });
    expect((await fetch("https://mcp.example.com/.well-known/oauth-protected-resource")).status).toBe(404);
  });

  it("serves only the root form when asked, merged with resourceMetadata", async () => {
    const mock = install({ clients: [secretClient], prmLocations: ["root"], resourceMetadata: { resource: "https://evil.example.com" } });
    expect((await fetch(mock.resourceMetadataUrl)).status).toBe(404);
    const res = await fetch("https://mcp.example.com/.well-known/oauth-protected-resource");
    expect(await res.json()).toMatchObject({ resource: "https://evil.example.com", authorization_servers: [ISSUER] });
  });

  it("uses no path suffix for a root resource, and the resource does not swallow well-known URLs", async () => {
    const mock = install({ clients: [secretClient], resource: "https://mcp.example.com/", issuer: "https://mcp.example.com", prmLocations: ["path"] });
    expect(mock.resourceMetadataUrl).toBe("https://mcp.example.com/.well-known/oauth-protected-resource");
    expect((await fetch(mock.resourceMetadataUrl)).status).toBe(200);
    expect((await fetch("https://mcp.example.com/.well-known/openid-configuration")).status).toBe(404);
    expect((await fetch("https://mcp.example.com/anything")).status).toBe(401);
    const token = await getToken(mock);
    expect(mock.requestsTo("token")).toHaveLength(1);
    expect((await fetch("https://mcp.example.com/x/y", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});

describe("token endpoint: client secrets", () => {
  it("accepts client_secret_basic and issues a recorded token", async () => {
    const mock = install({ clients: [secretClient] });
    const before = Date.now();
    const res = await postToken(
      mock,
      { grant_type: "client_credentials", scope: "mcp:read", resource: RESOURCE },
      { authorization: basic("ci-bot", "s3cret") },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ access_token: expect.any(String), token_type: "Bearer", expires_in: 3600, scope: "mcp:read" });
    expect(mock.tokens).toHaveLength(1);
    const [token] = mock.tokens;
    expect(token).toMatchObject({
      accessToken: body.access_token,
      clientId: "ci-bot",
      authMethod: "client_secret_basic",
      scope: "mcp:read",
      resource: RESOURCE,
    });
    expect(token?.expiresAt).toBeGreaterThanOrEqual(before + 3600_000);
    expect(token?.expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);
  });

  it("form-urldecodes Basic credentials: ':' '%' '+' and non-ASCII survive, raw values do not", async () => {
    const client = { clientId: "bot id:é", clientSecret: "sécret:%+ü" };
    const mock = install({ clients: [client] });
    const ok = await postToken(mock, { grant_type: "client_credentials" }, { authorization: basic(client.clientId, client.clientSecret) });
    expect(ok.status).toBe(200);
    expect(mock.tokens[0]?.clientId).toBe("bot id:é");
    const raw = await postToken(mock, { grant_type: "client_credentials" }, { authorization: basic(client.clientId, client.clientSecret, false) });
    await expectOAuthError(raw, 401, "invalid_client");
  });

  it("decodes Basic credentials as UTF-8 (non-ASCII sent without percent-encoding)", async () => {
    const mock = install({ clients: [{ clientId: "é", clientSecret: "ü€" }] });
    const bytes = new TextEncoder().encode("é:ü€");
    const authorization = `Basic ${btoa(String.fromCharCode(...bytes))}`;
    expect((await postToken(mock, { grant_type: "client_credentials" }, { authorization })).status).toBe(200);
  });

  it("treats '+' in Basic credentials as a space", async () => {
    const mock = install({ clients: [{ clientId: "a", clientSecret: "two words" }] });
    const authorization = `Basic ${btoa("a:two+words")}`;
    expect((await postToken(mock, { grant_type: "client_credentials" }, { authorization })).status).toBe(200);
  });

  it("rejects a wrong Basic secret with 401 invalid_client and a Basic challenge", async () => {
    const mock = install({ clients: [secretClient] });
    const res = await postToken(mock, { grant_type: "client_credentials" }, { authorization: basic("ci-bot", "wrong") });
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm="[^"]+"$/);
    await expectOAuthError(res, 401, "invalid_client");
    expect(mock.tokens).toHaveLength(0);
  });

  it("accepts client_secret_post and rejects a wrong or missing client_id/secret", async () => {
    const mock = install({ clients: [secretClient] });
    const ok = await postToken(mock, { grant_type: "client_credentials", client_id: "ci-bot", client_secret: "s3cret" });
    expect(ok.status).toBe(200);
    expect(mock.tokens[0]?.authMethod).toBe("client_secret_post");
    await expectOAuthError(await postToken(mock, { grant_type: "client_credentials", client_id: "ci-bot", client_secret: "nope" }), 401, "invalid_client");
    await expectOAuthError(await postToken(mock, { grant_type: "client_credentials", client_secret: "s3cret" }), 401, "invalid_client");
    await expectOAuthError(await postToken(mock, { grant_type: "client_credentials", client_id: "other", client_secret: "s3cret" }), 401, "invalid_client");
  });

  it("enforces the client's authMethods", async () => {
    const mock = install({ clients: [{ ...secretClient, authMethods: ["client_secret_post"] }] });
    const res = await postToken(mock, { grant_type: "client_credentials" }, { authorization: basic("ci-bot", "s3cret") });
    await expectOAuthError(res, 401, "invalid_client");
    expect((await postToken(mock, { grant_type: "client_credentials", client_id: "ci-bot", client_secret: "s3cret" })).status).toBe(200);
  });

  it("rejects two authentication methods (invalid_request) and none (invalid_client)", async () => {
    const mock = install({ clients: [secretClient] });
    const both = await postToken(
      mock,
      { grant_type: "client_credentials", client_id: "ci-bot", client_secret: "s3cret" },
      { authorization: basic("ci-bot", "s3cret") },
    );
    await expectOAuthError(both, 400, "invalid_request");
    await expectOAuthError(await postToken(mock, { grant_type: "client_credentials", client_id: "ci-bot" }), 401, "invalid_client");
  });
});

describe("token endpoint: private_key_jwt", () => {
  async function jwtMock(extra: Partial<McpAuthMockOptions> = {}, alg = "ES256") {
    const key = await keyPair(alg);
    const mock = install({ clients: [{ clientId: "jwt-bot", jwks: [key.publicJwk] }], ...extra });
    return { mock, key };
  }

  it("accepts a valid assertion without client_id in the body", async () => {
    const { mock, key } = await jwtMock();
    const res = await postToken(mock, jwtParams(await assertion(key.privateKey)));
    expect(res.status).toBe(200);
    expect(mock.tokens[0]).toMatchObject({ clientId: "jwt-bot", authMethod: "private_key_jwt", scope: "" });
    expect(await res.json()).not.toHaveProperty("scope");
  });

  it("checks aud against assertionAudiences (string or array)", async () => {
    const { mock, key } = await jwtMock();
    await expectOAuthError(await postToken(mock, jwtParams(await assertion(key.privateKey, { aud: mock.tokenEndpoint }))), 401, "invalid_client");
    expect((await postToken(mock, jwtParams(await assertion(key.privateKey, { aud: ["https://x.example", ISSUER] })))).status).toBe(200);
    const legacy = await jwtMock({ assertionAudiences: [ISSUER, `${ISSUER}/token`] });
    expect((await postToken(legacy.mock, jwtParams(await assertion(legacy.key.privateKey, { aud: legacy.mock.tokenEndpoint })))).status).toBe(200);
  });

  it("rejects a replayed jti until reset()", async () => {
    const { mock, key } = await jwtMock();
    const jwt = await assertion(key.privateKey);
    expect((await postToken(mock, jwtParams(jwt))).status).toBe(200);
    const replay = await postToken(mock, jwtParams(jwt));
    await expectOAuthError(replay.clone(), 401, "invalid_client");
    expect(((await replay.json()) as { error_description: string }).error_description).toMatch(/jti/);
    mock.reset();
    expect((await postToken(mock, jwtParams(jwt))).status).toBe(200);
  });

  it("rejects expired assertions, lifetimes over 5 minutes, and a missing jti or iat", async () => {
    const { mock, key } = await jwtMock();
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      await assertion(key.privateKey, { iat: now - 600, exp: now - 300 }),
      await assertion(key.privateKey, { iat: now, exp: now + 301 }),
      await new SignJWT({})
        .setProtectedHeader({ alg: "ES256" })
        .setIssuer("jwt-bot")
        .setSubject("jwt-bot")
        .setAudience(ISSUER)
        .setIssuedAt()
        .setExpirationTime("1m")
        .sign(key.privateKey),
      await new SignJWT({ jti: "x" })
        .setProtectedHeader({ alg: "ES256" })
        .setIssuer("jwt-bot")
        .setSubject("jwt-bot")
        .setAudience(ISSUER)
        .setExpirationTime("1m")
        .sign(key.privateKey),
    ];
    for (const jwt of cases) await expectOAuthError(await postToken(mock, jwtParams(jwt)), 401, "invalid_client");
    expect((await postToken(mock, jwtParams(await assertion(key.privateKey, { iat: now, exp: now + 300 })))).status).toBe(200);
  });

  it("rejects an assertion signed by another key, or with iss/sub of another client", async () => {
    const { mock } = await jwtMock();
    const other = await keyPair();
    await expectOAuthError(await postToken(mock, jwtParams(await assertion(other.privateKey))), 401, "invalid_client");
    await expectOAuthError(await postToken(mock, jwtParams(await assertion(other.privateKey, { id: "nobody" }))), 401, "invalid_client");
  });

  it("requires a body client_id to match the assertion", async () => {
    const { mock, key } = await jwtMock();
    await expectOAuthError(await postToken(mock, jwtParams(await assertion(key.privateKey), { client_id: "someone-else" })), 401, "invalid_client");
    expect((await postToken(mock, jwtParams(await assertion(key.privateKey), { client_id: "jwt-bot" }))).status).toBe(200);
  });

  it("rejects a wrong client_assertion_type", async () => {
    const { mock, key } = await jwtMock();
    const params = { ...jwtParams(await assertion(key.privateKey)), client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer" };
    await expectOAuthError(await postToken(mock, params), 401, "invalid_client");
  });

  it("enforces signingAlgsSupported, and accepts RS256 and EdDSA by default", async () => {
    const restricted = await jwtMock({ signingAlgsSupported: ["RS256"] });
    await expectOAuthError(await postToken(restricted.mock, jwtParams(await assertion(restricted.key.privateKey))), 401, "invalid_client");
    const rsa = await jwtMock({}, "RS256");
    expect((await postToken(rsa.mock, jwtParams(await assertion(rsa.key.privateKey, { alg: "RS256" })))).status).toBe(200);
    const ed = await jwtMock({}, "EdDSA");
    expect((await postToken(ed.mock, jwtParams(await assertion(ed.key.privateKey, { alg: "EdDSA" })))).status).toBe(200);
  });

  it("tries every matching key when the assertion has no kid, and strips private JWK members", async () => {
    const first = await keyPair();
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const privateJwk = (await exportJWK(privateKey)) as JsonWebKey;
    expect(privateJwk.d).toBeDefined();
    const mock = install({ clients: [{ clientId: "jwt-bot", jwks: { keys: [first.publicJwk, privateJwk] } }] });
    expect((await postToken(mock, jwtParams(await assertion(privateKey)))).status).toBe(200);
    expect((await postToken(mock, jwtParams(await assertion(first.privateKey)))).status).toBe(200);
    expect(publicKey.type).toBe("public");
  });
});

describe("token endpoint: grant, resource and scope", () => {
  it("rejects other grant types and a missing grant_type", async () => {
    const mock = install({ clients: [secretClient] });
    const auth = { authorization: basic("ci-bot", "s3cret") };
    await expectOAuthError(await postToken(mock, { grant_type: "password" }, auth), 400, "unsupported_grant_type");
    await expectOAuthError(await postToken(mock, {}, auth), 400, "invalid_request");
  });

  it("answers invalid_scope for a scope the client may not get", async () => {
    const mock = install({ clients: [{ ...secretClient, scopes: ["mcp:read"] }] });
    const auth = { authorization: basic("ci-bot", "s3cret") };
    await expectOAuthError(await postToken(mock, { grant_type: "client_credentials", scope: "mcp:read mcp:write" }, auth), 400, "invalid_scope");
    await expectOAuthError(await postToken(mock, { grant_type: "client_credentials", scope: "admin" }, auth), 400, "invalid_scope");
    expect(mock.tokens).toHaveLength(0);
  });

  it("answers invalid_target for another resource, and without one when required", async () => {
    const mock = install({ clients: [secretClient], requireResourceIndicator: true });
    const auth = { authorization: basic("ci-bot", "s3cret") };
    await expectOAuthError(await postToken(mock, { grant_type: "client_credentials", resource: `${RESOURCE}/` }, auth), 400, "invalid_target");
    await expectOAuthError(await postToken(mock, { grant_type: "client_credentials" }, auth), 400, "invalid_target");
    expect((await postToken(mock, { grant_type: "client_credentials", resource: RESOURCE }, auth)).status).toBe(200);
  });

  it("omits expires_in when tokenLifetimeSeconds is null and uses tokenType", async () => {
    const mock = install({ clients: [secretClient], tokenLifetimeSeconds: null, tokenType: "bearer" });
    const res = await postToken(mock, { grant_type: "client_credentials" }, { authorization: basic("ci-bot", "s3cret") });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty("expires_in");
    expect(body.token_type).toBe("bearer");
    expect(mock.tokens[0]?.expiresAt).toBeGreaterThan(Date.now() + 3599_000);
  });

  it("answers 405 to GET and 400 to a JSON body", async () => {
    const mock = install({ clients: [secretClient] });
    const get = await fetch(mock.tokenEndpoint);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const json = await fetch(mock.tokenEndpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: basic("ci-bot", "s3cret") },
      body: JSON.stringify({ grant_type: "client_credentials" }),
    });
    await expectOAuthError(json, 400, "invalid_request");
  });
});

describe("protected resource", () => {
  it("challenges a request without a token with resource_metadata", async () => {
    const mock = install({ clients: [secretClient] });
    const res = await fetch(RESOURCE, { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${mock.resourceMetadataUrl}"`);
  });

  it("adds challengeScope and can leave out resource_metadata", async () => {
    install({ clients: [secretClient], challengeScope: "mcp:read mcp:write" });
    expect((await fetch(RESOURCE)).headers.get("www-authenticate")).toBe(
      'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:read mcp:write"',
    );
    install({ clients: [secretClient], challengeMetadataUrl: false });
    expect((await fetch(RESOURCE)).headers.get("www-authenticate")).toBe("Bearer");
  });

  it("answers 200 with an echo for a valid token on the resource and below it, not beside it", async () => {
    const mock = install({ clients: [secretClient] });
    const token = await getToken(mock, { scope: "mcp:write" });
    const res = await fetch(`${RESOURCE}/sub/path?q=1`, { method: "PUT", headers: { authorization: `Bearer ${token}` }, body: "hello" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, method: "PUT", path: "/mcp/sub/path", clientId: "ci-bot", scope: "mcp:write", body: "hello" });
    expect((await fetch("https://mcp.example.com/mcpx", { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  });

  it("answers invalid_token for an unknown token", async () => {
    const mock = install({ clients: [secretClient] });
    const res = await fetch(RESOURCE, { headers: { authorization: "Bearer not-a-token" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(`Bearer error="invalid_token", resource_metadata="${mock.resourceMetadataUrl}"`);
  });

  it("answers invalid_token once the token expires (Date.now())", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const mock = install({ clients: [secretClient], tokenLifetimeSeconds: 60 });
    const token = await getToken(mock);
    const headers = { authorization: `Bearer ${token}` };
    expect((await fetch(RESOURCE, { headers })).status).toBe(200);
    vi.setSystemTime(Date.now() + 60_000);
    const res = await fetch(RESOURCE, { headers });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("answers 403 insufficient_scope listing every required scope", async () => {
    const mock = install({ clients: [secretClient], requiredScopes: ["mcp:read", "mcp:write"] });
    const partial = await getToken(mock, { scope: "mcp:read" });
    const res = await fetch(RESOURCE, { headers: { authorization: `Bearer ${partial}` } });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBe(
      `Bearer error="insufficient_scope", scope="mcp:read mcp:write", resource_metadata="${mock.resourceMetadataUrl}"`,
    );
    const full = await getToken(mock, { scope: "mcp:write mcp:read" });
    expect((await fetch(RESOURCE, { headers: { authorization: `Bearer ${full}` } })).status).toBe(200);
  });

  it("revokes one token, then all tokens issued so far", async () => {
    const mock = install({ clients: [secretClient] });
    const [a, b] = [await getToken(mock), await getToken(mock)];
    const status = async (t: string) => (await fetch(RESOURCE, { headers: { authorization: `Bearer ${t}` } })).status;
    mock.revoke(a);
    expect([await status(a), await status(b)]).toEqual([401, 200]);
    mock.revoke();
    expect(await status(b)).toBe(401);
    expect(await status(await getToken(mock))).toBe(200);
  });
});

describe("faults", () => {
  it("rateLimited answers 429 with Retry-After once, then normal behaviour resumes", async () => {
    const mock = install({ clients: [secretClient] });
    mock.fault("token", faults.rateLimited(7));
    const limited = await postToken(mock, { grant_type: "client_credentials" }, { authorization: basic("ci-bot", "s3cret") });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(mock.tokens).toHaveLength(0);
    await getToken(mock);
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("serverError and raw status faults apply `times` times, in queue order", async () => {
    const mock = install({ clients: [secretClient] });
    mock.fault("resource-metadata", faults.serverError(), 2);
    mock.fault("resource-metadata", { kind: "status", status: 418, headers: { "x-teapot": "1" }, body: "short and stout" });
    mock.fault("resource-metadata", faults.serverError(503));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(mock.resourceMetadataUrl)).status);
    expect(statuses).toEqual([500, 500, 418, 503, 200]);
    mock.fault("resource-metadata", { kind: "status", status: 418, headers: { "x-teapot": "1" }, body: "short and stout" });
    const teapot = await fetch(mock.resourceMetadataUrl);
    expect(teapot.headers.get("x-teapot")).toBe("1");
    expect(await teapot.text()).toBe("short and stout");
  });

  it("oauthError answers an OAuth error JSON with status 400 or the given one", async () => {
    const mock = install({ clients: [secretClient] });
    mock.fault("token", faults.oauthError("temporarily_unavailable", "try later"));
    mock.fault("token", faults.oauthError("invalid_client", undefined, 401));
    const first = await postToken(mock, { grant_type: "client_credentials" }, { authorization: basic("ci-bot", "s3cret") });
    expect(first.status).toBe(400);
    expect(await first.json()).toEqual({ error: "temporarily_unavailable", error_description: "try later" });
    const second = await postToken(mock, { grant_type: "client_credentials" }, { authorization: basic("ci-bot", "s3cret") });
    expect(second.status).toBe(401);
    expect(await second.json()).toEqual({ error: "invalid_client" });
  });

  it("malformedJson answers 200 JSON-typed garbage", async () => {
    const mock = install({ clients: [secretClient] });
    mock.fault("authorization-server-metadata", faults.malformedJson());
    const res = await fetch(`${ISSUER}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    await expect(res.json()).rejects.toThrow(SyntaxError);
    expect(mock.requestsTo("authorization-server-metadata")).toHaveLength(1);
  });

  it("networkError makes fetch reject, and the request is still recorded", async () => {
    const mock = install({ clients: [secretClient] });
    mock.fault("resource", faults.networkError());
    await expect(fetch(RESOURCE)).rejects.toThrow(TypeError);
    expect(mock.requestsTo("resource")).toHaveLength(1);
    expect((await fetch(RESOURCE)).status).toBe(401);
  });

  it("delay waits, then answers normally", async () => {
    const mock = install({ clients: [secretClient] });
    mock.fault("resource", faults.delay(150));
    const started = performance.now();
    const res = await fetch(RESOURCE);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(res.status).toBe(401);
  });

  it("accepts times = Infinity and rejects a non-positive times", async () => {
    const mock = install({ clients: [secretClient] });
    expect(() => mock.fault("token", faults.serverError(), 0)).toThrow(RangeError);
    mock.fault("resource", faults.serverError(502), Infinity);
    for (let i = 0; i < 3; i++) expect((await fetch(RESOURCE)).status).toBe(502);
    mock.reset();
    expect((await fetch(RESOURCE)).status).toBe(401);
  });
});

describe("recording and reset", () => {
  it("records every request in order with lower-cased headers and the body", async () => {
    const mock = install({ clients: [secretClient] });
    await fetch(RESOURCE, { method: "POST", headers: { "X-Trace-Id": "abc" }, body: '{"jsonrpc":"2.0"}' });
    await fetch(mock.resourceMetadataUrl);
    await fetch(`${ISSUER}/.well-known/oauth-authorization-server`);
    await getToken(mock);
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["resource", "resource-metadata", "authorization-server-metadata", "token"]);
    expect(mock.requests[0]).toMatchObject({ method: "POST", url: RESOURCE, body: '{"jsonrpc":"2.0"}' });
    expect(mock.requests[0]?.headers["x-trace-id"]).toBe("abc");
    expect(mock.requestsTo("token")[0]?.body).toBe("grant_type=client_credentials");
    expect(mock.requestsTo("token")[0]?.headers.authorization).toMatch(/^Basic /);
    expect(mock.requestsTo("resource-metadata")).toHaveLength(1);
  });

  it("reset() forgets requests, tokens (which stop working) and faults", async () => {
    const mock = install({ clients: [secretClient] });
    const token = await getToken(mock);
    mock.fault("token", faults.serverError());
    mock.reset();
    expect(mock.requests).toEqual([]);
    expect(mock.tokens).toEqual([]);
    expect((await fetch(RESOURCE, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    await getToken(mock);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });
});

describe("configuration errors", () => {
  it("throws on duplicate clients, impossible authMethods and identifiers with a query", () => {
    expect(() => createMcpAuthMock({ clients: [secretClient, secretClient] })).toThrow(/duplicate/);
    expect(() => createMcpAuthMock({ clients: [{ ...secretClient, authMethods: ["private_key_jwt"] }] })).toThrow(/jwks/);
    expect(() => createMcpAuthMock({ clients: [], issuer: "https://auth.example.com/?x=1" })).toThrow(/query/);
    expect(() => createMcpAuthMock({ clients: [], resource: "mcp" })).toThrow(/absolute/);
  });
});
