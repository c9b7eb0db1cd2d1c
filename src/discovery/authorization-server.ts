import { ClientCredentialsError } from "../errors.js";
import { type Http, parseJson } from "../http.js";
import { AuthorizationServerMetadata, describeIssues } from "../schemas.js";
import type { ClientCredentialsEvent } from "../types.js";

/**
 * The MCP authorization spec's priority order: RFC 8414 path-inserted, OIDC path-inserted,
 * OIDC path-appended; for an issuer without a path, the two root forms.
 */
export function authorizationServerMetadataUrls(issuer: URL): string[] {
  const path = issuer.pathname.replace(/\/$/, "");
  const origin = issuer.origin;
  if (path === "") {
    return [`${origin}/.well-known/oauth-authorization-server`, `${origin}/.well-known/openid-configuration`];
  }
  return [
    `${origin}/.well-known/oauth-authorization-server${path}`,
    `${origin}/.well-known/openid-configuration${path}`,
    `${origin}${path}/.well-known/openid-configuration`,
  ];
}

/** RFC 8414 §3.3: exact match; a single trailing slash is tolerated because real servers disagree on it. */
export function sameIssuer(a: string, b: string): boolean {
  const trim = (value: string) => (value.endsWith("/") ? value.slice(0, -1) : value);
  return trim(a) === trim(b);
}

export async function discoverAuthorizationServer(
  http: Http,
  issuer: string,
  emit: (event: ClientCredentialsEvent) => void,
): Promise<AuthorizationServerMetadata & { token_endpoint: string }> {
  const issuerUrl = http.secureUrl(issuer, "discovery", "authorization server issuer");
  if (issuerUrl.search || issuerUrl.hash) {
    throw new ClientCredentialsError("discovery", "an issuer must not have a query or fragment (RFC 8414 §2)", { code: "invalid_issuer", url: issuer });
  }
  const tried: string[] = [];
  let firstError: ClientCredentialsError | undefined;
  for (const candidate of authorizationServerMetadataUrls(issuerUrl)) {
    try {
      const url = new URL(candidate);
      const { status, text } = await http.get(url, "discovery");
      emit({ type: "discovery", kind: "authorization-server-metadata", url: url.href, status, ok: status === 200 });
      const json = status === 200 ? parseJson(text) : undefined;
      if (json !== undefined) return validateAuthorizationServerMetadata(json, url, issuer, http);
      tried.push(`${url.href} → ${status === 200 ? "200 (not JSON)" : status}`);
    } catch (error) {
      // One broken location (a redirect, a wrong document) must not hide a good one.
      if (!(error instanceof ClientCredentialsError)) throw error;
      firstError ??= error;
    }
  }
  throw (
    firstError ??
    new ClientCredentialsError("discovery", `no authorization server metadata for ${issuer} (tried ${tried.join(", ")})`, {
      code: "authorization_server_metadata_not_found",
      url: issuer,
    })
  );
}

/** Checks a metadata document (fetched, or read back from a shared store) against the issuer it is for. */
export function validateAuthorizationServerMetadata(
  json: unknown,
  url: URL,
  issuer: string,
  http: Http,
): AuthorizationServerMetadata & { token_endpoint: string } {
  const parsed = AuthorizationServerMetadata.safeParse(json);
  if (!parsed.success) {
    throw new ClientCredentialsError("discovery", `invalid authorization server metadata (${describeIssues(parsed.error)})`, {
      status: 200,
      code: "invalid_authorization_server_metadata",
      url: url.href,
    });
  }
  const metadata = parsed.data;
  if (!sameIssuer(metadata.issuer, issuer)) {
    throw new ClientCredentialsError(
      "discovery",
      `authorization server metadata names issuer ${JSON.stringify(metadata.issuer.slice(0, 200))}, expected ${issuer}`,
      {
        code: "issuer_mismatch",
        url: url.href,
      },
    );
  }
  if (!metadata.token_endpoint) {
    throw new ClientCredentialsError("discovery", "authorization server metadata has no token_endpoint", {
      code: "invalid_authorization_server_metadata",
      url: url.href,
    });
  }
  http.secureUrl(metadata.token_endpoint, "discovery", "token_endpoint");
  if (metadata.grant_types_supported && !metadata.grant_types_supported.includes("client_credentials")) {
    throw new ClientCredentialsError("discovery", "the authorization server does not support the client_credentials grant (grant_types_supported)", {
      code: "unsupported_grant_type",
      url: url.href,
    });
  }
  return { ...metadata, token_endpoint: metadata.token_endpoint };
}
