import { ClientCredentialsError, sanitize } from "../errors.js";
import { type Http, parseJson } from "../http.js";
import { describeIssues, OAuthErrorResponse, TokenResponse } from "../schemas.js";
import type { ClientCredentialsEvent, StoredToken } from "../types.js";
import type { ClientAuthenticator } from "./client-auth.js";

/** Lifetime assumed when a token response has no `expires_in` (RFC 6749 §5.1 makes it optional). */
export const DEFAULT_EXPIRES_IN_SECONDS = 3600;

export interface TokenRequest {
  tokenEndpoint: URL;
  issuer?: string;
  /** RFC 8707 resource indicator; omitted when undefined. */
  resource?: string;
  scopes: readonly string[];
}

/** RFC 6749 §4.4: one client_credentials token request, response validated. */
export async function requestToken(
  http: Http,
  auth: ClientAuthenticator,
  request: TokenRequest,
  emit: (event: ClientCredentialsEvent) => void,
): Promise<StoredToken> {
  const scope = request.scopes.length > 0 ? request.scopes.join(" ") : undefined;
  const tokenEndpoint = request.tokenEndpoint.href;
  emit({
    type: "token-request",
    tokenEndpoint,
    authMethod: auth.method,
    ...(request.resource !== undefined ? { resource: request.resource } : {}),
    ...(scope ? { scope } : {}),
  });
  const obtainedAt = Date.now();
  const { status, text } = await http.postForm(
    request.tokenEndpoint,
    async () => {
      const body = new URLSearchParams({ grant_type: "client_credentials" });
      if (request.resource !== undefined) body.set("resource", request.resource);
      if (scope) body.set("scope", scope);
      const headers = new Headers({ accept: "application/json" });
      await auth.apply(body, headers, { tokenEndpoint, ...(request.issuer ? { issuer: request.issuer } : {}) });
      return { body, headers };
    },
    "token",
  );
  const json = parseJson(text);

  const oauthError = OAuthErrorResponse.safeParse(json);
  if (status !== 200 || oauthError.success) {
    const code = oauthError.success ? oauthError.data.error : undefined;
    emit({ type: "token-response", tokenEndpoint, status, ok: false, ...(code ? { error: code } : {}) });
    throw tokenError(status, oauthError.success ? oauthError.data : undefined, auth, tokenEndpoint);
  }

  const parsed = TokenResponse.safeParse(json);
  if (!parsed.success) {
    emit({ type: "token-response", tokenEndpoint, status, ok: false });
    const why = json === undefined ? "is not JSON" : `is invalid (${describeIssues(parsed.error)})`;
    throw new ClientCredentialsError("token", `token response ${why}`, { status, code: "invalid_token_response", url: tokenEndpoint });
  }
  const token = parsed.data;
  if (token.token_type.toLowerCase() !== "bearer") {
    emit({ type: "token-response", tokenEndpoint, status, ok: false });
    throw new ClientCredentialsError("token", `unsupported token_type ${JSON.stringify(token.token_type)} (only Bearer is supported)`, {
      status,
      code: "unsupported_token_type",
      url: tokenEndpoint,
    });
  }
  const expiresAt = obtainedAt + (token.expires_in ?? DEFAULT_EXPIRES_IN_SECONDS) * 1000;
  const grantedScope = token.scope ?? scope;
  emit({ type: "token-response", tokenEndpoint, status, ok: true, expiresAt, ...(grantedScope ? { scope: grantedScope } : {}) });
  return {
    accessToken: token.access_token,
    tokenType: token.token_type,
    expiresAt,
    obtainedAt,
    ...(grantedScope ? { scope: grantedScope } : {}),
    ...(request.resource !== undefined ? { resource: request.resource } : {}),
    ...(request.issuer ? { issuer: request.issuer } : {}),
  };
}

function tokenError(
  status: number,
  body: { error: string; error_description?: string | undefined } | undefined,
  auth: ClientAuthenticator,
  url: string,
): ClientCredentialsError {
  if (!body) {
    return new ClientCredentialsError("token", `token endpoint answered HTTP ${status} without an OAuth error`, { status, url });
  }
  const description = body.error_description === undefined ? undefined : auth.redact(body.error_description);
  const code = auth.redact(body.error);
  return new ClientCredentialsError("token", `token request failed: ${code}${description ? ` (${sanitize(description)})` : ""}`, {
    status,
    code,
    url,
    ...(description !== undefined ? { description } : {}),
  });
}
