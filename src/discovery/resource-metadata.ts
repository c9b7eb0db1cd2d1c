import { ClientCredentialsError, withoutQuery } from "../errors.js";
import { type Http, parseJson } from "../http.js";
import { describeIssues, ProtectedResourceMetadata } from "../schemas.js";
import type { ClientCredentialsEvent } from "../types.js";

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

/** Same origin, and `url`'s path equals the resource's path or continues it at a `/`. */
export function isUnderResource(url: URL, resource: URL): boolean {
  if (url.origin !== resource.origin) return false;
  const base = resource.pathname;
  const path = url.pathname;
  if (base === "/" || base === "" || path === base) return true;
  const prefix = base.endsWith("/") ? base : `${base}/`;
  return path.startsWith(prefix);
}

/** RFC 9728 §3.1 and the MCP spec: challenge URLs first, then the path form, then the root form. */
export function resourceMetadataUrls(requestUrl: URL, challengeUrls: readonly string[]): string[] {
  const path = requestUrl.pathname === "/" ? "" : requestUrl.pathname.replace(/\/$/, "");
  const wellKnown = [`${requestUrl.origin}${WELL_KNOWN}${path}`, `${requestUrl.origin}${WELL_KNOWN}`];
  return [...new Set([...challengeUrls, ...wellKnown])];
}

export async function discoverResource(
  http: Http,
  requestUrl: URL,
  challengeUrls: readonly string[],
  emit: (event: ClientCredentialsEvent) => void,
): Promise<DiscoveredResource> {
  const tried: string[] = [];
  let firstError: ClientCredentialsError | undefined;
  for (const candidate of resourceMetadataUrls(requestUrl, challengeUrls.slice(0, MAX_CHALLENGE_URLS))) {
    try {
      const url = http.secureUrl(candidate, "discovery", "resource_metadata URL");
      const { status, text } = await http.get(url, "discovery");
      emit({ type: "discovery", kind: "resource-metadata", url: withoutQuery(url.href), status, ok: status === 200 });
      const json = status === 200 ? parseJson(text) : undefined;
      // A non-JSON 200 is usually a web app's catch-all page: as good as a 404.
      if (json !== undefined) return validateResourceMetadata(json, url, requestUrl, http);
      tried.push(`${withoutQuery(url.href)} → ${status === 200 ? "200 (not JSON)" : status}`);
    } catch (error) {
      // One broken candidate (a redirect, a bad URL, a wrong document) must not hide a good one.
      if (!(error instanceof ClientCredentialsError)) throw error;
      firstError ??= error;
    }
  }
  throw (
    firstError ??
    new ClientCredentialsError("discovery", `no protected resource metadata for ${resourceOf(requestUrl).href} (tried ${tried.join(", ")})`, {
      code: "resource_metadata_not_found",
      url: requestUrl.href,
    })
  );
}

/** Checks a metadata document (fetched, or read back from a shared store) against the URL it is for. */
export function validateResourceMetadata(json: unknown, metadataUrl: URL, requestUrl: URL, http: Http): DiscoveredResource {
  const parsed = ProtectedResourceMetadata.safeParse(json);
  if (!parsed.success) {
    throw new ClientCredentialsError("discovery", `invalid protected resource metadata (${describeIssues(parsed.error)})`, {
      status: 200,
      code: "invalid_resource_metadata",
      url: metadataUrl.href,
    });
  }
  const metadata = parsed.data;
  let resource: URL;
  try {
    resource = new URL(metadata.resource);
  } catch (cause) {
    throw new ClientCredentialsError("discovery", "protected resource metadata has a `resource` that is not a URL", {
      code: "invalid_resource_metadata",
      url: metadataUrl.href,
      cause,
    });
  }
  if (!isUnderResource(resourceOf(requestUrl), resource)) {
    throw new ClientCredentialsError(
      "discovery",
      `protected resource metadata is for ${resource.origin}${resource.pathname}, which does not cover ${resourceOf(requestUrl).href}`,
      { code: "resource_mismatch", url: metadataUrl.href },
    );
  }
  const servers = metadata.authorization_servers ?? [];
  if (servers.length === 0) {
    throw new ClientCredentialsError("discovery", "protected resource metadata lists no authorization_servers", {
      code: "invalid_resource_metadata",
      url: metadataUrl.href,
    });
  }
  for (const server of servers) http.secureUrl(server, "discovery", "authorization server issuer");
  return {
    resource: metadata.resource,
    authorizationServers: servers,
    ...(metadata.scopes_supported ? { scopesSupported: metadata.scopes_supported } : {}),
    metadataUrl: metadataUrl.href,
  };
}
