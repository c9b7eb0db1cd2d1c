// Token stores for Cloudflare Workers: Workers KV (shared, eventually consistent) and a Durable
// Object (shared, strongly consistent, with locks). Web APIs only, and no import of
// "cloudflare:workers", so any bundler (wrangler, esbuild, Vite) and any compatibility date work.
// The bindings are described structurally below: no dependency on @cloudflare/workers-types.
import { configError } from "../errors.js";
import type { LockingTokenStore, TokenStore } from "../types.js";
import { BROKER_URL, type BrokerRequest } from "./cloudflare-broker.js";

export { type DurableObjectStateLike, type DurableObjectStorageLike, TokenStoreDurableObject } from "./cloudflare-broker.js";

/** The part of a Workers KV binding (`KVNamespace`) that {@link kvStore} uses. */
export interface KVNamespaceLike {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

/** A Durable Object id (`DurableObjectId`): opaque here. */
export interface DurableObjectIdLike {
  toString(): string;
}

/** A Durable Object stub (`DurableObjectStub`): only its `fetch` is used. */
export interface DurableObjectStubLike {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

/** The part of a Durable Object binding (`DurableObjectNamespace`) that {@link durableObjectStore} uses. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): DurableObjectIdLike;
  get(id: DurableObjectIdLike): DurableObjectStubLike;
}

export interface KvStoreOptions {
  /**
   * Prepended to every key, so several apps or environments can share one namespace.
   * @default ""
   */
  prefix?: string;
}

/** A {@link TokenStore} on Workers KV: values only, no locks. */
export interface KvStore extends TokenStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Workers KV refuses `expirationTtl` below 60 seconds. */
const KV_MIN_TTL_SECONDS = 60;

/**
 * A store on Workers KV: every Worker and location bound to the namespace shares tokens and
 * discovery, so a token is requested once and then read everywhere. KV is eventually
 * consistent (a write can take 60 s or more to be seen in other locations) and has no atomic
 * operations, so it offers no locks: instances that miss at the same moment each request a token.
 * For strict single-flight use {@link durableObjectStore}. TTLs under 60 s are raised to 60 s
 * (KV's minimum); values carry their own expiry, so keeping them longer is harmless.
 *
 * @example
 * // wrangler.jsonc: "kv_namespaces": [{ "binding": "TOKENS_KV", "id": "<namespace id>" }]
 * let mcpFetch;
 * export default {
 *   async fetch(request, env) {
 *     mcpFetch ??= withClientCredentials({ clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET, store: kvStore(env.TOKENS_KV) })();
 *     return mcpFetch("https://mcp.example.com/mcp", { method: "POST", body: await request.text() });
 *   },
 * };
 */
export function kvStore(namespace: KVNamespaceLike, options: KvStoreOptions = {}): KvStore {
  const prefix = options.prefix ?? "";
  if (typeof prefix !== "string") throw configError("kvStore: prefix must be a string");
  return {
    get: (key) => namespace.get(prefix + key),
    set: (key, value, ttlSeconds) => namespace.put(prefix + key, value, { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlSeconds)) }),
    delete: (key) => namespace.delete(prefix + key),
  };
}

export interface DurableObjectStoreOptions {
  /**
   * Which instance of the Durable Object holds the values (`namespace.idFromName(name)`).
   * Stores with the same name share everything; pick another name to keep apps apart.
   * @default "mcp-client-credentials"
   */
  name?: string;
  /**
   * How long `acquire` waits for another owner's lock to be released or to expire before it
   * answers `false` (never longer than the lock has left). Short waits keep every call well
   * inside the middleware's store timeout; a waiter still waiting simply asks again. 0 answers
   * at once; at most 60000.
   * @default 5000
   */
  lockWaitMs?: number;
}

/** A {@link TokenStore} on a Durable Object: values and locks. */
export type DurableObjectStore = LockingTokenStore<null>;

const DEFAULT_NAME = "mcp-client-credentials";
const DEFAULT_LOCK_WAIT_MS = 5_000;
const MAX_LOCK_WAIT_MS = 60_000;

/**
 * A store on one instance of {@link TokenStoreDurableObject}: every Worker, isolate and location
 * bound to it shares tokens and discovery, with strict single-flight. A Durable Object handles
 * one request at a time, so exactly one instance of the fleet takes the lock and requests a
 * token; the others wait in `acquire` until it releases (or the lock expires) and then read the
 * token it stored. Reads are strongly consistent. Each call is one request to the object, which
 * lives in one location: the middleware's in-process copy keeps those calls rare.
 *
 * Bind the class in the Worker that exports it, or in another Worker with `script_name`.
 *
 * @example
 * // wrangler.jsonc
 * // "durable_objects": { "bindings": [{ "name": "TOKENS", "class_name": "TokenStoreDurableObject" }] },
 * // "migrations": [{ "tag": "v1", "new_sqlite_classes": ["TokenStoreDurableObject"] }]
 * import { withClientCredentials } from "mcp-client-credentials";
 * import { durableObjectStore } from "mcp-client-credentials/stores/cloudflare";
 * export { TokenStoreDurableObject } from "mcp-client-credentials/stores/cloudflare";
 *
 * let mcpFetch;
 * export default {
 *   async fetch(request, env) {
 *     mcpFetch ??= withClientCredentials({ clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET, store: durableObjectStore(env.TOKENS) })();
 *     return mcpFetch("https://mcp.example.com/mcp", { method: "POST", body: await request.text() });
 *   },
 * };
 */
export function durableObjectStore(namespace: DurableObjectNamespaceLike, options: DurableObjectStoreOptions = {}): DurableObjectStore {
  const name = options.name ?? DEFAULT_NAME;
  const lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
  if (typeof name !== "string" || name.length === 0) {
    throw configError("durableObjectStore: name must be a non-empty string");
  }
  if (!Number.isFinite(lockWaitMs) || lockWaitMs < 0 || lockWaitMs > MAX_LOCK_WAIT_MS) {
    throw configError(`durableObjectStore: lockWaitMs must be between 0 and ${MAX_LOCK_WAIT_MS}`);
  }
  // The id is plain data and can be kept; a stub is an I/O object tied to the request that made
  // it (workerd refuses I/O "on behalf of a different request"), so each call makes its own.
  const id = namespace.idFromName(name);

  async function call(message: BrokerRequest): Promise<Record<string, unknown>> {
    const response = await namespace.get(id).fetch(BROKER_URL, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
    });
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok || typeof body !== "object" || body === null) {
      // Never echo the body: it may be about a value.
      throw new Error(`durableObjectStore: the Durable Object answered ${message.op} with HTTP ${response.status}`);
    }
    return body as Record<string, unknown>;
  }

  return {
    async get(key) {
      const { value } = await call({ op: "get", key });
      if (typeof value === "string" || value === null) return value;
      throw new Error("durableObjectStore: unexpected answer to get");
    },
    async set(key, value, ttlSeconds) {
      await call({ op: "set", key, value, ttlSeconds });
    },
    async delete(key) {
      await call({ op: "delete", key });
    },
    async acquire(key, owner, ttlMs) {
      const { acquired } = await call({ op: "acquire", key, owner, ttlMs, waitMs: lockWaitMs });
      if (typeof acquired === "boolean") return acquired;
      throw new Error("durableObjectStore: unexpected answer to acquire");
    },
    async release(key, owner) {
      await call({ op: "release", key, owner });
    },
  };
}
