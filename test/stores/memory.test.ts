import { describe, expect, it } from "vitest";
import { memoryStore } from "../../src/stores/memory.js";
import { storeContract } from "../portable/store-contract.js";

describe("memoryStore: the TokenStore contract", () => {
  for (const test of storeContract({ createStore: () => memoryStore(), locks: true })) it(test.name, test.fn);
});

describe("memoryStore", () => {
  it("evicts the least recently used entry beyond maxEntries", () => {
    const store = memoryStore({ maxEntries: 2 });
    store.set("a", "1", 60);
    store.set("b", "2", 60);
    store.get("a"); // a is now the most recently used
    store.set("c", "3", 60);
    expect(store.size).toBe(2);
    expect(store.get("b")).toBeUndefined();
    expect(store.get("a")).toBe("1");
    expect(store.get("c")).toBe("3");
  });

  it("clear() forgets entries and locks", () => {
    const store = memoryStore();
    store.set("a", "1", 60);
    expect(store.acquire("lock", "owner", 60_000)).toBe(true);
    store.clear();
    expect(store.size).toBe(0);
    expect(store.acquire("lock", "other", 60_000)).toBe(true);
  });

  it("rejects a maxEntries that is not a positive integer", () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => memoryStore({ maxEntries: 1.5 })).toThrow(/maxEntries/);
  });
});
