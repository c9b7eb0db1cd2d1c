#!/usr/bin/env node
// OpenAI Agents SDK: an OAuth-protected MCP server for an Agent, with the client_credentials
// grant (no browser, no person).
//
//   npm install @openai/agents mcp-client-credentials
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot \
//   MCP_PRIVATE_KEY="$(cat key.pkcs8.pem)" node examples/openai-agents.mjs   # or MCP_CLIENT_SECRET=…
import { getAllMcpTools, MCPServerStreamableHttp, RunContext } from "@openai/agents";
import { withClientCredentials } from "mcp-client-credentials";

const { MCP_SERVER_URL, MCP_CLIENT_ID, MCP_CLIENT_SECRET, MCP_PRIVATE_KEY } = process.env;

const authFetch = withClientCredentials({
  clientId: MCP_CLIENT_ID,
  ...(MCP_PRIVATE_KEY ? { privateKey: MCP_PRIVATE_KEY } : { clientSecret: MCP_CLIENT_SECRET }),
})(fetch);

// Get the token before connecting: the Agents SDK gives connect() 5 s
// (clientSessionTimeoutSeconds), and the first token (401, discovery, token request) would
// otherwise count against it.
await authFetch.getToken(MCP_SERVER_URL);

const server = new MCPServerStreamableHttp({ name: "reports", url: MCP_SERVER_URL, fetch: authFetch });
await server.connect();
try {
  // Function tools, as an Agent({ mcpServers: [server] }) sees them. Here we call one directly,
  // as the model would.
  const tools = await getAllMcpTools([server]);
  console.log("tools:", tools.map((tool) => tool.name).join(", "));

  const add = tools.find((tool) => tool.name === "add");
  const result = await add.invoke(new RunContext(), JSON.stringify({ a: 2, b: 3 }));
  console.log("add(2, 3) =", result.text);
} finally {
  await server.close();
}
