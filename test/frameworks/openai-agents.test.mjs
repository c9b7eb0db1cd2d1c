// OpenAI Agents SDK (@openai/agents MCPServerStreamableHttp) with withClientCredentials() as the
// server's `fetch`. Run by run.mjs on Node 22 (its `openai` dependency requires >= 22).
import assert from "node:assert/strict";
import { getAllMcpTools, MCPServerStreamableHttp, RunContext } from "@openai/agents";
import { withClientCredentials } from "mcp-client-credentials";
import { authProvider } from "mcp-client-credentials/adapters";
import { exampleTest, options, recordingFetch, reuseTest, run, stack, test, tokenRequests, warmUpTest } from "./harness.mjs";

/** A whole session the way an Agent uses it: function tools, then their invoke(). */
async function session(fetch, more = {}) {
  const server = new MCPServerStreamableHttp({ name: "reports", url: stack.mcpUrl, fetch, ...more });
  await server.connect();
  try {
    const tools = await getAllMcpTools([server]);
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
    const sum = await byName.add.invoke(new RunContext(), JSON.stringify({ a: 2, b: 3 }));
    const whoami = await byName.whoami.invoke(new RunContext(), "{}");
    return { names: Object.keys(byName).sort(), sum: sum.text, caller: JSON.parse(whoami.text).clientId };
  } finally {
    await server.close();
  }
}

exampleTest("openai-agents.mjs", "jwt", ["echo", "add", "whoami"]);

reuseTest("MCPServerStreamableHttp({ fetch: authFetch })", "secret", session, { names: ["add", "echo", "whoami"], sum: "5" });

warmUpTest("clientSessionTimeoutSeconds", "jwt", session, "5");

test("authProvider(authFetch, url) from mcp-client-credentials/adapters, plain fetch: add = 5; a refused token is replaced through onUnauthorized", async () => {
  const { clientId } = stack.secret;
  const before = await tokenRequests(clientId);
  const authFetch = withClientCredentials(options("secret"))(fetch);
  // The first token handed out is one the server refuses (as after a key rotation at the AS).
  const invalidated = [];
  let refused = false;
  const tokens = {
    getToken: async (url) => {
      const token = await authFetch.getToken(url);
      if (refused) return token;
      refused = true;
      return { ...token, accessToken: "refused-by-the-server" };
    },
    invalidate: async (url, rejected) => {
      invalidated.push(rejected);
      await authFetch.invalidate(url, rejected);
    },
  };
  const plain = recordingFetch();
  const result = await session(plain, { authProvider: authProvider(tokens, stack.mcpUrl) });
  assert.deepEqual(result, { names: ["add", "echo", "whoami"], sum: "5", caller: clientId });
  assert.deepEqual(invalidated, ["refused-by-the-server"]);
  const mcpCalls = plain.calls.filter((call) => call.url === stack.mcpUrl);
  assert.equal(mcpCalls.filter((call) => call.status === 401).length, 1);
  assert.ok(mcpCalls.every((call) => call.authorized));
  // The refused token was not the cached one: no second token request.
  assert.equal((await tokenRequests(clientId)) - before, 1);
});

await run();
