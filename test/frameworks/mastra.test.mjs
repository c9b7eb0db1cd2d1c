// Mastra (@mastra/mcp MCPClient) with withClientCredentials() as the HTTP server's `fetch`.
// Run by run.mjs on Node 22 (Mastra requires >= 22.13).
import assert from "node:assert/strict";
import { MCPClient } from "@mastra/mcp";
import { withClientCredentials } from "mcp-client-credentials";
import { exampleEnv, options, recordingFetch, run, runExample, stack, test, tokenRequests } from "./harness.mjs";

let clients = 0;

/** A whole session the way an agent uses it: Mastra tools (<server>_<tool>), then their execute(). */
async function session(fetch) {
  // MCPClient refuses a second instance with an identical configuration unless each has an id.
  const mcp = new MCPClient({ id: `mastra-test-${++clients}`, servers: { reports: { url: new URL(stack.mcpUrl), fetch } } });
  try {
    // listTools() logs a failed connection and answers {}: the names below are the real check.
    const tools = await mcp.listTools();
    const sum = await tools.reports_add.execute({ a: 2, b: 3 }, {});
    const whoami = await tools.reports_whoami.execute({}, {});
    return { names: Object.keys(tools).sort(), sum: sum.sum, caller: whoami.clientId };
  } finally {
    await mcp.disconnect();
  }
}

test("examples/mastra.mjs runs as written (client secret): tools, add(2, 3) = 5, one token request", async () => {
  const before = await tokenRequests(stack.secret.clientId);
  const { code, stdout, stderr } = await runExample("mastra", exampleEnv("secret"));
  assert.equal(code, 0, stderr);
  assert.equal(stdout, "tools: reports_echo, reports_add, reports_whoami\nadd(2, 3) = 5\n");
  assert.equal((await tokenRequests(stack.secret.clientId)) - before, 1);
});

test("servers.<name>.fetch = authFetch: tools, add = 5, the token names this client; a second MCPClient reuses the token", async () => {
  const { clientId } = stack.jwt;
  const before = await tokenRequests(clientId);
  const network = recordingFetch();
  const authFetch = withClientCredentials(options("jwt"))(network);

  const first = await session(authFetch);
  assert.deepEqual(first, { names: ["reports_add", "reports_echo", "reports_whoami"], sum: 5, caller: clientId });
  assert.equal((await tokenRequests(clientId)) - before, 1);

  const mark = network.calls.length;
  const second = await session(authFetch);
  assert.deepEqual(second, first);
  const later = network.calls.slice(mark);
  assert.deepEqual(
    later.filter((call) => call.status === 401 || call.url === stack.tokenEndpoint),
    [],
  );
  assert.ok(later.length > 0 && later.every((call) => call.authorized));
  assert.equal((await tokenRequests(clientId)) - before, 1);
});

test("getToken(url) before connecting takes the token flow out of connectTimeout: the connection sends no unauthorized request", async () => {
  const { clientId } = stack.secret;
  const before = await tokenRequests(clientId);
  const network = recordingFetch();
  const authFetch = withClientCredentials(options("secret"))(network);
  await authFetch.getToken(stack.mcpUrl);
  assert.equal((await tokenRequests(clientId)) - before, 1);

  const mark = network.calls.length;
  const result = await session(authFetch);
  assert.equal(result.sum, 5);
  const connection = network.calls.slice(mark);
  assert.ok(connection.length > 0 && connection.every((call) => call.authorized && call.status !== 401 && call.url !== stack.tokenEndpoint));
  assert.equal((await tokenRequests(clientId)) - before, 1);
});

await run();
