/**
 * The protected MCP resource: Bearer tokens (RFC 6750) with RFC 9728 challenges, and with `dpop`
 * on, DPoP-bound tokens and their proofs (RFC 9449 §7).
 * @internal
 */
import { type HttpHandler, HttpResponse, http } from "msw";
import { nonceHeaders, verifyProof } from "./dpop.js";
import { isResourceUrl } from "./options.js";
import type { MockState } from "./state.js";

type Scheme = "bearer" | "dpop";
type ResourceError = "invalid_token" | "insufficient_scope" | "invalid_dpop_proof" | "use_dpop_nonce";

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/**
 * `WWW-Authenticate` for the resource's 401 and 403 answers: a Bearer challenge, and for a
 * DPoP-enabled resource a DPoP one with `algs` too (RFC 9449 §7.1). The error goes in the
 * challenge of the scheme the request used.
 */
function challenge(state: MockState, error?: ResourceError, scheme: Scheme = "bearer"): string {
  const { config } = state;
  const bearer: string[] = [];
  const dpop: string[] = [];
  const target = scheme === "dpop" ? dpop : bearer;
  if (error !== undefined) target.push(`error=${quote(error)}`);
  if (error === "insufficient_scope") target.push(`scope=${quote(config.requiredScopes.join(" "))}`);
  if (config.challengeMetadataUrl) bearer.push(`resource_metadata=${quote(config.resourceMetadataUrl)}`);
  if (error !== "insufficient_scope" && config.challengeScope !== undefined) {
    bearer.push(`scope=${quote(config.challengeScope)}`);
  }
  const bearerChallenge = bearer.length === 0 ? "Bearer" : `Bearer ${bearer.join(", ")}`;
  if (config.dpop === undefined) return bearerChallenge;
  dpop.push(`algs=${quote(config.dpop.algorithms.join(" "))}`);
  return `${bearerChallenge}, DPoP ${dpop.join(", ")}`;
}

/** The credentials of a request: `Bearer <token>`, or `DPoP <token>` when the mock does DPoP. */
function credentials(state: MockState, request: Request): { scheme: Scheme; value: string } | undefined {
  const header = request.headers.get("authorization");
  if (header === null) return undefined;
  const match = /^(Bearer|DPoP)[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i.exec(header);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const scheme = match[1].toLowerCase() as Scheme;
  if (scheme === "dpop" && state.config.dpop === undefined) return undefined;
  return { scheme, value: match[2] };
}

function refuse(state: MockState, scheme: Scheme, error: ResourceError, description: string, status = 401, headers: Record<string, string> = {}) {
  const body: Record<string, string> = { error, error_description: description };
  if (error === "insufficient_scope") body.scope = state.config.requiredScopes.join(" ");
  return HttpResponse.json(body, { status, headers: { "www-authenticate": challenge(state, error, scheme), ...headers } });
}

async function resourceBehaviour(state: MockState, request: Request): Promise<Response> {
  const { config } = state;
  const presented = credentials(state, request);
  if (presented === undefined) {
    return new HttpResponse(null, { status: 401, headers: { "www-authenticate": challenge(state) } });
  }
  const { scheme, value } = presented;
  const token = state.tokensByValue.get(value);
  let problem: string | undefined;
  if (token === undefined) problem = "unknown access token";
  else if (state.revoked.has(value)) problem = "the access token was revoked";
  else if (Date.now() >= token.expiresAt) problem = "the access token expired";
  else if (token.resource !== undefined && token.resource !== config.resource) {
    problem = "the access token was issued for another resource";
  } else if (scheme === "bearer" && token.jkt !== undefined) {
    // RFC 9449 §7.2: a bound token is worthless without a proof of its key.
    problem = "the access token is DPoP-bound: present it with the DPoP scheme and a proof";
  } else if (scheme === "dpop" && token.jkt === undefined) {
    problem = "the access token is not DPoP-bound";
  }
  if (token === undefined || problem !== undefined) {
    if (scheme === "dpop" || token?.jkt !== undefined) state.noteDpop(request, { ok: false, error: "invalid_token", description: problem });
    return refuse(state, scheme, "invalid_token", problem ?? "invalid");
  }
  const dpopHeaders = scheme === "dpop" ? nonceHeaders(state, "resource") : {};
  if (scheme === "dpop" && token.jkt !== undefined) {
    const outcome = await verifyProof(state, request.headers.get("dpop"), {
      server: "resource",
      method: request.method,
      url: request.url,
      token: { value, jkt: token.jkt },
    });
    state.noteDpop(request, outcome);
    if (!outcome.ok) {
      const headers = outcome.error === "use_dpop_nonce" ? dpopHeaders : {};
      return refuse(state, scheme, outcome.error ?? "invalid_dpop_proof", outcome.description ?? "invalid", 401, headers);
    }
  }
  const granted = new Set(token.scope.split(" "));
  if (config.requiredScopes.some((scope) => !granted.has(scope))) {
    return refuse(state, scheme, "insufficient_scope", "the access token lacks a required scope", 403, dpopHeaders);
  }
  const url = new URL(request.url);
  return HttpResponse.json(
    { ok: true, method: request.method, path: url.pathname, clientId: token.clientId, scope: token.scope, body: await request.text() },
    { headers: dpopHeaders },
  );
}

/** Every method on the resource URL and any path below it. */
export function resourceHandler(state: MockState): HttpHandler {
  return http.all(
    ({ request }) => isResourceUrl(state.config, new URL(request.url)),
    ({ request }) => state.handle("resource", request, (req) => resourceBehaviour(state, req)),
  );
}
