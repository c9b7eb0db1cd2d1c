import type { Binding } from "./binding.js";
import { BindingRegistry, type Route } from "./bindings.js";
import { ColdGate, type Release } from "./cold-gate.js";
import { type BearerChallenge, bearerChallenge, parseWwwAuthenticate } from "./discovery/challenge.js";
import { isUnderResource, resourceOf } from "./discovery/resource-metadata.js";
import { ClientCredentialsError } from "./errors.js";
import { createHttp, secureUrl } from "./http.js";
import { type ResolvedOptions, resolveOptions } from "./options.js";
import { discard, HIDES_REDIRECTS, MAX_REDIRECTS, REDIRECT_STATUSES, refuseRedirect } from "./redirects.js";
import { buffered, Replayable } from "./replay.js";
import { authorize, hasAuthorization, type OwnHeaders, ownHeaders, unauthorize, withField } from "./request-init.js";
import { ServerDirectory } from "./server-directory.js";
import { publicToken } from "./stored-token.js";
import { StoreGuard } from "./stores/guard.js";
import { TokenCache } from "./token-cache.js";
import type { AccessToken, ClientCredentialsOptions, FetchLike, StoredToken } from "./types.js";
import { abortable, base64url, deadline, defined, sha256 } from "./util.js";

/** A first request's duties at the cold gate: release this instance's waiters, and the fleet's lock. */
interface Gate {
  release?: Release;
  fleet?: () => Promise<void>;
}

/** A `fetch` that authenticates to OAuth-protected MCP servers, plus token helpers. */
export interface AuthenticatedFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * A valid token for a resource URL (or the configured resource), for CLIs and custom transports.
   * Discovery starts at the URL's well-known resource metadata; a transport that got a 401 passes
   * its `WWW-Authenticate` header, so discovery follows the challenge as a request's 401 would
   * (its `resource_metadata`, and its `scope` unless `scope` is configured).
   *
   * @example
   * const { accessToken } = await authFetch.getToken(url, { wwwAuthenticate: response.headers.get("www-authenticate") });
   */
  getToken(resourceUrl?: string | URL, options?: GetTokenOptions): Promise<AccessToken>;
  /** Forgets every token and discovery result this instance holds, and deletes the entries it used from a shared store. */
  clearTokens(): Promise<void>;
  /**
   * Forgets the token for one resource URL (or the configured resource), here and in a shared
   * store, and keeps what discovery found: the next request or `getToken()` asks for a new token
   * and nothing else. With `rejectedToken`, only that token is forgotten; one that already
   * replaced it stays. For `onUnauthorized`-style hooks of libraries that hold the token themselves.
   *
   * @example
   * await authFetch.invalidate("https://mcp.example.com/mcp", rejected.accessToken);
   */
  invalidate(resourceUrl?: string | URL, rejectedToken?: string): Promise<void>;
}

export interface GetTokenOptions {
  /** The `WWW-Authenticate` header of the resource's 401, if there was one. */
  wwwAuthenticate?: string | null | undefined;
}

/**
 * Fetch middleware for the OAuth 2.0 client_credentials grant (MCP extension SEP-1046).
 * `withClientCredentials(options)(fetch)` returns a drop-in `fetch` that discovers the
 * authorization server from a 401, gets and caches tokens, retries once, and sends tokens
 * only to the resource they were issued for. `next` defaults to `globalThis.fetch`.
 */
export function withClientCredentials(options: ClientCredentialsOptions): (next?: FetchLike) => AuthenticatedFetch {
  return middleware(resolveOptions(options));
}

/** The middleware both entry points share; only the credential and its grant differ. */
export function middleware(resolved: ResolvedOptions): (next?: FetchLike) => AuthenticatedFetch {
  const { emit } = resolved;
  return (next) => {
    const base: FetchLike = next ?? ((input, init) => globalThis.fetch(input, init));
    const http = createHttp({ ...resolved, fetch: base });
    const guard = new StoreGuard({ store: resolved.store, timeoutMs: resolved.storeTimeoutMs, emit });
    const servers = new ServerDirectory(resolved, http, guard);
    const bindings = new BindingRegistry(resolved, http, guard, (binding) => servers.get(binding));
    // A chunk of its own, like jose: a client without DPoP never loads it. Started with the
    // instance; a failed load reaches each request that awaits it, never as an unhandled rejection.
    const dpop =
      resolved.dpop &&
      import("./dpop/index.js").then(({ Dpop }) => new Dpop(resolved.dpop!, { base64url, sha256, parseWwwAuthenticate, ClientCredentialsError }));
    void dpop?.catch(() => {});
    const tokens = new TokenCache(resolved, http, servers, guard, dpop);

    const gates = new ColdGate(resolved.discoveryTtlMs, guard, resolved.lockTtlMs, resolved.fingerprint);

    // The hot path: a URL seen before, a binding known, a fresh token in memory, a body that can
    // be sent twice. No await before `next`, nothing parsed, hashed or copied but the headers.
    const authFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      try {
        if (input instanceof Request) return general(input, init);
        const route = bindings.route(input);
        if (!route.allowed) return strict(input, init);
        // Copied once here (a Headers object in the same pass that looks for Authorization), then ours to add to.
        const headers = ownHeaders(init?.headers);
        // Sent with our copy: the caller's may have been a one-shot iterator.
        if (hasAuthorization(headers)) return strict(input, withField(init as RequestInit, "headers", headers));
        const binding = bindings.routeBinding(route);
        const token = binding && tokens.peek(binding);
        // A bound token needs a proof signed for each request: not a hot-path job.
        if (!binding || !token || token.tokenType === "DPoP") return general(input, init && withField(init, "headers", headers));
        // A stream can be sent once: read it first, so a 401 can still be answered with a retry.
        const body = init?.body;
        if (init && body instanceof ReadableStream) {
          return buffered(body).then((bytes) => authorized(route, withField(init, "body", bytes as BodyInit), headers, binding, token));
        }
        return authorized(route, init ?? {}, headers, binding, token);
      } catch (error) {
        return Promise.reject(error);
      }
    };

    function authorized(route: Route, init: RequestInit, headers: OwnHeaders, binding: Binding, token: StoredToken): Promise<Response> {
      const redirect = init.redirect ?? "follow";
      const manual = redirect === "follow" && !HIDES_REDIRECTS;
      const sent = withField(init, "headers", authorize(headers, `Bearer ${token.accessToken}`));
      sent.redirect = manual || redirect === "error" ? "manual" : redirect;
      return base(route.href, sent).then((response) =>
        response.status < 300 && (redirect !== "error" || response.type !== "opaqueredirect")
          ? response
          : settle(Replayable.of(route.url, withField(init, "headers", unauthorize(sent.headers as OwnHeaders))), binding, token, response, manual),
      );
    }

    /** A hot-path response that is not a plain success: a redirect to follow, or a 401/403 to recover from. */
    async function settle(request: Replayable, binding: Binding, token: StoredToken, response: Response, manual: boolean): Promise<Response> {
      if (request.redirect === "error") refuseRedirect(request.url.href, response);
      if (manual && response.status < 400) response = await redirected(request, binding, token, response);
      return response.status === 401 || response.status === 403 ? recover(request, binding, token, response) : response;
    }

    async function general(input: string | URL | Request, init: RequestInit | undefined): Promise<Response> {
      const request = await Replayable.from(input, init);
      const { url, signal } = request;
      // Not ours to authorize: sent as given (a Request is only unpacked, since next takes (url, init)).
      if (!bindings.mayAuthorize(url) || (input instanceof Request && hasAuthorization(ownHeaders(init?.headers ?? input.headers)))) {
        return strict(...request.build(undefined, request.redirect));
      }
      let binding = await bindings.find(url);
      let gated: Gate = {};
      if (!binding) ({ binding, ...gated } = await passGate(url, signal));
      const { release, fleet } = gated;
      try {
        const token = binding ? await tokens.token(binding, signal) : undefined;
        const response = await send(request, binding, token);
        if (response.status !== 401) {
          release?.(response.ok); // open only when it answered: a 503 says nothing about tokens
          void fleet?.();
        }
        // Waiters in this instance go once the binding is known (they join the token request);
        // the fleet's once the token is in the store too, so they find everything there.
        return await recover(request, binding, token, response, (step) => (step === "bound" ? release?.() : void fleet?.()));
      } finally {
        release?.();
        await fleet?.(); // awaited: serverless runtimes may cancel what is left running
      }
    }

    /**
     * The cold gate, for a URL no binding covers: the first request (in this instance, and with a
     * store that has locks, in the fleet) goes and must release the gate; the others wait for it
     * and come back with the binding it found, or none when the resource needs no token.
     */
    async function passGate(url: URL, signal: AbortSignal | null | undefined): Promise<Gate & { binding?: Binding | undefined }> {
      const resource = resourceOf(url).href;
      const entered = gates.enter(resource);
      if (entered instanceof Promise) {
        // At most timeoutMs: a first request held long (a slow tool call on an open server) must not hold the rest.
        await abortable(
          deadline(entered, resolved.timeoutMs).catch(() => {}),
          signal,
        );
        return { binding: await bindings.find(url) };
      }
      if (!entered || !guard.locks) return { release: entered };
      const seen: { binding?: Binding | undefined } = {};
      try {
        const found = async () => {
          seen.binding = await bindings.reload(url);
          return seen.binding !== undefined;
        };
        const fleet = await gates.fleet(resource, found, signal);
        if (fleet) return { release: entered, fleet };
      } catch (error) {
        entered();
        throw error;
      }
      entered(); // another instance bound it: this instance's waiters go with its binding
      return seen;
    }

    /** After a 401, discovers (or rediscovers) and retries once; after a 403 for scope, steps up once. */
    async function recover(
      request: Replayable,
      binding: Binding | undefined,
      token: StoredToken | undefined,
      response: Response,
      progress?: (step: "bound" | "token") => void,
    ): Promise<Response> {
      const { url, signal } = request;
      if (response.status !== 401 && response.status !== 403) return response;
      // One DPoP nonce retry per call, wherever the resource first asks for a nonce.
      let nonceRetried = false;
      const nonce = async (answer: Response) => {
        if (nonceRetried) return answer;
        const next = await withNonce(request, binding, token, answer);
        nonceRetried = next !== answer;
        return next;
      };
      response = await nonce(response);
      // A 401 or 403 from another origin (redirects took the request there) says nothing about this resource.
      if (foreign.has(response) || (response.redirected && response.url && new URL(response.url).origin !== url.origin)) return response;
      if (response.status === 401) {
        const challenge = withoutToken(challengeOf(response), token);
        if (!challenge && !token) return response;
        // A resource that still wants a nonce did not reject the token: a new one would not help.
        if (token?.tokenType === "DPoP" && challenge?.error === "use_dpop_nonce") return response;
        const { resourceMetadata = [], scope, error } = challenge ?? {};
        emit(defined({ type: "challenge", url: resourceOf(url).href, status: 401, resourceMetadata, scope: scope || undefined, error: error || undefined }));
        secureUrl(url.href, "resource", "protected resource URL", resolved.allowInsecureRequests);
        discard(response);
        if (binding && token) await tokens.evict(binding, token.accessToken, signal);
        binding = await bindings.challenged(url, challenge, signal);
        progress?.("bound");
        token = await tokens.token(binding, signal);
        progress?.("token");
        emit({ type: "retry", url: resourceOf(url).href, reason: "unauthorized" });
        // One turn of the event loop first: Node's fetch pools the 401's connection only then, and a
        // retry sent at once would open a new one (10,000 of them, for 10,000 callers of a rotated token).
        if (!HIDES_REDIRECTS) await new Promise((resolve) => nextTurn(resolve, 0));
        response = await nonce(await send(request, binding, token));
      }

      if (response.status === 403 && binding && token) {
        const challenge = challengeOf(response);
        if (challenge?.error === "insufficient_scope" && challenge.scope) {
          const wider = await bindings.widen(binding, challenge.scope);
          if (wider.scopes.length > binding.scopes.length) {
            discard(response);
            token = await tokens.token(wider, signal);
            emit({ type: "retry", url: resourceOf(url).href, reason: "insufficient_scope" });
            response = await nonce(await send(request, wider, token));
          }
        }
      }
      return response;
    }

    /** Sends with the token only where the binding covers the URL, following redirects hop by hop. */
    async function send(request: Replayable, binding: Binding | undefined, token: StoredToken | undefined): Promise<Response> {
      const covered = Boolean(binding && token && isUnderResource(request.url, binding.boundary));
      // Browsers hide redirect targets (opaqueredirect) but drop Authorization across origins themselves.
      if (!covered || !binding || !token || request.redirect !== "follow" || HIDES_REDIRECTS) {
        const sent = covered ? token : undefined;
        const proof = await proofFor(request, sent);
        return observed(request, sent, await strict(...request.build(sent, request.redirect, proof?.proof)), proof?.nonce);
      }
      const proof = await proofFor(request, token);
      return redirected(request, binding, token, await observed(request, token, await base(...request.build(token, "manual", proof?.proof)), proof?.nonce));
    }

    /**
     * `next`, with `redirect: "error"` sent as "manual" and a redirect refused here: workerd throws
     * a TypeError for "error", and one typed error on every runtime is easier to handle than three.
     */
    function strict(input: string | URL, init: RequestInit | undefined): Promise<Response> {
      if (init?.redirect !== "error") return base(input, init);
      return base(input, { ...init, redirect: "manual" }).then((response) => {
        refuseRedirect(String(input), response);
        return response;
      });
    }

    /** Follows redirects ourselves, so a token never rides a redirect to another origin or path. */
    async function redirected(request: Replayable, binding: Binding, token: StoredToken, response: Response): Promise<Response> {
      let current = request;
      for (let hop = 0; ; hop++) {
        const status = response.status;
        if (!REDIRECT_STATUSES.has(status) || response.type === "opaqueredirect") return response; // never sent twice
        const location = response.headers.get("location");
        if (!location) return response;
        if (hop === MAX_REDIRECTS) break;
        discard(response);
        const target = new URL(location, current.url);
        // fetch refuses these too; followed, a server could answer with a data: URL of its choice.
        if (target.protocol !== "https:" && target.protocol !== "http:") throw new TypeError(`redirect to a ${target.protocol} URL`);
        current = current.redirectTo(target, status);
        if (!isUnderResource(current.url, binding.boundary)) {
          const away = await base(...current.build(undefined, "follow"));
          if (current.url.origin !== request.url.origin) foreign.add(away);
          return away;
        }
        // A new proof for each hop: its htu is the hop's URL.
        const proof = await proofFor(current, token);
        response = await observed(current, token, await base(...current.build(token, "manual", proof?.proof)), proof?.nonce);
      }
      discard(response);
      throw new ClientCredentialsError("resource", `more than ${MAX_REDIRECTS} redirects`, { code: "too_many_redirects", url: request.url.href });
    }

    /** A fresh DPoP proof for a request that carries a bound token (RFC 9449 §7): `ath` included. */
    async function proofFor(request: Replayable, token: StoredToken | undefined): Promise<{ proof: string; nonce: string | undefined } | undefined> {
      if (token?.tokenType !== "DPoP" || !dpop) return undefined;
      const proof = await (await dpop).proof(request.method, request.url, token);
      emit({ type: "dpop-proof", url: resourceOf(request.url).href, method: request.method });
      return proof;
    }

    /** Keeps a nonce the resource sends with any answer to a bound request (RFC 9449 §9). */
    async function observed(request: Replayable, token: StoredToken | undefined, response: Response, sent: string | undefined): Promise<Response> {
      if (token?.tokenType !== "DPoP" || !dpop) return response;
      // Browsers follow redirects themselves: a nonce from where they ended up is not this origin's.
      if (response.redirected && response.url && new URL(response.url).origin !== request.url.origin) return response;
      const { fresh, changed } = (await dpop).observe(request.url, response, "rs", sent);
      if (changed) newNonce.add(response);
      if (fresh) emit({ type: "dpop-nonce", url: resourceOf(request.url).href });
      return response;
    }

    /**
     * After a `401` whose DPoP challenge says `use_dpop_nonce` and that brought a new nonce, sends
     * once more with a proof that carries it: a retry of its own, on top of the one after a 401.
     */
    async function withNonce(request: Replayable, binding: Binding | undefined, token: StoredToken | undefined, response: Response): Promise<Response> {
      // observed() kept the nonce; a 401 that repeats the one just sent is not retried (no loop).
      if (response.status !== 401 || token?.tokenType !== "DPoP" || !dpop || !newNonce.has(response) || !(await dpop).asksNonce(response)) return response;
      discard(response);
      emit({ type: "retry", url: resourceOf(request.url).href, reason: "use_dpop_nonce" });
      if (!HIDES_REDIRECTS) await new Promise((resolve) => nextTurn(resolve, 0)); // as for the 401 retry: the pooled connection
      return send(request, binding, token);
    }

    return Object.assign(authFetch, {
      getToken: async (resourceUrl?: string | URL, options?: GetTokenOptions) => {
        const challenge = options?.wwwAuthenticate ? bearerChallenge(parseWwwAuthenticate(options.wwwAuthenticate), AUTH_SCHEMES) : undefined;
        return publicToken(await tokens.token(await bindings.forGetToken(resourceUrl, challenge)));
      },
      invalidate: async (resourceUrl?: string | URL, rejectedToken?: string) => {
        const binding = await bindings.forGetToken(resourceUrl, undefined, false);
        if (binding) await tokens.evict(binding, rejectedToken);
      },
      clearTokens: async () => {
        gates.clear();
        tokens.clear();
        bindings.clear();
        servers.clear();
        await guard.forget();
      },
    });
  };
}

/**
 * Taken at load: a test that fakes timers (vi.useFakeTimers()) after importing this module must
 * not stall every 401 retry. Browsers skip the turn: a hidden tab delays timers by a second.
 */
const nextTurn = globalThis.setTimeout.bind(globalThis);

/** Responses that brought a DPoP nonce the request did not carry yet. */
const newNonce = new WeakSet<Response>();

/** Responses from another origin that our own redirect handling reached (fetch did not mark them `redirected`). */
const foreign = new WeakSet<Response>();

/**
 * The challenge without the token it refused, which a server may quote: in a scope it would be
 * requested (and shown in events), in a metadata URL fetched (and shown in discovery events and
 * errors), in the error shown in the challenge event. Values quoting it are dropped; the error is
 * redacted.
 */
function withoutToken(challenge: BearerChallenge | undefined, token: StoredToken | undefined): BearerChallenge | undefined {
  if (!challenge || !token) return challenge;
  const quotes = (text: string | undefined) => text?.includes(token.accessToken) ?? false;
  const { resourceMetadata, scope, error } = challenge;
  if (!quotes(scope) && !quotes(error) && !resourceMetadata.some(quotes)) return challenge;
  return defined({
    ...challenge,
    resourceMetadata: resourceMetadata.filter((url) => !quotes(url)),
    scope: quotes(scope) ? undefined : scope,
    error: error?.split(token.accessToken).join("[redacted]"),
  });
}

/**
 * The Bearer challenge of a 401 or 403. A 401 with no readable challenge at all counts as a bare
 * Bearer one (the MCP spec's well-known fallback: many servers send no header); one that asks
 * for another scheme only (Basic, Negotiate) is not ours, and comes back `undefined`.
 */
function challengeOf(response: Response): BearerChallenge | undefined {
  const challenges = parseWwwAuthenticate(response.headers.get("www-authenticate"));
  return challenges.length === 0 && response.status === 401 ? { resourceMetadata: [] } : bearerChallenge(challenges, AUTH_SCHEMES);
}

/** A resource that wants DPoP says so with a DPoP challenge (RFC 9449 §7.1); it is read as a Bearer one is. */
const AUTH_SCHEMES = ["bearer", "dpop"];
