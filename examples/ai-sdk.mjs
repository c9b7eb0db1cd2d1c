#!/usr/bin/env node
// Vercel AI SDK: an OAuth-protected MCP server's tools for generateText/streamText, with the
// client_credentials grant (no browser, no person).
//
//   npm install @ai-sdk/mcp mcp-client-credentials
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot \
//   MCP_PRIVATE_KEY="$(cat key.pkcs8.pem)" node examples/ai-sdk.mjs   # or MCP_CLIENT_SECRET=…
import { createMCPClient } from "@ai-sdk/mcp";
import { withClientCredentials } from "mcp-client-credentials";

const { MCP_SERVER_URL, MCP_CLIENT_ID, MCP_CLIENT_SECRET, MCP_PRIVATE_KEY } = process.env;

const authFetch = withClientCredentials({
  clientId: MCP_CLIENT_ID,
  ...(MCP_PRIVATE_KEY ? { privateKey: MCP_PRIVATE_KEY } : { clientSecret: MCP_CLIENT_SECRET }),
})(fetch);

// The transport's `fetch` option. Not `authProvider`: that one is for the authorization-code
// flow and, on a 401, would start a browser redirect.
const mcp = await createMCPClient({ transport: { type: "http", url: MCP_SERVER_URL, fetch: authFetch } });
try {
  // AI SDK tools: hand them to generateText({ model, tools, prompt }). Here we call one directly,
  // as the model would.
  const tools = await mcp.tools();
  console.log("tools:", Object.keys(tools).join(", "));

  const result = await tools.add.execute({ a: 2, b: 3 }, { toolCallId: "example", messages: [] });
  console.log("add(2, 3) =", result.content[0].text);
} finally {
  await mcp.close();
}
