import type { Awaitable, ClientAuthMethod, ClientCredentialsEvent, TokenStore } from "./types.js";

/**
 * What the flow has learned when it asks for an assertion: a platform token is usually minted for
 * the authorization server's audience, which only discovery knows.
 */
export interface AssertionContext {
  /** The `aud` the assertion should carry: the issuer identifier, unless `assertionAudience` says otherwise. */
  audience: string;
  /** The authorization server's issuer identifier, when known. */
  issuer?: string;
  /** The token endpoint the assertion is sent to. */
  tokenEndpoint: string;
  /** The resource indicator the token is requested for, if any. */
  resource?: string;
}

/**
 * A JWT issued by someone else (a platform, an identity provider): the JWT itself, or a function
 * called before each token request (not for each resource request), so a token that expires or
 * rotates is fetched afresh. `mcp-client-credentials/sources` and `…/sources/file` have ready ones.
 * @example
 * withWorkloadIdentity({ assertion: ({ audience }) => mintPlatformToken(audience) });
 */
export type AssertionSource = string | ((context: AssertionContext) => Awaitable<string>);

/** Options both middlewares share: where tokens go, caching, timeouts, events. */
export interface CommonOptions {
  /**
   * `aud` of assertions: the issuer (rfc7523bis), the token endpoint (older servers), or any
   * literal string (Entra's federated credentials: `api://AzureADTokenExchange`). For a signing
   * key it goes into the JWT; for `clientAssertion` and workload identity, to the source's `audience`.
   * @default "issuer"
   */
  assertionAudience?: "issuer" | "token_endpoint" | (string & {});
  /**
   * Scopes to request. Wins over the challenge's `scope` and the resource's `scopes_supported`.
   * @default the 401 challenge's scope, else the protected resource's `scopes_supported`, else none
   */
  scope?: string | string[];
  /**
   * Resource indicator (RFC 8707). A string overrides the discovered one and limits which URLs
   * get tokens; `false` omits the parameter (e.g. Microsoft Entra ID v2). Any absolute URI is
   * accepted (`urn:example:mcp`, `api://mcp-prod`) when `resourceUrl` says where tokens may go.
   * @default the protected resource metadata's `resource`, verbatim
   * @example
   * withClientCredentials({ clientId, clientSecret, resource: "api://mcp-prod", resourceUrl: "https://mcp.example.com/mcp" });
   */
  resource?: string | false;
  /**
   * Which URLs receive tokens: this URL and everything under it (same origin, path prefix).
   * Required with `resource: false`, since no resource indicator then binds the token to a server.
   * @default `resource` when it is a string, else the discovered resource
   */
  resourceUrl?: string;
  /**
   * Authorization server issuer. Skips choosing one from the resource metadata, pins it
   * (a resource naming another issuer is refused) and, with `resource`, skips discovery.
   * @default discovered from the resource metadata
   */
  issuer?: string;
  /**
   * Token endpoint. Skips authorization server metadata discovery.
   * @default discovered from the authorization server metadata
   */
  tokenEndpoint?: string;
  /**
   * A store shared with other instances: other clients in this process ({@link memoryStore}),
   * other tabs (`stores/idb`) or a fleet (`stores/redis`, `stores/cloudflare`, `stores/deno`).
   * Tokens and discovery results go there, so a fleet asks for one token and a fresh instance on
   * a warm store sends its first request already authorized. Each instance still keeps its own
   * in-process copy in front of the store.
   * @default none: tokens are cached in this instance's memory only
   * @example
   * import { redisStore } from "mcp-client-credentials/stores/redis";
   * withClientCredentials({ clientId, clientSecret, store: redisStore({ client: new Redis(url) }) });
   */
  store?: TokenStore;
  /**
   * Refresh window: a new token is fetched in the background from this long before the cached
   * one expires (capped at half its lifetime), while the cached one keeps serving.
   * @default 60
   */
  refreshSkewSeconds?: number;
  /**
   * Keeps a serverless invocation alive for work that outlives its response: the background
   * token refresh. Pass your platform's `waitUntil` (Cloudflare: `import { waitUntil } from
   * "cloudflare:workers"`; Vercel: `import { waitUntil } from "@vercel/functions"`). Without it, a
   * refresh the runtime froze is given up once older than its attempts could take
   * (`3 × storeTimeoutMs + (retries + 1) × timeoutMs`), and a later request starts another.
   * @default undefined
   * @example
   * import { waitUntil } from "cloudflare:workers";
   * withClientCredentials({ clientId, clientSecret, waitUntil });
   */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * Timeout of each request to the authorization server and metadata endpoints (headers and
   * body).
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Timeout of each call to the token store. A store that does not answer in time counts as a
   * miss (an `error` event says so); the request goes on without it.
   * @default 2000
   */
  storeTimeoutMs?: number;
  /**
   * Retries of authorization-server and metadata requests on network errors, timeouts, 408, 429
   * and 5xx, after an exponential backoff (0.3 s, 0.6 s, … at most 5 s) or the server's
   * `Retry-After`, within `retryBudgetMs`.
   * @default 2
   */
  retries?: number;
  /**
   * How long retries of one request may go on: a retry whose wait would end later than this
   * after the first attempt started is not made. A `Retry-After` that asks for longer fails at
   * once with code `retry_later` and the server's `retryAfter` (in seconds) on the error, so a
   * caller learns in milliseconds, not minutes. The worst case of one request is
   * `retryBudgetMs + timeoutMs`. Raise it for batch jobs that would rather wait.
   * @default 10000
   * @example
   * withClientCredentials({ clientId, clientSecret, retryBudgetMs: 120_000 }); // a nightly job may wait out a 429
   */
  retryBudgetMs?: number;
  /**
   * How long discovered metadata is reused.
   * @default 3600
   */
  discoveryTtlSeconds?: number;
  /**
   * Allow plain `http:` to hosts other than loopback. Never do this in production.
   * @default false
   */
  allowInsecureRequests?: boolean;
  /**
   * Observe the flow (discovery, token requests, cache hits and misses, retries).
   * Events never contain secrets or tokens. Exceptions thrown here are swallowed.
   * @default undefined
   */
  onEvent?: (event: ClientCredentialsEvent) => void;
  /**
   * DPoP (RFC 9449, MCP SEP-1932): tokens bound to a key pair that never leaves this client, so
   * a stolen token alone is worthless. Every token request and every request to the resource
   * carries a fresh proof signed with that key. `true`: always, with a non-extractable ES256 key
   * generated per instance (its tokens never go to a shared store); `"auto"`: only where the
   * authorization server lists DPoP algorithms (`dpop_signing_alg_values_supported`); or your
   * own key pair, which a fleet may share (its tokens then may be shared too).
   * @default false
   * @example
   * withClientCredentials({ clientId, privateKey, dpop: true });
   * withClientCredentials({ clientId, privateKey, dpop: { keyPair: await loadFleetKeyPair() } });
   */
  dpop?: boolean | "auto" | DpopOptions;
}

/** A DPoP key pair of your own: ECDSA (P-256/384/521), Ed25519, RSASSA-PKCS1-v1_5 or RSA-PSS. */
export interface DpopOptions {
  /** The private key must allow `sign`; it may be non-extractable. */
  keyPair: CryptoKeyPair;
  /**
   * The JWS algorithm; it must fit the key.
   * @default the key's: ES256 for P-256, EdDSA for Ed25519, RS256 / PS256 by the key's hash
   */
  algorithm?: string;
  /**
   * When to use it: `"always"`, or `"auto"` (only where the authorization server lists DPoP algorithms).
   * @default "always"
   */
  mode?: "always" | "auto";
}

/** Options of {@link withClientCredentials}. */
export interface ClientCredentialsOptions extends CommonOptions {
  /** The OAuth client identifier. */
  clientId: string;
  /**
   * Client secret, for `client_secret_basic` / `client_secret_post`.
   * Exactly one of `clientSecret`, `privateKey` and `clientAssertion` is required.
   * @default undefined
   */
  clientSecret?: string;
  /**
   * Private key for `private_key_jwt` (RFC 7523): a PEM PKCS#8 string (`BEGIN PRIVATE KEY`),
   * a private JWK, or a WebCrypto `CryptoKey`. Exactly one of `clientSecret`, `privateKey` and `clientAssertion`.
   * @default undefined
   */
  privateKey?: string | JsonWebKey | CryptoKey;
  /**
   * A client assertion someone else signed (RFC 7523 §2.2): the platform JWT that Microsoft Entra
   * workload identity federation, for one, accepts in place of a secret. Sent with `client_id`,
   * as Entra requires. Exactly one of `clientSecret`, `privateKey` and `clientAssertion`.
   * @default undefined
   * @example
   * import { fileToken } from "mcp-client-credentials/sources/file";
   * withClientCredentials({ clientId, clientAssertion: fileToken(process.env.AZURE_FEDERATED_TOKEN_FILE), resource: false, resourceUrl, scope });
   */
  clientAssertion?: AssertionSource;
  /**
   * JWS algorithm for client assertions (ES256, RS256, PS256, EdDSA, …).
   * @default taken from the key (JWK `alg`, curve or key type), matched against the server's
   * `token_endpoint_auth_signing_alg_values_supported`
   */
  algorithm?: string;
  /**
   * `kid` header of client assertions.
   * @default the JWK's `kid`, else none
   */
  keyId?: string;
  /**
   * Client authentication method.
   * @default chosen from the server's `token_endpoint_auth_methods_supported`:
   * `private_key_jwt` with a key or a `clientAssertion`; `client_secret_basic`, else `client_secret_post`, with a secret
   */
  authMethod?: ClientAuthMethod;
}

/** Options of {@link withWorkloadIdentity}. */
export interface WorkloadIdentityOptions extends CommonOptions {
  /**
   * The platform JWT presented as the grant (RFC 7523 §2.1): a Kubernetes service-account token,
   * a GitHub Actions OIDC token, a SPIFFE JWT-SVID. A function is called before each token request
   * with the audience the authorization server expects.
   * @example
   * import { githubActionsToken } from "mcp-client-credentials/sources";
   * withWorkloadIdentity({ assertion: githubActionsToken() });
   */
  assertion: AssertionSource;
  /**
   * Sent as `client_id` where the authorization server wants one (a public client registered for
   * the grant). No client authentication is sent: the assertion is the credential.
   * @default undefined
   */
  clientId?: string;
  /** Not here: the assertion is the credential (see `withClientCredentials`). */
  clientSecret?: never;
  /** Not here: the assertion is the credential (see `withClientCredentials`). */
  privateKey?: never;
  /** Not here: `assertion` is the platform JWT. */
  clientAssertion?: never;
  /** Not here: the JWT-bearer grant sends no client authentication. */
  authMethod?: never;
}
