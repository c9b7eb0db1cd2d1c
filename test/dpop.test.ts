// DPoP (RFC 9449, SEP-1932) end to end through the MSW kit, whose token endpoint and resource
// verify proofs for real: bound tokens, a fresh proof per request, nonces, the cache, events.
import { base64url, calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from "jose";
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { type ClientCredentialsOptions, memoryStore, withClientCredentials, withWorkloadIdentity } from "../src/index.js";
import type { McpAuthMock, McpAuthMockOptions, RecordedRequest } from "../src/msw/index.js";
import { captureConsole, expectNoLeak, surfaces } from "./canary.js";
import { CLIENT_ID, CLIENT_SECRET, collectEvents, jwtSigner, recordingStore, rejection, useMockServer } from "./helpers.js";

const msw = useMockServer();
const consoleOutput = captureConsole();

function setup(options: Partial<ClientCredentialsOptions> = {}, mockOptions: Partial<McpAuthMockOptions> = {}) {
  const mock = msw.mock({ dpop: true, ...mockOptions });
  const { events, onEvent } = collectEvents();
  const authFetch = withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, dpop: true, onEvent, ...options } as ClientCredentialsOptions)();
  return { mock, authFetch, events };
}

/** Resource requests that carried a token (the first one of a client carries none: it starts discovery). */
const sentWithToken = (mock: McpAuthMock) => mock.requestsTo("resource").filter((request) => request.headers.authorization !== undefined);

/** The proof a recorded request carried: its header and claims. */
function proofOf(request: RecordedRequest) {
  const proof = request.headers.dpop;
  if (proof === undefined) throw new Error(`no DPoP proof in ${request.method} ${request.url}`);
  return { proof, header: decodeProtectedHeader(proof), claims: decodeJwt(proof) };
}
const thumbprint = (request: RecordedRequest) => calculateJwkThumbprint(proofOf(request).header.jwk as JWK);
const ath = async (token: string) => base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));

/** The token is bound to the key that signed every proof, and each request was accepted by the kit. */
async function expectBound(mock: McpAuthMock) {
  const [tokenRequest] = mock.requestsTo("token");
  const [token] = mock.tokens;
  expect(tokenRequest!.dpop).toMatchObject({ ok: true });
  expect(token!.jkt).toBe(await thumbprint(tokenRequest!));
  const authorized = sentWithToken(mock);
  expect(authorized.length).toBeGreaterThan(0);
  for (const request of authorized) {
    expect(request.headers.authorization).toBe(`DPoP ${token!.accessToken}`);
    expect(await thumbprint(request)).toBe(token!.jkt);
  }
}

describe("DPoP: tokens bound to the client's key", () => {
  it.each([["client_secret_basic"], ["client_secret_post"]] as const)("with %s", async (authMethod) => {
    const { mock, authFetch } = setup({ authMethod });
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.tokens[0]).toMatchObject({ authMethod, jkt: expect.any(String) });
    await expectBound(mock);
  });

  it("with private_key_jwt", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const client = { clientId: "dpop-jwt", jwks: [await exportJWK(publicKey)] };
    const { mock, authFetch } = setup(
      { clientId: client.clientId, clientSecret: undefined, privateKey: await exportJWK(privateKey) },
      // required: its resource metadata also says dpop_bound_access_tokens_required (RFC 9728 §2).
      { clients: [client], dpop: { required: true } },
    );
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.tokens[0]).toMatchObject({ authMethod: "private_key_jwt", jkt: expect.any(String) });
    await expectBound(mock);
  });

  it("with workload identity", async () => {
    const signer = await jwtSigner();
    const mock = msw.mock({ dpop: true, clients: [], workloads: [{ issuer: "https://platform.example", jwks: [signer.publicJwk] }] });
    const authFetch = withWorkloadIdentity({ assertion: (c) => signer.sign({ iss: "https://platform.example", sub: "wl", aud: c.audience }), dpop: true })();
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.tokens[0]).toMatchObject({ authMethod: "none", jkt: expect.any(String) });
    await expectBound(mock);
  });
});

describe("DPoP: proofs at the resource", () => {
  it("sends a fresh proof with ath for every request", async () => {
    const { mock, authFetch } = setup();
    for (const method of ["GET", "POST", "POST"]) expect((await authFetch(mock.resource, { method, body: method === "GET" ? null : "{}" })).status).toBe(200);
    const requests = sentWithToken(mock);
    const claims = requests.map((request) => proofOf(request).claims);
    expect(new Set(claims.map((c) => c.jti)).size).toBe(3);
    expect(claims.map((c) => c.htm)).toEqual(["GET", "POST", "POST"]);
    for (const c of claims) expect(c).toMatchObject({ htu: mock.resource, ath: await ath(mock.tokens[0]!.accessToken) });
    expect(requests.every((request) => request.dpop?.ok)).toBe(true);
  });

  it("signs a new proof for each redirect hop, with that hop's htu", async () => {
    const seen: string[] = [];
    const { mock, authFetch } = setup();
    msw.server.use(
      http.get(`${mock.resource}/old`, ({ request }) => {
        seen.push(request.headers.get("dpop") ?? "");
        return new HttpResponse(null, { status: 307, headers: { location: `${mock.resource}/new` } });
      }),
    );
    expect((await authFetch(`${mock.resource}/old`)).status).toBe(200);
    const first = decodeJwt(seen.at(-1)!);
    const hop = mock.requestsTo("resource").at(-1)!;
    expect(first.htu).toBe(`${mock.resource}/old`);
    expect(hop.url).toBe(`${mock.resource}/new`);
    expect(hop.dpop).toMatchObject({ ok: true });
    expect(proofOf(hop).claims).toMatchObject({ htu: `${mock.resource}/new`, htm: "GET" });
    expect(proofOf(hop).claims.jti).not.toBe(first.jti);
  });
});

describe("DPoP: nonces", () => {
  it("costs one extra token request and one extra resource request, once", async () => {
    const { mock, authFetch, events } = setup({}, { dpop: { requireNonce: true } });
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("token").map((r) => r.dpop?.error)).toEqual(["use_dpop_nonce", undefined]);
    expect(sentWithToken(mock).map((r) => r.dpop?.error)).toEqual(["use_dpop_nonce", undefined]);
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(2);
    expect(sentWithToken(mock)).toHaveLength(3);
    expect(events.filter((e) => e.type === "dpop-nonce").map((e) => e.url)).toEqual([mock.tokenEndpoint, mock.resource]);
    expect(events.filter((e) => e.type === "retry" && e.reason === "use_dpop_nonce")).toEqual([
      { type: "retry", url: mock.resource, reason: "use_dpop_nonce" },
    ]);
  });

  it("never loops on a resource that wants a new nonce every time: one nonce retry, then its 401", async () => {
    const { mock, authFetch } = setup({}, { dpop: { requireNonce: true } });
    // Falls through to the kit after rotating: every proof carries a nonce that is already stale.
    msw.server.use(http.all(`${mock.resource}*`, () => void mock.rotateDpopNonce("resource")));
    const response = await authFetch(mock.resource);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain('DPoP error="use_dpop_nonce"');
    expect(sentWithToken(mock).map((r) => proofOf(r).claims.nonce !== undefined)).toEqual([false, true]);
    expect(mock.requestsTo("token")).toHaveLength(2); // the token endpoint's own nonce round
  });

  it("keeps a good token when the resource keeps asking for nonces: a nonce is not a rejected token", async () => {
    const { mock, authFetch } = setup({}, { dpop: { requireNonce: true } });
    expect((await authFetch(mock.resource)).status).toBe(200);
    mock.clearRequests();
    msw.server.use(http.all(`${mock.resource}*`, () => void mock.rotateDpopNonce("resource")));
    expect((await authFetch(mock.resource)).status).toBe(401);
    expect(mock.requestsTo("resource").map((r) => r.dpop?.error)).toEqual(["use_dpop_nonce", "use_dpop_nonce"]);
    expect(mock.requestsTo("token")).toEqual([]);
  });

  it("does not retry a use_dpop_nonce 401 that repeats the nonce the proof already carried", async () => {
    const { mock, authFetch } = setup({}, { dpop: { requireNonce: true } });
    expect((await authFetch(mock.resource)).status).toBe(200);
    const known = proofOf(sentWithToken(mock).at(-1)!).claims.nonce as string;
    const sent: Array<[string | null, unknown]> = [];
    const challenge = { "www-authenticate": 'DPoP error="use_dpop_nonce", algs="ES256"', "dpop-nonce": known };
    msw.server.use(
      http.all(`${mock.resource}*`, ({ request }) => {
        sent.push([request.headers.get("authorization"), decodeJwt(request.headers.get("dpop") ?? "a.e30.c").nonce]);
        return new HttpResponse(null, { status: 401, headers: challenge });
      }),
    );
    expect((await authFetch(mock.resource)).status).toBe(401);
    // The same token with the same nonce once at most: a retry would be refused the same way.
    const pairs = sent.map(([authorization, nonce]) => `${authorization} ${String(nonce)}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(sent[0]![1]).toBe(known);
  });

  it("never loops on a token endpoint that wants a new nonce every time", async () => {
    const { mock, authFetch } = setup({}, { dpop: { requireNonce: true } });
    msw.server.use(http.post(mock.tokenEndpoint, () => void mock.rotateDpopNonce("token")));
    const error = await rejection(authFetch(mock.resource));
    expect(error.code).toBe("use_dpop_nonce");
    expect(mock.requestsTo("token")).toHaveLength(2);
  });
});

describe("DPoP: servers without it", () => {
  it("refuses a Bearer answer to a proof: dpop_not_bound", async () => {
    const { mock, authFetch } = setup({}, { dpop: false });
    const error = await rejection(authFetch(mock.resource));
    expect(error.code).toBe("dpop_not_bound");
    expect(mock.requestsTo("token")[0]!.headers.dpop).toBeDefined();
    expect(mock.requestsTo("resource")).toHaveLength(1); // the 401 that started discovery, nothing sent with the token
  });

  it('dpop: "auto" uses Bearer where the metadata lists no DPoP algorithms, and DPoP where it does', async () => {
    const plain = setup({ dpop: "auto" }, { dpop: false });
    expect((await plain.authFetch(plain.mock.resource)).status).toBe(200);
    expect(plain.mock.tokens[0]!.jkt).toBeUndefined();
    expect(plain.mock.requests.some((r) => r.headers.dpop !== undefined)).toBe(false);
    expect(plain.mock.requestsTo("resource").at(-1)!.headers.authorization).toMatch(/^Bearer /);
    const bound = setup({ dpop: "auto" });
    expect((await bound.authFetch(bound.mock.resource)).status).toBe(200);
    await expectBound(bound.mock);
  });
});

describe("DPoP: the cache", () => {
  it('dpop: "auto" against a server without DPoP shares its Bearer tokens as usual', async () => {
    const recording = recordingStore();
    const { mock, authFetch } = setup({ store: recording.store, dpop: "auto" }, { dpop: false });
    const sibling = withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store: recording.store, dpop: "auto" })();
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect((await sibling(mock.resource)).status).toBe(200);
    expect(mock.tokens).toHaveLength(1);
    expect(recording.tokenWrites().map((w) => w.token.tokenType)).toEqual(["Bearer"]);
  });

  it("keeps a per-instance key's tokens out of a shared store", async () => {
    const recording = recordingStore();
    const { mock, authFetch } = setup({ store: recording.store });
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.tokens[0]!.jkt).toBeDefined();
    expect(recording.tokenWrites()).toEqual([]);
  });

  it("shares a supplied key pair's tokens, and two generated keys get two tokens", async () => {
    const keyPair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const recording = recordingStore();
    const { mock, authFetch } = setup({ store: recording.store, dpop: { keyPair } });
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(recording.tokenWrites().map((w) => w.token.tokenType)).toEqual(["DPoP"]);
    const sibling = withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store: recording.store, dpop: { keyPair } })();
    expect((await sibling(mock.resource)).status).toBe(200);
    expect(mock.tokens).toHaveLength(1); // the fleet shares the key, so it shares the token

    const store = memoryStore();
    const one = withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store, dpop: true })();
    const two = withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store, dpop: true })();
    expect((await one(mock.resource)).status).toBe(200);
    expect((await two(mock.resource)).status).toBe(200);
    const [, first, second] = mock.tokens;
    expect(first!.accessToken).not.toBe(second!.accessToken);
    expect(first!.jkt).not.toBe(second!.jkt);
  });
});

describe("DPoP: events", () => {
  it("report proofs and nonces, never a proof, a nonce or a token", async () => {
    const { mock, authFetch, events } = setup({}, { dpop: { requireNonce: true } });
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(events.filter((e) => e.type === "token-request").map((e) => "dpop" in e && e.dpop)).toEqual([true, true]);
    expect(events.some((e) => e.type === "dpop-nonce")).toBe(true);
    const proofEvents = events.filter((e) => e.type === "dpop-proof");
    expect(proofEvents).toEqual(sentWithToken(mock).map((r) => ({ type: "dpop-proof", url: mock.resource, method: r.method })));
    const proofs = mock.requests.flatMap((r) => (r.headers.dpop ? [r.headers.dpop, r.headers.dpop.split(".")[2]!] : []));
    const nonces = mock.requests.flatMap((r) => (r.headers.dpop ? [String(proofOf(r).claims.nonce ?? "")] : []));
    expect(proofs.length).toBeGreaterThan(4);
    expectNoLeak({ events, console: consoleOutput.output(), storeKeys: [] }, [CLIENT_SECRET, ...proofs, ...nonces], [mock.tokens[0]!.accessToken]);
    expect(surfaces(events)).not.toContain(mock.tokens[0]!.accessToken);
  });
});
