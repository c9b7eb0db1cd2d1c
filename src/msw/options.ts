/**
 * Option defaults, validation and the URLs derived from the issuer and resource.
 * @internal
 */
import type { JWK } from "jose";
import { resolveDpop } from "./dpop.js";
import type { McpAuthMockOptions, MockAuthMethod, MockClient, MockWorkload } from "./types.js";

export const DEFAULT_ISSUER = "https://auth.example.com";
export const DEFAULT_RESOURCE = "https://mcp.example.com/mcp";
export const DEFAULT_SCOPES: readonly string[] = ["mcp:read", "mcp:write"];
export const ALL_AUTH_METHODS: readonly MockAuthMethod[] = ["client_secret_basic", "client_secret_post", "private_key_jwt"];
export const DEFAULT_SIGNING_ALGS: readonly string[] = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"];

export interface ResolvedClient {
  clientId: string;
  clientSecret: string | undefined;
  jwks: { keys: JWK[] } | undefined;
  authMethods: ReadonlySet<MockAuthMethod>;
  scopes: ReadonlySet<string>;
}

export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

export interface ResolvedWorkload {
  issuer: string;
  jwks: { keys: JWK[] };
  subject: string | undefined;
  scopes: ReadonlySet<string>;
}

/** The `dpop` option with its defaults; `undefined` when DPoP is off. */
export interface ResolvedDpop {
  required: boolean;
  requireNonce: boolean;
  algorithms: string[];
}

export interface ResolvedConfig {
  issuer: string;
  resource: string;
  tokenEndpoint: string;
  resourceMetadataUrl: string;
  /** origin+pathname keys of the URLs that answer, per endpoint. */
  prmKeys: ReadonlySet<string>;
  asMetadataKeys: ReadonlySet<string>;
  tokenKey: string;
  /** Every well-known URL the mock could serve, enabled or not (never treated as the resource). */
  reservedKeys: ReadonlySet<string>;
  resourceOrigin: string;
  resourcePath: string;
  clients: ReadonlyMap<string, ResolvedClient>;
  workloads: readonly ResolvedWorkload[];
  scopesSupported: string[];
  requiredScopes: string[];
  challengeScope: string | undefined;
  tokenLifetimeSeconds: number | null;
  tokenType: string;
  challengeMetadataUrl: boolean;
  authMethodsSupported: string[] | null;
  signingAlgsSupported: string[] | null;
  grantTypesSupported: string[] | null;
  assertionAudiences: string[];
  requireResourceIndicator: boolean;
  resourceMetadata: Record<string, unknown>;
  authorizationServerMetadata: Record<string, unknown>;
  dpop: ResolvedDpop | undefined;
}

/** `origin + pathname` of a URL: how the handlers match requests (query ignored). */
export function urlKey(url: string | URL): string {
  const u = typeof url === "string" ? new URL(url) : url;
  return u.origin + u.pathname;
}

function parseIdentifier(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`createMcpAuthMock: ${name} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(`createMcpAuthMock: ${name} must be an http(s) URL`);
  }
  if (url.search !== "" || url.hash !== "" || value.includes("#") || value.includes("?")) {
    throw new TypeError(`createMcpAuthMock: ${name} must not have a query or fragment`);
  }
  return url;
}

export const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "priv", "key_ops", "ext"];

function toPublicJwks(jwks: JsonWebKey[] | { keys: JsonWebKey[] }): { keys: JWK[] } {
  const keys = Array.isArray(jwks) ? jwks : jwks.keys;
  if (!Array.isArray(keys)) throw new TypeError("createMcpAuthMock: jwks must be an array or { keys: [...] }");
  return {
    keys: keys.map((key) => {
      const copy: Record<string, unknown> = { ...key };
      for (const member of PRIVATE_JWK_MEMBERS) delete copy[member];
      return copy as JWK;
    }),
  };
}

function resolveClient(client: MockClient, scopesSupported: string[]): ResolvedClient {
  if (typeof client.clientId !== "string" || client.clientId === "") {
    throw new TypeError("createMcpAuthMock: every client needs a non-empty clientId");
  }
  const possible = new Set<MockAuthMethod>();
  if (client.clientSecret !== undefined) {
    possible.add("client_secret_basic");
    possible.add("client_secret_post");
  }
  if (client.jwks !== undefined) possible.add("private_key_jwt");
  let authMethods: ReadonlySet<MockAuthMethod> = possible;
  if (client.authMethods !== undefined) {
    for (const method of client.authMethods) {
      if (!possible.has(method)) {
        throw new TypeError(
          `createMcpAuthMock: client ${JSON.stringify(client.clientId)} lists ${method} but has no ${method === "private_key_jwt" ? "jwks" : "clientSecret"}`,
        );
      }
    }
    authMethods = new Set(client.authMethods);
  }
  return {
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    jwks: client.jwks === undefined ? undefined : toPublicJwks(client.jwks),
    authMethods,
    scopes: new Set(client.scopes ?? scopesSupported),
  };
}

/** Applies defaults, validates, and computes every URL the mock serves. */
export function resolveOptions(options: McpAuthMockOptions): ResolvedConfig {
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  const resource = options.resource ?? DEFAULT_RESOURCE;
  const issuerUrl = parseIdentifier("issuer", issuer);
  const resourceUrl = parseIdentifier("resource", resource);

  // RFC 8414 §3.1: a terminating "/" of the issuer path is removed before building URLs.
  const issuerPath = issuerUrl.pathname.replace(/\/+$/, "");
  const asOrigin = issuerUrl.origin;
  const asForms = {
    oauth: `${asOrigin}/.well-known/oauth-authorization-server${issuerPath}`,
    "openid-inserted": `${asOrigin}/.well-known/openid-configuration${issuerPath}`,
    "openid-appended": `${asOrigin}${issuerPath}/.well-known/openid-configuration`,
  } as const;
  const tokenEndpoint = `${asOrigin}${issuerPath}/token`;

  // RFC 9728 §3.1: only a terminating "/" right after the host is removed.
  const resourcePath = resourceUrl.pathname === "/" ? "" : resourceUrl.pathname;
  const prmForms = {
    path: `${resourceUrl.origin}/.well-known/oauth-protected-resource${resourcePath}`,
    root: `${resourceUrl.origin}/.well-known/oauth-protected-resource`,
  } as const;

  const metadataForms = options.metadataForms ?? ["oauth"];
  const prmLocations = options.prmLocations ?? ["path"];
  for (const form of metadataForms) {
    if (!(form in asForms)) throw new TypeError(`createMcpAuthMock: unknown metadata form ${JSON.stringify(form)}`);
  }
  for (const location of prmLocations) {
    if (!(location in prmForms)) throw new TypeError(`createMcpAuthMock: unknown PRM location ${JSON.stringify(location)}`);
  }

  const lifetime = options.tokenLifetimeSeconds === undefined ? 3600 : options.tokenLifetimeSeconds;
  if (lifetime !== null && !Number.isFinite(lifetime)) {
    throw new TypeError("createMcpAuthMock: tokenLifetimeSeconds must be a finite number or null");
  }

  const scopesSupported = [...(options.scopesSupported ?? DEFAULT_SCOPES)];
  const clients = new Map<string, ResolvedClient>();
  for (const client of options.clients) {
    if (clients.has(client.clientId)) {
      throw new TypeError(`createMcpAuthMock: duplicate clientId ${JSON.stringify(client.clientId)}`);
    }
    clients.set(client.clientId, resolveClient(client, scopesSupported));
  }

  const workloads = (options.workloads ?? []).map((workload: MockWorkload) => {
    if (typeof workload.issuer !== "string" || workload.issuer === "") throw new TypeError("createMcpAuthMock: every workload needs an issuer");
    return { issuer: workload.issuer, jwks: toPublicJwks(workload.jwks), subject: workload.subject, scopes: new Set(workload.scopes ?? scopesSupported) };
  });
  const grantTypes = workloads.length > 0 ? ["client_credentials", JWT_BEARER_GRANT] : ["client_credentials"];

  const reserved = [...Object.values(asForms), ...Object.values(prmForms), tokenEndpoint].map((u) => urlKey(u));
  return {
    issuer,
    resource,
    tokenEndpoint,
    resourceMetadataUrl: prmForms.path,
    prmKeys: new Set(prmLocations.map((location) => urlKey(prmForms[location]))),
    asMetadataKeys: new Set(metadataForms.map((form) => urlKey(asForms[form]))),
    tokenKey: urlKey(tokenEndpoint),
    reservedKeys: new Set(reserved),
    resourceOrigin: resourceUrl.origin,
    resourcePath: resourceUrl.pathname,
    clients,
    workloads,
    scopesSupported,
    requiredScopes: [...(options.requiredScopes ?? [])],
    challengeScope: typeof options.challengeScope === "string" ? options.challengeScope : undefined,
    tokenLifetimeSeconds: lifetime,
    tokenType: options.tokenType ?? "Bearer",
    challengeMetadataUrl: options.challengeMetadataUrl ?? true,
    authMethodsSupported: options.authMethodsSupported === undefined ? [...ALL_AUTH_METHODS] : options.authMethodsSupported,
    signingAlgsSupported: options.signingAlgsSupported === undefined ? [...DEFAULT_SIGNING_ALGS] : options.signingAlgsSupported,
    grantTypesSupported: options.grantTypesSupported === undefined ? grantTypes : options.grantTypesSupported,
    assertionAudiences: [...(options.assertionAudiences ?? [issuer])],
    requireResourceIndicator: options.requireResourceIndicator ?? false,
    resourceMetadata: { ...options.resourceMetadata },
    authorizationServerMetadata: { ...options.authorizationServerMetadata },
    dpop: resolveDpop(options.dpop),
  };
}

/** Whether a request URL is the resource or below it (path prefix on a segment boundary). */
export function isResourceUrl(config: ResolvedConfig, url: URL): boolean {
  if (url.origin !== config.resourceOrigin) return false;
  if (config.reservedKeys.has(urlKey(url))) return false;
  const base = config.resourcePath;
  if (url.pathname === base) return true;
  return url.pathname.startsWith(base.endsWith("/") ? base : `${base}/`);
}
