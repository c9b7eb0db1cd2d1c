import { configError } from "../errors.js";
import type { TokenStore } from "../types.js";

export interface MemoryStoreOptions {
  /**
   * Most entries kept; the least recently used one goes first.
   * @default 1000
   */
  maxEntries?: number;
}

/** A {@link TokenStore} that lives in this process, with its size and a way to empty it. */
export interface MemoryStore extends TokenStore {
  get(key: string): string | undefined;
  set(key: string, value: string, ttlSeconds: number): void;
  delete(key: string): void;
  acquire(key: string, owner: string, ttlMs: number): boolean;
  release(key: string, owner: string): void;
  /** Forgets every entry and lock. */
  clear(): void;
  /** Entries held now (expired ones included until they are next touched). */
  readonly size: number;
}

/**
 * A store in this process's memory: an LRU map with expiry, and locks. Share one between the
 * middleware instances of a process (several clients, a test suite) so they share tokens,
 * discovery and single-flight; for a fleet of processes pick a shared store instead.
 *
 * @example
 * const store = memoryStore();
 * const a = withClientCredentials({ clientId: "a", clientSecret, store })();
 * const b = withClientCredentials({ clientId: "a", clientSecret, store })(); // reuses a's token
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxEntries = options.maxEntries ?? 1000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw configError("memoryStore: maxEntries must be a positive integer");
  }
  const entries = new Map<string, { value: string; until: number }>();
  const locks = new Map<string, { owner: string; until: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      if (entry.until <= Date.now()) return undefined;
      entries.set(key, entry); // most recently used goes last
      return entry.value;
    },
    set(key, value, ttlSeconds) {
      entries.delete(key);
      entries.set(key, { value, until: Date.now() + ttlSeconds * 1000 });
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) break;
        entries.delete(oldest);
      }
    },
    delete(key) {
      entries.delete(key);
    },
    acquire(key, owner, ttlMs) {
      const held = locks.get(key);
      if (held && held.until > Date.now()) return false;
      locks.set(key, { owner, until: Date.now() + ttlMs });
      return true;
    },
    release(key, owner) {
      if (locks.get(key)?.owner === owner) locks.delete(key);
    },
    clear() {
      entries.clear();
      locks.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
