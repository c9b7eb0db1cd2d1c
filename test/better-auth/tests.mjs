// The better-auth suite: each test registers its own client at better-auth and talks to the MCP
// server through the built package (dist/), discovering everything from the server's 401.
// `secret(value)` registers a value the runner must never print, even in a failure message.
import assert from "node:assert/strict";
import { Client as ClientV2, StreamableHTTPClientTransport as StreamableHTTPClientTransportV2 } from "@modelcontextprotocol/client";
import { authProvider } from "../../dist/adapters.js";
import { ClientCredentialsError, withClientCredentials } from "../../dist/index.js";
import { start as startResourceServer } from "../e2e/servers/resource-server.mjs";
import { BASE_PATH, SCOPE, start as startAuthorizationServer } from "./authorization-server.mjs";
import { rejection, sessionWith, tokenRequestsOf, withOwnServers } from "./helpers.mjs";

export const tests = [
  {
    name: "client_secret_basic: whole MCP session, one token request, the MCP server saw the client id",
    run: ({ stack, secret }) => sessionWith(stack, secret, "client_secret_basic"),
  },
  {
    name: "client_secret_post (authMethod forced): whole MCP session, one token request",
    run: ({ stack, secret }) => sessionWith(stack, secret, "client_secret_post", { authMethod: "client_secret_post" }),
  },
  {
    name: "private_key_jwt (ES256, public JWK registered with the client): session; a second token needs, and gets, a fresh assertion",
    async run({ stack, secret }) {
      const assertions = [];
      const recording = (input, init) => {
        const assertion =
          init?.body instanceof URLSearchParams ? init.body.get("client_assertion") : new URLSearchParams(String(init?.body ?? "")).get("client_assertion");
        if (assertion) assertions.push(secret(assertion));
        return fetch(input, init);
      };
      const { credentials, authFetch } = await sessionWith(stack, secret, "private_key_jwt", {}, recording);
      await authFetch.clearTokens();
      secret((await authFetch.getToken(stack.mcp.url)).accessToken);
      assert.deepEqual(
        tokenRequestsOf(stack, credentials.clientId).map((request) => [request.authMethod, request.status]),
        [
          ["private_key_jwt", 200],
          ["private_key_jwt", 200],
        ],
      );
      assert.equal(assertions.length, 2);
      assert.notEqual(assertions[0], assertions[1]);
      // better-auth refuses a replayed assertion (jti already used): what a reused one would have met.
      const replay = await fetch(`${stack.as.baseURL}/oauth2/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
          client_assertion: assertions[1],
          resource: stack.mcp.url,
        }),
      });
      assert.equal(replay.status, 400);
      assert.equal((await replay.json()).error, "invalid_client");
    },
  },
  {
    name: "private_key_jwt with assertionAudience: token_endpoint (older servers' aud) is accepted too",
    run: ({ stack, secret }) => sessionWith(stack, secret, "private_key_jwt", { assertionAudience: "token_endpoint" }),
  },
  {
    name: "MCP SDK v2 Client with authProvider(authFetch, url) and a plain fetch: whole session, one token request; onUnauthorized() → new token",
    async run({ stack, secret }) {
      const credentials = await stack.client("client_secret_basic");
      secret(credentials.clientSecret);
      const authFetch = withClientCredentials(credentials)(fetch);
      const provider = authProvider(authFetch, stack.mcp.url);
      const client = new ClientV2({ name: "better-auth-e2e-v2", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransportV2(new URL(stack.mcp.url), { authProvider: provider, fetch }));
      try {
        const whoami = await client.callTool({ name: "whoami", arguments: {} });
        assert.equal(whoami.structuredContent?.clientId, credentials.clientId);
        const sum = await client.callTool({ name: "add", arguments: { a: 20, b: 22 } });
        assert.equal(sum.structuredContent?.sum, 42);
      } finally {
        await client.close();
      }
      assert.deepEqual(
        tokenRequestsOf(stack, credentials.clientId).map((request) => [request.authMethod, request.status]),
        [["client_secret_basic", 200]],
      );

      // What the transport does after a 401: onUnauthorized() drops the token it handed out, so the next token() is new.
      const first = secret(await provider.token());
      await authFetch.invalidate(stack.mcp.url, "some-other-token");
      assert.ok((await provider.token()) === first, "invalidate() with another token keeps the cached one");
      await provider.onUnauthorized({ serverUrl: new URL(stack.mcp.url) });
      const second = secret(await provider.token());
      assert.ok(typeof second === "string" && second !== first, "a new token after onUnauthorized()");
      assert.equal(tokenRequestsOf(stack, credentials.clientId).length, 2);
    },
  },
  {
    name: "20 concurrent initialize requests on a cold cache: one discovery, one token request, 20 sessions",
    async run({ stack, secret }) {
      const credentials = await stack.client("client_secret_basic");
      secret(credentials.clientSecret);
      const events = [];
      const authFetch = withClientCredentials({ ...credentials, onEvent: (event) => events.push(event) })(fetch);
      const initialize = (id) =>
        authFetch(stack.mcp.url, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id,
            method: "initialize",
            params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "better-auth-e2e", version: "1.0.0" } },
          }),
        });
      const responses = await Promise.all(Array.from({ length: 20 }, (_, id) => initialize(id)));
      const bodies = await Promise.all(responses.map((response) => response.text()));
      assert.deepEqual(
        responses.map((response) => response.status),
        Array(20).fill(200),
      );
      const sessionIds = new Set(responses.map((response) => response.headers.get("mcp-session-id")));
      assert.equal(sessionIds.size, 20, "each initialize opened its own session");
      assert.ok(
        bodies.every((body) => body.includes('"e2e-protected-mcp-server"')),
        "every answer is the server's initialize result",
      );
      assert.equal(tokenRequestsOf(stack, credentials.clientId).length, 1, "one token request for 20 concurrent calls");
      assert.equal(events.filter((event) => event.type === "discovery" && event.kind === "authorization-server-metadata").length, 1);
    },
  },
  {
    name: "wrong client secret: ClientCredentialsError phase token, code invalid_client, no secret in message or JSON",
    async run({ stack, secret }) {
      const credentials = await stack.client("client_secret_basic");
      const wrong = `wrong-${crypto.randomUUID()}`;
      secret(credentials.clientSecret);
      secret(wrong);
      const mark = stack.mcp.requests.length;
      const authFetch = withClientCredentials({ clientId: credentials.clientId, clientSecret: wrong })(fetch);
      const error = await rejection(authFetch(stack.mcp.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }));
      assert.ok(error instanceof ClientCredentialsError, `a ClientCredentialsError, not ${error?.name}`);
      assert.equal(error.phase, "token");
      assert.equal(error.code, "invalid_client");
      const shown = `${error.message} ${JSON.stringify(error)} ${String(error.description)}`;
      assert.ok(!shown.includes(wrong) && !shown.includes(credentials.clientSecret), "the secret appears in the error");
      const requests = tokenRequestsOf(stack, credentials.clientId);
      assert.deepEqual(
        requests.map((request) => [request.authMethod, request.status, request.error]),
        [["client_secret_basic", 401, "invalid_client"]],
      );
      assert.ok(
        stack.mcp.requests.slice(mark).every((request) => !request.authorized),
        "no token reached the MCP server",
      );
    },
  },
  {
    name: "grantTypes without client_credentials: the token request is tried once, refused, and the error quotes the metadata's list",
    async run({ secret }) {
      const as = await startAuthorizationServer({ grantTypes: ["authorization_code", "refresh_token"] });
      const resource = await startResourceServer({ issuer: as.issuer, jwksUri: `${as.baseURL}/jwks`, scopesSupported: [SCOPE] });
      try {
        // Such a better-auth refuses to register a client_credentials client at all, and refuses the grant before
        // authenticating the client: an unregistered client shows what a user meets.
        const credentials = { clientId: `unregistered-${crypto.randomUUID()}`, clientSecret: secret(crypto.randomUUID()) };
        const error = await rejection(withClientCredentials(credentials)(fetch)(`${resource.origin}/mcp`));
        assert.ok(error instanceof ClientCredentialsError, `a ClientCredentialsError, not ${error?.name}`);
        assert.equal(error.phase, "token");
        assert.equal(error.code, "unsupported_grant_type");
        assert.ok(error.message.includes('grant_types_supported ["authorization_code","refresh_token"]'), error.message);
        assert.deepEqual(
          as.tokenRequests.map((request) => [request.grantType, request.status, request.error]),
          [["client_credentials", 400, "unsupported_grant_type"]],
        );
      } finally {
        await resource.close();
        await as.close();
      }
    },
  },
  {
    name: "basePath, RFC 8414 metadata not mounted, OAuth-only scopes: authorization_server_metadata_not_found naming the 3 URLs tried",
    async run({ secret }) {
      const error = await rejection(
        withOwnServers(secret, { mountMetadata: false }, async ({ url, credentials }) => withClientCredentials(credentials)(fetch)(url)),
      );
      assert.ok(error instanceof ClientCredentialsError, `a ClientCredentialsError, not ${error?.name}`);
      assert.equal(error.phase, "discovery");
      assert.equal(error.code, "authorization_server_metadata_not_found");
      for (const tried of [
        `/.well-known/oauth-authorization-server${BASE_PATH}`,
        `/.well-known/openid-configuration${BASE_PATH}`,
        `${BASE_PATH}/.well-known/openid-configuration`,
      ]) {
        assert.ok(error.message.includes(`${tried} → 404`), error.message);
      }
    },
  },
  {
    name: 'basePath, RFC 8414 metadata not mounted, "openid" in scopes: found at {basePath}/.well-known/openid-configuration, call answered 200',
    async run({ secret }) {
      await withOwnServers(secret, { mountMetadata: false, scopes: ["openid", SCOPE] }, async ({ as, url, credentials }) => {
        const response = await withClientCredentials(credentials)(fetch)(url);
        assert.equal(response.status, 200);
        assert.equal((await response.json()).client_id, credentials.clientId);
        assert.deepEqual(
          as.tokenRequests.map((request) => [request.authMethod, request.status]),
          [["client_secret_basic", 200]],
        );
      });
    },
  },
  {
    name: "basePath misconfiguration: PRM names the origin, better-auth's issuer is origin + basePath → issuer_mismatch naming both",
    // The metadata is mounted at the root well-known URL, so the client finds it; its issuer still says /api/auth.
    run: ({ secret }) => misconfigured(secret, { rootMetadata: true }, (as) => as.origin),
  },
  {
    name: "basePath misconfiguration: jwt({ jwt: { issuer: origin } }) while PRM names origin + basePath → issuer_mismatch naming both",
    run: ({ secret }) => misconfigured(secret, { issuer: (origin) => origin }, (as) => as.baseURL),
  },
];

/** A better-auth whose issuer disagrees with what the resource's PRM names: refused before any token request. */
function misconfigured(secret, asOptions, prmIssuer) {
  return withOwnServers(
    secret,
    asOptions,
    async ({ as, url, credentials }) => {
      const metadataIssuer = as.issuer;
      assert.notEqual(metadataIssuer, prmIssuer(as));
      const error = await rejection(withClientCredentials(credentials)(fetch)(url));
      assert.ok(error instanceof ClientCredentialsError, `a ClientCredentialsError, not ${error?.name}`);
      assert.equal(error.phase, "discovery");
      assert.equal(error.code, "issuer_mismatch");
      // Both issuers, exactly, so the reader sees which two differ (one may be a prefix of the other).
      assert.ok(error.message.includes(`"${metadataIssuer}"`), `the metadata's issuer is named: ${error.message}`);
      assert.ok(error.message.replace(`"${metadataIssuer}"`, "").includes(prmIssuer(as)), `the expected issuer is named: ${error.message}`);
      assert.equal(as.tokenRequests.length, 0, "no token request to a server whose issuer did not match");
    },
    prmIssuer,
  );
}
