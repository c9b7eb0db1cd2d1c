#!/usr/bin/env node
// A TokenStore of your own: three methods over any key-value store (here a Map with expiry).
// Two clients sharing it, as two processes sharing Redis or KV would: one token request.
//
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot MCP_CLIENT_SECRET=… node examples/custom-store.mjs
import { withClientCredentials } from "mcp-client-credentials";

const { MCP_SERVER_URL, MCP_CLIENT_ID, MCP_CLIENT_SECRET } = process.env;

const entries = new Map();
const store = {
  // a string, or undefined/null for a missing key: never throw for one
  get: (key) => {
    const entry = entries.get(key);
    return entry && entry.expires > Date.now() ? entry.value : undefined;
  },
  // the value verbatim (an opaque string that carries its own expiry), for at least ttlSeconds
  set: (key, value, ttlSeconds) => {
    entries.set(key, { value, expires: Date.now() + ttlSeconds * 1000 });
  },
  delete: (key) => {
    entries.delete(key);
  },
  // Optional, together: acquire(key, owner, ttlMs) → true only if nobody else holds the lock (which
  // expires by itself), release(key, owner). Without them a cold fleet may request a few tokens at once.
};

let tokenRequests = 0;
const onEvent = (event) => {
  if (event.type === "token-request") tokenRequests++;
};
const first = withClientCredentials({ clientId: MCP_CLIENT_ID, clientSecret: MCP_CLIENT_SECRET, store, onEvent })(fetch);
const second = withClientCredentials({ clientId: MCP_CLIENT_ID, clientSecret: MCP_CLIENT_SECRET, store, onEvent })(fetch);

await first.getToken(MCP_SERVER_URL);
const { expiresAt } = await second.getToken(MCP_SERVER_URL); // from the store
console.log("token requests:", tokenRequests, "| keys in the store:", entries.size > 0, "| shared token valid:", expiresAt > Date.now());
