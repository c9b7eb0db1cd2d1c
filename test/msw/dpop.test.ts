// The MSW kit's DPoP (src/msw/dpop.ts): proofs verified for real at the token endpoint and the
// resource, nonces, challenges. Checked with proofs signed by jose, so the kit is not judged by
// the client it tests.
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from "jose";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createMcpAuthMock, type McpAuthMock, type McpAuthMockOptions } from "../../src/msw/index.js";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const CLIENT = { clientId: "dpop-kit", clientSecret: "kit-secret" };
const BASIC = `Basic ${btoa(`${CLIENT.clientId}:${CLIENT.clientSecret}`)}`;

function install(options: Partial<McpAuthMockOptions> = {}): McpAuthMock {
  const mock = createMcpAuthMock({ clients: [CLIENT], dpop: true, ...options });
  server.resetHandlers(
    ...mock.handlers,
    http.all("*", () => new HttpResponse(null, { status: 404 })),
  );
  return mock;
}

type Signer = Awaited<ReturnType<typeof signer>>;
async function signer(alg = "ES256") {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, privateJwk: await exportJWK(privateKey), jkt: await calculateJwkThumbprint(jwk) };
}
const key = await signer();
const es384 = await signer("ES384");
const other = await signer();

/** A proof as RFC 9449 §4.2 shapes it; `claims` and `header` override (undefined drops a claim). */
function proof(by: Signer, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const payload = { jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000), ...claims };
  return new SignJWT(payload).setProtectedHeader({ typ: "dpop+jwt", alg: by.alg, jwk: by.jwk, ...header } as never).sign(by.privateKey);
}
const ath = async (token: string) => base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));

async function tokenRequest(mock: McpAuthMock, dpop?: string) {
  const headers: Record<string, string> = { authorization: BASIC, "content-type": "application/x-www-form-urlencoded" };
  if (dpop !== undefined) headers.dpop = dpop;
  const response = await fetch(mock.tokenEndpoint, { method: "POST", headers, body: "grant_type=client_credentials" });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, string> };
}

/** A DPoP-bound token for `by`'s key (through a nonce round when the mock wants one). */
async function boundToken(mock: McpAuthMock, by: Signer = key): Promise<string> {
  let answer = await tokenRequest(mock, await proof(by, { htm: "POST", htu: mock.tokenEndpoint }));
  const nonce = answer.headers.get("dpop-nonce");
  if (answer.body.error === "use_dpop_nonce" && nonce) answer = await tokenRequest(mock, await proof(by, { htm: "POST", htu: mock.tokenEndpoint, nonce }));
  expect(answer.body.token_type).toBe("DPoP");
  return answer.body.access_token as string;
}

async function resourceRequest(url: string, authorization: string, dpop?: string, method = "GET") {
  const headers: Record<string, string> = { authorization };
  if (dpop !== undefined) headers.dpop = dpop;
  const response = await fetch(url, { method, headers });
  return { status: response.status, headers: response.headers, challenge: response.headers.get("www-authenticate") ?? "", body: await response.text() };
}

describe("MSW kit: DPoP metadata and options", () => {
  it("lists dpop_signing_alg_values_supported in both documents only when on", async () => {
    const mock = install({ dpop: { algorithms: ["ES256", "EdDSA"], required: true } });
    const as = (await (await fetch("https://auth.example.com/.well-known/oauth-authorization-server")).json()) as Record<string, unknown>;
    const prm = (await (await fetch(mock.resourceMetadataUrl)).json()) as Record<string, unknown>;
    expect(as.dpop_signing_alg_values_supported).toEqual(["ES256", "EdDSA"]);
    expect(prm).toMatchObject({ dpop_signing_alg_values_supported: ["ES256", "EdDSA"], dpop_bound_access_tokens_required: true });
    install({ dpop: true });
    const defaults = (await (await fetch("https://auth.example.com/.well-known/oauth-authorization-server")).json()) as Record<string, unknown>;
    expect(defaults.dpop_signing_alg_values_supported).toEqual(["ES256", "EdDSA", "RS256", "PS256"]);
    install({ dpop: false });
    const off = (await (await fetch("https://auth.example.com/.well-known/oauth-authorization-server")).json()) as Record<string, unknown>;
    expect(off).not.toHaveProperty("dpop_signing_alg_values_supported");
  });

  it.each([["none"], ["HS256"], ["hs512"]])("refuses %s as a proof algorithm", (alg) => {
    expect(() => createMcpAuthMock({ clients: [CLIENT], dpop: { algorithms: ["ES256", alg] } })).toThrow(/asymmetric/);
  });
});

describe("MSW kit: DPoP at the token endpoint", () => {
  it("binds the token to the proof's key: token_type DPoP, jkt = RFC 7638 thumbprint, recorded", async () => {
    const mock = install();
    const answer = await tokenRequest(mock, await proof(key, { htm: "POST", htu: mock.tokenEndpoint }));
    expect(answer.status).toBe(200);
    expect(answer.body.token_type).toBe("DPoP");
    expect(mock.tokens[0]).toMatchObject({ accessToken: answer.body.access_token, jkt: key.jkt });
    expect(mock.requestsTo("token")[0]!.dpop).toMatchObject({ ok: true, jkt: key.jkt });
  });

  it("issues Bearer without a proof, unless required", async () => {
    const mock = install();
    const plain = await tokenRequest(mock);
    expect(plain.body.token_type).toBe("Bearer");
    expect(mock.tokens[0]!.jkt).toBeUndefined();
    const strict = install({ dpop: { required: true } });
    const refused = await tokenRequest(strict);
    expect(refused).toMatchObject({ status: 400, body: { error: "invalid_dpop_proof", error_description: "the DPoP header is missing" } });
    expect(strict.tokens).toEqual([]);
  });

  it("ignores the DPoP header when off: a Bearer token, as a server without DPoP does", async () => {
    const mock = install({ dpop: false });
    const answer = await tokenRequest(mock, await proof(key, { htm: "POST", htu: mock.tokenEndpoint }));
    expect(answer.body.token_type).toBe("Bearer");
    expect(mock.requestsTo("token")[0]!.dpop).toBeUndefined();
  });

  const cases: Array<[string, (mock: McpAuthMock) => Promise<string>, RegExp]> = [
    ["a wrong typ", (m) => proof(key, { htm: "POST", htu: m.tokenEndpoint }, { typ: "JWT" }), /typ/],
    ["an algorithm not listed", (m) => proof(es384, { htm: "POST", htu: m.tokenEndpoint }), /alg "ES384"/],
    [
      "alg none",
      async (m) =>
        `${base64url.encode(JSON.stringify({ typ: "dpop+jwt", alg: "none", jwk: key.jwk }))}.${base64url.encode(JSON.stringify({ jti: "x", htm: "POST", htu: m.tokenEndpoint, iat: Math.floor(Date.now() / 1000) }))}.`,
      /alg "none"/,
    ],
    ["a private jwk", (m) => proof(key, { htm: "POST", htu: m.tokenEndpoint }, { jwk: key.privateJwk }), /private/],
    ["no jwk", (m) => proof(key, { htm: "POST", htu: m.tokenEndpoint }, { jwk: undefined }), /jwk is missing/],
    [
      "a bad signature",
      async (m) => {
        const [h, , s] = (await proof(key, { htm: "POST", htu: m.tokenEndpoint })).split(".");
        return `${h}.${base64url.encode(JSON.stringify({ jti: "forged", htm: "POST", htu: m.tokenEndpoint, iat: Math.floor(Date.now() / 1000) }))}.${s}`;
      },
      /signature/,
    ],
    ["a key other than the signer's", async (m) => proof(key, { htm: "POST", htu: m.tokenEndpoint }, { jwk: (await signer()).jwk }), /signature/],
    ["htm GET", (m) => proof(key, { htm: "GET", htu: m.tokenEndpoint }), /htm must be POST/],
    ["htu of another URL", (m) => proof(key, { htm: "POST", htu: `${m.issuer}/other` }), /htu/],
    ["htu with a query", (m) => proof(key, { htm: "POST", htu: `${m.tokenEndpoint}?a=b` }), /htu/],
    ["an old iat", (m) => proof(key, { htm: "POST", htu: m.tokenEndpoint, iat: Math.floor(Date.now() / 1000) - 120 }), /iat/],
    ["a future iat", (m) => proof(key, { htm: "POST", htu: m.tokenEndpoint, iat: Math.floor(Date.now() / 1000) + 120 }), /iat/],
    ["no jti", (m) => proof(key, { htm: "POST", htu: m.tokenEndpoint, jti: undefined }), /jti/],
    ["two proofs", async (m) => `${await proof(key, { htm: "POST", htu: m.tokenEndpoint })}, x.y.z`, /more than one/],
  ];
  it.each(cases)("refuses a proof with %s: 400 invalid_dpop_proof naming the check", async (_, make, check) => {
    const mock = install({ dpop: { algorithms: ["ES256"] } });
    const answer = await tokenRequest(mock, await make(mock));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe("invalid_dpop_proof");
    expect(answer.body.error_description).toMatch(check);
    expect(mock.tokens).toEqual([]);
    expect(mock.requestsTo("token")[0]!.dpop).toMatchObject({ ok: false, error: "invalid_dpop_proof" });
  });

  it("accepts a proof once: a replayed jti is invalid_dpop_proof", async () => {
    const mock = install();
    const once = await proof(key, { htm: "POST", htu: mock.tokenEndpoint });
    expect((await tokenRequest(mock, once)).status).toBe(200);
    const again = await tokenRequest(mock, once);
    expect(again.body).toMatchObject({ error: "invalid_dpop_proof", error_description: expect.stringMatching(/jti was already used/) });
  });

  it("demands its nonce on first use, sends it with the token, and rotates it on demand", async () => {
    const mock = install({ dpop: { requireNonce: true } });
    const first = await tokenRequest(mock, await proof(key, { htm: "POST", htu: mock.tokenEndpoint }));
    const nonce = first.headers.get("dpop-nonce");
    expect(first).toMatchObject({ status: 400, body: { error: "use_dpop_nonce" } });
    expect(nonce).toMatch(/^[\w-]{16,}$/);
    const second = await tokenRequest(mock, await proof(key, { htm: "POST", htu: mock.tokenEndpoint, nonce }));
    expect(second.body.token_type).toBe("DPoP");
    expect(second.headers.get("dpop-nonce")).toBe(nonce);
    mock.rotateDpopNonce("token");
    const stale = await tokenRequest(mock, await proof(key, { htm: "POST", htu: mock.tokenEndpoint, nonce }));
    expect(stale.body).toMatchObject({ error: "use_dpop_nonce", error_description: "the DPoP nonce is not the current one" });
    expect(stale.headers.get("dpop-nonce")).not.toBe(nonce);
    expect(mock.tokens).toHaveLength(1);
  });
});

describe("MSW kit: DPoP at the resource", () => {
  it("accepts the bound token with a fresh proof of its key, with ath, htm and htu (query ignored)", async () => {
    const mock = install();
    const token = await boundToken(mock);
    const url = `${mock.resource}/tools?x=1`;
    const answer = await resourceRequest(url, `DPoP ${token}`, await proof(key, { htm: "POST", htu: `${mock.resource}/tools`, ath: await ath(token) }), "POST");
    expect(answer.status).toBe(200);
    expect(mock.requestsTo("resource")[0]!.dpop).toMatchObject({ ok: true, jkt: key.jkt });
  });

  const refusals: Array<[string, (token: string, mock: McpAuthMock) => Promise<string | undefined>, RegExp]> = [
    ["no proof", async () => undefined, /DPoP header is missing/],
    ["no ath", (_, m) => proof(key, { htm: "GET", htu: m.resource }), /ath/],
    ["the ath of another token", (_, m) => proof(key, { htm: "GET", htu: m.resource, ath: "x" }), /ath/],
    ["htm POST for a GET", async (t, m) => proof(key, { htm: "POST", htu: m.resource, ath: await ath(t) }), /htm must be GET/],
    ["the htu of another path", async (t, m) => proof(key, { htm: "GET", htu: `${m.resource}/other`, ath: await ath(t) }), /htu/],
    ["another key", async (t, m) => proof(other, { htm: "GET", htu: m.resource, ath: await ath(t) }), /not the key the access token is bound to/],
  ];
  it.each(refusals)("refuses %s: 401 with a DPoP invalid_dpop_proof challenge", async (_, make, check) => {
    const mock = install();
    const token = await boundToken(mock);
    const answer = await resourceRequest(mock.resource, `DPoP ${token}`, await make(token, mock));
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(/DPoP error="invalid_dpop_proof", algs="ES256 EdDSA RS256 PS256"/);
    expect(JSON.parse(answer.body).error_description).toMatch(check);
  });

  it("refuses a replayed proof", async () => {
    const mock = install();
    const token = await boundToken(mock);
    const once = await proof(key, { htm: "GET", htu: mock.resource, ath: await ath(token) });
    expect((await resourceRequest(mock.resource, `DPoP ${token}`, once)).status).toBe(200);
    const replay = await resourceRequest(mock.resource, `DPoP ${token}`, once);
    expect(replay.status).toBe(401);
    expect(replay.challenge).toContain('DPoP error="invalid_dpop_proof"');
    expect(mock.requestsTo("resource")[1]!.dpop).toMatchObject({ ok: false, description: "jti was already used (replayed proof)" });
  });

  it("refuses a bound token sent as Bearer, and an unbound one sent as DPoP", async () => {
    const mock = install();
    const token = await boundToken(mock);
    const bearer = await resourceRequest(mock.resource, `Bearer ${token}`, await proof(key, { htm: "GET", htu: mock.resource, ath: await ath(token) }));
    expect(bearer.status).toBe(401);
    expect(bearer.challenge).toMatch(/^Bearer error="invalid_token", resource_metadata="[^"]+", DPoP algs="[^"]+"$/);
    const plain = (await tokenRequest(mock)).body.access_token as string;
    const unbound = await resourceRequest(mock.resource, `DPoP ${plain}`, await proof(key, { htm: "GET", htu: mock.resource, ath: await ath(plain) }));
    expect(unbound.status).toBe(401);
    expect(unbound.challenge).toContain('DPoP error="invalid_token"');
    expect((await resourceRequest(mock.resource, `Bearer ${plain}`)).status).toBe(200);
  });

  it("challenges with both schemes when no token is sent (RFC 9449 §7.1)", async () => {
    const mock = install({ dpop: { algorithms: ["ES256"] } });
    const response = await fetch(mock.resource);
    expect(response.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${mock.resourceMetadataUrl}", DPoP algs="ES256"`);
  });

  it("demands its own nonce, separate from the token endpoint's, on first use", async () => {
    const mock = install({ dpop: { requireNonce: true } });
    const token = await boundToken(mock);
    const asNonce = (await tokenRequest(mock, await proof(key, { htm: "POST", htu: mock.tokenEndpoint }))).headers.get("dpop-nonce");
    expect(asNonce).toMatch(/^[\w-]{16,}$/);
    const first = await resourceRequest(mock.resource, `DPoP ${token}`, await proof(key, { htm: "GET", htu: mock.resource, ath: await ath(token) }));
    const nonce = first.headers.get("dpop-nonce");
    expect(first.status).toBe(401);
    expect(first.challenge).toMatch(/DPoP error="use_dpop_nonce", algs="[^"]+"/);
    expect(nonce).toMatch(/^[\w-]{16,}$/);
    expect(nonce).not.toBe(asNonce);
    const second = await resourceRequest(mock.resource, `DPoP ${token}`, await proof(key, { htm: "GET", htu: mock.resource, ath: await ath(token), nonce }));
    expect(second.status).toBe(200);
    expect(mock.requestsTo("resource").map((request) => request.dpop?.error)).toEqual(["use_dpop_nonce", undefined]);
  });
});
