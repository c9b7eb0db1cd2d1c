// The portable end-to-end suite: plain ESM JavaScript, importing only the store contract beside it. It runs unchanged in Node,
// Deno, Bun, workerd, the Vercel edge runtime, a Chromium page and a Chromium Web Worker.
//
//   import { run } from "./suite.js";
//   const summary = await run({ lib, baseUrl, echoUrl, ci });
//   // → { runtime, passed, failed, skipped, total, results: [{ name, ok, skipped, error, ms }] }
//
// `lib` is the built package ("mcp-client-credentials", dist/index.js), `baseUrl` the loopback
// authorization server + resource of test/runtimes/server.mjs, `echoUrl` its second listener
// (another origin). Only Web APIs are used: fetch, URL, Headers, WebCrypto, TextEncoder,
// AbortController, setTimeout. Every test creates its own tenant (authorization server +
// resource) through the control API, so tests and runtimes never share state.

import { storeContract } from "./store-contract.js";

/** Test-only RSA key (PKCS#8 PEM, as `openssl genpkey -algorithm RSA` writes it) and its public JWK. */
const RSA_PKCS8_PEM = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCXWLvUOcNeBES0
ZHs9+I/f/xm61Co5+RBgCEA55WEe2V31QAEMeMvhygCMkIUbtGGLvc8meVsSwtIP
k8h8Bq91YVacH0c3omdJACM46b4wwhWOj4TnEiNM1LwcOc9tr8xmZ6X5N9SrF6fS
FWgZf7nvt7FdyO3bbsiiuEgFEAFa6jEncDK1LPGzRcrvheBvFkK9oSJIedmI1W9X
ZYskgM/kbEGe3BZNcO3W8qLwO/Y9EMfgXrDmoxGtZCip0yj7V4MLCTxHlve3FcKU
B/BAMThYU/REakSRQ1Gc1OF/txa1gK4ShgOZZVluyr4XqHU/uQXYz2WFAItwymb9
uiFaYxJjAgMBAAECggEANd8//KsS/8RFMHET7Vss227Smc4rubcOPSCyu+kKSRDW
gRXnSak16Ykd6OsIdnQexL8rnWZVJLh0TVctZfh7PC0Jx0ja8NK+MR37a6bILFLp
mXU8uYObTR3sV5+8Vi7dcxYx3iQhb0VcV0uHYow0gz+/wsJi6Fjm0gUGnca0tMdb
hwjmq3cm3U6779qvd1304ylLLuKGo5fsn7l+YtBqNiHav9OicZjoYhIvdOUzgROM
AqNPXxOYdQe7oQPhfdCX+kL5RTpQJ427Q3ag44ItFJYdHCOsEe+b2nVTgh8zVdPh
uokixqPbOouWjJg87seqJE5JsuH3J0D+bVIKEzTEAQKBgQDSXRZ0maAHlVzteBQH
J93JHdhxdkdoD+4bsG+FIZG205BhjIxwie5WiIWqEBpkEhRANxkITQsL34Rb90TN
h0VYqx3uqCUJxVVwp5HK5wN5/FjbO+X2fnR7/uE/qRnqlGGFCR/aCDGeF4nlwoUq
UabaO7aVAf1bWJgZvQw59u77MwKBgQC4Lgh5DjrkRg6DlWWQvWqOro2Jk4n/oJnk
bJmwBC0cgXNkyze+SbTfs57/Hml3wvbEhUj4/aTB7zufTRMSCoXPp5zHYy5FXTsy
ezCROHyS6oTpbPETivRCBE26g4iRvJvquNziz0kh5hphX4K0jc0RfvrPy+1OMZEN
4ry/TEoMEQKBgQCTaya8aZhLGDH6PIcUiKyVLzQqNzBNTbSYdOmCC4dY7yQkKGGW
0CJVQ/Efv48vB7hnU/VX6t3N4UKZTExMF/rR64Dbabwi/8YjX1r9LS0zhFMkt/Is
7mtlJbXmbfO6f2dj2oQWwF09I9PATrQRdw0NrIEEJVPOeuSETQZPbKwHHwKBgCYB
AaiRAh/mQMpwAlQacaldZUE1G22O4xJaQmAqjHBsWbY7pJX0OYlLVAyKZvLaXPby
FbujAuMtjRzy13OKjk/p4xTVZ0/SzAs/libxA+uAzsonu5rvujUBFFTfHUgNJhMJ
8DIw2YNQKrNa9OpytBTfIbvM9XuECM1XsuC6SjExAoGABtb+F0+nXIn2NQJV2Bzx
uJwlRl7h0muxMMKpYrBpCcKeOZJgPk1HCTD2zTIEWrlf95ALQ5/GxQLIxkmObf2J
n1DrFj8I898tsSvUTLD2g/S4zVKohXxKoqGLvy1zGQ3mvDBv/OZtMis2rOWSWAMB
5L9QIqtBKcR1ol/YqDlHHts=
-----END PRIVATE KEY-----
`;
const RSA_PUBLIC_JWK = {
  kty: "RSA",
  n: "l1i71DnDXgREtGR7PfiP3_8ZutQqOfkQYAhAOeVhHtld9UABDHjL4coAjJCFG7Rhi73PJnlbEsLSD5PIfAavdWFWnB9HN6JnSQAjOOm-MMIVjo-E5xIjTNS8HDnPba_MZmel-TfUqxen0hVoGX-577exXcjt227IorhIBRABWuoxJ3AytSzxs0XK74XgbxZCvaEiSHnZiNVvV2WLJIDP5GxBntwWTXDt1vKi8Dv2PRDH4F6w5qMRrWQoqdMo-1eDCwk8R5b3txXClAfwQDE4WFP0RGpEkUNRnNThf7cWtYCuEoYDmWVZbsq-F6h1P7kF2M9lhQCLcMpm_bohWmMSYw",
  e: "AQAB",
};

/** A secret with characters that must be form-urlencoded before Basic's base64 (RFC 6749 §2.3.1). */
const TRICKY_SECRET = "s3cret: with spaces+plus&amp%25=/é";

class SkipError extends Error {}

class AssertionError extends Error {}

function assert(condition, message) {
  if (!condition) throw new AssertionError(message);
}

function assertEqual(actual, expected, message) {
  if (actual !== expected) {
    throw new AssertionError(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

function describeError(error) {
  if (error instanceof Error) {
    const fields = ["phase", "code", "status"].filter((k) => error[k] !== undefined).map((k) => `${k}=${error[k]}`);
    return `${error.name}: ${error.message}${fields.length ? ` (${fields.join(", ")})` : ""}`;
  }
  return String(error);
}

/** Awaits a promise that must reject; returns the rejection reason. */
async function rejects(promise, message) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new AssertionError(`${message}: expected a rejection, the call succeeded`);
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once the tenant's token endpoint has seen a request (at most ~2 s). */
async function tokenRequestArrived(tenant) {
  for (let i = 0; (await tenant.counts()).token === 0; i++) {
    assert(i < 200, "the token request never arrived");
    await sleep(10);
  }
}

/** Everything a test needs; `fetch` is looked up on every call (never captured at load time). */
function context({ lib, baseUrl, echoUrl }) {
  const tenants = [];

  async function control(path, init = {}) {
    const response = await fetch(`${baseUrl}/__control${path}`, {
      ...init,
      headers: init.body ? { "content-type": "application/json" } : {},
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`control ${path} → ${response.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  return {
    lib,
    baseUrl,
    echoUrl,
    /** A fresh authorization server + protected resource with these clients (`extra.workload`: the JWT-bearer grant). */
    async tenant(clients, options = {}, extra = {}) {
      const created = await control("/tenants", { method: "POST", body: JSON.stringify({ clients, options, ...extra }) });
      tenants.push(created.id);
      return {
        ...created,
        counts: () => control(`/tenants/${created.id}/counts`),
        revoke: () => control(`/tenants/${created.id}/revoke`, { method: "POST" }),
        fault: (endpoint, fault, times = 1) => control(`/tenants/${created.id}/fault`, { method: "POST", body: JSON.stringify({ endpoint, fault, times }) }),
      };
    },
    async cleanup() {
      await Promise.all(tenants.splice(0).map((id) => control(`/tenants/${id}`, { method: "DELETE" }).catch(() => {})));
    },
  };
}

const MCP_BODY = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });

/** POSTs a JSON-RPC body through `authFetch` and checks the resource accepted it. */
async function callResource(authFetch, url, clientId) {
  const response = await authFetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: MCP_BODY,
  });
  const text = await response.text();
  assertEqual(response.status, 200, `resource status (body ${text.slice(0, 200)})`);
  const json = JSON.parse(text);
  assertEqual(json.ok, true, "resource answered ok");
  assertEqual(json.body, MCP_BODY, "request body replayed intact after the 401");
  if (clientId !== undefined) assertEqual(json.clientId, clientId, "token issued to the client");
  return json;
}

/** Generates a key pair in this runtime's WebCrypto; a missing algorithm is reported, not hidden. */
async function generate(algorithm, extractable) {
  try {
    return await crypto.subtle.generateKey(algorithm, extractable, ["sign", "verify"]);
  } catch (error) {
    throw new SkipError(`this runtime's WebCrypto cannot generate ${algorithm.name} keys: ${describeError(error)}`);
  }
}

async function publicJwk(keyPair) {
  const jwk = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, n: jwk.n, e: jwk.e };
}

/** private_key_jwt end to end: discovery, a signed assertion the server verifies, the resource call. */
async function privateKeyJwt(t, { jwk, privateKey, expectedAlg, clientId }) {
  const tenant = await t.tenant([{ clientId, jwks: [jwk], authMethods: ["private_key_jwt"] }]);
  const authFetch = t.lib.withClientCredentials({ clientId, privateKey })(fetch);
  await callResource(authFetch, tenant.resource, clientId);
  const counts = await tenant.counts();
  assertEqual(counts.token, 1, "token requests");
  assertEqual(counts.tokenRequests[0].assertionAlg, expectedAlg, "client assertion alg");
  assertEqual(counts.tokenRequests[0].assertionAud, tenant.issuer, "client assertion aud (the issuer, rfc7523bis)");
  assertEqual(counts.tokenRequests[0].basic, false, "no Basic header with private_key_jwt");
  assertEqual(counts.tokens[0].authMethod, "private_key_jwt", "server saw private_key_jwt");
}

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

const base64url = (bytes) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const base64urlJson = (value) => base64url(new TextEncoder().encode(JSON.stringify(value)));

/** A compact ES256 JWS signed here: WebCrypto's ECDSA signature is already the raw r||s that JWS wants (RFC 7518 §3.4). */
export async function signEs256(privateKey, claims) {
  const input = `${base64urlJson({ alg: "ES256", typ: "JWT" })}.${base64urlJson(claims)}`;
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, new TextEncoder().encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

/**
 * A platform that issues workload JWTs (as Kubernetes or GitHub Actions would), with its key made
 * here, and a tenant that trusts it for the JWT-bearer grant and advertises only that grant.
 */
async function workloadTenant(t, name) {
  const pair = await generate({ name: "ECDSA", namedCurve: "P-256" }, false);
  const identity = { iss: `https://${name}.workload-issuer.test`, sub: `system:serviceaccount:agents:${name}` };
  const tenant = await t.tenant(
    [],
    { grantTypesSupported: [JWT_BEARER], authMethodsSupported: ["none"] },
    { workload: { ...identity, jwk: await publicJwk(pair) } },
  );
  const minted = [];
  const mint = async ({ aud, expiresIn = 300 }) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = await signEs256(pair.privateKey, { ...identity, aud, iat: now, exp: now + expiresIn, jti: crypto.randomUUID() });
    minted.push(jwt);
    return jwt;
  };
  return { tenant, identity, mint, minted };
}

/** No platform JWT in what a user can see or log. */
function assertNoJwt(minted, value, where) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  assert(!minted.some((jwt) => text.includes(jwt) || text.includes(jwt.split(".")[2])), `a platform JWT appeared in ${where}`);
}

/**
 * Runtimes whose WebCrypto cannot sign with Ed25519, named rather than detected so that CI notices
 * when one gains or loses it (the test then fails). Empty today: Node 20.20, 22 and 24, Deno 2.9,
 * Bun 1.4, workerd, the Vercel EdgeVM (Node's WebCrypto) and Chromium (Ed25519 on by default since
 * 137) all generate and sign with it. A runtime missing Ed25519 that is not named here is a skip
 * locally and a failure under CI.
 */
const WITHOUT_ED25519 = [];

/** The runtime's family, as WITHOUT_ED25519 names it: node, deno, bun, workerd, edge-runtime, chromium. */
function runtimeFamily() {
  const name = runtimeName();
  const family = ["deno", "bun", "workerd", "edge-runtime", "node"].find((f) => name.startsWith(f));
  return family ?? (/Chrome\//.test(name) ? "chromium" : name);
}

/** RFC 7638 thumbprint of a public key, computed here: what the server's `cnf.jkt` must be. */
async function thumbprint(publicKey) {
  const { kty, crv, x, y, e, n } = await crypto.subtle.exportKey("jwk", publicKey);
  const members = kty === "EC" ? { crv, kty, x, y } : kty === "OKP" ? { crv, kty, x } : { e, kty, n };
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(members)))));
}

/** What the server made of a request's DPoP proof, in one word: "none", "ok" or its error. */
const proofOutcome = (proof) => (proof === null ? "none" : proof.ok ? "ok" : proof.error);

/**
 * `dpop: { keyPair }` with a key generated here: the proofs carry its alg (the tenant accepts that
 * one only), and the token is bound to its thumbprint.
 */
async function dpopWithKeyPair(t, { pair, alg, clientId }) {
  const clientSecret = `${clientId}-secret`;
  const tenant = await t.tenant([{ clientId, clientSecret }], {}, { dpop: { required: true, algorithms: [alg] } });
  const authFetch = t.lib.withClientCredentials({ clientId, clientSecret, dpop: { keyPair: pair } })(fetch);
  await callResource(authFetch, tenant.resource, clientId);
  assertEqual((await authFetch.getToken(tenant.resource)).tokenType, "DPoP", "getToken().tokenType");
  const jkt = await thumbprint(pair.publicKey);
  const counts = await tenant.counts();
  assertEqual(counts.token, 1, "token requests");
  const sent = counts.tokenRequests[0].dpop;
  assertEqual(proofOutcome(sent), "ok", `token request's proof (${sent?.description})`);
  assertEqual(sent.alg, alg, "proof alg at the token endpoint");
  assertEqual(counts.tokens[0].jkt, jkt, "the token is bound to this key's RFC 7638 thumbprint");
  const used = counts.resourceDpop.at(-1);
  assertEqual(`${used.scheme} ${proofOutcome(used.proof)}`, "dpop ok", `resource request's scheme and proof (${used.proof?.description})`);
  assertEqual(used.proof.alg, alg, "proof alg at the resource");
  assertEqual(used.proof.jkt, jkt, "the resource's proof was signed with this key");
}

export const tests = [
  {
    name: "withClientCredentials(options)(fetch) with the bare global fetch (README form)",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "bare", clientSecret: "bare-secret" }]);
      const authFetch = t.lib.withClientCredentials({ clientId: "bare", clientSecret: "bare-secret" })(fetch);
      await callResource(authFetch, tenant.resource, "bare");
      const token = await authFetch.getToken(tenant.resource);
      assertEqual(typeof token.accessToken, "string", "getToken().accessToken");
      const counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests");
    },
  },
  {
    name: "discovery from a 401 (path issuer) + client_secret_basic",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "basic client", clientSecret: TRICKY_SECRET }]);
      const events = [];
      const authFetch = t.lib.withClientCredentials({
        clientId: "basic client",
        clientSecret: TRICKY_SECRET,
        onEvent: (event) => events.push(event.type),
      })(fetch);
      await callResource(authFetch, `${tenant.resource}/tools?x=1`, "basic client");
      const counts = await tenant.counts();
      assertEqual(counts.resourceMetadata, 1, "protected resource metadata requests");
      assertEqual(counts.authorizationServerMetadata, 1, "AS metadata requests (RFC 8414 path-inserted)");
      assertEqual(counts.token, 1, "token requests");
      assertEqual(counts.tokenRequests[0].basic, true, "credentials in a Basic header");
      assertEqual(counts.tokenRequests[0].clientSecretInBody, false, "no client_secret in the body");
      assertEqual(counts.tokenRequests[0].resource, tenant.resource, "RFC 8707 resource parameter");
      assertEqual(counts.tokens[0].authMethod, "client_secret_basic", "server saw client_secret_basic");
      assertEqual(counts.resource, 2, "resource requests (401, then the retry)");
      for (const type of ["challenge", "discovered", "token-request", "token-response", "retry"]) {
        assert(events.includes(type), `onEvent saw ${type} (saw ${events.join(", ")})`);
      }
    },
  },
  {
    name: "client_secret_post chosen from AS metadata",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "post-client", clientSecret: "post-secret", authMethods: ["client_secret_post"] }], {
        authMethodsSupported: ["client_secret_post"],
      });
      const authFetch = t.lib.withClientCredentials({ clientId: "post-client", clientSecret: "post-secret" })(fetch);
      await callResource(authFetch, tenant.resource, "post-client");
      const counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests");
      assertEqual(counts.tokenRequests[0].basic, false, "no Basic header");
      assertEqual(counts.tokenRequests[0].clientSecretInBody, true, "client_secret in the body");
      assertEqual(counts.tokens[0].authMethod, "client_secret_post", "server saw client_secret_post");
    },
  },
  {
    name: "private_key_jwt ES256 (non-extractable CryptoKey generated here)",
    async fn(t) {
      const pair = await generate({ name: "ECDSA", namedCurve: "P-256" }, false);
      assertEqual(pair.privateKey.extractable, false, "private key is not extractable");
      await privateKeyJwt(t, { jwk: await publicJwk(pair), privateKey: pair.privateKey, expectedAlg: "ES256", clientId: "es256" });
    },
  },
  {
    name: "private_key_jwt RS256 (private JWK generated here)",
    async fn(t) {
      const pair = await generate({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true);
      const privateJwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
      await privateKeyJwt(t, { jwk: await publicJwk(pair), privateKey: privateJwk, expectedAlg: "RS256", clientId: "rs256" });
    },
  },
  {
    name: "private_key_jwt EdDSA (Ed25519 CryptoKey generated here)",
    async fn(t) {
      const pair = await generate({ name: "Ed25519" }, true);
      await privateKeyJwt(t, { jwk: await publicJwk(pair), privateKey: pair.privateKey, expectedAlg: "EdDSA", clientId: "ed25519" });
    },
  },
  {
    name: "private_key_jwt from a PKCS#8 PEM string (RSA)",
    async fn(t) {
      await privateKeyJwt(t, { jwk: RSA_PUBLIC_JWK, privateKey: RSA_PKCS8_PEM, expectedAlg: "RS256", clientId: "pem" });
    },
  },
  {
    name: "withWorkloadIdentity: a function source signs a fresh ES256 JWT for the issuer; the AS verifies it; the second call needs no token request",
    async fn(t) {
      const { tenant, identity, mint, minted } = await workloadTenant(t, "portable");
      const contexts = [];
      const events = [];
      const authFetch = t.lib.withWorkloadIdentity({
        assertion: async (context) => {
          contexts.push({ ...context });
          return mint({ aud: context.audience });
        },
        onEvent: (event) => events.push(event),
      })(fetch);
      await callResource(authFetch, tenant.resource, identity.sub);
      assertEqual(contexts.length, 1, "assertion source calls");
      assertEqual(contexts[0].audience, tenant.issuer, "context.audience (the issuer identifier)");
      assertEqual(contexts[0].issuer, tenant.issuer, "context.issuer");
      assertEqual(contexts[0].tokenEndpoint, tenant.tokenEndpoint, "context.tokenEndpoint");
      assertEqual(contexts[0].resource, tenant.resource, "context.resource");
      let counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests");
      const sent = counts.tokenRequests[0];
      assertEqual(sent.grantType, JWT_BEARER, "grant_type");
      assertEqual(sent.assertionAud, tenant.issuer, "assertion aud");
      assertEqual(sent.resource, tenant.resource, "RFC 8707 resource parameter");
      assertEqual(sent.clientId, null, "no client_id without clientId");
      assert(!sent.basic && !sent.clientSecretInBody && !sent.clientAssertion, "no client authentication");
      assertEqual(counts.tokens.length, 1, "tokens issued");
      assertEqual(counts.tokens[0].grantType, JWT_BEARER, "the AS verified the assertion and issued the token by the JWT-bearer grant");
      assertEqual(counts.tokens[0].authMethod, "none", "the AS saw no client authentication");
      assertEqual(counts.tokens[0].clientId, identity.sub, "token issued to the JWT's sub (no client_id sent)");
      const requested = events.filter((event) => event.type === "token-request");
      assertEqual(requested.length, 1, "token-request events");
      assertEqual(requested[0].grantType, JWT_BEARER, "token-request event grantType");
      assertEqual(requested[0].authMethod, "none", "token-request event authMethod");

      await callResource(authFetch, `${tenant.resource}/again`, identity.sub);
      const token = await authFetch.getToken(tenant.resource);
      counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests after a second call and getToken()");
      assertEqual(contexts.length, 1, "assertion source calls after a second call and getToken()");
      assertEqual(counts.resourceTokens.at(-1), 0, "the second call carried the cached token");
      assertNoJwt(minted, events, "the events");
      assertNoJwt(minted, token, "getToken()");
    },
  },
  {
    name: "withWorkloadIdentity: a wrong-audience JWT is not sent (invalid_assertion); told that audience, the AS refuses it (invalid_grant), one token request, no other grant",
    async fn(t) {
      const { tenant, mint, minted } = await workloadTenant(t, "wrong-audience");
      const other = "https://another-authorization-server.test";
      let calls = 0;
      const source = () => {
        calls++;
        return mint({ aud: other });
      };
      const unsent = await rejects(t.lib.withWorkloadIdentity({ assertion: source })(fetch)(tenant.resource), "call with a JWT for another audience");
      assertEqual(unsent?.code, "invalid_assertion", `a JWT minted for another audience (${describeError(unsent)})`);
      assertEqual((await tenant.counts()).token, 0, "token requests for a JWT minted for another audience");
      const authFetch = t.lib.withWorkloadIdentity({ assertion: source, assertionAudience: other })(fetch);
      const error = await rejects(authFetch(tenant.resource, { method: "POST", body: MCP_BODY }), "call with a wrong-audience assertion");
      assert(error instanceof t.lib.ClientCredentialsError, `a ClientCredentialsError (${describeError(error)})`);
      assertEqual(error.code, "invalid_grant", "error code");
      assertEqual(error.phase, "token", "error phase");
      assertEqual(error.status, 400, "error status");
      assertNoJwt(minted, `${error.message} ${error.stack ?? ""}`, "the error");
      const counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests (a 400 is not retried)");
      assertEqual(counts.tokenRequests[0].grantType, JWT_BEARER, "grant_type");
      assertEqual(counts.tokens.length, 0, "tokens issued");
      assert(/"aud"/.test(error.description ?? ""), `the AS refused the audience (description: ${error.description})`);
      assertEqual(calls, 2, "assertion source calls (one per client)");
    },
  },
  {
    name: "withWorkloadIdentity: an expired string assertion is sent and refused (invalid_grant); a non-JWT value or a failing source sends nothing",
    async fn(t) {
      const { tenant, mint, minted } = await workloadTenant(t, "expired");
      const expired = await mint({ aud: tenant.issuer, expiresIn: -120 });
      const call = (assertion) => rejects(t.lib.withWorkloadIdentity({ assertion })(fetch)(tenant.resource, { method: "POST", body: MCP_BODY }), "call");
      const refused = await call(expired);
      assertEqual(refused?.code, "invalid_grant", `expired assertion (${describeError(refused)})`);
      assertEqual(refused.phase, "token", "expired assertion's phase");
      assertNoJwt(minted, refused.message, "the error");
      let counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests for the expired assertion (the AS judges exp)");
      assertEqual(counts.tokenRequests[0].grantType, JWT_BEARER, "grant_type");
      assertEqual(counts.tokens.length, 0, "tokens issued");
      assert(/"exp"/.test(refused.description ?? ""), `the AS refused the expiry (description: ${refused.description})`);
      const notJwt = await call(() => "not-a-jwt");
      assertEqual(notJwt?.code, "invalid_assertion", `non-JWT value (${describeError(notJwt)})`);
      const failing = await call(() => {
        throw new Error("the platform token file is missing");
      });
      assertEqual(failing?.code, "assertion_unavailable", `failing source (${describeError(failing)})`);
      const wrongType = await call(async () => 42);
      assertEqual(wrongType?.code, "assertion_unavailable", `non-string value (${describeError(wrongType)})`);
      counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests after the three unusable assertions");
    },
  },
  {
    name: "token cached: second call makes no token request; getToken() has an absolute expiry",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "cache", clientSecret: "cache-secret" }]);
      const authFetch = t.lib.withClientCredentials({ clientId: "cache", clientSecret: "cache-secret" })(fetch);
      await callResource(authFetch, tenant.resource, "cache");
      await callResource(authFetch, `${tenant.resource}/again`, "cache");
      const before = Date.now();
      const token = await authFetch.getToken(tenant.resource);
      const counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests after two calls and getToken()");
      assertEqual(counts.resourceMetadata, 1, "discovery cached too");
      assertEqual(counts.resource, 3, "resource requests (401, retry, then straight with the cached token)");
      assertEqual(counts.resourceAuthorized, 2, "authorized resource requests");
      assertEqual(typeof token.accessToken, "string", "accessToken");
      assertEqual(token.tokenType.toLowerCase(), "bearer", "tokenType");
      assertEqual(token.resource, tenant.resource, "token.resource");
      assertEqual(token.issuer, tenant.issuer, "token.issuer");
      assert(
        token.expiresAt > before + 3500_000 && token.expiresAt < before + 3700_000,
        `expiresAt is absolute epoch ms, ~1 h ahead (got ${token.expiresAt}, now ${before})`,
      );
      assert(!("obtainedAt" in token), "getToken() returns the public AccessToken shape");
    },
  },
  {
    name: "20 concurrent calls → exactly one discovery and one token request",
    async fn(t) {
      // What an MCP client does: every JSON-RPC POST goes to the one endpoint URL.
      const tenant = await t.tenant([{ clientId: "many", clientSecret: "many-secret" }]);
      const authFetch = t.lib.withClientCredentials({ clientId: "many", clientSecret: "many-secret" })(fetch);
      const results = await Promise.all(Array.from({ length: 20 }, () => callResource(authFetch, tenant.resource, "many")));
      assertEqual(results.length, 20, "all calls succeeded");
      const counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests");
      assertEqual(counts.resourceMetadata, 1, "protected resource metadata requests");
      assertEqual(counts.authorizationServerMetadata, 1, "AS metadata requests");
      // Different URLs under one resource share one discovery and one token request.
      const other = await t.tenant([{ clientId: "paths", clientSecret: "paths-secret" }]);
      const pathsFetch = t.lib.withClientCredentials({ clientId: "paths", clientSecret: "paths-secret" })(fetch);
      await Promise.all(Array.from({ length: 10 }, (_, i) => callResource(pathsFetch, `${other.resource}/call/${i}`, "paths")));
      const otherCounts = await other.counts();
      assertEqual(otherCounts.token, 1, "token requests for 10 concurrent calls to different paths under one resource");
      assertEqual(otherCounts.resourceMetadata, 1, "protected resource metadata requests for 10 concurrent calls to different paths");
    },
  },
  {
    name: "cold gate: 50 concurrent cold POSTs → one 401, one discovery and token request, every body delivered once with the token",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "gate", clientSecret: "gate-secret" }]);
      const authFetch = t.lib.withClientCredentials({ clientId: "gate", clientSecret: "gate-secret" })(fetch);
      const bodies = Array.from({ length: 50 }, (_, i) => JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: `call-${i}` } }));
      const echoed = await Promise.all(
        bodies.map(async (body) => {
          const response = await authFetch(tenant.resource, { method: "POST", headers: { "content-type": "application/json" }, body });
          const text = await response.text();
          assertEqual(response.status, 200, `resource status (body ${text.slice(0, 200)})`);
          const json = JSON.parse(text);
          assertEqual(json.body, body, "the resource got this call's own body");
          assertEqual(json.clientId, "gate", "token issued to the client");
          return json.body;
        }),
      );
      assertEqual(new Set(echoed).size, bodies.length, "distinct bodies answered");
      const counts = await tenant.counts();
      assertEqual(counts.resourceUnauthorized, 1, "401s from the resource (only the first request went without a token)");
      assertEqual(counts.resource, bodies.length + 1, "resource requests (the first one's 401, then each body once with the token)");
      assertEqual(counts.resourceAuthorized, bodies.length, "authorized resource requests (each body delivered once with the token)");
      assert(
        counts.resourceTokens.every((index, i) => index === (i === 0 ? null : 0)),
        `every authorized request carried the one token (${JSON.stringify(counts.resourceTokens)})`,
      );
      assertEqual(counts.resourceMetadata, 1, "protected resource metadata requests");
      assertEqual(counts.authorizationServerMetadata, 1, "AS metadata requests");
      assertEqual(counts.token, 1, "token requests");
    },
  },
  {
    name: "401 with a revoked token → one new token, the call succeeds",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "revoked", clientSecret: "revoked-secret" }]);
      const authFetch = t.lib.withClientCredentials({ clientId: "revoked", clientSecret: "revoked-secret" })(fetch);
      await callResource(authFetch, tenant.resource, "revoked");
      const first = await authFetch.getToken(tenant.resource);
      await tenant.revoke();
      await callResource(authFetch, tenant.resource, "revoked");
      const second = await authFetch.getToken(tenant.resource);
      const counts = await tenant.counts();
      assertEqual(counts.token, 2, "token requests (one more after the revocation)");
      assert(first.accessToken !== second.accessToken, "a new token replaced the revoked one");
      assertEqual(counts.resource, 4, "resource requests (401, ok, 401 invalid_token, ok)");
      assertEqual(counts.resourceMetadata, 1, "no rediscovery for a revoked token");
    },
  },
  {
    name: "invalidate(url): the next call costs one token request, no discovery and no 401",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "invalidate", clientSecret: "invalidate-secret" }]);
      const authFetch = t.lib.withClientCredentials({ clientId: "invalidate", clientSecret: "invalidate-secret" })(fetch);
      await callResource(authFetch, tenant.resource, "invalidate");
      const first = await authFetch.getToken(tenant.resource);
      await authFetch.invalidate(tenant.resource, "some-other-token"); // not the one held: kept
      assertEqual((await authFetch.getToken(tenant.resource)).accessToken, first.accessToken, "a token that was not named stays");
      await authFetch.invalidate(tenant.resource, first.accessToken);
      await callResource(authFetch, tenant.resource, "invalidate");
      const counts = await tenant.counts();
      assertEqual(counts.token, 2, "token requests");
      assertEqual(counts.resource, 3, "resource requests (401, ok, ok with the new token at once)");
      assertEqual(counts.resourceMetadata + counts.authorizationServerMetadata, 2, "metadata requests (discovery kept)");
      assert((await authFetch.getToken(tenant.resource)).accessToken !== first.accessToken, "a new token");
    },
  },
  {
    name: 'redirect: "error" (the AI SDK sends it; workerd rejects it): answers pass, a redirect is a typed error',
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "strict", clientSecret: "strict-secret" }]);
      const authFetch = t.lib.withClientCredentials({ clientId: "strict", clientSecret: "strict-secret" })(fetch);
      const strict = (url) => authFetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: MCP_BODY, redirect: "error" });
      for (const step of ["first call (401, discovery, retry)", "cached token"]) {
        const response = await strict(tenant.resource);
        assertEqual(response.status, 200, `status on the ${step}`);
        assertEqual((await response.json()).body, MCP_BODY, `body on the ${step}`);
      }
      // A Request plus init: workerd's Request constructor refuses redirect: "error" itself.
      const request = new Request(tenant.resource, { method: "POST", headers: { "content-type": "application/json" }, body: MCP_BODY });
      assertEqual((await authFetch(request, { redirect: "error" })).status, 200, "status for a Request with redirect: error in init");
      await tenant.fault("resource", { kind: "status", status: 302, headers: { location: `${t.echoUrl}/echo/elsewhere` } });
      const error = await rejects(strict(tenant.resource), "a 302 with redirect: error");
      assert(error instanceof t.lib.ClientCredentialsError, `ClientCredentialsError expected, got ${describeError(error)}`);
      assertEqual(error.code, "unexpected_redirect", "code");
      assertEqual(error.phase, "resource", "phase");
      const counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests");
    },
  },
  {
    name: "origin guard: other origins and paths never see the token; a caller's own Authorization passes through",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "guard", clientSecret: "guard-secret" }]);
      const authFetch = t.lib.withClientCredentials({ clientId: "guard", clientSecret: "guard-secret" })(fetch);
      await callResource(authFetch, tenant.resource, "guard");
      // The echo listener (another loopback port = another origin) answers 200 with the headers it
      // got; the main listener answers unknown paths 404 with the same report.
      const echo = async (url, init, status = 200) => {
        const response = await authFetch(url, init);
        assertEqual(response.status, status, `status for ${url}`);
        return response.json();
      };
      const otherOrigin = await echo(`${t.echoUrl}/echo/other-origin`, { method: "POST", body: "x" });
      assertEqual(otherOrigin.authorization, null, "Authorization sent to another origin (another loopback port)");
      const otherPath = await echo(`${t.baseUrl}/t/${tenant.id}/elsewhere`, undefined, 404);
      assertEqual(otherPath.authorization, null, "Authorization sent to a path outside the resource");
      const prefixTrick = await echo(`${tenant.resource}-evil/x`, undefined, 404);
      assertEqual(prefixTrick.authorization, null, "Authorization sent to a path that only shares a string prefix");
      const inside = await echo(`${tenant.resource}/inside`, undefined, 200);
      assertEqual(inside.ok, true, "a path under the resource does get the token (control)");
      const own = await echo(`${t.echoUrl}/echo/own`, { headers: { authorization: "Bearer caller-own" } });
      assertEqual(own.authorization, "Bearer caller-own", "a caller-supplied Authorization header is left alone");
      const counts = await tenant.counts();
      assertEqual(counts.token, 1, "no extra token requests");
    },
  },
  {
    name: "a foreign origin's 401 pointing at our resource metadata gets no token",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "foreign", clientSecret: "foreign-secret" }]);
      const authFetch = t.lib.withClientCredentials({ clientId: "foreign", clientSecret: "foreign-secret" })(fetch);
      const url = `${t.echoUrl}/echo/challenge?prm=${encodeURIComponent(tenant.resourceMetadataUrl)}`;
      const error = await rejects(authFetch(url), "foreign challenge");
      assert(error instanceof t.lib.ClientCredentialsError, `ClientCredentialsError expected, got ${describeError(error)}`);
      assertEqual(error.phase, "discovery", "phase");
      assertEqual(error.code, "resource_mismatch", "code");
      const counts = await tenant.counts();
      assertEqual(counts.token, 0, "token requests");
    },
  },
  {
    name: "wrong secret → ClientCredentialsError phase token, invalid_client, 401, secret never leaks",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "wrong", clientSecret: "the-right-one" }]);
      const wrongSecret = "not-the-right-secret-123";
      const authFetch = t.lib.withClientCredentials({ clientId: "wrong", clientSecret: wrongSecret })(fetch);
      const error = await rejects(authFetch(tenant.resource), "wrong secret");
      assert(error instanceof t.lib.ClientCredentialsError, `instanceof ClientCredentialsError (got ${describeError(error)})`);
      assert(error instanceof Error, "instanceof Error");
      assert(t.lib.isClientCredentialsError(error), "isClientCredentialsError()");
      assertEqual(error.name, "ClientCredentialsError", "name");
      assertEqual(error.phase, "token", "phase");
      assertEqual(error.code, "invalid_client", "code");
      assertEqual(error.status, 401, "status");
      assertEqual(typeof error.description, "string", "description");
      const visible = `${error.message} ${error.description} ${JSON.stringify(error)} ${String(error.stack)}`;
      assert(!visible.includes(wrongSecret), "the secret appears in the error");
      const counts = await tenant.counts();
      assertEqual(counts.token, 1, "one token request (401 is not retried)");
      const config = await rejects(
        Promise.resolve().then(() => t.lib.withClientCredentials({ clientId: "x" })),
        "no credentials",
      );
      assert(config instanceof t.lib.ClientCredentialsError, "config error is a ClientCredentialsError");
      assertEqual(config.phase, "config", "config error phase");
    },
  },
  {
    name: "well-known discovery without a challenge URL; OIDC path-appended AS metadata after two 404s",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "oidc", clientSecret: "oidc-secret" }], {
        metadataForms: ["openid-appended"],
        challengeMetadataUrl: false,
      });
      const events = [];
      const authFetch = t.lib.withClientCredentials({ clientId: "oidc", clientSecret: "oidc-secret", onEvent: (e) => events.push(e) })(fetch);
      await callResource(authFetch, tenant.resource, "oidc");
      const prm = events.filter((e) => e.type === "discovery" && e.kind === "resource-metadata");
      assertEqual(prm.length, 1, "PRM lookups");
      assertEqual(prm[0].url, tenant.resourceMetadataUrl, "PRM at the path-form well-known URL");
      const as = events.filter((e) => e.type === "discovery" && e.kind === "authorization-server-metadata");
      const origin = new URL(tenant.issuer).origin;
      const path = new URL(tenant.issuer).pathname;
      assertEqual(
        JSON.stringify(as.map((e) => [e.url, e.status])),
        JSON.stringify([
          [`${origin}/.well-known/oauth-authorization-server${path}`, 404],
          [`${origin}/.well-known/openid-configuration${path}`, 404],
          [`${origin}${path}/.well-known/openid-configuration`, 200],
        ]),
        "AS metadata URLs in the MCP priority order",
      );
      const counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests");
    },
  },
  {
    name: "token endpoint 503 once → retried, then success",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "flaky", clientSecret: "flaky-secret" }]);
      await tenant.fault("token", { kind: "status", status: 503, headers: { "retry-after": "0" } }, 1);
      const retries = [];
      const authFetch = t.lib.withClientCredentials({
        clientId: "flaky",
        clientSecret: "flaky-secret",
        onEvent: (event) => event.type === "http-retry" && retries.push(event),
      })(fetch);
      await callResource(authFetch, tenant.resource, "flaky");
      const counts = await tenant.counts();
      assertEqual(counts.token, 2, "token requests (503, then 200)");
      assertEqual(counts.tokens.length, 1, "tokens issued");
      assertEqual(retries.length, 1, "http-retry events");
      assertEqual(retries[0].status, 503, "retried status");
    },
  },
  {
    name: "429 with a day's Retry-After → retry_later at once with retryAfter; the next call fails without a request",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "limited", clientSecret: "limited-secret" }]);
      await tenant.fault("token", { kind: "status", status: 429, headers: { "retry-after": "86400" } }, 1);
      const authFetch = t.lib.withClientCredentials({ clientId: "limited", clientSecret: "limited-secret" })(fetch);
      const started = Date.now();
      const error = await rejects(authFetch(tenant.resource, { method: "POST", body: MCP_BODY }), "rate-limited call");
      assert(Date.now() - started < 5000, "failed at once, without waiting out the Retry-After");
      assertEqual(error?.code, "retry_later", `error code (${describeError(error)})`);
      assertEqual(error?.retryAfter, 86400, "retryAfter");
      const again = await rejects(authFetch(tenant.resource, { method: "POST", body: MCP_BODY }), "second call");
      assertEqual(again?.code, "retry_later", "second call's code");
      // Remembered for an hour at most: then the server is asked again.
      assert(again.retryAfter > 3500 && again.retryAfter <= 3600, `second call's retryAfter (${again.retryAfter})`);
      assertEqual((await tenant.counts()).token, 1, "token requests");
    },
  },
  {
    name: "the only caller aborts during a Retry-After wait → it rejects at once and the retry is never sent",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "patient", clientSecret: "patient-secret" }]);
      await tenant.fault("token", { kind: "status", status: 429, headers: { "retry-after": "1" } }, 1);
      const authFetch = t.lib.withClientCredentials({ clientId: "patient", clientSecret: "patient-secret" })(fetch);
      const controller = new AbortController();
      const pending = authFetch(tenant.resource, { method: "POST", body: MCP_BODY, signal: controller.signal });
      pending.catch(() => {});
      await tokenRequestArrived(tenant);
      const abortedAt = Date.now();
      controller.abort();
      const error = await rejects(pending, "aborted caller");
      assertEqual(error?.name, "AbortError", `aborted caller's error (${describeError(error)})`);
      assert(Date.now() - abortedAt < 500, "stopped waiting at once");
      await sleep(1500);
      assertEqual((await tenant.counts()).token, 1, "token requests (the abandoned retry was not sent)");
      await callResource(authFetch, tenant.resource, "patient");
    },
  },
  {
    name: "static issuer + resource: getToken() without a resource call, token works with plain fetch",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "static", clientSecret: "static-secret" }]);
      const authFetch = t.lib.withClientCredentials({
        clientId: "static",
        clientSecret: "static-secret",
        issuer: tenant.issuer,
        resource: tenant.resource,
        scope: ["mcp:read"],
      })();
      const token = await authFetch.getToken();
      assertEqual(token.scope, "mcp:read", "granted scope");
      let counts = await tenant.counts();
      assertEqual(counts.resourceMetadata, 0, "no protected resource metadata request");
      assertEqual(counts.resource, 0, "no resource request");
      assertEqual(counts.token, 1, "token requests");
      assertEqual(counts.tokenRequests[0].scope, "mcp:read", "scope parameter");
      const response = await fetch(tenant.resource, { method: "POST", headers: { authorization: `Bearer ${token.accessToken}` }, body: "{}" });
      assertEqual(response.status, 200, "the token is accepted by the resource");
      await authFetch.clearTokens();
      const again = await authFetch.getToken();
      assert(again.accessToken !== token.accessToken, "clearTokens() forgot the token");
      counts = await tenant.counts();
      assertEqual(counts.token, 2, "token requests after clearTokens()");
    },
  },
  {
    name: "a caller's AbortSignal aborts its own wait, never the shared token request",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "abort", clientSecret: "abort-secret" }]);
      await tenant.fault("token", { kind: "delay", ms: 1000 }, 1);
      const authFetch = t.lib.withClientCredentials({ clientId: "abort", clientSecret: "abort-secret" })(fetch);
      const controller = new AbortController();
      const aborted = authFetch(tenant.resource, { method: "POST", body: MCP_BODY, signal: controller.signal });
      aborted.catch(() => {});
      const patient = callResource(authFetch, tenant.resource, "abort");
      patient.catch(() => {}); // awaited below; never an unhandled rejection if the test fails first
      // Abort only once the shared token request is in flight (the server holds it for 1 s).
      await tokenRequestArrived(tenant);
      const abortedAt = Date.now();
      controller.abort();
      const error = await rejects(aborted, "aborted caller");
      const waited = Date.now() - abortedAt;
      assertEqual(error?.name, "AbortError", `aborted caller's error (${describeError(error)})`);
      assert(waited < 500, `the aborted caller stopped waiting at once (took ${waited} ms of the 1 s token request)`);
      await patient;
      const counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests");
      assertEqual(counts.tokens.length, 1, "tokens issued");
    },
  },
  {
    name: "background refresh: a token in its refresh window is served at once while one background request replaces it",
    async fn(t) {
      // 3 s tokens: the refresh window (half the lifetime) opens 1.5 s after the token was
      // requested; callers would wait only in its last quarter (the last 375 ms before expiry).
      const tenant = await t.tenant([{ clientId: "refresh", clientSecret: "refresh-secret" }], { tokenLifetimeSeconds: 3 });
      const errors = [];
      const authFetch = t.lib.withClientCredentials({
        clientId: "refresh",
        clientSecret: "refresh-secret",
        onEvent: (event) => event.type === "error" && errors.push(event.message),
      })(fetch);
      await callResource(authFetch, tenant.resource, "refresh");
      const first = await authFetch.getToken(tenant.resource);
      // The server holds the next token response for 1 s: a caller that waited for it could not
      // return before it is issued. (Not longer: the new token, timed from its request, must not
      // reach its own refresh window before the call that uses it, or that call refreshes again.)
      await tenant.fault("token", { kind: "delay", ms: 1000 }, 1);
      const windowOpens = first.expiresAt - 1500;
      await sleep(Math.max(windowOpens + 100 - Date.now(), 0));
      assert(Date.now() < first.expiresAt - 375, "this runtime reached the refresh window too late to test it");
      await Promise.all(Array.from({ length: 5 }, () => callResource(authFetch, tenant.resource, "refresh")));
      const served = await authFetch.getToken(tenant.resource);
      let counts = await tenant.counts();
      assert(counts.token <= 2, `token requests by the calls inside the window: one refresh at most (got ${counts.token - 1})`);
      assertEqual(counts.tokens.length, 1, "tokens issued when the calls inside the window returned (none waited for the new one)");
      assertEqual(served.accessToken, first.accessToken, "getToken() inside the window serves the old token");
      assertEqual(JSON.stringify(counts.resourceTokens.slice(-5)), JSON.stringify([0, 0, 0, 0, 0]), "tokens the calls inside the window carried");
      for (let i = 0; counts.token < 2; i++) {
        assert(i < 100, "the background token request never arrived");
        await sleep(10);
        counts = await tenant.counts();
      }
      for (let i = 0; counts.tokens.length < 2; i++) {
        assert(i < 300, "the background token request never completed");
        await sleep(10);
        counts = await tenant.counts();
      }
      // Counted now: the new token may reach its own refresh window by the next call (a slow
      // runtime), and that call would then rightly start the next background refresh.
      assertEqual(counts.token, 2, "token requests once the refresh completed (the first, then exactly one refresh)");
      // The server has issued it; the client takes a moment to receive, check and keep it, and
      // until then rightly serves the old token, which is still valid.
      let renewed = await authFetch.getToken(tenant.resource);
      for (let i = 0; renewed.accessToken === first.accessToken; i++) {
        assert(i < 300, "the new token never reached the client");
        await sleep(10);
        renewed = await authFetch.getToken(tenant.resource);
      }
      await callResource(authFetch, tenant.resource, "refresh");
      counts = await tenant.counts();
      assertEqual(counts.resourceTokens.at(-1), 1, "token the call after the refresh carried (the new one)");
      assert(renewed.accessToken !== first.accessToken && renewed.expiresAt > first.expiresAt, "getToken() serves the new token");
      assertEqual(counts.resourceUnauthorized, 1, "401s from the resource (only the first, cold request)");
      assertEqual(errors.length, 0, `error events (${errors.join("; ")})`);
    },
  },
  {
    name: "DPoP (dpop: true) against server nonces: a DPoP token, one use_dpop_nonce round trip each at the token endpoint and the resource, a new proof per request, the token useless alone",
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "dpop", clientSecret: "dpop-secret" }], {}, { dpop: { required: true, requireNonce: true } });
      const events = [];
      const authFetch = t.lib.withClientCredentials({ clientId: "dpop", clientSecret: "dpop-secret", dpop: true, onEvent: (e) => events.push(e) })(fetch);
      await callResource(authFetch, tenant.resource, "dpop");
      const token = await authFetch.getToken(tenant.resource);
      assertEqual(token.tokenType, "DPoP", "getToken().tokenType");
      let counts = await tenant.counts();
      // Bearer costs 1 token request and 2 resource requests (401, retry): the nonces add one each.
      assertEqual(JSON.stringify(counts.tokenRequests.map((r) => proofOutcome(r.dpop))), '["use_dpop_nonce","ok"]', "token requests' proofs");
      const [first, second] = counts.tokenRequests.map((r) => r.dpop);
      assert(first.jti !== second.jti, "the token request's retry carried a new proof");
      assertEqual(counts.tokens.length, 1, "tokens issued");
      assertEqual(counts.tokens[0].jkt, second.jkt, "the token is bound to the proof's key");
      const seen = () => JSON.stringify(counts.resourceDpop.map((r) => `${r.scheme} ${proofOutcome(r.proof)}`));
      assertEqual(seen(), '["null none","dpop use_dpop_nonce","dpop ok"]', "resource requests' schemes and proofs");
      assertEqual(counts.resourceUnauthorized, 2, "401s from the resource (no token, then no nonce)");
      assertEqual(events.filter((e) => e.type === "retry" && e.reason === "use_dpop_nonce").length, 1, "use_dpop_nonce retries at the resource");

      await callResource(authFetch, `${tenant.resource}/again`, "dpop");
      counts = await tenant.counts();
      assertEqual(counts.token, 2, "token requests after a second call");
      assertEqual(seen(), '["null none","dpop use_dpop_nonce","dpop ok","dpop ok"]', "the second call used the resource's nonce at once");
      const [before, after] = counts.resourceDpop.slice(-2).map((r) => r.proof);
      assert(before.jti !== after.jti, "two resource requests carried two different proofs");
      assert(before.jkt === second.jkt && after.jkt === second.jkt, "every proof signed with the token's key");

      // The bound token without a proof of its key is refused, whichever scheme carries it.
      for (const scheme of ["Bearer", "DPoP"]) {
        const response = await fetch(tenant.resource, { method: "POST", headers: { authorization: `${scheme} ${token.accessToken}` }, body: MCP_BODY });
        await response.body?.cancel();
        assertEqual(response.status, 401, `the bound token as ${scheme} without a proof`);
      }
    },
  },
  {
    name: "DPoP with dpop: { keyPair }: an ECDSA P-256 key generated here (non-extractable) signs ES256 proofs; the token is bound to its thumbprint",
    async fn(t) {
      const pair = await generate({ name: "ECDSA", namedCurve: "P-256" }, false);
      await dpopWithKeyPair(t, { pair, alg: "ES256", clientId: "dpop-es256" });
    },
  },
  {
    name: "DPoP with dpop: { keyPair }: an Ed25519 key generated here signs EdDSA proofs (runtimes in WITHOUT_ED25519 must lack it)",
    async fn(t) {
      if (WITHOUT_ED25519.includes(runtimeFamily())) {
        const error = await rejects(
          crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]),
          `${runtimeFamily()} is listed in WITHOUT_ED25519`,
        );
        assert(error instanceof Error, "generateKey failed with an error");
        return;
      }
      const pair = await generate({ name: "Ed25519" }, false);
      await dpopWithKeyPair(t, { pair, alg: "EdDSA", clientId: "dpop-ed25519" });
    },
  },
  {
    name: "DPoP: instances sharing a key pair and a store share its bound token (one token request); an instance with its own key (dpop: true) gets its own",
    async fn(t) {
      const pair = await generate({ name: "ECDSA", namedCurve: "P-256" }, false);
      const tenant = await t.tenant([{ clientId: "dpop-fleet", clientSecret: "dpop-fleet-secret" }], {}, { dpop: { required: true } });
      const store = t.lib.memoryStore();
      const instance = (dpop) => t.lib.withClientCredentials({ clientId: "dpop-fleet", clientSecret: "dpop-fleet-secret", dpop, store })(fetch);
      await callResource(instance({ keyPair: pair }), tenant.resource, "dpop-fleet");
      await callResource(instance({ keyPair: pair }), tenant.resource, "dpop-fleet");
      let counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests of two instances sharing the key and the store");
      assertEqual(counts.resourceTokens.at(-1), 0, "the second instance sent the stored bound token");
      const proof = counts.resourceDpop.at(-1).proof;
      assertEqual(proofOutcome(proof), "ok", `the second instance's proof (${proof?.description})`);
      assertEqual(proof.jkt, await thumbprint(pair.publicKey), "the second instance signed with the shared key");

      // The key's thumbprint is part of the cache key: an instance with its own key never tries the
      // shared key's token (the resource would refuse it, and the call would only recover from that).
      const before = counts;
      await callResource(instance(true), tenant.resource, "dpop-fleet");
      counts = await tenant.counts();
      assertEqual(counts.token, 2, "token requests once an instance with its own key called");
      assert(counts.tokens[1].jkt !== counts.tokens[0].jkt, "its token is bound to its own key");
      assertEqual(counts.resource - before.resource, 1, "its resource requests (one, with its own token)");
      assertEqual(counts.resourceTokens.at(-1), 1, "it sent its own token");
    },
  },
  {
    name: 'DPoP: dpop: true against a server without DPoP → dpop_not_bound, its Bearer token never used; dpop: "auto" gets Bearer',
    async fn(t) {
      const tenant = await t.tenant([{ clientId: "no-dpop", clientSecret: "no-dpop-secret" }]);
      const options = { clientId: "no-dpop", clientSecret: "no-dpop-secret" };
      const error = await rejects(
        t.lib.withClientCredentials({ ...options, dpop: true })(fetch)(tenant.resource, { method: "POST", body: MCP_BODY }),
        "dpop: true",
      );
      assert(error instanceof t.lib.ClientCredentialsError, `a ClientCredentialsError (${describeError(error)})`);
      assertEqual(error.code, "dpop_not_bound", "error code");
      assertEqual(error.phase, "token", "error phase");
      let counts = await tenant.counts();
      assertEqual(counts.token, 1, "token requests (a Bearer answer is not retried)");
      assert(counts.tokenRequests[0].dpop !== null, "the token request carried a proof");
      assertEqual(counts.tokens.length, 1, "the server issued a Bearer token");
      assertEqual(counts.resourceAuthorized, 0, "resource requests carrying it");

      // "auto": the metadata lists no DPoP algorithms, so the client asks for Bearer, without a proof.
      const auto = t.lib.withClientCredentials({ ...options, dpop: "auto" })(fetch);
      await callResource(auto, tenant.resource, "no-dpop");
      assertEqual((await auto.getToken(tenant.resource)).tokenType.toLowerCase(), "bearer", 'dpop: "auto" token type');
      counts = await tenant.counts();
      assertEqual(counts.tokenRequests[1].dpop, null, 'dpop: "auto" sent no proof');
    },
  },
];

/** Stores every runtime has: the contract on memoryStore and on sealedStore, and a fleet sharing one. */
function storeTests(lib) {
  const sealingKey = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const contract = (name, createStore) => storeContract({ createStore, locks: true }).map((test) => ({ name: `${name}: ${test.name}`, fn: () => test.fn() }));
  return [
    ...contract("memoryStore", () => lib.memoryStore()),
    ...contract("sealedStore(memoryStore)", () => lib.sealedStore(lib.memoryStore(), sealingKey())),
    {
      name: "a fleet of 4 instances sharing a sealed store: one token request; a fresh instance on the warm store sends its first call authorized",
      async fn(t) {
        const tenant = await t.tenant([{ clientId: "fleet", clientSecret: "fleet-secret" }]);
        await tenant.fault("token", { kind: "delay", ms: 100 }, 1); // every instance reaches the token step while it is out
        const store = t.lib.sealedStore(t.lib.memoryStore(), sealingKey());
        const instance = () => t.lib.withClientCredentials({ clientId: "fleet", clientSecret: "fleet-secret", store })(fetch);
        const fleet = Array.from({ length: 4 }, instance);
        await Promise.all(fleet.flatMap((authFetch) => [callResource(authFetch, tenant.resource, "fleet"), callResource(authFetch, tenant.resource, "fleet")]));
        let counts = await tenant.counts();
        assertEqual(counts.token, 1, "token requests for the cold fleet");
        const before = counts;
        await callResource(instance(), tenant.resource, "fleet");
        counts = await tenant.counts();
        assertEqual(counts.token - before.token, 0, "token requests of the warm instance");
        assertEqual(counts.resourceMetadata - before.resourceMetadata, 0, "protected resource metadata requests of the warm instance");
        assertEqual(counts.authorizationServerMetadata - before.authorizationServerMetadata, 0, "AS metadata requests of the warm instance");
        assertEqual(
          counts.resource - counts.resourceAuthorized - (before.resource - before.resourceAuthorized),
          0,
          "unauthorized resource requests of the warm instance",
        );
      },
    },
  ];
}

/** Describes the runtime the suite runs in, for the report. */
export function runtimeName() {
  const g = globalThis;
  if (g.Deno?.version) return `deno ${g.Deno.version.deno}`;
  if (g.Bun?.version) return `bun ${g.Bun.version}`;
  if (g.EdgeRuntime) return `edge-runtime (${g.EdgeRuntime})`;
  if (g.navigator?.userAgent === "Cloudflare-Workers") return "workerd";
  if (g.process?.versions?.node && !g.window) return `node ${g.process.versions.node}`;
  if (g.navigator?.userAgent) return g.navigator.userAgent;
  return "unknown";
}

/**
 * Runs every test and returns the summary. Tests run one after another (the concurrency test
 * makes its own parallel calls). `ci`: a skip (a runtime lacking a feature) counts as a failure.
 */
export async function run({ lib, baseUrl, echoUrl, ci = false, log = () => {}, timeoutMs = 20_000, filter } = {}) {
  if (!lib || typeof lib.withClientCredentials !== "function" || typeof lib.withWorkloadIdentity !== "function") {
    throw new TypeError("run({ lib }) needs the built package");
  }
  if (!baseUrl || !echoUrl) throw new TypeError("run() needs baseUrl and echoUrl");
  const results = [];
  for (const test of [...tests, ...storeTests(lib)]) {
    if (filter && !test.name.includes(filter)) continue;
    const t = context({ lib, baseUrl, echoUrl });
    const started = Date.now();
    let result;
    try {
      await withTimeout(test.fn(t), timeoutMs);
      result = { name: test.name, ok: true, skipped: false, error: null };
    } catch (error) {
      const skipped = error instanceof SkipError;
      result = { name: test.name, ok: false, skipped: skipped && !ci, error: (skipped ? "UNSUPPORTED: " : "") + describeError(error) };
    } finally {
      await t.cleanup();
    }
    result.ms = Date.now() - started;
    results.push(result);
    log(`${result.ok ? "ok" : result.skipped ? "SKIP" : "not ok"} - ${result.name} (${result.ms} ms)${result.error ? `\n    ${result.error}` : ""}`);
  }
  const passed = results.filter((r) => r.ok).length;
  const skipped = results.filter((r) => r.skipped).length;
  return { runtime: runtimeName(), passed, failed: results.length - passed - skipped, skipped, total: results.length, results };
}
