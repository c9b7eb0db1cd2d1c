import { describe, expect, it } from "vitest";
import { memoryStore, sealedStore, withClientCredentials } from "../../src/index.js";
import { CLIENT_ID, CLIENT_SECRET, useMockServer } from "../helpers.js";
import { storeContract } from "../portable/store-contract.js";

const { mock: install } = useMockServer();

const randomKey = (bytes = 32) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))));

describe("sealedStore: the TokenStore contract", () => {
  for (const test of storeContract({ createStore: () => sealedStore(memoryStore(), randomKey()), locks: true })) it(test.name, test.fn);
});

describe("sealedStore", () => {
  it("whoever browses the inner store sees neither the token nor the client", async () => {
    const mock = install();
    const inner = memoryStore();
    const keys: string[] = [];
    const spy = {
      ...inner,
      set: (key: string, value: string, ttl: number) => {
        keys.push(key);
        inner.set(key, value, ttl);
      },
    };
    await withClientCredentials({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store: sealedStore(spy, randomKey()) })(fetch)(mock.resource);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const raw = inner.get(key)!;
      expect(raw).toMatch(/^mcs1\.[A-Za-z0-9_-]+$/);
      for (const secret of [mock.tokens[0]!.accessToken, CLIENT_ID, "mcp.example.com", "Bearer"]) expect(raw).not.toContain(secret);
    }
  });

  it("a second instance with the same key reads the token; one with another key does not", async () => {
    const mock = install();
    const inner = memoryStore();
    const key = randomKey();
    const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
    await withClientCredentials({ ...options, store: sealedStore(inner, key) })(fetch)(mock.resource);
    await withClientCredentials({ ...options, store: sealedStore(inner, key) })(fetch)(mock.resource);
    expect(mock.tokens).toHaveLength(1);
    await withClientCredentials({ ...options, store: sealedStore(inner, randomKey()) })(fetch)(mock.resource);
    expect(mock.tokens).toHaveLength(2);
  });

  it("a tampered value, or one moved to another key, reads as missing", async () => {
    const inner = memoryStore();
    const store = sealedStore(inner, randomKey());
    await store.set("a", "secret value", 60);
    const sealed = inner.get("a")!;
    inner.set("b", sealed, 60); // same ciphertext under another key: the key is authenticated too
    expect(await store.get("b")).toBeUndefined();
    const middle = Math.floor(sealed.length / 2); // the last character may carry only padding bits
    inner.set("a", sealed.slice(0, middle) + (sealed[middle] === "A" ? "B" : "A") + sealed.slice(middle + 1), 60);
    expect(await store.get("a")).toBeUndefined();
    inner.set("a", "plain text someone planted", 60);
    expect(await store.get("a")).toBeUndefined();
  });

  it("rotation: the first key seals, every key unseals", async () => {
    const inner = memoryStore();
    const [older, newer] = [randomKey(), randomKey(16)];
    await sealedStore(inner, older).set("old", "written with the old key", 60);
    const rotated = sealedStore(inner, [newer, older]);
    expect(await rotated.get("old")).toBe("written with the old key");
    await rotated.set("new", "written with the new key", 60);
    expect(await sealedStore(inner, newer).get("new")).toBe("written with the new key");
    expect(await sealedStore(inner, older).get("new")).toBeUndefined();
  });

  it("accepts a CryptoKey and raw bytes", async () => {
    const cryptoKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    for (const key of [cryptoKey, bytes]) {
      const store = sealedStore(memoryStore(), key);
      await store.set("k", "v", 60);
      expect(await store.get("k")).toBe("v");
    }
  });

  it.each([
    ["a 20-byte key", randomKey(20), /16 or 32 bytes/],
    ["a key that is not base64", "not base64!", /not base64/],
    ["no key at all", [], /at least one key/],
    ["an object that is not an AES-GCM key", { algorithm: { name: "HMAC" } }, /AES-GCM CryptoKey/],
  ])("rejects %s with a config error", (_name, key, message) => {
    expect(() => sealedStore(memoryStore(), key as never)).toThrow(message);
  });

  it("serialising the store shows no key material", () => {
    const key = randomKey();
    const store = sealedStore(memoryStore(), key);
    expect(JSON.stringify(store)).not.toContain(key);
    expect(JSON.stringify(Object.entries(store))).not.toContain(key);
  });

  it("passes locks through only when the inner store has them", () => {
    expect(typeof sealedStore(memoryStore(), randomKey()).acquire).toBe("function");
    const { acquire: _a, release: _r, ...plain } = memoryStore();
    expect(sealedStore(plain, randomKey()).acquire).toBeUndefined();
  });
});
