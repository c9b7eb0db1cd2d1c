// The contenders of the side-by-side benchmarks: each builds an authenticated `fetch` from
// { resourceUrl, issuer, tokenEndpoint, clientId, clientSecret } (and an optional `next` fetch
// and `refreshSkewSeconds`). Every contender starts empty: one call of `make` = one fresh
// client instance with nothing cached.
import { statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { ClientCredentialsProvider as ClientCredentialsProviderV2, withOAuth as withOAuthV2 } from "@modelcontextprotocol/client";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { withOAuth } from "@modelcontextprotocol/sdk/client/middleware.js";
import * as oauth from "oauth4webapi";

/** dist/ is rebuilt by others now and then: retry a failed import for up to a minute. */
async function loadOurs() {
  const url = new URL("../../dist/index.js", import.meta.url).href;
  for (let attempt = 0; ; attempt++) {
    try {
      return await import(`${url}?attempt=${attempt}`);
    } catch (error) {
      if (attempt >= 30) throw error;
      console.error(`dist/index.js not loadable (${error.code ?? error.message}); retrying in 2 s`);
      await sleep(2000);
    }
  }
}
const { memoryStore, withClientCredentials } = await loadOurs();
/** When dist/index.js was built: others rebuild it, so every table says which build it measured. */
export const oursBuild = `ours: dist/index.js of ${statSync(new URL("../../dist/index.js", import.meta.url))
  .mtime.toISOString()
  .slice(0, 19)
  .replace("T", " ")} UTC`;

export { memoryStore, withClientCredentials };

/**
 * @typedef {object} Target
 * @property {string} resourceUrl
 * @property {string} issuer
 * @property {string} tokenEndpoint
 * @property {string} clientId
 * @property {string} clientSecret
 * @property {typeof fetch} [next] the fetch underneath (default: global fetch)
 * @property {number} [refreshSkewSeconds] for ours and the oauth4webapi client (default 60)
 */

/**
 * The oauth4webapi contender: a small client written by hand around the toolkit.
 * oauth4webapi does discovery documents, client authentication, the token request and
 * response validation; the bench code does the rest: RFC 9728 discovery from the resource
 * URL (resourceDiscoveryRequest: no 401 probe, it knows where it is going), the token cache
 * (expiry minus min(refreshSkewSeconds, half the lifetime), refreshed on the request path),
 * single-flight of discovery and token requests, the Authorization header, and one retry
 * with a fresh token on a 401.
 * @param {Target} target
 */
export function oauth4webapiFetch({ resourceUrl, clientId, clientSecret, next = fetch, refreshSkewSeconds = 60 }) {
  const options = { [oauth.allowInsecureRequests]: true, [oauth.customFetch]: (url, init) => next(url, init) };
  const client = { client_id: clientId };
  const clientAuth = oauth.ClientSecretBasic(clientSecret);
  /** @type {Promise<{ as: oauth.AuthorizationServer, resource: string }> | undefined} */
  let discovery;
  /** @type {{ value: string, refreshAt: number } | undefined} */
  let token;
  /** @type {Promise<{ value: string, refreshAt: number }> | undefined} */
  let pending;

  const discover = () => {
    discovery ??= (async () => {
      const resourceIdentifier = new URL(resourceUrl);
      const rs = await oauth.processResourceDiscoveryResponse(resourceIdentifier, await oauth.resourceDiscoveryRequest(resourceIdentifier, options));
      const issuer = new URL(rs.authorization_servers?.[0] ?? "");
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options, algorithm: "oauth2" }));
      return { as, resource: rs.resource };
    })().catch((error) => {
      discovery = undefined;
      throw error;
    });
    return discovery;
  };
  const requestToken = () => {
    pending ??= (async () => {
      const { as, resource } = await discover();
      const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, { resource }, options);
      const result = await oauth.processClientCredentialsResponse(as, client, response);
      const lifetime = (result.expires_in ?? 3600) * 1000;
      token = { value: result.access_token, refreshAt: Date.now() + lifetime - Math.min(refreshSkewSeconds * 1000, lifetime / 2) };
      return token;
    })().finally(() => {
      pending = undefined;
    });
    return pending;
  };
  const current = () => (token && Date.now() < token.refreshAt ? token : requestToken());

  return async (input, init) => {
    const send = (t) => {
      const headers = new Headers(init?.headers);
      headers.set("authorization", `Bearer ${t.value}`);
      return next(input, { ...init, headers });
    };
    const used = await current();
    const response = await send(used);
    if (response.status !== 401) return response;
    await response.body?.cancel();
    if (token === used) token = undefined;
    return send(await current());
  };
}

/**
 * The contenders, in table order. `make(target)` returns a fresh authenticated fetch.
 * The MCP SDKs get `expectedIssuer` (SEP-2352; omitting it is deprecated and logs a warning on
 * every construction) and `baseUrl` = the MCP server URL, as their docs ask for transports.
 */
export const contenders = [
  {
    name: "ours, discovery",
    make: ({ clientId, clientSecret, next = fetch, refreshSkewSeconds }) =>
      withClientCredentials({ clientId, clientSecret, ...(refreshSkewSeconds === undefined ? {} : { refreshSkewSeconds }) })(next),
  },
  {
    name: "ours, static config",
    make: ({ resourceUrl, issuer, tokenEndpoint, clientId, clientSecret, next = fetch, refreshSkewSeconds }) =>
      withClientCredentials({
        clientId,
        clientSecret,
        resource: resourceUrl,
        issuer,
        tokenEndpoint,
        ...(refreshSkewSeconds === undefined ? {} : { refreshSkewSeconds }),
      })(next),
  },
  {
    name: "MCP SDK 1.32.2",
    make: ({ resourceUrl, issuer, clientId, clientSecret, next = fetch }) =>
      withOAuth(new ClientCredentialsProvider({ clientId, clientSecret, expectedIssuer: issuer }), resourceUrl)(next),
  },
  {
    name: "MCP SDK v2 2.4.0",
    make: ({ resourceUrl, issuer, clientId, clientSecret, next = fetch }) =>
      withOAuthV2(new ClientCredentialsProviderV2({ clientId, clientSecret, expectedIssuer: issuer }), resourceUrl)(next),
  },
  { name: "oauth4webapi 3.8.8 + hand-written client¹", make: oauth4webapiFetch },
];

export const OAUTH4WEBAPI_FOOTNOTE =
  "¹ oauth4webapi is a toolkit, not a middleware. It provides resourceDiscoveryRequest/processResourceDiscoveryResponse (RFC 9728), " +
  "discoveryRequest/processDiscoveryResponse (RFC 8414), ClientSecretBasic, clientCredentialsGrantRequest/processClientCredentialsResponse. " +
  "Written by hand in bench/lib/clients.mjs (about 50 lines): discovery from the resource URL's well-known location (it does not probe " +
  "for the 401), the token cache with expiry minus min(refreshSkewSeconds, half the lifetime), refresh on the request path, single-flight " +
  "of discovery and token requests, the Authorization header, one retry with a new token on a 401. No background refresh, no " +
  "WWW-Authenticate parsing, no scope step-up, no retries/timeouts of its own.";

/** A JSON-RPC POST body, as a string (replayable by every contender). */
export const rpcBody = (id = 1) => JSON.stringify({ jsonrpc: "2.0", id, method: "tools/list" });
export const rpcInit = (id) => ({
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
  body: rpcBody(id),
});
