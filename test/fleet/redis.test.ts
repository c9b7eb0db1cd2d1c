// redisStore against a real redis-server, through every client it supports: ioredis, node-redis
// 6 / 5 / 4 and @upstash/redis (through a loopback stand-in for Upstash's REST API). The store
// is the built one (dist/), as users get it; types come from src (the same declarations), so this
// file typechecks before a build.
import { Redis as UpstashRedis } from "@upstash/redis";
import IORedis from "ioredis";
import { createClient as createClient6 } from "redis";
import { createClient as createClient4 } from "redis4";
import { createClient as createClient5 } from "redis5";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as Errors from "../../src/errors.js";
import type * as RedisStoreModule from "../../src/stores/redis.js";
import type { RedisClientKind, RedisClientLike, RedisStore } from "../../src/stores/redis.js";
import { storeContract } from "../portable/store-contract.js";
import { type RedisServer, redisAvailable, startRedis } from "./redis-server.mjs";
import { startUpstashRest, type UpstashRest } from "./upstash-rest.mjs";

const dist = (path: string) => new URL(`../../dist/${path}`, import.meta.url).href;
const { redisStore } = (await import(dist("stores/redis.js"))) as typeof RedisStoreModule;
const { ClientCredentialsError } = (await import(dist("index.js"))) as typeof Errors;

type Flavour = "ioredis" | "node-redis 6" | "node-redis 5" | "node-redis 4" | "upstash";
const FLAVOURS: Flavour[] = ["ioredis", "node-redis 6", "node-redis 5", "node-redis 4", "upstash"];
const KINDS: Record<Flavour, RedisClientKind> = {
  ioredis: "ioredis",
  "node-redis 6": "node-redis",
  "node-redis 5": "node-redis",
  "node-redis 4": "node-redis",
  upstash: "upstash",
};

const random = () => crypto.randomUUID().replaceAll("-", "");

describe.skipIf(!redisAvailable())("redisStore against redis-server", () => {
  let redis: RedisServer;
  let rest: UpstashRest;
  /** For looking at raw keys (TTL, lock owner) behind the stores' backs. */
  let raw: IORedis;
  let n6: ReturnType<typeof createClient6>;
  let n5: ReturnType<typeof createClient5>;
  let n4: ReturnType<typeof createClient4>;
  const clients = {} as Record<Flavour, RedisClientLike>;

  beforeAll(async () => {
    redis = await startRedis();
    rest = await startUpstashRest({ redisPort: redis.port });
    raw = new IORedis(redis.url, { maxRetriesPerRequest: 1 });
    n6 = createClient6({ url: redis.url });
    n5 = createClient5({ url: redis.url });
    n4 = createClient4({ url: redis.url });
    await Promise.all([n6.connect(), n5.connect(), n4.connect()]);
    // Every client is passed without a cast: the structural interfaces accept the real types.
    clients.ioredis = new IORedis(redis.url);
    clients["node-redis 6"] = n6;
    clients["node-redis 5"] = n5;
    clients["node-redis 4"] = n4;
    clients.upstash = new UpstashRedis({ url: rest.url, token: rest.token, enableTelemetry: false });
  });

  afterAll(async () => {
    const quiet = async (close: () => unknown) => {
      try {
        await close();
      } catch {}
    };
    await quiet(() => (clients.ioredis as IORedis | undefined)?.quit());
    await quiet(() => raw?.quit());
    await Promise.all([n6, n5, n4].map((client) => quiet(() => client?.quit())));
    await quiet(() => rest?.close());
    await redis?.stop();
  });

  for (const flavour of FLAVOURS) {
    describe(`contract: ${flavour}`, () => {
      for (const test of storeContract({ createStore: () => redisStore({ client: clients[flavour] }), locks: true, name: flavour })) {
        it(test.name, test.fn);
      }
    });

    describe(`redis specifics: ${flavour}`, () => {
      it(`is recognised as ${KINDS[flavour]}`, () => {
        expect(redisStore({ client: clients[flavour] }).kind).toBe(KINDS[flavour]);
      });

      it("sets a native TTL on values (EX) and locks (PX)", async () => {
        const store = redisStore({ client: clients[flavour] });
        const key = `mcc1:ttl-${random()}`;
        await store.set(key, "value", 120);
        const ttl = await raw.ttl(key);
        expect(ttl).toBeGreaterThan(110);
        expect(ttl).toBeLessThanOrEqual(120);
        expect(await store.acquire(`${key}:lock`, "owner", 5_000)).toBe(true);
        const pttl = await raw.pttl(`${key}:lock`);
        expect(pttl).toBeGreaterThan(4_000);
        expect(pttl).toBeLessThanOrEqual(5_000);
        await store.release(`${key}:lock`, "owner");
        expect(await raw.exists(`${key}:lock`)).toBe(0);
      });

      it("a lock released by a non-owner stays, with its owner and expiry", async () => {
        const store = redisStore({ client: clients[flavour] });
        const key = `mcc1:lock-${random()}`;
        expect(await store.acquire(key, "owner-a", 10_000)).toBe(true);
        await store.release(key, "owner-b");
        expect(await raw.get(key)).toBe("owner-a");
        expect(await raw.pttl(key)).toBeGreaterThan(5_000);
        expect(await store.acquire(key, "owner-b", 10_000)).toBe(false);
        await store.release(key, "owner-a");
        expect(await raw.exists(key)).toBe(0);
      });

      it("prefixes every key, so apps sharing a database do not see each other", async () => {
        const a = redisStore({ client: clients[flavour], prefix: `app-a-${random()}:` });
        const b = redisStore({ client: clients[flavour], prefix: `app-b-${random()}:` });
        const plain = redisStore({ client: clients[flavour] });
        const key = `mcc1:prefix-${random()}`;
        await a.set(key, "from-a", 60);
        expect(await b.get(key)).toBeNull();
        expect(await plain.get(key)).toBeNull();
        await b.set(key, "from-b", 60);
        expect(await a.get(key)).toBe("from-a");
        expect(await b.get(key)).toBe("from-b");
        expect(await raw.exists(key)).toBe(0);
        expect(await a.acquire(`${key}:lock`, "a", 10_000)).toBe(true);
        expect(await b.acquire(`${key}:lock`, "b", 10_000)).toBe(true);
        await b.delete(key);
        expect(await a.get(key)).toBe("from-a");
        await a.release(`${key}:lock`, "a");
        await b.release(`${key}:lock`, "b");
      });

      it("keeps a 70 KB JSON value verbatim (whitespace, escapes, non-ASCII, a JSON string)", async () => {
        const store = redisStore({ client: clients[flavour] });
        const key = `mcc1:big-${random()}`;
        // Valid JSON on purpose: @upstash/redis would parse it into an object on a plain GET.
        const big = `{ "v": 1, "kind": "token", "esc": "\\u00e9\\/", "ü": "🔐", "pad": "${"y".repeat(70_000)}" }`;
        await store.set(key, big, 60);
        expect(await store.get(key)).toBe(big);
        for (const value of ['"just a JSON string"', "123", "true", "null", "~tilde", ""]) {
          await store.set(key, value, 60);
          expect(await store.get(key)).toBe(value);
        }
        expect(await raw.strlen(key)).toBe(0);
      });

      it("reads what the other clients wrote (a mixed fleet shares one store)", async () => {
        const key = `mcc1:mixed-${random()}`;
        const value = `{"v":1,"from":"${flavour}"}`;
        await redisStore({ client: clients[flavour] }).set(key, value, 60);
        for (const other of FLAVOURS) expect(await redisStore({ client: clients[other] }).get(key)).toBe(value);
      });
    });
  }

  it("@upstash/redis went through the REST stand-in (pipelines, base64 replies, EVAL)", () => {
    expect(rest.stats.unauthorized).toBe(0);
    expect(rest.stats.commands.eval).toBeGreaterThan(0);
    expect(rest.stats.commands.set).toBeGreaterThan(0);
    expect(rest.stats.paths["/pipeline"] ?? 0).toBeGreaterThan(0);
  });

  it("a node-redis 4 client in legacyMode is used through its promise API", async () => {
    const legacy = createClient4({ url: redis.url, legacyMode: true });
    await legacy.connect();
    try {
      const store = redisStore({ client: legacy });
      expect(store.kind).toBe("node-redis");
      const key = `mcc1:legacy-${random()}`;
      await store.set(key, "value", 60);
      expect(await store.get(key)).toBe("value");
      expect(await store.acquire(`${key}:lock`, "a", 10_000)).toBe(true);
      expect(await store.acquire(`${key}:lock`, "b", 10_000)).toBe(false);
      await store.release(`${key}:lock`, "a");
      await store.delete(key);
      expect(await store.get(key)).toBeNull();
    } finally {
      await legacy.v4.quit();
    }
  });

  it("an unrecognised client is a typed config error naming what was expected", () => {
    const attempts: unknown[] = [undefined, null, {}, "redis://127.0.0.1", { get() {}, set() {} }, { send_command() {} }];
    for (const client of attempts) {
      let caught: unknown;
      try {
        redisStore({ client: client as RedisClientLike });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ClientCredentialsError);
      const error = caught as Errors.ClientCredentialsError;
      expect(error.phase).toBe("config");
      expect(error.code).toBe("invalid_config");
      expect(error.message).toMatch(/ioredis.*node-redis.*@upstash\/redis/);
    }
    expect(() => redisStore({ client: clients.ioredis, prefix: 42 as unknown as string })).toThrow(ClientCredentialsError);
  });

  it("a store call while redis-server is unreachable rejects (a miss for the middleware), it does not hang", async () => {
    const down = new IORedis({ port: 1, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    down.on("error", () => {});
    const store: RedisStore = redisStore({ client: down });
    await expect(store.get("mcc1:nothing")).rejects.toThrow();
    down.disconnect();
  });
});
