import { sameIssuer } from "./discovery/authorization-server.js";
import type { BearerChallenge } from "./discovery/challenge.js";
import { discoverResource, isUnderResource, resourceOf } from "./discovery/resource-metadata.js";
import { ClientCredentialsError } from "./errors.js";
import type { Http } from "./http.js";
import { configuredBoundary } from "./options.js";
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

/** True when static options say where to get tokens, so no authorization server needs choosing. */
export function hasStaticServer(options: ClientCredentialsOptions): boolean {
  return Boolean(options.issuer || options.tokenEndpoint);
}

/** The binding static options describe completely (a resource URL + issuer/token endpoint), if any. */
export function staticBinding(options: ClientCredentialsOptions): Binding | undefined {
  const boundary = configuredBoundary(options);
  if (!boundary || !hasStaticServer(options)) return undefined;
  const resource = indicator(options, undefined, boundary);
  return {
    boundary,
    ...(resource !== undefined ? { resource } : {}),
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
  const configured = configuredBoundary(options);
  if (configured && !isUnderResource(url, configured)) {
    throw new ClientCredentialsError("config", `${resourceOf(url).href} is not under the configured resource ${configured.href}`, {
      code: "resource_mismatch",
    });
  }
  const discovered = await discoverResource(http, url, challenge?.resourceMetadata ?? [], emit);
  if (options.issuer && !discovered.authorizationServers.some((server) => sameIssuer(server, options.issuer!))) {
    throw new ClientCredentialsError(
      "discovery",
      `the resource names authorization servers ${discovered.authorizationServers.join(", ")}, not the configured issuer ${options.issuer}`,
      { code: "issuer_not_allowed", url: discovered.metadataUrl },
    );
  }
  const boundary = configured ?? resourceOf(new URL(discovered.resource));
  const resource = indicator(options, discovered.resource, boundary);
  const issuer = options.issuer ?? (options.tokenEndpoint ? undefined : discovered.authorizationServers[0]);
  const configuredScopes = scopeList(options.scope);
  const scopes = configuredScopes.length > 0 ? configuredScopes : challenge?.scope ? scopeList(challenge.scope) : scopeList(discovered.scopesSupported);
  return {
    boundary,
    ...(resource !== undefined ? { resource } : {}),
    ...(issuer ? { issuer } : {}),
    scopes,
    boundAt: Date.now(),
  };
}

/** The RFC 8707 indicator: the option, else the discovered `resource` verbatim, else the resource URL. */
function indicator(options: ClientCredentialsOptions, discovered: string | undefined, boundary: URL): string | undefined {
  if (options.resource === false) return undefined;
  return options.resource ?? discovered ?? options.resourceUrl ?? boundary.href;
}
