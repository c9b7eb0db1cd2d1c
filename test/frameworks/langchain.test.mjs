// LangChain: @langchain/mcp-adapters loadMcpTools() over an MCP SDK Client whose
// StreamableHTTPClientTransport gets withClientCredentials() as `fetch` (MultiServerMCPClient
// takes no fetch, only an SDK 1.x authProvider). Run by run.mjs on the runner's Node (20).
import { loadMcpTools } from "@langchain/mcp-adapters";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { exampleTest, reuseTest, run, stack } from "./harness.mjs";

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

exampleTest("langchain.mjs", "secret", ["echo", "add", "whoami"]);

reuseTest("loadMcpTools(SDK Client with { fetch: authFetch })", "jwt", session, { names: ["add", "echo", "whoami"], sum: "5" });

await run();
