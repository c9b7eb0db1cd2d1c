import { sameIssuer } from "./discovery/authorization-server.js";
import type { BearerChallenge } from "./discovery/challenge.js";
import { discoverResource, isUnderResource, resourceOf, type DiscoveredResource } from "./discovery/resource-metadata.js";
import { ClientCredentialsError } from "./errors.js";
import type { Http } from "./http.js";
import type { ClientCredentialsEvent, ClientCredentialsOptions } from "./types.js";
import { scopeList } from "./util.js";

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
  options: ClientCredentialsOptions;
  http: Http;
  emit: (event: ClientCredentialsEvent) => void;
}

/** True when static options say where to get tokens, so no resource metadata is needed. */
export function hasStaticServer(options: ClientCredentialsOptions): boolean {
  return Boolean(options.issuer || options.tokenEndpoint);
}

/** The binding static options describe completely (resource + issuer/token endpoint), if any. */
export function staticBinding(options: ClientCredentialsOptions, http: Http): Binding | undefined {
  if (typeof options.resource !== "string" || !hasStaticServer(options)) return undefined;
  return {
    boundary: resourceOf(http.secureUrl(options.resource, "config", "resource")),
    resource: options.resource,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    scopes: scopeList(options.scope),
    boundAt: Date.now(),
    static: true,
  };
}

/**
 * Works out the binding for a URL from its 401 challenge (or, with no challenge, the
 * well-known locations), honouring every static option: they win over what servers say.
 */
export async function bind(context: BindContext, url: URL, challenge: BearerChallenge | undefined): Promise<Binding> {
  const { options, http, emit } = context;
  const configured = typeof options.resource === "string" ? resourceOf(http.secureUrl(options.resource, "config", "resource")) : undefined;
  if (configured && !isUnderResource(url, configured)) {
    throw new ClientCredentialsError("config", `${resourceOf(url).href} is not under the configured resource ${configured.href}`, {
      code: "resource_mismatch",
    });
  }
  let discovered: DiscoveredResource | undefined;
  try {
    discovered = await discoverResource(http, url, challenge?.resourceMetadata ?? [], emit);
  } catch (error) {
    // Without resource metadata, static server options still say where to get tokens.
    const notFound = error instanceof ClientCredentialsError && error.code === "resource_metadata_not_found";
    if (!(notFound && hasStaticServer(options))) throw error;
  }
  if (discovered && options.issuer && !discovered.authorizationServers.some((server) => sameIssuer(server, options.issuer!))) {
    throw new ClientCredentialsError(
      "discovery",
      `the resource names authorization servers ${discovered.authorizationServers.join(", ")}, not the configured issuer ${options.issuer}`,
      { code: "issuer_not_allowed", url: discovered.metadataUrl },
    );
  }
  const boundary = configured ?? (discovered ? new URL(discovered.resource) : resourceOf(url));
  const resource = options.resource === false ? undefined : typeof options.resource === "string" ? options.resource : (discovered?.resource ?? resourceOf(url).href);
  const issuer = options.issuer ?? (options.tokenEndpoint ? undefined : discovered?.authorizationServers[0]);
  const scopes = scopeList(options.scope).length > 0 ? scopeList(options.scope) : challenge?.scope ? scopeList(challenge.scope) : scopeList(discovered?.scopesSupported);
  return {
    boundary: resourceOf(boundary),
    ...(resource !== undefined ? { resource } : {}),
    ...(issuer ? { issuer } : {}),
    scopes,
    boundAt: Date.now(),
  };
}
