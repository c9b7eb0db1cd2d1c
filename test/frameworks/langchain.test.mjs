// LangChain: @langchain/mcp-adapters loadMcpTools() over an MCP SDK Client whose
// StreamableHTTPClientTransport gets withClientCredentials() as `fetch` (MultiServerMCPClient
// takes no fetch, only an SDK 1.x authProvider). Run by run.mjs on the runner's Node (20).
import assert from "node:assert/strict";
import { loadMcpTools } from "@langchain/mcp-adapters";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { withClientCredentials } from "mcp-client-credentials";
import { exampleEnv, options, recordingFetch, run, runExample, stack, test, tokenRequests } from "./harness.mjs";

/** A whole session the way an agent uses it: LangChain tools, then their invoke(). */
async function session(fetch) {
  const client = new Client({ name: "langchain-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { fetch }));
  try {
    const tools = await loadMcpTools("reports", client);
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
    const sum = await byName.add.invoke({ a: 2, b: 3 });
    const whoami = await byName.whoami.invoke({});
    return { names: Object.keys(byName).sort(), sum: sum.text, caller: JSON.parse(whoami.text).clientId };
  } finally {
    await client.close();
  }
}

test("examples/langchain.mjs runs as written (client secret): tools, add(2, 3) = 5, one token request", async () => {
  const before = await tokenRequests(stack.secret.clientId);
  const { code, stdout, stderr } = await runExample("langchain", exampleEnv("secret"));
  assert.equal(code, 0, stderr);
  assert.equal(stdout, "tools: echo, add, whoami\nadd(2, 3) = 5\n");
  assert.equal((await tokenRequests(stack.secret.clientId)) - before, 1);
});

test("loadMcpTools(SDK Client with { fetch: authFetch }): tools, add = 5, the token names this client; a second client reuses the token", async () => {
  const { clientId } = stack.jwt;
  const before = await tokenRequests(clientId);
  const network = recordingFetch();
  const authFetch = withClientCredentials(options("jwt"))(network);

  const first = await session(authFetch);
  assert.deepEqual(first, { names: ["add", "echo", "whoami"], sum: "5", caller: clientId });
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

await run();
