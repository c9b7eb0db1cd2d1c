import { type Binding, bind, hasStaticServer, staticBinding } from "./binding.js";
import type { BearerChallenge } from "./discovery/challenge.js";
import { isUnderResource, resourceOf } from "./discovery/resource-metadata.js";
import { ClientCredentialsError } from "./errors.js";
import { requestToken } from "./grant/client-credentials.js";
import { createHttp, type Http, parseJson } from "./http.js";
import { configuredBoundary } from "./options.js";
import { type Server, ServerDirectory } from "./server-directory.js";
import { memoryStore } from "./stores/memory.js";
import type { AccessToken, ClientCredentialsEvent, ClientCredentialsOptions, FetchLike, StoredToken, TokenStore } from "./types.js";
import { abortable, deadline, scopeList, sha256 } from "./util.js";

const DEFAULT_REFRESH_SKEW_SECONDS = 60;
const DEFAULT_DISCOVERY_TTL_SECONDS = 3600;
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_BINDINGS = 64;

/**
 * Owns tokens: which resource they belong to, where they come from, the cache (absolute
 * expiry, early refresh) and single-flight requests. Secrets live only in closures below it.
 */
export class TokenManager {
  readonly #options: ClientCredentialsOptions;
  readonly #http: Http;
  readonly #servers: ServerDirectory;
  readonly #store: TokenStore;
  readonly #boundary: URL | undefined;
  readonly #skewMs: number;
  readonly #discoveryTtlMs: number;
  readonly #storeTimeoutMs: number;
  #bindings: Binding[] = [];
  readonly #bindingFlights = new Map<string, Promise<Binding>>();
  readonly #tokenFlights = new Map<string, Promise<StoredToken>>();
  readonly #usedKeys = new Set<string>();
  readonly #cacheKeys = new Map<string, string>();
  /** Bumped by clear(): a token request that started before it must not write back. */
  #generation = 0;

  constructor(options: ClientCredentialsOptions, next: FetchLike) {
    this.#options = options;
    this.#store = options.store ?? memoryStore();
    this.#boundary = configuredBoundary(options);
    this.#skewMs = (options.refreshSkewSeconds ?? DEFAULT_REFRESH_SKEW_SECONDS) * 1000;
    this.#discoveryTtlMs = (options.discoveryTtlSeconds ?? DEFAULT_DISCOVERY_TTL_SECONDS) * 1000;
    this.#storeTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#http = createHttp({
      fetch: next,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retries: options.retries ?? 2,
      allowInsecureRequests: options.allowInsecureRequests ?? false,
      emit: this.emit,
    });
    this.#servers = new ServerDirectory(options, this.#http, this.#discoveryTtlMs, this.emit);
    this.#resetBindings();
  }

  readonly emit = (event: ClientCredentialsEvent): void => {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // An observer must not break authentication.
    }
  };

  /** May this URL ever carry a token? With a configured resource URL, only URLs under it. */
  mayAuthorize(url: URL): boolean {
    return !this.#boundary || isUnderResource(url, this.#boundary);
  }

  /** The binding covering `url` with the longest boundary. */
  bindingFor(url: URL): Binding | undefined {
    let best: Binding | undefined;
    for (const binding of this.#bindings) {
      if (!isUnderResource(url, binding.boundary)) continue;
      if (!best || binding.boundary.pathname.length >= best.boundary.pathname.length) best = binding;
    }
    return best;
  }

  /** Discovers (once per metadata location, however many callers) and remembers a binding. */
  async bind(url: URL, challenge: BearerChallenge | undefined, signal?: AbortSignal | null): Promise<Binding> {
    const known = this.bindingFor(url);
    // A fully static binding never needs discovery; a discovered one is trusted for the TTL.
    if (known && (known.static || Date.now() - known.boundAt < this.#discoveryTtlMs)) return known;
    const named = challenge?.resourceMetadata.length ? challenge.resourceMetadata.join(" ") : undefined;
    const binding = await this.#discover(named ?? resourceOf(url).href, url, challenge, signal);
    // Callers sharing a metadata document may still ask for URLs it does not cover.
    return isUnderResource(url, binding.boundary) || !named ? binding : this.#discover(resourceOf(url).href, url, challenge, signal);
  }

  #discover(flightKey: string, url: URL, challenge: BearerChallenge | undefined, signal?: AbortSignal | null): Promise<Binding> {
    let flight = this.#bindingFlights.get(flightKey);
    if (!flight) {
      flight = bind({ options: this.#options, http: this.#http, emit: this.emit }, url, challenge)
        .then((binding) => this.#remember(binding))
        .finally(() => this.#bindingFlights.delete(flightKey));
      flight.catch(() => {}); // every caller gets the error through its own await
      this.#bindingFlights.set(flightKey, flight);
    }
    return abortable(flight, signal);
  }

  /** Binding for getToken(): from a URL, or from static options alone. */
  async bindingForGetToken(resourceUrl: string | URL | undefined): Promise<Binding> {
    const url = resourceUrl ?? this.#boundary;
    if (url !== undefined) {
      const parsed = this.#http.secureUrl(String(url), "config", "resourceUrl");
      return this.bindingFor(parsed) ?? this.bind(parsed, undefined);
    }
    if (!hasStaticServer(this.#options)) {
      throw new ClientCredentialsError("config", "getToken() needs a resourceUrl, or resource/issuer/tokenEndpoint options", { code: "invalid_config" });
    }
    const issuer = this.#options.issuer;
    return { boundary: new URL("about:blank"), scopes: scopeList(this.#options.scope), boundAt: Date.now(), ...(issuer ? { issuer } : {}) };
  }

  /** A binding like `binding` whose scopes also include `extra` (challenge scope, 403 step-up). */
  widen(binding: Binding, extra: string): Binding {
    const scopes = scopeList([...binding.scopes, ...scopeList(extra)]);
    return scopes.length === binding.scopes.length ? binding : this.#remember({ ...binding, scopes });
  }

  /** A valid token for the binding: cached, or requested once for every concurrent caller. */
  async token(binding: Binding, signal?: AbortSignal | null): Promise<StoredToken> {
    const server = await abortable(this.#servers.get(binding), signal);
    const key = await this.#cacheKey(binding, server);
    const cached = await abortable(this.#read(key), signal);
    const label = {
      issuer: server.issuer ?? server.tokenEndpoint.href,
      ...(binding.resource ? { resource: binding.resource } : {}),
      ...(binding.scopes.length ? { scope: binding.scopes.join(" ") } : {}),
    };
    if (cached && this.#fresh(cached)) {
      this.emit({ type: "cache-hit", ...label, expiresAt: cached.expiresAt });
      return cached;
    }
    let flight = this.#tokenFlights.get(key);
    if (!flight) {
      this.emit({ type: "cache-miss", ...label, reason: cached ? "expiring" : "empty" });
      flight = this.#fetchToken(binding, server, key).finally(() => this.#tokenFlights.delete(key));
      flight.catch(() => {}); // every caller gets the error through its own await
      this.#tokenFlights.set(key, flight);
    }
    try {
      return await abortable(flight, signal);
    } catch (error) {
      // A failed early refresh is no reason to drop a token that is still valid.
      if (cached && cached.expiresAt > Date.now() && error instanceof ClientCredentialsError) return cached;
      throw error;
    }
  }

  /** Forgets the token the resource rejected, and only that one (another caller may have replaced it). */
  async evict(binding: Binding, rejected: string, signal?: AbortSignal | null): Promise<void> {
    const key = await this.#cacheKey(binding, await abortable(this.#servers.get(binding), signal));
    const current = await abortable(this.#read(key), signal);
    if (current?.accessToken === rejected) await this.#attempt(() => this.#store.delete(key));
  }

  /** Forgets every token this instance used or stored, in-flight requests and all discovery. */
  async clear(): Promise<void> {
    this.#generation++;
    const keys = [...this.#usedKeys];
    this.#usedKeys.clear();
    this.#tokenFlights.clear();
    this.#bindingFlights.clear();
    this.#servers.clear();
    this.#resetBindings();
    await Promise.all(keys.map((key) => this.#attempt(() => this.#store.delete(key))));
  }

  #resetBindings(): void {
    const fixed = staticBinding(this.#options);
    this.#bindings = fixed ? [fixed] : [];
  }

  #remember(binding: Binding): Binding {
    const others = this.#bindings.filter((b) => b.boundary.href !== binding.boundary.href);
    this.#bindings = [...others.slice(-(MAX_BINDINGS - 1)), binding];
    return binding;
  }

  #fresh(token: StoredToken): boolean {
    const lifetime = token.expiresAt - token.obtainedAt;
    const skew = Math.min(this.#skewMs, Math.max(lifetime, 0) / 2);
    return Date.now() < token.expiresAt - skew;
  }

  async #fetchToken(binding: Binding, server: Server, key: string): Promise<StoredToken> {
    const generation = this.#generation;
    const token = await requestToken(
      this.#http,
      server.auth,
      {
        tokenEndpoint: server.tokenEndpoint,
        ...(server.issuer ? { issuer: server.issuer } : {}),
        ...(binding.resource !== undefined ? { resource: binding.resource } : {}),
        scopes: binding.scopes,
      },
      this.emit,
    );
    if (generation === this.#generation) {
      const ttlSeconds = Math.max(1, Math.ceil((token.expiresAt - Date.now()) / 1000));
      this.#usedKeys.add(key);
      // Not awaited: callers get their token now, whatever the store is doing.
      void this.#attempt(() => this.#store.set(key, JSON.stringify(token), ttlSeconds));
    }
    return token;
  }

  /** Cache key: issuer, client, resource, where tokens may go, sorted scopes, method + key thumbprint. Hashed; never a secret. */
  async #cacheKey(binding: Binding, server: Server): Promise<string> {
    const parts = JSON.stringify([
      server.issuer ?? server.tokenEndpoint.href,
      this.#options.clientId,
      binding.resource ?? null,
      binding.boundary.href,
      [...binding.scopes].sort(),
      await server.auth.identity(),
    ]);
    let key = this.#cacheKeys.get(parts);
    if (!key) {
      key = `mcc1:${await sha256(parts)}`;
      if (this.#cacheKeys.size >= 1024) this.#cacheKeys.clear();
      this.#cacheKeys.set(parts, key);
    }
    return key;
  }

  async #read(key: string): Promise<StoredToken | undefined> {
    const raw = await this.#attempt(() => this.#store.get(key));
    const value = typeof raw === "string" ? parseJson(raw) : undefined;
    if (!isStoredToken(value)) return undefined;
    this.#usedKeys.add(key);
    return value;
  }

  /** Store failures and hangs (a Redis blip) cost a cache miss, never an outage. */
  async #attempt<T>(operation: () => PromiseLike<T> | T): Promise<T | undefined> {
    try {
      return await deadline(Promise.resolve().then(operation), this.#storeTimeoutMs);
    } catch (error) {
      this.emit({ type: "error", phase: "token", message: `token store failed: ${error instanceof Error ? error.name : "error"}` });
      return undefined;
    }
  }
}

function isStoredToken(value: unknown): value is StoredToken {
  if (typeof value !== "object" || value === null) return false;
  const token = value as Partial<StoredToken>;
  return typeof token.accessToken === "string" && typeof token.tokenType === "string" && Number.isFinite(token.expiresAt) && Number.isFinite(token.obtainedAt);
}

/** The public view of a stored token. */
export function publicToken({ obtainedAt: _obtainedAt, ...token }: StoredToken): AccessToken {
  return token;
}
