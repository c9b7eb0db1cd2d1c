/**
 * The protected MCP resource: Bearer tokens (RFC 6750) with RFC 9728 challenges.
 * @internal
 */
import { type HttpHandler, HttpResponse, http } from "msw";
import { isResourceUrl } from "./options.js";
import type { MockState } from "./state.js";

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/** `WWW-Authenticate: Bearer …` for the resource's 401 and 403 answers. */
function challenge(state: MockState, error: "invalid_token" | "insufficient_scope" | undefined): string {
  const { config } = state;
  const params: string[] = [];
  if (error !== undefined) params.push(`error=${quote(error)}`);
  if (error === "insufficient_scope") params.push(`scope=${quote(config.requiredScopes.join(" "))}`);
  if (config.challengeMetadataUrl) params.push(`resource_metadata=${quote(config.resourceMetadataUrl)}`);
  if (error !== "insufficient_scope" && config.challengeScope !== undefined) {
    params.push(`scope=${quote(config.challengeScope)}`);
  }
  return params.length === 0 ? "Bearer" : `Bearer ${params.join(", ")}`;
}

function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (header === null) return undefined;
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i.exec(header);
  return match?.[1];
}

async function resourceBehaviour(state: MockState, request: Request): Promise<Response> {
  const { config } = state;
  const value = bearerToken(request);
  if (value === undefined) {
    return new HttpResponse(null, { status: 401, headers: { "www-authenticate": challenge(state, undefined) } });
  }
  const token = state.tokensByValue.get(value);
  let problem: string | undefined;
  if (token === undefined) problem = "unknown access token";
  else if (state.revoked.has(value)) problem = "the access token was revoked";
  else if (Date.now() >= token.expiresAt) problem = "the access token expired";
  else if (token.resource !== undefined && token.resource !== config.resource) {
    problem = "the access token was issued for another resource";
  }
  if (token === undefined || problem !== undefined) {
    return HttpResponse.json(
      { error: "invalid_token", error_description: problem },
      { status: 401, headers: { "www-authenticate": challenge(state, "invalid_token") } },
    );
  }
  const granted = new Set(token.scope.split(" "));
  if (config.requiredScopes.some((scope) => !granted.has(scope))) {
    return HttpResponse.json(
      { error: "insufficient_scope", scope: config.requiredScopes.join(" ") },
      { status: 403, headers: { "www-authenticate": challenge(state, "insufficient_scope") } },
    );
  }
  const url = new URL(request.url);
  return HttpResponse.json({
    ok: true,
    method: request.method,
    path: url.pathname,
    clientId: token.clientId,
    scope: token.scope,
    body: await request.text(),
  });
}

/** Every method on the resource URL and any path below it. */
export function resourceHandler(state: MockState): HttpHandler {
  return http.all(
    ({ request }) => isResourceUrl(state.config, new URL(request.url)),
    ({ request }) => state.handle("resource", request, (req) => resourceBehaviour(state, req)),
  );
}
