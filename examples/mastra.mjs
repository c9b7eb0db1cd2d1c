#!/usr/bin/env node
// Mastra: an OAuth-protected MCP server's tools for a Mastra Agent, with the client_credentials
// grant (no browser, no person).
//
//   npm install @mastra/core @mastra/mcp mcp-client-credentials
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot \
//   MCP_PRIVATE_KEY="$(cat key.pkcs8.pem)" node examples/mastra.mjs   # or MCP_CLIENT_SECRET=…
import { MCPClient } from "@mastra/mcp";
import { withClientCredentials } from "mcp-client-credentials";

const { MCP_SERVER_URL, MCP_CLIENT_ID, MCP_CLIENT_SECRET, MCP_PRIVATE_KEY } = process.env;

const authFetch = withClientCredentials({
  clientId: MCP_CLIENT_ID,
  ...(MCP_PRIVATE_KEY ? { privateKey: MCP_PRIVATE_KEY } : { clientSecret: MCP_CLIENT_SECRET }),
})(fetch);

// Get the token before connecting: Mastra gives the connection 3 s (connectTimeout), and the
// first token (401, discovery, token request) would otherwise count against it; after a timed-out
// connection listTools() logs the error and answers {}.
await authFetch.getToken(MCP_SERVER_URL);

const mcp = new MCPClient({ servers: { reports: { url: new URL(MCP_SERVER_URL), fetch: authFetch } } });
try {
  // Mastra tools, named <server>_<tool>: hand them to new Agent({ tools }). Here we call one
  // directly, as the agent would.
  const tools = await mcp.listTools();
  console.log("tools:", Object.keys(tools).join(", "));

  const result = await tools.reports_add.execute({ a: 2, b: 3 }, {});
  console.log("add(2, 3) =", result.sum);
} finally {
  await mcp.disconnect();
}
