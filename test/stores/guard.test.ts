import { afterEach, describe, expect, it, vi } from "vitest";
import { type ClientCredentialsEvent, memoryStore, type TokenStore, withClientCredentials } from "../../src/index.js";
import { StoreGuard } from "../../src/stores/guard.js";
import { CLIENT_ID, CLIENT_SECRET, collectEvents, decodeEntry, recordingStore, useMockServer } from "../helpers.js";

const { mock: install } = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

afterEach(() => vi.useRealTimers());

function guardOver(store: TokenStore, timeoutMs = 1000) {
  const events: ClientCredentialsEvent[] = [];
  return { guard: new StoreGuard({ store, timeoutMs, emit: (e) => void events.push(e) }), events };
}

describe("StoreGuard: versioned entries", () => {
  it("writes { v: 1, kind, exp, data } with a TTL that follows exp", async () => {
    const { store, writes } = recordingStore();
    const { guard } = guardOver(store);
    const exp = Date.now() + 90_500;
    await guard.write("k", "token", { a: 1 }, exp);
    expect(writes).toEqual([{ key: "k", value: expect.any(String), ttl: 91, entry: { v: 1, kind: "token", exp, data: { a: 1 } } }]);
    expect(await guard.read("k", "token")).toEqual({ data: { a: 1 }, expiresAt: exp });
  });

  it.each([
    ["not JSON", "{oops"],
    ["JSON that is not an object", "42"],
    ["another version (a later release)", JSON.stringify({ v: 2, kind: "token", exp: Date.now() + 60_000, data: {} })],
    ["no version (another application's value)", JSON.stringify({ kind: "token", exp: Date.now() + 60_000, data: {} })],
    ["another kind", JSON.stringify({ v: 1, kind: "bindings", exp: Date.now() + 60_000, data: [] })],
    ["a past expiry (a store that kept it too long)", JSON.stringify({ v: 1, kind: "token", exp: Date.now() - 1, data: {} })],
    ["a non-numeric expiry", JSON.stringify({ v: 1, kind: "token", exp: "tomorrow", data: {} })],
  ])("reads %s as a miss", async (_name, raw) => {
    const inner = memoryStore();
    inner.set("k", raw, 60);
    expect(await guardOver(inner).guard.read("k", "token")).toBeUndefined();
  });

  it("a corrupt token entry is ignored and overwritten by the next token", async () => {
    const mock = install();
    const { store, inner, tokenWrites } = recordingStore();
    await withClientCredentials({ ...options, store })(fetch)(mock.resource);
    const { key } = tokenWrites()[0]!;
    inner.set(key, JSON.stringify({ v: 1, kind: "token", exp: Date.now() + 60_000, data: { accessToken: "has space", tokenType: "Bearer" } }), 60);
    mock.clearRequests();
    expect((await withClientCredentials({ ...options, store })(fetch)(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(1);
    expect(decodeEntry<{ accessToken: string }>(inner.get(key))?.data.accessToken).toBe(mock.tokens[1]!.accessToken);
  });

  it("keys are mcc1: + 43 base64url characters, the same for the same parts", async () => {
    const { guard } = guardOver(memoryStore());
    const a = await guard.key("token", ["issuer", "client", ["b", "a"]]);
    expect(a).toMatch(/^mcc1:[A-Za-z0-9_-]{43}$/);
    expect(await guard.key("token", ["issuer", "client", ["b", "a"]])).toBe(a);
    expect(await guard.key("lock", ["issuer", "client", ["b", "a"]])).not.toBe(a);
  });
});

describe("StoreGuard: failures", () => {
  it("an error becomes a miss and one error event naming the operation, never the key or value", async () => {
    const store: TokenStore = {
      get: () => {
        throw new Error("ERR value mcc1:secret-token-value");
      },
      set: () => {},
      delete: () => {},
    };
    const { guard, events } = guardOver(store);
    expect(await guard.read("mcc1:key", "token")).toBeUndefined();
    expect(events).toEqual([{ type: "error", phase: "token", message: "token store get failed: Error (working without it for 5 s)" }]);
  });

  it("after a failure the store is left alone for 5 s, then tried again", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    let calls = 0;
    let broken = true;
    const store: TokenStore = {
      get: () => {
        calls++;
        if (broken) throw new Error("down");
        return undefined;
      },
      set: () => {},
      delete: () => {},
    };
    const { guard, events } = guardOver(store);
    await guard.read("k", "token");
    await guard.read("k", "token");
    await guard.write("k", "token", {}, Date.now() + 60_000);
    expect(calls).toBe(1);
    broken = false;
    vi.setSystemTime(Date.now() + 5_001);
    await guard.read("k", "token");
    expect(calls).toBe(2);
    expect(events).toHaveLength(1);
  });

  it("a store without locks, or whose acquire fails, gives no lock (the caller goes alone)", async () => {
    const plain: TokenStore = { get: () => undefined, set: () => {}, delete: () => {} };
    expect(guardOver(plain).guard.locks).toBe(false);
    expect(await guardOver(plain).guard.acquire("l", "o", 1000)).toBeUndefined();
    const failing: TokenStore = { ...plain, acquire: () => Promise.reject(new Error("down")), release: () => {} };
    expect(await guardOver(failing).guard.acquire("l", "o", 1000)).toBeUndefined();
  });

  it("a store that keeps failing never fails a request: every call still succeeds from memory", async () => {
    const mock = install();
    const { events, onEvent } = collectEvents();
    const down: TokenStore = {
      get: () => Promise.reject(new Error("ECONNREFUSED")),
      set: () => Promise.reject(new Error("ECONNREFUSED")),
      delete: () => Promise.reject(new Error("ECONNREFUSED")),
      acquire: () => Promise.reject(new Error("ECONNREFUSED")),
      release: () => Promise.reject(new Error("ECONNREFUSED")),
    };
    const authFetch = withClientCredentials({ ...options, store: down, onEvent })(fetch);
    const statuses = await Promise.all(Array.from({ length: 10 }, () => authFetch(mock.resource).then((r) => r.status)));
    expect(statuses).toEqual(Array(10).fill(200));
    expect(mock.requestsTo("token")).toHaveLength(1);
    expect(events.filter((e) => e.type === "error")).toHaveLength(1);
  });
});
