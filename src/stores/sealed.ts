import { configError } from "../errors.js";
import type { TokenStore } from "../types.js";
import { base64url, fromBase64 } from "../util.js";

/**
 * An AES-GCM key: a WebCrypto `CryptoKey` (usages `encrypt` and `decrypt`), or 16 or 32 raw
 * bytes (AES-128 / AES-256; browsers have no AES-192), as a `Uint8Array` or a base64 / base64url string (`openssl rand -base64 32`).
 */
export type SealingKey = CryptoKey | Uint8Array | string;

const PREFIX = "mcs1.";
const IV_BYTES = 12;

/**
 * Encrypts every value with AES-GCM before it reaches `store`, so whoever can browse a shared
 * Redis, KV namespace or IndexedDB sees ciphertext instead of access tokens. Keys are already
 * hashed and stay as they are. GCM also authenticates: a value altered or planted by someone
 * without the key, or moved to another key, reads as missing and is replaced. Locks pass through.
 *
 * Give several keys to rotate: the first seals, every one of them unseals.
 *
 * @example
 * import { sealedStore, withClientCredentials } from "mcp-client-credentials";
 * import { redisStore } from "mcp-client-credentials/stores/redis";
 *
 * const store = sealedStore(redisStore({ client }), process.env.TOKEN_STORE_KEY); // 32 random bytes, base64
 * const authFetch = withClientCredentials({ clientId, clientSecret, store })(fetch);
 */
export function sealedStore(store: TokenStore, key: SealingKey | readonly SealingKey[]): TokenStore {
  const given = Array.isArray(key) ? (key as readonly SealingKey[]) : [key as SealingKey];
  if (given.length === 0) throw configError("sealedStore needs at least one key");
  const material = given.map((k) => keyMaterial(k)); // checked now, so a bad key fails at startup
  let imported: Promise<CryptoKey[]> | undefined;
  const keys = () => {
    imported ??= Promise.all(material.map((m) => (ArrayBuffer.isView(m) ? crypto.subtle.importKey("raw", m, "AES-GCM", false, ["encrypt", "decrypt"]) : m)));
    return imported;
  };
  const sealed: TokenStore = {
    async get(name) {
      const value = await store.get(name);
      if (typeof value !== "string" || !value.startsWith(PREFIX)) return undefined;
      const bytes = fromBase64(value.slice(PREFIX.length));
      if (!bytes || bytes.length <= IV_BYTES) return undefined;
      const iv = bytes.subarray(0, IV_BYTES);
      for (const cryptoKey of await keys()) {
        try {
          const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad(name) }, cryptoKey, bytes.subarray(IV_BYTES));
          return new TextDecoder().decode(plain);
        } catch {
          // Another key, a tampered value, or one moved from another key: try the next.
        }
      }
      return undefined;
    },
    async set(name, value, ttlSeconds) {
      const [current] = await keys();
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const cipher = new Uint8Array(
        await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad(name) }, current as CryptoKey, new TextEncoder().encode(value)),
      );
      const bytes = new Uint8Array(IV_BYTES + cipher.length);
      bytes.set(iv);
      bytes.set(cipher, IV_BYTES);
      await store.set(name, PREFIX + base64url(bytes), ttlSeconds);
    },
    delete: (name) => store.delete(name),
  };
  const { acquire, release } = store;
  if (acquire && release) {
    sealed.acquire = acquire.bind(store);
    sealed.release = release.bind(store);
  }
  return sealed;
}

/** The store key is authenticated with the value: an entry copied under another key does not decrypt. */
function aad(name: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(name);
}

function keyMaterial(key: SealingKey): CryptoKey | Uint8Array<ArrayBuffer> {
  if (typeof key === "string") {
    const bytes = fromBase64(key.trim());
    if (!bytes) throw configError("sealedStore key is not base64 or base64url");
    return checkLength(bytes);
  }
  // isView, not instanceof: bytes may come from another realm (a test runner, an edge sandbox).
  if (ArrayBuffer.isView(key)) {
    const copy = new Uint8Array(key.byteLength); // also keeps a caller's later changes out
    copy.set(new Uint8Array(key.buffer, key.byteOffset, key.byteLength));
    return checkLength(copy);
  }
  if (typeof key === "object" && key !== null && (key as CryptoKey).algorithm?.name === "AES-GCM") {
    const { usages } = key as CryptoKey;
    if (usages.includes("encrypt") && usages.includes("decrypt")) return key as CryptoKey;
    throw configError("sealedStore CryptoKey needs the usages encrypt and decrypt");
  }
  throw configError("sealedStore key must be an AES-GCM CryptoKey, 16 or 32 bytes, or those bytes as base64");
}

function checkLength(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  if (bytes.length === 16 || bytes.length === 32) return bytes;
  throw configError(`sealedStore key must be 16 or 32 bytes (AES-128 or AES-256), got ${bytes.length}`);
}
