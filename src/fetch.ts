import type { Binding } from "./binding.js";
import { BindingRegistry } from "./bindings.js";
import { type BearerChallenge, bearerChallenge, parseWwwAuthenticate } from "./discovery/challenge.js";
import { isUnderResource, resourceOf } from "./discovery/resource-metadata.js";
import { ClientCredentialsError } from "./errors.js";
import { createHttp, secureUrl } from "./http.js";
import { resolveOptions } from "./options.js";
import { Replayable } from "./replay.js";
import { copyHeaders } from "./request-init.js";
import { ServerDirectory } from "./server-directory.js";
import { StoreGuard } from "./stores/guard.js";
import { publicToken, TokenCache } from "./token-cache.js";
import type { AccessToken, ClientCredentialsOptions, FetchLike, StoredToken } from "./types.js";

/** A `fetch` that authenticates to OAuth-protected MCP servers, plus token helpers. */
export interface AuthenticatedFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** A valid token for a resource URL (or the configured resource), for CLIs and custom transports. */
  getToken(resourceUrl?: string | URL): Promise<AccessToken>;
  /** Forgets every token and discovery result this instance holds, and deletes the entries it used from a shared store. */
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
  const resolved = resolveOptions(options);
  const { emit } = resolved;
  return (next) => {
    const base: FetchLike = next ?? ((input, init) => globalThis.fetch(input, init));
    const http = createHttp({
      fetch: base,
      timeoutMs: resolved.timeoutMs,
      retries: resolved.retries,
      allowInsecureRequests: resolved.allowInsecureRequests,
      emit,
    });
    const guard = new StoreGuard({ store: resolved.store, timeoutMs: resolved.storeTimeoutMs, emit });
    const bindings = new BindingRegistry(resolved, http, guard);
    const servers = new ServerDirectory(resolved, http, guard);
    const tokens = new TokenCache(resolved, http, servers, guard);

    const authFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = new URL(input instanceof Request ? input.url : String(input), globalThis.location?.href);
      const callerAuth = copyHeaders(init?.headers ?? (input instanceof Request ? input.headers : undefined)).has("authorization");
      // Not ours to authorize: sent as given (a Request is only unpacked, since next takes (url, init)).
      const passThrough = callerAuth || !bindings.mayAuthorize(url);
      if (passThrough && !(input instanceof Request)) return base(input, init);

      const request = await Replayable.from(input, init);
      if (passThrough) return base(...request.build(undefined, request.redirect));
      const found = bindings.find(url);
      let binding = found instanceof Promise ? await found : found;
      let token = binding ? await tokens.token(binding, request.signal) : undefined;
      let response = await send(request, binding, token);

      if (response.status === 401) {
        const challenge = challengeOf(response);
        if (!challenge && !token) return response;
        emit({ type: "challenge", url: resourceOf(url).href, status: 401, resourceMetadata: challenge?.resourceMetadata ?? [], ...pick(challenge) });
        secureUrl(url.href, "resource", "protected resource URL", resolved.allowInsecureRequests);
        discard(response);
        if (binding && token) await tokens.evict(binding, token.accessToken, request.signal);
        binding = await bindings.bind(url, challenge, request.signal);
        if (challenge?.scope && !resolved.scopeConfigured) binding = await bindings.widen(binding, challenge.scope);
        token = await tokens.token(binding, request.signal);
        emit({ type: "retry", url: resourceOf(url).href, reason: "unauthorized" });
        response = await send(request, binding, token);
      }

      if (response.status === 403 && binding && token) {
        const challenge = challengeOf(response);
        if (challenge?.error === "insufficient_scope" && challenge.scope) {
          const wider = await bindings.widen(binding, challenge.scope);
          if (wider.scopes.length > binding.scopes.length) {
            discard(response);
            token = await tokens.token(wider, request.signal);
            emit({ type: "retry", url: resourceOf(url).href, reason: "insufficient_scope" });
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
      getToken: async (resourceUrl?: string | URL) => publicToken(await tokens.token(await bindings.forGetToken(resourceUrl))),
      clearTokens: async () => {
        tokens.clear();
        bindings.clear();
        servers.clear();
        await guard.forget();
      },
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
