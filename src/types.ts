import type { ClientCredentialsPhase } from "./errors.js";

/**
 * What the middleware wraps: the global `fetch` or anything of the MCP SDK's `FetchLike` shape.
 * It is always called as `(url, init)`, never with a `Request`.
 */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** An access token as this package caches and returns it. */
export interface AccessToken {
  accessToken: string;
  /** As sent by the authorization server (compared case-insensitively with "Bearer"). */
  tokenType: string;
  /** Absolute expiry, epoch milliseconds. */
  expiresAt: number;
  /** Granted scope, when the server said (else the requested scope). */
  scope?: string;
  /** The resource indicator the token was requested for (RFC 8707). */
  resource?: string;
  /** The authorization server that issued it. */
  issuer?: string;
}

/** A token plus when it was obtained (epoch ms): what the cache keeps and shares. */
export interface StoredToken extends AccessToken {
  obtainedAt: number;
}

/** A value, or a promise of one: stores may answer synchronously. */
export type Awaitable<T> = T | PromiseLike<T>;

/**
 * Where tokens and discovery results are shared: between instances in one process
 * ({@link memoryStore}), the tabs of a browser (`stores/idb`), or a fleet (`stores/redis`,
 * `stores/cloudflare`, `stores/deno`). The middleware keeps its own in-process copy in front of
 * it, so a store is read only when that copy is missing or due for a refresh.
 *
 * - Keys are opaque, fixed-length and safe in any key-value store (`mcc1:` + 43 base64url
 *   characters); they never contain a secret, a client id or a URL.
 * - Values are opaque strings (versioned JSON, or ciphertext with {@link sealedStore}): store
 *   them verbatim. Every value carries its own absolute expiry, so a store that keeps an entry
 *   too long costs nothing but space.
 * - `ttlSeconds` (a whole number, at least 1) is how long the entry is useful: stores with
 *   native expiry should use it (raising it to their own minimum where they have one).
 * - A missing key answers `undefined` or `null`, never an error. Errors and hangs are tolerated
 *   (the call counts as a miss and an `error` event reports it) but should be rare.
 *
 * `acquire` and `release` are optional and come together: a lock with an owner and an expiry,
 * used so that one instance of a fleet requests a token while the others wait for it to appear
 * in the store. Without them each instance that misses requests its own token.
 */
export interface TokenStore {
  /** The value stored under `key`, or `undefined` / `null` when there is none. */
  get(key: string): Awaitable<string | null | undefined>;
  /** Stores `value` under `key` for `ttlSeconds` (or longer), replacing what was there. */
  set(key: string, value: string, ttlSeconds: number): Awaitable<void>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(key: string): Awaitable<void>;
  /**
   * Takes the lock `key` for `owner` if nobody holds it: `true` when `owner` now holds it, which
   * must expire by itself after `ttlMs` (a holder that dies releases by expiry). `false` when
   * another owner holds it; a store may first wait (briefly) for that holder to release.
   */
  acquire?(key: string, owner: string, ttlMs: number): Awaitable<boolean>;
  /** Releases the lock `key` if, and only if, `owner` holds it. */
  release?(key: string, owner: string): Awaitable<void>;
}

/**
 * A {@link TokenStore} whose calls are all asynchronous and which has locks, as the shipped
 * shared stores are; `Missing` is what its `get` answers for a missing key.
 */
export interface LockingTokenStore<Missing extends null | undefined = null | undefined> extends TokenStore {
  get(key: string): Promise<string | Missing>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  acquire(key: string, owner: string, ttlMs: number): Promise<boolean>;
  release(key: string, owner: string): Promise<void>;
}

export type ClientAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt";

/** Events for logging and metrics. They never carry secrets or tokens. */
export type ClientCredentialsEvent =
  | { type: "challenge"; url: string; status: number; resourceMetadata: string[]; scope?: string; error?: string }
  | { type: "discovery"; kind: "resource-metadata" | "authorization-server-metadata"; url: string; status?: number; ok: boolean }
  | { type: "discovered"; issuer: string; tokenEndpoint: string; authMethod: ClientAuthMethod }
  | { type: "cache-hit"; issuer: string; resource?: string; scope?: string; expiresAt: number; tier: "memory" | "store" }
  | { type: "cache-miss"; issuer: string; resource?: string; scope?: string; reason: "empty" | "expiring" }
  | { type: "token-request"; tokenEndpoint: string; authMethod: ClientAuthMethod; resource?: string; scope?: string }
  | {
      type: "token-response";
      tokenEndpoint: string;
      status: number;
      expiresAt?: number;
      scope?: string;
      ok: boolean;
      error?: string;
      /** The `expires_in` the server sent, when it was over a day and the token is kept for a day only. */
      clampedFrom?: number;
    }
  | { type: "http-retry"; url: string; attempt: number; status?: number }
  | { type: "retry"; url: string; reason: "unauthorized" | "insufficient_scope" }
  | { type: "error"; phase: ClientCredentialsPhase; message: string };

export interface ClientCredentialsOptions {
  /** The OAuth client identifier. */
  clientId: string;
  /**
   * Client secret, for `client_secret_basic` / `client_secret_post`.
   * Exactly one of `clientSecret` and `privateKey` is required.
   * @default undefined
   */
  clientSecret?: string;
  /**
   * Private key for `private_key_jwt` (RFC 7523): a PEM PKCS#8 string (`BEGIN PRIVATE KEY`),
   * a private JWK, or a WebCrypto `CryptoKey`. Exactly one of `clientSecret` and `privateKey`.
   * @default undefined
   */
  privateKey?: string | JsonWebKey | CryptoKey;
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
   * `private_key_jwt` with a key; `client_secret_basic`, else `client_secret_post`, with a secret
   */
  authMethod?: ClientAuthMethod;
  /**
   * `aud` of client assertions: the issuer (rfc7523bis), the token endpoint (older servers),
   * or any literal string.
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
}
