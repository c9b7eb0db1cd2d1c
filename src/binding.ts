import { sameIssuer } from "./discovery/authorization-server.js";
import type { BearerChallenge } from "./discovery/challenge.js";
import { documentError } from "./discovery/documents.js";
import {
  type DiscoveredResource,
  discoverResource,
  isUnderResource,
  MAX_CHALLENGE_URLS,
  resourceMetadataUrls,
  resourceOf,
  validateResourceMetadata,
} from "./discovery/resource-metadata.js";
import { ClientCredentialsError } from "./errors.js";
import type { Http } from "./http.js";
import type { ResolvedOptions } from "./options.js";
import type { StoreGuard } from "./stores/guard.js";
import { defined, scopeList } from "./util.js";

/** What the client knows about one protected resource: where its tokens come from and go. */
export interface Binding {
  /** URLs under this (origin + path prefix) get this binding's tokens; nothing else does. */
  boundary: URL;
  /** RFC 8707 indicator to send; `undefined` omits it. */
  resource?: string;
  /** Issuer to discover metadata from (absent when only `tokenEndpoint` is configured). */
  issuer?: string;
  scopes: string[];
  boundAt: number;
  /** Described entirely by options: never rediscovered. */
  static?: boolean;
}

export interface BindContext {
  options: ResolvedOptions;
  http: Http;
  guard: StoreGuard;
}

/** True when static options say where to get tokens, so no authorization server needs choosing. */
export function hasStaticServer(options: ResolvedOptions): boolean {
  return Boolean(options.issuer || options.tokenEndpoint);
}

/** The binding static options describe completely (a resource URL + issuer/token endpoint), if any. */
export function staticBinding(options: ResolvedOptions): Binding | undefined {
  const { boundary } = options;
  if (!boundary || !hasStaticServer(options)) return undefined;
  return defined({
    boundary,
    resource: indicator(options, undefined, boundary),
    issuer: options.issuer || undefined,
    scopes: [...options.scopes],
    boundAt: Date.now(),
    static: true,
  });
}

/**
 * Works out the binding for a URL from its 401 challenge (or, with no challenge, the
 * well-known locations), honouring every static option: they win over what servers say.
 */
export async function bind(context: BindContext, url: URL, challenge: BearerChallenge | undefined): Promise<Binding> {
  const { options } = context;
  const configured = options.boundary;
  if (configured && !isUnderResource(url, configured)) {
    throw new ClientCredentialsError("config", `${resourceOf(url).href} is not under the configured resource ${configured.href}`, {
      code: "resource_mismatch",
    });
  }
  const discovered = await resourceMetadata(context, url, challenge?.resourceMetadata.slice(0, MAX_CHALLENGE_URLS) ?? []);
  const pinned = options.issuer;
  if (pinned && !discovered.authorizationServers.some((server) => sameIssuer(server, pinned))) {
    throw documentError(
      `the resource names authorization servers ${discovered.authorizationServers.join(", ")}, not the configured issuer ${pinned}`,
      "issuer_not_allowed",
      discovered.metadataUrl,
    );
  }
  const boundary = configured ?? resourceOf(new URL(discovered.resource));
  return defined({
    boundary,
    resource: indicator(options, discovered.resource, boundary),
    issuer: (pinned ?? (options.tokenEndpoint ? undefined : discovered.authorizationServers[0])) || undefined,
    scopes: options.scopes.length > 0 ? [...options.scopes] : scopeList(challenge?.scope || discovered.scopesSupported),
    boundAt: Date.now(),
  });
}

/**
 * Protected resource metadata, through the shared store when there is one: the document is
 * public, so every client configuration of a fleet may reuse it. What comes back from the store
 * is checked exactly like a fresh document.
 */
async function resourceMetadata(context: BindContext, url: URL, challengeUrls: readonly string[]): Promise<DiscoveredResource> {
  const { guard, http, options } = context;
  return guard.through(
    "resource-metadata",
    resourceMetadataUrls(url, challengeUrls),
    options.discoveryTtlMs,
    (data) => {
      const { resource, authorizationServers, scopesSupported, metadataUrl } = (data ?? {}) as Partial<DiscoveredResource>;
      const metadata = { resource, authorization_servers: authorizationServers, scopes_supported: scopesSupported };
      return validateResourceMetadata(metadata, new URL(String(metadataUrl)), url, http);
    },
    () => discoverResource(http, url, challengeUrls, options.emit),
  );
}

/** The RFC 8707 indicator: the option, else the discovered `resource` verbatim, else the resource URL. */
function indicator(options: ResolvedOptions, discovered: string | undefined, boundary: URL): string | undefined {
  if (options.resource === false) return undefined;
  return options.resource ?? discovered ?? options.resourceUrl ?? boundary.href;
}
