// Shared by the DPoP e2e files (dpop*.test.ts): the loopback servers each file starts, clients
// whose every request passes a recording `next` (it counts them and keeps the tokens and proofs
// to look for leaks), and the checks the files share. Each file starts only the servers it uses.
import * as jose from "jose";
import { type ClientCredentialsEvent, type ClientCredentialsOptions, type FetchLike, withClientCredentials } from "mcp-client-credentials";
import { afterAll, beforeAll, expect } from "vitest";
import { initializeMessage, MCP_HEADERS } from "./mcp-messages.js";
import { type AuthorizationServer, start as startAuthorizationServer } from "./servers/authorization-server.mjs";
import { type DpopResource, start as startDpopResource } from "./servers/dpop-resource.mjs";
import { generateClientKey, privateKeyJwtClient, randomSecret, secretClient } from "./servers/keys.mjs";
import { workloadClient } from "./servers/stack.mjs";
import { start as startWorkloadIssuer, type WorkloadIssuer } from "./servers/workload-issuer.mjs";

type AuthorizationServerOptions = NonNullable<Parameters<typeof startAuthorizationServer>[0]>;
type DpopResourceOptions = Parameters<typeof startDpopResource>[0];

export const KINDS = ["privateKeyJwt", "clientSecret"] as const;
export type Kind = (typeof KINDS)[number];
export const WORKLOAD = "dpop-workload";
/** The authorization servers, and the resource each one's tokens are for ("eddsa": DPoP with EdDSA proofs only). */
export type Setup = "on" | "nonce" | "off" | "eddsa";

/** Per setup: the authorization server's `dpop` option and the resource's checks. */
const SETUPS: Record<Setup, { dpop: AuthorizationServerOptions["dpop"]; resource: Omit<DpopResourceOptions, "issuer"> }> = {
  // "on" demands no nonce anywhere, "nonce" demands one at both; "off" also takes unbound Bearer tokens.
  on: { dpop: true, resource: { nonce: false } },
  nonce: { dpop: { nonce: true }, resource: {} },
  off: { dpop: false, resource: { nonce: false, bearer: true } },
  eddsa: { dpop: { algorithms: ["EdDSA"] }, resource: { nonce: false, bearer: true } },
};

/** One call `next` made, as sent, and the status it got. */
export interface Sent {
  method: string;
  url: string;
  headers: Headers;
  body?: string;
  status: number;
}
/** Every token and proof any client of this file sent or got, for the leak checks. */
const secrets = new Set<string>();

/** A `next` that records each call and the token_type of each token response. */
export function recorder() {
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

export const credentialId = (kind: Kind) => (kind === "privateKeyJwt" ? "dpop-jwt" : "dpop-secret");

type Extra = Partial<Omit<ClientCredentialsOptions, "clientId" | "clientSecret" | "privateKey">>;

/**
 * Starts (beforeAll) and closes (afterAll) the authorization servers and resources of `setups`, each
 * server with its own clients and keys; `workload` adds the workload issuer, trusted by every
 * authorization server's JWT-bearer grant. `as`, `rs` and `keys` are filled in beforeAll.
 */
export function dpopServers(setups: readonly Setup[], { workload = false } = {}) {
  const as = {} as Record<Setup, AuthorizationServer>;
  const rs = {} as Record<Setup, DpopResource>;
  const keys = { privateKey: "", secret: randomSecret() };
  const issuer = {} as { idp: WorkloadIssuer };

  beforeAll(async () => {
    const key = await generateClientKey("ES256");
    keys.privateKey = key.privateKeyPem;
    if (workload) issuer.idp = await startWorkloadIssuer();
    const clients = [privateKeyJwtClient("dpop-jwt", key), secretClient("dpop-secret", keys.secret), workloadClient(WORKLOAD)];
    const jwtBearer = workload ? { jwtBearer: { trust: [{ issuer: issuer.idp.issuer }] } } : {};
    for (const setup of setups) {
      as[setup] = await startAuthorizationServer({ clients, ...jwtBearer, dpop: SETUPS[setup].dpop });
      rs[setup] = await startDpopResource({ issuer: as[setup].issuer, ...SETUPS[setup].resource });
      as[setup].addResource(rs[setup].resource, { scope: "mcp:tools" });
    }
  });

  afterAll(async () => {
    await Promise.all([...Object.values(rs), ...Object.values(as), issuer.idp].map((server) => server?.close()));
  });

  /** A withClientCredentials client of one kind, with its events and a recording `next`. */
  function client(kind: Kind, options: Extra = {}) {
    const events: ClientCredentialsEvent[] = [];
    const recorded = recorder();
    const credential =
      kind === "privateKeyJwt" ? { clientId: credentialId(kind), privateKey: keys.privateKey } : { clientId: credentialId(kind), clientSecret: keys.secret };
    const authFetch = withClientCredentials({ ...credential, onEvent: (event) => void events.push(event), ...options })(recorded.next);
    return { authFetch, events, ...recorded };
  }

  return { as, rs, keys, issuer, client };
}

export const INITIALIZE = JSON.stringify(initializeMessage("dpop-e2e"));
export { MCP_HEADERS };
/** An initialize POST through `authFetch`: its status and session (the body is dropped). */
export async function initialize(authFetch: (url: string, init: RequestInit) => Promise<Response>, url: string) {
  const response = await authFetch(url, { method: "POST", headers: MCP_HEADERS, body: INITIALIZE });
  await response.body?.cancel();
  return { status: response.status, session: response.headers.get("mcp-session-id") ?? "" };
}

/** The RFC 7638 thumbprint of the key a proof was signed with. */
export const proofThumbprint = (proof: string) => jose.calculateJwkThumbprint(jose.decodeProtectedHeader(proof).jwk as jose.JWK);

export async function ownKeyPair() {
  const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  return { keyPair, thumbprint: await jose.calculateJwkThumbprint(await jose.exportJWK(keyPair.publicKey)) };
}

/** No token or proof this file has seen appears in these events or errors (nor their signatures). */
export function expectNoLeak(events: ClientCredentialsEvent[], ...errors: unknown[]) {
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
