// idbStore in Node: fake-indexeddb provides IndexedDB; Node has no navigator.locks, so the
// contract runs on the lock-record fallback, and once more on a small in-process fake of Web
// Locks. The real Web Locks (and real IndexedDB across tabs and workers) are checked in Chromium
// by test/runtimes/chromium.mjs.
import "fake-indexeddb/auto";
import { createStore, get as rawGet, set as rawSet } from "idb-keyval";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { idbStore } from "../../src/stores/idb.js";
import { storeContract } from "../portable/store-contract.js";

const unique = (label: string) => `${label}-${crypto.randomUUID()}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Enough of the Web Locks API for idbStore: exclusive/shared modes, ifAvailable, signal, FIFO queue. */
function fakeLockManager(): LockManager {
  type Mode = "exclusive" | "shared";
  const state = new Map<string, { exclusive: boolean; shared: number; queue: Array<{ mode: Mode; start: () => void }> }>();
  const of = (name: string) => {
    const s = state.get(name) ?? { exclusive: false, shared: 0, queue: [] };
    state.set(name, s);
    return s;
  };
  const free = (s: ReturnType<typeof of>, mode: Mode) => !s.exclusive && (mode === "shared" || s.shared === 0);
  const pump = (s: ReturnType<typeof of>) => {
    while (s.queue[0] && free(s, s.queue[0].mode)) s.queue.shift()!.start();
  };
  const request = (name: string, options: LockOptions, callback: (lock: Lock | null) => unknown) => {
    const s = of(name);
    const mode: Mode = options.mode ?? "exclusive";
    if (options.ifAvailable && (s.queue.length > 0 || !free(s, mode))) return Promise.resolve().then(() => callback(null));
    return new Promise((resolve, reject) => {
      const start = () => {
        if (mode === "exclusive") s.exclusive = true;
        else s.shared++;
        Promise.resolve()
          .then(() => callback({ name, mode }))
          .then(resolve, reject)
          .finally(() => {
            if (mode === "exclusive") s.exclusive = false;
            else s.shared--;
            pump(s);
          });
      };
      if (s.queue.length === 0 && free(s, mode)) return start();
      const entry = { mode, start };
      s.queue.push(entry);
      options.signal?.addEventListener("abort", () => {
        const at = s.queue.indexOf(entry);
        if (at < 0) return;
        s.queue.splice(at, 1);
        reject(new DOMException("aborted", "AbortError"));
      });
    });
  };
  return { request, query: async () => ({ held: [], pending: [] }) } as unknown as LockManager;
}

describe("idbStore: the TokenStore contract (IndexedDB lock records)", () => {
  const dbName = unique("contract");
  for (const test of storeContract({ createStore: () => idbStore({ dbName }), locks: true })) it(test.name, test.fn);
});

describe("idbStore: the TokenStore contract (Web Locks, in-process fake)", () => {
  const dbName = unique("contract-web-locks");
  beforeAll(() => {
    vi.stubGlobal("navigator", { locks: fakeLockManager() });
  });
  afterAll(() => {
    vi.unstubAllGlobals();
  });
  it("uses Web Locks when navigator.locks exists", () => {
    expect(idbStore({ dbName }).lockMode).toBe("web-locks");
    expect(idbStore({ dbName, locks: "indexeddb" }).lockMode).toBe("indexeddb");
  });
  for (const test of storeContract({ createStore: () => idbStore({ dbName }), locks: true })) it(test.name, test.fn);
});

describe("idbStore", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it("uses lock records where there is no navigator.locks (Node)", () => {
    expect(idbStore().lockMode).toBe("indexeddb");
  });

  it("reads an expired entry as missing and deletes it", async () => {
    const dbName = unique("expiry");
    const store = idbStore({ dbName });
    await store.set("mcc1:old", "value", 1);
    await store.set("mcc1:young", "value", 60);
    const now = Date.now();
    vi.spyOn(Date, "now").mockReturnValue(now + 1_500);
    expect(await store.get("mcc1:old")).toBeUndefined();
    expect(await store.get("mcc1:young")).toBe("value");
    vi.restoreAllMocks();
    const raw = createStore(dbName, "tokens");
    expect(await rawGet("mcc1:old", raw)).toBeUndefined();
    expect(await rawGet("mcc1:young", raw)).toMatchObject({ value: "value" });
  });

  it("reads a foreign or corrupt record as missing, and set replaces it", async () => {
    const dbName = unique("foreign");
    const raw = createStore(dbName, "tokens");
    const store = idbStore({ dbName });
    const foreign: Array<[string, unknown]> = [
      ["plain", "a bare string"],
      ["number", 42],
      ["null", null],
      ["object", { value: "no marker", expiresAt: Date.now() + 60_000 }],
      ["no-expiry", { mcc: "value", value: "x" }],
      ["bad-value", { mcc: "value", value: 1, expiresAt: Date.now() + 60_000 }],
      ["lock-shaped", { mcc: "lock", owner: "x", expiresAt: Date.now() + 60_000 }],
    ];
    for (const [key, value] of foreign) await rawSet(key, value, raw);
    for (const [key] of foreign) expect(await store.get(key), key).toBeUndefined();
    await store.set("plain", "ours", 60);
    expect(await store.get("plain")).toBe("ours");
  });

  it("keeps stores with different dbNames apart (values and locks)", async () => {
    const a = idbStore({ dbName: unique("isolated-a") });
    const b = idbStore({ dbName: unique("isolated-b") });
    await a.set("mcc1:k", "in a", 60);
    expect(await b.get("mcc1:k")).toBeUndefined();
    expect(await a.acquire("mcc1:k:lock", "owner-a", 10_000)).toBe(true);
    expect(await b.acquire("mcc1:k:lock", "owner-b", 10_000)).toBe(true);
    await a.release("mcc1:k:lock", "owner-a");
    await b.release("mcc1:k:lock", "owner-b");
  });

  it("shares values and locks between instances on one database (like two tabs)", async () => {
    const dbName = unique("shared");
    const tab1 = idbStore({ dbName });
    const tab2 = idbStore({ dbName });
    expect(await tab1.acquire("mcc1:k", "tab1", 10_000)).toBe(true);
    const started = Date.now();
    const waiting = tab2.acquire("mcc1:k", "tab2", 10_000);
    await sleep(200);
    void tab1.set("mcc1:k", "token from tab1", 60); // not awaited, as the middleware does
    await tab1.release("mcc1:k", "tab1");
    expect(await waiting).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000); // woke on release, not after the ttl
    expect(await tab2.get("mcc1:k")).toBe("token from tab1");
    expect(await tab2.acquire("mcc1:k", "tab2", 10_000)).toBe(true);
    await tab2.release("mcc1:k", "tab2");
  });

  it("keeps a lock and a value under the same key apart", async () => {
    const store = idbStore({ dbName: unique("same-key") });
    await store.set("mcc1:k", "value", 60);
    expect(await store.acquire("mcc1:k", "owner", 10_000)).toBe(true);
    expect(await store.get("mcc1:k")).toBe("value");
    await store.release("mcc1:k", "owner");
    expect(await store.get("mcc1:k")).toBe("value");
  });

  for (const mode of ["indexeddb", "web-locks"] as const) {
    it(`a waiter gives up after its ttlMs when the holder never releases (${mode})`, async () => {
      if (mode === "web-locks") vi.stubGlobal("navigator", { locks: fakeLockManager() });
      const store = idbStore({ dbName: unique(`bounded-${mode}`) });
      expect(store.lockMode).toBe(mode);
      expect(await store.acquire("mcc1:k", "holder", 60_000)).toBe(true);
      const started = Date.now();
      expect(await store.acquire("mcc1:k", "waiter", 300)).toBe(false);
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(2_000);
      await store.release("mcc1:k", "holder");
    });
  }

  it("rejects invalid options", () => {
    expect(() => idbStore({ dbName: "" })).toThrow(/dbName/);
    expect(() => idbStore({ storeName: "" })).toThrow(/storeName/);
    expect(() => idbStore({ locks: "redis" as "auto" })).toThrow(/locks/);
  });
});
