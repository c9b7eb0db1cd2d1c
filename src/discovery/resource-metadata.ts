import { type Http, isLoopback } from "../http.js";
import { validate } from "../schemas.js";
import type { ClientCredentialsEvent } from "../types.js";
import { defined } from "../util.js";
import { documentError, firstDocument } from "./documents.js";

const WELL_KNOWN = "/.well-known/oauth-protected-resource";
/** A challenge may name several metadata URLs; a hostile one must not make us fetch hundreds. */
export const MAX_CHALLENGE_URLS = 4;

export interface DiscoveredResource {
  /** The `resource` member, verbatim: sent as the RFC 8707 resource indicator. */
  resource: string;
  authorizationServers: string[];
  scopesSupported?: string[];
  metadataUrl: string;
}

/** The URL without query or fragment: what a resource identifier is compared with. */
export function resourceOf(url: URL): URL {
  const bare = new URL(url.href);
  bare.search = "";
  bare.hash = "";
  return bare;
}

/**
 * After the resource's path: an encoded `/` or `\`, or a dot-segment that is percent-encoded or
 * hidden behind `;` parameters (`..;`). URL parsing keeps them, but a server that decodes or
 * strips them before routing would resolve the path outside the resource.
 */
const ESCAPES = /%2f|%5c|\\|(?:^|\/)(?:\.|%2e){1,2}(?:;[^/]*)?(?:\/|$)/i;

/** Same origin, and `url`'s path equals the resource's path or continues it at a `/`, without escaping it. */
export function isUnderResource(url: URL, resource: URL): boolean {
  if (url.origin !== resource.origin) return false;
  const base = resource.pathname;
  const path = url.pathname;
  if (base === "/" || base === "" || path === base) return true;
  const prefix = base.endsWith("/") ? base : `${base}/`;
  return path.startsWith(prefix) && !ESCAPES.test(path.slice(prefix.length));
}

/** RFC 9728 §3.1 and the MCP spec: challenge URLs first, then the path form, then the root form. */
export function resourceMetadataUrls(requestUrl: URL, challengeUrls: readonly string[]): string[] {
  const path = requestUrl.pathname === "/" ? "" : requestUrl.pathname.replace(/\/$/, "");
  const wellKnown = [`${requestUrl.origin}${WELL_KNOWN}${path}`, `${requestUrl.origin}${WELL_KNOWN}`];
  return [...new Set([...challengeUrls, ...wellKnown])];
}

/** A remote server naming a loopback URL would make this client probe its own host's services. */
function namesLoopback(value: string): boolean {
  try {
    return isLoopback(new URL(value));
  } catch {
    return false;
  }
}

/** The metadata URLs to try for a request, in order: a few of the challenge's (none on loopback for a remote server), then the well-known ones. */
export function metadataCandidates(requestUrl: URL, challengeUrls: readonly string[]): string[] {
  return resourceMetadataUrls(
    requestUrl,
    challengeUrls.slice(0, MAX_CHALLENGE_URLS).filter((named) => isLoopback(requestUrl) || !namesLoopback(named)),
  );
}

export function discoverResource(
  http: Http,
  requestUrl: URL,
  challengeUrls: readonly string[],
  emit: (event: ClientCredentialsEvent) => void,
): Promise<DiscoveredResource> {
  return firstDocument(
    http,
    metadataCandidates(requestUrl, challengeUrls),
    "resource-metadata",
    emit,
    (json, url) => validateResourceMetadata(json, url, requestUrl, http),
    (tried) => documentError(`no protected resource metadata for ${resourceOf(requestUrl).href} (tried ${tried})`, "resource_metadata_not_found", requestUrl),
  );
}

/** Checks a metadata document (fetched, or read back from a shared store) against the URL it is for. */
export async function validateResourceMetadata(json: unknown, metadataUrl: URL, requestUrl: URL, http: Http): Promise<DiscoveredResource> {
  const metadata = await validate("resource", json);
  const invalid = "invalid_resource_metadata";
  if (typeof metadata === "string") throw documentError(`invalid protected resource metadata (${metadata})`, invalid, metadataUrl);
  let resource: URL;
  try {
    resource = new URL(metadata.resource);
  } catch (cause) {
    throw documentError("protected resource metadata has a `resource` that is not a URL", invalid, metadataUrl, cause);
  }
  const covered = resourceOf(requestUrl);
  if (!isUnderResource(covered, resource)) {
    throw documentError(
      `protected resource metadata is for ${resource.origin}${resource.pathname}, which does not cover ${covered.href}`,
      "resource_mismatch",
      metadataUrl,
    );
  }
  const servers = metadata.authorization_servers ?? [];
  if (!servers.length) throw documentError("protected resource metadata lists no authorization_servers", invalid, metadataUrl);
  for (const server of servers) http.secureUrl(server, "discovery", "authorization server issuer");
  return defined({ resource: metadata.resource, authorizationServers: servers, scopesSupported: metadata.scopes_supported, metadataUrl: metadataUrl.href });
}
