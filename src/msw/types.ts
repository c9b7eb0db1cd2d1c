/**
 * Public types of the MSW kit (`mcp-client-credentials/msw`).
 * @module
 */
import type { HttpHandler } from "msw";

/** A client authentication method the mock token endpoint can verify. */
export type MockAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt";

/** The four simulated endpoints, used to filter recorded requests and to queue faults. */
export type MockEndpoint = "resource" | "resource-metadata" | "authorization-server-metadata" | "token";

/** A client registered at the mock authorization server. */
export interface MockClient {
  /** The `client_id`. Must be unique among the mock's clients. */
  clientId: string;
  /**
   * The client secret. Enables `client_secret_basic` and `client_secret_post`.
   * @default undefined (no secret: only `private_key_jwt`, when `jwks` is set)
   */
  clientSecret?: string;
  /**
   * The client's public keys, as an array of JWKs or a JWK Set. Enables `private_key_jwt`.
   * Private members (`d`, `p`, `q`, …) are stripped, so passing a private JWK also works.
   * @default undefined (no keys: `private_key_jwt` is not available)
   */
  jwks?: JsonWebKey[] | { keys: JsonWebKey[] };
  /**
   * Restricts the methods this client may authenticate with. Listing a method its credentials
   * cannot support (e.g. `private_key_jwt` without `jwks`) throws when the mock is created.
   * @default every method its credentials allow
   */
  authMethods?: MockAuthMethod[];
  /**
   * The scopes this client may be granted; requesting any other gives `invalid_scope`.
   * @default all of `scopesSupported`
   */
  scopes?: string[];
}

/**
 * A workload the mock accepts JWT-bearer grants from (RFC 7523 §2.1, workload identity
 * federation): platform JWTs with this `iss`, signed with one of these keys, with `aud` one of
 * `assertionAudiences` and an `exp` in the future. Anything else gets `invalid_grant`.
 */
export interface MockWorkload {
  /** The `iss` of the platform's JWTs (e.g. `"https://token.actions.githubusercontent.com"`). */
  issuer: string;
  /** The platform's public keys, as an array of JWKs or a JWK Set (private members are stripped). */
  jwks: JsonWebKey[] | { keys: JsonWebKey[] };
  /**
   * The `sub` a JWT must have.
   * @default any subject
   */
  subject?: string;
  /**
   * The scopes this workload may be granted; requesting any other gives `invalid_scope`.
   * @default all of `scopesSupported`
   */
  scopes?: string[];
}

/** DPoP at the mock (RFC 9449); `dpop: true` is `{}`. See {@link McpAuthMockOptions.dpop}. */
export interface MockDpopOptions {
  /**
   * Token requests without a `DPoP` proof get `400 invalid_dpop_proof`: no Bearer token is issued.
   * @default false (without a proof, a Bearer token as usual)
   */
  required?: boolean;
  /**
   * Proofs must carry the server's current nonce (RFC 9449 §8, §9): the token endpoint and the
   * resource each have their own, sent in `DPoP-Nonce` with a `use_dpop_nonce` error on first use
   * and with every later answer. {@link McpAuthMock.rotateDpopNonce} replaces them.
   * @default false
   */
  requireNonce?: boolean;
  /**
   * The JWS algorithms proofs may be signed with (`dpop_signing_alg_values_supported`). `none`
   * and HMAC algorithms are refused: a proof must be signed with a private key.
   * @default ["ES256", "EdDSA", "RS256", "PS256"]
   */
  algorithms?: string[];
}

/**
 * What the mock made of a request's DPoP proof (with `dpop` on): `ok` when it passed every check;
 * else the `error` answered and the check that failed (`description`). `jkt` (the RFC 7638
 * thumbprint of the proof's key) and `jti` are set once its signature verified.
 */
export interface RecordedDpop {
  ok: boolean;
  error?: "invalid_dpop_proof" | "use_dpop_nonce" | "invalid_token";
  description?: string;
  jkt?: string;
  jti?: string;
}

/** Options of {@link createMcpAuthMock}. */
export interface McpAuthMockOptions {
  /** The clients the mock authorization server knows. */
  clients: MockClient[];
  /**
   * Workloads whose platform JWTs the token endpoint accepts as a JWT-bearer grant.
   * @default [] (the grant is refused with `unsupported_grant_type`)
   */
  workloads?: MockWorkload[];
  /**
   * The authorization server's issuer identifier. May have a path, e.g.
   * `"https://auth.example.com/tenant1"`; must not have a query or fragment.
   * @default "https://auth.example.com"
   */
  issuer?: string;
  /**
   * The protected resource identifier (RFC 8707 / RFC 9728). The resource answers on this URL
   * and every path below it (segment boundary). Must not have a query or fragment.
   * @default "https://mcp.example.com/mcp"
   */
  resource?: string;
  /**
   * `scopes_supported` in both the protected resource metadata and the AS metadata, and the
   * default set of scopes each client may get.
   * @default ["mcp:read", "mcp:write"]
   */
  scopesSupported?: string[];
  /**
   * Scopes a token must carry for the resource to answer; otherwise it answers 403
   * `insufficient_scope` with `scope` set to all of them.
   * @default []
   */
  requiredScopes?: string[];
  /**
   * The `scope` parameter of the resource's 401 challenge, or `false` to omit it.
   * @default false
   */
  challengeScope?: string | false;
  /**
   * `expires_in` of issued tokens, in seconds. `null` omits `expires_in` from the response
   * (the token is then honoured for 3600 s). Zero or negative values issue already-expired tokens.
   * @default 3600
   */
  tokenLifetimeSeconds?: number | null;
  /**
   * `token_type` in token responses.
   * @default "Bearer"
   */
  tokenType?: string;
  /**
   * Which AS metadata URLs exist: `"oauth"` (RFC 8414, path-inserted), `"openid-inserted"`
   * (OIDC, path-inserted) and `"openid-appended"` (OIDC, path-appended). The others are not
   * handled at all (the request falls through to your other handlers / `onUnhandledRequest`).
   * @default ["oauth"]
   */
  metadataForms?: Array<"oauth" | "openid-inserted" | "openid-appended">;
  /**
   * Where the protected resource metadata is served: `"path"` =
   * `/.well-known/oauth-protected-resource{resource path}`, `"root"` =
   * `/.well-known/oauth-protected-resource`. The others are not handled.
   * @default ["path"]
   */
  prmLocations?: Array<"path" | "root">;
  /**
   * Include `resource_metadata="<path-form PRM URL>"` in the resource's challenges.
   * @default true
   */
  challengeMetadataUrl?: boolean;
  /**
   * `token_endpoint_auth_methods_supported` in the AS metadata; `null` omits the field.
   * Metadata only: what each client may use is set by {@link MockClient.authMethods}.
   * @default ["client_secret_basic", "client_secret_post", "private_key_jwt"]
   */
  authMethodsSupported?: string[] | null;
  /**
   * `token_endpoint_auth_signing_alg_values_supported` in the AS metadata; `null` omits the
   * field. When not `null`, client assertions signed with any other `alg` are rejected.
   * @default ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"]
   */
  signingAlgsSupported?: string[] | null;
  /**
   * `grant_types_supported` in the AS metadata; `null` omits the field. Metadata only: the token
   * endpoint accepts `client_credentials`, and the JWT-bearer grant when `workloads` are set.
   * @default ["client_credentials"], plus the JWT-bearer grant with `workloads`
   */
  grantTypesSupported?: string[] | null;
  /**
   * `aud` values accepted in client assertions (`aud` may be a string or an array containing
   * one of them). Add `mock.tokenEndpoint` to accept the older token-endpoint audience.
   * @default [issuer]
   */
  assertionAudiences?: string[];
  /**
   * Token requests without a `resource` parameter (RFC 8707) get `invalid_target`.
   * @default false
   */
  requireResourceIndicator?: boolean;
  /**
   * Shallow-merged over the generated protected resource metadata document (to inject bad
   * documents, e.g. `{ resource: "https://evil.example" }`).
   * @default {}
   */
  resourceMetadata?: Record<string, unknown>;
  /**
   * Shallow-merged over the generated AS metadata document (e.g. `{ issuer: "https://other" }`).
   * @default {}
   */
  authorizationServerMetadata?: Record<string, unknown>;
  /**
   * DPoP (RFC 9449): the metadata lists `dpop_signing_alg_values_supported`; a token request with
   * a valid `DPoP` proof gets `token_type: "DPoP"` and a token bound to the proof's key
   * ({@link IssuedToken.jkt}); the resource then wants `Authorization: DPoP <token>` with a fresh
   * proof (`htm`, `htu`, `iat` within 60 s, unused `jti`, `ath`, the bound key). Invalid proofs get
   * `invalid_dpop_proof` naming the check that failed.
   * @default false
   */
  dpop?: boolean | MockDpopOptions;
}

/** A request seen by one of the mock's handlers. */
export interface RecordedRequest {
  /** Which simulated endpoint answered it. */
  endpoint: MockEndpoint;
  /** The HTTP method, e.g. `"POST"`. */
  method: string;
  /** The full request URL. */
  url: string;
  /** Request headers; names are lower-case. */
  headers: Record<string, string>;
  /** The request body as text (`""` when there is none). */
  body: string;
  /**
   * With `dpop` on: what the mock made of the request's DPoP proof, at the token endpoint when it
   * sent one, at the resource when it used the `DPoP` scheme or sent a bound token as `Bearer`.
   * @default undefined (no DPoP in the request, or the option is off)
   */
  dpop?: RecordedDpop;
}

/** A token issued by the mock token endpoint. */
export interface IssuedToken {
  /** The opaque access token. */
  accessToken: string;
  /** The client it was issued to: its `client_id`, or for a JWT-bearer grant without one, the JWT's `sub`. */
  clientId: string;
  /** How that client authenticated: `"none"` for a JWT-bearer grant, where the assertion is the credential. */
  authMethod: MockAuthMethod | "none";
  /** The grant: `client_credentials`, or `urn:ietf:params:oauth:grant-type:jwt-bearer`. */
  grantType: string;
  /** The granted scope (space-separated; `""` when none was requested). */
  scope: string;
  /** The `resource` parameter of the token request, if any. */
  resource?: string;
  /** Expiry, epoch milliseconds (from `Date.now()`, so fake timers apply). */
  expiresAt: number;
  /**
   * DPoP: the RFC 7638 thumbprint of the key the token is bound to (its `cnf.jkt`).
   * @default undefined (a Bearer token)
   */
  jkt?: string;
}

/** A fault to inject into the next request(s) to an endpoint; see {@link McpAuthMock.fault}. */
export type MockFault =
  /** Answer with this raw response instead. */
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** Wait `ms` milliseconds, then answer normally. */
  | { kind: "delay"; ms: number }
  /** Answer with an OAuth error JSON body (`error`, `error_description`); status default 400. */
  | { kind: "oauth-error"; error: string; description?: string; status?: number }
  /** Answer 200 with `Content-Type: application/json` and a body that is not JSON. */
  | { kind: "malformed-json" }
  /** Fail the request at the network level (`fetch` rejects with a `TypeError`). */
  | { kind: "network-error" };

/** The mock returned by {@link createMcpAuthMock}. */
export interface McpAuthMock {
  /** The msw request handlers: `setupServer(...mock.handlers)` or `setupWorker(...mock.handlers)`. */
  readonly handlers: HttpHandler[];
  /** The issuer identifier, exactly as configured. */
  readonly issuer: string;
  /** The protected resource identifier, exactly as configured. */
  readonly resource: string;
  /** The token endpoint: issuer origin + issuer path + `/token`. */
  readonly tokenEndpoint: string;
  /** The path-form protected resource metadata URL (the one in the challenge). */
  readonly resourceMetadataUrl: string;
  /** Every request any handler saw, in order (a snapshot). */
  readonly requests: RecordedRequest[];
  /** Every token issued, in order (a snapshot). */
  readonly tokens: IssuedToken[];
  /** The recorded requests to one endpoint, in order. */
  requestsTo(endpoint: MockEndpoint): RecordedRequest[];
  /**
   * Queue a fault for the next `times` requests to `endpoint` (after any already queued).
   * `times` may be `Infinity`. Faulted requests are still recorded.
   */
  fault(endpoint: MockEndpoint, fault: MockFault, times?: number): void;
  /**
   * Revoke one access token, or every token issued so far when called without one. The resource
   * then answers 401 `invalid_token` for it; tokens issued later are not affected.
   */
  revoke(accessToken?: string): void;
  /**
   * Replace the current DPoP nonce of the token endpoint, the resource, or (without an argument)
   * both: with `requireNonce`, the next proof then gets `use_dpop_nonce` and the new nonce.
   */
  rotateDpopNonce(server?: "token" | "resource"): void;
  /** Forget recorded requests only: issued tokens keep working. */
  clearRequests(): void;
  /** Forget requests, tokens (they stop working), revocations, queued faults and used `jti` values; new DPoP nonces. */
  reset(): void;
}
