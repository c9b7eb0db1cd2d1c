#!/usr/bin/env node
// Call an OAuth-protected MCP server from a backend job with the MCP TypeScript SDK v2
// (@modelcontextprotocol/client), speaking protocol 2026-07-28 when the server does.
//
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot \
//   MCP_PRIVATE_KEY="$(cat key.pkcs8.pem)" node examples/mcp-sdk-v2-client.mjs
//
//   (or MCP_CLIENT_SECRET=… instead of MCP_PRIVATE_KEY)
//
// Everything else (authorization server, token endpoint, client authentication method,
// resource indicator, scopes) is discovered from the server's 401.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { withClientCredentials } from "mcp-client-credentials";

const { MCP_SERVER_URL, MCP_CLIENT_ID, MCP_CLIENT_SECRET, MCP_PRIVATE_KEY } = process.env;

const authFetch = withClientCredentials({
  clientId: MCP_CLIENT_ID,
  ...(MCP_PRIVATE_KEY ? { privateKey: MCP_PRIVATE_KEY } : { clientSecret: MCP_CLIENT_SECRET }),
})(fetch);

// "auto": 2026-07-28 with servers that offer it, the 2025 handshake with the others.
const client = new Client({ name: "nightly-report", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
await client.connect(new StreamableHTTPClientTransport(new URL(MCP_SERVER_URL), { fetch: authFetch }));
console.log("protocol:", client.getNegotiatedProtocolVersion());

const { tools } = await client.listTools();
console.log("tools:", tools.map((tool) => tool.name).join(", "));

const result = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
console.log("add(2, 3) =", result.content[0].text);

await client.close();
