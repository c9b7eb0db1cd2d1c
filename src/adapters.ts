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
  // The token handed out last (the one a 401 most likely refused), and to how many requests.
  let last: string | undefined;
  let uses = 0;
  // A 401 does not say which token it refused. After this provider drops a token, a 401 from
  // a request still in flight with it is not news: the replacement stays. Such 401s come at
  // most once per request that took the dropped token, and only while requests can be in flight.
  let dropped: { token: string; at: number; inFlight: number } | undefined;
  return {
    async token() {
      const { accessToken } = await authFetch.getToken(resourceUrl);
      uses = accessToken === last ? uses + 1 : 1;
      last = accessToken;
      return accessToken;
    },
    async onUnauthorized() {
      const now = Date.now();
      if (dropped && last !== dropped.token && dropped.inFlight > 0 && now - dropped.at < IN_FLIGHT_MS) {
        dropped.inFlight--;
        return;
      }
      if (last !== undefined) dropped = { token: last, at: now, inFlight: uses - 1 };
      await authFetch.invalidate(resourceUrl, last);
    },
  };
}

/** How long a request sent with a dropped token may still answer: the MCP SDK's default request timeout. */
const IN_FLIGHT_MS = 60_000;
