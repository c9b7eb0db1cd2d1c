#!/usr/bin/env node
// One token for a fleet: every process with this configuration shares tokens and discovery
// through Redis, sealed so that whoever reads the store reads nothing useful.
//
//   REDIS_URL=redis://127.0.0.1:6379 STORE_KEY="$(openssl rand -base64 32)" \
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot MCP_CLIENT_SECRET=… node examples/redis-store.mjs
import Redis from "ioredis";
import { sealedStore, withClientCredentials } from "mcp-client-credentials";
import { redisStore } from "mcp-client-credentials/stores/redis";

const { REDIS_URL, STORE_KEY, MCP_SERVER_URL, MCP_CLIENT_ID, MCP_CLIENT_SECRET } = process.env;

// maxRetriesPerRequest: 0: a Redis that is down costs a cache miss at once, never a hung request.
const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });

const authFetch = withClientCredentials({
  clientId: MCP_CLIENT_ID,
  clientSecret: MCP_CLIENT_SECRET,
  store: sealedStore(redisStore({ client }), STORE_KEY),
})(fetch);

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "fleet", version: "1.0.0" } },
};
const response = await authFetch(MCP_SERVER_URL, {
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
  body: JSON.stringify(initialize),
});
console.log("status:", response.status);
await response.body?.cancel();
client.disconnect();
