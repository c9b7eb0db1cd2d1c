// oidc-provider 9 as a real authorization server (issuer with a path), a node:http resource
// that validates its JWT access tokens, and the whole discovery chain run unaided from
// withClientCredentials({ clientId, … })(fetch)(resourceUrl).
import * as jose from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClientCredentialsError, type ClientCredentialsEvent, type ClientCredentialsOptions, type FetchLike, withClientCredentials } from "../../src/index.js";
import { type AuthorizationServer, start as startAuthorizationServer } from "./servers/authorization-server.mjs";
import { type ClientKey, type ClientKeyAlg, generateClientKey, privateKeyJwtClient, randomSecret, secretClient } from "./servers/keys.mjs";
import { type ResourceServer, start as startResourceServer } from "./servers/resource-server.mjs";

const ALGS: ClientKeyAlg[] = ["ES256", "RS256", "PS256", "EdDSA"];
const SHORT_TTL_SECONDS = 4;

let as: AuthorizationServer;
let rs: ResourceServer;
const keys = {} as Record<ClientKeyAlg, ClientKey>;
const secrets = { basic: randomSecret(), post: randomSecret() };

beforeAll(async () => {
  await Promise.all(ALGS.map(async (alg) => (keys[alg] = await generateClientKey(alg))));
  as = await startAuthorizationServer({
    clients: [
      secretClient("basic-client", secrets.basic, "client_secret_basic"),
      secretClient("post-client", secrets.post, "client_secret_post"),
      ...ALGS.map((alg) => privateKeyJwtClient(`jwt-${alg.toLowerCase()}`, keys[alg])),
    ],
  });
  rs = await startResourceServer({ issuer: as.issuer, jwksUri: as.jwksUri, paths: ["/mcp", "/short", "/unknown"] });
  as.addResource(rs.urlFor("/mcp"), { accessTokenTTL: 300 });
  as.addResource(rs.urlFor("/short"), { accessTokenTTL: SHORT_TTL_SECONDS });
  // "/unknown" is a protected resource the authorization server has never heard of.
});

afterAll(async () => {
  await rs?.close();
  await as?.close();
});

// The real reason for a 401/400 from oidc-provider is only on its events: show them when a test fails.
beforeEach(({ onTestFailed }) => {
  const mark = as.events.length;
  onTestFailed(() => console.log("oidc-provider events during this test:", as.events.slice(mark)));
});

function collect() {
  const events: ClientCredentialsEvent[] = [];
  return { events, onEvent: (event: ClientCredentialsEvent) => void events.push(event) };
}

/** A fetch that hands every client assertion it carries to `seen` (ky sends a Request, or init.body). */
function assertionSpy(seen: (assertion: string) => void): FetchLike {
  return async (input, init) => {
    const request = new Request(input, init);
    if (request.method === "POST") {
      const form = new URLSearchParams(await request.clone().text());
      const assertion = form.get("client_assertion");
      if (assertion) seen(assertion);
    }
    return fetch(request);
  };
}

async function expectClientCredentialsError(promise: Promise<unknown>): Promise<ClientCredentialsError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ClientCredentialsError);
  return error as ClientCredentialsError;
}

describe("discovery against oidc-provider with a path issuer", () => {
  it("finds the metadata through the OIDC path-appended form after the two path-inserted forms 404", async () => {
    const { events, onEvent } = collect();
    const authFetch = withClientCredentials({ clientId: "basic-client", clientSecret: secrets.basic, onEvent })(fetch);
    const response = await authFetch(rs.url);
    expect(response.status).toBe(200);

    const origin = new URL(as.issuer).origin;
    const asDiscovery = events.filter((e) => e.type === "discovery" && e.kind === "authorization-server-metadata");
    expect(asDiscovery.map((e) => e.type === "discovery" && [e.url, e.status])).toEqual([
      [`${origin}/.well-known/oauth-authorization-server/oidc`, 404],
      [`${origin}/.well-known/openid-configuration/oidc`, 404],
      [`${origin}/oidc/.well-known/openid-configuration`, 200],
    ]);
    expect(events.find((e) => e.type === "challenge")).toMatchObject({ status: 401, resourceMetadata: [rs.resourceMetadataUrl] });
    expect(events.find((e) => e.type === "discovered")).toMatchObject({
      issuer: as.issuer,
      tokenEndpoint: as.tokenEndpoint,
      authMethod: "client_secret_basic",
    });

    // What oidc-provider advertises, which drives the automatic choices.
    const metadata = (await (await fetch(as.discoveryUrl)).json()) as Record<string, string[]>;
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(["client_secret_basic", "client_secret_post", "private_key_jwt"]));
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(expect.arrayContaining(["ES256", "RS256", "PS256", "EdDSA"]));
  });
});

interface Case {
  name: string;
  clientId: string;
  options: () => Partial<ClientCredentialsOptions>;
  method: "client_secret_basic" | "client_secret_post" | "private_key_jwt";
  alg?: string;
}

const cases: Case[] = [
  {
    name: "client_secret_basic (chosen from metadata)",
    clientId: "basic-client",
    method: "client_secret_basic",
    options: () => ({ clientSecret: secrets.basic }),
  },
  {
    name: "client_secret_post (configured)",
    clientId: "post-client",
    method: "client_secret_post",
    options: () => ({ clientSecret: secrets.post, authMethod: "client_secret_post" }),
  },
  ...ALGS.flatMap((alg): Case[] => [
    {
      name: `private_key_jwt ${alg}, PEM PKCS#8`,
      clientId: `jwt-${alg.toLowerCase()}`,
      method: "private_key_jwt",
      alg,
      // An RSA PEM does not say RS256 or PS256: the PS256 client must say so.
      options: () => ({ privateKey: keys[alg].privateKeyPem, ...(alg === "PS256" ? { algorithm: "PS256" } : {}) }),
    },
    {
      name: `private_key_jwt ${alg}, private JWK (alg + kid)`,
      clientId: `jwt-${alg.toLowerCase()}`,
      method: "private_key_jwt",
      alg,
      options: () => ({ privateKey: keys[alg].privateJwk }),
    },
  ]),
  {
    name: "private_key_jwt ES256, CryptoKey",
    clientId: "jwt-es256",
    method: "private_key_jwt",
    alg: "ES256",
    options: () => ({ privateKey: keys.ES256.privateKey }),
  },
];

describe("each client authentication method, end to end", () => {
  it.each(cases)("$name", async ({ clientId, options, method, alg }) => {
    const { events, onEvent } = collect();
    const assertions: Array<{ header: jose.ProtectedHeaderParameters; claims: jose.JWTPayload }> = [];
    const spy = assertionSpy((assertion) => assertions.push({ header: jose.decodeProtectedHeader(assertion), claims: jose.decodeJwt(assertion) }));
    const authFetch = withClientCredentials({ clientId, ...options(), onEvent } as ClientCredentialsOptions)(spy);

    const response = await authFetch(rs.url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"hello":"world"}' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ ok: true, method: "POST", client_id: clientId, aud: rs.url, iss: as.issuer });

    expect(events.find((e) => e.type === "token-request")).toMatchObject({ authMethod: method, resource: rs.url });
    const token = await authFetch.getToken(rs.url);
    const claims = jose.decodeJwt(token.accessToken);
    expect(claims.aud).toBe(rs.url);
    expect(claims.iss).toBe(as.issuer);
    expect(claims.client_id).toBe(clientId);
    expect(jose.decodeProtectedHeader(token.accessToken)).toMatchObject({ typ: "at+jwt", alg: "ES256" });
    expect(token).toMatchObject({ tokenType: "Bearer", resource: rs.url, issuer: as.issuer });

    if (method === "private_key_jwt") {
      expect(assertions).toHaveLength(1);
      const [{ header, claims: assertion }] = assertions as [(typeof assertions)[number]];
      expect(header.alg).toBe(alg);
      expect(assertion).toMatchObject({ iss: clientId, sub: clientId, aud: as.issuer });
      expect(typeof assertion.jti).toBe("string");
    } else {
      expect(assertions).toHaveLength(0);
    }
  });
});

describe("errors from the authorization server are typed", () => {
  it("an unknown resource is invalid_target (discovered from the resource's own metadata)", async () => {
    const unknown = rs.urlFor("/unknown");
    const authFetch = withClientCredentials({ clientId: "basic-client", clientSecret: secrets.basic, resource: unknown })(fetch);
    const error = await expectClientCredentialsError(authFetch(unknown));
    expect(error).toMatchObject({ phase: "token", code: "invalid_target", status: 400 });
    expect(error.message).not.toContain(secrets.basic);
    expect(as.events.at(-1)).toMatchObject({ type: "grant.error", clientId: "basic-client", error: "invalid_target" });
  });

  it("an unknown resource is invalid_target (static issuer + resource, getToken)", async () => {
    const authFetch = withClientCredentials({ clientId: "jwt-es256", privateKey: keys.ES256.privateJwk, issuer: as.issuer, resource: rs.urlFor("/unknown") })(
      fetch,
    );
    const error = await expectClientCredentialsError(authFetch.getToken());
    expect(error).toMatchObject({ phase: "token", code: "invalid_target", status: 400 });
  });

  it("a wrong client secret is invalid_client", async () => {
    const wrong = "definitely-not-the-secret";
    const authFetch = withClientCredentials({ clientId: "basic-client", clientSecret: wrong })(fetch);
    const error = await expectClientCredentialsError(authFetch(rs.url));
    expect(error).toMatchObject({ phase: "token", code: "invalid_client", status: 401 });
    expect(JSON.stringify(error)).not.toContain(wrong);
    expect(error.message).not.toContain(wrong);
  });

  it("an RSA PEM for a PS256 client needs algorithm: the key alone says RS256 first, which the client did not register", async () => {
    const authFetch = withClientCredentials({ clientId: "jwt-ps256", privateKey: keys.PS256.privateKeyPem })(fetch);
    const error = await expectClientCredentialsError(authFetch(rs.url));
    expect(error).toMatchObject({ phase: "token", code: "invalid_client", status: 401 });
    expect(as.events.at(-1)).toMatchObject({ type: "grant.error", detail: expect.stringContaining("alg mismatch") });
  });

  it("a key the client did not register is invalid_client", async () => {
    const stranger = await generateClientKey("ES256");
    const authFetch = withClientCredentials({ clientId: "jwt-es256", privateKey: stranger.privateKeyPem })(fetch);
    const error = await expectClientCredentialsError(authFetch(rs.url));
    expect(error).toMatchObject({ phase: "token", code: "invalid_client", status: 401 });
  });
});

describe("client assertions are fresh", () => {
  it("several token requests with clearTokens() in between: no replay rejection, every jti unique", async () => {
    const clientId = "jwt-eddsa";
    const captured: string[] = [];
    const spy = assertionSpy((assertion) => captured.push(assertion));
    const mark = as.events.length;
    const authFetch = withClientCredentials({ clientId, privateKey: keys.EdDSA.privateKeyPem })(spy);
    const rounds = 5;
    for (let i = 0; i < rounds; i++) {
      const response = await authFetch(rs.url);
      expect(response.status).toBe(200);
      await authFetch.clearTokens();
    }
    const during = as.events.slice(mark).filter((e) => e.clientId === clientId);
    expect(during.filter((e) => e.type === "grant.success")).toHaveLength(rounds);
    expect(during.filter((e) => e.type === "grant.error")).toEqual([]);
    expect(captured).toHaveLength(rounds);
    expect(new Set(captured.map((assertion) => jose.decodeJwt(assertion).jti)).size).toBe(rounds);

    // The server really does reject a replayed assertion, so the freshness above is meaningful.
    const replay = await fetch(as.tokenEndpoint, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        resource: rs.url,
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: captured[0]!,
      }),
    });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: "invalid_client" });
    expect(as.events.at(-1)).toMatchObject({ type: "grant.error", detail: expect.stringContaining("only be used once") });
  });

  it("concurrent requests share one token request", async () => {
    const { events, onEvent } = collect();
    const authFetch = withClientCredentials({ clientId: "jwt-rs256", privateKey: keys.RS256.privateJwk, onEvent })(fetch);
    const responses = await Promise.all(Array.from({ length: 10 }, () => authFetch(rs.url)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(events.filter((e) => e.type === "token-request")).toHaveLength(1);
  });
});

describe("expiry", () => {
  it(`replaces a ${SHORT_TTL_SECONDS}s token before it expires; the resource never sees an expired token`, { timeout: 30_000 }, async () => {
    const events: Array<ClientCredentialsEvent & { at: number }> = [];
    const onEvent = (event: ClientCredentialsEvent) => void events.push({ ...event, at: Date.now() });
    const short = rs.urlFor("/short");
    const authFetch = withClientCredentials({ clientId: "jwt-es256", privateKey: keys.ES256.privateKeyPem, refreshSkewSeconds: 2, onEvent })(fetch);
    const mark = rs.requests.length;
    const until = Date.now() + 8_500;
    const statuses: number[] = [];
    let lastCall = 0;
    while (Date.now() < until) {
      lastCall = Date.now();
      statuses.push((await authFetch(short)).status);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(statuses.every((status) => status === 200)).toBe(true);

    const seen = rs.requests.slice(mark).filter((r) => r.path === "/short");
    // Only the very first request goes without a token (that is how discovery starts).
    expect(seen[0]).toMatchObject({ token: false, status: 401 });
    const withToken = seen.slice(1);
    expect(withToken.length).toBe(statuses.length);
    expect(withToken.filter((r) => r.status !== 200)).toEqual([]);
    for (const request of withToken) expect(request.exp! * 1000).toBeGreaterThan(request.at);

    // Every token obtained before the last call was used (a new one serves at once); a background
    // refresh the last calls started may still have been out when the loop ended.
    const tokens = new Set(withToken.map((r) => r.jti));
    const obtained = events.filter((e) => e.type === "token-response" && e.ok);
    expect(tokens.size).toBeGreaterThanOrEqual(3);
    expect(tokens.size).toBe(obtained.filter((e, i) => i === 0 || e.at < lastCall).length);
    const requested = events.filter((e) => e.type === "token-request").length;
    expect(requested - tokens.size).toBeLessThanOrEqual(1);
    expect(events.filter((e) => e.type === "cache-miss" && e.reason === "expiring").length).toBe(requested - 1);
    expect(events.filter((e) => e.type === "retry")).toHaveLength(1);
  });
});
