#!/usr/bin/env node
// LangChain / LangGraph: an OAuth-protected MCP server's tools for an agent, with the
// client_credentials grant (no browser, no person).
//
//   npm install @langchain/mcp-adapters @langchain/core @langchain/langgraph @modelcontextprotocol/sdk mcp-client-credentials
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot \
//   MCP_PRIVATE_KEY="$(cat key.pkcs8.pem)" node examples/langchain.mjs   # or MCP_CLIENT_SECRET=…
import { loadMcpTools } from "@langchain/mcp-adapters";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { withClientCredentials } from "mcp-client-credentials";

const { MCP_SERVER_URL, MCP_CLIENT_ID, MCP_CLIENT_SECRET, MCP_PRIVATE_KEY } = process.env;

const authFetch = withClientCredentials({
  clientId: MCP_CLIENT_ID,
  ...(MCP_PRIVATE_KEY ? { privateKey: MCP_PRIVATE_KEY } : { clientSecret: MCP_CLIENT_SECRET }),
})(fetch);

// MultiServerMCPClient takes no fetch (only an SDK 1.x authProvider, which on a 401 starts the
// authorization-code flow), so connect an MCP SDK Client with our fetch and load its tools.
const client = new Client({ name: "reports-agent", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(MCP_SERVER_URL), { fetch: authFetch }));
try {
  // LangChain tools: hand them to createReactAgent({ llm, tools }). Here we call one directly,
  // as the agent would.
  const tools = await loadMcpTools("reports", client);
  console.log("tools:", tools.map((tool) => tool.name).join(", "));

  const add = tools.find((tool) => tool.name === "add");
  const result = await add.invoke({ a: 2, b: 3 });
  console.log("add(2, 3) =", result.text);
} finally {
  await client.close();
}
