import { isClientCredentialsError } from "./errors.js";
import type { AuthenticatedFetch } from "./fetch.js";

/**
 * What a transport passes to {@link AuthProvider.onUnauthorized}: the MCP TypeScript SDK v2 gives
 * the 401 response, the server URL and its own fetch. Nothing here needs them; they are typed so a
 * provider can be wrapped by code that does.
 */
export interface UnauthorizedContext {
  response?: Response;
  serverUrl?: URL;
}

/**
 * The MCP TypeScript SDK v2 `AuthProvider` (`@modelcontextprotocol/client` 2.x), structurally: a
 * transport calls `token()` before every request and `onUnauthorized()` after a 401, then retries
 * once. SDK 1.x has no such shape; there, pass `fetch: authFetch` to the transport instead.
 */
export interface AuthProvider {
  /** The bearer token for the next request. */
  token(): Promise<string | undefined>;
  /** Forgets the token the server just refused, so the next `token()` asks for a new one. */
  onUnauthorized(context?: UnauthorizedContext): Promise<void>;
}

/**
 * The tokens of an `authFetch` for one MCP server, as an SDK v2 `AuthProvider`: for libraries
 * that keep an auth provider but not a fetch (Cloudflare `agents` restores its MCP connections
 * with the provider only). Give the transport a plain fetch then: the provider sets the header.
 *
 * Not offered in the SDK 1.x `OAuthClientProvider` shape on purpose: on a 401 those libraries
 * run their own authorization-code flow, which cannot work without a person.
 *
 * @param authFetch the result of `withClientCredentials(options)(fetch)`; its cache, store and
 *   single-flight serve the provider, so many providers and plain calls share one token.
 * @param resourceUrl the MCP server's URL (the one the transport connects to).
 * @example
 * const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: authProvider(authFetch, url) });
 */
export function authProvider(authFetch: AuthenticatedFetch, resourceUrl: string | URL): AuthProvider {
  // A 401 does not say which token it refused. Tokens this provider handed out lately, and to
  // how many requests: a 401 is blamed on an older one while any of its requests may still be
  // answering, else on the latest (which is then dropped).
  const recent = new Map<string, { requests: number; at: number }>();
  let last: string | undefined;
  // The last 401's challenge, for the next token(): discovery may need its resource_metadata.
  let challenge: string | undefined;

  const forget = (now: number) => {
    for (const [token, { at }] of recent) if (now - at >= IN_FLIGHT_MS) recent.delete(token);
  };

  return {
    async token() {
      const wwwAuthenticate = challenge;
      challenge = undefined;
      let accessToken: string;
      try {
        ({ accessToken } = await authFetch.getToken(resourceUrl, { wwwAuthenticate }));
      } catch (error) {
        // Metadata named only in a 401's challenge: go without a token once, to be shown it.
        if (!wwwAuthenticate && isClientCredentialsError(error) && error.code === "resource_metadata_not_found") return undefined;
        throw error;
      }
      const now = Date.now();
      forget(now);
      const seen = recent.get(accessToken);
      recent.set(accessToken, { requests: (seen?.requests ?? 0) + 1, at: now });
      last = accessToken;
      return accessToken;
    },
    async onUnauthorized(context) {
      challenge = context?.response?.headers.get("www-authenticate") ?? undefined;
      forget(Date.now());
      let blamed = last;
      for (const [token, { requests }] of recent) if (token !== last && requests > 0) blamed = token;
      if (blamed === undefined) return; // nothing handed out: token() goes on from the challenge
      const entry = recent.get(blamed);
      if (entry) entry.requests--;
      // For an older token this is usually a no-op: the cache has already moved past it.
      await authFetch.invalidate(resourceUrl, blamed);
    },
  };
}

/**
 * How long after a token was last handed out a 401 may still be for it. A server refuses a token
 * before doing any work, so the answer comes within a round trip of the request.
 */
const IN_FLIGHT_MS = 5_000;
