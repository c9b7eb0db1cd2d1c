#!/usr/bin/env node
// The MCP SDK's applyMiddlewares() (v2 here; SDK 1.x has the same function in
// "@modelcontextprotocol/sdk/client/middleware.js"), composed with this package's middleware.
//
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot MCP_CLIENT_SECRET=… node examples/apply-middlewares.mjs
import { applyMiddlewares, Client, StreamableHTTPClientTransport, withLogging } from "@modelcontextprotocol/client";
import { withClientCredentials } from "mcp-client-credentials";

const { MCP_SERVER_URL, MCP_CLIENT_ID, MCP_CLIENT_SECRET } = process.env;
const logger = ({ method, url, status }) => console.log(`${method} ${new URL(url).pathname} ${status}`);

// applyMiddlewares(a, b)(fetch) is b(a(fetch)): the FIRST one is closest to the network. Logging
// there sees everything this package sends: the 401, the metadata requests, the token request.
// Leave includeRequestHeaders off: it would log the Authorization header.
const traced = applyMiddlewares(withLogging({ logger }), withClientCredentials({ clientId: MCP_CLIENT_ID, clientSecret: MCP_CLIENT_SECRET }))(fetch);

const client = new Client({ name: "traced", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(MCP_SERVER_URL), { fetch: traced }));
const result = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
console.log("add(2, 3) =", result.content[0].text);
await client.close();
