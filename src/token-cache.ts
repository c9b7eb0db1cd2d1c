import type { Binding } from "./binding.js";
import type { Dpop } from "./dpop/index.js";
import { ClientCredentialsError, withoutQuery } from "./errors.js";
import { abandoned, type Flight, Flights } from "./flights.js";
import { requestToken } from "./grant/token-request.js";
import type { Http } from "./http.js";
import type { ResolvedOptions } from "./options.js";
import { Postponed } from "./postponed.js";
import type { Server, ServerDirectory } from "./server-directory.js";
import { restoreToken } from "./stored-token.js";
import type { StoreGuard } from "./stores/guard.js";
import type { StoredToken } from "./types.js";
import { abortable, defined } from "./util.js";

const MAX_MEMORY_ENTRIES = 10_000;
/** After a failed background refresh, the token still serving is not refreshed again for this long. */
const BACKGROUND_RETRY_MS = 5000;

interface KeyMemo {
  server: Server;
  key: Promise<string>;
  /** The key once known, so a call holding a fresh token finds it without waiting. */
  resolved?: string;
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
  readonly #flights: Flights;
  readonly #keys = new WeakMap<Binding, KeyMemo>();
  /** Keys whose background refresh failed: not retried before this time. */
  readonly #backoff = new Map<string, number>();
  readonly #postponed = new Postponed();
  /** Bumped by clear(): a token request that started before it must not write back. */
  #generation = 0;

  /** DPoP, loaded on first use when configured. */
  readonly #dpop: Promise<Dpop> | undefined;

  constructor(options: ResolvedOptions, http: Http, servers: ServerDirectory, guard: StoreGuard, dpop?: Promise<Dpop>) {
    this.#dpop = dpop;
    this.#options = options;
    this.#http = http;
    this.#servers = servers;
    this.#guard = guard;
    // A flight's worst case: store calls and every attempt; with the waits, also the fleet lock and the retry budget.
    const { storeTimeoutMs, timeoutMs, retries, lockTtlMs, retryBudgetMs } = options;
    this.#flights = new Flights({ attemptsMs: 3 * storeTimeoutMs + (retries + 1) * timeoutMs, waitsMs: 2 * lockTtlMs + retryBudgetMs });
  }

  /**
   * The in-process token for the binding when it may be used right now, without waiting: the
   * hot path. Inside the refresh window it is still served while one refresh runs in the background.
   */
  peek(binding: Binding): StoredToken | undefined {
    const memo = this.#keys.get(binding);
    return memo?.resolved === undefined ? undefined : this.#serve(binding, memo.server, memo.resolved);
  }

  /** A valid token for the binding: from memory, from the store, or requested once for every concurrent caller. */
  async token(binding: Binding, signal?: AbortSignal | null): Promise<StoredToken> {
    const server = await abortable(this.#servers.get(binding), signal);
    // The key may wait on an assertion source (workload identity): a caller's signal ends its wait.
    const key = await abortable(this.#key(binding, server), signal);
    const served = this.#serve(binding, server, key);
    if (served) return served;
    const held = this.#memory.get(key);
    const valid = held && held.expiresAt > Date.now() ? held : undefined;
    const later = this.#postponed.check(key);
    if (later) {
      if (valid) return valid;
      // Another instance may have got one since: the store is no request to the rate-limited server.
      const shared = await this.#fromStore(key);
      if (shared) return shared;
      throw later;
    }
    const flight = this.#flight(binding, server, key, held);
    flight.waiters++;
    try {
      return await abortable(flight.promise, signal);
    } catch (error) {
      // A failed refresh is no reason to drop a token that is still valid.
      if (valid && error instanceof ClientCredentialsError) return valid;
      throw error;
    } finally {
      this.#flights.leave(key, flight, Boolean(signal?.aborted));
    }
  }

  /** Forgets the `rejected` token and only that one (another caller may have replaced it); without one, any. */
  async evict(binding: Binding, rejected?: string, signal?: AbortSignal | null): Promise<void> {
    const key = await abortable(this.#key(binding, await abortable(this.#servers.get(binding), signal)), signal);
    const held = this.#memory.get(key);
    if (held && (rejected === undefined || held.accessToken === rejected)) this.#memory.delete(key);
    this.#backoff.delete(key);
    // Kept in the store only when it holds another token: a failed read must not keep a refused one.
    const shared = rejected === undefined ? undefined : await this.#fromStore(key, true);
    if (!shared || shared.accessToken === rejected) await this.#guard.delete(key);
  }

  /** Forgets every token and drops in-flight requests' results (the store's copies go with StoreGuard.forget()). */
  clear(): void {
    this.#generation++;
    this.#memory.clear();
    this.#flights.clear();
    this.#backoff.clear();
    this.#postponed.clear();
  }

  /**
   * A fresh token, or one inside its refresh window with a refresh started in the background.
   * Past three quarters of the window callers wait, so a refresh that keeps failing surfaces.
   */
  #serve(binding: Binding, server: Server, key: string): StoredToken | undefined {
    const held = this.#memory.get(key);
    if (!held) return undefined;
    const now = Date.now();
    const skew = this.#skew(held);
    if (now >= held.expiresAt - skew / 4) return undefined;
    if (now >= held.expiresAt - skew && !this.#flights.live(key) && !((this.#backoff.get(key) ?? 0) > now)) this.#refresh(binding, key, held);
    if (this.#options.observed) this.#options.emit({ type: "cache-hit", ...label(binding, server), expiresAt: held.expiresAt, tier: "memory" });
    return held;
  }

  /**
   * One request in the background for a token still serving. Through the server directory, so
   * authorization server metadata past its TTL is refreshed too (the hot path never asks for it).
   */
  #refresh(binding: Binding, key: string, held: StoredToken): void {
    const flight = this.#flight(binding, this.#servers.get(binding), key, held, true);
    flight.promise.catch((error: unknown) => {
      // The server's Retry-After, when it gave one, holds background refreshes back too.
      this.#backoff.set(key, Math.max(Date.now() + BACKGROUND_RETRY_MS, this.#postponed.until(key)));
      // Only our own messages: another error's may quote the request it came from.
      const why = error instanceof ClientCredentialsError ? error.message : error instanceof Error ? error.name : typeof error;
      this.#options.emit({ type: "error", phase: "token", message: `background refresh failed: ${why}` });
    });
    const { waitUntil } = this.#options; // called bare, as platform functions expect
    try {
      waitUntil?.(flight.promise.catch(() => {}));
    } catch (error) {
      this.#options.emit({ type: "error", phase: "token", message: `waitUntil failed: ${error instanceof Error ? error.name : typeof error}` });
    }
  }

  /** The flight for `key`: the live one, else a new one obtaining the token. */
  #flight(binding: Binding, server: Server | Promise<Server>, key: string, held: StoredToken | undefined, background = false): Flight {
    if (!background && !this.#flights.live(key)) this.#backoff.delete(key);
    return this.#flights.join(key, async (flight) => this.#obtain(binding, await server, key, held, flight), background);
  }

  async #obtain(binding: Binding, server: Server, key: string, held: StoredToken | undefined, flight: Flight): Promise<StoredToken> {
    const shared = await this.#fromStore(key);
    if (shared) {
      this.#options.emit({ type: "cache-hit", ...label(binding, server), expiresAt: shared.expiresAt, tier: "store" });
      return shared;
    }
    abandoned(flight);
    this.#options.emit({ type: "cache-miss", ...label(binding, server), reason: held ? "expiring" : "empty" });
    return this.#guard.locks ? this.#singleFlight(binding, server, key, flight) : this.#request(binding, server, key, flight);
  }

  /**
   * One token request per fleet: the lock holder requests and publishes; the others wait for the
   * token to appear in the store, taking over when the holder releases without one (it failed)
   * or its lock expires (it died). Bounded: past twice the lock's lifetime a waiter goes alone.
   */
  async #singleFlight(binding: Binding, server: Server, key: string, flight: Flight): Promise<StoredToken> {
    const lock = await this.#guard.key("lock", [key]);
    const turn = await this.#guard.turn(
      lock,
      this.#options.lockTtlMs,
      () => this.#fromStore(key),
      () => abandoned(flight),
    );
    if ("release" in turn) return this.#request(binding, server, key, flight, turn.release);
    this.#options.emit({ type: "cache-hit", ...label(binding, server), expiresAt: turn.found.expiresAt, tier: "store" });
    return turn.found;
  }

  async #request(binding: Binding, server: Server, key: string, flight: Flight, release?: () => Promise<void>): Promise<StoredToken> {
    const generation = this.#generation;
    let token: StoredToken;
    let dpop: Dpop | undefined;
    try {
      dpop = this.#dpop && (await this.#dpop);
      if (dpop && !(await dpop.accepts(server.dpopAlgs))) dpop = undefined;
      token = await requestToken(
        this.#http,
        server.auth,
        {
          tokenEndpoint: server.tokenEndpoint,
          issuer: server.issuer || undefined,
          resource: binding.resource,
          scopes: binding.scopes,
          grantTypes: server.grantTypes,
          signal: flight.controller.signal,
          dpop,
        },
        this.#options.emit,
      );
    } catch (error) {
      void release?.(); // let a waiter try at once
      if (generation === this.#generation) this.#postponed.remember(key, error);
      throw error;
    }
    if (generation === this.#generation) {
      this.#remember(key, token);
      // Awaited: serverless runtimes may cancel or freeze work left running after the response,
      // and the fleet must find the token in the store by the time the lock goes.
      // A token bound to this instance's own key is useless to the rest of the fleet.
      if (!dpop || dpop.shared) await this.#guard.write(key, "token", token, token.expiresAt);
    }
    await release?.();
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

  /** The key thumbprint tokens from this server are bound to, as a cache-key part; none for Bearer. */
  async #bindsTo(server: Server): Promise<string[]> {
    const dpop = this.#dpop && (await this.#dpop);
    return dpop && (await dpop.accepts(server.dpopAlgs)) ? [`dpop:${(await dpop.key()).thumbprint}`] : [];
  }

  #remember(key: string, token: StoredToken): void {
    this.#memory.delete(key);
    this.#memory.set(key, token);
    for (const oldest of this.#memory.keys()) {
      if (this.#memory.size <= MAX_MEMORY_ENTRIES) break;
      this.#memory.delete(oldest);
    }
  }

  /** The refresh window: `refreshSkewSeconds` before expiry, at most half the token's lifetime. */
  #skew(token: StoredToken): number {
    return Math.min(this.#options.refreshSkewMs, Math.max(token.expiresAt - token.obtainedAt, 0) / 2);
  }

  #fresh(token: StoredToken): boolean {
    return Date.now() < token.expiresAt - this.#skew(token);
  }

  /** Cache key: issuer, client, resource, where tokens may go, sorted scopes, method + key thumbprint. Never a secret. */
  #key(binding: Binding, server: Server): Promise<string> {
    const memo = this.#keys.get(binding);
    if (memo?.server === server) return memo.key;
    const key = server.auth
      .identity(defined({ issuer: server.issuer || undefined, tokenEndpoint: server.tokenEndpoint.href, resource: binding.resource }))
      .then(async (identity) =>
        this.#guard.key("token", [
          server.issuer ?? server.tokenEndpoint.href,
          this.#options.clientId ?? null,
          binding.resource ?? null,
          binding.boundary.href,
          [...binding.scopes].sort(),
          identity,
          // A DPoP-bound token works only with its key: the key's thumbprint is part of what it is.
          // ("auto" against a server without DPoP gets Bearer tokens, which the fleet may share.)
          ...(await this.#bindsTo(server)),
        ]),
      );
    const fresh: KeyMemo = { server, key };
    this.#keys.set(binding, fresh);
    key.then(
      (resolved) => {
        fresh.resolved = resolved;
      },
      () => this.#keys.delete(binding),
    );
    return key;
  }
}

function label(binding: Binding, server: Server): { issuer: string; resource?: string; scope?: string } {
  return defined({
    issuer: server.issuer ?? withoutQuery(server.tokenEndpoint.href),
    resource: binding.resource || undefined,
    scope: binding.scopes.join(" ") || undefined,
  });
}
