// DPoP (RFC 9449, SEP-1932) against real software on loopback: oidc-provider with features.dPoP
// (with and without its nonce requirement, and turned off), and an MCP SDK server behind a DPoP
// check that verifies everything a resource must (servers/dpop-resource.mjs). It imports the
// built package, as users get it (`npx tsup` first). Every request the client sends passes a
// recording `next`, which counts them and keeps the tokens and proofs to look for leaks.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import * as jose from "jose";
import {
  ClientCredentialsError,
  type ClientCredentialsEvent,
  type ClientCredentialsOptions,
  type FetchLike,
  withClientCredentials,
  withWorkloadIdentity,
} from "mcp-client-credentials";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthorizationServer, start as startAuthorizationServer } from "./servers/authorization-server.mjs";
import { type DpopResource, start as startDpopResource } from "./servers/dpop-resource.mjs";
import { generateClientKey, privateKeyJwtClient, randomSecret, secretClient } from "./servers/keys.mjs";
import { workloadClient } from "./servers/stack.mjs";
import { start as startWorkloadIssuer, type WorkloadIssuer } from "./servers/workload-issuer.mjs";

const KINDS = ["privateKeyJwt", "clientSecret"] as const;
type Kind = (typeof KINDS)[number];
const SECRET = randomSecret();
const WORKLOAD = "dpop-workload";
/** The authorization servers, and the resource each one's tokens are for ("eddsa": DPoP with EdDSA proofs only). */
type Setup = "on" | "nonce" | "off" | "eddsa";

let privateKey = "";
let idp: WorkloadIssuer;
const as = {} as Record<Setup, AuthorizationServer>;
const rs = {} as Record<Setup, DpopResource>;

beforeAll(async () => {
  const key = await generateClientKey("ES256");
  privateKey = key.privateKeyPem;
  idp = await startWorkloadIssuer();
  const clients = [privateKeyJwtClient("dpop-jwt", key), secretClient("dpop-secret", SECRET), workloadClient(WORKLOAD)];
  const jwtBearer = { trust: [{ issuer: idp.issuer }] };
  as.on = await startAuthorizationServer({ clients, jwtBearer, dpop: true });
  as.nonce = await startAuthorizationServer({ clients, dpop: { nonce: true } });
  as.off = await startAuthorizationServer({ clients, dpop: false });
  as.eddsa = await startAuthorizationServer({ clients, dpop: { algorithms: ["EdDSA"] } });
  // "on" demands no nonce anywhere, "nonce" demands one at both; "off" also takes unbound Bearer tokens.
  rs.on = await startDpopResource({ issuer: as.on.issuer, nonce: false });
  rs.nonce = await startDpopResource({ issuer: as.nonce.issuer });
  rs.off = await startDpopResource({ issuer: as.off.issuer, nonce: false, bearer: true });
  rs.eddsa = await startDpopResource({ issuer: as.eddsa.issuer, nonce: false, bearer: true });
  for (const setup of ["on", "nonce", "off", "eddsa"] as const) as[setup].addResource(rs[setup].resource, { scope: "mcp:tools" });
});

afterAll(async () => {
  await Promise.all([...Object.values(rs), ...Object.values(as), idp].map((server) => server?.close()));
});

/** One call `next` made, as sent, and the status it got. */
interface Sent {
  method: string;
  url: string;
  headers: Headers;
  body?: string;
  status: number;
}
/** Every token and proof any client of this file sent or got, for the leak checks. */
const secrets = new Set<string>();

/** A `next` that records each call and the token_type of each token response. */
function recorder() {
  const sent: Sent[] = [];
  const tokenTypes: string[] = [];
  const next: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === "GET" ? undefined : await request.clone().text();
    const proof = request.headers.get("dpop");
    const credential = request.headers.get("authorization")?.split(" ")[1];
    for (const secret of [proof, credential]) if (secret) secrets.add(secret);
    const response = await fetch(request);
    const entry: Sent = { method: request.method, url: request.url, headers: request.headers, status: response.status, ...(body ? { body } : {}) };
    sent.push(entry);
    if (request.url.endsWith("/token") && response.ok) {
      const { access_token: token, token_type } = await response.clone().json();
      secrets.add(token);
      tokenTypes.push(token_type);
    }
    return response;
  };
  const to = (url: string) => sent.filter((s) => s.url.startsWith(url));
  return { next, sent, to, tokenTypes };
}

const credentialId = (kind: Kind) => (kind === "privateKeyJwt" ? "dpop-jwt" : "dpop-secret");

type Extra = Partial<Omit<ClientCredentialsOptions, "clientId" | "clientSecret" | "privateKey">>;

/** A withClientCredentials client of one kind, with its events and a recording `next`. */
function client(kind: Kind, options: Extra = {}) {
  const events: ClientCredentialsEvent[] = [];
  const recorded = recorder();
  const credential = kind === "privateKeyJwt" ? { clientId: credentialId(kind), privateKey } : { clientId: credentialId(kind), clientSecret: SECRET };
  const authFetch = withClientCredentials({ ...credential, onEvent: (event) => void events.push(event), ...options })(recorded.next);
  return { authFetch, events, ...recorded };
}

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "dpop-e2e", version: "1.0.0" } },
});
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
/** An initialize POST through `authFetch`: its status and session (the body is dropped). */
async function initialize(authFetch: (url: string, init: RequestInit) => Promise<Response>, url: string) {
  const response = await authFetch(url, { method: "POST", headers: MCP_HEADERS, body: INITIALIZE });
  await response.body?.cancel();
  return { status: response.status, session: response.headers.get("mcp-session-id") ?? "" };
}

/** The RFC 7638 thumbprint of the key a proof was signed with. */
const proofThumbprint = (proof: string) => jose.calculateJwkThumbprint(jose.decodeProtectedHeader(proof).jwk as jose.JWK);

async function ownKeyPair() {
  const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  return { keyPair, thumbprint: await jose.calculateJwkThumbprint(await jose.exportJWK(keyPair.publicKey)) };
}

/** No token or proof this file has seen appears in these events or errors (nor their signatures). */
function expectNoLeak(events: ClientCredentialsEvent[], ...errors: unknown[]) {
  const surfaces = [JSON.stringify(events), ...errors.map((e) => (e instanceof Error ? `${e.message}\n${e.stack}\n${JSON.stringify(e)}` : String(e)))];
  expect(secrets.size).toBeGreaterThan(0);
  for (const secret of secrets) {
    const signature = secret.split(".")[2] ?? secret;
    for (const surface of surfaces) {
      expect(surface.includes(secret)).toBe(false);
      expect(surface.includes(signature)).toBe(false);
    }
  }
}

describe("oidc-provider with features.dPoP: tokens come back DPoP and bound to the client's key", () => {
  describe.each(KINDS)("%s", (kind) => {
    it("dpop: true (a generated key): token_type DPoP, cnf.jkt = the thumbprint of the key that signed the proofs", async () => {
      const c = client(kind, { dpop: true });
      expect((await initialize(c.authFetch, rs.on.url)).status).toBe(200);
      expect(c.tokenTypes).toEqual(["DPoP"]);
      const [tokenRequest] = c.to(as.on.tokenEndpoint);
      const thumbprint = await proofThumbprint(tokenRequest?.headers.get("dpop") ?? "");
      const token = await c.authFetch.getToken(rs.on.url);
      expect(token.tokenType).toBe("DPoP");
      expect(jose.decodeJwt(token.accessToken).cnf).toEqual({ jkt: thumbprint });
      // The resource saw the same key: every authorized request is DPoP with a proof of that key.
      const authorized = c.to(rs.on.url).filter((s) => s.headers.has("authorization"));
      expect(authorized.map((s) => [s.headers.get("authorization")?.split(" ")[0], s.status])).toEqual([["DPoP", 200]]);
      expect(await proofThumbprint(authorized[0]?.headers.get("dpop") ?? "")).toBe(thumbprint);
      expect(c.events.filter((e) => e.type === "token-request").map((e) => e.type === "token-request" && e.dpop)).toEqual([true]);
      expectNoLeak(c.events);
    });

    it("dpop: { keyPair }: cnf.jkt = the RFC 7638 thumbprint of the caller's key", async () => {
      const { keyPair, thumbprint } = await ownKeyPair();
      const c = client(kind, { dpop: { keyPair } });
      const token = await c.authFetch.getToken(rs.on.url);
      expect(c.tokenTypes).toEqual(["DPoP"]);
      expect(jose.decodeJwt(token.accessToken).cnf).toEqual({ jkt: thumbprint });
    });
  });

  it("workload identity: oidc-provider's jwt-bearer grant (servers/jwt-bearer-grant.mjs) ignores the proof; the Bearer answer is refused as dpop_not_bound", async () => {
    const events: ClientCredentialsEvent[] = [];
    const assertion = async ({ audience }: { audience: string }) => idp.mint({ aud: audience });
    const authFetch = withWorkloadIdentity({ clientId: WORKLOAD, assertion, dpop: true, onEvent: (e) => void events.push(e) })(recorder().next);
    const error = await authFetch(rs.on.url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientCredentialsError);
    expect((error as ClientCredentialsError).code).toBe("dpop_not_bound");
    expect(as.on.events.at(-1)).toMatchObject({ type: "grant.success", clientId: WORKLOAD });
    expectNoLeak(events, error);
  });
});

describe("nonces required by the authorization server and the resource", () => {
  /** One initialize and one tools/list through `authFetch`; how many requests each server got. */
  async function run(setup: "on" | "nonce", kind: Kind) {
    const c = client(kind, { dpop: true });
    const { status, session } = await initialize(c.authFetch, rs[setup].url);
    expect(status).toBe(200);
    const list = await c.authFetch(rs[setup].url, {
      method: "POST",
      headers: { ...MCP_HEADERS, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    expect(list.status).toBe(200);
    await list.body?.cancel();
    return { ...c, atAs: c.to(as[setup].tokenEndpoint).length, atRs: c.to(rs[setup].url).length };
  }

  it.each(KINDS)("%s: the session succeeds with exactly one more request at each (the use_dpop_nonce answers)", async (kind) => {
    const base = await run("on", kind);
    const seen = rs.nonce.requests.length;
    const marked = as.nonce.events.length;
    const nonce = await run("nonce", kind);
    expect(nonce.atAs).toBe(base.atAs + 1);
    expect(nonce.atRs).toBe(base.atRs + 1);
    expect(nonce.tokenTypes).toEqual(["DPoP"]);
    expect(as.nonce.events.slice(marked).map((e) => [e.type, e.error])).toEqual([
      ["grant.error", "use_dpop_nonce"],
      ["grant.success", undefined],
    ]);
    const outcomes = rs.nonce.requests
      .slice(seen)
      .filter((r) => r.path === "/mcp")
      .map((r) => r.outcome);
    expect(outcomes).toEqual(["no token", "nonce: missing", "ok", "ok"]);
    const types = nonce.events.map((e) => (e.type === "retry" ? `retry:${e.reason}` : e.type));
    expect(types.filter((t) => t === "dpop-nonce")).toHaveLength(2);
    expect(types.filter((t) => t === "retry:use_dpop_nonce")).toHaveLength(1);
    expectNoLeak(nonce.events);
  });

  it("a nonce rotated abruptly costs one more request; one announced in a 200 costs none", async () => {
    const c = client("clientSecret", { dpop: true });
    const echo = async () => (await initialize(c.authFetch, rs.nonce.url)).status;
    expect(await echo()).toBe(200);
    let seen = rs.nonce.requests.length;
    rs.nonce.rotateNonce();
    expect(await echo()).toBe(200);
    expect(rs.nonce.requests.slice(seen).map((r) => r.outcome)).toEqual(["nonce: stale", "ok"]);
    // Graceful twice: the second call is accepted only if the client took the nonce the first answer announced.
    seen = rs.nonce.requests.length;
    rs.nonce.rotateNonce({ graceful: true });
    expect(await echo()).toBe(200);
    rs.nonce.rotateNonce({ graceful: true });
    expect(await echo()).toBe(200);
    expect(rs.nonce.requests.slice(seen).map((r) => r.outcome)).toEqual(["ok", "ok"]);
  });
});

describe("MCP sessions through the DPoP-validating resource (nonces on)", () => {
  it.each(KINDS)("SDK v1 client, %s: initialize, tools/list, tools/call; every authorized request a DPoP one", async (kind) => {
    const { keyPair, thumbprint } = await ownKeyPair();
    const c = client(kind, { dpop: { keyPair } });
    const seen = rs.nonce.requests.length;
    const mcp = new Client({ name: "dpop-e2e-v1", version: "1.0.0" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(rs.nonce.url), { fetch: c.authFetch }));
    try {
      expect((await mcp.listTools()).tools.map((t) => t.name)).toEqual(["echo", "add", "whoami"]);
      expect(await mcp.callTool({ name: "add", arguments: { a: 2, b: 3 } })).toMatchObject({ structuredContent: { sum: 5 } });
      expect((await mcp.callTool({ name: "whoami", arguments: {} })).structuredContent).toEqual({
        clientId: credentialId(kind),
        scopes: ["mcp:tools"],
        jkt: thumbprint,
      });
    } finally {
      await mcp.close();
    }
    const requests = rs.nonce.requests.slice(seen).filter((r) => r.authorized);
    expect(requests.every((r) => r.scheme === "DPoP" && r.proof)).toBe(true);
    expect(requests.filter((r) => r.outcome !== "ok").map((r) => r.outcome)).toEqual(["nonce: missing"]);
    expect(requests.filter((r) => r.method === "POST" && r.outcome === "ok").map((r) => r.rpc)).toEqual([
      "initialize",
      "notifications/initialized",
      "tools/list",
      "tools/call",
      "tools/call",
    ]);
    expectNoLeak(c.events);
  });

  it.each(KINDS)("SDK v2 client (@modelcontextprotocol/client), %s: the 2025 handshake, tools/list, tools/call", async (kind) => {
    const { keyPair, thumbprint } = await ownKeyPair();
    const c = client(kind, { dpop: { keyPair } });
    const mcp = new ClientV2({ name: "dpop-e2e-v2", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
    await mcp.connect(new TransportV2(new URL(rs.nonce.url), { fetch: c.authFetch }));
    try {
      expect((await mcp.listTools()).tools.map((t) => t.name)).toEqual(["echo", "add", "whoami"]);
      expect(await mcp.callTool({ name: "echo", arguments: { text: "bound" } })).toMatchObject({ content: [{ type: "text", text: "bound" }] });
      expect((await mcp.callTool({ name: "whoami", arguments: {} })).structuredContent).toMatchObject({ clientId: credentialId(kind), jkt: thumbprint });
    } finally {
      await mcp.close();
    }
    expect(c.to(rs.nonce.url).filter((s) => s.headers.has("authorization") && !s.headers.get("authorization")?.startsWith("DPoP "))).toEqual([]);
    expectNoLeak(c.events);
  });
});

describe("the resource refuses what is not a fresh proof of the token's key for this request", () => {
  /** A client's successful initialize, as sent: its token, proof, nonce, headers and body. */
  async function captured() {
    const { keyPair } = await ownKeyPair();
    const c = client("privateKeyJwt", { dpop: { keyPair } });
    expect((await initialize(c.authFetch, rs.nonce.url)).status).toBe(200);
    const ok = c.to(rs.nonce.url).find((s) => s.status === 200);
    const proof = ok?.headers.get("dpop") ?? "";
    const token = ok?.headers.get("authorization")?.split(" ")[1] ?? "";
    return { keyPair, ok: ok as Sent, proof, token, nonce: String(jose.decodeJwt(proof).nonce) };
  }

  /** Sends initialize with plain fetch; the status and what the resource recorded. */
  async function send(authorization: string, proof?: string) {
    const response = await fetch(rs.nonce.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization, ...(proof ? { dpop: proof } : {}) },
      body: INITIALIZE,
    });
    await response.body?.cancel();
    return [response.status, rs.nonce.requests.at(-1)?.outcome, response.headers.get("www-authenticate")?.match(/error="([^"]+)"/)?.[1]];
  }

  interface Shape {
    htm?: string;
    htu?: string;
    key?: CryptoKeyPair;
    alg?: string;
    typ?: string;
    /** Seconds before now. */
    age?: number;
    /** The token `ath` hashes. */
    athOf?: string;
  }

  /** A proof made here, right unless `shape` says otherwise (the client's own proofs are not ours to shape). */
  async function proofFor(base: { keyPair: CryptoKeyPair; token: string; nonce: string }, shape: Shape = {}) {
    const { privateKey, publicKey } = shape.key ?? base.keyPair;
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(shape.athOf ?? base.token));
    const claims = { htm: shape.htm ?? "POST", htu: shape.htu ?? rs.nonce.url, nonce: base.nonce, ath: jose.base64url.encode(new Uint8Array(digest)) };
    return new jose.SignJWT(claims)
      .setProtectedHeader({ typ: shape.typ ?? "dpop+jwt", alg: shape.alg ?? "ES256", jwk: await jose.exportJWK(publicKey) })
      .setJti(crypto.randomUUID())
      .setIssuedAt(Math.floor(Date.now() / 1000) - (shape.age ?? 0))
      .sign(privateKey);
  }

  it("a replayed proof, the token without its proof (as Bearer; as DPoP with no DPoP header)", async () => {
    const { ok, proof, token } = await captured();
    const replay = await fetch(ok.url, { method: ok.method, headers: ok.headers, body: ok.body ?? null });
    await replay.body?.cancel();
    expect([replay.status, rs.nonce.requests.at(-1)?.outcome]).toEqual([401, "proof: replayed jti"]);
    expect(await send(`Bearer ${token}`)).toEqual([401, "bound token sent as Bearer", "invalid_token"]);
    expect(await send(`Bearer ${token}`, proof)).toEqual([401, "bound token sent as Bearer", "invalid_token"]);
    expect(await send(`DPoP ${token}`)).toEqual([401, "no DPoP proof", "invalid_dpop_proof"]);
  });

  it("a proof for another URL or method, for another token, too old, of another type, alg or key; the same proof made right is accepted", async () => {
    const base = await captured();
    const other = await ownKeyPair();
    const p521 = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-521" }, false, ["sign", "verify"]);
    const cases: Array<[Shape, string, string]> = [
      [{ htu: `${rs.nonce.origin}/elsewhere` }, "proof: htu mismatch", "invalid_dpop_proof"],
      [{ htm: "GET" }, "proof: htm mismatch", "invalid_dpop_proof"],
      [{ athOf: `${base.token}x` }, "proof: ath mismatch", "invalid_dpop_proof"],
      [{ age: 120 }, "proof: iat out of window", "invalid_dpop_proof"],
      [{ typ: "JWT" }, "proof: ERR_JWT_CLAIM_VALIDATION_FAILED", "invalid_dpop_proof"],
      [{ key: p521, alg: "ES512" }, "proof: ERR_JOSE_ALG_NOT_ALLOWED", "invalid_dpop_proof"],
      [{ key: other.keyPair }, "cnf.jkt is not the proof key's thumbprint", "invalid_token"],
    ];
    for (const [shape, outcome, error] of cases) expect(await send(`DPoP ${base.token}`, await proofFor(base, shape))).toEqual([401, outcome, error]);
    // The control: the same construction, right in every way (a query is no part of htu), passes.
    expect(await send(`DPoP ${base.token}`, await proofFor(base, { htu: `${rs.nonce.url}?ignored=1` }))).toEqual([200, "ok", undefined]);
  });
});

describe('dpop: "auto" follows the authorization server\'s metadata', () => {
  it("without dPoP (features.dPoP off): Bearer tokens, no proofs anywhere", async () => {
    const c = client("clientSecret", { dpop: "auto" });
    expect((await initialize(c.authFetch, rs.off.url)).status).toBe(200);
    expect(c.tokenTypes).toEqual(["Bearer"]);
    expect(c.sent.filter((s) => s.headers.has("dpop"))).toEqual([]);
    expect(rs.off.requests.at(-1)).toMatchObject({ scheme: "Bearer", proof: false, outcome: "ok" });
    expect((await c.authFetch.getToken(rs.off.url)).tokenType).toBe("Bearer");
  });

  it("with dPoP: DPoP tokens and proofs", async () => {
    const c = client("privateKeyJwt", { dpop: "auto" });
    expect((await initialize(c.authFetch, rs.on.url)).status).toBe(200);
    expect(c.tokenTypes).toEqual(["DPoP"]);
    expect(rs.on.requests.at(-1)).toMatchObject({ scheme: "DPoP", proof: true, outcome: "ok" });
  });

  it("with dPoP for EdDSA proofs only: an ES256 key is not used (Bearer); an Ed25519 key pair is (DPoP)", async () => {
    const es256 = client("clientSecret", { dpop: "auto" });
    expect((await initialize(es256.authFetch, rs.eddsa.url)).status).toBe(200);
    expect([es256.tokenTypes, es256.sent.filter((s) => s.headers.has("dpop")).length]).toEqual([["Bearer"], 0]);
    const keyPair = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const ed25519 = client("clientSecret", { dpop: { keyPair, mode: "auto" } });
    expect((await initialize(ed25519.authFetch, rs.eddsa.url)).status).toBe(200);
    expect(ed25519.tokenTypes).toEqual(["DPoP"]);
    expect(rs.eddsa.requests.at(-1)).toMatchObject({ scheme: "DPoP", proof: true, outcome: "ok" });
  });

  it("dpop: true against the server without dPoP: it answers Bearer, refused as dpop_not_bound (nothing leaks)", async () => {
    const c = client("privateKeyJwt", { dpop: true });
    const error = await initialize(c.authFetch, rs.off.url).catch((e: unknown) => e);
    expect((error as ClientCredentialsError).code).toBe("dpop_not_bound");
    expect(c.tokenTypes).toEqual(["Bearer"]);
    expectNoLeak(c.events, error);
  });
});

describe("examples/dpop.mjs (quoted by the docs), as a separate process", () => {
  it("lists the tools through the DPoP resource (nonces on) and reports a DPoP token; every authorized request a DPoP one", async () => {
    const seen = rs.nonce.requests.length;
    // Only what the example reads: no credential inherited from this process.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(MCP_|VITEST)/.test(name)));
    const env = { ...inherited, NO_COLOR: "1", MCP_SERVER_URL: rs.nonce.url, MCP_CLIENT_ID: credentialId("privateKeyJwt"), MCP_PRIVATE_KEY: privateKey };
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["examples/dpop.mjs"], { cwd: root, timeout: 30_000, env });
    expect(stdout).toBe("tools: echo, add, whoami\ntoken type: DPoP\n");
    expect(stderr).toBe("");
    const mcp = rs.nonce.requests.slice(seen).filter((r) => r.path === "/mcp" && r.authorized);
    expect(mcp.length).toBeGreaterThan(0);
    expect(mcp.every((r) => r.scheme === "DPoP" && r.proof)).toBe(true);
    expect(mcp.filter((r) => r.outcome !== "ok").map((r) => r.outcome)).toEqual(["nonce: missing"]);
  });
});
