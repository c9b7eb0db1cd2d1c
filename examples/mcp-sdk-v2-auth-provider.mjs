#!/usr/bin/env node
// MCP SDK v2 with an AuthProvider instead of a fetch: for libraries that keep an auth provider
// but not a fetch (Cloudflare `agents` restores MCP connections with their auth provider only).
//
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot MCP_CLIENT_SECRET=… node examples/mcp-sdk-v2-auth-provider.mjs
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { withClientCredentials } from "mcp-client-credentials";
import { authProvider } from "mcp-client-credentials/adapters";

const { MCP_SERVER_URL, MCP_CLIENT_ID, MCP_CLIENT_SECRET } = process.env;

const authFetch = withClientCredentials({ clientId: MCP_CLIENT_ID, clientSecret: MCP_CLIENT_SECRET })(fetch);

// token() asks authFetch for the cached token (discovering everything the first time);
// onUnauthorized() forgets the token the server rejected, so the transport's retry gets a new one.
// The transport keeps its own plain fetch: authFetch would add a second token flow.
const transport = new StreamableHTTPClientTransport(new URL(MCP_SERVER_URL), { authProvider: authProvider(authFetch, MCP_SERVER_URL) });

const client = new Client({ name: "nightly-report", version: "1.0.0" });
await client.connect(transport);
const result = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
console.log("add(2, 3) =", result.content[0].text);
await client.close();
