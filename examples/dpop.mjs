#!/usr/bin/env node
// DPoP (RFC 9449): the token is bound to a key pair that never leaves this process, so a copy of
// it (in a log, a proxy, a crash dump) is worthless to whoever finds it.
//
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot \
//   MCP_PRIVATE_KEY="$(cat client.pem)" node examples/dpop.mjs
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { withClientCredentials } from "mcp-client-credentials";

const authFetch = withClientCredentials({
  clientId: process.env.MCP_CLIENT_ID,
  privateKey: process.env.MCP_PRIVATE_KEY,
  // A non-extractable ES256 key generated for this instance; every token request and every
  // request to the server carries a fresh proof signed with it.
  dpop: true,
})(fetch);

const client = new Client({ name: "dpop-example", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(process.env.MCP_SERVER_URL), { fetch: authFetch }));
const { tools } = await client.listTools();
console.log("tools:", tools.map((tool) => tool.name).join(", "));

const { tokenType } = await authFetch.getToken(process.env.MCP_SERVER_URL);
console.log("token type:", tokenType); // "DPoP": useless without this process's key
await client.close();
