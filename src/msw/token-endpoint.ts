/**
 * The mock token endpoint: the client_credentials grant (RFC 6749 §4.4) and the JWT-bearer grant
 * (RFC 7523 §2.1), with resource indicators (RFC 8707).
 * @internal
 */
import { type HttpHandler, HttpResponse, http } from "msw";
import { authenticateClient } from "./client-auth.js";
import { nonceHeaders, verifyProof } from "./dpop.js";
import { oauthErrorResponse } from "./faults.js";
import { JWT_BEARER_GRANT, urlKey } from "./options.js";
import type { MockState } from "./state.js";
import type { IssuedToken } from "./types.js";
import { verifyJwtBearer } from "./workload.js";

/** Parameters that RFC 8707 allows more than once. */
const REPEATABLE_PARAMS = new Set(["resource"]);

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function splitScope(scope: string | null): string[] {
  if (scope === null) return [];
  return [...new Set(scope.split(" ").filter((s) => s !== ""))];
}

async function tokenBehaviour(state: MockState, request: Request): Promise<Response> {
  const { config } = state;
  if (request.method !== "POST") {
    return oauthErrorResponse("invalid_request", "the token endpoint only accepts POST", 405, { allow: "POST" });
  }
  const contentType = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (contentType !== "application/x-www-form-urlencoded") {
    return oauthErrorResponse("invalid_request", "the body must be application/x-www-form-urlencoded");
  }
  const params = new URLSearchParams(await request.text());
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name) && !REPEATABLE_PARAMS.has(name)) {
      return oauthErrorResponse("invalid_request", `parameter ${name} is repeated`);
    }
    seen.add(name);
  }

  const grantType = params.get("grant_type");
  if (grantType === null) return oauthErrorResponse("invalid_request", "grant_type is missing");
  const workloadGrant = grantType === JWT_BEARER_GRANT && config.workloads.length > 0;
  if (grantType !== "client_credentials" && !workloadGrant) {
    return oauthErrorResponse("unsupported_grant_type", `grant_type ${grantType} is not supported`);
  }

  // DPoP first (RFC 9449 §5): a nonce error must not use up a client assertion's jti.
  let jkt: string | undefined;
  const proof = request.headers.get("dpop");
  if (config.dpop && (proof !== null || config.dpop.required)) {
    const outcome = await verifyProof(state, proof, { server: "token", method: "POST", url: request.url });
    state.noteDpop(request, outcome);
    if (!outcome.ok) {
      const headers = outcome.error === "use_dpop_nonce" ? nonceHeaders(state, "token") : {};
      return oauthErrorResponse(outcome.error ?? "invalid_dpop_proof", outcome.description, 400, headers);
    }
    jkt = outcome.jkt;
  }

  let grantee: { clientId: string; method: IssuedToken["authMethod"]; scopes: ReadonlySet<string> };
  if (workloadGrant) {
    const grant = await verifyJwtBearer(state, params, request.headers.get("authorization"));
    if (!grant.ok) return grant.response;
    grantee = { clientId: params.get("client_id") ?? grant.subject, method: "none", scopes: grant.workload.scopes };
  } else {
    const auth = await authenticateClient(state, request, params);
    if (!auth.ok) return auth.response;
    grantee = { clientId: auth.client.clientId, method: auth.method, scopes: auth.client.scopes };
  }

  const resources = params.getAll("resource");
  if (resources.length === 0 && config.requireResourceIndicator) {
    return oauthErrorResponse("invalid_target", "the resource parameter is required");
  }
  for (const resource of resources) {
    if (resource !== config.resource) {
      return oauthErrorResponse("invalid_target", `unknown resource ${resource}`);
    }
  }

  const scopes = splitScope(params.get("scope"));
  const refused = scopes.filter((scope) => !grantee.scopes.has(scope));
  if (refused.length > 0) {
    return oauthErrorResponse("invalid_scope", `scope not allowed for this client: ${refused.join(" ")}`);
  }
  const scope = scopes.join(" ");

  const lifetime = config.tokenLifetimeSeconds;
  const token: IssuedToken = {
    accessToken: randomToken(),
    clientId: grantee.clientId,
    authMethod: grantee.method,
    grantType,
    scope,
    expiresAt: Date.now() + (lifetime ?? 3600) * 1000,
  };
  if (resources[0] !== undefined) token.resource = resources[0];
  if (jkt !== undefined) token.jkt = jkt;
  state.addToken(token);

  const body: Record<string, string | number> = {
    access_token: token.accessToken,
    token_type: jkt === undefined ? config.tokenType : "DPoP",
  };
  if (lifetime !== null) body.expires_in = lifetime;
  if (scope !== "") body.scope = scope;
  const dpopHeaders = jkt === undefined ? {} : nonceHeaders(state, "token");
  return HttpResponse.json(body, { headers: { "cache-control": "no-store", pragma: "no-cache", ...dpopHeaders } });
}

/** Every method on the token endpoint URL (non-POST answers 405). */
export function tokenHandler(state: MockState): HttpHandler {
  return http.all(
    ({ request }) => urlKey(request.url) === state.config.tokenKey,
    ({ request }) => state.handle("token", request, (req) => tokenBehaviour(state, req)),
  );
}
