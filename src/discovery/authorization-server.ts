import type { Http } from "../http.js";
import { type AuthorizationServerMetadata, validate } from "../schemas.js";
import type { ClientCredentialsEvent } from "../types.js";
import { documentError, firstDocument } from "./documents.js";

type Metadata = AuthorizationServerMetadata & { token_endpoint: string };

/**
 * The MCP authorization spec's priority order: RFC 8414 path-inserted, OIDC path-inserted,
 * OIDC path-appended; for an issuer without a path, the two root forms.
 */
export function authorizationServerMetadataUrls(issuer: URL): string[] {
  const path = issuer.pathname.replace(/\/$/, "");
  const origin = issuer.origin;
  const urls = [`${origin}/.well-known/oauth-authorization-server${path}`, `${origin}/.well-known/openid-configuration${path}`];
  if (path) urls.push(`${origin}${path}/.well-known/openid-configuration`);
  return urls;
}

/** RFC 8414 §3.3: exact match; a single trailing slash is tolerated because real servers disagree on it. */
export function sameIssuer(a: string, b: string): boolean {
  const trim = (value: string) => (value.endsWith("/") ? value.slice(0, -1) : value);
  return trim(a) === trim(b);
}

export async function discoverAuthorizationServer(http: Http, issuer: string, emit: (event: ClientCredentialsEvent) => void): Promise<Metadata> {
  const issuerUrl = http.secureUrl(issuer, "discovery", "authorization server issuer");
  if (issuerUrl.search || issuerUrl.hash) {
    throw documentError("an issuer must not have a query or fragment (RFC 8414 §2)", "invalid_issuer", issuer);
  }
  return firstDocument(
    http,
    authorizationServerMetadataUrls(issuerUrl),
    "authorization-server-metadata",
    emit,
    (json, url) => validateAuthorizationServerMetadata(json, url, issuer, http),
    (tried) => documentError(`no authorization server metadata for ${issuer} (tried ${tried})`, "authorization_server_metadata_not_found", issuer),
  );
}

/** Checks a metadata document (fetched, or read back from a shared store) against the issuer it is for. */
export async function validateAuthorizationServerMetadata(json: unknown, url: URL, issuer: string, http: Http): Promise<Metadata> {
  const metadata = await validate("server", json);
  const invalid = "invalid_authorization_server_metadata";
  if (typeof metadata === "string") throw documentError(`invalid authorization server metadata (${metadata})`, invalid, url);
  if (!sameIssuer(metadata.issuer, issuer)) {
    throw documentError(
      `authorization server metadata names issuer ${JSON.stringify(metadata.issuer.slice(0, 200))}, expected ${issuer}`,
      "issuer_mismatch",
      url,
    );
  }
  const tokenEndpoint = metadata.token_endpoint;
  if (!tokenEndpoint) throw documentError("authorization server metadata has no token_endpoint", invalid, url);
  http.secureUrl(tokenEndpoint, "discovery", "token_endpoint");
  // grant_types_supported is advisory (RFC 8414 §2): servers that accept client_credentials
  // without listing it exist, so the token request is tried and a refusal quotes the list.
  return { ...metadata, token_endpoint: tokenEndpoint };
}
