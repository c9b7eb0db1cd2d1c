#!/usr/bin/env node
// The first call: one POST to an OAuth-protected MCP server, no MCP client library.
//
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot \
//   MCP_PRIVATE_KEY="$(cat client.pem)" node examples/first-call.mjs
//
//   (or MCP_CLIENT_SECRET=… instead of MCP_PRIVATE_KEY)
import { withClientCredentials } from "mcp-client-credentials";

const authFetch = withClientCredentials({
  clientId: process.env.MCP_CLIENT_ID,
  // a PKCS#8 PEM, a private JWK or a CryptoKey (private_key_jwt), or a client secret
  ...(process.env.MCP_PRIVATE_KEY ? { privateKey: process.env.MCP_PRIVATE_KEY } : { clientSecret: process.env.MCP_CLIENT_SECRET }),
})(fetch);

// 401 → protected resource metadata → authorization server metadata → token → the same request again.
const response = await authFetch(process.env.MCP_SERVER_URL, {
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
  body: JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "first-call", version: "1.0.0" } },
  }),
});
console.log("status:", response.status);

// The server may answer with JSON or with a one-event stream ("data: {…}").
const text = await response.text();
const message = JSON.parse(
  text.startsWith("{")
    ? text
    : text
        .split("\n")
        .find((line) => line.startsWith("data:"))
        .slice(5),
);
console.log("server:", message.result.serverInfo.name);

// The token is cached: this costs no request (one is made only shortly before it expires).
const { expiresAt, scope } = await authFetch.getToken(process.env.MCP_SERVER_URL);
console.log("scope:", scope, "| valid for more than a minute:", expiresAt - Date.now() > 60_000);
