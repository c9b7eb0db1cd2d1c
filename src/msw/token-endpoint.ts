/**
 * The mock token endpoint: the client_credentials grant (RFC 6749 §4.4) with resource
 * indicators (RFC 8707).
 * @internal
 */
import { type HttpHandler, HttpResponse, http } from "msw";
import { authenticateClient } from "./client-auth.js";
import { oauthErrorResponse } from "./faults.js";
import { urlKey } from "./options.js";
import type { MockState } from "./state.js";
import type { IssuedToken } from "./types.js";

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
  if (grantType !== "client_credentials") {
    return oauthErrorResponse("unsupported_grant_type", `grant_type ${grantType} is not supported`);
  }

  const auth = await authenticateClient(state, request, params);
  if (!auth.ok) return auth.response;
  const { client, method } = auth;

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
  const refused = scopes.filter((scope) => !client.scopes.has(scope));
  if (refused.length > 0) {
    return oauthErrorResponse("invalid_scope", `scope not allowed for this client: ${refused.join(" ")}`);
  }
  const scope = scopes.join(" ");

  const lifetime = config.tokenLifetimeSeconds;
  const token: IssuedToken = {
    accessToken: randomToken(),
    clientId: client.clientId,
    authMethod: method,
    scope,
    expiresAt: Date.now() + (lifetime ?? 3600) * 1000,
  };
  if (resources[0] !== undefined) token.resource = resources[0];
  state.addToken(token);

  const body: Record<string, string | number> = {
    access_token: token.accessToken,
    token_type: config.tokenType,
  };
  if (lifetime !== null) body.expires_in = lifetime;
  if (scope !== "") body.scope = scope;
  return HttpResponse.json(body, { headers: { "cache-control": "no-store", pragma: "no-cache" } });
}

/** Every method on the token endpoint URL (non-POST answers 405). */
export function tokenHandler(state: MockState): HttpHandler {
  return http.all(
    ({ request }) => urlKey(request.url) === state.config.tokenKey,
    ({ request }) => state.handle("token", request, (req) => tokenBehaviour(state, req)),
  );
}
