import type { Binding } from "./binding.js";
import { type BearerChallenge, bearerChallenge, parseWwwAuthenticate } from "./discovery/challenge.js";
import { isUnderResource, resourceOf } from "./discovery/resource-metadata.js";
import { ClientCredentialsError } from "./errors.js";
import { secureUrl } from "./http.js";
import { assertOptions } from "./options.js";
import { copyHeaders, initOf } from "./request-init.js";
import { publicToken, TokenManager } from "./token-manager.js";
import type { AccessToken, ClientCredentialsOptions, FetchLike, StoredToken } from "./types.js";

/** A `fetch` that authenticates to OAuth-protected MCP servers, plus token helpers. */
export interface AuthenticatedFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** A valid token for a resource URL (or the configured resource), for CLIs and custom transports. */
  getToken(resourceUrl?: string | URL): Promise<AccessToken>;
  /** Forgets every token and discovery result this instance holds. */
  clearTokens(): Promise<void>;
}

const MAX_REDIRECTS = 20;
/** Browsers (pages and workers) answer `redirect: "manual"` with an opaque response. */
const HIDES_REDIRECTS = /^Mozilla\//.test(globalThis.navigator?.userAgent ?? "");

/**
 * Fetch middleware for the OAuth 2.0 client_credentials grant (MCP extension SEP-1046).
 * `withClientCredentials(options)(fetch)` returns a drop-in `fetch` that discovers the
 * authorization server from a 401, gets and caches tokens, retries once, and sends tokens
 * only to the resource they were issued for. `next` defaults to `globalThis.fetch`.
 */
export function withClientCredentials(options: ClientCredentialsOptions): (next?: FetchLike) => AuthenticatedFetch {
  assertOptions(options);
  return (next) => {
    const base: FetchLike = next ?? ((input, init) => globalThis.fetch(input, init));
    const manager = new TokenManager(options, base);

    const authFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = new URL(input instanceof Request ? input.url : String(input), globalThis.location?.href);
      const callerAuth = copyHeaders(init?.headers ?? (input instanceof Request ? input.headers : undefined)).has("authorization");
      // Not ours to authorize: sent as given (a Request is only unpacked, since next takes (url, init)).
      const passThrough = callerAuth || !manager.mayAuthorize(url);
      if (passThrough && !(input instanceof Request)) return base(input, init);

      const request = await Replayable.from(input, init);
      if (passThrough) return base(...request.build(undefined, request.redirect));
      let binding = manager.bindingFor(url);
      let token = binding ? await manager.token(binding, request.signal) : undefined;
      let response = await send(request, binding, token);

      if (response.status === 401) {
        const challenge = challengeOf(response);
        if (!challenge && !token) return response;
        manager.emit({ type: "challenge", url: resourceOf(url).href, status: 401, resourceMetadata: challenge?.resourceMetadata ?? [], ...pick(challenge) });
        secureUrl(url.href, "resource", "protected resource URL", options.allowInsecureRequests ?? false);
        discard(response);
        if (binding && token) await manager.evict(binding, token.accessToken, request.signal);
        binding = await manager.bind(url, challenge, request.signal);
        if (challenge?.scope && options.scope === undefined) binding = manager.widen(binding, challenge.scope);
        token = await manager.token(binding, request.signal);
        manager.emit({ type: "retry", url: resourceOf(url).href, reason: "unauthorized" });
        response = await send(request, binding, token);
      }

      if (response.status === 403 && binding && token) {
        const challenge = challengeOf(response);
        if (challenge?.error === "insufficient_scope" && challenge.scope) {
          const wider = manager.widen(binding, challenge.scope);
          if (wider.scopes.length > binding.scopes.length) {
            discard(response);
            token = await manager.token(wider, request.signal);
            manager.emit({ type: "retry", url: resourceOf(url).href, reason: "insufficient_scope" });
            response = await send(request, wider, token);
          }
        }
      }
      return response;
    };

    /** Sends with the token only where the binding covers the URL, following redirects hop by hop. */
    async function send(request: Replayable, binding: Binding | undefined, token: StoredToken | undefined): Promise<Response> {
      const attach = (url: URL) => Boolean(binding && token && isUnderResource(url, binding.boundary));
      // Browsers hide redirect targets (opaqueredirect) but drop Authorization across origins themselves.
      if (!attach(request.url) || request.redirect !== "follow" || HIDES_REDIRECTS) {
        return base(...request.build(attach(request.url) ? token : undefined, request.redirect));
      }
      // Follow redirects ourselves so a token never rides a redirect to another origin or path.
      let current = request;
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const withToken = attach(current.url);
        const response = await base(...current.build(withToken ? token : undefined, withToken ? "manual" : "follow"));
        if (!withToken) return response;
        if (response.type === "opaqueredirect") return response; // never sent twice
        const location = response.headers.get("location");
        if (response.status < 300 || response.status >= 400 || response.status === 304 || !location) return response;
        discard(response);
        current = current.redirectTo(new URL(location, current.url), response.status);
      }
      throw new ClientCredentialsError("resource", `more than ${MAX_REDIRECTS} redirects`, { code: "too_many_redirects", url: request.url.href });
    }

    return Object.assign(authFetch, {
      getToken: async (resourceUrl?: string | URL) => publicToken(await manager.token(await manager.bindingForGetToken(resourceUrl))),
      clearTokens: () => manager.clear(),
    });
  };
}

function challengeOf(response: Response): BearerChallenge | undefined {
  return bearerChallenge(parseWwwAuthenticate(response.headers.get("www-authenticate")));
}

function pick(challenge: BearerChallenge | undefined): { scope?: string; error?: string } {
  return { ...(challenge?.scope ? { scope: challenge.scope } : {}), ...(challenge?.error ? { error: challenge.error } : {}) };
}

/** Frees a response we will not read. Not awaited: some bodies only settle a cancel once drained. */
function discard(response: Response): void {
  response.body?.cancel().catch(() => {});
}

/** A request as (url, init) with its body buffered up front, so it can be sent again after a 401. */
class Replayable {
  private constructor(
    readonly url: URL,
    private readonly init: RequestInit,
    private readonly headers: Headers,
    private readonly body: BodyInit | null,
  ) {}

  static async from(input: string | URL | Request, init: RequestInit | undefined): Promise<Replayable> {
    if (input instanceof Request) {
      const request = init ? new Request(input, init) : input;
      const body = request.body ? await request.arrayBuffer() : null;
      return new Replayable(new URL(request.url), initOf(request), copyHeaders(request.headers), body);
    }
    const url = new URL(String(input), globalThis.location?.href);
    const raw = init?.body ?? null;
    const body = raw instanceof ReadableStream ? await new Response(raw).arrayBuffer() : raw;
    return new Replayable(url, init ?? {}, copyHeaders(init?.headers), body);
  }

  get signal(): AbortSignal | null | undefined {
    return this.init.signal;
  }

  get redirect(): RequestRedirect {
    return this.init.redirect ?? "follow";
  }

  build(token: StoredToken | undefined, redirect: RequestRedirect): [string, RequestInit] {
    const headers = new Headers(this.headers);
    if (token) headers.set("authorization", `Bearer ${token.accessToken}`);
    return [this.url.href, { ...this.init, headers, body: this.body, redirect }];
  }

  /** Fetch's redirect rules (fetch spec §4.4): 303, and 301/302 after POST, become GET without a body. */
  redirectTo(url: URL, status: number): Replayable {
    const method = (this.init.method ?? "GET").toUpperCase();
    const toGet = (status === 303 && method !== "HEAD") || ((status === 301 || status === 302) && method === "POST");
    const headers = new Headers(this.headers);
    if (toGet) for (const name of ["content-type", "content-length", "content-encoding", "content-language", "content-location"]) headers.delete(name);
    return new Replayable(url, { ...this.init, method: toGet ? "GET" : method }, headers, toGet ? null : this.body);
  }
}
