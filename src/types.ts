import type { ClientCredentialsPhase } from "./errors.js";

export type { AssertionContext, AssertionSource, ClientCredentialsOptions, CommonOptions, DpopOptions, WorkloadIdentityOptions } from "./option-types.js";

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

/**
 * How a token request authenticates, as events report it: a {@link ClientAuthMethod}, or `"none"`
 * for the JWT-bearer grant of {@link withWorkloadIdentity}, where the assertion is the credential.
 */
export type TokenAuthMethod = ClientAuthMethod | "none";

/** The grant a token request uses: client credentials, or a platform JWT (RFC 7523 §2.1). */
export type GrantType = "client_credentials" | "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** Events for logging and metrics. They never carry secrets or tokens. */
export type ClientCredentialsEvent =
  | { type: "challenge"; url: string; status: number; resourceMetadata: string[]; scope?: string; error?: string }
  | { type: "discovery"; kind: "resource-metadata" | "authorization-server-metadata"; url: string; status?: number; ok: boolean }
  | { type: "discovered"; issuer: string; tokenEndpoint: string; authMethod: TokenAuthMethod }
  | { type: "cache-hit"; issuer: string; resource?: string; scope?: string; expiresAt: number; tier: "memory" | "store" }
  | { type: "cache-miss"; issuer: string; resource?: string; scope?: string; reason: "empty" | "expiring" }
  | {
      type: "token-request";
      tokenEndpoint: string;
      grantType: GrantType;
      authMethod: TokenAuthMethod;
      resource?: string;
      scope?: string;
      /** The request carries a DPoP proof: the token will be bound to its key. */
      dpop?: true;
    }
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
  | { type: "retry"; url: string; reason: "unauthorized" | "insufficient_scope" | "use_dpop_nonce" }
  /** A server sent a new DPoP nonce (RFC 9449 §8, §9); the next proof for its origin carries it. Never the nonce itself. */
  | { type: "dpop-nonce"; url: string }
  /** A request to the resource carries a fresh DPoP proof. Never the proof itself. */
  | { type: "dpop-proof"; url: string; method: string }
  | { type: "error"; phase: ClientCredentialsPhase; message: string };
