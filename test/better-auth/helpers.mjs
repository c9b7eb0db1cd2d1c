// Helpers of the better-auth suite (tests.mjs): an MCP session through a fetch, what the servers
// saw of it, and a better-auth of a test's own. `secret(value)` registers a value never to print.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { withClientCredentials } from "../../dist/index.js";
import { start as startResourceServer } from "../e2e/servers/resource-server.mjs";
import { SCOPE, start as startAuthorizationServer } from "./authorization-server.mjs";

/** initialize, tools/list, tools/call (add, whoami) through `fetch`: a whole MCP session. */
export async function session(fetch, url) {
  const client = new Client({ name: "better-auth-e2e", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch }));
  try {
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
    const whoami = await client.callTool({ name: "whoami", arguments: {} });
    return { tools, sum: sum.structuredContent?.sum, who: whoami.structuredContent, server: client.getServerVersion()?.name };
  } finally {
    await client.close();
  }
}

/** The token requests better-auth received from this client. */
export const tokenRequestsOf = (stack, clientId) => stack.as.tokenRequests.filter((request) => request.clientId === clientId);

/** One client, one whole session, and what the AS and the MCP server saw of it. */
export async function sessionWith(stack, secret, method, extra = {}, next = fetch) {
  const credentials = await stack.client(method);
  secret(credentials.clientSecret);
  secret(credentials.privateKey?.d);
  const mark = stack.mcp.requests.length;
  const authFetch = withClientCredentials({ ...credentials, ...extra })(next);
  const result = await session(authFetch, stack.mcp.url);

  assert.equal(result.server, "e2e-protected-mcp-server");
  assert.deepEqual(result.tools.sort(), ["add", "echo", "whoami"]);
  assert.equal(result.sum, 5);
  // whoami reads the claims of the token the MCP server verified: it came from better-auth, for this client and resource.
  assert.equal(result.who.clientId, credentials.clientId);
  assert.deepEqual(result.who.scopes, [SCOPE]);
  assert.equal(result.who.resource, stack.mcp.url);
  const seen = stack.mcp.requests.slice(mark).filter((request) => request.path === "/mcp");
  assert.equal(seen[0].status, 401, "the first request goes out without a token and is challenged");
  assert.ok(
    seen.slice(1).every((request) => request.authorized && request.status < 300),
    "every request after the 401 carried an accepted token",
  );

  const tokenRequests = tokenRequestsOf(stack, credentials.clientId);
  assert.equal(tokenRequests.length, 1, "one token request for the whole session");
  assert.deepEqual(tokenRequests[0], {
    authMethod: method,
    clientId: credentials.clientId,
    grantType: "client_credentials",
    resource: stack.mcp.url,
    scope: SCOPE,
    status: 200,
    error: undefined,
    errorDescription: undefined,
  });
  return { credentials, authFetch };
}

/** The error a promise rejects with (assert.rejects would print the secret-bearing value on mismatch). */
export async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

/**
 * Its own better-auth (configured by `asOptions`) and a small resource server whose PRM names `prmIssuer`
 * (default: better-auth's issuer), with one registered client_secret_basic client; closes both after `body`.
 */
export async function withOwnServers(secret, asOptions, body, prmIssuer = (as) => as.issuer) {
  const as = await startAuthorizationServer(asOptions);
  const resource = await startResourceServer({ issuer: prmIssuer(as), jwksUri: `${as.baseURL}/jwks`, scopesSupported: [SCOPE] });
  try {
    const url = `${resource.origin}/mcp`;
    await as.addResource(url);
    const credentials = await as.registerClient({ method: "client_secret_basic", resource: url });
    secret(credentials.clientSecret);
    return await body({ as, url, credentials });
  } finally {
    await resource.close();
    await as.close();
  }
}
