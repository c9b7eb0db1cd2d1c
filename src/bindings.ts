import { type Binding, bind, hasStaticServer, staticBinding } from "./binding.js";
import { sameIssuer } from "./discovery/authorization-server.js";
import type { BearerChallenge } from "./discovery/challenge.js";
import { isUnderResource, resourceOf } from "./discovery/resource-metadata.js";
import { configError } from "./errors.js";
import type { Http } from "./http.js";
import type { ResolvedOptions } from "./options.js";
import type { StoreGuard } from "./stores/guard.js";
import { abortable, defined, scopeList } from "./util.js";

/** Bindings kept in memory (a gateway may front thousands of resources), and the most recent ones shared through the store. */
const MAX_BINDINGS = 10_000;
const MAX_SHARED = 64;
const MAX_ROUTES = 1024;
/** A 401 for an unknown URL re-reads the shared index at most this often (another instance may have bound it). */
const INDEX_RECHECK_MS = 1000;

/** What this instance knows about one request URL, kept so the next request to it parses and searches nothing. */
export interface Route {
  url: URL;
  /** `url.href`, serialised once. */
  href: string;
  /** May this URL ever carry a token (it is under the configured resource URL, if any)? */
  allowed: boolean;
  binding: Binding | undefined;
  /** The registry's version `binding` was looked up at. */
  version: number;
}

/**
 * Which resource a URL belongs to: the bindings this instance discovered, the one static options
 * describe, and (with a shared store) the ones other instances discovered, read from one index
 * entry per client configuration so a fresh instance sends its first request already authorized.
 */
export class BindingRegistry {
  readonly #options: ResolvedOptions;
  readonly #http: Http;
  readonly #guard: StoreGuard;
  readonly #ready: (binding: Binding) => Promise<unknown>;
  /** By boundary, oldest first; and the same bindings by origin, for lookups. */
  readonly #bindings = new Map<string, Binding>();
  readonly #byOrigin = new Map<string, Binding[]>();
  /** Bumped whenever a binding is added, replaced or dropped: routes cache lookups against it. */
  #version = 0;
  readonly #routes = new Map<string, Route>();
  readonly #flights = new Map<string, Promise<Binding>>();
  #index: { loadedAt: number; loading?: Promise<void> } = { loadedAt: Number.NEGATIVE_INFINITY };
  #indexKey: Promise<string> | undefined;
  /** Bumped by clear(): what a discovery or index read begun before it finds is not kept. */
  #generation = 0;

  /**
   * `ready` readies what a binding's token needs (its authorization server's metadata) before the
   * binding is published, so an instance that finds it in the shared index finds that there too.
   */
  constructor(options: ResolvedOptions, http: Http, guard: StoreGuard, ready: (binding: Binding) => Promise<unknown>) {
    this.#options = options;
    this.#http = http;
    this.#guard = guard;
    this.#ready = ready;
    this.#reset();
  }

  /** May this URL ever carry a token? With a configured resource URL, only URLs under it. */
  mayAuthorize(url: URL): boolean {
    const boundary = this.#options.boundary;
    return !boundary || isUnderResource(url, boundary);
  }

  /**
   * The route for a request URL, for the hot path: MCP clients call the same few URLs over and
   * over, so each is parsed and matched once. Relative URLs resolve against the page's location,
   * which can change, so they are never kept.
   */
  route(input: string | URL): Route {
    const href = typeof input === "string" ? input : input instanceof URL ? input.href : String(input);
    const known = this.#routes.get(href);
    if (known) return known;
    let url: URL;
    let keep = true;
    try {
      url = new URL(href);
    } catch {
      url = new URL(href, globalThis.location?.href); // throws for a bad URL, as fetch would
      keep = false;
    }
    const route: Route = { url, href: url.href, allowed: this.mayAuthorize(url), binding: undefined, version: -1 };
    if (keep) {
      if (this.#routes.size >= MAX_ROUTES) this.#routes.clear();
      this.#routes.set(href, route);
    }
    return route;
  }

  /** The binding covering the route, when the registry can say so without waiting. */
  routeBinding(route: Route): Binding | undefined {
    const version = this.#version;
    if (route.version === version) return route.binding;
    const found = this.find(route.url);
    if (found instanceof Promise) return undefined;
    route.binding = found;
    route.version = version;
    return found;
  }

  /**
   * The binding covering `url`. Synchronous when the answer is known; a promise only while the
   * shared store's index has not been read yet (once per discovery TTL).
   */
  find(url: URL): Binding | undefined | Promise<Binding | undefined> {
    const known = this.#known(url);
    if (known || !this.#guard.enabled || Date.now() - this.#index.loadedAt < this.#options.discoveryTtlMs) return known;
    return this.#loadIndex().then(() => this.#known(url));
  }

  /** The binding covering `url` after reading the shared index again: another instance may just have published it. */
  async reload(url: URL): Promise<Binding | undefined> {
    await this.#loadIndex();
    return this.#known(url);
  }

  /** Discovers (once per metadata location, however many callers) and remembers a binding. */
  async bind(url: URL, challenge: BearerChallenge | undefined, signal?: AbortSignal | null): Promise<Binding> {
    if (this.#guard.enabled && Date.now() - this.#index.loadedAt >= INDEX_RECHECK_MS) await abortable(this.#loadIndex(), signal);
    const known = this.#known(url);
    // A fully static binding never needs discovery; a discovered one is trusted for the TTL.
    if (known && (known.static || Date.now() - known.boundAt < this.#options.discoveryTtlMs)) return known;
    const named = challenge?.resourceMetadata.length ? challenge.resourceMetadata.join(" ") : undefined;
    const binding = await this.#discover(named ?? resourceOf(url).href, url, challenge, signal);
    // Callers sharing a metadata document may still ask for URLs it does not cover.
    return isUnderResource(url, binding.boundary) || !named ? binding : this.#discover(resourceOf(url).href, url, challenge, signal);
  }

  /** The binding a 401's challenge leads to: its metadata, and its scope unless scopes are configured. */
  async challenged(url: URL, challenge: BearerChallenge | undefined, signal?: AbortSignal | null): Promise<Binding> {
    const binding = await this.bind(url, challenge, signal);
    return challenge?.scope && !this.#options.scopeConfigured ? this.widen(binding, challenge.scope) : binding;
  }

  /**
   * The binding for getToken(): from a URL (and the challenge of its 401, if the caller has one),
   * or from static options alone. `discover: false` (invalidate()): only one already known.
   */
  forGetToken(resourceUrl: string | URL | undefined, challenge?: BearerChallenge): Promise<Binding>;
  forGetToken(resourceUrl: string | URL | undefined, challenge: undefined, discover: false): Promise<Binding | undefined>;
  async forGetToken(resourceUrl: string | URL | undefined, challenge?: BearerChallenge, discover = true): Promise<Binding | undefined> {
    const url = resourceUrl ?? this.#options.boundary;
    if (url !== undefined) {
      const parsed = this.#http.secureUrl(String(url), "config", "resourceUrl");
      if (challenge) return this.challenged(parsed, challenge);
      return (await this.find(parsed)) ?? (discover ? this.bind(parsed, undefined) : undefined);
    }
    if (!hasStaticServer(this.#options)) {
      throw configError("getToken() needs a resourceUrl, or resource/issuer/tokenEndpoint options");
    }
    const { issuer } = this.#options;
    return defined({ boundary: new URL("about:blank"), scopes: [...this.#options.scopes], boundAt: Date.now(), issuer: issuer || undefined });
  }

  /** A binding like `binding` whose scopes also include `extra` (challenge scope, 403 step-up). */
  async widen(binding: Binding, extra: string): Promise<Binding> {
    const scopes = scopeList([...binding.scopes, ...scopeList(extra)]);
    return scopes.length === binding.scopes.length ? binding : this.#remember({ ...binding, scopes });
  }

  /** Forgets every binding (the shared index goes with StoreGuard.forget()). */
  clear(): void {
    this.#generation++;
    this.#flights.clear();
    this.#reset();
    this.#index = { loadedAt: Date.now() }; // nothing to load: the index is being deleted
  }

  #known(url: URL): Binding | undefined {
    let best: Binding | undefined;
    for (const binding of this.#byOrigin.get(url.origin) ?? []) {
      if (!isUnderResource(url, binding.boundary)) continue;
      if (!best || binding.boundary.pathname.length >= best.boundary.pathname.length) best = binding;
    }
    return best;
  }

  #discover(flightKey: string, url: URL, challenge: BearerChallenge | undefined, signal?: AbortSignal | null): Promise<Binding> {
    let flight = this.#flights.get(flightKey);
    if (!flight) {
      const generation = this.#generation;
      // A discovery that clear() overtook serves its callers but is not kept, here or in the store.
      const started: Promise<Binding> = bind({ options: this.#options, http: this.#http, guard: this.#guard }, url, challenge)
        .then((binding) => (generation === this.#generation ? this.#remember(binding) : binding))
        .finally(() => {
          if (this.#flights.get(flightKey) === started) this.#flights.delete(flightKey);
        });
      started.catch(() => {}); // every caller gets the error through its own await
      this.#flights.set(flightKey, started);
      flight = started;
    }
    return abortable(flight, signal);
  }

  #reset(): void {
    this.#bindings.clear();
    this.#byOrigin.clear();
    this.#version++;
    const fixed = staticBinding(this.#options);
    if (fixed) this.#keep(fixed);
  }

  /** Keeps the binding here and, awaited (serverless runtimes may cancel what is left running), in the shared index. */
  async #remember(binding: Binding): Promise<Binding> {
    this.#keep(binding);
    if (!binding.static && this.#guard.enabled) {
      await this.#ready(binding);
      await this.#publish();
    }
    return binding;
  }

  #keep(binding: Binding): void {
    this.#drop(binding.boundary.href);
    if (this.#bindings.size >= MAX_BINDINGS) this.#drop(this.#bindings.keys().next().value as string);
    this.#bindings.set(binding.boundary.href, binding);
    const origin = binding.boundary.origin;
    this.#byOrigin.set(origin, [...(this.#byOrigin.get(origin) ?? []), binding]);
    this.#version++;
  }

  #drop(href: string): void {
    const old = this.#bindings.get(href);
    if (!old) return;
    this.#bindings.delete(href);
    const origin = old.boundary.origin;
    const rest = (this.#byOrigin.get(origin) ?? []).filter((b) => b !== old);
    if (rest.length) this.#byOrigin.set(origin, rest);
    else this.#byOrigin.delete(origin);
  }

  #key(): Promise<string> {
    this.#indexKey ??= this.#guard.key("bindings", this.#options.fingerprint);
    return this.#indexKey;
  }

  /** Reads the fleet's bindings into memory (once at a time); a binding known here wins when newer. */
  #loadIndex(): Promise<void> {
    const generation = this.#generation;
    this.#index.loading ??= (async () => {
      const entry = await this.#guard.read(await this.#key(), "bindings");
      if (generation !== this.#generation) return;
      for (const binding of restoreBindings(entry?.data, this.#options, this.#http)) {
        const current = this.#bindings.get(binding.boundary.href);
        if (!current || (!current.static && current.boundAt < binding.boundAt)) this.#keep(binding);
      }
    })().finally(() => {
      this.#index = { loadedAt: Date.now() };
    });
    return this.#index.loading;
  }

  /** Read, merge, write: instances binding different resources at once rarely lose each other's work. */
  async #publish(): Promise<void> {
    const key = await this.#key();
    const entry = await this.#guard.read(key, "bindings");
    const merged = new Map<string, Binding>();
    for (const binding of [...restoreBindings(entry?.data, this.#options, this.#http), ...this.#bindings.values()]) {
      const current = merged.get(binding.boundary.href);
      if (!binding.static && (!current || current.boundAt <= binding.boundAt)) merged.set(binding.boundary.href, binding);
    }
    const list = [...merged.values()].slice(-MAX_SHARED);
    if (list.length === 0) return;
    const oldest = Math.min(...list.map((b) => b.boundAt));
    const data = list.map(({ boundary, resource, issuer, scopes, boundAt }) => ({ boundary: boundary.href, resource, issuer, scopes, boundAt }));
    await this.#guard.write(key, "bindings", data, Math.max(oldest + this.#options.discoveryTtlMs, Date.now() + 1000));
  }
}

/**
 * Bindings read back from a shared store, each checked as strictly as options would be: whoever
 * can write to the store must not be able to send tokens to a URL this client would not.
 */
function restoreBindings(data: unknown, options: ResolvedOptions, http: Http): Binding[] {
  if (!Array.isArray(data)) return [];
  const bindings: Binding[] = [];
  for (const item of data.slice(0, MAX_SHARED) as Array<Record<string, unknown>>) {
    try {
      const { boundary, resource, issuer, scopes, boundAt } = item ?? {};
      if (typeof boundary !== "string" || typeof boundAt !== "number" || !(Date.now() - boundAt < options.discoveryTtlMs)) continue;
      const url = http.secureUrl(boundary, "discovery", "stored resource");
      if (url.href !== resourceOf(url).href || (options.boundary && !isUnderResource(url, options.boundary))) continue;
      if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === "string")) continue;
      if (resource !== undefined && typeof resource !== "string") continue;
      // Discovered bindings cover exactly their resource; only options may say otherwise.
      if (options.resource === undefined && !options.boundary && (typeof resource !== "string" || resourceOf(new URL(resource)).href !== url.href)) continue;
      if (options.resource === false ? resource !== undefined : typeof options.resource === "string" && resource !== options.resource) continue;
      if (issuer !== undefined && (typeof issuer !== "string" || !http.secureUrl(issuer, "discovery", "stored issuer"))) continue;
      if (options.issuer && !(typeof issuer === "string" && sameIssuer(issuer, options.issuer))) continue;
      bindings.push(
        defined({
          boundary: url,
          resource: resource as string | undefined,
          issuer: issuer as string | undefined,
          scopes: scopeList(scopes as string[]),
          boundAt,
        }),
      );
    } catch {
      // An entry a fresh discovery would not have produced: ignore it, discovery will replace it.
    }
  }
  return bindings;
}
