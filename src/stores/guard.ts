import type { ClientCredentialsEvent, TokenStore } from "../types.js";
import { deadline, sha256 } from "../util.js";

/** What the shared store holds besides tokens: each kind is validated again when read back. */
export type EntryKind = "token" | "bindings" | "resource-metadata" | "authorization-server-metadata";

/**
 * Format of every value this release writes. A value with another version (an older or newer
 * release), another kind, bad JSON or a past expiry reads as a miss and is overwritten later.
 */
const ENTRY_VERSION = 1;
const KEY_PREFIX = "mcc1:";
const MAX_MEMO_KEYS = 1024;
/** Waiting for a lock: pauses from 10 ms, doubling up to this. */
const MAX_POLL_MS = 250;
/**
 * After a failure the store is left alone this long: a store that hangs would otherwise cost a
 * timeout on every step of a cold request (bindings, both metadata documents, the token).
 */
export const STORE_COOL_DOWN_MS = 5000;

interface Entry {
  v: number;
  kind: EntryKind;
  /** Absolute expiry, epoch ms: a store that keeps the entry too long changes nothing. */
  exp: number;
  data: unknown;
}

export interface GuardOptions {
  store: TokenStore | undefined;
  timeoutMs: number;
  emit: (event: ClientCredentialsEvent) => void;
}

/**
 * How the middleware talks to a shared {@link TokenStore}: hashed keys, versioned entries, a
 * deadline on every call, and failures turned into misses plus an `error` event (then a short
 * cool-down). Nothing here throws or rejects: a store that is down costs a miss, never a request.
 */
export class StoreGuard {
  readonly #store: TokenStore | undefined;
  readonly #timeoutMs: number;
  readonly #emit: (event: ClientCredentialsEvent) => void;
  readonly #keys = new Map<string, Promise<string>>();
  /** Every entry key this instance read or wrote, so clearTokens() can remove them all. */
  readonly #used = new Set<string>();
  /** Bumped by forget(): a discovery result loaded across it is not written back. */
  #generation = 0;
  #downUntil = 0;

  constructor(options: GuardOptions) {
    this.#store = options.store;
    this.#timeoutMs = options.timeoutMs;
    this.#emit = options.emit;
  }

  /** There is a shared store at all. */
  get enabled(): boolean {
    return this.#store !== undefined;
  }

  /** The store offers acquire/release, so a fleet can single-flight token requests. */
  get locks(): boolean {
    return typeof this.#store?.acquire === "function" && typeof this.#store.release === "function";
  }

  /** `mcc1:` + SHA-256 of the parts: fixed length, and no secret, id or URL readable in it (with a store). */
  key(kind: EntryKind | "lock", parts: readonly unknown[]): Promise<string> {
    const text = JSON.stringify([kind, ...parts]);
    if (!this.#store) return Promise.resolve(text); // an in-memory key, never shown: no hashing
    let key = this.#keys.get(text);
    if (!key) {
      key = sha256(text).then((hash) => KEY_PREFIX + hash);
      if (this.#keys.size >= MAX_MEMO_KEYS) this.#keys.clear();
      this.#keys.set(text, key);
    }
    return key;
  }

  /** The entry's data and expiry, when the store holds a current entry of this kind. */
  async read(key: string, kind: EntryKind): Promise<{ data: unknown; expiresAt: number } | undefined> {
    const store = this.#store;
    if (!store) return undefined;
    this.#used.add(key);
    const raw = await this.#call("get", () => store.get(key));
    return typeof raw === "string" ? decode(raw, kind) : undefined;
  }

  /** Writes an entry that stays useful until `expiresAt`; the store's TTL follows it. */
  async write(key: string, kind: EntryKind, data: unknown, expiresAt: number): Promise<void> {
    const store = this.#store;
    const ttlSeconds = Math.ceil((expiresAt - Date.now()) / 1000);
    if (!store || ttlSeconds < 1) return;
    this.#used.add(key);
    const value = JSON.stringify({ v: ENTRY_VERSION, kind, exp: expiresAt, data } satisfies Entry);
    await this.#call("set", () => store.set(key, value, ttlSeconds));
  }

  async delete(key: string): Promise<void> {
    const store = this.#store;
    if (store) await this.#call("delete", () => store.delete(key));
  }

  /**
   * A discovery result through the store: the entry when `restore` accepts it (it re-checks what
   * comes back as strictly as a fresh response, and may throw to refuse it), else `load()`, whose
   * result (or `stored(result)`) is written back for `ttlMs`.
   */
  async through<T>(
    kind: EntryKind,
    parts: readonly unknown[],
    ttlMs: number,
    restore: (data: unknown) => T | undefined | Promise<T | undefined>,
    load: () => Promise<T>,
    stored: (value: T) => unknown = (value) => value,
  ): Promise<T> {
    if (!this.enabled) return load();
    const key = await this.key(kind, parts);
    const entry = await this.read(key, kind);
    if (entry) {
      try {
        const restored = await restore(entry.data);
        if (restored !== undefined) return restored;
      } catch {
        // Not what a fresh response would have passed: load it again.
      }
    }
    const generation = this.#generation;
    const value = await load();
    // Loaded across a forget(): its caller gets it, the store does not.
    if (generation === this.#generation) await this.write(key, kind, stored(value), Date.now() + ttlMs);
    return value;
  }

  /** Deletes every entry this instance read or wrote. */
  async forget(): Promise<void> {
    this.#generation++;
    const keys = [...this.#used];
    this.#used.clear();
    await Promise.all(keys.map((key) => this.delete(key)));
  }

  /**
   * `true`: this owner holds the lock. `false`: someone else does. `undefined`: the store has no
   * locks or failed to answer, and the caller goes on without one. A store may hold the call
   * while another owner has the lock, so the deadline allows for the lock's own lifetime.
   */
  async acquire(key: string, owner: string, ttlMs: number): Promise<boolean | undefined> {
    const store = this.#store;
    if (!store?.acquire || !this.locks) return undefined;
    const acquire = store.acquire.bind(store);
    const held = await this.#call("acquire", () => acquire(key, owner, ttlMs), ttlMs + this.#timeoutMs);
    return typeof held === "boolean" ? held : undefined;
  }

  async release(key: string, owner: string): Promise<void> {
    const store = this.#store;
    if (!store?.release) return;
    const release = store.release.bind(store);
    await this.#call("release", () => release(key, owner));
  }

  /**
   * This owner's turn at a fleet-wide lock, polling `check` (what the holder publishes) in
   * between: `{ found }` once it appears; `{ release }` once this owner holds the lock or must go
   * without it (no locks, a failing store, a holder past twice the lock's lifetime). `stop` runs
   * before each pause and may throw (nobody waits any more). Release is idempotent.
   */
  async turn<T>(lock: string, ttlMs: number, check: () => Promise<T | undefined>, stop: () => void): Promise<{ found: T } | { release: () => Promise<void> }> {
    const owner = crypto.randomUUID();
    const giveUpAt = Date.now() + 2 * ttlMs;
    for (let pause = 10; ; pause = Math.min(pause * 2, MAX_POLL_MS)) {
      const asked = Date.now();
      const held = await this.acquire(lock, owner, ttlMs);
      let released: Promise<void> | undefined;
      const release = () => {
        released ??= held ? this.release(lock, owner) : Promise.resolve();
        return released;
      };
      // Someone may have published between our last look and our lock.
      const found = await check();
      if (found !== undefined) {
        void release();
        return { found };
      }
      if (held !== false || Date.now() >= giveUpAt) return { release };
      stop();
      // A store that waited for the holder already paused; one that answered at once gets a pause.
      if (Date.now() - asked < pause) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  async #call<T>(operation: string, run: () => PromiseLike<T> | T, timeoutMs = this.#timeoutMs): Promise<T | undefined> {
    if (Date.now() < this.#downUntil) return undefined;
    try {
      return await deadline(Promise.resolve().then(run), timeoutMs);
    } catch (error) {
      if (Date.now() < this.#downUntil) return undefined; // a concurrent call already reported it
      this.#downUntil = Date.now() + STORE_COOL_DOWN_MS;
      // The name only: a store's message may quote the value it was given, which holds a token.
      const name = error instanceof Error ? error.name : typeof error;
      this.#emit({
        type: "error",
        phase: "token",
        message: `token store ${operation} failed: ${name} (working without it for ${STORE_COOL_DOWN_MS / 1000} s)`,
      });
      return undefined;
    }
  }
}

function decode(raw: string, kind: EntryKind): { data: unknown; expiresAt: number } | undefined {
  let entry: Partial<Entry> | null;
  try {
    entry = JSON.parse(raw) as Partial<Entry> | null;
  } catch {
    return undefined;
  }
  if (typeof entry !== "object" || entry === null || entry.v !== ENTRY_VERSION || entry.kind !== kind) return undefined;
  const expiresAt = entry.exp;
  if (typeof expiresAt !== "number" || !(expiresAt > Date.now())) return undefined;
  return { data: entry.data, expiresAt };
}
