import type { Binding } from "./binding.js";
import { ClientCredentialsError } from "./errors.js";
import { requestToken } from "./grant/client-credentials.js";
import type { Http } from "./http.js";
import type { ResolvedOptions } from "./options.js";
import type { Server, ServerDirectory } from "./server-directory.js";
import type { StoreGuard } from "./stores/guard.js";
import type { AccessToken, StoredToken } from "./types.js";
import { abortable } from "./util.js";

const MAX_MEMORY_ENTRIES = 256;
/** How long a lock holder may take before a waiter takes over; never less than this. */
const MIN_LOCK_TTL_MS = 1000;
const MAX_POLL_MS = 250;

interface Lock {
  key: string;
  owner: string;
}

/** A token being obtained for every caller of one key; it stops early once all of them left. */
interface Flight {
  promise: Promise<StoredToken>;
  waiters: number;
}

/**
 * Is there a fresh token, and who fetches the next one? Two tiers: this instance's memory first
 * (a call holding a fresh token never waits on the store), then the shared store. One token
 * request per cache key at a time in this instance; with a store that has locks, one per fleet.
 */
export class TokenCache {
  readonly #options: ResolvedOptions;
  readonly #http: Http;
  readonly #servers: ServerDirectory;
  readonly #guard: StoreGuard;
  readonly #memory = new Map<string, StoredToken>();
  readonly #flights = new Map<string, Flight>();
  readonly #keys = new WeakMap<Binding, { server: Server; key: Promise<string> }>();
  /** Bumped by clear(): a token request that started before it must not write back. */
  #generation = 0;

  constructor(options: ResolvedOptions, http: Http, servers: ServerDirectory, guard: StoreGuard) {
    this.#options = options;
    this.#http = http;
    this.#servers = servers;
    this.#guard = guard;
  }

  /** A valid token for the binding: from memory, from the store, or requested once for every concurrent caller. */
  async token(binding: Binding, signal?: AbortSignal | null): Promise<StoredToken> {
    const server = await abortable(this.#servers.get(binding), signal);
    const key = await this.#key(binding, server);
    const held = this.#memory.get(key);
    if (held && this.#fresh(held)) {
      this.#options.emit({ type: "cache-hit", ...label(binding, server), expiresAt: held.expiresAt, tier: "memory" });
      return held;
    }
    let flight = this.#flights.get(key);
    if (!flight) {
      const started: Flight = { promise: Promise.resolve() as unknown as Promise<StoredToken>, waiters: 0 };
      started.promise = this.#obtain(binding, server, key, held, started).finally(() => this.#flights.delete(key));
      started.promise.catch(() => {}); // every caller gets the error through its own await
      this.#flights.set(key, started);
      flight = started;
    }
    flight.waiters++;
    try {
      return await abortable(flight.promise, signal);
    } catch (error) {
      // A failed early refresh is no reason to drop a token that is still valid.
      if (held && held.expiresAt > Date.now() && error instanceof ClientCredentialsError) return held;
      throw error;
    } finally {
      flight.waiters--;
    }
  }

  /** Forgets the token the resource rejected, and only that one (another caller may have replaced it). */
  async evict(binding: Binding, rejected: string, signal?: AbortSignal | null): Promise<void> {
    const key = await this.#key(binding, await abortable(this.#servers.get(binding), signal));
    if (this.#memory.get(key)?.accessToken === rejected) this.#memory.delete(key);
    if ((await this.#fromStore(key, true))?.accessToken === rejected) await this.#guard.delete(key);
  }

  /** Forgets every token and drops in-flight requests' results (the store's copies go with StoreGuard.forget()). */
  clear(): void {
    this.#generation++;
    this.#memory.clear();
    this.#flights.clear();
  }

  async #obtain(binding: Binding, server: Server, key: string, held: StoredToken | undefined, flight: Flight): Promise<StoredToken> {
    const shared = await this.#fromStore(key);
    if (shared) {
      this.#options.emit({ type: "cache-hit", ...label(binding, server), expiresAt: shared.expiresAt, tier: "store" });
      return shared;
    }
    abandoned(flight);
    this.#options.emit({ type: "cache-miss", ...label(binding, server), reason: held ? "expiring" : "empty" });
    return this.#guard.locks ? this.#singleFlight(binding, server, key, flight) : this.#request(binding, server, key);
  }

  /**
   * One token request per fleet: the lock holder requests and publishes; the others wait for the
   * token to appear in the store, taking over when the holder releases without one (it failed)
   * or its lock expires (it died). Bounded: past twice the lock's lifetime a waiter goes alone.
   */
  async #singleFlight(binding: Binding, server: Server, key: string, flight: Flight): Promise<StoredToken> {
    const lock = { key: await this.#guard.key("lock", [key]), owner: crypto.randomUUID() };
    const ttlMs = Math.max(this.#options.timeoutMs, MIN_LOCK_TTL_MS);
    const giveUpAt = Date.now() + 2 * ttlMs;
    for (let pause = 10; ; pause = Math.min(pause * 2, MAX_POLL_MS)) {
      const asked = Date.now();
      const acquired = await this.#guard.acquire(lock.key, lock.owner, ttlMs);
      if (acquired === undefined) return this.#request(binding, server, key);
      // Someone may have published between our read and our lock.
      const shared = await this.#fromStore(key);
      if (shared) {
        if (acquired) void this.#guard.release(lock.key, lock.owner);
        this.#options.emit({ type: "cache-hit", ...label(binding, server), expiresAt: shared.expiresAt, tier: "store" });
        return shared;
      }
      if (acquired) return this.#request(binding, server, key, lock);
      abandoned(flight);
      if (Date.now() >= giveUpAt) return this.#request(binding, server, key);
      // A store that waited for the holder already paused; one that answered at once gets a pause.
      if (Date.now() - asked < pause) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  async #request(binding: Binding, server: Server, key: string, lock?: Lock): Promise<StoredToken> {
    const generation = this.#generation;
    let token: StoredToken;
    try {
      token = await requestToken(
        this.#http,
        server.auth,
        {
          tokenEndpoint: server.tokenEndpoint,
          ...(server.issuer ? { issuer: server.issuer } : {}),
          ...(binding.resource !== undefined ? { resource: binding.resource } : {}),
          scopes: binding.scopes,
        },
        this.#options.emit,
      );
    } catch (error) {
      if (lock) void this.#guard.release(lock.key, lock.owner); // let a waiter try at once
      throw error;
    }
    if (generation === this.#generation) {
      this.#remember(key, token);
      // Awaited: serverless runtimes may cancel or freeze work left running after the response,
      // and the fleet must find the token in the store by the time the lock goes.
      await this.#guard.write(key, "token", token, token.expiresAt);
    }
    if (lock) await this.#guard.release(lock.key, lock.owner);
    return token;
  }

  /** A fresh token from the shared store (`any`: also one inside the refresh window), kept in memory too. */
  async #fromStore(key: string, any = false): Promise<StoredToken | undefined> {
    if (!this.#guard.enabled) return undefined;
    const entry = await this.#guard.read(key, "token");
    const token = entry && restoreToken(entry.data);
    if (!token || !(any || this.#fresh(token))) return undefined;
    if (!any) this.#remember(key, token);
    return token;
  }

  #remember(key: string, token: StoredToken): void {
    this.#memory.delete(key);
    this.#memory.set(key, token);
    for (const oldest of this.#memory.keys()) {
      if (this.#memory.size <= MAX_MEMORY_ENTRIES) break;
      this.#memory.delete(oldest);
    }
  }

  #fresh(token: StoredToken): boolean {
    const lifetime = token.expiresAt - token.obtainedAt;
    const skew = Math.min(this.#options.refreshSkewMs, Math.max(lifetime, 0) / 2);
    return Date.now() < token.expiresAt - skew;
  }

  /** Cache key: issuer, client, resource, where tokens may go, sorted scopes, method + key thumbprint. Never a secret. */
  #key(binding: Binding, server: Server): Promise<string> {
    const memo = this.#keys.get(binding);
    if (memo?.server === server) return memo.key;
    const key = server.auth
      .identity()
      .then((identity) =>
        this.#guard.key("token", [
          server.issuer ?? server.tokenEndpoint.href,
          this.#options.clientId,
          binding.resource ?? null,
          binding.boundary.href,
          [...binding.scopes].sort(),
          identity,
        ]),
      );
    this.#keys.set(binding, { server, key });
    key.catch(() => this.#keys.delete(binding));
    return key;
  }
}

/** Every caller aborted: nobody wants the token, so no request is made for it. */
function abandoned(flight: Flight): void {
  if (flight.waiters === 0) throw new DOMException("every caller waiting for this token aborted", "AbortError");
}

function label(binding: Binding, server: Server): { issuer: string; resource?: string; scope?: string } {
  return {
    issuer: server.issuer ?? server.tokenEndpoint.href,
    ...(binding.resource ? { resource: binding.resource } : {}),
    ...(binding.scopes.length ? { scope: binding.scopes.join(" ") } : {}),
  };
}

/** A token read back from a shared store, checked as strictly as a token response. */
function restoreToken(data: unknown): StoredToken | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const { accessToken, tokenType, expiresAt, obtainedAt, scope, resource, issuer } = data as Partial<StoredToken>;
  if (typeof accessToken !== "string" || accessToken.length > 65536 || !/^[\x21-\x7e]+$/.test(accessToken)) return undefined;
  if (typeof tokenType !== "string" || tokenType.toLowerCase() !== "bearer") return undefined;
  if (!Number.isFinite(expiresAt) || !Number.isFinite(obtainedAt) || (obtainedAt as number) > (expiresAt as number)) return undefined;
  for (const value of [scope, resource, issuer]) if (value !== undefined && typeof value !== "string") return undefined;
  return {
    accessToken,
    tokenType,
    expiresAt: expiresAt as number,
    obtainedAt: obtainedAt as number,
    ...(scope !== undefined ? { scope } : {}),
    ...(resource !== undefined ? { resource } : {}),
    ...(issuer !== undefined ? { issuer } : {}),
  };
}

/** The public view of a stored token. */
export function publicToken({ obtainedAt: _obtainedAt, ...token }: StoredToken): AccessToken {
  return token;
}
