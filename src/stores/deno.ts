import { ClientCredentialsError, configError } from "../errors.js";
import type { LockingTokenStore, TokenStore } from "../types.js";

// Deno KV, described structurally: this package takes no dependency on Deno's types, and any
// object of this shape works (`Deno.Kv` from `Deno.openKv()`, locally or on Deno Deploy).

/** One part of a Deno KV key. */
export type DenoKvKeyPart = string | number | bigint | boolean | Uint8Array;
/** A Deno KV key: an array of parts. */
export type DenoKvKey = readonly DenoKvKeyPart[];

/** What `Deno.Kv#get` resolves to; `versionstamp` is `null` when the key is missing. */
export interface DenoKvEntryLike {
  readonly key: readonly unknown[];
  readonly value: unknown;
  readonly versionstamp: string | null;
}

/** The part of `Deno.AtomicOperation` this store uses. */
export interface DenoKvAtomicLike {
  check(...checks: { key: DenoKvKey; versionstamp: string | null }[]): DenoKvAtomicLike;
  set(key: DenoKvKey, value: unknown, options?: { expireIn?: number }): DenoKvAtomicLike;
  delete(key: DenoKvKey): DenoKvAtomicLike;
  commit(): Promise<{ readonly ok: boolean }>;
}

/** The part of `Deno.Kv` this store uses. */
export interface DenoKvLike {
  get(key: DenoKvKey): Promise<DenoKvEntryLike>;
  set(key: DenoKvKey, value: unknown, options?: { expireIn?: number }): Promise<unknown>;
  delete(key: DenoKvKey): Promise<unknown>;
  atomic(): DenoKvAtomicLike;
}

/** Options of {@link denoKvStore}. */
export interface DenoKvStoreOptions {
  /**
   * Key prefix: values live at `[...prefix, key]`, locks at `[...prefix, "lock", key]`.
   * Use your own to keep several apps (or environments) apart in one database.
   * @default ["mcp-client-credentials"]
   * @example
   * denoKvStore(kv, { prefix: ["my-app", "production", "mcp-tokens"] });
   */
  prefix?: DenoKvKey;
  /**
   * How many times a call that failed only because the database was busy ("database is
   * locked", which a local SQLite file shared by several processes throws under contention)
   * is retried, after a jittered backoff (a random 50–100 % of 10 ms, doubling up to 250 ms:
   * at most about 1.1 s in all at the default). Other errors are never retried. `0` turns
   * retries off.
   * @default 8
   * @example
   * denoKvStore(kv, { busyRetries: 12 }); // many processes on one local file
   */
  busyRetries?: number;
}

/** A {@link TokenStore} on Deno KV, with locks. */
export type DenoKvStore = LockingTokenStore<undefined>;

/** Deno KV's limit on one serialized value (a string costs 1 byte per character, 2 if any is above U+00FF). */
const MAX_VALUE_BYTES = 65_536;
const BUSY_BASE_MS = 10;
const BUSY_CAP_MS = 250;
/** Rounds of read-then-commit in `acquire` before giving up: each lost round means another owner moved first. */
const ACQUIRE_ROUNDS = 5;
/** SQLite's busy/locked errors, as the local backend words them. */
const BUSY = /database (?:table )?is (?:locked|busy)|SQLITE_(?:BUSY|LOCKED)/i;

/** What is stored for a value: Deno KV's `expireIn` only removes a key eventually, so `get` checks this. */
interface Envelope {
  value: string;
  expiresAt: number;
}

/** What is stored for a lock. `nonce` tells our own commit apart from the owner's other calls. */
interface Lock {
  owner: string;
  expiresAt: number;
  nonce: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;

function asEnvelope(value: unknown): Envelope | undefined {
  return isRecord(value) && typeof value.value === "string" && typeof value.expiresAt === "number" ? (value as unknown as Envelope) : undefined;
}

function asLock(value: unknown): Lock | undefined {
  return isRecord(value) && typeof value.owner === "string" && typeof value.expiresAt === "number" && typeof value.nonce === "string"
    ? (value as unknown as Lock)
    : undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function nonce(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function invalid(message: string): ClientCredentialsError {
  return configError(`denoKvStore: ${message}`);
}

/**
 * A store on Deno KV, shared by every isolate of a Deno Deploy app or by the Deno processes
 * that open the same local database file: tokens and discovery are fetched once, and `acquire` /
 * `release` give fleet-wide single-flight through atomic versionstamp checks.
 *
 * - Values are strings of at most 64 KiB as Deno KV serializes them (one byte per character,
 *   two when the string has any character above U+00FF), a little less for the expiry kept next
 *   to each value. The middleware's values are far smaller; a larger one rejects with a
 *   `ClientCredentialsError` (code `store_value_too_large`).
 * - Entries are written with `expireIn`, and also carry their own expiry, since Deno KV deletes
 *   expired keys only eventually: `get` never answers an expired value.
 * - Locally, open the file with `--unstable-kv`. Several processes on one SQLite file make it
 *   busy at times; such calls are retried (see `busyRetries`).
 *
 * @example
 * // Deno Deploy (or `deno run --unstable-kv` locally)
 * import { withClientCredentials } from "mcp-client-credentials";
 * import { denoKvStore } from "mcp-client-credentials/stores/deno";
 *
 * const kv = await Deno.openKv();
 * const authFetch = withClientCredentials({
 *   clientId: Deno.env.get("MCP_CLIENT_ID")!,
 *   clientSecret: Deno.env.get("MCP_CLIENT_SECRET")!,
 *   store: denoKvStore(kv),
 * })(fetch);
 */
export function denoKvStore(kv: DenoKvLike, options: DenoKvStoreOptions = {}): DenoKvStore {
  if (!isRecord(kv) || typeof kv.get !== "function" || typeof kv.set !== "function" || typeof kv.delete !== "function" || typeof kv.atomic !== "function") {
    throw invalid("kv must be a Deno.Kv (from `await Deno.openKv()`)");
  }
  const prefix = [...(options.prefix ?? ["mcp-client-credentials"])];
  const busyRetries = options.busyRetries ?? 8;
  if (!Number.isInteger(busyRetries) || busyRetries < 0) throw invalid("busyRetries must be a non-negative integer");

  const valueKey = (key: string): DenoKvKey => [...prefix, key];
  const lockKey = (key: string): DenoKvKey => [...prefix, "lock", key];

  /**
   * Runs `operation`, retrying it while SQLite reports itself busy. Retrying a commit is safe:
   * a busy commit wrote nothing, and should one have landed after all, the retry's versionstamp
   * check fails and `acquire` then recognises its own lock by nonce.
   */
  async function busy<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (attempt >= busyRetries || !BUSY.test(error instanceof Error ? error.message : String(error))) throw error;
        // Full jitter keeps processes that collided from colliding again in lockstep.
        const ceiling = Math.min(BUSY_CAP_MS, BUSY_BASE_MS * 2 ** attempt);
        await sleep(ceiling / 2 + (Math.random() * ceiling) / 2);
      }
    }
  }

  return {
    async get(key) {
      const entry = await busy(() => kv.get(valueKey(key)));
      const envelope = asEnvelope(entry.value);
      if (envelope) return envelope.expiresAt > Date.now() ? envelope.value : undefined;
      // A bare string (written by hand or another tool) still reads; anything else is no value.
      return typeof entry.value === "string" ? entry.value : undefined;
    },

    async set(key, value, ttlSeconds) {
      // Deno KV wants a whole number of milliseconds; the contract promises whole seconds >= 1.
      const ttlMs = Math.max(1, Math.ceil(ttlSeconds)) * 1000;
      const envelope: Envelope = { value, expiresAt: Date.now() + ttlMs };
      try {
        await busy(() => kv.set(valueKey(key), envelope, { expireIn: ttlMs }));
      } catch (error) {
        if (error instanceof Error && /too large/i.test(error.message)) {
          // The message says how big, never what: values can be tokens.
          throw new ClientCredentialsError(
            "token",
            `denoKvStore: a value of ${value.length} characters is over Deno KV's limit of ${MAX_VALUE_BYTES} bytes per value`,
            { code: "store_value_too_large", cause: error },
          );
        }
        throw error;
      }
    },

    async delete(key) {
      await busy(() => kv.delete(valueKey(key)));
    },

    async acquire(key, owner, ttlMs) {
      const at = lockKey(key);
      const span = Math.max(1, Math.ceil(ttlMs));
      const mine = nonce();
      for (let round = 0; round < ACQUIRE_ROUNDS; round++) {
        const entry = await busy(() => kv.get(at));
        const held = asLock(entry.value);
        if (held && held.expiresAt > Date.now()) {
          // Our own commit may have landed on a try that reported "busy": then the lock is ours.
          return held.nonce === mine;
        }
        // Free, expired (`expireIn` has not removed it yet) or not a lock of ours (corrupted):
        // take it only if it is still exactly what we read, so one contender wins.
        const lock: Lock = { owner, expiresAt: Date.now() + span, nonce: mine };
        const result = await busy(() => kv.atomic().check({ key: at, versionstamp: entry.versionstamp }).set(at, lock, { expireIn: span }).commit());
        if (result.ok) return true;
        // Someone changed it between our read and our commit: read again to see who holds it.
      }
      return false;
    },

    async release(key, owner) {
      const at = lockKey(key);
      const entry = await busy(() => kv.get(at));
      if (asLock(entry.value)?.owner !== owner) return;
      // The check makes sure we delete the lock we read, not one another owner took over since
      // ours expired. A failed check means exactly that, so there is nothing left to release.
      await busy(() => kv.atomic().check({ key: at, versionstamp: entry.versionstamp }).delete(at).commit());
    },
  };
}
