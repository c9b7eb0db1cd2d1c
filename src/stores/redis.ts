/**
 * A {@link TokenStore} on Redis, for a fleet of processes: ioredis, node-redis or `@upstash/redis`.
 * No Redis library is imported: the client you pass is recognised by its shape, and this module
 * uses Web APIs only, so it runs wherever that client runs (Node, Bun, Deno, edge runtimes).
 * @module
 */
import { configError } from "../errors.js";
import type { LockingTokenStore, TokenStore } from "../types.js";

/** The part of an ioredis client (v5, v6; `Redis` or `Cluster`) this store uses. */
export interface IoRedisLike {
  call(command: string, ...args: string[]): PromiseLike<unknown>;
}

/**
 * The part of a node-redis client (v4, v5, v6; `createClient()` or `createCluster()`) this store
 * uses. `sendCommand` is only looked at, to tell it from the others; a v4 client in
 * `legacyMode` is used through its promise API (`client.v4`).
 */
export interface NodeRedisLike {
  sendCommand(...args: never[]): unknown;
  get(key: string): PromiseLike<unknown>;
  set(key: string, value: string, options: { EX: number } | { PX: number; NX: true }): PromiseLike<unknown>;
  del(key: string): PromiseLike<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): PromiseLike<unknown>;
}

/** The part of an `@upstash/redis` client (REST over fetch, so it also runs on edge runtimes) this store uses. */
export interface UpstashRedisLike {
  eval(script: string, keys: string[], args: string[]): PromiseLike<unknown>;
  set(key: string, value: string, options: { ex: number } | { px: number; nx: true }): PromiseLike<unknown>;
  del(key: string): PromiseLike<unknown>;
}

/** Any client {@link redisStore} accepts. */
export type RedisClientLike = IoRedisLike | NodeRedisLike | UpstashRedisLike;

/** Which library {@link redisStore} recognised. */
export type RedisClientKind = "ioredis" | "node-redis" | "upstash";

export interface RedisStoreOptions {
  /**
   * A connected client, shared with the rest of your app if you like: an ioredis `Redis` or
   * `Cluster`, a node-redis client or cluster (after `await client.connect()`), or an
   * `@upstash/redis` `Redis`. Its connection settings are yours; while Redis is down the
   * middleware counts each store call as a miss after `storeTimeoutMs`, so prefer settings that
   * fail fast (ioredis `maxRetriesPerRequest: 0` or `enableOfflineQueue: false`, node-redis
   * `disableOfflineQueue: true`, Upstash `retry: false`).
   */
  client: RedisClientLike;
  /**
   * Prepended to every key and lock, so several apps (or environments) can share one database
   * without seeing each other's tokens. Keys already start with `mcc1:` and never collide with
   * another app's own keys, so none is needed otherwise.
   * @default ""
   */
  prefix?: string;
}

/** A {@link TokenStore} on Redis, with locks, and which client library it is talking to. */
export interface RedisStore extends LockingTokenStore<null> {
  /** The library the client was recognised as. */
  readonly kind: RedisClientKind;
}

/** The five things the store needs, whatever the library. */
interface Commands {
  get(key: string): PromiseLike<unknown>;
  setEx(key: string, value: string, ttlSeconds: number): PromiseLike<unknown>;
  setNxPx(key: string, value: string, ttlMs: number): PromiseLike<unknown>;
  del(key: string): PromiseLike<unknown>;
  eval(script: string, key: string, arg: string): PromiseLike<unknown>;
}

// Compare-and-delete in one step: a holder whose lock expired must not free the next holder's.
const RELEASE = 'if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0';

// @upstash/redis parses every reply as JSON by default (`automaticDeserialization`), which would
// turn our JSON values into objects. A leading "~" is never valid JSON, so the value comes back
// untouched whatever the client's setting.
const UPSTASH_GET = 'local v = redis.call("GET", KEYS[1]) if v then return "~" .. v end return nil';

/**
 * A store on Redis, shared by every process that uses the same database: tokens and discovery
 * are fetched once per fleet, and a fresh process starts warm. Values are kept with Redis's own
 * expiry (`SET … EX`); the lock a fleet uses to ask for one token at a time is
 * `SET … PX … NX`, released by its owner only (a Lua compare-and-delete).
 *
 * Works with ioredis (v5, v6), node-redis (v4, v5, v6) and `@upstash/redis` (REST, for edge
 * runtimes), recognised by their methods; anything else is a `config` error.
 *
 * @example
 * import Redis from "ioredis";
 * import { redisStore } from "mcp-client-credentials/stores/redis";
 *
 * const client = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 0 });
 * const authFetch = withClientCredentials({ clientId, clientSecret, store: redisStore({ client }) })(fetch);
 *
 * @example
 * import { Redis } from "@upstash/redis";
 * const store = redisStore({ client: Redis.fromEnv(), prefix: "my-app:" });
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  const prefix = options?.prefix ?? "";
  if (typeof prefix !== "string") {
    throw configError("redisStore: prefix must be a string");
  }
  const { kind, commands } = recognise(options?.client);
  const name = (key: string) => prefix + key;
  return {
    kind,
    async get(key) {
      const reply = await commands.get(name(key));
      const value = text(reply);
      // Drop the "~" UPSTASH_GET put there.
      return kind === "upstash" && value?.startsWith("~") ? value.slice(1) : value;
    },
    async set(key, value, ttlSeconds) {
      await commands.setEx(name(key), value, Math.max(1, Math.ceil(ttlSeconds)));
    },
    async delete(key) {
      await commands.del(name(key));
    },
    async acquire(key, owner, ttlMs) {
      return text(await commands.setNxPx(name(key), owner, Math.max(1, Math.ceil(ttlMs)))) === "OK";
    },
    async release(key, owner) {
      await commands.eval(RELEASE, name(key), owner);
    },
  };
}

function recognise(client: unknown): { kind: RedisClientKind; commands: Commands } {
  if (has(client, "call")) return { kind: "ioredis", commands: ioredis(client as IoRedisLike) };
  if (has(client, "sendCommand") && has(client, "eval")) return { kind: "node-redis", commands: nodeRedis(promiseApi(client as NodeRedisLike)) };
  if (has(client, "eval") && has(client, "set") && has(client, "del")) return { kind: "upstash", commands: upstash(client as UpstashRedisLike) };
  throw configError(
    "redisStore: client must be an ioredis client (with call()), a node-redis v4+ client (with sendCommand() and eval()) " +
      "or an @upstash/redis client (with eval(), set() and del())",
  );
}

function ioredis(client: IoRedisLike): Commands {
  return {
    get: (key) => client.call("GET", key),
    setEx: (key, value, ttl) => client.call("SET", key, value, "EX", String(ttl)),
    setNxPx: (key, value, ttl) => client.call("SET", key, value, "PX", String(ttl), "NX"),
    del: (key) => client.call("DEL", key),
    eval: (script, key, arg) => client.call("EVAL", script, "1", key, arg),
  };
}

// Typed methods rather than sendCommand: a cluster's sendCommand takes the routing key first.
function nodeRedis(client: NodeRedisLike): Commands {
  return {
    get: (key) => client.get(key),
    setEx: (key, value, ttl) => client.set(key, value, { EX: ttl }),
    setNxPx: (key, value, ttl) => client.set(key, value, { PX: ttl, NX: true }),
    del: (key) => client.del(key),
    eval: (script, key, arg) => client.eval(script, { keys: [key], arguments: [arg] }),
  };
}

function upstash(client: UpstashRedisLike): Commands {
  return {
    get: (key) => client.eval(UPSTASH_GET, [key], []),
    setEx: (key, value, ttl) => client.set(key, value, { ex: ttl }),
    setNxPx: (key, value, ttl) => client.set(key, value, { px: ttl, nx: true }),
    del: (key) => client.del(key),
    eval: (script, key, arg) => client.eval(script, [key], [arg]),
  };
}

/** A node-redis v4 client in legacy mode takes callbacks; its promise API is `client.v4`. */
function promiseApi(client: NodeRedisLike): NodeRedisLike {
  const options = (client as { options?: { legacyMode?: unknown } }).options;
  // Only read `v4` in legacy mode: elsewhere the getter throws.
  return options?.legacyMode === true ? ((client as unknown as { v4: NodeRedisLike }).v4 ?? client) : client;
}

function has(value: unknown, method: string): boolean {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as Record<string, unknown>)[method] === "function";
}

/** A reply as text: clients configured for binary replies hand back bytes. */
function text(reply: unknown): string | null {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "string") return reply;
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  throw new TypeError(`redisStore: unexpected reply of type ${typeof reply}`);
}
