// The Durable Object behind durableObjectStore(): values with absolute expiry, and locks with an
// owner, an expiry and waiters. Re-exported from ./cloudflare.ts; kept apart to stay readable.
//
// Protocol (one JSON message per POST to BROKER_URL, answered with 200 JSON; 400 when malformed):
//   { op: "get", key }                                   → { value: string | null }
//   { op: "set", key, value, ttlSeconds }                → { ok: true }
//   { op: "delete", key }                                → { ok: true }
//   { op: "acquire", key, owner, ttlMs, waitMs }         → { acquired: boolean }
//   { op: "release", key, owner }                        → { ok: true }

/** Where stores send their messages; the host is never resolved (a stub routes by id). */
export const BROKER_URL = "https://token-store.mcp-client-credentials/v1";

/** One operation on the broker. */
export type BrokerRequest =
  | { op: "get"; key: string }
  | { op: "set"; key: string; value: string; ttlSeconds: number }
  | { op: "delete"; key: string }
  | { op: "acquire"; key: string; owner: string; ttlMs: number; waitMs: number }
  | { op: "release"; key: string; owner: string };

/** The part of `DurableObjectStorage` (`state.storage`) the broker uses. */
export interface DurableObjectStorageLike {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
  list<T>(options?: { prefix?: string }): Promise<Map<string, T>>;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number): Promise<void>;
}

/** The part of `DurableObjectState` (the constructor's first argument) the broker uses. */
export interface DurableObjectStateLike {
  readonly storage: DurableObjectStorageLike;
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}

interface Entry {
  value: string;
  expiresAt: number;
}

interface Lock {
  owner: string;
  expiresAt: number;
}

// Prefixes keep values and locks apart whatever keys callers pick ("k" and "k:lock" may both exist).
const VALUE = "v:";
const LOCK = "l:";
/** Durable Object storage keys may be 2 KiB; store keys are ~50 characters. */
const MAX_KEY_LENGTH = 1024;
/** A waiter never holds a request open longer than this, whatever it asks for. */
const MAX_WAIT_MS = 60_000;
/** Expired values are swept in batches: one alarm per minute at most, not one per entry. */
const SWEEP_SLACK_MS = 60_000;

/**
 * The Durable Object class behind {@link durableObjectStore}: export it from your Worker and bind
 * it. One instance (per `name`) holds the fleet's shared values and locks. Because a Durable Object
 * runs one request at a time to completion between awaits, taking a lock is atomic across every
 * isolate, location and Worker bound to it. It stores opaque strings and never sees secrets.
 *
 * Values expire at an absolute time: expired ones read as missing, are deleted when read, and an
 * alarm sweeps the rest. Locks are kept in memory and written through to storage, so they survive
 * eviction or a deploy; a caller that finds a lock held waits until it is released or expires.
 *
 * @example
 * // wrangler.jsonc
 * // "durable_objects": { "bindings": [{ "name": "TOKENS", "class_name": "TokenStoreDurableObject" }] },
 * // "migrations": [{ "tag": "v1", "new_sqlite_classes": ["TokenStoreDurableObject"] }]
 *
 * // src/index.ts
 * export { TokenStoreDurableObject } from "mcp-client-credentials/stores/cloudflare";
 */
export class TokenStoreDurableObject {
  readonly #storage: DurableObjectStorageLike;
  readonly #locks = new Map<string, Lock>();
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Called by the runtime. `env` is unused: the object needs no configuration. */
  constructor(state: DurableObjectStateLike, _env?: unknown) {
    this.#storage = state.storage;
    // Locks outlive a restart of this object (eviction, deploy): load them before any request.
    void state.blockConcurrencyWhile(async () => {
      for (const [name, lock] of await this.#storage.list<Lock>({ prefix: LOCK })) {
        if (isLock(lock)) this.#locks.set(name.slice(LOCK.length), lock);
      }
    });
  }

  /** Answers one protocol message (see {@link BrokerRequest}). Only reachable through its binding. */
  async fetch(request: Request): Promise<Response> {
    if (request.method !== "POST" || new URL(request.url).pathname !== new URL(BROKER_URL).pathname) {
      return Response.json({ error: "not found" }, { status: 404 });
    }
    const message = parseRequest(await request.json().catch(() => undefined));
    if (!message) return Response.json({ error: "malformed message" }, { status: 400 });
    switch (message.op) {
      case "get":
        return Response.json({ value: await this.#get(message.key) });
      case "set":
        await this.#set(message.key, message.value, message.ttlSeconds);
        return Response.json({ ok: true });
      case "delete":
        await this.#storage.delete(VALUE + message.key);
        return Response.json({ ok: true });
      case "acquire":
        return Response.json({ acquired: await this.#acquire(message.key, message.owner, message.ttlMs, message.waitMs) });
      case "release":
        await this.#release(message.key, message.owner);
        return Response.json({ ok: true });
    }
  }

  /** Sweeps expired values and locks, then schedules the next sweep. Called by the runtime. */
  async alarm(): Promise<void> {
    const now = Date.now();
    const expired: string[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [name, entry] of await this.#storage.list<Entry>({ prefix: VALUE })) {
      if (!isEntry(entry) || entry.expiresAt <= now) expired.push(name);
      else next = Math.min(next, entry.expiresAt);
    }
    for (const [key, lock] of this.#locks) {
      if (lock.expiresAt > now) continue;
      this.#locks.delete(key);
      expired.push(LOCK + key);
    }
    await Promise.all(expired.map((name) => this.#storage.delete(name)));
    if (next < Number.POSITIVE_INFINITY) await this.#storage.setAlarm(next + SWEEP_SLACK_MS);
  }

  async #get(key: string): Promise<string | null> {
    const entry = await this.#storage.get<Entry>(VALUE + key);
    if (entry === undefined) return null;
    if (isEntry(entry) && entry.expiresAt > Date.now()) return entry.value;
    await this.#storage.delete(VALUE + key);
    return null;
  }

  async #set(key: string, value: string, ttlSeconds: number): Promise<void> {
    const expiresAt = Date.now() + ttlSeconds * 1000;
    await this.#storage.put<Entry>(VALUE + key, { value, expiresAt });
    const sweepAt = expiresAt + SWEEP_SLACK_MS;
    const scheduled = await this.#storage.getAlarm();
    if (scheduled === null || scheduled > sweepAt) await this.#storage.setAlarm(sweepAt);
  }

  async #acquire(key: string, owner: string, ttlMs: number, waitMs: number): Promise<boolean> {
    const now = Date.now();
    const held = this.#locks.get(key);
    if (!held || held.expiresAt <= now || held.owner === owner) {
      // Checked and taken in memory with no await in between: nothing can interleave.
      const lock = { owner, expiresAt: now + ttlMs };
      this.#locks.set(key, lock);
      if (held && held.owner !== owner) this.#wake(key); // waiters of an expired holder
      await this.#storage.put<Lock>(LOCK + key, lock);
      return true;
    }
    // Held by someone else: answer false once it is released or expires (or waitMs passes), so
    // the caller re-reads the store right away instead of polling it.
    const wait = Math.min(waitMs, held.expiresAt - now);
    if (wait > 0) await this.#waitFor(key, wait);
    return false;
  }

  async #release(key: string, owner: string): Promise<void> {
    if (this.#locks.get(key)?.owner !== owner) return;
    this.#locks.delete(key);
    this.#wake(key);
    await this.#storage.delete(LOCK + key);
  }

  #waitFor(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(key) ?? new Set<() => void>();
      this.#waiters.set(key, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  #wake(key: string): void {
    for (const done of [...(this.#waiters.get(key) ?? [])]) done();
  }
}

/** Validates a message: the broker trusts nothing it did not check (limits included). */
function parseRequest(body: unknown): BrokerRequest | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const m = body as Record<string, unknown>;
  const { key, owner } = m;
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) return undefined;
  const validOwner = typeof owner === "string" && owner.length > 0 && owner.length <= MAX_KEY_LENGTH;
  switch (m.op) {
    case "get":
    case "delete":
      return { op: m.op, key };
    case "set":
      return typeof m.value === "string" && isPositive(m.ttlSeconds) ? { op: "set", key, value: m.value, ttlSeconds: m.ttlSeconds } : undefined;
    case "acquire": {
      const { ttlMs, waitMs } = m;
      if (!validOwner || !isPositive(ttlMs) || typeof waitMs !== "number" || !(waitMs >= 0)) return undefined;
      return { op: "acquire", key, owner, ttlMs, waitMs: Math.min(waitMs, MAX_WAIT_MS) };
    }
    case "release":
      return validOwner ? { op: "release", key, owner } : undefined;
    default:
      return undefined;
  }
}

function isPositive(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}

function isEntry(value: unknown): value is Entry {
  const entry = value as Partial<Entry> | null;
  return typeof entry === "object" && entry !== null && typeof entry.value === "string" && typeof entry.expiresAt === "number";
}

function isLock(value: unknown): value is Lock {
  const lock = value as Partial<Lock> | null;
  return typeof lock === "object" && lock !== null && typeof lock.owner === "string" && typeof lock.expiresAt === "number";
}
