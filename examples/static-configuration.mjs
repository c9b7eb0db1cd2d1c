#!/usr/bin/env node
// Static configuration: with the token endpoint and the resource known, nothing is discovered
// and the first request already carries a token. Events show what happens (never a secret).
//
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_ISSUER=https://auth.example.com \
//   MCP_TOKEN_ENDPOINT=https://auth.example.com/oauth/token MCP_CLIENT_ID=ci-robot MCP_CLIENT_SECRET=… \
//   node examples/static-configuration.mjs
import { withClientCredentials } from "mcp-client-credentials";

const { MCP_SERVER_URL, MCP_ISSUER, MCP_TOKEN_ENDPOINT, MCP_CLIENT_ID, MCP_CLIENT_SECRET } = process.env;

const authFetch = withClientCredentials({
  clientId: MCP_CLIENT_ID,
  clientSecret: MCP_CLIENT_SECRET,
  issuer: MCP_ISSUER, // pins the authorization server: a client secret goes nowhere else
  tokenEndpoint: MCP_TOKEN_ENDPOINT, // no authorization server metadata request
  resource: MCP_SERVER_URL, // no 401 round trip, no protected resource metadata request
  scope: "mcp:tools",
  onEvent: (event) => console.log("event:", event.type),
})(fetch);

// For CLIs and transports that want the bearer token itself.
const token = await authFetch.getToken();
console.log("token for", token.resource, "scope", token.scope);

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "static", version: "1.0.0" } },
};
const response = await authFetch(MCP_SERVER_URL, {
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
  body: JSON.stringify(initialize),
});
console.log("status:", response.status);
await response.body?.cancel();

// A library that holds the token itself saw it rejected: forget that token (discovery stays).
await authFetch.invalidate(MCP_SERVER_URL, token.accessToken);
const next = await authFetch.getToken(MCP_SERVER_URL);
console.log("new token:", next.accessToken !== token.accessToken);
