import { bind, hasStaticServer, staticBinding, type Binding } from "./binding.js";
import { discoverAuthorizationServer } from "./discovery/authorization-server.js";
import type { BearerChallenge } from "./discovery/challenge.js";
import { isUnderResource, resourceOf } from "./discovery/resource-metadata.js";
import { ClientCredentialsError } from "./errors.js";
import { assertCredentials, chooseAuthMethod, createClientAuth, type ClientAuthenticator, type KeyCache } from "./grant/client-auth.js";
import { requestToken } from "./grant/client-credentials.js";
import { createHttp, type Http } from "./http.js";
import { memoryStore } from "./stores/memory.js";
import type { AccessToken, ClientCredentialsEvent, ClientCredentialsOptions, FetchLike, StoredToken, TokenStore } from "./types.js";
import { abortable, scopeList, sha256 } from "./util.js";

const DEFAULT_REFRESH_SKEW_SECONDS = 60;
const DEFAULT_DISCOVERY_TTL_SECONDS = 3600;

interface Server {
  tokenEndpoint: URL;
  issuer?: string;
  auth: ClientAuthenticator;
}

/**
 * Owns tokens: which resource they belong to, where they come from, the cache (absolute
 * expiry, early refresh) and single-flight requests. Secrets live only in closures below it.
 */
export class TokenManager {
  readonly #options: ClientCredentialsOptions;
  readonly #http: Http;
  readonly #store: TokenStore;
  readonly #skewMs: number;
  readonly #discoveryTtlMs: number;
  #bindings: Binding[] = [];
  readonly #bindingFlights = new Map<string, Promise<Binding>>();
  readonly #servers = new Map<string, { promise: Promise<Server>; until: number }>();
  readonly #tokenFlights = new Map<string, Promise<StoredToken>>();
  readonly #keys: KeyCache = new Map();
  readonly #usedKeys = new Set<string>();
  readonly #cacheKeys = new Map<string, string>();

  constructor(options: ClientCredentialsOptions, next: FetchLike) {
    assertCredentials(options);
    this.#options = options;
    this.#store = options.store ?? memoryStore();
    this.#skewMs = (options.refreshSkewSeconds ?? DEFAULT_REFRESH_SKEW_SECONDS) * 1000;
    this.#discoveryTtlMs = (options.discoveryTtlSeconds ?? DEFAULT_DISCOVERY_TTL_SECONDS) * 1000;
    this.#http = createHttp({
      fetch: next,
      timeoutMs: options.timeoutMs ?? 10_000,
      retries: options.retries ?? 2,
      allowInsecureRequests: options.allowInsecureRequests ?? false,
      emit: this.emit,
    });
    const fixed = staticBinding(options, this.#http);
    if (fixed) this.#bindings.push(fixed);
  }

  readonly emit = (event: ClientCredentialsEvent): void => {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // An observer must not break authentication.
    }
  };

  /** May this URL ever carry a token? With a configured resource, only URLs under it. */
  mayAuthorize(url: URL): boolean {
    const { resource } = this.#options;
    return typeof resource !== "string" || isUnderResource(url, resourceOf(new URL(resource)));
  }

  /** The freshest binding covering `url` (longest boundary wins). */
  bindingFor(url: URL): Binding | undefined {
    let best: Binding | undefined;
    for (const binding of this.#bindings) {
      if (!isUnderResource(url, binding.boundary)) continue;
      if (!best || binding.boundary.pathname.length >= best.boundary.pathname.length) best = binding;
    }
    return best;
  }

  /** Discovers (once per challenge target, however many callers) and remembers a binding. */
  bind(url: URL, challenge: BearerChallenge | undefined, signal?: AbortSignal | null): Promise<Binding> {
    const known = this.bindingFor(url);
    // A fully static binding never needs discovery; a discovered one is trusted for the TTL.
    if (known && (known.static || Date.now() - known.boundAt < this.#discoveryTtlMs)) return Promise.resolve(known);
    const flightKey = challenge?.resourceMetadata[0] ?? resourceOf(url).href;
    let flight = this.#bindingFlights.get(flightKey);
    if (!flight) {
      flight = bind({ options: this.#options, http: this.#http, emit: this.emit }, url, challenge)
        .then((binding) => {
          this.#remember(binding);
          return binding;
        })
        .finally(() => this.#bindingFlights.delete(flightKey));
      this.#bindingFlights.set(flightKey, flight);
    }
    return abortable(flight, signal);
  }

  /** Binding for getToken(): from a URL, or from static options alone. */
  async bindingForGetToken(resourceUrl: string | URL | undefined): Promise<Binding> {
    const url = resourceUrl ?? (typeof this.#options.resource === "string" ? this.#options.resource : undefined);
    if (url !== undefined) {
      const parsed = this.#http.secureUrl(String(url), "config", "resourceUrl");
      return this.bindingFor(parsed) ?? this.bind(parsed, undefined);
    }
    if (!hasStaticServer(this.#options)) {
      throw new ClientCredentialsError("config", "getToken() needs a resourceUrl, or resource/issuer/tokenEndpoint options", { code: "invalid_config" });
    }
    return { boundary: new URL("about:blank"), scopes: scopeList(this.#options.scope), boundAt: Date.now(), ...(this.#options.issuer ? { issuer: this.#options.issuer } : {}) };
  }

  /** A binding like `binding` whose scopes include `extra` (403 insufficient_scope step-up). */
  widen(binding: Binding, extra: string): Binding {
    const widened = { ...binding, scopes: scopeList([...binding.scopes, ...scopeList(extra)]) };
    this.#remember(widened);
    return widened;
  }

  /** A valid token for the binding: cached, or requested once for every concurrent caller. */
  async token(binding: Binding, signal?: AbortSignal | null): Promise<StoredToken> {
    const server = await abortable(this.#server(binding), signal);
    const key = await this.#cacheKey(binding, server);
    const cached = await this.#read(key);
    const label = { issuer: server.issuer ?? server.tokenEndpoint.href, ...(binding.resource ? { resource: binding.resource } : {}), ...(binding.scopes.length ? { scope: binding.scopes.join(" ") } : {}) };
    if (cached && this.#fresh(cached)) {
      this.emit({ type: "cache-hit", ...label, expiresAt: cached.expiresAt });
      return cached;
    }
    let flight = this.#tokenFlights.get(key);
    if (!flight) {
      this.emit({ type: "cache-miss", ...label, reason: cached ? "expiring" : "empty" });
      flight = this.#fetchToken(binding, server, key).finally(() => this.#tokenFlights.delete(key));
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
  async evict(binding: Binding, rejected: string): Promise<void> {
    const server = await this.#server(binding);
    const key = await this.#cacheKey(binding, server);
    const current = await this.#read(key);
    if (current?.accessToken === rejected) await this.#attempt(() => this.#store.delete(key));
  }

  async clear(): Promise<void> {
    const keys = [...this.#usedKeys];
    this.#usedKeys.clear();
    this.#servers.clear();
    this.#bindings = [];
    const fixed = staticBinding(this.#options, this.#http);
    if (fixed) this.#bindings.push(fixed);
    await Promise.all(keys.map((key) => this.#attempt(() => this.#store.delete(key))));
  }

  #remember(binding: Binding): void {
    this.#bindings = [...this.#bindings.filter((b) => b.boundary.href !== binding.boundary.href), binding];
  }

  #fresh(token: StoredToken): boolean {
    const lifetime = token.expiresAt - token.obtainedAt;
    const skew = Math.min(this.#skewMs, Math.max(lifetime, 0) / 2);
    return Date.now() < token.expiresAt - skew;
  }

  async #fetchToken(binding: Binding, server: Server, key: string): Promise<StoredToken> {
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
    const ttlSeconds = Math.max(1, Math.ceil((token.expiresAt - Date.now()) / 1000));
    this.#usedKeys.add(key);
    await this.#attempt(() => this.#store.set(key, token, ttlSeconds));
    return token;
  }

  /**
   * Token endpoint + authenticator for a binding, cached per issuer. Past the discovery TTL the
   * metadata is refreshed in the background: an authorization server that is briefly down must
   * not break requests that still have a valid cached token.
   */
  #server(binding: Binding): Promise<Server> {
    const id = binding.issuer ?? this.#options.tokenEndpoint ?? "";
    const entry = this.#servers.get(id);
    if (entry) {
      if (entry.until <= Date.now()) {
        entry.until = Date.now() + this.#discoveryTtlMs;
        const refreshed = this.#resolveServer(binding.issuer);
        refreshed.then(
          () => this.#servers.set(id, { promise: refreshed, until: entry.until }),
          () => {}, // keep the metadata we have; the next TTL tries again
        );
      }
      return entry.promise;
    }
    const promise = this.#resolveServer(binding.issuer);
    this.#servers.set(id, { promise, until: Date.now() + this.#discoveryTtlMs });
    promise.catch(() => this.#servers.delete(id));
    return promise;
  }

  async #resolveServer(issuer: string | undefined): Promise<Server> {
    const options = this.#options;
    if (options.tokenEndpoint) {
      const tokenEndpoint = this.#http.secureUrl(options.tokenEndpoint, "config", "tokenEndpoint");
      const method = chooseAuthMethod(options, {});
      const auth = createClientAuth(options, method, {}, this.#keys);
      this.emit({ type: "discovered", issuer: options.issuer ?? tokenEndpoint.origin, tokenEndpoint: tokenEndpoint.href, authMethod: method });
      return { tokenEndpoint, auth, ...(options.issuer ? { issuer: options.issuer } : {}) };
    }
    if (!issuer) throw new ClientCredentialsError("config", "no authorization server: set issuer or tokenEndpoint, or let discovery find one", { code: "invalid_config" });
    const metadata = await discoverAuthorizationServer(this.#http, issuer, this.emit);
    const support = {
      ...(metadata.token_endpoint_auth_methods_supported ? { methods: metadata.token_endpoint_auth_methods_supported } : {}),
      ...(metadata.token_endpoint_auth_signing_alg_values_supported ? { signingAlgs: metadata.token_endpoint_auth_signing_alg_values_supported } : {}),
    };
    const method = chooseAuthMethod(options, support);
    const auth = createClientAuth(options, method, support, this.#keys);
    const tokenEndpoint = new URL(metadata.token_endpoint);
    this.emit({ type: "discovered", issuer: metadata.issuer, tokenEndpoint: tokenEndpoint.href, authMethod: method });
    return { tokenEndpoint, issuer: metadata.issuer, auth };
  }

  /** Cache key: issuer, client, resource, sorted scopes, method + key thumbprint. Hashed; never a secret. */
  async #cacheKey(binding: Binding, server: Server): Promise<string> {
    const parts = JSON.stringify([
      server.issuer ?? server.tokenEndpoint.href,
      this.#options.clientId,
      binding.resource ?? null,
      [...binding.scopes].sort(),
      await server.auth.identity(),
    ]);
    let key = this.#cacheKeys.get(parts);
    if (!key) {
      key = `mcc1:${await sha256(parts)}`;
      this.#cacheKeys.set(parts, key);
    }
    return key;
  }

  async #read(key: string): Promise<StoredToken | undefined> {
    const value = await this.#attempt(() => this.#store.get(key));
    return isStoredToken(value) ? value : undefined;
  }

  /** Store failures (a Redis blip) cost a cache miss, never an outage. */
  async #attempt<T>(operation: () => Promise<T> | T): Promise<T | undefined> {
    try {
      return await operation();
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
