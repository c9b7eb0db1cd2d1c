import { ClientCredentialsError } from "../errors.js";
import type { StoredToken, TokenStore } from "../types.js";

export interface MemoryStoreOptions {
  /**
   * Most entries kept; the least recently used one goes first.
   * @default 1000
   */
  maxEntries?: number;
}

/** The default store: a per-process LRU map. Entries leave when their TTL runs out. */
export function memoryStore(options: MemoryStoreOptions = {}): TokenStore & { clear(): void; readonly size: number } {
  const maxEntries = options.maxEntries ?? 1000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new ClientCredentialsError("config", "memoryStore: maxEntries must be a positive integer", { code: "invalid_config" });
  }
  const entries = new Map<string, { value: StoredToken; until: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      if (entry.until <= Date.now()) return undefined;
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value, ttlSeconds) {
      entries.delete(key);
      entries.set(key, { value, until: Date.now() + ttlSeconds * 1000 });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    delete(key) {
      entries.delete(key);
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
